/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LIA, the Linked Increases Algorithm of RFC 6356 (coupled congestion
 * control for MPTCP subflows).
 *
 * RFC 6356 §3, in bytes, for each ACK of `acked` bytes on subflow i in
 * congestion avoidance:
 *
 *   cwnd_i += min(alpha * acked * MSS_i / cwnd_total, acked * MSS_i / cwnd_i)
 *
 *   alpha = cwnd_total * max_i(cwnd_i / rtt_i^2) / (sum_i cwnd_i / rtt_i)^2
 *
 * Slow start, the loss response, RTO and idle restart are Reno's (only the
 * increase is coupled), see cc_coupled.c.  alpha is recomputed at every
 * ACK from the members' current cwnd and srtt (RFC 6356 §4 allows computing
 * it less often; with at most 16 members it is cheap).
 *
 * The increase is min(...) = acked * MSS_i / max(cwnd_total / alpha,
 * cwnd_i): cwnd_i grows by one MSS_i per D = max(cwnd_total / alpha,
 * cwnd_i) bytes ACKed, counted exactly as reno counts bytes.  With the
 * common time scale rtt_min (smallest RTT in the group),
 * y_i = cwnd_i * rtt_min / rtt_i and z_i = cwnd_i * (rtt_min / rtt_i)^2:
 *
 *   cwnd_total / alpha = (sum_i y_i)^2 / max_i z_i
 *
 * Bounds (windows < 2^31 bytes, RTT 1 µs .. 2^26 µs, <= 16 members; values
 * with 24 fraction bits): y_i, z_i <= cwnd_i so sum y < 2^59 and
 * (sum y)^2 < 2^118; cwnd_i * rtt_min^2 << 24 < 2^107; max z >= the window
 * of the rtt_min member >= 1 byte, so the relative rounding error of alpha
 * is below 2^-19.  cwnd_total / alpha <= n * cwnd_total < 2^39 bytes, and
 * alpha <= cwnd_total / min_i cwnd_i: no overflow anywhere.  Alone in its
 * group, y = z = cwnd exactly, so D = cwnd and LIA is reno bit for bit.
 */
#include "cc/cc.h"
#include "cc/cc_int.h"
#include "common.h"

mpt_u128 mpt_cc_lia_total_over_alpha(const struct mpt_cc *cc, uint64_t *total)
{
	struct mpt_cc_view v;
	mpt_u128 sum_y = mpt_u128_of(0), max_z = mpt_u128_of(0);
	uint64_t tot = 0;

	if (total)
		*total = 0;
	if (!cc || !mpt_cc_view_get(cc, &v))
		return mpt_u128_of(0);
	mpt_u128 rmin2 = mpt_u128_mul64(v.rtt_min_us, v.rtt_min_us);
	for (uint32_t i = 0; i < v.n; i++) {
		mpt_u128 r2 = mpt_u128_mul64(v.rtt_us[i], v.rtt_us[i]);
		mpt_u128 z = mpt_u128_div(
		    mpt_u128_shl(mpt_u128_mul(mpt_u128_of(v.cwnd[i]), rmin2), MPT_CC_FP_SHIFT), r2);
		sum_y = mpt_u128_add(sum_y, mpt_cc_view_y(&v, i));
		max_z = mpt_u128_max(max_z, z);
		tot += v.cwnd[i];
	}
	if (total)
		*total = tot;
	/* max_z >= 2^24 (the rtt_min member's own window); guard anyway. */
	if (mpt_u128_is_zero(max_z))
		return mpt_u128_of(0);
	return mpt_u128_div(mpt_u128_mul(sum_y, sum_y), max_z);
}

int mpt_cc_lia_div(const struct mpt_cc *cc, mpt_u128 *d)
{
	mpt_u128 own = mpt_u128_shl(mpt_u128_of(cc->cwnd), MPT_CC_FP_SHIFT);
	mpt_u128 w = mpt_cc_lia_total_over_alpha(cc, NULL);

	/* Uncoupled (or no RTT yet): reno's D = cwnd. */
	*d = mpt_u128_max(w, own);
	return 1;
}

static void lia_on_ack(struct mpt_cc *cc, const struct mpt_cc_ack *ack)
{
	mpt_cc_coupled_on_ack(cc, ack, mpt_cc_lia_div);
}

static void lia_on_loss(struct mpt_cc *cc, uint32_t in_flight, uint64_t now)
{
	MPT_UNUSED(now);
	/* RFC 6356 §3: on loss, as TCP: ssthresh = cwnd = max(flight/2, 2*SMSS). */
	mpt_cc_coupled_on_loss(cc, mpt_cc_half_flight(cc, in_flight));
}

const struct mpt_cc_ops mpt_cc_lia = {
    .name = "lia",
    .init = mpt_cc_coupled_init,
    .on_ack = lia_on_ack,
    .on_loss = lia_on_loss,
    .on_recovery_exit = mpt_cc_coupled_on_recovery_exit,
    .on_rto = mpt_cc_coupled_on_rto,
    .on_idle = mpt_cc_coupled_on_idle,
};
