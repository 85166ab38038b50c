/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The on-path attacker of RFC 6181 §3 / RFC 7430 §2 against a plain MPTCP
 * connection (issue 12, first must-show; docs/external-keys.md "The
 * attacker element").  An MPTCP_ATTACK box on the only path records the
 * MP_CAPABLE handshake, whose keys travel in the clear (RFC 8684 §3.1), and
 * then:
 *   - recording only: nothing changes - the run is identical, to the
 *     nanosecond and the byte, to the same run without the box, and the
 *     tokens the box derived from the keys it saw are the ones both stacks
 *     use (so it recorded the right keys);
 *   - forged MP_JOIN (RFC 8684 §3.2) from an address/port the client never
 *     used: the listener answers with an HMAC the box verifies from the
 *     recorded keys, takes the box's third ACK (MPJoinAckRx) and counts an
 *     established subflow it believes belongs to its peer;
 *   - forged MP_FASTCLOSE (RFC 8684 §3.5) with the listener's key on an
 *     in-window ACK: the listener resets the connection (MPFastcloseRx),
 *     both applications see an error, the transfer is cut short.
 * Each against MPTCP v1 (the default set-up) and v0 (RFC 6824), IPv4 and
 * IPv6.  Every run ends with nothing leaked.
 *
 * The same element will test external keys (draft-baerts-tcpm-mptcpext-00)
 * once the engine negotiates them; what that test will assert is written
 * down at the end of this file.
 */
#include "mptcp_scn.h"

#define ATK_BYTES  (8u * MIB)
#define ATK_BUDGET (8 * SEC) /* 8 MiB at 20 Mbit/s is 3.4 s */
#define ATK_AT     (1 * SEC) /* the attacks, well inside the transfer */
#define SNAP_EVERY (10 * MS)

static struct mscn base(const char *name, int version, bool v6)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = ATK_BYTES;
	sc.seed = 12;
	sc.npaths = 1; /* no join of the client's own: every join is the attacker's */
	sc.path[0].rate_bps = 20000000;
	sc.path[0].rtt_ns = 40 * MS;
	sc.v6 = v6;
	sc.cli_version = version + 1; /* mscn: version + 1 (0 = default, v1) */
	sc.budget_ns = ATK_BUDGET;
	return sc;
}

/*
 * The box and what the test samples while the simulation runs (the sim and
 * the box are gone once run_mscn returns): a user event every SNAP_EVERY
 * copies the box's record, the server's MPTCP information and the bulk
 * result (the client's error may arrive after the run stopped at the
 * server's).
 */
struct atk {
	bool with_box;
	struct mpt_sim_mbox_cfg cfg;
	struct mpt_sim_mbox *mb;
	struct mctx *x;
	bool snapped;
	struct mpt_sim_attack_stats st;
	struct mpt_sim_mbox_stats ms;
	struct mpt_bulk_result res; /* latest, through the close sequence */
	int srv_joins_max;          /* most established join subflows at the server */
};

static void snap(struct mpt_sim *sim, void *arg)
{
	struct atk *a = arg;
	struct mpt_sock *ss = mpt_bulk_server_sock(a->x->b);
	struct mpt_mptcp_info si;

	if (a->mb) {
		assert_int_equal(mpt_sim_attack_get_stats(a->mb, &a->st), 0);
		mpt_sim_mbox_get_stats(a->mb, &a->ms);
	}
	if (ss && mpt_sock_mptcp_info(ss, &si) == 0 && si.mptcpi_subflows > a->srv_joins_max)
		a->srv_joins_max = si.mptcpi_subflows;
	mpt_bulk_result(a->x->b, &a->res);
	a->snapped = true;
	assert_int_equal(mpt_sim_at(sim, mpt_sim_now(sim) + SNAP_EVERY, snap, a), 0);
}

static void setup(struct mctx *x, void *arg)
{
	struct atk *a = arg;
	a->x = x;
	if (a->with_box) {
		a->cfg.kind = MPT_SIM_MBOX_MPTCP_ATTACK;
		assert_int_equal(mpt_sim_mbox_add(x->lf[0], x->lr[0], &a->cfg, &a->mb), 0);
	}
	assert_int_equal(mpt_sim_at(x->sim, SNAP_EVERY, snap, a), 0);
}

static void run_atk(struct mscn *sc, struct atk *a, struct mout *o)
{
	sc->setup = setup;
	sc->setup_arg = a;
	run_mscn(sc, o);
	assert_true(a->snapped);
	assert_int_equal(o->live_after, 0);
}

/* What every box must have learnt from the handshake. */
static void check_record(const struct atk *a, const struct mout *o, int version)
{
	assert_true(a->st.handshake);
	assert_true(a->st.keys);
	assert_false(a->st.ext);
	assert_int_equal(a->st.version, version);
	assert_int_equal(o->ci_rc, 0);
	assert_int_equal(o->si_rc, 0);
	assert_int_equal(o->ci.version, version);
	/* The tokens the box derived from the keys it saw are the ones the
	 * stacks derived from their own keys (mptcpi_token: the local token):
	 * the keys it recorded are the real ones. */
	assert_int_equal(a->st.token_initiator, o->ci.mptcpi_token);
	assert_int_equal(a->st.token_listener, o->si.mptcpi_token);
	assert_int_not_equal(a->st.key_initiator, a->st.key_listener);
	assert_int_not_equal(a->st.idsn_initiator, 0);
	assert_int_not_equal(a->st.idsn_listener, 0);
	assert_int_equal(a->st.not_ready, 0);
}

/* ---- recording only: nothing changes ------------------------------------------ */

static void record_only(int version, bool v6)
{
	char name[64];
	snprintf(name, sizeof(name), "v%d%s, no box", version, v6 ? " IPv6" : "");
	struct mscn sc = base(name, version, v6);
	struct atk a0 = {.with_box = false};
	struct mout o0;
	run_atk(&sc, &a0, &o0);
	mcheck(&sc, &o0);

	snprintf(name, sizeof(name), "v%d%s, recording box", version, v6 ? " IPv6" : "");
	sc = base(name, version, v6);
	struct atk a1 = {.with_box = true};
	struct mout o1;
	run_atk(&sc, &a1, &o1);
	mcheck(&sc, &o1);
	assert_memory_equal(o1.res.rx_sha256, o1.res.tx_sha256, 32);
	/* Identical to the run without the box: same completion time, same
	 * bytes on the wire, same counters on both stacks. */
	assert_int_equal(o1.res.t_connected, o0.res.t_connected);
	assert_int_equal(o1.res.t_done, o0.res.t_done);
	assert_int_equal(o1.wire_fwd[0], o0.wire_fwd[0]);
	assert_memory_equal(o1.counters, o0.counters, sizeof(o0.counters));
	/* The box saw everything and touched nothing. */
	assert_true(a1.ms.seen > ATK_BYTES / 1500);
	assert_int_equal(a1.ms.passed, a1.ms.seen);
	assert_int_equal(a1.ms.modified, 0);
	assert_int_equal(a1.ms.dropped, 0);
	assert_int_equal(a1.ms.created, 0);
	check_record(&a1, &o1, version);
	assert_int_equal(a1.st.join_syn_tx, 0);
	assert_int_equal(a1.st.fastclose_tx, 0);
}

static void test_record_only(void **state)
{
	(void)state;
	record_only(1, false);
	record_only(1, true);
	record_only(0, false);
}

/* ---- forged MP_JOIN: accepted --------------------------------------------------- */

static void forged_join(int version, bool v6)
{
	char name[64];
	snprintf(name, sizeof(name), "v%d%s, forged MP_JOIN", version, v6 ? " IPv6" : "");
	struct mscn sc = base(name, version, v6);
	struct atk a = {.with_box = true};
	a.cfg.atk_join_at = ATK_AT;
	struct mout o;
	run_atk(&sc, &a, &o);
	check_record(&a, &o, version);
	/* The attacker's side of the handshake: the listener's SYN/ACK
	 * carried an HMAC the attacker could check (it holds both keys), its
	 * third ACK went out and the listener acknowledged it. */
	assert_int_equal(a.st.join_syn_tx, 1);
	assert_int_equal(a.st.join_synack_rx, 1);
	assert_int_equal(a.st.join_synack_hmac_ok, 1);
	assert_int_equal(a.st.join_ack_tx, 1);
	assert_int_equal(a.st.join_established, 1);
	assert_int_equal(a.st.join_rst_rx, 0);
	assert_int_equal(a.ms.created, 2); /* SYN, third ACK */
	assert_true(a.ms.dropped >= 2);    /* SYN/ACK, fourth ACK: taken off the path */
	assert_int_equal(a.ms.dropped, a.st.join_rx);
	/* The listener's side: the join is accepted as its peer's. */
	assert_int_equal(mcounter(&o, 0, "MPJoinSynTx"), 0); /* not the client's */
	assert_int_equal(mcounter(&o, 1, "MPJoinSynRx"), 1);
	assert_int_equal(mcounter(&o, 1, "MPJoinAckRx"), 1);
	assert_int_equal(mcounter(&o, 1, "MPJoinAckHMacFailure"), 0);
	assert_int_equal(mcounter(&o, 1, "MPJoinNoTokenFound"), 0);
	assert_int_equal(mcounter(&o, 1, "MPJoinRejected"), 0);
	assert_int_equal(o.pmev[1][MPT_PM_EV_SF_ESTABLISHED], 1);
	assert_int_equal(o.pmev[0][MPT_PM_EV_SF_ESTABLISHED], 0);
	assert_int_equal(a.srv_joins_max, 1);
	/* The forged subflow is silent: the client's transfer is intact. */
	mcheck(&sc, &o);
}

static void test_forged_join(void **state)
{
	(void)state;
	forged_join(1, false);
	forged_join(1, true);
	forged_join(0, false);
}

/* ---- forged MP_FASTCLOSE: the connection is reset -------------------------------- */

static void forged_fastclose(int version, bool v6)
{
	char name[64];
	snprintf(name, sizeof(name), "v%d%s, forged MP_FASTCLOSE", version, v6 ? " IPv6" : "");
	struct mscn sc = base(name, version, v6);
	struct atk a = {.with_box = true};
	a.cfg.atk_fastclose_at = ATK_AT;
	struct mout o;
	run_atk(&sc, &a, &o);
	check_record(&a, &o, version);
	assert_int_equal(a.st.fastclose_tx, 1);
	assert_int_equal(a.st.join_syn_tx, 0);
	assert_int_equal(a.ms.created, 1);
	/* The listener took the forged option as its peer's abort. */
	assert_int_equal(mcounter_end(&o, 1, "MPFastcloseRx"), 1);
	assert_int_equal(mcounter_end(&o, 1, "MPFastcloseRxDrop"), 0);
	assert_int_equal(mcounter_end(&o, 0, "MPFastcloseTx"), 0); /* not the client's */
	/* Both applications see the connection reset, right after the
	 * attack (one-way delay 20 ms), with a fraction of the data. */
	assert_int_equal(o.res.server_err, MPT_ERR_RESET);
	assert_int_not_equal(a.res.client_err, 0);
	assert_false(o.res.intact);
	assert_true(o.res.received < ATK_BYTES / 2);
	assert_true(o.sim_end >= ATK_AT && o.sim_end < ATK_AT + 100 * MS);
	assert_int_equal(o.live_after, 0);
}

static void test_forged_fastclose(void **state)
{
	(void)state;
	forged_fastclose(1, false);
	forged_fastclose(1, true);
	forged_fastclose(0, false);
}

/*
 * External keys (draft-baerts-tcpm-mptcpext-00, docs/external-keys.md):
 * once the engine negotiates them, this file gains a run of the two
 * attacks above with both stacks offering the extension and a key
 * installed on each side (through the planned API, in sc.tweak /
 * sc.setup).  The box sees flag E, records the two tokens and no key
 * (st.ext true, st.keys false) and still forges: its MP_JOIN SYN names the
 * listener's token with the key id of the initiator's last NEW_KEY, its
 * third ACK carries an HMAC it cannot compute (it uses zero keys), and its
 * MP_FASTCLOSE replays that NEW_KEY's HMAC (decision 12).  That run will
 * assert: join_syn_tx == 1 and fastclose_tx == 1 (the forgeries went
 * out), join_synack_hmac_ok == 0 and join_established == 0, the server's
 * MPJoinAckRx == 0 with the refusal counted (MPJoinAckHMacFailure, or the
 * unknown-key-id counter the engine adds), MPFastcloseRx == 0 and
 * MPFastcloseRxDrop == 1, no error on either side, and mcheck: the
 * transfer completes intact within its budget.
 */

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_only),
	    cmocka_unit_test(test_forged_join),
	    cmocka_unit_test(test_forged_fastclose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
