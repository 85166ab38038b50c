/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP DSS mapping lists (src/mptcp/map.c): push with dedup of repeated
 * DSS options, overlap rejection, the capacity limit, find and drop_before,
 * the infinite mapping, and relative subflow sequence numbers that wrap at
 * 2^32.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mptcp/dsbuf.h"
#include "testmem.h"

/* Counting allocator (tests/common/testmem.c): leaks and injected failures. */
static struct mpt_test_mem tm;

static int setup(void **state)
{
	mpt_test_mem_init(&tm);
	return 0;
}
static int teardown(void **state)
{
	assert_int_equal(tm.live, 0);
	return 0;
}

static struct mpt_map M(uint64_t dsn, uint32_t ssn, uint32_t len) {
	struct mpt_map m;

	memset(&m, 0, sizeof(m));
	m.dsn = dsn;
	m.ssn = ssn;
	m.len = len;
	return m;
}

static void
test_init_errors(void **state)
{
	struct mpt_maplist ml;

	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 0), MPT_ERR_INVAL);
	assert_int_equal(mpt_maplist_init(&ml, NULL, 4), MPT_ERR_INVAL);
	assert_int_equal(mpt_maplist_init(NULL, &tm.mem, 4), MPT_ERR_INVAL);
	tm.fail_at = 0;
	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 4), MPT_ERR_NOMEM);
	mpt_maplist_free(&ml);
	tm.fail_at = -1;
	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 4), 0);
	assert_int_equal(mpt_maplist_count(&ml), 0);
	assert_null(mpt_maplist_first(&ml));
	assert_null(mpt_maplist_at(&ml, 0));
	assert_null(mpt_maplist_find(&ml, 0));
	assert_int_equal(mpt_maplist_push(&ml, NULL), MPT_ERR_INVAL);
	mpt_maplist_drop_before(&ml, 100); /* empty: no-op */
	mpt_maplist_free(&ml);
	mpt_maplist_free(&ml);
}

static void test_push_dedup(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map a = M(1000, 1, 100), b = M(1100, 101, 50);

	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 8), 0);
	assert_int_equal(mpt_maplist_push(&ml, &a), 0);
	assert_int_equal(mpt_maplist_push(&ml, &a), 0); /* repeated DSS */
	assert_int_equal(mpt_maplist_count(&ml), 1);
	assert_int_equal(mpt_maplist_push(&ml, &b), 0);
	assert_int_equal(mpt_maplist_count(&ml), 2);
	/* An older but held mapping repeated (retransmitted segment): accepted, not added. */
	assert_int_equal(mpt_maplist_push(&ml, &a), 0);
	assert_int_equal(mpt_maplist_count(&ml), 2);
	assert_true(mpt_maplist_first(&ml)->dsn == 1000);
	assert_true(mpt_maplist_at(&ml, 1)->dsn == 1100);
	assert_null(mpt_maplist_at(&ml, 2));
	/* csum is compared only when present. */
	{
		struct mpt_map c = M(2000, 151, 10), c2;

		c.csum = 0x1111;
		c2 = c;
		c2.csum = 0x2222; /* garbage without has_csum: same mapping */
		assert_int_equal(mpt_maplist_push(&ml, &c), 0);
		assert_int_equal(mpt_maplist_push(&ml, &c2), 0);
		assert_int_equal(mpt_maplist_count(&ml), 3);

		c = M(3000, 161, 10);
		c.has_csum = true;
		c.csum = 0x1234;
		c2 = c;
		c2.csum = 0x4321;
		assert_int_equal(mpt_maplist_push(&ml, &c), 0);
		assert_int_equal(mpt_maplist_push(&ml, &c2), MPT_ERR_PROTO);
		c2 = c;
		c2.has_csum = false;
		assert_int_equal(mpt_maplist_push(&ml, &c2), MPT_ERR_PROTO);
		c2 = c;
		c2.data_fin = true;
		assert_int_equal(mpt_maplist_push(&ml, &c2), MPT_ERR_PROTO);
		assert_int_equal(mpt_maplist_count(&ml), 4);
		assert_true(mpt_maplist_at(&ml, 3)->csum == 0x1234);
	}
	mpt_maplist_free(&ml);
}

static void test_overlap_rejected(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map m;

	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 8), 0);
	m = M(1000, 100, 100); /* [100, 200) */
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	m = M(1000, 150, 100); /* starts inside */
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_PROTO);
	m = M(1000, 199, 1); /* last byte */
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_PROTO);
	m = M(1000, 100, 50); /* same start, different length */
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_PROTO);
	m = M(1001, 100, 100); /* same subflow range, other DSN */
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_PROTO);
	m = M(900, 50, 10); /* wholly before: not held */
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_PROTO);
	assert_int_equal(mpt_maplist_count(&ml), 1);
	m = M(1100, 200, 10); /* adjacent: fine */
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	m = M(5000, 300, 10); /* gap in subflow space: fine */
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	assert_int_equal(mpt_maplist_count(&ml), 3);
	mpt_maplist_free(&ml);
}

/* A mapping pushed before its bytes went out shrinks to what TCP took, or
 * goes (sched.c send_chunk): the next one then starts right after it. */
static void test_replace_last(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map m;

	(void)state;
	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 4), 0);
	mpt_maplist_replace_last(&ml, NULL); /* empty: nothing */
	assert_int_equal(mpt_maplist_count(&ml), 0);
	m = M(1000, 100, 100);
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	m = M(1100, 200, 100);
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	m = M(1100, 200, 40); /* TCP took 40 of 100 */
	mpt_maplist_replace_last(&ml, &m);
	assert_int_equal(mpt_maplist_count(&ml), 2);
	assert_null(mpt_maplist_find(&ml, 240));
	assert_int_equal(mpt_maplist_find(&ml, 239)->dsn, 1100);
	m = M(1140, 240, 10); /* the next chunk starts where TCP's bytes end */
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	mpt_maplist_replace_last(&ml, NULL); /* TCP took none of it */
	assert_int_equal(mpt_maplist_count(&ml), 2);
	assert_null(mpt_maplist_find(&ml, 245));
	mpt_maplist_free(&ml);
}

/* Room grows by doubling up to the maximum, keeping order across the
 * ring's wrap; beyond it MPT_ERR_LIMIT; out of memory leaves it as it was. */
static void test_reserve(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map m;

	(void)state;
	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 4), 0);
	mpt_maplist_set_max(&ml, 16);
	for (uint32_t i = 0; i < 4; i++) {
		m = M(1000 + 10 * i, 100 + 10 * i, 10);
		assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	}
	mpt_maplist_drop_before(&ml, 120); /* head moves: the ring wraps below */
	m = M(1040, 140, 10);
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	assert_int_equal(
	    mpt_maplist_push(&ml, &(struct mpt_map){.dsn = 1050, .ssn = 150, .len = 10}), 0);
	assert_int_equal(mpt_maplist_count(&ml), 4);
	assert_int_equal(
	    mpt_maplist_push(&ml, &(struct mpt_map){.dsn = 1060, .ssn = 160, .len = 10}),
	    MPT_ERR_LIMIT);
	tm.fail_at = tm.allocs; /* the next allocation fails */
	assert_int_equal(mpt_maplist_reserve(&ml, 5), MPT_ERR_NOMEM);
	tm.fail_at = -1;
	assert_int_equal(ml.cap, 4);
	assert_int_equal(mpt_maplist_reserve(&ml, 5), 0);
	assert_int_equal(ml.cap, 8);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(mpt_maplist_at(&ml, i)->ssn, 120 + 10 * i);
	assert_int_equal(mpt_maplist_find(&ml, 155)->dsn, 1050);
	assert_int_equal(mpt_maplist_reserve(&ml, 17), MPT_ERR_LIMIT);
	assert_int_equal(mpt_maplist_reserve(&ml, 16), 0);
	assert_int_equal(ml.cap, 16);
	mpt_maplist_free(&ml);
}

static void test_limit(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map m;
	uint32_t i;

	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 4), 0);
	for (i = 0; i < 4; i++) {
		m = M(10 * i, 10 * i, 10);
		assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	}
	m = M(40, 40, 10);
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_LIMIT);
	/* A repeat of the newest is still fine when full. */
	m = M(30, 30, 10);
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	assert_int_equal(mpt_maplist_count(&ml), 4);
	/* Drop two, push two more: the ring wraps. */
	mpt_maplist_drop_before(&ml, 20);
	assert_int_equal(mpt_maplist_count(&ml), 2);
	for (i = 4; i < 6; i++) {
		m = M(10 * i, 10 * i, 10);
		assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	}
	m = M(60, 60, 10);
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_LIMIT);
	for (i = 0; i < 4; i++)
		assert_true(mpt_maplist_at(&ml, i)->ssn == 20 + 10 * i);
	for (i = 20; i < 60; i++) {
		const struct mpt_map *f = mpt_maplist_find(&ml, i);

		assert_non_null(f);
		assert_true(f->ssn == i / 10 * 10);
	}
	assert_null(mpt_maplist_find(&ml, 19));
	assert_null(mpt_maplist_find(&ml, 60));
	mpt_maplist_clear(&ml);
	assert_int_equal(mpt_maplist_count(&ml), 0);
	mpt_maplist_free(&ml);
}

static void test_find_drop(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map m;

	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 8), 0);
	m = M(1000, 100, 100); /* [100,200) */
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	m = M(2000, 200, 1); /* [200,201) */
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	m = M(3000, 300, 50); /* [300,350) after a gap */
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);

	assert_null(mpt_maplist_find(&ml, 99));
	assert_true(mpt_maplist_find(&ml, 100)->dsn == 1000);
	assert_true(mpt_maplist_find(&ml, 199)->dsn == 1000);
	assert_true(mpt_maplist_find(&ml, 200)->dsn == 2000);
	assert_null(mpt_maplist_find(&ml, 201));
	assert_null(mpt_maplist_find(&ml, 299));
	assert_true(mpt_maplist_find(&ml, 300)->dsn == 3000);
	assert_true(mpt_maplist_find(&ml, 349)->dsn == 3000);
	assert_null(mpt_maplist_find(&ml, 350));
	assert_null(mpt_maplist_find(&ml, 100u + 0x80000000u)); /* far away */

	mpt_maplist_drop_before(&ml, 199); /* [100,200) does not end at or before 199 */
	assert_int_equal(mpt_maplist_count(&ml), 3);
	mpt_maplist_drop_before(&ml, 200);
	assert_int_equal(mpt_maplist_count(&ml), 2);
	assert_true(mpt_maplist_first(&ml)->dsn == 2000);
	mpt_maplist_drop_before(&ml, 250); /* also drops [200,201), not [300,350) */
	assert_int_equal(mpt_maplist_count(&ml), 1);
	mpt_maplist_drop_before(&ml, 100); /* older point: no-op */
	assert_int_equal(mpt_maplist_count(&ml), 1);
	mpt_maplist_drop_before(&ml, 350);
	assert_int_equal(mpt_maplist_count(&ml), 0);
	assert_null(mpt_maplist_find(&ml, 300));
	mpt_maplist_free(&ml);
}

static void test_infinite(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map m;

	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 8), 0);
	m = M(1000, 100, 100);
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	m = M(1100, 200, 0); /* infinite from 200 */
	assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	assert_int_equal(mpt_maplist_push(&ml, &m), 0); /* repeat */
	assert_int_equal(mpt_maplist_count(&ml), 2);
	assert_true(mpt_maplist_find(&ml, 200)->len == 0);
	assert_true(mpt_maplist_find(&ml, 200u + 1000000u)->len == 0);
	assert_true(mpt_maplist_find(&ml, 150)->len == 100);
	assert_true(mpt_map_covers(&m, 200));
	assert_false(mpt_map_covers(&m, 199));
	/* Nothing can follow an infinite mapping. */
	m = M(5000, 5000, 10);
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_PROTO);
	/* It is never dropped. */
	mpt_maplist_drop_before(&ml, 100000);
	assert_int_equal(mpt_maplist_count(&ml), 1);
	assert_true(mpt_maplist_first(&ml)->len == 0);
	mpt_maplist_free(&ml);
}

/* Relative subflow numbers wrap at 2^32: order, find and drop must not care. */
static void test_wrap32(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map m;
	const uint32_t base = 0xffffff00u;
	uint32_t i;

	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 16), 0);
	for (i = 0; i < 10; i++) {
		m = M(7000 + 64 * i, base + 64 * i, 64); /* crosses 0 at i == 4 */
		assert_int_equal(mpt_maplist_push(&ml, &m), 0);
	}
	/* Overlap across the wrap is still detected. */
	m = M(1, base + 64 * 9 + 10, 5);
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_PROTO);
	m = M(1, base + 64 * 3 + 60, 20); /* straddles 0, overlaps held ones */
	assert_int_equal(mpt_maplist_push(&ml, &m), MPT_ERR_PROTO);
	/* A mapping straddling 2^32 itself. */
	for (i = 0; i < 640; i++) {
		const struct mpt_map *f = mpt_maplist_find(&ml, base + i);

		assert_non_null(f);
		assert_true(f->dsn == 7000 + 64 * (i / 64));
		assert_true(mpt_map_covers(f, base + i));
	}
	assert_null(mpt_maplist_find(&ml, base - 1));
	assert_null(mpt_maplist_find(&ml, base + 640));
	mpt_maplist_drop_before(&ml, 5); /* 0xffffff00 + 261: drops the 4 before 0 */
	assert_int_equal(mpt_maplist_count(&ml), 6);
	assert_true(mpt_maplist_first(&ml)->ssn == base + 256);
	assert_true(mpt_maplist_find(&ml, 0)->ssn == base + 256);
	assert_null(mpt_maplist_find(&ml, 0xfffffff0u));
	{
		struct mpt_map s = M(1, 0xfffffffcu, 8); /* [2^32-4, 4) */

		assert_true(mpt_map_covers(&s, 0xfffffffcu));
		assert_true(mpt_map_covers(&s, 3));
		assert_false(mpt_map_covers(&s, 4));
		assert_false(mpt_map_covers(&s, 0xfffffffbu));
	}
	mpt_maplist_free(&ml);
}

/* find on a large, wrapped ring against a linear scan. */
static void test_find_many(void **state)
{
	struct mpt_maplist ml;
	struct mpt_map m;
	uint32_t ssn = 0xfff00000u;
	uint64_t dsn = 1;
	uint32_t x = 12345;

	assert_int_equal(mpt_maplist_init(&ml, &tm.mem, 256), 0);
	for (int round = 0; round < 40; round++) {
		while (mpt_maplist_count(&ml) < 256) {
			x = x * 1103515245u + 12345u;
			ssn += (x >> 16) % 3 == 0 ? (x >> 20) % 50 : 0; /* sometimes a gap */
			m = M(dsn, ssn, 1 + (x >> 8) % 2000);
			assert_int_equal(mpt_maplist_push(&ml, &m), 0);
			ssn += m.len;
			dsn += m.len;
		}
		for (int q = 0; q < 500; q++) {
			const struct mpt_map *first = mpt_maplist_first(&ml), *want = NULL;
			uint32_t probe;

			x = x * 1103515245u + 12345u;
			probe = first->ssn - 100 + x % (ssn - first->ssn + 200);
			for (size_t i = 0; i < mpt_maplist_count(&ml); i++) {
				const struct mpt_map *c = mpt_maplist_at(&ml, i);

				if ((uint32_t)(probe - c->ssn) < c->len)
					want = c;
			}
			assert_ptr_equal(mpt_maplist_find(&ml, probe), want);
		}
		/* Drop a varying prefix. */
		mpt_maplist_drop_before(&ml, mpt_maplist_at(&ml, (size_t)round * 5 % 200)->ssn);
	}
	mpt_maplist_free(&ml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_dedup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlap_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_last, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_drop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_infinite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrap32, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_many, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
