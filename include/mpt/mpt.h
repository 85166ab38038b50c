/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpt — a portable userspace Multipath TCP stack.
 *
 * Public API. The engine is sans-I/O: time, randomness, memory and packet
 * I/O all come in from the caller (see ../shared/DESIGN.md).  Time is a
 * uint64_t count of nanoseconds on any monotonic clock; UINT64_MAX means
 * "no deadline".
 *
 * Error convention: functions return 0 (or a non-negative count) on success
 * and a negative enum mpt_err value on failure.
 */
#ifndef MPT_MPT_H
#define MPT_MPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MPT_VERSION_STRING "0.1.0"

/** "No deadline" value for timer functions. */
#define MPT_TIME_NEVER UINT64_MAX
#define MPT_NS_PER_US  UINT64_C(1000)
#define MPT_NS_PER_MS  UINT64_C(1000000)
#define MPT_NS_PER_S   UINT64_C(1000000000)

/** Error codes. All are negative; 0 is success. */
enum mpt_err {
	MPT_OK = 0,
	MPT_ERR_INVAL = -1,       /**< invalid argument */
	MPT_ERR_NOMEM = -2,       /**< allocator hook returned NULL */
	MPT_ERR_TRUNCATED = -3,   /**< input shorter than its header/length field says */
	MPT_ERR_BADLEN = -4,      /**< a length field is impossible for its type */
	MPT_ERR_CHECKSUM = -5,    /**< checksum mismatch */
	MPT_ERR_FRAGMENT = -6,    /**< IP fragment (not supported, dropped) */
	MPT_ERR_PROTO = -7,       /**< protocol violation / malformed field */
	MPT_ERR_UNSUPPORTED = -8, /**< valid but unsupported (version, protocol) */
	MPT_ERR_NOSPACE = -9,     /**< output buffer too small */
	MPT_ERR_AGAIN = -10,      /**< would block: retry when ready */
	MPT_ERR_STATE = -11,      /**< operation not valid in this state */
	MPT_ERR_CLOSED = -12,     /**< connection closed / shut down */
	MPT_ERR_RESET = -13,      /**< connection reset by peer */
	MPT_ERR_TIMEDOUT = -14,   /**< retransmission / keep-alive timeout */
	MPT_ERR_REFUSED = -15,    /**< connection refused (RST to our SYN) */
	MPT_ERR_EXIST = -16,      /**< already exists (port in use, duplicate name) */
	MPT_ERR_NOTFOUND = -17,   /**< no such object */
	MPT_ERR_LIMIT = -18,      /**< a configured resource limit was reached */
};

/** Human-readable text for an error code (never NULL). */
MPT_API const char *mpt_strerror(int err);

/**
 * Allocator hooks. Every allocation the engine makes goes through these.
 * realloc semantics follow C's realloc. free(NULL) must be a no-op.
 */
struct mpt_mem {
	void *(*malloc)(size_t size, void *user_data);
	void *(*calloc)(size_t nmemb, size_t size, void *user_data);
	void *(*realloc)(void *ptr, size_t size, void *user_data);
	void (*free)(void *ptr, void *user_data);
	void *user_data;
};

/** The C library allocator (the only place the library calls malloc). */
MPT_API const struct mpt_mem *mpt_mem_default(void);

/**
 * Randomness callback: fill buf with len random bytes.  Simulations pass a
 * seeded generator so that runs replay exactly; real backends pass
 * mpt_rand_default (OpenSSL RAND_bytes).
 */
typedef void (*mpt_rand_fn)(uint8_t *buf, size_t len, void *user_data);

/** OpenSSL RAND_bytes; aborts if the CSPRNG fails (it never should). */
MPT_API void mpt_rand_default(uint8_t *buf, size_t len, void *user_data);

/** An IPv4 or IPv6 address (network byte order in bytes[]). */
struct mpt_addr {
	uint8_t family;    /**< 4 or 6 */
	uint8_t bytes[16]; /**< IPv4 uses bytes[0..3] */
};

/** Address + port (port in host byte order). */
struct mpt_endpoint {
	struct mpt_addr addr;
	uint16_t port;
};

/** Parse "1.2.3.4" or "2001:db8::1" (no port). Returns 0 or MPT_ERR_INVAL. */
MPT_API int mpt_addr_parse(struct mpt_addr *out, const char *text);
/** Format an address; buf should hold 46 bytes. Returns buf. */
MPT_API char *mpt_addr_format(const struct mpt_addr *a, char *buf, size_t len);
/** True when both addresses are equal (family and bytes). */
MPT_API bool mpt_addr_equal(const struct mpt_addr *a, const struct mpt_addr *b);

/* ------------------------------------------------------------------------
 * The stack: addresses, listeners, connections, counters.
 *
 * A stack is driven by three calls: mpt_stack_input() for every IP packet
 * addressed to it, mpt_stack_on_timer() when mpt_stack_next_deadline() is
 * reached, and the application calls below.  Packets leave through
 * cfg.output.  No call blocks; nothing is sent or timed behind your back.
 *
 * Events and re-entrancy (the rule, enforced by the library):
 *  - cfg.on_event is called ONLY by mpt_stack_input() and
 *    mpt_stack_on_timer(), after the engine finished its work for that
 *    call and just before it returns.  No socket call (mpt_send, mpt_recv,
 *    mpt_shutdown, mpt_close, mpt_abort, mpt_connect, mpt_accept, mpt_pm_*,
 *    ...) ever calls on_event: events they cause are queued, and
 *    mpt_stack_next_deadline() then returns a deadline that is already due,
 *    so the driver's next mpt_stack_on_timer() delivers them.
 *  - Inside on_event the application may call every socket function on any
 *    socket of the stack (including mpt_close/mpt_abort of the socket being
 *    reported, and mpt_connect/mpt_accept).  on_event is never entered
 *    twice: events those calls cause are delivered after the callback has
 *    returned, within the same mpt_stack_input/mpt_stack_on_timer.
 *  - Events for one socket are merged (bits OR-ed) until delivered; a
 *    socket closed by the application gets no further events.
 *  - mpt_stack_input() and mpt_stack_on_timer() called from on_event or
 *    from cfg.output are refused (MPT_ERR_STATE / no-op); never call
 *    mpt_stack_destroy() from a callback.
 *  - cfg.output may be called from any call that makes the engine send
 *    (including socket calls); it must not call back into the stack.
 * ---------------------------------------------------------------------- */

struct mpt_stack;
/** A connection or a listener. */
struct mpt_sock;

/**
 * Readiness / state-change bits passed to mpt_stack_cfg.on_event.  They are
 * edge-triggered, like EPOLLET: READABLE is reported when data (or the end
 * of stream) arrives, WRITABLE when send-buffer space frees up.  An
 * application that stops reading or writing before the call returned
 * MPT_ERR_AGAIN gets no new event for what is already there: it calls again
 * on its own when it is ready (a relay whose buffer was full, say).
 */
enum mpt_event {
	MPT_EV_CONNECTED = 1 << 0,  /**< handshake completed */
	MPT_EV_READABLE = 1 << 1,   /**< data (or end of stream) to read */
	MPT_EV_WRITABLE = 1 << 2,   /**< send-buffer space available */
	MPT_EV_ACCEPTABLE = 1 << 3, /**< listener: a connection is ready to accept */
	MPT_EV_ERROR = 1 << 4,      /**< connection failed: see mpt_sock_error() */
	MPT_EV_CLOSED = 1 << 5,     /**< connection fully closed (both directions done) */
	/** MPTCP path event (on_event only): a subflow was established or
	 *  closed, or the peer announced or removed an address; what happened
	 *  is read with mpt_sock_pm_event(). */
	MPT_EV_PM = 1 << 6,
};

#define MPT_MAX_LOCAL_ADDRS 8
#define MPT_CC_NAME_LEN     16
#define MPT_POLICY_NAME_LEN 16

/**
 * Transport knobs (per stack; zero means the default: zero-initialise the
 * struct and set what you need).  The configuration structs carry no size
 * field: a release that adds a field changes the library's SONAME (while
 * the major version is 0, every minor release: CHANGELOG.md, "Versions"),
 * so a program never runs against a library whose structs differ from the
 * ones it was compiled with.
 */
struct mpt_tcp_knobs {
	uint16_t mss;       /**< MSS to advertise (default 1460) */
	uint32_t sndbuf;    /**< bytes (default 256 KiB) */
	uint32_t rcvbuf;    /**< bytes (default 256 KiB) */
	bool no_sack;       /**< disable SACK */
	bool no_timestamps; /**< disable RFC 7323 timestamps */
	bool no_wscale;     /**< disable window scaling */
	bool nagle;         /**< enable Nagle (off by default) */
	bool no_delack;     /**< ACK every segment */
	bool keepalive;     /**< enable keep-alive */
	uint64_t keepalive_idle_ns;
	uint64_t keepalive_intvl_ns;
	uint32_t keepalive_probes;
	uint64_t rto_min_ns;     /**< default 200 ms */
	uint64_t rto_initial_ns; /**< default 1 s */
	uint64_t msl_ns;         /**< TIME-WAIT lasts 2*MSL (default MSL 30 s) */
	uint32_t syn_retries;
	uint32_t max_retries;
	char cc[MPT_CC_NAME_LEN]; /**< congestion control name ("cubic", "reno") */
	/**
	 * TCP Fast Open on listeners (RFC 7413, plain TCP connections):
	 * MPT_TFO_OFF (default), MPT_TFO_COOKIE (SYN data accepted with a
	 * valid cookie; cookie requests answered) or MPT_TFO_NO_COOKIE (SYN
	 * data accepted from anyone: trusted networks only, e.g. an RFC 8803
	 * converter behind an allow-list).  A connection whose SYN data was
	 * accepted is ready to accept at once (0-RTT).
	 */
	uint8_t tfo_server;
	/**
	 * SYN cookies on listeners (RFC 4987 §3.6; for MPTCP v1 and v0 too,
	 * RFC 8684 §3.1: the third ACK echoes both keys):
	 * MPT_SYNCOOKIES_AUTO (default: once a listener holds `backlog`
	 * half-open connections, further SYNs are answered statelessly),
	 * MPT_SYNCOOKIES_ALWAYS or MPT_SYNCOOKIES_OFF (excess SYNs dropped).
	 * With cookies a SYN flood cannot keep legitimate clients out.
	 */
	uint8_t syncookies;
};

/** Values of mpt_tcp_knobs.syncookies. */
enum mpt_syncookies_mode {
	MPT_SYNCOOKIES_AUTO = 0,
	MPT_SYNCOOKIES_ALWAYS = 1,
	MPT_SYNCOOKIES_OFF = 2,
};

/** Values of mpt_tcp_knobs.tfo_server. */
enum mpt_tfo_mode {
	MPT_TFO_OFF = 0,
	MPT_TFO_COOKIE = 1,
	MPT_TFO_NO_COOKIE = 2,
};

/** Bits of mpt_mptcp_knobs.accept_versions. */
#define MPT_MPTCP_ACCEPT_V0 0x1u /**< RFC 6824 */
#define MPT_MPTCP_ACCEPT_V1 0x2u /**< RFC 8684 */

/**
 * Multipath TCP knobs (per stack, and per connection through
 * mpt_conn_opts).  mpt_stack_cfg_init() fills the defaults; a zero field
 * where a default is documented takes that default at mpt_stack_create().
 */
struct mpt_mptcp_knobs {
	/**
	 * Offer / accept MPTCP.  Default false: applications opt in, as with
	 * IPPROTO_MPTCP or RFC 6897's TCP_MULTIPATH_ENABLE; the mpt tools turn
	 * it on unless --no-mptcp.
	 */
	bool enable;
	uint8_t version;         /**< version to offer when connecting: 1 (default) or 0 */
	uint8_t accept_versions; /**< MPT_MPTCP_ACCEPT_* we accept (0: every version) */
	bool checksum;           /**< request DSS checksums (flag A) */
	bool c_flag;             /**< send flag C: do not open subflows to our address */
	uint8_t max_subflows;    /**< established subflows per connection (default 8) */
	/**
	 * Half-open MP_JOINs we opened per connection (default 8): the path
	 * manager opens no more joins while that many wait for their SYN/ACK.
	 * Joins we receive are not counted here: until their third ACK they
	 * are records of the stack's table (mpt_stack_cfg.max_join_records).
	 */
	uint8_t max_join_pending;
	bool no_pm;                   /**< no path manager: no joins opened, no ADD_ADDR sent */
	uint64_t add_addr_timeout_ns; /**< v1 ADD_ADDR retransmission timeout (default 2 s) */
	/**
	 * Blackhole detection (RFC 8684 §3.7): SYNs sent with MP_CAPABLE
	 * before the next retransmission goes without it (default 2;
	 * 255: never give up on MP_CAPABLE).
	 */
	uint8_t mpc_syn_tries;
	/** mpt_abort sends MP_FASTCLOSE on an ACK (RFC 8684 §3.5 first form)
	 *  instead of on RSTs. */
	bool fastclose_ack;
	/** First delay before a failed (local, remote) pair is tried again
	 *  with MP_JOIN; doubles per failure up to 64x (default 1 s). */
	uint64_t join_retry_ns;
	/**
	 * Scheduler by name (mpt_sched_names()): "minrtt" (default), "rr",
	 * "redundant", "ecf".  An unknown name makes mpt_stack_create /
	 * mpt_connect_ex fail with MPT_ERR_INVAL.
	 */
	char sched[MPT_POLICY_NAME_LEN];
	/**
	 * Path manager by name (mpt_pm_names()): "fullmesh" (default),
	 * "ndiffports", "endpoints", "mobility", "none" (an external
	 * controller drives it through mpt_pm_*()).  no_pm forces "none".
	 */
	char pm[MPT_POLICY_NAME_LEN];
	/** Congestion control of the subflows ("": the stack's tcp.cc). */
	char cc[MPT_CC_NAME_LEN];
	/** ndiffports: subflows over the initial address pair (default 2). */
	uint8_t ndiffports;
	/** endpoints: ADD_ADDRs accepted per connection (default 8). */
	uint8_t add_addr_accept_max;
	/**
	 * Race the initial subflow (happy-eyeballs style): when the SYN has
	 * no answer after race_delay_ns, another MP_CAPABLE SYN leaves from
	 * the next local address of the same family; the first to complete
	 * wins and the others are reset.  Needs two or more local addresses.
	 */
	bool race;
	uint64_t race_delay_ns; /**< default: the initial RTO (1 s) */
	/**
	 * External keys (draft-baerts-tcpm-mptcpext-00, docs/external-keys.md):
	 * MPT_EXT_KEYS_OFF (default), _OFFER (flag E in MP_CAPABLE; a peer
	 * without it gets plain RFC 8684) or _REQUIRE (a peer without it is
	 * refused).  v1 only.  The keys come from the application
	 * (mpt_sock_set_external_key), e.g. a TLS exporter.
	 */
	uint8_t ext_keys;
	/**
	 * A configured external key (16..64 bytes; 0: none) that every
	 * connection which negotiated external keys installs as its first
	 * key once established (the draft's "keys from configuration").
	 * One key for all connections; per-connection keys (a TLS exporter)
	 * go through mpt_sock_set_external_key instead.
	 */
	uint8_t ext_key_len;
	uint8_t ext_key[64];
	/**
	 * Share of the peer's data-level window (RFC 8684 §3.3.4) that data
	 * beyond DATA_ACK may fill, in 256ths (1..256; 0: the default 224,
	 * seven eighths).  A Linux receiver counts its window in memory, not
	 * bytes: a window's worth of out-of-order data in packets that cost
	 * it more than it assumed fills its buffer, and it then never moves
	 * the data that would fill the hole (docs/mptcp-design.md, "The
	 * Linux receiver's memory").  256: the whole window.  Only while two
	 * or more subflows are usable (one delivers in order).  The TUN
	 * backend lowers it to what its offload packets need (197 at a
	 * 1,500-byte MTU).
	 */
	uint16_t wnd_share;
	/**
	 * A connection whose DATA_ACK does not move for this long while data
	 * is outstanding and the peer's window is open fails with
	 * MPT_ERR_TIMEDOUT (MP_FASTCLOSE to the peer; counter MPTCPDataStall):
	 * a receiver that acknowledges subflow data but never delivers it
	 * (the Linux receiver above, once its buffer filled) would hold the
	 * application forever.  A closed window (a paused reader) never
	 * counts.  Checked at the data-level retransmission timer, which
	 * backs off to a minute.  0 (the default): never.  Off by default
	 * because the same picture can be a reader that paused while short
	 * packets filled a Linux receiver's memory, which recovers when it
	 * reads again (docs/mptcp-design.md, "The Linux receiver's memory").
	 */
	uint64_t stall_timeout_ns;
};

/** Values of mpt_mptcp_knobs.ext_keys. */
enum mpt_ext_keys_mode {
	MPT_EXT_KEYS_OFF = 0,
	MPT_EXT_KEYS_OFFER = 1,
	MPT_EXT_KEYS_REQUIRE = 2,
};

/** Flags of a local address (mpt_stack_cfg.local_flags, kernel-like
 *  `ip mptcp endpoint` flags, used by the "endpoints" path manager;
 *  MPT_LOCAL_BACKUP by every path manager). */
enum mpt_local_flag {
	MPT_LOCAL_SIGNAL = 1 << 0,   /**< announce it with ADD_ADDR */
	MPT_LOCAL_SUBFLOW = 1 << 1,  /**< open subflows from it (initiator) */
	MPT_LOCAL_BACKUP = 1 << 2,   /**< subflows on it are backup (B flag) */
	MPT_LOCAL_FULLMESH = 1 << 3, /**< subflows from it to every remote address */
};

/** What a backend needs to know about an outgoing packet (cfg.output_ex). */
struct mpt_out_meta {
	/**
	 * 0: one packet.  Else (segmentation offload, cfg.tso_max) the TCP
	 * payload is to be cut into segments of gso_size bytes (the last may
	 * be shorter), each with the same IP and TCP headers and options,
	 * sequence numbers advanced, FIN and PSH on the last only: what
	 * Linux's GSO does for a virtio_net_hdr with gso_type TCPV4/TCPV6.
	 */
	uint32_t gso_size;
	uint16_t l3_len; /**< IP header length: the TCP header starts here */
	uint16_t l4_len; /**< TCP header length, options included */
	/**
	 * The TCP checksum field holds only the pseudo-header sum (folded, not
	 * complemented): the device completes it over the bytes from l3_len
	 * on and stores it at l3_len + 16 (virtio's NEEDS_CSUM).
	 */
	bool csum_partial;
};

/** Flags of mpt_stack_input_ex. */
#define MPT_INPUT_CSUM_OK 0x1u /**< TCP checksum verified by the device (or partial) */

/** Stack configuration.  Initialise with mpt_stack_cfg_init(). */
struct mpt_stack_cfg {
	const struct mpt_mem *mem; /**< NULL: mpt_mem_default() */
	mpt_rand_fn rand;          /**< required: keys, ISN secret, ports */
	void *rand_ud;
	/** Send one IP packet (the buffer is reused after return). Required. */
	void (*output)(void *ud, const uint8_t *pkt, size_t len);
	void *output_ud;
	/**
	 * Optional, replaces output: a packet with what a device with
	 * offloads needs to know about it (segmentation, partial checksum).
	 */
	void (*output_ex)(void *ud, const uint8_t *pkt, size_t len,
			  const struct mpt_out_meta *meta);
	/**
	 * Segmentation offload (needs output_ex): TCP payload bytes of one
	 * output packet, cut by the device (0: off; at most 65000).  Implies
	 * csum_offload for those packets.
	 */
	uint32_t tso_max;
	/** Leave every TCP checksum to the device (needs output_ex). */
	bool csum_offload;
	/** Readiness / state changes (events: enum mpt_event bits). Optional. */
	void (*on_event)(void *ud, struct mpt_sock *sock, unsigned events);
	void *event_ud;
	struct mpt_addr local[MPT_MAX_LOCAL_ADDRS]; /**< our addresses */
	uint8_t local_flags[MPT_MAX_LOCAL_ADDRS];   /**< enum mpt_local_flag bits */
	size_t n_local;
	struct mpt_tcp_knobs tcp;
	uint32_t max_socks;  /**< bound on connections + listeners (default 4096) */
	bool no_verify_csum; /**< trust checksums (offloaded / fuzzing) */
	uint8_t ttl;         /**< IPv4 TTL / IPv6 hop limit (default 64) */
	/**
	 * Transparent (on-path) mode: segments to ANY destination address are
	 * taken as local (the stack answers as that address), and a listener
	 * on port 0 with family 0 takes SYNs to every port.  For a box that
	 * terminates connections it forwards (RFC 8803-style transparent
	 * converter); the owner decides which packets reach the stack.
	 */
	bool transparent;
	struct mpt_mptcp_knobs mptcp; /**< Multipath TCP defaults */
	/**
	 * Half-open MP_JOINs received, for every connection of the stack
	 * (default 4096, at most 65536; allocated once by mpt_stack_create
	 * when mptcp.enable, 120 bytes each).  A join SYN with a valid
	 * token takes a record and is answered statelessly; the subflow is
	 * created at a third ACK whose HMAC checks out (RFC 8684 §3.2).  A
	 * full table replaces its oldest record only when that one is older
	 * than 1 s, else drops the SYN (MPJoinRecFull): a flood of spoofed
	 * joins (RFC 7430 §2.2) cannot push out a real join before its third
	 * ACK unless it sends more than max_join_records per second.
	 */
	uint32_t max_join_records;
	/**
	 * One of several stacks that share the host's addresses, one per
	 * thread (mpt_backend_group, issue 13): this stack is shard number
	 * `shard` of `shards` (0 or 1: alone).  Its connections' tokens
	 * satisfy token % shards == shard, so that a join's SYN, which names
	 * the token (RFC 8684 §3.2), can be routed to the stack that owns the
	 * connection before any stack has seen the subflow; its ephemeral
	 * ports satisfy port % shards == shard, so that two stacks never pick
	 * the same 4-tuple.  Keys that come from outside (external keys) do
	 * not obey the token rule.
	 */
	uint16_t shards, shard;
	/**
	 * The secret behind ISNs (RFC 6528), SYN cookies and TFO cookies
	 * (RFC 7413 §4.1.2), when has_secret; otherwise drawn from rand.
	 * Stacks of one group share it: a TFO cookie one of them gave a
	 * client is valid at the others, whichever gets its next SYN.
	 */
	uint8_t secret[16];
	bool has_secret;
	/**
	 * Called when a TCP flow enters (up) or leaves the stack's lookup
	 * table, from inside mpt_stack_input / mpt_stack_on_timer / the socket
	 * calls, so that a packet router in front of several stacks knows
	 * which stack owns a 4-tuple.  It must not call back into the stack.
	 * NULL: not called.
	 */
	void (*on_flow)(void *ud, const struct mpt_endpoint *local,
			const struct mpt_endpoint *remote, bool up);
	void *flow_ud;
};

/** Fill cfg with defaults (no addresses, no callbacks). */
MPT_API void mpt_stack_cfg_init(struct mpt_stack_cfg *cfg);

/**
 * Create a stack.  Returns 0, MPT_ERR_INVAL (missing output/rand, bad
 * address, unknown cc name) or MPT_ERR_NOMEM.
 */
MPT_API int mpt_stack_create(const struct mpt_stack_cfg *cfg, struct mpt_stack **out);
/** Free the stack and every socket (nothing is sent). */
MPT_API void mpt_stack_destroy(struct mpt_stack *st);

/**
 * Feed one received IP packet.  Malformed, misaddressed or unwanted packets
 * are counted and dropped (never fatal).  Returns 0 when the packet was
 * handed to a connection or listener, or the negative reason it was dropped
 * (MPT_ERR_STATE: called from a callback of this stack).
 */
MPT_API int mpt_stack_input(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint64_t now);
/**
 * mpt_stack_input for a packet from a device with offloads: flags
 * MPT_INPUT_CSUM_OK when the device verified the TCP checksum (or the packet
 * is locally generated with a partial one).  The packet may hold a TCP
 * payload of up to 64 KiB (coalesced segments: receive offload).
 */
MPT_API int mpt_stack_input_ex(struct mpt_stack *st, const uint8_t *pkt, size_t len, unsigned flags,
			       uint64_t now);
/** Earliest timer deadline over all sockets (a time already passed when
 *  events are waiting for delivery), or MPT_TIME_NEVER. */
MPT_API uint64_t mpt_stack_next_deadline(struct mpt_stack *st);
/** Run all timers due at or before now, then deliver queued events. */
MPT_API void mpt_stack_on_timer(struct mpt_stack *st, uint64_t now);

/** Number of named counters. */
MPT_API int mpt_counter_count(void);
/** Name of counter i (kernel MIB name where one exists) or NULL. */
MPT_API const char *mpt_counter_name(int i);
/** Value of counter i in this stack (0 when out of range). */
MPT_API uint64_t mpt_stack_counter(const struct mpt_stack *st, int i);
/** Value of a counter by name; returns MPT_ERR_NOTFOUND for unknown names. */
MPT_API int mpt_stack_counter_by_name(const struct mpt_stack *st, const char *name,
				      uint64_t *value);

/**
 * Listen on local->port (local->addr.family 0 = every local address; in a
 * transparent stack, family 0 and port 0 = every address and port, used
 * when no more specific listener matches).  backlog bounds the connections
 * established and not yet accepted, and separately the half-open ones the
 * listener keeps state for; past that, SYNs get SYN cookies (knob
 * syncookies) and half-open connections get fewer SYN-ACK retransmissions
 * once half of them are taken.  Returns 0, MPT_ERR_INVAL, MPT_ERR_EXIST
 * (port in use), MPT_ERR_LIMIT or MPT_ERR_NOMEM.
 */
MPT_API int mpt_listen(struct mpt_stack *st, const struct mpt_endpoint *local, uint32_t backlog,
		       struct mpt_sock **out);
/** Next established connection from a listener, or NULL when none. */
MPT_API struct mpt_sock *mpt_accept(struct mpt_sock *listener);

/**
 * Open a connection to remote from local_addr (NULL: the first local
 * address of the remote's family).  The SYN leaves immediately.  Returns 0,
 * MPT_ERR_INVAL, MPT_ERR_LIMIT (no port / too many sockets) or MPT_ERR_NOMEM.
 */
MPT_API int mpt_connect(struct mpt_stack *st, const struct mpt_endpoint *remote,
			const struct mpt_addr *local_addr, uint64_t now, struct mpt_sock **out);

/**
 * Per-connection options (RFC 6897 §5.3 "enable/disable before connect").
 * Initialise with mpt_conn_opts_init(), which copies the stack's defaults.
 */
struct mpt_conn_opts {
	struct mpt_mptcp_knobs mptcp;
	/** Local port of the connection (its initial subflow); 0: an
	 *  ephemeral one.  A port whose 4-tuple is in use: MPT_ERR_EXIST. */
	uint16_t local_port;
};

/** Fill o with st's defaults. */
MPT_API void mpt_conn_opts_init(const struct mpt_stack *st, struct mpt_conn_opts *o);

/**
 * mpt_connect with per-connection options (opts NULL: the stack's
 * defaults).  Returns the errors of mpt_connect; MPT_ERR_INVAL also for an
 * MPTCP version other than 0/1.
 */
MPT_API int mpt_connect_ex(struct mpt_stack *st, const struct mpt_endpoint *remote,
			   const struct mpt_addr *local_addr, const struct mpt_conn_opts *opts,
			   uint64_t now, struct mpt_sock **out);

/** Send: bytes accepted, or MPT_ERR_AGAIN / _CLOSED / _STATE / the socket error. */
MPT_API long mpt_send(struct mpt_sock *s, const void *data, size_t len, uint64_t now);
/** Receive: bytes read, 0 at end of stream, or MPT_ERR_AGAIN / the socket error. */
MPT_API long mpt_recv(struct mpt_sock *s, void *buf, size_t len, uint64_t now);
/** Half-close the sending direction (FIN after queued data). */
MPT_API int mpt_shutdown(struct mpt_sock *s, uint64_t now);
/**
 * Close: the handle is invalid afterwards, and no event of this socket
 * reaches the application any more (its outcome is not reported: use
 * mpt_shutdown and wait for MPT_EV_CLOSED to learn it).  Queued data is
 * still delivered and the connection finishes its close sequence inside
 * the stack.
 * Closing a listener also aborts its not-yet-accepted connections.
 */
MPT_API void mpt_close(struct mpt_sock *s, uint64_t now);
/** Abort with RST; the handle is invalid afterwards. */
MPT_API void mpt_abort(struct mpt_sock *s, uint64_t now);

/** Current readiness (enum mpt_event bits). */
MPT_API unsigned mpt_sock_events(const struct mpt_sock *s);
/** 0 or the error that ended the connection. */
MPT_API int mpt_sock_error(const struct mpt_sock *s);
/** True for a listener. */
MPT_API bool mpt_sock_is_listener(const struct mpt_sock *s);
/** Application pointer. */
MPT_API void mpt_sock_set_user(struct mpt_sock *s, void *user);
MPT_API void *mpt_sock_get_user(const struct mpt_sock *s);
/** Local and remote endpoints. */
MPT_API void mpt_sock_endpoints(const struct mpt_sock *s, struct mpt_endpoint *local,
				struct mpt_endpoint *remote);

/** Per-connection transport information (cf. Linux struct tcp_info). */
struct mpt_sock_info {
	char state[16]; /**< "ESTABLISHED", ... */
	uint32_t snd_mss, rcv_mss;
	uint64_t srtt_ns, rttvar_ns, rto_ns, min_rtt_ns;
	uint32_t snd_cwnd, snd_ssthresh, snd_wnd, rcv_wnd;
	uint64_t bytes_sent, bytes_retrans, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, total_retrans, rto_count, fast_retrans;
	uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt; /**< sequence state */
	char cc[MPT_CC_NAME_LEN];
};
/** Fill info for a connection. Returns 0 or MPT_ERR_STATE for a listener. */
MPT_API int mpt_sock_info(const struct mpt_sock *s, struct mpt_sock_info *info);

/* ---- Multipath TCP (RFC 8684 / RFC 6824; RFC 6897 basic API) ---------- */

/**
 * True when the connection uses MPTCP: it was offered and accepted, and it
 * has not fallen back to plain TCP (RFC 6897 §5.3 "get MPTCP enabled").
 * Before the handshake completes: true when MPTCP is being attempted.
 */
MPT_API bool mpt_sock_mptcp_enabled(const struct mpt_sock *s);

/** Connection identifier (RFC 6897 §5.3): the local token, 0 for plain TCP. */
MPT_API uint32_t mpt_sock_conn_id(const struct mpt_sock *s);

#define MPT_MPTCP_INFO_FLAG_FALLBACK            0x1u /**< fell back to TCP */
#define MPT_MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED 0x2u /**< peer's key known */

/** Connection-level information; names follow Linux struct mptcp_info. */
struct mpt_mptcp_info {
	uint8_t mptcpi_subflows;          /**< established MP_JOIN subflows */
	uint8_t mptcpi_add_addr_signal;   /**< ADD_ADDRs we sent */
	uint8_t mptcpi_add_addr_accepted; /**< ADD_ADDRs received and accepted */
	uint8_t mptcpi_subflows_max;      /**< max_subflows */
	uint32_t mptcpi_flags;            /**< MPT_MPTCP_INFO_FLAG_* */
	uint32_t mptcpi_token;            /**< local token */
	uint64_t mptcpi_write_seq;        /**< DSN after the last byte written */
	uint64_t mptcpi_snd_una;          /**< oldest byte not DATA_ACKed */
	uint64_t mptcpi_rcv_nxt;          /**< next DSN expected (our DATA_ACK) */
	uint8_t mptcpi_local_addr_used;   /**< local addresses in use by subflows */
	uint8_t mptcpi_local_addr_max;    /**< local addresses configured */
	uint8_t mptcpi_csum_enabled;      /**< DSS checksums in use */
	uint32_t mptcpi_retransmits;      /**< subflow retransmissions (sum) */
	uint64_t mptcpi_bytes_retrans;    /**< subflow bytes retransmitted (sum) */
	uint64_t mptcpi_bytes_sent;       /**< subflow payload bytes sent (sum) */
	uint64_t mptcpi_bytes_received;   /**< data-level bytes received in order */
	uint64_t mptcpi_bytes_acked;      /**< data-level bytes DATA_ACKed */
	uint8_t mptcpi_subflows_total;    /**< established subflows incl. the initial one */
	uint8_t version;                  /**< negotiated version (0 or 1) */
	bool fallback;                    /**< fell back to plain TCP */
	uint64_t reinjected_bytes;        /**< bytes re-sent on another subflow */
	bool ext_keys;                    /**< external keys negotiated (flag E) */
	uint8_t ext_key_gen;              /**< active external keys so far (0: none yet) */
	bool ext_key_pending;             /**< a key installed, its NEW_KEY not yet confirmed */
	uint32_t remote_token;            /**< the peer's token (0 until known) */
};

/**
 * Fill info.  Returns 0, MPT_ERR_INVAL, or MPT_ERR_STATE for a listener or
 * a socket that never attempted MPTCP.
 */
MPT_API int mpt_sock_mptcp_info(const struct mpt_sock *s, struct mpt_mptcp_info *info);

/**
 * Install the next external key on a connection that negotiated external
 * keys (draft-baerts-tcpm-mptcpext-00 §4.2; docs/external-keys.md): key
 * generation n (0 for the first) gets key id n mod 2 and is announced with
 * NEW_KEY; it becomes active once the peer's NEW_KEY for the same key
 * arrives.  Until the first key is active no join is opened or accepted
 * and no ADD_ADDR is sent or accepted.  Both sides must install the same
 * key (e.g. the TLS exporter's output, docs/external-keys.md).
 *
 * @param len 16..64 bytes (MPT_ERR_INVAL otherwise).
 * @return 0; MPT_ERR_INVAL; MPT_ERR_STATE when the connection did not
 *         negotiate external keys (or is not established, or closed);
 *         MPT_ERR_AGAIN while the previous key is not yet confirmed.
 */
MPT_API int mpt_sock_set_external_key(struct mpt_sock *s, const uint8_t *key, size_t len,
				      uint64_t now);

/** One subflow of a connection. */
struct mpt_subflow_info {
	struct mpt_endpoint local, remote;
	uint8_t local_id, remote_id; /**< address ids */
	bool backup;                 /**< B flag (ours) */
	bool join;                   /**< opened with MP_JOIN (false: the initial subflow) */
	bool active;                 /**< usable for data (join's fourth ACK seen) */
	char state[16];              /**< TCP state name */
	uint64_t srtt_ns;
	uint32_t cwnd; /**< bytes */
	uint64_t bytes_sent, bytes_acked, bytes_received, bytes_retrans;
	uint32_t retransmits;
	bool peer_backup; /**< the peer's B flag: its MP_JOIN or MP_PRIO (RFC 8684 §3.3.8) */
};

/**
 * Copy up to max subflows' information into out.  Returns the number of
 * subflows the connection has (may exceed max), or MPT_ERR_INVAL /
 * MPT_ERR_STATE (listener).  A plain TCP socket reports its one flow.
 */
MPT_API int mpt_sock_subflows(const struct mpt_sock *s, struct mpt_subflow_info *out, size_t max);

/**
 * Add a local address while the stack runs (RFC 6897 §5.3): MPTCP
 * connections may use it for new subflows (listeners announce it with
 * ADD_ADDR, initiators open MP_JOINs from it).  Returns 0, MPT_ERR_INVAL,
 * MPT_ERR_EXIST (already configured) or MPT_ERR_LIMIT (MPT_MAX_LOCAL_ADDRS).
 */
MPT_API int mpt_stack_add_local_addr(struct mpt_stack *st, const struct mpt_addr *a, uint64_t now);

/**
 * Remove a local address (RFC 6897 §5.3; RFC 8684 §3.4.2): every MPTCP
 * connection closes its subflows on it (their data is reinjected on the
 * others) and tells the peer with REMOVE_ADDR.  Plain TCP connections on it
 * are left alone.  Its address id is not reused.  Returns 0, MPT_ERR_INVAL
 * or MPT_ERR_NOTFOUND.
 */
MPT_API int mpt_stack_remove_local_addr(struct mpt_stack *st, const struct mpt_addr *a,
					uint64_t now);

/**
 * Mark the subflows of an MPTCP connection that use local address `local`
 * (NULL: every subflow) as backup or not, and tell the peer with MP_PRIO
 * (RFC 8684 §3.3.8) on each subflow whose flag changed.  The scheduler
 * sends on backup subflows (ours or the peer's) only when no regular
 * subflow is available.  Returns the number of subflows using that address,
 * MPT_ERR_INVAL or MPT_ERR_STATE (not an MPTCP connection / fallen back).
 */
MPT_API int mpt_sock_set_backup(struct mpt_sock *s, const struct mpt_addr *local, bool backup,
				uint64_t now);

/* ---- path-manager events (what an MPT_EV_PM says) ----------------------- */

/** Kinds of path-manager events, named after `ip mptcp monitor`'s. */
enum mpt_pm_event_type {
	MPT_PM_EV_CREATED = 1,    /**< the connection negotiated MPTCP */
	MPT_PM_EV_ESTABLISHED,    /**< fully established (the peer has our key) */
	MPT_PM_EV_CLOSED,         /**< the MPTCP connection ended */
	MPT_PM_EV_ANNOUNCED,      /**< the peer announced an address (ADD_ADDR) */
	MPT_PM_EV_REMOVED,        /**< the peer removed an address (REMOVE_ADDR) */
	MPT_PM_EV_SF_ESTABLISHED, /**< an MP_JOIN subflow completed */
	MPT_PM_EV_SF_CLOSED,      /**< a subflow that carried data ended */
	MPT_PM_EV_SF_PRIORITY,    /**< a subflow's backup flag changed (either side) */
};

/** One path-manager event.  Fields that do not apply are zero. */
struct mpt_pm_event {
	uint8_t type;                /**< enum mpt_pm_event_type */
	uint8_t local_id, remote_id; /**< address ids (remote_id: ANNOUNCED/REMOVED too) */
	bool backup;                 /**< SF_*: the subflow's backup state (ours or the peer's) */
	struct mpt_endpoint local;   /**< SF_*: the subflow's local endpoint */
	struct mpt_endpoint remote;  /**< SF_*: remote endpoint; ANNOUNCED: the address */
	int error;                   /**< SF_CLOSED / CLOSED: the error, 0 for a clean end */
	uint32_t token;              /**< the connection's local token */
};

/**
 * Pop the oldest queued path-manager event of an MPTCP connection.  The
 * connection keeps the last 32; older ones are dropped and counted
 * (PMEventDrop).  Returns 1 (ev filled), 0 (none) or MPT_ERR_INVAL.
 */
MPT_API int mpt_sock_pm_event(struct mpt_sock *s, struct mpt_pm_event *ev);

/* ---- policies (schedulers, path managers) ------------------------------ */

/** Name of built-in scheduler i (0: the default), NULL past the last. */
MPT_API const char *mpt_sched_name(size_t i);
/** Name of built-in path manager i (0: the default), NULL past the last. */
MPT_API const char *mpt_pm_name(size_t i);

/*
 * An external path manager (knob pm = "none", or alongside any other):
 * the application decides which subflows exist and which addresses are
 * announced.  Changes are reported through on_event with MPT_EV_PM; the
 * current state through mpt_sock_subflows() and mpt_pm_remote_addrs().
 */

/**
 * Open a subflow (MP_JOIN) from local address `local` to `remote` (port 0:
 * the connection's).  backup sets the B flag.  Returns 0, MPT_ERR_INVAL
 * (not a local address / family mismatch), MPT_ERR_STATE (not an
 * established MPTCP connection, or the initiator side only: a listener's
 * connection cannot open subflows), MPT_ERR_LIMIT (subflow limits) or
 * MPT_ERR_NOMEM.
 */
MPT_API int mpt_pm_subflow_open(struct mpt_sock *s, const struct mpt_addr *local,
				const struct mpt_endpoint *remote, bool backup, uint64_t now);
/**
 * Close the subflows between local and remote (remote port 0: any) with a
 * reset (MP_TCPRST "administratively prohibited"); their data goes to the
 * other subflows.  Returns the number closed, MPT_ERR_INVAL, MPT_ERR_STATE
 * or MPT_ERR_NOTFOUND.
 */
MPT_API int mpt_pm_subflow_close(struct mpt_sock *s, const struct mpt_addr *local,
				 const struct mpt_endpoint *remote, uint64_t now);
/**
 * Announce one of the stack's local addresses to the peer (ADD_ADDR).
 * Returns 0, MPT_ERR_INVAL (not a local address), MPT_ERR_STATE,
 * MPT_ERR_EXIST (already announced) or MPT_ERR_LIMIT.
 */
MPT_API int mpt_pm_announce(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now);
/**
 * Withdraw a local address on this connection only (REMOVE_ADDR; its
 * subflows are closed).  Returns 0, MPT_ERR_INVAL, MPT_ERR_STATE or
 * MPT_ERR_NOTFOUND.
 */
MPT_API int mpt_pm_withdraw(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now);
/**
 * The peer's known addresses (initial, then ADD_ADDRs still valid), with
 * their address ids in ids (may be NULL).  Returns how many there are (may
 * exceed max), MPT_ERR_INVAL or MPT_ERR_STATE.
 */
MPT_API int mpt_pm_remote_addrs(const struct mpt_sock *s, struct mpt_endpoint *out, uint8_t *ids,
				size_t max);

#ifdef __cplusplus
}
#endif
#endif /* MPT_MPT_H */
