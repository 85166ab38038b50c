/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark (not a test): memory of idle established connections (issue 13).
 *
 *   conn_memory [N]
 *
 * For each scenario, N connections are opened through the public API
 * between two simulated hosts (client and server, each a stack with its own
 * counting allocator), each carries one 100-byte request and one 100-byte
 * answer (what an RFC 8803 converter's Convert exchange costs), then the
 * connections sit idle for 5 simulated seconds (delayed ACKs, ADD_ADDR
 * retransmissions, joins all settled).  What each stack holds then, minus
 * what it held before the first connect, divided by N, is the memory of
 * one idle connection on that side.
 *
 * Scenarios: MPTCP with 2 subflows (two paths; the client opens the join),
 * MPTCP with 1 subflow, plain TCP; each with the default buffer knobs
 * (tcp.sndbuf = tcp.rcvbuf = 0, i.e. 256 KiB) and with small knobs
 * (4 KiB).  Every connection is checked (established, answer read, the
 * expected number of subflows on both sides): a run that did not reach
 * that state exits 1 rather than report figures for something else.
 *
 * The allocator records each block's requested size, so what is live can
 * be split by size.  Sizes are labelled from what the engine allocates per
 * connection (src/tcp/tcp.c, src/tcp/tcp_rack.c, src/mptcp/conn.c,
 * subflow.c, dsnd.c, drcv.c, map.c):
 *   rings   byte rings: each TCP engine's send and receive ring and the
 *           MPTCP data-level send and receive buffers;
 *   scratch the MPTCP connection's scratch buffer (MPT_MP_SCRATCH);
 *   tables  per-segment transmit records (sized from sndbuf) and the
 *           subflows' mapping tables (sent: fixed count; received: initial);
 *   structs everything else (socket, flow, TCP engine, MPTCP connection and
 *           subflow state, token entries, the share of the stack's tables
 *           that grew with the connections).
 * A size that matches no label counts as structs.  Figures are allocator
 * requests (what the engine asked for) and usable sizes (what glibc handed
 * out, malloc_usable_size); malloc's own per-block header (8-16 bytes) is
 * in neither.  Process RSS deltas are printed too, for comparison only:
 * they depend on glibc's placement and on which pages were touched.
 *
 * Output: key=value lines (bench/memory.sh turns them into docs/memory.md).
 * Deterministic: the same code gives the same allocation figures.
 */
#define _GNU_SOURCE /* malloc_usable_size */
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"
/* Internal sizes, only to label allocations (see above). */
#include "core/host.h"
#include "mptcp/dsbuf.h"
#include "mptcp/mptcp.h"
#include "mptcp/transport.h"
#include "tcp/tcp_internal.h"

#define MS  UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

#define REQ_LEN       100
#define PORT          5201
#define HIST_SLOTS    4096
/* src/mptcp/subflow.c (private there): sent mappings held per subflow, and
 * the room for received mappings taken with the subflow. */
#define SF_TX_MAPS    4096
#define SF_RX_MAPINIT 64

/* ---- counting allocator with a per-size histogram ------------------------ */

#define HDR sizeof(max_align_t) /* keeps the user pointer aligned */

struct hslot {
	size_t size; /* 0: empty */
	long n;      /* live blocks of this size */
};

struct cmem {
	struct mpt_mem mem;
	long blocks;
	long long req;    /* requested bytes live */
	long long usable; /* malloc_usable_size of what is live (header excluded) */
	struct hslot h[HIST_SLOTS];
	long overflow; /* blocks whose size found no slot (never expected) */
};

static struct hslot *hist_slot(struct cmem *m, size_t size)
{
	size_t i = (size * 2654435761u) % HIST_SLOTS;
	for (size_t k = 0; k < HIST_SLOTS; k++, i = (i + 1) % HIST_SLOTS) {
		if (m->h[i].size == size)
			return &m->h[i];
		if (m->h[i].size == 0) {
			m->h[i].size = size;
			return &m->h[i];
		}
	}
	return NULL;
}

static void account(struct cmem *m, void *raw, size_t size, int sign)
{
	m->blocks += sign;
	m->req += sign * (long long)size;
	m->usable += sign * ((long long)malloc_usable_size(raw) - (long long)HDR);
	struct hslot *s = hist_slot(m, size);
	if (s)
		s->n += sign;
	else
		m->overflow += sign;
}

static void *cm_malloc(size_t size, void *ud)
{
	if (size > SIZE_MAX - HDR)
		return NULL;
	unsigned char *p = malloc(size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	account(ud, p, size, +1);
	return p + HDR;
}

static void *cm_calloc(size_t n, size_t size, void *ud)
{
	if (size && n > (SIZE_MAX - HDR) / size)
		return NULL;
	void *p = cm_malloc(n * size, ud);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static void cm_free(void *ptr, void *ud)
{
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - HDR;
	size_t size;
	memcpy(&size, p, sizeof(size));
	account(ud, p, size, -1);
	free(p);
}

static void *cm_realloc(void *ptr, size_t size, void *ud)
{
	if (!ptr)
		return cm_malloc(size, ud);
	if (size > SIZE_MAX - HDR)
		return NULL;
	unsigned char *p = (unsigned char *)ptr - HDR;
	size_t old;
	memcpy(&old, p, sizeof(old));
	account(ud, p, old, -1);
	unsigned char *q = realloc(p, size + HDR);
	if (!q) {
		account(ud, p, old, +1);
		return NULL;
	}
	memcpy(q, &size, sizeof(size));
	account(ud, q, size, +1);
	return q + HDR;
}

static void cmem_init(struct cmem *m)
{
	memset(m, 0, sizeof(*m));
	m->mem = (struct mpt_mem){cm_malloc, cm_calloc, cm_realloc, cm_free, m};
}

/* ---- labels ----------------------------------------------------------------- */

enum cat { CAT_RING, CAT_SCRATCH, CAT_TABLE, CAT_STRUCT, CAT_N };
static const char *const cat_name[CAT_N] = {"rings", "scratch", "tables", "structs"};

struct label {
	size_t size;
	enum cat cat;
	const char *what;
};

#define MAX_LABELS 16

struct labels {
	struct label l[MAX_LABELS];
	int n;
};

static void label_add(struct labels *ls, size_t size, enum cat cat, const char *what)
{
	for (int i = 0; i < ls->n; i++)
		if (ls->l[i].size == size)
			return; /* the first label of a size wins (listed most likely first) */
	if (ls->n < MAX_LABELS)
		ls->l[ls->n++] = (struct label){size, cat, what};
}

static const struct label *label_of(const struct labels *ls, size_t size)
{
	for (int i = 0; i < ls->n; i++)
		if (ls->l[i].size == size)
			return &ls->l[i];
	return NULL;
}

/* What the engine allocates per connection for buffer knob `knob` (0: default). */
static void labels_for(struct labels *ls, uint32_t knob)
{
	uint32_t eff = knob ? knob : 256u * 1024u; /* tcp_apply_defaults */
	size_t mp = mpt_mp_rcvbuf_size(knob);      /* MPTCP data level and subflow receive */
	uint32_t txr = eff / 512 + 64;             /* tcp_txr_init */
	if (txr > 65536)
		txr = 65536;
	ls->n = 0;
	label_add(ls, mp, CAT_RING,
		  "MPTCP data-level send / receive buffer; MPTCP subflow receive ring");
	label_add(ls, eff, CAT_RING, "TCP send ring (MPTCP subflows too); plain TCP receive ring");
	label_add(ls, MPT_MP_SCRATCH, CAT_SCRATCH, "MPTCP connection scratch buffer");
	label_add(ls, (size_t)txr * sizeof(struct tcp_txrec), CAT_TABLE,
		  "TCP transmit records (RACK), sized from sndbuf");
	label_add(ls, SF_TX_MAPS * sizeof(struct mpt_map), CAT_TABLE,
		  "MPTCP subflow: sent mappings (fixed count)");
	label_add(ls, SF_RX_MAPINIT * sizeof(struct mpt_rmap), CAT_TABLE,
		  "MPTCP subflow: received mappings (initial room)");
	label_add(ls, sizeof(struct mpt_tcp), CAT_STRUCT, "TCP engine (struct mpt_tcp)");
	label_add(ls, sizeof(struct mpt_mpconn), CAT_STRUCT,
		  "MPTCP connection (struct mpt_mpconn)");
	label_add(ls, sizeof(struct mpt_subflow), CAT_STRUCT, "MPTCP subflow (struct mpt_subflow)");
	label_add(ls, sizeof(struct mpt_flow), CAT_STRUCT,
		  "TCP flow of the stack (struct mpt_flow)");
	label_add(ls, sizeof(struct mpt_token_ent), CAT_STRUCT, "MPTCP token table entry");
}

/* ---- the application: one request, one answer ------------------------------ */

struct conn {
	struct mpt_sock *s;
	size_t got; /* bytes of the answer (client) / request (server) read */
	bool answered;
};

struct side {
	struct mpt_simhost *h;
	struct conn *c; /* client: by index; server: in accept order */
	size_t n;
	size_t done; /* client: answers read in full; server: answers sent */
	int errors;
	size_t accepted; /* server: connections taken from the listener */
	struct mpt_sock *lsock;
};

static uint64_t now_of(const struct side *sd)
{
	return mpt_sim_now(mpt_simhost_sim(sd->h));
}

static void conn_read(struct side *sd, struct conn *c, bool server)
{
	uint8_t buf[512];
	uint64_t now = now_of(sd);
	for (;;) {
		long r = mpt_recv(c->s, buf, sizeof(buf), now);
		if (r == MPT_ERR_AGAIN)
			break;
		if (r <= 0) {
			sd->errors++;
			break;
		}
		c->got += (size_t)r;
	}
	if (c->got >= REQ_LEN && !c->answered) {
		c->answered = true;
		if (server) {
			uint8_t ans[REQ_LEN];
			memset(ans, 'a', sizeof(ans));
			if (mpt_send(c->s, ans, sizeof(ans), now) != REQ_LEN)
				sd->errors++;
		}
		sd->done++;
	}
}

static void client_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct side *sd = ud;
	struct conn *c = mpt_sock_get_user(s);
	if (!c)
		return;
	if (ev & MPT_EV_ERROR) {
		sd->errors++;
		return;
	}
	if (ev & MPT_EV_CONNECTED) {
		uint8_t req[REQ_LEN];
		memset(req, 'q', sizeof(req));
		if (mpt_send(s, req, sizeof(req), now_of(sd)) != REQ_LEN)
			sd->errors++;
	}
	if (ev & MPT_EV_READABLE)
		conn_read(sd, c, false);
}

static void server_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct side *sd = ud;
	if (s == sd->lsock) {
		struct mpt_sock *a;
		while ((a = mpt_accept(s)) != NULL) {
			if (sd->accepted >= sd->n) {
				sd->errors++;
				mpt_abort(a, now_of(sd));
				continue;
			}
			struct conn *c = &sd->c[sd->accepted++];
			c->s = a;
			mpt_sock_set_user(a, c);
			conn_read(sd, c, true);
		}
		return;
	}
	struct conn *c = mpt_sock_get_user(s);
	if (!c)
		return;
	if (ev & MPT_EV_ERROR) {
		sd->errors++;
		return;
	}
	if (ev & MPT_EV_READABLE)
		conn_read(sd, c, true);
}

/* ---- one scenario ----------------------------------------------------------- */

struct scn {
	const char *name; /* mptcp2, mptcp1, tcp */
	bool mptcp;
	size_t paths;
};

struct buf_mode {
	const char *name; /* default, small */
	uint32_t knob;    /* tcp.sndbuf = tcp.rcvbuf */
};

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

struct snap {
	long blocks;
	long long req, usable;
	struct hslot h[HIST_SLOTS];
};

static void snap_take(struct snap *s, const struct cmem *m)
{
	s->blocks = m->blocks;
	s->req = m->req;
	s->usable = m->usable;
	memcpy(s->h, m->h, sizeof(s->h));
}

static long snap_count(const struct snap *s, size_t size)
{
	for (size_t i = 0; i < HIST_SLOTS; i++)
		if (s->h[i].size == size)
			return s->h[i].n;
	return 0;
}

static int size_cmp(const void *a, const void *b)
{
	const struct hslot *x = a, *y = b;
	/* largest share first, then by size */
	long long bx = (long long)x->size * x->n, by = (long long)y->size * y->n;
	if (bx != by)
		return bx < by ? 1 : -1;
	return x->size < y->size ? -1 : x->size > y->size;
}

static void report_side(const char *scn, const char *buf, const char *who, size_t n,
			const struct cmem *m, const struct snap *base, const struct labels *ls,
			int subflows, long stack_base)
{
	long long cat[CAT_N] = {0};
	struct hslot d[HIST_SLOTS];
	size_t nd = 0;
	for (size_t i = 0; i < HIST_SLOTS; i++) {
		if (!m->h[i].size)
			continue;
		long delta = m->h[i].n - snap_count(base, m->h[i].size);
		if (!delta)
			continue;
		const struct label *l = label_of(ls, m->h[i].size);
		cat[l ? l->cat : CAT_STRUCT] += (long long)m->h[i].size * delta;
		d[nd++] = (struct hslot){m->h[i].size, delta};
	}
	double dn = (double)n;
	printf("result scenario=%s buf=%s side=%s n=%zu subflows=%d req_per_conn=%.0f "
	       "usable_per_conn=%.0f blocks_per_conn=%.2f",
	       scn, buf, who, n, subflows, (double)(m->req - base->req) / dn,
	       (double)(m->usable - base->usable) / dn, (double)(m->blocks - base->blocks) / dn);
	for (int c = 0; c < CAT_N; c++)
		printf(" %s=%.0f", cat_name[c], (double)cat[c] / dn);
	printf(" stack_base=%ld\n", stack_base);
	qsort(d, nd, sizeof(d[0]), size_cmp);
	for (size_t i = 0; i < nd; i++) {
		const struct label *l = label_of(ls, d[i].size);
		printf("block scenario=%s buf=%s side=%s size=%zu per_conn=%.3f cat=%s what=%s\n",
		       scn, buf, who, d[i].size, (double)d[i].n / dn,
		       cat_name[l ? l->cat : CAT_STRUCT], l ? l->what : "(not labelled)");
	}
}

static void addr_of(struct mpt_addr *a, size_t path, int host)
{
	char t[32];
	snprintf(t, sizeof(t), "10.0.%zu.%d", path, host);
	(void)mpt_addr_parse(a, t);
}

static bool all_answered(void *arg)
{
	const struct side *cl = arg;
	return cl->done + (size_t)cl->errors >= cl->n;
}

static int run(const struct scn *sc, const struct buf_mode *bm, size_t n)
{
	static struct cmem cm, sm; /* large (histograms) */
	static struct snap cbase, sbase;
	cmem_init(&cm);
	cmem_init(&sm);
	struct mpt_sim *sim;
	if (mpt_sim_create(NULL, 1, &sim) < 0)
		return -1;
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.n_local = sc->paths;
	for (size_t i = 0; i < sc->paths; i++)
		addr_of(&cc.local[i], i, 1);
	cc.tcp.sndbuf = cc.tcp.rcvbuf = bm->knob;
	cc.max_socks = (uint32_t)n + 16;
	cc.mptcp.enable = sc->mptcp;
	cc.mptcp.max_subflows = (uint8_t)sc->paths;
	sv = cc;
	/* One server address: the client's second address opens the join
	 * (fullmesh), no ADD_ADDR multiplies the subflows. */
	sv.n_local = 1;
	addr_of(&sv.local[0], 0, 2);
	cc.mem = &cm.mem;
	sv.mem = &sm.mem;
	struct side cl = {.n = n}, srv = {.n = n};
	cl.c = calloc(n, sizeof(*cl.c));
	srv.c = calloc(n, sizeof(*srv.c));
	if (!cl.c || !srv.c || mpt_simhost_create(sim, "client", &cc, &cl.h) < 0 ||
	    mpt_simhost_create(sim, "server", &sv, &srv.h) < 0)
		return -1;
	struct mpt_sim_link_cfg l;
	memset(&l, 0, sizeof(l));
	l.delay_ns = 5 * MS; /* 10 ms RTT; no rate limit, no loss */
	for (size_t i = 0; i < sc->paths; i++)
		if (mpt_sim_connect(sim, mpt_simhost_node(cl.h), &cc.local[i],
				    mpt_simhost_node(srv.h), &sv.local[0], &l, &l, NULL, NULL) < 0)
			return -1;
	mpt_simhost_set_app(cl.h, client_ev, &cl);
	mpt_simhost_set_app(srv.h, server_ev, &srv);
	struct mpt_endpoint lep = {.port = PORT};
	if (mpt_listen(mpt_simhost_stack(srv.h), &lep, (uint32_t)n, &srv.lsock) < 0)
		return -1;
	long rss0 = rss_kib();
	snap_take(&cbase, &cm);
	snap_take(&sbase, &sm);
	/* One connect every 200 us of virtual time. */
	struct mpt_endpoint dst = {.addr = sv.local[0], .port = PORT};
	for (size_t i = 0; i < n; i++) {
		uint64_t now = mpt_sim_now(sim);
		struct mpt_sock *s;
		int rc = mpt_connect(mpt_simhost_stack(cl.h), &dst, &cc.local[0], now, &s);
		if (rc < 0) {
			fprintf(stderr, "connect %zu: %s\n", i, mpt_strerror(rc));
			return -1;
		}
		cl.c[i].s = s;
		mpt_sock_set_user(s, &cl.c[i]);
		mpt_sim_node_kick(sim, mpt_simhost_node(cl.h));
		(void)mpt_sim_run(sim, now + 200 * 1000, NULL, NULL);
	}
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 60 * SEC, all_answered, &cl);
	/* Idle: delayed ACKs, joins, ADD_ADDR echoes and their timers settle. */
	(void)mpt_sim_run(sim, mpt_sim_now(sim) + 5 * SEC, NULL, NULL);
	long rss1 = rss_kib();

	/* Check that every connection is what the figures claim. */
	int bad = 0;
	int want_sf = sc->mptcp ? (int)sc->paths : 1;
	for (size_t i = 0; i < n; i++) {
		struct conn *cs[2] = {&cl.c[i], &srv.c[i]};
		for (int k = 0; k < 2; k++) {
			struct conn *c = cs[k];
			struct mpt_sock_info si;
			struct mpt_subflow_info sf[8];
			if (!c->s || !c->answered || mpt_sock_info(c->s, &si) < 0 ||
			    strcmp(si.state, "ESTABLISHED") != 0 ||
			    mpt_sock_mptcp_enabled(c->s) != sc->mptcp ||
			    mpt_sock_subflows(c->s, sf, 8) != want_sf) {
				if (bad++ < 5)
					fprintf(
					    stderr,
					    "%s/%s: %s connection %zu not as expected (state %s, "
					    "subflows %d)\n",
					    sc->name, bm->name, k ? "server" : "client", i,
					    c->s && mpt_sock_info(c->s, &si) == 0 ? si.state : "-",
					    c->s ? mpt_sock_subflows(c->s, sf, 8) : -1);
			}
		}
	}
	if (bad || cl.errors || srv.errors || cm.overflow || sm.overflow) {
		fprintf(stderr, "%s/%s: %d connections not as expected, errors %d/%d\n", sc->name,
			bm->name, bad, cl.errors, srv.errors);
		return -1;
	}
	struct labels ls;
	labels_for(&ls, bm->knob);
	report_side(sc->name, bm->name, "client", n, &cm, &cbase, &ls, want_sf, (long)cbase.req);
	report_side(sc->name, bm->name, "server", n, &sm, &sbase, &ls, want_sf, (long)sbase.req);
	printf("rss scenario=%s buf=%s n=%zu rss_delta_kib=%ld rss_per_conn_pair=%.0f\n", sc->name,
	       bm->name, n, rss1 - rss0, (double)(rss1 - rss0) * 1024.0 / (double)n);

	mpt_simhost_destroy(cl.h);
	mpt_simhost_destroy(srv.h);
	mpt_sim_destroy(sim);
	free(cl.c);
	free(srv.c);
	if (cm.blocks || sm.blocks) {
		fprintf(stderr, "%s/%s: %ld/%ld blocks still live after destroy\n", sc->name,
			bm->name, cm.blocks, sm.blocks);
		return -1;
	}
	(void)malloc_trim(0);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	if (argc > 2 || n < 1 || n > 10000) {
		fprintf(stderr, "usage: conn_memory [N 1..10000]\n");
		return 2;
	}
	static const struct scn scns[] = {
	    {"mptcp2", true, 2},
	    {"mptcp1", true, 1},
	    {"tcp", false, 1},
	};
	static const struct buf_mode bufs[] = {
	    {"default", 0},
	    {"small", 4096},
	};
	printf("conn_memory n=%ld sizeof_max_align=%zu\n", n, HDR);
	for (size_t b = 0; b < sizeof(bufs) / sizeof(bufs[0]); b++)
		for (size_t s = 0; s < sizeof(scns) / sizeof(scns[0]); s++)
			if (run(&scns[s], &bufs[b], (size_t)n) < 0) {
				fprintf(stderr, "conn_memory: %s/%s failed\n", scns[s].name,
					bufs[b].name);
				return 1;
			}
	return 0;
}
