/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Segmentation offload (issue 13): the stacks emit super-segments of up to
 * 64000 bytes (cfg.tso_max) that the simulator host cuts in software
 * (wire/gso.c), with partial checksums; the receivers get them as ordinary
 * segments, and with a coalescing middlebox as merged ones (receive
 * offload).  Plain TCP and MPTCP (v1, v0, DSS checksums, loss): every byte
 * intact, the same time budgets as without offload, and the offload really
 * used (TCPGsoSegs).
 */
#include "mptcp_scn.h"

static bool g_tso;

static void offload(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	if (!g_tso)
		return;
	cc->tso_max = sv->tso_max = 64000;
	cc->csum_offload = sv->csum_offload = true;
}

static void coalesce(struct mctx *x, void *arg)
{
	(void)arg;
	struct mpt_sim_mbox_cfg m;
	memset(&m, 0, sizeof(m));
	m.kind = MPT_SIM_MBOX_COALESCE;
	m.hold_ns = 100 * 1000;
	m.coalesce_max = 60000;
	m.coalesce_same_opts = true; /* as GRO */
	for (size_t i = 0; i < x->sc->npaths; i++)
		assert_int_equal(mpt_sim_mbox_add(x->lf[i], NULL, &m, NULL), 0);
}

struct ocase {
	const char *name;
	bool mptcp;
	int version;
	size_t npaths;
	double loss;
	bool csum, gro;
	uint64_t budget;
};

static uint64_t run_one(const struct ocase *c, bool tso, struct mout *o)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = c->name;
	sc.bytes = 32u * MIB;
	sc.seed = 3;
	sc.npaths = c->npaths;
	for (size_t i = 0; i < c->npaths; i++) {
		sc.path[i].rate_bps = 200000000;
		sc.path[i].rtt_ns = 10 * MS;
		sc.path[i].loss = c->loss;
	}
	sc.cli_off = sc.srv_off = !c->mptcp;
	sc.cli_version = c->version + 1;
	sc.cli_csum = c->csum;
	sc.tweak = offload;
	if (c->gro)
		sc.setup = coalesce;
	sc.budget_ns = c->budget;
	g_tso = tso;
	run_mscn(&sc, o);
	g_tso = false;
	mcheck(&sc, o);
	return o->res.t_done - o->res.t_connected;
}

static void check(const struct ocase *c)
{
	struct mout plain, tso;
	uint64_t t0 = run_one(c, false, &plain);
	uint64_t t1 = run_one(c, true, &tso);
	printf("    %s: %.3f s without offload, %.3f s with (%llu segments offloaded); "
	       "retransmitted %llu / %llu segments, lost on the wire %llu / %llu\n",
	       c->name, (double)t0 / 1e9, (double)t1 / 1e9,
	       (unsigned long long)mcounter(&tso, 0, "TCPGsoSegs"),
	       (unsigned long long)mcounter(&plain, 0, "TcpRetransSegs"),
	       (unsigned long long)mcounter(&tso, 0, "TcpRetransSegs"),
	       (unsigned long long)plain.lost_fwd, (unsigned long long)tso.lost_fwd);
	if (getenv("OFFLOAD_DIFF"))
		for (int i = 0; i < mpt_counter_count() && i < 512; i++)
			for (int side = 0; side < 2; side++) {
				uint64_t a = plain.counters[side][i], b = tso.counters[side][i];
				if (a != b && (a > b ? a - b : b - a) * 5 > (a > b ? a : b))
					printf("      %s %s: %llu -> %llu\n", side ? "srv" : "cli",
					       mpt_counter_name(i), (unsigned long long)a,
					       (unsigned long long)b);
			}
	assert_int_equal(mcounter(&plain, 0, "TCPGsoSegs"), 0);
	/* most of the data went in super-segments */
	assert_true(mcounter(&tso, 0, "TCPGsoSegs") * 1400 > tso.res.received / 2);
	/* and it changes the transfer time by little either way (the wire
	 * sees the same segments; only their grouping into bursts differs) */
	assert_true(t1 < t0 + t0 / 10 && t1 > t0 - t0 / 10);
	if (c->mptcp) {
		assert_true(tso.c_enabled);
		assert_false(tso.ci.fallback);
	}
}

static void test_tcp(void **state)
{
	(void)state;
	static const struct ocase c = {"plain TCP", false, 1, 1, 0, false, false, 2 * SEC};
	check(&c);
}

static void test_v1_two_paths(void **state)
{
	(void)state;
	static const struct ocase c = {"MPTCP v1, 2 paths", true, 1, 2, 0, false, false, SEC};
	check(&c);
}

static void test_v1_csum(void **state)
{
	(void)state;
	static const struct ocase c = {"MPTCP v1, DSS checksums", true, 1, 2, 0, true, false, SEC};
	check(&c);
}

static void test_v0(void **state)
{
	(void)state;
	static const struct ocase c = {"MPTCP v0, 2 paths", true, 0, 2, 0, false, false, SEC};
	check(&c);
}

static void test_v1_loss(void **state)
{
	(void)state;
	static const struct ocase c = {
	    "MPTCP v1, 0.5 % loss", true, 1, 2, 0.005, false, false, 20 * SEC};
	check(&c);
}

static void test_v1_gro(void **state)
{
	(void)state;
	static const struct ocase c = {
	    "MPTCP v1, coalesced on receive", true, 1, 2, 0, false, true, SEC};
	check(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp),     cmocka_unit_test(test_v1_two_paths),
	    cmocka_unit_test(test_v1_csum), cmocka_unit_test(test_v0),
	    cmocka_unit_test(test_v1_loss), cmocka_unit_test(test_v1_gro),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
