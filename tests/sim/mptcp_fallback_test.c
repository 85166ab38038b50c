/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP mid-connection fallback and failure handling (RFC 8684 §3.7):
 * DSS checksum failure on the only subflow (MP_FAIL + infinite mapping)
 * and with two subflows (subflow reset, reinjection); MPTCP options
 * stripped mid-connection (one or both directions) and from the third ACK
 * on; option stripped on the SYN; MP_CAPABLE SYNs blackholed (retry without
 * MP_CAPABLE); the v1 third ACK and first mapping lost.  Every case checks
 * integrity (SHA-256), a time budget, counters and that nothing leaked.
 */
#include "mptcp_scn.h"

#define FB_BYTES  (16u * MIB)
#define FB_BUDGET (3 * SEC) /* 16 MiB at 100 Mbit/s is 1.4 s */

static struct mscn base(const char *name, size_t npaths)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = FB_BYTES;
	sc.seed = 23;
	sc.npaths = npaths;
	for (size_t i = 0; i < npaths; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.budget_ns = FB_BUDGET;
	return sc;
}

/* ---- middlebox set-ups ---------------------------------------------------- */

struct boxes {
	struct mpt_sim_mbox_cfg fwd, rev;
	bool has_fwd, has_rev;
	size_t path;
	struct mctx *x;
};

static void add_boxes(struct mctx *x, void *arg)
{
	struct boxes *b = arg;
	b->x = x;
	if (b->has_fwd)
		assert_int_equal(mpt_sim_mbox_add(x->lf[b->path], x->lr[b->path], &b->fwd, NULL),
				 0);
	if (b->has_rev)
		assert_int_equal(mpt_sim_mbox_add(x->lr[b->path], x->lf[b->path], &b->rev, NULL),
				 0);
}

static void add_boxes_later(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct boxes *b = arg;
	add_boxes(b->x, b);
}

static void remember_ctx(struct mctx *x, void *arg)
{
	((struct boxes *)arg)->x = x;
}

static void csum_on(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	(void)sv;
	cc->mptcp.checksum = true;
}

/* ---- DSS checksum failure -------------------------------------------------- */

static void test_csum_fail_one_subflow(void **state)
{
	(void)state;
	struct mscn sc = base("corrupt byte, 1 subflow: MP_FAIL", 1);
	struct boxes b = {.has_fwd = true, .path = 0};
	b.fwd.kind = MPT_SIM_MBOX_CORRUPT;
	b.fwd.corrupt_nth = 700;
	sc.setup = add_boxes;
	sc.setup_arg = &b;
	sc.tweak = csum_on;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* RFC 8684 §3.7: receiver sends MP_FAIL, sender answers with an
	 * infinite mapping from that DSN, both continue as TCP. */
	assert_int_equal(mcounter(&o, 1, "DataCsumErr"), 1);
	assert_int_equal(mcounter(&o, 1, "MPFailTx"), 1);
	assert_int_equal(mcounter(&o, 0, "MPFailRx"), 1);
	assert_int_equal(mcounter(&o, 0, "InfiniteMapTx"), 1);
	assert_int_equal(mcounter(&o, 1, "InfiniteMapRx"), 1);
	assert_true(o.ci.fallback);
	assert_false(o.c_enabled);
}

static void test_csum_fail_two_subflows(void **state)
{
	(void)state;
	struct mscn sc = base("corrupt byte, 2 subflows: reset", 2);
	sc.bytes = 32u * MIB;
	struct boxes b = {.has_fwd = true, .path = 1};
	b.fwd.kind = MPT_SIM_MBOX_CORRUPT;
	b.fwd.corrupt_nth = 300;
	sc.setup = add_boxes;
	sc.setup_arg = &b;
	sc.tweak = csum_on;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* Several subflows: the subflow is reset with MP_TCPRST + MP_FAIL,
	 * its data reinjected; the connection stays MPTCP. */
	assert_int_equal(mcounter(&o, 1, "DataCsumErr"), 1);
	assert_int_equal(mcounter(&o, 1, "MPFailTx"), 1);
	assert_int_equal(mcounter(&o, 0, "MPFailRx"), 1);
	assert_true(mcounter(&o, 0, "MPRstRx") >= 1);
	assert_int_equal(mcounter(&o, 0, "InfiniteMapTx"), 0);
	assert_true(mcounter(&o, 0, "MPTCPReinject") > 0);
	assert_false(o.ci.fallback);
	assert_true(o.c_enabled);
}

/* ---- options stripped ------------------------------------------------------ */

static void strip_cfg(struct mpt_sim_mbox_cfg *c, bool syn_only)
{
	memset(c, 0, sizeof(*c));
	c->kind = MPT_SIM_MBOX_STRIP_OPT;
	c->opt_kind = 30;
	c->syn_only = syn_only;
}

static void strip_mid(bool both, const char *name)
{
	struct mscn sc = base(name, 1);
	struct boxes b = {.has_fwd = true, .has_rev = both, .path = 0};
	strip_cfg(&b.fwd, false);
	strip_cfg(&b.rev, false);
	sc.setup = remember_ctx;
	sc.setup_arg = &b;
	sc.at_start = add_boxes_later;
	sc.at_arg = &b;
	sc.at_t = 500 * MS;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* Data without DSS on the only subflow, nothing lost at the data
	 * level: the receiver continues as TCP; the sender sees ACKs
	 * without DATA_ACK and does the same. */
	assert_true(mcounter(&o, 1, "DSSNoMatchTCP") >= 1);
	assert_int_equal(mcounter(&o, 1, "DSSFallback"), 1);
	assert_int_equal(mcounter(&o, 0, "DSSFallback"), 1);
	assert_true(o.ci.fallback);
}

static void test_strip_mid_fwd(void **state)
{
	(void)state;
	strip_mid(false, "options stripped at 0.5 s (data dir)");
}

static void test_strip_mid_both(void **state)
{
	(void)state;
	strip_mid(true, "options stripped at 0.5 s (both dirs)");
}

static void test_strip_after_syn(void **state)
{
	(void)state;
	/* The SYN (t = 0) and SYN/ACK (t = 10 ms) keep MP_CAPABLE; from the
	 * third ACK on every MPTCP option is stripped. */
	struct mscn sc = base("options stripped after the SYNs", 1);
	struct boxes b = {.has_fwd = true, .has_rev = true, .path = 0};
	strip_cfg(&b.fwd, false);
	strip_cfg(&b.rev, false);
	sc.setup = remember_ctx;
	sc.setup_arg = &b;
	sc.at_start = add_boxes_later;
	sc.at_arg = &b;
	sc.at_t = 15 * MS;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 1, "MPCapableFallbackACK"), 1);
	assert_int_equal(mcounter(&o, 0, "DSSFallback"), 1);
	assert_true(o.ci.fallback);
	assert_false(o.s_enabled);
}

static void test_strip_syn(void **state)
{
	(void)state;
	struct mscn sc = base("MP_CAPABLE stripped on the SYN", 1);
	struct boxes b = {.has_fwd = true, .path = 0};
	strip_cfg(&b.fwd, true);
	sc.setup = add_boxes;
	sc.setup_arg = &b;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 0, "MPCapableFallbackSYNACK"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableSYNRX"), 0);
	assert_true(o.ci.fallback);
	assert_false(o.c_enabled);
}

static void test_blackhole(void **state)
{
	(void)state;
	/* A firewall drops every segment with an unknown option (kind 30):
	 * after two MP_CAPABLE SYNs (t = 0 s, 1 s) the third (3 s) goes
	 * without it. */
	struct mscn sc = base("MP_CAPABLE SYNs blackholed", 1);
	struct boxes b = {.has_fwd = true, .path = 0};
	b.fwd.kind = MPT_SIM_MBOX_DROP_UNKNOWN_OPT;
	static const uint8_t ok[] = {0, 1, 2, 3, 4, 5, 8};
	for (size_t i = 0; i < sizeof(ok); i++)
		mpt_sim_opt_allow(b.fwd.allowed, ok[i]);
	sc.setup = add_boxes;
	sc.setup_arg = &b;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNTX"), 2);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNTXDrop"), 1);
	assert_int_equal(mcounter(&o, 0, "MPCapableFallbackSYNACK"), 1);
	assert_true(o.ci.fallback);
	assert_true(o.res.t_connected >= 3 * SEC);
}

/* ---- segments with unknown options dropped (RFC 8684 §3.1, §3.7) ----------- */

/* A firewall that drops every segment carrying an option other than EOL,
 * NOP, MSS, window scale, SACK and timestamps (MPTCP is kind 30). */
static void dropunk_cfg(struct mpt_sim_mbox_cfg *c)
{
	static const uint8_t ok[] = {0, 1, 2, 3, 4, 5, 8};
	memset(c, 0, sizeof(*c));
	c->kind = MPT_SIM_MBOX_DROP_UNKNOWN_OPT;
	for (size_t i = 0; i < sizeof(ok); i++)
		mpt_sim_opt_allow(c->allowed, ok[i]);
}

static void mpc_forever(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	(void)sv;
	cc->mptcp.mpc_syn_tries = 255; /* an initiator that never gives up on MP_CAPABLE */
}

static void test_blackhole_rev(void **state)
{
	(void)state;
	/* The SYNs pass, every SYN/ACK with MP_CAPABLE is dropped on the way
	 * back (soak seed 48).  The initiator's third SYN (3 s) has no
	 * MP_CAPABLE: the listener answers it without MP_CAPABLE too. */
	struct mscn sc = base("SYN/ACKs with MP_CAPABLE dropped", 1);
	struct boxes b = {.has_rev = true, .path = 0};
	dropunk_cfg(&b.rev);
	sc.setup = add_boxes;
	sc.setup_arg = &b;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNTX"), 2);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNTXDrop"), 1);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNACKRX"), 0);
	assert_int_equal(mcounter(&o, 0, "MPCapableFallbackSYNACK"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableSYNRX"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableSYNRXDrop"), 1);
	assert_true(mcounter(&o, 1, "MPCapableSYNACKTXDrop") >= 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableFallbackACK"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableACKRX"), 0);
	assert_true(o.ci.fallback);
	assert_false(o.s_enabled);
	/* The third SYN leaves at 3 s; one RTT later the connection is up. */
	assert_true(o.res.t_connected >= 3 * SEC);
	assert_true(o.res.t_connected <= 3 * SEC + 100 * MS);
}

static void test_blackhole_rev_sticky(void **state)
{
	(void)state;
	/* As above with an initiator that keeps MP_CAPABLE on every SYN: the
	 * listener's fourth SYN/ACK (on the SYN at 3 s) goes without it. */
	struct mscn sc = base("SYN/ACKs dropped, MP_CAPABLE SYNs", 1);
	struct boxes b = {.has_rev = true, .path = 0};
	dropunk_cfg(&b.rev);
	sc.setup = add_boxes;
	sc.setup_arg = &b;
	sc.tweak = mpc_forever;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNTXDrop"), 0);
	assert_true(mcounter(&o, 0, "MPCapableSYNTX") >= 3);
	assert_int_equal(mcounter(&o, 0, "MPCapableFallbackSYNACK"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableSYNRXDrop"), 0);
	assert_true(mcounter(&o, 1, "MPCapableSYNACKTXDrop") >= 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableFallbackACK"), 1);
	assert_true(o.ci.fallback);
	assert_false(o.s_enabled);
	assert_true(o.res.t_connected >= 3 * SEC);
	assert_true(o.res.t_connected <= 3 * SEC + 100 * MS);
}

static void test_blackhole_both(void **state)
{
	(void)state;
	/* Both directions: the MP_CAPABLE SYNs never arrive, the plain third
	 * SYN makes a plain TCP connection. */
	struct mscn sc = base("unknown options dropped both ways", 1);
	struct boxes b = {.has_fwd = true, .has_rev = true, .path = 0};
	dropunk_cfg(&b.fwd);
	dropunk_cfg(&b.rev);
	sc.setup = add_boxes;
	sc.setup_arg = &b;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNTX"), 2);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNTXDrop"), 1);
	assert_int_equal(mcounter(&o, 0, "MPCapableFallbackSYNACK"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableSYNRX"), 0);
	assert_true(o.ci.fallback);
	assert_false(o.s_enabled);
	assert_true(o.res.t_connected >= 3 * SEC);
	assert_true(o.res.t_connected <= 3 * SEC + 100 * MS);
}

/* The second path drops segments with unknown options in one direction:
 * its MP_JOIN handshake never completes, the connection stays MPTCP on the
 * first path, delivers everything and closes (nothing left allocated). */
static void join_blackhole(bool rev, const char *name)
{
	struct mscn sc = base(name, 2);
	/* one path's worth of capacity: 16 MiB at 100 Mbit/s is 1.4 s */
	struct boxes b = {.has_fwd = !rev, .has_rev = rev, .path = 1};
	dropunk_cfg(rev ? &b.rev : &b.fwd);
	sc.setup = add_boxes;
	sc.setup_arg = &b;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_true(o.s_enabled);
	assert_false(o.ci.fallback);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNACKRX"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableACKRX"), 1);
	/* Joins through the first path complete (fullmesh: client address 0
	 * to server address 1 is routed over it); those through the second
	 * never do.  "Lost" joins: SYNs sent minus SYN/ACKs accepted. */
	uint64_t syn_tx = mcounter_end(&o, 0, "MPJoinSynTx");
	uint64_t synack_rx = mcounter_end(&o, 0, "MPJoinSynAckRx");
	printf("joins: SYN tx %llu, SYN rx %llu, SYN/ACK rx %llu, ACK rx %llu\n",
	       (unsigned long long)syn_tx, (unsigned long long)mcounter_end(&o, 1, "MPJoinSynRx"),
	       (unsigned long long)synack_rx,
	       (unsigned long long)mcounter_end(&o, 1, "MPJoinAckRx"));
	assert_true(synack_rx >= 1);
	assert_true(syn_tx >= synack_rx + 2);
	assert_int_equal(mcounter_end(&o, 1, "MPJoinAckRx"), synack_rx);
	if (rev) /* the server saw the SYNs, its SYN/ACKs were dropped */
		assert_true(mcounter_end(&o, 1, "MPJoinSynRx") >= synack_rx + 2);
	else
		assert_int_equal(mcounter_end(&o, 1, "MPJoinSynRx"), synack_rx);
}

static void test_join_blackhole_fwd(void **state)
{
	(void)state;
	join_blackhole(false, "MP_JOIN SYNs dropped");
}

static void test_join_blackhole_rev(void **state)
{
	(void)state;
	join_blackhole(true, "MP_JOIN SYN/ACKs dropped");
}

/* ---- v1: the third ACK and the first mapping lost -------------------------- */

static void third_ack_setup(struct mctx *x, void *arg)
{
	struct mpt_sim_link_cfg c;
	memset(&c, 0, sizeof(c));
	c.rate_bps = 100000000;
	c.delay_ns = 10 * MS;
	c.queue_bytes = 250 * 1500;
	c.drop_list = arg;
	c.n_drop = 12;
	assert_int_equal(mpt_sim_link_set_cfg(x->lf[0], &c), 0);
}

static void test_third_ack_lost(void **state)
{
	(void)state;
	/* Client -> server packets 1..12: the third ACK and the whole first
	 * window (MP_CAPABLE with data).  RFC 8684 §3.1: the initiator keeps
	 * MP_CAPABLE on its data until a DSS arrives; the listener takes the
	 * retransmitted MP_CAPABLE-with-data as the third ACK. */
	static uint64_t drops[12];
	for (size_t i = 0; i < 12; i++)
		drops[i] = i + 1;
	struct mscn sc = base("v1: third ACK + first mapping lost", 1);
	sc.budget_ns = 5 * SEC;
	struct mout o;
	sc.setup = third_ack_setup;
	sc.setup_arg = drops;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_true(o.s_enabled);
	assert_false(o.ci.fallback);
	assert_false(o.si.fallback);
	assert_int_equal(mcounter(&o, 1, "MPCapableFallbackACK"), 0);
	assert_int_equal(mcounter(&o, 1, "MPCapableACKRX"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csum_fail_one_subflow),
	    cmocka_unit_test(test_csum_fail_two_subflows),
	    cmocka_unit_test(test_strip_mid_fwd),
	    cmocka_unit_test(test_strip_mid_both),
	    cmocka_unit_test(test_strip_after_syn),
	    cmocka_unit_test(test_strip_syn),
	    cmocka_unit_test(test_blackhole),
	    cmocka_unit_test(test_blackhole_rev),
	    cmocka_unit_test(test_blackhole_rev_sticky),
	    cmocka_unit_test(test_blackhole_both),
	    cmocka_unit_test(test_join_blackhole_fwd),
	    cmocka_unit_test(test_join_blackhole_rev),
	    cmocka_unit_test(test_third_ack_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
