/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection's data-level stall timeout (conn.c drtx_stalled, knob
 * mptcp.stall_timeout_ns): DATA_ACK unmoved for that long while data is
 * outstanding and the peer's window open fails the connection with
 * MPT_ERR_TIMEDOUT (counter MPTCPDataStall) when a subflow acknowledged
 * the byte at DATA_ACK (the peer holds it and does not deliver it); a
 * closed window (a reader that does not read) or paths that deliver
 * nothing never do, however long.
 */
#include "mptcp_ops_harness.h"

static struct opsx X;
static uint8_t buf[256 * 1024];

static uint64_t counter(const char *name)
{
	return opsx_counter(X.c, name);
}

static int setup(void **state)
{
	(void)state;
	struct opsx_cfg cfg = {.npaths = 2};
	opsx_start(&X, &cfg);
	assert_true(X.mp->fully_established);
	assert_true(X.mp->k.stall_timeout_ns == 0); /* the default: never */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	opsx_stop(&X);
	return 0;
}

/* The server application: takes the connection, reads what is there. */
static struct mpt_sock *srv;
static uint8_t sink[256 * 1024];

static void server_read(void)
{
	if (!srv)
		srv = mpt_accept(X.ls);
	while (srv && mpt_recv(srv, sink, sizeof(sink), opsx_now(&X)) > 0)
		;
}

/* The peer's subflows acknowledge, its DATA_ACK stops (the simulator's
 * FREEZE_DATA_ACK box on the way back), its window stays open. */
static struct mpt_sim_mbox *freeze(uint64_t at)
{
	struct mpt_sim_mbox_cfg m;
	memset(&m, 0, sizeof(m));
	m.kind = MPT_SIM_MBOX_FREEZE_DATA_ACK;
	m.freeze_at = at;
	/* One box per way back (each freezes at its first DATA_ACK then;
	 * the sender keeps the larger). */
	struct mpt_sim_mbox *mb = NULL;
	for (size_t i = 0; i < X.npaths; i++)
		assert_int_equal(mpt_sim_mbox_add(X.lr[i], NULL, &m, i == 0 ? &mb : NULL), 0);
	return mb;
}

static void stall_fails_connection(void **state)
{
	(void)state;
	X.mp->k.stall_timeout_ns = 30 * OPS_SEC;
	struct mpt_sim_mbox *mb = freeze(opsx_now(&X) + OPS_SEC);
	uint64_t t0 = opsx_now(&X);
	/* Data keeps coming from the application. */
	srv = NULL;
	while (opsx_now(&X) - t0 < 29 * OPS_SEC) {
		(void)mpt_send(X.cs, buf, sizeof(buf), opsx_now(&X));
		server_read();
		opsx_run(&X, 100 * OPS_MS);
	}
	assert_non_null(srv);
	/* Not before the timeout (from the freeze, 1 s in). */
	assert_int_equal(mpt_sock_error(X.cs), 0);
	assert_int_equal(counter("MPTCPDataStall"), 0);
	struct mpt_sim_mbox_stats st;
	mpt_sim_mbox_get_stats(mb, &st);
	assert_true(st.frozen_acks > 10);
	/* The window stayed open: this is no paused reader.  And with two
	 * subflows, what went beyond the frozen DATA_ACK is seven eighths
	 * of it (knob wnd_share, sched.c), all that went. */
	assert_true(mpt_dsn_gt(X.mp->wnd_end, X.mp->snd.una + 8192));
	uint64_t w = X.mp->wnd_end - X.mp->snd.una;
	assert_true(X.mp->snd_nxt - X.mp->snd.una == w * 224 / 256);
	/* After it, at the next data-level timer (which backs off to 60 s). */
	for (int i = 0; i < 63; i++) {
		server_read();
		opsx_run(&X, OPS_SEC);
	}
	assert_int_equal(mpt_sock_error(X.cs), MPT_ERR_TIMEDOUT);
	assert_int_equal(counter("MPTCPDataStall"), 1);
	assert_true(mpt_sock_events(X.cs) & MPT_EV_ERROR);
	assert_int_equal(mpt_send(X.cs, buf, 1, opsx_now(&X)), MPT_ERR_TIMEDOUT);
	/* The peer got an MP_FASTCLOSE (RFC 8684 §3.5). */
	opsx_run(&X, OPS_SEC);
	assert_true(opsx_counter(X.s, "MPFastcloseRx") >= 1);
}

/* The server never reads: its window closes and stays closed for ten
 * minutes, and the connection lives on. */
static void closed_window_is_no_stall(void **state)
{
	(void)state;
	X.mp->k.stall_timeout_ns = 30 * OPS_SEC;
	size_t total = 0;
	for (int i = 0; i < 400 && total < (64u << 20); i++) {
		long r = mpt_send(X.cs, buf, sizeof(buf), opsx_now(&X));
		if (r > 0)
			total += (size_t)r;
		opsx_run(&X, 50 * OPS_MS);
	}
	/* The server's buffers are full: what is left of its window is a
	 * few bytes (it kept the edge it offered), below a segment. */
	assert_true(total > (4u << 20));
	assert_false(mpt_dsn_gt(X.mp->wnd_end, X.mp->snd.una + 1460));
	opsx_run(&X, 600 * OPS_SEC);
	assert_int_equal(mpt_sock_error(X.cs), 0);
	assert_int_equal(counter("MPTCPDataStall"), 0);
	assert_false(X.mp->closed);
}

/* 0 (the default): never. */
static void stall_never(void **state)
{
	(void)state;
	X.mp->k.stall_timeout_ns = 0;
	(void)freeze(opsx_now(&X));
	assert_int_equal(mpt_send(X.cs, buf, sizeof(buf), opsx_now(&X)), (long)sizeof(buf));
	opsx_run(&X, 400 * OPS_SEC);
	assert_int_equal(counter("MPTCPDataStall"), 0);
	assert_int_equal(mpt_sock_error(X.cs), 0);
}

/* Paths that deliver nothing (the byte at DATA_ACK never acknowledged by
 * a subflow) are the subflows' business, not a stall. */
static void black_hole_is_no_stall(void **state)
{
	(void)state;
	X.mp->k.stall_timeout_ns = 30 * OPS_SEC;
	for (size_t i = 0; i < X.npaths; i++)
		opsx_path_down(&X, i);
	assert_int_equal(mpt_send(X.cs, buf, 1000, opsx_now(&X)), 1000);
	opsx_run(&X, 200 * OPS_SEC);
	assert_int_equal(counter("MPTCPDataStall"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(stall_fails_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(closed_window_is_no_stall, setup, teardown),
	    cmocka_unit_test_setup_teardown(stall_never, setup, teardown),
	    cmocka_unit_test_setup_teardown(black_hole_is_no_stall, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
