/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one boundary between the stack (src/core) and its transports (today
 * the MPTCP layer, src/mptcp): what the stack offers a transport, and what
 * a transport offers the stack.  A transport includes this header, never
 * core/stack_int.h (tests/include_graph_test.sh checks it).
 *
 *   - struct mpt_flow: one TCP engine on one 4-tuple, hashed by the stack
 *     for demultiplexing; owned by a socket (plain TCP) or by an MPTCP
 *     subflow.
 *   - struct mpt_stack: the part of the stack a transport reads (its
 *     configuration, counters, clock, token table, policy registries); the
 *     rest is behind `core`.
 *   - struct mpt_sock is opaque: a transport attaches its connection to a
 *     socket with a table of operations (struct mpt_sock_ops) and talks to
 *     the socket through the functions below.  Plain TCP is one such table
 *     (core/sock_tcp.c); a connection that falls back to TCP at the
 *     handshake (RFC 8684 §3.7) switches to TCP's operations.
 *
 * Lifetime rule: nothing is freed inside an engine callback or while a
 * public entry point runs below another one (stack.c).
 */
#ifndef MPT_CORE_HOST_H
#define MPT_CORE_HOST_H

#include "cc/cc.h"
#include "common.h"
#include "mib.h"
#include "mptcp/dsbuf.h"
#include "mptcp/policy.h"
#include "tcp/tcp.h"
#include "wire/ip.h"

struct mpt_subflow;
struct mpt_stack_core;

/* A node of the stack's timer heap (core's: transports leave it alone). */
struct mpt_tnode {
	uint64_t at;                    /* deadline in the heap */
	size_t idx;                     /* heap slot, or SIZE_MAX when not in it */
	struct mpt_tnode *touched_next; /* on the list to look at again */
	struct mpt_tnode *due_next;     /* on the list of timers firing now */
	bool touched;
	bool due;
	bool is_sock; /* embedded in a struct mpt_sock (else a struct mpt_flow) */
};

struct mpt_flow {
	struct mpt_stack *st;
	struct mpt_endpoint local;
	struct mpt_endpoint remote;
	struct mpt_tcp *tcp;
	struct mpt_sock *sock;  /* plain TCP owner, or NULL */
	struct mpt_subflow *sf; /* MPTCP owner, or NULL */
	uint32_t iss;           /* our initial sequence number */
	bool hashed;
	bool tcp_closed;                    /* the engine reported EV_CLOSED */
	bool on_tw;                         /* on the stack's TIME-WAIT queue */
	struct mpt_flow *hnext;             /* 4-tuple hash chain */
	struct mpt_flow *tw_prev, *tw_next; /* TIME-WAIT queue, oldest first */
	struct mpt_flow *prev, *next;       /* all flows */
	struct mpt_tnode tn;                /* its engine's next deadline */
};

struct mpt_stack {
	struct mpt_stack_cfg cfg;
	const struct mpt_mem *mem;
	struct mpt_mib mib;
	struct mpt_cc_registry ccreg;
	const struct mpt_cc_ops *cc;
	struct mpt_policy_registry polreg; /* schedulers, path managers */
	struct mpt_tcp_cfg tcpcfg;
	struct mpt_token_table tokens; /* local MPTCP tokens -> connections */
	uint64_t now;                  /* time of the running entry point */
	/*
	 * How the passive open under way creates its state (set by the
	 * listener and the SYN-cookie path, read by flow creation, the ISN,
	 * the MPTCP key and the output; zero otherwise).
	 */
	struct {
		bool cookie;          /* rebuilt from a SYN cookie: the values below */
		bool mute;            /* swallow the engine's SYN-ACK (the cookie's went) */
		uint32_t iss;         /* our ISN = the cookie */
		uint32_t ts_offset;   /* timestamp offset the cookie's TSval used */
		uint64_t key;         /* MPTCP key the cookie's SYN-ACK carried */
		uint32_t syn_retries; /* SYN-ACK retransmissions (0: the default) */
	} pctx;
	struct mpt_stack_core *core; /* the stack's own state (stack_int.h) */
};

/*
 * A half-open MP_JOIN we answered (RFC 8684 §3.2): a small fixed-size
 * record in a per-stack table allocated once (mpt_stack_cfg.max_join_records),
 * instead of a subflow with a TCP engine.  Anyone who saw the handshake can
 * send join SYNs with the right token (RFC 7430 §2.2); a record costs no
 * allocation, and the subflow is created only once the third ACK's HMAC-A
 * checks out.  The stack fills the TCP part (mpt_stack_joinrec_new), the
 * MPTCP layer the rest.
 */
struct mpt_join_rec {
	struct mpt_endpoint local, remote;
	uint64_t created_at; /* when the first SYN arrived */
	uint64_t synack_at;  /* when our last SYN/ACK left */
	uint8_t synacks;     /* SYN/ACKs sent (Karn: one RTT sample only if 1) */
	uint32_t token;      /* our token: the connection is looked up again at the third ACK */
	uint8_t key_id;      /* external keys: the SYN's key id (K) */
	uint32_t nonce_remote, nonce_local; /* R_A, R_B */
	uint32_t iss, irs;                  /* our ISN, the peer's */
	uint32_t ts_offset;                 /* our timestamp clock's offset (RFC 7323 §5.4) */
	uint32_t peer_tsval;                /* the SYN's TSval */
	uint16_t mss;                       /* the peer's MSS option (0: none) */
	uint8_t wscale;                     /* the peer's window scale (0xff: none) */
	bool sack;                          /* SACK-permitted */
	bool ts;                            /* timestamps */
	uint16_t window;                    /* the SYN's window */
	uint8_t remote_id, local_id;        /* address ids */
	bool peer_backup, backup;           /* B flags: the peer's, ours */
	/* the table's (core) */
	bool used;
	uint32_t hnext, older, newer;
};

/**
 * The join record of (local, remote), or NULL (none, or expired: freed).
 */
struct mpt_join_rec *mpt_stack_joinrec_find(struct mpt_stack *st, const struct mpt_endpoint *local,
					    const struct mpt_endpoint *remote, uint64_t now);
/**
 * A new join record for SYN seg (received with ip): the 4-tuple, our ISN
 * and timestamp offset, the peer's ISN and TCP options filled in; the
 * MPTCP fields are the caller's.  NULL when the table is full of records
 * younger than the eviction age (counted: MPJoinRecFull).
 */
struct mpt_join_rec *mpt_stack_joinrec_new(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
					   const struct mpt_tcp_seg *seg, uint64_t now);
void mpt_stack_joinrec_free(struct mpt_stack *st, struct mpt_join_rec *r);
/** Send the SYN/ACK of record r with ext_len bytes of MPTCP options. */
int mpt_stack_joinrec_synack(struct mpt_stack *st, const struct mpt_join_rec *r, const uint8_t *ext,
			     size_t ext_len, uint64_t now);
/**
 * The SYN record r stands for (its TCP options as the peer sent them, no
 * MPTCP option), parsed into *syn over raw (cap bytes): what the engine
 * created at the third ACK accepts.
 */
int mpt_stack_joinrec_syn(const struct mpt_join_rec *r, uint8_t *raw, size_t cap,
			  struct mpt_tcp_seg *syn);
/**
 * The MPTCP layer's: an ACK (no SYN, no RST) with MPTCP options found no
 * flow.  When it is the third ACK of a join record, or carries MP_JOIN,
 * it is handled (*handled set: the subflow is created, or the ACK refused
 * with a RST and counted); else the caller answers as for any stray ACK.
 */
int mpt_mp_join_ack(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
		    const struct mpt_tcp_seg *seg, uint64_t now, bool *handled);

/* ---- the socket layer's operations ------------------------------------- */

/** What a Multipath TCP connection adds to a socket (RFC 6897). */
struct mpt_mptcp_sock_ops {
	bool (*enabled)(const struct mpt_sock *s);
	uint32_t (*conn_id)(const struct mpt_sock *s);
	int (*info)(const struct mpt_sock *s, struct mpt_mptcp_info *info);
	int (*set_backup)(struct mpt_sock *s, const struct mpt_addr *local, bool backup,
			  uint64_t now);
	int (*pm_event)(struct mpt_sock *s, struct mpt_pm_event *ev);
	/* mpt_sock_set_external_key */
	int (*set_ext_key)(struct mpt_sock *s, const uint8_t *key, size_t len, uint64_t now);
	/* a local address of the stack was added / removed */
	void (*local_added)(struct mpt_sock *s);
	void (*local_removed)(struct mpt_sock *s, const struct mpt_addr *a, uint8_t id,
			      uint64_t now);
	/* the external path-manager API (mpt.h mpt_pm_*) */
	int (*pm_open)(struct mpt_sock *s, const struct mpt_addr *local,
		       const struct mpt_endpoint *remote, bool backup, uint64_t now);
	int (*pm_close)(struct mpt_sock *s, const struct mpt_addr *local,
			const struct mpt_endpoint *remote, uint64_t now);
	int (*pm_announce)(struct mpt_sock *s, const struct mpt_addr *local);
	int (*pm_withdraw)(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now);
	int (*pm_remote)(const struct mpt_sock *s, struct mpt_endpoint *out, uint8_t *ids,
			 size_t max);
};

/**
 * A connection's operations.  Every hook is mandatory except mptcp (NULL:
 * not Multipath TCP) and run (NULL: nothing to do after an entry point).
 */
struct mpt_sock_ops {
	const char *name;
	long (*send)(struct mpt_sock *s, const void *data, size_t len, uint64_t now);
	long (*recv)(struct mpt_sock *s, void *buf, size_t len, uint64_t now);
	int (*shutdown)(struct mpt_sock *s, uint64_t now);
	void (*close)(struct mpt_sock *s, bool abort, uint64_t now);
	unsigned (*events)(const struct mpt_sock *s);
	/** The engine mpt_sock_info reports (NULL when none). */
	const struct mpt_tcp *(*info_tcp)(const struct mpt_sock *s);
	int (*subflows)(const struct mpt_sock *s, struct mpt_subflow_info *out, size_t max);
	/** Earliest deadline of the connection's own timers (flows excluded). */
	uint64_t (*deadline)(const struct mpt_sock *s);
	void (*on_timer)(struct mpt_sock *s, uint64_t now);
	/** Work marked with mpt_stack_sock_dirty, at the end of an entry point. */
	void (*run)(struct mpt_sock *s, uint64_t now);
	/** Nothing left running: the socket may be freed once closed. */
	bool (*finished)(const struct mpt_sock *s);
	/** Free the transport's state (the socket's flow is freed by the stack). */
	void (*release)(struct mpt_sock *s);
	/** The socket table is full: when nothing of the connection is left
	 *  but flows in TIME-WAIT, end them now (mpt_stack_flow_retire) and
	 *  return true; false leaves it alone.  NULL: never. */
	bool (*evict)(struct mpt_sock *s);
	const struct mpt_mptcp_sock_ops *mptcp;
};

/** Plain TCP over the socket's flow (core/sock_tcp.c). */
extern const struct mpt_sock_ops mpt_tcp_sock_ops;
/* Its operations one by one, for transports that fall back to TCP. */
long mpt_tcp_sock_send(struct mpt_sock *s, const void *data, size_t len, uint64_t now);
long mpt_tcp_sock_recv(struct mpt_sock *s, void *buf, size_t len, uint64_t now);
int mpt_tcp_sock_shutdown(struct mpt_sock *s, uint64_t now);
void mpt_tcp_sock_close(struct mpt_sock *s, bool abort, uint64_t now);
unsigned mpt_tcp_sock_events(const struct mpt_sock *s);
bool mpt_tcp_sock_evict(struct mpt_sock *s);
const struct mpt_tcp *mpt_tcp_sock_info_tcp(const struct mpt_sock *s);
int mpt_tcp_sock_subflows(const struct mpt_sock *s, struct mpt_subflow_info *out, size_t max);
uint64_t mpt_tcp_sock_deadline(const struct mpt_sock *s);
void mpt_tcp_sock_on_timer(struct mpt_sock *s, uint64_t now);
bool mpt_tcp_sock_finished(const struct mpt_sock *s);

/* ---- services of the stack for its transports (stack.c) ----------------- */

/**
 * Create a flow on local->remote (local->port 0: pick an ephemeral port),
 * owned by subflow sf, with the MPTCP extension hooks and congestion
 * control cc (NULL: the stack's), and hash it.  Returns 0, MPT_ERR_LIMIT
 * (no port) or MPT_ERR_NOMEM.
 */
int mpt_stack_flow_new(struct mpt_stack *st, const struct mpt_endpoint *local,
		       const struct mpt_endpoint *remote, struct mpt_subflow *sf,
		       const struct mpt_cc_ops *cc, struct mpt_flow **out);
/** Unhash and free a flow (never from inside its engine's callbacks). */
void mpt_stack_flow_free(struct mpt_stack *st, struct mpt_flow *f);
/** RFC 6528 ISN for a flow's 4-tuple (or the SYN cookie being rebuilt). */
uint32_t mpt_stack_flow_isn(struct mpt_stack *st, const struct mpt_flow *f, uint64_t now);
/**
 * Answer seg (received with IP header ip) with a RST carrying opt_len bytes
 * of TCP options (an MPTCP layer's MP_TCPRST, RFC 8684 §3.6), or none.
 */
void mpt_stack_send_rst(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, const uint8_t *opt, size_t opt_len);
/** Index of a in cfg.local, or -1. */
int mpt_stack_local_index(const struct mpt_stack *st, const struct mpt_addr *a);
/** A new socket for a passive open on listener l (counted in its backlog). */
int mpt_stack_child_new(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, struct mpt_sock **out);
/** Free a socket that never got going (no engine callbacks pending). */
void mpt_stack_sock_discard(struct mpt_stack *st, struct mpt_sock *s);

/** The stack socket s belongs to. */
struct mpt_stack *mpt_stack_of(const struct mpt_sock *s);
/** Attach a transport's connection to socket s (conn: its state). */
void mpt_stack_sock_attach(struct mpt_sock *s, const struct mpt_sock_ops *ops, void *conn);
/** The connection attached to s. */
void *mpt_stack_sock_conn(const struct mpt_sock *s);
/**
 * The connection gives way to plain TCP over flow f (RFC 8684 §3.7, at the
 * handshake): f becomes the socket's, the socket takes ops (TCP's data
 * path; conn stays attached for what ops report).  Safe inside f's engine
 * callbacks: the engine's later events go to the socket.
 */
void mpt_stack_sock_to_tcp(struct mpt_sock *s, struct mpt_flow *f, const struct mpt_sock_ops *ops);
/**
 * Queue events for the application (if it holds the handle); they reach
 * cfg.on_event at the end of the running mpt_stack_input/mpt_stack_on_timer
 * (mpt.h: "Events and re-entrancy").
 */
void mpt_stack_notify(struct mpt_sock *s, unsigned ev);
/** The handshake completed: queue a passive socket on its listener, or
 *  report CONNECTED to the application. */
void mpt_stack_sock_ready(struct mpt_sock *s);
/** Run s->ops->run at the end of the running entry point. */
void mpt_stack_sock_dirty(struct mpt_sock *s);
/** The connection failed with err (a negative mpt_err). */
void mpt_stack_sock_set_error(struct mpt_sock *s, int err);
/** The connection is over: the socket may be reaped once the application
 *  closed it. */
void mpt_stack_sock_done(struct mpt_sock *s);
/** Whether the handshake was reported (mpt_stack_sock_ready). */
bool mpt_stack_sock_established(const struct mpt_sock *s);
/** The connection now uses local endpoint local (a raced first subflow won). */
void mpt_stack_sock_set_local(struct mpt_sock *s, const struct mpt_endpoint *local);
/** s may be freed now: look at it at the end of the entry point. */
void mpt_stack_reap_later(struct mpt_sock *s);
/** End flow f (in TIME-WAIT) now: out of the 4-tuple hash, reported
 *  CLOSED to its owner (a SYN reuses the tuple, or the table is full). */
void mpt_stack_flow_retire(struct mpt_stack *st, struct mpt_flow *f);

#endif /* MPT_CORE_HOST_H */
