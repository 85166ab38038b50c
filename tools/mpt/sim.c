/*
 * `mpt sim`: a bulk transfer between two simulated hosts over one link,
 * with the engine's real TCP.  Prints throughput per interval of simulated
 * time, the completion time, an integrity check (SHA-256 of both ends) and
 * the simulator's speed (simulated time / wall time).
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

struct sim_opts {
	double size_mib;
	double rate_mbit;
	double rtt_ms;
	double loss_pct;
	double reorder_pct;
	uint64_t seed;
	const char *cc;
	const char *pcap;
	const char *csv;
	bool no_sack;
	unsigned mss;
	double interval_s;
	double limit_s;
};

static void sim_usage(FILE *f)
{
	fprintf(f,
		"usage: mpt sim [options]\n"
		"  Two hosts, one link; the client sends SIZE MiB to the server.\n"
		"  --size MIB        bytes to transfer, MiB (default 16)\n"
		"  --rate MBIT       link rate each way, Mbit/s (default 100)\n"
		"  --rtt MS          round-trip propagation delay, ms (default 20)\n"
		"  --loss PCT        random loss on the data direction, %% (default 0)\n"
		"  --reorder PCT     packets held back 2 ms on the data direction, %% (default 0)\n"
		"  --seed N          simulation seed (default 1)\n"
		"  --cc NAME         congestion control: cubic, reno (default cubic)\n"
		"  --no-sack         disable SACK\n"
		"  --mss N           MSS to advertise (default 1460)\n"
		"  --interval S      report interval, simulated seconds (default 1)\n"
		"  --limit S         give up after S simulated seconds (default 3600)\n"
		"  --pcap FILE       write every packet to FILE (raw IP pcap)\n"
		"  --csv FILE        write per-interval throughput to FILE\n");
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

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct reporter {
	struct mpt_bulk *bulk;
	uint64_t interval_ns;
	uint64_t last_bytes;
	FILE *csv;
	bool stopped;
};

static void report_tick(struct mpt_sim *sim, void *arg)
{
	struct reporter *r = arg;
	if (r->stopped)
		return;
	uint64_t now = mpt_sim_now(sim);
	uint64_t got = mpt_bulk_received(r->bulk);
	double mbit = (double)(got - r->last_bytes) * 8 / ((double)r->interval_ns / 1e9) / 1e6;
	double t0 = (double)(now - r->interval_ns) / 1e9, t1 = (double)now / 1e9;
	printf("[%3s] %7.2f-%-7.2f sec  %8.2f MBytes  %8.2f Mbits/sec\n", "1", t0, t1,
	       (double)(got - r->last_bytes) / 1048576.0, mbit);
	if (r->csv)
		fprintf(r->csv, "%.3f,%" PRIu64 ",%.3f\n", t1, got - r->last_bytes, mbit);
	r->last_bytes = got;
	if (!mpt_bulk_done(r->bulk))
		(void)mpt_sim_at(sim, now + r->interval_ns, report_tick, r);
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
	cc.n_local = 1;
	(void)mpt_addr_parse(&cc.local[0], "10.0.0.1");
	snprintf(cc.tcp.cc, sizeof(cc.tcp.cc), "%s", o->cc);
	cc.tcp.no_sack = o->no_sack;
	cc.tcp.mss = (uint16_t)o->mss;
	/* Buffers large enough for the path's BDP (x4 for recovery headroom). */
	double bdp = o->rate_mbit * 1e6 / 8 * o->rtt_ms / 1e3;
	uint32_t buf = (uint32_t)(bdp * 4 > 256 * 1024 ? bdp * 4 : 256 * 1024);
	cc.tcp.sndbuf = cc.tcp.rcvbuf = buf;
	sc = cc;
	(void)mpt_addr_parse(&sc.local[0], "10.0.0.2");

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
	struct mpt_sim_link_cfg fwd, rev;
	memset(&fwd, 0, sizeof(fwd));
	fwd.rate_bps = (uint64_t)(o->rate_mbit * 1e6);
	fwd.delay_ns = (uint64_t)(o->rtt_ms * 1e6 / 2);
	/* Droptail queue of one BDP (at least 64 packets). */
	fwd.queue_bytes = (uint32_t)(bdp > 64 * 1500 ? bdp : 64 * 1500);
	rev = fwd;
	fwd.loss = o->loss_pct / 100;
	fwd.reorder = o->reorder_pct / 100;
	fwd.reorder_delay_ns = 2000000;
	rc = mpt_sim_connect(sim, mpt_simhost_node(client), &cc.local[0], mpt_simhost_node(server),
			     &sc.local[0], &fwd, &rev, NULL, NULL);
	if (rc == 0 && o->pcap && (rc = mpt_sim_pcap_open(sim, o->pcap)) < 0)
		fprintf(stderr, "mpt sim: cannot write pcap %s\n", o->pcap);
	FILE *csv = NULL;
	if (rc == 0 && o->csv) {
		csv = fopen(o->csv, "w");
		if (!csv) {
			fprintf(stderr, "mpt sim: cannot write %s: %s\n", o->csv, strerror(errno));
			rc = MPT_ERR_INVAL;
		} else {
			fprintf(csv, "time_s,bytes,mbit_s\n");
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
	printf("mpt sim: %.1f MiB over %.0f Mbit/s, RTT %.0f ms, loss %.2f%%, reorder %.2f%%, "
	       "cc %s, SACK %s, seed %" PRIu64 "\n",
	       o->size_mib, o->rate_mbit, o->rtt_ms, o->loss_pct, o->reorder_pct, o->cc,
	       o->no_sack ? "off" : "on", o->seed);
	struct reporter rep = {
	    .bulk = bulk, .interval_ns = (uint64_t)(o->interval_s * 1e9), .csv = csv};
	(void)mpt_sim_at(sim, rep.interval_ns, report_tick, &rep);
	double w0 = wall_s();
	(void)mpt_sim_run(sim, (uint64_t)(o->limit_s * 1e9), mpt_bulk_done, bulk);
	double wall = wall_s() - w0;
	rep.stopped = true;

	struct mpt_bulk_result res;
	mpt_bulk_result(bulk, &res);
	struct mpt_sock_info info;
	memset(&info, 0, sizeof(info));
	struct mpt_sock *cs = mpt_bulk_client_sock(bulk);
	if (cs)
		(void)mpt_sock_info(cs, &info);
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
	printf("sender: srtt %.2f ms, cwnd %u B, retransmits %u (fast %u, timeouts %u)\n",
	       (double)info.srtt_ns / 1e6, info.snd_cwnd, info.total_retrans, info.fast_retrans,
	       info.rto_count);
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
	struct sim_opts o = {.size_mib = 16,
			     .rate_mbit = 100,
			     .rtt_ms = 20,
			     .seed = 1,
			     .cc = "cubic",
			     .mss = 1460,
			     .interval_s = 1,
			     .limit_s = 3600};
	static const struct option lopts[] = {{"size", required_argument, NULL, 's'},
					      {"rate", required_argument, NULL, 'r'},
					      {"rtt", required_argument, NULL, 't'},
					      {"loss", required_argument, NULL, 'l'},
					      {"reorder", required_argument, NULL, 'o'},
					      {"seed", required_argument, NULL, 'S'},
					      {"cc", required_argument, NULL, 'c'},
					      {"no-sack", no_argument, NULL, 'n'},
					      {"mss", required_argument, NULL, 'm'},
					      {"interval", required_argument, NULL, 'i'},
					      {"limit", required_argument, NULL, 'L'},
					      {"pcap", required_argument, NULL, 'p'},
					      {"csv", required_argument, NULL, 'C'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	int c;
	double v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_double("--size", optarg, 0.001, 1 << 20, &o.size_mib))
				return 2;
			break;
		case 'r':
			if (parse_double("--rate", optarg, 0.01, 1e6, &o.rate_mbit))
				return 2;
			break;
		case 't':
			if (parse_double("--rtt", optarg, 0, 1e5, &o.rtt_ms))
				return 2;
			break;
		case 'l':
			if (parse_double("--loss", optarg, 0, 50, &o.loss_pct))
				return 2;
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
	return run(&o);
}
