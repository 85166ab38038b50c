/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test harness for the TCP engine (header-only, static functions).
 *
 * A "net" joins two engines (node 0 = active opener "A", node 1 = passive
 * "B") with a one-way delay, optional jitter (reordering) and a drop
 * filter.  Outgoing segments are parsed with the wire codecs and delivered
 * to the other engine at now + delay.  In capture mode (hnet.capture) the
 * segments of node 0 are only stored, so a test can craft the peer by hand.
 * Time is virtual; hnet_run steps from event to event.
 */
#ifndef MPT_TESTS_TCP_HARNESS_H
#define MPT_TESTS_TCP_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/splitmix.h"
#include "common.h"
#include "mib.h"
#include "tcp/tcp.h"
#include "wire/tcp.h"

#define H_PKT_MAX 2048
#define H_MS      MPT_NS_PER_MS
#define H_S       MPT_NS_PER_S

struct hpkt {
	uint8_t data[H_PKT_MAX];
	size_t len;
	uint64_t at;
	int to;
	uint64_t seqno;
};

struct hseg {
	struct mpt_tcp_seg s;
	uint8_t raw[H_PKT_MAX];
	size_t rawlen;
};

struct hnet;

struct hnode {
	struct mpt_tcp *tcp;
	struct hnet *net;
	int idx;
	struct mpt_tcp_cfg cfg;
	struct mpt_mib mib;
	uint32_t ev[8];
	int last_ev;
	/* application */
	const uint8_t *src;
	size_t src_len, src_off;
	bool shutdown_when_done;
	bool close_when_done;
	bool done_sent;
	bool auto_read;
	/* zero-copy calls: reads by mpt_tcp_recv_peek + _consume, writes by
	 * mpt_tcp_send2 in two pieces; wraps counts reads in two pieces */
	bool zc;
	uint64_t zc_wraps;
	/* owned sends: mpt_tcp_send_owned, the payload from the node's
	 * cb.ext_snd_read (set by the test) */
	bool owned;
	uint8_t *sink;
	size_t sink_len, sink_cap;
	bool eof;
	int read_err;
	uint32_t iss;
	uint64_t out_segs;
	/* the first data packets: payload bytes and segmentation size */
	uint32_t data_len[64], data_gso[64];
	size_t n_data;
};

typedef bool (*hdrop_fn)(struct hnet *net, int from, const struct mpt_tcp_seg *seg, void *arg);

struct hnet {
	struct hnode n[2];
	struct hpkt *q;
	size_t nq, capq;
	uint64_t now;
	uint64_t delay;
	uint64_t jitter;
	uint64_t rng;
	hdrop_fn drop;
	void *drop_arg;
	uint64_t seqno;
	uint64_t dropped;
	bool capture;
	uint64_t steps;
};

static inline uint64_t h_rand(uint64_t *s)
{
	return mpt_splitmix64(s);
}

static inline int h_parse(struct hseg *out, const uint8_t *data, size_t len)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (len > sizeof(out->raw))
		return -1;
	memcpy(out->raw, data, len);
	out->rawlen = len;
	r = mpt_tcp_hdr_parse(&out->s.hdr, out->raw, len);
	if (r < 0)
		return r;
	r = mpt_tcp_opts_parse(&out->s.opts, out->s.hdr.opt, out->s.hdr.opt_len);
	if (r < 0)
		return r;
	out->s.payload = out->raw + out->s.hdr.hdr_len;
	out->s.len = len - out->s.hdr.hdr_len;
	return 0;
}

static void h_output(void *ud, uint8_t *seg, size_t len, uint32_t gso)
{
	struct hnode *nd = ud;
	struct hnet *net = nd->net;
	struct hpkt *p;
	struct hseg hs;

	nd->out_segs++;
	assert_true(len <= H_PKT_MAX);
	assert_int_equal(h_parse(&hs, seg, len), 0);
	if (hs.s.len > 0 && nd->n_data < 64) {
		nd->data_len[nd->n_data] = (uint32_t)hs.s.len;
		nd->data_gso[nd->n_data++] = gso;
	}
	if (!net->capture && net->drop && net->drop(net, nd->idx, &hs.s, net->drop_arg)) {
		net->dropped++;
		return;
	}
	if (net->nq == net->capq) {
		net->capq = net->capq ? 2 * net->capq : 64;
		net->q = realloc(net->q, net->capq * sizeof(*net->q));
		assert_non_null(net->q);
	}
	p = &net->q[net->nq++];
	memcpy(p->data, seg, len);
	p->len = len;
	p->to = 1 - nd->idx;
	p->at = net->now + net->delay;
	if (net->jitter)
		p->at += h_rand(&net->rng) % net->jitter;
	p->seqno = net->seqno++;
}

static void h_event(void *ud, enum mpt_tcp_event ev)
{
	struct hnode *nd = ud;

	assert_true(ev >= 1 && ev <= 5);
	nd->ev[ev]++;
	nd->last_ev = ev;
}

static inline void hnode_init(struct hnet *net, int idx, const struct mpt_tcp_cfg *cfg)
{
	struct hnode *nd = &net->n[idx];
	struct mpt_tcp_cb cb = {0};

	memset(nd, 0, sizeof(*nd));
	nd->net = net;
	nd->idx = idx;
	if (cfg)
		nd->cfg = *cfg;
	nd->cfg.mib = &nd->mib;
	cb.output = h_output;
	cb.on_event = h_event;
	cb.ud = nd;
	assert_int_equal(mpt_tcp_create(mpt_mem_default(), &nd->cfg, &cb, &nd->tcp), 0);
	nd->auto_read = true;
	nd->iss = idx == 0 ? 1000 : 5000000;
	if (idx == 0)
		mpt_tcp_set_ports(nd->tcp, 40000, 80);
}

/* Create both nodes (cfg_b NULL: same as cfg_a). */
static inline void hnet_init(struct hnet *net, const struct mpt_tcp_cfg *cfg_a,
			     const struct mpt_tcp_cfg *cfg_b, uint64_t delay)
{
	memset(net, 0, sizeof(*net));
	net->delay = delay;
	net->rng = 12345;
	net->now = 1 * H_S;
	hnode_init(net, 0, cfg_a);
	hnode_init(net, 1, cfg_b ? cfg_b : cfg_a);
}

static inline void hnet_free(struct hnet *net)
{
	for (int i = 0; i < 2; i++) {
		mpt_tcp_destroy(net->n[i].tcp);
		free(net->n[i].sink);
	}
	free(net->q);
	memset(net, 0, sizeof(*net));
}

static inline void hnode_read_all(struct hnet *net, struct hnode *nd)
{
	for (;;) {
		long r;

		if (nd->sink_cap - nd->sink_len < 65536) {
			nd->sink_cap = nd->sink_cap ? 2 * nd->sink_cap : 1 << 17;
			nd->sink = realloc(nd->sink, nd->sink_cap);
			assert_non_null(nd->sink);
		}
		if (nd->zc) {
			const uint8_t *p0, *p1;
			size_t n0 = mpt_tcp_recv_peek(nd->tcp, 0, &p0);
			size_t n1 = n0 ? mpt_tcp_recv_peek(nd->tcp, n0, &p1) : 0;
			size_t room = nd->sink_cap - nd->sink_len;
			n0 = n0 < room ? n0 : room;
			n1 = n1 < room - n0 ? n1 : room - n0;
			if (n0 > 0) {
				memcpy(nd->sink + nd->sink_len, p0, n0);
				if (n1)
					memcpy(nd->sink + nd->sink_len + n0, p1, n1);
				nd->zc_wraps += n1 > 0;
				mpt_tcp_recv_consume(nd->tcp, n0 + n1, net->now);
				nd->sink_len += n0 + n1;
				continue;
			}
		}
		r = mpt_tcp_recv(nd->tcp, nd->sink + nd->sink_len, nd->sink_cap - nd->sink_len,
				 net->now);
		if (r > 0) {
			nd->sink_len += (size_t)r;
			continue;
		}
		if (r == 0)
			nd->eof = true;
		else if (r != MPT_ERR_AGAIN)
			nd->read_err = (int)r;
		break;
	}
}

static inline void hnet_pump(struct hnet *net)
{
	for (int i = 0; i < 2; i++) {
		struct hnode *nd = &net->n[i];
		enum mpt_tcp_state st = mpt_tcp_get_state(nd->tcp);

		if (nd->src && st != MPT_TCP_CLOSED) {
			while (nd->src_off < nd->src_len) {
				size_t left = nd->src_len - nd->src_off, k = left / 3;
				long r = nd->owned ? mpt_tcp_send_owned(nd->tcp, left, net->now)
					 : nd->zc ? mpt_tcp_send2(nd->tcp, nd->src + nd->src_off, k,
								  nd->src + nd->src_off + k,
								  left - k, net->now)
						  : mpt_tcp_send(nd->tcp, nd->src + nd->src_off,
								 left, net->now);

				if (r <= 0)
					break;
				nd->src_off += (size_t)r;
			}
			if (nd->src_off == nd->src_len && !nd->done_sent &&
			    (st == MPT_TCP_ESTABLISHED || st == MPT_TCP_CLOSE_WAIT)) {
				if (nd->close_when_done) {
					nd->done_sent = true;
					mpt_tcp_close(nd->tcp, net->now);
				} else if (nd->shutdown_when_done) {
					nd->done_sent = true;
					mpt_tcp_shutdown(nd->tcp, net->now);
				}
			}
		}
		if (nd->auto_read)
			hnode_read_all(net, nd);
	}
}

static inline void hnet_deliver(struct hnet *net, size_t qi)
{
	struct hpkt p = net->q[qi];
	struct hnode *nd;
	struct hseg hs;

	/* Order of delivery comes from (at, seqno), not the array position. */
	if (qi != net->nq - 1)
		net->q[qi] = net->q[net->nq - 1];
	net->nq--;
	nd = &net->n[p.to];
	assert_int_equal(h_parse(&hs, p.data, p.len), 0);
	if (mpt_tcp_get_state(nd->tcp) == MPT_TCP_CLOSED) {
		if ((hs.s.hdr.flags & (MPT_TCP_SYN | MPT_TCP_ACK | MPT_TCP_RST)) == MPT_TCP_SYN)
			mpt_tcp_accept(nd->tcp, &hs.s, nd->iss, net->now);
		return;
	}
	mpt_tcp_input(nd->tcp, &hs.s, net->now);
}

/* One event (packet delivery or timer) no later than limit. */
static inline bool hnet_step(struct hnet *net, uint64_t limit)
{
	uint64_t t = MPT_TIME_NEVER;
	size_t best = SIZE_MAX;

	if (!net->capture) {
		for (size_t i = 0; i < net->nq; i++) {
			if (net->q[i].at < t || (net->q[i].at == t && best != SIZE_MAX &&
						 net->q[i].seqno < net->q[best].seqno)) {
				t = net->q[i].at;
				best = i;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		uint64_t d = mpt_tcp_next_deadline(net->n[i].tcp);

		if (d < t) {
			t = d;
			best = SIZE_MAX;
		}
	}
	if (t == MPT_TIME_NEVER || t > limit)
		return false;
	if (t > net->now)
		net->now = t;
	net->steps++;
	assert_true(net->steps < 50000000);
	if (best != SIZE_MAX) {
		hnet_deliver(net, best);
	} else {
		for (int i = 0; i < 2; i++) {
			if (mpt_tcp_next_deadline(net->n[i].tcp) <= net->now)
				mpt_tcp_on_timer(net->n[i].tcp, net->now);
		}
	}
	hnet_pump(net);
	return true;
}

static inline void hnet_run(struct hnet *net, uint64_t until)
{
	hnet_pump(net);
	while (hnet_step(net, until))
		;
	if (net->now < until)
		net->now = until;
}

/* Run until cond(net) or until; returns cond. */
static inline bool hnet_run_until(struct hnet *net, bool (*cond)(struct hnet *), uint64_t until)
{
	hnet_pump(net);
	while (!cond(net)) {
		if (!hnet_step(net, until))
			return cond(net);
	}
	return true;
}

static inline void hnet_connect(struct hnet *net)
{
	assert_int_equal(mpt_tcp_connect(net->n[0].tcp, net->n[0].iss, net->now), 0);
}

static inline bool h_both_established(struct hnet *net)
{
	return mpt_tcp_get_state(net->n[0].tcp) == MPT_TCP_ESTABLISHED &&
	       mpt_tcp_get_state(net->n[1].tcp) == MPT_TCP_ESTABLISHED;
}

static inline void hnet_handshake(struct hnet *net)
{
	hnet_connect(net);
	assert_true(hnet_run_until(net, h_both_established, net->now + 10 * H_S));
}

static inline uint8_t *h_pattern(size_t len, uint64_t seed)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++) {
		if ((i & 7) == 0)
			seed = h_rand(&seed) ^ i;
		p[i] = (uint8_t)(seed >> ((i & 7) * 8));
	}
	return p;
}

/* ---- capture mode helpers (one engine, crafted peer) ------------------ */

static inline size_t hcap_count(struct hnet *net)
{
	return net->nq;
}

static inline void hcap_get(struct hnet *net, size_t i, struct hseg *out)
{
	assert_true(i < net->nq);
	assert_int_equal(h_parse(out, net->q[i].data, net->q[i].len), 0);
}

/* Last captured segment. */
static inline void hcap_last(struct hnet *net, struct hseg *out)
{
	assert_true(net->nq > 0);
	hcap_get(net, net->nq - 1, out);
}

static inline void hcap_clear(struct hnet *net)
{
	net->nq = 0;
}

/* A crafted segment from the peer (ports 80 -> 40000). */
static inline void hcraft(struct mpt_tcp_seg *s, uint16_t flags, uint32_t seq, uint32_t ack,
			  uint16_t win, const void *payload, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->hdr.sport = 80;
	s->hdr.dport = 40000;
	s->hdr.seq = seq;
	s->hdr.ack = ack;
	s->hdr.flags = flags;
	s->hdr.window = win;
	s->hdr.hdr_len = 20;
	s->payload = payload;
	s->len = len;
}

static inline void hcraft_ts(struct mpt_tcp_seg *s, uint32_t tsval, uint32_t tsecr)
{
	s->opts.present |= MPT_TCPOPT_F_TS;
	s->opts.tsval = tsval;
	s->opts.tsecr = tsecr;
}

static inline int hin(struct hnet *net, const struct mpt_tcp_seg *s)
{
	return mpt_tcp_input(net->n[0].tcp, s, net->now);
}

static inline uint64_t hmib(struct hnode *nd, enum mpt_mib_id id)
{
	return nd->mib.v[id];
}

#endif /* MPT_TESTS_TCP_HARNESS_H */
