/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A server made of several stacks behind the backend group's router
 * (issue 13: one stack per thread), driven step by step without threads:
 * an MPTCP client with two addresses opens connections to one address;
 * each packet for the server goes to the stack be_group_owner names, with
 * the exception table kept by the stacks' on_flow reports.  Every join
 * (its SYN names a token, its third ACK none) must reach the stack that
 * owns its connection, every later segment too, wherever the 4-tuple
 * hashes: each connection ends with two working subflows and every byte
 * checked, no stack resets anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/group.h"
#include "mpt/backend.h"
#include "mpt/mpt.h"

#define NSHARD   2
#define NCONN    12
#define UP_BYTES (150u * 1000u) /* client -> server, per connection */
#define STEP_NS  (200u * 1000u)

struct pkt {
	struct pkt *next;
	size_t len;
	int dst; /* -1: the client, else "the server" (the router decides) */
	uint8_t data[];
};

struct net {
	struct pkt *head, *tail;
	struct mpt_stack *client;
	struct mpt_stack *srv[NSHARD];
	struct mpt_backend_group *g;
	unsigned routed[NSHARD]; /* packets each server stack got */
	unsigned join_syn_cross; /* join SYNs whose token owner is not the 4-tuple's home */
};

static struct net net;

static void enqueue(int dst, const uint8_t *p, size_t len)
{
	struct pkt *k = malloc(sizeof(*k) + len);
	assert_non_null(k);
	k->next = NULL;
	k->len = len;
	k->dst = dst;
	memcpy(k->data, p, len);
	if (net.tail)
		net.tail->next = k;
	else
		net.head = k;
	net.tail = k;
}

static void out_client(void *ud, const uint8_t *p, size_t len)
{
	(void)ud;
	enqueue(1, p, len);
}

static void out_server(void *ud, const uint8_t *p, size_t len)
{
	(void)ud;
	enqueue(-1, p, len);
}

static void on_flow(void *ud, const struct mpt_endpoint *l, const struct mpt_endpoint *r, bool up)
{
	be_group_flow(net.g, (unsigned)(uintptr_t)ud, l, r, up);
}

static uint64_t seed = 1;
static void rand_fn(uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	for (size_t i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(seed >> 56);
	}
}

static uint8_t pat(unsigned conn, uint64_t i)
{
	return (uint8_t)((i * 131u + conn * 7u) >> 3);
}

/* An IPv4 SYN (no ACK) with an MP_JOIN option (kind 30, subtype 1). */
static bool is_join_syn(const uint8_t *p, size_t len)
{
	const uint8_t *t = p + 20;
	if (len < 40 || (t[13] & 0x12) != 0x02)
		return false;
	size_t olen = (size_t)(t[12] >> 4) * 4 - 20, i = 0;
	const uint8_t *o = t + 20;
	while (i < olen && o[i] != 0) {
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 2 < olen && o[i] == 30 && o[i + 2] >> 4 == 1)
			return true;
		if (i + 1 >= olen || o[i + 1] < 2)
			break;
		i += o[i + 1];
	}
	return false;
}

/* Deliver everything queued (zero delay), then fire due timers. */
static void step(uint64_t now)
{
	for (int rounds = 0; net.head && rounds < 64; rounds++) {
		struct pkt *k = net.head;
		net.head = net.tail = NULL;
		while (k) {
			struct pkt *next = k->next;
			if (k->dst < 0) {
				(void)mpt_stack_input(net.client, k->data, k->len, now);
			} else {
				/* the reader is arbitrary: the kernel's queue choice */
				unsigned reader = (unsigned)(k->len % NSHARD);
				unsigned o = be_group_owner(net.g, k->data, k->len, reader);
				assert_true(o < NSHARD);
				net.routed[o]++;
				/* a join SYN whose 4-tuple's home is not its owner */
				if (is_join_syn(k->data, k->len)) {
					uint8_t copy[40];
					memcpy(copy, k->data, 40);
					copy[20 + 12] = 0x50; /* no options: routed by tuple */
					if (be_group_owner(net.g, copy, 40, o) != o)
						net.join_syn_cross++;
				}
				(void)mpt_stack_input(net.srv[o], k->data, k->len, now);
			}
			free(k);
			k = next;
		}
	}
	if (mpt_stack_next_deadline(net.client) <= now)
		mpt_stack_on_timer(net.client, now);
	for (unsigned i = 0; i < NSHARD; i++)
		if (mpt_stack_next_deadline(net.srv[i]) <= now)
			mpt_stack_on_timer(net.srv[i], now);
}

static uint64_t counter(struct mpt_stack *st, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(mpt_stack_counter_by_name(st, name, &v), 0);
	return v;
}

static void test_sharded_server(void **state)
{
	(void)state;
	memset(&net, 0, sizeof(net));
	assert_int_equal(mpt_backend_group_create(NSHARD, &net.g), 0);
	struct mpt_addr ca[2], sa;
	assert_int_equal(mpt_addr_parse(&ca[0], "10.0.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&ca[1], "10.0.1.1"), 0);
	assert_int_equal(mpt_addr_parse(&sa, "10.9.0.1"), 0);

	struct mpt_stack_cfg cfg;
	mpt_stack_cfg_init(&cfg);
	cfg.rand = rand_fn;
	cfg.output = out_client;
	cfg.local[0] = ca[0];
	cfg.local[1] = ca[1];
	cfg.n_local = 2;
	cfg.mptcp.enable = true;
	/* round robin: data on both subflows, so a join subflow's data
	 * segments (not only its handshake) must find their stack */
	strcpy(cfg.mptcp.sched, "rr");
	assert_int_equal(mpt_stack_create(&cfg, &net.client), 0);
	struct mpt_sock *lis[NSHARD];
	for (unsigned i = 0; i < NSHARD; i++) {
		mpt_stack_cfg_init(&cfg);
		cfg.rand = rand_fn;
		cfg.output = out_server;
		cfg.local[0] = sa;
		cfg.n_local = 1;
		cfg.mptcp.enable = true;
		cfg.shards = NSHARD;
		cfg.shard = (uint16_t)i;
		cfg.on_flow = on_flow;
		cfg.flow_ud = (void *)(uintptr_t)i;
		assert_int_equal(mpt_stack_create(&cfg, &net.srv[i]), 0);
		struct mpt_endpoint any = {.addr = sa, .port = 80};
		assert_int_equal(mpt_listen(net.srv[i], &any, 64, &lis[i]), 0);
	}

	uint64_t now = 1000000;
	struct mpt_sock *c[NCONN];
	uint64_t sent[NCONN] = {0};
	for (unsigned i = 0; i < NCONN; i++) {
		struct mpt_endpoint dst = {.addr = sa, .port = 80};
		assert_int_equal(mpt_connect(net.client, &dst, &ca[0], now, &c[i]), 0);
		mpt_sock_set_user(c[i], (void *)(uintptr_t)i);
	}
	struct mpt_sock *s[NCONN] = {0};
	unsigned s_shard[NCONN] = {0};
	uint64_t got[NCONN] = {0};
	unsigned id[NCONN] = {0};
	uint8_t seen[NCONN] = {0};
	unsigned n_acc = 0, done = 0;
	uint8_t buf[16384];
	for (unsigned it = 0; it < 200000 && done < NCONN; it++, now += STEP_NS) {
		step(now);
		for (unsigned i = 0; i < NSHARD; i++) {
			struct mpt_sock *a;
			while ((a = mpt_accept(lis[i])) != NULL) {
				assert_true(n_acc < NCONN);
				/* which client connection: by its first bytes' pattern later */
				s[n_acc] = a;
				s_shard[n_acc] = i;
				n_acc++;
			}
		}
		for (unsigned i = 0; i < NCONN; i++) {
			while (sent[i] < UP_BYTES) {
				size_t n = UP_BYTES - sent[i] < sizeof(buf)
					       ? (size_t)(UP_BYTES - sent[i])
					       : sizeof(buf);
				for (size_t k = 0; k < n; k++)
					buf[k] = sent[i] + k ? pat(i, sent[i] + k) : (uint8_t)i;
				long w = mpt_send(c[i], buf, n, now);
				if (w <= 0)
					break;
				sent[i] += (uint64_t)w;
			}
			if (sent[i] == UP_BYTES && !(mpt_sock_events(c[i]) & MPT_EV_CLOSED)) {
				(void)mpt_shutdown(c[i], now);
			}
		}
		for (unsigned j = 0; j < n_acc; j++) {
			if (!s[j])
				continue;
			long r;
			while ((r = mpt_recv(s[j], buf, sizeof(buf), now)) > 0) {
				for (long k = 0; k < r; k++) {
					uint64_t off = got[j] + (uint64_t)k;
					if (off == 0) {
						/* byte 0 names the client's connection */
						assert_true(buf[0] < NCONN);
						assert_int_equal(seen[buf[0]], 0);
						seen[buf[0]] = 1;
						id[j] = buf[0];
					} else if (buf[k] != pat(id[j], off)) {
						fail_msg("connection %u: byte %llu differs", id[j],
							 (unsigned long long)off);
					}
				}
				got[j] += (uint64_t)r;
			}
			if (r == 0) {
				assert_int_equal(got[j], UP_BYTES);
				struct mpt_subflow_info sf[4];
				int n = mpt_sock_subflows(s[j], sf, 4);
				assert_int_equal(n, 2);
				for (int k = 0; k < n; k++) {
					assert_true(sf[k].active);
					assert_true(sf[k].bytes_received > 10000);
				}
				mpt_close(s[j], now);
				s[j] = NULL;
				done++;
			}
		}
	}
	assert_int_equal(done, NCONN);
	unsigned per_shard[NSHARD] = {0};
	for (unsigned j = 0; j < n_acc; j++)
		per_shard[s_shard[j]]++;
	for (unsigned i = 0; i < NCONN; i++)
		mpt_close(c[i], now);
	for (unsigned it = 0; it < 20000; it++, now += STEP_NS)
		step(now);
	/* the closes too (subflow FINs on every subflow) found their stacks */
	for (unsigned i = 0; i < NSHARD; i++) {
		assert_true(per_shard[i] > 0);
		/* both joins' halves found their stack: no RST anywhere, and
		 * every join completed where its connection lives */
		assert_int_equal(counter(net.srv[i], "TcpOutRsts"), 0);
		assert_int_equal(counter(net.srv[i], "MPJoinAckNoRecord"), 0);
		assert_true(counter(net.srv[i], "MPJoinAckRx") > 0);
	}
	assert_int_equal(counter(net.client, "TcpOutRsts"), 0);
	/* the router had work to do: some joins lived away from their home */
	assert_true(net.join_syn_cross > 0);
	mpt_stack_destroy(net.client);
	for (unsigned i = 0; i < NSHARD; i++)
		mpt_stack_destroy(net.srv[i]);
	while (net.head) {
		struct pkt *k = net.head;
		net.head = k->next;
		free(k);
	}
	mpt_backend_group_destroy(net.g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sharded_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
