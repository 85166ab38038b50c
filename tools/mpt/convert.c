/*
 * `mpt convert`: an RFC 8803 Transport Converter (explicit mode).  MPTCP
 * comes in over mpt's stack on TUN paths; plain kernel TCP goes out.
 *
 *   mpt convert [options] --allow PREFIX... PORT
 *
 * Each connection accepted on PORT starts with a Convert message (RFC 8803
 * §4: header version 1, length in 32-bit words, magic 0x2263, TLVs).  A
 * Connect TLV names the destination; after the allow-list and cookie checks
 * the converter opens a kernel TCP connection to it, answers with a Convert
 * message carrying an Extended TCP Header TLV (the options of the server's
 * SYN/ACK as far as the kernel tells them) and relays.  Any failure is
 * answered with an Error TLV carrying the RFC's code, then a FIN; the
 * converter keeps serving other clients.
 *
 * RFC 8803 puts the Convert message in the SYN (TCP Fast Open data).  With
 * --tfo the stack accepts SYN data (RFC 7413; cookie-less, or with
 * --tfo=cookie only from clients holding our cookie) and the connection is
 * accepted at once, so the converter connects to the destination while the
 * client's handshake is still completing (0-RTT).  Without it, or from a
 * client that sends the message after the handshake (as `mpt proxy
 * --convert` does), the message is parsed from the first bytes of the
 * stream, wherever they arrived.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpt/backend.h"
#include "mpt/mpt.h"
#include "opts.h"
#include "relay.h"
#include "svc.h"
#include "tool.h"
#include "wire/convert.h"

#define CV_MAX_ALLOW     32
#define CV_BACKLOG       128
#define CV_HANDSHAKE_NS  (10 * MPT_NS_PER_S)
#define CV_ERR_LINGER_NS (2 * MPT_NS_PER_S)

static const char *prog = "mpt convert";

/* One --allow entry: a prefix and an optional port (0: any). */
struct cv_allow {
	struct mpt_addr addr;
	uint8_t plen;
	uint16_t port;
};

enum cv_state {
	CV_HELLO,      /* reading the client's Convert message */
	CV_CONNECTING, /* kernel connect() in progress */
	CV_RELAY,      /* relaying */
	CV_REFUSING,   /* Error TLV sent or being sent; draining until the client's FIN */
	CV_DONE,       /* freed at the next idle */
};

struct cv;

struct cv_conn {
	struct cv *cv;
	struct cv_conn *next;
	enum cv_state state;
	struct mpt_sock *ms;
	int fd;
	struct relay_watch watch; /* the kernel socket while connecting */
	struct mpt_endpoint client, dest;
	uint64_t deadline;
	uint8_t hello[MPT_CONVERT_MAX_LEN + 4];
	size_t hlen;
	size_t consumed; /* Convert message length once parsed */
	uint8_t out[MPT_CONVERT_MAX_LEN];
	size_t olen, ooff;
	bool fin_sent, relayed;
	struct relay relay;
};

struct cv {
	struct mpt_backend *be;
	struct mpt_stack *st;
	struct mpt_sock *lsock;
	struct cv_conn *conns;
	size_t n_conns;
	struct svc_conf conf; /* --cookie (0: no cookie required), --max-conns, --buf, ... */
	struct cv_allow allow[CV_MAX_ALLOW];
	size_t n_allow;
	bool allow_any;
	struct svc_signals sig;
	bool quiet;
	uint8_t tfo; /* enum mpt_tfo_mode */
	uint64_t handshake_ns;
	struct relay_counters ctr;
};

static void cv_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: mpt convert [options] (--allow PREFIX... | --allow-any) PORT\n"
	    "  RFC 8803 Transport Converter: accept MPTCP (or TCP) connections on PORT over\n"
	    "  mpt's stack on TUN devices, read the Convert message that starts each one,\n"
	    "  connect to its Connect TLV's destination with kernel TCP and relay.\n"
	    "  --allow ADDR[/PLEN][:PORT]   allowed destinations (repeatable); IPv6 with a\n"
	    "                               port: [ADDR[/PLEN]]:PORT.  Without any --allow every\n"
	    "                               destination is refused (Not Authorized)\n"
	    "  --allow-any                  allow every destination (an open relay: beware)\n"
	    "  --cookie HEX                 require this Cookie TLV (RFC 8803 §4.2.7)\n"
	    "  --max-conns N                concurrent connections (default %d; above: Resource\n"
	    "                               Exceeded)\n"
	    "  --buf BYTES                  relay buffer per direction (default %u)\n"
	    "  --connect-timeout SECONDS    give up on a destination (default 10: Destination\n"
	    "                               Unreachable)\n"
	    "  --handshake-timeout SECONDS  wait this long for the Convert message (default 10)\n"
	    "  --msl SECONDS                TCP maximum segment lifetime: TIME-WAIT lasts 2 x MSL\n"
	    "                               (default 30 s; closed connections hold memory)\n"
	    "  --tfo[=no-cookie|cookie]     accept the Convert message as TCP Fast Open SYN\n"
	    "                               data (RFC 7413; RFC 8803 0-RTT).  no-cookie (the\n"
	    "                               default): from any client (keep the converter\n"
	    "                               behind its allow-list / a firewall); cookie: only\n"
	    "                               with a valid TFO cookie (a first connection gets one)\n"
	    "  -q, --quiet                  no per-connection log lines\n"
	    "  -h, --help                   this text\n",
	    SVC_DEFAULT_MAX_CONNS, RELAY_BUF_DEFAULT);
	mpt_opts_usage(f);
	fprintf(
	    f,
	    "Counters are printed on SIGUSR1 and at exit (SIGINT/SIGTERM).\n"
	    "example:\n"
	    "  mpt convert --path 10.0.1.1/24 --path 10.0.2.1/24 --allow 192.0.2.0/24:80 5124\n");
}

/* ---- allow-list and cookie ------------------------------------------------ */

static int parse_allow(const char *arg, struct cv_allow *a)
{
	char buf[96];
	const char *port = NULL;
	memset(a, 0, sizeof(*a));
	if (strlen(arg) >= sizeof(buf))
		return -1;
	if (arg[0] == '[') {
		const char *cb = strchr(arg, ']');
		if (!cb || cb[1] != ':')
			return -1;
		memcpy(buf, arg + 1, (size_t)(cb - arg - 1));
		buf[cb - arg - 1] = '\0';
		port = cb + 2;
	} else {
		snprintf(buf, sizeof(buf), "%s", arg);
		char *colon = strchr(buf, ':');
		/* One colon: IPv4 with a port; more: a bare IPv6 prefix. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			port = arg + (colon - buf) + 1;
		}
	}
	char *slash = strchr(buf, '/');
	long plen = -1;
	if (slash) {
		char *end;
		*slash = '\0';
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end)
			return -1;
	}
	if (mpt_addr_parse(&a->addr, buf) < 0)
		return -1;
	long maxp = a->addr.family == 4 ? 32 : 128;
	if (plen < 0)
		plen = maxp;
	if (plen > maxp)
		return -1;
	a->plen = (uint8_t)plen;
	if (port) {
		char *end;
		errno = 0;
		long p = strtol(port, &end, 10);
		if (errno || end == port || *end || p < 1 || p > 65535)
			return -1;
		a->port = (uint16_t)p;
	}
	return 0;
}

static bool prefix_match(const struct mpt_addr *p, uint8_t plen, const struct mpt_addr *a)
{
	if (p->family != a->family)
		return false;
	unsigned full = plen / 8u, rest = plen % 8u;
	if (memcmp(p->bytes, a->bytes, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8u - rest));
	return (p->bytes[full] & mask) == (a->bytes[full] & mask);
}

static bool allowed(const struct cv *cv, const struct mpt_endpoint *d)
{
	if (cv->allow_any)
		return true;
	for (size_t i = 0; i < cv->n_allow; i++)
		if (prefix_match(&cv->allow[i].addr, cv->allow[i].plen, &d->addr) &&
		    (!cv->allow[i].port || cv->allow[i].port == d->port))
			return true;
	return false;
}

/* RFC 8803 §4.2.7: the Cookie TLV's value is opaque and zero-padded to a
 * 32-bit boundary; compare ours and require only zeros after it. */
static bool cookie_ok(const struct cv *cv, const struct mpt_convert_bytes *c)
{
	if (c->len < cv->conf.cookie_len ||
	    memcmp(c->data, cv->conf.cookie, (size_t)cv->conf.cookie_len))
		return false;
	for (size_t i = (size_t)cv->conf.cookie_len; i < c->len; i++)
		if (c->data[i])
			return false;
	return true;
}

/* ---- connection life cycle ------------------------------------------------ */

static void conn_done(struct cv_conn *c)
{
	c->state = CV_DONE;
	c->watch.fn = NULL;
}

static void conn_drop(struct cv_conn *c, bool rst)
{
	uint64_t now = mpt_backend_now();
	if (c->fd >= 0) {
		relay_poller_del(c->fd);
		close(c->fd);
		c->fd = -1;
	}
	if (c->ms) {
		if (rst)
			mpt_abort(c->ms, now);
		else
			mpt_close(c->ms, now);
		c->ms = NULL;
	}
	conn_done(c);
}

static void refuse_pump(struct cv_conn *c)
{
	uint64_t now = mpt_backend_now();
	while (c->ms && c->ooff < c->olen) {
		long n = mpt_send(c->ms, c->out + c->ooff, c->olen - c->ooff, now);
		if (n == MPT_ERR_AGAIN)
			return;
		if (n < 0) {
			conn_drop(c, true);
			return;
		}
		c->ooff += (size_t)n;
	}
	if (c->ms && !c->fin_sent) {
		(void)mpt_shutdown(c->ms, now);
		c->fin_sent = true;
	}
	/* Drain (and discard) what the client still sends until its FIN:
	 * closing with unread data would reset the connection and could
	 * destroy our answer before the client reads it. */
	uint8_t sink[4096];
	while (c->ms) {
		long n = mpt_recv(c->ms, sink, sizeof(sink), now);
		if (n == MPT_ERR_AGAIN)
			return;
		if (n <= 0) {
			conn_drop(c, n < 0);
			return;
		}
	}
}

/* Send the n bytes emitted into c->out (an answer that ends the
 * conversation), then wait for the client's FIN (CV_REFUSING); n < 0 (the
 * message could not be built): reset. */
static void send_last(struct cv_conn *c, int n)
{
	if (n < 0) {
		conn_drop(c, true);
		return;
	}
	c->olen = (size_t)n;
	c->ooff = 0;
	c->state = CV_REFUSING;
	c->deadline = mpt_backend_now() + CV_ERR_LINGER_NS;
	refuse_pump(c);
}

/*
 * Answer with an Error TLV (RFC 8803 §4.2.8) and close.  data is echoed for
 * Malformed / Unsupported Message, or the value for other codes.
 */
static void refuse(struct cv_conn *c, uint8_t code, const uint8_t *data, size_t len,
		   const char *why)
{
	struct cv *cv = c->cv;
	cv->ctr.rfc_errors[code]++;
	if (c->fd >= 0) {
		relay_poller_del(c->fd);
		close(c->fd);
		c->fd = -1;
	}
	if (!cv->quiet) {
		char cl[64];
		fprintf(stderr, "%s: %s: refused: %s (%s)\n", prog,
			relay_fmt_ep(&c->client, cl, sizeof(cl)), relay_rfc_error_name(code), why);
	}
	send_last(c, mpt_convert_emit_error_msg(c->out, sizeof(c->out), code, data, len));
}

static uint8_t errno_to_rfc(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
		return MPT_CONVERT_ERR_CONNECTION_RESET;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ETIMEDOUT:
	case EHOSTDOWN:
	case ENETDOWN:
		return MPT_CONVERT_ERR_DEST_UNREACHABLE;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return MPT_CONVERT_ERR_RESOURCE_EXCEEDED;
	default:
		return MPT_CONVERT_ERR_NETWORK_FAILURE;
	}
}

/*
 * The options of the server's SYN/ACK, rebuilt from what the kernel tells
 * about the connection (RFC 8803 §4.2.6 wants a copy of them; the kernel
 * does not hand out the raw SYN/ACK):
 *  - MSS: TCP_MAXSEG (the MSS in use: min(ours, the server's), not
 *    necessarily the value the server sent);
 *  - Window Scale: TCP_INFO tcpi_snd_wscale (exact: the shift the server sent);
 *  - SACK-Permitted, Timestamps: TCP_INFO tcpi_options (negotiated, hence
 *    sent by the server); TSval/TSecr are not known and sent as zeros.
 * Layout like Linux's SYN/ACK, NOP-padded to a 32-bit boundary.
 */
static size_t synack_options(int fd, uint8_t *o)
{
	size_t n = 0;
	int mss = 0;
	socklen_t sl = sizeof(mss);
	if (getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &sl) == 0 && mss > 0 && mss < 65536) {
		o[n++] = 2;
		o[n++] = 4;
		o[n++] = (uint8_t)(mss >> 8);
		o[n++] = (uint8_t)mss;
	}
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	sl = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) < 0)
		return n;
	bool sack = ti.tcpi_options & TCPI_OPT_SACK;
	bool ts = ti.tcpi_options & TCPI_OPT_TIMESTAMPS;
	bool ws = ti.tcpi_options & TCPI_OPT_WSCALE;
	if (sack && ts) {
		o[n++] = 4;
		o[n++] = 2;
	} else if (sack || ts) {
		o[n++] = 1;
		o[n++] = 1;
		if (sack) {
			o[n++] = 4;
			o[n++] = 2;
		}
	}
	if (ts) {
		o[n++] = 8;
		o[n++] = 10;
		memset(o + n, 0, 8);
		n += 8;
	}
	if (ws) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = ti.tcpi_snd_wscale;
	}
	return n;
}

static void on_connect_fd(void *ud, uint32_t events);

static void start_relay(struct cv_conn *c)
{
	struct cv *cv = c->cv;
	uint8_t opts[40], msg[64];
	size_t olen = synack_options(c->fd, opts);
	struct mpt_convert_msg m;
	memset(&m, 0, sizeof(m));
	m.n_tlvs = 1;
	m.tlv[0].type = MPT_CONVERT_TLV_EXT_TCP_HDR;
	m.tlv[0].u.ext_tcp_hdr.data = opts;
	m.tlv[0].u.ext_tcp_hdr.len = (uint16_t)olen;
	int mlen = mpt_convert_emit(msg, sizeof(msg), &m);
	relay_poller_del(c->fd);
	c->watch.fn = NULL;
	if (mlen < 0 || relay_init(&c->relay, cv->be, c->ms, c->fd, cv->conf.bufsize) < 0) {
		refuse(c, MPT_CONVERT_ERR_RESOURCE_EXCEEDED, NULL, 0, "out of memory");
		return;
	}
	char cl[64], ds[64];
	snprintf(c->relay.tag, sizeof(c->relay.tag), "%s -> %s",
		 relay_fmt_ep(&c->client, cl, sizeof(cl)), relay_fmt_ep(&c->dest, ds, sizeof(ds)));
	/* The answer goes first; bytes the client sent after its Convert
	 * message are the start of the data for the server. */
	(void)relay_preload_k2m(&c->relay, msg, (size_t)mlen);
	(void)relay_preload_m2k(&c->relay, c->hello + c->consumed, c->hlen - c->consumed);
	c->relayed = true;
	c->state = CV_RELAY;
	cv->ctr.conversions++;
	if (!mpt_sock_mptcp_enabled(c->ms))
		cv->ctr.fallbacks++;
	/* The relay owns both sockets now. */
	c->fd = -1;
	c->ms = NULL;
	relay_start(&c->relay);
}

static void connect_result(struct cv_conn *c, int err)
{
	if (err == 0) {
		start_relay(c);
		return;
	}
	char why[96];
	snprintf(why, sizeof(why), "connect: %s", strerror(err));
	refuse(c, errno_to_rfc(err), NULL, 0, why);
}

static void on_connect_fd(void *ud, uint32_t events)
{
	struct cv_conn *c = ud;
	if (c->state != CV_CONNECTING)
		return;
	int err = svc_connect_result(c->fd, events);
	if (err >= 0)
		connect_result(c, err);
}

/* RFC 8803 §4.2.5: options the Client asks the Converter to use towards the
 * server.  The kernel negotiates MSS, Window Scale, SACK and Timestamps by
 * itself and we leave MPTCP and TFO out of the outgoing connection; any
 * other option cannot be honoured (Unsupported TCP Option). */
static int check_connect_opts(const struct mpt_convert_connect *cn, uint8_t *bad)
{
	size_t i = 0;
	while (i + 2 <= cn->opt_len) {
		uint8_t kind = cn->opt[i], len = cn->opt[i + 1];
		switch (kind) {
		case 2:  /* MSS */
		case 3:  /* Window Scale */
		case 4:  /* SACK-Permitted */
		case 8:  /* Timestamps */
		case 30: /* MPTCP */
		case 34: /* TCP Fast Open cookie */
			break;
		default:
			*bad = kind;
			return -1;
		}
		i += len;
	}
	return 0;
}

static void handle_request(struct cv_conn *c, const struct mpt_convert_msg *m)
{
	struct cv *cv = c->cv;
	/* Direction rule (RFC 8803 §4.2.2 table): a Client sends Info,
	 * Connect and Cookie; the others come from a Converter. */
	for (unsigned i = 0; i < m->n_tlvs; i++) {
		uint8_t t = m->tlv[i].type;
		if (t != MPT_CONVERT_TLV_INFO && t != MPT_CONVERT_TLV_CONNECT &&
		    t != MPT_CONVERT_TLV_COOKIE) {
			refuse(c, MPT_CONVERT_ERR_UNSUPPORTED_MSG, c->hello, c->consumed,
			       "TLV a client does not send");
			return;
		}
	}
	const struct mpt_convert_tlv *ck = mpt_convert_find(m, MPT_CONVERT_TLV_COOKIE);
	if (cv->conf.cookie_len && !ck) {
		refuse(c, MPT_CONVERT_ERR_MISSING_COOKIE, NULL, 0, "no Cookie TLV");
		return;
	}
	if (cv->conf.cookie_len && !cookie_ok(cv, &ck->u.cookie)) {
		refuse(c, MPT_CONVERT_ERR_NOT_AUTHORIZED, NULL, 0, "wrong cookie");
		return;
	}
	const struct mpt_convert_tlv *cn = mpt_convert_find(m, MPT_CONVERT_TLV_CONNECT);
	if (!cn) {
		if (mpt_convert_find(m, MPT_CONVERT_TLV_INFO)) {
			/* §4.2.3: answer an Info TLV with the Supported TCP
			 * Extensions TLV, then close. */
			/* §4.2.4: kinds 0, 1 and 2 (MSS) are implied and MUST NOT
			 * be listed. */
			static const uint8_t kinds[] = {3, 4, 8, 30};
			struct mpt_convert_msg a;
			memset(&a, 0, sizeof(a));
			a.n_tlvs = 1;
			a.tlv[0].type = MPT_CONVERT_TLV_SUPPORTED;
			a.tlv[0].u.supported.kinds = kinds;
			a.tlv[0].u.supported.n_kinds = sizeof(kinds);
			send_last(c, mpt_convert_emit(c->out, sizeof(c->out), &a));
			return;
		}
		refuse(c, MPT_CONVERT_ERR_MALFORMED, c->hello, c->consumed, "no Connect TLV");
		return;
	}
	uint8_t bad = 0;
	if (check_connect_opts(&cn->u.connect, &bad) < 0) {
		refuse(c, MPT_CONVERT_ERR_UNSUPPORTED_TCP_OPT, &bad, 1, "TCP option in Connect");
		return;
	}
	c->dest = cn->u.connect.remote;
	if (!allowed(cv, &c->dest)) {
		char ds[64], why[96];
		snprintf(why, sizeof(why), "%s is not in the allow-list",
			 relay_fmt_ep(&c->dest, ds, sizeof(ds)));
		refuse(c, MPT_CONVERT_ERR_NOT_AUTHORIZED, NULL, 0, why);
		return;
	}
	int fd;
	int err = svc_connect(&c->dest, true, &fd);
	if (fd < 0) {
		char why[96];
		snprintf(why, sizeof(why), "socket: %s", strerror(err));
		refuse(c, errno_to_rfc(err), NULL, 0, why);
		return;
	}
	c->fd = fd;
	if (err != EINPROGRESS) {
		connect_result(c, err);
		return;
	}
	c->state = CV_CONNECTING;
	c->deadline = mpt_backend_now() + cv->conf.connect_ns;
	c->watch.fn = on_connect_fd;
	c->watch.ud = c;
	if (relay_poller_add(fd, EPOLLOUT, &c->watch) < 0)
		connect_result(c, errno);
}

/* Read the first bytes of the stream until a whole Convert message is in. */
static void hello_pump(struct cv_conn *c)
{
	uint64_t now = mpt_backend_now();
	while (c->state == CV_HELLO) {
		if (c->hlen < sizeof(c->hello)) {
			long n =
			    mpt_recv(c->ms, c->hello + c->hlen, sizeof(c->hello) - c->hlen, now);
			if (n == MPT_ERR_AGAIN)
				return; /* MPT_EV_READABLE resumes */
			if (n <= 0) {
				/* The client went away before finishing its message. */
				if (!c->cv->quiet) {
					char cl[64];
					fprintf(stderr, "%s: %s: closed before a Convert message\n",
						prog, relay_fmt_ep(&c->client, cl, sizeof(cl)));
				}
				c->cv->ctr.local_errors++;
				conn_drop(c, n < 0);
				return;
			}
			c->hlen += (size_t)n;
		}
		struct mpt_convert_msg m;
		size_t consumed = 0;
		int rc = mpt_convert_parse(&m, c->hello, c->hlen, &consumed);
		if (rc == MPT_ERR_AGAIN) {
			if (c->hlen < sizeof(c->hello))
				continue; /* read more (returns on MPT_ERR_AGAIN) */
			refuse(c, MPT_CONVERT_ERR_MALFORMED, c->hello, c->hlen, "too long");
			return;
		}
		if (rc < 0) {
			uint8_t code =
			    m.rfc_error >= 0 ? (uint8_t)m.rfc_error : MPT_CONVERT_ERR_MALFORMED;
			char why[96];
			snprintf(why, sizeof(why), "%s at byte %u", mpt_strerror(rc), m.err_off);
			/* Echo the offending message (or what we have of it). */
			refuse(c, code, c->hello, consumed ? consumed : c->hlen, why);
			return;
		}
		c->consumed = consumed;
		handle_request(c, &m);
		return;
	}
}

static void accept_all(struct cv *cv)
{
	struct mpt_sock *s;
	while ((s = mpt_accept(cv->lsock)) != NULL) {
		cv->ctr.accepted++;
		struct cv_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			mpt_abort(s, mpt_backend_now());
			cv->ctr.local_errors++;
			continue;
		}
		c->cv = cv;
		c->ms = s;
		c->fd = -1;
		c->state = CV_HELLO;
		c->deadline = mpt_backend_now() + cv->handshake_ns;
		struct mpt_endpoint l;
		mpt_sock_endpoints(s, &l, &c->client);
		mpt_sock_set_user(s, c);
		c->next = cv->conns;
		cv->conns = c;
		cv->n_conns++;
		if (cv->n_conns > cv->conf.max_conns) {
			refuse(c, MPT_CONVERT_ERR_RESOURCE_EXCEEDED, NULL, 0,
			       "--max-conns reached");
			continue;
		}
		hello_pump(c);
	}
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct cv *cv = ud;
	if (s == cv->lsock) {
		if (ev & MPT_EV_ACCEPTABLE)
			accept_all(cv);
		return;
	}
	struct cv_conn *c = mpt_sock_get_user(s);
	if (!c)
		return;
	switch (c->state) {
	case CV_HELLO:
		if (ev & MPT_EV_ERROR) {
			cv->ctr.local_errors++;
			conn_drop(c, true);
			return;
		}
		if (ev & (MPT_EV_READABLE | MPT_EV_CLOSED))
			hello_pump(c);
		break;
	case CV_CONNECTING:
		if (ev & MPT_EV_ERROR) {
			cv->ctr.local_errors++;
			conn_drop(c, true);
		}
		break; /* the client's data waits in the stack meanwhile */
	case CV_RELAY:
		relay_on_mpt_event(&c->relay, ev);
		break;
	case CV_REFUSING:
		if (ev & MPT_EV_ERROR)
			conn_drop(c, true);
		else
			refuse_pump(c);
		break;
	case CV_DONE:
		break;
	}
}

/* Stack counters worth a line next to ours: SYN data accepted / refused
 * (RFC 8803 0-RTT through TFO), and the stack's connection totals. */
static const char *const cv_stack_counters[] = {"TCPFastOpenPassive", "TCPFastOpenCookieReqd",
						"TcpPassiveOpens",    "MPCapableSYNRX",
						"MPJoinSynRx",        NULL};

static void cv_counters_print(void *ud)
{
	const struct cv *cv = ud;
	relay_counters_print(&cv->ctr, prog);
	relay_stack_counters_print(cv->st, prog, cv_stack_counters);
}

static bool on_idle(void *ud)
{
	struct cv *cv = ud;
	uint64_t now = mpt_backend_now();
	relay_mem_trim(now);
	struct cv_conn **pp = &cv->conns;
	while (*pp) {
		struct cv_conn *c = *pp;
		if (c->state == CV_RELAY && relay_done(&c->relay))
			c->state = CV_DONE;
		if (c->state == CV_HELLO && now >= c->deadline) {
			cv->ctr.handshake_timeouts++;
			refuse(c, MPT_CONVERT_ERR_MALFORMED, c->hello, c->hlen,
			       "no complete Convert message in time");
		} else if (c->state == CV_CONNECTING && now >= c->deadline) {
			refuse(c, MPT_CONVERT_ERR_DEST_UNREACHABLE, NULL, 0, "connect timed out");
		} else if (c->state == CV_REFUSING && now >= c->deadline) {
			conn_drop(c, true);
		}
		if (c->state != CV_DONE) {
			pp = &c->next;
			continue;
		}
		if (c->relayed) {
			relay_account(&cv->ctr, &c->relay, cv->quiet ? NULL : prog);
			relay_free(&c->relay);
		}
		*pp = c->next;
		cv->n_conns--;
		free(c);
	}
	return false;
}

enum {
	OPT_ALLOW = 0x2000,
	OPT_ALLOW_ANY,
	OPT_HANDSHAKE_TIMEOUT,
	OPT_TFO,
};

int mpt_cmd_convert(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"allow", required_argument, NULL, OPT_ALLOW},
	    {"allow-any", no_argument, NULL, OPT_ALLOW_ANY},
	    {"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
	    {"tfo", optional_argument, NULL, OPT_TFO},
	    SVC_LONGOPTS,
	    MPT_STACK_LONGOPTS,
	    {NULL, 0, NULL, 0}};
	struct mpt_tool_opts o;
	mpt_opts_init(&o);
	static struct cv cv; /* large (counters); one per process */
	memset(&cv, 0, sizeof(cv));
	svc_conf_init(&cv.conf);
	cv.handshake_ns = CV_HANDSHAKE_NS;
	cv.sig.fd = -1;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+hq" MPT_STACK_SHORTOPTS, lopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			cv_usage(stdout);
			return 0;
		case 'q':
			cv.quiet = true;
			break;
		case OPT_ALLOW:
			if (cv.n_allow >= CV_MAX_ALLOW) {
				fprintf(stderr, "%s: at most %d --allow options\n", prog,
					CV_MAX_ALLOW);
				return 2;
			}
			if (parse_allow(optarg, &cv.allow[cv.n_allow]) < 0) {
				fprintf(stderr,
					"%s: --allow: '%s' is not ADDR[/PLEN][:PORT] (IPv6 with a "
					"port: [ADDR[/PLEN]]:PORT)\n",
					prog, optarg);
				return 2;
			}
			cv.n_allow++;
			break;
		case OPT_ALLOW_ANY:
			cv.allow_any = true;
			break;
		case OPT_HANDSHAKE_TIMEOUT:
			if (svc_parse_seconds(prog, "--handshake-timeout", optarg, 3600,
					      &cv.handshake_ns) < 0)
				return 2;
			break;
		case OPT_TFO:
			if (!optarg || !strcmp(optarg, "no-cookie")) {
				cv.tfo = MPT_TFO_NO_COOKIE;
			} else if (!strcmp(optarg, "cookie")) {
				cv.tfo = MPT_TFO_COOKIE;
			} else {
				fprintf(stderr,
					"%s: --tfo: '%s' is not 'no-cookie' or 'cookie' (write "
					"--tfo=cookie)\n",
					prog, optarg);
				return 2;
			}
			break;
		default:
			if (svc_conf_opt(&cv.conf, &o, prog, ch, optarg, cv_usage))
				return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "%s: expected exactly one argument, the PORT to listen on\n", prog);
		cv_usage(stderr);
		return 2;
	}
	char *end;
	errno = 0;
	long port = strtol(argv[optind], &end, 10);
	if (errno || end == argv[optind] || *end || port < 1 || port > 65535) {
		fprintf(stderr, "%s: '%s' is not a port number (1-65535)\n", prog, argv[optind]);
		return 2;
	}
	if (cv.allow_any && cv.n_allow) {
		fprintf(stderr, "%s: --allow-any and --allow exclude each other\n", prog);
		return 2;
	}
	if (!cv.allow_any && !cv.n_allow)
		fprintf(stderr, "%s: warning: no --allow: every destination will be refused\n",
			prog);
	if (mpt_opts_finish(&o, prog) < 0)
		return 2;

	if (svc_signals_open(&cv.sig, prog) < 0)
		return 1;
	o.be.stack.tcp.tfo_server = cv.tfo;
	o.be.stack.mem = relay_counting_mem();
	o.be.stack.on_event = on_event;
	o.be.stack.event_ud = &cv;
	char err[256];
	int rc = mpt_backend_create(&o.be, &cv.be, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		svc_signals_close(&cv.sig);
		return 1;
	}
	cv.st = mpt_backend_stack(cv.be);
	int status = 1;
	if (relay_poller_init(cv.be) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", prog, strerror(errno));
		goto out;
	}
	if (svc_signals_watch(&cv.sig, cv.be, cv_counters_print, &cv) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", prog, strerror(errno));
		goto out;
	}
	mpt_backend_set_idle(cv.be, on_idle, &cv);
	struct mpt_endpoint any = {.addr = {.family = 0}, .port = (uint16_t)port};
	rc = mpt_listen(cv.st, &any, CV_BACKLOG, &cv.lsock);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot listen on port %ld: %s\n", prog, port,
			mpt_strerror(rc));
		goto out;
	}
	fprintf(stderr, "%s: listening on port %ld (%s%s)\n", prog, port,
		cv.allow_any ? "any destination" : "allow-list",
		cv.tfo == MPT_TFO_NO_COOKIE ? ", TFO without cookies"
		: cv.tfo == MPT_TFO_COOKIE  ? ", TFO with cookies"
					    : "");
	rc = mpt_backend_run(cv.be);
	status = rc == 0 ? 0 : 1;
out:
	for (struct cv_conn *c = cv.conns; c; c = c->next) {
		if (c->state == CV_RELAY) {
			relay_abort(&c->relay);
			relay_account(&cv.ctr, &c->relay, cv.quiet ? NULL : prog);
			relay_free(&c->relay);
		} else if (c->fd >= 0) {
			close(c->fd);
		}
	}
	while (cv.conns) {
		struct cv_conn *c = cv.conns;
		cv.conns = c->next;
		free(c);
	}
	fprintf(stderr, "%s: exiting\n", prog);
	cv_counters_print(&cv);
	relay_poller_fini(cv.be);
	mpt_backend_destroy(cv.be);
	svc_signals_close(&cv.sig);
	return status;
}
