/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schedulers and path managers chosen by name (issue 5 "must show"):
 * backup semantics, redundant under loss, minrtt/ecf request-response over
 * heterogeneous paths, ndiffports, racing of the initial subflow,
 * re-establishment after an outage, the registry and the external path
 * manager API.  Every scenario checks integrity (SHA-256), a simulated-time
 * bound, and that all memory is returned.
 */
#include "mptcp_scn.h"

#include "mptcp/policy.h"
#include "simrouter.h"

/* ---- a sampler: per-path wire bytes and progress every 10 ms ------------- */

#define NSAMP 4096
#define TICK  (10 * MS)

struct samp {
	struct mctx *x;
	size_t n;
	uint64_t t[NSAMP];
	uint64_t wire[NSAMP][2]; /* client -> server wire bytes, paths 0 and 1 */
	uint64_t rcvd[NSAMP];    /* bytes the server application read */
	uint64_t rto0_ns;        /* initial subflow's RTO at the first sample after mark */
	uint64_t mark;           /* time to record rto0_ns */
	/* time at which a subflow on path 1 was first seen active after t_watch */
	uint64_t t_watch, t_active1;
};

static void tick(struct mpt_sim *sim, void *arg)
{
	struct samp *s = arg;
	struct mctx *x = s->x;
	uint64_t now = mpt_sim_now(sim);
	if (s->n < NSAMP) {
		s->t[s->n] = now;
		for (int p = 0; p < 2; p++) {
			struct mpt_sim_link_stats ls;
			memset(&ls, 0, sizeof(ls));
			if (x->lf[p])
				mpt_sim_link_get_stats(x->lf[p], &ls);
			s->wire[s->n][p] = ls.wire_bytes;
		}
		s->rcvd[s->n] = mpt_bulk_received(x->b);
		s->n++;
	}
	struct mpt_sock *cs = mpt_bulk_client_sock(x->b);
	if (cs && s->mark && now >= s->mark && !s->rto0_ns) {
		struct mpt_sock_info si;
		if (mpt_sock_info(cs, &si) == 0)
			s->rto0_ns = si.rto_ns;
	}
	if (cs && s->t_watch && now >= s->t_watch && !s->t_active1) {
		struct mpt_subflow_info sub[16];
		int n = mpt_sock_subflows(cs, sub, 16);
		for (int i = 0; i < n && i < 16; i++)
			if (sub[i].local.addr.bytes[2] == 1 && sub[i].active && sub[i].join &&
			    sub[i].bytes_acked > 0)
				s->t_active1 = now;
	}
	if (!mpt_bulk_done(x->b))
		(void)mpt_sim_at(sim, now + TICK, tick, s);
}

static void samp_setup(struct mctx *x, void *arg)
{
	struct samp *s = arg;
	s->x = x;
	/* The bulk transfer starts after setup: the first tick finds it. */
	(void)mpt_sim_at(x->sim, TICK, tick, s);
}

/* Wire bytes on path p between sample times a and b (nearest samples). */
static uint64_t wire_between(const struct samp *s, int p, uint64_t a, uint64_t b)
{
	size_t ia = 0, ib = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->t[i] <= a)
			ia = i;
		if (s->t[i] <= b)
			ib = i;
	}
	return s->wire[ib][p] - s->wire[ia][p];
}

/* Longest time without the application receiving anything, from the first
 * byte to the last. */
static uint64_t longest_stall(const struct samp *s)
{
	uint64_t worst = 0, since = 0;
	bool started = false;
	for (size_t i = 1; i < s->n; i++) {
		if (s->rcvd[i] > s->rcvd[i - 1]) {
			if (started && s->t[i] - since > worst)
				worst = s->t[i] - since;
			since = s->t[i];
			started = true;
		}
	}
	return worst;
}

static struct mscn base(const char *name, uint64_t bytes, uint64_t budget, uint64_t rate,
			uint64_t rtt)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = bytes;
	sc.seed = 11;
	sc.npaths = 2;
	sc.budget_ns = budget;
	for (int i = 0; i < 2; i++) {
		sc.path[i].rate_bps = rate;
		sc.path[i].rtt_ns = rtt;
	}
	return sc;
}

/* Knobs the tweak hook applies (cmocka runs tests one at a time). */
static struct {
	const char *sched, *pm, *cc;
	uint8_t ndiffports;
	uint8_t cli_flags1; /* client local address 1 */
	bool race;
	uint64_t join_retry_ns;
	const char *srv_pm;
	uint8_t srv_flags[4];
	uint8_t accept_max;
} K;

static void tweak(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	struct mpt_stack_cfg *both[2] = {cc, sv};
	for (int i = 0; i < 2; i++) {
		struct mpt_mptcp_knobs *k = &both[i]->mptcp;
		if (K.sched)
			snprintf(k->sched, sizeof(k->sched), "%s", K.sched);
		if (K.cc)
			snprintf(both[i]->tcp.cc, sizeof(both[i]->tcp.cc), "%s", K.cc);
	}
	if (K.pm)
		snprintf(cc->mptcp.pm, sizeof(cc->mptcp.pm), "%s", K.pm);
	cc->mptcp.ndiffports = K.ndiffports;
	cc->local_flags[1] = K.cli_flags1;
	cc->mptcp.race = K.race;
	cc->mptcp.join_retry_ns = K.join_retry_ns;
	cc->mptcp.add_addr_accept_max = K.accept_max;
	if (K.srv_pm)
		snprintf(sv->mptcp.pm, sizeof(sv->mptcp.pm), "%s", K.srv_pm);
	memcpy(sv->local_flags, K.srv_flags, sizeof(K.srv_flags));
}

static void knobs_reset(void)
{
	memset(&K, 0, sizeof(K));
}

/* ---- registry ----------------------------------------------------------------- */

static void nop_push(struct mpt_mpconn *mp, uint64_t now)
{
	(void)mp;
	(void)now;
}

static void nop_output(void *ud, const uint8_t *pkt, size_t len)
{
	(void)ud;
	(void)pkt;
	(void)len;
}

static void zero_rand(uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	memset(buf, 7, len);
}

static void test_registry(void **state)
{
	(void)state;
	struct mpt_policy_registry r;
	mpt_policy_registry_init(&r);
	assert_non_null(mpt_sched_find(&r, "minrtt"));
	assert_ptr_equal(mpt_sched_find(&r, ""), mpt_sched_find(&r, "minrtt"));
	assert_non_null(mpt_sched_find(&r, "ecf"));
	assert_null(mpt_sched_find(&r, "nope"));
	assert_ptr_equal(mpt_pm_find(&r, ""), mpt_pm_find(&r, "fullmesh"));
	assert_non_null(mpt_pm_find(&r, "mobility"));
	struct mpt_sched_ops dup = {.name = "rr", .push = nop_push};
	assert_int_equal(mpt_sched_register(&r, &dup), MPT_ERR_EXIST);
	struct mpt_sched_ops nohook = {.name = "x"};
	assert_int_equal(mpt_sched_register(&r, &nohook), MPT_ERR_INVAL);
	struct mpt_sched_ops noname = {.push = nop_push};
	assert_int_equal(mpt_sched_register(&r, &noname), MPT_ERR_INVAL);
	struct mpt_sched_ops mine = {.name = "mine", .push = nop_push};
	assert_int_equal(mpt_sched_register(&r, &mine), 0);
	assert_ptr_equal(mpt_sched_find(&r, "mine"), &mine);
	struct mpt_pm_ops pm = {.name = "p"};
	assert_int_equal(mpt_pm_register(&r, &pm), MPT_ERR_INVAL);
	/* Public names, default first. */
	assert_string_equal(mpt_sched_name(0), "minrtt");
	assert_string_equal(mpt_pm_name(0), "fullmesh");
	assert_null(mpt_sched_name(99));
	/* Unknown names are refused by the stack and by connect. */
	struct mpt_stack_cfg c;
	mpt_stack_cfg_init(&c);
	c.output = nop_output;
	c.rand = zero_rand;
	c.n_local = 1;
	assert_int_equal(mpt_addr_parse(&c.local[0], "10.0.0.1"), 0);
	snprintf(c.mptcp.sched, sizeof(c.mptcp.sched), "nope");
	struct mpt_stack *st = NULL;
	assert_int_equal(mpt_stack_create(&c, &st), MPT_ERR_INVAL);
	memset(c.mptcp.sched, 0, sizeof(c.mptcp.sched));
	snprintf(c.mptcp.pm, sizeof(c.mptcp.pm), "nope");
	assert_int_equal(mpt_stack_create(&c, &st), MPT_ERR_INVAL);
	memset(c.mptcp.pm, 0, sizeof(c.mptcp.pm));
	c.local_flags[0] = 0x80;
	assert_int_equal(mpt_stack_create(&c, &st), MPT_ERR_INVAL);
	c.local_flags[0] = MPT_LOCAL_SIGNAL | MPT_LOCAL_BACKUP;
	assert_int_equal(mpt_stack_create(&c, &st), 0);
	mpt_stack_destroy(st);
}

/* ---- 3. backup ---------------------------------------------------------------- */

static void test_backup(void **state)
{
	(void)state;
	knobs_reset();
	K.cli_flags1 = MPT_LOCAL_BACKUP;
	/* Path 0 (primary) is down 3..6 s. */
	static const struct mpt_sim_outage out = {.down_at = 3 * SEC, .up_at = 6 * SEC};
	struct mscn sc = base("backup: primary down 3..6 s", 56u * MIB, 12 * SEC,
			      50 * UINT64_C(1000000), 20 * MS);
	sc.path[0].outage = &out;
	sc.tweak = tweak;
	sc.max_subflows = 2; /* one subflow per path: no cross pairs */
	static struct samp s;
	memset(&s, 0, sizeof(s));
	s.mark = out.down_at - 20 * MS;
	sc.setup = samp_setup;
	sc.setup_arg = &s;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* While the primary is up: the backup path carries < 1 % (the MP_JOIN
	 * handshake and pure ACKs only). */
	uint64_t p0 = wire_between(&s, 0, 0, out.down_at);
	uint64_t p1 = wire_between(&s, 1, 0, out.down_at);
	printf("  primary up: %llu bytes on primary, %llu on backup (%.3f %%)\n",
	       (unsigned long long)p0, (unsigned long long)p1, 100.0 * (double)p1 / (double)p0);
	assert_true(p1 * 100 < p0);
	/* After the outage starts, data flows on the backup within one RTO
	 * of the primary (its first timeout marks it stale). */
	uint64_t t_backup = 0;
	for (size_t i = 1; i < s.n; i++)
		if (s.t[i] > out.down_at && s.wire[i][1] - s.wire[i - 1][1] > 8 * 1024) {
			t_backup = s.t[i];
			break;
		}
	for (size_t i = 1; i < s.n; i++)
		if (s.t[i] > out.down_at && s.t[i] < out.down_at + 600 * MS && getenv("MPT_DEBUG"))
			printf("   t=%.0f ms backup +%llu\n", (double)s.t[i] / 1e6,
			       (unsigned long long)(s.wire[i][1] - s.wire[i - 1][1]));
	printf("  backup carries data %.0f ms after the outage (primary RTO %.0f ms)\n",
	       (double)(t_backup - out.down_at) / 1e6, (double)s.rto0_ns / 1e6);
	assert_true(t_backup > out.down_at);
	assert_true(s.rto0_ns > 0);
	/* one tick of sampling granularity on top */
	assert_true(t_backup - out.down_at <= s.rto0_ns + TICK);
	/* Back on the primary when it returns: in the second after it is
	 * back up (its retransmission timer has to fire first), the primary
	 * carries data again, and the backup is idle in the second after. */
	uint64_t back0 = wire_between(&s, 0, out.up_at, out.up_at + 2 * SEC);
	uint64_t late1 = wire_between(&s, 1, out.up_at + 2 * SEC, out.up_at + 3 * SEC);
	uint64_t late0 = wire_between(&s, 0, out.up_at + 2 * SEC, out.up_at + 3 * SEC);
	printf("  after return: primary %llu bytes in 2 s; then primary %llu, backup %llu\n",
	       (unsigned long long)back0, (unsigned long long)late0, (unsigned long long)late1);
	assert_true(back0 > 4 * MIB);
	assert_true(late1 * 100 < late0);
}

/* ---- 4. redundant under 30 % loss; minrtt/ecf request-response -------------- */

static void test_redundant_loss(void **state)
{
	(void)state;
	knobs_reset();
	K.sched = "redundant";
	struct mscn sc = base("redundant, path 1 with 30 % loss", 16u * MIB, 8 * SEC,
			      40 * UINT64_C(1000000), 20 * MS);
	sc.path[1].loss = 0.30;
	sc.tweak = tweak;
	sc.max_subflows = 2;
	static struct samp s;
	memset(&s, 0, sizeof(s));
	sc.setup = samp_setup;
	sc.setup_arg = &s;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	uint64_t stall = longest_stall(&s);
	double secs = (double)(o.res.t_done - o.res.t_connected) / 1e9;
	double ideal = (double)sc.bytes * 8 / 40e6;
	printf("  %.2f s (one clean path alone: %.2f s), longest stall %.0f ms\n", secs, ideal,
	       (double)stall / 1e6);
	/* No stall: never 200 ms (10 RTTs) without delivery; and within 1.5x
	 * the time of the clean path alone. */
	assert_true(stall <= 200 * MS);
	assert_true(secs <= 1.5 * ideal);
	/* The lossy path carried copies too (its window stays small). */
	printf("  lossy path carried %.1f MiB\n", (double)o.wire_fwd[1] / MIB);
	assert_true(o.wire_fwd[1] > 0);
	/* Redundant really duplicates: on two clean paths each carries
	 * (nearly) every byte. */
	sc.name = "redundant, two clean paths";
	sc.path[1].loss = 0;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	printf("  clean: path 0 %.1f MiB, path 1 %.1f MiB on the wire\n",
	       (double)o.wire_fwd[0] / MIB, (double)o.wire_fwd[1] / MIB);
	assert_true(o.wire_fwd[0] > sc.bytes * 9 / 10);
	assert_true(o.wire_fwd[1] > sc.bytes * 9 / 10);
}

/*
 * Request/response: after both subflows are up (the 100 ms one idle), the
 * client sends a 100-byte request, the server answers 64 KiB, ten times in
 * a row.  Time from request to the last response byte.
 */
struct rr_app {
	struct mpt_simhost *c, *s;
	struct mpt_sock *lis, *cs, *ss;
	int round;
	uint64_t t_req[16], t_rsp[16];
	uint64_t got, sent;
	bool req_pending;
	uint8_t buf[65536];
	int subflows;
};

#define RR_ROUNDS 10
#define RR_BYTES  (64u * 1024u)
#define RR_START  (2 * SEC)

static void rr_pump_server(struct rr_app *a, uint64_t now)
{
	if (!a->ss)
		return;
	for (;;) {
		long n = mpt_recv(a->ss, a->buf, sizeof(a->buf), now);
		if (n <= 0)
			break;
		a->req_pending = true;
		a->sent = 0;
	}
	while (a->req_pending && a->sent < RR_BYTES) {
		long n = mpt_send(a->ss, a->buf, RR_BYTES - a->sent, now);
		if (n <= 0)
			break;
		a->sent += (uint64_t)n;
	}
	if (a->sent >= RR_BYTES)
		a->req_pending = false;
}

static void rr_request(struct rr_app *a, uint64_t now)
{
	static const uint8_t req[100];
	a->t_req[a->round] = now;
	a->got = 0;
	assert_int_equal(mpt_send(a->cs, req, sizeof(req), now), (long)sizeof(req));
}

static void rr_pump_client(struct rr_app *a, uint64_t now)
{
	if (!a->cs)
		return;
	for (;;) {
		long n = mpt_recv(a->cs, a->buf, sizeof(a->buf), now);
		if (n <= 0)
			break;
		a->got += (uint64_t)n;
		if (a->got == RR_BYTES && a->round < RR_ROUNDS) {
			a->t_rsp[a->round] = now;
			a->round++;
			if (a->round < RR_ROUNDS)
				rr_request(a, now);
		}
	}
}

static void rr_srv_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct rr_app *a = ud;
	(void)ev;
	uint64_t now = mpt_sim_now(mpt_simhost_sim(a->s));
	if (s == a->lis) {
		struct mpt_sock *n;
		while ((n = mpt_accept(a->lis)) != NULL)
			a->ss = n;
	}
	rr_pump_server(a, now);
}

static void rr_cli_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct rr_app *a = ud;
	(void)s;
	(void)ev;
	rr_pump_client(a, mpt_sim_now(mpt_simhost_sim(a->c)));
}

static void rr_go(struct mpt_sim *sim, void *arg)
{
	struct rr_app *a = arg;
	a->subflows = mpt_sock_subflows(a->cs, NULL, 0);
	rr_request(a, mpt_sim_now(sim));
}

/* Returns the mean response time of the last 5 rounds; *first the first. */
static double run_reqresp(const char *sched, bool one_path, double *first)
{
	struct mpt_test_mem cm;
	mpt_test_mem_init(&cm);
	const struct mpt_mem mem = cm.mem;
	struct mpt_sim *sim;
	assert_int_equal(mpt_sim_create(&mem, 5, &sim), 0);
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.mem = &mem;
	cc.n_local = 2;
	assert_int_equal(mpt_addr_parse(&cc.local[0], "10.0.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&cc.local[1], "10.0.1.1"), 0);
	cc.tcp.sndbuf = cc.tcp.rcvbuf = 1024 * 1024;
	cc.mptcp.enable = true;
	cc.mptcp.no_pm = one_path;
	cc.mptcp.max_subflows = 2; /* one per path, no cross pairs */
	snprintf(cc.mptcp.sched, sizeof(cc.mptcp.sched), "%s", sched);
	sv = cc;
	assert_int_equal(mpt_addr_parse(&sv.local[0], "10.0.0.2"), 0);
	assert_int_equal(mpt_addr_parse(&sv.local[1], "10.0.1.2"), 0);
	struct rr_app *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	assert_int_equal(mpt_simhost_create(sim, "client", &cc, &a->c), 0);
	assert_int_equal(mpt_simhost_create(sim, "server", &sv, &a->s), 0);
	const uint64_t rtt[2] = {10 * MS, 100 * MS};
	for (int i = 0; i < 2; i++) {
		struct mpt_sim_link_cfg l;
		memset(&l, 0, sizeof(l));
		l.rate_bps = 100 * UINT64_C(1000000);
		l.delay_ns = rtt[i] / 2;
		l.queue_bytes = 256 * 1024;
		assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(a->c), &cc.local[i],
						 mpt_simhost_node(a->s), &sv.local[i], &l, &l, NULL,
						 NULL),
				 0);
	}
	mpt_simhost_set_app(a->c, rr_cli_ev, a);
	mpt_simhost_set_app(a->s, rr_srv_ev, a);
	struct mpt_endpoint lep = {.addr = sv.local[0], .port = 80};
	assert_int_equal(mpt_listen(mpt_simhost_stack(a->s), &lep, 8, &a->lis), 0);
	assert_int_equal(mpt_connect(mpt_simhost_stack(a->c), &lep, &cc.local[0], 0, &a->cs), 0);
	assert_int_equal(mpt_sim_at(sim, RR_START, rr_go, a), 0);
	(void)mpt_sim_run(sim, 30 * SEC, NULL, NULL);
	assert_int_equal(a->round, RR_ROUNDS);
	assert_int_equal(a->subflows, one_path ? 1 : 2);
	double sum = 0;
	for (int i = RR_ROUNDS - 5; i < RR_ROUNDS; i++)
		sum += (double)(a->t_rsp[i] - a->t_req[i]) / 1e6;
	*first = (double)(a->t_rsp[0] - a->t_req[0]) / 1e6;
	printf("  %-9s %s: first %.1f ms, rounds 6-10 mean %.1f ms\n", sched,
	       one_path ? "fast path only" : "10 ms + 100 ms", *first, sum / 5);
	mpt_close(a->cs, mpt_sim_now(sim));
	mpt_close(a->ss, mpt_sim_now(sim));
	mpt_close(a->lis, mpt_sim_now(sim));
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 10 * SEC, NULL, NULL);
	mpt_simhost_destroy(a->c);
	mpt_simhost_destroy(a->s);
	mpt_sim_destroy(sim);
	free(a);
	assert_int_equal(cm.live, 0);
	return sum / 5;
}

static void test_reqresp(void **state)
{
	(void)state;
	double f_fast, f_min, f_ecf;
	double fast = run_reqresp("minrtt", true, &f_fast);
	double mr = run_reqresp("minrtt", false, &f_min);
	double ecf = run_reqresp("ecf", false, &f_ecf);
	/* Close to the fast path's time: within 1.25x (+1 ms), warm, and for
	 * the very first response, when the fast subflow's window is still
	 * small and the idle 100 ms subflow has room (plain lowest-RTT-first
	 * took 156.6 ms there, 4.8x). */
	assert_true(mr <= 1.25 * fast + 1.0);
	assert_true(ecf <= 1.25 * fast + 1.0);
	assert_true(f_min <= 1.25 * f_fast + 1.0);
	assert_true(f_ecf <= 1.25 * f_fast + 1.0);
}

/*
 * Head-of-line blocking: a 10 ms and a 300 ms path of 100 Mbit/s each and a
 * connection-level receive buffer (1 MiB) below the slow path's BDP.  Plain
 * lowest-RTT-first lets the slow subflow hold the head of the shared window
 * and runs at a third of the fast path alone (12.7 s vs 4.3 s for 48 MiB,
 * measured before the guard existed); minrtt must do at least as well as
 * the fast path alone.
 */
static void hol_tweak(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	(void)sv;
	cc->mptcp.max_subflows = 2;
	cc->mptcp.no_pm = K.ndiffports == 1; /* reuse: 1 = fast path only */
}

static void test_hol_window(void **state)
{
	(void)state;
	knobs_reset();
	struct mscn sc = base("minrtt, 10+300 ms, 1 MiB window", 48u * MIB, 30 * SEC,
			      100 * UINT64_C(1000000), 10 * MS);
	sc.path[1].rtt_ns = 300 * MS;
	/* The connection-level buffer (4 x 256 KiB) is below the slow path's
	 * BDP (3.75 MB) but 10 x the fast one's. */
	sc.buf = 256 * 1024;
	sc.tweak = hol_tweak;
	struct mout both;
	run_mscn(&sc, &both);
	mcheck(&sc, &both);
	K.ndiffports = 1;
	sc.name = "fast path alone, same window";
	struct mout one;
	run_mscn(&sc, &one);
	mcheck(&sc, &one);
	double tb = (double)(both.res.t_done - both.res.t_connected) / 1e9;
	double t1 = (double)(one.res.t_done - one.res.t_connected) / 1e9;
	printf("  two paths %.2f s, fast path alone %.2f s; slow subflow held back %llu times, "
	       "opportunistic reinjections %llu, penalisations %llu\n",
	       tb, t1, (unsigned long long)mcounter(&both, 0, "MPTCPSchedHolWait"),
	       (unsigned long long)mcounter(&both, 0, "MPTCPSchedOppReinj"),
	       (unsigned long long)mcounter(&both, 0, "MPTCPSchedPenalise"));
	/* The slow subflow was held back rather than let block the window. */
	assert_true(mcounter(&both, 0, "MPTCPSchedHolWait") > 0);
	assert_true(tb <= 1.1 * t1);
}

/* ---- 5. ndiffports ------------------------------------------------------------ */

static void test_ndiffports(void **state)
{
	(void)state;
	knobs_reset();
	struct mscn one =
	    base("one subflow, 1 % loss", 8u * MIB, 30 * SEC, 100 * UINT64_C(1000000), 20 * MS);
	one.npaths = 1;
	one.path[0].loss = 0.01;
	one.no_pm = true;
	one.tweak = tweak;
	K.cc = "reno";
	struct mout o1;
	run_mscn(&one, &o1);
	mcheck(&one, &o1);
	struct mscn four = one;
	four.name = "ndiffports 4, 1 % loss";
	four.no_pm = false;
	K.pm = "ndiffports";
	K.ndiffports = 4;
	struct mout o4;
	run_mscn(&four, &o4);
	mcheck(&four, &o4);
	double t1 = (double)(o1.res.t_done - o1.res.t_connected);
	double t4 = (double)(o4.res.t_done - o4.res.t_connected);
	printf("  goodput: 1 subflow %.1f Mbit/s, ndiffports 4 %.1f Mbit/s (%d subflows)\n",
	       (double)one.bytes * 8 / t1 * 1e3, (double)four.bytes * 8 / t4 * 1e3, o4.nsub_c);
	assert_int_equal(o4.nsub_c, 4);
	/* Beats one subflow clearly (4 windows recover 4x faster). */
	assert_true(t4 * 1.5 < t1);
}

/* ---- 6. racing ---------------------------------------------------------------- */

static void blackhole0(struct mctx *x, void *arg)
{
	(void)arg;
	mpt_sim_link_set_up(x->lf[0], false);
}

static void test_race(void **state)
{
	(void)state;
	knobs_reset();
	K.race = true;
	/* Path 0 black-holed upstream from the start, for the whole run
	 * (the server answers a SYN over the link its address sits on, so
	 * path 0's downstream stays up). */
	struct mscn sc =
	    base("race: primary black-holed", 8u * MIB, 4 * SEC, 50 * UINT64_C(1000000), 20 * MS);
	sc.setup = blackhole0;
	sc.tweak = tweak;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* SYN RTO 1 s (RFC 6298 §2.1): connected within 2 x that. */
	printf("  connected at %.3f s over path 1\n", (double)o.res.t_connected / 1e9);
	assert_true(o.res.t_connected <= 2 * SEC);
	assert_true(o.c_enabled);
	assert_int_equal(mcounter(&o, 0, "MPTCPRaceSyn"), 1);
	assert_int_equal(mcounter(&o, 0, "MPTCPRaceWon"), 1);
	/* Without racing the same connection waits for SYN retransmissions
	 * that never arrive: not connected within the same time. */
	K.race = false;
	sc.name = "no race: primary black-holed";
	sc.max_retries = 2;
	struct mout n;
	run_mscn(&sc, &n);
	assert_false(n.res.done);
}

/* ---- 7. re-establishment -------------------------------------------------------- */

static void test_reestablish(void **state)
{
	(void)state;
	knobs_reset();
	K.join_retry_ns = 1 * SEC;
	static const struct mpt_sim_outage out = {.down_at = 2 * SEC, .up_at = 7 * SEC};
	struct mscn sc =
	    base("path 1 down 2..7 s", 160u * MIB, 16 * SEC, 100 * UINT64_C(1000000), 20 * MS);
	sc.path[1].outage = &out;
	sc.max_retries = 3;
	sc.tweak = tweak;
	static struct samp s;
	memset(&s, 0, sizeof(s));
	s.t_watch = out.up_at;
	sc.setup = samp_setup;
	sc.setup_arg = &s;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	uint64_t retries = mcounter(&o, 0, "MPJoinRetry");
	/* The backoff doubles per failure (1 s, 2 s, ...): the interval in
	 * effect when the path returns is at most join_retry << retries. */
	uint64_t interval = K.join_retry_ns << retries;
	printf("  new subflow active %.0f ms after the path returned (%llu retries, backoff "
	       "interval %.0f ms)\n",
	       (double)(s.t_active1 - out.up_at) / 1e6, (unsigned long long)retries,
	       (double)interval / 1e6);
	assert_true(s.t_active1 >= out.up_at);
	assert_true(retries >= 1);
	assert_true(s.t_active1 - out.up_at <= interval);
}

/* ---- endpoints (kernel-like flags and limits) -------------------------------- */

static bool has_pair(const struct mout *o, int lpath, int rpath)
{
	for (int i = 0; i < o->nsub_last && i < 16; i++)
		if (o->sub[i].local.addr.bytes[2] == lpath &&
		    o->sub[i].remote.addr.bytes[2] == rpath && o->sub[i].active)
			return true;
	return false;
}

static void test_endpoints(void **state)
{
	(void)state;
	knobs_reset();
	K.pm = "endpoints";
	K.srv_pm = "endpoints";
	K.cli_flags1 = MPT_LOCAL_SUBFLOW;
	K.srv_flags[1] = MPT_LOCAL_SIGNAL;
	struct mscn sc = base("endpoints: subflow + signal", 64u * MIB, 8 * SEC,
			      100 * UINT64_C(1000000), 20 * MS);
	sc.tweak = tweak;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* "subflow" endpoint 1 -> the initial remote address; the server's
	 * "signal" address -> from the initial local address; no full mesh
	 * (so no subflow from local 1 to remote 1). */
	assert_true(has_pair(&o, 0, 0));
	assert_true(has_pair(&o, 1, 0));
	assert_true(has_pair(&o, 0, 1));
	assert_false(has_pair(&o, 1, 1));
	assert_int_equal(mcounter(&o, 0, "AddAddr"), 1);

	/* Limits: two signal addresses, one accepted. */
	knobs_reset();
	K.pm = "endpoints";
	K.srv_pm = "endpoints";
	K.accept_max = 1;
	K.srv_flags[1] = K.srv_flags[2] = MPT_LOCAL_SIGNAL;
	sc.name = "endpoints: accept 1 of 2 ADD_ADDR";
	sc.npaths = 3;
	sc.path[2] = sc.path[0];
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 0, "AddAddr"), 1);
	assert_int_equal(mcounter(&o, 0, "AddAddrIgnored"), 1);
	assert_int_equal(o.nsub_c, 2);
}

/* ---- the external path manager ("none" + mpt_pm_*) ------------------------- */

struct ext {
	struct mctx *x;
	struct mpt_addr l0, l1;
	int nremote;
	struct mpt_endpoint remote[4];
	int rc_open, rc_badopen, rc_close, rc_ann, rc_ann2, rc_wd;
	int nsub[5];
	bool active1;
};

static void ext_step(struct mpt_sim *sim, void *arg)
{
	struct ext *e = arg;
	uint64_t now = mpt_sim_now(sim);
	struct mpt_sock *cs = mpt_bulk_client_sock(e->x->b);
	int step = (int)(now / SEC);
	assert_non_null(cs);
	struct mpt_subflow_info sub[8];
	int n = mpt_sock_subflows(cs, sub, 8);
	e->nsub[step] = n;
	switch (step) {
	case 1:
		e->nremote = mpt_pm_remote_addrs(cs, e->remote, NULL, 4);
		e->rc_badopen =
		    mpt_pm_subflow_open(cs, &e->remote[0].addr, &e->remote[1], false, now);
		e->rc_open = mpt_pm_subflow_open(cs, &e->l1, &e->remote[1], false, now);
		break;
	case 2:
		for (int i = 0; i < n && i < 8; i++)
			if (mpt_addr_equal(&sub[i].local.addr, &e->l1) && sub[i].active)
				e->active1 = true;
		e->rc_close = mpt_pm_subflow_close(cs, &e->l1, &e->remote[1], now);
		break;
	case 3:
		e->rc_ann = mpt_pm_announce(cs, &e->l1, now);
		e->rc_ann2 = mpt_pm_announce(cs, &e->l1, now);
		break;
	case 4:
		e->rc_wd = mpt_pm_withdraw(cs, &e->l1, now);
		return;
	default:
		return;
	}
	(void)mpt_sim_at(sim, now + SEC, ext_step, e);
}

static void ext_setup(struct mctx *x, void *arg)
{
	struct ext *e = arg;
	e->x = x;
	(void)mpt_sim_at(x->sim, 1 * SEC, ext_step, e);
}

static void test_external_pm(void **state)
{
	(void)state;
	knobs_reset();
	K.pm = "none";
	struct mscn sc =
	    base("external path manager", 40u * MIB, 10 * SEC, 50 * UINT64_C(1000000), 20 * MS);
	sc.tweak = tweak;
	sc.max_subflows = 2;
	struct ext e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(mpt_addr_parse(&e.l0, "10.0.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&e.l1, "10.0.1.1"), 0);
	sc.setup = ext_setup;
	sc.setup_arg = &e;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* t=1 s: nothing opened by itself; the server's ADD_ADDR is known */
	assert_int_equal(e.nsub[1], 1);
	assert_int_equal(e.nremote, 2);
	assert_int_equal(e.rc_badopen, MPT_ERR_INVAL);
	assert_int_equal(e.rc_open, 0);
	/* t=2 s: the subflow the controller asked for is up; closed */
	assert_int_equal(e.nsub[2], 2);
	assert_true(e.active1);
	assert_int_equal(e.rc_close, 1);
	/* t=3 s: stays closed (no re-establishment without a PM) */
	assert_int_equal(e.nsub[3], 1);
	assert_int_equal(e.rc_ann, 0);
	assert_int_equal(e.rc_ann2, MPT_ERR_EXIST);
	assert_int_equal(e.rc_wd, 0);
	assert_int_equal(mcounter(&o, 1, "AddAddr"), 1); /* the server heard it */
	assert_int_equal(mcounter(&o, 1, "RmAddr"), 1);
	assert_int_equal(mcounter(&o, 0, "MPJoinRetry"), 0);
}

/* ---- mobility: break before make ---------------------------------------------- */

struct mob {
	struct mpt_bulk *b;
	struct mpt_simhost *c;
	uint64_t last_rx, last_t, worst_gap, t_first;
	int max_regular; /* most non-backup active subflows in one sample */
	int max_total;
};

static void mob_tick(struct mpt_sim *sim, void *arg)
{
	struct mob *m = arg;
	uint64_t now = mpt_sim_now(sim);
	uint64_t r = mpt_bulk_received(m->b);
	if (r > m->last_rx) {
		if (m->last_rx > 0 && now - m->last_t > m->worst_gap)
			m->worst_gap = now - m->last_t;
		m->last_rx = r;
		m->last_t = now;
	}
	struct mpt_sock *cs = mpt_bulk_client_sock(m->b);
	if (cs) {
		struct mpt_subflow_info sub[8];
		int n = mpt_sock_subflows(cs, sub, 8), reg = 0;
		for (int i = 0; i < n && i < 8; i++)
			reg += sub[i].active && !sub[i].backup && sub[i].bytes_sent > 0;
		if (reg > m->max_regular)
			m->max_regular = reg;
		if (n > m->max_total)
			m->max_total = n;
	}
	if (!mpt_bulk_done(m->b))
		(void)mpt_sim_at(sim, now + 5 * MS, mob_tick, m);
}

struct mob_rm {
	struct mpt_simhost *c;
	struct mpt_addr a;
	uint64_t t;
};

static void mob_remove(struct mpt_sim *sim, void *arg)
{
	struct mob_rm *rm = arg;
	rm->t = mpt_sim_now(sim);
	assert_int_equal(mpt_stack_remove_local_addr(mpt_simhost_stack(rm->c), &rm->a, rm->t), 0);
}

/*
 * remove_addr false: the active link dies at 2 s and only the subflow's
 * retransmission timeout tells; true: the address is removed at 2 s (what a
 * netlink link-down event does in the tools): break before make with no
 * subflow left for a moment.
 */
static void run_mobility(bool remove_addr)
{
	struct mpt_test_mem cm;
	mpt_test_mem_init(&cm);
	const struct mpt_mem mem = cm.mem;
	struct mpt_sim *sim;
	assert_int_equal(mpt_sim_create(&mem, 9, &sim), 0);
	struct router r = {.sim = sim};
	assert_int_equal(mpt_sim_add_node(sim, "r", &router_ops, &r, &r.node), 0);
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.mem = &mem;
	cc.n_local = 2;
	assert_int_equal(mpt_addr_parse(&cc.local[0], "10.0.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&cc.local[1], "10.0.1.1"), 0);
	cc.tcp.sndbuf = cc.tcp.rcvbuf = 1024 * 1024;
	cc.mptcp.enable = true;
	snprintf(cc.mptcp.pm, sizeof(cc.mptcp.pm), "mobility");
	sv = cc;
	sv.n_local = 1;
	memset(sv.mptcp.pm, 0, sizeof(sv.mptcp.pm));
	assert_int_equal(mpt_addr_parse(&sv.local[0], "10.9.0.2"), 0);
	struct mpt_simhost *hc, *hs;
	assert_int_equal(mpt_simhost_create(sim, "client", &cc, &hc), 0);
	assert_int_equal(mpt_simhost_create(sim, "server", &sv, &hs), 0);
	/* The client's first interface goes down for good at 2 s. */
	static const struct mpt_sim_outage gone = {.down_at = 2 * SEC, .up_at = 1000 * SEC};
	struct mpt_sim_link_cfg l0 = {.rate_bps = 50000000,
				      .delay_ns = 10 * MS,
				      .queue_bytes = 128 * 1024,
				      .outages = &gone,
				      .n_outages = 1};
	struct mpt_sim_link_cfg l1 = l0;
	l1.outages = NULL;
	l1.n_outages = 0;
	struct mpt_sim_link_cfg srv = {.rate_bps = 1000000000};
	struct mpt_addr ra, rb, rs;
	assert_int_equal(mpt_addr_parse(&ra, "10.0.0.254"), 0);
	assert_int_equal(mpt_addr_parse(&rb, "10.0.1.254"), 0);
	assert_int_equal(mpt_addr_parse(&rs, "10.9.0.254"), 0);
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(hc), &cc.local[0], r.node, &ra, &l0,
					 &l0, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(hc), &cc.local[1], r.node, &rb, &l1,
					 &l1, NULL, NULL),
			 0);
	assert_int_equal(mpt_sim_connect(sim, r.node, &rs, mpt_simhost_node(hs), &sv.local[0], &srv,
					 &srv, NULL, NULL),
			 0);
	r.r[0] = (struct route){cc.local[0], 0};
	r.r[1] = (struct route){cc.local[1], 1};
	r.r[2] = (struct route){sv.local[0], 2};
	r.n = 3;
	struct mob m = {.c = hc};
	struct mpt_bulk_cfg bc = {.bytes = 32u * MIB, .port = 443, .seed = 3};
	struct mpt_endpoint dst = {.addr = sv.local[0], .port = 443};
	assert_int_equal(mpt_bulk_start(hc, hs, &dst, &bc, &m.b), 0);
	assert_int_equal(mpt_sim_at(sim, 5 * MS, mob_tick, &m), 0);
	struct mob_rm rm = {.c = hc, .a = cc.local[0]};
	if (remove_addr)
		assert_int_equal(mpt_sim_at(sim, 2 * SEC, mob_remove, &rm), 0);
	(void)mpt_sim_run(sim, 30 * SEC, mpt_bulk_done, m.b);
	struct mpt_bulk_result res;
	mpt_bulk_result(m.b, &res);
	printf("[ mobility: %s at 2 s ] %s, done at %.2f s, longest delivery gap %.0f ms, "
	       "at most %d regular subflow(s) carrying data, %d subflows\n",
	       remove_addr ? "address 0 removed" : "link 0 gone",
	       res.intact ? "intact" : "NOT INTACT", (double)res.t_done / 1e9,
	       (double)m.worst_gap / 1e6, m.max_regular, m.max_total);
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 5 * SEC, NULL, NULL);
	uint64_t rm_tx = 0;
	assert_int_equal(mpt_stack_counter_by_name(mpt_simhost_stack(hc), "RmAddrTx", &rm_tx), 0);
	mpt_bulk_destroy(m.b);
	mpt_simhost_destroy(hc);
	mpt_simhost_destroy(hs);
	mpt_sim_destroy(sim);
	assert_true(res.intact);
	assert_int_equal(cm.live, 0);
	/* One subflow at a time while it works; the switch costs at most
	 * the RTO (200 ms minimum) plus the join's handshake and a few RTTs. */
	assert_int_equal(m.max_regular, 1);
	assert_true(m.worst_gap <= 400 * MS);
	assert_true(res.t_done <= 10 * SEC);
	if (remove_addr) {
		/* No timeout to wait for: the new subflow's handshake (1 RTT,
		 * 20 ms) and its fourth ACK, then data. */
		assert_true(m.worst_gap <= 100 * MS);
		assert_int_equal(rm_tx, 1); /* the peer was told (REMOVE_ADDR) */
	}
}

static void test_mobility(void **state)
{
	(void)state;
	run_mobility(false);
}

static void test_mobility_remove(void **state)
{
	(void)state;
	run_mobility(true);
}

/* ---- memory of finished connections ----------------------------------------- */

struct memprobe {
	struct mpt_test_mem *cm;
	long before, during, after;
};

static void probe_during(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct memprobe *m = arg;
	m->during = m->cm->live_bytes;
}

static void probe_after(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct memprobe *m = arg;
	m->after = m->cm->live_bytes;
}

static void test_timewait_memory(void **state)
{
	(void)state;
	/* 16 MiB over two paths, then both ends close; subflows sit in
	 * TIME-WAIT (2 MSL = 60 s).  What they hold then must be small: the
	 * data-level and engine buffers go when their direction is done. */
	struct mpt_test_mem cm;
	mpt_test_mem_init(&cm);
	const struct mpt_mem mem = cm.mem;
	struct mpt_sim *sim;
	assert_int_equal(mpt_sim_create(&mem, 4, &sim), 0);
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.mem = &mem;
	cc.n_local = 2;
	assert_int_equal(mpt_addr_parse(&cc.local[0], "10.0.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&cc.local[1], "10.0.1.1"), 0);
	cc.mptcp.enable = true;
	sv = cc;
	assert_int_equal(mpt_addr_parse(&sv.local[0], "10.0.0.2"), 0);
	assert_int_equal(mpt_addr_parse(&sv.local[1], "10.0.1.2"), 0);
	struct mpt_simhost *hc, *hs;
	assert_int_equal(mpt_simhost_create(sim, "client", &cc, &hc), 0);
	assert_int_equal(mpt_simhost_create(sim, "server", &sv, &hs), 0);
	for (int i = 0; i < 2; i++) {
		struct mpt_sim_link_cfg l = {
		    .rate_bps = 100000000, .delay_ns = 10 * MS, .queue_bytes = 256 * 1024};
		assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(hc), &cc.local[i],
						 mpt_simhost_node(hs), &sv.local[i], &l, &l, NULL,
						 NULL),
				 0);
	}
	struct memprobe m = {.cm = &cm, .before = cm.live_bytes};
	struct mpt_bulk *b;
	struct mpt_bulk_cfg bc = {.bytes = 16u * MIB, .port = 9, .seed = 5};
	struct mpt_endpoint dst = {.addr = sv.local[0], .port = 9};
	assert_int_equal(mpt_bulk_start(hc, hs, &dst, &bc, &b), 0);
	assert_int_equal(mpt_sim_at(sim, 500 * MS, probe_during, &m), 0);
	(void)mpt_sim_run(sim, 30 * SEC, mpt_bulk_done, b);
	assert_true(mpt_bulk_done(b));
	/* the close sequence takes a few RTTs; TIME-WAIT lasts 60 s */
	assert_int_equal(mpt_sim_at(sim, mpt_sim_now(sim) + 5 * SEC, probe_after, &m), 0);
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 6 * SEC, NULL, NULL);
	printf("[ memory ] before %ld KiB, during the transfer %ld KiB, in TIME-WAIT %ld KiB\n",
	       m.before / 1024, m.during / 1024, m.after / 1024);
	assert_true(m.after - m.before < 256 * 1024);
	mpt_bulk_destroy(b);
	mpt_simhost_destroy(hc);
	mpt_simhost_destroy(hs);
	mpt_sim_destroy(sim);
	assert_int_equal(cm.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),        cmocka_unit_test(test_backup),
	    cmocka_unit_test(test_redundant_loss),  cmocka_unit_test(test_reqresp),
	    cmocka_unit_test(test_ndiffports),      cmocka_unit_test(test_race),
	    cmocka_unit_test(test_reestablish),     cmocka_unit_test(test_endpoints),
	    cmocka_unit_test(test_external_pm),     cmocka_unit_test(test_mobility),
	    cmocka_unit_test(test_mobility_remove), cmocka_unit_test(test_hol_window),
	    cmocka_unit_test(test_timewait_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
