/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stack: demux, listeners, RSTs for closed ports, IP-level input
 * validation with counters, socket lifetime, limits and allocation failure.
 * Two stacks are wired back to back in memory (no simulator).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt/mpt.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip.h"
#include "wire/tcp.h"

#include "testmem.h"

#define MS   UINT64_C(1000000)
#define SEC  UINT64_C(1000000000)
#define QMAX 512

/* ---- a pair of stacks wired back to back ------------------------------- */
struct pkt {
	uint8_t b[1600];
	size_t len;
	int to;
	bool dropped;
};

struct pair {
	struct mpt_test_mem mem; /* counting allocator: leaks, failure injection */
	struct mpt_stack *st[2];
	struct pkt q[QMAX];
	size_t qn;
	uint64_t now;
	uint64_t rng;
	unsigned events[2];
	struct mpt_sock *last_ev_sock[2];
	/* last packet each side emitted (for inspection) */
	uint8_t last[2][1600];
	size_t last_len[2];
	unsigned emitted[2];
	bool blackhole; /* drop everything */
};

static void prand(uint8_t *buf, size_t len, void *ud)
{
	struct pair *p = ud;
	for (size_t i = 0; i < len; i++) {
		p->rng = p->rng * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(p->rng >> 56);
	}
}

static void enqueue(struct pair *p, int from, const uint8_t *b, size_t len)
{
	memcpy(p->last[from], b, len);
	p->last_len[from] = len;
	p->emitted[from]++;
	if (p->blackhole || p->qn >= QMAX || len > sizeof(p->q[0].b))
		return;
	memcpy(p->q[p->qn].b, b, len);
	p->q[p->qn].len = len;
	p->q[p->qn].to = 1 - from;
	p->qn++;
}

static void out0(void *ud, const uint8_t *b, size_t len)
{
	enqueue(ud, 0, b, len);
}
static void out1(void *ud, const uint8_t *b, size_t len)
{
	enqueue(ud, 1, b, len);
}
static void ev0(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct pair *p = ud;
	p->events[0] |= ev;
	p->last_ev_sock[0] = s;
}
static void ev1(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct pair *p = ud;
	p->events[1] |= ev;
	p->last_ev_sock[1] = s;
}

static void pump(struct pair *p)
{
	for (int i = 0; i < 10000 && p->qn > 0; i++) {
		struct pkt k = p->q[0];
		memmove(p->q, p->q + 1, (p->qn - 1) * sizeof(p->q[0]));
		p->qn--;
		(void)mpt_stack_input(p->st[k.to], k.b, k.len, p->now);
	}
}

static void advance(struct pair *p, uint64_t dt)
{
	uint64_t end = p->now + dt;
	for (;;) {
		uint64_t d = MPT_TIME_NEVER;
		for (int i = 0; i < 2; i++)
			if (p->st[i]) {
				uint64_t t = mpt_stack_next_deadline(p->st[i]);
				d = t < d ? t : d;
			}
		if (d > end)
			break;
		p->now = d > p->now ? d : p->now;
		for (int i = 0; i < 2; i++)
			if (p->st[i])
				mpt_stack_on_timer(p->st[i], p->now);
		pump(p);
	}
	p->now = end;
}

static uint8_t g_tfo;      /* tcp.tfo_server of the stacks made next */
static uint8_t g_cookies;  /* tcp.syncookies of the stacks made next */
static bool g_transparent; /* transparent mode of the stacks made next */
static bool g_mptcp;       /* MPTCP on in the stacks made next */

static int make_stack(struct pair *p, int i, uint32_t max_socks, struct mpt_stack **out)
{
	struct mpt_stack_cfg cfg;
	mpt_stack_cfg_init(&cfg);
	cfg.mem = &p->mem.mem;
	cfg.rand = prand;
	cfg.rand_ud = p;
	cfg.output = i == 0 ? out0 : out1;
	cfg.output_ud = p;
	cfg.on_event = i == 0 ? ev0 : ev1;
	cfg.event_ud = p;
	cfg.n_local = 2;
	(void)mpt_addr_parse(&cfg.local[0], i == 0 ? "10.0.0.1" : "10.0.0.2");
	(void)mpt_addr_parse(&cfg.local[1], i == 0 ? "fd00::1" : "fd00::2");
	cfg.tcp.msl_ns = 1 * SEC;
	cfg.tcp.tfo_server = g_tfo;
	cfg.tcp.syncookies = g_cookies;
	cfg.transparent = g_transparent && i == 1; /* the "converter" side */
	cfg.mptcp.enable = g_mptcp;
	if (max_socks)
		cfg.max_socks = max_socks;
	return mpt_stack_create(&cfg, out);
}

static struct pair *pair_new(uint32_t max_socks)
{
	struct pair *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	mpt_test_mem_init(&p->mem);
	p->rng = 7;
	p->now = 5 * SEC;
	assert_int_equal(make_stack(p, 0, max_socks, &p->st[0]), 0);
	assert_int_equal(make_stack(p, 1, max_socks, &p->st[1]), 0);
	return p;
}

static void pair_free(struct pair *p)
{
	mpt_stack_destroy(p->st[0]);
	mpt_stack_destroy(p->st[1]);
	assert_int_equal(p->mem.live, 0); /* every allocation returned */
	free(p);
}

static uint64_t ctr(struct mpt_stack *st, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(mpt_stack_counter_by_name(st, name, &v), 0);
	return v;
}

static struct mpt_endpoint ep(const char *addr, uint16_t port)
{
	struct mpt_endpoint e;
	memset(&e, 0, sizeof(e));
	if (addr)
		assert_int_equal(mpt_addr_parse(&e.addr, addr), 0);
	e.port = port;
	return e;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_connect_echo_close(void **state)
{
	(void)state;
	const char *addrs[] = {"10.0.0.2", "fd00::2"};
	for (int fam = 0; fam < 2; fam++) {
		struct pair *p = pair_new(0);
		long base = p->mem.live;
		struct mpt_sock *l, *c;
		struct mpt_endpoint any = ep(NULL, 80), dst = ep(addrs[fam], 80);
		assert_int_equal(mpt_listen(p->st[1], &any, 8, &l), 0);
		assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c), 0);
		pump(p);
		assert_true(p->events[0] & MPT_EV_CONNECTED);
		assert_true(p->events[1] & MPT_EV_ACCEPTABLE);
		struct mpt_sock *s = mpt_accept(l);
		assert_non_null(s);
		assert_null(mpt_accept(l));
		struct mpt_endpoint le, re;
		mpt_sock_endpoints(s, &le, &re);
		assert_int_equal(le.port, 80);
		assert_true(re.port >= 49152);

		char msg[3000];
		for (size_t i = 0; i < sizeof(msg); i++)
			msg[i] = (char)(i * 7);
		assert_int_equal(mpt_send(c, msg, sizeof(msg), p->now), (long)sizeof(msg));
		pump(p);
		advance(p, 100 * MS);
		char got[4000];
		long n = 0, r;
		while ((r = mpt_recv(s, got + n, sizeof(got) - (size_t)n, p->now)) > 0)
			n += r;
		assert_int_equal(n, (long)sizeof(msg));
		assert_memory_equal(got, msg, sizeof(msg));
		assert_int_equal(mpt_send(s, "pong", 4, p->now), 4);
		pump(p);
		assert_int_equal(mpt_recv(c, got, sizeof(got), p->now), 4);
		assert_memory_equal(got, "pong", 4);

		/* Close both ends; after TIME-WAIT everything is released. */
		mpt_close(c, p->now);
		pump(p);
		assert_int_equal(mpt_recv(s, got, sizeof(got), p->now), 0); /* EOF */
		mpt_close(s, p->now);
		pump(p);
		mpt_close(l, p->now);
		advance(p, 10 * SEC);
		assert_int_equal(p->mem.live, base);
		assert_int_equal(ctr(p->st[0], "TcpActiveOpens"), 1);
		assert_int_equal(ctr(p->st[1], "TcpPassiveOpens"), 1);
		pair_free(p);
	}
}

/* mpt_conn_opts.local_port (iperf3's --cport): the connection uses that
 * port; the same 4-tuple again is refused (MPT_ERR_EXIST), never replaced. */
static void test_connect_local_port(void **state)
{
	(void)state;
	struct pair *p = pair_new(0);
	long base = p->mem.live;
	struct mpt_sock *l, *c, *c2 = NULL, *s;
	struct mpt_endpoint any = ep(NULL, 80), dst = ep("10.0.0.2", 80);
	assert_int_equal(mpt_listen(p->st[1], &any, 8, &l), 0);
	struct mpt_conn_opts o;
	mpt_conn_opts_init(p->st[0], &o);
	o.local_port = 40001;
	assert_int_equal(mpt_connect_ex(p->st[0], &dst, NULL, &o, p->now, &c), 0);
	assert_int_equal(mpt_connect_ex(p->st[0], &dst, NULL, &o, p->now, &c2), MPT_ERR_EXIST);
	assert_null(c2);
	pump(p);
	s = mpt_accept(l);
	assert_non_null(s);
	struct mpt_endpoint le, re;
	mpt_sock_endpoints(s, &le, &re);
	assert_int_equal(re.port, 40001);
	mpt_close(c, p->now);
	mpt_close(s, p->now);
	pump(p);
	mpt_close(l, p->now);
	advance(p, 10 * SEC);
	assert_int_equal(p->mem.live, base);
	pair_free(p);
}

/* Transparent mode: the stack answers for any destination address, and a
 * port-0 listener takes every port (an on-path converter). */
static void test_transparent(void **state)
{
	(void)state;
	g_transparent = true;
	struct pair *p = pair_new(0);
	g_transparent = false;
	struct mpt_sock *l, *l80, *c, *c2;
	struct mpt_endpoint any = ep(NULL, 0), p80 = ep(NULL, 80);
	assert_int_equal(mpt_listen(p->st[1], &any, 8, &l), 0);
	assert_int_equal(mpt_listen(p->st[1], &p80, 8, &l80), 0);
	/* a port-0 listener is only for transparent stacks */
	struct mpt_sock *x;
	assert_int_equal(mpt_listen(p->st[0], &any, 8, &x), MPT_ERR_INVAL);
	struct mpt_endpoint dst = ep("192.0.2.77", 443), dst80 = ep("198.51.100.1", 80);
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c), 0);
	assert_int_equal(mpt_connect(p->st[0], &dst80, NULL, p->now, &c2), 0);
	pump(p);
	struct mpt_sock *s = mpt_accept(l);
	assert_non_null(s);
	assert_null(mpt_accept(l));
	struct mpt_endpoint le, re;
	mpt_sock_endpoints(s, &le, &re);
	/* the accepted connection is "from" the address the client dialled */
	assert_true(mpt_addr_equal(&le.addr, &dst.addr));
	assert_int_equal(le.port, 443);
	/* the more specific listener wins for its port */
	struct mpt_sock *s80 = mpt_accept(l80);
	assert_non_null(s80);
	mpt_sock_endpoints(s80, &le, &re);
	assert_true(mpt_addr_equal(&le.addr, &dst80.addr));
	assert_int_equal(mpt_send(c, "hello", 5, p->now), 5);
	pump(p);
	char got[16];
	assert_int_equal(mpt_recv(s, got, sizeof(got), p->now), 5);
	assert_memory_equal(got, "hello", 5);
	assert_int_equal(ctr(p->st[1], "InAddrErrors"), 0);
	mpt_abort(c, p->now);
	mpt_abort(c2, p->now);
	pump(p);
	pair_free(p);
}

static void test_closed_port_rst(void **state)
{
	(void)state;
	struct pair *p = pair_new(0);
	struct mpt_sock *c;
	struct mpt_endpoint dst = ep("10.0.0.2", 81);
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c), 0);
	pump(p);
	assert_int_equal(ctr(p->st[1], "TcpNoPort"), 1);
	assert_int_equal(ctr(p->st[1], "TcpOutRsts"), 1);
	assert_true(p->events[0] & MPT_EV_ERROR);
	assert_int_equal(mpt_sock_error(c), MPT_ERR_REFUSED);
	char b[4];
	assert_int_equal(mpt_recv(c, b, sizeof(b), p->now), MPT_ERR_REFUSED);
	assert_int_equal(mpt_send(c, b, sizeof(b), p->now), MPT_ERR_REFUSED);
	/* A RST to a closed port is never answered. */
	uint64_t rsts = ctr(p->st[0], "TcpOutRsts");
	mpt_close(c, p->now);
	pump(p);
	assert_int_equal(ctr(p->st[0], "TcpOutRsts"), rsts);
	pair_free(p);
}

/* Build an IPv4/TCP packet from 10.0.0.1:sport to 10.0.0.2:port. */
static uint32_t g_seq = 1000, g_ack; /* sequence and ACK numbers of built packets */

static size_t build_pkt_from(uint8_t *pkt, uint16_t sport, uint16_t port, uint16_t flags,
			     const uint8_t *opt, size_t optlen, size_t paylen)
{
	struct mpt_tcp_hdr th;
	memset(&th, 0, sizeof(th));
	th.sport = sport;
	th.dport = port;
	th.seq = g_seq;
	th.ack = g_ack;
	th.flags = flags;
	th.window = 1000;
	int hl = mpt_tcp_hdr_emit(pkt + 20, 1500, &th, opt, optlen);
	assert_true(hl >= 20);
	memset(pkt + 20 + hl, 'd', paylen);
	struct mpt_ip_hdr ih;
	memset(&ih, 0, sizeof(ih));
	(void)mpt_addr_parse(&ih.src, "10.0.0.1");
	(void)mpt_addr_parse(&ih.dst, "10.0.0.2");
	ih.proto = MPT_IPPROTO_TCP;
	ih.ttl = 64;
	ih.payload_len = (size_t)hl + paylen;
	mpt_tcp_csum_fill(pkt + 20, (size_t)hl + paylen, &ih.src, &ih.dst);
	assert_int_equal(mpt_ip_emit(pkt, 20, &ih), 20);
	return 20 + (size_t)hl + paylen;
}

static size_t build_pkt(uint8_t *pkt, uint16_t port, uint16_t flags, const uint8_t *opt,
			size_t optlen, size_t paylen)
{
	return build_pkt_from(pkt, 1234, port, flags, opt, optlen, paylen);
}

static void test_bad_input_counted(void **state)
{
	(void)state;
	struct pair *p = pair_new(0);
	struct mpt_stack *st = p->st[1];
	uint8_t pkt[1600];
	size_t n = build_pkt(pkt, 80, MPT_TCP_ACK, NULL, 0, 10);

	/* Truncated IP header. */
	assert_true(mpt_stack_input(st, pkt, 10, p->now) < 0);
	assert_int_equal(ctr(st, "InTruncatedPkts"), 1);
	/* IPv4 header checksum. */
	uint8_t bad[1600];
	memcpy(bad, pkt, n);
	bad[10] ^= 1;
	assert_int_equal(mpt_stack_input(st, bad, n, p->now), MPT_ERR_CHECKSUM);
	assert_int_equal(ctr(st, "InCsumErrors"), 1);
	/* Fragment (MF set; header checksum fixed). */
	memcpy(bad, pkt, n);
	bad[6] = 0x20;
	bad[10] = bad[11] = 0;
	uint16_t cs = mpt_csum_fold(mpt_csum_add(0, bad, 20));
	mpt_put16(bad + 10, cs);
	assert_int_equal(mpt_stack_input(st, bad, n, p->now), MPT_ERR_FRAGMENT);
	assert_int_equal(ctr(st, "ReasmFails"), 1);
	/* Not TCP (UDP). */
	memcpy(bad, pkt, n);
	bad[9] = 17;
	bad[10] = bad[11] = 0;
	mpt_put16(bad + 10, mpt_csum_fold(mpt_csum_add(0, bad, 20)));
	assert_int_equal(mpt_stack_input(st, bad, n, p->now), MPT_ERR_UNSUPPORTED);
	assert_int_equal(ctr(st, "InUnknownProtos"), 1);
	/* Not our address. */
	memcpy(bad, pkt, n);
	bad[19] = 99;
	bad[10] = bad[11] = 0;
	mpt_put16(bad + 10, mpt_csum_fold(mpt_csum_add(0, bad, 20)));
	assert_int_equal(mpt_stack_input(st, bad, n, p->now), MPT_ERR_NOTFOUND);
	assert_int_equal(ctr(st, "InAddrErrors"), 1);
	/* TCP checksum. */
	memcpy(bad, pkt, n);
	bad[n - 1] ^= 0x55;
	assert_int_equal(mpt_stack_input(st, bad, n, p->now), MPT_ERR_CHECKSUM);
	assert_int_equal(ctr(st, "TcpInCsumErrors"), 1);
	/* Bad option length (MSS with length 3). */
	static const uint8_t opt[4] = {2, 3, 0, 1};
	n = build_pkt(bad, 80, MPT_TCP_SYN, opt, 4, 0);
	assert_int_equal(mpt_stack_input(st, bad, n, p->now), MPT_ERR_BADLEN);
	assert_int_equal(ctr(st, "TcpBadOptions"), 1);
	/* TCP data offset beyond the segment. */
	n = build_pkt(bad, 80, MPT_TCP_ACK, NULL, 0, 0);
	bad[32] = 0xf0;
	mpt_tcp_csum_fill(bad + 20, n - 20, &(struct mpt_addr){.family = 4, .bytes = {10, 0, 0, 1}},
			  &(struct mpt_addr){.family = 4, .bytes = {10, 0, 0, 2}});
	assert_true(mpt_stack_input(st, bad, n, p->now) < 0);
	assert_int_equal(ctr(st, "TcpInErrs"), 1);
	/* None of that produced a packet. */
	assert_int_equal(p->emitted[1], 0);

	/* Random garbage: never a crash; every packet counted as received. */
	uint64_t before = ctr(st, "InReceives");
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(p->rng % 200);
		prand(bad, len, p);
		if (i & 1) /* keep a plausible header half the time */
			memcpy(bad, pkt, len < 20 ? len : 20);
		(void)mpt_stack_input(st, bad, len, p->now);
	}
	assert_int_equal(ctr(st, "InReceives") - before, 20000);
	pair_free(p);
}

static void test_listen_errors_and_backlog(void **state)
{
	(void)state;
	struct pair *p = pair_new(0);
	struct mpt_sock *l, *l2, *c1, *c2, *c3;
	struct mpt_endpoint any = ep(NULL, 80), spec = ep("10.0.0.2", 80);
	struct mpt_endpoint notmine = ep("10.9.9.9", 80), zero = ep(NULL, 0);
	assert_int_equal(mpt_listen(p->st[1], &zero, 1, &l), MPT_ERR_INVAL);
	assert_int_equal(mpt_listen(p->st[1], &notmine, 1, &l), MPT_ERR_INVAL);
	assert_int_equal(mpt_listen(p->st[1], &any, 0, &l), MPT_ERR_INVAL);
	assert_int_equal(mpt_listen(p->st[1], &any, 1, &l), 0);
	assert_int_equal(mpt_listen(p->st[1], &spec, 1, &l2), MPT_ERR_EXIST);
	struct mpt_endpoint dst = ep("10.0.0.2", 80);
	struct mpt_endpoint bad = ep("10.0.0.2", 0);
	assert_int_equal(mpt_connect(p->st[0], &bad, NULL, p->now, &c1), MPT_ERR_INVAL);
	struct mpt_addr other;
	(void)mpt_addr_parse(&other, "10.7.7.7");
	assert_int_equal(mpt_connect(p->st[0], &dst, &other, p->now, &c1), MPT_ERR_INVAL);

	/* Backlog 1: the second SYN finds the half-open table full and gets
	 * a SYN cookie; both connect at once. */
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c1), 0);
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c2), 0);
	pump(p);
	assert_int_equal(ctr(p->st[1], "TCPListenOverflows"), 0);
	assert_int_equal(ctr(p->st[1], "SyncookiesSent"), 1);
	assert_int_equal(ctr(p->st[1], "SyncookiesRecv"), 1);
	assert_true(mpt_sock_events(l) & MPT_EV_ACCEPTABLE);
	assert_non_null(mpt_accept(l));
	assert_non_null(mpt_accept(l));
	/* A third while the accept queue is full (one waiting): dropped and
	 * counted; retransmitted once the application accepted. */
	struct mpt_sock *c4, *c5;
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c4), 0);
	pump(p);
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c5), 0);
	pump(p);
	assert_int_equal(ctr(p->st[1], "TCPListenOverflows"), 1);
	assert_non_null(mpt_accept(l));
	advance(p, 2 * SEC);
	assert_non_null(mpt_accept(l));

	/* Closing a listener aborts connections nobody accepted. */
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c3), 0);
	pump(p);
	mpt_close(l, p->now);
	pump(p);
	assert_int_equal(mpt_sock_error(c3), MPT_ERR_RESET);
	pair_free(p);
}

/*
 * Listeners are kept in a list of their own (issue 13): a SYN finds the
 * right one among several; one closed leaves the list (its port refuses
 * again) and the port can be listened on anew.  Accepting asks for no
 * reaping: a connection the peer reset while it was queued went at once
 * (nothing to accept), one the peer finished while queued is accepted
 * and released when the application closes it.
 */
static void test_listener_list(void **state)
{
	(void)state;
	struct pair *p = pair_new(0);
	long base = p->mem.live;
	struct mpt_sock *l80, *l81, *l82, *c, *s;
	struct mpt_endpoint s80 = ep("10.0.0.2", 80), w81 = ep(NULL, 81), w82 = ep(NULL, 82);
	assert_int_equal(mpt_listen(p->st[1], &s80, 8, &l80), 0);
	assert_int_equal(mpt_listen(p->st[1], &w81, 8, &l81), 0);
	assert_int_equal(mpt_listen(p->st[1], &w82, 8, &l82), 0);
	assert_int_equal(mpt_listen(p->st[1], &w81, 8, &s), MPT_ERR_EXIST);
	struct mpt_sock *ls[3] = {l80, l81, l82};
	struct mpt_sock *cs[3], *ss[3];
	for (int i = 0; i < 3; i++) {
		struct mpt_endpoint dst = ep("10.0.0.2", (uint16_t)(80 + i));
		assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &cs[i]), 0);
		pump(p);
		for (int k = 0; k < 3; k++)
			if (k != i)
				assert_null(mpt_accept(ls[k]));
		ss[i] = mpt_accept(ls[i]);
		assert_non_null(ss[i]);
	}
	/* The address-bound listener does not take the other family. */
	struct mpt_endpoint v6 = ep("fd00::2", 80);
	assert_int_equal(mpt_connect(p->st[0], &v6, NULL, p->now, &c), 0);
	pump(p);
	assert_int_equal(mpt_sock_error(c), MPT_ERR_REFUSED);
	mpt_close(c, p->now);

	/* The one in the middle of the list goes; its port refuses. */
	mpt_close(l81, p->now);
	pump(p);
	struct mpt_endpoint d81 = ep("10.0.0.2", 81);
	assert_int_equal(mpt_connect(p->st[0], &d81, NULL, p->now, &c), 0);
	pump(p);
	assert_int_equal(mpt_sock_error(c), MPT_ERR_REFUSED);
	mpt_close(c, p->now);
	assert_int_equal(mpt_listen(p->st[1], &w81, 8, &l81), 0);
	assert_int_equal(mpt_connect(p->st[0], &d81, NULL, p->now, &c), 0);
	pump(p);
	s = mpt_accept(l81);
	assert_non_null(s);
	mpt_close(c, p->now);
	mpt_close(s, p->now);

	/* Reset while queued: gone before the application looked. */
	struct mpt_endpoint d82 = ep("10.0.0.2", 82);
	assert_int_equal(mpt_connect(p->st[0], &d82, NULL, p->now, &c), 0);
	pump(p);
	mpt_abort(c, p->now);
	pump(p);
	assert_null(mpt_accept(l82));
	/* Finished by the peer while queued: accepted, end of stream, and
	 * released once closed. */
	assert_int_equal(mpt_connect(p->st[0], &d82, NULL, p->now, &c), 0);
	pump(p);
	mpt_close(c, p->now);
	pump(p);
	s = mpt_accept(l82);
	assert_non_null(s);
	char b[4];
	assert_int_equal(mpt_recv(s, b, sizeof(b), p->now), 0);
	mpt_close(s, p->now);
	pump(p);

	for (int i = 0; i < 3; i++) {
		mpt_close(cs[i], p->now);
		mpt_close(ss[i], p->now);
	}
	mpt_close(l80, p->now);
	mpt_close(l81, p->now);
	mpt_close(l82, p->now);
	advance(p, 10 * SEC);
	assert_int_equal(p->mem.live, base);
	pair_free(p);
}

/* SYN cookies off: a SYN beyond the half-open table is dropped (counted)
 * and its retransmission gets in once there is room. */
static void test_backlog_no_cookies(void **state)
{
	(void)state;
	g_cookies = MPT_SYNCOOKIES_OFF;
	struct pair *p = pair_new(0);
	g_cookies = MPT_SYNCOOKIES_AUTO;
	struct mpt_sock *l, *c1, *c2;
	struct mpt_endpoint any = ep(NULL, 80), dst = ep("10.0.0.2", 80);
	assert_int_equal(mpt_listen(p->st[1], &any, 1, &l), 0);
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c1), 0);
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c2), 0);
	pump(p);
	assert_int_equal(ctr(p->st[1], "TCPReqQFullDrop"), 1);
	assert_int_equal(ctr(p->st[1], "SyncookiesSent"), 0);
	assert_non_null(mpt_accept(l));
	advance(p, 2 * SEC);
	assert_non_null(mpt_accept(l));
	pair_free(p);
}

static void test_socket_limit(void **state)
{
	(void)state;
	struct pair *p = pair_new(3);
	struct mpt_sock *c[4];
	struct mpt_endpoint dst = ep("10.0.0.2", 80);
	p->blackhole = true;
	for (int i = 0; i < 3; i++)
		assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c[i]), 0);
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c[3]), MPT_ERR_LIMIT);
	mpt_abort(c[0], p->now);
	assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c[3]), 0);
	pair_free(p);
}

/* One connection from side 0, a byte each way, side 0 closes first: its
 * end waits in TIME-WAIT (2 MSL = 2 s here), side 1's is gone. */
static struct mpt_sock *open_exchange_close(struct pair *p, struct mpt_sock *l, int *rc,
					    bool server_first)
{
	struct mpt_endpoint dst = ep("10.0.0.2", 80);
	struct mpt_sock *c = NULL;
	*rc = mpt_connect(p->st[0], &dst, NULL, p->now, &c);
	if (*rc < 0)
		return NULL;
	pump(p);
	struct mpt_sock *s = mpt_accept(l);
	assert_non_null(s);
	char b = 0;
	assert_int_equal(mpt_send(c, "x", 1, p->now), 1);
	pump(p);
	assert_int_equal(mpt_recv(s, &b, 1, p->now), 1);
	assert_int_equal(mpt_send(s, "y", 1, p->now), 1);
	pump(p);
	assert_int_equal(mpt_recv(c, &b, 1, p->now), 1);
	struct mpt_sock *first = server_first ? s : c, *second = server_first ? c : s;
	mpt_close(first, p->now);
	pump(p);
	advance(p, 50 * MS); /* (MPTCP: the DATA_FIN and FIN exchanges) */
	mpt_close(second, p->now);
	pump(p);
	advance(p, 50 * MS);
	return c;
}

/* The socket table full of connections in TIME-WAIT: a new one ends the
 * oldest early (TCPTimeWaitOverflow) instead of being refused; one whose
 * application still holds it, or that still runs, is never cut short. */
static void test_time_wait_overflow(void **state)
{
	(void)state;
	for (int mp = 0; mp < 2; mp++) {
		g_mptcp = mp == 1;
		struct pair *p = pair_new(0);
		/* Side 0 small, side 1 (listener) the default. */
		mpt_stack_destroy(p->st[0]);
		assert_int_equal(make_stack(p, 0, 3, &p->st[0]), 0);
		struct mpt_sock *l;
		struct mpt_endpoint any = ep(NULL, 80);
		assert_int_equal(mpt_listen(p->st[1], &any, 8, &l), 0);
		int rc;
		for (int i = 0; i < 3; i++) {
			assert_non_null(open_exchange_close(p, l, &rc, false));
			assert_int_equal(rc, 0);
		}
		assert_int_equal(ctr(p->st[0], "TCPTimeWaitOverflow"), 0);
		/* Full of TIME-WAIT: each new connection takes the oldest's slot,
		 * and the evicted one is freed (memory in use stays level). */
		long live = 0;
		for (int i = 0; i < 4; i++) {
			assert_non_null(open_exchange_close(p, l, &rc, false));
			assert_int_equal(rc, 0);
			assert_int_equal(ctr(p->st[0], "TCPTimeWaitOverflow"), (uint64_t)i + 1);
			if (i == 0)
				live = p->mem.live;
			assert_int_equal(p->mem.live, live);
		}
		/* (MPTCP: joins too, every subflow waiting in TIME-WAIT.) */
		assert_int_equal(ctr(p->st[0], mp ? "MPCapableSYNTX" : "TcpActiveOpens"), 7);
		/* Three open connections the application holds: never evicted. */
		advance(p, 5 * SEC); /* TIME-WAIT over: the table is empty */
		struct mpt_endpoint dst = ep("10.0.0.2", 80);
		struct mpt_sock *c[4];
		for (int i = 0; i < 3; i++) {
			assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c[i]), 0);
			pump(p);
			assert_non_null(mpt_accept(l));
		}
		assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c[3]), MPT_ERR_LIMIT);
		/* Closed by the application but still running (the peer has
		 * not closed its side): not evictable either. */
		mpt_close(c[0], p->now);
		pump(p);
		/* (MPTCP: a connection closed by its application ends its
		 * subflows once its DATA_FIN is acknowledged, so c[0] is in
		 * TIME-WAIT by now and may go.) */
		rc = mpt_connect(p->st[0], &dst, NULL, p->now, &c[3]);
		assert_int_equal(rc, mp ? 0 : MPT_ERR_LIMIT);
		assert_int_equal(ctr(p->st[0], "TCPTimeWaitOverflow"), mp ? 5 : 4);
		mpt_abort(c[1], p->now);
		mpt_abort(c[2], p->now);
		if (mp)
			mpt_abort(c[3], p->now);
		mpt_close(l, p->now);
		pump(p);
		advance(p, 200 * SEC);
		pair_free(p); /* nothing leaked: evicted sockets were freed */

		/* The server closes first: its table (the listener and two
		 * connections) fills with TIME-WAIT, and a SYN evicts. */
		p = pair_new(0);
		mpt_stack_destroy(p->st[1]);
		assert_int_equal(make_stack(p, 1, 3, &p->st[1]), 0);
		assert_int_equal(mpt_listen(p->st[1], &any, 8, &l), 0);
		for (int i = 0; i < 5; i++) {
			assert_non_null(open_exchange_close(p, l, &rc, true));
			assert_int_equal(ctr(p->st[1], "TCPTimeWaitOverflow"),
					 i < 2 ? 0 : (uint64_t)i - 1);
		}
		assert_int_equal(ctr(p->st[1], "TCPReqQFullDrop"), 0);
		mpt_close(l, p->now);
		advance(p, 200 * SEC);
		pair_free(p);
	}
	g_mptcp = false;
}

/* Every socket and flow of a finished connection is freed once TIME-WAIT
 * is over, whoever closed first, plain or MPTCP (the reap looks only at
 * the sockets a change was reported for: one it missed would stay). */
static void test_finished_connections_freed(void **state)
{
	(void)state;
	for (int mp = 0; mp < 2; mp++) {
		g_mptcp = mp == 1;
		struct pair *p = pair_new(0);
		struct mpt_sock *l;
		struct mpt_endpoint any = ep(NULL, 80);
		assert_int_equal(mpt_listen(p->st[1], &any, 8, &l), 0);
		long base = p->mem.live;
		int rc;
		for (int k = 0; k < 4; k++) {
			struct mpt_sock *c = open_exchange_close(p, l, &rc, k % 2 == 1);
			assert_non_null(c);
			advance(p, 5 * SEC); /* 2 MSL = 2 s */
			assert_int_equal(p->mem.live, base);
		}
		/* Aborted by the client, and by the server. */
		for (int k = 0; k < 2; k++) {
			struct mpt_sock *c, *sv;
			struct mpt_endpoint dst = ep("10.0.0.2", 80);
			assert_int_equal(mpt_connect(p->st[0], &dst, NULL, p->now, &c), 0);
			pump(p);
			sv = mpt_accept(l);
			assert_non_null(sv);
			mpt_abort(k ? sv : c, p->now);
			pump(p);
			mpt_close(k ? c : sv, p->now);
			pump(p);
			advance(p, 5 * SEC);
			assert_int_equal(p->mem.live, base);
		}
		mpt_close(l, p->now);
		advance(p, 1 * SEC);
		pair_free(p);
	}
	g_mptcp = false;
}

static void test_alloc_failure(void **state)
{
	(void)state;
	/* Fail the k-th allocation for every k: clean errors, no leaks. */
	for (long k = 0; k < 12; k++) {
		struct pair *p = calloc(1, sizeof(*p));
		assert_non_null(p);
		mpt_test_mem_init(&p->mem);
		p->mem.fail_from = k;
		p->rng = 1;
		struct mpt_stack *st = NULL;
		int rc = make_stack(p, 0, 0, &st);
		if (rc == 0) {
			struct mpt_sock *c;
			struct mpt_endpoint dst = ep("10.0.0.2", 80);
			rc = mpt_connect(st, &dst, NULL, p->now, &c);
			assert_true(rc == 0 || rc == MPT_ERR_NOMEM);
			mpt_stack_destroy(st);
		} else {
			assert_int_equal(rc, MPT_ERR_NOMEM);
		}
		assert_int_equal(p->mem.live, 0);
		free(p);
	}
}

static void test_counters_api(void **state)
{
	(void)state;
	struct pair *p = pair_new(0);
	uint64_t v;
	assert_int_equal(mpt_stack_counter_by_name(p->st[0], "NoSuchCounter", &v),
			 MPT_ERR_NOTFOUND);
	assert_true(mpt_counter_count() > 40);
	assert_null(mpt_counter_name(-1));
	assert_int_equal(mpt_stack_counter(p->st[0], 100000), 0);
	struct mpt_stack_cfg cfg;
	mpt_stack_cfg_init(&cfg);
	struct mpt_stack *st;
	assert_int_equal(mpt_stack_create(&cfg, &st), MPT_ERR_INVAL); /* no output/rand */
	cfg.output = out0;
	cfg.rand = prand;
	cfg.rand_ud = p;
	snprintf(cfg.tcp.cc, sizeof(cfg.tcp.cc), "nosuchcc");
	assert_int_equal(mpt_stack_create(&cfg, &st), MPT_ERR_INVAL);
	pair_free(p);
}

/* ---- TCP Fast Open, server side (RFC 7413) ------------------------------- */

struct synack {
	uint32_t seq, ack;
	bool has_tfo;
	uint8_t tfo_len;
	uint8_t cookie[16];
};

/* Send a SYN with `paylen` data bytes (and a TFO option with `cookie` of
 * `clen` bytes when tfo) from sport to st[1]:80; parse the SYN-ACK. */
static struct synack tfo_syn(struct pair *p, uint16_t sport, bool tfo, const uint8_t *cookie,
			     uint8_t clen, size_t paylen)
{
	uint8_t opt[20] = {0};
	size_t olen = 0;
	if (tfo) {
		opt[0] = 34;
		opt[1] = (uint8_t)(2 + clen);
		if (clen)
			memcpy(opt + 2, cookie, clen);
		olen = (size_t)(2 + clen + 3) & ~(size_t)3; /* NOP-free: zero padding is EOL */
	}
	uint8_t pkt[1600];
	size_t n = build_pkt_from(pkt, sport, 80, MPT_TCP_SYN, opt, olen, paylen);
	unsigned before = p->emitted[1];
	assert_int_equal(mpt_stack_input(p->st[1], pkt, n, p->now), 0);
	assert_int_equal(p->emitted[1], before + 1);
	p->qn = 0; /* the SYN-ACK is only inspected */
	struct synack r;
	memset(&r, 0, sizeof(r));
	struct mpt_ip_hdr ih;
	assert_int_equal(mpt_ip_parse(&ih, p->last[1], p->last_len[1], true), 0);
	const uint8_t *seg = p->last[1] + 20;
	struct mpt_tcp_hdr th;
	assert_int_equal(mpt_tcp_hdr_parse(&th, seg, p->last_len[1] - 20), 0);
	assert_int_equal(th.flags & (MPT_TCP_SYN | MPT_TCP_ACK), MPT_TCP_SYN | MPT_TCP_ACK);
	struct mpt_tcp_opts o;
	assert_int_equal(mpt_tcp_opts_parse(&o, th.opt, th.opt_len), 0);
	r.seq = th.seq;
	r.ack = th.ack;
	r.has_tfo = (o.present & MPT_TCPOPT_F_TFO) != 0;
	r.tfo_len = o.tfo_len;
	memcpy(r.cookie, o.tfo_cookie, sizeof(r.cookie));
	return r;
}

static void test_tfo_server(void **state)
{
	(void)state;
	/* Cookies required. */
	g_tfo = MPT_TFO_COOKIE;
	struct pair *p = pair_new(0);
	g_tfo = MPT_TFO_OFF;
	struct mpt_sock *l;
	struct mpt_endpoint le = ep(NULL, 80);
	assert_int_equal(mpt_listen(p->st[1], &le, 8, &l), 0);
	/* A cookie request with data: the data is not taken, a cookie comes back. */
	struct synack a = tfo_syn(p, 2000, true, NULL, 0, 10);
	assert_int_equal(a.ack, 1001);
	assert_true(a.has_tfo);
	assert_int_equal(a.tfo_len, 8);
	assert_int_equal(ctr(p->st[1], "TCPFastOpenCookieReqd"), 1);
	assert_null(mpt_accept(l));
	/* A wrong cookie: same. */
	uint8_t wrong[8];
	memcpy(wrong, a.cookie, 8);
	wrong[0] ^= 1;
	struct synack b = tfo_syn(p, 2001, true, wrong, 8, 10);
	assert_int_equal(b.ack, 1001);
	assert_true(b.has_tfo);
	assert_memory_equal(b.cookie, a.cookie, 8);
	/* The right cookie: the 10 bytes are acknowledged by the SYN-ACK and
	 * the connection can be accepted and read at once (0-RTT). */
	struct synack c = tfo_syn(p, 2002, true, a.cookie, 8, 10);
	assert_int_equal(c.ack, 1011);
	assert_false(c.has_tfo);
	assert_int_equal(ctr(p->st[1], "TCPFastOpenPassive"), 1);
	struct mpt_sock *s = mpt_accept(l);
	assert_non_null(s);
	char buf[32];
	assert_int_equal(mpt_recv(s, buf, sizeof(buf), p->now), 10);
	assert_memory_equal(buf, "dddddddddd", 10);
	/* Data without any TFO option is never taken in this mode. */
	struct synack d = tfo_syn(p, 2003, false, NULL, 0, 10);
	assert_int_equal(d.ack, 1001);
	assert_false(d.has_tfo);
	pair_free(p);

	/* No cookie needed (trusted network). */
	g_tfo = MPT_TFO_NO_COOKIE;
	p = pair_new(0);
	g_tfo = MPT_TFO_OFF;
	assert_int_equal(mpt_listen(p->st[1], &le, 8, &l), 0);
	struct synack e = tfo_syn(p, 2004, false, NULL, 0, 100);
	assert_int_equal(e.ack, 1101);
	s = mpt_accept(l);
	assert_non_null(s);
	/* RFC 7413 §4.2.2: the answer leaves before the handshake completes. */
	unsigned before = p->emitted[1];
	assert_int_equal(mpt_send(s, "answer", 6, p->now), 6);
	assert_int_equal(p->emitted[1], before + 1);
	struct mpt_tcp_hdr th;
	assert_int_equal(mpt_tcp_hdr_parse(&th, p->last[1] + 20, p->last_len[1] - 20), 0);
	assert_int_equal(th.seq, e.seq + 1);
	assert_int_equal(p->last_len[1] - 20 - th.hdr_len, 6);
	assert_true(th.flags & MPT_TCP_ACK);
	p->qn = 0;
	/* The client's ACK covers the SYN and the answer at once. */
	uint8_t pkt[200];
	g_seq = 1101;
	g_ack = e.seq + 1 + 6;
	size_t n = build_pkt_from(pkt, 2004, 80, MPT_TCP_ACK, NULL, 0, 0);
	g_seq = 1000;
	g_ack = 0;
	assert_int_equal(mpt_stack_input(p->st[1], pkt, n, p->now), 0);
	struct mpt_sock_info si;
	assert_int_equal(mpt_sock_info(s, &si), 0);
	assert_string_equal(si.state, "ESTABLISHED");
	assert_int_equal(si.snd_una, si.snd_nxt);
	assert_int_equal(si.total_retrans, 0);
	pair_free(p);

	/* Off (the default): SYN data is dropped, no TFO option. */
	p = pair_new(0);
	assert_int_equal(mpt_listen(p->st[1], &le, 8, &l), 0);
	struct synack f = tfo_syn(p, 2005, true, NULL, 0, 10);
	assert_int_equal(f.ack, 1001);
	assert_false(f.has_tfo);
	assert_int_equal(ctr(p->st[1], "TCPFastOpenPassive"), 0);
	pair_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tfo_server),
	    cmocka_unit_test(test_transparent),
	    cmocka_unit_test(test_connect_echo_close),
	    cmocka_unit_test(test_connect_local_port),
	    cmocka_unit_test(test_closed_port_rst),
	    cmocka_unit_test(test_bad_input_counted),
	    cmocka_unit_test(test_listen_errors_and_backlog),
	    cmocka_unit_test(test_listener_list),
	    cmocka_unit_test(test_backlog_no_cookies),
	    cmocka_unit_test(test_socket_limit),
	    cmocka_unit_test(test_time_wait_overflow),
	    cmocka_unit_test(test_finished_connections_freed),
	    cmocka_unit_test(test_alloc_failure),
	    cmocka_unit_test(test_counters_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
