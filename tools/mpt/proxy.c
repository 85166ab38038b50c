/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt proxy`: plain TCP in, MPTCP out.
 *
 *   mpt proxy (--socks5 | --redirect | --tproxy) [--convert HOST:PORT] [options]
 *             [ADDR:]PORT
 *
 * Unmodified applications reach the proxy on a kernel TCP socket, either as
 * a SOCKS5 server (RFC 1928 CONNECT; username/password authentication, RFC
 * 1929, with --auth-file, required to listen beyond loopback unless
 * --insecure) or transparently:
 * through iptables/nft REDIRECT (the original destination is read back with
 * SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST), or through TPROXY (the listening
 * socket is IP_TRANSPARENT, so it accepts connections addressed anywhere,
 * and the original destination is the accepted socket's own local address:
 * no NAT, so it also works on forwarded traffic).  Each connection is carried over
 * MPTCP by mpt's stack on TUN paths (the path manager uses every --path):
 * straight to the original destination when it speaks MPTCP itself (e.g.
 * a Linux server), or with --convert through an RFC 8803 Transport
 * Converter (`mpt convert`) that speaks plain TCP to the destination.
 *
 * With --convert the proxy sends a Convert message (Connect TLV for the
 * original destination, Cookie TLV with --cookie) as the first bytes of the
 * MPTCP connection, once the handshake is done (mpt's engine cannot put data
 * in the SYN yet, so this costs one round trip over RFC 8803's 0-RTT design),
 * waits for the converter's answer, and relays.  An Error TLV closes the
 * client's connection: with a RST in --redirect and --tproxy mode, with
 * the matching SOCKS5 reply code in --socks5 mode.
 *
 * --watch ADDR=IFNAME ties a path to the kernel interface that carries it
 * (netlink, nlwatch.c): when the link goes down or loses its addresses, ADDR
 * is removed from the stack (its subflows close, the peer gets REMOVE_ADDR
 * and the path manager, e.g. `--pm mobility`, moves the connections to a
 * surviving path); when it comes back, ADDR is added again.
 *
 * Threads (issue 13), as `mpt convert --threads`: --threads N runs N
 * backends of one group, one per thread, each with its own stack, kernel
 * listener, connection table, counters, timer, relay poller, destination
 * policy and link watcher (a `struct px` each).  A connection is accepted,
 * negotiated, connected and relayed by one thread only: the stack that
 * opens its MPTCP connection picks ports and tokens the group's router
 * sends back to it.  Each thread has its own listening socket on the same
 * address, SO_REUSEPORT: the kernel spreads new connections over them (a
 * hash of the 4-tuple) with no hand-over between threads and no lock, and
 * a busy thread only delays the connections queued on its own socket (one
 * accepting thread handing descriptors over would be a second queue, a
 * lock and a wake-up per connection).  Each thread watches the links
 * itself (its own netlink socket: --watch), so a link going down moves
 * every thread's connections, each by the thread that owns them.  Shared,
 * read only once the threads run: the configuration and the SOCKS5 users;
 * the counting allocator's totals are atomics.  The main thread runs
 * member 0: it alone handles the signals and serves --ctl.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "convert_codec.h"
#include "ctl.h"
#include "dstpolicy.h"
#include "mpt/backend.h"
#include "mpt/mpt.h"
#include "nlwatch.h"
#include "opts.h"
#include "relay.h"
#include "svc.h"
#include "tool.h"

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80 /* <linux/netfilter_ipv4.h> */
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80 /* <linux/netfilter_ipv6/ip6_tables.h> */
#endif

/* greeting (<= 257) + RFC 1929 request (<= 513) + request (<= 262) + a little data */
#define PX_IN_MAX    1100
#define PX_MAX_USERS 256

/* RFC 1928 §6 reply codes. */
enum {
	SOCKS_OK = 0x00,
	SOCKS_FAIL = 0x01,
	SOCKS_NOT_ALLOWED = 0x02,
	SOCKS_NET_UNREACH = 0x03,
	SOCKS_HOST_UNREACH = 0x04,
	SOCKS_REFUSED = 0x05,
	SOCKS_TTL = 0x06,
	SOCKS_BAD_CMD = 0x07,
	SOCKS_BAD_ATYP = 0x08,
};

enum px_state {
	PX_GREETING,   /* SOCKS5: waiting for the method selection */
	PX_AUTH,       /* SOCKS5: waiting for the RFC 1929 username/password */
	PX_REQUEST,    /* SOCKS5: waiting for the CONNECT request */
	PX_CONNECTING, /* MPTCP handshake in progress */
	PX_ANSWER,     /* --convert: waiting for the converter's Convert message */
	PX_RELAY,
	PX_DONE, /* freed at the next idle */
};

struct px;
struct px_snap;

/* What the threads share (--threads). */
struct px_shared {
	struct svc_team team;   /* its lock guards every px's snap */
	struct px_snap *snaps;  /* one per thread (px->snap) */
	struct px_snap *report; /* SIGUSR1: the snapshots being summed (thread 0) */
	struct px *pxs;         /* one per thread, pxs[0] in the main thread */
	unsigned n;
	struct mpt_backend_group *group; /* NULL with one thread */
};

struct px_conn {
	struct px *px;
	struct px_conn *next;
	enum px_state state;
	int fd;
	struct relay_watch watch;
	struct mpt_sock *ms;
	struct mpt_endpoint client, dest;
	uint8_t in[PX_IN_MAX];
	size_t ilen;
	uint8_t ans[MPT_CONVERT_MAX_LEN + 4];
	size_t alen;
	uint64_t deadline;
	bool relayed;
	struct relay relay;
};

struct px {
	struct mpt_backend *be;
	struct mpt_stack *st;
	bool socks, redirect, tproxy;
	bool have_convert;
	struct mpt_endpoint convert;
	struct mpt_endpoint listen_ep;
	int lfd;
	struct relay_watch lwatch;
	struct svc_signals sig;
	struct px_conn *conns;
	size_t n_conns;
	struct svc_conf conf; /* --cookie, --max-conns, --buf, --connect-timeout */
	bool quiet;
	bool insecure; /* --insecure: SOCKS5 beyond loopback without authentication */
	struct relay_counters ctr;
	/* --auth-file: RFC 1929 credentials ("USER:PASSWORD" lines) */
	struct px_user {
		uint8_t name[255], pass[255];
		uint8_t nlen, plen;
	} * users;
	size_t n_users;
	const char *auth_file;
	uint64_t auth_ok, auth_failed, no_method;
	struct svc_timer timer;
	/* SOCKS5 without --convert: the stack's packets leave through the TUN
	 * into this host's kernel, which delivers those addressed to itself:
	 * the converter's built-in refusals keep SOCKS clients off the host. */
	struct dstpolicy policy;
	struct relay_watch policy_watch;
	const char *operand; /* [ADDR:]PORT from the command line or a configuration file */
	struct mpt_tool_opts o;
	/* --watch ADDR=IFNAME */
	struct {
		struct mpt_addr addr;
		char ifname[MPT_DEV_NAME_LEN];
	} watch[NLWATCH_MAX];
	size_t n_watch;
	struct nlwatch *nlw;
	struct relay_watch nlwatch;
	bool path_removed[NLWATCH_MAX];
	bool remove_pending[NLWATCH_MAX];
	uint64_t remove_at[NLWATCH_MAX];
	struct mpt_addr paths[MPT_BACKEND_MAX_PATHS]; /* every --path address */
	size_t n_paths;
	uint64_t paths_down, paths_up; /* counters: removals / re-additions */
	/* --threads */
	struct px_shared *sh;
	unsigned threads;     /* --threads (0: one per online CPU) */
	unsigned id;          /* thread number; 0 runs in the main thread */
	bool ctl;             /* this thread serves --ctl (thread 0) */
	char name[40];        /* "mpt proxy: thread I" (one thread: "mpt proxy") */
	struct svc_mate mate; /* SIGUSR1: copy the counters into snap when woken */
	struct px_snap *snap; /* its counters for SIGUSR1, under the team's lock */
	pthread_t thread;
	int rc; /* the thread's exit status (0 or 1) */
};

static const char *prog = "mpt proxy";

static void px_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: mpt proxy (--socks5 | --redirect | --tproxy) [--convert HOST:PORT]\n"
	    "                 [options] [ADDR:]PORT\n"
	    "  Accept plain TCP connections on a kernel socket at [ADDR:]PORT and carry each\n"
	    "  over MPTCP with mpt's stack on TUN devices (every --path is used).  Default\n"
	    "  ADDR: 127.0.0.1 with --socks5, 0.0.0.0 otherwise; IPv6: [ADDR]:PORT.\n"
	    "  --socks5               SOCKS5 server (RFC 1928): CONNECT; IPv4, IPv6, and domain\n"
	    "                         names that are numeric addresses\n"
	    "  --auth-file FILE       SOCKS5 username/password authentication (RFC 1929):\n"
	    "                         'USER:PASSWORD' lines; required to listen beyond\n"
	    "                         loopback\n"
	    "  --insecure             allow SOCKS5 beyond loopback without authentication\n"
	    "                         (an open proxy)\n"
	    "  --redirect             transparent: connections redirected here by iptables/nft\n"
	    "                         REDIRECT; the original destination is read with\n"
	    "                         SO_ORIGINAL_DST\n"
	    "  --tproxy               transparent: connections sent here by an iptables/nft\n"
	    "                         TPROXY rule (mangle PREROUTING, e.g. forwarded traffic);\n"
	    "                         the listening socket is IP_TRANSPARENT (needs\n"
	    "                         CAP_NET_ADMIN) and the original destination is the\n"
	    "                         accepted socket's local address\n"
	    "  --convert HOST:PORT    go through an RFC 8803 Transport Converter (`mpt convert`)\n"
	    "                         instead of connecting to the destination with MPTCP\n"
	    "  --cookie HEX           send this Cookie TLV to the converter\n"
	    "  --max-conns N          concurrent connections (default %d; more are reset)\n"
	    "  --buf BYTES            relay buffer per direction (default %u)\n"
	    "  --connect-timeout S    MPTCP connect + converter answer timeout (default 10)\n"
	    "  --msl SECONDS          TCP maximum segment lifetime: TIME-WAIT lasts 2 x MSL\n"
	    "                         (default 30 s; closed connections hold memory meanwhile)\n"
	    "  --watch ADDR=IFNAME    path ADDR (a --path address) is carried by kernel\n"
	    "                         interface IFNAME: when IFNAME goes down, loses carrier\n"
	    "                         or its addresses, ADDR is removed from the stack\n"
	    "                         (REMOVE_ADDR; with --pm mobility the connections move\n"
	    "                         to another path); it is added back when IFNAME returns.\n"
	    "                         Repeatable (netlink, libmnl)\n"
	    "  --handshake-timeout S  the SOCKS5 negotiation must be done by then (default 10)\n"
	    "  --threads N            N stacks, one per thread, sharing the TUN devices, each\n"
	    "                         with its own listening socket (SO_REUSEPORT) (1-%d;\n"
	    "                         default: one per online CPU); --max-conns is split\n"
	    "                         between them\n"
	    "  --user NAME            once the TUN devices, routes and listener exist, run as\n"
	    "                         NAME with no capabilities\n"
	    "  --config FILE          read options from FILE (one 'NAME VALUE' per line, NAME\n"
	    "                         a long option; 'listen [ADDR:]PORT' for the operand)\n"
	    "  --check                validate the configuration and the host, then exit\n"
	    "  --ctl PATH             control socket (default /run/mpt/proxy.PID.sock; none:\n"
	    "                         no socket); see mpt ss, mpt nstat, mpt monitor\n"
	    "  -q, --quiet            no per-connection log lines\n"
	    "  -h, --help             this text\n",
	    SVC_DEFAULT_MAX_CONNS, RELAY_BUF_DEFAULT, MPT_BACKEND_MAX_SHARDS);
	mpt_opts_usage(f);
	fprintf(f,
		"Counters are printed on SIGUSR1 and at exit (SIGINT/SIGTERM), summed over\n"
		"the threads.\n"
		"examples:\n"
		"  mpt proxy --socks5 --path 10.0.1.2/24 --path 10.0.2.2/24 "
		"--convert 10.0.1.1:5124 1080\n"
		"  iptables -t nat -A OUTPUT -p tcp -d 192.0.2.0/24 -j REDIRECT --to-ports 1234\n"
		"  mpt proxy --redirect --path 10.0.1.2/24 --path 10.0.2.2/24 1234\n"
		"  iptables -t mangle -A PREROUTING -p tcp -s 192.168.1.0/24 -j TPROXY "
		"--on-port 1235 --tproxy-mark 1/1\n"
		"  ip rule add fwmark 1/1 lookup 100; ip route add local 0.0.0.0/0 dev lo "
		"table 100\n"
		"  mpt proxy --tproxy --path 10.0.1.2/24 --path 10.0.2.2/24 1235\n");
}

/* ---- ending a connection before the relay -------------------------------- */

static void conn_close_client(struct px_conn *c, bool rst)
{
	if (c->fd < 0)
		return;
	relay_poller_del(c->fd);
	if (rst) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd);
	c->fd = -1;
}

static void socks_reply(struct px_conn *c, uint8_t rep)
{
	/* RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT; we report 0.0.0.0:0
	 * (the client cannot use the MPTCP side's address anyway). */
	uint8_t r[10] = {5, rep, 0, 1, 0, 0, 0, 0, 0, 0};
	(void)send(c->fd, r, sizeof(r), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Give up on c: tell the client (SOCKS5 reply code, or a RST when
 * transparent), reset the MPTCP side. */
static void conn_fail(struct px_conn *c, uint8_t socks_rep, const char *why)
{
	struct px *px = c->px;
	if (!px->quiet) {
		char cl[64], ds[64];
		fprintf(stderr, "%s: %s -> %s: failed: %s\n", prog,
			relay_fmt_ep(&c->client, cl, sizeof(cl)),
			c->dest.addr.family ? relay_fmt_ep(&c->dest, ds, sizeof(ds)) : "?", why);
	}
	bool rst = true;
	if (px->socks && c->state != PX_GREETING && c->state != PX_AUTH && c->fd >= 0) {
		/* RFC 1928 §6: the server MUST close the connection shortly
		 * after a failure reply; a FIN lets the client read it. */
		socks_reply(c, socks_rep);
		rst = false;
	}
	conn_close_client(c, rst);
	if (c->ms) {
		ctl_server_sock_closing(c->ms);
		mpt_abort(c->ms, mpt_backend_now());
		c->ms = NULL;
	}
	c->state = PX_DONE;
	c->watch.fn = NULL;
}

static uint8_t rfc_to_socks(uint8_t code)
{
	switch (code) {
	case MPT_CONVERT_ERR_NOT_AUTHORIZED:
	case MPT_CONVERT_ERR_MISSING_COOKIE:
		return SOCKS_NOT_ALLOWED;
	case MPT_CONVERT_ERR_DEST_UNREACHABLE:
		return SOCKS_HOST_UNREACH;
	case MPT_CONVERT_ERR_CONNECTION_RESET:
		return SOCKS_REFUSED;
	case MPT_CONVERT_ERR_NETWORK_FAILURE:
		return SOCKS_NET_UNREACH;
	default:
		return SOCKS_FAIL;
	}
}

static uint8_t mpt_err_to_socks(int err)
{
	switch (err) {
	case MPT_ERR_REFUSED:
	case MPT_ERR_RESET:
		return SOCKS_REFUSED;
	case MPT_ERR_TIMEDOUT:
		return SOCKS_HOST_UNREACH;
	default:
		return SOCKS_FAIL;
	}
}

/* ---- relay ----------------------------------------------------------------- */

static void start_relay(struct px_conn *c, const uint8_t *to_client, size_t to_client_len)
{
	struct px *px = c->px;
	relay_poller_del(c->fd);
	c->watch.fn = NULL;
	if (relay_init(&c->relay, px->be, c->ms, c->fd, px->conf.bufsize) < 0) {
		conn_fail(c, SOCKS_FAIL, "out of memory");
		return;
	}
	char cl[64], ds[64];
	snprintf(c->relay.tag, sizeof(c->relay.tag), "%s -> %s%s",
		 relay_fmt_ep(&c->client, cl, sizeof(cl)), relay_fmt_ep(&c->dest, ds, sizeof(ds)),
		 px->have_convert ? " (converted)" : "");
	if (px->socks) {
		static const uint8_t ok[10] = {5, SOCKS_OK, 0, 1, 0, 0, 0, 0, 0, 0};
		(void)relay_preload_m2k(&c->relay, ok, sizeof(ok));
	}
	/* Bytes the converter sent after its answer, and bytes the client sent
	 * after its SOCKS request, are already relay data. */
	(void)relay_preload_m2k(&c->relay, to_client, to_client_len);
	(void)relay_preload_k2m(&c->relay, c->in, c->ilen);
	c->relayed = true;
	c->state = PX_RELAY;
	if (px->have_convert)
		px->ctr.conversions++;
	else
		px->ctr.passthroughs++;
	if (!mpt_sock_mptcp_enabled(c->ms))
		px->ctr.fallbacks++;
	c->fd = -1;
	c->ms = NULL;
	relay_start(&c->relay);
}

/* ---- MPTCP side -------------------------------------------------------------- */

static void start_mpt(struct px_conn *c)
{
	struct px *px = c->px;
	const struct mpt_endpoint *to = px->have_convert ? &px->convert : &c->dest;
	relay_poller_del(c->fd); /* the client waits (its data stays in the kernel) */
	c->watch.fn = NULL;
	if (px->policy.host) {
		enum dp_verdict v = dp_check(&px->policy, &c->dest);
		if (!dp_allowed(v)) {
			px->ctr.local_errors++;
			conn_fail(c, SOCKS_NOT_ALLOWED, dp_verdict_name(v));
			return;
		}
	}
	int rc = mpt_connect(px->st, to, NULL, mpt_backend_now(), &c->ms);
	if (rc < 0) {
		char why[96];
		snprintf(why, sizeof(why), "mpt_connect: %s", mpt_strerror(rc));
		c->ms = NULL;
		conn_fail(c, rc == MPT_ERR_INVAL ? SOCKS_BAD_ATYP : SOCKS_FAIL, why);
		return;
	}
	mpt_sock_set_user(c->ms, c);
	c->state = PX_CONNECTING;
	c->deadline = mpt_backend_now() + px->conf.connect_ns;
}

static void send_convert(struct px_conn *c)
{
	struct px *px = c->px;
	struct mpt_convert_msg m;
	memset(&m, 0, sizeof(m));
	m.tlv[m.n_tlvs].type = MPT_CONVERT_TLV_CONNECT;
	m.tlv[m.n_tlvs].u.connect.remote = c->dest;
	m.n_tlvs++;
	if (px->conf.cookie_len) {
		m.tlv[m.n_tlvs].type = MPT_CONVERT_TLV_COOKIE;
		m.tlv[m.n_tlvs].u.cookie.data = px->conf.cookie;
		m.tlv[m.n_tlvs].u.cookie.len = (uint16_t)px->conf.cookie_len;
		m.n_tlvs++;
	}
	uint8_t buf[MPT_CONVERT_MAX_LEN];
	int n = mpt_convert_emit(buf, sizeof(buf), &m);
	if (n < 0) {
		/* e.g. a loopback or multicast destination: RFC 8803 §4.2.5. */
		conn_fail(c, SOCKS_NOT_ALLOWED, "destination cannot be sent in a Connect TLV");
		return;
	}
	/* The send buffer is empty right after the handshake: all of it fits. */
	long sent = mpt_send(c->ms, buf, (size_t)n, mpt_backend_now());
	if (sent != n) {
		conn_fail(c, SOCKS_FAIL, "cannot send the Convert message");
		return;
	}
	c->state = PX_ANSWER;
}

static void read_answer(struct px_conn *c)
{
	struct px *px = c->px;
	uint64_t now = mpt_backend_now();
	for (;;) {
		if (c->alen < sizeof(c->ans)) {
			long n = mpt_recv(c->ms, c->ans + c->alen, sizeof(c->ans) - c->alen, now);
			if (n == MPT_ERR_AGAIN)
				return;
			if (n <= 0) {
				px->ctr.local_errors++;
				conn_fail(c, SOCKS_FAIL,
					  n == 0 ? "converter closed without an answer"
						 : mpt_strerror((int)n));
				return;
			}
			c->alen += (size_t)n;
		}
		struct mpt_convert_msg m;
		size_t consumed = 0;
		int rc = mpt_convert_parse(&m, c->ans, c->alen, &consumed);
		if (rc == MPT_ERR_AGAIN)
			continue;
		if (rc < 0) {
			px->ctr.local_errors++;
			conn_fail(c, SOCKS_FAIL, "malformed answer from the converter");
			return;
		}
		const struct mpt_convert_tlv *e = mpt_convert_find(&m, MPT_CONVERT_TLV_ERROR);
		if (e) {
			px->ctr.rfc_errors[e->u.error.code]++;
			char why[96];
			snprintf(why, sizeof(why), "converter: %s",
				 relay_rfc_error_name(e->u.error.code));
			conn_fail(c, rfc_to_socks(e->u.error.code), why);
			return;
		}
		start_relay(c, c->ans + consumed, c->alen - consumed);
		return;
	}
}

/* ---- SOCKS5 (RFC 1928) ----------------------------------------------------- */

static void in_consume(struct px_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->ilen - n);
	c->ilen -= n;
}

/* Equal without an early exit: the time taken does not tell how many
 * leading bytes of a guess were right. */
static bool same_secret(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t diff = (uint8_t)(alen != blen);
	for (size_t i = 0; i < alen && i < blen; i++)
		diff |= (uint8_t)(a[i] ^ b[i]);
	return diff == 0;
}

/*
 * RFC 1929 §2: VER (1) ULEN UNAME PLEN PASSWD; the answer is VER STATUS,
 * STATUS 0 for success, and after a failure the server MUST close the
 * connection.  Returns true once authenticated (state PX_REQUEST).
 */
static bool socks_auth(struct px_conn *c)
{
	struct px *px = c->px;
	if (c->ilen < 2)
		return false;
	if (c->in[0] != 1) {
		px->ctr.local_errors++;
		conn_fail(c, SOCKS_FAIL, "not RFC 1929 version 1");
		return false;
	}
	size_t ulen = c->in[1];
	if (c->ilen < 2 + ulen + 1)
		return false;
	size_t plen = c->in[2 + ulen];
	size_t need = 3 + ulen + plen;
	if (c->ilen < need)
		return false;
	const uint8_t *user = c->in + 2, *pass = c->in + 3 + ulen;
	bool ok = false;
	for (size_t i = 0; i < px->n_users; i++) {
		/* Every entry is compared in full: no early exit either. */
		bool u = same_secret(px->users[i].name, px->users[i].nlen, user, ulen);
		bool p = same_secret(px->users[i].pass, px->users[i].plen, pass, plen);
		ok |= u && p;
	}
	uint8_t ans[2] = {1, ok ? 0x00 : 0x01};
	bool sent = send(c->fd, ans, 2, MSG_DONTWAIT | MSG_NOSIGNAL) == 2;
	if (!ok || !sent) {
		px->auth_failed++;
		px->ctr.local_errors++;
		char name[256];
		size_t n = 0;
		for (size_t i = 0; i < ulen; i++) /* log a printable form only */
			name[n++] = user[i] >= 0x20 && user[i] < 0x7f ? (char)user[i] : '?';
		name[n] = '\0';
		char why[320];
		snprintf(why, sizeof(why), "SOCKS authentication failed for user '%s'", name);
		conn_fail(c, SOCKS_FAIL, why);
		return false;
	}
	px->auth_ok++;
	/* The credentials are no longer needed in the buffer. */
	memset(c->in, 0, need);
	in_consume(c, need);
	c->state = PX_REQUEST;
	return true;
}

/* Returns true when the request is complete and c->dest is set. */
static bool socks_parse(struct px_conn *c)
{
	if (c->state == PX_GREETING) {
		/* §3: VER NMETHODS METHODS... */
		if (c->ilen < 2)
			return false;
		if (c->in[0] != 5) {
			c->px->ctr.local_errors++;
			conn_fail(c, SOCKS_FAIL, "not SOCKS version 5");
			return false;
		}
		size_t need = 2u + c->in[1];
		if (c->ilen < need)
			return false;
		/* §3: the server selects one of the offered methods, or 0xFF.
		 * With --auth-file only username/password (0x02, RFC 1929) is
		 * acceptable, else only "no authentication" (0x00). */
		uint8_t want = c->px->n_users ? 0x02 : 0x00;
		bool offered = memchr(c->in + 2, want, c->in[1]) != NULL;
		uint8_t sel[2] = {5, offered ? want : 0xff};
		if (send(c->fd, sel, 2, MSG_DONTWAIT | MSG_NOSIGNAL) != 2 || !offered) {
			c->px->ctr.local_errors++;
			c->px->no_method++;
			conn_fail(c, SOCKS_FAIL,
				  c->px->n_users
				      ? "no acceptable SOCKS method (username/password required)"
				      : "no acceptable SOCKS method (only 'no authentication')");
			return false;
		}
		in_consume(c, need);
		c->state = c->px->n_users ? PX_AUTH : PX_REQUEST;
	}
	if (c->state == PX_AUTH && !socks_auth(c))
		return false;
	/* §4: VER CMD RSV ATYP DST.ADDR DST.PORT */
	if (c->ilen < 5)
		return false;
	size_t alen;
	switch (c->in[3]) {
	case 1:
		alen = 4;
		break;
	case 4:
		alen = 16;
		break;
	case 3:
		alen = 1u + c->in[4];
		break;
	default:
		c->px->ctr.local_errors++;
		conn_fail(c, SOCKS_BAD_ATYP, "unknown SOCKS address type");
		return false;
	}
	size_t need = 4 + alen + 2;
	if (c->ilen < need)
		return false;
	if (c->in[0] != 5 || c->in[1] != 1) {
		c->px->ctr.local_errors++;
		conn_fail(c, SOCKS_BAD_CMD, "only the SOCKS CONNECT command is supported");
		return false;
	}
	memset(&c->dest, 0, sizeof(c->dest));
	const uint8_t *a = c->in + 4;
	if (c->in[3] == 1) {
		c->dest.addr.family = 4;
		memcpy(c->dest.addr.bytes, a, 4);
	} else if (c->in[3] == 4) {
		c->dest.addr.family = 6;
		memcpy(c->dest.addr.bytes, a, 16);
	} else {
		/* A domain name: only a numeric address is accepted (no DNS). */
		char name[256];
		memcpy(name, a + 1, a[0]);
		name[a[0]] = '\0';
		if (mpt_addr_parse(&c->dest.addr, name) < 0) {
			c->px->ctr.local_errors++;
			conn_fail(c, SOCKS_BAD_ATYP,
				  "domain names are not resolved (numeric only)");
			return false;
		}
	}
	c->dest.port = (uint16_t)(c->in[4 + alen] << 8 | c->in[5 + alen]);
	in_consume(c, need);
	return true;
}

static void on_client(void *ud, uint32_t events)
{
	struct px_conn *c = ud;
	(void)events;
	if (c->state != PX_GREETING && c->state != PX_AUTH && c->state != PX_REQUEST)
		return;
	for (;;) {
		if (c->ilen == sizeof(c->in)) {
			c->px->ctr.local_errors++;
			conn_fail(c, SOCKS_FAIL, "SOCKS negotiation too long");
			return;
		}
		ssize_t n = recv(c->fd, c->in + c->ilen, sizeof(c->in) - c->ilen, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->px->ctr.local_errors++;
			conn_fail(c, SOCKS_FAIL, "client closed during SOCKS negotiation");
			return;
		}
		c->ilen += (size_t)n;
		if (socks_parse(c)) {
			start_mpt(c);
			return;
		}
		if (c->state == PX_DONE)
			return;
	}
}

/* ---- accepting ------------------------------------------------------------- */

static int original_dst(int fd, struct mpt_endpoint *dst)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &sl) < 0) {
		sl = sizeof(ss);
		if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &sl) < 0)
			return -1;
	}
	return relay_endpoint(&ss, dst);
}

/* Whether addr is one of this host's own addresses: binding to it (port 0,
 * without IP_TRANSPARENT) works only then. */
static bool addr_is_local(const struct mpt_endpoint *addr)
{
	struct mpt_endpoint e = *addr;
	struct sockaddr_storage ss;
	e.port = 0;
	socklen_t sl = relay_sockaddr(&e, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool local = bind(fd, (struct sockaddr *)&ss, sl) == 0;
	close(fd);
	return local;
}

/*
 * TPROXY: the kernel delivered the connection to our IP_TRANSPARENT listener
 * without rewriting it, so the accepted socket's local address is the
 * address the client connected to.  A connection made to the proxy port on
 * one of the host's own addresses (not intercepted, or intercepted on its
 * way to us) would relay to ourselves: refused.  Returns -1 with dst unset
 * (family 0) when getsockname fails, -1 with dst set for such a loop.
 */
static int tproxy_dst(const struct px *px, int fd, struct mpt_endpoint *dst)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	memset(dst, 0, sizeof(*dst));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 || relay_endpoint(&ss, dst) < 0) {
		memset(dst, 0, sizeof(*dst));
		return -1;
	}
	if (dst->port == px->listen_ep.port && addr_is_local(dst))
		return -1;
	return 0;
}

static void accept_one(struct px *px, int fd, const struct sockaddr_storage *peer)
{
	px->ctr.accepted++;
	struct px_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		px->ctr.local_errors++;
		close(fd);
		return;
	}
	c->px = px;
	c->fd = fd;
	c->watch.fn = on_client;
	c->watch.ud = c;
	(void)relay_endpoint(peer, &c->client);
	c->deadline = mpt_backend_now() + px->conf.handshake_ns;
	c->next = px->conns;
	px->conns = c;
	px->n_conns++;
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (px->n_conns > px->conf.max_conns) {
		px->ctr.local_errors++;
		c->state = PX_GREETING; /* no SOCKS reply: just a RST */
		conn_fail(c, SOCKS_FAIL, "--max-conns reached");
		return;
	}
	if (px->tproxy) {
		if (tproxy_dst(px, fd, &c->dest) < 0) {
			px->ctr.local_errors++;
			c->state = PX_GREETING;
			conn_fail(c, SOCKS_FAIL,
				  c->dest.addr.family ? "connection was not sent by TPROXY"
						      : "getsockname failed");
			return;
		}
		c->state = PX_CONNECTING;
		start_mpt(c);
		return;
	}
	if (px->redirect) {
		struct mpt_endpoint self;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (original_dst(fd, &c->dest) < 0) {
			px->ctr.local_errors++;
			c->state = PX_GREETING;
			conn_fail(c, SOCKS_FAIL, "no original destination (not redirected?)");
			return;
		}
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    relay_endpoint(&ss, &self) == 0 && self.port == c->dest.port &&
		    mpt_addr_equal(&self.addr, &c->dest.addr)) {
			/* Connected to the proxy itself: relaying would loop. */
			px->ctr.local_errors++;
			c->state = PX_GREETING;
			conn_fail(c, SOCKS_FAIL, "connection was not redirected");
			return;
		}
		c->state = PX_CONNECTING;
		start_mpt(c);
		return;
	}
	c->state = PX_GREETING;
	if (relay_poller_add(fd, EPOLLIN, &c->watch) < 0) {
		px->ctr.local_errors++;
		conn_fail(c, SOCKS_FAIL, "epoll");
	}
}

static void on_listen(void *ud, uint32_t events)
{
	struct px *px = ud;
	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t sl = sizeof(peer);
		int fd =
		    accept4(px->lfd, (struct sockaddr *)&peer, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or EMFILE etc.: retried on the next event */
		accept_one(px, fd, &peer);
	}
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	(void)ud;
	ctl_server_on_event(s, ev); /* path-manager events for mpt monitor */
	struct px_conn *c = mpt_sock_get_user(s);
	if (!c)
		return;
	switch (c->state) {
	case PX_CONNECTING:
		if (ev & MPT_EV_ERROR) {
			int err = mpt_sock_error(s);
			c->px->ctr.local_errors++;
			conn_fail(c, mpt_err_to_socks(err), mpt_strerror(err));
			return;
		}
		if (ev & MPT_EV_CONNECTED) {
			if (c->px->have_convert) {
				send_convert(c);
				if (c->state == PX_ANSWER)
					read_answer(c);
			} else {
				start_relay(c, NULL, 0);
			}
		}
		break;
	case PX_ANSWER:
		if (ev & MPT_EV_ERROR) {
			int err = mpt_sock_error(s);
			c->px->ctr.local_errors++;
			conn_fail(c, mpt_err_to_socks(err), mpt_strerror(err));
			return;
		}
		if (ev & (MPT_EV_READABLE | MPT_EV_CLOSED))
			read_answer(c);
		break;
	case PX_RELAY:
		relay_on_mpt_event(&c->relay, ev);
		break;
	case PX_GREETING:
	case PX_AUTH:
	case PX_REQUEST:
	case PX_DONE:
		break;
	}
}

/* ---- link watching (--watch) --------------------------------------------- */

/* How long a removal waits for the new subflows (make before the stack
 * breaks the old ones) before it happens anyway. */
#define PX_HANDOVER_NS (2 * MPT_NS_PER_S)

static struct mpt_sock *conn_sock(const struct px_conn *c)
{
	if (c->state == PX_RELAY)
		return c->relay.end == RELAY_RUNNING ? c->relay.ms : NULL;
	if (c->state == PX_CONNECTING || c->state == PX_ANSWER)
		return c->ms;
	return NULL;
}

/* The control server's view of our connections (mpt ss): every MPTCP side
 * still open (the clients' side is kernel TCP, in ss(8)). */
static size_t list_socks(void *ud, struct mpt_sock **out, size_t max)
{
	const struct px *px = ud;
	size_t n = 0;
	for (const struct px_conn *c = px->conns; c && n < max; c = c->next) {
		struct mpt_sock *s = conn_sock(c);
		if (s)
			out[n++] = s;
	}
	return n;
}

/* A path address still usable for new subflows, other than `gone`. */
static const struct mpt_addr *surviving_addr(const struct px *px, const struct mpt_addr *gone)
{
	for (size_t i = 0; i < px->n_paths; i++) {
		const struct mpt_addr *a = &px->paths[i];
		if (a->family != gone->family || mpt_addr_equal(a, gone))
			continue;
		bool ok = true;
		for (size_t w = 0; w < px->n_watch; w++)
			if (mpt_addr_equal(&px->watch[w].addr, a) &&
			    (px->path_removed[w] || px->remove_pending[w]))
				ok = false;
		if (ok)
			return a;
	}
	return NULL;
}

/* Whether connection socket s has a subflow on address a, and whether it
 * has an active one elsewhere. */
static void sock_paths(struct mpt_sock *s, const struct mpt_addr *a, bool *on_a,
		       bool *active_elsewhere)
{
	struct mpt_subflow_info sf[16];
	*on_a = *active_elsewhere = false;
	int n = mpt_sock_subflows(s, sf, 16);
	for (int i = 0; i < n && i < 16; i++) {
		if (mpt_addr_equal(&sf[i].local.addr, a))
			*on_a = true;
		else if (sf[i].active)
			*active_elsewhere = true;
	}
}

static void remove_path(struct px *px, size_t idx, const char *how)
{
	const struct mpt_addr *a = nlwatch_addr(px->nlw, idx);
	char as[64];
	mpt_addr_format(a, as, sizeof(as));
	px->remove_pending[idx] = false;
	/* RFC 8684 §3.4.2: the address is gone; every connection closes its
	 * subflows on it (their data is reinjected on the others) and sends
	 * REMOVE_ADDR on another subflow. */
	int rc = mpt_stack_remove_local_addr(px->st, a, mpt_backend_now());
	if (rc == 0) {
		px->path_removed[idx] = true;
		px->paths_down++;
	}
	fprintf(stderr, "%s: path %s (%s): address removed (%s)%s%s\n", px->name, as,
		nlwatch_ifname(px->nlw, idx), how, rc < 0 ? ": " : "",
		rc < 0 ? mpt_strerror(rc) : "");
}

/*
 * The link under path idx went away.  mpt's stack ends a connection whose
 * last subflow is removed, so the tool makes before it lets the stack break:
 * each MPTCP connection with a subflow on the lost address gets a new
 * subflow (MP_JOIN, mpt_pm_subflow_open) from a surviving address at once,
 * and the address is removed (REMOVE_ADDR, old subflows reset, their data
 * reinjected) as soon as every such connection has an active subflow
 * elsewhere, or after PX_HANDOVER_NS.  The path manager (--pm mobility)
 * makes the new subflow the active one and the old ones backup (MP_PRIO).
 */
static void path_down(struct px *px, size_t idx)
{
	const struct mpt_addr *a = nlwatch_addr(px->nlw, idx);
	const struct mpt_addr *to = surviving_addr(px, a);
	uint64_t now = mpt_backend_now();
	char as[64], ts[64];
	mpt_addr_format(a, as, sizeof(as));
	int opened = 0, waiting = 0;
	for (struct px_conn *c = px->conns; c && to; c = c->next) {
		struct mpt_sock *s = conn_sock(c);
		bool on_a, elsewhere;
		if (!s || !mpt_sock_mptcp_enabled(s))
			continue;
		sock_paths(s, a, &on_a, &elsewhere);
		if (!on_a)
			continue;
		waiting++;
		if (elsewhere)
			continue;
		struct mpt_endpoint l, r;
		mpt_sock_endpoints(s, &l, &r);
		if (mpt_pm_subflow_open(s, to, &r, false, now) == 0)
			opened++;
	}
	fprintf(stderr, "%s: path %s (%s): %s: %d connection(s) on it, %d new subflow(s) from %s\n",
		px->name, as, nlwatch_ifname(px->nlw, idx), nlwatch_why(px->nlw, idx), waiting,
		opened, to ? mpt_addr_format(to, ts, sizeof(ts)) : "(no other path)");
	if (!waiting) {
		remove_path(px, idx, "no connection on it");
		return;
	}
	px->remove_pending[idx] = true;
	px->remove_at[idx] = now + PX_HANDOVER_NS;
}

/* From the idle callback: removals waiting for new subflows. */
static void handover_check(struct px *px, uint64_t now)
{
	for (size_t i = 0; i < px->n_watch; i++) {
		if (!px->remove_pending[i])
			continue;
		if (now >= px->remove_at[i]) {
			remove_path(px, i, "handover timed out");
			continue;
		}
		const struct mpt_addr *a = nlwatch_addr(px->nlw, i);
		bool ready = true;
		for (struct px_conn *c = px->conns; c && ready; c = c->next) {
			struct mpt_sock *s = conn_sock(c);
			bool on_a, elsewhere;
			if (!s || !mpt_sock_mptcp_enabled(s))
				continue;
			sock_paths(s, a, &on_a, &elsewhere);
			if (on_a && !elsewhere)
				ready = false;
		}
		if (ready)
			remove_path(px, i, "new subflows active");
	}
}

static void on_link(void *ud, size_t idx, bool up)
{
	struct px *px = ud;
	if (!up) {
		path_down(px, idx);
		return;
	}
	const struct mpt_addr *a = nlwatch_addr(px->nlw, idx);
	char as[64];
	mpt_addr_format(a, as, sizeof(as));
	if (px->remove_pending[idx]) {
		/* Back before it was removed: nothing to undo. */
		px->remove_pending[idx] = false;
		fprintf(stderr, "%s: path %s (%s): up again before the removal\n", px->name, as,
			nlwatch_ifname(px->nlw, idx));
		return;
	}
	/* RFC 6897 §5.3: a new (or returning) address may carry new
	 * subflows. */
	int rc = mpt_stack_add_local_addr(px->st, a, mpt_backend_now());
	if (rc == 0 || rc == MPT_ERR_EXIST) {
		px->path_removed[idx] = false;
		px->paths_up++;
	}
	fprintf(stderr, "%s: path %s (%s): up: address added%s%s\n", px->name, as,
		nlwatch_ifname(px->nlw, idx), rc < 0 ? ": " : "", rc < 0 ? mpt_strerror(rc) : "");
}

static void on_netlink(void *ud, uint32_t events)
{
	struct px *px = ud;
	(void)events;
	if (nlwatch_process(px->nlw) < 0)
		fprintf(stderr, "%s: netlink: %s\n", px->name, strerror(errno));
}

static int parse_watch(struct px *px, const char *where, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char as[64];
	if (px->n_watch >= NLWATCH_MAX) {
		fprintf(stderr, "%s: at most %d --watch options\n", where, NLWATCH_MAX);
		return -1;
	}
	if (!eq || (size_t)(eq - arg) >= sizeof(as) || !eq[1] ||
	    strlen(eq + 1) >= MPT_DEV_NAME_LEN) {
		fprintf(stderr, "%s: --watch: expected ADDR=IFNAME, not '%s'\n", where, arg);
		return -1;
	}
	memcpy(as, arg, (size_t)(eq - arg));
	as[eq - arg] = '\0';
	if (mpt_addr_parse(&px->watch[px->n_watch].addr, as) < 0) {
		fprintf(stderr, "%s: --watch: '%s' is not an IPv4 or IPv6 address\n", where, as);
		return -1;
	}
	snprintf(px->watch[px->n_watch].ifname, MPT_DEV_NAME_LEN, "%s", eq + 1);
	px->n_watch++;
	return 0;
}

/* Open px's netlink watcher (each thread its own: its stack and its
 * connections are only touched by its thread) and read the links' state;
 * in the main thread, before the privileges go. */
static int watch_open(struct px *px)
{
	if (!px->n_watch)
		return 0;
	px->nlw = nlwatch_open(on_link, px);
	if (!px->nlw) {
		fprintf(stderr, "%s: netlink: %s\n", px->name, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < px->n_watch; i++)
		(void)nlwatch_add(px->nlw, &px->watch[i].addr, px->watch[i].ifname);
	if (nlwatch_sync(px->nlw) < 0) {
		fprintf(stderr, "%s: netlink: %s\n", px->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* In px's own thread: paths whose link is down at start are removed at once
 * (the path manager must not open subflows there), then link events are
 * watched. */
static int watch_start(struct px *px)
{
	if (!px->nlw)
		return 0;
	for (size_t i = 0; i < px->n_watch; i++) {
		char as[64];
		mpt_addr_format(&px->watch[i].addr, as, sizeof(as));
		fprintf(stderr, "%s: watching %s for path %s: %s\n", px->name, px->watch[i].ifname,
			as, nlwatch_why(px->nlw, i));
		if (!nlwatch_is_up(px->nlw, i))
			remove_path(px, i, "down at start");
	}
	px->nlwatch.fn = on_netlink;
	px->nlwatch.ud = px;
	if (relay_poller_add(nlwatch_fd(px->nlw), EPOLLIN, &px->nlwatch) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", px->name, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *const px_stack_counters[] = {"MPJoinSynTx", "RmAddrTx", "MPPrioTx", NULL};
#define PX_N_STACK_COUNTERS (sizeof(px_stack_counters) / sizeof(px_stack_counters[0]) - 1)

/* What one thread's counters say at one moment: taken by the thread itself
 * (or after it ended), so that another thread can add them up. */
struct px_snap {
	struct relay_counters ctr;
	uint64_t paths_down, paths_up;
	uint64_t auth_ok, auth_failed, no_method;
	bool policy;
	uint64_t refused;
	uint64_t stack[PX_N_STACK_COUNTERS];
	bool stack_known[PX_N_STACK_COUNTERS];
	struct mpt_backend_stats bs;
};

static void px_snap_take(const struct px *px, struct px_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->ctr = px->ctr;
	s->paths_down = px->paths_down;
	s->paths_up = px->paths_up;
	s->auth_ok = px->auth_ok;
	s->auth_failed = px->auth_failed;
	s->no_method = px->no_method;
	s->policy = px->policy.host != NULL;
	for (int v = 0; v < DP_N_VERDICTS; v++)
		s->refused += dp_allowed(v) ? 0 : px->policy.count[v];
	for (size_t k = 0; k < PX_N_STACK_COUNTERS; k++)
		s->stack_known[k] = px->st && mpt_stack_counter_by_name(
						  px->st, px_stack_counters[k], &s->stack[k]) == 0;
	if (px->be)
		mpt_backend_stats(px->be, &s->bs);
}

/*
 * The counters of n threads' snapshots, one "PROG: counter NAME VALUE" line
 * each: with one thread exactly the lines of the proxy before it had
 * threads (scripts parse them); with several, the sums, then the number of
 * threads, the connections each accepted and the backend group's
 * hand-overs.  paths-removed and paths-added count link events, which
 * every thread acts on: the largest count, not the sum.
 */
static void px_snaps_print(const struct px *px, const struct px_snap *snaps, unsigned n)
{
	struct px_snap *sum = calloc(1, sizeof(*sum)); /* large: not on the stack */
	if (!sum)
		return;
	for (unsigned i = 0; i < n; i++) {
		const struct px_snap *s = &snaps[i];
		relay_counters_add(&sum->ctr, &s->ctr);
		if (s->paths_down > sum->paths_down)
			sum->paths_down = s->paths_down;
		if (s->paths_up > sum->paths_up)
			sum->paths_up = s->paths_up;
		sum->auth_ok += s->auth_ok;
		sum->auth_failed += s->auth_failed;
		sum->no_method += s->no_method;
		sum->policy |= s->policy;
		sum->refused += s->refused;
		for (size_t k = 0; k < PX_N_STACK_COUNTERS; k++) {
			sum->stack[k] += s->stack[k];
			sum->stack_known[k] |= s->stack_known[k];
		}
		sum->bs.steer_out += s->bs.steer_out;
		sum->bs.steer_in += s->bs.steer_in;
		sum->bs.steer_drops += s->bs.steer_drops;
	}
	relay_counters_print(&sum->ctr, prog);
	if (px->n_watch) {
		fprintf(stderr, "%s: counter paths-removed %" PRIu64 "\n", prog, sum->paths_down);
		fprintf(stderr, "%s: counter paths-added %" PRIu64 "\n", prog, sum->paths_up);
	}
	if (px->socks) {
		fprintf(stderr, "%s: counter socks-auth-ok %" PRIu64 "\n", prog, sum->auth_ok);
		fprintf(stderr, "%s: counter socks-auth-failed %" PRIu64 "\n", prog,
			sum->auth_failed);
		fprintf(stderr, "%s: counter socks-no-acceptable-method %" PRIu64 "\n", prog,
			sum->no_method);
	}
	if (sum->policy)
		fprintf(stderr, "%s: counter socks-destination-refused %" PRIu64 "\n", prog,
			sum->refused);
	for (size_t k = 0; k < PX_N_STACK_COUNTERS; k++)
		if (sum->stack_known[k])
			fprintf(stderr, "%s: counter stack-%s %" PRIu64 "\n", prog,
				px_stack_counters[k], sum->stack[k]);
	if (n > 1) {
		fprintf(stderr, "%s: counter threads %u\n", prog, n);
		/* How the kernel spread the clients over the listening sockets. */
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, "%s: counter thread%u-accepted %" PRIu64 "\n", prog, i,
				snaps[i].ctr.accepted);
		svc_steer_print(prog, &sum->bs);
	}
	free(sum);
}

static struct svc_mate *px_mate(void *ud, unsigned i)
{
	struct px_shared *sh = ud;
	return &sh->pxs[i].mate;
}

/* Under the team's lock: the other threads' snapshots, as they are. */
static void px_snaps_copy(void *ud)
{
	struct px_shared *sh = ud;
	for (unsigned i = 1; i < sh->n; i++)
		if (sh->pxs[i].mate.started)
			sh->report[i] = *sh->pxs[i].snap;
}

/* SIGUSR1, in the main thread (thread 0's loop): the counters summed over
 * every thread (svc_team_collect: each thread copies its own). */
static void px_report(void *ud)
{
	struct px_shared *sh = ud;
	sh->report = calloc(sh->n, sizeof(*sh->report));
	if (!sh->report)
		return;
	px_snap_take(&sh->pxs[0], &sh->report[0]);
	svc_team_collect(&sh->team, sh->n, px_mate, px_snaps_copy, sh, prog);
	px_snaps_print(&sh->pxs[0], sh->report, sh->n);
	free(sh->report);
	sh->report = NULL;
}

static void px_take(void *ud)
{
	struct px *px = ud;
	px_snap_take(px, px->snap);
}

/* mpt_backend_wake() landed in this thread's loop: SIGUSR1 wants our
 * counters, or the control socket our part of an answer (thread 0: the
 * others' parts are in). */
static void px_on_wake(void *ud)
{
	struct px *px = ud;
	svc_team_answer(&px->sh->team, &px->mate, px_take, px);
	ctl_server_on_wake(px->id);
}

static bool on_idle(void *ud)
{
	struct px *px = ud;
	uint64_t now = mpt_backend_now();
	relay_mem_trim(now);
	if (px->nlw)
		handover_check(px, now);
	uint64_t next = MPT_TIME_NEVER;
	struct px_conn **pp = &px->conns;
	while (*pp) {
		struct px_conn *c = *pp;
		if (c->state == PX_RELAY && relay_done(&c->relay))
			c->state = PX_DONE;
		if (c->state != PX_DONE && c->state != PX_RELAY && now >= c->deadline) {
			px->ctr.handshake_timeouts++;
			conn_fail(c, SOCKS_HOST_UNREACH,
				  c->state == PX_GREETING || c->state == PX_AUTH ||
					  c->state == PX_REQUEST
				      ? "SOCKS negotiation timed out"
				      : "MPTCP connection / converter answer timed out");
		}
		if (c->state != PX_DONE) {
			if (c->state != PX_RELAY && c->deadline < next)
				next = c->deadline;
			pp = &c->next;
			continue;
		}
		if (c->relayed) {
			relay_account(&px->ctr, &c->relay, px->quiet ? NULL : prog);
			relay_free(&c->relay);
		}
		*pp = c->next;
		px->n_conns--;
		free(c);
	}
	for (size_t i = 0; i < px->n_watch; i++)
		if (px->remove_pending[i] && px->remove_at[i] < next)
			next = px->remove_at[i];
	/* The negotiation deadlines wake the loop even when nothing else
	 * does (a client that announces 255 methods and sends one). */
	svc_timer_arm(&px->timer, next);
	return false;
}

/* ---- entry point ----------------------------------------------------------- */

/* reuseport: one of several threads' listeners on the same address. */
static int open_listener(struct px *px, bool reuseport)
{
	struct sockaddr_storage ss;
	socklen_t sl = relay_sockaddr(&px->listen_ep, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1, zero = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Before bind, on every socket of the group: the kernel then lets
	 * them all bind the address and spreads new connections over them. */
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (px->tproxy) {
		/* Before bind: TPROXY hands the listener connections addressed to
		 * any (non-local) address; the kernel accepts them only on a
		 * transparent socket.  IPv6 has its own option; a dual-stack
		 * socket also takes IP_TRANSPARENT for its v4-mapped side. */
		int rc = ss.ss_family == AF_INET6
			     ? setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one))
			     : setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
		if (rc == 0 && ss.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
		if (rc < 0) {
			int e = errno;
			fprintf(stderr, "%s: IP_TRANSPARENT: %s (--tproxy needs CAP_NET_ADMIN)\n",
				prog, strerror(e));
			close(fd);
			errno = e;
			return -1;
		}
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

enum {
	OPT_SOCKS5 = 0x2000,
	OPT_REDIRECT,
	OPT_TPROXY,
	OPT_CONVERT,
	OPT_WATCH,
	OPT_AUTH_FILE,
	OPT_INSECURE,
	OPT_THREADS,
};

static int parse_listen(const char *arg, bool socks, struct mpt_endpoint *ep)
{
	char *end;
	errno = 0;
	long p = strtol(arg, &end, 10);
	if (!errno && end != arg && !*end) {
		if (p < 1 || p > 65535)
			return -1;
		memset(ep, 0, sizeof(*ep));
		ep->addr.family = 4;
		if (socks) {
			ep->addr.bytes[0] = 127;
			ep->addr.bytes[3] = 1;
		}
		ep->port = (uint16_t)p;
		return 0;
	}
	return relay_parse_hostport(arg, ep);
}

static bool is_loopback(const struct mpt_addr *a)
{
	static const uint8_t v6lo[16] = {[15] = 1};
	return (a->family == 4 && a->bytes[0] == 127) ||
	       (a->family == 6 && !memcmp(a->bytes, v6lo, 16));
}

/*
 * --auth-file: "USER:PASSWORD" per line (RFC 1929: 1 to 255 bytes each; the
 * user name cannot contain ':'), '#' comments, blank lines.  Errors name
 * FILE:LINE.  A file others may read is worth a warning: it holds
 * passwords.
 */
static int load_auth(struct px *px, const char *where, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "%s: --auth-file: %s: %s\n", where, path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077))
		fprintf(stderr,
			"%s: warning: --auth-file %s can be read by other users (mode %03o): "
			"chmod 600 it\n",
			where, path, (unsigned)(st.st_mode & 0777));
	char line[1024];
	unsigned ln = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), fp)) {
		ln++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			fprintf(stderr, "%s: %s:%u: line too long\n", where, path, ln);
			rc = -1;
			break;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		const char *colon = strchr(p, ':');
		size_t ulen = colon ? (size_t)(colon - p) : 0;
		size_t plen = colon ? strlen(colon + 1) : 0;
		if (!colon || ulen < 1 || ulen > 255 || plen < 1 || plen > 255) {
			fprintf(
			    stderr,
			    "%s: %s:%u: expected USER:PASSWORD (each 1 to 255 bytes, RFC 1929)\n",
			    where, path, ln);
			rc = -1;
			break;
		}
		if (px->n_users >= PX_MAX_USERS) {
			fprintf(stderr, "%s: %s:%u: more than %d users\n", where, path, ln,
				PX_MAX_USERS);
			rc = -1;
			break;
		}
		struct px_user *u = &px->users[px->n_users++];
		memcpy(u->name, p, ulen);
		u->nlen = (uint8_t)ulen;
		memcpy(u->pass, colon + 1, plen);
		u->plen = (uint8_t)plen;
	}
	memset(line, 0, sizeof(line));
	fclose(fp);
	if (rc == 0 && px->n_users == 0) {
		fprintf(stderr, "%s: --auth-file %s: no USER:PASSWORD line\n", where, path);
		rc = -1;
	}
	return rc;
}

static void on_policy(void *ud, uint32_t events)
{
	struct px *px = ud;
	(void)events;
	if (dp_process(&px->policy) < 0)
		fprintf(stderr, "%s: netlink (host addresses): %s\n", prog, strerror(errno));
}

/* One option, from the command line or a configuration file. */
static int px_opt(void *ud, const char *where, int ch, const char *arg)
{
	struct px *px = ud;
	switch (ch) {
	case 'q':
		px->quiet = true;
		return 0;
	case OPT_SOCKS5:
		px->socks = true;
		return 0;
	case OPT_REDIRECT:
		px->redirect = true;
		return 0;
	case OPT_TPROXY:
		px->tproxy = true;
		return 0;
	case OPT_INSECURE:
		px->insecure = true;
		return 0;
	case OPT_CONVERT:
		if (relay_parse_hostport(arg, &px->convert) < 0) {
			fprintf(stderr,
				"%s: --convert: '%s' is not ADDR:PORT ([ADDR]:PORT for IPv6)\n",
				where, arg);
			return 2;
		}
		px->have_convert = true;
		return 0;
	case OPT_WATCH:
		return parse_watch(px, where, arg) < 0 ? 2 : 0;
	case OPT_THREADS: {
		unsigned long v;
		if (svc_parse_ulong(where, "--threads", arg, 1, MPT_BACKEND_MAX_SHARDS, "", "",
				    &v) < 0)
			return 2;
		px->threads = (unsigned)v;
		return 0;
	}
	case OPT_AUTH_FILE:
		if (px->auth_file) {
			fprintf(stderr, "%s: --auth-file given twice\n", where);
			return 2;
		}
		px->auth_file = arg;
		return load_auth(px, where, arg) < 0 ? 2 : 0;
	default:
		return svc_conf_opt(&px->conf, &px->o, where, ch, arg, px_usage) ? 2 : 0;
	}
}

/* Whether the listening address can be bound now (nothing else holds it). */
static void check_listen(struct svc_check *ck, const struct px *px)
{
	char ep[64];
	relay_fmt_ep(&px->listen_ep, ep, sizeof(ep));
	struct sockaddr_storage ss;
	socklen_t sl = relay_sockaddr(&px->listen_ep, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0)
		svc_check_problem(ck, "cannot listen on %s: %s", ep, strerror(errno));
	else
		svc_check_ok(ck, "%s can be listened on", ep);
	if (fd >= 0)
		close(fd);
}

static int px_check(struct px *px)
{
	struct svc_check ck = {.prog = prog};
	check_listen(&ck, px);
	svc_check_ok(&ck, "%u thread(s), up to %zu connections each", px->threads,
		     (px->conf.max_conns + px->threads - 1) / px->threads);
	if (px->socks) {
		if (px->n_users)
			svc_check_ok(&ck, "SOCKS5 username/password required (%zu user(s))",
				     px->n_users);
		else if (is_loopback(&px->listen_ep.addr))
			svc_check_ok(&ck, "SOCKS5 without authentication on loopback only");
		else
			svc_check_warn(&ck, "SOCKS5 without authentication beyond loopback "
					    "(--insecure): an open proxy");
	}
	if (px->have_convert) {
		char cv[64];
		svc_check_ok(&ck, "through the converter at %s%s",
			     relay_fmt_ep(&px->convert, cv, sizeof(cv)),
			     px->conf.cookie_len ? " with a cookie" : "");
	}
	svc_check_host(&ck, &px->o.be, &px->conf.user);
	return svc_check_finish(&ck);
}

/* Thread i's own set-up, in its own thread: the relay poller is per
 * thread, and so are the descriptors it watches. */
static int px_setup(struct px *px)
{
	px->lwatch.fn = on_listen;
	px->lwatch.ud = px;
	if (relay_poller_init(px->be) < 0 || relay_poller_add(px->lfd, EPOLLIN, &px->lwatch) < 0 ||
	    svc_timer_open(&px->timer) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", px->name, strerror(errno));
		return -1;
	}
	if (watch_start(px) < 0)
		return -1;
	if (px->policy.host) {
		px->policy_watch.fn = on_policy;
		px->policy_watch.ud = px;
		if (relay_poller_add(dp_fd(&px->policy), EPOLLIN, &px->policy_watch) < 0) {
			fprintf(stderr, "%s: epoll: %s\n", px->name, strerror(errno));
			return -1;
		}
	}
	mpt_backend_set_idle(px->be, on_idle, px);
	return 0;
}

/* After the thread's loop ended, in the thread: close every connection
 * (relayed ones are counted) and the thread's descriptors.  The backend
 * and its stack stay for the counters. */
static void px_teardown(struct px *px)
{
	for (struct px_conn *c = px->conns; c; c = c->next) {
		if (c->state == PX_RELAY) {
			relay_abort(&c->relay);
			relay_account(&px->ctr, &c->relay, px->quiet ? NULL : prog);
			relay_free(&c->relay);
		} else if (c->fd >= 0) {
			close(c->fd);
		}
	}
	while (px->conns) {
		struct px_conn *c = px->conns;
		px->conns = c->next;
		free(c);
	}
	px->n_conns = 0;
	if (px->nlw)
		relay_poller_del(nlwatch_fd(px->nlw));
	svc_timer_close(&px->timer);
	if (dp_fd(&px->policy) >= 0)
		relay_poller_del(dp_fd(&px->policy));
	if (px->lfd >= 0)
		relay_poller_del(px->lfd);
	relay_poller_fini(px->be);
}

/* Threads 1 .. n-1.  A failure stops the whole proxy (thread 0's loop
 * returns, and it stops the others). */
static void *px_thread(void *ud)
{
	struct px *px = ud;
	px->rc = 1;
	if (px_setup(px) == 0)
		px->rc = mpt_backend_run(px->be) == 0 ? 0 : 1;
	px_teardown(px);
	if (px->rc)
		mpt_backend_wake(px->sh->pxs[0].be, true, 1);
	return NULL;
}

/*
 * Several SO_REUSEPORT listeners would share the address with any other
 * socket of this user that has the option too (another `mpt proxy` started
 * by mistake on the same port would take half of the clients, silently).
 * A socket without the option can bind only where nobody listens: try one
 * first, so that a taken address fails as it does with one thread.
 */
static int listen_probe(const struct px *px)
{
	struct sockaddr_storage ss;
	socklen_t sl = relay_sockaddr(&px->listen_ep, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1, zero = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (px->tproxy) {
		/* A non-local address (TPROXY's listeners may have one) binds
		 * only on a transparent socket. */
		(void)setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
		if (ss.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
	}
	int rc = bind(fd, (struct sockaddr *)&ss, sl);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int mpt_cmd_proxy(int argc, char **argv)
{
	static const struct option lopts[] = {{"help", no_argument, NULL, 'h'},
					      {"quiet", no_argument, NULL, 'q'},
					      {"socks5", no_argument, NULL, OPT_SOCKS5},
					      {"redirect", no_argument, NULL, OPT_REDIRECT},
					      {"tproxy", no_argument, NULL, OPT_TPROXY},
					      {"convert", required_argument, NULL, OPT_CONVERT},
					      {"watch", required_argument, NULL, OPT_WATCH},
					      {"auth-file", required_argument, NULL, OPT_AUTH_FILE},
					      {"insecure", no_argument, NULL, OPT_INSECURE},
					      {"threads", required_argument, NULL, OPT_THREADS},
					      SVC_LONGOPTS,
					      MPT_STACK_LONGOPTS,
					      {NULL, 0, NULL, 0}};
	/* The options go into tmpl; each thread's px starts as a copy.  The
	 * SOCKS5 users are shared: read only once loaded. */
	static struct px tmpl;
	static struct px_user users[PX_MAX_USERS];
	memset(&tmpl, 0, sizeof(tmpl));
	memset(users, 0, sizeof(users));
	tmpl.users = users;
	mpt_opts_init(&tmpl.o);
	tmpl.lfd = tmpl.sig.fd = tmpl.timer.fd = -1;
	svc_conf_init(&tmpl.conf);
	int ch, rc, status = 2;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+hq" MPT_STACK_SHORTOPTS, lopts, NULL)) != -1) {
		if (ch == 'h') {
			px_usage(stdout);
			status = 0;
			goto early;
		}
		if (ch == SVC_OPT_CONFIG)
			rc = svc_config_load(prog, optarg, lopts, "listen", &tmpl.operand, px_opt,
					     &tmpl);
		else
			rc = px_opt(&tmpl, prog, ch, optarg);
		if (rc)
			goto early;
	}
	/* Only the default may fall back to one thread (see below). */
	bool threads_set = tmpl.threads != 0;
	if (!tmpl.threads)
		tmpl.threads = svc_default_threads();
	if ((int)tmpl.socks + (int)tmpl.redirect + (int)tmpl.tproxy != 1) {
		fprintf(stderr, "%s: choose exactly one of --socks5, --redirect and --tproxy\n",
			prog);
		goto early;
	}
	if (tmpl.conf.cookie_len && !tmpl.have_convert) {
		fprintf(stderr, "%s: --cookie needs --convert\n", prog);
		goto early;
	}
	if (tmpl.n_users && !tmpl.socks) {
		fprintf(stderr, "%s: --auth-file is for --socks5 (transparent modes cannot ask)\n",
			prog);
		goto early;
	}
	if (argc - optind > 1 || (argc - optind == 0 && !tmpl.operand)) {
		fprintf(stderr, "%s: expected exactly one argument, [ADDR:]PORT to listen on\n",
			prog);
		px_usage(stderr);
		goto early;
	}
	if (argc - optind == 1)
		tmpl.operand = argv[optind];
	if (parse_listen(tmpl.operand, tmpl.socks, &tmpl.listen_ep) < 0) {
		fprintf(stderr, "%s: '%s' is not PORT, ADDR:PORT or [ADDR]:PORT\n", prog,
			tmpl.operand);
		goto early;
	}
	/* Issue 11: an unauthenticated SOCKS5 server on a reachable address is
	 * an open proxy into every network the paths reach. */
	if (tmpl.socks && !tmpl.n_users && !tmpl.insecure && !is_loopback(&tmpl.listen_ep.addr)) {
		char ep[64];
		fprintf(stderr,
			"%s: refusing to serve SOCKS5 without authentication on %s (beyond "
			"loopback): give --auth-file FILE (RFC 1929 username/password), listen on "
			"127.0.0.1, or say --insecure\n",
			prog, relay_fmt_ep(&tmpl.listen_ep, ep, sizeof(ep)));
		goto early;
	}
	if (mpt_opts_finish(&tmpl.o, prog) < 0)
		goto early;
	for (size_t k = 0; k < tmpl.o.be.n_paths; k++)
		tmpl.paths[tmpl.n_paths++] = tmpl.o.be.paths[k].addr;
	for (size_t i = 0; i < tmpl.n_watch; i++) {
		size_t k;
		for (k = 0; k < tmpl.o.be.n_paths; k++)
			if (mpt_addr_equal(&tmpl.o.be.paths[k].addr, &tmpl.watch[i].addr))
				break;
		if (k == tmpl.o.be.n_paths) {
			char as[64];
			fprintf(stderr, "%s: --watch: %s is not the address of a --path\n", prog,
				mpt_addr_format(&tmpl.watch[i].addr, as, sizeof(as)));
			goto early;
		}
	}
	if (tmpl.conf.check) {
		status = px_check(&tmpl);
		goto early;
	}

	status = 1;
	unsigned n = tmpl.threads, made = 0; /* made: backends created */
	struct px_shared sh = {.n = n};
	struct px *px0 = NULL;
	if (svc_team_init(&sh.team) < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto early;
	}
	/* Before any thread exists: every thread inherits the blocked
	 * signals, and only the main thread's signalfd takes them. */
	if (svc_signals_open(&tmpl.sig, prog) < 0)
		goto no_sig;
	sh.pxs = calloc(n, sizeof(*sh.pxs));
	sh.snaps = calloc(n, sizeof(*sh.snaps));
	if (!sh.pxs || !sh.snaps) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto no_pxs;
	}
	for (unsigned i = 0; i < n; i++) {
		/* Nothing to close yet, whatever fails below. */
		sh.pxs[i].lfd = -1;
		sh.pxs[i].sig.fd = -1;
		sh.pxs[i].timer.fd = -1;
	}
	if (n > 1 && mpt_backend_group_create(n, &sh.group) < 0) {
		fprintf(stderr, "%s: cannot create a group of %u backends\n", prog, n);
		goto no_pxs;
	}
	/* Only "taken" matters here: any other failure (no privilege for
	 * IP_TRANSPARENT, no such address) is reported by open_listener. */
	if (n > 1 && listen_probe(&tmpl) < 0 && errno == EADDRINUSE) {
		char ep[64];
		fprintf(stderr, "%s: cannot listen on %s: %s\n", prog,
			relay_fmt_ep(&tmpl.listen_ep, ep, sizeof(ep)), strerror(errno));
		goto out;
	}
	/* The stack's socket table must hold what --max-conns admits (one
	 * outgoing MPTCP socket per relayed connection, as many closing):
	 * its default (4096) silently capped mpt convert the same way
	 * (bench/memory.sh).  --max-conns is the whole proxy's: ceil(max / n)
	 * per thread (a thread only sees its own table). */
	size_t per_thread = (tmpl.conf.max_conns + n - 1) / n;
	for (unsigned i = 0; i < n; i++) {
		struct px *px = &sh.pxs[i];
		/* memcpy: px holds an atomic, which plain assignment would
		 * access as one; no thread runs yet. */
		memcpy(px, &tmpl, sizeof(*px));
		atomic_init(&px->mate.report, false);
		px->mate.started = false;
		px->id = i;
		px->sh = &sh;
		px->snap = &sh.snaps[i];
		px->ctl = i == 0;
		px->sig.fd = -1; /* thread 0 gets the signalfd below */
		px->timer.fd = -1;
		px->lfd = -1;
		px->conf.max_conns = per_thread;
		if (n == 1)
			snprintf(px->name, sizeof(px->name), "%s", prog);
		else
			snprintf(px->name, sizeof(px->name), "%s: thread %u", prog, i);
		/* One listening socket per thread (see the top of this file). */
		px->lfd = open_listener(px, n > 1);
		if (px->lfd < 0) {
			char ep[64];
			fprintf(stderr, "%s: cannot listen on %s: %s\n", prog,
				relay_fmt_ep(&px->listen_ep, ep, sizeof(ep)), strerror(errno));
			goto out;
		}
		if (px->socks && !px->have_convert) {
			px->policy.allow_any = true;
			for (size_t k = 0; k < px->o.be.n_paths; k++)
				px->policy.own[px->policy.n_own++] = px->o.be.paths[k].addr;
			if (dp_open(&px->policy) < 0) {
				fprintf(stderr, "%s: netlink (host addresses): %s\n", prog,
					strerror(errno));
				goto out;
			}
		}
		if (watch_open(px) < 0)
			goto out;
		struct mpt_backend_cfg *bc = &px->o.be;
		size_t socks = 2 * px->conf.max_conns + 1;
		if (socks > bc->stack.max_socks)
			bc->stack.max_socks = (uint32_t)socks;
		bc->stack.mem = relay_counting_mem();
		bc->stack.on_event = on_event;
		bc->stack.event_ud = px;
		/* Member 0 first: it creates and configures the TUN devices
		 * the others attach to; all before the privileges go. */
		bc->group = sh.group;
		bc->shard = i;
		char err[256];
		rc = mpt_backend_create(bc, &px->be, err, sizeof(err));
		if (rc < 0 && i == 0 && n > 1 && !threads_set) {
			/* Only the default asked for several threads, and the
			 * devices cannot be shared (TUN devices made beforehand
			 * without multi-queue: attach mode): one thread, as the
			 * proxy ran before threads (as mpt convert does).  The
			 * listener, already open, stays: the address was checked
			 * free before it was bound. */
			fprintf(stderr, "%s: warning: %s: running one thread (see --threads)\n",
				prog, err);
			mpt_backend_group_destroy(sh.group);
			sh.group = NULL;
			n = sh.n = 1;
			px->conf.max_conns = tmpl.conf.max_conns;
			snprintf(px->name, sizeof(px->name), "%s", prog);
			socks = 2 * px->conf.max_conns + 1;
			if (socks > bc->stack.max_socks)
				bc->stack.max_socks = (uint32_t)socks;
			bc->group = NULL;
			rc = mpt_backend_create(bc, &px->be, err, sizeof(err));
		}
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			goto out;
		}
		made++;
		px->st = mpt_backend_stack(px->be);
		px->mate.be = px->be;
		if (n > 1)
			mpt_backend_set_wake(px->be, px_on_wake, px);
	}
	px0 = &sh.pxs[0];
	px0->sig = tmpl.sig;
	tmpl.sig.fd = -1;
	if (px_setup(px0) < 0)
		goto out;
	if (svc_signals_watch(&px0->sig, px0->be, px_report, &sh) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", prog, strerror(errno));
		goto out;
	}
	/* Before the privileges go: /run/mpt is root's. */
	if (ctl_server_open(px0->be, px0->st, "proxy", px0->conf.ctl_path, list_socks, px0, prog) <
	    0)
		goto out;
	/* Devices, routes, the (transparent) listeners and netlink are set
	 * up: nothing later needs a privilege.  Before the threads exist:
	 * capabilities are per thread, and a thread inherits its creator's. */
	if (svc_drop_privileges(prog, &px0->conf.user, 0) < 0)
		goto out;
	for (unsigned i = 1; i < n; i++) {
		/* --ctl shows every thread's connections and counters. */
		(void)ctl_server_add_thread(i, sh.pxs[i].be, sh.pxs[i].st, list_socks, &sh.pxs[i]);
		int e = pthread_create(&sh.pxs[i].thread, NULL, px_thread, &sh.pxs[i]);
		if (e) {
			fprintf(stderr, "%s: cannot start thread %u: %s\n", prog, i, strerror(e));
			goto out;
		}
		sh.pxs[i].mate.started = true;
	}
	{
		char ep[64], cv[64], th[32] = "";
		if (n > 1)
			snprintf(th, sizeof(th), ", %u threads", n);
		fprintf(stderr, "%s: listening on %s (%s%s%s), %s%s\n", prog,
			relay_fmt_ep(&px0->listen_ep, ep, sizeof(ep)),
			px0->socks      ? "SOCKS5"
			: px0->redirect ? "redirect"
					: "TPROXY",
			px0->n_users ? ", username/password" : "", th,
			px0->have_convert ? "through the converter at "
					  : "MPTCP to the destination",
			px0->have_convert ? relay_fmt_ep(&px0->convert, cv, sizeof(cv)) : "");
	}
	rc = mpt_backend_run(px0->be);
	status = rc == 0 ? 0 : 1;
out:
	/* Thread 0's loop ended (a signal, or a thread's failure): stop the
	 * others and wait for them. */
	for (unsigned i = 1; i < n && sh.pxs; i++) {
		if (!sh.pxs[i].mate.started)
			continue;
		mpt_backend_wake(sh.pxs[i].be, true, 0);
		pthread_join(sh.pxs[i].thread, NULL);
		if (sh.pxs[i].rc)
			status = 1;
	}
	if (made) {
		px_teardown(&sh.pxs[0]);
		fprintf(stderr, "%s: exiting\n", prog);
		for (unsigned i = 0; i < made; i++)
			px_snap_take(&sh.pxs[i], &sh.snaps[i]);
		px_snaps_print(&sh.pxs[0], sh.snaps, made);
		ctl_server_close();
		/* Member 0 last: it owns the devices the others attached to. */
		for (unsigned i = made; i-- > 0;)
			mpt_backend_destroy(sh.pxs[i].be);
	}
	for (unsigned i = 0; i < n && sh.pxs; i++) {
		struct px *px = &sh.pxs[i];
		nlwatch_close(px->nlw);
		dp_close(&px->policy);
		if (px->lfd >= 0)
			close(px->lfd);
	}
	if (sh.pxs)
		svc_signals_close(&sh.pxs[0].sig);
	if (sh.group)
		mpt_backend_group_destroy(sh.group);
no_pxs:
	free(sh.pxs);
	free(sh.snaps);
	svc_signals_close(&tmpl.sig);
no_sig:
	svc_team_fini(&sh.team);
early:
	memset(users, 0, sizeof(users));
	svc_config_free();
	return status;
}
