/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt cat`: netcat over the userspace stack on TUN devices.
 *
 *   mpt cat [options] HOST PORT      connect
 *   mpt cat -l [options] PORT        listen (one connection; -k: one after another)
 *
 * 8-bit clean: stdin goes to the connection, the connection to stdout.  The
 * FIN is sent once stdin is at end of file and, without -N, the peer has
 * finished too; with -N it is sent at stdin's end of file (half-close).  The
 * connection ends when both directions are finished and our FIN is
 * acknowledged.  Errors go to stderr; the exit status is 0 only when the
 * connection ended cleanly.
 *
 * SIGINT/SIGTERM/SIGHUP abort the connection (MP_FASTCLOSE for MPTCP, RST
 * for TCP) so the peer is not left with established subflows, and exit 1.
 * They are read from a signalfd in the loop, between stack calls.
 *
 * --tls runs TLS 1.3 (OpenSSL's libssl, tls.c) over the connection: stdin
 * -> TLS records -> mpt_send, mpt_recv -> TLS -> stdout.  When the MPTCP
 * connection negotiated external keys (draft-baerts-tcpm-mptcpext-00,
 * docs/external-keys.md "TLS binding"), the TLS exporter's key is installed
 * with mpt_sock_set_external_key once the handshake is done, and a new
 * generation every --tls-rekey seconds.  Our end of data is close_notify,
 * then the FIN; the peer's is its close_notify (or the stream's end).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "mpt/backend.h"
#include "mpt/mpt.h"
#include "opts.h"
#include "svc.h"
#include "tls.h"
#include "tool.h"
#include "toolloop.h"

#define CAT_BUF            (64u * 1024u)
/* Bytes handed to mpt_send per pump: the stack transmits when the loop
 * runs it (mpt_stack_on_timer), not inside mpt_send, so a pump that filled
 * the whole send buffer from a regular file first (~1 MiB of reads and
 * copies, 5-10 ms) held back the connection's first segment, and with it
 * the peer's DATA_ACK that lets the path manager open joins (kregress b6:
 * the first MP_JOIN 6.6 ms after the SYN/ACK, the kernel's own 1-2 ms). */
#define CAT_TX_BUDGET      (128u * 1024u)
#define CAT_LINGER_NS      (30 * MPT_NS_PER_S) /* TCP: wait for our FIN's ACK at most this long */
#define MPT_CAT_MAX_SF     32
/* MPTCP: once every byte we sent is DATA_ACKed and the peer's DATA_FIN is
 * in, the close handshake (DATA_FIN ack, each subflow's FINs) gets at most
 * this long.  A subflow on a dead path never finishes its FIN exchange, and
 * the data is safe with the peer already: waiting longer only delays the
 * exit (it took 3 to 9 s with the initial subflow's path down). */
#define CAT_CLOSE_GRACE_NS (2 * MPT_NS_PER_S)
/* After an abort (signal), run the loop this much longer (plus the paths'
 * emulated delay) so that the RST / MP_FASTCLOSE really leaves. */
#define CAT_DRAIN_NS       (100 * MPT_NS_PER_MS)
#define CAT_BACKLOG        16
/* --tls: an external key the engine did not take yet (MPT_ERR_STATE: not
 * established; MPT_ERR_AGAIN: the previous one unconfirmed) is retried
 * this often. */
#define CAT_KEY_RETRY_NS   (50 * MPT_NS_PER_MS)

/* getopt_long codes of cat's own long options (apart from the shared
 * stack options' MPT_OPT_*). */
enum {
	CAT_OPT_TLS = 0x2000,
	CAT_OPT_TLS_CERT,
	CAT_OPT_TLS_KEY,
	CAT_OPT_TLS_CA,
	CAT_OPT_TLS_REKEY,
};

struct cat_io {
	int fd;
	bool poll;     /* watched by epoll (false: regular file, always ready) */
	int flags;     /* original file status flags, restored at exit */
	uint32_t want; /* events currently requested */
};

struct cat {
	struct mpt_backend *be;
	struct mpt_stack *st;
	struct mpt_sock *lsock, *sock;
	bool listen, keep, half_close;
	int verbose;
	struct cat_io in, out;
	/* stdin -> connection */
	uint8_t *ibuf;
	size_t ilen, ioff;
	bool in_eof, fin_sent;
	/* connection -> stdout */
	uint8_t *obuf;
	size_t olen, ooff;
	bool net_eof;
	bool connected, closed_ev;
	int sock_err;        /* connection error seen (reported from idle) */
	bool tx_more;        /* pump_tx stopped at its budget with data to send */
	bool out_err;        /* stdout failed */
	uint64_t linger_end; /* 0: not lingering */
	uint64_t grace_end;  /* MPTCP close handshake deadline (0: not started) */
	uint64_t bytes_in, bytes_out;
	int status;
	bool quiet;
	/* signals, the wake-up timer, the drain after an abort */
	struct tool_signals sig;
	struct tool_timer timer;
	uint64_t drain_end; /* 0: not draining */
	uint32_t drain_ns;
	/* progress (stdin a regular file of known size, stderr a terminal) */
	struct tool_progress prog;
	uint64_t in_size;
	/* --tls (use_tls; everything below is per connection but tls_ctx) */
	bool use_tls;
	struct mpt_tls_ctx *tls_ctx;
	struct mpt_tls *tls;
	uint8_t *cbuf; /* ciphertext taken from tls, not yet taken by mpt_send */
	size_t clen, coff;
	bool tls_up;       /* handshake done (and reported) */
	bool tls_err;      /* TLS failed: tls_msg says why (reported from idle) */
	bool notify_sent;  /* our close_notify queued */
	bool stream_eof;   /* mpt_recv said end of stream */
	bool keys_done;    /* no (more) external keys to install */
	uint32_t key_gen;  /* the generation to install next */
	uint64_t key_due;  /* when (0: as soon as possible) */
	uint64_t rekey_ns; /* --tls-rekey (0: none) */
	char tls_msg[320];
};

static const char *prog = "mpt cat";

static void cat_usage(FILE *f)
{
	fprintf(f,
		"usage: mpt cat [options] HOST PORT\n"
		"       mpt cat -l [-k] [options] PORT\n"
		"  Copy stdin to a TCP/MPTCP connection and the connection to stdout, over\n"
		"  mpt's own stack on TUN devices (needs CAP_NET_ADMIN).  HOST is an IP address.\n"
		"  -l                listen for a connection on PORT (any local address)\n"
		"  -k                with -l: keep listening, serve connections one after another\n"
		"  -N                shut down the sending direction at end of stdin\n"
		"  -q                no progress line (shown on a terminal when stdin is a file)\n"
		"  --ctl PATH        control socket (default /run/mpt/cat.PID.sock; none: no\n"
		"                    socket); see mpt ss, mpt nstat, mpt monitor\n"
		"  --check           check the options and the host (addresses free,\n"
		"                    forwarding, rp_filter), change nothing, exit 0 or 1\n"
		"  --tls             TLS 1.3 over the connection (both sides); offers MPTCP\n"
		"                    external keys from the TLS exporter unless --ext-keys\n"
		"                    says otherwise\n"
		"  --tls-cert FILE   with -l: the certificate (PEM; default: a self-signed\n"
		"                    EC P-256 one made at start, for demos)\n"
		"  --tls-key FILE    with -l: its private key (PEM; default: in --tls-cert)\n"
		"  --tls-ca FILE     connecting: verify the server's certificate chain\n"
		"                    against these CAs (PEM; default: no verification)\n"
		"  --tls-rekey SECONDS  install a new external key every SECONDS after the\n"
		"                    first (use the same value on both sides)\n"
		"  -h, --help        this text\n"
		"  Options may follow HOST PORT.  SIGINT/SIGTERM abort the connection\n"
		"  (MP_FASTCLOSE) and exit 1.\n");
	mpt_opts_usage(f);
	fprintf(f, "example:\n"
		   "  mpt cat --path 10.77.1.1/24 --no-mptcp 10.77.2.2 5001 < file\n");
}

/* ---- descriptor plumbing ------------------------------------------------- */

static void io_set_want(struct cat *c, struct cat_io *io, uint32_t want)
{
	if (!io->poll || io->want == want)
		return;
	if (mpt_backend_watch_mod(c->be, io->fd, want) == 0)
		io->want = want;
}

static void pump_tx(struct cat *c);
static void pump_rx(struct cat *c);

static void on_stdin(void *ud, int fd, uint32_t events)
{
	struct cat *c = ud;
	(void)fd;
	(void)events;
	pump_tx(c);
}

static void on_stdout(void *ud, int fd, uint32_t events)
{
	struct cat *c = ud;
	(void)fd;
	if (events & EPOLLERR) {
		c->out_err = true;
		return;
	}
	pump_rx(c);
}

static int io_setup(struct cat *c, struct cat_io *io, int fd, mpt_backend_fd_fn fn)
{
	io->fd = fd;
	io->flags = fcntl(fd, F_GETFL);
	int rc = mpt_backend_watch(c->be, fd, 0, fn, c);
	if (rc == 0) {
		io->poll = true;
		if (io->flags >= 0)
			(void)fcntl(fd, F_SETFL, io->flags | O_NONBLOCK);
		return 0;
	}
	if (rc == MPT_ERR_UNSUPPORTED) /* regular file or /dev/null: always ready */
		return 0;
	fprintf(stderr, "%s: cannot watch fd %d: %s\n", prog, fd, mpt_strerror(rc));
	return -1;
}

static void io_restore(struct cat *c, struct cat_io *io)
{
	if (io->poll) {
		mpt_backend_unwatch(c->be, io->fd);
		if (io->flags >= 0)
			(void)fcntl(io->fd, F_SETFL, io->flags);
	}
}

/* ---- data pumps ---------------------------------------------------------- */

static void maybe_fin_tls(struct cat *c, uint64_t now);

static void maybe_fin(struct cat *c, uint64_t now)
{
	if (c->use_tls) {
		maybe_fin_tls(c, now);
		return;
	}
	/* Without -N the FIN waits for the peer's: like nc, stdin's end alone
	 * does not end the conversation. */
	if (c->sock && !c->fin_sent && c->in_eof && c->ioff == c->ilen &&
	    (c->half_close || c->net_eof)) {
		int rc = mpt_shutdown(c->sock, now);
		if (rc < 0 && rc != MPT_ERR_CLOSED && !c->sock_err)
			c->sock_err = rc;
		c->fin_sent = true;
	}
}

static void pump_tx_tls(struct cat *c);
static void pump_rx_tls(struct cat *c);

static void pump_tx(struct cat *c)
{
	if (c->use_tls) {
		pump_tx_tls(c);
		return;
	}
	uint64_t now = mpt_backend_now();
	size_t budget = CAT_TX_BUDGET;
	c->tx_more = false;
	while (c->sock && c->connected && !c->fin_sent && !c->sock_err) {
		if (c->ioff < c->ilen) {
			if (budget == 0) {
				/* The rest after the stack has run (on_idle says busy). */
				c->tx_more = true;
				break;
			}
			size_t len = c->ilen - c->ioff < budget ? c->ilen - c->ioff : budget;
			long n = mpt_send(c->sock, c->ibuf + c->ioff, len, now);
			if (n == MPT_ERR_AGAIN)
				break; /* MPT_EV_WRITABLE resumes */
			if (n < 0) {
				c->sock_err = (int)n;
				break;
			}
			c->ioff += (size_t)n;
			c->bytes_out += (uint64_t)n;
			budget -= (size_t)n < budget ? (size_t)n : budget;
			continue;
		}
		if (c->in_eof) {
			maybe_fin(c, now);
			break;
		}
		ssize_t n = read(c->in.fd, c->ibuf, CAT_BUF);
		if (n > 0) {
			c->ilen = (size_t)n;
			c->ioff = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			if (n < 0 && errno != EBADF)
				fprintf(stderr, "%s: reading stdin: %s\n", prog, strerror(errno));
			c->in_eof = true;
		} else if (errno == EAGAIN) {
			break;
		}
	}
	/* Poll stdin only when its data could go out now. */
	bool want_in = c->sock && c->connected && !c->in_eof && !c->sock_err && c->ioff == c->ilen;
	io_set_want(c, &c->in, want_in ? EPOLLIN : 0);
}

static void pump_rx(struct cat *c)
{
	if (c->use_tls) {
		pump_rx_tls(c);
		return;
	}
	uint64_t now = mpt_backend_now();
	while (c->sock && !c->out_err) {
		if (c->ooff < c->olen) {
			ssize_t n = write(c->out.fd, c->obuf + c->ooff, c->olen - c->ooff);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				io_set_want(c, &c->out, EPOLLOUT);
				return;
			}
			if (n <= 0) {
				fprintf(stderr, "%s: writing stdout: %s\n", prog,
					n < 0 ? strerror(errno) : "no progress");
				c->out_err = true;
				return;
			}
			c->ooff += (size_t)n;
			continue;
		}
		if (c->net_eof)
			break;
		long n = mpt_recv(c->sock, c->obuf, CAT_BUF, now);
		if (n == MPT_ERR_AGAIN)
			break; /* MPT_EV_READABLE resumes */
		if (n < 0) {
			c->sock_err = (int)n;
			break;
		}
		if (n == 0) {
			c->net_eof = true;
			maybe_fin(c, now);
			break;
		}
		c->olen = (size_t)n;
		c->ooff = 0;
		c->bytes_in += (uint64_t)n;
	}
	io_set_want(c, &c->out, 0);
}

/* ---- --tls: the same pumps through TLS --------------------------------------- */

/* TLS failed (a TLS alert, garbage from the network, a failed verification,
 * the stream's end during the handshake): the connection ends from idle
 * with tls_msg. */
static void tls_failed(struct cat *c, const char *why)
{
	if (c->tls_err)
		return;
	c->tls_err = true;
	if (!why)
		why = c->tls ? mpt_tls_error(c->tls) : "TLS failed";
	snprintf(c->tls_msg, sizeof(c->tls_msg), "%s", why);
}

/* A new connection's TLS endpoint (the client's first flight is ready). */
static void tls_conn_start(struct cat *c)
{
	c->clen = c->coff = 0;
	c->tls_up = c->tls_err = c->notify_sent = c->stream_eof = c->keys_done = false;
	c->key_gen = 0;
	c->key_due = 0;
	c->tls_msg[0] = '\0';
	mpt_tls_free(c->tls);
	char err[256];
	c->tls = mpt_tls_new(c->tls_ctx, err, sizeof(err));
	if (!c->tls)
		tls_failed(c, err);
}

static void tls_conn_end(struct cat *c)
{
	mpt_tls_free(c->tls);
	c->tls = NULL;
	c->clen = c->coff = 0;
}

/*
 * Install the next external key when it is due: generation key_gen from
 * the TLS exporter (tls.h), context initiator token || responder token ||
 * generation; we are the initiator when we connected.  Returns 1 when a
 * key was installed, 0 otherwise.  A key the engine cannot take yet is
 * retried (the wake-up timer).
 */
static int tls_install_key(struct cat *c, uint64_t now)
{
	if (!c->sock || !c->tls || !c->tls_up || c->tls_err || c->keys_done)
		return 0;
	if (c->key_due && now < c->key_due) {
		tool_timer_arm(&c->timer, c->key_due);
		return 0;
	}
	struct mpt_mptcp_info mi;
	if (mpt_sock_mptcp_info(c->sock, &mi) < 0 || !mi.ext_keys || mi.fallback) {
		c->keys_done = true; /* said when the handshake completed */
		return 0;
	}
	if (!mi.remote_token || !mi.mptcpi_token) {
		c->key_due = now + CAT_KEY_RETRY_NS;
		tool_timer_arm(&c->timer, c->key_due);
		return 0;
	}
	uint32_t ini = c->listen ? mi.remote_token : mi.mptcpi_token;
	uint32_t resp = c->listen ? mi.mptcpi_token : mi.remote_token;
	uint8_t key[MPT_TLS_EXT_KEY_LEN];
	if (mpt_tls_export_ext_key(c->tls, ini, resp, c->key_gen, key) < 0) {
		fprintf(stderr, "%s: external key %" PRIu32 ": %s\n", prog, c->key_gen,
			mpt_tls_error(c->tls));
		c->keys_done = true;
		return 0;
	}
	int rc = mpt_sock_set_external_key(c->sock, key, sizeof(key), now);
	explicit_bzero(key, sizeof(key));
	if (rc == MPT_ERR_STATE || rc == MPT_ERR_AGAIN) {
		/* Not established yet, or the previous key not confirmed. */
		c->key_due = now + CAT_KEY_RETRY_NS;
		tool_timer_arm(&c->timer, c->key_due);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: cannot install external key %" PRIu32 ": %s\n", prog,
			c->key_gen, mpt_strerror(rc));
		c->keys_done = true;
		return 0;
	}
	c->key_gen++;
	if (c->rekey_ns) {
		c->key_due = now + c->rekey_ns;
		tool_timer_arm(&c->timer, c->key_due);
	} else {
		c->keys_done = true;
	}
	return 1;
}

/* The handshake just completed: say so (-v) and install key 0. */
static void tls_check_up(struct cat *c, uint64_t now)
{
	if (c->tls_up || !c->tls || !mpt_tls_established(c->tls))
		return;
	c->tls_up = true;
	bool installed = tls_install_key(c, now) == 1;
	if (!c->verbose)
		return;
	struct mpt_mptcp_info mi;
	bool mptcp = mpt_sock_mptcp_info(c->sock, &mi) == 0 && !mi.fallback;
	const char *keys;
	if (installed)
		keys = "; external key 0 installed";
	else if (mptcp && mi.ext_keys)
		keys = "; external keys negotiated";
	else if (mptcp)
		keys = "; external keys not negotiated: joins use RFC 8684 keys";
	else
		keys = "";
	const char *ver = mpt_tls_version(c->tls);
	fprintf(stderr, "%s: %s %s established%s\n", prog, strcmp(ver, "TLSv1.3") ? ver : "TLS 1.3",
		mpt_tls_cipher(c->tls), keys);
}

/* From idle: rekeys (and key 0 when the engine could not take it yet). */
static void tls_idle(struct cat *c, uint64_t now)
{
	if (c->fin_sent && c->net_eof)
		return; /* closing: no more keys (the close owns the timer) */
	uint32_t gen = c->key_gen;
	if (tls_install_key(c, now) == 1 && c->verbose)
		fprintf(stderr, "%s: external key %" PRIu32 " installed\n", prog, gen);
}

static void maybe_fin_tls(struct cat *c, uint64_t now)
{
	/* As maybe_fin, and our close_notify goes out before the FIN. */
	if (!c->sock || c->fin_sent || !c->in_eof || c->ioff != c->ilen ||
	    !(c->half_close || c->net_eof) || !c->tls || c->tls_err || !c->tls_up)
		return;
	if (!c->notify_sent) {
		if (mpt_tls_close_notify(c->tls) < 0) {
			tls_failed(c, NULL);
			return;
		}
		c->notify_sent = true;
	}
	if (c->coff < c->clen || mpt_tls_pending(c->tls))
		return; /* pump_tx sends it, then comes back here */
	int rc = mpt_shutdown(c->sock, now);
	if (rc < 0 && rc != MPT_ERR_CLOSED && !c->sock_err)
		c->sock_err = rc;
	c->fin_sent = true;
}

/* pump_tx with TLS: ciphertext first (cbuf, then what tls has), then
 * plaintext from ibuf into tls, then stdin.  Bytes go out in the order tls
 * made them; cbuf keeps what mpt_send did not take. */
static void pump_tx_tls(struct cat *c)
{
	uint64_t now = mpt_backend_now();
	size_t budget = CAT_TX_BUDGET;
	c->tx_more = false;
	while (c->sock && c->connected && !c->fin_sent && !c->sock_err && c->tls && !c->tls_err) {
		if (c->coff < c->clen) {
			if (budget == 0) {
				c->tx_more = true;
				break;
			}
			size_t len = c->clen - c->coff < budget ? c->clen - c->coff : budget;
			long n = mpt_send(c->sock, c->cbuf + c->coff, len, now);
			if (n == MPT_ERR_AGAIN)
				break; /* MPT_EV_WRITABLE resumes */
			if (n < 0) {
				c->sock_err = (int)n;
				break;
			}
			c->coff += (size_t)n;
			budget -= (size_t)n < budget ? (size_t)n : budget;
			continue;
		}
		size_t got = mpt_tls_take(c->tls, c->cbuf, CAT_BUF);
		if (got) {
			c->clen = got;
			c->coff = 0;
			continue;
		}
		if (!mpt_tls_established(c->tls))
			break; /* the handshake's flights come from pump_rx */
		if (c->ioff < c->ilen) {
			long n = mpt_tls_write(c->tls, c->ibuf + c->ioff, c->ilen - c->ioff);
			if (n < 0) {
				tls_failed(c, NULL);
				break;
			}
			c->ioff += (size_t)n;
			c->bytes_out += (uint64_t)n;
			continue;
		}
		if (c->in_eof) {
			maybe_fin(c, now);
			/* The close_notify to send before the FIN. */
			if (!c->fin_sent && !c->tls_err && mpt_tls_pending(c->tls))
				continue;
			break;
		}
		ssize_t n = read(c->in.fd, c->ibuf, CAT_BUF);
		if (n > 0) {
			c->ilen = (size_t)n;
			c->ioff = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			if (n < 0 && errno != EBADF)
				fprintf(stderr, "%s: reading stdin: %s\n", prog, strerror(errno));
			c->in_eof = true;
		} else if (errno == EAGAIN) {
			break;
		}
	}
	/* Poll stdin only when its data could go out now (after the handshake). */
	bool want_in = c->sock && c->connected && !c->in_eof && !c->sock_err && !c->tls_err &&
		       c->tls && c->tls_up && c->ioff == c->ilen;
	io_set_want(c, &c->in, want_in ? EPOLLIN : 0);
}

/* pump_rx with TLS: plaintext from tls to stdout; when tls needs more,
 * ciphertext from mpt_recv into it (obuf is free then).  The peer's end is
 * its close_notify, or the stream's end after the handshake. */
static void pump_rx_tls(struct cat *c)
{
	uint64_t now = mpt_backend_now();
	bool was_up = c->tls_up;
	uint32_t want_out = 0;
	while (c->sock && !c->out_err && c->tls && !c->tls_err) {
		if (c->ooff < c->olen) {
			ssize_t n = write(c->out.fd, c->obuf + c->ooff, c->olen - c->ooff);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				want_out = EPOLLOUT;
				break;
			}
			if (n <= 0) {
				fprintf(stderr, "%s: writing stdout: %s\n", prog,
					n < 0 ? strerror(errno) : "no progress");
				c->out_err = true;
				return;
			}
			c->ooff += (size_t)n;
			continue;
		}
		if (c->net_eof) {
			/* After close_notify: the stream's end (anything else
			 * after it is not TLS data; dropped). */
			while (!c->stream_eof) {
				long n = mpt_recv(c->sock, c->obuf, CAT_BUF, now);
				if (n == 0)
					c->stream_eof = true;
				else if (n < 0)
					break;
			}
			break;
		}
		long n = mpt_tls_read(c->tls, c->obuf, CAT_BUF);
		tls_check_up(c, now);
		if (n > 0) {
			c->olen = (size_t)n;
			c->ooff = 0;
			c->bytes_in += (uint64_t)n;
			continue;
		}
		if (n == MPT_TLS_EOF) {
			c->net_eof = true;
			maybe_fin(c, now);
			continue; /* drain the stream's end */
		}
		if (n != MPT_TLS_AGAIN) {
			tls_failed(c, NULL);
			break;
		}
		if (c->stream_eof) {
			if (!c->tls_up) {
				tls_failed(c, "closed by the peer during the TLS handshake");
				break;
			}
			if (c->verbose)
				fprintf(stderr, "%s: the peer's end came without close_notify\n",
					prog);
			c->net_eof = true;
			maybe_fin(c, now);
			break;
		}
		n = mpt_recv(c->sock, c->obuf, CAT_BUF, now);
		if (n == MPT_ERR_AGAIN)
			break; /* MPT_EV_READABLE resumes */
		if (n < 0) {
			c->sock_err = (int)n;
			break;
		}
		if (n == 0) {
			c->stream_eof = true;
			continue;
		}
		if (mpt_tls_feed(c->tls, c->obuf, (size_t)n) < 0) {
			tls_failed(c, NULL);
			break;
		}
	}
	io_set_want(c, &c->out, want_out);
	/* Handshake flights, alerts, our close_notify; or the plaintext that
	 * waited for the handshake. */
	if (c->sock && c->tls && !c->tls_err && (mpt_tls_pending(c->tls) || (c->tls_up && !was_up)))
		pump_tx(c);
}

/* ---- connection life cycle ----------------------------------------------- */

static void describe(const struct mpt_sock *s, bool remote, char *buf, size_t len)
{
	struct mpt_endpoint l, r;
	mpt_sock_endpoints(s, &l, &r);
	const struct mpt_endpoint *e = remote ? &r : &l;
	char a[64];
	mpt_addr_format(&e->addr, a, sizeof(a));
	snprintf(buf, len, "%s port %u", a, e->port);
}

static void start_conn(struct cat *c, struct mpt_sock *s)
{
	c->sock = s;
	c->connected = true;
	c->net_eof = c->fin_sent = c->closed_ev = false;
	c->sock_err = 0;
	c->olen = c->ooff = 0;
	c->linger_end = 0;
	c->grace_end = 0;
	c->bytes_in = c->bytes_out = 0;
	if (c->use_tls)
		tls_conn_start(c);
	if (c->verbose) {
		/* "(MPTCP)" or "(TCP)" as negotiated; print_info says at the end
		 * what it became (fallback, subflows). */
		char r[96];
		describe(s, true, r, sizeof(r));
		fprintf(stderr, "%s: connection from %s (%s)\n", prog, r,
			mpt_sock_mptcp_enabled(s) ? "MPTCP" : "TCP");
	}
	pump_rx(c); /* data may have arrived before accept */
	pump_tx(c);
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct cat *c = ud;
	ctl_server_on_event(s, ev); /* path-manager events for mpt monitor */
	if (s == c->lsock) {
		if ((ev & MPT_EV_ACCEPTABLE) && !c->sock) {
			struct mpt_sock *n = mpt_accept(c->lsock);
			if (n)
				start_conn(c, n);
		}
		return;
	}
	if (s != c->sock)
		return;
	if (ev & MPT_EV_ERROR) {
		c->sock_err = mpt_sock_error(s);
		if (!c->sock_err)
			c->sock_err = MPT_ERR_RESET;
	}
	if (ev & MPT_EV_CLOSED)
		c->closed_ev = true;
	if ((ev & MPT_EV_CONNECTED) && !c->connected) {
		c->connected = true;
		if (c->verbose) {
			char r[96], l[96];
			describe(s, true, r, sizeof(r));
			describe(s, false, l, sizeof(l));
			fprintf(stderr, "%s: connected to %s from %s (%s)\n", prog, r, l,
				mpt_sock_mptcp_enabled(s) ? "MPTCP" : "TCP");
		}
	}
	if (ev & (MPT_EV_READABLE | MPT_EV_CLOSED))
		pump_rx(c);
	if (ev & (MPT_EV_CONNECTED | MPT_EV_WRITABLE))
		pump_tx(c);
}

/* What was transferred and what the connection became (at its end: a
 * connection may have fallen back to TCP since it was set up).  always:
 * print even without -v (an interrupted run says what it did). */
static void print_info(struct cat *c, bool always)
{
	struct mpt_sock_info info;
	if ((!c->verbose && !always) || !c->sock || mpt_sock_info(c->sock, &info) < 0)
		return;
	char k[96];
	fprintf(stderr,
		"%s: sent %" PRIu64 " B, received %" PRIu64 " B; %s; state %s, srtt %.2f ms, "
		"retransmits %u (timeouts %u), cc %s\n",
		prog, c->bytes_out, c->bytes_in, tool_conn_kind(c->sock, k, sizeof(k)), info.state,
		(double)info.srtt_ns / 1e6, info.total_retrans, info.rto_count, info.cc);
}

/* The connection is over (status 0: cleanly).  Runs outside stack calls. */
/* Every subflow finished its FIN exchange (TIME-WAIT or CLOSED). */
static bool subflows_closed(const struct mpt_sock *s)
{
	struct mpt_subflow_info sf[MPT_CAT_MAX_SF];
	int n = mpt_sock_subflows(s, sf, MPT_CAT_MAX_SF);
	if (n < 0 || n > MPT_CAT_MAX_SF)
		return n < 0;
	for (int i = 0; i < n; i++)
		if (strcmp(sf[i].state, "TIME-WAIT") && strcmp(sf[i].state, "CLOSED"))
			return false;
	return true;
}

static void end_conn(struct cat *c, int status)
{
	tool_progress_clear(&c->prog);
	print_info(c, false);
	if (status)
		c->status = status;
	uint64_t now = mpt_backend_now();
	ctl_server_sock_closing(c->sock);
	if (status)
		mpt_abort(c->sock, now);
	else
		mpt_close(c->sock, now);
	if (c->use_tls)
		tls_conn_end(c);
	c->sock = NULL;
	c->connected = false;
	if (c->listen && c->keep) {
		struct mpt_sock *n = mpt_accept(c->lsock);
		if (n)
			start_conn(c, n);
		return;
	}
	mpt_backend_stop(c->be, c->status);
}

static bool on_idle(void *ud)
{
	struct cat *c = ud;
	if (c->drain_end) {
		if (mpt_backend_now() >= c->drain_end)
			mpt_backend_stop(c->be, 1);
		return false;
	}
	if (c->sock && c->prog.on && c->in_size)
		tool_progress_update(&c->prog, "sent", c->bytes_out, c->in_size, mpt_backend_now());
	if (c->sock) {
		/* Regular files are never polled: drive them from here; so is
		 * the rest of a pump that stopped at its budget. */
		if (!c->in.poll || c->tx_more)
			pump_tx(c);
		if (!c->out.poll)
			pump_rx(c);
	}
	if (!c->sock)
		return false;
	if (c->out_err) {
		end_conn(c, 1);
		return false;
	}
	if (c->sock_err) {
		char r[96];
		describe(c->sock, true, r, sizeof(r));
		fprintf(stderr, "%s: %s %s: %s\n", prog,
			c->listen ? "connection from" : "connection to", r,
			mpt_strerror(c->sock_err));
		end_conn(c, 1);
		return false;
	}
	if (c->use_tls) {
		if (c->tls_err) {
			char r[96];
			describe(c->sock, true, r, sizeof(r));
			tool_progress_clear(&c->prog);
			fprintf(stderr, "%s: %s %s: %s\n", prog,
				c->listen ? "connection from" : "connection to", r, c->tls_msg);
			end_conn(c, 1);
			return false;
		}
		tls_idle(c, mpt_backend_now());
	}
	if (c->fin_sent && c->net_eof && c->ooff == c->olen) {
		uint64_t now = mpt_backend_now();
		if (!c->linger_end)
			c->linger_end = now + CAT_LINGER_NS;
		struct mpt_mptcp_info mi;
		if (mpt_sock_mptcp_info(c->sock, &mi) == 0 && !mi.fallback) {
			/* MPTCP: every byte DATA_ACKed (and the peer's DATA_FIN
			 * in): the data is safe.  Give the close handshake
			 * (DATA_FIN ack, the subflows' FINs, so the peer is not
			 * left retransmitting) a bounded time. */
			if (c->closed_ev || mi.mptcpi_snd_una == mi.mptcpi_write_seq) {
				if (!c->grace_end) {
					c->grace_end = now + CAT_CLOSE_GRACE_NS;
					if (c->verbose)
						fprintf(stderr,
							"%s: all data acknowledged both ways; "
							"closing (at most %.1f s)\n",
							prog, (double)CAT_CLOSE_GRACE_NS / 1e9);
				}
				tool_timer_arm(&c->timer, c->grace_end);
				if ((c->closed_ev && subflows_closed(c->sock)) ||
				    now >= c->grace_end)
					end_conn(c, 0);
				return false;
			}
		} else {
			/* TCP: finished once our FIN is acknowledged. */
			struct mpt_sock_info info;
			bool acked = c->closed_ev;
			if (!acked && mpt_sock_info(c->sock, &info) == 0)
				acked = !strcmp(info.state, "TIME-WAIT") ||
					!strcmp(info.state, "CLOSED");
			if (acked) {
				end_conn(c, 0);
				return false;
			}
		}
		tool_timer_arm(&c->timer, c->linger_end);
		if (now >= c->linger_end) {
			fprintf(stderr, "%s: peer did not acknowledge the end of our data\n", prog);
			end_conn(c, 1);
		}
	}
	/* Busy while a pump has more to hand over: the loop runs the stack
	 * and calls back at once. */
	return c->tx_more;
}

/* A signal: SIGUSR1 prints the counters; the others abort the connection
 * (MP_FASTCLOSE for MPTCP, a RST for TCP: the peer does not keep
 * established subflows) and stop after a short drain. */
static void on_signal(void *ud, int signo)
{
	struct cat *c = ud;
	if (signo == SIGUSR1) {
		int n = mpt_counter_count();
		for (int i = 0; i < n; i++) {
			uint64_t v = mpt_stack_counter(c->st, i);
			if (v && mpt_counter_name(i))
				fprintf(stderr, "%s: counter %s %" PRIu64 "\n", prog,
					mpt_counter_name(i), v);
		}
		return;
	}
	if (c->drain_end)
		return;
	tool_progress_clear(&c->prog);
	fprintf(stderr, "%s: interrupted by %s\n", prog, strsignal(signo));
	uint64_t now = mpt_backend_now();
	if (c->sock) {
		print_info(c, true);
		ctl_server_sock_closing(c->sock);
		mpt_abort(c->sock, now);
		c->sock = NULL;
		c->connected = false;
	}
	if (c->lsock) {
		mpt_close(c->lsock, now);
		c->lsock = NULL;
	}
	c->status = 1;
	c->drain_end = now + c->drain_ns;
	tool_timer_arm(&c->timer, c->drain_end);
}

/* The control server's view of our connections (mpt ss). */
static size_t list_socks(void *ud, struct mpt_sock **out, size_t max)
{
	struct cat *c = ud;
	size_t n = 0;
	if (c->lsock && n < max)
		out[n++] = c->lsock;
	if (c->sock && n < max)
		out[n++] = c->sock;
	return n;
}

/* ---- entry point --------------------------------------------------------- */

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535) {
		fprintf(stderr, "%s: '%s' is not a port number (1-65535)\n", prog, s);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

/* The --tls options together, and the external keys they bring: offered
 * with --tls unless --ext-keys chose (MPTCP v1 only).  0, or -1 after
 * saying what is wrong. */
static int check_tls_opts(struct cat *c, struct mpt_tool_opts *o, const struct mpt_tls_ctx_cfg *cfg,
			  const char *rekey)
{
	if (!c->use_tls) {
		if (cfg->cert || cfg->key || cfg->ca || rekey) {
			fprintf(stderr,
				"%s: --tls-cert, --tls-key, --tls-ca and --tls-rekey need --tls\n",
				prog);
			return -1;
		}
		return 0;
	}
	if (!c->listen && (cfg->cert || cfg->key)) {
		fprintf(stderr, "%s: --tls-cert and --tls-key are for the listener (-l)\n", prog);
		return -1;
	}
	if (c->listen && cfg->ca) {
		fprintf(stderr,
			"%s: --tls-ca is for the connecting side (no client certificates)\n", prog);
		return -1;
	}
	if (cfg->key && !cfg->cert) {
		fprintf(stderr, "%s: --tls-key needs --tls-cert\n", prog);
		return -1;
	}
	if (o->ext_key_len > 0) {
		fprintf(stderr, "%s: --ext-key-file with --tls: the keys come from TLS\n", prog);
		return -1;
	}
	if (rekey) {
		char *end;
		errno = 0;
		double v = strtod(rekey, &end);
		if (errno || end == rekey || *end || !(v >= 0.1 && v <= 86400.0 * 365)) {
			fprintf(stderr,
				"%s: --tls-rekey: '%s' is not a number of seconds (0.1 or more)\n",
				prog, rekey);
			return -1;
		}
		c->rekey_ns = (uint64_t)(v * (double)MPT_NS_PER_S);
	}
	struct mpt_stack_cfg *sc = &o->be.stack;
	if (o->ext_keys < 0 && sc->mptcp.enable && sc->mptcp.version == 1)
		sc->mptcp.ext_keys = MPT_EXT_KEYS_OFFER;
	return 0;
}

int mpt_cmd_cat(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"ctl", required_argument, NULL, 'C'},
	    {"check", no_argument, NULL, 'X'},
	    {"tls", no_argument, NULL, CAT_OPT_TLS},
	    {"tls-cert", required_argument, NULL, CAT_OPT_TLS_CERT},
	    {"tls-key", required_argument, NULL, CAT_OPT_TLS_KEY},
	    {"tls-ca", required_argument, NULL, CAT_OPT_TLS_CA},
	    {"tls-rekey", required_argument, NULL, CAT_OPT_TLS_REKEY},
	    MPT_STACK_LONGOPTS,
	    {NULL, 0, NULL, 0}};
	const char *ctl_path = NULL;
	bool check_only = false;
	struct mpt_tls_ctx_cfg tls_cfg = {.server = false};
	const char *tls_rekey = NULL;
	struct mpt_tool_opts o;
	mpt_opts_init(&o);
	struct cat c;
	memset(&c, 0, sizeof(c));
	c.in.fd = 0;
	c.out.fd = 1;
	int ch;
	optind = 1;
	/* No '+': GNU getopt permutes, so options may follow HOST PORT (as
	 * with nc: `mpt cat -l 5000 --path ...`). */
	while ((ch = getopt_long(argc, argv, "lkNqh" MPT_STACK_SHORTOPTS, lopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			c.listen = true;
			break;
		case 'k':
			c.keep = true;
			break;
		case 'N':
			c.half_close = true;
			break;
		case 'q':
			c.quiet = true;
			break;
		case 'C':
			ctl_path = optarg;
			break;
		case 'X':
			check_only = true;
			break;
		case CAT_OPT_TLS:
			c.use_tls = true;
			break;
		case CAT_OPT_TLS_CERT:
			tls_cfg.cert = optarg;
			break;
		case CAT_OPT_TLS_KEY:
			tls_cfg.key = optarg;
			break;
		case CAT_OPT_TLS_CA:
			tls_cfg.ca = optarg;
			break;
		case CAT_OPT_TLS_REKEY:
			tls_rekey = optarg;
			break;
		case 'h':
			cat_usage(stdout);
			return 0;
		default:
			if (svc_stack_opt(&o, prog, ch, optarg, cat_usage))
				return 2;
		}
	}
	int nargs = argc - optind;
	struct mpt_endpoint remote;
	memset(&remote, 0, sizeof(remote));
	uint16_t lport = 0;
	if (c.keep && !c.listen) {
		fprintf(stderr, "%s: -k only makes sense with -l\n", prog);
		return 2;
	}
	if (c.listen) {
		if (nargs != 1) {
			fprintf(stderr, "%s: -l takes exactly one argument, PORT\n", prog);
			return 2;
		}
		if (parse_port(argv[optind], &lport) < 0)
			return 2;
	} else {
		if (nargs != 2) {
			fprintf(stderr, "%s: expected HOST PORT (or -l PORT)\n", prog);
			cat_usage(stderr);
			return 2;
		}
		if (mpt_addr_parse(&remote.addr, argv[optind]) < 0) {
			fprintf(stderr, "%s: '%s' is not an IPv4 or IPv6 address\n", prog,
				argv[optind]);
			return 2;
		}
		if (parse_port(argv[optind + 1], &remote.port) < 0)
			return 2;
	}
	if (mpt_opts_finish(&o, prog) < 0)
		return 2;
	c.verbose = o.be.verbose;
	if (check_tls_opts(&c, &o, &tls_cfg, tls_rekey) < 0)
		return 2;
	const struct mpt_addr *local = NULL;
	if (!c.listen) {
		for (size_t i = 0; i < o.be.n_paths && !local; i++)
			if (o.be.paths[i].addr.family == remote.addr.family)
				local = &o.be.paths[i].addr;
		if (!local) {
			fprintf(stderr, "%s: no --path of the same family (IPv%u) as %s\n", prog,
				remote.addr.family, argv[optind]);
			return 2;
		}
	}

	if (c.use_tls) {
		/* Before --check returns: bad certificate files fail it. */
		char terr[320];
		tls_cfg.server = c.listen;
		c.tls_ctx = mpt_tls_ctx_new(&tls_cfg, terr, sizeof(terr));
		if (!c.tls_ctx) {
			fprintf(stderr, "%s: %s\n", prog, terr);
			return 1;
		}
	}
	if (check_only) {
		mpt_tls_ctx_free(c.tls_ctx);
		return mpt_opts_check_setup(&o, prog) < 0 ? 1 : 0;
	}
	/* The kernel must leave our addresses to us (not configured on an
	 * interface, not routed into another mpt instance's device). */
	if (mpt_opts_check_host(&o, prog) < 0) {
		mpt_tls_ctx_free(c.tls_ctx);
		return 1;
	}
	if (c.use_tls && !c.listen && !mpt_tls_ctx_verifies(c.tls_ctx) && c.verbose)
		fprintf(stderr,
			"%s: warning: --tls without --tls-ca: the server's certificate "
			"is not verified\n",
			prog);
	signal(SIGPIPE, SIG_IGN);
	o.be.stack.on_event = on_event;
	o.be.stack.event_ud = &c;
	c.sig.fd = c.timer.fd = -1;
	uint32_t max_delay = 0;
	for (size_t i = 0; i < o.be.n_paths; i++)
		if (o.be.paths[i].delay_ms > max_delay)
			max_delay = o.be.paths[i].delay_ms;
	c.drain_ns = (uint32_t)(CAT_DRAIN_NS + (uint64_t)max_delay * MPT_NS_PER_MS);
	struct stat in_st;
	if (!c.listen && fstat(0, &in_st) == 0 && S_ISREG(in_st.st_mode) && in_st.st_size > 0)
		c.in_size = (uint64_t)in_st.st_size;
	char err[256];
	int rc = mpt_backend_create(&o.be, &c.be, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		mpt_tls_ctx_free(c.tls_ctx);
		return 1;
	}
	c.st = mpt_backend_stack(c.be);
	c.ibuf = malloc(CAT_BUF);
	c.obuf = malloc(CAT_BUF);
	if (c.use_tls)
		c.cbuf = malloc(CAT_BUF);
	int status = 1;
	if (!c.ibuf || !c.obuf || (c.use_tls && !c.cbuf)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	if (io_setup(&c, &c.in, 0, on_stdin) < 0 || io_setup(&c, &c.out, 1, on_stdout) < 0)
		goto out;
	if (tool_signals_open(&c.sig, c.be, on_signal, &c) < 0 ||
	    tool_timer_open(&c.timer, c.be) < 0) {
		fprintf(stderr, "%s: signals/timer: %s\n", prog, strerror(errno));
		goto out;
	}
	if (ctl_server_open(c.be, c.st, "cat", ctl_path, list_socks, &c, prog) < 0)
		goto out;
	mpt_backend_set_idle(c.be, on_idle, &c);
	uint64_t now = mpt_backend_now();
	tool_progress_init(&c.prog, c.quiet, now);
	if (c.listen) {
		struct mpt_endpoint any = {.addr = {.family = 0}, .port = lport};
		rc = mpt_listen(c.st, &any, CAT_BACKLOG, &c.lsock);
		if (rc < 0) {
			fprintf(stderr, "%s: cannot listen on port %u: %s\n", prog, lport,
				mpt_strerror(rc));
			goto out;
		}
		if (c.verbose)
			fprintf(stderr, "%s: listening on port %u\n", prog, lport);
	} else {
		/* No route: fail now, as connect() on a kernel socket does
		 * ("Network is unreachable"), not after 30 s of SYNs. */
		if (mpt_opts_route_check(&o, local, &remote, prog) < 0)
			goto out;
		rc = mpt_connect(c.st, &remote, local, now, &c.sock);
		if (rc < 0) {
			fprintf(stderr, "%s: cannot connect to %s port %u: %s\n", prog,
				argv[optind], remote.port, mpt_strerror(rc));
			goto out;
		}
		if (c.use_tls)
			tls_conn_start(&c); /* the ClientHello leaves once connected */
	}
	rc = mpt_backend_run(c.be);
	status = rc == 0 && c.status == 0 ? 0 : 1;
	tool_progress_clear(&c.prog);
	if (c.verbose) {
		struct mpt_backend_stats bs;
		mpt_backend_stats(c.be, &bs);
		fprintf(stderr,
			"%s: tun rx %" PRIu64 " pkts, tx %" PRIu64 " pkts (queued %" PRIu64
			", dropped %" PRIu64 ", errors %" PRIu64 "), emulated loss %" PRIu64
			", emulation drops %" PRIu64 ", refused by stack %" PRIu64 "\n",
			prog, bs.rx_pkts, bs.tx_pkts, bs.tx_queued, bs.tx_drops, bs.tx_errors,
			bs.emu_lost, bs.emu_drops, bs.stack_rejects);
	}
out:
	io_restore(&c, &c.in);
	io_restore(&c, &c.out);
	ctl_server_close();
	tool_timer_close(&c.timer, c.be);
	/* Counters (-vv) are printed by the destroy below, signals or not. */
	mpt_backend_destroy(c.be); /* frees every socket */
	tool_signals_close(&c.sig, NULL);
	free(c.ibuf);
	free(c.obuf);
	free(c.cbuf);
	mpt_tls_free(c.tls);
	mpt_tls_ctx_free(c.tls_ctx);
	return status;
}
