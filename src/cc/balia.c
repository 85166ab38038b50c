/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BALIA, the Balanced Linked Adaptation algorithm for MPTCP subflows:
 *
 *   Q. Peng, A. Walid, J. Hwang, S. H. Low, "Multipath TCP: Analysis,
 *   Design, and Implementation", IEEE/ACM Transactions on Networking
 *   24(1), 2016.
 *
 * In packets, with x_k = w_k / rtt_k and alpha_r = max_k x_k / x_r (>= 1):
 *
 *   each ACK on path r:  w_r += (x_r / rtt_r) / (sum_k x_k)^2
 *                               * (1 + alpha_r) / 2 * (4 + alpha_r) / 5
 *   each loss on path r: w_r -= w_r / 2 * min(alpha_r, 1.5)
 *
 * Slow start, RTO and idle restart are Reno's (cc_coupled.c).  The decrease
 * is applied to the flight size, as Reno's is (RFC 5681 eqn (4)), and never
 * goes below 2 MSS: ssthresh = cwnd = max(flight - flight/2 * min(alpha_r,
 * 1.5), 2*SMSS).  With alpha_r = 1 that is exactly Reno's flight / 2.
 *
 * In bytes with MSS_r the increase per ACK of `acked` bytes is acked * MSS_r
 * / D.  With the common time scale rtt_min (smallest RTT in the group),
 * y_k = cwnd_k * rtt_min / rtt_k, Y = sum_k y_k and T = max_k y_k (so
 * alpha_r = T / y_r), the RTTs cancel and
 *
 *   D = 10 * cwnd_r * Y^2 / ((y_r + T) * (4 y_r + T))
 *
 * which lies in [cwnd_r, 10 n^2 cwnd_r] (T >= y_r, Y >= T, Y <= n T): a
 * well-conditioned quotient even for a path whose rate is tiny (alpha_r
 * huge), which is exactly where BALIA boosts the increase.
 *
 * Arithmetic (24 fraction bits, see cc_coupled.c): Y^2 < 2^118, (y_r + T) *
 * (4 y_r + T) < 2^114, 10 * cwnd_r << 24 < 2^59; D comes from the exact
 * mpt_cc_muldiv and is < 2^43 bytes.  min(alpha_r, 1.5) is computed with 32
 * fraction bits from T << 32 < 2^87; the decrease flight * (2 - alpha) / 2
 * < 2^65 is done in 128 bits.  Alone in its group y_r = T = Y = cwnd, so
 * D = cwnd and alpha_r = 1 exactly: BALIA is reno bit for bit.
 */
#include "cc/cc.h"
#include "cc/cc_int.h"
#include "common.h"

#define ALPHA_ONE (UINT64_C(1) << 32)
#define ALPHA_CAP (3 * (UINT64_C(1) << 31)) /* 1.5 */

/* Y, y_r and T of the view. */
static void sums(const struct mpt_cc_view *v, mpt_u128 *y_sum, mpt_u128 *y_r, mpt_u128 *t)
{
	*y_sum = mpt_u128_of(0);
	*t = mpt_u128_of(0);
	for (uint32_t i = 0; i < v->n; i++) {
		mpt_u128 y = mpt_cc_view_y(v, i);
		*y_sum = mpt_u128_add(*y_sum, y);
		*t = mpt_u128_max(*t, y);
	}
	*y_r = mpt_cc_view_y(v, v->self);
}

int mpt_cc_balia_div(const struct mpt_cc *cc, mpt_u128 *d)
{
	struct mpt_cc_view v;
	mpt_u128 y_sum, y_r, t;

	if (!mpt_cc_view_get(cc, &v)) {
		*d = mpt_u128_shl(mpt_u128_of(cc->cwnd), MPT_CC_FP_SHIFT);
		return 1;
	}
	sums(&v, &y_sum, &y_r, &t);
	mpt_u128 num = mpt_u128_shl(mpt_u128_of(10 * v.cwnd[v.self]), MPT_CC_FP_SHIFT);
	mpt_u128 den = mpt_u128_mul(mpt_u128_add(y_r, t), mpt_u128_add(mpt_u128_shl(y_r, 2), t));
	*d = mpt_cc_muldiv(mpt_u128_mul(y_sum, y_sum), num, den);
	return mpt_u128_eq(*d, MPT_U128_MAX) || mpt_u128_is_zero(*d) ? 0 : 1;
}

uint64_t mpt_cc_balia_alpha_fp32(const struct mpt_cc *cc)
{
	struct mpt_cc_view v;
	mpt_u128 y_sum, y_r, t;

	if (!cc || !mpt_cc_view_get(cc, &v))
		return ALPHA_ONE;
	sums(&v, &y_sum, &y_r, &t);
	if (mpt_u128_is_zero(y_r))
		return ALPHA_CAP; /* a rate below 2^-24 bytes per rtt_min: alpha huge */
	mpt_u128 a = mpt_u128_div(mpt_u128_shl(t, 32), y_r);
	return mpt_u128_lt(mpt_u128_of(ALPHA_CAP), a) ? ALPHA_CAP : mpt_u128_lo64(a);
}

static void balia_on_ack(struct mpt_cc *cc, const struct mpt_cc_ack *ack)
{
	mpt_cc_coupled_on_ack(cc, ack, mpt_cc_balia_div);
}

static void balia_on_loss(struct mpt_cc *cc, uint32_t in_flight, uint64_t now)
{
	MPT_UNUSED(now);
	uint64_t a = mpt_cc_balia_alpha_fp32(cc);
	/* flight - flight/2 * min(alpha, 1.5) = flight * (2 - alpha) / 2. */
	mpt_u128 keep = mpt_u128_shr(mpt_u128_mul64(in_flight, 2 * ALPHA_ONE - a), 33);
	uint64_t two = 2 * (uint64_t)mpt_cc_smss(cc);
	mpt_cc_coupled_on_loss(cc, mpt_cc_clamp(MPT_MAX(mpt_u128_lo64(keep), two)));
}

const struct mpt_cc_ops mpt_cc_balia = {
    .name = "balia",
    .init = mpt_cc_coupled_init,
    .on_ack = balia_on_ack,
    .on_loss = balia_on_loss,
    .on_recovery_exit = mpt_cc_coupled_on_recovery_exit,
    .on_rto = mpt_cc_coupled_on_rto,
    .on_idle = mpt_cc_coupled_on_idle,
};
