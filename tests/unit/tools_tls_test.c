/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TLS binding of `mpt cat --tls` (tools/mpt/tls.c): two endpoints
 * joined in memory.  Handshake with the demo certificate and with files,
 * data both ways, half-close, the external-key exporter, verification
 * failures and garbage from the network.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define MIB (1024u * 1024u)

struct pair {
	struct mpt_tls_ctx *cctx, *sctx;
	struct mpt_tls *c, *s;
};

/* Move every byte of ciphertext from a to b; returns the count. */
static size_t move(struct mpt_tls *a, struct mpt_tls *b)
{
	uint8_t buf[4096];
	size_t total = 0, n;
	while ((n = mpt_tls_take(a, buf, sizeof(buf))) > 0) {
		assert_int_equal(mpt_tls_feed(b, buf, n), 0);
		total += n;
	}
	return total;
}

/* Run the handshake to its end: 0, or -1 when either side failed. */
static int handshake(struct pair *p)
{
	for (int round = 0; round < 20; round++) {
		move(p->c, p->s);
		int rs = mpt_tls_handshake(p->s);
		move(p->s, p->c);
		int rc = mpt_tls_handshake(p->c);
		move(p->c, p->s);
		if (rs == MPT_TLS_ERR || rc == MPT_TLS_ERR)
			return -1;
		rs = mpt_tls_handshake(p->s);
		if (rs == MPT_TLS_ERR)
			return -1;
		if (rs == 1 && rc == 1)
			return 0;
	}
	return -1;
}

static void pair_open(struct pair *p, const struct mpt_tls_ctx_cfg *scfg,
		      const struct mpt_tls_ctx_cfg *ccfg)
{
	char err[256];
	memset(p, 0, sizeof(*p));
	p->sctx = mpt_tls_ctx_new(scfg, err, sizeof(err));
	assert_non_null(p->sctx);
	p->cctx = mpt_tls_ctx_new(ccfg, err, sizeof(err));
	assert_non_null(p->cctx);
	p->s = mpt_tls_new(p->sctx, err, sizeof(err));
	assert_non_null(p->s);
	p->c = mpt_tls_new(p->cctx, err, sizeof(err));
	assert_non_null(p->c);
	/* The client's first flight is ready at once. */
	assert_true(mpt_tls_pending(p->c) > 0);
	assert_false(mpt_tls_established(p->c));
}

static void pair_close(struct pair *p)
{
	mpt_tls_free(p->c);
	mpt_tls_free(p->s);
	mpt_tls_ctx_free(p->cctx);
	mpt_tls_ctx_free(p->sctx);
}

static void default_pair(struct pair *p)
{
	struct mpt_tls_ctx_cfg s = {.server = true}, c = {.server = false};
	pair_open(p, &s, &c);
	assert_false(mpt_tls_ctx_verifies(p->cctx));
	assert_int_equal(handshake(p), 0);
}

/* Send len random bytes from a to b through the ciphertext, in chunks,
 * and check they arrive intact. */
static void transfer(struct mpt_tls *a, struct mpt_tls *b, size_t len)
{
	uint8_t *src = malloc(len), *dst = malloc(len);
	assert_non_null(src);
	assert_non_null(dst);
	assert_int_equal(RAND_bytes(src, (int)len), 1);
	size_t sent = 0, got = 0;
	while (got < len) {
		if (sent < len) {
			size_t chunk = len - sent < 65536 ? len - sent : 65536;
			assert_int_equal(mpt_tls_write(a, src + sent, chunk), (long)chunk);
			sent += chunk;
		}
		move(a, b);
		for (;;) {
			long n = mpt_tls_read(b, dst + got, len - got);
			if (n == MPT_TLS_AGAIN)
				break;
			assert_true(n > 0);
			got += (size_t)n;
			if (got == len)
				break;
		}
	}
	assert_memory_equal(src, dst, len);
	assert_int_equal(mpt_tls_read(b, dst, len), MPT_TLS_AGAIN);
	free(src);
	free(dst);
}

static void test_handshake_and_data(void **state)
{
	(void)state;
	struct pair p;
	default_pair(&p);
	assert_true(mpt_tls_established(p.c));
	assert_true(mpt_tls_established(p.s));
	assert_string_equal(mpt_tls_version(p.c), "TLSv1.3");
	assert_string_equal(mpt_tls_cipher(p.c), mpt_tls_cipher(p.s));
	assert_string_equal(mpt_tls_error(p.c), "");
	transfer(p.c, p.s, MIB);
	transfer(p.s, p.c, MIB);
	/* Both at once. */
	transfer(p.c, p.s, 3000);
	transfer(p.s, p.c, 1);
	pair_close(&p);
}

/* Plaintext before the handshake's end is refused, not queued. */
static void test_write_before_handshake(void **state)
{
	(void)state;
	struct pair p;
	struct mpt_tls_ctx_cfg s = {.server = true}, c = {.server = false};
	pair_open(&p, &s, &c);
	uint8_t b[4] = {1, 2, 3, 4};
	assert_int_equal(mpt_tls_write(p.c, b, sizeof(b)), MPT_TLS_AGAIN);
	assert_int_equal(mpt_tls_write(p.s, b, sizeof(b)), MPT_TLS_AGAIN);
	uint8_t k[MPT_TLS_EXT_KEY_LEN];
	assert_int_equal(mpt_tls_export_ext_key(p.c, 1, 2, 0, k), MPT_TLS_ERR);
	assert_int_equal(handshake(&p), 0);
	transfer(p.c, p.s, 100);
	pair_close(&p);
}

/* Half-close both ways: close_notify is EOF, the other direction goes on. */
static void test_close_notify(void **state)
{
	(void)state;
	struct pair p;
	default_pair(&p);
	uint8_t buf[64];
	assert_int_equal(mpt_tls_close_notify(p.c), 0);
	assert_int_equal(mpt_tls_close_notify(p.c), 0); /* once */
	move(p.c, p.s);
	assert_int_equal(mpt_tls_read(p.s, buf, sizeof(buf)), MPT_TLS_EOF);
	assert_int_equal(mpt_tls_read(p.s, buf, sizeof(buf)), MPT_TLS_EOF);
	/* The server still sends, the client still receives. */
	transfer(p.s, p.c, 200000);
	assert_int_equal(mpt_tls_close_notify(p.s), 0);
	move(p.s, p.c);
	assert_int_equal(mpt_tls_read(p.c, buf, sizeof(buf)), MPT_TLS_EOF);
	/* Nothing is written after our close_notify. */
	assert_int_equal(mpt_tls_write(p.c, buf, 1), MPT_TLS_ERR);
	pair_close(&p);
}

static void test_exporter(void **state)
{
	(void)state;
	struct pair p;
	default_pair(&p);
	uint8_t c0[MPT_TLS_EXT_KEY_LEN], s0[MPT_TLS_EXT_KEY_LEN];
	uint8_t c1[MPT_TLS_EXT_KEY_LEN], s1[MPT_TLS_EXT_KEY_LEN], o[MPT_TLS_EXT_KEY_LEN];
	const uint32_t ti = 0x11223344, tr = 0xa5a5f00d;
	assert_int_equal(mpt_tls_export_ext_key(p.c, ti, tr, 0, c0), 0);
	assert_int_equal(mpt_tls_export_ext_key(p.s, ti, tr, 0, s0), 0);
	assert_memory_equal(c0, s0, sizeof(c0));
	assert_int_equal(mpt_tls_export_ext_key(p.c, ti, tr, 1, c1), 0);
	assert_int_equal(mpt_tls_export_ext_key(p.s, ti, tr, 1, s1), 0);
	assert_memory_equal(c1, s1, sizeof(c1));
	assert_memory_not_equal(c0, c1, sizeof(c0));
	/* Deterministic for the same context. */
	assert_int_equal(mpt_tls_export_ext_key(p.c, ti, tr, 0, o), 0);
	assert_memory_equal(o, c0, sizeof(o));
	/* Bound to the tokens and their order. */
	assert_int_equal(mpt_tls_export_ext_key(p.c, ti + 1, tr, 0, o), 0);
	assert_memory_not_equal(o, c0, sizeof(o));
	assert_int_equal(mpt_tls_export_ext_key(p.c, ti, tr ^ 0x80000000u, 0, o), 0);
	assert_memory_not_equal(o, c0, sizeof(o));
	assert_int_equal(mpt_tls_export_ext_key(p.c, tr, ti, 0, o), 0);
	assert_memory_not_equal(o, c0, sizeof(o));
	/* Still after data and the client's close_notify. */
	transfer(p.c, p.s, 1000);
	assert_int_equal(mpt_tls_close_notify(p.c), 0);
	assert_int_equal(mpt_tls_export_ext_key(p.c, ti, tr, 1, o), 0);
	assert_memory_equal(o, c1, sizeof(o));
	/* Another connection: other keys for the same tokens. */
	struct pair q;
	default_pair(&q);
	assert_int_equal(mpt_tls_export_ext_key(q.s, ti, tr, 0, o), 0);
	assert_memory_not_equal(o, c0, sizeof(o));
	pair_close(&q);
	pair_close(&p);
	/* The label and length are the documented ones. */
	assert_string_equal(MPT_TLS_EXT_KEY_LABEL, "EXPERIMENTAL-mptcp-external-key");
	assert_int_equal(MPT_TLS_EXT_KEY_LEN, 32);
}

/* ---- certificates in files ------------------------------------------------ */

struct certfiles {
	char cert[64], key[64];
};

/* A self-signed certificate with CN cn (CA:TRUE) and its key, as PEM files. */
static void make_cert(struct certfiles *f, const char *cn)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	assert_non_null(kctx);
	assert_true(EVP_PKEY_keygen_init(kctx) > 0);
	assert_true(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx, NID_X9_62_prime256v1) > 0);
	assert_true(EVP_PKEY_keygen(kctx, &pkey) > 0);
	X509 *x = X509_new();
	assert_non_null(x);
	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	X509_NAME *name = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					       -1, -1, 0));
	assert_true(X509_set_issuer_name(x, name));
	assert_true(X509_set_pubkey(x, pkey));
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "CA:TRUE");
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	snprintf(f->cert, sizeof(f->cert), "/tmp/mpt-tls-test.XXXXXX");
	snprintf(f->key, sizeof(f->key), "/tmp/mpt-tls-test.XXXXXX");
	int fc = mkstemp(f->cert), fk = mkstemp(f->key);
	assert_true(fc >= 0 && fk >= 0);
	FILE *c = fdopen(fc, "w"), *k = fdopen(fk, "w");
	assert_true(c && k);
	assert_true(PEM_write_X509(c, x));
	assert_true(PEM_write_PrivateKey(k, pkey, NULL, NULL, 0, NULL, NULL));
	fclose(c);
	fclose(k);
	X509_free(x);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(kctx);
}

static void remove_cert(struct certfiles *f)
{
	unlink(f->cert);
	unlink(f->key);
}

/* A server with its certificate in files; a client that trusts it. */
static void test_cert_files_verified(void **state)
{
	(void)state;
	struct certfiles srv;
	make_cert(&srv, "server");
	struct mpt_tls_ctx_cfg s = {.server = true, .cert = srv.cert, .key = srv.key};
	struct mpt_tls_ctx_cfg c = {.server = false, .ca = srv.cert};
	struct pair p;
	pair_open(&p, &s, &c);
	assert_true(mpt_tls_ctx_verifies(p.cctx));
	assert_int_equal(handshake(&p), 0);
	transfer(p.c, p.s, 5000);
	pair_close(&p);
	remove_cert(&srv);
}

/* A client that trusts an unrelated CA: the handshake fails with a reason. */
static void test_unrelated_ca(void **state)
{
	(void)state;
	struct certfiles other;
	make_cert(&other, "unrelated CA");
	struct mpt_tls_ctx_cfg s = {.server = true}; /* the demo certificate */
	struct mpt_tls_ctx_cfg c = {.server = false, .ca = other.cert};
	struct pair p;
	pair_open(&p, &s, &c);
	assert_int_equal(handshake(&p), -1);
	assert_false(mpt_tls_established(p.c));
	const char *e = mpt_tls_error(p.c);
	assert_true(strlen(e) > 0);
	assert_non_null(strstr(e, "certificate verify failed"));
	print_message("client: %s\n", e);
	uint8_t buf[16];
	assert_int_equal(mpt_tls_read(p.c, buf, sizeof(buf)), MPT_TLS_ERR);
	assert_int_equal(mpt_tls_write(p.c, buf, sizeof(buf)), MPT_TLS_ERR);
	/* The client's alert fails the server too, with the alert's name. */
	move(p.c, p.s);
	assert_int_equal(mpt_tls_read(p.s, buf, sizeof(buf)), MPT_TLS_ERR);
	assert_true(strlen(mpt_tls_error(p.s)) > 0);
	print_message("server: %s\n", mpt_tls_error(p.s));
	pair_close(&p);
	remove_cert(&other);
}

/* Bad files are errors with the file's name. */
static void test_bad_files(void **state)
{
	(void)state;
	char err[256] = "";
	struct mpt_tls_ctx_cfg s = {.server = true, .cert = "/nonexistent/cert.pem"};
	assert_null(mpt_tls_ctx_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));
	struct mpt_tls_ctx_cfg c = {.server = false, .ca = "/nonexistent/ca.pem"};
	assert_null(mpt_tls_ctx_new(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	/* A certificate with another certificate's key. */
	struct certfiles a, b;
	make_cert(&a, "a");
	make_cert(&b, "b");
	struct mpt_tls_ctx_cfg m = {.server = true, .cert = a.cert, .key = b.key};
	assert_null(mpt_tls_ctx_new(&m, err, sizeof(err)));
	assert_non_null(strstr(err, b.key));
	remove_cert(&a);
	remove_cert(&b);
}

/* Garbage instead of a ClientHello, and garbage after the handshake. */
static void test_garbage(void **state)
{
	(void)state;
	char err[256];
	struct mpt_tls_ctx_cfg s = {.server = true};
	struct mpt_tls_ctx *sctx = mpt_tls_ctx_new(&s, err, sizeof(err));
	assert_non_null(sctx);
	uint8_t buf[4096];
	/* Text, random bytes, a record header announcing too much. */
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	for (int kind = 0; kind < 3; kind++) {
		struct mpt_tls *t = mpt_tls_new(sctx, err, sizeof(err));
		assert_non_null(t);
		size_t len;
		if (kind == 0) {
			len = sizeof(http) - 1;
			memcpy(buf, http, len);
		} else if (kind == 1) {
			len = sizeof(buf);
			assert_int_equal(RAND_bytes(buf, (int)len), 1);
		} else {
			len = 5;
			memcpy(buf, "\x16\x03\x01\xff\xff", 5);
		}
		assert_int_equal(mpt_tls_feed(t, buf, len), 0);
		assert_int_equal(mpt_tls_read(t, buf, sizeof(buf)), MPT_TLS_ERR);
		assert_true(strlen(mpt_tls_error(t)) > 0);
		print_message("garbage %d: %s\n", kind, mpt_tls_error(t));
		/* Dead from now on, and it says so. */
		assert_int_equal(mpt_tls_handshake(t), MPT_TLS_ERR);
		assert_int_equal(mpt_tls_write(t, buf, 1), MPT_TLS_ERR);
		assert_int_equal(mpt_tls_read(t, buf, sizeof(buf)), MPT_TLS_ERR);
		(void)mpt_tls_take(t, buf, sizeof(buf)); /* an alert, maybe */
		mpt_tls_free(t);
	}
	mpt_tls_ctx_free(sctx);
	/* After the handshake: a corrupted record is an error, not data. */
	struct pair p;
	default_pair(&p);
	uint8_t msg[100] = {0};
	assert_int_equal(mpt_tls_write(p.c, msg, sizeof(msg)), (long)sizeof(msg));
	size_t n = mpt_tls_take(p.c, buf, sizeof(buf));
	assert_true(n > 20);
	buf[n - 3] ^= 0x40;
	assert_int_equal(mpt_tls_feed(p.s, buf, n), 0);
	assert_int_equal(mpt_tls_read(p.s, msg, sizeof(msg)), MPT_TLS_ERR);
	assert_true(strlen(mpt_tls_error(p.s)) > 0);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_and_data),
	    cmocka_unit_test(test_write_before_handshake),
	    cmocka_unit_test(test_close_notify),
	    cmocka_unit_test(test_exporter),
	    cmocka_unit_test(test_cert_files_verified),
	    cmocka_unit_test(test_unrelated_ca),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
