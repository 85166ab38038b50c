/*
 * Helpers shared by the congestion-control algorithms (not part of the
 * engine contract in cc.h).
 */
#ifndef MPT_CC_CC_INT_H
#define MPT_CC_CC_INT_H

#include <stdint.h>

#include "cc/cc.h"

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

#endif /* MPT_CC_CC_INT_H */
