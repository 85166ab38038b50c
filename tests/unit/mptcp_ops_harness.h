/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Harness for the policy unit tests (mptcp_sched_ops_test.c,
 * mptcp_pm_ops_test.c): a real MPTCP connection, brought to an
 * established state in the simulator, whose scheduler / path-manager ops
 * the tests then call directly.  Building a struct mpt_mpconn by hand
 * would mean building its subflows' TCP engines, flows and buffers too;
 * a simulated handshake gives consistent ones, and the tests then set the
 * fields a policy reads (RTT estimates, windows, backup and stale flags)
 * between calls.
 *
 * Client and server are joined by up to four paths: path i is client
 * 10.0.i.1 <-> server 10.0.i.2.
 */
#ifndef MPTCP_OPS_HARNESS_H
#define MPTCP_OPS_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/host.h"
#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"
#include "mptcp/mptcp.h"
#include "mptcp/policy.h"
#include "tcp/tcp_internal.h"
#include "testmem.h"

#define OPS_MS  UINT64_C(1000000)
#define OPS_SEC UINT64_C(1000000000)

struct opsx {
	struct mpt_test_mem mem;
	struct mpt_sim *sim;
	struct mpt_simhost *c, *s;
	struct mpt_sock *ls, *cs;
	struct mpt_mpconn *mp;              /* the client's connection */
	struct mpt_sim_link *lf[4], *lr[4]; /* path i: client -> server, back */
	size_t npaths;
};

struct opsx_cfg {
	size_t npaths;
	const char *cli_pm, *srv_pm; /* NULL: the default */
	const char *sched;           /* NULL: the default */
	uint8_t max_subflows;        /* 0: 8 */
	uint8_t ndiffports;          /* 0: the default */
	uint8_t cli_flags[4];        /* client local_flags per path */
	size_t cli_local;            /* client local addresses (0: npaths) */
	uint64_t run_ns;             /* simulated time before the tests (0: 2 s) */
};

static inline void opsx_addr(struct mpt_addr *a, size_t path, int host)
{
	char t[32];
	snprintf(t, sizeof(t), "10.0.%zu.%d", path, host);
	assert_int_equal(mpt_addr_parse(a, t), 0);
}

static inline void opsx_knob(char *dst, const char *name)
{
	if (name) {
		memset(dst, 0, MPT_POLICY_NAME_LEN);
		strncpy(dst, name, MPT_POLICY_NAME_LEN - 1);
	}
}

/* Build both hosts, connect, and run until run_ns. */
static inline void opsx_start(struct opsx *x, const struct opsx_cfg *cfg)
{
	memset(x, 0, sizeof(*x));
	mpt_test_mem_init(&x->mem);
	x->npaths = cfg->npaths;
	/* The simulator and the stacks keep the pointer: it must outlive them. */
	assert_int_equal(mpt_sim_create(&x->mem.mem, 1, &x->sim), 0);
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.mem = &x->mem.mem;
	cc.tcp.sndbuf = cc.tcp.rcvbuf = 4u << 20;
	cc.mptcp.enable = true;
	cc.mptcp.max_subflows = cfg->max_subflows ? cfg->max_subflows : 8;
	sv = cc;
	size_t nl = cfg->cli_local ? cfg->cli_local : cfg->npaths;
	for (size_t i = 0; i < cfg->npaths; i++) {
		opsx_addr(&cc.local[i], i, 1);
		opsx_addr(&sv.local[i], i, 2);
		cc.local_flags[i] = cfg->cli_flags[i];
	}
	cc.n_local = nl;
	sv.n_local = cfg->npaths;
	opsx_knob(cc.mptcp.pm, cfg->cli_pm);
	opsx_knob(sv.mptcp.pm, cfg->srv_pm);
	opsx_knob(cc.mptcp.sched, cfg->sched);
	if (cfg->ndiffports)
		cc.mptcp.ndiffports = cfg->ndiffports;
	assert_int_equal(mpt_simhost_create(x->sim, "client", &cc, &x->c), 0);
	assert_int_equal(mpt_simhost_create(x->sim, "server", &sv, &x->s), 0);
	for (size_t i = 0; i < cfg->npaths; i++) {
		struct mpt_sim_link_cfg l;
		memset(&l, 0, sizeof(l));
		l.rate_bps = 100000000;
		l.delay_ns = 5 * OPS_MS;
		l.queue_bytes = 1u << 20;
		assert_int_equal(mpt_sim_connect(x->sim, mpt_simhost_node(x->c), &cc.local[i],
						 mpt_simhost_node(x->s), &sv.local[i], &l, &l,
						 &x->lf[i], &x->lr[i]),
				 0);
	}
	struct mpt_endpoint any = {.port = 5001};
	assert_int_equal(mpt_listen(mpt_simhost_stack(x->s), &any, 16, &x->ls), 0);
	struct mpt_endpoint dst = {.addr = sv.local[0], .port = 5001};
	assert_int_equal(
	    mpt_connect_ex(mpt_simhost_stack(x->c), &dst, NULL, NULL, mpt_sim_now(x->sim), &x->cs),
	    0);
	(void)mpt_sim_run(x->sim, cfg->run_ns ? cfg->run_ns : 2 * OPS_SEC, NULL, NULL);
	assert_true(mpt_sock_mptcp_enabled(x->cs));
	x->mp = mpt_stack_sock_conn(x->cs);
	assert_non_null(x->mp);
	/* A join's first segment at its fourth ACK's DATA_ACK (sched.c
	 * join_first) is not the policies' doing: release the joins as if it
	 * had been sent (mptcp_sched_ops_test checks it on its own). */
	for (size_t i = 0; i < x->mp->nsf; i++)
		x->mp->sf[i]->join_pin = false;
}

/* Path i stops carrying anything, both ways (a link down). */
static inline void opsx_path_down(struct opsx *x, size_t i)
{
	struct mpt_sim_link_cfg l;
	memset(&l, 0, sizeof(l));
	l.rate_bps = 100000000;
	l.delay_ns = 5 * OPS_MS;
	l.queue_bytes = 1u << 20;
	l.loss = 1.0;
	assert_int_equal(mpt_sim_link_set_cfg(x->lf[i], &l), 0);
	assert_int_equal(mpt_sim_link_set_cfg(x->lr[i], &l), 0);
}

static inline void opsx_run(struct opsx *x, uint64_t ns)
{
	(void)mpt_sim_run(x->sim, mpt_sim_now(x->sim) + ns, NULL, NULL);
}

static inline uint64_t opsx_now(const struct opsx *x)
{
	return mpt_sim_now(x->sim);
}

static inline void opsx_stop(struct opsx *x)
{
	mpt_abort(x->cs, mpt_sim_now(x->sim));
	opsx_run(x, 5 * OPS_SEC);
	mpt_simhost_destroy(x->c);
	mpt_simhost_destroy(x->s);
	mpt_sim_destroy(x->sim);
	assert_int_equal(x->mem.live, 0);
}

/* Index of the client's local address a subflow leaves from (path), or -1. */
static inline int opsx_sf_path(const struct mpt_subflow *sf)
{
	for (size_t i = 0; i < 4; i++) {
		struct mpt_addr a;
		opsx_addr(&a, i, 1);
		if (sf->flow && mpt_addr_equal(&sf->flow->local.addr, &a))
			return (int)i;
	}
	return -1;
}

/* Same for the remote address (the server's path index), or -1. */
static inline int opsx_sf_rpath(const struct mpt_subflow *sf)
{
	for (size_t i = 0; i < 4; i++) {
		struct mpt_addr a;
		opsx_addr(&a, i, 2);
		if (sf->flow && mpt_addr_equal(&sf->flow->remote.addr, &a))
			return (int)i;
	}
	return -1;
}

/* A counter of host h's stack by name (fails the test for an unknown one). */
static inline uint64_t opsx_counter(struct mpt_simhost *h, const char *name)
{
	const struct mpt_stack *st = mpt_simhost_stack(h);
	for (int i = 0; i < mpt_counter_count(); i++)
		if (!strcmp(mpt_counter_name(i), name))
			return mpt_stack_counter(st, i);
	fail_msg("no counter %s", name);
	return 0;
}

static inline void opsx_dump(const struct opsx *x)
{
	const struct mpt_mpconn *mp = x->mp;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		printf("  sf[%zu] path %d -> %d port %u usable %d backup %d stale %d join %u\n", i,
		       opsx_sf_path(sf), opsx_sf_rpath(sf), sf->flow ? sf->flow->local.port : 0,
		       mpt_sf_usable(sf), sf->backup, sf->stale, sf->join);
	}
}

#endif /* MPTCP_OPS_HARNESS_H */
