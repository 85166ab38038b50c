/* SPDX-License-Identifier: Apache-2.0 */
/* Counter names: every counter has a unique, non-empty name and comment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mib.h"

static void test_names_unique(void **state)
{
	(void)state;
	for (int i = 0; i < MPT_MIB_MAX; i++) {
		const char *n = mpt_mib_name(i);
		assert_non_null(n);
		assert_true(strlen(n) > 0);
		assert_non_null(mpt_mib_comment(i));
		for (int j = i + 1; j < MPT_MIB_MAX; j++)
			assert_string_not_equal(n, mpt_mib_name(j));
	}
	assert_null(mpt_mib_name(-1));
	assert_null(mpt_mib_name(MPT_MIB_MAX));
	assert_string_equal(mpt_mib_name(MPT_MIB_TcpInSegs), "TcpInSegs");
}

static void test_inc(void **state)
{
	(void)state;
	struct mpt_mib mib;
	memset(&mib, 0, sizeof(mib));
	mpt_mib_inc(&mib, MPT_MIB_TcpOutRsts);
	mpt_mib_add(&mib, MPT_MIB_TcpOutRsts, 2);
	mpt_mib_inc(NULL, MPT_MIB_TcpOutRsts); /* counting disabled: no crash */
	assert_int_equal(mib.v[MPT_MIB_TcpOutRsts], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_unique),
	    cmocka_unit_test(test_inc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
