/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt sim`: a bulk transfer between two simulated hosts joined by one or
 * more links, with the engine's real MPTCP (or plain TCP with --no-mptcp).
 * Prints, per interval of simulated time, one row per subflow and a [SUM]
 * row (iperf3 style), then the completion time, an integrity check (SHA-256
 * of both ends) and the simulator's speed (simulated time / wall time).
 */
#define _GNU_SOURCE /* getopt_long, clock_gettime */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"
#include "tool.h"
#include "toolloop.h"

#define MAX_LINKS 4
#define MAX_SF    16

struct link_opt {
	double rate_mbit, rtt_ms, loss_pct;
	double down_s, up_s; /* outage [down_s, up_s) in both directions; 0/0 = none */
};

struct sim_opts {
	double size_mib;
	struct link_opt links[MAX_LINKS];
	int nlinks;
	double reorder_pct;
	uint64_t seed;
	const char *cc;
	const char *sched; /* NULL: the default */
	const char *pm;
	const char *pcap;
	const char *csv;
	const char *svg;
	bool no_sack, no_mptcp, checksum;
	int version;
	unsigned mss;
	double interval_s;
	double limit_s;
	bool quiet;
};

static void sim_usage(FILE *f)
{
	fprintf(f, "usage: mpt sim [SCENARIO] [options]\n"
		   "  Two hosts joined by one or more links; the client sends SIZE MiB to the\n"
		   "  server over Multipath TCP (one subflow per path pair, fullmesh).\n"
		   "  SCENARIO          a file of options, one per line: the long option without\n"
		   "                    its dashes and its value ('link rate=50,down=2-4'); '#'\n"
		   "                    starts a comment; options given here override it\n"
		   "  --size MIB        bytes to transfer, MiB (default 64)\n"
		   "  --link SPEC       a path: rate=MBIT,rtt=MS,loss=PCT,down=START-END (any\n"
		   "                    subset; down: an outage in both directions, seconds);\n"
		   "                    repeatable, up to 4 (default: two links of 100 Mbit/s,\n"
		   "                    20 ms)\n"
		   "  --reorder PCT     data packets held back 2 ms, %% (default 0)\n"
		   "  --no-mptcp        plain TCP over the first link\n"
		   "  --version 0|1     MPTCP version to offer (default 1)\n"
		   "  --checksum        request DSS checksums\n"
		   "  --seed N          simulation seed (default 1)\n"
		   "  --cc NAME         congestion control: cubic, reno, lia, olia, balia\n"
		   "  --sched NAME      scheduler: minrtt (default), rr, redundant, ecf\n"
		   "  --pm NAME         client path manager: fullmesh (default), ndiffports,\n"
		   "                    endpoints, mobility, none\n"
		   "  --no-sack         disable SACK\n"
		   "  --mss N           MSS to advertise (default 1460)\n"
		   "  --interval S      report interval, simulated seconds (default 1)\n"
		   "  --limit S         give up after S simulated seconds (default 3600)\n"
		   "  --pcap FILE       write every packet to FILE (raw IP pcap)\n"
		   "  --csv FILE        write per-interval, per-subflow throughput to FILE\n"
		   "  --svg FILE        plot per-subflow throughput over time to FILE (SVG)\n"
		   "  -q, --quiet       no progress line (shown when stderr is a terminal)\n"
		   "  -h, --help        this text\n"
		   "  Exit status: 0 when the stream arrived intact, 1 when not or when an\n"
		   "  output file could not be written, 2 for bad usage.\n");
}

/* Where a message about an option comes from: "" (the command line) or
 * "FILE:LINE: " (a scenario line). */
static char where[600];

static int parse_double(const char *name, const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "mpt sim: %s%s: '%s' is not a number in [%g, %g]\n", where, name, s,
			lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* "rate=100,rtt=20,loss=0.5" (any subset, any order). */
static int parse_link(const char *spec, struct link_opt *l)
{
	l->rate_mbit = 100;
	l->rtt_ms = 20;
	l->loss_pct = 0;
	l->down_s = l->up_s = 0;
	char buf[128];
	if (strlen(spec) >= sizeof(buf)) {
		fprintf(stderr, "mpt sim: %s--link: '%s' is too long\n", where, spec);
		return -1;
	}
	strcpy(buf, spec);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			fprintf(stderr, "mpt sim: %s--link: '%s' is not KEY=VALUE\n", where, tok);
			return -1;
		}
		*eq = '\0';
		const char *v = eq + 1;
		int rc;
		if (!strcmp(tok, "rate"))
			rc = parse_double("--link rate", v, 0.01, 1e6, &l->rate_mbit);
		else if (!strcmp(tok, "rtt"))
			rc = parse_double("--link rtt", v, 0, 1e5, &l->rtt_ms);
		else if (!strcmp(tok, "loss"))
			rc = parse_double("--link loss", v, 0, 50, &l->loss_pct);
		else if (!strcmp(tok, "down")) {
			/* down=START-END in seconds: the link is out in both directions. */
			char a[32];
			const char *dash = strchr(v, '-');
			if (!dash || (size_t)(dash - v) >= sizeof(a)) {
				fprintf(stderr, "mpt sim: %s--link down: '%s' is not START-END\n",
					where, v);
				return -1;
			}
			memcpy(a, v, (size_t)(dash - v));
			a[dash - v] = '\0';
			rc = parse_double("--link down start", a, 0, 1e6, &l->down_s);
			if (!rc)
				rc = parse_double("--link down end", dash + 1, 0, 1e6, &l->up_s);
			if (!rc && l->up_s <= l->down_s) {
				fprintf(stderr, "mpt sim: %s--link down: end must follow start\n",
					where);
				rc = -1;
			}
		} else {
			fprintf(stderr,
				"mpt sim: %s--link: unknown key '%s' (rate, rtt, loss, down)\n",
				where, tok);
			return -1;
		}
		if (rc)
			return -1;
	}
	return 0;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Per-subflow byte counters from the previous report, keyed by ports. */
struct sf_prev {
	uint16_t lport, rport;
	uint8_t lfam;
	uint8_t laddr[16], raddr[16];
	uint64_t bytes;
	int id;
	bool join;
};

/* Throughput samples for the SVG plot: series 0 is [SUM], i is subflow i. */
#define MAX_SAMPLES 100000
struct series {
	double *t, *mbit;
	size_t n, cap;
	char label[112];
};

struct reporter {
	struct series series[MAX_SF + 1];
	struct mpt_bulk *bulk;
	uint64_t interval_ns;
	uint64_t last_t; /* end of the last interval reported */
	uint64_t last_bytes;
	uint64_t total; /* bytes to transfer */
	FILE *csv;
	bool stopped;
	struct sf_prev prev[MAX_SF];
	int nprev;
	struct tool_progress prog;
	double wall0;
};

static void sample(struct series *se, double t, double mbit)
{
	if (se->n == se->cap) {
		size_t cap = se->cap ? se->cap * 2 : 64;
		if (cap > MAX_SAMPLES)
			return; /* bounded: later samples are not plotted */
		double *nt = realloc(se->t, cap * sizeof(*nt));
		if (!nt)
			return;
		se->t = nt;
		double *nm = realloc(se->mbit, cap * sizeof(*nm));
		if (!nm)
			return;
		se->mbit = nm;
		se->cap = cap;
	}
	se->t[se->n] = t;
	se->mbit[se->n] = mbit;
	se->n++;
}

static struct sf_prev *sf_slot(struct reporter *r, const struct mpt_subflow_info *i)
{
	for (int k = 0; k < r->nprev; k++) {
		struct sf_prev *p = &r->prev[k];
		if (p->lport == i->local.port && p->rport == i->remote.port &&
		    !memcmp(p->laddr, i->local.addr.bytes, 16) &&
		    !memcmp(p->raddr, i->remote.addr.bytes, 16))
			return p;
	}
	if (r->nprev == MAX_SF)
		return NULL;
	struct sf_prev *p = &r->prev[r->nprev];
	memset(p, 0, sizeof(*p));
	p->lport = i->local.port;
	p->rport = i->remote.port;
	memcpy(p->laddr, i->local.addr.bytes, 16);
	memcpy(p->raddr, i->remote.addr.bytes, 16);
	p->id = ++r->nprev;
	p->join = i->join;
	return p;
}

/* One report: a row per subflow and [SUM] for [last_t, now]. */
static void report_rows(struct reporter *r, uint64_t now)
{
	if (now <= r->last_t)
		return;
	tool_progress_clear(&r->prog);
	double secs = (double)(now - r->last_t) / 1e9;
	double t0 = (double)r->last_t / 1e9, t1 = (double)now / 1e9;
	r->last_t = now;
	struct mpt_sock *cs = mpt_bulk_client_sock(r->bulk);
	struct mpt_subflow_info sf[MAX_SF];
	int n = cs ? mpt_sock_subflows(cs, sf, MAX_SF) : 0;
	for (int k = 0; k < n && k < MAX_SF; k++) {
		struct sf_prev *p = sf_slot(r, &sf[k]);
		if (!p)
			continue;
		uint64_t d = sf[k].bytes_sent - p->bytes;
		p->bytes = sf[k].bytes_sent;
		char la[48], ra[48];
		mpt_addr_format(&sf[k].local.addr, la, sizeof(la));
		mpt_addr_format(&sf[k].remote.addr, ra, sizeof(ra));
		printf("[%3d] %7.2f-%-7.2f sec  %8.2f MBytes  %8.2f Mbits/sec  %s -> %s  "
		       "srtt %.1f ms cwnd %u\n",
		       p->id, t0, t1, (double)d / 1048576.0, (double)d * 8 / secs / 1e6, la, ra,
		       (double)sf[k].srtt_ns / 1e6, sf[k].cwnd);
		if (r->csv)
			fprintf(r->csv, "%.3f,%d,%s,%s,%" PRIu64 ",%.3f\n", t1, p->id, la, ra, d,
				(double)d * 8 / secs / 1e6);
		struct series *se = &r->series[p->id];
		if (!se->label[0])
			snprintf(se->label, sizeof(se->label), "subflow %d: %s -> %s", p->id, la,
				 ra);
		sample(se, t1, (double)d * 8 / secs / 1e6);
	}
	uint64_t got = mpt_bulk_received(r->bulk);
	printf("[SUM] %7.2f-%-7.2f sec  %8.2f MBytes  %8.2f Mbits/sec  (goodput at the "
	       "receiver)\n",
	       t0, t1, (double)(got - r->last_bytes) / 1048576.0,
	       (double)(got - r->last_bytes) * 8 / secs / 1e6);
	if (r->csv)
		fprintf(r->csv, "%.3f,SUM,,,%" PRIu64 ",%.3f\n", t1, got - r->last_bytes,
			(double)(got - r->last_bytes) * 8 / secs / 1e6);
	snprintf(r->series[0].label, sizeof(r->series[0].label), "[SUM] goodput");
	sample(&r->series[0], t1, (double)(got - r->last_bytes) * 8 / secs / 1e6);
	r->last_bytes = got;
}

static void report_tick(struct mpt_sim *sim, void *arg)
{
	struct reporter *r = arg;
	if (r->stopped)
		return;
	uint64_t now = mpt_sim_now(sim);
	report_rows(r, now);
	if (!mpt_bulk_done(r->bulk))
		(void)mpt_sim_at(sim, now + r->interval_ns, report_tick, r);
}

/* The progress line (stderr on a terminal), redrawn from simulated-time
 * events as wall time passes. */
static void progress_tick(struct mpt_sim *sim, void *arg)
{
	struct reporter *r = arg;
	if (r->stopped || !r->prog.on)
		return;
	uint64_t wall_ns = (uint64_t)((wall_s() - r->wall0) * 1e9);
	char what[64];
	snprintf(what, sizeof(what), "%.1f s simulated", (double)mpt_sim_now(sim) / 1e9);
	tool_progress_update(&r->prog, what, mpt_bulk_received(r->bulk), r->total, wall_ns);
	if (!mpt_bulk_done(r->bulk))
		(void)mpt_sim_at(sim, mpt_sim_now(sim) + 50 * MPT_NS_PER_MS, progress_tick, r);
}

/* A "nice" tick step for an axis up to max with about n ticks: 1, 2 or 5
 * times a power of ten (so ticks land on round values). */
static double nice_step(double max, int n)
{
	double raw = max / n;
	double p = 1;
	while (p * 10 <= raw)
		p *= 10;
	while (p > raw)
		p /= 10;
	double m = raw / p;
	return p * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10);
}

/* A small self-contained SVG line plot: one polyline per series, the
 * links' outages shaded. */
static int write_svg(const char *path, const struct reporter *r, const struct sim_opts *o,
		     const char *title)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	const double W = 900, H = 420, L = 60, R = 260, T = 40, B = 50;
	double tmax = 0, ymax = 1;
	for (int k = 0; k <= MAX_SF; k++)
		for (size_t i = 0; i < r->series[k].n; i++) {
			tmax = r->series[k].t[i] > tmax ? r->series[k].t[i] : tmax;
			ymax = r->series[k].mbit[i] > ymax ? r->series[k].mbit[i] : ymax;
		}
	if (tmax <= 0)
		tmax = 1;
	double xstep = nice_step(tmax, 8), ystep = nice_step(ymax * 1.05, 5);
	tmax = xstep * (double)(long)(tmax / xstep + 0.999);
	ymax = ystep * (double)(long)(ymax * 1.05 / ystep + 0.999);
	static const char *const colors[] = {"#000000", "#1f77b4", "#ff7f0e", "#2ca02c",
					     "#d62728", "#9467bd", "#8c564b", "#e377c2",
					     "#7f7f7f", "#bcbd22", "#17becf"};
	double pw = W - L - R, ph = H - T - B;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%.0f\" y=\"22\" font-size=\"14\">%s</text>\n",
		W, H, L, title);
	/* Outages first, under everything: a shaded band per link down. */
	int row = 0;
	for (int i = 0; i < o->nlinks; i++) {
		const struct link_opt *l = &o->links[i];
		if (!(l->up_s > l->down_s) || l->down_s >= tmax)
			continue;
		double x0 = L + pw * l->down_s / tmax;
		double x1 = L + pw * (l->up_s < tmax ? l->up_s : tmax) / tmax;
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
			"fill=\"#f2c6c6\" fill-opacity=\"0.6\"/>"
			"<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" fill=\"#a33\">link %d "
			"down</text>\n",
			x0, T, x1 - x0, ph, x0 + 3, T + 12 + 13 * row++, i + 1);
	}
	fprintf(f,
		"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
		"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
		"<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">simulated time (s)</text>\n"
		"<text x=\"14\" y=\"%.0f\" transform=\"rotate(-90 14 %.0f)\" "
		"text-anchor=\"middle\">throughput (Mbit/s)</text>\n",
		L, T + ph, L + pw, T + ph, L, T, L, T + ph, L + pw / 2, H - 12, T + ph / 2,
		T + ph / 2);
	/* Ticks at round values, with grid lines. */
	for (double v = 0; v <= ymax + ystep / 2; v += ystep) {
		double y = T + ph - ph * v / ymax;
		fprintf(f,
			"<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			"<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			L, y, L + pw, y, L - 4, y + 4, v);
	}
	for (double v = 0; v <= tmax + xstep / 2; v += xstep) {
		double x = L + pw * v / tmax;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"black\"/>"
			"<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n",
			x, T + ph, x, T + ph + 4, x, T + ph + 16, v);
	}
	row = 0;
	for (int k = 0; k <= MAX_SF; k++) {
		const struct series *se = &r->series[k];
		if (se->n == 0)
			continue;
		const char *c = colors[k % (int)(sizeof(colors) / sizeof(colors[0]))];
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"", c,
			k == 0 ? "2.5" : "1.5");
		for (size_t i = 0; i < se->n; i++)
			fprintf(f, "%.1f,%.1f ", L + pw * se->t[i] / tmax,
				T + ph - ph * se->mbit[i] / ymax);
		fprintf(f,
			"\"/>\n<rect x=\"%.0f\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%d\">%s</text>\n",
			L + pw + 12, (int)T + 18 * row, c, L + pw + 30, (int)T + 18 * row + 5,
			se->label);
		row++;
	}
	fprintf(f, "</svg>\n");
	bool ok = !ferror(f);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static void set_addr(struct mpt_addr *a, int link, int host)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "10.0.%d.%d", link + 1, host);
	(void)mpt_addr_parse(a, buf);
}

static int run(const struct sim_opts *o)
{
	struct mpt_sim *sim;
	if (mpt_sim_create(NULL, o->seed, &sim) < 0) {
		fprintf(stderr, "mpt sim: out of memory\n");
		return 1;
	}
	struct mpt_stack_cfg cc, sc;
	mpt_stack_cfg_init(&cc);
	int nl = o->no_mptcp ? 1 : o->nlinks;
	cc.n_local = (size_t)nl;
	double bdp = 0;
	for (int i = 0; i < o->nlinks; i++)
		bdp += o->links[i].rate_mbit * 1e6 / 8 * o->links[i].rtt_ms / 1e3;
	snprintf(cc.tcp.cc, sizeof(cc.tcp.cc), "%s", o->cc);
	cc.tcp.no_sack = o->no_sack;
	cc.tcp.mss = (uint16_t)o->mss;
	/* Buffers large enough for the paths' BDP (x4 for recovery headroom). */
	uint32_t buf = (uint32_t)(bdp * 4 > 256 * 1024 ? bdp * 4 : 256 * 1024);
	cc.tcp.sndbuf = cc.tcp.rcvbuf = buf;
	cc.mptcp.enable = !o->no_mptcp;
	cc.mptcp.version = (uint8_t)o->version;
	cc.mptcp.checksum = o->checksum;
	if (o->sched)
		snprintf(cc.mptcp.sched, sizeof(cc.mptcp.sched), "%s", o->sched);
	sc = cc;
	if (o->pm)
		snprintf(cc.mptcp.pm, sizeof(cc.mptcp.pm), "%s", o->pm);
	for (int i = 0; i < nl; i++) {
		set_addr(&cc.local[i], i, 1);
		set_addr(&sc.local[i], i, 2);
	}
	struct mpt_simhost *client = NULL, *server = NULL;
	int rc = mpt_simhost_create(sim, "client", &cc, &client);
	if (rc == 0)
		rc = mpt_simhost_create(sim, "server", &sc, &server);
	if (rc < 0) {
		fprintf(stderr,
			"mpt sim: cannot create hosts: %s (unknown --cc '%s', --sched or --pm?)\n",
			mpt_strerror(rc), o->cc);
		mpt_simhost_destroy(client);
		mpt_sim_destroy(sim);
		return 2;
	}
	for (int i = 0; i < nl && rc == 0; i++) {
		const struct link_opt *l = &o->links[i];
		double lbdp = l->rate_mbit * 1e6 / 8 * l->rtt_ms / 1e3;
		struct mpt_sim_link_cfg fwd, rev;
		memset(&fwd, 0, sizeof(fwd));
		fwd.rate_bps = (uint64_t)(l->rate_mbit * 1e6);
		fwd.delay_ns = (uint64_t)(l->rtt_ms * 1e6 / 2);
		/* Droptail queue of one BDP (at least 64 packets). */
		fwd.queue_bytes = (uint32_t)(lbdp > 64 * 1500 ? lbdp : 64 * 1500);
		struct mpt_sim_outage out = {(uint64_t)(l->down_s * 1e9),
					     (uint64_t)(l->up_s * 1e9)};
		if (l->up_s > l->down_s) {
			fwd.outages = &out;
			fwd.n_outages = 1;
		}
		rev = fwd;
		fwd.loss = l->loss_pct / 100;
		fwd.reorder = o->reorder_pct / 100;
		fwd.reorder_delay_ns = 2000000;
		rc =
		    mpt_sim_connect(sim, mpt_simhost_node(client), &cc.local[i],
				    mpt_simhost_node(server), &sc.local[i], &fwd, &rev, NULL, NULL);
	}
	if (rc == 0 && o->pcap && (rc = mpt_sim_pcap_open(sim, o->pcap)) < 0)
		fprintf(stderr, "mpt sim: cannot write pcap %s\n", o->pcap);
	FILE *csv = NULL;
	if (rc == 0 && o->csv) {
		csv = fopen(o->csv, "w");
		if (!csv) {
			fprintf(stderr, "mpt sim: cannot write %s: %s\n", o->csv, strerror(errno));
			rc = MPT_ERR_INVAL;
		} else {
			fprintf(csv, "time_s,subflow,local,remote,bytes,mbit_s\n");
		}
	}
	struct mpt_bulk *bulk = NULL;
	struct mpt_bulk_cfg bc = {
	    .bytes = (uint64_t)(o->size_mib * 1048576.0), .port = 5201, .seed = o->seed};
	struct mpt_endpoint dst = {.addr = sc.local[0], .port = 5201};
	if (rc == 0)
		rc = mpt_bulk_start(client, server, &dst, &bc, &bulk);
	if (rc < 0) {
		if (csv)
			fclose(csv);
		mpt_simhost_destroy(client);
		mpt_simhost_destroy(server);
		mpt_sim_destroy(sim);
		return 1;
	}
	printf("mpt sim: %.1f MiB, %s, %d link(s), cc %s, SACK %s, seed %" PRIu64 "\n", o->size_mib,
	       o->no_mptcp  ? "plain TCP"
	       : o->version ? "MPTCP v1"
			    : "MPTCP v0",
	       nl, o->cc, o->no_sack ? "off" : "on", o->seed);
	for (int i = 0; i < nl; i++) {
		printf("  link %d: 10.0.%d.1 <-> 10.0.%d.2, %.0f Mbit/s, RTT %.0f ms, loss %.2f%%",
		       i + 1, i + 1, i + 1, o->links[i].rate_mbit, o->links[i].rtt_ms,
		       o->links[i].loss_pct);
		if (o->links[i].up_s > o->links[i].down_s)
			printf(", down %.1f-%.1f s", o->links[i].down_s, o->links[i].up_s);
		printf("\n");
	}
	static struct reporter rep;
	memset(&rep, 0, sizeof(rep));
	rep.bulk = bulk;
	rep.interval_ns = (uint64_t)(o->interval_s * 1e9);
	rep.csv = csv;
	rep.total = bc.bytes;
	(void)mpt_sim_at(sim, rep.interval_ns, report_tick, &rep);
	double w0 = wall_s();
	rep.wall0 = w0;
	tool_progress_init(&rep.prog, o->quiet, 0);
	if (rep.prog.on)
		(void)mpt_sim_at(sim, 50 * MPT_NS_PER_MS, progress_tick, &rep);
	(void)mpt_sim_run(sim, (uint64_t)(o->limit_s * 1e9), mpt_bulk_done, bulk);
	double wall = wall_s() - w0;
	/* The last, partial interval (the transfer rarely ends on a tick). */
	report_rows(&rep, mpt_sim_now(sim));
	rep.stopped = true;
	tool_progress_clear(&rep.prog);
	int out_rc = 0;
	if (o->svg) {
		char title[160];
		snprintf(title, sizeof(title),
			 "mpt sim: %.1f MiB, %d link(s), cc %s, seed %" PRIu64, o->size_mib, nl,
			 o->cc, o->seed);
		if (write_svg(o->svg, &rep, o, title) < 0) {
			fprintf(stderr, "mpt sim: cannot write %s: %s\n", o->svg, strerror(errno));
			out_rc = 1;
		}
	}
	for (int k = 0; k <= MAX_SF; k++) {
		free(rep.series[k].t);
		free(rep.series[k].mbit);
	}

	struct mpt_bulk_result res;
	mpt_bulk_result(bulk, &res);
	double secs = (double)(res.t_done - res.t_connected) / 1e9;
	printf("- - - - - - - - - - - - - - - - - - - - - - - - -\n");
	if (res.done) {
		printf("done: %" PRIu64 " bytes in %.3f s simulated = %.2f Mbit/s goodput\n",
		       res.received, secs, secs > 0 ? (double)res.received * 8 / secs / 1e6 : 0);
	} else {
		printf("NOT done after %.1f s simulated: %" PRIu64 " of %" PRIu64
		       " bytes (client err %s, server err %s)\n",
		       (double)mpt_sim_now(sim) / 1e9, res.received, bc.bytes,
		       mpt_strerror(res.client_err), mpt_strerror(res.server_err));
	}
	printf("integrity: %s (SHA-256 of sent and received streams %s)\n",
	       res.intact ? "OK" : "FAILED", res.intact ? "match" : "differ");
	struct mpt_sock *cs = mpt_bulk_client_sock(bulk);
	struct mpt_mptcp_info mi;
	if (cs && mpt_sock_mptcp_info(cs, &mi) == 0) {
		/* Every subflow the connection had (mptcpi_subflows_total counts
		 * the established ones only). */
		int nsf = rep.nprev, joins = 0;
		for (int k = 0; k < rep.nprev; k++)
			joins += rep.prev[k].join;
		printf("mptcp: version %u, %s, %d subflow%s (%d join%s), token %08x, reinjected "
		       "%" PRIu64 " bytes\n",
		       mi.version, mi.fallback ? "fell back to TCP" : "multipath", nsf,
		       nsf == 1 ? "" : "s", joins, joins == 1 ? "" : "s", mi.mptcpi_token,
		       mi.reinjected_bytes);
	}
	printf("simulator: %.3f s simulated in %.3f s wall (%.1fx real time)\n",
	       (double)mpt_sim_now(sim) / 1e9, wall,
	       wall > 0 ? (double)mpt_sim_now(sim) / 1e9 / wall : 0);
	if (o->pcap)
		printf("pcap: %s\n", o->pcap);
	if (o->svg)
		printf("svg: %s\n", o->svg);
	if (csv && fclose(csv) != 0) {
		fprintf(stderr, "mpt sim: writing %s failed\n", o->csv);
		out_rc = 1;
	}
	mpt_bulk_destroy(bulk);
	mpt_simhost_destroy(client);
	mpt_simhost_destroy(server);
	mpt_sim_destroy(sim);
	return res.intact && out_rc == 0 ? 0 : 1;
}

/*
 * Apply options from argv to *o.  Returns 0, 1 (--help printed) or 2 (bad
 * usage, message printed).  *scenario receives a positional argument.
 */
static int parse_args(struct sim_opts *o_out, int argc, char **argv, const char **scenario)
{
	struct sim_opts o = *o_out;
	static const struct option lopts[] = {
	    {"size", required_argument, NULL, 's'},     {"link", required_argument, NULL, 'k'},
	    {"reorder", required_argument, NULL, 'o'},  {"seed", required_argument, NULL, 'S'},
	    {"cc", required_argument, NULL, 'c'},       {"sched", required_argument, NULL, 'D'},
	    {"pm", required_argument, NULL, 'M'},       {"no-sack", no_argument, NULL, 'n'},
	    {"no-mptcp", no_argument, NULL, 'P'},       {"version", required_argument, NULL, 'V'},
	    {"checksum", no_argument, NULL, 'K'},       {"mss", required_argument, NULL, 'm'},
	    {"interval", required_argument, NULL, 'i'}, {"limit", required_argument, NULL, 'L'},
	    {"pcap", required_argument, NULL, 'p'},     {"csv", required_argument, NULL, 'C'},
	    {"svg", required_argument, NULL, 'G'},      {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	int c;
	double v;
	optind = 0; /* GNU getopt: full re-initialisation (we parse more than once) */
	opterr = 0; /* our own messages, with the scenario's FILE:LINE */
	while ((c = getopt_long(argc, argv, ":hq", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_double("--size", optarg, 0.001, 1 << 20, &o.size_mib))
				return 2;
			break;
		case 'k':
			if (o.nlinks == MAX_LINKS) {
				fprintf(stderr, "mpt sim: %sat most %d --link\n", where, MAX_LINKS);
				return 2;
			}
			if (parse_link(optarg, &o.links[o.nlinks]))
				return 2;
			o.nlinks++;
			break;
		case 'o':
			if (parse_double("--reorder", optarg, 0, 50, &o.reorder_pct))
				return 2;
			break;
		case 'S':
			if (parse_double("--seed", optarg, 0, 1e18, &v))
				return 2;
			o.seed = (uint64_t)v;
			break;
		case 'c':
			o.cc = optarg;
			break;
		case 'D':
			o.sched = optarg;
			break;
		case 'M':
			o.pm = optarg;
			break;
		case 'n':
			o.no_sack = true;
			break;
		case 'P':
			o.no_mptcp = true;
			break;
		case 'V':
			if (strcmp(optarg, "0") && strcmp(optarg, "1")) {
				fprintf(stderr, "mpt sim: %s--version: '%s' is not 0 or 1\n", where,
					optarg);
				return 2;
			}
			o.version = optarg[0] - '0';
			break;
		case 'K':
			o.checksum = true;
			break;
		case 'm':
			if (parse_double("--mss", optarg, 88, 65495, &v))
				return 2;
			o.mss = (unsigned)v;
			break;
		case 'i':
			if (parse_double("--interval", optarg, 0.001, 3600, &o.interval_s))
				return 2;
			break;
		case 'L':
			if (parse_double("--limit", optarg, 0.001, 1e6, &o.limit_s))
				return 2;
			break;
		case 'p':
			o.pcap = optarg;
			break;
		case 'C':
			o.csv = optarg;
			break;
		case 'G':
			o.svg = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			sim_usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, "mpt sim: %s%s needs a value\n", where, argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				"mpt sim: %sunknown option '%s' (mpt sim --help lists them)\n",
				where, argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		if (!scenario) { /* a scenario line: "KEY VALUE" for a flag */
			fprintf(stderr, "mpt sim: %s'%s' takes no value\n", where, argv[1] + 2);
			return 2;
		}
		if (optind + 1 < argc) {
			fprintf(stderr,
				"mpt sim: unexpected argument '%s' (one SCENARIO at most)\n",
				argv[optind + 1]);
			return 2;
		}
		*scenario = argv[optind];
	}
	*o_out = o;
	return 0;
}

/*
 * Apply a scenario file to *o: one option per line, "key value" or "key"
 * (the long option without its dashes); '#' starts a comment.  Each line is
 * parsed on its own, so a bad one is reported as FILE:LINE.  Returns 0 or 2
 * (message printed).
 */
static int load_scenario(const char *path, struct sim_opts *o, char **mem)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "mpt sim: cannot read scenario %s: %s\n", path, strerror(errno));
		return 2;
	}
	/* Option values (file names, --cc) stay referenced by *o: they live in
	 * one buffer the caller frees after the run. */
	enum { MAX_LINES = 256, MAX_BYTES = 16384 };
	char *buf = calloc(1, MAX_BYTES);
	size_t used = 0;
	int lineno = 0, rc = buf ? 0 : 2;
	char line[512];
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d: ", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "mpt sim: %sline too long\n", where);
			rc = 2;
			break;
		}
		if (lineno > MAX_LINES) {
			fprintf(stderr, "mpt sim: %stoo many lines\n", where);
			rc = 2;
			break;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *save = NULL, *key = strtok_r(line, " \t\r\n", &save);
		if (!key)
			continue;
		char *val = strtok_r(NULL, " \t\r\n", &save);
		char *extra = val ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		if (extra) {
			fprintf(stderr, "mpt sim: %s'%s' takes one value\n", where, key);
			rc = 2;
			break;
		}
		size_t need = strlen(key) + 3 + (val ? strlen(val) + 1 : 0);
		if (used + need > MAX_BYTES) {
			fprintf(stderr, "mpt sim: %sscenario too large\n", where);
			rc = 2;
			break;
		}
		static char prog[] = "sim";
		char *argv[4] = {prog, buf + used, NULL, NULL};
		used += (size_t)sprintf(buf + used, "--%s", key) + 1;
		int argc = 2;
		if (val) {
			argv[argc++] = buf + used;
			used += (size_t)sprintf(buf + used, "%s", val) + 1;
		}
		rc = parse_args(o, argc, argv, NULL);
		if (rc == 1) { /* "help" in a scenario */
			fprintf(stderr, "mpt sim: %s'%s' is not a scenario option\n", where, key);
			rc = 2;
		}
	}
	fclose(f);
	where[0] = '\0';
	*mem = buf;
	return rc;
}

int mpt_cmd_sim(int argc, char **argv)
{
	/* Rows as they come, also into a pipe or a file (tee, grep). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sim_opts o = {.size_mib = 64,
			     .seed = 1,
			     .cc = "cubic",
			     .version = 1,
			     .mss = 1460,
			     .interval_s = 1,
			     .limit_s = 3600};
	const char *scenario = NULL;
	struct sim_opts cli = o;
	int rc = parse_args(&cli, argc, argv, &scenario);
	if (rc)
		return rc == 1 ? 0 : rc;
	char *smem = NULL;
	if (scenario) {
		rc = load_scenario(scenario, &o, &smem);
		/* Then the command line on top of the scenario. */
		if (rc == 0)
			rc = parse_args(&o, argc, argv, &scenario);
		if (rc) {
			free(smem);
			return rc == 1 ? 0 : rc;
		}
	} else {
		o = cli;
	}
	if (o.nlinks == 0) {
		o.nlinks = 2;
		o.links[0] = o.links[1] = (struct link_opt){100, 20, 0, 0, 0};
	}
	rc = run(&o);
	free(smem);
	return rc;
}
