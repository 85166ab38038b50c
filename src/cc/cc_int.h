/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the congestion-control algorithms (not part of the
 * engine contract in cc.h).
 */
#ifndef MPT_CC_CC_INT_H
#define MPT_CC_CC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cc/cc.h"
#include "cc/u128.h"

/*
 * RFC 3465 §2.2 appropriate byte counting limit L, in SMSS, for slow start.
 * RFC 5681 §3.1 allows at most 1 SMSS per ACK; RFC 3465 (experimental) allows
 * L = 2*SMSS so that a receiver that delays ACKs (one ACK per two segments,
 * as ours does) still sees cwnd double per RTT.  We take L = 2*SMSS, and
 * L = 1*SMSS in the slow start that follows an RTO (RFC 3465 §2.3), when
 * the retransmissions could otherwise go out in larger bursts.
 */
#define MPT_CC_ABC_L           2u
#define MPT_CC_ABC_L_AFTER_RTO 1u

/* RFC 9293 §3.7.1: the SMSS to assume when none is known. */
#define MPT_CC_DEFAULT_MSS 536u

/* The MSS the algorithms compute with: cc->mss clamped to 1..65535 (0 = default). */
static inline uint32_t mpt_cc_smss(const struct mpt_cc *cc)
{
	if (cc->mss == 0)
		return MPT_CC_DEFAULT_MSS;
	return cc->mss > 65535u ? 65535u : cc->mss;
}

/* Clamp a 64-bit byte count to MPT_CC_CWND_MAX. */
static inline uint32_t mpt_cc_clamp(uint64_t v)
{
	return v > MPT_CC_CWND_MAX ? MPT_CC_CWND_MAX : (uint32_t)v;
}

/*
 * RFC 5681 §3.1 slow start with RFC 3465 byte counting: cwnd grows by
 * min(acked, l_segs*SMSS), but not past ssthresh (the rest of the ACK is
 * not carried into congestion avoidance) nor past MPT_CC_CWND_MAX.
 * Call only while cwnd < ssthresh.
 */
void mpt_cc_slow_start(struct mpt_cc *cc, uint32_t acked, uint32_t l_segs);

/* ---- coupled congestion control (cc_coupled.c, lia.c, olia.c, balia.c) ---- */

/*
 * Their intermediates are 128-bit unsigned integers (mpt_u128, u128.h: the
 * same portable type on every target; bounds in cc_coupled.c).
 */

/* Fixed-point fraction bits of the coupled computations (2^-24 bytes). */
#define MPT_CC_FP_SHIFT   24
/* RTTs are taken in µs, clamped to 1 .. 2^26 - 1 (about 67 s). */
#define MPT_CC_RTT_MAX_US ((UINT64_C(1) << 26) - 1)

/* Private state shared by the coupled algorithms (in mpt_cc.priv). */
struct mpt_cc_coupled {
	/*
	 * Bytes ACKed in congestion avoidance towards the next 1-SMSS step
	 * of cwnd, in 2^-24 byte units (RFC 3465 byte counting generalised
	 * to a coupled divisor).
	 */
	mpt_u128 acc;
	uint64_t l_prev; /* OLIA l_1r: bytes ACKed between the last two losses */
	uint64_t l_cur;  /* OLIA l_2r: bytes ACKed since the last loss */
	int8_t acc_dir;  /* +1: acc counts towards growth, -1: towards shrink */
	bool rto_backoff;
	bool ss_after_rto;
};

/*
 * The group as one member sees it: the members that count (srtt_ns and cwnd
 * non-zero, self always last), RTTs in µs.
 */
/* A coupled member acknowledged nothing for 4 RTTs plus this is idle and
 * left out of the coupling (mpt_cc_view_get): RFC 6298's minimum RTO. */
#define MPT_CC_IDLE_SLACK_NS (200 * MPT_NS_PER_MS)

struct mpt_cc_view {
	uint32_t n;    /* members counted, self included */
	uint32_t self; /* index of the calling member (n - 1) */
	uint64_t rtt_min_us;
	uint64_t rtt_us[MPT_CC_GROUP_MAX];
	uint64_t cwnd[MPT_CC_GROUP_MAX];
	const struct mpt_cc *cc[MPT_CC_GROUP_MAX];
};

/*
 * Fill v for cc.  Returns false when cc is not coupled or has no RTT sample
 * yet (the caller then behaves as reno).
 */
bool mpt_cc_view_get(const struct mpt_cc *cc, struct mpt_cc_view *v);
/* y_i = cwnd_i * rtt_min / rtt_i, in 2^-24 bytes (< 2^55). */
mpt_u128 mpt_cc_view_y(const struct mpt_cc_view *v, uint32_t i);
/* floor(a * b / d), exact; MPT_U128_MAX when d == 0 or on overflow. */
mpt_u128 mpt_cc_muldiv(mpt_u128 a, mpt_u128 b, mpt_u128 d);

/*
 * A coupled congestion-avoidance increase, expressed as the number of
 * bytes ACKed (in 2^-24 byte units) per one-SMSS change of cwnd: *d.
 * Returns +1 (grow), -1 (shrink, OLIA only) or 0 (no change).  Uncoupled
 * or without RTT: *d = cwnd (reno) and +1.
 */
typedef int (*mpt_cc_div_fn)(const struct mpt_cc *cc, mpt_u128 *d);
int mpt_cc_lia_div(const struct mpt_cc *cc, mpt_u128 *d);
/*
 * LIA: cwnd_total / alpha in 2^-24 bytes (so alpha = cwnd_total * 2^24 /
 * result), and cwnd_total in bytes via *total.  0 when uncoupled.
 */
mpt_u128 mpt_cc_lia_total_over_alpha(const struct mpt_cc *cc, uint64_t *total);
int mpt_cc_olia_div(const struct mpt_cc *cc, mpt_u128 *d);
int mpt_cc_balia_div(const struct mpt_cc *cc, mpt_u128 *d);
/* BALIA min(alpha_r, 1.5) in 2^-32 units (1.0 when uncoupled). */
uint64_t mpt_cc_balia_alpha_fp32(const struct mpt_cc *cc);

/* The reno-shaped skeleton the coupled algorithms share (ops signatures). */
void mpt_cc_coupled_init(struct mpt_cc *cc, uint64_t now);
void mpt_cc_coupled_on_ack(struct mpt_cc *cc, const struct mpt_cc_ack *ack, mpt_cc_div_fn div);
void mpt_cc_coupled_on_loss(struct mpt_cc *cc, uint32_t ssthresh);
void mpt_cc_coupled_on_recovery_exit(struct mpt_cc *cc, uint64_t now);
void mpt_cc_coupled_on_rto(struct mpt_cc *cc, uint32_t in_flight, uint64_t now);
void mpt_cc_coupled_on_idle(struct mpt_cc *cc, uint64_t now);
/* RFC 5681 eqn (4): max(FlightSize / 2, 2*SMSS). */
uint32_t mpt_cc_half_flight(const struct mpt_cc *cc, uint32_t in_flight);

#endif /* MPT_CC_CC_INT_H */
