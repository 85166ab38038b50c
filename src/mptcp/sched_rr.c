/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "rr": round robin.  Chunks go to the usable subflows in turn, each
 * taking what its congestion window allows; a subflow without room is
 * skipped.  Backup subflows only when no regular one is available
 * (RFC 8684 §3.3.8).  Useful as a baseline and for spreading load evenly
 * over equal paths; it ignores RTTs, so it suffers on heterogeneous paths.
 */
#include "common.h"
#include "mptcp/mptcp.h"
#include "mptcp/policy.h"

static struct mpt_subflow *rr_pick(struct mpt_mpconn *mp, size_t want, size_t *room, uint64_t now)
{
	(void)now;
	if (mp->nsf == 0)
		return NULL;
	bool regular = mpt_sched_have_regular(mp);
	for (size_t k = 1; k <= mp->nsf; k++) {
		size_t i = (mp->sched_idx + k) % mp->nsf;
		struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sched_sf_ok(sf) || mpt_sched_sf_backup(sf) == regular)
			continue;
		size_t r = mpt_sched_sf_room(sf, want);
		if (r == 0)
			continue;
		mp->sched_idx = (uint32_t)i;
		*room = r;
		return sf;
	}
	return NULL;
}

static void rr_push(struct mpt_mpconn *mp, uint64_t now)
{
	mpt_sched_push_loop(mp, rr_pick, now);
}

const struct mpt_sched_ops mpt_sched_rr = {
    .name = "rr",
    .push = rr_push,
};
