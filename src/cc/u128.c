/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Division of the portable 128-bit integers (u128.h).  Only 64-bit
 * operations of C are used, so it compiles to the same results on every
 * target (a 64-bit division is a libgcc call on 32-bit ones).
 */
#include "cc/u128.h"

/* Number of leading zero bits of v (64 for 0), without compiler builtins. */
static unsigned clz64(uint64_t v)
{
	unsigned n = 0;

	if (v == 0)
		return 64;
	if ((v >> 32) == 0) {
		n += 32;
		v <<= 32;
	}
	if ((v >> 48) == 0) {
		n += 16;
		v <<= 16;
	}
	if ((v >> 56) == 0) {
		n += 8;
		v <<= 8;
	}
	if ((v >> 60) == 0) {
		n += 4;
		v <<= 4;
	}
	if ((v >> 62) == 0) {
		n += 2;
		v <<= 2;
	}
	if ((v >> 63) == 0)
		n += 1;
	return n;
}

/*
 * (hi * 2^64 + lo) / v for hi < v (so the quotient fits 64 bits), remainder
 * in *rem: Knuth's long division (TAOCP vol. 2, §4.3.1, algorithm D) in
 * base 2^32, a 4-digit dividend by a 2-digit divisor.  v is first shifted
 * so that its top bit is set; then each quotient digit is estimated from
 * the top two digits of the partial remainder and the top digit of v, and
 * corrected down with v's second digit.  With a 2-digit divisor that test
 * is exact, so no add-back step is needed.
 */
static uint64_t div_2by1(uint64_t hi, uint64_t lo, uint64_t v, uint64_t *rem)
{
	const uint64_t base = UINT64_C(1) << 32, m32 = UINT32_MAX;
	unsigned s = clz64(v);

	v <<= s;
	uint64_t vh = v >> 32, vl = v & m32;
	/* The dividend shifted by s: u (< v, as hi < v before the shift) : l. */
	uint64_t u = s == 0 ? hi : (hi << s) | (lo >> (64 - s));
	uint64_t l = lo << s;
	uint64_t lh = l >> 32, ll = l & m32;

	/* First digit: (u : lh) / v.  q1 < base is tested before q1 * vl. */
	uint64_t q1 = u / vh, r = u - q1 * vh;
	while (q1 >= base || q1 * vl > ((r << 32) | lh)) {
		q1--;
		r += vh;
		if (r >= base)
			break;
	}
	/* Partial remainder (u : lh) - q1 * v < v: exact modulo 2^64. */
	uint64_t u2 = ((u << 32) | lh) - q1 * v;

	/* Second digit: (u2 : ll) / v. */
	uint64_t q0 = u2 / vh;
	r = u2 - q0 * vh;
	while (q0 >= base || q0 * vl > ((r << 32) | ll)) {
		q0--;
		r += vh;
		if (r >= base)
			break;
	}
	*rem = (((u2 << 32) | ll) - q0 * v) >> s;
	return (q1 << 32) | q0;
}

mpt_u128 mpt_u128_divmod(mpt_u128 n, mpt_u128 d, mpt_u128 *rem)
{
	mpt_u128 q, r;

	if (mpt_u128_is_zero(d)) {
		q = MPT_U128_MAX;
		r = mpt_u128_of(0);
	} else if (d.hi == 0 && n.hi == 0) {
		q = mpt_u128_of(n.lo / d.lo);
		r = mpt_u128_of(n.lo % d.lo);
	} else if (d.hi == 0) {
		/* Two 64-bit digits by one: the high digit natively, then the rest. */
		q.hi = n.hi / d.lo;
		r.hi = 0;
		q.lo = div_2by1(n.hi % d.lo, n.lo, d.lo, &r.lo);
	} else if (mpt_u128_lt(n, d)) {
		q = mpt_u128_of(0);
		r = n;
	} else {
		/*
		 * d >= 2^64, so the quotient fits 64 bits.  Estimate it from
		 * the top 64 bits of d: with s = clz(d.hi) and dt = the 64 bits
		 * of d below its s leading zeros (top bit set),
		 * qe = floor((n / 2) / dt) >> (63 - s) = floor(n / (dt * 2^(64-s))).
		 * With D = dt * 2^(64-s): D <= d <= D + 2^(64-s) - 1 and both
		 * are >= 2^(127-s), so n / D - n / d = n (d - D) / (D d) <
		 * 2^128 (2^(64-s) - 1) / 2^(254-2s) <= 1: qe is the quotient or
		 * one more.  Halving n keeps its top digit below dt (>= 2^63),
		 * as div_2by1 needs.
		 */
		unsigned s = clz64(d.hi);
		uint64_t dt = mpt_u128_shl(d, s).hi, unused;
		mpt_u128 nh = mpt_u128_shr(n, 1);
		uint64_t qe = div_2by1(nh.hi, nh.lo, dt, &unused) >> (63 - s);
		/* qe - 1 <= quotient: (qe - 1) * d <= n does not wrap. */
		if (qe != 0)
			qe--;
		r = mpt_u128_sub(n, mpt_u128_mul(mpt_u128_of(qe), d));
		if (!mpt_u128_lt(r, d)) {
			qe++;
			r = mpt_u128_sub(r, d);
		}
		q = mpt_u128_of(qe);
	}
	if (rem)
		*rem = r;
	return q;
}
