/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP engine buffers: bounded send/receive buffers, window advertisement,
 * overlapping and duplicate segments, the out-of-order interval bound,
 * zero window between two engines, a large transfer, and garbage input.
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

static void est(const struct mpt_tcp_cfg *cfg)
{
	struct mpt_tcp_seg s;

	hnet_init(&net, cfg, NULL, H_MS);
	net.capture = true;
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 65535, NULL, 0);
	s.opts.present = MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_SACK_PERM;
	s.opts.mss = 1000;
	assert_int_equal(hin(&net, &s), 0);
	hcap_clear(&net);
}

static int peer(uint32_t seq, const void *p, size_t len)
{
	struct mpt_tcp_seg s;

	hcraft(&s, MPT_TCP_ACK, seq, ISS + 1, 65535, p, len);
	return hin(&net, &s);
}

static void test_send_bounded(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true, .sndbuf = 4000};
	static uint8_t buf[10000];

	(void)state;
	est(&cfg);
	assert_int_equal(mpt_tcp_writable(T()), 4000);
	assert_int_equal(mpt_tcp_send(T(), buf, 3000, net.now), 3000);
	assert_int_equal(mpt_tcp_send(T(), buf, 3000, net.now), 1000);
	assert_int_equal(mpt_tcp_send(T(), buf, 3000, net.now), MPT_ERR_AGAIN);
	assert_int_equal(mpt_tcp_writable(T()), 0);
	assert_int_equal(N()->ev[MPT_TCP_EV_WRITABLE], 0);
	/* ACK of 1500 bytes frees space and reports WRITABLE. */
	{
		struct mpt_tcp_seg s;

		hcraft(&s, MPT_TCP_ACK, PISS + 1, ISS + 1501, 65535, NULL, 0);
		assert_int_equal(hin(&net, &s), 0);
	}
	assert_int_equal(N()->ev[MPT_TCP_EV_WRITABLE], 1);
	assert_int_equal(mpt_tcp_writable(T()), 1500);
	assert_int_equal(mpt_tcp_snd_write_seq(T()), ISS + 1 + 4000);
	hnet_free(&net);
}

static void test_recv_bounded(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true, .rcvbuf = 5000, .no_delack = true};
	static uint8_t buf[1000];
	uint32_t seq = PISS + 1;
	struct mpt_tcp_info i;
	char out[8000];

	(void)state;
	est(&cfg);
	/* The peer pushes more than the buffer; nothing beyond it is kept. */
	for (int k = 0; k < 8; k++) {
		memset(buf, 'a' + k, sizeof(buf));
		peer(seq, buf, sizeof(buf));
		hcap_last(&net, &hs);
		seq = hs.s.hdr.ack;
		assert_true(mpt_tcp_readable(T()) <= 5000);
	}
	assert_int_equal(mpt_tcp_readable(T()), 5000);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.window, 0);
	assert_true(hmib(N(), MPT_MIB_TCPRcvQDrop) >= 1);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.rcv_wnd, 0);
	assert_int_equal(i.rcvbuf_used, 5000);
	/* Reading a little does not reopen a tiny window (receiver SWS)... */
	hcap_clear(&net);
	assert_int_equal(mpt_tcp_recv(T(), out, 100, net.now), 100);
	assert_int_equal(hcap_count(&net), 0);
	/* ...reading enough sends a window update. */
	assert_int_equal(mpt_tcp_recv(T(), out, 3000, net.now), 3000);
	assert_int_equal(hcap_count(&net), 1);
	hcap_last(&net, &hs);
	assert_int_equal(hs.s.hdr.window, 3100);
	assert_int_equal(mpt_tcp_recv(T(), out, sizeof(out), net.now), 1900);
	assert_int_equal(out[0], 'a' + 3);
	assert_int_equal(out[1899], 'e');
	assert_int_equal(mpt_tcp_recv(T(), out, sizeof(out), net.now), MPT_ERR_AGAIN);
	hnet_free(&net);
}

static void test_overlap(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true};
	char out[64];

	(void)state;
	est(&cfg);
	/* Out of order [10,20) = 'B', then overlapping [5,25) = 'x':
	 * the bytes already held win. */
	assert_int_equal(peer(PISS + 11, "BBBBBBBBBB", 10), 0);
	assert_int_equal(peer(PISS + 6, "xxxxxxxxxxxxxxxxxxxx", 20), 0);
	assert_int_equal(peer(PISS + 1, "01234", 5), 0);
	assert_int_equal(mpt_tcp_readable(T()), 25);
	/* Duplicate of old data and a partially old segment. */
	assert_true(peer(PISS + 1, "zzzzz", 5) < 0); /* old: just ACKed */
	assert_int_equal(peer(PISS + 21, "yyyyyyyyyy", 10), 0);
	assert_int_equal(mpt_tcp_readable(T()), 30);
	assert_int_equal(mpt_tcp_recv(T(), out, sizeof(out), net.now), 30);
	assert_memory_equal(out, "01234xxxxxBBBBBBBBBBxxxxxyyyyy", 30);
	hnet_free(&net);
}

static void test_ofo_limit(void **state)
{
	struct mpt_tcp_cfg cfg = {.no_timestamps = true, .rcvbuf = 1 << 20};
	struct mpt_tcp_info i;
	static uint8_t d[10];
	char out[32];

	(void)state;
	est(&cfg);
	for (uint32_t k = 0; k < 70; k++)
		peer(PISS + 1 + 100 + 20 * k, d, 10);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.ofo_segs, 64);
	assert_int_equal(hmib(N(), MPT_MIB_TCPOFOQueue), 64);
	assert_int_equal(hmib(N(), MPT_MIB_TCPOFODrop), 6);
	/* Extending a stored interval still works when full. */
	assert_int_equal(peer(PISS + 1 + 110, d, 10), 0);
	assert_int_equal(hmib(N(), MPT_MIB_TCPOFODrop), 6);
	assert_int_equal(peer(PISS + 1, "abcdefghij", 10), 0);
	assert_int_equal(mpt_tcp_readable(T()), 10);
	assert_int_equal(mpt_tcp_recv(T(), out, sizeof(out), net.now), 10);
	hnet_free(&net);
}

static bool both_have(struct hnet *n)
{
	return n->n[1].sink_len == n->n[0].src_len;
}

static void test_zero_window_two_engines(void **state)
{
	struct mpt_tcp_cfg cfg = {.rcvbuf = 20000};
	uint8_t *src = h_pattern(200000, 9);

	(void)state;
	hnet_init(&net, &cfg, NULL, 2 * H_MS);
	hnet_handshake(&net);
	net.n[1].auto_read = false;
	net.n[0].src = src;
	net.n[0].src_len = 200000;
	hnet_run(&net, net.now + 5 * H_S);
	assert_int_equal(mpt_tcp_readable(net.n[1].tcp), 20000);
	assert_true(hmib(&net.n[0], MPT_MIB_TCPWinProbe) >= 1);
	/* Start reading: everything arrives intact. */
	net.n[1].auto_read = true;
	assert_true(hnet_run_until(&net, both_have, net.now + 120 * H_S));
	assert_memory_equal(net.n[1].sink, src, 200000);
	assert_int_equal(mpt_tcp_get_state(net.n[0].tcp), MPT_TCP_ESTABLISHED);
	free(src);
	hnet_free(&net);
}

static bool closed_both(struct hnet *n)
{
	return mpt_tcp_get_state(n->n[0].tcp) == MPT_TCP_CLOSED &&
	       mpt_tcp_get_state(n->n[1].tcp) == MPT_TCP_CLOSED;
}

static void test_large_transfer_and_close(void **state)
{
	size_t len = 32u << 20;
	uint8_t *src = h_pattern(len, 3);
	struct mpt_tcp_info ia;
	struct mpt_tcp_cfg cfg = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20};

	(void)state;
	hnet_init(&net, &cfg, NULL, 10 * H_MS);
	hnet_handshake(&net);
	net.n[0].src = src;
	net.n[0].src_len = len;
	net.n[0].close_when_done = true;
	net.n[1].src = (const uint8_t *)"";
	net.n[1].src_len = 0;
	net.n[1].shutdown_when_done = true;
	assert_true(hnet_run_until(&net, closed_both, net.now + 600 * H_S));
	assert_int_equal(net.n[1].sink_len, len);
	assert_memory_equal(net.n[1].sink, src, len);
	assert_true(net.n[1].eof);
	assert_true(net.n[0].eof);
	mpt_tcp_get_info(net.n[0].tcp, &ia);
	assert_int_equal(ia.bytes_acked, len);
	assert_int_equal(net.n[0].ev[MPT_TCP_EV_CLOSED], 1);
	assert_int_equal(net.n[1].ev[MPT_TCP_EV_CLOSED], 1);
	assert_int_equal(mpt_tcp_error(net.n[0].tcp), 0);
	assert_int_equal(mpt_tcp_error(net.n[1].tcp), 0);
	free(src);
	hnet_free(&net);
}

/* Random segments injected into both engines during a transfer. */
static void test_garbage(void **state)
{
	size_t len = 2u << 20;
	uint8_t *src = h_pattern(len, 5);
	uint64_t rng = 777;
	uint8_t junk[1500];

	(void)state;
	hnet_init(&net, NULL, NULL, 5 * H_MS);
	hnet_handshake(&net);
	net.n[0].src = src;
	net.n[0].src_len = len;
	for (int iter = 0; iter < 200000 && net.n[1].sink_len < len; iter++) {
		struct mpt_tcp_seg s;
		int who = (int)(h_rand(&rng) & 1);
		uint64_t r = h_rand(&rng);
		struct mpt_tcp_info i;
		size_t plen = (size_t)(h_rand(&rng) % 1500);

		mpt_tcp_get_info(net.n[who].tcp, &i);
		if (iter == 0)
			for (size_t k = 0; k < sizeof(junk); k++)
				junk[k] = (uint8_t)h_rand(&rng);
		junk[h_rand(&rng) % sizeof(junk)] = (uint8_t)r;
		hcraft(&s, (uint16_t)(r & 0x1ff), (uint32_t)h_rand(&rng), (uint32_t)h_rand(&rng),
		       (uint16_t)h_rand(&rng), junk, plen);
		/* Sometimes near the real sequence numbers, but never with an
		 * acceptable ACK and in-window data at once (that is an
		 * undetectable injection for any TCP, RFC 5961 §5). */
		switch ((r >> 16) % 4) {
		case 0:
			s.hdr.seq = i.rcv_nxt + (uint32_t)(h_rand(&rng) % 200000) - 100000;
			s.hdr.ack = i.snd_nxt + 1 + (uint32_t)(h_rand(&rng) % 100000);
			break;
		case 1:
			s.hdr.ack = i.snd_una - (uint32_t)(h_rand(&rng) % 1000);
			s.hdr.seq = i.rcv_nxt - 2000000 - (uint32_t)(h_rand(&rng) % 100000);
			break;
		default:
			break;
		}
		if (r & (1ull << 40)) {
			s.opts.present = (uint32_t)(h_rand(&rng) & 0x1f);
			s.opts.mss = (uint16_t)h_rand(&rng);
			s.opts.wscale = (uint8_t)h_rand(&rng);
			s.opts.nsack = (uint8_t)(h_rand(&rng) % 5);
			for (int b = 0; b < 4; b++) {
				s.opts.sack[b].left = i.snd_una + (uint32_t)(h_rand(&rng) % 300000);
				s.opts.sack[b].right =
				    s.opts.sack[b].left + (uint32_t)(h_rand(&rng) % 5000);
			}
			s.opts.tsval = (uint32_t)h_rand(&rng);
			s.opts.tsecr = (uint32_t)h_rand(&rng);
		}
		mpt_tcp_input(net.n[who].tcp, &s, net.now);
		if (mpt_tcp_get_state(net.n[0].tcp) == MPT_TCP_CLOSED ||
		    mpt_tcp_get_state(net.n[1].tcp) == MPT_TCP_CLOSED)
			break;
		if (iter % 8 == 0)
			hnet_step(&net, net.now + 10 * H_S);
	}
	assert_int_equal(mpt_tcp_get_state(net.n[0].tcp), MPT_TCP_ESTABLISHED);
	assert_int_equal(mpt_tcp_get_state(net.n[1].tcp), MPT_TCP_ESTABLISHED);
	assert_true(hnet_run_until(&net, both_have, net.now + 300 * H_S));
	assert_memory_equal(net.n[1].sink, src, len);
	free(src);
	hnet_free(&net);
}

/* Garbage into engines in every state (no crash, ASan clean). */
static void test_garbage_states(void **state)
{
	uint64_t rng = 99;
	uint8_t junk[2000] = {0};

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct mpt_tcp_cfg cfg = {.no_timestamps = (round & 1) != 0,
					  .no_sack = (round & 2) != 0,
					  .keepalive = (round & 4) != 0,
					  .rcvbuf = 3000,
					  .sndbuf = 3000};

		hnet_init(&net, &cfg, NULL, H_MS);
		net.capture = true;
		if (round % 3 == 0) {
			mpt_tcp_connect(T(), (uint32_t)h_rand(&rng), net.now);
		} else {
			struct mpt_tcp_seg s;

			hcraft(&s, MPT_TCP_SYN, PISS, 0, 1000, NULL, 0);
			mpt_tcp_accept(T(), &s, ISS, net.now);
			hcraft(&s, MPT_TCP_ACK, PISS + 1, ISS + 1, 1000, NULL, 0);
			hin(&net, &s);
			mpt_tcp_send(T(), junk, 2000, net.now);
			if (round % 3 == 2)
				mpt_tcp_shutdown(T(), net.now);
		}
		for (int k = 0; k < 400; k++) {
			struct mpt_tcp_seg s;
			struct mpt_tcp_info i;
			size_t plen = (size_t)(h_rand(&rng) % sizeof(junk));
			uint64_t r = h_rand(&rng);
			char out[512];

			mpt_tcp_get_info(T(), &i);
			hcraft(&s, (uint16_t)(r & 0x1ff),
			       i.rcv_nxt + (uint32_t)(h_rand(&rng) % 4000),
			       i.snd_una + (uint32_t)(h_rand(&rng) % 3000) - 1000,
			       (uint16_t)h_rand(&rng), junk, plen);
			if (r & 0x1000) {
				s.opts.present = (uint32_t)(h_rand(&rng) & 0x1f);
				s.opts.nsack = (uint8_t)(h_rand(&rng) % 5);
				for (int b = 0; b < 4; b++) {
					s.opts.sack[b].left =
					    i.snd_una + (uint32_t)(h_rand(&rng) % 4000);
					s.opts.sack[b].right =
					    i.snd_una + (uint32_t)(h_rand(&rng) % 4000);
				}
				s.opts.tsval = (uint32_t)h_rand(&rng);
			}
			mpt_tcp_input(T(), &s, net.now);
			if (r & 0x2000)
				mpt_tcp_recv(T(), out, sizeof(out), net.now);
			if (r & 0x4000)
				mpt_tcp_send(T(), junk, plen, net.now);
			if ((r & 0x38000) == 0x38000)
				mpt_tcp_close(T(), net.now);
			net.now += h_rand(&rng) % (50 * H_MS);
			if (mpt_tcp_next_deadline(T()) <= net.now)
				mpt_tcp_on_timer(T(), net.now);
			if (hcap_count(&net) > 1000)
				hcap_clear(&net);
			if (mpt_tcp_get_state(T()) == MPT_TCP_CLOSED)
				break;
		}
		hnet_free(&net);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_bounded),
	    cmocka_unit_test(test_recv_bounded),
	    cmocka_unit_test(test_overlap),
	    cmocka_unit_test(test_ofo_limit),
	    cmocka_unit_test(test_zero_window_two_engines),
	    cmocka_unit_test(test_large_transfer_and_close),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_garbage_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
