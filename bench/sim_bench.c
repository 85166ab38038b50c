/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark (not a test): simulator speed and engine cost.
 *
 *   sim_bench [FLOWS] [MIB_PER_FLOW] [RATE_MBIT] [RTT_MS] [tcp|mptcp]
 *
 * FLOWS TCP (or MPTCP, one subflow each) transfers run at once, each between its own pair of hosts over
 * its own link (default 2 x 100 Mbit/s, 20 ms RTT, 64 MiB each).  Prints
 * simulated time, wall time and their ratio, and the payload bytes moved, so
 * that `valgrind --tool=callgrind` on this binary gives instructions per
 * byte (bench/run.sh does both and writes docs/bench.md).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"

#define MAXF 8

struct all {
	struct mpt_bulk *b[MAXF];
	int n;
};

static bool all_done(void *arg)
{
	struct all *a = arg;
	for (int i = 0; i < a->n; i++)
		if (!mpt_bulk_done(a->b[i]))
			return false;
	return true;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int flows = argc > 1 ? atoi(argv[1]) : 2;
	double mib = argc > 2 ? atof(argv[2]) : 64;
	double mbit = argc > 3 ? atof(argv[3]) : 100;
	double rtt = argc > 4 ? atof(argv[4]) : 20;
	bool mptcp = argc > 5 && strcmp(argv[5], "mptcp") == 0;
	if (flows < 1 || flows > MAXF || mib <= 0 || mbit <= 0 || rtt < 0 ||
	    (argc > 5 && !mptcp && strcmp(argv[5], "tcp") != 0)) {
		fprintf(stderr,
			"usage: sim_bench [FLOWS 1..8] [MIB] [RATE_MBIT] [RTT_MS] [tcp|mptcp]\n");
		return 2;
	}
	struct mpt_sim *sim;
	if (mpt_sim_create(NULL, 1, &sim) < 0)
		return 1;
	struct mpt_simhost *h[2 * MAXF];
	struct all a = {.n = flows};
	double bdp = mbit * 1e6 / 8 * rtt / 1e3;
	for (int i = 0; i < flows; i++) {
		struct mpt_stack_cfg c, s;
		mpt_stack_cfg_init(&c);
		c.n_local = 1;
		char addr[32];
		snprintf(addr, sizeof(addr), "10.%d.0.1", i + 1);
		(void)mpt_addr_parse(&c.local[0], addr);
		c.tcp.sndbuf = c.tcp.rcvbuf = (uint32_t)(bdp * 4 > 262144 ? bdp * 4 : 262144);
		c.mptcp.enable = mptcp;
		s = c;
		snprintf(addr, sizeof(addr), "10.%d.0.2", i + 1);
		(void)mpt_addr_parse(&s.local[0], addr);
		if (mpt_simhost_create(sim, "c", &c, &h[2 * i]) < 0 ||
		    mpt_simhost_create(sim, "s", &s, &h[2 * i + 1]) < 0)
			return 1;
		struct mpt_sim_link_cfg l;
		memset(&l, 0, sizeof(l));
		l.rate_bps = (uint64_t)(mbit * 1e6);
		l.delay_ns = (uint64_t)(rtt * 1e6 / 2);
		l.queue_bytes = (uint32_t)(bdp > 96000 ? bdp : 96000);
		if (mpt_sim_connect(sim, mpt_simhost_node(h[2 * i]), &c.local[0],
				    mpt_simhost_node(h[2 * i + 1]), &s.local[0], &l, &l, NULL,
				    NULL) < 0)
			return 1;
		struct mpt_bulk_cfg bc = {
		    .bytes = (uint64_t)(mib * 1048576), .port = 5201, .seed = (uint64_t)i + 1};
		struct mpt_endpoint dst = {.addr = s.local[0], .port = 5201};
		if (mpt_bulk_start(h[2 * i], h[2 * i + 1], &dst, &bc, &a.b[i]) < 0)
			return 1;
	}
	double w0 = wall();
	(void)mpt_sim_run(sim, UINT64_C(3600000000000), all_done, &a);
	double w = wall() - w0;
	double simt = (double)mpt_sim_now(sim) / 1e9;
	uint64_t bytes = 0;
	int ok = 1;
	for (int i = 0; i < flows; i++) {
		struct mpt_bulk_result r;
		mpt_bulk_result(a.b[i], &r);
		bytes += r.received;
		ok &= r.intact;
	}
	struct mpt_sim_stats ss;
	mpt_sim_get_stats(sim, &ss);
	printf("flows=%d size_mib=%.0f rate_mbit=%.0f rtt_ms=%.0f proto=%s intact=%s\n", flows, mib,
	       mbit, rtt, mptcp ? "mptcp" : "tcp", ok ? "yes" : "NO");
	printf("simulated_s=%.3f wall_s=%.3f speedup=%.2f bytes=%llu events=%llu\n", simt, w,
	       simt / w, (unsigned long long)bytes, (unsigned long long)ss.events);
	for (int i = 0; i < flows; i++)
		mpt_bulk_destroy(a.b[i]);
	for (int i = 0; i < 2 * flows; i++)
		mpt_simhost_destroy(h[i]);
	mpt_sim_destroy(sim);
	return ok ? 0 : 1;
}
