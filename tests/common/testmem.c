/* SPDX-License-Identifier: Apache-2.0 */
#include "testmem.h"

#include <malloc.h>
#include <stdlib.h>

static bool should_fail(struct mpt_test_mem *m)
{
	long i = m->allocs++;
	return i == m->fail_at || (m->fail_from >= 0 && i >= m->fail_from);
}

static void *tm_malloc(size_t n, void *ud)
{
	struct mpt_test_mem *m = ud;
	if (should_fail(m))
		return NULL;
	void *p = malloc(n);
	if (p) {
		m->live++;
		m->live_bytes += (long)malloc_usable_size(p);
	}
	return p;
}

static void *tm_calloc(size_t a, size_t n, void *ud)
{
	struct mpt_test_mem *m = ud;
	if (should_fail(m))
		return NULL;
	void *p = calloc(a, n);
	if (p) {
		m->live++;
		m->live_bytes += (long)malloc_usable_size(p);
	}
	return p;
}

static void *tm_realloc(void *p, size_t n, void *ud)
{
	struct mpt_test_mem *m = ud;
	if (!p)
		return tm_malloc(n, ud);
	if (should_fail(m))
		return NULL;
	long before = (long)malloc_usable_size(p);
	void *q = realloc(p, n);
	if (q)
		m->live_bytes += (long)malloc_usable_size(q) - before;
	return q;
}

static void tm_free(void *p, void *ud)
{
	struct mpt_test_mem *m = ud;
	if (p) {
		m->live--;
		m->live_bytes -= (long)malloc_usable_size(p);
	}
	free(p);
}

void mpt_test_mem_init(struct mpt_test_mem *m)
{
	m->mem = (struct mpt_mem){tm_malloc, tm_calloc, tm_realloc, tm_free, m};
	m->live = 0;
	m->live_bytes = 0;
	m->allocs = 0;
	m->fail_at = -1;
	m->fail_from = -1;
}
