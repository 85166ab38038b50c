/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External-key HMACs and IDSN (src/crypto, draft-baerts-tcpm-mptcpext-00,
 * docs/external-keys.md decisions 7, 12, 13, 14, 18): every function
 * against values from an independent implementation (Python's hmac and
 * hashlib; the one-liners that produced each constant are next to it),
 * the role of the sender/receiver order, NEW_KEY and MP_FASTCLOSE kept
 * apart, every refused key length and NULL pointer, and the equivalence
 * with the RFC 8684 functions when the external key is Key-A || Key-B.
 *
 * Fixed inputs: key K = 0x00 0x01 ... 0x1f (32 octets), tokens
 * TS = 0x01020304 (sender) and TR = 0xa0b0c0d0 (receiver), nonces
 * NS = 0x11223344 and NR = 0x55667788, addresses 192.0.2.1 (id 5) and
 * 2001:db8::1 (id 7).  In the Python below:
 *   import hmac, hashlib, struct
 *   H = lambda k, m: hmac.new(k, m, hashlib.sha256).digest()
 *   K = bytes(range(32)); P = lambda *v: struct.pack('>' + 'I' * len(v), *v)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "crypto/crypto.h"
#include "wire/bytes.h"

#define TS 0x01020304u
#define TR 0xa0b0c0d0u
#define NS 0x11223344u
#define NR 0x55667788u

static uint8_t g_key[MPT_EXTKEY_KEY_MAX + 1]; /* 0x00, 0x01, ... */

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(g_key); i++)
		g_key[i] = (uint8_t)i;
	return 0;
}

static void hex_to(const char *s, uint8_t *out, size_t want)
{
	assert_int_equal(strlen(s), 2 * want);
	for (size_t i = 0; i < want; i++) {
		unsigned v = 0;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static struct mpt_addr v4_addr(void)
{
	struct mpt_addr a = {.family = 4, .bytes = {192, 0, 2, 1}};
	return a;
}

static struct mpt_addr v6_addr(void)
{
	struct mpt_addr a = {.family = 6,
			     .bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
	return a;
}

/* ---- values from Python --------------------------------------------------- */

static void test_idsn(void **state)
{
	(void)state;
	uint64_t a = 0, b = 0;
	/* hashlib.sha256(P(0x01020304)).digest()[-8:].hex()
	 * hashlib.sha256(P(0xa0b0c0d0)).digest()[-8:].hex() */
	assert_int_equal(mpt_extkey_idsn(TS, &a), 0);
	assert_int_equal(mpt_extkey_idsn(TR, &b), 0);
	assert_true(a == UINT64_C(0x6e6c77e89b6a806a));
	assert_true(b == UINT64_C(0x9b77fe0cb22e3eeb));
	/* Two tokens, two IDSNs. */
	assert_true(a != b);
	/* It is RFC 8684's IDSN construction over 4 octets, not over the
	 * 8-octet key: a token read as a key gives something else. */
	uint64_t v1 = 0;
	assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V1, TS, NULL, &v1), 0);
	assert_true(v1 != a);
	assert_int_equal(mpt_extkey_idsn(TS, NULL), MPT_ERR_INVAL);
}

static void test_new_key(void **state)
{
	(void)state;
	uint8_t out[8], want[8];

	/* H(P(TS, TR), K)[-8:].hex() */
	hex_to("b398056d5b703ee6", want, 8);
	memset(out, 0, sizeof(out));
	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, 32, out), 0);
	assert_memory_equal(out, want, 8);

	/* The other direction: H(P(TR, TS), K)[-8:].hex() */
	hex_to("fb34196ce20eb07d", want, 8);
	assert_int_equal(mpt_extkey_new_key_hmac(TR, TS, g_key, 32, out), 0);
	assert_memory_equal(out, want, 8);

	/* The shortest and the longest key:
	 * H(P(TS, TR), bytes(range(16)))[-8:].hex()
	 * H(P(TS, TR), bytes(range(64)))[-8:].hex() */
	hex_to("e29a8e69a9bb7652", want, 8);
	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, MPT_EXTKEY_KEY_MIN, out), 0);
	assert_memory_equal(out, want, 8);
	hex_to("15f0cdeb2024ecb0", want, 8);
	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, MPT_EXTKEY_KEY_MAX, out), 0);
	assert_memory_equal(out, want, 8);
}

static void test_fastclose(void **state)
{
	(void)state;
	uint64_t a = 0, b = 0;

	/* The label is the 18 ASCII octets of decision 12. */
	assert_int_equal(sizeof(MPT_EXTKEY_FASTCLOSE_LABEL) - 1, 18);
	assert_string_equal(MPT_EXTKEY_FASTCLOSE_LABEL, "mptcpext fastclose");

	/* H(P(TS, TR), K + b'mptcpext fastclose')[-8:].hex()
	 * H(P(TR, TS), K + b'mptcpext fastclose')[-8:].hex() */
	assert_int_equal(mpt_extkey_fastclose_hmac(TS, TR, g_key, 32, &a), 0);
	assert_int_equal(mpt_extkey_fastclose_hmac(TR, TS, g_key, 32, &b), 0);
	assert_true(a == UINT64_C(0x63e54a1f1e611b4a));
	assert_true(b == UINT64_C(0xc789f75c1a8fec81));
}

static void test_join(void **state)
{
	(void)state;
	uint8_t full[32], h160[MPT_CRYPTO_JOIN_ACK_LEN];
	uint64_t t64 = 0;

	/* H(K, P(NS, NR)).hex() */
	hex_to("96619f7bd85cbcc68baaddde5c31f1f98ff2b6a543eabf078ed69a659ffe5c33", full, 32);
	assert_int_equal(mpt_extkey_join_trunc64(g_key, 32, NS, NR, &t64), 0);
	assert_true(t64 == UINT64_C(0x96619f7bd85cbcc6)); /* leftmost 64 bits */
	assert_true(t64 == mpt_get64(full));
	assert_int_equal(mpt_extkey_join_160(g_key, 32, NS, NR, h160), 0);
	assert_memory_equal(h160, full, MPT_CRYPTO_JOIN_ACK_LEN); /* leftmost 20 */

	/* The other host's HMAC: H(K, P(NR, NS)).hex() */
	hex_to("7f998802854c72e08163af2f4c62087d1b26d7a8d4cf4d4799bc8f4af9650f2b", full, 32);
	assert_int_equal(mpt_extkey_join_trunc64(g_key, 32, NR, NS, &t64), 0);
	assert_true(t64 == UINT64_C(0x7f998802854c72e0));
	assert_int_equal(mpt_extkey_join_160(g_key, 32, NR, NS, h160), 0);
	assert_memory_equal(h160, full, MPT_CRYPTO_JOIN_ACK_LEN);
}

static void test_add_addr(void **state)
{
	(void)state;
	struct mpt_addr a4 = v4_addr(), a6 = v6_addr();
	uint64_t out = 0;

	/* H(K, bytes([5, 192, 0, 2, 1]) + struct.pack('>H', 0))[-8:].hex()
	 * H(K, bytes([5, 192, 0, 2, 1]) + struct.pack('>H', 8080))[-8:].hex() */
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 5, &a4, 0, &out), 0);
	assert_true(out == UINT64_C(0x2be9f4b5315cb706));
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 5, &a4, 8080, &out), 0);
	assert_true(out == UINT64_C(0xd514c6a0f7e748a2));
	/* V6 = bytes.fromhex('20010db8000000000000000000000001')
	 * H(K, bytes([7]) + V6 + struct.pack('>H', 0))[-8:].hex()
	 * H(K, bytes([7]) + V6 + struct.pack('>H', 443))[-8:].hex() */
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 7, &a6, 0, &out), 0);
	assert_true(out == UINT64_C(0x581454922667387a));
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 7, &a6, 443, &out), 0);
	assert_true(out == UINT64_C(0x1085bd74b0e0fb6e));
}

/* ---- properties -------------------------------------------------------------- */

/* Sender/receiver order matters everywhere it is an input. */
static void test_direction(void **state)
{
	(void)state;
	uint8_t n1[8], n2[8], j1[MPT_CRYPTO_JOIN_ACK_LEN], j2[MPT_CRYPTO_JOIN_ACK_LEN];
	uint64_t f1 = 0, f2 = 0, t1 = 0, t2 = 0;

	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, 32, n1), 0);
	assert_int_equal(mpt_extkey_new_key_hmac(TR, TS, g_key, 32, n2), 0);
	assert_true(memcmp(n1, n2, 8) != 0);
	assert_int_equal(mpt_extkey_fastclose_hmac(TS, TR, g_key, 32, &f1), 0);
	assert_int_equal(mpt_extkey_fastclose_hmac(TR, TS, g_key, 32, &f2), 0);
	assert_true(f1 != f2);
	assert_int_equal(mpt_extkey_join_trunc64(g_key, 32, NS, NR, &t1), 0);
	assert_int_equal(mpt_extkey_join_trunc64(g_key, 32, NR, NS, &t2), 0);
	assert_true(t1 != t2);
	assert_int_equal(mpt_extkey_join_160(g_key, 32, NS, NR, j1), 0);
	assert_int_equal(mpt_extkey_join_160(g_key, 32, NR, NS, j2), 0);
	assert_true(memcmp(j1, j2, sizeof(j1)) != 0);
}

/* Decision 12: a NEW_KEY seen in the clear does not give the MP_FASTCLOSE. */
static void test_new_key_vs_fastclose(void **state)
{
	(void)state;
	for (size_t len = MPT_EXTKEY_KEY_MIN; len <= MPT_EXTKEY_KEY_MAX; len++) {
		uint8_t nk[8];
		uint64_t fc = 0;
		assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, len, nk), 0);
		assert_int_equal(mpt_extkey_fastclose_hmac(TS, TR, g_key, len, &fc), 0);
		assert_true(mpt_get64(nk) != fc);
		/* Neither does the other direction's NEW_KEY. */
		assert_int_equal(mpt_extkey_new_key_hmac(TR, TS, g_key, len, nk), 0);
		assert_true(mpt_get64(nk) != fc);
	}
}

/* Every input changes the value: the key (content and length), the port. */
static void test_inputs_matter(void **state)
{
	(void)state;
	uint8_t k2[32], a[8], b[8];
	uint64_t x = 0, y = 0;
	struct mpt_addr a4 = v4_addr();

	memcpy(k2, g_key, 32);
	k2[31] ^= 1;
	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, 32, a), 0);
	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, k2, 32, b), 0);
	assert_true(memcmp(a, b, 8) != 0);
	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, 33, b), 0);
	assert_true(memcmp(a, b, 8) != 0);
	assert_int_equal(mpt_extkey_join_trunc64(g_key, 32, NS, NR, &x), 0);
	assert_int_equal(mpt_extkey_join_trunc64(k2, 32, NS, NR, &y), 0);
	assert_true(x != y);
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 5, &a4, 0, &x), 0);
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 6, &a4, 0, &y), 0);
	assert_true(x != y);
	assert_int_equal(mpt_extkey_add_addr_hmac(k2, 32, 5, &a4, 0, &y), 0);
	assert_true(x != y);
}

/*
 * With an external key of the 16 octets Key-A || Key-B, the join and
 * ADD_ADDR HMACs are exactly RFC 8684's (decision 13: only the HMAC key
 * changes), which also checks the shared ADD_ADDR message builder.
 */
static void test_same_as_rfc8684(void **state)
{
	(void)state;
	const uint64_t ka = UINT64_C(0x0123456789abcdef), kb = UINT64_C(0xfedcba9876543210);
	uint8_t k16[16], e160[MPT_CRYPTO_JOIN_ACK_LEN], r160[MPT_CRYPTO_JOIN_ACK_LEN];
	uint64_t e = 0, r = 0;
	struct mpt_addr a4 = v4_addr(), a6 = v6_addr();

	mpt_put64(k16, ka);
	mpt_put64(k16 + 8, kb);
	assert_int_equal(mpt_extkey_join_trunc64(k16, 16, NS, NR, &e), 0);
	assert_int_equal(mpt_hmac_join_trunc64(MPT_CRYPTO_V1, ka, kb, NS, NR, &r), 0);
	assert_true(e == r);
	assert_int_equal(mpt_extkey_join_160(k16, 16, NS, NR, e160), 0);
	assert_int_equal(mpt_hmac_join_160(MPT_CRYPTO_V1, ka, kb, NS, NR, r160), 0);
	assert_memory_equal(e160, r160, sizeof(e160));
	assert_int_equal(mpt_extkey_add_addr_hmac(k16, 16, 3, &a4, 80, &e), 0);
	assert_int_equal(mpt_hmac_add_addr(ka, kb, 3, &a4, 80, &r), 0);
	assert_true(e == r);
	assert_int_equal(mpt_extkey_add_addr_hmac(k16, 16, 9, &a6, 0, &e), 0);
	assert_int_equal(mpt_hmac_add_addr(ka, kb, 9, &a6, 0, &r), 0);
	assert_true(e == r);
}

/* Decision 18 and NULL pointers: refused, outputs untouched. */
static void test_refused(void **state)
{
	(void)state;
	const size_t bad_len[] = {0, 1, MPT_EXTKEY_KEY_MIN - 1, MPT_EXTKEY_KEY_MAX + 1, 1000};
	struct mpt_addr a4 = v4_addr(), bad = {.family = 5};
	uint8_t o8[8], o20[MPT_CRYPTO_JOIN_ACK_LEN], z8[8], z20[MPT_CRYPTO_JOIN_ACK_LEN];
	uint64_t o = 0x5a5a;

	assert_int_equal(MPT_EXTKEY_KEY_MIN - 1, 15);
	assert_int_equal(MPT_EXTKEY_KEY_MAX + 1, 65);
	memset(o8, 0xa5, sizeof(o8));
	memset(o20, 0xa5, sizeof(o20));
	memcpy(z8, o8, sizeof(z8));
	memcpy(z20, o20, sizeof(z20));
	for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		size_t n = bad_len[i];
		assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, n, o8), MPT_ERR_INVAL);
		assert_int_equal(mpt_extkey_fastclose_hmac(TS, TR, g_key, n, &o), MPT_ERR_INVAL);
		assert_int_equal(mpt_extkey_join_trunc64(g_key, n, NS, NR, &o), MPT_ERR_INVAL);
		assert_int_equal(mpt_extkey_join_160(g_key, n, NS, NR, o20), MPT_ERR_INVAL);
		assert_int_equal(mpt_extkey_add_addr_hmac(g_key, n, 1, &a4, 0, &o), MPT_ERR_INVAL);
	}
	/* NULL key, NULL output, NULL address, bad family. */
	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, NULL, 32, o8), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_new_key_hmac(TS, TR, g_key, 32, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_fastclose_hmac(TS, TR, NULL, 32, &o), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_fastclose_hmac(TS, TR, g_key, 32, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_join_trunc64(NULL, 32, NS, NR, &o), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_join_trunc64(g_key, 32, NS, NR, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_join_160(NULL, 32, NS, NR, o20), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_join_160(g_key, 32, NS, NR, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_add_addr_hmac(NULL, 32, 1, &a4, 0, &o), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 1, NULL, 0, &o), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 1, &a4, 0, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, 32, 1, &bad, 0, &o), MPT_ERR_INVAL);
	assert_int_equal(mpt_extkey_idsn(TS, NULL), MPT_ERR_INVAL);
	/* Nothing was written. */
	assert_true(o == 0x5a5a);
	assert_memory_equal(o8, z8, sizeof(o8));
	assert_memory_equal(o20, z20, sizeof(o20));
	/* The boundaries themselves are accepted. */
	assert_int_equal(mpt_extkey_join_trunc64(g_key, MPT_EXTKEY_KEY_MIN, NS, NR, &o), 0);
	assert_int_equal(mpt_extkey_join_trunc64(g_key, MPT_EXTKEY_KEY_MAX, NS, NR, &o), 0);
	assert_int_equal(mpt_extkey_add_addr_hmac(g_key, MPT_EXTKEY_KEY_MAX, 1, &a4, 0, &o), 0);
	assert_int_equal(mpt_extkey_fastclose_hmac(TS, TR, g_key, MPT_EXTKEY_KEY_MAX, &o), 0);
	assert_int_equal(mpt_extkey_join_160(g_key, MPT_EXTKEY_KEY_MIN, NS, NR, o20), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idsn),
	    cmocka_unit_test(test_new_key),
	    cmocka_unit_test(test_fastclose),
	    cmocka_unit_test(test_join),
	    cmocka_unit_test(test_add_addr),
	    cmocka_unit_test(test_direction),
	    cmocka_unit_test(test_new_key_vs_fastclose),
	    cmocka_unit_test(test_inputs_matter),
	    cmocka_unit_test(test_same_as_rfc8684),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
