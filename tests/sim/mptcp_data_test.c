/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP data integrity: one subflow with 1 % loss (v1 and v0, 64 MiB),
 * a path outage in the middle of a two-path transfer (the dead path's
 * unacknowledged data is reinjected on the other; RFC 8684 §3.3.6), and a
 * move to a backup path after the stacks ran out of memory.
 */
#include "mptcp_scn.h"

/*
 * 1 % loss, 20 ms RTT: the CUBIC/Reno response function (see
 * simtcp_test.c) gives 1.2247/sqrt(p) segments per RTT; with 1420-byte
 * payloads (40 option bytes: timestamps + DSS) that is 6.96 Mbit/s, so
 * 64 MiB ideally takes 77.2 s.  Budget: 1.3x (SACK blocks only fit on
 * pure ACKs, as on the plain-TCP path they always fit).
 */
#define LOSSY_BUDGET (UINT64_C(100400) * MS)

static void lossy(int version, const char *name)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = 64u * MIB;
	sc.seed = 31;
	sc.npaths = 1;
	sc.path[0].rate_bps = 100000000;
	sc.path[0].rtt_ns = 20 * MS;
	sc.path[0].loss = 0.01;
	sc.cli_version = version + 1;
	sc.budget_ns = LOSSY_BUDGET;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_int_equal(o.ci.version, version);
	assert_true(o.ci.mptcpi_retransmits > 100);
}

static void test_lossy_v1(void **state)
{
	(void)state;
	lossy(1, "1 % loss, v1, 64 MiB");
}

static void test_lossy_v0(void **state)
{
	(void)state;
	lossy(0, "1 % loss, v0, 64 MiB");
}

static void test_outage(void **state)
{
	(void)state;
	/* Path 1 is down from 2 s to 60 s (both directions): everything in
	 * flight there is lost and must be reinjected on path 0. */
	static const struct mpt_sim_outage out = {.down_at = 2 * SEC, .up_at = 60 * SEC};
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "2 paths, path 1 down at 2 s";
	sc.bytes = 128u * MIB;
	sc.seed = 41;
	sc.npaths = 2;
	for (int i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.path[1].outage = &out;
	/* ~2 s at 200 Mbit/s, then ~ 128 MiB - 48 MiB at 100 Mbit/s (7 s). */
	sc.budget_ns = 12 * SEC;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.ci.reinjected_bytes > 0);
	assert_true(mcounter(&o, 0, "MPTCPReinject") > 0);
}

/*
 * Out of memory in the middle of a transfer: from 1 s on every allocation
 * of both stacks fails (the simulator's own memory is apart).  Nothing the
 * connection already holds may be lost for it.  Path 1 is a backup: its
 * subflow exists from the start but carries no data until path 0 goes
 * down at 2 s.  Its first mappings then came when no memory was left: the
 * room for them was taken at the first mapping, the mapping was dropped,
 * its bytes (acknowledged by TCP) were never delivered and the transfer
 * stalled for good (found by the stateful fuzzer, stall-d2d3cd48:
 * DSSNoMatchTCP on every segment).  Mapping room now comes with the
 * subflow, and a mapping that finds none is counted and its bytes resent
 * at the data level.
 */
static struct mctx *oom_ctx;
static void oom_remember(struct mctx *x, void *arg)
{
	(void)arg;
	oom_ctx = x;
}
static void oom_start(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	(void)arg;
	oom_ctx->mem->fail_from = oom_ctx->mem->allocs;
}
static void oom_backup(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	cc->local_flags[1] = MPT_LOCAL_BACKUP;
	(void)sv;
}

static void test_oom_then_backup(void **state)
{
	(void)state;
	static const struct mpt_sim_outage down = {.down_at = 2 * SEC, .up_at = 600 * SEC};
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "no memory from 1 s, backup from 2 s";
	sc.bytes = 24u * MIB;
	sc.seed = 47;
	sc.npaths = 2;
	for (int i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 50000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.path[0].outage = &down;
	sc.cli_csum = sc.srv_csum = true;
	sc.tweak = oom_backup;
	sc.setup = oom_remember;
	sc.at_start = oom_start;
	sc.at_t = 1 * SEC;
	/* ~2 s on path 0 (12 MiB), the RTO that finds it down (~0.3 s),
	 * then the rest on path 1 at 50 Mbit/s (~2 s). */
	sc.budget_ns = 6 * SEC;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.nsub_c >= 2);
	assert_int_equal(mcounter(&o, 1, "DSSNoMatchTCP"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outage),
	    cmocka_unit_test(test_oom_then_backup),
	    cmocka_unit_test(test_lossy_v1),
	    cmocka_unit_test(test_lossy_v0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
