/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP path management during a connection: MP_PRIO backup (RFC 8684
 * §3.3.8), REMOVE_ADDR when a local address goes (either end, §3.4.2),
 * a local address added mid-connection (RFC 6897 §5.3), a new subflow when
 * a failed path comes back (retry with backoff), MP_FASTCLOSE in the RST
 * and the ACK form (§3.5).  Integrity, time budget, counters and leaks are
 * checked as in the other simulator tests.
 */
#include "mptcp_scn.h"

static struct mscn base2(const char *name, uint64_t bytes, uint64_t budget)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = bytes;
	sc.seed = 57;
	sc.npaths = 2;
	for (size_t i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.budget_ns = budget;
	return sc;
}

/* What a timed action needs. */
struct act {
	struct mctx *x;
	uint64_t wire1_at; /* path 1 forward wire bytes when the action ran */
	int rc;
	bool server;
	bool ack_form;
	struct mpt_subflow_info snap[16]; /* client subflows when the action ran */
	int nsnap;
};

/* A client subflow touches address a (its local or its remote end). */
static bool sub_uses(const struct mpt_subflow_info *si, const struct mpt_addr *a)
{
	return mpt_addr_equal(&si->local.addr, a) || mpt_addr_equal(&si->remote.addr, a);
}

static void snap_client(struct act *a)
{
	a->nsnap = mpt_sock_subflows(mpt_bulk_client_sock(a->x->b), a->snap, 16);
}

/* Bytes sent since the snapshot by client subflows using / not using addr. */
static void sent_since(const struct act *a, const struct mout *o, const struct mpt_addr *addr,
		       uint64_t *on, uint64_t *off)
{
	*on = *off = 0;
	for (int i = 0; i < o->nsub_last && i < 16; i++) {
		const struct mpt_subflow_info *n = &o->sub[i];
		uint64_t before = 0;
		for (int k = 0; k < a->nsnap && k < 16; k++)
			if (a->snap[k].local.port == n->local.port &&
			    mpt_addr_equal(&a->snap[k].local.addr, &n->local.addr))
				before = a->snap[k].bytes_sent;
		uint64_t d = n->bytes_sent - before;
		if (sub_uses(n, addr))
			*on += d;
		else
			*off += d;
	}
}

static void keep_ctx(struct mctx *x, void *arg)
{
	((struct act *)arg)->x = x;
}

static uint64_t wire_bytes(struct mpt_sim_link *l)
{
	struct mpt_sim_link_stats st;
	mpt_sim_link_get_stats(l, &st);
	return st.wire_bytes;
}

static void path_addr(struct mpt_addr *a, size_t path, int host)
{
	char t[32];
	snprintf(t, sizeof(t), "10.0.%zu.%d", path, host);
	assert_int_equal(mpt_addr_parse(a, t), 0);
}

/* ---- MP_PRIO ---------------------------------------------------------------- */

static void set_backup(struct mpt_sim *sim, void *arg)
{
	struct act *a = arg;
	struct mpt_addr p1;
	path_addr(&p1, 1, a->server ? 2 : 1);
	struct mpt_sock *s =
	    a->server ? mpt_bulk_server_sock(a->x->b) : mpt_bulk_client_sock(a->x->b);
	assert_non_null(s);
	a->rc = mpt_sock_set_backup(s, &p1, true, mpt_sim_now(sim));
	a->wire1_at = wire_bytes(a->x->lf[1]);
	snap_client(a);
}

static void backup(bool server, const char *name)
{
	struct mscn sc = base2(name, 64u * MIB, 8 * SEC);
	struct act a = {.server = server};
	sc.setup = keep_ctx;
	sc.setup_arg = &a;
	sc.at_start = set_backup;
	sc.at_arg = &a;
	sc.at_t = 1 * SEC;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* Fullmesh: two of the four subflows use that address. */
	assert_int_equal(a.rc, 2);
	/* The side that asked sends MP_PRIO on each; the data sender then
	 * leaves those subflows alone (after what was already queued). */
	assert_int_equal(mcounter(&o, server ? 1 : 0, "MPPrioTx"), 2);
	assert_int_equal(mcounter(&o, server ? 0 : 1, "MPPrioRx"), 2);
	struct mpt_addr p1;
	path_addr(&p1, 1, server ? 2 : 1);
	uint64_t on, off;
	sent_since(&a, &o, &p1, &on, &off);
	printf("    after MP_PRIO: %llu bytes on backup subflows, %llu on the others\n",
	       (unsigned long long)on, (unsigned long long)off);
	assert_true(a.wire1_at > 4 * MIB);
	assert_true(on < 2 * MIB);
	assert_true(off > 32 * MIB);
	/* SF_PRIORITY on both sides, once per subflow: the asking side for
	 * its own flag, the peer for the MP_PRIO it received. */
	for (int side = 0; side < 2; side++) {
		assert_int_equal(o.pmev[side][MPT_PM_EV_SF_PRIORITY], 2);
		assert_true(o.pm_last[side][MPT_PM_EV_SF_PRIORITY].backup);
	}
	/* The client's mpt_subflow_info: its own B flag, and the peer's from
	 * the MP_PRIO it received (the last sample, near the end). */
	int ours = 0, peers = 0;
	for (int i = 0; i < o.nsub_last && i < 16; i++) {
		ours += o.sub[i].backup;
		peers += o.sub[i].peer_backup;
	}
	assert_int_equal(ours, server ? 0 : 2);
	assert_int_equal(peers, server ? 2 : 0);
}

static void test_backup_local(void **state)
{
	(void)state;
	backup(false, "MP_PRIO backup set by the sender");
}

static void test_backup_peer(void **state)
{
	(void)state;
	backup(true, "MP_PRIO backup set by the receiver");
}

/* ---- REMOVE_ADDR ------------------------------------------------------------ */

static void remove_addr(struct mpt_sim *sim, void *arg)
{
	struct act *a = arg;
	struct mpt_addr p1;
	path_addr(&p1, 1, a->server ? 2 : 1);
	struct mpt_simhost *h = a->server ? a->x->s : a->x->c;
	a->rc = mpt_stack_remove_local_addr(mpt_simhost_stack(h), &p1, mpt_sim_now(sim));
	a->wire1_at = wire_bytes(a->x->lf[1]);
	snap_client(a);
}

static void rm(bool server, const char *name)
{
	struct mscn sc = base2(name, 64u * MIB, 8 * SEC);
	struct act a = {.server = server};
	sc.setup = keep_ctx;
	sc.setup_arg = &a;
	sc.at_start = remove_addr;
	sc.at_arg = &a;
	sc.at_t = 1 * SEC;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(a.rc, 0);
	int me = server ? 1 : 0, peer = 1 - me;
	assert_true(mcounter(&o, me, "RmSubflow") >= 1);
	assert_int_equal(mcounter(&o, me, "RmAddrTx"), 1);
	assert_int_equal(mcounter(&o, peer, "RmAddr"), 1);
	assert_true(mcounter(&o, 0, "MPTCPReinject") > 0);
	/* No retry towards / from the removed address. */
	assert_int_equal(mcounter(&o, 0, "MPJoinRetry"), 0);
	struct mpt_addr p1;
	path_addr(&p1, 1, server ? 2 : 1);
	uint64_t on, off;
	sent_since(&a, &o, &p1, &on, &off);
	printf("    after removal: %llu bytes on subflows using it, %llu on the others\n",
	       (unsigned long long)on, (unsigned long long)off);
	assert_int_equal(on, 0);
	for (int i = 0; i < o.nsub_last && i < 16; i++)
		assert_false(sub_uses(&o.sub[i], &p1));
	if (!server)
		assert_int_equal(o.wire_fwd[1], a.wire1_at);
	/* What MPT_EV_PM said (mpt_sock_pm_event), on both sides. */
	for (int side = 0; side < 2; side++) {
		assert_int_equal(o.pmev[side][MPT_PM_EV_CREATED], 1);
		assert_int_equal(o.pmev[side][MPT_PM_EV_ESTABLISHED], 1);
		assert_true(o.pmev[side][MPT_PM_EV_SF_ESTABLISHED] >= 1);
		assert_true(o.pmev[side][MPT_PM_EV_SF_CLOSED] >= 1);
	}
	/* the peer of the side that removed its address hears REMOVED with
	 * the id that address had */
	assert_int_equal(o.pmev[peer][MPT_PM_EV_REMOVED], 1);
	assert_int_not_equal(o.pm_last[peer][MPT_PM_EV_REMOVED].remote_id, 0);
	if (server) /* the server's second address was announced first */
		assert_int_equal(o.pmev[0][MPT_PM_EV_ANNOUNCED], 1);
}

static void test_remove_local_client(void **state)
{
	(void)state;
	rm(false, "client removes its path-1 address");
}

static void test_remove_local_server(void **state)
{
	(void)state;
	rm(true, "server removes its path-1 address");
}

/* ---- address added mid-connection ------------------------------------------ */

static void one_client_addr(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	(void)sv;
	cc->n_local = 1;
}

static void add_addr(struct mpt_sim *sim, void *arg)
{
	struct act *a = arg;
	struct mpt_addr p1;
	path_addr(&p1, 1, 1);
	a->wire1_at = wire_bytes(a->x->lf[1]);
	a->rc = mpt_stack_add_local_addr(mpt_simhost_stack(a->x->c), &p1, mpt_sim_now(sim));
	mpt_sim_node_kick(sim, mpt_simhost_node(a->x->c));
}

static void test_add_local(void **state)
{
	(void)state;
	struct mscn sc = base2("client adds its path-1 address at 1 s", 64u * MIB, 5 * SEC);
	struct act a = {0};
	sc.tweak = one_client_addr;
	sc.setup = keep_ctx;
	sc.setup_arg = &a;
	sc.at_start = add_addr;
	sc.at_arg = &a;
	sc.at_t = 1 * SEC;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.wire1_at, 0); /* nothing used path 1 before */
	uint64_t after = o.wire_fwd[1];
	printf("    path 1 bytes after the address came: %llu\n", (unsigned long long)after);
	assert_true(after > 16 * MIB);
	assert_true(mcounter(&o, 0, "MPJoinSynTx") >= 1);
}

/* ---- IPv6 ADD_ADDR (issue 10 bug 5) ------------------------------------------ */

/*
 * An IPv6 ADD_ADDR with its HMAC takes 28 bytes: beside timestamps (12) it
 * leaves no room for a DSS, so it goes alone on a pure ACK.  The client has
 * one address; it learns the server's second one only from ADD_ADDR and
 * joins it; the transfer uses both paths' worth of subflows.
 */
static void test_add_addr_v6(void **state)
{
	(void)state;
	struct mscn sc = base2("IPv6: server announces its second address", 32u * MIB, 4 * SEC);
	sc.v6 = true;
	sc.tweak = one_client_addr;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 1, "AddAddrTx"), 1);
	assert_int_equal(mcounter(&o, 0, "AddAddr"), 1);
	assert_int_equal(o.pmev[0][MPT_PM_EV_ANNOUNCED], 1);
	assert_int_equal(o.pm_last[0][MPT_PM_EV_ANNOUNCED].remote.addr.family, 6);
	assert_true(mcounter(&o, 0, "MPJoinSynTx") >= 1);
	assert_true(mcounter(&o, 1, "MPJoinAckRx") >= 1);
	assert_true(o.nsub_c >= 2);
}

/* ---- a path that comes back -------------------------------------------------- */

static void test_path_returns(void **state)
{
	(void)state;
	/* Path 1 is down from 1 s to 6 s; with 3 retransmissions allowed
	 * its subflow dies (~2.5 s); the fullmesh PM retries the pair with
	 * backoff and the join's SYN retransmissions reach the peer once
	 * the path is back: a new subflow carries data. */
	static const struct mpt_sim_outage out = {.down_at = 1 * SEC, .up_at = 6 * SEC};
	struct mscn sc = base2("path 1 down 1..6 s, new subflow after", 224u * MIB, 14 * SEC);
	sc.path[1].outage = &out;
	sc.max_retries = 3;
	struct act a = {0};
	sc.setup = keep_ctx;
	sc.setup_arg = &a;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(mcounter(&o, 0, "MPJoinRetry") >= 1);
	assert_true(mcounter(&o, 0, "MPJoinSynTx") >= 2);
	assert_true(mcounter(&o, 1, "MPJoinAckRx") >= 2);
	/* The last sample (just before the end) has a subflow on path 1
	 * that carried data after the outage. */
	struct mpt_addr p1;
	path_addr(&p1, 1, 1);
	bool found = false;
	for (int i = 0; i < o.nsub_last && i < 16; i++)
		if (mpt_addr_equal(&o.sub[i].local.addr, &p1) && o.sub[i].active &&
		    o.sub[i].bytes_acked > 8 * MIB)
			found = true;
	assert_true(found);
}

/* ---- MP_FASTCLOSE --------------------------------------------------------------- */

static void fc_ack_form(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	cc->mptcp.fastclose_ack = true;
	sv->mptcp.fastclose_ack = true;
}

static void abort_it(struct mpt_sim *sim, void *arg)
{
	struct act *a = arg;
	mpt_bulk_abort(a->x->b, a->server, mpt_sim_now(sim));
}

static void fastclose(bool ack_form, const char *name)
{
	struct mscn sc = base2(name, 64u * MIB, 8 * SEC);
	struct act a = {.server = true};
	sc.setup = keep_ctx;
	sc.setup_arg = &a;
	sc.at_start = abort_it;
	sc.at_arg = &a;
	sc.at_t = 1 * SEC;
	if (ack_form)
		sc.tweak = fc_ack_form;
	struct mout o;
	run_mscn(&sc, &o);
	assert_int_equal(o.live_after, 0);
	/* RFC 8684 §3.5: the client learns the connection is gone. */
	assert_int_equal(o.res.client_err, MPT_ERR_RESET);
	assert_true(o.res.received < sc.bytes);
	assert_true(mcounter(&o, 1, "MPFastcloseTx") >= 1);
	assert_int_equal(mcounter(&o, 0, "MPFastcloseRx"), 1);
	assert_int_equal(mcounter(&o, 0, "MPFastcloseRxDrop"), 0);
	if (ack_form) {
		/* The client answered with RSTs. */
		assert_true(mcounter(&o, 0, "TcpOutRsts") >= 1);
	}
}

static void test_fastclose_rst(void **state)
{
	(void)state;
	fastclose(false, "server aborts: MP_FASTCLOSE on RSTs");
}

static void test_fastclose_ack(void **state)
{
	(void)state;
	fastclose(true, "server aborts: MP_FASTCLOSE on an ACK");
}

/* ---- connection-level receive window --------------------------------------- */

static void test_shared_window(void **state)
{
	(void)state;
	/* RFC 8684 §3.3.4: one receive window for the connection, relative to
	 * DATA_ACK.  1 MiB of it over a 200 ms RTT allows 1 MiB / 0.2 s =
	 * 42 Mbit/s in total, whatever the number of subflows (four here). */
	struct mscn sc = base2("1 MiB window, 2 x 100M/200ms", 16u * MIB, 9 * SEC);
	for (int i = 0; i < 2; i++)
		sc.path[i].rtt_ns = 200 * MS;
	sc.buf = 8u * MIB;
	sc.rcvbuf = 256u * 1024u; /* data level: 4 x 256 KiB */
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	double secs = (double)(o.res.t_done - o.res.t_connected) / 1e9;
	double mbps = (double)sc.bytes * 8 / secs / 1e6;
	printf("    goodput %.1f Mbit/s (window bound 42 Mbit/s), joins %d\n", mbps,
	       (int)mcounter(&o, 1, "MPJoinAckRx"));
	/* Without the bound the four subflows reach ~52 Mbit/s. */
	assert_true(mbps < 44.0);
	assert_true(mbps > 15.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backup_local),        cmocka_unit_test(test_backup_peer),
	    cmocka_unit_test(test_remove_local_client), cmocka_unit_test(test_remove_local_server),
	    cmocka_unit_test(test_add_local),           cmocka_unit_test(test_add_addr_v6),
	    cmocka_unit_test(test_path_returns),        cmocka_unit_test(test_fastclose_rst),
	    cmocka_unit_test(test_fastclose_ack),       cmocka_unit_test(test_shared_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
