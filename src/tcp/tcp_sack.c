/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sender-side SACK scoreboard (RFC 2018) and the RFC 6675 loss-recovery
 * helpers (IsLost, pipe, NextSeg), also used in a degenerate form for
 * NewReno (RFC 6582) when SACK is off and after an RTO (loss state).
 *
 * The scoreboard is a sorted array of disjoint SACKed ranges, all above
 * SND.UNA.  Work per ACK is O(number of ranges) (<= TCP_SCB_MAX).
 *
 * "Lost" ranges: RFC 6675 IsLost for a hole (DupThresh SACKed blocks or more
 * than (DupThresh-1)*SMSS SACKed bytes above it), plus a forced-lost prefix
 * [SND.UNA, F) where F is fr_lost_end in fast recovery (the segment that the
 * fast retransmit / a NewReno partial ACK says is lost) or `recover` in the
 * loss state after an RTO (everything outstanding at the RTO is lost, except
 * what is SACKed: go-back-N that skips SACKed data).
 *
 * With SACK, the "lost" verdicts, pipe and NextSeg come from RACK (RFC 8985,
 * tcp_rack.c) instead; the code here then keeps the scoreboard and finds
 * D-SACK blocks.  NewReno (no SACK) uses the range logic fully.
 */
#include "tcp/tcp_internal.h"

void tcp_scb_clear(struct mpt_tcp *t)
{
	t->n_scb = 0;
	t->sacked_bytes = 0;
	if (t->rack_on)
		tcp_txr_unsack_all(t);
}

static void scb_recount(struct mpt_tcp *t)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i < t->n_scb; i++)
		s += t->scb[i].r - t->scb[i].l;
	t->sacked_bytes = s;
}

/* Drop everything at or below SND.UNA (after a cumulative ACK). */
void tcp_scb_trim(struct mpt_tcp *t)
{
	uint32_t i = 0;

	while (i < t->n_scb && mpt_seq_leq(t->scb[i].r, t->snd_una))
		i++;
	if (i > 0) {
		memmove(&t->scb[0], &t->scb[i], (t->n_scb - i) * sizeof(t->scb[0]));
		t->n_scb -= i;
	}
	if (t->n_scb > 0 && mpt_seq_lt(t->scb[0].l, t->snd_una))
		t->scb[0].l = t->snd_una;
	scb_recount(t);
}

/*
 * SACK reneging (RFC 2018 §8): the receiver cumulatively acknowledged up to
 * a point inside or at the start of data it had SACKed, i.e. it holds data
 * above SND.UNA that it reported but does not acknowledge: it discarded it.
 * Called after tcp_scb_trim.
 */
bool tcp_scb_reneged(const struct mpt_tcp *t)
{
	return t->n_scb > 0 && t->scb[0].l == t->snd_una;
}

static void scb_add(struct mpt_tcp *t, uint32_t l, uint32_t r)
{
	uint32_t i = 0, j;

	while (i < t->n_scb && mpt_seq_lt(t->scb[i].r, l))
		i++;
	j = i;
	while (j < t->n_scb && mpt_seq_leq(t->scb[j].l, r)) {
		l = mpt_seq_min(l, t->scb[j].l);
		r = mpt_seq_max(r, t->scb[j].r);
		j++;
	}
	if (j == i) {
		if (t->n_scb >= TCP_SCB_MAX) {
			/* Full: forgetting the highest range only costs a spurious
			 * retransmission later; keep the lower (more useful) ones. */
			if (i == t->n_scb)
				return;
			t->n_scb--;
		}
		memmove(&t->scb[i + 1], &t->scb[i], (t->n_scb - i) * sizeof(t->scb[0]));
		t->n_scb++;
	} else if (j > i + 1) {
		memmove(&t->scb[i + 1], &t->scb[j], (t->n_scb - j) * sizeof(t->scb[0]));
		t->n_scb -= j - i - 1;
	}
	t->scb[i].l = l;
	t->scb[i].r = r;
}

/*
 * RFC 2883 §4: the first block is a D-SACK when it lies at or below the
 * cumulative ACK of the segment, or inside the second block.  It must also
 * be plausible: not beyond SND.NXT and not older than one maximum window.
 */
static bool is_dsack(const struct mpt_tcp *t, const struct mpt_tcp_seg *seg)
{
	const struct mpt_tcp_opts *o = &seg->opts;
	uint32_t l = o->sack[0].left, r = o->sack[0].right;
	uint32_t horizon = t->snd_una - MPT_MAX(t->max_snd_wnd, 65535u);

	if (!mpt_seq_lt(l, r) || mpt_seq_gt(r, t->snd_nxt) || mpt_seq_lt(l, horizon))
		return false;
	if (mpt_seq_leq(r, seg->hdr.ack))
		return true;
	return o->nsack >= 2 && mpt_seq_geq(l, o->sack[1].left) && mpt_seq_leq(r, o->sack[1].right);
}

/*
 * Merge the SACK blocks of an incoming ACK.  Blocks that are empty, not
 * above SND.UNA or beyond SND.NXT are ignored; a D-SACK first block is
 * reported in res and not merged.  With RACK the parts of each block that
 * were not on the scoreboard yet mark their transmit records SACKed.
 */
void tcp_scb_update(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, uint64_t now,
		    struct tcp_sack_res *res)
{
	const struct mpt_tcp_opts *o = &seg->opts;
	uint32_t before = t->sacked_bytes;
	uint32_t k = 0, nb;

	memset(res, 0, sizeof(*res));
	if (!t->sack_ok || !(o->present & MPT_TCPOPT_F_SACK))
		return;
	nb = MPT_MIN((uint32_t)o->nsack, (uint32_t)MPT_TCP_MAX_SACK);
	if (nb > 0 && is_dsack(t, seg)) {
		res->dsack = true;
		res->dsack_range.l = o->sack[0].left;
		res->dsack_range.r = o->sack[0].right;
		k = 1;
	}
	for (; k < nb; k++) {
		struct tcp_range fresh[TCP_SCB_MAX + 1], blk;
		uint32_t l = o->sack[k].left, r = o->sack[k].right, nf = 0;

		if (!mpt_seq_lt(l, r) || mpt_seq_gt(r, t->snd_nxt) || mpt_seq_leq(r, t->snd_una))
			continue;
		if (mpt_seq_lt(l, t->snd_una))
			l = t->snd_una;
		if (t->rack_on) {
			/* The parts of [l, r) not on the scoreboard yet. */
			uint32_t pos = l;

			for (uint32_t i = 0; i < t->n_scb && mpt_seq_lt(pos, r); i++) {
				if (mpt_seq_leq(t->scb[i].r, pos))
					continue;
				if (mpt_seq_geq(t->scb[i].l, r))
					break;
				if (mpt_seq_lt(pos, t->scb[i].l)) {
					fresh[nf].l = pos;
					fresh[nf++].r = t->scb[i].l;
				}
				pos = t->scb[i].r;
			}
			if (mpt_seq_lt(pos, r)) {
				fresh[nf].l = pos;
				fresh[nf++].r = r;
			}
		}
		scb_add(t, l, r);
		blk.l = l;
		blk.r = r;
		for (uint32_t i = 0; i < nf; i++)
			tcp_txr_sacked(t, fresh[i].l, fresh[i].r, &blk, now, seg);
	}
	scb_recount(t);
	res->newly_sacked = t->sacked_bytes > before ? t->sacked_bytes - before : 0;
}

/* End of the forced-lost prefix [SND.UNA, F). */
static uint32_t forced_lost_end(const struct mpt_tcp *t)
{
	uint32_t f = t->snd_una;

	if (t->ca_state == TCP_CA_RECOVERY)
		f = mpt_seq_max(f, t->fr_lost_end);
	else if (t->ca_state == TCP_CA_LOSS)
		f = mpt_seq_max(f, t->recover);
	return mpt_seq_min(f, t->snd_nxt);
}

/*
 * RFC 6675 IsLost for a hole followed by scoreboard range idx: DupThresh
 * discontiguous SACKed ranges above, or more than (DupThresh-1)*SMSS bytes.
 */
static bool hole_lost_by_sack(const struct mpt_tcp *t, uint32_t idx, const uint32_t *suffix)
{
	if (idx >= t->n_scb)
		return false;
	return t->n_scb - idx >= TCP_DUPTHRESH || suffix[idx] > (TCP_DUPTHRESH - 1) * t->snd_mss;
}

/* Iterate over the holes (un-SACKed ranges of [SND.UNA, SND.NXT)) with their
 * lost status.  cb returns true to stop. */
typedef bool (*hole_fn)(void *arg, uint32_t s, uint32_t e, bool lost);

static void for_each_hole(const struct mpt_tcp *t, hole_fn fn, void *arg)
{
	uint32_t suffix[TCP_SCB_MAX + 1];
	uint32_t f = forced_lost_end(t);
	uint32_t pos = t->snd_una;

	suffix[t->n_scb] = 0;
	for (uint32_t i = t->n_scb; i-- > 0;)
		suffix[i] = suffix[i + 1] + (t->scb[i].r - t->scb[i].l);
	for (uint32_t i = 0; i <= t->n_scb; i++) {
		uint32_t e = i < t->n_scb ? t->scb[i].l : t->snd_nxt;
		bool lost = hole_lost_by_sack(t, i, suffix);

		if (mpt_seq_lt(pos, e)) {
			if (mpt_seq_lt(pos, f)) {
				uint32_t m = mpt_seq_min(e, f);

				if (fn(arg, pos, m, true))
					return;
				pos = m;
			}
			if (mpt_seq_lt(pos, e) && fn(arg, pos, e, lost))
				return;
		}
		if (i < t->n_scb)
			pos = mpt_seq_max(pos, t->scb[i].r);
	}
}

struct pipe_acc {
	uint32_t rxt_high;
	uint32_t pipe;
};

static bool pipe_cb(void *arg, uint32_t s, uint32_t e, bool lost)
{
	struct pipe_acc *a = arg;
	uint32_t r = s;

	if (mpt_seq_gt(a->rxt_high, s))
		r = mpt_seq_min(a->rxt_high, e);
	/*
	 * RFC 6675 SetPipe: an octet counts once if not lost, and once more if
	 * it was retransmitted (<= HighRxt).  Lost and not retransmitted: 0.
	 */
	if (lost)
		a->pipe += r - s;
	else
		a->pipe += (e - s) + (r - s);
	return false;
}

/* RFC 6675 pipe (bytes believed in the network). */
uint32_t tcp_pipe(const struct mpt_tcp *t)
{
	struct pipe_acc a = {t->rxt_high, 0};
	uint32_t flight = t->snd_nxt - t->snd_una;

	if (t->rack_on)
		return tcp_rack_pipe(t);
	if (t->ca_state == TCP_CA_OPEN && t->n_scb == 0)
		return flight;
	for_each_hole(t, pipe_cb, &a);
	if (!t->sack_ok && t->ca_state == TCP_CA_RECOVERY) {
		/* NewReno: each duplicate ACK says a segment left the network. */
		uint64_t est = (uint64_t)t->dupacks * t->snd_mss;

		a.pipe = est >= a.pipe ? 0 : a.pipe - (uint32_t)est;
	}
	return a.pipe;
}

static bool first_cb(void *arg, uint32_t s, uint32_t e, bool lost)
{
	MPT_UNUSED(s);
	MPT_UNUSED(e);
	*(bool *)arg = lost;
	return true;
}

/* IsLost(SND.UNA): is the first hole lost (RFC 6675 §5 recovery entry)? */
bool tcp_first_hole_lost(const struct mpt_tcp *t)
{
	bool lost = false;

	if (t->n_scb == 0)
		return false;
	for_each_hole(t, first_cb, &lost);
	return lost;
}

struct next_acc {
	const struct mpt_tcp *t;
	uint32_t seq, len;
	bool found;
	bool have3;
	uint32_t seq3, len3;
	uint32_t high_sacked;
};

static bool next_cb(void *arg, uint32_t s, uint32_t e, bool lost)
{
	struct next_acc *a = arg;
	uint32_t start = mpt_seq_max(s, a->t->rxt_high);

	if (!mpt_seq_lt(start, e))
		return false;
	if (lost) {
		/* RFC 6675 NextSeg (1): lost, un-SACKed, above HighRxt. */
		a->seq = start;
		a->len = e - start;
		a->found = true;
		return true;
	}
	/* NextSeg (3): un-SACKed, above HighRxt, below the highest SACKed octet. */
	if (!a->have3 && mpt_seq_lt(start, a->high_sacked)) {
		a->have3 = true;
		a->seq3 = start;
		a->len3 = mpt_seq_min(e, a->high_sacked) - start;
	}
	return false;
}

/*
 * Next retransmission candidate (RFC 6675 NextSeg).  Returns true with
 * seq and len set to a lost, un-SACKed range above HighRxt (rule 1).
 * Otherwise returns false and sets len to the size of the rule-3 candidate
 * (un-SACKed, above HighRxt, below the highest SACKed octet; 0 if none),
 * which the caller uses only when no new data can be sent (rule 2 first).
 * The length may exceed an MSS; the caller trims.
 */
bool tcp_next_rtx(const struct mpt_tcp *t, uint32_t *seq, uint32_t *len)
{
	struct next_acc a = {0};

	if (t->rack_on) {
		/* RFC 8985: RACK decides what is lost; no rule-3 guesses. */
		*len = 0;
		return t->snd_nxt != t->snd_una && tcp_rack_next_lost(t, seq, len);
	}
	if (t->ca_state == TCP_CA_OPEN || t->snd_nxt == t->snd_una)
		return false;
	a.t = t;
	a.high_sacked = t->n_scb ? t->scb[t->n_scb - 1].r : t->snd_una;
	for_each_hole(t, next_cb, &a);
	if (a.found) {
		*seq = a.seq;
		*len = a.len;
		return true;
	}
	*seq = a.seq3;
	*len = a.have3 ? a.len3 : 0;
	return false;
}
