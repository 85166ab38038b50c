/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Default hooks for memory and randomness.  These are the only places the
 * library touches the C allocator or a random source; the engine itself
 * only ever calls through struct mpt_mem / mpt_rand_fn, which callers
 * (simulator, fuzzers, tests) replace.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/rand.h>

#include "common.h"

static void *def_malloc(size_t size, void *ud)
{
	MPT_UNUSED(ud);
	return malloc(size);
}

static void *def_calloc(size_t nmemb, size_t size, void *ud)
{
	MPT_UNUSED(ud);
	return calloc(nmemb, size);
}

static void *def_realloc(void *ptr, size_t size, void *ud)
{
	MPT_UNUSED(ud);
	return realloc(ptr, size);
}

static void def_free(void *ptr, void *ud)
{
	MPT_UNUSED(ud);
	free(ptr);
}

static const struct mpt_mem default_mem = {
    .malloc = def_malloc,
    .calloc = def_calloc,
    .realloc = def_realloc,
    .free = def_free,
    .user_data = NULL,
};

const struct mpt_mem *mpt_mem_default(void)
{
	return &default_mem;
}

void mpt_rand_default(uint8_t *buf, size_t len, void *user_data)
{
	MPT_UNUSED(user_data);
	while (len > 0) {
		int chunk = len > 1u << 20 ? 1 << 20 : (int)len;
		if (RAND_bytes(buf, chunk) != 1) {
			/* A broken CSPRNG must never silently yield weak keys. */
			fputs("mpt: RAND_bytes failed\n", stderr);
			abort();
		}
		buf += chunk;
		len -= (size_t)chunk;
	}
}
