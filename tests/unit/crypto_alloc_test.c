/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine allocates nothing per packet, and that includes what OpenSSL
 * allocates on its behalf (issue 11, finding 7): HMAC() and EVP_Digest()
 * used to make 13 and 3 allocations per call inside libcrypto, outside
 * cfg.mem.
 *
 * libcrypto routes every allocation it makes through CRYPTO_malloc, whose
 * target can be replaced with CRYPTO_set_mem_functions() before its first
 * allocation.  main() installs a counting allocator first thing, and the
 * tests check:
 *  - every src/crypto function, called many times, makes zero allocations
 *    (and still gives the right answers: tests/unit/crypto_test.c checks
 *    the vectors; here two spot values guard against a dead code path);
 *  - simulated MPTCP transfers (v1 and v0, DSS checksums, two paths so
 *    ADD_ADDR HMACs and MP_JOIN HMACs are computed and checked, SYN cookies
 *    always on so every SYN and third ACK goes through mpt_tuple_mac) make
 *    zero OpenSSL allocations from the first packet to the end, while the
 *    same counter does see the harness's own EVP_MD_CTX_new (so a broken
 *    hook cannot pass the test).
 *
 * The figures are printed: `ctest -R crypto_alloc -V`.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "mptcp_scn.h"

static long g_ossl_allocs; /* CRYPTO_malloc / CRYPTO_realloc calls seen */

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	g_ossl_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	g_ossl_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

#define CALLS 1000

/* Run `stmt` CALLS times and return OpenSSL allocations per call. */
#define ALLOCS_PER_CALL(stmt)                                                                      \
	({                                                                                         \
		long before_ = g_ossl_allocs;                                                      \
		for (int i_ = 0; i_ < CALLS; i_++) {                                               \
			stmt;                                                                      \
		}                                                                                  \
		(double)(g_ossl_allocs - before_) / CALLS;                                         \
	})

static void test_hook_counts(void **state)
{
	(void)state;
	/* The hook is live: an allocation libcrypto surely makes is seen. */
	long before = g_ossl_allocs;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	assert_non_null(c);
	EVP_MD_CTX_free(c);
	assert_true(g_ossl_allocs > before);
}

static void test_functions_allocate_nothing(void **state)
{
	(void)state;
	struct mpt_addr a4, b4, a6, b6;
	assert_int_equal(mpt_addr_parse(&a4, "10.0.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&b4, "10.0.0.2"), 0);
	assert_int_equal(mpt_addr_parse(&a6, "2001:db8::1"), 0);
	assert_int_equal(mpt_addr_parse(&b6, "2001:db8::2"), 0);
	struct mpt_endpoint l = {.addr = a6, .port = 443}, r = {.addr = b6, .port = 50000};
	uint8_t secret[MPT_CRYPTO_ISN_SECRET_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	uint8_t h[MPT_CRYPTO_HMAC_MAX], h160[MPT_CRYPTO_JOIN_ACK_LEN], cookie[MPT_TFO_COOKIE_LEN];
	size_t hl;
	uint32_t tok, isn;
	uint64_t idsn, v64;
	uint64_t k = 0x0123456789abcdefULL;

	/* Warm up: first calls may initialise libcrypto's tables once. */
	(void)mpt_key_token_idsn(MPT_CRYPTO_V1, k, &tok, &idsn);
	(void)mpt_key_token_idsn(MPT_CRYPTO_V0, k, &tok, &idsn);
	(void)mpt_hmac_join(MPT_CRYPTO_V1, 1, 2, 3, 4, h, &hl);
	(void)mpt_hmac_join(MPT_CRYPTO_V0, 1, 2, 3, 4, h, &hl);

	struct {
		const char *name;
		double per_call;
	} r_[] = {
	    {"mpt_key_token_idsn v1",
	     ALLOCS_PER_CALL(mpt_key_token_idsn(MPT_CRYPTO_V1, k + (uint64_t)i_, &tok, &idsn))},
	    {"mpt_key_token_idsn v0",
	     ALLOCS_PER_CALL(mpt_key_token_idsn(MPT_CRYPTO_V0, k + (uint64_t)i_, &tok, &idsn))},
	    {"mpt_hmac_join v1",
	     ALLOCS_PER_CALL(mpt_hmac_join(MPT_CRYPTO_V1, k, 2, (uint32_t)i_, 4, h, &hl))},
	    {"mpt_hmac_join v0",
	     ALLOCS_PER_CALL(mpt_hmac_join(MPT_CRYPTO_V0, k, 2, (uint32_t)i_, 4, h, &hl))},
	    {"mpt_hmac_join_trunc64 v1",
	     ALLOCS_PER_CALL(mpt_hmac_join_trunc64(MPT_CRYPTO_V1, k, 2, 3, (uint32_t)i_, &v64))},
	    {"mpt_hmac_join_160 v0",
	     ALLOCS_PER_CALL(mpt_hmac_join_160(MPT_CRYPTO_V0, k, 2, 3, (uint32_t)i_, h160))},
	    {"mpt_hmac_add_addr v4",
	     ALLOCS_PER_CALL(mpt_hmac_add_addr(k, 2, (uint8_t)i_, &a4, 80, &v64))},
	    {"mpt_hmac_add_addr v6",
	     ALLOCS_PER_CALL(mpt_hmac_add_addr(k, 2, (uint8_t)i_, &a6, 0, &v64))},
	    {"mpt_isn_rfc6528 v4",
	     ALLOCS_PER_CALL(mpt_isn_rfc6528(secret, &a4, 1, &b4, (uint16_t)i_, 7, &isn))},
	    {"mpt_tfo_cookie v6", ALLOCS_PER_CALL(mpt_tfo_cookie(secret, &a6, &b6, cookie))},
	    {"mpt_tuple_mac v6",
	     ALLOCS_PER_CALL(mpt_tuple_mac(secret, 'C', &l, &r, (uint32_t)i_, 9, &v64))},
	    {"mpt_crypto_memeq", ALLOCS_PER_CALL((void)mpt_crypto_memeq(h, h160, 20))},
	};
	double worst = 0;
	for (size_t i = 0; i < sizeof(r_) / sizeof(r_[0]); i++) {
		printf("[ allocs/call ] %-26s %6.2f\n", r_[i].name, r_[i].per_call);
		if (r_[i].per_call > worst)
			worst = r_[i].per_call;
	}
	assert_true(worst == 0.0);

	/* The code paths above did real work: spot values from
	 * tests/vectors/crypto_vectors.txt and RFC 6824's SHA-1 use. */
	assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V1, 0x0123456789abcdefULL, &tok, &idsn), 0);
	uint32_t tok0;
	assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V0, 0x0123456789abcdefULL, &tok0, NULL), 0);
	assert_int_not_equal(tok, tok0);
}

/* ---- whole transfers ------------------------------------------------------ */

static long g_armed_at = -1; /* counter value when the transfer started */

static void arm(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	(void)arg;
	g_armed_at = g_ossl_allocs;
}

static uint8_t g_version; /* MPTCP version the client offers */

static void tweak(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	cc->mptcp.version = g_version;
	cc->mptcp.checksum = sv->mptcp.checksum = true;
	/* Every SYN answered with a cookie: mpt_tuple_mac on every SYN and
	 * third ACK, and (v1) the key derived from it. */
	sv->tcp.syncookies = MPT_SYNCOOKIES_ALWAYS;
}

static void run_transfer(uint8_t version)
{
	g_version = version;
	g_armed_at = -1;
	struct mscn sc = {
	    .name = version ? "cryptoalloc v1 2 paths" : "cryptoalloc v0 2 paths",
	    .bytes = 4 * MIB,
	    .seed = 11,
	    .npaths = 2,
	    .path = {{.rate_bps = 50000000, .rtt_ns = 20 * MS},
		     {.rate_bps = 50000000, .rtt_ns = 40 * MS}},
	    .budget_ns = 10 * SEC,
	    .tweak = tweak,
	    .at_start = arm,
	    .at_t = 0,
	};
	static struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* The transfer did use both paths, HMACs and cookies. */
	assert_true(o.nsub_c >= 2);
	assert_true(mcounter(&o, 1, "SyncookiesSent") > 0);
	assert_true(mcounter(&o, 1, "SyncookiesRecv") > 0);
	assert_true(g_armed_at >= 0);
	/* Counted up to the end of run_mscn, which includes the harness
	 * tearing down its SHA-256 contexts (frees only). */
	long during = g_ossl_allocs - g_armed_at;
	printf("[ cryptoalloc ] v%u transfer: %ld OpenSSL allocations from the first packet "
	       "to the end (%u subflows)\n",
	       version, during, (unsigned)o.nsub_c);
	assert_int_equal(during, 0);
}

static void test_transfer_v1(void **state)
{
	(void)state;
	run_transfer(1);
}

static void test_transfer_v0(void **state)
{
	(void)state;
	run_transfer(0);
}

int main(void)
{
	/* Must come before libcrypto's first allocation. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free)) {
		fprintf(stderr, "CRYPTO_set_mem_functions refused (libcrypto allocated already)\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hook_counts),
	    cmocka_unit_test(test_functions_allocate_nothing),
	    cmocka_unit_test(test_transfer_v1),
	    cmocka_unit_test(test_transfer_v0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
