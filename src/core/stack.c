/*
 * The stack: local addresses, listeners, the 4-tuple demultiplexer (flows),
 * IP encapsulation and the public socket API over the TCP engine (plain
 * TCP) or the MPTCP connection layer (src/mptcp).
 *
 * Lifetime rule: engine callbacks never free anything.  Every public entry
 * point runs between stack_enter() and stack_leave(); the outermost leave
 * runs the MPTCP connections marked dirty and then releases dead sockets and
 * flows, so no engine is destroyed while one of its own functions (or an
 * application callback below a public call) is on the stack.
 */
#include <stdio.h>
#include <string.h>

#include "cc/cc.h"
#include "common.h"
#include "core/stack_int.h"
#include "crypto/crypto.h"
#include "mib.h"
#include "mptcp/mptcp.h"
#include "tcp/tcp.h"
#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

#define STACK_HASH_MIN 256u
#define EPHEMERAL_LO   49152u
#define EPHEMERAL_HI   65535u

void mpt_stack_cfg_init(struct mpt_stack_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_socks = 4096;
	cfg->ttl = 64;
	snprintf(cfg->tcp.cc, sizeof(cfg->tcp.cc), "cubic");
	cfg->mptcp.enable = false;
	cfg->mptcp.version = MPT_MPTCP_V1;
	cfg->mptcp.accept_versions = MPT_MPTCP_ACCEPT_V0 | MPT_MPTCP_ACCEPT_V1;
	cfg->mptcp.max_subflows = 8;
	cfg->mptcp.max_join_pending = 8;
	cfg->mptcp.add_addr_timeout_ns = 2 * MPT_NS_PER_S;
	cfg->mptcp.mpc_syn_tries = 2;
	cfg->mptcp.join_retry_ns = MPT_NS_PER_S;
}

/* ---- entry points ------------------------------------------------------- */

static void stack_reap(struct mpt_stack *st);

static void stack_enter(struct mpt_stack *st, uint64_t now)
{
	if (st->depth++ == 0)
		st->now = now;
}

static void run_dirty(struct mpt_stack *st)
{
	/* Bounded: a connection re-marks itself only when it made progress. */
	for (int guard = 0; st->dirty && guard < 64; guard++) {
		struct mpt_mpconn *mp = st->dirty;
		st->dirty = NULL;
		while (mp) {
			struct mpt_mpconn *next = mp->dirty_next;
			mp->dirty_next = NULL;
			mp->on_dirty = false;
			mpt_mp_run(mp, st->now);
			mp = next;
		}
	}
}

/*
 * Deliver the queued application events.  Called only by the outermost
 * mpt_stack_input / mpt_stack_on_timer after the engine's own work, with
 * depth still 1: socket calls the application makes from on_event nest
 * (their leave does nothing), and their consequences (dirty connections,
 * new events) are handled here after the callback returned, so on_event is
 * never entered twice and never from inside a socket call.
 */
#define EVENT_ROUND_MAX 4096u
static void deliver_events(struct mpt_stack *st)
{
	for (unsigned n = 0; st->ev_head; n++) {
		if (n == EVENT_ROUND_MAX) {
			/* A callback that keeps producing events for itself must
			 * not stall the caller: the rest goes at the next timer
			 * (mpt_stack_next_deadline says "now"). */
			mpt_mib_inc(&st->mib, MPT_MIB_EventDeferred);
			return;
		}
		struct mpt_sock *s = st->ev_head;
		st->ev_head = s->ev_next;
		if (!st->ev_head)
			st->ev_tail = NULL;
		s->ev_next = NULL;
		s->ev_queued = false;
		unsigned ev = s->ev_pending;
		s->ev_pending = 0;
		if (ev && s->app_owned && !s->app_closed && st->cfg.on_event)
			st->cfg.on_event(st->cfg.event_ud, s, ev);
		run_dirty(st);
	}
}

static void ev_unqueue(struct mpt_stack *st, struct mpt_sock *s)
{
	if (!s->ev_queued)
		return;
	struct mpt_sock *prev = NULL;
	for (struct mpt_sock *q = st->ev_head; q; prev = q, q = q->ev_next) {
		if (q != s)
			continue;
		if (prev)
			prev->ev_next = s->ev_next;
		else
			st->ev_head = s->ev_next;
		if (st->ev_tail == s)
			st->ev_tail = prev;
		break;
	}
	s->ev_next = NULL;
	s->ev_queued = false;
	s->ev_pending = 0;
}

static void stack_leave_common(struct mpt_stack *st, bool deliver)
{
	if (st->depth > 1) {
		st->depth--;
		return;
	}
	run_dirty(st);
	if (deliver)
		deliver_events(st);
	stack_reap(st);
	st->depth = 0;
}

/* Leave a socket call: engine work is finished, events stay queued. */
static void stack_leave(struct mpt_stack *st)
{
	stack_leave_common(st, false);
}

/* Leave mpt_stack_input / mpt_stack_on_timer: the only places that call
 * the application back. */
static void stack_leave_deliver(struct mpt_stack *st)
{
	stack_leave_common(st, true);
}

void mpt_stack_mark_dirty(struct mpt_stack *st, struct mpt_mpconn *mp)
{
	if (mp->on_dirty)
		return;
	mp->on_dirty = true;
	mp->dirty_next = st->dirty;
	st->dirty = mp;
}

static void dirty_remove(struct mpt_stack *st, struct mpt_mpconn *mp)
{
	if (!mp->on_dirty)
		return;
	struct mpt_mpconn **pp = &st->dirty;
	while (*pp && *pp != mp)
		pp = &(*pp)->dirty_next;
	if (*pp)
		*pp = mp->dirty_next;
	mp->on_dirty = false;
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

struct mpt_flow *mpt_stack_lookup(const struct mpt_stack *st, const struct mpt_endpoint *l,
				  const struct mpt_endpoint *r)
{
	for (struct mpt_flow *f = st->htab[tuple_hash(st, l, r)]; f; f = f->hnext)
		if (ep_equal(&f->local, l) && ep_equal(&f->remote, r))
			return f;
	return NULL;
}

static void hash_insert(struct mpt_stack *st, struct mpt_flow *f)
{
	size_t i = tuple_hash(st, &f->local, &f->remote);
	f->hnext = st->htab[i];
	st->htab[i] = f;
	f->hashed = true;
}

static void hash_remove(struct mpt_stack *st, struct mpt_flow *f)
{
	if (!f->hashed)
		return;
	struct mpt_flow **pp = &st->htab[tuple_hash(st, &f->local, &f->remote)];
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	f->hashed = false;
}

static struct mpt_sock *find_listener(const struct mpt_stack *st, const struct mpt_addr *dst,
				      uint16_t port)
{
	struct mpt_sock *wild = NULL, *any = NULL;
	for (struct mpt_sock *s = st->all; s; s = s->next) {
		if (!s->listener || s->app_closed)
			continue;
		if (s->local.port == 0 && st->cfg.transparent) {
			any = s; /* every address, every port */
			continue;
		}
		if (s->local.port != port)
			continue;
		if (s->local.addr.family == 0)
			wild = s;
		else if (mpt_addr_equal(&s->local.addr, dst))
			return s;
	}
	return wild ? wild : any;
}

int mpt_stack_local_index(const struct mpt_stack *st, const struct mpt_addr *a)
{
	for (size_t i = 0; i < st->cfg.n_local; i++)
		if (mpt_addr_equal(&st->cfg.local[i], a))
			return (int)i;
	return -1;
}

static bool is_local_addr(const struct mpt_stack *st, const struct mpt_addr *a)
{
	return mpt_stack_local_index(st, a) >= 0;
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
	l->nqueued--;
}

static void flow_unlink(struct mpt_stack *st, struct mpt_flow *f)
{
	hash_remove(st, f);
	if (f->prev)
		f->prev->next = f->next;
	else
		st->flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->prev = f->next = NULL;
}

void mpt_stack_flow_free(struct mpt_stack *st, struct mpt_flow *f)
{
	if (!f)
		return;
	flow_unlink(st, f);
	mpt_tcp_destroy(f->tcp);
	mpt_free(st->mem, f);
}

static void sock_free(struct mpt_stack *st, struct mpt_sock *s)
{
	ev_unqueue(st, s);
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
	if (s->flow)
		mpt_stack_flow_free(st, s->flow);
	if (s->mp) {
		dirty_remove(st, s->mp);
		mpt_mp_free(s->mp);
	}
	st->nsocks--;
	mpt_free(st->mem, s);
}

/* A socket can go once nobody can reach it: the engine (or every subflow)
 * is done and the application either closed its handle or never had one. */
static bool sock_dead(const struct mpt_sock *s)
{
	if (s->listener)
		return s->app_closed && s->nchildren == 0;
	if (s->mp)
		return s->tcp_closed && mpt_mp_finished(s->mp) && (s->app_closed || !s->app_owned);
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

void mpt_stack_notify(struct mpt_sock *s, unsigned ev)
{
	struct mpt_stack *st = s->st;
	if (ev & MPT_EV_CLOSED)
		st->reap_pending = true;
	if (!s->app_owned || s->app_closed || !st->cfg.on_event)
		return;
	s->ev_pending |= ev;
	if (s->ev_queued)
		return;
	s->ev_queued = true;
	s->ev_next = NULL;
	if (st->ev_tail)
		st->ev_tail->ev_next = s;
	else
		st->ev_head = s;
	st->ev_tail = s;
}

void mpt_stack_sock_ready(struct mpt_sock *s)
{
	s->established = true;
	if (s->parent && !s->app_owned && !s->queued) {
		/* Passive open completed: hand it to the listener's queue. */
		struct mpt_sock *l = s->parent;
		s->queued = true;
		l->nqueued++;
		if (l->qtail)
			l->qtail->qnext = s;
		else
			l->qhead = s;
		l->qtail = s;
		mpt_stack_notify(l, MPT_EV_ACCEPTABLE);
	} else {
		mpt_stack_notify(s, MPT_EV_CONNECTED | MPT_EV_WRITABLE);
	}
}

/* ---- engine callbacks --------------------------------------------------- */

void mpt_stack_emit(struct mpt_stack *st, const struct mpt_addr *src, const struct mpt_addr *dst,
		    uint8_t *tcp, size_t len)
{
	struct mpt_ip_hdr h;
	memset(&h, 0, sizeof(h));
	h.src = *src;
	h.dst = *dst;
	h.proto = MPT_IPPROTO_TCP;
	h.ttl = st->cfg.ttl;
	h.id = st->ip_id++;
	h.payload_len = len;
	size_t hl = mpt_ip_hdr_len(h.src.family);
	mpt_tcp_csum_fill(tcp, len, &h.src, &h.dst);
	if (hl == 0 || mpt_ip_emit(tcp - hl, hl, &h) < 0)
		return;
	st->cfg.output(st->cfg.output_ud, tcp - hl, hl + len);
}

static void flow_output(void *ud, uint8_t *seg, size_t len)
{
	struct mpt_flow *f = ud;
	struct mpt_stack *st = f->st;
	if (st->pctx.mute)
		return; /* rebuilt from a SYN cookie: that SYN-ACK already left */
	mpt_stack_emit(st, &f->local.addr, &f->remote.addr, seg, len);
}

static void sock_event(struct mpt_sock *s, struct mpt_flow *f, enum mpt_tcp_event ev)
{
	struct mpt_stack *st = s->st;
	switch (ev) {
	case MPT_TCP_EV_ESTABLISHED:
		mpt_stack_sock_ready(s);
		break;
	case MPT_TCP_EV_READABLE:
		mpt_stack_notify(s, MPT_EV_READABLE);
		break;
	case MPT_TCP_EV_WRITABLE:
		mpt_stack_notify(s, MPT_EV_WRITABLE);
		break;
	case MPT_TCP_EV_ERROR:
		s->err = mpt_tcp_error(f->tcp);
		mpt_stack_notify(s, MPT_EV_ERROR | MPT_EV_READABLE);
		break;
	case MPT_TCP_EV_CLOSED:
		s->tcp_closed = true;
		st->reap_pending = true;
		mpt_stack_notify(s, MPT_EV_CLOSED);
		break;
	}
}

static void flow_event(void *ud, enum mpt_tcp_event ev)
{
	struct mpt_flow *f = ud;
	if (ev == MPT_TCP_EV_CLOSED) {
		f->tcp_closed = true;
		f->st->reap_pending = true;
	}
	if (f->sf)
		mpt_sf_event(f, ev);
	else if (f->sock)
		sock_event(f->sock, f, ev);
}

static struct mpt_flow *flow_create(struct mpt_stack *st, const struct mpt_endpoint *l,
				    const struct mpt_endpoint *r, const struct mpt_mpconn *mp)
{
	bool mptcp = mp != NULL;
	struct mpt_flow *f = mpt_calloc(st->mem, 1, sizeof(*f));
	if (!f)
		return NULL;
	f->st = st;
	f->local = *l;
	f->remote = *r;
	struct mpt_tcp_cb cb = {
	    .output = flow_output,
	    .on_event = flow_event,
	    .ud = f,
	};
	struct mpt_tcp_cfg cfg = st->tcpcfg;
	if (mptcp) {
		if (mp->cc)
			cfg.cc = mp->cc; /* the connection's choice */
		cb.ext_write_opts = mpt_sf_write_opts;
		cb.ext_input = mpt_sf_ext_input;
		cb.ext_rcv_space = mpt_sf_rcv_space;
		/* RFC 8684 §3.3: a DSS with a 64-bit DATA_ACK, a 64-bit DSN
		 * mapping and a checksum takes 28 bytes. */
		cfg.ext_opt_reserve = 28;
		/* Pure ACKs: a DSS with a 32-bit DATA_ACK (8 bytes) leaves
		 * room for timestamps and two SACK blocks. */
		cfg.ext_opt_reserve_ack = 8;
		/* RFC 8684 §3.3.4: every subflow advertises the connection-
		 * level window (the sender bounds DSNs by DATA_ACK + window),
		 * so each subflow must be able to hold that much. */
		cfg.rcvbuf = (uint32_t)mpt_mp_rcvbuf_size(cfg.rcvbuf);
	}
	if (st->pctx.cookie) {
		/* The timestamp clock the cookie's SYN-ACK used. */
		cfg.ts_offset = st->pctx.ts_offset;
	} else {
		uint8_t off[4];
		st->cfg.rand(off, sizeof(off), st->cfg.rand_ud);
		/* RFC 7323 §5.4: a random per-connection timestamp offset. */
		cfg.ts_offset = mpt_get32(off);
	}
	if (st->pctx.syn_retries)
		cfg.syn_retries = st->pctx.syn_retries;
	if (mpt_tcp_create(st->mem, &cfg, &cb, &f->tcp) < 0) {
		mpt_free(st->mem, f);
		return NULL;
	}
	mpt_tcp_set_ports(f->tcp, l->port, r->port);
	f->next = st->flows;
	if (st->flows)
		st->flows->prev = f;
	st->flows = f;
	return f;
}

static uint32_t make_isn(struct mpt_stack *st, const struct mpt_endpoint *l,
			 const struct mpt_endpoint *r, uint64_t now)
{
	uint32_t isn = 0;
	if (st->pctx.cookie)
		return st->pctx.iss; /* the SYN cookie is our ISN */
	/* Only fails on invalid arguments, which the stack never passes; a
	 * zero ISN would still be a valid (if predictable) choice. */
	(void)mpt_isn_rfc6528(st->isn_secret, &l->addr, l->port, &r->addr, r->port, now, &isn);
	return isn;
}

uint32_t mpt_stack_flow_isn(struct mpt_stack *st, const struct mpt_flow *f, uint64_t now)
{
	return make_isn(st, &f->local, &f->remote, now);
}

/* Ephemeral port: sequential from a random start, skipping used tuples. */
static uint16_t pick_port(struct mpt_stack *st, const struct mpt_addr *la,
			  const struct mpt_endpoint *remote)
{
	struct mpt_endpoint l = {.addr = *la, .port = 0};
	uint32_t span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
	for (uint32_t i = 0; i < span; i++) {
		uint16_t p = st->next_port;
		st->next_port = (uint16_t)(p >= EPHEMERAL_HI ? EPHEMERAL_LO : p + 1u);
		l.port = p;
		if (!mpt_stack_lookup(st, &l, remote))
			return p;
	}
	return 0;
}

int mpt_stack_flow_new(struct mpt_stack *st, const struct mpt_endpoint *local,
		       const struct mpt_endpoint *remote, struct mpt_subflow *sf,
		       struct mpt_flow **out)
{
	struct mpt_endpoint l = *local;
	if (l.port == 0) {
		l.port = pick_port(st, &l.addr, remote);
		if (l.port == 0)
			return MPT_ERR_LIMIT;
	} else if (mpt_stack_lookup(st, &l, remote)) {
		return MPT_ERR_EXIST;
	}
	struct mpt_flow *f = flow_create(st, &l, remote, sf->mp);
	if (!f)
		return MPT_ERR_NOMEM;
	f->sf = sf;
	hash_insert(st, f);
	/* RFC 6356: the subflows of one connection share a coupling group
	 * (beyond MPT_CC_GROUP_MAX members a subflow runs uncoupled). */
	(void)mpt_cc_group_join(&sf->mp->ccg, mpt_tcp_cc(f->tcp));
	*out = f;
	return 0;
}

/* ---- creation ----------------------------------------------------------- */

/* The policies the knobs name exist in this stack. */
static bool knobs_names_ok(const struct mpt_stack *st, const struct mpt_mptcp_knobs *k)
{
	char n[MPT_POLICY_NAME_LEN + 1];
	memcpy(n, k->sched, MPT_POLICY_NAME_LEN);
	n[MPT_POLICY_NAME_LEN] = '\0';
	if (!mpt_sched_find(&st->polreg, n))
		return false;
	memcpy(n, k->pm, MPT_POLICY_NAME_LEN);
	if (!mpt_pm_find(&st->polreg, n))
		return false;
	char c[MPT_CC_NAME_LEN + 1];
	memcpy(c, k->cc, MPT_CC_NAME_LEN);
	c[MPT_CC_NAME_LEN] = '\0';
	return c[0] == '\0' || mpt_cc_find(&st->ccreg, c) != NULL;
}

int mpt_stack_create(const struct mpt_stack_cfg *cfg, struct mpt_stack **out)
{
	if (!cfg || !out || !cfg->output || !cfg->rand || cfg->n_local > MPT_MAX_LOCAL_ADDRS)
		return MPT_ERR_INVAL;
	for (size_t i = 0; i < cfg->n_local; i++)
		if (cfg->local[i].family != 4 && cfg->local[i].family != 6)
			return MPT_ERR_INVAL;
	struct mpt_mptcp_knobs mk = cfg->mptcp;
	if (mpt_mp_knobs_fix(&mk) < 0)
		return MPT_ERR_INVAL;
	for (size_t i = 0; i < cfg->n_local; i++)
		if (cfg->local_flags[i] &
		    ~(MPT_LOCAL_SIGNAL | MPT_LOCAL_SUBFLOW | MPT_LOCAL_BACKUP | MPT_LOCAL_FULLMESH))
			return MPT_ERR_INVAL;
	const struct mpt_mem *mem = cfg->mem ? cfg->mem : mpt_mem_default();
	struct mpt_stack *st = mpt_calloc(mem, 1, sizeof(*st));
	if (!st)
		return MPT_ERR_NOMEM;
	st->cfg = *cfg;
	st->cfg.mptcp = mk;
	st->mem = mem;
	if (st->cfg.max_socks == 0)
		st->cfg.max_socks = 4096;
	if (st->cfg.ttl == 0)
		st->cfg.ttl = 64;
	mpt_cc_registry_init(&st->ccreg);
	mpt_policy_registry_init(&st->polreg);
	if (!knobs_names_ok(st, &st->cfg.mptcp)) {
		mpt_free(mem, st);
		return MPT_ERR_INVAL;
	}
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
	uint8_t rnd[16 + 8 + 2 + 8];
	cfg->rand(rnd, sizeof(rnd), cfg->rand_ud);
	memcpy(st->isn_secret, rnd, 16);
	st->hash_seed = mpt_get64(rnd + 16);
	st->next_port =
	    (uint16_t)(EPHEMERAL_LO + mpt_get16(rnd + 24) % (EPHEMERAL_HI - EPHEMERAL_LO + 1));
	if (mpt_token_table_init(&st->tokens, mem, 64, mpt_get64(rnd + 26)) < 0) {
		mpt_free(mem, st->htab);
		mpt_free(mem, st);
		return MPT_ERR_NOMEM;
	}
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
		if (s->mp)
			mpt_mp_free(s->mp);
		mpt_free(st->mem, s);
	}
	while (st->flows) {
		struct mpt_flow *f = st->flows;
		st->flows = f->next;
		mpt_tcp_destroy(f->tcp);
		mpt_free(st->mem, f);
	}
	mpt_token_table_free(&st->tokens);
	mpt_free(st->mem, st->htab);
	mpt_free(st->mem, st);
}

/* ---- input -------------------------------------------------------------- */

void mpt_stack_send_rst(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, const uint8_t *opt, size_t opt_len)
{
	uint8_t *tcp = st->scratch + MPT_TCP_HEADROOM;
	int n = mpt_tcp_make_rst(seg, tcp, MPT_TCP_HDR_LEN);
	if (n <= 0)
		return;
	if (opt_len > 0 && opt_len <= MPT_TCP_MAX_OPT_LEN) {
		memcpy(tcp + n, opt, opt_len);
		size_t ol = opt_len;
		while (ol % 4)
			tcp[(size_t)n + ol++] = 0;
		n += (int)ol;
		tcp[12] = (uint8_t)((n / 4) << 4 | (tcp[12] & 0x0f));
	}
	mpt_mib_inc(&st->mib, MPT_MIB_TcpOutRsts);
	mpt_mib_inc(&st->mib, MPT_MIB_TcpOutSegs);
	mpt_stack_emit(st, &ip->dst, &ip->src, tcp, (size_t)n);
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

/*
 * TCP Fast Open, server side (RFC 7413 §4.2.2): a cookie request (empty
 * TFO option) or a wrong cookie gets our cookie in the SYN-ACK; the SYN's
 * data is taken with a valid cookie, or from anyone in MPT_TFO_NO_COOKIE
 * mode.  Returns true when the SYN's data is accepted.
 */
static bool tfo_decide(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
		       const struct mpt_tcp_seg *seg, struct mpt_tcp_tfo *tfo)
{
	memset(tfo, 0, sizeof(*tfo));
	uint8_t mode = st->cfg.tcp.tfo_server;
	if (mode == MPT_TFO_OFF)
		return false;
	bool has_opt = (seg->opts.present & MPT_TCPOPT_F_TFO) != 0;
	uint8_t cookie[MPT_TFO_COOKIE_LEN];
	bool valid = false;
	if (has_opt && mpt_tfo_cookie(st->isn_secret, &ip->dst, &ip->src, cookie) == 0) {
		valid = seg->opts.tfo_len == MPT_TFO_COOKIE_LEN &&
			mpt_crypto_memeq(cookie, seg->opts.tfo_cookie, MPT_TFO_COOKIE_LEN);
		if (!valid) {
			tfo->cookie_len = MPT_TFO_COOKIE_LEN;
			memcpy(tfo->cookie, cookie, MPT_TFO_COOKIE_LEN);
		}
	}
	tfo->accept_data = seg->len > 0 && (valid || mode == MPT_TFO_NO_COOKIE);
	if (seg->len > 0 && !tfo->accept_data && has_opt)
		mpt_mib_inc(&st->mib, MPT_MIB_TCPFastOpenCookieReqd);
	return tfo->accept_data;
}

int mpt_stack_passive_state(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
			    const struct mpt_tcp_seg *seg, uint64_t now)
{
	/* RFC 8684 §3.1: a SYN offering MPTCP opens an MPTCP connection when
	 * we accept one of the versions (the MPTCP layer decides). */
	struct mpt_mptcp_opt mpc;
	if (st->cfg.mptcp.enable &&
	    mpt_mp_find_opt(seg, MPT_MPTCP_MP_CAPABLE, MPT_MPTCP_V1, &mpc) != MPT_ERR_NOTFOUND) {
		int mrc = mpt_mp_passive(st, l, ip, seg, &mpc, now);
		if (mrc != MPT_ERR_UNSUPPORTED)
			return mrc;
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
	int rc = MPT_ERR_NOMEM;
	s->flow = flow_create(st, &s->local, &s->remote, NULL);
	if (s->flow) {
		s->flow->sock = s;
		hash_insert(st, s->flow);
		s->flow->iss = make_isn(st, &s->local, &s->remote, now);
		struct mpt_tcp_tfo tfo;
		memset(&tfo, 0, sizeof(tfo));
		bool syn_data = !st->pctx.cookie && tfo_decide(st, ip, seg, &tfo);
		rc = mpt_tcp_accept_tfo(s->flow->tcp, seg, s->flow->iss, &tfo, now);
		/* RFC 7413 §4.2.2: SYN data accepted -> the connection may be
		 * used at once (the SYN-ACK acknowledges it). */
		if (rc == 0 && syn_data)
			mpt_stack_sock_ready(s);
	}
	if (rc < 0) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPMemoryDrop);
		sock_free(st, s);
		return rc;
	}
	return 0;
}

/* SYN-ACK retransmissions of a half-open connection while the listener's
 * half-open table is more than half full (about 7 s of life instead of
 * about two minutes: spoofed SYNs leave room sooner). */
#define SYNACK_RETRIES_PRESSURE 2u

static int passive_open(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, uint64_t now)
{
	uint32_t nhalf = l->nchildren - l->nqueued;
	if (l->nqueued >= l->backlog) {
		/* The application does not accept fast enough: like Linux,
		 * drop the SYN (the client retries) rather than answer. */
		mpt_mib_inc(&st->mib, MPT_MIB_TCPListenOverflows);
		return MPT_ERR_LIMIT;
	}
	uint8_t mode = st->cfg.tcp.syncookies;
	if (mode == MPT_SYNCOOKIES_ALWAYS || (mode == MPT_SYNCOOKIES_AUTO && nhalf >= l->backlog))
		return mpt_syncookie_send(st, l, ip, seg, now);
	if (nhalf >= l->backlog) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPReqQFullDrop);
		return MPT_ERR_LIMIT;
	}
	memset(&st->pctx, 0, sizeof(st->pctx));
	if (nhalf >= l->backlog / 2)
		st->pctx.syn_retries = SYNACK_RETRIES_PRESSURE;
	int rc = mpt_stack_passive_state(st, l, ip, seg, now);
	memset(&st->pctx, 0, sizeof(st->pctx));
	return rc;
}

int mpt_stack_child_new(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, struct mpt_sock **out)
{
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
	*out = s;
	return 0;
}

void mpt_stack_sock_discard(struct mpt_stack *st, struct mpt_sock *s)
{
	sock_free(st, s);
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
	if (!st->cfg.transparent && !is_local_addr(st, &ip.dst)) {
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
	struct mpt_flow *f = mpt_stack_lookup(st, &l, &r);
	uint16_t fl = seg.hdr.flags;
	bool pure_syn = (fl & (MPT_TCP_SYN | MPT_TCP_ACK | MPT_TCP_RST)) == MPT_TCP_SYN;
	if (f && !f->tcp_closed) {
		/* RFC 9293 §3.10.7.4 / RFC 6191: a new SYN may reopen a tuple in
		 * TIME-WAIT; the old engine is retired and a listener takes it. */
		if (!(pure_syn && mpt_tcp_get_state(f->tcp) == MPT_TCP_TIME_WAIT &&
		      mpt_tcp_timewait_reusable(f->tcp, &seg) &&
		      find_listener(st, &ip.dst, seg.hdr.dport))) {
			enum mpt_tcp_state before = mpt_tcp_get_state(f->tcp);
			rc = mpt_tcp_input(f->tcp, &seg, now);
			/* RST options count only when the engine accepted the
			 * RST (RFC 5961 §3.2: one outside the window is ignored). */
			if ((fl & MPT_TCP_RST) && f->sf && before != MPT_TCP_CLOSED &&
			    mpt_tcp_get_state(f->tcp) == MPT_TCP_CLOSED)
				mpt_sf_rst_rx(f->sf, &seg, now);
			if (f->sf)
				mpt_mp_dirty(f->sf->mp);
			return rc;
		}
		mpt_mib_inc(&st->mib, MPT_MIB_TCPTimeWaitReuse);
		hash_remove(st, f);
		f->tcp_closed = true;
		st->reap_pending = true;
		if (f->sock) {
			f->sock->tcp_closed = true;
			mpt_stack_notify(f->sock, MPT_EV_CLOSED);
		} else if (f->sf) {
			mpt_sf_event(f, MPT_TCP_EV_CLOSED);
		}
	}

	if (pure_syn) {
		if (f) {
			/* A finished connection with the same tuple still
			 * lingers (TIME-WAIT already reported closed). */
			hash_remove(st, f);
		}
		struct mpt_mptcp_opt join;
		if (st->cfg.mptcp.enable &&
		    mpt_mp_find_opt(&seg, MPT_MPTCP_MP_JOIN, MPT_MPTCP_V1, &join) == 0)
			return mpt_mp_join_syn(st, &ip, &seg, &join, now);
		struct mpt_sock *lis = find_listener(st, &ip.dst, seg.hdr.dport);
		if (lis)
			return passive_open(st, lis, &ip, &seg, now);
	} else if ((fl & (MPT_TCP_ACK | MPT_TCP_SYN | MPT_TCP_RST)) == MPT_TCP_ACK && !f) {
		/* RFC 4987 §3.6: the ACK of a SYN cookie finds no state; the
		 * listener recognises it (checked only while it has been
		 * sending cookies: an ACK flood costs no MAC otherwise). */
		struct mpt_sock *lis = find_listener(st, &ip.dst, seg.hdr.dport);
		if (lis && !lis->app_closed &&
		    (st->cfg.tcp.syncookies == MPT_SYNCOOKIES_ALWAYS || now < lis->cookie_until)) {
			rc = mpt_syncookie_ack(st, lis, &ip, &seg, now);
			if (rc != MPT_ERR_NOTFOUND)
				return rc;
		}
	}
	/* RFC 9293 §3.10.7.1: no connection -> RST (never for a RST). */
	mpt_mib_inc(&st->mib, MPT_MIB_TcpNoPort);
	mpt_stack_send_rst(st, &ip, &seg, NULL, 0);
	return MPT_ERR_NOTFOUND;
}

int mpt_stack_input(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint64_t now)
{
	if (!st || (!pkt && len))
		return MPT_ERR_INVAL;
	if (st->depth)
		return MPT_ERR_STATE; /* from on_event or output: not allowed */
	stack_enter(st, now);
	int rc = stack_input(st, pkt, len, now);
	stack_leave_deliver(st);
	return rc;
}

uint64_t mpt_stack_next_deadline(struct mpt_stack *st)
{
	/* Events queued by socket calls (or left over by a delivery round)
	 * are due now: mpt_stack_on_timer delivers them. */
	if (st->ev_head)
		return st->now;
	uint64_t d = MPT_TIME_NEVER;
	for (struct mpt_flow *f = st->flows; f; f = f->next) {
		if (!f->tcp || f->tcp_closed)
			continue;
		uint64_t t = mpt_tcp_next_deadline(f->tcp);
		if (t < d)
			d = t;
	}
	for (struct mpt_sock *s = st->all; s; s = s->next) {
		if (!s->mp)
			continue;
		uint64_t t = mpt_mp_next_deadline(s->mp);
		if (t < d)
			d = t;
	}
	return d;
}

void mpt_stack_on_timer(struct mpt_stack *st, uint64_t now)
{
	if (st->depth)
		return; /* from on_event or output: not allowed */
	stack_enter(st, now);
	for (struct mpt_flow *f = st->flows; f; f = f->next) {
		if (f->tcp && !f->tcp_closed && mpt_tcp_next_deadline(f->tcp) <= now) {
			mpt_tcp_on_timer(f->tcp, now);
			if (f->sf)
				mpt_mp_dirty(f->sf->mp);
		}
	}
	for (struct mpt_sock *s = st->all; s; s = s->next)
		if (s->mp && mpt_mp_next_deadline(s->mp) <= now)
			mpt_mp_on_timer(s->mp, now);
	stack_leave_deliver(st);
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
	if (!st || !local || !out || backlog == 0)
		return MPT_ERR_INVAL;
	if (local->port == 0 && !(st->cfg.transparent && local->addr.family == 0))
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
	/* It may have finished (or failed) while queued. */
	l->st->reap_pending = true;
	return s;
}

static const struct mpt_addr *pick_local(const struct mpt_stack *st, uint8_t family)
{
	for (size_t i = 0; i < st->cfg.n_local; i++)
		if (st->cfg.local[i].family == family)
			return &st->cfg.local[i];
	return NULL;
}

void mpt_conn_opts_init(const struct mpt_stack *st, struct mpt_conn_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (st)
		o->mptcp = st->cfg.mptcp;
}

int mpt_connect_ex(struct mpt_stack *st, const struct mpt_endpoint *remote,
		   const struct mpt_addr *local_addr, const struct mpt_conn_opts *opts,
		   uint64_t now, struct mpt_sock **out)
{
	if (!st || !remote || !out || remote->port == 0 ||
	    (remote->addr.family != 4 && remote->addr.family != 6))
		return MPT_ERR_INVAL;
	struct mpt_mptcp_knobs mk = opts ? opts->mptcp : st->cfg.mptcp;
	if (mpt_mp_knobs_fix(&mk) < 0 || !knobs_names_ok(st, &mk))
		return MPT_ERR_INVAL;
	const struct mpt_addr *la = local_addr ? local_addr : pick_local(st, remote->addr.family);
	if (!la || la->family != remote->addr.family || !is_local_addr(st, la))
		return MPT_ERR_INVAL;
	uint16_t port = pick_port(st, la, remote);
	if (port == 0)
		return MPT_ERR_LIMIT;
	struct mpt_sock *s = sock_new(st);
	if (!s)
		return st->nsocks >= st->cfg.max_socks ? MPT_ERR_LIMIT : MPT_ERR_NOMEM;
	s->local.addr = *la;
	s->local.port = port;
	s->remote = *remote;
	s->app_owned = true;
	stack_enter(st, now);
	int rc;
	if (mk.enable) {
		rc = mpt_mp_connect(s, &mk, now);
		if (rc < 0) {
			sock_free(st, s);
			stack_leave(st);
			return rc;
		}
	} else {
		s->flow = flow_create(st, &s->local, &s->remote, NULL);
		if (!s->flow) {
			sock_free(st, s);
			stack_leave(st);
			return MPT_ERR_NOMEM;
		}
		s->flow->sock = s;
		hash_insert(st, s->flow);
		s->flow->iss = make_isn(st, &s->local, &s->remote, now);
		rc = mpt_tcp_connect(s->flow->tcp, s->flow->iss, now);
	}
	*out = s;
	stack_leave(st);
	return rc;
}

int mpt_connect(struct mpt_stack *st, const struct mpt_endpoint *remote,
		const struct mpt_addr *local_addr, uint64_t now, struct mpt_sock **out)
{
	return mpt_connect_ex(st, remote, local_addr, NULL, now, out);
}

long mpt_send(struct mpt_sock *s, const void *data, size_t len, uint64_t now)
{
	if (!s || s->listener || s->app_closed)
		return MPT_ERR_INVAL;
	if (s->err)
		return s->err;
	struct mpt_stack *st = s->st;
	stack_enter(st, now);
	long rc;
	if (s->mp)
		rc = mpt_mp_send(s->mp, data, len, now);
	else
		rc = mpt_tcp_send(s->flow->tcp, data, len, now);
	stack_leave(st);
	return rc;
}

long mpt_recv(struct mpt_sock *s, void *buf, size_t len, uint64_t now)
{
	if (!s || s->listener || s->app_closed)
		return MPT_ERR_INVAL;
	struct mpt_stack *st = s->st;
	stack_enter(st, now);
	long rc;
	if (s->mp)
		rc = mpt_mp_recv(s->mp, buf, len, now);
	else
		rc = mpt_tcp_recv(s->flow->tcp, buf, len, now);
	stack_leave(st);
	return rc;
}

int mpt_shutdown(struct mpt_sock *s, uint64_t now)
{
	if (!s || s->listener || s->app_closed)
		return MPT_ERR_INVAL;
	struct mpt_stack *st = s->st;
	stack_enter(st, now);
	int rc;
	if (s->mp)
		rc = mpt_mp_shutdown(s->mp, now);
	else
		rc = mpt_tcp_shutdown(s->flow->tcp, now);
	stack_leave(st);
	return rc;
}

static void close_listener(struct mpt_sock *l, uint64_t now)
{
	/* Children not yet accepted have no owner left: abort them. */
	for (struct mpt_sock *s = l->st->all; s; s = s->next) {
		if (s->parent != l || s->tcp_closed)
			continue;
		if (s->mp)
			mpt_mp_close(s->mp, true, now);
		else
			mpt_tcp_abort(s->flow->tcp, now);
	}
}

static void sock_close(struct mpt_sock *s, uint64_t now, bool abort)
{
	if (!s || s->app_closed)
		return;
	struct mpt_stack *st = s->st;
	stack_enter(st, now);
	s->app_closed = true;
	st->reap_pending = true;
	if (s->listener)
		close_listener(s, now);
	else if (s->mp)
		mpt_mp_close(s->mp, abort, now);
	else if (!s->tcp_closed) {
		if (abort)
			mpt_tcp_abort(s->flow->tcp, now);
		else
			mpt_tcp_close(s->flow->tcp, now);
	}
	stack_leave(st);
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
	if (s->mp)
		return mpt_mp_events(s->mp);
	if (s->established)
		ev |= MPT_EV_CONNECTED;
	if (mpt_tcp_readable(s->flow->tcp) > 0)
		ev |= MPT_EV_READABLE;
	if (s->established && mpt_tcp_writable(s->flow->tcp) > 0)
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

static void fill_info(const struct mpt_tcp *tcp, struct mpt_sock_info *info)
{
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(tcp, &ti);
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
}

int mpt_sock_info(const struct mpt_sock *s, struct mpt_sock_info *info)
{
	if (!s || !info)
		return MPT_ERR_INVAL;
	if (s->listener)
		return MPT_ERR_STATE;
	const struct mpt_flow *f = s->flow;
	if (!f && s->mp)
		f = mpt_mp_info_flow(s->mp);
	if (!f || !f->tcp)
		return MPT_ERR_STATE;
	fill_info(f->tcp, info);
	return 0;
}

bool mpt_sock_mptcp_enabled(const struct mpt_sock *s)
{
	return s && s->mp && !mpt_mp_is_fallback(s->mp);
}

uint32_t mpt_sock_conn_id(const struct mpt_sock *s)
{
	return (s && s->mp && !mpt_mp_is_fallback(s->mp)) ? s->mp->token_local : 0;
}

int mpt_sock_set_backup(struct mpt_sock *s, const struct mpt_addr *local, bool backup, uint64_t now)
{
	if (!s || s->listener || s->app_closed)
		return MPT_ERR_INVAL;
	if (!s->mp)
		return MPT_ERR_STATE;
	struct mpt_stack *st = s->st;
	stack_enter(st, now);
	int rc = mpt_mp_set_backup(s->mp, local, backup, now);
	stack_leave(st);
	return rc;
}

int mpt_stack_add_local_addr(struct mpt_stack *st, const struct mpt_addr *a, uint64_t now)
{
	if (!st || !a || (a->family != 4 && a->family != 6))
		return MPT_ERR_INVAL;
	if (is_local_addr(st, a))
		return MPT_ERR_EXIST;
	/* Removed addresses keep their slot: address ids (slot + 1) are
	 * never reused within a stack's life. */
	if (st->cfg.n_local >= MPT_MAX_LOCAL_ADDRS)
		return MPT_ERR_LIMIT;
	stack_enter(st, now);
	st->cfg.local[st->cfg.n_local++] = *a;
	/* Path managers pick it up on their next run. */
	for (struct mpt_sock *s = st->all; s; s = s->next)
		if (s->mp && !s->listener)
			mpt_stack_mark_dirty(st, s->mp);
	stack_leave(st);
	return 0;
}

int mpt_stack_remove_local_addr(struct mpt_stack *st, const struct mpt_addr *a, uint64_t now)
{
	if (!st || !a)
		return MPT_ERR_INVAL;
	int li = mpt_stack_local_index(st, a);
	if (li < 0)
		return MPT_ERR_NOTFOUND;
	stack_enter(st, now);
	for (struct mpt_sock *s = st->all; s; s = s->next) {
		if (!s->mp || s->listener)
			continue;
		/* Address ids: 0 for the connection's initial address. */
		uint8_t id = mpt_addr_equal(&s->local.addr, a) ? 0 : (uint8_t)(li + 1);
		mpt_mp_local_removed(s->mp, a, id, now);
	}
	memset(&st->cfg.local[li], 0, sizeof(st->cfg.local[li]));
	stack_leave(st);
	return 0;
}

int mpt_sock_pm_event(struct mpt_sock *s, struct mpt_pm_event *ev)
{
	if (!s || !ev)
		return MPT_ERR_INVAL;
	if (!s->mp)
		return 0;
	return mpt_mp_pm_event_pop(s->mp, ev);
}

int mpt_sock_mptcp_info(const struct mpt_sock *s, struct mpt_mptcp_info *info)
{
	if (!s || !info)
		return MPT_ERR_INVAL;
	if (s->listener || !s->mp)
		return MPT_ERR_STATE;
	return mpt_mp_info(s->mp, info);
}

int mpt_sock_subflows(const struct mpt_sock *s, struct mpt_subflow_info *out, size_t max)
{
	if (!s || (!out && max))
		return MPT_ERR_INVAL;
	if (s->listener)
		return MPT_ERR_STATE;
	if (s->mp)
		return mpt_mp_subflows(s->mp, out, max);
	if (max > 0) {
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(s->flow->tcp, &ti);
		memset(out, 0, sizeof(*out));
		out->local = s->local;
		out->remote = s->remote;
		out->active = ti.state == MPT_TCP_ESTABLISHED;
		snprintf(out->state, sizeof(out->state), "%s", mpt_tcp_state_name(ti.state));
		out->srtt_ns = ti.srtt_ns;
		out->cwnd = ti.snd_cwnd;
		out->bytes_sent = ti.bytes_sent;
		out->bytes_acked = ti.bytes_acked;
		out->bytes_received = ti.bytes_received;
		out->bytes_retrans = ti.bytes_retrans;
		out->retransmits = ti.total_retrans;
	}
	return 1;
}

/* ---- the external path-manager API ---------------------------------------- */

static int pm_sock_ok(const struct mpt_sock *s, const void *a)
{
	if (!s || !a || s->listener || s->app_closed)
		return MPT_ERR_INVAL;
	return s->mp ? 0 : MPT_ERR_STATE;
}

int mpt_pm_subflow_open(struct mpt_sock *s, const struct mpt_addr *local,
			const struct mpt_endpoint *remote, bool backup, uint64_t now)
{
	int rc = pm_sock_ok(s, local);
	if (rc < 0 || !remote)
		return rc < 0 ? rc : MPT_ERR_INVAL;
	stack_enter(s->st, now);
	rc = mpt_pm_api_open(s->mp, local, remote, backup, now);
	stack_leave(s->st);
	return rc;
}

int mpt_pm_subflow_close(struct mpt_sock *s, const struct mpt_addr *local,
			 const struct mpt_endpoint *remote, uint64_t now)
{
	int rc = pm_sock_ok(s, local);
	if (rc < 0 || !remote)
		return rc < 0 ? rc : MPT_ERR_INVAL;
	stack_enter(s->st, now);
	rc = mpt_pm_api_close(s->mp, local, remote, now);
	stack_leave(s->st);
	return rc;
}

int mpt_pm_announce(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now)
{
	int rc = pm_sock_ok(s, local);
	if (rc < 0)
		return rc;
	stack_enter(s->st, now);
	rc = mpt_pm_api_announce(s->mp, local);
	stack_leave(s->st);
	return rc;
}

int mpt_pm_withdraw(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now)
{
	int rc = pm_sock_ok(s, local);
	if (rc < 0)
		return rc;
	stack_enter(s->st, now);
	rc = mpt_pm_api_withdraw(s->mp, local, now);
	stack_leave(s->st);
	return rc;
}

int mpt_pm_remote_addrs(const struct mpt_sock *s, struct mpt_endpoint *out, uint8_t *ids,
			size_t max)
{
	if (!s || s->listener || (max > 0 && !out && !ids))
		return MPT_ERR_INVAL;
	if (!s->mp || mpt_mp_is_fallback(s->mp))
		return MPT_ERR_STATE;
	return mpt_pm_api_remote(s->mp, out, ids, max);
}
