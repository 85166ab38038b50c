/*
 * MPTCP keys, tokens, IDSNs and HMACs (RFC 8684 §3.1, §3.2, §3.4.1; RFC 6824
 * §3.1, §3.2) and RFC 6528 ISNs, all computed with OpenSSL libcrypto.
 * See crypto.h for the exact definitions.
 */
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common.h"
#include "crypto/crypto.h"
#include "wire/bytes.h"

/* Digest of a version: RFC 8684 (v1) uses SHA-256, RFC 6824 (v0) SHA-1. */
static const EVP_MD *version_md(int version)
{
	switch (version) {
	case MPT_CRYPTO_V0:
		return EVP_sha1();
	case MPT_CRYPTO_V1:
		return EVP_sha256();
	default:
		return NULL;
	}
}

/*
 * One-shot HMAC into out, which holds MPT_CRYPTO_HMAC_MAX octets (the largest
 * digest version_md() selects; checked before writing).  Returns the output
 * length, or MPT_ERR_PROTO when OpenSSL fails.
 */
static int hmac_oneshot(const EVP_MD *md, const uint8_t *key, size_t key_len, const uint8_t *msg,
			size_t msg_len, uint8_t out[MPT_CRYPTO_HMAC_MAX])
{
	unsigned int len = 0;

	if (md == NULL || key_len > INT_MAX || (size_t)EVP_MD_size(md) > MPT_CRYPTO_HMAC_MAX)
		return MPT_ERR_PROTO;
	if (HMAC(md, key, (int)key_len, msg, msg_len, out, &len) == NULL ||
	    len != (unsigned int)EVP_MD_size(md))
		return MPT_ERR_PROTO;
	return (int)len;
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
	const EVP_MD *md = version_md(version);
	uint8_t kbuf[8];
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (md == NULL)
		return MPT_ERR_UNSUPPORTED;
	mpt_put64(kbuf, key);
	if (EVP_Digest(kbuf, sizeof(kbuf), digest, &len, md, NULL) != 1 || len < 12)
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
	const EVP_MD *md = version_md(version);
	uint8_t key[16], msg[8];
	int rc;

	if (out == NULL || out_len == NULL)
		return MPT_ERR_INVAL;
	if (md == NULL)
		return MPT_ERR_UNSUPPORTED;
	/* RFC 8684 §3.2: HMAC-A = HMAC(Key=(Key-A+Key-B), Msg=(R-A+R-B)),
	 * HMAC-B = HMAC(Key=(Key-B+Key-A), Msg=(R-B+R-A)): the sender's key
	 * and nonce come first. */
	mpt_put64(key, key_sender);
	mpt_put64(key + 8, key_receiver);
	mpt_put32(msg, nonce_sender);
	mpt_put32(msg + 4, nonce_receiver);
	rc = hmac_oneshot(md, key, sizeof(key), msg, sizeof(msg), out);
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

int mpt_hmac_add_addr(uint64_t key_sender, uint64_t key_receiver, uint8_t addr_id,
		      const struct mpt_addr *addr, uint16_t port, uint64_t *out)
{
	uint8_t key[16], msg[1 + 16 + 2], h[MPT_CRYPTO_HMAC_MAX];
	size_t alen, mlen;
	int rc;

	if (addr == NULL || out == NULL)
		return MPT_ERR_INVAL;
	alen = addr_len(addr);
	if (alen == 0)
		return MPT_ERR_INVAL;
	/* RFC 8684 §3.4.1: the key is the sender's key followed by the
	 * receiver's, as for MP_JOIN; the message is Address ID, IP address
	 * and port, with 2 zero octets when the option has no port. */
	mpt_put64(key, key_sender);
	mpt_put64(key + 8, key_receiver);
	msg[0] = addr_id;
	memcpy(msg + 1, addr->bytes, alen);
	mpt_put16(msg + 1 + alen, port);
	mlen = 1 + alen + 2;
	rc = hmac_oneshot(EVP_sha256(), key, sizeof(key), msg, mlen, h);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc < 8)
		return rc < 0 ? rc : MPT_ERR_PROTO;
	/* RFC 8684 §3.4.1: the option carries the rightmost 64 bits. */
	*out = mpt_get64(h + rc - 8);
	return 0;
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
	rc = hmac_oneshot(EVP_sha256(), secret, MPT_CRYPTO_ISN_SECRET_LEN, msg, off, h);
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

bool mpt_crypto_memeq(const void *a, const void *b, size_t len)
{
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
	rc = hmac_oneshot(EVP_sha256(), secret, MPT_CRYPTO_ISN_SECRET_LEN, msg, 2 + llen + rlen, h);
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
	rc = hmac_oneshot(EVP_sha256(), secret, MPT_CRYPTO_ISN_SECRET_LEN, msg, off, h);
	if (rc < 8) {
		OPENSSL_cleanse(h, sizeof(h));
		return rc < 0 ? rc : MPT_ERR_PROTO;
	}
	*out = mpt_get64(h);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}
