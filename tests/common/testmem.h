/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A counting allocator for tests: every test can check that all memory came
 * back (live == 0) and can inject allocation failures.  Linked into every
 * test binary (everything in tests/common is).
 */
#ifndef MPT_TESTMEM_H
#define MPT_TESTMEM_H

#include "mpt/mpt.h"

struct mpt_test_mem {
	struct mpt_mem mem; /**< hooks to pass to the code under test */
	long live;          /**< allocations not yet freed */
	long live_bytes;    /**< their usable size (malloc_usable_size) */
	long allocs;        /**< allocation attempts so far */
	long fail_at;       /**< the attempt with this index returns NULL (-1: never) */
	long fail_from;     /**< every attempt from this index on fails (-1: never) */
};

/** Reset counters and point the hooks at m. */
void mpt_test_mem_init(struct mpt_test_mem *m);

#endif
