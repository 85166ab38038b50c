/* SPDX-License-Identifier: Apache-2.0 */
/* TCP engine: data transfer between two engines, losses, recovery. */
#include "tcp_harness.h"
#include <stdio.h>

static bool h_done_transfer(struct hnet *net)
{
	return net->n[1].sink_len == net->n[0].src_len;
}

static void transfer(struct hnet *net, size_t len, uint64_t limit)
{
	uint8_t *src = h_pattern(len, 77);

	net->n[0].src = src;
	net->n[0].src_len = len;
	assert_true(hnet_run_until(net, h_done_transfer, net->now + limit));
	assert_int_equal(net->n[1].sink_len, len);
	assert_memory_equal(net->n[1].sink, src, len);
	net->n[0].src = NULL;
	free(src);
}

static void test_basic_transfer(void **state)
{
	struct hnet net;
	struct mpt_tcp_info ia, ib;

	(void)state;
	hnet_init(&net, NULL, NULL, 10 * H_MS);
	hnet_handshake(&net);
	assert_int_equal(net.n[0].ev[MPT_TCP_EV_ESTABLISHED], 1);
	assert_int_equal(net.n[1].ev[MPT_TCP_EV_ESTABLISHED], 1);
	transfer(&net, 1 << 20, 60 * H_S);
	hnet_run(&net, net.now + H_S);
	mpt_tcp_get_info(net.n[0].tcp, &ia);
	mpt_tcp_get_info(net.n[1].tcp, &ib);
	assert_true(ia.ts_ok && ia.sack_ok);
	assert_int_equal(ia.bytes_acked, 1 << 20);
	assert_int_equal(ib.bytes_received, 1 << 20);
	assert_int_equal(ia.total_retrans, 0);
	assert_true(ia.srtt_ns >= 19 * H_MS && ia.srtt_ns <= 30 * H_MS);
	hnet_free(&net);
}

/*
 * With segmentation offload the first full segment goes alone, the next
 * ones in super-segments (tcp_out.c: Linux samples a flow's payload-to-
 * memory ratio from its first full-sized packet and sizes its windows by
 * it; a lone segment is the dearest full one it will see from us).
 */
static void test_offload_first_segment_alone(void **state)
{
	struct hnet net;
	static uint8_t obuf[MPT_TCP_HEADROOM + MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN + 1800];
	struct mpt_tcp_cfg cfg = {0};

	(void)state;
	/* Super-segments of up to three 600-byte segments: what the
	 * harness's packets hold.  (It copies every packet out before the
	 * next is built.) */
	cfg.mss = 600;
	cfg.tso_max = 1800;
	cfg.obuf = obuf;
	cfg.obuf_cap = sizeof(obuf);
	hnet_init(&net, &cfg, NULL, 10 * H_MS);
	hnet_handshake(&net);
	transfer(&net, 256 << 10, 60 * H_S);
	struct hnode *a = &net.n[0];
	assert_true(a->n_data >= 2);
	assert_int_equal(a->data_gso[0], 0);
	assert_true(a->data_len[0] > 500); /* a full one */
	assert_true(a->data_gso[1] > 0 && a->data_len[1] > a->data_gso[1]);
	hnet_free(&net);
}

/* Drop the first transmission of data segments starting at given offsets. */
struct drop_offs {
	uint32_t base; /* ISS + 1 of node 0 */
	uint32_t offs[64];
	bool done[64];
	size_t n;
	double p; /* plus random loss probability (both directions) */
	uint64_t rng;
	uint64_t from, until; /* drop everything from node 0 in [from, until) */
};

static bool drop_cb(struct hnet *net, int from, const struct mpt_tcp_seg *seg, void *arg)
{
	struct drop_offs *d = arg;

	if (from == 0 && net->now >= d->from && net->now < d->until)
		return true;
	if (from == 0 && seg->len > 0) {
		uint32_t off = seg->hdr.seq - d->base;

		for (size_t i = 0; i < d->n; i++) {
			if (!d->done[i] && d->offs[i] == off) {
				d->done[i] = true;
				return true;
			}
		}
	}
	if (d->p > 0 && (double)(h_rand(&d->rng) % 1000000) / 1e6 < d->p)
		return true;
	return false;
}

static void lossy(struct mpt_tcp_cfg *cfg, struct drop_offs *d, size_t len, uint64_t limit)
{
	struct hnet net;

	hnet_init(&net, cfg, NULL, 5 * H_MS);
	d->base = net.n[0].iss + 1;
	net.drop = drop_cb;
	net.drop_arg = d;
	hnet_handshake(&net);
	transfer(&net, len, limit);
	hnet_run(&net, net.now + 5 * H_S);
	*cfg = net.n[0].cfg;
	if (getenv("H_VERBOSE")) {
		struct mpt_tcp_info i;

		mpt_tcp_get_info(net.n[0].tcp, &i);
		print_message("t=%.3fs retrans=%u rto=%u fast=%u srtt=%.1fms cwnd=%u\n",
			      (double)(net.now - H_S) / 1e9, i.total_retrans, i.rto_count,
			      i.fast_retrans, (double)i.srtt_ns / 1e6, i.snd_cwnd);
	}
	cfg->mib = malloc(sizeof(struct mpt_mib));
	memcpy(cfg->mib, &net.n[0].mib, sizeof(struct mpt_mib));
	hnet_free(&net);
}

/* The zero-copy calls (mpt_tcp_send2 from two pieces, mpt_tcp_recv_peek +
 * mpt_tcp_recv_consume, as MPTCP uses them) move the same bytes as
 * mpt_tcp_send / mpt_tcp_recv, also through the receive ring's wrap and
 * under loss (the peek only ever shows in-order bytes). */
static bool drop_every_37th(struct hnet *net, int from, const struct mpt_tcp_seg *seg, void *arg)
{
	(void)from, (void)seg, (void)arg;
	return (net->seqno + net->dropped) % 37 == 5; /* every packet counts */
}

static void test_zero_copy_calls(void **state)
{
	struct hnet net;
	(void)state;
	hnet_init(&net, NULL, NULL, 10 * H_MS);
	net.n[0].zc = net.n[1].zc = true;
	net.drop = drop_every_37th;
	hnet_handshake(&net);
	net.n[1].auto_read = true;
	transfer(&net, 3u << 20, 60 * H_S);
	assert_true(net.dropped > 0);
	assert_true(net.n[1].zc_wraps > 0);
	/* Bad calls: nothing there, or more than there is. */
	const uint8_t *p = (const uint8_t *)&net;
	assert_int_equal(mpt_tcp_recv_peek(net.n[1].tcp, 0, &p), 0);
	assert_null(p);
	mpt_tcp_recv_consume(net.n[1].tcp, 1, net.now); /* ignored */
	assert_int_equal(mpt_tcp_readable(net.n[1].tcp), 0);
	assert_int_equal(mpt_tcp_send2(net.n[0].tcp, NULL, 1, NULL, 0, net.now), MPT_ERR_INVAL);
	assert_int_equal(mpt_tcp_send2(net.n[0].tcp, p, 0, NULL, 1, net.now), MPT_ERR_INVAL);
	hnet_free(&net);
}

/* In TIME-WAIT the engine frees its receive ring at the end of the call
 * that empties it: an owner reading in place holds the engine across
 * mpt_tcp_recv_consume and its use of the bytes (MPTCP's drain does).
 * Under AddressSanitizer a read of the bytes after an unheld consume is a
 * use after free; here they are read held, then the ring is gone. */
static bool n1_time_wait(struct hnet *net)
{
	return mpt_tcp_get_state(net->n[1].tcp) == MPT_TCP_TIME_WAIT;
}

static void test_peek_held_in_time_wait(void **state)
{
	struct hnet net;
	(void)state;
	hnet_init(&net, NULL, NULL, 10 * H_MS);
	hnet_handshake(&net);
	/* Node 1 closes first (FIN_WAIT), node 0 then sends 20,000 bytes and
	 * its FIN, which node 1 does not read: TIME-WAIT with data queued. */
	net.n[1].auto_read = false;
	assert_int_equal(mpt_tcp_shutdown(net.n[1].tcp, net.now), 0);
	hnet_run(&net, net.now + 100 * H_MS);
	uint8_t *src = h_pattern(20000, 5);
	net.n[0].src = src;
	net.n[0].src_len = 20000;
	net.n[0].shutdown_when_done = true;
	assert_true(hnet_run_until(&net, n1_time_wait, net.now + 5 * H_S));
	struct mpt_tcp *t = net.n[1].tcp;
	assert_int_equal(mpt_tcp_readable(t), 20000);
	const uint8_t *p0, *p1;
	size_t n0 = mpt_tcp_recv_peek(t, 0, &p0);
	size_t n1 = mpt_tcp_recv_peek(t, n0, &p1);
	assert_int_equal(n0 + n1, 20000);
	mpt_tcp_hold(t);
	mpt_tcp_recv_consume(t, 20000, net.now);
	assert_memory_equal(p0, src, n0); /* still there while held */
	if (n1)
		assert_memory_equal(p1, src + n0, n1);
	mpt_tcp_unhold(t);
	assert_int_equal(mpt_tcp_readable(t), 0);
	assert_int_equal(mpt_tcp_recv_peek(t, 0, &p0), 0);      /* the ring went */
	assert_int_equal(mpt_tcp_recv(t, NULL, 0, net.now), 0); /* end of stream */
	net.n[0].src = NULL;
	free(src);
	hnet_free(&net);
}

static void test_sack_recovery(void **state)
{
	struct mpt_tcp_cfg cfg = {0};
	struct drop_offs d = {0};

	(void)state;
	/* A few single losses and a burst, well inside the transfer. */
	d.offs[0] = 20 * 1448;
	d.offs[1] = 100 * 1448;
	d.offs[2] = 101 * 1448;
	d.offs[3] = 102 * 1448;
	d.offs[4] = 300 * 1448;
	d.n = 5;
	lossy(&cfg, &d, 2 << 20, 60 * H_S);
	assert_true(cfg.mib->v[MPT_MIB_TCPSackRecovery] >= 1);
	assert_true(cfg.mib->v[MPT_MIB_TCPFastRetrans] >= 5);
	assert_int_equal(cfg.mib->v[MPT_MIB_TCPRenoRecovery], 0);
	assert_int_equal(cfg.mib->v[MPT_MIB_TCPTimeouts], 0);
	free(cfg.mib);
}

static void test_newreno_recovery(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_sack = true};
	struct drop_offs d = {0};

	(void)state;
	d.offs[0] = 20 * 1448;
	d.offs[1] = 100 * 1448;
	d.offs[2] = 102 * 1448;
	d.offs[3] = 300 * 1448;
	d.n = 4;
	lossy(&cfg, &d, 2 << 20, 60 * H_S);
	assert_true(cfg.mib->v[MPT_MIB_TCPRenoRecovery] >= 1);
	assert_true(cfg.mib->v[MPT_MIB_TCPFastRetrans] >= 4);
	assert_int_equal(cfg.mib->v[MPT_MIB_TCPSackRecovery], 0);
	free(cfg.mib);
}

static void test_random_loss(void **state)
{
	for (int sack = 0; sack < 2; sack++) {
		for (int ts = 0; ts < 2; ts++) {
			struct mpt_tcp_cfg cfg = {.no_sack = !sack, .no_timestamps = !ts};
			struct drop_offs d = {0};

			(void)state;
			d.p = 0.03;
			d.rng = 99 + (uint64_t)(sack * 2 + ts);
			lossy(&cfg, &d, 1 << 20, 600 * H_S);
			assert_true(cfg.mib->v[MPT_MIB_TcpRetransSegs] > 0);
			free(cfg.mib);
		}
	}
}

static void test_rto_backoff(void **state)
{
	struct mpt_tcp_cfg cfg = {0};
	struct drop_offs d = {0};

	(void)state;
	/* Blackout of 5 s in the middle: several RTOs with backoff. */
	d.from = 1 * H_S + 200 * H_MS;
	d.until = d.from + 5 * H_S;
	lossy(&cfg, &d, 4 << 20, 120 * H_S);
	assert_true(cfg.mib->v[MPT_MIB_TCPTimeouts] >= 3);
	free(cfg.mib);
}

/* Node idx again, with the owner hooks of cb (its output, on_event and ud
 * are the harness's). */
static void hnode_with_hooks(struct hnet *net, int idx, struct mpt_tcp_cb cb)
{
	struct hnode *nd = &net->n[idx];
	mpt_tcp_destroy(nd->tcp);
	cb.output = h_output;
	cb.on_event = h_event;
	cb.ud = nd;
	assert_int_equal(mpt_tcp_create(mpt_mem_default(), &nd->cfg, &cb, &nd->tcp), 0);
	if (idx == 0)
		mpt_tcp_set_ports(nd->tcp, 40000, 80);
}

/*
 * An owner's limit below the window already offered: an MPTCP subflow's
 * window is read relative to the DATA_ACK (RFC 8684 §3.3.4), which data on
 * other subflows moves, so the connection-level space (ext_rcv_space) can
 * fall below this subflow's own edge.  The window sent must follow it down
 * (it kept the old edge, and Linux senders overran the connection's buffer);
 * data up to the edge offered before is still accepted, and the window opens
 * again with the owner's space.
 */
static uint32_t owner_space = UINT32_MAX;

static uint32_t owner_space_cb(void *ud)
{
	(void)ud;
	return owner_space;
}

static uint32_t sent_window(struct hnet *net, const struct mpt_tcp_info *i)
{
	struct hseg last;

	hcap_clear(net);
	net->capture = true;
	mpt_tcp_send_ack(net->n[0].tcp, net->now);
	hcap_last(net, &last);
	net->capture = false;
	hcap_clear(net);
	return (uint32_t)last.s.hdr.window << i->rcv_wscale;
}

static void test_owner_limit_shrinks_window(void **state)
{
	struct hnet net;
	struct mpt_tcp_info i;
	struct mpt_tcp_cfg cfg = {0};
	struct mpt_tcp_cb cb = {0};
	struct mpt_tcp_seg s;
	static uint8_t data[12000];

	(void)state;
	cfg.no_timestamps = true; /* crafted segments below carry none */
	hnet_init(&net, &cfg, NULL, 5 * H_MS);
	cb.ext_rcv_space = owner_space_cb;
	owner_space = UINT32_MAX;
	hnode_with_hooks(&net, 0, cb);
	hnet_handshake(&net);
	hnet_run(&net, net.now + 100 * H_MS);
	mpt_tcp_get_info(net.n[0].tcp, &i);
	uint32_t w0 = sent_window(&net, &i);
	assert_true(w0 > 64 * 1024);

	owner_space = 8000;
	uint32_t w1 = sent_window(&net, &i);
	assert_true(w1 <= 8000);
	assert_true(w1 + (1u << i.rcv_wscale) > 8000);

	/* 12000 bytes in order: past the new edge, within the old one. */
	net.n[0].auto_read = false;
	hcraft(&s, MPT_TCP_ACK | MPT_TCP_PSH, i.rcv_nxt, i.snd_nxt, 65535, data, sizeof(data));
	assert_int_equal(hin(&net, &s), 0);
	struct mpt_tcp_info j;
	mpt_tcp_get_info(net.n[0].tcp, &j);
	assert_int_equal(j.rcv_nxt - i.rcv_nxt, sizeof(data));

	/* The owner's space is back: the window opens again. */
	owner_space = UINT32_MAX;
	hnet_run(&net, net.now + 10 * H_MS);
	mpt_tcp_get_info(net.n[0].tcp, &i);
	assert_true(sent_window(&net, &i) > 64 * 1024);
	hnet_free(&net);
}

/*
 * The owner takes in-order payload itself (ext_rcv_direct, as MPTCP puts
 * it in its data-level buffer): some calls take all, some part, some
 * nothing, the rest goes to the ring.  Under loss (out-of-order data held
 * in the ring) the bytes taken and the bytes read, in the order they came
 * out, are the stream; the hook is offered bytes only when the ring has
 * none readable, never past held out-of-order data, each at the next
 * sequence number.
 */
struct direct_owner {
	struct hnode *nd;
	uint64_t rng;
	uint32_t base; /* sequence number of the stream's first byte */
	bool started;
	uint64_t calls, taken, partial;
};

static struct direct_owner *direct_owner; /* the callbacks' ud is the node */

static uint32_t direct_cb(void *ud, uint32_t seq, const uint8_t *data, uint32_t n)
{
	struct direct_owner *o = direct_owner;
	struct hnode *nd = ud;
	assert_ptr_equal(nd, o->nd);
	o->calls++;
	assert_true(n > 0);
	assert_int_equal(mpt_tcp_readable(nd->tcp), 0);
	/* Every byte before the offer came out already (taken or read). */
	if (!o->started)
		o->base = seq - (uint32_t)nd->sink_len;
	assert_int_equal(seq - o->base, nd->sink_len);
	uint32_t take;
	switch (mpt_splitmix64(&o->rng) % 4) {
	case 0:
		take = 0;
		break;
	case 1:
		take = 1 + (uint32_t)(mpt_splitmix64(&o->rng) % n);
		o->partial += take < n;
		break;
	default:
		take = n;
		break;
	}
	if (nd->sink_cap - nd->sink_len < n) {
		nd->sink_cap = nd->sink_cap ? 2 * nd->sink_cap + n : (1u << 17) + n;
		nd->sink = realloc(nd->sink, nd->sink_cap);
		assert_non_null(nd->sink);
	}
	memcpy(nd->sink + nd->sink_len, data, take);
	nd->sink_len += take;
	o->taken += take;
	o->started = true;
	return take;
}

static void test_direct_receive(void **state)
{
	struct hnet net;
	struct mpt_tcp_cb cb = {0};
	struct direct_owner o = {.rng = 2024};
	(void)state;
	hnet_init(&net, NULL, NULL, 10 * H_MS);
	o.nd = &net.n[1];
	cb.ext_rcv_direct = direct_cb;
	hnode_with_hooks(&net, 1, cb);
	direct_owner = &o;
	net.drop = drop_every_37th;
	hnet_handshake(&net);
	transfer(&net, 3u << 20, 120 * H_S);
	assert_true(net.dropped > 0);
	assert_true(o.calls > 100);
	assert_true(o.taken > (1u << 20) && o.taken < (3u << 20));
	assert_true(o.partial > 0);
	struct mpt_tcp_info i;
	mpt_tcp_get_info(net.n[1].tcp, &i);
	assert_int_equal(i.bytes_received, 3u << 20);
	hnet_free(&net);
}

/*
 * Owned sends (mpt_tcp_send_owned, as MPTCP sends from its data-level
 * buffer): the engine asks its owner for each segment's payload
 * (ext_snd_read).  Now and then the owner hands a prefix of its bytes to
 * the engine (mpt_tcp_snd_fill, as MPTCP does before DATA_ACK releases
 * them) and scribbles over its own copy; from then on it reads those from
 * the ring (mpt_tcp_snd_peek).  Under loss (retransmissions of handed-over
 * bytes) the receiver gets the stream, and the engine never asks for a
 * byte below SND.UNA or beyond what was queued.
 */
static struct {
	uint8_t *buf;  /* the owner's bytes (scribbled once handed over) */
	uint32_t base; /* sequence number of buf[0] */
	uint32_t kept; /* bytes of buf handed to the engine */
	size_t len;
	uint64_t calls, from_ring, from_owner;
} own;

static bool own_read(void *ud, uint32_t seq, uint8_t *dst, uint32_t n)
{
	struct hnode *nd = ud;
	uint32_t off = seq - own.base;
	own.calls++;
	assert_true(mpt_seq_geq(seq, mpt_tcp_snd_held_seq(nd->tcp)));
	assert_true(mpt_seq_leq(seq + n, mpt_tcp_snd_write_seq(nd->tcp)));
	assert_true((size_t)off + n <= own.len);
	uint32_t r = off < own.kept ? MPT_MIN(n, own.kept - off) : 0;
	if (r > 0) {
		mpt_tcp_snd_peek(nd->tcp, seq, dst, r);
		own.from_ring += r;
	}
	memcpy(dst + r, own.buf + off + r, n - r);
	own.from_owner += n - r;
	return true;
}

static void test_owned_send(void **state)
{
	struct hnet net;
	struct mpt_tcp_cb cb = {0};
	const size_t len = 2u << 20;
	uint64_t rng = 99;
	(void)state;
	hnet_init(&net, NULL, NULL, 10 * H_MS);
	cb.ext_snd_read = own_read;
	hnode_with_hooks(&net, 0, cb);
	net.drop = drop_every_37th;
	hnet_handshake(&net);
	/* Not without the hook. */
	assert_int_equal(mpt_tcp_send_owned(net.n[1].tcp, 10, net.now), MPT_ERR_INVAL);
	uint8_t *src = h_pattern(len, 78);
	memset(&own, 0, sizeof(own));
	own.buf = malloc(len);
	assert_non_null(own.buf);
	memcpy(own.buf, src, len);
	own.len = len;
	own.base = mpt_tcp_snd_write_seq(net.n[0].tcp);
	struct hnode *a = &net.n[0];
	a->owned = true;
	a->src = own.buf; /* the pump counts with it; owned sends read nothing */
	a->src_len = len;
	uint64_t limit = net.now + 120 * H_S;
	while (net.n[1].sink_len < len && net.now < limit) {
		hnet_run(&net, net.now + 3 * H_MS);
		/* Hand over a random part of what was sent and not handed
		 * over (MPTCP: sent, then DATA_ACKed before the subflow's ACK);
		 * now and then a few not sent yet. */
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(a->tcp, &ti);
		uint32_t upto = ti.snd_nxt - own.base;
		if (mpt_splitmix64(&rng) % 64 == 0)
			upto = MPT_MIN(upto + 8000, mpt_tcp_snd_write_seq(a->tcp) - own.base);
		if (upto > own.kept && upto <= len && mpt_splitmix64(&rng) % 3 == 0) {
			uint32_t k =
			    own.kept + (uint32_t)(mpt_splitmix64(&rng) % (upto - own.kept + 1));
			mpt_tcp_snd_fill(a->tcp, own.base + own.kept, own.buf + own.kept,
					 k - own.kept);
			memset(own.buf + own.kept, 0xEE, k - own.kept);
			own.kept = k;
		}
	}
	assert_int_equal(net.n[1].sink_len, len);
	assert_memory_equal(net.n[1].sink, src, len);
	assert_true(net.dropped > 0);
	assert_true(own.kept > len / 4);
	fprintf(stderr, "owned: kept %u, from ring %llu, from owner %llu, calls %llu\n", own.kept,
		(unsigned long long)own.from_ring, (unsigned long long)own.from_owner,
		(unsigned long long)own.calls);
	assert_true(own.from_ring > 0 && own.from_owner > len / 2);
	struct mpt_tcp_info i;
	mpt_tcp_get_info(a->tcp, &i);
	assert_true(i.total_retrans > 0);
	a->src = NULL;
	free(own.buf);
	free(src);
	hnet_free(&net);
}

/* Bytes held out of order win over a later segment's different bytes for
 * the same sequence numbers (a lying peer cannot change data once held):
 * the hook is offered only the bytes before them. */
static uint32_t offered_n;

static uint32_t direct_all_cb(void *ud, uint32_t seq, const uint8_t *data, uint32_t n)
{
	(void)seq;
	struct hnode *nd = ud;
	offered_n = n;
	if (nd->sink_cap - nd->sink_len < n) {
		nd->sink_cap = nd->sink_len + n;
		nd->sink = realloc(nd->sink, nd->sink_cap);
		assert_non_null(nd->sink);
	}
	memcpy(nd->sink + nd->sink_len, data, n);
	nd->sink_len += n;
	return n;
}

static void test_direct_receive_held_bytes_win(void **state)
{
	struct hnet net;
	struct mpt_tcp_info i;
	struct mpt_tcp_cfg cfg = {0};
	struct mpt_tcp_cb cb = {0};
	struct mpt_tcp_seg s;
	static uint8_t a[2000], b[1000];

	(void)state;
	memset(a, 'A', sizeof(a));
	memset(b, 'B', sizeof(b));
	cfg.no_timestamps = true; /* crafted segments below carry none */
	hnet_init(&net, &cfg, NULL, 5 * H_MS);
	cb.ext_rcv_direct = direct_all_cb;
	hnode_with_hooks(&net, 0, cb);
	hnet_handshake(&net);
	hnet_run(&net, net.now + 100 * H_MS);
	net.n[0].auto_read = false;
	mpt_tcp_get_info(net.n[0].tcp, &i);
	/* [1000, 2000) out of order, then [0, 2000) with other bytes. */
	hcraft(&s, MPT_TCP_ACK, i.rcv_nxt + 1000, i.snd_nxt, 65535, b, sizeof(b));
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(offered_n, 0);
	hcraft(&s, MPT_TCP_ACK | MPT_TCP_PSH, i.rcv_nxt, i.snd_nxt, 65535, a, sizeof(a));
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(offered_n, 1000);
	assert_int_equal(net.n[0].sink_len, 1000);
	assert_memory_equal(net.n[0].sink, a, 1000);
	uint8_t rest[1000];
	assert_int_equal(mpt_tcp_readable(net.n[0].tcp), 1000);
	assert_int_equal(mpt_tcp_recv(net.n[0].tcp, rest, sizeof(rest), net.now), 1000);
	assert_memory_equal(rest, b, 1000);
	struct mpt_tcp_info j;
	mpt_tcp_get_info(net.n[0].tcp, &j);
	assert_int_equal(j.rcv_nxt - i.rcv_nxt, 2000);
	assert_int_equal(j.bytes_received, i.bytes_received + 2000);
	hnet_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_transfer),
	    cmocka_unit_test(test_zero_copy_calls),
	    cmocka_unit_test(test_peek_held_in_time_wait),
	    cmocka_unit_test(test_sack_recovery),
	    cmocka_unit_test(test_newreno_recovery),
	    cmocka_unit_test(test_random_loss),
	    cmocka_unit_test(test_rto_backoff),
	    cmocka_unit_test(test_owner_limit_shrinks_window),
	    cmocka_unit_test(test_offload_first_segment_alone),
	    cmocka_unit_test(test_direct_receive),
	    cmocka_unit_test(test_owned_send),
	    cmocka_unit_test(test_direct_receive_held_bytes_win),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
