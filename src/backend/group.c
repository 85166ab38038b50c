/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several backends, one per thread, each with its own stack, sharing the
 * TUN devices through one queue each (IFF_MULTI_QUEUE; issue 13).
 *
 * Who owns a flow.  The kernel hands a packet to the queue its flow last
 * wrote from (the TUN driver's flow steering) or, for a flow it has not
 * seen lately, to a queue chosen by its own hash, which userspace cannot
 * compute.  So the owner is decided here, from the packet alone, and a
 * member that reads a packet it does not own copies it into the owner's
 * inbox.  Because every member writes a flow's packets from its own queue,
 * the kernel then sends that flow's packets to the owner directly: the
 * copies are the first packets of a flow and those after a pause.
 *
 *  - A new flow belongs where a keyed hash of its 4-tuple puts it ("home").
 *    The key is secret, so a peer cannot choose ports that load one member.
 *  - An MP_JOIN SYN belongs to the member whose stack owns the token it
 *    names (RFC 8684 §3.2): every member's tokens have the member's residue
 *    (mpt_stack_cfg.shards), so no shared token table is needed.
 *  - The join's third ACK names no token; the stack answered the SYN with
 *    an ISN of its residue, so the ACK number says (iss + 1).
 *  - A flow living where its hash does not put it (a join's subflow, a
 *    connection this side opened from a chosen stack) is an exception: the
 *    stack reports it through mpt_stack_cfg.on_flow when it enters and when
 *    it leaves the stack's table, and the router looks it up first.  The
 *    table is read on every packet (a read lock, skipped while it is empty)
 *    and written twice per such flow.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "backend/group.h"
#include "base/splitmix.h"
#include "common.h"

#define GRP_INBOX_MAX  4096u /* packets waiting per member */
#define GRP_TAB_MIN    1024u /* exception table slots (a power of two) */
#define GRP_TAB_MAX    (1u << 22)
#define TCP_OPT_MPTCP  30
#define MPTCP_SUB_JOIN 1

enum { SLOT_EMPTY = 0, SLOT_USED = 1, SLOT_GONE = 2 };

struct grp_slot {
	struct mpt_endpoint local, remote;
	uint8_t state; /* SLOT_* */
	uint8_t shard;
};

struct grp_inbox {
	pthread_mutex_t mu;
	struct be_grp_pkt *head, *tail;
	size_t count;
	int wake_fd; /* -1: no member (gone, or not attached yet) */
};

struct mpt_backend_group {
	unsigned n;
	uint64_t key[2]; /* the home hash's secret */
	pthread_rwlock_t lock;
	struct grp_slot *tab;
	size_t cap, used, gone;
	atomic_size_t n_exc; /* used, readable without the lock */
	struct grp_inbox inbox[MPT_BACKEND_MAX_SHARDS];
};

int mpt_backend_group_create(unsigned n, struct mpt_backend_group **out)
{
	if (!out || n < 1 || n > MPT_BACKEND_MAX_SHARDS)
		return MPT_ERR_INVAL;
	struct mpt_backend_group *g = calloc(1, sizeof(*g));
	if (!g)
		return MPT_ERR_NOMEM;
	g->n = n;
	if (getrandom(g->key, sizeof(g->key), 0) != (ssize_t)sizeof(g->key)) {
		/* Without a secret the spread stays even for honest peers. */
		g->key[0] = (uint64_t)getpid() * MPT_SPLITMIX64_GAMMA;
		g->key[1] = (uint64_t)(uintptr_t)g;
	}
	g->cap = GRP_TAB_MIN;
	g->tab = calloc(g->cap, sizeof(*g->tab));
	if (!g->tab || pthread_rwlock_init(&g->lock, NULL) != 0) {
		free(g->tab);
		free(g);
		return MPT_ERR_NOMEM;
	}
	atomic_init(&g->n_exc, 0);
	for (unsigned i = 0; i < n; i++) {
		pthread_mutex_init(&g->inbox[i].mu, NULL);
		g->inbox[i].wake_fd = -1;
	}
	*out = g;
	return 0;
}

void mpt_backend_group_destroy(struct mpt_backend_group *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->n; i++) {
		be_group_detach(g, i);
		pthread_mutex_destroy(&g->inbox[i].mu);
	}
	pthread_rwlock_destroy(&g->lock);
	free(g->tab);
	free(g);
}

unsigned mpt_backend_group_size(const struct mpt_backend_group *g)
{
	return g ? g->n : 1;
}

void be_group_attach(struct mpt_backend_group *g, unsigned shard, int wake_fd)
{
	struct grp_inbox *in = &g->inbox[shard];
	pthread_mutex_lock(&in->mu);
	in->wake_fd = wake_fd;
	pthread_mutex_unlock(&in->mu);
}

void be_group_detach(struct mpt_backend_group *g, unsigned shard)
{
	struct grp_inbox *in = &g->inbox[shard];
	pthread_mutex_lock(&in->mu);
	in->wake_fd = -1;
	struct be_grp_pkt *p = in->head;
	in->head = in->tail = NULL;
	in->count = 0;
	pthread_mutex_unlock(&in->mu);
	while (p) {
		struct be_grp_pkt *next = p->next;
		free(p);
		p = next;
	}
}

/* ---- the home hash and the exception table ------------------------------- */

static uint64_t mix_ep(uint64_t h, const struct mpt_endpoint *e)
{
	/* Only the family's bytes: the rest of an IPv4 address is not
	 * guaranteed to be zero wherever it came from. */
	uint64_t w[2] = {0, 0};
	memcpy(w, e->addr.bytes, e->addr.family == 4 ? 4 : sizeof(w));
	h = mpt_splitmix64_mix(h ^ w[0]);
	h = mpt_splitmix64_mix(h ^ w[1]);
	return mpt_splitmix64_mix(h ^ ((uint64_t)e->addr.family << 16 | e->port));
}

static uint64_t tuple_hash(const struct mpt_backend_group *g, const struct mpt_endpoint *l,
			   const struct mpt_endpoint *r)
{
	return mix_ep(mix_ep(g->key[0], l), r) ^ g->key[1];
}

static unsigned home(const struct mpt_backend_group *g, uint64_t h)
{
	/* The high half, scaled to n (no division, no bias worth the name). */
	return (unsigned)(((h >> 32) * g->n) >> 32);
}

static bool ep_eq(const struct mpt_endpoint *a, const struct mpt_endpoint *b)
{
	return a->port == b->port && mpt_addr_equal(&a->addr, &b->addr);
}

/* The slot holding (l, r), or NULL; under the lock (either mode). */
static struct grp_slot *tab_find(const struct mpt_backend_group *g, uint64_t h,
				 const struct mpt_endpoint *l, const struct mpt_endpoint *r)
{
	size_t mask = g->cap - 1;
	for (size_t i = h & mask, k = 0; k < g->cap; i = (i + 1) & mask, k++) {
		struct grp_slot *s = &g->tab[i];
		if (s->state == SLOT_EMPTY)
			return NULL;
		if (s->state == SLOT_USED && ep_eq(&s->local, l) && ep_eq(&s->remote, r))
			return s;
	}
	return NULL;
}

/* Rebuild at cap slots (without the GONE ones); under the write lock. */
static bool tab_rehash(struct mpt_backend_group *g, size_t cap)
{
	struct grp_slot *t = calloc(cap, sizeof(*t));
	if (!t)
		return false;
	for (size_t i = 0; i < g->cap; i++) {
		struct grp_slot *s = &g->tab[i];
		if (s->state != SLOT_USED)
			continue;
		size_t j = tuple_hash(g, &s->local, &s->remote) & (cap - 1);
		while (t[j].state != SLOT_EMPTY)
			j = (j + 1) & (cap - 1);
		t[j] = *s;
	}
	free(g->tab);
	g->tab = t;
	g->cap = cap;
	g->gone = 0;
	return true;
}

void be_group_flow(struct mpt_backend_group *g, unsigned self, const struct mpt_endpoint *local,
		   const struct mpt_endpoint *remote, bool up)
{
	uint64_t h = tuple_hash(g, local, remote);
	if (up && home(g, h) == self)
		return; /* where the hash puts it: nothing to remember */
	pthread_rwlock_wrlock(&g->lock);
	struct grp_slot *s = tab_find(g, h, local, remote);
	if (!up) {
		/* Only the owner's own entry: the same 4-tuple may have moved
		 * on to another member since (a new join with a reused port). */
		if (s && s->shard == self) {
			s->state = SLOT_GONE;
			g->used--;
			g->gone++;
			atomic_store_explicit(&g->n_exc, g->used, memory_order_relaxed);
		}
		pthread_rwlock_unlock(&g->lock);
		return;
	}
	if (s) {
		s->shard = (uint8_t)self;
		pthread_rwlock_unlock(&g->lock);
		return;
	}
	/* At most half full with the GONE slots: probes stay short. */
	if (2 * (g->used + g->gone + 1) > g->cap) {
		size_t cap = g->cap;
		if (2 * (g->used + 1) > cap / 2 && cap < GRP_TAB_MAX)
			cap *= 2;
		if (2 * (g->used + 1) > cap || !tab_rehash(g, cap)) {
			/* Full: the flow is reached only while the kernel steers it
			 * to its owner's queue.  (4 million exceptions: not a real
			 * converter's load; a join flood cannot create them, only
			 * subflows whose third ACK checked out.) */
			pthread_rwlock_unlock(&g->lock);
			return;
		}
	}
	size_t mask = g->cap - 1, i = h & mask;
	while (g->tab[i].state == SLOT_USED)
		i = (i + 1) & mask;
	if (g->tab[i].state == SLOT_GONE)
		g->gone--;
	s = &g->tab[i];
	s->local = *local;
	s->remote = *remote;
	s->shard = (uint8_t)self;
	s->state = SLOT_USED;
	g->used++;
	atomic_store_explicit(&g->n_exc, g->used, memory_order_relaxed);
	pthread_rwlock_unlock(&g->lock);
}

/* ---- the router ------------------------------------------------------------ */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The MP_JOIN option among a TCP header's options, or NULL. */
static const uint8_t *find_join(const uint8_t *opt, size_t olen)
{
	size_t i = 0;
	while (i < olen) {
		uint8_t kind = opt[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= olen || opt[i + 1] < 2 || i + opt[i + 1] > olen)
			break;
		if (kind == TCP_OPT_MPTCP && opt[i + 1] >= 3 && opt[i + 2] >> 4 == MPTCP_SUB_JOIN)
			return opt + i;
		i += opt[i + 1];
	}
	return NULL;
}

unsigned be_group_owner(struct mpt_backend_group *g, const uint8_t *pkt, size_t len, unsigned self)
{
	if (!g || g->n < 2)
		return self;
	struct mpt_endpoint l, r;
	memset(&l, 0, sizeof(l));
	memset(&r, 0, sizeof(r));
	size_t ihl;
	if (len >= 20 && pkt[0] >> 4 == 4) {
		ihl = (size_t)(pkt[0] & 0xf) * 4;
		/* TCP, not a fragment after the first (no ports there) */
		if (pkt[9] != 6 || ihl < 20 || (((pkt[6] & 0x1f) << 8) | pkt[7]) != 0)
			return self;
		l.addr.family = r.addr.family = 4;
		memcpy(r.addr.bytes, pkt + 12, 4);
		memcpy(l.addr.bytes, pkt + 16, 4);
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		ihl = 40;
		if (pkt[6] != 6) /* extension headers: not steered */
			return self;
		l.addr.family = r.addr.family = 6;
		memcpy(r.addr.bytes, pkt + 8, 16);
		memcpy(l.addr.bytes, pkt + 24, 16);
	} else {
		return self;
	}
	if (len < ihl + 20)
		return self;
	const uint8_t *t = pkt + ihl;
	r.port = (uint16_t)(t[0] << 8 | t[1]);
	l.port = (uint16_t)(t[2] << 8 | t[3]);
	size_t doff = (size_t)(t[12] >> 4) * 4;
	uint8_t fl = t[13];
	bool syn = fl & 0x02, ack = fl & 0x10;
	const uint8_t *join = NULL;
	if (doff > 20 && ihl + doff <= len)
		join = find_join(t + 20, doff - 20);
	if (join && syn && !ack && join[1] >= 8)
		return get32(join + 4) % g->n; /* the token's owner */
	uint64_t h = tuple_hash(g, &l, &r);
	if (atomic_load_explicit(&g->n_exc, memory_order_relaxed)) {
		pthread_rwlock_rdlock(&g->lock);
		const struct grp_slot *s = tab_find(g, h, &l, &r);
		unsigned owner = s ? s->shard : g->n;
		pthread_rwlock_unlock(&g->lock);
		if (owner < g->n)
			return owner;
	}
	if (join && !syn && ack)
		return (get32(t + 8) - 1u) % g->n; /* the SYN/ACK's ISN's residue */
	return home(g, h);
}

/* ---- inboxes ------------------------------------------------------------------ */

bool be_group_push(struct mpt_backend_group *g, unsigned to, size_t dev, const uint8_t vh[16],
		   const uint8_t *pkt, size_t len)
{
	struct grp_inbox *in = &g->inbox[to];
	struct be_grp_pkt *p = malloc(sizeof(*p) + len);
	if (!p)
		return false;
	p->next = NULL;
	p->dev = dev;
	memcpy(p->vh, vh, sizeof(p->vh));
	p->len = len;
	memcpy(p->data, pkt, len);
	pthread_mutex_lock(&in->mu);
	if (in->wake_fd < 0 || in->count >= GRP_INBOX_MAX) {
		pthread_mutex_unlock(&in->mu);
		free(p);
		return false;
	}
	bool was_empty = in->count == 0;
	if (in->tail)
		in->tail->next = p;
	else
		in->head = p;
	in->tail = p;
	in->count++;
	int fd = in->wake_fd;
	if (was_empty) {
		/* One wake-up per batch: the owner takes the whole inbox. */
		uint64_t one = 1;
		ssize_t n = write(fd, &one, sizeof(one));
		(void)n; /* an eventfd counter cannot overflow from this */
	}
	pthread_mutex_unlock(&in->mu);
	return true;
}

struct be_grp_pkt *be_group_take(struct mpt_backend_group *g, unsigned self)
{
	struct grp_inbox *in = &g->inbox[self];
	pthread_mutex_lock(&in->mu);
	struct be_grp_pkt *p = in->head;
	in->head = in->tail = NULL;
	in->count = 0;
	pthread_mutex_unlock(&in->mu);
	return p;
}
