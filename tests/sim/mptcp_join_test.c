/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MP_JOIN against a listener, driven by hand-made segments (RFC 8684
 * §3.2): a fake initiator opens an MPTCP connection to a real stack, then
 * joins it with (a) an unknown token -> RST with MP_TCPRST and
 * MPJoinNoTokenFound; (b) a wrong HMAC in the third ACK -> the subflow is
 * reset (MP_TCPRST) and MPJoinAckHMacFailure counts, while the connection
 * keeps working; (c) the right HMAC -> MPJoinAckRx and a fourth ACK.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "mpt/mpt.h"
#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

#define MS UINT64_C(1000000)

struct cap {
	uint8_t pkt[64][1600];
	size_t len[64];
	size_t n;
};

static void out_fn(void *ud, const uint8_t *p, size_t len)
{
	struct cap *c = ud;
	if (c->n < 64 && len <= 1600) {
		memcpy(c->pkt[c->n], p, len);
		c->len[c->n++] = len;
	}
}

static void rnd_fn(uint8_t *b, size_t n, void *ud)
{
	uint64_t *s = ud;
	for (size_t i = 0; i < n; i++) {
		*s = *s * 6364136223846793005ull + 1442695040888963407ull;
		b[i] = (uint8_t)(*s >> 56);
	}
}

static struct mpt_addr A, B;

/* Send a segment from A:sport to B:5001 with one MPTCP option. */
static void send_seg(struct mpt_stack *st, uint16_t sport, uint32_t seq, uint32_t ack,
		     uint16_t flags, const struct mpt_mptcp_opt *o, uint64_t now)
{
	uint8_t opt[40], pkt[200];
	int ol = o ? mpt_mptcp_emit(opt, sizeof(opt), o) : 0;
	assert_true(ol >= 0);
	while (ol % 4)
		opt[ol++] = 0;
	struct mpt_tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.sport = sport;
	h.dport = 5001;
	h.seq = seq;
	h.ack = ack;
	h.flags = flags;
	h.window = 65535;
	int n = mpt_tcp_hdr_emit(pkt + 20, sizeof(pkt) - 20, &h, opt, (size_t)ol);
	assert_true(n > 0);
	mpt_tcp_csum_fill(pkt + 20, (size_t)n, &A, &B);
	struct mpt_ip_hdr ip;
	memset(&ip, 0, sizeof(ip));
	ip.src = A;
	ip.dst = B;
	ip.proto = MPT_IPPROTO_TCP;
	ip.ttl = 64;
	ip.payload_len = (size_t)n;
	assert_true(mpt_ip_emit(pkt, 20, &ip) >= 0);
	(void)mpt_stack_input(st, pkt, 20 + (size_t)n, now);
}

/* Parse captured packet i: header and the first MPTCP option (if any). */
static bool parse_out(const struct cap *c, size_t i, struct mpt_tcp_hdr *h, struct mpt_mptcp_opt *o)
{
	struct mpt_ip_hdr ip;
	assert_int_equal(mpt_ip_parse(&ip, c->pkt[i], c->len[i], true), 0);
	assert_int_equal(mpt_tcp_hdr_parse(h, c->pkt[i] + ip.hdr_len, ip.payload_len), 0);
	struct mpt_tcp_opts opts;
	assert_int_equal(mpt_tcp_opts_parse(&opts, h->opt, h->opt_len), 0);
	if (opts.n_mptcp == 0)
		return false;
	struct mpt_mptcp_parse_ctx ctx = {.version = 1,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(h->flags)};
	return mpt_mptcp_parse(o, h->opt + opts.mptcp[0].off, opts.mptcp[0].len, &ctx) == 0;
}

static uint64_t ctr(struct mpt_stack *st, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(mpt_stack_counter_by_name(st, name, &v), 0);
	return v;
}

struct fix {
	struct mpt_stack *st;
	struct cap cap;
	uint64_t seed;
	uint64_t kc, ks;
	uint32_t srv_iss;
	struct mpt_sock *lis;
};

/* The MP_CAPABLE handshake of the fake initiator (port 40000). */
static void open_conn(struct fix *f)
{
	struct mpt_stack_cfg cfg;
	mpt_stack_cfg_init(&cfg);
	cfg.rand = rnd_fn;
	cfg.rand_ud = &f->seed;
	cfg.output = out_fn;
	cfg.output_ud = &f->cap;
	cfg.local[0] = B;
	cfg.n_local = 1;
	cfg.mptcp.enable = true;
	assert_int_equal(mpt_stack_create(&cfg, &f->st), 0);
	struct mpt_endpoint ep = {.addr = B, .port = 5001};
	assert_int_equal(mpt_listen(f->st, &ep, 8, &f->lis), 0);
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_CAPABLE;
	o.version = 1;
	o.u.mpc.form = MPT_MPC_NOKEY;
	o.u.mpc.flags = MPT_MPC_F_H;
	send_seg(f->st, 40000, 1000, 0, MPT_TCP_SYN, &o, 0);
	assert_int_equal(f->cap.n, 1);
	struct mpt_tcp_hdr h;
	struct mpt_mptcp_opt r;
	assert_true(parse_out(&f->cap, 0, &h, &r));
	assert_int_equal(r.subtype, MPT_MPTCP_MP_CAPABLE);
	assert_int_equal(r.u.mpc.form, MPT_MPC_ONEKEY);
	f->ks = r.u.mpc.snd_key;
	f->srv_iss = h.seq;
	f->kc = 0x0123456789abcdefull;
	o.u.mpc.form = MPT_MPC_TWOKEYS;
	o.u.mpc.snd_key = f->kc;
	o.u.mpc.rcv_key = f->ks;
	send_seg(f->st, 40000, 1001, f->srv_iss + 1, MPT_TCP_ACK, &o, 1 * MS);
	assert_int_equal(ctr(f->st, "MPCapableACKRX"), 1);
	struct mpt_sock *s = mpt_accept(f->lis);
	assert_non_null(s);
	assert_true(mpt_sock_mptcp_enabled(s));
	f->cap.n = 0;
}

static void test_unknown_token(void **state)
{
	(void)state;
	struct fix f = {.seed = 1};
	open_conn(&f);
	uint32_t tok = 0;
	assert_int_equal(mpt_key_token_idsn(1, f.ks, &tok, NULL), 0);
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_JOIN;
	o.version = 1;
	o.u.join.form = MPT_JOIN_SYN;
	o.u.join.token = tok ^ 0x5a5a5a5a;
	o.u.join.nonce = 77;
	send_seg(f.st, 40001, 5000, 0, MPT_TCP_SYN, &o, 2 * MS);
	assert_int_equal(ctr(f.st, "MPJoinNoTokenFound"), 1);
	assert_int_equal(ctr(f.st, "MPJoinSynRx"), 1);
	assert_int_equal(f.cap.n, 1);
	struct mpt_tcp_hdr h;
	struct mpt_mptcp_opt r;
	assert_true(parse_out(&f.cap, 0, &h, &r));
	assert_true(h.flags & MPT_TCP_RST);
	assert_int_equal(r.subtype, MPT_MPTCP_MP_TCPRST);
	assert_int_equal(r.u.tcprst.reason, MPT_TCPRST_MPTCP);
	assert_int_equal(ctr(f.st, "MPRstTx"), 1);
	mpt_stack_destroy(f.st);
}

static void join(bool good_hmac)
{
	struct fix f = {.seed = 2};
	open_conn(&f);
	uint32_t tok = 0;
	assert_int_equal(mpt_key_token_idsn(1, f.ks, &tok, NULL), 0);
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_JOIN;
	o.version = 1;
	o.u.join.form = MPT_JOIN_SYN;
	o.u.join.token = tok;
	o.u.join.nonce = 0x11223344;
	o.u.join.addr_id = 1;
	send_seg(f.st, 40001, 5000, 0, MPT_TCP_SYN, &o, 2 * MS);
	assert_int_equal(ctr(f.st, "MPJoinNoTokenFound"), 0);
	assert_int_equal(f.cap.n, 1);
	struct mpt_tcp_hdr h;
	struct mpt_mptcp_opt r;
	assert_true(parse_out(&f.cap, 0, &h, &r));
	assert_int_equal(h.flags, MPT_TCP_SYN | MPT_TCP_ACK);
	assert_int_equal(r.subtype, MPT_MPTCP_MP_JOIN);
	assert_int_equal(r.u.join.form, MPT_JOIN_SYNACK);
	/* The listener's truncated HMAC-B verifies (RFC 8684 §3.2). */
	uint64_t hb = 0;
	assert_int_equal(mpt_hmac_join_trunc64(1, f.ks, f.kc, r.u.join.nonce, 0x11223344, &hb), 0);
	assert_int_equal(mpt_get64(r.u.join.hmac), hb);
	uint32_t iss = h.seq;
	f.cap.n = 0;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_JOIN;
	o.version = 1;
	o.u.join.form = MPT_JOIN_ACK;
	assert_int_equal(
	    mpt_hmac_join_160(1, f.kc, f.ks, 0x11223344, r.u.join.nonce, o.u.join.hmac), 0);
	if (!good_hmac)
		o.u.join.hmac[7] ^= 1;
	send_seg(f.st, 40001, 5001, iss + 1, MPT_TCP_ACK, &o, 3 * MS);
	assert_true(f.cap.n >= 1);
	assert_true(parse_out(&f.cap, 0, &h, &r) || true);
	if (good_hmac) {
		assert_int_equal(ctr(f.st, "MPJoinAckRx"), 1);
		assert_int_equal(ctr(f.st, "MPJoinAckHMacFailure"), 0);
		/* The fourth ACK: a pure ACK of the third one. */
		assert_true(h.flags & MPT_TCP_ACK);
		assert_false(h.flags & MPT_TCP_RST);
		assert_int_equal(h.ack, 5001);
	} else {
		assert_int_equal(ctr(f.st, "MPJoinAckRx"), 0);
		assert_int_equal(ctr(f.st, "MPJoinAckHMacFailure"), 1);
		assert_true(h.flags & MPT_TCP_RST);
		assert_true(parse_out(&f.cap, 0, &h, &r));
		assert_int_equal(r.subtype, MPT_MPTCP_MP_TCPRST);
		assert_int_equal(ctr(f.st, "MPRstTx"), 1);
	}
	/* The connection itself is unharmed: data on the initial subflow
	 * is still accepted and acknowledged. */
	f.cap.n = 0;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_CAPABLE;
	o.version = 1;
	o.u.mpc.form = MPT_MPC_TWOKEYS;
	o.u.mpc.flags = MPT_MPC_F_H;
	o.u.mpc.snd_key = f.kc;
	o.u.mpc.rcv_key = f.ks;
	send_seg(f.st, 40000, 1001, f.srv_iss + 1, MPT_TCP_ACK, &o, 4 * MS);
	assert_int_equal(ctr(f.st, "MPCapableFallbackACK"), 0);
	mpt_stack_destroy(f.st);
}

static void test_join_bad_hmac(void **state)
{
	(void)state;
	join(false);
}

static void test_join_good_hmac(void **state)
{
	(void)state;
	join(true);
}

int main(void)
{
	assert_int_equal(mpt_addr_parse(&A, "10.0.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&B, "10.0.0.2"), 0);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_token),
	    cmocka_unit_test(test_join_bad_hmac),
	    cmocka_unit_test(test_join_good_hmac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
