/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Simulator core: seeded generators, the event heap, nodes, the run loop
 * and pcap capture (base/pcap.c).  Links live in link.c, middleboxes in mbox.c.
 */
#define _DEFAULT_SOURCE 1

#include "base/splitmix.h"
#include "sim/sim_int.h"

/* ---- PRNG ----------------------------------------------------------------
 * splitmix64 expands (seed, stream) into xoshiro256** state.  Each object
 * that draws random numbers gets its own stream number at creation, so the
 * decisions of one object do not depend on how often another one drew.
 */
void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * UINT64_C(0xd1342543de82ef95));

	/* Mix the stream number in twice so nearby streams diverge at once. */
	x = mpt_splitmix64(&x) ^ stream;
	for (int i = 0; i < 4; i++)
		r->s[i] = mpt_splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double sim_rng_unit(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t sim_rng_upto(struct sim_rng *r, uint64_t n)
{
	uint64_t v;

	if (n == UINT64_MAX)
		return sim_rng_next(r);
	/* Modulo bias is below 2^-40 for the ranges used here (ns jitter). */
	v = sim_rng_next(r) % (n + 1);
	return v;
}

uint64_t sim_next_stream(struct mpt_sim *sim)
{
	return ++sim->n_streams;
}

void mpt_sim_rand(uint8_t *buf, size_t len, void *user_data)
{
	struct mpt_sim *sim = user_data;

	while (len > 0) {
		uint64_t v = sim_rng_next(&sim->node_rng);

		/* Byte order fixed by shifts, so runs match across hosts. */
		for (int i = 0; i < 8 && len > 0; i++, len--) {
			*buf++ = (uint8_t)v;
			v >>= 8;
		}
	}
}

/* ---- event heap ----------------------------------------------------------
 * A binary min-heap of pointers to events embedded in their owners; each
 * event remembers its index so timers can be moved in O(log n).
 */
static bool ev_before(const struct sim_ev *a, const struct sim_ev *b)
{
	if (a->time != b->time)
		return a->time < b->time;
	return a->seq < b->seq;
}

static void heap_set(struct mpt_sim *sim, size_t i, struct sim_ev *ev)
{
	sim->heap[i] = ev;
	ev->idx = i;
}

static void heap_up(struct mpt_sim *sim, size_t i)
{
	struct sim_ev *ev = sim->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!ev_before(ev, sim->heap[parent]))
			break;
		heap_set(sim, i, sim->heap[parent]);
		i = parent;
	}
	heap_set(sim, i, ev);
}

static void heap_down(struct mpt_sim *sim, size_t i)
{
	struct sim_ev *ev = sim->heap[i];
	size_t n = sim->heap_n;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && ev_before(sim->heap[c + 1], sim->heap[c]))
			c++;
		if (!ev_before(sim->heap[c], ev))
			break;
		heap_set(sim, i, sim->heap[c]);
		i = c;
	}
	heap_set(sim, i, ev);
}

void sim_ev_cancel(struct mpt_sim *sim, struct sim_ev *ev)
{
	size_t i = ev->idx;
	struct sim_ev *last;

	if (i == SIM_EV_NOT_QUEUED)
		return;
	ev->idx = SIM_EV_NOT_QUEUED;
	last = sim->heap[--sim->heap_n];
	if (i == sim->heap_n)
		return;
	heap_set(sim, i, last);
	heap_up(sim, i);
	heap_down(sim, last->idx);
}

int sim_ev_schedule(struct mpt_sim *sim, struct sim_ev *ev, uint64_t t)
{
	sim_ev_cancel(sim, ev);
	if (sim->heap_n == sim->heap_cap) {
		size_t cap = sim->heap_cap ? sim->heap_cap * 2 : 64;
		struct sim_ev **h = mpt_realloc(sim->mem, sim->heap, cap * sizeof(*h));

		if (!h)
			return MPT_ERR_NOMEM;
		sim->heap = h;
		sim->heap_cap = cap;
	}
	ev->time = t < sim->now ? sim->now : t;
	ev->seq = sim->ev_seq++;
	sim->heap_n++;
	heap_set(sim, sim->heap_n - 1, ev);
	heap_up(sim, sim->heap_n - 1);
	return 0;
}

/* ---- packets ------------------------------------------------------------- */
struct sim_pkt *sim_pkt_new(struct mpt_sim *sim, const uint8_t *src, size_t len)
{
	struct sim_pkt *p = mpt_malloc(sim->mem, sizeof(*p) + len);

	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->ev.idx = SIM_EV_NOT_QUEUED;
	p->ev.kind = SIM_EV_DELIVER;
	p->len = len;
	if (src)
		memcpy(p->data, src, len);
	sim->st.inflight_pkts++;
	sim->st.inflight_bytes += len;
	return p;
}

void sim_pkt_free(struct mpt_sim *sim, struct sim_pkt *p)
{
	if (!p)
		return;
	sim_ev_cancel(sim, &p->ev);
	sim->st.inflight_pkts--;
	sim->st.inflight_bytes -= p->len;
	mpt_free(sim->mem, p);
}

/* ---- create / destroy ---------------------------------------------------- */
int mpt_sim_create(const struct mpt_mem *mem, uint64_t seed, struct mpt_sim **out)
{
	struct mpt_sim *sim;

	if (!out)
		return MPT_ERR_INVAL;
	*out = NULL;
	if (!mem)
		mem = mpt_mem_default();
	sim = mpt_calloc(mem, 1, sizeof(*sim));
	if (!sim)
		return MPT_ERR_NOMEM;
	sim->mem = mem;
	sim->seed = seed;
	sim->links_tail = &sim->links;
	sim->max_pkts = MPT_SIM_DEFAULT_MAX_PKTS;
	sim->max_bytes = MPT_SIM_DEFAULT_MAX_BYTES;
	/* Stream 0 is the node-facing generator (mpt_sim_rand). */
	sim_rng_seed(&sim->node_rng, seed, 0);
	*out = sim;
	return 0;
}

void mpt_sim_destroy(struct mpt_sim *sim)
{
	if (!sim)
		return;
	mpt_sim_pcap_close(sim);
	/* Drain the heap: free owners that the heap alone references. */
	while (sim->heap_n > 0) {
		struct sim_ev *ev = sim->heap[0];

		sim_ev_cancel(sim, ev);
		switch (ev->kind) {
		case SIM_EV_DELIVER:
			sim_pkt_free(sim, (struct sim_pkt *)(void *)ev);
			break;
		case SIM_EV_USER:
			mpt_free(sim->mem, ev);
			break;
		case SIM_EV_TIMER:
		case SIM_EV_FLUSH:
			break; /* owned by a node / middlebox */
		}
	}
	sim_mbox_free_all(sim);
	while (sim->links) {
		struct mpt_sim_link *l = sim->links;

		sim->links = l->next;
		sim_link_free(sim, l);
	}
	for (size_t i = 0; i < sim->n_nodes; i++) {
		struct mpt_sim_node *n = sim->nodes[i];

		mpt_free(sim->mem, n->name);
		mpt_free(sim->mem, n->ifs);
		mpt_free(sim->mem, n);
	}
	mpt_free(sim->mem, sim->nodes);
	mpt_free(sim->mem, sim->heap);
	mpt_free(sim->mem, sim);
}

uint64_t mpt_sim_now(const struct mpt_sim *sim)
{
	return sim->now;
}

void mpt_sim_set_limits(struct mpt_sim *sim, uint64_t max_pkts, uint64_t max_bytes)
{
	if (max_pkts)
		sim->max_pkts = max_pkts;
	if (max_bytes)
		sim->max_bytes = max_bytes;
}

void mpt_sim_get_stats(const struct mpt_sim *sim, struct mpt_sim_stats *out)
{
	*out = sim->st;
}

/* ---- nodes --------------------------------------------------------------- */
int mpt_sim_add_node(struct mpt_sim *sim, const char *name, const struct mpt_sim_node_ops *ops,
		     void *ud, struct mpt_sim_node **out)
{
	struct mpt_sim_node *n;
	size_t nlen = name ? strlen(name) : 0;

	if (!sim || !ops || !ops->input || !out)
		return MPT_ERR_INVAL;
	*out = NULL;
	if (sim->n_nodes == sim->cap_nodes) {
		size_t cap = sim->cap_nodes ? sim->cap_nodes * 2 : 8;
		struct mpt_sim_node **v = mpt_realloc(sim->mem, sim->nodes, cap * sizeof(*v));

		if (!v)
			return MPT_ERR_NOMEM;
		sim->nodes = v;
		sim->cap_nodes = cap;
	}
	n = mpt_calloc(sim->mem, 1, sizeof(*n));
	if (!n)
		return MPT_ERR_NOMEM;
	n->name = mpt_malloc(sim->mem, nlen + 1);
	if (!n->name) {
		mpt_free(sim->mem, n);
		return MPT_ERR_NOMEM;
	}
	if (nlen)
		memcpy(n->name, name, nlen);
	n->name[nlen] = '\0';
	n->timer.idx = SIM_EV_NOT_QUEUED;
	n->timer.kind = SIM_EV_TIMER;
	n->sim = sim;
	n->ops = ops;
	n->ud = ud;
	sim->nodes[sim->n_nodes++] = n;
	*out = n;
	return 0;
}

const char *mpt_sim_node_name(const struct mpt_sim_node *node)
{
	return node->name;
}

unsigned mpt_sim_node_n_ifaces(const struct mpt_sim_node *node)
{
	return node->n_ifs;
}

int mpt_sim_node_ifaddr(const struct mpt_sim_node *node, unsigned ifindex, struct mpt_addr *out)
{
	if (ifindex >= node->n_ifs)
		return MPT_ERR_NOTFOUND;
	*out = node->ifs[ifindex].addr;
	return 0;
}

struct mpt_sim_link *mpt_sim_node_iflink(const struct mpt_sim_node *node, unsigned ifindex)
{
	return ifindex < node->n_ifs ? node->ifs[ifindex].out : NULL;
}

void sim_node_rearm(struct mpt_sim *sim, struct mpt_sim_node *n, bool after_timer)
{
	uint64_t d = n->ops->next_deadline ? n->ops->next_deadline(n->ud) : MPT_TIME_NEVER;

	if (d == MPT_TIME_NEVER || !n->ops->on_timer) {
		sim_ev_cancel(sim, &n->timer);
		return;
	}
	if (d < sim->now)
		d = sim->now;
	/*
	 * A node whose deadline is still due right after on_timer would spin
	 * forever at one instant; poll it again 1 ns later so virtual time
	 * always advances.
	 */
	if (after_timer && d <= sim->now)
		d = sim->now + 1;
	if (n->timer.idx != SIM_EV_NOT_QUEUED && n->timer.time == d)
		return;
	/* Only fails on allocation failure; the node is polled again after
	 * its next callback or mpt_sim_node_kick. */
	(void)sim_ev_schedule(sim, &n->timer, d);
}

void mpt_sim_node_kick(struct mpt_sim *sim, struct mpt_sim_node *node)
{
	sim_node_rearm(sim, node, false);
}

static void rearm_all(struct mpt_sim *sim)
{
	for (size_t i = 0; i < sim->n_nodes; i++)
		sim_node_rearm(sim, sim->nodes[i], false);
}

/* ---- sending ------------------------------------------------------------- */
int mpt_sim_send_if(struct mpt_sim *sim, struct mpt_sim_node *node, unsigned ifindex,
		    const uint8_t *pkt, size_t len)
{
	struct mpt_sim_link *l;
	struct sim_pkt *p;

	if (!sim || !node || !pkt || len == 0 || len > MPT_SIM_MAX_PKT)
		return MPT_ERR_INVAL;
	if (ifindex >= node->n_ifs) {
		sim->st.no_route++;
		return MPT_ERR_NOTFOUND;
	}
	l = node->ifs[ifindex].out;
	l->st.sent_pkts++;
	l->st.sent_bytes += len;
	p = sim_pkt_new(sim, pkt, len);
	if (!p) {
		sim_link_drop(sim, l, MPT_SIM_DROP_LIMIT);
		return MPT_ERR_NOMEM;
	}
	p->link = l;
	sim_link_chain(sim, l, 0, p);
	return 0;
}

/* The IP source address of a raw packet, if it is long enough to have one. */
static bool pkt_src_addr(const uint8_t *pkt, size_t len, struct mpt_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (len >= 20 && (pkt[0] >> 4) == 4) {
		a->family = 4;
		memcpy(a->bytes, pkt + 12, 4);
		return true;
	}
	if (len >= 40 && (pkt[0] >> 4) == 6) {
		a->family = 6;
		memcpy(a->bytes, pkt + 8, 16);
		return true;
	}
	return false;
}

int mpt_sim_send(struct mpt_sim *sim, struct mpt_sim_node *node, const uint8_t *pkt, size_t len)
{
	struct mpt_addr src;
	unsigned ifindex = 0;

	if (!sim || !node || !pkt || len == 0 || len > MPT_SIM_MAX_PKT)
		return MPT_ERR_INVAL;
	if (pkt_src_addr(pkt, len, &src)) {
		for (unsigned i = 0; i < node->n_ifs; i++) {
			if (mpt_addr_equal(&node->ifs[i].addr, &src)) {
				ifindex = i;
				break;
			}
		}
	}
	return mpt_sim_send_if(sim, node, ifindex, pkt, len);
}

/* ---- user events --------------------------------------------------------- */
int mpt_sim_at(struct mpt_sim *sim, uint64_t t, mpt_sim_event_fn fn, void *arg)
{
	struct sim_user_ev *u;
	int rc;

	if (!sim || !fn)
		return MPT_ERR_INVAL;
	u = mpt_calloc(sim->mem, 1, sizeof(*u));
	if (!u)
		return MPT_ERR_NOMEM;
	u->ev.idx = SIM_EV_NOT_QUEUED;
	u->ev.kind = SIM_EV_USER;
	u->fn = fn;
	u->arg = arg;
	rc = sim_ev_schedule(sim, &u->ev, t);
	if (rc < 0)
		mpt_free(sim->mem, u);
	return rc;
}

/* ---- run loop ------------------------------------------------------------ */
static void dispatch(struct mpt_sim *sim, struct sim_ev *ev)
{
	switch (ev->kind) {
	case SIM_EV_DELIVER:
		sim_link_deliver(sim, (struct sim_pkt *)(void *)ev);
		break;
	case SIM_EV_TIMER: {
		struct mpt_sim_node *n = (struct mpt_sim_node *)(void *)ev;

		n->ops->on_timer(n->ud, sim->now);
		sim_node_rearm(sim, n, true);
		break;
	}
	case SIM_EV_USER: {
		struct sim_user_ev *u = (struct sim_user_ev *)(void *)ev;

		u->fn(sim, u->arg);
		mpt_free(sim->mem, u);
		/* The callback may have changed any node's state. */
		rearm_all(sim);
		break;
	}
	case SIM_EV_FLUSH:
		sim_mbox_flush(sim, (struct sim_mbox_att *)(void *)ev);
		break;
	}
}

int mpt_sim_run(struct mpt_sim *sim, uint64_t until, bool (*stop)(void *arg), void *arg)
{
	int result;

	if (!sim)
		return MPT_ERR_INVAL;
	if (sim->running)
		return MPT_ERR_STATE;
	sim->running = true;
	rearm_all(sim);
	for (;;) {
		struct sim_ev *ev;

		if (stop && stop(arg)) {
			result = MPT_SIM_RUN_STOPPED;
			break;
		}
		if (sim->heap_n == 0) {
			/* Nothing can happen before `until`: time still passes, so
			 * that a caller can inject packets at `until` afterwards. */
			if (until != MPT_TIME_NEVER && until > sim->now)
				sim->now = until;
			result = MPT_SIM_RUN_IDLE;
			break;
		}
		ev = sim->heap[0];
		if (ev->time > until) {
			if (until > sim->now)
				sim->now = until;
			result = MPT_SIM_RUN_UNTIL;
			break;
		}
		sim_ev_cancel(sim, ev);
		if (ev->time > sim->now)
			sim->now = ev->time;
		sim->st.events++;
		dispatch(sim, ev);
	}
	sim->running = false;
	return result;
}

/* ---- pcap ---------------------------------------------------------------- */
int mpt_sim_pcap_open(struct mpt_sim *sim, const char *path)
{
	if (!sim || !path)
		return MPT_ERR_INVAL;
	mpt_sim_pcap_close(sim);
	/* LINKTYPE_RAW (each record a bare IPv4 or IPv6 packet), nanosecond
	 * timestamps: simulated time since 0. */
	if (mpt_pcap_open(&sim->pcap, path, 262144, true) < 0)
		return MPT_ERR_NOTFOUND;
	return 0;
}

void mpt_sim_pcap_close(struct mpt_sim *sim)
{
	if (!sim || !sim->pcap.f)
		return;
	(void)mpt_pcap_close(&sim->pcap);
}

void sim_pcap_write(struct mpt_sim *sim, const uint8_t *data, size_t len)
{
	mpt_pcap_write(&sim->pcap, sim->now, data, len);
}
