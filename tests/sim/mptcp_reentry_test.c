/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Re-entrancy of the application callback (mpt.h "Events and
 * re-entrancy"; issue 10 bug 1).  Applications written like mpt's relays:
 * a ring buffer whose free space is computed before mpt_recv and recorded
 * after it, pumped both from on_event and from the application's own
 * "the other side drained" moments (simulator user events, i.e. outside any
 * stack callback).  If on_event ran from inside mpt_recv/mpt_send, the
 * nested pump would read into the same free space before the outer call
 * recorded its bytes: blocks skipped or repeated.  Every event also calls
 * mpt_send / mpt_recv / mpt_shutdown / mpt_close / mpt_abort / mpt_accept /
 * mpt_connect from inside the callback.  Checked: on_event is never entered
 * while the application is inside a socket call or inside on_event, every
 * byte arrives in order each way, every connection ends, nothing leaks.
 */
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
#include "testmem.h"

#define MS   UINT64_C(1000000)
#define SEC  UINT64_C(1000000000)
#define RING 65536u
#define PORT 7000

/* One direction's byte pattern: byte i of connection c. */
static uint8_t pat(uint32_t c, uint64_t i)
{
	uint64_t x = (i + 1) * UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)c << 40);
	return (uint8_t)(x >> 29);
}

enum role { R_BULK, R_CLOSE_AT_CONNECT, R_ABORT_AT_READ };

struct end {
	struct world *w;
	struct mpt_sock *s;
	uint32_t id; /* pattern id of what this end sends */
	enum role role;
	bool server;
	uint64_t to_send, sent;
	uint64_t received, bad; /* bytes consumed, bytes that differed */
	uint8_t ring[RING];     /* relay-style buffer: [head, head+fill) holds data */
	uint32_t head, fill;
	bool shut, eof, closed, errored;
	uint32_t peer_id; /* pattern id expected from the peer */
};

struct world {
	struct mpt_sim *sim;
	struct mpt_simhost *c, *s;
	struct mpt_sock *lis;
	bool in_cb, in_api;
	unsigned violations; /* on_event entered re-entrantly */
	unsigned events;
	struct end ends[8];
	size_t nends;
	struct end *srv_next[4]; /* server ends waiting for accept, in order */
	size_t nsrv, srv_taken;
	uint64_t bytes;
	bool extra_connect_done;
	struct mpt_endpoint dst;
};

/* ---- socket calls, bracketed so a re-entrant on_event is detected ------- */

static long app_recv(struct end *e, void *b, size_t n)
{
	e->w->in_api = true;
	long r = mpt_recv(e->s, b, n, mpt_sim_now(e->w->sim));
	e->w->in_api = false;
	return r;
}

static long app_send(struct end *e, const void *b, size_t n)
{
	e->w->in_api = true;
	long r = mpt_send(e->s, b, n, mpt_sim_now(e->w->sim));
	e->w->in_api = false;
	return r;
}

static void app_close(struct end *e, bool abort)
{
	if (e->closed)
		return;
	e->w->in_api = true;
	if (abort)
		mpt_abort(e->s, mpt_sim_now(e->w->sim));
	else
		mpt_close(e->s, mpt_sim_now(e->w->sim));
	e->w->in_api = false;
	e->closed = true;
	/* mpt.h: the socket belongs to the stack from here on and is freed
	 * once its close sequence ends; its memory may come back as another
	 * connection's socket (a stale pointer here once sent a later
	 * connection's events to this closed end: the i386 cross run). */
	e->s = NULL;
}

/* Relay pattern: where the free space starts is computed BEFORE mpt_recv
 * and the bytes are recorded AFTER it returns. */
static void pump_in(struct end *e)
{
	while (!e->closed && !e->eof && e->fill < RING) {
		uint32_t tail = (e->head + e->fill) % RING;
		uint32_t room = tail >= e->head && e->fill < RING ? RING - tail : e->head - tail;
		if (room > RING - e->fill)
			room = RING - e->fill;
		long n = app_recv(e, e->ring + tail, room);
		if (n == MPT_ERR_AGAIN)
			return;
		if (n < 0) {
			e->errored = true;
			return;
		}
		if (n == 0) {
			e->eof = true;
			return;
		}
		e->fill += (uint32_t)n;
	}
}

/* The slow consumer on the far side of the relay takes up to max bytes. */
static void consume(struct end *e, uint32_t max)
{
	while (max && e->fill) {
		uint8_t b = e->ring[e->head];
		if (b != pat(e->peer_id, e->received))
			e->bad++;
		e->received++;
		e->head = (e->head + 1) % RING;
		e->fill--;
		max--;
	}
}

static void pump_out(struct end *e)
{
	uint8_t chunk[3000];
	if (e->role == R_ABORT_AT_READ)
		return; /* never half-closes: the peer must see the abort */
	while (!e->closed && !e->shut && e->sent < e->to_send) {
		/* odd sizes: 1 .. 2999 bytes per write */
		size_t n = 1 + (size_t)((e->sent * 7 + 13) % 2999);
		if (n > e->to_send - e->sent)
			n = (size_t)(e->to_send - e->sent);
		for (size_t i = 0; i < n; i++)
			chunk[i] = pat(e->id, e->sent + i);
		long r = app_send(e, chunk, n);
		if (r == MPT_ERR_AGAIN)
			return;
		if (r < 0) {
			e->errored = true;
			return;
		}
		e->sent += (uint64_t)r;
	}
	if (!e->closed && !e->shut && e->sent == e->to_send) {
		e->w->in_api = true;
		(void)mpt_shutdown(e->s, mpt_sim_now(e->w->sim));
		e->w->in_api = false;
		e->shut = true;
	}
}

static void maybe_close(struct end *e)
{
	if (!e->closed && e->shut && e->eof && e->fill == 0)
		app_close(e, false);
}

static struct end *end_of(struct world *w, struct mpt_sock *s)
{
	for (size_t i = 0; i < w->nends; i++)
		if (w->ends[i].s == s)
			return &w->ends[i];
	return NULL;
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct world *w = ud;
	if (w->in_cb || w->in_api)
		w->violations++;
	w->in_cb = true;
	w->events++;
	if (s == w->lis) {
		while (w->srv_taken < w->nsrv) {
			w->in_api = true;
			struct mpt_sock *a = mpt_accept(w->lis);
			w->in_api = false;
			if (!a)
				break;
			struct end *e = w->srv_next[w->srv_taken++];
			e->s = a;
			pump_out(e);
			pump_in(e);
		}
		w->in_cb = false;
		return;
	}
	struct end *e = end_of(w, s);
	if (!e || e->closed) {
		w->in_cb = false;
		return;
	}
	if (ev & MPT_EV_ERROR)
		e->errored = true;
	if (e->role == R_CLOSE_AT_CONNECT && (ev & MPT_EV_CONNECTED)) {
		/* send a little and close from inside CONNECTED */
		pump_out(e);
		app_close(e, false);
		w->in_cb = false;
		return;
	}
	if (e->role == R_ABORT_AT_READ && (ev & MPT_EV_READABLE) && e->server) {
		pump_in(e);
		app_close(e, true);
		w->in_cb = false;
		return;
	}
	if (ev & (MPT_EV_CONNECTED | MPT_EV_WRITABLE))
		pump_out(e);
	if (ev & MPT_EV_READABLE) {
		pump_in(e);
		/* A fast consumer on the client side: relay pattern still.
		 * Events are edge-triggered (mpt.h): read until the socket
		 * says MPT_ERR_AGAIN, consuming whenever the ring is full. */
		while (!e->server && e->fill == RING && !e->closed && !e->eof) {
			consume(e, RING);
			pump_in(e);
		}
		if (!e->server)
			consume(e, RING);
		pump_in(e);
	}
	if (!w->extra_connect_done && (ev & MPT_EV_CONNECTED) && !e->server) {
		/* mpt_connect from inside an event: the close-at-connect client */
		w->extra_connect_done = true;
		struct end *x = &w->ends[w->nends];
		struct mpt_sock *ns = NULL;
		w->in_api = true;
		int rc =
		    mpt_connect(mpt_simhost_stack(w->c), &w->dst, NULL, mpt_sim_now(w->sim), &ns);
		w->in_api = false;
		if (rc == 0) {
			x->s = ns;
			w->nends++;
		}
	}
	if (e->errored || (ev & MPT_EV_CLOSED)) {
		if (!e->closed && (e->errored || e->eof))
			app_close(e, false);
	}
	maybe_close(e);
	w->in_cb = false;
}

/* The slow reader behind the server-side relay: every 2 ms it drains a
 * few KiB, then the relay pumps again from outside any callback. */
static void slow_drain(struct mpt_sim *sim, void *arg)
{
	struct world *w = arg;
	bool more = false;
	for (size_t i = 0; i < w->nends; i++) {
		struct end *e = &w->ends[i];
		if (!e->server || !e->s || e->closed)
			continue;
		consume(e, 3000 + (uint32_t)(i * 1000));
		pump_in(e);  /* top-level mpt_recv, as relays do on POLLOUT */
		pump_out(e); /* and top-level mpt_send */
		maybe_close(e);
		more = true;
	}
	for (size_t i = 0; i < w->nends; i++)
		if (!w->ends[i].closed)
			more = true;
	if (more)
		(void)mpt_sim_at(sim, mpt_sim_now(sim) + 2 * MS, slow_drain, w);
}

static bool all_closed(void *arg)
{
	struct world *w = arg;
	for (size_t i = 0; i < w->nends; i++)
		if (!w->ends[i].closed)
			return false;
	return true;
}

struct variant {
	const char *name;
	bool mptcp;
	uint8_t version;
	size_t npaths;
	double loss;
	uint64_t bytes;
};

static void run(const struct variant *v)
{
	struct mpt_test_mem tm;
	mpt_test_mem_init(&tm);
	const struct mpt_mem mem = tm.mem;
	static struct world w; /* large: rings */
	memset(&w, 0, sizeof(w));
	w.bytes = v->bytes;
	assert_int_equal(mpt_sim_create(&mem, 7, &w.sim), 0);
	struct mpt_stack_cfg cc, sc;
	mpt_stack_cfg_init(&cc);
	cc.mem = &mem;
	cc.mptcp.enable = v->mptcp;
	cc.mptcp.version = v->version;
	cc.tcp.sndbuf = cc.tcp.rcvbuf = 128 * 1024;
	sc = cc;
	char a[32];
	for (size_t i = 0; i < v->npaths; i++) {
		snprintf(a, sizeof(a), "10.9.%zu.1", i);
		assert_int_equal(mpt_addr_parse(&cc.local[i], a), 0);
		snprintf(a, sizeof(a), "10.9.%zu.2", i);
		assert_int_equal(mpt_addr_parse(&sc.local[i], a), 0);
	}
	cc.n_local = sc.n_local = v->npaths;
	assert_int_equal(mpt_simhost_create(w.sim, "c", &cc, &w.c), 0);
	assert_int_equal(mpt_simhost_create(w.sim, "s", &sc, &w.s), 0);
	mpt_simhost_set_app(w.c, on_event, &w);
	mpt_simhost_set_app(w.s, on_event, &w);
	for (size_t i = 0; i < v->npaths; i++) {
		struct mpt_sim_link_cfg l = {.rate_bps = 50000000,
					     .delay_ns = 5 * MS,
					     .queue_bytes = 200000,
					     .loss = v->loss};
		assert_int_equal(mpt_sim_connect(w.sim, mpt_simhost_node(w.c), &cc.local[i],
						 mpt_simhost_node(w.s), &sc.local[i], &l, &l, NULL,
						 NULL),
				 0);
	}
	w.dst.addr = sc.local[0];
	w.dst.port = PORT;
	struct mpt_endpoint le = {.port = PORT};
	assert_int_equal(mpt_listen(mpt_simhost_stack(w.s), &le, 16, &w.lis), 0);
	/* ends[0]/[1]: bulk both ways; [2]/[3]: server side of the two extra
	 * connections; [4]: the close-at-connect client (filled at connect);
	 * [5]: the abort-at-read client. */
	struct end *c0 = &w.ends[0], *s0 = &w.ends[1];
	*c0 = (struct end){.w = &w, .id = 1, .peer_id = 2, .to_send = v->bytes};
	*s0 = (struct end){.w = &w, .id = 2, .peer_id = 1, .to_send = v->bytes, .server = true};
	struct end *s1 = &w.ends[2], *s2 = &w.ends[3];
	*s1 = (struct end){.w = &w, .id = 4, .peer_id = 3, .to_send = 0, .server = true};
	*s2 = (struct end){
	    .w = &w, .id = 6, .peer_id = 5, .to_send = 0, .server = true, .role = R_ABORT_AT_READ};
	struct end *c2 = &w.ends[5];
	*c2 = (struct end){.w = &w, .id = 5, .peer_id = 6, .to_send = 100000};
	w.ends[4] = (struct end){
	    .w = &w, .id = 3, .peer_id = 4, .to_send = 5000, .role = R_CLOSE_AT_CONNECT};
	w.nends = 4;        /* [4] appended by the in-callback connect */
	w.srv_next[0] = s0; /* c0 */
	w.srv_next[1] = s1; /* the close-at-connect client, connected from c0's CONNECTED */
	w.srv_next[2] = s2; /* c2 */
	w.nsrv = 3;
	uint64_t now = mpt_sim_now(w.sim);
	assert_int_equal(mpt_connect(mpt_simhost_stack(w.c), &w.dst, NULL, now, &c0->s), 0);
	(void)mpt_sim_run(w.sim, now + 300 * MS, NULL, NULL);
	assert_int_equal(
	    mpt_connect(mpt_simhost_stack(w.c), &w.dst, NULL, mpt_sim_now(w.sim), &c2->s), 0);
	w.nends = 6;
	assert_int_equal(mpt_sim_at(w.sim, mpt_sim_now(w.sim) + MS, slow_drain, &w), 0);
	(void)mpt_sim_run(w.sim, mpt_sim_now(w.sim) + 600 * SEC, all_closed, &w);

	printf("[ %-28s ] events %u, violations %u; bulk c<-s %llu/%llu bad %llu, "
	       "s<-c %llu/%llu bad %llu\n",
	       v->name, w.events, w.violations, (unsigned long long)c0->received,
	       (unsigned long long)v->bytes, (unsigned long long)c0->bad,
	       (unsigned long long)s0->received, (unsigned long long)v->bytes,
	       (unsigned long long)s0->bad);
	for (size_t i = 0; i < w.nends; i++) {
		const struct end *e = &w.ends[i];
		if (!e->closed)
			printf("  end %zu (%s, role %d) not closed: sent %llu/%llu shut %d eof %d "
			       "received %llu fill %u err %d sockerr %d\n",
			       i, e->server ? "server" : "client", (int)e->role,
			       (unsigned long long)e->sent, (unsigned long long)e->to_send, e->shut,
			       e->eof, (unsigned long long)e->received, e->fill, e->errored,
			       e->s ? mpt_sock_error(e->s) : 1);
	}
	assert_int_equal(w.violations, 0);
	assert_true(all_closed(&w));
	/* bulk: every byte, in order, both ways */
	assert_int_equal(c0->received, v->bytes);
	assert_int_equal(s0->received, v->bytes);
	assert_int_equal(c0->bad, 0);
	assert_int_equal(s0->bad, 0);
	assert_false(c0->errored);
	assert_false(s0->errored);
	/* close-at-connect: the server read its 5000 bytes and end of stream */
	assert_true(w.nends == 6);
	assert_int_equal(s1->received + s1->fill, 5000);
	assert_true(s1->eof);
	assert_int_equal(s1->bad, 0);
	/* abort-at-read: the client saw the reset */
	assert_true(c2->errored);
	/* let the close sequences finish; everything must be freed */
	(void)mpt_sim_run(w.sim, mpt_sim_now(w.sim) + 120 * SEC, NULL, NULL);
	w.in_api = true;
	mpt_close(w.lis, mpt_sim_now(w.sim));
	w.in_api = false;
	(void)mpt_sim_run(w.sim, mpt_sim_now(w.sim) + 5 * SEC, NULL, NULL);
	mpt_simhost_destroy(w.c);
	mpt_simhost_destroy(w.s);
	mpt_sim_destroy(w.sim);
	assert_int_equal(tm.live, 0);
}

static void test_mptcp_v1(void **state)
{
	(void)state;
	static const struct variant v = {"MPTCP v1, 2 paths", true, 1, 2, 0.0, 3u << 20};
	run(&v);
}

static void test_mptcp_v1_loss(void **state)
{
	(void)state;
	static const struct variant v = {"MPTCP v1, 2 paths, 1 % loss", true, 1, 2, 0.01, 1u << 20};
	run(&v);
}

static void test_mptcp_v0(void **state)
{
	(void)state;
	static const struct variant v = {"MPTCP v0, 1 path", true, 0, 1, 0.0, 2u << 20};
	run(&v);
}

static void test_tcp(void **state)
{
	(void)state;
	static const struct variant v = {"plain TCP", false, 1, 1, 0.0, 2u << 20};
	run(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mptcp_v1),
	    cmocka_unit_test(test_mptcp_v1_loss),
	    cmocka_unit_test(test_mptcp_v0),
	    cmocka_unit_test(test_tcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
