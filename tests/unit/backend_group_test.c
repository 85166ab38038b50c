/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The router of a backend group (src/backend/group.c, issue 13): which
 * member owns a packet (home hash, MP_JOIN token residue, third-ACK ISN
 * residue, exception table kept by the stacks' on_flow), and the inboxes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/group.h"
#include "mpt/backend.h"

#define SYN 0x02
#define ACK 0x10

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An IPv4 TCP segment from 10.0.0.<src>:sport to 10.9.0.1:dport; opt (olen
 * bytes, a multiple of 4) after the header.  Returns its length. */
static size_t seg4(uint8_t *p, uint8_t src, uint16_t sport, uint16_t dport, uint8_t flags,
		   uint32_t ack, const uint8_t *opt, size_t olen)
{
	memset(p, 0, 20 + 20 + olen);
	p[0] = 0x45;
	p[9] = 6;
	p[12] = 10;
	p[15] = src;
	p[16] = 10;
	p[17] = 9;
	p[19] = 1;
	uint8_t *t = p + 20;
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	put32(t + 8, ack);
	t[12] = (uint8_t)(((20 + olen) / 4) << 4);
	t[13] = flags;
	if (olen)
		memcpy(t + 20, opt, olen);
	return 20 + 20 + olen;
}

static void endpoints(uint8_t src, uint16_t sport, uint16_t dport, struct mpt_endpoint *l,
		      struct mpt_endpoint *r)
{
	memset(l, 0, sizeof(*l));
	memset(r, 0, sizeof(*r));
	l->addr.family = r->addr.family = 4;
	r->addr.bytes[0] = 10;
	r->addr.bytes[3] = src;
	r->port = sport;
	l->addr.bytes[0] = 10;
	l->addr.bytes[1] = 9;
	l->addr.bytes[3] = 1;
	l->port = dport;
}

/* New flows spread over the members, both ways bounded: 4,000 tuples over
 * 2 members, each gets 45-55 % (a fair coin's 4,000 tosses stay inside
 * 47.5-52.5 % but for one time in 10^3; 45-55 % leaves no flake). */
static void test_home_spread(void **state)
{
	(void)state;
	struct mpt_backend_group *g;
	assert_int_equal(mpt_backend_group_create(2, &g), 0);
	unsigned count[2] = {0, 0};
	uint8_t p[80];
	for (unsigned i = 0; i < 4000; i++) {
		size_t n =
		    seg4(p, (uint8_t)(1 + i % 200), (uint16_t)(30000 + i), 443, SYN, 0, NULL, 0);
		unsigned o = be_group_owner(g, p, n, 0);
		assert_true(o < 2);
		count[o]++;
		/* the same packet, read by the other member: the same owner */
		assert_int_equal(be_group_owner(g, p, n, 1), o);
	}
	assert_in_range(count[0], 1800, 2200);
	assert_in_range(count[1], 1800, 2200);
	mpt_backend_group_destroy(g);
}

/* A join SYN goes to the token's residue, whatever its tuple; its third
 * ACK to the ISN's residue; the rest of the subflow, once its stack has
 * reported it, to that stack, and back home once it has left. */
static void test_join_routing(void **state)
{
	(void)state;
	for (unsigned n = 2; n <= 5; n++) {
		struct mpt_backend_group *g;
		assert_int_equal(mpt_backend_group_create(n, &g), 0);
		for (uint32_t token = 0xfffffff0u; token != 0x20; token++) {
			uint8_t syn_opt[12] = {30, 12, 0x10, 0};
			put32(syn_opt + 4, token);
			uint8_t p[80];
			uint16_t sport = (uint16_t)(40000 + token % 1000);
			size_t len = seg4(p, 7, sport, 80, SYN, 0, syn_opt, sizeof(syn_opt));
			unsigned t = token % n;
			for (unsigned self = 0; self < n; self++)
				assert_int_equal(be_group_owner(g, p, len, self), t);
			/* third ACK: MP_JOIN with the HMAC (24 bytes), ack = iss + 1 */
			uint8_t ack_opt[24] = {30, 24, 0x10, 0};
			uint32_t iss = 0xfffffff0u + token * 7u;
			uint32_t base = iss - iss % n;
			if (base > 0xffffffffu - n)
				continue; /* (the stack's own wrap rule; not this test's) */
			iss = base + t;   /* what the stack of member t picks */
			len = seg4(p, 7, sport, 80, ACK, iss + 1u, ack_opt, sizeof(ack_opt));
			for (unsigned self = 0; self < n; self++)
				assert_int_equal(be_group_owner(g, p, len, self), t);
			/* a data segment of the subflow: home until reported */
			len = seg4(p, 7, sport, 80, ACK, 12345, NULL, 0);
			unsigned h = be_group_owner(g, p, len, 0);
			struct mpt_endpoint l, r;
			endpoints(7, sport, 80, &l, &r);
			be_group_flow(g, t, &l, &r, true);
			assert_int_equal(be_group_owner(g, p, len, (t + 1) % n), t);
			/* another member's "gone" for it does not remove it */
			be_group_flow(g, (t + 1) % n, &l, &r, false);
			assert_int_equal(be_group_owner(g, p, len, 0), t);
			be_group_flow(g, t, &l, &r, false);
			assert_int_equal(be_group_owner(g, p, len, 0), h);
		}
		mpt_backend_group_destroy(g);
	}
}

/* The exception table grows past its first size and shrinks back to
 * nothing: 5,000 flows reported by member 1, then removed. */
static void test_table_growth(void **state)
{
	(void)state;
	struct mpt_backend_group *g;
	assert_int_equal(mpt_backend_group_create(2, &g), 0);
	uint8_t p[80];
	unsigned exc = 0;
	for (unsigned i = 0; i < 5000; i++) {
		struct mpt_endpoint l, r;
		endpoints((uint8_t)(1 + i / 250), (uint16_t)(1024 + i), 443, &l, &r);
		be_group_flow(g, 1, &l, &r, true);
	}
	for (unsigned i = 0; i < 5000; i++) {
		size_t n =
		    seg4(p, (uint8_t)(1 + i / 250), (uint16_t)(1024 + i), 443, ACK, 1, NULL, 0);
		assert_int_equal(be_group_owner(g, p, n, 0), 1);
	}
	for (unsigned i = 0; i < 5000; i++) {
		struct mpt_endpoint l, r;
		endpoints((uint8_t)(1 + i / 250), (uint16_t)(1024 + i), 443, &l, &r);
		be_group_flow(g, 1, &l, &r, false);
	}
	for (unsigned i = 0; i < 5000; i++) {
		size_t n =
		    seg4(p, (uint8_t)(1 + i / 250), (uint16_t)(1024 + i), 443, ACK, 1, NULL, 0);
		exc += be_group_owner(g, p, n, 0) == 1;
	}
	/* back to the home hash: about half on member 1 */
	assert_in_range(exc, 2200, 2800);
	mpt_backend_group_destroy(g);
}

/* Not TCP, a later fragment, IPv6 with an extension header: the reader's. */
static void test_unrouted(void **state)
{
	(void)state;
	struct mpt_backend_group *g;
	assert_int_equal(mpt_backend_group_create(3, &g), 0);
	uint8_t p[80];
	size_t n = seg4(p, 1, 1000, 80, SYN, 0, NULL, 0);
	p[9] = 17; /* UDP */
	for (unsigned s = 0; s < 3; s++)
		assert_int_equal(be_group_owner(g, p, n, s), s);
	n = seg4(p, 1, 1000, 80, SYN, 0, NULL, 0);
	p[7] = 8; /* fragment offset 64 */
	for (unsigned s = 0; s < 3; s++)
		assert_int_equal(be_group_owner(g, p, n, s), s);
	uint8_t v6[100];
	memset(v6, 0, sizeof(v6));
	v6[0] = 0x60;
	v6[6] = 0; /* hop-by-hop options first */
	for (unsigned s = 0; s < 3; s++)
		assert_int_equal(be_group_owner(g, v6, sizeof(v6), s), s);
	assert_int_equal(be_group_owner(g, p, 10, 2), 2); /* truncated */
	mpt_backend_group_destroy(g);
}

/* Inboxes: order kept, the owner woken once per batch, bounded, closed
 * when the member leaves. */
static void test_inbox(void **state)
{
	(void)state;
	struct mpt_backend_group *g;
	assert_int_equal(mpt_backend_group_create(2, &g), 0);
	uint8_t vh[16] = {0};
	uint8_t pkt[4] = {1, 2, 3, 4};
	assert_false(be_group_push(g, 1, 0, vh, pkt, sizeof(pkt))); /* nobody there */
	int efd = eventfd(0, EFD_NONBLOCK);
	assert_true(efd >= 0);
	be_group_attach(g, 1, efd);
	unsigned accepted = 0;
	for (unsigned i = 0; i < 5000; i++) {
		pkt[0] = (uint8_t)i;
		accepted += be_group_push(g, 1, i % 3, vh, pkt, sizeof(pkt));
	}
	assert_int_equal(accepted, 4096);
	uint64_t cnt = 0;
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), (ssize_t)sizeof(cnt));
	assert_int_equal(cnt, 1);
	struct be_grp_pkt *p = be_group_take(g, 1);
	unsigned k = 0;
	while (p) {
		struct be_grp_pkt *next = p->next;
		assert_int_equal(p->data[0], (uint8_t)k);
		assert_int_equal(p->dev, k % 3);
		assert_int_equal(p->len, sizeof(pkt));
		free(p);
		p = next;
		k++;
	}
	assert_int_equal(k, 4096);
	assert_null(be_group_take(g, 1));
	assert_true(be_group_push(g, 1, 0, vh, pkt, sizeof(pkt)));
	be_group_detach(g, 1); /* frees what waited */
	assert_false(be_group_push(g, 1, 0, vh, pkt, sizeof(pkt)));
	close(efd);
	mpt_backend_group_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_home_spread),  cmocka_unit_test(test_join_routing),
	    cmocka_unit_test(test_table_growth), cmocka_unit_test(test_unrouted),
	    cmocka_unit_test(test_inbox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
