/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Link directions: middlebox chain, MTU, outages, droptail queue,
 * serialization, wire loss, delay/jitter/reordering/duplication and delivery.
 *
 * Transmission times are computed when a packet is enqueued (the queue is
 * FIFO and serialization is deterministic), so a packet costs exactly one
 * heap event: its delivery.  The queue itself is a ring of (end of
 * serialization, length) entries used only for the droptail decision.
 */
#include <stdlib.h>

#include "sim/sim_int.h"

void sim_link_drop(struct mpt_sim *sim, struct mpt_sim_link *l, enum mpt_sim_drop why)
{
	l->st.dropped[why]++;
	sim->st.drops++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cfg_check(const struct mpt_sim_link_cfg *c)
{
	/* Written as !(in range) so that NaN is rejected too. */
	if (!(c->loss >= 0.0 && c->loss <= 1.0) || !(c->reorder >= 0.0 && c->reorder <= 1.0) ||
	    !(c->dup >= 0.0 && c->dup <= 1.0))
		return MPT_ERR_INVAL;
	if ((c->n_drop && !c->drop_list) || (c->n_outages && !c->outages))
		return MPT_ERR_INVAL;
	if (c->n_drop > MPT_SIM_MAX_LIST || c->n_outages > MPT_SIM_MAX_LIST)
		return MPT_ERR_LIMIT;
	for (size_t i = 0; i < c->n_outages; i++) {
		if (c->outages[i].up_at < c->outages[i].down_at)
			return MPT_ERR_INVAL;
	}
	return 0;
}

int mpt_sim_link_set_cfg(struct mpt_sim_link *l, const struct mpt_sim_link_cfg *cfg)
{
	static const struct mpt_sim_link_cfg ideal;
	struct mpt_sim *sim;
	uint64_t *drops = NULL;
	struct mpt_sim_outage *outs = NULL;
	int rc;

	if (!l)
		return MPT_ERR_INVAL;
	sim = l->sim;
	if (!cfg)
		cfg = &ideal;
	rc = cfg_check(cfg);
	if (rc < 0)
		return rc;
	if (cfg->n_drop) {
		drops = mpt_malloc(sim->mem, cfg->n_drop * sizeof(*drops));
		if (!drops)
			return MPT_ERR_NOMEM;
		memcpy(drops, cfg->drop_list, cfg->n_drop * sizeof(*drops));
		qsort(drops, cfg->n_drop, sizeof(*drops), cmp_u64);
	}
	if (cfg->n_outages) {
		outs = mpt_malloc(sim->mem, cfg->n_outages * sizeof(*outs));
		if (!outs) {
			mpt_free(sim->mem, drops);
			return MPT_ERR_NOMEM;
		}
		memcpy(outs, cfg->outages, cfg->n_outages * sizeof(*outs));
	}
	mpt_free(sim->mem, l->drops);
	mpt_free(sim->mem, l->outs);
	l->cfg = *cfg;
	l->drops = drops;
	l->outs = outs;
	l->cfg.drop_list = drops;
	l->cfg.outages = outs;
	return 0;
}

void sim_link_free(struct mpt_sim *sim, struct mpt_sim_link *l)
{
	mpt_free(sim->mem, l->drops);
	mpt_free(sim->mem, l->outs);
	mpt_free(sim->mem, l->q);
	mpt_free(sim->mem, l->att);
	mpt_free(sim->mem, l);
}

/* Make room for one more interface than the node has (or two when extra). */
static int reserve_iface(struct mpt_sim *sim, struct mpt_sim_node *n, unsigned extra)
{
	unsigned need = n->n_ifs + 1 + extra;

	if (need > n->cap_ifs) {
		unsigned cap = n->cap_ifs ? n->cap_ifs * 2 : 4;
		struct sim_iface *v;

		while (cap < need)
			cap *= 2;
		v = mpt_realloc(sim->mem, n->ifs, cap * sizeof(*v));
		if (!v)
			return MPT_ERR_NOMEM;
		n->ifs = v;
		n->cap_ifs = cap;
	}
	return 0;
}

static struct mpt_sim_link *link_new(struct mpt_sim *sim, const struct mpt_sim_link_cfg *cfg)
{
	struct mpt_sim_link *l = mpt_calloc(sim->mem, 1, sizeof(*l));

	if (!l)
		return NULL;
	l->sim = sim;
	if (mpt_sim_link_set_cfg(l, cfg) < 0) {
		mpt_free(sim->mem, l);
		return NULL;
	}
	sim_rng_seed(&l->rng, sim->seed, sim_next_stream(sim));
	return l;
}

static bool addr_ok(const struct mpt_addr *a)
{
	return a && (a->family == 4 || a->family == 6);
}

int mpt_sim_connect(struct mpt_sim *sim, struct mpt_sim_node *a, const struct mpt_addr *addr_a,
		    struct mpt_sim_node *b, const struct mpt_addr *addr_b,
		    const struct mpt_sim_link_cfg *ab, const struct mpt_sim_link_cfg *ba,
		    struct mpt_sim_link **ab_out, struct mpt_sim_link **ba_out)
{
	struct mpt_sim_link *lab, *lba;
	int rc = 0;

	if (!sim || !a || !b || !addr_ok(addr_a) || !addr_ok(addr_b) || a->sim != sim ||
	    b->sim != sim)
		return MPT_ERR_INVAL;
	if (a == b && mpt_addr_equal(addr_a, addr_b))
		return MPT_ERR_INVAL;
	if ((ab && (rc = cfg_check(ab)) < 0) || (ba && (rc = cfg_check(ba)) < 0))
		return rc;
	/* Reserve both interface slots first so nothing can fail after the
	 * links are created (a == b needs two slots on the same node). */
	rc = reserve_iface(sim, a, a == b ? 1 : 0);
	if (rc < 0)
		return rc;
	rc = reserve_iface(sim, b, 0);
	if (rc < 0)
		return rc;
	lab = link_new(sim, ab);
	lba = lab ? link_new(sim, ba) : NULL;
	if (!lab || !lba) {
		if (lab)
			sim_link_free(sim, lab);
		return MPT_ERR_NOMEM;
	}
	lab->src = a;
	lab->src_if = a->n_ifs;
	a->ifs[a->n_ifs++] = (struct sim_iface){*addr_a, lab};
	lba->src = b;
	lba->src_if = b->n_ifs;
	b->ifs[b->n_ifs++] = (struct sim_iface){*addr_b, lba};
	lab->dst = b;
	lab->dst_if = lba->src_if;
	lba->dst = a;
	lba->dst_if = lab->src_if;
	lab->id = sim->n_links++;
	lba->id = sim->n_links++;
	*sim->links_tail = lab;
	lab->next = lba;
	sim->links_tail = &lba->next;
	if (ab_out)
		*ab_out = lab;
	if (ba_out)
		*ba_out = lba;
	return 0;
}

void mpt_sim_link_set_up(struct mpt_sim_link *link, bool up)
{
	link->admin_down = !up;
}

bool mpt_sim_link_is_up(const struct mpt_sim_link *l, uint64_t t)
{
	if (l->admin_down)
		return false;
	for (size_t i = 0; i < l->cfg.n_outages; i++) {
		if (t >= l->outs[i].down_at && t < l->outs[i].up_at)
			return false;
	}
	return true;
}

void mpt_sim_link_get_stats(const struct mpt_sim_link *link, struct mpt_sim_link_stats *out)
{
	*out = link->st;
}

static bool in_drop_list(const struct mpt_sim_link *l, uint64_t idx)
{
	size_t lo = 0, hi = l->cfg.n_drop;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->drops[mid] == idx)
			return true;
		if (l->drops[mid] < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Serialization time of len bytes at rate bit/s, rounded up to 1 ns. */
static uint64_t ser_time(uint64_t len, uint64_t rate)
{
	uint64_t num = len * 8 * MPT_NS_PER_S;
	uint64_t t = num / rate;

	return (num % rate) ? t + 1 : t;
}

static int q_push(struct mpt_sim *sim, struct mpt_sim_link *l, uint64_t finish, uint32_t len)
{
	if (l->q_n == l->q_cap) {
		size_t cap = l->q_cap ? l->q_cap * 2 : 16;
		struct sim_qent *q = mpt_malloc(sim->mem, cap * sizeof(*q));

		if (!q)
			return MPT_ERR_NOMEM;
		/* Unroll the ring into the new array. */
		for (size_t i = 0; i < l->q_n; i++)
			q[i] = l->q[(l->q_head + i) % l->q_cap];
		mpt_free(sim->mem, l->q);
		l->q = q;
		l->q_cap = cap;
		l->q_head = 0;
	}
	l->q[(l->q_head + l->q_n) % l->q_cap] = (struct sim_qent){finish, len};
	l->q_n++;
	l->q_bytes += len;
	return 0;
}

/* Forget packets whose serialization has finished by now. */
static void q_expire(struct mpt_sim_link *l, uint64_t now)
{
	while (l->q_n > 0 && l->q[l->q_head].finish <= now) {
		l->q_bytes -= l->q[l->q_head].len;
		l->q_head = (l->q_head + 1) % l->q_cap;
		l->q_n--;
	}
}

static void drop_pkt(struct mpt_sim *sim, struct mpt_sim_link *l, struct sim_pkt *p,
		     enum mpt_sim_drop why)
{
	sim_link_drop(sim, l, why);
	sim_pkt_free(sim, p);
}

static void link_enqueue(struct mpt_sim *sim, struct mpt_sim_link *l, struct sim_pkt *p)
{
	const struct mpt_sim_link_cfg *c = &l->cfg;
	uint64_t now = sim->now, finish = now, arrival, idx, jitter = 0;
	bool masked, lost = false, reorder = false, dup = false;

	if (c->mtu && p->len > c->mtu)
		return drop_pkt(sim, l, p, MPT_SIM_DROP_MTU);
	if (!mpt_sim_link_is_up(l, now))
		return drop_pkt(sim, l, p, MPT_SIM_DROP_OUTAGE);
	if (sim->st.inflight_pkts > sim->max_pkts || sim->st.inflight_bytes > sim->max_bytes)
		return drop_pkt(sim, l, p, MPT_SIM_DROP_LIMIT);
	if (c->rate_bps) {
		uint64_t start;

		q_expire(l, now);
		if ((c->queue_bytes && l->q_bytes + p->len > c->queue_bytes) ||
		    (c->queue_pkts && l->q_n + 1 > c->queue_pkts))
			return drop_pkt(sim, l, p, MPT_SIM_DROP_QUEUE);
		start = MPT_MAX(now, l->busy_until);
		finish = start + ser_time(p->len, c->rate_bps);
		if (q_push(sim, l, finish, (uint32_t)p->len) < 0)
			return drop_pkt(sim, l, p, MPT_SIM_DROP_LIMIT);
		l->busy_until = finish;
		l->st.queue_hwm_bytes = MPT_MAX(l->st.queue_hwm_bytes, l->q_bytes);
		l->st.queue_hwm_pkts = MPT_MAX(l->st.queue_hwm_pkts, (uint64_t)l->q_n);
	}

	/* On the wire. */
	idx = l->wire_count++;
	l->st.wire_pkts++;
	l->st.wire_bytes += p->len;
	sim_pcap_write(sim, p->data, p->len);

	/*
	 * Draw every enabled random decision for every packet, whatever the
	 * outcome of the others, so that e.g. a mask change does not shift
	 * the random loss pattern.
	 */
	masked = ((c->loss_mask >> (idx % 64)) & 1) || (c->n_drop && in_drop_list(l, idx));
	if (c->loss > 0.0)
		lost = sim_rng_unit(&l->rng) < c->loss;
	if (c->jitter_ns)
		jitter = sim_rng_upto(&l->rng, c->jitter_ns);
	if (c->reorder > 0.0)
		reorder = sim_rng_unit(&l->rng) < c->reorder;
	/* Drawn last and only when enabled: links without duplication keep
	 * the random streams they had before it existed. */
	if (c->dup > 0.0)
		dup = sim_rng_unit(&l->rng) < c->dup;
	if (masked)
		return drop_pkt(sim, l, p, MPT_SIM_DROP_MASK);
	if (lost)
		return drop_pkt(sim, l, p, MPT_SIM_DROP_LOSS);

	arrival = finish + c->delay_ns + jitter;
	if (reorder) {
		/* Held back and exempt from the FIFO floor: later packets may
		 * overtake it. */
		arrival += c->reorder_delay_ns;
		l->st.reordered++;
	} else {
		/* Jitter must not reorder: never arrive before the previous
		 * in-order packet (equal times keep send order via the heap's
		 * sequence tie-break). */
		arrival = MPT_MAX(arrival, l->last_arrival);
		l->last_arrival = arrival;
	}
	if (dup) {
		/* The copy took no queue slot and no bandwidth (a duplicate made
		 * on the wire); it fails like any packet when memory runs out. */
		struct sim_pkt *q = sim_pkt_new(sim, p->data, p->len);

		if (q) {
			q->link = l;
			if (sim_ev_schedule(sim, &q->ev, arrival + c->dup_delay_ns) < 0)
				sim_pkt_free(sim, q);
			else
				l->st.duplicated++;
		}
	}
	p->link = l;
	if (sim_ev_schedule(sim, &p->ev, arrival) < 0)
		return drop_pkt(sim, l, p, MPT_SIM_DROP_LIMIT);
}

void sim_link_chain(struct mpt_sim *sim, struct mpt_sim_link *l, size_t start, struct sim_pkt *p)
{
	p->link = l;
	for (size_t i = start; i < l->n_att; i++) {
		switch (sim_mbox_apply(sim, l->att[i], &p)) {
		case SIM_MBOX_PASS:
			break;
		case SIM_MBOX_DROP:
			drop_pkt(sim, l, p, MPT_SIM_DROP_MBOX);
			return;
		case SIM_MBOX_CONSUMED:
			return;
		}
	}
	link_enqueue(sim, l, p);
}

void sim_link_deliver(struct mpt_sim *sim, struct sim_pkt *p)
{
	struct mpt_sim_link *l = p->link;
	struct mpt_sim_node *dst = l->dst;

	if (!mpt_sim_link_is_up(l, sim->now))
		return drop_pkt(sim, l, p, MPT_SIM_DROP_OUTAGE);
	l->st.delivered_pkts++;
	l->st.delivered_bytes += p->len;
	dst->ops->input(dst->ud, l->dst_if, p->data, p->len, sim->now);
	sim_pkt_free(sim, p);
	sim_node_rearm(sim, dst, false);
}
