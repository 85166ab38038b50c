/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP engine timers: SYN/data retransmission with backoff and give-up,
 * Karn's rule, delayed ACKs, persist (zero window), keep-alive, Nagle.
 */
#include "tcp_harness.h"

#define ISS  1000u
#define PISS 7000u

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

static void est(const struct mpt_tcp_cfg *cfg, uint16_t win)
{
	struct mpt_tcp_seg s;

	hnet_init(&net, cfg, NULL, H_MS);
	net.capture = true;
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	net.now += 100 * H_MS;
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, win, NULL, 0);
	s.opts.present = MPT_TCPOPT_F_MSS;
	s.opts.mss = 1000;
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(mpt_tcp_get_state(T()), MPT_TCP_ESTABLISHED);
	hcap_clear(&net);
}

static int peer(uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win, const void *p, size_t len)
{
	struct mpt_tcp_seg s;

	hcraft(&s, flags, seq, ack, win, p, len);
	return hin(&net, &s);
}

/* Advance to the next deadline and fire it. */
static uint64_t fire(void)
{
	uint64_t d = mpt_tcp_next_deadline(T());

	assert_true(d != MPT_TIME_NEVER);
	net.now = d;
	mpt_tcp_on_timer(T(), net.now);
	return d;
}

static void test_syn_retries(void **state)
{
	struct mpt_tcp_cfg cfg = {.syn_retries = 3};
	uint64_t t0, d;

	(void)state;
	hnet_init(&net, &cfg, NULL, H_MS);
	net.capture = true;
	t0 = net.now;
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	/* 1 s, then 2 s, 4 s between retransmissions (RFC 6298 §2.1, §5.5). */
	d = fire();
	assert_int_equal(d - t0, 1 * H_S);
	assert_int_equal(hcap_count(&net), 2);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.flags, MPT_TCP_SYN);
	assert_int_equal(hs.s.hdr.seq, ISS);
	d = fire();
	assert_int_equal(d - t0, 3 * H_S);
	d = fire();
	assert_int_equal(d - t0, 7 * H_S);
	assert_int_equal(hcap_count(&net), 4);
	assert_int_equal(hmib(N(), MPT_MIB_TCPSynRetrans), 3);
	d = fire();
	assert_int_equal(d - t0, 15 * H_S);
	assert_int_equal(mpt_tcp_get_state(T()), MPT_TCP_CLOSED);
	assert_int_equal(mpt_tcp_error(T()), MPT_ERR_TIMEDOUT);
	assert_int_equal(N()->ev[MPT_TCP_EV_ERROR], 1);
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
	assert_int_equal(hcap_count(&net), 4);
	hnet_free(&net);
}

static void test_data_giveup(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true, .max_retries = 4};
	uint64_t prev, d, gap = 0;

	(void)state;
	est(&cfg, 65535);
	assert_int_equal(mpt_tcp_send(T(), "abcdef", 6, net.now), 6);
	assert_int_equal(hcap_count(&net), 1);
	prev = net.now;
	for (int i = 0; i < 4; i++) {
		d = fire();
		/* Exponential backoff: each gap doubles. */
		if (gap)
			assert_int_equal(d - prev, 2 * gap);
		gap = d - prev;
		prev = d;
		hcap_last(&net, &hs);
		assert_int_equal(hs.s.hdr.seq, ISS + 1);
		assert_int_equal(hs.s.len, 6);
	}
	assert_int_equal(hcap_count(&net), 5);
	assert_int_equal(hmib(N(), MPT_MIB_TCPTimeouts), 4);
	fire();
	assert_int_equal(mpt_tcp_get_state(T()), MPT_TCP_CLOSED);
	assert_int_equal(mpt_tcp_error(T()), MPT_ERR_TIMEDOUT);
	assert_int_equal(N()->ev[MPT_TCP_EV_ERROR], 1);
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
	hnet_free(&net);
}

static void test_karn(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true};
	struct mpt_tcp_info i0, i1;

	(void)state;
	est(&cfg, 65535);
	mpt_tcp_get_info(T(), &i0);
	assert_int_equal(i0.srtt_ns, 100 * H_MS); /* from the SYN */
	assert_int_equal(mpt_tcp_send(T(), "abc", 3, net.now), 3);
	fire(); /* RTO: retransmission */
	assert_int_equal(hcap_count(&net), 2);
	net.now += 5 * H_MS;
	/* ACK after the retransmission: ambiguous, no sample. */
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 4, 65535, NULL, 0), 0);
	mpt_tcp_get_info(T(), &i1);
	assert_int_equal(i1.srtt_ns, i0.srtt_ns);
	assert_int_equal(i1.rttvar_ns, i0.rttvar_ns);
	/* The backed-off RTO stays until a valid sample (Karn). */
	assert_true(i1.rto_ns > i0.rto_ns);
	/* A fresh segment gives a sample. */
	assert_int_equal(mpt_tcp_send(T(), "def", 3, net.now), 3);
	net.now += 20 * H_MS;
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 7, 65535, NULL, 0), 0);
	mpt_tcp_get_info(T(), &i1);
	assert_true(i1.srtt_ns < i0.srtt_ns);
	assert_int_equal(i1.srtt_ns, (7 * 100 * H_MS + 20 * H_MS) / 8);
	assert_int_equal(i1.min_rtt_ns, 20 * H_MS);
	hnet_free(&net);
}

static void test_rtt_timestamps(void **state)
{
	struct mpt_tcp_seg s;
	struct mpt_tcp_info i;

	(void)state;
	hnet_init(&net, NULL, NULL, H_MS);
	net.capture = true;
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcap_last(&net, &hs);
	net.now += 50 * H_MS;
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 65535, NULL, 0);
	hcraft_ts(&s, 77, hs.s.opts.tsval);
	assert_int_equal(hin(&net, &s), 0);
	/* Retransmitted segment, ACK echoing the retransmission's TSval:
	 * timestamps disambiguate, so a sample is taken. */
	assert_int_equal(mpt_tcp_send(T(), "abc", 3, net.now), 3);
	fire();
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 3);
	net.now += 30 * H_MS;
	hcraft(&s, MPT_TCP_ACK, PISS + 1, ISS + 4, 65535, NULL, 0);
	hcraft_ts(&s, 78, hs.s.opts.tsval);
	assert_int_equal(hin(&net, &s), 0);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.min_rtt_ns, 30 * H_MS);
	hnet_free(&net);
}

static void test_delayed_ack(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true};
	static uint8_t big[1000];
	uint64_t t0;

	(void)state;
	est(&cfg, 65535);
	/* One small segment: no immediate ACK; ACK after 40 ms. */
	t0 = net.now;
	assert_int_equal(peer(MPT_TCP_ACK | MPT_TCP_PSH, PISS + 1, ISS + 1, 65535, "x", 1), 0);
	assert_int_equal(hcap_count(&net), 0);
	assert_int_equal(fire() - t0, 40 * H_MS);
	assert_int_equal(hcap_count(&net), 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 2);
	assert_int_equal(hmib(N(), MPT_MIB_TCPDelayedACKs), 1);
	/* Two full-sized segments: ACK at once on the second. */
	hcap_clear(&net);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 2, ISS + 1, 65535, big, 1000), 0);
	assert_int_equal(hcap_count(&net), 0);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1002, ISS + 1, 65535, big, 1000), 0);
	assert_int_equal(hcap_count(&net), 1);
	/* Out of order: immediate ACK (a duplicate ACK). */
	hcap_clear(&net);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 5000, ISS + 1, 65535, big, 100), 0);
	assert_int_equal(hcap_count(&net), 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 2002);
	/* Filling the gap: immediate ACK covering both. */
	hcap_clear(&net);
	{
		static uint8_t fill[2998];

		assert_int_equal(peer(MPT_TCP_ACK, PISS + 2002, ISS + 1, 65535, fill, 2998), 0);
	}
	assert_int_equal(hcap_count(&net), 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 5100);
	hnet_free(&net);

	/* no_delack: every segment is ACKed. */
	cfg.no_delack = true;
	est(&cfg, 65535);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 1, 65535, "x", 1), 0);
	assert_int_equal(hcap_count(&net), 1);
	hnet_free(&net);
}

/*
 * RFC 9293 §3.10.7.4: after a probe byte the peer did not take, SND.NXT is
 * one past the peer's zero window; a pure ACK carrying it would be dropped
 * by the peer (with its acknowledgment and window).  Our ACKs must carry
 * the peer's right edge (issue 10 bug 3: both sides of a transfer where
 * neither reads waited for each other's window updates).
 */
static void test_persist_ack_seq(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true, .no_delack = true};
	static uint8_t buf[5000];

	(void)state;
	est(&cfg, 0);
	assert_int_equal(mpt_tcp_send(T(), buf, sizeof(buf), net.now), 5000);
	fire(); /* the probe: one new byte at ISS + 1 */
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 1);
	assert_int_equal(hs.s.hdr.seq, ISS + 1);
	/* the peer does not take it and keeps its window closed */
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 1, 0, NULL, 0), 0);
	hcap_clear(&net);
	/* the peer sends data: our ACK of it must be acceptable to the peer */
	assert_int_equal(peer(MPT_TCP_ACK | MPT_TCP_PSH, PISS + 1, ISS + 1, 0, "hello", 5), 0);
	assert_true(hcap_count(&net) >= 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 0);
	assert_int_equal(hs.s.hdr.ack, PISS + 6);
	assert_int_equal(hs.s.hdr.seq, ISS + 1); /* not ISS + 2 */
	/* with an open window, pure ACKs carry SND.NXT again */
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 6, ISS + 1, 65535, NULL, 0), 0);
	hcap_clear(&net);
	assert_int_equal(peer(MPT_TCP_ACK | MPT_TCP_PSH, PISS + 6, ISS + 1, 65535, "again", 5), 0);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 11);
	hnet_free(&net);
}

/*
 * Crossed probes (fuzz finding stall-7501b40f): both sides probed a zero
 * window and each took the other's probe byte once its window opened.
 * Each side's ACKs then carry a sequence number one below the other's
 * RCV.NXT; dropping them (with their ACK and window fields) left both
 * waiting forever.  A bare ACK just behind RCV.NXT is processed (4.4BSD
 * does the same); one far behind still is not.
 */
static void test_persist_crossed_probes(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true, .no_delack = true};
	static uint8_t buf[5000];
	struct mpt_tcp_info ti;

	(void)state;
	est(&cfg, 0);
	assert_int_equal(mpt_tcp_send(T(), buf, sizeof(buf), net.now), 5000);
	fire(); /* our probe: one byte at ISS + 1 */
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 1);
	/* the peer's probe byte: our window is open, we take it */
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 1, 0, "x", 1), 0);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 2);
	/* a bare ACK from long ago is still refused */
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 2 - 0x40000000u, ISS + 2, 65535, NULL, 0),
			 MPT_ERR_PROTO);
	mpt_tcp_get_info(T(), &ti);
	assert_int_equal(ti.snd_una, ISS + 1);
	/* the peer took our byte and opened its window, but its ACK carries
	 * its own probe's sequence number: one below our RCV.NXT */
	hcap_clear(&net);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 2, 65535, NULL, 0), 0);
	mpt_tcp_get_info(T(), &ti);
	assert_int_equal(ti.snd_una, ISS + 2);
	assert_true(hcap_count(&net) >= 2);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 2);
	assert_true(hs.s.len > 1);
	hnet_free(&net);
}

/*
 * A bare ACK at the right edge of our window (SEG.SEQ == RCV.NXT +
 * RCV.WND): the peer sent up to our edge and that data was lost, so its
 * ACKs carry SND.NXT == our edge.  RFC 9293's "<" would drop them with
 * their ACK fields (fuzz finding stall-517c8017: two such peers waited for
 * each other forever); Linux takes "<=", and so do we.  One beyond is
 * still refused.
 */
static void test_ack_at_right_edge(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true, .no_delack = true};
	static uint8_t buf[3000];
	struct mpt_tcp_info ti;

	(void)state;
	est(&cfg, 65535);
	assert_int_equal(mpt_tcp_send(T(), buf, sizeof(buf), net.now), 3000);
	mpt_tcp_get_info(T(), &ti);
	assert_true(ti.rcv_wnd > 0);
	uint32_t edge = PISS + 1 + ti.rcv_wnd;
	assert_int_equal(peer(MPT_TCP_ACK, edge + 1, ISS + 1001, 65535, NULL, 0), MPT_ERR_PROTO);
	mpt_tcp_get_info(T(), &ti);
	assert_int_equal(ti.snd_una, ISS + 1);
	assert_int_equal(peer(MPT_TCP_ACK, edge, ISS + 1001, 65535, NULL, 0), 0);
	mpt_tcp_get_info(T(), &ti);
	assert_int_equal(ti.snd_una, ISS + 1001);
	hnet_free(&net);
}

static void test_persist(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true};
	static uint8_t buf[5000];
	uint64_t d1, d2, d3;

	(void)state;
	est(&cfg, 0); /* zero window from the start */
	assert_int_equal(mpt_tcp_send(T(), buf, sizeof(buf), net.now), 5000);
	assert_int_equal(hcap_count(&net), 0);
	d1 = fire();
	assert_int_equal(hcap_count(&net), 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 1);
	assert_int_equal(hs.s.hdr.seq, ISS + 1);
	assert_int_equal(hmib(N(), MPT_MIB_TCPWinProbe), 1);
	/* The peer keeps the window closed and does not take the byte. */
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 1, 0, NULL, 0), 0);
	d2 = fire();
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 1);
	assert_int_equal(hs.s.hdr.seq, ISS + 1);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 1, 0, NULL, 0), 0);
	d3 = fire();
	assert_true(d3 - d2 > d2 - d1); /* exponential backoff */
	assert_int_equal(hmib(N(), MPT_MIB_TCPWinProbe), 3);
	assert_int_equal(hmib(N(), MPT_MIB_TCPTimeouts), 0);
	/* Never gives up while the peer answers. */
	for (int i = 0; i < 30; i++) {
		assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 1, 0, NULL, 0), 0);
		fire();
	}
	assert_int_equal(mpt_tcp_get_state(T()), MPT_TCP_ESTABLISHED);
	/* The window opens (and the probe byte is taken): data flows. */
	hcap_clear(&net);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 2, 65535, NULL, 0), 0);
	assert_true(hcap_count(&net) >= 4);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 2);
	assert_int_equal(hs.s.len, 1000);
	hnet_free(&net);
}

static void test_keepalive(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true,
				  .keepalive = true,
				  .keepalive_idle_ns = 10 * H_S,
				  .keepalive_intvl_ns = 1 * H_S,
				  .keepalive_probes = 3};
	uint64_t t0;

	(void)state;
	est(&cfg, 65535);
	t0 = net.now;
	assert_int_equal(fire() - t0, 10 * H_S);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS); /* SND.NXT - 1 */
	assert_int_equal(hs.s.len, 0);
	assert_int_equal(hmib(N(), MPT_MIB_TCPKeepAliveProbes), 1);
	/* Answered: back to idle. */
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 1, 65535, NULL, 0), 0);
	t0 = net.now;
	assert_int_equal(fire() - t0, 10 * H_S);
	assert_int_equal(fire() - t0, 11 * H_S);
	assert_int_equal(fire() - t0, 12 * H_S);
	assert_int_equal(hmib(N(), MPT_MIB_TCPKeepAliveProbes), 4);
	assert_int_equal(mpt_tcp_get_state(T()), MPT_TCP_ESTABLISHED);
	fire();
	assert_int_equal(mpt_tcp_get_state(T()), MPT_TCP_CLOSED);
	assert_int_equal(mpt_tcp_error(T()), MPT_ERR_TIMEDOUT);
	assert_int_equal(hmib(N(), MPT_MIB_TCPKeepAliveTimeouts), 1);
	hnet_free(&net);

	/* Off by default. */
	est(NULL, 65535);
	assert_int_equal(mpt_tcp_next_deadline(T()), MPT_TIME_NEVER);
	hnet_free(&net);
}

static void test_nagle(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true};

	(void)state;
	/* Off (default): small writes go out at once. */
	est(&cfg, 65535);
	assert_int_equal(mpt_tcp_send(T(), "a", 1, net.now), 1);
	assert_int_equal(mpt_tcp_send(T(), "b", 1, net.now), 1);
	assert_int_equal(hcap_count(&net), 2);
	/* On: the second small segment waits for the ACK. */
	mpt_tcp_set_nagle(T(), true);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 3, 65535, NULL, 0), 0);
	hcap_clear(&net);
	assert_int_equal(mpt_tcp_send(T(), "c", 1, net.now), 1);
	assert_int_equal(mpt_tcp_send(T(), "d", 1, net.now), 1);
	assert_int_equal(mpt_tcp_send(T(), "e", 1, net.now), 1);
	assert_int_equal(hcap_count(&net), 1);
	assert_int_equal(peer(MPT_TCP_ACK, PISS + 1, ISS + 4, 65535, NULL, 0), 0);
	assert_int_equal(hcap_count(&net), 2);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 2);
	assert_memory_equal(hs.s.payload, "de", 2);
	hnet_free(&net);
}

static void test_idle_deadlines(void **state)
{
	(void)state;
	est(NULL, 65535);
	/* Established and idle, keep-alive off: no timers. */
	assert_int_equal(mpt_tcp_next_deadline(T()), MPT_TIME_NEVER);
	mpt_tcp_on_timer(T(), net.now + 1000 * H_S);
	assert_int_equal(hcap_count(&net), 0);
	hnet_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syn_retries),
	    cmocka_unit_test(test_data_giveup),
	    cmocka_unit_test(test_karn),
	    cmocka_unit_test(test_rtt_timestamps),
	    cmocka_unit_test(test_delayed_ack),
	    cmocka_unit_test(test_persist),
	    cmocka_unit_test(test_persist_ack_seq),
	    cmocka_unit_test(test_persist_crossed_probes),
	    cmocka_unit_test(test_ack_at_right_edge),
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_nagle),
	    cmocka_unit_test(test_idle_deadlines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
