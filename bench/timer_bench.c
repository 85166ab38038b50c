/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark (not a test): cost per packet and per timer call against the
 * number of connections (issue 13: "timer cost per packet flat from 10 to
 * 10,000 connections").
 *
 *   timer_bench KIND N [WINDOW_MS [KEEPALIVE]]
 *
 * KIND is tcp (plain TCP, one path) or mptcp2 (MPTCP, two paths, two
 * subflows per connection).  Two simulated stacks (client and server) open
 * N connections; each carries one 100-byte request, then stays idle with
 * keep-alive on (idle 7200 s), so that every idle connection keeps a
 * timer armed in its stack's heap: the heap holds N (tcp) or 2 N (mptcp2:
 * each subflow's engine) nodes, none due during the measurement.  Then one more connection runs a bulk transfer (100 Mbit/s
 * per path, 10 ms RTT, a 100-packet droptail queue) for a warm-up second;
 * then random loss (LOSS) is switched on (recoveries: retransmission, RACK
 * and probe timers fire) and WINDOWS windows of WINDOW_MS of virtual time
 * each (default 2000) are measured.  KEEPALIVE 0 turns keep-alive off: the
 * idle connections then hold no timer, and the heap only the bulk
 * connection's (what the heap's size costs is the difference).
 *
 * The nodes of the simulator are this program's own glue (not
 * mpt/simhost.h) so that each call into the stacks can be timed:
 *   input         mpt_stack_input, with everything it runs: the engine, the
 *                 packets it sends (handed to the simulator) and the
 *                 application callbacks (the bulk sender's mpt_send, the
 *                 receiver's mpt_recv);
 *   on_timer      mpt_stack_on_timer, likewise;
 *   next_deadline mpt_stack_next_deadline costs a few nanoseconds, less
 *                 than a clock read, so it is timed in a loop of NDL_LOOP
 *                 calls on each stack after each window (same heap, same
 *                 state); the windows count its calls.
 * Clocks: a read of CLOCK_THREAD_CPUTIME_ID is a system call (more than a
 * microsecond in a VM: more than a packet costs), so each call is timed on
 * CLOCK_MONOTONIC (vDSO).  What one read costs is measured first and taken
 * off every timed call; the time other processes had the CPU is taken out
 * with the window's thread CPU time over its wall time.  Each window also
 * reports its thread CPU time per packet (engine, simulator and
 * application together), free of per-call clock reads, and the CPU time
 * of CONTROL_LOOP rounds of register arithmetic: the machine is shared,
 * and a run it slowed down shows there, apart from the stack.  Figures are
 * medians over the windows (a window in which the machine was busy does
 * not move them); on_timer's is the median over all its calls.
 *
 * Before each mpt_stack_on_timer call the timer nodes that are due are
 * counted (a walk of the heap from the top that stops at nodes not due:
 * outside the timed part), to show that a call fires the few timers that
 * are due and never visits the idle connections.
 *
 * Output: one "result key=value ..." line (bench/timers.sh turns repeated
 * runs into docs/timers.md).  A run whose connections did not all reach
 * the expected state, or whose transfer did not move, exits 1.
 */
#define _GNU_SOURCE /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
/* Internal, only to read the heap (count due nodes, report its size). */
#include "core/stack_int.h"

#define MS  UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

#define PORT         5201
#define REQ_LEN      100
#define CHUNK        (64u * 1024u)
#define NDL_LOOP     2000000
#define CONTROL_LOOP 1000000
#define CAL_ROUNDS   15
#define CAL_READS    20000
#define LOSS         0.02
#define WINDOWS      31
#define CHURN        500 /* short connections opened and closed among the idle ones */

/* ---- clocks ------------------------------------------------------------------- */

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	return read_ns(CLOCK_THREAD_CPUTIME_ID);
}

static uint64_t mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* What one read of the per-call clock adds to a timed interval: the
 * median, over rounds, of CAL_READS back-to-back reads (the median keeps
 * a preempted round out). */
static double clock_cost_ns(void)
{
	uint64_t r[CAL_ROUNDS];
	for (int k = 0; k < CAL_ROUNDS; k++) {
		uint64_t t0 = mono_ns(), t = t0;
		for (int i = 0; i < CAL_READS; i++)
			t = mono_ns();
		r[k] = t - t0;
	}
	qsort(r, CAL_ROUNDS, sizeof(r[0]), u64_cmp);
	return (double)r[CAL_ROUNDS / 2] / CAL_READS;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of the WINDOWS values of v (sorts v). */
static double median(double *v)
{
	qsort(v, WINDOWS, sizeof(v[0]), dbl_cmp);
	return v[WINDOWS / 2];
}

/* ---- a simulator node running one stack, timed ------------------------------- */

struct meter {
	uint64_t calls, ns;
};

/* Every timed on_timer call of both stacks (ns), for the median. */
#define MAX_TSAMPLES 65536
static double g_tsamples[MAX_TSAMPLES];
static size_t g_tsamples_n;

struct host {
	struct mpt_sim *sim;
	struct mpt_sim_node *node;
	struct mpt_stack *st;
	struct app *app;
	bool measure; /* inside the measured window */
	struct meter in, tmr;
	uint64_t ndl_calls;
	uint64_t due_sum, due_max; /* timer nodes due at on_timer calls */
};

static void host_output(void *ud, const uint8_t *pkt, size_t len)
{
	struct host *h = ud;
	(void)mpt_sim_send(h->sim, h->node, pkt, len);
}

static void node_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct host *h = ud;
	(void)ifindex;
	if (!h->measure) {
		(void)mpt_stack_input(h->st, pkt, len, now);
		return;
	}
	uint64_t t0 = mono_ns();
	(void)mpt_stack_input(h->st, pkt, len, now);
	h->in.ns += mono_ns() - t0;
	h->in.calls++;
}

static uint64_t node_deadline(void *ud)
{
	struct host *h = ud;
	h->ndl_calls += h->measure;
	return mpt_stack_next_deadline(h->st);
}

/* Heap nodes due at now: the heap is ordered, so a node not due hides its
 * whole subtree; the walk costs what is due (plus its children). */
static uint64_t count_due(const struct mpt_stack_core *c, size_t i, uint64_t now)
{
	if (i >= c->heap_n || c->heap[i]->at > now)
		return 0;
	return 1 + count_due(c, 2 * i + 1, now) + count_due(c, 2 * i + 2, now);
}

static void node_timer(void *ud, uint64_t now)
{
	struct host *h = ud;
	if (!h->measure) {
		mpt_stack_on_timer(h->st, now);
		return;
	}
	uint64_t due = h->st->core->heap_nomem ? 0 : count_due(h->st->core, 0, now);
	h->due_sum += due;
	if (due > h->due_max)
		h->due_max = due;
	uint64_t t0 = mono_ns();
	mpt_stack_on_timer(h->st, now);
	uint64_t d = mono_ns() - t0;
	h->tmr.ns += d;
	h->tmr.calls++;
	if (g_tsamples_n < MAX_TSAMPLES)
		g_tsamples[g_tsamples_n++] = (double)d;
}

static const struct mpt_sim_node_ops node_ops = {
    .input = node_input,
    .next_deadline = node_deadline,
    .on_timer = node_timer,
};

/* ---- the application ----------------------------------------------------------- */

struct app {
	struct mpt_sock *lsock;     /* server */
	struct mpt_sock **conns;    /* server: accepted; client: connected */
	size_t n, cap;              /* server: accepted so far */
	size_t connected, received; /* client: handshakes done; server: requests read in full */
	bool churn; /* the churn phase: close after the request (client), at EOF (server) */
	size_t churn_closed;   /* server: churn connections that ended (EOF, closed) */
	size_t *got;           /* server: request bytes read, per accepted connection */
	struct mpt_sock *bulk; /* client: the bulk sender */
	bool bulk_stop;        /* client: the bulk sender sends no more */
	uint64_t bulk_bytes;   /* server: bytes read beyond the requests */
	int errors;
	uint64_t now;
};

static uint8_t g_buf[CHUNK];

static void pump(struct app *a, struct mpt_sock *s)
{
	for (;;) {
		long r = mpt_send(s, g_buf, sizeof(g_buf), a->now);
		if (r == MPT_ERR_AGAIN || r == 0)
			return;
		if (r < 0) {
			a->errors++;
			return;
		}
	}
}

static void drain(struct app *a, struct mpt_sock *s)
{
	size_t *got = mpt_sock_get_user(s);
	for (;;) {
		long r = mpt_recv(s, g_buf, sizeof(g_buf), a->now);
		if (r == MPT_ERR_AGAIN)
			return;
		if (r == 0 && a->churn) {
			mpt_sock_set_user(s, NULL);
			mpt_close(s, a->now);
			a->churn_closed++;
			return;
		}
		if (r <= 0) {
			a->errors++;
			return;
		}
		size_t want = *got < REQ_LEN ? REQ_LEN - *got : 0;
		size_t req = (size_t)r < want ? (size_t)r : want;
		*got += req;
		if (req && *got == REQ_LEN)
			a->received++;
		a->bulk_bytes += (uint64_t)r - req;
	}
}

static void client_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct host *h = ud;
	struct app *a = h->app;
	a->now = mpt_sim_now(h->sim);
	if (ev & MPT_EV_ERROR) {
		a->errors++;
		return;
	}
	if (ev & MPT_EV_CONNECTED) {
		a->connected++;
		if (s != a->bulk) {
			uint8_t req[REQ_LEN];
			memset(req, 'q', sizeof(req));
			if (mpt_send(s, req, sizeof(req), a->now) != REQ_LEN)
				a->errors++;
			if (a->churn)
				mpt_close(s, a->now); /* the client closes first: TIME-WAIT here */
		}
	}
	if (s == a->bulk && !a->bulk_stop && (ev & (MPT_EV_CONNECTED | MPT_EV_WRITABLE)))
		pump(a, s);
}

static void server_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct host *h = ud;
	struct app *a = h->app;
	a->now = mpt_sim_now(h->sim);
	if (s == a->lsock) {
		struct mpt_sock *c;
		while ((c = mpt_accept(s)) != NULL) {
			if (a->n == a->cap) {
				a->errors++;
				mpt_abort(c, a->now);
				continue;
			}
			a->conns[a->n] = c;
			mpt_sock_set_user(c, &a->got[a->n]);
			a->n++;
			drain(a, c);
		}
		return;
	}
	if (ev & MPT_EV_ERROR) {
		a->errors++;
		return;
	}
	if ((ev & MPT_EV_READABLE) && mpt_sock_get_user(s))
		drain(a, s);
}

/* ---- one run --------------------------------------------------------------------- */

static void addr_of(struct mpt_addr *a, size_t path, int host)
{
	char t[32];
	snprintf(t, sizeof(t), "10.0.%zu.%d", path, host);
	(void)mpt_addr_parse(a, t);
}

static int host_init(struct host *h, struct mpt_sim *sim, const char *name,
		     const struct mpt_stack_cfg *cfg, struct app *a,
		     void (*ev)(void *, struct mpt_sock *, unsigned))
{
	memset(h, 0, sizeof(*h));
	h->sim = sim;
	h->app = a;
	struct mpt_stack_cfg c = *cfg;
	c.output = host_output;
	c.output_ud = h;
	c.rand = mpt_sim_rand;
	c.rand_ud = sim;
	c.on_event = ev;
	c.event_ud = h;
	int rc = mpt_stack_create(&c, &h->st);
	if (rc == 0)
		rc = mpt_sim_add_node(sim, name, &node_ops, h, &h->node);
	return rc;
}

static bool all_connected(void *arg)
{
	const struct app *const *ab = arg;
	return ab[0]->connected + (size_t)ab[0]->errors >= ab[0]->cap &&
	       ab[1]->received + (size_t)ab[1]->errors >= ab[1]->cap;
}

/* A fixed amount of arithmetic on registers only, in CPU time: how fast
 * the (shared) machine ran this window, to tell the stack's growth from
 * the machine's.  Microseconds for CONTROL_LOOP rounds. */
static double control_us(void)
{
	volatile uint64_t sink;
	uint64_t x = 88172645463325252u;
	uint64_t t0 = cpu_ns();
	for (int i = 0; i < CONTROL_LOOP; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	uint64_t t1 = cpu_ns();
	sink = x;
	(void)sink;
	return (double)(t1 - t0) / 1e3;
}

/* next_deadline, NDL_LOOP times: ns per call (clock reads are outside). */
static double ndl_loop_ns(struct mpt_stack *st)
{
	volatile uint64_t sink = 0;
	uint64_t t0 = cpu_ns();
	for (int i = 0; i < NDL_LOOP; i++)
		sink += mpt_stack_next_deadline(st);
	uint64_t t1 = cpu_ns();
	(void)sink;
	return (double)(t1 - t0) / NDL_LOOP;
}

static int subflows_of(struct mpt_sock *s)
{
	struct mpt_subflow_info sf[8];
	return mpt_sock_subflows(s, sf, 8);
}

/* Churn: CHURN short connections among the idle ones, one every 100 us
 * of virtual time: connect, a request, the client closes, the server
 * closes at EOF; until each has ended on both sides (the client's in
 * TIME-WAIT).  CPU time per connection, both stacks (-1: failed): what
 * opening and closing costs with N others around (the reap looks at the
 * sockets that changed, not at every socket; a join's token lookup walks
 * one short chain).  A function of its own for profilers
 * (valgrind --toggle-collect=run_churn). */
static __attribute__((noinline)) double run_churn(struct mpt_sim *sim, struct host *ch,
						  struct app *ca, struct app *sa,
						  const struct mpt_endpoint *dst,
						  const struct mpt_addr *local)
{
	ca->churn = sa->churn = true;
	size_t conn0 = ca->connected, recv0 = sa->received;
	uint64_t k0 = cpu_ns();
	for (size_t i = 0; i < CHURN; i++) {
		uint64_t t = mpt_sim_now(sim);
		struct mpt_sock *cs;
		if (mpt_connect(ch->st, dst, local, t, &cs) < 0)
			return -1;
		mpt_sim_node_kick(sim, ch->node);
		(void)mpt_sim_run(sim, t + 100 * 1000, NULL, NULL);
	}
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 1 * SEC, NULL, NULL);
	double ns = (double)(cpu_ns() - k0) / CHURN;
	ca->churn = sa->churn = false;
	if (ca->connected - conn0 != CHURN || sa->received - recv0 != CHURN ||
	    sa->churn_closed != CHURN || ca->errors || sa->errors) {
		fprintf(stderr,
			"timer_bench: churn failed (connected %zu, requests %zu, closed %zu)\n",
			ca->connected - conn0, sa->received - recv0, sa->churn_closed);
		return -1;
	}
	return ns;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: timer_bench tcp|mptcp2 N [WINDOW_MS [KEEPALIVE 1|0]]\n");
		return 2;
	}
	bool mptcp = strcmp(argv[1], "mptcp2") == 0;
	if (!mptcp && strcmp(argv[1], "tcp") != 0) {
		fprintf(stderr, "timer_bench: kind is tcp or mptcp2\n");
		return 2;
	}
	long nl = atol(argv[2]);
	long win_ms = argc > 3 ? atol(argv[3]) : 2000;
	bool keepalive = argc > 4 ? atoi(argv[4]) != 0 : true;
	if (nl < 1 || nl > 100000 || win_ms < 1) {
		fprintf(stderr, "timer_bench: N in 1..100000, WINDOW_MS > 0\n");
		return 2;
	}
	size_t n = (size_t)nl, paths = mptcp ? 2 : 1;
	double clk = clock_cost_ns();
	struct mpt_sim *sim;
	if (mpt_sim_create(NULL, 1, &sim) < 0)
		return 1;
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.n_local = paths;
	for (size_t i = 0; i < paths; i++)
		addr_of(&cc.local[i], i, 1);
	cc.max_socks = (uint32_t)n + CHURN + 16; /* (no TIME-WAIT eviction in the churn) */
	cc.mptcp.enable = mptcp;
	cc.mptcp.max_subflows = (uint8_t)paths;
	cc.tcp.keepalive = keepalive; /* on: every idle connection has a timer in the heap */
	sv = cc;
	/* One server address: the client's second address opens the join. */
	sv.n_local = 1;
	addr_of(&sv.local[0], 0, 2);
	struct app ca = {.cap = n}, sa = {.cap = n + 1};
	ca.conns = calloc(n + 1, sizeof(*ca.conns));
	sa.conns = calloc(n + 1 + CHURN, sizeof(*sa.conns));
	sa.got = calloc(n + 1 + CHURN, sizeof(*sa.got));
	static struct host ch, sh;
	if (!ca.conns || !sa.conns || !sa.got ||
	    host_init(&ch, sim, "client", &cc, &ca, client_ev) < 0 ||
	    host_init(&sh, sim, "server", &sv, &sa, server_ev) < 0)
		return 1;
	struct mpt_sim_link_cfg l;
	memset(&l, 0, sizeof(l));
	l.rate_bps = 100 * UINT64_C(1000000);
	l.delay_ns = 5 * MS;
	l.queue_pkts = 100;
	struct mpt_sim_link *dirs[4];
	for (size_t i = 0; i < paths; i++)
		if (mpt_sim_connect(sim, ch.node, &cc.local[i], sh.node, &sv.local[0], &l, &l,
				    &dirs[2 * i], &dirs[2 * i + 1]) < 0)
			return 1;
	struct mpt_endpoint lep = {.port = PORT};
	if (mpt_listen(sh.st, &lep, (uint32_t)n + 1, &sa.lsock) < 0)
		return 1;

	/* N idle connections, one connect every 100 us of virtual time. */
	struct mpt_endpoint dst = {.addr = sv.local[0], .port = PORT};
	uint64_t s0 = cpu_ns();
	for (size_t i = 0; i < n; i++) {
		uint64_t now = mpt_sim_now(sim);
		int rc = mpt_connect(ch.st, &dst, &cc.local[0], now, &ca.conns[i]);
		if (rc < 0) {
			fprintf(stderr, "connect %zu: %s\n", i, mpt_strerror(rc));
			return 1;
		}
		mpt_sim_node_kick(sim, ch.node);
		(void)mpt_sim_run(sim, now + 100 * 1000, NULL, NULL);
	}
	const struct app *ab[2] = {&ca, &sa};
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 60 * SEC, all_connected, ab);
	/* Joins, delayed ACKs and the handshakes' timers settle. */
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 5 * SEC, NULL, NULL);
	double setup_ns = (double)(cpu_ns() - s0) / (double)n;

	int bad = 0;
	int want_sf = mptcp ? 2 : 1;
	if (sa.n != n)
		bad++;
	for (size_t i = 0; i < n && !bad; i++) {
		struct mpt_sock *s[2] = {ca.conns[i], sa.conns[i]};
		for (int k = 0; k < 2; k++) {
			struct mpt_sock_info si;
			if (!s[k] || mpt_sock_info(s[k], &si) < 0 ||
			    strcmp(si.state, "ESTABLISHED") != 0 ||
			    mpt_sock_mptcp_enabled(s[k]) != mptcp || subflows_of(s[k]) != want_sf) {
				fprintf(stderr, "%s connection %zu not as expected\n",
					k ? "server" : "client", i);
				bad++;
			}
		}
	}
	if (bad || ca.errors || sa.errors || sa.received != n) {
		fprintf(stderr,
			"timer_bench: setup failed (accepted %zu, requests %zu, errors %d/%d)\n",
			sa.n, sa.received, ca.errors, sa.errors);
		return 1;
	}
	size_t heap_idle[2] = {ch.st->core->heap_n, sh.st->core->heap_n};

	/* The bulk connection: warm-up second, then the measured window. */
	uint64_t now = mpt_sim_now(sim);
	if (mpt_connect(ch.st, &dst, &cc.local[0], now, &ca.bulk) < 0)
		return 1;
	ca.conns[n] = ca.bulk;
	mpt_sim_node_kick(sim, ch.node);
	(void)mpt_sim_run(sim, now + 1 * SEC, NULL, NULL);
	/* Random loss in the window (not before: every idle connection had
	 * to come up whole): recoveries, retransmission and probe timers. */
	l.loss = LOSS;
	for (size_t i = 0; i < 2 * paths; i++)
		if (mpt_sim_link_set_cfg(dirs[i], &l) < 0)
			return 1;
	/* WINDOWS windows one after the other; each figure is the median
	 * over them (a window in which another process took the CPU does not
	 * move it), on_timer's over all windows (few calls per window). */
	static double w_in[WINDOWS], w_cpu[WINDOWS], w_wall[WINDOWS], w_ndl[WINDOWS],
	    w_ctl[WINDOWS];
	double tmr_ns = 0;
	uint64_t pkts = 0, tcalls = 0, due = 0, ndl_calls = 0, b0 = sa.bulk_bytes;
	for (int w = 0; w < WINDOWS; w++) {
		memset(&ch.in, 0, sizeof(ch.in));
		memset(&sh.in, 0, sizeof(sh.in));
		memset(&ch.tmr, 0, sizeof(ch.tmr));
		memset(&sh.tmr, 0, sizeof(sh.tmr));
		size_t ts0 = g_tsamples_n;
		ch.measure = sh.measure = true;
		uint64_t c0 = cpu_ns(), m0 = mono_ns();
		(void)mpt_sim_run(sim, mpt_sim_now(sim) + (uint64_t)win_ms * MS, NULL, NULL);
		uint64_t c1 = cpu_ns(), m1 = mono_ns();
		ch.measure = sh.measure = false;
		uint64_t p = ch.in.calls + sh.in.calls, t = ch.tmr.calls + sh.tmr.calls;
		if (p == 0) {
			fprintf(stderr, "timer_bench: no packet in window %d\n", w);
			return 1;
		}
		/* Per-call intervals are read on the monotonic clock and include
		 * any time another process had the CPU; the window's CPU time
		 * over its wall time takes that share out (preemption falls on
		 * the calls in proportion to their length). */
		double share = (double)(c1 - c0) / (double)(m1 - m0);
		if (share > 1)
			share = 1;
		w_in[w] = ((double)(ch.in.ns + sh.in.ns) - clk * (double)p) * share / (double)p;
		w_cpu[w] = (double)(c1 - c0) / (double)p;
		w_wall[w] = 1 / share;
		tmr_ns += ((double)(ch.tmr.ns + sh.tmr.ns) - clk * (double)t) * share;
		for (size_t i = ts0; i < g_tsamples_n; i++)
			g_tsamples[i] = (g_tsamples[i] - clk) * share;
		pkts += p;
		tcalls += t;
		/* Same heap, same state as the window left them. */
		w_ndl[w] = (ndl_loop_ns(ch.st) + ndl_loop_ns(sh.st)) / 2;
		w_ctl[w] = control_us();
	}
	due = ch.due_sum + sh.due_sum;
	ndl_calls = ch.ndl_calls + sh.ndl_calls;
	uint64_t bytes = sa.bulk_bytes - b0;
	size_t heap_bulk[2] = {ch.st->core->heap_n, sh.st->core->heap_n};
	if (ca.errors || sa.errors || bytes == 0 || (mptcp && subflows_of(ca.bulk) != want_sf)) {
		fprintf(stderr, "timer_bench: bulk transfer failed (bytes %llu, errors %d/%d)\n",
			(unsigned long long)bytes, ca.errors, sa.errors);
		return 1;
	}
	/* Churn, after the windows: the bulk sender stops and the loss goes,
	 * so that only the churn runs. */
	ca.bulk_stop = true;
	l.loss = 0;
	for (size_t i = 0; i < 2 * paths; i++)
		if (mpt_sim_link_set_cfg(dirs[i], &l) < 0)
			return 1;
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 2 * SEC, NULL, NULL);
	sa.cap = n + 1 + CHURN;
	double churn_ns = run_churn(sim, &ch, &ca, &sa, &dst, &cc.local[0]);
	if (churn_ns < 0)
		return 1;
	size_t socks_churn[2] = {ch.st->core->nsocks, sh.st->core->nsocks};
	qsort(g_tsamples, g_tsamples_n, sizeof(g_tsamples[0]), dbl_cmp);
	double tmr_med = g_tsamples_n ? g_tsamples[g_tsamples_n / 2] : 0.0;
	uint64_t due_max = ch.due_max > sh.due_max ? ch.due_max : sh.due_max;
	printf(
	    "result kind=%s keepalive=%d n=%zu windows=%d window_ms=%ld packets=%llu "
	    "bulk_mbit=%.1f "
	    "ns_per_packet=%.1f timer_calls=%llu ns_per_timer=%.1f ns_per_timer_median=%.1f "
	    "due_per_timer=%.3f "
	    "due_max=%llu deadline_calls=%llu ns_per_deadline=%.2f heap_idle=%zu+%zu "
	    "heap_bulk=%zu+%zu window_cpu_ns_per_packet=%.1f window_wall_over_cpu=%.3f "
	    "setup_us_per_conn=%.1f churn_us_per_conn=%.1f socks_after_churn=%u+%u clock_ns=%.1f "
	    "control_us=%.1f\n",
	    argv[1], keepalive, n, WINDOWS, win_ms, (unsigned long long)pkts,
	    (double)bytes * 8 / ((double)win_ms * WINDOWS * 1e3), median(w_in),
	    (unsigned long long)tcalls, tcalls ? tmr_ns / (double)tcalls : 0.0, tmr_med,
	    tcalls ? (double)due / (double)tcalls : 0.0, (unsigned long long)due_max,
	    (unsigned long long)ndl_calls, median(w_ndl), heap_idle[0], heap_idle[1], heap_bulk[0],
	    heap_bulk[1], median(w_cpu), median(w_wall), setup_ns / 1e3, churn_ns / 1e3,
	    (unsigned)socks_churn[0], (unsigned)socks_churn[1], clk, median(w_ctl));

	mpt_stack_destroy(ch.st);
	mpt_stack_destroy(sh.st);
	mpt_sim_destroy(sim);
	free(ca.conns);
	free(sa.conns);
	free(sa.got);
	return 0;
}
