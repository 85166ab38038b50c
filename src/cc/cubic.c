/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CUBIC congestion control (RFC 9438).
 *
 *   W_cubic(t) = C*(t - K)^3 + W_max            (§4.2, Figure 1)
 *   K = cubic_root((W_max - cwnd_epoch) / C)    (§4.2, Figure 2)
 *   C = 0.4 segments/s^3, beta_cubic = 0.7
 *
 * with the Reno-friendly estimate W_est (§4.3), the concave/convex per-ACK
 * increase towards target = W_cubic(t + RTT) clamped to [cwnd, 1.5*cwnd]
 * (§4.4, §4.5), multiplicative decrease (§4.6), fast convergence (§4.7) and
 * the timeout rules of §4.8.  Slow start is RFC 5681 slow start with RFC 3465
 * byte counting; HyStart++ (§4.10, RFC 9406) is NOT implemented.
 *
 * Arithmetic is integer only, so results are bit-identical on every
 * platform (no libm, no floating-point rounding modes):
 *   - windows are bytes (uint64_t intermediates, results clamped to
 *     MPT_CC_CWND_MAX = 2^31 - 1), the MSS is clamped to 1..65535;
 *   - time is whole milliseconds inside the cubic function (t and K), which
 *     moves W_cubic by less than 0.2% of an MSS per ms at any sensible
 *     window;
 *   - C*SMSS*d^3 = 2*SMSS*d^3 / 5e9 bytes for d in ms, computed with a
 *     saturating multiply: a saturated product means the term is at least
 *     (2^64 - 1) / 5e9 > 3.6e9 bytes, already above MPT_CC_CWND_MAX, so
 *     saturation only ever happens where the result is clamped anyway and
 *     any t (hours, days) is safe;
 *   - K in ms = cbrt((W_max - cwnd_epoch) * 5e9 / (2*SMSS)) by an exact
 *     integer cube root; (W_max - cwnd_epoch) < 2^31, so the product stays
 *     below 1.08e19 < 2^64;
 *   - per-ACK increments use exact fractions with carried remainders:
 *     (target - cwnd) * acked < 2^31 * 2^32 and 17 * acked * SMSS < 2^53.
 */
#include <assert.h>
#include <string.h>

#include "cc/cc.h"
#include "cc/cc_int.h"
#include "common.h"

/* beta_cubic = 7/10; fast convergence factor (1 + beta_cubic) / 2 = 17/20. */
#define BETA_NUM      7u
#define BETA_DEN      10u
#define FAST_CONV_NUM 17u
#define FAST_CONV_DEN 20u
/* alpha_cubic = 3 * (1 - beta) / (1 + beta) = 0.9 / 1.7 = 9/17 (§4.3). */
#define ALPHA_NUM     9u
#define ALPHA_DEN     17u
/* C = 0.4 = 2/5 segments/s^3; with d in ms, C*d^3 = 2*d^3 / 5e9. */
#define C_NUM         UINT64_C(2)
#define C_DEN_MS      UINT64_C(5000000000)

struct cubic {
	uint64_t epoch_ns;    /* t_epoch: start of the current CA stage */
	uint64_t last_ack_ns; /* time of the previous on_ack call */
	uint64_t w_est;       /* W_est, bytes (§4.3) */
	uint64_t w_est_rem;   /* fraction of W_est, in 1/(17*cwnd) bytes */
	uint64_t inc_rem;     /* fraction of the cwnd increase, in 1/cwnd bytes */
	uint32_t w_max;       /* W_max, bytes */
	uint32_t cwnd_prior;  /* cwnd when ssthresh was last set, bytes */
	uint32_t k_ms;        /* K, milliseconds */
	bool epoch_valid;     /* a CA stage is in progress (t_epoch is set) */
	bool after_rto;       /* next CA stage is the first after an RTO (§4.8) */
	bool rto_backoff;     /* RTO fired and no new data ACKed since */
	bool ss_after_rto;    /* slow start after RTO: ABC with L = 1*SMSS */
};
static_assert(sizeof(struct cubic) <= sizeof(((struct mpt_cc *)0)->priv),
	      "cubic state must fit in mpt_cc.priv");

/* priv is uint64_t storage: copy in and out instead of aliasing it. */
static void load(const struct mpt_cc *cc, struct cubic *s)
{
	memcpy(s, cc->priv, sizeof(*s));
}

static void store(struct mpt_cc *cc, const struct cubic *s)
{
	memcpy(cc->priv, s, sizeof(*s));
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* floor(cbrt(x)), exact. */
static uint64_t icbrt(uint64_t x)
{
	uint64_t lo = 0, hi = 2642245; /* floor(cbrt(2^64 - 1)) */
	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		if (mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* W_cubic(t) in bytes for t in ms since t_epoch (§4.2, Figure 1). */
static uint64_t w_cubic(const struct cubic *s, uint32_t smss, uint64_t t_ms)
{
	uint64_t k = s->k_ms;
	uint64_t d = t_ms > k ? t_ms - k : k - t_ms;
	/* Saturated => off > 3.6e9 > MPT_CC_CWND_MAX (see the file comment). */
	uint64_t off = mul_sat(mul_sat(mul_sat(d, d), d), C_NUM * smss) / C_DEN_MS;
	if (t_ms >= k)
		return s->w_max + off; /* < 2^32 + 2^32: no overflow */
	return off >= s->w_max ? 0 : s->w_max - off;
}

/* ssthresh = max(cwnd * beta_cubic, 2*SMSS) (§4.6). */
static uint32_t beta_reduce(const struct mpt_cc *cc)
{
	uint64_t two = 2 * (uint64_t)mpt_cc_smss(cc);
	uint64_t red = (uint64_t)cc->cwnd * BETA_NUM / BETA_DEN;
	return mpt_cc_clamp(MPT_MAX(red, two));
}

static void reset_epoch(struct cubic *s)
{
	s->epoch_valid = false;
	s->w_est_rem = 0;
	s->inc_rem = 0;
}

/* Begin a congestion-avoidance stage at `now` (§4.2, §4.3, §4.8, §4.10). */
static void epoch_begin(struct mpt_cc *cc, struct cubic *s, uint64_t now)
{
	uint32_t cwnd = mpt_cc_clamp(cc->cwnd);
	s->epoch_valid = true;
	s->epoch_ns = now;
	s->w_est = cwnd; /* §4.3: W_est = cwnd_epoch */
	s->w_est_rem = 0;
	s->inc_rem = 0;
	if (s->after_rto || s->w_max <= cwnd) {
		/*
		 * §4.8 (first CA stage after an RTO) and §4.10 (no loss yet,
		 * or cwnd already past the old W_max): K = 0 and W_max = the
		 * cwnd at the start of this stage, i.e. convex growth from here.
		 */
		if (!s->after_rto)
			s->cwnd_prior = cwnd;
		s->w_max = cwnd;
		s->k_ms = 0;
	} else {
		uint64_t smss = mpt_cc_smss(cc);
		uint64_t dw = (uint64_t)(s->w_max - cwnd); /* < 2^31 */
		s->k_ms = (uint32_t)icbrt(dw * C_DEN_MS / (C_NUM * smss));
	}
	s->after_rto = false;
}

static void cubic_init(struct mpt_cc *cc, uint64_t now)
{
	struct cubic s;
	memset(&s, 0, sizeof(s));
	s.last_ack_ns = now;
	store(cc, &s);
	cc->cwnd = mpt_cc_initial_window(mpt_cc_smss(cc));
	cc->ssthresh = UINT32_MAX;
}

/* Congestion avoidance for one ACK (§4.3 - §4.5). */
static void cubic_avoid(struct mpt_cc *cc, struct cubic *s, const struct mpt_cc_ack *ack)
{
	uint32_t smss = mpt_cc_smss(cc);
	uint64_t now = ack->now;

	if (!s->epoch_valid)
		epoch_begin(cc, s, now);

	uint64_t cwnd = cc->cwnd;
	uint64_t t_ns = now > s->epoch_ns ? now - s->epoch_ns : 0;
	/* §4.4: "RTT is the smoothed round-trip time". */
	uint64_t rtt = cc->srtt_ns ? cc->srtt_ns : cc->min_rtt_ns ? cc->min_rtt_ns : ack->rtt_ns;
	uint64_t w_t = w_cubic(s, smss, t_ns / MPT_NS_PER_MS);
	uint64_t w_next = w_cubic(s, smss, add_sat(t_ns, rtt) / MPT_NS_PER_MS);

	/*
	 * §4.3: W_est += alpha_cubic * segments_acked / cwnd (in segments),
	 * i.e. alpha * acked * SMSS / cwnd bytes; alpha_cubic becomes 1 once
	 * W_est has reached cwnd_prior.
	 */
	uint64_t alpha = s->w_est >= s->cwnd_prior ? ALPHA_DEN : ALPHA_NUM;
	uint64_t num = alpha * ack->acked * smss + s->w_est_rem;
	uint64_t den = ALPHA_DEN * cwnd;
	s->w_est = MPT_MIN(s->w_est + num / den, (uint64_t)MPT_CC_CWND_MAX);
	s->w_est_rem = num % den;

	if (w_t < s->w_est) {
		/*
		 * Reno-friendly region: cwnd = W_est.  cwnd never shrinks on
		 * an ACK, so a cwnd already above W_est is kept.
		 */
		if (s->w_est > cwnd)
			cc->cwnd = mpt_cc_clamp(s->w_est);
		s->inc_rem = 0;
		return;
	}

	/* §4.4/§4.5: target = W_cubic(t + RTT) clamped to [cwnd, 1.5*cwnd]. */
	uint64_t target = MPT_MAX(w_next, cwnd);
	target = MPT_MIN(target, cwnd + cwnd / 2);
	/*
	 * cwnd += (target - cwnd) / cwnd per ACKed segment; counted in bytes
	 * (acked / SMSS segments) so delayed and stretch ACKs grow cwnd as
	 * much as one ACK per segment would.
	 */
	num = (target - cwnd) * ack->acked + s->inc_rem;
	s->inc_rem = num % cwnd;
	cc->cwnd = mpt_cc_clamp(cwnd + num / cwnd);
}

static void cubic_on_ack(struct mpt_cc *cc, const struct mpt_cc_ack *ack)
{
	struct cubic s;
	uint32_t smss = mpt_cc_smss(cc);

	if (!ack)
		return;
	load(cc, &s);
	uint64_t prev = s.last_ack_ns;
	s.last_ack_ns = ack->now;
	s.rto_backoff = false; /* new data ACKed: next RTO is a new event */
	if (cc->cwnd < smss)
		cc->cwnd = smss;
	if (ack->in_recovery || ack->acked == 0)
		goto out;
	if (ack->app_limited) {
		/*
		 * RFC 9438 §5.8 / RFC 7661: no growth while cwnd is not used.
		 * The cubic clock is frozen too (t_epoch moves forward by the
		 * app-limited time), so that W_cubic does not jump when the
		 * sender becomes cwnd-limited again.
		 */
		if (s.epoch_valid && ack->now > prev && ack->now > s.epoch_ns) {
			uint64_t d = ack->now - prev;
			uint64_t room = ack->now - s.epoch_ns;
			s.epoch_ns += MPT_MIN(d, room);
		}
		goto out;
	}
	if (cc->cwnd < cc->ssthresh) {
		/* RFC 5681 slow start (HyStart++ not implemented). */
		mpt_cc_slow_start(cc, ack->acked,
				  s.ss_after_rto ? MPT_CC_ABC_L_AFTER_RTO : MPT_CC_ABC_L);
		reset_epoch(&s);
	} else {
		s.ss_after_rto = false;
		cubic_avoid(cc, &s, ack);
	}
out:
	store(cc, &s);
}

static void cubic_on_loss(struct mpt_cc *cc, uint32_t in_flight, uint64_t now)
{
	struct cubic s;
	uint32_t cwnd = mpt_cc_clamp(cc->cwnd);
	MPT_UNUSED(in_flight);
	MPT_UNUSED(now);
	load(cc, &s);
	/*
	 * §4.7 fast convergence: a loss below the previous W_max means a new
	 * flow is taking bandwidth, so release some: W_max = cwnd*(1+beta)/2.
	 */
	if (cwnd < s.w_max)
		s.w_max = (uint32_t)((uint64_t)cwnd * FAST_CONV_NUM / FAST_CONV_DEN);
	else
		s.w_max = cwnd;
	/*
	 * §4.6: ssthresh = cwnd * beta_cubic (the RFC's flight_size variant
	 * is allowed to be cwnd, as most implementations do; cwnd is only
	 * grown when it is used, so it reflects what the path carried).
	 * Floors: ssthresh >= 2*SMSS, cwnd >= 2*SMSS on a loss.
	 */
	s.cwnd_prior = cwnd;
	cc->ssthresh = beta_reduce(cc);
	cc->cwnd = cc->ssthresh;
	s.after_rto = false;
	s.ss_after_rto = false;
	reset_epoch(&s);
	store(cc, &s);
}

static void cubic_on_recovery_exit(struct mpt_cc *cc, uint64_t now)
{
	struct cubic s;
	MPT_UNUSED(now);
	load(cc, &s);
	/* RFC 6582 §3.2 step 3 option (2): cwnd = ssthresh, at least 2*SMSS. */
	uint64_t two = 2 * (uint64_t)mpt_cc_smss(cc);
	cc->cwnd = mpt_cc_clamp(MPT_MAX((uint64_t)cc->ssthresh, two));
	/* The next ACK starts a new congestion-avoidance stage. */
	reset_epoch(&s);
	store(cc, &s);
}

static void cubic_on_rto(struct mpt_cc *cc, uint32_t in_flight, uint64_t now)
{
	struct cubic s;
	MPT_UNUSED(in_flight);
	MPT_UNUSED(now);
	load(cc, &s);
	/*
	 * §4.8: on a timeout reduce like Reno (cwnd = 1 SMSS) but set ssthresh
	 * with beta_cubic.  A repeated timeout with no new ACK in between
	 * keeps ssthresh (RFC 5681 §3.1), otherwise it would collapse to
	 * 2*SMSS because cwnd is already 1 SMSS.  W_max and K are set when
	 * the next CA stage begins (K = 0, W_max = cwnd then).
	 */
	if (!s.rto_backoff) {
		s.cwnd_prior = mpt_cc_clamp(cc->cwnd);
		cc->ssthresh = beta_reduce(cc);
	}
	cc->cwnd = mpt_cc_smss(cc);
	s.rto_backoff = true;
	s.after_rto = true;
	s.ss_after_rto = true;
	reset_epoch(&s);
	store(cc, &s);
}

static void cubic_on_idle(struct mpt_cc *cc, uint64_t now)
{
	struct cubic s;
	load(cc, &s);
	/* RFC 5681 §4.1: restart window RW = min(IW, cwnd). */
	uint32_t iw = mpt_cc_initial_window(mpt_cc_smss(cc));
	if (cc->cwnd > iw)
		cc->cwnd = iw;
	/*
	 * The idle time must not count as CA time (W_cubic would jump), so
	 * the epoch restarts with the next CA ACK.
	 */
	reset_epoch(&s);
	s.last_ack_ns = now;
	store(cc, &s);
}

const struct mpt_cc_ops mpt_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_loss = cubic_on_loss,
    .on_recovery_exit = cubic_on_recovery_exit,
    .on_rto = cubic_on_rto,
    .on_idle = cubic_on_idle,
};
