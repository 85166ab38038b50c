/* SPDX-License-Identifier: Apache-2.0 */
/* The MPTCP simulator scenario runner (see mptcp_scn.h). */
#include "mptcp_scn.h"

uint64_t mcounter(const struct mout *o, int side, const char *name)
{
	for (int i = 0; i < mpt_counter_count() && i < 512; i++)
		if (!strcmp(mpt_counter_name(i), name))
			return o->counters[side][i];
	fail_msg("no counter %s", name);
	return 0;
}

/* A counter after the close sequence. */
uint64_t mcounter_end(const struct mout *o, int side, const char *name)
{
	for (int i = 0; i < mpt_counter_count() && i < 512; i++)
		if (!strcmp(mpt_counter_name(i), name))
			return o->counters_end[side][i];
	fail_msg("no counter %s", name);
	return 0;
}

/* Send a packet from the forwarding node on path `path` in direction dir. */
void mscn_inject(struct mctx *x, size_t path, int dir, const uint8_t *pkt, size_t len)
{
	(void)mpt_sim_send_if(x->sim, x->mid, (unsigned)(2 * path + (dir == 0 ? 1 : 0)), pkt, len);
}

static void mid_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct mctx *x = ud;
	static uint8_t buf[MPT_SIM_MAX_PKT];
	size_t path = ifindex / 2;
	int dir = (int)(ifindex & 1); /* arrived from the server side: going to the client */
	if (len > sizeof(buf))
		return;
	memcpy(buf, pkt, len);
	if (x->sc->tamper && !x->sc->tamper(x, path, dir, buf, &len, sizeof(buf), now))
		return;
	(void)mpt_sim_send_if(x->sim, x->mid, ifindex ^ 1u, buf, len);
}

static const struct mpt_sim_node_ops mid_ops = {.input = mid_input};

/* Sample MPTCP info while the connection is at full speed (before close). */
static bool mstop(void *arg)
{
	struct mctx *x = arg;
	struct mpt_sock *cs = mpt_bulk_client_sock(x->b);
	struct mpt_sock *ss = mpt_bulk_server_sock(x->b);
	struct mpt_sock *both[2] = {cs, ss};
	for (int side = 0; side < 2; side++) {
		struct mpt_pm_event e;
		while (both[side] && mpt_sock_pm_event(both[side], &e) == 1 && e.type < 16) {
			x->out->pmev[side][e.type]++;
			x->out->pm_last[side][e.type] = e;
		}
	}
	if (cs && !mpt_bulk_done(x->b)) {
		struct mout *o = x->out;
		o->c_enabled = mpt_sock_mptcp_enabled(cs);
		o->ci_rc = mpt_sock_mptcp_info(cs, &o->ci);
		int n = mpt_sock_subflows(cs, o->sub, 16);
		if (n > o->nsub_c || !x->sampled)
			o->nsub_c = n;
		o->nsub_last = n;
		if (ss) {
			o->s_enabled = mpt_sock_mptcp_enabled(ss);
			o->si_rc = mpt_sock_mptcp_info(ss, &o->si);
		}
		x->sampled = true;
	}
	return mpt_bulk_done(x->b);
}

void addr_for(struct mpt_addr *a, bool v6, size_t path, int host)
{
	char t[64];
	if (v6)
		snprintf(t, sizeof(t), "2001:db8:%zu::%d", path, host);
	else
		snprintf(t, sizeof(t), "10.0.%zu.%d", path, host);
	assert_int_equal(mpt_addr_parse(a, t), 0);
}

void run_mscn(const struct mscn *sc, struct mout *out)
{
	memset(out, 0, sizeof(*out));
	out->ci_rc = out->si_rc = -100;
	/* The simulator and the stacks count their memory apart: a test can
	 * make the stacks' allocations fail without cutting the network. */
	struct mpt_test_mem cm, hm;
	mpt_test_mem_init(&cm);
	mpt_test_mem_init(&hm);
	const struct mpt_mem mem = cm.mem, hmem = hm.mem;
	struct mctx x = {.out = out, .sc = sc, .mem = &hm};
	assert_int_equal(mpt_sim_create(&mem, sc->seed, &x.sim), 0);
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.mem = &hmem;
	double bdp = 0;
	for (size_t i = 0; i < sc->npaths; i++) {
		addr_for(&cc.local[i], sc->v6, i, 1);
		double b = (double)sc->path[i].rate_bps / 8 * (double)sc->path[i].rtt_ns / 1e9;
		bdp = fmax(bdp, b);
	}
	cc.n_local = sc->npaths;
	uint32_t buf = sc->buf ? sc->buf : (uint32_t)fmax(bdp * 4, 256 * 1024);
	cc.tcp.sndbuf = cc.tcp.rcvbuf = buf;
	cc.tcp.max_retries = sc->max_retries;
	cc.mptcp.enable = true;
	cc.mptcp.max_subflows = sc->max_subflows ? sc->max_subflows : 8;
	cc.mptcp.no_pm = sc->no_pm;
	sv = cc;
	for (size_t i = 0; i < sc->npaths; i++)
		addr_for(&sv.local[i], sc->v6, i, 2);
	cc.mptcp.enable = !sc->cli_off;
	sv.mptcp.enable = !sc->srv_off;
	if (sc->cli_version > 0)
		cc.mptcp.version = (uint8_t)(sc->cli_version - 1);
	if (sc->srv_accept > 0)
		sv.mptcp.accept_versions = (uint8_t)sc->srv_accept;
	cc.mptcp.checksum = sc->cli_csum;
	sv.mptcp.checksum = sc->srv_csum;
	sv.mptcp.c_flag = sc->srv_c_flag;
	if (sc->rcvbuf)
		cc.tcp.rcvbuf = sv.tcp.rcvbuf = sc->rcvbuf;
	if (sc->tweak)
		sc->tweak(&cc, &sv);
	assert_int_equal(mpt_simhost_create(x.sim, "client", &cc, &x.c), 0);
	assert_int_equal(mpt_simhost_create(x.sim, "server", &sv, &x.s), 0);
	for (size_t i = 0; i < sc->npaths; i++) {
		const struct mpath *p = &sc->path[i];
		struct mpt_sim_link_cfg fwd;
		memset(&fwd, 0, sizeof(fwd));
		fwd.rate_bps = p->rate_bps;
		fwd.delay_ns = p->rtt_ns / 2;
		double b = (double)p->rate_bps / 8 * (double)p->rtt_ns / 1e9;
		fwd.queue_bytes = p->queue_bytes ? p->queue_bytes : (uint32_t)fmax(b, 64 * 1500);
		fwd.jitter_ns = p->jitter_ns;
		if (p->outage) {
			fwd.outages = p->outage;
			fwd.n_outages = 1;
		}
		struct mpt_sim_link_cfg rev = fwd;
		fwd.loss = p->loss;
		if (sc->tamper) {
			struct mpt_addr ma, mb;
			addr_for(&ma, sc->v6, i, 253);
			addr_for(&mb, sc->v6, i, 254);
			if (!x.mid)
				assert_int_equal(
				    mpt_sim_add_node(x.sim, "tamper", &mid_ops, &x, &x.mid), 0);
			assert_int_equal(mpt_sim_connect(x.sim, mpt_simhost_node(x.c), &cc.local[i],
							 x.mid, &ma, &fwd, &rev, &x.lf[i],
							 &x.lr[i]),
					 0);
			assert_int_equal(mpt_sim_connect(x.sim, x.mid, &mb, mpt_simhost_node(x.s),
							 &sv.local[i], NULL, NULL, NULL, NULL),
					 0);
			continue;
		}
		assert_int_equal(mpt_sim_connect(x.sim, mpt_simhost_node(x.c), &cc.local[i],
						 mpt_simhost_node(x.s), &sv.local[i], &fwd, &rev,
						 &x.lf[i], &x.lr[i]),
				 0);
	}
	if (sc->setup)
		sc->setup(&x, sc->setup_arg);
	struct mpt_bulk_cfg bc = {
	    .bytes = sc->bytes, .port = 5001, .seed = sc->seed, .conn_opts = sc->conn_opts};
	struct mpt_endpoint dst = {.addr = sv.local[0], .port = 5001};
	assert_int_equal(mpt_bulk_start(x.c, x.s, &dst, &bc, &x.b), 0);
	if (sc->at_start)
		assert_int_equal(mpt_sim_at(x.sim, sc->at_t, sc->at_start, sc->at_arg), 0);
	(void)mpt_sim_run(x.sim, 2 * sc->budget_ns + 60 * SEC, mstop, &x);
	mpt_bulk_result(x.b, &out->res);
	out->sim_end = mpt_sim_now(x.sim);
	for (int i = 0; i < mpt_counter_count() && i < 512; i++) {
		out->counters[0][i] = mpt_stack_counter(mpt_simhost_stack(x.c), i);
		out->counters[1][i] = mpt_stack_counter(mpt_simhost_stack(x.s), i);
	}
	/* Let the close sequence finish, then everything must be freed. */
	(void)mpt_sim_run(x.sim, mpt_sim_now(x.sim) + 5 * SEC, NULL, NULL);
	for (int i = 0; i < mpt_counter_count() && i < 512; i++) {
		out->counters_end[0][i] = mpt_stack_counter(mpt_simhost_stack(x.c), i);
		out->counters_end[1][i] = mpt_stack_counter(mpt_simhost_stack(x.s), i);
	}
	double secs = out->res.t_done > out->res.t_connected
			  ? (double)(out->res.t_done - out->res.t_connected) / 1e9
			  : 0.0;
	printf("[ %-34s ] %s: %.1f MiB in %.3f s (%.2f Mbit/s) v%u fb=%d csum=%u subflows %d "
	       "(total %u) reinj %llu, budget %.1f s\n",
	       sc->name, out->res.intact ? "intact" : "NOT INTACT", (double)out->res.received / MIB,
	       secs, secs > 0 ? (double)out->res.received * 8 / secs / 1e6 : 0.0, out->ci.version,
	       out->ci.fallback, out->ci.mptcpi_csum_enabled, out->nsub_c,
	       out->ci.mptcpi_subflows_total, (unsigned long long)out->ci.reinjected_bytes,
	       (double)sc->budget_ns / 1e9);
	for (size_t i = 0; i < sc->npaths; i++) {
		struct mpt_sim_link_stats ls;
		mpt_sim_link_get_stats(x.lf[i], &ls);
		out->wire_fwd[i] = ls.wire_bytes;
		for (int d = 0; d < MPT_SIM_DROP_MAX; d++)
			out->lost_fwd += ls.dropped[d];
	}
	mpt_bulk_destroy(x.b);
	mpt_simhost_destroy(x.c);
	mpt_simhost_destroy(x.s);
	mpt_sim_destroy(x.sim);
	out->live_after = cm.live + hm.live;
}

void mcheck(const struct mscn *sc, const struct mout *o)
{
	assert_true(o->res.done);
	assert_true(o->res.intact);
	assert_int_equal(o->res.received, sc->bytes);
	assert_int_equal(o->res.client_err, 0);
	assert_int_equal(o->res.server_err, 0);
	assert_true(o->res.t_done - o->res.t_connected <= sc->budget_ns);
	assert_int_equal(o->live_after, 0);
}
