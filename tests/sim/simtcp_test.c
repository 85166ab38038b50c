/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plain TCP between two engines in the simulator: the foundation's
 * end-to-end scenarios.  Every scenario checks integrity (SHA-256 of both
 * streams) and a simulated-time budget; budgets are deterministic.
 *
 * Ideal for the lossy scenarios: the RFC 9438 §5.1 / Mathis response
 * function.  With loss rate p and AIMD(alpha = 3(1-b)/(1+b), b = 0.7), the
 * Reno-friendly CUBIC window averages sqrt(alpha (1+b) / (2 (1-b) p))
 * = 1.2247/sqrt(p) segments per RTT (the pure cubic curve is smaller at
 * this BDP, so the Reno-friendly region governs).  At p = 1 %, RTT 20 ms
 * and 1448-byte segments (1460 MSS minus 12 bytes of timestamps) that is
 * 12.25 * 1448 * 8 / 0.020 = 7.09 Mbit/s, so 64 MiB ideally takes
 * 75.7 s.  Bound: completion within 1.3x that.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"

#define MIB (1024u * 1024u)
#define MS  UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

struct scenario {
	const char *name;
	uint64_t bytes;
	uint64_t rate_bps;
	uint64_t rtt_ns;
	double loss;     /* data direction */
	double ack_loss; /* ACK direction */
	double reorder;  /* data direction, 2 ms extra delay */
	bool no_sack;
	bool v6;
	const char *cc;
	uint64_t seed;
	const struct mpt_sim_mbox_cfg *mbox; /* on the data direction (rev = ACK dir) */
	const struct mpt_sim_outage *outage; /* on both directions */
	uint64_t budget_ns;                  /* simulated completion budget */
};

struct outcome {
	struct mpt_bulk_result res;
	struct mpt_sock_info info;
	uint64_t sim_end;
	struct mpt_sim_link_stats fwd;
	struct mpt_sim_mbox_stats mb;
	uint64_t counters[2][256];
};

static void run_scenario(const struct scenario *sc, struct outcome *out)
{
	memset(out, 0, sizeof(*out));
	struct mpt_sim *sim;
	assert_int_equal(mpt_sim_create(NULL, sc->seed, &sim), 0);
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.n_local = 1;
	assert_int_equal(mpt_addr_parse(&cc.local[0], sc->v6 ? "2001:db8::1" : "10.0.0.1"), 0);
	double bdp = (double)sc->rate_bps / 8 * (double)sc->rtt_ns / 1e9;
	uint32_t buf = (uint32_t)fmax(bdp * 4, 256 * 1024);
	cc.tcp.sndbuf = cc.tcp.rcvbuf = buf;
	cc.tcp.no_sack = sc->no_sack;
	snprintf(cc.tcp.cc, sizeof(cc.tcp.cc), "%s", sc->cc ? sc->cc : "cubic");
	sv = cc;
	assert_int_equal(mpt_addr_parse(&sv.local[0], sc->v6 ? "2001:db8::2" : "10.0.0.2"), 0);
	struct mpt_simhost *c, *s;
	assert_int_equal(mpt_simhost_create(sim, "client", &cc, &c), 0);
	assert_int_equal(mpt_simhost_create(sim, "server", &sv, &s), 0);

	struct mpt_sim_link_cfg fwd, rev;
	memset(&fwd, 0, sizeof(fwd));
	fwd.rate_bps = sc->rate_bps;
	fwd.delay_ns = sc->rtt_ns / 2;
	fwd.queue_bytes = (uint32_t)fmax(bdp, 64 * 1500);
	if (sc->outage) {
		fwd.outages = sc->outage;
		fwd.n_outages = 1;
	}
	rev = fwd;
	fwd.loss = sc->loss;
	rev.loss = sc->ack_loss;
	fwd.reorder = sc->reorder;
	fwd.reorder_delay_ns = 2 * MS;
	struct mpt_sim_link *lf, *lr;
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(c), &cc.local[0],
					 mpt_simhost_node(s), &sv.local[0], &fwd, &rev, &lf, &lr),
			 0);
	struct mpt_sim_mbox *mb = NULL;
	if (sc->mbox)
		assert_int_equal(mpt_sim_mbox_add(lf, lr, sc->mbox, &mb), 0);

	struct mpt_bulk *b;
	struct mpt_bulk_cfg bc = {.bytes = sc->bytes, .port = 5001, .seed = sc->seed};
	struct mpt_endpoint dst = {.addr = sv.local[0], .port = 5001};
	assert_int_equal(mpt_bulk_start(c, s, &dst, &bc, &b), 0);
	(void)mpt_sim_run(sim, 2 * sc->budget_ns + 60 * SEC, mpt_bulk_done, b);
	mpt_bulk_result(b, &out->res);
	struct mpt_sock *cs = mpt_bulk_client_sock(b);
	if (cs)
		assert_int_equal(mpt_sock_info(cs, &out->info), 0);
	out->sim_end = mpt_sim_now(sim);
	mpt_sim_link_get_stats(lf, &out->fwd);
	if (mb)
		mpt_sim_mbox_get_stats(mb, &out->mb);
	for (int i = 0; i < mpt_counter_count() && i < 256; i++) {
		out->counters[0][i] = mpt_stack_counter(mpt_simhost_stack(c), i);
		out->counters[1][i] = mpt_stack_counter(mpt_simhost_stack(s), i);
	}
	double secs = (double)(out->res.t_done - out->res.t_connected) / 1e9;
	printf("[ %-28s ] %s: %.1f MiB in %.2f s simulated (%.2f Mbit/s), retrans %u "
	       "(fast %u, rto %u), budget %.1f s\n",
	       sc->name, out->res.intact ? "intact" : "NOT INTACT", (double)out->res.received / MIB,
	       secs, secs > 0 ? (double)out->res.received * 8 / secs / 1e6 : 0.0,
	       out->info.total_retrans, out->info.fast_retrans, out->info.rto_count,
	       (double)sc->budget_ns / 1e9);
	mpt_bulk_destroy(b);
	mpt_simhost_destroy(c);
	mpt_simhost_destroy(s);
	mpt_sim_destroy(sim);
}

static uint64_t counter(const struct outcome *o, int side, const char *name)
{
	for (int i = 0; i < mpt_counter_count(); i++)
		if (!strcmp(mpt_counter_name(i), name))
			return o->counters[side][i];
	fail_msg("no counter %s", name);
	return 0;
}

static void check(const struct scenario *sc, const struct outcome *o)
{
	assert_true(o->res.done);
	assert_true(o->res.intact);
	assert_int_equal(o->res.received, sc->bytes);
	assert_int_equal(o->res.client_err, 0);
	assert_int_equal(o->res.server_err, 0);
	assert_true(o->res.t_done - o->res.t_connected <= sc->budget_ns);
}

/* 75.7 s ideal at 1 % loss (see the header comment); 1.3x budget. */
#define LOSSY_IDEAL_NS  (UINT64_C(75700) * MS)
#define LOSSY_BUDGET_NS (LOSSY_IDEAL_NS * 13 / 10)

static void test_clean_path(void **state)
{
	(void)state;
	/* 64 MiB at 100 Mbit/s = 5.37 s of serialization (+ headers). */
	struct scenario sc = {.name = "clean 100M/20ms",
			      .bytes = 64 * MIB,
			      .rate_bps = 100000000,
			      .rtt_ns = 20 * MS,
			      .seed = 1,
			      .budget_ns = 6500 * MS};
	struct outcome o;
	run_scenario(&sc, &o);
	check(&sc, &o);
	/* The only losses are slow start overshooting the 1-BDP droptail
	 * queue (no HyStart yet): bounded at 2 % of the bytes. */
	assert_true(o.info.bytes_retrans < sc.bytes / 50);
}

static void test_lossy_cubic(void **state)
{
	(void)state;
	struct scenario sc = {.name = "1% loss + reorder, cubic",
			      .bytes = 64 * MIB,
			      .rate_bps = 100000000,
			      .rtt_ns = 20 * MS,
			      .loss = 0.01,
			      .reorder = 0.01,
			      .seed = 2,
			      .budget_ns = LOSSY_BUDGET_NS};
	struct outcome o;
	run_scenario(&sc, &o);
	check(&sc, &o);
	assert_true(o.fwd.dropped[MPT_SIM_DROP_LOSS] > 300); /* ~1 % of 46k */
	assert_true(o.fwd.reordered > 300);
	assert_true(counter(&o, 0, "TCPSackRecovery") > 0);
	assert_int_equal(counter(&o, 0, "TCPRenoRecovery"), 0);
}

static void test_lossy_no_sack(void **state)
{
	(void)state;
	struct scenario sc = {.name = "1% loss + reorder, no SACK",
			      .bytes = 64 * MIB,
			      .rate_bps = 100000000,
			      .rtt_ns = 20 * MS,
			      .loss = 0.01,
			      .reorder = 0.01,
			      .no_sack = true,
			      .seed = 3,
			      .budget_ns = LOSSY_BUDGET_NS};
	struct outcome o;
	run_scenario(&sc, &o);
	check(&sc, &o);
	assert_true(counter(&o, 0, "TCPRenoRecovery") > 0);
	assert_int_equal(counter(&o, 0, "TCPSackRecovery"), 0);
}

static void test_lossy_seq_rewrite(void **state)
{
	(void)state;
	static const struct mpt_sim_mbox_cfg mb = {.kind = MPT_SIM_MBOX_SEQ_OFFSET,
						   .delta = 0x89abcdefu};
	struct scenario sc = {.name = "1% loss, seq-rewriting box",
			      .bytes = 64 * MIB,
			      .rate_bps = 100000000,
			      .rtt_ns = 20 * MS,
			      .loss = 0.01,
			      .reorder = 0.01,
			      .seed = 4,
			      .mbox = &mb,
			      .budget_ns = LOSSY_BUDGET_NS};
	struct outcome o;
	run_scenario(&sc, &o);
	check(&sc, &o);
	assert_true(o.mb.modified > 40000);
	assert_true(counter(&o, 0, "TCPSackRecovery") > 0);
}

static void test_middleboxes(void **state)
{
	(void)state;
	static const struct mpt_sim_mbox_cfg boxes[] = {
	    {.kind = MPT_SIM_MBOX_RESEGMENT, .seg_size = 500},
	    {.kind = MPT_SIM_MBOX_COALESCE, .hold_ns = 1000000, .coalesce_max = 2896},
	    {.kind = MPT_SIM_MBOX_STRIP_OPT, .opt_kind = 8, .syn_only = true},
	    {.kind = MPT_SIM_MBOX_STRIP_OPT, .opt_kind = 4, .syn_only = false},
	    {.kind = MPT_SIM_MBOX_NAT, .nat_port_base = 30000},
	};
	for (size_t i = 0; i < sizeof(boxes) / sizeof(boxes[0]); i++) {
		struct mpt_sim_mbox_cfg mb = boxes[i];
		if (mb.kind == MPT_SIM_MBOX_NAT)
			assert_int_equal(mpt_addr_parse(&mb.nat_addr, "10.9.9.9"), 0);
		char name[32];
		snprintf(name, sizeof(name), "middlebox kind %d", (int)mb.kind);
		struct scenario sc = {.name = name,
				      .bytes = 8 * MIB,
				      .rate_bps = 50000000,
				      .rtt_ns = 10 * MS,
				      .loss = 0.002,
				      .seed = 10 + i,
				      .mbox = &mb,
				      .budget_ns = 30 * SEC};
		struct outcome o;
		run_scenario(&sc, &o);
		check(&sc, &o);
		assert_true(o.mb.modified > 0 || o.mb.created > 0);
	}
}

static void test_outage(void **state)
{
	(void)state;
	/* Both directions down for 3 s mid-transfer: RTO backoff, then resume. */
	static const struct mpt_sim_outage out = {.down_at = 2 * SEC, .up_at = 5 * SEC};
	struct scenario sc = {.name = "3 s outage",
			      .bytes = 32 * MIB,
			      .rate_bps = 100000000,
			      .rtt_ns = 20 * MS,
			      .seed = 5,
			      .outage = &out,
			      .budget_ns = 20 * SEC};
	struct outcome o;
	run_scenario(&sc, &o);
	check(&sc, &o);
	assert_true(o.info.rto_count > 0);
	assert_true(o.fwd.dropped[MPT_SIM_DROP_OUTAGE] > 0);
}

static void test_ipv6_and_ack_loss(void **state)
{
	(void)state;
	struct scenario sc = {.name = "IPv6, 1% loss both ways",
			      .bytes = 16 * MIB,
			      .rate_bps = 100000000,
			      .rtt_ns = 20 * MS,
			      .loss = 0.01,
			      .ack_loss = 0.01,
			      .v6 = true,
			      .seed = 6,
			      .budget_ns = LOSSY_BUDGET_NS / 4};
	struct outcome o;
	run_scenario(&sc, &o);
	check(&sc, &o);
}

static void test_reno(void **state)
{
	(void)state;
	struct scenario sc = {.name = "reno, 0.1% loss",
			      .bytes = 16 * MIB,
			      .rate_bps = 100000000,
			      .rtt_ns = 20 * MS,
			      .loss = 0.001,
			      .cc = "reno",
			      .seed = 7,
			      .budget_ns = 30 * SEC};
	struct outcome o;
	run_scenario(&sc, &o);
	check(&sc, &o);
	assert_string_equal(o.info.cc, "reno");
}

static void test_deterministic(void **state)
{
	(void)state;
	struct scenario sc = {.name = "determinism",
			      .bytes = 4 * MIB,
			      .rate_bps = 20000000,
			      .rtt_ns = 30 * MS,
			      .loss = 0.02,
			      .reorder = 0.02,
			      .seed = 99,
			      .budget_ns = 60 * SEC};
	static struct outcome a, b, c;
	run_scenario(&sc, &a);
	run_scenario(&sc, &b);
	check(&sc, &a);
	assert_int_equal(a.res.t_done, b.res.t_done);
	assert_int_equal(a.sim_end, b.sim_end);
	assert_memory_equal(a.counters, b.counters, sizeof(a.counters));
	assert_memory_equal(&a.fwd, &b.fwd, sizeof(a.fwd));
	sc.seed = 100;
	run_scenario(&sc, &c);
	check(&sc, &c);
	assert_true(c.res.t_done != a.res.t_done ||
		    c.fwd.dropped[MPT_SIM_DROP_LOSS] != a.fwd.dropped[MPT_SIM_DROP_LOSS]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_path),        cmocka_unit_test(test_lossy_cubic),
	    cmocka_unit_test(test_lossy_no_sack),     cmocka_unit_test(test_lossy_seq_rewrite),
	    cmocka_unit_test(test_middleboxes),       cmocka_unit_test(test_outage),
	    cmocka_unit_test(test_ipv6_and_ack_loss), cmocka_unit_test(test_reno),
	    cmocka_unit_test(test_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
