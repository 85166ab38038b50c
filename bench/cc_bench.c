/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark (not a test): coupled congestion control against RFC 6356's
 * goals, over many simulator seeds (the scenarios of tests/common/cc_scn.c,
 * which tests/sim/mptcp_cc_test.c runs for its first few seeds).
 *
 *   cc_bench OUT.md [SEEDS [TEST_SEEDS]]
 *
 * Shared bottleneck: the ratio of what the multipath connection and the
 * competing single-path TCP flow deliver in the window (RFC 6356 §2 goal
 * 2, "do no harm": about 1, as for two single-path flows), for every CC
 * and against reno and cubic, with two references: a plain TCP flow in the
 * multipath host's place, and the same MPTCP stack with one subflow.
 * Resource pooling: the share of the connection's bytes on the free path
 * and its goodput against one TCP flow on the best path (goal 1, "improve
 * throughput").
 *
 * Writes OUT.md; progress to stdout.  Deterministic: the same code gives
 * the same file.  MPT_BENCH_SOURCE (set by bench/cc.sh) names the source
 * revision.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cc_scn.h"

#define MAX_SEEDS 64

struct shared_row {
	const char *label; /* what shares the bottleneck with the TCP flow */
	const char *cc;
	enum cc_mp_mode mode;
	const char *vs; /* the TCP flow's CC */
	double r[MAX_SEEDS];
	int subflows;
};

static struct shared_row rows[] = {
    {CC_LABEL_TCP, "reno", CC_TCP, "reno", {0}, 0},
    {CC_LABEL_ONE, "reno", CC_MP_ONE, "reno", {0}, 0},
    {CC_LABEL_RENO2, "reno", CC_MP_TWO, "reno", {0}, 0},
    {CC_LABEL_LIA, "lia", CC_MP_TWO, "reno", {0}, 0},
    {CC_LABEL_OLIA, "olia", CC_MP_TWO, "reno", {0}, 0},
    {CC_LABEL_BALIA, "balia", CC_MP_TWO, "reno", {0}, 0},
    {CC_LABEL_TCP, "reno", CC_TCP, "cubic", {0}, 0},
    {CC_LABEL_ONE, "reno", CC_MP_ONE, "cubic", {0}, 0},
    {CC_LABEL_LIA, "lia", CC_MP_TWO, "cubic", {0}, 0},
    {CC_LABEL_OLIA, "olia", CC_MP_TWO, "cubic", {0}, 0},
    {CC_LABEL_BALIA, "balia", CC_MP_TWO, "cubic", {0}, 0},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

struct pool_row {
	const char *label;
	const char *cc;
	bool best_tcp;
	struct cc_pool_out o[MAX_SEEDS];
};

static struct pool_row prows[] = {
    {"one TCP flow on the free path (reference: the best path)", "reno", true, {{0, 0, 0}}},
    {"MPTCP, uncoupled reno", "reno", false, {{0, 0, 0}}},
    {"MPTCP, lia", "lia", false, {{0, 0, 0}}},
    {"MPTCP, olia", "olia", false, {{0, 0, 0}}},
    {"MPTCP, balia", "balia", false, {{0, 0, 0}}},
};
#define N_PROWS (sizeof(prows) / sizeof(prows[0]))

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct stat {
	double mean, sd, min, max, test_mean;
};

/* Mean, sample standard deviation, range over n values; the mean of the
 * first k (the test's seeds). */
static struct stat stat_of(const double *v, int n, int k)
{
	struct stat s = {0, 0, v[0], v[0], 0};
	for (int i = 0; i < n; i++) {
		s.mean += v[i];
		s.min = fmin(s.min, v[i]);
		s.max = fmax(s.max, v[i]);
		if (i < k)
			s.test_mean += v[i];
	}
	s.mean /= n;
	s.test_mean /= k;
	for (int i = 0; i < n; i++)
		s.sd += (v[i] - s.mean) * (v[i] - s.mean);
	s.sd = n > 1 ? sqrt(s.sd / (n - 1)) : 0;
	return s;
}

static double pool_val(const struct pool_row *p, int i, int what)
{
	return what == 0 ? p->o[i].mp_mbit : what == 1 ? p->o[i].free_share : p->o[i].tcp_mbit;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: cc_bench OUT.md [SEEDS [TEST_SEEDS]]\n");
		return 2;
	}
	int nseeds = argc > 2 ? atoi(argv[2]) : 16;
	int ktest = argc > 3 ? atoi(argv[3]) : 4;
	if (nseeds < 2 || nseeds > MAX_SEEDS || ktest < 1 || ktest > nseeds) {
		fprintf(stderr, "cc_bench: 2 <= SEEDS <= %d, 1 <= TEST_SEEDS <= SEEDS\n",
			MAX_SEEDS);
		return 2;
	}
	int npool = nseeds / 2 > 2 ? nseeds / 2 : 2;
	double w0 = wall_now();
	for (size_t r = 0; r < N_ROWS; r++) {
		for (int i = 0; i < nseeds; i++) {
			struct cc_shared_cfg c = {.mp_cc = rows[r].cc,
						  .tcp_cc = rows[r].vs,
						  .mode = rows[r].mode,
						  .seed = (uint64_t)(i + 1)};
			struct cc_shared_out o;
			double t = wall_now();
			if (cc_run_shared(&c, &o) < 0 || o.tcp_bytes == 0) {
				fprintf(stderr, "cc_bench: shared run failed (%s, seed %d)\n",
					rows[r].label, i + 1);
				return 1;
			}
			rows[r].r[i] = (double)o.mp_bytes / (double)o.tcp_bytes;
			rows[r].subflows = o.mp_subflows;
			printf("[shared] %-48s vs %-5s seed %2d: ratio %.3f (%d subflows, %llu "
			       "drops) wall %.1f s\n",
			       rows[r].label, rows[r].vs, i + 1, rows[r].r[i], o.mp_subflows,
			       (unsigned long long)o.drops, wall_now() - t);
			fflush(stdout);
		}
	}
	for (size_t r = 0; r < N_PROWS; r++) {
		for (int i = 0; i < npool; i++) {
			struct cc_pool_cfg c = {.mp_cc = prows[r].cc,
						.best_tcp = prows[r].best_tcp,
						.seed = (uint64_t)(i + 1)};
			if (cc_run_pool(&c, &prows[r].o[i]) < 0) {
				fprintf(stderr, "cc_bench: pooling run failed (%s, seed %d)\n",
					prows[r].label, i + 1);
				return 1;
			}
			printf("[pool] %-58s seed %2d: %.1f Mbit/s, %.1f %% on the free path, "
			       "2 tcp %.1f Mbit/s\n",
			       prows[r].label, i + 1, prows[r].o[i].mp_mbit,
			       100 * prows[r].o[i].free_share, prows[r].o[i].tcp_mbit);
			fflush(stdout);
		}
	}
	printf("total wall %.0f s\n", wall_now() - w0);

	FILE *f = fopen(argv[1], "w");
	if (!f) {
		fprintf(stderr, "cc_bench: cannot write %s\n", argv[1]);
		return 2;
	}
	fprintf(f, "# Coupled congestion control (RFC 6356)\n\n");
	fprintf(f, "Generated by `bash bench/cc.sh`, which builds `cc_bench` (bench/cc_bench.c, "
		   "RelWithDebInfo) and runs `");
	for (int i = 0; i < argc; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fprintf(f, "`; every number below is from that run (deterministic: fixed seeds, virtual "
		   "time).");
	const char *src = getenv("MPT_BENCH_SOURCE");
	if (src && *src)
		fprintf(f, "  Source: %s.", src);
	fprintf(f, "\n\n");
	fprintf(
	    f,
	    "The scenarios are in tests/common/cc_scn.c; tests/sim/mptcp_cc_test.c runs the first "
	    "%d seeds and bounds their mean (column \"seeds 1-%d\").  RFC 6356 §2, in short: "
	    "goal 1 (improve throughput), a multipath flow does at least as well as a "
	    "single-path flow would on the best of its paths; goal 2 (do no harm), it takes "
	    "no more capacity from any resource its paths share than a single flow using one "
	    "of those paths would; goal 3 (balance congestion), it moves traffic off its "
	    "most congested paths.\n\n",
	    ktest, ktest);
	fprintf(f, "## Shared bottleneck (goal 2)\n\n");
	fprintf(
	    f,
	    "A multipath host (2 addresses, so 2 subflows) and a single-path TCP host send "
	    "through one %.0f Mbit/s droptail bottleneck (5 ms one way, queue 1 BDP at the 20 "
	    "ms base RTT); access links 1 Gbit/s, 2.5 ms + up to 3 ms jitter (FIFO kept).  "
	    "The multipath host runs the CC named (reno in the references), the TCP flow reno or "
	    "cubic.  Ratio = bytes the multipath host delivered / bytes the TCP flow delivered, "
	    "between t = %.0f s and %.0f s.  %d seeds (simulator seeds 1-%d); sd = sample "
	    "standard deviation of one run, so the mean of n runs is good to about sd / "
	    "sqrt(n).\n\n",
	    (double)CC_BN_RATE / 1e6, (double)CC_T0 / 1e9, (double)CC_T1 / 1e9, nseeds, nseeds);
	fprintf(f,
		"| sharing the bottleneck with the TCP flow | TCP flow's CC | subflows | mean "
		"ratio | sd | min | max | seeds 1-%d |\n",
		ktest);
	fprintf(f, "|---|---|---|---|---|---|---|---|\n");
	struct stat st[N_ROWS];
	for (size_t r = 0; r < N_ROWS; r++) {
		st[r] = stat_of(rows[r].r, nseeds, ktest);
		fprintf(f, "| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f |\n", rows[r].label,
			rows[r].vs, rows[r].subflows, st[r].mean, st[r].sd, st[r].min, st[r].max,
			st[r].test_mean);
	}
	fprintf(f, "\nComputed from the table (vs reno):\n\n");
	for (size_t r = 2; r < 6; r++)
		fprintf(
		    f,
		    "- %s: %.2f x a plain TCP flow's share, %.2f x the same stack's single-path "
		    "connection's.\n",
		    rows[r].label, st[r].mean / st[0].mean, st[r].mean / st[1].mean);
	fprintf(f,
		"- The same stack with one subflow gets %.2f x what a plain TCP flow gets in its "
		"place.\n\nComputed from the table (vs cubic):\n\n",
		st[1].mean / st[0].mean);
	for (size_t r = 8; r < 11; r++)
		fprintf(f,
			"- %s: %.2f x a plain reno TCP flow's share, %.2f x the same stack's "
			"single-path connection's.\n",
			rows[r].label, st[r].mean / st[6].mean, st[r].mean / st[7].mean);
	fprintf(f, "\n");
	fprintf(f, "## Resource pooling (goals 1 and 3)\n\n");
	fprintf(f,
		"The multipath connection's first subflow goes through the bottleneck, shared "
		"with two reno TCP flows; its second has a free path of the same capacity, queue "
		"and RTT to itself.  The reference is one reno TCP flow on that free path (the "
		"best path available to the connection), next to the same two TCP flows.  Window "
		"t = %.0f-%.0f s, %d seeds.  Goodput in Mbit/s, mean (min-max).\n\n",
		(double)CC_T0 / 1e9, (double)CC_T1 / 1e9, npool);
	fprintf(f, "| flow | its goodput | share on the free path | 2 TCP flows on the "
		   "bottleneck |\n|---|---|---|---|\n");
	for (size_t r = 0; r < N_PROWS; r++) {
		double v[3][MAX_SEEDS];
		for (int w = 0; w < 3; w++)
			for (int i = 0; i < npool; i++)
				v[w][i] = pool_val(&prows[r], i, w);
		struct stat a = stat_of(v[0], npool, 1), b = stat_of(v[1], npool, 1),
			    c = stat_of(v[2], npool, 1);
		fprintf(f, "| %s | %.1f (%.1f-%.1f) |", prows[r].label, a.mean, a.min, a.max);
		if (prows[r].best_tcp)
			fprintf(f, " (all of it) |");
		else
			fprintf(f, " %.1f %% (%.1f-%.1f) |", 100 * b.mean, 100 * b.min,
				100 * b.max);
		fprintf(f, " %.1f (%.1f-%.1f) |\n", c.mean, c.min, c.max);
	}
	fprintf(f, "\n");
	if (fclose(f) != 0)
		return 2;
	printf("wrote %s\n", argv[1]);
	return 0;
}
