/*
 * The stack: local addresses, listeners, the 4-tuple demultiplexer, IP
 * encapsulation and the public socket API over the TCP engine.
 *
 * Lifetime rule: TCP engine callbacks never free anything.  A socket is
 * marked and released by stack_reap() at the end of the public entry point
 * that is running (input, timer or an application call), so no engine is
 * destroyed while one of its own functions is on the stack.
 */
#include <stdio.h>
#include <string.h>

#include "cc/cc.h"
#include "common.h"
#include "crypto/crypto.h"
#include "mib.h"
#include "tcp/tcp.h"
#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/tcp.h"

#define STACK_HASH_MIN 256u
#define EPHEMERAL_LO   49152u
#define EPHEMERAL_HI   65535u
/* Scratch for stack-generated packets (RSTs): IP + TCP header. */
#define STACK_SCRATCH  (MPT_TCP_HEADROOM + MPT_TCP_HDR_LEN)

struct mpt_sock {
	struct mpt_stack *st;
	struct mpt_endpoint local;
	struct mpt_endpoint remote;
	struct mpt_tcp *tcp;
	void *user;
	int err;
	bool listener;
	bool app_owned;   /* the application holds a handle (connect/accept) */
	bool app_closed;  /* the application called close/abort */
	bool tcp_closed;  /* the engine reported EV_CLOSED */
	bool established; /* EV_ESTABLISHED seen */
	bool hashed;
	struct mpt_sock *parent;      /* listener, while not yet accepted */
	struct mpt_sock *hnext;       /* 4-tuple hash chain */
	struct mpt_sock *prev, *next; /* all sockets */
	struct mpt_sock *qnext;       /* listener accept queue */
	/* listener only */
	uint32_t backlog;
	uint32_t nchildren; /* half-open + queued */
	struct mpt_sock *qhead, *qtail;
};

struct mpt_stack {
	struct mpt_stack_cfg cfg;
	const struct mpt_mem *mem;
	struct mpt_mib mib;
	struct mpt_cc_registry ccreg;
	const struct mpt_cc_ops *cc;
	struct mpt_tcp_cfg tcpcfg;
	uint8_t isn_secret[16];
	uint64_t hash_seed;
	struct mpt_sock **htab;
	size_t hmask;
	struct mpt_sock *all;
	uint32_t nsocks;
	uint16_t ip_id;
	uint16_t next_port;
	bool reap_pending;
	uint8_t scratch[STACK_SCRATCH];
};

void mpt_stack_cfg_init(struct mpt_stack_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_socks = 4096;
	cfg->ttl = 64;
	snprintf(cfg->tcp.cc, sizeof(cfg->tcp.cc), "cubic");
}

/* ---- hashing ------------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser: a good avalanche for table indexing. */
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint64_t addr_fold(const struct mpt_addr *a)
{
	uint64_t hi = mpt_get64(a->bytes), lo = mpt_get64(a->bytes + 8);
	return mix64(hi ^ mix64(lo ^ a->family));
}

static size_t tuple_hash(const struct mpt_stack *st, const struct mpt_endpoint *l,
			 const struct mpt_endpoint *r)
{
	/* Keyed with a random seed so remote peers cannot aim for one chain. */
	uint64_t h = st->hash_seed;
	h = mix64(h ^ addr_fold(&l->addr));
	h = mix64(h ^ addr_fold(&r->addr));
	h = mix64(h ^ ((uint64_t)l->port << 16 | r->port));
	return (size_t)h & st->hmask;
}

static bool ep_equal(const struct mpt_endpoint *a, const struct mpt_endpoint *b)
{
	return a->port == b->port && mpt_addr_equal(&a->addr, &b->addr);
}

static struct mpt_sock *lookup(const struct mpt_stack *st, const struct mpt_endpoint *l,
			       const struct mpt_endpoint *r)
{
	for (struct mpt_sock *s = st->htab[tuple_hash(st, l, r)]; s; s = s->hnext)
		if (ep_equal(&s->local, l) && ep_equal(&s->remote, r))
			return s;
	return NULL;
}

static void hash_insert(struct mpt_stack *st, struct mpt_sock *s)
{
	size_t i = tuple_hash(st, &s->local, &s->remote);
	s->hnext = st->htab[i];
	st->htab[i] = s;
	s->hashed = true;
}

static void hash_remove(struct mpt_stack *st, struct mpt_sock *s)
{
	if (!s->hashed)
		return;
	struct mpt_sock **pp = &st->htab[tuple_hash(st, &s->local, &s->remote)];
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	s->hashed = false;
}

static struct mpt_sock *find_listener(const struct mpt_stack *st, const struct mpt_addr *dst,
				      uint16_t port)
{
	struct mpt_sock *wild = NULL;
	for (struct mpt_sock *s = st->all; s; s = s->next) {
		if (!s->listener || s->app_closed || s->local.port != port)
			continue;
		if (s->local.addr.family == 0)
			wild = s;
		else if (mpt_addr_equal(&s->local.addr, dst))
			return s;
	}
	return wild;
}

static bool is_local_addr(const struct mpt_stack *st, const struct mpt_addr *a)
{
	for (size_t i = 0; i < st->cfg.n_local; i++)
		if (mpt_addr_equal(&st->cfg.local[i], a))
			return true;
	return false;
}

/* ---- socket bookkeeping ----------------------------------------------- */

static struct mpt_sock *sock_new(struct mpt_stack *st)
{
	if (st->nsocks >= st->cfg.max_socks)
		return NULL;
	struct mpt_sock *s = mpt_calloc(st->mem, 1, sizeof(*s));
	if (!s)
		return NULL;
	s->st = st;
	s->next = st->all;
	if (st->all)
		st->all->prev = s;
	st->all = s;
	st->nsocks++;
	return s;
}

static void queue_remove(struct mpt_sock *l, struct mpt_sock *s)
{
	struct mpt_sock **pp = &l->qhead, *prev = NULL;
	while (*pp && *pp != s) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (!*pp)
		return;
	*pp = s->qnext;
	if (l->qtail == s)
		l->qtail = prev;
	s->qnext = NULL;
}

static void sock_free(struct mpt_stack *st, struct mpt_sock *s)
{
	hash_remove(st, s);
	if (s->parent) {
		queue_remove(s->parent, s);
		s->parent->nchildren--;
		s->parent = NULL;
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		st->all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	mpt_tcp_destroy(s->tcp);
	st->nsocks--;
	mpt_free(st->mem, s);
}

/* A socket can go once nobody can reach it: the engine is done and the
 * application either closed its handle or never had one. */
static bool sock_dead(const struct mpt_sock *s)
{
	if (s->listener)
		return s->app_closed && s->nchildren == 0;
	return s->tcp_closed && (s->app_closed || !s->app_owned);
}

static void stack_reap(struct mpt_stack *st)
{
	if (!st->reap_pending)
		return;
	st->reap_pending = false;
	struct mpt_sock *s = st->all;
	while (s) {
		struct mpt_sock *next = s->next;
		if (sock_dead(s)) {
			struct mpt_sock *parent = s->parent;
			sock_free(st, s);
			/* A closed listener goes with its last child. */
			if (parent && sock_dead(parent)) {
				if (next == parent)
					next = parent->next;
				sock_free(st, parent);
			}
		}
		s = next;
	}
}

static void notify(struct mpt_sock *s, unsigned ev)
{
	struct mpt_stack *st = s->st;
	if (!s->app_owned || s->app_closed || !st->cfg.on_event)
		return;
	st->cfg.on_event(st->cfg.event_ud, s, ev);
}

/* ---- engine callbacks --------------------------------------------------- */

static void sock_output(void *ud, uint8_t *seg, size_t len)
{
	struct mpt_sock *s = ud;
	struct mpt_stack *st = s->st;
	struct mpt_ip_hdr h;
	memset(&h, 0, sizeof(h));
	h.src = s->local.addr;
	h.dst = s->remote.addr;
	h.proto = MPT_IPPROTO_TCP;
	h.ttl = st->cfg.ttl;
	h.id = st->ip_id++;
	h.payload_len = len;
	size_t hl = mpt_ip_hdr_len(h.src.family);
	mpt_tcp_csum_fill(seg, len, &h.src, &h.dst);
	if (hl == 0 || mpt_ip_emit(seg - hl, hl, &h) < 0)
		return;
	st->cfg.output(st->cfg.output_ud, seg - hl, hl + len);
}

static void sock_event(void *ud, enum mpt_tcp_event ev)
{
	struct mpt_sock *s = ud;
	struct mpt_stack *st = s->st;
	switch (ev) {
	case MPT_TCP_EV_ESTABLISHED:
		s->established = true;
		if (s->parent && !s->app_owned) {
			/* Passive open completed: hand it to the listener's queue. */
			struct mpt_sock *l = s->parent;
			if (l->qtail)
				l->qtail->qnext = s;
			else
				l->qhead = s;
			l->qtail = s;
			notify(l, MPT_EV_ACCEPTABLE);
		} else {
			notify(s, MPT_EV_CONNECTED | MPT_EV_WRITABLE);
		}
		break;
	case MPT_TCP_EV_READABLE:
		notify(s, MPT_EV_READABLE);
		break;
	case MPT_TCP_EV_WRITABLE:
		notify(s, MPT_EV_WRITABLE);
		break;
	case MPT_TCP_EV_ERROR:
		s->err = mpt_tcp_error(s->tcp);
		notify(s, MPT_EV_ERROR | MPT_EV_READABLE);
		break;
	case MPT_TCP_EV_CLOSED:
		s->tcp_closed = true;
		st->reap_pending = true;
		notify(s, MPT_EV_CLOSED);
		break;
	}
}

static int sock_attach_tcp(struct mpt_sock *s)
{
	struct mpt_stack *st = s->st;
	struct mpt_tcp_cb cb = {
	    .output = sock_output,
	    .on_event = sock_event,
	    .ud = s,
	};
	struct mpt_tcp_cfg cfg = st->tcpcfg;
	uint8_t off[4];
	st->cfg.rand(off, sizeof(off), st->cfg.rand_ud);
	/* RFC 7323 §5.4: a random per-connection timestamp offset. */
	cfg.ts_offset = mpt_get32(off);
	int rc = mpt_tcp_create(st->mem, &cfg, &cb, &s->tcp);
	if (rc == 0)
		mpt_tcp_set_ports(s->tcp, s->local.port, s->remote.port);
	return rc;
}

static uint32_t make_isn(struct mpt_stack *st, const struct mpt_sock *s, uint64_t now)
{
	uint32_t isn = 0;
	/* Only fails on invalid arguments, which the stack never passes; a
	 * zero ISN would still be a valid (if predictable) choice. */
	(void)mpt_isn_rfc6528(st->isn_secret, &s->local.addr, s->local.port, &s->remote.addr,
			      s->remote.port, now, &isn);
	return isn;
}

/* ---- creation ----------------------------------------------------------- */

int mpt_stack_create(const struct mpt_stack_cfg *cfg, struct mpt_stack **out)
{
	if (!cfg || !out || !cfg->output || !cfg->rand || cfg->n_local > MPT_MAX_LOCAL_ADDRS)
		return MPT_ERR_INVAL;
	for (size_t i = 0; i < cfg->n_local; i++)
		if (cfg->local[i].family != 4 && cfg->local[i].family != 6)
			return MPT_ERR_INVAL;
	const struct mpt_mem *mem = cfg->mem ? cfg->mem : mpt_mem_default();
	struct mpt_stack *st = mpt_calloc(mem, 1, sizeof(*st));
	if (!st)
		return MPT_ERR_NOMEM;
	st->cfg = *cfg;
	st->mem = mem;
	if (st->cfg.max_socks == 0)
		st->cfg.max_socks = 4096;
	if (st->cfg.ttl == 0)
		st->cfg.ttl = 64;
	mpt_cc_registry_init(&st->ccreg);
	char ccname[MPT_CC_NAME_LEN + 1];
	memcpy(ccname, cfg->tcp.cc, MPT_CC_NAME_LEN);
	ccname[MPT_CC_NAME_LEN] = '\0';
	st->cc = mpt_cc_find(&st->ccreg, ccname[0] ? ccname : "cubic");
	if (!st->cc) {
		mpt_free(mem, st);
		return MPT_ERR_INVAL;
	}
	const struct mpt_tcp_knobs *k = &cfg->tcp;
	struct mpt_tcp_cfg *t = &st->tcpcfg;
	t->mss = k->mss;
	t->sndbuf = k->sndbuf;
	t->rcvbuf = k->rcvbuf;
	t->no_sack = k->no_sack;
	t->no_timestamps = k->no_timestamps;
	t->no_wscale = k->no_wscale;
	t->nagle = k->nagle;
	t->no_delack = k->no_delack;
	t->keepalive = k->keepalive;
	t->keepalive_idle_ns = k->keepalive_idle_ns;
	t->keepalive_intvl_ns = k->keepalive_intvl_ns;
	t->keepalive_probes = k->keepalive_probes;
	t->rto_min_ns = k->rto_min_ns;
	t->rto_initial_ns = k->rto_initial_ns;
	t->msl_ns = k->msl_ns;
	t->syn_retries = k->syn_retries;
	t->max_retries = k->max_retries;
	t->cc = st->cc;
	t->mib = &st->mib;

	size_t buckets = STACK_HASH_MIN;
	while (buckets < st->cfg.max_socks && buckets < (1u << 20))
		buckets <<= 1;
	st->htab = mpt_calloc(mem, buckets, sizeof(*st->htab));
	if (!st->htab) {
		mpt_free(mem, st);
		return MPT_ERR_NOMEM;
	}
	st->hmask = buckets - 1;
	uint8_t rnd[16 + 8 + 2];
	cfg->rand(rnd, sizeof(rnd), cfg->rand_ud);
	memcpy(st->isn_secret, rnd, 16);
	st->hash_seed = mpt_get64(rnd + 16);
	st->next_port =
	    (uint16_t)(EPHEMERAL_LO + mpt_get16(rnd + 24) % (EPHEMERAL_HI - EPHEMERAL_LO + 1));
	*out = st;
	return 0;
}

void mpt_stack_destroy(struct mpt_stack *st)
{
	if (!st)
		return;
	while (st->all) {
		struct mpt_sock *s = st->all;
		st->all = s->next;
		mpt_tcp_destroy(s->tcp);
		mpt_free(st->mem, s);
	}
	mpt_free(st->mem, st->htab);
	mpt_free(st->mem, st);
}

/* ---- input -------------------------------------------------------------- */

static void send_rst_for(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
			 const struct mpt_tcp_seg *seg)
{
	uint8_t *tcp = st->scratch + MPT_TCP_HEADROOM;
	int n = mpt_tcp_make_rst(seg, tcp, MPT_TCP_HDR_LEN);
	if (n <= 0)
		return;
	struct mpt_ip_hdr h;
	memset(&h, 0, sizeof(h));
	h.src = ip->dst;
	h.dst = ip->src;
	h.proto = MPT_IPPROTO_TCP;
	h.ttl = st->cfg.ttl;
	h.id = st->ip_id++;
	h.payload_len = (size_t)n;
	size_t hl = mpt_ip_hdr_len(h.src.family);
	mpt_tcp_csum_fill(tcp, (size_t)n, &h.src, &h.dst);
	if (mpt_ip_emit(tcp - hl, hl, &h) < 0)
		return;
	mpt_mib_inc(&st->mib, MPT_MIB_TcpOutRsts);
	mpt_mib_inc(&st->mib, MPT_MIB_TcpOutSegs);
	st->cfg.output(st->cfg.output_ud, tcp - hl, hl + (size_t)n);
}

static int count_ip_error(struct mpt_stack *st, int err)
{
	switch (err) {
	case MPT_ERR_TRUNCATED:
		mpt_mib_inc(&st->mib, MPT_MIB_InTruncatedPkts);
		break;
	case MPT_ERR_CHECKSUM:
		mpt_mib_inc(&st->mib, MPT_MIB_InCsumErrors);
		break;
	case MPT_ERR_FRAGMENT:
		mpt_mib_inc(&st->mib, MPT_MIB_ReasmFails);
		break;
	default:
		mpt_mib_inc(&st->mib, MPT_MIB_InHdrErrors);
		break;
	}
	return err;
}

static int passive_open(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, uint64_t now)
{
	if (l->nchildren >= l->backlog) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPListenOverflows);
		return MPT_ERR_LIMIT;
	}
	struct mpt_sock *s = sock_new(st);
	if (!s) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPListenOverflows);
		return MPT_ERR_LIMIT;
	}
	s->local.addr = ip->dst;
	s->local.port = seg->hdr.dport;
	s->remote.addr = ip->src;
	s->remote.port = seg->hdr.sport;
	s->parent = l;
	l->nchildren++;
	int rc = sock_attach_tcp(s);
	if (rc == 0) {
		hash_insert(st, s);
		rc = mpt_tcp_accept(s->tcp, seg, make_isn(st, s, now), now);
	}
	if (rc < 0) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPMemoryDrop);
		sock_free(st, s);
		return rc;
	}
	return 0;
}

static int stack_input(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint64_t now)
{
	bool verify = !st->cfg.no_verify_csum;
#ifdef MPT_FUZZING
	verify = false; /* let the fuzzer past the checksums */
#endif
	struct mpt_ip_hdr ip;
	mpt_mib_inc(&st->mib, MPT_MIB_InReceives);
	int rc = mpt_ip_parse(&ip, pkt, len, verify);
	if (rc < 0)
		return count_ip_error(st, rc);
	if (ip.proto != MPT_IPPROTO_TCP) {
		mpt_mib_inc(&st->mib, MPT_MIB_InUnknownProtos);
		return MPT_ERR_UNSUPPORTED;
	}
	if (!is_local_addr(st, &ip.dst)) {
		mpt_mib_inc(&st->mib, MPT_MIB_InAddrErrors);
		return MPT_ERR_NOTFOUND;
	}
	const uint8_t *tp = pkt + ip.hdr_len;
	size_t tlen = ip.payload_len;
	struct mpt_tcp_seg seg;
	memset(&seg, 0, sizeof(seg));
	mpt_mib_inc(&st->mib, MPT_MIB_TcpInSegs);
	rc = mpt_tcp_hdr_parse(&seg.hdr, tp, tlen);
	if (rc < 0) {
		mpt_mib_inc(&st->mib, MPT_MIB_TcpInErrs);
		return rc;
	}
	if (verify && !mpt_tcp_csum_ok(tp, tlen, &ip.src, &ip.dst)) {
		mpt_mib_inc(&st->mib, MPT_MIB_TcpInCsumErrors);
		return MPT_ERR_CHECKSUM;
	}
	rc = mpt_tcp_opts_parse(&seg.opts, seg.hdr.opt, seg.hdr.opt_len);
	if (rc < 0) {
		/* RFC 9293 §3.1 (MUST-7): be prepared for illegal option
		 * lengths; we drop the segment rather than guess. */
		mpt_mib_inc(&st->mib, MPT_MIB_TcpBadOptions);
		return rc;
	}
	seg.payload = tp + seg.hdr.hdr_len;
	seg.len = tlen - seg.hdr.hdr_len;

	struct mpt_endpoint l = {.addr = ip.dst, .port = seg.hdr.dport};
	struct mpt_endpoint r = {.addr = ip.src, .port = seg.hdr.sport};
	struct mpt_sock *s = lookup(st, &l, &r);
	uint16_t fl = seg.hdr.flags;
	bool pure_syn = (fl & (MPT_TCP_SYN | MPT_TCP_ACK | MPT_TCP_RST)) == MPT_TCP_SYN;
	if (s && !s->tcp_closed) {
		/* RFC 9293 §3.10.7.4 / RFC 6191: a new SYN may reopen a tuple in
		 * TIME-WAIT; the old engine is retired and a listener takes it. */
		if (!(pure_syn && mpt_tcp_get_state(s->tcp) == MPT_TCP_TIME_WAIT &&
		      mpt_tcp_timewait_reusable(s->tcp, &seg) &&
		      find_listener(st, &ip.dst, seg.hdr.dport)))
			return mpt_tcp_input(s->tcp, &seg, now);
		mpt_mib_inc(&st->mib, MPT_MIB_TCPTimeWaitReuse);
		hash_remove(st, s);
		s->tcp_closed = true;
		st->reap_pending = true;
		notify(s, MPT_EV_CLOSED);
	}

	if (pure_syn) {
		struct mpt_sock *lis = find_listener(st, &ip.dst, seg.hdr.dport);
		if (lis) {
			if (s) {
				/* A finished connection with the same tuple still
				 * lingers (TIME-WAIT already reported closed). */
				hash_remove(st, s);
			}
			return passive_open(st, lis, &ip, &seg, now);
		}
	}
	/* RFC 9293 §3.10.7.1: no connection -> RST (never for a RST). */
	mpt_mib_inc(&st->mib, MPT_MIB_TcpNoPort);
	send_rst_for(st, &ip, &seg);
	return MPT_ERR_NOTFOUND;
}

int mpt_stack_input(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint64_t now)
{
	if (!st || (!pkt && len))
		return MPT_ERR_INVAL;
	int rc = stack_input(st, pkt, len, now);
	stack_reap(st);
	return rc;
}

uint64_t mpt_stack_next_deadline(struct mpt_stack *st)
{
	uint64_t d = MPT_TIME_NEVER;
	for (struct mpt_sock *s = st->all; s; s = s->next) {
		if (!s->tcp || s->tcp_closed)
			continue;
		uint64_t t = mpt_tcp_next_deadline(s->tcp);
		if (t < d)
			d = t;
	}
	return d;
}

void mpt_stack_on_timer(struct mpt_stack *st, uint64_t now)
{
	for (struct mpt_sock *s = st->all; s; s = s->next)
		if (s->tcp && !s->tcp_closed && mpt_tcp_next_deadline(s->tcp) <= now)
			mpt_tcp_on_timer(s->tcp, now);
	stack_reap(st);
}

/* ---- counters ----------------------------------------------------------- */

int mpt_counter_count(void)
{
	return MPT_MIB_MAX;
}

const char *mpt_counter_name(int i)
{
	return mpt_mib_name(i);
}

uint64_t mpt_stack_counter(const struct mpt_stack *st, int i)
{
	if (!st || i < 0 || i >= MPT_MIB_MAX)
		return 0;
	return st->mib.v[i];
}

int mpt_stack_counter_by_name(const struct mpt_stack *st, const char *name, uint64_t *value)
{
	if (!st || !name || !value)
		return MPT_ERR_INVAL;
	for (int i = 0; i < MPT_MIB_MAX; i++) {
		if (strcmp(mpt_mib_name(i), name) == 0) {
			*value = st->mib.v[i];
			return 0;
		}
	}
	return MPT_ERR_NOTFOUND;
}

/* ---- application API ---------------------------------------------------- */

int mpt_listen(struct mpt_stack *st, const struct mpt_endpoint *local, uint32_t backlog,
	       struct mpt_sock **out)
{
	if (!st || !local || !out || local->port == 0 || backlog == 0)
		return MPT_ERR_INVAL;
	if (local->addr.family != 0 && !is_local_addr(st, &local->addr))
		return MPT_ERR_INVAL;
	for (struct mpt_sock *s = st->all; s; s = s->next) {
		if (!s->listener || s->app_closed || s->local.port != local->port)
			continue;
		if (s->local.addr.family == 0 || local->addr.family == 0 ||
		    mpt_addr_equal(&s->local.addr, &local->addr))
			return MPT_ERR_EXIST;
	}
	struct mpt_sock *s = sock_new(st);
	if (!s)
		return st->nsocks >= st->cfg.max_socks ? MPT_ERR_LIMIT : MPT_ERR_NOMEM;
	s->listener = true;
	s->app_owned = true;
	s->local = *local;
	s->backlog = backlog;
	*out = s;
	return 0;
}

struct mpt_sock *mpt_accept(struct mpt_sock *l)
{
	if (!l || !l->listener || l->app_closed)
		return NULL;
	struct mpt_sock *s = l->qhead;
	if (!s)
		return NULL;
	queue_remove(l, s);
	l->nchildren--;
	s->parent = NULL;
	s->app_owned = true;
	return s;
}

static const struct mpt_addr *pick_local(const struct mpt_stack *st, uint8_t family)
{
	for (size_t i = 0; i < st->cfg.n_local; i++)
		if (st->cfg.local[i].family == family)
			return &st->cfg.local[i];
	return NULL;
}

int mpt_connect(struct mpt_stack *st, const struct mpt_endpoint *remote,
		const struct mpt_addr *local_addr, uint64_t now, struct mpt_sock **out)
{
	if (!st || !remote || !out || remote->port == 0 ||
	    (remote->addr.family != 4 && remote->addr.family != 6))
		return MPT_ERR_INVAL;
	const struct mpt_addr *la = local_addr ? local_addr : pick_local(st, remote->addr.family);
	if (!la || la->family != remote->addr.family || !is_local_addr(st, la))
		return MPT_ERR_INVAL;
	struct mpt_endpoint l = {.addr = *la, .port = 0};
	/* Ephemeral port: sequential from a random start, skipping used tuples. */
	uint32_t span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
	for (uint32_t i = 0; i < span; i++) {
		uint16_t p = st->next_port;
		st->next_port = (uint16_t)(p >= EPHEMERAL_HI ? EPHEMERAL_LO : p + 1u);
		l.port = p;
		if (!lookup(st, &l, remote))
			break;
		l.port = 0;
	}
	if (l.port == 0)
		return MPT_ERR_LIMIT;
	struct mpt_sock *s = sock_new(st);
	if (!s)
		return st->nsocks >= st->cfg.max_socks ? MPT_ERR_LIMIT : MPT_ERR_NOMEM;
	s->local = l;
	s->remote = *remote;
	s->app_owned = true;
	int rc = sock_attach_tcp(s);
	if (rc < 0) {
		sock_free(st, s);
		return rc;
	}
	hash_insert(st, s);
	*out = s;
	rc = mpt_tcp_connect(s->tcp, make_isn(st, s, now), now);
	stack_reap(st);
	return rc;
}

long mpt_send(struct mpt_sock *s, const void *data, size_t len, uint64_t now)
{
	if (!s || s->listener || s->app_closed)
		return MPT_ERR_INVAL;
	if (s->err)
		return s->err;
	long rc = mpt_tcp_send(s->tcp, data, len, now);
	stack_reap(s->st);
	return rc;
}

long mpt_recv(struct mpt_sock *s, void *buf, size_t len, uint64_t now)
{
	if (!s || s->listener || s->app_closed)
		return MPT_ERR_INVAL;
	long rc = mpt_tcp_recv(s->tcp, buf, len, now);
	stack_reap(s->st);
	return rc;
}

int mpt_shutdown(struct mpt_sock *s, uint64_t now)
{
	if (!s || s->listener || s->app_closed)
		return MPT_ERR_INVAL;
	int rc = mpt_tcp_shutdown(s->tcp, now);
	stack_reap(s->st);
	return rc;
}

static void close_listener(struct mpt_sock *l, uint64_t now)
{
	/* Children not yet accepted have no owner left: abort them. */
	for (struct mpt_sock *s = l->st->all; s; s = s->next)
		if (s->parent == l && !s->tcp_closed)
			mpt_tcp_abort(s->tcp, now);
}

static void sock_close(struct mpt_sock *s, uint64_t now, bool abort)
{
	if (!s || s->app_closed)
		return;
	struct mpt_stack *st = s->st;
	s->app_closed = true;
	st->reap_pending = true;
	if (s->listener)
		close_listener(s, now);
	else if (!s->tcp_closed) {
		if (abort)
			mpt_tcp_abort(s->tcp, now);
		else
			mpt_tcp_close(s->tcp, now);
	}
	stack_reap(st);
}

void mpt_close(struct mpt_sock *s, uint64_t now)
{
	sock_close(s, now, false);
}

void mpt_abort(struct mpt_sock *s, uint64_t now)
{
	sock_close(s, now, true);
}

unsigned mpt_sock_events(const struct mpt_sock *s)
{
	unsigned ev = 0;
	if (!s)
		return 0;
	if (s->listener)
		return s->qhead ? (unsigned)MPT_EV_ACCEPTABLE : 0u;
	if (s->established)
		ev |= MPT_EV_CONNECTED;
	if (mpt_tcp_readable(s->tcp) > 0)
		ev |= MPT_EV_READABLE;
	if (s->established && mpt_tcp_writable(s->tcp) > 0)
		ev |= MPT_EV_WRITABLE;
	if (s->err)
		ev |= MPT_EV_ERROR | MPT_EV_READABLE;
	if (s->tcp_closed)
		ev |= MPT_EV_CLOSED;
	return ev;
}

int mpt_sock_error(const struct mpt_sock *s)
{
	return s ? s->err : MPT_ERR_INVAL;
}

bool mpt_sock_is_listener(const struct mpt_sock *s)
{
	return s && s->listener;
}

void mpt_sock_set_user(struct mpt_sock *s, void *user)
{
	if (s)
		s->user = user;
}

void *mpt_sock_get_user(const struct mpt_sock *s)
{
	return s ? s->user : NULL;
}

void mpt_sock_endpoints(const struct mpt_sock *s, struct mpt_endpoint *local,
			struct mpt_endpoint *remote)
{
	if (local)
		*local = s->local;
	if (remote)
		*remote = s->remote;
}

int mpt_sock_info(const struct mpt_sock *s, struct mpt_sock_info *info)
{
	if (!s || !info)
		return MPT_ERR_INVAL;
	if (s->listener || !s->tcp)
		return MPT_ERR_STATE;
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(s->tcp, &ti);
	memset(info, 0, sizeof(*info));
	snprintf(info->state, sizeof(info->state), "%s", mpt_tcp_state_name(ti.state));
	info->snd_mss = ti.snd_mss;
	info->rcv_mss = ti.rcv_mss;
	info->srtt_ns = ti.srtt_ns;
	info->rttvar_ns = ti.rttvar_ns;
	info->rto_ns = ti.rto_ns;
	info->min_rtt_ns = ti.min_rtt_ns;
	info->snd_cwnd = ti.snd_cwnd;
	info->snd_ssthresh = ti.snd_ssthresh;
	info->snd_wnd = ti.snd_wnd;
	info->rcv_wnd = ti.rcv_wnd;
	info->bytes_sent = ti.bytes_sent;
	info->bytes_retrans = ti.bytes_retrans;
	info->bytes_acked = ti.bytes_acked;
	info->bytes_received = ti.bytes_received;
	info->segs_out = ti.segs_out;
	info->segs_in = ti.segs_in;
	info->total_retrans = ti.total_retrans;
	info->rto_count = ti.rto_count;
	info->fast_retrans = ti.fast_retrans;
	info->iss = ti.iss;
	info->irs = ti.irs;
	info->snd_una = ti.snd_una;
	info->snd_nxt = ti.snd_nxt;
	info->rcv_nxt = ti.rcv_nxt;
	snprintf(info->cc, sizeof(info->cc), "%s", ti.cc_name);
	return 0;
}
