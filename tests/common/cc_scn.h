/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Coupled congestion control scenarios (RFC 6356), shared by the test
 * (tests/sim/mptcp_cc_test.c, a few seeds, bounds) and the benchmark
 * (bench/cc_bench.c, many seeds, docs/cc.md) so that both measure the same
 * thing.  No cmocka here: every function returns 0 or a negative error.
 * The functions are in cc_scn.c (tests/common, the static library
 * mpt_testcommon).
 *
 * Shared bottleneck ("do no harm", RFC 6356 §2 goal 2):
 *
 *   mptcp client (10.0.0.1, 10.0.1.1) ==\                 /== server A 10.9.1.2
 *                                       R1 --bottleneck-- R2
 *   tcp client   (10.0.2.1)  ==========/   40 Mbit/s       \== server B 10.9.2.2
 *                                         droptail
 *
 * Resource pooling (goals 1 and 3): one subflow through the bottleneck,
 * shared with two TCP flows; the other on a free path of the same capacity:
 *
 *   mptcp client 10.0.0.1 == R1 --bottleneck 40 Mbit/s-- R2 == server A 10.9.1.2
 *   2 tcp clients 10.0.2.1, 10.0.3.1 == R1          R2 == server B 10.9.2.2
 *   mptcp client 10.0.1.1 ---- free path, 40 Mbit/s ----- server A 10.9.3.2
 */
#ifndef MPT_TEST_CC_SCN_H
#define MPT_TEST_CC_SCN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"
#include "simrouter.h"

#define CC_MS  UINT64_C(1000000)
#define CC_SEC UINT64_C(1000000000)

/*
 * Bottleneck rate and default measurement window [CC_T0, CC_T1) after slow
 * start.  At 40 Mbit/s the flows go through ~100 loss cycles in the window;
 * a run's ratio still varies from seed to seed (docs/cc.md gives the
 * spread), so the test averages several seeds.
 */
#define CC_BN_RATE UINT64_C(40000000)
#define CC_T0      (10 * CC_SEC)
#define CC_T1      (130 * CC_SEC)

/* Who shares the bottleneck with the TCP flow. */
enum cc_mp_mode {
	CC_MP_TWO = 0, /* an MPTCP connection with two subflows */
	CC_MP_ONE,     /* the same stack with one subflow (no path manager) */
	CC_TCP,        /* a plain TCP connection (the reference: two equal flows) */
};

/* Row labels of docs/cc.md (bench/cc_bench.c writes them, the test reads
 * its reference figures from the rows). */
#define CC_LABEL_TCP   "plain TCP (reference: two single-path flows)"
#define CC_LABEL_ONE   "MPTCP, 1 subflow (the same stack, single path)"
#define CC_LABEL_RENO2 "MPTCP, 2 subflows, uncoupled reno"
#define CC_LABEL_LIA   "MPTCP, 2 subflows, lia"
#define CC_LABEL_OLIA  "MPTCP, 2 subflows, olia"
#define CC_LABEL_BALIA "MPTCP, 2 subflows, balia"

struct cc_shared_cfg {
	const char *mp_cc;    /* congestion control on the MPTCP (or first) host */
	const char *tcp_cc;   /* the competing TCP flow's (NULL: reno) */
	enum cc_mp_mode mode; /* see above */
	uint64_t seed;        /* simulator seed (jitter, keys, ports) */
	uint64_t t0, t1;      /* measurement window (0, 0: CC_T0, CC_T1) */
	const struct mpt_mem *mem;
};

struct cc_shared_out {
	uint64_t mp_bytes, tcp_bytes; /* received by the servers in the window */
	int mp_subflows;              /* at t0 */
	bool mp_enabled;              /* MPTCP in use at t0 */
	uint64_t drops;               /* bottleneck queue drops */
};

struct cc_mark {
	struct mpt_bulk *bm, *bt;
	uint64_t m0, t0, m1, t1;
	int nsub;
	bool enabled;
};

/* The shared-bottleneck run.  Returns 0, or -1 when the setup failed. */
int cc_run_shared(const struct cc_shared_cfg *cfg, struct cc_shared_out *out);

/* ---- resource pooling ------------------------------------------------------- */

struct cc_pool_cfg {
	const char *mp_cc; /* the MPTCP host's congestion control */
	/* The reference of goal 1 instead: one plain TCP flow (reno) on the
	 * best path, the free one, next to the same two TCP flows on the
	 * bottleneck. */
	bool best_tcp;
	uint64_t seed;
	uint64_t t0, t1; /* (0, 0: CC_T0, CC_T1) */
	const struct mpt_mem *mem;
};

struct cc_pool_out {
	double free_share; /* MPTCP bytes on the free path / all its bytes */
	double mp_mbit;    /* the MPTCP connection (or the best-path TCP flow) */
	double tcp_mbit;   /* the two TCP flows on the bottleneck together */
};

struct cc_pool_mark {
	struct mpt_bulk *bm, *bt[2];
	uint64_t sf0[2], sf1[2], m[2], t[2];
	struct mpt_addr free_local;
};

int cc_run_pool(const struct cc_pool_cfg *cfg, struct cc_pool_out *out);

#endif /* MPT_TEST_CC_SCN_H */
