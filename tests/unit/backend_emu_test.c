/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulation (src/backend/emu.c): delay, ordering, seeded loss, token bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backend/emu.h"
#include "common.h"

#define MS MPT_NS_PER_MS

static struct mpt_emu *mk(const struct mpt_emu_cfg *c)
{
	struct mpt_emu *e = NULL;
	assert_int_equal(mpt_emu_create(NULL, c, &e), 0);
	assert_non_null(e);
	return e;
}

static void fill(uint8_t *p, size_t len, uint32_t id)
{
	memset(p, 0, len);
	memcpy(p, &id, sizeof(id));
}

static uint32_t id_of(const uint8_t *p)
{
	uint32_t id;
	memcpy(&id, p, sizeof(id));
	return id;
}

/* A fixed delay: nothing before push time + delay, everything in order. */
static void test_delay_order(void **state)
{
	(void)state;
	struct mpt_emu_cfg c = {.delay_ns = 20 * MS};
	struct mpt_emu *e = mk(&c);
	uint8_t pkt[100], out[200];
	for (uint32_t i = 0; i < 50; i++) {
		fill(pkt, sizeof(pkt), i);
		assert_int_equal(mpt_emu_push(e, pkt, sizeof(pkt), 1000 * MS + i * MS / 2),
				 MPT_EMU_QUEUED);
	}
	assert_int_equal(mpt_emu_queued(e), 50);
	assert_int_equal(mpt_emu_next_due(e), 1020 * MS);
	assert_int_equal(mpt_emu_pop(e, 1020 * MS - 1, out, sizeof(out)), MPT_ERR_AGAIN);
	uint32_t next = 0;
	for (uint64_t t = 1020 * MS; t <= 1050 * MS; t += MS / 10) {
		long n;
		while ((n = mpt_emu_pop(e, t, out, sizeof(out))) != MPT_ERR_AGAIN) {
			assert_int_equal(n, sizeof(pkt));
			assert_int_equal(id_of(out), next);
			/* Released no earlier than due, and within one poll step. */
			uint64_t due = 1000 * MS + next * MS / 2 + 20 * MS;
			assert_true(t >= due);
			assert_true(t < due + MS / 10);
			next++;
		}
	}
	assert_int_equal(next, 50);
	assert_int_equal(mpt_emu_next_due(e), MPT_TIME_NEVER);
	struct mpt_emu_stats st;
	mpt_emu_stats(e, &st);
	assert_int_equal(st.in, 50);
	assert_int_equal(st.out, 50);
	assert_int_equal(st.lost + st.dropped, 0);
	mpt_emu_destroy(e);
}

/* A clock that steps back never makes a packet overtake the one ahead. */
static void test_fifo_clock_step(void **state)
{
	(void)state;
	struct mpt_emu_cfg c = {.delay_ns = 5 * MS};
	struct mpt_emu *e = mk(&c);
	uint8_t pkt[10] = {1}, out[10];
	assert_int_equal(mpt_emu_push(e, pkt, sizeof(pkt), 100 * MS), MPT_EMU_QUEUED);
	pkt[0] = 2;
	assert_int_equal(mpt_emu_push(e, pkt, sizeof(pkt), 90 * MS), MPT_EMU_QUEUED);
	assert_int_equal(mpt_emu_pop(e, 105 * MS, out, sizeof(out)), 10);
	assert_int_equal(out[0], 1);
	assert_int_equal(mpt_emu_pop(e, 105 * MS, out, sizeof(out)), 10);
	assert_int_equal(out[0], 2);
	mpt_emu_destroy(e);
}

static uint64_t count_lost(uint64_t seed, double loss, int n, uint8_t *pattern)
{
	struct mpt_emu_cfg c = {.loss = loss, .seed = seed, .queue_pkts = 16};
	struct mpt_emu *e = mk(&c);
	uint8_t pkt[64] = {0}, out[64];
	uint64_t lost = 0;
	for (int i = 0; i < n; i++) {
		int rc = mpt_emu_push(e, pkt, sizeof(pkt), (uint64_t)i);
		assert_true(rc == MPT_EMU_QUEUED || rc == MPT_EMU_LOST);
		if (pattern)
			pattern[i] = rc == MPT_EMU_LOST;
		lost += rc == MPT_EMU_LOST;
		while (mpt_emu_pop(e, (uint64_t)i, out, sizeof(out)) > 0)
			;
	}
	struct mpt_emu_stats st;
	mpt_emu_stats(e, &st);
	assert_int_equal(st.lost, lost);
	assert_int_equal(st.out + st.lost, (uint64_t)n);
	mpt_emu_destroy(e);
	return lost;
}

/* Loss follows the configured rate and replays exactly for a seed. */
static void test_loss_seeded(void **state)
{
	(void)state;
	enum { N = 100000 };
	static uint8_t p1[N], p2[N], p3[N];
	uint64_t l1 = count_lost(42, 0.01, N, p1);
	/* 1 % of 100000: 1000, sd ~31; +-15 % is ~5 sd. */
	assert_true(l1 > 850 && l1 < 1150);
	assert_int_equal(count_lost(42, 0.01, N, p2), l1);
	assert_memory_equal(p1, p2, N);
	(void)count_lost(43, 0.01, N, p3);
	assert_memory_not_equal(p1, p3, N);
	uint64_t l10 = count_lost(7, 0.10, N, NULL);
	assert_true(l10 > 9500 && l10 < 10500);
	assert_int_equal(count_lost(7, 0.0, 1000, NULL), 0);
	assert_int_equal(count_lost(7, 1.0, 1000, NULL), 1000);
}

/* Token bucket: after the initial burst, packets leave at exactly the rate. */
static void test_rate(void **state)
{
	(void)state;
	struct mpt_emu_cfg c = {.rate_bps = 10000000, /* 10 Mbit/s = 1.25 MB/s */
				.burst_bytes = 5000,
				.queue_bytes = 4000000,
				.queue_pkts = 4096};
	struct mpt_emu *e = mk(&c);
	uint8_t pkt[1250] = {0};
	static uint8_t out[2000];
	for (int i = 0; i < 2000; i++)
		assert_int_equal(mpt_emu_push(e, pkt, sizeof(pkt), 0), MPT_EMU_QUEUED);
	uint64_t first_after_burst = 0, last = 0;
	for (int i = 0; i < 2000; i++) {
		uint64_t due = mpt_emu_next_due(e);
		if (i < 4)
			assert_int_equal(due, 0); /* 5000-byte burst: 4 packets at once */
		if (i == 4)
			first_after_burst = due;
		assert_true(due >= last);
		last = due;
		assert_int_equal(mpt_emu_pop(e, due, out, sizeof(out)), sizeof(pkt));
	}
	/* 1250 B at 1.25 MB/s: one packet per ms. */
	assert_int_equal(first_after_burst, 1 * MS);
	double rate = 1995.0 * 1250 * 8 / ((double)(last - first_after_burst) / 1e9);
	assert_true(rate > 9.99e6 && rate < 10.01e6);

	/* After idling, the bucket is full again but no fuller than burst. */
	uint64_t t = 10 * MPT_NS_PER_S;
	for (int i = 0; i < 5; i++)
		assert_int_equal(mpt_emu_push(e, pkt, sizeof(pkt), t), MPT_EMU_QUEUED);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mpt_emu_next_due(e), t);
		assert_true(mpt_emu_pop(e, t, out, sizeof(out)) > 0);
	}
	assert_int_equal(mpt_emu_next_due(e), t + 1 * MS);
	mpt_emu_destroy(e);
}

/* The backlog waiting for tokens is bounded (tail drop), as is the count. */
static void test_bounds(void **state)
{
	(void)state;
	struct mpt_emu_cfg c = {.rate_bps = 8000000, .burst_bytes = 3000, .queue_bytes = 10000};
	struct mpt_emu *e = mk(&c);
	uint8_t pkt[1000] = {0}, small[10];
	int queued = 0, dropped = 0;
	for (int i = 0; i < 100; i++) {
		int rc = mpt_emu_push(e, pkt, sizeof(pkt), 0);
		queued += rc == MPT_EMU_QUEUED;
		dropped += rc == MPT_EMU_DROPPED;
	}
	/* 3 in the burst, then about 10 waiting. */
	assert_true(queued >= 12 && queued <= 14);
	assert_int_equal(queued + dropped, 100);
	/* A packet larger than the caller's buffer is discarded, not truncated. */
	assert_int_equal(mpt_emu_pop(e, 0, small, sizeof(small)), MPT_ERR_NOSPACE);
	struct mpt_emu_stats st;
	mpt_emu_stats(e, &st);
	assert_int_equal(st.dropped, (uint64_t)dropped + 1);
	mpt_emu_destroy(e);

	struct mpt_emu_cfg d = {.delay_ns = MS, .queue_pkts = 8};
	e = mk(&d);
	for (int i = 0; i < 8; i++)
		assert_int_equal(mpt_emu_push(e, pkt, 10, 0), MPT_EMU_QUEUED);
	assert_int_equal(mpt_emu_push(e, pkt, 10, 0), MPT_EMU_DROPPED);
	assert_int_equal(mpt_emu_push(e, pkt, 0, 0), MPT_ERR_INVAL);
	mpt_emu_destroy(e); /* frees the queued packets (ASan checks) */

	struct mpt_emu *bad = NULL;
	struct mpt_emu_cfg b = {.loss = 1.5};
	assert_int_equal(mpt_emu_create(NULL, &b, &bad), MPT_ERR_INVAL);
	b.loss = -0.1;
	assert_int_equal(mpt_emu_create(NULL, &b, &bad), MPT_ERR_INVAL);
	assert_null(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delay_order), cmocka_unit_test(test_fifo_clock_step),
	    cmocka_unit_test(test_loss_seeded), cmocka_unit_test(test_rate),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
