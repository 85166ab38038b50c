/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NewReno congestion control: RFC 5681 slow start / congestion avoidance,
 * RFC 6582 (NewReno) and RFC 6675 (SACK) recovery at the level of the cc
 * hooks, RFC 6928 initial window, RFC 3465 byte counting.
 *
 * The engine does the recovery bookkeeping itself (RFC 6675 pipe, partial
 * ACKs): these hooks only set cwnd/ssthresh on entry and exit, so there is
 * no window inflation here.
 */
#include <assert.h>
#include <string.h>

#include "cc/cc.h"
#include "cc/cc_int.h"
#include "common.h"

struct reno {
	/* RFC 3465 §2.1 bytes_acked: bytes ACKed in congestion avoidance. */
	uint64_t bytes_acked;
	/* An RTO fired and no ACK for new data has arrived since. */
	bool rto_backoff;
	/* In the slow start that follows an RTO (ABC with L = 1*SMSS). */
	bool ss_after_rto;
};
static_assert(sizeof(struct reno) <= sizeof(((struct mpt_cc *)0)->priv),
	      "reno state must fit in mpt_cc.priv");

/* priv is uint64_t storage: copy in and out instead of aliasing it. */
static void load(const struct mpt_cc *cc, struct reno *s)
{
	memcpy(s, cc->priv, sizeof(*s));
}

static void store(struct mpt_cc *cc, const struct reno *s)
{
	memcpy(cc->priv, s, sizeof(*s));
}

/* RFC 5681 eqn (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t half_flight(const struct mpt_cc *cc, uint32_t in_flight)
{
	uint64_t two = 2 * (uint64_t)mpt_cc_smss(cc);
	return mpt_cc_clamp(MPT_MAX((uint64_t)in_flight / 2, two));
}

static void reno_init(struct mpt_cc *cc, uint64_t now)
{
	MPT_UNUSED(now);
	struct reno s = {0};
	store(cc, &s);
	/* RFC 5681 §3.1: ssthresh starts arbitrarily high; RFC 6928 IW. */
	cc->cwnd = mpt_cc_initial_window(mpt_cc_smss(cc));
	cc->ssthresh = UINT32_MAX;
}

static void reno_on_ack(struct mpt_cc *cc, const struct mpt_cc_ack *ack)
{
	struct reno s;
	uint32_t smss = mpt_cc_smss(cc);

	if (!ack)
		return;
	load(cc, &s);
	/* New data was ACKed: a later RTO is a new loss event (RFC 5681 §3.1). */
	s.rto_backoff = false;
	if (cc->cwnd < smss)
		cc->cwnd = smss;
	/*
	 * Growth happens only outside recovery, and not while the sender is
	 * application-limited: an unused cwnd has not been validated by the
	 * network (RFC 7661 §4.3, RFC 9438 §5.8).
	 */
	if (ack->in_recovery || ack->app_limited || ack->acked == 0) {
		store(cc, &s);
		return;
	}
	if (cc->cwnd < cc->ssthresh) {
		mpt_cc_slow_start(cc, ack->acked,
				  s.ss_after_rto ? MPT_CC_ABC_L_AFTER_RTO : MPT_CC_ABC_L);
		s.bytes_acked = 0;
	} else {
		s.ss_after_rto = false;
		/*
		 * RFC 5681 §3.1 / RFC 3465 §2.1: cwnd += SMSS*SMSS/cwnd per
		 * ACK, done exactly with a byte counter: once a full cwnd of
		 * bytes has been ACKed, cwnd grows by one SMSS.  An ACK for
		 * more than a cwnd (stretch ACK) may add several SMSS.
		 */
		s.bytes_acked += ack->acked;
		if (s.bytes_acked >= cc->cwnd) {
			uint64_t n = s.bytes_acked / cc->cwnd;
			s.bytes_acked -= n * cc->cwnd;
			cc->cwnd = mpt_cc_clamp((uint64_t)cc->cwnd + n * smss);
		}
	}
	store(cc, &s);
}

static void reno_on_loss(struct mpt_cc *cc, uint32_t in_flight, uint64_t now)
{
	struct reno s;
	MPT_UNUSED(now);
	load(cc, &s);
	/*
	 * RFC 5681 §3.2 step 2 / RFC 6675 §5 step 4: ssthresh = max(FlightSize
	 * / 2, 2*SMSS), cwnd = ssthresh.  The engine sends by pipe, so the
	 * RFC 5681 "+3*SMSS" inflation is not applied here.
	 */
	cc->ssthresh = half_flight(cc, in_flight);
	cc->cwnd = cc->ssthresh;
	s.bytes_acked = 0;
	s.ss_after_rto = false;
	store(cc, &s);
}

static void reno_on_recovery_exit(struct mpt_cc *cc, uint64_t now)
{
	struct reno s;
	MPT_UNUSED(now);
	load(cc, &s);
	/* RFC 6582 §3.2 step 3 option (2): cwnd = ssthresh ("deflate"). */
	uint64_t two = 2 * (uint64_t)mpt_cc_smss(cc);
	cc->cwnd = mpt_cc_clamp(MPT_MAX((uint64_t)cc->ssthresh, two));
	s.bytes_acked = 0;
	store(cc, &s);
}

static void reno_on_rto(struct mpt_cc *cc, uint32_t in_flight, uint64_t now)
{
	struct reno s;
	MPT_UNUSED(now);
	load(cc, &s);
	/*
	 * RFC 5681 §3.1 eqn (4) on the first timeout of a loss event; when
	 * the timer fires again for an already-retransmitted segment (no new
	 * ACK in between), ssthresh is held constant.  cwnd = loss window =
	 * 1 SMSS.
	 */
	if (!s.rto_backoff)
		cc->ssthresh = half_flight(cc, in_flight);
	cc->cwnd = mpt_cc_smss(cc);
	s.rto_backoff = true;
	s.ss_after_rto = true;
	s.bytes_acked = 0;
	store(cc, &s);
}

static void reno_on_idle(struct mpt_cc *cc, uint64_t now)
{
	struct reno s;
	MPT_UNUSED(now);
	load(cc, &s);
	/* RFC 5681 §4.1: restart window RW = min(IW, cwnd). */
	uint32_t iw = mpt_cc_initial_window(mpt_cc_smss(cc));
	if (cc->cwnd > iw)
		cc->cwnd = iw;
	s.bytes_acked = 0;
	store(cc, &s);
}

const struct mpt_cc_ops mpt_cc_reno = {
    .name = "reno",
    .init = reno_init,
    .on_ack = reno_on_ack,
    .on_loss = reno_on_loss,
    .on_recovery_exit = reno_on_recovery_exit,
    .on_rto = reno_on_rto,
    .on_idle = reno_on_idle,
};
