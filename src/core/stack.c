/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stack: entry points and their lifetime rule, local addresses,
 * listeners and passive opens, the 4-tuple demultiplexer (flows), IP
 * encapsulation, timers, events and counters.  The socket API is sock.c;
 * plain TCP's socket operations sock_tcp.c; SYN cookies syncookie.c; the
 * MPTCP layer (src/mptcp) is reached through mptcp/transport.h and reaches
 * the stack through core/host.h.
 *
 * Lifetime rule: engine callbacks never free anything.  Every public entry
 * point runs between mpt_stack_enter() and mpt_stack_leave(); the outermost leave
 * runs the MPTCP connections marked dirty and then releases dead sockets and
 * flows, so no engine is destroyed while one of its own functions (or an
 * application callback below a public call) is on the stack.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/splitmix.h"
#include "cc/cc.h"
#include "common.h"
#include "core/stack_int.h"
#include "crypto/crypto.h"
#include "mib.h"
#include "mptcp/transport.h"
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
	cfg->mptcp.wnd_share = MPT_MP_WND_SHARE_DEFAULT;
}

/* ---- entry points ------------------------------------------------------- */

static void stack_reap(struct mpt_stack *st);
static void refresh_touched(struct mpt_stack *st);

void mpt_stack_enter(struct mpt_stack *st, uint64_t now)
{
	if (st->core->depth++ == 0)
		st->now = now;
}

#define DIRTY_ROUNDS 64
static void run_dirty(struct mpt_stack *st)
{
	/* Bounded: a connection re-marks itself only when it made progress. */
	int guard;
	for (guard = 0; st->core->dirty && guard < DIRTY_ROUNDS; guard++) {
		struct mpt_sock *s = st->core->dirty;
		st->core->dirty = NULL;
		while (s) {
			struct mpt_sock *next = s->dirty_next;
			s->dirty_next = NULL;
			s->on_dirty = false;
			if (s->ops && s->ops->run)
				s->ops->run(s, st->now);
			mpt_stack_touch(st, &s->tn);
			s = next;
		}
	}
	/* Connections still marked stay marked: their work is due at once
	 * (mpt_stack_next_deadline), never left for the next packet. */
	if (st->core->dirty)
		mpt_mib_inc(&st->mib, MPT_MIB_DirtyDeferred);
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
	for (unsigned n = 0; st->core->ev_head; n++) {
		if (n == EVENT_ROUND_MAX) {
			/* A callback that keeps producing events for itself must
			 * not stall the caller: the rest goes at the next timer
			 * (mpt_stack_next_deadline says "now"). */
			mpt_mib_inc(&st->mib, MPT_MIB_EventDeferred);
			return;
		}
		struct mpt_sock *s = st->core->ev_head;
		st->core->ev_head = s->ev_next;
		if (!st->core->ev_head)
			st->core->ev_tail = NULL;
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
	for (struct mpt_sock *q = st->core->ev_head; q; prev = q, q = q->ev_next) {
		if (q != s)
			continue;
		if (prev)
			prev->ev_next = s->ev_next;
		else
			st->core->ev_head = s->ev_next;
		if (st->core->ev_tail == s)
			st->core->ev_tail = prev;
		break;
	}
	s->ev_next = NULL;
	s->ev_queued = false;
	s->ev_pending = 0;
}

static void stack_leave_common(struct mpt_stack *st, bool deliver)
{
	if (st->core->depth > 1) {
		st->core->depth--;
		return;
	}
	run_dirty(st);
	if (deliver)
		deliver_events(st);
	refresh_touched(st);
	stack_reap(st);
	st->core->depth = 0;
}

/* Leave a socket call: engine work is finished, events stay queued. */
void mpt_stack_leave(struct mpt_stack *st)
{
	stack_leave_common(st, false);
}

/* Leave mpt_stack_input / mpt_stack_on_timer: the only places that call
 * the application back. */
static void stack_leave_deliver(struct mpt_stack *st)
{
	stack_leave_common(st, true);
}

void mpt_stack_sock_dirty(struct mpt_sock *s)
{
	mpt_stack_touch(s->st, &s->tn);
	if (s->on_dirty)
		return;
	struct mpt_stack *st = s->st;
	s->on_dirty = true;
	s->dirty_next = st->core->dirty;
	st->core->dirty = s;
}

static void dirty_remove(struct mpt_stack *st, struct mpt_sock *s)
{
	if (!s->on_dirty)
		return;
	struct mpt_sock **pp = &st->core->dirty;
	while (*pp && *pp != s)
		pp = &(*pp)->dirty_next;
	if (*pp)
		*pp = s->dirty_next;
	s->on_dirty = false;
}

static void reap_unqueue(struct mpt_stack *st, struct mpt_sock *s)
{
	if (!s->reap_queued)
		return;
	if (s->reap_prev)
		s->reap_prev->reap_next = s->reap_next;
	else
		st->core->reap = s->reap_next;
	if (s->reap_next)
		s->reap_next->reap_prev = s->reap_prev;
	s->reap_prev = s->reap_next = NULL;
	s->reap_queued = false;
}

/* ---- the timer heap --------------------------------------------------------- */

#define TN_NONE SIZE_MAX

static void tn_init(struct mpt_tnode *n, bool is_sock)
{
	memset(n, 0, sizeof(*n));
	n->idx = TN_NONE;
	n->at = MPT_TIME_NEVER;
	n->is_sock = is_sock;
}

static void heap_swap(struct mpt_stack_core *c, size_t a, size_t b)
{
	struct mpt_tnode *t = c->heap[a];
	c->heap[a] = c->heap[b];
	c->heap[b] = t;
	c->heap[a]->idx = a;
	c->heap[b]->idx = b;
}

static void heap_up(struct mpt_stack_core *c, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (c->heap[p]->at <= c->heap[i]->at)
			break;
		heap_swap(c, p, i);
		i = p;
	}
}

static void heap_down(struct mpt_stack_core *c, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < c->heap_n && c->heap[l]->at < c->heap[m]->at)
			m = l;
		if (r < c->heap_n && c->heap[r]->at < c->heap[m]->at)
			m = r;
		if (m == i)
			return;
		heap_swap(c, i, m);
		i = m;
	}
}

static void heap_remove(struct mpt_stack_core *c, struct mpt_tnode *n)
{
	size_t i = n->idx;
	if (i == TN_NONE)
		return;
	n->idx = TN_NONE;
	c->heap_n--;
	if (i == c->heap_n)
		return;
	c->heap[i] = c->heap[c->heap_n];
	c->heap[i]->idx = i;
	heap_up(c, i);
	heap_down(c, c->heap[i]->idx);
}

/* Put n in the heap at deadline at (MPT_TIME_NEVER: out of it). */
static void heap_set(struct mpt_stack *st, struct mpt_tnode *n, uint64_t at)
{
	struct mpt_stack_core *c = st->core;
	if (at == MPT_TIME_NEVER) {
		heap_remove(c, n);
		n->at = at;
		return;
	}
	if (n->idx == TN_NONE) {
		if (c->heap_n == c->heap_cap) {
			/* Grows with the number of connections, never per packet. */
			size_t cap = c->heap_cap ? 2 * c->heap_cap : 64;
			struct mpt_tnode **v = mpt_realloc(st->mem, c->heap, cap * sizeof(*v));
			if (!v) {
				c->heap_nomem = true; /* deadlines by scanning from now on */
				return;
			}
			c->heap = v;
			c->heap_cap = cap;
		}
		n->at = at;
		n->idx = c->heap_n;
		c->heap[c->heap_n++] = n;
		heap_up(c, n->idx);
		return;
	}
	uint64_t old = n->at;
	n->at = at;
	if (at < old)
		heap_up(c, n->idx);
	else if (at > old)
		heap_down(c, n->idx);
}

void mpt_stack_touch(struct mpt_stack *st, struct mpt_tnode *n)
{
	if (n->touched)
		return;
	n->touched = true;
	n->touched_next = st->core->touched;
	st->core->touched = n;
}

static void untouch(struct mpt_stack *st, struct mpt_tnode *n)
{
	if (!n->touched)
		return;
	struct mpt_tnode **pp = &st->core->touched;
	while (*pp && *pp != n)
		pp = &(*pp)->touched_next;
	if (*pp)
		*pp = n->touched_next;
	n->touched = false;
}

/* Off the list of timers to fire this round (it is being freed). */
static void undue(struct mpt_stack *st, struct mpt_tnode *n)
{
	if (!n->due)
		return;
	struct mpt_tnode **pp = &st->core->due;
	while (*pp && *pp != n)
		pp = &(*pp)->due_next;
	if (*pp)
		*pp = n->due_next;
	n->due_next = NULL;
	n->due = false;
}

static uint64_t tn_deadline(struct mpt_tnode *n)
{
	if (n->is_sock) {
		const struct mpt_sock *s =
		    (const struct mpt_sock *)(const void *)((const char *)n -
							    offsetof(struct mpt_sock, tn));
		return s->ops ? s->ops->deadline(s) : MPT_TIME_NEVER;
	}
	const struct mpt_flow *f =
	    (const struct mpt_flow *)(const void *)((const char *)n -
						    offsetof(struct mpt_flow, tn));
	return f->tcp && !f->tcp_closed ? mpt_tcp_next_deadline(f->tcp) : MPT_TIME_NEVER;
}

/* The deadlines of what this entry point touched, into the heap. */
static void refresh_touched(struct mpt_stack *st)
{
	while (st->core->touched) {
		struct mpt_tnode *n = st->core->touched;
		st->core->touched = n->touched_next;
		n->touched = false;
		heap_set(st, n, tn_deadline(n));
	}
}

static void flow_touched(void *ud)
{
	struct mpt_flow *f = ud;
	mpt_stack_touch(f->st, &f->tn);
}

/* ---- hashing ------------------------------------------------------------ */

/* Table indices go through splitmix64's finaliser (base/splitmix.h): every
 * bit of the key moves every bit of the index. */
static uint64_t addr_fold(const struct mpt_addr *a)
{
	uint64_t hi = mpt_get64(a->bytes), lo = mpt_get64(a->bytes + 8);
	return mpt_splitmix64_mix(hi ^ mpt_splitmix64_mix(lo ^ a->family));
}

static size_t tuple_hash(const struct mpt_stack *st, const struct mpt_endpoint *l,
			 const struct mpt_endpoint *r)
{
	/* Keyed with a random seed so remote peers cannot aim for one chain. */
	uint64_t h = st->core->hash_seed;
	h = mpt_splitmix64_mix(h ^ addr_fold(&l->addr));
	h = mpt_splitmix64_mix(h ^ addr_fold(&r->addr));
	h = mpt_splitmix64_mix(h ^ ((uint64_t)l->port << 16 | r->port));
	return (size_t)h & st->core->hmask;
}

static bool ep_equal(const struct mpt_endpoint *a, const struct mpt_endpoint *b)
{
	return a->port == b->port && mpt_addr_equal(&a->addr, &b->addr);
}

struct mpt_flow *mpt_stack_lookup(const struct mpt_stack *st, const struct mpt_endpoint *l,
				  const struct mpt_endpoint *r)
{
	for (struct mpt_flow *f = st->core->htab[tuple_hash(st, l, r)]; f; f = f->hnext)
		if (ep_equal(&f->local, l) && ep_equal(&f->remote, r))
			return f;
	return NULL;
}

static void hash_insert(struct mpt_stack *st, struct mpt_flow *f)
{
	size_t i = tuple_hash(st, &f->local, &f->remote);
	f->hnext = st->core->htab[i];
	st->core->htab[i] = f;
	f->hashed = true;
	if (st->cfg.on_flow)
		st->cfg.on_flow(st->cfg.flow_ud, &f->local, &f->remote, true);
}

static void hash_remove(struct mpt_stack *st, struct mpt_flow *f)
{
	if (!f->hashed)
		return;
	struct mpt_flow **pp = &st->core->htab[tuple_hash(st, &f->local, &f->remote)];
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	f->hashed = false;
	if (st->cfg.on_flow)
		st->cfg.on_flow(st->cfg.flow_ud, &f->local, &f->remote, false);
}

static struct mpt_sock *find_listener(const struct mpt_stack *st, const struct mpt_addr *dst,
				      uint16_t port)
{
	struct mpt_sock *wild = NULL, *any = NULL;
	for (struct mpt_sock *s = st->core->listeners; s; s = s->lnext) {
		if (s->app_closed)
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

bool mpt_stack_is_local(const struct mpt_stack *st, const struct mpt_addr *a)
{
	return mpt_stack_local_index(st, a) >= 0;
}

const struct mpt_addr *mpt_stack_pick_local(const struct mpt_stack *st, uint8_t family)
{
	for (size_t i = 0; i < st->cfg.n_local; i++)
		if (st->cfg.local[i].family == family)
			return &st->cfg.local[i];
	return NULL;
}

/* ---- socket bookkeeping ----------------------------------------------- */

/* ---- TIME-WAIT ----------------------------------------------------------- */

/* A flow in TIME-WAIT holds its socket (and, for MPTCP, the connection)
 * for 2 MSL.  A busy proxy closing first would fill the socket table with
 * them and refuse new connections: when the table is full, the oldest
 * TIME-WAIT connection whose application is gone ends early instead (like
 * Linux's tcp_max_tw_buckets; RFC 9293 §3.10.7.4 allows ending TIME-WAIT
 * early, RFC 6191 reuses the tuple).  The queue holds every flow that
 * entered TIME-WAIT, oldest first. */
static void tw_dequeue(struct mpt_stack *st, struct mpt_flow *f)
{
	if (!f->on_tw)
		return;
	if (f->tw_prev)
		f->tw_prev->tw_next = f->tw_next;
	else
		st->core->tw_head = f->tw_next;
	if (f->tw_next)
		f->tw_next->tw_prev = f->tw_prev;
	else
		st->core->tw_tail = f->tw_prev;
	f->tw_prev = f->tw_next = NULL;
	f->on_tw = false;
}

static void tw_enqueue(struct mpt_stack *st, struct mpt_flow *f)
{
	tw_dequeue(st, f);
	f->on_tw = true;
	f->tw_prev = st->core->tw_tail;
	f->tw_next = NULL;
	if (st->core->tw_tail)
		st->core->tw_tail->tw_next = f;
	else
		st->core->tw_head = f;
	st->core->tw_tail = f;
}

void mpt_stack_flow_retire(struct mpt_stack *st, struct mpt_flow *f)
{
	hash_remove(st, f);
	tw_dequeue(st, f);
	f->tcp_closed = true;
	if (f->sock) {
		f->sock->tcp_closed = true;
		mpt_stack_notify(f->sock, MPT_EV_CLOSED);
	} else if (f->sf) {
		mpt_sf_event(f, MPT_TCP_EV_CLOSED);
	}
}

/* Flows looked at per attempt: one whose connection still runs (or whose
 * application holds it) goes to the back, so an attempt costs O(1). */
#define TW_EVICT_TRIES 8

/* Cut the oldest evictable TIME-WAIT connection short; true when one was
 * (its socket is no longer counted; the reap frees it). */
static bool tw_evict(struct mpt_stack *st)
{
	for (unsigned i = 0; i < TW_EVICT_TRIES && st->core->tw_head; i++) {
		struct mpt_flow *f = st->core->tw_head;
		tw_dequeue(st, f);
		if (f->tcp_closed || mpt_tcp_get_state(f->tcp) != MPT_TCP_TIME_WAIT)
			continue; /* gone since (the queue is not told) */
		struct mpt_sock *s = f->sock ? f->sock : f->sf ? mpt_sf_owner(f) : NULL;
		if (!s || s->listener || s->evicted || (s->app_owned && !s->app_closed) ||
		    !s->ops || !s->ops->evict || !s->ops->evict(s)) {
			tw_enqueue(st, f); /* (evict refused: nothing retired) */
			continue;
		}
		s->evicted = true;
		st->core->nevicted++;
		mpt_mib_inc(&st->mib, MPT_MIB_TCPTimeWaitOverflow);
		mpt_stack_reap_later(s);
		return true;
	}
	return false;
}

struct mpt_sock *mpt_stack_sock_new(struct mpt_stack *st)
{
	if (st->core->nsocks - st->core->nevicted >= st->cfg.max_socks && !tw_evict(st))
		return NULL;
	struct mpt_sock *s = mpt_calloc(st->mem, 1, sizeof(*s));
	if (!s)
		return NULL;
	s->st = st;
	tn_init(&s->tn, true);
	s->next = st->core->all;
	if (st->core->all)
		st->core->all->prev = s;
	st->core->all = s;
	st->core->nsocks++;
	return s;
}

void mpt_stack_listener_add(struct mpt_stack *st, struct mpt_sock *s)
{
	s->listener = true;
	s->lnext = st->core->listeners;
	st->core->listeners = s;
}

static void listener_remove(struct mpt_stack *st, struct mpt_sock *s)
{
	struct mpt_sock **pp = &st->core->listeners;
	while (*pp && *pp != s)
		pp = &(*pp)->lnext;
	if (*pp)
		*pp = s->lnext;
}

void mpt_stack_queue_remove(struct mpt_sock *l, struct mpt_sock *s)
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
		st->core->flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->prev = f->next = NULL;
}

void mpt_stack_flow_free(struct mpt_stack *st, struct mpt_flow *f)
{
	if (!f)
		return;
	untouch(st, &f->tn);
	undue(st, &f->tn);
	heap_remove(st->core, &f->tn);
	tw_dequeue(st, f);
	flow_unlink(st, f);
	mpt_tcp_destroy(f->tcp);
	mpt_free(st->mem, f);
}

void mpt_stack_sock_free(struct mpt_stack *st, struct mpt_sock *s)
{
	ev_unqueue(st, s);
	untouch(st, &s->tn);
	undue(st, &s->tn);
	heap_remove(st->core, &s->tn);
	if (s->parent) {
		mpt_stack_queue_remove(s->parent, s);
		s->parent->nchildren--;
		s->parent = NULL;
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		st->core->all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->listener)
		listener_remove(st, s);
	dirty_remove(st, s);
	reap_unqueue(st, s);
	if (s->flow)
		mpt_stack_flow_free(st, s->flow);
	if (s->ops)
		s->ops->release(s);
	if (s->evicted)
		st->core->nevicted--;
	st->core->nsocks--;
	mpt_free(st->mem, s);
}

/* A socket can go once nobody can reach it: the engine (or every subflow)
 * is done and the application either closed its handle or never had one. */
static bool sock_dead(const struct mpt_sock *s)
{
	if (s->listener)
		return s->app_closed && s->nchildren == 0;
	return s->tcp_closed && (!s->ops || s->ops->finished(s)) &&
	       (s->app_closed || !s->app_owned);
}

/* Only the sockets something happened to are looked at: each change that
 * can make one dead (engine closed, connection done, application closed,
 * last subflow gone) queues it with mpt_stack_reap_later. */
static void stack_reap(struct mpt_stack *st)
{
	struct mpt_sock *s;
	while ((s = st->core->reap) != NULL) {
		reap_unqueue(st, s);
		if (!sock_dead(s))
			continue;
		struct mpt_sock *parent = s->parent;
		mpt_stack_sock_free(st, s);
		/* A closed listener goes with its last child. */
		if (parent && sock_dead(parent))
			mpt_stack_sock_free(st, parent);
	}
}

void mpt_stack_notify(struct mpt_sock *s, unsigned ev)
{
	struct mpt_stack *st = s->st;
	if (ev & MPT_EV_CLOSED)
		mpt_stack_reap_later(s);
	if (!s->app_owned || s->app_closed || !st->cfg.on_event)
		return;
	s->ev_pending |= ev;
	if (s->ev_queued)
		return;
	s->ev_queued = true;
	s->ev_next = NULL;
	if (st->core->ev_tail)
		st->core->ev_tail->ev_next = s;
	else
		st->core->ev_head = s;
	st->core->ev_tail = s;
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

struct mpt_stack *mpt_stack_of(const struct mpt_sock *s)
{
	return s->st;
}

void mpt_stack_sock_attach(struct mpt_sock *s, const struct mpt_sock_ops *ops, void *conn)
{
	s->ops = ops;
	s->conn = conn;
	mpt_stack_touch(s->st, &s->tn);
}

void *mpt_stack_sock_conn(const struct mpt_sock *s)
{
	return s->conn;
}

void mpt_stack_sock_to_tcp(struct mpt_sock *s, struct mpt_flow *f, const struct mpt_sock_ops *ops)
{
	/* The flow's hooks check f->sf: with it cleared they write and read
	 * no MPTCP option, and its engine's events come to the socket. */
	f->sf = NULL;
	f->sock = s;
	s->flow = f;
	s->ops = ops;
	mpt_stack_touch(s->st, &s->tn);
	if (!s->established && mpt_tcp_get_state(f->tcp) >= MPT_TCP_ESTABLISHED &&
	    mpt_tcp_get_state(f->tcp) != MPT_TCP_TIME_WAIT)
		mpt_stack_sock_ready(s);
}

void mpt_stack_sock_set_error(struct mpt_sock *s, int err)
{
	s->err = err;
}

void mpt_stack_sock_done(struct mpt_sock *s)
{
	s->tcp_closed = true;
	mpt_stack_reap_later(s);
}

bool mpt_stack_sock_established(const struct mpt_sock *s)
{
	return s->established;
}

void mpt_stack_sock_set_local(struct mpt_sock *s, const struct mpt_endpoint *local)
{
	s->local = *local;
}

void mpt_stack_reap_later(struct mpt_sock *s)
{
	if (!s || s->reap_queued)
		return;
	struct mpt_stack_core *c = s->st->core;
	s->reap_queued = true;
	s->reap_prev = NULL;
	s->reap_next = c->reap;
	if (c->reap)
		c->reap->reap_prev = s;
	c->reap = s;
}

/* ---- engine callbacks --------------------------------------------------- */

/* Output with segmentation offload: gso 0 for one segment. */
static void emit_gso(struct mpt_stack *st, const struct mpt_addr *src, const struct mpt_addr *dst,
		     uint8_t *tcp, size_t len, uint32_t gso)
{
	struct mpt_ip_hdr h;
	memset(&h, 0, sizeof(h));
	h.src = *src;
	h.dst = *dst;
	h.proto = MPT_IPPROTO_TCP;
	h.ttl = st->cfg.ttl;
	h.id = st->core->ip_id++;
	h.payload_len = len;
	size_t hl = mpt_ip_hdr_len(h.src.family);
	bool partial = st->cfg.output_ex && (st->cfg.csum_offload || gso > 0);
	if (partial)
		mpt_tcp_csum_partial(tcp, len, &h.src, &h.dst);
	else
		mpt_tcp_csum_fill(tcp, len, &h.src, &h.dst);
	if (hl == 0 || mpt_ip_emit(tcp - hl, hl, &h) < 0)
		return;
	if (st->cfg.output_ex) {
		struct mpt_out_meta m = {.gso_size = gso,
					 .l3_len = (uint16_t)hl,
					 .l4_len = (uint16_t)((tcp[12] >> 4) * 4),
					 .csum_partial = partial};
		st->cfg.output_ex(st->cfg.output_ud, tcp - hl, hl + len, &m);
		return;
	}
	st->cfg.output(st->cfg.output_ud, tcp - hl, hl + len);
}

void mpt_stack_emit(struct mpt_stack *st, const struct mpt_addr *src, const struct mpt_addr *dst,
		    uint8_t *tcp, size_t len)
{
	emit_gso(st, src, dst, tcp, len, 0);
}

static void flow_output(void *ud, uint8_t *seg, size_t len, uint32_t gso)
{
	struct mpt_flow *f = ud;
	struct mpt_stack *st = f->st;
	if (st->pctx.mute)
		return; /* rebuilt from a SYN cookie: that SYN-ACK already left */
	emit_gso(st, &f->local.addr, &f->remote.addr, seg, len, gso);
}

static void flow_event(void *ud, enum mpt_tcp_event ev)
{
	struct mpt_flow *f = ud;
	/* (The owner queues its socket for the reap: the plain socket at
	 * once, an MPTCP connection when its last subflow goes.) */
	if (ev == MPT_TCP_EV_CLOSED)
		f->tcp_closed = true;
	if (f->sf)
		mpt_sf_event(f, ev);
	else if (f->sock)
		mpt_tcp_sock_event(f->sock, f, ev);
}

static struct mpt_flow *flow_create(struct mpt_stack *st, const struct mpt_endpoint *l,
				    const struct mpt_endpoint *r, bool mptcp,
				    const struct mpt_cc_ops *cc)
{
	struct mpt_flow *f = mpt_calloc(st->mem, 1, sizeof(*f));
	if (!f)
		return NULL;
	f->st = st;
	f->local = *l;
	f->remote = *r;
	struct mpt_tcp_cb cb = {
	    .output = flow_output,
	    .on_event = flow_event,
	    .touched = flow_touched,
	    .ud = f,
	};
	tn_init(&f->tn, false);
	struct mpt_tcp_cfg cfg = st->tcpcfg;
	if (cc)
		cfg.cc = cc; /* the connection's choice */
	if (mptcp) {
		cb.ext_write_opts = mpt_sf_write_opts;
		cb.ext_input = mpt_sf_ext_input;
		cb.ext_rcv_space = mpt_sf_rcv_space;
		cb.ext_rcv_direct = mpt_sf_rcv_direct;
		cb.ext_snd_read = mpt_sf_snd_read;
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
	f->next = st->core->flows;
	if (st->core->flows)
		st->core->flows->prev = f;
	st->core->flows = f;
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
	(void)mpt_isn_rfc6528(st->core->isn_secret, &l->addr, l->port, &r->addr, r->port, now,
			      &isn);
	return isn;
}

uint32_t mpt_stack_flow_isn(struct mpt_stack *st, const struct mpt_flow *f, uint64_t now)
{
	return make_isn(st, &f->local, &f->remote, now);
}

/* Ephemeral port: sequential from a random start, skipping used tuples. */
uint16_t mpt_stack_pick_port(struct mpt_stack *st, const struct mpt_addr *la,
			     const struct mpt_endpoint *remote)
{
	struct mpt_endpoint l = {.addr = *la, .port = 0};
	uint32_t span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
	for (uint32_t i = 0; i < span; i++) {
		uint16_t p = st->core->next_port;
		st->core->next_port = (uint16_t)(p >= EPHEMERAL_HI ? EPHEMERAL_LO : p + 1u);
		/* A shard's ports: no other stack of the group picks them. */
		if (st->cfg.shards > 1 && p % st->cfg.shards != st->cfg.shard)
			continue;
		l.port = p;
		if (!mpt_stack_lookup(st, &l, remote))
			return p;
	}
	return 0;
}

int mpt_stack_flow_new(struct mpt_stack *st, const struct mpt_endpoint *local,
		       const struct mpt_endpoint *remote, struct mpt_subflow *sf,
		       const struct mpt_cc_ops *cc, struct mpt_flow **out)
{
	struct mpt_endpoint l = *local;
	if (l.port == 0) {
		l.port = mpt_stack_pick_port(st, &l.addr, remote);
		if (l.port == 0)
			return MPT_ERR_LIMIT;
	} else if (mpt_stack_lookup(st, &l, remote)) {
		return MPT_ERR_EXIST;
	}
	struct mpt_flow *f = flow_create(st, &l, remote, true, cc);
	if (!f)
		return MPT_ERR_NOMEM;
	f->sf = sf;
	hash_insert(st, f);
	*out = f;
	return 0;
}

struct mpt_flow *mpt_stack_tcp_flow(struct mpt_stack *st, struct mpt_sock *s, uint64_t now)
{
	struct mpt_flow *f = flow_create(st, &s->local, &s->remote, false, NULL);
	if (!f)
		return NULL;
	f->sock = s;
	hash_insert(st, f);
	f->iss = make_isn(st, &s->local, &s->remote, now);
	return f;
}

/* ---- creation ----------------------------------------------------------- */

/* The policies the knobs name exist in this stack. */
bool mpt_stack_knobs_names_ok(const struct mpt_stack *st, const struct mpt_mptcp_knobs *k)
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
	if (!cfg || !out || (!cfg->output && !cfg->output_ex) || !cfg->rand ||
	    cfg->n_local > MPT_MAX_LOCAL_ADDRS || cfg->tso_max > 65000 ||
	    (cfg->tso_max && !cfg->output_ex))
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
	/* One block: the stack and its own state behind it (host.h). */
	struct stack_block {
		struct mpt_stack st;
		struct mpt_stack_core core;
	} *blk = mpt_calloc(mem, 1, sizeof(*blk));
	if (!blk)
		return MPT_ERR_NOMEM;
	struct mpt_stack *st = &blk->st;
	st->core = &blk->core;
	st->cfg = *cfg;
	st->cfg.mptcp = mk;
	st->mem = mem;
	if (st->cfg.max_socks == 0)
		st->cfg.max_socks = 4096;
	if (st->cfg.ttl == 0)
		st->cfg.ttl = 64;
	mpt_cc_registry_init(&st->ccreg);
	mpt_policy_registry_init(&st->polreg);
	if (!mpt_stack_knobs_names_ok(st, &st->cfg.mptcp) ||
	    (cfg->shards > 1 && cfg->shard >= cfg->shards)) {
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
	/* One output buffer for every engine of the stack (a segment is sent
	 * before the next one is built): no per-connection copy of it, and
	 * room for a segmentation-offload segment. */
	t->tso_max = cfg->tso_max;
	uint32_t seg_max = MPT_MAX(k->mss ? k->mss : 1460u, t->tso_max);
	st->core->obuf_cap = MPT_TCP_HEADROOM + MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN + seg_max;
	st->core->obuf = mpt_malloc(mem, st->core->obuf_cap);
	if (!st->core->obuf) {
		mpt_free(mem, st);
		return MPT_ERR_NOMEM;
	}
	t->obuf = st->core->obuf;
	t->obuf_cap = st->core->obuf_cap;

	size_t buckets = STACK_HASH_MIN;
	while (buckets < st->cfg.max_socks && buckets < (1u << 20))
		buckets <<= 1;
	st->core->htab = mpt_calloc(mem, buckets, sizeof(*st->core->htab));
	if (!st->core->htab) {
		mpt_free(mem, st->core->obuf);
		mpt_free(mem, st);
		return MPT_ERR_NOMEM;
	}
	st->core->hmask = buckets - 1;
	uint8_t rnd[16 + 8 + 2 + 8];
	cfg->rand(rnd, sizeof(rnd), cfg->rand_ud);
	memcpy(st->core->isn_secret, cfg->has_secret ? cfg->secret : rnd, 16);
	st->core->hash_seed = mpt_get64(rnd + 16);
	st->core->next_port =
	    (uint16_t)(EPHEMERAL_LO + mpt_get16(rnd + 24) % (EPHEMERAL_HI - EPHEMERAL_LO + 1));
	/* The timer heap's first slots (it doubles as connections come). */
	st->core->heap = mpt_calloc(mem, 64, sizeof(*st->core->heap));
	if (st->core->heap)
		st->core->heap_cap = 64;
	if (!st->core->heap ||
	    /* As many buckets as the 4-tuple hash: one token per MPTCP
	     * connection, so chains stay short up to max_socks (a join's
	     * lookup and a new key's uniqueness check walk one; 64 fixed
	     * buckets made them O(connections): issue 13). */
	    mpt_token_table_init(&st->tokens, mem, buckets, mpt_get64(rnd + 26)) < 0) {
		mpt_free(mem, st->core->heap);
		mpt_free(mem, st->core->htab);
		mpt_free(mem, st->core->obuf);
		mpt_free(mem, st);
		return MPT_ERR_NOMEM;
	}
	if (cfg->shards > 1) {
		st->tokens.shards = cfg->shards;
		st->tokens.shard = cfg->shard;
	}
	/* Received half-open joins: one table, allocated now (syncookie.c). */
	if (mpt_joinrec_init(st) < 0) {
		mpt_token_table_free(&st->tokens);
		mpt_free(mem, st->core->heap);
		mpt_free(mem, st->core->htab);
		mpt_free(mem, st->core->obuf);
		mpt_free(mem, st);
		return MPT_ERR_NOMEM;
	}
	*out = st;
	return 0;
}

/*
 * Forget every pending-work list and the timer heap without touching what
 * they point to.  mpt_stack_destroy frees sockets one by one, and releasing
 * one (its flows: mpt_stack_flow_free -> heap_remove) must not move or
 * read the heap node of a socket already freed: a heap removal moves the
 * last entry into the hole, whatever socket that is.
 */
static void detach_all(struct mpt_stack_core *c)
{
	for (size_t i = 0; i < c->heap_n; i++)
		c->heap[i]->idx = TN_NONE;
	c->heap_n = 0;
	while (c->touched) {
		struct mpt_tnode *n = c->touched;
		c->touched = n->touched_next;
		n->touched = false;
	}
	while (c->due) {
		struct mpt_tnode *n = c->due;
		c->due = n->due_next;
		n->due_next = NULL;
		n->due = false;
	}
	while (c->dirty) {
		struct mpt_sock *s = c->dirty;
		c->dirty = s->dirty_next;
		s->dirty_next = NULL;
		s->on_dirty = false;
	}
	while (c->ev_head) {
		struct mpt_sock *s = c->ev_head;
		c->ev_head = s->ev_next;
		s->ev_next = NULL;
		s->ev_queued = false;
		s->ev_pending = 0;
	}
	c->ev_tail = NULL;
	while (c->reap) {
		struct mpt_sock *s = c->reap;
		c->reap = s->reap_next;
		s->reap_prev = s->reap_next = NULL;
		s->reap_queued = false;
	}
	while (c->tw_head) {
		struct mpt_flow *f = c->tw_head;
		c->tw_head = f->tw_next;
		f->tw_prev = f->tw_next = NULL;
		f->on_tw = false;
	}
	c->tw_tail = NULL;
}

void mpt_stack_destroy(struct mpt_stack *st)
{
	if (!st)
		return;
	detach_all(st->core);
	while (st->core->all) {
		struct mpt_sock *s = st->core->all;
		st->core->all = s->next;
		if (s->ops)
			s->ops->release(s);
		/* What the release put on a list refers to sockets and flows
		 * that are freed next. */
		detach_all(st->core);
		mpt_free(st->mem, s);
	}
	while (st->core->flows) {
		struct mpt_flow *f = st->core->flows;
		st->core->flows = f->next;
		mpt_tcp_destroy(f->tcp);
		mpt_free(st->mem, f);
	}
	mpt_joinrec_fini(st);
	mpt_token_table_free(&st->tokens);
	mpt_free(st->mem, st->core->heap);
	mpt_free(st->mem, st->core->htab);
	mpt_free(st->mem, st->core->obuf);
	mpt_free(st->mem, st);
}

/* ---- input -------------------------------------------------------------- */

void mpt_stack_send_rst(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, const uint8_t *opt, size_t opt_len)
{
	uint8_t *tcp = st->core->scratch + MPT_TCP_HEADROOM;
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
	if (has_opt && mpt_tfo_cookie(st->core->isn_secret, &ip->dst, &ip->src, cookie) == 0) {
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
	if (st->cfg.mptcp.enable && st->cfg.mptcp.ext_keys == MPT_EXT_KEYS_REQUIRE) {
		/* "External keys or nothing" (docs/external-keys.md): a SYN
		 * without MPTCP is refused too. */
		mpt_mib_inc(&st->mib, MPT_MIB_ExtKeyRefused);
		mpt_stack_send_rst(st, ip, seg, NULL, 0);
		return MPT_ERR_REFUSED;
	}
	struct mpt_sock *s = mpt_stack_sock_new(st);
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
	s->ops = &mpt_tcp_sock_ops;
	int rc = MPT_ERR_NOMEM;
	s->flow = mpt_stack_tcp_flow(st, s, now);
	if (s->flow) {
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
		mpt_stack_sock_free(st, s);
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
	struct mpt_sock *s = mpt_stack_sock_new(st);
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
	mpt_stack_sock_free(st, s);
}

static int stack_input(struct mpt_stack *st, const uint8_t *pkt, size_t len, unsigned flags,
		       uint64_t now)
{
	bool verify = !st->cfg.no_verify_csum;
	bool verify_tcp = verify && !(flags & MPT_INPUT_CSUM_OK);
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
	if (!st->cfg.transparent && !mpt_stack_is_local(st, &ip.dst)) {
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
	if (verify_tcp && !mpt_tcp_csum_ok(tp, tlen, &ip.src, &ip.dst)) {
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
			/* Only a segment takes a flow into TIME-WAIT. */
			if (before != MPT_TCP_TIME_WAIT &&
			    mpt_tcp_get_state(f->tcp) == MPT_TCP_TIME_WAIT)
				tw_enqueue(st, f);
			/* RST options count only when the engine accepted the
			 * RST (RFC 5961 §3.2: one outside the window is ignored). */
			if ((fl & MPT_TCP_RST) && f->sf && before != MPT_TCP_CLOSED &&
			    mpt_tcp_get_state(f->tcp) == MPT_TCP_CLOSED)
				mpt_sf_rst_rx(f->sf, &seg, now);
			if (f->sf)
				mpt_sf_kick(f);
			return rc;
		}
		mpt_mib_inc(&st->mib, MPT_MIB_TCPTimeWaitReuse);
		mpt_stack_flow_retire(st, f);
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
		/* RFC 8684 §3.2: the third ACK of a join we answered from a
		 * join record (no flow until its HMAC-A checks out). */
		if (st->cfg.mptcp.enable && seg.opts.n_mptcp > 0) {
			bool handled = false;
			rc = mpt_mp_join_ack(st, &ip, &seg, now, &handled);
			if (handled)
				return rc;
		}
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

int mpt_stack_input_ex(struct mpt_stack *st, const uint8_t *pkt, size_t len, unsigned flags,
		       uint64_t now)
{
	if (!st || (!pkt && len))
		return MPT_ERR_INVAL;
	if (st->core->depth)
		return MPT_ERR_STATE; /* from on_event or output: not allowed */
	mpt_stack_enter(st, now);
	int rc = stack_input(st, pkt, len, flags, now);
	stack_leave_deliver(st);
	return rc;
}

int mpt_stack_input(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint64_t now)
{
	return mpt_stack_input_ex(st, pkt, len, 0, now);
}

/* Every flow's and connection's deadline, the long way (the heap could not
 * grow: an allocation failed). */
static uint64_t scan_deadline(struct mpt_stack *st)
{
	uint64_t d = MPT_TIME_NEVER;
	for (struct mpt_flow *f = st->core->flows; f; f = f->next)
		d = MPT_MIN(d, tn_deadline(&f->tn));
	for (struct mpt_sock *s = st->core->all; s; s = s->next)
		d = MPT_MIN(d, tn_deadline(&s->tn));
	return d;
}

uint64_t mpt_stack_next_deadline(struct mpt_stack *st)
{
	/* Events queued by socket calls (or left over by a delivery round)
	 * and connections left marked by run_dirty's budget are due now:
	 * mpt_stack_on_timer delivers and runs them. */
	if (st->core->ev_head || st->core->dirty)
		return st->now;
	if (st->core->heap_nomem)
		return scan_deadline(st);
	return st->core->heap_n ? st->core->heap[0]->at : MPT_TIME_NEVER;
}

static void fire(struct mpt_stack *st, struct mpt_tnode *n, uint64_t now)
{
	if (n->is_sock) {
		struct mpt_sock *s =
		    (struct mpt_sock *)(void *)((char *)n - offsetof(struct mpt_sock, tn));
		if (s->ops)
			s->ops->on_timer(s, now);
		mpt_stack_touch(st, n);
		return;
	}
	struct mpt_flow *f = (struct mpt_flow *)(void *)((char *)n - offsetof(struct mpt_flow, tn));
	if (f->tcp && !f->tcp_closed) {
		mpt_tcp_on_timer(f->tcp, now);
		if (f->sf)
			mpt_sf_kick(f);
	}
	mpt_stack_touch(st, n);
}

void mpt_stack_on_timer(struct mpt_stack *st, uint64_t now)
{
	if (st->core->depth)
		return; /* from on_event or output: not allowed */
	mpt_stack_enter(st, now);
	struct mpt_stack_core *c = st->core;
	if (c->heap_nomem) {
		for (struct mpt_flow *f = c->flows; f; f = f->next)
			if (tn_deadline(&f->tn) <= now)
				fire(st, &f->tn, now);
		for (struct mpt_sock *s = c->all; s; s = s->next)
			if (tn_deadline(&s->tn) <= now)
				fire(st, &s->tn, now);
	} else {
		/*
		 * Take the due ones out first (firing reorders the heap), then
		 * fire them; each is touched, so it goes back at the end.  The
		 * due list has its own link: firing one node touches others
		 * (a connection's timer sends on its subflows), and a node
		 * freed meanwhile leaves the list (undue).
		 */
		while (c->heap_n > 0 && c->heap[0]->at <= now) {
			struct mpt_tnode *n = c->heap[0];
			heap_remove(c, n);
			n->at = MPT_TIME_NEVER;
			n->due = true;
			n->due_next = c->due;
			c->due = n;
		}
		while (c->due) {
			struct mpt_tnode *n = c->due;
			c->due = n->due_next;
			n->due_next = NULL;
			n->due = false;
			fire(st, n, now);
		}
	}
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

int mpt_stack_add_local_addr(struct mpt_stack *st, const struct mpt_addr *a, uint64_t now)
{
	if (!st || !a || (a->family != 4 && a->family != 6))
		return MPT_ERR_INVAL;
	if (mpt_stack_is_local(st, a))
		return MPT_ERR_EXIST;
	/* Removed addresses keep their slot: address ids (slot + 1) are
	 * never reused within a stack's life. */
	if (st->cfg.n_local >= MPT_MAX_LOCAL_ADDRS)
		return MPT_ERR_LIMIT;
	mpt_stack_enter(st, now);
	st->cfg.local[st->cfg.n_local++] = *a;
	/* Path managers pick it up on their next run. */
	for (struct mpt_sock *s = st->core->all; s; s = s->next)
		if (!s->listener && s->ops && s->ops->mptcp)
			s->ops->mptcp->local_added(s);
	mpt_stack_leave(st);
	return 0;
}

int mpt_stack_remove_local_addr(struct mpt_stack *st, const struct mpt_addr *a, uint64_t now)
{
	if (!st || !a)
		return MPT_ERR_INVAL;
	int li = mpt_stack_local_index(st, a);
	if (li < 0)
		return MPT_ERR_NOTFOUND;
	mpt_stack_enter(st, now);
	for (struct mpt_sock *s = st->core->all; s; s = s->next) {
		if (s->listener || !s->ops || !s->ops->mptcp)
			continue;
		/* Address ids: 0 for the connection's initial address. */
		uint8_t id = mpt_addr_equal(&s->local.addr, a) ? 0 : (uint8_t)(li + 1);
		s->ops->mptcp->local_removed(s, a, id, now);
	}
	memset(&st->cfg.local[li], 0, sizeof(st->cfg.local[li]));
	mpt_stack_leave(st);
	return 0;
}
