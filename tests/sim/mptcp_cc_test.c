/*
 * Coupled congestion control on MPTCP subflows (RFC 6356 §3): an MPTCP
 * connection with two subflows and a single-path TCP connection share one
 * bottleneck (a droptail queue on one link).  With a coupled algorithm
 * (lia, olia, balia) on the MPTCP host the two subflows together take no
 * more than about what the TCP flow gets (goal 2 of RFC 6356: "do no harm");
 * with uncoupled reno they take about twice as much.
 *
 *   mptcp client (10.0.0.1, 10.0.1.1) ==\                 /== server A 10.9.1.2
 *                                       R1 --bottleneck-- R2
 *   tcp client   (10.0.2.1)  ==========/   40 Mbit/s       \== server B 10.9.2.2
 *                                         droptail
 */
#include "mptcp_scn.h"

#include "simrouter.h"

static struct mpt_addr A(const char *t) {
	struct mpt_addr a;
	assert_int_equal(mpt_addr_parse(&a, t), 0);
	return a;
}

struct cc_out {
	uint64_t mp_bytes, tcp_bytes; /* received in the measurement window */
	long live_after;
	int mp_subflows;
	bool mp_enabled;
};

struct cc_ctx {
	struct mpt_bulk *bm, *bt;
	uint64_t m0, t0, m1, t1;
	int nsub;
	bool enabled;
};

static void mark0(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct cc_ctx *c = arg;
	c->m0 = mpt_bulk_received(c->bm);
	c->t0 = mpt_bulk_received(c->bt);
	struct mpt_sock *s = mpt_bulk_client_sock(c->bm);
	c->enabled = s && mpt_sock_mptcp_enabled(s);
	c->nsub = s ? mpt_sock_subflows(s, NULL, 0) : 0;
}

static void mark1(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct cc_ctx *c = arg;
	c->m1 = mpt_bulk_received(c->bm);
	c->t1 = mpt_bulk_received(c->bt);
}

/* Bottleneck rate; measurement window [T0, T1) after slow start.  At 40
 * Mbit/s the flows go through ~100 loss cycles in the window, enough for
 * the ratios to settle (at 100 Mbit/s and 30 s they still vary by +-40 %
 * from seed to seed). */
#define BN_RATE UINT64_C(40000000)
#define T0      (10 * SEC)
#define T1      (130 * SEC)

static void run_shared(const char *mp_cc, struct cc_out *out)
{
	struct mpt_test_mem cm;
	mpt_test_mem_init(&cm);
	const struct mpt_mem mem = cm.mem;
	struct mpt_sim *sim;
	assert_int_equal(mpt_sim_create(&mem, 77, &sim), 0);
	struct router r1 = {.sim = sim}, r2 = {.sim = sim};
	assert_int_equal(mpt_sim_add_node(sim, "r1", &router_ops, &r1, &r1.node), 0);
	assert_int_equal(mpt_sim_add_node(sim, "r2", &router_ops, &r2, &r2.node), 0);

	struct mpt_stack_cfg mc, tc, sa, sb;
	mpt_stack_cfg_init(&mc);
	mc.mem = &mem;
	mc.local[0] = A("10.0.0.1");
	mc.local[1] = A("10.0.1.1");
	mc.n_local = 2;
	mc.tcp.sndbuf = mc.tcp.rcvbuf = 1024 * 1024;
	/* The MPTCP host runs mp_cc, the TCP host reno (RFC 6356 compares
	 * with a regular TCP flow). */
	mc.mptcp.enable = true;
	snprintf(mc.tcp.cc, sizeof(mc.tcp.cc), "%s", mp_cc);
	tc = mc;
	tc.local[0] = A("10.0.2.1");
	tc.n_local = 1;
	tc.mptcp.enable = false;
	snprintf(tc.tcp.cc, sizeof(tc.tcp.cc), "reno");
	sa = mc;
	sa.local[0] = A("10.9.1.2");
	sa.n_local = 1;
	sb = tc;
	sb.local[0] = A("10.9.2.2");
	struct mpt_simhost *hm, *ht, *hsa, *hsb;
	assert_int_equal(mpt_simhost_create(sim, "mptcp", &mc, &hm), 0);
	assert_int_equal(mpt_simhost_create(sim, "tcp", &tc, &ht), 0);
	assert_int_equal(mpt_simhost_create(sim, "srvA", &sa, &hsa), 0);
	assert_int_equal(mpt_simhost_create(sim, "srvB", &sb, &hsb), 0);

	/* Access links: 1 Gbit/s, 2.5 ms + up to 3 ms of jitter (FIFO kept:
	 * without it the deterministic droptail queue shows phase effects,
	 * Floyd & Jacobson 1992, and even two TCPs split unevenly);
	 * bottleneck BN_RATE, 5 ms one way, a droptail queue of one BDP
	 * (RTT 20 ms). */
	struct mpt_sim_link_cfg acc = {
	    .rate_bps = 1000000000, .delay_ns = 2500 * 1000, .jitter_ns = 3 * MS};
	struct mpt_sim_link_cfg bn = {
	    .rate_bps = BN_RATE, .delay_ns = 5 * MS, .queue_bytes = BN_RATE / 8 / 50};
	struct mpt_sim_link_cfg bnr = {.rate_bps = 1000000000, .delay_ns = 5 * MS};
	struct mpt_addr ra = A("10.0.0.254"), rb = A("10.0.1.254"), rc = A("10.0.2.254");
	struct mpt_addr b1 = A("10.8.0.1"), b2 = A("10.8.0.2");
	struct mpt_addr s1 = A("10.9.1.254"), s2 = A("10.9.2.254");
	/* r1: if0 mptcp path 0, if1 mptcp path 1, if2 tcp, if3 bottleneck */
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[0], r1.node, &ra,
					 &acc, &acc, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[1], r1.node, &rb,
					 &acc, &acc, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(ht), &tc.local[0], r1.node, &rc,
					 &acc, &acc, NULL, NULL),
			 0);
	struct mpt_sim_link *bl;
	assert_int_equal(mpt_sim_connect(sim, r1.node, &b1, r2.node, &b2, &bn, &bnr, &bl, NULL), 0);
	/* r2: if0 bottleneck, if1 server A, if2 server B */
	assert_int_equal(mpt_sim_connect(sim, r2.node, &s1, mpt_simhost_node(hsa), &sa.local[0],
					 &acc, &acc, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, r2.node, &s2, mpt_simhost_node(hsb), &sb.local[0],
					 &acc, &acc, NULL, NULL),
			 0);
	r1.r[0] = (struct route){mc.local[0], 0};
	r1.r[1] = (struct route){mc.local[1], 1};
	r1.r[2] = (struct route){tc.local[0], 2};
	r1.n = 3;
	r1.dflt = 3;
	r2.r[0] = (struct route){sa.local[0], 1};
	r2.r[1] = (struct route){sb.local[0], 2};
	r2.n = 2;
	r2.dflt = 0;

	struct cc_ctx c = {0};
	struct mpt_bulk_cfg bc = {.bytes = 2048u * MIB, .port = 5001, .seed = 1};
	struct mpt_endpoint da = {.addr = sa.local[0], .port = 5001};
	assert_int_equal(mpt_bulk_start(hm, hsa, &da, &bc, &c.bm), 0);
	struct mpt_bulk_cfg bt = {.bytes = 2048u * MIB, .port = 5002, .seed = 2};
	struct mpt_endpoint db = {.addr = sb.local[0], .port = 5002};
	assert_int_equal(mpt_bulk_start(ht, hsb, &db, &bt, &c.bt), 0);
	assert_int_equal(mpt_sim_at(sim, T0, mark0, &c), 0);
	assert_int_equal(mpt_sim_at(sim, T1, mark1, &c), 0);
	(void)mpt_sim_run(sim, T1 + 1, NULL, NULL);
	struct mpt_sim_link_stats ls;
	mpt_sim_link_get_stats(bl, &ls);
	out->mp_bytes = c.m1 - c.m0;
	out->tcp_bytes = c.t1 - c.t0;
	out->mp_subflows = c.nsub;
	out->mp_enabled = c.enabled;
	double secs = (double)(T1 - T0) / 1e9;
	printf("[ %-6s vs reno ] mptcp %.1f Mbit/s (%d subflows), tcp %.1f Mbit/s, ratio %.2f, "
	       "bottleneck drops %llu\n",
	       mp_cc, (double)out->mp_bytes * 8 / secs / 1e6, c.nsub,
	       (double)out->tcp_bytes * 8 / secs / 1e6,
	       (double)out->mp_bytes / (double)out->tcp_bytes,
	       (unsigned long long)ls.dropped[MPT_SIM_DROP_QUEUE]);
	mpt_bulk_destroy(c.bm);
	mpt_bulk_destroy(c.bt);
	mpt_simhost_destroy(hm);
	mpt_simhost_destroy(ht);
	mpt_simhost_destroy(hsa);
	mpt_simhost_destroy(hsb);
	mpt_sim_destroy(sim);
	out->live_after = cm.live;
}

static void coupled(const char *name)
{
	struct cc_out o;
	run_shared(name, &o);
	assert_int_equal(o.live_after, 0);
	assert_true(o.mp_enabled);
	assert_int_equal(o.mp_subflows, 2);
	/* Together they use the bottleneck ... */
	assert_true((o.mp_bytes + o.tcp_bytes) * 8 / ((T1 - T0) / SEC) > BN_RATE * 85 / 100);
	/* ... and the two subflows take at most ~1.2x the TCP flow. */
	assert_true((double)o.mp_bytes <= 1.2 * (double)o.tcp_bytes);
}

static void test_lia(void **state)
{
	(void)state;
	coupled("lia");
}

static void test_olia(void **state)
{
	(void)state;
	coupled("olia");
}

static void test_balia(void **state)
{
	(void)state;
	coupled("balia");
}

static void test_uncoupled_reno(void **state)
{
	(void)state;
	/* The control: uncoupled, two reno subflows take about twice what
	 * the TCP flow gets (1.7-2x depending on the seed). */
	struct cc_out o;
	run_shared("reno", &o);
	assert_int_equal(o.live_after, 0);
	assert_int_equal(o.mp_subflows, 2);
	assert_true((double)o.mp_bytes > 1.5 * (double)o.tcp_bytes);
}

/* ---- resource pooling (RFC 6356 goal 3, must show 2) ----------------------- *
 *
 *   mptcp client 10.0.0.1 == R1 --bottleneck 40 Mbit/s-- R2 == server A 10.9.1.2
 *   2 tcp clients 10.0.2.1, 10.0.3.1 == R1          R2 == server B 10.9.2.2
 *   mptcp client 10.0.1.1 ---- free path, 40 Mbit/s ----- server A 10.9.3.2
 *
 * Two TCP flows share the bottleneck with the MPTCP connection's first
 * subflow; its second subflow has a path of the same capacity to itself.
 * A coupled connection moves its traffic to the free path (and leaves the
 * bottleneck to the TCP flows); uncoupled reno keeps a full TCP share of
 * the bottleneck.
 */

struct pool_out {
	double free_share; /* MPTCP bytes on the free path / all MPTCP bytes */
	double tcp_mbit;   /* the two TCP flows together */
	double mp_mbit;
	long live_after;
};

struct pool_ctx {
	struct mpt_bulk *bm, *bt[2];
	uint64_t sf0[2], sf1[2], t0[2];
	struct mpt_addr free_local;
};

static void pool_mark(struct pool_ctx *c, int k)
{
	struct mpt_subflow_info sub[8];
	struct mpt_sock *s = mpt_bulk_client_sock(c->bm);
	int n = s ? mpt_sock_subflows(s, sub, 8) : 0;
	c->sf0[k] = c->sf1[k] = 0;
	for (int i = 0; i < n && i < 8; i++) {
		if (mpt_addr_equal(&sub[i].local.addr, &c->free_local))
			c->sf1[k] += sub[i].bytes_acked;
		else
			c->sf0[k] += sub[i].bytes_acked;
	}
	c->t0[k] = mpt_bulk_received(c->bt[0]) + mpt_bulk_received(c->bt[1]);
}

static void pool_mark0(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	pool_mark(arg, 0);
}

static void pool_mark1(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	pool_mark(arg, 1);
}

static void run_pool(const char *mp_cc, struct pool_out *out)
{
	struct mpt_test_mem cm;
	mpt_test_mem_init(&cm);
	const struct mpt_mem mem = cm.mem;
	struct mpt_sim *sim;
	assert_int_equal(mpt_sim_create(&mem, 78, &sim), 0);
	struct router r1 = {.sim = sim}, r2 = {.sim = sim};
	assert_int_equal(mpt_sim_add_node(sim, "r1", &router_ops, &r1, &r1.node), 0);
	assert_int_equal(mpt_sim_add_node(sim, "r2", &router_ops, &r2, &r2.node), 0);
	struct mpt_stack_cfg mc, tc[2], sa, sb;
	mpt_stack_cfg_init(&mc);
	mc.mem = &mem;
	mc.local[0] = A("10.0.0.1");
	mc.local[1] = A("10.0.1.1");
	mc.n_local = 2;
	mc.tcp.sndbuf = mc.tcp.rcvbuf = 1024 * 1024;
	mc.mptcp.enable = true;
	mc.mptcp.max_subflows = 2; /* one per path */
	snprintf(mc.tcp.cc, sizeof(mc.tcp.cc), "%s", mp_cc);
	sa = mc;
	sa.local[0] = A("10.9.1.2");
	sa.local[1] = A("10.9.3.2");
	for (int i = 0; i < 2; i++) {
		tc[i] = mc;
		tc[i].n_local = 1;
		tc[i].local[0] = A(i == 0 ? "10.0.2.1" : "10.0.3.1");
		tc[i].mptcp.enable = false;
		snprintf(tc[i].tcp.cc, sizeof(tc[i].tcp.cc), "reno");
	}
	sb = tc[0];
	sb.local[0] = A("10.9.2.2");
	struct mpt_simhost *hm, *ht[2], *hsa, *hsb;
	assert_int_equal(mpt_simhost_create(sim, "mptcp", &mc, &hm), 0);
	assert_int_equal(mpt_simhost_create(sim, "tcp0", &tc[0], &ht[0]), 0);
	assert_int_equal(mpt_simhost_create(sim, "tcp1", &tc[1], &ht[1]), 0);
	assert_int_equal(mpt_simhost_create(sim, "srvA", &sa, &hsa), 0);
	assert_int_equal(mpt_simhost_create(sim, "srvB", &sb, &hsb), 0);
	struct mpt_sim_link_cfg acc = {
	    .rate_bps = 1000000000, .delay_ns = 2500 * 1000, .jitter_ns = 3 * MS};
	struct mpt_sim_link_cfg bn = {
	    .rate_bps = BN_RATE, .delay_ns = 5 * MS, .queue_bytes = BN_RATE / 8 / 50};
	struct mpt_sim_link_cfg bnr = {.rate_bps = 1000000000, .delay_ns = 5 * MS};
	/* The free path: same rate, queue and RTT as the bottleneck path. */
	struct mpt_sim_link_cfg fr = {.rate_bps = BN_RATE,
				      .delay_ns = 10 * MS,
				      .jitter_ns = 3 * MS,
				      .queue_bytes = BN_RATE / 8 / 50};
	struct mpt_sim_link_cfg frr = {.rate_bps = 1000000000, .delay_ns = 10 * MS};
	struct mpt_addr ra = A("10.0.0.254"), rc = A("10.0.2.254"), rd = A("10.0.3.254");
	struct mpt_addr b1 = A("10.8.0.1"), b2 = A("10.8.0.2");
	struct mpt_addr s1 = A("10.9.1.254"), s2 = A("10.9.2.254");
	/* r1: if0 mptcp path 0, if1 tcp0, if2 tcp1, if3 bottleneck */
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[0], r1.node, &ra,
					 &acc, &acc, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(ht[0]), &tc[0].local[0], r1.node,
					 &rc, &acc, &acc, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(ht[1]), &tc[1].local[0], r1.node,
					 &rd, &acc, &acc, NULL, NULL),
			 0);
	struct mpt_sim_link *bl;
	assert_int_equal(mpt_sim_connect(sim, r1.node, &b1, r2.node, &b2, &bn, &bnr, &bl, NULL), 0);
	/* r2: if0 bottleneck, if1 server A, if2 server B */
	assert_int_equal(mpt_sim_connect(sim, r2.node, &s1, mpt_simhost_node(hsa), &sa.local[0],
					 &acc, &acc, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, r2.node, &s2, mpt_simhost_node(hsb), &sb.local[0],
					 &acc, &acc, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[1],
					 mpt_simhost_node(hsa), &sa.local[1], &fr, &frr, NULL,
					 NULL),
			 0);
	r1.r[0] = (struct route){mc.local[0], 0};
	r1.r[1] = (struct route){tc[0].local[0], 1};
	r1.r[2] = (struct route){tc[1].local[0], 2};
	r1.n = 3;
	r1.dflt = 3;
	r2.r[0] = (struct route){sa.local[0], 1};
	r2.r[1] = (struct route){sb.local[0], 2};
	r2.n = 2;
	r2.dflt = 0;

	struct pool_ctx c = {.free_local = mc.local[1]};
	struct mpt_bulk_cfg bc = {.bytes = 2048u * MIB, .port = 5001, .seed = 1};
	struct mpt_endpoint da = {.addr = sa.local[0], .port = 5001};
	assert_int_equal(mpt_bulk_start(hm, hsa, &da, &bc, &c.bm), 0);
	for (int i = 0; i < 2; i++) {
		struct mpt_bulk_cfg bt = {
		    .bytes = 2048u * MIB, .port = (uint16_t)(5002 + i), .seed = (uint64_t)(2 + i)};
		struct mpt_endpoint db = {.addr = sb.local[0], .port = (uint16_t)(5002 + i)};
		assert_int_equal(mpt_bulk_start(ht[i], hsb, &db, &bt, &c.bt[i]), 0);
	}
	assert_int_equal(mpt_sim_at(sim, T0, pool_mark0, &c), 0);
	assert_int_equal(mpt_sim_at(sim, T1, pool_mark1, &c), 0);
	(void)mpt_sim_run(sim, T1 + 1, NULL, NULL);
	double secs = (double)(T1 - T0) / 1e9;
	double b0 = (double)(c.sf0[1] - c.sf0[0]), b1v = (double)(c.sf1[1] - c.sf1[0]);
	out->free_share = b0 + b1v > 0 ? b1v / (b0 + b1v) : 0;
	out->mp_mbit = (b0 + b1v) * 8 / secs / 1e6;
	out->tcp_mbit = (double)(c.t0[1] - c.t0[0]) * 8 / secs / 1e6;
	printf("[ pool %-6s ] mptcp %.1f Mbit/s, %.1f %% on the free path; 2 tcp flows %.1f "
	       "Mbit/s on the %.0f Mbit/s bottleneck\n",
	       mp_cc, out->mp_mbit, 100 * out->free_share, out->tcp_mbit, (double)BN_RATE / 1e6);
	mpt_bulk_destroy(c.bm);
	mpt_bulk_destroy(c.bt[0]);
	mpt_bulk_destroy(c.bt[1]);
	mpt_simhost_destroy(hm);
	mpt_simhost_destroy(ht[0]);
	mpt_simhost_destroy(ht[1]);
	mpt_simhost_destroy(hsa);
	mpt_simhost_destroy(hsb);
	mpt_sim_destroy(sim);
	out->live_after = cm.live;
}

static void test_pooling(void **state)
{
	(void)state;
	struct pool_out reno, lia, olia;
	run_pool("reno", &reno);
	run_pool("lia", &lia);
	run_pool("olia", &olia);
	assert_int_equal(reno.live_after + lia.live_after + olia.live_after, 0);
	/* Coupled: more of the connection's traffic on the free path than
	 * uncoupled reno, and more of the bottleneck left to TCP. */
	assert_true(lia.free_share > reno.free_share);
	assert_true(olia.free_share > reno.free_share);
	assert_true(lia.tcp_mbit > reno.tcp_mbit);
	assert_true(olia.tcp_mbit > reno.tcp_mbit);
	/* Seed 78: reno 70 %, lia 80 %, olia 85 % on the free path. */
	assert_true(lia.free_share >= 0.75);
	assert_true(olia.free_share >= 0.80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uncoupled_reno), cmocka_unit_test(test_lia),
	    cmocka_unit_test(test_olia),           cmocka_unit_test(test_balia),
	    cmocka_unit_test(test_pooling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
