/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt perf`: iperf3's TCP test over mpt's stack on TUN devices, so that a
 * stock iperf3 (client or server, plain TCP or the kernel's MPTCP through
 * mptcpize) is the peer.
 *
 *   mpt perf -c HOST [-p PORT] [-t SECS | -n BYTES] [-R] [-i SECS] [-J] [stack options]
 *   mpt perf -s [-p PORT] [-1] [-i SECS] [-J] [stack options]
 *
 * The iperf3 protocol (as iperf3 3.x speaks it): the client opens the control
 * connection and sends a 37-byte cookie; the server then drives the test with
 * one-byte states: PARAM_EXCHANGE (the client sends its parameters as JSON
 * with a 4-byte big-endian length), CREATE_STREAMS (the client connects the
 * data stream, which starts with the same cookie), TEST_START, TEST_RUNNING.
 * The client ends the test with TEST_END; the server answers
 * EXCHANGE_RESULTS (client's results JSON, then the server's),
 * DISPLAY_RESULTS, and the client closes with IPERF_DONE.  Only one TCP data
 * stream is supported (-P 1).
 *
 * Every stack call happens from the backend's idle callback; the stack's
 * event callback only records what happened (the engine must not be
 * re-entered from inside its own callbacks for closes).
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
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "perf.h"
#include "tool.h"

#define PERF_PORT        5201
#define PERF_BLKSIZE     (128u * 1024u)
#define PERF_CTL_MAX     (256u * 1024u) /* largest control message we accept */
#define PERF_BACKLOG     8
#define PERF_MAX_PENDING 4
#define PERF_LINGER_NS   (3 * MPT_NS_PER_S)
#define PERF_CONNECT_NS  (30 * MPT_NS_PER_S)
#define PERF_SEND_BUDGET (4u * 1024u * 1024u) /* bytes per idle call before yielding */

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
	S_STREAM,  /* CREATE_STREAMS sent: waiting for the data stream */
	S_RUNNING, /* test running: waiting for TEST_END */
	S_RESULTS, /* EXCHANGE_RESULTS sent: waiting for the client's results */
	S_DONE,    /* DISPLAY_RESULTS sent: waiting for IPERF_DONE */
	P_FINISHED,
};

/* A connection whose first bytes (the cookie) have not all arrived. */
struct pending {
	struct mpt_sock *s;
	uint8_t cookie[PERF_COOKIE_LEN];
	size_t len;
};

struct ctl {
	struct mpt_sock *s;
	bool connected, eof, shut;
	int err;
	uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_cap;
};

struct stream {
	struct mpt_sock *s;
	bool connected;
	int err;
	bool eof;
	size_t cookie_off; /* client: cookie bytes sent so far */
	uint64_t bytes;    /* counted during the test */
	uint64_t iv_bytes; /* at the start of the current interval */
	uint32_t iv_retr;
};

struct perf {
	struct mpt_backend *be;
	struct mpt_stack *st;
	bool server, one_off, json;
	/* test parameters (client: from the command line; server: from the client) */
	bool reverse;
	double duration; /* seconds; 0 with -n */
	uint64_t nbytes;
	uint32_t blksize;
	double interval;
	uint16_t port;
	const char *host;
	struct mpt_endpoint remote;
	const struct mpt_addr *local;
	enum phase phase;
	struct ctl ctl;
	struct stream ds;
	struct mpt_sock *lsock;
	struct pending pend[PERF_MAX_PENDING];
	char cookie[PERF_COOKIE_LEN];
	bool listener_ready;
	int test_no;
	/* timing */
	bool running, ended;
	uint64_t t_start, t_stop, next_iv, iv_start, deadline, connect_deadline;
	uint64_t armed;
	int tfd;
	struct rusage ru0;
	double cpu[3];
	/* the peer's results */
	uint64_t peer_bytes;
	double peer_secs;
	int64_t peer_retr;
	double peer_cpu[3];
	char peer_cc[MPT_CC_NAME_LEN];
	struct perf_report rep;
	uint8_t *buf;
	int status; /* 0 ok, 1 failed */
	bool failed_test;
};

static const char *prog = "mpt perf";

static void perf_usage(FILE *f)
{
	fprintf(f, "usage: mpt perf -c HOST [-p PORT] [-t SECS | -n BYTES] [-R] [-i SECS] [-J] "
		   "[options]\n"
		   "       mpt perf -s [-p PORT] [-1] [-i SECS] [-J] [options]\n"
		   "  iperf3-compatible TCP/MPTCP throughput test over mpt's stack on TUN devices\n"
		   "  (needs CAP_NET_ADMIN); the peer can be a stock iperf3 (3.x).\n"
		   "  -c HOST           client: connect to HOST (an IP address)\n"
		   "  -s                server\n"
		   "  -p PORT           port (default 5201)\n"
		   "  -t SECS           test length in seconds (default 10)\n"
		   "  -n BYTES          bytes to send instead of a time (K/M/G suffixes: 1024)\n"
		   "  -R                reverse: the server sends, the client receives\n"
		   "  -i SECS           interval between reports (default 1; 0: none)\n"
		   "  -l BYTES          length of one write (default 128K)\n"
		   "  -P N              parallel streams: only 1 is supported\n"
		   "  -J                iperf3's JSON output, with an \"mptcp\" object\n"
		   "  -1                server: handle one test, then exit\n"
		   "  -h, --help        this text\n");
	mpt_opts_usage(f);
	fprintf(f, "examples:\n"
		   "  mpt perf -s --path 10.77.1.1/24 -1\n"
		   "  mpt perf -c 10.77.0.2 -t 5 --path 10.77.1.1/24 --path 10.77.2.1/24\n");
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
	perf_report_error(&p->rep, "%s", msg);
	p->failed_test = true;
}

/* ---- control connection -------------------------------------------------- */

static int ctl_queue(struct ctl *c, const void *data, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		while (cap < c->out_len + len)
			cap *= 2;
		uint8_t *n = realloc(c->out, cap);
		if (!n)
			return -1;
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

static void ctl_state(struct perf *p, int state)
{
	uint8_t b = (uint8_t)(int8_t)state;
	(void)ctl_queue(&p->ctl, &b, 1);
}

static int ctl_json(struct perf *p, const cJSON *j)
{
	char *txt = cJSON_PrintUnformatted(j);
	if (!txt)
		return -1;
	size_t n = strlen(txt);
	uint8_t hdr[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	int rc = ctl_queue(&p->ctl, hdr, 4);
	if (rc == 0)
		rc = ctl_queue(&p->ctl, txt, n);
	cJSON_free(txt);
	return rc;
}

static void ctl_flush(struct perf *p, uint64_t now)
{
	struct ctl *c = &p->ctl;
	while (c->s && c->connected && !c->err && c->out_len > 0) {
		long n = mpt_send(c->s, c->out, c->out_len, now);
		if (n == MPT_ERR_AGAIN)
			break;
		if (n < 0) {
			c->err = (int)n;
			break;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
}

static void ctl_fill(struct perf *p, uint64_t now)
{
	struct ctl *c = &p->ctl;
	while (c->s && !c->eof && !c->err && c->in_len < PERF_CTL_MAX) {
		long n = mpt_recv(c->s, c->in + c->in_len, PERF_CTL_MAX - c->in_len, now);
		if (n == MPT_ERR_AGAIN)
			break;
		if (n < 0) {
			c->err = (int)n;
			break;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		c->in_len += (size_t)n;
	}
}

static bool ctl_take(struct ctl *c, void *dst, size_t n)
{
	if (c->in_len < n)
		return false;
	memcpy(dst, c->in, n);
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	return true;
}

/* A length-prefixed JSON message: NULL while incomplete; *bad on garbage. */
static cJSON *ctl_take_json(struct ctl *c, bool *bad)
{
	*bad = false;
	if (c->in_len < 4)
		return NULL;
	uint32_t n = (uint32_t)c->in[0] << 24 | (uint32_t)c->in[1] << 16 | (uint32_t)c->in[2] << 8 |
		     c->in[3];
	if (n > PERF_CTL_MAX - 4) {
		*bad = true;
		return NULL;
	}
	if (c->in_len < 4 + (size_t)n)
		return NULL;
	cJSON *j = cJSON_ParseWithLength((const char *)c->in + 4, n);
	memmove(c->in, c->in + 4 + n, c->in_len - 4 - n);
	c->in_len -= 4 + (size_t)n;
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		*bad = true;
		return NULL;
	}
	return j;
}

/* The control connection went away: a message for the user, or NULL. */
static const char *ctl_problem(const struct ctl *c)
{
	if (c->err)
		return mpt_strerror(c->err);
	if (c->eof)
		return "the peer closed the control connection";
	return NULL;
}

/* ---- data stream ---------------------------------------------------------- */

static bool sending(const struct perf *p)
{
	return p->server == p->reverse;
}

/* Move data; returns true when it stopped for a budget (more to do now). */
static bool stream_pump(struct perf *p, uint64_t now)
{
	struct stream *d = &p->ds;
	if (!d->s || !d->connected || d->err)
		return false;
	if (!p->server && d->cookie_off < PERF_COOKIE_LEN) {
		long n =
		    mpt_send(d->s, p->cookie + d->cookie_off, PERF_COOKIE_LEN - d->cookie_off, now);
		if (n > 0)
			d->cookie_off += (size_t)n;
		else if (n != MPT_ERR_AGAIN)
			d->err = (int)n;
		if (d->cookie_off < PERF_COOKIE_LEN)
			return false;
	}
	if (sending(p)) {
		if (!p->running || p->ended)
			return false;
		uint64_t sent = 0;
		while (sent < PERF_SEND_BUDGET) {
			size_t len = p->blksize;
			if (p->nbytes && p->nbytes - d->bytes < len)
				len = (size_t)(p->nbytes - d->bytes);
			if (len == 0)
				return false;
			long n = mpt_send(d->s, p->buf, len, now);
			if (n == MPT_ERR_AGAIN)
				return false;
			if (n < 0) {
				d->err = (int)n;
				return false;
			}
			d->bytes += (uint64_t)n;
			sent += (uint64_t)n;
		}
		return true;
	}
	/* Receiving: count while the test runs, drain (uncounted) after. */
	uint64_t got = 0;
	while (!d->eof && got < PERF_SEND_BUDGET) {
		long n = mpt_recv(d->s, p->buf, p->blksize, now);
		if (n == MPT_ERR_AGAIN)
			return false;
		if (n < 0) {
			d->err = (int)n;
			return false;
		}
		if (n == 0) {
			d->eof = true;
			return false;
		}
		if (p->running && !p->ended)
			d->bytes += (uint64_t)n;
		got += (uint64_t)n;
	}
	return !d->eof;
}

/* ---- intervals and the end of the test ----------------------------------- */

static void take_row(struct perf *p, uint64_t now, struct perf_row *row)
{
	struct stream *d = &p->ds;
	memset(row, 0, sizeof(*row));
	row->start = secs_between(p->t_start, p->iv_start);
	row->end = secs_between(p->t_start, now);
	row->bytes = d->bytes - d->iv_bytes;
	row->sender = sending(p);
	struct mpt_sock_info si;
	struct mpt_mptcp_info mi;
	uint32_t retr = 0;
	if (mpt_sock_mptcp_info(d->s, &mi) == 0 && !mi.fallback) {
		retr = mi.mptcpi_retransmits;
		struct mpt_subflow_info sf[PERF_MAX_SF];
		int n = mpt_sock_subflows(d->s, sf, PERF_MAX_SF);
		uint64_t rtt = 0;
		for (int i = 0; i < n && i < PERF_MAX_SF; i++) {
			row->cwnd += sf[i].cwnd;
			if (sf[i].srtt_ns && (!rtt || sf[i].srtt_ns / 1000u < rtt))
				rtt = sf[i].srtt_ns / 1000u;
		}
		row->rtt_us = rtt;
	} else if (mpt_sock_info(d->s, &si) == 0) {
		retr = si.total_retrans;
		row->cwnd = si.snd_cwnd;
		row->rtt_us = si.srtt_ns / 1000u;
		row->rttvar_us = si.rttvar_ns / 1000u;
	}
	row->retrans = retr - d->iv_retr;
	d->iv_retr = retr;
	d->iv_bytes = d->bytes;
	p->iv_start = now;
}

static void report_interval(struct perf *p, uint64_t now)
{
	struct perf_row row;
	take_row(p, now, &row);
	perf_report_interval(&p->rep, p->ds.s, &row);
}

static void start_test(struct perf *p, uint64_t now)
{
	p->running = true;
	p->ended = false;
	p->t_start = p->iv_start = now;
	p->ds.bytes = p->ds.iv_bytes = 0;
	p->ds.iv_retr = 0;
	struct mpt_mptcp_info mi;
	struct mpt_sock_info si;
	if (mpt_sock_mptcp_info(p->ds.s, &mi) == 0 && !mi.fallback)
		p->ds.iv_retr = mi.mptcpi_retransmits;
	else if (mpt_sock_info(p->ds.s, &si) == 0)
		p->ds.iv_retr = si.total_retrans;
	p->next_iv = p->interval > 0 ? now + (uint64_t)(p->interval * 1e9) : MPT_TIME_NEVER;
	p->deadline =
	    (!p->server && p->duration > 0) ? now + (uint64_t)(p->duration * 1e9) : MPT_TIME_NEVER;
	p->rep.sender = sending(p);
	perf_report_baseline(&p->rep, p->ds.s);
	cpu_begin(p);
}

/* Stop counting: the last (partial) interval, CPU figures. */
static void end_test(struct perf *p, uint64_t now)
{
	if (!p->running || p->ended)
		return;
	(void)stream_pump(p, now); /* what has arrived still counts */
	p->ended = true;
	p->t_stop = now;
	perf_report_snapshot(&p->rep, p->ds.s);
	if (p->interval > 0 && now > p->iv_start + 10 * MPT_NS_PER_MS)
		report_interval(p, now);
	cpu_end(p, secs_between(p->t_start, now));
}

static void run_timers(struct perf *p, uint64_t now)
{
	if (!p->running || p->ended)
		return;
	while (p->next_iv != MPT_TIME_NEVER && now >= p->next_iv &&
	       (p->deadline == MPT_TIME_NEVER || p->next_iv < p->deadline)) {
		report_interval(p, now);
		p->next_iv += (uint64_t)(p->interval * 1e9);
		if (p->next_iv <= now)
			p->next_iv = now + (uint64_t)(p->interval * 1e9);
	}
}

/* Results JSON as iperf3 exchanges it (one stream). */
static cJSON *results_json(const struct perf *p)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "cpu_util_total", p->cpu[0]);
	cJSON_AddNumberToObject(j, "cpu_util_user", p->cpu[1]);
	cJSON_AddNumberToObject(j, "cpu_util_system", p->cpu[2]);
	cJSON_AddNumberToObject(j, "sender_has_retransmits", sending(p) ? 1 : 0);
	struct mpt_sock_info si;
	if (p->ds.s && mpt_sock_info(p->ds.s, &si) == 0)
		cJSON_AddStringToObject(j, "congestion_used", si.cc);
	cJSON *arr = cJSON_AddArrayToObject(j, "streams");
	cJSON *s = cJSON_CreateObject();
	int64_t retr = -1;
	if (sending(p) && p->ds.s) {
		struct mpt_mptcp_info mi;
		if (mpt_sock_mptcp_info(p->ds.s, &mi) == 0 && !mi.fallback)
			retr = mi.mptcpi_retransmits;
		else if (mpt_sock_info(p->ds.s, &si) == 0)
			retr = si.total_retrans;
		retr -= 0;
	}
	cJSON_AddNumberToObject(s, "id", PERF_STREAM_ID);
	cJSON_AddNumberToObject(s, "bytes", (double)p->ds.bytes);
	cJSON_AddNumberToObject(s, "retransmits", (double)retr);
	cJSON_AddNumberToObject(s, "jitter", 0);
	cJSON_AddNumberToObject(s, "errors", 0);
	cJSON_AddNumberToObject(s, "packets", 0);
	cJSON_AddNumberToObject(s, "start_time", 0);
	cJSON_AddNumberToObject(s, "end_time", secs_between(p->t_start, p->t_stop));
	cJSON_AddItemToArray(arr, s);
	return j;
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

/* The peer's results; returns false when they do not look like iperf3's. */
static bool parse_results(struct perf *p, const cJSON *j)
{
	const cJSON *streams = cJSON_GetObjectItemCaseSensitive(j, "streams");
	if (!cJSON_IsArray(streams) || !cJSON_GetObjectItemCaseSensitive(j, "cpu_util_total"))
		return false;
	p->peer_cpu[0] = jnum(j, "cpu_util_total", 0);
	p->peer_cpu[1] = jnum(j, "cpu_util_user", 0);
	p->peer_cpu[2] = jnum(j, "cpu_util_system", 0);
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(j, "congestion_used");
	if (cJSON_IsString(cc))
		snprintf(p->peer_cc, sizeof(p->peer_cc), "%s", cc->valuestring);
	const cJSON *s = cJSON_GetArrayItem(streams, 0);
	if (!cJSON_IsObject(s) || !cJSON_GetObjectItemCaseSensitive(s, "bytes"))
		return false;
	double b = jnum(s, "bytes", 0);
	p->peer_bytes = b > 0 ? (uint64_t)b : 0;
	p->peer_retr = (int64_t)jnum(s, "retransmits", -1);
	p->peer_secs = jnum(s, "end_time", 0) - jnum(s, "start_time", 0);
	return true;
}

static void print_summary(struct perf *p)
{
	struct perf_side mine = {
	    .bytes = p->ds.bytes, .seconds = secs_between(p->t_start, p->t_stop), .retrans = -1};
	struct perf_side theirs = {
	    .bytes = p->peer_bytes, .seconds = p->peer_secs, .retrans = p->peer_retr};
	if (sending(p)) {
		struct mpt_mptcp_info mi;
		struct mpt_sock_info si;
		if (mpt_sock_mptcp_info(p->ds.s, &mi) == 0 && !mi.fallback)
			mine.retrans = mi.mptcpi_retransmits;
		else if (mpt_sock_info(p->ds.s, &si) == 0)
			mine.retrans = si.total_retrans;
		theirs.retrans = -1;
	}
	struct mpt_sock_info si;
	char cc[MPT_CC_NAME_LEN] = "";
	if (mpt_sock_info(p->ds.s, &si) == 0)
		snprintf(cc, sizeof(cc), "%s", si.cc);
	const struct perf_side *sent = sending(p) ? &mine : &theirs;
	const struct perf_side *recvd = sending(p) ? &theirs : &mine;
	perf_report_end(&p->rep, p->ds.s, sent, recvd, p->cpu, p->peer_cpu, cc, p->peer_cc);
}

static void close_sock(struct mpt_sock **s, bool abort, uint64_t now)
{
	if (!*s)
		return;
	if (abort)
		mpt_abort(*s, now);
	else
		mpt_close(*s, now);
	*s = NULL;
}

/* ---- client -------------------------------------------------------------- */

static void client_params(struct perf *p)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "tcp", true);
	cJSON_AddNumberToObject(j, "omit", 0);
	cJSON_AddNumberToObject(j, "time", p->duration);
	cJSON_AddNumberToObject(j, "num", (double)p->nbytes);
	cJSON_AddNumberToObject(j, "blockcount", 0);
	cJSON_AddNumberToObject(j, "parallel", 1);
	if (p->reverse)
		cJSON_AddBoolToObject(j, "reverse", true);
	cJSON_AddNumberToObject(j, "len", p->blksize);
	cJSON_AddNumberToObject(j, "pacing_timer", 1000);
	cJSON_AddStringToObject(j, "client_version", "3.12");
	(void)ctl_json(p, j);
	cJSON_Delete(j);
}

static void client_state(struct perf *p, int8_t state, uint64_t now)
{
	switch (state) {
	case ST_PARAM_EXCHANGE:
		client_params(p);
		break;
	case ST_CREATE_STREAMS: {
		int rc = mpt_connect(p->st, &p->remote, p->local, now, &p->ds.s);
		if (rc < 0) {
			fail(p, "cannot open the data stream: %s", mpt_strerror(rc));
			return;
		}
		break;
	}
	case ST_TEST_START:
		if (!p->ds.connected) {
			fail(p, "TEST_START before the data stream was connected");
			return;
		}
		perf_report_connected(&p->rep, p->ds.s, p->cookie, p->host, p->port, false);
		if (!p->rep.json && p->reverse)
			printf("Reverse mode, remote host %s is sending\n", p->host);
		perf_report_test_start(&p->rep, p->blksize, p->duration, p->nbytes, p->reverse);
		break;
	case ST_TEST_RUNNING:
		if (!p->ds.connected) {
			fail(p, "TEST_RUNNING before the data stream was connected");
			return;
		}
		start_test(p, now);
		break;
	case ST_EXCHANGE_RESULTS: {
		end_test(p, now);
		cJSON *j = results_json(p);
		(void)ctl_json(p, j);
		cJSON_Delete(j);
		p->phase = C_RESULTS;
		break;
	}
	case ST_DISPLAY_RESULTS:
		print_summary(p);
		/* Like iperf3's client: the data stream goes first (a sender may
		 * still have queued data the server no longer reads). */
		close_sock(&p->ds.s, sending(p), now);
		ctl_state(p, ST_IPERF_DONE);
		p->phase = C_LINGER;
		p->deadline = now + PERF_LINGER_NS;
		break;
	case ST_SERVER_TERMINATE:
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
	struct ctl *c = &p->ctl;
	while (!p->failed_test && p->phase != P_FINISHED) {
		switch (p->phase) {
		case C_CONNECTING:
			if (!c->connected)
				return;
			if (!p->rep.json)
				printf("Connecting to host %s, port %u\n", p->host, p->port);
			(void)ctl_queue(c, p->cookie, PERF_COOKIE_LEN);
			p->phase = C_STATE;
			break;
		case C_STATE: {
			int8_t st;
			if (!ctl_take(c, &st, 1))
				return;
			client_state(p, st, now);
			break;
		}
		case C_RESULTS: {
			bool bad;
			cJSON *j = ctl_take_json(c, &bad);
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
			if (!ctl_take(c, b, 8))
				return;
			int32_t ie = (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
					       (uint32_t)b[2] << 8 | b[3]);
			fail(p, "the server reported an error (iperf3 error %d)", ie);
			return;
		}
		case C_LINGER:
			return;
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
	(void)ctl_queue(&p->ctl, b, sizeof(b));
	fail(p, "%s", what);
}

static void server_params(struct perf *p, const cJSON *j)
{
	if (!jtrue(j, "tcp")) {
		server_error(p, IPERF_IEPROTOCOL, "the client asked for a protocol other than TCP");
		return;
	}
	double par = jnum(j, "parallel", 1);
	if (par != 1) {
		char m[96];
		snprintf(m, sizeof(m),
			 "the client asked for %.0f parallel streams; only 1 is "
			 "supported",
			 par);
		server_error(p, IPERF_IENUMSTREAMS, m);
		return;
	}
	if (jtrue(j, "bidirectional")) {
		server_error(p, IPERF_IEUNIMP, "bidirectional tests are not supported");
		return;
	}
	if (jnum(j, "blockcount", 0) > 0) {
		server_error(p, IPERF_IEUNIMP, "-k (block count) is not supported");
		return;
	}
	p->reverse = jtrue(j, "reverse");
	p->duration = jnum(j, "time", 10);
	double n = jnum(j, "num", 0);
	p->nbytes = n > 0 ? (uint64_t)n : 0;
	double len = jnum(j, "len", PERF_BLKSIZE);
	p->blksize = (len >= 1 && len <= PERF_BLKSIZE * 8) ? (uint32_t)len : PERF_BLKSIZE;
	ctl_state(p, ST_CREATE_STREAMS);
	p->phase = S_STREAM;
}

/* Forget the test; ready for the next client. */
static void server_reset(struct perf *p, uint64_t now)
{
	bool bad = p->failed_test;
	close_sock(&p->ds.s, bad, now);
	close_sock(&p->ctl.s, bad, now);
	memset(&p->ds, 0, sizeof(p->ds));
	p->ctl.connected = p->ctl.eof = p->ctl.shut = false;
	p->ctl.err = 0;
	p->ctl.in_len = p->ctl.out_len = 0;
	p->running = p->ended = false;
	p->deadline = p->next_iv = MPT_TIME_NEVER;
	perf_report_finish(&p->rep);
	if (bad)
		p->status = 1;
	if (p->one_off) {
		p->phase = P_FINISHED;
		mpt_backend_stop(p->be, p->status);
		return;
	}
	p->failed_test = false;
	p->phase = S_LISTEN;
	perf_report_init(&p->rep, p->json);
	p->test_no++;
	if (!p->json)
		printf("-----------------------------------------------------------\n"
		       "Server listening on %u (test #%d)\n"
		       "-----------------------------------------------------------\n",
		       p->port, p->test_no);
	fflush(stdout);
}

/* A connection sent its cookie: the control connection, the data stream, or
 * a second client that has to wait. */
static void server_classify(struct perf *p, struct pending *pc, uint64_t now)
{
	struct mpt_sock *s = pc->s;
	pc->s = NULL;
	if (p->phase == S_LISTEN) {
		memcpy(p->cookie, pc->cookie, PERF_COOKIE_LEN);
		p->cookie[PERF_COOKIE_LEN - 1] = '\0';
		p->ctl.s = s;
		p->ctl.connected = true;
		if (!p->rep.json) {
			struct mpt_endpoint r;
			char a[64];
			mpt_sock_endpoints(s, NULL, &r);
			printf("Accepted connection from %s, port %u\n",
			       mpt_addr_format(&r.addr, a, sizeof(a)), r.port);
		}
		ctl_state(p, ST_PARAM_EXCHANGE);
		p->phase = S_PARAMS;
		return;
	}
	if (p->phase == S_STREAM && !p->ds.s && !memcmp(pc->cookie, p->cookie, PERF_COOKIE_LEN)) {
		p->ds.s = s;
		p->ds.connected = true;
		perf_report_connected(&p->rep, s, p->cookie, NULL, p->port, true);
		perf_report_test_start(&p->rep, p->blksize, p->duration, p->nbytes, p->reverse);
		ctl_state(p, ST_TEST_START);
		ctl_state(p, ST_TEST_RUNNING);
		start_test(p, now);
		p->phase = S_RUNNING;
		return;
	}
	/* iperf3 tells a second client it is busy. */
	uint8_t denied = (uint8_t)(int8_t)ST_ACCESS_DENIED;
	(void)mpt_send(s, &denied, 1, now);
	mpt_close(s, now);
}

static void server_accept(struct perf *p, uint64_t now)
{
	struct mpt_sock *s;
	while ((s = mpt_accept(p->lsock)) != NULL) {
		size_t i;
		for (i = 0; i < PERF_MAX_PENDING && p->pend[i].s; i++)
			;
		if (i == PERF_MAX_PENDING) {
			mpt_abort(s, now);
			continue;
		}
		memset(&p->pend[i], 0, sizeof(p->pend[i]));
		p->pend[i].s = s;
	}
	for (size_t i = 0; i < PERF_MAX_PENDING; i++) {
		struct pending *pc = &p->pend[i];
		while (pc->s && pc->len < PERF_COOKIE_LEN) {
			long n =
			    mpt_recv(pc->s, pc->cookie + pc->len, PERF_COOKIE_LEN - pc->len, now);
			if (n == MPT_ERR_AGAIN)
				break;
			if (n <= 0) {
				close_sock(&pc->s, true, now);
				break;
			}
			pc->len += (size_t)n;
		}
		if (pc->s && pc->len == PERF_COOKIE_LEN)
			server_classify(p, pc, now);
	}
}

static void server_step(struct perf *p, uint64_t now)
{
	struct ctl *c = &p->ctl;
	while (!p->failed_test) {
		switch (p->phase) {
		case S_PARAMS: {
			bool bad;
			cJSON *j = ctl_take_json(c, &bad);
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
			if (!ctl_take(c, &st, 1))
				return;
			if (st == ST_TEST_END) {
				end_test(p, now);
				/* iperf3's server closes its streams here, and its
				 * client, reading whole blocks, waits for that FIN. */
				if (p->ds.s)
					(void)mpt_shutdown(p->ds.s, now);
				ctl_state(p, ST_EXCHANGE_RESULTS);
				p->phase = S_RESULTS;
			} else if (st == ST_CLIENT_TERMINATE) {
				fail(p, "the client has terminated");
			} else {
				fail(p, "unexpected state %d from the client", st);
			}
			break;
		}
		case S_RESULTS: {
			bool bad;
			cJSON *j = ctl_take_json(c, &bad);
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
			cJSON *mine = results_json(p);
			(void)ctl_json(p, mine);
			cJSON_Delete(mine);
			ctl_state(p, ST_DISPLAY_RESULTS);
			print_summary(p);
			p->phase = S_DONE;
			break;
		}
		case S_DONE: {
			int8_t st;
			if (ctl_take(c, &st, 1)) {
				if (st != ST_IPERF_DONE)
					fail(p, "unexpected state %d after the results", st);
				server_reset(p, now);
				return;
			}
			if (c->eof || c->err) {
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

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct perf *p = ud;
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
	} else if (s == p->ds.s) {
		if (ev & MPT_EV_CONNECTED)
			p->ds.connected = true;
		if ((ev & MPT_EV_ERROR) && !p->ds.err) {
			p->ds.err = mpt_sock_error(s);
			if (!p->ds.err)
				p->ds.err = MPT_ERR_RESET;
		}
	}
}

static void on_timerfd(void *ud, int fd, uint32_t events)
{
	(void)ud;
	(void)events;
	uint64_t n;
	while (read(fd, &n, sizeof(n)) > 0)
		;
}

static void arm_timer(struct perf *p)
{
	uint64_t t = p->next_iv;
	if (p->deadline < t)
		t = p->deadline;
	if (p->connect_deadline < t)
		t = p->connect_deadline;
	if (t == p->armed)
		return;
	p->armed = t;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (t != MPT_TIME_NEVER) {
		its.it_value.tv_sec = (time_t)(t / MPT_NS_PER_S);
		its.it_value.tv_nsec = (long)(t % MPT_NS_PER_S);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	(void)timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void client_finish(struct perf *p)
{
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
	if (p->ds.s)
		more = stream_pump(p, now);
	if (!p->failed_test && p->phase == C_CONNECTING && now >= p->connect_deadline)
		fail(p, "unable to connect to server: %s",
		     p->ctl.err ? mpt_strerror(p->ctl.err) : "timed out");
	if (!p->failed_test && p->phase != C_LINGER) {
		/* A data-stream error after TEST_END is iperf3 closing it. */
		if (p->ds.err && !p->ended)
			fail(p, "data stream: %s", mpt_strerror(p->ds.err));
		else if (p->ds.eof && p->running && !p->ended && !sending(p))
			fail(p, "the server closed the data stream during the test");
	}
	if (!p->failed_test && p->phase != C_LINGER && p->phase != C_CONNECTING) {
		const char *why = ctl_problem(&p->ctl);
		if (why)
			fail(p, "control connection: %s", why);
	}
	if (p->phase == C_CONNECTING && p->ctl.err && !p->failed_test)
		fail(p, "unable to connect to server: %s", mpt_strerror(p->ctl.err));
	if (!p->failed_test) {
		run_timers(p, now);
		bool done = p->running && !p->ended &&
			    ((p->deadline != MPT_TIME_NEVER && now >= p->deadline) ||
			     (p->nbytes && p->ds.bytes >= p->nbytes));
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
	if (p->ds.s)
		more = stream_pump(p, now);
	if (!p->failed_test && p->ctl.s && p->phase != S_DONE) {
		const char *why = ctl_problem(&p->ctl);
		if (why)
			fail(p, "the client has unexpectedly closed the connection (%s)", why);
	}
	if (!p->failed_test && p->ds.err && p->running && !p->ended)
		fail(p, "data stream: %s", mpt_strerror(p->ds.err));
	if (!p->failed_test)
		run_timers(p, now);
	ctl_flush(p, now);
	if (p->failed_test && p->phase != P_FINISHED) {
		ctl_flush(p, now);
		server_reset(p, now);
		return false;
	}
	return more;
}

static bool on_idle(void *ud)
{
	struct perf *p = ud;
	uint64_t now = mpt_backend_now();
	if (p->phase == P_FINISHED)
		return false;
	bool more = p->server ? server_idle(p, now) : client_idle(p, now);
	if (p->phase != P_FINISHED)
		arm_timer(p);
	return more;
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

/* iperf3's -n: a number with an optional K/M/G suffix (powers of 1024). */
static bool parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return false;
	double mul = 1;
	if (*end) {
		switch (*end) {
		case 'k':
		case 'K':
			mul = 1024.0;
			break;
		case 'm':
		case 'M':
			mul = 1024.0 * 1024.0;
			break;
		case 'g':
		case 'G':
			mul = 1024.0 * 1024.0 * 1024.0;
			break;
		default:
			return false;
		}
		if (end[1])
			return false;
	}
	v *= mul;
	if (v < 1 || v > 1e15)
		return false;
	*out = (uint64_t)v;
	return true;
}

static int bad_arg(const char *opt, const char *arg, const char *what)
{
	fprintf(stderr, "%s: %s: '%s' is not %s\n", prog, opt, arg, what);
	return 2;
}

int mpt_cmd_perf(int argc, char **argv)
{
	static const struct option lopts[] = {{"help", no_argument, NULL, 'h'},
					      {"client", required_argument, NULL, 'c'},
					      {"server", no_argument, NULL, 's'},
					      {"port", required_argument, NULL, 'p'},
					      {"time", required_argument, NULL, 't'},
					      {"bytes", required_argument, NULL, 'n'},
					      {"reverse", no_argument, NULL, 'R'},
					      {"interval", required_argument, NULL, 'i'},
					      {"json", no_argument, NULL, 'J'},
					      {"one-off", no_argument, NULL, '1'},
					      {"parallel", required_argument, NULL, 'P'},
					      {"length", required_argument, NULL, 'l'},
					      MPT_STACK_LONGOPTS,
					      {NULL, 0, NULL, 0}};
	struct mpt_tool_opts o;
	mpt_opts_init(&o);
	struct perf *p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	p->port = PERF_PORT;
	p->duration = 10;
	p->interval = 1;
	p->blksize = PERF_BLKSIZE;
	p->tfd = -1;
	bool client = false, time_set = false;
	double v;
	int ch, rc = 2;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:sp:t:n:Ri:J1P:l:h" MPT_STACK_SHORTOPTS, lopts,
				 NULL)) != -1) {
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
			p->duration = v;
			time_set = true;
			break;
		case 'n':
			if (!parse_bytes(optarg, &p->nbytes)) {
				rc = bad_arg("-n", optarg, "a byte count (e.g. 10M)");
				goto out;
			}
			break;
		case 'R':
			p->reverse = true;
			break;
		case 'i':
			if (!parse_num(optarg, 0, 3600, &v) || (v > 0 && v < 0.1)) {
				rc = bad_arg("-i", optarg, "an interval (0, or 0.1-3600 seconds)");
				goto out;
			}
			p->interval = v;
			break;
		case 'J':
			p->json = true;
			break;
		case '1':
			p->one_off = true;
			break;
		case 'P':
			if (!parse_num(optarg, 1, 128, &v) || v != floor(v)) {
				rc = bad_arg("-P", optarg, "a stream count");
				goto out;
			}
			if (v > 1) {
				fprintf(stderr,
					"%s: -P %s: only one data stream is supported (-P 1)\n",
					prog, optarg);
				goto out;
			}
			break;
		case 'l': {
			uint64_t b;
			if (!parse_bytes(optarg, &b) || b > PERF_BLKSIZE * 8) {
				rc = bad_arg("-l", optarg, "a write length (1 to 1M)");
				goto out;
			}
			p->blksize = (uint32_t)b;
			break;
		}
		case 'h':
			perf_usage(stdout);
			rc = 0;
			goto out;
		case '?':
			perf_usage(stderr);
			goto out;
		default: {
			int r = mpt_opts_handle(&o, prog, ch, optarg);
			if (r < 0)
				goto out;
			if (r > 0) {
				perf_usage(stderr);
				goto out;
			}
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		goto out;
	}
	if (client == p->server) {
		fprintf(stderr, "%s: give exactly one of -c HOST and -s\n", prog);
		perf_usage(stderr);
		goto out;
	}
	if (p->server && (p->reverse || p->nbytes || time_set)) {
		fprintf(stderr, "%s: -R, -t and -n are client options\n", prog);
		goto out;
	}
	if (client && p->one_off) {
		fprintf(stderr, "%s: -1 is a server option\n", prog);
		goto out;
	}
	if (p->nbytes && time_set) {
		fprintf(stderr, "%s: give -t or -n, not both\n", prog);
		goto out;
	}
	if (p->nbytes)
		p->duration = 0;
	if (client) {
		if (mpt_addr_parse(&p->remote.addr, p->host) < 0) {
			fprintf(stderr, "%s: '%s' is not an IPv4 or IPv6 address\n", prog, p->host);
			goto out;
		}
		p->remote.port = p->port;
	}
	if (mpt_opts_finish(&o, prog) < 0)
		goto out;
	if (client) {
		for (size_t i = 0; i < o.be.n_paths && !p->local; i++)
			if (o.be.paths[i].addr.family == p->remote.addr.family)
				p->local = &o.be.paths[i].addr;
		if (!p->local) {
			fprintf(stderr, "%s: no --path of the same family (IPv%u) as %s\n", prog,
				p->remote.addr.family, p->host);
			goto out;
		}
	}

	rc = 1;
	signal(SIGPIPE, SIG_IGN);
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
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->tfd < 0 || mpt_backend_watch(p->be, p->tfd, EPOLLIN, on_timerfd, p) < 0) {
		fprintf(stderr, "%s: cannot create a timer: %s\n", prog, strerror(errno));
		goto out;
	}
	p->armed = MPT_TIME_NEVER;
	p->next_iv = p->deadline = p->connect_deadline = MPT_TIME_NEVER;
	mpt_backend_set_idle(p->be, on_idle, p);
	perf_report_init(&p->rep, p->json);
	uint64_t now = mpt_backend_now();
	if (p->server) {
		struct mpt_endpoint any = {.addr = {.family = 0}, .port = p->port};
		int r = mpt_listen(p->st, &any, PERF_BACKLOG, &p->lsock);
		if (r < 0) {
			fprintf(stderr, "%s: cannot listen on port %u: %s\n", prog, p->port,
				mpt_strerror(r));
			goto out;
		}
		p->phase = S_LISTEN;
		p->test_no = 1;
		if (!p->json)
			printf("-----------------------------------------------------------\n"
			       "Server listening on %u (test #1)\n"
			       "-----------------------------------------------------------\n",
			       p->port);
		fflush(stdout);
	} else {
		make_cookie(p->cookie);
		int r = mpt_connect(p->st, &p->remote, p->local, now, &p->ctl.s);
		if (r < 0) {
			fprintf(stderr, "%s: cannot connect to %s port %u: %s\n", prog, p->host,
				p->port, mpt_strerror(r));
			goto out;
		}
		p->phase = C_CONNECTING;
		p->connect_deadline = now + PERF_CONNECT_NS;
	}
	int r = mpt_backend_run(p->be);
	rc = (r == 0 && p->status == 0) ? 0 : 1;
	if (!p->server && p->ds.s && !p->rep.json && o.be.verbose) {
		struct mpt_backend_stats bs;
		mpt_backend_stats(p->be, &bs);
		fprintf(stderr,
			"%s: tun rx %" PRIu64 " pkts, tx %" PRIu64 " pkts (dropped %" PRIu64
			"), emulated loss %" PRIu64 "\n",
			prog, bs.rx_pkts, bs.tx_pkts, bs.tx_drops, bs.emu_lost);
	}
out:
	if (p->rep.top)
		perf_report_finish(&p->rep);
	if (p->be)
		mpt_backend_destroy(p->be); /* frees every socket */
	if (p->tfd >= 0)
		close(p->tfd);
	free(p->buf);
	free(p->ctl.in);
	free(p->ctl.out);
	free(p);
	return rc;
}
