/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output side of the TCP engine: segment construction (options, window
 * field, extension hook), the send decision (cwnd / rwnd / RFC 6675 pipe,
 * Nagle, sender SWS avoidance) and ACK / RST / SYN generation.
 */
#include "tcp/tcp_internal.h"

bool tcp_can_send_data(enum mpt_tcp_state s)
{
	switch (s) {
	case MPT_TCP_ESTABLISHED:
	case MPT_TCP_CLOSE_WAIT:
	case MPT_TCP_FIN_WAIT_1:
	case MPT_TCP_CLOSING:
	case MPT_TCP_LAST_ACK:
		return true;
	case MPT_TCP_CLOSED:
	case MPT_TCP_LISTEN:
	case MPT_TCP_SYN_SENT:
	case MPT_TCP_SYN_RECEIVED:
	case MPT_TCP_FIN_WAIT_2:
	case MPT_TCP_TIME_WAIT:
		break;
	}
	return false;
}

uint32_t tcp_data_end(const struct mpt_tcp *t)
{
	return t->sb_seq + t->sb.len;
}

/*
 * The window field for an outgoing segment (RFC 9293 §3.8.6.2.2 receiver
 * SWS avoidance, RFC 7323 §2.3 scaling).  The right edge only moves right
 * by at least min(RCV.BUFF/2, Eff.snd.MSS); it never moves left (we round
 * the scaled value up when the buffer has room for it).  SYN segments carry
 * an unscaled window (RFC 7323 §2.2).
 */
/* Free receive space to advertise: ours, bounded by the owner's. */
static uint32_t adv_space(const struct mpt_tcp *t)
{
	uint32_t space = tcp_rcv_space(t);
	if (t->cb.ext_rcv_space)
		space = MPT_MIN(space, t->cb.ext_rcv_space(t->cb.ud));
	return space;
}

/*
 * The window offered now, from which a new one must grow by enough (SWS).
 * With an owner's limit it is the last one sent, which may be below rcv_adv
 * (see select_window); else rcv_adv, which never moves left.
 */
static uint32_t cur_window(const struct mpt_tcp *t)
{
	uint32_t edge = t->cb.ext_rcv_space ? t->rcv_sent : t->rcv_adv;
	return mpt_seq_gt(edge, t->rcv_nxt) ? edge - t->rcv_nxt : 0;
}

static uint16_t select_window(struct mpt_tcp *t, bool syn)
{
	uint32_t ext = t->cb.ext_rcv_space ? t->cb.ext_rcv_space(t->cb.ud) : UINT32_MAX;
	uint32_t space = MPT_MIN(tcp_rcv_space(t), ext); /* as adv_space, one call */
	uint32_t cur = cur_window(t);
	uint32_t thresh = MPT_MIN(t->rb.cap / 2, t->mss_cap);
	uint32_t win = cur, field, s = t->rcv_wscale, edge;

	if (space > cur && space - cur >= thresh)
		win = space;
	if (win > ext) {
		/*
		 * The owner's limit is an edge relative to another sequence
		 * space: an MPTCP subflow's window is read relative to the
		 * DATA_ACK (RFC 8684 §3.3.4), which data on the other subflows
		 * moves.  Keeping this subflow's own edge would offer the peer
		 * more than the connection holds; what it sends past that is
		 * dropped (DSSNoWindow) and waits for its data-level
		 * retransmission (200 ms and more on Linux).  The subflow's
		 * window shrinks instead (Linux's does too); the connection's
		 * edge, read + buffer, never moves left, and rcv_adv, up to
		 * which segments are accepted, stays.  (Our own buffer's space
		 * does not shrink it: data up to rcv_adv still fits.)
		 */
		win = ext;
	}
	if (syn) {
		field = MPT_MIN(win, 65535u);
		edge = t->rcv_nxt + field;
		if (mpt_seq_gt(edge, t->rcv_adv))
			t->rcv_adv = edge;
		t->rcv_sent = edge;
		return (uint16_t)field;
	}
	win = MPT_MIN(win, (uint32_t)65535 << s);
	field = (uint32_t)(((uint64_t)win + (1u << s) - 1) >> s);
	if ((field << s) > space)
		field = win >> s;
	edge = t->rcv_nxt + (field << s);
	if (mpt_seq_gt(edge, t->rcv_adv))
		t->rcv_adv = edge;
	t->rcv_sent = edge;
	return (uint16_t)field;
}

/* Options of a SYN or SYN-ACK. */
static void syn_options(const struct mpt_tcp *t, struct mpt_tcp_opts_out *o, uint64_t now)
{
	bool synack = t->state == MPT_TCP_SYN_RECEIVED;

	o->present |= MPT_TCPOPT_F_MSS;
	o->mss = t->cfg.mss;
	/*
	 * An initial SYN offers what the configuration allows; a SYN-ACK only
	 * echoes what was negotiated from the peer's SYN (RFC 7323 §1.3, RFC
	 * 2018 §2: "MUST NOT be sent on a non-SYN" / only if received).
	 */
	if (synack ? t->ws_ok : !t->cfg.no_wscale) {
		o->present |= MPT_TCPOPT_F_WSCALE;
		o->wscale = t->rcv_wscale_offer;
	}
	if (synack ? t->sack_ok : !t->cfg.no_sack)
		o->present |= MPT_TCPOPT_F_SACK_PERM;
	if (synack ? t->ts_ok : !t->cfg.no_timestamps) {
		o->present |= MPT_TCPOPT_F_TS;
		o->tsval = tcp_tsval(t, now);
		o->tsecr = synack ? t->ts_recent : 0;
	}
	if (synack && t->tfo_cookie_len) {
		/* RFC 7413 §4.1.1: the cookie the client uses next time. */
		o->present |= MPT_TCPOPT_F_TFO;
		o->tfo_len = t->tfo_cookie_len;
		memcpy(o->tfo_cookie, t->tfo_cookie, t->tfo_cookie_len);
	}
}

/*
 * Build and output one segment: payload [seq, seq+len) from the send buffer
 * (len 0 for control/ACK segments), flags as given plus FIN when fin_ok and
 * the payload reaches the queued FIN.  Returns the sequence space consumed
 * (payload + SYN + FIN).  Updates SND.NXT when new sequence space was sent.
 */
uint32_t tcp_xmit(struct mpt_tcp *t, uint32_t seq, uint32_t len, uint16_t flags, bool fin_ok,
		  uint64_t now)
{
	uint8_t *seg = t->obuf + MPT_TCP_HEADROOM;
	uint8_t opt[MPT_TCP_MAX_OPT_LEN];
	struct mpt_tcp_opts_out o;
	struct mpt_tcp_hdr h;
	size_t cap = MPT_TCP_MAX_OPT_LEN;
	size_t olen, total_opt;
	uint32_t consumed, maxpay;
	bool syn = (flags & MPT_TCP_SYN) != 0;
	bool rst = (flags & MPT_TCP_RST) != 0;
	int r;

	memset(&o, 0, sizeof(o));
	if (syn) {
		syn_options(t, &o, now);
	} else if (!rst) {
		if (t->ts_ok) {
			o.present |= MPT_TCPOPT_F_TS;
			o.tsval = tcp_tsval(t, now);
			o.tsecr = t->ts_recent;
		}
		if (t->sack_ok && (t->n_ofo > 0 || t->dsack_pending)) {
			struct mpt_sack_block b[MPT_TCP_MAX_SACK];
			uint32_t n = 0;
			bool ds = false;

			if (t->dsack_pending && (flags & MPT_TCP_ACK)) {
				/* RFC 2883 §4: the D-SACK block goes first, then
				 * the block containing it (if out of order), then
				 * the usual blocks.  Sent once. */
				b[0].left = t->dsack.l;
				b[0].right = t->dsack.r;
				n = 1;
				ds = true;
				t->dsack_pending = false;
			}
			n += tcp_sack_blocks(t, b + n, MPT_TCP_MAX_SACK - n);
			for (uint32_t k = 2; ds && k < n; k++) {
				if (mpt_seq_leq(b[k].left, b[0].left) &&
				    mpt_seq_geq(b[k].right, b[0].right)) {
					struct mpt_sack_block tmp = b[k];

					memmove(&b[2], &b[1], (k - 1) * sizeof(b[0]));
					b[1] = tmp;
					break;
				}
			}
			if (n > 0) {
				o.present |= MPT_TCPOPT_F_SACK;
				o.nsack = (uint8_t)n;
				memcpy(o.sack, b, n * sizeof(b[0]));
			}
		}
		/* Keep room for the extension (MPTCP) options: SACK blocks go. */
		if (t->cb.ext_write_opts) {
			uint8_t res = (len == 0 && t->cfg.ext_opt_reserve_ack)
					  ? t->cfg.ext_opt_reserve_ack
					  : t->cfg.ext_opt_reserve;
			cap -= MPT_MIN(res, (uint8_t)28);
		}
	}
	r = mpt_tcp_opts_emit(opt, cap, &o, NULL);
	olen = r > 0 ? (size_t)r : 0;

	/* Options eat into the MSS (RFC 9293 §3.7.1: MSS excludes options).
	 * With segmentation offload new data may span several segments: the
	 * device cuts it at maxpay (gso, set once the options are known). */
	bool tso = t->cfg.tso_max > 0 && len > 0 && !syn && !rst && !mpt_seq_lt(seq, t->snd_nxt);
	uint32_t asked = len;
	maxpay = t->mss_cap > olen ? t->mss_cap - (uint32_t)olen : 1;
	if (len > (tso ? t->cfg.tso_max : maxpay))
		len = tso ? t->cfg.tso_max : maxpay;
	if (!fin_ok || !t->fin_queued || seq + len != t->fin_seq)
		fin_ok = false;

	total_opt = olen;
	if (t->cb.ext_write_opts) {
		/* Resets too: the extension may owe the peer a reason (MPTCP's
		 * MP_TCPRST, RFC 8684 §3.6). */
		struct mpt_tcp_out_info info;
		size_t room = MPT_TCP_MAX_OPT_LEN - olen, w;

		info.flags = (uint16_t)(flags | (fin_ok ? MPT_TCP_FIN : 0));
		info.seq = seq;
		info.len = len;
		info.retransmit = (len > 0 || fin_ok || syn) && mpt_seq_lt(seq, t->snd_nxt);
		w = t->cb.ext_write_opts(t->cb.ud, &info, opt + olen, room);
		if (w > room)
			w = room;
		total_opt = olen + w;
		while (total_opt % 4)
			opt[total_opt++] = MPT_TCPOPT_EOL;
		if (info.len < len && (info.len > 0 || len == 0))
			len = info.len;
		maxpay = t->mss_cap > total_opt ? t->mss_cap - (uint32_t)total_opt : 1;
		if (len > maxpay && !tso)
			len = maxpay;
		if (fin_ok && seq + len != t->fin_seq)
			fin_ok = false;
	}
	if (tso && len > maxpay && len % maxpay && len == asked && seq + len != tcp_data_end(t)) {
		/* Whole segments (of the payload the options leave): a short
		 * one in the middle of the stream is a segment too many. */
		len -= len % maxpay;
		fin_ok = false;
	}
	if (tso && len > maxpay && maxpay > t->alone_max) {
		/*
		 * A segment size the flow has not sent alone yet goes alone
		 * first.  Linux sizes a receive window by the payload-to-memory
		 * ratio of one packet, the first whose segment size is larger
		 * than any before (tcp_measure_rcv_mss): a lone segment makes
		 * that sample no cheaper than the packets that follow, whose
		 * memory then stays within the buffer the window was computed
		 * from (docs/mptcp-design.md, "The Linux receiver's memory").
		 */
		len = maxpay;
		if (fin_ok && seq + len != t->fin_seq)
			fin_ok = false;
	}
	if (fin_ok)
		flags |= MPT_TCP_FIN;
	uint32_t gso = len > maxpay ? maxpay : 0;
	if (len > 0 && !gso && !syn && len > t->alone_max)
		t->alone_max = len;
	if (len > 0 && !syn)
		t->last_maxpay = maxpay; /* what a full segment carries now */

	memset(&h, 0, sizeof(h));
	h.sport = t->sport;
	h.dport = t->dport;
	h.seq = seq;
	h.ack = (flags & MPT_TCP_ACK) ? t->rcv_nxt : 0;
	h.flags = flags;
	h.window = rst ? 0 : select_window(t, syn);
	r = mpt_tcp_hdr_emit(seg, t->obuf_cap - MPT_TCP_HEADROOM, &h, opt, total_opt);
	if (r < 0)
		return 0; /* cannot happen: obuf is sized for 60 + mss */
	if (len > 0 && !(t->cb.ext_snd_read && t->cb.ext_snd_read(t->cb.ud, seq, seg + r, len)))
		tcp_ring_read(&t->sb, seq - t->sb_seq, seg + r, len);

	consumed = len + (syn ? 1u : 0u) + (fin_ok ? 1u : 0u);
	if (consumed > 0) {
		bool rtx = mpt_seq_lt(seq, t->snd_nxt);

		if (!syn)
			tcp_txr_sent(t, seq, consumed, now);

		if (rtx) {
			/* Karn (RFC 6298 §3): never time a retransmitted segment. */
			if (t->rtt_timing && mpt_seq_lt(seq, t->rtt_seq))
				t->rtt_timing = false;
		} else if (!t->rtt_timing) {
			t->rtt_timing = true;
			t->rtt_seq = seq + consumed;
			t->rtt_sent_at = now;
		}
		if (mpt_seq_gt(seq + consumed, t->snd_nxt))
			t->snd_nxt = seq + consumed;
		if (fin_ok)
			t->fin_sent = true;
		t->bytes_sent += len;
		t->last_send = now;
	}
	if (flags & MPT_TCP_ACK) {
		t->last_ack_sent = t->rcv_nxt;
		t->rcv_unacked = 0;
		t->delack_at = MPT_TIME_NEVER;
		t->ack_now = false;
	}
	uint32_t nsegs = gso ? (len + gso - 1) / gso : 1;
	t->segs_out += nsegs;
	mpt_mib_add(t->cfg.mib, MPT_MIB_TcpOutSegs, nsegs);
	if (gso)
		mpt_mib_add(t->cfg.mib, MPT_MIB_TCPGsoSegs, nsegs);
	if (rst)
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpOutRsts);
	t->cb.output(t->cb.ud, seg, (size_t)r + len, gso);
	return consumed;
}

/*
 * Sequence number of a pure ACK.  RFC 9293 §3.10.7.4: a receiver drops a
 * segment whose sequence number is outside its window (it only answers with
 * an ACK), and with that the acknowledgment and window the segment carries.
 * After a zero-window probe byte the peer discarded, SND.NXT is one past its
 * window: ACKs carrying it would all be dropped and both sides could wait for
 * each other's window updates (issue 10 bug 3: data moved only at each
 * probe).  Stay at the peer's right edge when SND.NXT is beyond it.
 */
static uint32_t ack_seq(const struct mpt_tcp *t)
{
	if (t->state < MPT_TCP_ESTABLISHED)
		return t->snd_nxt;
	uint32_t wnd_end = t->snd_una + t->snd_wnd;
	return mpt_seq_gt(t->snd_nxt, wnd_end) ? wnd_end : t->snd_nxt;
}

void tcp_send_ack(struct mpt_tcp *t, uint64_t now)
{
	tcp_xmit(t, ack_seq(t), 0, MPT_TCP_ACK, false, now);
}

/*
 * One ACK from the per-connection budget for ACKs answering unacceptable
 * segments (RFC 5961 §7 for challenge ACKs; also stale ACKs, so two
 * confused peers cannot ACK each other forever).  False when it is spent.
 */
bool tcp_ack_budget(struct mpt_tcp *t, uint64_t now)
{
	if (now - t->chal_start >= MPT_NS_PER_S || now < t->chal_start) {
		t->chal_start = now;
		t->chal_count = 0;
	}
	if (t->chal_count >= TCP_CHALLENGE_PER_S)
		return false;
	t->chal_count++;
	return true;
}

void tcp_send_challenge_ack(struct mpt_tcp *t, uint64_t now)
{
	if (!tcp_ack_budget(t, now))
		return;
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPChallengeACK);
	tcp_send_ack(t, now);
}

void tcp_send_rst(struct mpt_tcp *t, uint32_t seq, uint32_t ack, bool with_ack, uint64_t now)
{
	uint8_t *seg = t->obuf + MPT_TCP_HEADROOM;
	struct mpt_tcp_hdr h;
	int r;

	MPT_UNUSED(now);
	memset(&h, 0, sizeof(h));
	h.sport = t->sport;
	h.dport = t->dport;
	h.seq = seq;
	h.ack = with_ack ? ack : 0;
	h.flags = (uint16_t)(MPT_TCP_RST | (with_ack ? MPT_TCP_ACK : 0));
	/* The extension may owe the peer a reason (MPTCP's MP_TCPRST, RFC
	 * 8684 §3.6; MP_FASTCLOSE, MP_FAIL): its options go on the RST. */
	uint8_t opt[MPT_TCP_MAX_OPT_LEN];
	size_t olen = 0;
	if (t->cb.ext_write_opts) {
		struct mpt_tcp_out_info info = {.flags = h.flags, .seq = seq};
		olen = t->cb.ext_write_opts(t->cb.ud, &info, opt, sizeof(opt));
		if (olen > sizeof(opt))
			olen = 0;
		while (olen % 4)
			opt[olen++] = MPT_TCPOPT_EOL;
	}
	r = mpt_tcp_hdr_emit(seg, t->obuf_cap - MPT_TCP_HEADROOM, &h, opt, olen);
	if (r < 0)
		return;
	t->segs_out++;
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpOutSegs);
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpOutRsts);
	t->cb.output(t->cb.ud, seg, (size_t)r, 0);
}

/* (Re)send our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED). */
void tcp_send_syn(struct mpt_tcp *t, uint64_t now)
{
	uint16_t flags = MPT_TCP_SYN;

	if (t->state == MPT_TCP_SYN_RECEIVED)
		flags |= MPT_TCP_ACK;
	tcp_xmit(t, t->iss, 0, flags, false, now);
}

/* Retransmit [seq, seq+len) of sequence space (may include the FIN). */
uint32_t tcp_retransmit(struct mpt_tcp *t, uint32_t seq, uint32_t len, uint64_t now)
{
	uint32_t data_end = tcp_data_end(t);
	uint32_t dlen = 0, consumed, sent;
	bool fin_ok;

	if (mpt_seq_lt(seq, data_end))
		dlen = MPT_MIN(len, data_end - seq);
	if (mpt_seq_lt(seq, t->sb_seq)) /* cannot happen: holes are above SND.UNA */
		return 0;
	fin_ok = t->fin_queued && dlen < len;
	consumed = tcp_xmit(t, seq, dlen, (uint16_t)(MPT_TCP_ACK | MPT_TCP_PSH), fin_ok, now);
	if (consumed == 0)
		return 0;
	sent = consumed - ((t->fin_queued && seq + consumed == t->fin_seq + 1) ? 1u : 0u);
	t->rxt_high = mpt_seq_max(t->rxt_high, seq + consumed);
	t->bytes_retrans += sent;
	t->total_retrans++;
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpRetransSegs);
	if (t->ca_state == TCP_CA_RECOVERY) {
		t->fast_retrans++;
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPFastRetrans);
	}
	/* RFC 3708: each retransmission of the episode must come back as a
	 * D-SACK before the reduction may be undone. */
	if (t->undo_valid && t->ca_state != TCP_CA_OPEN) {
		t->undo_retrans++;
		t->undo_total++;
	}
	return consumed;
}

/* Enough congestion window for a segment of len bytes? (RFC 6675: cwnd -
 * pipe >= 1 SMSS; a lone segment may always go so we never stall.) */
static bool cwnd_allows(struct mpt_tcp *t, uint32_t pipe, uint32_t len)
{
	uint32_t cwnd = t->cc.cwnd;

	if (pipe == 0)
		return true;
	if (pipe < cwnd && cwnd - pipe >= len)
		return true;
	tcp_mark_cwnd_limited(t);
	return false;
}

/*
 * How much one offloaded segment may carry: about a millisecond's worth at
 * the current rate (cwnd / srtt), at least two segments, at most tso_max.
 * A whole cwnd in one burst overflows the queues a paced sender never
 * fills (as Linux's TSO autosizing, which sizes them from the pacing rate).
 */
static uint32_t tso_budget(const struct mpt_tcp *t)
{
	uint64_t srtt = t->srtt ? t->srtt : t->cfg.rto_initial_ns;
	uint64_t b = (uint64_t)t->cc.cwnd * MPT_NS_PER_MS / MPT_MAX(srtt, (uint64_t)MPT_NS_PER_MS);
	b = MPT_MAX(b, 2 * (uint64_t)t->snd_mss);
	return (uint32_t)MPT_MIN(b, (uint64_t)t->cfg.tso_max);
}

/*
 * The congestion window was the limit.  It stays "cwnd-limited" for the
 * flight sent so far (until snd_una passes snd_nxt of now), as Linux's
 * is_cwnd_limited does: an ACK that empties the queue of a sender fed in
 * cwnd-sized pieces (an MPTCP subflow fed by the scheduler) is still the
 * ACK of a window that was full (RFC 7661 §4.3: growth while the window
 * is validated).
 */
void tcp_mark_cwnd_limited(struct mpt_tcp *t)
{
	t->cwnd_limited = true;
	t->cwnd_lim_end = t->snd_nxt;
}

/* Send one segment if anything may be sent now. */
static bool send_one(struct mpt_tcp *t, uint64_t now)
{
	uint32_t pipe = tcp_pipe(t);
	uint32_t mss = t->snd_mss;
	uint32_t data_end = tcp_data_end(t);
	uint32_t seq = 0, len = 0;
	bool flight = t->snd_nxt != t->snd_una;

	if (t->fr_force) {
		/* RFC 6675 §5 (4.3) / RFC 6937: the fast retransmit on entering
		 * recovery goes out whatever pipe says. */
		t->fr_force = false;
		if (t->ca_state == TCP_CA_RECOVERY && tcp_next_rtx(t, &seq, &len))
			return tcp_retransmit(t, seq, MPT_MIN(len, mss), now) > 0;
	}
	if (pipe > 0 && pipe >= t->cc.cwnd) {
		tcp_mark_cwnd_limited(t);
		return false;
	}
	/* RFC 6675 NextSeg (1): lost data first. */
	if (tcp_next_rtx(t, &seq, &len)) {
		len = MPT_MIN(len, mss);
		if (!cwnd_allows(t, pipe, len))
			return false;
		return tcp_retransmit(t, seq, len, now) > 0;
	}
	/* (2): new data, within the peer's window. */
	if (mpt_seq_lt(t->snd_nxt, data_end)) {
		uint32_t unsent = data_end - t->snd_nxt;
		uint32_t wnd_end = t->snd_una + t->snd_wnd;
		uint32_t wavail = mpt_seq_gt(wnd_end, t->snd_nxt) ? wnd_end - t->snd_nxt : 0;
		uint32_t n = MPT_MIN(MPT_MIN(unsent, mss), wavail);
		/* Full-sized is what a segment carries after its options
		 * (RFC 9293 §3.7.1: the effective send MSS): a segment of
		 * exactly that is no runt for Nagle or SWS avoidance. */
		uint32_t full = t->last_maxpay > 0 && t->last_maxpay < mss ? t->last_maxpay : mss;

		if (n > 0 && n < full) {
			if (n == unsent) {
				/* Nagle (RFC 9293 §3.7.4): hold a small segment while
				 * data is unacknowledged, unless closing. */
				if (t->cfg.nagle && flight && !t->fin_queued)
					n = 0;
			} else if (n < t->max_snd_wnd / 2 && flight) {
				/* Sender SWS (RFC 9293 §3.8.6.2.1): wait for a usable
				 * window unless nothing is in flight. */
				n = 0;
			}
		}
		if (n > 0) {
			if (!cwnd_allows(t, pipe, n))
				return false;
			if (n == mss && t->cfg.tso_max > mss) {
				/* Segmentation offload: as many full segments as the
				 * window and the congestion window allow, in one. */
				uint32_t room = pipe < t->cc.cwnd ? t->cc.cwnd - pipe : mss;
				uint32_t big = MPT_MIN(MPT_MIN(unsent, wavail), tso_budget(t));
				big = MPT_MIN(big, MPT_MAX(room, mss));
				if (big > mss && big < unsent && big < wavail)
					big -= big % mss; /* whole segments unless at an edge */
				n = MPT_MAX(n, big);
			}
			return tcp_xmit(t, t->snd_nxt, n,
					(uint16_t)(MPT_TCP_ACK | (n == unsent ? MPT_TCP_PSH : 0)),
					true, now) > 0;
		}
	} else if (t->fin_queued && !t->fin_sent && t->snd_nxt == t->fin_seq) {
		/* A bare FIN needs no window. */
		return tcp_xmit(t, t->snd_nxt, 0, MPT_TCP_ACK, true, now) > 0;
	}
	/* (3): un-SACKed data below the highest SACK, in recovery only. */
	if (t->ca_state == TCP_CA_RECOVERY && len > 0) {
		len = MPT_MIN(len, mss);
		if (!cwnd_allows(t, pipe, len))
			return false;
		return tcp_retransmit(t, seq, len, now) > 0;
	}
	return false;
}

/* Send what the windows allow, then any pending ACK; rearm timers. */
bool tcp_may_send(const struct mpt_tcp *t)
{
	return tcp_can_send_data(t->state) || (t->state == MPT_TCP_SYN_RECEIVED && t->tfo_send);
}

void tcp_output(struct mpt_tcp *t, uint64_t now)
{
	if (tcp_may_send(t) && t->cc_started) {
		/* RFC 5681 §4.1: restart slow start after an idle period. */
		if (t->snd_nxt == t->snd_una && t->last_send != 0 &&
		    mpt_seq_lt(t->snd_nxt, tcp_data_end(t)) &&
		    now - t->last_send > tcp_rto_cur(t)) {
			t->cc.ops->on_idle(&t->cc, now);
			t->last_send = now;
		}
		/* Bounded: each iteration sends a segment; the cap only guards
		 * against a logic error turning into a hang. */
		for (uint32_t i = 0; i < 1u << 20; i++) {
			if (!send_one(t, now))
				break;
		}
	}
	if (t->ack_now && t->state != MPT_TCP_CLOSED)
		tcp_send_ack(t, now);
	tcp_arm_timers(t, now);
}

/* After the application read: advertise the opened window if it grew
 * enough (RFC 9293 §3.8.6.2.2; at least 2 MSS or from a small window). */
void tcp_maybe_window_update(struct mpt_tcp *t, uint64_t now)
{
	uint32_t space, cur, inc, sws;

	if (t->state != MPT_TCP_ESTABLISHED && t->state != MPT_TCP_FIN_WAIT_1 &&
	    t->state != MPT_TCP_FIN_WAIT_2)
		return;
	space = adv_space(t);
	cur = cur_window(t);
	if (space <= cur)
		return;
	inc = space - cur;
	sws = MPT_MIN(t->rb.cap / 2, t->mss_cap);
	if (inc >= MPT_MIN(t->rb.cap / 2, 2 * t->mss_cap) || (cur < sws && inc >= sws))
		tcp_send_ack(t, now);
}

int mpt_tcp_synack_build(const struct mpt_tcp_cfg *cfg_in, const struct mpt_tcp_seg *syn,
			 uint32_t iss, uint32_t tsval, const uint8_t *ext, size_t ext_len,
			 uint8_t *buf, size_t cap)
{
	if (!cfg_in || !syn || !buf || (ext_len && !ext))
		return MPT_ERR_INVAL;
	struct mpt_tcp_cfg cfg = *cfg_in;
	tcp_apply_defaults(&cfg);
	const struct mpt_tcp_opts *in = &syn->opts;
	/* What mpt_tcp_accept + syn_options would negotiate and write. */
	struct mpt_tcp_opts_out o;
	memset(&o, 0, sizeof(o));
	o.present = MPT_TCPOPT_F_MSS;
	o.mss = cfg.mss;
	if (!cfg.no_wscale && (in->present & MPT_TCPOPT_F_WSCALE)) {
		o.present |= MPT_TCPOPT_F_WSCALE;
		o.wscale = tcp_wscale_for(cfg.rcvbuf);
	}
	if (!cfg.no_sack && (in->present & MPT_TCPOPT_F_SACK_PERM))
		o.present |= MPT_TCPOPT_F_SACK_PERM;
	if (!cfg.no_timestamps && (in->present & MPT_TCPOPT_F_TS)) {
		o.present |= MPT_TCPOPT_F_TS;
		o.tsval = tsval;
		o.tsecr = in->tsval;
	}
	uint8_t opt[MPT_TCP_MAX_OPT_LEN];
	int r = mpt_tcp_opts_emit(opt, sizeof(opt), &o, NULL);
	if (r < 0)
		return r;
	size_t olen = (size_t)r;
	if (olen + ext_len > MPT_TCP_MAX_OPT_LEN)
		ext_len = 0; /* as the engine: extension options only where they fit */
	memcpy(opt + olen, ext, ext_len);
	olen += ext_len;
	while (olen % 4)
		opt[olen++] = MPT_TCPOPT_EOL;
	struct mpt_tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.sport = syn->hdr.dport;
	h.dport = syn->hdr.sport;
	h.seq = iss;
	h.ack = syn->hdr.seq + 1;
	h.flags = MPT_TCP_SYN | MPT_TCP_ACK;
	/* RFC 7323 §2.2: the window of a SYN-ACK is not scaled. */
	h.window = (uint16_t)MPT_MIN(cfg.rcvbuf, 65535u);
	return mpt_tcp_hdr_emit(buf, cap, &h, opt, olen);
}
