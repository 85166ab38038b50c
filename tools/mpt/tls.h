/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS 1.3 for `mpt cat --tls` with OpenSSL's libssl, over memory BIOs: an
 * endpoint takes the ciphertext received from the network (mpt_tls_feed)
 * and hands out the ciphertext to send (mpt_tls_take); it owns no socket,
 * so that it can be tested in memory (tests/unit/tools_tls_test.c).
 *
 * The exporter (mpt_tls_export_ext_key) derives the MPTCP external keys of
 * draft-baerts-tcpm-mptcpext-00 (docs/external-keys.md, "TLS binding").
 * libmpt has no TLS: only the mpt tool links libssl.
 */
#ifndef MPT_TOOL_TLS_H
#define MPT_TOOL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The exporter's label and output length (docs/external-keys.md, decisions
 * 17 and 18, "TLS binding"): RFC 8446 §7.5 exporter, an unregistered label
 * and so "EXPERIMENTAL"-prefixed (RFC 5705 §4), 32 bytes (HMAC-SHA256's
 * block of security).  The context (MPT_TLS_EXT_KEY_CTX_LEN bytes) is the
 * initiator's MPTCP token, the responder's token and the key generation,
 * each 32 bits in network order.  A registered label replaces this one.
 */
#define MPT_TLS_EXT_KEY_LABEL   "EXPERIMENTAL-mptcp-external-key"
#define MPT_TLS_EXT_KEY_LEN     32
#define MPT_TLS_EXT_KEY_CTX_LEN 12

/* Results of mpt_tls_read / mpt_tls_write / mpt_tls_handshake (besides a
 * byte count). */
#define MPT_TLS_AGAIN (-1) /* needs more ciphertext from the peer (or: not established) */
#define MPT_TLS_EOF   (-2) /* mpt_tls_read: the peer's close_notify */
#define MPT_TLS_ERR   (-3) /* failed: mpt_tls_error() says why; the endpoint is dead */

struct mpt_tls_ctx;
struct mpt_tls;

struct mpt_tls_ctx_cfg {
	bool server;
	const char *cert; /* server: PEM certificate (chain); NULL: self-signed EC P-256 */
	const char *key;  /* server: PEM private key (NULL: in cert's file) */
	const char *ca;   /* client: PEM CA file to verify the server; NULL: no verification */
};

/**
 * A client or server context (TLS 1.3 only).  Returns NULL after writing
 * the reason to err.
 */
struct mpt_tls_ctx *mpt_tls_ctx_new(const struct mpt_tls_ctx_cfg *cfg, char *err, size_t errlen);
void mpt_tls_ctx_free(struct mpt_tls_ctx *ctx);
/** A client context that verifies the server's certificate (--tls-ca). */
bool mpt_tls_ctx_verifies(const struct mpt_tls_ctx *ctx);

/** One connection's endpoint; a client's first flight is ready at once
 *  (mpt_tls_take).  NULL on failure (err). */
struct mpt_tls *mpt_tls_new(struct mpt_tls_ctx *ctx, char *err, size_t errlen);
void mpt_tls_free(struct mpt_tls *t);

/** Ciphertext received from the network: all of it is taken (buffered).
 *  Returns 0 or MPT_TLS_ERR. */
int mpt_tls_feed(struct mpt_tls *t, const uint8_t *buf, size_t len);
/** Ciphertext waiting to be sent (bytes). */
size_t mpt_tls_pending(const struct mpt_tls *t);
/** Take up to len bytes of ciphertext to send; returns the count (0: none). */
size_t mpt_tls_take(struct mpt_tls *t, uint8_t *buf, size_t len);
/**
 * Advance the handshake with what was fed: 1 established, MPT_TLS_AGAIN
 * (more ciphertext needed; send what mpt_tls_take gives), MPT_TLS_ERR.
 */
int mpt_tls_handshake(struct mpt_tls *t);
bool mpt_tls_established(const struct mpt_tls *t);
/**
 * Plaintext to send (once established): the count taken (all of len, as
 * records; the ciphertext waits for mpt_tls_take), MPT_TLS_AGAIN before
 * the handshake completed, MPT_TLS_ERR.
 */
long mpt_tls_write(struct mpt_tls *t, const uint8_t *buf, size_t len);
/**
 * Plaintext received: a count > 0, MPT_TLS_AGAIN (feed more ciphertext;
 * the handshake is driven from here too), MPT_TLS_EOF (close_notify) or
 * MPT_TLS_ERR (a TLS alert, garbage, a failed verification).
 */
long mpt_tls_read(struct mpt_tls *t, uint8_t *buf, size_t len);
/** Queue our close_notify (nothing is written after it).  0 or MPT_TLS_ERR. */
int mpt_tls_close_notify(struct mpt_tls *t);
/** Why the endpoint failed ("" while it did not). */
const char *mpt_tls_error(const struct mpt_tls *t);
/** "TLSv1.3" and the cipher suite's name, once established. */
const char *mpt_tls_version(const struct mpt_tls *t);
const char *mpt_tls_cipher(const struct mpt_tls *t);
/**
 * External key generation gen (docs/external-keys.md "TLS binding"): the
 * exporter with MPT_TLS_EXT_KEY_LABEL and the context initiator token ||
 * responder token || gen (each 32-bit network order); the initiator is the
 * MPTCP connection's initiator, the TLS client.  Returns 0 or MPT_TLS_ERR.
 */
int mpt_tls_export_ext_key(struct mpt_tls *t, uint32_t initiator_token, uint32_t responder_token,
			   uint32_t gen, uint8_t out[MPT_TLS_EXT_KEY_LEN]);

#endif /* MPT_TOOL_TLS_H */
