/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small deterministic generator for tests that draw random inputs
 * (splitmix64): each test sets rng_state to a fixed seed, so a failure
 * reproduces.  Header-only; every including file has its own state.
 */
#ifndef MPT_TESTRNG_H
#define MPT_TESTRNG_H

#include <stddef.h>
#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform enough below n (n > 0) for test inputs. */
static inline unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static inline void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

#endif
