/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCP engine: one connection (or one MPTCP subflow), sans-I/O.
 *
 * RFC 9293 state machine, RFC 5961 hardening, RFC 7323 window scaling /
 * timestamps / PAWS, RFC 2018 SACK with RACK-TLP loss detection (RFC 8985),
 * RFC 2883 D-SACK and RFC 6675 pipe-based recovery, RFC 6298
 * RTO, RFC 5681/6582 congestion control and fast recovery, delayed ACKs,
 * Nagle (switchable), persist timer, keep-alive (switchable), bounded
 * buffers.  Congestion control is an ops table (cc/cc.h).
 *
 * The engine knows nothing about IP: the owner (the stack, or an MPTCP
 * subflow) demultiplexes, parses IP/TCP/options, and hands the engine a
 * parsed segment; outgoing segments come back through a callback as raw
 * TCP bytes (checksum zero) with headroom in front for the IP header.
 * Time (ns) is always an argument; there is no clock, socket, malloc (only
 * the mpt_mem hooks) or RNG (the ISS is an argument) inside.
 */
#ifndef MPT_TCP_TCP_H
#define MPT_TCP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cc/cc.h"
#include "mib.h"
#include "mpt/mpt.h"
#include "wire/tcp.h"

/** Bytes of headroom before every output segment, for the IP header. */
#define MPT_TCP_HEADROOM 64

enum mpt_tcp_state {
	MPT_TCP_CLOSED = 0,
	MPT_TCP_LISTEN, /* not used by the engine itself: listeners live in the stack */
	MPT_TCP_SYN_SENT,
	MPT_TCP_SYN_RECEIVED,
	MPT_TCP_ESTABLISHED,
	MPT_TCP_FIN_WAIT_1,
	MPT_TCP_FIN_WAIT_2,
	MPT_TCP_CLOSE_WAIT,
	MPT_TCP_CLOSING,
	MPT_TCP_LAST_ACK,
	MPT_TCP_TIME_WAIT,
};

/** Name of a state ("ESTABLISHED"). */
const char *mpt_tcp_state_name(enum mpt_tcp_state s);

/** A parsed incoming segment (the stack fills it). */
struct mpt_tcp_seg {
	struct mpt_tcp_hdr hdr;   /**< parsed header; hdr.opt points into the packet */
	struct mpt_tcp_opts opts; /**< parsed options */
	const uint8_t *payload;
	size_t len; /**< payload bytes */
};

/**
 * Events reported through mpt_tcp_cb.on_event.
 *
 * Events are coalesced and delivered when the outermost engine call
 * (input, on_timer, send, recv, connect, accept, shutdown, close, abort)
 * returns, at most once each per call, in this order: ESTABLISHED,
 * READABLE, WRITABLE, ERROR, CLOSED.  Nothing is delivered after CLOSED.
 * A callback may call back into the engine (send, recv, shutdown, ...);
 * it must NOT destroy the engine: destroy it after EV_CLOSED, once the
 * engine call that delivered it has returned.
 * WRITABLE is reported whenever an ACK freed send-buffer space (not only
 * after the buffer was full); READABLE when in-order data or the FIN
 * arrived.  ERROR (reset, timeout, refused) is always followed by CLOSED.
 * A RST in CLOSING/LAST-ACK/TIME-WAIT, abort(), and a close() that resets
 * because of unread data give CLOSED without ERROR.
 */
enum mpt_tcp_event {
	MPT_TCP_EV_ESTABLISHED = 1, /**< handshake complete (either side) */
	MPT_TCP_EV_READABLE,        /**< new in-order data or the peer's FIN */
	MPT_TCP_EV_WRITABLE,        /**< send-buffer space was freed */
	MPT_TCP_EV_ERROR,           /**< reset / timeout / refused: see mpt_tcp_error() */
	MPT_TCP_EV_CLOSED,          /**< reached CLOSED (after TIME-WAIT, LAST-ACK, abort
				       or error); the owner may destroy the engine now */
};

/** Configuration (copied at create time). Zero fields take the defaults. */
struct mpt_tcp_cfg {
	uint16_t mss;       /**< MSS we advertise and cap our segments at (default 1460) */
	uint32_t sndbuf;    /**< send buffer bytes (default 256 KiB) */
	uint32_t rcvbuf;    /**< receive buffer bytes, incl. out-of-order (default 256 KiB) */
	bool no_sack;       /**< do not offer/accept SACK */
	bool no_timestamps; /**< do not offer/accept timestamps */
	bool no_wscale;     /**< do not offer/accept window scaling */
	bool nagle;         /**< enable Nagle (RFC 9293 §3.7.4); off by default */
	bool no_delack;     /**< ACK every segment immediately */
	bool keepalive;     /**< enable keep-alive probes */
	uint64_t keepalive_idle_ns;  /**< default 7200 s */
	uint64_t keepalive_intvl_ns; /**< default 75 s */
	uint32_t keepalive_probes;   /**< default 9 */
	uint64_t delack_ns;          /**< delayed-ACK timeout (default 40 ms; RFC 9293 < 500 ms) */
	uint64_t rto_initial_ns;     /**< default 1 s (RFC 6298 §2.1) */
	uint64_t rto_min_ns;         /**< default 200 ms */
	uint64_t rto_max_ns;         /**< default 60 s */
	uint64_t msl_ns;             /**< TIME-WAIT = 2*MSL (default MSL 30 s) */
	uint32_t syn_retries; /**< SYN / SYN-ACK retransmissions before giving up (default 6) */
	uint32_t max_retries; /**< data retransmissions before giving up (default 15) */
	const struct mpt_cc_ops *cc; /**< default mpt_cc_cubic */
	struct mpt_mib *mib;         /**< counters to bump (may be NULL) */
	uint32_t ts_offset;          /**< random per-connection timestamp offset (RFC 7323 §5.4) */
	/**
	 * Option bytes to keep free for cb.ext_write_opts on non-SYN segments
	 * (SACK blocks are dropped first to make room; capped at 28).  0 = none.
	 */
	uint8_t ext_opt_reserve;
	/**
	 * Like ext_opt_reserve, for segments without payload (pure ACKs), so
	 * that they keep room for SACK blocks while data segments reserve
	 * room for a DSS mapping.  0 = use ext_opt_reserve.
	 */
	uint8_t ext_opt_reserve_ack;
	/**
	 * Segmentation offload (TSO/GSO): the largest payload of one segment
	 * handed to cb.output, which the owner's device cuts into segments of
	 * the size it is given (each carrying the same header and options:
	 * valid for timestamps and for an MPTCP DSS mapping that covers them
	 * all, RFC 8684 §3.3).  0: one MSS (no offload).  Retransmissions are
	 * never offloaded.
	 */
	uint32_t tso_max;
	/**
	 * The output buffer, shared by every engine of one owner (the owner
	 * consumes a segment before the next one is built): at least
	 * MPT_TCP_HEADROOM + 60 + max(mss, tso_max) bytes.  NULL: the engine
	 * allocates its own, for one MSS.
	 */
	uint8_t *obuf;
	size_t obuf_cap;
};

/** Information about an outgoing segment, for the extension hook. */
struct mpt_tcp_out_info {
	uint16_t flags;  /**< MPT_TCP_* flags of the segment */
	uint32_t seq;    /**< sequence number of the segment */
	uint32_t len;    /**< payload length; the hook may reduce it (never to 0 if it was > 0) */
	bool retransmit; /**< this payload was sent before */
};

/**
 * Callbacks from the engine to its owner.  output and on_event are
 * mandatory; ext_* are for the MPTCP layer and may be NULL.
 */
struct mpt_tcp_cb {
	/**
	 * A segment to send: seg points at the TCP header (checksum field 0),
	 * len is header+options+payload, and MPT_TCP_HEADROOM bytes before seg
	 * are writable (for the IP header).  The buffer is reused after return.
	 * gso: 0 for one segment; else (cfg.tso_max) the payload size of the
	 * segments the device cuts this one into (the last may be shorter).
	 */
	void (*output)(void *ud, uint8_t *seg, size_t len, uint32_t gso);
	/** State changes and readiness (see enum mpt_tcp_event). */
	void (*on_event)(void *ud, enum mpt_tcp_event ev);
	/**
	 * Write extra options (e.g. MPTCP) for the segment described by info,
	 * into buf (room bytes available after the engine's own options).
	 * May reduce info->len (to keep a segment inside a DSS mapping).
	 * Returns bytes written (the engine pads to 4).
	 */
	size_t (*ext_write_opts)(void *ud, struct mpt_tcp_out_info *info, uint8_t *buf,
				 size_t room);
	/**
	 * An incoming segment passed the sequence/ACK checks and is about to be
	 * processed (called for SYN, SYN-ACK and acceptable segments).
	 */
	void (*ext_input)(void *ud, const struct mpt_tcp_seg *seg);
	/**
	 * Optional: bytes the owner can still take beyond what this engine
	 * holds (MPTCP: the connection-level receive buffer, RFC 8684
	 * §3.3.4).  The advertised window is the smaller of that and the
	 * engine's own free space (it never shrinks an edge already sent).
	 */
	uint32_t (*ext_rcv_space)(void *ud);
	/**
	 * Optional: in-order payload offered straight to the owner instead of
	 * the receive ring (one copy less: MPTCP puts it in the data-level
	 * buffer, docs/architecture.md).  Called from mpt_tcp_input, only
	 * when the ring holds no readable byte, for n bytes starting at
	 * RCV.NXT (seq) that end before any out-of-order data held.  Returns
	 * how many of the first bytes it took (0..n): those count as received
	 * and already read (acknowledged as usual); the rest go to the ring.
	 * It must not call into this engine.
	 */
	uint32_t (*ext_rcv_direct)(void *ud, uint32_t seq, const uint8_t *data, uint32_t n);
	/**
	 * Optional: the payload of [seq, seq + n) for a segment being built,
	 * when the owner queued bytes it keeps itself (mpt_tcp_send_owned:
	 * MPTCP reads them from the data-level buffer, one copy less,
	 * docs/architecture.md).  Fills all n bytes at dst and returns true,
	 * or returns false and the engine reads its ring (bytes queued with
	 * mpt_tcp_send, or given to it with mpt_tcp_snd_fill).  The owner
	 * may read the ring for parts with mpt_tcp_snd_peek; it must not
	 * call anything else in the engine.
	 */
	bool (*ext_snd_read)(void *ud, uint32_t seq, uint8_t *dst, uint32_t n);
	/**
	 * Optional: called when a public call into the engine (input, timer,
	 * send, ...) returns, after its events: the engine's timers may have
	 * changed (the owner's timer heap looks again: mpt_tcp_next_deadline).
	 */
	void (*touched)(void *ud);
	void *ud;
};

/** Per-connection information (names follow struct tcp_info where possible). */
struct mpt_tcp_info {
	enum mpt_tcp_state state;
	uint32_t snd_mss;   /**< our effective send MSS */
	uint32_t rcv_mss;   /**< MSS the peer advertised */
	uint8_t snd_wscale; /**< peer's shift (applied to its windows) */
	uint8_t rcv_wscale; /**< our shift */
	bool sack_ok, ts_ok;
	uint64_t srtt_ns, rttvar_ns, rto_ns, min_rtt_ns;
	uint64_t rto_base_ns;  /**< the RTO before backoff (RFC 6298 §2) */
	uint32_t backoff;      /**< RTO doublings since the last new ACK (RFC 6298 §5.5) */
	uint32_t snd_cwnd;     /**< bytes */
	uint32_t snd_ssthresh; /**< bytes */
	uint32_t snd_wnd;      /**< peer's window, bytes */
	uint32_t rcv_wnd;      /**< window we advertise, bytes */
	uint32_t in_flight;    /**< RFC 6675 pipe estimate, bytes */
	uint32_t unacked;      /**< snd_nxt - snd_una */
	uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt;
	uint64_t bytes_sent; /**< payload bytes sent incl. retransmissions */
	uint64_t bytes_retrans;
	uint64_t bytes_acked;    /**< payload bytes cumulatively acknowledged */
	uint64_t bytes_received; /**< payload bytes delivered in order */
	uint32_t segs_out, segs_in, total_retrans, rto_count, fast_retrans;
	uint32_t dup_acks_in;
	uint32_t ofo_segs; /**< out-of-order ranges (merged segments) currently held */
	uint32_t sndbuf_used, rcvbuf_used;
	uint32_t
	    snd_payload; /**< payload of a full data segment after options (0: none sent yet) */
	char cc_name[16];
	/* RACK-TLP (RFC 8985) and D-SACK (RFC 2883), SACK connections only */
	uint32_t reord_seen;  /**< reordered deliveries detected (RFC 8985 §6.2 step 3) */
	uint32_t dsack_rcvd;  /**< D-SACK blocks received */
	uint32_t tlp_probes;  /**< tail loss probes sent */
	uint32_t undo_count;  /**< spurious reductions undone (D-SACK) */
	uint64_t reo_wnd_ns;  /**< current RACK reordering window */
	uint64_t last_rcv_ns; /**< when the last acceptable segment arrived */
};

struct mpt_tcp;

/**
 * Create an engine in CLOSED.  cfg may be NULL (defaults).  cb->output and
 * cb->on_event are required.  Returns 0, MPT_ERR_INVAL or MPT_ERR_NOMEM.
 */
int mpt_tcp_create(const struct mpt_mem *mem, const struct mpt_tcp_cfg *cfg,
		   const struct mpt_tcp_cb *cb, struct mpt_tcp **out);
/** Free the engine and its buffers (no segment is sent). NULL is a no-op. */
void mpt_tcp_destroy(struct mpt_tcp *tcp);

/**
 * Active open: send a SYN with sequence iss (RFC 6528 ISN from the owner).
 * Returns 0 or MPT_ERR_STATE (not CLOSED).
 */
int mpt_tcp_connect(struct mpt_tcp *tcp, uint32_t iss, uint64_t now);

/**
 * Passive open from a listener: syn is the received SYN (already checked to
 * carry SYN and not ACK/RST); the engine enters SYN-RECEIVED and sends a
 * SYN-ACK with sequence iss.  Returns 0, MPT_ERR_STATE or MPT_ERR_PROTO.
 */
int mpt_tcp_accept(struct mpt_tcp *tcp, const struct mpt_tcp_seg *syn, uint32_t iss, uint64_t now);

/** TCP Fast Open on a passive open (RFC 7413 §4.2.2); the owner checks cookies. */
struct mpt_tcp_tfo {
	bool accept_data;   /**< take the SYN's payload (valid cookie, or none required) */
	uint8_t cookie_len; /**< cookie for the SYN-ACK's TFO option (0: no option) */
	uint8_t cookie[16];
};

/**
 * mpt_tcp_accept with TCP Fast Open: with tfo->accept_data the SYN's payload
 * (as much as the receive buffer holds; a FIN on the SYN is not taken) is
 * queued for the application and acknowledged by the SYN-ACK, which also
 * carries tfo->cookie when cookie_len is 4..16 and even.  tfo NULL: as
 * mpt_tcp_accept.  Same return values.
 */
int mpt_tcp_accept_tfo(struct mpt_tcp *tcp, const struct mpt_tcp_seg *syn, uint32_t iss,
		       const struct mpt_tcp_tfo *tfo, uint64_t now);

/**
 * A SYN-ACK answering syn without creating a connection (SYN cookies, RFC
 * 4987 §3.6): the TCP header and options an engine created with cfg would
 * send in SYN-RECEIVED after mpt_tcp_accept(syn, iss), with TSval tsval,
 * followed by ext_len extension (MPTCP) option bytes.  Written at buf (cap
 * bytes); the checksum is left to the caller.  Returns the header length or
 * MPT_ERR_INVAL / MPT_ERR_NOSPACE.
 */
int mpt_tcp_synack_build(const struct mpt_tcp_cfg *cfg, const struct mpt_tcp_seg *syn, uint32_t iss,
			 uint32_t tsval, const uint8_t *ext, size_t ext_len, uint8_t *buf,
			 size_t cap);

/**
 * The handshake this passive connection just made was answered by a SYN
 * cookie: no RTT sample comes from it (the engine did not send that
 * SYN-ACK itself, and its TSval was rounded).
 */
void mpt_tcp_skip_handshake_rtt(struct mpt_tcp *tcp);

/**
 * Process an incoming segment for this connection (RFC 9293 §3.10.7).
 * The checksum was verified by the owner.  Always consumes the segment;
 * unacceptable segments are counted, answered (ACK / challenge ACK) or
 * dropped as the RFCs say.  Returns 0, or a negative error describing why
 * the segment was dropped (informational; the engine stays consistent).
 */
int mpt_tcp_input(struct mpt_tcp *tcp, const struct mpt_tcp_seg *seg, uint64_t now);

/**
 * Queue application data.  Returns bytes accepted (0..len, bounded by the
 * free send-buffer space), MPT_ERR_AGAIN when the buffer is full,
 * MPT_ERR_STATE before the handshake began, MPT_ERR_CLOSED after shutdown.
 * Data may be queued in SYN-SENT/SYN-RECEIVED; it is sent once established.
 */
long mpt_tcp_send(struct mpt_tcp *tcp, const void *data, size_t len, uint64_t now);
/** mpt_tcp_send of data followed by data2 (a ring's two pieces: one copy
 *  for an owner whose bytes wrap, one output pass for both). */
long mpt_tcp_send2(struct mpt_tcp *tcp, const void *data, size_t len, const void *data2,
		   size_t len2, uint64_t now);
/**
 * Queue len bytes the owner keeps: they take send-buffer room as with
 * mpt_tcp_send, but are not copied; each segment asks cb.ext_snd_read for
 * its payload.  Until the peer acknowledges them the owner must be able to
 * supply them, or hand them over with mpt_tcp_snd_fill.  Returns as
 * mpt_tcp_send; MPT_ERR_INVAL without cb.ext_snd_read.
 */
long mpt_tcp_send_owned(struct mpt_tcp *tcp, size_t len, uint64_t now);
/** Copy bytes [seq, seq + n) into the send ring (owned bytes the owner can
 *  no longer supply).  The part below the oldest byte still held (already
 *  acknowledged) and beyond the queued data is ignored.  It only writes
 *  the ring: the owner may call it from its hooks (ext_input). */
void mpt_tcp_snd_fill(struct mpt_tcp *tcp, uint32_t seq, const void *src, uint32_t n);
/** Read [seq, seq + n) of the send ring (inside the bytes still held);
 *  for cb.ext_snd_read. */
void mpt_tcp_snd_peek(const struct mpt_tcp *tcp, uint32_t seq, void *dst, uint32_t n);
/** Sequence number of the oldest byte the send buffer still holds. */
uint32_t mpt_tcp_snd_held_seq(const struct mpt_tcp *tcp);

/**
 * Read in-order data.  Returns bytes copied (>0), 0 at end of stream (peer's
 * FIN consumed and no data left), MPT_ERR_AGAIN when nothing is available,
 * or the connection's error (MPT_ERR_RESET, ...) once it failed.
 * Reading opens the window (a window update is sent when it grew enough).
 */
long mpt_tcp_recv(struct mpt_tcp *tcp, void *buf, size_t len, uint64_t now);

/**
 * Zero-copy reading, for an owner that moves the bytes somewhere else
 * anyway (MPTCP: into the data-level buffer): the in-order bytes at
 * offset off from the first unread one that lie contiguous in the receive
 * ring.  Returns their count (0: none at off, or at the ring's end: ask
 * again at off + what was returned) and sets *p.  The bytes stay until
 * mpt_tcp_recv_consume.
 */
size_t mpt_tcp_recv_peek(const struct mpt_tcp *tcp, size_t off, const uint8_t **p);
/** Mark n in-order bytes read, as mpt_tcp_recv would (window update
 *  included); n at most mpt_tcp_readable.  The bytes' memory may go at the
 *  end of the call (a TIME-WAIT engine frees its emptied ring): an owner
 *  that still reads them after consuming holds the engine around both. */
void mpt_tcp_recv_consume(struct mpt_tcp *tcp, size_t n, uint64_t now);
/**
 * Hold the engine: what ends each call on it (freeing emptied rings,
 * delivering its events) waits until the matching mpt_tcp_unhold, which
 * does it.  Calls nest.  After mpt_tcp_unhold the engine may be gone (an
 * event handler may destroy it), as after any call.
 */
void mpt_tcp_hold(struct mpt_tcp *tcp);
void mpt_tcp_unhold(struct mpt_tcp *tcp);

/** Bytes readable now without blocking. */
size_t mpt_tcp_readable(const struct mpt_tcp *tcp);
/** Free send-buffer space. */
size_t mpt_tcp_writable(const struct mpt_tcp *tcp);

/** Half-close: send FIN after queued data. Returns 0 or MPT_ERR_STATE. */
int mpt_tcp_shutdown(struct mpt_tcp *tcp, uint64_t now);
/**
 * Full close (RFC 9293 CLOSE): like shutdown; unread received data or data
 * arriving afterwards causes a RST (RFC 9293 §3.6 / RFC 2525).
 */
int mpt_tcp_close(struct mpt_tcp *tcp, uint64_t now);
/** Abort: send RST (if synchronized) and go to CLOSED. */
void mpt_tcp_abort(struct mpt_tcp *tcp, uint64_t now);

/** Earliest pending timer deadline, or MPT_TIME_NEVER. */
uint64_t mpt_tcp_next_deadline(const struct mpt_tcp *tcp);
/** Run every timer whose deadline is <= now. */
void mpt_tcp_on_timer(struct mpt_tcp *tcp, uint64_t now);

enum mpt_tcp_state mpt_tcp_get_state(const struct mpt_tcp *tcp);
/** 0, or the error that ended the connection (MPT_ERR_RESET, _TIMEDOUT, _REFUSED). */
int mpt_tcp_error(const struct mpt_tcp *tcp);
void mpt_tcp_get_info(const struct mpt_tcp *tcp, struct mpt_tcp_info *info);

/**
 * What the MPTCP layer asks of every subflow at every step (progress,
 * staleness, its deadline): a subset of mpt_tcp_info with the same values,
 * without the costs of the full call (clearing ~200 bytes, the RFC 6675
 * pipe walk, the RACK window, the congestion control's name).
 */
struct mpt_tcp_progress {
	uint64_t bytes_acked; /**< as mpt_tcp_info.bytes_acked */
	uint64_t last_rcv_ns; /**< as mpt_tcp_info.last_rcv_ns */
	uint64_t rto_ns;      /**< current RTO with backoff, as mpt_tcp_info.rto_ns */
	uint32_t snd_una;
	uint32_t unacked; /**< snd_nxt - snd_una */
	uint32_t backoff;
	uint32_t rto_count;
};
void mpt_tcp_get_progress(const struct mpt_tcp *tcp, struct mpt_tcp_progress *p);

/** Sequence number of the next byte mpt_tcp_send will append (for DSS mapping). */
uint32_t mpt_tcp_snd_write_seq(const struct mpt_tcp *tcp);
/** Sequence number of the next byte mpt_tcp_recv will return. */
uint32_t mpt_tcp_rcv_read_seq(const struct mpt_tcp *tcp);
/**
 * The engine's congestion state, for an owner that couples it with others
 * (MPTCP: mpt_cc_group_join / _leave).  It lives as long as the engine and
 * never moves.
 */
struct mpt_cc *mpt_tcp_cc(struct mpt_tcp *tcp);
/** mpt_tcp_send_ack() exists (for owners that build against older engines). */
#define MPT_TCP_HAVE_SEND_ACK 1
/**
 * Send a pure ACK now (in a synchronized state; otherwise nothing), e.g.
 * for the MPTCP layer to carry options that are not tied to data (the
 * fourth ACK of an MP_JOIN, ADD_ADDR, a DATA_ACK or DATA_FIN).
 */
void mpt_tcp_send_ack(struct mpt_tcp *tcp, uint64_t now);
/**
 * The owner freed receive space (ext_rcv_space grew): send a window update
 * if the window grew enough (the same rule as after mpt_tcp_recv).
 */
void mpt_tcp_window_check(struct mpt_tcp *tcp, uint64_t now);
/** Toggle Nagle at run time. */
void mpt_tcp_set_nagle(struct mpt_tcp *tcp, bool on);

/**
 * Set the ports written into outgoing headers (host byte order).  Needed
 * before mpt_tcp_connect; mpt_tcp_accept takes them from the SYN (swapped).
 */
void mpt_tcp_set_ports(struct mpt_tcp *tcp, uint16_t sport, uint16_t dport);

/**
 * True when seg is a SYN that may reopen this connection from TIME-WAIT
 * (RFC 9293 §3.10.7.4 / RFC 6191: SEG.SEQ > RCV.NXT, or with timestamps a
 * TSval newer than TS.Recent).  The owner then destroys this engine and
 * accepts the SYN on a new one; otherwise mpt_tcp_input answers the SYN
 * with a challenge ACK.
 */
bool mpt_tcp_timewait_reusable(const struct mpt_tcp *tcp, const struct mpt_tcp_seg *seg);

/**
 * Build the RST that answers a segment for which no connection exists
 * (RFC 9293 §3.10.7.1): if the segment has ACK, <SEQ=SEG.ACK><CTL=RST>;
 * otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN and FIN count
 * one).  Never answers a RST.  Writes the 20-byte TCP header (ports
 * swapped, checksum 0) at buf.  Returns the length written (20), 0 when no
 * RST is due (the segment was a RST), or MPT_ERR_NOSPACE.
 */
int mpt_tcp_make_rst(const struct mpt_tcp_seg *in, uint8_t *buf, size_t cap);

#endif /* MPT_TCP_TCP_H */
