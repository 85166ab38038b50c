/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Simulator packet duplication (mpt_sim_link_cfg.dup / dup_delay_ns), used
 * by the randomized soak: the share of copies, when they arrive, that the
 * original keeps its FIFO place, determinism per seed, that a link without
 * duplication keeps its random loss pattern, and config validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt/sim.h"
#include "testmem.h"

#define MS  MPT_NS_PER_MS
#define US  MPT_NS_PER_US
#define NPK 2000

struct arrival {
	uint32_t tag;
	uint64_t t;
};

struct rx {
	struct arrival a[2 * NPK];
	size_t n;
};

static void rx_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct rx *r = ud;
	(void)ifindex;
	assert_true(len >= 24);
	assert_true(r->n < 2 * NPK);
	r->a[r->n].tag =
	    (uint32_t)pkt[20] << 24 | (uint32_t)pkt[21] << 16 | (uint32_t)pkt[22] << 8 | pkt[23];
	r->a[r->n].t = now;
	r->n++;
}

static void tx_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	(void)ud;
	(void)ifindex;
	(void)pkt;
	(void)len;
	(void)now;
}

static const struct mpt_sim_node_ops rx_ops = {.input = rx_input};
static const struct mpt_sim_node_ops tx_ops = {.input = tx_input};

struct env {
	struct mpt_test_mem m;
	struct mpt_sim *sim;
	struct mpt_sim_node *a, *b;
	struct mpt_sim_link *ab;
	struct rx rx;
	uint32_t next;
};

static void send_one(struct mpt_sim *sim, void *arg)
{
	struct env *e = arg;
	uint8_t pkt[100];
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[20] = (uint8_t)(e->next >> 24);
	pkt[21] = (uint8_t)(e->next >> 16);
	pkt[22] = (uint8_t)(e->next >> 8);
	pkt[23] = (uint8_t)e->next;
	e->next++;
	assert_int_equal(mpt_sim_send_if(sim, e->a, 0, pkt, sizeof(pkt)), 0);
	if (e->next < NPK)
		assert_int_equal(mpt_sim_at(sim, mpt_sim_now(sim) + 100 * US, send_one, e), 0);
}

static void run(struct env *e, uint64_t seed, const struct mpt_sim_link_cfg *c)
{
	struct mpt_addr x, y;
	memset(e, 0, sizeof(*e));
	mpt_test_mem_init(&e->m);
	assert_int_equal(mpt_addr_parse(&x, "10.9.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&y, "10.9.0.2"), 0);
	assert_int_equal(mpt_sim_create(&e->m.mem, seed, &e->sim), 0);
	assert_int_equal(mpt_sim_add_node(e->sim, "a", &tx_ops, e, &e->a), 0);
	assert_int_equal(mpt_sim_add_node(e->sim, "b", &rx_ops, &e->rx, &e->b), 0);
	assert_int_equal(mpt_sim_connect(e->sim, e->a, &x, e->b, &y, c, NULL, &e->ab, NULL), 0);
	assert_int_equal(mpt_sim_at(e->sim, 0, send_one, e), 0);
	assert_int_equal(mpt_sim_run(e->sim, MPT_TIME_NEVER, NULL, NULL), MPT_SIM_RUN_IDLE);
}

static void fini(struct env *e)
{
	mpt_sim_destroy(e->sim);
	assert_int_equal(e->m.live, 0);
}

static void test_dup_share_and_timing(void **state)
{
	(void)state;
	/* 100-byte packets at 8 Mbit/s take 100 us: no queue builds. */
	const struct mpt_sim_link_cfg c = {
	    .rate_bps = 8000000, .delay_ns = 5 * MS, .dup = 0.1, .dup_delay_ns = 3 * MS};
	static struct env e;
	run(&e, 7, &c);
	struct mpt_sim_link_stats st;
	mpt_sim_link_get_stats(e.ab, &st);
	/* Binomial(2000, 0.1): mean 200, sd 13.4; +-5 sd. */
	assert_true(st.duplicated >= 133 && st.duplicated <= 267);
	assert_int_equal(st.wire_pkts, NPK);
	assert_int_equal(st.delivered_pkts, NPK + st.duplicated);
	assert_int_equal(e.rx.n, NPK + st.duplicated);
	/* Each tag arrives once in order (the originals keep FIFO), and each
	 * copy exactly dup_delay after its original. */
	uint32_t want = 0;
	uint64_t first[NPK];
	size_t copies = 0;
	memset(first, 0, sizeof(first));
	for (size_t i = 0; i < e.rx.n; i++) {
		const struct arrival *a = &e.rx.a[i];
		assert_true(a->tag < NPK);
		if (a->tag == want) {
			first[want++] = a->t;
			continue;
		}
		assert_true(a->tag < want);
		assert_int_equal(a->t, first[a->tag] + 3 * MS);
		copies++;
	}
	assert_int_equal(want, NPK);
	assert_int_equal(copies, st.duplicated);
	fini(&e);
}

static void test_dup_deterministic(void **state)
{
	(void)state;
	const struct mpt_sim_link_cfg c = {
	    .delay_ns = 1 * MS, .loss = 0.05, .dup = 0.2, .dup_delay_ns = 200 * US};
	static struct env e1, e2, e3;
	run(&e1, 11, &c);
	run(&e2, 11, &c);
	run(&e3, 12, &c);
	assert_int_equal(e1.rx.n, e2.rx.n);
	assert_memory_equal(e1.rx.a, e2.rx.a, e1.rx.n * sizeof(e1.rx.a[0]));
	assert_true(e1.rx.n != e3.rx.n ||
		    memcmp(e1.rx.a, e3.rx.a, e1.rx.n * sizeof(e1.rx.a[0])) != 0);
	fini(&e1);
	fini(&e2);
	fini(&e3);
}

static void test_no_dup_keeps_loss_pattern(void **state)
{
	(void)state;
	/* dup = 0 draws nothing: the loss pattern is the one a link without
	 * the field had (same arrivals as with dup_delay set but dup off). */
	const struct mpt_sim_link_cfg c1 = {.delay_ns = 1 * MS, .loss = 0.1};
	const struct mpt_sim_link_cfg c2 = {
	    .delay_ns = 1 * MS, .loss = 0.1, .dup_delay_ns = 5 * MS};
	static struct env e1, e2;
	run(&e1, 5, &c1);
	run(&e2, 5, &c2);
	assert_int_equal(e1.rx.n, e2.rx.n);
	assert_memory_equal(e1.rx.a, e2.rx.a, e1.rx.n * sizeof(e1.rx.a[0]));
	struct mpt_sim_link_stats st;
	mpt_sim_link_get_stats(e2.ab, &st);
	assert_int_equal(st.duplicated, 0);
	fini(&e1);
	fini(&e2);
}

static void test_dup_cfg_checked(void **state)
{
	(void)state;
	struct mpt_sim *sim;
	struct mpt_sim_node *a, *b;
	struct mpt_sim_link *ab;
	struct mpt_addr x, y;
	assert_int_equal(mpt_addr_parse(&x, "10.9.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&y, "10.9.0.2"), 0);
	assert_int_equal(mpt_sim_create(NULL, 1, &sim), 0);
	assert_int_equal(mpt_sim_add_node(sim, "a", &tx_ops, NULL, &a), 0);
	assert_int_equal(mpt_sim_add_node(sim, "b", &tx_ops, NULL, &b), 0);
	struct mpt_sim_link_cfg c = {.dup = 1.5};
	assert_int_equal(mpt_sim_connect(sim, a, &x, b, &y, &c, NULL, NULL, NULL), MPT_ERR_INVAL);
	c.dup = -0.1;
	assert_int_equal(mpt_sim_connect(sim, a, &x, b, &y, &c, NULL, NULL, NULL), MPT_ERR_INVAL);
	c.dup = 1.0;
	assert_int_equal(mpt_sim_connect(sim, a, &x, b, &y, &c, NULL, &ab, NULL), 0);
	c.dup = 2.0;
	assert_int_equal(mpt_sim_link_set_cfg(ab, &c), MPT_ERR_INVAL);
	mpt_sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dup_share_and_timing),
	    cmocka_unit_test(test_dup_deterministic),
	    cmocka_unit_test(test_no_dup_keeps_loss_pattern),
	    cmocka_unit_test(test_dup_cfg_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
