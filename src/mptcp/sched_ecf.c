/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "ecf": Earliest Completion First (Y. Lim, E. M. Nahum, D. Towsley,
 * R. J. Gibbens, "ECF: An MPTCP Path Scheduler to Manage Heterogeneous
 * Paths", ACM CoNEXT 2017, Algorithm 1).
 *
 * Like minrtt while the fastest subflow f has room.  When f is full and
 * only a slower subflow s has room, ECF asks whether the data still queued
 * (k bytes) would finish earlier by waiting for f than by using s:
 *   n = 1 + k / cwnd_f              (rounds f needs for k bytes)
 *   wait when  n * rtt_f < (1 + w * beta) * (rtt_s + delta)
 *        and   (k / cwnd_s) * rtt_s >= 2 * rtt_f + delta
 * with delta = max(rttvar_f, rttvar_s), beta = 1/4 and w the hysteresis
 * bit (set while waiting).  Otherwise s is used.  Windows in bytes here
 * (the paper counts segments; the ratios are the same).  RTTs are taken in
 * microseconds, clamped to 10 s, and windows and k to 2^30 bytes: every
 * product stays below 2^56.
 */
#include "common.h"
#include "mptcp/mptcp.h"
#include "mptcp/policy.h"

#define ECF_RTT_MAX   (UINT64_C(10000000)) /* us */
#define ECF_BYTES_MAX (UINT64_C(1) << 30)

struct ecf_sf {
	struct mpt_subflow *sf;
	uint64_t rtt, var;
	uint64_t cwnd;
	size_t room;
};

static void ecf_get(struct mpt_subflow *sf, size_t want, struct ecf_sf *e)
{
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(sf->flow->tcp, &ti);
	e->sf = sf;
	e->rtt = MPT_MIN(ti.srtt_ns ? ti.srtt_ns / 1000 : ECF_RTT_MAX, ECF_RTT_MAX);
	e->var = MPT_MIN(ti.rttvar_ns / 1000, ECF_RTT_MAX);
	e->cwnd = MPT_MAX(MPT_MIN((uint64_t)ti.snd_cwnd, ECF_BYTES_MAX), 1);
	e->room = mpt_sched_sf_room(sf, want);
}

static uint64_t queued_bytes(const struct mpt_mpconn *mp)
{
	uint64_t k = mpt_dsn_span(mp->snd_nxt, mp->snd.end);
	for (size_t i = 0; i < mp->n_reinj; i++)
		k += mpt_dsn_span(mp->reinj[i].dsn, mp->reinj[i].end);
	return MPT_MIN(k, ECF_BYTES_MAX);
}

static struct mpt_subflow *ecf_pick(struct mpt_mpconn *mp, size_t want, size_t *room, uint64_t now)
{
	(void)now;
	bool regular = mpt_sched_have_regular(mp);
	struct ecf_sf f = {0}, s = {0};
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sched_sf_ok(sf) || mpt_sched_sf_backup(sf) == regular)
			continue;
		struct ecf_sf e;
		ecf_get(sf, want, &e);
		if (!f.sf || e.rtt < f.rtt)
			f = e;
		if (e.room > 0 && (!s.sf || e.rtt < s.rtt))
			s = e;
	}
	if (!f.sf || !s.sf)
		return NULL;
	if (s.sf == f.sf || f.room > 0) {
		mp->sched_wait = false;
		*room = f.sf == s.sf ? s.room : f.room;
		return f.sf;
	}
	uint64_t k = queued_bytes(mp);
	uint64_t delta = MPT_MAX(f.var, s.var);
	uint64_t n_rounds_x = f.cwnd + k; /* n * cwnd_f, n = 1 + k / cwnd_f */
	/* n * rtt_f < (1 + w/4) * (rtt_s + delta), both sides times 4 * cwnd_f */
	uint64_t lhs =
	    4 * (n_rounds_x / f.cwnd) * f.rtt + 4 * ((n_rounds_x % f.cwnd) * f.rtt / f.cwnd);
	uint64_t rhs = (4 + (mp->sched_wait ? 1u : 0u)) * (s.rtt + delta);
	if (lhs < rhs) {
		/* (k / cwnd_s) * rtt_s >= 2 * rtt_f + delta */
		uint64_t slow_t = (k / s.cwnd) * s.rtt + (k % s.cwnd) * s.rtt / s.cwnd;
		if (slow_t >= 2 * f.rtt + delta) {
			if (!mp->sched_wait)
				mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPSchedEcfWait);
			mp->sched_wait = true;
			return NULL;
		}
	} else {
		mp->sched_wait = false;
	}
	*room = s.room;
	return s.sf;
}

static void ecf_push(struct mpt_mpconn *mp, uint64_t now)
{
	mpt_sched_push_loop(mp, ecf_pick, now);
}

const struct mpt_sched_ops mpt_sched_ecf = {
    .name = "ecf",
    .push = ecf_push,
};
