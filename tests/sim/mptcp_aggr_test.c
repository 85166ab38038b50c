/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP bandwidth aggregation over several paths (fullmesh path manager,
 * minrtt scheduler).  Ideal for N x 100 Mbit/s: N x 100 Mbit/s of IP
 * bandwidth; goodput is counted from the first CONNECTED to the server's
 * end of stream, so it includes slow start and the joins' handshakes.
 */
#include "mptcp_scn.h"

static struct mscn paths(const char *name, size_t n, uint64_t bytes, uint64_t budget)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = bytes;
	sc.seed = 21;
	sc.npaths = n;
	for (size_t i = 0; i < n; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.budget_ns = budget;
	return sc;
}

static double goodput_mbps(const struct mout *o)
{
	double secs = (double)(o->res.t_done - o->res.t_connected) / 1e9;
	return (double)o->res.received * 8 / secs / 1e6;
}

static void test_two_paths(void **state)
{
	(void)state;
	/* 256 MiB at >= 93 % of 200 Mbit/s = 186 Mbit/s: at most 11.55 s. */
	struct mscn sc = paths("2 x 100M/20ms, 256 MiB", 2, 256u * MIB, 11545 * MS);
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	double g = goodput_mbps(&o);
	printf("    goodput %.1f Mbit/s = %.1f %% of 200 Mbit/s\n", g, g / 2.0);
	assert_true(g >= 186.0);
	assert_true(o.ci.mptcpi_subflows_total >= 2);
	assert_true(mcounter(&o, 1, "MPJoinSynRx") >= 1);
	assert_true(mcounter(&o, 1, "MPJoinAckRx") >= 1);
	assert_true(mcounter(&o, 0, "MPJoinSynAckRx") >= 1);
	assert_int_equal(mcounter(&o, 0, "AddAddr"), 1);
	assert_int_equal(mcounter(&o, 1, "EchoAdd"), 1);
}

static void test_three_paths(void **state)
{
	(void)state;
	struct mscn sc = paths("3 x 100M/20ms, 128 MiB", 3, 128u * MIB, 4500 * MS);
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	double g = goodput_mbps(&o);
	printf("    goodput %.1f Mbit/s = %.1f %% of 300 Mbit/s\n", g, g / 3.0);
	assert_true(g >= 0.85 * 300);
}

static void test_four_paths(void **state)
{
	(void)state;
	struct mscn sc = paths("4 x 100M/20ms, 128 MiB", 4, 128u * MIB, 3600 * MS);
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	double g = goodput_mbps(&o);
	printf("    goodput %.1f Mbit/s = %.1f %% of 400 Mbit/s\n", g, g / 4.0);
	assert_true(g >= 0.80 * 400);
}

static void test_hetero_rtt(void **state)
{
	(void)state;
	struct mscn sc = paths("10 ms + 100 ms RTT, 64 MiB", 2, 64u * MIB, 6 * SEC);
	sc.path[1].rtt_ns = 100 * MS;
	sc.path[0].rtt_ns = 10 * MS;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	printf("    goodput %.1f Mbit/s\n", goodput_mbps(&o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_paths),
	    cmocka_unit_test(test_three_paths),
	    cmocka_unit_test(test_four_paths),
	    cmocka_unit_test(test_hetero_rtt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
