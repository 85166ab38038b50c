/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt analyze FILE`: Multipath TCP connections in a capture file, as
 * mptcptrace and mptcpanalyzer report them, without Python.
 *
 * Every TCP flow is followed (handshake, sequence space, payload, ACKs);
 * MPTCP options are decoded with the library's codec (src/wire/mptcp.c);
 * flows are tied into MPTCP connections by the tokens the MP_CAPABLE keys
 * give (RFC 8684 §3.2: the token is the most significant 32 bits of the
 * SHA-256 of the key; RFC 6824: of its SHA-1) and that MP_JOIN SYNs carry;
 * payload is placed in the data sequence space with the DSS mappings
 * (§3.3.1: DSN of a subflow byte = mapping DSN + (its relative subflow
 * sequence number - mapping SSN)).  Per connection and direction:
 *   - bytes: the data-level stream's length (each DSN counted once);
 *   - per subflow: payload bytes sent on it (retransmissions included),
 *     new data-level bytes first carried by it (its share), TCP
 *     retransmissions (bytes below the subflow's highest sequence sent),
 *     reinjections (data-level bytes carried before by another subflow,
 *     §3.3.6), RTT (the handshake's, from any vantage point: third ACK -
 *     SYN; and data -> ACK samples, Karn's rule, exact near the sender);
 *   - events: ADD_ADDR, REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE,
 *     MP_TCPRST, DATA_FIN, fallback.
 * Plots (--svg DIR): the data sequence number over time (a dot per segment,
 * a color per subflow) and the throughput per subflow over time.
 *
 * Bounded: at most ANZ_MAX_FLOWS flows, ANZ_MAX_CONNS connections,
 * ANZ_MAX_RANGES data-level ranges per direction (beyond: reinjections are
 * no longer told apart, and the report says so), plot points thinned.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/crypto.h"
#include "pcapread.h"
#include "svgplot.h"
#include "tool.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

#define ANZ_MAX_FLOWS     65536
#define ANZ_MAX_CONNS     16384
#define ANZ_MAX_RANGES    1000000 /* per connection and direction */
#define ANZ_MAPS          64      /* DSS mappings remembered per subflow direction */
#define ANZ_PENDING       4096    /* segments awaiting their ACK (RTT), per direction */
#define ANZ_POINTS        20000   /* DSN plot points per subflow direction */
#define ANZ_BIN_NS        (10 * MPT_NS_PER_MS)
#define ANZ_MAX_BINS      (1u << 20) /* 10 ms bins: ~3 hours */
#define ANZ_MAX_EVENTS    256        /* per connection */
/*
 * A capture of several interfaces (dumpcap -i A -i B, pcapng) is written
 * in the order the capturer drained each interface's buffer, not in time
 * order: a join's SYN on one interface can come in the file before the
 * MP_CAPABLE handshake it refers to on the other, and the join would then
 * be left without its connection.  Records go through a reorder buffer
 * sorted by timestamp, bounded in records and bytes; what arrives later
 * than the buffer can hold is still analysed, and counted.
 */
#define ANZ_REORDER_PKTS  65536
#define ANZ_REORDER_BYTES (64u * 1024u * 1024u)

static const char *prog = "mpt analyze";

struct map {
	uint64_t dsn;
	uint32_t ssn, len;
};

struct pend {
	uint32_t end;
	uint64_t t;
};

struct points {
	double *t, *y;
	size_t n, cap;
	uint64_t stride, seen;
};

/* One direction of a flow: from its sender's view. */
struct fdir {
	uint32_t isn;
	bool isn_known;
	uint32_t hi; /* highest sequence number sent + 1 */
	bool have_hi;
	uint64_t bytes, segs, retr, newdata; /* newdata: data-level bytes first seen here */
	uint64_t reinj;
	struct map maps[ANZ_MAPS];
	size_t nmaps, mapi;
	struct pend pend[ANZ_PENDING];
	size_t ph, pn;
	uint64_t rtt_n, rtt_sum, rtt_min, rtt_max; /* ns */
	bool fin, rst;
	uint8_t addr_id;
	bool backup;
	struct points pts;
	uint64_t *bins;
	size_t nbins;
};

struct flow {
	struct mpt_endpoint a, b; /* a: the SYN's sender (or the first packet's) */
	bool seen, syn, synack, ack3;
	uint64_t t_syn, t_ack3, first_t, last_t;
	struct fdir d[2]; /* 0: a -> b, 1: b -> a */
	/* MPTCP */
	bool mpc_syn, mpc_synack, join_syn, join_synack;
	uint8_t version;
	bool key_a_known, key_b_known;
	uint64_t key_a, key_b;
	uint32_t join_token;
	int conn;          /* -1: none */
	bool a_is_a;       /* our a is the connection's a (its initial subflow's client) */
	int index;         /* subflow number within the connection */
	struct flow *next; /* hash chain */
};

struct range {
	uint64_t s, e; /* [s, e) data-level offsets */
	int sf;
};

struct cdir {
	struct range *r;
	size_t n, cap;
	bool overflow;
	uint64_t bytes;    /* data-level bytes (union of ranges) */
	uint64_t last_dsn; /* for expanding 32-bit DSNs */
	bool data_fin;
};

struct event {
	uint64_t t;
	int dir;
	char text[112];
};

struct conn {
	struct flow *sf[32];
	size_t nsf;
	uint8_t version;
	uint32_t token_a, token_b;
	uint64_t idsn_a, idsn_b;
	struct cdir d[2];
	struct event ev[ANZ_MAX_EVENTS];
	size_t nev, ev_dropped;
	bool fallback, fastclose;
	uint64_t first_t, last_t;
};

struct anz {
	struct flow *table[1 << 16];
	struct flow *flows[ANZ_MAX_FLOWS];
	size_t nflows;
	uint64_t flows_dropped;
	struct conn *conns[ANZ_MAX_CONNS];
	size_t nconns;
	uint64_t packets, tcp_packets, bad, t0;
	bool have_t0;
};

/* ---- the reorder buffer: a min-heap on (timestamp, file order) ------------------------ */

struct rec {
	uint64_t ts, seq;
	size_t len;
	uint8_t *data;
};

struct reorder {
	struct rec *h;
	size_t n, cap, bytes;
	uint64_t seq;
	uint64_t last_ts; /* of the last record released */
	bool released;
	uint64_t late; /* released records older than one released before */
};

static bool rec_lt(const struct rec *x, const struct rec *y)
{
	return x->ts < y->ts || (x->ts == y->ts && x->seq < y->seq);
}

static void heap_up(struct reorder *r, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!rec_lt(&r->h[i], &r->h[p]))
			break;
		struct rec t = r->h[i];
		r->h[i] = r->h[p];
		r->h[p] = t;
		i = p;
	}
}

static void heap_down(struct reorder *r, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < r->n && rec_lt(&r->h[l], &r->h[m]))
			m = l;
		if (l + 1 < r->n && rec_lt(&r->h[l + 1], &r->h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct rec t = r->h[i];
		r->h[i] = r->h[m];
		r->h[m] = t;
		i = m;
	}
}

static void packet(struct anz *z, const uint8_t *pkt, size_t len, uint64_t t);

/* Release the earliest record to the analysis. */
static void reorder_pop(struct reorder *r, struct anz *z)
{
	struct rec top = r->h[0];
	r->h[0] = r->h[--r->n];
	heap_down(r, 0);
	r->bytes -= top.len;
	if (r->released && top.ts < r->last_ts)
		r->late++;
	if (!r->released || top.ts > r->last_ts)
		r->last_ts = top.ts;
	r->released = true;
	packet(z, top.data, top.len, top.ts);
	free(top.data);
}

/* Add a record; returns -1 when out of memory (it is then analysed at once). */
static int reorder_push(struct reorder *r, struct anz *z, const uint8_t *pkt, size_t len,
			uint64_t ts)
{
	while (r->n && (r->n >= ANZ_REORDER_PKTS || r->bytes + len > ANZ_REORDER_BYTES))
		reorder_pop(r, z);
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024;
		struct rec *h = realloc(r->h, cap * sizeof(*h));
		if (!h)
			goto direct;
		r->h = h;
		r->cap = cap;
	}
	uint8_t *d = malloc(len ? len : 1);
	if (!d)
		goto direct;
	memcpy(d, pkt, len);
	r->h[r->n] = (struct rec){.ts = ts, .seq = r->seq++, .len = len, .data = d};
	r->bytes += len;
	heap_up(r, r->n++);
	return 0;
direct:
	packet(z, pkt, len, ts);
	return -1;
}

static void reorder_drain(struct reorder *r, struct anz *z)
{
	while (r->n)
		reorder_pop(r, z);
	free(r->h);
	r->h = NULL;
	r->cap = 0;
}

/* ---- small helpers -------------------------------------------------------------- */

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static bool ep_eq(const struct mpt_endpoint *x, const struct mpt_endpoint *y)
{
	return x->port == y->port && mpt_addr_equal(&x->addr, &y->addr);
}

static uint32_t hash_eps(const struct mpt_endpoint *x, const struct mpt_endpoint *y)
{
	uint32_t h = 2166136261u;
	const struct mpt_endpoint *e[2] = {x, y};
	uint32_t part[2];
	for (int k = 0; k < 2; k++) {
		uint32_t v = 2166136261u;
		for (size_t i = 0; i < 16; i++)
			v = (v ^ e[k]->addr.bytes[i]) * 16777619u;
		v = (v ^ e[k]->port) * 16777619u;
		part[k] = v;
	}
	h ^= part[0] ^ part[1]; /* symmetric: either direction finds the flow */
	return (h ^ (h >> 16)) & 0xffffu;
}

static void points_add(struct points *p, double t, double y)
{
	if (!p->stride)
		p->stride = 1;
	if (p->seen++ % p->stride)
		return;
	if (p->n == p->cap) {
		if (p->cap == ANZ_POINTS) { /* thin out: keep every other point */
			for (size_t i = 0; i < p->n / 2; i++) {
				p->t[i] = p->t[2 * i];
				p->y[i] = p->y[2 * i];
			}
			p->n /= 2;
			p->stride *= 2;
		} else {
			size_t cap = p->cap ? p->cap * 2 : 256;
			if (cap > ANZ_POINTS)
				cap = ANZ_POINTS;
			double *nt = realloc(p->t, cap * sizeof(double));
			if (!nt)
				return;
			p->t = nt;
			double *ny = realloc(p->y, cap * sizeof(double));
			if (!ny)
				return;
			p->y = ny;
			p->cap = cap;
		}
	}
	p->t[p->n] = t;
	p->y[p->n] = y;
	p->n++;
}

static void bins_add(struct fdir *d, uint64_t rel_ns, uint64_t bytes)
{
	size_t b = (size_t)(rel_ns / ANZ_BIN_NS);
	if (b >= ANZ_MAX_BINS)
		return;
	if (b >= d->nbins) {
		size_t n = d->nbins ? d->nbins : 64;
		while (n <= b)
			n *= 2;
		uint64_t *nb = realloc(d->bins, n * sizeof(uint64_t));
		if (!nb)
			return;
		memset(nb + d->nbins, 0, (n - d->nbins) * sizeof(uint64_t));
		d->bins = nb;
		d->nbins = n;
	}
	d->bins[b] += bytes;
}

static void conn_event(struct conn *c, uint64_t t, int dir, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void conn_event(struct conn *c, uint64_t t, int dir, const char *fmt, ...)
{
	if (c->nev == ANZ_MAX_EVENTS) {
		c->ev_dropped++;
		return;
	}
	struct event *e = &c->ev[c->nev++];
	e->t = t;
	e->dir = dir;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

/* ---- flows and connections ---------------------------------------------------------- */

static struct flow *flow_get(struct anz *z, const struct mpt_endpoint *src,
			     const struct mpt_endpoint *dst, bool syn_only, int *dir)
{
	uint32_t h = hash_eps(src, dst);
	for (struct flow *f = z->table[h]; f; f = f->next) {
		if (ep_eq(&f->a, src) && ep_eq(&f->b, dst)) {
			*dir = 0;
			return f;
		}
		if (ep_eq(&f->b, src) && ep_eq(&f->a, dst)) {
			*dir = 1;
			return f;
		}
	}
	(void)syn_only;
	if (z->nflows == ANZ_MAX_FLOWS) {
		z->flows_dropped++;
		return NULL;
	}
	struct flow *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->a = *src;
	f->b = *dst;
	f->conn = -1;
	f->next = z->table[h];
	z->table[h] = f;
	z->flows[z->nflows++] = f;
	*dir = 0;
	return f;
}

static struct conn *conn_of(struct anz *z, const struct flow *f)
{
	return f->conn >= 0 ? z->conns[f->conn] : NULL;
}

/* Both MP_CAPABLE keys seen: the initial subflow becomes a connection. */
static void conn_create(struct anz *z, struct flow *f)
{
	if (f->conn >= 0 || !f->key_a_known || !f->key_b_known || z->nconns == ANZ_MAX_CONNS)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->version = f->version;
	int v = f->version == 0 ? 0 : 1;
	if (mpt_key_token_idsn(v, f->key_a, &c->token_a, &c->idsn_a) < 0 ||
	    mpt_key_token_idsn(v, f->key_b, &c->token_b, &c->idsn_b) < 0) {
		free(c);
		return;
	}
	c->d[0].last_dsn = c->idsn_a + 1;
	c->d[1].last_dsn = c->idsn_b + 1;
	c->first_t = f->first_t;
	f->conn = (int)z->nconns;
	f->a_is_a = true;
	f->index = 0;
	c->sf[c->nsf++] = f;
	z->conns[z->nconns++] = c;
}

static void conn_join(struct anz *z, struct flow *f)
{
	if (f->conn >= 0 || !f->join_syn)
		return;
	for (size_t i = 0; i < z->nconns; i++) {
		struct conn *c = z->conns[i];
		bool to_b = c->token_b == f->join_token, to_a = c->token_a == f->join_token;
		if (!to_a && !to_b)
			continue;
		if (c->nsf == sizeof(c->sf) / sizeof(c->sf[0]))
			return;
		/* The join SYN goes to the host whose token it carries. */
		f->conn = (int)i;
		f->a_is_a = to_b;
		f->index = (int)c->nsf;
		f->version = c->version;
		c->sf[c->nsf++] = f;
		return;
	}
}

/* ---- the data sequence space --------------------------------------------------------- */

static bool ranges_grow(struct cdir *d)
{
	if (d->n < d->cap)
		return true;
	if (d->cap >= ANZ_MAX_RANGES) {
		d->overflow = true;
		return false;
	}
	size_t cap = d->cap ? d->cap * 2 : 256;
	struct range *r = realloc(d->r, cap * sizeof(*r));
	if (!r) {
		d->overflow = true;
		return false;
	}
	d->r = r;
	d->cap = cap;
	return true;
}

/*
 * Data-level bytes [s, e) carried by subflow sf: add the part never seen to
 * the connection's ranges; return in *fresh the bytes seen for the first
 * time, in *reinj those carried before by another subflow.
 */
static void dsn_record(struct cdir *d, uint64_t s, uint64_t e, int sf, uint64_t *fresh,
		       uint64_t *reinj)
{
	*fresh = *reinj = 0;
	/* First range ending after s (binary search on the sorted ranges). */
	size_t lo = 0, hi = d->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->r[mid].e <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint64_t cur = s;
	size_t i = lo;
	while (cur < e) {
		if (i < d->n && d->r[i].s <= cur) {
			uint64_t end = d->r[i].e < e ? d->r[i].e : e;
			if (d->r[i].sf != sf)
				*reinj += end - cur;
			cur = end;
			i++;
			continue;
		}
		/* A gap [cur, next start or e): new data. */
		uint64_t gap_end = (i < d->n && d->r[i].s < e) ? d->r[i].s : e;
		*fresh += gap_end - cur;
		/* Merge with the previous range when it is the same subflow's
		 * and adjacent, else insert. */
		if (i > 0 && d->r[i - 1].e == cur && d->r[i - 1].sf == sf) {
			d->r[i - 1].e = gap_end;
		} else if (ranges_grow(d)) {
			memmove(d->r + i + 1, d->r + i, (d->n - i) * sizeof(*d->r));
			d->r[i] = (struct range){cur, gap_end, sf};
			d->n++;
			i++;
		}
		cur = gap_end;
	}
	d->bytes += *fresh;
}

static const struct map *map_find(const struct fdir *d, uint32_t rel)
{
	for (size_t k = 0; k < d->nmaps; k++) {
		size_t i = (d->mapi + ANZ_MAPS - 1 - k) % ANZ_MAPS;
		const struct map *m = &d->maps[i];
		if (m->len && seq_le(m->ssn, rel) && seq_lt(rel, m->ssn + m->len))
			return m;
	}
	return NULL;
}

static void map_add(struct fdir *d, uint64_t dsn, uint32_t ssn, uint32_t len)
{
	/* The same mapping repeated on every segment is kept once. */
	if (d->nmaps) {
		struct map *last = &d->maps[(d->mapi + ANZ_MAPS - 1) % ANZ_MAPS];
		if (last->dsn == dsn && last->ssn == ssn && last->len == len)
			return;
	}
	d->maps[d->mapi] = (struct map){dsn, ssn, len};
	d->mapi = (d->mapi + 1) % ANZ_MAPS;
	if (d->nmaps < ANZ_MAPS)
		d->nmaps++;
}

/* Payload [seq, seq + len) of flow f in direction dir, at time t. */
static void place_data(struct anz *z, struct flow *f, int dir, uint32_t seq, uint32_t len,
		       uint64_t t)
{
	struct conn *c = conn_of(z, f);
	struct fdir *fd = &f->d[dir];
	if (!c || !fd->isn_known)
		return;
	int cd = f->a_is_a ? dir : 1 - dir;
	uint64_t base = (cd == 0 ? c->idsn_a : c->idsn_b) + 1;
	uint32_t rel = seq - fd->isn;
	uint32_t done = 0;
	while (done < len) {
		const struct map *m = map_find(fd, rel + done);
		if (!m)
			break; /* no mapping (yet): not placed */
		uint32_t off = rel + done - m->ssn;
		uint32_t n = m->ssn + m->len - (rel + done);
		if (n > len - done)
			n = len - done;
		uint64_t dsn = m->dsn + off;
		uint64_t s = dsn - base, fresh, reinj;
		dsn_record(&c->d[cd], s, s + n, f->index, &fresh, &reinj);
		fd->newdata += fresh;
		fd->reinj += reinj;
		points_add(&fd->pts, (double)(t - c->first_t) / 1e9, (double)(s + n) / 1048576.0);
		done += n;
	}
}

/* ---- MPTCP options ------------------------------------------------------------------ */

static void add_addr_text(char *buf, size_t len, const struct mpt_mptcp_add_addr *a)
{
	char s[64];
	mpt_addr_format(&a->addr, s, sizeof(s));
	if (a->has_port)
		snprintf(buf, len, "%s port %u", s, a->port);
	else
		snprintf(buf, len, "%s", s);
}

static void mptcp_opt(struct anz *z, struct flow *f, int dir, const struct mpt_tcp_hdr *th,
		      const uint8_t *o, size_t olen, uint64_t t)
{
	struct mpt_mptcp_parse_ctx ctx = {.version = f->version <= 1 ? f->version : 1,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(th->flags)};
	if (!f->mpc_syn && !f->join_syn)
		ctx.version = 1;
	struct mpt_mptcp_opt m;
	if (mpt_mptcp_parse(&m, o, olen, &ctx) < 0 || m.unknown) {
		z->bad++;
		return;
	}
	struct conn *c = conn_of(z, f);
	int cd = f->a_is_a ? dir : 1 - dir;
	bool syn = th->flags & MPT_TCP_SYN, ack = th->flags & MPT_TCP_ACK;
	switch (m.subtype) {
	case MPT_MPTCP_MP_CAPABLE:
		if (syn && !ack) {
			f->mpc_syn = true;
			f->version = m.version;
			if (m.u.mpc.form == MPT_MPC_ONEKEY) { /* v0: the client's key */
				f->key_a = m.u.mpc.snd_key;
				f->key_a_known = true;
			}
		} else if (syn && ack) {
			f->mpc_synack = true;
			f->version = m.version;
			f->key_b = m.u.mpc.snd_key;
			f->key_b_known = true;
		} else if (m.u.mpc.form == MPT_MPC_TWOKEYS || m.u.mpc.form == MPT_MPC_DATA) {
			/* Third ACK (or data with both keys): sender's key first. */
			if (dir == 0) {
				f->key_a = m.u.mpc.snd_key;
				f->key_b = m.u.mpc.rcv_key;
			} else {
				f->key_a = m.u.mpc.rcv_key;
				f->key_b = m.u.mpc.snd_key;
			}
			f->key_a_known = f->key_b_known = true;
			conn_create(z, f);
			c = conn_of(z, f);
			/* v1 MP_CAPABLE with data: the first mapping (§3.1). */
			if (c && m.u.mpc.form == MPT_MPC_DATA && m.u.mpc.data_len)
				map_add(&f->d[dir], (dir == 0 ? c->idsn_a : c->idsn_b) + 1, 1,
					m.u.mpc.data_len);
		}
		break;
	case MPT_MPTCP_MP_JOIN:
		if (syn && !ack) {
			f->join_syn = true;
			f->join_token = m.u.join.token;
			f->d[dir].addr_id = m.u.join.addr_id;
			f->d[dir].backup = m.u.join.backup;
			conn_join(z, f);
		} else if (syn && ack) {
			f->join_synack = true;
			f->d[dir].addr_id = m.u.join.addr_id;
			f->d[dir].backup = m.u.join.backup;
		}
		break;
	case MPT_MPTCP_DSS:
		if (!c)
			break;
		if (m.u.dss.flags & MPT_DSS_F_MAP) {
			uint64_t dsn = m.u.dss.dsn;
			if (!(m.u.dss.flags & MPT_DSS_F_DSN64))
				dsn = mpt_dsn_expand(c->d[cd].last_dsn, (uint32_t)dsn);
			c->d[cd].last_dsn = dsn;
			if (m.u.dss.data_len == 0 && !(m.u.dss.flags & MPT_DSS_F_FIN)) {
				if (!c->fallback)
					conn_event(c, t, cd, "infinite mapping: fell back to TCP");
				c->fallback = true;
			} else {
				map_add(&f->d[dir], dsn, m.u.dss.ssn, m.u.dss.data_len);
			}
		}
		if ((m.u.dss.flags & MPT_DSS_F_FIN) && !c->d[cd].data_fin) {
			c->d[cd].data_fin = true;
			conn_event(c, t, cd, "DATA_FIN");
		}
		break;
	case MPT_MPTCP_ADD_ADDR:
		if (c) {
			char a[96];
			add_addr_text(a, sizeof(a), &m.u.add_addr);
			conn_event(c, t, cd, "ADD_ADDR%s id %u %s",
				   m.u.add_addr.echo ? " (echo)" : "", m.u.add_addr.addr_id, a);
		}
		break;
	case MPT_MPTCP_REMOVE_ADDR:
		if (c) {
			char ids[64] = "";
			size_t l = 0;
			for (uint8_t i = 0; i < m.u.rm_addr.n && l < sizeof(ids) - 5; i++)
				l += (size_t)snprintf(ids + l, sizeof(ids) - l, "%s%u",
						      i ? "," : "", m.u.rm_addr.ids[i]);
			conn_event(c, t, cd, "REMOVE_ADDR id %s", ids);
		}
		break;
	case MPT_MPTCP_MP_PRIO:
		f->d[dir].backup = m.u.prio.backup;
		if (c)
			conn_event(c, t, cd, "MP_PRIO on subflow %d: backup=%d", f->index + 1,
				   m.u.prio.backup);
		break;
	case MPT_MPTCP_MP_FAIL:
		if (c)
			conn_event(c, t, cd, "MP_FAIL on subflow %d", f->index + 1);
		break;
	case MPT_MPTCP_MP_FASTCLOSE:
		if (c && !c->fastclose) {
			c->fastclose = true;
			conn_event(c, t, cd, "MP_FASTCLOSE");
		}
		break;
	case MPT_MPTCP_MP_TCPRST:
		if (c)
			conn_event(c, t, cd, "MP_TCPRST on subflow %d: %s", f->index + 1,
				   mpt_tcprst_reason_str(m.u.tcprst.reason));
		break;
	default:
		break;
	}
}

/* ---- packets ----------------------------------------------------------------------- */

static void rtt_ack(struct fdir *d, uint32_t ack, uint64_t t)
{
	uint64_t newest = 0;
	bool any = false;
	while (d->pn && seq_le(d->pend[d->ph].end, ack)) {
		newest = d->pend[d->ph].t;
		any = true;
		d->ph = (d->ph + 1) % ANZ_PENDING;
		d->pn--;
	}
	if (!any || t < newest)
		return;
	uint64_t s = t - newest;
	d->rtt_n++;
	d->rtt_sum += s;
	if (!d->rtt_min || s < d->rtt_min)
		d->rtt_min = s;
	if (s > d->rtt_max)
		d->rtt_max = s;
}

static void packet(struct anz *z, const uint8_t *pkt, size_t len, uint64_t t)
{
	z->packets++;
	struct mpt_ip_hdr ip;
	if (mpt_ip_parse(&ip, pkt, len, false) < 0 || ip.proto != 6) {
		return;
	}
	/* The capture may have cut the payload (snaplen): use what is there. */
	size_t avail = len - ip.hdr_len;
	if (avail > ip.payload_len)
		avail = ip.payload_len;
	const uint8_t *seg = pkt + ip.hdr_len;
	struct mpt_tcp_hdr th;
	if (mpt_tcp_hdr_parse(&th, seg, avail) < 0) {
		z->bad++;
		return;
	}
	z->tcp_packets++;
	if (!z->have_t0) {
		z->t0 = t;
		z->have_t0 = true;
	}
	uint32_t plen = (uint32_t)(ip.payload_len - th.hdr_len);
	struct mpt_endpoint src = {.addr = ip.src, .port = th.sport};
	struct mpt_endpoint dst = {.addr = ip.dst, .port = th.dport};
	int dir;
	bool syn = th.flags & MPT_TCP_SYN, ack = th.flags & MPT_TCP_ACK;
	struct flow *f = flow_get(z, &src, &dst, syn, &dir);
	if (!f)
		return;
	/* A new SYN on a finished 4-tuple is a new flow: not tracked apart
	 * (rare in the captures this reads); a SYN/ACK seen first means the
	 * responder is b. */
	if (!f->seen) {
		f->seen = true;
		f->first_t = t;
		if (syn && ack) { /* we missed the SYN: swap so that a is the client */
			struct mpt_endpoint tmp = f->a;
			f->a = f->b;
			f->b = tmp;
			dir = 1;
		}
	}
	f->last_t = t;
	struct fdir *d = &f->d[dir];
	if (syn) {
		d->isn = th.seq;
		d->isn_known = true;
		d->hi = th.seq + 1;
		d->have_hi = true;
		if (!ack && !f->syn) {
			f->syn = true;
			f->t_syn = t;
		}
		if (ack)
			f->synack = true;
	} else if (ack && f->syn && f->synack && !f->ack3 && dir == 0) {
		f->ack3 = true;
		f->t_ack3 = t;
	}
	if (!d->isn_known) { /* no SYN seen: relative to the first byte */
		d->isn = th.seq - 1;
		d->isn_known = true;
	}
	if (th.flags & MPT_TCP_FIN)
		d->fin = true;
	if (th.flags & MPT_TCP_RST)
		d->rst = true;
	/* MPTCP options first (a segment's DSS maps its own payload). */
	struct mpt_tcp_opts opts;
	if (th.opt_len && mpt_tcp_opts_parse(&opts, th.opt, th.opt_len) == 0) {
		for (uint8_t i = 0; i < opts.n_mptcp; i++)
			mptcp_opt(z, f, dir, &th, th.opt + opts.mptcp[i].off, opts.mptcp[i].len, t);
	}
	if (syn && !ack && !f->mpc_syn && !f->join_syn)
		f->version = 255; /* plain TCP SYN */
	if (syn && ack && f->mpc_syn && !f->mpc_synack && !f->join_syn)
		f->version = 255; /* the answer had no MP_CAPABLE: plain TCP */
	struct conn *c = conn_of(z, f);
	if (c)
		c->last_t = t;
	if (ack)
		rtt_ack(&f->d[1 - dir], th.ack, t);
	if (plen == 0)
		return;
	d->bytes += plen;
	d->segs++;
	uint32_t end = th.seq + plen;
	if (d->have_hi && seq_le(end, d->hi)) {
		d->retr += plen;
		d->pn = 0; /* Karn: no RTT from what was sent twice */
	} else {
		if (d->have_hi && seq_lt(th.seq, d->hi)) {
			d->retr += d->hi - th.seq;
			d->pn = 0;
		}
		d->hi = end;
		d->have_hi = true;
		if (d->pn < ANZ_PENDING) {
			d->pend[(d->ph + d->pn) % ANZ_PENDING] = (struct pend){end, t};
			d->pn++;
		}
	}
	if (c) {
		int cd = f->a_is_a ? dir : 1 - dir;
		(void)cd;
		bins_add(d, t - c->first_t, plen);
		place_data(z, f, dir, th.seq, plen, t);
	}
}

/* ---- reports ------------------------------------------------------------------------- */

static void ep_text(const struct mpt_endpoint *e, char *buf, size_t len)
{
	char a[64];
	mpt_addr_format(&e->addr, a, sizeof(a));
	if (e->addr.family == 6)
		snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		snprintf(buf, len, "%s:%u", a, e->port);
}

/* The connection's direction cd as seen from subflow f: f's own direction. */
static int sf_dir(const struct flow *f, int cd)
{
	return f->a_is_a ? cd : 1 - cd;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static cJSON *conn_json(const struct conn *c, int idx)
{
	cJSON *o = cJSON_CreateObject();
	const struct flow *f0 = c->sf[0];
	char a[80], b[80], t[16];
	ep_text(&f0->a, a, sizeof(a));
	ep_text(&f0->b, b, sizeof(b));
	cJSON_AddNumberToObject(o, "id", idx + 1);
	cJSON_AddStringToObject(o, "client", a);
	cJSON_AddStringToObject(o, "server", b);
	cJSON_AddNumberToObject(o, "version", c->version);
	snprintf(t, sizeof(t), "%08x", c->token_a);
	cJSON_AddStringToObject(o, "client_token", t);
	snprintf(t, sizeof(t), "%08x", c->token_b);
	cJSON_AddStringToObject(o, "server_token", t);
	cJSON_AddNumberToObject(o, "duration", secs(c->last_t - c->first_t));
	cJSON_AddBoolToObject(o, "fallback", c->fallback);
	cJSON_AddBoolToObject(o, "fastclose", c->fastclose);
	cJSON *dirs = cJSON_AddArrayToObject(o, "directions");
	for (int cd = 0; cd < 2; cd++) {
		const struct cdir *d = &c->d[cd];
		cJSON *dj = cJSON_CreateObject();
		cJSON_AddStringToObject(dj, "from", cd == 0 ? a : b);
		cJSON_AddStringToObject(dj, "to", cd == 0 ? b : a);
		cJSON_AddNumberToObject(dj, "bytes", (double)d->bytes);
		cJSON_AddBoolToObject(dj, "data_fin", d->data_fin);
		cJSON_AddBoolToObject(dj, "reinjections_complete", !d->overflow);
		uint64_t reinj = 0;
		cJSON *sfs = cJSON_AddArrayToObject(dj, "subflows");
		for (size_t i = 0; i < c->nsf; i++) {
			const struct flow *f = c->sf[i];
			const struct fdir *fd = &f->d[sf_dir(f, cd)];
			const struct fdir *fr = &f->d[1 - sf_dir(f, cd)];
			reinj += fd->reinj;
			cJSON *s = cJSON_CreateObject();
			char sa[80], sb[80];
			/* Addresses as the direction goes. */
			ep_text(sf_dir(f, cd) == 0 ? &f->a : &f->b, sa, sizeof(sa));
			ep_text(sf_dir(f, cd) == 0 ? &f->b : &f->a, sb, sizeof(sb));
			cJSON_AddNumberToObject(s, "subflow", (double)i + 1);
			cJSON_AddStringToObject(s, "from", sa);
			cJSON_AddStringToObject(s, "to", sb);
			cJSON_AddBoolToObject(s, "join", i > 0);
			cJSON_AddNumberToObject(s, "from_addr_id", fd->addr_id);
			cJSON_AddNumberToObject(s, "to_addr_id", fr->addr_id);
			cJSON_AddBoolToObject(s, "backup", fd->backup);
			cJSON_AddNumberToObject(s, "bytes", (double)fd->bytes);
			cJSON_AddNumberToObject(s, "segments", (double)fd->segs);
			cJSON_AddNumberToObject(s, "new_bytes", (double)fd->newdata);
			cJSON_AddNumberToObject(
			    s, "share", d->bytes ? (double)fd->newdata / (double)d->bytes : 0.0);
			cJSON_AddNumberToObject(s, "retransmitted_bytes", (double)fd->retr);
			cJSON_AddNumberToObject(s, "reinjected_bytes", (double)fd->reinj);
			if (f->ack3)
				cJSON_AddNumberToObject(s, "rtt_handshake_ms",
							(double)(f->t_ack3 - f->t_syn) / 1e6);
			if (fd->rtt_n) {
				cJSON_AddNumberToObject(s, "rtt_samples", (double)fd->rtt_n);
				cJSON_AddNumberToObject(s, "rtt_min_ms", (double)fd->rtt_min / 1e6);
				cJSON_AddNumberToObject(s, "rtt_mean_ms",
							(double)fd->rtt_sum / (double)fd->rtt_n /
							    1e6);
				cJSON_AddNumberToObject(s, "rtt_max_ms", (double)fd->rtt_max / 1e6);
			}
			cJSON_AddBoolToObject(s, "fin", fd->fin);
			cJSON_AddBoolToObject(s, "rst", fd->rst);
			cJSON_AddItemToArray(sfs, s);
		}
		cJSON_AddNumberToObject(dj, "reinjected_bytes", (double)reinj);
		cJSON_AddItemToArray(dirs, dj);
	}
	cJSON *ev = cJSON_AddArrayToObject(o, "events");
	for (size_t i = 0; i < c->nev; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "time", secs(c->ev[i].t - c->first_t));
		cJSON_AddStringToObject(e, "from", c->ev[i].dir == 0 ? "client" : "server");
		cJSON_AddStringToObject(e, "event", c->ev[i].text);
		cJSON_AddItemToArray(ev, e);
	}
	if (c->ev_dropped)
		cJSON_AddNumberToObject(o, "events_not_listed", (double)c->ev_dropped);
	return o;
}

static void human_bytes(char *buf, size_t len, uint64_t b)
{
	if (b >= 10u * 1048576u)
		snprintf(buf, len, "%.1f MiB", (double)b / 1048576.0);
	else if (b >= 10u * 1024u)
		snprintf(buf, len, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, len, "%" PRIu64 " B", b);
}

static void print_conn(const cJSON *o)
{
	printf("MPTCP connection %d: %s -> %s, version %d, tokens %s (client) %s (server), "
	       "%.3f s%s%s\n",
	       (int)cJSON_GetObjectItem(o, "id")->valuedouble,
	       cJSON_GetObjectItem(o, "client")->valuestring,
	       cJSON_GetObjectItem(o, "server")->valuestring,
	       (int)cJSON_GetObjectItem(o, "version")->valuedouble,
	       cJSON_GetObjectItem(o, "client_token")->valuestring,
	       cJSON_GetObjectItem(o, "server_token")->valuestring,
	       cJSON_GetObjectItem(o, "duration")->valuedouble,
	       cJSON_IsTrue(cJSON_GetObjectItem(o, "fallback")) ? ", FELL BACK to TCP" : "",
	       cJSON_IsTrue(cJSON_GetObjectItem(o, "fastclose")) ? ", MP_FASTCLOSE" : "");
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(o, "directions"))
	{
		uint64_t bytes = (uint64_t)cJSON_GetObjectItem(d, "bytes")->valuedouble;
		char hb[32], hr[32];
		human_bytes(hb, sizeof(hb), bytes);
		human_bytes(hr, sizeof(hr),
			    (uint64_t)cJSON_GetObjectItem(d, "reinjected_bytes")->valuedouble);
		double dur = cJSON_GetObjectItem(o, "duration")->valuedouble;
		printf("  %s -> %s: %" PRIu64 " bytes (%s)%s, %.2f Mbit/s over the connection, "
		       "reinjected %s%s\n",
		       cJSON_GetObjectItem(d, "from")->valuestring,
		       cJSON_GetObjectItem(d, "to")->valuestring, bytes, hb,
		       cJSON_IsTrue(cJSON_GetObjectItem(d, "data_fin")) ? ", DATA_FIN" : "",
		       dur > 0 ? (double)bytes * 8 / dur / 1e6 : 0.0, hr,
		       cJSON_IsTrue(cJSON_GetObjectItem(d, "reinjections_complete"))
			   ? ""
			   : " (too many ranges: reinjections not fully told apart)");
		if (bytes == 0)
			continue;
		printf("    %-2s %-46s %5s %12s %6s %10s %10s %9s %s\n", "sf", "from -> to", "ids",
		       "bytes", "share", "retrans", "reinject", "rtt(hs)", "rtt data min/avg/max");
		const cJSON *s;
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(d, "subflows"))
		{
			char path[100], ids[16], hs[16] = "-", rtt[48] = "-";
			snprintf(path, sizeof(path), "%s -> %s",
				 cJSON_GetObjectItem(s, "from")->valuestring,
				 cJSON_GetObjectItem(s, "to")->valuestring);
			snprintf(ids, sizeof(ids), "%d/%d",
				 (int)cJSON_GetObjectItem(s, "from_addr_id")->valuedouble,
				 (int)cJSON_GetObjectItem(s, "to_addr_id")->valuedouble);
			const cJSON *h = cJSON_GetObjectItem(s, "rtt_handshake_ms");
			if (h)
				snprintf(hs, sizeof(hs), "%.2f ms", h->valuedouble);
			const cJSON *mn = cJSON_GetObjectItem(s, "rtt_min_ms");
			if (mn)
				snprintf(rtt, sizeof(rtt), "%.2f/%.2f/%.2f ms", mn->valuedouble,
					 cJSON_GetObjectItem(s, "rtt_mean_ms")->valuedouble,
					 cJSON_GetObjectItem(s, "rtt_max_ms")->valuedouble);
			printf("    %-2d %-46s %5s %12.0f %5.1f%% %10.0f %10.0f %9s %s%s\n",
			       (int)cJSON_GetObjectItem(s, "subflow")->valuedouble, path, ids,
			       cJSON_GetObjectItem(s, "bytes")->valuedouble,
			       100 * cJSON_GetObjectItem(s, "share")->valuedouble,
			       cJSON_GetObjectItem(s, "retransmitted_bytes")->valuedouble,
			       cJSON_GetObjectItem(s, "reinjected_bytes")->valuedouble, hs, rtt,
			       cJSON_IsTrue(cJSON_GetObjectItem(s, "backup")) ? "  backup" : "");
		}
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(o, "events"))
	    printf("  %8.3f s  %-6s  %s\n", cJSON_GetObjectItem(e, "time")->valuedouble,
		   cJSON_GetObjectItem(e, "from")->valuestring,
		   cJSON_GetObjectItem(e, "event")->valuestring);
}

/* The plots of connection c's direction cd into dir/connN-*.svg. */
static int plot_conn(const struct conn *c, int idx, int cd, const char *dir)
{
	struct svg_series s[33];
	char labels[33][200];
	size_t ns = 0;
	char a[80], b[80], title[256], path[512];
	ep_text(cd == 0 ? &c->sf[0]->a : &c->sf[0]->b, a, sizeof(a));
	ep_text(cd == 0 ? &c->sf[0]->b : &c->sf[0]->a, b, sizeof(b));
	for (size_t i = 0; i < c->nsf && ns < 32; i++) {
		const struct flow *f = c->sf[i];
		const struct fdir *fd = &f->d[sf_dir(f, cd)];
		if (!fd->pts.n)
			continue;
		char sa[80], sb[80];
		ep_text(sf_dir(f, cd) == 0 ? &f->a : &f->b, sa, sizeof(sa));
		ep_text(sf_dir(f, cd) == 0 ? &f->b : &f->a, sb, sizeof(sb));
		snprintf(labels[ns], sizeof(labels[ns]), "subflow %zu: %s -> %s", i + 1, sa, sb);
		s[ns] = (struct svg_series){labels[ns], fd->pts.t, fd->pts.y, fd->pts.n, true};
		ns++;
	}
	if (!ns)
		return 0;
	snprintf(title, sizeof(title), "MPTCP connection %d, %s -> %s: data sequence number",
		 idx + 1, a, b);
	snprintf(path, sizeof(path), "%s/conn%d-%s-dsn.svg", dir, idx + 1, cd == 0 ? "up" : "down");
	if (svg_plot(path, title, "time since the connection's first packet (s)",
		     "data sequence number, relative (MiB)", s, ns, NULL, 0, false) < 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	printf("  plot: %s\n", path);
	/* Throughput: 10 ms bins summed to about 100 points; series 0 is
	 * the total, then one line per subflow (the same as in the DSN plot). */
	size_t nb = 0;
	const struct fdir *fds[32];
	size_t nf = 0;
	for (size_t i = 0; i < c->nsf && nf < ns; i++) {
		const struct flow *f = c->sf[i];
		const struct fdir *fd = &f->d[sf_dir(f, cd)];
		if (!fd->pts.n)
			continue;
		fds[nf++] = fd;
		size_t last = fd->nbins;
		while (last && !fd->bins[last - 1])
			last--;
		if (last > nb)
			nb = last;
	}
	size_t group = nb / 100 + 1;
	double width = (double)group * (double)ANZ_BIN_NS / 1e9;
	size_t np = (nb + group - 1) / group;
	if (!np)
		return 0;
	double *tx = calloc(np, sizeof(double)), *ys = calloc((nf + 1) * np, sizeof(double));
	if (!tx || !ys) {
		free(tx);
		free(ys);
		return -1;
	}
	for (size_t p = 0; p < np; p++)
		tx[p] = (double)(p + 1) * width;
	for (size_t k = 0; k < nf; k++) {
		for (size_t bi = 0; bi < fds[k]->nbins && bi < nb; bi++) {
			double v = (double)fds[k]->bins[bi] * 8 / width / 1e6;
			ys[(k + 1) * np + bi / group] += v;
			ys[bi / group] += v;
		}
	}
	struct svg_series t[33];
	t[0] = (struct svg_series){"all subflows (payload on the wire)", tx, ys, np, false};
	for (size_t k = 0; k < nf; k++)
		t[k + 1] = (struct svg_series){labels[k], tx, ys + (k + 1) * np, np, false};
	snprintf(title, sizeof(title), "MPTCP connection %d, %s -> %s: throughput per subflow",
		 idx + 1, a, b);
	snprintf(path, sizeof(path), "%s/conn%d-%s-tput.svg", dir, idx + 1,
		 cd == 0 ? "up" : "down");
	char ylab[64];
	snprintf(ylab, sizeof(ylab), "Mbit/s (%.0f ms bins)", width * 1000);
	int rc = svg_plot(path, title, "time since the connection's first packet (s)", ylab, t,
			  nf + 1, NULL, 0, true);
	if (rc < 0)
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
	else
		printf("  plot: %s\n", path);
	free(tx);
	free(ys);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mpt analyze [options] FILE\n"
		   "  Multipath TCP connections in a capture (pcap or pcapng: mpt's --pcap,\n"
		   "  tcpdump, dumpcap, Wireshark; raw IP, Ethernet, Linux cooked captures):\n"
		   "  per connection and direction the data-level bytes, and per subflow its\n"
		   "  addresses and address ids, payload bytes, share of the data, TCP\n"
		   "  retransmissions, reinjections, RTT (handshake; data -> ACK); the\n"
		   "  ADD_ADDR, REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE, MP_TCPRST, DATA_FIN\n"
		   "  and fallback events.\n"
		   "  --svg DIR         plots per connection and direction into DIR (created):\n"
		   "                    connN-up-dsn.svg (data sequence number over time, per\n"
		   "                    subflow; up: client to server, down: the other way)\n"
		   "                    and connN-up-tput.svg (throughput per subflow)\n"
		   "  -j, --json        the report as JSON\n"
		   "  -a, --all         list plain TCP connections too\n"
		   "  -h, --help        this text\n");
}

int mpt_cmd_analyze(int argc, char **argv)
{
	static const struct option lopts[] = {{"svg", required_argument, NULL, 's'},
					      {"json", no_argument, NULL, 'j'},
					      {"all", no_argument, NULL, 'a'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *svg = NULL;
	bool json = false, all = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "jah", lopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			svg = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: give one capture file\n", prog);
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	struct pcapr rd;
	if (pcapr_open(&rd, path) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, rd.err);
		pcapr_close(&rd);
		return 1;
	}
	struct anz *z = calloc(1, sizeof(*z));
	if (!z) {
		pcapr_close(&rd);
		return 1;
	}
	const uint8_t *ip;
	size_t len;
	uint64_t ts;
	int rc, status = 0;
	struct reorder ro = {0};
	while ((rc = pcapr_next_ip(&rd, &ip, &len, &ts)) == 1)
		reorder_push(&ro, z, ip, len, ts);
	reorder_drain(&ro, z);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: %s; what was read is reported\n", prog, path, rd.err);
		status = 1;
	}
	if (svg && mkdir(svg, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "%s: --svg %s: %s\n", prog, svg, strerror(errno));
		status = 1;
		svg = NULL;
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "file", path);
	cJSON_AddNumberToObject(doc, "records", (double)rd.records);
	cJSON_AddNumberToObject(doc, "tcp_packets", (double)z->tcp_packets);
	cJSON_AddNumberToObject(doc, "undecoded", (double)z->bad);
	/* Records further out of time order than the reorder buffer holds. */
	cJSON_AddNumberToObject(doc, "out_of_order_records", (double)ro.late);
	if (z->flows_dropped)
		cJSON_AddNumberToObject(doc, "flows_not_tracked", (double)z->flows_dropped);
	cJSON *conns = cJSON_AddArrayToObject(doc, "connections");
	for (size_t i = 0; i < z->nconns; i++)
		cJSON_AddItemToArray(conns, conn_json(z->conns[i], (int)i));
	cJSON *tcp = cJSON_AddArrayToObject(doc, "tcp");
	size_t n_tcp = 0, n_join_orphan = 0;
	for (size_t i = 0; i < z->nflows; i++) {
		const struct flow *f = z->flows[i];
		if (f->conn >= 0)
			continue;
		if (f->join_syn) {
			n_join_orphan++;
			continue;
		}
		n_tcp++;
		if (!all && !json)
			continue;
		char a[80], b[80];
		ep_text(&f->a, a, sizeof(a));
		ep_text(&f->b, b, sizeof(b));
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "client", a);
		cJSON_AddStringToObject(o, "server", b);
		cJSON_AddBoolToObject(o, "mptcp_offered", f->mpc_syn);
		cJSON_AddNumberToObject(o, "client_bytes", (double)f->d[0].bytes);
		cJSON_AddNumberToObject(o, "server_bytes", (double)f->d[1].bytes);
		cJSON_AddItemToArray(tcp, o);
	}
	cJSON_AddNumberToObject(doc, "joins_without_connection", (double)n_join_orphan);
	if (json) {
		char *t = cJSON_Print(doc);
		if (t)
			printf("%s\n", t);
		cJSON_free(t);
	} else {
		printf("%s: %" PRIu64 " records, %" PRIu64 " TCP packets, %zu MPTCP connection%s, "
		       "%zu TCP connection%s without MPTCP\n",
		       path, rd.records, z->tcp_packets, z->nconns, z->nconns == 1 ? "" : "s",
		       n_tcp, n_tcp == 1 ? "" : "s");
		const cJSON *c;
		cJSON_ArrayForEach(c, conns) print_conn(c);
		if (all) {
			const cJSON *t;
			cJSON_ArrayForEach(t, tcp)
			    printf("TCP %s -> %s%s: %.0f / %.0f bytes\n",
				   cJSON_GetObjectItem(t, "client")->valuestring,
				   cJSON_GetObjectItem(t, "server")->valuestring,
				   cJSON_IsTrue(cJSON_GetObjectItem(t, "mptcp_offered"))
				       ? " (MPTCP offered, not answered)"
				       : "",
				   cJSON_GetObjectItem(t, "client_bytes")->valuedouble,
				   cJSON_GetObjectItem(t, "server_bytes")->valuedouble);
		}
		if (ro.late)
			printf("%" PRIu64 " records further out of time order than the analysis "
			       "reorders (%u records, %u MiB): results may be off\n",
			       ro.late, ANZ_REORDER_PKTS, ANZ_REORDER_BYTES >> 20);
		if (n_join_orphan)
			printf("%zu MP_JOIN subflow%s of connections whose start is not in the "
			       "capture\n",
			       n_join_orphan, n_join_orphan == 1 ? "" : "s");
	}
	if (svg) {
		for (size_t i = 0; i < z->nconns; i++)
			for (int cd = 0; cd < 2; cd++)
				if (z->conns[i]->d[cd].bytes &&
				    plot_conn(z->conns[i], (int)i, cd, svg) < 0)
					status = 1;
	}
	cJSON_Delete(doc);
	for (size_t i = 0; i < z->nflows; i++) {
		for (int k = 0; k < 2; k++) {
			free(z->flows[i]->d[k].pts.t);
			free(z->flows[i]->d[k].pts.y);
			free(z->flows[i]->d[k].bins);
		}
		free(z->flows[i]);
	}
	for (size_t i = 0; i < z->nconns; i++) {
		free(z->conns[i]->d[0].r);
		free(z->conns[i]->d[1].r);
		free(z->conns[i]);
	}
	free(z);
	pcapr_close(&rd);
	return status;
}
