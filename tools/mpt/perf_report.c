/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt perf` output: iperf3's human rows and its -J document (the key tree
 * of iperf3 3.12), plus what only an MPTCP stack can say (per-subflow rows,
 * an "mptcp" object).  See perf.h for how retransmissions are counted.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "mpt/version.h"
#include "perf.h"

static const char sep_line[] = "- - - - - - - - - - - - - - - - - - - - - - - - -\n";

/* ---- output ------------------------------------------------------------------ */

void perf_out_init(struct perf_out *o)
{
	memset(o, 0, sizeof(*o));
	o->f = stdout;
}

static void capture_add(struct perf_out *o, const char *s, size_t n)
{
	if (!o->capture || o->cap_len + n + 1 > 1024 * 1024) /* bounded: 1 MiB */
		return;
	if (o->cap_len + n + 1 > o->cap_size) {
		size_t sz = o->cap_size * 2;
		while (sz < o->cap_len + n + 1)
			sz *= 2;
		char *c = realloc(o->capture, sz);
		if (!c)
			return;
		o->capture = c;
		o->cap_size = sz;
	}
	memcpy(o->capture + o->cap_len, s, n);
	o->cap_len += n;
	o->capture[o->cap_len] = '\0';
}

/* Every line gets the --timestamps and -T prefixes, as iperf3 writes them
 * (not the JSON document: -T goes into its "title"). */
static void emit_raw(struct perf_out *o, const char *text)
{
	fputs(text, o->f);
	fflush(o->f);
}

static void emit(struct perf_out *o, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		char pre[256] = "";
		size_t pl = 0;
		if (o->ts_fmt) {
			time_t t = time(NULL);
			struct tm tm;
			localtime_r(&t, &tm);
			/* The user's --timestamps format, as iperf3 takes it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			pl = strftime(pre, sizeof(pre) - 1, o->ts_fmt, &tm);
#pragma GCC diagnostic pop
		}
		if (o->title)
			snprintf(pre + pl, sizeof(pre) - pl, "%s:  ", o->title);
		fputs(pre, o->f);
		fwrite(p, 1, n, o->f);
		capture_add(o, p, n); /* the server's output goes without prefixes */
		p += n;
	}
	fflush(o->f);
}

void perf_printf(struct perf_out *o, const char *fmt, ...)
{
	if (o->json)
		return;
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(o, buf);
}

void perf_capture_start(struct perf_out *o)
{
	free(o->capture);
	o->cap_size = 4096;
	o->cap_len = 0;
	o->capture = malloc(o->cap_size);
	if (o->capture)
		o->capture[0] = '\0';
}

char *perf_capture_take(struct perf_out *o)
{
	char *c = o->capture;
	o->capture = NULL;
	o->cap_len = o->cap_size = 0;
	return c;
}

/* ---- units -------------------------------------------------------------------- */

/* iperf3's units: three significant digits; adaptive (unit 0) or fixed by
 * -f: lower case bits (1000s), upper case bytes (1024s). */
static void fmt_unit(char *buf, size_t len, double v, bool bytes, char unit, const char *suffix)
{
	static const char *const bit_names[] = {"bits", "Kbits", "Mbits", "Gbits", "Tbits"};
	static const char *const byte_names[] = {"Bytes", "KBytes", "MBytes", "GBytes", "TBytes"};
	if (unit) {
		bytes = unit >= 'A' && unit <= 'Z';
		if (bytes)
			v /= 8; /* a rate asked for in bytes */
	}
	double base = bytes ? 1024.0 : 1000.0;
	int i = 0;
	if (unit) {
		const char *order = bytes ? "_KMGT" : "_kmgt";
		const char *at = strchr(order, unit);
		int want = at ? (int)(at - order) : 0;
		for (; i < want; i++)
			v /= base;
	} else {
		while (v >= base && i < 4) {
			v /= base;
			i++;
		}
	}
	int prec = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
	snprintf(buf, len, "%4.*f %s%s", prec, v, bytes ? byte_names[i] : bit_names[i], suffix);
}

void perf_fmt_bytes(char *buf, size_t len, double bytes, char unit)
{
	(void)unit; /* iperf3: transfers are always adaptive bytes */
	fmt_unit(buf, len, bytes, true, 0, "");
}

void perf_fmt_bits(char *buf, size_t len, double bits_per_sec, char unit)
{
	fmt_unit(buf, len, bits_per_sec, false, unit, "/sec");
}

static double rate(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes * 8.0 / secs : 0.0;
}

static double secs_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e9 : 0.0;
}

/* ---- the document -------------------------------------------------------------- */

void perf_report_init(struct perf *p)
{
	struct perf_report *r = &p->rep;
	cJSON_Delete(r->top);
	memset(r, 0, sizeof(*r));
	r->top = cJSON_CreateObject();
	r->start = cJSON_AddObjectToObject(r->top, "start");
	cJSON_AddArrayToObject(r->start, "connected");
	r->intervals = cJSON_AddArrayToObject(r->top, "intervals");
	cJSON_AddObjectToObject(r->top, "end");
}

static bool bidir(const struct perf *p)
{
	return p->prm.bidir;
}

/* "[  5]" or, in bidirectional tests, "[  5][TX-C]". */
static void stream_tag(const struct perf *p, const struct perf_stream *st, const char *id,
		       char *buf, size_t len)
{
	if (bidir(p))
		snprintf(buf, len, "[%s][%s-%c]", id, st->sender ? "TX" : "RX",
			 p->server ? 'S' : 'C');
	else
		snprintf(buf, len, "[%s]", id);
}

void perf_report_stream(struct perf *p, const struct perf_stream *st)
{
	struct mpt_endpoint l, rm;
	char la[64], ra[64];
	mpt_sock_endpoints(st->s, &l, &rm);
	mpt_addr_format(&l.addr, la, sizeof(la));
	mpt_addr_format(&rm.addr, ra, sizeof(ra));
	cJSON *conn = cJSON_GetObjectItem(p->rep.start, "connected");
	cJSON *c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "socket", st->sock_no);
	cJSON_AddStringToObject(c, "local_host", la);
	cJSON_AddNumberToObject(c, "local_port", l.port);
	cJSON_AddStringToObject(c, "remote_host", ra);
	cJSON_AddNumberToObject(c, "remote_port", rm.port);
	cJSON_AddItemToArray(conn, c);
	/* A server says what each connection became: MPTCP, or TCP and why. */
	char kind[96];
	tool_conn_kind(st->s, kind, sizeof(kind));
	cJSON_AddStringToObject(c, "mptcp", kind); /* an addition to iperf3's keys */
	perf_printf(&p->out, "[%3d] local %s port %u connected to %s port %u (%s)\n", st->sock_no,
		    la, l.port, ra, rm.port, kind);
}

void perf_report_test_start(struct perf *p)
{
	cJSON *s = p->rep.start;
	const struct perf_params *m = &p->prm;
	cJSON_AddStringToObject(s, "version", "mpt perf " MPT_VERSION_STRING);
	struct utsname u;
	char sys[400];
	if (uname(&u) == 0)
		snprintf(sys, sizeof(sys), "%s %s %s %s %s", u.sysname, u.nodename, u.release,
			 u.version, u.machine);
	else
		snprintf(sys, sizeof(sys), "unknown");
	cJSON_AddStringToObject(s, "system_info", sys);
	time_t now = time(NULL);
	char tbuf[64];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%a, %d %b %Y %H:%M:%S UTC", &tm);
	cJSON *ts = cJSON_AddObjectToObject(s, "timestamp");
	cJSON_AddStringToObject(ts, "time", tbuf);
	cJSON_AddNumberToObject(ts, "timesecs", (double)now);
	if (p->server) {
		struct mpt_endpoint r;
		char a[64];
		mpt_sock_endpoints(p->ctl.s, NULL, &r);
		cJSON *ac = cJSON_AddObjectToObject(s, "accepted_connection");
		cJSON_AddStringToObject(ac, "host", mpt_addr_format(&r.addr, a, sizeof(a)));
		cJSON_AddNumberToObject(ac, "port", r.port);
	} else {
		cJSON *ct = cJSON_AddObjectToObject(s, "connecting_to");
		cJSON_AddStringToObject(ct, "host", p->host);
		cJSON_AddNumberToObject(ct, "port", p->port);
	}
	cJSON_AddStringToObject(s, "cookie", p->cookie);
	struct mpt_sock_info info;
	if (m->mss) /* iperf3: the -M value, or the default the socket has */
		cJSON_AddNumberToObject(s, "tcp_mss", m->mss);
	else if (p->nstreams > 0 && mpt_sock_info(p->streams[0].s, &info) == 0)
		cJSON_AddNumberToObject(s, "tcp_mss_default", info.snd_mss);
	cJSON_AddNumberToObject(s, "target_bitrate", (double)m->rate);
	/* -w asks for socket buffers; ours are the stack's (per stack, so a
	 * server keeps its own: the actual values say so). */
	cJSON_AddNumberToObject(s, "sock_bufsize", m->window);
	cJSON_AddNumberToObject(s, "sndbuf_actual", p->stack_sndbuf);
	cJSON_AddNumberToObject(s, "rcvbuf_actual", p->stack_rcvbuf);
	cJSON *t = cJSON_AddObjectToObject(s, "test_start");
	cJSON_AddStringToObject(t, "protocol", "TCP");
	cJSON_AddNumberToObject(t, "num_streams", m->nstreams);
	cJSON_AddNumberToObject(t, "blksize", m->blksize);
	cJSON_AddNumberToObject(t, "omit", m->omit);
	cJSON_AddNumberToObject(t, "duration", m->duration);
	cJSON_AddNumberToObject(t, "bytes", (double)m->nbytes);
	cJSON_AddNumberToObject(t, "blocks", (double)m->nblocks);
	cJSON_AddNumberToObject(t, "reverse", m->reverse ? 1 : 0);
	cJSON_AddNumberToObject(t, "tos", 0);
	cJSON_AddNumberToObject(t, "target_bitrate", (double)m->rate);
	if (m->bidir)
		cJSON_AddNumberToObject(t, "bidir", 1);
	if (m->title[0] && !cJSON_GetObjectItem(p->rep.top, "title"))
		cJSON_AddStringToObject(p->rep.top, "title", m->title);
	if (m->extra_data[0] && !cJSON_GetObjectItem(p->rep.top, "extra_data"))
		cJSON_AddStringToObject(p->rep.top, "extra_data", m->extra_data);
	bool mp = false;
	for (int i = 0; i < p->nstreams; i++)
		mp |= mpt_sock_mptcp_enabled(p->streams[i].s);
	perf_printf(&p->out,
		    "Starting Test: protocol: TCP%s, %d streams, %u byte blocks, omitting %g "
		    "seconds, %s%s\n",
		    mp ? " (MPTCP)" : "", m->nstreams, m->blksize, m->omit,
		    m->nbytes    ? "byte-limited"
		    : m->nblocks ? "block-limited"
				 : "time-limited",
		    m->rate ? " paced" : "");
}

/* ---- intervals ----------------------------------------------------------------- */

/* The figures of one stream for [t0, t1]: bytes, retransmissions, and
 * (sender) cwnd/RTT, sampled from its subflows. */
struct row {
	double start, end;
	uint64_t bytes;
	uint64_t retr;
	uint64_t cwnd, snd_wnd, rtt_us, rttvar_us, pmtu;
};

static void stream_row(struct perf_stream *st, double t0, double t1, struct row *r)
{
	memset(r, 0, sizeof(*r));
	r->start = t0;
	r->end = t1;
	r->bytes = st->bytes - st->iv_bytes;
	r->retr = perf_stream_retr(st, true);
	uint64_t rtt = 0;
	for (size_t i = 0; i < st->nsf; i++) {
		const struct mpt_subflow_info *sf = &st->sf[i].last;
		if (st->sf[i].gone || strcmp(sf->state, "ESTABLISHED"))
			continue;
		r->cwnd += sf->cwnd;
		/* The stream's RTT: its fastest live subflow (the scheduler's
		 * first choice). */
		if (sf->srtt_ns && (!rtt || sf->srtt_ns / 1000u < rtt))
			rtt = sf->srtt_ns / 1000u;
	}
	struct mpt_sock_info si;
	if (st->s && mpt_sock_info(st->s, &si) == 0) {
		r->snd_wnd = si.snd_wnd;
		r->rttvar_us = si.rttvar_ns / 1000u;
		if (!rtt)
			rtt = si.srtt_ns / 1000u;
		if (!r->cwnd)
			r->cwnd = si.snd_cwnd;
		/* The path MTU the segments fit: MSS + IP and TCP headers. */
		struct mpt_endpoint l;
		mpt_sock_endpoints(st->s, &l, NULL);
		r->pmtu = si.snd_mss + (l.addr.family == 6 ? 60u : 40u);
	}
	r->rtt_us = rtt;
	if (st->sender) {
		if (r->cwnd > st->max_cwnd)
			st->max_cwnd = r->cwnd;
		if (r->snd_wnd > st->max_snd_wnd)
			st->max_snd_wnd = r->snd_wnd;
		if (rtt) {
			st->rtt_sum += rtt;
			st->rtt_n++;
			if (!st->rtt_min || rtt < st->rtt_min)
				st->rtt_min = rtt;
			if (rtt > st->rtt_max)
				st->rtt_max = rtt;
		}
	}
}

static cJSON *row_json(const struct row *r, int sock_no, bool sender, bool omitted, bool sum)
{
	double secs = r->end - r->start;
	cJSON *o = cJSON_CreateObject();
	if (!sum)
		cJSON_AddNumberToObject(o, "socket", sock_no);
	cJSON_AddNumberToObject(o, "start", r->start);
	cJSON_AddNumberToObject(o, "end", r->end);
	cJSON_AddNumberToObject(o, "seconds", secs);
	cJSON_AddNumberToObject(o, "bytes", (double)r->bytes);
	cJSON_AddNumberToObject(o, "bits_per_second", rate(r->bytes, secs));
	if (sender) {
		cJSON_AddNumberToObject(o, "retransmits", (double)r->retr);
		if (!sum) {
			cJSON_AddNumberToObject(o, "snd_cwnd", (double)r->cwnd);
			cJSON_AddNumberToObject(o, "snd_wnd", (double)r->snd_wnd);
			cJSON_AddNumberToObject(o, "rtt", (double)r->rtt_us);
			cJSON_AddNumberToObject(o, "rttvar", (double)r->rttvar_us);
			cJSON_AddNumberToObject(o, "pmtu", (double)r->pmtu);
		}
	}
	cJSON_AddBoolToObject(o, "omitted", omitted);
	cJSON_AddBoolToObject(o, "sender", sender);
	return o;
}

static void print_row(struct perf *p, const char *tag, const struct row *r, bool sender,
		      bool with_cwnd, const char *tail)
{
	char tb[32], bb[32], cb[32];
	double secs = r->end - r->start;
	perf_fmt_bytes(tb, sizeof(tb), (double)r->bytes, p->out.unit);
	perf_fmt_bits(bb, sizeof(bb), rate(r->bytes, secs), p->out.unit);
	if (sender && with_cwnd) {
		perf_fmt_bytes(cb, sizeof(cb), (double)r->cwnd, 0);
		perf_printf(&p->out, "%s %6.2f-%-6.2f sec  %s  %s  %3" PRIu64 "   %s       %s\n",
			    tag, r->start, r->end, tb, bb, r->retr, cb, tail);
	} else if (sender) {
		perf_printf(&p->out, "%s %6.2f-%-6.2f sec  %s  %s  %3" PRIu64 "             %s\n",
			    tag, r->start, r->end, tb, bb, r->retr, tail);
	} else {
		perf_printf(&p->out, "%s %6.2f-%-6.2f sec  %s  %s                  %s\n", tag,
			    r->start, r->end, tb, bb, tail);
	}
}

/* Subflow rows of one stream over [t0, t1] (interval: since the interval's
 * start; else since the test's start). */
static cJSON *subflows_json(struct perf *p, const struct perf_stream *st, double secs,
			    bool interval, bool print, double t0, double t1, const char *tail_mode)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < st->nsf; i++) {
		const struct perf_sf *t = &st->sf[i];
		const struct mpt_subflow_info *sf = &t->last;
		uint64_t cur_b = st->sender ? sf->bytes_sent : sf->bytes_received;
		uint64_t b = cur_b - (interval ? t->bytes_iv : t->bytes_base);
		uint64_t rt = sf->retransmits - (interval ? t->retr_iv : t->retr_base);
		char la[64], ra[64];
		mpt_addr_format(&sf->local.addr, la, sizeof(la));
		mpt_addr_format(&sf->remote.addr, ra, sizeof(ra));
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)i + 1);
		cJSON_AddNumberToObject(o, "socket", st->sock_no);
		cJSON_AddStringToObject(o, "local_host", la);
		cJSON_AddNumberToObject(o, "local_port", sf->local.port);
		cJSON_AddStringToObject(o, "remote_host", ra);
		cJSON_AddNumberToObject(o, "remote_port", sf->remote.port);
		cJSON_AddNumberToObject(o, "local_id", sf->local_id);
		cJSON_AddNumberToObject(o, "remote_id", sf->remote_id);
		cJSON_AddBoolToObject(o, "join", sf->join);
		cJSON_AddBoolToObject(o, "backup", sf->backup);
		cJSON_AddBoolToObject(o, "active", sf->active && !t->gone);
		cJSON_AddStringToObject(o, "state", t->gone ? "CLOSED" : sf->state);
		cJSON_AddNumberToObject(o, "rtt", (double)(sf->srtt_ns / 1000u));
		cJSON_AddNumberToObject(o, "snd_cwnd", sf->cwnd);
		cJSON_AddNumberToObject(o, "bytes", (double)b);
		cJSON_AddNumberToObject(o, "bits_per_second", rate(b, secs));
		cJSON_AddNumberToObject(o, "retransmits", (double)rt);
		if (!interval) {
			cJSON_AddNumberToObject(o, "bytes_sent", (double)sf->bytes_sent);
			cJSON_AddNumberToObject(o, "bytes_acked", (double)sf->bytes_acked);
			cJSON_AddNumberToObject(o, "bytes_received", (double)sf->bytes_received);
			cJSON_AddNumberToObject(o, "bytes_retrans", (double)sf->bytes_retrans);
		}
		cJSON_AddItemToArray(arr, o);
		if (!print)
			continue;
		char tb[32], bb[32], cb[32];
		perf_fmt_bytes(tb, sizeof(tb), (double)b, p->out.unit);
		perf_fmt_bits(bb, sizeof(bb), rate(b, secs), p->out.unit);
		const char *tail = tail_mode ? (sf->join ? "  (MP_JOIN)" : "  (initial)") : "";
		if (st->sender) {
			perf_fmt_bytes(cb, sizeof(cb), sf->cwnd, 0);
			perf_printf(
			    &p->out,
			    "[SF%zu] %6.2f-%-6.2f sec  %s  %s  %3" PRIu64 "   %s  rtt %.2f ms  "
			    "%s:%u -> %s:%u%s%s\n",
			    i + 1, t0, t1, tb, bb, rt, cb, (double)sf->srtt_ns / 1e6, la,
			    sf->local.port, ra, sf->remote.port, sf->backup ? " backup" : "", tail);
		} else {
			perf_printf(
			    &p->out,
			    "[SF%zu] %6.2f-%-6.2f sec  %s  %s                  rtt %.2f ms  "
			    "%s:%u <- %s:%u%s%s\n",
			    i + 1, t0, t1, tb, bb, (double)sf->srtt_ns / 1e6, la, sf->local.port,
			    ra, sf->remote.port, sf->backup ? " backup" : "", tail);
		}
	}
	return arr;
}

/* Sum rows of the streams of one direction (group 0: the first streams,
 * group 1: the bidirectional reverse). */
static bool in_group(const struct perf *p, const struct perf_stream *st, int group)
{
	if (!bidir(p))
		return group == 0;
	return (st->sender == p->streams[0].sender) == (group == 0);
}

void perf_report_interval(struct perf *p, uint64_t now, bool omitted)
{
	uint64_t base = omitted ? p->t0 : p->t_start;
	double t0 = secs_between(base, p->iv_start), t1 = secs_between(base, now);
	if (t0 > t1)
		t0 = t1;
	bool single = p->nstreams == 1;
	bool mp_single = single && mpt_sock_mptcp_enabled(p->streams[0].s);
	struct row rows[2 * PERF_MAX_STREAMS];
	for (int i = 0; i < p->nstreams; i++) {
		perf_stream_poll(&p->streams[i]);
		stream_row(&p->streams[i], t0, t1, &rows[i]);
	}
	if (!p->rep.header_done) {
		bool any_sender = false;
		for (int i = 0; i < p->nstreams; i++)
			any_sender |= p->streams[i].sender;
		perf_printf(
		    &p->out, "%s\n",
		    bidir(p)     ? "[ ID][Role] Interval           Transfer     Bitrate         "
				   "Retr  Cwnd"
		    : any_sender ? "[ ID] Interval           Transfer     Bitrate         Retr  "
				   "Cwnd"
				 : "[ ID] Interval           Transfer     Bitrate");
		p->rep.header_done = true;
	}
	const char *tail = omitted ? "(omitted)" : "";
	cJSON *iv = cJSON_CreateObject();
	cJSON *streams = cJSON_AddArrayToObject(iv, "streams");
	for (int g = 0; g < (bidir(p) ? 2 : 1); g++) {
		struct row sum;
		memset(&sum, 0, sizeof(sum));
		sum.start = t0;
		sum.end = t1;
		int n = 0;
		bool sender = false;
		for (int i = 0; i < p->nstreams; i++) {
			struct perf_stream *st = &p->streams[i];
			if (!in_group(p, st, g))
				continue;
			n++;
			sender = st->sender;
			sum.bytes += rows[i].bytes;
			sum.retr += rows[i].retr;
			cJSON_AddItemToArray(
			    streams, row_json(&rows[i], st->sock_no, st->sender, omitted, false));
			if (mp_single) {
				cJSON *mp = cJSON_AddObjectToObject(iv, "mptcp");
				cJSON_AddBoolToObject(mp, "enabled", true);
				cJSON_AddItemToObject(
				    mp, "subflows",
				    subflows_json(p, st, t1 - t0, true, true, t0, t1, NULL));
				continue;
			}
			char id[8], tag[24];
			snprintf(id, sizeof(id), "%3d", st->sock_no);
			stream_tag(p, st, id, tag, sizeof(tag));
			print_row(p, tag, &rows[i], st->sender, true, tail);
		}
		cJSON_AddItemToObject(iv, g == 0 ? "sum" : "sum_bidir_reverse",
				      row_json(&sum, 0, sender, omitted, true));
		if (mp_single || n > 1) {
			char tag[24];
			struct perf_stream probe = {.sender = sender};
			stream_tag(p, &probe, "SUM", tag, sizeof(tag));
			print_row(p, tag, mp_single ? &rows[0] : &sum, sender, mp_single, tail);
		}
	}
	/* Several streams: each stream's subflows in the JSON only. */
	if (!mp_single) {
		cJSON *mp = cJSON_AddObjectToObject(iv, "mptcp");
		bool any = false;
		cJSON *arr = cJSON_AddArrayToObject(mp, "subflows");
		for (int i = 0; i < p->nstreams; i++) {
			struct perf_stream *st = &p->streams[i];
			any |= mpt_sock_mptcp_enabled(st->s);
			cJSON *a = subflows_json(p, st, t1 - t0, true, false, t0, t1, NULL);
			cJSON *e;
			while ((e = cJSON_DetachItemFromArray(a, 0)) != NULL)
				cJSON_AddItemToArray(arr, e);
			cJSON_Delete(a);
		}
		cJSON_AddBoolToObject(mp, "enabled", any);
	}
	if (mp_single || p->nstreams > 1 || bidir(p))
		perf_printf(&p->out, "%s", sep_line);
	cJSON_AddItemToArray(p->rep.intervals, iv);
}

/* ---- the end --------------------------------------------------------------------- */

struct side {
	uint64_t bytes;
	double start, end;
	int64_t retr; /* < 0: not known */
	bool have_extra;
	uint64_t max_cwnd, max_snd_wnd, rtt_max, rtt_min, rtt_mean;
};

static cJSON *side_json(const struct side *sd, int sock_no, bool sender_flag, bool sum,
			bool with_retr)
{
	cJSON *o = cJSON_CreateObject();
	if (!sum)
		cJSON_AddNumberToObject(o, "socket", sock_no);
	double secs = sd->end - sd->start;
	cJSON_AddNumberToObject(o, "start", sd->start);
	cJSON_AddNumberToObject(o, "end", sd->end);
	cJSON_AddNumberToObject(o, "seconds", secs);
	cJSON_AddNumberToObject(o, "bytes", (double)sd->bytes);
	cJSON_AddNumberToObject(o, "bits_per_second", rate(sd->bytes, secs));
	if (with_retr) {
		cJSON_AddNumberToObject(o, "retransmits", (double)(sd->retr < 0 ? 0 : sd->retr));
		if (!sum) {
			cJSON_AddNumberToObject(o, "max_snd_cwnd", (double)sd->max_cwnd);
			cJSON_AddNumberToObject(o, "max_snd_wnd", (double)sd->max_snd_wnd);
			cJSON_AddNumberToObject(o, "max_rtt", (double)sd->rtt_max);
			cJSON_AddNumberToObject(o, "min_rtt", (double)sd->rtt_min);
			cJSON_AddNumberToObject(o, "mean_rtt", (double)sd->rtt_mean);
		}
	}
	cJSON_AddBoolToObject(o, "sender", sender_flag);
	return o;
}

static void print_side(struct perf *p, const char *tag, const struct side *sd, bool sender_row,
		       bool with_retr)
{
	char tb[32], bb[32];
	double secs = sd->end - sd->start;
	perf_fmt_bytes(tb, sizeof(tb), (double)sd->bytes, p->out.unit);
	perf_fmt_bits(bb, sizeof(bb), rate(sd->bytes, secs), p->out.unit);
	if (with_retr)
		perf_printf(&p->out,
			    "%s %6.2f-%-6.2f sec  %s  %s  %3" PRId64 "             sender\n", tag,
			    sd->start, sd->end, tb, bb, sd->retr < 0 ? 0 : sd->retr);
	else
		perf_printf(&p->out, "%s %6.2f-%-6.2f sec  %s  %s                  %s\n", tag,
			    sd->start, sd->end, tb, bb, sender_row ? "sender" : "receiver");
}

/* The two sides of one stream.  partial: the peer's figures are unknown
 * (interrupted): its side shows 0, as iperf3 does. */
static void stream_sides(struct perf *p, const struct perf_stream *st, bool partial,
			 struct side *snd, struct side *rcv)
{
	double mine = secs_between(p->t_start, p->t_stop);
	struct side me = {.bytes = st->bytes, .start = 0, .end = mine, .retr = -1};
	struct side peer = {.start = 0, .end = mine, .retr = -1};
	if (st->have_peer && !partial) {
		peer.bytes = st->peer_bytes;
		peer.start = 0;
		peer.end = st->peer_end - st->peer_start;
		peer.retr = st->peer_retr;
	}
	if (st->sender) {
		me.retr = (int64_t)perf_stream_retr(st, false);
		me.have_extra = true;
		me.max_cwnd = st->max_cwnd;
		me.max_snd_wnd = st->max_snd_wnd;
		me.rtt_max = st->rtt_max;
		me.rtt_min = st->rtt_min;
		me.rtt_mean = st->rtt_n ? st->rtt_sum / st->rtt_n : 0;
		*snd = me;
		*rcv = peer;
	} else {
		*snd = peer;
		*rcv = me;
	}
}

static cJSON *mptcp_stream_json(struct perf *p, struct perf_stream *st, double secs, bool print)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "socket", st->sock_no);
	bool have = st->have_mi;
	const struct mpt_mptcp_info *mi = &st->mi;
	cJSON_AddBoolToObject(o, "enabled", st->mptcp);
	cJSON_AddBoolToObject(o, "attempted", have);
	cJSON_AddBoolToObject(o, "fallback", have && mi->fallback);
	char kind[96];
	tool_conn_kind(st->s, kind, sizeof(kind));
	cJSON_AddStringToObject(o, "became", kind);
	if (have) {
		cJSON_AddNumberToObject(o, "version", mi->version);
		cJSON_AddNumberToObject(o, "token", mi->mptcpi_token);
		cJSON_AddNumberToObject(o, "subflows_total", (double)st->nsf);
		size_t joins = 0;
		for (size_t i = 0; i < st->nsf; i++)
			joins += st->sf[i].last.join;
		cJSON_AddNumberToObject(o, "subflows_joined", (double)joins);
		cJSON_AddNumberToObject(o, "subflows_max", mi->mptcpi_subflows_max);
		cJSON_AddNumberToObject(o, "add_addr_signal", mi->mptcpi_add_addr_signal);
		cJSON_AddNumberToObject(o, "add_addr_accepted", mi->mptcpi_add_addr_accepted);
		cJSON_AddBoolToObject(o, "checksum", mi->mptcpi_csum_enabled != 0);
		cJSON_AddNumberToObject(o, "bytes_retrans", (double)mi->mptcpi_bytes_retrans);
		cJSON_AddNumberToObject(o, "reinjected_bytes", (double)mi->reinjected_bytes);
	}
	/* This host's subflows: as the sender, their retransmissions are the
	 * stream's (the summary's Retr); as the receiver they are ours only. */
	cJSON_AddBoolToObject(o, "sender", st->sender);
	cJSON_AddNumberToObject(o, "retransmits", (double)perf_stream_retr(st, false));
	cJSON_AddItemToObject(o, "subflows",
			      subflows_json(p, st, secs, false, print, 0.0, secs, "tail"));
	if (print && have) {
		size_t joins = 0;
		for (size_t i = 0; i < st->nsf; i++)
			joins += st->sf[i].last.join;
		perf_printf(&p->out,
			    "mptcp [%3d]: version %u, %s, %zu subflow%s (%zu join%s), token %08x, "
			    "ADD_ADDR sent %u accepted %u, reinjected %" PRIu64 " B\n",
			    st->sock_no, mi->version, mi->fallback ? "FELL BACK to TCP" : "in use",
			    st->nsf, st->nsf == 1 ? "" : "s", joins, joins == 1 ? "" : "s",
			    mi->mptcpi_token, mi->mptcpi_add_addr_signal,
			    mi->mptcpi_add_addr_accepted, mi->reinjected_bytes);
	} else if (print) {
		perf_printf(&p->out, "mptcp [%3d]: not used: %s\n", st->sock_no, kind);
	}
	return o;
}

void perf_report_end(struct perf *p, bool partial)
{
	cJSON *end = cJSON_GetObjectItem(p->rep.top, "end");
	cJSON *streams = cJSON_AddArrayToObject(end, "streams");
	double secs = secs_between(p->t_start, p->t_stop);
	/* Whether the sender's retransmissions are known here: ours when we
	 * send; the peer's (its results) on a client, as iperf3. */
	bool any_sender = false, any_receiver = false;
	for (int i = 0; i < p->nstreams; i++) {
		any_sender |= p->streams[i].sender;
		any_receiver |= !p->streams[i].sender;
	}
	if (!p->out.json)
		perf_printf(
		    &p->out, "%s%s\n",
		    (p->nstreams == 1 && !mpt_sock_mptcp_enabled(p->streams[0].s) && !bidir(p))
			? sep_line
			: "",
		    bidir(p) ? "[ ID][Role] Interval           Transfer     Bitrate         Retr"
			     : "[ ID] Interval           Transfer     Bitrate         Retr");
	for (int g = 0; g < (bidir(p) ? 2 : 1); g++) {
		struct side ssum = {.retr = 0}, rsum = {0};
		bool sender = false, retr_known = false;
		int n = 0;
		for (int i = 0; i < p->nstreams; i++) {
			struct perf_stream *st = &p->streams[i];
			if (!in_group(p, st, g))
				continue;
			struct side snd, rcv;
			stream_sides(p, st, partial, &snd, &rcv);
			bool with_retr = st->sender || (!p->server && snd.retr >= 0);
			retr_known |= with_retr;
			sender = st->sender;
			n++;
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToObject(
			    o, "sender",
			    side_json(&snd, st->sock_no, st->sender, false, with_retr));
			cJSON_AddItemToObject(
			    o, "receiver", side_json(&rcv, st->sock_no, st->sender, false, false));
			cJSON_AddItemToArray(streams, o);
			ssum.bytes += snd.bytes;
			rsum.bytes += rcv.bytes;
			ssum.retr += snd.retr > 0 ? snd.retr : 0;
			if (snd.end > ssum.end)
				ssum.end = snd.end;
			if (rcv.end > rsum.end)
				rsum.end = rcv.end;
			char id[8], tag[24];
			snprintf(id, sizeof(id), "%3d", st->sock_no);
			stream_tag(p, st, id, tag, sizeof(tag));
			/* A server prints its own side only (as iperf3's). */
			if (!p->server || st->sender)
				print_side(p, tag, &snd, true, with_retr);
			if (!p->server || !st->sender)
				print_side(p, tag, &rcv, false, false);
		}
		cJSON_AddItemToObject(end, g == 0 ? "sum_sent" : "sum_sent_bidir_reverse",
				      side_json(&ssum, 0, sender, true, retr_known));
		cJSON_AddItemToObject(end, g == 0 ? "sum_received" : "sum_received_bidir_reverse",
				      side_json(&rsum, 0, sender, true, false));
		if (n > 1) {
			char tag[24];
			struct perf_stream probe = {.sender = sender};
			stream_tag(p, &probe, "SUM", tag, sizeof(tag));
			if (!p->server || sender)
				print_side(p, tag, &ssum, true, retr_known);
			if (!p->server || !sender)
				print_side(p, tag, &rsum, false, false);
		}
	}
	cJSON *cpu = cJSON_AddObjectToObject(end, "cpu_utilization_percent");
	cJSON_AddNumberToObject(cpu, "host_total", p->cpu[0]);
	cJSON_AddNumberToObject(cpu, "host_user", p->cpu[1]);
	cJSON_AddNumberToObject(cpu, "host_system", p->cpu[2]);
	cJSON_AddNumberToObject(cpu, "remote_total", p->peer_cpu[0]);
	cJSON_AddNumberToObject(cpu, "remote_user", p->peer_cpu[1]);
	cJSON_AddNumberToObject(cpu, "remote_system", p->peer_cpu[2]);
	/* The congestion controls: ours where we send (receive), the peer's
	 * (from its results) on a client. */
	const char *local_cc = p->cc_name && *p->cc_name ? p->cc_name : "cubic";
	const char *snd_cc =
	    any_sender ? local_cc : (!p->server && p->peer_cc[0] ? p->peer_cc : NULL);
	const char *rcv_cc =
	    any_receiver ? local_cc : (!p->server && p->peer_cc[0] ? p->peer_cc : NULL);
	if (snd_cc)
		cJSON_AddStringToObject(end, "sender_tcp_congestion", snd_cc);
	if (rcv_cc)
		cJSON_AddStringToObject(end, "receiver_tcp_congestion", rcv_cc);

	/* The mptcp object: every stream, and every subflow of every stream. */
	cJSON *mp = cJSON_AddObjectToObject(p->rep.top, "mptcp");
	bool all = p->nstreams > 0, any = false, fb = false, tried = false;
	uint64_t retr = 0;
	cJSON *mstreams = cJSON_CreateArray();
	cJSON *subs = cJSON_CreateArray();
	bool print_sf = p->nstreams == 1;
	for (int i = 0; i < p->nstreams; i++) {
		struct perf_stream *st = &p->streams[i];
		all &= st->mptcp;
		any |= st->mptcp;
		tried |= st->have_mi;
		fb |= st->have_mi && st->mi.fallback;
		retr += perf_stream_retr(st, false);
		cJSON *o = mptcp_stream_json(p, st, secs, print_sf && !p->out.json);
		cJSON *a = cJSON_GetObjectItem(o, "subflows");
		for (int k = 0; a && k < cJSON_GetArraySize(a); k++)
			cJSON_AddItemToArray(subs, cJSON_Duplicate(cJSON_GetArrayItem(a, k), true));
		cJSON_AddItemToArray(mstreams, o);
		if (!print_sf) {
			char kind[96];
			perf_printf(&p->out, "mptcp [%3d]: %s\n", st->sock_no,
				    tool_conn_kind(st->s, kind, sizeof(kind)));
		}
	}
	cJSON_AddBoolToObject(mp, "enabled", all);
	cJSON_AddBoolToObject(mp, "attempted", tried);
	cJSON_AddBoolToObject(mp, "fallback", fb);
	if (p->nstreams > 0 && p->streams[0].have_mi) {
		/* The first stream's identity, and sums over every stream (with
		 * one stream: that stream's figures, as before -P existed). */
		const struct mpt_mptcp_info *mi = &p->streams[0].mi;
		cJSON_AddNumberToObject(mp, "version", mi->version);
		cJSON_AddNumberToObject(mp, "token", mi->mptcpi_token);
		double sf_total = 0, joined = 0, signal = 0, accepted = 0, bretr = 0, reinj = 0;
		bool csum = false;
		for (int i = 0; i < p->nstreams; i++) {
			const struct perf_stream *st = &p->streams[i];
			if (!st->have_mi)
				continue;
			sf_total += (double)st->nsf;
			for (size_t k = 0; k < st->nsf; k++)
				joined += st->sf[k].last.join;
			signal += st->mi.mptcpi_add_addr_signal;
			accepted += st->mi.mptcpi_add_addr_accepted;
			bretr += (double)st->mi.mptcpi_bytes_retrans;
			reinj += (double)st->mi.reinjected_bytes;
			csum |= st->mi.mptcpi_csum_enabled != 0;
		}
		cJSON_AddNumberToObject(mp, "subflows_total", sf_total);
		cJSON_AddNumberToObject(mp, "subflows_joined", joined);
		cJSON_AddNumberToObject(mp, "subflows_max", mi->mptcpi_subflows_max);
		cJSON_AddNumberToObject(mp, "add_addr_signal", signal);
		cJSON_AddNumberToObject(mp, "add_addr_accepted", accepted);
		cJSON_AddBoolToObject(mp, "checksum", csum);
		cJSON_AddNumberToObject(mp, "bytes_retrans", bretr);
		cJSON_AddNumberToObject(mp, "reinjected_bytes", reinj);
	}
	cJSON_AddNumberToObject(mp, "retransmits", (double)retr);
	/* Sent bytes a subflow copied into its own send ring (DATA_ACKed
	 * before its TCP ACK came; the rest goes out from the data-level
	 * buffer: docs/architecture.md). */
	uint64_t kept = 0;
	if (p->st && mpt_stack_counter_by_name(p->st, "MPTCPSndKept", &kept) == 0)
		cJSON_AddNumberToObject(mp, "snd_kept_bytes", (double)kept);
	cJSON_AddItemToObject(mp, "subflows", subs);
	cJSON_AddItemToObject(mp, "streams", mstreams);
	(void)any;
	if (partial)
		perf_printf(&p->out, "(interrupted: the peer's figures are not known)\n");
}

void perf_report_error(struct perf *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mpt perf: error - %s\n", msg);
	if (p->rep.top && !cJSON_GetObjectItem(p->rep.top, "error"))
		cJSON_AddStringToObject(p->rep.top, "error", msg);
}

void perf_report_finish(struct perf *p)
{
	struct perf_report *r = &p->rep;
	if (!r->top)
		return;
	if (p->out.json) {
		if (!cJSON_GetObjectItem(r->top, "mptcp")) {
			cJSON *mp = cJSON_AddObjectToObject(r->top, "mptcp");
			cJSON_AddBoolToObject(mp, "enabled", false);
			cJSON_AddArrayToObject(mp, "subflows");
		}
		if (p->srv_json) {
			cJSON_AddItemToObject(r->top, "server_output_json", p->srv_json);
			p->srv_json = NULL;
		} else if (p->srv_text) {
			cJSON_AddStringToObject(r->top, "server_output_text", p->srv_text);
		}
		char *txt = cJSON_Print(r->top);
		if (txt) {
			emit_raw(&p->out, txt);
			emit_raw(&p->out, "\n");
			cJSON_free(txt);
		}
	}
	cJSON_Delete(r->top);
	r->top = NULL;
}

cJSON *perf_results_json(struct perf *p, const char *server_output_text, cJSON *server_output_json)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "cpu_util_total", p->cpu[0]);
	cJSON_AddNumberToObject(j, "cpu_util_user", p->cpu[1]);
	cJSON_AddNumberToObject(j, "cpu_util_system", p->cpu[2]);
	bool any_sender = false;
	for (int i = 0; i < p->nstreams; i++)
		any_sender |= p->streams[i].sender;
	cJSON_AddNumberToObject(j, "sender_has_retransmits", any_sender ? 1 : 0);
	cJSON_AddStringToObject(j, "congestion_used",
				p->cc_name && *p->cc_name ? p->cc_name : "cubic");
	cJSON *arr = cJSON_AddArrayToObject(j, "streams");
	for (int i = 0; i < p->nstreams; i++) {
		struct perf_stream *st = &p->streams[i];
		cJSON *s = cJSON_CreateObject();
		cJSON_AddNumberToObject(s, "id", st->id);
		cJSON_AddNumberToObject(s, "bytes", (double)st->bytes);
		cJSON_AddNumberToObject(s, "retransmits",
					st->sender ? (double)perf_stream_retr(st, false) : -1.0);
		cJSON_AddNumberToObject(s, "jitter", 0);
		cJSON_AddNumberToObject(s, "errors", 0);
		cJSON_AddNumberToObject(s, "packets", 0);
		cJSON_AddNumberToObject(s, "start_time", 0);
		cJSON_AddNumberToObject(s, "end_time", secs_between(p->t_start, p->t_stop));
		cJSON_AddItemToArray(arr, s);
	}
	if (server_output_json)
		cJSON_AddItemToObject(j, "server_output_json", server_output_json);
	else if (server_output_text)
		cJSON_AddStringToObject(j, "server_output_text", server_output_text);
	return j;
}
