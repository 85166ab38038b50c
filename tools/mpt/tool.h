/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommand entry points of the mpt tool. */
#ifndef MPT_TOOL_H
#define MPT_TOOL_H

/** `mpt sim`: argv[0] is "sim". Returns the process exit status. */
int mpt_cmd_sim(int argc, char **argv);
/** `mpt cat`: argv[0] is "cat". Returns the process exit status. */
int mpt_cmd_cat(int argc, char **argv);
/** `mpt perf`: argv[0] is "perf". Returns the process exit status. */
int mpt_cmd_perf(int argc, char **argv);
/** `mpt convert`: argv[0] is "convert". Returns the process exit status. */
int mpt_cmd_convert(int argc, char **argv);
/** `mpt proxy`: argv[0] is "proxy". Returns the process exit status. */
int mpt_cmd_proxy(int argc, char **argv);
/** `mpt onpath`: argv[0] is "onpath". Returns the process exit status. */
int mpt_cmd_onpath(int argc, char **argv);
/** `mpt ss`: connections of running mpt processes (control sockets). */
int mpt_cmd_ss(int argc, char **argv);
/** `mpt nstat`: counters of running mpt processes. */
int mpt_cmd_nstat(int argc, char **argv);
/** `mpt monitor`: path-manager events of running mpt processes. */
int mpt_cmd_monitor(int argc, char **argv);
/** `mpt analyze`: MPTCP analysis of a pcap file. */
int mpt_cmd_analyze(int argc, char **argv);

#endif
