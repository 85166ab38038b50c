/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Coupling groups and the machinery shared by the coupled congestion
 * controls for MPTCP subflows (lia.c, olia.c, balia.c).
 *
 * RFC 6356 §3 couples only the increase in congestion avoidance; slow start,
 * the loss response (BALIA excepted), RTO and idle restart stay Reno's.  So
 * the three algorithms share a reno-shaped skeleton here and differ only in
 * how many bytes must be ACKed for cwnd to move by one SMSS (the "divisor"
 * D, see mpt_cc_div_fn): reno uses D = cwnd (RFC 3465 byte counting), the
 * coupled algorithms compute D from the group at every ACK.  With a single
 * member every one of them computes D = cwnd exactly, so a lone subflow
 * follows reno's trajectory bit for bit (RFC 6356 §2 goal 1 for one path).
 *
 * Arithmetic (integer only, deterministic on every platform):
 *   - windows in bytes, < 2^31 (MPT_CC_CWND_MAX); RTTs in µs, clamped to
 *     1 .. 2^26 - 1 (srtt_ns / 1000; about 67 s); at most 16 members;
 *   - rates are compared at a common time scale, the smallest RTT of the
 *     group: y_i = cwnd_i * rtt_min / rtt_i (bytes per rtt_min, <= cwnd_i
 *     < 2^31), kept with 24 fraction bits (< 2^55), sum Y < 2^59;
 *   - products of such values (Y^2 < 2^118) fit in 128 bits; the few that
 *     need more go through mpt_cc_muldiv(), an exact floor(a*b/d) with a
 *     256-bit intermediate that saturates at 2^128 - 1;
 *   - D is kept in 2^-24 byte units in 128 bits, and so is the byte
 *     counter: acc < D + 2^56.
 * The 128-bit values are u128.h's two 64-bit halves on every target (no
 * __int128 on 32-bit ones); its operations give the bits that unsigned
 * __int128 gives (tests/unit/cc_u128_test.c).
 */
#include <assert.h>
#include <string.h>

#include "cc/cc.h"
#include "cc/cc_int.h"
#include "common.h"

static_assert(sizeof(struct mpt_cc_coupled) <= sizeof(((struct mpt_cc *)0)->priv),
	      "coupled state must fit in mpt_cc.priv");

/* ---- group -------------------------------------------------------------- */

void mpt_cc_group_init(struct mpt_cc_group *g)
{
	if (g)
		memset(g, 0, sizeof(*g));
}

static bool group_has(const struct mpt_cc_group *g, const struct mpt_cc *cc, uint32_t *at)
{
	uint32_t n = MPT_MIN(g->n, (uint32_t)MPT_CC_GROUP_MAX);
	for (uint32_t i = 0; i < n; i++) {
		if (g->member[i] == cc) {
			if (at)
				*at = i;
			return true;
		}
	}
	return false;
}

int mpt_cc_group_join(struct mpt_cc_group *g, struct mpt_cc *cc)
{
	if (!g || !cc)
		return MPT_ERR_INVAL;
	if (group_has(g, cc, NULL))
		return MPT_ERR_EXIST;
	if (cc->coupling && cc->coupling != g)
		return MPT_ERR_STATE;
	if (g->n >= MPT_CC_GROUP_MAX)
		return MPT_ERR_LIMIT;
	g->member[g->n++] = cc;
	cc->coupling = g;
	return 0;
}

void mpt_cc_group_leave(struct mpt_cc_group *g, struct mpt_cc *cc)
{
	uint32_t at;

	if (!g || !cc)
		return;
	if (group_has(g, cc, &at)) {
		/* Keep join order: the sums are then computed in a fixed order. */
		uint32_t n = MPT_MIN(g->n, (uint32_t)MPT_CC_GROUP_MAX);
		memmove(&g->member[at], &g->member[at + 1], (n - at - 1) * sizeof(g->member[0]));
		g->member[n - 1] = NULL;
		g->n = n - 1;
	}
	if (cc->coupling == g)
		cc->coupling = NULL;
}

/* ---- arithmetic --------------------------------------------------------- */

mpt_u128 mpt_cc_muldiv(mpt_u128 a, mpt_u128 b, mpt_u128 d)
{
	if (mpt_u128_is_zero(d))
		return MPT_U128_MAX;
	if (mpt_u128_is_zero(a) || mpt_u128_is_zero(b))
		return mpt_u128_of(0);

	/* 256-bit product hi:lo from 64-bit limbs. */
	mpt_u128 p00 = mpt_u128_mul64(a.lo, b.lo), p01 = mpt_u128_mul64(a.lo, b.hi);
	mpt_u128 p10 = mpt_u128_mul64(a.hi, b.lo), p11 = mpt_u128_mul64(a.hi, b.hi);
	/* Bits 64..191: < 3 * 2^64. */
	mpt_u128 mid = mpt_u128_add(mpt_u128_add(mpt_u128_of(p00.hi), mpt_u128_of(p01.lo)),
				    mpt_u128_of(p10.lo));
	mpt_u128 lo = mpt_u128_make(mid.lo, p00.lo);
	mpt_u128 hi = mpt_u128_add(mpt_u128_add(p11, mpt_u128_of(p01.hi)),
				   mpt_u128_add(mpt_u128_of(p10.hi), mpt_u128_of(mid.hi)));
	if (mpt_u128_is_zero(hi))
		return mpt_u128_div(lo, d);
	if (!mpt_u128_lt(hi, d))
		return MPT_U128_MAX; /* quotient >= 2^128 */

	/*
	 * Restoring division of hi:lo by d, one bit of lo shifted in at a
	 * time; the remainder r stays below d.
	 */
	mpt_u128 r = hi, q = mpt_u128_of(0);
	for (int i = 0; i < 128; i++) {
		bool carry = (r.hi >> 63) != 0;
		r = mpt_u128_shl(r, 1);
		r.lo |= lo.hi >> 63;
		lo = mpt_u128_shl(lo, 1);
		q = mpt_u128_shl(q, 1);
		if (carry || !mpt_u128_lt(r, d)) {
			r = mpt_u128_sub(r, d);
			q.lo |= 1;
		}
	}
	return q;
}

/* ---- group view --------------------------------------------------------- */

static uint64_t rtt_us(const struct mpt_cc *cc)
{
	uint64_t us = cc->srtt_ns / 1000;
	if (us < 1)
		us = 1;
	return MPT_MIN(us, MPT_CC_RTT_MAX_US);
}

static void view_add(struct mpt_cc_view *v, const struct mpt_cc *m)
{
	uint32_t i = v->n++;
	v->cc[i] = m;
	v->cwnd[i] = MPT_MIN((uint64_t)m->cwnd, (uint64_t)MPT_CC_CWND_MAX);
	v->rtt_us[i] = rtt_us(m);
	if (i == 0 || v->rtt_us[i] < v->rtt_min_us)
		v->rtt_min_us = v->rtt_us[i];
}

bool mpt_cc_view_get(const struct mpt_cc *cc, struct mpt_cc_view *v)
{
	const struct mpt_cc_group *g = cc->coupling;

	memset(v, 0, sizeof(*v));
	if (!g || cc->srtt_ns == 0 || cc->cwnd == 0)
		return false;
	uint32_t n = MPT_MIN(g->n, (uint32_t)MPT_CC_GROUP_MAX);
	/*
	 * Only members that carry data count.  RFC 6356's first goal is that
	 * the connection does at least as well as one TCP on its best path; an
	 * idle subflow (a backup never used, a path gone silent) takes no
	 * capacity, yet its window and short RTT in the sums throttled the
	 * one path in use to a third of a TCP's rate (soak seed 1099: 0.25
	 * Mbit/s on a 2.35 Mbit/s path, one idle backup).  Idle: no new data
	 * acknowledged for 4 of its RTTs plus a minimum RTO, measured from the
	 * group's latest acknowledgment (the engines' clock).
	 */
	uint64_t ref = cc->last_ack_ns;
	for (uint32_t i = 0; i < n; i++)
		if (g->member[i] && g->member[i]->last_ack_ns > ref)
			ref = g->member[i]->last_ack_ns;
	for (uint32_t i = 0; i < n; i++) {
		const struct mpt_cc *m = g->member[i];
		/* Self is added last, even if the group lost track of it. */
		if (!m || m == cc || m->srtt_ns == 0 || m->cwnd == 0)
			continue;
		uint64_t idle_after = m->srtt_ns > (UINT64_MAX - MPT_CC_IDLE_SLACK_NS) / 4
					  ? UINT64_MAX
					  : 4 * m->srtt_ns + MPT_CC_IDLE_SLACK_NS;
		if (m->last_ack_ns == 0 || ref - m->last_ack_ns > idle_after)
			continue;
		if (v->n == MPT_CC_GROUP_MAX - 1)
			break;
		view_add(v, m);
	}
	v->self = v->n;
	view_add(v, cc);
	return true;
}

mpt_u128 mpt_cc_view_y(const struct mpt_cc_view *v, uint32_t i)
{
	/* cwnd * rtt_min < 2^57, shifted < 2^81; the quotient is <= cwnd. */
	mpt_u128 num = mpt_u128_mul64(v->cwnd[i], v->rtt_min_us);
	return mpt_u128_div(mpt_u128_shl(num, MPT_CC_FP_SHIFT), mpt_u128_of(v->rtt_us[i]));
}

/* ---- reno-shaped skeleton ----------------------------------------------- */

/* priv is uint64_t storage: copy in and out instead of aliasing it. */
static void load(const struct mpt_cc *cc, struct mpt_cc_coupled *s)
{
	memcpy(s, cc->priv, sizeof(*s));
}

static void store(struct mpt_cc *cc, const struct mpt_cc_coupled *s)
{
	memcpy(cc->priv, s, sizeof(*s));
}

uint32_t mpt_cc_half_flight(const struct mpt_cc *cc, uint32_t in_flight)
{
	uint64_t two = 2 * (uint64_t)mpt_cc_smss(cc);
	return mpt_cc_clamp(MPT_MAX((uint64_t)in_flight / 2, two));
}

void mpt_cc_coupled_init(struct mpt_cc *cc, uint64_t now)
{
	struct mpt_cc_coupled s;
	MPT_UNUSED(now);
	memset(&s, 0, sizeof(s));
	store(cc, &s);
	/* RFC 5681 §3.1: ssthresh starts arbitrarily high; RFC 6928 IW. */
	cc->cwnd = mpt_cc_initial_window(mpt_cc_smss(cc));
	cc->ssthresh = UINT32_MAX;
}

/* Apply n whole SMSS steps in direction dir. */
static void step(struct mpt_cc *cc, mpt_u128 n, int dir)
{
	uint64_t smss = mpt_cc_smss(cc);
	/* Anything beyond 2^32 steps is past MPT_CC_CWND_MAX either way. */
	uint64_t delta = mpt_u128_lo64(mpt_u128_min(n, mpt_u128_of(UINT32_MAX))) * smss;

	if (dir > 0) {
		cc->cwnd = mpt_cc_clamp((uint64_t)cc->cwnd + delta);
		return;
	}
	/*
	 * OLIA's negative increase: never below 2*SMSS, and ssthresh follows
	 * cwnd down so the shrinking path stays in congestion avoidance
	 * instead of re-entering slow start.
	 */
	uint64_t floor2 = 2 * smss;
	uint64_t w = cc->cwnd;
	w = w > delta + floor2 ? w - delta : MPT_MIN(w, floor2);
	cc->cwnd = mpt_cc_clamp(w);
	if (cc->ssthresh > cc->cwnd)
		cc->ssthresh = cc->cwnd;
}

void mpt_cc_coupled_on_ack(struct mpt_cc *cc, const struct mpt_cc_ack *ack, mpt_cc_div_fn div)
{
	struct mpt_cc_coupled s;
	uint32_t smss = mpt_cc_smss(cc);

	if (!ack)
		return;
	load(cc, &s);
	/* New data was ACKed: a later RTO is a new loss event (RFC 5681 §3.1). */
	s.rto_backoff = false;
	/* OLIA l_2r counts every byte ACKed since the last loss. */
	s.l_cur = s.l_cur > UINT64_MAX - ack->acked ? UINT64_MAX : s.l_cur + ack->acked;
	if (cc->cwnd < smss)
		cc->cwnd = smss;
	/* As reno: no growth in recovery or while application-limited (RFC 7661 §4.3). */
	if (ack->in_recovery || ack->app_limited || ack->acked == 0) {
		store(cc, &s);
		return;
	}
	if (cc->cwnd < cc->ssthresh) {
		mpt_cc_slow_start(cc, ack->acked,
				  s.ss_after_rto ? MPT_CC_ABC_L_AFTER_RTO : MPT_CC_ABC_L);
		s.acc = mpt_u128_of(0);
		store(cc, &s);
		return;
	}
	s.ss_after_rto = false;

	mpt_u128 d = mpt_u128_of(0);
	int dir = div(cc, &d);
	if (dir == 0 || mpt_u128_is_zero(d)) {
		store(cc, &s);
		return;
	}
	if (dir != s.acc_dir) {
		/* Progress towards the other direction does not carry over. */
		s.acc = mpt_u128_of(0);
		s.acc_dir = (int8_t)dir;
	}
	/*
	 * cwnd moves by one SMSS per D bytes ACKed: the increase per ACK is
	 * acked * SMSS / D, done exactly with a byte counter (a stretch ACK
	 * may move several SMSS).  acc < D + 2^56; saturating anyway, for
	 * a D near 2^128 (an effectively frozen OLIA path).
	 */
	mpt_u128 inc = mpt_u128_shl(mpt_u128_of(ack->acked), MPT_CC_FP_SHIFT);
	s.acc = mpt_u128_add_sat(s.acc, inc);
	if (!mpt_u128_lt(s.acc, d)) {
		/* n steps, and acc keeps what is left: acc - n * d. */
		mpt_u128 n = mpt_u128_divmod(s.acc, d, &s.acc);
		step(cc, n, dir);
	}
	store(cc, &s);
}

/* A new loss event closes OLIA's inter-loss interval. */
static void close_interval(struct mpt_cc_coupled *s)
{
	if (s->l_cur != 0) {
		s->l_prev = s->l_cur;
		s->l_cur = 0;
	}
}

void mpt_cc_coupled_on_loss(struct mpt_cc *cc, uint32_t ssthresh)
{
	struct mpt_cc_coupled s;
	load(cc, &s);
	/* RFC 6356 §3: the decrease is TCP's (cwnd = ssthresh, no inflation). */
	cc->ssthresh = ssthresh;
	cc->cwnd = ssthresh;
	s.acc = mpt_u128_of(0);
	s.ss_after_rto = false;
	close_interval(&s);
	store(cc, &s);
}

void mpt_cc_coupled_on_recovery_exit(struct mpt_cc *cc, uint64_t now)
{
	struct mpt_cc_coupled s;
	MPT_UNUSED(now);
	load(cc, &s);
	/* RFC 6582 §3.2 step 3 option (2): cwnd = ssthresh ("deflate"). */
	uint64_t two = 2 * (uint64_t)mpt_cc_smss(cc);
	cc->cwnd = mpt_cc_clamp(MPT_MAX((uint64_t)cc->ssthresh, two));
	s.acc = mpt_u128_of(0);
	store(cc, &s);
}

void mpt_cc_coupled_on_rto(struct mpt_cc *cc, uint32_t in_flight, uint64_t now)
{
	struct mpt_cc_coupled s;
	MPT_UNUSED(now);
	load(cc, &s);
	/*
	 * RFC 5681 §3.1 eqn (4) on the first timeout of a loss event only;
	 * cwnd = loss window = 1 SMSS.
	 */
	if (!s.rto_backoff) {
		cc->ssthresh = mpt_cc_half_flight(cc, in_flight);
		close_interval(&s);
	}
	cc->cwnd = mpt_cc_smss(cc);
	s.rto_backoff = true;
	s.ss_after_rto = true;
	s.acc = mpt_u128_of(0);
	store(cc, &s);
}

void mpt_cc_coupled_on_idle(struct mpt_cc *cc, uint64_t now)
{
	struct mpt_cc_coupled s;
	MPT_UNUSED(now);
	load(cc, &s);
	/* RFC 5681 §4.1: restart window RW = min(IW, cwnd). */
	uint32_t iw = mpt_cc_initial_window(mpt_cc_smss(cc));
	if (cc->cwnd > iw)
		cc->cwnd = iw;
	s.acc = mpt_u128_of(0);
	store(cc, &s);
}
