/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP data-level reassembly (src/mptcp/drcv.c): in-order delivery, every
 * overlap pattern of out-of-order data (first copy wins), duplicates below
 * nxt, trimming at the window edge, the out-of-order range limit, window
 * accounting, and a randomized reassembly against a byte-level model.
 * Every scenario runs with DSNs that cross 2^64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/splitmix.h"
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

/* Every deterministic scenario runs at these initial DSNs (the last two wrap). */
static const uint64_t isns[] = {1000, UINT64_MAX - 1000 + 1, UINT64_MAX - 14};

static uint64_t ISN; /* current scenario's isn */
static struct mpt_drcv R;

static void start(size_t cap)
{
	assert_int_equal(mpt_drcv_init(&R, &tm.mem, cap, ISN), 0);
}

/* Insert [off, off+len) (offsets from ISN) filled with byte c. */
static long put(uint64_t off, size_t len, uint8_t c)
{
	uint8_t buf[512];

	assert_true(len <= sizeof(buf));
	memset(buf, c, len);
	return mpt_drcv_insert(&R, ISN + off, buf, len);
}

static void expect_ranges(size_t n, const uint64_t *se)
{
	assert_int_equal(R.nranges, n);
	for (size_t i = 0; i < n; i++) {
		assert_true(R.ranges[i].start == ISN + se[2 * i]);
		assert_true(R.ranges[i].end == ISN + se[2 * i + 1]);
	}
}

/* Read exactly the bytes described by runs of (count, byte) pairs. */
static void expect_read(const size_t *runs, size_t nruns)
{
	uint8_t out[512];

	for (size_t i = 0; i < nruns; i++) {
		size_t n = runs[2 * i];

		assert_true(n <= sizeof(out));
		assert_int_equal(mpt_drcv_read(&R, out, n), n);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(out[k], (uint8_t)runs[2 * i + 1]);
	}
}

static void check_window(void)
{
	assert_true(R.nxt - R.read <= R.cap);
	assert_int_equal(mpt_drcv_readable(&R), (size_t)(R.nxt - R.read));
	assert_int_equal(mpt_drcv_window(&R), R.cap - (size_t)(R.nxt - R.read));
}

static void test_init_errors(void **state)
{
	struct mpt_drcv r;
	uint8_t b = 0;

	assert_int_equal(mpt_drcv_init(&r, &tm.mem, 0, 1), MPT_ERR_INVAL);
	assert_int_equal(mpt_drcv_init(&r, NULL, 8, 1), MPT_ERR_INVAL);
	assert_int_equal(mpt_drcv_init(NULL, &tm.mem, 8, 1), MPT_ERR_INVAL);
	tm.fail_at = 0;
	assert_int_equal(mpt_drcv_init(&r, &tm.mem, 8, 1), MPT_ERR_NOMEM);
	mpt_drcv_free(&r);
	tm.fail_at = -1;
	assert_int_equal(mpt_drcv_init(&r, &tm.mem, 8, 1), 0);
	assert_int_equal(mpt_drcv_insert(&r, 1, NULL, 4), MPT_ERR_INVAL);
	assert_int_equal(mpt_drcv_insert(&r, 1, &b, 0), 0);
	assert_int_equal(mpt_drcv_insert(&r, 1, NULL, 0), 0);
	assert_int_equal(mpt_drcv_readable(&r), 0);
	assert_int_equal(mpt_drcv_window(&r), 8);
	mpt_drcv_free(&r);
	mpt_drcv_free(&r);
}

static void sc_in_order(void)
{
	uint8_t out[64];

	start(100);
	assert_int_equal(put(0, 10, 'a'), 10);
	assert_int_equal(put(10, 10, 'b'), 10);
	assert_true(R.nxt == ISN + 20);
	assert_int_equal(R.nranges, 0);
	assert_int_equal(mpt_drcv_readable(&R), 20);
	assert_int_equal(mpt_drcv_window(&R), 80);
	{
		const size_t runs[] = {5, 'a', 5, 'a', 10, 'b'};

		expect_read(runs, 3);
	}
	assert_int_equal(mpt_drcv_read(&R, out, sizeof(out)), 0);
	assert_int_equal(mpt_drcv_window(&R), 100);
	check_window();
	mpt_drcv_free(&R);
}

/* New data entirely inside a held range: nothing stored, old bytes kept. */
static void sc_new_inside_old(void)
{
	start(100);
	assert_int_equal(put(10, 20, 'A'), 20);
	assert_int_equal(put(15, 5, 'B'), 0);
	assert_int_equal(put(10, 20, 'B'), 0); /* exact duplicate */
	{
		const uint64_t se[] = {10, 30};

		expect_ranges(1, se);
	}
	assert_int_equal(mpt_drcv_readable(&R), 0);
	assert_int_equal(put(0, 10, 'C'), 10);
	assert_true(R.nxt == ISN + 30);
	assert_int_equal(R.nranges, 0);
	{
		const size_t runs[] = {10, 'C', 20, 'A'};

		expect_read(runs, 2);
	}
	mpt_drcv_free(&R);
}

/* Held range entirely inside new data: only the two sides are stored. */
static void sc_old_inside_new(void)
{
	start(100);
	assert_int_equal(put(15, 5, 'A'), 5);
	assert_int_equal(put(10, 20, 'B'), 15);
	{
		const uint64_t se[] = {10, 30};

		expect_ranges(1, se);
	}
	assert_int_equal(put(0, 10, 'C'), 10);
	{
		const size_t runs[] = {10, 'C', 5, 'B', 5, 'A', 10, 'B'};

		expect_read(runs, 4);
	}
	mpt_drcv_free(&R);
}

/* Partial overlaps on either side of a held range. */
static void sc_partial_overlaps(void)
{
	start(100);
	assert_int_equal(put(10, 10, 'A'), 10);
	assert_int_equal(put(5, 10, 'B'), 5);  /* left overlap */
	assert_int_equal(put(15, 10, 'C'), 5); /* right overlap */
	{
		const uint64_t se[] = {5, 25};

		expect_ranges(1, se);
	}
	assert_int_equal(put(0, 7, 'D'), 5); /* in order, overlapping the range */
	assert_int_equal(R.nranges, 0);
	assert_true(R.nxt == ISN + 25);
	{
		const size_t runs[] = {5, 'D', 5, 'B', 10, 'A', 5, 'C'};

		expect_read(runs, 4);
	}
	mpt_drcv_free(&R);
}

/* New data spanning several held ranges, with partial overlaps at both ends. */
static void sc_spanning(void)
{
	start(200);
	assert_int_equal(put(10, 2, 'a'), 2);
	assert_int_equal(put(20, 5, 'b'), 5);
	assert_int_equal(put(30, 1, 'c'), 1);
	assert_int_equal(put(40, 10, 'd'), 10);
	assert_int_equal(put(60, 5, 'e'), 5);
	{
		const uint64_t se[] = {10, 12, 20, 25, 30, 31, 40, 50, 60, 65};

		expect_ranges(5, se);
	}
	/* [11, 45): overlaps a's end and d's start, swallows b and c. */
	assert_int_equal(put(11, 34, 'Z'), 34 - 1 - 5 - 1 - 5);
	{
		const uint64_t se[] = {10, 50, 60, 65};

		expect_ranges(2, se);
	}
	/* Fill [0,10) and [50,60): everything becomes in order. */
	assert_int_equal(put(50, 10, 'y'), 10);
	{
		const uint64_t se[] = {10, 65};

		expect_ranges(1, se);
	}
	assert_int_equal(put(0, 10, 'x'), 10);
	assert_int_equal(R.nranges, 0);
	assert_true(R.nxt == ISN + 65);
	{
		const size_t runs[] = {10, 'x', 2, 'a', 8,  'Z', 5,  'b', 5, 'Z',
				       1,  'c', 9, 'Z', 10, 'd', 10, 'y', 5, 'e'};

		expect_read(runs, 10);
	}
	mpt_drcv_free(&R);
}

/* Adjacent ranges merge (both sides), and a filled gap collapses three into one. */
static void sc_adjacent(void)
{
	start(100);
	assert_int_equal(put(10, 10, 'a'), 10);
	assert_int_equal(put(20, 10, 'b'), 10); /* touches the right end */
	assert_int_equal(put(5, 5, 'c'), 5);    /* touches the left start */
	{
		const uint64_t se[] = {5, 30};

		expect_ranges(1, se);
	}
	assert_int_equal(put(40, 5, 'd'), 5);
	assert_int_equal(put(50, 5, 'e'), 5);
	assert_int_equal(R.nranges, 3);
	assert_int_equal(put(45, 5, 'f'), 5); /* exactly fills the gap d..e */
	{
		const uint64_t se[] = {5, 30, 40, 55};

		expect_ranges(2, se);
	}
	assert_int_equal(put(30, 10, 'g'), 10); /* fills the gap between both */
	{
		const uint64_t se[] = {5, 55};

		expect_ranges(1, se);
	}
	assert_int_equal(put(0, 5, 'h'), 5); /* adjacent to nxt: all in order */
	assert_int_equal(R.nranges, 0);
	assert_true(R.nxt == ISN + 55);
	{
		const size_t runs[] = {5,  'h', 5, 'c', 10, 'a', 10, 'b',
				       10, 'g', 5, 'd', 5,  'f', 5,  'e'};

		expect_read(runs, 8);
	}
	mpt_drcv_free(&R);
}

/* Bytes below nxt are duplicates: ignored, even when they differ. */
static void sc_dup_below_nxt(void)
{
	start(100);
	assert_int_equal(put(0, 30, 'a'), 30);
	assert_int_equal(put(0, 30, 'X'), 0);
	assert_int_equal(put(10, 5, 'X'), 0);
	assert_int_equal(put(25, 10, 'b'), 5); /* first 5 are old */
	assert_true(R.nxt == ISN + 35);
	/* Far behind (half the DSN space away) counts as old, not as future. */
	{
		uint8_t b[4] = {1, 2, 3, 4};

		assert_int_equal(mpt_drcv_insert(&R, ISN - 5000, b, 4), 0);
		assert_int_equal(mpt_drcv_insert(&R, ISN + 35 - (1ull << 63), b, 4), 0);
		assert_int_equal(mpt_drcv_insert(&R, ISN + 34, b, 1), 0);
	}
	/* After reading, old bytes are still old. */
	{
		const size_t runs[] = {30, 'a', 5, 'b'};

		expect_read(runs, 2);
	}
	assert_int_equal(put(20, 10, 'X'), 0);
	assert_int_equal(mpt_drcv_readable(&R), 0);
	mpt_drcv_free(&R);
}

/* Data beyond read + cap is trimmed; the window reopens after a read. */
static void sc_window_edge(void)
{
	uint8_t out[100];

	start(100);
	assert_int_equal(put(90, 30, 'a'), 10);
	{
		const uint64_t se[] = {90, 100};

		expect_ranges(1, se);
	}
	assert_int_equal(put(100, 10, 'b'), 0);
	assert_int_equal(put(5000, 10, 'b'), 0);
	assert_int_equal(put(0, 200, 'c'), 90); /* fills to the edge */
	assert_int_equal(mpt_drcv_readable(&R), 100);
	assert_int_equal(mpt_drcv_window(&R), 0);
	assert_int_equal(put(100, 1, 'd'), 0); /* zero window */
	check_window();
	assert_int_equal(mpt_drcv_read(&R, out, 50), 50);
	assert_int_equal(mpt_drcv_window(&R), 50);
	assert_int_equal(put(95, 60, 'e'), 50); /* [100, 150) stored, rest trimmed */
	assert_true(R.nxt == ISN + 150);
	{
		const size_t runs[] = {40, 'c', 10, 'a', 50, 'e'};

		expect_read(runs, 3);
	}
	/* Window edge check with an out-of-order range right at the edge. */
	assert_int_equal(put(249, 5, 'f'), 1);
	{
		const uint64_t se[] = {249, 250};

		expect_ranges(1, se);
	}
	assert_int_equal(mpt_drcv_window(&R), 100);
	mpt_drcv_free(&R);
}

static void sc_range_limit(void)
{
	size_t i;
	/* Offsets past the ranges' region (500 and 600 with 64 ranges). */
	const uint64_t a = 4 * (uint64_t)MPT_DRCV_MAX_RANGES + 244, b = a + 100;

	start((size_t)a + 500);
	/* MPT_DRCV_MAX_RANGES isolated ranges: [2+4i, 3+4i). */
	for (i = 0; i < MPT_DRCV_MAX_RANGES; i++)
		assert_int_equal(put(2 + 4 * i, 1, 'r'), 1);
	assert_int_equal(R.nranges, MPT_DRCV_MAX_RANGES);
	/* A new isolated range: refused, nothing stored. */
	assert_int_equal(put(a, 10, 'X'), MPT_ERR_LIMIT);
	assert_int_equal(put(4 + 4 * (MPT_DRCV_MAX_RANGES - 1) + 1, 1, 'X'), MPT_ERR_LIMIT);
	assert_int_equal(R.nranges, MPT_DRCV_MAX_RANGES);
	/* Extending a held range needs no new slot. */
	assert_int_equal(put(3, 1, 's'), 1); /* [2,4) */
	assert_int_equal(R.nranges, MPT_DRCV_MAX_RANGES);
	/* Bridging two ranges frees a slot... */
	assert_int_equal(put(4, 2, 't'), 2); /* [2,7) */
	assert_int_equal(R.nranges, MPT_DRCV_MAX_RANGES - 1);
	/* ...which a new isolated range may then use. */
	assert_int_equal(put(a, 10, 'u'), 10);
	assert_int_equal(R.nranges, MPT_DRCV_MAX_RANGES);
	assert_int_equal(put(b, 10, 'X'), MPT_ERR_LIMIT);
	/* Data at nxt is always accepted, and merges the first range. */
	assert_int_equal(put(0, 2, 'v'), 2);
	assert_true(R.nxt == ISN + 7);
	assert_int_equal(R.nranges, MPT_DRCV_MAX_RANGES - 1);
	/* Fill everything up to a + 10; b was never stored so nxt stops there. */
	for (i = 7; i < a + 10; i++) {
		long rc = put(i, 1, 'w');

		assert_true(rc == 0 || rc == 1);
	}
	assert_true(R.nxt == ISN + a + 10);
	assert_int_equal(R.nranges, 0);
	{
		const size_t runs[] = {2, 'v', 1, 'r', 1, 's', 2, 't',
				       1, 'r', 3, 'w', 1, 'r', 3, 'w'};

		expect_read(runs, 8);
	}
	mpt_drcv_free(&R);
}

static void sc_read_in_pieces(void)
{
	uint8_t in[300], out[300];
	size_t got = 0;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	start(128); /* smaller than the data: the ring wraps */
	while (got < sizeof(in)) {
		uint64_t off = R.nxt - ISN;
		size_t n = sizeof(in) - (size_t)off;
		size_t win = mpt_drcv_window(&R);
		long rc = mpt_drcv_insert(&R, R.nxt, in + off, n);

		assert_int_equal(rc, (long)(n < win ? n : win));
		check_window();
		/* Read 1..17 bytes at a time. */
		for (size_t k = 1; mpt_drcv_readable(&R) > 0; k++) {
			size_t want = k % 17 + 1;
			size_t m = mpt_drcv_read(&R, out + got, want);

			assert_true(m <= want && m > 0);
			got += m;
			check_window();
		}
	}
	assert_memory_equal(in, out, sizeof(in));
	/* Discarding read. */
	assert_int_equal(put(300, 10, 'q'), 10);
	assert_int_equal(mpt_drcv_read(&R, NULL, 4), 4);
	assert_int_equal(mpt_drcv_readable(&R), 6);
	assert_int_equal(mpt_drcv_read(&R, out, 100), 6);
	mpt_drcv_free(&R);
}

/* Out-of-order data does not shrink the window (RFC 8684 §3.3.4: relative to DATA_ACK). */
static void sc_window_accounting(void)
{
	uint8_t out[50];

	start(100);
	assert_int_equal(mpt_drcv_window(&R), 100);
	assert_int_equal(put(50, 20, 'a'), 20);
	assert_int_equal(mpt_drcv_window(&R), 100);
	assert_int_equal(put(0, 30, 'b'), 30);
	assert_int_equal(mpt_drcv_window(&R), 70);
	assert_int_equal(mpt_drcv_readable(&R), 30);
	assert_int_equal(put(30, 20, 'c'), 20); /* joins [50,70) */
	assert_int_equal(mpt_drcv_window(&R), 30);
	assert_int_equal(mpt_drcv_read(&R, out, 25), 25);
	assert_int_equal(mpt_drcv_window(&R), 55);
	check_window();
	mpt_drcv_free(&R);
}

static void run_all_isns(void (*sc)(void))
{
	for (size_t i = 0; i < sizeof(isns) / sizeof(isns[0]); i++) {
		ISN = isns[i];
		sc();
		assert_int_equal(tm.live, 0);
	}
}

static void test_in_order(void **state)
{
	run_all_isns(sc_in_order);
}
static void test_new_inside_old(void **state)
{
	run_all_isns(sc_new_inside_old);
}
static void test_old_inside_new(void **state)
{
	run_all_isns(sc_old_inside_new);
}
static void test_partial_overlaps(void **state)
{
	run_all_isns(sc_partial_overlaps);
}
static void test_spanning(void **state)
{
	run_all_isns(sc_spanning);
}
static void test_adjacent(void **state)
{
	run_all_isns(sc_adjacent);
}
static void test_dup_below_nxt(void **state)
{
	run_all_isns(sc_dup_below_nxt);
}
static void test_window_edge(void **state)
{
	run_all_isns(sc_window_edge);
}
static void test_range_limit(void **state)
{
	run_all_isns(sc_range_limit);
}
static void test_read_in_pieces(void **state)
{
	run_all_isns(sc_read_in_pieces);
}
static void test_window_accounting(void **state)
{
	run_all_isns(sc_window_accounting);
}

/* ---- randomized reassembly against a byte-level model ------------------- */

static uint64_t rng;

static uint64_t splitmix64(void)
{
	return mpt_splitmix64(&rng);
}

static size_t rnd(size_t n) /* uniform-ish in [0, n) */
{
	return (size_t)(splitmix64() % n);
}

#define RT_MAX 6000

struct piece {
	size_t off, len;
};

/* The model: which stream offsets are held, in-order edge, run count. */
static bool mhave[RT_MAX + 2];
static size_t mnxt, mread, mruns;
static size_t undo[RT_MAX];
/* Coverage of the random test itself: it must hit these cases. */
static unsigned long n_inserts, n_limit, n_partial, n_dup;

/*
 * Apply [off, off+len) to the model as drcv_insert should: drop what is
 * below nxt or at/after read + cap, keep what is held.  Returns the expected
 * return value (new bytes or MPT_ERR_LIMIT, in which case the model is
 * unchanged).
 */
static long model_insert(size_t off, size_t len, size_t cap)
{
	size_t edge = mread + cap, nu = 0, old_nxt = mnxt, old_runs = mruns;

	for (size_t i = off; i < off + len; i++) {
		if (i < mnxt || i >= edge || mhave[i])
			continue;
		mhave[i] = true;
		undo[nu++] = i;
		if (i == mnxt) {
			/* In order: advance, absorbing a run that now touches nxt. */
			mnxt++;
			if (mhave[mnxt]) {
				mruns--;
				while (mhave[mnxt])
					mnxt++;
			}
		} else {
			bool l = i - 1 >= mnxt && mhave[i - 1];
			bool r = mhave[i + 1];

			mruns = mruns + 1 - (l ? 1 : 0) - (r ? 1 : 0);
		}
	}
	if (mruns > MPT_DRCV_MAX_RANGES) {
		while (nu > 0)
			mhave[undo[--nu]] = false;
		mnxt = old_nxt;
		mruns = old_runs;
		return MPT_ERR_LIMIT;
	}
	return (long)nu;
}

static void random_round(uint64_t isn, size_t total, size_t cap, size_t maxlen, size_t nextra)
{
	static uint8_t stream[RT_MAX], out[RT_MAX];
	static struct piece pieces[2 * RT_MAX];
	size_t np = 0, npend, steps = 0;
	struct mpt_drcv r;

	assert_true(total <= RT_MAX);
	for (size_t i = 0; i < total; i++)
		stream[i] = (uint8_t)splitmix64();
	/* A partition of the stream (so it can complete)... */
	for (size_t off = 0; off < total;) {
		size_t len = 1 + rnd(maxlen);

		if (len > total - off)
			len = total - off;
		pieces[np++] = (struct piece){off, len};
		off += len;
	}
	/* ...plus overlapping pieces anywhere. */
	for (size_t k = 0; k < nextra; k++) {
		size_t off = rnd(total);
		size_t len = 1 + rnd(2 * maxlen);

		if (len > total - off)
			len = total - off;
		pieces[np++] = (struct piece){off, len};
	}
	npend = np;

	memset(mhave, 0, sizeof(mhave));
	mnxt = mread = mruns = 0;
	assert_int_equal(mpt_drcv_init(&r, &tm.mem, cap, isn), 0);

	while (mread < total) {
		assert_true(++steps < 1000000);
		if (npend > 0 && rnd(4) != 0) {
			size_t k = rnd(npend);
			struct piece p;

			/* Mostly pick pieces reaching into the window (else most steps are no-ops). */
			for (int tries = 0; tries < 64; tries++) {
				p = pieces[k];
				if (p.off < mread + cap && p.off + p.len > mnxt)
					break;
				k = rnd(npend);
			}
			p = pieces[k];
			long want = model_insert(p.off, p.len, cap);
			long got = mpt_drcv_insert(&r, isn + p.off, stream + p.off, p.len);

			assert_int_equal(got, want);
			n_inserts++;
			if (got == MPT_ERR_LIMIT)
				n_limit++;
			else if (got == 0)
				n_dup++;
			else if ((size_t)got < p.len)
				n_partial++;
			assert_true(r.nxt == isn + mnxt);
			assert_int_equal(r.nranges, mruns);
			/* Done with a piece once it is wholly in order; until then it is resent. */
			if (p.off + p.len <= mnxt) {
				pieces[k] = pieces[npend - 1];
				pieces[npend - 1] = p;
				npend--;
			}
			/* A fully delivered piece may still come again (a spurious retransmit). */
			if (npend < np && rnd(8) == 0)
				npend++;
		} else {
			size_t want = 1 + rnd(cap);
			size_t avail = mnxt - mread;
			size_t n = mpt_drcv_read(&r, out + mread, want);

			assert_int_equal(n, want < avail ? want : avail);
			mread += n;
			assert_true(r.read == isn + mread);
		}
		/* The window is never negative: readable <= cap. */
		assert_true(r.nxt - r.read <= (uint64_t)cap);
		assert_int_equal(mpt_drcv_window(&r), cap - (mnxt - mread));
		for (size_t i = 0; i < r.nranges; i++) {
			assert_true(r.ranges[i].start - r.nxt > 0);
			assert_true(r.ranges[i].start - r.nxt < r.ranges[i].end - r.nxt);
			assert_true(r.ranges[i].end - r.read <= cap);
			if (i > 0)
				assert_true(r.ranges[i].start - r.nxt >
					    r.ranges[i - 1].end - r.nxt);
		}
	}
	assert_memory_equal(stream, out, total);
	assert_int_equal(r.nranges, 0);
	mpt_drcv_free(&r);
}

static void test_random_reassembly(void **state)
{
	rng = 0x6d70647372637631ULL; /* fixed seed: reproducible */
	for (int it = 0; it < 1500; it++) {
		uint64_t isn;
		size_t total = 200 + rnd(RT_MAX - 200);
		size_t cap, maxlen = 1 + rnd(it % 3 == 0 ? 16 : 400);

		switch (it % 4) {
		case 0:
			isn = UINT64_MAX - 1000 + 1; /* 2^64 - 1000 */
			break;
		case 1:
			isn = UINT64_MAX - rnd(total);
			break;
		default:
			isn = splitmix64();
			break;
		}
		switch (it % 3) {
		case 0:
			cap = 1 + rnd(64); /* tiny: constant trimming and wrap */
			break;
		case 1:
			cap = 64 + rnd(1000);
			break;
		default:
			cap = total + rnd(100); /* everything fits: range limit matters */
			break;
		}
		random_round(isn, total, cap, maxlen, rnd(total / maxlen + 20));
	}
	print_message("random: %lu inserts, %lu limit, %lu partial, %lu no-op\n", n_inserts,
		      n_limit, n_partial, n_dup);
	assert_true(n_inserts > 100000);
	assert_true(n_limit > 100);
	assert_true(n_partial > 1000);
	assert_true(n_dup > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_inside_old, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_old_inside_new, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_overlaps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spanning, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adjacent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dup_below_nxt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_edge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_range_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_in_pieces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_accounting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_reassembly, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
