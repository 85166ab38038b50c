/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stack's own state, shared by the files of src/core (stack.c: entry
 * points, demultiplexing, timers, events; sock.c: the socket API;
 * sock_tcp.c: plain TCP; syncookie.c).  Not for transports: they see the
 * stack through core/host.h.
 *
 * Objects:
 *   mpt_flow  one TCP engine on one 4-tuple (host.h)
 *   mpt_sock  the application's handle (connection or listener): a
 *             connection has a table of operations (plain TCP over its
 *             flow, or a transport's connection such as MPTCP's)
 *
 * Lifetime: nothing is freed inside engine callbacks or while a public
 * entry point is running below another one.  Every public entry point
 * brackets its work with mpt_stack_enter()/mpt_stack_leave(); the outermost leave
 * runs the sockets marked dirty and then reaps dead objects.
 */
#ifndef MPT_CORE_STACK_INT_H
#define MPT_CORE_STACK_INT_H

#include "core/host.h"

struct mpt_sock {
	struct mpt_stack *st;
	struct mpt_endpoint local;
	struct mpt_endpoint remote;
	const struct mpt_sock_ops *ops; /* connections: how it works */
	void *conn;                     /* the transport's connection (ops) */
	struct mpt_flow *flow;          /* plain TCP (also after fallback): the flow */
	void *user;
	int err;
	bool listener;
	bool app_owned;   /* the application holds a handle (connect/accept) */
	bool app_closed;  /* the application called close/abort */
	bool tcp_closed;  /* connection finished (plain: engine CLOSED; MPTCP: conn closed) */
	bool established; /* handshake done */
	bool queued;      /* passive: put on the listener's accept queue */
	bool evicted;     /* its TIME-WAIT was cut short: no longer counted */
	bool reap_queued; /* on the stack's reap list */
	struct mpt_sock *reap_prev, *reap_next;
	struct mpt_sock *parent;      /* listener, while not yet accepted */
	struct mpt_sock *prev, *next; /* all sockets */
	struct mpt_sock *lnext;       /* listeners: the stack's list of them */
	struct mpt_sock *qnext;       /* listener accept queue */
	struct mpt_tnode tn;          /* the connection's own next deadline (ops->deadline) */
	/* marked for ops->run at the end of the entry point */
	bool on_dirty;
	struct mpt_sock *dirty_next;
	/* Events waiting for delivery (see deliver_events in stack.c). */
	unsigned ev_pending;
	bool ev_queued;
	struct mpt_sock *ev_next;
	/* listener only */
	uint32_t backlog;
	uint32_t nchildren;    /* half-open + queued */
	uint32_t nqueued;      /* established, waiting for mpt_accept */
	uint64_t cookie_until; /* SYN cookies were sent: ACKs are checked until then */
	struct mpt_sock *qhead, *qtail;
};

struct mpt_stack_core {
	uint8_t isn_secret[16];
	uint64_t hash_seed;
	struct mpt_flow **htab;
	size_t hmask;
	struct mpt_sock *all; /* sockets */
	/* Listeners apart: a SYN (or an ACK for no connection) looks for its
	 * listener without walking every connection (issue 13). */
	struct mpt_sock *listeners;
	struct mpt_flow *flows; /* flows */
	uint32_t nsocks;
	uint16_t ip_id;
	uint16_t next_port;
	/* Sockets that may have become dead, looked at by stack_reap at the
	 * end of the entry point (not every socket of the stack: issue 13). */
	struct mpt_sock *reap;
	/* Flows in TIME-WAIT, oldest first, and the sockets whose TIME-WAIT
	 * was cut short for a new one (freed at the next reap, not counted
	 * against cfg.max_socks any more): see tw_evict in stack.c. */
	struct mpt_flow *tw_head, *tw_tail;
	uint32_t nevicted;
	unsigned depth;         /* nesting of public entry points */
	struct mpt_sock *dirty; /* sockets with work to do (ops->run) */
	/* Application events queued by mpt_stack_notify, delivered by
	 * deliver_events() at the end of mpt_stack_input / mpt_stack_on_timer
	 * (never from inside a socket call: issue 10, relays were re-entered
	 * in the middle of their own mpt_recv). */
	struct mpt_sock *ev_head, *ev_tail;
	uint8_t scratch[MPT_TCP_HEADROOM + MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN];
	/* Every flow's and connection's next deadline in a binary min-heap,
	 * refreshed at the end of each entry point for the ones touched: the
	 * next deadline is the top, timers cost O(log n) each, nothing scans
	 * every connection (issue 13). */
	struct mpt_tnode **heap;
	size_t heap_n, heap_cap;
	struct mpt_tnode *touched; /* to look at again at the end of the entry point */
	struct mpt_tnode *due;     /* taken out of the heap, to fire in this round */
	bool heap_nomem;           /* the heap could not grow: scan instead */
	uint8_t *obuf;             /* every engine's output buffer (struct mpt_tcp_cfg.obuf) */
	size_t obuf_cap;
	/* Half-open MP_JOINs received (host.h struct mpt_join_rec;
	 * syncookie.c): cap records allocated at creation, a 4-tuple hash
	 * (jr_hash: first index of each chain), a free list and a list by
	 * age (jr_oldest .. jr_newest) for expiry and eviction. */
	struct mpt_join_rec *jr;
	uint32_t *jr_hash;
	uint32_t jr_cap, jr_hmask, jr_n;
	uint32_t jr_free, jr_oldest, jr_newest;
};

/* ---- stack.c ----------------------------------------------------------- */

/* Bracket a public entry point (see the lifetime rule above). */
void mpt_stack_enter(struct mpt_stack *st, uint64_t now);
void mpt_stack_leave(struct mpt_stack *st);
/* A new socket, counted against cfg.max_socks (NULL when over it). */
struct mpt_sock *mpt_stack_sock_new(struct mpt_stack *st);
void mpt_stack_sock_free(struct mpt_stack *st, struct mpt_sock *s);
/* Make s (fresh from mpt_stack_sock_new) a listener. */
void mpt_stack_listener_add(struct mpt_stack *st, struct mpt_sock *s);
/* Take s off its listener's accept queue. */
void mpt_stack_queue_remove(struct mpt_sock *l, struct mpt_sock *s);
/* Create and hash a plain TCP flow for socket s. */
struct mpt_flow *mpt_stack_tcp_flow(struct mpt_stack *st, struct mpt_sock *s, uint64_t now);
/* Whether a is one of our addresses; the first local address of a family. */
bool mpt_stack_is_local(const struct mpt_stack *st, const struct mpt_addr *a);
const struct mpt_addr *mpt_stack_pick_local(const struct mpt_stack *st, uint8_t family);
/* An ephemeral port for (la, any, remote), or 0. */
uint16_t mpt_stack_pick_port(struct mpt_stack *st, const struct mpt_addr *la,
			     const struct mpt_endpoint *remote);
/* Valid scheduler / path-manager / congestion-control names in k. */
bool mpt_stack_knobs_names_ok(const struct mpt_stack *st, const struct mpt_mptcp_knobs *k);
/**
 * Output a TCP segment (header + payload at tcp, len bytes, with room for
 * the IP header before it) from src to dst: checksum, IP header, cfg.output.
 */
void mpt_stack_emit(struct mpt_stack *st, const struct mpt_addr *src, const struct mpt_addr *dst,
		    uint8_t *tcp, size_t len);
/**
 * Create the state of a passive open for SYN seg on listener l (plain TCP
 * or MPTCP), with st->pctx applied.  Returns 0 or a negative error.
 */
int mpt_stack_passive_state(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
			    const struct mpt_tcp_seg *seg, uint64_t now);
/** The flow on (local, remote), or NULL. */
struct mpt_flow *mpt_stack_lookup(const struct mpt_stack *st, const struct mpt_endpoint *local,
				  const struct mpt_endpoint *remote);

/* Timer heap: node n's deadline may have changed (looked at when the
 * running entry point ends). */
void mpt_stack_touch(struct mpt_stack *st, struct mpt_tnode *n);

/* ---- sock_tcp.c ---------------------------------------------------------- */

/* A plain TCP flow's engine event, as socket events. */
void mpt_tcp_sock_event(struct mpt_sock *s, struct mpt_flow *f, enum mpt_tcp_event ev);

/* ---- SYN cookies (syncookie.c) ----------------------------------------- */

/** Answer SYN seg for listener l with a SYN cookie (no state kept). */
int mpt_syncookie_send(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
		       const struct mpt_tcp_seg *seg, uint64_t now);
/**
 * seg (ACK, no SYN/RST) matches no connection but listener l: when it
 * carries a valid cookie, create the connection and hand it seg.
 * Returns 0 when it did, MPT_ERR_NOTFOUND when seg carries no valid cookie
 * (the caller answers as for any stray segment), MPT_ERR_LIMIT (accept
 * queue full: dropped silently, the peer retransmits) or another error.
 */
int mpt_syncookie_ack(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
		      const struct mpt_tcp_seg *seg, uint64_t now);

/* ---- join records (syncookie.c) ---------------------------------------- */

/** Allocate the join-record table (cfg.max_join_records); 0 or MPT_ERR_NOMEM. */
int mpt_joinrec_init(struct mpt_stack *st);
void mpt_joinrec_fini(struct mpt_stack *st);
/** Records in use (the ACK dispatch looks for one only then). */
uint32_t mpt_joinrec_count(const struct mpt_stack *st);

#endif /* MPT_CORE_STACK_INT_H */
