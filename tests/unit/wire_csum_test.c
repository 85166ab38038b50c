/* SPDX-License-Identifier: Apache-2.0 */
/* Internet checksum: RFC 1071 vectors, naive reference, RFC 1624 updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testrng.h"
#include "wire/bytes.h"
#include "wire/csum.h"

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Straight from RFC 1071 §4.1: 16-bit big-endian words, odd byte padded. */
static uint32_t naive_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static uint16_t naive_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~naive_sum(p, len);
}

static uint16_t folded(uint32_t acc)
{
	return (uint16_t)~mpt_csum_fold(acc);
}

static void test_rfc1071_vector(void **state)
{
	/* RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to 0x2ddf0,
	 * folded 0xddf2, checksum 0x220d. */
	static const uint8_t v[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	assert_int_equal(folded(mpt_csum_add(0, v, sizeof(v))), 0xddf2);
	assert_int_equal(mpt_csum(v, sizeof(v)), 0x220d);
	/* Split at an even boundary gives the same result. */
	uint32_t acc = mpt_csum_add(0, v, 2);
	acc = mpt_csum_add(acc, v + 2, 6);
	assert_int_equal(folded(acc), 0xddf2);
	/* Odd tail: 00 01 f2 -> 0x0001 + 0xf200. */
	assert_int_equal(folded(mpt_csum_add(0, v, 3)), 0xf201);
	/* Empty input and all-zero input. */
	assert_int_equal(mpt_csum(v, 0), 0xffff);
	static const uint8_t z[7] = {0};
	assert_int_equal(mpt_csum(z, sizeof(z)), 0xffff);
	/* All ones: sum is negative zero, checksum 0. */
	uint8_t ff[64];
	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(mpt_csum(ff, sizeof(ff)), 0x0000);
}

static void test_known_ipv4_header(void **state)
{
	/* A well-known IPv4 header with checksum 0xb861. */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	assert_int_equal(mpt_csum(h, sizeof(h)), 0xb861);
	mpt_put16(h + 10, 0xb861);
	assert_int_equal(mpt_csum(h, sizeof(h)), 0);
}

static void test_random_vs_naive(void **state)
{
	static uint8_t buf[4096 + 64];

	rng_state = 1071;
	for (int it = 0; it < 20000; it++) {
		size_t len = (size_t)(rnd() % 2049);
		size_t off = (size_t)(rnd() % 16);
		uint32_t acc0 = (uint32_t)rnd();

		if (it % 7 == 0)
			len = (size_t)(rnd() % 4097);
		fill_random(buf + off, len);
		if (it % 5 == 0)
			memset(buf + off, 0xff, len); /* carry-heavy input */
		assert_int_equal(mpt_csum(buf + off, len), naive_csum(buf + off, len));
		/* Starting from a non-zero accumulator: same result modulo
		 * 0xffff as adding the folded sums. */
		uint32_t a = mpt_csum_add(acc0, buf + off, len);
		uint64_t ref = (uint64_t)acc0 + naive_sum(buf + off, len);
		while (ref >> 16)
			ref = (ref & 0xffff) + (ref >> 16);
		assert_int_equal(folded(a), (uint16_t)ref);
		/* Split into an even first piece and an arbitrary last piece. */
		size_t cut = (size_t)(rnd() % (len + 1)) & ~(size_t)1;
		uint32_t b = mpt_csum_add(0, buf + off, cut);
		b = mpt_csum_add(b, buf + off + cut, len - cut);
		assert_int_equal(mpt_csum_fold(b), naive_csum(buf + off, len));
	}
}

static void test_large_buffer(void **state)
{
	/* Enough 0xff bytes to exercise many carries in the 64-bit sum. */
	static uint8_t big[1 << 20];

	memset(big, 0xff, sizeof(big));
	assert_int_equal(mpt_csum(big, sizeof(big)), naive_csum(big, sizeof(big)));
	rng_state = 77;
	fill_random(big, sizeof(big));
	assert_int_equal(mpt_csum(big, sizeof(big)), naive_csum(big, sizeof(big)));
	assert_int_equal(mpt_csum(big + 1, sizeof(big) - 1), naive_csum(big + 1, sizeof(big) - 1));
}

static void test_update16(void **state)
{
	uint8_t buf[64];

	rng_state = 1624;
	for (int it = 0; it < 20000; it++) {
		size_t len = 2 + 2 * (size_t)(rnd() % 31);
		fill_random(buf, len);
		uint16_t c = mpt_csum(buf, len);
		size_t w = 2 * (size_t)(rnd() % (len / 2));
		uint16_t oldw = mpt_get16(buf + w);
		uint16_t neww = (uint16_t)rnd();
		if (it % 11 == 0)
			neww = oldw; /* no-op change */
		if (it % 13 == 0)
			neww = (uint16_t)~oldw;
		mpt_put16(buf + w, neww);
		assert_int_equal(mpt_csum_update16(c, oldw, neww), mpt_csum(buf, len));
	}
	/* RFC 1624 §4 example: HC 0xdd2f, m 0x5555 -> 0x3285 gives 0x0000. */
	assert_int_equal(mpt_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

static void test_update32(void **state)
{
	uint8_t buf[64];

	rng_state = 4242;
	for (int it = 0; it < 20000; it++) {
		size_t len = 4 + 2 * (size_t)(rnd() % 29);
		fill_random(buf, len);
		uint16_t c = mpt_csum(buf, len);
		size_t w = 2 * (size_t)(rnd() % ((len - 2) / 2)); /* 16-bit aligned */
		uint32_t oldv = mpt_get32(buf + w);
		uint32_t newv = (uint32_t)rnd();
		mpt_put32(buf + w, newv);
		assert_int_equal(mpt_csum_update32(c, oldv, newv), mpt_csum(buf, len));
	}
}

static void test_pseudo_v4(void **state)
{
	struct mpt_addr s = {.family = 4, .bytes = {192, 168, 0, 1}};
	struct mpt_addr d = {.family = 4, .bytes = {10, 0, 0, 2}};
	/* Reference: the explicit 12-byte pseudo-header of RFC 9293 §3.1. */
	uint8_t ph[12] = {192, 168, 0, 1, 10, 0, 0, 2, 0, 6, 0x05, 0xdc};

	assert_int_equal(mpt_csum_fold(mpt_csum_pseudo(&s, &d, 6, 1500)), naive_csum(ph, 12));
	/* Bytes 4..15 of s must not matter for IPv4. */
	memset(s.bytes + 4, 0xaa, 12);
	assert_int_equal(mpt_csum_fold(mpt_csum_pseudo(&s, &d, 6, 1500)), naive_csum(ph, 12));
	ph[9] = 17;
	ph[10] = 0;
	ph[11] = 21;
	assert_int_equal(mpt_csum_fold(mpt_csum_pseudo(&s, &d, 17, 21)), naive_csum(ph, 12));
}

static void test_pseudo_v6(void **state)
{
	struct mpt_addr s = {.family = 6};
	struct mpt_addr d = {.family = 6};
	uint8_t ph[40];

	rng_state = 8200;
	for (int it = 0; it < 1000; it++) {
		fill_random(s.bytes, 16);
		fill_random(d.bytes, 16);
		uint32_t len = (uint32_t)rnd();
		if (it % 2)
			len &= 0xffff;
		uint8_t proto = (uint8_t)rnd();
		/* RFC 8200 §8.1: src, dst, 32-bit length, 3 zero bytes, NH. */
		memcpy(ph, s.bytes, 16);
		memcpy(ph + 16, d.bytes, 16);
		mpt_put32(ph + 32, len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = proto;
		assert_int_equal(mpt_csum_fold(mpt_csum_pseudo(&s, &d, proto, len)),
				 naive_csum(ph, 40));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc1071_vector),  cmocka_unit_test(test_known_ipv4_header),
	    cmocka_unit_test(test_random_vs_naive), cmocka_unit_test(test_large_buffer),
	    cmocka_unit_test(test_update16),        cmocka_unit_test(test_update32),
	    cmocka_unit_test(test_pseudo_v4),       cmocka_unit_test(test_pseudo_v6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
