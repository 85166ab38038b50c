/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TLS 1.3 client over MPTCP on mpt's TUN backend whose subflows are
 * authenticated with keys from TLS: MPTCP external keys
 * (draft-baerts-tcpm-mptcpext-00, docs/external-keys.md "TLS binding").
 *
 * Plain MPTCP sends its keys in clear in MP_CAPABLE: whoever saw the
 * handshake can add subflows to the connection.  Here the connection offers
 * external keys; once TLS is up, both ends export the same 32 bytes from
 * the TLS session and install them with mpt_sock_set_external_key, and
 * every MP_JOIN, ADD_ADDR and MP_FASTCLOSE is then keyed with a secret only
 * the two TLS endpoints know.  No join is opened before that key is active.
 *
 * Connects to HOST PORT from the first ADDR (the others: more paths, on
 * which the default "fullmesh" path manager opens subflows), copies stdin
 * to the server and the server's data to stdout, both through TLS (OpenSSL's
 * libssl over memory BIOs: an mpt socket is not a file descriptor).  Talks
 * to `mpt cat --tls -l`, which derives the same key.  Needs CAP_NET_ADMIN.
 *
 *   cc tls_client.c $(pkg-config --cflags --libs mpt-backend openssl) -o tls_client
 *   sudo ./tls_client HOST PORT ADDR/PLEN[,dev=NAME] [ADDR/PLEN...] <in >out
 *
 * MPT_TLS_CA=FILE verifies the server's certificate chain against FILE;
 * without it nothing is verified (fine against `mpt cat --tls -l`'s
 * self-signed demo certificate, not anywhere else).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <mpt/backend.h>
#include <mpt/mpt.h>

/* The exporter label and context `mpt cat --tls` uses (tools/mpt/tls.h):
 * both ends must derive the key byte for byte the same way. */
#define EXT_KEY_LABEL   "EXPERIMENTAL-mptcp-external-key"
#define EXT_KEY_LEN     32 /* HMAC-SHA256's block of security */
#define EXT_KEY_CTX_LEN 12 /* initiator token, responder token, generation */

struct client {
	struct mpt_backend *be;
	struct mpt_sock *s;
	SSL *ssl;
	BIO *net_in;  /* ciphertext from the connection to libssl (owned by ssl) */
	BIO *net_out; /* ciphertext from libssl to the connection (owned by ssl) */
	bool connected, tls_up, key_done;
	bool in_eof;      /* stdin ended: close_notify queued */
	bool fin_sent;    /* ...and, after it, our FIN */
	bool peer_notify; /* the server's close_notify arrived */
	bool stream_eof;  /* the server's FIN arrived */
	bool stdin_pollable, stdin_watched;
	bool failed;
	uint64_t sent, received; /* plaintext bytes */
	int subflows;            /* most subflows established at once */
	uint64_t done_at;
	uint8_t cbuf[65536]; /* ciphertext mpt_send did not take yet */
	size_t clen, coff;
	uint8_t buf[16384];
};

static void on_stdin(void *ud, int fd, uint32_t events);

/* The first failure ends the program (exit 1); say why, with OpenSSL's
 * reason when it has one. */
static void fail(struct client *c, const char *what, const char *why)
{
	char ossl[256] = "";
	unsigned long e = ERR_get_error();
	if (!why && e) {
		ERR_error_string_n(e, ossl, sizeof(ossl));
		why = ossl;
	}
	ERR_clear_error();
	if (c->failed)
		return;
	c->failed = true;
	fprintf(stderr, "tls_client: %s%s%s\n", what, why ? ": " : "", why ? why : "");
	mpt_backend_stop(c->be, 1);
}

/* A failed SSL_* call: a certificate that did not verify says which check
 * failed, which OpenSSL's error queue does not. */
static void fail_tls(struct client *c, const char *what)
{
	long vr = SSL_get_verify_result(c->ssl);
	if (vr == X509_V_OK) {
		fail(c, what, NULL);
		return;
	}
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: certificate verify failed", what);
	fail(c, msg, X509_verify_cert_error_string(vr));
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Generation 0 of the external key: the TLS exporter with the context
 * initiator token || responder token || 0 (32 bits each, network order).
 * We connected, so we are the initiator: our token first.  The tokens bind
 * the key to this MPTCP connection.  While the engine cannot take the key
 * (MPT_ERR_STATE: not established yet; MPT_ERR_AGAIN: a previous key not
 * confirmed) it is tried again on a later loop turn (on_idle).
 */
static void install_key(struct client *c, uint64_t now)
{
	if (!c->tls_up || c->key_done || c->failed)
		return;
	struct mpt_mptcp_info mi;
	if (mpt_sock_mptcp_info(c->s, &mi) < 0 || mi.fallback || !mi.ext_keys) {
		c->key_done = true; /* not negotiated: joins use RFC 8684's keys */
		return;
	}
	if (!mi.mptcpi_token || !mi.remote_token)
		return; /* not known yet */
	uint8_t ctx[EXT_KEY_CTX_LEN], key[EXT_KEY_LEN];
	put_be32(ctx, mi.mptcpi_token);
	put_be32(ctx + 4, mi.remote_token);
	put_be32(ctx + 8, 0);
	if (SSL_export_keying_material(c->ssl, key, sizeof(key), EXT_KEY_LABEL,
				       strlen(EXT_KEY_LABEL), ctx, sizeof(ctx), 1) != 1) {
		fail(c, "TLS exporter", NULL);
		return;
	}
	int rc = mpt_sock_set_external_key(c->s, key, sizeof(key), now);
	OPENSSL_cleanse(key, sizeof(key)); /* the engine keeps its own copy */
	if (rc == MPT_ERR_STATE || rc == MPT_ERR_AGAIN)
		return;
	if (rc < 0) {
		fail(c, "installing the external key", mpt_strerror(rc));
		return;
	}
	c->key_done = true;
}

/* Wake up for stdin only while what it gives can go out at once: TLS
 * records then never pile up in front of a slow connection.  Unwatched
 * rather than watched for nothing, because epoll reports a closed pipe's
 * hang-up even then (and would spin). */
static void watch_stdin(struct client *c, bool want)
{
	if (!c->stdin_pollable || want == c->stdin_watched)
		return;
	if (want) {
		c->stdin_watched = mpt_backend_watch(c->be, 0, EPOLLIN, on_stdin, c) == 0;
	} else {
		mpt_backend_unwatch(c->be, 0);
		c->stdin_watched = false;
	}
}

static bool stdin_readable(void)
{
	struct pollfd p = {.fd = 0, .events = POLLIN};
	return poll(&p, 1, 0) > 0; /* a regular file always is */
}

/* Ciphertext to the connection in the order libssl made it: first what
 * mpt_send did not take last time, then the memory BIO.  True when all of
 * it went out. */
static bool flush_tx(struct client *c, uint64_t now)
{
	for (;;) {
		if (c->coff == c->clen) {
			if (BIO_ctrl_pending(c->net_out) == 0)
				return true;
			int n = BIO_read(c->net_out, c->cbuf, sizeof(c->cbuf));
			if (n <= 0)
				return true;
			c->clen = (size_t)n;
			c->coff = 0;
		}
		long w = mpt_send(c->s, c->cbuf + c->coff, c->clen - c->coff, now);
		if (w == MPT_ERR_AGAIN || w == 0)
			return false; /* MPT_EV_WRITABLE resumes */
		if (w < 0) {
			fail(c, "send", mpt_strerror((int)w));
			return false;
		}
		c->coff += (size_t)w;
	}
}

/* stdin -> TLS -> connection; at stdin's end close_notify, then our FIN. */
static void pump_tx(struct client *c)
{
	uint64_t now = mpt_backend_now();
	bool want_stdin = false;
	ERR_clear_error(); /* SSL_get_error needs an empty queue */
	while (c->connected && !c->failed && !c->fin_sent && flush_tx(c, now)) {
		if (!c->tls_up)
			break; /* the handshake's flights only (pump_rx makes them) */
		if (c->in_eof) {
			/* Everything went out, close_notify last: now the FIN. */
			int rc = mpt_shutdown(c->s, now);
			if (rc < 0)
				fail(c, "shutdown", mpt_strerror(rc));
			c->fin_sent = true;
			break;
		}
		if (!stdin_readable()) {
			want_stdin = true;
			break;
		}
		ssize_t n = read(0, c->buf, sizeof(c->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			want_stdin = true;
			break;
		}
		if (n < 0) {
			fail(c, "reading stdin", strerror(errno));
			break;
		}
		if (n == 0) {
			c->in_eof = true;
			if (SSL_shutdown(c->ssl) < 0) /* 0: sent, theirs not yet seen */
				fail_tls(c, "TLS close_notify");
			continue;
		}
		/* A memory BIO takes whole records: all or an error. */
		if (SSL_write(c->ssl, c->buf, (int)n) != n) {
			fail_tls(c, "TLS write");
			break;
		}
		c->sent += (uint64_t)n;
	}
	watch_stdin(c, want_stdin && !c->failed);
}

static bool write_stdout(const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			/* Non-blocking by someone else's choice (a terminal
			 * shares one open file with stdin): wait. */
			struct pollfd pf = {.fd = 1, .events = POLLOUT};
			(void)poll(&pf, 1, -1);
		} else if (n == 0) {
			errno = EIO;
			return false;
		} else if (errno != EINTR) {
			return false;
		}
	}
	return true;
}

/* connection -> TLS -> stdout: plaintext first, and when libssl needs more,
 * ciphertext from mpt_recv.  The handshake runs here too (it is driven by
 * what the server sends).  stdout is written blocking: a slow reader slows
 * the connection down, as it would with a kernel socket. */
static void pump_rx(struct client *c)
{
	uint64_t now = mpt_backend_now();
	ERR_clear_error(); /* SSL_get_error needs an empty queue */
	while (c->connected && !c->failed) {
		if (!c->tls_up) {
			int rc = SSL_do_handshake(c->ssl);
			if (rc == 1) {
				c->tls_up = true;
				install_key(c, now);
				continue;
			}
			if (SSL_get_error(c->ssl, rc) != SSL_ERROR_WANT_READ) {
				fail_tls(c, "TLS handshake");
				break;
			}
		} else if (!c->peer_notify) {
			int n = SSL_read(c->ssl, c->buf, sizeof(c->buf));
			if (n > 0) {
				if (!write_stdout(c->buf, (size_t)n)) {
					fail(c, "writing stdout", strerror(errno));
					break;
				}
				c->received += (uint64_t)n;
				continue;
			}
			int e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_ZERO_RETURN) {
				c->peer_notify = true;
				continue;
			}
			if (e != SSL_ERROR_WANT_READ) {
				fail_tls(c, "TLS");
				break;
			}
		}
		/* libssl needs more (or the server's data ended with its
		 * close_notify: whatever follows is not TLS, and is dropped
		 * while we wait for the stream's end). */
		if (c->stream_eof) {
			if (!c->tls_up)
				fail(c, "TLS handshake", "the server closed the connection");
			break;
		}
		long r = mpt_recv(c->s, c->buf, sizeof(c->buf), now);
		if (r == MPT_ERR_AGAIN)
			break; /* MPT_EV_READABLE resumes */
		if (r < 0) {
			fail(c, "receive", mpt_strerror((int)r));
			break;
		}
		if (r == 0)
			c->stream_eof = true;
		else if (!c->peer_notify && BIO_write(c->net_in, c->buf, (int)r) != r)
			fail(c, "buffering received data", NULL);
	}
	/* Handshake flights, alerts, or stdin now that TLS is up. */
	pump_tx(c);
}

static void on_stdin(void *ud, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	pump_tx(ud);
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct client *c = ud;
	if (s != c->s || c->failed)
		return;
	if (ev & MPT_EV_ERROR) {
		fail(c, "connection", mpt_strerror(mpt_sock_error(s)));
		return;
	}
	if (ev & MPT_EV_CONNECTED)
		c->connected = true; /* pump_rx starts the handshake: ClientHello */
	if (ev & (MPT_EV_CONNECTED | MPT_EV_READABLE))
		pump_rx(c);
	if (ev & MPT_EV_WRITABLE)
		pump_tx(c);
}

/* Every subflow has finished its FIN exchange. */
static bool subflows_closed(const struct client *c)
{
	struct mpt_subflow_info sf[16];
	int n = mpt_sock_subflows(c->s, sf, 16);
	for (int i = 0; i < n && i < 16; i++)
		if (strcmp(sf[i].state, "TIME-WAIT") && strcmp(sf[i].state, "CLOSED"))
			return false;
	return true;
}

/* Every loop turn: the key when the engine could not take it yet, the
 * subflow count, and the end: both directions done, the subflows get up to
 * 2 s to exchange their FINs (as in mptcp_client.c). */
static bool on_idle(void *ud)
{
	struct client *c = ud;
	uint64_t now = mpt_backend_now();
	if (c->failed)
		return false;
	install_key(c, now);
	struct mpt_mptcp_info mi;
	if (mpt_sock_mptcp_info(c->s, &mi) == 0 && mi.mptcpi_subflows_total > c->subflows)
		c->subflows = mi.mptcpi_subflows_total;
	if (c->fin_sent && c->stream_eof) {
		if (!c->done_at)
			c->done_at = now;
		if (subflows_closed(c) || now - c->done_at > 2 * MPT_NS_PER_S)
			mpt_backend_stop(c->be, 0);
	}
	return false;
}

static void summary(const struct client *c)
{
	struct mpt_mptcp_info mi = {0};
	bool mptcp = mpt_sock_mptcp_info(c->s, &mi) == 0 && !mi.fallback;
	const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
	const char *keys = !mptcp        ? "not negotiated (no MPTCP)"
			   : mi.ext_keys ? "negotiated"
					 : "not negotiated";
	if (!c->peer_notify && c->stream_eof)
		fprintf(stderr, "tls_client: warning: the server's data ended without "
				"close_notify (it may be truncated)\n");
	fprintf(stderr,
		"tls_client: TLS 1.3 %s; external keys: %s, key generations active %u; "
		"subflows %d; sent %" PRIu64 " B, received %" PRIu64 " B\n",
		cipher ? SSL_CIPHER_get_name(cipher) : "(none)", keys, mptcp ? mi.ext_key_gen : 0u,
		c->subflows, c->sent, c->received);
}

/* TLS 1.3 only: TLS 1.2's exporter is safe only with the extended master
 * secret (RFC 7627), and `mpt cat --tls` refuses it too. */
static SSL_CTX *tls_context(void)
{
	char why[256];
	const char *ca = getenv("MPT_TLS_CA");
	if (ca && !*ca)
		ca = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto fail;
	if (ca) {
		/* The chain only, as `mpt cat --tls-ca`: HOST is an address,
		 * a real client would also check the certificate's name
		 * (SSL_set1_host). */
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		fprintf(stderr, "tls_client: warning: the server's certificate is not verified "
				"(MPT_TLS_CA=FILE verifies it)\n");
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
fail:
	ERR_error_string_n(ERR_get_error(), why, sizeof(why));
	fprintf(stderr, "tls_client: TLS setup%s%s: %s\n", ca ? " with MPT_TLS_CA=" : "",
		ca ? ca : "", why);
	SSL_CTX_free(ctx);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s HOST PORT ADDR/PLEN[,dev=NAME] [ADDR/PLEN...]\n",
			argv[0]);
		return 2;
	}
	static struct client c;
	struct mpt_backend_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	mpt_stack_cfg_init(&cfg.stack);
	cfg.stack.mptcp.enable = true;
	/* Offer external keys; a server without them gets plain RFC 8684
	 * (MPT_EXT_KEYS_REQUIRE would refuse it instead). */
	cfg.stack.mptcp.ext_keys = MPT_EXT_KEYS_OFFER;
	cfg.stack.on_event = on_event;
	cfg.stack.event_ud = &c;
	char err[256];
	for (int i = 3; i < argc && cfg.n_paths < MPT_BACKEND_MAX_PATHS; i++) {
		if (mpt_path_parse(argv[i], &cfg.paths[cfg.n_paths], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", argv[0], err);
			return 2;
		}
		cfg.n_paths++;
	}
	struct mpt_endpoint dst = {.port = (uint16_t)atoi(argv[2])};
	if (mpt_addr_parse(&dst.addr, argv[1]) < 0) {
		fprintf(stderr, "%s: '%s' is not an IP address\n", argv[0], argv[1]);
		return 2;
	}
	/* A closed stdout is a write error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	SSL_CTX *ctx = tls_context();
	if (!ctx)
		return 1;
	c.ssl = SSL_new(ctx);
	c.net_in = BIO_new(BIO_s_mem());
	c.net_out = BIO_new(BIO_s_mem());
	if (!c.ssl || !c.net_in || !c.net_out) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return 1;
	}
	/* An empty net_in means "more to come": the connection, not the
	 * BIO, says when the server's data ends. */
	BIO_set_mem_eof_return(c.net_in, -1);
	SSL_set_bio(c.ssl, c.net_in, c.net_out);
	SSL_set_connect_state(c.ssl);

	if (mpt_backend_create(&cfg, &c.be, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	mpt_backend_set_idle(c.be, on_idle, &c);
	/* Is stdin pollable (pipe, terminal, socket)?  A regular file is not,
	 * and is always ready: pump_tx reads it until the connection is full. */
	int rc = mpt_backend_watch(c.be, 0, 0, on_stdin, &c);
	if (rc == 0) {
		c.stdin_pollable = true;
		mpt_backend_unwatch(c.be, 0); /* watched when wanted */
	} else if (rc != MPT_ERR_UNSUPPORTED) {
		fprintf(stderr, "%s: cannot watch stdin: %s\n", argv[0], mpt_strerror(rc));
		mpt_backend_destroy(c.be);
		return 1;
	}
	rc =
	    mpt_connect(mpt_backend_stack(c.be), &dst, &cfg.paths[0].addr, mpt_backend_now(), &c.s);
	if (rc < 0) {
		fprintf(stderr, "%s: connect: %s\n", argv[0], mpt_strerror(rc));
		mpt_backend_destroy(c.be);
		return 1;
	}
	rc = mpt_backend_run(c.be);
	if (c.tls_up)
		summary(&c);
	mpt_close(c.s, mpt_backend_now());
	mpt_backend_destroy(c.be);
	SSL_free(c.ssl); /* and both BIOs */
	SSL_CTX_free(ctx);
	return rc == 0 && !c.failed ? 0 : 1;
}
