/*
 * Stack internals shared by src/core/stack.c and the MPTCP connection layer
 * (src/mptcp).  Not installed.
 *
 * Objects:
 *   mpt_flow  one TCP engine on one 4-tuple (hashed for demux).  Its owner
 *             is either a plain-TCP socket (flow->sock) or an MPTCP subflow
 *             (flow->sf).
 *   mpt_sock  the application's handle (connection or listener).  A plain
 *             connection has one flow; an MPTCP one has an mpt_mpconn
 *             (which owns subflows, each owning a flow).
 *
 * Lifetime: nothing is freed inside engine callbacks or while a public
 * entry point is running below another one.  Every public entry point
 * brackets its work with stack_enter()/stack_leave(); the outermost leave
 * runs the MPTCP connections marked dirty and then reaps dead objects.
 */
#ifndef MPT_CORE_STACK_INT_H
#define MPT_CORE_STACK_INT_H

#include "cc/cc.h"
#include "common.h"
#include "mib.h"
#include "mptcp/dsbuf.h"
#include "mptcp/policy.h"
#include "tcp/tcp.h"
#include "wire/ip.h"

struct mpt_subflow;
struct mpt_mpconn;

struct mpt_flow {
	struct mpt_stack *st;
	struct mpt_endpoint local;
	struct mpt_endpoint remote;
	struct mpt_tcp *tcp;
	struct mpt_sock *sock;  /* plain TCP owner, or NULL */
	struct mpt_subflow *sf; /* MPTCP owner, or NULL */
	uint32_t iss;           /* our initial sequence number */
	bool hashed;
	bool tcp_closed;              /* the engine reported EV_CLOSED */
	struct mpt_flow *hnext;       /* 4-tuple hash chain */
	struct mpt_flow *prev, *next; /* all flows */
};

struct mpt_sock {
	struct mpt_stack *st;
	struct mpt_endpoint local;
	struct mpt_endpoint remote;
	struct mpt_flow *flow; /* plain TCP: the flow (NULL for listeners / MPTCP) */
	struct mpt_mpconn *mp; /* MPTCP connection (also after fallback) */
	void *user;
	int err;
	bool listener;
	bool app_owned;   /* the application holds a handle (connect/accept) */
	bool app_closed;  /* the application called close/abort */
	bool tcp_closed;  /* connection finished (plain: engine CLOSED; MPTCP: conn closed) */
	bool established; /* handshake done */
	bool queued;      /* passive: put on the listener's accept queue */
	struct mpt_sock *parent;      /* listener, while not yet accepted */
	struct mpt_sock *prev, *next; /* all sockets */
	struct mpt_sock *qnext;       /* listener accept queue */
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

struct mpt_stack {
	struct mpt_stack_cfg cfg;
	const struct mpt_mem *mem;
	struct mpt_mib mib;
	struct mpt_cc_registry ccreg;
	const struct mpt_cc_ops *cc;
	struct mpt_policy_registry polreg; /* schedulers, path managers */
	struct mpt_tcp_cfg tcpcfg;
	uint8_t isn_secret[16];
	uint64_t hash_seed;
	struct mpt_flow **htab;
	size_t hmask;
	struct mpt_sock *all;   /* sockets */
	struct mpt_flow *flows; /* flows */
	uint32_t nsocks;
	uint16_t ip_id;
	uint16_t next_port;
	bool reap_pending;
	unsigned depth;           /* nesting of public entry points */
	uint64_t now;             /* time of the running entry point */
	struct mpt_mpconn *dirty; /* MPTCP connections with work to do */
	/* Application events queued by mpt_stack_notify, delivered by
	 * deliver_events() at the end of mpt_stack_input / mpt_stack_on_timer
	 * (never from inside a socket call: issue 10, relays were re-entered
	 * in the middle of their own mpt_recv). */
	struct mpt_sock *ev_head, *ev_tail;
	struct mpt_token_table tokens; /* local tokens -> mpt_mpconn */
	uint8_t scratch[MPT_TCP_HEADROOM + MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN];
	/*
	 * How the passive open under way creates its state (set by
	 * passive_open and the SYN-cookie path, read by flow creation, the
	 * ISN, the MPTCP key and flow_output; zero otherwise).
	 */
	struct {
		bool cookie;          /* rebuilt from a SYN cookie: the values below */
		bool mute;            /* swallow the engine's SYN-ACK (the cookie's went) */
		uint32_t iss;         /* our ISN = the cookie */
		uint32_t ts_offset;   /* timestamp offset the cookie's TSval used */
		uint64_t key;         /* MPTCP key the cookie's SYN-ACK carried */
		uint32_t syn_retries; /* SYN-ACK retransmissions (0: the default) */
	} pctx;
};

/* ---- services of the stack for the MPTCP layer (stack.c) ---------------- */

/**
 * Create a flow on local->remote (local->port 0: pick an ephemeral port),
 * owned by subflow sf, with the MPTCP extension hooks, and hash it.
 * Returns 0, MPT_ERR_LIMIT (no port) or MPT_ERR_NOMEM.
 */
int mpt_stack_flow_new(struct mpt_stack *st, const struct mpt_endpoint *local,
		       const struct mpt_endpoint *remote, struct mpt_subflow *sf,
		       struct mpt_flow **out);
/** Unhash and free a flow (never from inside its engine's callbacks). */
void mpt_stack_flow_free(struct mpt_stack *st, struct mpt_flow *f);
/** RFC 6528 ISN for a flow's 4-tuple. */
uint32_t mpt_stack_flow_isn(struct mpt_stack *st, const struct mpt_flow *f, uint64_t now);
/**
 * Answer seg (received with IP header ip) with a RST carrying opt_len bytes
 * of TCP options (an MPTCP layer's MP_TCPRST, RFC 8684 §3.6), or none.
 */
void mpt_stack_send_rst(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, const uint8_t *opt, size_t opt_len);
/**
 * Queue events for the application (if it holds the handle); they reach
 * cfg.on_event at the end of the running mpt_stack_input/mpt_stack_on_timer
 * (mpt.h: "Events and re-entrancy").
 */
void mpt_stack_notify(struct mpt_sock *s, unsigned ev);
/** A passive connection completed its handshake: queue it on its listener. */
void mpt_stack_sock_ready(struct mpt_sock *s);
/** Queue conn for mpt_mp_run at the end of the running entry point. */
void mpt_stack_mark_dirty(struct mpt_stack *st, struct mpt_mpconn *mp);
/** A new socket for a passive open on listener l (counted in its backlog). */
int mpt_stack_child_new(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
			const struct mpt_tcp_seg *seg, struct mpt_sock **out);
/** Free a socket that never got going (no engine callbacks pending). */
void mpt_stack_sock_discard(struct mpt_stack *st, struct mpt_sock *s);
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

/** Index of a in cfg.local, or -1. */
int mpt_stack_local_index(const struct mpt_stack *st, const struct mpt_addr *a);

#endif /* MPT_CORE_STACK_INT_H */
