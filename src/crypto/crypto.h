/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP cryptography: keys, tokens, initial data sequence numbers, the
 * MP_JOIN and ADD_ADDR HMACs (RFC 8684 v1 and RFC 6824 v0), the HMACs of
 * the external-keys extension (draft-baerts-tcpm-mptcpext-00), and RFC 6528
 * initial sequence numbers for subflows.
 *
 * Every hash is OpenSSL libcrypto's SHA-1 / SHA-256 (the block functions,
 * not EVP, which allocates on every call: see crypto.c); HMAC is RFC 2104
 * over them.  The functions are pure: no static mutable state, no clock, no
 * random source other than the mpt_rand_fn the caller passes in, and no
 * allocation, not even inside OpenSSL (tests/unit/crypto_alloc_test.c).
 * They are safe to call from any thread.
 *
 * Byte order: a 64-bit key or 32-bit nonce given as an integer is the value
 * of its network-byte-order encoding on the wire (the MP_CAPABLE key field
 * read big-endian), and is hashed in network byte order as the RFCs require.
 *
 * Test vectors from an independent implementation:
 * tests/vectors/gen_crypto_vectors.py -> tests/vectors/crypto_vectors.txt;
 * for external keys, Python's hmac/hashlib (tests/unit/crypto_extkey_test.c).
 */
#ifndef MPT_CRYPTO_CRYPTO_H
#define MPT_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

/** MPTCP protocol versions, as carried in the MP_CAPABLE version field. */
#define MPT_CRYPTO_V0 0 /**< RFC 6824: SHA-1 / HMAC-SHA1 */
#define MPT_CRYPTO_V1 1 /**< RFC 8684: SHA-256 / HMAC-SHA256 */

/** Largest HMAC output of any version (SHA-256). */
#define MPT_CRYPTO_HMAC_MAX       32
/** Length of the HMAC carried in the third ACK of an MP_JOIN (RFC 8684 §3.2). */
#define MPT_CRYPTO_JOIN_ACK_LEN   20
/** Length of the ISN secret for mpt_isn_rfc6528() (128 bits, RFC 6528 §3). */
#define MPT_CRYPTO_ISN_SECRET_LEN 16

/**
 * Draw a new 64-bit MPTCP key from the caller's randomness callback
 * (RFC 8684 §3.1: the key is 64 bits of random data; RFC 4086 quality is
 * up to the callback, e.g. mpt_rand_default()).
 *
 * Token uniqueness is NOT checked here: RFC 8684 §3.1 requires the token to
 * be unique among the host's connections, so the connection layer must look
 * the token up in its table and call this again on a collision.
 *
 * @return the key (never fails; rnd must not be NULL).
 */
uint64_t mpt_key_gen(mpt_rand_fn rnd, void *ud);

/**
 * Token and initial data sequence number of a key.
 *
 * RFC 8684 §3.1 (v1): the token is the most significant 32 bits of the
 * SHA-256 hash of the key, the IDSN the least significant 64 bits of that
 * same hash.  RFC 6824 §3.1 (v0): the same with SHA-1.  The key is hashed as
 * 8 octets in network byte order.
 *
 * @param version MPT_CRYPTO_V0 or MPT_CRYPTO_V1.
 * @param token   receives the token (may be NULL if not wanted).
 * @param idsn    receives the IDSN (may be NULL if not wanted).
 * @return 0; MPT_ERR_UNSUPPORTED for an unknown version; MPT_ERR_PROTO if
 *         OpenSSL fails to hash (outputs are then left untouched).
 */
int mpt_key_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn);

/**
 * The MP_JOIN HMAC (RFC 8684 §3.2, RFC 6824 §3.2).
 *
 * With host A the initiator of the subflow (sender of the SYN) and B the
 * listener, the RFC defines
 *   HMAC-A = HMAC(Key=(Key-A || Key-B), Msg=(R-A || R-B))   sent by A in the third ACK
 *   HMAC-B = HMAC(Key=(Key-B || Key-A), Msg=(R-B || R-A))   sent by B in the SYN/ACK
 * where Key-X is the key host X sent in the MP_CAPABLE handshake and R-X the
 * random nonce host X sent in its MP_JOIN.  In both cases the host that SENDS
 * the HMAC puts its own key and nonce first; this function takes them in that
 * order.  To build your own HMAC pass (local, remote); to verify the peer's
 * HMAC pass (remote, local).
 *
 * v1 uses HMAC-SHA256 (32 octets out), v0 HMAC-SHA1 (20 octets out).
 *
 * @param out     receives the full HMAC (up to MPT_CRYPTO_HMAC_MAX octets).
 * @param out_len receives the number of octets written (32 or 20).
 * @return 0; MPT_ERR_INVAL for a NULL pointer; MPT_ERR_UNSUPPORTED for an
 *         unknown version; MPT_ERR_PROTO if OpenSSL fails.
 */
int mpt_hmac_join(int version, uint64_t key_sender, uint64_t key_receiver, uint32_t nonce_sender,
		  uint32_t nonce_receiver, uint8_t out[MPT_CRYPTO_HMAC_MAX], size_t *out_len);

/**
 * The truncated HMAC of an MP_JOIN SYN/ACK: the leftmost 64 bits of the
 * MP_JOIN HMAC (RFC 8684 §3.2), returned as the big-endian value of those 8
 * octets (write it with mpt_put64()).  Sender/receiver as in mpt_hmac_join():
 * the listener (host B) is the sender of this HMAC.
 *
 * @return 0, or the errors of mpt_hmac_join(); *out is set only on success.
 */
int mpt_hmac_join_trunc64(int version, uint64_t key_sender, uint64_t key_receiver,
			  uint32_t nonce_sender, uint32_t nonce_receiver, uint64_t *out);

/**
 * The HMAC of an MP_JOIN third ACK: the leftmost 160 bits of the MP_JOIN HMAC
 * (RFC 8684 §3.2: for v1 the HMAC-SHA256 is truncated to its leftmost 160
 * bits; for v0 it is the whole HMAC-SHA1).  Sender/receiver as in
 * mpt_hmac_join(): the initiator (host A) is the sender of this HMAC.
 *
 * @return 0, or the errors of mpt_hmac_join(); out is written only on success.
 */
int mpt_hmac_join_160(int version, uint64_t key_sender, uint64_t key_receiver,
		      uint32_t nonce_sender, uint32_t nonce_receiver,
		      uint8_t out[MPT_CRYPTO_JOIN_ACK_LEN]);

/**
 * The truncated HMAC of an ADD_ADDR option (RFC 8684 §3.4.1, v1 only; the
 * v0 ADD_ADDR of RFC 6824 carries no HMAC).
 *
 * HMAC-SHA256 with Key = (key of the host sending the ADD_ADDR || key of the
 * host receiving it) and Msg = (Address ID || IP address || Port), the port
 * in network byte order.  RFC 8684 §3.4.1: when the option carries no port,
 * the message still includes 2 octets of value zero, so pass port = 0 for an
 * option without a port (an explicit port 0 would be indistinguishable).
 * The option carries the RIGHTMOST 64 bits of the HMAC (unlike MP_JOIN,
 * which uses the leftmost); they are returned as a big-endian value.
 * To verify a received ADD_ADDR pass (remote key, local key).
 *
 * @param addr  family 4 (4 octets hashed) or 6 (16 octets hashed).
 * @return 0; MPT_ERR_INVAL for a NULL pointer or an address family other
 *         than 4 or 6; MPT_ERR_PROTO if OpenSSL fails.
 */
int mpt_hmac_add_addr(uint64_t key_sender, uint64_t key_receiver, uint8_t addr_id,
		      const struct mpt_addr *addr, uint16_t port, uint64_t *out);

/* ------------------------------------------------------------------------
 * External keys (draft-baerts-tcpm-mptcpext-00, docs/external-keys.md).
 *
 * With the extension the MP_CAPABLE handshake carries 32-bit tokens chosen
 * at random instead of keys, and a key provided by the protocol above (TLS,
 * SSH, configuration: the "external key", 16 to 64 octets) authenticates
 * NEW_KEY, MP_JOIN, ADD_ADDR and MP_FASTCLOSE.  Every HMAC here is
 * HMAC-SHA256 (the draft is v1 only: decision 2).  Tokens and nonces given
 * as integers are hashed in network byte order, as above.  The external
 * key is secret: copies of it on the stack are cleansed.
 * ------------------------------------------------------------------------ */

/** External-key lengths accepted (docs/external-keys.md decision 18: the
 *  TLS binding exports 32 octets; shorter than 16 is too weak, longer than
 *  64 (the SHA-256 block) would be hashed first by RFC 2104). */
#define MPT_EXTKEY_KEY_MIN         16
#define MPT_EXTKEY_KEY_MAX         64
/** Message suffix separating MP_FASTCLOSE's HMAC from NEW_KEY's (decision
 *  12); hashed as its 18 ASCII octets, without the terminating NUL. */
#define MPT_EXTKEY_FASTCLOSE_LABEL "mptcpext fastclose"

/**
 * IDSN of a connection under external keys (docs/external-keys.md decision
 * 14): the draft has no keys in the handshake and does not say how the
 * initial data sequence number is derived, so mpt keeps RFC 8684 §3.1's
 * construction with the sender's token in place of its key: the low-order
 * (rightmost) 64 bits of SHA-256 over the 4-octet token in network byte
 * order, returned as a big-endian value.  (The IDSN was never secret.)
 *
 * @return 0; MPT_ERR_INVAL for a NULL pointer; MPT_ERR_PROTO if OpenSSL
 *         fails (*idsn is then left untouched).
 */
int mpt_extkey_idsn(uint32_t token, uint64_t *idsn);

/**
 * The HMAC carried in a NEW_KEY option (draft §4.2, docs/external-keys.md
 * decision 7): HMAC-SHA256 with HMAC key = token_sender || token_receiver
 * (4 + 4 octets, network byte order; the draft's "Key-B followed by Key-A"
 * read as a slip for the tokens) and message = the external key.  The option
 * carries the low-order 64 bits, i.e. the LAST 8 octets of the 32-octet
 * output (RFC 8684's "rightmost", as for ADD_ADDR), written to out as octets:
 * out[0..7] = output[24..31], ready to copy into the option.
 *
 * To build our NEW_KEY pass (local token, remote token); to check the
 * peer's (decision 8) pass (remote token, local token).
 *
 * @param key_len in [MPT_EXTKEY_KEY_MIN, MPT_EXTKEY_KEY_MAX].
 * @return 0; MPT_ERR_INVAL for a NULL pointer or a bad key length;
 *         MPT_ERR_PROTO if OpenSSL fails.  out is written only on success.
 */
int mpt_extkey_new_key_hmac(uint32_t token_sender, uint32_t token_receiver, const uint8_t *key,
			    size_t key_len, uint8_t out[8]);

/**
 * The truncated HMAC carried in an MP_FASTCLOSE under an external key
 * (draft §4.3, docs/external-keys.md decision 12).  The draft's construction
 * is NEW_KEY's, so the value would equal the sender's NEW_KEY HMAC, which
 * travels in the clear: an on-path observer of one NEW_KEY could forge the
 * MP_FASTCLOSE.  mpt therefore keeps NEW_KEY's HMAC key (token_sender ||
 * token_receiver) but hashes the message key || MPT_EXTKEY_FASTCLOSE_LABEL
 * (the 18 ASCII octets, no NUL).  The last 8 octets of the output are
 * returned as a big-endian value (the truncation of NEW_KEY; write it with
 * mpt_put64()).  This deviates from the draft's text (decision 12).
 *
 * @param key_len in [MPT_EXTKEY_KEY_MIN, MPT_EXTKEY_KEY_MAX].
 * @return 0; MPT_ERR_INVAL for a NULL pointer or a bad key length;
 *         MPT_ERR_PROTO if OpenSSL fails.  *out is set only on success.
 */
int mpt_extkey_fastclose_hmac(uint32_t token_sender, uint32_t token_receiver, const uint8_t *key,
			      size_t key_len, uint64_t *out);

/**
 * The MP_JOIN HMACs under an external key (draft §4.3, docs/external-keys.md
 * decision 13): HMAC-SHA256 with HMAC key = the external key and message =
 * nonce_sender || nonce_receiver (network byte order), i.e. RFC 8684 §3.2's
 * message with the external key in place of Key-A || Key-B.  The host that
 * sends the HMAC puts its nonce first, as in mpt_hmac_join(); with a shared
 * key the nonce order and the responder's fresh nonce are what bind the
 * direction, so a join cannot be answered by reflection.
 *
 * mpt_extkey_join_trunc64(): the LEFTMOST 64 bits as a big-endian value
 * (the SYN/ACK's truncated HMAC, RFC 8684 §3.2).
 * mpt_extkey_join_160(): the leftmost 20 octets (the third ACK's HMAC,
 * MPT_CRYPTO_JOIN_ACK_LEN).
 *
 * @param key_len in [MPT_EXTKEY_KEY_MIN, MPT_EXTKEY_KEY_MAX].
 * @return 0; MPT_ERR_INVAL for a NULL pointer or a bad key length;
 *         MPT_ERR_PROTO if OpenSSL fails.  The output is written only on
 *         success.
 */
int mpt_extkey_join_trunc64(const uint8_t *key, size_t key_len, uint32_t nonce_sender,
			    uint32_t nonce_receiver, uint64_t *out);
int mpt_extkey_join_160(const uint8_t *key, size_t key_len, uint32_t nonce_sender,
			uint32_t nonce_receiver, uint8_t out[MPT_CRYPTO_JOIN_ACK_LEN]);

/**
 * The truncated ADD_ADDR HMAC under an external key (draft §4.3,
 * docs/external-keys.md decision 13): HMAC-SHA256 with HMAC key = the
 * external key and the message of mpt_hmac_add_addr() (Address ID ||
 * address (4 or 16 octets) || port, 2 zero octets when the option has no
 * port); the rightmost 64 bits as a big-endian value (RFC 8684 §3.4.1).
 * One shared key no longer says who sent the option (a captured ADD_ADDR
 * could be reflected to its sender; decision 13 explains why that is kept).
 *
 * @param key_len in [MPT_EXTKEY_KEY_MIN, MPT_EXTKEY_KEY_MAX].
 * @param addr    family 4 or 6.
 * @return 0; MPT_ERR_INVAL for a NULL pointer, a bad key length or an
 *         address family other than 4 or 6; MPT_ERR_PROTO if OpenSSL fails.
 *         *out is set only on success.
 */
int mpt_extkey_add_addr_hmac(const uint8_t *key, size_t key_len, uint8_t addr_id,
			     const struct mpt_addr *addr, uint16_t port, uint64_t *out);

/**
 * RFC 6528 §3 initial sequence number: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey).
 *
 * M is the 4-microsecond timer: now_ns / 4000, modulo 2^32.  F is
 * HMAC-SHA256 keyed with the 128-bit secret over
 *   (family(1) || local address(4|16) || local port(2) ||
 *    family(1) || remote address(4|16) || remote port(2)),
 * numbers in network byte order, truncated to its first 32 bits read
 * big-endian.  RFC 6528 §3 only asks F to be a keyed pseudorandom function
 * that the attacker cannot invert (it suggests MD5); HMAC-SHA256 is at least
 * that.  Keeping the secret per stack (drawn once from mpt_rand_fn) makes
 * ISNs of one 4-tuple monotonic in time while different 4-tuples have
 * unrelated ISN spaces.
 *
 * @param secret 16 octets (MPT_CRYPTO_ISN_SECRET_LEN) of secret randomness.
 * @param now_ns current time in nanoseconds (any monotonic clock).
 * @param isn    receives the ISN.
 * @return 0; MPT_ERR_INVAL for a NULL pointer or an address family other than
 *         4 or 6; MPT_ERR_PROTO if OpenSSL fails.
 */
int mpt_isn_rfc6528(const uint8_t secret[MPT_CRYPTO_ISN_SECRET_LEN], const struct mpt_addr *laddr,
		    uint16_t lport, const struct mpt_addr *raddr, uint16_t rport, uint64_t now_ns,
		    uint32_t *isn);

/** Length of our TCP Fast Open cookies (RFC 7413 §4.1.1 allows 4..16). */
#define MPT_TFO_COOKIE_LEN 8

/**
 * TCP Fast Open cookie for a client (RFC 7413 §4.1.2: a MAC of the client's
 * address that only the server can produce): HMAC-SHA256(secret, 'T' ||
 * family || server address || client address), first 8 octets.  Ports are
 * not included: a client reuses its cookie on every connection.
 *
 * @return 0; MPT_ERR_INVAL (NULL pointer, bad family); MPT_ERR_PROTO if
 *         OpenSSL fails.
 */
int mpt_tfo_cookie(const uint8_t secret[MPT_CRYPTO_ISN_SECRET_LEN], const struct mpt_addr *laddr,
		   const struct mpt_addr *raddr, uint8_t out[MPT_TFO_COOKIE_LEN]);

/**
 * Constant-time comparison (OpenSSL CRYPTO_memcmp) for checking received
 * HMACs, so that the time taken does not reveal how many leading octets of a
 * forged HMAC were right.
 *
 * Fuzz builds (MPT_FUZZING) also return true when either side is all
 * zeros: every HMAC and cookie check of the engine goes through here, and
 * a fuzzer cannot compute an HMAC; a wrong non-zero value still fails.
 *
 * @return true when the len octets at a and b are equal.
 */
bool mpt_crypto_memeq(const void *a, const void *b, size_t len);

/**
 * A keyed 64-bit MAC of a connection's 4-tuple and two 32-bit values, for
 * state the stack hands to a peer and must recognise later without keeping
 * it: SYN cookies (RFC 4987 §3.6) and what derives from them (timestamp
 * offset, MPTCP key).  HMAC-SHA256 keyed with the 128-bit stack secret over
 * (tag || family || local address || local port || remote address ||
 * remote port || a || b); the leftmost 64 bits, big-endian.  tag keeps the
 * uses apart.
 *
 * @return 0; MPT_ERR_INVAL (NULL pointer, family other than 4/6 or mixed);
 *         MPT_ERR_PROTO if OpenSSL fails.
 */
int mpt_tuple_mac(const uint8_t secret[MPT_CRYPTO_ISN_SECRET_LEN], uint8_t tag,
		  const struct mpt_endpoint *local, const struct mpt_endpoint *remote, uint32_t a,
		  uint32_t b, uint64_t *out);

#endif /* MPT_CRYPTO_CRYPTO_H */
