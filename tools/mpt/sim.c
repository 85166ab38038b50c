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

#define MAX_LINKS 4
#define MAX_SF    16

struct link_opt {
	double rate_mbit, rtt_ms, loss_pct;
};

struct sim_opts {
	double size_mib;
	struct link_opt links[MAX_LINKS];
	int nlinks;
	double reorder_pct;
	uint64_t seed;
	const char *cc;
	const char *pcap;
	const char *csv;
	bool no_sack, no_mptcp, checksum;
	int version;
	unsigned mss;
	double interval_s;
	double limit_s;
};

static void sim_usage(FILE *f)
{
	fprintf(f, "usage: mpt sim [options]\n"
		   "  Two hosts joined by one or more links; the client sends SIZE MiB to the\n"
		   "  server over Multipath TCP (one subflow per path pair, fullmesh).\n"
		   "  --size MIB        bytes to transfer, MiB (default 64)\n"
		   "  --link SPEC       a path: rate=MBIT,rtt=MS,loss=PCT (repeatable, up to 4;\n"
		   "                    default: two links of 100 Mbit/s, 20 ms)\n"
		   "  --reorder PCT     data packets held back 2 ms, %% (default 0)\n"
		   "  --no-mptcp        plain TCP over the first link\n"
		   "  --version 0|1     MPTCP version to offer (default 1)\n"
		   "  --checksum        request DSS checksums\n"
		   "  --seed N          simulation seed (default 1)\n"
		   "  --cc NAME         congestion control: cubic, reno, lia, olia, balia\n"
		   "  --no-sack         disable SACK\n"
		   "  --mss N           MSS to advertise (default 1460)\n"
		   "  --interval S      report interval, simulated seconds (default 1)\n"
		   "  --limit S         give up after S simulated seconds (default 3600)\n"
		   "  --pcap FILE       write every packet to FILE (raw IP pcap)\n"
		   "  --csv FILE        write per-interval, per-subflow throughput to FILE\n");
}

static int parse_double(const char *name, const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "mpt sim: %s: '%s' is not a number in [%g, %g]\n", name, s, lo, hi);
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
	char buf[128];
	if (strlen(spec) >= sizeof(buf)) {
		fprintf(stderr, "mpt sim: --link: '%s' is too long\n", spec);
		return -1;
	}
	strcpy(buf, spec);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			fprintf(stderr, "mpt sim: --link: '%s' is not KEY=VALUE\n", tok);
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
		else {
			fprintf(stderr, "mpt sim: --link: unknown key '%s' (rate, rtt, loss)\n",
				tok);
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
};

struct reporter {
	struct mpt_bulk *bulk;
	uint64_t interval_ns;
	uint64_t last_bytes;
	FILE *csv;
	bool stopped;
	struct sf_prev prev[MAX_SF];
	int nprev;
};

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
	return p;
}

static void report_tick(struct mpt_sim *sim, void *arg)
{
	struct reporter *r = arg;
	if (r->stopped)
		return;
	uint64_t now = mpt_sim_now(sim);
	double secs = (double)r->interval_ns / 1e9;
	double t0 = (double)(now - r->interval_ns) / 1e9, t1 = (double)now / 1e9;
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
	}
	uint64_t got = mpt_bulk_received(r->bulk);
	printf("[SUM] %7.2f-%-7.2f sec  %8.2f MBytes  %8.2f Mbits/sec  (goodput at the "
	       "receiver)\n",
	       t0, t1, (double)(got - r->last_bytes) / 1048576.0,
	       (double)(got - r->last_bytes) * 8 / secs / 1e6);
	if (r->csv)
		fprintf(r->csv, "%.3f,SUM,,,%" PRIu64 ",%.3f\n", t1, got - r->last_bytes,
			(double)(got - r->last_bytes) * 8 / secs / 1e6);
	r->last_bytes = got;
	if (!mpt_bulk_done(r->bulk))
		(void)mpt_sim_at(sim, now + r->interval_ns, report_tick, r);
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
	sc = cc;
	for (int i = 0; i < nl; i++) {
		set_addr(&cc.local[i], i, 1);
		set_addr(&sc.local[i], i, 2);
	}
	struct mpt_simhost *client = NULL, *server = NULL;
	int rc = mpt_simhost_create(sim, "client", &cc, &client);
	if (rc == 0)
		rc = mpt_simhost_create(sim, "server", &sc, &server);
	if (rc < 0) {
		fprintf(stderr, "mpt sim: cannot create hosts: %s (congestion control '%s'?)\n",
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
	for (int i = 0; i < nl; i++)
		printf(
		    "  link %d: 10.0.%d.1 <-> 10.0.%d.2, %.0f Mbit/s, RTT %.0f ms, loss %.2f%%\n",
		    i + 1, i + 1, i + 1, o->links[i].rate_mbit, o->links[i].rtt_ms,
		    o->links[i].loss_pct);
	struct reporter rep = {
	    .bulk = bulk, .interval_ns = (uint64_t)(o->interval_s * 1e9), .csv = csv};
	(void)mpt_sim_at(sim, rep.interval_ns, report_tick, &rep);
	double w0 = wall_s();
	(void)mpt_sim_run(sim, (uint64_t)(o->limit_s * 1e9), mpt_bulk_done, bulk);
	double wall = wall_s() - w0;
	rep.stopped = true;

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
	if (cs && mpt_sock_mptcp_info(cs, &mi) == 0)
		printf("mptcp: version %u, %s, subflows %u, token %08x, reinjected %" PRIu64
		       " bytes\n",
		       mi.version, mi.fallback ? "fell back to TCP" : "multipath",
		       mi.mptcpi_subflows, mi.mptcpi_token, mi.reinjected_bytes);
	printf("simulator: %.3f s simulated in %.3f s wall (%.1fx real time)\n",
	       (double)mpt_sim_now(sim) / 1e9, wall,
	       wall > 0 ? (double)mpt_sim_now(sim) / 1e9 / wall : 0);
	if (o->pcap)
		printf("pcap: %s\n", o->pcap);
	if (csv)
		fclose(csv);
	mpt_bulk_destroy(bulk);
	mpt_simhost_destroy(client);
	mpt_simhost_destroy(server);
	mpt_sim_destroy(sim);
	return res.intact ? 0 : 1;
}

int mpt_cmd_sim(int argc, char **argv)
{
	struct sim_opts o = {.size_mib = 64,
			     .seed = 1,
			     .cc = "cubic",
			     .version = 1,
			     .mss = 1460,
			     .interval_s = 1,
			     .limit_s = 3600};
	static const struct option lopts[] = {
	    {"size", required_argument, NULL, 's'},     {"link", required_argument, NULL, 'k'},
	    {"reorder", required_argument, NULL, 'o'},  {"seed", required_argument, NULL, 'S'},
	    {"cc", required_argument, NULL, 'c'},       {"no-sack", no_argument, NULL, 'n'},
	    {"no-mptcp", no_argument, NULL, 'P'},       {"version", required_argument, NULL, 'V'},
	    {"checksum", no_argument, NULL, 'K'},       {"mss", required_argument, NULL, 'm'},
	    {"interval", required_argument, NULL, 'i'}, {"limit", required_argument, NULL, 'L'},
	    {"pcap", required_argument, NULL, 'p'},     {"csv", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	int c;
	double v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_double("--size", optarg, 0.001, 1 << 20, &o.size_mib))
				return 2;
			break;
		case 'k':
			if (o.nlinks == MAX_LINKS) {
				fprintf(stderr, "mpt sim: at most %d --link\n", MAX_LINKS);
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
		case 'n':
			o.no_sack = true;
			break;
		case 'P':
			o.no_mptcp = true;
			break;
		case 'V':
			if (strcmp(optarg, "0") && strcmp(optarg, "1")) {
				fprintf(stderr, "mpt sim: --version: '%s' is not 0 or 1\n", optarg);
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
		case 'h':
			sim_usage(stdout);
			return 0;
		default:
			sim_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mpt sim: unexpected argument '%s'\n", argv[optind]);
		sim_usage(stderr);
		return 2;
	}
	if (o.nlinks == 0) {
		o.nlinks = 2;
		o.links[0] = o.links[1] = (struct link_opt){100, 20, 0};
	}
	return run(&o);
}
