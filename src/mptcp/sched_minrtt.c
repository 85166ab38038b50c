/*
 * "minrtt" (the default scheduler): each chunk goes to the subflow with
 * the lowest smoothed RTT that has congestion-window room; backup subflows
 * only when no regular one is available (RFC 8684 §3.3.8).  A much slower
 * subflow is skipped when what it would carry would block the shared
 * receive window (slow_would_block).
 *
 * When the peer's connection-level receive window blocks new data while a
 * fast subflow has room, and the head of the window is stuck on a subflow
 * whose RTT is at least 1.5x the fast one's (head-of-line blocking across
 * heterogeneous paths).  Then, as in
 * Raiciu et al., "How Hard Can It Be? Designing and Implementing a
 * Deployable Multipath TCP", NSDI 2012, §4.2:
 *  - opportunistic reinjection: the mapping holding DATA_ACK's byte is sent
 *    again on the fast subflow (once per DSN), so the window can open one
 *    fast RTT later instead of one slow RTT;
 *  - penalisation: the slow subflow's congestion window is halved (at most
 *    once per its RTT) so that it holds less of the shared window.
 */
#include "common.h"
#include "mptcp/mptcp.h"
#include "mptcp/policy.h"

/*
 * Head-of-line guard for a slower subflow s when the fastest one f is full
 * (after BLEST, Ferlin et al., "BLEST: Blocking Estimation-based MPTCP
 * Scheduler for Heterogeneous Networks", IFIP Networking 2016, with
 * lambda = 1): during one RTT of s, f can send about cwnd_f * rtt_s /
 * rtt_f bytes.  If that is more than the peer's window leaves once s takes
 * its chunk, data on s would hold the window's left edge while f could have
 * filled it: better wait for f.  Only across clearly different paths.
 */
static bool slow_would_block(struct mpt_mpconn *mp, struct mpt_subflow *f, uint64_t rtt_f,
			     uint64_t rtt_s, size_t room_s)
{
	if (rtt_s <= rtt_f + rtt_f / 2 || rtt_f == 0)
		return false;
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(f->flow->tcp, &ti);
	uint64_t edge = mpt_sched_wnd_edge(mp);
	uint64_t left = mpt_dsn_span(mp->snd_nxt, edge);
	/* RTTs well below 2^40 ns and cwnd below 2^31: no overflow. */
	uint64_t x = (uint64_t)ti.snd_cwnd * MPT_MIN(rtt_s, UINT64_C(1) << 40) / rtt_f;
	if (x + room_s > left)
		return true;
	/* Also when f alone sends everything still queued before s could
	 * deliver anything (a short response): s would only make it later
	 * (the completion-time argument of ECF, Lim et al., CoNEXT 2017). */
	uint64_t queued = mpt_dsn_span(mp->snd_nxt, mp->snd.end);
	for (size_t i = 0; i < mp->n_reinj; i++)
		queued += mpt_dsn_span(mp->reinj[i].dsn, mp->reinj[i].end);
	return x >= queued;
}

static struct mpt_subflow *minrtt_pick(struct mpt_mpconn *mp, size_t want, size_t *room,
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
	    slow_would_block(mp, fast, fast_rtt, best_rtt, *room)) {
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPSchedHolWait);
		return NULL;
	}
	return best;
}

static void minrtt_unblock(struct mpt_mpconn *mp, uint64_t now)
{
	/* Only when the window (not the application or the subflows'
	 * windows) is what keeps new data back. */
	if (mp->n_reinj > 0 || mpt_dsn_geq(mp->snd_nxt, mp->snd.end) || !mp->fully_established ||
	    mpt_dsn_lt(mp->snd_nxt, mpt_sched_wnd_edge(mp)) ||
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
	struct mpt_subflow *fast = minrtt_pick(mp, want, &room, now);
	/* Only across clearly different paths (the holder's RTT 1.5x the
	 * fast one's): between similar paths a window-blocked head is
	 * ordinary queueing noise, and re-sending it wastes capacity
	 * (measured: 3 equal paths lost 3 % of their goodput). */
	if (!fast || fast == slow)
		return;
	uint64_t fast_rtt = mpt_sched_sf_srtt(fast);
	if (slow_rtt <= fast_rtt + fast_rtt / 2)
		return;
	if (mpt_dsn_geq(mp->snd.una, mp->sched_opp_end)) {
		/* Not counted in snd_nxt: it is a second copy of sent data. */
		size_t n = mpt_sched_send(mp, fast, &c, MPT_MIN(want, room), now);
		if (n > 0) {
			mp->sched_opp_end = c.dsn + n;
			mp->reinjected += n;
			mpt_mib_add(&mp->st->mib, MPT_MIB_MPTCPReinject, n);
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPSchedOppReinj);
		}
	}
	if (slow->sched_t == 0 || now - slow->sched_t >= slow_rtt) {
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
	mpt_sched_push_loop(mp, minrtt_pick, now);
	minrtt_unblock(mp, now);
}

const struct mpt_sched_ops mpt_sched_minrtt = {
    .name = "minrtt",
    .push = minrtt_push,
};
