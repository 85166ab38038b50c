/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Timers of the TCP engine, all as absolute deadlines: retransmission
 * (RFC 6298), RACK reordering and TLP probe (RFC 8985, in tcp_rack.c), persist (RFC 9293 §3.8.6.1), delayed ACK (RFC 5681 §4.2),
 * keep-alive (RFC 9293 §3.8.4), TIME-WAIT (2*MSL) and the orphaned
 * FIN-WAIT-2 timeout.
 */
#include "tcp/tcp_internal.h"

/* RFC 6298 §2: SRTT/RTTVAR update and RTO = SRTT + max(G, 4*RTTVAR). */
void tcp_rtt_sample(struct mpt_tcp *t, uint64_t rtt)
{
	uint64_t rto;

	if (rtt == 0)
		rtt = 1;
	if (t->srtt == 0) {
		t->srtt = rtt;
		t->rttvar = rtt / 2;
	} else {
		uint64_t d = t->srtt > rtt ? t->srtt - rtt : rtt - t->srtt;

		t->rttvar = (3 * t->rttvar + d) / 4;
		t->srtt = (7 * t->srtt + rtt) / 8;
	}
	if (t->min_rtt == 0 || rtt < t->min_rtt)
		t->min_rtt = rtt;
	/*
	 * The floor applies to the variance term, not to the whole RTO (as
	 * Linux does, keeping rttvar at least rto_min / 4): with a steady
	 * long RTT, srtt + 4 * rttvar sits just above srtt and a delayed ACK
	 * (RFC 1122 §4.2.3.2: up to 500 ms, 40-200 ms in practice) fires a
	 * spurious timeout every window.  RFC 6298 §2.4 allows a larger RTO.
	 */
	rto = t->srtt + MPT_MAX(TCP_CLOCK_G_NS, MPT_MAX(4 * t->rttvar, t->cfg.rto_min_ns));
	rto = MPT_MIN(rto, t->cfg.rto_max_ns);
	t->rto = rto;
	/* Karn: the backed-off RTO is kept until a valid sample arrives. */
	t->backoff = 0;
	t->cc.srtt_ns = t->srtt;
	t->cc.min_rtt_ns = t->min_rtt;
}

/* Current RTO including exponential backoff (RFC 6298 §5.5), capped. */
uint64_t tcp_rto_cur(const struct mpt_tcp *t)
{
	uint64_t rto = t->rto;

	for (uint32_t i = 0; i < t->backoff && rto < t->cfg.rto_max_ns; i++)
		rto *= 2;
	return MPT_MIN(rto, t->cfg.rto_max_ns);
}

static uint64_t persist_interval(const struct mpt_tcp *t)
{
	uint64_t iv = MPT_MAX(t->rto, t->cfg.rto_min_ns);

	for (uint32_t i = 0; i < t->persist_backoff && iv < t->cfg.rto_max_ns; i++)
		iv *= 2;
	return MPT_MIN(iv, t->cfg.rto_max_ns);
}

/*
 * Zero-window condition: the peer offers no window, we have data, and at
 * most one (probe) byte is outstanding.  The persist timer then replaces
 * the retransmission timer.
 */
static bool persist_cond(const struct mpt_tcp *t)
{
	if (!tcp_can_send_data(t->state) || t->snd_wnd != 0 || t->sb.len == 0)
		return false;
	if (t->fin_queued && t->fin_sent)
		return false;
	return t->snd_nxt - t->snd_una <= 1;
}

static bool keepalive_state(enum mpt_tcp_state s)
{
	return s == MPT_TCP_ESTABLISHED || s == MPT_TCP_CLOSE_WAIT;
}

/* Recompute which of RTO / persist / keep-alive should run. */
void tcp_arm_timers(struct mpt_tcp *t, uint64_t now)
{
	bool outstanding = t->snd_nxt != t->snd_una;

	if (t->state == MPT_TCP_CLOSED || t->state == MPT_TCP_TIME_WAIT) {
		t->rtx_at = t->persist_at = t->ka_at = MPT_TIME_NEVER;
		t->reo_at = t->pto_at = MPT_TIME_NEVER;
		if (t->state == MPT_TCP_CLOSED)
			t->delack_at = MPT_TIME_NEVER;
		return;
	}
	if (persist_cond(t)) {
		t->rtx_at = MPT_TIME_NEVER;
		if (t->persist_at == MPT_TIME_NEVER)
			t->persist_at = now + persist_interval(t);
	} else {
		t->persist_at = MPT_TIME_NEVER;
		t->persist_backoff = 0;
		t->persist_probes = 0;
		if (!outstanding)
			t->rtx_at = MPT_TIME_NEVER;
		else if (t->rtx_at == MPT_TIME_NEVER)
			t->rtx_at = now + tcp_rto_cur(t);
	}
	if (!outstanding || !tcp_can_send_data(t->state))
		t->reo_at = MPT_TIME_NEVER;
	tcp_tlp_arm(t, now);
	if (t->cfg.keepalive && keepalive_state(t->state)) {
		if (t->ka_at == MPT_TIME_NEVER)
			t->ka_at = t->last_rcv + t->cfg.keepalive_idle_ns;
	} else {
		t->ka_at = MPT_TIME_NEVER;
	}
}

/*
 * RFC 5681 §4.2: ACK at least every second full-sized segment and within
 * delack_ns; cfg.no_delack acknowledges every segment.
 */
void tcp_delack_schedule(struct mpt_tcp *t, uint64_t now)
{
	if (t->cfg.no_delack || t->rcv_unacked >= 2 * t->snd_mss)
		t->ack_now = true;
	else if (t->delack_at == MPT_TIME_NEVER)
		t->delack_at = now + t->cfg.delack_ns;
}

uint64_t mpt_tcp_next_deadline(const struct mpt_tcp *t)
{
	uint64_t d = MPT_TIME_NEVER;

	if (!t)
		return d;
	d = MPT_MIN(d, t->rtx_at);
	d = MPT_MIN(d, t->reo_at);
	d = MPT_MIN(d, t->pto_at);
	d = MPT_MIN(d, t->persist_at);
	d = MPT_MIN(d, t->delack_at);
	d = MPT_MIN(d, t->ka_at);
	d = MPT_MIN(d, t->tw_at);
	return d;
}

static void on_rto(struct mpt_tcp *t, uint64_t now)
{
	t->rtx_at = MPT_TIME_NEVER;
	if (t->state == MPT_TCP_SYN_SENT || t->state == MPT_TCP_SYN_RECEIVED) {
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPTimeouts);
		t->rto_count++;
		if (t->retries >= t->cfg.syn_retries) {
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpAttemptFails);
			tcp_fail(t, MPT_ERR_TIMEDOUT);
			return;
		}
		t->retries++;
		t->backoff++;
		t->rtt_timing = false; /* Karn */
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPSynRetrans);
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpRetransSegs);
		t->total_retrans++;
		tcp_send_syn(t, now);
		t->rtx_at = now + tcp_rto_cur(t);
		return;
	}
	if (t->snd_nxt == t->snd_una || !tcp_can_send_data(t->state))
		return;
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPTimeouts);
	t->rto_count++;
	if (t->retries >= t->cfg.max_retries) {
		if (t->state == MPT_TCP_ESTABLISHED || t->state == MPT_TCP_CLOSE_WAIT)
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TcpEstabResets);
		tcp_fail(t, MPT_ERR_TIMEDOUT);
		return;
	}
	if (t->backoff == 0)
		tcp_undo_begin(t, true);
	t->retries++;
	t->backoff++;
	/*
	 * RFC 2018 §8: after a timeout the receiver may have reneged; keep the
	 * scoreboard for the first RTO (go-back-N skips SACKed data), but
	 * forget it from the second consecutive one on.
	 */
	if (t->backoff >= 2)
		tcp_scb_clear(t);
	t->cc.ops->on_rto(&t->cc, tcp_pipe(t), now);
	t->ca_state = TCP_CA_LOSS;
	t->recover = t->snd_nxt;
	t->recover_valid = true;
	t->rxt_high = t->snd_una;
	t->dupacks = 0;
	t->rtt_timing = false;
	t->rtx_at = MPT_TIME_NEVER;
	if (t->rack_on) {
		/* RFC 8985 §6.3 / RFC 5681 §3.1: everything outstanding and
		 * not SACKed is lost; any probe is over. */
		tcp_txr_all_lost(t);
		t->tlp_out = false;
		t->reo_at = MPT_TIME_NEVER;
		t->pto_at = MPT_TIME_NEVER;
	}
	tcp_output(t, now);
	t->rtx_at = now + tcp_rto_cur(t);
}

static void on_persist(struct mpt_tcp *t, uint64_t now)
{
	t->persist_at = MPT_TIME_NEVER;
	if (!persist_cond(t)) {
		tcp_arm_timers(t, now);
		return;
	}
	if (t->persist_probes >= t->cfg.max_retries) {
		tcp_fail(t, MPT_ERR_TIMEDOUT);
		return;
	}
	/*
	 * RFC 9293 §3.8.6.1: probe with one octet beyond the zero window; the
	 * octet is real data (at SND.UNA if a probe is already outstanding).
	 */
	if (t->snd_nxt == t->snd_una)
		tcp_xmit(t, t->snd_nxt, 1, MPT_TCP_ACK, false, now);
	else
		tcp_xmit(t, t->snd_una, 1, MPT_TCP_ACK, false, now);
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPWinProbe);
	t->persist_probes++;
	t->persist_backoff++;
	t->persist_at = now + persist_interval(t);
}

static void on_keepalive(struct mpt_tcp *t, uint64_t now)
{
	t->ka_at = MPT_TIME_NEVER;
	if (!t->cfg.keepalive || !keepalive_state(t->state))
		return;
	if (t->snd_nxt != t->snd_una || t->sb.len > 0) {
		/* Data outstanding: the RTO path detects a dead peer. */
		t->ka_at = now + t->cfg.keepalive_idle_ns;
		return;
	}
	if (now - t->last_rcv < t->cfg.keepalive_idle_ns && t->ka_probes == 0) {
		t->ka_at = t->last_rcv + t->cfg.keepalive_idle_ns;
		return;
	}
	if (t->ka_probes >= t->cfg.keepalive_probes) {
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPKeepAliveTimeouts);
		tcp_fail(t, MPT_ERR_TIMEDOUT);
		return;
	}
	/* RFC 9293 §3.8.4: <SEQ=SND.NXT-1> with no data elicits an ACK. */
	tcp_xmit(t, t->snd_nxt - 1, 0, MPT_TCP_ACK, false, now);
	t->ka_probes++;
	mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPKeepAliveProbes);
	t->ka_at = now + t->cfg.keepalive_intvl_ns;
}

void mpt_tcp_on_timer(struct mpt_tcp *t, uint64_t now)
{
	if (!t)
		return;
	tcp_enter(t);
	if (t->tw_at <= now) {
		t->tw_at = MPT_TIME_NEVER;
		if (t->state == MPT_TCP_TIME_WAIT || t->state == MPT_TCP_FIN_WAIT_2)
			tcp_become_closed(t);
	}
	if (t->state != MPT_TCP_CLOSED && t->reo_at <= now)
		tcp_rack_timer(t, now);
	/* The probe first: at the RTO instant it replaces the RTO (§7.2). */
	if (t->state != MPT_TCP_CLOSED && t->pto_at <= now)
		tcp_tlp_fire(t, now);
	if (t->state != MPT_TCP_CLOSED && t->rtx_at <= now)
		on_rto(t, now);
	if (t->state != MPT_TCP_CLOSED && t->persist_at <= now)
		on_persist(t, now);
	if (t->state != MPT_TCP_CLOSED && t->delack_at <= now) {
		t->delack_at = MPT_TIME_NEVER;
		mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPDelayedACKs);
		tcp_send_ack(t, now);
	}
	if (t->state != MPT_TCP_CLOSED && t->ka_at <= now)
		on_keepalive(t, now);
	if (t->state != MPT_TCP_CLOSED)
		tcp_arm_timers(t, now);
	tcp_leave(t);
}
