/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP handshake matrix over one path (RFC 8684 §3.1, §3.7; RFC 6824):
 * versions, downgrade, fallback both ways, checksum negotiation.  Each
 * case moves 4 MiB client -> server and checks integrity, the negotiated
 * state on both ends, counters, a time budget and that nothing leaked.
 */
#include "mptcp_scn.h"

/* 4 MiB at 100 Mbit/s, 20 ms RTT: 0.34 s of serialization + slow start. */
#define HS_BYTES  (4u * MIB)
#define HS_BUDGET (1500 * MS)

static struct mscn base(const char *name)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = HS_BYTES;
	sc.seed = 11;
	sc.npaths = 1;
	sc.path[0].rate_bps = 100000000;
	sc.path[0].rtt_ns = 20 * MS;
	sc.budget_ns = HS_BUDGET;
	return sc;
}

static void test_v1_v1(void **state)
{
	(void)state;
	struct mscn sc = base("v1 <-> v1");
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_true(o.s_enabled);
	assert_int_equal(o.ci_rc, 0);
	assert_int_equal(o.ci.version, 1);
	assert_false(o.ci.fallback);
	assert_int_equal(o.ci.mptcpi_csum_enabled, 0);
	assert_true(o.ci.mptcpi_flags & MPT_MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNTX"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableSYNRX"), 1);
	assert_int_equal(mcounter(&o, 0, "MPCapableSYNACKRX"), 1);
	assert_int_equal(mcounter(&o, 1, "MPCapableACKRX"), 1);
	assert_int_equal(mcounter(&o, 0, "MPCapableFallbackSYNACK"), 0);
	assert_int_equal(mcounter(&o, 1, "MPCapableFallbackACK"), 0);
	assert_int_equal(mcounter(&o, 1, "DataCsumErr"), 0);
	assert_int_equal(mcounter(&o, 1, "MPTCPDataFinRx"), 1);
}

static void test_v0_v0(void **state)
{
	(void)state;
	struct mscn sc = base("v0 <-> v0");
	sc.cli_version = 1; /* version 0 */
	sc.srv_accept = MPT_MPTCP_ACCEPT_V0;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_int_equal(o.ci.version, 0);
	assert_int_equal(o.si.version, 0);
	/* RFC 6824: checksums are on unless both sides said no. */
	assert_false(o.ci.fallback);
}

static void test_v1_to_v0_listener(void **state)
{
	(void)state;
	struct mscn sc = base("v1 -> v0-only listener");
	sc.srv_accept = MPT_MPTCP_ACCEPT_V0;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_int_equal(o.ci.version, 0);
	assert_int_equal(o.si.version, 0);
	assert_false(o.ci.fallback);
}

static void test_v0_to_v1_only_listener(void **state)
{
	(void)state;
	/* A listener never picks a version above the one offered: a v0 SYN
	 * to a v1-only listener gets plain TCP. */
	struct mscn sc = base("v0 -> v1-only listener");
	sc.cli_version = 1;
	sc.srv_accept = MPT_MPTCP_ACCEPT_V1;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_false(o.c_enabled);
	assert_true(o.ci.fallback);
	assert_int_equal(mcounter(&o, 0, "MPCapableFallbackSYNACK"), 1);
}

static void test_fallback_plain_server(void **state)
{
	(void)state;
	struct mscn sc = base("MPTCP client -> plain server");
	sc.srv_off = true;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_false(o.c_enabled);
	assert_int_equal(o.ci_rc, 0);
	assert_true(o.ci.fallback);
	assert_true(o.ci.mptcpi_flags & MPT_MPTCP_INFO_FLAG_FALLBACK);
	assert_int_equal(mcounter(&o, 0, "MPCapableFallbackSYNACK"), 1);
	assert_int_equal(o.si_rc, MPT_ERR_STATE); /* the server never saw MPTCP */
}

static void test_fallback_plain_client(void **state)
{
	(void)state;
	struct mscn sc = base("plain client -> MPTCP server");
	sc.cli_off = true;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_false(o.c_enabled);
	assert_false(o.s_enabled);
	assert_int_equal(mcounter(&o, 1, "MPCapableSYNRX"), 0);
}

static void csum_case(bool c, bool s, const char *name)
{
	struct mscn sc = base(name);
	sc.cli_csum = c;
	sc.srv_csum = s;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	/* RFC 8684 §3.1: checksums are used if either side asks (flag A). */
	assert_int_equal(o.ci.mptcpi_csum_enabled, (c || s) ? 1 : 0);
	assert_int_equal(o.si.mptcpi_csum_enabled, (c || s) ? 1 : 0);
	assert_int_equal(mcounter(&o, 1, "DataCsumErr"), 0);
}

static void test_csum_00(void **state)
{
	(void)state;
	csum_case(false, false, "checksum 0/0");
}
static void test_csum_01(void **state)
{
	(void)state;
	csum_case(false, true, "checksum 0/1");
}
static void test_csum_10(void **state)
{
	(void)state;
	csum_case(true, false, "checksum 1/0");
}
static void test_csum_11(void **state)
{
	(void)state;
	csum_case(true, true, "checksum 1/1");
}

static void test_v0_csum(void **state)
{
	(void)state;
	struct mscn sc = base("v0 with checksums");
	sc.cli_version = 1;
	sc.cli_csum = true;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(o.ci.version, 0);
	assert_int_equal(o.ci.mptcpi_csum_enabled, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_v1),
	    cmocka_unit_test(test_v0_v0),
	    cmocka_unit_test(test_v1_to_v0_listener),
	    cmocka_unit_test(test_v0_to_v1_only_listener),
	    cmocka_unit_test(test_fallback_plain_server),
	    cmocka_unit_test(test_fallback_plain_client),
	    cmocka_unit_test(test_csum_00),
	    cmocka_unit_test(test_csum_01),
	    cmocka_unit_test(test_csum_10),
	    cmocka_unit_test(test_csum_11),
	    cmocka_unit_test(test_v0_csum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
