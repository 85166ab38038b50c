/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitmix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
 * generators", 2014), the one copy of it: the simulator seeds its
 * generators with it, the link emulator draws its losses from it, the
 * token table hashes with its finaliser, and the tests draw their inputs
 * from it.  Seeded outputs (simulator runs, soak seeds, bench tables)
 * depend on every bit of it, so it is written once and never changed.
 * Header-only: a few instructions, inlined where they are used; nothing
 * of it is exported from libmpt.so.
 */
#ifndef MPT_BASE_SPLITMIX_H
#define MPT_BASE_SPLITMIX_H

#include <stdint.h>

/* The state's increment per step: 2^64 divided by the golden ratio, odd,
 * so the state walks through all 2^64 values before it repeats. */
#define MPT_SPLITMIX64_GAMMA UINT64_C(0x9e3779b97f4a7c15)

/* The finaliser alone: a bijective mix of one 64-bit value, every output
 * bit depending on every input bit.  Pure, for hashing a key. */
static inline uint64_t mpt_splitmix64_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* One step: advance *state and return the next output. */
static inline uint64_t mpt_splitmix64(uint64_t *state)
{
	*state += MPT_SPLITMIX64_GAMMA;
	return mpt_splitmix64_mix(*state);
}

#endif
