/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP engine: creation, configuration, the application-facing API (open,
 * send, receive, shutdown, close, abort), state bookkeeping and events.
 *
 * Events are coalesced into a bit set and delivered when the outermost
 * engine call returns, in the order ESTABLISHED, READABLE, WRITABLE, ERROR,
 * CLOSED, at most once each per call.  Callbacks may call back into the
 * engine (send, recv, shutdown, ...), but must NOT destroy it: destroy after
 * EV_CLOSED once the engine call has returned.
 */
#include "tcp/tcp_internal.h"

const char *mpt_tcp_state_name(enum mpt_tcp_state s)
{
	switch (s) {
	case MPT_TCP_CLOSED:
		return "CLOSED";
	case MPT_TCP_LISTEN:
		return "LISTEN";
	case MPT_TCP_SYN_SENT:
		return "SYN-SENT";
	case MPT_TCP_SYN_RECEIVED:
		return "SYN-RECEIVED";
	case MPT_TCP_ESTABLISHED:
		return "ESTABLISHED";
	case MPT_TCP_FIN_WAIT_1:
		return "FIN-WAIT-1";
	case MPT_TCP_FIN_WAIT_2:
		return "FIN-WAIT-2";
	case MPT_TCP_CLOSE_WAIT:
		return "CLOSE-WAIT";
	case MPT_TCP_CLOSING:
		return "CLOSING";
	case MPT_TCP_LAST_ACK:
		return "LAST-ACK";
	case MPT_TCP_TIME_WAIT:
		return "TIME-WAIT";
	}
	return "?";
}

bool tcp_synchronized(enum mpt_tcp_state s)
{
	switch (s) {
	case MPT_TCP_ESTABLISHED:
	case MPT_TCP_FIN_WAIT_1:
	case MPT_TCP_FIN_WAIT_2:
	case MPT_TCP_CLOSE_WAIT:
	case MPT_TCP_CLOSING:
	case MPT_TCP_LAST_ACK:
	case MPT_TCP_TIME_WAIT:
		return true;
	case MPT_TCP_CLOSED:
	case MPT_TCP_LISTEN:
	case MPT_TCP_SYN_SENT:
	case MPT_TCP_SYN_RECEIVED:
		break;
	}
	return false;
}

/* RFC 7323 §5.4: 1 ms timestamp clock plus a per-connection offset. */
uint32_t tcp_tsval(const struct mpt_tcp *t, uint64_t now)
{
	return (uint32_t)(now / MPT_NS_PER_MS) + t->cfg.ts_offset;
}

/* ---- events ---------------------------------------------------------- */

void tcp_event(struct mpt_tcp *t, enum mpt_tcp_event ev)
{
	if (t->closed_reported)
		return;
	t->ev_pending |= 1u << (unsigned)ev;
}

void tcp_enter(struct mpt_tcp *t)
{
	t->depth++;
}

void tcp_leave(struct mpt_tcp *t)
{
	static const enum mpt_tcp_event order[] = {
	    MPT_TCP_EV_ESTABLISHED, MPT_TCP_EV_READABLE, MPT_TCP_EV_WRITABLE,
	    MPT_TCP_EV_ERROR,       MPT_TCP_EV_CLOSED,
	};

	if (t->depth > 1) {
		t->depth--;
		return;
	}
	/* Before the events: their handlers may destroy the engine. */
	tcp_release_buffers(t);
	void (*touched)(void *) = t->cb.touched;
	void *ud = t->cb.ud;
	/* Still "inside" while delivering, so nested calls do not deliver. */
	while (t->ev_pending && !t->closed_reported) {
		for (size_t i = 0; i < MPT_ARRAY_SIZE(order); i++) {
			uint32_t bit = 1u << (unsigned)order[i];

			if (!(t->ev_pending & bit))
				continue;
			t->ev_pending &= ~bit;
			if (order[i] == MPT_TCP_EV_CLOSED)
				t->closed_reported = true;
			t->cb.on_event(t->cb.ud, order[i]);
			break;
		}
	}
	t->ev_pending = 0;
	t->depth--;
	if (touched)
		touched(ud);
}

/* ---- state helpers ---------------------------------------------------- */

void tcp_set_state(struct mpt_tcp *t, enum mpt_tcp_state s)
{
	t->state = s;
}

/* Enter CLOSED: stop every timer, drop buffers' contents, report. */
void tcp_become_closed(struct mpt_tcp *t)
{
	t->state = MPT_TCP_CLOSED;
	t->rtx_at = t->persist_at = t->delack_at = t->ka_at = t->tw_at = MPT_TIME_NEVER;
	t->reo_at = t->pto_at = MPT_TIME_NEVER;
	t->ack_now = false;
	tcp_event(t, MPT_TCP_EV_CLOSED);
}

/* The connection failed (reset, timeout, refused): flush queues (RFC 9293
 * §3.10.7.4 "all segment queues should be flushed") and report. */
void tcp_fail(struct mpt_tcp *t, int err)
{
	t->err = err;
	t->rb.len = 0;
	t->n_ofo = 0;
	t->sb.len = 0;
	tcp_event(t, MPT_TCP_EV_ERROR);
	tcp_become_closed(t);
}

/* Apply the peer's SYN options (RFC 7323 §2.2/§3.2, RFC 2018 §2, RFC 9293
 * §3.7.1).  Our offers follow cfg; a feature is on when both offered it. */
void tcp_negotiate(struct mpt_tcp *t, const struct mpt_tcp_opts *o)
{
	t->peer_mss = (o->present & MPT_TCPOPT_F_MSS) ? o->mss : TCP_DEFAULT_MSS;
	if (t->peer_mss < TCP_MIN_MSS)
		t->peer_mss = TCP_MIN_MSS;
	t->ws_ok = !t->cfg.no_wscale && (o->present & MPT_TCPOPT_F_WSCALE);
	if (t->ws_ok) {
		t->snd_wscale = MPT_MIN(o->wscale, (uint8_t)MPT_TCP_WSCALE_MAX);
		t->rcv_wscale = t->rcv_wscale_offer;
	} else {
		t->snd_wscale = 0;
		t->rcv_wscale = 0;
	}
	t->sack_ok = !t->cfg.no_sack && (o->present & MPT_TCPOPT_F_SACK_PERM);
	/* RFC 8985 needs SACK; without it NewReno (RFC 6582) stays. */
	t->rack_on = t->sack_ok;
	t->ts_ok = !t->cfg.no_timestamps && (o->present & MPT_TCPOPT_F_TS);
	if (t->ts_ok)
		t->ts_recent = o->tsval;
	t->mss_cap = MPT_MIN(t->peer_mss, (uint32_t)t->cfg.mss);
	t->snd_mss = t->mss_cap - (t->ts_ok ? TCP_TS_OPT_LEN : 0u);
}

/* Handshake complete (RFC 9293 §3.10.7.3 / §3.10.7.4 SYN-RECEIVED). */
void tcp_established(struct mpt_tcp *t, uint64_t now)
{
	tcp_set_state(t, MPT_TCP_ESTABLISHED);
	t->retries = 0;
	/* RFC 6298 §5.7: SYN timed out and no RTT sample: RTO back to 3 s. */
	if (t->backoff > 0 && t->srtt == 0)
		t->rto = MPT_MAX(t->rto, 3 * MPT_NS_PER_S);
	t->backoff = 0;
	t->rtx_at = MPT_TIME_NEVER;
	if (!t->cc_started) /* TFO: already sending since SYN-RECEIVED */
		mpt_cc_start(&t->cc, t->cfg.cc, t->snd_mss, now);
	t->cc.srtt_ns = t->srtt;
	t->cc.min_rtt_ns = t->min_rtt;
	t->cc_started = true;
	t->last_rcv = now;
	tcp_event(t, MPT_TCP_EV_ESTABLISHED);
	if (t->shut_wr)
		tcp_start_fin(t);
}

/* Queue the FIN after the buffered data and move to FIN-WAIT-1/LAST-ACK. */
void tcp_start_fin(struct mpt_tcp *t)
{
	if (t->fin_queued)
		return;
	if (t->state == MPT_TCP_ESTABLISHED)
		tcp_set_state(t, MPT_TCP_FIN_WAIT_1);
	else if (t->state == MPT_TCP_CLOSE_WAIT)
		tcp_set_state(t, MPT_TCP_LAST_ACK);
	else
		return;
	t->fin_queued = true;
	t->fin_seq = tcp_data_end(t);
}

/* ---- create / destroy --------------------------------------------------- */

uint8_t tcp_wscale_for(uint32_t rcvbuf)
{
	/* RFC 7323 §2.3: smallest shift such that the buffer fits in 16 bits. */
	uint8_t shift = 0;
	while (shift < MPT_TCP_WSCALE_MAX && (rcvbuf >> shift) > 65535u)
		shift++;
	return shift;
}

void tcp_apply_defaults(struct mpt_tcp_cfg *c)
{
	if (!c->mss)
		c->mss = 1460;
	if (c->mss < TCP_MIN_MSS)
		c->mss = TCP_MIN_MSS;
	if (!c->sndbuf)
		c->sndbuf = 256 * 1024;
	if (!c->rcvbuf)
		c->rcvbuf = 256 * 1024;
	if (c->rcvbuf > (1u << 30))
		c->rcvbuf = 1u << 30; /* RFC 7323 §2.3: 2^30 is the largest window */
	if (c->sndbuf > (1u << 30))
		c->sndbuf = 1u << 30;
	if (!c->keepalive_idle_ns)
		c->keepalive_idle_ns = 7200 * MPT_NS_PER_S;
	if (!c->keepalive_intvl_ns)
		c->keepalive_intvl_ns = 75 * MPT_NS_PER_S;
	if (!c->keepalive_probes)
		c->keepalive_probes = 9;
	if (!c->delack_ns)
		c->delack_ns = 40 * MPT_NS_PER_MS;
	if (!c->rto_initial_ns)
		c->rto_initial_ns = MPT_NS_PER_S;
	if (!c->rto_min_ns)
		c->rto_min_ns = 200 * MPT_NS_PER_MS;
	if (!c->rto_max_ns)
		c->rto_max_ns = 60 * MPT_NS_PER_S;
	if (c->rto_max_ns < c->rto_min_ns)
		c->rto_max_ns = c->rto_min_ns;
	if (!c->msl_ns)
		c->msl_ns = 30 * MPT_NS_PER_S;
	if (!c->syn_retries)
		c->syn_retries = 6;
	if (!c->max_retries)
		c->max_retries = 15;
	if (!c->cc)
		c->cc = &mpt_cc_cubic;
}

int mpt_tcp_create(const struct mpt_mem *mem, const struct mpt_tcp_cfg *cfg,
		   const struct mpt_tcp_cb *cb, struct mpt_tcp **out)
{
	struct mpt_tcp *t;
	uint8_t shift = 0;

	if (!mem || !cb || !cb->output || !cb->on_event || !out)
		return MPT_ERR_INVAL;
	t = mpt_calloc(mem, 1, sizeof(*t));
	if (!t)
		return MPT_ERR_NOMEM;
	t->mem = *mem;
	if (cfg)
		t->cfg = *cfg;
	tcp_apply_defaults(&t->cfg);
	t->cb = *cb;
	if (t->cfg.obuf) {
		/* shared with the owner's other engines */
		t->obuf = t->cfg.obuf;
		t->obuf_cap = t->cfg.obuf_cap;
		if (t->obuf_cap < MPT_TCP_HEADROOM + MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN +
				      MPT_MAX(t->cfg.mss, t->cfg.tso_max)) {
			mpt_free(mem, t);
			return MPT_ERR_INVAL;
		}
	} else {
		t->cfg.tso_max = 0; /* an own buffer holds one MSS */
		t->obuf_cap = MPT_TCP_HEADROOM + MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN + t->cfg.mss;
		t->obuf = mpt_malloc(mem, t->obuf_cap);
	}
	if (!t->obuf || tcp_ring_init(&t->sb, mem, t->cfg.sndbuf) < 0 ||
	    tcp_ring_init(&t->rb, mem, t->cfg.rcvbuf) < 0 || tcp_txr_init(t) < 0) {
		mpt_tcp_destroy(t);
		return MPT_ERR_NOMEM;
	}
	shift = tcp_wscale_for(t->cfg.rcvbuf);
	t->rcv_wscale_offer = shift;
	t->state = MPT_TCP_CLOSED;
	t->rto = t->cfg.rto_initial_ns;
	t->peer_mss = TCP_DEFAULT_MSS;
	t->mss_cap = t->cfg.mss;
	t->snd_mss = t->cfg.mss;
	t->rtx_at = t->persist_at = t->delack_at = t->ka_at = t->tw_at = MPT_TIME_NEVER;
	t->cc.cwnd = 4 * t->cfg.mss; /* placeholder until mpt_cc_start */
	t->cc.ssthresh = UINT32_MAX;
	t->chal_start = 0;
	*out = t;
	return 0;
}

void mpt_tcp_destroy(struct mpt_tcp *t)
{
	struct mpt_mem mem;

	if (!t)
		return;
	mem = t->mem;
	tcp_ring_free(&t->sb, &mem);
	tcp_ring_free(&t->rb, &mem);
	tcp_txr_free(t);
	if (t->obuf != t->cfg.obuf)
		mpt_free(&mem, t->obuf);
	mpt_free(&mem, t);
}

void mpt_tcp_set_ports(struct mpt_tcp *t, uint16_t sport, uint16_t dport)
{
	t->sport = sport;
	t->dport = dport;
}

void mpt_tcp_set_nagle(struct mpt_tcp *t, bool on)
{
	t->cfg.nagle = on;
}

/* ---- open ---------------------------------------------------------------- */

static void init_send_seq(struct mpt_tcp *t, uint32_t iss)
{
	t->iss = iss;
	t->snd_una = iss;
	t->snd_nxt = iss;
	t->sb_seq = iss + 1;
	t->recover = iss;
	t->rxt_high = iss;
}

int mpt_tcp_connect(struct mpt_tcp *t, uint32_t iss, uint64_t now)
{
	if (!t)
		return MPT_ERR_INVAL;
	if (t->state != MPT_TCP_CLOSED || t->opened)
		return MPT_ERR_STATE;
	tcp_enter(t);
	t->opened = true;
	init_send_seq(t, iss);
	tcp_set_state(t, MPT_TCP_SYN_SENT);
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpActiveOpens);
	t->last_rcv = now;
	tcp_send_syn(t, now);
	t->rtx_at = now + tcp_rto_cur(t);
	tcp_leave(t);
	return 0;
}

void mpt_tcp_skip_handshake_rtt(struct mpt_tcp *t)
{
	t->rtt_timing = false;
	t->skip_ts_rtt = true;
}

int mpt_tcp_accept(struct mpt_tcp *t, const struct mpt_tcp_seg *syn, uint32_t iss, uint64_t now)
{
	return mpt_tcp_accept_tfo(t, syn, iss, NULL, now);
}

int mpt_tcp_accept_tfo(struct mpt_tcp *t, const struct mpt_tcp_seg *syn, uint32_t iss,
		       const struct mpt_tcp_tfo *tfo, uint64_t now)
{
	if (!t || !syn)
		return MPT_ERR_INVAL;
	if (t->state != MPT_TCP_CLOSED || t->opened)
		return MPT_ERR_STATE;
	if ((syn->hdr.flags & (MPT_TCP_SYN | MPT_TCP_ACK | MPT_TCP_RST)) != MPT_TCP_SYN)
		return MPT_ERR_PROTO;
	tcp_enter(t);
	t->opened = true;
	t->passive = true;
	init_send_seq(t, iss);
	t->sport = syn->hdr.dport;
	t->dport = syn->hdr.sport;
	t->irs = syn->hdr.seq;
	t->rcv_nxt = t->irs + 1;
	t->read_seq = t->rcv_nxt;
	t->rcv_adv = t->rcv_nxt;
	t->rcv_sent = t->rcv_adv;
	t->last_ack_sent = t->rcv_nxt;
	tcp_negotiate(t, &syn->opts);
	t->ts_recent_stamp = now;
	/* RFC 7323 §2.2: the window of a SYN is never scaled. */
	t->snd_wnd = syn->hdr.window;
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = syn->hdr.seq;
	t->snd_wl2 = iss;
	tcp_set_state(t, MPT_TCP_SYN_RECEIVED);
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpPassiveOpens);
	t->segs_in++;
	t->last_rcv = now;
	if (t->cb.ext_input)
		t->cb.ext_input(t->cb.ud, syn);
	if (tfo && tfo->cookie_len >= 4 && tfo->cookie_len <= 16 && tfo->cookie_len % 2 == 0) {
		t->tfo_cookie_len = tfo->cookie_len;
		memcpy(t->tfo_cookie, tfo->cookie, tfo->cookie_len);
	}
	if (tfo && tfo->accept_data && syn->len > 0) {
		/* RFC 7413 §4.2.2: the SYN's data is accepted and the SYN-ACK
		 * acknowledges it; what does not fit the buffer is left for
		 * the peer to send again.  Without TFO the data is dropped and
		 * the peer resends it after the handshake (RFC 9293). */
		uint32_t n = (uint32_t)MPT_MIN(syn->len, (size_t)tcp_rcv_space(t));
		if (n > 0 && tcp_rcv_data(t, t->rcv_nxt, syn->payload, n) > 0) {
			t->bytes_received += n;
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPFastOpenPassive);
			/* RFC 7413 §4.2.2: the answer may leave before the
			 * handshake completes (within the initial window). */
			t->tfo_send = true;
			mpt_cc_start(&t->cc, t->cfg.cc, t->snd_mss, now);
			t->cc_started = true;
		}
	}
	tcp_send_syn(t, now);
	t->rtx_at = now + tcp_rto_cur(t);
	tcp_leave(t);
	return 0;
}

/* ---- data ---------------------------------------------------------------- */

long mpt_tcp_send(struct mpt_tcp *t, const void *data, size_t len, uint64_t now)
{
	return mpt_tcp_send2(t, data, len, NULL, 0, now);
}

/* Queue len + len2 bytes; owned: the owner keeps them (nothing copied). */
static long send_queue(struct mpt_tcp *t, const void *data, size_t len, const void *data2,
		       size_t len2, bool owned, uint64_t now)
{
	uint32_t room, n, n2;

	if (t->err)
		return t->err;
	switch (t->state) {
	case MPT_TCP_SYN_SENT:
	case MPT_TCP_SYN_RECEIVED:
	case MPT_TCP_ESTABLISHED:
	case MPT_TCP_CLOSE_WAIT:
		if (t->shut_wr)
			return MPT_ERR_CLOSED;
		break;
	case MPT_TCP_CLOSED:
	case MPT_TCP_LISTEN:
		return t->opened ? MPT_ERR_CLOSED : MPT_ERR_STATE;
	case MPT_TCP_FIN_WAIT_1:
	case MPT_TCP_FIN_WAIT_2:
	case MPT_TCP_CLOSING:
	case MPT_TCP_LAST_ACK:
	case MPT_TCP_TIME_WAIT:
		return MPT_ERR_CLOSED;
	}
	if (len + len2 == 0)
		return 0;
	room = t->sb.cap - t->sb.len;
	if (room == 0)
		return MPT_ERR_AGAIN;
	n = (uint32_t)MPT_MIN((size_t)room, len);
	n2 = (uint32_t)MPT_MIN((size_t)(room - n), len2);
	tcp_enter(t);
	if (!owned) {
		tcp_ring_write(&t->sb, t->sb.len, data, n);
		if (n2)
			tcp_ring_write(&t->sb, t->sb.len + n, data2, n2);
	}
	t->sb.len += n + n2;
	n += n2;
	if (tcp_may_send(t))
		tcp_output(t, now);
	tcp_leave(t);
	return (long)n;
}

long mpt_tcp_send2(struct mpt_tcp *t, const void *data, size_t len, const void *data2, size_t len2,
		   uint64_t now)
{
	if (!t || (!data && len) || (!data2 && len2))
		return MPT_ERR_INVAL;
	return send_queue(t, data, len, data2, len2, false, now);
}

long mpt_tcp_send_owned(struct mpt_tcp *t, size_t len, uint64_t now)
{
	if (!t || !t->cb.ext_snd_read)
		return MPT_ERR_INVAL;
	return send_queue(t, NULL, len, NULL, 0, true, now);
}

void mpt_tcp_snd_fill(struct mpt_tcp *t, uint32_t seq, const void *src, uint32_t n)
{
	const uint8_t *p = src;
	uint32_t end = seq + n;

	if (mpt_seq_lt(seq, t->sb_seq)) {
		if (mpt_seq_leq(end, t->sb_seq))
			return;
		p += t->sb_seq - seq;
		seq = t->sb_seq;
	}
	if (mpt_seq_gt(end, t->sb_seq + t->sb.len))
		end = t->sb_seq + t->sb.len;
	if (mpt_seq_lt(seq, end))
		tcp_ring_write(&t->sb, seq - t->sb_seq, p, end - seq);
}

void mpt_tcp_snd_peek(const struct mpt_tcp *t, uint32_t seq, void *dst, uint32_t n)
{
	tcp_ring_read(&t->sb, seq - t->sb_seq, dst, n);
}

uint32_t mpt_tcp_snd_held_seq(const struct mpt_tcp *t)
{
	return t->sb_seq;
}

long mpt_tcp_recv(struct mpt_tcp *t, void *buf, size_t len, uint64_t now)
{
	uint32_t avail, n;

	if (!t || (!buf && len))
		return MPT_ERR_INVAL;
	avail = tcp_rcv_avail(t);
	if (avail == 0) {
		if (t->err)
			return t->err;
		if (t->fin_rcvd)
			return 0;
		if (t->state == MPT_TCP_CLOSED)
			return t->opened ? MPT_ERR_CLOSED : MPT_ERR_STATE;
		return MPT_ERR_AGAIN;
	}
	if (len == 0)
		return 0;
	n = (uint32_t)MPT_MIN((size_t)avail, len);
	tcp_enter(t);
	tcp_ring_read(&t->rb, 0, buf, n);
	tcp_ring_consume(&t->rb, n);
	t->read_seq += n;
	tcp_maybe_window_update(t, now);
	tcp_leave(t);
	return (long)n;
}

void mpt_tcp_window_check(struct mpt_tcp *t, uint64_t now)
{
	if (!t)
		return;
	tcp_enter(t);
	tcp_maybe_window_update(t, now);
	tcp_leave(t);
}

size_t mpt_tcp_recv_peek(const struct mpt_tcp *t, size_t off, const uint8_t **p)
{
	*p = NULL;
	if (!t || t->rb.cap == 0 || off >= tcp_rcv_avail(t))
		return 0;
	uint32_t pos = (uint32_t)(((uint64_t)t->rb.head + off) % t->rb.cap);
	*p = t->rb.buf + pos;
	return MPT_MIN((size_t)tcp_rcv_avail(t) - off, (size_t)(t->rb.cap - pos));
}

void mpt_tcp_recv_consume(struct mpt_tcp *t, size_t n, uint64_t now)
{
	if (!t || n == 0 || n > tcp_rcv_avail(t))
		return;
	tcp_enter(t);
	tcp_ring_consume(&t->rb, (uint32_t)n);
	t->read_seq += (uint32_t)n;
	tcp_maybe_window_update(t, now);
	tcp_leave(t);
}

void mpt_tcp_hold(struct mpt_tcp *t)
{
	if (t)
		tcp_enter(t);
}

void mpt_tcp_unhold(struct mpt_tcp *t)
{
	if (t)
		tcp_leave(t);
}

size_t mpt_tcp_readable(const struct mpt_tcp *t)
{
	return t ? tcp_rcv_avail(t) : 0;
}

size_t mpt_tcp_writable(const struct mpt_tcp *t)
{
	if (!t || t->shut_wr || t->err)
		return 0;
	return t->sb.cap - t->sb.len;
}

/* ---- close ------------------------------------------------------------- */

int mpt_tcp_shutdown(struct mpt_tcp *t, uint64_t now)
{
	if (!t)
		return MPT_ERR_INVAL;
	switch (t->state) {
	case MPT_TCP_SYN_SENT:
	case MPT_TCP_SYN_RECEIVED:
		/* RFC 9293 §3.10.4: queue the FIN until the connection is up. */
		t->shut_wr = true;
		return 0;
	case MPT_TCP_ESTABLISHED:
	case MPT_TCP_CLOSE_WAIT:
		tcp_enter(t);
		t->shut_wr = true;
		tcp_start_fin(t);
		tcp_output(t, now);
		tcp_leave(t);
		return 0;
	case MPT_TCP_FIN_WAIT_1:
	case MPT_TCP_FIN_WAIT_2:
	case MPT_TCP_CLOSING:
	case MPT_TCP_LAST_ACK:
	case MPT_TCP_TIME_WAIT:
		return 0; /* already shut down */
	case MPT_TCP_CLOSED:
	case MPT_TCP_LISTEN:
		break;
	}
	return MPT_ERR_STATE;
}

int mpt_tcp_close(struct mpt_tcp *t, uint64_t now)
{
	int r;

	if (!t)
		return MPT_ERR_INVAL;
	if (t->state == MPT_TCP_CLOSED || t->state == MPT_TCP_LISTEN)
		return MPT_ERR_STATE;
	tcp_enter(t);
	t->app_closed = true;
	if (t->state == MPT_TCP_SYN_SENT) {
		/* RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB. */
		tcp_become_closed(t);
		tcp_leave(t);
		return 0;
	}
	if (tcp_rcv_avail(t) > 0 && t->state != MPT_TCP_TIME_WAIT) {
		/* RFC 9293 §3.6 / RFC 2525 §2.17: unread data: reset. */
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPAbortOnData);
		tcp_send_rst(t, t->snd_nxt, t->rcv_nxt, true, now);
		t->rb.len = 0;
		tcp_become_closed(t);
		tcp_leave(t);
		return 0;
	}
	r = mpt_tcp_shutdown(t, now);
	/* An orphaned FIN-WAIT-2 does not wait forever for the peer's FIN. */
	if (t->state == MPT_TCP_FIN_WAIT_2 && t->tw_at == MPT_TIME_NEVER)
		t->tw_at = now + 2 * t->cfg.msl_ns;
	tcp_leave(t);
	return r;
}

void mpt_tcp_abort(struct mpt_tcp *t, uint64_t now)
{
	if (!t || t->state == MPT_TCP_CLOSED)
		return;
	tcp_enter(t);
	/* RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST> in synchronized states. */
	if (t->state == MPT_TCP_SYN_RECEIVED || tcp_synchronized(t->state)) {
		if (t->state != MPT_TCP_TIME_WAIT)
			tcp_send_rst(t, t->snd_nxt, t->rcv_nxt, true, now);
	}
	t->app_closed = true;
	t->rb.len = 0;
	t->n_ofo = 0;
	t->sb.len = 0;
	tcp_become_closed(t);
	tcp_leave(t);
}

/* ---- queries -------------------------------------------------------------- */

enum mpt_tcp_state mpt_tcp_get_state(const struct mpt_tcp *t)
{
	return t ? t->state : MPT_TCP_CLOSED;
}

int mpt_tcp_error(const struct mpt_tcp *t)
{
	return t ? t->err : MPT_ERR_INVAL;
}

uint32_t mpt_tcp_snd_write_seq(const struct mpt_tcp *t)
{
	return tcp_data_end(t);
}

void mpt_tcp_send_ack(struct mpt_tcp *t, uint64_t now)
{
	if (!t || !tcp_synchronized(t->state) || t->state == MPT_TCP_TIME_WAIT)
		return;
	tcp_enter(t);
	tcp_send_ack(t, now);
	tcp_leave(t);
}

uint32_t mpt_tcp_rcv_read_seq(const struct mpt_tcp *t)
{
	return t->read_seq;
}

struct mpt_cc *mpt_tcp_cc(struct mpt_tcp *t)
{
	return &t->cc;
}

void mpt_tcp_get_info(const struct mpt_tcp *t, struct mpt_tcp_info *i)
{
	memset(i, 0, sizeof(*i));
	i->state = t->state;
	i->snd_mss = t->snd_mss;
	i->rcv_mss = t->peer_mss;
	i->snd_wscale = t->snd_wscale;
	i->rcv_wscale = t->rcv_wscale;
	i->sack_ok = t->sack_ok;
	i->ts_ok = t->ts_ok;
	i->srtt_ns = t->srtt;
	i->rttvar_ns = t->rttvar;
	i->rto_ns = tcp_rto_cur(t);
	i->rto_base_ns = t->rto;
	i->backoff = t->backoff;
	i->min_rtt_ns = t->min_rtt;
	i->snd_cwnd = t->cc.cwnd;
	i->snd_ssthresh = t->cc.ssthresh;
	i->snd_wnd = t->snd_wnd;
	i->rcv_wnd = mpt_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	i->in_flight = tcp_pipe(t);
	i->unacked = t->snd_nxt - t->snd_una;
	i->iss = t->iss;
	i->irs = t->irs;
	i->snd_una = t->snd_una;
	i->snd_nxt = t->snd_nxt;
	i->rcv_nxt = t->rcv_nxt;
	i->bytes_sent = t->bytes_sent;
	i->bytes_retrans = t->bytes_retrans;
	i->bytes_acked = t->bytes_acked;
	i->bytes_received = t->bytes_received;
	i->segs_out = t->segs_out;
	i->segs_in = t->segs_in;
	i->total_retrans = t->total_retrans;
	i->rto_count = t->rto_count;
	i->fast_retrans = t->fast_retrans;
	i->dup_acks_in = t->dup_acks_in;
	i->ofo_segs = t->n_ofo;
	i->reord_seen = t->reord_seen;
	i->dsack_rcvd = t->dsack_rcvd;
	i->tlp_probes = t->tlp_probes;
	i->last_rcv_ns = t->last_rcv;
	i->undo_count = t->undo_count;
	i->reo_wnd_ns = t->rack_on ? tcp_rack_reo_wnd(t) : 0;
	i->sndbuf_used = t->sb.len;
	i->snd_payload = t->last_maxpay;
	i->rcvbuf_used = t->rb.len;
	if (t->cfg.cc)
		memcpy(i->cc_name, t->cfg.cc->name, sizeof(i->cc_name) - 1);
}

void mpt_tcp_get_progress(const struct mpt_tcp *t, struct mpt_tcp_progress *p)
{
	p->bytes_acked = t->bytes_acked;
	p->last_rcv_ns = t->last_rcv;
	p->rto_ns = tcp_rto_cur(t);
	p->snd_una = t->snd_una;
	p->unacked = t->snd_nxt - t->snd_una;
	p->backoff = t->backoff;
	p->rto_count = t->rto_count;
}

/* ---- stateless RST -------------------------------------------------------- */

int mpt_tcp_make_rst(const struct mpt_tcp_seg *in, uint8_t *buf, size_t cap)
{
	struct mpt_tcp_hdr h;
	uint32_t seglen;

	if (!in || !buf)
		return MPT_ERR_INVAL;
	if (in->hdr.flags & MPT_TCP_RST)
		return 0;
	if (cap < MPT_TCP_HDR_LEN)
		return MPT_ERR_NOSPACE;
	memset(&h, 0, sizeof(h));
	h.sport = in->hdr.dport;
	h.dport = in->hdr.sport;
	if (in->hdr.flags & MPT_TCP_ACK) {
		h.seq = in->hdr.ack;
		h.flags = MPT_TCP_RST;
	} else {
		seglen = (uint32_t)in->len + ((in->hdr.flags & MPT_TCP_SYN) ? 1u : 0u) +
			 ((in->hdr.flags & MPT_TCP_FIN) ? 1u : 0u);
		h.seq = 0;
		h.ack = in->hdr.seq + seglen;
		h.flags = MPT_TCP_RST | MPT_TCP_ACK;
	}
	return mpt_tcp_hdr_emit(buf, cap, &h, NULL, 0);
}

bool mpt_tcp_timewait_reusable(const struct mpt_tcp *t, const struct mpt_tcp_seg *seg)
{
	if (!t || !seg || t->state != MPT_TCP_TIME_WAIT)
		return false;
	if ((seg->hdr.flags & (MPT_TCP_SYN | MPT_TCP_ACK | MPT_TCP_RST)) != MPT_TCP_SYN)
		return false;
	/* RFC 6191: with timestamps on both, a newer TSval is enough. */
	if (t->ts_ok && (seg->opts.present & MPT_TCPOPT_F_TS))
		return mpt_seq_gt(seg->opts.tsval, t->ts_recent);
	return mpt_seq_gt(seg->hdr.seq, t->rcv_nxt);
}
