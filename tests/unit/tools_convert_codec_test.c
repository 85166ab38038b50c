/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 8803 Convert message codec: exact layouts, round trips, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "convert_codec.h"
#include "testrng.h"

/* Parse from an exactly-sized heap copy so ASan flags any over-read. */
static int parse_exact(struct mpt_convert_msg *m, const uint8_t *buf, size_t len, size_t *consumed)
{
	uint8_t *b = malloc(len ? len : 1);
	assert_non_null(b);
	if (len)
		memcpy(b, buf, len);
	int rc = mpt_convert_parse(m, len ? b : NULL, len, consumed);
	if (rc == 0) {
		/* Views must point inside the message; rebase them onto buf. */
		for (unsigned i = 0; i < m->n_tlvs; i++) {
			struct mpt_convert_tlv *t = &m->tlv[i];
			const uint8_t **pp = NULL;
			size_t n = 0;
			switch (t->type) {
			case MPT_CONVERT_TLV_CONNECT:
				pp = &t->u.connect.opt;
				n = t->u.connect.opt_len;
				break;
			case MPT_CONVERT_TLV_EXT_TCP_HDR:
				pp = &t->u.ext_tcp_hdr.data;
				n = t->u.ext_tcp_hdr.len;
				break;
			case MPT_CONVERT_TLV_SUPPORTED:
				pp = &t->u.supported.kinds;
				n = t->u.supported.n_kinds;
				break;
			case MPT_CONVERT_TLV_COOKIE:
				pp = &t->u.cookie.data;
				n = t->u.cookie.len;
				break;
			case MPT_CONVERT_TLV_ERROR:
				pp = &t->u.error.value;
				n = t->u.error.value_len;
				break;
			default:
				break;
			}
			if (pp) {
				assert_true(*pp >= b && *pp + n <= b + *consumed);
				*pp = buf + (*pp - b);
			}
		}
	}
	free(b);
	return rc;
}

static void assert_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	assert_int_equal(alen, blen);
	if (alen)
		assert_memory_equal(a, b, alen);
}

static void assert_tlv_equal(const struct mpt_convert_tlv *a, const struct mpt_convert_tlv *b)
{
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case MPT_CONVERT_TLV_INFO:
		break;
	case MPT_CONVERT_TLV_CONNECT:
		assert_int_equal(a->u.connect.remote.port, b->u.connect.remote.port);
		assert_int_equal(a->u.connect.remote.addr.family, b->u.connect.remote.addr.family);
		assert_memory_equal(a->u.connect.remote.addr.bytes, b->u.connect.remote.addr.bytes,
				    a->u.connect.remote.addr.family == 4 ? 4 : 16);
		assert_bytes(a->u.connect.opt, a->u.connect.opt_len, b->u.connect.opt,
			     b->u.connect.opt_len);
		break;
	case MPT_CONVERT_TLV_EXT_TCP_HDR:
		assert_bytes(a->u.ext_tcp_hdr.data, a->u.ext_tcp_hdr.len, b->u.ext_tcp_hdr.data,
			     b->u.ext_tcp_hdr.len);
		break;
	case MPT_CONVERT_TLV_SUPPORTED:
		assert_bytes(a->u.supported.kinds, a->u.supported.n_kinds, b->u.supported.kinds,
			     b->u.supported.n_kinds);
		break;
	case MPT_CONVERT_TLV_COOKIE:
		assert_bytes(a->u.cookie.data, a->u.cookie.len, b->u.cookie.data, b->u.cookie.len);
		break;
	case MPT_CONVERT_TLV_ERROR:
		assert_int_equal(a->u.error.code, b->u.error.code);
		assert_bytes(a->u.error.value, a->u.error.value_len, b->u.error.value,
			     b->u.error.value_len);
		break;
	default:
		fail();
	}
}

static void assert_msg_equal(const struct mpt_convert_msg *a, const struct mpt_convert_msg *b)
{
	assert_int_equal(a->n_tlvs, b->n_tlvs);
	for (unsigned i = 0; i < a->n_tlvs; i++)
		assert_tlv_equal(&a->tlv[i], &b->tlv[i]);
}

/* ---- exact layouts (RFC 8803 §4.1 Figure "Convert Fixed Header", §4.2) -- */

static void test_connect_ipv4_bytes(void **state)
{
	(void)state;
	/* Client -> Converter: connect to 192.0.2.1:80, no TCP options. */
	static const uint8_t want[] = {
	    0x01, 0x06, 0x22, 0x63,                         /* v1, 6 words, magic */
	    0x0a, 0x05, 0x00, 0x50,                         /* Connect, 5 words, port 80 */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ::ffff:192.0.2.1 */
	    0x00, 0x00, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x01,
	};
	struct mpt_convert_msg m;
	memset(&m, 0, sizeof(m));
	m.n_tlvs = 1;
	m.tlv[0].type = MPT_CONVERT_TLV_CONNECT;
	m.tlv[0].u.connect.remote.addr.family = 4;
	memcpy(m.tlv[0].u.connect.remote.addr.bytes, (uint8_t[]){192, 0, 2, 1}, 4);
	m.tlv[0].u.connect.remote.port = 80;
	uint8_t buf[64];
	int n = mpt_convert_emit(buf, sizeof(buf), &m);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	struct mpt_convert_msg p;
	size_t used;
	assert_int_equal(parse_exact(&p, want, sizeof(want), &used), 0);
	assert_int_equal(used, sizeof(want));
	assert_int_equal(p.version, 1);
	assert_int_equal(p.len, 24);
	assert_int_equal(p.rfc_error, -1);
	const struct mpt_convert_tlv *c = mpt_convert_find(&p, MPT_CONVERT_TLV_CONNECT);
	assert_non_null(c);
	assert_int_equal(c->u.connect.remote.addr.family, 4);
	assert_memory_equal(c->u.connect.remote.addr.bytes, ((uint8_t[]){192, 0, 2, 1}), 4);
	assert_int_equal(c->u.connect.remote.port, 80);
	assert_int_equal(c->u.connect.opt_len, 0);
	assert_null(mpt_convert_find(&p, MPT_CONVERT_TLV_COOKIE));

	/* The TLV shorthand writes the same TLV bytes. */
	assert_int_equal(
	    mpt_convert_emit_connect(buf, sizeof(buf), &m.tlv[0].u.connect.remote, NULL, 0), 20);
	assert_memory_equal(buf, want + 4, 20);
}

static void test_connect_ipv6_opts_bytes(void **state)
{
	(void)state;
	/* 2001:db8::1 port 443, TCP options SACK-permitted + MSS 1400 (6 bytes,
	 * padded to 8): Connect is 7 words, message 8 words.  Data follows. */
	static const uint8_t want[] = {
	    0x01, 0x08, 0x22, 0x63, 0x0a, 0x07, 0x01, 0xbb, 0x20, 0x01, 0x0d, 0xb8,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	    0x04, 0x02, 0x02, 0x04, 0x05, 0x78, 0x00, 0x00, 'G',  'E',  'T',
	};
	static const uint8_t opts[] = {0x04, 0x02, 0x02, 0x04, 0x05, 0x78};
	struct mpt_endpoint ep = {.port = 443};
	ep.addr.family = 6;
	memcpy(ep.addr.bytes,
	       (uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16);
	struct mpt_convert_msg m;
	memset(&m, 0, sizeof(m));
	m.n_tlvs = 1;
	m.tlv[0].type = MPT_CONVERT_TLV_CONNECT;
	m.tlv[0].u.connect.remote = ep;
	m.tlv[0].u.connect.opt = opts;
	m.tlv[0].u.connect.opt_len = sizeof(opts);
	uint8_t buf[64];
	assert_int_equal(mpt_convert_emit(buf, sizeof(buf), &m), 32);
	assert_memory_equal(buf, want, 32);

	struct mpt_convert_msg p;
	size_t used;
	assert_int_equal(parse_exact(&p, want, sizeof(want), &used), 0);
	assert_int_equal(used, 32); /* "GET" is application data */
	assert_int_equal(p.tlv[0].u.connect.remote.addr.family, 6);
	assert_msg_equal(&m, &p);
}

static void test_ext_tcp_hdr_answer_bytes(void **state)
{
	(void)state;
	/* Converter -> Client: the server's SYN+ACK options (MSS 1460,
	 * SACK-permitted, timestamps, NOP, window scale 7) in an Extended TCP
	 * Header TLV. */
	static const uint8_t hdr[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x11, 0x22,
				      0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x01, 0x03, 0x03, 0x07};
	uint8_t want[28] = {0x01, 0x07, 0x22, 0x63, 0x14, 0x06, 0x00, 0x00};
	memcpy(want + 8, hdr, sizeof(hdr));
	struct mpt_convert_msg m;
	memset(&m, 0, sizeof(m));
	m.n_tlvs = 1;
	m.tlv[0].type = MPT_CONVERT_TLV_EXT_TCP_HDR;
	m.tlv[0].u.ext_tcp_hdr.data = hdr;
	m.tlv[0].u.ext_tcp_hdr.len = sizeof(hdr);
	uint8_t buf[64];
	assert_int_equal(mpt_convert_emit(buf, sizeof(buf), &m), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	struct mpt_convert_msg p;
	size_t used;
	assert_int_equal(parse_exact(&p, buf, sizeof(want), &used), 0);
	assert_msg_equal(&m, &p);
	/* Unassigned bits are ignored on receipt (§4.2.6). */
	want[6] = 0xab;
	assert_int_equal(parse_exact(&p, want, sizeof(want), &used), 0);
	assert_msg_equal(&m, &p);
}

static void test_info_supported_cookie_bytes(void **state)
{
	(void)state;
	/* Info from the Client; Supported TCP Extensions {MPTCP=30} + cookie. */
	static const uint8_t info[] = {0x01, 0x02, 0x22, 0x63, 0x01, 0x01, 0x00, 0x00};
	uint8_t buf[64];
	struct mpt_convert_msg m, p;
	memset(&m, 0, sizeof(m));
	m.n_tlvs = 1;
	m.tlv[0].type = MPT_CONVERT_TLV_INFO;
	assert_int_equal(mpt_convert_emit(buf, sizeof(buf), &m), sizeof(info));
	assert_memory_equal(buf, info, sizeof(info));
	assert_int_equal(mpt_convert_emit_info(buf, sizeof(buf)), 4);
	assert_memory_equal(buf, info + 4, 4);

	static const uint8_t kinds[] = {30};
	static const uint8_t cookie[] = {0xde, 0xad, 0xbe, 0xef};
	static const uint8_t want[] = {0x01, 0x05, 0x22, 0x63, 0x15, 0x02, 0x00, 0x00, 0x1e, 0x00,
				       0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef};
	m.n_tlvs = 2;
	m.tlv[0].type = MPT_CONVERT_TLV_SUPPORTED;
	m.tlv[0].u.supported.kinds = kinds;
	m.tlv[0].u.supported.n_kinds = 1;
	m.tlv[1].type = MPT_CONVERT_TLV_COOKIE;
	m.tlv[1].u.cookie.data = cookie;
	m.tlv[1].u.cookie.len = 4;
	assert_int_equal(mpt_convert_emit(buf, sizeof(buf), &m), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	size_t used;
	assert_int_equal(parse_exact(&p, want, sizeof(want), &used), 0);
	assert_msg_equal(&m, &p);
}

static void test_error_answers(void **state)
{
	(void)state;
	uint8_t buf[MPT_CONVERT_MAX_LEN];
	struct mpt_convert_msg p;
	size_t used;

	/* Not Authorized: Value zero. */
	static const uint8_t na[] = {0x01, 0x02, 0x22, 0x63, 0x1e, 0x01, 0x20, 0x00};
	assert_int_equal(
	    mpt_convert_emit_error_msg(buf, sizeof(buf), MPT_CONVERT_ERR_NOT_AUTHORIZED, NULL, 0),
	    sizeof(na));
	assert_memory_equal(buf, na, sizeof(na));
	assert_int_equal(parse_exact(&p, buf, sizeof(na), &used), 0);
	assert_int_equal(p.tlv[0].u.error.code, 32);

	/* Unsupported Version: Value = supported version list {1}. */
	static const uint8_t uv[] = {0x01, 0x02, 0x22, 0x63, 0x1e, 0x01, 0x00, 0x01};
	assert_int_equal(mpt_convert_emit_error_msg(buf, sizeof(buf),
						    MPT_CONVERT_ERR_UNSUPPORTED_VERSION,
						    (const uint8_t *)"xx", 2),
			 sizeof(uv));
	assert_memory_equal(buf, uv, sizeof(uv));

	/* Unsupported TCP Option: Value = the option kind. */
	static const uint8_t uo[] = {0x01, 0x02, 0x22, 0x63, 0x1e, 0x01, 0x21, 0x22};
	assert_int_equal(mpt_convert_emit_error_msg(buf, sizeof(buf),
						    MPT_CONVERT_ERR_UNSUPPORTED_TCP_OPT,
						    (const uint8_t[]){34}, 1),
			 sizeof(uo));
	assert_memory_equal(buf, uo, sizeof(uo));

	/* Malformed: the received message echoed, zero padded. */
	static const uint8_t bad[] = {0x01, 0x02, 0x22, 0x64, 0x01, 0x01};
	static const uint8_t mal[] = {0x01, 0x04, 0x22, 0x63, 0x1e, 0x03, 0x01, 0x01,
				      0x02, 0x22, 0x64, 0x01, 0x01, 0x00, 0x00, 0x00};
	assert_int_equal(mpt_convert_emit_error_msg(buf, sizeof(buf), MPT_CONVERT_ERR_MALFORMED,
						    bad, sizeof(bad)),
			 sizeof(mal));
	assert_memory_equal(buf, mal, sizeof(mal));
	assert_int_equal(parse_exact(&p, buf, sizeof(mal), &used), 0);
	assert_int_equal(p.tlv[0].u.error.code, MPT_CONVERT_ERR_MALFORMED);
	assert_int_equal(p.tlv[0].u.error.value_len, 9); /* 4 * 3 - 3: padding included */
	assert_memory_equal(p.tlv[0].u.error.value, bad, sizeof(bad));

	/* Echo of a maximal message is truncated to fit one message. */
	uint8_t big[MPT_CONVERT_MAX_LEN + 50];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(mpt_convert_emit_error_msg(
			     buf, sizeof(buf), MPT_CONVERT_ERR_UNSUPPORTED_MSG, big, sizeof(big)),
			 MPT_CONVERT_MAX_LEN);
	assert_int_equal(buf[1], 255);
	assert_int_equal(parse_exact(&p, buf, MPT_CONVERT_MAX_LEN, &used), 0);
	assert_int_equal(p.tlv[0].u.error.value_len, MPT_CONVERT_MAX_LEN - 7);
	assert_memory_equal(p.tlv[0].u.error.value, big, MPT_CONVERT_MAX_LEN - 7);
	assert_int_equal(mpt_convert_emit_error_msg(buf, 7, 1, NULL, 0), MPT_ERR_NOSPACE);
	assert_int_equal(mpt_convert_emit_error_msg(buf, sizeof(buf), 1, NULL, 3), MPT_ERR_INVAL);
}

/* ---- randomized round trips ------------------------------------------- */

static const uint8_t all_types[MPT_CONVERT_MAX_TLVS] = {
    MPT_CONVERT_TLV_INFO,      MPT_CONVERT_TLV_CONNECT, MPT_CONVERT_TLV_EXT_TCP_HDR,
    MPT_CONVERT_TLV_SUPPORTED, MPT_CONVERT_TLV_COOKIE,  MPT_CONVERT_TLV_ERROR};

/* Fill t with a random valid TLV of the given type; data is scratch space. */
static void random_tlv(struct mpt_convert_tlv *t, uint8_t type, uint8_t *data, size_t budget)
{
	memset(t, 0, sizeof(*t));
	t->type = type;
	size_t max = budget < 200 ? budget : 200;
	switch (type) {
	case MPT_CONVERT_TLV_INFO:
		break;
	case MPT_CONVERT_TLV_CONNECT: {
		struct mpt_endpoint *e = &t->u.connect.remote;
		e->port = (uint16_t)rnd();
		do {
			e->addr.family = (rnd() & 1) ? 4 : 6;
			memset(e->addr.bytes, 0, 16);
			for (int i = 0; i < (e->addr.family == 4 ? 4 : 16); i++)
				e->addr.bytes[i] = (uint8_t)rnd();
			/* v6 must not fall into the v4-mapped prefix */
		} while (
		    (e->addr.family == 4 && (e->addr.bytes[0] == 127 || e->addr.bytes[0] >= 224 ||
					     e->addr.bytes[0] == 0)) ||
		    (e->addr.family == 6 && (e->addr.bytes[0] == 0xff || e->addr.bytes[0] == 0)));
		/* options: kind >= 2 with length 2..10 */
		size_t n = 0, want = rnd() % 41;
		while (n + 2 <= want) {
			uint8_t l = (uint8_t)(2 + rnd() % 9);
			if (n + l > want)
				l = (uint8_t)(want - n);
			data[n] = (uint8_t)(2 + rnd() % 254);
			data[n + 1] = l;
			for (uint8_t i = 2; i < l; i++)
				data[n + i] = (uint8_t)rnd();
			n += l;
		}
		t->u.connect.opt = data;
		t->u.connect.opt_len = (uint16_t)n;
		break;
	}
	case MPT_CONVERT_TLV_EXT_TCP_HDR:
	case MPT_CONVERT_TLV_COOKIE: {
		size_t n = (rnd() % (max / 4 + 1)) * 4; /* whole words: exact round trip */
		for (size_t i = 0; i < n; i++)
			data[i] = (uint8_t)rnd();
		if (type == MPT_CONVERT_TLV_COOKIE) {
			t->u.cookie.data = data;
			t->u.cookie.len = (uint16_t)n;
		} else {
			t->u.ext_tcp_hdr.data = data;
			t->u.ext_tcp_hdr.len = (uint16_t)n;
		}
		break;
	}
	case MPT_CONVERT_TLV_SUPPORTED: {
		size_t n = rnd() % (max + 1);
		for (size_t i = 0; i < n; i++)
			data[i] = (uint8_t)(3 + rnd() % 253);
		t->u.supported.kinds = data;
		t->u.supported.n_kinds = (uint16_t)n;
		break;
	}
	case MPT_CONVERT_TLV_ERROR: {
		size_t n = (rnd() % (max / 4 + 1)) * 4 + 1; /* 4k+1: fills the words */
		for (size_t i = 0; i < n; i++)
			data[i] = (uint8_t)rnd();
		t->u.error.code = (uint8_t)rnd();
		t->u.error.value = data;
		t->u.error.value_len = (uint16_t)n;
		break;
	}
	default:
		fail();
	}
}

static void test_random_roundtrip(void **state)
{
	(void)state;
	rng_state = 8803;
	static uint8_t scratch[MPT_CONVERT_MAX_TLVS][256];
	unsigned per_type[MPT_CONVERT_MAX_TLVS] = {0};
	for (int iter = 0; iter < 20000; iter++) {
		/* A random subset of the types in random order. */
		uint8_t order[MPT_CONVERT_MAX_TLVS];
		memcpy(order, all_types, sizeof(order));
		for (int i = MPT_CONVERT_MAX_TLVS - 1; i > 0; i--) {
			int j = (int)(rnd() % (uint64_t)(i + 1));
			uint8_t x = order[i];
			order[i] = order[j];
			order[j] = x;
		}
		struct mpt_convert_msg m;
		memset(&m, 0, sizeof(m));
		m.n_tlvs = (uint8_t)(rnd() % (MPT_CONVERT_MAX_TLVS + 1));
		size_t budget = MPT_CONVERT_MAX_LEN - MPT_CONVERT_HDR_LEN;
		for (unsigned i = 0; i < m.n_tlvs; i++) {
			size_t share = budget / (m.n_tlvs - i) - 24;
			random_tlv(&m.tlv[i], order[i], scratch[i], share);
			int l = mpt_convert_tlv_len(&m.tlv[i]);
			assert_true(l >= 4 && l % 4 == 0 && (size_t)l <= budget);
			budget -= (size_t)l;
			for (int k = 0; k < MPT_CONVERT_MAX_TLVS; k++)
				if (all_types[k] == order[i])
					per_type[k]++;
		}
		uint8_t buf[MPT_CONVERT_MAX_LEN + 8];
		int n = mpt_convert_emit(buf, sizeof(buf), &m);
		assert_true(n >= 4 && n % 4 == 0 && n <= MPT_CONVERT_MAX_LEN);
		assert_int_equal(buf[1] * 4, n);
		struct mpt_convert_msg p;
		size_t used;
		assert_int_equal(parse_exact(&p, buf, (size_t)n, &used), 0);
		assert_int_equal(used, (size_t)n);
		assert_msg_equal(&m, &p);
		/* And back: identical bytes. */
		uint8_t buf2[MPT_CONVERT_MAX_LEN];
		assert_int_equal(mpt_convert_emit(buf2, sizeof(buf2), &p), n);
		assert_memory_equal(buf, buf2, (size_t)n);
		/* One byte short of room never writes a partial message. */
		assert_int_equal(mpt_convert_emit(buf2, (size_t)n - 1, &m), MPT_ERR_NOSPACE);
	}
	for (int k = 0; k < MPT_CONVERT_MAX_TLVS; k++)
		assert_true(per_type[k] > 1000);
}

/* ---- malformed input --------------------------------------------------- */

struct bad_case {
	const char *name;
	uint8_t bytes[48];
	size_t len;
	int rc;
	int rfc;
};

#define HDR(words)           0x01, (words), 0x22, 0x63
#define V4MAPPED(a, b, c, d) 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, (a), (b), (c), (d)
#define GOODV4               V4MAPPED(192, 0, 2, 1)

static const struct bad_case bad_cases[] = {
    {"wrong magic", {0x01, 0x01, 0x22, 0x64}, 4, MPT_ERR_PROTO, MPT_CONVERT_ERR_MALFORMED},
    {"magic byte-swapped", {0x01, 0x01, 0x63, 0x22}, 4, MPT_ERR_PROTO, 1},
    {"wrong magic, partial header", {0x01, 0x01, 0x00}, 3, MPT_ERR_PROTO, 1},
    {"not Convert at all (HTTP)", {'G', 'E', 'T', ' ', '/'}, 5, MPT_ERR_PROTO, 1},
    {"version 0",
     {0x00, 0x01, 0x22, 0x63},
     4,
     MPT_ERR_UNSUPPORTED,
     MPT_CONVERT_ERR_UNSUPPORTED_VERSION},
    {"version 2", {0x02, 0x02, 0x22, 0x63, 0x01, 0x01, 0, 0}, 8, MPT_ERR_UNSUPPORTED, 0},
    {"total length 0", {0x01, 0x00, 0x22, 0x63}, 4, MPT_ERR_BADLEN, 1},
    {"TLV length 0", {HDR(2), 0x01, 0x00, 0, 0}, 8, MPT_ERR_BADLEN, 1},
    {"truncated TLV (Connect 5 words, message 4)",
     {HDR(4), 0x0a, 0x05, 0x00, 0x50, GOODV4},
     16,
     MPT_ERR_BADLEN,
     1},
    {"TLVs overrun total length",
     {HDR(3), 0x01, 0x01, 0, 0, 0x16, 0x02, 0, 0, 1, 2, 3, 4},
     16,
     MPT_ERR_BADLEN,
     1},
    {"unknown TLV type 2",
     {HDR(2), 0x02, 0x01, 0, 0},
     8,
     MPT_ERR_UNSUPPORTED,
     MPT_CONVERT_ERR_UNSUPPORTED_MSG},
    {"private-use TLV 0xc0 after Info",
     {HDR(3), 0x01, 0x01, 0, 0, 0xc0, 0x01, 0, 0},
     12,
     MPT_ERR_UNSUPPORTED,
     2},
    {"reserved TLV type 0", {HDR(2), 0x00, 0x01, 0, 0}, 8, MPT_ERR_PROTO, 1},
    {"duplicate Info", {HDR(3), 0x01, 0x01, 0, 0, 0x01, 0x01, 0, 0}, 12, MPT_ERR_PROTO, 1},
    {"Info length 2", {HDR(3), 0x01, 0x02, 0, 0, 0, 0, 0, 0}, 12, MPT_ERR_BADLEN, 1},
    {"Connect too short",
     {HDR(5), 0x0a, 0x04, 0x00, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     20,
     MPT_ERR_BADLEN,
     1},
    {"Connect to 127.0.0.1",
     {HDR(6), 0x0a, 0x05, 0x00, 0x50, V4MAPPED(127, 0, 0, 1)},
     24,
     MPT_ERR_PROTO,
     1},
    {"Connect to 224.0.0.1",
     {HDR(6), 0x0a, 0x05, 0x00, 0x50, V4MAPPED(224, 0, 0, 1)},
     24,
     MPT_ERR_PROTO,
     1},
    {"Connect to 255.255.255.255",
     {HDR(6), 0x0a, 0x05, 0x00, 0x50, V4MAPPED(255, 255, 255, 255)},
     24,
     MPT_ERR_PROTO,
     1},
    {"Connect to 0.0.0.0",
     {HDR(6), 0x0a, 0x05, 0x00, 0x50, V4MAPPED(0, 0, 0, 0)},
     24,
     MPT_ERR_PROTO,
     1},
    {"Connect to ::1",
     {HDR(6), 0x0a, 0x05, 0x00, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
     24,
     MPT_ERR_PROTO,
     1},
    {"Connect to ff02::1",
     {HDR(6), 0x0a, 0x05, 0x00, 0x50, 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
     24,
     MPT_ERR_PROTO,
     1},
    {"Connect option NOP",
     {HDR(7), 0x0a, 0x06, 0x00, 0x50, GOODV4, 0x01, 0x04, 0x02, 0x00},
     28,
     MPT_ERR_PROTO,
     1},
    {"Connect option length 1",
     {HDR(7), 0x0a, 0x06, 0x00, 0x50, GOODV4, 0x04, 0x01, 0x00, 0x00},
     28,
     MPT_ERR_PROTO,
     1},
    {"Connect option overruns TLV",
     {HDR(7), 0x0a, 0x06, 0x00, 0x50, GOODV4, 0x02, 0x08, 0x05, 0xb4},
     28,
     MPT_ERR_PROTO,
     1},
    {"Connect non-zero padding",
     {HDR(7), 0x0a, 0x06, 0x00, 0x50, GOODV4, 0x04, 0x02, 0x00, 0x09},
     28,
     MPT_ERR_PROTO,
     1},
    {"Connect a whole word of padding",
     {HDR(7), 0x0a, 0x06, 0x00, 0x50, GOODV4, 0x00, 0x00, 0x00, 0x00},
     28,
     MPT_ERR_PROTO,
     1},
    {"Supported lists kind 2", {HDR(3), 0x15, 0x02, 0, 0, 0x1e, 0x02, 0, 0}, 12, MPT_ERR_PROTO, 1},
    {"Supported kind after padding",
     {HDR(3), 0x15, 0x02, 0, 0, 0x1e, 0x00, 0x22, 0},
     12,
     MPT_ERR_PROTO,
     1},
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct mpt_convert_msg m;
		size_t used = 99;
		int rc = parse_exact(&m, c->bytes, c->len, &used);
		if (rc != c->rc || m.rfc_error != c->rfc)
			print_error("case '%s': rc %d rfc %d\n", c->name, rc, m.rfc_error);
		assert_int_equal(rc, c->rc);
		assert_int_equal(m.rfc_error, c->rfc);
		assert_true(m.err_off < c->len);
		/* consumed: the message length when the header is valid and the
		 * message complete (so it can be echoed), else 0. */
		if (c->len >= 4 && c->bytes[0] == 1 && c->bytes[1] && c->bytes[2] == 0x22 &&
		    c->bytes[3] == 0x63)
			assert_int_equal(used, c->bytes[1] * 4u);
		else
			assert_int_equal(used, 0);
		/* The answer for each can be built and parses as that Error TLV. */
		uint8_t ans[MPT_CONVERT_MAX_LEN];
		int n = mpt_convert_emit_error_msg(ans, sizeof(ans), (uint8_t)m.rfc_error, c->bytes,
						   c->len);
		assert_true(n > 0);
		struct mpt_convert_msg a;
		assert_int_equal(parse_exact(&a, ans, (size_t)n, &used), 0);
		assert_int_equal(a.tlv[0].type, MPT_CONVERT_TLV_ERROR);
		assert_int_equal(a.tlv[0].u.error.code, c->rfc);
	}
	struct mpt_convert_msg m;
	size_t used;
	assert_int_equal(mpt_convert_parse(NULL, (const uint8_t *)"", 0, &used), MPT_ERR_INVAL);
	assert_int_equal(mpt_convert_parse(&m, NULL, 4, &used), MPT_ERR_INVAL);
	assert_int_equal(mpt_convert_parse(&m, (const uint8_t *)"", 0, NULL), MPT_ERR_INVAL);
}

static void test_emit_rejects(void **state)
{
	(void)state;
	uint8_t buf[MPT_CONVERT_MAX_LEN + 16];
	static uint8_t big[MPT_CONVERT_MAX_LEN];
	memset(big, 0x41, sizeof(big));
	struct mpt_convert_msg m;
	memset(&m, 0, sizeof(m));
	m.n_tlvs = 2;
	m.tlv[0].type = MPT_CONVERT_TLV_INFO;
	m.tlv[1].type = MPT_CONVERT_TLV_INFO;
	assert_int_equal(mpt_convert_emit(buf, sizeof(buf), &m), MPT_ERR_INVAL); /* duplicate */
	m.tlv[1].type = 0x02;
	assert_int_equal(mpt_convert_emit(buf, sizeof(buf), &m), MPT_ERR_INVAL); /* unknown */
	m.n_tlvs = MPT_CONVERT_MAX_TLVS + 1;
	assert_int_equal(mpt_convert_emit(buf, sizeof(buf), &m), MPT_ERR_INVAL);

	/* Largest cookie that fits, and one word more. */
	assert_int_equal(
	    mpt_convert_emit_cookie(buf, sizeof(buf), big, MPT_CONVERT_MAX_TLV_LEN - 4),
	    MPT_CONVERT_MAX_TLV_LEN);
	assert_int_equal(
	    mpt_convert_emit_cookie(buf, sizeof(buf), big, MPT_CONVERT_MAX_TLV_LEN - 3),
	    MPT_ERR_LIMIT);
	/* Two TLVs that each fit but together exceed 1020 bytes. */
	m.n_tlvs = 2;
	m.tlv[0].type = MPT_CONVERT_TLV_COOKIE;
	m.tlv[0].u.cookie.data = big;
	m.tlv[0].u.cookie.len = 600;
	m.tlv[1].type = MPT_CONVERT_TLV_EXT_TCP_HDR;
	m.tlv[1].u.ext_tcp_hdr.data = big;
	m.tlv[1].u.ext_tcp_hdr.len = 600;
	assert_int_equal(mpt_convert_emit(buf, sizeof(buf), &m), MPT_ERR_LIMIT);

	struct mpt_endpoint lo = {.port = 80};
	lo.addr.family = 4;
	memcpy(lo.addr.bytes, (uint8_t[]){127, 0, 0, 1}, 4);
	assert_int_equal(mpt_convert_emit_connect(buf, sizeof(buf), &lo, NULL, 0), MPT_ERR_INVAL);
	struct mpt_endpoint ok = lo;
	ok.addr.bytes[0] = 198;
	assert_int_equal(mpt_convert_emit_connect(buf, sizeof(buf), &ok, (uint8_t[]){1, 1}, 2),
			 MPT_ERR_INVAL); /* NOP */
	assert_int_equal(mpt_convert_emit_connect(buf, sizeof(buf), &ok, (uint8_t[]){2, 4, 5}, 3),
			 MPT_ERR_INVAL); /* overrun */
	assert_int_equal(mpt_convert_emit_connect(buf, sizeof(buf), &ok, (uint8_t[]){4, 2, 0}, 3),
			 MPT_ERR_INVAL); /* caller padding */
	assert_int_equal(mpt_convert_emit_connect(buf, 19, &ok, NULL, 0), MPT_ERR_NOSPACE);
	assert_int_equal(mpt_convert_emit_supported(buf, sizeof(buf), (uint8_t[]){30, 1}, 2),
			 MPT_ERR_INVAL);
	/* Error value shorter than a word is zero padded; empty gets one zero byte. */
	assert_int_equal(mpt_convert_emit_error(buf, sizeof(buf), 65, NULL, 0), 4);
	assert_memory_equal(buf, ((uint8_t[]){0x1e, 0x01, 65, 0}), 4);
	assert_int_equal(mpt_convert_emit_error(buf, sizeof(buf), 96, (uint8_t[]){9, 9}, 2), 8);
	assert_memory_equal(buf, ((uint8_t[]){0x1e, 0x02, 96, 9, 9, 0, 0, 0}), 8);
}

/* ---- split delivery ----------------------------------------------------- */

static void test_split_delivery(void **state)
{
	(void)state;
	static const uint8_t cookie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct mpt_convert_msg m;
	memset(&m, 0, sizeof(m));
	m.n_tlvs = 2;
	m.tlv[0].type = MPT_CONVERT_TLV_CONNECT;
	m.tlv[0].u.connect.remote.addr.family = 6;
	m.tlv[0].u.connect.remote.addr.bytes[0] = 0x20;
	m.tlv[0].u.connect.remote.addr.bytes[15] = 9;
	m.tlv[0].u.connect.remote.port = 8080;
	m.tlv[1].type = MPT_CONVERT_TLV_COOKIE;
	m.tlv[1].u.cookie.data = cookie;
	m.tlv[1].u.cookie.len = sizeof(cookie);
	uint8_t buf[64];
	int n = mpt_convert_emit(buf, sizeof(buf), &m);
	assert_int_equal(n, 4 + 20 + 12);
	memcpy(buf + n, "data", 4);

	for (int k = 0; k < n; k++) {
		struct mpt_convert_msg p;
		size_t used = 99;
		assert_int_equal(parse_exact(&p, buf, (size_t)k, &used), MPT_ERR_AGAIN);
		assert_int_equal(used, 0);
		assert_int_equal(p.need, k < 4 ? 4 : n);
		assert_int_equal(p.rfc_error, -1);
	}
	for (int extra = 0; extra <= 4; extra++) {
		struct mpt_convert_msg p;
		size_t used;
		assert_int_equal(parse_exact(&p, buf, (size_t)(n + extra), &used), 0);
		assert_int_equal(used, (size_t)n);
		assert_msg_equal(&m, &p);
	}
}

/* ---- hostile input ----------------------------------------------------- */

static void test_random_garbage(void **state)
{
	(void)state;
	rng_state = 0xc0ffee;
	static const uint8_t types[] = {0x00, 0x01, 0x0a, 0x14, 0x15, 0x16, 0x1e, 0x02, 0xff};
	unsigned ok = 0, again = 0, errs = 0;
	for (int iter = 0; iter < 300000; iter++) {
		uint8_t buf[MPT_CONVERT_MAX_LEN + 64];
		size_t len = rnd() % sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		if (len >= 4 && (rnd() % 4) != 0) {
			/* Mostly-plausible message so the TLV code is reached. */
			buf[0] = 1;
			if (rnd() % 4) /* fits what arrived */
				buf[1] = (uint8_t)(1 + rnd() % (len / 4 < 255 ? len / 4 : 255));
			else /* may announce more than arrived */
				buf[1] = (uint8_t)(1 + rnd() % 255);
			buf[2] = 0x22;
			buf[3] = 0x63;
			for (size_t off = 4; off + 4 <= len && off < 64;
			     off += 4 * (1 + rnd() % 6)) {
				buf[off] = types[rnd() % sizeof(types)];
				buf[off + 1] = (uint8_t)(rnd() % 8);
			}
		}
		struct mpt_convert_msg p;
		size_t used;
		int rc = parse_exact(&p, buf, len, &used);
		if (rc == 0) {
			ok++;
			assert_true(used <= len && used % 4 == 0 && used >= 4);
			assert_true(p.n_tlvs <= MPT_CONVERT_MAX_TLVS);
			/* Accepted input re-emits to something that parses the same. */
			uint8_t e[MPT_CONVERT_MAX_LEN];
			int n = mpt_convert_emit(e, sizeof(e), &p);
			assert_int_equal(n, used);
			struct mpt_convert_msg q;
			size_t used2;
			assert_int_equal(parse_exact(&q, e, (size_t)n, &used2), 0);
			assert_msg_equal(&p, &q);
		} else if (rc == MPT_ERR_AGAIN) {
			again++;
			assert_true(p.need > len);
		} else {
			errs++;
			assert_true(p.rfc_error == 0 || p.rfc_error == 1 || p.rfc_error == 2);
		}
	}
	print_message("garbage: %u ok, %u need more, %u errors\n", ok, again, errs);
	/* The generator must reach all three outcomes. */
	assert_true(ok > 1000);
	assert_true(again > 1000);
	assert_true(errs > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_ipv4_bytes),
	    cmocka_unit_test(test_connect_ipv6_opts_bytes),
	    cmocka_unit_test(test_ext_tcp_hdr_answer_bytes),
	    cmocka_unit_test(test_info_supported_cookie_bytes),
	    cmocka_unit_test(test_error_answers),
	    cmocka_unit_test(test_random_roundtrip),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_emit_rejects),
	    cmocka_unit_test(test_split_delivery),
	    cmocka_unit_test(test_random_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
