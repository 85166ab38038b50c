/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt perf` output: iperf3's human rows and its -J document, plus what
 * only an MPTCP stack can say (per-subflow rows, an "mptcp" object).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "perf.h"

static const char sep_line[] = "- - - - - - - - - - - - - - - - - - - - - - - - -\n";

/* iperf3's adaptive units: three significant digits, 1024 for bytes and
 * 1000 for bits. */
static void fmt_unit(char *buf, size_t len, double v, double base, const char *const *names)
{
	int i = 0;
	while (v >= base && i < 4) {
		v /= base;
		i++;
	}
	int prec = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
	snprintf(buf, len, "%4.*f %s", prec, v, names[i]);
}

void perf_fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char *const n[] = {"Bytes", "KBytes", "MBytes", "GBytes", "TBytes"};
	fmt_unit(buf, len, bytes, 1024.0, n);
}

void perf_fmt_bits(char *buf, size_t len, double bits_per_sec)
{
	static const char *const n[] = {"bits", "Kbits", "Mbits", "Gbits", "Tbits"};
	fmt_unit(buf, len, bits_per_sec, 1000.0, n);
}

static double rate(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes * 8.0 / secs : 0.0;
}

void perf_report_init(struct perf_report *r, bool json)
{
	memset(r, 0, sizeof(*r));
	r->json = json;
	r->rtt_min_us = UINT64_MAX;
	r->top = cJSON_CreateObject();
	r->start = cJSON_AddObjectToObject(r->top, "start");
	r->intervals = cJSON_AddArrayToObject(r->top, "intervals");
	cJSON_AddObjectToObject(r->top, "end");
}

static void endpoint_text(const struct mpt_endpoint *e, char *buf, size_t len)
{
	mpt_addr_format(&e->addr, buf, len);
}

void perf_report_connected(struct perf_report *r, const struct mpt_sock *s, const char *cookie,
			   const char *host, uint16_t port, bool server)
{
	struct mpt_endpoint l, rm;
	char la[64], ra[64];
	mpt_sock_endpoints(s, &l, &rm);
	endpoint_text(&l, la, sizeof(la));
	endpoint_text(&rm, ra, sizeof(ra));
	r->tried = mpt_sock_mptcp_enabled(s);
	cJSON *conn = cJSON_AddArrayToObject(r->start, "connected");
	cJSON *c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "socket", PERF_SOCKET_ID);
	cJSON_AddStringToObject(c, "local_host", la);
	cJSON_AddNumberToObject(c, "local_port", l.port);
	cJSON_AddStringToObject(c, "remote_host", ra);
	cJSON_AddNumberToObject(c, "remote_port", rm.port);
	cJSON_AddItemToArray(conn, c);
	cJSON_AddStringToObject(r->start, "version", "mpt perf " MPT_VERSION_STRING);
	struct utsname u;
	char sys[400];
	if (uname(&u) == 0)
		snprintf(sys, sizeof(sys), "%s %s %s %s %s", u.sysname, u.nodename, u.release,
			 u.version, u.machine);
	else
		snprintf(sys, sizeof(sys), "unknown");
	cJSON_AddStringToObject(r->start, "system_info", sys);
	time_t now = time(NULL);
	char tbuf[64];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%a, %d %b %Y %H:%M:%S UTC", &tm);
	cJSON *ts = cJSON_AddObjectToObject(r->start, "timestamp");
	cJSON_AddStringToObject(ts, "time", tbuf);
	cJSON_AddNumberToObject(ts, "timesecs", (double)now);
	if (server) {
		cJSON *a = cJSON_AddObjectToObject(r->start, "accepted_connection");
		cJSON_AddStringToObject(a, "host", ra);
		cJSON_AddNumberToObject(a, "port", rm.port);
	} else {
		cJSON *ct = cJSON_AddObjectToObject(r->start, "connecting_to");
		cJSON_AddStringToObject(ct, "host", host);
		cJSON_AddNumberToObject(ct, "port", port);
	}
	cJSON_AddStringToObject(r->start, "cookie", cookie);
	struct mpt_sock_info info;
	if (mpt_sock_info(s, &info) == 0)
		cJSON_AddNumberToObject(r->start, "tcp_mss_default", info.snd_mss);
	if (!r->json)
		printf("[%3d] local %s port %u connected to %s port %u%s\n", PERF_SOCKET_ID, la,
		       l.port, ra, rm.port, r->tried ? " (MPTCP)" : "");
}

void perf_report_test_start(struct perf_report *r, uint32_t blksize, double duration,
			    uint64_t bytes, bool reverse)
{
	cJSON *t = cJSON_AddObjectToObject(r->start, "test_start");
	cJSON_AddStringToObject(t, "protocol", "TCP");
	cJSON_AddNumberToObject(t, "num_streams", 1);
	cJSON_AddNumberToObject(t, "blksize", blksize);
	cJSON_AddNumberToObject(t, "omit", 0);
	cJSON_AddNumberToObject(t, "duration", duration);
	cJSON_AddNumberToObject(t, "bytes", (double)bytes);
	cJSON_AddNumberToObject(t, "blocks", 0);
	cJSON_AddNumberToObject(t, "reverse", reverse ? 1 : 0);
	cJSON_AddNumberToObject(t, "tos", 0);
	if (!r->json) {
		printf("Starting Test: protocol: TCP%s, 1 streams, %u byte blocks, omitting 0 "
		       "seconds, %s\n",
		       r->tried ? " (MPTCP)" : "", blksize,
		       bytes ? "byte-limited" : "time-limited");
	}
}

/* Subflow bytes in the test's direction. */
static uint64_t sf_bytes(const struct perf_report *r, const struct mpt_subflow_info *sf)
{
	return r->sender ? sf->bytes_sent : sf->bytes_received;
}

static const struct perf_sf_prev *sf_find(const struct perf_sf_prev *tab, size_t n,
					  const struct mpt_subflow_info *sf)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].local.port == sf->local.port && tab[i].remote.port == sf->remote.port &&
		    mpt_addr_equal(&tab[i].local.addr, &sf->local.addr) &&
		    mpt_addr_equal(&tab[i].remote.addr, &sf->remote.addr))
			return &tab[i];
	return NULL;
}

static size_t sf_snapshot(const struct perf_report *r, const struct mpt_sock *s,
			  struct mpt_subflow_info *sf, struct perf_sf_prev *tab)
{
	int n = mpt_sock_subflows(s, sf, PERF_MAX_SF);
	if (n < 0)
		return 0;
	size_t cnt = (size_t)n < PERF_MAX_SF ? (size_t)n : PERF_MAX_SF;
	for (size_t i = 0; tab && i < cnt; i++) {
		tab[i].local = sf[i].local;
		tab[i].remote = sf[i].remote;
		tab[i].bytes = sf_bytes(r, &sf[i]);
		tab[i].retrans = sf[i].retransmits;
	}
	return cnt;
}

void perf_report_baseline(struct perf_report *r, const struct mpt_sock *s)
{
	struct mpt_subflow_info sf[PERF_MAX_SF];
	r->n_base = sf_snapshot(r, s, sf, r->base);
	memcpy(r->prev, r->base, sizeof(r->prev));
	r->n_prev = r->n_base;
}

void perf_report_snapshot(struct perf_report *r, const struct mpt_sock *s)
{
	r->n_end = sf_snapshot(r, s, r->end_sf, NULL);
	r->have_end_mi = mpt_sock_mptcp_info(s, &r->end_mi) == 0;
	r->end_enabled = mpt_sock_mptcp_enabled(s);
	r->have_end = true;
}

static cJSON *sf_json(const struct mpt_subflow_info *sf, size_t idx)
{
	char la[64], ra[64];
	endpoint_text(&sf->local, la, sizeof(la));
	endpoint_text(&sf->remote, ra, sizeof(ra));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)idx + 1);
	cJSON_AddStringToObject(o, "local_host", la);
	cJSON_AddNumberToObject(o, "local_port", sf->local.port);
	cJSON_AddStringToObject(o, "remote_host", ra);
	cJSON_AddNumberToObject(o, "remote_port", sf->remote.port);
	cJSON_AddNumberToObject(o, "local_id", sf->local_id);
	cJSON_AddNumberToObject(o, "remote_id", sf->remote_id);
	cJSON_AddBoolToObject(o, "join", sf->join);
	cJSON_AddBoolToObject(o, "backup", sf->backup);
	cJSON_AddBoolToObject(o, "active", sf->active);
	cJSON_AddStringToObject(o, "state", sf->state);
	cJSON_AddNumberToObject(o, "rtt", (double)(sf->srtt_ns / 1000u));
	cJSON_AddNumberToObject(o, "snd_cwnd", sf->cwnd);
	return o;
}

static void print_sf_row(const struct perf_report *r, size_t idx, double t0, double t1,
			 uint64_t bytes, uint32_t retr, const struct mpt_subflow_info *sf,
			 const char *tail)
{
	char tb[32], bb[32], cb[32], la[64], ra[64];
	perf_fmt_bytes(tb, sizeof(tb), (double)bytes);
	perf_fmt_bits(bb, sizeof(bb), rate(bytes, t1 - t0));
	endpoint_text(&sf->local, la, sizeof(la));
	endpoint_text(&sf->remote, ra, sizeof(ra));
	if (r->sender) {
		perf_fmt_bytes(cb, sizeof(cb), sf->cwnd);
		printf("[SF%zu] %6.2f-%-6.2f sec  %s  %s/sec  %3u   %s  rtt %.2f ms  %s:%u -> "
		       "%s:%u%s%s\n",
		       idx + 1, t0, t1, tb, bb, retr, cb, (double)sf->srtt_ns / 1e6, la,
		       sf->local.port, ra, sf->remote.port, sf->backup ? " backup" : "", tail);
	} else {
		printf("[SF%zu] %6.2f-%-6.2f sec  %s  %s/sec                  rtt %.2f ms  %s:%u "
		       "<- %s:%u%s%s\n",
		       idx + 1, t0, t1, tb, bb, (double)sf->srtt_ns / 1e6, la, sf->local.port, ra,
		       sf->remote.port, sf->backup ? " backup" : "", tail);
	}
}

static void print_row(const struct perf_report *r, const char *id, const struct perf_row *row)
{
	char tb[32], bb[32], cb[32];
	double secs = row->end - row->start;
	perf_fmt_bytes(tb, sizeof(tb), (double)row->bytes);
	perf_fmt_bits(bb, sizeof(bb), rate(row->bytes, secs));
	if (r->sender) {
		perf_fmt_bytes(cb, sizeof(cb), row->cwnd);
		printf("[%s] %6.2f-%-6.2f sec  %s  %s/sec  %3u   %s\n", id, row->start, row->end,
		       tb, bb, row->retrans, cb);
	} else {
		printf("[%s] %6.2f-%-6.2f sec  %s  %s/sec\n", id, row->start, row->end, tb, bb);
	}
}

static cJSON *row_json(const struct perf_report *r, const struct perf_row *row, bool sum)
{
	double secs = row->end - row->start;
	cJSON *o = cJSON_CreateObject();
	if (!sum)
		cJSON_AddNumberToObject(o, "socket", PERF_SOCKET_ID);
	cJSON_AddNumberToObject(o, "start", row->start);
	cJSON_AddNumberToObject(o, "end", row->end);
	cJSON_AddNumberToObject(o, "seconds", secs);
	cJSON_AddNumberToObject(o, "bytes", (double)row->bytes);
	cJSON_AddNumberToObject(o, "bits_per_second", rate(row->bytes, secs));
	if (r->sender) {
		cJSON_AddNumberToObject(o, "retransmits", row->retrans);
		if (!sum) {
			cJSON_AddNumberToObject(o, "snd_cwnd", row->cwnd);
			cJSON_AddNumberToObject(o, "rtt", (double)row->rtt_us);
			cJSON_AddNumberToObject(o, "rttvar", (double)row->rttvar_us);
		}
	}
	cJSON_AddBoolToObject(o, "omitted", false);
	cJSON_AddBoolToObject(o, "sender", r->sender);
	return o;
}

void perf_report_interval(struct perf_report *r, const struct mpt_sock *s,
			  const struct perf_row *row)
{
	struct mpt_subflow_info sf[PERF_MAX_SF];
	struct perf_sf_prev now_tab[PERF_MAX_SF];
	size_t n = sf_snapshot(r, s, sf, now_tab);
	bool first = cJSON_GetArraySize(r->intervals) == 0;
	r->mptcp = mpt_sock_mptcp_enabled(s);
	if (row->sender) {
		if (row->cwnd > r->max_cwnd)
			r->max_cwnd = row->cwnd;
		if (row->rtt_us) {
			r->rtt_sum_us += row->rtt_us;
			r->rtt_samples++;
			if (row->rtt_us < r->rtt_min_us)
				r->rtt_min_us = row->rtt_us;
			if (row->rtt_us > r->rtt_max_us)
				r->rtt_max_us = row->rtt_us;
		}
	}
	cJSON *iv = cJSON_CreateObject();
	cJSON *streams = cJSON_AddArrayToObject(iv, "streams");
	cJSON_AddItemToArray(streams, row_json(r, row, false));
	cJSON_AddItemToObject(iv, "sum", row_json(r, row, true));
	cJSON *mp = cJSON_AddObjectToObject(iv, "mptcp");
	cJSON_AddBoolToObject(mp, "enabled", r->mptcp);
	cJSON *arr = cJSON_AddArrayToObject(mp, "subflows");
	if (!r->json && first)
		printf(r->sender
			   ? "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n"
			   : "[ ID] Interval           Transfer     Bitrate\n");
	for (size_t i = 0; i < n; i++) {
		const struct perf_sf_prev *p = sf_find(r->prev, r->n_prev, &sf[i]);
		uint64_t b = now_tab[i].bytes - (p ? p->bytes : 0);
		uint32_t rt = now_tab[i].retrans - (p ? p->retrans : 0);
		cJSON *o = sf_json(&sf[i], i);
		cJSON_AddNumberToObject(o, "bytes", (double)b);
		cJSON_AddNumberToObject(o, "bits_per_second", rate(b, row->end - row->start));
		cJSON_AddNumberToObject(o, "retransmits", rt);
		cJSON_AddItemToArray(arr, o);
		if (!r->json && r->mptcp)
			print_sf_row(r, i, row->start, row->end, b, rt, &sf[i], "");
	}
	memcpy(r->prev, now_tab, sizeof(now_tab[0]) * n);
	r->n_prev = n;
	cJSON_AddItemToArray(r->intervals, iv);
	if (!r->json) {
		char id[8];
		snprintf(id, sizeof(id), r->mptcp ? "SUM" : "%3d", PERF_SOCKET_ID);
		print_row(r, id, row);
		if (r->mptcp)
			printf("%s", sep_line);
	}
	fflush(stdout);
}

static cJSON *side_json(const struct perf_report *r, const struct perf_side *sd, bool sender_row,
			bool sum)
{
	cJSON *o = cJSON_CreateObject();
	if (!sum)
		cJSON_AddNumberToObject(o, "socket", PERF_SOCKET_ID);
	cJSON_AddNumberToObject(o, "start", 0);
	cJSON_AddNumberToObject(o, "end", sd->seconds);
	cJSON_AddNumberToObject(o, "seconds", sd->seconds);
	cJSON_AddNumberToObject(o, "bytes", (double)sd->bytes);
	cJSON_AddNumberToObject(o, "bits_per_second", rate(sd->bytes, sd->seconds));
	if (sender_row && sd->retrans >= 0) {
		cJSON_AddNumberToObject(o, "retransmits", (double)sd->retrans);
		if (!sum && r->sender) {
			cJSON_AddNumberToObject(o, "max_snd_cwnd", (double)r->max_cwnd);
			cJSON_AddNumberToObject(o, "max_rtt", (double)r->rtt_max_us);
			cJSON_AddNumberToObject(o, "min_rtt",
						r->rtt_samples ? (double)r->rtt_min_us : 0.0);
			cJSON_AddNumberToObject(
			    o, "mean_rtt",
			    r->rtt_samples ? (double)(r->rtt_sum_us / r->rtt_samples) : 0.0);
		}
	}
	cJSON_AddBoolToObject(o, "sender", r->sender);
	return o;
}

static void print_side(const struct perf_side *sd, bool sender_row)
{
	char tb[32], bb[32];
	perf_fmt_bytes(tb, sizeof(tb), (double)sd->bytes);
	perf_fmt_bits(bb, sizeof(bb), rate(sd->bytes, sd->seconds));
	if (sender_row && sd->retrans >= 0)
		printf("[%3d] %6.2f-%-6.2f sec  %s  %s/sec  %3" PRId64 "             sender\n",
		       PERF_SOCKET_ID, 0.0, sd->seconds, tb, bb, sd->retrans);
	else
		printf("[%3d] %6.2f-%-6.2f sec  %s  %s/sec                  %s\n", PERF_SOCKET_ID,
		       0.0, sd->seconds, tb, bb, sender_row ? "sender" : "receiver");
}

static void mptcp_json(struct perf_report *r, const struct mpt_sock *s, double secs)
{
	cJSON *mp = cJSON_AddObjectToObject(r->top, "mptcp");
	struct mpt_mptcp_info mi;
	bool have, enabled;
	if (r->have_end) {
		mi = r->end_mi;
		have = r->have_end_mi;
		enabled = r->end_enabled;
	} else {
		have = s && mpt_sock_mptcp_info(s, &mi) == 0;
		enabled = s && mpt_sock_mptcp_enabled(s);
	}
	cJSON_AddBoolToObject(mp, "enabled", enabled);
	cJSON_AddBoolToObject(mp, "attempted", have);
	cJSON_AddBoolToObject(mp, "fallback", have && mi.fallback);
	if (have) {
		cJSON_AddNumberToObject(mp, "version", mi.version);
		cJSON_AddNumberToObject(mp, "token", mi.mptcpi_token);
		cJSON_AddNumberToObject(mp, "subflows_total", mi.mptcpi_subflows_total);
		cJSON_AddNumberToObject(mp, "subflows_joined", mi.mptcpi_subflows);
		cJSON_AddNumberToObject(mp, "subflows_max", mi.mptcpi_subflows_max);
		cJSON_AddNumberToObject(mp, "add_addr_signal", mi.mptcpi_add_addr_signal);
		cJSON_AddNumberToObject(mp, "add_addr_accepted", mi.mptcpi_add_addr_accepted);
		cJSON_AddBoolToObject(mp, "checksum", mi.mptcpi_csum_enabled != 0);
		cJSON_AddNumberToObject(mp, "retransmits", mi.mptcpi_retransmits);
		cJSON_AddNumberToObject(mp, "bytes_retrans", (double)mi.mptcpi_bytes_retrans);
		cJSON_AddNumberToObject(mp, "reinjected_bytes", (double)mi.reinjected_bytes);
	}
	cJSON *arr = cJSON_AddArrayToObject(mp, "subflows");
	struct mpt_subflow_info sf[PERF_MAX_SF];
	size_t n = 0;
	if (r->have_end) {
		n = r->n_end;
		memcpy(sf, r->end_sf, sizeof(sf[0]) * n);
	} else if (s) {
		n = sf_snapshot(r, s, sf, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		const struct perf_sf_prev *b = sf_find(r->base, r->n_base, &sf[i]);
		uint64_t bytes = sf_bytes(r, &sf[i]) - (b ? b->bytes : 0);
		cJSON *o = sf_json(&sf[i], i);
		cJSON_AddNumberToObject(o, "bytes", (double)bytes);
		cJSON_AddNumberToObject(o, "bits_per_second", rate(bytes, secs));
		cJSON_AddNumberToObject(o, "bytes_sent", (double)sf[i].bytes_sent);
		cJSON_AddNumberToObject(o, "bytes_acked", (double)sf[i].bytes_acked);
		cJSON_AddNumberToObject(o, "bytes_received", (double)sf[i].bytes_received);
		cJSON_AddNumberToObject(o, "bytes_retrans", (double)sf[i].bytes_retrans);
		cJSON_AddNumberToObject(o, "retransmits", sf[i].retransmits);
		cJSON_AddItemToArray(arr, o);
		if (!r->json && r->mptcp)
			print_sf_row(r, i, 0.0, secs, bytes,
				     sf[i].retransmits - (b ? b->retrans : 0), &sf[i],
				     sf[i].join ? "  (MP_JOIN)" : "  (initial)");
	}
	if (!r->json && have)
		printf("mptcp: version %u, %s, %u subflow(s) (%u joined), token %08x, "
		       "ADD_ADDR sent %u accepted %u, reinjected %" PRIu64 " B\n",
		       mi.version, mi.fallback ? "FELL BACK to TCP" : "in use",
		       mi.mptcpi_subflows_total, mi.mptcpi_subflows, mi.mptcpi_token,
		       mi.mptcpi_add_addr_signal, mi.mptcpi_add_addr_accepted, mi.reinjected_bytes);
}

void perf_report_end(struct perf_report *r, const struct mpt_sock *s, const struct perf_side *sent,
		     const struct perf_side *recvd, const double cpu_local[3],
		     const double cpu_remote[3], const char *cc_local, const char *cc_remote)
{
	cJSON *end = cJSON_GetObjectItem(r->top, "end");
	cJSON *streams = cJSON_AddArrayToObject(end, "streams");
	cJSON *st = cJSON_CreateObject();
	cJSON_AddItemToObject(st, "sender", side_json(r, sent, true, false));
	cJSON_AddItemToObject(st, "receiver", side_json(r, recvd, false, false));
	cJSON_AddItemToArray(streams, st);
	cJSON_AddItemToObject(end, "sum_sent", side_json(r, sent, true, true));
	cJSON_AddItemToObject(end, "sum_received", side_json(r, recvd, false, true));
	cJSON *cpu = cJSON_AddObjectToObject(end, "cpu_utilization_percent");
	cJSON_AddNumberToObject(cpu, "host_total", cpu_local[0]);
	cJSON_AddNumberToObject(cpu, "host_user", cpu_local[1]);
	cJSON_AddNumberToObject(cpu, "host_system", cpu_local[2]);
	cJSON_AddNumberToObject(cpu, "remote_total", cpu_remote[0]);
	cJSON_AddNumberToObject(cpu, "remote_user", cpu_remote[1]);
	cJSON_AddNumberToObject(cpu, "remote_system", cpu_remote[2]);
	const char *snd_cc = r->sender ? cc_local : cc_remote;
	const char *rcv_cc = r->sender ? cc_remote : cc_local;
	if (snd_cc && *snd_cc)
		cJSON_AddStringToObject(end, "sender_tcp_congestion", snd_cc);
	if (rcv_cc && *rcv_cc)
		cJSON_AddStringToObject(end, "receiver_tcp_congestion", rcv_cc);
	if (!r->json) {
		if (!r->mptcp)
			printf("%s", sep_line);
		printf(sent->retrans >= 0
			   ? "[ ID] Interval           Transfer     Bitrate         Retr\n"
			   : "[ ID] Interval           Transfer     Bitrate\n");
	}
	double secs = r->sender ? sent->seconds : recvd->seconds;
	mptcp_json(r, s, secs);
	if (!r->json) {
		print_side(sent, true);
		print_side(recvd, false);
		printf("\nmpt perf Done.\n");
		fflush(stdout);
	}
}

void perf_report_error(struct perf_report *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mpt perf: error - %s\n", msg);
	if (r->top && !cJSON_GetObjectItem(r->top, "error"))
		cJSON_AddStringToObject(r->top, "error", msg);
}

void perf_report_finish(struct perf_report *r)
{
	if (!r->top)
		return;
	if (r->json) {
		if (!cJSON_GetObjectItem(r->top, "mptcp"))
			mptcp_json(r, NULL, 0.0);
		char *txt = cJSON_Print(r->top);
		if (txt) {
			printf("%s\n", txt);
			cJSON_free(txt);
		}
		fflush(stdout);
	}
	cJSON_Delete(r->top);
	r->top = NULL;
}
