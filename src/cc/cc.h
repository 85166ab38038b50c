/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Congestion control as an ops table (one file per algorithm, chosen by
 * name).  The TCP engine owns a struct mpt_cc per connection, reads cwnd and
 * ssthresh from it, and calls the hooks on the events below.  All window
 * values are in bytes.  Algorithms never call a clock: `now` is passed in.
 */
#ifndef MPT_CC_CC_H
#define MPT_CC_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MPT_CC_NAME_MAX   16
#define MPT_CC_PRIV_WORDS 16 /* private state per connection, in uint64_t */

/*
 * Largest cwnd/ssthresh the built-in algorithms ever produce (an ssthresh of
 * UINT32_MAX still means "infinite").  Half the uint32_t range leaves the
 * engine headroom for sums such as cwnd + MSS without overflow.
 */
#define MPT_CC_CWND_MAX (UINT32_MAX / 2)

struct mpt_cc_ops;

/** Per-connection congestion state (embedded in the TCP engine). */
struct mpt_cc {
	const struct mpt_cc_ops *ops;
	uint32_t cwnd;       /**< congestion window, bytes */
	uint32_t ssthresh;   /**< slow-start threshold, bytes (UINT32_MAX = infinite) */
	uint32_t mss;        /**< sender MSS (SMSS), bytes */
	uint64_t srtt_ns;    /**< smoothed RTT as the engine sees it (0 = none yet) */
	uint64_t min_rtt_ns; /**< smallest RTT sample seen (0 = none yet) */
	/** When new data was last cumulatively acknowledged (0 = never); set
	 * by the engine.  Coupled algorithms count only members acknowledged
	 * lately (an idle backup subflow takes no capacity). */
	uint64_t last_ack_ns;
	void *coupling; /**< for coupled algorithms (MPTCP): the connection group */
	uint64_t priv[MPT_CC_PRIV_WORDS]; /**< algorithm-private state */
};

/** What an incoming ACK did. */
struct mpt_cc_ack {
	uint64_t now;
	uint32_t acked;     /**< bytes newly cumulatively acknowledged (and SACKed, if any) */
	uint32_t in_flight; /**< bytes in flight before this ACK (RFC 6675 pipe) */
	uint64_t rtt_ns;    /**< RTT sample from this ACK, 0 if none (Karn) */
	bool in_recovery;   /**< engine is in fast recovery */
	bool app_limited;   /**< sender did not fill cwnd (RFC 7661 hint) */
};

/** Congestion-control algorithm. Every hook is mandatory. */
struct mpt_cc_ops {
	char name[MPT_CC_NAME_MAX];
	/** Set initial cwnd (RFC 5681 §3.1 IW) and ssthresh. */
	void (*init)(struct mpt_cc *cc, uint64_t now);
	/**
	 * New data acknowledged outside recovery (slow start / avoidance).
	 * The built-ins do not grow cwnd when ack->in_recovery or
	 * ack->app_limited is set (RFC 7661, RFC 9438 §5.8), and treat any
	 * call as "new data ACKed" for the repeated-RTO rule of on_rto.
	 */
	void (*on_ack)(struct mpt_cc *cc, const struct mpt_cc_ack *ack);
	/** Loss detected by dupacks/SACK: set ssthresh and cwnd for recovery. */
	void (*on_loss)(struct mpt_cc *cc, uint32_t in_flight, uint64_t now);
	/** Recovery finished (RFC 6582 full ACK): deflate cwnd. */
	void (*on_recovery_exit)(struct mpt_cc *cc, uint64_t now);
	/**
	 * Retransmission timeout (RFC 5681 §3.1 eqn 4, cwnd = 1 MSS).  Call it
	 * on every expiry: a repeated timeout with no on_ack in between keeps
	 * ssthresh (the segment was already retransmitted by the timer).
	 */
	void (*on_rto)(struct mpt_cc *cc, uint32_t in_flight, uint64_t now);
	/** Connection idle longer than an RTO (RFC 5681 §4.1 restart). */
	void (*on_idle)(struct mpt_cc *cc, uint64_t now);
};

/** A small registry of algorithms, looked up by name. */
#define MPT_CC_REGISTRY_MAX 16
struct mpt_cc_registry {
	const struct mpt_cc_ops *ops[MPT_CC_REGISTRY_MAX];
	size_t n;
};

/** Fill a registry with the built-in algorithms (reno, cubic, lia, olia, balia). */
void mpt_cc_registry_init(struct mpt_cc_registry *r);
/**
 * Add an algorithm.  Returns MPT_ERR_INVAL when a hook is missing or the
 * name is empty/unterminated, MPT_ERR_EXIST on a duplicate name,
 * MPT_ERR_LIMIT when full.
 */
int mpt_cc_register(struct mpt_cc_registry *r, const struct mpt_cc_ops *ops);
/** Find by name; NULL if absent. */
const struct mpt_cc_ops *mpt_cc_find(const struct mpt_cc_registry *r, const char *name);

/** Built-in algorithms. */
extern const struct mpt_cc_ops mpt_cc_reno;
extern const struct mpt_cc_ops mpt_cc_cubic;
/** Coupled algorithms for MPTCP subflows (use a struct mpt_cc_group). */
extern const struct mpt_cc_ops mpt_cc_lia;   /* RFC 6356 Linked Increases */
extern const struct mpt_cc_ops mpt_cc_olia;  /* Khalili et al., ToN 2013 */
extern const struct mpt_cc_ops mpt_cc_balia; /* Peng et al., ToN 2016 */

/*
 * Coupling group: the subflows of one MPTCP connection whose congestion
 * windows are coupled (RFC 6356 §3).  The group is owned by the MPTCP
 * connection (embedded in it, no allocation); it must outlive the
 * membership of every member, i.e. the connection calls
 * mpt_cc_group_leave() for each subflow before the group goes away, and a
 * subflow leaves before its struct mpt_cc is freed or moved.
 *
 * Joining sets cc->coupling = group; the coupled algorithms (lia, olia,
 * balia) then read the other members' cwnd and srtt_ns straight from their
 * struct mpt_cc at every ACK (the engine keeps srtt_ns up to date).  A
 * member without an RTT sample yet (srtt_ns == 0) or with cwnd == 0 does not
 * count.  Uncoupled algorithms (reno, cubic) ignore the group, and a member
 * alone in its group behaves exactly like reno.  Members may run different
 * algorithms; each coupled one only uses the common fields of the others.
 */
#define MPT_CC_GROUP_MAX 16
struct mpt_cc_group {
	struct mpt_cc *member[MPT_CC_GROUP_MAX]; /**< members, in join order */
	uint32_t n;                              /**< number of members */
};

/** Make an empty group. */
void mpt_cc_group_init(struct mpt_cc_group *g);
/**
 * Add a subflow's congestion state to the group and set cc->coupling.
 * Returns 0, MPT_ERR_INVAL on NULL arguments, MPT_ERR_EXIST when cc is
 * already a member, MPT_ERR_STATE when cc->coupling points to another
 * group (leave that one first), MPT_ERR_LIMIT when the group already has
 * MPT_CC_GROUP_MAX members.
 */
int mpt_cc_group_join(struct mpt_cc_group *g, struct mpt_cc *cc);
/**
 * Remove cc (subflow closed): it no longer counts for the others, and
 * cc->coupling is cleared if it pointed to g.  Leaving a group one is not a
 * member of (or NULL arguments) is a no-op.
 */
void mpt_cc_group_leave(struct mpt_cc_group *g, struct mpt_cc *cc);

/**
 * Start an algorithm on a connection: sets ops and mss, clears priv, cwnd and
 * ssthresh, then calls ops->init.  srtt_ns, min_rtt_ns and coupling are left
 * as the engine set them (so switching algorithms keeps RTT state).  A NULL
 * ops selects reno; an mss of 0 selects 536 (RFC 9293 §3.7.1 default SMSS).
 * Hooks clamp the MSS they use to 1..65535.
 */
void mpt_cc_start(struct mpt_cc *cc, const struct mpt_cc_ops *ops, uint32_t mss, uint64_t now);

/** RFC 6928 initial window for a sender MSS: min(10*MSS, max(2*MSS, 14600)) bytes. */
uint32_t mpt_cc_initial_window(uint32_t mss);

#endif /* MPT_CC_CC_H */
