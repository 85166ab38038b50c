/* SPDX-License-Identifier: Apache-2.0 */
/* TCP header and option codec: layouts, round trips, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testrng.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/tcp.h"

/* Parse from an exactly-sized heap copy so ASan flags any over-read. */
static int parse_exact(struct mpt_tcp_opts *o, const uint8_t *opt, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	assert_non_null(b);
	if (len)
		memcpy(b, opt, len);
	int rc = mpt_tcp_opts_parse(o, len ? b : NULL, len);
	/* References must point inside the area. */
	if (rc == 0) {
		for (int i = 0; i < o->n_mptcp; i++) {
			assert_true((size_t)o->mptcp[i].off + o->mptcp[i].len <= len);
			assert_int_equal(b[o->mptcp[i].off], MPT_TCPOPT_MPTCP);
			assert_int_equal(b[o->mptcp[i].off + 1], o->mptcp[i].len);
		}
		for (int i = 0; i < o->n_unknown; i++)
			assert_true((size_t)o->unknown[i].off + o->unknown[i].len <= len);
	}
	free(b);
	return rc;
}

/* ---- header ------------------------------------------------------------ */

static void test_hdr_roundtrip(void **state)
{
	uint8_t buf[80];
	const uint8_t opt[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
	struct mpt_tcp_hdr h = {.sport = 40000,
				.dport = 443,
				.seq = 0xfedcba98,
				.ack = 0x01234567,
				.flags = MPT_TCP_SYN | MPT_TCP_ACK | MPT_TCP_ECE | MPT_TCP_AE,
				.window = 65535,
				.csum = 0xbeef,
				.urg = 7};
	struct mpt_tcp_hdr g;

	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(mpt_tcp_hdr_emit(buf, sizeof(buf), &h, opt, sizeof(opt)), 28);
	assert_int_equal(buf[12], (7 << 4) | 1);
	assert_int_equal(buf[13], 0x52);
	assert_int_equal(buf[28], 0xcc); /* nothing written past the header */
	assert_int_equal(mpt_tcp_hdr_parse(&g, buf, 40), 0);
	assert_int_equal(g.sport, 40000);
	assert_int_equal(g.dport, 443);
	assert_int_equal(g.seq, 0xfedcba98);
	assert_int_equal(g.ack, 0x01234567);
	assert_int_equal(g.flags, h.flags);
	assert_int_equal(g.window, 65535);
	assert_int_equal(g.csum, 0xbeef);
	assert_int_equal(g.urg, 7);
	assert_int_equal(g.hdr_len, 28);
	assert_int_equal(g.opt_len, 8);
	assert_ptr_equal(g.opt, buf + 20);
	assert_memory_equal(g.opt, opt, 8);

	/* Reserved bits are ignored on parse. */
	buf[12] |= 0x0e;
	assert_int_equal(mpt_tcp_hdr_parse(&g, buf, 28), 0);
	assert_int_equal(g.flags, h.flags);
	assert_int_equal(g.hdr_len, 28);

	/* No options; in-place options (overlapping opt) also work. */
	h.flags = MPT_TCP_FIN | MPT_TCP_PSH | MPT_TCP_URG | MPT_TCP_RST | MPT_TCP_CWR;
	assert_int_equal(mpt_tcp_hdr_emit(buf, 20, &h, NULL, 0), 20);
	assert_int_equal(mpt_tcp_hdr_parse(&g, buf, 20), 0);
	assert_int_equal(g.flags, h.flags);
	assert_int_equal(g.opt_len, 0);
	memcpy(buf + 20, opt, 8);
	assert_int_equal(mpt_tcp_hdr_emit(buf, 28, &h, buf + 20, 8), 28);
	assert_memory_equal(buf + 20, opt, 8);
}

static void test_hdr_errors(void **state)
{
	uint8_t buf[80], opt[44] = {0};
	struct mpt_tcp_hdr h = {.sport = 1, .dport = 2}, g;

	assert_int_equal(mpt_tcp_hdr_emit(buf, sizeof(buf), &h, opt, 6), MPT_ERR_INVAL);
	assert_int_equal(mpt_tcp_hdr_emit(buf, sizeof(buf), &h, opt, 44), MPT_ERR_INVAL);
	assert_int_equal(mpt_tcp_hdr_emit(buf, sizeof(buf), &h, opt, 40), 60);
	assert_int_equal(mpt_tcp_hdr_emit(buf, 59, &h, opt, 40), MPT_ERR_NOSPACE);
	assert_int_equal(mpt_tcp_hdr_emit(buf, 19, &h, NULL, 0), MPT_ERR_NOSPACE);
	assert_int_equal(mpt_tcp_hdr_emit(buf, sizeof(buf), &h, NULL, 4), MPT_ERR_INVAL);
	h.flags = 0x200;
	assert_int_equal(mpt_tcp_hdr_emit(buf, sizeof(buf), &h, NULL, 0), MPT_ERR_INVAL);
	h.flags = 0;

	assert_int_equal(mpt_tcp_hdr_emit(buf, sizeof(buf), &h, opt, 40), 60);
	assert_int_equal(mpt_tcp_hdr_parse(&g, buf, 60), 0);
	assert_int_equal(g.hdr_len, 60);
	assert_int_equal(mpt_tcp_hdr_parse(&g, buf, 59), MPT_ERR_TRUNCATED);
	for (size_t len = 0; len < 20; len++)
		assert_int_equal(mpt_tcp_hdr_parse(&g, buf, len), MPT_ERR_TRUNCATED);
	for (int doff = 0; doff < 5; doff++) {
		buf[12] = (uint8_t)(doff << 4);
		assert_int_equal(mpt_tcp_hdr_parse(&g, buf, 60), MPT_ERR_BADLEN);
	}
	assert_int_equal(mpt_tcp_hdr_parse(NULL, buf, 60), MPT_ERR_INVAL);
}

/* ---- option parse ------------------------------------------------------ */

static void test_parse_each_kind(void **state)
{
	struct mpt_tcp_opts o;

	/* MSS */
	const uint8_t mss[] = {2, 4, 0x05, 0xb4};
	assert_int_equal(parse_exact(&o, mss, sizeof(mss)), 0);
	assert_int_equal(o.present, MPT_TCPOPT_F_MSS);
	assert_int_equal(o.mss, 1460);
	/* WS */
	const uint8_t ws[] = {1, 3, 3, 14};
	assert_int_equal(parse_exact(&o, ws, sizeof(ws)), 0);
	assert_int_equal(o.present, MPT_TCPOPT_F_WSCALE);
	assert_int_equal(o.wscale, 14);
	/* WS above 14 is reported as received */
	const uint8_t ws2[] = {3, 3, 200, 0};
	assert_int_equal(parse_exact(&o, ws2, sizeof(ws2)), 0);
	assert_int_equal(o.wscale, 200);
	/* SACK-permitted */
	const uint8_t sp[] = {4, 2};
	assert_int_equal(parse_exact(&o, sp, sizeof(sp)), 0);
	assert_int_equal(o.present, MPT_TCPOPT_F_SACK_PERM);
	/* TS */
	const uint8_t ts[] = {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(parse_exact(&o, ts, sizeof(ts)), 0);
	assert_int_equal(o.present, MPT_TCPOPT_F_TS);
	assert_int_equal(o.tsval, 0x01020304);
	assert_int_equal(o.tsecr, 0x05060708);
	/* SACK with 1..4 blocks */
	for (int n = 1; n <= 4; n++) {
		uint8_t s[40];
		s[0] = 5;
		s[1] = (uint8_t)(2 + 8 * n);
		for (int b = 0; b < n; b++) {
			mpt_put32(s + 2 + 8 * b, 1000u * (unsigned)b + 1);
			mpt_put32(s + 6 + 8 * b, 1000u * (unsigned)b + 500);
		}
		assert_int_equal(parse_exact(&o, s, (size_t)(2 + 8 * n)), 0);
		assert_int_equal(o.present, MPT_TCPOPT_F_SACK);
		assert_int_equal(o.nsack, n);
		for (int b = 0; b < n; b++) {
			assert_int_equal(o.sack[b].left, 1000u * (unsigned)b + 1);
			assert_int_equal(o.sack[b].right, 1000u * (unsigned)b + 500);
		}
	}
	/* TFO request and cookies of every valid length */
	const uint8_t tfo0[] = {34, 2};
	assert_int_equal(parse_exact(&o, tfo0, sizeof(tfo0)), 0);
	assert_int_equal(o.present, MPT_TCPOPT_F_TFO);
	assert_int_equal(o.tfo_len, 0);
	for (int c = 4; c <= 16; c += 2) {
		uint8_t t[18];
		t[0] = 34;
		t[1] = (uint8_t)(2 + c);
		for (int i = 0; i < c; i++)
			t[2 + i] = (uint8_t)(0xa0 + i);
		assert_int_equal(parse_exact(&o, t, (size_t)(2 + c)), 0);
		assert_int_equal(o.tfo_len, c);
		assert_memory_equal(o.tfo_cookie, t + 2, (size_t)c);
	}
	/* MPTCP: recorded by reference */
	const uint8_t mp[] = {1, 30, 4, 0x00, 0x81, 30, 3, 0x20, 0};
	assert_int_equal(parse_exact(&o, mp, sizeof(mp)), 0);
	assert_int_equal(o.present, MPT_TCPOPT_F_MPTCP);
	assert_int_equal(o.n_mptcp, 2);
	assert_int_equal(o.mptcp[0].off, 1);
	assert_int_equal(o.mptcp[0].len, 4);
	assert_int_equal(o.mptcp[1].off, 5);
	assert_int_equal(o.mptcp[1].len, 3);
	/* Unknown kinds: skipped, recorded */
	const uint8_t un[] = {254, 4, 0xf9, 0x89, 19, 2, 1, 1};
	assert_int_equal(parse_exact(&o, un, sizeof(un)), 0);
	assert_int_equal(o.present, MPT_TCPOPT_F_UNKNOWN);
	assert_int_equal(o.n_unknown, 2);
	assert_int_equal(o.unknown[0].off, 0);
	assert_int_equal(o.unknown[0].len, 4);
	assert_int_equal(o.unknown[1].off, 4);
	assert_int_equal(o.unknown[1].len, 2);
	/* EOL ends the list: garbage after it is not looked at */
	const uint8_t eol[] = {2, 4, 0, 100, 0, 2, 0xff, 0xff};
	assert_int_equal(parse_exact(&o, eol, sizeof(eol)), 0);
	assert_int_equal(o.present, MPT_TCPOPT_F_MSS);
	assert_int_equal(o.mss, 100);
	/* Only NOPs / empty */
	const uint8_t nops[] = {1, 1, 1, 1};
	assert_int_equal(parse_exact(&o, nops, sizeof(nops)), 0);
	assert_int_equal(o.present, 0);
	assert_int_equal(parse_exact(&o, NULL, 0), 0);
	assert_int_equal(o.present, 0);
}

static void test_parse_first_wins_and_limits(void **state)
{
	struct mpt_tcp_opts o;

	const uint8_t dup[] = {2, 4, 0,  100, 2, 4, 0, 200, 8, 10, 0, 0, 0, 1, 0, 0, 0,
			       2, 8, 10, 0,   0, 0, 3, 0,   0, 0,  4, 3, 3, 5, 3, 3, 6};
	assert_int_equal(parse_exact(&o, dup, sizeof(dup)), 0);
	assert_int_equal(o.mss, 100);
	assert_int_equal(o.tsval, 1);
	assert_int_equal(o.tsecr, 2);
	assert_int_equal(o.wscale, 5);

	/* More MPTCP / unknown options than kept: skipped silently. */
	uint8_t many[40];
	for (int i = 0; i < 10; i++) {
		many[4 * i] = 30;
		many[4 * i + 1] = 4;
		many[4 * i + 2] = (uint8_t)(i << 4);
		many[4 * i + 3] = 0;
	}
	assert_int_equal(parse_exact(&o, many, 40), 0);
	assert_int_equal(o.n_mptcp, MPT_TCP_MAX_MPTCP);
	assert_int_equal(o.mptcp[3].off, 12);
	for (int i = 0; i < 20; i++) {
		many[2 * i] = (uint8_t)(100 + i);
		many[2 * i + 1] = 2;
	}
	assert_int_equal(parse_exact(&o, many, 40), 0);
	assert_int_equal(o.n_unknown, MPT_TCP_MAX_UNKNOWN);
	assert_int_equal(o.present, MPT_TCPOPT_F_UNKNOWN);

	/* Area longer than a TCP header can carry. */
	uint8_t big[41];
	memset(big, 1, sizeof(big));
	assert_int_equal(mpt_tcp_opts_parse(&o, big, 41), MPT_ERR_INVAL);
	assert_int_equal(mpt_tcp_opts_parse(&o, big, 40), 0);
	assert_int_equal(mpt_tcp_opts_parse(NULL, big, 40), MPT_ERR_INVAL);
	assert_int_equal(mpt_tcp_opts_parse(&o, NULL, 4), MPT_ERR_INVAL);
}

static void test_parse_bad_lengths(void **state)
{
	struct mpt_tcp_opts o;
	uint8_t b[40];

	/* For every kind except EOL/NOP: length 0, 1, and one past the area. */
	for (int kind = 2; kind < 256; kind++) {
		memset(b, 0, sizeof(b));
		b[0] = 1;
		b[1] = (uint8_t)kind;
		for (int l = 0; l < 2; l++) {
			b[2] = (uint8_t)l;
			assert_int_equal(parse_exact(&o, b, 20), MPT_ERR_BADLEN);
		}
		b[2] = 20; /* 1 + 20 > 20 */
		assert_int_equal(parse_exact(&o, b, 20), MPT_ERR_BADLEN);
		/* kind as the very last byte: no length byte */
		assert_int_equal(parse_exact(&o, b, 2), MPT_ERR_BADLEN);
	}
	/* Known kinds with a wrong (but in-area) length. */
	static const struct {
		uint8_t kind, len;
	} bad[] = {
	    {2, 2},  {2, 3},   {2, 5},   {3, 2},  {3, 4},      {4, 3},      {4, 4},
	    {5, 2},  {5, 3},   {5, 9},   {5, 11}, {5, 18 + 1}, {5, 42 - 0}, {8, 8},
	    {8, 9},  {8, 11},  {8, 12},  {34, 3}, {34, 4},     {34, 5},     {34, 7},
	    {34, 9}, {34, 19}, {34, 20}, {30, 2},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(b, 0, sizeof(b));
		b[0] = bad[i].kind;
		b[1] = bad[i].len;
		assert_int_equal(parse_exact(&o, b, 40), MPT_ERR_BADLEN);
	}
	/* SACK with 5 blocks (42 bytes) cannot fit; 34 (4 blocks) is fine. */
	b[0] = 5;
	b[1] = 34;
	assert_int_equal(parse_exact(&o, b, 40), 0);
	/* A duplicate with a bad length is still an error. */
	const uint8_t d[] = {2, 4, 0, 1, 2, 5, 0, 0, 0};
	assert_int_equal(parse_exact(&o, d, sizeof(d)), MPT_ERR_BADLEN);
}

static void test_parse_garbage(void **state)
{
	struct mpt_tcp_opts o;
	uint8_t b[40];
	int ok = 0, err = 0;

	rng_state = 9293;
	for (int it = 0; it < 200000; it++) {
		size_t len = (size_t)(rnd() % 41);
		for (size_t i = 0; i < len; i++) {
			uint64_t r = rnd();
			/* Bias towards interesting kinds and small lengths. */
			if ((r & 3) == 0)
				b[i] = (uint8_t[]){0, 1, 2, 3, 4, 5, 8, 30, 34}[(r >> 8) % 9];
			else if ((r & 3) == 1)
				b[i] = (uint8_t)((r >> 8) % 20);
			else
				b[i] = (uint8_t)(r >> 8);
		}
		int rc = parse_exact(&o, b, len);
		if (rc == 0)
			ok++;
		else {
			assert_int_equal(rc, MPT_ERR_BADLEN);
			err++;
		}
		assert_true(o.nsack <= MPT_TCP_MAX_SACK);
		assert_true(o.tfo_len <= 16);
		assert_true(o.n_mptcp <= MPT_TCP_MAX_MPTCP);
		assert_true(o.n_unknown <= MPT_TCP_MAX_UNKNOWN);
	}
	/* Both outcomes must actually be exercised. */
	assert_true(ok > 1000);
	assert_true(err > 1000);
}

/* ---- option emit ------------------------------------------------------- */

static void test_emit_syn_layout(void **state)
{
	uint8_t buf[40];
	uint8_t ns = 99;
	struct mpt_tcp_opts_out o;

	memset(&o, 0, sizeof(o));
	o.present =
	    MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_SACK_PERM | MPT_TCPOPT_F_TS | MPT_TCPOPT_F_WSCALE;
	o.mss = 1460;
	o.wscale = 7;
	o.tsval = 0x11223344;
	o.tsecr = 0;
	static const uint8_t want[20] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08,
					 0x0a, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00,
					 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), 20);
	assert_memory_equal(buf, want, 20);
	assert_int_equal(ns, 0);

	/* TS without SACK-permitted: NOP NOP TS */
	o.present = MPT_TCPOPT_F_TS;
	static const uint8_t want_ts[12] = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0};
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, NULL), 12);
	assert_memory_equal(buf, want_ts, 12);

	/* SYN without timestamps: MSS, WS, NOP NOP SACK-perm */
	o.present = MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_SACK_PERM | MPT_TCPOPT_F_WSCALE;
	static const uint8_t want_nots[12] = {2, 4, 5, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2};
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, NULL), 12);
	assert_memory_equal(buf, want_nots, 12);

	/* ACK with TS + 2 SACK blocks */
	o.present = MPT_TCPOPT_F_TS | MPT_TCPOPT_F_SACK;
	o.nsack = 2;
	o.sack[0] = (struct mpt_sack_block){0x1000, 0x2000};
	o.sack[1] = (struct mpt_sack_block){0x3000, 0x4000};
	static const uint8_t want_sack[32] = {1,    1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0,    0, 0,
					      0,    1, 1, 5,  18,   0,    0,    0x10, 0,    0, 0,
					      0x20, 0, 0, 0,  0x30, 0,    0,    0,    0x40, 0};
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), 32);
	assert_memory_equal(buf, want_sack, 32);
	assert_int_equal(ns, 2);

	/* TFO request and a 6-byte cookie, then extra and NOP padding */
	const uint8_t extra[5] = {30, 5, 0x20, 0xaa, 0xbb};
	memset(&o, 0, sizeof(o));
	o.present = MPT_TCPOPT_F_TFO;
	o.extra = extra;
	o.extra_len = 5;
	static const uint8_t want_tfo0[12] = {1, 1, 34, 2, 30, 5, 0x20, 0xaa, 0xbb, 1, 1, 1};
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, NULL), 12);
	assert_memory_equal(buf, want_tfo0, 12);
	o.tfo_len = 6;
	memcpy(o.tfo_cookie, "\x01\x02\x03\x04\x05\x06", 6);
	static const uint8_t want_tfo6[16] = {34, 8, 1,    2,    3,    4, 5, 6,
					      30, 5, 0x20, 0xaa, 0xbb, 1, 1, 1};
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, NULL), 16);
	assert_memory_equal(buf, want_tfo6, 16);

	/* Nothing at all */
	memset(&o, 0, sizeof(o));
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, NULL), 0);
}

static void test_emit_sack_drop_and_nospace(void **state)
{
	uint8_t buf[64];
	uint8_t ns = 99;
	struct mpt_tcp_opts_out o;
	struct mpt_tcp_opts p;

	memset(&o, 0, sizeof(o));
	o.present = MPT_TCPOPT_F_SACK;
	o.nsack = 4;
	for (int i = 0; i < 4; i++)
		o.sack[i] = (struct mpt_sack_block){(uint32_t)i * 100, (uint32_t)i * 100 + 50};
	/* 4 blocks alone: 4 + 32 = 36 */
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), 36);
	assert_int_equal(ns, 4);
	/* With timestamps only 3 fit (12 + 4 + 24 = 40). */
	o.present |= MPT_TCPOPT_F_TS;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), 40);
	assert_int_equal(ns, 3);
	assert_int_equal(mpt_tcp_opts_parse(&p, buf, 40), 0);
	assert_int_equal(p.nsack, 3);
	assert_int_equal(p.sack[2].left, 200);
	/* A smaller cap drops more, from the end. */
	assert_int_equal(mpt_tcp_opts_emit(buf, 31, &o, &ns), 24);
	assert_int_equal(ns, 1);
	assert_int_equal(mpt_tcp_opts_emit(buf, 23, &o, &ns), 12);
	assert_int_equal(ns, 0);
	/* 20 bytes of extra + TS leave 8: no block fits. */
	uint8_t extra[40];
	memset(extra, 1, sizeof(extra));
	o.extra = extra;
	o.extra_len = 20;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), 32);
	assert_int_equal(ns, 0);
	o.extra_len = 16;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), 40);
	assert_int_equal(ns, 1);
	/* Mandatory options + extra too big: NOSPACE (extra 29 -> 32 + 12). */
	o.extra_len = 29;
	ns = 7;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), MPT_ERR_NOSPACE);
	assert_int_equal(ns, 0);
	o.extra_len = 28;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), 40);
	assert_int_equal(mpt_tcp_opts_emit(buf, 39, &o, &ns), MPT_ERR_NOSPACE);
	o.present = MPT_TCPOPT_F_MSS;
	o.extra_len = 40;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), MPT_ERR_NOSPACE);
	o.present = 0;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), 40);
	assert_int_equal(mpt_tcp_opts_emit(buf, 3, &o, &ns), MPT_ERR_NOSPACE);
	/* Invalid arguments */
	o.extra = NULL;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), MPT_ERR_INVAL);
	o.extra_len = 0;
	o.present = MPT_TCPOPT_F_SACK;
	o.nsack = 5;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), MPT_ERR_INVAL);
	o.present = MPT_TCPOPT_F_TFO;
	o.tfo_len = 5;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), MPT_ERR_INVAL);
	o.tfo_len = 18;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), MPT_ERR_INVAL);
	o.tfo_len = 2;
	assert_int_equal(mpt_tcp_opts_emit(buf, sizeof(buf), &o, &ns), MPT_ERR_INVAL);
	assert_int_equal(mpt_tcp_opts_emit(NULL, sizeof(buf), &o, &ns), MPT_ERR_INVAL);
}

static size_t round4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* One random extra area made of MPTCP / unknown options and NOPs. */
static size_t random_extra(uint8_t *e, size_t max, int *n_mp, int *n_un)
{
	size_t len = 0;
	size_t target = (size_t)(rnd() % (max + 1));

	*n_mp = *n_un = 0;
	while (len < target) {
		size_t room = target - len;
		uint64_t r = rnd();
		if (room < 2 || (r & 7) == 0) {
			e[len++] = 1; /* NOP */
			continue;
		}
		bool mp = (r >> 3) & 1;
		if (mp && room < 3)
			mp = false;
		size_t minl = mp ? 3 : 2;
		size_t l = minl + (size_t)((r >> 8) % ((room < 14 ? room : 14) - minl + 1));
		uint8_t kind;
		if (mp) {
			kind = 30;
			(*n_mp)++;
		} else {
			do
				kind = (uint8_t)(r >> 20), r = rnd();
			while (kind <= 5 || kind == 8 || kind == 30 || kind == 34);
			(*n_un)++;
		}
		e[len] = kind;
		e[len + 1] = (uint8_t)l;
		for (size_t i = 2; i < l; i++)
			e[len + i] = (uint8_t)rnd();
		len += l;
	}
	return len;
}

static void test_emit_parse_random(void **state)
{
	static const uint32_t bits[] = {MPT_TCPOPT_F_MSS,       MPT_TCPOPT_F_WSCALE,
					MPT_TCPOPT_F_SACK_PERM, MPT_TCPOPT_F_SACK,
					MPT_TCPOPT_F_TS,        MPT_TCPOPT_F_TFO};
	uint8_t buf[64], extra[40];
	int n_ok = 0, n_nospace = 0, n_dropped = 0;

	rng_state = 7323;
	for (int it = 0; it < 20000; it++) {
		struct mpt_tcp_opts_out o;
		struct mpt_tcp_opts p;
		int n_mp, n_un;

		memset(&o, 0, sizeof(o));
		for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++)
			if (rnd() & 1)
				o.present |= bits[b];
		o.mss = (uint16_t)rnd();
		o.wscale = (uint8_t)(rnd() % 15);
		o.nsack = (uint8_t)(rnd() % 5);
		for (int i = 0; i < 4; i++) {
			o.sack[i].left = (uint32_t)rnd();
			o.sack[i].right = (uint32_t)rnd();
		}
		o.tsval = (uint32_t)rnd();
		o.tsecr = (uint32_t)rnd();
		o.tfo_len = (uint8_t[]){0, 4, 6, 8, 10, 12, 14, 16}[rnd() % 8];
		for (int i = 0; i < 16; i++)
			o.tfo_cookie[i] = (uint8_t)rnd();
		o.extra_len = (uint8_t)random_extra(extra, (rnd() & 1) ? 12 : 40, &n_mp, &n_un);
		o.extra = extra;
		size_t cap = (rnd() % 4) ? 40 : (size_t)(rnd() % 64);

		/* Independent size computation. */
		bool ts = o.present & MPT_TCPOPT_F_TS;
		size_t need = ((o.present & MPT_TCPOPT_F_MSS) ? 4 : 0) + (ts ? 12 : 0) +
			      ((o.present & MPT_TCPOPT_F_WSCALE) ? 4 : 0) +
			      ((o.present & MPT_TCPOPT_F_SACK_PERM) && !ts ? 4 : 0) +
			      ((o.present & MPT_TCPOPT_F_TFO) ? round4(2 + (size_t)o.tfo_len) : 0) +
			      round4(o.extra_len);
		size_t limit = cap < 40 ? cap : 40;
		uint8_t want_sack = (o.present & MPT_TCPOPT_F_SACK) ? o.nsack : 0;
		if (need <= limit && limit - need >= 12) {
			size_t fit = (limit - need - 4) / 8;
			if (fit < want_sack)
				want_sack = (uint8_t)fit;
		} else {
			want_sack = 0;
		}

		uint8_t ns = 0xff;
		memset(buf, 0xee, sizeof(buf));
		int rc = mpt_tcp_opts_emit(buf, cap, &o, &ns);
		if (need > limit) {
			assert_int_equal(rc, MPT_ERR_NOSPACE);
			n_nospace++;
			continue;
		}
		size_t sz = need + (want_sack ? 4 + 8 * (size_t)want_sack : 0);
		assert_int_equal(rc, (int)sz);
		assert_true(rc % 4 == 0 && rc <= 40 && (size_t)rc <= cap);
		for (size_t i = (size_t)rc; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xee); /* never writes past */
		assert_int_equal(ns, want_sack);
		if ((o.present & MPT_TCPOPT_F_SACK) && want_sack < o.nsack)
			n_dropped++;
		n_ok++;

		assert_int_equal(parse_exact(&p, buf, (size_t)rc), 0);
		uint32_t want_present = o.present;
		if (!want_sack)
			want_present &= ~MPT_TCPOPT_F_SACK;
		if (n_mp)
			want_present |= MPT_TCPOPT_F_MPTCP;
		if (n_un)
			want_present |= MPT_TCPOPT_F_UNKNOWN;
		assert_int_equal(p.present, want_present);
		if (o.present & MPT_TCPOPT_F_MSS)
			assert_int_equal(p.mss, o.mss);
		if (o.present & MPT_TCPOPT_F_WSCALE)
			assert_int_equal(p.wscale, o.wscale);
		if (o.present & MPT_TCPOPT_F_TS) {
			assert_int_equal(p.tsval, o.tsval);
			assert_int_equal(p.tsecr, o.tsecr);
		}
		assert_int_equal(p.nsack, want_sack);
		for (int i = 0; i < want_sack; i++) {
			assert_int_equal(p.sack[i].left, o.sack[i].left);
			assert_int_equal(p.sack[i].right, o.sack[i].right);
		}
		if (o.present & MPT_TCPOPT_F_TFO) {
			assert_int_equal(p.tfo_len, o.tfo_len);
			assert_memory_equal(p.tfo_cookie, o.tfo_cookie, o.tfo_len);
		}
		/* Extra bytes appear verbatim, aligned, right before the padding. */
		size_t xoff = (size_t)rc - round4(o.extra_len);
		assert_true(xoff % 4 == 0);
		assert_memory_equal(buf + xoff, extra, o.extra_len);
		for (size_t i = xoff + o.extra_len; i < (size_t)rc; i++)
			assert_int_equal(buf[i], MPT_TCPOPT_NOP);
		assert_int_equal(p.n_mptcp, n_mp < MPT_TCP_MAX_MPTCP ? n_mp : MPT_TCP_MAX_MPTCP);
		assert_int_equal(p.n_unknown,
				 n_un < MPT_TCP_MAX_UNKNOWN ? n_un : MPT_TCP_MAX_UNKNOWN);
		for (int i = 0; i < p.n_mptcp; i++)
			assert_true(p.mptcp[i].off >= xoff &&
				    p.mptcp[i].off + p.mptcp[i].len <= xoff + o.extra_len);
		for (int i = 0; i < p.n_unknown; i++)
			assert_true(p.unknown[i].off >= xoff &&
				    p.unknown[i].off + p.unknown[i].len <= xoff + o.extra_len);
	}
	assert_true(n_ok > 1000);
	assert_true(n_nospace > 100);
	assert_true(n_dropped > 100);
}

/* ---- checksum ---------------------------------------------------------- */

/* Reference: explicit pseudo-header + segment, summed 16 bits at a time. */
static uint16_t ref_tcp_csum(const uint8_t *seg, size_t len, const struct mpt_addr *s,
			     const struct mpt_addr *d)
{
	uint8_t *b = malloc(40 + len + 1);
	size_t n = 0;

	assert_non_null(b);
	if (s->family == 4) {
		memcpy(b, s->bytes, 4);
		memcpy(b + 4, d->bytes, 4);
		b[8] = 0;
		b[9] = 6;
		mpt_put16(b + 10, (uint16_t)len);
		n = 12;
	} else {
		memcpy(b, s->bytes, 16);
		memcpy(b + 16, d->bytes, 16);
		mpt_put32(b + 32, (uint32_t)len);
		b[36] = b[37] = b[38] = 0;
		b[39] = 6;
		n = 40;
	}
	memcpy(b + n, seg, len);
	mpt_put16(b + n + 16, 0);
	n += len;
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | (i + 1 < n ? b[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	free(b);
	return (uint16_t)~sum;
}

static void check_csum_family(uint8_t family)
{
	struct mpt_addr s = {.family = family}, d = {.family = family};
	uint8_t seg[1600];

	for (int it = 0; it < 500; it++) {
		for (int i = 0; i < 16; i++) {
			s.bytes[i] = (uint8_t)rnd();
			d.bytes[i] = (uint8_t)rnd();
		}
		size_t plen = (size_t)(rnd() % 1400);
		if (it < 2)
			plen = it ? 1 : 0;
		struct mpt_tcp_hdr h = {.sport = (uint16_t)rnd(),
					.dport = (uint16_t)rnd(),
					.seq = (uint32_t)rnd(),
					.ack = (uint32_t)rnd(),
					.flags = MPT_TCP_ACK,
					.window = (uint16_t)rnd()};
		uint8_t opt[12] = {1, 1, 8, 10};
		for (int i = 4; i < 12; i++)
			opt[i] = (uint8_t)rnd();
		int hl = mpt_tcp_hdr_emit(seg, sizeof(seg), &h, opt, 12);
		assert_int_equal(hl, 32);
		for (size_t i = 0; i < plen; i++)
			seg[32 + i] = (uint8_t)rnd();
		size_t len = 32 + plen;
		mpt_tcp_csum_fill(seg, len, &s, &d);
		assert_int_equal(mpt_get16(seg + 16), ref_tcp_csum(seg, len, &s, &d));
		assert_true(mpt_tcp_csum_ok(seg, len, &s, &d));
		/* Any single-bit flip is detected. */
		size_t at = (size_t)(rnd() % len);
		uint8_t bit = (uint8_t)(1u << (rnd() % 8));
		seg[at] ^= bit;
		assert_false(mpt_tcp_csum_ok(seg, len, &s, &d));
		seg[at] ^= bit;
		/* Wrong address. */
		d.bytes[family == 4 ? 3 : 15] ^= 1;
		assert_false(mpt_tcp_csum_ok(seg, len, &s, &d));
		d.bytes[family == 4 ? 3 : 15] ^= 1;
		/* Refilling an already-filled segment gives the same value. */
		uint16_t c = mpt_get16(seg + 16);
		mpt_tcp_csum_fill(seg, len, &s, &d);
		assert_int_equal(mpt_get16(seg + 16), c);
	}
	assert_false(mpt_tcp_csum_ok(seg, 19, &s, &d));
}

static void test_csum_v4(void **state)
{
	rng_state = 4;
	check_csum_family(4);
}

static void test_csum_v6(void **state)
{
	rng_state = 6;
	check_csum_family(6);
}

static void test_csum_known(void **state)
{
	/* Hand-computed: 10.0.0.1:1 -> 10.0.0.2:2, seq 1 ack 0, SYN,
	 * doff 5, window 0, payload "a" (odd length 21).
	 * Pseudo: 0a00+0001+0a00+0002+0006+0015 = 0x141e
	 * Header: 0001+0002+0000+0001+0000+0000+5002+0000+0000+0000 = 0x5006
	 * Payload: 6100.
	 * 0x141e + 0x5006 + 0x6100 = 0xc524 -> checksum ~0xc524 = 0x3adb. */
	struct mpt_addr s = {.family = 4, .bytes = {10, 0, 0, 1}};
	struct mpt_addr d = {.family = 4, .bytes = {10, 0, 0, 2}};
	uint8_t seg[21] = {0, 1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0, 'a'};

	mpt_tcp_csum_fill(seg, sizeof(seg), &s, &d);
	assert_int_equal(mpt_get16(seg + 16), 0x3adb);
	assert_true(mpt_tcp_csum_ok(seg, sizeof(seg), &s, &d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hdr_roundtrip),
	    cmocka_unit_test(test_hdr_errors),
	    cmocka_unit_test(test_parse_each_kind),
	    cmocka_unit_test(test_parse_first_wins_and_limits),
	    cmocka_unit_test(test_parse_bad_lengths),
	    cmocka_unit_test(test_parse_garbage),
	    cmocka_unit_test(test_emit_syn_layout),
	    cmocka_unit_test(test_emit_sack_drop_and_nospace),
	    cmocka_unit_test(test_emit_parse_random),
	    cmocka_unit_test(test_csum_v4),
	    cmocka_unit_test(test_csum_v6),
	    cmocka_unit_test(test_csum_known),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
