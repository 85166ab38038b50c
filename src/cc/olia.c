/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OLIA, the Opportunistic Linked-Increases Algorithm for MPTCP subflows:
 *
 *   R. Khalili, N. Gast, M. Popovic, J.-Y. Le Boudec, "MPTCP is not
 *   Pareto-optimal: performance issues and a possible solution", IEEE/ACM
 *   Transactions on Networking 21(5), 2013 (CoNEXT 2012); also
 *   draft-khalili-mptcp-congestion-control-05.
 *
 * In packets, for each ACK on path r in congestion avoidance:
 *
 *   w_r += (w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2 + alpha_r / w_r
 *
 * and w_r is halved on a loss (Reno's response, as are slow start, RTO and
 * idle restart; see cc_coupled.c).  alpha_r moves window from the paths
 * with the largest window (set M) to the presumably best paths that do not
 * have the largest window yet (B \ M):
 *
 *   alpha_r =  1 / (n * |B \ M|)   if r in B \ M
 *   alpha_r = -1 / (n * |M|)       if r in M and B \ M is not empty
 *   alpha_r =  0                   otherwise
 *
 * with n the number of paths.  B is the set of paths with the largest
 * l_r / rtt_r^2, where l_r = max(l_1r, l_2r), l_1r = bytes ACKed between
 * the last two losses and l_2r = bytes ACKed since the last loss (the
 * paper's smoothed inter-loss distance; a path's best-case TCP rate grows
 * as sqrt(l_r) / rtt_r, so this orders paths by their TCP rate, as the
 * authors' Linux implementation does).  Members of the group that run
 * another algorithm have no l_r here and count with l_r = 0.
 *
 * In bytes with MSS_r (as RFC 6356 §3 writes LIA) the increase per ACK of
 * `acked` bytes is acked * MSS_r * (z_r / Y^2 + alpha_r / cwnd_r), with the
 * common time scale rtt_min (smallest RTT of the group), y_p = cwnd_p *
 * rtt_min / rtt_p, Y = sum_p y_p and z_r = y_r^2 / cwnd_r.  So cwnd_r moves
 * by one MSS_r per D bytes ACKed, where (E = k * cwnd_r, k = n|B\M| or n|M|)
 *
 *   D1 = cwnd_r * Y^2 / y_r^2,   D = D1 (alpha_r = 0),
 *   D = D1 * E / (E + D1) (alpha_r > 0),  D = D1 * E / |E - D1| (< 0)
 *
 * and the sign of E - D1 tells whether a max-window path grows or shrinks.
 * A shrinking path goes down by whole MSS steps, never below 2 MSS.
 *
 * Arithmetic (24 fraction bits, 128-bit intermediates, see cc_coupled.c):
 * Y^2 < 2^118, y_r^2 < 2^110, k * cwnd_r << 24 < 2^63; D1 and D come from
 * mpt_cc_muldiv (exact, saturating at 2^128 - 1, which means "no change":
 * one MSS per 2^104 bytes).  l_r counts saturate at 2^64 - 1;
 * l_r * rtt^2 < 2^116.  Alone in its group, M = {r}, B \ M is empty and
 * D = D1 = cwnd exactly: OLIA is reno bit for bit.
 */
#include "cc/cc.h"
#include "cc/cc_int.h"
#include "common.h"

/* l_r of a member (0 for a member not running OLIA). */
static uint64_t loss_interval(const struct mpt_cc *m)
{
	struct mpt_cc_coupled s;
	if (m->ops != &mpt_cc_olia)
		return 0;
	memcpy(&s, m->priv, sizeof(s));
	return MPT_MAX(s.l_prev, s.l_cur);
}

int mpt_cc_olia_div(const struct mpt_cc *cc, mpt_u128 *d)
{
	struct mpt_cc_view v;
	uint64_t l[MPT_CC_GROUP_MAX];
	mpt_u128 r2[MPT_CC_GROUP_MAX];
	uint64_t max_w = 0;
	uint32_t best = 0, n_m = 0, n_bm = 0;
	bool in_bm[MPT_CC_GROUP_MAX] = {false};

	if (!mpt_cc_view_get(cc, &v)) {
		*d = mpt_u128_shl(mpt_u128_of(cc->cwnd), MPT_CC_FP_SHIFT);
		return 1;
	}
	for (uint32_t i = 0; i < v.n; i++) {
		l[i] = loss_interval(v.cc[i]);
		r2[i] = mpt_u128_mul64(v.rtt_us[i], v.rtt_us[i]);
		max_w = MPT_MAX(max_w, v.cwnd[i]);
		/* Best path: largest l / rtt^2, compared by cross-multiplying. */
		if (mpt_u128_lt(mpt_u128_mul(mpt_u128_of(l[best]), r2[i]),
				mpt_u128_mul(mpt_u128_of(l[i]), r2[best])))
			best = i;
	}
	for (uint32_t i = 0; i < v.n; i++) {
		bool is_best = mpt_u128_eq(mpt_u128_mul(mpt_u128_of(l[i]), r2[best]),
					   mpt_u128_mul(mpt_u128_of(l[best]), r2[i]));
		in_bm[i] = false;
		if (v.cwnd[i] == max_w)
			n_m++;
		else if (is_best)
			in_bm[i] = true;
		n_bm += in_bm[i];
	}

	uint32_t r = v.self;
	int sign = 0;
	uint64_t k = 1;
	if (in_bm[r]) {
		sign = 1;
		k = (uint64_t)v.n * n_bm;
	} else if (v.cwnd[r] == max_w && n_bm > 0) {
		sign = -1;
		k = (uint64_t)v.n * n_m;
	}

	mpt_u128 sum_y = mpt_u128_of(0);
	for (uint32_t i = 0; i < v.n; i++)
		sum_y = mpt_u128_add(sum_y, mpt_cc_view_y(&v, i));
	mpt_u128 yr = mpt_cc_view_y(&v, r);
	mpt_u128 cw = mpt_u128_shl(mpt_u128_of(v.cwnd[r]), MPT_CC_FP_SHIFT);
	/* First term: D1 = cwnd_r * Y^2 / y_r^2 (y_r == 0: no growth from it). */
	mpt_u128 d1 = mpt_cc_muldiv(mpt_u128_mul(sum_y, sum_y), cw, mpt_u128_mul(yr, yr));
	bool d1_inf = mpt_u128_eq(d1, MPT_U128_MAX);

	if (sign == 0) {
		*d = d1;
		return d1_inf ? 0 : 1;
	}
	mpt_u128 e = mpt_u128_mul(mpt_u128_of(k), cw);
	if (d1_inf) {
		/* The first term vanishes: the alpha term alone. */
		*d = e;
		return sign;
	}
	if (sign > 0) {
		/* d1 + e would not fit: d1 > 2^127, so D = e within 2^-64. */
		*d = mpt_u128_lt(mpt_u128_sub(MPT_U128_MAX, e), d1)
			 ? e
			 : mpt_cc_muldiv(d1, e, mpt_u128_add(d1, e));
		return 1;
	}
	if (mpt_u128_eq(e, d1))
		return 0;
	bool grow = mpt_u128_lt(d1, e);
	*d = mpt_cc_muldiv(d1, e, grow ? mpt_u128_sub(e, d1) : mpt_u128_sub(d1, e));
	if (mpt_u128_eq(*d, MPT_U128_MAX))
		return 0;
	return grow ? 1 : -1;
}

static void olia_on_ack(struct mpt_cc *cc, const struct mpt_cc_ack *ack)
{
	mpt_cc_coupled_on_ack(cc, ack, mpt_cc_olia_div);
}

static void olia_on_loss(struct mpt_cc *cc, uint32_t in_flight, uint64_t now)
{
	MPT_UNUSED(now);
	/* Halve on loss, as TCP: ssthresh = cwnd = max(flight/2, 2*SMSS). */
	mpt_cc_coupled_on_loss(cc, mpt_cc_half_flight(cc, in_flight));
}

const struct mpt_cc_ops mpt_cc_olia = {
    .name = "olia",
    .init = mpt_cc_coupled_init,
    .on_ack = olia_on_ack,
    .on_loss = olia_on_loss,
    .on_recovery_exit = mpt_cc_coupled_on_recovery_exit,
    .on_rto = mpt_cc_coupled_on_rto,
    .on_idle = mpt_cc_coupled_on_idle,
};
