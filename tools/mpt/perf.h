/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt perf`: an iperf3-compatible throughput test over mpt's stack.
 *
 * perf.c speaks the iperf3 control protocol (client and server, 1 to 128
 * streams, reverse and bidirectional); perf_report.c prints iperf3's human
 * format (interval rows, sender/receiver summary; per-subflow rows and a
 * [SUM] row when a single stream uses MPTCP) and builds iperf3 3.12's -J
 * document plus an "mptcp" object.
 *
 * Retransmissions are counted once, per subflow: every subflow of a stream
 * is tracked from the test's start (after -O) to its end, closed subflows
 * included, and every figure (interval rows, the sender summary, the JSON's
 * sum_sent / streams[].sender / intervals[].sum, the mptcp object) is a sum
 * of those per-subflow deltas.  So they agree by construction.
 */
#ifndef MPT_TOOL_PERF_H
#define MPT_TOOL_PERF_H

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "mpt/backend.h"
#include "mpt/mpt.h"
#include "toolloop.h"

#define PERF_COOKIE_LEN   37  /* 36 characters and a NUL, as iperf3 sends it */
#define PERF_MAX_STREAMS  128 /* iperf3's -P limit */
#define PERF_MAX_SF       16  /* subflows tracked per stream */
#define PERF_FIRST_SOCKET 5   /* the "[  5]" column iperf3 shows (socket fds) */

/* One subflow of a stream, tracked from the test's start (closed ones stay). */
struct perf_sf {
	struct mpt_subflow_info last;   /* as last seen (state, RTT, cwnd, counters) */
	uint64_t bytes_base, retr_base; /* at the test's start (after -O) */
	uint64_t bytes_iv, retr_iv;     /* at the current interval's start */
	bool gone;                      /* the connection no longer reports it */
};

/* One data stream (a TCP or MPTCP connection). */
struct perf_stream {
	int id;      /* iperf3's stream id: 1, 2, ... in creation/accept order */
	int sock_no; /* the "[  5]" column */
	bool sender; /* we send on it */
	struct mpt_sock *s;
	bool connected, eof;
	int err;
	size_t cookie_off; /* client: cookie bytes sent */
	/* counted during the test (after -O) */
	uint64_t bytes, iv_bytes;
	uint64_t blocks;
	/* sender figures over the test */
	uint64_t max_cwnd, max_snd_wnd;
	uint64_t rtt_min, rtt_max, rtt_sum; /* microseconds */
	uint32_t rtt_n;
	/* subflows */
	struct perf_sf sf[PERF_MAX_SF];
	size_t nsf;
	/* what the connection became, snapshot at the test's end */
	struct mpt_mptcp_info mi;
	bool have_mi, mptcp, tried;
	/* the peer's results for this stream */
	bool have_peer;
	uint64_t peer_bytes;
	double peer_start, peer_end;
	int64_t peer_retr; /* -1: not reported */
};

/* Output: iperf3's human lines or its JSON document, to stdout or
 * --logfile, with -T / --timestamps prefixes; a server can capture its text
 * for --get-server-output. */
struct perf_out {
	FILE *f;            /* stdout or the --logfile */
	const char *title;  /* -T */
	const char *ts_fmt; /* --timestamps (NULL: off) */
	char unit;          /* -f: 0 (adaptive), k m g t (bits), K M G T (bytes) */
	bool json;          /* -J */
	char *capture;      /* text captured for the client (NULL: not capturing) */
	size_t cap_len, cap_size;
};

/* A test's parameters (client: command line; server: the client's JSON). */
struct perf_params {
	double duration; /* seconds (0 with -n / -k) */
	uint64_t nbytes, nblocks;
	uint32_t blksize;
	int nstreams;
	bool reverse, bidir;
	double omit;     /* -O seconds */
	uint64_t rate;   /* -b bit/s per stream (0: unlimited) */
	uint32_t window; /* -w (0: default) */
	uint16_t mss;    /* -M (0: default) */
	bool get_server_output;
	char title[128];
	char cc[MPT_CC_NAME_LEN];
	char extra_data[256];
};

struct perf;

/* ---- perf_report.c ---------------------------------------------------------- */

void perf_out_init(struct perf_out *o);
/* Print one line (or several): title / timestamp prefixes, the log file,
 * the capture buffer.  Nothing is printed in JSON mode except by
 * perf_report_finish. */
void perf_printf(struct perf_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Start / stop capturing the text printed (server, --get-server-output). */
void perf_capture_start(struct perf_out *o);
char *perf_capture_take(struct perf_out *o);

/* The -J document and the human output of one test. */
struct perf_report {
	cJSON *top, *start, *intervals;
	bool header_done; /* the interval header line was printed */
};

void perf_report_init(struct perf *p);
/* A data stream connected (the "[  5] local ... connected to" line). */
void perf_report_stream(struct perf *p, const struct perf_stream *st);
/* start.* of the document, the "Starting Test" line. */
void perf_report_test_start(struct perf *p);
/* One interval of every stream, [start, now]. */
void perf_report_interval(struct perf *p, uint64_t now, bool omitted);
/* The summary and end.*, mptcp.* (partial: interrupted, the peer's
 * figures unknown). */
void perf_report_end(struct perf *p, bool partial);
/* "error" into the document, a message on stderr. */
void perf_report_error(struct perf *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the JSON document (-J) and free it. */
void perf_report_finish(struct perf *p);
/* The results iperf3 exchanges at the end (our side). */
cJSON *perf_results_json(struct perf *p, const char *server_output_text, cJSON *server_output_json);

/* Human units as iperf3 prints them ("112 MBytes", "941 Mbits/sec"). */
void perf_fmt_bytes(char *buf, size_t len, double bytes, char unit);
void perf_fmt_bits(char *buf, size_t len, double bits_per_sec, char unit);

/* ---- perf.c (for the report) -------------------------------------------------- */

/* Refresh st's subflow table from the connection (counters, states). */
void perf_stream_poll(struct perf_stream *st);
/* Retransmissions of st's subflows since the test's start / the interval's. */
uint64_t perf_stream_retr(const struct perf_stream *st, bool interval);

/* The whole state of `mpt perf` (one process runs one test at a time). */
struct perf {
	struct mpt_backend *be;
	struct mpt_stack *st;
	bool server, one_off, verbose;
	struct perf_params prm;
	double interval;
	uint16_t port;
	const char *host;
	struct mpt_endpoint remote;
	const struct mpt_addr *local; /* client: -B or the first path of the family */
	const struct mpt_addr *bind;  /* -B */
	int family;                   /* -4 / -6 (0: both) */
	uint64_t connect_ns;          /* --connect-timeout */
	uint16_t cport;               /* --cport: first data stream's local port (0: any) */
	uint32_t stack_sndbuf, stack_rcvbuf;
	int phase;
	/* control connection */
	struct {
		struct mpt_sock *s;
		bool connected, eof, shut;
		int err;
		uint8_t *in;
		size_t in_len;
		uint8_t *out;
		size_t out_len, out_cap;
	} ctl;
	struct perf_stream streams[2 * PERF_MAX_STREAMS];
	int nstreams;     /* created / accepted so far */
	int want_streams; /* nstreams x (bidir ? 2 : 1) */
	struct mpt_sock *lsock;
	struct {
		struct mpt_sock *s;
		uint8_t cookie[PERF_COOKIE_LEN];
		size_t len;
	} pend[8];
	char cookie[PERF_COOKIE_LEN];
	bool listener_ready;
	int test_no;
	/* timing */
	bool running, ended, omitting;
	uint64_t t0;      /* the test's start (TEST_RUNNING) */
	uint64_t t_start; /* counting starts (after -O) */
	uint64_t t_stop;  /* counting stopped */
	uint64_t iv_start, next_iv, deadline, omit_end, connect_deadline, pace_at;
	struct tool_timer timer;
	struct tool_signals sig;
	int signo;                   /* a signal to handle (0: none) */
	uint64_t drain_end, term_by; /* after a signal (perf.c: handle_signal) */
	struct rusage ru0;
	double cpu[3], peer_cpu[3];
	char peer_cc[MPT_CC_NAME_LEN];
	bool peer_has_retr;
	/* the server's output, for the client (--get-server-output) */
	char *srv_text;
	cJSON *srv_json;
	struct perf_out out;
	struct perf_report rep;
	uint8_t *buf;
	int status;
	bool failed_test;
	/* stack options we report */
	const char *cc_name;
};

#endif /* MPT_TOOL_PERF_H */
