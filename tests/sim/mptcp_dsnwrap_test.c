/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 64-bit data sequence numbers wrap (issue 10 bug 7): the IDSN is a hash
 * output (RFC 8684 §3.1), so a connection may cross 2^64 anywhere.  The
 * IDSN derivation is wrapped at link time (-Wl,--wrap=mpt_key_token_idsn,
 * see CMakeLists.txt) so that both ends start a few MiB below 2^64; the
 * transfers cross the wrap with one and two paths, v1 and v0, with loss
 * and with a path outage (reinjection across the wrap), and must be intact
 * within the same budgets as without the wrap.
 */
#include "crypto/crypto.h"
#include "mptcp_scn.h"

int __real_mpt_key_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn);
int __wrap_mpt_key_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn);

static uint64_t g_below; /* the IDSN is put this far below 2^64 (0: untouched) */

int __wrap_mpt_key_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn)
{
	uint64_t real = 0;
	int rc = __real_mpt_key_token_idsn(version, key, token, &real);
	if (rc == 0 && idsn)
		*idsn = g_below ? (uint64_t)0 - g_below + (real & 0xfff) : real;
	return rc;
}

static void wrap_case(const char *name, uint64_t below, int version, size_t npaths, double loss,
		      const struct mpt_sim_outage *out, uint64_t budget)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = 16u * MIB;
	sc.seed = 77;
	sc.npaths = npaths;
	for (size_t i = 0; i < npaths; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
		sc.path[i].loss = loss;
	}
	if (out)
		sc.path[npaths - 1].outage = out;
	sc.cli_version = version + 1;
	sc.budget_ns = budget;
	g_below = below;
	struct mout o;
	run_mscn(&sc, &o);
	g_below = 0;
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_int_equal(o.ci.version, version);
	/* it really crossed 2^64: the next DSN to write is small again */
	assert_true(o.ci.mptcpi_write_seq < sc.bytes);
}

static void test_v1_one_path(void **state)
{
	(void)state;
	wrap_case("wrap at 4 MiB, v1, 1 path", 4u * MIB, 1, 1, 0, NULL, 3 * SEC);
}

static void test_v1_two_paths(void **state)
{
	(void)state;
	wrap_case("wrap at 8 MiB, v1, 2 paths", 8u * MIB, 1, 2, 0, NULL, 2 * SEC);
}

static void test_v0(void **state)
{
	(void)state;
	wrap_case("wrap at 4 MiB, v0, 2 paths", 4u * MIB, 0, 2, 0, NULL, 2 * SEC);
}

static void test_v1_loss(void **state)
{
	(void)state;
	wrap_case("wrap at 2 MiB, v1, 2 paths, 1 % loss", 2u * MIB, 1, 2, 0.01, NULL, 6 * SEC);
}

static void test_v1_outage(void **state)
{
	(void)state;
	/* path 1 dies at 0.5 s: its data is reinjected across the wrap */
	static const struct mpt_sim_outage out = {.down_at = SEC / 2, .up_at = 60 * SEC};
	wrap_case("wrap at 6 MiB, v1, path 1 down at 0.5 s", 6u * MIB, 1, 2, 0, &out, 4 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_one_path), cmocka_unit_test(test_v1_two_paths),
	    cmocka_unit_test(test_v0),          cmocka_unit_test(test_v1_loss),
	    cmocka_unit_test(test_v1_outage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
