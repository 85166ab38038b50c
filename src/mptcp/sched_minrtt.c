/*
 * "minrtt" (the default scheduler): each chunk goes to the subflow with
 * the lowest smoothed RTT that has congestion-window room; backup subflows
 * only when no regular one is available (RFC 8684 §3.3.8).
 *
 * When the peer's connection-level receive window blocks new data while a
 * fast subflow has room, the head of the window is stuck on a slower
 * subflow (head-of-line blocking across heterogeneous paths).  Then, as in
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

static struct mpt_subflow *minrtt_pick(struct mpt_mpconn *mp, size_t want, size_t *room,
				       uint64_t now)
{
	(void)now;
	bool regular = mpt_sched_have_regular(mp);
	struct mpt_subflow *best = NULL;
	uint64_t best_rtt = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sched_sf_ok(sf) || mpt_sched_sf_backup(sf) == regular)
			continue;
		size_t r = mpt_sched_sf_room(sf, want);
		if (r == 0)
			continue;
		uint64_t rtt = mpt_sched_sf_srtt(sf);
		if (!best || rtt < best_rtt) {
			best = sf;
			best_rtt = rtt;
			*room = r;
		}
	}
	return best;
}

/* The subflow whose unacknowledged mappings hold DSN dsn, and that mapping. */
static struct mpt_subflow *holder(struct mpt_mpconn *mp, uint64_t dsn, const struct mpt_map **mo)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed)
			continue;
		size_t n = mpt_maplist_count(&sf->tx);
		for (size_t k = 0; k < n; k++) {
			const struct mpt_map *m = mpt_maplist_at(&sf->tx, k);
			if (m->len > 0 && dsn >= m->dsn && dsn < m->dsn + m->len) {
				*mo = m;
				return sf;
			}
		}
	}
	return NULL;
}

static void minrtt_unblock(struct mpt_mpconn *mp, uint64_t now)
{
	/* Only when the window (not the application or the subflows'
	 * windows) is what keeps new data back. */
	if (mp->n_reinj > 0 || mp->snd_nxt >= mp->snd.end || !mp->fully_established ||
	    mp->snd_nxt < mpt_sched_wnd_edge(mp) || mp->snd.una >= mp->snd_nxt)
		return;
	const struct mpt_map *m = NULL;
	struct mpt_subflow *slow = holder(mp, mp->snd.una, &m);
	if (!slow)
		return;
	uint64_t slow_rtt = mpt_sched_sf_srtt(slow);
	struct mpt_sched_chunk c = {.dsn = mp->snd.una, .end = m->dsn + m->len, .reinj = false};
	size_t want = (size_t)(c.end - c.dsn);
	size_t room = 0;
	struct mpt_subflow *fast = minrtt_pick(mp, want, &room, now);
	if (!fast || fast == slow || mpt_sched_sf_srtt(fast) >= slow_rtt)
		return;
	if (mp->snd.una >= mp->sched_opp_end) {
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
