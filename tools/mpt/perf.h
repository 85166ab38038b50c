/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt perf`: an iperf3-compatible throughput test over mpt's stack.
 *
 * perf.c speaks the iperf3 control protocol (client and server); perf_report.c
 * prints iperf3's human format (interval rows, sender/receiver summary, plus
 * per-subflow rows and a [SUM] row when MPTCP is in use) and builds the -J
 * document (iperf3's start/intervals/end plus an "mptcp" object).
 */
#ifndef MPT_TOOL_PERF_H
#define MPT_TOOL_PERF_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/backend.h"
#include "mpt/mpt.h"

#define PERF_COOKIE_LEN 37 /* 36 characters and a NUL, as iperf3 sends it */
#define PERF_MAX_SF     16 /* subflows reported per connection */
#define PERF_STREAM_ID  1  /* iperf3's id of the first (only) stream */
#define PERF_SOCKET_ID  5  /* the "[  5]" column iperf3 shows (its socket fd) */

/* Counters of one subflow as last seen, to report per-interval deltas. */
struct perf_sf_prev {
	struct mpt_endpoint local, remote;
	uint64_t bytes;   /* payload in the test's direction */
	uint32_t retrans; /* retransmitted segments */
};

/* One interval's figures of the data stream. */
struct perf_row {
	double start, end; /* seconds since the test started */
	uint64_t bytes;
	uint32_t retrans; /* -1 cast: unknown */
	uint32_t cwnd;    /* bytes */
	uint64_t rtt_us, rttvar_us;
	bool sender;
};

/* Report state shared by client and server. */
struct perf_report {
	bool json;    /* -J */
	bool sender;  /* we send the data */
	bool mptcp;   /* the data stream uses MPTCP (not fallen back) */
	bool tried;   /* MPTCP was attempted on the data stream */
	cJSON *top;   /* the -J document */
	cJSON *start; /* top.start */
	cJSON *intervals;
	/* per-subflow baselines: at the last interval and at the test start */
	struct perf_sf_prev prev[PERF_MAX_SF], base[PERF_MAX_SF];
	size_t n_prev, n_base;
	/* subflows and MPTCP state when the test stopped (the peer may close
	 * the stream before the summary is printed) */
	struct mpt_subflow_info end_sf[PERF_MAX_SF];
	size_t n_end;
	struct mpt_mptcp_info end_mi;
	bool have_end, have_end_mi, end_enabled;
	uint64_t max_cwnd, rtt_sum_us, rtt_min_us, rtt_max_us;
	uint32_t rtt_samples;
};

/* Start the -J document (start.connected etc.).  `s` is the data stream. */
void perf_report_init(struct perf_report *r, bool json);
void perf_report_connected(struct perf_report *r, const struct mpt_sock *s, const char *cookie,
			   const char *host, uint16_t port, bool server);
void perf_report_test_start(struct perf_report *r, uint32_t blksize, double duration,
			    uint64_t bytes, bool reverse);
/* Remember every subflow's counters as the test's starting point. */
void perf_report_baseline(struct perf_report *r, const struct mpt_sock *s);
/* Remember the subflows as they are when the test stops. */
void perf_report_snapshot(struct perf_report *r, const struct mpt_sock *s);
/* Print (and record) one interval of the data stream. */
void perf_report_interval(struct perf_report *r, const struct mpt_sock *s,
			  const struct perf_row *row);

/* The final figures of one side (from our counters or the peer's results). */
struct perf_side {
	uint64_t bytes;
	double seconds;
	int64_t retrans; /* < 0: unknown */
};

/* Print the final summary and fill top.end and top.mptcp. */
void perf_report_end(struct perf_report *r, const struct mpt_sock *s, const struct perf_side *sent,
		     const struct perf_side *recvd, const double cpu_local[3],
		     const double cpu_remote[3], const char *cc_local, const char *cc_remote);
/* Add "error" to the document (and say it on stderr when not -J). */
void perf_report_error(struct perf_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print the -J document to stdout and free it. */
void perf_report_finish(struct perf_report *r);

/* Human units as iperf3 prints them ("112 MBytes", "941 Mbits/sec"). */
void perf_fmt_bytes(char *buf, size_t len, double bytes);
void perf_fmt_bits(char *buf, size_t len, double bits_per_sec);

#endif /* MPT_TOOL_PERF_H */
