/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The path managers (src/mptcp/pm_policies.c) called through their ops
 * tables (policy.h) on an established connection.  The client's
 * connection runs the "none" path manager while the simulator brings it
 * up (one subflow, 10.0.0.1 -> 10.0.0.2; the server's fullmesh announces
 * its other addresses, which the client remembers), then a no-op one
 * (pm_hold), so that the subflows that appear afterwards are the ones the
 * test's own ops->run call opened: joins are created (SYN sent) inside
 * that call, and the simulator is not run before the checks unless a test
 * says so.  fullmesh's listener role is called on the server's
 * connection.
 *
 * What is asserted is what docs/mptcp-design.md ("Policies") and the
 * header of pm_policies.c promise: fullmesh opens one subflow per
 * (local, remote) pair within max_subflows, fresh addresses first;
 * ndiffports opens N subflows over the initial pair and ignores ADD_ADDR;
 * endpoints follows the local addresses' flags and add_addr_accept_max;
 * none opens nothing and retries nothing; mobility keeps one active
 * subflow, a standby from every other address, promotes a standby when
 * the active one turns stale, and opens a new active subflow when none is
 * left (break before make).
 */
#include "mptcp_ops_harness.h"

static struct opsx X;

static void hold_run(struct mpt_mpconn *mp, uint64_t now)
{
	(void)mp;
	(void)now;
}

static void hold_failed(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now)
{
	(void)mp;
	(void)sf;
	(void)now;
}

static bool hold_accept(struct mpt_mpconn *mp, const struct mpt_mptcp_add_addr *a)
{
	(void)mp;
	(void)a;
	return true;
}

/*
 * The engine's path manager once the connection is up: does nothing, so
 * that only the test's calls open subflows.  Not "none" itself: the engine
 * keeps a connection whose last subflow lost its address (orphan grace,
 * conn.c) only when a path manager may open another.
 */
static const struct mpt_pm_ops pm_hold = {
    .name = "hold", .run = hold_run, .sf_failed = hold_failed, .accept_addr = hold_accept};

static int teardown(void **state)
{
	(void)state;
	if (X.mp)
		X.mp->pm = &mpt_pm_none;
	opsx_stop(&X);
	return 0;
}

/* Subflows (not closed or dead) from client path li to server path ri. */
static size_t pairs(size_t li, size_t ri)
{
	size_t n = 0;
	for (size_t i = 0; i < X.mp->nsf; i++) {
		const struct mpt_subflow *sf = X.mp->sf[i];
		if (!sf->closed && !sf->dead && opsx_sf_path(sf) == (int)li &&
		    opsx_sf_rpath(sf) == (int)ri)
			n++;
	}
	return n;
}

static size_t live(void)
{
	size_t n = 0;
	for (size_t i = 0; i < X.mp->nsf; i++)
		if (!X.mp->sf[i]->closed && !X.mp->sf[i]->dead)
			n++;
	return n;
}

static size_t usable(void)
{
	size_t n = 0;
	for (size_t i = 0; i < X.mp->nsf; i++)
		if (mpt_sf_usable(X.mp->sf[i]))
			n++;
	return n;
}

static void run_pm(const struct mpt_pm_ops *ops)
{
	ops->run(X.mp, opsx_now(&X));
}

/* The starting point every test checks: one subflow, every server address known. */
static void start(const struct opsx_cfg *cfg)
{
	opsx_start(&X, cfg);
	opsx_dump(&X);
	assert_true(X.mp->fully_established);
	assert_int_equal(live(), 1);
	assert_int_equal(pairs(0, 0), 1);
	assert_int_equal(X.mp->nraddr, cfg->npaths);
	assert_true(X.mp->pm == &mpt_pm_none);
	X.mp->pm = &pm_hold;
}

/* ---- fullmesh ----------------------------------------------------------- */

/* 2 x 3 addresses: one join per pair not yet used, once. */
static void fullmesh_every_pair(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 3, .cli_local = 2, .cli_pm = "none", .max_subflows = 8};
	start(&cfg);
	run_pm(&mpt_pm_fullmesh);
	opsx_dump(&X);
	for (size_t li = 0; li < 2; li++)
		for (size_t ri = 0; ri < 3; ri++)
			assert_int_equal(pairs(li, ri), 1);
	assert_int_equal(live(), 6);
	/* Called again: no pair twice. */
	run_pm(&mpt_pm_fullmesh);
	assert_int_equal(live(), 6);
	/* The joins complete; still no more. */
	opsx_run(&X, 1 * OPS_SEC);
	assert_int_equal(usable(), 6);
	run_pm(&mpt_pm_fullmesh);
	assert_int_equal(live(), 6);
}

/* max_subflows 2: the one join takes the pair whose addresses are both
 * unused (10.0.1.1 -> 10.0.1.2), not a pair sharing the initial path's. */
static void fullmesh_limit_fresh_first(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 2, .cli_pm = "none", .max_subflows = 2};
	start(&cfg);
	run_pm(&mpt_pm_fullmesh);
	opsx_dump(&X);
	assert_int_equal(live(), 2);
	assert_int_equal(pairs(1, 1), 1);
	assert_int_equal(pairs(0, 1) + pairs(1, 0), 0);
	opsx_run(&X, 1 * OPS_SEC);
	run_pm(&mpt_pm_fullmesh);
	assert_int_equal(live(), 2);
	assert_int_equal(usable(), 2);
}

/* A failed subflow's pair is tried again, after a backoff (sf_failed). */
static void fullmesh_retry_after_failure(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 2, .cli_pm = "none", .max_subflows = 2};
	start(&cfg);
	run_pm(&mpt_pm_fullmesh);
	assert_int_equal(pairs(1, 1), 1);
	struct mpt_subflow *j = X.mp->sf[X.mp->nsf - 1];
	assert_int_equal(opsx_sf_path(j), 1);
	mpt_pm_fullmesh.sf_failed(X.mp, j, opsx_now(&X));
	assert_true(X.mp->retry_at[1][1] > opsx_now(&X));
}

/* Listener side: fullmesh announces every other local address (and
 * opens nothing); the client learns them from the ADD_ADDRs. */
static void fullmesh_listener_announces(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 3, .cli_pm = "none", .srv_pm = "none"};
	opsx_start(&X, &cfg);
	X.mp->pm = &pm_hold;
	assert_int_equal(X.mp->nraddr, 1); /* the server announced nothing */
	struct mpt_sock *ss = mpt_accept(X.ls);
	assert_non_null(ss);
	struct mpt_mpconn *smp = mpt_stack_sock_conn(ss);
	assert_non_null(smp);
	assert_true(smp->passive);
	assert_int_equal(smp->nann, 0);
	size_t nsf = smp->nsf;
	mpt_pm_fullmesh.run(smp, opsx_now(&X));
	assert_int_equal(smp->nann, 2);
	assert_int_equal(smp->nsf, nsf);
	for (size_t k = 0; k < 2; k++) {
		struct mpt_addr a;
		opsx_addr(&a, k + 1, 2);
		assert_true(mpt_addr_equal(&smp->ann[k].addr, &a));
	}
	/* The op ran outside the stack's entry points: the flush it asked
	 * for is written when the connection runs next (here: a write). */
	assert_int_equal(mpt_send(ss, "x", 1, opsx_now(&X)), 1);
	opsx_run(&X, 1 * OPS_SEC);
	assert_int_equal(X.mp->nraddr, 3);
	assert_int_equal(live(), 1); /* the client's held PM opened nothing */
}

/* ---- ndiffports --------------------------------------------------------- */

static void ndiffports_same_pair(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 2, .cli_pm = "none", .ndiffports = 4};
	start(&cfg);
	run_pm(&mpt_pm_ndiffports);
	opsx_dump(&X);
	assert_int_equal(live(), 4);
	assert_int_equal(pairs(0, 0), 4);
	/* Different source ports. */
	for (size_t i = 0; i < X.mp->nsf; i++)
		for (size_t k = i + 1; k < X.mp->nsf; k++)
			assert_int_not_equal(X.mp->sf[i]->flow->local.port,
					     X.mp->sf[k]->flow->local.port);
	run_pm(&mpt_pm_ndiffports);
	assert_int_equal(live(), 4);
	opsx_run(&X, 1 * OPS_SEC);
	assert_int_equal(usable(), 4);
	/* ADD_ADDR is not used. */
	struct mpt_mptcp_add_addr a;
	memset(&a, 0, sizeof(a));
	assert_false(mpt_pm_ndiffports.accept_addr(X.mp, &a));
}

/* ---- endpoints ---------------------------------------------------------- */

/*
 * Client addresses: 10.0.0.1 (initial), 10.0.1.1 flagged subflow,
 * 10.0.2.1 flagged nothing, 10.0.3.1 flagged fullmesh.  Server addresses
 * 10.0.0-3.2 (three announced).  Expected joins: 1 -> 0 (subflow: to the
 * initial remote address only); 0 -> 1, 0 -> 2, 0 -> 3 (announced
 * addresses, from the initial local address); 3 -> every remote address;
 * nothing from 10.0.2.1.
 */
static void endpoints_flags(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 4,
			       .cli_pm = "none",
			       .max_subflows = 16,
			       .cli_flags = {0, MPT_LOCAL_SUBFLOW, 0, MPT_LOCAL_FULLMESH}};
	start(&cfg);
	X.mp->k.max_join_pending = 16;
	run_pm(&mpt_pm_endpoints);
	opsx_dump(&X);
	static const size_t want[4][4] = {
	    {1, 1, 1, 1}, /* 0 -> 0 is the initial subflow */
	    {1, 0, 0, 0},
	    {0, 0, 0, 0},
	    {1, 1, 1, 1},
	};
	for (size_t li = 0; li < 4; li++)
		for (size_t ri = 0; ri < 4; ri++) {
			if (pairs(li, ri) != want[li][ri])
				fail_msg("pair %zu -> %zu: %zu subflows, want %zu", li, ri,
					 pairs(li, ri), want[li][ri]);
		}
	run_pm(&mpt_pm_endpoints);
	assert_int_equal(live(), 9);
}

/* add_addr_accept_max bounds the ADD_ADDRs accepted. */
static void endpoints_accept_max(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 1, .cli_pm = "none"};
	start(&cfg);
	struct mpt_mptcp_add_addr a;
	memset(&a, 0, sizeof(a));
	X.mp->k.add_addr_accept_max = 2;
	X.mp->add_addr_accepted = 1;
	assert_true(mpt_pm_endpoints.accept_addr(X.mp, &a));
	X.mp->add_addr_accepted = 2;
	assert_false(mpt_pm_endpoints.accept_addr(X.mp, &a));
	/* fullmesh and mobility take any. */
	assert_true(mpt_pm_fullmesh.accept_addr(X.mp, &a));
	assert_true(mpt_pm_mobility.accept_addr(X.mp, &a));
}

/* A signal-flagged address is announced (queued as ADD_ADDR). */
static void endpoints_signal(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {
	    .npaths = 3, .cli_pm = "none", .cli_flags = {0, MPT_LOCAL_SIGNAL, 0}};
	start(&cfg);
	size_t before = X.mp->nann;
	run_pm(&mpt_pm_endpoints);
	assert_int_equal(X.mp->nann, before + 1);
	struct mpt_addr a1;
	opsx_addr(&a1, 1, 1);
	assert_true(mpt_addr_equal(&X.mp->ann[X.mp->nann - 1].addr, &a1));
}

/* ---- none --------------------------------------------------------------- */

static void none_opens_nothing(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 3, .cli_pm = "none"};
	start(&cfg);
	run_pm(&mpt_pm_none);
	opsx_run(&X, 1 * OPS_SEC);
	run_pm(&mpt_pm_none);
	assert_int_equal(live(), 1);
	assert_int_equal(X.mp->nann, 0);
	/* A failure schedules no retry. */
	mpt_pm_none.sf_failed(X.mp, X.mp->sf[0], opsx_now(&X));
	for (size_t li = 0; li < 3; li++)
		for (size_t ri = 0; ri < X.mp->nraddr; ri++)
			assert_true(X.mp->retry_at[li][ri] == 0);
	/* The same state under fullmesh does open subflows (the check above
	 * can fail). */
	run_pm(&mpt_pm_fullmesh);
	assert_true(live() > 1);
}

/* ---- mobility ----------------------------------------------------------- */

static struct mpt_subflow *on_path(size_t li)
{
	for (size_t i = 0; i < X.mp->nsf; i++) {
		struct mpt_subflow *sf = X.mp->sf[i];
		if (!sf->closed && !sf->dead && opsx_sf_path(sf) == (int)li)
			return sf;
	}
	return NULL;
}

/* A standby from the other address, to the peer's initial address, with
 * the B flag; the active one stays regular. */
static void mobility_standby_and_promote(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 2, .cli_pm = "none"};
	start(&cfg);
	struct mpt_subflow *a = on_path(0);
	run_pm(&mpt_pm_mobility);
	opsx_dump(&X);
	assert_int_equal(live(), 2);
	assert_int_equal(pairs(1, 0), 1);
	struct mpt_subflow *b = on_path(1);
	assert_non_null(b);
	assert_true(b->backup);
	assert_false(a->backup);
	/* One join at a time, and no second standby for the same address. */
	opsx_run(&X, 1 * OPS_SEC);
	assert_true(mpt_sf_usable(b));
	run_pm(&mpt_pm_mobility);
	assert_int_equal(live(), 2);
	assert_false(a->backup);
	assert_true(b->backup);
	/* The active one turns stale: the standby is promoted (MP_PRIO), the
	 * old one becomes backup. */
	a->stale = true;
	run_pm(&mpt_pm_mobility);
	assert_false(b->backup);
	assert_true(b->prio_pending);
	assert_true(a->backup);
	/* It recovers: no flapping back, the promoted one stays active. */
	a->stale = false;
	run_pm(&mpt_pm_mobility);
	assert_false(b->backup);
	assert_true(a->backup);
}

/* The active path's address goes: the standby takes over; with no
 * subflow left, a new one from the remaining address (break before make),
 * regular. */
static void mobility_address_gone(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 3, .cli_pm = "none"};
	start(&cfg);
	struct mpt_subflow *a = on_path(0);
	run_pm(&mpt_pm_mobility);
	assert_int_equal(live(), 2); /* one join at a time */
	run_pm(&mpt_pm_mobility);
	assert_int_equal(live(), 2); /* not while it is pending */
	opsx_run(&X, 1 * OPS_SEC);
	run_pm(&mpt_pm_mobility);
	assert_int_equal(live(), 3);
	opsx_run(&X, 1 * OPS_SEC);
	opsx_dump(&X);
	assert_int_equal(usable(), 3);
	struct mpt_subflow *b = on_path(1), *c = on_path(2);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(b->backup && c->backup && !a->backup);
	/* 10.0.0.1 goes. */
	struct mpt_addr a0;
	opsx_addr(&a0, 0, 1);
	assert_int_equal(mpt_stack_remove_local_addr(mpt_simhost_stack(X.c), &a0, opsx_now(&X)), 0);
	assert_null(on_path(0));
	run_pm(&mpt_pm_mobility);
	opsx_dump(&X);
	/* The newest standby is promoted; exactly one regular subflow. */
	assert_false(c->backup);
	assert_true(b->backup);
	/* The promoted one's address goes too: the last standby takes over. */
	struct mpt_addr a2;
	opsx_addr(&a2, 2, 1);
	assert_int_equal(mpt_stack_remove_local_addr(mpt_simhost_stack(X.c), &a2, opsx_now(&X)), 0);
	assert_null(on_path(2));
	assert_true(b->backup);
	run_pm(&mpt_pm_mobility);
	assert_false(b->backup);
	assert_true(b->prio_pending);
	assert_int_equal(live(), 1);
	assert_false(X.mp->closed);
}

/* The only subflow's link goes down and its address is removed (what the
 * tools do on a netlink link-down), no standby was opened yet: the next
 * run opens a regular subflow from the other address (break before
 * make). */
static void mobility_break_before_make(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 2, .cli_pm = "none"};
	start(&cfg);
	struct mpt_addr a0;
	opsx_addr(&a0, 0, 1);
	opsx_path_down(&X, 0);
	assert_int_equal(mpt_stack_remove_local_addr(mpt_simhost_stack(X.c), &a0, opsx_now(&X)), 0);
	assert_int_equal(live(), 0);
	assert_false(X.mp->closed); /* orphaned, within its grace */
	run_pm(&mpt_pm_mobility);
	opsx_dump(&X);
	assert_int_equal(live(), 1);
	assert_int_equal(pairs(1, 0), 1);
	struct mpt_subflow *n = on_path(1);
	assert_false(n->backup);
	assert_false(X.mp->closed); /* orphaned, within its grace */
	/* One join at a time: no second one while it waits for its SYN/ACK
	 * (here it never gets one: the server's address is behind the dead
	 * link in this topology, so the test stops at the policy's choice). */
	run_pm(&mpt_pm_mobility);
	assert_int_equal(live(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(fullmesh_every_pair, teardown),
	    cmocka_unit_test_teardown(fullmesh_limit_fresh_first, teardown),
	    cmocka_unit_test_teardown(fullmesh_retry_after_failure, teardown),
	    cmocka_unit_test_teardown(fullmesh_listener_announces, teardown),
	    cmocka_unit_test_teardown(ndiffports_same_pair, teardown),
	    cmocka_unit_test_teardown(endpoints_flags, teardown),
	    cmocka_unit_test_teardown(endpoints_accept_max, teardown),
	    cmocka_unit_test_teardown(endpoints_signal, teardown),
	    cmocka_unit_test_teardown(none_opens_nothing, teardown),
	    cmocka_unit_test_teardown(mobility_standby_and_promote, teardown),
	    cmocka_unit_test_teardown(mobility_address_gone, teardown),
	    cmocka_unit_test_teardown(mobility_break_before_make, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
