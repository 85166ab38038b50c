/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in path managers (policy.h).  Shared machinery (ADD_ADDR
 * send/receive, retry backoff, REMOVE_ADDR) is in pm.c; these decide which
 * subflows to open and which addresses to announce.
 *
 *   fullmesh    initiator: one subflow per (local, remote) address pair of
 *               the same family; listener: announces every other address.
 *   ndiffports  N subflows over the initial address pair, different source
 *               ports (one path with several congestion windows).
 *   endpoints   like the Linux kernel's in-kernel PM: local addresses
 *               flagged signal (announced, both roles), subflow (initiator
 *               opens a subflow from it to the peer's initial address),
 *               fullmesh (subflows from it to every known peer address),
 *               backup; accepted ADD_ADDRs get a subflow from the initial
 *               local address; bounded by max_subflows and
 *               add_addr_accept_max.
 *   mobility    one active subflow at a time, a standby (backup) subflow
 *               from every other local address; when the active one fails
 *               (stale or its address gone) the newest standby becomes
 *               active (MP_PRIO), and with no subflow left a new one is
 *               opened from another address (break before make).
 *   none        nothing by itself: an external controller uses mpt_pm_*().
 *
 * Every one but "none" re-establishes a failed subflow after a backoff
 * while its addresses live (mpt_pm_retry_later), which the kernel's PM
 * does not do.
 */
#include "common.h"
#include "mptcp/mptcp.h"
#include "mptcp/policy.h"

static bool accept_any(struct mpt_mpconn *mp, const struct mpt_mptcp_add_addr *a)
{
	(void)mp;
	(void)a;
	return true;
}

static bool accept_none(struct mpt_mpconn *mp, const struct mpt_mptcp_add_addr *a)
{
	(void)mp;
	(void)a;
	return false;
}

/* ---- fullmesh ----------------------------------------------------------- */

static bool want_all(struct mpt_mpconn *mp, size_t li, size_t ri)
{
	(void)mp;
	(void)li;
	(void)ri;
	return true;
}

static void fullmesh_run(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->passive) {
		mpt_pm_announce_locals(mp, 0);
		mpt_pm_flush(mp);
		return;
	}
	mpt_pm_open_pairs(mp, want_all, now);
}

const struct mpt_pm_ops mpt_pm_fullmesh = {
    .name = "fullmesh",
    .run = fullmesh_run,
    .sf_failed = mpt_pm_retry_later,
    .accept_addr = accept_any,
};

/* ---- ndiffports --------------------------------------------------------- */

static void ndiffports_run(struct mpt_mpconn *mp, uint64_t now)
{
	int li = mpt_pm_initial_local(mp);
	if (mp->passive || li < 0 || mp->nraddr == 0 || !mp->raddr[0].usable)
		return;
	/* raddr[0] is the initial remote address; failed subflows wait for
	 * their backoff (retry_at) like fullmesh pairs. */
	size_t have = mpt_pm_pair_count(mp, (size_t)li, 0);
	while (have < mp->k.ndiffports && mp->retry_at[li][0] == 0 && mpt_pm_can_open(mp)) {
		if (mpt_mp_open_join(mp, (size_t)li, 0, now) < 0)
			break;
		have++;
	}
}

const struct mpt_pm_ops mpt_pm_ndiffports = {
    .name = "ndiffports",
    .run = ndiffports_run,
    .sf_failed = mpt_pm_retry_later,
    .accept_addr = accept_none,
};

/* ---- endpoints ---------------------------------------------------------- */

static bool want_endpoint(struct mpt_mpconn *mp, size_t li, size_t ri)
{
	uint8_t f = mp->st->cfg.local_flags[li];
	if (f & MPT_LOCAL_FULLMESH)
		return true;
	if (ri == 0) /* the initial remote address: from "subflow" endpoints */
		return (f & MPT_LOCAL_SUBFLOW) != 0;
	/* An announced address: from the initial local address (the
	 * kernel picks the routed source, i.e. the default one). */
	return (int)li == mpt_pm_initial_local(mp);
}

static void endpoints_run(struct mpt_mpconn *mp, uint64_t now)
{
	mpt_pm_announce_locals(mp, MPT_LOCAL_SIGNAL);
	mpt_pm_flush(mp);
	if (!mp->passive)
		mpt_pm_open_pairs(mp, want_endpoint, now);
}

static bool endpoints_accept(struct mpt_mpconn *mp, const struct mpt_mptcp_add_addr *a)
{
	(void)a;
	return mp->add_addr_accepted < mp->k.add_addr_accept_max;
}

const struct mpt_pm_ops mpt_pm_endpoints = {
    .name = "endpoints",
    .run = endpoints_run,
    .sf_failed = mpt_pm_retry_later,
    .accept_addr = endpoints_accept,
};

/* ---- mobility ----------------------------------------------------------- */

/* A live subflow uses local address li. */
static bool local_busy(const struct mpt_mpconn *mp, size_t li)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!sf->closed && !sf->dead && sf->flow &&
		    mpt_addr_equal(&sf->flow->local.addr, &mp->st->cfg.local[li]))
			return true;
	}
	return false;
}

static void mobility_run(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->passive || mp->nraddr == 0 || !mp->raddr[0].usable)
		return;
	struct mpt_stack *st = mp->st;
	struct mpt_subflow *active = NULL, *newest = NULL;
	bool pending = false;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (sf->closed || sf->dead || !sf->flow)
			continue;
		if (sf->join == MPT_SF_JOIN_SYN || sf->join == MPT_SF_JOIN_ACK) {
			pending = true;
			continue;
		}
		if (!mpt_sched_sf_ok(sf))
			continue;
		if (!sf->backup && !active)
			active = sf; /* keep the one in use: no flapping */
		newest = sf;
	}
	if (!active)
		active = newest; /* the active one failed: promote a standby */
	if (active) {
		/* One active subflow: every other live one is backup, the
		 * active one is not (MP_PRIO tells the peer, §3.3.8). */
		for (size_t i = 0; i < mp->nsf; i++) {
			struct mpt_subflow *sf = mp->sf[i];
			bool b = sf != active;
			if (sf->closed || sf->dead || !sf->flow || sf->backup == b ||
			    !mpt_sf_usable(sf))
				continue;
			sf->backup = b;
			sf->prio_pending = true;
			sf->ack_due = true;
		}
	}
	if (pending || !mpt_pm_can_open(mp))
		return;
	/* A standby subflow (B flag) from every other local address, so that
	 * a failure of the active path switches at once: the scheduler moves
	 * to a backup as soon as no regular subflow works.  With no subflow
	 * at all (its address went), the next one is the new active path:
	 * break before make.  One join at a time; failed pairs back off. */
	for (size_t li = 0; li < st->cfg.n_local; li++) {
		if (st->cfg.local[li].family != mp->raddr[0].addr.family ||
		    mp->retry_at[li][0] != 0 || local_busy(mp, li))
			continue;
		mp->open_backup = active != NULL;
		int rc = mpt_mp_open_join(mp, li, 0, now);
		mp->open_backup = false;
		if (rc == 0)
			return;
	}
}

static void mobility_failed(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now)
{
	mp->mob_failed_li = mpt_stack_local_index(mp->st, &sf->flow->local.addr);
	mpt_pm_retry_later(mp, sf, now);
	mpt_mp_dirty(mp);
}

const struct mpt_pm_ops mpt_pm_mobility = {
    .name = "mobility",
    .run = mobility_run,
    .sf_failed = mobility_failed,
    .accept_addr = accept_any,
};

/* ---- none --------------------------------------------------------------- */

static void none_run(struct mpt_mpconn *mp, uint64_t now)
{
	(void)now;
	/* Announcements the controller queued still go out. */
	mpt_pm_flush(mp);
}

static void none_failed(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now)
{
	(void)mp;
	(void)sf;
	(void)now;
}

const struct mpt_pm_ops mpt_pm_none = {
    .name = "none",
    .run = none_run,
    .sf_failed = none_failed,
    .accept_addr = accept_any,
};
