/* SPDX-License-Identifier: Apache-2.0 */
/* Coupled congestion control scenarios (see cc_scn.h). */
#include "cc_scn.h"

static int cc_addr(struct mpt_addr *a, const char *t)
{
	return mpt_addr_parse(a, t) < 0 ? -1 : 0;
}

static void cc_mark0(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct cc_mark *c = arg;
	c->m0 = mpt_bulk_received(c->bm);
	c->t0 = mpt_bulk_received(c->bt);
	struct mpt_sock *s = mpt_bulk_client_sock(c->bm);
	c->enabled = s && mpt_sock_mptcp_enabled(s);
	c->nsub = s ? mpt_sock_subflows(s, NULL, 0) : 0;
}

static void cc_mark1(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct cc_mark *c = arg;
	c->m1 = mpt_bulk_received(c->bm);
	c->t1 = mpt_bulk_received(c->bt);
}

static void cc_name(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* The shared-bottleneck run.  Returns 0, or -1 when the setup failed. */
int cc_run_shared(const struct cc_shared_cfg *cfg, struct cc_shared_out *out)
{
	uint64_t t0 = cfg->t0 ? cfg->t0 : CC_T0, t1 = cfg->t1 ? cfg->t1 : CC_T1;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	struct mpt_sim *sim;
	if (mpt_sim_create(cfg->mem, cfg->seed, &sim) < 0)
		return -1;
	struct router r1 = {.sim = sim}, r2 = {.sim = sim};
	struct mpt_simhost *hm = NULL, *ht = NULL, *hsa = NULL, *hsb = NULL;
	struct cc_mark c;
	memset(&c, 0, sizeof(c));
	if (mpt_sim_add_node(sim, "r1", &router_ops, &r1, &r1.node) < 0 ||
	    mpt_sim_add_node(sim, "r2", &router_ops, &r2, &r2.node) < 0)
		goto out;
	struct mpt_stack_cfg mc, tc, sa, sb;
	mpt_stack_cfg_init(&mc);
	mc.mem = cfg->mem;
	if (cc_addr(&mc.local[0], "10.0.0.1") || cc_addr(&mc.local[1], "10.0.1.1"))
		goto out;
	mc.n_local = 2;
	mc.tcp.sndbuf = mc.tcp.rcvbuf = 1024 * 1024;
	mc.mptcp.enable = cfg->mode != CC_TCP;
	mc.mptcp.no_pm = cfg->mode == CC_MP_ONE;
	cc_name(mc.tcp.cc, sizeof(mc.tcp.cc), cfg->mp_cc);
	/* The competing host: plain TCP, reno unless told (RFC 6356 compares
	 * with a regular TCP flow). */
	tc = mc;
	if (cc_addr(&tc.local[0], "10.0.2.1"))
		goto out;
	tc.n_local = 1;
	tc.mptcp.enable = false;
	cc_name(tc.tcp.cc, sizeof(tc.tcp.cc), cfg->tcp_cc ? cfg->tcp_cc : "reno");
	sa = mc;
	if (cc_addr(&sa.local[0], "10.9.1.2"))
		goto out;
	sa.n_local = 1;
	sb = tc;
	if (cc_addr(&sb.local[0], "10.9.2.2"))
		goto out;
	if (mpt_simhost_create(sim, "mptcp", &mc, &hm) < 0 ||
	    mpt_simhost_create(sim, "tcp", &tc, &ht) < 0 ||
	    mpt_simhost_create(sim, "srvA", &sa, &hsa) < 0 ||
	    mpt_simhost_create(sim, "srvB", &sb, &hsb) < 0)
		goto out;
	/* Access links: 1 Gbit/s, 2.5 ms + up to 3 ms of jitter (FIFO kept:
	 * without it the deterministic droptail queue shows phase effects,
	 * Floyd & Jacobson 1992, and even two TCPs split unevenly);
	 * bottleneck CC_BN_RATE, 5 ms one way, a droptail queue of one BDP
	 * (RTT 20 ms). */
	struct mpt_sim_link_cfg acc = {
	    .rate_bps = 1000000000, .delay_ns = 2500 * 1000, .jitter_ns = 3 * CC_MS};
	struct mpt_sim_link_cfg bn = {.rate_bps = CC_BN_RATE,
				      .delay_ns = 5 * CC_MS,
				      .queue_bytes = (uint32_t)(CC_BN_RATE / 8 / 50)};
	struct mpt_sim_link_cfg bnr = {.rate_bps = 1000000000, .delay_ns = 5 * CC_MS};
	struct mpt_addr ra, rb, rcc, b1, b2, s1, s2;
	if (cc_addr(&ra, "10.0.0.254") || cc_addr(&rb, "10.0.1.254") ||
	    cc_addr(&rcc, "10.0.2.254") || cc_addr(&b1, "10.8.0.1") || cc_addr(&b2, "10.8.0.2") ||
	    cc_addr(&s1, "10.9.1.254") || cc_addr(&s2, "10.9.2.254"))
		goto out;
	struct mpt_sim_link *bl;
	/* r1: if0 mptcp path 0, if1 mptcp path 1, if2 tcp, if3 bottleneck;
	 * r2: if0 bottleneck, if1 server A, if2 server B */
	if (mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[0], r1.node, &ra, &acc, &acc, NULL,
			    NULL) < 0 ||
	    mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[1], r1.node, &rb, &acc, &acc, NULL,
			    NULL) < 0 ||
	    mpt_sim_connect(sim, mpt_simhost_node(ht), &tc.local[0], r1.node, &rcc, &acc, &acc,
			    NULL, NULL) < 0 ||
	    mpt_sim_connect(sim, r1.node, &b1, r2.node, &b2, &bn, &bnr, &bl, NULL) < 0 ||
	    mpt_sim_connect(sim, r2.node, &s1, mpt_simhost_node(hsa), &sa.local[0], &acc, &acc,
			    NULL, NULL) < 0 ||
	    mpt_sim_connect(sim, r2.node, &s2, mpt_simhost_node(hsb), &sb.local[0], &acc, &acc,
			    NULL, NULL) < 0)
		goto out;
	r1.r[0] = (struct route){mc.local[0], 0};
	r1.r[1] = (struct route){mc.local[1], 1};
	r1.r[2] = (struct route){tc.local[0], 2};
	r1.n = 3;
	r1.dflt = 3;
	r2.r[0] = (struct route){sa.local[0], 1};
	r2.r[1] = (struct route){sb.local[0], 2};
	r2.n = 2;
	r2.dflt = 0;

	struct mpt_bulk_cfg bc = {.bytes = UINT64_C(4096) * 1024 * 1024, .port = 5001, .seed = 1};
	struct mpt_endpoint da = {.addr = sa.local[0], .port = 5001};
	struct mpt_bulk_cfg bt = {.bytes = UINT64_C(4096) * 1024 * 1024, .port = 5002, .seed = 2};
	struct mpt_endpoint db = {.addr = sb.local[0], .port = 5002};
	if (mpt_bulk_start(hm, hsa, &da, &bc, &c.bm) < 0 ||
	    mpt_bulk_start(ht, hsb, &db, &bt, &c.bt) < 0 || mpt_sim_at(sim, t0, cc_mark0, &c) < 0 ||
	    mpt_sim_at(sim, t1, cc_mark1, &c) < 0)
		goto out;
	(void)mpt_sim_run(sim, t1 + 1, NULL, NULL);
	struct mpt_sim_link_stats ls;
	mpt_sim_link_get_stats(bl, &ls);
	out->mp_bytes = c.m1 - c.m0;
	out->tcp_bytes = c.t1 - c.t0;
	out->mp_subflows = c.nsub;
	out->mp_enabled = c.enabled;
	out->drops = ls.dropped[MPT_SIM_DROP_QUEUE];
	rc = 0;
out:
	if (c.bm)
		mpt_bulk_destroy(c.bm);
	if (c.bt)
		mpt_bulk_destroy(c.bt);
	if (hm)
		mpt_simhost_destroy(hm);
	if (ht)
		mpt_simhost_destroy(ht);
	if (hsa)
		mpt_simhost_destroy(hsa);
	if (hsb)
		mpt_simhost_destroy(hsb);
	mpt_sim_destroy(sim);
	return rc;
}

static void cc_pool_mark(struct cc_pool_mark *c, int k)
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
	c->m[k] = mpt_bulk_received(c->bm);
	c->t[k] = mpt_bulk_received(c->bt[0]) + mpt_bulk_received(c->bt[1]);
}

static void cc_pool_mark0(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	cc_pool_mark(arg, 0);
}

static void cc_pool_mark1(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	cc_pool_mark(arg, 1);
}

int cc_run_pool(const struct cc_pool_cfg *cfg, struct cc_pool_out *out)
{
	uint64_t t0 = cfg->t0 ? cfg->t0 : CC_T0, t1 = cfg->t1 ? cfg->t1 : CC_T1;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	struct mpt_sim *sim;
	if (mpt_sim_create(cfg->mem, cfg->seed, &sim) < 0)
		return -1;
	struct router r1 = {.sim = sim}, r2 = {.sim = sim};
	struct mpt_simhost *hm = NULL, *ht[2] = {NULL, NULL}, *hsa = NULL, *hsb = NULL;
	struct cc_pool_mark c;
	memset(&c, 0, sizeof(c));
	if (mpt_sim_add_node(sim, "r1", &router_ops, &r1, &r1.node) < 0 ||
	    mpt_sim_add_node(sim, "r2", &router_ops, &r2, &r2.node) < 0)
		goto out;
	struct mpt_stack_cfg mc, tc[2], sa, sb;
	mpt_stack_cfg_init(&mc);
	mc.mem = cfg->mem;
	if (cc_addr(&mc.local[0], "10.0.0.1") || cc_addr(&mc.local[1], "10.0.1.1"))
		goto out;
	mc.n_local = 2;
	mc.tcp.sndbuf = mc.tcp.rcvbuf = 1024 * 1024;
	mc.mptcp.enable = true;
	mc.mptcp.max_subflows = 2; /* one per path */
	cc_name(mc.tcp.cc, sizeof(mc.tcp.cc), cfg->mp_cc);
	sa = mc;
	if (cc_addr(&sa.local[0], "10.9.1.2") || cc_addr(&sa.local[1], "10.9.3.2"))
		goto out;
	for (int i = 0; i < 2; i++) {
		tc[i] = mc;
		tc[i].n_local = 1;
		if (cc_addr(&tc[i].local[0], i == 0 ? "10.0.2.1" : "10.0.3.1"))
			goto out;
		tc[i].mptcp.enable = false;
		cc_name(tc[i].tcp.cc, sizeof(tc[i].tcp.cc), "reno");
	}
	sb = tc[0];
	if (cc_addr(&sb.local[0], "10.9.2.2"))
		goto out;
	struct mpt_addr free_local = mc.local[1];
	if (cfg->best_tcp) {
		/* Plain reno TCP with only the free path's address, to the
		 * server's free-path address: it never touches the bottleneck. */
		mc.mptcp.enable = sa.mptcp.enable = false;
		mc.local[0] = free_local;
		mc.n_local = 1;
		cc_name(mc.tcp.cc, sizeof(mc.tcp.cc), "reno");
		cc_name(sa.tcp.cc, sizeof(sa.tcp.cc), "reno");
	}
	if (mpt_simhost_create(sim, "mptcp", &mc, &hm) < 0 ||
	    mpt_simhost_create(sim, "tcp0", &tc[0], &ht[0]) < 0 ||
	    mpt_simhost_create(sim, "tcp1", &tc[1], &ht[1]) < 0 ||
	    mpt_simhost_create(sim, "srvA", &sa, &hsa) < 0 ||
	    mpt_simhost_create(sim, "srvB", &sb, &hsb) < 0)
		goto out;
	struct mpt_sim_link_cfg acc = {
	    .rate_bps = 1000000000, .delay_ns = 2500 * 1000, .jitter_ns = 3 * CC_MS};
	struct mpt_sim_link_cfg bn = {.rate_bps = CC_BN_RATE,
				      .delay_ns = 5 * CC_MS,
				      .queue_bytes = (uint32_t)(CC_BN_RATE / 8 / 50)};
	struct mpt_sim_link_cfg bnr = {.rate_bps = 1000000000, .delay_ns = 5 * CC_MS};
	/* The free path: same rate, queue and RTT as the bottleneck path. */
	struct mpt_sim_link_cfg fr = {.rate_bps = CC_BN_RATE,
				      .delay_ns = 10 * CC_MS,
				      .jitter_ns = 3 * CC_MS,
				      .queue_bytes = (uint32_t)(CC_BN_RATE / 8 / 50)};
	struct mpt_sim_link_cfg frr = {.rate_bps = 1000000000, .delay_ns = 10 * CC_MS};
	struct mpt_addr ra, rcc, rd, b1, b2, s1, s2;
	if (cc_addr(&ra, "10.0.0.254") || cc_addr(&rcc, "10.0.2.254") ||
	    cc_addr(&rd, "10.0.3.254") || cc_addr(&b1, "10.8.0.1") || cc_addr(&b2, "10.8.0.2") ||
	    cc_addr(&s1, "10.9.1.254") || cc_addr(&s2, "10.9.2.254"))
		goto out;
	/* r1: if0 mptcp path 0, if1 tcp0, if2 tcp1, if3 bottleneck;
	 * r2: if0 bottleneck, if1 server A, if2 server B */
	if ((!cfg->best_tcp && mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[0], r1.node,
					       &ra, &acc, &acc, NULL, NULL) < 0) ||
	    mpt_sim_connect(sim, mpt_simhost_node(ht[0]), &tc[0].local[0], r1.node, &rcc, &acc,
			    &acc, NULL, NULL) < 0 ||
	    mpt_sim_connect(sim, mpt_simhost_node(ht[1]), &tc[1].local[0], r1.node, &rd, &acc, &acc,
			    NULL, NULL) < 0 ||
	    mpt_sim_connect(sim, r1.node, &b1, r2.node, &b2, &bn, &bnr, NULL, NULL) < 0 ||
	    mpt_sim_connect(sim, r2.node, &s1, mpt_simhost_node(hsa), &sa.local[0], &acc, &acc,
			    NULL, NULL) < 0 ||
	    mpt_sim_connect(sim, r2.node, &s2, mpt_simhost_node(hsb), &sb.local[0], &acc, &acc,
			    NULL, NULL) < 0 ||
	    mpt_sim_connect(sim, mpt_simhost_node(hm), &free_local, mpt_simhost_node(hsa),
			    &sa.local[1], &fr, &frr, NULL, NULL) < 0)
		goto out;
	/* (Without the MPTCP host's access link, best_tcp, the interfaces
	 * of r1 shift down by one.) */
	unsigned k = 0;
	if (!cfg->best_tcp)
		r1.r[k++] = (struct route){mc.local[0], 0};
	r1.r[k] = (struct route){tc[0].local[0], k};
	k++;
	r1.r[k] = (struct route){tc[1].local[0], k};
	k++;
	r1.n = k;
	r1.dflt = k;
	r2.r[0] = (struct route){sa.local[0], 1};
	r2.r[1] = (struct route){sb.local[0], 2};
	r2.n = 2;
	r2.dflt = 0;

	c.free_local = free_local;
	struct mpt_bulk_cfg bc = {.bytes = UINT64_C(4096) * 1024 * 1024, .port = 5001, .seed = 1};
	struct mpt_endpoint da = {.addr = cfg->best_tcp ? sa.local[1] : sa.local[0], .port = 5001};
	if (mpt_bulk_start(hm, hsa, &da, &bc, &c.bm) < 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		struct mpt_bulk_cfg bt = {.bytes = UINT64_C(4096) * 1024 * 1024,
					  .port = (uint16_t)(5002 + i),
					  .seed = (uint64_t)(2 + i)};
		struct mpt_endpoint db = {.addr = sb.local[0], .port = (uint16_t)(5002 + i)};
		if (mpt_bulk_start(ht[i], hsb, &db, &bt, &c.bt[i]) < 0)
			goto out;
	}
	if (mpt_sim_at(sim, t0, cc_pool_mark0, &c) < 0 ||
	    mpt_sim_at(sim, t1, cc_pool_mark1, &c) < 0)
		goto out;
	(void)mpt_sim_run(sim, t1 + 1, NULL, NULL);
	double secs = (double)(t1 - t0) / 1e9;
	double f0 = (double)(c.sf0[1] - c.sf0[0]), f1 = (double)(c.sf1[1] - c.sf1[0]);
	out->free_share = f0 + f1 > 0 ? f1 / (f0 + f1) : 0;
	out->mp_mbit = (double)(c.m[1] - c.m[0]) * 8 / secs / 1e6;
	out->tcp_mbit = (double)(c.t[1] - c.t[0]) * 8 / secs / 1e6;
	rc = 0;
out:
	if (c.bm)
		mpt_bulk_destroy(c.bm);
	for (int i = 0; i < 2; i++) {
		if (c.bt[i])
			mpt_bulk_destroy(c.bt[i]);
		if (ht[i])
			mpt_simhost_destroy(ht[i]);
	}
	if (hm)
		mpt_simhost_destroy(hm);
	if (hsa)
		mpt_simhost_destroy(hsa);
	if (hsb)
		mpt_simhost_destroy(hsb);
	mpt_sim_destroy(sim);
	return rc;
}
