/* SPDX-License-Identifier: Apache-2.0 */
/* --path specifications (src/backend/path.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "mpt/backend.h"

static void test_valid(void **state)
{
	(void)state;
	struct mpt_path_cfg p;
	char err[128], a[64];
	assert_int_equal(mpt_path_parse("10.0.0.1/24", &p, err, sizeof(err)), 0);
	assert_int_equal(p.addr.family, 4);
	assert_string_equal(mpt_addr_format(&p.addr, a, sizeof(a)), "10.0.0.1");
	assert_int_equal(p.plen, 24);
	assert_int_equal(p.gw.family, 0);
	assert_string_equal(p.dev, "");
	assert_false(p.backup);
	assert_int_equal(p.delay_ms, 0);
	assert_true(p.loss_pct == 0 && p.rate_mbit == 0);
	assert_int_equal(p.mtu, 0);

	assert_int_equal(mpt_path_parse("192.0.2.9", &p, err, sizeof(err)), 0);
	assert_int_equal(p.plen, 32); /* host prefix by default */

	assert_int_equal(mpt_path_parse("2001:db8::1/64,gw=2001:db8::fe,dev=tun5,backup,"
					"delay=20,loss=1.5,rate=100,mtu=1280",
					&p, err, sizeof(err)),
			 0);
	assert_int_equal(p.addr.family, 6);
	assert_int_equal(p.plen, 64);
	assert_string_equal(mpt_addr_format(&p.gw, a, sizeof(a)), "2001:db8::fe");
	assert_string_equal(p.dev, "tun5");
	assert_true(p.backup);
	assert_int_equal(p.delay_ms, 20);
	assert_true(p.loss_pct == 1.5);
	assert_true(p.rate_mbit == 100);
	assert_int_equal(p.mtu, 1280);

	assert_int_equal(mpt_path_parse("fd00::2", &p, err, sizeof(err)), 0);
	assert_int_equal(p.plen, 128);
	assert_int_equal(
	    mpt_path_parse("10.1.1.1/0,loss=0,delay=0,dev=a.b-c_d012345", &p, err, sizeof(err)), 0);
	assert_string_equal(p.dev, "a.b-c_d012345");
}

static void test_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		const char *says; /* the message names the bad part */
	} bad[] = {
	    {"", "ADDR"},
	    {",10.0.0.1", "ADDR"},
	    {"foo", "foo"},
	    {"10.0.0.256", "10.0.0.256"},
	    {"10.0.0.1/33", "33"},
	    {"10.0.0.1/", "prefix"},
	    {"10.0.0.1/x", "x"},
	    {"10.0.0.1/24/3", "24/3"},
	    {"10.0.0.1/2.5", "2.5"},
	    {"2001:db8::1/129", "129"},
	    {"10.0.0.1,delay", "delay"},
	    {"10.0.0.1,delay=", "delay"},
	    {"10.0.0.1,delay=-1", "-1"},
	    {"10.0.0.1,delay=5ms", "5ms"},
	    {"10.0.0.1,delay=5.5", "5.5"},
	    {"10.0.0.1,delay=60001", "60001"},
	    {"10.0.0.1,loss=101", "101"},
	    {"10.0.0.1,loss=nan", "nan"},
	    {"10.0.0.1,rate=0", "rate"},
	    {"10.0.0.1,rate=inf", "inf"},
	    {"10.0.0.1,gw=2001:db8::1", "family"},
	    {"10.0.0.1,gw=banana", "banana"},
	    {"10.0.0.1,dev=a/b", "a/b"},
	    {"10.0.0.1,dev=0123456789abcdef", "0123456789abcdef"},
	    {"10.0.0.1,dev=a b", "a b"},
	    {"10.0.0.1,bogus=1", "bogus"},
	    {"10.0.0.1,backup=1", "backup"},
	    {"10.0.0.1,delay=1,delay=2", "twice"},
	    {"2001:db8::1,mtu=1000", "1000"},
	    {"10.0.0.1,mtu=1e3", "1e3"},
	    {"10.0.0.1,mtu=70000", "70000"},
	};
	for (size_t i = 0; i < MPT_ARRAY_SIZE(bad); i++) {
		struct mpt_path_cfg p;
		memset(&p, 0x5a, sizeof(p));
		struct mpt_path_cfg before = p;
		char err[160] = "";
		int rc = mpt_path_parse(bad[i].spec, &p, err, sizeof(err));
		if (rc != MPT_ERR_INVAL || !strstr(err, bad[i].says))
			fail_msg("'%s': rc %d, message '%s' (wanted it to mention '%s')",
				 bad[i].spec, rc, err, bad[i].says);
		assert_memory_equal(&p, &before, sizeof(p)); /* untouched on error */
	}
	/* Overlong input and NULLs are rejected, and a NULL err is fine. */
	char big[400];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct mpt_path_cfg p;
	assert_int_equal(mpt_path_parse(big, &p, NULL, 0), MPT_ERR_INVAL);
	assert_int_equal(mpt_path_parse(NULL, &p, NULL, 0), MPT_ERR_INVAL);
	assert_int_equal(mpt_path_parse("10.0.0.1", NULL, NULL, 0), MPT_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
