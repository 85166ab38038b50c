/* SPDX-License-Identifier: Apache-2.0 */
/* Base helpers: error strings, address parsing/formatting, default hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"

static void test_strerror(void **state)
{
	(void)state;
	for (int e = 0; e >= MPT_ERR_LIMIT; e--) {
		const char *s = mpt_strerror(e);
		assert_non_null(s);
		assert_string_not_equal(s, "unknown error");
		for (int f = e - 1; f >= MPT_ERR_LIMIT; f--)
			assert_string_not_equal(s, mpt_strerror(f));
	}
	assert_string_equal(mpt_strerror(-9999), "unknown error");
	assert_string_equal(mpt_strerror(42), "unknown error");
}

static void test_addr(void **state)
{
	(void)state;
	struct mpt_addr a, b;
	char buf[64];
	assert_int_equal(mpt_addr_parse(&a, "192.0.2.7"), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(a.bytes[0], 192);
	assert_int_equal(a.bytes[3], 7);
	assert_string_equal(mpt_addr_format(&a, buf, sizeof(buf)), "192.0.2.7");
	assert_int_equal(mpt_addr_parse(&b, "2001:db8::1"), 0);
	assert_int_equal(b.family, 6);
	assert_string_equal(mpt_addr_format(&b, buf, sizeof(buf)), "2001:db8::1");
	assert_false(mpt_addr_equal(&a, &b));
	struct mpt_addr c = a;
	assert_true(mpt_addr_equal(&a, &c));
	c.bytes[3] = 8;
	assert_false(mpt_addr_equal(&a, &c));
	/* Bytes past an IPv4 address never matter. */
	c = a;
	c.bytes[10] = 0xff;
	assert_true(mpt_addr_equal(&a, &c));
	const char *bad[] = {"",          "1.2.3",          "1.2.3.256", "::g", "10.0.0.1/24",
			     " 10.0.0.1", "2001:db8::1::2", "hello"};
	for (size_t i = 0; i < MPT_ARRAY_SIZE(bad); i++)
		assert_int_equal(mpt_addr_parse(&a, bad[i]), MPT_ERR_INVAL);
	assert_int_equal(mpt_addr_parse(NULL, "1.2.3.4"), MPT_ERR_INVAL);
	assert_int_equal(mpt_addr_parse(&a, NULL), MPT_ERR_INVAL);
	/* Short buffers are never overrun; unknown families print "?". */
	assert_int_equal(mpt_addr_parse(&a, "192.0.2.7"), 0);
	char tiny[4] = {'x', 'x', 'x', 'x'};
	mpt_addr_format(&a, tiny, sizeof(tiny));
	assert_true(memchr(tiny, '\0', sizeof(tiny)) != NULL);
	struct mpt_addr z;
	memset(&z, 0, sizeof(z));
	assert_string_equal(mpt_addr_format(&z, buf, sizeof(buf)), "?");
}

static void test_default_hooks(void **state)
{
	(void)state;
	const struct mpt_mem *m = mpt_mem_default();
	uint8_t *p = mpt_malloc(m, 100);
	assert_non_null(p);
	p = mpt_realloc(m, p, 1000);
	assert_non_null(p);
	mpt_free(m, p);
	uint32_t *z = mpt_calloc(m, 10, sizeof(*z));
	assert_non_null(z);
	for (int i = 0; i < 10; i++)
		assert_int_equal(z[i], 0);
	mpt_free(m, z);
	mpt_free(m, NULL);
	/* Two 32-byte draws from the CSPRNG differ (fails with p = 2^-256). */
	uint8_t r1[32], r2[32];
	mpt_rand_default(r1, sizeof(r1), NULL);
	mpt_rand_default(r2, sizeof(r2), NULL);
	assert_memory_not_equal(r1, r2, sizeof(r1));
}

static void test_seq_arith(void **state)
{
	(void)state;
	assert_true(mpt_seq_lt(0xfffffff0u, 0x10u));
	assert_true(mpt_seq_gt(0x10u, 0xfffffff0u));
	assert_true(mpt_seq_leq(5, 5));
	assert_true(mpt_seq_geq(5, 5));
	assert_int_equal(mpt_seq_max(0xffffffffu, 1), 1);
	assert_int_equal(mpt_seq_min(0xffffffffu, 1), 0xffffffffu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strerror),
	    cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_default_hooks),
	    cmocka_unit_test(test_seq_arith),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
