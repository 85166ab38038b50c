/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP option codec (src/wire/mptcp.c): exact bytes per RFC 8684 / RFC
 * 6824 figures, randomized round trips, the exact legal-length sets,
 * truncation and garbage, DSN expansion and the DSS checksum.
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
#include "wire/tcp.h"

#define MPT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers -------------------------------------------------------------- */

static struct mpt_mptcp_parse_ctx mkctx(int version, int seg)
{
	struct mpt_mptcp_parse_ctx c = {.version = (uint8_t)version, .seg = (uint8_t)seg};
	return c;
}

#define CHK(cond)                                                                                  \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "mismatch: %s\n", #cond);                                  \
			return false;                                                              \
		}                                                                                  \
	} while (0)

/* Field-by-field equality (parse zeroes every field its form does not use). */
static bool opt_eq(const struct mpt_mptcp_opt *a, const struct mpt_mptcp_opt *b)
{
	CHK(a->subtype == b->subtype);
	CHK(a->unknown == b->unknown);
	CHK(a->version == b->version);
	if (a->unknown) {
		CHK(a->u.unknown.len == b->u.unknown.len);
		CHK(memcmp(a->u.unknown.data, b->u.unknown.data, a->u.unknown.len - 2u) == 0);
		return true;
	}
	switch (a->subtype) {
	case MPT_MPTCP_MP_CAPABLE:
		CHK(a->u.mpc.form == b->u.mpc.form);
		CHK(a->u.mpc.flags == b->u.mpc.flags);
		CHK(a->u.mpc.snd_key == b->u.mpc.snd_key);
		CHK(a->u.mpc.rcv_key == b->u.mpc.rcv_key);
		CHK(a->u.mpc.data_len == b->u.mpc.data_len);
		CHK(a->u.mpc.has_csum == b->u.mpc.has_csum);
		CHK(a->u.mpc.csum == b->u.mpc.csum);
		break;
	case MPT_MPTCP_MP_JOIN:
		CHK(a->u.join.form == b->u.join.form);
		CHK(a->u.join.backup == b->u.join.backup);
		CHK(a->u.join.addr_id == b->u.join.addr_id);
		CHK(a->u.join.token == b->u.join.token);
		CHK(a->u.join.nonce == b->u.join.nonce);
		CHK(memcmp(a->u.join.hmac, b->u.join.hmac, 20) == 0);
		break;
	case MPT_MPTCP_DSS:
		CHK(a->u.dss.flags == b->u.dss.flags);
		CHK(a->u.dss.data_ack == b->u.dss.data_ack);
		CHK(a->u.dss.dsn == b->u.dss.dsn);
		CHK(a->u.dss.ssn == b->u.dss.ssn);
		CHK(a->u.dss.data_len == b->u.dss.data_len);
		CHK(a->u.dss.has_csum == b->u.dss.has_csum);
		CHK(a->u.dss.csum == b->u.dss.csum);
		break;
	case MPT_MPTCP_ADD_ADDR:
		CHK(a->u.add_addr.echo == b->u.add_addr.echo);
		CHK(a->u.add_addr.addr_id == b->u.add_addr.addr_id);
		CHK(memcmp(&a->u.add_addr.addr, &b->u.add_addr.addr, sizeof(struct mpt_addr)) == 0);
		CHK(a->u.add_addr.has_port == b->u.add_addr.has_port);
		CHK(a->u.add_addr.port == b->u.add_addr.port);
		CHK(memcmp(a->u.add_addr.hmac, b->u.add_addr.hmac, 8) == 0);
		break;
	case MPT_MPTCP_REMOVE_ADDR:
		CHK(a->u.rm_addr.n == b->u.rm_addr.n);
		CHK(memcmp(a->u.rm_addr.ids, b->u.rm_addr.ids, a->u.rm_addr.n) == 0);
		break;
	case MPT_MPTCP_MP_PRIO:
		CHK(a->u.prio.backup == b->u.prio.backup);
		CHK(a->u.prio.has_addr_id == b->u.prio.has_addr_id);
		CHK(a->u.prio.addr_id == b->u.prio.addr_id);
		break;
	case MPT_MPTCP_MP_FAIL:
		CHK(a->u.fail_dsn == b->u.fail_dsn);
		break;
	case MPT_MPTCP_MP_FASTCLOSE:
		CHK(a->u.fastclose_key == b->u.fastclose_key);
		break;
	case MPT_MPTCP_MP_TCPRST:
		CHK(a->u.tcprst.flags == b->u.tcprst.flags);
		CHK(a->u.tcprst.reason == b->u.tcprst.reason);
		break;
	default:
		return false;
	}
	return true;
}

/* Parse bytes, require success, emit again and require the same bytes. */
static void parse_ok_roundtrip(const uint8_t *b, size_t n, int version, int seg,
			       struct mpt_mptcp_opt *o)
{
	struct mpt_mptcp_parse_ctx ctx = mkctx(version, seg);
	uint8_t out[64];

	int rc = mpt_mptcp_parse(o, b, n, &ctx);
	if (rc != 0)
		fprintf(stderr, "parse failed: %d (%s)\n", rc, mpt_mptcp_reason_str(o->reason));
	assert_int_equal(rc, 0);
	assert_int_equal(o->reason, MPT_MPTCP_R_OK);
	assert_int_equal(mpt_mptcp_opt_len(o), n);
	assert_int_equal(mpt_mptcp_emit(out, sizeof(out), o), (int)n);
	assert_memory_equal(out, b, n);
}

/* ---- exact bytes per subtype and form ------------------------------------- */

static void test_mpc_bytes(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o;

	/* v1 SYN: kind, len 4, subtype 0 | version 1, flags A+H. */
	static const uint8_t syn1[] = {30, 4, 0x01, 0x81};
	parse_ok_roundtrip(syn1, sizeof(syn1), 1, MPT_MPTCP_SEG_SYN, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_CAPABLE);
	assert_int_equal(o.version, 1);
	assert_int_equal(o.u.mpc.form, MPT_MPC_NOKEY);
	assert_int_equal(o.u.mpc.flags, MPT_MPC_F_A | MPT_MPC_F_H);

	/* v1 SYN/ACK: one key. */
	static const uint8_t synack1[] = {30, 12, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8};
	parse_ok_roundtrip(synack1, sizeof(synack1), 1, MPT_MPTCP_SEG_SYNACK, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_ONEKEY);
	assert_true(o.u.mpc.snd_key == 0x0102030405060708ull);
	assert_true(o.u.mpc.rcv_key == 0);

	/* v1 third ACK: both keys. */
	static const uint8_t ack1[] = {30, 20, 0x01, 0x21, 1,    2,    3,    4,    5,    6,
				       7,  8,  0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
	parse_ok_roundtrip(ack1, sizeof(ack1), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_TWOKEYS);
	assert_int_equal(o.u.mpc.flags, MPT_MPC_F_C | MPT_MPC_F_H);
	assert_true(o.u.mpc.snd_key == 0x0102030405060708ull);
	assert_true(o.u.mpc.rcv_key == 0xa1a2a3a4a5a6a7a8ull);

	/* v1 ACK with data, no checksum (22) and with checksum (24). */
	static const uint8_t data1[] = {30,   22,   0x01, 0x01, 1,    2,    3,    4,
					5,    6,    7,    8,    0xa1, 0xa2, 0xa3, 0xa4,
					0xa5, 0xa6, 0xa7, 0xa8, 0x05, 0xdc};
	parse_ok_roundtrip(data1, sizeof(data1), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_DATA);
	assert_int_equal(o.u.mpc.data_len, 1500);
	assert_false(o.u.mpc.has_csum);
	static const uint8_t data1c[] = {30,   24,   0x01, 0x81, 1,    2,    3,    4,
					 5,    6,    7,    8,    0xa1, 0xa2, 0xa3, 0xa4,
					 0xa5, 0xa6, 0xa7, 0xa8, 0x00, 0x10, 0xbe, 0xef};
	parse_ok_roundtrip(data1c, sizeof(data1c), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.u.mpc.data_len, 16);
	assert_true(o.u.mpc.has_csum);
	assert_int_equal(o.u.mpc.csum, 0xbeef);

	/* v0 SYN (RFC 6824: the SYN carries the sender's key), SHA-1 flag H. */
	static const uint8_t syn0[] = {30, 12, 0x00, 0x81, 9, 8, 7, 6, 5, 4, 3, 2};
	parse_ok_roundtrip(syn0, sizeof(syn0), 0, MPT_MPTCP_SEG_SYN, &o);
	assert_int_equal(o.version, 0);
	assert_int_equal(o.u.mpc.form, MPT_MPC_ONEKEY);
	assert_true(o.u.mpc.snd_key == 0x0908070605040302ull);
	/* The option's own version wins over ctx->version for MP_CAPABLE. */
	parse_ok_roundtrip(syn0, sizeof(syn0), 1, MPT_MPTCP_SEG_SYNACK, &o);
	assert_int_equal(o.version, 0);

	/* v0 third ACK. */
	static const uint8_t ack0[] = {30, 20, 0x00, 0x01, 1,  2,  3,  4,  5,  6,
				       7,  8,  9,    10,   11, 12, 13, 14, 15, 16};
	parse_ok_roundtrip(ack0, sizeof(ack0), 0, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.u.mpc.form, MPT_MPC_TWOKEYS);
	assert_true(o.u.mpc.rcv_key == 0x090a0b0c0d0e0f10ull);

	/* A future version on a SYN: refused, but the version is reported. */
	static const uint8_t syn2[] = {30, 4, 0x02, 0x81};
	struct mpt_mptcp_parse_ctx ctx = mkctx(1, MPT_MPTCP_SEG_SYN);
	assert_int_equal(mpt_mptcp_parse(&o, syn2, sizeof(syn2), &ctx), MPT_ERR_UNSUPPORTED);
	assert_int_equal(o.reason, MPT_MPTCP_R_VERSION);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_CAPABLE);
	assert_int_equal(o.version, 2);

	/* Length legal for the subtype, not for the segment. */
	assert_int_equal(mpt_mptcp_parse(&o, synack1, sizeof(synack1), &ctx), MPT_ERR_BADLEN);
	assert_int_equal(o.reason, MPT_MPTCP_R_LEN_SEG);
	/* v0 never had a 4-byte or a 22-byte form. */
	static const uint8_t syn0short[] = {30, 4, 0x00, 0x81};
	ctx = mkctx(0, MPT_MPTCP_SEG_ANY);
	assert_int_equal(mpt_mptcp_parse(&o, syn0short, 4, &ctx), MPT_ERR_BADLEN);
	assert_int_equal(o.reason, MPT_MPTCP_R_LEN);

	/* Reserved-free emit from a struct. */
	struct mpt_mptcp_opt e = {0};
	uint8_t buf[40];
	e.subtype = MPT_MPTCP_MP_CAPABLE;
	e.version = 1;
	e.u.mpc.form = MPT_MPC_NOKEY;
	e.u.mpc.flags = MPT_MPC_F_H;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), 4);
	static const uint8_t want[] = {30, 4, 0x01, 0x01};
	assert_memory_equal(buf, want, 4);
	/* Forms that do not exist in a version are refused. */
	e.version = 0;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
	e.u.mpc.form = MPT_MPC_DATA;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
	e.version = 1;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), 22);
	assert_int_equal(mpt_mptcp_emit(buf, 21, &e), MPT_ERR_NOSPACE);
	e.u.mpc.form = MPT_MPC_TWOKEYS;
	e.u.mpc.has_csum = true; /* checksum only exists in the DATA form */
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
	e.version = 2;
	e.u.mpc.has_csum = false;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &e), MPT_ERR_INVAL);
}

static void test_join_bytes(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o;

	/* SYN: B=1, address id 5, token, nonce (RFC 8684 Figure 5). */
	static const uint8_t syn[] = {30, 12, 0x11, 5, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 42};
	parse_ok_roundtrip(syn, sizeof(syn), 1, MPT_MPTCP_SEG_SYN, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_JOIN);
	assert_int_equal(o.u.join.form, MPT_JOIN_SYN);
	assert_true(o.u.join.backup);
	assert_int_equal(o.u.join.addr_id, 5);
	assert_int_equal(o.u.join.token, 0xdeadbeef);
	assert_int_equal(o.u.join.nonce, 42);

	/* SYN/ACK (Figure 6): truncated HMAC then nonce. */
	static const uint8_t synack[] = {30, 16, 0x10, 7, 1,   2,   3,   4,
					 5,  6,  7,    8, 0xa, 0xb, 0xc, 0xd};
	parse_ok_roundtrip(synack, sizeof(synack), 0, MPT_MPTCP_SEG_ANY, &o);
	assert_int_equal(o.u.join.form, MPT_JOIN_SYNACK);
	assert_false(o.u.join.backup);
	assert_int_equal(o.u.join.addr_id, 7);
	static const uint8_t h8[] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_memory_equal(o.u.join.hmac, h8, 8);
	assert_int_equal(o.u.join.nonce, 0x0a0b0c0d);

	/* ACK (Figure 7): 160-bit HMAC. */
	uint8_t ack[24] = {30, 24, 0x10, 0};
	for (int i = 0; i < 20; i++)
		ack[4 + i] = (uint8_t)(0x40 + i);
	parse_ok_roundtrip(ack, sizeof(ack), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.u.join.form, MPT_JOIN_ACK);
	assert_memory_equal(o.u.join.hmac, ack + 4, 20);

	/* The segment decides: a SYN-sized join on a SYN/ACK is refused. */
	struct mpt_mptcp_parse_ctx ctx = mkctx(1, MPT_MPTCP_SEG_SYNACK);
	assert_int_equal(mpt_mptcp_parse(&o, syn, sizeof(syn), &ctx), MPT_ERR_BADLEN);
	assert_int_equal(o.reason, MPT_MPTCP_R_LEN_SEG);
}

static void test_dss_bytes(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o;

	/* Data ACK only, 32 bits (RFC 8684 Figure 9). */
	static const uint8_t a4[] = {30, 8, 0x20, 0x01, 0x11, 0x22, 0x33, 0x44};
	parse_ok_roundtrip(a4, sizeof(a4), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_DSS);
	assert_int_equal(o.u.dss.flags, MPT_DSS_F_ACK);
	assert_true(o.u.dss.data_ack == 0x11223344);

	/* Data ACK 64 bits. */
	static const uint8_t a8[] = {30, 12, 0x20, 0x03, 1, 2, 3, 4, 5, 6, 7, 8};
	parse_ok_roundtrip(a8, sizeof(a8), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_true(o.u.dss.data_ack == 0x0102030405060708ull);

	/* Mapping only, 32-bit DSN, no checksum: 4 + 4 + 4 + 2 = 14. */
	static const uint8_t m14[] = {30, 14, 0x20, 0x04, 0, 0, 0x10, 0, 0, 0, 0, 1, 5, 0xdc};
	parse_ok_roundtrip(m14, sizeof(m14), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_true(o.u.dss.dsn == 0x1000);
	assert_int_equal(o.u.dss.ssn, 1);
	assert_int_equal(o.u.dss.data_len, 1500);
	assert_false(o.u.dss.has_csum);

	/* Same with checksum: 16. */
	static const uint8_t m16[] = {30, 16, 0x20, 0x04, 0, 0,    0x10, 0,
				      0,  0,  0,    1,    5, 0xdc, 0x12, 0x34};
	parse_ok_roundtrip(m16, sizeof(m16), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_true(o.u.dss.has_csum);
	assert_int_equal(o.u.dss.csum, 0x1234);

	/* Everything: F m M a A, 64-bit ack and DSN, checksum: 4+8+8+4+2+2 = 28. */
	static const uint8_t all[] = {30,   28,   0x20, 0x1f, 1,    2,    3,    4,    5,    6,
				      7,    8,    0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
				      0xc0, 0xc1, 0xc2, 0xc3, 0,    1,    0xab, 0xcd};
	parse_ok_roundtrip(all, sizeof(all), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.u.dss.flags, 0x1f);
	assert_true(o.u.dss.data_ack == 0x0102030405060708ull);
	assert_true(o.u.dss.dsn == 0xf1f2f3f4f5f6f7f8ull);
	assert_int_equal(o.u.dss.ssn, 0xc0c1c2c3);
	assert_int_equal(o.u.dss.data_len, 1);
	assert_int_equal(o.u.dss.csum, 0xabcd);

	/* Reserved bits are ignored on input and zero on output. */
	static const uint8_t rsv[] = {30, 8, 0x2f, 0xe1, 0x11, 0x22, 0x33, 0x44};
	struct mpt_mptcp_parse_ctx ctx = mkctx(1, MPT_MPTCP_SEG_ACK);
	uint8_t buf[40];
	assert_int_equal(mpt_mptcp_parse(&o, rsv, sizeof(rsv), &ctx), 0);
	assert_int_equal(o.u.dss.flags, MPT_DSS_F_ACK);
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), 8);
	assert_memory_equal(buf, a4, 8);

	/* A 32-bit field holding a 64-bit value is refused, not truncated. */
	o.u.dss.data_ack = 0x100000000ull;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);
	o.u.dss.data_ack = 1;
	o.u.dss.has_csum = true; /* checksum without mapping */
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);
	o.u.dss.has_csum = false;
	o.u.dss.flags = 0x20; /* not a DSS flag */
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);
}

static void test_add_addr_bytes(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o;

	/* v1 IPv4, echo, no port: 8. */
	static const uint8_t e8[] = {30, 8, 0x31, 3, 10, 0, 0, 1};
	parse_ok_roundtrip(e8, sizeof(e8), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_ADD_ADDR);
	assert_true(o.u.add_addr.echo);
	assert_int_equal(o.u.add_addr.addr_id, 3);
	assert_int_equal(o.u.add_addr.addr.family, 4);
	static const uint8_t a4[] = {10, 0, 0, 1};
	assert_memory_equal(o.u.add_addr.addr.bytes, a4, 4);
	assert_false(o.u.add_addr.has_port);

	/* v1 IPv4, port, HMAC: 4 + 4 + 2 + 8 = 18 (RFC 8684 Figure 12). */
	static const uint8_t h18[] = {30,   18, 0x30, 9, 192, 168, 1, 2, 0x1f,
				      0x90, 1,  2,    3, 4,   5,   6, 7, 8};
	parse_ok_roundtrip(h18, sizeof(h18), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_false(o.u.add_addr.echo);
	assert_true(o.u.add_addr.has_port);
	assert_int_equal(o.u.add_addr.port, 8080);
	static const uint8_t h8[] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_memory_equal(o.u.add_addr.hmac, h8, 8);

	/* v1 IPv6 with port and HMAC: 30. */
	uint8_t v6[30] = {30, 30, 0x30, 1};
	for (int i = 0; i < 16; i++)
		v6[4 + i] = (uint8_t)(0x20 + i);
	v6[20] = 0x01;
	v6[21] = 0xbb;
	for (int i = 0; i < 8; i++)
		v6[22 + i] = (uint8_t)(0x90 + i);
	parse_ok_roundtrip(v6, sizeof(v6), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.u.add_addr.addr.family, 6);
	assert_memory_equal(o.u.add_addr.addr.bytes, v6 + 4, 16);
	assert_int_equal(o.u.add_addr.port, 443);
	assert_memory_equal(o.u.add_addr.hmac, v6 + 22, 8);

	/* v0 (RFC 6824 Figure 12): IPVer nibble, no HMAC. */
	static const uint8_t z8[] = {30, 8, 0x34, 2, 10, 1, 2, 3};
	parse_ok_roundtrip(z8, sizeof(z8), 0, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.version, 0);
	assert_false(o.u.add_addr.echo);
	assert_int_equal(o.u.add_addr.addr.family, 4);
	uint8_t z22[22] = {30, 22, 0x36, 4};
	for (int i = 0; i < 16; i++)
		z22[4 + i] = (uint8_t)i;
	z22[20] = 0x12;
	z22[21] = 0x34;
	parse_ok_roundtrip(z22, sizeof(z22), 0, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.u.add_addr.addr.family, 6);
	assert_int_equal(o.u.add_addr.port, 0x1234);

	/* v0 IPVer errors. */
	struct mpt_mptcp_parse_ctx ctx = mkctx(0, MPT_MPTCP_SEG_ANY);
	uint8_t bad[8];
	memcpy(bad, z8, 8);
	bad[2] = 0x35;
	assert_int_equal(mpt_mptcp_parse(&o, bad, 8, &ctx), MPT_ERR_PROTO);
	assert_int_equal(o.reason, MPT_MPTCP_R_IPVER);
	bad[2] = 0x36; /* IPv6 in 8 bytes */
	assert_int_equal(mpt_mptcp_parse(&o, bad, 8, &ctx), MPT_ERR_BADLEN);
	assert_int_equal(o.reason, MPT_MPTCP_R_IPVER_LEN);
	/* The same 8 bytes as v1: E=0 needs a HMAC, so 8 is illegal there... */
	ctx = mkctx(1, MPT_MPTCP_SEG_ANY);
	assert_int_equal(mpt_mptcp_parse(&o, z8, 8, &ctx), MPT_ERR_BADLEN);
	/* ...and echo is not a v0 concept. */
	o.version = 0;
	o.subtype = MPT_MPTCP_ADD_ADDR;
	o.unknown = false;
	o.u.add_addr.echo = true;
	o.u.add_addr.addr.family = 4;
	uint8_t buf[40];
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);
	o.u.add_addr.echo = false;
	o.u.add_addr.addr.family = 5;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);
}

static void test_small_subtypes_bytes(void **state)
{
	(void)state;
	struct mpt_mptcp_opt o;
	struct mpt_mptcp_parse_ctx ctx;
	uint8_t buf[40];

	static const uint8_t rm[] = {30, 6, 0x40, 1, 2, 9};
	parse_ok_roundtrip(rm, sizeof(rm), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_REMOVE_ADDR);
	assert_int_equal(o.u.rm_addr.n, 3);
	assert_int_equal(o.u.rm_addr.ids[2], 9);

	static const uint8_t prio1[] = {30, 3, 0x51};
	parse_ok_roundtrip(prio1, sizeof(prio1), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_PRIO);
	assert_true(o.u.prio.backup);
	assert_false(o.u.prio.has_addr_id);
	static const uint8_t prio0[] = {30, 4, 0x50, 7};
	parse_ok_roundtrip(prio0, sizeof(prio0), 0, MPT_MPTCP_SEG_ACK, &o);
	assert_false(o.u.prio.backup);
	assert_true(o.u.prio.has_addr_id);
	assert_int_equal(o.u.prio.addr_id, 7);
	/* RFC 8684 removed the AddrID: 4 bytes is illegal in v1. */
	ctx = mkctx(1, MPT_MPTCP_SEG_ANY);
	assert_int_equal(mpt_mptcp_parse(&o, prio0, sizeof(prio0), &ctx), MPT_ERR_BADLEN);
	o.subtype = MPT_MPTCP_MP_PRIO;
	o.version = 1;
	o.u.prio.has_addr_id = true;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);

	static const uint8_t mpfail[] = {30, 12, 0x60, 0, 0, 0, 0, 1, 0, 0, 0, 2};
	parse_ok_roundtrip(mpfail, sizeof(mpfail), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_FAIL);
	assert_true(o.u.fail_dsn == 0x100000002ull);

	static const uint8_t fc[] = {30, 12, 0x70, 0, 8, 7, 6, 5, 4, 3, 2, 1};
	parse_ok_roundtrip(fc, sizeof(fc), 0, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_FASTCLOSE);
	assert_true(o.u.fastclose_key == 0x0807060504030201ull);

	/* MP_TCPRST (RFC 8684 Figure 17): T flag, reason 6. */
	static const uint8_t rst[] = {30, 4, 0x81, 0x06};
	parse_ok_roundtrip(rst, sizeof(rst), 1, MPT_MPTCP_SEG_ACK, &o);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_TCPRST);
	assert_false(o.unknown);
	assert_int_equal(o.u.tcprst.flags, MPT_TCPRST_F_T);
	assert_int_equal(o.u.tcprst.reason, MPT_TCPRST_MIDDLEBOX);
	assert_string_equal(mpt_tcprst_reason_str(o.u.tcprst.reason), "middlebox interference");
	assert_string_equal(mpt_tcprst_reason_str(0), "unspecified error");
	assert_string_equal(mpt_tcprst_reason_str(7), "unknown");
	/* In v0 subtype 8 is unassigned: kept raw. */
	parse_ok_roundtrip(rst, sizeof(rst), 0, MPT_MPTCP_SEG_ACK, &o);
	assert_true(o.unknown);
	assert_int_equal(o.subtype, 8);

	/* MP_EXPERIMENTAL and other unknown subtypes: raw, not an error. */
	static const uint8_t exp[] = {30, 7, 0xf3, 0xaa, 0xbb, 0xcc, 0xdd};
	parse_ok_roundtrip(exp, sizeof(exp), 1, MPT_MPTCP_SEG_ANY, &o);
	assert_true(o.unknown);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_EXPERIMENTAL);
	assert_int_equal(o.u.unknown.len, 7);
	assert_memory_equal(o.u.unknown.data, exp + 2, 5);
	assert_string_equal(mpt_mptcp_subtype_str(o.subtype), "MP_EXPERIMENTAL");
	o.u.unknown.data[0] = 0x93; /* subtype nibble disagrees with o.subtype */
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);
	/* Known subtypes beyond 8 cannot be emitted decoded. */
	o.unknown = false;
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), &o), MPT_ERR_INVAL);
	assert_int_equal(mpt_mptcp_emit(buf, sizeof(buf), NULL), MPT_ERR_INVAL);

	/* Header-level errors. */
	static const uint8_t notmp[] = {29, 4, 0x81, 0x06};
	ctx = mkctx(1, MPT_MPTCP_SEG_ANY);
	assert_int_equal(mpt_mptcp_parse(&o, notmp, 4, &ctx), MPT_ERR_INVAL);
	assert_int_equal(o.reason, MPT_MPTCP_R_NOT_MPTCP);
	assert_int_equal(mpt_mptcp_parse(&o, rst, 3, &ctx), MPT_ERR_TRUNCATED);
	assert_int_equal(o.reason, MPT_MPTCP_R_TRUNCATED);
	assert_int_equal(mpt_mptcp_parse(&o, rst, 1, &ctx), MPT_ERR_TRUNCATED);
	assert_int_equal(mpt_mptcp_parse(&o, NULL, 0, &ctx), MPT_ERR_TRUNCATED);
	ctx.version = 2;
	assert_int_equal(mpt_mptcp_parse(&o, rst, 4, &ctx), MPT_ERR_INVAL);
	assert_int_equal(o.reason, MPT_MPTCP_R_BAD_CTX);
	ctx = mkctx(1, 9);
	assert_int_equal(mpt_mptcp_parse(&o, rst, 4, &ctx), MPT_ERR_INVAL);
	/* NULL ctx = v1, any segment. */
	assert_int_equal(mpt_mptcp_parse(&o, rst, 4, NULL), 0);
	assert_false(o.unknown);
	/* A longer buffer is fine: only the length byte counts. */
	uint8_t longer[10] = {30, 4, 0x81, 0x02, 1, 1, 1, 1, 1, 1};
	assert_int_equal(mpt_mptcp_parse(&o, longer, sizeof(longer), NULL), 0);
	assert_int_equal(o.u.tcprst.reason, MPT_TCPRST_RESOURCES);

	/* Reason/subtype strings are total. */
	for (int r = -2; r < MPT_MPTCP_R_MAX + 2; r++)
		assert_non_null(mpt_mptcp_reason_str(r));
	for (int s = -2; s < 20; s++)
		assert_non_null(mpt_mptcp_subtype_str(s));
	assert_string_equal(mpt_mptcp_subtype_str(MPT_MPTCP_DSS), "DSS");

	assert_int_equal(mpt_mptcp_seg_from_flags(MPT_TCP_SYN), MPT_MPTCP_SEG_SYN);
	assert_int_equal(mpt_mptcp_seg_from_flags(MPT_TCP_SYN | MPT_TCP_ACK), MPT_MPTCP_SEG_SYNACK);
	assert_int_equal(mpt_mptcp_seg_from_flags(MPT_TCP_ACK | MPT_TCP_PSH), MPT_MPTCP_SEG_ACK);
	assert_int_equal(mpt_mptcp_seg_from_flags(MPT_TCP_RST), MPT_MPTCP_SEG_ACK);
}

/* ---- randomized round trip ------------------------------------------------- */

/* A random valid option (unused fields zero) and a segment kind it fits. */
static void gen_opt(struct mpt_mptcp_opt *o, int *seg)
{
	memset(o, 0, sizeof(*o));
	o->version = (uint8_t)rnd_below(2);
	o->subtype = (uint8_t)rnd_below(16);
	*seg = MPT_MPTCP_SEG_ANY;
	bool any = rnd_below(2);

	switch (o->subtype) {
	case MPT_MPTCP_MP_CAPABLE: {
		struct mpt_mptcp_mpc *m = &o->u.mpc;
		if (o->version == 1) {
			m->form = (uint8_t)rnd_below(4);
		} else {
			m->form = (uint8_t)(MPT_MPC_ONEKEY + rnd_below(2));
		}
		m->flags = (uint8_t)rnd();
		if (m->form >= MPT_MPC_ONEKEY)
			m->snd_key = rnd();
		if (m->form >= MPT_MPC_TWOKEYS)
			m->rcv_key = rnd();
		if (m->form == MPT_MPC_DATA) {
			m->data_len = (uint16_t)rnd();
			m->has_csum = rnd_below(2);
			if (m->has_csum)
				m->csum = (uint16_t)rnd();
		}
		if (!any) {
			if (m->form == MPT_MPC_NOKEY)
				*seg = MPT_MPTCP_SEG_SYN;
			else if (m->form == MPT_MPC_ONEKEY)
				*seg = o->version == 0 && rnd_below(2) ? MPT_MPTCP_SEG_SYN
								       : MPT_MPTCP_SEG_SYNACK;
			else
				*seg = MPT_MPTCP_SEG_ACK;
		}
		break;
	}
	case MPT_MPTCP_MP_JOIN: {
		struct mpt_mptcp_join *j = &o->u.join;
		j->form = (uint8_t)rnd_below(3);
		if (j->form != MPT_JOIN_ACK) {
			j->backup = rnd_below(2);
			j->addr_id = (uint8_t)rnd();
			j->nonce = (uint32_t)rnd();
		}
		if (j->form == MPT_JOIN_SYN)
			j->token = (uint32_t)rnd();
		if (j->form == MPT_JOIN_SYNACK)
			rnd_bytes(j->hmac, 8);
		if (j->form == MPT_JOIN_ACK)
			rnd_bytes(j->hmac, 20);
		if (!any)
			*seg = j->form == MPT_JOIN_SYN      ? MPT_MPTCP_SEG_SYN
			       : j->form == MPT_JOIN_SYNACK ? MPT_MPTCP_SEG_SYNACK
							    : MPT_MPTCP_SEG_ACK;
		break;
	}
	case MPT_MPTCP_DSS: {
		struct mpt_mptcp_dss *d = &o->u.dss;
		d->flags = (uint8_t)rnd_below(32);
		if (d->flags & MPT_DSS_F_ACK)
			d->data_ack = (d->flags & MPT_DSS_F_ACK64) ? rnd() : (uint32_t)rnd();
		if (d->flags & MPT_DSS_F_MAP) {
			d->dsn = (d->flags & MPT_DSS_F_DSN64) ? rnd() : (uint32_t)rnd();
			d->ssn = (uint32_t)rnd();
			d->data_len = (uint16_t)rnd();
			d->has_csum = rnd_below(2);
			if (d->has_csum)
				d->csum = (uint16_t)rnd();
		}
		break;
	}
	case MPT_MPTCP_ADD_ADDR: {
		struct mpt_mptcp_add_addr *a = &o->u.add_addr;
		a->echo = o->version == 1 && rnd_below(2);
		a->addr_id = (uint8_t)rnd();
		a->addr.family = rnd_below(2) ? 4 : 6;
		rnd_bytes(a->addr.bytes, a->addr.family == 4 ? 4 : 16);
		a->has_port = rnd_below(2);
		if (a->has_port)
			a->port = (uint16_t)rnd();
		if (o->version == 1 && !a->echo)
			rnd_bytes(a->hmac, 8);
		break;
	}
	case MPT_MPTCP_REMOVE_ADDR:
		o->u.rm_addr.n = (uint8_t)(1 + rnd_below(MPT_MPTCP_MAX_RM_IDS));
		rnd_bytes(o->u.rm_addr.ids, o->u.rm_addr.n);
		break;
	case MPT_MPTCP_MP_PRIO:
		o->u.prio.backup = rnd_below(2);
		if (o->version == 0 && rnd_below(2)) {
			o->u.prio.has_addr_id = true;
			o->u.prio.addr_id = (uint8_t)rnd();
		}
		break;
	case MPT_MPTCP_MP_FAIL:
		o->u.fail_dsn = rnd();
		break;
	case MPT_MPTCP_MP_FASTCLOSE:
		o->u.fastclose_key = rnd();
		break;
	case MPT_MPTCP_MP_TCPRST:
		if (o->version == 1) {
			o->u.tcprst.flags = (uint8_t)rnd_below(16);
			o->u.tcprst.reason = (uint8_t)rnd();
			break;
		}
		/* unassigned in v0: */
		/* fall through */
	default:
		o->unknown = true;
		o->u.unknown.len = (uint8_t)(3 + rnd_below(38));
		rnd_bytes(o->u.unknown.data, o->u.unknown.len - 2u);
		o->u.unknown.data[0] = (uint8_t)(o->subtype << 4 | (o->u.unknown.data[0] & 0x0f));
		break;
	}
}

static void test_random_roundtrip(void **state)
{
	(void)state;
	rng_state = 0x6d707463706f7074ull;
	int seen[16] = {0};

	for (int i = 0; i < 200000; i++) {
		struct mpt_mptcp_opt o, p, q;
		int seg;
		uint8_t buf[40], buf2[40];

		gen_opt(&o, &seg);
		size_t n = mpt_mptcp_opt_len(&o);
		assert_true(n >= 3 && n <= 40);
		int w = mpt_mptcp_emit(buf, sizeof(buf), &o);
		assert_int_equal(w, (int)n);
		assert_int_equal(buf[0], 30);
		assert_int_equal(buf[1], n);
		assert_int_equal(buf[2] >> 4, o.subtype);
		/* one byte short never fits */
		assert_int_equal(mpt_mptcp_emit(buf2, n - 1, &o), MPT_ERR_NOSPACE);

		struct mpt_mptcp_parse_ctx ctx = mkctx(o.version, seg);
		int rc = mpt_mptcp_parse(&p, buf, n, &ctx);
		if (rc != 0 || !opt_eq(&o, &p)) {
			fprintf(stderr, "iter %d subtype %d v%d seg %d len %zu rc %d (%s)\n", i,
				o.subtype, o.version, seg, n, rc, mpt_mptcp_reason_str(p.reason));
			fail();
		}
		/* and back to the same bytes */
		assert_int_equal(mpt_mptcp_emit(buf2, sizeof(buf2), &p), (int)n);
		assert_memory_equal(buf, buf2, n);
		/* parse with a larger buffer: only the length byte counts */
		uint8_t big[60];
		memcpy(big, buf, n);
		rnd_bytes(big + n, sizeof(big) - n);
		assert_int_equal(mpt_mptcp_parse(&q, big, sizeof(big), &ctx), 0);
		assert_true(opt_eq(&o, &q));
		seen[o.subtype]++;
	}
	for (int s = 0; s < 16; s++)
		assert_true(seen[s] > 1000);
}

/* ---- the exact legal-length sets ------------------------------------------ */

/* Try every length 0..40 over a template; accepted set must equal want. */
static void check_lengths(const uint8_t tmpl[40], int version, int seg, const int *want,
			  size_t nwant, int reject_err)
{
	struct mpt_mptcp_parse_ctx ctx = mkctx(version, seg);

	for (int L = 0; L <= 40; L++) {
		/* exact-size heap copy so that ASan catches any over-read */
		size_t n = L < 2 ? 2 : (size_t)L;
		uint8_t *b = malloc(n);
		struct mpt_mptcp_opt o;
		bool legal = false;

		memcpy(b, tmpl, n);
		b[1] = (uint8_t)L;
		for (size_t k = 0; k < nwant; k++)
			legal |= want[k] == L;
		int rc = mpt_mptcp_parse(&o, b, n, &ctx);
		if (legal != (rc == 0)) {
			fprintf(stderr, "subtype byte %02x v%d seg %d len %d: rc %d (%s)\n",
				tmpl[2], version, seg, L, rc, mpt_mptcp_reason_str(o.reason));
			fail();
		}
		if (rc == 0) {
			uint8_t out[40];
			assert_int_equal(mpt_mptcp_emit(out, sizeof(out), &o), L);
		} else {
			assert_int_not_equal(o.reason, MPT_MPTCP_R_OK);
			if (L < 3)
				assert_int_equal(rc, MPT_ERR_BADLEN); /* length byte < 3 */
			else if (reject_err)
				assert_int_equal(rc, reject_err);
		}
		free(b);
	}
}

#define LENS(...) (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int)
#define NOLENS    (const int *)NULL, 0

static void test_legal_lengths(void **state)
{
	(void)state;
	uint8_t t[40];
	const int segs[] = {MPT_MPTCP_SEG_ANY, MPT_MPTCP_SEG_SYN, MPT_MPTCP_SEG_SYNACK,
			    MPT_MPTCP_SEG_ACK};
	rng_state = 42;
	rnd_bytes(t, sizeof(t));
	t[0] = 30;

	/* MP_CAPABLE by version (nibble) and segment. */
	t[2] = 0x01;
	check_lengths(t, 1, MPT_MPTCP_SEG_ANY, LENS(4, 12, 20, 22, 24), MPT_ERR_BADLEN);
	check_lengths(t, 1, MPT_MPTCP_SEG_SYN, LENS(4), MPT_ERR_BADLEN);
	check_lengths(t, 1, MPT_MPTCP_SEG_SYNACK, LENS(12), MPT_ERR_BADLEN);
	check_lengths(t, 1, MPT_MPTCP_SEG_ACK, LENS(20, 22, 24), MPT_ERR_BADLEN);
	t[2] = 0x00;
	for (int v = 0; v < 2; v++) { /* ctx version does not matter for MP_CAPABLE */
		check_lengths(t, v, MPT_MPTCP_SEG_ANY, LENS(12, 20), MPT_ERR_BADLEN);
		check_lengths(t, v, MPT_MPTCP_SEG_SYN, LENS(12), MPT_ERR_BADLEN);
		check_lengths(t, v, MPT_MPTCP_SEG_SYNACK, LENS(12), MPT_ERR_BADLEN);
		check_lengths(t, v, MPT_MPTCP_SEG_ACK, LENS(20), MPT_ERR_BADLEN);
	}
	for (int ver = 2; ver < 16; ver++) {
		t[2] = (uint8_t)ver;
		check_lengths(t, 1, MPT_MPTCP_SEG_SYN, NOLENS, MPT_ERR_UNSUPPORTED);
	}

	/* MP_JOIN: same in both versions; reserved bits set must not matter. */
	for (int v = 0; v < 2; v++) {
		t[2] = 0x1e;
		check_lengths(t, v, MPT_MPTCP_SEG_ANY, LENS(12, 16, 24), MPT_ERR_BADLEN);
		check_lengths(t, v, MPT_MPTCP_SEG_SYN, LENS(12), MPT_ERR_BADLEN);
		check_lengths(t, v, MPT_MPTCP_SEG_SYNACK, LENS(16), MPT_ERR_BADLEN);
		check_lengths(t, v, MPT_MPTCP_SEG_ACK, LENS(24), MPT_ERR_BADLEN);
	}

	/* DSS: every flag combination, with random reserved bits. */
	for (int f = 0; f < 32; f++) {
		int len = 4;
		if (f & 0x01) /* A */
			len += (f & 0x02) ? 8 : 4;
		int map = 0;
		if (f & 0x04) { /* M: DSN + SSN(4) + data-level length(2) */
			map = 1;
			len += ((f & 0x08) ? 8 : 4) + 4 + 2;
		}
		t[2] = (uint8_t)(0x20 | rnd_below(16));
		t[3] = (uint8_t)(f | (rnd_below(8) << 5));
		for (int v = 0; v < 2; v++) {
			int s = segs[rnd_below(4)];
			if (map)
				check_lengths(t, v, s, LENS(len, len + 2), MPT_ERR_BADLEN);
			else
				check_lengths(t, v, s, LENS(len), MPT_ERR_BADLEN);
		}
	}

	/* ADD_ADDR v1 by E flag (reserved bits random), v0 by IPVer. */
	t[2] = 0x30 | 0x0e;
	check_lengths(t, 1, MPT_MPTCP_SEG_ANY, LENS(16, 18, 28, 30), MPT_ERR_BADLEN);
	t[2] = 0x31 | 0x04;
	check_lengths(t, 1, MPT_MPTCP_SEG_ANY, LENS(8, 10, 20, 22), MPT_ERR_BADLEN);
	t[2] = 0x34;
	check_lengths(t, 0, MPT_MPTCP_SEG_ANY, LENS(8, 10), MPT_ERR_BADLEN);
	t[2] = 0x36;
	check_lengths(t, 0, MPT_MPTCP_SEG_ANY, LENS(20, 22), MPT_ERR_BADLEN);
	for (int ipver = 0; ipver < 16; ipver++) {
		if (ipver == 4 || ipver == 6)
			continue;
		t[2] = (uint8_t)(0x30 | ipver);
		check_lengths(t, 0, MPT_MPTCP_SEG_ANY, NOLENS, 0);
	}

	/* REMOVE_ADDR: 3 + n, n >= 1, up to the 40-byte options limit. */
	t[2] = 0x4a;
	const int rm[] = {4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
			  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
			  30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40};
	for (int v = 0; v < 2; v++)
		check_lengths(t, v, MPT_MPTCP_SEG_ACK, rm, MPT_ARRAY_SIZE(rm), MPT_ERR_BADLEN);

	/* MP_PRIO: v1 3 only (RFC 8684 dropped AddrID), v0 3 or 4. */
	t[2] = 0x5f;
	check_lengths(t, 1, MPT_MPTCP_SEG_ACK, LENS(3), MPT_ERR_BADLEN);
	check_lengths(t, 0, MPT_MPTCP_SEG_ACK, LENS(3, 4), MPT_ERR_BADLEN);

	/* MP_FAIL, MP_FASTCLOSE: 12. */
	for (int v = 0; v < 2; v++) {
		t[2] = 0x6f;
		check_lengths(t, v, MPT_MPTCP_SEG_ACK, LENS(12), MPT_ERR_BADLEN);
		t[2] = 0x7f;
		check_lengths(t, v, MPT_MPTCP_SEG_ANY, LENS(12), MPT_ERR_BADLEN);
	}

	/* MP_TCPRST: 4 in v1; unknown (any 3..40) in v0. */
	t[2] = 0x8f;
	const int any[] = {3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
			   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
			   29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40};
	check_lengths(t, 1, MPT_MPTCP_SEG_ACK, LENS(4), MPT_ERR_BADLEN);
	check_lengths(t, 0, MPT_MPTCP_SEG_ACK, any, MPT_ARRAY_SIZE(any), 0);

	/* Unassigned subtypes and MP_EXPERIMENTAL: any 3..40. */
	for (int s = 9; s < 16; s++) {
		t[2] = (uint8_t)(s << 4 | 3);
		for (int v = 0; v < 2; v++)
			check_lengths(t, v, segs[rnd_below(4)], any, MPT_ARRAY_SIZE(any), 0);
	}

	/* Lengths above 40 cannot come from a TCP header. */
	uint8_t big[255];
	struct mpt_mptcp_opt o;
	memset(big, 0, sizeof(big));
	big[0] = 30;
	big[2] = 0x40;
	for (int L = 41; L < 256; L++) {
		big[1] = (uint8_t)L;
		assert_int_equal(mpt_mptcp_parse(&o, big, (size_t)L, NULL), MPT_ERR_BADLEN);
		assert_int_equal(o.reason, MPT_MPTCP_R_LONG);
	}
}

/* ---- truncation and garbage ------------------------------------------------ */

static void test_truncated(void **state)
{
	(void)state;
	rng_state = 7;

	for (int i = 0; i < 20000; i++) {
		struct mpt_mptcp_opt o, p;
		int seg;
		uint8_t buf[40];

		gen_opt(&o, &seg);
		int n = mpt_mptcp_emit(buf, sizeof(buf), &o);
		assert_true(n >= 3);
		struct mpt_mptcp_parse_ctx ctx = mkctx(o.version, seg);
		for (int len = 0; len < n; len++) {
			uint8_t *b = malloc(len ? (size_t)len : 1);
			memcpy(b, buf, (size_t)len);
			assert_int_equal(mpt_mptcp_parse(&p, b, (size_t)len, &ctx),
					 MPT_ERR_TRUNCATED);
			assert_int_equal(p.reason, MPT_MPTCP_R_TRUNCATED);
			free(b);
		}
	}
}

static void test_garbage(void **state)
{
	(void)state;
	rng_state = 0xbadc0ffee;
	int ok = 0, bad = 0;

	for (int i = 0; i < 300000; i++) {
		size_t len = rnd_below(48);
		uint8_t *b = malloc(len ? len : 1);
		struct mpt_mptcp_opt o, p;

		rnd_bytes(b, len);
		/* mostly well-formed headers so the subtype decoders get exercised */
		if (len >= 1 && rnd_below(8))
			b[0] = 30;
		if (len >= 2 && rnd_below(4))
			b[1] = (uint8_t)(rnd_below(8) ? len : rnd_below(48));
		struct mpt_mptcp_parse_ctx ctx = mkctx((int)rnd_below(2), (int)rnd_below(4));
		int rc = mpt_mptcp_parse(&o, b, len, &ctx);
		if (rc == 0) {
			uint8_t out[40];
			ok++;
			int n = mpt_mptcp_emit(out, sizeof(out), &o);
			assert_int_equal(n, b[1]);
			assert_int_equal(out[0], 30);
			assert_int_equal(mpt_mptcp_parse(&p, out, (size_t)n, &ctx), 0);
			assert_true(opt_eq(&o, &p));
		} else {
			bad++;
			assert_true(rc < 0);
			assert_int_not_equal(o.reason, MPT_MPTCP_R_OK);
			assert_non_null(mpt_mptcp_reason_str(o.reason));
		}
		free(b);
	}
	assert_true(ok > 10000);
	assert_true(bad > 10000);
}

/* ---- DSN expansion ----------------------------------------------------------- */

static void test_dsn_expand(void **state)
{
	(void)state;
	/* forward across the 2^32 boundary */
	assert_true(mpt_dsn_expand(0xfffffff0ull, 0x10) == 0x100000010ull);
	/* backward across it */
	assert_true(mpt_dsn_expand(0x100000005ull, 0xfffffff0u) == 0xfffffff0ull);
	/* same epoch */
	assert_true(mpt_dsn_expand(0x700000100ull, 0x200) == 0x700000200ull);
	assert_true(mpt_dsn_expand(0x700000100ull, 0x100) == 0x700000100ull);
	/* the window is [ref - 2^31, ref + 2^31) */
	assert_true(mpt_dsn_expand(0x500000000ull, 0x7fffffffu) == 0x57fffffffull);
	assert_true(mpt_dsn_expand(0x500000000ull, 0x80000000u) == 0x480000000ull);
	/* 2^64 wrap */
	assert_true(mpt_dsn_expand(0xfffffffffffffff0ull, 0x5) == 0x5ull);
	assert_true(mpt_dsn_expand(0x3ull, 0xfffffff0u) == 0xfffffffffffffff0ull);

	rng_state = 99;
	for (int i = 0; i < 100000; i++) {
		uint64_t ref = rnd();
		if (i & 1) /* stay near an epoch edge half the time */
			ref =
			    (ref & ~0xffffffffull) + (uint64_t)(int64_t)(int32_t)(rnd() % 64 - 32);
		uint64_t target =
		    ref + (uint64_t)(int64_t)((int64_t)(rnd() % 0xffffffffull) - 0x7fffffffll);
		uint64_t got = mpt_dsn_expand(ref, (uint32_t)target);
		assert_true(got == target);
		/* brute force: no other candidate is closer */
		uint64_t d = got - ref;
		uint64_t dist = (int64_t)d < 0 ? (uint64_t)0 - d : d;
		assert_true(dist <= 0x80000000ull);
	}
}

/* ---- DSS checksum ------------------------------------------------------------ */

/* Independent reference: RFC 1071 over one flat buffer, 16-bit words. */
static uint16_t naive_sum(const uint8_t *b, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i += 2)
		s += (uint64_t)b[i] << 8 | (i + 1 < n ? b[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static size_t build_flat(uint8_t *flat, uint64_t dsn, uint32_t ssn, uint16_t dl, uint16_t csum,
			 const uint8_t *p, size_t n)
{
	for (int i = 0; i < 8; i++)
		flat[i] = (uint8_t)(dsn >> (56 - 8 * i));
	flat[8] = (uint8_t)(ssn >> 24);
	flat[9] = (uint8_t)(ssn >> 16);
	flat[10] = (uint8_t)(ssn >> 8);
	flat[11] = (uint8_t)ssn;
	flat[12] = (uint8_t)(dl >> 8);
	flat[13] = (uint8_t)dl;
	flat[14] = (uint8_t)(csum >> 8);
	flat[15] = (uint8_t)csum;
	if (n)
		memcpy(flat + 16, p, n);
	return 16 + n;
}

static uint16_t naive_dss(uint64_t dsn, uint32_t ssn, uint16_t dl, const uint8_t *p, size_t n)
{
	static uint8_t flat[16 + 4096];
	size_t m = build_flat(flat, dsn, ssn, dl, 0, p, n);
	return (uint16_t)~naive_sum(flat, m);
}

static void test_dss_csum_vector(void **state)
{
	(void)state;
	/* Worked by hand: 0102+0304+0506+0708+090a+0b0c+0d0e+0000+0f00 = 4038. */
	static const uint8_t one = 0x0f;
	assert_int_equal(mpt_dss_csum(0x0102030405060708ull, 0x090a0b0c, 0x0d0e, &one, 1), 0xbfc7);
	assert_int_equal(naive_dss(0x0102030405060708ull, 0x090a0b0c, 0x0d0e, &one, 1), 0xbfc7);

	struct mpt_dss_csum c;
	mpt_dss_csum_init(&c, 0x0102030405060708ull, 0x090a0b0c, 0x0d0e);
	mpt_dss_csum_update(&c, &one, 1);
	assert_true(mpt_dss_csum_check(&c, 0xbfc7));
	assert_false(mpt_dss_csum_check(&c, 0xbfc6));
	assert_false(mpt_dss_csum_check(&c, 0xc7bf));

	/* Empty payload (e.g. a DATA_FIN-only mapping). */
	uint16_t e = mpt_dss_csum(1, 0, 1, NULL, 0);
	assert_int_equal(e, naive_dss(1, 0, 1, NULL, 0));
	/* The 32-bit DSN on the wire is still summed as 64 bits. */
	assert_int_not_equal(mpt_dss_csum(0x100000001ull, 0, 1, NULL, 0),
			     mpt_dss_csum(0x000000001ull, 0, 1, NULL, 0));
}

static void test_dss_csum_split(void **state)
{
	(void)state;
	static uint8_t payload[4096];
	static uint8_t flat[16 + 4096];
	rng_state = 1234;

	for (int iter = 0; iter < 300; iter++) {
		size_t n = iter < 100 ? (size_t)iter : rnd_below(sizeof(payload) + 1);
		uint64_t dsn = rnd();
		uint32_t ssn = (uint32_t)rnd();
		uint16_t dl = (uint16_t)n;
		rnd_bytes(payload, n);
		if (iter % 7 == 0)
			memset(payload, 0xff, n); /* carry-heavy */

		uint16_t ref = naive_dss(dsn, ssn, dl, payload, n);
		uint16_t one = mpt_dss_csum(dsn, ssn, dl, payload, n);
		assert_int_equal(one, ref);

		/* The convention: re-summing with the value in place gives 0xffff. */
		size_t m = build_flat(flat, dsn, ssn, dl, one, payload, n);
		assert_int_equal(naive_sum(flat, m), 0xffff);

		/* Split once at every position (small payloads). */
		if (n < 100) {
			for (size_t k = 0; k <= n; k++) {
				struct mpt_dss_csum c;
				mpt_dss_csum_init(&c, dsn, ssn, dl);
				mpt_dss_csum_update(&c, payload, k);
				mpt_dss_csum_update(&c, payload + k, n - k);
				assert_int_equal(mpt_dss_csum_final(&c), ref);
				assert_true(mpt_dss_csum_check(&c, ref));
			}
		}
		/* Random pieces, many of them odd-sized (0, 1, 3...). */
		for (int r = 0; r < 20; r++) {
			struct mpt_dss_csum c;
			size_t off = 0;
			mpt_dss_csum_init(&c, dsn, ssn, dl);
			while (off < n) {
				size_t piece = rnd_below(4) == 0 ? rnd_below(3) : rnd_below(64);
				if (piece > n - off)
					piece = n - off;
				mpt_dss_csum_update(&c, payload + off, piece);
				off += piece;
				/* final() does not consume state */
				if (rnd_below(8) == 0)
					(void)mpt_dss_csum_final(&c);
			}
			assert_int_equal(mpt_dss_csum_final(&c), ref);
			assert_true(mpt_dss_csum_check(&c, ref));
		}
		/* Byte-by-byte. */
		struct mpt_dss_csum c;
		mpt_dss_csum_init(&c, dsn, ssn, dl);
		for (size_t k = 0; k < n; k++)
			mpt_dss_csum_update(&c, payload + k, 1);
		assert_int_equal(mpt_dss_csum_final(&c), ref);

		/* Any one-byte corruption changes it: the word changes by d or
		 * 256*d with 0 < |d| < 256, never a multiple of 0xffff. */
		if (n > 0) {
			for (int r = 0; r < 8; r++) {
				size_t pos = rnd_below((unsigned)n);
				uint8_t old = payload[pos];
				payload[pos] = (uint8_t)(old ^ (1 + rnd_below(255)));
				assert_int_not_equal(mpt_dss_csum(dsn, ssn, dl, payload, n), ref);
				mpt_dss_csum_init(&c, dsn, ssn, dl);
				mpt_dss_csum_update(&c, payload, n);
				assert_false(mpt_dss_csum_check(&c, ref));
				payload[pos] = old;
			}
		}
		/* and so does a different pseudo-header */
		assert_int_not_equal(mpt_dss_csum(dsn ^ 1, ssn, dl, payload, n), ref);
		assert_int_not_equal(mpt_dss_csum(dsn, ssn ^ 0x100, dl, payload, n), ref);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mpc_bytes),
	    cmocka_unit_test(test_join_bytes),
	    cmocka_unit_test(test_dss_bytes),
	    cmocka_unit_test(test_add_addr_bytes),
	    cmocka_unit_test(test_small_subtypes_bytes),
	    cmocka_unit_test(test_random_roundtrip),
	    cmocka_unit_test(test_legal_lengths),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_dsn_expand),
	    cmocka_unit_test(test_dss_csum_vector),
	    cmocka_unit_test(test_dss_csum_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
