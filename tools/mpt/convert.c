/* SPDX-License-Identifier: Apache-2.0 */
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
 *
 * Hardening (issue 11): destinations go through dstpolicy.c before any
 * connection attempt; per-source limits on connections still negotiating
 * and on connections held, and a handshake deadline that shrinks as the
 * table fills, keep one slow or hostile source from starving the others;
 * --user drops root once the TUN devices exist.
 *
 * Threads (issue 13): --threads N runs N backends of one group, one per
 * thread, each with its own stack, listener, connection table, counters,
 * timer and relay poller (a `struct cv` each).  The backend steers every
 * packet to the member whose stack owns its flow, so nothing of a
 * connection is ever touched by two threads.  Shared between the threads:
 * the per-source table (under a mutex: a source's limits are the
 * process's), the configuration (read only) and the counting allocator's
 * totals (atomics).  The main thread runs member 0: it alone handles the
 * signals and serves --ctl.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "convert_codec.h"
#include "ctl.h"
#include "dstpolicy.h"
#include "mpt/backend.h"
#include "mpt/mpt.h"
#include "opts.h"
#include "relay.h"
#include "svc.h"
#include "tool.h"

#define CV_BACKLOG              128
#define CV_ERR_LINGER_NS        (2 * MPT_NS_PER_S)
/* Per-source limits, applied under pressure only: while fewer than a
 * quarter of --max-conns connections wait for their Convert message (resp.
 * fewer than half of them are held), any source may use the room, e.g. an
 * `mpt proxy` that converts a whole household's connections from one
 * address, bursts included.  Beyond that, a source may hold this many
 * waiting (resp. in all) and is refused (Resource Exceeded) above it while
 * the others are served: a host converting for itself rarely has more than
 * a few connections starting at once (a browser opens 6 per server). */
#define CV_PER_SOURCE_HS_DEF    8
#define CV_PER_SOURCE_TOTAL_DEF 64
/* The handshake deadline is --handshake-timeout while at most a quarter of
 * --max-conns are waiting for their Convert message, then shrinks linearly
 * to CV_HS_FLOOR_NS as the table fills (a real client sends its message
 * within one round trip of the handshake, or in the SYN itself). */
#define CV_HS_FLOOR_NS          (1 * MPT_NS_PER_S)

static const char *prog = "mpt convert";

enum cv_state {
	CV_INIT,       /* allocated, not counted yet */
	CV_HELLO,      /* reading the client's Convert message */
	CV_CONNECTING, /* kernel connect() in progress */
	CV_RELAY,      /* relaying */
	CV_REFUSING,   /* Error TLV sent or being sent; draining until the client's FIN */
	CV_DONE,       /* freed at the next idle */
};

struct cv;
struct cv_snap;

/* What the threads share. */
struct cv_shared {
	struct svc_team team;   /* its lock guards srcs (the table and every entry's
				   fields) and every cv's snap */
	struct cv_snap *snaps;  /* one per thread (cv->snap) */
	struct cv_snap *report; /* SIGUSR1: the snapshots being summed (thread 0) */
	struct svc_srcs srcs;
	struct cv *cvs; /* one per thread, cvs[0] in the main thread */
	unsigned n;
	struct mpt_backend_group *group; /* NULL with one thread */
};

struct cv_conn {
	struct cv *cv;
	struct cv_conn *next;
	enum cv_state state;
	struct mpt_sock *ms;
	int fd;
	struct relay_watch watch; /* the kernel socket while connecting */
	struct mpt_endpoint client, dest;
	struct svc_src *src;  /* the client's source entry (per-source limits; its fields
				 under the team lock) */
	uint64_t accepted_at; /* when accepted: the handshake deadline counts from it */
	uint64_t deadline;    /* CONNECTING / REFUSING */
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
	size_t n_active;      /* HELLO, CONNECTING, RELAY: bounded by --max-conns */
	size_t n_handshakes;  /* HELLO */
	size_t n_refusing;    /* REFUSING: bounded by --max-conns too (then a bare RST) */
	struct svc_conf conf; /* --cookie (0: no cookie required), --max-conns, --buf, ... */
	struct dstpolicy policy;
	struct relay_watch policy_watch;
	struct cv_shared *sh;
	size_t max_hs_per_source;    /* --max-handshakes-per-source (0: no limit) */
	size_t max_total_per_source; /* --max-per-source (0: no limit) */
	struct svc_signals sig;
	struct svc_timer timer;
	bool quiet;
	uint8_t tfo; /* enum mpt_tfo_mode */
	struct relay_counters ctr;
	uint64_t per_source_refusals, evictions, rst_refusals;
	const char *operand; /* PORT, from the command line or a configuration file */
	struct mpt_tool_opts o;
	unsigned threads;     /* --threads (0: one per online CPU) */
	bool threads_set;     /* --threads given (else a group that fails falls back to one) */
	char *pcap;           /* thread i > 0: its own --pcap file, PATH.i (malloc'd) */
	unsigned id;          /* thread number; 0 runs in the main thread */
	char name[40];        /* "mpt convert: thread I", for its error messages */
	struct svc_mate mate; /* SIGUSR1: copy the counters into snap when woken */
	struct cv_snap *snap; /* its counters for SIGUSR1, under the team's lock */
	pthread_t thread;
	int rc; /* the thread's exit status (0 or 1) */
};

static void src_lock(const struct cv *cv)
{
	pthread_mutex_lock(&cv->sh->team.lock);
}

static void src_unlock(const struct cv *cv)
{
	pthread_mutex_unlock(&cv->sh->team.lock);
}

static void cv_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: mpt convert [options] (--allow PREFIX... | --allow-any) PORT\n"
	    "  RFC 8803 Transport Converter: accept MPTCP (or TCP) connections on PORT over\n"
	    "  mpt's stack on TUN devices, read the Convert message that starts each one,\n"
	    "  connect to its Connect TLV's destination with kernel TCP and relay.\n"
	    "  --allow ADDR[/PLEN][:PORT[-PORT]]  allowed destinations (repeatable); IPv6 with a\n"
	    "                               port: [ADDR[/PLEN]]:PORT.  Without any --allow every\n"
	    "                               destination is refused (Not Authorized)\n"
	    "  --deny ADDR[/PLEN][:PORT[-PORT]]   refused destinations; --allow and --deny\n"
	    "                               form one list, the first match decides\n"
	    "  --allow-local ADDR[/PLEN][:PORT[-PORT]]  the only way to a service on this\n"
	    "                               host itself (one of its addresses; never\n"
	    "                               loopback, link-local or the converter's own)\n"
	    "  --allow-any                  allow what no rule matched (beware: with no\n"
	    "                               --cookie anyone reaching PORT may use it).  Never\n"
	    "                               allowed, whatever the rules: this host's own\n"
	    "                               addresses, loopback, link-local, multicast,\n"
	    "                               unspecified and reserved addresses\n"
	    "  --cookie HEX                 require this Cookie TLV (RFC 8803 §4.2.7)\n"
	    "  --max-conns N                concurrent connections (default %d; above: Resource\n"
	    "                               Exceeded, after evicting a connection of the\n"
	    "                               source with the most still waiting for their\n"
	    "                               Convert message)\n"
	    "  --max-per-source N           connections held per source (IPv4 address or IPv6\n"
	    "                               /64) once half of --max-conns are in use\n"
	    "                               (default %d, 0: no limit)\n"
	    "  --max-handshakes-per-source N  connections per source still waiting for their\n"
	    "                               Convert message, once a quarter of --max-conns\n"
	    "                               are waiting (default %d, 0: no limit)\n"
	    "  --buf BYTES                  relay buffer per direction (default %u)\n"
	    "  --connect-timeout SECONDS    give up on a destination (default 10: Destination\n"
	    "                               Unreachable)\n"
	    "  --handshake-timeout SECONDS  wait this long for the Convert message (default\n"
	    "                               10; shrinks to 1 s as the connection table fills)\n"
	    "  --msl SECONDS                TCP maximum segment lifetime: TIME-WAIT lasts 2 x MSL\n"
	    "                               (default 30 s; closed connections hold memory)\n"
	    "  --tfo[=no-cookie|cookie]     accept the Convert message as TCP Fast Open SYN\n"
	    "                               data (RFC 7413; RFC 8803 0-RTT).  no-cookie (the\n"
	    "                               default): from any client (keep the converter\n"
	    "                               behind its allow-list / a firewall); cookie: only\n"
	    "                               with a valid TFO cookie (a first connection gets one)\n"
	    "  --threads N                  N stacks, one per thread, sharing the TUN devices\n"
	    "                               (1-%d; default: one per online CPU); --max-conns\n"
	    "                               is split between them, per-source limits are not\n"
	    "  --user NAME                  once the TUN devices and routes exist, run as NAME\n"
	    "                               with no capabilities\n"
	    "  --config FILE                read options from FILE (one 'NAME VALUE' per line,\n"
	    "                               NAME a long option; 'listen PORT' for PORT)\n"
	    "  --check                      validate the configuration and the host, then exit\n"
	    "  --ctl PATH                   control socket (default /run/mpt/convert.PID.sock;\n"
	    "                               none: no socket); see mpt ss, mpt nstat, mpt monitor\n"
	    "  -q, --quiet                  no per-connection log lines\n"
	    "  -h, --help                   this text\n",
	    SVC_DEFAULT_MAX_CONNS, CV_PER_SOURCE_TOTAL_DEF, CV_PER_SOURCE_HS_DEF, RELAY_BUF_DEFAULT,
	    MPT_BACKEND_MAX_SHARDS);
	mpt_opts_usage(f);
	fprintf(
	    f,
	    "Counters are printed on SIGUSR1 (each thread its own) and at exit (SIGINT/SIGTERM;\n"
	    "summed over the threads).\n"
	    "example:\n"
	    "  mpt convert --path 10.0.1.1/24 --path 10.0.2.1/24 --allow 192.0.2.0/24:80 5124\n");
}

/* ---- cookie ---------------------------------------------------------------- */

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

static bool is_active(enum cv_state s)
{
	return s == CV_HELLO || s == CV_CONNECTING || s == CV_RELAY;
}

/* Every state change goes through here, so the global and per-source
 * counts always agree with the states. */
static void set_state(struct cv_conn *c, enum cv_state to)
{
	struct cv *cv = c->cv;
	enum cv_state from = c->state;
	if (from == to)
		return;
	if (from == CV_HELLO) {
		cv->n_handshakes--;
		src_lock(cv);
		c->src->handshakes--;
		src_unlock(cv);
	}
	if (to == CV_HELLO) {
		cv->n_handshakes++;
		src_lock(cv);
		c->src->handshakes++;
		src_unlock(cv);
	}
	if (is_active(from) && !is_active(to))
		cv->n_active--;
	if (!is_active(from) && is_active(to))
		cv->n_active++;
	if (from == CV_REFUSING)
		cv->n_refusing--;
	if (to == CV_REFUSING)
		cv->n_refusing++;
	c->state = to;
}

static void conn_done(struct cv_conn *c)
{
	set_state(c, CV_DONE);
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
		ctl_server_sock_closing(c->ms);
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
	set_state(c, CV_REFUSING);
	c->deadline = mpt_backend_now() + CV_ERR_LINGER_NS;
	refuse_pump(c);
}

/* At most CV_LOG_PER_S refusal lines per second: a flood must not turn
 * into a flood of log lines; the number left out is said once per second. */
#define CV_LOG_PER_S 20
static _Thread_local uint64_t log_second, log_lines, log_dropped; /* per thread */

static bool log_ok(const struct cv *cv)
{
	(void)cv;
	uint64_t sec = mpt_backend_now() / MPT_NS_PER_S;
	if (sec != log_second) {
		if (log_dropped)
			fprintf(stderr, "%s: %" PRIu64 " refusal line(s) not shown\n", prog,
				log_dropped);
		log_second = sec;
		log_lines = log_dropped = 0;
	}
	if (log_lines >= CV_LOG_PER_S) {
		log_dropped++;
		return false;
	}
	log_lines++;
	return true;
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
	if (!cv->quiet && log_ok(cv)) {
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
	set_state(c, CV_RELAY);
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
	/* Decided here, before any socket exists for the destination. */
	enum dp_verdict v = dp_check(&cv->policy, &c->dest);
	if (!dp_allowed(v)) {
		char ds[64], why[160];
		snprintf(why, sizeof(why), "%s: %s", relay_fmt_ep(&c->dest, ds, sizeof(ds)),
			 dp_verdict_name(v));
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
	set_state(c, CV_CONNECTING);
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

/*
 * Whom a full table evicts: a connection still waiting for its Convert
 * message, from the source that has the most of them (a flood's source,
 * not a client whose message is merely late because the converter is
 * busy), the one that waited longest among those.
 */
static struct cv_conn *eviction_victim(const struct cv *cv)
{
	struct cv_conn *best = NULL;
	src_lock(cv);
	for (struct cv_conn *c = cv->conns; c; c = c->next) {
		if (c->state != CV_HELLO)
			continue;
		if (!best || c->src->handshakes > best->src->handshakes ||
		    (c->src->handshakes == best->src->handshakes &&
		     c->accepted_at < best->accepted_at))
			best = c;
	}
	src_unlock(cv);
	return best;
}

/* Error TLVs per source and second before refusals become bare RSTs. */
#define CV_SRC_TLV_PER_S 16

/* Refuse a connection that was just accepted (Resource Exceeded).  A bare
 * RST instead when refusals already hold --max-conns connections, or when
 * this source was answered CV_SRC_TLV_PER_S times in the last second:
 * answering a flood must not cost more than what it sends (an Error TLV
 * costs a send, a FIN exchange, up to 2 s of waiting and 2 x MSL of
 * TIME-WAIT in the stack; a RST costs nothing after it). */
static bool refuse_bare(struct cv_conn *c)
{
	struct svc_src *src = c->src;
	uint64_t now = mpt_backend_now();
	if (c->cv->n_refusing >= c->cv->conf.max_conns)
		return true;
	src_lock(c->cv);
	if (now - src->window >= MPT_NS_PER_S) {
		src->window = now;
		src->refused = 0;
	}
	bool bare = src->refused++ >= CV_SRC_TLV_PER_S;
	src_unlock(c->cv);
	return bare;
}

static void reject_new(struct cv_conn *c, const char *why)
{
	struct cv *cv = c->cv;
	if (refuse_bare(c)) {
		cv->rst_refusals++;
		conn_drop(c, true);
		return;
	}
	refuse(c, MPT_CONVERT_ERR_RESOURCE_EXCEEDED, NULL, 0, why);
}

static void accept_all(struct cv *cv)
{
	struct mpt_sock *s;
	while ((s = mpt_accept(cv->lsock)) != NULL) {
		cv->ctr.accepted++;
		struct mpt_endpoint l, client;
		mpt_sock_endpoints(s, &l, &client);
		/* The source's counts are the whole process's: read them with
		 * this connection counted, in one go. */
		src_lock(cv);
		struct svc_src *src = svc_src_get(&cv->sh->srcs, &client.addr);
		uint32_t src_hs = 0, src_total = 0;
		if (src) {
			src->total++;
			src_hs = src->handshakes;
			src_total = src->total;
		}
		src_unlock(cv);
		struct cv_conn *c = src ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			src_lock(cv);
			if (src)
				src->total--;
			svc_src_release(&cv->sh->srcs, src);
			src_unlock(cv);
			ctl_server_sock_closing(s);
			mpt_abort(s, mpt_backend_now());
			cv->ctr.local_errors++;
			continue;
		}
		c->cv = cv;
		c->ms = s;
		c->fd = -1;
		c->state = CV_INIT;
		c->client = client;
		c->src = src;
		c->accepted_at = mpt_backend_now();
		mpt_sock_set_user(s, c);
		c->next = cv->conns;
		cv->conns = c;
		/* Per source first: under pressure, one source's flood is refused
		 * before it can fill the table for everyone. */
		bool hs_pressure = cv->n_handshakes >= cv->conf.max_conns / 4;
		bool table_pressure = cv->n_active >= cv->conf.max_conns / 2;
		if ((hs_pressure && cv->max_hs_per_source && src_hs >= cv->max_hs_per_source) ||
		    (table_pressure && cv->max_total_per_source &&
		     src_total > cv->max_total_per_source)) {
			cv->per_source_refusals++;
			reject_new(c, src_hs >= cv->max_hs_per_source && cv->max_hs_per_source
					  ? "--max-handshakes-per-source reached"
					  : "--max-per-source reached");
			continue;
		}
		if (cv->n_active >= cv->conf.max_conns) {
			/* Full: a connection still waiting for its Convert
			 * message makes room (a slow client, or one that will
			 * never send it), from the source with the most such;
			 * only when none waits is the newcomer refused. */
			struct cv_conn *victim = eviction_victim(cv);
			if (!victim) {
				reject_new(c, "--max-conns reached");
				continue;
			}
			cv->evictions++;
			if (refuse_bare(victim)) {
				cv->rst_refusals++;
				conn_drop(victim, true);
			} else {
				refuse(victim, MPT_CONVERT_ERR_RESOURCE_EXCEEDED, NULL, 0,
				       "evicted: table full, its source has the most connections "
				       "waiting");
			}
		}
		set_state(c, CV_HELLO);
		hello_pump(c);
	}
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct cv *cv = ud;
	/* Path-manager events for mpt monitor (thread 0's: the control
	 * server only pops the other threads' events). */
	ctl_server_on_event(s, ev);
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
	case CV_INIT:
	case CV_DONE:
		break;
	}
}

/* The control server's view of our connections (mpt ss): the listener and
 * every MPTCP side still open (the destinations' side is kernel TCP). */
static size_t list_socks(void *ud, struct mpt_sock **out, size_t max)
{
	const struct cv *cv = ud;
	size_t n = 0;
	if (cv->lsock && n < max)
		out[n++] = cv->lsock;
	for (const struct cv_conn *c = cv->conns; c && n < max; c = c->next) {
		struct mpt_sock *s = c->state == CV_RELAY ? c->relay.ms : c->ms;
		if (s && c->state != CV_DONE)
			out[n++] = s;
	}
	return n;
}

/* Stack counters worth a line next to ours: SYN data accepted / refused
 * (RFC 8803 0-RTT through TFO), and the stack's connection totals. */
static const char *const cv_stack_counters[] = {"TCPFastOpenPassive", "TCPFastOpenCookieReqd",
						"TcpPassiveOpens",    "MPCapableSYNRX",
						"MPJoinSynRx",        NULL};

#define CV_N_STACK_COUNTERS (sizeof(cv_stack_counters) / sizeof(cv_stack_counters[0]) - 1)

/* What one thread's counters say at one moment: taken by the thread itself
 * (or after it ended), so that another thread can add them up. */
struct cv_snap {
	struct relay_counters ctr;
	uint64_t policy[DP_N_VERDICTS];
	uint64_t per_source_refusals, evictions, rst_refusals;
	size_t n_active, n_handshakes;
	uint64_t stack[CV_N_STACK_COUNTERS];
	bool stack_known[CV_N_STACK_COUNTERS];
	struct mpt_backend_stats bs;
};

static void cv_snap_take(const struct cv *cv, struct cv_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->ctr = cv->ctr;
	memcpy(s->policy, cv->policy.count, sizeof(s->policy));
	s->per_source_refusals = cv->per_source_refusals;
	s->evictions = cv->evictions;
	s->rst_refusals = cv->rst_refusals;
	s->n_active = cv->n_active;
	s->n_handshakes = cv->n_handshakes;
	for (size_t k = 0; k < CV_N_STACK_COUNTERS; k++)
		s->stack_known[k] = cv->st && mpt_stack_counter_by_name(
						  cv->st, cv_stack_counters[k], &s->stack[k]) == 0;
	if (cv->be)
		mpt_backend_stats(cv->be, &s->bs);
}

/*
 * The counters of n threads' snapshots, summed, one "PROG: counter NAME
 * VALUE" line each: with one thread exactly the lines of the converter
 * before it had threads (scripts parse them); with several, the sums, then
 * the number of threads and the backend group's hand-overs.
 */
static void cv_snaps_print(struct cv_shared *sh, const struct cv_snap *snaps, unsigned n)
{
	static const char *const policy_names[DP_N_VERDICTS] = {
	    [DP_ALLOW] = "policy-allowed",
	    [DP_BUILTIN] = "policy-refused-builtin",
	    [DP_OWN] = "policy-refused-own-address",
	    [DP_HOST] = "policy-refused-host-address",
	    [DP_LOCAL_ROUTE] = "policy-refused-local-route",
	    [DP_PORT_ZERO] = "policy-refused-port-0",
	    [DP_DENIED] = "policy-refused-deny-rule",
	    [DP_NO_RULE] = "policy-refused-no-rule",
	    [DP_ALLOW_LOCAL] = "policy-allowed-local",
	};
	struct cv_snap *sum = calloc(1, sizeof(*sum)); /* large: not on the stack */
	if (!sum)
		return;
	for (unsigned i = 0; i < n; i++) {
		const struct cv_snap *s = &snaps[i];
		relay_counters_add(&sum->ctr, &s->ctr);
		for (int v = 0; v < DP_N_VERDICTS; v++)
			sum->policy[v] += s->policy[v];
		sum->per_source_refusals += s->per_source_refusals;
		sum->evictions += s->evictions;
		sum->rst_refusals += s->rst_refusals;
		sum->n_active += s->n_active;
		sum->n_handshakes += s->n_handshakes;
		for (size_t k = 0; k < CV_N_STACK_COUNTERS; k++) {
			sum->stack[k] += s->stack[k];
			sum->stack_known[k] |= s->stack_known[k];
		}
		sum->bs.steer_out += s->bs.steer_out;
		sum->bs.steer_in += s->bs.steer_in;
		sum->bs.steer_drops += s->bs.steer_drops;
	}
	relay_counters_print(&sum->ctr, prog);
	for (int v = 0; v < DP_N_VERDICTS; v++)
		fprintf(stderr, "%s: counter %s %" PRIu64 "\n", prog, policy_names[v],
			sum->policy[v]);
	fprintf(stderr, "%s: counter per-source-refusals %" PRIu64 "\n", prog,
		sum->per_source_refusals);
	fprintf(stderr, "%s: counter handshake-evictions %" PRIu64 "\n", prog, sum->evictions);
	fprintf(stderr, "%s: counter refused-with-rst %" PRIu64 "\n", prog, sum->rst_refusals);
	fprintf(stderr, "%s: counter conns-active %zu\n", prog, sum->n_active);
	fprintf(stderr, "%s: counter conns-handshaking %zu\n", prog, sum->n_handshakes);
	pthread_mutex_lock(&sh->team.lock);
	size_t sources = sh->srcs.n;
	pthread_mutex_unlock(&sh->team.lock);
	fprintf(stderr, "%s: counter sources %zu\n", prog, sources);
	for (size_t k = 0; k < CV_N_STACK_COUNTERS; k++)
		if (sum->stack_known[k])
			fprintf(stderr, "%s: counter stack-%s %" PRIu64 "\n", prog,
				cv_stack_counters[k], sum->stack[k]);
	if (sh->n > 1) {
		/* Packets a thread read for a flow another thread owns, handed
		 * over (the kernel's choice of queue and the owner differ). */
		fprintf(stderr, "%s: counter threads %u\n", prog, sh->n);
		svc_steer_print(prog, &sum->bs);
	}
	free(sum);
}

static struct svc_mate *cv_mate(void *ud, unsigned i)
{
	struct cv_shared *sh = ud;
	return &sh->cvs[i].mate;
}

/* Under the team's lock: the other threads' snapshots, as they are. */
static void cv_snaps_copy(void *ud)
{
	struct cv_shared *sh = ud;
	for (unsigned i = 1; i < sh->n; i++)
		if (sh->cvs[i].mate.started)
			sh->report[i] = *sh->cvs[i].snap;
}

/* SIGUSR1, in the main thread (thread 0's loop): the counters summed over
 * every thread (svc_team_collect: each thread copies its own). */
static void cv_report(void *ud)
{
	struct cv_shared *sh = ud;
	sh->report = calloc(sh->n, sizeof(*sh->report));
	if (!sh->report)
		return;
	cv_snap_take(&sh->cvs[0], &sh->report[0]);
	svc_team_collect(&sh->team, sh->n, cv_mate, cv_snaps_copy, sh, prog);
	cv_snaps_print(sh, sh->report, sh->n);
	free(sh->report);
	sh->report = NULL;
}

static void cv_take(void *ud)
{
	struct cv *cv = ud;
	cv_snap_take(cv, cv->snap);
}

/* mpt_backend_wake() landed in this thread's loop: SIGUSR1 wants our
 * counters, or the control socket our part of an answer (thread 0: the
 * others' parts are in). */
static void cv_on_wake(void *ud)
{
	struct cv *cv = ud;
	svc_team_answer(&cv->sh->team, &cv->mate, cv_take, cv);
	ctl_server_on_wake(cv->id);
}

/*
 * How long a connection may wait for its Convert message now: the
 * configured time while at most a quarter of --max-conns are waiting, then
 * less in proportion to the room left, down to CV_HS_FLOOR_NS (or the
 * configured time when it is shorter).  Slow connections thus go faster the
 * more of them there are, and the table keeps room for real clients.
 */
static uint64_t handshake_limit(const struct cv *cv)
{
	uint64_t t = cv->conf.handshake_ns;
	uint64_t floor = t < CV_HS_FLOOR_NS ? t : CV_HS_FLOOR_NS;
	size_t max = cv->conf.max_conns, q = max / 4;
	if (cv->n_handshakes <= q || max <= q)
		return t;
	size_t n = cv->n_handshakes < max ? cv->n_handshakes : max;
	uint64_t v = (uint64_t)((double)t * (double)(max - n) / (double)(max - q));
	return v < floor ? floor : v;
}

static bool on_idle(void *ud)
{
	struct cv *cv = ud;
	uint64_t now = mpt_backend_now();
	relay_mem_trim(now);
	uint64_t limit = handshake_limit(cv), next = MPT_TIME_NEVER;
	struct cv_conn **pp = &cv->conns;
	while (*pp) {
		struct cv_conn *c = *pp;
		if (c->state == CV_RELAY && relay_done(&c->relay))
			set_state(c, CV_DONE);
		if (c->state == CV_HELLO && now - c->accepted_at >= limit) {
			cv->ctr.handshake_timeouts++;
			refuse(c, MPT_CONVERT_ERR_MALFORMED, c->hello, c->hlen,
			       "no complete Convert message in time");
		} else if (c->state == CV_CONNECTING && now >= c->deadline) {
			refuse(c, MPT_CONVERT_ERR_DEST_UNREACHABLE, NULL, 0, "connect timed out");
		} else if (c->state == CV_REFUSING && now >= c->deadline) {
			conn_drop(c, true);
		}
		if (c->state == CV_HELLO && c->accepted_at + limit < next)
			next = c->accepted_at + limit;
		if ((c->state == CV_CONNECTING || c->state == CV_REFUSING) && c->deadline < next)
			next = c->deadline;
		if (c->state != CV_DONE) {
			pp = &c->next;
			continue;
		}
		if (c->relayed) {
			relay_account(&cv->ctr, &c->relay, cv->quiet ? NULL : prog);
			relay_free(&c->relay);
		}
		*pp = c->next;
		src_lock(cv);
		c->src->total--;
		svc_src_release(&cv->sh->srcs, c->src);
		src_unlock(cv);
		free(c);
	}
	/* Our deadlines wake the loop even when no packet does. */
	svc_timer_arm(&cv->timer, next);
	return false;
}

static void on_policy(void *ud, uint32_t events)
{
	struct cv *cv = ud;
	(void)events;
	if (dp_process(&cv->policy) < 0)
		fprintf(stderr, "%s: netlink (host addresses): %s\n", prog, strerror(errno));
}

enum {
	OPT_ALLOW = 0x2000,
	OPT_ALLOW_LOCAL,
	OPT_DENY,
	OPT_ALLOW_ANY,
	OPT_TFO,
	OPT_PER_SOURCE,
	OPT_HS_PER_SOURCE,
	OPT_THREADS,
};

/* One option, from the command line or a configuration file. */
static int cv_opt(void *ud, const char *where, int ch, const char *arg)
{
	struct cv *cv = ud;
	unsigned long v;
	switch (ch) {
	case 'q':
		cv->quiet = true;
		return 0;
	case OPT_ALLOW:
	case OPT_ALLOW_LOCAL:
	case OPT_DENY: {
		struct dp_rule r;
		char err[96];
		if (dp_parse_rule(arg, ch != OPT_DENY, &r, err, sizeof(err)) < 0) {
			fprintf(stderr,
				"%s: %s: '%s': %s (ADDR[/PLEN][:PORT[-PORT]], IPv6 with a port: "
				"[ADDR[/PLEN]]:PORT[-PORT])\n",
				where,
				ch == OPT_ALLOW         ? "--allow"
				: ch == OPT_ALLOW_LOCAL ? "--allow-local"
							: "--deny",
				arg, err);
			return 2;
		}
		r.local = ch == OPT_ALLOW_LOCAL;
		if (dp_add_rule(&cv->policy, &r) < 0) {
			fprintf(stderr, "%s: at most %d --allow/--deny rules\n", where,
				DP_MAX_RULES);
			return 2;
		}
		return 0;
	}
	case OPT_ALLOW_ANY:
		cv->policy.allow_any = true;
		return 0;
	case OPT_PER_SOURCE:
		if (svc_parse_ulong(where, "--max-per-source", arg, 0, 100000, "", "", &v) < 0)
			return 2;
		cv->max_total_per_source = v;
		return 0;
	case OPT_HS_PER_SOURCE:
		if (svc_parse_ulong(where, "--max-handshakes-per-source", arg, 0, 100000, "", "",
				    &v) < 0)
			return 2;
		cv->max_hs_per_source = v;
		return 0;
	case OPT_THREADS:
		if (svc_parse_ulong(where, "--threads", arg, 1, MPT_BACKEND_MAX_SHARDS, "", "",
				    &v) < 0)
			return 2;
		cv->threads = (unsigned)v;
		cv->threads_set = true;
		return 0;
	case OPT_TFO:
		if (!arg || !strcmp(arg, "no-cookie")) {
			cv->tfo = MPT_TFO_NO_COOKIE;
		} else if (!strcmp(arg, "cookie")) {
			cv->tfo = MPT_TFO_COOKIE;
		} else {
			fprintf(stderr,
				"%s: --tfo: '%s' is not 'no-cookie' or 'cookie' (write "
				"--tfo=cookie)\n",
				where, arg);
			return 2;
		}
		return 0;
	default:
		return svc_conf_opt(&cv->conf, &cv->o, where, ch, arg, cv_usage) ? 2 : 0;
	}
}

/* --check: what the converter would do, and whether this host lets it. */
static int cv_check(struct cv *cv, long port)
{
	struct svc_check ck = {.prog = prog};
	svc_check_ok(&ck, "listening on port %ld of every --path address", port);
	svc_check_ok(&ck, "%u thread(s), up to %zu connections each", cv->threads,
		     (cv->conf.max_conns + cv->threads - 1) / cv->threads);
	for (size_t i = 0; i < cv->policy.n_rules; i++) {
		char r[128];
		svc_check_ok(&ck, "rule %zu: %s", i + 1,
			     dp_rule_format(&cv->policy.rules[i], r, sizeof(r)));
	}
	if (cv->policy.allow_any)
		svc_check_ok(&ck, "then: allow any other destination (--allow-any)");
	else if (!cv->policy.n_rules)
		svc_check_warn(&ck, "no --allow rule: every destination will be refused");
	else
		svc_check_ok(&ck, "then: refuse (no rule matched)");
	svc_check_ok(&ck, "always refused: this host's addresses, the --path addresses, "
			  "loopback, link-local, multicast, unspecified, reserved");
	if (cv->policy.allow_any && !cv->conf.cookie_len)
		svc_check_warn(&ck,
			       "--allow-any without --cookie: anyone who reaches port %ld "
			       "can relay through this host",
			       port);
	if (cv->tfo == MPT_TFO_NO_COOKIE && !cv->conf.cookie_len)
		svc_check_warn(&ck, "--tfo without TFO cookies and without --cookie: spoofed "
				    "SYNs carrying a Convert message are acted upon");
	struct dstpolicy probe = cv->policy;
	if (dp_open(&probe) < 0) {
		svc_check_problem(&ck, "cannot read the host's addresses (netlink): %s",
				  strerror(errno));
	} else {
		bool over;
		size_t n = nladdrs_count(probe.host, &over);
		svc_check_ok(&ck, "%zu host address(es) will be refused%s", n,
			     over ? " (more than the table holds: local routes cover the rest)"
				  : "");
		dp_close(&probe);
	}
	svc_check_host(&ck, &cv->o.be, &cv->conf.user);
	return svc_check_finish(&ck);
}

/* Thread i's own set-up, in its own thread: the relay poller is per
 * thread, and so are the descriptors it watches. */
static int cv_setup(struct cv *cv)
{
	if (relay_poller_init(cv->be) < 0 || svc_timer_open(&cv->timer) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", cv->name, strerror(errno));
		return -1;
	}
	cv->policy_watch.fn = on_policy;
	cv->policy_watch.ud = cv;
	if (relay_poller_add(dp_fd(&cv->policy), EPOLLIN, &cv->policy_watch) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", cv->name, strerror(errno));
		return -1;
	}
	mpt_backend_set_idle(cv->be, on_idle, cv);
	return 0;
}

/* After the thread's loop ended, in the thread: close every connection
 * (relayed ones are counted) and the thread's descriptors.  The backend
 * and its stack stay for the counters. */
static void cv_teardown(struct cv *cv)
{
	for (struct cv_conn *c = cv->conns; c; c = c->next) {
		if (c->state == CV_RELAY) {
			relay_abort(&c->relay);
			relay_account(&cv->ctr, &c->relay, cv->quiet ? NULL : prog);
			relay_free(&c->relay);
		} else if (c->fd >= 0) {
			close(c->fd);
		}
	}
	while (cv->conns) {
		struct cv_conn *c = cv->conns;
		cv->conns = c->next;
		free(c);
	}
	if (dp_fd(&cv->policy) >= 0)
		relay_poller_del(dp_fd(&cv->policy));
	svc_timer_close(&cv->timer);
	relay_poller_fini(cv->be);
}

/* Threads 1 .. n-1.  A failure stops the whole converter (thread 0's loop
 * returns, and it stops the others). */
static void *cv_thread(void *ud)
{
	struct cv *cv = ud;
	cv->rc = 1;
	if (cv_setup(cv) == 0)
		cv->rc = mpt_backend_run(cv->be) == 0 ? 0 : 1;
	cv_teardown(cv);
	if (cv->rc)
		mpt_backend_wake(cv->sh->cvs[0].be, true, 1);
	return NULL;
}

int mpt_cmd_convert(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"allow", required_argument, NULL, OPT_ALLOW},
	    {"deny", required_argument, NULL, OPT_DENY},
	    {"allow-local", required_argument, NULL, OPT_ALLOW_LOCAL},
	    {"allow-any", no_argument, NULL, OPT_ALLOW_ANY},
	    {"max-per-source", required_argument, NULL, OPT_PER_SOURCE},
	    {"max-handshakes-per-source", required_argument, NULL, OPT_HS_PER_SOURCE},
	    {"tfo", optional_argument, NULL, OPT_TFO},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    SVC_LONGOPTS,
	    MPT_STACK_LONGOPTS,
	    {NULL, 0, NULL, 0}};
	/* The options go into tmpl; each thread's cv starts as a copy. */
	static struct cv tmpl; /* large (counters) */
	memset(&tmpl, 0, sizeof(tmpl));
	mpt_opts_init(&tmpl.o);
	svc_conf_init(&tmpl.conf);
	tmpl.max_hs_per_source = CV_PER_SOURCE_HS_DEF;
	tmpl.max_total_per_source = CV_PER_SOURCE_TOTAL_DEF;
	tmpl.sig.fd = -1;
	tmpl.timer.fd = -1;
	int ch, rc;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+hq" MPT_STACK_SHORTOPTS, lopts, NULL)) != -1) {
		if (ch == 'h') {
			cv_usage(stdout);
			svc_config_free();
			return 0;
		}
		if (ch == SVC_OPT_CONFIG)
			rc = svc_config_load(prog, optarg, lopts, "listen", &tmpl.operand, cv_opt,
					     &tmpl);
		else
			rc = cv_opt(&tmpl, prog, ch, optarg);
		if (rc) {
			svc_config_free();
			return rc;
		}
	}
	if (!tmpl.threads)
		tmpl.threads = svc_default_threads();
	int status = 2;
	if (argc - optind > 1 || (argc - optind == 0 && !tmpl.operand)) {
		fprintf(stderr, "%s: expected exactly one argument, the PORT to listen on\n", prog);
		cv_usage(stderr);
		goto early;
	}
	if (argc - optind == 1)
		tmpl.operand = argv[optind];
	char *end;
	errno = 0;
	long port = strtol(tmpl.operand, &end, 10);
	if (errno || end == tmpl.operand || *end || port < 1 || port > 65535) {
		fprintf(stderr, "%s: '%s' is not a port number (1-65535)\n", prog, tmpl.operand);
		goto early;
	}
	bool any_allow = false, any_local = false;
	for (size_t i = 0; i < tmpl.policy.n_rules; i++) {
		any_allow |= tmpl.policy.rules[i].allow && !tmpl.policy.rules[i].local;
		any_local |= tmpl.policy.rules[i].local;
	}
	if (tmpl.policy.allow_any && any_allow) {
		fprintf(stderr, "%s: --allow-any and --allow exclude each other\n", prog);
		goto early;
	}
	if (mpt_opts_finish(&tmpl.o, prog) < 0)
		goto early;
	/* A pcap file has one writer: with --pcap one thread, unless --threads
	 * asks for more (then each thread writes its own file). */
	if (tmpl.o.be.pcap && !tmpl.threads_set)
		tmpl.threads = 1;
	for (size_t i = 0; i < tmpl.o.be.n_paths; i++)
		tmpl.policy.own[tmpl.policy.n_own++] = tmpl.o.be.paths[i].addr;
	if (tmpl.conf.check) {
		status = cv_check(&tmpl, port);
		goto early;
	}
	if (!tmpl.policy.allow_any && !any_allow && !any_local)
		fprintf(stderr, "%s: warning: no --allow: every destination will be refused\n",
			prog);

	status = 1;
	unsigned n = tmpl.threads, made = 0; /* made: backends created */
	struct cv_shared sh = {.n = n};
	struct cv *cv0 = NULL;
	if (svc_team_init(&sh.team) < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto early;
	}
	/* Before any thread exists: every thread inherits the blocked
	 * signals, and only the main thread's signalfd takes them. */
	if (svc_signals_open(&tmpl.sig, prog) < 0)
		goto no_sig;
	sh.cvs = calloc(n, sizeof(*sh.cvs));
	sh.snaps = calloc(n, sizeof(*sh.snaps));
	if (!sh.cvs || !sh.snaps || svc_srcs_init(&sh.srcs, tmpl.conf.max_conns) < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto no_cvs;
	}
	if (n > 1 && mpt_backend_group_create(n, &sh.group) < 0) {
		fprintf(stderr, "%s: cannot create a group of %u backends\n", prog, n);
		goto no_cvs;
	}
	/* --max-conns is the whole converter's: ceil(max / n) per thread (a
	 * thread only sees its own table). */
	size_t per_thread = (tmpl.conf.max_conns + n - 1) / n;
	for (unsigned i = 0; i < n; i++) {
		struct cv *cv = &sh.cvs[i];
		/* memcpy: cv holds an atomic, which plain assignment would
		 * access as one; no thread runs yet. */
		memcpy(cv, &tmpl, sizeof(*cv));
		atomic_init(&cv->mate.report, false);
		cv->mate.started = false;
		cv->id = i;
		cv->sh = &sh;
		cv->snap = &sh.snaps[i];
		cv->sig.fd = -1; /* thread 0 gets the signalfd below */
		cv->conf.max_conns = per_thread;
		if (n == 1)
			snprintf(cv->name, sizeof(cv->name), "%s", prog);
		else
			snprintf(cv->name, sizeof(cv->name), "%s: thread %u", prog, i);
		if (dp_open(&cv->policy) < 0) {
			fprintf(stderr, "%s: cannot read the host's addresses (netlink)\n", prog);
			goto out;
		}
		struct mpt_backend_cfg *bc = &cv->o.be;
		bc->stack.tcp.tfo_server = cv->tfo;
		/* The stack's socket table must hold what --max-conns admits: up
		 * to max_conns connections relaying or negotiating, as many being
		 * refused, the listener's backlog (half-open and not yet
		 * accepted), with room for those closing.  Its default (4096,
		 * counting the listener) silently capped the converter at 4095
		 * connections whatever --max-conns said: further SYNs were
		 * dropped (TCPListenOverflows) and clients timed out
		 * (bench/memory.sh). */
		size_t socks = 2 * cv->conf.max_conns + 2 * CV_BACKLOG + 1;
		if (socks > bc->stack.max_socks)
			bc->stack.max_socks = (uint32_t)socks;
		bc->stack.mem = relay_counting_mem();
		bc->stack.on_event = on_event;
		bc->stack.event_ud = cv;
		/* Member 0 first: it creates and configures the TUN devices
		 * the others attach to; all before the privileges go. */
		bc->group = sh.group;
		bc->shard = i;
		if (i > 0 && bc->pcap) {
			if (asprintf(&cv->pcap, "%s.%u", bc->pcap, i) < 0) {
				cv->pcap = NULL;
				fprintf(stderr, "%s: out of memory\n", prog);
				goto out;
			}
			bc->pcap = cv->pcap;
		}
		char err[256];
		rc = mpt_backend_create(bc, &cv->be, err, sizeof(err));
		if (rc < 0 && i == 0 && n > 1 && !tmpl.threads_set) {
			/* Only the default asked for several threads, and the
			 * devices cannot be shared (e.g. TUN devices made
			 * beforehand without multi-queue, attach mode): run
			 * one thread, as the converter did before threads. */
			fprintf(stderr, "%s: warning: %s: running one thread (see --threads)\n",
				prog, err);
			mpt_backend_group_destroy(sh.group);
			sh.group = NULL;
			n = sh.n = 1;
			cv->conf.max_conns = tmpl.conf.max_conns;
			snprintf(cv->name, sizeof(cv->name), "%s", prog);
			socks = 2 * cv->conf.max_conns + 2 * CV_BACKLOG + 1;
			if (socks > bc->stack.max_socks)
				bc->stack.max_socks = (uint32_t)socks;
			bc->group = NULL;
			rc = mpt_backend_create(bc, &cv->be, err, sizeof(err));
		}
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			goto out;
		}
		made++;
		cv->st = mpt_backend_stack(cv->be);
		cv->mate.be = cv->be;
		if (n > 1)
			mpt_backend_set_wake(cv->be, cv_on_wake, cv);
		/* Every stack listens: a SYN goes to the thread its flow hashes to. */
		struct mpt_endpoint any = {.addr = {.family = 0}, .port = (uint16_t)port};
		rc = mpt_listen(cv->st, &any, CV_BACKLOG, &cv->lsock);
		if (rc < 0) {
			fprintf(stderr, "%s: cannot listen on port %ld: %s\n", prog, port,
				mpt_strerror(rc));
			goto out;
		}
	}
	cv0 = &sh.cvs[0];
	cv0->sig = tmpl.sig;
	tmpl.sig.fd = -1;
	if (cv_setup(cv0) < 0)
		goto out;
	if (svc_signals_watch(&cv0->sig, cv0->be, cv_report, &sh) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", prog, strerror(errno));
		goto out;
	}
	/* Before the privileges go: /run/mpt is root's. */
	if (ctl_server_open(cv0->be, cv0->st, "convert", cv0->conf.ctl_path, list_socks, cv0,
			    prog) < 0)
		goto out;
	/* Everything privileged is done: TUN devices, routes, sockets.
	 * Before the threads exist: capabilities are per thread, and a
	 * thread inherits its creator's. */
	if (svc_drop_privileges(prog, &cv0->conf.user, 0) < 0)
		goto out;
	for (unsigned i = 1; i < n; i++) {
		/* --ctl shows every thread's connections and counters. */
		(void)ctl_server_add_thread(i, sh.cvs[i].be, sh.cvs[i].st, list_socks, &sh.cvs[i]);
		int e = pthread_create(&sh.cvs[i].thread, NULL, cv_thread, &sh.cvs[i]);
		if (e) {
			fprintf(stderr, "%s: cannot start thread %u: %s\n", prog, i, strerror(e));
			goto out;
		}
		sh.cvs[i].mate.started = true;
	}
	{
		bool over;
		size_t nh = nladdrs_count(cv0->policy.host, &over);
		fprintf(stderr,
			"%s: listening on port %ld (%s%s; %zu host addresses refused; %u "
			"thread%s)\n",
			prog, port, cv0->policy.allow_any ? "any destination" : "allow-list",
			cv0->tfo == MPT_TFO_NO_COOKIE ? ", TFO without cookies"
			: cv0->tfo == MPT_TFO_COOKIE  ? ", TFO with cookies"
						      : "",
			nh, n, n == 1 ? "" : "s");
	}
	rc = mpt_backend_run(cv0->be);
	status = rc == 0 ? 0 : 1;
out:
	/* Thread 0's loop ended (a signal, or a thread's failure): stop the
	 * others and wait for them. */
	for (unsigned i = 1; i < n && sh.cvs; i++) {
		if (!sh.cvs[i].mate.started)
			continue;
		mpt_backend_wake(sh.cvs[i].be, true, 0);
		pthread_join(sh.cvs[i].thread, NULL);
		if (sh.cvs[i].rc)
			status = 1;
	}
	if (made) {
		cv_teardown(&sh.cvs[0]);
		fprintf(stderr, "%s: exiting\n", prog);
		for (unsigned i = 0; i < made; i++)
			cv_snap_take(&sh.cvs[i], &sh.snaps[i]);
		cv_snaps_print(&sh, sh.snaps, made);
		ctl_server_close();
		/* Member 0 last: it owns the devices the others attached to. */
		for (unsigned i = made; i-- > 0;)
			mpt_backend_destroy(sh.cvs[i].be);
	}
	for (unsigned i = 0; i < n && sh.cvs; i++) {
		dp_close(&sh.cvs[i].policy);
		free(sh.cvs[i].pcap);
	}
	svc_signals_close(&sh.cvs[0].sig);
	if (sh.group)
		mpt_backend_group_destroy(sh.group);
no_cvs:
	svc_srcs_fini(&sh.srcs);
	free(sh.cvs);
	free(sh.snaps);
	svc_signals_close(&tmpl.sig);
no_sig:
	svc_team_fini(&sh.team);
early:
	svc_config_free();
	return status;
}
