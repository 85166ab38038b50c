/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP keys, tokens, IDSNs and HMACs (RFC 8684 §3.1, §3.2, §3.4.1; RFC 6824
 * §3.1, §3.2; external keys, draft-baerts-tcpm-mptcpext-00) and RFC 6528
 * ISNs, all computed with OpenSSL libcrypto.
 * See crypto.h for the exact definitions.
 *
 * Why the low-level SHA1_* / SHA256_* functions and not EVP: the engine
 * allocates nothing per packet (DEVELOPERS.md), and with OpenSSL 3.0 every
 * EVP route allocates inside libcrypto on each call, outside cfg.mem
 * (measured with a CRYPTO_set_mem_functions counter on 3.0.19): HMAC() 13
 * allocations, EVP_Digest() 3 (2 with a pre-fetched EVP_MD), and even a
 * context prepared once and reused costs one per call - EVP_DigestInit_ex()
 * on the same digest frees and reallocates the provider context, and
 * EVP_MD_CTX_copy_ex() into a preallocated context duplicates it
 * (EVP_MAC_init() with the key kept: 2, EVP_MAC_CTX_dup(): 11).  Later
 * OpenSSL releases reuse the context in EVP_DigestInit_ex (openssl PR 18105)
 * and copy into an existing one (PR 25726), but Debian 12 ships 3.0.  The
 * SHA_CTX / SHA256_CTX structures live on our stack and the block functions
 * never allocate; they are deprecated in 3.0 but present in every 3.x
 * build with deprecated APIs (the default, Debian's included).
 * tests/unit/crypto_alloc_test.c fails if any function here, or a whole
 * simulated transfer, makes libcrypto allocate.
 *
 * HMAC (RFC 2104 §2) is the textbook composition of that hash; the results
 * are checked against an independent implementation's vectors
 * (tests/unit/crypto_test.c, tests/unit/crypto_extkey_test.c).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA1_Init & co.: see above */

#include <openssl/crypto.h>
#include <openssl/opensslconf.h>
#include <openssl/sha.h>

#include "common.h"
#include "crypto/crypto.h"
#include "wire/bytes.h"

#if defined(OPENSSL_NO_DEPRECATED_3_0)
#error "src/crypto needs OpenSSL's SHA1_Init/SHA256_Init (built without no-deprecated)"
#endif

/* The two hashes: RFC 8684 (v1) uses SHA-256, RFC 6824 (v0) SHA-1. */
enum hash_alg { HASH_NONE, HASH_SHA1, HASH_SHA256 };

/* Block size of both hashes (FIPS 180-4 §1: 512-bit blocks). */
#define HASH_BLOCK 64

union hash_ctx {
	SHA_CTX sha1;
	SHA256_CTX sha256;
};

static enum hash_alg version_alg(int version)
{
	switch (version) {
	case MPT_CRYPTO_V0:
		return HASH_SHA1;
	case MPT_CRYPTO_V1:
		return HASH_SHA256;
	default:
		return HASH_NONE;
	}
}

/* Output length of alg: 20 or 32 octets (both <= MPT_CRYPTO_HMAC_MAX). */
static size_t hash_len(enum hash_alg alg)
{
	return alg == HASH_SHA1 ? SHA_DIGEST_LENGTH : SHA256_DIGEST_LENGTH;
}

/* The three steps of a hash; each returns true on success. */
static bool hash_init(enum hash_alg alg, union hash_ctx *c)
{
	return alg == HASH_SHA1 ? SHA1_Init(&c->sha1) == 1 : SHA256_Init(&c->sha256) == 1;
}

static bool hash_update(enum hash_alg alg, union hash_ctx *c, const void *p, size_t n)
{
	return alg == HASH_SHA1 ? SHA1_Update(&c->sha1, p, n) == 1
				: SHA256_Update(&c->sha256, p, n) == 1;
}

static bool hash_final(enum hash_alg alg, union hash_ctx *c, uint8_t out[MPT_CRYPTO_HMAC_MAX])
{
	return alg == HASH_SHA1 ? SHA1_Final(out, &c->sha1) == 1
				: SHA256_Final(out, &c->sha256) == 1;
}

/*
 * HMAC (RFC 2104 §2): H(K ^ opad || H(K ^ ipad || msg)), K the key padded
 * with zeros to the block size.  Every key here is 8 to 64 octets (two
 * tokens, two MPTCP keys, a secret, an external key of at most
 * MPT_EXTKEY_KEY_MAX = HASH_BLOCK), so a key longer than a block (which
 * RFC 2104 would hash first) is refused.  out holds MPT_CRYPTO_HMAC_MAX
 * octets.  Returns the output length, or MPT_ERR_PROTO when alg is
 * unknown, the key too long or OpenSSL fails.
 */
static int hmac(enum hash_alg alg, const uint8_t *key, size_t key_len, const uint8_t *msg,
		size_t msg_len, uint8_t out[MPT_CRYPTO_HMAC_MAX])
{
	uint8_t pad[HASH_BLOCK], inner[MPT_CRYPTO_HMAC_MAX];
	union hash_ctx c;
	size_t n;
	bool ok;

	if (alg == HASH_NONE || key_len > HASH_BLOCK)
		return MPT_ERR_PROTO;
	n = hash_len(alg);
	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	ok = hash_init(alg, &c) && hash_update(alg, &c, pad, sizeof(pad)) &&
	     hash_update(alg, &c, msg, msg_len) && hash_final(alg, &c, inner);
	/* opad = ipad ^ (0x36 ^ 0x5c), applied to the same padded key. */
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	ok = ok && hash_init(alg, &c) && hash_update(alg, &c, pad, sizeof(pad)) &&
	     hash_update(alg, &c, inner, n) && hash_final(alg, &c, out);
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(&c, sizeof(c));
	return ok ? (int)n : MPT_ERR_PROTO;
}

uint64_t mpt_key_gen(mpt_rand_fn rnd, void *ud)
{
	uint8_t buf[8];
	uint64_t key;

	/* RFC 8684 §3.1: the key is 64 bits of random data, sent in network
	 * byte order, so read the random octets big-endian. */
	rnd(buf, sizeof(buf), ud);
	key = mpt_get64(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	return key;
}

int mpt_key_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn)
{
	enum hash_alg alg = version_alg(version);
	uint8_t kbuf[8];
	uint8_t digest[MPT_CRYPTO_HMAC_MAX];
	union hash_ctx c;
	size_t len;

	if (alg == HASH_NONE)
		return MPT_ERR_UNSUPPORTED;
	len = hash_len(alg);
	mpt_put64(kbuf, key);
	if (!hash_init(alg, &c) || !hash_update(alg, &c, kbuf, sizeof(kbuf)) ||
	    !hash_final(alg, &c, digest))
		return MPT_ERR_PROTO;
	/* RFC 8684 §3.1: token = most significant 32 bits of the hash;
	 * IDSN = least significant 64 bits.  A big-endian digest's most
	 * significant bits are its first octets. */
	if (token != NULL)
		*token = mpt_get32(digest);
	if (idsn != NULL)
		*idsn = mpt_get64(digest + len - 8);
	return 0;
}

int mpt_hmac_join(int version, uint64_t key_sender, uint64_t key_receiver, uint32_t nonce_sender,
		  uint32_t nonce_receiver, uint8_t out[MPT_CRYPTO_HMAC_MAX], size_t *out_len)
{
	enum hash_alg alg = version_alg(version);
	uint8_t key[16], msg[8];
	int rc;

	if (out == NULL || out_len == NULL)
		return MPT_ERR_INVAL;
	if (alg == HASH_NONE)
		return MPT_ERR_UNSUPPORTED;
	/* RFC 8684 §3.2: HMAC-A = HMAC(Key=(Key-A+Key-B), Msg=(R-A+R-B)),
	 * HMAC-B = HMAC(Key=(Key-B+Key-A), Msg=(R-B+R-A)): the sender's key
	 * and nonce come first. */
	mpt_put64(key, key_sender);
	mpt_put64(key + 8, key_receiver);
	mpt_put32(msg, nonce_sender);
	mpt_put32(msg + 4, nonce_receiver);
	rc = hmac(alg, key, sizeof(key), msg, sizeof(msg), out);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc < 0)
		return rc;
	*out_len = (size_t)rc;
	return 0;
}

int mpt_hmac_join_trunc64(int version, uint64_t key_sender, uint64_t key_receiver,
			  uint32_t nonce_sender, uint32_t nonce_receiver, uint64_t *out)
{
	uint8_t h[MPT_CRYPTO_HMAC_MAX];
	size_t len = 0;
	int rc;

	if (out == NULL)
		return MPT_ERR_INVAL;
	rc =
	    mpt_hmac_join(version, key_sender, key_receiver, nonce_sender, nonce_receiver, h, &len);
	if (rc < 0)
		return rc;
	/* RFC 8684 §3.2: the SYN/ACK carries the leftmost 64 bits. */
	*out = mpt_get64(h);
	return 0;
}

int mpt_hmac_join_160(int version, uint64_t key_sender, uint64_t key_receiver,
		      uint32_t nonce_sender, uint32_t nonce_receiver,
		      uint8_t out[MPT_CRYPTO_JOIN_ACK_LEN])
{
	uint8_t h[MPT_CRYPTO_HMAC_MAX];
	size_t len = 0;
	int rc;

	if (out == NULL)
		return MPT_ERR_INVAL;
	rc =
	    mpt_hmac_join(version, key_sender, key_receiver, nonce_sender, nonce_receiver, h, &len);
	if (rc < 0)
		return rc;
	if (len < MPT_CRYPTO_JOIN_ACK_LEN)
		return MPT_ERR_PROTO;
	/* RFC 8684 §3.2: the third ACK carries the leftmost 160 bits (all of
	 * an HMAC-SHA1 in v0). */
	memcpy(out, h, MPT_CRYPTO_JOIN_ACK_LEN);
	return 0;
}

/* Octets of an address to hash: 4 for IPv4, 16 for IPv6, 0 if invalid. */
static size_t addr_len(const struct mpt_addr *a)
{
	if (a->family == 4)
		return 4;
	if (a->family == 6)
		return 16;
	return 0;
}

/*
 * The ADD_ADDR HMAC under any HMAC key (RFC 8684 §3.4.1): the message is
 * Address ID, IP address and port, with 2 zero octets when the option has
 * no port; the option carries the rightmost 64 bits, returned big-endian.
 * Shared by mpt_hmac_add_addr() (key = Key-A || Key-B) and
 * mpt_extkey_add_addr_hmac() (key = the external key).  The caller has
 * checked every pointer; a bad family is MPT_ERR_INVAL.
 */
static int add_addr_hmac(const uint8_t *key, size_t key_len, uint8_t addr_id,
			 const struct mpt_addr *addr, uint16_t port, uint64_t *out)
{
	uint8_t msg[1 + 16 + 2], h[MPT_CRYPTO_HMAC_MAX];
	size_t alen = addr_len(addr);
	int rc;

	if (alen == 0)
		return MPT_ERR_INVAL;
	msg[0] = addr_id;
	memcpy(msg + 1, addr->bytes, alen);
	mpt_put16(msg + 1 + alen, port);
	rc = hmac(HASH_SHA256, key, key_len, msg, 1 + alen + 2, h);
	if (rc < 8)
		return rc < 0 ? rc : MPT_ERR_PROTO;
	/* RFC 8684 §3.4.1: the option carries the rightmost 64 bits. */
	*out = mpt_get64(h + rc - 8);
	return 0;
}

int mpt_hmac_add_addr(uint64_t key_sender, uint64_t key_receiver, uint8_t addr_id,
		      const struct mpt_addr *addr, uint16_t port, uint64_t *out)
{
	uint8_t key[16];
	int rc;

	if (addr == NULL || out == NULL)
		return MPT_ERR_INVAL;
	/* RFC 8684 §3.4.1: the key is the sender's key followed by the
	 * receiver's, as for MP_JOIN. */
	mpt_put64(key, key_sender);
	mpt_put64(key + 8, key_receiver);
	rc = add_addr_hmac(key, sizeof(key), addr_id, addr, port, out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* ---- external keys (draft-baerts-tcpm-mptcpext-00) ----------------------- */

/* An external key the API accepts (docs/external-keys.md decision 18). */
static bool extkey_ok(const uint8_t *key, size_t key_len)
{
	return key != NULL && key_len >= MPT_EXTKEY_KEY_MIN && key_len <= MPT_EXTKEY_KEY_MAX;
}

int mpt_extkey_idsn(uint32_t token, uint64_t *idsn)
{
	uint8_t tbuf[4], digest[MPT_CRYPTO_HMAC_MAX];
	union hash_ctx c;

	if (idsn == NULL)
		return MPT_ERR_INVAL;
	/* Decision 14: RFC 8684 §3.1's IDSN (least significant 64 bits of
	 * SHA-256) over the 4-octet token in network byte order. */
	mpt_put32(tbuf, token);
	if (!hash_init(HASH_SHA256, &c) || !hash_update(HASH_SHA256, &c, tbuf, sizeof(tbuf)) ||
	    !hash_final(HASH_SHA256, &c, digest))
		return MPT_ERR_PROTO;
	*idsn = mpt_get64(digest + SHA256_DIGEST_LENGTH - 8);
	return 0;
}

/*
 * HMAC-SHA256 keyed with token_sender || token_receiver (network order)
 * over msg: the HMAC key of NEW_KEY (draft §4.2, decision 7) and of
 * MP_FASTCLOSE (decision 12).  Returns the output length or MPT_ERR_PROTO.
 */
static int token_hmac(uint32_t token_sender, uint32_t token_receiver, const uint8_t *msg,
		      size_t msg_len, uint8_t out[MPT_CRYPTO_HMAC_MAX])
{
	uint8_t tkey[8];

	mpt_put32(tkey, token_sender);
	mpt_put32(tkey + 4, token_receiver);
	return hmac(HASH_SHA256, tkey, sizeof(tkey), msg, msg_len, out);
}

int mpt_extkey_new_key_hmac(uint32_t token_sender, uint32_t token_receiver, const uint8_t *key,
			    size_t key_len, uint8_t out[8])
{
	uint8_t h[MPT_CRYPTO_HMAC_MAX];
	int rc;

	if (!extkey_ok(key, key_len) || out == NULL)
		return MPT_ERR_INVAL;
	rc = token_hmac(token_sender, token_receiver, key, key_len, h);
	if (rc < 8) {
		OPENSSL_cleanse(h, sizeof(h));
		return rc < 0 ? rc : MPT_ERR_PROTO;
	}
	/* Decision 7: "low order 64 bits" = the last 8 octets. */
	memcpy(out, h + rc - 8, 8);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

int mpt_extkey_fastclose_hmac(uint32_t token_sender, uint32_t token_receiver, const uint8_t *key,
			      size_t key_len, uint64_t *out)
{
	static const char label[] = MPT_EXTKEY_FASTCLOSE_LABEL;
	uint8_t msg[MPT_EXTKEY_KEY_MAX + sizeof(label) - 1], h[MPT_CRYPTO_HMAC_MAX];
	int rc;

	if (!extkey_ok(key, key_len) || out == NULL)
		return MPT_ERR_INVAL;
	/* Decision 12: NEW_KEY's message followed by the label (no NUL), so
	 * that a NEW_KEY seen in the clear does not give the MP_FASTCLOSE. */
	memcpy(msg, key, key_len);
	memcpy(msg + key_len, label, sizeof(label) - 1);
	rc = token_hmac(token_sender, token_receiver, msg, key_len + sizeof(label) - 1, h);
	OPENSSL_cleanse(msg, sizeof(msg));
	if (rc < 8) {
		OPENSSL_cleanse(h, sizeof(h));
		return rc < 0 ? rc : MPT_ERR_PROTO;
	}
	/* The truncation of NEW_KEY: the last 8 octets. */
	*out = mpt_get64(h + rc - 8);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

/*
 * The MP_JOIN HMAC under an external key (decision 13): RFC 8684 §3.2's
 * message (the sender's nonce first) keyed with the external key.  The
 * caller has checked the key.  Returns the output length or MPT_ERR_PROTO.
 */
static int extkey_join(const uint8_t *key, size_t key_len, uint32_t nonce_sender,
		       uint32_t nonce_receiver, uint8_t out[MPT_CRYPTO_HMAC_MAX])
{
	uint8_t msg[8];

	mpt_put32(msg, nonce_sender);
	mpt_put32(msg + 4, nonce_receiver);
	return hmac(HASH_SHA256, key, key_len, msg, sizeof(msg), out);
}

int mpt_extkey_join_trunc64(const uint8_t *key, size_t key_len, uint32_t nonce_sender,
			    uint32_t nonce_receiver, uint64_t *out)
{
	uint8_t h[MPT_CRYPTO_HMAC_MAX];
	int rc;

	if (!extkey_ok(key, key_len) || out == NULL)
		return MPT_ERR_INVAL;
	rc = extkey_join(key, key_len, nonce_sender, nonce_receiver, h);
	if (rc < 8)
		return rc < 0 ? rc : MPT_ERR_PROTO;
	/* RFC 8684 §3.2: the SYN/ACK carries the leftmost 64 bits. */
	*out = mpt_get64(h);
	return 0;
}

int mpt_extkey_join_160(const uint8_t *key, size_t key_len, uint32_t nonce_sender,
			uint32_t nonce_receiver, uint8_t out[MPT_CRYPTO_JOIN_ACK_LEN])
{
	uint8_t h[MPT_CRYPTO_HMAC_MAX];
	int rc;

	if (!extkey_ok(key, key_len) || out == NULL)
		return MPT_ERR_INVAL;
	rc = extkey_join(key, key_len, nonce_sender, nonce_receiver, h);
	if (rc < MPT_CRYPTO_JOIN_ACK_LEN)
		return rc < 0 ? rc : MPT_ERR_PROTO;
	/* RFC 8684 §3.2: the third ACK carries the leftmost 160 bits. */
	memcpy(out, h, MPT_CRYPTO_JOIN_ACK_LEN);
	return 0;
}

int mpt_extkey_add_addr_hmac(const uint8_t *key, size_t key_len, uint8_t addr_id,
			     const struct mpt_addr *addr, uint16_t port, uint64_t *out)
{
	if (!extkey_ok(key, key_len) || addr == NULL || out == NULL)
		return MPT_ERR_INVAL;
	/* Decision 13: the external key in place of Key-A || Key-B. */
	return add_addr_hmac(key, key_len, addr_id, addr, port, out);
}

/* Append family || address || port to buf at *off (buf holds 2 * 19 octets). */
static void put_endpoint(uint8_t *buf, size_t *off, const struct mpt_addr *a, size_t alen,
			 uint16_t port)
{
	buf[*off] = a->family;
	memcpy(buf + *off + 1, a->bytes, alen);
	mpt_put16(buf + *off + 1 + alen, port);
	*off += 1 + alen + 2;
}

int mpt_isn_rfc6528(const uint8_t secret[MPT_CRYPTO_ISN_SECRET_LEN], const struct mpt_addr *laddr,
		    uint16_t lport, const struct mpt_addr *raddr, uint16_t rport, uint64_t now_ns,
		    uint32_t *isn)
{
	uint8_t msg[2 * (1 + 16 + 2)], h[MPT_CRYPTO_HMAC_MAX];
	size_t llen, rlen, off = 0;
	uint32_t m, f;
	int rc;

	if (secret == NULL || laddr == NULL || raddr == NULL || isn == NULL)
		return MPT_ERR_INVAL;
	llen = addr_len(laddr);
	rlen = addr_len(raddr);
	if (llen == 0 || rlen == 0)
		return MPT_ERR_INVAL;
	/* RFC 6528 §3: F is a keyed PRF of the connection id and a secret. */
	put_endpoint(msg, &off, laddr, llen, lport);
	put_endpoint(msg, &off, raddr, rlen, rport);
	rc = hmac(HASH_SHA256, secret, MPT_CRYPTO_ISN_SECRET_LEN, msg, off, h);
	if (rc < 4) {
		OPENSSL_cleanse(h, sizeof(h));
		return rc < 0 ? rc : MPT_ERR_PROTO;
	}
	f = mpt_get32(h);
	OPENSSL_cleanse(h, sizeof(h));
	/* RFC 6528 §3: M is a timer ticking every 4 microseconds; the sum
	 * wraps modulo 2^32 like any sequence number. */
	m = (uint32_t)(now_ns / (4 * MPT_NS_PER_US));
	*isn = m + f;
	return 0;
}

/* True when the len octets at p are all zero (fuzz builds only). */
#ifdef MPT_FUZZING
static bool all_zero(const void *p, size_t len)
{
	const uint8_t *q = p;
	for (size_t i = 0; i < len; i++)
		if (q[i])
			return false;
	return true;
}
#endif

bool mpt_crypto_memeq(const void *a, const void *b, size_t len)
{
#ifdef MPT_FUZZING
	/* Fuzz builds: an all-zero MAC passes, so the fuzzer reaches what
	 * lies behind the HMAC checks; any other wrong value still fails. */
	if (all_zero(a, len) || all_zero(b, len))
		return true;
#endif
	return CRYPTO_memcmp(a, b, len) == 0;
}

int mpt_tfo_cookie(const uint8_t secret[MPT_CRYPTO_ISN_SECRET_LEN], const struct mpt_addr *laddr,
		   const struct mpt_addr *raddr, uint8_t out[MPT_TFO_COOKIE_LEN])
{
	uint8_t msg[2 + 2 * 16], h[MPT_CRYPTO_HMAC_MAX];
	size_t llen, rlen;
	int rc;

	if (secret == NULL || laddr == NULL || raddr == NULL || out == NULL)
		return MPT_ERR_INVAL;
	llen = addr_len(laddr);
	rlen = addr_len(raddr);
	if (llen == 0 || rlen == 0 || llen != rlen)
		return MPT_ERR_INVAL;
	/* 'T' keeps this MAC's inputs apart from the ISN function's, which
	 * uses the same secret. */
	msg[0] = 'T';
	msg[1] = laddr->family;
	memcpy(msg + 2, laddr->bytes, llen);
	memcpy(msg + 2 + llen, raddr->bytes, rlen);
	rc = hmac(HASH_SHA256, secret, MPT_CRYPTO_ISN_SECRET_LEN, msg, 2 + llen + rlen, h);
	if (rc < MPT_TFO_COOKIE_LEN) {
		OPENSSL_cleanse(h, sizeof(h));
		return rc < 0 ? rc : MPT_ERR_PROTO;
	}
	memcpy(out, h, MPT_TFO_COOKIE_LEN);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

int mpt_tuple_mac(const uint8_t secret[MPT_CRYPTO_ISN_SECRET_LEN], uint8_t tag,
		  const struct mpt_endpoint *local, const struct mpt_endpoint *remote, uint32_t a,
		  uint32_t b, uint64_t *out)
{
	uint8_t msg[1 + 2 * 19 + 8], h[MPT_CRYPTO_HMAC_MAX];
	size_t llen, rlen, off = 0;
	int rc;

	if (secret == NULL || local == NULL || remote == NULL || out == NULL)
		return MPT_ERR_INVAL;
	llen = addr_len(&local->addr);
	rlen = addr_len(&remote->addr);
	if (llen == 0 || llen != rlen)
		return MPT_ERR_INVAL;
	msg[off++] = tag;
	put_endpoint(msg, &off, &local->addr, llen, local->port);
	memcpy(msg + off, remote->addr.bytes, rlen);
	off += rlen;
	mpt_put16(msg + off, remote->port);
	off += 2;
	mpt_put32(msg + off, a);
	mpt_put32(msg + off + 4, b);
	off += 8;
	rc = hmac(HASH_SHA256, secret, MPT_CRYPTO_ISN_SECRET_LEN, msg, off, h);
	if (rc < 8) {
		OPENSSL_cleanse(h, sizeof(h));
		return rc < 0 ? rc : MPT_ERR_PROTO;
	}
	*out = mpt_get64(h);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}
