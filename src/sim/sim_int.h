/* SPDX-License-Identifier: Apache-2.0 */
/* Simulator internals shared by sim.c, link.c and mbox.c.  Not installed. */
#ifndef MPT_SIM_INT_H
#define MPT_SIM_INT_H

#include "base/pcap.h"
#include "common.h"
#include "mpt/sim.h"

/* ---- PRNG: xoshiro256** seeded through splitmix64 ---- */
struct sim_rng {
	uint64_t s[4];
};

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t sim_rng_next(struct sim_rng *r);
/** Uniform double in [0, 1). */
double sim_rng_unit(struct sim_rng *r);
/** Uniform integer in [0, n] (inclusive). */
uint64_t sim_rng_upto(struct sim_rng *r, uint64_t n);

/* ---- events ---- */
enum sim_ev_kind {
	SIM_EV_DELIVER, /* struct sim_pkt */
	SIM_EV_TIMER,   /* struct mpt_sim_node */
	SIM_EV_USER,    /* struct sim_user_ev */
	SIM_EV_FLUSH,   /* struct sim_mbox_att (coalescer hold expiry, attacker trigger) */
};

/* Embedded as the FIRST member of its owner so the owner is a cast away. */
struct sim_ev {
	uint64_t time;
	uint64_t seq; /* insertion order: tie-break for determinism */
	size_t idx;   /* position in the heap, SIZE_MAX when not queued */
	enum sim_ev_kind kind;
};

#define SIM_EV_NOT_QUEUED SIZE_MAX

/** Queue ev at time t (removing it first if already queued). */
int sim_ev_schedule(struct mpt_sim *sim, struct sim_ev *ev, uint64_t t);
/** Remove ev from the heap if queued. */
void sim_ev_cancel(struct mpt_sim *sim, struct sim_ev *ev);

/* ---- packets ---- */
struct sim_pkt {
	struct sim_ev ev; /* must be first */
	struct mpt_sim_link *link;
	size_t len;
	uint8_t data[];
};

/** Allocate a packet of len bytes (content copied from src when non-NULL). */
struct sim_pkt *sim_pkt_new(struct mpt_sim *sim, const uint8_t *src, size_t len);
void sim_pkt_free(struct mpt_sim *sim, struct sim_pkt *p);

/* ---- nodes ---- */
struct sim_iface {
	struct mpt_addr addr;
	struct mpt_sim_link *out; /* direction leaving this interface */
};

struct mpt_sim_node {
	struct sim_ev timer; /* must be first */
	struct mpt_sim *sim;
	char *name;
	const struct mpt_sim_node_ops *ops;
	void *ud;
	struct sim_iface *ifs;
	unsigned n_ifs;
	unsigned cap_ifs;
};

/** Re-read a node's deadline and (re)arm its timer event. */
void sim_node_rearm(struct mpt_sim *sim, struct mpt_sim_node *n, bool after_timer);

/* ---- middleboxes ---- */
struct sim_mbox_att {
	struct sim_ev flush; /* must be first (coalescer hold, attacker trigger) */
	struct mpt_sim_mbox *mb;
	struct mpt_sim_link *link;
	size_t pos;           /* index in link->att[] */
	bool rev;             /* attached as the reverse half */
	struct sim_pkt *held; /* coalescer: held segment */
};

struct sim_nat_map {
	struct mpt_addr inner;
	uint16_t inner_port;
	uint16_t outer_port;
};

struct sim_attack; /* MPTCP_ATTACK state (mbox.c) */
struct sim_rebase; /* JOIN_REBASE state (mbox.c) */

struct mpt_sim_mbox {
	struct mpt_sim *sim;
	struct mpt_sim_mbox_cfg cfg;
	struct mpt_sim_mbox_stats st;
	struct sim_rng rng;
	uint64_t data_segs; /* CORRUPT: data segments seen */
	struct sim_nat_map *nat;
	unsigned n_nat;
	struct sim_attack *atk; /* MPTCP_ATTACK only */
	struct sim_rebase *rb;  /* JOIN_REBASE only */
	uint64_t frz_ack;       /* FREEZE_DATA_ACK: the value, once frz_set */
	bool frz_set, frz64;
	struct sim_mbox_att *att[2]; /* forward, reverse (may be NULL) */
	struct mpt_sim_mbox *next;   /* sim's list, for destroy */
};

enum sim_mbox_verdict {
	SIM_MBOX_PASS,     /* continue with the (maybe modified) packet */
	SIM_MBOX_DROP,     /* caller frees and counts */
	SIM_MBOX_CONSUMED, /* the box took the packet (and re-injected outputs) */
};

/** Apply one attached box to p (which may be replaced in *pp). */
enum sim_mbox_verdict sim_mbox_apply(struct mpt_sim *sim, struct sim_mbox_att *a,
				     struct sim_pkt **pp);
/** A box's own event fired: the coalescer's hold expired (push the held
 *  packet down the chain), or an attacker's trigger time came. */
void sim_mbox_flush(struct mpt_sim *sim, struct sim_mbox_att *a);
void sim_mbox_free_all(struct mpt_sim *sim);

/* ---- links ---- */
struct sim_qent {
	uint64_t finish;
	uint32_t len;
};

struct mpt_sim_link {
	struct mpt_sim *sim;
	struct mpt_sim_node *src;
	struct mpt_sim_node *dst;
	unsigned src_if;
	unsigned dst_if;
	unsigned id;
	struct mpt_sim_link_cfg cfg; /* drop_list / outages point to owned copies */
	uint64_t *drops;             /* sorted copy of cfg.drop_list */
	struct mpt_sim_outage *outs; /* copy of cfg.outages */
	bool admin_down;
	struct sim_rng rng;
	uint64_t wire_count;   /* packets that got onto the wire (mask index) */
	uint64_t busy_until;   /* end of serialization of the last packet */
	uint64_t last_arrival; /* FIFO floor for jitter */
	/* Droptail queue: ring of packets not yet serialized. */
	struct sim_qent *q;
	size_t q_head, q_n, q_cap;
	uint64_t q_bytes;
	struct sim_mbox_att **att;
	size_t n_att;
	struct mpt_sim_link_stats st;
	struct mpt_sim_link *next; /* sim's list */
};

/** Run p through the link's boxes from position start, then enqueue it. */
void sim_link_chain(struct mpt_sim *sim, struct mpt_sim_link *l, size_t start, struct sim_pkt *p);
/** A delivery event fired. */
void sim_link_deliver(struct mpt_sim *sim, struct sim_pkt *p);
void sim_link_drop(struct mpt_sim *sim, struct mpt_sim_link *l, enum mpt_sim_drop why);
void sim_link_free(struct mpt_sim *sim, struct mpt_sim_link *l);

/* ---- the simulator ---- */
struct sim_user_ev {
	struct sim_ev ev; /* must be first */
	mpt_sim_event_fn fn;
	void *arg;
};

struct mpt_sim {
	const struct mpt_mem *mem;
	uint64_t seed;
	uint64_t now;
	uint64_t ev_seq;
	struct sim_ev **heap;
	size_t heap_n, heap_cap;
	struct sim_rng node_rng;
	unsigned n_streams; /* per-object stream counter */
	struct mpt_sim_node **nodes;
	size_t n_nodes, cap_nodes;
	struct mpt_sim_link *links;
	struct mpt_sim_link **links_tail;
	unsigned n_links;
	struct mpt_sim_mbox *mboxes;
	uint64_t max_pkts, max_bytes;
	struct mpt_sim_stats st;
	bool running;
	struct mpt_pcap_writer pcap; /* closed: pcap.f == NULL */
};

/** Write a packet to the pcap file (if open) at the current time. */
void sim_pcap_write(struct mpt_sim *sim, const uint8_t *data, size_t len);
/** Next stream number for a per-object generator. */
uint64_t sim_next_stream(struct mpt_sim *sim);

#endif /* MPT_SIM_INT_H */
