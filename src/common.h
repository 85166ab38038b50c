/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers shared by every module. Not installed. */
#ifndef MPT_COMMON_H
#define MPT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpt/mpt.h"

#define MPT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MPT_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MPT_MAX(a, b)     ((a) > (b) ? (a) : (b))
#define MPT_UNUSED(x)     ((void)(x))

/* Allocation through the caller's hooks (never malloc directly). */
static inline void *mpt_malloc(const struct mpt_mem *m, size_t n)
{
	return m->malloc(n, m->user_data);
}
static inline void *mpt_calloc(const struct mpt_mem *m, size_t nmemb, size_t n)
{
	return m->calloc(nmemb, n, m->user_data);
}
static inline void *mpt_realloc(const struct mpt_mem *m, void *p, size_t n)
{
	return m->realloc(p, n, m->user_data);
}
static inline void mpt_free(const struct mpt_mem *m, void *p)
{
	m->free(p, m->user_data);
}

/*
 * 32-bit sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4, RFC 1982).
 * All comparisons go through these so wrap-around is handled in one place.
 */
static inline bool mpt_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool mpt_seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
static inline bool mpt_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}
static inline bool mpt_seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}
static inline uint32_t mpt_seq_max(uint32_t a, uint32_t b)
{
	return mpt_seq_gt(a, b) ? a : b;
}
static inline uint32_t mpt_seq_min(uint32_t a, uint32_t b)
{
	return mpt_seq_lt(a, b) ? a : b;
}

#endif /* MPT_COMMON_H */
