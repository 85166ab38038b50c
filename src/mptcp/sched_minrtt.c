/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "minrtt" (the default scheduler): each chunk goes to the subflow with
 * the lowest smoothed RTT that has congestion-window room; backup subflows
 * only when no regular one is available (RFC 8684 §3.3.8).  A much slower
 * subflow is skipped when it cannot help (slow_would_block): when the
 * fastest subflow alone could turn the whole shared window over within one
 * RTT of the slow one, or send everything still queued before the slow one
 * delivers anything.
 *
 * When new data is held back by the shared window (the peer's
 * connection-level receive window, or our send buffer full of data not yet
 * DATA_ACKed) while a fast subflow has room, and the head of the window is
 * stuck on a subflow whose RTT is at least 1.5x the fast one's
 * (head-of-line blocking across heterogeneous paths), then, as in
 * Raiciu et al., "How Hard Can It Be? Designing and Implementing a
 * Deployable Multipath TCP", NSDI 2012, §4.2:
 *  - opportunistic reinjection: the mapping holding DATA_ACK's byte is sent
 *    again on the fast subflow (once per DSN), so the window can open one
 *    fast RTT later instead of one slow RTT;
 *  - penalisation: the slow subflow's congestion window is halved (at most
 *    once per its RTT) so that it holds less of the shared window, but only
 *    while its own queue inflates its RTT (smoothed RTT above 1.5x its
 *    minimum): then the halving drains that queue and the window turns over
 *    sooner, at no cost in the slow path's delivery rate.  The paper's
 *    case is a 3G path with deep buffers; a slow path that is not queueing
 *    (its RTT is all propagation) and often carries most of the bytes would
 *    only lose rate (measured: 32 MiB over 20 Mbit/s 10 ms + 100 Mbit/s
 *    200 ms with a 1 MiB window took 10.8 s with unconditional halving,
 *    6.3 s without it).
 */
#include "common.h"
#include "mptcp/mptcp.h"
#include "mptcp/policy.h"

/*
 * Head-of-line guard for a slower subflow s when the fastest one f is full
 * (after BLEST, Ferlin et al., "BLEST: Blocking Estimation-based MPTCP
 * Scheduler for Heterogeneous Networks", IFIP Networking 2016, with
 * lambda = 1): during one RTT of s, f can send about x = cwnd_f * rtt_s /
 * rtt_f bytes.  A chunk on s holds the window's left edge for about one
 * RTT of s, so once the shared window W (the peer's window from DATA_ACK,
 * or our send buffer if smaller) is what limits the connection, using s
 * gives about W per RTT of s and f alone cwnd_f per RTT of f: s helps
 * only when x < W.  (BLEST compares x with the part of the window still
 * free at the moment instead; that held back a slow path of larger
 * capacity almost entirely: 32 MiB over 10 Mbit/s 20 ms + 100 Mbit/s
 * 200 ms with a 1 MiB window took 27.0 s, round robin 6.8 s.)  Only
 * across clearly different paths.
 */
static bool slow_would_block(struct mpt_mpconn *mp, struct mpt_subflow *f, uint64_t rtt_f,
			     uint64_t rtt_s)
{
	if (rtt_s <= rtt_f + rtt_f / 2 || rtt_f == 0)
		return false;
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(f->flow->tcp, &ti);
	uint64_t wnd =
	    MPT_MIN(mpt_dsn_span(mp->snd.una, mpt_sched_wnd_edge(mp)), (uint64_t)mp->snd.cap);
	/* RTTs well below 2^40 ns and cwnd below 2^31: no overflow. */
	uint64_t x = (uint64_t)ti.snd_cwnd * MPT_MIN(rtt_s, UINT64_C(1) << 40) / rtt_f;
	if (x >= wnd)
		return true;
	/* Also when f alone sends everything still queued before s could
	 * deliver anything (a short response): s would only make it later
	 * (the completion-time argument of ECF, Lim et al., CoNEXT 2017). */
	uint64_t queued = mpt_dsn_span(mp->snd_nxt, mp->snd.end);
	for (size_t i = 0; i < mp->n_reinj; i++)
		queued += mpt_dsn_span(mp->reinj[i].dsn, mp->reinj[i].end);
	return x >= queued;
}

struct mpt_subflow *mpt_sched_minrtt_pick(struct mpt_mpconn *mp, size_t want, size_t *room,
					  uint64_t now)
{
	(void)now;
	bool regular = mpt_sched_have_regular(mp);
	struct mpt_subflow *best = NULL, *fast = NULL;
	uint64_t best_rtt = 0, fast_rtt = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sched_sf_ok(sf) || mpt_sched_sf_backup(sf) == regular)
			continue;
		uint64_t rtt = mpt_sched_sf_srtt(sf);
		if (!fast || rtt < fast_rtt) {
			fast = sf;
			fast_rtt = rtt;
		}
		size_t r = mpt_sched_sf_room(sf, want);
		if (r == 0)
			continue;
		if (!best || rtt < best_rtt) {
			best = sf;
			best_rtt = rtt;
			*room = r;
		}
	}
	/* A subflow without an RTT sample yet (e.g. its SYN was
	 * retransmitted: Karn's rule) must get data to get one. */
	if (best && best != fast && best_rtt < UINT64_MAX / 4 &&
	    slow_would_block(mp, fast, fast_rtt, best_rtt)) {
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPSchedHolWait);
		return NULL;
	}
	return best;
}

/*
 * The shared window holds new data back: every byte the peer's window
 * allows was sent, or the send buffer is full of data not yet DATA_ACKed
 * (all of it sent and less than a mapping free: the application cannot
 * add any).  With equal buffers at both ends the send buffer fills first,
 * at the same DSN as the window edge.
 */
static bool window_blocked(const struct mpt_mpconn *mp)
{
	if (mpt_dsn_geq(mp->snd_nxt, mp->snd.end))
		return mpt_dsnd_space(&mp->snd) < MPT_MP_MAP_MAX;
	return mpt_dsn_geq(mp->snd_nxt, mpt_sched_wnd_edge(mp));
}

/* The subflow's own queue inflates its RTT: srtt over 1.5x its minimum. */
static bool sf_queueing(const struct mpt_subflow *sf)
{
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(sf->flow->tcp, &ti);
	return ti.min_rtt_ns > 0 && ti.srtt_ns > ti.min_rtt_ns + ti.min_rtt_ns / 2;
}

static void minrtt_unblock(struct mpt_mpconn *mp, uint64_t now)
{
	/* Only when the window (not the application or the subflows'
	 * windows) is what keeps new data back. */
	if (mp->n_reinj > 0 || !mp->fully_established || !window_blocked(mp) ||
	    mpt_dsn_geq(mp->snd.una, mp->snd_nxt))
		return;
	const struct mpt_map *m = NULL;
	struct mpt_subflow *slow = mpt_sched_holder(mp, mp->snd.una, &m);
	if (!slow)
		return;
	uint64_t slow_rtt = mpt_sched_sf_srtt(slow);
	struct mpt_sched_chunk c = {.dsn = mp->snd.una, .end = m->dsn + m->len, .reinj = false};
	size_t want = (size_t)(c.end - c.dsn);
	size_t room = 0;
	struct mpt_subflow *fast = mpt_sched_minrtt_pick(mp, want, &room, now);
	/* Only across clearly different paths (the holder's RTT 1.5x the
	 * fast one's): between similar paths a window-blocked head is
	 * ordinary queueing noise, and re-sending it wastes capacity
	 * (measured: 3 equal paths lost 3 % of their goodput). */
	if (!fast || fast == slow)
		return;
	uint64_t fast_rtt = mpt_sched_sf_srtt(fast);
	if (slow_rtt <= fast_rtt + fast_rtt / 2)
		return;
	if (!mpt_sched_head_resent(mp)) {
		/* Not counted in snd_nxt: it is a second copy of sent data. */
		size_t n = mpt_sched_send(mp, fast, &c, MPT_MIN(want, room), now);
		if (n > 0) {
			mp->sched_opp_end = c.dsn + n;
			mp->reinjected += n;
			mpt_mib_add(&mp->st->mib, MPT_MIB_MPTCPReinject, n);
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPSchedOppReinj);
		}
	}
	if (sf_queueing(slow) && (slow->sched_t == 0 || now - slow->sched_t >= slow_rtt)) {
		struct mpt_cc *cc = mpt_tcp_cc(slow->flow->tcp);
		uint32_t floor = 2 * cc->mss;
		if (cc->cwnd > floor) {
			cc->cwnd = MPT_MAX(cc->cwnd / 2, floor);
			cc->ssthresh = MPT_MAX(cc->cwnd, floor);
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPSchedPenalise);
		}
		slow->sched_t = now ? now : 1;
	}
}

static void minrtt_push(struct mpt_mpconn *mp, uint64_t now)
{
	mpt_sched_push_loop(mp, mpt_sched_minrtt_pick, now);
	minrtt_unblock(mp, now);
}

const struct mpt_sched_ops mpt_sched_minrtt = {
    .name = "minrtt",
    .push = minrtt_push,
};
