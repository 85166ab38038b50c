/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unsigned 128-bit integers in two 64-bit halves, for the intermediates of
 * the coupled congestion controls (cc_coupled.c, lia.c, olia.c, balia.c).
 *
 * Why not `unsigned __int128`: gcc and clang offer it on 64-bit targets
 * only, and the engine must build for 32-bit ones (i386,
 * docs/portability.md).  This type is used on every platform, not only
 * where __int128 is missing, so the code the tests run on x86-64 is the
 * code that runs on i386.  tests/unit/cc_u128_test.c checks every operation
 * against `unsigned __int128` where the compiler has it.
 *
 * Semantics are C's unsigned arithmetic modulo 2^128 (add, sub and mul
 * wrap, shifts drop bits), so a computation written with these functions
 * gives the bits the same expression gives on unsigned __int128.  The
 * exceptions are the guarded ones: a shift by 128 or more gives 0 (C leaves
 * it undefined) and a division by 0 gives MPT_U128_MAX with remainder 0 (C
 * traps); the engine never crashes on a value it computed.
 */
#ifndef MPT_CC_U128_H
#define MPT_CC_U128_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mpt_u128 {
	uint64_t hi;
	uint64_t lo;
} mpt_u128;

#define MPT_U128_MAX ((mpt_u128){.hi = UINT64_MAX, .lo = UINT64_MAX})

static inline mpt_u128 mpt_u128_make(uint64_t hi, uint64_t lo)
{
	return (mpt_u128){.hi = hi, .lo = lo};
}

/* The value v (as a conversion of a uint64_t to unsigned __int128). */
static inline mpt_u128 mpt_u128_of(uint64_t v)
{
	return mpt_u128_make(0, v);
}

/* The low 64 bits (as a cast of unsigned __int128 to uint64_t). */
static inline uint64_t mpt_u128_lo64(mpt_u128 a)
{
	return a.lo;
}

static inline bool mpt_u128_is_zero(mpt_u128 a)
{
	return (a.hi | a.lo) == 0;
}

static inline bool mpt_u128_eq(mpt_u128 a, mpt_u128 b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

static inline bool mpt_u128_lt(mpt_u128 a, mpt_u128 b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

static inline bool mpt_u128_le(mpt_u128 a, mpt_u128 b)
{
	return !mpt_u128_lt(b, a);
}

static inline mpt_u128 mpt_u128_min(mpt_u128 a, mpt_u128 b)
{
	return mpt_u128_lt(b, a) ? b : a;
}

static inline mpt_u128 mpt_u128_max(mpt_u128 a, mpt_u128 b)
{
	return mpt_u128_lt(a, b) ? b : a;
}

/* a + b mod 2^128. */
static inline mpt_u128 mpt_u128_add(mpt_u128 a, mpt_u128 b)
{
	uint64_t lo = a.lo + b.lo;
	return mpt_u128_make(a.hi + b.hi + (lo < a.lo), lo);
}

/* a + b, or MPT_U128_MAX when the sum does not fit. */
static inline mpt_u128 mpt_u128_add_sat(mpt_u128 a, mpt_u128 b)
{
	mpt_u128 s = mpt_u128_add(a, b);
	return mpt_u128_lt(s, a) ? MPT_U128_MAX : s;
}

/* a - b mod 2^128. */
static inline mpt_u128 mpt_u128_sub(mpt_u128 a, mpt_u128 b)
{
	return mpt_u128_make(a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo);
}

/* a << n; 0 for n >= 128. */
static inline mpt_u128 mpt_u128_shl(mpt_u128 a, unsigned n)
{
	if (n >= 128)
		return mpt_u128_of(0);
	if (n >= 64)
		return mpt_u128_make(a.lo << (n - 64), 0);
	if (n == 0)
		return a;
	return mpt_u128_make((a.hi << n) | (a.lo >> (64 - n)), a.lo << n);
}

/* a >> n; 0 for n >= 128. */
static inline mpt_u128 mpt_u128_shr(mpt_u128 a, unsigned n)
{
	if (n >= 128)
		return mpt_u128_of(0);
	if (n >= 64)
		return mpt_u128_of(a.hi >> (n - 64));
	if (n == 0)
		return a;
	return mpt_u128_make(a.hi >> n, (a.lo >> n) | (a.hi << (64 - n)));
}

/*
 * The full product of two 64-bit values, from 32-bit halves (every partial
 * product fits 64 bits, also on 32-bit targets where the compiler splits
 * them further).
 */
static inline mpt_u128 mpt_u128_mul64(uint64_t a, uint64_t b)
{
	const uint64_t m32 = UINT32_MAX;
	uint64_t a0 = a & m32, a1 = a >> 32, b0 = b & m32, b1 = b >> 32;
	uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	/* < 3 * 2^32: no carry lost. */
	uint64_t mid = (p00 >> 32) + (p01 & m32) + (p10 & m32);
	return mpt_u128_make(p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32),
			     (p00 & m32) | (mid << 32));
}

/* a * b mod 2^128 (the cross terms' bits above 2^128 drop, as in C). */
static inline mpt_u128 mpt_u128_mul(mpt_u128 a, mpt_u128 b)
{
	mpt_u128 p = mpt_u128_mul64(a.lo, b.lo);
	p.hi += a.lo * b.hi + a.hi * b.lo;
	return p;
}

/*
 * floor(n / d), and n mod d in *rem when rem is not NULL (u128.c).
 * d == 0: MPT_U128_MAX, remainder 0.
 */
mpt_u128 mpt_u128_divmod(mpt_u128 n, mpt_u128 d, mpt_u128 *rem);

static inline mpt_u128 mpt_u128_div(mpt_u128 n, mpt_u128 d)
{
	return mpt_u128_divmod(n, d, NULL);
}

#endif /* MPT_CC_U128_H */
