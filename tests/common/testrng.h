/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small deterministic generator for tests that draw random inputs
 * (splitmix64, base/splitmix.h): each test sets rng_state to a fixed seed, so a failure
 * reproduces.  Header-only; every including file has its own state.
 */
#ifndef MPT_TESTRNG_H
#define MPT_TESTRNG_H

#include <stddef.h>
#include <stdint.h>

#include "base/splitmix.h"

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	return mpt_splitmix64(&rng_state);
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
