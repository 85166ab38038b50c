/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MPTCP connection layer (RFC 8684 v1, RFC 6824 v0): connections,
 * subflows, the default path manager (fullmesh) and scheduler (minrtt).
 * Internal header of the src/mptcp files (the stack sees mptcp/transport.h).
 *
 * Files (src/mptcp/):
 *   conn.c        connection: handshake state, data path (DATA_ACK, DATA_FIN),
 *                 socket API, the run loop in named phases, timers, info
 *   options.c     the MPTCP options of a segment: parsed once into struct
 *                 mpt_mp_opts; written on every outgoing segment
 *   input.c       what a received segment's options do, in named stages
 *   subflow.c     subflow life, received mappings, draining into the
 *                 data-level buffer, engine events
 *   pm.c          path-manager machinery: address ids, joins, ADD_ADDR
 *   pm_policies.c the path managers by name (fullmesh, ndiffports, ...)
 *   sched.c       scheduler machinery: chunks, reinjection, window edge
 *   sched_*.c     the schedulers by name (minrtt, rr, redundant, ecf)
 *   policy.c      the registry of schedulers and path managers
 *   sock.c        the socket operations of a connection, and of one that
 *                 fell back to TCP at the handshake
 *   drcv.c dsnd.c map.c token.c   data-level buffers, mapping lists, tokens
 *
 * Design notes: docs/mptcp-design.md.
 */
#ifndef MPT_MPTCP_MPTCP_H
#define MPT_MPTCP_MPTCP_H

#include "core/host.h"
#include "crypto/crypto.h"
#include "mptcp/dsbuf.h"
#include "mptcp/policy.h"
#include "mptcp/transport.h"
#include "wire/mptcp.h"

/* Largest mapping we create (the data-level length field is 16 bits). */
#define MPT_MP_MAP_MAX   65000u
/* Scratch buffer: the largest mapping a peer can send (16-bit data-level
 * length, RFC 8684 §3.3); Linux sends mappings of up to 65320 bytes. */
#define MPT_MP_SCRATCH   65535u
#define MPT_MP_MAX_SF    32 /* hard cap on subflows per connection */
#define MPT_MP_MAX_ADDRS 16 /* remote addresses remembered per connection */
#define MPT_MP_REINJ_MAX 64 /* pending reinjection ranges */
#define MPT_MP_PMQ       32 /* queued path-manager events */

enum mpt_sf_join {
	MPT_SF_INITIAL = 0, /* the MP_CAPABLE subflow */
	MPT_SF_JOIN_SYN,    /* join: SYN sent (initiator) / received (listener) */
	MPT_SF_JOIN_ACK,    /* initiator: third ACK sent, waiting for the fourth */
	MPT_SF_JOIN_DONE,   /* join complete: usable for data */
};

/* A received mapping (subflow bytes [ssn, ssn+len) -> data [dsn, ...)). */
struct mpt_rmap {
	uint64_t dsn;
	uint32_t ssn; /* relative */
	uint32_t len; /* payload bytes (the DATA_FIN is not counted) */
	uint16_t csum;
	bool has_csum;
	bool data_fin;
};

struct mpt_subflow {
	struct mpt_mpconn *mp;
	struct mpt_flow *flow; /* NULL once freed */
	uint8_t idx;
	uint8_t join;         /* enum mpt_sf_join */
	bool passive;         /* we accepted it */
	bool established;     /* TCP handshake done */
	bool closed;          /* engine CLOSED */
	bool dead;            /* failed / removed: no more data, reinjected */
	bool backup;          /* our B flag */
	bool peer_backup;     /* peer's B flag */
	bool stale;           /* retransmission timeouts without progress */
	bool fin_sent;        /* subflow close started */
	bool mpc_ack_pending; /* v1/v0 initiator: send MP_CAPABLE on the third ACK */
	uint8_t local_id, remote_id;
	uint8_t reset_reason; /* MP_TCPRST reason for a pending reset */
	bool reset_pending;
	bool ack_due;      /* send a pure ACK soon (fourth ACK, DATA_ACK of a DATA_FIN) */
	bool reinjected;   /* its data was queued for other subflows */
	int err;           /* engine error that ended it */
	uint32_t iss, irs; /* initial sequence numbers (relative SSN base) */
	uint32_t nonce_local, nonce_remote;
	uint32_t last_rto_count;
	uint64_t last_bytes_acked;
	uint64_t bytes_received;
	struct mpt_maplist tx; /* sent mappings, subflow order */
	/* Owned mappings in tx (payload read from the data-level buffer);
	 * their DSNs grow in subflow order, from after own_end on. */
	size_t n_owned;
	uint64_t own_end;    /* DSN after the newest owned mapping */
	uint32_t own_ssn;    /* the oldest owned mapping's ssn (n_owned > 0) */
	struct mpt_rmap *rx; /* received mappings, sorted by ssn */
	/* Where the last mapped bytes taken from this subflow ended, in
	 * subflow (relative) and data sequence space (rx_last_ok: any). */
	uint32_t rx_last_ssn;
	uint64_t rx_last_dsn;
	bool rx_last_ok;
	size_t rx_n, rx_cap;
	/* A mapping found no room (mpt_sf_rmap_add): its bytes, up to
	 * rx_lost_end (relative), are discarded as they are read. */
	uint32_t rx_lost_end;
	bool rx_lost;
	uint8_t syn_tx;       /* SYNs (SYN/ACKs if passive) written with MP_CAPABLE */
	bool mpc_off;         /* listener: SYN/ACKs go without MP_CAPABLE (blackhole) */
	bool nomap;           /* data arrived without a DSS mapping (RFC 8684 §3.7) */
	bool prio_pending;    /* MP_PRIO to write on the next pure ACK */
	bool fin_turn;        /* next pure ACK: the bare DATA_FIN, not the repeated third ACK */
	bool removed;         /* closed by REMOVE_ADDR / local address removal: no retry */
	bool rst_rx;          /* the peer reset it */
	uint8_t rst_rx_flags; /* MP_TCPRST flags the peer sent (T: transient) */
	uint8_t rst_rx_reason;
	bool rst_opt_rx; /* that RST carried MP_TCPRST */
	bool was_done;   /* its join completed (or it was the initial subflow) */
	/* A join we opened: its first mapping must start at join_pin_dsn,
	 * the DATA_ACK of the fourth ACK, until DATA_ACK moves past it
	 * (sched.c join_first). */
	bool join_pin;
	uint64_t join_pin_dsn;
	/* scheduler state (meaning up to the scheduler) */
	uint64_t sched_t;      /* minrtt: last penalisation */
	uint64_t sched_dsn;    /* redundant: next DSN for this subflow */
	bool sched_dsn_set;    /* redundant: sched_dsn is valid */
	bool race;             /* a raced initial subflow (MP_CAPABLE, not the first) */
	uint64_t progress_at;  /* last ACK progress, or when nothing was outstanding */
	uint32_t last_unacked; /* bytes outstanding as the previous step ended */
	bool local_gone;       /* closed because our address was removed */
	uint64_t created_at;   /* passive joins: when the SYN arrived */
	/* what our RSTs on this subflow carry (written by options.c) */
	bool rst_opt; /* MP_TCPRST with rst_reason (RFC 8684 §3.6) */
	uint8_t rst_reason;
	bool rst_fail; /* MP_FAIL with rst_fail_dsn (§3.7) */
	uint64_t rst_fail_dsn;
	bool rst_fastclose; /* MP_FASTCLOSE with the peer's key (§3.5) */
	uint8_t ek_kid;     /* external keys: the key id of this join's HMACs */
};

/*
 * External keys (draft-baerts-tcpm-mptcpext-00, extkey.c; state machine in
 * docs/external-keys.md): two key slots named by the key id K.  Generation
 * n lives in slot n mod 2; the newest active key is generation gens - 1,
 * the other slot holds the pending key (its NEW_KEY not yet confirmed) or
 * the previous one, still accepted on received options.
 */
struct mpt_ek_slot {
	uint8_t key[MPT_EXTKEY_KEY_MAX];
	uint8_t len; /* 0: empty */
};

struct mpt_ek {
	bool on;       /* negotiated: flag E on the handshake's MP_CAPABLEs */
	uint32_t gens; /* keys that became active (0: none yet) */
	struct mpt_ek_slot slot[2];
	bool pending;   /* slot[gens % 2] holds a key not yet confirmed */
	bool tx_due;    /* our NEW_KEY goes on the next pure ACK */
	bool auto_done; /* the configured key (knob ext_key) was installed */
	uint8_t tries;
	uint64_t rto, rtx_at;
	/* The peer's latest NEW_KEY that matched no installed key: checked
	 * again when the application installs one (the peer may install its
	 * key first, and stops sending once it has ours). */
	bool early;
	uint8_t early_k;
	uint8_t early_hmac[MPT_EXTKEY_HMAC_LEN];
};

/* An address known for the peer (initial, or from ADD_ADDR). */
struct mpt_raddr {
	struct mpt_addr addr;
	uint16_t port; /* 0: the connection's port */
	uint8_t id;
	bool usable; /* may open subflows to it (not the C-flagged initial one) */
};

/* An ADD_ADDR we are announcing (listener side of the default PM). */
struct mpt_ann {
	struct mpt_addr addr;
	uint8_t id;
	bool echoed;
	bool pending; /* to be written on the next segment with room */
	uint8_t tries;
	uint64_t rtx_at;
};

struct mpt_mpconn {
	struct mpt_stack *st;
	struct mpt_sock *sock;      /* our socket (opaque: core/host.h) */
	struct mpt_endpoint local;  /* the connection's endpoints (the */
	struct mpt_endpoint remote; /* initial subflow's) */
	struct mpt_mptcp_knobs k;
	bool passive;
	uint8_t version;        /* negotiated (offered until the SYN/ACK) */
	bool csum;              /* DSS checksums in use (A flag from either side) */
	bool peer_c;            /* peer set flag C */
	bool fallback;          /* plain TCP on subflows[0] */
	bool keys_known;        /* both keys known */
	bool fully_established; /* RFC 8684 §3.1: the peer is known to have our keys */
	bool dack_sent;         /* a DSS with a DATA_ACK went out (see mpt_mp_join_syn) */
	bool established;       /* initial subflow established (reported CONNECTED) */
	bool closed;            /* data-level close done / aborted: notified CLOSED */
	bool error_notified;
	bool in_run, again;
	uint64_t key_local, key_remote;
	uint32_t token_local, token_remote;
	uint64_t idsn_local, idsn_remote;
	bool token_inserted;
	/* send side */
	struct mpt_dsnd snd;
	bool snd_ready;    /* snd/rcv buffers allocated */
	uint64_t snd_nxt;  /* next new DSN to map */
	bool app_shutdown; /* DATA_FIN queued */
	uint64_t fin_dsn;  /* our DATA_FIN's DSN (= snd.end at shutdown) */
	bool fin_mapped;   /* DATA_FIN attached to a mapping */
	bool fin_acked;
	uint64_t fin_rtx_at; /* standalone DATA_FIN retransmission */
	uint64_t fin_rto;
	struct mpt_mp_range {
		uint64_t dsn, end;
	} reinj[MPT_MP_REINJ_MAX];
	size_t n_reinj;
	uint64_t reinjected;
	/* RFC 8684 §3.3.4: the peer's data-level right edge, DATA_ACK +
	 * window of the same segment, never moved backwards */
	bool wnd_known;
	uint64_t wnd_end;
	/* RFC 8684 §3.3.6: data-level retransmission timer (DATA_ACK stuck
	 * while data is outstanding -> re-send from DATA_ACK) */
	uint64_t drtx_at;    /* MPT_TIME_NEVER when not armed */
	uint64_t drtx_una;   /* snd.una when armed */
	uint64_t drtx_since; /* DATA_ACK unmoved (window open, data out) since */
	uint8_t drtx_n;      /* consecutive firings without progress (backoff) */
	/* receive side */
	struct mpt_drcv rcv;
	bool peer_fin; /* peer's DATA_FIN seen */
	uint64_t peer_fin_dsn;
	bool peer_fin_done; /* all data before it delivered: DATA_ACK covers it */
	bool rx_eof_read;   /* the application read end of stream */
	uint64_t bytes_received;
	uint64_t bytes_acked;
	bool dss_seen; /* a DSS (or MP_CAPABLE with data) was received */
	/* subflows */
	struct mpt_subflow *sf[MPT_MP_MAX_SF];
	size_t nsf;
	uint8_t next_local_id;
	/* path manager */
	struct mpt_raddr raddr[MPT_MP_MAX_ADDRS];
	size_t nraddr;
	uint32_t tried[MPT_MAX_LOCAL_ADDRS]; /* bit r: local i x raddr r attempted */
	struct mpt_ann ann[MPT_MAX_LOCAL_ADDRS];
	size_t nann;
	bool pm_announced;
	uint64_t ann_tx_at;   /* first transmission of our latest ADD_ADDR (0: none) */
	uint64_t ann_echo_at; /* the latest echo of one of ours */
	uint8_t add_addr_accepted, add_addr_signal;
	/* pending ADD_ADDR echoes to send (v1) */
	struct {
		struct mpt_addr addr;
		uint16_t port;
		bool has_port;
		uint8_t id;
	} echo[4];
	size_t necho;
	uint8_t *scratch;    /* MPT_MP_SCRATCH bytes */
	unsigned ev_pending; /* MPT_EV_* to report at the end of mpt_mp_run */
	bool ready_pending;  /* report the handshake (connected / acceptable) */
	bool app_closed;     /* mpt_close: finish the close sequence unattended */
	int err;             /* connection error (all subflows failed) */
	uint64_t last_push_end;
	/* RFC 8684 §3.7 mid-connection fallback: infinite mappings.  Our
	 * direction (inf_tx) and the peer's (inf_rx) switch separately; the
	 * subflow inf_sf is the only one left and its byte stream from the
	 * given relative SSN is the data stream from the given DSN. */
	struct mpt_subflow *inf_sf;
	bool inf_tx, inf_rx;
	bool inf_tx_acked;
	uint32_t inf_tx_ssn, inf_rx_ssn;
	uint64_t inf_tx_dsn, inf_rx_dsn;
	bool fail_pending;           /* MP_FAIL to write (until the infinite mapping arrives) */
	struct mpt_subflow *fail_sf; /* the subflow it is written on (where the checksum failed) */
	uint64_t fail_dsn;
	/* REMOVE_ADDR ids to send */
	uint8_t rm_ids[MPT_MAX_LOCAL_ADDRS];
	size_t nrm;
	/* MP_FASTCLOSE (RFC 8684 §3.5) */
	bool fastclose;     /* we sent it: the connection is being torn down */
	bool fastclose_ack; /* ACK form: write it on pure ACKs of fc_sf */
	struct mpt_subflow *fc_sf;
	bool fc_rx; /* the peer's MP_FASTCLOSE arrived: tear down in mpt_mp_run */
	uint8_t fc_tries;
	uint64_t fc_rtx_at;
	/* path manager: retry failed pairs (bit r of tried[l] cleared at retry_at) */
	bool pm_init;
	uint64_t retry_at[MPT_MAX_LOCAL_ADDRS][MPT_MP_MAX_ADDRS];
	uint8_t retry_n[MPT_MAX_LOCAL_ADDRS][MPT_MP_MAX_ADDRS];
	int last_sf_err; /* error of the last subflow that failed */
	/* close: where our DATA_FIN mapping went (its end covers that
	 * subflow's FIN), and whether the DATA_ACK of the peer's DATA_FIN
	 * went out (after that, FINs and later ACKs carry no option) */
	struct mpt_subflow *fin_sf;
	uint32_t fin_sf_end;
	bool final_ack_sent;
	bool fin_bare_due; /* write the bare DATA_FIN on the next pure ACK */
	/* RFC 6356: the subflows' congestion windows are coupled (lia, olia,
	 * balia use it; uncoupled algorithms ignore it) */
	struct mpt_cc_group ccg;
	/* policies (policy.h) */
	const struct mpt_sched_ops *sched;
	const struct mpt_pm_ops *pm;
	const struct mpt_cc_ops *cc; /* subflows' congestion control */
	uint32_t sched_idx;          /* rr: last subflow used */
	bool sched_wait;             /* ecf: waiting for the fast subflow */
	uint64_t sched_opp_end;      /* minrtt: opportunistic reinjection done below */
	uint64_t sched_last_una;     /* DATA_ACK at the previous push (head rescue) */
	/* racing of the initial subflow (knob race) */
	uint64_t race_at;  /* next raced SYN (MPT_TIME_NEVER: none) */
	uint8_t race_next; /* next local index to try */
	bool race_done;    /* an initial subflow completed */
	bool win_check;    /* the application read: subflows may open their windows */
	bool rx_direct;    /* a subflow put bytes in the data level (mpt_sf_rcv_direct) */
	/* Break before make: the last subflow went with our address; the
	 * connection waits (without subflows) until orphan_until for the path
	 * manager to open one from another address. */
	bool orphan_ok;
	bool open_backup; /* mpt_mp_open_join: set B on this join */
	uint64_t orphan_until;
	/* mobility: local index of the subflow that last failed (or -1) */
	int mob_failed_li;
	/* path-manager events for mpt_sock_pm_event (a ring, oldest first) */
	struct mpt_pm_event pmq[MPT_MP_PMQ];
	uint8_t pmq_head, pmq_n;
	bool pm_created, pm_established; /* reported once */
	struct mpt_ek ek;                /* external keys */
};

/* ---- conn.c: the connection (sock.c turns these into socket operations) -- */

long mpt_mp_send(struct mpt_mpconn *mp, const void *data, size_t len, uint64_t now);
long mpt_mp_recv(struct mpt_mpconn *mp, void *buf, size_t len, uint64_t now);
int mpt_mp_shutdown(struct mpt_mpconn *mp, uint64_t now);
void mpt_mp_close(struct mpt_mpconn *mp, bool abort, uint64_t now);
unsigned mpt_mp_events(const struct mpt_mpconn *mp);
/** Run the connection: drain, DATA_FIN, PM, schedule, events, reaping of subflows. */
void mpt_mp_run(struct mpt_mpconn *mp, uint64_t now);
uint64_t mpt_mp_next_deadline(const struct mpt_mpconn *mp);
void mpt_mp_on_timer(struct mpt_mpconn *mp, uint64_t now);
/** True when nothing is left running (all subflows freed). */
bool mpt_mp_finished(const struct mpt_mpconn *mp);
/* The socket table is full: end the connection's subflows in TIME-WAIT
 * now when that is all that is left of it (true when it did). */
bool mpt_mp_evict_tw(struct mpt_mpconn *mp);
void mpt_mp_free(struct mpt_mpconn *mp);
/** Info for the socket API. */
int mpt_mp_info(const struct mpt_mpconn *mp, struct mpt_mptcp_info *info);
int mpt_mp_subflows(const struct mpt_mpconn *mp, struct mpt_subflow_info *out, size_t max);
/** A flow usable for mpt_sock_info (the first live subflow), or NULL. */
struct mpt_flow *mpt_mp_info_flow(const struct mpt_mpconn *mp);

/** Open an MP_JOIN subflow from cfg.local[li] to raddr[ri]. */
int mpt_mp_open_join(struct mpt_mpconn *mp, size_t li, size_t ri, uint64_t now);
/** A SYN/ACK arrived on initial subflow win: it wins any race (the others
 *  are aborted, it becomes sf[0] and the socket's local endpoint). */
void mpt_mp_race_settle(struct mpt_subflow *win, uint64_t now);
/** Make the subflow's engine send a pure ACK now (carries our options). */
void mpt_mp_send_ack(struct mpt_subflow *sf, uint64_t now);

/* ---- options.c: the MPTCP options of a segment ------------------------- */

/* Relative subflow sequence numbers wrap: compare them as serial numbers. */
static inline int32_t mpt_rel_cmp(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/*
 * Every MPTCP suboption of one segment, parsed once (RFC 8684 §3; as Linux's
 * mptcp_options_received): seen has bit (1 << subtype) for each kind
 * present.  The first option of a kind counts; ADD_ADDRs are all kept.
 */
struct mpt_mp_opts {
	uint32_t seen;
	struct mpt_mptcp_opt mpc;  /* MP_CAPABLE (with its version and form) */
	struct mpt_mptcp_opt join; /* MP_JOIN */
	struct mpt_mptcp_opt dss;  /* DSS */
	struct mpt_mptcp_add_addr add[MPT_TCP_MAX_MPTCP];
	uint8_t add_kid[MPT_TCP_MAX_MPTCP]; /* external keys: each one's key id */
	uint8_t nadd;
	struct mpt_mptcp_rm_addr rm;
	struct mpt_mptcp_prio prio;
	uint64_t fail_dsn;
	uint64_t fastclose_key;
	uint8_t fastclose_kid; /* external keys: MP_FASTCLOSE's key id */
	struct mpt_mptcp_tcprst tcprst;
	bool new_key; /* NEW_KEY seen (external keys) */
	uint8_t new_key_kid;
	uint8_t new_key_hmac[MPT_EXTKEY_HMAC_LEN];
	uint8_t malformed; /* options that did not parse (counted by the caller) */
};

/* Whether o holds a suboption of kind subtype. */
#define MPT_MP_HAS(o, subtype) ((((o)->seen) >> (subtype)) & 1u)

/** Write MP_TCPRST with reason into buf (a stateless reset's option);
 *  returns its length, 0 when it does not fit. */
size_t mpt_mp_write_tcprst(uint8_t *buf, size_t room, uint8_t reason);
/** Parse seg's MPTCP options for a connection of version, with the codec's
 *  extensions ext (MPT_MPTCP_EXT_*; mpt_ek_ext) (always 0). */
int mpt_mp_opts_parse(const struct mpt_tcp_seg *seg, uint8_t version, unsigned ext,
		      struct mpt_mp_opts *out);
/** mpt_mp_find_opt (transport.h) with the codec's extensions ext. */
int mpt_mp_find_opt_ext(const struct mpt_tcp_seg *seg, uint8_t subtype, uint8_t version,
			unsigned ext, struct mpt_mptcp_opt *out);

/* ---- subflow.c: engine hooks of subflow flows (ud = struct mpt_flow) ---- */

/** Free a subflow's flow (its congestion state leaves the group first). */
void mpt_sf_flow_free(struct mpt_subflow *sf);
/** Create a subflow object for mp (not yet attached to a flow). */
struct mpt_subflow *mpt_sf_new(struct mpt_mpconn *mp);
void mpt_sf_free(struct mpt_subflow *sf);
/**
 * The data-level send buffer is about to release the bytes below `below`
 * (all of them: every owned mapping when all): copy the payload of sf's
 * owned mappings starting there into its engine's send ring, which still
 * needs them until the peer acknowledges them at the TCP level.  Bytes
 * below the subflow sequence number *acked (the ACK of the segment being
 * processed, applied right after; NULL: none) are not copied.
 */
void mpt_sf_snd_keep(struct mpt_subflow *sf, uint64_t below, bool all, const uint32_t *acked);
/** Mark a subflow for reset with an MP_TCPRST reason (done in mpt_mp_run). */
void mpt_sf_reset(struct mpt_subflow *sf, uint8_t reason);
/** Record a received mapping (sorted by SSN; an exact repeat is ignored). */
void mpt_sf_rmap_add(struct mpt_subflow *sf, const struct mpt_rmap *m);
/** The received mapping covering relative SSN rel, or NULL. */
const struct mpt_rmap *mpt_sf_rmap_find(const struct mpt_subflow *sf, uint32_t rel);
/** Drain the subflow's in-order bytes into the data-level buffer. */
bool mpt_sf_drain(struct mpt_subflow *sf, uint64_t now);
/** Relative SSN of the next byte the application side will read. */
uint32_t mpt_sf_rx_rel(const struct mpt_subflow *sf);
/** True when the subflow may carry new data. */
bool mpt_sf_usable(const struct mpt_subflow *sf);

/* ---- conn.c helpers used by subflow.c ---------------------------------- */

/** Process a DATA_ACK (64-bit), arrived on subflow by in a segment whose
 *  TCP ACK *by_ack its engine applies next (NULLs: none). */
void mpt_mp_data_ack(struct mpt_mpconn *mp, uint64_t ack, const struct mpt_subflow *by,
		     const uint32_t *by_ack);
/** Handle a received DATA_FIN at dsn. */
void mpt_mp_rx_data_fin(struct mpt_mpconn *mp, uint64_t dsn);
/** DATA_ACK value to send. */
uint64_t mpt_mp_rcv_ack(const struct mpt_mpconn *mp);
/** Learn the peer's key (derives token and IDSN, sets up the receive buffer). */
int mpt_mp_set_remote_key(struct mpt_mpconn *mp, uint64_t key);
/** The same with the peer's key (0 under external keys), token and IDSN. */
int mpt_mp_set_remote_ids(struct mpt_mpconn *mp, uint64_t key, uint32_t token, uint64_t idsn);
/** Switch to plain TCP over subflows[0] (RFC 8684 §3.7). */
void mpt_mp_fallback(struct mpt_mpconn *mp, enum mpt_mib_id why);
/**
 * Queue a path-manager event (type: enum mpt_pm_event_type) about sf (may be
 * NULL) or, for ANNOUNCED/REMOVED, about a remote address and id; raises
 * MPT_EV_PM.
 */
void mpt_mp_pm_event(struct mpt_mpconn *mp, uint8_t type, const struct mpt_subflow *sf,
		     const struct mpt_addr *raddr, uint8_t rid, int err);
/** Pop the oldest queued event: 1, or 0 when none. */
int mpt_mp_pm_event_pop(struct mpt_mpconn *mp, struct mpt_pm_event *ev);
/** Socket operations of a connection fallen back at the handshake: TCP's
 *  data path, MPTCP's information (sock.c). */
extern const struct mpt_sock_ops mpt_mptcp_fallback_ops;
/** Give subflow sf a flow on l -> r (its engine joins the connection's
 *  coupled congestion control group).  Returns mpt_stack_flow_new's. */
int mpt_sf_flow_new(struct mpt_subflow *sf, const struct mpt_endpoint *l,
		    const struct mpt_endpoint *r);
/** Mark the connection for mpt_mp_run. */
void mpt_mp_dirty(struct mpt_mpconn *mp);
/** True when fallen back (at the handshake or mid-connection). */
bool mpt_mp_is_fallback(const struct mpt_mpconn *mp);
/**
 * Our direction falls back mid-connection (RFC 8684 §3.7): from the next
 * byte written on sf, the subflow carries the data stream from dsn (an
 * infinite mapping); every other subflow is reset.
 */
void mpt_mp_inf_tx(struct mpt_mpconn *mp, struct mpt_subflow *sf, uint64_t dsn);
/** The peer's direction: sf's bytes from ssn are the data from dsn. */
void mpt_mp_inf_rx(struct mpt_mpconn *mp, struct mpt_subflow *sf, uint32_t ssn, uint64_t dsn);
/** Received MP_FASTCLOSE with key (and key id under external keys): reset
 *  everything (RFC 8684 §3.5). */
void mpt_mp_fastclose_rx(struct mpt_mpconn *mp, uint64_t key, uint8_t kid, uint64_t now);
/**
 * While our DATA_FIN is held back (0: it is not): until the joins our
 * ADD_ADDRs invite could complete (conn.c, fin_hold).
 */
uint64_t mpt_mp_fin_hold(const struct mpt_mpconn *mp, uint64_t now);
/** Live subflows (not closed, dead or being reset); joins half-open in *pending. */
size_t mpt_mp_live_subflows(const struct mpt_mpconn *mp, size_t *pending);
/** Local address removed from the stack: close its subflows, send REMOVE_ADDR. */
void mpt_mp_local_removed(struct mpt_mpconn *mp, const struct mpt_addr *a, uint8_t id,
			  uint64_t now);
/** Set our backup flag on subflows using local (NULL: all); returns count. */
int mpt_mp_set_backup(struct mpt_mpconn *mp, const struct mpt_addr *local, bool backup,
		      uint64_t now);

/* ---- pm.c --------------------------------------------------------------- */

/** Remember a remote address; returns its slot or -1. */
int mpt_pm_add_raddr(struct mpt_mpconn *mp, const struct mpt_addr *a, uint16_t port, uint8_t id,
		     bool usable);
/** Open joins / announce addresses as the default (fullmesh) policy says. */
void mpt_pm_run(struct mpt_mpconn *mp, uint64_t now);
/** Received ADD_ADDR (already parsed); kid: its key id (external keys). */
void mpt_pm_add_addr_rx(struct mpt_subflow *sf, const struct mpt_mptcp_add_addr *a, uint8_t kid);
/** Received REMOVE_ADDR: close the subflows to those addresses. */
void mpt_pm_rm_addr_rx(struct mpt_subflow *sf, const struct mpt_mptcp_rm_addr *r);
/** A subflow ended without the connection asking: retry its pair later. */
void mpt_pm_sf_failed(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now);
/** Write a pending ADD_ADDR / echo into buf if it fits; returns bytes. */
size_t mpt_pm_write(struct mpt_mpconn *mp, uint8_t *buf, size_t room, uint64_t now);
uint64_t mpt_pm_deadline(const struct mpt_mpconn *mp);
void mpt_pm_on_timer(struct mpt_mpconn *mp, uint64_t now);

/* The external path-manager API behind mpt.h's mpt_pm_* (same errors). */
int mpt_pm_api_open(struct mpt_mpconn *mp, const struct mpt_addr *local,
		    const struct mpt_endpoint *remote, bool backup, uint64_t now);
int mpt_pm_api_close(struct mpt_mpconn *mp, const struct mpt_addr *local,
		     const struct mpt_endpoint *remote, uint64_t now);
int mpt_pm_api_announce(struct mpt_mpconn *mp, const struct mpt_addr *local);
int mpt_pm_api_withdraw(struct mpt_mpconn *mp, const struct mpt_addr *local, uint64_t now);
int mpt_pm_api_remote(const struct mpt_mpconn *mp, struct mpt_endpoint *out, uint8_t *ids,
		      size_t max);

/* ---- extkey.c: external keys (draft-baerts-tcpm-mptcpext-00) ------------ */

/** The codec extensions a connection's segments are parsed with. */
unsigned mpt_ek_ext(const struct mpt_mpconn *mp);
/** Our MP_CAPABLE offers flag E (connect / answer to a SYN with E). */
bool mpt_ek_offered(const struct mpt_mpconn *mp);
/** Our SYN's offer (MPT_EXTKEY_OFFER_*) into buf when it fits; bytes. */
size_t mpt_ek_write_offer(uint8_t *buf, size_t room);
/** Whether a SYN offers external keys (the offer suboption, or flag E). */
bool mpt_ek_syn_offer(const struct mpt_tcp_seg *seg, uint8_t mpc_flags);
/** Negotiated: tokens known (ours, the peer's) -> IDSNs, buffers. */
int mpt_ek_set_remote_token(struct mpt_mpconn *mp, uint32_t token);
/** Switch our side to external keys (IDSN of our token, decision 14). */
int mpt_ek_start(struct mpt_mpconn *mp);
/** Joins and ADD_ADDR may go (not negotiated, or a key is active). */
bool mpt_ek_keyed(const struct mpt_mpconn *mp);
/** Whether key id k names an installed key (active, previous or pending). */
bool mpt_ek_has_key(const struct mpt_mpconn *mp, uint8_t k);
/** Key id of the newest active key (0 when not negotiated). */
uint8_t mpt_ek_kid(const struct mpt_mpconn *mp);
/** Install the configured key (knob ext_key) once the connection can. */
void mpt_ek_auto(struct mpt_mpconn *mp, uint64_t now);
/** mpt_sock_set_external_key. */
int mpt_ek_install(struct mpt_mpconn *mp, const uint8_t *key, size_t len, uint64_t now);
/** A received NEW_KEY (K, truncated HMAC). */
void mpt_ek_new_key_rx(struct mpt_mpconn *mp, uint8_t k, const uint8_t *hmac);
/** Our NEW_KEY into buf when one is due and fits (sent on sf); bytes. */
size_t mpt_ek_write(struct mpt_mpconn *mp, struct mpt_subflow *sf, uint8_t *buf, size_t room,
		    uint64_t now);
uint64_t mpt_ek_deadline(const struct mpt_mpconn *mp);
void mpt_ek_on_timer(struct mpt_mpconn *mp, uint64_t now);
/*
 * The HMACs of MP_JOIN (RFC 8684 §3.2) and ADD_ADDR (§3.4.1), keyed with
 * the keys of the handshake or, under external keys, with the key of id
 * kid (draft §4.3).  ours: we send the option (our key, nonce first).
 * MPT_ERR_NOTFOUND when kid names no installed key.
 */
int mpt_mp_join_hmac64(const struct mpt_mpconn *mp, uint8_t kid, bool ours, uint32_t nonce_snd,
		       uint32_t nonce_rcv, uint64_t *out);
int mpt_mp_join_hmac160(const struct mpt_mpconn *mp, uint8_t kid, bool ours, uint32_t nonce_snd,
			uint32_t nonce_rcv, uint8_t out[MPT_CRYPTO_JOIN_ACK_LEN]);
int mpt_mp_add_addr_hmac(const struct mpt_mpconn *mp, uint8_t kid, bool ours, uint8_t id,
			 const struct mpt_addr *addr, uint16_t port, uint64_t *out);
/** MP_FASTCLOSE's 64-bit field: the peer's key, or under external keys
 *  the HMAC of decision 12 with key kid (ours: we send it). */
int mpt_mp_fastclose_value(const struct mpt_mpconn *mp, uint8_t kid, bool ours, uint64_t *out);

/* ---- sched.c ------------------------------------------------------------ */

/** Push queued data (reinjections first) to subflows. */
void mpt_sched_push(struct mpt_mpconn *mp, uint64_t now);
/** First DSN beyond the share (knob wnd_share) of the peer's connection-level
 *  receive window that data may use. */
uint64_t mpt_sched_wnd_edge(const struct mpt_mpconn *mp);
/** share/256 of wnd (share 0 or 256: all of it). */
uint64_t mpt_sched_wnd_scaled(uint64_t wnd, uint16_t share);
/** Queue a subflow's not-DATA_ACKed mappings for other subflows. */
void mpt_sched_reinject_sf(struct mpt_subflow *sf);
/** Queue [dsn, end) (not yet DATA_ACKed) for re-sending on any subflow. */
void mpt_sched_reinject_range(struct mpt_mpconn *mp, uint64_t dsn, uint64_t end);
/** The peer advertised window wnd (bytes, scaled) with DATA_ACK ack. */
void mpt_sched_wnd_update(struct mpt_mpconn *mp, uint64_t ack, uint64_t wnd);

#endif /* MPT_MPTCP_MPTCP_H */
