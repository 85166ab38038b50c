/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP data-level send buffer (src/mptcp/dsnd.c): bounded writes, DATA_ACK
 * release, copies and zero-copy views (peek) across the ring wrap, ignored out-of-range acks, and a
 * DSN space that wraps at 2^64.
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

static uint8_t pat(uint64_t dsn)
{
	return (uint8_t)(dsn * 131u + (dsn >> 8) * 7u + 3u);
}

static void fill(uint8_t *p, uint64_t dsn, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pat(dsn + i);
}

static void check_range(const struct mpt_dsnd *b, uint64_t dsn, size_t n)
{
	uint8_t out[4096];

	assert_true(n <= sizeof(out));
	assert_int_equal(mpt_dsnd_copy(b, dsn, out, n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i], pat(dsn + i));
}

/* mpt_dsnd_peek: the pieces, in order, are the bytes of [dsn, dsn + n),
 * and point into the buffer (no copy): two exactly when the ring wraps. */
static void check_peek(const struct mpt_dsnd *b, uint64_t dsn, size_t n, int pieces)
{
	const uint8_t *p[2];
	size_t pn[2];

	assert_int_equal(mpt_dsnd_peek(b, dsn, n, p, pn), 0);
	assert_int_equal(pn[0] + pn[1], n);
	assert_int_equal((pn[0] > 0) + (pn[1] > 0), pieces);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *at = i < pn[0] ? p[0] + i : p[1] + (i - pn[0]);
		assert_true(at >= b->buf && at < b->buf + b->cap);
		assert_int_equal(*at, pat(dsn + i));
	}
}

static void test_peek_pieces(void **state)
{
	struct mpt_dsnd b;
	uint8_t src[48];
	const uint8_t *p[2];
	size_t pn[2];

	/* 64-byte ring from DSN 1024: DSN d sits at d % 64. */
	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 64, 1024), 0);
	fill(src, 1024, 48);
	assert_int_equal(mpt_dsnd_write(&b, src, 48), 48);
	check_peek(&b, 1024, 48, 1);
	assert_int_equal(mpt_dsnd_ack(&b, 1064), 40);
	fill(src, 1072, 40);
	assert_int_equal(mpt_dsnd_write(&b, src, 40), 40); /* wraps after 16 */
	check_peek(&b, 1064, 48, 2);
	check_peek(&b, 1069, 10, 1);
	check_peek(&b, 1088, 24, 1); /* all after the wrap */
	check_peek(&b, 1112, 0, 0);
	/* The same bounds as mpt_dsnd_copy; nothing pointed at on refusal. */
	assert_int_equal(mpt_dsnd_peek(&b, 1063, 1, p, pn), MPT_ERR_INVAL);
	assert_int_equal(mpt_dsnd_peek(&b, 1104, 9, p, pn), MPT_ERR_INVAL);
	assert_true(p[0] == NULL && p[1] == NULL && pn[0] == 0 && pn[1] == 0);
	mpt_dsnd_free(&b);
}

static void test_init_errors(void **state)
{
	struct mpt_dsnd b;

	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 0, 1), MPT_ERR_INVAL);
	assert_int_equal(mpt_dsnd_init(&b, NULL, 10, 1), MPT_ERR_INVAL);
	assert_int_equal(mpt_dsnd_init(NULL, &tm.mem, 10, 1), MPT_ERR_INVAL);
	tm.fail_at = 0;
	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 10, 1), MPT_ERR_NOMEM);
	mpt_dsnd_free(&b); /* safe after a failed init */
	tm.fail_at = -1;
	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 10, 77), 0);
	assert_int_equal(b.una, 77);
	assert_int_equal(b.end, 77);
	assert_int_equal(mpt_dsnd_space(&b), 10);
	assert_int_equal(mpt_dsnd_used(&b), 0);
	mpt_dsnd_free(&b);
	mpt_dsnd_free(&b); /* idempotent */
}

static void test_write_until_full(void **state)
{
	struct mpt_dsnd b;
	uint8_t src[100];

	fill(src, 1000, sizeof(src));
	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 64, 1000), 0);
	assert_int_equal(mpt_dsnd_write(&b, src, 40), 40);
	assert_int_equal(mpt_dsnd_space(&b), 24);
	/* Partial write: only the free space is taken. */
	assert_int_equal(mpt_dsnd_write(&b, src + 40, 60), 24);
	assert_int_equal(mpt_dsnd_space(&b), 0);
	assert_int_equal(mpt_dsnd_used(&b), 64);
	assert_int_equal(b.end, 1064);
	assert_int_equal(mpt_dsnd_write(&b, src + 64, 10), 0);
	assert_int_equal(mpt_dsnd_write(&b, src, 0), 0);
	assert_int_equal(mpt_dsnd_write(&b, NULL, 5), 0);
	check_range(&b, 1000, 64);
	mpt_dsnd_free(&b);
}

static void test_ack_in_pieces(void **state)
{
	struct mpt_dsnd b;
	uint8_t src[64];

	fill(src, 5000, sizeof(src));
	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 64, 5000), 0);
	assert_int_equal(mpt_dsnd_write(&b, src, 64), 64);
	assert_int_equal(mpt_dsnd_ack(&b, 5010), 10);
	assert_int_equal(b.una, 5010);
	assert_int_equal(mpt_dsnd_space(&b), 10);
	check_range(&b, 5010, 54);
	/* The released byte is gone. */
	{
		uint8_t x;

		assert_int_equal(mpt_dsnd_copy(&b, 5009, &x, 1), MPT_ERR_INVAL);
	}
	assert_int_equal(mpt_dsnd_ack(&b, 5011), 1);
	assert_int_equal(mpt_dsnd_ack(&b, 5064), 53);
	assert_int_equal(mpt_dsnd_used(&b), 0);
	assert_int_equal(mpt_dsnd_space(&b), 64);
	mpt_dsnd_free(&b);
}

static void test_ack_outside_ignored(void **state)
{
	struct mpt_dsnd b;
	uint8_t src[32];

	fill(src, 100, sizeof(src));
	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 64, 100), 0);
	assert_int_equal(mpt_dsnd_write(&b, src, 32), 32);
	assert_int_equal(mpt_dsnd_ack(&b, 110), 10);
	assert_int_equal(mpt_dsnd_ack(&b, 110), 0); /* == una: nothing new */
	assert_int_equal(mpt_dsnd_ack(&b, 105), 0); /* old */
	assert_int_equal(mpt_dsnd_ack(&b, 133), 0); /* beyond end */
	assert_int_equal(mpt_dsnd_ack(&b, 0), 0);   /* far behind */
	assert_int_equal(mpt_dsnd_ack(&b, UINT64_MAX), 0);
	assert_int_equal(b.una, 110);
	assert_int_equal(b.end, 132);
	assert_int_equal(mpt_dsnd_ack(&b, 132), 22); /* exactly end */
	assert_int_equal(b.una, 132);
	mpt_dsnd_free(&b);
}

static void test_copy_bounds(void **state)
{
	struct mpt_dsnd b;
	uint8_t src[32], out[64];

	fill(src, 100, sizeof(src));
	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 64, 100), 0);
	assert_int_equal(mpt_dsnd_write(&b, src, 32), 32);
	assert_int_equal(mpt_dsnd_copy(&b, 100, out, 32), 0);
	assert_int_equal(mpt_dsnd_copy(&b, 100, out, 33), MPT_ERR_INVAL);
	assert_int_equal(mpt_dsnd_copy(&b, 99, out, 1), MPT_ERR_INVAL);
	assert_int_equal(mpt_dsnd_copy(&b, 131, out, 1), 0);
	assert_int_equal(mpt_dsnd_copy(&b, 131, out, 2), MPT_ERR_INVAL);
	assert_int_equal(mpt_dsnd_copy(&b, 132, out, 0), 0);
	assert_int_equal(mpt_dsnd_copy(&b, 133, out, 0), MPT_ERR_INVAL);
	assert_int_equal(mpt_dsnd_copy(&b, 120, out, SIZE_MAX), MPT_ERR_INVAL);
	assert_int_equal(mpt_dsnd_copy(&b, 100, NULL, 4), MPT_ERR_INVAL);
	mpt_dsnd_free(&b);
}

/* Write/ack cycles so the ring wraps many times; copies straddle the end of the array. */
static void run_wrap(uint64_t isn, size_t cap)
{
	struct mpt_dsnd b;
	uint8_t src[300];
	uint64_t wr = isn;
	unsigned step;

	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, cap, isn), 0);
	for (step = 0; step < 2000; step++) {
		size_t want = 1 + (step * 37u) % 150u;
		size_t space = mpt_dsnd_space(&b);
		size_t n;

		fill(src, wr, want);
		n = mpt_dsnd_write(&b, src, want);
		assert_int_equal(n, want < space ? want : space);
		assert_int_equal(mpt_dsnd_space(&b), space - n);
		wr += n;
		assert_true(b.end == wr);
		assert_true(mpt_dsnd_used(&b) <= cap);
		/* Whole held range and a few sub-ranges compare equal. */
		check_range(&b, b.una, mpt_dsnd_used(&b));
		if (mpt_dsnd_used(&b) > 3)
			check_range(&b, b.una + 1, mpt_dsnd_used(&b) - 3);
		/* Ack a varying part. */
		{
			size_t a = (step * 53u) % (mpt_dsnd_used(&b) + 1);
			uint64_t old = b.una;

			assert_int_equal(mpt_dsnd_ack(&b, old + a), a);
			assert_true(b.una == old + a);
		}
	}
	mpt_dsnd_free(&b);
}

static void test_copy_across_wrap(void **state)
{
	run_wrap(1, 200);
	run_wrap(12345, 257);
}

static void test_isn_near_2_64(void **state)
{
	struct mpt_dsnd b;
	uint64_t isn = UINT64_MAX - 1000 + 1; /* 2^64 - 1000 */
	uint8_t src[3000];

	run_wrap(isn, 200);
	run_wrap(UINT64_MAX, 64);

	/* One large buffer straddling 2^64. */
	assert_int_equal(mpt_dsnd_init(&b, &tm.mem, 3000, isn), 0);
	fill(src, isn, sizeof(src));
	assert_int_equal(mpt_dsnd_write(&b, src, 3000), 3000);
	assert_true(b.end == 2000); /* wrapped */
	check_range(&b, isn, 3000);
	check_range(&b, UINT64_MAX - 5, 20); /* spans the wrap point */
	assert_int_equal(mpt_dsnd_ack(&b, 5), 1000 + 5);
	assert_true(b.una == 5);
	/* An ack "below" una across the wrap is old. */
	assert_int_equal(mpt_dsnd_ack(&b, UINT64_MAX), 0);
	assert_int_equal(mpt_dsnd_ack(&b, 2001), 0);
	check_range(&b, 5, 1995);
	{
		uint8_t x;

		assert_int_equal(mpt_dsnd_copy(&b, UINT64_MAX, &x, 1), MPT_ERR_INVAL);
	}
	assert_int_equal(mpt_dsnd_ack(&b, 2000), 1995);
	mpt_dsnd_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_until_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ack_in_pieces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ack_outside_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_across_wrap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peek_pieces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_isn_near_2_64, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
