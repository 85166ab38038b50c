/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Randomized simulator soak (issue 10).
 *
 * Each seed draws a whole scenario and runs it in the deterministic
 * simulator through the public API (mpt/mpt.h, mpt/sim.h) with the
 * application logic below:
 *
 *   topology     1-4 paths (client address i <-> server address i), rate,
 *                RTT, jitter, loss per direction, reordering, droptail
 *                queue, scheduled outages (one or both directions), links
 *                taken down and up again, and every middlebox kind of
 *                mpt/sim.h (option strip, sequence offset, NAT,
 *                resegmentation, coalescing, payload corruption, drop of
 *                unknown options), from the start or added mid-connection;
 *   options      MPTCP on/off per side, v0/v1, accepted versions, DSS
 *                checksums, scheduler, congestion control, path manager
 *                (with kernel-like endpoint flags, and an application
 *                acting as the external PM for "none"), subflow limits,
 *                buffers, MSS, SACK/timestamps/Nagle/delayed ACK, races;
 *   application  bytes each way (0, 1, odd, boundaries, up to 6 MiB);
 *                one write / many tiny writes / large writes / random;
 *                prompt, slow, paused readers and one side that writes
 *                everything before it reads; read sizes from 1 byte;
 *                half-close client first, server first or both at once;
 *                an abort by either side at a drawn point;
 *   IDSN         normal, or forced near 2^64 (a link-time wrapper of
 *                mpt_key_token_idsn, see CMakeLists.txt) so that the data
 *                sequence number wraps inside the transfer.
 *
 * Per seed it asserts: every byte each way equals what the peer wrote
 * (compared as it is read); both applications finish within a simulated
 * time budget derived from the drawn topology; the application callback is
 * never entered from inside a socket call (the mpt.h event rule); both
 * stacks go idle after the close; nothing is left in the counting
 * allocator.  Sanitizer reports abort the seed's process (each seed runs in
 * a child process in batch mode), which is reported as a crash.
 *
 * Usage:
 *   soak_test                      the CI sample (seeds 1..50)
 *   soak_test --seeds 1-2000 -j 2 --tsv out.tsv
 *   soak_test --seed 17 -v         one seed with a trace of the run
 *   soak_test --seed 17 --shrink   simplest variant that fails the same way
 *   soak_test --seed 17 --simplify 0x41 --size-shift 3 -v
 * Every failure prints its class, the drawn scenario and the command that
 * reproduces it.
 */
#define _DEFAULT_SOURCE 1
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/splitmix.h"
#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "testmem.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * KIB)
#define US  UINT64_C(1000)
#define MS  UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

#define MAXP     4
#define MAXBOX   12
#define PORT     5001
#define CI_FIRST 1
#define CI_COUNT 50

/* Abort a seed that processes this many simulator events (a timer that
 * re-arms itself at the same instant, or a packet storm). */
#define EVENT_LIMIT UINT64_C(60000000)

/* ======================================================================
 * Random draws (independent of the simulator's own streams)
 * ==================================================================== */

struct rng {
	uint64_t x;
};

static uint64_t rnext(struct rng *r)
{
	return mpt_splitmix64(&r->x);
}

/* Uniform in [lo, hi]. */
static uint64_t rrange(struct rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + rnext(r) % (hi - lo + 1);
}

static double runit(struct rng *r)
{
	return (double)(rnext(r) >> 11) * 0x1.0p-53;
}

static bool rchance(struct rng *r, double p)
{
	return runit(r) < p;
}

/* Log-uniform in [lo, hi]. */
static uint64_t rlog(struct rng *r, uint64_t lo, uint64_t hi)
{
	double a = log((double)lo), b = log((double)hi);

	return (uint64_t)llround(exp(a + (b - a) * runit(r)));
}

/* Index drawn with the given weights. */
static int rpick(struct rng *r, const double *w, int n)
{
	double sum = 0, x;

	for (int i = 0; i < n; i++)
		sum += w[i];
	x = runit(r) * sum;
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* Pattern streams: byte i of a stream is a function of (seed, i): 8-byte
 * block k is the first splitmix64 output from state seed + k. */
static uint64_t mix(uint64_t x)
{
	return mpt_splitmix64(&x);
}

static uint8_t *make_stream(uint64_t seed, uint64_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (!p)
		abort();
	for (uint64_t i = 0; i < len; i += 8) {
		uint64_t v = mix(seed + i / 8);

		for (uint64_t j = 0; j < 8 && i + j < len; j++)
			p[i + j] = (uint8_t)(v >> (8 * j));
	}
	return p;
}

/* ======================================================================
 * The drawn scenario
 * ==================================================================== */

enum wmode { W_ONE, W_TINY, W_LARGE, W_RANDOM, W_N };
enum rmode { R_PROMPT, R_SLOW, R_PAUSED, R_LATE, R_N };
enum hclose { HC_CLIENT_FIRST, HC_SERVER_FIRST, HC_BOTH, HC_N };

static const char *const wmode_name[W_N] = {"one", "tiny", "large", "random"};
static const char *const rmode_name[R_N] = {"prompt", "slow", "paused", "late"};
static const char *const hc_name[HC_N] = {"client-first", "server-first", "both"};
static const char *const sched_names[] = {"minrtt", "rr", "redundant", "ecf"};
static const char *const cc_names[] = {"reno", "cubic", "lia", "olia", "balia"};
static const char *const pm_names[] = {"fullmesh", "ndiffports", "endpoints", "none", "mobility"};

/* Box kinds as drawn (a superset of mpt_sim_mbox_kind: strip has variants). */
enum bkind {
	B_STRIP_MPTCP_SYN, /* option 30 stripped from SYNs */
	B_STRIP_MPTCP,     /* option 30 stripped from every segment */
	B_STRIP_OTHER_SYN, /* window scale, SACK-permitted or timestamps off SYNs */
	B_STRIP_SACK,      /* SACK blocks stripped from every segment */
	B_SEQ_OFFSET,
	B_NAT,
	B_RESEGMENT,
	B_COALESCE,
	B_CORRUPT,
	B_DROP_UNKNOWN,
	B_N
};

static const char *const bkind_name[B_N] = {"strip30syn", "strip30", "stripsyn", "stripsack",
					    "seqoff",     "nat",     "reseg",    "coal",
					    "corrupt",    "dropunk"};

struct box_draw {
	enum bkind kind;
	size_t path;
	bool rev;    /* on the server -> client direction */
	uint64_t at; /* 0: from the start; else added at this time */
	struct mpt_sim_mbox_cfg cfg;
};

struct path_draw {
	uint64_t rate_bps;
	uint64_t delay_ns; /* one way */
	uint64_t jitter_ns;
	double loss[2]; /* 0: client -> server, 1: server -> client */
	double reorder;
	uint64_t reorder_ns;
	uint32_t queue_bytes;
	struct mpt_sim_outage out[2][2]; /* [dir][i] */
	size_t n_out[2];
	uint64_t down_at, up_at; /* admin down-up of both directions (0: none) */
	double dup;              /* duplication probability (both directions) */
	uint64_t dup_ns;         /* delay of the copy */
};

struct side_draw {
	uint64_t bytes;
	enum wmode wm;
	uint32_t wchunk; /* W_LARGE chunk */
	enum rmode rm;
	uint32_t rbuf;        /* read size */
	uint64_t slow_ns;     /* R_SLOW period */
	uint32_t slow_chunk;  /* R_SLOW bytes per period */
	uint64_t pause_every; /* R_PAUSED */
	uint64_t pause_ns;    /* R_PAUSED */
	bool close_only;      /* no shutdown: mpt_close once EOF is in */
	bool abort;           /* this side aborts ... */
	uint64_t abort_after; /* ... once tx + rx bytes reach this */
	bool mptcp;           /* enable */
	uint8_t version;      /* client: version offered */
	uint8_t accept;       /* server: accept_versions */
	bool csum;
	char sched[16], cc[16], pm[16];
	uint8_t max_subflows;
	uint8_t ndiffports;
	uint8_t flags[MAXP]; /* endpoints: local flags */
	bool pm_open[MAXP];  /* pm "none": application opens / announces */
	bool fastclose_ack;
	bool race;
	uint64_t race_ns;
	uint32_t sndbuf, rcvbuf;
	uint16_t mss;
	bool no_sack, no_ts, nagle, no_delack;
	uint64_t msl_ns;
};

struct draw {
	uint64_t seed;
	bool v6;
	size_t npaths;
	struct path_draw p[MAXP];
	struct box_draw box[MAXBOX];
	size_t nbox;
	struct side_draw side[2]; /* 0 client, 1 server */
	enum hclose hc;
	bool idsn_wrap;
	uint64_t idsn_back; /* IDSN = 2^64 - idsn_back - (key & 0xfff) */
	uint64_t budget_ns, cap_ns;
	/* the simplifications applied (for the summary / repro line) */
	uint32_t simplify;
	unsigned size_shift;
};

/* Simplifications (--simplify mask bits), applied after the draw so that
 * the random stream (and everything not simplified) stays the same. */
enum simp {
	S_NO_LOSS,
	S_NO_REORDER,
	S_NO_JITTER,
	S_NO_OUTAGE,
	S_NO_ADMIN,
	S_NO_BOXES,
	S_ONE_PATH,
	S_PROMPT_READ,
	S_SIMPLE_WRITE,
	S_NO_ABORT,
	S_NO_CSUM,
	S_SCHED_DEFAULT,
	S_CC_DEFAULT,
	S_PM_DEFAULT,
	S_TCP_DEFAULT,
	S_BIG_SNDBUF,
	S_V4,
	S_NO_UPLOAD,   /* client sends nothing */
	S_NO_DOWNLOAD, /* server sends nothing */
	S_FAST_LINKS,
	S_HC_BOTH,
	S_IDSN_NORMAL,
	S_NO_MPTCP, /* plain TCP both sides (a differential baseline) */
	S_BIG_RCVBUF,
	S_MPTCP_V1, /* client offers v1, server accepts both */
	S_NO_DUP,
	S_NO_NAGLE,
	S_N
};

static const char *const simp_name[] = {
    "no-loss",     "no-reorder",  "no-jitter",    "no-outage",   "no-admin", "no-boxes",
    "one-path",    "prompt-read", "simple-write", "no-abort",    "no-csum",  "sched-default",
    "cc-default",  "pm-default",  "tcp-default",  "big-sndbuf",  "v4",       "no-upload",
    "no-download", "fast-links",  "hc-both",      "idsn-normal", "no-mptcp", "big-rcvbuf",
    "v1",          "no-dup",      "no-nagle"};

_Static_assert(sizeof(simp_name) / sizeof(simp_name[0]) == S_N, "a name per simplification");

static uint64_t draw_size(struct rng *r)
{
	static const double w[] = {0.08, 0.08, 0.12, 0.10, 0.42, 0.20};
	static const uint64_t edges[] = {1000,  1023,  1024,  1025,  1459,  1460,  1461,  12000,
					 16383, 16384, 16385, 65535, 65536, 65537, 262144};

	switch (rpick(r, w, 6)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return rrange(r, 2, 2000) | 1; /* small, odd */
	case 3:
		return edges[rrange(r, 0, sizeof(edges) / sizeof(edges[0]) - 1)];
	case 4:
		return rlog(r, 2 * KIB, 1 * MIB);
	default:
		return rlog(r, 1 * MIB, 6 * MIB);
	}
}

static void set_name(char *dst, const char *src)
{
	snprintf(dst, 16, "%s", src);
}

static void draw_addr(struct mpt_addr *a, bool v6, size_t path, int host)
{
	char t[64];

	if (v6)
		snprintf(t, sizeof(t), "2001:db8:%zu::%d", path + 1, host);
	else
		snprintf(t, sizeof(t), "10.0.%zu.%d", path + 1, host);
	if (mpt_addr_parse(a, t) < 0)
		abort();
}

static void nat_addr(struct mpt_addr *a, bool v6, size_t path)
{
	char t[64];

	if (v6)
		snprintf(t, sizeof(t), "2001:db8:ff::%zu", path + 10);
	else
		snprintf(t, sizeof(t), "192.0.2.%zu", path + 10);
	if (mpt_addr_parse(a, t) < 0)
		abort();
}

static void draw_side(struct rng *r, struct side_draw *s, bool server, size_t npaths)
{
	static const double ww[W_N] = {0.25, 0.15, 0.30, 0.30};
	static const double rw[R_N] = {0.40, 0.20, 0.20, 0.20};
	static const double pmw[] = {0.35, 0.15, 0.20, 0.15, 0.15};

	s->bytes = draw_size(r);
	s->wm = (enum wmode)rpick(r, ww, W_N);
	if (s->wm == W_TINY && s->bytes > 256 * KIB)
		s->wm = W_RANDOM; /* a tiny write per segment: bounded cost */
	s->wchunk = (uint32_t)rlog(r, 64 * KIB, 1 * MIB);
	s->rm = (enum rmode)rpick(r, rw, R_N);
	s->rbuf = (uint32_t)(rchance(r, 0.1) ? rrange(r, 1, 16) : rlog(r, 64, 64 * KIB));
	s->slow_ns = rrange(r, 1, 20) * MS;
	s->slow_chunk = (uint32_t)rlog(r, 512, 16 * KIB);
	s->pause_every = rlog(r, 16 * KIB, 4 * MIB);
	s->pause_ns = rlog(r, 20 * MS, 1000 * MS);
	s->close_only = rchance(r, 0.3);
	s->abort = false;
	s->abort_after = 0;
	s->mptcp = rchance(r, 0.95);
	s->version = rchance(r, 0.7) ? 1 : 0;
	{
		static const double aw[] = {0.9, 0.05, 0.05};
		static const uint8_t av[] = {MPT_MPTCP_ACCEPT_V0 | MPT_MPTCP_ACCEPT_V1,
					     MPT_MPTCP_ACCEPT_V1, MPT_MPTCP_ACCEPT_V0};

		s->accept = av[rpick(r, aw, 3)];
	}
	s->csum = rchance(r, 0.3);
	set_name(s->sched, sched_names[rrange(r, 0, 3)]);
	set_name(s->cc, cc_names[rrange(r, 0, 4)]);
	set_name(s->pm, pm_names[rpick(r, pmw, 5)]);
	s->max_subflows = (uint8_t)rrange(r, 1, 8);
	s->ndiffports = (uint8_t)rrange(r, 1, 4);
	for (size_t i = 0; i < MAXP; i++) {
		uint8_t f = 0;

		if (server) {
			if (rchance(r, 0.7))
				f |= MPT_LOCAL_SIGNAL;
		} else {
			if (rchance(r, 0.7))
				f |= MPT_LOCAL_SUBFLOW;
			if (rchance(r, 0.3))
				f |= MPT_LOCAL_FULLMESH;
		}
		if (i > 0 && rchance(r, 0.15))
			f |= MPT_LOCAL_BACKUP;
		s->flags[i] = f;
		s->pm_open[i] = rchance(r, 0.8);
	}
	s->fastclose_ack = rchance(r, 0.5);
	s->race = !server && npaths > 1 && rchance(r, 0.1);
	s->race_ns = rlog(r, 5 * MS, 1000 * MS);
	s->sndbuf = (uint32_t)rlog(r, 8 * KIB, 2 * MIB);
	s->rcvbuf = (uint32_t)rlog(r, 8 * KIB, 2 * MIB);
	s->mss = rchance(r, 0.3) ? (uint16_t)rrange(r, 536, 1460) : 0;
	s->no_sack = rchance(r, 0.15);
	s->no_ts = rchance(r, 0.15);
	s->nagle = rchance(r, 0.15);
	s->no_delack = rchance(r, 0.15);
	s->msl_ns = rrange(r, 100, 1000) * MS;
}

static void draw_outage(struct rng *r, struct mpt_sim_outage *o, uint64_t horizon)
{
	o->down_at = rrange(r, 1 * MS, horizon);
	o->up_at = o->down_at + rlog(r, 10 * MS, 5 * SEC);
}

static void draw_box(struct rng *r, struct draw *d, struct box_draw *b)
{
	static const double w[B_N] = {0.06, 0.08, 0.08, 0.05, 0.12, 0.12, 0.16, 0.16, 0.10, 0.07};

	memset(b, 0, sizeof(*b));
	b->kind = (enum bkind)rpick(r, w, B_N);
	b->path = rrange(r, 0, d->npaths - 1);
	b->rev = rchance(r, 0.3);
	switch (b->kind) {
	case B_STRIP_MPTCP_SYN:
		b->cfg.kind = MPT_SIM_MBOX_STRIP_OPT;
		b->cfg.opt_kind = 30;
		b->cfg.syn_only = true;
		b->rev = false;
		break;
	case B_STRIP_MPTCP:
		b->cfg.kind = MPT_SIM_MBOX_STRIP_OPT;
		b->cfg.opt_kind = 30;
		if (rchance(r, 0.6))
			b->at = rrange(r, 5 * MS, 3 * SEC);
		break;
	case B_STRIP_OTHER_SYN: {
		static const uint8_t k[] = {3, 4, 8};

		b->cfg.kind = MPT_SIM_MBOX_STRIP_OPT;
		b->cfg.opt_kind = k[rrange(r, 0, 2)];
		b->cfg.syn_only = true;
		/* Only on the SYN: a SYN/ACK losing an option the SYN had leaves
		 * the two ends disagreeing (RFC 7323 window scale): a broken
		 * network, not a case a transport can repair. */
		b->rev = false;
		break;
	}
	case B_STRIP_SACK:
		b->cfg.kind = MPT_SIM_MBOX_STRIP_OPT;
		b->cfg.opt_kind = 5;
		break;
	case B_SEQ_OFFSET:
		b->cfg.kind = MPT_SIM_MBOX_SEQ_OFFSET;
		b->cfg.delta = (uint32_t)rnext(r); /* two-way: both directions */
		break;
	case B_NAT:
		b->cfg.kind = MPT_SIM_MBOX_NAT;
		nat_addr(&b->cfg.nat_addr, d->v6, b->path);
		b->cfg.nat_port_base = (uint16_t)rrange(r, 20000, 60000);
		b->rev = false; /* the client is behind it */
		break;
	case B_RESEGMENT:
		b->cfg.kind = MPT_SIM_MBOX_RESEGMENT;
		b->cfg.seg_size = (uint32_t)rlog(r, 64, 1400);
		if (rchance(r, 0.3))
			b->at = rrange(r, 5 * MS, 3 * SEC);
		break;
	case B_COALESCE:
		b->cfg.kind = MPT_SIM_MBOX_COALESCE;
		b->cfg.hold_ns = rlog(r, 50 * US, 2 * MS);
		b->cfg.coalesce_max = (uint32_t)rlog(r, 1000, 16000);
		if (rchance(r, 0.3))
			b->at = rrange(r, 5 * MS, 3 * SEC);
		break;
	case B_CORRUPT:
		b->cfg.kind = MPT_SIM_MBOX_CORRUPT;
		b->cfg.corrupt_nth = rlog(r, 1, 3000);
		b->cfg.corrupt_xor = (uint8_t)rrange(r, 1, 255);
		break;
	case B_DROP_UNKNOWN: {
		static const uint8_t ok[] = {0, 1, 2, 3, 4, 5, 8};

		b->cfg.kind = MPT_SIM_MBOX_DROP_UNKNOWN_OPT;
		for (size_t i = 0; i < sizeof(ok); i++)
			mpt_sim_opt_allow(b->cfg.allowed, ok[i]);
		break;
	}
	case B_N:
		break;
	}
}

/* Does the scenario let a corrupted byte through unnoticed?  Then a CORRUPT
 * box proves nothing about the engine and is not drawn. */
static bool corrupt_detectable(const struct draw *d)
{
	if (!d->side[0].mptcp || !d->side[1].mptcp)
		return false;
	if (!d->side[0].csum && !d->side[1].csum)
		return false;
	if ((d->side[1].accept &
	     (d->side[0].version ? MPT_MPTCP_ACCEPT_V1 : MPT_MPTCP_ACCEPT_V0)) == 0)
		return false; /* falls back to TCP */
	for (size_t i = 0; i < d->nbox; i++) {
		enum bkind k = d->box[i].kind;

		if (k == B_STRIP_MPTCP_SYN || k == B_STRIP_MPTCP || k == B_DROP_UNKNOWN)
			return false;
	}
	return true;
}

static void apply_simplify(struct draw *d);
static void compute_budget(struct draw *d);

static void draw_scenario(uint64_t seed, uint32_t simplify, unsigned size_shift, struct draw *d)
{
	struct rng r = {seed * UINT64_C(0x2545f4914f6cdd1d) + 0x5eed};

	memset(d, 0, sizeof(*d));
	d->seed = seed;
	d->simplify = simplify;
	d->size_shift = size_shift;
	d->v6 = rchance(&r, 0.25);
	d->npaths = (size_t)rrange(&r, 1, MAXP);
	for (size_t i = 0; i < d->npaths; i++) {
		struct path_draw *p = &d->p[i];
		double bdp;

		p->rate_bps = rlog(&r, 1000000, 200000000);
		p->delay_ns = rlog(&r, 500 * US, 100 * MS);
		p->jitter_ns = rchance(&r, 0.3) ? rlog(&r, 10 * US, p->delay_ns / 2 + 10 * US) : 0;
		for (int dir = 0; dir < 2; dir++)
			p->loss[dir] = rchance(&r, 0.35) ? runit(&r) * 0.03 : 0.0;
		if (rchance(&r, 0.25)) {
			p->reorder = runit(&r) * 0.05;
			p->reorder_ns = rlog(&r, 100 * US, 2 * p->delay_ns + 1 * MS);
		}
		bdp = (double)p->rate_bps / 8 * 2 * (double)p->delay_ns / 1e9;
		p->queue_bytes = (uint32_t)fmax(bdp * (0.5 + 3.5 * runit(&r)), 16 * 1500);
		for (int dir = 0; dir < 2; dir++) {
			p->n_out[dir] = 0;
			if (rchance(&r, 0.15)) {
				p->n_out[dir] = (size_t)rrange(&r, 1, 2);
				for (size_t k = 0; k < p->n_out[dir]; k++)
					draw_outage(&r, &p->out[dir][k], 8 * SEC);
			}
		}
		if (rchance(&r, 0.1)) {
			p->down_at = rrange(&r, 1 * MS, 8 * SEC);
			p->up_at = p->down_at + rlog(&r, 10 * MS, 5 * SEC);
		}
	}
	/*
	 * Features added after the first release of the soak draw from their
	 * own stream, so that every earlier seed keeps its scenario.
	 */
	{
		struct rng r2 = {seed * UINT64_C(0x9e6c63d0676a9a99) + 0xd0b1e};

		for (size_t i = 0; i < d->npaths; i++) {
			struct path_draw *p = &d->p[i];

			if (rchance(&r2, 0.1)) {
				p->dup = runit(&r2) * 0.03;
				p->dup_ns = rlog(&r2, 10 * US, 2 * p->delay_ns + 10 * US);
			}
		}
	}
	draw_side(&r, &d->side[0], false, d->npaths);
	draw_side(&r, &d->side[1], true, d->npaths);
	/* One side at most reads only after writing everything: two would
	 * deadlock in any transport once both wrote more than the buffers. */
	if (d->side[0].rm == R_LATE && d->side[1].rm == R_LATE)
		d->side[rrange(&r, 0, 1)].rm = R_PROMPT;
	d->hc = (enum hclose)rrange(&r, 0, HC_N - 1);
	if (rchance(&r, 0.08)) {
		int who = (int)rrange(&r, 0, 1);
		uint64_t tot = d->side[0].bytes + d->side[1].bytes;

		d->side[who].abort = true;
		d->side[who].abort_after = rrange(&r, 0, tot + tot / 8);
	}
	d->nbox = 0;
	if (rchance(&r, 0.45)) {
		size_t n = (size_t)rrange(&r, 1, 3);

		for (size_t i = 0; i < n && d->nbox < MAXBOX; i++)
			draw_box(&r, d, &d->box[d->nbox++]);
	}
	d->idsn_wrap = rchance(&r, 0.3);
	{
		uint64_t big =
		    d->side[0].bytes > d->side[1].bytes ? d->side[0].bytes : d->side[1].bytes;
		static const double w[] = {0.3, 0.5, 0.2};

		switch (rpick(&r, w, 3)) {
		case 0:
			d->idsn_back = rrange(&r, 0, 64);
			break;
		case 1:
			d->idsn_back = rrange(&r, 0, big + 1);
			break;
		default:
			d->idsn_back = rrange(&r, 0, 4 * MIB);
			break;
		}
	}
	/* Remove CORRUPT boxes where the corruption cannot be detected. */
	if (!corrupt_detectable(d)) {
		size_t j = 0;

		for (size_t i = 0; i < d->nbox; i++)
			if (d->box[i].kind != B_CORRUPT)
				d->box[j++] = d->box[i];
		d->nbox = j;
	}
	apply_simplify(d);
	compute_budget(d);
}

static void apply_simplify(struct draw *d)
{
	uint32_t m = d->simplify;

#define ON(b) (m & (UINT32_C(1) << (b)))
	for (size_t i = 0; i < MAXP; i++) {
		struct path_draw *p = &d->p[i];

		if (ON(S_NO_LOSS))
			p->loss[0] = p->loss[1] = 0;
		if (ON(S_NO_REORDER))
			p->reorder = 0;
		if (ON(S_NO_JITTER))
			p->jitter_ns = 0;
		if (ON(S_NO_DUP))
			p->dup = 0;
		if (ON(S_NO_OUTAGE))
			p->n_out[0] = p->n_out[1] = 0;
		if (ON(S_NO_ADMIN))
			p->down_at = p->up_at = 0;
		if (ON(S_FAST_LINKS)) {
			p->rate_bps = 100000000;
			p->delay_ns = 5 * MS;
			p->queue_bytes = 1 * MIB;
		}
	}
	if (ON(S_NO_BOXES))
		d->nbox = 0;
	if (ON(S_ONE_PATH)) {
		size_t j = 0;

		d->npaths = 1;
		for (size_t i = 0; i < d->nbox; i++)
			if (d->box[i].path == 0)
				d->box[j++] = d->box[i];
		d->nbox = j;
	}
	if (ON(S_V4) && d->v6) {
		d->v6 = false;
		for (size_t i = 0; i < d->nbox; i++)
			if (d->box[i].kind == B_NAT)
				nat_addr(&d->box[i].cfg.nat_addr, false, d->box[i].path);
	}
	if (ON(S_HC_BOTH))
		d->hc = HC_BOTH;
	if (ON(S_IDSN_NORMAL))
		d->idsn_wrap = false;
	if (ON(S_NO_MPTCP))
		d->side[0].mptcp = d->side[1].mptcp = false;
	if (ON(S_MPTCP_V1)) {
		d->side[0].version = 1;
		d->side[1].accept = MPT_MPTCP_ACCEPT_V0 | MPT_MPTCP_ACCEPT_V1;
	}
	if (ON(S_NO_UPLOAD))
		d->side[0].bytes = 0;
	if (ON(S_NO_DOWNLOAD))
		d->side[1].bytes = 0;
	for (int s = 0; s < 2; s++) {
		struct side_draw *sd = &d->side[s];

		sd->bytes >>= d->size_shift;
		if (ON(S_PROMPT_READ)) {
			sd->rm = R_PROMPT;
			sd->rbuf = 64 * KIB;
		}
		if (ON(S_SIMPLE_WRITE))
			sd->wm = W_LARGE;
		if (ON(S_NO_ABORT))
			sd->abort = false;
		if (ON(S_NO_CSUM))
			sd->csum = false;
		if (ON(S_SCHED_DEFAULT))
			set_name(sd->sched, "minrtt");
		if (ON(S_CC_DEFAULT))
			set_name(sd->cc, "cubic");
		if (ON(S_PM_DEFAULT))
			set_name(sd->pm, "fullmesh");
		if (ON(S_TCP_DEFAULT)) {
			sd->mss = 0;
			sd->no_sack = sd->no_ts = sd->nagle = sd->no_delack = false;
			sd->race = false;
			sd->msl_ns = 30 * SEC; /* the stack's default */
		}
		if (ON(S_NO_NAGLE))
			sd->nagle = false;
		if (ON(S_BIG_SNDBUF))
			sd->sndbuf = 4 * MIB;
		if (ON(S_BIG_RCVBUF))
			sd->rcvbuf = 4 * MIB;
	}
	if (!corrupt_detectable(d)) {
		size_t j = 0;

		for (size_t i = 0; i < d->nbox; i++)
			if (d->box[i].kind != B_CORRUPT)
				d->box[j++] = d->box[i];
		d->nbox = j;
	}
#undef ON
}

/*
 * Simulated-time budget.  A deliberately pessimistic estimate of how long a
 * correct stack needs: every byte over the slowest path, its rate cut by a
 * loss-limited TCP rate (Mathis: 1.22 MSS / (RTT sqrt(p)), reordering
 * counted as loss) and by the window (smaller buffer / RTT); readers'
 * limits; outages with a full exponential back-off behind them; then x3
 * plus 10 s.  A run finishing after the budget is "slow"; one not
 * finished at cap (4 x budget + 120 s) is a hang.
 */
static void compute_budget(struct draw *d)
{
	double rtt = 0, rate = 1e12, loss = 0, t = 0, reseg = 1.0;

	for (size_t i = 0; i < d->npaths; i++) {
		const struct path_draw *p = &d->p[i];
		double prtt = 2.0 * (double)(p->delay_ns + p->jitter_ns) / 1e9;

		if (p->reorder > 0)
			prtt += (double)p->reorder_ns / 1e9;
		rtt = fmax(rtt, prtt);
		rate = fmin(rate, (double)p->rate_bps);
		loss = fmax(loss, fmax(p->loss[0], p->loss[1]) + p->reorder * 0.5 + p->dup * 0.5);
		for (int dir = 0; dir < 2; dir++)
			for (size_t k = 0; k < p->n_out[dir]; k++)
				t += 2.0 * (double)(p->out[dir][k].up_at - p->out[dir][k].down_at) /
					 1e9 +
				     2.0;
		if (p->up_at)
			t += 2.0 * (double)(p->up_at - p->down_at) / 1e9 + 2.0;
	}
	for (size_t i = 0; i < d->nbox; i++) {
		if (d->box[i].kind == B_RESEGMENT) {
			double s = d->box[i].cfg.seg_size;

			reseg = fmin(reseg, s / (s + 100.0));
		}
		if (d->box[i].kind == B_DROP_UNKNOWN || d->box[i].kind == B_STRIP_MPTCP)
			t += 10.0; /* MP_CAPABLE SYN retries, subflow timeouts */
	}
	rtt = fmax(rtt, 1e-3);
	t += 20.0 * rtt + 5.0; /* handshakes, slow start, joins, FIN exchange */
	for (int s = 0; s < 2; s++) {
		const struct side_draw *tx = &d->side[s], *rx = &d->side[!s];
		double bits = (double)tx->bytes * 8, tput = rate * reseg;
		double win = fmin(tx->sndbuf, rx->rcvbuf);

		if (loss > 0)
			tput = fmin(tput, 1200.0 * 8 * 1.22 / (rtt * sqrt(loss)));
		tput = fmin(tput, win * 8 / rtt);
		t += bits / tput;
		if (rx->rm == R_SLOW)
			t += (double)tx->bytes / rx->slow_chunk * (double)rx->slow_ns / 1e9;
		if (rx->rm == R_PAUSED)
			t += ((double)tx->bytes / (double)rx->pause_every + 1) *
			     (double)rx->pause_ns / 1e9;
		if (tx->wm == W_TINY)
			t += (double)tx->bytes / 8.0 * rtt / 64.0; /* a segment per write */
	}
	d->budget_ns = (uint64_t)((3.0 * t + 10.0) * 1e9);
	d->cap_ns = 4 * d->budget_ns + 120 * SEC;
}

static int fmt_secs(char *b, size_t n, uint64_t ns)
{
	return snprintf(b, n, "%.3gs", (double)ns / 1e9);
}

/* One-line summary of the scenario (printed with every failure). */
static void draw_summary(const struct draw *d, char *out, size_t n)
{
	size_t o = 0;
	char t1[32], t2[32];

#define P(...)                                                                                     \
	do {                                                                                       \
		if (o < n)                                                                         \
			o += (size_t)snprintf(out + o, n - o, __VA_ARGS__);                        \
	} while (0)
	P("%s %zu path%s", d->v6 ? "v6" : "v4", d->npaths, d->npaths > 1 ? "s" : "");
	for (size_t i = 0; i < d->npaths; i++) {
		const struct path_draw *p = &d->p[i];

		fmt_secs(t1, sizeof(t1), 2 * p->delay_ns);
		P(" [p%zu %.3gM rtt=%s", i, (double)p->rate_bps / 1e6, t1);
		if (p->jitter_ns)
			P(" jit=%.3gms", (double)p->jitter_ns / 1e6);
		if (p->loss[0] > 0 || p->loss[1] > 0)
			P(" loss=%.2f%%/%.2f%%", p->loss[0] * 100, p->loss[1] * 100);
		if (p->reorder > 0)
			P(" reord=%.2f%%+%.3gms", p->reorder * 100, (double)p->reorder_ns / 1e6);
		if (p->dup > 0)
			P(" dup=%.2f%%+%.3gms", p->dup * 100, (double)p->dup_ns / 1e6);
		for (int dir = 0; dir < 2; dir++)
			for (size_t k = 0; k < p->n_out[dir]; k++) {
				fmt_secs(t1, sizeof(t1), p->out[dir][k].down_at);
				fmt_secs(t2, sizeof(t2),
					 p->out[dir][k].up_at - p->out[dir][k].down_at);
				P(" out%s@%s+%s", dir ? "<" : ">", t1, t2);
			}
		if (p->up_at) {
			fmt_secs(t1, sizeof(t1), p->down_at);
			fmt_secs(t2, sizeof(t2), p->up_at - p->down_at);
			P(" down@%s+%s", t1, t2);
		}
		P("]");
	}
	for (size_t i = 0; i < d->nbox; i++) {
		const struct box_draw *b = &d->box[i];

		P(" box:%s@p%zu%s", bkind_name[b->kind], b->path, b->rev ? "<" : ">");
		switch (b->kind) {
		case B_STRIP_OTHER_SYN:
			P("(opt%u)", b->cfg.opt_kind);
			break;
		case B_RESEGMENT:
			P("(%u)", b->cfg.seg_size);
			break;
		case B_COALESCE:
			P("(%u,%.3gms)", b->cfg.coalesce_max, (double)b->cfg.hold_ns / 1e6);
			break;
		case B_CORRUPT:
			P("(#%" PRIu64 ")", b->cfg.corrupt_nth);
			break;
		case B_STRIP_MPTCP_SYN:
		case B_STRIP_MPTCP:
		case B_STRIP_SACK:
		case B_SEQ_OFFSET:
		case B_NAT:
		case B_DROP_UNKNOWN:
		case B_N:
			break;
		}
		if (b->at) {
			fmt_secs(t1, sizeof(t1), b->at);
			P("@%s", t1);
		}
	}
	for (int s = 0; s < 2; s++) {
		const struct side_draw *x = &d->side[s];

		P(" %s{", s ? "srv" : "cli");
		if (!x->mptcp)
			P("tcp");
		else if (s == 0)
			P("v%u", x->version);
		else
			P("acc%s%s", x->accept & MPT_MPTCP_ACCEPT_V0 ? "0" : "",
			  x->accept & MPT_MPTCP_ACCEPT_V1 ? "1" : "");
		if (x->csum)
			P(" csum");
		P(" %s %s %s", x->sched, x->cc, x->pm);
		if (!strcmp(x->pm, "endpoints")) {
			P("(");
			for (size_t i = 0; i < d->npaths; i++)
				P("%s%x", i ? "," : "", x->flags[i]);
			P(")");
		}
		if (!strcmp(x->pm, "ndiffports"))
			P("(%u)", x->ndiffports);
		P(" sf%u buf=%u/%u msl=%.3gs", x->max_subflows, x->sndbuf, x->rcvbuf,
		  (double)x->msl_ns / 1e9);
		if (x->mss)
			P(" mss=%u", x->mss);
		if (x->no_sack)
			P(" nosack");
		if (x->no_ts)
			P(" nots");
		if (x->nagle)
			P(" nagle");
		if (x->no_delack)
			P(" nodelack");
		if (x->race)
			P(" race=%.3gms", (double)x->race_ns / 1e6);
		P(" tx=%" PRIu64 " w=%s", x->bytes, wmode_name[x->wm]);
		if (x->wm == W_LARGE)
			P("(%u)", x->wchunk);
		P(" r=%s/%u", rmode_name[x->rm], x->rbuf);
		if (x->rm == R_SLOW)
			P("(%u per %.3gms)", x->slow_chunk, (double)x->slow_ns / 1e6);
		if (x->rm == R_PAUSED)
			P("(%.3gms per %" PRIu64 ")", (double)x->pause_ns / 1e6, x->pause_every);
		if (x->close_only)
			P(" closeonly");
		if (x->abort)
			P(" ABORT@%" PRIu64 "%s", x->abort_after, x->fastclose_ack ? "(ack)" : "");
		P("}");
	}
	P(" hc=%s", hc_name[d->hc]);
	if (d->idsn_wrap)
		P(" idsn=2^64-%" PRIu64 "-k", d->idsn_back);
	fmt_secs(t1, sizeof(t1), d->budget_ns);
	P(" budget=%s", t1);
#undef P
}

/* ======================================================================
 * IDSN wrapper (linked with -Wl,--wrap=mpt_key_token_idsn)
 * ==================================================================== */

int __real_mpt_key_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn);
int __wrap_mpt_key_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn);

static bool g_idsn_wrap;
static uint64_t g_idsn_back;

int __wrap_mpt_key_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn)
{
	int rc = __real_mpt_key_token_idsn(version, key, token, idsn);

	/* Both ends derive each other's IDSN from the key through this one
	 * function, so they agree on the shifted value. */
	if (rc == 0 && idsn && g_idsn_wrap)
		*idsn = UINT64_C(0) - g_idsn_back - (key & 0xfff);
	return rc;
}

/* ======================================================================
 * Hosts, applications, the run
 * ==================================================================== */

struct soak;

struct host {
	struct soak *k;
	int idx; /* 0 client, 1 server */
	struct mpt_stack *st;
	struct mpt_sim_node *node;
	struct mpt_addr addr[MAXP];
	int in_api;           /* socket call in progress (re-entrancy check) */
	const char *api_name; /* ... which one */
	unsigned close_rsts;  /* RSTs sent from inside the application's mpt_close */
};

struct side {
	struct soak *k;
	int idx;
	struct host *h;
	const struct side_draw *d;
	struct mpt_sock *s;
	const uint8_t *tx; /* what this side writes */
	const uint8_t *rx_expect;
	uint64_t rx_total; /* what the peer writes */
	uint8_t *rbuf;
	uint64_t tx_off, rx_off;
	bool connected, shut, eof, done, aborted, closed;
	int err;
	uint64_t t_eof, t_done;
	bool paused;
	uint64_t next_pause;
	bool tick_armed;
	bool pm_done;
	bool pm_ok[MAXP];
	unsigned pm_tries;
	/* integrity */
	bool err_expected; /* the peer had aborted, or err_strip */
	bool err_strip;    /* a reset strip_mid_every_path allows */
	bool eof_plain;    /* the connection was plain TCP when EOF was read */
	bool mismatch;
	uint64_t bad_off;
	bool overrun;
	bool truncated;
};

struct failure {
	bool reentry, corrupt, truncated, overrun, error, hang, slow, teardown, leak, spin, storm,
	    nomap;
	char reentry_what[96];
	char detail[600];
	char hang_class[32];
};

struct soak {
	const struct draw *d;
	bool verbose;
	struct mpt_test_mem cm;
	struct mpt_mem mem;
	struct mpt_sim *sim;
	struct host host[2];
	struct side side[2];
	struct mpt_sock *lsock;
	struct mpt_sim_link *lf[MAXP], *lr[MAXP];
	struct mpt_addr nat[MAXP];
	bool has_nat[MAXP];
	uint8_t *stream[2];
	uint64_t t_connect;
	unsigned extra_accepts;
	struct failure f;
	uint64_t sim_end;
	uint64_t events;
	bool spin;
};

static uint64_t know(const struct soak *k)
{
	return mpt_sim_now(k->sim);
}

static void vlog(const struct soak *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void vlog(const struct soak *k, const char *fmt, ...)
{
	va_list ap;

	if (!k->verbose)
		return;
	printf("  [%10.6f] ", (double)know(k) / 1e9);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *side_name(int i)
{
	return i ? "server" : "client";
}

/* ---- socket calls, each marked so that a callback inside is noticed ---- */
#define API(h, name, call)                                                                         \
	({                                                                                         \
		(h)->in_api++;                                                                     \
		(h)->api_name = (name);                                                            \
		__typeof__(call) api_rc_ = (call);                                                 \
		(h)->in_api--;                                                                     \
		api_rc_;                                                                           \
	})
#define API_VOID(h, name, call)                                                                    \
	do {                                                                                       \
		(h)->in_api++;                                                                     \
		(h)->api_name = (name);                                                            \
		call;                                                                              \
		(h)->in_api--;                                                                     \
	} while (0)

/* ---- node glue ---- */
static void host_output(void *ud, const uint8_t *pkt, size_t len)
{
	struct host *h = ud;
	struct soak *k = h->k;
	unsigned ifi = 0;
	struct mpt_addr a;

	memset(&a, 0, sizeof(a));
	/* Client: by source address (its access links).  Server: by
	 * destination (the client's address or its NAT address on path i), so
	 * both directions of a subflow use the same path. */
	if (len >= 20 && (pkt[0] >> 4) == 4) {
		a.family = 4;
		memcpy(a.bytes, pkt + (h->idx ? 16 : 12), 4);
	} else if (len >= 40 && (pkt[0] >> 4) == 6) {
		a.family = 6;
		memcpy(a.bytes, pkt + (h->idx ? 24 : 8), 16);
	}
	for (size_t i = 0; i < k->d->npaths; i++) {
		if (mpt_addr_equal(&a, &k->host[0].addr[i]) ||
		    (h->idx && k->has_nat[i] && mpt_addr_equal(&a, &k->nat[i]))) {
			ifi = (unsigned)i;
			break;
		}
	}
	/* A close after the application read everything must not reset. */
	if (h->in_api && !strcmp(h->api_name, "mpt_close")) {
		size_t thl = a.family == 4 ? (size_t)(pkt[0] & 0xf) * 4 : 40;

		if (a.family && len >= thl + 14 && (pkt[thl + 13] & 0x04))
			h->close_rsts++;
	}
	(void)mpt_sim_send_if(k->sim, h->node, ifi, pkt, len);
}

static void app_event(struct soak *k, int idx, struct mpt_sock *s, unsigned ev);

static void host_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct host *h = ud;
	struct soak *k = h->k;

	if (h->in_api && !k->f.reentry) {
		k->f.reentry = true;
		snprintf(k->f.reentry_what, sizeof(k->f.reentry_what),
			 "%s: on_event(0x%x) called inside %s at %.6f s", side_name(h->idx), ev,
			 h->api_name, (double)know(k) / 1e9);
		vlog(k, "REENTRY %s", k->f.reentry_what);
	}
	app_event(k, h->idx, s, ev);
}

static void node_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct host *h = ud;

	(void)ifindex;
	(void)mpt_stack_input(h->st, pkt, len, now);
}

static uint64_t node_deadline(void *ud)
{
	struct host *h = ud;

	return mpt_stack_next_deadline(h->st);
}

static void node_timer(void *ud, uint64_t now)
{
	struct host *h = ud;

	mpt_stack_on_timer(h->st, now);
}

static const struct mpt_sim_node_ops host_ops = {
    .input = node_input, .next_deadline = node_deadline, .on_timer = node_timer};

/* ---- application ---- */
static void side_pump(struct side *sd);

static void side_finish(struct side *sd, const char *why)
{
	struct soak *k = sd->k;

	if (sd->done)
		return;
	sd->done = true;
	sd->t_done = know(k);
	vlog(k, "%s done (%s): tx %" PRIu64 "/%" PRIu64 " rx %" PRIu64 "/%" PRIu64 "%s",
	     side_name(sd->idx), why, sd->tx_off, sd->d->bytes, sd->rx_off, sd->rx_total,
	     sd->eof ? " eof" : "");
}

static void side_close(struct side *sd)
{
	struct mpt_sock *s = sd->s;

	if (!s)
		return;
	sd->s = NULL;
	sd->closed = true;
	API_VOID(sd->h, "mpt_close", mpt_close(s, know(sd->k)));
}

/*
 * A box that starts stripping MPTCP's option in the middle of the
 * connection on every path: every subflow then carries data without
 * mappings.  RFC 8684 §3.7 allows falling back to TCP only on a connection
 * with one subflow and no data out of sequence; with more, each subflow
 * that loses its mappings is reset, and once all are gone so is the
 * connection (Linux does the same: it falls back only when no subflow was
 * ever joined).  A reset is then a correct outcome, a completed transfer
 * too (the box came before any join); a hang, a corrupted or truncated
 * stream never are.
 */
static bool strip_mid_every_path(const struct draw *d)
{
	bool mid = false;

	for (size_t p = 0; p < d->npaths; p++) {
		bool stripped = false;

		for (size_t i = 0; i < d->nbox; i++) {
			if (d->box[i].kind != B_STRIP_MPTCP || d->box[i].path != p)
				continue;
			stripped = true;
			mid |= d->box[i].at > 0;
		}
		if (!stripped)
			return false;
	}
	return mid;
}

static void side_error(struct side *sd, int err)
{
	struct soak *k = sd->k;

	if (!sd->err) {
		sd->err = err;
		sd->err_strip = !sd->k->side[!sd->idx].aborted && err == MPT_ERR_RESET &&
				strip_mid_every_path(k->d);
		sd->err_expected = sd->k->side[!sd->idx].aborted || sd->err_strip;
		vlog(k, "%s error %d (%s) tx %" PRIu64 " rx %" PRIu64, side_name(sd->idx), err,
		     mpt_strerror(err), sd->tx_off, sd->rx_off);
	}
	side_close(sd);
	side_finish(sd, "error");
}

static void check_abort(struct side *sd)
{
	struct soak *k = sd->k;

	if (!sd->d->abort || sd->aborted || !sd->s || !sd->connected)
		return;
	if (sd->tx_off + sd->rx_off < sd->d->abort_after)
		return;
	vlog(k, "%s aborts (tx %" PRIu64 " rx %" PRIu64 ")", side_name(sd->idx), sd->tx_off,
	     sd->rx_off);
	sd->aborted = true;
	{
		struct mpt_sock *s = sd->s;

		sd->s = NULL;
		API_VOID(sd->h, "mpt_abort", mpt_abort(s, know(k)));
	}
	side_finish(sd, "aborted");
	/* A server that has not accepted yet has nothing left to wait for. */
	if (sd->idx == 0 && !k->side[1].s)
		side_finish(&k->side[1], "peer aborted before accept");
}

static void verify(struct side *sd, const uint8_t *buf, size_t n)
{
	struct soak *k = sd->k;

	if (sd->rx_off + n > sd->rx_total) {
		if (!sd->overrun)
			vlog(k, "%s OVERRUN: %zu bytes at %" PRIu64 ", peer wrote %" PRIu64,
			     side_name(sd->idx), n, sd->rx_off, sd->rx_total);
		sd->overrun = true;
		n = sd->rx_off < sd->rx_total ? (size_t)(sd->rx_total - sd->rx_off) : 0;
	}
	if (!sd->mismatch && n && memcmp(buf, sd->rx_expect + sd->rx_off, n) != 0) {
		size_t i = 0;

		while (buf[i] == sd->rx_expect[sd->rx_off + i])
			i++;
		sd->mismatch = true;
		sd->bad_off = sd->rx_off + i;
		vlog(k,
		     "%s CORRUPT: byte %" PRIu64
		     " is 0x%02x, expected 0x%02x (read of %zu at %" PRIu64 ")",
		     side_name(sd->idx), sd->bad_off, buf[i], sd->rx_expect[sd->bad_off], n,
		     sd->rx_off);
	}
}

static void arm_tick(struct side *sd, uint64_t at);

/* Read as the side's mode allows now; returns false once the side is gone. */
static bool side_read(struct side *sd, uint64_t limit)
{
	struct soak *k = sd->k;
	uint64_t got = 0;

	while (sd->s && !sd->eof && got < limit) {
		size_t want = sd->d->rbuf;
		long rc;

		if (want > limit - got)
			want = (size_t)(limit - got);
		if (sd->d->rm == R_PAUSED && sd->rx_off < sd->next_pause &&
		    want > sd->next_pause - sd->rx_off)
			want = (size_t)(sd->next_pause - sd->rx_off);
		rc = API(sd->h, "mpt_recv", mpt_recv(sd->s, sd->rbuf, want, know(k)));
		if (rc > 0) {
			verify(sd, sd->rbuf, (size_t)rc);
			sd->rx_off += (uint64_t)rc;
			got += (uint64_t)rc;
			check_abort(sd);
			if (!sd->s)
				return false;
			if (sd->d->rm == R_PAUSED && sd->rx_off >= sd->next_pause) {
				sd->paused = true;
				sd->next_pause += sd->d->pause_every;
				vlog(k, "%s pauses reading at %" PRIu64, side_name(sd->idx),
				     sd->rx_off);
				arm_tick(sd, know(k) + sd->d->pause_ns);
				return true;
			}
			continue;
		}
		if (rc == 0) {
			sd->eof = true;
			sd->t_eof = know(k);
			sd->eof_plain = !mpt_sock_mptcp_enabled(sd->s);
			if (sd->rx_off < sd->rx_total)
				sd->truncated = true;
			vlog(k, "%s reads EOF at %" PRIu64 "%s", side_name(sd->idx), sd->rx_off,
			     sd->truncated ? " (TRUNCATED)" : "");
			break;
		}
		if (rc != MPT_ERR_AGAIN) {
			side_error(sd, (int)rc);
			return false;
		}
		break;
	}
	return true;
}

static size_t write_size(struct side *sd, uint64_t left)
{
	struct rng r = {sd->tx_off * 31 + sd->k->d->seed};
	uint64_t n;

	switch (sd->d->wm) {
	case W_ONE:
		n = left;
		break;
	case W_TINY:
		n = rrange(&r, 1, 16);
		break;
	case W_LARGE:
		n = sd->d->wchunk;
		break;
	case W_RANDOM:
	default:
		n = rlog(&r, 1, 64 * KIB);
		break;
	}
	return (size_t)(n < left ? n : left);
}

static void side_write(struct side *sd)
{
	struct soak *k = sd->k;

	while (sd->s && sd->connected && sd->tx_off < sd->d->bytes) {
		size_t n = write_size(sd, sd->d->bytes - sd->tx_off);
		long rc = API(sd->h, "mpt_send", mpt_send(sd->s, sd->tx + sd->tx_off, n, know(k)));

		if (rc > 0) {
			sd->tx_off += (uint64_t)rc;
			check_abort(sd);
			continue;
		}
		if (rc == 0 || rc == MPT_ERR_AGAIN)
			break;
		side_error(sd, (int)rc);
		break;
	}
}

/* May this side send its FIN now? */
static bool may_shut(const struct side *sd)
{
	const struct draw *d = sd->k->d;

	if (sd->tx_off < sd->d->bytes)
		return false;
	if (d->hc == HC_CLIENT_FIRST && sd->idx == 1)
		return sd->eof;
	if (d->hc == HC_SERVER_FIRST && sd->idx == 0)
		return sd->eof;
	return true;
}

/*
 * Path manager "none": the application is the external PM.  The client
 * opens a subflow from each other address to the server's address on the
 * same path, the server announces its other addresses.  A call refused
 * with MPT_ERR_STATE (not fully established yet) is tried again at later
 * pumps, a bounded number of times.
 */
static void side_pm(struct side *sd)
{
	struct soak *k = sd->k;
	const struct draw *d = k->d;
	bool again = false;

	if (sd->pm_done || !sd->s || strcmp(sd->d->pm, "none") != 0 || !sd->d->mptcp)
		return;
	if (!mpt_sock_mptcp_enabled(sd->s)) {
		sd->pm_done = true;
		return;
	}
	for (size_t i = 1; i < d->npaths; i++) {
		int rc;

		if (!sd->d->pm_open[i] || sd->pm_ok[i])
			continue;
		if (sd->idx == 0) {
			struct mpt_endpoint rem = {.addr = k->host[1].addr[i], .port = 0};

			rc = API(sd->h, "mpt_pm_subflow_open",
				 mpt_pm_subflow_open(sd->s, &k->host[0].addr[i], &rem,
						     (sd->d->flags[i] & MPT_LOCAL_BACKUP) != 0,
						     know(k)));
		} else {
			rc = API(sd->h, "mpt_pm_announce",
				 mpt_pm_announce(sd->s, &k->host[1].addr[i], know(k)));
		}
		vlog(k, "%s pm: %s path %zu -> %d", side_name(sd->idx),
		     sd->idx ? "announce" : "open", i, rc);
		if (rc == MPT_ERR_STATE && sd->pm_tries < 50)
			again = true;
		else
			sd->pm_ok[i] = true; /* done, or refused for good */
	}
	sd->pm_tries++;
	if (!again)
		sd->pm_done = true;
}

static void side_pump(struct side *sd)
{
	struct soak *k = sd->k;

	if (!sd->s || sd->done)
		return;
	check_abort(sd);
	if (!sd->s)
		return;
	side_pm(sd);
	side_write(sd);
	if (sd->s && !sd->eof && !sd->paused && sd->d->rm != R_SLOW &&
	    !(sd->d->rm == R_LATE && sd->tx_off < sd->d->bytes)) {
		if (!side_read(sd, UINT64_MAX))
			return;
	}
	if (sd->s && !sd->shut && may_shut(sd)) {
		if (sd->d->close_only && sd->eof) {
			/* The FIN comes with mpt_close below. */
			vlog(k, "%s closes without shutdown after %" PRIu64, side_name(sd->idx),
			     sd->tx_off);
			sd->shut = true;
		} else {
			int rc = API(sd->h, "mpt_shutdown", mpt_shutdown(sd->s, know(k)));

			vlog(k, "%s shutdown after %" PRIu64 " -> %d", side_name(sd->idx),
			     sd->tx_off, rc);
			sd->shut = true;
			if (rc < 0) {
				side_error(sd, rc);
				return;
			}
		}
	}
	if (sd->s && sd->eof && sd->shut && sd->tx_off == sd->d->bytes) {
		side_close(sd);
		side_finish(sd, "complete");
	}
}

/* Slow reader ticks and pause ends. */
static void tick_cb(struct mpt_sim *sim, void *arg)
{
	struct side *sd = arg;
	struct soak *k = sd->k;

	(void)sim;
	sd->tick_armed = false;
	if (!sd->s || sd->done)
		return;
	if (sd->paused) {
		sd->paused = false;
		vlog(k, "%s resumes reading at %" PRIu64, side_name(sd->idx), sd->rx_off);
	}
	if (sd->d->rm == R_SLOW && !sd->eof) {
		if (!side_read(sd, sd->d->slow_chunk))
			return;
		if (sd->s && !sd->eof && !sd->tick_armed)
			arm_tick(sd, know(k) + sd->d->slow_ns);
	}
	side_pump(sd);
}

static void arm_tick(struct side *sd, uint64_t at)
{
	if (sd->tick_armed)
		return;
	sd->tick_armed = true;
	if (mpt_sim_at(sd->k->sim, at, tick_cb, sd) < 0)
		abort();
}

static void accept_all(struct soak *k)
{
	struct mpt_sock *c;
	struct side *sd = &k->side[1];

	while ((c = API(&k->host[1], "mpt_accept", mpt_accept(k->lsock))) != NULL) {
		if (sd->s || sd->done) {
			/* A second connection (e.g. a join turned plain by a
			 * middlebox): not ours. */
			k->extra_accepts++;
			vlog(k, "server: extra connection accepted and closed");
			API_VOID(&k->host[1], "mpt_close", mpt_close(c, know(k)));
			continue;
		}
		sd->s = c;
		sd->connected = true;
		vlog(k, "server: accepted (mptcp %d)", mpt_sock_mptcp_enabled(c));
		if (sd->d->rm == R_SLOW)
			arm_tick(sd, know(k) + sd->d->slow_ns);
		side_pump(sd);
	}
}

static void app_event(struct soak *k, int idx, struct mpt_sock *s, unsigned ev)
{
	struct side *sd = &k->side[idx];

	if (idx == 1 && s == k->lsock) {
		if (ev & MPT_EV_ACCEPTABLE)
			accept_all(k);
		return;
	}
	if (s != sd->s)
		return;
	if ((ev & MPT_EV_CONNECTED) && !sd->connected) {
		sd->connected = true;
		k->t_connect = know(k);
		vlog(k, "%s connected (mptcp %d)", side_name(idx), mpt_sock_mptcp_enabled(s));
		if (sd->d->rm == R_SLOW)
			arm_tick(sd, know(k) + sd->d->slow_ns);
	}
	if (ev & MPT_EV_ERROR) {
		int e = mpt_sock_error(s);

		/* Data that arrived before the error is still read first. */
		if (sd->s && !sd->eof && sd->d->rm != R_LATE)
			(void)side_read(sd, UINT64_MAX);
		if (sd->s)
			side_error(sd, e ? e : MPT_ERR_RESET);
		return;
	}
	side_pump(sd);
}

/* ---- scheduled topology changes ---- */
struct sched_ev {
	struct soak *k;
	int kind; /* 0 admin down, 1 admin up, 2 add box */
	size_t idx;
};

static void add_box(struct soak *k, const struct box_draw *b)
{
	struct mpt_sim_link *fwd = b->rev ? k->lr[b->path] : k->lf[b->path];
	struct mpt_sim_link *rev = b->rev ? k->lf[b->path] : k->lr[b->path];

	if (mpt_sim_mbox_add(fwd, rev, &b->cfg, NULL) < 0)
		abort();
}

static void sched_cb(struct mpt_sim *sim, void *arg)
{
	struct sched_ev *e = arg;
	struct soak *k = e->k;

	(void)sim;
	switch (e->kind) {
	case 0:
		vlog(k, "path %zu down", e->idx);
		mpt_sim_link_set_up(k->lf[e->idx], false);
		mpt_sim_link_set_up(k->lr[e->idx], false);
		break;
	case 1:
		vlog(k, "path %zu up", e->idx);
		mpt_sim_link_set_up(k->lf[e->idx], true);
		mpt_sim_link_set_up(k->lr[e->idx], true);
		break;
	default:
		vlog(k, "box %s added on path %zu", bkind_name[k->d->box[e->idx].kind],
		     k->d->box[e->idx].path);
		add_box(k, &k->d->box[e->idx]);
		break;
	}
}

static bool stop_run(void *arg)
{
	struct soak *k = arg;
	struct mpt_sim_stats st;

	mpt_sim_get_stats(k->sim, &st);
	if (st.events > EVENT_LIMIT) {
		k->spin = true;
		return true;
	}
	return k->side[0].done && k->side[1].done;
}

static bool idle(struct soak *k)
{
	struct mpt_sim_stats st;

	mpt_sim_get_stats(k->sim, &st);
	if (st.events > 2 * EVENT_LIMIT) {
		k->spin = true;
		return true;
	}
	return st.inflight_pkts == 0 && mpt_stack_next_deadline(k->host[0].st) == MPT_TIME_NEVER &&
	       mpt_stack_next_deadline(k->host[1].st) == MPT_TIME_NEVER;
}

static bool stop_idle(void *arg)
{
	return idle(arg);
}

static void build_stack(struct soak *k, int idx)
{
	const struct draw *d = k->d;
	const struct side_draw *x = &d->side[idx];
	struct host *h = &k->host[idx];
	struct mpt_stack_cfg c;

	mpt_stack_cfg_init(&c);
	c.mem = &k->mem;
	c.rand = mpt_sim_rand;
	c.rand_ud = k->sim;
	c.output = host_output;
	c.output_ud = h;
	c.on_event = host_event;
	c.event_ud = h;
	for (size_t i = 0; i < d->npaths; i++) {
		draw_addr(&h->addr[i], d->v6, i, idx + 1);
		c.local[i] = h->addr[i];
		c.local_flags[i] = x->flags[i];
	}
	c.n_local = d->npaths;
	c.tcp.sndbuf = x->sndbuf;
	c.tcp.rcvbuf = x->rcvbuf;
	c.tcp.mss = x->mss;
	c.tcp.no_sack = x->no_sack;
	c.tcp.no_timestamps = x->no_ts;
	c.tcp.nagle = x->nagle;
	c.tcp.no_delack = x->no_delack;
	c.tcp.msl_ns = x->msl_ns;
	set_name(c.tcp.cc, strcmp(x->cc, "reno") ? "cubic" : "reno");
	c.mptcp.enable = x->mptcp;
	c.mptcp.version = x->version;
	if (idx == 1)
		c.mptcp.accept_versions = x->accept;
	c.mptcp.checksum = x->csum;
	c.mptcp.max_subflows = x->max_subflows;
	set_name(c.mptcp.sched, x->sched);
	set_name(c.mptcp.pm, x->pm);
	set_name(c.mptcp.cc, x->cc);
	c.mptcp.ndiffports = x->ndiffports;
	c.mptcp.fastclose_ack = x->fastclose_ack;
	c.mptcp.race = x->race;
	c.mptcp.race_delay_ns = x->race_ns;
	h->k = k;
	h->idx = idx;
	if (mpt_stack_create(&c, &h->st) < 0 ||
	    mpt_sim_add_node(k->sim, side_name(idx), &host_ops, h, &h->node) < 0) {
		fprintf(stderr, "seed %" PRIu64 ": stack creation failed\n", d->seed);
		abort();
	}
}

static void build_links(struct soak *k)
{
	const struct draw *d = k->d;

	for (size_t i = 0; i < d->npaths; i++) {
		const struct path_draw *p = &d->p[i];
		struct mpt_sim_link_cfg c[2];

		for (int dir = 0; dir < 2; dir++) {
			memset(&c[dir], 0, sizeof(c[dir]));
			c[dir].rate_bps = p->rate_bps;
			c[dir].delay_ns = p->delay_ns;
			c[dir].jitter_ns = p->jitter_ns;
			c[dir].loss = p->loss[dir];
			c[dir].reorder = p->reorder;
			c[dir].reorder_delay_ns = p->reorder_ns;
			c[dir].dup = p->dup;
			c[dir].dup_delay_ns = p->dup_ns;
			c[dir].queue_bytes = p->queue_bytes;
			c[dir].outages = p->out[dir];
			c[dir].n_outages = p->n_out[dir];
		}
		if (mpt_sim_connect(k->sim, k->host[0].node, &k->host[0].addr[i], k->host[1].node,
				    &k->host[1].addr[i], &c[0], &c[1], &k->lf[i], &k->lr[i]) < 0)
			abort();
	}
}

static void run_checks_done(struct soak *k);

/* Describe where the data is stuck (for a hang). */
static void describe_stuck(struct soak *k, char *out, size_t n)
{
	size_t o = 0;

#define P(...)                                                                                     \
	do {                                                                                       \
		if (o < n)                                                                         \
			o += (size_t)snprintf(out + o, n - o, __VA_ARGS__);                        \
	} while (0)
	for (int i = 0; i < 2; i++) {
		struct side *sd = &k->side[i];
		struct mpt_mptcp_info mi;
		struct mpt_sock_info si;

		P("%s%s: tx %" PRIu64 "/%" PRIu64 "%s rx %" PRIu64 "/%" PRIu64 "%s%s%s%s",
		  i ? "; " : "", side_name(i), sd->tx_off, sd->d->bytes, sd->shut ? "+fin" : "",
		  sd->rx_off, sd->rx_total, sd->eof ? "+eof" : "", sd->done ? " done" : "",
		  sd->paused ? " paused" : "", !sd->connected ? " unconnected" : "");
		if (sd->s && mpt_sock_info(sd->s, &si) == 0)
			P(" %s snd_wnd %u rcv_wnd %u", si.state, si.snd_wnd, si.rcv_wnd);
		{
			uint64_t dl = mpt_stack_next_deadline(k->host[i].st);

			if (dl == MPT_TIME_NEVER)
				P(" no-timer");
			else
				P(" timer+%.3gs", (double)(dl - know(k)) / 1e9);
		}
		if (sd->s && mpt_sock_mptcp_info(sd->s, &mi) == 0) {
			if (mi.fallback)
				P(" fallback");
			else
				P(" unacked %" PRIu64 " snd_una 0x%" PRIx64 " rcv_nxt 0x%" PRIx64
				  " sf %u",
				  mi.mptcpi_write_seq - mi.mptcpi_snd_una, mi.mptcpi_snd_una,
				  mi.mptcpi_rcv_nxt, mi.mptcpi_subflows_total);
		}
	}
#undef P
}

static uint64_t counter(struct soak *k, int idx, const char *name)
{
	uint64_t v = 0;

	(void)mpt_stack_counter_by_name(k->host[idx].st, name, &v);
	return v;
}

/* Payload bytes the side's subflows sent (0 when the socket is gone). */
static uint64_t sf_bytes_sent(const struct side *sd)
{
	struct mpt_subflow_info sf[16];
	uint64_t sum = 0;
	int n;

	if (!sd->s)
		return 0;
	n = mpt_sock_subflows(sd->s, sf, 16);
	for (int j = 0; j < n && j < 16; j++)
		sum += sf[j].bytes_sent;
	return sum;
}

/* Is the side's application reading (or would it, given data)? */
static bool reading(const struct side *sd)
{
	return !(sd->d->rm == R_LATE && sd->tx_off < sd->d->bytes);
}

/*
 * Classify a hang from the state at the cap, by direction: a direction
 * whose receiver is reading and whose data was written but not read is
 * "data-stuck" ("never-sent" when no subflow carried a byte of it,
 * "zero-window" when a persist timer ran, "writer-closed" when the writing
 * application already closed its socket); a direction with every byte
 * read but no end of stream although the writer shut down is "no-eof".
 */
static void classify_hang(struct soak *k)
{
	struct failure *f = &k->f;
	const char *cls = NULL;

	if (!k->side[0].connected) {
		cls = "connect";
		goto out;
	}
	for (int pass = 0; pass < 2 && !cls; pass++) {
		for (int i = 0; i < 2 && !cls; i++) {
			struct side *rx = &k->side[i], *tx = &k->side[!i];

			if (rx->done || tx->aborted || !reading(rx))
				continue;
			if (pass == 0 && rx->rx_off < rx->rx_total && tx->tx_off > rx->rx_off) {
				if (!tx->s)
					cls = "writer-closed"; /* the writer's app closed */
				else if (sf_bytes_sent(tx) == 0)
					cls = "never-sent";
				else if (counter(k, !i, "TCPWinProbe") > 0)
					cls = "zero-window";
				else
					cls = "data-stuck";
			}
			if (pass == 1 && rx->rx_off == rx->rx_total && !rx->eof && tx->shut)
				cls = "no-eof"; /* every byte in, the DATA_FIN never */
		}
	}
	if (!cls && k->side[0].connected && !k->side[1].connected && !k->side[1].done)
		cls = "accept";
	if (!cls) {
		for (int i = 0; i < 2 && !cls; i++)
			if (!k->side[i].done && k->side[i].tx_off < k->side[i].d->bytes)
				cls = "send-stuck";
	}
	if (!cls)
		cls = "other";
out:
	snprintf(f->hang_class, sizeof(f->hang_class), "%s", cls);
}

/* The result of one seed, as passed from a child process. */
struct result {
	uint64_t seed;
	bool pass;
	char cls[128];
	char detail[900];
	uint64_t sim_ns;
	double wall_ms;
	uint32_t complexity;
};

static uint32_t complexity(const struct draw *d)
{
	/* Rough "how much is going on" score to pick minimal seeds. */
	uint32_t c = (uint32_t)d->npaths * 10 + (uint32_t)d->nbox * 10;

	c += (uint32_t)((d->side[0].bytes + d->side[1].bytes) / (64 * KIB));
	for (size_t i = 0; i < d->npaths; i++)
		c += (d->p[i].loss[0] > 0) + (d->p[i].loss[1] > 0) + (d->p[i].reorder > 0) +
		     (d->p[i].dup > 0) + (uint32_t)(d->p[i].n_out[0] + d->p[i].n_out[1]) +
		     (d->p[i].up_at > 0);
	return c;
}

/* --trace MS: every MS of simulated time (with -v), each side's progress
 * and every subflow's congestion state. */
static uint64_t g_trace_ns;

static void trace_cb(struct mpt_sim *sim, void *arg)
{
	struct soak *k = arg;

	for (int i = 0; i < 2; i++) {
		struct side *sd = &k->side[i];
		struct mpt_subflow_info sf[16];
		struct mpt_mptcp_info mi;
		int n;

		printf("  [%10.6f] trace %s: tx %" PRIu64 " rx %" PRIu64, (double)know(k) / 1e9,
		       side_name(i), sd->tx_off, sd->rx_off);
		if (!sd->s) {
			printf(" (closed)\n");
			continue;
		}
		if (mpt_sock_mptcp_info(sd->s, &mi) == 0)
			printf(" unacked %" PRIu64 " reinj %" PRIu64,
			       mi.mptcpi_write_seq - mi.mptcpi_snd_una, mi.reinjected_bytes);
		n = mpt_sock_subflows(sd->s, sf, 16);
		for (int j = 0; j < n && j < 16; j++)
			printf(" | sf%d %s cwnd %u srtt %.1fms sent %" PRIu64 " acked %" PRIu64
			       " rtx %u",
			       j, sf[j].state, sf[j].cwnd, (double)sf[j].srtt_ns / 1e6,
			       sf[j].bytes_sent, sf[j].bytes_acked, sf[j].retransmits);
		{
			struct mpt_sock_info si;

			if (mpt_sock_info(sd->s, &si) == 0)
				printf(" | sock snd_wnd %u rcv_wnd %u ssthresh %u rto %.0fms",
				       si.snd_wnd, si.rcv_wnd, si.snd_ssthresh,
				       (double)si.rto_ns / 1e6);
		}
		printf("\n");
	}
	if (!(k->side[0].done && k->side[1].done))
		(void)mpt_sim_at(sim, know(k) + g_trace_ns, trace_cb, k);
}

static void run_seed(const struct draw *d, bool verbose, const char *pcap, struct result *res)
{
	struct soak *k = calloc(1, sizeof(*k));
	struct sched_ev evs[2 * MAXP + MAXBOX];
	size_t nev = 0;
	struct timespec w0, w1;
	struct failure *f;
	char summ[1400];

	if (!k)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &w0);
	k->d = d;
	k->verbose = verbose;
	f = &k->f;
	mpt_test_mem_init(&k->cm);
	k->mem = k->cm.mem;
	g_idsn_wrap = d->idsn_wrap;
	g_idsn_back = d->idsn_back;
	if (verbose) {
		draw_summary(d, summ, sizeof(summ));
		printf("seed %" PRIu64 ": %s\n", d->seed, summ);
	}
	if (mpt_sim_create(&k->mem, d->seed, &k->sim) < 0)
		abort();
	if (pcap && mpt_sim_pcap_open(k->sim, pcap) < 0)
		fprintf(stderr, "cannot open %s\n", pcap);
	if (verbose && g_trace_ns && mpt_sim_at(k->sim, g_trace_ns, trace_cb, k) < 0)
		abort();
	build_stack(k, 0);
	build_stack(k, 1);
	build_links(k);
	for (size_t i = 0; i < d->nbox; i++) {
		const struct box_draw *b = &d->box[i];

		if (b->kind == B_NAT) {
			k->nat[b->path] = b->cfg.nat_addr;
			k->has_nat[b->path] = true;
		}
		if (!b->at)
			add_box(k, b);
		else {
			evs[nev] = (struct sched_ev){k, 2, i};
			if (mpt_sim_at(k->sim, b->at, sched_cb, &evs[nev++]) < 0)
				abort();
		}
	}
	for (size_t i = 0; i < d->npaths; i++) {
		if (!d->p[i].up_at)
			continue;
		evs[nev] = (struct sched_ev){k, 0, i};
		if (mpt_sim_at(k->sim, d->p[i].down_at, sched_cb, &evs[nev++]) < 0)
			abort();
		evs[nev] = (struct sched_ev){k, 1, i};
		if (mpt_sim_at(k->sim, d->p[i].up_at, sched_cb, &evs[nev++]) < 0)
			abort();
	}
	k->stream[0] = make_stream(d->seed * 2 + 1, d->side[0].bytes);
	k->stream[1] = make_stream(d->seed * 2 + 2, d->side[1].bytes);
	for (int i = 0; i < 2; i++) {
		struct side *sd = &k->side[i];

		sd->k = k;
		sd->idx = i;
		sd->h = &k->host[i];
		sd->d = &d->side[i];
		sd->tx = k->stream[i];
		sd->rx_expect = k->stream[!i];
		sd->rx_total = d->side[!i].bytes;
		sd->rbuf = malloc(sd->d->rbuf);
		if (!sd->rbuf)
			abort();
		sd->next_pause = sd->d->pause_every;
	}
	{
		struct mpt_endpoint any = {.addr = {.family = 0}, .port = PORT};
		struct mpt_endpoint dst = {.addr = k->host[1].addr[0], .port = PORT};

		if (mpt_listen(k->host[1].st, &any, 16, &k->lsock) < 0)
			abort();
		if (API(&k->host[0], "mpt_connect_ex",
			mpt_connect_ex(k->host[0].st, &dst, NULL, NULL, 0, &k->side[0].s)) < 0) {
			fprintf(stderr, "seed %" PRIu64 ": connect failed\n", d->seed);
			abort();
		}
	}
	/* Run until both applications are done, or the cap. */
	(void)mpt_sim_run(k->sim, d->cap_ns, stop_run, k);
	k->sim_end = know(k);
	run_checks_done(k);
	/* Free the buffers and the simulator; every byte must come back. */
	mpt_stack_destroy(k->host[0].st);
	mpt_stack_destroy(k->host[1].st);
	{
		struct mpt_sim_stats ss;

		mpt_sim_get_stats(k->sim, &ss);
		k->events = ss.events;
	}
	mpt_sim_destroy(k->sim);
	if (k->cm.live != 0) {
		f->leak = true;
		size_t o = strlen(f->detail);

		snprintf(f->detail + o, sizeof(f->detail) - o, "%s%ld allocations not freed",
			 o ? "; " : "", k->cm.live);
	}
	if (verbose)
		printf("  %" PRIu64 " simulator events, %ld allocations\n", k->events,
		       k->cm.allocs);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	/* Verdict. */
	memset(res, 0, sizeof(*res));
	res->seed = d->seed;
	res->sim_ns = k->sim_end;
	res->wall_ms =
	    (double)(w1.tv_sec - w0.tv_sec) * 1e3 + (double)(w1.tv_nsec - w0.tv_nsec) / 1e6;
	res->complexity = complexity(d);
	{
		const char *cls = NULL;
		char extra[128] = "";
		size_t eo = 0;

		/* Most specific first; the others are listed after a '+'. */
		struct {
			bool on;
			const char *name;
		} order[] = {
		    {f->spin, "spin"},       {f->corrupt, "corrupt"},     {f->reentry, "reentry"},
		    {f->overrun, "overrun"}, {f->truncated, "truncated"}, {f->error, "error"},
		    {f->hang, NULL},         {f->slow, "slow"},           {f->teardown, "teardown"},
		    {f->leak, "leak"},       {f->storm, "storm"},         {f->nomap, "nomap"},
		};
		char hang[48];

		snprintf(hang, sizeof(hang), "hang/%s", f->hang_class);
		order[6].name = hang;
		/* A re-entered callback explains what follows it: name it first. */
		if (f->reentry) {
			order[1].on = false;
			order[2].on = false;
			cls = "reentry";
			if (f->corrupt)
				eo += (size_t)snprintf(extra + eo, sizeof(extra) - eo, "+corrupt");
		}
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			if (!order[i].on)
				continue;
			if (!cls)
				cls = order[i].name;
			else if (eo < sizeof(extra))
				eo += (size_t)snprintf(extra + eo, sizeof(extra) - eo, "+%s",
						       order[i].name);
		}
		res->pass = cls == NULL;
		/* Passed through the reset strip_mid_every_path allows: said so. */
		bool reset = k->side[0].err_strip || k->side[1].err_strip;
		snprintf(res->cls, sizeof(res->cls), "%.40s%.80s",
			 cls ? cls : (reset ? "pass-reset" : "pass"), extra);
		snprintf(res->detail, sizeof(res->detail), "%s%s%s",
			 f->reentry ? f->reentry_what : "", f->reentry && f->detail[0] ? "; " : "",
			 f->detail);
	}
	if (verbose)
		printf("seed %" PRIu64 ": %s %s (sim %.3f s, budget %.3f s, wall %.0f ms)%s%s\n",
		       d->seed, res->pass ? "PASS" : "FAIL", res->cls, (double)k->sim_end / 1e9,
		       (double)d->budget_ns / 1e9, res->wall_ms, res->detail[0] ? ": " : "",
		       res->detail);
	free(k->side[0].rbuf);
	free(k->side[1].rbuf);
	free(k->stream[0]);
	free(k->stream[1]);
	free(k);
}

static void addf(struct failure *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void addf(struct failure *f, const char *fmt, ...)
{
	size_t o = strlen(f->detail);
	va_list ap;

	if (o + 3 >= sizeof(f->detail))
		return;
	if (o) {
		memcpy(f->detail + o, "; ", 3);
		o += 2;
	}
	va_start(ap, fmt);
	vsnprintf(f->detail + o, sizeof(f->detail) - o, fmt, ap);
	va_end(ap);
}

static void print_counters(struct soak *k)
{
	for (int i = 0; i < 2; i++) {
		printf("  %s counters:", side_name(i));
		for (int c = 0; c < mpt_counter_count(); c++) {
			uint64_t v = mpt_stack_counter(k->host[i].st, c);

			if (v)
				printf(" %s=%" PRIu64, mpt_counter_name(c), v);
		}
		printf("\n");
	}
	for (size_t i = 0; i < k->d->npaths; i++) {
		struct mpt_sim_link_stats a, b;

		mpt_sim_link_get_stats(k->lf[i], &a);
		mpt_sim_link_get_stats(k->lr[i], &b);
		printf("  path %zu: > wire %" PRIu64 " pkts, dropped loss %" PRIu64
		       " queue %" PRIu64 " outage %" PRIu64 " mbox %" PRIu64 "; < wire %" PRIu64
		       " pkts, dropped loss %" PRIu64 " queue %" PRIu64 " outage %" PRIu64
		       " mbox %" PRIu64 "\n",
		       i, a.wire_pkts, a.dropped[MPT_SIM_DROP_LOSS], a.dropped[MPT_SIM_DROP_QUEUE],
		       a.dropped[MPT_SIM_DROP_OUTAGE], a.dropped[MPT_SIM_DROP_MBOX], b.wire_pkts,
		       b.dropped[MPT_SIM_DROP_LOSS], b.dropped[MPT_SIM_DROP_QUEUE],
		       b.dropped[MPT_SIM_DROP_OUTAGE], b.dropped[MPT_SIM_DROP_MBOX]);
	}
}

static void print_subflows(struct soak *k)
{
	for (int i = 0; i < 2; i++) {
		struct mpt_subflow_info sf[16];
		struct mpt_mptcp_info mi;
		struct side *sd = &k->side[i];
		int n;

		if (!sd->s)
			continue;
		if (mpt_sock_mptcp_info(sd->s, &mi) == 0)
			printf("  %s mptcp: v%u fallback %d csum %u write_seq %" PRIu64
			       " snd_una %" PRIu64 " rcv_nxt %" PRIu64
			       " subflows %u reinjected %" PRIu64 "\n",
			       side_name(i), mi.version, mi.fallback, mi.mptcpi_csum_enabled,
			       mi.mptcpi_write_seq, mi.mptcpi_snd_una, mi.mptcpi_rcv_nxt,
			       mi.mptcpi_subflows_total, mi.reinjected_bytes);
		n = mpt_sock_subflows(sd->s, sf, 16);
		for (int j = 0; j < n && j < 16; j++) {
			char a[64], b[64];

			mpt_addr_format(&sf[j].local.addr, a, sizeof(a));
			mpt_addr_format(&sf[j].remote.addr, b, sizeof(b));
			printf("    sf %s:%u -> %s:%u %s%s%s cwnd %u sent %" PRIu64
			       " acked %" PRIu64 " rcvd %" PRIu64 " rtx %u\n",
			       a, sf[j].local.port, b, sf[j].remote.port, sf[j].state,
			       sf[j].backup ? " backup" : "", sf[j].active ? "" : " inactive",
			       sf[j].cwnd, sf[j].bytes_sent, sf[j].bytes_acked,
			       sf[j].bytes_received, sf[j].retransmits);
		}
	}
}

/* After the run: integrity, liveness, then the teardown. */
static void run_checks_done(struct soak *k)
{
	const struct draw *d = k->d;
	struct failure *f = &k->f;
	uint64_t end = 0;

	if (k->spin) {
		f->spin = true;
		addf(f, "more than %" PRIu64 " simulator events by %.3f s", EVENT_LIMIT,
		     (double)k->sim_end / 1e9);
	}
	for (int i = 0; i < 2; i++) {
		struct side *sd = &k->side[i];

		if (sd->mismatch) {
			f->corrupt = true;
			addf(f, "%s->%s: first bad byte at offset %" PRIu64 " of %" PRIu64,
			     side_name(!i), side_name(i), sd->bad_off, sd->rx_total);
		}
		if (sd->overrun) {
			f->overrun = true;
			addf(f, "%s read more than the %" PRIu64 " bytes the peer wrote",
			     side_name(i), sd->rx_total);
		}
		if (sd->truncated) {
			f->truncated = true;
			addf(f, "%s read EOF after %" PRIu64 " of %" PRIu64 " bytes%s",
			     side_name(i), sd->rx_off, sd->rx_total,
			     sd->eof_plain ? " (connection was plain TCP / fallen back)" : "");
		}
		if (sd->err && !sd->err_expected) {
			const struct side *peer = &k->side[!i];

			f->error = true;
			bool clean = peer->done && !peer->err && !peer->aborted &&
				     peer->t_done <= sd->t_done;

			addf(f, "%s: connection error %d (%s) at %.3f s%s", side_name(i), sd->err,
			     mpt_strerror(sd->err), (double)sd->t_done / 1e9,
			     clean ? ", after the peer had read everything and closed" : "");
			if (clean && k->host[!i].close_rsts)
				addf(f, "the peer's mpt_close sent %u RST%s",
				     k->host[!i].close_rsts, k->host[!i].close_rsts > 1 ? "s" : "");
			if (clean && counter(k, i, "MPTCPDataFinRx") == 0 &&
			    counter(k, !i, "MPTCPDataFinTx") > 0)
				addf(f, "the peer's DATA_FIN never arrived");
		}
		if (sd->done && sd->t_done > end)
			end = sd->t_done;
	}
	if (!k->side[0].done || !k->side[1].done) {
		if (!k->spin) {
			char buf[400];

			f->hang = true;
			classify_hang(k);
			describe_stuck(k, buf, sizeof(buf));
			addf(f, "not finished at %.3f s (budget %.3f s): %s",
			     (double)k->sim_end / 1e9, (double)d->budget_ns / 1e9, buf);
		}
	} else if (end > d->budget_ns) {
		f->slow = true;
		addf(f, "finished at %.3f s, budget %.3f s", (double)end / 1e9,
		     (double)d->budget_ns / 1e9);
	}
	/*
	 * Bounded resources: MP_JOIN attempts back off (join_retry_ns doubling
	 * per failure), so a stack opens at most a few per (local, remote)
	 * pair and then one every half minute or so.  Far more is a retry
	 * loop.
	 */
	for (int i = 0; i < 2; i++) {
		uint64_t joins = counter(k, i, "MPJoinSynTx");
		uint64_t bound = 16 * (10 + k->sim_end / (32 * SEC));

		if (joins > bound) {
			f->storm = true;
			addf(f, "%s sent %" PRIu64 " MP_JOIN SYNs in %.1f s (bound %" PRIu64 ")",
			     side_name(i), joins, (double)k->sim_end / 1e9, bound);
		}
		/* RFC 8684 §3.3.1: every data segment of an MPTCP subflow
		 * carries (or lies inside) a mapping; Linux resets a subflow
		 * that sends data without one. */
		uint64_t nomap = counter(k, i, "MPTCPDataNoMapTx");

		if (nomap > 0) {
			f->nomap = true;
			addf(f, "%s sent %" PRIu64 " data segment(s) without a mapping",
			     side_name(i), nomap);
		}
	}
	if (k->verbose) {
		print_subflows(k);
		print_counters(k);
	}
	/* Close whatever is left, then the stacks must go idle: every
	 * connection through its close sequence (TIME-WAIT is 2 MSL <= 2 s). */
	for (int i = 0; i < 2; i++) {
		if (k->side[i].s) {
			struct mpt_sock *s = k->side[i].s;

			k->side[i].s = NULL;
			API_VOID(&k->host[i], "mpt_abort", mpt_abort(s, know(k)));
		}
	}
	API_VOID(&k->host[1], "mpt_close", mpt_close(k->lsock, know(k)));
	k->lsock = NULL;
	if (!f->hang && !f->spin) {
		uint64_t t0 = know(k), lim = t0 + 120 * SEC;

		(void)mpt_sim_run(k->sim, lim, stop_idle, k);
		if (k->spin) {
			f->spin = true;
			addf(f, "event storm during teardown");
		} else if (!idle(k)) {
			struct mpt_sim_stats st;
			uint64_t dl[2], t1;

			mpt_sim_get_stats(k->sim, &st);
			for (int i = 0; i < 2; i++)
				dl[i] = mpt_stack_next_deadline(k->host[i].st);
			/* How long until it does go idle (if ever)? */
			t1 = know(k);
			(void)mpt_sim_run(k->sim, t1 + 3600 * SEC, stop_idle, k);
			f->teardown = true;
			addf(f,
			     "stacks not idle 120 s after the close (client timer %s%.3f s, server "
			     "%s%.3f "
			     "s ahead, %" PRIu64 " packets in flight); %s %.1f s after the close",
			     dl[0] == MPT_TIME_NEVER ? "none " : "",
			     dl[0] == MPT_TIME_NEVER ? 0.0 : (double)(dl[0] - t1) / 1e9,
			     dl[1] == MPT_TIME_NEVER ? "none " : "",
			     dl[1] == MPT_TIME_NEVER ? 0.0 : (double)(dl[1] - t1) / 1e9,
			     st.inflight_pkts, idle(k) ? "idle" : "still not idle",
			     (double)(know(k) - t0) / 1e9);
			if (k->verbose)
				print_counters(k);
		} else {
			vlog(k, "both stacks idle");
		}
	}
}

/* ======================================================================
 * Driver: seeds, child processes, reports
 * ==================================================================== */

static void print_failure(const struct result *r, const struct draw *d, FILE *fp)
{
	char summ[1400];

	draw_summary(d, summ, sizeof(summ));
	fprintf(fp, "FAIL seed %" PRIu64 ": %s: %s\n", r->seed, r->cls, r->detail);
	fprintf(fp, "  drawn: %s\n", summ);
	if (d->simplify || d->size_shift)
		fprintf(fp,
			"  repro: soak_test --seed %" PRIu64
			" --simplify 0x%x --size-shift %u -v\n",
			r->seed, d->simplify, d->size_shift);
	else
		fprintf(fp, "  repro: soak_test --seed %" PRIu64 " -v\n", r->seed);
}

struct opts {
	uint64_t first, count;
	bool single;
	bool verbose;
	bool fork;
	int jobs;
	const char *tsv;
	const char *pcap;
	uint32_t simplify;
	unsigned size_shift;
	bool shrink;
	bool attribute;
	unsigned wall_limit;
};

/* Run one seed in a child process: a crash (sanitizer, signal) or a wall
 * clock overrun becomes a result instead of ending the batch. */
static pid_t spawn(const struct opts *o, const struct draw *d, int *rfd)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0) {
		perror("pipe");
		exit(2);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		struct result r;
		const uint8_t *b = (const uint8_t *)&r;
		size_t left = sizeof(r);

		close(p[0]);
		alarm(o->wall_limit);
		run_seed(d, o->verbose, o->pcap, &r);
		while (left > 0) {
			ssize_t w = write(p[1], b, left);

			if (w <= 0)
				_exit(3);
			b += w;
			left -= (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

static void reap(pid_t pid, int fd, int status, const struct draw *d, struct result *r)
{
	uint8_t *b = (uint8_t *)r;
	size_t got = 0;

	while (got < sizeof(*r)) {
		ssize_t n = read(fd, b + got, sizeof(*r) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	(void)pid;
	if (got == sizeof(*r) && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	memset(r, 0, sizeof(*r));
	r->seed = d->seed;
	r->pass = false;
	r->complexity = complexity(d);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		snprintf(r->cls, sizeof(r->cls), "wallclock");
		snprintf(r->detail, sizeof(r->detail), "still running after the wall-clock guard");
	} else if (WIFSIGNALED(status)) {
		snprintf(r->cls, sizeof(r->cls), "crash");
		snprintf(r->detail, sizeof(r->detail), "killed by signal %d (%s)%s",
			 WTERMSIG(status), strsignal(WTERMSIG(status)),
			 WTERMSIG(status) == SIGABRT ? ": sanitizer report or abort() above" : "");
	} else {
		snprintf(r->cls, sizeof(r->cls), "crash");
		snprintf(r->detail, sizeof(r->detail), "exit status %d%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, "(sanitizer report above)");
	}
}

/* Run n draws, up to o->jobs at a time in child processes (or all in this
 * process without fork); report each failure as it comes when print. */
static void run_batch(const struct opts *o, const struct draw *d, struct result *res, uint64_t n,
		      bool print)
{
	pid_t *pids;
	int *fds;
	uint64_t *which, next = 0, running = 0;
	int jobs = o->jobs;

	if (!o->fork) {
		for (uint64_t i = 0; i < n; i++) {
			run_seed(&d[i], o->verbose, o->pcap, &res[i]);
			if (print && !res[i].pass)
				print_failure(&res[i], &d[i], stdout);
		}
		return;
	}
	pids = calloc((size_t)jobs, sizeof(*pids));
	fds = calloc((size_t)jobs, sizeof(*fds));
	which = calloc((size_t)jobs, sizeof(*which));
	if (!pids || !fds || !which)
		exit(2);
	while (next < n || running > 0) {
		int status;
		pid_t pid;

		while (next < n && running < (uint64_t)jobs) {
			int slot = 0;

			while (pids[slot])
				slot++;
			which[slot] = next;
			pids[slot] = spawn(o, &d[next], &fds[slot]);
			next++;
			running++;
		}
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			perror("waitpid");
			exit(2);
		}
		for (int s = 0; s < jobs; s++) {
			uint64_t i = which[s];

			if (pids[s] != pid)
				continue;
			reap(pid, fds[s], status, &d[i], &res[i]);
			if (print && !res[i].pass)
				print_failure(&res[i], &d[i], stdout);
			pids[s] = 0;
			running--;
		}
	}
	free(pids);
	free(fds);
	free(which);
}

static void run_one(const struct opts *o, const struct draw *d, struct result *r)
{
	run_batch(o, d, r, 1, false);
}

/* Same failure?  Compare the primary class (before any '+'). */
static bool same_class(const char *a, const char *b)
{
	size_t la = strcspn(a, "+"), lb = strcspn(b, "+");

	return la == lb && strncmp(a, b, la) == 0;
}

/* Greedy shrink: keep every simplification (and size halving) that leaves
 * the seed failing with the same primary class. */
static int shrink(struct opts *o)
{
	struct draw d;
	struct result r;
	char want[128];
	uint32_t mask = o->simplify;
	unsigned shift = o->size_shift;

	o->fork = true;
	o->verbose = false;
	draw_scenario(o->first, mask, shift, &d);
	run_one(o, &d, &r);
	if (r.pass) {
		printf("seed %" PRIu64 " passes: nothing to shrink\n", o->first);
		return 0;
	}
	snprintf(want, sizeof(want), "%s", r.cls);
	printf("seed %" PRIu64 " fails with %s; shrinking\n", o->first, want);
	for (int round = 0; round < 2; round++) {
		for (int b = 0; b < S_N; b++) {
			uint32_t m = mask | (UINT32_C(1) << b);

			if (m == mask)
				continue;
			draw_scenario(o->first, m, shift, &d);
			run_one(o, &d, &r);
			if (!r.pass && same_class(r.cls, want)) {
				mask = m;
				printf("  + %s\n", simp_name[b]);
			}
		}
		for (unsigned s = shift + 1; s <= 24; s++) {
			draw_scenario(o->first, mask, s, &d);
			run_one(o, &d, &r);
			if (r.pass || !same_class(r.cls, want))
				break;
			shift = s;
		}
	}
	draw_scenario(o->first, mask, shift, &d);
	run_one(o, &d, &r);
	printf("smallest variant found:\n");
	print_failure(&r, &d, stdout);
	printf("  simplifications:");
	for (int b = 0; b < S_N; b++)
		if (mask & (UINT32_C(1) << b))
			printf(" %s", simp_name[b]);
	printf(" size>>%u\n", shift);
	return 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: soak_test [--seed N | --seeds A-B] [-v] [-j JOBS] [--tsv FILE]\n"
		"                 [--no-fork] [--simplify MASK] [--size-shift K] [--shrink]\n"
		"                 [--attribute] [--pcap FILE] [--trace MS] [--wall-limit SECONDS]\n"
		"  default: the CI sample, seeds %d-%d\n",
		CI_FIRST, CI_FIRST + CI_COUNT - 1);
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->first = CI_FIRST;
	o->count = CI_COUNT;
	o->fork = true;
	o->jobs = 1;
	o->wall_limit = 600;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--seed") && v) {
			o->first = strtoull(v, NULL, 0);
			o->count = 1;
			o->single = true;
			i++;
		} else if (!strcmp(a, "--seeds") && v) {
			unsigned long long lo, hi;

			if (sscanf(v, "%llu-%llu", &lo, &hi) != 2 || hi < lo)
				usage();
			o->first = lo;
			o->count = hi - lo + 1;
			i++;
		} else if (!strcmp(a, "-v")) {
			o->verbose = true;
		} else if (!strncmp(a, "-j", 2) && a[2]) {
			o->jobs = atoi(a + 2);
			if (o->jobs < 1)
				o->jobs = 1;
		} else if (!strcmp(a, "-j") && v) {
			o->jobs = atoi(v);
			if (o->jobs < 1)
				o->jobs = 1;
			i++;
		} else if (!strcmp(a, "--tsv") && v) {
			o->tsv = v;
			i++;
		} else if (!strcmp(a, "--trace") && v) {
			g_trace_ns = strtoull(v, NULL, 0) * MS;
			i++;
		} else if (!strcmp(a, "--pcap") && v) {
			o->pcap = v;
			i++;
		} else if (!strcmp(a, "--no-fork")) {
			o->fork = false;
		} else if (!strcmp(a, "--simplify") && v) {
			o->simplify = (uint32_t)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--size-shift") && v) {
			o->size_shift = (unsigned)atoi(v);
			i++;
		} else if (!strcmp(a, "--shrink")) {
			o->shrink = true;
		} else if (!strcmp(a, "--attribute")) {
			o->attribute = true;
		} else if (!strcmp(a, "--wall-limit") && v) {
			o->wall_limit = (unsigned)atoi(v);
			i++;
		} else {
			usage();
		}
	}
	/* One seed: run it in this process (debuggers, sanitizer traces). */
	if (o->single && !o->shrink)
		o->fork = false;
}

/*
 * Attribution: rerun a failing seed with each simplification alone; the
 * ones that make it pass point at the feature involved ("passes with
 * idsn-normal": the DSN wrap; "prompt-read": a reader-paced stall...).
 */
static void attribute(const struct opts *o, const struct draw *d, struct result *r)
{
	struct draw v[S_N];
	struct result vr[S_N];
	int n = 0, map[S_N];
	size_t off = strlen(r->detail);

	for (int b = 0; b < S_N; b++) {
		uint32_t m = d->simplify | (UINT32_C(1) << b);

		if (m == d->simplify)
			continue;
		draw_scenario(d->seed, m, d->size_shift, &v[n]);
		map[n++] = b;
	}
	run_batch(o, v, vr, (uint64_t)n, false);
	off +=
	    (size_t)snprintf(r->detail + off, off < sizeof(r->detail) ? sizeof(r->detail) - off : 0,
			     "; passes with:");
	bool any = false;

	for (int i = 0; i < n; i++) {
		if (!vr[i].pass || off >= sizeof(r->detail))
			continue;
		any = true;
		off += (size_t)snprintf(r->detail + off, sizeof(r->detail) - off, " %s",
					simp_name[map[i]]);
		if (map[i] == S_NO_MPTCP && off < sizeof(r->detail))
			off += (size_t)snprintf(r->detail + off, sizeof(r->detail) - off, "(%.1fs)",
						(double)vr[i].sim_ns / 1e9);
	}
	if (!any && off < sizeof(r->detail))
		snprintf(r->detail + off, sizeof(r->detail) - off, " (no single simplification)");
}

int main(int argc, char **argv)
{
	struct opts o;
	struct result *res;
	struct draw *draws;
	uint64_t npass = 0;
	struct timespec w0, w1;
	FILE *tsv = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(argc, argv, &o);
	if (o.shrink) {
		if (!o.single)
			usage();
		return shrink(&o) ? 1 : 0;
	}
	res = calloc(o.count, sizeof(*res));
	draws = calloc(o.count, sizeof(*draws));
	if (!res || !draws)
		return 2;
	for (uint64_t i = 0; i < o.count; i++)
		draw_scenario(o.first + i, o.simplify, o.size_shift, &draws[i]);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	run_batch(&o, draws, res, o.count, !o.attribute);
	if (o.attribute) {
		struct opts q = o;

		q.verbose = false;
		q.fork = true;
		for (uint64_t i = 0; i < o.count; i++) {
			if (res[i].pass)
				continue;
			attribute(&q, &draws[i], &res[i]);
			print_failure(&res[i], &draws[i], stdout);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &w1);
	if (o.tsv) {
		tsv = fopen(o.tsv, "w");
		if (!tsv) {
			perror(o.tsv);
			return 2;
		}
		fprintf(tsv, "seed\tresult\tclass\tsim_s\twall_ms\tcomplexity\tdetail\tscenario\n");
	}
	uint64_t nreset = 0;
	for (uint64_t i = 0; i < o.count; i++) {
		if (res[i].pass)
			npass++;
		if (res[i].pass && !strcmp(res[i].cls, "pass-reset"))
			nreset++;
		if (tsv) {
			char summ[1400];

			draw_summary(&draws[i], summ, sizeof(summ));
			fprintf(tsv, "%" PRIu64 "\t%s\t%s\t%.3f\t%.1f\t%u\t%s\t%s\n", res[i].seed,
				res[i].pass ? "PASS" : "FAIL", res[i].cls,
				(double)res[i].sim_ns / 1e9, res[i].wall_ms, res[i].complexity,
				res[i].detail, summ);
		}
	}
	if (tsv)
		fclose(tsv);
	printf("soak: %" PRIu64 " seeds (%" PRIu64 "-%" PRIu64 "), %" PRIu64 " passed, %" PRIu64
	       " failed (%" PRIu64 " passed by a reset strip_mid_every_path allows), %.1f s wall\n",
	       o.count, o.first, o.first + o.count - 1, npass, o.count - npass, nreset,
	       (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
	free(res);
	free(draws);
	return npass == o.count ? 0 : 1;
}
