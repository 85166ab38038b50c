/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal state of the TCP engine, shared by the src/tcp/ files.
 *
 * Layout of the sequence space (send side):
 *
 *   iss   snd_una        rxt_high       snd_nxt        data_end (=sb_seq+sb.len)
 *    |SYN|---acked---|====in flight (holes/SACKed)====|----unsent----|FIN|
 *
 * The send buffer (a ring) holds the bytes from sb_seq (== snd_una once the
 * SYN is acknowledged) to data_end.  Without SACK, retransmission state is
 * range based: rxt_high is one past the highest byte retransmitted in the
 * current recovery episode (RFC 6675 HighRxt + 1).  The SACK scoreboard is
 * a small sorted array of ranges.  With SACK, RACK-TLP (RFC 8985) also keeps
 * a bounded ring of per-transmission records (txr) covering [snd_una,
 * snd_nxt) with send times and SACKED/LOST/RETRANS flags, which pipe and
 * NextSeg use.
 *
 * Receive side: the receive ring holds in-order bytes [read_seq, rcv_nxt)
 * and out-of-order bytes at their offset from read_seq, with a sorted list
 * of out-of-order intervals (bounded).  The right edge we advertised is
 * rcv_adv; it never moves left, and data up to it is accepted.  rcv_sent is
 * the edge of the last window sent: below rcv_adv only when the owner's
 * space (ext_rcv_space: MPTCP's data level) made the window shrink.
 */
#ifndef MPT_TCP_TCP_INTERNAL_H
#define MPT_TCP_TCP_INTERNAL_H

#include "common.h"
#include "tcp/tcp.h"

#define TCP_OFO_MAX         64  /* out-of-order intervals kept by the receiver */
#define TCP_SCB_MAX         64  /* SACK scoreboard ranges kept by the sender */
#define TCP_DUPTHRESH       3   /* RFC 5681 / RFC 6675 DupThresh */
#define TCP_MIN_MSS         64  /* smallest peer MSS we accept (anti tiny-segment) */
#define TCP_DEFAULT_MSS     536 /* RFC 9293 §3.7.1: MSS when the option is absent */
#define TCP_TS_OPT_LEN      12  /* NOP NOP TS(10) */
#define TCP_CHALLENGE_PER_S 10  /* RFC 5961 §7 challenge-ACK budget per second */
#define TCP_PAWS_IDLE_NS    (UINT64_C(24) * 24 * 3600 * MPT_NS_PER_S) /* RFC 7323 §5.5 */
#define TCP_CLOCK_G_NS      MPT_NS_PER_MS         /* RFC 6298 clock granularity G */
#define TCP_WCDELACK_NS     (200 * MPT_NS_PER_MS) /* RFC 8985 §7.2 WCDelAckT */
#define TCP_PTO_MIN_NS      (10 * MPT_NS_PER_MS)  /* floor of the TLP probe timeout */
#define TCP_REO_PERSIST     16 /* RFC 8985 §6.2 step 4: recoveries a grown reo_wnd lasts */
#define TCP_REO_MULT_MAX    64 /* bound of RACK.reo_wnd_mult (reo_wnd <= SRTT anyway) */

/* Flags of a transmit record (RACK, RFC 8985 §5.2 per-segment state). */
#define TCP_TXR_SACKED   0x01u /* selectively acknowledged */
#define TCP_TXR_LOST     0x02u /* marked lost (stays set when retransmitted) */
#define TCP_TXR_RETRANS  0x04u /* latest transmission is a retransmission, in flight */
#define TCP_TXR_EVER_RTX 0x08u /* retransmitted at least once (RACK "retransmitted") */

struct tcp_range {
	uint32_t l; /* first sequence number */
	uint32_t r; /* one past the last */
};

/** A byte ring; data lives at offsets relative to head. */
struct tcp_ring {
	uint8_t *buf;
	uint32_t cap;
	uint32_t head; /* offset of the first byte */
	uint32_t len;  /* bytes counted as "in" the ring (in-order part) */
};

/*
 * One transmission of a sequence range (RFC 8985 §5.2): the unit that RACK
 * times.  Records live in a ring ordered by sequence number and cover
 * [SND.UNA, SND.NXT) exactly (data and FIN).
 */
struct tcp_txrec {
	uint64_t xmit_ts; /* time of the latest (re)transmission */
	uint32_t start;   /* first sequence number */
	uint32_t end;     /* one past the last */
	uint32_t flags;   /* TCP_TXR_* */
};

enum tcp_ca_state {
	TCP_CA_OPEN = 0, /* no loss detected */
	TCP_CA_RECOVERY, /* fast recovery (RFC 6675 / RFC 6582) */
	TCP_CA_LOSS,     /* after an RTO: go-back-N below `recover` */
};

struct mpt_tcp {
	struct mpt_mem mem;
	struct mpt_tcp_cfg cfg;
	struct mpt_tcp_cb cb;
	enum mpt_tcp_state state;
	int err;
	uint16_t sport, dport;
	bool opened;            /* connect/accept was called */
	bool passive;           /* opened by accept */
	uint8_t tfo_cookie_len; /* RFC 7413: cookie for our SYN-ACK (0: none) */
	bool tfo_send;          /* SYN data accepted: data may go in SYN-RECEIVED */
	uint8_t tfo_cookie[16];
	bool app_closed; /* close() (not just shutdown) was called */
	bool shut_wr;    /* shutdown/close requested: FIN after queued data */
	bool fin_queued; /* fin_seq valid (FIN is part of the sequence space) */
	bool fin_sent;

	/* --- send sequence space (RFC 9293 §3.3.1) --- */
	uint32_t iss, snd_una, snd_nxt;
	uint32_t snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
	uint32_t fin_seq;
	struct tcp_ring sb;
	uint32_t sb_seq; /* sequence number of the first byte in sb */

	/* --- receive sequence space --- */
	uint32_t irs, rcv_nxt, rcv_adv, rcv_sent, read_seq, last_ack_sent;
	struct tcp_ring rb;
	bool fin_rcvd;
	bool ofo_fin; /* a FIN beyond rcv_nxt was seen at ofo_fin_seq */
	uint32_t ofo_fin_seq;
	struct tcp_range ofo[TCP_OFO_MAX];
	uint32_t n_ofo;
	uint32_t sack_recent[MPT_TCP_MAX_SACK]; /* a seq inside recently changed blocks */
	uint32_t n_sack_recent;

	/* --- negotiated options --- */
	uint32_t peer_mss;  /* MSS option of the peer (536 if absent) */
	uint32_t mss_cap;   /* min(peer_mss, cfg.mss): header-less segment size bound */
	uint32_t snd_mss;   /* payload bytes of a full segment (mss_cap - TS option) */
	uint8_t snd_wscale; /* peer's shift */
	uint8_t rcv_wscale; /* our shift (0 unless negotiated) */
	uint8_t rcv_wscale_offer;
	bool ws_ok, sack_ok, ts_ok;
	uint32_t ts_recent;
	bool skip_ts_rtt; /* no RTT sample from the next ACK's TSecr (SYN cookie) */
	uint64_t ts_recent_stamp;

	/* --- ACK generation --- */
	bool ack_now;         /* send an ACK at the end of this call */
	uint32_t rcv_unacked; /* bytes received since the last ACK we sent */
	uint64_t delack_at;

	/* --- RTT / RTO (RFC 6298) --- */
	uint64_t srtt, rttvar, rto, min_rtt;
	bool rtt_timing;
	uint32_t rtt_seq; /* timed segment: sample when SND.UNA passes this */
	uint64_t rtt_sent_at;
	uint32_t backoff, retries;

	/* --- timers (absolute deadlines, MPT_TIME_NEVER = off) --- */
	uint64_t rtx_at, persist_at, ka_at, tw_at;
	uint32_t persist_backoff, persist_probes, ka_probes;
	uint64_t last_rcv, last_send;

	/* --- loss recovery --- */
	enum tcp_ca_state ca_state;
	uint32_t recover;     /* RFC 6675 RecoveryPoint / RFC 6582 recover */
	uint32_t rxt_high;    /* one past the highest retransmitted byte */
	uint32_t fr_lost_end; /* [snd_una, fr_lost_end) presumed lost (fast retransmit) */
	uint32_t dupacks;
	bool recover_valid;
	struct tcp_range scb[TCP_SCB_MAX];
	uint32_t n_scb;
	uint32_t sacked_bytes;
	bool cwnd_limited;
	uint32_t cwnd_lim_end; /* cwnd_limited holds until snd_una passes this */
	uint32_t last_maxpay;  /* payload of a full data segment with its options */
	uint32_t alone_max;    /* largest payload sent in a packet of one segment */

	struct mpt_cc cc;
	bool cc_started;

	/* --- RACK-TLP (RFC 8985), used when SACK is on --- */
	bool rack_on;       /* SACK negotiated: RACK detects losses */
	bool fr_force;      /* recovery just began: one retransmission regardless of cwnd */
	bool rack_lost_rtx; /* RACK just found a lost retransmission */
	bool lrtx_round_valid;
	uint32_t lrtx_round;   /* no second reduction before SND.UNA passes this */
	struct tcp_txrec *txr; /* ring of transmit records (allocated at create) */
	uint32_t txr_cap, txr_head, txr_n;
	uint32_t txr_sacked;       /* bytes of SACKED records */
	uint32_t txr_lost;         /* bytes of LOST, un-SACKed records */
	uint32_t txr_lost_pending; /* ... of those, not retransmitted since */
	uint32_t txr_retrans;      /* bytes of RETRANS, un-SACKed records */
	bool rack_valid;           /* RACK.xmit_ts / end_seq / rtt are set */
	uint64_t rack_xmit_ts;     /* RACK.xmit_ts: newest delivered transmission */
	uint32_t rack_end_seq;     /* RACK.end_seq */
	uint64_t rack_rtt;         /* RACK.rtt */
	uint32_t rack_fack;        /* RACK.fack: highest delivered end sequence */
	bool rack_fack_valid;
	uint32_t rack_prior_fack; /* RACK.fack before the ACK being processed */
	bool rack_prior_fack_valid;
	bool rack_reord;           /* RACK.reordering_seen */
	uint32_t rack_reo_mult;    /* RACK.reo_wnd_mult */
	uint32_t rack_reo_persist; /* RACK.reo_wnd_persist */
	bool rack_dsack_round_valid;
	uint32_t rack_dsack_round; /* RACK.dsack_round */
	uint64_t reo_at;           /* RACK reordering timer (§6.3) */
	/* TLP (§7) */
	uint64_t pto_at;
	bool pto_restart; /* new data sent / SND.UNA advanced: restart PTO */
	bool tlp_out;     /* TLP.end_seq is set */
	bool tlp_retrans; /* TLP.is_retrans */
	uint32_t tlp_end; /* TLP.end_seq */
	/* Undo of a spurious reduction (RFC 3708 D-SACK based, Eifel-like) */
	bool undo_valid;
	bool undo_rto;         /* the episode began with an RTO */
	uint32_t undo_marker;  /* SND.UNA when the episode began */
	uint32_t undo_retrans; /* retransmissions not yet D-SACKed */
	uint32_t undo_total;   /* retransmissions in the episode */
	struct mpt_cc undo_cc; /* congestion state before the reduction */
	/* D-SACK generation (RFC 2883, receiver) */
	bool dsack_pending;
	struct tcp_range dsack;

	/* --- RFC 5961 challenge ACK budget --- */
	uint64_t chal_start;
	uint32_t chal_count;

	/* --- events (coalesced, delivered when the outermost call returns) --- */
	uint32_t ev_pending;
	uint32_t depth;
	bool closed_reported;

	/* --- output scratch --- */
	uint8_t *obuf;
	size_t obuf_cap;

	/* --- statistics --- */
	uint64_t bytes_sent, bytes_retrans, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, total_retrans, rto_count, fast_retrans, dup_acks_in;
	uint32_t reord_seen, dsack_rcvd, tlp_probes, undo_count;
};

/* tcp.c */
void tcp_event(struct mpt_tcp *t, enum mpt_tcp_event ev);
void tcp_enter(struct mpt_tcp *t);
void tcp_leave(struct mpt_tcp *t);
void tcp_set_state(struct mpt_tcp *t, enum mpt_tcp_state s);
void tcp_fail(struct mpt_tcp *t, int err);
void tcp_become_closed(struct mpt_tcp *t);
void tcp_established(struct mpt_tcp *t, uint64_t now);
void tcp_negotiate(struct mpt_tcp *t, const struct mpt_tcp_opts *o);
void tcp_start_fin(struct mpt_tcp *t);
bool tcp_synchronized(enum mpt_tcp_state s);
uint32_t tcp_tsval(const struct mpt_tcp *t, uint64_t now);
/* Fill zero fields of a configuration with the defaults. */
void tcp_apply_defaults(struct mpt_tcp_cfg *c);
/* Window scale we offer for a receive buffer of rcvbuf bytes. */
uint8_t tcp_wscale_for(uint32_t rcvbuf);

/* tcp_buf.c */
int tcp_ring_init(struct tcp_ring *r, const struct mpt_mem *m, uint32_t cap);
void tcp_ring_free(struct tcp_ring *r, const struct mpt_mem *m);
void tcp_ring_write(struct tcp_ring *r, uint32_t off, const uint8_t *src, uint32_t n);
void tcp_ring_read(const struct tcp_ring *r, uint32_t off, uint8_t *dst, uint32_t n);
void tcp_ring_consume(struct tcp_ring *r, uint32_t n);
/* Result bits of tcp_rcv_data. */
#define TCP_RCV_INORDER 1u /* rcv_nxt advanced */
#define TCP_RCV_OFO     2u /* stored out of order */
#define TCP_RCV_FILLED  4u /* filled (part of) a gap */
#define TCP_RCV_DROP    8u /* could not be stored (interval list full) */
unsigned tcp_rcv_data(struct mpt_tcp *t, uint32_t seq, const uint8_t *data, uint32_t n);
uint32_t tcp_rcv_avail(const struct mpt_tcp *t);
uint32_t tcp_rcv_space(const struct mpt_tcp *t);
uint32_t tcp_sack_blocks(struct mpt_tcp *t, struct mpt_sack_block *out, uint32_t max);
void tcp_dsack_note(struct mpt_tcp *t, uint32_t l, uint32_t r);

/* tcp_sack.c */
/* Result of the SACK option of one ACK. */
struct tcp_sack_res {
	uint32_t newly_sacked; /* bytes newly SACKed */
	bool dsack;            /* the first block was a D-SACK (RFC 2883 §4) */
	struct tcp_range dsack_range;
};
void tcp_scb_update(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, uint64_t now,
		    struct tcp_sack_res *res);
void tcp_scb_trim(struct mpt_tcp *t);
void tcp_scb_clear(struct mpt_tcp *t);
bool tcp_scb_reneged(const struct mpt_tcp *t);
uint32_t tcp_pipe(const struct mpt_tcp *t);
bool tcp_first_hole_lost(const struct mpt_tcp *t);
bool tcp_next_rtx(const struct mpt_tcp *t, uint32_t *seq, uint32_t *len);

/* tcp_in.c */
void tcp_enter_recovery(struct mpt_tcp *t, uint64_t now);

/* tcp_rack.c */
int tcp_txr_init(struct mpt_tcp *t);
void tcp_txr_free(struct mpt_tcp *t);
void tcp_txr_sent(struct mpt_tcp *t, uint32_t seq, uint32_t consumed, uint64_t now);
void tcp_txr_sacked(struct mpt_tcp *t, uint32_t l, uint32_t r, const struct tcp_range *blk,
		    uint64_t now, const struct mpt_tcp_seg *seg);
void tcp_txr_acked(struct mpt_tcp *t, uint64_t now, const struct mpt_tcp_seg *seg);
void tcp_txr_unsack_all(struct mpt_tcp *t);
void tcp_txr_all_lost(struct mpt_tcp *t);
uint32_t tcp_rack_pipe(const struct mpt_tcp *t);
bool tcp_rack_next_lost(const struct mpt_tcp *t, uint32_t *seq, uint32_t *len);
uint64_t tcp_rack_reo_wnd(const struct mpt_tcp *t);
void tcp_rack_detect_loss(struct mpt_tcp *t, uint64_t now);
void tcp_rack_dsack(struct mpt_tcp *t, const struct tcp_range *d);
void tcp_rack_recovery_exit(struct mpt_tcp *t);
void tcp_undo_begin(struct mpt_tcp *t, bool rto);
void tcp_undo_check(struct mpt_tcp *t);
void tcp_tlp_ack(struct mpt_tcp *t, const struct mpt_tcp_seg *seg, const struct tcp_sack_res *sr,
		 bool pure_dup, uint64_t now);
void tcp_tlp_arm(struct mpt_tcp *t, uint64_t now);
void tcp_tlp_fire(struct mpt_tcp *t, uint64_t now);
void tcp_rack_timer(struct mpt_tcp *t, uint64_t now);
void tcp_rack_react(struct mpt_tcp *t, uint64_t now);

/* tcp_out.c */
uint32_t tcp_xmit(struct mpt_tcp *t, uint32_t seq, uint32_t len, uint16_t flags, bool fin_ok,
		  uint64_t now);
void tcp_send_ack(struct mpt_tcp *t, uint64_t now);
bool tcp_ack_budget(struct mpt_tcp *t, uint64_t now);
void tcp_send_challenge_ack(struct mpt_tcp *t, uint64_t now);
void tcp_send_rst(struct mpt_tcp *t, uint32_t seq, uint32_t ack, bool with_ack, uint64_t now);
void tcp_send_syn(struct mpt_tcp *t, uint64_t now);
void tcp_output(struct mpt_tcp *t, uint64_t now);
bool tcp_can_send_data(enum mpt_tcp_state s);
/** New data may go out now: a data state, or SYN-RECEIVED after the SYN's
 *  data was accepted (RFC 7413 §4.2.2: the server may send before the
 *  handshake completes). */
bool tcp_may_send(const struct mpt_tcp *t);
void tcp_mark_cwnd_limited(struct mpt_tcp *t);
uint32_t tcp_data_end(const struct mpt_tcp *t);
void tcp_maybe_window_update(struct mpt_tcp *t, uint64_t now);
uint32_t tcp_retransmit(struct mpt_tcp *t, uint32_t seq, uint32_t len, uint64_t now);

/** TIME-WAIT / CLOSED: free the send and receive rings once empty. */
void tcp_release_buffers(struct mpt_tcp *t);

/* tcp_timer.c */
void tcp_rtt_sample(struct mpt_tcp *t, uint64_t rtt);
uint64_t tcp_rto_cur(const struct mpt_tcp *t);
void tcp_arm_timers(struct mpt_tcp *t, uint64_t now);
void tcp_delack_schedule(struct mpt_tcp *t, uint64_t now);

#endif /* MPT_TCP_TCP_INTERNAL_H */
