/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Simulator: link timing, queueing, loss, outages, reordering, middleboxes,
 * determinism, pcap output, node timers and leak-free teardown.  Fake nodes
 * send crafted IPv4/IPv6 TCP packets and record what arrives.
 */
#define _DEFAULT_SOURCE 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "base/splitmix.h"
#include "mpt/sim.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip.h"
#include "wire/tcp.h"

#define MS MPT_NS_PER_MS
#define US MPT_NS_PER_US

/* ---- counting allocator: every test ends with zero live blocks ---- */
static long live_blocks;

static void *c_malloc(size_t n, void *ud)
{
	void *p = malloc(n);
	(void)ud;
	if (p)
		live_blocks++;
	return p;
}
static void *c_calloc(size_t m, size_t n, void *ud)
{
	void *p = calloc(m, n);
	(void)ud;
	if (p)
		live_blocks++;
	return p;
}
static void *c_realloc(void *old, size_t n, void *ud)
{
	void *p = realloc(old, n);
	(void)ud;
	if (p && !old)
		live_blocks++;
	return p;
}
static void c_free(void *p, void *ud)
{
	(void)ud;
	if (p)
		live_blocks--;
	free(p);
}
static const struct mpt_mem counting_mem = {c_malloc, c_calloc, c_realloc, c_free, NULL};

/* ---- addresses and packet builder ---- */
static struct mpt_addr A4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
	struct mpt_addr x;

	memset(&x, 0, sizeof(x));
	x.family = 4;
	x.bytes[0] = a;
	x.bytes[1] = b;
	x.bytes[2] = c;
	x.bytes[3] = d;
	return x;
}

static struct mpt_addr
A6(uint8_t last) {
	struct mpt_addr x;

	memset(&x, 0, sizeof(x));
	x.family = 6;
	x.bytes[0] = 0x20;
	x.bytes[1] = 0x01;
	x.bytes[2] = 0x0d;
	x.bytes[3] = 0xb8;
	x.bytes[15] = last;
	return x;
}

struct seg {
	struct mpt_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags;
	const uint8_t *opt;
	size_t optlen;
	const uint8_t *pay;
	size_t plen;
	uint16_t id;
};

static size_t mk_seg(uint8_t *buf, size_t cap, const struct seg *s)
{
	struct mpt_ip_hdr ih;
	struct mpt_tcp_hdr th;
	int hl, tl;

	memset(&ih, 0, sizeof(ih));
	ih.src = s->src;
	ih.dst = s->dst;
	ih.proto = MPT_IPPROTO_TCP;
	ih.ttl = 64;
	ih.id = s->id;
	ih.payload_len = MPT_TCP_HDR_LEN + s->optlen + s->plen;
	hl = mpt_ip_emit(buf, cap, &ih);
	assert_true(hl > 0);
	memset(&th, 0, sizeof(th));
	th.sport = s->sport;
	th.dport = s->dport;
	th.seq = s->seq;
	th.ack = s->ack;
	th.flags = s->flags;
	th.window = 65535;
	tl = mpt_tcp_hdr_emit(buf + hl, cap - (size_t)hl, &th, s->opt, s->optlen);
	assert_true(tl > 0);
	assert_true((size_t)hl + (size_t)tl + s->plen <= cap);
	if (s->plen)
		memcpy(buf + hl + tl, s->pay, s->plen);
	mpt_tcp_csum_fill(buf + hl, (size_t)tl + s->plen, &s->src, &s->dst);
	return (size_t)hl + (size_t)tl + s->plen;
}

/* An IPv4 TCP data packet of total length len whose payload starts with tag. */
static size_t mk_data(uint8_t *buf, size_t cap, uint32_t tag, size_t len)
{
	uint8_t pay[1600];
	struct seg s;

	assert_true(len >= 44 && len - 40 <= sizeof(pay));
	memset(pay, 0xab, sizeof(pay));
	mpt_put32(pay, tag);
	memset(&s, 0, sizeof(s));
	s.src = A4(10, 0, 0, 1);
	s.dst = A4(10, 0, 0, 2);
	s.sport = 1000;
	s.dport = 80;
	s.seq = tag * 1000u;
	s.flags = MPT_TCP_ACK;
	s.pay = pay;
	s.plen = len - 40;
	return mk_seg(buf, cap, &s);
}

/* A parsed, checksum-verified view of a received TCP packet. */
struct rx {
	struct mpt_ip_hdr ip;
	struct mpt_tcp_hdr th;
	const uint8_t *tcp;
	const uint8_t *pay;
	size_t plen;
};

static void parse_rx(struct rx *r, const uint8_t *pkt, size_t len)
{
	assert_int_equal(mpt_ip_parse(&r->ip, pkt, len, true), 0);
	assert_int_equal(r->ip.proto, MPT_IPPROTO_TCP);
	assert_int_equal(r->ip.hdr_len + r->ip.payload_len, len);
	r->tcp = pkt + r->ip.hdr_len;
	assert_int_equal(mpt_tcp_hdr_parse(&r->th, r->tcp, r->ip.payload_len), 0);
	assert_true(mpt_tcp_csum_ok(r->tcp, r->ip.payload_len, &r->ip.src, &r->ip.dst));
	r->pay = r->tcp + r->th.hdr_len;
	r->plen = r->ip.payload_len - r->th.hdr_len;
}

/* ---- fake node ---- */
#define MAX_ARR  20000
#define MAX_KEEP 64

struct arrival {
	uint64_t t;
	unsigned ifindex;
	size_t len;
	uint32_t tag;
};

struct fnode {
	struct mpt_sim *sim;
	struct mpt_sim_node *node;
	struct arrival *arr;
	size_t n;
	uint8_t keep[MAX_KEEP][2048];
	size_t keep_len[MAX_KEEP];
	uint64_t hash;
	bool draw_rand; /* pull from mpt_sim_rand on every arrival */
	/* sender program: `count` packets of `size` bytes, one every `interval` */
	uint32_t count, sent;
	uint64_t start, interval;
	size_t size;
	/* timer test: pending deadlines */
	uint64_t dl[16];
	size_t n_dl;
	uint64_t fired[16];
	size_t n_fired;
};

static void fnv(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ull;
	}
}

static void f_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct fnode *f = ud;
	struct arrival *a;

	assert_true(f->n < MAX_ARR);
	a = &f->arr[f->n];
	a->t = now;
	a->ifindex = ifindex;
	a->len = len;
	a->tag = len >= 44 ? mpt_get32(pkt + 40) : 0;
	if (f->n < MAX_KEEP) {
		assert_true(len <= sizeof(f->keep[0]));
		memcpy(f->keep[f->n], pkt, len);
		f->keep_len[f->n] = len;
	}
	f->n++;
	fnv(&f->hash, &now, sizeof(now));
	fnv(&f->hash, &ifindex, sizeof(ifindex));
	fnv(&f->hash, pkt, len);
	if (f->draw_rand) {
		uint8_t junk[100];

		mpt_sim_rand(junk, sizeof(junk), f->sim);
	}
}

static uint64_t f_deadline(void *ud)
{
	struct fnode *f = ud;
	uint64_t d = MPT_TIME_NEVER;

	if (f->sent < f->count)
		d = f->start + f->sent * f->interval;
	for (size_t i = 0; i < f->n_dl; i++)
		if (f->dl[i] < d)
			d = f->dl[i];
	return d;
}

static void f_timer(void *ud, uint64_t now)
{
	struct fnode *f = ud;

	while (f->sent < f->count && f->start + f->sent * f->interval <= now) {
		uint8_t buf[2048];
		size_t len = mk_data(buf, sizeof(buf), f->sent, f->size);

		assert_int_equal(mpt_sim_send(f->sim, f->node, buf, len), 0);
		f->sent++;
	}
	for (size_t i = 0; i < f->n_dl;) {
		if (f->dl[i] <= now) {
			assert_true(f->n_fired < 16);
			f->fired[f->n_fired++] = now;
			f->dl[i] = f->dl[--f->n_dl];
		} else {
			i++;
		}
	}
}

static const struct mpt_sim_node_ops f_ops = {f_input, f_deadline, f_timer};

/* ---- a two-node environment ---- */
struct env {
	struct mpt_sim *sim;
	struct fnode *a, *b;
	struct mpt_sim_link *ab, *ba;
};

static void fnode_init(struct env *e, struct fnode **fp, const char *name)
{
	struct fnode *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->arr = calloc(MAX_ARR, sizeof(*f->arr));
	assert_non_null(f->arr);
	f->sim = e->sim;
	f->hash = 0xcbf29ce484222325ull;
	assert_int_equal(mpt_sim_add_node(e->sim, name, &f_ops, f, &f->node), 0);
	*fp = f;
}

static void env_init(struct env *e, uint64_t seed, const struct mpt_sim_link_cfg *ab,
		     const struct mpt_sim_link_cfg *ba)
{
	struct mpt_addr a = A4(10, 0, 0, 1), b = A4(10, 0, 0, 2);

	memset(e, 0, sizeof(*e));
	live_blocks = 0;
	assert_int_equal(mpt_sim_create(&counting_mem, seed, &e->sim), 0);
	fnode_init(e, &e->a, "a");
	fnode_init(e, &e->b, "b");
	assert_int_equal(
	    mpt_sim_connect(e->sim, e->a->node, &a, e->b->node, &b, ab, ba, &e->ab, &e->ba), 0);
}

static void fnode_free(struct fnode *f)
{
	if (!f)
		return;
	free(f->arr);
	free(f);
}

static void env_fini(struct env *e)
{
	mpt_sim_destroy(e->sim);
	assert_int_equal(live_blocks, 0);
	fnode_free(e->a);
	fnode_free(e->b);
}

static void send_data(struct env *e, uint32_t tag, size_t len)
{
	uint8_t buf[2048];
	size_t n = mk_data(buf, sizeof(buf), tag, len);

	assert_int_equal(mpt_sim_send(e->sim, e->a->node, buf, n), 0);
}

static struct mpt_sim_link_stats lstats(struct mpt_sim_link *l)
{
	struct mpt_sim_link_stats st;

	mpt_sim_link_get_stats(l, &st);
	return st;
}

/* ---- link behaviour ---- */
static void test_timing(void **state)
{
	struct mpt_sim_link_cfg c = {.rate_bps = 100000000, .delay_ns = 10 * MS};
	struct env e;

	(void)state;
	env_init(&e, 1, &c, NULL);
	for (uint32_t i = 0; i < 3; i++)
		send_data(&e, i, 1500);
	assert_int_equal(mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL), MPT_SIM_RUN_IDLE);
	assert_int_equal(e.b->n, 3);
	/* 1500 B at 100 Mbit/s = 120 us per packet, back to back, + 10 ms. */
	assert_int_equal(e.b->arr[0].t, 10 * MS + 120 * US);
	assert_int_equal(e.b->arr[1].t, 10 * MS + 240 * US);
	assert_int_equal(e.b->arr[2].t, 10 * MS + 360 * US);
	assert_int_equal(e.b->arr[0].ifindex, 0);
	assert_int_equal(mpt_sim_now(e.sim), 10 * MS + 360 * US);
	/* A later packet starts on an idle link. */
	assert_int_equal(mpt_sim_run(e.sim, 20 * MS, NULL, NULL), MPT_SIM_RUN_IDLE);
	assert_int_equal(mpt_sim_now(e.sim), 20 * MS);
	send_data(&e, 3, 1000);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->arr[3].t, 30 * MS + 80 * US);
	struct mpt_sim_link_stats st = lstats(e.ab);
	assert_int_equal(st.sent_pkts, 4);
	assert_int_equal(st.delivered_pkts, 4);
	assert_int_equal(st.delivered_bytes, 3 * 1500 + 1000);
	assert_int_equal(lstats(e.ba).sent_pkts, 0);
	env_fini(&e);
}

static void test_ideal_link(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	send_data(&e, 7, 100);
	assert_int_equal(e.b->n, 0); /* never synchronous */
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 1);
	assert_int_equal(e.b->arr[0].t, 0);
	assert_int_equal(e.b->arr[0].tag, 7);
	env_fini(&e);
}

static void test_fifo_jitter(void **state)
{
	struct mpt_sim_link_cfg c = {.delay_ns = 10 * MS, .jitter_ns = 5 * MS};
	struct env e;
	size_t spread = 0;

	(void)state;
	env_init(&e, 42, &c, NULL);
	e.a->count = 2000;
	e.a->interval = 10 * US;
	e.a->size = 100;
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 2000);
	for (size_t i = 0; i < e.b->n; i++) {
		uint64_t sent = e.b->arr[i].tag * 10 * US;

		assert_int_equal(e.b->arr[i].tag, i); /* FIFO */
		assert_true(e.b->arr[i].t >= sent + 10 * MS);
		assert_true(e.b->arr[i].t <= sent + 15 * MS);
		if (e.b->arr[i].t > sent + 11 * MS)
			spread++;
	}
	assert_true(spread > 100); /* jitter did something */
	assert_int_equal(lstats(e.ab).reordered, 0);
	env_fini(&e);
}

static void test_reorder(void **state)
{
	struct mpt_sim_link_cfg c = {
	    .delay_ns = 1 * MS, .reorder = 0.2, .reorder_delay_ns = 500 * US};
	struct env e;
	size_t inversions = 0;
	struct mpt_sim_link_stats st;

	(void)state;
	env_init(&e, 3, &c, NULL);
	e.a->count = 1000;
	e.a->interval = 100 * US;
	e.a->size = 100;
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 1000);
	for (size_t i = 1; i < e.b->n; i++)
		if (e.b->arr[i].tag < e.b->arr[i - 1].tag)
			inversions++;
	st = lstats(e.ab);
	assert_true(st.reordered >= 120 && st.reordered <= 280);
	assert_true(inversions > 50);
	env_fini(&e);
}

static void test_queue_overflow(void **state)
{
	struct mpt_sim_link_cfg c = {.rate_bps = 1000000, .queue_pkts = 10};
	struct mpt_sim_link_cfg cb = {.rate_bps = 1000000, .queue_bytes = 5000};
	struct mpt_sim_link_stats st;
	struct env e;

	(void)state;
	env_init(&e, 1, &c, NULL);
	for (uint32_t i = 0; i < 50; i++)
		send_data(&e, i, 1000);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	st = lstats(e.ab);
	assert_int_equal(e.b->n, 10);
	assert_int_equal(st.dropped[MPT_SIM_DROP_QUEUE], 40);
	assert_int_equal(st.queue_hwm_pkts, 10);
	assert_int_equal(st.queue_hwm_bytes, 10000);
	for (size_t i = 0; i < 10; i++) /* the head of the burst got through */
		assert_int_equal(e.b->arr[i].tag, i);
	/* Queue drained: the next burst fits again. */
	for (uint32_t i = 0; i < 5; i++)
		send_data(&e, 100 + i, 1000);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 15);

	/* Byte limit, and the sim-wide in-flight counters return to zero. */
	assert_int_equal(mpt_sim_link_set_cfg(e.ab, &cb), 0);
	for (uint32_t i = 0; i < 20; i++)
		send_data(&e, 200 + i, 1000);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 20);
	assert_int_equal(lstats(e.ab).dropped[MPT_SIM_DROP_QUEUE], 55);
	struct mpt_sim_stats ss;
	mpt_sim_get_stats(e.sim, &ss);
	assert_int_equal(ss.inflight_pkts, 0);
	assert_int_equal(ss.inflight_bytes, 0);
	assert_int_equal(ss.drops, 55);
	env_fini(&e);
}

static void test_sim_limit(void **state)
{
	struct mpt_sim_link_cfg c = {.delay_ns = 1 * MS};
	struct env e;

	(void)state;
	env_init(&e, 1, &c, NULL);
	mpt_sim_set_limits(e.sim, 5, 0);
	for (uint32_t i = 0; i < 8; i++)
		send_data(&e, i, 100);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 5);
	assert_int_equal(lstats(e.ab).dropped[MPT_SIM_DROP_LIMIT], 3);
	env_fini(&e);
}

static void test_random_loss(void **state)
{
	struct mpt_sim_link_cfg c = {.loss = 0.1};
	struct mpt_sim_link_stats st;
	struct env e;

	(void)state;
	env_init(&e, 7, &c, NULL);
	for (uint32_t i = 0; i < 10000; i++)
		send_data(&e, i, 60);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	st = lstats(e.ab);
	/* Binomial(10000, 0.1): mean 1000, sd 30; allow 5 sd. */
	assert_true(st.dropped[MPT_SIM_DROP_LOSS] >= 850 && st.dropped[MPT_SIM_DROP_LOSS] <= 1150);
	assert_int_equal(st.dropped[MPT_SIM_DROP_LOSS] + e.b->n, 10000);
	assert_int_equal(st.wire_pkts, 10000);
	env_fini(&e);
}

static void test_loss_mask(void **state)
{
	static const uint64_t list[] = {100, 0};
	struct mpt_sim_link_cfg c = {
	    .loss_mask = (1ull << 1) | (1ull << 3), .drop_list = list, .n_drop = 2};
	bool got[128] = {false};
	struct env e;

	(void)state;
	env_init(&e, 1, &c, NULL);
	for (uint32_t i = 0; i < 128; i++)
		send_data(&e, i, 60);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 122);
	for (size_t i = 0; i < e.b->n; i++)
		got[e.b->arr[i].tag] = true;
	for (uint32_t i = 0; i < 128; i++) {
		bool dropped = i == 0 || i == 1 || i == 3 || i == 65 || i == 67 || i == 100;

		assert_int_equal(got[i], !dropped);
	}
	assert_int_equal(lstats(e.ab).dropped[MPT_SIM_DROP_MASK], 6);
	env_fini(&e);
}

static void test_mtu(void **state)
{
	struct mpt_sim_link_cfg c = {.mtu = 1000};
	struct env e;

	(void)state;
	env_init(&e, 1, &c, NULL);
	send_data(&e, 1, 1001);
	send_data(&e, 2, 1000);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 1);
	assert_int_equal(e.b->arr[0].tag, 2);
	assert_int_equal(lstats(e.ab).dropped[MPT_SIM_DROP_MTU], 1);
	assert_int_equal(lstats(e.ab).wire_pkts, 1);
	env_fini(&e);
}

static void test_outage(void **state)
{
	static const struct mpt_sim_outage out[] = {{10 * MS, 20 * MS}};
	struct mpt_sim_link_cfg c = {.delay_ns = 5 * MS, .outages = out, .n_outages = 1};
	struct env e;

	(void)state;
	env_init(&e, 1, &c, NULL);
	e.a->count = 30;
	e.a->interval = 1 * MS;
	e.a->size = 100;
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	/* Sent in [10,20) ms: dropped at the sender; sent in [5,10): delivery
	 * time inside the outage, dropped in flight. */
	assert_int_equal(e.b->n, 15);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(e.b->arr[i].tag, i);
	for (size_t i = 5; i < 15; i++)
		assert_int_equal(e.b->arr[i].tag, i + 15);
	assert_int_equal(lstats(e.ab).dropped[MPT_SIM_DROP_OUTAGE], 15);
	assert_false(mpt_sim_link_is_up(e.ab, 15 * MS));
	assert_true(mpt_sim_link_is_up(e.ab, 20 * MS));
	env_fini(&e);
}

static void ev_down(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	mpt_sim_link_set_up(arg, false);
}

static void ev_up(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	mpt_sim_link_set_up(arg, true);
}

static void test_admin_down(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	e.a->count = 30;
	e.a->interval = 1 * MS;
	e.a->size = 100;
	assert_int_equal(mpt_sim_at(e.sim, 10 * MS, ev_down, e.ab), 0);
	assert_int_equal(mpt_sim_at(e.sim, 20 * MS, ev_up, e.ab), 0);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 20);
	assert_int_equal(e.b->arr[10].tag, 20);
	assert_int_equal(lstats(e.ab).dropped[MPT_SIM_DROP_OUTAGE], 10);
	env_fini(&e);
}

/* ---- determinism ---- */
static uint64_t scenario_hash(uint64_t seed, bool draw, uint8_t rnd_out[16])
{
	struct mpt_sim_link_cfg c = {.rate_bps = 10000000,
				     .delay_ns = 3 * MS,
				     .jitter_ns = 2 * MS,
				     .loss = 0.05,
				     .reorder = 0.05,
				     .reorder_delay_ns = 1 * MS};
	struct env e;
	uint64_t h;

	env_init(&e, seed, &c, &c);
	e.a->count = 500;
	e.a->interval = 200 * US;
	e.a->size = 1200;
	e.b->draw_rand = draw;
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_true(e.b->n > 400 && e.b->n < 500);
	h = e.b->hash;
	if (rnd_out)
		mpt_sim_rand(rnd_out, 16, e.sim);
	env_fini(&e);
	return h;
}

static void test_determinism(void **state)
{
	uint8_t r1[16], r2[16], r3[16];

	(void)state;
	uint64_t h1 = scenario_hash(1, false, r1);
	uint64_t h2 = scenario_hash(1, false, r2);
	uint64_t h3 = scenario_hash(2, false, r3);
	assert_int_equal(h1, h2);
	assert_memory_equal(r1, r2, 16);
	assert_true(h1 != h3);
	assert_memory_not_equal(r1, r3, 16);
	/* Node draws come from their own stream: link decisions unchanged. */
	assert_int_equal(scenario_hash(1, true, NULL), h1);
}

/* ---- nodes, routing, timers ---- */
static void test_routing(void **state)
{
	struct mpt_addr a0 = A4(10, 0, 0, 1), a1 = A4(10, 0, 1, 1), c0 = A4(10, 0, 1, 2);
	struct fnode *c, *d;
	struct env e;
	uint8_t buf[256];
	struct seg s;
	size_t n;
	struct mpt_sim_stats ss;
	struct mpt_addr got;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	fnode_init(&e, &c, "c");
	fnode_init(&e, &d, "d");
	assert_int_equal(
	    mpt_sim_connect(e.sim, e.a->node, &a1, c->node, &c0, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(mpt_sim_node_n_ifaces(e.a->node), 2);
	assert_int_equal(mpt_sim_node_ifaddr(e.a->node, 1, &got), 0);
	assert_true(mpt_addr_equal(&got, &a1));
	assert_string_equal(mpt_sim_node_name(c->node), "c");
	assert_ptr_equal(mpt_sim_node_iflink(e.a->node, 0), e.ab);

	memset(&s, 0, sizeof(s));
	s.src = a1;
	s.dst = c0;
	s.flags = MPT_TCP_SYN;
	n = mk_seg(buf, sizeof(buf), &s);
	assert_int_equal(mpt_sim_send(e.sim, e.a->node, buf, n), 0); /* by source: to c */
	s.src = A4(192, 0, 2, 9);
	n = mk_seg(buf, sizeof(buf), &s);
	assert_int_equal(mpt_sim_send(e.sim, e.a->node, buf, n), 0); /* unknown: iface 0, b */
	s.src = a0;
	n = mk_seg(buf, sizeof(buf), &s);
	assert_int_equal(mpt_sim_send_if(e.sim, e.a->node, 1, buf, n), 0); /* forced: c */
	assert_int_equal(mpt_sim_send_if(e.sim, e.a->node, 2, buf, n), MPT_ERR_NOTFOUND);
	assert_int_equal(mpt_sim_send(e.sim, d->node, buf, n), MPT_ERR_NOTFOUND);
	assert_int_equal(mpt_sim_send(e.sim, e.a->node, buf, 0), MPT_ERR_INVAL);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->arr[0].ifindex, 0);
	assert_int_equal(e.b->n, 1);
	mpt_sim_get_stats(e.sim, &ss);
	assert_int_equal(ss.no_route, 2);
	env_fini(&e);
	fnode_free(c);
	fnode_free(d);
}

static void test_timers(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	e.b->dl[0] = 5 * MS;
	e.b->dl[1] = 1 * MS;
	e.b->dl[2] = 3 * MS;
	e.b->n_dl = 3;
	assert_int_equal(mpt_sim_run(e.sim, 2 * MS, NULL, NULL), MPT_SIM_RUN_UNTIL);
	assert_int_equal(e.b->n_fired, 1);
	assert_int_equal(mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL), MPT_SIM_RUN_IDLE);
	assert_int_equal(e.b->n_fired, 3);
	assert_int_equal(e.b->fired[0], 1 * MS);
	assert_int_equal(e.b->fired[1], 3 * MS);
	assert_int_equal(e.b->fired[2], 5 * MS);
	/* A deadline added from outside is picked up by kick. */
	e.b->dl[0] = 9 * MS;
	e.b->n_dl = 1;
	mpt_sim_node_kick(e.sim, e.b->node);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n_fired, 4);
	assert_int_equal(e.b->fired[3], 9 * MS);
	env_fini(&e);
}

static int stop_calls;
static bool stop_after_5(void *arg)
{
	struct fnode *f = arg;

	stop_calls++;
	return f->n >= 5;
}

static void ev_reenter(struct mpt_sim *sim, void *arg)
{
	*(int *)arg = mpt_sim_run(sim, MPT_TIME_NEVER, NULL, NULL);
}

static void test_run_control(void **state)
{
	struct env e;
	int inner = 0;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	e.a->count = 10;
	e.a->interval = 1 * MS;
	e.a->size = 100;
	assert_int_equal(mpt_sim_at(e.sim, 0, ev_reenter, &inner), 0);
	assert_int_equal(mpt_sim_run(e.sim, MPT_TIME_NEVER, stop_after_5, e.b),
			 MPT_SIM_RUN_STOPPED);
	assert_int_equal(inner, MPT_ERR_STATE);
	assert_int_equal(e.b->n, 5);
	assert_true(stop_calls > 0);
	assert_int_equal(mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL), MPT_SIM_RUN_IDLE);
	assert_int_equal(e.b->n, 10);
	env_fini(&e);
}

static void test_bad_config(void **state)
{
	struct mpt_sim_link_cfg bad = {.loss = 1.5};
	static const struct mpt_sim_outage rev_out[] = {{5, 1}};
	struct mpt_sim_link_cfg bad2 = {.outages = rev_out, .n_outages = 1};
	struct mpt_addr x = A4(1, 1, 1, 1), y = A4(1, 1, 1, 2);
	struct mpt_sim_mbox_cfg mb = {.kind = MPT_SIM_MBOX_RESEGMENT, .seg_size = 0};
	struct env e;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(
	    mpt_sim_connect(e.sim, e.a->node, &x, e.b->node, &y, &bad, NULL, NULL, NULL),
	    MPT_ERR_INVAL);
	assert_int_equal(mpt_sim_link_set_cfg(e.ab, &bad2), MPT_ERR_INVAL);
	assert_int_equal(
	    mpt_sim_connect(e.sim, e.a->node, &x, e.a->node, &x, NULL, NULL, NULL, NULL),
	    MPT_ERR_INVAL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, NULL, &mb, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_sim_node_n_ifaces(e.a->node), 1);
	env_fini(&e);
}

/* ---- pcap ---- */
static void test_pcap(void **state)
{
	const char *path = MPT_BINARY_DIR "/sim_test.pcap";
	struct mpt_sim_link_cfg c = {.delay_ns = 1 * MS, .loss = 0.2, .mtu = 1000};
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t first[2048];
	size_t first_len;
	pcap_t *p;
	int count = 0;
	struct env e;

	(void)state;
	env_init(&e, 5, &c, NULL);
	assert_int_equal(mpt_sim_pcap_open(e.sim, path), 0);
	e.a->count = 50;
	e.a->interval = 100 * US;
	e.a->size = 300;
	send_data(&e, 999, 1200); /* MTU drop: never on the wire */
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	mpt_sim_pcap_close(e.sim);
	first_len = mk_data(first, sizeof(first), 0, 300);

	p = pcap_open_offline(path, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	while (pcap_next_ex(p, &h, &data) == 1) {
		if (count == 0) {
			assert_int_equal(h->caplen, first_len);
			assert_memory_equal(data, first, first_len);
		}
		if (count == 1) /* second packet sent at 100 us */
			assert_int_equal(h->ts.tv_usec, 100);
		count++;
	}
	pcap_close(p);
	assert_int_equal(count, 50);
	assert_int_equal(lstats(e.ab).wire_pkts, 50);
	assert_true(e.b->n < 50); /* lost packets were captured anyway */
	remove(path);
	env_fini(&e);
}

/* ---- middleboxes ---- */
static struct mpt_sim_mbox_stats mstats(struct mpt_sim_mbox *m)
{
	struct mpt_sim_mbox_stats st;

	mpt_sim_mbox_get_stats(m, &st);
	return st;
}

static void send_seg(struct env *e, struct fnode *from, const struct seg *s)
{
	uint8_t buf[2048];
	size_t n = mk_seg(buf, sizeof(buf), s);

	assert_int_equal(mpt_sim_send(e->sim, from->node, buf, n), 0);
}

static struct seg seg_ab(void)
{
	struct seg s;

	memset(&s, 0, sizeof(s));
	s.src = A4(10, 0, 0, 1);
	s.dst = A4(10, 0, 0, 2);
	s.sport = 1234;
	s.dport = 80;
	s.seq = 5000;
	s.ack = 777;
	s.flags = MPT_TCP_ACK;
	return s;
}

static struct seg seg_ba(void)
{
	struct seg s = seg_ab();

	s.src = A4(10, 0, 0, 2);
	s.dst = A4(10, 0, 0, 1);
	s.sport = 80;
	s.dport = 1234;
	return s;
}

/* MSS, MPTCP MP_CAPABLE-like (kind 30, len 12), SACK-permitted, NOP NOP. */
static const uint8_t syn_opts[20] = {2, 4, 0x05, 0xb4, 30, 12, 0x00, 0x81, 1, 2,
				     3, 4, 5,    6,    7,  8,  4,    2,    1, 1};

static void test_mbox_strip(void **state)
{
	struct mpt_sim_mbox_cfg mc = {
	    .kind = MPT_SIM_MBOX_STRIP_OPT, .opt_kind = 30, .syn_only = true};
	struct mpt_sim_mbox *mb;
	struct mpt_tcp_opts o;
	struct env e;
	struct seg s = seg_ab();
	struct rx r;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, NULL, &mc, &mb), 0);
	s.flags = MPT_TCP_SYN;
	s.opt = syn_opts;
	s.optlen = sizeof(syn_opts);
	send_seg(&e, e.a, &s);
	s.flags = MPT_TCP_ACK;
	send_seg(&e, e.a, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 2);

	parse_rx(&r, e.b->keep[0], e.b->keep_len[0]);
	assert_int_equal(r.th.opt_len, sizeof(syn_opts));
	assert_int_equal(mpt_tcp_opts_parse(&o, r.th.opt, r.th.opt_len), 0);
	assert_int_equal(o.n_mptcp, 0);
	assert_true(o.present & MPT_TCPOPT_F_MSS);
	assert_true(o.present & MPT_TCPOPT_F_SACK_PERM);
	for (size_t i = 4; i < 16; i++)
		assert_int_equal(r.th.opt[i], MPT_TCPOPT_NOP);

	parse_rx(&r, e.b->keep[1], e.b->keep_len[1]); /* not a SYN: untouched */
	assert_memory_equal(r.th.opt, syn_opts, sizeof(syn_opts));
	assert_int_equal(mstats(mb).modified, 1);
	assert_int_equal(mstats(mb).seen, 2);
	env_fini(&e);
}

static void test_mbox_seq_offset(void **state)
{
	struct mpt_sim_mbox_cfg mc = {.kind = MPT_SIM_MBOX_SEQ_OFFSET, .delta = 1000};
	/* NOP, SACK with two blocks, NOP: the blocks sit at an odd offset. */
	uint8_t sack[20] = {1, 5, 18};
	struct mpt_sim_mbox *mb;
	struct mpt_tcp_opts o;
	struct env e;
	struct seg s = seg_ab();
	struct rx r;
	uint8_t pay[10] = "0123456789";

	(void)state;
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, e.ba, &mc, &mb), 0);
	s.pay = pay;
	s.plen = sizeof(pay);
	send_seg(&e, e.a, &s);
	s = seg_ba();
	s.ack = 6100;
	mpt_put32(sack + 3, 6200);
	mpt_put32(sack + 7, 6300);
	mpt_put32(sack + 11, 0xfffffff0u);
	mpt_put32(sack + 15, 400);
	sack[19] = 1;
	s.opt = sack;
	s.optlen = sizeof(sack);
	send_seg(&e, e.b, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);

	assert_int_equal(e.b->n, 1);
	parse_rx(&r, e.b->keep[0], e.b->keep_len[0]);
	assert_int_equal(r.th.seq, 6000);
	assert_int_equal(r.th.ack, 777); /* forward direction: ack untouched */
	assert_memory_equal(r.pay, pay, sizeof(pay));

	assert_int_equal(e.a->n, 1);
	parse_rx(&r, e.a->keep[0], e.a->keep_len[0]);
	assert_int_equal(r.th.ack, 5100);
	assert_int_equal(r.th.seq, 5000); /* reverse direction: seq untouched */
	assert_int_equal(mpt_tcp_opts_parse(&o, r.th.opt, r.th.opt_len), 0);
	assert_int_equal(o.nsack, 2);
	assert_int_equal(o.sack[0].left, 5200);
	assert_int_equal(o.sack[0].right, 5300);
	assert_int_equal(o.sack[1].left, 0xfffffff0u - 1000u);
	assert_int_equal(o.sack[1].right, (uint32_t)(400u - 1000u)); /* mod 2^32 */
	assert_int_equal(mstats(mb).modified, 2);
	env_fini(&e);
}

static void test_mbox_nat(void **state)
{
	struct mpt_sim_mbox_cfg mc = {
	    .kind = MPT_SIM_MBOX_NAT, .nat_addr = A4(203, 0, 113, 1), .nat_port_base = 40000};
	struct mpt_sim_mbox *mb;
	struct env e;
	struct seg s = seg_ab();
	struct rx r;
	struct mpt_addr pub = A4(203, 0, 113, 1), inner = A4(10, 0, 0, 1);

	(void)state;
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, e.ba, &mc, &mb), 0);
	send_seg(&e, e.a, &s);
	s.sport = 1235;
	send_seg(&e, e.a, &s);
	s.sport = 1234;
	send_seg(&e, e.a, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 3);
	parse_rx(&r, e.b->keep[0], e.b->keep_len[0]); /* IP + TCP checksums verified */
	assert_true(mpt_addr_equal(&r.ip.src, &pub));
	assert_int_equal(r.th.sport, 40000);
	parse_rx(&r, e.b->keep[1], e.b->keep_len[1]);
	assert_int_equal(r.th.sport, 40001);
	parse_rx(&r, e.b->keep[2], e.b->keep_len[2]);
	assert_int_equal(r.th.sport, 40000);

	/* Return traffic to the public mapping is translated back. */
	s = seg_ba();
	s.dst = pub;
	s.dport = 40001;
	send_seg(&e, e.b, &s);
	s.dport = 555; /* no mapping: passes unchanged */
	send_seg(&e, e.b, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.a->n, 2);
	parse_rx(&r, e.a->keep[0], e.a->keep_len[0]);
	assert_true(mpt_addr_equal(&r.ip.dst, &inner));
	assert_int_equal(r.th.dport, 1235);
	parse_rx(&r, e.a->keep[1], e.a->keep_len[1]);
	assert_true(mpt_addr_equal(&r.ip.dst, &pub));
	assert_int_equal(r.th.dport, 555);
	assert_int_equal(mstats(mb).modified, 4);
	env_fini(&e);
}

static void test_mbox_nat6(void **state)
{
	struct mpt_sim_mbox_cfg mc = {.kind = MPT_SIM_MBOX_NAT, .nat_addr = A6(99)};
	struct mpt_addr a = A6(1), b = A6(2), pub = A6(99);
	struct fnode *x, *y;
	struct mpt_sim_link *xy, *yx;
	struct env e;
	struct seg s;
	struct rx r;
	uint8_t pay[33] = {1, 2, 3}; /* odd length: checksum padding */

	(void)state;
	env_init(&e, 1, NULL, NULL);
	fnode_init(&e, &x, "x");
	fnode_init(&e, &y, "y");
	assert_int_equal(mpt_sim_connect(e.sim, x->node, &a, y->node, &b, NULL, NULL, &xy, &yx), 0);
	assert_int_equal(mpt_sim_mbox_add(xy, yx, &mc, NULL), 0);
	memset(&s, 0, sizeof(s));
	s.src = a;
	s.dst = b;
	s.sport = 1;
	s.dport = 2;
	s.pay = pay;
	s.plen = sizeof(pay);
	send_seg(&e, x, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(y->n, 1);
	parse_rx(&r, y->keep[0], y->keep_len[0]);
	assert_true(mpt_addr_equal(&r.ip.src, &pub));
	assert_int_equal(r.th.sport, 40000);
	/* An IPv4 packet cannot cross an IPv6 NAT: dropped and counted. */
	uint8_t buf[256];
	size_t n = mk_data(buf, sizeof(buf), 1, 100);
	assert_int_equal(mpt_sim_send_if(e.sim, x->node, 0, buf, n), 0);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(y->n, 1);
	assert_int_equal(lstats(xy).dropped[MPT_SIM_DROP_MBOX], 1);
	env_fini(&e);
	fnode_free(x);
	fnode_free(y);
}

static void test_mbox_resegment(void **state)
{
	struct mpt_sim_mbox_cfg mc = {.kind = MPT_SIM_MBOX_RESEGMENT, .seg_size = 500};
	static const uint8_t opts[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
	uint8_t pay[1400], got[1400];
	struct mpt_sim_mbox *mb;
	struct env e;
	struct seg s = seg_ab();
	struct rx r;
	size_t off = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 7 + 3);
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, NULL, &mc, &mb), 0);
	s.flags = MPT_TCP_ACK | MPT_TCP_PSH | MPT_TCP_FIN;
	s.opt = opts;
	s.optlen = sizeof(opts);
	s.pay = pay;
	s.plen = sizeof(pay);
	s.id = 100;
	send_seg(&e, e.a, &s);
	s.plen = 300; /* small: untouched */
	s.flags = MPT_TCP_ACK;
	send_seg(&e, e.a, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 4);
	for (size_t i = 0; i < 3; i++) {
		parse_rx(&r, e.b->keep[i], e.b->keep_len[i]);
		assert_int_equal(r.plen, i < 2 ? 500 : 400);
		assert_int_equal(r.th.seq, 5000 + off);
		assert_int_equal(r.ip.id, 100 + i);
		assert_int_equal(r.th.opt_len, sizeof(opts));
		assert_memory_equal(r.th.opt, opts, sizeof(opts));
		assert_int_equal(!!(r.th.flags & MPT_TCP_PSH), i == 2);
		assert_int_equal(!!(r.th.flags & MPT_TCP_FIN), i == 2);
		assert_true(r.th.flags & MPT_TCP_ACK);
		memcpy(got + off, r.pay, r.plen);
		off += r.plen;
	}
	assert_int_equal(off, sizeof(pay));
	assert_memory_equal(got, pay, sizeof(pay));
	parse_rx(&r, e.b->keep[3], e.b->keep_len[3]);
	assert_int_equal(r.plen, 300);
	assert_int_equal(mstats(mb).modified, 1);
	assert_int_equal(mstats(mb).created, 2);
	assert_int_equal(mstats(mb).passed, 1);
	assert_int_equal(lstats(e.ab).delivered_pkts, 4);
	env_fini(&e);
}

static void test_mbox_coalesce(void **state)
{
	struct mpt_sim_mbox_cfg mc = {.kind = MPT_SIM_MBOX_COALESCE, .hold_ns = 1 * MS};
	uint8_t pay[300];
	struct mpt_sim_mbox *mb;
	struct env e;
	struct seg s = seg_ab();
	struct rx r;

	(void)state;
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i ^ 0x5a);
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, NULL, &mc, &mb), 0);
	for (int i = 0; i < 3; i++) {
		s.seq = 5000 + 100 * (uint32_t)i;
		s.ack = 700 + (uint32_t)i;
		s.pay = pay + 100 * i;
		s.plen = 100;
		send_seg(&e, e.a, &s);
	}
	s.seq = 9000; /* not contiguous: flushes the merged one, then held */
	send_seg(&e, e.a, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 2);
	parse_rx(&r, e.b->keep[0], e.b->keep_len[0]);
	assert_int_equal(r.th.seq, 5000);
	assert_int_equal(r.th.ack, 702);
	assert_int_equal(r.plen, 300);
	assert_memory_equal(r.pay, pay, 300);
	assert_int_equal(e.b->arr[0].t, 0); /* flushed by the 4th segment */
	parse_rx(&r, e.b->keep[1], e.b->keep_len[1]);
	assert_int_equal(r.th.seq, 9000);
	assert_int_equal(e.b->arr[1].t, 1 * MS); /* hold expired */
	assert_int_equal(mstats(mb).modified, 2);

	/* Held at teardown: freed by destroy (leak check in env_fini). */
	s.seq = 20000;
	send_seg(&e, e.a, &s);
	env_fini(&e);
}

static void test_mbox_corrupt(void **state)
{
	struct mpt_sim_mbox_cfg mc = {.kind = MPT_SIM_MBOX_CORRUPT, .corrupt_nth = 2};
	uint8_t pay[256];
	struct mpt_sim_mbox *mb;
	struct env e;
	struct seg s = seg_ab();
	struct rx r;

	(void)state;
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)i;
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, NULL, &mc, &mb), 0);
	send_seg(&e, e.a, &s); /* pure ACK: not a data segment */
	s.pay = pay;
	for (int i = 0; i < 3; i++) {
		s.plen = 199 + (size_t)i; /* odd and even lengths */
		send_seg(&e, e.a, &s);
	}
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 4);
	for (size_t i = 1; i < 4; i++) {
		size_t diff = 0;

		parse_rx(&r, e.b->keep[i], e.b->keep_len[i]); /* checksum still valid */
		for (size_t k = 0; k < r.plen; k++)
			diff += r.pay[k] != pay[k];
		assert_int_equal(diff, i == 2 ? 1 : 0);
		if (i == 2)
			assert_int_equal(r.pay[r.plen / 2], (uint8_t)(pay[r.plen / 2] ^ 0xff));
	}
	assert_int_equal(mstats(mb).modified, 1);
	env_fini(&e);
}

static void test_mbox_drop_unknown(void **state)
{
	struct mpt_sim_mbox_cfg mc = {.kind = MPT_SIM_MBOX_DROP_UNKNOWN_OPT};
	static const uint8_t exp_opt[4] = {253, 4, 0xbe, 0xef};
	static const uint8_t bad_len[4] = {2, 9, 0, 0};
	struct mpt_sim_mbox *mb;
	struct env e;
	struct seg s = seg_ab();

	(void)state;
	mpt_sim_opt_allow(mc.allowed, MPT_TCPOPT_MSS);
	mpt_sim_opt_allow(mc.allowed, MPT_TCPOPT_SACK_PERM);
	mpt_sim_opt_allow(mc.allowed, MPT_TCPOPT_MPTCP);
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, NULL, &mc, &mb), 0);
	s.flags = MPT_TCP_SYN;
	s.opt = syn_opts; /* MSS, MPTCP, SACK-perm: all allowed */
	s.optlen = sizeof(syn_opts);
	send_seg(&e, e.a, &s);
	s.opt = exp_opt; /* experimental kind 253 */
	s.optlen = sizeof(exp_opt);
	send_seg(&e, e.a, &s);
	s.opt = bad_len; /* malformed */
	send_seg(&e, e.a, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 1);
	assert_int_equal(mstats(mb).dropped, 2);
	assert_int_equal(mstats(mb).passed, 1);
	assert_int_equal(lstats(e.ab).dropped[MPT_SIM_DROP_MBOX], 2);
	env_fini(&e);
}

static void test_mbox_chain(void **state)
{
	/* Resegment then corrupt the 2nd piece: boxes run in order, and the
	 * pieces produced by one box go through the next. */
	struct mpt_sim_mbox_cfg m1 = {.kind = MPT_SIM_MBOX_RESEGMENT, .seg_size = 100};
	struct mpt_sim_mbox_cfg m2 = {.kind = MPT_SIM_MBOX_CORRUPT, .corrupt_nth = 2};
	struct mpt_sim_mbox *b2;
	uint8_t pay[300] = {0};
	struct env e;
	struct seg s = seg_ab();
	struct rx r;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	assert_int_equal(mpt_sim_mbox_add(e.ab, NULL, &m1, NULL), 0);
	assert_int_equal(mpt_sim_mbox_add(e.ab, NULL, &m2, &b2), 0);
	s.pay = pay;
	s.plen = sizeof(pay);
	send_seg(&e, e.a, &s);
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	assert_int_equal(e.b->n, 3);
	assert_int_equal(mstats(b2).seen, 3);
	parse_rx(&r, e.b->keep[1], e.b->keep_len[1]);
	assert_int_equal(r.pay[50], 0xff);
	env_fini(&e);
}

static uint64_t t_rng = 12345;
static uint64_t t_rand(void)
{
	return mpt_splitmix64(&t_rng);
}

/* Mutated and random packets through every box: no crash, no leak, and
 * every packet accounted for. */
static void test_mbox_garbage(void **state)
{
	struct mpt_sim_mbox_cfg cfgs[] = {
	    {.kind = MPT_SIM_MBOX_STRIP_OPT, .opt_kind = 30},
	    {.kind = MPT_SIM_MBOX_SEQ_OFFSET, .delta = 12345},
	    {.kind = MPT_SIM_MBOX_NAT, .nat_addr = A4(203, 0, 113, 1)},
	    {.kind = MPT_SIM_MBOX_CORRUPT, .corrupt_prob = 0.5},
	    {.kind = MPT_SIM_MBOX_COALESCE, .hold_ns = 10 * US},
	    {.kind = MPT_SIM_MBOX_RESEGMENT, .seg_size = 7},
	};
	uint8_t pay[100] = {0};
	struct env e;
	struct seg s = seg_ab();
	uint8_t base[512], buf[512];
	size_t blen;
	struct mpt_sim_link_stats st;
	uint64_t drops = 0;

	(void)state;
	env_init(&e, 1, NULL, NULL);
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		assert_int_equal(mpt_sim_mbox_add(e.ab, e.ba, &cfgs[i], NULL), 0);
	s.opt = syn_opts;
	s.optlen = sizeof(syn_opts);
	s.pay = pay;
	s.plen = sizeof(pay);
	blen = mk_seg(base, sizeof(base), &s);
	for (int i = 0; i < 5000; i++) {
		size_t len = blen;

		memcpy(buf, base, blen);
		if (i % 3 == 0) {
			/* flip a few bytes past the IP header */
			for (int k = 0; k < 4; k++)
				buf[20 + t_rand() % (blen - 20)] ^= (uint8_t)(1 + t_rand() % 255);
		} else if (i % 3 == 1) {
			len = 1 + t_rand() % blen;
			for (size_t k = 1; k < len; k++)
				buf[k] = (uint8_t)t_rand();
		} else {
			len = 20 + t_rand() % (blen - 20); /* truncated */
		}
		assert_int_equal(mpt_sim_send_if(e.sim, e.a->node, 0, buf, len), 0);
		if (i % 100 == 0)
			mpt_sim_run(e.sim, mpt_sim_now(e.sim) + 1 * MS, NULL, NULL);
	}
	mpt_sim_run(e.sim, MPT_TIME_NEVER, NULL, NULL);
	st = lstats(e.ab);
	for (int k = 0; k < MPT_SIM_DROP_MAX; k++)
		drops += st.dropped[k];
	assert_int_equal(st.sent_pkts, 5000);
	assert_true(st.delivered_pkts > 0);
	assert_int_equal(st.delivered_pkts + st.dropped[MPT_SIM_DROP_OUTAGE], st.wire_pkts);
	assert_true(drops <= st.sent_pkts);
	env_fini(&e);
}

/* Destroy with packets queued, in flight and events pending. */
static void test_destroy_inflight(void **state)
{
	struct mpt_sim_link_cfg c = {.rate_bps = 1000000, .delay_ns = 50 * MS, .queue_pkts = 100};
	struct env e;

	(void)state;
	env_init(&e, 1, &c, &c);
	for (uint32_t i = 0; i < 50; i++)
		send_data(&e, i, 1000);
	assert_int_equal(mpt_sim_at(e.sim, 1000 * MS, ev_down, e.ab), 0);
	e.b->dl[0] = 500 * MS;
	e.b->n_dl = 1;
	assert_int_equal(mpt_sim_run(e.sim, 100 * MS, NULL, NULL), MPT_SIM_RUN_UNTIL);
	assert_true(e.b->n > 0 && e.b->n < 50);
	env_fini(&e); /* live_blocks == 0 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timing),
	    cmocka_unit_test(test_ideal_link),
	    cmocka_unit_test(test_fifo_jitter),
	    cmocka_unit_test(test_reorder),
	    cmocka_unit_test(test_queue_overflow),
	    cmocka_unit_test(test_sim_limit),
	    cmocka_unit_test(test_random_loss),
	    cmocka_unit_test(test_loss_mask),
	    cmocka_unit_test(test_mtu),
	    cmocka_unit_test(test_outage),
	    cmocka_unit_test(test_admin_down),
	    cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_routing),
	    cmocka_unit_test(test_timers),
	    cmocka_unit_test(test_run_control),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_pcap),
	    cmocka_unit_test(test_mbox_strip),
	    cmocka_unit_test(test_mbox_seq_offset),
	    cmocka_unit_test(test_mbox_nat),
	    cmocka_unit_test(test_mbox_nat6),
	    cmocka_unit_test(test_mbox_resegment),
	    cmocka_unit_test(test_mbox_coalesce),
	    cmocka_unit_test(test_mbox_corrupt),
	    cmocka_unit_test(test_mbox_drop_unknown),
	    cmocka_unit_test(test_mbox_chain),
	    cmocka_unit_test(test_mbox_garbage),
	    cmocka_unit_test(test_destroy_inflight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
