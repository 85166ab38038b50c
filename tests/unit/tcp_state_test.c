/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP engine: RFC 9293 state machine and RFC 5961 checks, driven by crafted
 * segments against one engine whose output is captured.
 */
#include "tcp_harness.h"

#define ISS  1000u
#define PISS 7000u /* peer ISS */

static struct hnet net;
static struct hseg hs;

static void cap_setup(const struct mpt_tcp_cfg *cfg)
{
	hnet_init(&net, cfg, NULL, H_MS);
	net.capture = true;
}

static struct mpt_tcp *T(void)
{
	return net.n[0].tcp;
}

static struct hnode *N(void)
{
	return &net.n[0];
}

static enum mpt_tcp_state ST(void)
{
	return mpt_tcp_get_state(T());
}

/* Active open, peer answers SYN-ACK; leaves ESTABLISHED, capture cleared. */
static void est_active(const struct mpt_tcp_cfg *cfg)
{
	struct mpt_tcp_seg s;

	cap_setup(cfg);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	assert_int_equal(ST(), MPT_TCP_SYN_SENT);
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 65535, NULL, 0);
	s.opts.present = MPT_TCPOPT_F_MSS;
	s.opts.mss = 1460;
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(ST(), MPT_TCP_ESTABLISHED);
	hcap_clear(&net);
}

/* Peer sends an ACK-only segment. */
static int peer_ack(uint32_t seq, uint32_t ack, uint16_t win)
{
	struct mpt_tcp_seg s;

	hcraft(&s, MPT_TCP_ACK, seq, ack, win, NULL, 0);
	return hin(&net, &s);
}

static int peer_seg(uint16_t flags, uint32_t seq, uint32_t ack, const void *p, size_t len)
{
	struct mpt_tcp_seg s;

	hcraft(&s, flags, seq, ack, 65535, p, len);
	return hin(&net, &s);
}

static const struct mpt_tcp_cfg nots = {.no_timestamps = true};

static void test_active_open(void **state)
{
	struct mpt_tcp_seg s;

	(void)state;
	cap_setup(NULL);
	assert_int_equal(mpt_tcp_send(T(), "x", 1, net.now), MPT_ERR_STATE);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), MPT_ERR_STATE);
	assert_int_equal(hcap_count(&net), 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.flags, MPT_TCP_SYN);
	assert_int_equal(hs.s.hdr.seq, ISS);
	assert_int_equal(hs.s.hdr.sport, 40000);
	assert_int_equal(hs.s.hdr.dport, 80);
	assert_true(hs.s.opts.present & MPT_TCPOPT_F_MSS);
	assert_int_equal(hs.s.opts.mss, 1460);
	assert_true(hs.s.opts.present & MPT_TCPOPT_F_SACK_PERM);
	assert_true(hs.s.opts.present & MPT_TCPOPT_F_TS);
	assert_true(hs.s.opts.present & MPT_TCPOPT_F_WSCALE);
	assert_int_equal(hs.s.opts.wscale, 3); /* 256 KiB >> 3 fits 16 bits */
	assert_int_equal(hs.s.opts.tsecr, 0);
	/* Data queued before the handshake is sent afterwards. */
	assert_int_equal(mpt_tcp_send(T(), "hello", 5, net.now), 5);
	assert_int_equal(hcap_count(&net), 1);
	hcap_clear(&net);

	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 1000, NULL, 0);
	s.opts.present =
	    MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_SACK_PERM | MPT_TCPOPT_F_TS | MPT_TCPOPT_F_WSCALE;
	s.opts.mss = 1400;
	s.opts.wscale = 2;
	s.opts.tsval = 555;
	hcraft_ts(&s, 555, 1000);
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(ST(), MPT_TCP_ESTABLISHED);
	assert_int_equal(N()->ev[MPT_TCP_EV_ESTABLISHED], 1);
	/* The ACK carries the queued data. */
	assert_true(hcap_count(&net) >= 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.flags & MPT_TCP_ACK, MPT_TCP_ACK);
	assert_int_equal(hs.s.hdr.seq, ISS + 1);
	assert_int_equal(hs.s.hdr.ack, PISS + 1);
	assert_int_equal(hs.s.len, 5);
	assert_memory_equal(hs.s.payload, "hello", 5);
	assert_int_equal(hs.s.opts.tsecr, 555);
	{
		struct mpt_tcp_info i;

		mpt_tcp_get_info(T(), &i);
		assert_int_equal(i.snd_wnd, 1000); /* SYN window is never scaled */
		assert_int_equal(i.snd_wscale, 2);
		assert_int_equal(i.rcv_wscale, 3);
		assert_int_equal(i.rcv_mss, 1400);
		assert_int_equal(i.snd_mss, 1400 - 12);
		assert_true(i.sack_ok && i.ts_ok);
	}
	hnet_free(&net);
}

static void test_passive_open(void **state)
{
	struct mpt_tcp_seg s;

	(void)state;
	cap_setup(NULL);
	hcraft(&s, MPT_TCP_SYN, PISS, 0, 5000, NULL, 0);
	s.hdr.sport = 80;
	s.hdr.dport = 40000;
	/* No options at all: no WS/SACK/TS in the SYN-ACK, MSS 536. */
	assert_int_equal(mpt_tcp_accept(T(), &s, ISS, net.now), 0);
	assert_int_equal(ST(), MPT_TCP_SYN_RECEIVED);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.flags, MPT_TCP_SYN | MPT_TCP_ACK);
	assert_int_equal(hs.s.hdr.seq, ISS);
	assert_int_equal(hs.s.hdr.ack, PISS + 1);
	assert_int_equal(hs.s.opts.present, MPT_TCPOPT_F_MSS);
	assert_int_equal(hs.s.hdr.sport, 40000);
	/* Retransmitted SYN: SYN-ACK again. */
	hcap_clear(&net);
	assert_int_equal(hin(&net, &s), 0);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.flags, MPT_TCP_SYN | MPT_TCP_ACK);
	/* ACK of something else: RST <SEQ=SEG.ACK>. */
	hcap_clear(&net);
	assert_true(peer_ack(PISS + 1, ISS + 5, 5000) < 0);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.flags, MPT_TCP_RST);
	assert_int_equal(hs.s.hdr.seq, ISS + 5);
	assert_int_equal(ST(), MPT_TCP_SYN_RECEIVED);
	/* Good ACK. */
	assert_int_equal(peer_ack(PISS + 1, ISS + 1, 5000), 0);
	assert_int_equal(ST(), MPT_TCP_ESTABLISHED);
	assert_int_equal(N()->ev[MPT_TCP_EV_ESTABLISHED], 1);
	{
		struct mpt_tcp_info i;

		mpt_tcp_get_info(T(), &i);
		assert_int_equal(i.rcv_mss, 536);
		assert_int_equal(i.snd_mss, 536);
		assert_int_equal(i.snd_wnd, 5000);
		assert_false(i.sack_ok || i.ts_ok);
		assert_int_equal(i.rcv_wscale, 0);
	}
	/* Segments are sized by the peer's (default) MSS. */
	{
		static uint8_t buf[3000];

		hcap_clear(&net);
		assert_int_equal(mpt_tcp_send(T(), buf, sizeof(buf), net.now), 3000);
		assert_true(hcap_count(&net) >= 2);
		for (size_t i = 0; i < hcap_count(&net); i++) {
			hcap_get(&net, i, &hs);
			assert_true(hs.s.len <= 536);
		}
	}
	hnet_free(&net);
}

static void test_simultaneous_open(void **state)
{
	struct mpt_tcp_seg s;

	(void)state;
	for (int variant = 0; variant < 2; variant++) {
		cap_setup(&nots);
		assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
		hcap_clear(&net);
		hcraft(&s, MPT_TCP_SYN, PISS, 0, 8000, NULL, 0);
		assert_int_equal(hin(&net, &s), 0);
		assert_int_equal(ST(), MPT_TCP_SYN_RECEIVED);
		hcap_last(&net, &hs);
		assert_int_equal(hs.s.hdr.flags, MPT_TCP_SYN | MPT_TCP_ACK);
		assert_int_equal(hs.s.hdr.seq, ISS);
		assert_int_equal(hs.s.hdr.ack, PISS + 1);
		if (variant == 0) {
			/* The peer's SYN-ACK completes it. */
			hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 8000, NULL, 0);
			assert_int_equal(hin(&net, &s), 0);
		} else {
			/* Or its ACK. */
			assert_int_equal(peer_ack(PISS + 1, ISS + 1, 8000), 0);
		}
		assert_int_equal(ST(), MPT_TCP_ESTABLISHED);
		assert_int_equal(N()->ev[MPT_TCP_EV_ESTABLISHED], 1);
		hnet_free(&net);
	}
}

static void test_syn_sent_checks(void **state)
{
	struct mpt_tcp_seg s;

	(void)state;
	cap_setup(&nots);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcap_clear(&net);
	/* Unacceptable ACK: RST <SEQ=SEG.ACK>. */
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 77, 8000, NULL, 0);
	assert_true(hin(&net, &s) < 0);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.flags, MPT_TCP_RST);
	assert_int_equal(hs.s.hdr.seq, ISS + 77);
	assert_int_equal(ST(), MPT_TCP_SYN_SENT);
	/* RST without ACK: ignored. */
	hcraft(&s, MPT_TCP_RST, PISS, 0, 0, NULL, 0);
	assert_true(hin(&net, &s) < 0);
	assert_int_equal(ST(), MPT_TCP_SYN_SENT);
	/* RST with a bad ACK: ignored, no answer. */
	hcap_clear(&net);
	hcraft(&s, MPT_TCP_RST | MPT_TCP_ACK, 0, ISS, 0, NULL, 0);
	assert_true(hin(&net, &s) < 0);
	assert_int_equal(hcap_count(&net), 0);
	assert_int_equal(ST(), MPT_TCP_SYN_SENT);
	/* RST acking our SYN: refused. */
	hcraft(&s, MPT_TCP_RST | MPT_TCP_ACK, 0, ISS + 1, 0, NULL, 0);
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	assert_int_equal(mpt_tcp_error(T()), MPT_ERR_REFUSED);
	assert_int_equal(N()->ev[MPT_TCP_EV_ERROR], 1);
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
	assert_int_equal(N()->last_ev, MPT_TCP_EV_CLOSED);
	assert_int_equal(mpt_tcp_recv(T(), (uint8_t[4]){0}, 4, net.now), MPT_ERR_REFUSED);
	assert_int_equal(mpt_tcp_send(T(), "x", 1, net.now), MPT_ERR_REFUSED);
	assert_int_equal(mpt_tcp_next_deadline(T()), MPT_TIME_NEVER);
	hnet_free(&net);
}

static void test_active_close(void **state)
{
	(void)state;
	est_active(&nots);
	assert_int_equal(mpt_tcp_shutdown(T(), net.now), 0);
	assert_int_equal(ST(), MPT_TCP_FIN_WAIT_1);
	hcap_last(&net, &hs);
	assert_true(hs.s.hdr.flags & MPT_TCP_FIN);
	assert_int_equal(hs.s.hdr.seq, ISS + 1);
	assert_int_equal(mpt_tcp_send(T(), "x", 1, net.now), MPT_ERR_CLOSED);
	/* ACK of the FIN. */
	assert_int_equal(peer_ack(PISS + 1, ISS + 2, 8000), 0);
	assert_int_equal(ST(), MPT_TCP_FIN_WAIT_2);
	/* Half-close: data still flows to us. */
	assert_int_equal(peer_seg(MPT_TCP_ACK, PISS + 1, ISS + 2, "abc", 3), 0);
	assert_int_equal(mpt_tcp_readable(T()), 3);
	/* Peer's FIN. */
	hcap_clear(&net);
	assert_int_equal(peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 4, ISS + 2, NULL, 0), 0);
	assert_int_equal(ST(), MPT_TCP_TIME_WAIT);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 5);
	{
		char b[8];

		assert_int_equal(mpt_tcp_recv(T(), b, sizeof(b), net.now), 3);
		assert_int_equal(mpt_tcp_recv(T(), b, sizeof(b), net.now), 0);
	}
	/* A retransmitted FIN is ACKed again and restarts 2*MSL. */
	net.now += 30 * H_S;
	hcap_clear(&net);
	assert_true(peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 4, ISS + 2, NULL, 0) < 0);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 5);
	assert_int_equal(mpt_tcp_next_deadline(T()), net.now + 60 * H_S);
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 0);
	net.now += 60 * H_S;
	mpt_tcp_on_timer(T(), net.now);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
	assert_int_equal(N()->ev[MPT_TCP_EV_ERROR], 0);
	assert_int_equal(mpt_tcp_error(T()), 0);
	hnet_free(&net);
}

static void test_passive_close(void **state)
{
	char b[8];

	(void)state;
	est_active(&nots);
	assert_int_equal(peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 1, ISS + 1, "hi", 2), 0);
	assert_int_equal(ST(), MPT_TCP_CLOSE_WAIT);
	assert_true(N()->ev[MPT_TCP_EV_READABLE] >= 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.ack, PISS + 4); /* FIN is ACKed at once */
	assert_int_equal(mpt_tcp_recv(T(), b, sizeof(b), net.now), 2);
	assert_int_equal(mpt_tcp_recv(T(), b, sizeof(b), net.now), 0);
	/* Half-close: we can still send. */
	hcap_clear(&net);
	assert_int_equal(mpt_tcp_send(T(), "data", 4, net.now), 4);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 4);
	assert_int_equal(peer_ack(PISS + 4, ISS + 5, 8000), 0);
	assert_int_equal(mpt_tcp_close(T(), net.now), 0);
	assert_int_equal(ST(), MPT_TCP_LAST_ACK);
	hcap_last(&net, &hs);
	assert_true(hs.s.hdr.flags & MPT_TCP_FIN);
	assert_int_equal(hs.s.hdr.seq, ISS + 5);
	/* Not acking the FIN yet: stays. */
	assert_int_equal(peer_ack(PISS + 4, ISS + 5, 8000), 0);
	assert_int_equal(ST(), MPT_TCP_LAST_ACK);
	/* FIN retransmitted on RTO. */
	hcap_clear(&net);
	net.now = mpt_tcp_next_deadline(T());
	mpt_tcp_on_timer(T(), net.now);
	hcap_last(&net, &hs);
	assert_true(hs.s.hdr.flags & MPT_TCP_FIN);
	assert_int_equal(hs.s.hdr.seq, ISS + 5);
	assert_int_equal(peer_ack(PISS + 4, ISS + 6, 8000), 0);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
	hnet_free(&net);
}

static void test_simultaneous_close(void **state)
{
	(void)state;
	est_active(&nots);
	assert_int_equal(mpt_tcp_shutdown(T(), net.now), 0);
	/* The peer's FIN crosses ours (does not ACK it). */
	assert_int_equal(peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 1, ISS + 1, NULL, 0), 0);
	assert_int_equal(ST(), MPT_TCP_CLOSING);
	assert_int_equal(peer_ack(PISS + 2, ISS + 2, 8000), 0);
	assert_int_equal(ST(), MPT_TCP_TIME_WAIT);
	net.now += 61 * H_S;
	mpt_tcp_on_timer(T(), net.now);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	hnet_free(&net);

	/* FIN-WAIT-1 receiving FIN+ACK of our FIN: straight to TIME-WAIT. */
	est_active(&nots);
	assert_int_equal(mpt_tcp_shutdown(T(), net.now), 0);
	assert_int_equal(peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 1, ISS + 2, NULL, 0), 0);
	assert_int_equal(ST(), MPT_TCP_TIME_WAIT);
	hnet_free(&net);
}

/* Drive the engine into a given state; returns false if unsupported. */
static void goto_state(enum mpt_tcp_state want)
{
	est_active(&nots);
	switch (want) {
	case MPT_TCP_ESTABLISHED:
		break;
	case MPT_TCP_FIN_WAIT_1:
		mpt_tcp_shutdown(T(), net.now);
		break;
	case MPT_TCP_FIN_WAIT_2:
		mpt_tcp_shutdown(T(), net.now);
		peer_ack(PISS + 1, ISS + 2, 8000);
		break;
	case MPT_TCP_CLOSE_WAIT:
		peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 1, ISS + 1, NULL, 0);
		break;
	case MPT_TCP_CLOSING:
		mpt_tcp_shutdown(T(), net.now);
		peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 1, ISS + 1, NULL, 0);
		break;
	case MPT_TCP_LAST_ACK:
		peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 1, ISS + 1, NULL, 0);
		mpt_tcp_shutdown(T(), net.now);
		break;
	case MPT_TCP_TIME_WAIT:
		mpt_tcp_shutdown(T(), net.now);
		peer_seg(MPT_TCP_ACK | MPT_TCP_FIN, PISS + 1, ISS + 2, NULL, 0);
		break;
	case MPT_TCP_CLOSED:
	case MPT_TCP_LISTEN:
	case MPT_TCP_SYN_SENT:
	case MPT_TCP_SYN_RECEIVED:
		fail();
	}
	assert_int_equal(ST(), want);
	hcap_clear(&net);
}

static uint32_t rcv_nxt(void)
{
	struct mpt_tcp_info i;

	mpt_tcp_get_info(T(), &i);
	return i.rcv_nxt;
}

static void test_rst_each_state(void **state)
{
	static const struct {
		enum mpt_tcp_state st;
		int err;
	} cases[] = {
	    {MPT_TCP_ESTABLISHED, MPT_ERR_RESET},
	    {MPT_TCP_FIN_WAIT_1, MPT_ERR_RESET},
	    {MPT_TCP_FIN_WAIT_2, MPT_ERR_RESET},
	    {MPT_TCP_CLOSE_WAIT, MPT_ERR_RESET},
	    {MPT_TCP_CLOSING, 0},
	    {MPT_TCP_LAST_ACK, 0},
	    {MPT_TCP_TIME_WAIT, 0},
	};
	struct mpt_tcp_seg s;

	(void)state;
	for (size_t k = 0; k < MPT_ARRAY_SIZE(cases); k++) {
		uint32_t rn;

		goto_state(cases[k].st);
		rn = rcv_nxt();
		/* Out of window: ignored and counted. */
		hcraft(&s, MPT_TCP_RST, rn + 10000000, 0, 0, NULL, 0);
		assert_true(hin(&net, &s) < 0);
		assert_int_equal(ST(), cases[k].st);
		assert_int_equal(hmib(N(), MPT_MIB_TCPRstNotInWindow), 1);
		assert_int_equal(hcap_count(&net), 0);
		/* In window, not exact: challenge ACK (except when the window
		 * is closed, TIME-WAIT etc. still have a window here). */
		hcraft(&s, MPT_TCP_RST, rn + 100, 0, 0, NULL, 0);
		assert_true(hin(&net, &s) < 0);
		assert_int_equal(ST(), cases[k].st);
		assert_int_equal(hmib(N(), MPT_MIB_TCPChallengeACK), 1);
		hcap_last(&net, &hs);
		assert_int_equal(hs.s.hdr.flags, MPT_TCP_ACK);
		assert_int_equal(hs.s.hdr.ack, rn);
		/* Exact. */
		hcraft(&s, MPT_TCP_RST, rn, 0, 0, NULL, 0);
		assert_int_equal(hin(&net, &s), 0);
		assert_int_equal(ST(), MPT_TCP_CLOSED);
		assert_int_equal(mpt_tcp_error(T()), cases[k].err);
		assert_int_equal(N()->ev[MPT_TCP_EV_ERROR], cases[k].err ? 1 : 0);
		assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
		hnet_free(&net);
	}

	/* SYN-RECEIVED (passive): RST -> CLOSED. */
	cap_setup(&nots);
	hcraft(&s, MPT_TCP_SYN, PISS, 0, 5000, NULL, 0);
	assert_int_equal(mpt_tcp_accept(T(), &s, ISS, net.now), 0);
	hcraft(&s, MPT_TCP_RST, PISS + 1, 0, 0, NULL, 0);
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
	hnet_free(&net);
}

static void test_abort(void **state)
{
	(void)state;
	goto_state(MPT_TCP_ESTABLISHED);
	assert_int_equal(mpt_tcp_send(T(), "abc", 3, net.now), 3);
	hcap_clear(&net);
	mpt_tcp_abort(T(), net.now);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	hcap_last(&net, &hs);
	assert_true(hs.s.hdr.flags & MPT_TCP_RST);
	assert_int_equal(hs.s.hdr.seq, ISS + 4);
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
	assert_int_equal(hmib(N(), MPT_MIB_TcpOutRsts), 1);
	mpt_tcp_abort(T(), net.now); /* no-op */
	assert_int_equal(N()->ev[MPT_TCP_EV_CLOSED], 1);
	hnet_free(&net);
}

static void test_rfc5961(void **state)
{
	struct mpt_tcp_seg s;
	uint64_t n;

	(void)state;
	goto_state(MPT_TCP_ESTABLISHED);
	/* SYN in ESTABLISHED: challenge ACK, state kept. */
	hcraft(&s, MPT_TCP_SYN, PISS + 12345, 0, 5000, NULL, 0);
	assert_true(hin(&net, &s) < 0);
	assert_int_equal(ST(), MPT_TCP_ESTABLISHED);
	assert_int_equal(hmib(N(), MPT_MIB_TCPSYNChallenge), 1);
	assert_int_equal(hmib(N(), MPT_MIB_TCPChallengeACK), 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.flags, MPT_TCP_ACK);
	assert_int_equal(hs.s.hdr.ack, PISS + 1);
	/* ACK of data never sent: dropped (data not accepted), ACK sent. */
	hcap_clear(&net);
	assert_true(peer_seg(MPT_TCP_ACK, PISS + 1, ISS + 100, "evil", 4) < 0);
	assert_int_equal(mpt_tcp_readable(T()), 0);
	assert_int_equal(hmib(N(), MPT_MIB_TCPACKOutOfWindow), 1);
	assert_int_equal(hcap_count(&net), 1);
	/* ACK far too old: dropped silently. */
	hcap_clear(&net);
	assert_true(peer_seg(MPT_TCP_ACK, PISS + 1, ISS - 1000000, "evil", 4) < 0);
	assert_int_equal(mpt_tcp_readable(T()), 0);
	assert_int_equal(hmib(N(), MPT_MIB_TCPACKOutOfWindow), 2);
	assert_int_equal(hcap_count(&net), 0);
	/* Slightly old ACK (within MAX.SND.WND) is acceptable. */
	assert_int_equal(peer_seg(MPT_TCP_ACK, PISS + 1, ISS, "good", 4), 0);
	assert_int_equal(mpt_tcp_readable(T()), 4);
	/* Challenge ACKs are rate limited. */
	n = hmib(N(), MPT_MIB_TCPChallengeACK);
	for (int i = 0; i < 50; i++) {
		hcraft(&s, MPT_TCP_RST, PISS + 5 + 100 + (uint32_t)i, 0, 0, NULL, 0);
		assert_true(hin(&net, &s) < 0);
	}
	assert_true(hmib(N(), MPT_MIB_TCPChallengeACK) - n <= 10);
	assert_true(hmib(N(), MPT_MIB_TCPChallengeACK) - n >= 5);
	net.now += 2 * H_S;
	hcraft(&s, MPT_TCP_RST, PISS + 5 + 100, 0, 0, NULL, 0);
	n = hmib(N(), MPT_MIB_TCPChallengeACK);
	hin(&net, &s);
	assert_int_equal(hmib(N(), MPT_MIB_TCPChallengeACK), n + 1);
	assert_int_equal(ST(), MPT_TCP_ESTABLISHED);
	hnet_free(&net);
}

static void test_paws(void **state)
{
	struct mpt_tcp_seg s;

	(void)state;
	cap_setup(NULL);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 65535, NULL, 0);
	s.opts.present = MPT_TCPOPT_F_MSS;
	s.opts.mss = 1460;
	hcraft_ts(&s, 1000, 1);
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(ST(), MPT_TCP_ESTABLISHED);
	hcraft(&s, MPT_TCP_ACK, PISS + 1, ISS + 1, 65535, "aa", 2);
	hcraft_ts(&s, 1005, 1);
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(mpt_tcp_readable(T()), 2);
	/* Older TSval: rejected by PAWS, ACKed, data not taken. */
	hcap_clear(&net);
	hcraft(&s, MPT_TCP_ACK, PISS + 3, ISS + 1, 65535, "bb", 2);
	hcraft_ts(&s, 1004, 1);
	assert_true(hin(&net, &s) < 0);
	assert_int_equal(mpt_tcp_readable(T()), 2);
	assert_int_equal(hmib(N(), MPT_MIB_PAWSEstabRejected), 1);
	assert_int_equal(hcap_count(&net), 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.opts.tsecr, 1005);
	/* TSval wrap-around: 0x80000000 later is "newer". */
	hcraft(&s, MPT_TCP_ACK, PISS + 3, ISS + 1, 65535, "cc", 2);
	hcraft_ts(&s, 1005 + 0x7fff0000u, 1);
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(mpt_tcp_readable(T()), 4);
	/* A RST is exempt from PAWS. */
	hcraft(&s, MPT_TCP_RST, PISS + 5, 0, 0, NULL, 0);
	hcraft_ts(&s, 1, 1);
	assert_int_equal(hin(&net, &s), 0);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	hnet_free(&net);
}

static void test_wscale(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true, .rcvbuf = 1 << 20};
	struct mpt_tcp_seg s;
	struct mpt_tcp_info i;

	(void)state;
	cap_setup(&cfg);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.opts.wscale, 5); /* 1 MiB >> 5 = 32768 */
	assert_int_equal(hs.s.hdr.window, 65535);
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 1000, NULL, 0);
	s.opts.present = MPT_TCPOPT_F_WSCALE;
	s.opts.wscale = 20; /* clamped to 14 */
	assert_int_equal(hin(&net, &s), 0);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.snd_wscale, 14);
	assert_int_equal(i.snd_wnd, 1000);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.window, (1 << 20) >> 5);
	/* Window update from the peer is scaled. */
	assert_int_equal(peer_ack(PISS + 1, ISS + 1, 3), 0);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.snd_wnd, 3u << 14);
	hnet_free(&net);

	/* Peer without WS: neither side scales. */
	cap_setup(&cfg);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 1000, NULL, 0);
	assert_int_equal(hin(&net, &s), 0);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.snd_wscale, 0);
	assert_int_equal(i.rcv_wscale, 0);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.window, 65535);
	assert_int_equal(peer_ack(PISS + 1, ISS + 1, 3), 0);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.snd_wnd, 3);
	hnet_free(&net);
}

static void test_mss(void **state)
{
	struct mpt_tcp_cfg cfg = {.mss = 1200};
	struct mpt_tcp_seg s;
	struct mpt_tcp_info i;
	static uint8_t buf[10000];

	(void)state;
	cap_setup(&cfg);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.opts.mss, 1200);
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 65535, NULL, 0);
	s.opts.present = MPT_TCPOPT_F_MSS;
	s.opts.mss = 1460;
	hcraft_ts(&s, 9, 1);
	assert_int_equal(hin(&net, &s), 0);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.snd_mss, 1200 - 12);
	hcap_clear(&net);
	assert_int_equal(mpt_tcp_send(T(), buf, sizeof(buf), net.now), sizeof(buf));
	assert_true(hcap_count(&net) >= 5);
	for (size_t k = 0; k < hcap_count(&net); k++) {
		hcap_get(&net, k, &hs);
		assert_true(hs.s.len <= 1188);
		assert_true(hs.s.len + hs.s.hdr.opt_len <= 1200);
	}
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.len, 1188);
	hnet_free(&net);
}

static void test_rst_generation(void **state)
{
	char b[4];

	(void)state;
	/* Close with unread data: RST. */
	goto_state(MPT_TCP_ESTABLISHED);
	assert_int_equal(peer_seg(MPT_TCP_ACK, PISS + 1, ISS + 1, "unread", 6), 0);
	hcap_clear(&net);
	assert_int_equal(mpt_tcp_close(T(), net.now), 0);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	hcap_last(&net, &hs);
	assert_true(hs.s.hdr.flags & MPT_TCP_RST);
	assert_int_equal(hmib(N(), MPT_MIB_TCPAbortOnData), 1);
	hnet_free(&net);

	/* Data after close: RST. */
	goto_state(MPT_TCP_ESTABLISHED);
	assert_int_equal(mpt_tcp_close(T(), net.now), 0);
	assert_int_equal(ST(), MPT_TCP_FIN_WAIT_1);
	assert_int_equal(peer_ack(PISS + 1, ISS + 2, 8000), 0);
	assert_int_equal(ST(), MPT_TCP_FIN_WAIT_2);
	hcap_clear(&net);
	assert_int_equal(peer_seg(MPT_TCP_ACK, PISS + 1, ISS + 2, "late", 4), 0);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	hcap_last(&net, &hs);
	assert_true(hs.s.hdr.flags & MPT_TCP_RST);
	assert_int_equal(hs.s.hdr.seq, ISS + 2);
	assert_int_equal(hmib(N(), MPT_MIB_TCPAbortOnData), 1);
	assert_int_equal(mpt_tcp_recv(T(), b, 4, net.now), MPT_ERR_CLOSED);
	hnet_free(&net);

	/* An orphaned FIN-WAIT-2 times out. */
	goto_state(MPT_TCP_ESTABLISHED);
	assert_int_equal(mpt_tcp_close(T(), net.now), 0);
	assert_int_equal(peer_ack(PISS + 1, ISS + 2, 8000), 0);
	assert_int_equal(ST(), MPT_TCP_FIN_WAIT_2);
	net.now = mpt_tcp_next_deadline(T());
	assert_true(net.now != MPT_TIME_NEVER);
	mpt_tcp_on_timer(T(), net.now);
	assert_int_equal(ST(), MPT_TCP_CLOSED);
	hnet_free(&net);
}

static void test_make_rst(void **state)
{
	struct mpt_tcp_seg s;
	uint8_t buf[64];
	struct hseg o;

	(void)state;
	hcraft(&s, MPT_TCP_SYN, 100, 0, 0, NULL, 0);
	assert_int_equal(mpt_tcp_make_rst(&s, buf, sizeof(buf)), 20);
	assert_int_equal(h_parse(&o, buf, 20), 0);
	assert_int_equal(o.s.hdr.flags, MPT_TCP_RST | MPT_TCP_ACK);
	assert_int_equal(o.s.hdr.seq, 0);
	assert_int_equal(o.s.hdr.ack, 101);
	assert_int_equal(o.s.hdr.sport, 40000);
	assert_int_equal(o.s.hdr.dport, 80);
	hcraft(&s, MPT_TCP_ACK | MPT_TCP_FIN, 100, 555, 0, "abc", 3);
	assert_int_equal(mpt_tcp_make_rst(&s, buf, sizeof(buf)), 20);
	assert_int_equal(h_parse(&o, buf, 20), 0);
	assert_int_equal(o.s.hdr.flags, MPT_TCP_RST);
	assert_int_equal(o.s.hdr.seq, 555);
	hcraft(&s, MPT_TCP_FIN, 100, 0, 0, "abc", 3);
	assert_int_equal(mpt_tcp_make_rst(&s, buf, sizeof(buf)), 20);
	assert_int_equal(h_parse(&o, buf, 20), 0);
	assert_int_equal(o.s.hdr.ack, 104);
	hcraft(&s, MPT_TCP_RST, 100, 0, 0, NULL, 0);
	assert_int_equal(mpt_tcp_make_rst(&s, buf, sizeof(buf)), 0);
	hcraft(&s, MPT_TCP_SYN, 100, 0, 0, NULL, 0);
	assert_int_equal(mpt_tcp_make_rst(&s, buf, 10), MPT_ERR_NOSPACE);
}

static void test_timewait_reuse(void **state)
{
	struct mpt_tcp_seg s;

	(void)state;
	goto_state(MPT_TCP_TIME_WAIT);
	hcraft(&s, MPT_TCP_SYN, PISS + 100000, 0, 0, NULL, 0);
	assert_true(mpt_tcp_timewait_reusable(T(), &s));
	hcraft(&s, MPT_TCP_SYN, PISS, 0, 0, NULL, 0);
	assert_false(mpt_tcp_timewait_reusable(T(), &s));
	/* The engine itself answers with a challenge ACK. */
	assert_true(hin(&net, &s) < 0);
	assert_int_equal(ST(), MPT_TCP_TIME_WAIT);
	assert_int_equal(hmib(N(), MPT_MIB_TCPSYNChallenge), 1);
	hnet_free(&net);
}

/* Callbacks may call into the engine (events are delivered at the end). */
static void reentrant_event(void *ud, enum mpt_tcp_event ev)
{
	struct hnode *nd = ud;
	char b[64];

	nd->ev[ev]++;
	nd->last_ev = ev;
	if (ev == MPT_TCP_EV_READABLE)
		while (mpt_tcp_recv(nd->tcp, b, sizeof(b), nd->net->now) > 0)
			nd->sink_len++;
	if (ev == MPT_TCP_EV_ESTABLISHED)
		assert_int_equal(mpt_tcp_send(nd->tcp, "hi", 2, nd->net->now), 2);
}

static void test_reentrant_events(void **state)
{
	struct mpt_tcp_cb cb = {0};
	struct mpt_tcp_seg s;

	(void)state;
	cap_setup(&nots);
	mpt_tcp_destroy(N()->tcp);
	cb.output = h_output;
	cb.on_event = reentrant_event;
	cb.ud = N();
	assert_int_equal(mpt_tcp_create(mpt_mem_default(), &N()->cfg, &cb, &N()->tcp), 0);
	mpt_tcp_set_ports(T(), 40000, 80);
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 65535, NULL, 0);
	assert_int_equal(hin(&net, &s), 0);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.len, 2);
	assert_int_equal(peer_seg(MPT_TCP_ACK, PISS + 1, ISS + 3, "abc", 3), 0);
	assert_int_equal(N()->sink_len, 1);
	assert_int_equal(mpt_tcp_readable(T()), 0);
	hnet_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_active_open),
	    cmocka_unit_test(test_passive_open),
	    cmocka_unit_test(test_simultaneous_open),
	    cmocka_unit_test(test_syn_sent_checks),
	    cmocka_unit_test(test_active_close),
	    cmocka_unit_test(test_passive_close),
	    cmocka_unit_test(test_simultaneous_close),
	    cmocka_unit_test(test_rst_each_state),
	    cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_rfc5961),
	    cmocka_unit_test(test_paws),
	    cmocka_unit_test(test_wscale),
	    cmocka_unit_test(test_mss),
	    cmocka_unit_test(test_rst_generation),
	    cmocka_unit_test(test_make_rst),
	    cmocka_unit_test(test_timewait_reuse),
	    cmocka_unit_test(test_reentrant_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
