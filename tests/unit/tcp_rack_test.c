/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP engine RACK-TLP (RFC 8985), D-SACK (RFC 2883) and undo (RFC 3708):
 * one engine against a crafted peer, 20 ms RTT, MSS 1000, no timestamps.
 */
#include "tcp_harness.h"

#define ISS  1000u
#define PISS 7000u
#define RTT  (20 * H_MS)

static struct hnet net;
static struct hseg hs;

static struct mpt_tcp *T(void)
{
	return net.n[0].tcp;
}

static struct hnode *N(void)
{
	return &net.n[0];
}

static struct mpt_tcp_info info(void)
{
	struct mpt_tcp_info i;

	mpt_tcp_get_info(T(), &i);
	return i;
}

/* Established with SACK; the SYN-ACK comes one RTT after the SYN, so
 * SRTT = min_rtt = 20 ms. */
static void est(void)
{
	static const struct mpt_tcp_cfg cfg = {.no_timestamps = true};
	struct mpt_tcp_seg s;

	hnet_init(&net, &cfg, NULL, H_MS);
	net.capture = true;
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	net.now += RTT;
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 65535, NULL, 0);
	s.opts.present = MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_SACK_PERM;
	s.opts.mss = 1000;
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(mpt_tcp_get_state(T()), MPT_TCP_ESTABLISHED);
	assert_int_equal(info().min_rtt_ns, RTT);
	hcap_clear(&net);
}

/* ACK from the peer with up to two SACK blocks (offsets from ISS+1). */
static void peer_ack(uint32_t ack, uint32_t l0, uint32_t r0, uint32_t l1, uint32_t r1)
{
	struct mpt_tcp_seg s;

	hcraft(&s, MPT_TCP_ACK, PISS + 1, ISS + 1 + ack, 65535, NULL, 0);
	if (r0 != l0) {
		s.opts.present |= MPT_TCPOPT_F_SACK;
		s.opts.nsack = 1;
		s.opts.sack[0].left = ISS + 1 + l0;
		s.opts.sack[0].right = ISS + 1 + r0;
		if (r1 != l1) {
			s.opts.nsack = 2;
			s.opts.sack[1].left = ISS + 1 + l1;
			s.opts.sack[1].right = ISS + 1 + r1;
		}
	}
	assert_int_equal(hin(&net, &s), 0);
}

static void send_bytes(size_t n)
{
	static uint8_t buf[64000];

	assert_true(n <= sizeof(buf));
	assert_int_equal(mpt_tcp_send(T(), buf, n, net.now), (long)n);
}

/* Advance to the next deadline (must be <= limit) and fire it. */
static uint64_t fire(uint64_t limit)
{
	uint64_t d = mpt_tcp_next_deadline(T());

	assert_true(d != MPT_TIME_NEVER);
	assert_true(d <= limit);
	net.now = d;
	mpt_tcp_on_timer(T(), net.now);
	return d;
}

static uint64_t mib(enum mpt_mib_id id)
{
	return hmib(N(), id);
}

/* A segment delayed by less than reo_wnd: SACKed successor first, then the
 * late original: no retransmission, reordering detected. */
static void test_reorder_no_spurious(void **state)
{
	uint64_t t0;

	(void)state;
	est();
	send_bytes(10000);
	assert_int_equal(hcap_count(&net), 10);
	t0 = net.now;
	net.now = t0 + RTT;
	peer_ack(0, 1000, 2000, 0, 0); /* segment 1 is late */
	assert_int_equal(mib(MPT_MIB_TcpRetransSegs), 0);
	/* RACK waits RACK.rtt + reo_wnd (min_rtt/4 = 5 ms) for it. */
	assert_int_equal(info().reo_wnd_ns, RTT / 4);
	assert_int_equal(mpt_tcp_next_deadline(T()), t0 + RTT + RTT / 4);
	net.now += 2 * H_MS;
	peer_ack(2000, 0, 0, 0, 0); /* it arrives 2 ms late */
	assert_int_equal(mib(MPT_MIB_TcpRetransSegs), 0);
	assert_int_equal(mib(MPT_MIB_TCPSackRecovery), 0);
	assert_int_equal(mib(MPT_MIB_TCPSACKReorder), 1);
	assert_int_equal(info().reord_seen, 1);
	/* Reordering seen: 3+ SACKed segments no longer mean loss at once. */
	peer_ack(2000, 3000, 6000, 0, 0);
	assert_int_equal(mib(MPT_MIB_TcpRetransSegs), 0);
	assert_true(info().reo_wnd_ns > 0);
	net.now += H_MS;
	peer_ack(10000, 0, 0, 0, 0);
	assert_int_equal(mib(MPT_MIB_TcpRetransSegs), 0);
	assert_int_equal(info().unacked, 0);
	hnet_free(&net);
}

/* A real loss: the reordering timer marks it lost after RACK.rtt + reo_wnd. */
static void test_loss_after_reo_wnd(void **state)
{
	uint64_t t0, d;

	(void)state;
	est();
	send_bytes(10000);
	hcap_clear(&net);
	t0 = net.now;
	net.now = t0 + RTT;
	peer_ack(0, 1000, 2000, 0, 0);
	assert_int_equal(hcap_count(&net), 0);
	d = fire(t0 + RTT + RTT / 4);
	assert_int_equal(d, t0 + RTT + RTT / 4);
	assert_int_equal(mib(MPT_MIB_TCPSackRecovery), 1);
	assert_int_equal(mib(MPT_MIB_TCPFastRetrans), 1);
	assert_int_equal(hcap_count(&net), 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 1);
	assert_int_equal(hs.s.len, 1000);
	/* pipe: 10 segments - 1 SACKed - 1 lost + 1 retransmitted. */
	assert_int_equal(info().in_flight, 9000);
	net.now += RTT;
	peer_ack(10000, 0, 0, 0, 0);
	assert_int_equal(info().unacked, 0);
	assert_int_equal(mib(MPT_MIB_TCPTimeouts), 0);
	hnet_free(&net);
}

/* The retransmission is lost too: segments sent after it are SACKed, so
 * RACK marks it lost again (no RTO). */
static void test_lost_retransmission(void **state)
{
	struct mpt_tcp_info i;
	uint32_t cwnd;

	(void)state;
	est();
	send_bytes(20000); /* 10 segments go (IW), 10 wait */
	assert_int_equal(hcap_count(&net), 10);
	hcap_clear(&net);
	net.now += RTT;
	/* 3 SACKed, no reordering seen: segment 1 is lost at once. */
	peer_ack(0, 1000, 4000, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPSackRecovery), 1);
	assert_int_equal(hcap_count(&net), 1);
	hcap_clear(&net);
	/* Segments 2..10 SACKed: pipe falls, new segments 11.. are sent
	 * after the retransmission. */
	net.now += RTT;
	peer_ack(0, 1000, 10000, 0, 0);
	assert_true(hcap_count(&net) >= 2);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 1 + 10000);
	hcap_clear(&net);
	/* Those are SACKed, the retransmission of segment 1 is not. */
	net.now += RTT;
	cwnd = info().snd_cwnd;
	peer_ack(0, 1000, 12000, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPLostRetransmit), 1);
	assert_true(hcap_count(&net) >= 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 1);
	assert_int_equal(mib(MPT_MIB_TcpRetransSegs), 2);
	assert_int_equal(mib(MPT_MIB_TCPTimeouts), 0);
	/* Still one recovery episode, but a lost retransmission is a new
	 * congestion event: cwnd was reduced again (RFC 8985 §9.3). */
	assert_int_equal(mib(MPT_MIB_TCPSackRecovery), 1);
	assert_true(info().snd_cwnd < cwnd);
	i = info();
	assert_int_equal(i.total_retrans, 2);
	net.now += RTT;
	peer_ack(i.snd_nxt - ISS - 1, 0, 0, 0, 0);
	assert_int_equal(info().snd_una, i.snd_nxt);
	assert_int_equal(mib(MPT_MIB_TCPTimeouts), 0);
	hnet_free(&net);
}

/* Tail loss: the last segment is lost and nothing follows it.  The probe
 * (at the PTO, at the latest the RTO instant) retransmits it; no RTO. */
static void test_tlp_tail_loss(void **state)
{
	uint64_t t0, d;
	uint32_t cwnd;

	(void)state;
	est();
	send_bytes(5000);
	hcap_clear(&net);
	t0 = net.now;
	net.now = t0 + RTT;
	peer_ack(4000, 0, 0, 0, 0); /* segment 5 lost */
	d = fire(net.now + 300 * H_MS);
	/* One segment in flight: PTO = 2*SRTT + WCDelAckT, capped at the RTO. */
	assert_true(d <= net.now);
	assert_true(d - (t0 + RTT) <= 2 * RTT + 200 * H_MS);
	assert_int_equal(mib(MPT_MIB_TCPLossProbes), 1);
	assert_int_equal(mib(MPT_MIB_TCPTimeouts), 0);
	assert_int_equal(hcap_count(&net), 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 1 + 4000);
	assert_int_equal(hs.s.len, 1000);
	assert_int_equal(info().tlp_probes, 1);
	/* The probe repaired the loss. */
	net.now += RTT;
	peer_ack(5000, 0, 0, 0, 0);
	assert_int_equal(info().unacked, 0);
	assert_int_equal(mib(MPT_MIB_TCPTimeouts), 0);
	/* An ACK beyond the probe confirms a repaired loss: one reduction. */
	cwnd = info().snd_cwnd;
	send_bytes(1000);
	net.now += RTT;
	peer_ack(6000, 0, 0, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPLossProbeRecovery), 1);
	assert_true(info().snd_cwnd < cwnd);
	assert_int_equal(mib(MPT_MIB_TCPTimeouts), 0);
	hnet_free(&net);
}

/* Two tail segments lost: PTO = 2*SRTT; the probe's SACK lets RACK find
 * the other loss. */
static void test_tlp_two_lost(void **state)
{
	uint64_t t0, d;

	(void)state;
	est();
	send_bytes(5000);
	hcap_clear(&net);
	t0 = net.now;
	net.now = t0 + RTT;
	peer_ack(3000, 0, 0, 0, 0); /* segments 4 and 5 lost */
	d = fire(net.now + 2 * RTT);
	assert_int_equal(d, t0 + RTT + 2 * RTT);
	assert_int_equal(mib(MPT_MIB_TCPLossProbes), 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 1 + 4000);
	hcap_clear(&net);
	net.now += RTT;
	peer_ack(3000, 4000, 5000, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPSackRecovery), 1);
	assert_true(hcap_count(&net) >= 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 1 + 3000);
	net.now += RTT;
	peer_ack(5000, 0, 0, 0, 0);
	assert_int_equal(info().unacked, 0);
	assert_int_equal(mib(MPT_MIB_TCPTimeouts), 0);
	hnet_free(&net);
}

/* Receiver: duplicates are reported in a D-SACK first block. */
static void test_dsack_generated(void **state)
{
	static uint8_t d[100];
	struct mpt_tcp_seg s;

	(void)state;
	est();
	/* In-order data, then the same segment again. */
	hcraft(&s, MPT_TCP_ACK, PISS + 1, ISS + 1, 65535, d, 100);
	assert_int_equal(hin(&net, &s), 0);
	hcap_clear(&net);
	(void)hin(&net, &s); /* not acceptable (old): answered with an ACK */
	assert_true(hcap_count(&net) >= 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 101);
	assert_true(hs.s.opts.present & MPT_TCPOPT_F_SACK);
	assert_int_equal(hs.s.opts.sack[0].left, PISS + 1);
	assert_int_equal(hs.s.opts.sack[0].right, PISS + 101);
	assert_int_equal(mib(MPT_MIB_TCPDSACKOldSent), 1);
	/* Reported once: the next ACK has no SACK option. */
	hcap_clear(&net);
	hcraft(&s, MPT_TCP_ACK, PISS + 101, ISS + 1, 65535, d, 100);
	assert_int_equal(hin(&net, &s), 0);
	net.now = mpt_tcp_next_deadline(T());
	mpt_tcp_on_timer(T(), net.now); /* delayed ACK */
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 201);
	assert_false(hs.s.opts.present & MPT_TCPOPT_F_SACK);
	/* Out-of-order segment twice: D-SACK, then the block containing it. */
	hcraft(&s, MPT_TCP_ACK, PISS + 301, ISS + 1, 65535, d, 100);
	assert_int_equal(hin(&net, &s), 0);
	hcap_clear(&net);
	hcraft(&s, MPT_TCP_ACK, PISS + 321, ISS + 1, 65535, d, 50);
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(hcap_count(&net), 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 201);
	assert_int_equal(hs.s.opts.nsack, 2);
	assert_int_equal(hs.s.opts.sack[0].left, PISS + 321);
	assert_int_equal(hs.s.opts.sack[0].right, PISS + 371);
	assert_int_equal(hs.s.opts.sack[1].left, PISS + 301);
	assert_int_equal(hs.s.opts.sack[1].right, PISS + 401);
	assert_int_equal(mib(MPT_MIB_TCPDSACKOfoSent), 1);
	hnet_free(&net);
}

/* Sender: a D-SACK is counted and doubles reo_wnd (RFC 8985 §6.2 step 4). */
static void test_dsack_grows_reo_wnd(void **state)
{
	(void)state;
	est();
	send_bytes(6000);
	net.now += RTT;
	peer_ack(3000, 0, 0, 0, 0);
	assert_int_equal(info().reo_wnd_ns, RTT / 4);
	/* Segment 1 arrived twice: D-SACK below the cumulative ACK. */
	peer_ack(3000, 0, 1000, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPDSACKRecv), 1);
	assert_int_equal(info().dsack_rcvd, 1);
	assert_int_equal(info().reo_wnd_ns, 2 * (RTT / 4));
	/* A D-SACK inside the second block (RFC 2883 §4) counts too; the
	 * window grows at most once per round trip. */
	peer_ack(3000, 4000, 4500, 4000, 5000);
	assert_int_equal(mib(MPT_MIB_TCPDSACKRecv), 2);
	assert_int_equal(info().reo_wnd_ns, 2 * (RTT / 4));
	/* Next round: it grows again. */
	net.now += RTT;
	peer_ack(6000, 0, 0, 0, 0);
	peer_ack(6000, 5000, 6000, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPDSACKRecv), 3);
	assert_int_equal(info().reo_wnd_ns, 3 * (RTT / 4));
	hnet_free(&net);
}

/* A recovery caused by reordering: every retransmission comes back
 * D-SACKed, so cwnd and ssthresh return to their earlier values. */
static void test_undo_spurious(void **state)
{
	struct mpt_tcp_info before, during, after;

	(void)state;
	est();
	send_bytes(10000);
	before = info();
	net.now += RTT;
	/* 2, 3, 4 SACKed before reordering was ever seen: 1 is "lost". */
	peer_ack(0, 1000, 4000, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPSackRecovery), 1);
	during = info();
	assert_true(during.snd_cwnd < before.snd_cwnd);
	assert_true(during.snd_ssthresh < before.snd_ssthresh);
	/* The original arrives (late), then the retransmission: D-SACK. */
	net.now += 2 * H_MS;
	peer_ack(10000, 0, 0, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPDSACKUndo), 0);
	net.now += RTT;
	peer_ack(10000, 0, 1000, 0, 0);
	assert_int_equal(mib(MPT_MIB_TCPDSACKRecv), 1);
	assert_int_equal(mib(MPT_MIB_TCPDSACKUndo), 1);
	after = info();
	assert_int_equal(after.undo_count, 1);
	assert_int_equal(after.snd_cwnd, before.snd_cwnd);
	assert_int_equal(after.snd_ssthresh, before.snd_ssthresh);
	hnet_free(&net);
}

/* No undo when a retransmission was needed (no D-SACK for it). */
static void test_no_undo_real_loss(void **state)
{
	struct mpt_tcp_info before;

	(void)state;
	est();
	send_bytes(10000);
	before = info();
	net.now += RTT;
	peer_ack(0, 1000, 4000, 0, 0);
	net.now += RTT;
	peer_ack(10000, 0, 0, 0, 0);
	/* The retransmission was needed: no D-SACK, no undo. */
	assert_int_equal(mib(MPT_MIB_TCPDSACKUndo), 0);
	assert_true(info().snd_cwnd < before.snd_cwnd);
	hnet_free(&net);
}

/* Two engines, heavy reordering and loss: data intact, with RACK. */
static bool done(struct hnet *n)
{
	return n->n[1].sink_len == n->n[0].src_len;
}

struct dropper {
	uint64_t rng;
	uint32_t permille;
};

static bool drop_some(struct hnet *n, int from, const struct mpt_tcp_seg *seg, void *arg)
{
	struct dropper *d = arg;

	(void)n;
	(void)seg;
	return from == 0 && h_rand(&d->rng) % 1000 < d->permille;
}

static void test_transfer_reorder(void **state)
{
	static const struct mpt_tcp_cfg cfg = {0};
	struct dropper d = {.rng = 77, .permille = 10};
	size_t len = 2 << 20;
	uint8_t *a = h_pattern(len, 3);
	struct mpt_tcp_info i;

	(void)state;
	hnet_init(&net, &cfg, NULL, 10 * H_MS);
	net.jitter = 2 * H_MS;
	net.drop = drop_some;
	net.drop_arg = &d;
	hnet_handshake(&net);
	net.n[0].src = a;
	net.n[0].src_len = len;
	assert_true(hnet_run_until(&net, done, net.now + 600 * H_S));
	assert_memory_equal(net.n[1].sink, a, len);
	mpt_tcp_get_info(net.n[0].tcp, &i);
	assert_true(i.reord_seen > 0);
	assert_true(i.total_retrans > 0);
	/* Jitter reorders a lot; RACK must not treat it all as loss. */
	assert_true(i.total_retrans < 3 * net.dropped + 10);
	free(a);
	hnet_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reorder_no_spurious), cmocka_unit_test(test_loss_after_reo_wnd),
	    cmocka_unit_test(test_lost_retransmission), cmocka_unit_test(test_tlp_tail_loss),
	    cmocka_unit_test(test_tlp_two_lost),        cmocka_unit_test(test_dsack_generated),
	    cmocka_unit_test(test_dsack_grows_reo_wnd), cmocka_unit_test(test_undo_spurious),
	    cmocka_unit_test(test_no_undo_real_loss),   cmocka_unit_test(test_transfer_reorder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
