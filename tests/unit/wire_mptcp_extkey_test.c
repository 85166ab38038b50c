/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External keys in the MPTCP option codec (draft-baerts-tcpm-mptcpext-00,
 * docs/external-keys.md): exact bytes of the token forms of MP_CAPABLE,
 * NEW_KEY and the K bit of MP_JOIN / ADD_ADDR / MP_FASTCLOSE; every wrong
 * length refused; every flag combination; and that a parser without the
 * extension sees exactly what RFC 8684 says (subtype 9 an unknown subtype
 * kept raw, K a reserved bit, E a plain flag) - checked against how the
 * same parser treats the still-unassigned subtype 10 and against the
 * extension-less parse of every random option.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testrng.h" /* rnd, rnd_below, rnd_bytes, rng_state */
#include "wire/mptcp.h"

static struct mpt_mptcp_parse_ctx ctx_of(int version, int seg, int ext)
{
	struct mpt_mptcp_parse_ctx c = {
	    .version = (uint8_t)version, .seg = (uint8_t)seg, .ext = (uint8_t)ext};
	return c;
}

#define EXT MPT_MPTCP_EXT_EXTKEY

/* Parse with ctx, require success, re-emit the same bytes. */
static void ok_roundtrip(const uint8_t *b, size_t n, const struct mpt_mptcp_parse_ctx *ctx,
			 struct mpt_mptcp_opt *o)
{
	uint8_t out[64];
	int rc = mpt_mptcp_parse(o, b, n, ctx);
	if (rc != 0)
		fprintf(stderr, "parse failed: %d (%s)\n", rc, mpt_mptcp_reason_str(o->reason));
	assert_int_equal(rc, 0);
	assert_int_equal(o->reason, MPT_MPTCP_R_OK);
	assert_int_equal(mpt_mptcp_opt_len(o), n);
	assert_int_equal(mpt_mptcp_emit(out, sizeof(out), o), (int)n);
	assert_memory_equal(out, b, n);
}

static int parse_rc(const uint8_t *b, size_t n, const struct mpt_mptcp_parse_ctx *ctx,
		    struct mpt_mptcp_opt *o)
{
	return mpt_mptcp_parse(o, b, n, ctx);
}

/* Every length 0..40 over tmpl: the accepted set must be exactly want. */
static void check_lengths(const uint8_t tmpl[40], const struct mpt_mptcp_parse_ctx *ctx,
			  const int *want, size_t nwant)
{
	for (int L = 0; L <= 40; L++) {
		size_t n = L < 2 ? 2 : (size_t)L;
		uint8_t *b = malloc(n); /* exact size: ASan sees any over-read */
		struct mpt_mptcp_opt o;
		bool legal = false;

		memcpy(b, tmpl, n);
		b[1] = (uint8_t)L;
		for (size_t k = 0; k < nwant; k++)
			legal |= want[k] == L;
		int rc = mpt_mptcp_parse(&o, b, n, ctx);
		if (legal != (rc == 0)) {
			fprintf(stderr,
				"byte2 %02x byte3 %02x v%d seg %d ext %d len %d: rc %d (%s)\n",
				tmpl[2], tmpl[3], ctx->version, ctx->seg, ctx->ext, L, rc,
				mpt_mptcp_reason_str(o.reason));
			fail();
		}
		if (rc == 0) {
			uint8_t out[40];
			assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), L);
		} else {
			assert_int_equal(rc, MPT_ERR_BADLEN);
		}
		free(b);
	}
}

#define LENS(...) (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int)

/* ---- the codepoints, as draft-baerts-tcpm-mptcpext-00 proposes them ------- */

static void test_codepoints(void **state)
{
	(void)state;
	/* §6: flag E of MP_CAPABLE (RFC 8684 §3.1: A=0x80 ... H=0x01; D-G
	 * unassigned), subtype 0x9; Figures 5-8: where K sits. */
	assert_int_equal(MPT_EXTKEY_MPC_FLAG, 0x08);
	assert_int_equal(
	    MPT_EXTKEY_MPC_FLAG & (MPT_MPC_F_A | MPT_MPC_F_B | MPT_MPC_F_C | MPT_MPC_F_H), 0);
	assert_int_equal(MPT_EXTKEY_SUBTYPE, 0x9);
	assert_int_equal(MPT_EXTKEY_K_NEW_KEY, 0x01);
	assert_int_equal(MPT_EXTKEY_K_JOIN, 0x02);
	assert_int_equal(MPT_EXTKEY_K_ADD_ADDR, 0x02);
	assert_int_equal(MPT_EXTKEY_K_FASTCLOSE, 0x01);
	assert_int_equal(MPT_EXTKEY_NEW_KEY_LEN, 12);
	/* and none of them is a subtype or flag RFC 8684 already uses */
	assert_int_not_equal(MPT_EXTKEY_SUBTYPE, MPT_MPTCP_MP_TCPRST);
	assert_int_not_equal(MPT_EXTKEY_SUBTYPE, MPT_MPTCP_MP_EXPERIMENTAL);
}

/* ---- MP_CAPABLE token forms (draft Figures 1 and 4) ------------------------ */

static void test_mpc_tokens_bytes(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o;
	struct mpt_mptcp_parse_ctx c;

	/* SYN: the v1 SYN with E (0x08) next to H. */
	static const uint8_t syn[] = {30, 4, 0x01, 0x09};
	c = ctx_of(1, MPT_MPTCP_SEG_SYN, EXT);
	ok_roundtrip(syn, sizeof(syn), &c, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_NOKEY);
	assert_int_equal(o.u.mpc.flags, MPT_MPC_F_E | MPT_MPC_F_H);
	assert_int_equal(MPT_MPC_F_E, 0x08);

	/* SYN/ACK: the responder's token. */
	static const uint8_t synack[] = {30, 8, 0x01, 0x09, 0xde, 0xad, 0xbe, 0xef};
	c = ctx_of(1, MPT_MPTCP_SEG_SYNACK, EXT);
	ok_roundtrip(synack, sizeof(synack), &c, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_EXT_ONETOKEN);
	assert_int_equal(o.u.mpc.snd_token, 0xdeadbeef);
	assert_int_equal(o.u.mpc.rcv_token, 0);
	assert_true(o.u.mpc.snd_key == 0 && o.u.mpc.rcv_key == 0);

	/* Third ACK: initiator's token then responder's; checksum flag A. */
	static const uint8_t ack[] = {30, 12, 0x01, 0x89, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef};
	c = ctx_of(1, MPT_MPTCP_SEG_ACK, EXT);
	ok_roundtrip(ack, sizeof(ack), &c, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_EXT_TWOTOKENS);
	assert_int_equal(o.u.mpc.flags, MPT_MPC_F_A | MPT_MPC_F_E | MPT_MPC_F_H);
	assert_int_equal(o.u.mpc.snd_token, 0x01020304);
	assert_int_equal(o.u.mpc.rcv_token, 0xdeadbeef);

	/* Third ACK with data: data-level length, then the checksum (16). */
	static const uint8_t data[] = {30, 14, 0x01, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x05, 0xdc};
	ok_roundtrip(data, sizeof(data), &c, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_EXT_DATA);
	assert_int_equal(o.u.mpc.data_len, 1500);
	assert_false(o.u.mpc.has_csum);
	static const uint8_t datac[] = {30, 16, 0x01, 0x89, 1,    2,    3,    4,
					5,  6,  7,    8,    0x00, 0x10, 0xbe, 0xef};
	ok_roundtrip(datac, sizeof(datac), &c, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_EXT_DATA);
	assert_int_equal(o.u.mpc.snd_token, 0x01020304);
	assert_int_equal(o.u.mpc.rcv_token, 0x05060708);
	assert_int_equal(o.u.mpc.data_len, 16);
	assert_true(o.u.mpc.has_csum);
	assert_int_equal(o.u.mpc.csum, 0xbeef);

	/* Without the extension the same bytes are RFC 8684 bytes. */
	c = ctx_of(1, MPT_MPTCP_SEG_SYN, 0);
	ok_roundtrip(syn, sizeof(syn), &c, &o); /* E is just a flag */
	assert_int_equal(o.u.mpc.form, MPT_MPC_NOKEY);
	c = ctx_of(1, MPT_MPTCP_SEG_ANY, 0);
	assert_int_equal(parse_rc(synack, sizeof(synack), &c, &o), MPT_ERR_BADLEN);
	assert_int_equal(o.reason, MPT_MPTCP_R_LEN);
	assert_int_equal(parse_rc(data, sizeof(data), &c, &o), MPT_ERR_BADLEN);
	assert_int_equal(parse_rc(datac, sizeof(datac), &c, &o), MPT_ERR_BADLEN);
	/* 12 bytes are a v1 SYN/ACK key there: wrong on an ACK, a key on ANY. */
	c = ctx_of(1, MPT_MPTCP_SEG_ACK, 0);
	assert_int_equal(parse_rc(ack, sizeof(ack), &c, &o), MPT_ERR_BADLEN);
	assert_int_equal(o.reason, MPT_MPTCP_R_LEN_SEG);
	c = ctx_of(1, MPT_MPTCP_SEG_ANY, 0);
	ok_roundtrip(ack, sizeof(ack), &c, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_ONEKEY);
	assert_true(o.u.mpc.snd_key == 0x01020304deadbeefull);

	/* With the extension, E clear: the RFC 8684 forms, unchanged. */
	static const uint8_t v1synack[] = {30, 12, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8};
	c = ctx_of(1, MPT_MPTCP_SEG_SYNACK, EXT);
	ok_roundtrip(v1synack, sizeof(v1synack), &c, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_ONEKEY);
	assert_true(o.u.mpc.snd_key == 0x0102030405060708ull);

	/* v0 keeps E as one of its crypto bits (RFC 6824): keys, as before. */
	static const uint8_t v0syn[] = {30, 12, 0x00, 0x09, 9, 8, 7, 6, 5, 4, 3, 2};
	c = ctx_of(0, MPT_MPTCP_SEG_SYN, EXT);
	ok_roundtrip(v0syn, sizeof(v0syn), &c, &o);
	assert_int_equal(o.version, 0);
	assert_int_equal(o.u.mpc.form, MPT_MPC_ONEKEY);
	assert_true(o.u.mpc.snd_key == 0x0908070605040302ull);
}

static void test_mpc_lengths(void **state)
{
	(void)state;
	uint8_t t[40];
	rng_state = 0xe47;
	rnd_bytes(t, sizeof(t));
	t[0] = 30;
	t[2] = 0x01;

	/* E set, extension on: 4 / 8 / 12 / 14 / 16 by segment; nothing else. */
	for (int f = 0; f < 256; f++) {
		t[3] = (uint8_t)f;
		struct mpt_mptcp_parse_ctx a = ctx_of(1, MPT_MPTCP_SEG_ANY, EXT);
		struct mpt_mptcp_parse_ctx s = ctx_of(1, MPT_MPTCP_SEG_SYN, EXT);
		struct mpt_mptcp_parse_ctx sa = ctx_of(1, MPT_MPTCP_SEG_SYNACK, EXT);
		struct mpt_mptcp_parse_ctx ak = ctx_of(1, MPT_MPTCP_SEG_ACK, EXT);
		if (f & MPT_MPC_F_E) {
			check_lengths(t, &a, LENS(4, 8, 12, 14, 16));
			check_lengths(t, &s, LENS(4));
			check_lengths(t, &sa, LENS(8));
			check_lengths(t, &ak, LENS(12, 14, 16));
		} else {
			check_lengths(t, &a, LENS(4, 12, 20, 22, 24));
			check_lengths(t, &s, LENS(4));
			check_lengths(t, &sa, LENS(12));
			check_lengths(t, &ak, LENS(20, 22, 24));
		}
		/* Extension off: the RFC 8684 table whatever the flags. */
		a.ext = s.ext = sa.ext = ak.ext = 0;
		check_lengths(t, &a, LENS(4, 12, 20, 22, 24));
		check_lengths(t, &sa, LENS(12));
		check_lengths(t, &ak, LENS(20, 22, 24));
	}
	/* A 3-byte MP_CAPABLE has no flags byte: the parser must not look past
	 * it for E (exact-size buffer, so ASan sees an over-read). */
	uint8_t *three = malloc(3);
	memcpy(three, (const uint8_t[]){30, 3, 0x01}, 3);
	struct mpt_mptcp_parse_ctx c3 = ctx_of(1, MPT_MPTCP_SEG_ANY, EXT);
	struct mpt_mptcp_opt o3;
	assert_int_equal(mpt_mptcp_parse(&o3, three, 3, &c3), MPT_ERR_BADLEN);
	assert_int_equal(o3.reason, MPT_MPTCP_R_LEN);
	free(three);

	/* v0 with E: RFC 6824's lengths, extension or not. */
	t[2] = 0x00;
	t[3] = 0x09;
	for (int ext = 0; ext <= 1; ext++) {
		struct mpt_mptcp_parse_ctx a = ctx_of(1, MPT_MPTCP_SEG_ANY, ext);
		check_lengths(t, &a, LENS(12, 20));
	}
}

static void test_mpc_emit_rules(void **state)
{
	(void)state;
	struct mpt_mptcp_opt e;
	uint8_t buf[40];

	memset(&e, 0, sizeof(e));
	e.subtype = MPT_MPTCP_MP_CAPABLE;
	e.version = 1;
	e.u.mpc.flags = MPT_MPC_F_H; /* no E */
	for (int f = MPT_MPC_EXT_ONETOKEN; f <= MPT_MPC_EXT_DATA; f++) {
		e.u.mpc.form = (uint8_t)f;
		assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
	}
	e.u.mpc.flags = MPT_MPC_F_E | MPT_MPC_F_H;
	e.u.mpc.form = MPT_MPC_EXT_ONETOKEN;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), 8);
	assert_int_equal(mpt_mptcp_emit(buf, 7, &e), MPT_ERR_NOSPACE);
	e.u.mpc.has_csum = true; /* checksum only in the data forms */
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
	e.u.mpc.form = MPT_MPC_EXT_TWOTOKENS;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
	e.u.mpc.form = MPT_MPC_EXT_DATA;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), 16);
	e.u.mpc.has_csum = false;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), 14);
	e.version = 0; /* no token forms in v0 */
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
	e.version = 1;
	e.u.mpc.form = 7; /* past the last form */
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
	/* A key id on MP_CAPABLE has no bit to go to. */
	e.u.mpc.form = MPT_MPC_NOKEY;
	e.key_id = 1;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
}

/* ---- NEW_KEY (draft Figure 5) --------------------------------------------- */

static void test_new_key_bytes(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o;
	struct mpt_mptcp_parse_ctx c = ctx_of(1, MPT_MPTCP_SEG_ACK, EXT);

	static const uint8_t k0[] = {30, 12, 0x90, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
	ok_roundtrip(k0, sizeof(k0), &c, &o);
	assert_false(o.unknown);
	assert_int_equal(o.subtype, MPT_EXTKEY_SUBTYPE);
	assert_int_equal(o.key_id, 0);
	static const uint8_t h[] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_memory_equal(o.u.new_key.hmac, h, 8);

	static const uint8_t k1[] = {30, 12, 0x91, 0x00, 8, 7, 6, 5, 4, 3, 2, 1};
	ok_roundtrip(k1, sizeof(k1), &c, &o);
	assert_int_equal(o.key_id, 1);
	assert_int_equal(o.u.new_key.hmac[0], 8);

	/* Reserved bits (3 in the subtype byte, the whole next byte) ignored,
	 * written back as zero. */
	static const uint8_t rsv[] = {30, 12, 0x9f, 0xff, 8, 7, 6, 5, 4, 3, 2, 1};
	assert_int_equal(parse_rc(rsv, sizeof(rsv), &c, &o), 0);
	assert_int_equal(o.key_id, 1);
	uint8_t out[40];
	assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), 12);
	assert_memory_equal(out, k1, sizeof(k1));

	/* Every other length is refused, on any segment. */
	uint8_t t[40];
	rng_state = 9;
	rnd_bytes(t, sizeof(t));
	t[0] = 30;
	for (int lo = 0; lo < 16; lo++) {
		t[2] = (uint8_t)(0x90 | lo);
		for (int seg = MPT_MPTCP_SEG_ANY; seg <= MPT_MPTCP_SEG_ACK; seg++) {
			struct mpt_mptcp_parse_ctx cs = ctx_of(1, seg, EXT);
			check_lengths(t, &cs, LENS(12));
		}
	}

	/* Emit: v1 only; key id 0 or 1. */
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_EXTKEY_SUBTYPE;
	o.version = 1;
	o.key_id = 1;
	memcpy(o.u.new_key.hmac, h, 8);
	assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), 12);
	static const uint8_t want[] = {30, 12, 0x91, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
	assert_memory_equal(out, want, 12);
	assert_int_equal(mpt_mptcp_emit(out, 11, &o), MPT_ERR_NOSPACE);
	o.key_id = 2;
	assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), MPT_ERR_INVAL);
	o.key_id = 0;
	o.version = 0;
	assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), MPT_ERR_INVAL);
}

/*
 * Without the extension (or in v0), subtype 9 is what every unassigned
 * subtype is today: accepted at any length 3..40, kept raw with unknown
 * set, re-emitted byte for byte.  Same result as for subtype 10 on the same
 * bytes (only the subtype nibble differs).
 */
static void test_new_key_unknown_without_ext(void **state)
{
	(void)state;
	uint8_t b[40], b10[40];
	rng_state = 0x9;

	for (int i = 0; i < 20000; i++) {
		size_t L = 3 + rnd_below(38);
		rnd_bytes(b, sizeof(b));
		b[0] = 30;
		b[1] = (uint8_t)L;
		b[2] = (uint8_t)(0x90 | (b[2] & 0x0f));
		memcpy(b10, b, sizeof(b));
		b10[2] = (uint8_t)(0xa0 | (b[2] & 0x0f));
		int seg = (int)rnd_below(4);
		/* no extension in v1 or v0; the extension in v0 (v1-only) */
		int version = (int)rnd_below(2);
		int ext = version == 0 ? (int)rnd_below(2) : 0;
		struct mpt_mptcp_parse_ctx c = ctx_of(version, seg, ext);
		struct mpt_mptcp_opt o, o10;

		assert_int_equal(mpt_mptcp_parse(&o, b, L, &c), 0);
		assert_int_equal(mpt_mptcp_parse(&o10, b10, L, &c), 0);
		assert_true(o.unknown);
		assert_true(o10.unknown);
		assert_int_equal(o.subtype, 9);
		assert_int_equal(o.key_id, 0);
		assert_int_equal(o.u.unknown.len, L);
		assert_memory_equal(o.u.unknown.data, b + 2, L - 2);
		/* identical to subtype 10 but for the nibble */
		o10.subtype = 9;
		o10.u.unknown.data[0] = b[2];
		assert_memory_equal(&o, &o10, sizeof(o));
		uint8_t out[40];
		assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), (int)L);
		assert_memory_equal(out, b, L);
	}
	/* ctx->ext bits the codec does not know: a bad context. */
	struct mpt_mptcp_parse_ctx bad = ctx_of(1, MPT_MPTCP_SEG_ACK, 0x02);
	static const uint8_t k0[] = {30, 12, 0x90, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
	struct mpt_mptcp_opt o;
	assert_int_equal(mpt_mptcp_parse(&o, k0, sizeof(k0), &bad), MPT_ERR_INVAL);
	assert_int_equal(o.reason, MPT_MPTCP_R_BAD_CTX);
}

/* ---- the K bit: MP_JOIN, ADD_ADDR, MP_FASTCLOSE (Figures 6-8) -------------- */

static void test_join_k(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o;
	static const uint8_t tmpl_syn[] = {30, 12, 0x10, 5, 0xa, 0xb, 0xc, 0xd, 1, 2, 3, 4};
	static const uint8_t tmpl_synack[] = {30, 16, 0x10, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9};
	uint8_t tmpl_ack[24] = {30, 24, 0x10, 0};
	for (int i = 4; i < 24; i++)
		tmpl_ack[i] = (uint8_t)i;
	const uint8_t *forms[] = {tmpl_syn, tmpl_synack, tmpl_ack};
	const int segs[] = {MPT_MPTCP_SEG_SYN, MPT_MPTCP_SEG_SYNACK, MPT_MPTCP_SEG_ACK};

	for (int f = 0; f < 3; f++) {
		/* every value of the flag nibble: (r)(r) K B */
		for (int nib = 0; nib < 16; nib++) {
			uint8_t b[24];
			size_t n = forms[f][1];
			memcpy(b, forms[f], n);
			b[2] = (uint8_t)(0x10 | nib);
			bool k = (nib & MPT_EXTKEY_K_JOIN) != 0;
			bool bk = (nib & 1) != 0;
			/* the bytes emit writes back: reserved bits zero */
			uint8_t canon[24];
			memcpy(canon, b, n);

			struct mpt_mptcp_parse_ctx c = ctx_of(1, segs[f], EXT);
			assert_int_equal(mpt_mptcp_parse(&o, b, n, &c), 0);
			assert_int_equal(o.key_id, k ? 1 : 0);
			if (f != 2)
				assert_int_equal(o.u.join.backup, bk);
			canon[2] =
			    (uint8_t)(0x10 | (k ? MPT_EXTKEY_K_JOIN : 0) | (f != 2 && bk ? 1 : 0));
			uint8_t out[40];
			assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), (int)n);
			assert_memory_equal(out, canon, n);

			/* no extension: K is reserved, everything else the same */
			struct mpt_mptcp_opt p;
			c.ext = 0;
			assert_int_equal(mpt_mptcp_parse(&p, b, n, &c), 0);
			assert_int_equal(p.key_id, 0);
			o.key_id = 0;
			assert_memory_equal(&o, &p, sizeof(o));
			/* the extension in a v0 context: v1 only, K stays reserved */
			c = ctx_of(0, segs[f], EXT);
			assert_int_equal(mpt_mptcp_parse(&p, b, n, &c), 0);
			assert_int_equal(p.key_id, 0);
		}
	}
}

static void test_add_addr_k(void **state)
{
	(void)state;
	rng_state = 0xadd;

	for (int i = 0; i < 2000; i++) {
		struct mpt_mptcp_opt o, p;
		memset(&o, 0, sizeof(o));
		o.subtype = MPT_MPTCP_ADD_ADDR;
		o.version = 1;
		o.key_id = (uint8_t)rnd_below(2);
		struct mpt_mptcp_add_addr *a = &o.u.add_addr;
		a->echo = rnd_below(2);
		a->addr_id = (uint8_t)rnd();
		a->addr.family = rnd_below(2) ? 4 : 6;
		rnd_bytes(a->addr.bytes, a->addr.family == 4 ? 4 : 16);
		a->has_port = rnd_below(2);
		if (a->has_port)
			a->port = (uint16_t)rnd();
		if (!a->echo)
			rnd_bytes(a->hmac, 8);
		uint8_t b[40];
		int n = mpt_mptcp_emit(b, sizeof(b), &o);
		assert_true(n > 0);
		/* K is 0x02, E stays 0x01, the upper two bits are zero */
		assert_int_equal(b[2] & 0x0f,
				 (o.key_id ? MPT_EXTKEY_K_ADD_ADDR : 0) | (a->echo ? 1 : 0));
		struct mpt_mptcp_parse_ctx c = ctx_of(1, MPT_MPTCP_SEG_ACK, EXT);
		assert_int_equal(mpt_mptcp_parse(&p, b, (size_t)n, &c), 0);
		assert_memory_equal(&o, &p, sizeof(o));
		/* reserved bits set on input change nothing */
		b[2] |= 0x0c;
		assert_int_equal(mpt_mptcp_parse(&p, b, (size_t)n, &c), 0);
		assert_memory_equal(&o, &p, sizeof(o));
		/* without the extension: same option, key id 0 */
		c.ext = 0;
		assert_int_equal(mpt_mptcp_parse(&p, b, (size_t)n, &c), 0);
		assert_int_equal(p.key_id, 0);
		o.key_id = 0;
		assert_memory_equal(&o, &p, sizeof(o));
	}
	/* v0: the nibble is IPVer, so no key id either way. */
	static const uint8_t v0[] = {30, 8, 0x34, 7, 10, 0, 0, 1};
	struct mpt_mptcp_parse_ctx c0 = ctx_of(0, MPT_MPTCP_SEG_ACK, EXT);
	struct mpt_mptcp_opt o;
	ok_roundtrip(v0, sizeof(v0), &c0, &o);
	assert_int_equal(o.key_id, 0);
	uint8_t buf[40];
	o.key_id = 1;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);

	/* The K bit does not change ADD_ADDR's legal lengths. */
	uint8_t t[40];
	rnd_bytes(t, sizeof(t));
	t[0] = 30;
	struct mpt_mptcp_parse_ctx c = ctx_of(1, MPT_MPTCP_SEG_ANY, EXT);
	t[2] = 0x32; /* K, E=0 */
	check_lengths(t, &c, LENS(16, 18, 28, 30));
	t[2] = 0x33; /* K, E=1 */
	check_lengths(t, &c, LENS(8, 10, 20, 22));
}

static void test_fastclose_k(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o, p;
	struct mpt_mptcp_parse_ctx c = ctx_of(1, MPT_MPTCP_SEG_ACK, EXT);
	static const uint8_t k1[] = {30, 12, 0x71, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
	ok_roundtrip(k1, sizeof(k1), &c, &o);
	assert_int_equal(o.key_id, 1);
	assert_true(o.u.fastclose_key == 0x0102030405060708ull);
	static const uint8_t k0[] = {30, 12, 0x70, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
	ok_roundtrip(k0, sizeof(k0), &c, &o);
	assert_int_equal(o.key_id, 0);
	/* reserved bits (0x0e and the next byte) ignored */
	static const uint8_t rsv[] = {30, 12, 0x7f, 0xff, 1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(mpt_mptcp_parse(&o, rsv, sizeof(rsv), &c), 0);
	assert_int_equal(o.key_id, 1);
	uint8_t out[40];
	assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), 12);
	assert_memory_equal(out, k1, 12);
	/* without the extension, or in v0: K is reserved */
	c.ext = 0;
	assert_int_equal(mpt_mptcp_parse(&p, k1, sizeof(k1), &c), 0);
	assert_int_equal(p.key_id, 0);
	assert_true(p.u.fastclose_key == 0x0102030405060708ull);
	c = ctx_of(0, MPT_MPTCP_SEG_ACK, EXT);
	assert_int_equal(mpt_mptcp_parse(&p, k1, sizeof(k1), &c), 0);
	assert_int_equal(p.key_id, 0);
	/* lengths unchanged */
	uint8_t t[40];
	rng_state = 77;
	rnd_bytes(t, sizeof(t));
	t[0] = 30;
	t[2] = 0x71;
	c = ctx_of(1, MPT_MPTCP_SEG_ANY, EXT);
	check_lengths(t, &c, LENS(12));
	/* key ids only where there is a K bit */
	memset(&o, 0, sizeof(o));
	o.version = 1;
	o.key_id = 1;
	const uint8_t no_k[] = {MPT_MPTCP_DSS, MPT_MPTCP_REMOVE_ADDR, MPT_MPTCP_MP_PRIO,
				MPT_MPTCP_MP_FAIL, MPT_MPTCP_MP_TCPRST};
	for (size_t i = 0; i < sizeof(no_k); i++) {
		o.subtype = no_k[i];
		o.u.rm_addr.n = 1;
		assert_int_equal(mpt_mptcp_opt_len(&o), 0);
	}
	o.subtype = MPT_MPTCP_MP_FASTCLOSE;
	assert_int_equal(mpt_mptcp_opt_len(&o), 12);
	o.key_id = 2;
	assert_int_equal(mpt_mptcp_opt_len(&o), 0);
}

/* ---- random bytes: the extension changes only what it says it changes ----- */

static void test_random_ext_vs_plain(void **state)
{
	(void)state;
	rng_state = 0xe7e7;
	int ok_ext = 0;

	for (int i = 0; i < 300000; i++) {
		uint8_t b[40];
		size_t L = 3 + rnd_below(38);
		rnd_bytes(b, sizeof(b));
		b[0] = 30;
		b[1] = (uint8_t)L;
		if (rnd_below(2)) /* favour the subtypes the extension touches */
			b[2] = (uint8_t)((const uint8_t[]){0, 1, 3, 7, 9}[rnd_below(5)] << 4 |
					 (b[2] & 0x0f));
		if ((b[2] >> 4) == 0 && rnd_below(2)) { /* a v1 MP_CAPABLE, E often set */
			b[2] = 0x01;
			L = (const size_t[]){4, 8, 12, 14, 16, 20, 22, 24}[rnd_below(8)];
			b[1] = (uint8_t)L;
		}
		int version = (int)rnd_below(2);
		int seg = (int)rnd_below(4);
		struct mpt_mptcp_parse_ctx cp = ctx_of(version, seg, 0);
		struct mpt_mptcp_parse_ctx ce = ctx_of(version, seg, EXT);
		struct mpt_mptcp_opt p, e;
		int rp = mpt_mptcp_parse(&p, b, L, &cp);
		int re = mpt_mptcp_parse(&e, b, L, &ce);
		int st = b[2] >> 4;
		bool mpc_ext = st == MPT_MPTCP_MP_CAPABLE && (b[2] & 0x0f) == 1 && L >= 4 &&
			       (b[3] & MPT_MPC_F_E);
		bool new_key = st == MPT_EXTKEY_SUBTYPE && version == 1;

		assert_int_equal(p.key_id, 0);
		if (!mpc_ext && !new_key) {
			/* same verdict, same fields but for the key id */
			assert_int_equal(rp, re);
			e.key_id = 0;
			assert_memory_equal(&p, &e, sizeof(p));
		}
		if (re == 0) {
			ok_ext++;
			uint8_t out[40], out2[40];
			int n = mpt_mptcp_emit(out, sizeof(out), &e);
			assert_int_equal(n, (int)L);
			struct mpt_mptcp_opt e2;
			assert_int_equal(mpt_mptcp_parse(&e2, out, (size_t)n, &ce), 0);
			assert_memory_equal(&e, &e2, sizeof(e));
			assert_int_equal(mpt_mptcp_emit(out2, sizeof(out2), &e2), n);
			assert_memory_equal(out, out2, (size_t)n);
		}
	}
	assert_true(ok_ext > 50000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codepoints),
	    cmocka_unit_test(test_mpc_tokens_bytes),
	    cmocka_unit_test(test_mpc_lengths),
	    cmocka_unit_test(test_mpc_emit_rules),
	    cmocka_unit_test(test_new_key_bytes),
	    cmocka_unit_test(test_new_key_unknown_without_ext),
	    cmocka_unit_test(test_join_k),
	    cmocka_unit_test(test_add_addr_k),
	    cmocka_unit_test(test_fastclose_k),
	    cmocka_unit_test(test_random_ext_vs_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
