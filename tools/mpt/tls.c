/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS 1.3 endpoints over memory BIOs for `mpt cat --tls` (tls.h).  All the
 * TLS is OpenSSL's libssl; this file only moves bytes between the memory
 * BIOs and the caller, turns OpenSSL's errors into strings, and makes the
 * demo certificate.
 */
#include "tls.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define TLS_ERR_LEN   256
/* The demo certificate's validity: from an hour ago (clocks differ) to a
 * year from now. */
#define TLS_DEMO_FROM (-3600L)
#define TLS_DEMO_DAYS 365

struct mpt_tls_ctx {
	SSL_CTX *ssl_ctx;
	bool server;
	bool verifies;
};

struct mpt_tls {
	SSL *ssl;
	BIO *rbio; /* network -> TLS (owned by ssl) */
	BIO *wbio; /* TLS -> network (owned by ssl) */
	bool failed, eof, notify_sent;
	char err[TLS_ERR_LEN];
};

/* "what: the first OpenSSL error of the queue" (and empties the queue). */
static void ossl_error(char *buf, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	char s[TLS_ERR_LEN];
	if (e)
		ERR_error_string_n(e, s, sizeof(s));
	else
		snprintf(s, sizeof(s), "unknown error");
	/* Cut to the caller's buffer when long (the return value looked at
	 * says so to GCC's -Wformat-truncation, which -O3 turns on). */
	if (snprintf(buf, len, "%s: %s", what, s) < 0 && len > 0)
		buf[0] = '\0';
	ERR_clear_error();
}

/* ---- the demo certificate -------------------------------------------------- */

/* A self-signed EC P-256 certificate (CN "mpt cat"), generated in memory. */
static int demo_cert(SSL_CTX *ctx, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	int ok = 0;
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (!kctx || EVP_PKEY_keygen_init(kctx) <= 0 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx, NID_X9_62_prime256v1) <= 0 ||
	    EVP_PKEY_keygen(kctx, &pkey) <= 0) {
		ossl_error(err, errlen, "generating the demo key");
		goto out;
	}
	x = X509_new();
	uint8_t serial[8];
	if (!x || RAND_bytes(serial, sizeof(serial)) != 1) {
		ossl_error(err, errlen, "generating the demo certificate");
		goto out;
	}
	serial[0] &= 0x7f; /* a positive serial number */
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ASN1_INTEGER *sn = X509_get_serialNumber(x);
	X509_NAME *name = X509_get_subject_name(x);
	bool built = bn && BN_to_ASN1_INTEGER(bn, sn) && X509_set_version(x, 2) &&
		     X509_gmtime_adj(X509_getm_notBefore(x), TLS_DEMO_FROM) &&
		     X509_time_adj_ex(X509_getm_notAfter(x), TLS_DEMO_DAYS, 0, NULL) &&
		     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						(const unsigned char *)"mpt cat", -1, -1, 0) &&
		     X509_set_issuer_name(x, name) && X509_set_pubkey(x, pkey) &&
		     X509_sign(x, pkey, EVP_sha256()) > 0;
	BN_free(bn);
	if (!built) {
		ossl_error(err, errlen, "generating the demo certificate");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
		ossl_error(err, errlen, "using the demo certificate");
		goto out;
	}
	ok = 1;
out:
	X509_free(x);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(kctx);
	return ok ? 0 : -1;
}

/* ---- contexts -------------------------------------------------------------- */

struct mpt_tls_ctx *mpt_tls_ctx_new(const struct mpt_tls_ctx_cfg *cfg, char *err, size_t errlen)
{
	char what[TLS_ERR_LEN];
	ERR_clear_error();
	struct mpt_tls_ctx *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->server = cfg->server;
	c->ssl_ctx = SSL_CTX_new(cfg->server ? TLS_server_method() : TLS_client_method());
	if (!c->ssl_ctx) {
		ossl_error(err, errlen, "SSL_CTX_new");
		goto fail;
	}
	/* TLS 1.3 only (docs/external-keys.md: TLS 1.2's exporter is safe
	 * only with RFC 7627's extended master secret). */
	if (SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(c->ssl_ctx, TLS1_3_VERSION) != 1) {
		ossl_error(err, errlen, "TLS 1.3");
		goto fail;
	}
	if (cfg->server) {
		/* No session tickets: every connection is a full handshake. */
		(void)SSL_CTX_set_num_tickets(c->ssl_ctx, 0);
		if (cfg->cert) {
			const char *key = cfg->key ? cfg->key : cfg->cert;
			if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, cfg->cert) != 1) {
				snprintf(what, sizeof(what), "--tls-cert %s", cfg->cert);
				ossl_error(err, errlen, what);
				goto fail;
			}
			if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
				snprintf(what, sizeof(what), "--tls-key %s", key);
				ossl_error(err, errlen, what);
				goto fail;
			}
			if (SSL_CTX_check_private_key(c->ssl_ctx) != 1) {
				snprintf(what, sizeof(what), "--tls-key %s", key);
				ossl_error(err, errlen, what);
				goto fail;
			}
		} else if (demo_cert(c->ssl_ctx, err, errlen) < 0) {
			goto fail;
		}
	} else if (cfg->ca) {
		if (SSL_CTX_load_verify_locations(c->ssl_ctx, cfg->ca, NULL) != 1) {
			snprintf(what, sizeof(what), "--tls-ca %s", cfg->ca);
			ossl_error(err, errlen, what);
			goto fail;
		}
		SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
		c->verifies = true;
	} else {
		SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_NONE, NULL);
	}
	return c;
fail:
	mpt_tls_ctx_free(c);
	return NULL;
}

void mpt_tls_ctx_free(struct mpt_tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

bool mpt_tls_ctx_verifies(const struct mpt_tls_ctx *ctx)
{
	return ctx && ctx->verifies;
}

/* ---- endpoints ------------------------------------------------------------- */

/* The endpoint failed: remember why (the first failure only). */
static void tls_fail(struct mpt_tls *t, int ssl_err, const char *what)
{
	if (t->failed) {
		ERR_clear_error();
		return;
	}
	t->failed = true;
	long vr = SSL_get_verify_result(t->ssl);
	if (vr != X509_V_OK) {
		snprintf(t->err, sizeof(t->err), "%s: certificate verify failed: %s", what,
			 X509_verify_cert_error_string(vr));
		ERR_clear_error();
	} else if (ssl_err == SSL_ERROR_SSL || ERR_peek_error()) {
		ossl_error(t->err, sizeof(t->err), what);
	} else {
		snprintf(t->err, sizeof(t->err), "%s: failed (SSL error %d)", what, ssl_err);
	}
}

/* An SSL_* call's result rc <= 0 as AGAIN, EOF or ERR. */
static int tls_result(struct mpt_tls *t, int rc, const char *what)
{
	int e = SSL_get_error(t->ssl, rc);
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE: /* memory BIOs: never */
		return MPT_TLS_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		t->eof = true;
		return MPT_TLS_EOF;
	default:
		tls_fail(t, e, what);
		return MPT_TLS_ERR;
	}
}

struct mpt_tls *mpt_tls_new(struct mpt_tls_ctx *ctx, char *err, size_t errlen)
{
	ERR_clear_error();
	struct mpt_tls *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->ssl = SSL_new(ctx->ssl_ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio) {
		ossl_error(err, errlen, "SSL_new");
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	/* An empty rbio means "more to come" (the network decides the end). */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	if (ctx->server) {
		SSL_set_accept_state(t->ssl);
	} else {
		SSL_set_connect_state(t->ssl);
		/* The ClientHello, ready for mpt_tls_take. */
		if (mpt_tls_handshake(t) == MPT_TLS_ERR) {
			snprintf(err, errlen, "%s", t->err);
			mpt_tls_free(t);
			return NULL;
		}
	}
	return t;
}

void mpt_tls_free(struct mpt_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl); /* and both BIOs */
	free(t);
}

int mpt_tls_feed(struct mpt_tls *t, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		int n = len > INT_MAX ? INT_MAX : (int)len;
		int w = BIO_write(t->rbio, buf, n);
		if (w <= 0) {
			if (!t->failed) {
				t->failed = true;
				ossl_error(t->err, sizeof(t->err), "buffering received data");
			}
			return MPT_TLS_ERR;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

size_t mpt_tls_pending(const struct mpt_tls *t)
{
	return BIO_ctrl_pending(t->wbio);
}

size_t mpt_tls_take(struct mpt_tls *t, uint8_t *buf, size_t len)
{
	if (len == 0 || BIO_ctrl_pending(t->wbio) == 0)
		return 0;
	int n = BIO_read(t->wbio, buf, len > INT_MAX ? INT_MAX : (int)len);
	return n > 0 ? (size_t)n : 0;
}

int mpt_tls_handshake(struct mpt_tls *t)
{
	if (t->failed)
		return MPT_TLS_ERR;
	if (SSL_is_init_finished(t->ssl))
		return 1;
	ERR_clear_error();
	int rc = SSL_do_handshake(t->ssl);
	if (rc == 1)
		return 1;
	rc = tls_result(t, rc, "TLS handshake");
	return rc == MPT_TLS_EOF ? MPT_TLS_AGAIN : rc;
}

bool mpt_tls_established(const struct mpt_tls *t)
{
	return !t->failed && SSL_is_init_finished(t->ssl);
}

long mpt_tls_write(struct mpt_tls *t, const uint8_t *buf, size_t len)
{
	if (t->failed)
		return MPT_TLS_ERR;
	if (!SSL_is_init_finished(t->ssl))
		return MPT_TLS_AGAIN;
	if (t->notify_sent) {
		snprintf(t->err, sizeof(t->err), "TLS write after close_notify");
		t->failed = true;
		return MPT_TLS_ERR;
	}
	size_t done = 0;
	while (done < len) {
		size_t chunk = len - done > INT_MAX ? INT_MAX : len - done;
		ERR_clear_error();
		int n = SSL_write(t->ssl, buf + done, (int)chunk);
		if (n <= 0) {
			int rc = tls_result(t, n, "TLS write");
			if (rc == MPT_TLS_ERR)
				return MPT_TLS_ERR;
			break; /* cannot happen with a memory BIO */
		}
		done += (size_t)n;
	}
	return (long)done;
}

long mpt_tls_read(struct mpt_tls *t, uint8_t *buf, size_t len)
{
	if (t->failed)
		return MPT_TLS_ERR;
	if (t->eof)
		return MPT_TLS_EOF;
	if (len == 0)
		return MPT_TLS_AGAIN;
	ERR_clear_error();
	int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	return tls_result(t, n, SSL_is_init_finished(t->ssl) ? "TLS" : "TLS handshake");
}

int mpt_tls_close_notify(struct mpt_tls *t)
{
	if (t->failed)
		return MPT_TLS_ERR;
	if (t->notify_sent)
		return 0;
	ERR_clear_error();
	int rc = SSL_shutdown(t->ssl);
	if (rc < 0 && tls_result(t, rc, "TLS close_notify") == MPT_TLS_ERR)
		return MPT_TLS_ERR;
	t->notify_sent = true;
	return 0;
}

const char *mpt_tls_error(const struct mpt_tls *t)
{
	return t->err;
}

const char *mpt_tls_version(const struct mpt_tls *t)
{
	return SSL_get_version(t->ssl);
}

const char *mpt_tls_cipher(const struct mpt_tls *t)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);
	return c ? SSL_CIPHER_get_name(c) : "(none)";
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int mpt_tls_export_ext_key(struct mpt_tls *t, uint32_t initiator_token, uint32_t responder_token,
			   uint32_t gen, uint8_t out[MPT_TLS_EXT_KEY_LEN])
{
	if (t->failed || !SSL_is_init_finished(t->ssl))
		return MPT_TLS_ERR;
	uint8_t ctx[MPT_TLS_EXT_KEY_CTX_LEN];
	put_be32(ctx, initiator_token);
	put_be32(ctx + 4, responder_token);
	put_be32(ctx + 8, gen);
	static const char label[] = MPT_TLS_EXT_KEY_LABEL;
	ERR_clear_error();
	if (SSL_export_keying_material(t->ssl, out, MPT_TLS_EXT_KEY_LEN, label, sizeof(label) - 1,
				       ctx, sizeof(ctx), 1) != 1) {
		char e[TLS_ERR_LEN];
		ossl_error(e, sizeof(e), "TLS exporter");
		snprintf(t->err, sizeof(t->err), "%s", e);
		return MPT_TLS_ERR;
	}
	return 0;
}
