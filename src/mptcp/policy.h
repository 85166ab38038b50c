/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP policies as ops tables chosen by name: schedulers (which subflow
 * carries the next data) and path managers (which subflows exist, which
 * addresses are announced).  Each stack holds a registry filled with the
 * built-ins; registration rejects missing hooks and duplicate names.  A
 * connection picks its policies from its knobs (stack defaults, or
 * per-connection through mpt_connect_ex / the listener).
 *
 * Policies run inside the engine: no clock, no allocation, no randomness;
 * they read and write the connection state in mptcp.h and use the shared
 * helpers below.
 */
#ifndef MPT_MPTCP_POLICY_H
#define MPT_MPTCP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

struct mpt_mpconn;
struct mpt_subflow;
struct mpt_mptcp_add_addr;
struct mpt_map;

/** Scheduler. */
struct mpt_sched_ops {
	char name[MPT_POLICY_NAME_LEN];
	/**
	 * Hand queued data to subflows: reinjections first, then new data up
	 * to the peer's window edge (mpt_sched_next_chunk, mpt_sched_send).
	 * Called whenever the connection runs; must not loop without bound.
	 */
	void (*push)(struct mpt_mpconn *mp, uint64_t now);
};

/** Path manager. */
struct mpt_pm_ops {
	char name[MPT_POLICY_NAME_LEN];
	/** Open subflows / queue announcements; runs whenever the connection runs. */
	void (*run)(struct mpt_mpconn *mp, uint64_t now);
	/** A subflow ended without the connection asking (timeout, reset, refused join). */
	void (*sf_failed)(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now);
	/**
	 * An ADD_ADDR passed its checks (HMAC): true to remember it (it is
	 * echoed either way, RFC 8684 §3.4.1).
	 */
	bool (*accept_addr)(struct mpt_mpconn *mp, const struct mpt_mptcp_add_addr *a);
};

#define MPT_POLICY_REGISTRY_MAX 16
struct mpt_policy_registry {
	const struct mpt_sched_ops *sched[MPT_POLICY_REGISTRY_MAX];
	size_t nsched;
	const struct mpt_pm_ops *pm[MPT_POLICY_REGISTRY_MAX];
	size_t npm;
};

/** Fill a registry with the built-in schedulers and path managers. */
void mpt_policy_registry_init(struct mpt_policy_registry *r);
/**
 * Add a scheduler / path manager.  Returns 0, MPT_ERR_INVAL (a hook is
 * missing, the name is empty or not terminated), MPT_ERR_EXIST (duplicate
 * name) or MPT_ERR_LIMIT (registry full).
 */
int mpt_sched_register(struct mpt_policy_registry *r, const struct mpt_sched_ops *ops);
int mpt_pm_register(struct mpt_policy_registry *r, const struct mpt_pm_ops *ops);
/** Find by name ("" finds the default); NULL when unknown. */
const struct mpt_sched_ops *mpt_sched_find(const struct mpt_policy_registry *r, const char *name);
const struct mpt_pm_ops *mpt_pm_find(const struct mpt_policy_registry *r, const char *name);

/* Built-ins. */
extern const struct mpt_sched_ops mpt_sched_minrtt;
extern const struct mpt_sched_ops mpt_sched_rr;
extern const struct mpt_sched_ops mpt_sched_redundant;
extern const struct mpt_sched_ops mpt_sched_ecf;
extern const struct mpt_pm_ops mpt_pm_fullmesh;
extern const struct mpt_pm_ops mpt_pm_ndiffports;
extern const struct mpt_pm_ops mpt_pm_endpoints;
extern const struct mpt_pm_ops mpt_pm_mobility;
extern const struct mpt_pm_ops mpt_pm_none;

/* ---- scheduler helpers (sched.c) ---------------------------------------- */

/** A chunk of the data stream to (re)send. */
struct mpt_sched_chunk {
	uint64_t dsn, end; /**< [dsn, end), at most MPT_MP_MAP_MAX long */
	bool reinj;        /**< from the reinjection queue */
};

/**
 * The next chunk to send: the head of the reinjection queue, else new data
 * up to the window edge.  False when nothing may be sent now.
 */
bool mpt_sched_next_chunk(struct mpt_mpconn *mp, struct mpt_sched_chunk *c);
/** True when the subflow may carry data now (usable, not stale). */
bool mpt_sched_sf_ok(const struct mpt_subflow *sf);
/** True when either side flagged the subflow backup (RFC 8684 §3.3.8). */
bool mpt_sched_sf_backup(const struct mpt_subflow *sf);
/** True when a usable non-backup subflow exists (backups then stay idle). */
bool mpt_sched_have_regular(const struct mpt_mpconn *mp);
/**
 * Bytes the subflow can take now for a chunk of `want` bytes (0: none):
 * congestion-window room less what is already queued unsent, and room in
 * its send buffer; small room is refused so that mappings stay large.
 */
size_t mpt_sched_sf_room(const struct mpt_subflow *sf, size_t want);
/** The subflow whose unacknowledged mappings hold dsn (and the mapping), or NULL. */
struct mpt_subflow *mpt_sched_holder(struct mpt_mpconn *mp, uint64_t dsn,
				     const struct mpt_map **mo);
/**
 * True while a second copy of the mapping at DATA_ACK, sent by minrtt's
 * opportunistic reinjection or the head rescue, is still ahead of DATA_ACK
 * (mp->sched_opp_end in (DATA_ACK, snd_nxt]): no further copy then.
 */
bool mpt_sched_head_resent(const struct mpt_mpconn *mp);
/** Smoothed RTT of a subflow (a large value before the first sample). */
uint64_t mpt_sched_sf_srtt(const struct mpt_subflow *sf);
/**
 * Send [c->dsn, c->dsn + len) on sf as one mapping, and account for it
 * (snd_nxt, reinjection queue, DATA_FIN).  Returns bytes sent (0: nothing).
 */
size_t mpt_sched_send(struct mpt_mpconn *mp, struct mpt_subflow *sf,
		      const struct mpt_sched_chunk *c, size_t len, uint64_t now);
/**
 * The common loop: pick(mp, want, &room, now) chooses a subflow for each
 * chunk (NULL: stop for now).
 */
typedef struct mpt_subflow *(*mpt_sched_pick_fn)(struct mpt_mpconn *mp, size_t want, size_t *room,
						 uint64_t now);
void mpt_sched_push_loop(struct mpt_mpconn *mp, mpt_sched_pick_fn pick, uint64_t now);

/**
 * minrtt's choice for one chunk (sched_minrtt.c): the pick function of
 * mpt_sched_minrtt, without its window unblocking (opportunistic
 * reinjection, penalisation).  For variants and for tests that measure
 * what the unblocking is worth.
 */
struct mpt_subflow *mpt_sched_minrtt_pick(struct mpt_mpconn *mp, size_t want, size_t *room,
					  uint64_t now);

/* ---- path-manager helpers (pm.c) ---------------------------------------- */

/** Queue ADD_ADDRs for local addresses with any of `flags` (0: every one). */
void mpt_pm_announce_locals(struct mpt_mpconn *mp, uint8_t flags);
/** Make the next pure ACK carry pending ADD_ADDRs / echoes. */
void mpt_pm_flush(struct mpt_mpconn *mp);
/** True when another join may be opened (subflow and half-open limits). */
bool mpt_pm_can_open(const struct mpt_mpconn *mp);
/** Live subflows from local index li to remote slot ri (any port). */
size_t mpt_pm_pair_count(const struct mpt_mpconn *mp, size_t li, size_t ri);
/**
 * Open one join for each (local, remote) pair that want(li, ri) accepts
 * and that was not tried yet (a failed one is tried again after its
 * backoff).  Pairs with fresh addresses first.
 */
void mpt_pm_open_pairs(struct mpt_mpconn *mp, bool (*want)(struct mpt_mpconn *, size_t, size_t),
		       uint64_t now);
/** The default retry policy: a failed pair is tried again after a backoff. */
void mpt_pm_retry_later(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now);
/** Index of cfg.local holding the initial subflow's address (or -1). */
int mpt_pm_initial_local(const struct mpt_mpconn *mp);

#endif /* MPT_MPTCP_POLICY_H */
