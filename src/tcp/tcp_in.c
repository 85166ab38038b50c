/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input processing of the TCP engine: RFC 9293 §3.10.7 "SEGMENT ARRIVES"
 * with the RFC 5961 hardening (RST / SYN / ACK checks with challenge ACKs),
 * RFC 7323 PAWS and TS.Recent, RFC 2018/6675 SACK processing, RFC 6582
 * NewReno, RFC 6298 RTT sampling.
 */
#include "tcp/tcp_internal.h"

/* RCV.WND as last advertised. */
static uint32_t rcv_wnd(const struct mpt_tcp *t)
{
	return mpt_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
}

/* A RST that passed the RFC 5961 exact-sequence test. */
static void do_reset(struct mpt_tcp *t)
{
	switch (t->state) {
	case MPT_TCP_SYN_RECEIVED:
		/* RFC 9293 §3.10.7.4: passive open goes back to LISTEN (the
		 * listener lives in the owner); an active one is refused. */
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpAttemptFails);
		tcp_fail(t, t->passive ? MPT_ERR_RESET : MPT_ERR_REFUSED);
		break;
	case MPT_TCP_ESTABLISHED:
	case MPT_TCP_CLOSE_WAIT:
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpEstabResets);
		tcp_fail(t, MPT_ERR_RESET);
		break;
	case MPT_TCP_FIN_WAIT_1:
	case MPT_TCP_FIN_WAIT_2:
		tcp_fail(t, MPT_ERR_RESET);
		break;
	case MPT_TCP_CLOSING:
	case MPT_TCP_LAST_ACK:
	case MPT_TCP_TIME_WAIT:
		/* The application already closed: nothing to report but CLOSED. */
		tcp_become_closed(t);
		break;
	case MPT_TCP_CLOSED:
	case MPT_TCP_LISTEN:
	case MPT_TCP_SYN_SENT:
		break;
	}
}

static void enter_time_wait(struct mpt_tcp *t, uint64_t now)
{
	tcp_set_state(t, MPT_TCP_TIME_WAIT);
	t->rtx_at = t->persist_at = t->ka_at = MPT_TIME_NEVER;
	t->tw_at = now + 2 * t->cfg.msl_ns;
}

/* The peer's FIN is now in order (RFC 9293 §3.10.7.4 eighth step). */
static void process_fin(struct mpt_tcp *t, uint64_t now)
{
	t->rcv_nxt++;
	t->fin_rcvd = true;
	t->ofo_fin = false;
	t->ack_now = true;
	tcp_event(t, MPT_TCP_EV_READABLE);
	switch (t->state) {
	case MPT_TCP_SYN_RECEIVED:
	case MPT_TCP_ESTABLISHED:
		tcp_set_state(t, MPT_TCP_CLOSE_WAIT);
		break;
	case MPT_TCP_FIN_WAIT_1:
		/* Our FIN is not acknowledged yet (else we would be in FIN-WAIT-2). */
		tcp_set_state(t, MPT_TCP_CLOSING);
		break;
	case MPT_TCP_FIN_WAIT_2:
		enter_time_wait(t, now);
		break;
	case MPT_TCP_TIME_WAIT:
		t->tw_at = now + 2 * t->cfg.msl_ns;
		break;
	case MPT_TCP_CLOSE_WAIT:
	case MPT_TCP_CLOSING:
	case MPT_TCP_LAST_ACK:
	case MPT_TCP_CLOSED:
	case MPT_TCP_LISTEN:
	case MPT_TCP_SYN_SENT:
		break;
	}
}

/*
 * Sixth/seventh/eighth steps: segment text and FIN.  [seq, seq+len) is
 * already trimmed to the window.  Returns false when the connection was
 * reset because of the data (data after close).
 */
static bool process_data_fin(struct mpt_tcp *t, uint32_t seq, const uint8_t *data, uint32_t len,
			     bool fin, uint64_t now)
{
	bool accept_data = t->state == MPT_TCP_ESTABLISHED || t->state == MPT_TCP_FIN_WAIT_1 ||
			   t->state == MPT_TCP_FIN_WAIT_2;

	if (len > 0 && accept_data) {
		uint32_t old = t->rcv_nxt;
		unsigned res;

		if (t->app_closed) {
			/* RFC 9293 §3.10.7.4 / RFC 2525 §2.17: nobody will read
			 * this: reset the connection. */
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPAbortOnData);
			tcp_send_rst(t, t->snd_nxt, t->rcv_nxt, true, now);
			t->rb.len = 0;
			t->n_ofo = 0;
			tcp_become_closed(t);
			return false;
		}
		res = tcp_rcv_data(t, seq, data, len);
		if (res & TCP_RCV_DROP) {
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPOFODrop);
			t->ack_now = true;
		}
		if (res & TCP_RCV_OFO) {
			/* RFC 5681 §4.2: out-of-order data is ACKed at once. */
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPOFOQueue);
			t->ack_now = true;
		}
		if (res & TCP_RCV_INORDER) {
			t->bytes_received += t->rcv_nxt - old;
			tcp_event(t, MPT_TCP_EV_READABLE);
			t->rcv_unacked += t->rcv_nxt - old;
			if (res & TCP_RCV_FILLED)
				t->ack_now = true; /* RFC 5681 §4.2: gap filled */
			else
				tcp_delack_schedule(t, now);
		}
	} else if (len > 0) {
		/* CLOSE-WAIT and later: the peer already sent its FIN. */
		t->ack_now = true;
	}
	if (fin && !t->fin_rcvd) {
		uint32_t fin_seq = seq + len;

		if (fin_seq == t->rcv_nxt) {
			process_fin(t, now);
		} else if (mpt_seq_gt(fin_seq, t->rcv_nxt)) {
			t->ofo_fin = true;
			t->ofo_fin_seq = fin_seq;
			t->ack_now = true;
		}
	}
	if (t->ofo_fin && !t->fin_rcvd && t->rcv_nxt == t->ofo_fin_seq)
		process_fin(t, now);
	return true;
}

/* RTT sample for an ACK that advanced SND.UNA (0 = none). */
static uint64_t rtt_from_ack(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, uint32_t ack,
			     uint64_t now)
{
	uint64_t rtt = 0;

	if (t->rtt_timing && mpt_seq_geq(ack, t->rtt_seq)) {
		rtt = now - t->rtt_sent_at;
		t->rtt_timing = false;
	}
	/*
	 * RFC 7323 §4.1: with timestamps every ACK that advances the left edge
	 * gives a sample from TSecr, valid even for retransmissions.  The 1 ms
	 * clock is coarse, so the (ns) timed-segment sample is preferred when
	 * this ACK also covers it.
	 */
	if (t->skip_ts_rtt) {
		/* The SYN-ACK came from a SYN cookie: its TSval was rounded
		 * down to carry options, and the engine did not time it. */
		t->skip_ts_rtt = false;
		return 0;
	}
	if (rtt == 0 && t->ts_ok && (seg->opts.present & MPT_TCPOPT_F_TS) && seg->opts.tsecr) {
		int32_t d = (int32_t)(tcp_tsval(t, now) - seg->opts.tsecr);

		if (d >= 1 && (uint64_t)d * MPT_NS_PER_MS <= 2 * t->cfg.rto_max_ns)
			rtt = (uint64_t)d * MPT_NS_PER_MS;
	}
	return rtt;
}

void tcp_enter_recovery(struct mpt_tcp *t, uint64_t now)
{
	uint32_t pipe = tcp_pipe(t);

	tcp_undo_begin(t, false);
	t->cc.ops->on_loss(&t->cc, pipe, now);
	t->ca_state = TCP_CA_RECOVERY;
	t->recover = t->snd_nxt;
	t->recover_valid = true;
	t->rxt_high = t->snd_una;
	/* RFC 6675 §5 (4.3) / RFC 5681 §3.2: the first unacknowledged
	 * segment is retransmitted whatever IsLost says. */
	t->fr_lost_end = t->snd_una + t->snd_mss;
	t->fr_force = t->rack_on;
	mpt_mib_inc(t->cfg.mib, t->sack_ok ? MPT_MIB_TCPSackRecovery : MPT_MIB_TCPRenoRecovery);
}

/*
 * Fifth step: the ACK field (RFC 9293 §3.10.7.4), after the RFC 5961 §5
 * acceptability test.  Returns false if the connection ended here.
 */
static bool process_ack(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, uint32_t seq,
			uint32_t len, uint16_t flags, uint64_t now)
{
	uint32_t ack = seg->hdr.ack;
	uint32_t win = (uint32_t)seg->hdr.window << t->snd_wscale;
	uint32_t prior_pipe = tcp_pipe(t);
	struct tcp_sack_res sr;
	uint32_t newly_sacked;
	bool fin_acked = false;
	bool exited = false;
	bool advanced = mpt_seq_gt(ack, t->snd_una);

	/* RFC 8985 §6.2 step 3 compares with RACK.fack before this ACK. */
	t->rack_prior_fack = t->rack_fack;
	t->rack_prior_fack_valid = t->rack_fack_valid;
	tcp_scb_update(t, seg, now, &sr);
	newly_sacked = sr.newly_sacked;

	if (len == 0 && !(flags & (MPT_TCP_SYN | MPT_TCP_FIN)))
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPPureAcks);

	if (mpt_seq_gt(ack, t->snd_una)) {
		uint32_t cum = ack - t->snd_una;
		uint32_t data_end = tcp_data_end(t);
		uint32_t upto = mpt_seq_min(ack, data_end);
		uint32_t sacked_before, sacked_removed;
		uint64_t rtt;

		if (mpt_seq_gt(upto, t->sb_seq)) {
			uint32_t n = upto - t->sb_seq;

			tcp_ring_consume(&t->sb, n);
			t->sb_seq += n;
			t->bytes_acked += n;
			tcp_event(t, MPT_TCP_EV_WRITABLE);
		}
		if (t->fin_sent && mpt_seq_gt(ack, t->fin_seq))
			fin_acked = true;
		t->snd_una = ack;
		t->cc.last_ack_ns = now;
		if (mpt_seq_lt(t->rxt_high, ack))
			t->rxt_high = ack;
		if (t->rack_on) {
			tcp_txr_acked(t, now, seg);
			t->pto_restart = true; /* RFC 8985 §7.2 */
		}
		sacked_before = t->sacked_bytes;
		tcp_scb_trim(t);
		sacked_removed = sacked_before - t->sacked_bytes;
		if (tcp_scb_reneged(t)) {
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPSACKReneging);
			tcp_scb_clear(t);
		}
		rtt = rtt_from_ack(t, seg, ack, now);
		if (rtt)
			tcp_rtt_sample(t, rtt);
		t->retries = 0;
		t->persist_probes = 0;
		/* RFC 6298 §5.3: restart the timer on an ACK of new data. */
		t->rtx_at = t->snd_una != t->snd_nxt ? now + tcp_rto_cur(t) : MPT_TIME_NEVER;

		if (t->ca_state == TCP_CA_RECOVERY) {
			if (mpt_seq_geq(t->snd_una, t->recover)) {
				/* RFC 6582 §3.2 (3) full ACK / RFC 6675 exit. */
				t->ca_state = TCP_CA_OPEN;
				t->dupacks = 0;
				t->cc.ops->on_recovery_exit(&t->cc, now);
				tcp_rack_recovery_exit(t);
				exited = true;
			} else {
				/* Partial ACK. */
				uint32_t segs = cum / MPT_MAX(t->snd_mss, 1u);

				t->dupacks = t->dupacks > segs ? t->dupacks - segs : 0;
				if (!t->sack_ok) {
					/* RFC 6582 §3.2 (4): retransmit the first
					 * unacknowledged segment now. */
					t->fr_lost_end = t->snd_una + t->snd_mss;
					t->rxt_high = t->snd_una;
				}
			}
		} else {
			t->dupacks = 0;
			if (t->ca_state == TCP_CA_LOSS && mpt_seq_geq(t->snd_una, t->recover)) {
				t->ca_state = TCP_CA_OPEN;
				tcp_rack_recovery_exit(t);
			}
		}
		if (t->ca_state != TCP_CA_RECOVERY && !exited && t->cc_started) {
			struct mpt_cc_ack a;

			memset(&a, 0, sizeof(a));
			a.now = now;
			a.acked = cum - MPT_MIN(cum, sacked_removed) + newly_sacked;
			a.in_flight = prior_pipe;
			a.rtt_ns = rtt;
			a.in_recovery = false;
			a.app_limited = !t->cwnd_limited;
			t->cc.ops->on_ack(&t->cc, &a);
			/* That window is over: limited again only if the
			 * sends that follow fill cwnd (tcp_mark_cwnd_limited). */
			if (t->cwnd_limited && mpt_seq_geq(t->snd_una, t->cwnd_lim_end))
				t->cwnd_limited = false;
		}
	} else if (ack == t->snd_una && t->snd_nxt != t->snd_una) {
		/* RFC 5681 §2 duplicate ACK; RFC 6675 §2: or it SACKs new data. */
		bool pure_dup =
		    len == 0 && !(flags & (MPT_TCP_SYN | MPT_TCP_FIN)) && win == t->snd_wnd;

		if (pure_dup || newly_sacked > 0) {
			t->dupacks++;
			t->dup_acks_in++;
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPDupAcks);
		}
	}

	if (t->rack_on) {
		/*
		 * RFC 8985: D-SACK feedback, the TLP verdict, the undo of a
		 * spurious reduction, then time-based loss detection; recovery
		 * starts when RACK marks a loss (once per round trip).
		 */
		bool pure_dup = !advanced && len == 0 && !(flags & (MPT_TCP_SYN | MPT_TCP_FIN)) &&
				!(seg->opts.present & MPT_TCPOPT_F_SACK);

		if (sr.dsack)
			tcp_rack_dsack(t, &sr.dsack_range);
		tcp_tlp_ack(t, seg, &sr, pure_dup, now);
		tcp_undo_check(t);
		tcp_rack_detect_loss(t, now);
		tcp_rack_react(t, now);
	} else if (t->ca_state == TCP_CA_OPEN && t->cc_started && t->snd_nxt != t->snd_una &&
		   (t->dupacks >= TCP_DUPTHRESH || (t->sack_ok && tcp_first_hole_lost(t))) &&
		   (!t->recover_valid || mpt_seq_geq(t->snd_una, t->recover))) {
		tcp_enter_recovery(t, now);
	}

	/* RFC 9293 §3.10.7.4: window update if the segment is not older. */
	if (mpt_seq_lt(t->snd_wl1, seq) || (t->snd_wl1 == seq && mpt_seq_leq(t->snd_wl2, ack))) {
		t->snd_wnd = win;
		t->snd_wl1 = seq;
		t->snd_wl2 = ack;
		if (win > t->max_snd_wnd)
			t->max_snd_wnd = win;
	}

	if (fin_acked) {
		switch (t->state) {
		case MPT_TCP_FIN_WAIT_1:
			tcp_set_state(t, MPT_TCP_FIN_WAIT_2);
			if (t->app_closed)
				t->tw_at = now + 2 * t->cfg.msl_ns;
			break;
		case MPT_TCP_CLOSING:
			enter_time_wait(t, now);
			break;
		case MPT_TCP_LAST_ACK:
			tcp_become_closed(t);
			return false;
		case MPT_TCP_ESTABLISHED:
		case MPT_TCP_FIN_WAIT_2:
		case MPT_TCP_CLOSE_WAIT:
		case MPT_TCP_TIME_WAIT:
		case MPT_TCP_CLOSED:
		case MPT_TCP_LISTEN:
		case MPT_TCP_SYN_SENT:
		case MPT_TCP_SYN_RECEIVED:
			break;
		}
	}
	return true;
}

/* Handshake-completing ACK (SYN-SENT or SYN-RECEIVED): SND.UNA covers our SYN. */
static void syn_acked(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, bool syn_window,
		      uint64_t now)
{
	uint32_t ack = seg->hdr.ack;

	if (t->rtt_timing && mpt_seq_geq(ack, t->rtt_seq)) {
		tcp_rtt_sample(t, now - t->rtt_sent_at);
		t->rtt_timing = false;
	}
	/* Only the SYN is acknowledged here; data sent in SYN-RECEIVED (TFO)
	 * that the same ACK covers is taken by the ACK processing next. */
	t->snd_una = t->iss + 1;
	t->rxt_high = t->snd_una;
	t->recover = t->snd_una;
	t->snd_wnd = syn_window ? seg->hdr.window : (uint32_t)seg->hdr.window << t->snd_wscale;
	t->max_snd_wnd = MPT_MAX(t->max_snd_wnd, t->snd_wnd);
	t->snd_wl1 = seg->hdr.seq;
	t->snd_wl2 = ack;
	tcp_established(t, now);
}

/* RFC 9293 §3.10.7.3: SYN-SENT. */
static int input_syn_sent(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, uint64_t now)
{
	uint16_t flags = seg->hdr.flags;
	uint32_t ack = seg->hdr.ack;

	if (flags & MPT_TCP_ACK) {
		if (mpt_seq_leq(ack, t->iss) || mpt_seq_gt(ack, t->snd_nxt)) {
			if (!(flags & MPT_TCP_RST))
				tcp_send_rst(t, ack, 0, false, now);
			return MPT_ERR_PROTO;
		}
	}
	if (flags & MPT_TCP_RST) {
		/* RFC 5961 §3.2 / RFC 9293: only a RST that ACKs our SYN counts. */
		if (flags & MPT_TCP_ACK) {
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpAttemptFails);
			tcp_fail(t, MPT_ERR_REFUSED);
			return 0;
		}
		return MPT_ERR_PROTO;
	}
	if (!(flags & MPT_TCP_SYN))
		return MPT_ERR_PROTO;

	t->irs = seg->hdr.seq;
	t->rcv_nxt = t->irs + 1;
	t->read_seq = t->rcv_nxt;
	/* Our SYN offered an unscaled window of min(buffer, 65535). */
	t->rcv_adv = t->rcv_nxt + MPT_MIN(t->rb.cap, 65535u);
	t->rcv_sent = t->rcv_adv;
	t->last_ack_sent = t->rcv_nxt;
	t->last_rcv = now;
	tcp_negotiate(t, &seg->opts);
	t->ts_recent_stamp = now;
	if (t->cb.ext_input)
		t->cb.ext_input(t->cb.ud, seg);

	if (flags & MPT_TCP_ACK) {
		syn_acked(t, seg, true, now);
		t->ack_now = true;
		/* SYN-ACK carrying data / FIN: continue at the sixth step. */
		{
			uint32_t len = (uint32_t)seg->len;
			uint32_t wnd = rcv_wnd(t);
			bool fin = (flags & MPT_TCP_FIN) != 0;

			if (len > wnd) {
				len = wnd;
				fin = false;
			}
			process_data_fin(t, t->rcv_nxt, seg->payload, len, fin, now);
		}
		tcp_output(t, now);
		return 0;
	}
	/* Simultaneous open (RFC 9293 §3.5 figure 7): SYN-RECEIVED, SYN-ACK. */
	tcp_set_state(t, MPT_TCP_SYN_RECEIVED);
	t->snd_wnd = seg->hdr.window;
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = seg->hdr.seq;
	t->snd_wl2 = t->iss;
	tcp_send_syn(t, now);
	t->rtx_at = now + tcp_rto_cur(t);
	return 0;
}

/* Synchronized states and SYN-RECEIVED (RFC 9293 §3.10.7.4). */
static int input_sync(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, uint64_t now)
{
	uint16_t flags = seg->hdr.flags;
	uint32_t seq = seg->hdr.seq;
	uint32_t ack = seg->hdr.ack;
	const uint8_t *data = seg->payload;
	uint32_t len = (uint32_t)seg->len;
	uint32_t wnd = rcv_wnd(t);
	bool has_ts = t->ts_ok && (seg->opts.present & MPT_TCPOPT_F_TS);
	uint32_t seglen, edge;
	bool ok;

	if (seg->len > (1u << 30))
		return MPT_ERR_BADLEN;

	/* SYN-RECEIVED: the peer's SYN again, or its SYN-ACK (simultaneous open). */
	if (t->state == MPT_TCP_SYN_RECEIVED && (flags & MPT_TCP_SYN) && !(flags & MPT_TCP_RST) &&
	    seq == t->irs) {
		if (!(flags & MPT_TCP_ACK)) {
			/* The extension sees the retransmitted SYN too: its
			 * options may have changed (MPTCP blackhole fallback). */
			if (t->cb.ext_input)
				t->cb.ext_input(t->cb.ud, seg);
			tcp_send_syn(t, now);
			return 0;
		}
		if (mpt_seq_gt(ack, t->snd_una) && mpt_seq_leq(ack, t->snd_nxt)) {
			if (t->cb.ext_input)
				t->cb.ext_input(t->cb.ud, seg);
			if (has_ts)
				t->ts_recent = seg->opts.tsval;
			syn_acked(t, seg, true, now);
			t->ack_now = true;
			tcp_output(t, now);
			return 0;
		}
		tcp_send_rst(t, ack, 0, false, now);
		return MPT_ERR_PROTO;
	}

	/* RFC 7323 §5.3 R1 (PAWS); RSTs are exempt. */
	if (has_ts && !(flags & MPT_TCP_RST)) {
		if (now - t->ts_recent_stamp > TCP_PAWS_IDLE_NS) {
			/* §5.5: TS.Recent is invalid after 24 days idle. */
			t->ts_recent = seg->opts.tsval;
			t->ts_recent_stamp = now;
		} else if (mpt_seq_lt(seg->opts.tsval, t->ts_recent)) {
			mpt_mib_inc(t->cfg.mib, MPT_MIB_PAWSEstabRejected);
			tcp_send_ack(t, now);
			return MPT_ERR_PROTO;
		}
	}

	/* RFC 5961 §3.2: RST only when SEG.SEQ == RCV.NXT exactly. */
	if (flags & MPT_TCP_RST) {
		if (seq == t->rcv_nxt) {
			do_reset(t);
			return 0;
		}
		if (wnd > 0 && mpt_seq_gt(seq, t->rcv_nxt) && mpt_seq_lt(seq, t->rcv_nxt + wnd)) {
			tcp_send_challenge_ack(t, now);
			return MPT_ERR_PROTO;
		}
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPRstNotInWindow);
		return MPT_ERR_PROTO;
	}

	/* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK,
	 * whatever its sequence number. */
	if (flags & MPT_TCP_SYN) {
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPSYNChallenge);
		tcp_send_challenge_ack(t, now);
		return MPT_ERR_PROTO;
	}

	/* RFC 2883 §4 (1): data below RCV.NXT arrived again: report it in a
	 * D-SACK block on the (immediate) ACK. */
	if (len > 0 && t->sack_ok && mpt_seq_lt(seq, t->rcv_nxt)) {
		tcp_dsack_note(t, seq, mpt_seq_min(seq + len, t->rcv_nxt));
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPDSACKOldSent);
		t->ack_now = true;
	}

	/* First step: sequence number acceptability (RFC 9293 §3.10.7.4). */
	seglen = len + ((flags & MPT_TCP_FIN) ? 1u : 0u);
	if (seglen == 0) {
		/*
		 * A bare segment at the right edge is taken too (RFC 9293 says
		 * "< RCV.NXT + RCV.WND"; Linux's tcp_sequence takes "<="): a
		 * peer that sent up to our edge and lost that data sends its
		 * ACKs at SND.NXT == our edge, and dropping them with their
		 * ACK fields let two such peers wait for each other forever
		 * (fuzz finding stall-517c8017: each retransmitted a segment
		 * the other had acknowledged, a minute apart).
		 */
		ok = wnd == 0 ? seq == t->rcv_nxt
			      : mpt_seq_geq(seq, t->rcv_nxt) && mpt_seq_leq(seq, t->rcv_nxt + wnd);
	} else if (wnd == 0) {
		ok = false;
	} else {
		uint32_t last = seq + seglen - 1;

		ok = (mpt_seq_geq(seq, t->rcv_nxt) && mpt_seq_lt(seq, t->rcv_nxt + wnd)) ||
		     (mpt_seq_geq(last, t->rcv_nxt) && mpt_seq_lt(last, t->rcv_nxt + wnd));
	}
	/* A FIN right at the window edge needs no buffer space: accept it. */
	if (!ok && (flags & MPT_TCP_FIN) && seq + len == t->rcv_nxt && len == 0)
		ok = true;
	/*
	 * An ACK just behind RCV.NXT: the peer's zero-window probe byte was
	 * taken here (our window had opened) before it learnt so, and its ACKs
	 * still carry the probe's sequence number (ack_seq() in tcp_out.c stays
	 * at the right edge it knows).  Strictly (§3.10.7.4) they are
	 * unacceptable; dropping their ACK and window fields can deadlock two
	 * peers that probed each other (fuzz finding stall-7501b40f).  Like
	 * 4.4BSD, which "keeps on processing for RST or ACK" after trimming a
	 * duplicate, take the ACK fields of a bare ACK no older than one
	 * receive buffer (the RFC 5961 §5.2 check on SEG.ACK below still
	 * applies, so a blind attacker gains only a window's width of
	 * sequence space), and answer it so the peer resynchronises.
	 */
	bool old_ack = !ok && seglen == 0 && mpt_seq_lt(seq, t->rcv_nxt) &&
		       mpt_seq_geq(seq, t->rcv_nxt - t->rb.cap);
	if (old_ack) {
		ok = true;
		if (tcp_ack_budget(t, now))
			t->ack_now = true;
	}
	if (!ok) {
		if (wnd == 0 && seq == t->rcv_nxt) {
			/* RFC 9293: with a zero window still process the ACK;
			 * the text is dropped and an ACK tells the window. */
			if (len > 0)
				mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPRcvQDrop);
			len = 0;
			flags &= (uint16_t)~MPT_TCP_FIN;
			t->ack_now = true;
		} else {
			if (t->state == MPT_TCP_TIME_WAIT && (flags & MPT_TCP_FIN))
				t->tw_at = now + 2 * t->cfg.msl_ns; /* FIN resent */
			if (seglen > 0) {
				if (mpt_seq_gt(seq, t->rcv_nxt))
					mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPRcvQDrop);
				tcp_send_ack(t, now);
			} else {
				/* Keep-alives and stale ACKs: answer, rate limited
				 * so two confused peers cannot ACK each other forever. */
				if (tcp_ack_budget(t, now))
					tcp_send_ack(t, now);
			}
			return MPT_ERR_PROTO;
		}
	}

	/* Trim the text to [RCV.NXT, right edge).  An old bare ACK keeps its
	 * own sequence number for the window update's SND.WL1 test. */
	if (!old_ack && mpt_seq_lt(seq, t->rcv_nxt)) {
		uint32_t d = t->rcv_nxt - seq;

		if (d >= len) {
			if ((flags & MPT_TCP_FIN) && mpt_seq_lt(seq + len, t->rcv_nxt))
				flags &= (uint16_t)~MPT_TCP_FIN;
			data += len;
			len = 0;
		} else {
			data += d;
			len -= d;
		}
		seq = t->rcv_nxt;
	}
	edge = mpt_seq_max(t->rcv_adv, t->rcv_nxt);
	if (mpt_seq_gt(seq + len, edge)) {
		len = mpt_seq_gt(edge, seq) ? edge - seq : 0;
		flags &= (uint16_t)~MPT_TCP_FIN;
	}

	/* Fifth step: the ACK field. */
	if (!(flags & MPT_TCP_ACK))
		return MPT_ERR_PROTO;
	if (t->state == MPT_TCP_SYN_RECEIVED) {
		if (!(mpt_seq_gt(ack, t->snd_una) && mpt_seq_leq(ack, t->snd_nxt))) {
			tcp_send_rst(t, ack, 0, false, now);
			return MPT_ERR_PROTO;
		}
	}
	/* RFC 5961 §5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT. */
	if (mpt_seq_gt(ack, t->snd_nxt)) {
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPACKOutOfWindow);
		tcp_send_challenge_ack(t, now);
		return MPT_ERR_PROTO;
	}
	if (mpt_seq_lt(ack, t->snd_una - t->max_snd_wnd)) {
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPACKOutOfWindow);
		return MPT_ERR_PROTO;
	}

	if (t->cb.ext_input)
		t->cb.ext_input(t->cb.ud, seg);
	t->last_rcv = now;
	t->ka_probes = 0;
	t->ka_at = MPT_TIME_NEVER;
	/* RFC 9293 §3.8.6.1: a peer that answers zero-window probes keeps the
	 * connection alive indefinitely; only unanswered probes count. */
	t->persist_probes = 0;
	/* RFC 7323 §4.3 (2): TS.Recent from segments covering Last.ACK.sent. */
	if (has_ts && mpt_seq_leq(seq, t->last_ack_sent) &&
	    mpt_seq_geq(seg->opts.tsval, t->ts_recent)) {
		t->ts_recent = seg->opts.tsval;
		t->ts_recent_stamp = now;
	}

	if (t->state == MPT_TCP_SYN_RECEIVED)
		syn_acked(t, seg, false, now);
	if (!process_ack(t, seg, seq, len, flags, now))
		return 0;
	if (!process_data_fin(t, seq, data, len, (flags & MPT_TCP_FIN) != 0, now))
		return 0;
	tcp_output(t, now);
	return 0;
}

int mpt_tcp_input(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, uint64_t now)
{
	int r;

	if (!t || !seg || (seg->len > 0 && !seg->payload))
		return MPT_ERR_INVAL;
	tcp_enter(t);
	t->segs_in++;
	switch (t->state) {
	case MPT_TCP_CLOSED:
	case MPT_TCP_LISTEN:
		r = MPT_ERR_STATE;
		break;
	case MPT_TCP_SYN_SENT:
		r = input_syn_sent(t, seg, now);
		break;
	case MPT_TCP_SYN_RECEIVED:
	case MPT_TCP_ESTABLISHED:
	case MPT_TCP_FIN_WAIT_1:
	case MPT_TCP_FIN_WAIT_2:
	case MPT_TCP_CLOSE_WAIT:
	case MPT_TCP_CLOSING:
	case MPT_TCP_LAST_ACK:
	case MPT_TCP_TIME_WAIT:
	default:
		r = input_sync(t, seg, now);
		break;
	}
	if (t->state != MPT_TCP_CLOSED)
		tcp_arm_timers(t, now);
	tcp_leave(t);
	return r;
}
