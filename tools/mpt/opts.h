/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stack options shared by the subcommands that run on real networks
 * (`mpt cat`, `mpt perf`): --path, --version, --checksum, --no-mptcp,
 * --sched, --cc, --pm, --max-subflows, --pcap, --seed, --remove-path-after,
 * --no-offload, --ext-keys, --ext-key-file, --stall-timeout, -v.
 *
 * A subcommand appends MPT_STACK_LONGOPTS to its getopt_long table, passes
 * every option it does not know itself to mpt_opts_handle(), and calls
 * mpt_opts_finish() once all arguments are parsed.
 */
#ifndef MPT_TOOL_OPTS_H
#define MPT_TOOL_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "mpt/backend.h"

/* getopt_long codes of the shared options (above every character). */
enum {
	MPT_OPT_PATH = 0x1000,
	MPT_OPT_VERSION,
	MPT_OPT_CHECKSUM,
	MPT_OPT_NO_MPTCP,
	MPT_OPT_SCHED,
	MPT_OPT_CC,
	MPT_OPT_PM,
	MPT_OPT_MAX_SUBFLOWS,
	MPT_OPT_PCAP,
	MPT_OPT_SEED,
	MPT_OPT_REMOVE_PATH_AFTER,
	MPT_OPT_RACE,
	MPT_OPT_NO_OFFLOAD,
	MPT_OPT_EXT_KEYS,
	MPT_OPT_EXT_KEY_FILE,
	MPT_OPT_STALL_TIMEOUT,
	MPT_OPT_VERBOSE = 'v',
};

/* clang-format off */
#define MPT_STACK_LONGOPTS                                                \
	{"path", required_argument, NULL, MPT_OPT_PATH},                  \
	{"version", required_argument, NULL, MPT_OPT_VERSION},            \
	{"checksum", no_argument, NULL, MPT_OPT_CHECKSUM},                \
	{"no-mptcp", no_argument, NULL, MPT_OPT_NO_MPTCP},                \
	{"sched", required_argument, NULL, MPT_OPT_SCHED},                \
	{"cc", required_argument, NULL, MPT_OPT_CC},                      \
	{"pm", required_argument, NULL, MPT_OPT_PM},                      \
	{"max-subflows", required_argument, NULL, MPT_OPT_MAX_SUBFLOWS},  \
	{"pcap", required_argument, NULL, MPT_OPT_PCAP},                  \
	{"seed", required_argument, NULL, MPT_OPT_SEED},                  \
	{"remove-path-after", required_argument, NULL,                    \
	 MPT_OPT_REMOVE_PATH_AFTER},                                      \
	{"race", no_argument, NULL, MPT_OPT_RACE},                        \
	{"no-offload", no_argument, NULL, MPT_OPT_NO_OFFLOAD},            \
	{"ext-keys", required_argument, NULL, MPT_OPT_EXT_KEYS},          \
	{"ext-key-file", required_argument, NULL, MPT_OPT_EXT_KEY_FILE},  \
	{"stall-timeout", required_argument, NULL,                        \
	 MPT_OPT_STALL_TIMEOUT},                                          \
	{"verbose", no_argument, NULL, MPT_OPT_VERBOSE}
/* clang-format on */

/* Short options of the shared set, for the getopt_long optstring. */
#define MPT_STACK_SHORTOPTS "v"

struct mpt_tool_opts {
	struct mpt_backend_cfg be; /**< paths, pcap, seed, verbose, stack knobs */
	const char *sched;         /**< NULL: default */
	const char *pm;            /**< NULL: default */
	const char *cc;            /**< NULL: default */
	int mptcp_version;         /**< -1: default */
	int max_subflows;          /**< -1: default */
	bool checksum;
	bool no_mptcp;
	bool race;           /**< --race */
	int ext_keys;        /**< --ext-keys: enum mpt_ext_keys_mode (-1: default, off) */
	uint8_t ext_key[64]; /**< --ext-key-file: the key read from it */
	size_t ext_key_len;
	int ndiffports; /**< --pm ndiffports,N (0: default) */
	/** --remove-path-after ADDR,SECONDS, applied to the path with that
	 *  address by mpt_opts_finish() (the --path may come later). */
	struct {
		struct mpt_addr addr;
		uint32_t ms;
	} remove[MPT_BACKEND_MAX_PATHS];
	size_t n_remove;
};

/** The value of hex digit c (either case), or -1. */
int mpt_opts_hexval(int c);
/** Defaults: no paths, MPTCP on (version 1), the stack's defaults otherwise. */
void mpt_opts_init(struct mpt_tool_opts *o);
/**
 * Handle one shared option (code from MPT_STACK_LONGOPTS or 'v').
 * Returns 0 when handled, 1 when code is not a shared option, -1 after
 * printing "PROG: what is wrong" to stderr.
 */
int mpt_opts_handle(struct mpt_tool_opts *o, const char *prog, int code, const char *arg);
/**
 * Check names (scheduler, path manager, congestion control) and fill
 * o->be.stack from the options.  Returns 0, or -1 after printing the
 * problem to stderr.
 */
int mpt_opts_finish(struct mpt_tool_opts *o, const char *prog);
/**
 * Before mpt_backend_create: refuse paths whose address the host does not
 * leave to mpt (configured on an interface, routed into another mpt
 * instance's device: mpt_path_check_host).  Returns 0, or -1 after printing
 * "PROG: --path ADDR: reason".
 */
int mpt_opts_check_host(const struct mpt_tool_opts *o, const char *prog);
/** The TUN device name path i will have (dev= or the backend's default). */
void mpt_opts_dev_name(const struct mpt_tool_opts *o, size_t i, char *buf, size_t len);
/**
 * Before connecting from local to remote: fail at once when the kernel has
 * no route for what the stack would send (as connect() on a kernel socket
 * says "Network is unreachable").  be is the running backend.  Returns 0, or
 * -1 after printing "PROG: cannot connect to HOST port PORT: reason".
 */
int mpt_opts_route_check(const struct mpt_tool_opts *o, const struct mpt_addr *local,
			 const struct mpt_endpoint *remote, const char *prog);
/**
 * --check: validate the host's side without changing anything: every path
 * passes mpt_opts_check_host; forwarding is on for each family in use
 * (what the stack sends comes in from a TUN and is forwarded); strict
 * reverse-path filtering (net.ipv4.conf.{all,default}.rp_filter = 1) is
 * reported (answers arriving on another uplink would be dropped).  Prints
 * one "PROG: check: ..." line per finding and a verdict.  Returns 0 (ready)
 * or -1.
 */
int mpt_opts_check_setup(const struct mpt_tool_opts *o, const char *prog);
/** Help text of the shared options. */
void mpt_opts_usage(FILE *f);

#endif /* MPT_TOOL_OPTS_H */
