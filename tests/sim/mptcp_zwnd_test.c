/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Zero-window probing of an MPTCP connection (issue 10, "data-level
 * zero-window probes not paced").  The server application reads the first
 * 256 KiB, then stops reading for 120 s of simulated time: its receive
 * buffer fills and the connection-level window (RFC 8684 §3.3.4: relative
 * to DATA_ACK, shared by the subflows) closes.  The client must then probe
 * the window like TCP's persist timer (RFC 9293 §3.8.6.1, RFC 1122
 * §4.2.2.17: probes with exponential backoff, capped at the maximum RTO),
 * not once per data-level retransmission, reinjection or ACK, and not once
 * per subflow without bound.  A forwarding node on every path counts what
 * the client sends during the pause.  Checked: probes stay within what one
 * backoff schedule per connection allows and at least one is sent (so a
 * window opening is not missed); no ACK storm either way; after the reader
 * resumes, every byte arrives intact within a time budget; nothing leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "simpair.h"

#define MS       UINT64_C(1000000)
#define SEC      UINT64_C(1000000000)
#define PORT     7010
#define BYTES    (4u << 20)   /* what the client writes */
#define FIRST    (256u << 10) /* what the server reads before the pause */
#define PAUSE    (120 * SEC)
/* The buffers are full well before this (a 256 KiB buffer fills in tens of
 * milliseconds at these rates): what follows is probing only. */
#define SETTLE   (2 * SEC)
#define MAXPATHS 2
#define MAXLOG   64

struct world {
	struct mpt_sim *sim;
	struct mpt_simhost *c, *s;
	struct mpt_sim_node *mid;
	struct mpt_sock *lis, *cs, *ss;
	size_t npaths;
	/* client */
	uint64_t sent;
	bool shut, c_eof, c_closed, c_err;
	/* server */
	uint64_t received, bad;
	bool reading, s_eof, s_closed, s_err;
	uint64_t pause_start, pause_end, t_done;
	/* what crossed the forwarding node during the probing part of the
	 * pause, [pause_start + SETTLE, pause_end) */
	uint64_t probes[MAXPATHS]; /* client->server segments with payload */
	uint64_t probe_bytes;      /* their payload */
	uint64_t c_acks;           /* client->server segments without payload */
	uint64_t s_segs;           /* server->client segments */
	uint64_t s_zero_wnd;       /* ... of them advertising a zero window */
	uint64_t pause_payload;    /* client->server payload segments, whole pause */
	uint64_t log_t[MAXLOG];    /* probe times (relative to pause_start) */
	uint32_t log_len[MAXLOG];  /* and payload lengths */
	size_t log_path[MAXLOG], nlog;
};

/* ---- the forwarding node: counts, then passes everything on ------------- */

static void mid_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct world *w = ud;
	size_t path = ifindex / 2;
	bool to_server = (ifindex & 1) == 0; /* arrived from the client's side */
	if (w->pause_start && now >= w->pause_start && now < w->pause_end && len >= 20 &&
	    (pkt[0] >> 4) == 4 && pkt[9] == 6) {
		size_t ihl = (size_t)(pkt[0] & 0xf) * 4;
		size_t tot = (size_t)pkt[2] << 8 | pkt[3];
		if (tot <= len && ihl + 20 <= tot) {
			const uint8_t *th = pkt + ihl;
			size_t doff = (size_t)(th[12] >> 4) * 4;
			size_t pl = tot >= ihl + doff ? tot - ihl - doff : 0;
			uint16_t wnd = (uint16_t)(th[14] << 8 | th[15]);
			bool probing = now >= w->pause_start + SETTLE;
			if (to_server && pl > 0)
				w->pause_payload++;
			if (probing && to_server && pl > 0) {
				w->probes[path]++;
				w->probe_bytes += pl;
				if (w->nlog < MAXLOG) {
					w->log_t[w->nlog] = now - w->pause_start;
					w->log_len[w->nlog] = (uint32_t)pl;
					w->log_path[w->nlog++] = path;
				}
			} else if (probing && to_server) {
				w->c_acks++;
			} else if (probing) {
				w->s_segs++;
				if (wnd == 0)
					w->s_zero_wnd++;
			}
		}
	}
	(void)mpt_sim_send_if(w->sim, w->mid, ifindex ^ 1u, pkt, len);
}

static const struct mpt_sim_node_ops mid_ops = {.input = mid_input};

/* ---- applications --------------------------------------------------------- */

static void client_pump(struct world *w)
{
	uint8_t chunk[16384];
	uint64_t now = mpt_sim_now(w->sim);
	while (!w->c_closed && !w->shut && w->sent < BYTES) {
		size_t n = sizeof(chunk);
		if (n > BYTES - w->sent)
			n = (size_t)(BYTES - w->sent);
		for (size_t i = 0; i < n; i++)
			chunk[i] = simpair_pat(w->sent + i);
		long r = mpt_send(w->cs, chunk, n, now);
		if (r == MPT_ERR_AGAIN)
			return;
		if (r < 0) {
			w->c_err = true;
			return;
		}
		w->sent += (uint64_t)r;
	}
	if (!w->c_closed && !w->shut && w->sent == BYTES) {
		(void)mpt_shutdown(w->cs, now);
		w->shut = true;
	}
}

static void resume(struct mpt_sim *sim, void *arg);

static void server_drain(struct world *w)
{
	uint8_t buf[16384];
	uint64_t now = mpt_sim_now(w->sim);
	while (w->ss && !w->s_closed && !w->s_eof) {
		size_t want = sizeof(buf);
		if (!w->reading) {
			/* The first FIRST bytes, then the pause. */
			if (w->received >= FIRST)
				return;
			if (want > FIRST - w->received)
				want = (size_t)(FIRST - w->received);
		}
		long n = mpt_recv(w->ss, buf, want, now);
		if (n == MPT_ERR_AGAIN)
			return;
		if (n < 0) {
			w->s_err = true;
			return;
		}
		if (n == 0) {
			w->s_eof = true;
			w->t_done = now;
			mpt_close(w->ss, now);
			w->s_closed = true;
			w->ss = NULL;
			return;
		}
		for (long i = 0; i < n; i++)
			if (buf[i] != simpair_pat(w->received + (uint64_t)i))
				w->bad++;
		w->received += (uint64_t)n;
		if (!w->reading && w->received == FIRST && !w->pause_start) {
			w->pause_start = now;
			w->pause_end = now + PAUSE;
			assert_int_equal(mpt_sim_at(w->sim, w->pause_end, resume, w), 0);
		}
	}
}

static void resume(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct world *w = arg;
	w->reading = true;
	server_drain(w);
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct world *w = ud;
	uint64_t now = mpt_sim_now(w->sim);
	if (s == w->lis) {
		struct mpt_sock *a;
		while ((a = mpt_accept(w->lis)) != NULL) {
			assert_null(w->ss);
			w->ss = a;
			server_drain(w);
		}
		return;
	}
	if (s == w->cs && !w->c_closed) {
		if (ev & MPT_EV_ERROR)
			w->c_err = true;
		if (ev & (MPT_EV_CONNECTED | MPT_EV_WRITABLE))
			client_pump(w);
		if (ev & MPT_EV_READABLE) {
			uint8_t b[256];
			long n;
			while ((n = mpt_recv(w->cs, b, sizeof(b), now)) > 0)
				;
			if (n == 0)
				w->c_eof = true;
			else if (n != MPT_ERR_AGAIN)
				w->c_err = true;
		}
		if (w->c_err || w->c_eof) {
			mpt_close(w->cs, now);
			w->c_closed = true;
			w->cs = NULL;
		}
		return;
	}
	if (s == w->ss && w->ss && !w->s_closed) {
		if (ev & MPT_EV_ERROR)
			w->s_err = true;
		if (ev & MPT_EV_READABLE)
			server_drain(w);
	}
}

static bool finished(void *arg)
{
	struct world *w = arg;
	return (w->s_closed && w->c_closed) || w->c_err || w->s_err;
}

/* ---- the scenario ----------------------------------------------------------- */

struct variant {
	const char *name;
	size_t npaths;
	uint64_t rate_bps[MAXPATHS];
	uint64_t rtt_ns[MAXPATHS];
	const char *sched; /* NULL: the default (minrtt) */
	/* Copies of each probe the scheduler sends by design: "redundant"
	 * sends everything on every subflow (four: a full mesh over two
	 * paths). */
	unsigned copies;
};

static void run(const struct variant *v)
{
	static struct simpair p;
	simpair_init(&p, 11, "10.8", v->npaths);
	static struct world w;
	memset(&w, 0, sizeof(w));
	w.npaths = v->npaths;
	w.sim = p.sim;
	if (v->sched) {
		snprintf(p.cc.mptcp.sched, sizeof(p.cc.mptcp.sched), "%s", v->sched);
		snprintf(p.sc.mptcp.sched, sizeof(p.sc.mptcp.sched), "%s", v->sched);
	}
	struct mpt_stack_cfg *cc = &p.cc, *sc = &p.sc;
	simpair_hosts(&p, on_event, &w);
	w.c = p.c;
	w.s = p.s;
	char a[32];
	assert_int_equal(mpt_sim_add_node(w.sim, "fwd", &mid_ops, &w, &w.mid), 0);
	for (size_t i = 0; i < v->npaths; i++) {
		/* client -[shaped link]- fwd -[ideal link]- server */
		struct mpt_sim_link_cfg l = {.rate_bps = v->rate_bps[i],
					     .delay_ns = v->rtt_ns[i] / 2,
					     .queue_bytes = 200000};
		struct mpt_addr ma, mb;
		snprintf(a, sizeof(a), "10.8.%zu.253", i);
		assert_int_equal(mpt_addr_parse(&ma, a), 0);
		snprintf(a, sizeof(a), "10.8.%zu.254", i);
		assert_int_equal(mpt_addr_parse(&mb, a), 0);
		assert_int_equal(mpt_sim_connect(w.sim, mpt_simhost_node(w.c), &cc->local[i], w.mid,
						 &ma, &l, &l, NULL, NULL),
				 0);
		assert_int_equal(mpt_sim_connect(w.sim, w.mid, &mb, mpt_simhost_node(w.s),
						 &sc->local[i], NULL, NULL, NULL, NULL),
				 0);
	}
	struct mpt_endpoint le = {.port = PORT}, dst = {.addr = sc->local[0], .port = PORT};
	assert_int_equal(mpt_listen(mpt_simhost_stack(w.s), &le, 4, &w.lis), 0);
	p.lis = w.lis;
	assert_int_equal(mpt_connect(mpt_simhost_stack(w.c), &dst, NULL, 0, &w.cs), 0);
	(void)mpt_sim_run(w.sim, 600 * SEC, finished, &w);

	struct mpt_stack *cst = mpt_simhost_stack(w.c);
	uint64_t winprobe = 0, reinj = 0;
	assert_int_equal(mpt_stack_counter_by_name(cst, "TCPWinProbe", &winprobe), 0);
	assert_int_equal(mpt_stack_counter_by_name(cst, "MPTCPReinject", &reinj), 0);
	uint64_t nprobes = 0;
	for (size_t i = 0; i < v->npaths; i++)
		nprobes += w.probes[i];
	printf("[ %-8s ] pause at %.3f s; probing part of the pause: %llu payload segments "
	       "(%llu bytes;",
	       v->name, (double)w.pause_start / 1e9, (unsigned long long)nprobes,
	       (unsigned long long)w.probe_bytes);
	for (size_t i = 0; i < v->npaths; i++)
		printf(" path %zu: %llu", i, (unsigned long long)w.probes[i]);
	printf("), %llu pure ACKs c->s, %llu segments s->c (%llu zero window); whole pause %llu "
	       "payload segments; TCPWinProbe %llu, MPTCPReinject %llu B; done %.3f s after "
	       "resume, %llu/%u bytes, %llu bad\n",
	       (unsigned long long)w.c_acks, (unsigned long long)w.s_segs,
	       (unsigned long long)w.s_zero_wnd, (unsigned long long)w.pause_payload,
	       (unsigned long long)winprobe, (unsigned long long)reinj,
	       w.t_done ? (double)(w.t_done - w.pause_end) / 1e9 : -1.0,
	       (unsigned long long)w.received, BYTES, (unsigned long long)w.bad);
	if (getenv("ZWND_DEBUG"))
		for (int i = 0; i < mpt_counter_count(); i++) {
			uint64_t cv = mpt_stack_counter(cst, i),
				 sv = mpt_stack_counter(mpt_simhost_stack(w.s), i);
			if (cv || sv)
				printf("  %-32s c %llu s %llu\n", mpt_counter_name(i),
				       (unsigned long long)cv, (unsigned long long)sv);
		}
	printf("  probes (s after pause start, path, bytes):");
	for (size_t i = 0; i < w.nlog; i++)
		printf(" %.2f/%zu/%u", (double)w.log_t[i] / 1e9, w.log_path[i], w.log_len[i]);
	printf("%s\n", nprobes > w.nlog ? " ..." : "");

	assert_true(w.pause_start > 0);
	/* The window was really closed: the server said so. */
	assert_true(w.s_zero_wnd > 0);
	/*
	 * The bound.  A persist timer (src/tcp/tcp_timer.c persist_interval)
	 * first fires max(RTO, rto_min = 200 ms) after the window closed and
	 * doubles its interval after every probe, up to rto_max = 60 s
	 * (RFC 6298 §2.5 allows that maximum; RFC 1122 §4.2.2.17 asks for
	 * exponential backoff).  Probe k (k = 1, 2, ...) then leaves no
	 * sooner than 0.2 s * (2^k - 1) after the window closed: 0.2, 0.6,
	 * 1.4, 3.0, 6.2, 12.6, 25.4, 51.0, 102.2 s, then 60 s apart (162.2 s).
	 * The window closed after pause_start, so within the 120 s pause one
	 * schedule sends at most 9 probes, and at most 4 of them (0.2 .. 3.0 s)
	 * before the probing part of the pause begins (SETTLE): at most 9 in
	 * it.  The window is the connection's (RFC 8684 §3.3.4: relative to
	 * DATA_ACK, shared by the subflows), so it is probed by one schedule
	 * per connection whatever the number of subflows (here up to four: a
	 * full mesh over two paths); the data-level retransmission timer
	 * (conn.c drtx_rto: 200 ms or the largest subflow RTO, doubled per
	 * firing up to 60 s) paces the byte at DATA_ACK that a subflow's
	 * persist timer then sends, at most as often.  Probes re-sent at the
	 * data level without backoff, once per subflow, or in response to
	 * ACKs exceed it.  Plus one of slack for a probe racing the change
	 * of interval.  Times the copies a redundant scheduler sends.
	 */
	uint64_t bound = 10 * (v->copies ? v->copies : 1);
	assert_true(nprobes <= bound);
	/*
	 * And from below: the interval never exceeds 60 s, and the probing
	 * part of the pause is 118 s long, so at least one probe falls in it
	 * (a window update lost then would otherwise deadlock; RFC 9293
	 * §3.8.6.1 "the transmitting host SHOULD send the first zero-window
	 * probe when a zero window has existed for the retransmission timeout
	 * period").
	 */
	assert_true(nprobes >= 1);
	/* Probes carry one byte each (RFC 9293 §3.8.6.1: "at least one
	 * octet"); a larger segment is not a probe but data sent beyond the
	 * window. */
	assert_true(w.probe_bytes <= nprobes * 1);
	/* No ACK storm: each probe is answered once, and nothing answers a
	 * pure ACK (keep-alives are off). */
	assert_true(w.c_acks <= 2 * bound);
	assert_true(w.s_segs <= 2 * bound + 2 * w.c_acks);

	/* After the reader resumed: everything, intact, soon. */
	assert_false(w.c_err);
	assert_false(w.s_err);
	assert_true(w.s_eof);
	assert_int_equal(w.received, BYTES);
	assert_int_equal(w.bad, 0);
	/* 3.75 MiB at >= 20 Mbit/s is about 1.6 s; the window update
	 * arrives in an RTT (the reader's window update, RFC 9293 §3.8.6.2.2)
	 * or at the latest with the next probe. */
	assert_true(w.t_done - w.pause_end <= 10 * SEC);

	/* Let the close sequences end; everything must be freed. */
	simpair_finish(&p, 120 * SEC);
}

static void test_one_path(void **state)
{
	(void)state;
	static const struct variant v = {"1 path", 1, {30000000}, {20 * MS}, NULL, 1};
	run(&v);
}

static void test_two_paths(void **state)
{
	(void)state;
	static const struct variant v = {"2 paths",          2,    {30000000, 20000000},
					 {20 * MS, 40 * MS}, NULL, 1};
	run(&v);
}

/* Every scheduler: each paces the byte at DATA_ACK through the same
 * data-level timer (before the fix: rr 17, ecf 67, redundant 33 probes). */
static void test_two_paths_rr(void **state)
{
	(void)state;
	static const struct variant v = {"2p rr", 2, {30000000, 20000000}, {20 * MS, 40 * MS},
					 "rr",    1};
	run(&v);
}

static void test_two_paths_ecf(void **state)
{
	(void)state;
	static const struct variant v = {"2p ecf",           2,     {30000000, 20000000},
					 {20 * MS, 40 * MS}, "ecf", 1};
	run(&v);
}

static void test_two_paths_redundant(void **state)
{
	(void)state;
	static const struct variant v = {"2p redun",         2,           {30000000, 20000000},
					 {20 * MS, 40 * MS}, "redundant", 4};
	run(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_path),
	    cmocka_unit_test(test_two_paths),
	    cmocka_unit_test(test_two_paths_rr),
	    cmocka_unit_test(test_two_paths_ecf),
	    cmocka_unit_test(test_two_paths_redundant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
