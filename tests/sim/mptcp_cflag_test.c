/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 8684 §3.1 flag C: a listener that sets C in its MP_CAPABLE tells the
 * initiator not to open additional subflows to the connection's initial
 * address (e.g. a load-balanced service address).  The client must then
 * join only the addresses the listener announced with ADD_ADDR.
 */
#include "mptcp_scn.h"

static struct mscn two_paths(bool c_flag)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = c_flag ? "2 paths, listener sets C" : "2 paths, no C flag";
	sc.bytes = 16u * MIB;
	sc.seed = 8684;
	sc.npaths = 2;
	for (size_t i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.srv_c_flag = c_flag;
	sc.budget_ns = 3 * SEC;
	return sc;
}

/* Subflows other than the initial one whose remote is the initial address. */
static int joins_to_initial(const struct mout *o)
{
	struct mpt_addr initial;
	addr_for(&initial, false, 0, 2);
	int n = 0;
	for (int i = 0; i < o->nsub_last && i < 16; i++)
		if (o->sub[i].join && mpt_addr_equal(&o->sub[i].remote.addr, &initial))
			n++;
	return n;
}

static void test_c_flag(void **state)
{
	(void)state;
	struct mscn sc = two_paths(true);
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* Joins happened (to the announced address) ... */
	assert_true(mcounter(&o, 1, "MPJoinAckRx") >= 1);
	assert_true(o.nsub_last >= 2);
	/* ... but none towards the initial address. */
	assert_int_equal(joins_to_initial(&o), 0);
}

static void test_without_c_flag(void **state)
{
	(void)state;
	/* Control: the same topology without C does join the initial address,
	 * so the check above can fail. */
	struct mscn sc = two_paths(false);
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(joins_to_initial(&o) >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_c_flag),
	    cmocka_unit_test(test_without_c_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
