/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 / IPv6 header codec: round trips and every rejection path. */
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
#include "wire/ip.h"

static struct mpt_ip_hdr v4_hdr(size_t payload_len)
{
	struct mpt_ip_hdr h;

	memset(&h, 0, sizeof(h));
	h.src.family = 4;
	h.dst.family = 4;
	memcpy(h.src.bytes, (uint8_t[]){192, 0, 2, 1}, 4);
	memcpy(h.dst.bytes, (uint8_t[]){198, 51, 100, 7}, 4);
	h.proto = 6;
	h.ttl = 64;
	h.tos = 0x2e;
	h.id = 0x1234;
	h.payload_len = payload_len;
	return h;
}

static struct mpt_ip_hdr v6_hdr(size_t payload_len)
{
	struct mpt_ip_hdr h;

	memset(&h, 0, sizeof(h));
	h.src.family = 6;
	h.dst.family = 6;
	for (int i = 0; i < 16; i++) {
		h.src.bytes[i] = (uint8_t)(0x20 + i);
		h.dst.bytes[i] = (uint8_t)(0xf0 - i);
	}
	h.proto = 6;
	h.ttl = 255;
	h.tos = 0xb8;
	h.flow_label = 0xabcde;
	h.payload_len = payload_len;
	return h;
}

/* Recompute the IPv4 header checksum after editing a header. */
static void fix_csum4(uint8_t *p)
{
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;

	mpt_put16(p + 10, 0);
	mpt_put16(p + 10, mpt_csum(p, ihl));
}

static void test_v4_roundtrip(void **state)
{
	uint8_t pkt[100];
	struct mpt_ip_hdr h = v4_hdr(30), g;

	memset(pkt, 0xee, sizeof(pkt));
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h), 20);
	assert_int_equal(pkt[0], 0x45);
	assert_int_equal(mpt_get16(pkt + 2), 50);
	assert_int_equal(mpt_get16(pkt + 6), 0x4000); /* DF, no fragment */
	assert_int_equal(mpt_csum(pkt, 20), 0);
	/* Trailing bytes beyond total length (Ethernet padding) are ignored. */
	assert_int_equal(mpt_ip_parse(&g, pkt, 64, true), 0);
	assert_int_equal(g.src.family, 4);
	assert_memory_equal(g.src.bytes, h.src.bytes, 4);
	assert_memory_equal(g.dst.bytes, h.dst.bytes, 4);
	assert_int_equal(g.proto, 6);
	assert_int_equal(g.ttl, 64);
	assert_int_equal(g.tos, 0x2e);
	assert_int_equal(g.id, 0x1234);
	assert_int_equal(g.hdr_len, 20);
	assert_int_equal(g.payload_len, 30);
	assert_int_equal(g.flow_label, 0);
	assert_int_equal(mpt_ip_parse(&g, pkt, 50, true), 0);
	assert_int_equal(mpt_ip_hdr_len(4), 20);
}

static void test_v6_roundtrip(void **state)
{
	uint8_t pkt[100];
	struct mpt_ip_hdr h = v6_hdr(32), g;

	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h), 40);
	assert_int_equal(pkt[0] >> 4, 6);
	assert_int_equal(mpt_get16(pkt + 4), 32);
	assert_int_equal(mpt_ip_parse(&g, pkt, 72, false), 0);
	assert_int_equal(g.src.family, 6);
	assert_memory_equal(g.src.bytes, h.src.bytes, 16);
	assert_memory_equal(g.dst.bytes, h.dst.bytes, 16);
	assert_int_equal(g.proto, 6);
	assert_int_equal(g.ttl, 255);
	assert_int_equal(g.tos, 0xb8);
	assert_int_equal(g.flow_label, 0xabcde);
	assert_int_equal(g.id, 0);
	assert_int_equal(g.hdr_len, 40);
	assert_int_equal(g.payload_len, 32);
	assert_int_equal(mpt_ip_hdr_len(6), 40);
	assert_int_equal(mpt_ip_hdr_len(5), 0);
}

static void test_random_roundtrip(void **state)
{
	uint8_t pkt[64];

	rng_state = 791;
	for (int it = 0; it < 2000; it++) {
		struct mpt_ip_hdr h, g;
		bool v6 = it & 1;

		memset(&h, 0, sizeof(h));
		h.src.family = h.dst.family = v6 ? 6 : 4;
		for (int i = 0; i < (v6 ? 16 : 4); i++) {
			h.src.bytes[i] = (uint8_t)rnd();
			h.dst.bytes[i] = (uint8_t)rnd();
		}
		h.proto = (uint8_t)rnd();
		if (v6 && (h.proto == 0 || h.proto == 43 || h.proto == 44 || h.proto == 51 ||
			   h.proto == 60))
			h.proto = 6; /* would be walked as an ext header */
		h.ttl = (uint8_t)rnd();
		h.tos = (uint8_t)rnd();
		if (!v6)
			h.id = (uint16_t)rnd();
		else
			h.flow_label = (uint32_t)rnd() & 0xfffff;
		h.payload_len = (size_t)(rnd() % 24);
		int n = mpt_ip_emit(pkt, sizeof(pkt), &h);
		assert_int_equal(n, v6 ? 40 : 20);
		assert_int_equal(mpt_ip_parse(&g, pkt, (size_t)n + h.payload_len, true), 0);
		h.hdr_len = (size_t)n;
		assert_memory_equal(&g.src, &h.src, sizeof(h.src));
		assert_memory_equal(&g.dst, &h.dst, sizeof(h.dst));
		assert_int_equal(g.proto, h.proto);
		assert_int_equal(g.ttl, h.ttl);
		assert_int_equal(g.tos, h.tos);
		assert_int_equal(g.id, h.id);
		assert_int_equal(g.flow_label, h.flow_label);
		assert_int_equal(g.hdr_len, h.hdr_len);
		assert_int_equal(g.payload_len, h.payload_len);
	}
}

static void test_emit_errors(void **state)
{
	uint8_t pkt[64];
	struct mpt_ip_hdr h = v4_hdr(10);

	assert_int_equal(mpt_ip_emit(pkt, 19, &h), MPT_ERR_NOSPACE);
	h.payload_len = 65535 - 20 + 1;
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h), MPT_ERR_INVAL);
	h.payload_len = 65535 - 20;
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h), 20);
	h.dst.family = 6;
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h), MPT_ERR_INVAL);
	h.src.family = h.dst.family = 5;
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h), MPT_ERR_INVAL);
	assert_int_equal(mpt_ip_emit(NULL, sizeof(pkt), &h), MPT_ERR_INVAL);
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), NULL), MPT_ERR_INVAL);

	struct mpt_ip_hdr h6 = v6_hdr(10);
	assert_int_equal(mpt_ip_emit(pkt, 39, &h6), MPT_ERR_NOSPACE);
	h6.payload_len = 65536;
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h6), MPT_ERR_INVAL);
	h6.payload_len = 65535;
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h6), 40);
	h6.flow_label = 0x100000;
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h6), MPT_ERR_INVAL);
}

static void test_v4_options(void **state)
{
	uint8_t pkt[80];
	struct mpt_ip_hdr g;

	for (unsigned ihl = 6; ihl <= 15; ihl++) {
		size_t hl = ihl * 4;
		memset(pkt, 0, sizeof(pkt));
		struct mpt_ip_hdr h = v4_hdr(8);
		assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h), 20);
		memset(pkt + 20, 0x01, hl - 20); /* NOP options */
		pkt[0] = (uint8_t)(0x40 | ihl);
		mpt_put16(pkt + 2, (uint16_t)(hl + 8));
		fix_csum4(pkt);
		assert_int_equal(mpt_ip_parse(&g, pkt, hl + 8, true), 0);
		assert_int_equal(g.hdr_len, hl);
		assert_int_equal(g.payload_len, 8);
		assert_int_equal(g.proto, 6);
		/* The checksum covers the options too. */
		pkt[hl - 1] ^= 0x10;
		assert_int_equal(mpt_ip_parse(&g, pkt, hl + 8, true), MPT_ERR_CHECKSUM);
		assert_int_equal(mpt_ip_parse(&g, pkt, hl + 8, false), 0);
	}
}

static void test_v4_bad(void **state)
{
	uint8_t pkt[60], t[60];
	struct mpt_ip_hdr h = v4_hdr(20), g;

	memset(pkt, 0x5a, sizeof(pkt));
	assert_int_equal(mpt_ip_emit(pkt, sizeof(pkt), &h), 20);
	assert_int_equal(mpt_ip_parse(&g, pkt, 40, true), 0);

	/* bad versions */
	for (unsigned v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		memcpy(t, pkt, sizeof(t));
		t[0] = (uint8_t)(v << 4 | 5);
		assert_int_equal(mpt_ip_parse(&g, t, 40, false), MPT_ERR_PROTO);
	}
	/* IHL < 5 */
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		memcpy(t, pkt, sizeof(t));
		t[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(mpt_ip_parse(&g, t, 40, false), MPT_ERR_BADLEN);
	}
	/* IHL beyond the buffer (60 > 40) */
	memcpy(t, pkt, sizeof(t));
	t[0] = 0x4f;
	assert_int_equal(mpt_ip_parse(&g, t, 40, false), MPT_ERR_TRUNCATED);
	/* total length > buffer */
	memcpy(t, pkt, sizeof(t));
	mpt_put16(t + 2, 41);
	fix_csum4(t);
	assert_int_equal(mpt_ip_parse(&g, t, 40, true), MPT_ERR_TRUNCATED);
	/* total length < IHL */
	mpt_put16(t + 2, 19);
	fix_csum4(t);
	assert_int_equal(mpt_ip_parse(&g, t, 40, true), MPT_ERR_BADLEN);
	t[0] = 0x46;
	mpt_put16(t + 2, 23);
	fix_csum4(t);
	assert_int_equal(mpt_ip_parse(&g, t, 40, true), MPT_ERR_BADLEN);
	/* bad checksum, and verify_csum=false accepting it */
	memcpy(t, pkt, sizeof(t));
	t[10] ^= 0x01;
	assert_int_equal(mpt_ip_parse(&g, t, 40, true), MPT_ERR_CHECKSUM);
	assert_int_equal(mpt_ip_parse(&g, t, 40, false), 0);
	assert_int_equal(g.payload_len, 20);
	/* MF fragment */
	memcpy(t, pkt, sizeof(t));
	mpt_put16(t + 6, 0x2000);
	fix_csum4(t);
	assert_int_equal(mpt_ip_parse(&g, t, 40, true), MPT_ERR_FRAGMENT);
	/* offset fragment (last piece, MF clear), with and without DF */
	mpt_put16(t + 6, 0x00b9);
	fix_csum4(t);
	assert_int_equal(mpt_ip_parse(&g, t, 40, true), MPT_ERR_FRAGMENT);
	mpt_put16(t + 6, 0x4001);
	fix_csum4(t);
	assert_int_equal(mpt_ip_parse(&g, t, 40, true), MPT_ERR_FRAGMENT);
	/* DF alone is not a fragment; neither is no flag at all */
	mpt_put16(t + 6, 0x0000);
	fix_csum4(t);
	assert_int_equal(mpt_ip_parse(&g, t, 40, true), 0);
	/* NULL handling */
	assert_int_equal(mpt_ip_parse(NULL, pkt, 40, true), MPT_ERR_INVAL);
	assert_int_equal(mpt_ip_parse(&g, NULL, 40, true), MPT_ERR_INVAL);
	assert_int_equal(mpt_ip_parse(&g, NULL, 0, true), MPT_ERR_TRUNCATED);
}

/* Append an 8*(hlen8+1)-byte ext header at off; returns new off. */
static size_t put_ext(uint8_t *p, size_t off, uint8_t nh, uint8_t hlen8)
{
	size_t n = ((size_t)hlen8 + 1) * 8;

	memset(p + off, 0, n);
	p[off] = nh;
	p[off + 1] = hlen8;
	if (n >= 4) {
		p[off + 2] = 0x01; /* PadN-ish filler: content is never read */
		p[off + 3] = (uint8_t)(n - 4);
	}
	return off + n;
}

static void build_v6(uint8_t *p, size_t total, uint8_t first_nh)
{
	struct mpt_ip_hdr h = v6_hdr(total - 40);

	assert_int_equal(mpt_ip_emit(p, total, &h), 40);
	p[6] = first_nh;
}

static void test_v6_ext_chain(void **state)
{
	uint8_t p[256];
	struct mpt_ip_hdr g;

	/* hop-by-hop (8) -> dest options (16) -> routing (8) -> TCP, 20 payload */
	size_t total = 40 + 8 + 16 + 8 + 20;
	build_v6(p, total, 0);
	size_t off = put_ext(p, 40, 60, 0);
	off = put_ext(p, off, 43, 1);
	off = put_ext(p, off, 6, 0);
	assert_int_equal(off, 72);
	assert_int_equal(mpt_ip_parse(&g, p, total, true), 0);
	assert_int_equal(g.proto, 6);
	assert_int_equal(g.hdr_len, 72);
	assert_int_equal(g.payload_len, 20);

	/* AH: length in 4-octet units minus 2 (RFC 4302): 3 -> 20 bytes */
	total = 40 + 8 + 20 + 20;
	build_v6(p, total, 60);
	off = put_ext(p, 40, 51, 0);
	memset(p + off, 0, 20);
	p[off] = 6;
	p[off + 1] = 3;
	assert_int_equal(mpt_ip_parse(&g, p, total, true), 0);
	assert_int_equal(g.proto, 6);
	assert_int_equal(g.hdr_len, 68);
	assert_int_equal(g.payload_len, 20);

	/* No next header: proto 59, remaining bytes are opaque payload */
	total = 40 + 8 + 12;
	build_v6(p, total, 60);
	put_ext(p, 40, 59, 0);
	assert_int_equal(mpt_ip_parse(&g, p, total, true), 0);
	assert_int_equal(g.proto, 59);
	assert_int_equal(g.hdr_len, 48);
	assert_int_equal(g.payload_len, 12);

	/* Chain ending exactly at the end of the payload */
	total = 40 + 8;
	build_v6(p, total, 60);
	put_ext(p, 40, 6, 0);
	assert_int_equal(mpt_ip_parse(&g, p, total, true), 0);
	assert_int_equal(g.payload_len, 0);

	/* Hop-by-hop not first is malformed (RFC 8200 §4.1) */
	total = 40 + 16 + 20;
	build_v6(p, total, 60);
	off = put_ext(p, 40, 0, 0);
	put_ext(p, off, 6, 0);
	assert_int_equal(mpt_ip_parse(&g, p, total, true), MPT_ERR_PROTO);
}

static void test_v6_fragment(void **state)
{
	uint8_t p[128];
	struct mpt_ip_hdr g;

	size_t total = 40 + 8 + 30;
	build_v6(p, total, 44);
	memset(p + 40, 0, 8);
	p[40] = 6;
	assert_int_equal(mpt_ip_parse(&g, p, total, true), MPT_ERR_FRAGMENT);
	/* behind a destination options header */
	total = 40 + 8 + 8 + 30;
	build_v6(p, total, 60);
	put_ext(p, 40, 44, 0);
	assert_int_equal(mpt_ip_parse(&g, p, total, true), MPT_ERR_FRAGMENT);
}

static void test_v6_chain_bound(void **state)
{
	uint8_t p[40 + 8 * (MPT_IP6_MAX_EXT_HDRS + 1) + 20];
	struct mpt_ip_hdr g;

	/* Exactly MPT_IP6_MAX_EXT_HDRS headers: accepted. */
	size_t total = 40 + 8 * MPT_IP6_MAX_EXT_HDRS + 20;
	build_v6(p, total, 60);
	size_t off = 40;
	for (int i = 0; i < MPT_IP6_MAX_EXT_HDRS; i++)
		off = put_ext(p, off, i == MPT_IP6_MAX_EXT_HDRS - 1 ? 6 : 60, 0);
	assert_int_equal(mpt_ip_parse(&g, p, total, true), 0);
	assert_int_equal(g.hdr_len, off);

	/* One more: rejected. */
	total = 40 + 8 * (MPT_IP6_MAX_EXT_HDRS + 1) + 20;
	build_v6(p, total, 60);
	off = 40;
	for (int i = 0; i <= MPT_IP6_MAX_EXT_HDRS; i++)
		off = put_ext(p, off, i == MPT_IP6_MAX_EXT_HDRS ? 6 : 60, 0);
	assert_int_equal(mpt_ip_parse(&g, p, total, true), MPT_ERR_PROTO);
}

static void test_v6_overrun(void **state)
{
	uint8_t p[256];
	struct mpt_ip_hdr g;

	/* Dest options claims 16 bytes, payload has 8 (buffer has more). */
	memset(p, 0, sizeof(p));
	size_t total = 40 + 8;
	build_v6(p, total, 60);
	p[40] = 6;
	p[41] = 1;
	assert_int_equal(mpt_ip_parse(&g, p, sizeof(p), true), MPT_ERR_PROTO);
	/* Payload ends in the middle of the next header's first two bytes. */
	total = 40 + 8 + 1;
	build_v6(p, total, 60);
	put_ext(p, 40, 43, 0);
	assert_int_equal(mpt_ip_parse(&g, p, sizeof(p), true), MPT_ERR_PROTO);
	/* Empty payload with a next header announcing an ext header. */
	build_v6(p, 40, 0);
	assert_int_equal(mpt_ip_parse(&g, p, sizeof(p), true), MPT_ERR_PROTO);
	/* AH overruns (255 -> 1028 bytes). */
	total = 40 + 24;
	build_v6(p, total, 51);
	p[40] = 6;
	p[41] = 255;
	assert_int_equal(mpt_ip_parse(&g, p, sizeof(p), true), MPT_ERR_PROTO);
	/* Payload length beyond the buffer. */
	build_v6(p, 60, 6);
	assert_int_equal(mpt_ip_parse(&g, p, 59, true), MPT_ERR_TRUNCATED);
	assert_int_equal(mpt_ip_parse(&g, p, 60, true), 0);
}

/* Every prefix of a valid packet must fail cleanly (ASan catches over-reads
 * because each prefix is copied into an exactly-sized heap buffer). */
static void check_truncations(const uint8_t *pkt, size_t n)
{
	struct mpt_ip_hdr g;

	for (size_t len = 0; len < n; len++) {
		uint8_t *b = malloc(len ? len : 1);
		assert_non_null(b);
		if (len)
			memcpy(b, pkt, len);
		int rc = mpt_ip_parse(&g, b, len, true);
		assert_true(rc < 0);
		free(b);
	}
	uint8_t *b = malloc(n);
	assert_non_null(b);
	memcpy(b, pkt, n);
	assert_int_equal(mpt_ip_parse(&g, b, n, true), 0);
	free(b);
}

static void test_truncated(void **state)
{
	uint8_t p[128];

	struct mpt_ip_hdr h = v4_hdr(12);
	assert_int_equal(mpt_ip_emit(p, sizeof(p), &h), 20);
	check_truncations(p, 32);

	/* v4 with options */
	h = v4_hdr(4);
	mpt_ip_emit(p, sizeof(p), &h);
	p[0] = 0x48;
	memset(p + 20, 1, 12);
	mpt_put16(p + 2, 36);
	fix_csum4(p);
	check_truncations(p, 36);

	/* v6 with an ext chain */
	size_t total = 40 + 8 + 16 + 10;
	build_v6(p, total, 0);
	size_t off = put_ext(p, 40, 60, 0);
	put_ext(p, off, 6, 1);
	check_truncations(p, total);
}

static void test_random_garbage(void **state)
{
	uint8_t buf[128];
	struct mpt_ip_hdr g;

	rng_state = 8200791;
	for (int it = 0; it < 100000; it++) {
		size_t len = (size_t)(rnd() % sizeof(buf));
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		/* Bias towards plausible headers so deeper paths are reached. */
		if (len && (it & 1)) {
			buf[0] = (uint8_t)((it & 2 ? 0x60 : 0x40) | (buf[0] & 0x0f));
			if (len >= 6 && (it & 2)) {
				mpt_put16(buf + 4, (uint16_t)(rnd() % 100));
				buf[6] = (uint8_t[]){0, 43, 60, 51, 44, 59, 6}[rnd() % 7];
			}
		}
		uint8_t *b = malloc(len ? len : 1);
		assert_non_null(b);
		if (len)
			memcpy(b, buf, len);
		int rc = mpt_ip_parse(&g, b, len, it % 3 != 0);
		if (rc == 0) {
			assert_true(g.hdr_len + g.payload_len <= len);
			assert_true(g.hdr_len >= 20);
		} else {
			assert_true(rc == MPT_ERR_TRUNCATED || rc == MPT_ERR_BADLEN ||
				    rc == MPT_ERR_PROTO || rc == MPT_ERR_CHECKSUM ||
				    rc == MPT_ERR_FRAGMENT);
		}
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v4_roundtrip),     cmocka_unit_test(test_v6_roundtrip),
	    cmocka_unit_test(test_random_roundtrip), cmocka_unit_test(test_emit_errors),
	    cmocka_unit_test(test_v4_options),       cmocka_unit_test(test_v4_bad),
	    cmocka_unit_test(test_v6_ext_chain),     cmocka_unit_test(test_v6_fragment),
	    cmocka_unit_test(test_v6_chain_bound),   cmocka_unit_test(test_v6_overrun),
	    cmocka_unit_test(test_truncated),        cmocka_unit_test(test_random_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
