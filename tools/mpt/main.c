/* SPDX-License-Identifier: Apache-2.0 */
/* mpt: the command-line tool.  Subcommands live in their own files. */
#include <stdio.h>
#include <string.h>

#include "mpt/mpt.h"
#include "mpt/version.h"
#include "tool.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mpt [--version] [--help] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  sim       run a transfer in the deterministic network simulator\n"
		"  cat       netcat over mpt's stack on TUN devices (needs CAP_NET_ADMIN)\n"
		"  perf      iperf3-compatible throughput test over mpt's stack on TUN devices\n"
		"  proxy     plain TCP in (SOCKS5 or iptables REDIRECT), MPTCP out (to an MPTCP\n"
		"            server, or through an RFC 8803 converter with --convert)\n"
		"  convert   RFC 8803 Transport Converter: MPTCP in, plain kernel TCP out\n"
		"  onpath    transparent on-path converter: terminates MPTCP for servers without\n"
		"            it, passes end-to-end MPTCP through\n"
		"  analyze   MPTCP analysis of a pcap file: subflows, bytes, reinjections, RTT,\n"
		"            SVG plots (any capture: mpt's --pcap, tcpdump, Wireshark)\n"
		"  ss        connections and subflows of running mpt processes (like ss -M -i)\n"
		"  nstat     counters of running mpt processes, kernel MIB names (like nstat)\n"
		"  monitor   path-manager events of running mpt processes (like\n"
		"            ip mptcp monitor)\n"
		"\n"
		"Run 'mpt COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("mpt %s\n", MPT_VERSION_STRING);
		return 0;
	}
	if (!strcmp(cmd, "sim"))
		return mpt_cmd_sim(argc - 1, argv + 1);
	if (!strcmp(cmd, "cat"))
		return mpt_cmd_cat(argc - 1, argv + 1);
	if (!strcmp(cmd, "perf"))
		return mpt_cmd_perf(argc - 1, argv + 1);
	if (!strcmp(cmd, "proxy"))
		return mpt_cmd_proxy(argc - 1, argv + 1);
	if (!strcmp(cmd, "convert"))
		return mpt_cmd_convert(argc - 1, argv + 1);
	if (!strcmp(cmd, "onpath"))
		return mpt_cmd_onpath(argc - 1, argv + 1);
	if (!strcmp(cmd, "analyze"))
		return mpt_cmd_analyze(argc - 1, argv + 1);
	if (!strcmp(cmd, "ss"))
		return mpt_cmd_ss(argc - 1, argv + 1);
	if (!strcmp(cmd, "nstat"))
		return mpt_cmd_nstat(argc - 1, argv + 1);
	if (!strcmp(cmd, "monitor"))
		return mpt_cmd_monitor(argc - 1, argv + 1);
	fprintf(stderr, "mpt: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
