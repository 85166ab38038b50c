/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark (not a test): every scheduler x every congestion control x four
 * scenarios, in the simulator (issue 5, "bench/policies").
 *
 *   policies_bench OUT.md SVG_DIR
 *
 * Scenarios (client -> server bulk transfer of a fixed size, SHA-256
 * checked at the receiver):
 *   equal   two paths, 50 Mbit/s, 20 ms RTT each;
 *   hetrtt  two paths, 50 Mbit/s 10 ms and 50 Mbit/s 100 ms;
 *   lossy   two paths, 50 Mbit/s 20 ms, one with 2 % random loss (data
 *           direction);
 *   shared  both subflows through one 40 Mbit/s droptail bottleneck shared
 *           with one plain TCP flow (reno), topology of
 *           tests/sim/mptcp_cc_test.c.
 * plus, on the hetrtt paths, a request/response metric: ten 64 KiB
 * responses on a warm connection.
 *
 * Per run: goodput, completion time, integrity, reinjected and retransmitted
 * bytes, RTOs, the longest time the receiving application read nothing and
 * the lowest goodput over a 0.5 s window (both sampled every 10 ms), bytes
 * on each path's wire, and in "shared" the competing TCP flow's goodput.
 *
 * Writes OUT.md (one table per scenario, rows = scheduler, columns = CC,
 * details per run, observations computed from the numbers) and
 * SVG_DIR/<scenario>.svg (grouped bar chart of goodput).  MPT_BENCH_SOURCE
 * (optional, set by bench/policies.sh) names the source revision in the
 * Markdown header.  Everything is deterministic: fixed seeds, virtual
 * time; the outputs contain no date or wall-clock figure, so a rerun of
 * the same code gives identical files.
 * Progress and wall times go to stdout.  Exit status 1 when a run was not
 * intact or did not finish.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"

#define MIB UINT64_C(1048576)
#define MS  UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

#define MAX_SCHED 8
#define N_CC      5
#define N_SCEN    6

static const char *const cc_names[N_CC] = {"reno", "cubic", "lia", "olia", "balia"};
/* Tableau-10 colours, one per CC (bars) */
static const char *const cc_colour[N_CC] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1"};

enum kind { TWO_PATHS, SHARED };

struct scen {
	const char *key;   /* file name of the SVG */
	const char *title; /* table heading */
	enum kind kind;
	uint64_t rate[2];        /* bit/s (TWO_PATHS) */
	uint64_t rtt[2];         /* ns */
	double loss[2];          /* random loss on the client -> server direction */
	uint64_t bytes;          /* MPTCP transfer size */
	uint64_t seed;           /* simulator seed (link loss, jitter, keys, ports) */
	double cap_mbit;         /* capacity available to the connection (reference line) */
	const char *links;       /* link parameters, for the header */
	uint32_t queue[2];       /* droptail queue bytes (0: 1 BDP, at least 64 x 1500 B) */
	uint32_t sndbuf, rcvbuf; /* tcp.sndbuf / tcp.rcvbuf knobs (0: 4 x the largest BDP) */
};

/* Shared-bottleneck parameters (as tests/sim/mptcp_cc_test.c). */
#define BN_RATE     UINT64_C(40000000)
#define BN_DELAY    (5 * MS)
#define ACC_RATE    UINT64_C(1000000000)
#define ACC_DELAY   (2500 * 1000)
#define ACC_JITTER  (3 * MS)
#define BN_QUEUE    ((uint32_t)(BN_RATE / 8 / 50)) /* 1 BDP at 20 ms */
#define SHARED_BUF  (1024u * 1024u)
#define TCP_BYTES   (4096 * MIB) /* the competing flow never finishes */
#define RUN_LIMIT   (600 * SEC)  /* a run not done by then is a stall */
#define SAMPLE_TICK (10 * MS)    /* also the grain of the stall measurement */
#define MIN_WIN     (500 * MS)
#define MAX_SAMPLES ((size_t)(RUN_LIMIT / SAMPLE_TICK) + 2)

static const struct scen scens[N_SCEN] = {
    {.key = "equal",
     .title = "(a) equal paths",
     .kind = TWO_PATHS,
     .rate = {50000000, 50000000},
     .rtt = {20 * MS, 20 * MS},
     .bytes = 64 * MIB,
     .seed = 101,
     .cap_mbit = 100,
     .links = "2 paths, each 50 Mbit/s, 20 ms RTT, droptail queue of 1 BDP (min 64 x 1500 B), "
	      "no loss"},
    {.key = "hetrtt",
     .title = "(b) heterogeneous RTT",
     .kind = TWO_PATHS,
     .rate = {50000000, 50000000},
     .rtt = {10 * MS, 100 * MS},
     .bytes = 64 * MIB,
     .seed = 102,
     .cap_mbit = 100,
     .links = "path 0: 50 Mbit/s, 10 ms RTT; path 1: 50 Mbit/s, 100 ms RTT; droptail queue of "
	      "1 BDP (min 64 x 1500 B) each, no loss"},
    {.key = "lossy",
     .title = "(c) lossy path",
     .kind = TWO_PATHS,
     .rate = {50000000, 50000000},
     .rtt = {20 * MS, 20 * MS},
     .loss = {0, 0.02},
     .bytes = 64 * MIB,
     .seed = 103,
     .cap_mbit = 100,
     .links = "2 paths, each 50 Mbit/s, 20 ms RTT, droptail queue of 1 BDP (min 64 x 1500 B); "
	      "path 1 drops 2 % of packets at random in the data (client -> server) direction"},
    {.key = "shared",
     .title = "(d) shared bottleneck",
     .kind = SHARED,
     .bytes = 64 * MIB,
     .seed = 104,
     .cap_mbit = 40,
     .links = "MPTCP client (2 addresses, so 2 subflows) and a plain TCP client (reno) -> "
	      "router -> one 40 Mbit/s, 5 ms droptail bottleneck (queue 100 kB = 1 BDP at the "
	      "20 ms base RTT) -> router -> 2 servers; access links 1 Gbit/s, 2.5 ms + up to 3 ms "
	      "jitter (FIFO kept); both transfers start at t = 0"},
    /* Where the schedulers' rules decide (tests/sim/mptcp_sched_test.c). */
    {.key = "window",
     .title = "(e) receive window, deep-buffered slow path",
     .kind = TWO_PATHS,
     .rate = {30000000, 10000000},
     .rtt = {10 * MS, 100 * MS},
     .queue = {0, 500000},
     .sndbuf = 4u << 20,
     .rcvbuf = 256u << 10,
     .bytes = 32 * MIB,
     .seed = 106,
     .cap_mbit = 40,
     .links = "path 0: 30 Mbit/s, 10 ms RTT, queue 1 BDP (min 64 x 1500 B); path 1: 10 Mbit/s, "
	      "100 ms RTT, queue 500 kB (400 ms of buffer, 3G-like); the receiver's "
	      "connection-level window is 1 MiB (`tcp.rcvbuf` 256 KiB), the sender's buffers "
	      "large (`tcp.sndbuf` 4 MiB): the receive window limits, and the slow subflow's "
	      "data holds its left edge.  minrtt's opportunistic reinjection and penalisation "
	      "(Raiciu et al., NSDI 2012) are made for this; 32 MiB over the fast path alone "
	      "take 9.5 s (tests/sim/mptcp_sched_test.c)"},
    {.key = "bigslow",
     .title = "(f) receive window, slow path of larger capacity",
     .kind = TWO_PATHS,
     .rate = {20000000, 100000000},
     .rtt = {10 * MS, 200 * MS},
     .sndbuf = 4u << 20,
     .rcvbuf = 256u << 10,
     .bytes = 32 * MIB,
     .seed = 107,
     .cap_mbit = 120,
     .links = "path 0: 20 Mbit/s, 10 ms RTT; path 1: 100 Mbit/s, 200 ms RTT; queues 1 BDP; the "
	      "receiver's connection-level window 1 MiB (`tcp.rcvbuf` 256 KiB), `tcp.sndbuf` "
	      "4 MiB.  The window allows at most 1 MiB per 200 ms (42 Mbit/s) while the slow "
	      "path holds its left edge, twice the fast path alone"},
};

/* One run's measurements. */
struct res {
	bool done;          /* the server read the whole stream within RUN_LIMIT */
	bool intact;        /* done and SHA-256 of both ends equal */
	bool paired;        /* every subflow stayed on its own path (TWO_PATHS) */
	double goodput;     /* Mbit/s, bytes / (t_done - t_connected) */
	double completion;  /* s, t_done - 0 (connect call) */
	double tcp_goodput; /* SHARED: competing flow, Mbit/s over the same interval */
	uint64_t received, reinj, retrans;
	int subflows;     /* most subflows seen at once */
	uint64_t wire[2]; /* client -> network wire bytes on path / access link i */
	int cerr, serr;
	/* client stack counters */
	uint64_t rtos, fastrtx, opp_reinj, penalise, ecf_wait, mib_reinj;
	uint64_t stall_ns; /* longest time without the server reading a byte (SAMPLE_TICK grain) */
	double min_win;    /* lowest goodput over any MIN_WIN window after the first byte, Mbit/s */
	double wall;       /* s (stdout only) */
};

/* Paced application over identical subflows. */
struct pace_res {
	bool ok; /* every byte arrived, intact */
	int nsub;
	double share[8]; /* of the bytes acknowledged, per subflow */
};

#define RR_ROUNDS_MAX 16

/* Request/response on the hetrtt paths. */
struct rr_res {
	bool ok;
	double first_ms, mean_ms; /* first round, mean of rounds 2..N */
	double max_ms;
	double ms[RR_ROUNDS_MAX]; /* every round (stdout) */
	uint64_t ecf_wait;        /* the server's (sender's) MPTCPSchedEcfWait */
};

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "policies_bench: %s\n", what);
	exit(2);
}

static struct mpt_addr A(const char *t) {
	struct mpt_addr a;
	if (mpt_addr_parse(&a, t) < 0)
		die("bad address");
	return a;
}

static void
set_name(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* ---- sampling of the client's MPTCP state while the transfer runs ------- */

struct run {
	struct mpt_sim *sim;
	struct mpt_bulk *b;
	struct mpt_mptcp_info info;
	bool have_info;
	int maxsub;
	bool crossed; /* a subflow between different path indices */
	bool check_pairs;
	uint64_t last_rcvd, last_progress, stall_ns;
	uint64_t
	    *rcvd; /* bytes read by the server at each tick (tick i at (i + 1) * SAMPLE_TICK) */
	size_t n;
};

static void sample(struct run *r)
{
	struct mpt_sock *cs = mpt_bulk_client_sock(r->b);
	if (!cs)
		return;
	if (mpt_sock_mptcp_info(cs, &r->info) == 0)
		r->have_info = true;
	struct mpt_subflow_info sub[16];
	int n = mpt_sock_subflows(cs, sub, 16);
	if (n > r->maxsub)
		r->maxsub = n;
	/* path i: client 10.0.i.1 <-> server 10.0.i.2 */
	for (int i = 0; r->check_pairs && i < n && i < 16; i++)
		if (sub[i].local.addr.bytes[2] != sub[i].remote.addr.bytes[2])
			r->crossed = true;
}

/* Longest interval between two samples at which the server had read more,
 * from the first byte read on. */
static void progress(struct run *r, uint64_t now)
{
	uint64_t rcvd = mpt_bulk_received(r->b);
	if (rcvd > r->last_rcvd) {
		if (r->last_rcvd > 0 && now - r->last_progress > r->stall_ns)
			r->stall_ns = now - r->last_progress;
		r->last_rcvd = rcvd;
		r->last_progress = now;
	}
}

static void tick(struct mpt_sim *sim, void *arg)
{
	struct run *r = arg;
	progress(r, mpt_sim_now(sim));
	if (r->n < MAX_SAMPLES)
		r->rcvd[r->n++] = mpt_bulk_received(r->b);
	sample(r);
	if (!mpt_bulk_done(r->b))
		(void)mpt_sim_at(sim, mpt_sim_now(sim) + SAMPLE_TICK, tick, r);
}

static bool stop_when_done(void *arg)
{
	struct run *r = arg;
	if (!mpt_bulk_done(r->b))
		return false;
	progress(r, mpt_sim_now(r->sim));
	sample(r); /* the client socket still exists: it waits for the server's FIN */
	return true;
}

static void finish(struct run *r, uint64_t bytes, struct res *o)
{
	struct mpt_bulk_result br;
	mpt_bulk_result(r->b, &br);
	o->done = br.done;
	o->intact = br.intact && br.received == bytes;
	o->received = br.received;
	o->cerr = br.client_err;
	o->serr = br.server_err;
	if (br.done && br.t_done > br.t_connected) {
		o->goodput =
		    (double)br.received * 8 / ((double)(br.t_done - br.t_connected) / 1e9) / 1e6;
		o->completion = (double)br.t_done / 1e9;
	}
	o->reinj = r->have_info ? r->info.reinjected_bytes : 0;
	o->retrans = r->have_info ? r->info.mptcpi_bytes_retrans : 0;
	o->subflows = r->maxsub;
	o->paired = !r->crossed;
	o->stall_ns = r->stall_ns;
	/* Lowest goodput over any MIN_WIN window between the first byte read and the
	 * last tick before the end (ticks are SAMPLE_TICK apart). */
	size_t w = (size_t)(MIN_WIN / SAMPLE_TICK), first = 0;
	while (first < r->n && r->rcvd[first] == 0)
		first++;
	o->min_win = -1;
	for (size_t i = first; i + w < r->n; i++) {
		double mbit =
		    (double)(r->rcvd[i + w] - r->rcvd[i]) * 8 / ((double)MIN_WIN / 1e9) / 1e6;
		if (o->min_win < 0 || mbit < o->min_win)
			o->min_win = mbit;
	}
	free(r->rcvd);
	r->rcvd = NULL;
}

static void run_init(struct run *r, struct mpt_sim *sim, bool check_pairs)
{
	memset(r, 0, sizeof(*r));
	r->sim = sim;
	r->check_pairs = check_pairs;
	r->rcvd = calloc(MAX_SAMPLES, sizeof(*r->rcvd));
	if (!r->rcvd)
		die("oom");
}

static uint64_t counter(struct mpt_simhost *h, const char *name)
{
	uint64_t v = 0;
	if (mpt_stack_counter_by_name(mpt_simhost_stack(h), name, &v) < 0)
		die("unknown counter");
	return v;
}

static void client_counters(struct mpt_simhost *h, struct res *o)
{
	o->rtos = counter(h, "TCPTimeouts");
	o->fastrtx = counter(h, "TCPFastRetrans");
	o->opp_reinj = counter(h, "MPTCPSchedOppReinj");
	o->penalise = counter(h, "MPTCPSchedPenalise");
	o->ecf_wait = counter(h, "MPTCPSchedEcfWait");
	o->mib_reinj = counter(h, "MPTCPReinject");
}

static void base_cfg(struct mpt_stack_cfg *c, const char *sched, const char *cc, uint32_t buf)
{
	mpt_stack_cfg_init(c);
	c->tcp.sndbuf = c->tcp.rcvbuf = buf;
	c->mptcp.enable = true;
	c->mptcp.max_subflows = 2; /* one per path: no cross pairs */
	set_name(c->mptcp.sched, sizeof(c->mptcp.sched), sched);
	set_name(c->tcp.cc, sizeof(c->tcp.cc), cc);
}

static double bdp_bytes(uint64_t rate, uint64_t rtt)
{
	return (double)rate / 8 * (double)rtt / 1e9;
}

/* Buffers: 4 x the largest path BDP, at least 256 KiB (tests/sim/mptcp_scn.h). */
static uint32_t two_path_buf(const struct scen *s)
{
	double b = fmax(bdp_bytes(s->rate[0], s->rtt[0]), bdp_bytes(s->rate[1], s->rtt[1]));
	return (uint32_t)fmax(4 * b, 256 * 1024);
}

static void run_two_paths(const struct scen *s, const char *sched, const char *cc, struct res *o)
{
	struct mpt_sim *sim;
	if (mpt_sim_create(NULL, s->seed, &sim) < 0)
		die("sim");
	struct mpt_stack_cfg c, v;
	base_cfg(&c, sched, cc, two_path_buf(s));
	if (s->sndbuf)
		c.tcp.sndbuf = s->sndbuf;
	if (s->rcvbuf)
		c.tcp.rcvbuf = s->rcvbuf;
	v = c;
	c.local[0] = A("10.0.0.1");
	c.local[1] = A("10.0.1.1");
	v.local[0] = A("10.0.0.2");
	v.local[1] = A("10.0.1.2");
	c.n_local = v.n_local = 2;
	struct mpt_simhost *hc, *hs;
	if (mpt_simhost_create(sim, "client", &c, &hc) < 0 ||
	    mpt_simhost_create(sim, "server", &v, &hs) < 0)
		die("simhost");
	struct mpt_sim_link *lf[2];
	for (int i = 0; i < 2; i++) {
		struct mpt_sim_link_cfg fwd;
		memset(&fwd, 0, sizeof(fwd));
		fwd.rate_bps = s->rate[i];
		fwd.delay_ns = s->rtt[i] / 2;
		fwd.queue_bytes = s->queue[i]
				      ? s->queue[i]
				      : (uint32_t)fmax(bdp_bytes(s->rate[i], s->rtt[i]), 64 * 1500);
		struct mpt_sim_link_cfg rev = fwd;
		fwd.loss = s->loss[i];
		if (mpt_sim_connect(sim, mpt_simhost_node(hc), &c.local[i], mpt_simhost_node(hs),
				    &v.local[i], &fwd, &rev, &lf[i], NULL) < 0)
			die("connect");
	}
	struct run r;
	run_init(&r, sim, true);
	struct mpt_bulk_cfg bc = {.bytes = s->bytes, .port = 5001, .seed = s->seed};
	struct mpt_endpoint dst = {.addr = v.local[0], .port = 5001};
	if (mpt_bulk_start(hc, hs, &dst, &bc, &r.b) < 0)
		die("bulk");
	(void)mpt_sim_at(sim, SAMPLE_TICK, tick, &r);
	(void)mpt_sim_run(sim, RUN_LIMIT, stop_when_done, &r);
	finish(&r, s->bytes, o);
	client_counters(hc, o);
	for (int i = 0; i < 2; i++) {
		struct mpt_sim_link_stats ls;
		mpt_sim_link_get_stats(lf[i], &ls);
		o->wire[i] = ls.wire_bytes;
	}
	mpt_bulk_destroy(r.b);
	mpt_simhost_destroy(hc);
	mpt_simhost_destroy(hs);
	mpt_sim_destroy(sim);
}

/* ---- (d) shared bottleneck: a router forwarding by destination --------- */

/* The router of the simulator tests (forwards IPv4 by destination). */
#include "simrouter.h"

static void run_shared(const struct scen *s, const char *sched, const char *cc, struct res *o)
{
	struct mpt_sim *sim;
	if (mpt_sim_create(NULL, s->seed, &sim) < 0)
		die("sim");
	struct router r1 = {.sim = sim}, r2 = {.sim = sim};
	if (mpt_sim_add_node(sim, "r1", &router_ops, &r1, &r1.node) < 0 ||
	    mpt_sim_add_node(sim, "r2", &router_ops, &r2, &r2.node) < 0)
		die("router");
	struct mpt_stack_cfg mc, tc, sa, sb;
	base_cfg(&mc, sched, cc, SHARED_BUF);
	mc.local[0] = A("10.0.0.1");
	mc.local[1] = A("10.0.1.1");
	mc.n_local = 2;
	/* The competing host: plain TCP, reno (RFC 6356 compares with a regular TCP flow). */
	tc = mc;
	tc.local[0] = A("10.0.2.1");
	tc.n_local = 1;
	tc.mptcp.enable = false;
	set_name(tc.tcp.cc, sizeof(tc.tcp.cc), "reno");
	sa = mc;
	sa.local[0] = A("10.9.1.2");
	sa.n_local = 1;
	sb = tc;
	sb.local[0] = A("10.9.2.2");
	struct mpt_simhost *hm, *ht, *hsa, *hsb;
	if (mpt_simhost_create(sim, "mptcp", &mc, &hm) < 0 ||
	    mpt_simhost_create(sim, "tcp", &tc, &ht) < 0 ||
	    mpt_simhost_create(sim, "srvA", &sa, &hsa) < 0 ||
	    mpt_simhost_create(sim, "srvB", &sb, &hsb) < 0)
		die("simhost");
	/* Jitter on the access links (FIFO kept) avoids the phase effects of a
	 * deterministic droptail queue (Floyd & Jacobson 1992). */
	struct mpt_sim_link_cfg acc = {
	    .rate_bps = ACC_RATE, .delay_ns = ACC_DELAY, .jitter_ns = ACC_JITTER};
	struct mpt_sim_link_cfg bn = {
	    .rate_bps = BN_RATE, .delay_ns = BN_DELAY, .queue_bytes = BN_QUEUE};
	struct mpt_sim_link_cfg bnr = {.rate_bps = ACC_RATE, .delay_ns = BN_DELAY};
	struct mpt_addr ra = A("10.0.0.254"), rb = A("10.0.1.254"), rc = A("10.0.2.254");
	struct mpt_addr b1 = A("10.8.0.1"), b2 = A("10.8.0.2");
	struct mpt_addr s1 = A("10.9.1.254"), s2 = A("10.9.2.254");
	struct mpt_sim_link *acc_l[2];
	/* r1: if0 mptcp path 0, if1 mptcp path 1, if2 tcp, if3 bottleneck */
	if (mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[0], r1.node, &ra, &acc, &acc,
			    &acc_l[0], NULL) < 0 ||
	    mpt_sim_connect(sim, mpt_simhost_node(hm), &mc.local[1], r1.node, &rb, &acc, &acc,
			    &acc_l[1], NULL) < 0 ||
	    mpt_sim_connect(sim, mpt_simhost_node(ht), &tc.local[0], r1.node, &rc, &acc, &acc, NULL,
			    NULL) < 0 ||
	    mpt_sim_connect(sim, r1.node, &b1, r2.node, &b2, &bn, &bnr, NULL, NULL) < 0 ||
	    /* r2: if0 bottleneck, if1 server A, if2 server B */
	    mpt_sim_connect(sim, r2.node, &s1, mpt_simhost_node(hsa), &sa.local[0], &acc, &acc,
			    NULL, NULL) < 0 ||
	    mpt_sim_connect(sim, r2.node, &s2, mpt_simhost_node(hsb), &sb.local[0], &acc, &acc,
			    NULL, NULL) < 0)
		die("connect");
	r1.r[0] = (struct route){mc.local[0], 0};
	r1.r[1] = (struct route){mc.local[1], 1};
	r1.r[2] = (struct route){tc.local[0], 2};
	r1.n = 3;
	r1.dflt = 3;
	r2.r[0] = (struct route){sa.local[0], 1};
	r2.r[1] = (struct route){sb.local[0], 2};
	r2.n = 2;
	r2.dflt = 0;

	struct run r;
	run_init(&r, sim, false);
	struct mpt_bulk *bt;
	struct mpt_bulk_cfg bc = {.bytes = s->bytes, .port = 5001, .seed = s->seed};
	struct mpt_endpoint da = {.addr = sa.local[0], .port = 5001};
	struct mpt_bulk_cfg btc = {.bytes = TCP_BYTES, .port = 5002, .seed = s->seed + 1};
	struct mpt_endpoint db = {.addr = sb.local[0], .port = 5002};
	if (mpt_bulk_start(hm, hsa, &da, &bc, &r.b) < 0 ||
	    mpt_bulk_start(ht, hsb, &db, &btc, &bt) < 0)
		die("bulk");
	(void)mpt_sim_at(sim, SAMPLE_TICK, tick, &r);
	(void)mpt_sim_run(sim, RUN_LIMIT, stop_when_done, &r);
	finish(&r, s->bytes, o);
	client_counters(hm, o);
	/* The TCP flow over the same interval: from its own handshake to the
	 * end of the MPTCP transfer (both start at t = 0). */
	struct mpt_bulk_result tr;
	mpt_bulk_result(bt, &tr);
	uint64_t now = mpt_sim_now(sim);
	if (o->done && tr.t_connected && now > tr.t_connected)
		o->tcp_goodput = (double)mpt_bulk_received(bt) * 8 /
				 ((double)(now - tr.t_connected) / 1e9) / 1e6;
	for (int i = 0; i < 2; i++) {
		struct mpt_sim_link_stats ls;
		mpt_sim_link_get_stats(acc_l[i], &ls);
		o->wire[i] = ls.wire_bytes;
	}
	mpt_bulk_destroy(r.b);
	mpt_bulk_destroy(bt);
	mpt_simhost_destroy(hm);
	mpt_simhost_destroy(ht);
	mpt_simhost_destroy(hsa);
	mpt_simhost_destroy(hsb);
	mpt_sim_destroy(sim);
}

/* ---- request/response --------------------------------------------------- *
 * The client sends a 100-byte request, the server answers q->bytes;
 * RR_ROUNDS rounds back to back, starting at RR_START on an idle,
 * established connection with both subflows up.  Time from request to the
 * last byte. */

#define RR_ROUNDS 10
#define RR_START  (2 * SEC)
#define N_RRSCEN  2

struct rrscen {
	const char *title;
	const char *links; /* for the header */
	uint64_t rate[2], rtt[2];
	uint32_t bytes; /* response size */
	uint32_t buf;   /* tcp.sndbuf = tcp.rcvbuf (0: 4 x the largest BDP, at least 256 KiB) */
	uint64_t seed;
};

static const struct rrscen rrscens[N_RRSCEN] = {
    {.title = "(b') request/response on the heterogeneous-RTT paths",
     .links = "Same links as (b) (10 ms and 100 ms RTT, 50 Mbit/s each).  The fast path's RTT "
	      "alone is 10 ms; the slow path's 100 ms",
     .rate = {50000000, 50000000},
     .rtt = {10 * MS, 100 * MS},
     .bytes = 64u * 1024u,
     .seed = 105},
    {.title = "(g) 1 MiB responses, slow path of larger capacity",
     .links = "path 0: 20 Mbit/s, 10 ms RTT; path 1: 100 Mbit/s, 100 ms RTT; queues 1 BDP; "
	      "`tcp.sndbuf` = `tcp.rcvbuf` = 1 MiB.  Most of each response belongs on the slow "
	      "path, its tail on the fast one: ecf waits for the fast subflow only where it "
	      "would finish first (tests/sim/mptcp_sched_test.c, test_ecf_wait)",
     .rate = {20000000, 100000000},
     .rtt = {10 * MS, 100 * MS},
     .bytes = 1024u * 1024u,
     .buf = 1024u * 1024u,
     .seed = 108},
};

struct rr_app {
	struct mpt_simhost *c, *s;
	struct mpt_sock *lis, *cs, *ss;
	int round;
	uint64_t t_req[RR_ROUNDS], t_rsp[RR_ROUNDS];
	uint64_t got, sent, bytes;
	bool req_pending;
	uint8_t buf[65536];
};

static void rr_pump_server(struct rr_app *a, uint64_t now)
{
	if (!a->ss)
		return;
	for (;;) {
		long n = mpt_recv(a->ss, a->buf, sizeof(a->buf), now);
		if (n <= 0)
			break;
		a->req_pending = true;
		a->sent = 0;
	}
	while (a->req_pending && a->sent < a->bytes) {
		uint64_t left = a->bytes - a->sent;
		long n =
		    mpt_send(a->ss, a->buf, left < sizeof(a->buf) ? left : sizeof(a->buf), now);
		if (n <= 0)
			break;
		a->sent += (uint64_t)n;
	}
	if (a->sent >= a->bytes)
		a->req_pending = false;
}

static void rr_request(struct rr_app *a, uint64_t now)
{
	static const uint8_t req[100];
	a->t_req[a->round] = now;
	a->got = 0;
	if (mpt_send(a->cs, req, sizeof(req), now) != (long)sizeof(req))
		die("request");
}

static void rr_pump_client(struct rr_app *a, uint64_t now)
{
	if (!a->cs)
		return;
	for (;;) {
		long n = mpt_recv(a->cs, a->buf, sizeof(a->buf), now);
		if (n <= 0)
			break;
		a->got += (uint64_t)n;
		if (a->got == a->bytes && a->round < RR_ROUNDS) {
			a->t_rsp[a->round] = now;
			a->round++;
			if (a->round < RR_ROUNDS)
				rr_request(a, now);
		}
	}
}

static void rr_srv_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct rr_app *a = ud;
	(void)ev;
	if (s == a->lis) {
		struct mpt_sock *n;
		while ((n = mpt_accept(a->lis)) != NULL)
			a->ss = n;
	}
	rr_pump_server(a, mpt_sim_now(mpt_simhost_sim(a->s)));
}

static void rr_cli_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct rr_app *a = ud;
	(void)s;
	(void)ev;
	rr_pump_client(a, mpt_sim_now(mpt_simhost_sim(a->c)));
}

static void rr_go(struct mpt_sim *sim, void *arg)
{
	rr_request(arg, mpt_sim_now(sim));
}

static bool rr_stop(void *arg)
{
	return ((struct rr_app *)arg)->round >= RR_ROUNDS;
}

static void run_reqresp(const struct rrscen *q, const char *sched, const char *cc, bool one_path,
			struct rr_res *o)
{
	memset(o, 0, sizeof(*o));
	struct mpt_sim *sim;
	if (mpt_sim_create(NULL, q->seed, &sim) < 0)
		die("sim");
	struct mpt_stack_cfg c, v;
	double bdp = fmax(bdp_bytes(q->rate[0], q->rtt[0]), bdp_bytes(q->rate[1], q->rtt[1]));
	base_cfg(&c, sched, cc, q->buf ? q->buf : (uint32_t)fmax(4 * bdp, 256 * 1024));
	c.mptcp.no_pm = one_path; /* reference: the fast path alone */
	v = c;
	c.local[0] = A("10.0.0.1");
	c.local[1] = A("10.0.1.1");
	v.local[0] = A("10.0.0.2");
	v.local[1] = A("10.0.1.2");
	c.n_local = v.n_local = 2;
	struct rr_app *a = calloc(1, sizeof(*a));
	if (!a)
		die("oom");
	a->bytes = q->bytes;
	if (mpt_simhost_create(sim, "client", &c, &a->c) < 0 ||
	    mpt_simhost_create(sim, "server", &v, &a->s) < 0)
		die("simhost");
	for (int i = 0; i < 2; i++) {
		struct mpt_sim_link_cfg l;
		memset(&l, 0, sizeof(l));
		l.rate_bps = q->rate[i];
		l.delay_ns = q->rtt[i] / 2;
		l.queue_bytes = (uint32_t)fmax(bdp_bytes(q->rate[i], q->rtt[i]), 64 * 1500);
		if (mpt_sim_connect(sim, mpt_simhost_node(a->c), &c.local[i],
				    mpt_simhost_node(a->s), &v.local[i], &l, &l, NULL, NULL) < 0)
			die("connect");
	}
	mpt_simhost_set_app(a->s, rr_srv_ev, a);
	mpt_simhost_set_app(a->c, rr_cli_ev, a);
	struct mpt_endpoint lep = {.addr = v.local[0], .port = 5001};
	if (mpt_listen(mpt_simhost_stack(a->s), &lep, 16, &a->lis) < 0 ||
	    mpt_connect(mpt_simhost_stack(a->c), &lep, &c.local[0], 0, &a->cs) < 0)
		die("connect");
	mpt_sim_node_kick(sim, mpt_simhost_node(a->c));
	(void)mpt_sim_at(sim, RR_START, rr_go, a);
	(void)mpt_sim_run(sim, RR_START + 60 * SEC, rr_stop, a);
	if (a->round >= RR_ROUNDS) {
		o->ok = true;
		double sum = 0;
		for (int i = 0; i < RR_ROUNDS; i++) {
			double ms = (double)(a->t_rsp[i] - a->t_req[i]) / 1e6;
			o->ms[i] = ms;
			if (i == 0)
				o->first_ms = ms;
			else
				sum += ms;
			o->max_ms = fmax(o->max_ms, ms);
		}
		o->mean_ms = sum / (RR_ROUNDS - 1);
	}
	o->ecf_wait = counter(a->s, "MPTCPSchedEcfWait");
	mpt_simhost_destroy(a->c);
	mpt_simhost_destroy(a->s);
	mpt_sim_destroy(sim);
	free(a);
}

/* ---- paced application over identical subflows -------------------------- *
 * ndiffports 3 over one path; the client writes PACE_CHUNK every PACE_EVERY
 * (less than any one subflow's window), the server reads and checks a
 * pattern.  Share of the bytes each subflow acknowledged. */

#define PACE_CHUNK (8u * 1024u)
#define PACE_EVERY (2 * MS)
#define PACE_N     1500u
#define PACE_START (1 * SEC)
#define PACE_SEED  109

struct pace_app {
	struct mpt_simhost *c, *s;
	struct mpt_sock *lis, *cs, *ss;
	uint64_t sent, rcvd, bad;
	unsigned writes;
	bool done, write_err;
	struct mpt_subflow_info sub[8];
	int nsub;
	uint8_t buf[65536];
};

static uint8_t pace_pattern(uint64_t off)
{
	return (uint8_t)(off * 131u + (off >> 13));
}

static void pace_srv_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct pace_app *a = ud;
	(void)ev;
	uint64_t now = mpt_sim_now(mpt_simhost_sim(a->s));
	if (s == a->lis) {
		struct mpt_sock *n;
		while ((n = mpt_accept(a->lis)) != NULL)
			a->ss = n;
	}
	while (a->ss) {
		long n = mpt_recv(a->ss, a->buf, sizeof(a->buf), now);
		if (n <= 0)
			break;
		for (long i = 0; i < n; i++)
			a->bad += a->buf[i] != pace_pattern(a->rcvd + (uint64_t)i);
		a->rcvd += (uint64_t)n;
	}
	if (a->rcvd == (uint64_t)PACE_N * PACE_CHUNK && !a->done) {
		a->done = true;
		a->nsub = mpt_sock_subflows(a->cs, a->sub, 8);
	}
}

static void pace_cli_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	(void)ud;
	(void)s;
	(void)ev;
}

static void pace_write(struct mpt_sim *sim, void *arg)
{
	struct pace_app *a = arg;
	uint64_t now = mpt_sim_now(sim);
	uint8_t chunk[PACE_CHUNK];
	for (unsigned i = 0; i < PACE_CHUNK; i++)
		chunk[i] = pace_pattern(a->sent + i);
	if (mpt_send(a->cs, chunk, PACE_CHUNK, now) != (long)PACE_CHUNK) {
		a->write_err = true;
		return;
	}
	a->sent += PACE_CHUNK;
	if (++a->writes < PACE_N)
		(void)mpt_sim_at(sim, now + PACE_EVERY, pace_write, a);
}

static bool pace_stop(void *arg)
{
	return ((struct pace_app *)arg)->done;
}

static void run_paced(const char *sched, const char *cc, struct pace_res *o)
{
	memset(o, 0, sizeof(*o));
	struct mpt_sim *sim;
	if (mpt_sim_create(NULL, PACE_SEED, &sim) < 0)
		die("sim");
	struct mpt_stack_cfg c, v;
	base_cfg(&c, sched, cc, 1024 * 1024);
	c.local[0] = A("10.0.0.1");
	c.n_local = 1;
	v = c;
	v.local[0] = A("10.0.0.2");
	set_name(c.mptcp.pm, sizeof(c.mptcp.pm), "ndiffports");
	c.mptcp.ndiffports = 3;
	c.mptcp.max_subflows = 8;
	struct pace_app *a = calloc(1, sizeof(*a));
	if (!a)
		die("oom");
	if (mpt_simhost_create(sim, "client", &c, &a->c) < 0 ||
	    mpt_simhost_create(sim, "server", &v, &a->s) < 0)
		die("simhost");
	struct mpt_sim_link_cfg l = {
	    .rate_bps = 100000000, .delay_ns = 10 * MS, .queue_bytes = 250000};
	if (mpt_sim_connect(sim, mpt_simhost_node(a->c), &c.local[0], mpt_simhost_node(a->s),
			    &v.local[0], &l, &l, NULL, NULL) < 0)
		die("connect");
	mpt_simhost_set_app(a->c, pace_cli_ev, a);
	mpt_simhost_set_app(a->s, pace_srv_ev, a);
	struct mpt_endpoint lep = {.addr = v.local[0], .port = 5001};
	if (mpt_listen(mpt_simhost_stack(a->s), &lep, 16, &a->lis) < 0 ||
	    mpt_connect(mpt_simhost_stack(a->c), &lep, &c.local[0], 0, &a->cs) < 0)
		die("connect");
	mpt_sim_node_kick(sim, mpt_simhost_node(a->c));
	(void)mpt_sim_at(sim, PACE_START, pace_write, a);
	(void)mpt_sim_run(sim, PACE_START + 60 * SEC, pace_stop, a);
	o->ok = a->done && !a->bad && !a->write_err;
	uint64_t total = 0;
	for (int i = 0; i < a->nsub && i < 8; i++)
		total += a->sub[i].bytes_acked;
	o->nsub = a->nsub < 8 ? a->nsub : 8;
	for (int i = 0; i < o->nsub; i++)
		o->share[i] = total ? (double)a->sub[i].bytes_acked / (double)total : 0;
	mpt_simhost_destroy(a->c);
	mpt_simhost_destroy(a->s);
	mpt_sim_destroy(sim);
	free(a);
}

/* ---- output: Markdown ---------------------------------------------------- */

static bool failed(const struct res *r)
{
	return !r->done || !r->intact;
}

static const char *fail_reason(const struct res *r)
{
	if (!r->done)
		return "did not finish";
	return "NOT INTACT";
}

static double mib(uint64_t b)
{
	return (double)b / (double)MIB;
}

struct bench {
	const char *sched[MAX_SCHED];
	size_t nsched;
	struct res r[N_SCEN][MAX_SCHED][N_CC];
	struct rr_res rr[N_RRSCEN][MAX_SCHED + 1][N_CC]; /* last row: fast path alone */
	struct pace_res pace[MAX_SCHED][N_CC];
	int argc;
	char **argv;
};

static void md_cell(FILE *f, const struct scen *s, const struct res *r)
{
	if (failed(r)) {
		fprintf(f, " **FAILED (%s)** |", fail_reason(r));
		return;
	}
	if (s->kind == SHARED)
		fprintf(f, " %.1f / %.1f · %.2f |", r->goodput, r->tcp_goodput, r->completion);
	else
		fprintf(f, " %.1f / %.2f |", r->goodput, r->completion);
}

static void md_scenario(FILE *f, const struct bench *b, int si, const char *svgrel)
{
	const struct scen *s = &scens[si];
	fprintf(f, "## %s\n\n%s.  Transfer: %llu MiB, simulator seed %llu.\n\n", s->title, s->links,
		(unsigned long long)(s->bytes / MIB), (unsigned long long)s->seed);
	if (s->kind == SHARED)
		fprintf(f, "Cells: MPTCP goodput / competing TCP flow's goodput (Mbit/s) · MPTCP "
			   "completion time (s).\n\n");
	else
		fprintf(f, "Cells: goodput (Mbit/s) / completion time (s).\n\n");
	fprintf(f, "| scheduler \\ CC |");
	for (int k = 0; k < N_CC; k++)
		fprintf(f, " %s |", cc_names[k]);
	fprintf(f, "\n|---|");
	for (int k = 0; k < N_CC; k++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (size_t i = 0; i < b->nsched; i++) {
		fprintf(f, "| %s |", b->sched[i]);
		for (int k = 0; k < N_CC; k++)
			md_cell(f, s, &b->r[si][i][k]);
		fprintf(f, "\n");
	}
	if (s->kind == SHARED) {
		fprintf(
		    f,
		    "\nMPTCP goodput / TCP goodput.  RFC 6356 §2 goal 2 (\"do no harm\"): "
		    "with a coupled CC the connection should take no more than a single TCP "
		    "flow would, i.e. about 1 or less.  Here over the whole transfer of one run, "
		    "start-up included; the steady state over 16 seeds, with references, is in "
		    "[cc.md](cc.md) (bash bench/cc.sh).\n\n| scheduler \\ CC |");
		for (int k = 0; k < N_CC; k++)
			fprintf(f, " %s |", cc_names[k]);
		fprintf(f, "\n|---|");
		for (int k = 0; k < N_CC; k++)
			fprintf(f, "---|");
		fprintf(f, "\n");
		for (size_t i = 0; i < b->nsched; i++) {
			fprintf(f, "| %s |", b->sched[i]);
			for (int k = 0; k < N_CC; k++) {
				const struct res *r = &b->r[si][i][k];
				if (failed(r) || r->tcp_goodput <= 0)
					fprintf(f, " **FAILED** |");
				else
					fprintf(f, " %.2f |", r->goodput / r->tcp_goodput);
			}
			fprintf(f, "\n");
		}
	}
	fprintf(f, "\n![%s: goodput per scheduler and CC](%s/%s.svg)\n\n", s->title, svgrel,
		s->key);
	fprintf(f, "<details><summary>Per run</summary>\n\n");
	fprintf(f,
		"| scheduler | CC | goodput Mbit/s | completion s | intact | subflows | "
		"reinjected MiB | retransmitted MiB | RTOs | longest stall ms | lowest 0.5 s "
		"goodput Mbit/s | "
		"path 0 wire MiB | path 1 wire MiB | opp. reinjections / penalisations / ECF "
		"waits |%s\n",
		s->kind == SHARED ? " TCP goodput Mbit/s | MPTCP / TCP |" : "");
	fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|%s\n",
		s->kind == SHARED ? "---|---|" : "");
	for (size_t i = 0; i < b->nsched; i++)
		for (int k = 0; k < N_CC; k++) {
			const struct res *r = &b->r[si][i][k];
			fprintf(f,
				"| %s | %s | %.2f | %.3f | %s | %d%s | %.2f | %.2f | %llu | %.0f | "
				"%.1f | "
				"%.2f | %.2f | %llu / %llu / %llu |",
				b->sched[i], cc_names[k], r->goodput, r->completion,
				r->intact ? "yes" : (r->done ? "**NO**" : "**NO (unfinished)**"),
				r->subflows, r->paired ? "" : " (crossed)", mib(r->reinj),
				mib(r->retrans), (unsigned long long)r->rtos,
				(double)r->stall_ns / 1e6, r->min_win, mib(r->wire[0]),
				mib(r->wire[1]), (unsigned long long)r->opp_reinj,
				(unsigned long long)r->penalise, (unsigned long long)r->ecf_wait);
			if (s->kind == SHARED)
				fprintf(f, " %.2f | %.2f |", r->tcp_goodput,
					r->tcp_goodput > 0 ? r->goodput / r->tcp_goodput : 0.0);
			fprintf(f, "\n");
		}
	fprintf(f, "\n</details>\n\n");
}

/* Range over the CCs of one scheduler's value; false when every run failed. */
static bool cc_range(const struct bench *b, int si, size_t i, double (*val)(const struct res *),
		     double *lo, double *hi)
{
	bool any = false;
	for (int k = 0; k < N_CC; k++) {
		const struct res *r = &b->r[si][i][k];
		if (failed(r))
			continue;
		double v = val(r);
		if (!any || v < *lo)
			*lo = v;
		if (!any || v > *hi)
			*hi = v;
		any = true;
	}
	return any;
}

static double v_goodput(const struct res *r)
{
	return r->goodput;
}

static double v_stall(const struct res *r)
{
	return (double)r->stall_ns / 1e6;
}

static double v_min_win(const struct res *r)
{
	return r->min_win;
}

static double v_ratio(const struct res *r)
{
	return r->tcp_goodput > 0 ? r->goodput / r->tcp_goodput : 0;
}

static void obs_ranges(FILE *f, const struct bench *b, int si, const char *what,
		       double (*val)(const struct res *), int prec, const char *unit)
{
	fprintf(f, "  - %s, range over the CCs:", what);
	for (size_t i = 0; i < b->nsched; i++) {
		double lo = 0, hi = 0;
		if (!cc_range(b, si, i, val, &lo, &hi))
			continue;
		fprintf(f, "%s %s ", i ? "," : "", b->sched[i]);
		char a[32], z[32];
		snprintf(a, sizeof(a), "%.*f", prec, lo);
		snprintf(z, sizeof(z), "%.*f", prec, hi);
		fprintf(f, "%s", a);
		if (strcmp(a, z) != 0)
			fprintf(f, "–%s", z);
	}
	fprintf(f, "%s.\n", unit);
}

/* Facts computed from the tables (no interpretation). */
static void md_observations(FILE *f, const struct bench *b)
{
	fprintf(f, "## Observations\n\nComputed by the benchmark from the numbers above.\n\n");
	int nfail = 0;
	for (int si = 0; si < N_SCEN; si++)
		for (size_t i = 0; i < b->nsched; i++)
			for (int k = 0; k < N_CC; k++)
				if (failed(&b->r[si][i][k])) {
					nfail++;
					fprintf(f,
						"- **FAILED**: %s, %s / %s: %s (%.1f of %llu MiB "
						"read).\n",
						scens[si].title, b->sched[i], cc_names[k],
						fail_reason(&b->r[si][i][k]),
						mib(b->r[si][i][k].received),
						(unsigned long long)(scens[si].bytes / MIB));
				}
	if (!nfail)
		fprintf(f,
			"- Every run delivered its bytes intact (SHA-256 equal at both ends).\n");
	for (int si = 0; si < N_SCEN; si++) {
		const struct scen *s = &scens[si];
		double best = -1, worst = 0;
		size_t bi = 0, wi = 0;
		int bk = 0, wk = 0;
		for (size_t i = 0; i < b->nsched; i++)
			for (int k = 0; k < N_CC; k++) {
				const struct res *r = &b->r[si][i][k];
				if (failed(r))
					continue;
				if (best < 0 || r->goodput < worst) {
					worst = r->goodput;
					wi = i;
					wk = k;
				}
				if (best < 0 || r->goodput > best) {
					best = r->goodput;
					bi = i;
					bk = k;
				}
			}
		if (best < 0)
			continue;
		fprintf(f, "- %s:\n", s->title);
		fprintf(f,
			"  - highest goodput %.1f Mbit/s (%s / %s, %.0f %% of the %.0f Mbit/s "
			"available), lowest %.1f Mbit/s (%s / %s).\n",
			best, b->sched[bi], cc_names[bk], 100 * best / s->cap_mbit, s->cap_mbit,
			worst, b->sched[wi], cc_names[wk]);
		obs_ranges(f, b, si, "goodput", v_goodput, 1, " Mbit/s");
		/* Schedulers whose runs were identical under every CC. */
		for (size_t i = 0; i < b->nsched; i++)
			for (size_t j = i + 1; j < b->nsched; j++) {
				int same = 0;
				for (int k = 0; k < N_CC; k++) {
					const struct res *x = &b->r[si][i][k], *y = &b->r[si][j][k];
					if (!failed(x) && !failed(y) &&
					    x->completion == y->completion &&
					    x->goodput == y->goodput)
						same++;
				}
				if (same == N_CC)
					fprintf(
					    f,
					    "  - `%s` and `%s`: the same completion time, to the "
					    "nanosecond, under every CC.\n",
					    b->sched[i], b->sched[j]);
			}
		obs_ranges(f, b, si, "longest stall of the receiving application (no byte read)",
			   v_stall, 0, " ms");
		obs_ranges(f, b, si, "lowest goodput over a 0.5 s window", v_min_win, 1, " Mbit/s");
		if (s->kind == SHARED)
			obs_ranges(f, b, si, "MPTCP / TCP goodput", v_ratio, 2, "");
	}
	fprintf(f, "\n");
}

static void md_reqresp(FILE *f, const struct bench *b, int qi)
{
	const struct rrscen *q = &rrscens[qi];
	fprintf(f,
		"## %s\n\n%s.  Simulator seed %llu.  The connection is opened at t = 0 and idles "
		"until t = %llu s (both subflows up); then the client sends a 100-byte request and "
		"the server answers %u KiB, %d rounds back to back.  Cells: mean response time of "
		"rounds 2–%d / first round (ms), from the request to the response's last byte; "
		"then, after ·, how often the server's ecf scheduler chose to wait for the fast "
		"subflow (MPTCPSchedEcfWait; 0 for the others).\n\n",
		q->title, q->links, (unsigned long long)q->seed,
		(unsigned long long)(RR_START / SEC), q->bytes / 1024, RR_ROUNDS, RR_ROUNDS);
	fprintf(f, "| scheduler \\ CC |");
	for (int k = 0; k < N_CC; k++)
		fprintf(f, " %s |", cc_names[k]);
	fprintf(f, "\n|---|");
	for (int k = 0; k < N_CC; k++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (size_t i = 0; i <= b->nsched; i++) {
		if (i == b->nsched)
			fprintf(f, "| (reference: fast path alone, 1 subflow) |");
		else
			fprintf(f, "| %s |", b->sched[i]);
		for (int k = 0; k < N_CC; k++) {
			const struct rr_res *r = &b->rr[qi][i][k];
			if (!r->ok)
				fprintf(f, " **FAILED (did not finish)** |");
			else
				fprintf(f, " %.1f / %.1f · %llu |", r->mean_ms, r->first_ms,
					(unsigned long long)r->ecf_wait);
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\n");
}

static void md_paced(FILE *f, const struct bench *b)
{
	fprintf(f,
		"## (h) paced application over identical subflows\n\n"
		"One path, 100 Mbit/s, 20 ms RTT, queue 250 kB; path manager `ndiffports` with 3 "
		"subflows (the same path: only the scheduler tells them apart).  From t = %llu s "
		"the client writes %u KiB every %llu ms (%.0f Mbit/s), %u times; each write fits "
		"in any subflow's window.  Simulator seed %d.  Cells: share of the bytes each "
		"subflow carried (acknowledged), in subflow order.\n\n",
		(unsigned long long)(PACE_START / SEC), PACE_CHUNK / 1024,
		(unsigned long long)(PACE_EVERY / MS),
		(double)PACE_CHUNK * 8 / ((double)PACE_EVERY / 1e9) / 1e6, PACE_N, PACE_SEED);
	fprintf(f, "| scheduler \\ CC |");
	for (int k = 0; k < N_CC; k++)
		fprintf(f, " %s |", cc_names[k]);
	fprintf(f, "\n|---|");
	for (int k = 0; k < N_CC; k++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (size_t i = 0; i < b->nsched; i++) {
		fprintf(f, "| %s |", b->sched[i]);
		for (int k = 0; k < N_CC; k++) {
			const struct pace_res *r = &b->pace[i][k];
			if (!r->ok) {
				fprintf(f, " **FAILED** |");
				continue;
			}
			for (int j = 0; j < r->nsub; j++)
				fprintf(f, "%s%.2f", j ? " / " : " ", r->share[j]);
			fprintf(f, " |");
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\n(For `redundant` the shares are of all the copies: each subflow sends from "
		   "its own cursor and skips what another one already got DATA_ACKed.)\n\n");
}

static void write_md(const char *path, const char *svgrel, const struct bench *b)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write the Markdown file");
	fprintf(f, "# Policies: scheduler × congestion control × scenario\n\n");
	fprintf(f, "Generated by `bash bench/policies.sh`, which builds `policies_bench` "
		   "(bench/policies_bench.c, RelWithDebInfo) and runs `");
	for (int i = 0; i < b->argc; i++)
		fprintf(f, "%s%s", i ? " " : "", b->argv[i]);
	fprintf(f, "`; every number below is from that one run (deterministic: fixed seeds, "
		   "virtual time, so a rerun of the same code gives the same file).");
	const char *src = getenv("MPT_BENCH_SOURCE");
	if (src && *src)
		fprintf(f, "  Source: %s.", src);
	fprintf(f, "\n\n");
	fprintf(f, "What was run: every built-in scheduler (");
	for (size_t i = 0; i < b->nsched; i++)
		fprintf(f, "%s`%s`", i ? ", " : "", b->sched[i]);
	fprintf(f, ") × every congestion control (");
	for (int k = 0; k < N_CC; k++)
		fprintf(f, "%s`%s`", k ? ", " : "", cc_names[k]);
	fprintf(f,
		"; `lia`, `olia`, `balia` couple the subflows of one connection, `reno` and "
		"`cubic` run per subflow) × %d bulk-transfer scenarios, %zu runs, then "
		"request/response (b'), (g) and a paced application (h).  Each bulk run is one "
		"transfer client → server of a fixed size in the simulator, checked with "
		"SHA-256 at the receiver; a run that is not intact or does not finish within "
		"%llu s of simulated time is marked **FAILED**.  Both ends run MPTCP v1 with the "
		"scheduler and CC named (the client, which sends the data, is the one whose "
		"choices matter), path manager `fullmesh` with `max_subflows` 2 (one subflow "
		"per path), MSS 1460, SACK and timestamps on, `tcp.sndbuf` = `tcp.rcvbuf` = "
		"4 × the largest path BDP (at least 256 KiB; 1 MiB in (d); (e), (f): as stated "
		"there); the MPTCP data level sizes its own send and receive buffers at 4 × "
		"these knobs (at least 1 MiB).  In a bulk transfer limited by the subflows' "
		"congestion windows every scheduler hands each subflow the chunk its ACKs made "
		"room for, so `minrtt`, `rr` and `ecf` can give the same rows there ((a), (c), "
		"(d)); (e)–(h) are the cases where their rules decide.\n\n",
		N_SCEN, b->nsched * N_CC * N_SCEN, (unsigned long long)(RUN_LIMIT / SEC));
	fprintf(f, "Goodput = bytes / (time the server read the last byte − time the client's "
		   "handshake completed), in Mbit/s (10^6 bit/s).  Completion time = time the "
		   "server read the last byte, counted from the connect call at t = 0 (so it "
		   "includes the handshake).  In (d) the competing TCP flow's goodput = bytes it "
		   "delivered / (end of the MPTCP transfer − its own handshake completion).  "
		   "Reinjected = bytes the client re-sent on another subflow; retransmitted = "
		   "subflow-level retransmissions (sum).  Path wire bytes = bytes put on the "
		   "client's outgoing link of that path (all headers, retransmissions and, for "
		   "`redundant`, copies included).\n\n");
	for (int si = 0; si < N_SCEN; si++)
		md_scenario(f, b, si, svgrel);
	for (int qi = 0; qi < N_RRSCEN; qi++)
		md_reqresp(f, b, qi);
	md_paced(f, b);
	md_observations(f, b);
	if (fclose(f) != 0)
		die("write error");
}

/* ---- output: SVG (grouped bars) ---------------------------------------- */

/* Tick step: 1, 2, 2.5 or 5 x 10^k, at most 6 steps up to max. */
static double nice_step(double max)
{
	double raw = max / 6;
	double p = pow(10, floor(log10(raw)));
	static const double m[] = {1, 2, 2.5, 5, 10};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i] * p >= raw)
			return m[i] * p;
	return 10 * p;
}

static void write_svg(const char *dir, const struct bench *b, int si)
{
	const struct scen *s = &scens[si];
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.svg", dir, s->key);
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write an SVG file");
	const double W = 800, H = 420, L = 70, R = 170, T = 50, B = 60;
	const double pw = W - L - R, ph = H - T - B;
	double ymax = s->cap_mbit;
	for (size_t i = 0; i < b->nsched; i++)
		for (int k = 0; k < N_CC; k++) {
			ymax = fmax(ymax, b->r[si][i][k].goodput);
			ymax = fmax(ymax, b->r[si][i][k].tcp_goodput);
		}
	double step = nice_step(ymax * 1.05);
	double top = ceil(ymax * 1.05 / step) * step;
#define Y(v) (T + ph - (v) / top * ph)
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
		W, H, W, H);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, H);
	fprintf(f,
		"<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" "
		"font-weight=\"bold\">%s: goodput per scheduler and CC (%llu MiB)</text>\n",
		L + pw / 2, s->title, (unsigned long long)(s->bytes / MIB));
	/* grid, ticks, tick labels */
	for (double v = 0; v <= top + step / 1000; v += step) {
		double y = Y(v);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
			L, y, L + pw, y, v == 0 ? "black" : "#dddddd");
		fprintf(
		    f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
		    L - 5, y, L, y);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L - 8,
			y + 4, v);
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L,
		(double)T, L, T + ph);
	fprintf(f,
		"<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\">"
		"goodput (Mbit/s)</text>\n",
		L - 48, T + ph / 2);
	/* capacity reference */
	double yc = Y(s->cap_mbit);
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555555\" "
		"stroke-dasharray=\"6,4\"/>\n",
		L, yc, L + pw, yc);
	fprintf(f,
		"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555555\" "
		"font-size=\"11\">%s %.0f Mbit/s</text>\n",
		L + pw - 4, yc - 4, s->kind == SHARED ? "bottleneck" : "sum of the paths",
		s->cap_mbit);
	/* bars */
	double gw = pw / (double)b->nsched;
	double bw = gw * 0.8 / N_CC;
	for (size_t i = 0; i < b->nsched; i++) {
		double gx = L + gw * (double)i + gw * 0.1;
		for (int k = 0; k < N_CC; k++) {
			const struct res *r = &b->r[si][i][k];
			double x = gx + bw * k;
			if (failed(r)) {
				fprintf(f,
					"<text transform=\"translate(%.1f,%.1f) rotate(-90)\" "
					"fill=\"#cc0000\" font-weight=\"bold\" font-size=\"11\">"
					"FAILED</text>\n",
					x + bw / 2 + 4, T + ph - 4);
				continue;
			}
			double y = Y(r->goodput);
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"><title>%s / %s: %.1f Mbit/s, %.2f s",
				x + 0.5, y, bw - 1, T + ph - y, cc_colour[k], b->sched[i],
				cc_names[k], r->goodput, r->completion);
			if (s->kind == SHARED)
				fprintf(f, "; TCP flow %.1f Mbit/s", r->tcp_goodput);
			fprintf(f, "</title></rect>\n");
			if (s->kind == SHARED) {
				double yt = Y(r->tcp_goodput);
				fprintf(f,
					"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
					"stroke=\"black\" stroke-width=\"3\"/>\n",
					x + 0.5, yt, x + bw - 0.5, yt);
			}
		}
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">%s"
			"</text>\n",
			L + gw * ((double)i + 0.5), T + ph + 20, b->sched[i]);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">scheduler</text>\n",
		L + pw / 2, T + ph + 45);
	/* legend */
	double lx = L + pw + 20, ly = T + 10;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">congestion control</text>\n",
		lx, ly);
	for (int k = 0; k < N_CC; k++) {
		double y = ly + 12 + 20 * k;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\"/>\n",
			lx, y, cc_colour[k]);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s%s</text>\n", lx + 20, y + 11,
			cc_names[k], k >= 2 ? " (coupled)" : "");
	}
	if (s->kind == SHARED) {
		double y = ly + 12 + 20 * N_CC + 10;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" "
			"stroke-width=\"3\"/>\n",
			lx, y + 7, lx + 14, y + 7);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">competing TCP</text>\n", lx + 20, y + 11);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">flow (reno)</text>\n", lx + 20, y + 25);
	}
#undef Y
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0)
		die("write error");
}

/* Path of dir relative to the directory of md (when dir is below it). */
static const char *rel_dir(const char *md, const char *dir)
{
	const char *slash = strrchr(md, '/');
	if (!slash)
		return dir;
	size_t n = (size_t)(slash - md) + 1;
	if (strncmp(md, dir, n) == 0)
		return dir + n;
	return dir;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: policies_bench OUT.md SVG_DIR\n");
		return 2;
	}
	static struct bench b;
	b.argc = argc;
	b.argv = argv;
	for (size_t i = 0; i < MAX_SCHED && mpt_sched_name(i); i++)
		b.sched[b.nsched++] = mpt_sched_name(i);
	if (mkdir(argv[2], 0777) < 0 && errno != EEXIST)
		die("cannot create the SVG directory");
	size_t total = b.nsched * N_CC * N_SCEN, n = 0;
	int bad = 0;
	double w0 = wall_now();
	for (int si = 0; si < N_SCEN; si++) {
		const struct scen *s = &scens[si];
		for (size_t i = 0; i < b.nsched; i++)
			for (int k = 0; k < N_CC; k++) {
				struct res *r = &b.r[si][i][k];
				double t0 = wall_now();
				if (s->kind == SHARED)
					run_shared(s, b.sched[i], cc_names[k], r);
				else
					run_two_paths(s, b.sched[i], cc_names[k], r);
				r->wall = wall_now() - t0;
				n++;
				printf("[%3zu/%zu] %-6s %-9s %-5s %7.2f Mbit/s %7.3f s", n, total,
				       s->key, b.sched[i], cc_names[k], r->goodput, r->completion);
				if (s->kind == SHARED)
					printf(" tcp %6.2f Mbit/s", r->tcp_goodput);
				printf(" stall %4.0f ms min0.5s %5.1f", (double)r->stall_ns / 1e6,
				       r->min_win);
				printf(
				    " reinj %6.2f MiB sf %d rto %llu frtx %llu opp %llu pen %llu "
				    "ecfw %llu wall %.2f s%s\n",
				    mib(r->reinj), r->subflows, (unsigned long long)r->rtos,
				    (unsigned long long)r->fastrtx,
				    (unsigned long long)r->opp_reinj,
				    (unsigned long long)r->penalise,
				    (unsigned long long)r->ecf_wait, r->wall,
				    failed(r) ? "  <<<<<<<<<< FAILED" : "");
				if (failed(r)) {
					bad = 1;
					printf("!!! FAILED: %s %s/%s: %s, %llu of %llu bytes read, "
					       "client err %d, server err %d\n",
					       s->key, b.sched[i], cc_names[k], fail_reason(r),
					       (unsigned long long)r->received,
					       (unsigned long long)s->bytes, r->cerr, r->serr);
				}
				fflush(stdout);
			}
	}
	for (int qi = 0; qi < N_RRSCEN; qi++)
		for (size_t i = 0; i <= b.nsched; i++)
			for (int k = 0; k < N_CC; k++) {
				struct rr_res *r = &b.rr[qi][i][k];
				bool one = i == b.nsched;
				run_reqresp(&rrscens[qi], one ? "minrtt" : b.sched[i], cc_names[k],
					    one, r);
				printf("[rr%d] %-9s %-5s mean %7.1f ms first %7.1f ms max %7.1f ms "
				       "ecfw %llu%s\n",
				       qi, one ? "fastonly" : b.sched[i], cc_names[k], r->mean_ms,
				       r->first_ms, r->max_ms, (unsigned long long)r->ecf_wait,
				       r->ok ? "" : "  <<<<<<<<<< FAILED");
				printf("     rounds (ms):");
				for (int j = 0; r->ok && j < RR_ROUNDS; j++)
					printf(" %.1f", r->ms[j]);
				printf("\n");
				if (!r->ok)
					bad = 1;
			}
	for (size_t i = 0; i < b.nsched; i++)
		for (int k = 0; k < N_CC; k++) {
			struct pace_res *r = &b.pace[i][k];
			run_paced(b.sched[i], cc_names[k], r);
			printf("[paced] %-9s %-5s %s shares", b.sched[i], cc_names[k],
			       r->ok ? "ok" : "FAILED");
			for (int j = 0; j < r->nsub; j++)
				printf(" %.3f", r->share[j]);
			printf("\n");
			if (!r->ok)
				bad = 1;
		}
	printf("total wall %.1f s\n", wall_now() - w0);
	write_md(argv[1], rel_dir(argv[1], argv[2]), &b);
	for (int si = 0; si < N_SCEN; si++)
		write_svg(argv[2], &b, si);
	printf("wrote %s and %s/*.svg\n", argv[1], argv[2]);
	return bad;
}
