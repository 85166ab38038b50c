/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpt simulator — a deterministic in-process network of nodes and links.
 *
 * The simulator moves raw IP packets (IPv4/IPv6 datagrams) between nodes
 * over unidirectional link directions on a virtual clock.  It knows nothing
 * about TCP state: each node is a set of callbacks (typically wrapping an
 * engine stack) that receives packets, reports its next timer deadline and
 * handles timer expiry.  Nodes transmit with mpt_sim_send / mpt_sim_send_if,
 * from anywhere, including inside their own callbacks: a send is queued as a
 * future event and never calls into another node synchronously.
 *
 * Determinism: all events are kept in one binary heap ordered by (time,
 * insertion sequence), and all randomness comes from xoshiro256** generators
 * seeded from the simulation seed.  Each link direction, each middlebox and
 * the node-facing mpt_sim_rand have their own stream (derived from the seed
 * and the object's creation index), so draws by nodes or by one link never
 * perturb another link's loss/jitter decisions.  Same seed, same calls ->
 * byte-identical run.
 *
 * Life of a packet sent on a link direction:
 *   1. middleboxes attached to the direction, in attachment order (may
 *      modify, drop, split or hold the packet);
 *   2. MTU check (len > mtu: dropped, MPT_SIM_DROP_MTU);
 *   3. link down now (admin down or inside a scheduled outage): dropped,
 *      MPT_SIM_DROP_OUTAGE;
 *   4. sim-wide in-flight limit (MPT_SIM_DROP_LIMIT) and droptail queue
 *      limit (MPT_SIM_DROP_QUEUE).  The queue holds every packet that has
 *      not finished serialization, including the one being serialized;
 *   5. the packet is now "on the wire": it is written to the pcap file (if
 *      any) with the current virtual time, it takes its serialization time
 *      (len * 8 / rate, rounded up to 1 ns) after the previous packet;
 *   6. wire loss: deterministic loss mask / drop list (MPT_SIM_DROP_MASK),
 *      then random loss (MPT_SIM_DROP_LOSS).  Lost packets still used the
 *      queue and the link's bandwidth;
 *   7. arrival = end of serialization + delay + uniform jitter in
 *      [0, jitter].  Jitter never reorders: arrival is raised to the
 *      previous packet's arrival (FIFO) unless the packet is picked for
 *      reordering (probability `reorder`), in which case it gets
 *      `reorder_delay` extra and is exempt from the FIFO rule.  A packet
 *      picked for duplication (probability `dup`) is delivered a second
 *      time, `dup_delay` after its own arrival (also exempt from FIFO);
 *   8. at arrival, if the link is down (admin down or in an outage window):
 *      dropped, MPT_SIM_DROP_OUTAGE.  So an outage drops everything whose
 *      delivery time falls inside it, including packets already in flight.
 *      Otherwise the destination node's input callback runs.
 *
 * Memory: every allocation goes through the mpt_mem hooks given at
 * creation.  Packets in flight are bounded by the queue limits and by the
 * sim-wide limits (mpt_sim_set_limits).  mpt_sim_destroy frees everything.
 *
 * This is a backend, not the engine: it may do file I/O (pcap).
 */
#ifndef MPT_SIM_H
#define MPT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mpt_sim;
struct mpt_sim_node;
/** One direction of a link (from one node's interface to another's). */
struct mpt_sim_link;
struct mpt_sim_mbox;

/** Default sim-wide limits on packets in flight (queued or propagating). */
#define MPT_SIM_DEFAULT_MAX_PKTS  65536u
#define MPT_SIM_DEFAULT_MAX_BYTES (64u * 1024u * 1024u)
/** Largest packet accepted by mpt_sim_send (IPv6 jumbograms unsupported). */
#define MPT_SIM_MAX_PKT           65575u
/** Largest deterministic drop list / outage list per link direction. */
#define MPT_SIM_MAX_LIST          4096u

/**
 * Node callbacks.  ud is the pointer given to mpt_sim_add_node.  pkt is only
 * valid during the input call.  next_deadline and on_timer may be NULL (the
 * node then has no timers).  After every callback into a node the simulator
 * asks next_deadline again and (re)arms the node's timer.
 */
struct mpt_sim_node_ops {
	/** A packet arrived on interface ifindex (0-based, in connect order). */
	void (*input)(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now);
	/** Earliest time on_timer should run, or MPT_TIME_NEVER. */
	uint64_t (*next_deadline)(void *ud);
	/** The deadline has passed. */
	void (*on_timer)(void *ud, uint64_t now);
};

/** A scheduled outage of a link direction: down in [down_at, up_at). */
struct mpt_sim_outage {
	uint64_t down_at;
	uint64_t up_at;
};

/**
 * Configuration of one link direction.  Zero-initialise and set what you
 * need: an all-zero config is an ideal link (infinite rate, no delay, no
 * loss, no queue limit other than the sim-wide one, no MTU limit).
 * Arrays are copied by the simulator.
 */
struct mpt_sim_link_cfg {
	uint64_t rate_bps;  /**< serialization rate in bit/s; 0 = infinite */
	uint64_t delay_ns;  /**< one-way propagation delay */
	uint64_t jitter_ns; /**< extra uniform delay in [0, jitter_ns]; FIFO kept */
	double loss;        /**< random loss probability in [0, 1] */
	/**
	 * Deterministic loss: packet number i (0-based count of packets that
	 * got onto this direction's wire, step 5 above) is dropped when bit
	 * (i % 64) of loss_mask is set.  0 = no mask.
	 */
	uint64_t loss_mask;
	const uint64_t *drop_list; /**< packet numbers (as above) to drop, any order */
	size_t n_drop;
	/**
	 * Droptail limits (0 = none).  Only a finite rate builds a queue: with
	 * rate_bps == 0 packets never wait and these limits never apply.
	 */
	uint32_t queue_bytes;
	uint32_t queue_pkts;
	double reorder;            /**< probability that a packet is held back */
	uint64_t reorder_delay_ns; /**< extra delay of a held-back packet */
	/**
	 * Probability that a delivered packet is duplicated on the wire (a
	 * copy arrives dup_delay_ns after the original).  Drawn only when
	 * dup > 0, so links without duplication keep their random streams.
	 */
	double dup;
	uint64_t dup_delay_ns; /**< delay of the copy after the original */
	uint32_t mtu;          /**< larger packets are dropped (no fragmentation); 0 = none */
	const struct mpt_sim_outage *outages; /**< scheduled down windows */
	size_t n_outages;
};

/** Why a link direction dropped a packet. */
enum mpt_sim_drop {
	MPT_SIM_DROP_LOSS,   /**< random loss */
	MPT_SIM_DROP_MASK,   /**< loss mask or drop list */
	MPT_SIM_DROP_QUEUE,  /**< droptail queue full */
	MPT_SIM_DROP_MTU,    /**< larger than the MTU */
	MPT_SIM_DROP_OUTAGE, /**< link down (admin or scheduled outage) */
	MPT_SIM_DROP_MBOX,   /**< dropped by a middlebox */
	MPT_SIM_DROP_LIMIT,  /**< sim-wide in-flight limit or allocation failure */
	MPT_SIM_DROP_MAX
};

/** Counters of one link direction. */
struct mpt_sim_link_stats {
	uint64_t sent_pkts; /**< packets handed to this direction (before middleboxes) */
	uint64_t sent_bytes;
	uint64_t wire_pkts; /**< packets that got onto the wire (step 5) */
	uint64_t wire_bytes;
	uint64_t delivered_pkts; /**< packets handed to the destination node */
	uint64_t delivered_bytes;
	uint64_t dropped[MPT_SIM_DROP_MAX]; /**< by enum mpt_sim_drop */
	uint64_t reordered;                 /**< packets picked for reordering */
	uint64_t duplicated;                /**< extra copies delivered (dup) */
	uint64_t queue_hwm_bytes; /**< queue high-water mark (incl. packet in serialization) */
	uint64_t queue_hwm_pkts;
};

/** Sim-wide counters. */
struct mpt_sim_stats {
	uint64_t events;        /**< events processed */
	uint64_t no_route;      /**< sends dropped: node has no (such) interface */
	uint64_t drops;         /**< sum of all link drops */
	uint64_t inflight_pkts; /**< packets currently queued or propagating */
	uint64_t inflight_bytes;
};

/**
 * Create a simulator at virtual time 0.  mem may be NULL (libc hooks).
 * Returns 0, MPT_ERR_INVAL (out NULL) or MPT_ERR_NOMEM.
 */
MPT_API int mpt_sim_create(const struct mpt_mem *mem, uint64_t seed, struct mpt_sim **out);

/**
 * Free the simulator, all nodes' bookkeeping, links, middleboxes, packets
 * and pending events, and close the pcap file.  Does not touch node ud
 * pointers.  NULL is a no-op.
 */
MPT_API void mpt_sim_destroy(struct mpt_sim *sim);

/** Current virtual time (ns). */
MPT_API uint64_t mpt_sim_now(const struct mpt_sim *sim);

/**
 * mpt_rand_fn over the simulator's node stream (pass the sim as user_data).
 * Deterministic for a given seed and call sequence; independent of the
 * link streams.
 */
MPT_API void mpt_sim_rand(uint8_t *buf, size_t len, void *sim);

/**
 * Bound packets in flight across the whole simulator (0 keeps the current
 * value).  Packets beyond are dropped with MPT_SIM_DROP_LIMIT.
 */
MPT_API void mpt_sim_set_limits(struct mpt_sim *sim, uint64_t max_pkts, uint64_t max_bytes);

/**
 * Add a node.  name is copied (may be NULL); ops must outlive the sim.
 * Returns 0, MPT_ERR_INVAL (ops/input/out NULL) or MPT_ERR_NOMEM.
 */
MPT_API int mpt_sim_add_node(struct mpt_sim *sim, const char *name,
			     const struct mpt_sim_node_ops *ops, void *ud,
			     struct mpt_sim_node **out);

/** Node name ("" when none). */
MPT_API const char *mpt_sim_node_name(const struct mpt_sim_node *node);
/** Number of interfaces of a node. */
MPT_API unsigned mpt_sim_node_n_ifaces(const struct mpt_sim_node *node);
/** Address of interface ifindex; MPT_ERR_NOTFOUND if there is none. */
MPT_API int mpt_sim_node_ifaddr(const struct mpt_sim_node *node, unsigned ifindex,
				struct mpt_addr *out);
/** Outgoing link direction of interface ifindex, or NULL. */
MPT_API struct mpt_sim_link *mpt_sim_node_iflink(const struct mpt_sim_node *node, unsigned ifindex);

/**
 * Re-read the node's next_deadline (call after changing the node's state
 * from outside its callbacks, e.g. the application wrote data).  The
 * simulator also re-reads every node's deadline when mpt_sim_run starts and
 * after each mpt_sim_at callback.
 */
MPT_API void mpt_sim_node_kick(struct mpt_sim *sim, struct mpt_sim_node *node);

/**
 * Connect node a and node b: adds one interface to each (addresses addr_a,
 * addr_b) and two link directions a->b (cfg ab) and b->a (cfg ba).  A NULL
 * cfg means an ideal link.  ab_out / ba_out (may be NULL) receive the
 * direction handles (owned by the sim).
 * Returns 0, MPT_ERR_INVAL (NULL node/address, bad config, a == b allowed
 * only with distinct addresses), MPT_ERR_LIMIT (list longer than
 * MPT_SIM_MAX_LIST) or MPT_ERR_NOMEM.
 */
MPT_API int mpt_sim_connect(struct mpt_sim *sim, struct mpt_sim_node *a,
			    const struct mpt_addr *addr_a, struct mpt_sim_node *b,
			    const struct mpt_addr *addr_b, const struct mpt_sim_link_cfg *ab,
			    const struct mpt_sim_link_cfg *ba, struct mpt_sim_link **ab_out,
			    struct mpt_sim_link **ba_out);

/**
 * Replace a direction's configuration.  Applies to packets sent from now
 * on; packets already on the wire keep their computed times.  The packet
 * counter used by the loss mask / drop list keeps counting.
 * Returns 0, MPT_ERR_INVAL, MPT_ERR_LIMIT or MPT_ERR_NOMEM (old cfg kept).
 */
MPT_API int mpt_sim_link_set_cfg(struct mpt_sim_link *link, const struct mpt_sim_link_cfg *cfg);

/**
 * Administratively bring a direction up or down.  While down, packets sent
 * are dropped and packets arriving are dropped (MPT_SIM_DROP_OUTAGE).
 */
MPT_API void mpt_sim_link_set_up(struct mpt_sim_link *link, bool up);

/** True when the direction is up at time t (admin state and outages). */
MPT_API bool mpt_sim_link_is_up(const struct mpt_sim_link *link, uint64_t t);

/** Copy a direction's counters. */
MPT_API void mpt_sim_link_get_stats(const struct mpt_sim_link *link,
				    struct mpt_sim_link_stats *out);

/** Copy the sim-wide counters. */
MPT_API void mpt_sim_get_stats(const struct mpt_sim *sim, struct mpt_sim_stats *out);

/**
 * Send a raw IP packet from node.  The interface is chosen by the packet's
 * IP source address (the interface with that address); if no interface has
 * it (or the packet is too short to have one), the node's first interface.
 * The packet is copied.
 * Returns 0 when the packet was handed to a link (it may still be dropped
 * there; see the link stats), MPT_ERR_NOTFOUND (node has no interface;
 * counted in no_route), MPT_ERR_INVAL (len 0 or > MPT_SIM_MAX_PKT) or
 * MPT_ERR_NOMEM (counted as a MPT_SIM_DROP_LIMIT drop).
 */
MPT_API int mpt_sim_send(struct mpt_sim *sim, struct mpt_sim_node *node, const uint8_t *pkt,
			 size_t len);

/** Like mpt_sim_send on a given interface (MPT_ERR_NOTFOUND if none). */
MPT_API int mpt_sim_send_if(struct mpt_sim *sim, struct mpt_sim_node *node, unsigned ifindex,
			    const uint8_t *pkt, size_t len);

/** Callback of a scheduled user event. */
typedef void (*mpt_sim_event_fn)(struct mpt_sim *sim, void *arg);

/**
 * Run fn(sim, arg) at virtual time t (now if t is in the past).  Events at
 * the same time run in scheduling order.  Returns 0, MPT_ERR_INVAL or
 * MPT_ERR_NOMEM.
 */
MPT_API int mpt_sim_at(struct mpt_sim *sim, uint64_t t, mpt_sim_event_fn fn, void *arg);

/** Why mpt_sim_run returned. */
enum mpt_sim_run_result {
	MPT_SIM_RUN_UNTIL = 0,   /**< virtual time reached `until` (now == until) */
	MPT_SIM_RUN_STOPPED = 1, /**< stop() returned true */
	/** no event left; now = until, or the last event's time when until is
	 *  MPT_TIME_NEVER */
	MPT_SIM_RUN_IDLE = 2,
};

/**
 * Process events in (time, sequence) order until the next event is later
 * than `until`, stop(arg) returns true (checked after every event; stop may
 * be NULL), or no event is left.  Events: packet deliveries, node timers,
 * user events, middlebox flushes.  Returns an enum mpt_sim_run_result or
 * MPT_ERR_STATE when called from inside a simulator callback.
 */
MPT_API int mpt_sim_run(struct mpt_sim *sim, uint64_t until, bool (*stop)(void *arg), void *arg);

/**
 * Write every packet that gets onto any link's wire (step 5) to a pcap
 * file: LINKTYPE_RAW (raw IPv4/IPv6), nanosecond timestamps = virtual
 * time.  Replaces a previously open file.
 * Returns 0, MPT_ERR_INVAL (path NULL) or MPT_ERR_NOTFOUND (cannot open).
 */
MPT_API int mpt_sim_pcap_open(struct mpt_sim *sim, const char *path);

/** Flush and close the pcap file (no-op when none is open). */
MPT_API void mpt_sim_pcap_close(struct mpt_sim *sim);

/* ---- middleboxes --------------------------------------------------------- */

/** Middlebox kinds.  All operate on TCP over IPv4/IPv6; other packets pass. */
enum mpt_sim_mbox_kind {
	/**
	 * Overwrite every option of kind `opt_kind` with NOPs (length kept)
	 * and fix the TCP checksum incrementally.  syn_only: only on segments
	 * with SYN set.
	 */
	MPT_SIM_MBOX_STRIP_OPT,
	/**
	 * Shift the sender's sequence space: on the forward direction seq +=
	 * delta; on the reverse direction ack -= delta and SACK blocks -=
	 * delta.  Checksum fixed incrementally (RFC 1624).  Applies to every
	 * TCP segment crossing the box.
	 */
	MPT_SIM_MBOX_SEQ_OFFSET,
	/**
	 * Source NAT: on the forward direction, the source address becomes
	 * nat_addr and each distinct (src addr, src port) gets a port from
	 * nat_port_base upwards; on the reverse direction packets to
	 * nat_addr:mapped-port get the original destination back.  IP and TCP
	 * checksums fixed incrementally.  Reverse packets without a mapping
	 * pass unchanged; forward packets of a family other than nat_addr's,
	 * or beyond MPT_SIM_NAT_MAX mappings, are dropped.
	 */
	MPT_SIM_MBOX_NAT,
	/**
	 * Split TCP payloads larger than seg_size into seg_size pieces: each
	 * piece copies the IP header (incl. IPv4 options / IPv6 extension
	 * headers) and the TCP header with all options, seq advanced, IP
	 * length fixed, IPv4 id incremented per piece, FIN/PSH only on the
	 * last piece; checksums recomputed.  Segments with SYN or RST, or
	 * whose TCP checksum is wrong, pass unchanged.
	 */
	MPT_SIM_MBOX_RESEGMENT,
	/**
	 * Coalesce: holds one data segment (no SYN/FIN/RST/URG) for at most
	 * hold_ns; a following segment of the same 4-tuple that is contiguous
	 * in sequence space and has an options area of the same length is
	 * appended to it (the merged segment keeps the first segment's
	 * options and takes the later ACK, window and PSH), up to
	 * coalesce_max payload bytes.  Any other packet first flushes the
	 * held one (order is kept).  Checksums recomputed.
	 */
	MPT_SIM_MBOX_COALESCE,
	/**
	 * Corrupt one payload byte of the Nth data segment (corrupt_nth,
	 * 1-based, counting segments with payload; 0 = disabled) and/or of
	 * each data segment with probability corrupt_prob.  The byte is at offset (payload_len / 2).  The TCP
	 * checksum is fixed so that only higher layers (MPTCP DSS checksum)
	 * can notice.  The byte is XORed with corrupt_xor (0 means 0xff).
	 */
	MPT_SIM_MBOX_CORRUPT,
	/**
	 * Drop segments carrying an option whose kind is not in `allowed`
	 * (a 256-bit set: bit k of allowed[k / 64]).  EOL and NOP are always
	 * allowed.  Segments with a malformed options area are dropped too.
	 */
	MPT_SIM_MBOX_DROP_UNKNOWN_OPT,
	/**
	 * On-path MPTCP attacker (RFC 6181 §3, RFC 7430 §2; issue 12, see
	 * docs/external-keys.md "The attacker element").  Needs both
	 * directions of one path (fwd and rev, either way round).  Records
	 * the first MPTCP handshake that crosses it (roles, 4-tuple,
	 * version, both keys - or, with external keys, the tokens) and the
	 * sequence state of that subflow; passes every packet unchanged.
	 * At atk_join_at it forges an MP_JOIN to the listener from
	 * atk_join_addr:atk_join_port and completes the join handshake with
	 * HMACs computed from the recorded keys; at atk_fastclose_at it
	 * sends the listener an in-window ACK with MP_FASTCLOSE carrying the
	 * listener's key on the recorded subflow.  Packets to the forged
	 * subflow are taken off the path (counted as dropped).  Results:
	 * mpt_sim_attack_get_stats.
	 */
	MPT_SIM_MBOX_MPTCP_ATTACK,
	/**
	 * A listener that rebases the first mapping of a join to its fourth
	 * ACK's DATA_ACK, as Linux 6.18 does when the join completes late.
	 * Linux answers the third ACK of an MP_JOIN (RFC 8684 §3.2) at once
	 * with a DSS carrying DATA_ACK = A, its connection-level ack_seq; when
	 * the application holds the connection's lock it attaches the subflow
	 * only later, and then sets the subflow's current mapping to start at
	 * ack_seq - still A, since ack_seq cannot move while the lock is held.
	 * A first mapping (dsn D) that arrived in between is delivered at DSN
	 * A instead of D.  An initiator whose first mapping on a join starts
	 * at exactly A is immune (the rebase is a no-op); others corrupt the
	 * data stream.  See rebase_joins / rebase_moved in the stats.
	 *
	 * Needs both directions of one path: fwd from the join initiator to
	 * the listener, rev the way back.  Per subflow (4-tuple, at most
	 * MPT_SIM_REBASE_MAX at a time; further joins pass untouched): a
	 * forward SYN with MP_JOIN starts tracking; the first reverse segment
	 * without SYN whose DSS has a DATA_ACK is the fourth ACK (A recorded,
	 * 64 or 32 bits); the first forward DSS mapping with a non-zero
	 * data-level length after it is the first mapping (D, SSN, length),
	 * and every forward segment carrying that same mapping (first
	 * transmission and retransmissions) gets its DSN field set to A (the
	 * low 32 bits only when either is 32-bit), TCP checksum fixed
	 * incrementally.  Other mappings pass unchanged.  For connections
	 * without DSS checksums (RFC 8684 §3.3.1): a first mapping carrying
	 * one is left alone and its subflow no longer tracked (the checksum
	 * covers the DSN: a rewritten one would fail it).
	 */
	MPT_SIM_MBOX_JOIN_REBASE,
	/**
	 * A receiver that stops delivering: from freeze_at on, the DATA_ACK
	 * of every DSS option crossing the box (put it on the return links)
	 * is replaced by the first one it saw then (the low 32 bits for a
	 * 4-octet field), the window left as it is: what a Linux 6.18
	 * receiver whose buffer filled with out-of-order data looks like to
	 * the sender (subflows acknowledge, DATA_ACK never moves).  One
	 * connection per box.  Rewritten byte-wise, TCP checksum fixed.
	 */
	MPT_SIM_MBOX_FREEZE_DATA_ACK,
};

/** JOIN_REBASE: most subflows tracked at once (beyond: joins pass). */
#define MPT_SIM_REBASE_MAX 16u

/** MPTCP_ATTACK: source port of the forged join when atk_join_port is 0. */
#define MPT_SIM_ATTACK_PORT 33333u

/** Largest number of NAT mappings. */
#define MPT_SIM_NAT_MAX 256u

/** Middlebox configuration (fields used depend on kind). */
struct mpt_sim_mbox_cfg {
	enum mpt_sim_mbox_kind kind;
	uint8_t opt_kind;         /**< STRIP_OPT */
	bool syn_only;            /**< STRIP_OPT */
	uint32_t delta;           /**< SEQ_OFFSET (mod 2^32) */
	struct mpt_addr nat_addr; /**< NAT public address */
	uint16_t nat_port_base;   /**< NAT first public port (0 = 40000) */
	uint32_t seg_size;        /**< RESEGMENT piece payload size (> 0) */
	uint64_t hold_ns;         /**< COALESCE maximum hold time */
	uint32_t coalesce_max;    /**< COALESCE max merged payload (0 = 65000) */
	/**
	 * COALESCE only segments whose TCP options are byte for byte the same
	 * (what Linux's GRO does: a receive offload, not a middlebox that
	 * breaks MPTCP's mappings).
	 */
	bool coalesce_same_opts;
	uint64_t corrupt_nth; /**< CORRUPT: 1-based data segment number, 0 = off */
	double corrupt_prob;  /**< CORRUPT: per data segment probability */
	uint8_t corrupt_xor;  /**< CORRUPT: XOR value (0 = 0xff) */
	uint64_t allowed[4];  /**< DROP_UNKNOWN_OPT: allowed option kinds */

	/* MPTCP_ATTACK */
	uint64_t atk_join_at;      /**< time of the forged MP_JOIN (0 = never) */
	uint64_t atk_fastclose_at; /**< time of the forged MP_FASTCLOSE (0 = never) */
	/** Source address of the forged join (family 0: the initiator's). */
	struct mpt_addr atk_join_addr;
	uint16_t atk_join_port; /**< its source port (0: MPT_SIM_ATTACK_PORT) */

	uint64_t freeze_at; /**< FREEZE_DATA_ACK: simulated time it starts */
};

/** What a middlebox did. */
struct mpt_sim_mbox_stats {
	uint64_t seen;     /**< packets offered */
	uint64_t modified; /**< packets changed (or merged into another) */
	uint64_t dropped;  /**< packets dropped */
	uint64_t created;  /**< packets produced beyond the input (resegment pieces, forgeries) */
	uint64_t passed;   /**< packets left untouched */
	/** JOIN_REBASE: first mappings seen on tracked joins (after their fourth ACK) */
	uint64_t rebase_joins;
	/** JOIN_REBASE: of those, how many started elsewhere than the fourth ACK's
	 *  DATA_ACK (D != A): rebased, i.e. rewritten */
	uint64_t rebase_moved;
	/** FREEZE_DATA_ACK: DATA_ACKs rewritten to the frozen value */
	uint64_t frozen_acks;
};

/**
 * Create a middlebox and attach it to fwd (and, for two-way boxes, rev:
 * SEQ_OFFSET and NAT use rev for the return direction, MPTCP_ATTACK and
 * JOIN_REBASE require it; other kinds ignore rev).  The box runs after the
 * boxes already attached to the same direction.  Owned by the sim; *out
 * (may be NULL) receives the handle.
 * Returns 0, MPT_ERR_INVAL (bad config, fwd NULL, rev of another sim,
 * MPTCP_ATTACK or JOIN_REBASE without rev) or MPT_ERR_NOMEM.
 */
MPT_API int mpt_sim_mbox_add(struct mpt_sim_link *fwd, struct mpt_sim_link *rev,
			     const struct mpt_sim_mbox_cfg *cfg, struct mpt_sim_mbox **out);

/** Copy a middlebox's counters. */
MPT_API void mpt_sim_mbox_get_stats(const struct mpt_sim_mbox *mb, struct mpt_sim_mbox_stats *out);

/**
 * What an MPTCP_ATTACK box learnt and did.  "Initiator" and "listener" are
 * the two ends of the recorded MP_CAPABLE handshake (sender of the SYN and
 * of the SYN/ACK).
 */
struct mpt_sim_attack_stats {
	bool handshake;  /**< MP_CAPABLE SYN and SYN/ACK seen: roles and 4-tuple known */
	bool keys;       /**< both 64-bit keys recorded (RFC 8684 / RFC 6824 handshake) */
	bool ext;        /**< the handshake carried flag E (external keys): tokens, no keys */
	uint8_t version; /**< MPTCP version of the SYN/ACK */
	uint64_t key_initiator;   /**< when keys */
	uint64_t key_listener;    /**< when keys */
	uint32_t token_initiator; /**< from its key (RFC 8684 §3.1), or as carried with E */
	uint32_t token_listener;
	uint64_t idsn_initiator; /**< from its key; 0 with E */
	uint64_t idsn_listener;
	uint64_t join_syn_tx;         /**< forged MP_JOIN SYNs sent */
	uint64_t join_synack_rx;      /**< SYN/ACKs with MP_JOIN answering them */
	uint64_t join_synack_hmac_ok; /**< ... whose truncated HMAC matched the recorded keys */
	uint64_t join_ack_tx;         /**< third ACKs sent (full HMAC from the recorded keys) */
	uint64_t join_established;    /**< the listener acknowledged the third ACK */
	uint64_t join_rst_rx;         /**< RSTs from the listener on the forged subflow */
	uint64_t join_rx;             /**< packets to the forged subflow (taken off the path) */
	uint64_t fastclose_tx;        /**< forged MP_FASTCLOSE segments sent */
	uint64_t not_ready;           /**< triggers that found no handshake to forge from */
};

/**
 * Copy an MPTCP_ATTACK box's record and counters.  Returns 0 or
 * MPT_ERR_INVAL (NULL argument, or a box of another kind).
 */
MPT_API int mpt_sim_attack_get_stats(const struct mpt_sim_mbox *mb,
				     struct mpt_sim_attack_stats *out);

/** Set bit `kind` in a DROP_UNKNOWN_OPT allowed set. */
static inline void mpt_sim_opt_allow(uint64_t allowed[4], uint8_t kind)
{
	allowed[kind / 64] |= UINT64_C(1) << (kind % 64);
}

#ifdef __cplusplus
}
#endif
#endif /* MPT_SIM_H */
