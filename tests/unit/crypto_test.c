/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP crypto: checks src/crypto against the vectors written by the
 * independent Python implementation (tests/vectors/gen_crypto_vectors.py),
 * against values published by others, and checks key generation and the
 * RFC 6528 ISN properties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/splitmix.h"
#include "common.h"
#include "crypto/crypto.h"
#include "wire/bytes.h"

#define VECTOR_FILE  MPT_SOURCE_DIR "/tests/vectors/crypto_vectors.txt"
#define MAX_FIELDS   16
#define LINE_MAX_LEN 512

/* ---- vector-line checker ------------------------------------------------ */

enum line_result {
	LINE_MISMATCH = 0, /* parsed, but the C result differs */
	LINE_OK = 1,       /* parsed and matched */
	LINE_SKIP = 2,     /* comment or blank */
	LINE_BAD = -1,     /* cannot parse */
};

enum line_kind { K_TOKEN, K_JOIN, K_ADDADDR, K_ISN, K_MAX };

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly `digits` hex digits into *v. */
static bool hex_u64(const char *s, size_t digits, uint64_t *v)
{
	uint64_t x = 0;
	if (strlen(s) != digits || digits > 16)
		return false;
	for (size_t i = 0; i < digits; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return false;
		x = x << 4 | (uint64_t)h;
	}
	*v = x;
	return true;
}

/* Hex string into bytes; *len receives the byte count. */
static bool hex_bytes(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s);
	if (n % 2 != 0 || n / 2 > max)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return true;
}

/* Split buf in place on single spaces; returns the field count. */
static int split(char *buf, char **f)
{
	int n = 0;
	char *p = buf;
	while (*p != '\0' && n < MAX_FIELDS) {
		f[n++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
		if (*p == ' ')
			*p++ = '\0';
	}
	return *p == '\0' ? n : -1;
}

static bool parse_addr(const char *fam, const char *hex, struct mpt_addr *a)
{
	size_t len = 0;
	memset(a, 0, sizeof(*a));
	if (strcmp(fam, "4") == 0)
		a->family = 4;
	else if (strcmp(fam, "6") == 0)
		a->family = 6;
	else
		return false;
	if (!hex_bytes(hex, a->bytes, sizeof(a->bytes), &len))
		return false;
	return len == (a->family == 4 ? 4u : 16u);
}

static int parse_version(const char *s)
{
	if (strcmp(s, "0") == 0)
		return MPT_CRYPTO_V0;
	if (strcmp(s, "1") == 0)
		return MPT_CRYPTO_V1;
	return -1;
}

static enum line_result check_token(char **f, int n)
{
	uint64_t key, idsn, tok, got_idsn = 0;
	uint32_t got_tok = 0;
	int ver;
	if (n != 5 || (ver = parse_version(f[1])) < 0 || !hex_u64(f[2], 16, &key) ||
	    !hex_u64(f[3], 16, &idsn) || !hex_u64(f[4], 8, &tok))
		return LINE_BAD;
	if (mpt_key_token_idsn(ver, key, &got_tok, &got_idsn) != 0)
		return LINE_MISMATCH;
	return got_tok == tok && got_idsn == idsn ? LINE_OK : LINE_MISMATCH;
}

static enum line_result check_join(char **f, int n)
{
	uint64_t ks, kr, ns, nr, t64, got64 = 0;
	uint8_t full[64], h160[32], got[MPT_CRYPTO_HMAC_MAX], got160[MPT_CRYPTO_JOIN_ACK_LEN];
	size_t full_len, h160_len, got_len = 0;
	int ver;
	if (n != 9 || (ver = parse_version(f[1])) < 0 || !hex_u64(f[2], 16, &ks) ||
	    !hex_u64(f[3], 16, &kr) || !hex_u64(f[4], 8, &ns) || !hex_u64(f[5], 8, &nr) ||
	    !hex_bytes(f[6], full, sizeof(full), &full_len) || !hex_u64(f[7], 16, &t64) ||
	    !hex_bytes(f[8], h160, sizeof(h160), &h160_len) || h160_len != 20)
		return LINE_BAD;
	if (full_len != (ver == MPT_CRYPTO_V1 ? 32u : 20u))
		return LINE_BAD;
	if (mpt_hmac_join(ver, ks, kr, (uint32_t)ns, (uint32_t)nr, got, &got_len) != 0 ||
	    got_len != full_len || memcmp(got, full, full_len) != 0)
		return LINE_MISMATCH;
	if (mpt_hmac_join_trunc64(ver, ks, kr, (uint32_t)ns, (uint32_t)nr, &got64) != 0 ||
	    got64 != t64)
		return LINE_MISMATCH;
	if (mpt_hmac_join_160(ver, ks, kr, (uint32_t)ns, (uint32_t)nr, got160) != 0 ||
	    memcmp(got160, h160, 20) != 0)
		return LINE_MISMATCH;
	return LINE_OK;
}

static enum line_result check_addaddr(char **f, int n)
{
	uint64_t ks, kr, id, port, t64, got = 0;
	uint8_t full[32];
	size_t full_len;
	struct mpt_addr a;
	if (n != 9 || !hex_u64(f[1], 16, &ks) || !hex_u64(f[2], 16, &kr) ||
	    !hex_u64(f[3], 2, &id) || !parse_addr(f[4], f[5], &a) || !hex_u64(f[6], 4, &port) ||
	    !hex_bytes(f[7], full, sizeof(full), &full_len) || full_len != 32 ||
	    !hex_u64(f[8], 16, &t64))
		return LINE_BAD;
	/* The file's trunc64 must be the rightmost 64 bits of its full HMAC
	 * (RFC 8684 §3.4.1); guards against a wrong generator. */
	if (mpt_get64(full + 24) != t64)
		return LINE_MISMATCH;
	if (mpt_hmac_add_addr(ks, kr, (uint8_t)id, &a, (uint16_t)port, &got) != 0)
		return LINE_MISMATCH;
	return got == t64 ? LINE_OK : LINE_MISMATCH;
}

static enum line_result check_isn(char **f, int n)
{
	uint8_t secret[16];
	size_t slen;
	uint64_t lport, rport, now, isn;
	uint32_t got = 0;
	struct mpt_addr la, ra;
	if (n != 10 || !hex_bytes(f[1], secret, sizeof(secret), &slen) || slen != 16 ||
	    !parse_addr(f[2], f[3], &la) || !hex_u64(f[4], 4, &lport) ||
	    !parse_addr(f[5], f[6], &ra) || !hex_u64(f[7], 4, &rport) || !hex_u64(f[8], 16, &now) ||
	    !hex_u64(f[9], 8, &isn))
		return LINE_BAD;
	if (mpt_isn_rfc6528(secret, &la, (uint16_t)lport, &ra, (uint16_t)rport, now, &got) != 0)
		return LINE_MISMATCH;
	return got == isn ? LINE_OK : LINE_MISMATCH;
}

/* Check one vector line; *kind receives its kind when parsed. */
static enum line_result check_line(const char *line, enum line_kind *kind)
{
	char buf[LINE_MAX_LEN];
	char *f[MAX_FIELDS];
	size_t len = strlen(line);
	int n;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0 || line[0] == '#')
		return LINE_SKIP;
	if (len >= sizeof(buf))
		return LINE_BAD;
	memcpy(buf, line, len);
	buf[len] = '\0';
	n = split(buf, f);
	if (n < 1)
		return LINE_BAD;
	if (strcmp(f[0], "token") == 0) {
		*kind = K_TOKEN;
		return check_token(f, n);
	}
	if (strcmp(f[0], "join") == 0) {
		*kind = K_JOIN;
		return check_join(f, n);
	}
	if (strcmp(f[0], "addaddr") == 0) {
		*kind = K_ADDADDR;
		return check_addaddr(f, n);
	}
	if (strcmp(f[0], "isn") == 0) {
		*kind = K_ISN;
		return check_isn(f, n);
	}
	return LINE_BAD;
}

/* Read the vector file into lines[]; returns the number of lines. */
static int read_vectors(char (*lines)[LINE_MAX_LEN], int max)
{
	FILE *fp = fopen(VECTOR_FILE, "r");
	int n = 0;
	assert_non_null(fp);
	while (n < max && fgets(lines[n], LINE_MAX_LEN, fp) != NULL) {
		/* A line longer than the buffer would be split: refuse it. */
		assert_non_null(strchr(lines[n], '\n'));
		n++;
	}
	assert_true(feof(fp));
	fclose(fp);
	return n;
}

#define MAX_LINES 1024
static char g_lines[MAX_LINES][LINE_MAX_LEN];

static void test_vector_file(void **state)
{
	(void)state;
	int n = read_vectors(g_lines, MAX_LINES);
	int count[K_MAX] = {0};
	for (int i = 0; i < n; i++) {
		enum line_kind kind = K_MAX;
		enum line_result r = check_line(g_lines[i], &kind);
		if (r == LINE_SKIP)
			continue;
		if (r != LINE_OK)
			fail_msg("vector line %d %s: %s", i + 1,
				 r == LINE_BAD ? "unparsable" : "MISMATCH", g_lines[i]);
		count[kind]++;
	}
	/* The file must really exercise every function (an empty or
	 * truncated file must not pass). */
	assert_true(count[K_TOKEN] >= 40);
	assert_true(count[K_JOIN] >= 40);
	assert_true(count[K_ADDADDR] >= 12);
	assert_true(count[K_ISN] >= 12);
}

/* Change one hex digit at p to a different one. */
static void flip_hex(char *p)
{
	*p = *p == '0' ? '1' : '0';
}

/* Every line, corrupted in its expected output or in an input, must fail. */
static void test_vector_file_corrupted(void **state)
{
	(void)state;
	int n = read_vectors(g_lines, MAX_LINES);
	int checked = 0;
	for (int i = 0; i < n; i++) {
		char line[LINE_MAX_LEN];
		enum line_kind kind = K_MAX;
		if (check_line(g_lines[i], &kind) != LINE_OK)
			continue;
		/* 1. last field = an expected output: flip its last digit. */
		strcpy(line, g_lines[i]);
		size_t len = strcspn(line, "\r\n");
		line[len] = '\0';
		flip_hex(&line[len - 1]);
		assert_int_equal(check_line(line, &kind), LINE_MISMATCH);
		/* 2. an input: the first digit of the first key/secret field
		 * (field 2 for "token 1 <key>", "join 1 <key>"; field 1 for
		 * "addaddr <key>", "isn <secret>"). */
		strcpy(line, g_lines[i]);
		char *p = strchr(line, ' ') + 1;
		if (kind == K_TOKEN || kind == K_JOIN)
			p = strchr(p, ' ') + 1;
		flip_hex(p);
		assert_int_equal(check_line(line, &kind), LINE_MISMATCH);
		checked++;
	}
	assert_true(checked > 100);
	/* Malformed lines are reported as such, not as a pass. */
	enum line_kind kind;
	assert_int_equal(check_line("token 1 00 00 00", &kind), LINE_BAD);
	assert_int_equal(check_line("token 2 0000000000000000 e5b2328de0e83dfc af5570f5", &kind),
			 LINE_BAD);
	assert_int_equal(check_line("bogus 1", &kind), LINE_BAD);
	assert_int_equal(check_line("token 1 0000000000000000 e5b2328de0e83dfc af5570f5", &kind),
			 LINE_OK);
}

/* ---- values published by other implementations --------------------------- */

static void hex_to(const char *s, uint8_t *out, size_t want)
{
	size_t len = 0;
	assert_true(hex_bytes(s, out, want, &len));
	assert_int_equal(len, want);
}

/* Linux net/mptcp/crypto_test.c (KUnit): keys/nonces are the big-endian
 * values of ASCII strings; expected HMAC-SHA256 hard-coded there. */
static void test_published_linux_kunit(void **state)
{
	(void)state;
	static const struct {
		const char *key, *msg, *result;
	} v[] = {
	    {"0b0b0b0b0b0b0b0b", "48692054",
	     "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa"},
	    {"aaaaaaaaaaaaaaaa", "dddddddd",
	     "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9"},
	    {"0102030405060708", "cdcdcdcd",
	     "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const uint8_t *k = (const uint8_t *)v[i].key, *m = (const uint8_t *)v[i].msg;
		uint8_t want[32], got[MPT_CRYPTO_HMAC_MAX];
		size_t len = 0;
		hex_to(v[i].result, want, 32);
		assert_int_equal(mpt_hmac_join(MPT_CRYPTO_V1, mpt_get64(k), mpt_get64(k + 8),
					       mpt_get32(m), mpt_get32(m + 4), got, &len),
				 0);
		assert_int_equal(len, 32);
		assert_memory_equal(got, want, 32);
	}
}

/* v0 tokens of keys from a real RFC 6824 capture (published decimal values). */
static void test_published_v0_tokens(void **state)
{
	(void)state;
	static const struct {
		uint64_t key;
		uint32_t token;
	} v[] = {
	    {UINT64_C(2097874973131745533), 3453009450u},
	    {UINT64_C(14232633393355152416), 1187499290u},
	    {UINT64_C(983142155943229432), 3611618124u},
	    {UINT64_C(6234784353306747016), 2308765430u},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t tok = 0;
		assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V0, v[i].key, &tok, NULL), 0);
		assert_int_equal(tok, v[i].token);
	}
}

/* ---- key generation ------------------------------------------------------ */

struct fake_rand {
	uint64_t state; /* splitmix64 state */
	size_t calls, bytes;
};

static void fake_rand_fn(uint8_t *buf, size_t len, void *ud)
{
	struct fake_rand *r = ud;
	r->calls++;
	r->bytes += len;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)mpt_splitmix64(&r->state);
}

static void counting_rand_fn(uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(0x01 + i);
}

static void test_key_gen(void **state)
{
	(void)state;
	/* Bytes 01 02 .. 08 become the key 0x0102030405060708: network order. */
	assert_int_equal(mpt_key_gen(counting_rand_fn, NULL), UINT64_C(0x0102030405060708));

	struct fake_rand a = {.state = 42}, b = {.state = 42}, c = {.state = 43};
	uint64_t ka = mpt_key_gen(fake_rand_fn, &a);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.bytes, 8);
	/* Same seed, same key (simulations replay); another seed differs. */
	assert_int_equal(ka, mpt_key_gen(fake_rand_fn, &b));
	assert_int_not_equal(ka, mpt_key_gen(fake_rand_fn, &c));
	/* Successive keys differ and their tokens are distinct. */
	uint64_t keys[64];
	uint32_t toks[64];
	for (int i = 0; i < 64; i++) {
		keys[i] = mpt_key_gen(fake_rand_fn, &a);
		assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V1, keys[i], &toks[i], NULL), 0);
		for (int j = 0; j < i; j++) {
			assert_int_not_equal(keys[i], keys[j]);
			assert_int_not_equal(toks[i], toks[j]);
		}
	}
	assert_int_equal(a.bytes, 8 * 65);
}

/* ---- token / join / add_addr properties and errors ----------------------- */

static void test_token_errors(void **state)
{
	(void)state;
	uint32_t tok = 0x11111111;
	uint64_t idsn = 0x2222222222222222;
	assert_int_equal(mpt_key_token_idsn(2, 1, &tok, &idsn), MPT_ERR_UNSUPPORTED);
	assert_int_equal(mpt_key_token_idsn(-1, 1, &tok, &idsn), MPT_ERR_UNSUPPORTED);
	assert_int_equal(tok, 0x11111111);
	assert_int_equal(idsn, 0x2222222222222222);
	/* Either output may be omitted; both versions give different values. */
	assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V1, 1, NULL, NULL), 0);
	uint32_t t0 = 0, t1 = 0;
	assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V0, 1, &t0, NULL), 0);
	assert_int_equal(mpt_key_token_idsn(MPT_CRYPTO_V1, 1, &t1, NULL), 0);
	assert_int_not_equal(t0, t1);
}

static void test_join_roles(void **state)
{
	(void)state;
	const uint64_t key_a = UINT64_C(0x0123456789abcdef), key_b = UINT64_C(0xfedcba9876543210);
	const uint32_t r_a = 0xa1a2a3a4, r_b = 0xb1b2b3b4;
	for (int ver = 0; ver <= 1; ver++) {
		uint8_t ha[MPT_CRYPTO_HMAC_MAX], hb[MPT_CRYPTO_HMAC_MAX];
		uint8_t ack[MPT_CRYPTO_JOIN_ACK_LEN];
		size_t la = 0, lb = 0;
		uint64_t t64 = 0;
		/* HMAC-A (sent by A in the third ACK) and HMAC-B (SYN/ACK). */
		assert_int_equal(mpt_hmac_join(ver, key_a, key_b, r_a, r_b, ha, &la), 0);
		assert_int_equal(mpt_hmac_join(ver, key_b, key_a, r_b, r_a, hb, &lb), 0);
		assert_int_equal(la, ver == 1 ? 32 : 20);
		assert_int_equal(lb, la);
		assert_memory_not_equal(ha, hb, la);
		/* Truncations are the leftmost octets. */
		assert_int_equal(mpt_hmac_join_trunc64(ver, key_b, key_a, r_b, r_a, &t64), 0);
		assert_int_equal(t64, mpt_get64(hb));
		assert_int_equal(mpt_hmac_join_160(ver, key_a, key_b, r_a, r_b, ack), 0);
		assert_memory_equal(ack, ha, 20);
		/* Keys and nonces are not interchangeable. */
		uint8_t hx[MPT_CRYPTO_HMAC_MAX];
		size_t lx = 0;
		assert_int_equal(mpt_hmac_join(ver, key_a, key_b, r_b, r_a, hx, &lx), 0);
		assert_memory_not_equal(ha, hx, la);
		assert_int_equal(mpt_hmac_join(ver, key_b, key_a, r_a, r_b, hx, &lx), 0);
		assert_memory_not_equal(ha, hx, la);
		/* Receiver side check with the constant-time comparison. */
		assert_true(mpt_crypto_memeq(ack, ha, 20));
		ack[19] ^= 1;
		assert_false(mpt_crypto_memeq(ack, ha, 20));
	}
	uint8_t h[MPT_CRYPTO_HMAC_MAX];
	size_t len = 0;
	uint64_t t64 = 7;
	assert_int_equal(mpt_hmac_join(2, 1, 2, 3, 4, h, &len), MPT_ERR_UNSUPPORTED);
	assert_int_equal(mpt_hmac_join(1, 1, 2, 3, 4, NULL, &len), MPT_ERR_INVAL);
	assert_int_equal(mpt_hmac_join(1, 1, 2, 3, 4, h, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_hmac_join_trunc64(5, 1, 2, 3, 4, &t64), MPT_ERR_UNSUPPORTED);
	assert_int_equal(t64, 7);
	assert_int_equal(mpt_hmac_join_trunc64(1, 1, 2, 3, 4, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_hmac_join_160(1, 1, 2, 3, 4, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_hmac_join_160(-3, 1, 2, 3, 4, h), MPT_ERR_UNSUPPORTED);
}

static void test_add_addr(void **state)
{
	(void)state;
	struct mpt_addr v4 = {.family = 4, .bytes = {192, 0, 2, 1}};
	struct mpt_addr v6 = {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	uint64_t h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0;
	assert_int_equal(mpt_hmac_add_addr(1, 2, 1, &v4, 0, &h1), 0);
	assert_int_equal(mpt_hmac_add_addr(1, 2, 1, &v4, 8080, &h2), 0);
	assert_int_equal(mpt_hmac_add_addr(1, 2, 2, &v4, 0, &h3), 0);
	assert_int_equal(mpt_hmac_add_addr(2, 1, 1, &v4, 0, &h4), 0);
	assert_int_equal(mpt_hmac_add_addr(1, 2, 1, &v6, 0, &h5), 0);
	assert_int_not_equal(h1, h2); /* port covered */
	assert_int_not_equal(h1, h3); /* address id covered */
	assert_int_not_equal(h1, h4); /* key order matters */
	assert_int_not_equal(h1, h5); /* family/length covered */
	/* Bytes past the IPv4 address are not hashed. */
	struct mpt_addr junk = v4;
	memset(junk.bytes + 4, 0xee, 12);
	assert_int_equal(mpt_hmac_add_addr(1, 2, 1, &junk, 0, &h2), 0);
	assert_int_equal(h1, h2);

	struct mpt_addr bad = {.family = 5};
	uint64_t out = 99;
	assert_int_equal(mpt_hmac_add_addr(1, 2, 1, &bad, 0, &out), MPT_ERR_INVAL);
	assert_int_equal(mpt_hmac_add_addr(1, 2, 1, NULL, 0, &out), MPT_ERR_INVAL);
	assert_int_equal(mpt_hmac_add_addr(1, 2, 1, &v4, 0, NULL), MPT_ERR_INVAL);
	assert_int_equal(out, 99);
}

/* ---- RFC 6528 ISN -------------------------------------------------------- */

static uint32_t isn_of(const uint8_t *secret, const struct mpt_addr *la, uint16_t lp,
		       const struct mpt_addr *ra, uint16_t rp, uint64_t now)
{
	uint32_t isn = 0;
	assert_int_equal(mpt_isn_rfc6528(secret, la, lp, ra, rp, now, &isn), 0);
	return isn;
}

static void test_isn(void **state)
{
	(void)state;
	uint8_t s1[16], s2[16];
	struct fake_rand r = {.state = 6528};
	fake_rand_fn(s1, sizeof(s1), &r);
	memcpy(s2, s1, sizeof(s2));
	s2[15] ^= 0x80;
	struct mpt_addr la = {.family = 4, .bytes = {10, 0, 0, 1}};
	struct mpt_addr ra = {.family = 4, .bytes = {10, 0, 0, 2}};
	struct mpt_addr la2 = {.family = 4, .bytes = {10, 0, 0, 3}};
	struct mpt_addr la6 = {.family = 6, .bytes = {10, 0, 0, 1}};
	const uint64_t t = UINT64_C(123456789012345);
	uint32_t base = isn_of(s1, &la, 1000, &ra, 80, t);

	/* F depends on every part of the 4-tuple, on the family and on the secret. */
	assert_int_not_equal(base, isn_of(s2, &la, 1000, &ra, 80, t));
	assert_int_not_equal(base, isn_of(s1, &la2, 1000, &ra, 80, t));
	assert_int_not_equal(base, isn_of(s1, &la, 1001, &ra, 80, t));
	assert_int_not_equal(base, isn_of(s1, &la, 1000, &la2, 80, t));
	assert_int_not_equal(base, isn_of(s1, &la, 1000, &ra, 81, t));
	assert_int_not_equal(base, isn_of(s1, &ra, 1000, &la, 80, t)); /* direction */
	assert_int_not_equal(base, isn_of(s1, &la6, 1000, &ra, 80, t));
	assert_int_equal(base, isn_of(s1, &la, 1000, &ra, 80, t)); /* deterministic */

	/* M: one tick per 4 microseconds, added modulo 2^32. */
	uint64_t t0 = t - t % 4000;
	uint32_t i0 = isn_of(s1, &la, 1000, &ra, 80, t0);
	assert_int_equal(isn_of(s1, &la, 1000, &ra, 80, t0 + 3999), i0);
	assert_int_equal(isn_of(s1, &la, 1000, &ra, 80, t0 + 4000), i0 + 1);
	assert_int_equal(isn_of(s1, &la, 1000, &ra, 80, t0 + MPT_NS_PER_S),
			 (uint32_t)(i0 + 250000));
	/* Monotonic for one 4-tuple as time goes on (within half the space). */
	uint32_t prev = i0;
	for (uint64_t k = 1; k < 1000; k += 37) {
		uint32_t cur = isn_of(s1, &la, 1000, &ra, 80, t0 + k * 4000 * 1000);
		assert_int_equal(cur, (uint32_t)(i0 + k * 1000));
		assert_true(mpt_seq_gt(cur, prev));
		prev = cur;
	}
	/* The timer wraps after 2^32 ticks (~4.77 h): same ISN again. */
	assert_int_equal(isn_of(s1, &la, 1000, &ra, 80, t0 + (UINT64_C(4000) << 32)), i0);
	/* Time 0 gives F alone: the difference of two tuples at t and at 0 is M-free. */
	uint32_t f_a = isn_of(s1, &la, 1000, &ra, 80, 0);
	uint32_t f_b = isn_of(s1, &la2, 1000, &ra, 80, 0);
	assert_int_equal((uint32_t)(isn_of(s1, &la, 1000, &ra, 80, t) - f_a),
			 (uint32_t)(isn_of(s1, &la2, 1000, &ra, 80, t) - f_b));
	assert_int_equal((uint32_t)(isn_of(s1, &la, 1000, &ra, 80, t) - f_a), (uint32_t)(t / 4000));

	struct mpt_addr bad = {.family = 0};
	uint32_t out = 5;
	assert_int_equal(mpt_isn_rfc6528(s1, &bad, 1, &ra, 2, t, &out), MPT_ERR_INVAL);
	assert_int_equal(mpt_isn_rfc6528(s1, &la, 1, &bad, 2, t, &out), MPT_ERR_INVAL);
	assert_int_equal(mpt_isn_rfc6528(NULL, &la, 1, &ra, 2, t, &out), MPT_ERR_INVAL);
	assert_int_equal(mpt_isn_rfc6528(s1, NULL, 1, &ra, 2, t, &out), MPT_ERR_INVAL);
	assert_int_equal(mpt_isn_rfc6528(s1, &la, 1, NULL, 2, t, &out), MPT_ERR_INVAL);
	assert_int_equal(mpt_isn_rfc6528(s1, &la, 1, &ra, 2, t, NULL), MPT_ERR_INVAL);
	assert_int_equal(out, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vector_file),
	    cmocka_unit_test(test_vector_file_corrupted),
	    cmocka_unit_test(test_published_linux_kunit),
	    cmocka_unit_test(test_published_v0_tokens),
	    cmocka_unit_test(test_key_gen),
	    cmocka_unit_test(test_token_errors),
	    cmocka_unit_test(test_join_roles),
	    cmocka_unit_test(test_add_addr),
	    cmocka_unit_test(test_isn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
