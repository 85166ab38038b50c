/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP engine SACK: receiver block generation (RFC 2018 §4), sender
 * scoreboard and RFC 6675 recovery, reneging, sequence wrap-around with
 * losses and reordering.
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

static void est(const struct mpt_tcp_cfg *cfg, bool peer_ts)
{
	struct mpt_tcp_seg s;

	hnet_init(&net, cfg, NULL, H_MS);
	net.capture = true;
	assert_int_equal(mpt_tcp_connect(T(), ISS, net.now), 0);
	hcraft(&s, MPT_TCP_SYN | MPT_TCP_ACK, PISS, ISS + 1, 65535, NULL, 0);
	s.opts.present = MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_SACK_PERM;
	s.opts.mss = 1000;
	if (peer_ts)
		hcraft_ts(&s, 10, 1);
	assert_int_equal(hin(&net, &s), 0);
	hcap_clear(&net);
}

static int peer(uint32_t seq, uint32_t ack, const void *p, size_t len, bool ts)
{
	struct mpt_tcp_seg s;

	hcraft(&s, MPT_TCP_ACK, seq, ack, 65535, p, len);
	if (ts)
		hcraft_ts(&s, 20, 1);
	return hin(&net, &s);
}

static void test_receiver_blocks(void **state)
{
	static uint8_t d[100];

	(void)state;
	for (int ts = 0; ts < 2; ts++) {
		uint32_t maxb = ts ? 3 : 4;

		est(ts ? NULL : &(struct mpt_tcp_cfg){.no_timestamps = true}, ts);
		for (uint32_t k = 1; k <= 5; k++)
			assert_int_equal(peer(PISS + 1 + 2000 * k, ISS + 1, d, 100, ts), 0);
		hcap_last(&net, &hs);
		assert_int_equal(hs.s.hdr.ack, PISS + 1);
		assert_true(hs.s.opts.present & MPT_TCPOPT_F_SACK);
		assert_int_equal(hs.s.opts.nsack, maxb);
		/* Most recent first, then the previously reported ones. */
		for (uint32_t b = 0; b < maxb; b++) {
			assert_int_equal(hs.s.opts.sack[b].left, PISS + 1 + 2000 * (5 - b));
			assert_int_equal(hs.s.opts.sack[b].right, PISS + 101 + 2000 * (5 - b));
		}
		/* Extending an older block moves it to the front. */
		assert_int_equal(peer(PISS + 101 + 2000, ISS + 1, d, 100, ts), 0);
		hcap_last(&net, &hs);
		assert_int_equal(hs.s.opts.sack[0].left, PISS + 1 + 2000);
		assert_int_equal(hs.s.opts.sack[0].right, PISS + 201 + 2000);
		assert_int_equal(hs.s.opts.sack[1].left, PISS + 1 + 10000);
		/* Fill the first gap: block 1 is consumed, ACK moves. */
		{
			static uint8_t f[2000];

			assert_int_equal(peer(PISS + 1, ISS + 1, f, 2000, ts), 0);
		}
		hcap_last(&net, &hs);
		assert_int_equal(hs.s.hdr.ack, PISS + 201 + 2000);
		for (uint32_t b = 0; b < hs.s.opts.nsack; b++)
			assert_true(hs.s.opts.sack[b].left > PISS + 2201);
		assert_int_equal(mpt_tcp_readable(T()), 2200);
		hnet_free(&net);
	}
}

static int peer_sack(uint32_t ack, uint32_t l, uint32_t r)
{
	struct mpt_tcp_seg s;

	hcraft(&s, MPT_TCP_ACK, PISS + 1, ack, 65535, NULL, 0);
	s.opts.present |= MPT_TCPOPT_F_SACK;
	s.opts.nsack = 1;
	s.opts.sack[0].left = l;
	s.opts.sack[0].right = r;
	return hin(&net, &s);
}

static void test_sender_recovery(void **state)
{
	static uint8_t buf[10000];
	struct mpt_tcp_cfg cfg = {.no_timestamps = true};
	struct mpt_tcp_info i;

	(void)state;
	est(&cfg, false);
	assert_int_equal(mpt_tcp_send(T(), buf, sizeof(buf), net.now), 10000);
	assert_int_equal(hcap_count(&net), 10); /* IW 10 segments */
	hcap_clear(&net);
	/* Segment 1 lost; 2, 3, 4 SACKed. */
	assert_int_equal(peer_sack(ISS + 1, ISS + 1001, ISS + 2001), 0);
	assert_int_equal(peer_sack(ISS + 1, ISS + 1001, ISS + 3001), 0);
	assert_int_equal(hmib(N(), MPT_MIB_TCPSackRecovery), 0);
	assert_int_equal(peer_sack(ISS + 1, ISS + 1001, ISS + 4001), 0);
	assert_int_equal(hmib(N(), MPT_MIB_TCPSackRecovery), 1);
	assert_true(hmib(N(), MPT_MIB_TCPFastRetrans) >= 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 1);
	assert_int_equal(hs.s.len, 1000);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.in_flight, 10000 - 3000 - 1000 + 1000);
	/* Segment 6 also lost: more SACKs above it make it lost too. */
	hcap_clear(&net);
	assert_int_equal(peer_sack(ISS + 4001, ISS + 5001, ISS + 10001), 0);
	assert_true(hcap_count(&net) >= 1);
	hcap_get(&net, 0, &hs);
	assert_int_equal(hs.s.hdr.seq, ISS + 4001);
	assert_int_equal(hmib(N(), MPT_MIB_TcpRetransSegs), 2);
	/* Full ACK: recovery ends. */
	assert_int_equal(peer_sack(ISS + 10001, ISS + 10001, ISS + 10001), 0);
	mpt_tcp_get_info(T(), &i);
	assert_int_equal(i.unacked, 0);
	assert_int_equal(hmib(N(), MPT_MIB_TCPTimeouts), 0);
	hnet_free(&net);
}

static void test_reneging(void **state)
{
	static uint8_t buf[5000];
	struct mpt_tcp_cfg cfg = {.no_timestamps = true};

	(void)state;
	est(&cfg, false);
	assert_int_equal(mpt_tcp_send(T(), buf, sizeof(buf), net.now), 5000);
	assert_int_equal(peer_sack(ISS + 1, ISS + 2001, ISS + 3001), 0);
	/* Cumulative ACK up to the start of the SACKed block without
	 * covering it: the receiver dropped SACKed data. */
	assert_int_equal(peer_sack(ISS + 2001, ISS + 4001, ISS + 4001), 0);
	assert_int_equal(hmib(N(), MPT_MIB_TCPSACKReneging), 1);
	hnet_free(&net);
}

/* ---- two-engine transfers ------------------------------------------- */

struct dropper {
	uint64_t rng;
	uint32_t permille;
};

static bool drop_some(struct hnet *n, int from, const struct mpt_tcp_seg *seg, void *arg)
{
	struct dropper *d = arg;

	(void)n;
	(void)from;
	(void)seg;
	return h_rand(&d->rng) % 1000 < d->permille;
}

static bool done(struct hnet *n)
{
	return n->n[1].sink_len == n->n[0].src_len && n->n[0].sink_len == n->n[1].src_len;
}

static void bidir(const struct mpt_tcp_cfg *cfg, uint32_t iss_a, uint32_t iss_b, uint32_t permille,
		  uint64_t jitter, size_t len)
{
	struct dropper d = {.rng = 4242, .permille = permille};
	uint8_t *a = h_pattern(len, 1), *b = h_pattern(len / 2, 2);
	struct mpt_tcp_info ia;

	hnet_init(&net, cfg, NULL, 5 * H_MS);
	net.jitter = jitter;
	net.n[0].iss = iss_a;
	net.n[1].iss = iss_b;
	net.drop = drop_some;
	net.drop_arg = &d;
	hnet_handshake(&net);
	net.n[0].src = a;
	net.n[0].src_len = len;
	net.n[1].src = b;
	net.n[1].src_len = len / 2;
	assert_true(hnet_run_until(&net, done, net.now + 900 * H_S));
	assert_memory_equal(net.n[1].sink, a, len);
	assert_memory_equal(net.n[0].sink, b, len / 2);
	mpt_tcp_get_info(net.n[0].tcp, &ia);
	/* The sequence space really wrapped. */
	assert_true(ia.snd_nxt < iss_a);
	if (permille)
		assert_true(ia.total_retrans > 0);
	free(a);
	free(b);
	hnet_free(&net);
}

static void test_wraparound(void **state)
{
	struct mpt_tcp_cfg sack = {0};
	struct mpt_tcp_cfg nosack = {.no_sack = true, .no_timestamps = true};

	(void)state;
	bidir(&sack, 0xffffffffu - 50000, 0xffffffffu - 3000, 20, 0, 1 << 20);
	bidir(&nosack, 0xffffffffu - 50000, 0xfffffff0u, 20, 0, 1 << 20);
}

static void test_reordering(void **state)
{
	struct mpt_tcp_cfg sack = {0};
	struct mpt_tcp_cfg nosack = {.no_sack = true};

	(void)state;
	/* Jitter of up to 3 ms on a 5 ms path reorders heavily. */
	bidir(&sack, 0xfffff000u, 12345, 10, 3 * H_MS, 1 << 20);
	bidir(&nosack, 0xfffff000u, 12345, 10, 3 * H_MS, 1 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_receiver_blocks), cmocka_unit_test(test_sender_recovery),
	    cmocka_unit_test(test_reneging),        cmocka_unit_test(test_wraparound),
	    cmocka_unit_test(test_reordering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
