/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt perf`: iperf3's TCP test over mpt's stack on TUN devices, so that a
 * stock iperf3 (client or server, plain TCP or the kernel's MPTCP through
 * mptcpize) is the peer.
 *
 * The iperf3 protocol (as iperf3 3.x speaks it): the client opens the control
 * connection and sends a 37-byte cookie; the server then drives the test with
 * one-byte states: PARAM_EXCHANGE (the client sends its parameters as JSON
 * with a 4-byte big-endian length), CREATE_STREAMS (the client connects the
 * data streams, each starting with the same cookie: with --bidir first its
 * sending streams, then its receiving ones), TEST_START, TEST_RUNNING.  The
 * client ends the test with TEST_END; the server answers EXCHANGE_RESULTS
 * (client's results JSON, then the server's), DISPLAY_RESULTS, and the
 * client closes with IPERF_DONE.  Stream ids are 1, 2, ... in creation
 * (client) or accept (server) order on both sides.
 *
 * Every stack call happens from the backend's idle callback (or a signal
 * handled in the loop); the stack's event callback only records what
 * happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "opts.h"
#include "perf.h"
#include "tool.h"

#define PERF_PORT        5201
#define PERF_BLKSIZE     (128u * 1024u)
#define PERF_CTL_MAX     (1024u * 1024u) /* largest control message (server output inside) */
/* The listener's backlog bounds its half-open table too (mpt_listen): each
 * entry is a whole connection (~100 KiB resident) that retransmits its
 * SYN-ACK, so a SYN flood may hold all of them (flood_syn_test (a)).  Keep
 * it small, like iperf3's: past it SYNs get SYN cookies, and -P 128 streams
 * still all connect (we accept on every turn of the loop). */
#define PERF_BACKLOG     8
#define PERF_LINGER_NS   (3 * MPT_NS_PER_S)
#define PERF_CONNECT_NS  (30 * MPT_NS_PER_S)
#define PERF_SEND_BUDGET (4u * 1024u * 1024u)  /* bytes per idle call before yielding */
#define PERF_PACE_NS     (1 * MPT_NS_PER_MS)   /* iperf3's pacing timer (1000 us) */
#define PERF_DRAIN_NS    (100 * MPT_NS_PER_MS) /* after the last abort: the resets leave */
#define PERF_TERM_NS     (500 * MPT_NS_PER_MS) /* for the peer to close after TERMINATE */

/* iperf3's one-byte states (signed char on the wire). */
enum {
	ST_TEST_START = 1,
	ST_TEST_RUNNING = 2,
	ST_TEST_END = 4,
	ST_PARAM_EXCHANGE = 9,
	ST_CREATE_STREAMS = 10,
	ST_SERVER_TERMINATE = 11,
	ST_CLIENT_TERMINATE = 12,
	ST_EXCHANGE_RESULTS = 13,
	ST_DISPLAY_RESULTS = 14,
	ST_IPERF_DONE = 16,
	ST_ACCESS_DENIED = -1,
	ST_SERVER_ERROR = -2,
};

/* iperf3's i_errno values we send with SERVER_ERROR. */
#define IPERF_IENUMSTREAMS 6
#define IPERF_IEUNIMP      13
#define IPERF_IEPROTOCOL   131

enum phase {
	/* client */
	C_CONNECTING,
	C_STATE,   /* waiting for a state byte */
	C_RESULTS, /* waiting for the server's results */
	C_ERRNO,   /* SERVER_ERROR: waiting for i_errno and errno */
	C_LINGER,  /* IPERF_DONE sent: wait for the server to close */
	/* server */
	S_LISTEN,  /* waiting for a control connection */
	S_PARAMS,  /* PARAM_EXCHANGE sent */
	S_STREAM,  /* CREATE_STREAMS sent: waiting for the data streams */
	S_RUNNING, /* test running: waiting for TEST_END */
	S_RESULTS, /* EXCHANGE_RESULTS sent: waiting for the client's results */
	S_DONE,    /* DISPLAY_RESULTS sent: waiting for IPERF_DONE */
	P_FINISHED,
};

static const char *prog = "mpt perf";

static void perf_usage(FILE *f)
{
	fprintf(f,
		"usage: mpt perf -c HOST [options]\n"
		"       mpt perf -s [options]\n"
		"  iperf3-compatible TCP/MPTCP throughput test over mpt's stack on TUN devices\n"
		"  (needs CAP_NET_ADMIN); the peer can be a stock iperf3 (3.x).  Options may\n"
		"  follow the operands.\n"
		"  -c, --client HOST       client: connect to HOST (an IP address)\n"
		"  -s, --server            server\n"
		"  -p, --port PORT         port (default 5201)\n"
		"  -t, --time SECS         test length in seconds (default 10)\n"
		"  -n, --bytes N[KMG]      bytes to send instead of a time\n"
		"  -k, --blockcount N[KMG] blocks (-l bytes each) to send instead of a time\n"
		"  -R, --reverse           the server sends, the client receives\n"
		"      --bidir             both directions at once\n"
		"  -P, --parallel N        parallel streams (1-128)\n"
		"  -b, --bitrate RATE[KMG] pace each stream to RATE bit/s (0: unlimited)\n"
		"  -w, --window SIZE[KMG]  send and receive buffer per connection\n"
		"  -M, --set-mss MSS       maximum segment size to advertise\n"
		"  -C, --congestion NAME   congestion control (as --cc)\n"
		"  -l, --length N[KMG]     length of one write (default 128K)\n"
		"  -O, --omit SECS         leave the first SECS seconds out of the results\n"
		"  -i, --interval SECS     seconds between reports (default 1; 0: none)\n"
		"  -f, --format [kmgtKMGT] rate units: bits (kmgt) or bytes (KMGT) per second\n"
		"  -J, --json              iperf3's JSON output, with an \"mptcp\" object\n"
		"  -T, --title STR         prefix every output line with STR\n"
		"      --timestamps[=FMT]  prefix every output line with the time (strftime)\n"
		"      --logfile FILE      write the output to FILE\n"
		"      --forceflush        flush after every line (always done)\n"
		"      --get-server-output client: print the server's output too\n"
		"      --extra-data STR    a string to carry in the JSON of both sides\n"
		"  -4, --version4          IPv4 only\n"
		"  -6, --version6          IPv6 only\n"
		"  -B, --bind ADDR         client: connect from ADDR; server: listen on ADDR\n"
		"      --cport PORT        client: data streams from local port PORT on\n"
		"      --connect-timeout MS  client: give up connecting after MS ms (default\n"
		"                          30000)\n"
		"  -N, --no-delay          Nagle is always off here (accepted)\n"
		"  -1, --one-off           server: handle one test, then exit\n"
		"      --ctl PATH          control socket (default /run/mpt/perf.PID.sock;\n"
		"                          none: no socket); see mpt ss, mpt nstat, mpt monitor\n"
		"      --check             check the options and the host, change nothing\n"
		"  -h, --help              this text\n"
		"  Not supported (one line says so): -u --udp --sctp -X --nstreams -Z -S --dscp\n"
		"  -L -A -D -I -F --fq-rate --pacing-timer --bind-dev --rcv-timeout\n"
		"  --snd-timeout --dont-fragment --repeating-payload --udp-counters-64bit\n"
		"  --username --rsa-public-key-path --rsa-private-key-path\n"
		"  --authorized-users-path --time-skew-threshold --server-bitrate-limit\n"
		"  --idle-timeout -d\n");
	mpt_opts_usage(f);
	fprintf(f, "examples:\n"
		   "  mpt perf -s --path 10.77.1.1/24 -1\n"
		   "  mpt perf -c 10.77.0.2 -t 5 -P 2 --path 10.77.1.1/24 --path 10.77.2.1/24\n");
}

/* ---- small helpers ------------------------------------------------------- */

static double secs_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e9 : 0.0;
}

static double tv_secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void cpu_begin(struct perf *p)
{
	getrusage(RUSAGE_SELF, &p->ru0);
}

/* CPU use since cpu_begin, in percent of the wall time (total, user, system). */
static void cpu_end(struct perf *p, double wall)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double u = tv_secs(ru.ru_utime) - tv_secs(p->ru0.ru_utime);
	double s = tv_secs(ru.ru_stime) - tv_secs(p->ru0.ru_stime);
	if (wall <= 0)
		wall = 1e-9;
	p->cpu[0] = 100.0 * (u + s) / wall;
	p->cpu[1] = 100.0 * u / wall;
	p->cpu[2] = 100.0 * s / wall;
}

static void make_cookie(char *out)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t rnd[PERF_COOKIE_LEN - 1];
	mpt_rand_default(rnd, sizeof(rnd), NULL);
	for (size_t i = 0; i < sizeof(rnd); i++)
		out[i] = alphabet[rnd[i] % 32u];
	out[PERF_COOKIE_LEN - 1] = '\0';
}

static void fail(struct perf *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct perf *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perf_report_error(p, "%s", msg);
	p->failed_test = true;
}

/* ---- subflow tracking (retransmissions counted once) --------------------- */

static bool same_flow(const struct mpt_subflow_info *a, const struct mpt_subflow_info *b)
{
	return a->local.port == b->local.port && a->remote.port == b->remote.port &&
	       mpt_addr_equal(&a->local.addr, &b->local.addr) &&
	       mpt_addr_equal(&a->remote.addr, &b->remote.addr);
}

static uint64_t sf_bytes(const struct perf_stream *st, const struct mpt_subflow_info *sf)
{
	return st->sender ? sf->bytes_sent : sf->bytes_received;
}

void perf_stream_poll(struct perf_stream *st)
{
	if (!st->s)
		return;
	struct mpt_subflow_info sf[PERF_MAX_SF];
	int n = mpt_sock_subflows(st->s, sf, PERF_MAX_SF);
	if (n < 0)
		return;
	if (n > PERF_MAX_SF)
		n = PERF_MAX_SF;
	for (size_t k = 0; k < st->nsf; k++)
		st->sf[k].gone = true;
	for (int i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < st->nsf; k++)
			if (same_flow(&st->sf[k].last, &sf[i]))
				break;
		if (k == st->nsf) {
			if (st->nsf == PERF_MAX_SF)
				continue;
			/* A new subflow starts from zero: everything it does
			 * counts (it opened during the test). */
			memset(&st->sf[k], 0, sizeof(st->sf[k]));
			st->nsf++;
		}
		st->sf[k].last = sf[i];
		st->sf[k].gone = false;
	}
	struct mpt_mptcp_info mi;
	if (mpt_sock_mptcp_info(st->s, &mi) == 0) {
		st->mi = mi;
		st->have_mi = true;
	}
	st->mptcp = mpt_sock_mptcp_enabled(st->s);
}

uint64_t perf_stream_retr(const struct perf_stream *st, bool interval)
{
	uint64_t r = 0;
	for (size_t k = 0; k < st->nsf; k++)
		r += st->sf[k].last.retransmits -
		     (interval ? st->sf[k].retr_iv : st->sf[k].retr_base);
	return r;
}

/* The counting starts (after -O): every subflow's counters now are zero. */
static void stream_baseline(struct perf_stream *st)
{
	perf_stream_poll(st);
	for (size_t k = 0; k < st->nsf; k++) {
		struct perf_sf *t = &st->sf[k];
		t->bytes_base = t->bytes_iv = sf_bytes(st, &t->last);
		t->retr_base = t->retr_iv = t->last.retransmits;
	}
	st->bytes = st->iv_bytes = 0;
	st->blocks = 0;
	st->max_cwnd = st->max_snd_wnd = st->rtt_min = st->rtt_max = st->rtt_sum = 0;
	st->rtt_n = 0;
}

static void stream_interval_mark(struct perf_stream *st)
{
	for (size_t k = 0; k < st->nsf; k++) {
		struct perf_sf *t = &st->sf[k];
		t->bytes_iv = sf_bytes(st, &t->last);
		t->retr_iv = t->last.retransmits;
	}
	st->iv_bytes = st->bytes;
}

/* ---- control connection -------------------------------------------------- */

static int ctl_queue(struct perf *p, const void *data, size_t len)
{
	if (p->ctl.out_len + len > p->ctl.out_cap) {
		size_t cap = p->ctl.out_cap ? p->ctl.out_cap : 1024;
		while (cap < p->ctl.out_len + len)
			cap *= 2;
		uint8_t *n = realloc(p->ctl.out, cap);
		if (!n)
			return -1;
		p->ctl.out = n;
		p->ctl.out_cap = cap;
	}
	memcpy(p->ctl.out + p->ctl.out_len, data, len);
	p->ctl.out_len += len;
	return 0;
}

static void ctl_state(struct perf *p, int state)
{
	uint8_t b = (uint8_t)(int8_t)state;
	(void)ctl_queue(p, &b, 1);
}

static int ctl_json(struct perf *p, const cJSON *j)
{
	char *txt = cJSON_PrintUnformatted(j);
	if (!txt)
		return -1;
	size_t n = strlen(txt);
	uint8_t hdr[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	int rc = ctl_queue(p, hdr, 4);
	if (rc == 0)
		rc = ctl_queue(p, txt, n);
	cJSON_free(txt);
	return rc;
}

static void ctl_flush(struct perf *p, uint64_t now)
{
	while (p->ctl.s && p->ctl.connected && !p->ctl.err && p->ctl.out_len > 0) {
		long n = mpt_send(p->ctl.s, p->ctl.out, p->ctl.out_len, now);
		if (n == MPT_ERR_AGAIN)
			break;
		if (n < 0) {
			p->ctl.err = (int)n;
			break;
		}
		memmove(p->ctl.out, p->ctl.out + n, p->ctl.out_len - (size_t)n);
		p->ctl.out_len -= (size_t)n;
	}
}

static void ctl_fill(struct perf *p, uint64_t now)
{
	while (p->ctl.s && !p->ctl.eof && !p->ctl.err && p->ctl.in_len < PERF_CTL_MAX) {
		long n = mpt_recv(p->ctl.s, p->ctl.in + p->ctl.in_len, PERF_CTL_MAX - p->ctl.in_len,
				  now);
		if (n == MPT_ERR_AGAIN)
			break;
		if (n < 0) {
			p->ctl.err = (int)n;
			break;
		}
		if (n == 0) {
			p->ctl.eof = true;
			break;
		}
		p->ctl.in_len += (size_t)n;
	}
}

static bool ctl_take(struct perf *p, void *dst, size_t n)
{
	if (p->ctl.in_len < n)
		return false;
	memcpy(dst, p->ctl.in, n);
	memmove(p->ctl.in, p->ctl.in + n, p->ctl.in_len - n);
	p->ctl.in_len -= n;
	return true;
}

/* A length-prefixed JSON message: NULL while incomplete; *bad on garbage. */
static cJSON *ctl_take_json(struct perf *p, bool *bad)
{
	*bad = false;
	if (p->ctl.in_len < 4)
		return NULL;
	const uint8_t *in = p->ctl.in;
	uint32_t n = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	if (n > PERF_CTL_MAX - 4) {
		*bad = true;
		return NULL;
	}
	if (p->ctl.in_len < 4 + (size_t)n)
		return NULL;
	cJSON *j = cJSON_ParseWithLength((const char *)in + 4, n);
	memmove(p->ctl.in, p->ctl.in + 4 + n, p->ctl.in_len - 4 - n);
	p->ctl.in_len -= 4 + (size_t)n;
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		*bad = true;
		return NULL;
	}
	return j;
}

/* The control connection went away: a message for the user, or NULL. */
static const char *ctl_problem(const struct perf *p)
{
	if (p->ctl.err)
		return mpt_strerror(p->ctl.err);
	if (p->ctl.eof)
		return "the peer closed the control connection";
	return NULL;
}

/* ---- data streams ----------------------------------------------------------- */

static uint64_t total_sent(const struct perf *p)
{
	uint64_t b = 0;
	for (int i = 0; i < p->nstreams; i++)
		if (p->streams[i].sender)
			b += p->streams[i].bytes;
	return b;
}

static uint64_t total_received(const struct perf *p)
{
	uint64_t b = 0;
	for (int i = 0; i < p->nstreams; i++)
		if (!p->streams[i].sender)
			b += p->streams[i].bytes;
	return b;
}

static uint64_t total_blocks(const struct perf *p)
{
	uint64_t b = 0;
	for (int i = 0; i < p->nstreams; i++)
		b += p->streams[i].blocks;
	return b;
}

/* Bytes stream st may send now under -b (iperf3 paces each stream to the
 * target bitrate, measured since the test began). */
static uint64_t pace_allowance(struct perf *p, const struct perf_stream *st, uint64_t now)
{
	if (!p->prm.rate || !p->running)
		return UINT64_MAX;
	double secs = secs_between(p->omitting ? p->t0 : p->t_start, now);
	double allowed = (double)p->prm.rate / 8.0 * secs + p->prm.blksize;
	double done = (double)st->bytes; /* omitting: counts from t0 too */
	return allowed > done ? (uint64_t)(allowed - done) : 0;
}

/* Move data on one stream; returns true when it stopped for a budget. */
static bool stream_pump(struct perf *p, struct perf_stream *st, uint64_t now)
{
	if (!st->s || !st->connected || st->err)
		return false;
	if (!p->server && st->cookie_off < PERF_COOKIE_LEN) {
		long n = mpt_send(st->s, p->cookie + st->cookie_off,
				  PERF_COOKIE_LEN - st->cookie_off, now);
		if (n > 0)
			st->cookie_off += (size_t)n;
		else if (n != MPT_ERR_AGAIN)
			st->err = (int)n;
		if (st->cookie_off < PERF_COOKIE_LEN)
			return false;
	}
	if (st->sender) {
		if (!p->running || p->ended)
			return false;
		uint64_t sent = 0;
		while (sent < PERF_SEND_BUDGET) {
			size_t len = p->prm.blksize;
			if (p->prm.nbytes) {
				uint64_t left = p->prm.nbytes > total_sent(p)
						    ? p->prm.nbytes - total_sent(p)
						    : 0;
				if (left < len)
					len = (size_t)left;
			}
			if (p->prm.nblocks && total_blocks(p) >= p->prm.nblocks)
				len = 0;
			uint64_t allow = pace_allowance(p, st, now);
			if (allow < len) {
				if (p->pace_at == MPT_TIME_NEVER || p->pace_at > now + PERF_PACE_NS)
					p->pace_at = now + PERF_PACE_NS;
				return false;
			}
			if (len == 0)
				return false;
			long n = mpt_send(st->s, p->buf, len, now);
			if (n == MPT_ERR_AGAIN)
				return false;
			if (n < 0) {
				st->err = (int)n;
				return false;
			}
			st->bytes += (uint64_t)n;
			if ((size_t)n == len)
				st->blocks++;
			sent += (uint64_t)n;
		}
		return true;
	}
	/* Receiving: count while the test runs, drain (uncounted) after. */
	uint64_t got = 0;
	while (!st->eof && got < PERF_SEND_BUDGET) {
		long n = mpt_recv(st->s, p->buf, p->prm.blksize, now);
		if (n == MPT_ERR_AGAIN)
			return false;
		if (n < 0) {
			st->err = (int)n;
			return false;
		}
		if (n == 0) {
			st->eof = true;
			return false;
		}
		if (p->running && !p->ended)
			st->bytes += (uint64_t)n;
		got += (uint64_t)n;
	}
	return !st->eof;
}

static bool pump_all(struct perf *p, uint64_t now)
{
	bool more = false;
	for (int i = 0; i < p->nstreams; i++)
		more |= stream_pump(p, &p->streams[i], now);
	return more;
}

/* ---- intervals and the end of the test ----------------------------------- */

static void report_interval(struct perf *p, uint64_t now)
{
	perf_report_interval(p, now, p->omitting);
	for (int i = 0; i < p->nstreams; i++)
		stream_interval_mark(&p->streams[i]);
	p->iv_start = now;
}

/*
 * Whether the interval that ends early (at the end of the test, or of -O)
 * is reported: as iperf3 decides (iperf_print_intermediate), when it moved
 * data or lasted at least a tenth of -i.  So a transfer shorter than one
 * interval still has its interval (8 MiB in a few ms with offload), and only
 * a sliver with nothing in it (the end of the test queued behind the last
 * data) is left out.  A retransmission counts as moving data here (iperf3
 * looks at bytes only), so the intervals' retransmissions always add up to
 * the summary's.
 */
static bool partial_interval_kept(struct perf *p, uint64_t now)
{
	if (p->interval <= 0 || now <= p->iv_start)
		return false;
	if ((double)(now - p->iv_start) >= p->interval * 1e9 * 0.10)
		return true;
	for (int i = 0; i < p->nstreams; i++) {
		struct perf_stream *st = &p->streams[i];
		perf_stream_poll(st);
		if (st->bytes > st->iv_bytes || perf_stream_retr(st, true) > 0)
			return true;
	}
	return false;
}

static void start_counting(struct perf *p, uint64_t now)
{
	p->omitting = false;
	p->t_start = p->iv_start = now;
	for (int i = 0; i < p->nstreams; i++)
		stream_baseline(&p->streams[i]);
	p->next_iv = p->interval > 0 ? now + (uint64_t)(p->interval * 1e9) : MPT_TIME_NEVER;
	p->deadline = (!p->server && p->prm.duration > 0) ? now + (uint64_t)(p->prm.duration * 1e9)
							  : MPT_TIME_NEVER;
	cpu_begin(p);
}

static void start_test(struct perf *p, uint64_t now)
{
	p->running = true;
	p->ended = false;
	p->t0 = now;
	p->pace_at = MPT_TIME_NEVER;
	start_counting(p, now);
	if (p->prm.omit > 0) {
		/* -O: the first seconds are reported as "(omitted)"; counting,
		 * the test length and the interval times start after them. */
		p->omitting = true;
		p->omit_end = now + (uint64_t)(p->prm.omit * 1e9);
		p->deadline = MPT_TIME_NEVER;
	}
}

/* Stop counting: the last (partial) interval, CPU figures. */
static void end_test(struct perf *p, uint64_t now)
{
	if (!p->running || p->ended)
		return;
	(void)pump_all(p, now); /* what has arrived still counts */
	p->ended = true;
	p->t_stop = now;
	for (int i = 0; i < p->nstreams; i++)
		perf_stream_poll(&p->streams[i]);
	if (partial_interval_kept(p, now))
		report_interval(p, now);
	cpu_end(p, secs_between(p->t_start, now));
}

static void run_timers(struct perf *p, uint64_t now)
{
	if (!p->running || p->ended)
		return;
	if (p->omitting && now >= p->omit_end) {
		if (partial_interval_kept(p, now))
			report_interval(p, now);
		start_counting(p, now);
		return;
	}
	uint64_t stop = p->omitting ? p->omit_end : p->deadline;
	while (p->next_iv != MPT_TIME_NEVER && now >= p->next_iv &&
	       (stop == MPT_TIME_NEVER || p->next_iv < stop)) {
		report_interval(p, now);
		p->next_iv += (uint64_t)(p->interval * 1e9);
		if (p->next_iv <= now)
			p->next_iv = now + (uint64_t)(p->interval * 1e9);
	}
}

static double jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static bool jtrue(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble != 0);
}

static void jstr(const cJSON *o, const char *key, char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsString(v))
		snprintf(out, len, "%s", v->valuestring);
}

/* The peer's results; returns false when they do not look like iperf3's. */
static bool parse_results(struct perf *p, cJSON *j)
{
	const cJSON *streams = cJSON_GetObjectItemCaseSensitive(j, "streams");
	if (!cJSON_IsArray(streams) || !cJSON_GetObjectItemCaseSensitive(j, "cpu_util_total"))
		return false;
	p->peer_cpu[0] = jnum(j, "cpu_util_total", 0);
	p->peer_cpu[1] = jnum(j, "cpu_util_user", 0);
	p->peer_cpu[2] = jnum(j, "cpu_util_system", 0);
	p->peer_has_retr = jtrue(j, "sender_has_retransmits");
	jstr(j, "congestion_used", p->peer_cc, sizeof(p->peer_cc));
	const cJSON *s;
	cJSON_ArrayForEach(s, streams)
	{
		if (!cJSON_IsObject(s) || !cJSON_GetObjectItemCaseSensitive(s, "bytes"))
			return false;
		int id = (int)jnum(s, "id", 0);
		for (int i = 0; i < p->nstreams; i++) {
			struct perf_stream *st = &p->streams[i];
			if (st->id != id)
				continue;
			double b = jnum(s, "bytes", 0);
			st->peer_bytes = b > 0 ? (uint64_t)b : 0;
			st->peer_retr = (int64_t)jnum(s, "retransmits", -1);
			st->peer_start = jnum(s, "start_time", 0);
			st->peer_end = jnum(s, "end_time", 0);
			st->have_peer = true;
		}
	}
	/* --get-server-output: what the server printed. */
	cJSON *so = cJSON_DetachItemFromObjectCaseSensitive(j, "server_output_json");
	if (so) {
		cJSON_Delete(p->srv_json);
		p->srv_json = so;
	}
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "server_output_text");
	if (cJSON_IsString(st)) {
		free(p->srv_text);
		p->srv_text = strdup(st->valuestring);
	}
	return true;
}

static void close_sock(struct mpt_sock **s, bool abort, uint64_t now)
{
	if (!*s)
		return;
	ctl_server_sock_closing(*s); /* mpt monitor: events up to the close */
	if (abort)
		mpt_abort(*s, now);
	else
		mpt_close(*s, now);
	*s = NULL;
}

static void close_streams(struct perf *p, bool abort, uint64_t now)
{
	for (int i = 0; i < p->nstreams; i++)
		close_sock(&p->streams[i].s, abort, now);
}

static void print_summary(struct perf *p, bool partial)
{
	perf_report_end(p, partial);
	if (!p->server && !partial && !p->out.json && p->srv_text)
		perf_printf(&p->out, "\nServer output:\n%s\n", p->srv_text);
	if (!p->server && !partial)
		perf_printf(&p->out, "\nmpt perf Done.\n");
}

/* ---- client -------------------------------------------------------------- */

static void client_params(struct perf *p)
{
	const struct perf_params *m = &p->prm;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "tcp", true);
	cJSON_AddNumberToObject(j, "omit", m->omit);
	cJSON_AddNumberToObject(j, "time", m->duration);
	cJSON_AddNumberToObject(j, "num", (double)m->nbytes);
	cJSON_AddNumberToObject(j, "blockcount", (double)m->nblocks);
	if (m->mss)
		cJSON_AddNumberToObject(j, "MSS", m->mss);
	cJSON_AddNumberToObject(j, "parallel", m->nstreams);
	if (m->reverse)
		cJSON_AddBoolToObject(j, "reverse", true);
	if (m->bidir)
		cJSON_AddBoolToObject(j, "bidirectional", true);
	if (m->window)
		cJSON_AddNumberToObject(j, "window", m->window);
	cJSON_AddNumberToObject(j, "len", m->blksize);
	if (m->rate)
		cJSON_AddNumberToObject(j, "bandwidth", (double)m->rate);
	cJSON_AddNumberToObject(j, "pacing_timer", 1000);
	if (m->title[0])
		cJSON_AddStringToObject(j, "title", m->title);
	if (m->extra_data[0])
		cJSON_AddStringToObject(j, "extra_data", m->extra_data);
	if (m->cc[0])
		cJSON_AddStringToObject(j, "congestion", m->cc);
	if (m->get_server_output)
		cJSON_AddNumberToObject(j, "get_server_output", 1);
	cJSON_AddStringToObject(j, "client_version", "3.12");
	(void)ctl_json(p, j);
	cJSON_Delete(j);
}

static struct perf_stream *new_stream(struct perf *p, struct mpt_sock *s, bool sender)
{
	struct perf_stream *st = &p->streams[p->nstreams];
	memset(st, 0, sizeof(*st));
	/* iperf3's stream ids (iperf_add_stream): 1 for the first, then one
	 * more than the streams already there plus one: 1, 3, 4, 5, ... The
	 * results of both sides are matched by them. */
	st->id = p->nstreams == 0 ? 1 : p->nstreams + 2;
	/* iperf3 shows its socket numbers: 5, 7, 9, ... on a client */
	st->sock_no = PERF_FIRST_SOCKET + 2 * p->nstreams;
	st->sender = sender;
	st->s = s;
	st->peer_retr = -1;
	p->nstreams++;
	return st;
}

static void client_create_streams(struct perf *p, uint64_t now)
{
	/* --bidir: first the streams we send on, then those we receive on
	 * (iperf3's order: the server assigns roles in accept order). */
	int per_dir = p->prm.nstreams;
	for (int dir = 0; dir < (p->prm.bidir ? 2 : 1); dir++) {
		bool sender = p->prm.bidir ? dir == 0 : !p->prm.reverse;
		for (int i = 0; i < per_dir; i++) {
			struct mpt_sock *s;
			/* --cport: the data streams from that port on (the
			 * control connection keeps an ephemeral one). */
			struct mpt_conn_opts o;
			mpt_conn_opts_init(p->st, &o);
			if (p->cport) {
				if ((unsigned)p->cport + (unsigned)p->nstreams > 65535u) {
					fail(p, "--cport %u: no port left for data stream %d",
					     (unsigned)p->cport, p->nstreams + 1);
					return;
				}
				o.local_port = (uint16_t)(p->cport + p->nstreams);
			}
			int rc = mpt_connect_ex(p->st, &p->remote, p->local, &o, now, &s);
			if (rc < 0) {
				fail(p, "cannot open data stream %d: %s", p->nstreams + 1,
				     mpt_strerror(rc));
				return;
			}
			new_stream(p, s, sender);
		}
	}
}

static bool all_connected(const struct perf *p)
{
	if (p->nstreams < p->want_streams)
		return false;
	for (int i = 0; i < p->nstreams; i++)
		if (!p->streams[i].connected)
			return false;
	return true;
}

static void client_state(struct perf *p, int8_t state, uint64_t now)
{
	switch (state) {
	case ST_PARAM_EXCHANGE:
		client_params(p);
		break;
	case ST_CREATE_STREAMS:
		client_create_streams(p, now);
		break;
	case ST_TEST_START:
		if (!all_connected(p)) {
			fail(p, "TEST_START before the data streams were connected");
			return;
		}
		for (int i = 0; i < p->nstreams; i++)
			perf_report_stream(p, &p->streams[i]);
		if (p->prm.reverse)
			perf_printf(&p->out, "Reverse mode, remote host %s is sending\n", p->host);
		perf_report_test_start(p);
		break;
	case ST_TEST_RUNNING:
		if (!all_connected(p)) {
			fail(p, "TEST_RUNNING before the data streams were connected");
			return;
		}
		start_test(p, now);
		break;
	case ST_EXCHANGE_RESULTS: {
		end_test(p, now);
		cJSON *j = perf_results_json(p, NULL, NULL);
		(void)ctl_json(p, j);
		cJSON_Delete(j);
		p->phase = C_RESULTS;
		break;
	}
	case ST_DISPLAY_RESULTS:
		print_summary(p, false);
		/* Like iperf3's client: the data streams go first (a sender may
		 * still have queued data the server no longer reads). */
		for (int i = 0; i < p->nstreams; i++)
			close_sock(&p->streams[i].s, p->streams[i].sender, now);
		ctl_state(p, ST_IPERF_DONE);
		p->phase = C_LINGER;
		p->deadline = now + PERF_LINGER_NS;
		break;
	case ST_SERVER_TERMINATE:
		/* iperf3's server on SIGINT: what was measured, then an error. */
		if (p->running && !p->ended) {
			end_test(p, now);
			print_summary(p, true);
		}
		fail(p, "the server has terminated");
		break;
	case ST_ACCESS_DENIED:
		fail(p, "the server is busy running a test. try again later");
		break;
	case ST_SERVER_ERROR:
		p->phase = C_ERRNO;
		break;
	default:
		fail(p, "unexpected state %d from the server", state);
		break;
	}
}

static void client_step(struct perf *p, uint64_t now)
{
	while (!p->failed_test && p->phase != P_FINISHED) {
		switch (p->phase) {
		case C_CONNECTING:
			if (!p->ctl.connected)
				return;
			perf_printf(&p->out, "Connecting to host %s, port %u\n", p->host, p->port);
			(void)ctl_queue(p, p->cookie, PERF_COOKIE_LEN);
			p->phase = C_STATE;
			p->connect_deadline = MPT_TIME_NEVER;
			break;
		case C_STATE: {
			int8_t st;
			if (!ctl_take(p, &st, 1))
				return;
			client_state(p, st, now);
			break;
		}
		case C_RESULTS: {
			bool bad;
			cJSON *j = ctl_take_json(p, &bad);
			if (bad) {
				fail(p, "malformed results from the server");
				return;
			}
			if (!j)
				return;
			bool ok = parse_results(p, j);
			cJSON_Delete(j);
			if (!ok) {
				fail(p, "results from the server lack iperf3's fields");
				return;
			}
			p->phase = C_STATE;
			break;
		}
		case C_ERRNO: {
			uint8_t b[8];
			if (!ctl_take(p, b, 8))
				return;
			int32_t ie = (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
					       (uint32_t)b[2] << 8 | b[3]);
			fail(p, "the server reported an error (iperf3 error %d)", ie);
			return;
		}
		case C_LINGER:
		case S_LISTEN:
		case S_PARAMS:
		case S_STREAM:
		case S_RUNNING:
		case S_RESULTS:
		case S_DONE:
		case P_FINISHED:
			return;
		}
	}
}

/* ---- server -------------------------------------------------------------- */

static void server_error(struct perf *p, int ie, const char *what)
{
	uint8_t b[9] = {(uint8_t)(int8_t)ST_SERVER_ERROR};
	uint32_t v = (uint32_t)ie;
	b[1] = (uint8_t)(v >> 24);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 8);
	b[4] = (uint8_t)v;
	(void)ctl_queue(p, b, sizeof(b));
	fail(p, "%s", what);
}

static void server_params(struct perf *p, const cJSON *j)
{
	struct perf_params *m = &p->prm;
	if (!jtrue(j, "tcp")) {
		server_error(p, IPERF_IEPROTOCOL,
			     "the client asked for a protocol other than TCP (not supported)");
		return;
	}
	double par = jnum(j, "parallel", 1);
	if (par < 1 || par > PERF_MAX_STREAMS) {
		char msg[96];
		snprintf(msg, sizeof(msg), "the client asked for %.0f parallel streams (1-%d)", par,
			 PERF_MAX_STREAMS);
		server_error(p, IPERF_IENUMSTREAMS, msg);
		return;
	}
	m->nstreams = (int)par;
	m->reverse = jtrue(j, "reverse");
	m->bidir = jtrue(j, "bidirectional");
	m->duration = jnum(j, "time", 10);
	double n = jnum(j, "num", 0);
	m->nbytes = n > 0 ? (uint64_t)n : 0;
	n = jnum(j, "blockcount", 0);
	m->nblocks = n > 0 ? (uint64_t)n : 0;
	double len = jnum(j, "len", PERF_BLKSIZE);
	m->blksize = (len >= 1 && len <= PERF_BLKSIZE * 8) ? (uint32_t)len : PERF_BLKSIZE;
	m->omit = jnum(j, "omit", 0);
	if (m->omit < 0 || m->omit > 600)
		m->omit = 0;
	double bw = jnum(j, "bandwidth", 0);
	m->rate = bw > 0 ? (uint64_t)bw : 0;
	double mss = jnum(j, "MSS", 0);
	m->mss = mss >= 88 && mss <= 9000 ? (uint16_t)mss : 0;
	double w = jnum(j, "window", 0);
	m->window = w > 0 && w < 1e9 ? (uint32_t)w : 0;
	m->get_server_output = jtrue(j, "get_server_output");
	jstr(j, "title", m->title, sizeof(m->title));
	jstr(j, "extra_data", m->extra_data, sizeof(m->extra_data));
	jstr(j, "congestion", m->cc, sizeof(m->cc));
	p->want_streams = m->nstreams * (m->bidir ? 2 : 1);
	ctl_state(p, ST_CREATE_STREAMS);
	p->phase = S_STREAM;
}

/* Forget the test; ready for the next client. */
static void server_reset(struct perf *p, uint64_t now)
{
	bool bad = p->failed_test;
	close_streams(p, bad, now);
	close_sock(&p->ctl.s, bad, now);
	p->nstreams = 0;
	p->ctl.connected = p->ctl.eof = p->ctl.shut = false;
	p->ctl.err = 0;
	p->ctl.in_len = p->ctl.out_len = 0;
	p->running = p->ended = p->omitting = false;
	p->deadline = p->next_iv = p->pace_at = MPT_TIME_NEVER;
	free(perf_capture_take(&p->out));
	perf_report_finish(p);
	if (bad)
		p->status = 1;
	if (p->one_off) {
		p->phase = P_FINISHED;
		mpt_backend_stop(p->be, p->status);
		return;
	}
	p->failed_test = false;
	p->phase = S_LISTEN;
	perf_report_init(p);
	p->test_no++;
	perf_printf(&p->out,
		    "-----------------------------------------------------------\n"
		    "Server listening on %u (test #%d)\n"
		    "-----------------------------------------------------------\n",
		    p->port, p->test_no);
}

/* A connection sent its cookie: the control connection, a data stream, or
 * a second client that has to wait. */
static void server_classify(struct perf *p, struct mpt_sock *s, const uint8_t *cookie, uint64_t now)
{
	if (p->phase == S_LISTEN) {
		memcpy(p->cookie, cookie, PERF_COOKIE_LEN);
		p->cookie[PERF_COOKIE_LEN - 1] = '\0';
		p->ctl.s = s;
		p->ctl.connected = true;
		memset(&p->prm, 0, sizeof(p->prm));
		struct mpt_endpoint r;
		char a[64];
		mpt_sock_endpoints(s, NULL, &r);
		perf_capture_start(&p->out);
		perf_printf(&p->out, "Accepted connection from %s, port %u\n",
			    mpt_addr_format(&r.addr, a, sizeof(a)), r.port);
		ctl_state(p, ST_PARAM_EXCHANGE);
		p->phase = S_PARAMS;
		return;
	}
	if (p->phase == S_STREAM && p->nstreams < p->want_streams &&
	    !memcmp(cookie, p->cookie, PERF_COOKIE_LEN)) {
		/* iperf3's roles by accept order: with --bidir the first
		 * streams are the client's sending ones (we receive). */
		bool sender = p->prm.bidir ? p->nstreams >= p->prm.nstreams : p->prm.reverse;
		struct perf_stream *st = new_stream(p, s, sender);
		st->connected = true;
		perf_report_stream(p, st);
		if (p->nstreams == p->want_streams) {
			perf_report_test_start(p);
			ctl_state(p, ST_TEST_START);
			ctl_state(p, ST_TEST_RUNNING);
			start_test(p, now);
			p->phase = S_RUNNING;
		}
		return;
	}
	/* iperf3 tells a second client it is busy. */
	uint8_t denied = (uint8_t)(int8_t)ST_ACCESS_DENIED;
	(void)mpt_send(s, &denied, 1, now);
	mpt_close(s, now);
}

/* Read the cookies of the accepted connections and classify them; true when
 * a slot that was taken is free again. */
static bool server_read_cookies(struct perf *p, uint64_t now)
{
	size_t npend = sizeof(p->pend) / sizeof(p->pend[0]);
	bool freed = false;
	for (size_t i = 0; i < npend; i++) {
		if (!p->pend[i].s)
			continue;
		while (p->pend[i].s && p->pend[i].len < PERF_COOKIE_LEN) {
			long n = mpt_recv(p->pend[i].s, p->pend[i].cookie + p->pend[i].len,
					  PERF_COOKIE_LEN - p->pend[i].len, now);
			if (n == MPT_ERR_AGAIN)
				break;
			if (n <= 0) {
				close_sock(&p->pend[i].s, true, now);
				break;
			}
			p->pend[i].len += (size_t)n;
		}
		if (p->pend[i].s && p->pend[i].len == PERF_COOKIE_LEN) {
			struct mpt_sock *c = p->pend[i].s;
			p->pend[i].s = NULL;
			server_classify(p, c, p->pend[i].cookie, now);
		}
		if (!p->pend[i].s)
			freed = true;
	}
	return freed;
}

static void server_accept(struct perf *p, uint64_t now)
{
	size_t npend = sizeof(p->pend) / sizeof(p->pend[0]);
	for (;;) {
		/* With every slot waiting for a cookie, the rest stay in the
		 * listener's queue until a slot is free (-P 128 streams
		 * connect at once: aborting them failed the test). */
		size_t i = 0;
		for (;;) {
			while (i < npend && p->pend[i].s)
				i++;
			if (i == npend)
				break;
			struct mpt_sock *s = mpt_accept(p->lsock);
			if (!s)
				break;
			struct mpt_endpoint l;
			mpt_sock_endpoints(s, &l, NULL);
			/* -4 / -6: the other family is refused. */
			if (p->family && l.addr.family != p->family) {
				mpt_abort(s, now);
				continue;
			}
			memset(&p->pend[i], 0, sizeof(p->pend[i]));
			p->pend[i].s = s;
		}
		bool freed = server_read_cookies(p, now);
		if (i < npend || !freed)
			return;
	}
}

static void server_step(struct perf *p, uint64_t now)
{
	while (!p->failed_test) {
		switch (p->phase) {
		case S_PARAMS: {
			bool bad;
			cJSON *j = ctl_take_json(p, &bad);
			if (bad) {
				fail(p, "malformed parameters from the client");
				return;
			}
			if (!j)
				return;
			server_params(p, j);
			cJSON_Delete(j);
			break;
		}
		case S_RUNNING: {
			int8_t st;
			if (!ctl_take(p, &st, 1))
				return;
			if (st == ST_TEST_END) {
				end_test(p, now);
				/* iperf3's server closes its streams here, and its
				 * client, reading whole blocks, waits for that FIN. */
				for (int i = 0; i < p->nstreams; i++)
					if (p->streams[i].s)
						(void)mpt_shutdown(p->streams[i].s, now);
				ctl_state(p, ST_EXCHANGE_RESULTS);
				p->phase = S_RESULTS;
			} else if (st == ST_CLIENT_TERMINATE) {
				/* iperf3's client on SIGINT: our partial results. */
				end_test(p, now);
				print_summary(p, true);
				fail(p, "the client has terminated");
			} else {
				fail(p, "unexpected state %d from the client", st);
			}
			break;
		}
		case S_RESULTS: {
			bool bad;
			cJSON *j = ctl_take_json(p, &bad);
			if (bad) {
				fail(p, "malformed results from the client");
				return;
			}
			if (!j)
				return;
			bool ok = parse_results(p, j);
			cJSON_Delete(j);
			if (!ok) {
				fail(p, "results from the client lack iperf3's fields");
				return;
			}
			print_summary(p, false);
			/* --get-server-output: our text, or our JSON document. */
			char *text = NULL;
			cJSON *doc = NULL;
			if (p->prm.get_server_output) {
				if (p->out.json)
					doc = cJSON_Duplicate(p->rep.top, true);
				else
					text = perf_capture_take(&p->out);
			}
			cJSON *mine = perf_results_json(p, text ? text : (doc ? NULL : ""), doc);
			if (!p->prm.get_server_output)
				cJSON_DeleteItemFromObject(mine, "server_output_text");
			free(text);
			(void)ctl_json(p, mine);
			cJSON_Delete(mine);
			ctl_state(p, ST_DISPLAY_RESULTS);
			p->phase = S_DONE;
			break;
		}
		case S_DONE: {
			int8_t st;
			if (ctl_take(p, &st, 1)) {
				if (st != ST_IPERF_DONE)
					fail(p, "unexpected state %d after the results", st);
				server_reset(p, now);
				return;
			}
			if (p->ctl.eof || p->ctl.err) {
				/* Closing without IPERF_DONE after the results is harmless. */
				server_reset(p, now);
			}
			return;
		}
		case S_LISTEN:
		case S_STREAM:
		case C_CONNECTING:
		case C_STATE:
		case C_RESULTS:
		case C_ERRNO:
		case C_LINGER:
		case P_FINISHED:
			return;
		}
	}
}

/* ---- event loop glue ----------------------------------------------------- */

static struct perf_stream *stream_of(struct perf *p, const struct mpt_sock *s)
{
	for (int i = 0; i < p->nstreams; i++)
		if (p->streams[i].s == s)
			return &p->streams[i];
	return NULL;
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct perf *p = ud;
	ctl_server_on_event(s, ev); /* path-manager events for mpt monitor */
	if (s == p->lsock) {
		if (ev & MPT_EV_ACCEPTABLE)
			p->listener_ready = true;
		return;
	}
	if (s == p->ctl.s) {
		if (ev & MPT_EV_CONNECTED)
			p->ctl.connected = true;
		if ((ev & MPT_EV_ERROR) && !p->ctl.err) {
			p->ctl.err = mpt_sock_error(s);
			if (!p->ctl.err)
				p->ctl.err = MPT_ERR_RESET;
		}
		return;
	}
	struct perf_stream *st = stream_of(p, s);
	if (!st)
		return;
	if (ev & MPT_EV_CONNECTED)
		st->connected = true;
	if ((ev & MPT_EV_ERROR) && !st->err) {
		st->err = mpt_sock_error(s);
		if (!st->err)
			st->err = MPT_ERR_RESET;
	}
}

static void client_finish(struct perf *p)
{
	/* Close what is left now (mpt monitor sees each CLOSED). */
	uint64_t now = mpt_backend_now();
	close_streams(p, p->failed_test, now);
	close_sock(&p->ctl.s, p->failed_test, now);
	p->phase = P_FINISHED;
	if (p->failed_test)
		p->status = 1;
	mpt_backend_stop(p->be, p->status);
}

static bool client_idle(struct perf *p, uint64_t now)
{
	bool more = false;
	ctl_fill(p, now);
	client_step(p, now);
	more = pump_all(p, now);
	if (!p->failed_test && p->phase == C_CONNECTING && now >= p->connect_deadline)
		fail(p, "unable to connect to server: %s",
		     p->ctl.err ? mpt_strerror(p->ctl.err) : "timed out");
	if (!p->failed_test && p->phase != C_LINGER) {
		for (int i = 0; i < p->nstreams && !p->failed_test; i++) {
			const struct perf_stream *st = &p->streams[i];
			/* A data-stream error after TEST_END is iperf3 closing it. */
			if (st->err && !p->ended)
				fail(p, "data stream %d: %s", st->id, mpt_strerror(st->err));
			else if (st->eof && p->running && !p->ended && !st->sender)
				fail(p, "the server closed data stream %d during the test", st->id);
		}
	}
	if (!p->failed_test && p->phase != C_LINGER && p->phase != C_CONNECTING) {
		const char *why = ctl_problem(p);
		if (why)
			fail(p, "control connection: %s", why);
	}
	if (p->phase == C_CONNECTING && p->ctl.err && !p->failed_test)
		fail(p, "unable to connect to server: %s", mpt_strerror(p->ctl.err));
	if (!p->failed_test) {
		run_timers(p, now);
		bool done = p->running && !p->ended && !p->omitting &&
			    ((p->deadline != MPT_TIME_NEVER && now >= p->deadline) ||
			     (p->prm.nbytes && (p->prm.reverse ? total_received(p)
							       : total_sent(p)) >= p->prm.nbytes) ||
			     (p->prm.nblocks && total_blocks(p) >= p->prm.nblocks));
		if (done) {
			end_test(p, now);
			ctl_state(p, ST_TEST_END);
			p->deadline = MPT_TIME_NEVER;
			p->next_iv = MPT_TIME_NEVER;
		}
	}
	ctl_flush(p, now);
	if (p->failed_test) {
		client_finish(p);
		return false;
	}
	if (p->phase == C_LINGER) {
		/* Our IPERF_DONE must reach the server before we go: it closes. */
		if (p->ctl.out_len == 0 && !p->ctl.shut && !p->ctl.err && p->ctl.s) {
			(void)mpt_shutdown(p->ctl.s, now);
			p->ctl.shut = true;
		}
		if (p->ctl.eof || p->ctl.err || now >= p->deadline)
			client_finish(p);
	}
	return more;
}

static bool server_idle(struct perf *p, uint64_t now)
{
	bool more = false;
	if (p->listener_ready || p->phase == S_LISTEN || p->phase == S_STREAM) {
		p->listener_ready = false;
		server_accept(p, now);
	}
	if (p->ctl.s)
		ctl_fill(p, now);
	server_step(p, now);
	more = pump_all(p, now);
	if (!p->failed_test && p->ctl.s && p->phase != S_DONE) {
		const char *why = ctl_problem(p);
		if (why)
			fail(p, "the client has unexpectedly closed the connection (%s)", why);
	}
	for (int i = 0; i < p->nstreams && !p->failed_test; i++)
		if (p->streams[i].err && p->running && !p->ended)
			fail(p, "data stream %d: %s", p->streams[i].id,
			     mpt_strerror(p->streams[i].err));
	if (!p->failed_test)
		run_timers(p, now);
	if (!p->failed_test && p->prm.nblocks && p->running && !p->ended)
		(void)0; /* the client ends -k tests */
	ctl_flush(p, now);
	if (p->failed_test && p->phase != P_FINISHED) {
		ctl_flush(p, now);
		server_reset(p, now);
		return false;
	}
	return more;
}

static bool drain_step(struct perf *p, uint64_t now);

/*
 * SIGINT/SIGTERM/SIGHUP: as iperf3, print what was measured so far, tell the
 * peer (CLIENT_TERMINATE / SERVER_TERMINATE), then abort every connection
 * (MP_FASTCLOSE: the peer is not left with established subflows) and exit 1
 * after a short drain.
 */
static void handle_signal(struct perf *p, int signo, uint64_t now)
{
	if (signo == SIGUSR1) {
		ctl_server_print_counters(stderr, p->st, prog);
		return;
	}
	if (p->drain_end)
		return;
	bool test_on = p->running && !p->ended;
	if (test_on) {
		end_test(p, now);
		print_summary(p, true);
	}
	perf_report_error(p, "interrupt - the %s has terminated", p->server ? "server" : "client");
	/* As iperf3: CLIENT_TERMINATE / SERVER_TERMINATE on the control
	 * connection first (then its FIN; it is aborted only if the peer has not
	 * closed it by the end of the drain), then the data streams go
	 * (MP_FASTCLOSE). */
	if (p->ctl.s && p->ctl.connected && !p->ctl.err) {
		ctl_state(p, p->server ? ST_SERVER_TERMINATE : ST_CLIENT_TERMINATE);
		ctl_flush(p, now);
		p->ctl.shut = false;
	} else {
		close_sock(&p->ctl.s, true, now);
		close_streams(p, true, now);
	}
	p->term_by = now + PERF_TERM_NS;
	for (size_t i = 0; i < sizeof(p->pend) / sizeof(p->pend[0]); i++)
		close_sock(&p->pend[i].s, true, now);
	if (p->lsock) {
		mpt_close(p->lsock, now);
		p->lsock = NULL;
	}
	p->status = 1;
	p->phase = P_FINISHED;
	p->drain_end = now + PERF_DRAIN_NS;
	tool_timer_arm(&p->timer, p->drain_end);
	(void)drain_step(p, now);
}

/* During the drain after a signal: TERMINATE and our FIN go out on the
 * control connection, nothing more is written on the data streams; once the
 * peer has closed the control connection (it read TERMINATE: iperf3 reports
 * "the client has terminated"; reset data streams first, it would stop at
 * the read error instead) or a short while has passed, every connection is
 * aborted (MP_FASTCLOSE: nothing of ours stays ESTABLISHED at the peer);
 * then a little longer, for the resets to leave. */
static bool drain_step(struct perf *p, uint64_t now)
{
	if (p->ctl.s) {
		ctl_flush(p, now);
		if (!p->ctl.shut && p->ctl.out_len == 0 && !p->ctl.err) {
			(void)mpt_shutdown(p->ctl.s, now);
			p->ctl.shut = true;
		}
		ctl_fill(p, now);
		if (p->ctl.eof || p->ctl.err || now >= p->term_by) {
			close_sock(&p->ctl.s, true, now);
			close_streams(p, true, now);
			p->drain_end = now + PERF_DRAIN_NS;
		}
		tool_timer_arm(&p->timer, p->ctl.s ? p->term_by : p->drain_end);
		return false;
	}
	return now >= p->drain_end;
}

static void on_signal(void *ud, int signo)
{
	struct perf *p = ud;
	p->signo = signo; /* handled from the idle callback */
}

static void arm_timer(struct perf *p)
{
	uint64_t t = p->next_iv;
	if (p->deadline < t)
		t = p->deadline;
	if (p->connect_deadline < t)
		t = p->connect_deadline;
	if (p->omitting && p->omit_end < t)
		t = p->omit_end;
	if (p->pace_at < t)
		t = p->pace_at;
	tool_timer_arm(&p->timer, t);
}

static bool on_idle(void *ud)
{
	struct perf *p = ud;
	uint64_t now = mpt_backend_now();
	if (p->signo) {
		int s = p->signo;
		p->signo = 0;
		handle_signal(p, s, now);
	}
	if (p->drain_end) {
		if (drain_step(p, now))
			mpt_backend_stop(p->be, 1);
		return false;
	}
	if (p->phase == P_FINISHED)
		return false;
	if (p->pace_at <= now)
		p->pace_at = MPT_TIME_NEVER;
	bool more = p->server ? server_idle(p, now) : client_idle(p, now);
	if (p->phase != P_FINISHED)
		arm_timer(p);
	return more;
}

/* The control server's view: our connections (mpt ss). */
static size_t list_socks(void *ud, struct mpt_sock **out, size_t max)
{
	struct perf *p = ud;
	size_t n = 0;
	if (p->ctl.s && n < max)
		out[n++] = p->ctl.s;
	for (int i = 0; i < p->nstreams && n < max; i++)
		if (p->streams[i].s)
			out[n++] = p->streams[i].s;
	return n;
}

/* ---- command line -------------------------------------------------------- */

static bool parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

/* A number with an optional K/M/G/T suffix: powers of 1024 (kilo=1000 for
 * rates, as iperf3 does: -b uses 1000s). */
static bool parse_kmg(const char *s, double base, double lo, double hi, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	double mul = 1;
	if (*end) {
		switch (*end) {
		case 'k':
		case 'K':
			mul = base;
			break;
		case 'm':
		case 'M':
			mul = base * base;
			break;
		case 'g':
		case 'G':
			mul = base * base * base;
			break;
		case 't':
		case 'T':
			mul = base * base * base * base;
			break;
		default:
			return false;
		}
		if (end[1])
			return false;
	}
	v *= mul;
	if (v < lo || v > hi)
		return false;
	*out = (uint64_t)v;
	return true;
}

static int bad_arg(const char *opt, const char *arg, const char *what)
{
	fprintf(stderr, "%s: %s: '%s' is not %s\n", prog, opt, arg, what);
	return 2;
}

enum {
	OPT_BIDIR = 0x2000,
	OPT_LOGFILE,
	OPT_FORCEFLUSH,
	OPT_TIMESTAMPS,
	OPT_GSO,
	OPT_EXTRA,
	OPT_CTIMEOUT,
	OPT_CPORT,
	OPT_CTL,
	OPT_CHECK,
	OPT_UNSUPPORTED, /* + index into unsupported[] */
};

/* iperf3's options that make no sense here: one line each. */
static const struct {
	const char *name; /* long name */
	int shrt;         /* short letter, 0: none */
	int has_arg;
	const char *why;
} unsupported[] = {
    {"udp", 'u', no_argument, "UDP: mpt is a TCP/MPTCP stack"},
    {"sctp", 0, no_argument, "SCTP: mpt is a TCP/MPTCP stack"},
    {"xbind", 'X', required_argument, "SCTP: mpt is a TCP/MPTCP stack"},
    {"nstreams", 0, required_argument, "SCTP: mpt is a TCP/MPTCP stack"},
    {"zerocopy", 'Z', no_argument, "zero copy: the stack copies into its buffers anyway"},
    {"tos", 'S', required_argument, "the stack has no TOS/DSCP setting"},
    {"dscp", 0, required_argument, "the stack has no TOS/DSCP setting"},
    {"flowlabel", 'L', required_argument, "the stack has no IPv6 flow label setting"},
    {"affinity", 'A', required_argument, "CPU affinity: use taskset(1)"},
    {"daemon", 'D', no_argument, "daemon mode: use a service manager (docs/deployment.md)"},
    {"pidfile", 'I', required_argument, "pid files: use a service manager"},
    {"file", 'F', required_argument, "file transfer: use mpt cat"},
    {"fq-rate", 0, required_argument, "fair-queue pacing: use -b"},
    {"pacing-timer", 0, required_argument, "-b paces every millisecond"},
    {"bind-dev", 0, required_argument, "paths choose their devices (--path ...,dev=NAME)"},
    {"rcv-timeout", 0, required_argument, "not implemented"},
    {"snd-timeout", 0, required_argument, "not implemented"},
    {"dont-fragment", 0, no_argument, "not implemented"},
    {"repeating-payload", 0, no_argument, "the payload is always random"},
    {"udp-counters-64bit", 0, no_argument, "UDP: mpt is a TCP/MPTCP stack"},
    {"username", 0, required_argument, "iperf3 authentication is not implemented"},
    {"rsa-public-key-path", 0, required_argument, "iperf3 authentication is not implemented"},
    {"rsa-private-key-path", 0, required_argument, "iperf3 authentication is not implemented"},
    {"authorized-users-path", 0, required_argument, "iperf3 authentication is not implemented"},
    {"time-skew-threshold", 0, required_argument, "iperf3 authentication is not implemented"},
    {"server-bitrate-limit", 0, required_argument, "not implemented"},
    {"idle-timeout", 0, required_argument, "not implemented"},
    {"debug", 'd', optional_argument, "use -v (repeatable) for diagnostics"},
};
#define N_UNSUPPORTED (sizeof(unsupported) / sizeof(unsupported[0]))

int mpt_cmd_perf(int argc, char **argv)
{
	struct option lopts[64 + N_UNSUPPORTED];
	static const struct option base_opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"client", required_argument, NULL, 'c'},
	    {"server", no_argument, NULL, 's'},
	    {"port", required_argument, NULL, 'p'},
	    {"time", required_argument, NULL, 't'},
	    {"bytes", required_argument, NULL, 'n'},
	    {"blockcount", required_argument, NULL, 'k'},
	    {"reverse", no_argument, NULL, 'R'},
	    {"bidir", no_argument, NULL, OPT_BIDIR},
	    {"interval", required_argument, NULL, 'i'},
	    {"json", no_argument, NULL, 'J'},
	    {"one-off", no_argument, NULL, '1'},
	    {"parallel", required_argument, NULL, 'P'},
	    {"length", required_argument, NULL, 'l'},
	    {"bitrate", required_argument, NULL, 'b'},
	    {"bandwidth", required_argument, NULL, 'b'},
	    {"window", required_argument, NULL, 'w'},
	    {"set-mss", required_argument, NULL, 'M'},
	    {"congestion", required_argument, NULL, 'C'},
	    {"omit", required_argument, NULL, 'O'},
	    {"format", required_argument, NULL, 'f'},
	    {"title", required_argument, NULL, 'T'},
	    {"logfile", required_argument, NULL, OPT_LOGFILE},
	    {"forceflush", no_argument, NULL, OPT_FORCEFLUSH},
	    {"timestamps", optional_argument, NULL, OPT_TIMESTAMPS},
	    {"get-server-output", no_argument, NULL, OPT_GSO},
	    {"extra-data", required_argument, NULL, OPT_EXTRA},
	    {"version4", no_argument, NULL, '4'},
	    {"version6", no_argument, NULL, '6'},
	    {"bind", required_argument, NULL, 'B'},
	    {"connect-timeout", required_argument, NULL, OPT_CTIMEOUT},
	    {"cport", required_argument, NULL, OPT_CPORT},
	    {"no-delay", no_argument, NULL, 'N'},
	    {"ctl", required_argument, NULL, OPT_CTL},
	    {"check", no_argument, NULL, OPT_CHECK},
	    MPT_STACK_LONGOPTS};
	size_t nl = sizeof(base_opts) / sizeof(base_opts[0]);
	memcpy(lopts, base_opts, sizeof(base_opts));
	char shorts[160] = "c:sp:t:n:k:Ri:J1P:l:b:w:M:C:O:f:T:46B:Nh" MPT_STACK_SHORTOPTS;
	for (size_t i = 0; i < N_UNSUPPORTED; i++) {
		lopts[nl++] = (struct option){unsupported[i].name, unsupported[i].has_arg, NULL,
					      OPT_UNSUPPORTED + (int)i};
		if (unsupported[i].shrt) {
			size_t l = strlen(shorts);
			shorts[l++] = (char)unsupported[i].shrt;
			if (unsupported[i].has_arg == required_argument)
				shorts[l++] = ':';
			else if (unsupported[i].has_arg == optional_argument) {
				shorts[l++] = ':';
				shorts[l++] = ':';
			}
			shorts[l] = '\0';
		}
	}
	lopts[nl] = (struct option){NULL, 0, NULL, 0};

	struct mpt_tool_opts o;
	mpt_opts_init(&o);
	struct perf *p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	perf_out_init(&p->out);
	p->port = PERF_PORT;
	p->prm.duration = 10;
	p->prm.blksize = PERF_BLKSIZE;
	p->prm.nstreams = 1;
	p->interval = 1;
	p->connect_ns = PERF_CONNECT_NS;
	p->timer.fd = p->sig.fd = -1;
	bool client = false, time_set = false;
	const char *logfile = NULL, *bind_arg = NULL, *ctl_path = NULL;
	bool check_only = false;
	double v;
	uint64_t u;
	int ch, rc = 2;
	optind = 1;
	/* No '+': options may follow the operands (GNU getopt permutes). */
	while ((ch = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		if (ch >= OPT_UNSUPPORTED && ch < OPT_UNSUPPORTED + (int)N_UNSUPPORTED) {
			size_t i = (size_t)(ch - OPT_UNSUPPORTED);
			fprintf(stderr, "%s: --%s is not supported: %s\n", prog,
				unsupported[i].name, unsupported[i].why);
			goto out;
		}
		bool handled = true;
		for (size_t i = 0; i < N_UNSUPPORTED; i++) {
			if (unsupported[i].shrt && ch == unsupported[i].shrt) {
				fprintf(stderr, "%s: -%c (--%s) is not supported: %s\n", prog, ch,
					unsupported[i].name, unsupported[i].why);
				goto out;
			}
		}
		switch (ch) {
		case 'c':
			client = true;
			p->host = optarg;
			break;
		case 's':
			p->server = true;
			break;
		case 'p':
			if (!parse_num(optarg, 1, 65535, &v) || v != floor(v)) {
				rc = bad_arg("-p", optarg, "a port number (1-65535)");
				goto out;
			}
			p->port = (uint16_t)v;
			break;
		case 't':
			if (!parse_num(optarg, 0.1, 86400, &v)) {
				rc = bad_arg("-t", optarg, "a time in seconds (0.1-86400)");
				goto out;
			}
			p->prm.duration = v;
			time_set = true;
			break;
		case 'n':
			if (!parse_kmg(optarg, 1024, 1, 1e15, &p->prm.nbytes)) {
				rc = bad_arg("-n", optarg, "a byte count (e.g. 10M)");
				goto out;
			}
			break;
		case 'k':
			if (!parse_kmg(optarg, 1024, 1, 1e12, &p->prm.nblocks)) {
				rc = bad_arg("-k", optarg, "a block count (e.g. 100K)");
				goto out;
			}
			break;
		case 'R':
			p->prm.reverse = true;
			break;
		case OPT_BIDIR:
			p->prm.bidir = true;
			break;
		case 'i':
			if (!parse_num(optarg, 0, 3600, &v) || (v > 0 && v < 0.1)) {
				rc = bad_arg("-i", optarg, "an interval (0, or 0.1-3600 seconds)");
				goto out;
			}
			p->interval = v;
			break;
		case 'J':
			p->out.json = true;
			break;
		case '1':
			p->one_off = true;
			break;
		case 'P':
			if (!parse_num(optarg, 1, PERF_MAX_STREAMS, &v) || v != floor(v)) {
				rc = bad_arg("-P", optarg, "a stream count (1-128)");
				goto out;
			}
			p->prm.nstreams = (int)v;
			break;
		case 'l':
			if (!parse_kmg(optarg, 1024, 1, PERF_BLKSIZE * 8, &u)) {
				rc = bad_arg("-l", optarg, "a write length (1 to 1M)");
				goto out;
			}
			p->prm.blksize = (uint32_t)u;
			break;
		case 'b':
			if (!parse_kmg(optarg, 1000, 0, 1e13, &p->prm.rate)) {
				rc = bad_arg("-b", optarg, "a bitrate (e.g. 50M; 0: unlimited)");
				goto out;
			}
			break;
		case 'w':
			if (!parse_kmg(optarg, 1024, 4096, 256.0 * 1024 * 1024, &u)) {
				rc = bad_arg("-w", optarg, "a buffer size (4K to 256M)");
				goto out;
			}
			p->prm.window = (uint32_t)u;
			break;
		case 'M':
			if (!parse_num(optarg, 88, 9000, &v) || v != floor(v)) {
				rc = bad_arg("-M", optarg, "an MSS (88-9000)");
				goto out;
			}
			p->prm.mss = (uint16_t)v;
			break;
		case 'C':
			if (mpt_opts_handle(&o, prog, MPT_OPT_CC, optarg) < 0)
				goto out;
			snprintf(p->prm.cc, sizeof(p->prm.cc), "%s", optarg);
			break;
		case 'O':
			if (!parse_num(optarg, 0, 600, &v)) {
				rc = bad_arg("-O", optarg, "a number of seconds (0-600)");
				goto out;
			}
			p->prm.omit = v;
			break;
		case 'f':
			if (strlen(optarg) != 1 || !strchr("kmgtKMGT", optarg[0])) {
				rc = bad_arg("-f", optarg, "one of k m g t K M G T");
				goto out;
			}
			p->out.unit = optarg[0];
			break;
		case 'T':
			snprintf(p->prm.title, sizeof(p->prm.title), "%s", optarg);
			p->out.title = p->prm.title;
			break;
		case OPT_LOGFILE:
			logfile = optarg;
			break;
		case OPT_FORCEFLUSH:
			break; /* every line is flushed */
		case OPT_TIMESTAMPS:
			p->out.ts_fmt = optarg && *optarg ? optarg : "%c ";
			break;
		case OPT_GSO:
			p->prm.get_server_output = true;
			break;
		case OPT_EXTRA:
			snprintf(p->prm.extra_data, sizeof(p->prm.extra_data), "%s", optarg);
			break;
		case '4':
			p->family = 4;
			break;
		case '6':
			p->family = 6;
			break;
		case 'B':
			bind_arg = optarg;
			break;
		case OPT_CPORT:
			if (!parse_num(optarg, 1, 65535, &v)) {
				rc = bad_arg("--cport", optarg, "a port (1-65535)");
				goto out;
			}
			p->cport = (uint16_t)v;
			break;
		case OPT_CTIMEOUT:
			if (!parse_num(optarg, 1, 3600000, &v)) {
				rc = bad_arg("--connect-timeout", optarg,
					     "a number of milliseconds (1-3600000)");
				goto out;
			}
			p->connect_ns = (uint64_t)(v * 1e6);
			break;
		case OPT_CTL:
			ctl_path = optarg;
			break;
		case OPT_CHECK:
			check_only = true;
			break;
		case 'N':
			break; /* Nagle is off unless asked for */
		case 'h':
			perf_usage(stdout);
			rc = 0;
			goto out;
		case '?':
			fprintf(stderr, "%s: run 'mpt perf --help' for the options\n", prog);
			goto out;
		default:
			handled = false;
			break;
		}
		if (!handled) {
			int r = mpt_opts_handle(&o, prog, ch, optarg);
			if (r != 0) {
				if (r > 0)
					fprintf(stderr,
						"%s: run 'mpt perf --help' for the options\n",
						prog);
				goto out;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		goto out;
	}
	if (client == p->server) {
		fprintf(stderr, "%s: give exactly one of -c HOST and -s\n", prog);
		goto out;
	}
	if (p->server &&
	    (p->prm.reverse || p->prm.nbytes || p->prm.nblocks || time_set || p->prm.bidir ||
	     p->prm.nstreams != 1 || p->prm.rate || p->prm.omit || p->prm.get_server_output)) {
		fprintf(stderr,
			"%s: -R, --bidir, -t, -n, -k, -P, -b, -O and --get-server-output "
			"are client options\n",
			prog);
		goto out;
	}
	if (client && p->one_off) {
		fprintf(stderr, "%s: -1 is a server option\n", prog);
		goto out;
	}
	if ((p->prm.nbytes != 0) + (p->prm.nblocks != 0) + time_set > 1) {
		fprintf(stderr, "%s: give one of -t, -n and -k\n", prog);
		goto out;
	}
	if (p->prm.reverse && p->prm.bidir) {
		fprintf(stderr, "%s: give -R or --bidir, not both\n", prog);
		goto out;
	}
	if (p->prm.nbytes || p->prm.nblocks)
		p->prm.duration = 0;
	if (client) {
		if (mpt_addr_parse(&p->remote.addr, p->host) < 0) {
			fprintf(stderr, "%s: '%s' is not an IPv4 or IPv6 address\n", prog, p->host);
			goto out;
		}
		if (p->family && p->remote.addr.family != p->family) {
			fprintf(stderr, "%s: %s is not an IPv%d address (-%d)\n", prog, p->host,
				p->family, p->family);
			goto out;
		}
		p->remote.port = p->port;
	}
	/* The stack knobs -w and -M set. */
	if (p->prm.window)
		o.be.stack.tcp.sndbuf = o.be.stack.tcp.rcvbuf = p->prm.window;
	if (p->prm.mss)
		o.be.stack.tcp.mss = p->prm.mss;
	if (mpt_opts_finish(&o, prog) < 0)
		goto out;
	p->verbose = o.be.verbose > 0;
	p->cc_name = o.cc;
	p->stack_sndbuf = o.be.stack.tcp.sndbuf ? o.be.stack.tcp.sndbuf : 256u * 1024u;
	p->stack_rcvbuf = o.be.stack.tcp.rcvbuf ? o.be.stack.tcp.rcvbuf : 256u * 1024u;
	if (bind_arg) {
		struct mpt_addr a;
		size_t i;
		if (mpt_addr_parse(&a, bind_arg) < 0) {
			fprintf(stderr, "%s: -B: '%s' is not an IP address\n", prog, bind_arg);
			goto out;
		}
		for (i = 0; i < o.be.n_paths; i++)
			if (mpt_addr_equal(&o.be.paths[i].addr, &a))
				break;
		if (i == o.be.n_paths) {
			fprintf(stderr, "%s: -B %s: not the address of a --path\n", prog, bind_arg);
			goto out;
		}
		p->bind = &o.be.paths[i].addr;
	}
	if (client) {
		if (p->bind) {
			if (p->bind->family != p->remote.addr.family) {
				fprintf(stderr, "%s: -B %s is not of %s's family\n", prog, bind_arg,
					p->host);
				goto out;
			}
			p->local = p->bind;
		}
		for (size_t i = 0; i < o.be.n_paths && !p->local; i++)
			if (o.be.paths[i].addr.family == p->remote.addr.family)
				p->local = &o.be.paths[i].addr;
		if (!p->local) {
			fprintf(stderr, "%s: no --path of the same family (IPv%u) as %s\n", prog,
				p->remote.addr.family, p->host);
			goto out;
		}
	}
	if (logfile) {
		p->out.f = fopen(logfile, "a");
		if (!p->out.f) {
			fprintf(stderr, "%s: --logfile %s: %s\n", prog, logfile, strerror(errno));
			p->out.f = stdout;
			goto out;
		}
	}

	rc = 1;
	if (check_only) {
		rc = mpt_opts_check_setup(&o, prog) < 0 ? 1 : 0;
		goto out;
	}
	/* The kernel must leave our addresses to us. */
	if (mpt_opts_check_host(&o, prog) < 0)
		goto out;
	o.be.stack.on_event = on_event;
	o.be.stack.event_ud = p;
	char err[256];
	p->buf = malloc(PERF_BLKSIZE * 8);
	p->ctl.in = malloc(PERF_CTL_MAX);
	if (!p->buf || !p->ctl.in) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	/* Data that compresses badly, like iperf3's random buffer. */
	mpt_rand_default(p->buf, PERF_BLKSIZE * 8, NULL);
	if (mpt_backend_create(&o.be, &p->be, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto out;
	}
	p->st = mpt_backend_stack(p->be);
	if (tool_timer_open(&p->timer, p->be) < 0 ||
	    tool_signals_open(&p->sig, p->be, on_signal, p) < 0) {
		fprintf(stderr, "%s: timer/signals: %s\n", prog, strerror(errno));
		goto out;
	}
	if (ctl_server_open(p->be, p->st, "perf", ctl_path, list_socks, p, prog) < 0)
		goto out;
	p->next_iv = p->deadline = p->connect_deadline = p->pace_at = MPT_TIME_NEVER;
	mpt_backend_set_idle(p->be, on_idle, p);
	perf_report_init(p);
	uint64_t now = mpt_backend_now();
	if (p->server) {
		struct mpt_endpoint any = {.addr = {.family = 0}, .port = p->port};
		if (p->bind)
			any.addr = *p->bind;
		int r = mpt_listen(p->st, &any, PERF_BACKLOG, &p->lsock);
		if (r < 0) {
			fprintf(stderr, "%s: cannot listen on port %u: %s\n", prog, p->port,
				mpt_strerror(r));
			goto out;
		}
		p->phase = S_LISTEN;
		p->test_no = 1;
		perf_printf(&p->out,
			    "-----------------------------------------------------------\n"
			    "Server listening on %u (test #1)\n"
			    "-----------------------------------------------------------\n",
			    p->port);
	} else {
		p->want_streams = p->prm.nstreams * (p->prm.bidir ? 2 : 1);
		make_cookie(p->cookie);
		/* No route: fail now, as iperf3's connect() would. */
		if (mpt_opts_route_check(&o, p->local, &p->remote, prog) < 0)
			goto out;
		int r = mpt_connect(p->st, &p->remote, p->local, now, &p->ctl.s);
		if (r < 0) {
			fprintf(stderr, "%s: cannot connect to %s port %u: %s\n", prog, p->host,
				p->port, mpt_strerror(r));
			goto out;
		}
		p->phase = C_CONNECTING;
		p->connect_deadline = now + p->connect_ns;
	}
	int r = mpt_backend_run(p->be);
	rc = (r == 0 && p->status == 0) ? 0 : 1;
	if (!p->server && !p->out.json && o.be.verbose) {
		struct mpt_backend_stats bs;
		mpt_backend_stats(p->be, &bs);
		fprintf(stderr,
			"%s: tun rx %" PRIu64 " pkts, tx %" PRIu64 " pkts (dropped %" PRIu64
			"), emulated loss %" PRIu64 "\n",
			prog, bs.rx_pkts, bs.tx_pkts, bs.tx_drops, bs.emu_lost);
	}
out:
	if (p->rep.top)
		perf_report_finish(p);
	ctl_server_close();
	tool_timer_close(&p->timer, p->be);
	if (p->be)
		mpt_backend_destroy(p->be); /* frees every socket; -vv: counters */
	tool_signals_close(&p->sig, NULL);
	if (p->out.f && p->out.f != stdout)
		fclose(p->out.f);
	free(perf_capture_take(&p->out));
	free(p->srv_text);
	cJSON_Delete(p->srv_json);
	free(p->buf);
	free(p->ctl.in);
	free(p->ctl.out);
	free(p);
	return rc;
}
