/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "redundant": every byte on every usable subflow, for latency and loss
 * resilience at the cost of capacity.  Each subflow has its own cursor
 * (sf->sched_dsn): it sends from there (or from DATA_ACK, if the
 * connection is already past it: bytes another subflow delivered are not
 * sent again) up to the window edge, as its congestion window allows.
 * The receiver keeps the first copy of each DSN and drops the others
 * (RFC 8684 §3.3: data-level reassembly).  Backup subflows only when no
 * regular one is available (RFC 8684 §3.3.8).
 */
#include "common.h"
#include "mptcp/mptcp.h"
#include "mptcp/policy.h"

static struct mpt_subflow *first_pick(struct mpt_mpconn *mp, size_t want, size_t *room,
				      uint64_t now)
{
	(void)now;
	bool regular = mpt_sched_have_regular(mp);
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sched_sf_ok(sf) || mpt_sched_sf_backup(sf) == regular)
			continue;
		size_t r = mpt_sched_sf_room(sf, want);
		if (r > 0) {
			*room = r;
			return sf;
		}
	}
	return NULL;
}

static void redundant_push(struct mpt_mpconn *mp, uint64_t now)
{
	/* Data of failed subflows first (to whichever subflow has room). */
	if (mp->n_reinj > 0)
		mpt_sched_push_loop(mp, first_pick, now);
	if (mp->n_reinj > 0)
		return;
	bool regular = mpt_sched_have_regular(mp);
	uint64_t edge = mpt_dsn_min(mp->snd.end, mpt_sched_wnd_edge(mp));
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sched_sf_ok(sf) || mpt_sched_sf_backup(sf) == regular)
			continue;
		for (int guard = 0; guard < 64; guard++) {
			/* sched_dsn: next DSN for this subflow once it sent
			 * anything (serial arithmetic: DSNs wrap). */
			uint64_t dsn = sf->sched_dsn_set ? mpt_dsn_max(sf->sched_dsn, mp->snd.una)
							 : mp->snd.una;
			if (mpt_dsn_lt(dsn, mp->idsn_local + 1))
				dsn = mp->idsn_local + 1;
			/* v1: only the first mapping before the peer has our
			 * key (RFC 8684 §3.1). */
			if (!mp->fully_established && dsn != mp->idsn_local + 1)
				break;
			if (mpt_dsn_geq(dsn, edge))
				break;
			struct mpt_sched_chunk c = {.dsn = dsn,
						    .end = mpt_dsn_min(edge, dsn + MPT_MP_MAP_MAX),
						    .reinj = false};
			size_t want = (size_t)(c.end - c.dsn);
			size_t room = mpt_sched_sf_room(sf, want);
			if (room == 0)
				break;
			size_t n = mpt_sched_send(mp, sf, &c, MPT_MIN(want, room), now);
			if (n == 0)
				break;
			sf->sched_dsn = dsn + n;
			sf->sched_dsn_set = true;
		}
	}
}

const struct mpt_sched_ops mpt_sched_redundant = {
    .name = "redundant",
    .push = redundant_push,
};
