/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RACK-TLP loss detection (RFC 8985) for SACK connections, D-SACK use on
 * the sender (RFC 2883 §4, RFC 8985 §6.2 step 4) and the undo of spurious
 * congestion-window reductions (RFC 3708 D-SACK based detection, with an
 * Eifel-like restore of the congestion state, RFC 4015 spirit).
 *
 * Per-transmission state lives in a ring of transmit records (struct
 * tcp_txrec) allocated once at create time and ordered by sequence number;
 * together they cover [SND.UNA, SND.NXT).  A record is split when a SACK
 * block or a retransmission covers only part of it (when the ring is full
 * the split is skipped, which only makes detection more conservative); a
 * new transmission that finds the ring full is merged into the last record.
 *
 * Byte counters of SACKed, lost and in-flight retransmitted records give
 * the RFC 6675 pipe in O(1): pipe = FlightSize - sacked - lost + retrans.
 * Work per ACK is proportional to the records it acknowledges, the records
 * of the holes RACK inspects (it stops at the first original transmission
 * sent after RACK.xmit_ts) and O(log n + scoreboard) per SACK block.
 */
#include "tcp/tcp_internal.h"

/* ---- the ring --------------------------------------------------------- */

int tcp_txr_init(struct mpt_tcp *t)
{
	/* Sized from sndbuf: up to one record per 512 bytes of buffer (a
	 * full-sized segment needs one; small writes with Nagle off may use
	 * more, and then merge). */
	uint32_t cap = t->cfg.sndbuf / 512 + 64;

	if (cap > 65536)
		cap = 65536;
	t->txr = mpt_calloc(&t->mem, cap, sizeof(*t->txr));
	if (!t->txr)
		return MPT_ERR_NOMEM;
	t->txr_cap = cap;
	t->txr_head = t->txr_n = 0;
	t->rack_reo_mult = 1;
	t->reo_at = t->pto_at = MPT_TIME_NEVER;
	return 0;
}

void tcp_txr_free(struct mpt_tcp *t)
{
	mpt_free(&t->mem, t->txr);
	t->txr = NULL;
	t->txr_cap = t->txr_n = 0;
}

static struct tcp_txrec *txr_at(const struct mpt_tcp *t, uint32_t i)
{
	return &t->txr[(uint32_t)(((uint64_t)t->txr_head + i) % t->txr_cap)];
}

/* Index of the first record whose end is above seq (txr_n if none). */
static uint32_t txr_find(const struct mpt_tcp *t, uint32_t seq)
{
	uint32_t lo = 0, hi = t->txr_n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mpt_seq_leq(txr_at(t, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add or remove a record's bytes to/from the counters. */
static void txr_account(struct mpt_tcp *t, const struct tcp_txrec *e, bool add)
{
	uint32_t len = e->end - e->start;
	uint32_t *c = NULL;

	if (e->flags & TCP_TXR_SACKED) {
		c = &t->txr_sacked;
		*c = add ? *c + len : *c - MPT_MIN(*c, len);
		return;
	}
	if (e->flags & TCP_TXR_LOST) {
		c = &t->txr_lost;
		*c = add ? *c + len : *c - MPT_MIN(*c, len);
		if (!(e->flags & TCP_TXR_RETRANS)) {
			c = &t->txr_lost_pending;
			*c = add ? *c + len : *c - MPT_MIN(*c, len);
		}
	}
	if (e->flags & TCP_TXR_RETRANS) {
		c = &t->txr_retrans;
		*c = add ? *c + len : *c - MPT_MIN(*c, len);
	}
}

static void txr_set_flags(struct mpt_tcp *t, struct tcp_txrec *e, uint32_t flags)
{
	txr_account(t, e, false);
	e->flags = flags;
	txr_account(t, e, true);
}

/*
 * Split record i at sequence `at` (start < at < end) into two records with
 * the same state.  Shifts the shorter side of the ring.  Returns false when
 * the ring is full (the caller then treats the record as a whole).
 */
static bool txr_split(struct mpt_tcp *t, uint32_t i, uint32_t at)
{
	struct tcp_txrec *e = txr_at(t, i);

	if (!mpt_seq_lt(e->start, at) || !mpt_seq_lt(at, e->end))
		return false;
	if (t->txr_n >= t->txr_cap)
		return false;
	if (i < t->txr_n / 2) {
		/* Grow at the head: logical index j moves to j + 1; move
		 * 0..i back down, leaving a copy of record i at i + 1. */
		t->txr_head = (t->txr_head + t->txr_cap - 1) % t->txr_cap;
		t->txr_n++;
		for (uint32_t k = 0; k <= i; k++)
			*txr_at(t, k) = *txr_at(t, k + 1);
	} else {
		for (uint32_t k = t->txr_n; k > i + 1; k--)
			*txr_at(t, k) = *txr_at(t, k - 1);
		t->txr_n++;
		*txr_at(t, i + 1) = *txr_at(t, i);
	}
	txr_at(t, i)->end = at;
	txr_at(t, i + 1)->start = at;
	return true;
}

/* RFC 8985 §6.2 RACK_sent_after(t1, seq1, t2, seq2). */
static bool sent_after(uint64_t t1, uint32_t seq1, uint64_t t2, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && mpt_seq_gt(seq1, seq2));
}

/* Record a (re)transmission of [seq, seq+consumed) at now (from tcp_xmit,
 * before SND.NXT is advanced). */
void tcp_txr_sent(struct mpt_tcp *t, uint32_t seq, uint32_t consumed, uint64_t now)
{
	uint32_t end = seq + consumed;

	if (!t->rack_on || consumed == 0 || t->txr_cap == 0)
		return;
	if (mpt_seq_lt(seq, t->snd_nxt)) {
		/* Retransmission of [seq, min(end, SND.NXT)). */
		uint32_t r = mpt_seq_min(end, t->snd_nxt);
		uint32_t i = txr_find(t, seq);

		if (i < t->txr_n && mpt_seq_lt(txr_at(t, i)->start, seq) && txr_split(t, i, seq))
			i++;
		for (; i < t->txr_n && mpt_seq_lt(txr_at(t, i)->start, r); i++) {
			struct tcp_txrec *e = txr_at(t, i);

			if (mpt_seq_gt(e->end, r))
				txr_split(t, i, r);
			e = txr_at(t, i);
			e->xmit_ts = now;
			/* A lost record stays LOST (RFC 6675 pipe counts only
			 * the retransmission); RETRANS marks it in flight. */
			txr_set_flags(t, e, e->flags | TCP_TXR_RETRANS | TCP_TXR_EVER_RTX);
		}
	}
	if (mpt_seq_gt(end, t->snd_nxt)) {
		/* New data [max(seq, SND.NXT), end). */
		uint32_t s = mpt_seq_max(seq, t->snd_nxt);

		if (t->txr_n == t->txr_cap) {
			/* Full: extend the newest record (its timestamp moves to
			 * now, which only delays RACK's verdict on it). */
			struct tcp_txrec *e = txr_at(t, t->txr_n - 1);

			txr_account(t, e, false);
			e->end = end;
			e->xmit_ts = now;
			e->flags &= TCP_TXR_EVER_RTX;
			txr_account(t, e, true);
		} else {
			struct tcp_txrec *e = txr_at(t, t->txr_n);

			e->start = s;
			e->end = end;
			e->xmit_ts = now;
			e->flags = 0;
			t->txr_n++;
		}
		/* RFC 8985 §7.2: (re)start the PTO after sending new data. */
		t->pto_restart = true;
	}
}

/* ---- RACK (RFC 8985 §6.2) ------------------------------------------- */

/* A record was newly delivered (cumulatively ACKed or SACKed). */
static void rack_deliver(struct mpt_tcp *t, const struct tcp_txrec *e, uint64_t now,
			 const struct mpt_tcp_seg *seg)
{
	/* Step 3: an original transmission delivered below what an earlier
	 * ACK already reported was reordered. */
	if (!(e->flags & TCP_TXR_EVER_RTX) && t->rack_prior_fack_valid &&
	    mpt_seq_lt(e->end, t->rack_prior_fack)) {
		t->reord_seen++;
		t->rack_reord = true;
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPSACKReorder);
	}
	if (!t->rack_fack_valid || mpt_seq_gt(e->end, t->rack_fack)) {
		t->rack_fack = e->end;
		t->rack_fack_valid = true;
	}
	/* Step 2: ignore ambiguous samples of retransmitted data: the ACK
	 * echoes an older transmission (TSecr) or came back faster than
	 * any RTT seen (it was for the original). */
	if (e->flags & TCP_TXR_EVER_RTX) {
		if (t->ts_ok && (seg->opts.present & MPT_TCPOPT_F_TS) && seg->opts.tsecr &&
		    mpt_seq_lt(seg->opts.tsecr, tcp_tsval(t, e->xmit_ts)))
			return;
		if (now - e->xmit_ts < t->min_rtt)
			return;
	}
	if (!t->rack_valid || sent_after(e->xmit_ts, e->end, t->rack_xmit_ts, t->rack_end_seq)) {
		t->rack_valid = true;
		t->rack_xmit_ts = e->xmit_ts;
		t->rack_end_seq = e->end;
		t->rack_rtt = now >= e->xmit_ts ? now - e->xmit_ts : 0;
	}
}

/* The scoreboard range containing seq, or NULL. */
static const struct tcp_range *scb_range_of(const struct mpt_tcp *t, uint32_t seq)
{
	for (uint32_t j = 0; j < t->n_scb; j++) {
		if (mpt_seq_leq(t->scb[j].l, seq) && mpt_seq_lt(seq, t->scb[j].r))
			return &t->scb[j];
		if (mpt_seq_gt(t->scb[j].l, seq))
			break;
	}
	return NULL;
}

static bool txr_covered(const struct mpt_tcp *t, const struct tcp_txrec *e,
			const struct tcp_range *blk)
{
	const struct tcp_range *g;

	if (mpt_seq_leq(blk->l, e->start) && mpt_seq_leq(e->end, blk->r))
		return true;
	g = scb_range_of(t, e->start);
	return g && mpt_seq_leq(e->end, g->r);
}

/*
 * [l, r) became SACKed (part of the block blk that was not on the
 * scoreboard before): mark the records it completes.
 */
void tcp_txr_sacked(struct mpt_tcp *t, uint32_t l, uint32_t r, const struct tcp_range *blk,
		    uint64_t now, const struct mpt_tcp_seg *seg)
{
	uint32_t i;

	if (!t->rack_on || !mpt_seq_lt(l, r))
		return;
	for (i = txr_find(t, l); i < t->txr_n && mpt_seq_lt(txr_at(t, i)->start, r); i++) {
		struct tcp_txrec *e = txr_at(t, i);

		if (e->flags & TCP_TXR_SACKED)
			continue;
		if (!txr_covered(t, e, blk)) {
			/* Partly covered: split at the block's edges. */
			if (mpt_seq_lt(e->start, blk->l) && mpt_seq_lt(blk->l, e->end) &&
			    txr_split(t, i, blk->l))
				i++;
			e = txr_at(t, i);
			if (mpt_seq_lt(blk->r, e->end))
				txr_split(t, i, blk->r);
			e = txr_at(t, i);
			if (!txr_covered(t, e, blk))
				continue;
		}
		rack_deliver(t, e, now, seg);
		txr_set_flags(t, e, e->flags | TCP_TXR_SACKED);
	}
}

/* SND.UNA advanced: drop the records below it (delivering the un-SACKed
 * ones to RACK) and trim a partly acknowledged head record. */
void tcp_txr_acked(struct mpt_tcp *t, uint64_t now, const struct mpt_tcp_seg *seg)
{
	while (t->txr_n > 0) {
		struct tcp_txrec *e = txr_at(t, 0);

		if (mpt_seq_leq(e->end, t->snd_una)) {
			if (!(e->flags & TCP_TXR_SACKED))
				rack_deliver(t, e, now, seg);
			txr_account(t, e, false);
			t->txr_head = (t->txr_head + 1) % t->txr_cap;
			t->txr_n--;
			continue;
		}
		if (mpt_seq_lt(e->start, t->snd_una)) {
			txr_account(t, e, false);
			e->start = t->snd_una;
			txr_account(t, e, true);
		}
		break;
	}
}

/* SACK reneging (RFC 2018 §8) or a repeated RTO: forget every SACK. */
void tcp_txr_unsack_all(struct mpt_tcp *t)
{
	for (uint32_t i = 0; i < t->txr_n; i++) {
		struct tcp_txrec *e = txr_at(t, i);

		if (e->flags & TCP_TXR_SACKED)
			txr_set_flags(t, e, e->flags & ~TCP_TXR_SACKED);
	}
}

/* RTO (RFC 8985 §6.3 / RFC 5681 §3.1 go-back-N): everything not SACKed is
 * lost, including retransmissions in flight. */
void tcp_txr_all_lost(struct mpt_tcp *t)
{
	for (uint32_t i = 0; i < t->txr_n; i++) {
		struct tcp_txrec *e = txr_at(t, i);

		if (!(e->flags & TCP_TXR_SACKED))
			txr_set_flags(t, e, (e->flags | TCP_TXR_LOST) & ~TCP_TXR_RETRANS);
	}
}

/* RFC 6675 SetPipe over the records: un-SACKed and not lost counts once,
 * an in-flight retransmission once more (a lost one only that once). */
uint32_t tcp_rack_pipe(const struct mpt_tcp *t)
{
	uint32_t flight = t->snd_nxt - t->snd_una;
	uint32_t out = t->txr_sacked + t->txr_lost;

	return (flight > out ? flight - out : 0) + t->txr_retrans;
}

/*
 * Iterate over the records that are not SACKed, skipping SACKed runs with
 * the scoreboard (O(log n) per run).  Returns the next index >= i.
 */
static uint32_t next_unsacked(const struct mpt_tcp *t, uint32_t i)
{
	while (i < t->txr_n) {
		const struct tcp_txrec *e = txr_at(t, i);
		const struct tcp_range *g;
		uint32_t j;

		if (!(e->flags & TCP_TXR_SACKED))
			return i;
		g = scb_range_of(t, e->start);
		j = g ? txr_find(t, g->r) : i + 1;
		i = j > i ? j : i + 1;
	}
	return i;
}

/* RFC 6675 NextSeg rule 1 with RACK's verdicts: the first lost record. */
bool tcp_rack_next_lost(const struct mpt_tcp *t, uint32_t *seq, uint32_t *len)
{
	if (t->txr_lost_pending == 0)
		return false;
	for (uint32_t i = next_unsacked(t, 0); i < t->txr_n; i = next_unsacked(t, i + 1)) {
		const struct tcp_txrec *e = txr_at(t, i);

		if ((e->flags & (TCP_TXR_LOST | TCP_TXR_RETRANS)) == TCP_TXR_LOST) {
			*seq = mpt_seq_max(e->start, t->snd_una);
			*len = e->end - *seq;
			return *len > 0;
		}
	}
	return false;
}

/* RFC 8985 §6.2 step 4: RACK.reo_wnd. */
uint64_t tcp_rack_reo_wnd(const struct mpt_tcp *t)
{
	uint64_t w;

	if (!t->rack_reord) {
		/* Until reordering is seen, act like DupThresh during recovery
		 * and once DupThresh segments are SACKed. */
		if (t->ca_state != TCP_CA_OPEN)
			return 0;
		if (t->txr_sacked >= TCP_DUPTHRESH * t->snd_mss)
			return 0;
	}
	w = (t->min_rtt / 4) * t->rack_reo_mult;
	if (t->srtt && w > t->srtt)
		w = t->srtt;
	/* Not below the 1 ms timestamp clock: finer waits are noise. */
	return MPT_MAX(w, TCP_CLOCK_G_NS);
}

static void mark_lost(struct mpt_tcp *t, struct tcp_txrec *e)
{
	if (e->flags & TCP_TXR_RETRANS) {
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPLostRetransmit);
		t->rack_lost_rtx = true;
	}
	txr_set_flags(t, e, (e->flags | TCP_TXR_LOST) & ~TCP_TXR_RETRANS);
}

/*
 * RFC 8985 §6.2 step 5 (RACK_detect_loss) and §6.3 (arm the reordering
 * timer).  Records are in sequence order, which is transmission order for
 * original transmissions, so the scan stops at the first original
 * transmission sent after RACK.xmit_ts (every later record is newer).
 */
void tcp_rack_detect_loss(struct mpt_tcp *t, uint64_t now)
{
	uint64_t timeout = 0, reo;

	t->reo_at = MPT_TIME_NEVER;
	if (!t->rack_on || !t->rack_valid || t->txr_n == 0)
		return;
	reo = tcp_rack_reo_wnd(t);
	for (uint32_t i = next_unsacked(t, 0); i < t->txr_n; i = next_unsacked(t, i + 1)) {
		struct tcp_txrec *e = txr_at(t, i);
		uint64_t elapsed, thresh;

		/* Lost and awaiting retransmission: nothing to decide. */
		if ((e->flags & (TCP_TXR_LOST | TCP_TXR_RETRANS)) == TCP_TXR_LOST)
			continue;
		if (sent_after(e->xmit_ts, e->end, t->rack_xmit_ts, t->rack_end_seq)) {
			if (!(e->flags & TCP_TXR_EVER_RTX))
				break;
			continue;
		}
		elapsed = now > e->xmit_ts ? now - e->xmit_ts : 0;
		thresh = t->rack_rtt + reo;
		if (elapsed >= thresh)
			mark_lost(t, e);
		else if (thresh - elapsed > timeout)
			timeout = thresh - elapsed;
	}
	if (timeout)
		t->reo_at = now + timeout;
}

/*
 * Congestion response to what RACK found: a loss in the open state starts
 * fast recovery (once per round trip: not before SND.UNA passed the last
 * recovery point).  A lost retransmission is a new congestion event (RFC
 * 8985 §9.3 / RFC 5681 §4.3: the response a lost retransmission gets from
 * the RTO in RFC 6675): reduce once more, at most once per round trip, and
 * the episode can no longer be undone.
 */
void tcp_rack_react(struct mpt_tcp *t, uint64_t now)
{
	bool lost_rtx = t->rack_lost_rtx;

	t->rack_lost_rtx = false;
	if (!t->cc_started)
		return;
	if (t->ca_state == TCP_CA_OPEN) {
		if (t->txr_lost > 0 && (!t->recover_valid || mpt_seq_geq(t->snd_una, t->recover)))
			tcp_enter_recovery(t, now);
		return;
	}
	if (!lost_rtx || t->ca_state != TCP_CA_RECOVERY)
		return;
	t->undo_valid = false;
	if (t->lrtx_round_valid && mpt_seq_lt(t->snd_una, t->lrtx_round))
		return;
	t->lrtx_round_valid = true;
	t->lrtx_round = t->snd_nxt;
	t->cc.ops->on_loss(&t->cc, tcp_pipe(t), now);
	/* Like the fast retransmit of a new episode, the lost segment goes
	 * out at once. */
	t->fr_force = true;
}

/* RACK reordering timer expired (§6.3). */
void tcp_rack_timer(struct mpt_tcp *t, uint64_t now)
{
	t->reo_at = MPT_TIME_NEVER;
	if (!t->rack_on || t->snd_una == t->snd_nxt || !tcp_can_send_data(t->state))
		return;
	tcp_rack_detect_loss(t, now);
	tcp_rack_react(t, now);
	tcp_output(t, now);
}

/* Recovery (fast or RTO) ended: §6.2 step 4 reo_wnd persistence. */
void tcp_rack_recovery_exit(struct mpt_tcp *t)
{
	if (t->rack_reo_persist > 0 && --t->rack_reo_persist == 0)
		t->rack_reo_mult = 1;
}

/*
 * A D-SACK block arrived (RFC 2883): count it, grow RACK.reo_wnd once per
 * round trip (RFC 8985 §6.2 step 4) and credit the undo accounting.
 */
void tcp_rack_dsack(struct mpt_tcp *t, const struct tcp_range *d)
{
	t->dsack_rcvd++;
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPDSACKRecv);
	if (t->rack_dsack_round_valid && mpt_seq_geq(t->snd_una, t->rack_dsack_round))
		t->rack_dsack_round_valid = false;
	if (!t->rack_dsack_round_valid) {
		t->rack_dsack_round_valid = true;
		t->rack_dsack_round = t->snd_nxt;
		if (t->rack_reo_mult < TCP_REO_MULT_MAX)
			t->rack_reo_mult++;
		t->rack_reo_persist = TCP_REO_PERSIST;
	}
	if (t->undo_valid && mpt_seq_gt(d->r, t->undo_marker)) {
		uint32_t mss = MPT_MAX(t->snd_mss, 1u);
		uint32_t segs = (d->r - d->l + mss - 1) / mss;

		segs = MPT_MAX(segs, 1u);
		t->undo_retrans -= MPT_MIN(t->undo_retrans, segs);
	}
}

/* ---- undo (RFC 3708 §3 / Eifel-like restore) ----------------------- */

/* A reduction is about to happen (fast recovery or the first RTO). */
void tcp_undo_begin(struct mpt_tcp *t, bool rto)
{
	if (!t->rack_on)
		return;
	if (rto && t->undo_valid && t->ca_state == TCP_CA_RECOVERY) {
		/* RTO during recovery: keep the pre-recovery state. */
		t->undo_rto = true;
		return;
	}
	t->undo_valid = true;
	t->undo_rto = rto;
	t->undo_marker = t->snd_una;
	t->undo_retrans = 0;
	t->undo_total = 0;
	t->undo_cc = t->cc;
}

/*
 * RFC 3708 §3: when every retransmission of the episode was reported as a
 * duplicate by D-SACK, the original transmissions all arrived: the
 * reduction was spurious.  Restore the congestion state saved before it
 * (cwnd, ssthresh and the algorithm's private state).
 */
void tcp_undo_check(struct mpt_tcp *t)
{
	struct mpt_cc c;

	if (!t->undo_valid || t->undo_total == 0 || t->undo_retrans > 0)
		return;
	if (t->ca_state != TCP_CA_OPEN && (t->txr_lost_pending > 0 || t->txr_retrans > 0))
		return;
	if (t->cc.cwnd < t->undo_cc.cwnd) {
		c = t->undo_cc;
		c.srtt_ns = t->cc.srtt_ns;
		c.min_rtt_ns = t->cc.min_rtt_ns;
		c.coupling = t->cc.coupling;
		t->cc = c;
	} else if (t->undo_cc.ssthresh > t->cc.ssthresh) {
		t->cc.ssthresh = t->undo_cc.ssthresh;
	}
	if (t->ca_state != TCP_CA_OPEN) {
		t->ca_state = TCP_CA_OPEN;
		t->dupacks = 0;
	}
	/* A later loss starts a new episode (and a new reduction). */
	t->recover_valid = false;
	t->undo_valid = false;
	t->undo_count++;
	mpt_mib_inc(t->cfg.mib, t->undo_rto ? MPT_MIB_TCPLossUndo : MPT_MIB_TCPDSACKUndo);
}

/* ---- TLP (RFC 8985 §7) --------------------------------------------- */

static bool tlp_allowed(const struct mpt_tcp *t)
{
	/* §7.2: SACK, open state (no recovery, nothing SACKed), data in
	 * flight, at most one probe outstanding; not while probing a zero
	 * window. */
	return t->rack_on && t->cc_started && tcp_can_send_data(t->state) &&
	       t->snd_nxt != t->snd_una && t->ca_state == TCP_CA_OPEN && t->txr_sacked == 0 &&
	       !t->tlp_out && t->persist_at == MPT_TIME_NEVER;
}

/* (Re)arm the probe timeout (from tcp_arm_timers). */
void tcp_tlp_arm(struct mpt_tcp *t, uint64_t now)
{
	uint64_t pto;

	if (!tlp_allowed(t)) {
		t->pto_at = MPT_TIME_NEVER;
		t->pto_restart = false;
		return;
	}
	if (t->pto_at != MPT_TIME_NEVER && !t->pto_restart)
		return;
	t->pto_restart = false;
	/* §7.2: PTO = 2*SRTT, plus the worst-case delayed ACK when only one
	 * segment is in flight; 1 s without an RTT sample. */
	if (t->srtt) {
		pto = 2 * t->srtt;
		if (t->snd_nxt - t->snd_una <= t->snd_mss)
			pto += TCP_WCDELACK_NS;
	} else {
		pto = MPT_NS_PER_S;
	}
	pto = MPT_MAX(pto, TCP_PTO_MIN_NS);
	t->pto_at = now + pto;
	/* Never later than the RTO: the probe then replaces it. */
	if (t->rtx_at != MPT_TIME_NEVER && t->pto_at > t->rtx_at)
		t->pto_at = t->rtx_at;
}

/* §7.3: the probe timeout expired: send one segment of new data if the
 * receive window allows, else retransmit the last segment. */
void tcp_tlp_fire(struct mpt_tcp *t, uint64_t now)
{
	uint32_t data_end = tcp_data_end(t);
	uint32_t wnd_end = t->snd_una + t->snd_wnd;
	uint32_t consumed = 0;

	t->pto_at = MPT_TIME_NEVER;
	if (!tlp_allowed(t))
		return;
	if (mpt_seq_lt(t->snd_nxt, data_end) && mpt_seq_gt(wnd_end, t->snd_nxt)) {
		uint32_t unsent = data_end - t->snd_nxt;
		uint32_t n = MPT_MIN(MPT_MIN(unsent, t->snd_mss), wnd_end - t->snd_nxt);

		consumed =
		    tcp_xmit(t, t->snd_nxt, n,
			     (uint16_t)(MPT_TCP_ACK | (n == unsent ? MPT_TCP_PSH : 0)), true, now);
		t->tlp_retrans = false;
	} else if (t->fin_queued && !t->fin_sent && t->snd_nxt == t->fin_seq) {
		consumed = tcp_xmit(t, t->snd_nxt, 0, MPT_TCP_ACK, true, now);
		t->tlp_retrans = false;
	}
	if (consumed == 0 && t->txr_n > 0) {
		const struct tcp_txrec *last = txr_at(t, t->txr_n - 1);
		uint32_t seq = mpt_seq_max(last->start, t->snd_una);

		if (t->snd_nxt - seq > t->snd_mss)
			seq = t->snd_nxt - t->snd_mss;
		consumed = tcp_retransmit(t, seq, t->snd_nxt - seq, now);
		t->tlp_retrans = true;
	}
	if (consumed == 0)
		return;
	t->tlp_out = true;
	t->tlp_end = t->snd_nxt;
	t->tlp_probes++;
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPLossProbes);
	/* §7.3: after a probe the RTO (not another PTO) guards the flight. */
	t->rtx_at = now + tcp_rto_cur(t);
}

/*
 * §7.4: was the probe a repair of a real loss?  A probe of new data needs
 * no verdict.  For a retransmitted probe: a D-SACK of it means the
 * original arrived (no loss); an ACK beyond it means the probe repaired a
 * loss (reduce cwnd once); a pure duplicate ACK means both arrived.
 */
void tcp_tlp_ack(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, const struct tcp_sack_res *sr,
		 bool pure_dup, uint64_t now)
{
	uint32_t ack = seg->hdr.ack;

	if (!t->tlp_out || mpt_seq_lt(ack, t->tlp_end))
		return;
	if (!t->tlp_retrans) {
		t->tlp_out = false;
	} else if (sr->dsack && mpt_seq_geq(sr->dsack_range.r, t->tlp_end) &&
		   mpt_seq_lt(sr->dsack_range.l, t->tlp_end)) {
		t->tlp_out = false;
	} else if (mpt_seq_gt(ack, t->tlp_end)) {
		t->tlp_out = false;
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPLossProbeRecovery);
		if (t->ca_state == TCP_CA_OPEN && t->cc_started) {
			/* A one-time reduction, as at the end of a recovery. */
			t->cc.ops->on_loss(&t->cc, tcp_pipe(t), now);
			t->cc.ops->on_recovery_exit(&t->cc, now);
		}
	} else if (pure_dup) {
		t->tlp_out = false;
	}
}
