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
 *   - forged MP_JOIN (RFC 8684 §3.2) from the client's address and a port
 *     it never used: the listener answers with an HMAC the box verifies
 *     from the recorded keys, takes the box's third ACK (MPJoinAckRx) and
 *     counts an established subflow it believes belongs to its peer, while
 *     the client's transfer goes on intact (nothing tells either side);
 *   - forged MP_FASTCLOSE (RFC 8684 §3.5) with the listener's key on an
 *     in-window ACK: the listener resets the connection (MPFastcloseRx),
 *     both applications see an error, the transfer is cut short.
 * Each against MPTCP v1 (the default set-up) over IPv4 and IPv6 and v0
 * (RFC 6824), the forgeries with three seeds (keys, nonces, ISNs) each.
 * Every run ends with nothing leaked.  Two more tests drive the element with
 * hand-made packets: its API, and an external-key handshake.
 *
 * The same forgeries against a connection with external keys
 * (draft-baerts-tcpm-mptcpext-00) are refused and counted, and its transfer
 * completes intact (test_ext_forgeries_refused, at the end).
 */
#include "mptcp_scn.h"
#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

#define ATK_BYTES  (8u * MIB)
#define ATK_BUDGET (8 * SEC) /* 8 MiB at 20 Mbit/s is 3.4 s */
#define ATK_AT     (1 * SEC) /* the attacks, well inside the transfer */
#define SNAP_EVERY (10 * MS)

static struct mscn base(const char *name, int version, bool v6, uint64_t seed)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = ATK_BYTES;
	sc.seed = seed; /* keys, nonces and ISNs of both stacks and of the box */
	sc.npaths = 1;  /* no join of the client's own: every join is the attacker's */
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
	/* external keys: the same key installed on both sides once possible */
	bool ext;
	int ext_rc[2]; /* 1 until installed, then mpt_sock_set_external_key's */
};

static const uint8_t EXT_KEY[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
				    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

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
	struct mpt_sock *both[2] = {mpt_bulk_client_sock(a->x->b), ss};
	for (int i = 0; a->ext && i < 2; i++)
		if (both[i] && a->ext_rc[i] != 0) {
			a->ext_rc[i] = mpt_sock_set_external_key(both[i], EXT_KEY, sizeof(EXT_KEY),
								 mpt_sim_now(sim));
			if (a->ext_rc[i] == MPT_ERR_STATE)
				a->ext_rc[i] = 1; /* not established yet: next time */
		}
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

static void record_only(int version, bool v6, uint64_t seed)
{
	char name[64];
	snprintf(name, sizeof(name), "v%d%s seed %llu, no box", version, v6 ? " IPv6" : "",
		 (unsigned long long)seed);
	struct mscn sc = base(name, version, v6, seed);
	struct atk a0 = {.with_box = false};
	struct mout o0;
	run_atk(&sc, &a0, &o0);
	mcheck(&sc, &o0);

	snprintf(name, sizeof(name), "v%d%s seed %llu, recording box", version, v6 ? " IPv6" : "",
		 (unsigned long long)seed);
	sc = base(name, version, v6, seed);
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
	record_only(1, false, 12);
	record_only(1, true, 13);
	record_only(0, false, 14);
}

/* ---- forged MP_JOIN: accepted --------------------------------------------------- */

static void forged_join(int version, bool v6, uint64_t seed)
{
	char name[64];
	snprintf(name, sizeof(name), "v%d%s seed %llu, forged MP_JOIN", version, v6 ? " IPv6" : "",
		 (unsigned long long)seed);
	struct mscn sc = base(name, version, v6, seed);
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
	for (uint64_t seed = 12; seed < 15; seed++) {
		forged_join(1, false, seed);
		forged_join(1, true, seed);
		forged_join(0, false, seed);
	}
}

/* ---- forged MP_FASTCLOSE: the connection is reset -------------------------------- */

static void forged_fastclose(int version, bool v6, uint64_t seed)
{
	char name[64];
	snprintf(name, sizeof(name), "v%d%s seed %llu, forged MP_FASTCLOSE", version,
		 v6 ? " IPv6" : "", (unsigned long long)seed);
	struct mscn sc = base(name, version, v6, seed);
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
	for (uint64_t seed = 12; seed < 15; seed++) {
		forged_fastclose(1, false, seed);
		forged_fastclose(1, true, seed);
		forged_fastclose(0, false, seed);
	}
}

/* ---- the element against hand-made packets: API, external-key handshake ------------ */
/*
 * Two capturing nodes, initiator I (10.0.0.1) and listener L (10.0.0.2),
 * one path with the box on it.  The test writes the packets both ends
 * send, so it can play a handshake the engine does not speak yet: the
 * external-key one (flag E, tokens instead of keys, NEW_KEY).  What the
 * box does with it is what the later engine test relies on: it records
 * the tokens and no key, and still forges - the join names the listener's
 * token with the key id of the initiator's last NEW_KEY, the MP_FASTCLOSE
 * replays that NEW_KEY's HMAC (the replay decision 12 of
 * docs/external-keys.md guards against).
 */
#define HM_MAX 32

struct hm_node {
	struct mpt_sim *sim;
	struct mpt_sim_node *n;
	struct mpt_addr addr;
	uint8_t pkt[HM_MAX][256];
	size_t len[HM_MAX];
	size_t cnt;
	bool answer_join; /* L: answer a join SYN with a SYN/ACK, its third ACK with a RST */
};

static void hm_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now);
static const struct mpt_sim_node_ops hm_ops = {.input = hm_input};

struct hm_seg {
	const struct mpt_addr *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags;
	size_t paylen;
	const struct mpt_mptcp_opt *opt;
};

static void hm_send(struct hm_node *from, const struct hm_seg *g)
{
	uint8_t mopt[40], pkt[256];
	int ml = mpt_mptcp_emit(mopt, sizeof(mopt), g->opt);
	assert_true(ml > 0);
	while (ml % 4)
		mopt[ml++] = MPT_TCPOPT_NOP;
	size_t hl = mpt_ip_hdr_len(g->src->family);
	struct mpt_tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.sport = g->sport;
	h.dport = g->dport;
	h.seq = g->seq;
	h.ack = g->ack;
	h.flags = g->flags;
	h.window = 1000;
	int n = mpt_tcp_hdr_emit(pkt + hl, sizeof(pkt) - hl - g->paylen, &h, mopt, (size_t)ml);
	assert_true(n > 0);
	memset(pkt + hl + (size_t)n, 'x', g->paylen);
	n += (int)g->paylen;
	mpt_tcp_csum_fill(pkt + hl, (size_t)n, g->src, g->dst);
	struct mpt_ip_hdr ip;
	memset(&ip, 0, sizeof(ip));
	ip.src = *g->src;
	ip.dst = *g->dst;
	ip.proto = MPT_IPPROTO_TCP;
	ip.ttl = 64;
	ip.payload_len = (size_t)n;
	assert_int_equal(mpt_ip_emit(pkt, hl, &ip), (int)hl);
	assert_int_equal(mpt_sim_send(from->sim, from->n, pkt, hl + (size_t)n), 0);
}

/* Parse captured packet i: IP, TCP (checksum checked) and its first MPTCP
 * option, read with the external-key extension understood. */
static bool hm_parse(const struct hm_node *c, size_t i, struct mpt_ip_hdr *ip,
		     struct mpt_tcp_hdr *th, struct mpt_mptcp_opt *o)
{
	struct mpt_tcp_opts opts;
	assert_int_equal(mpt_ip_parse(ip, c->pkt[i], c->len[i], true), 0);
	const uint8_t *seg = c->pkt[i] + ip->hdr_len;
	assert_int_equal(mpt_tcp_hdr_parse(th, seg, ip->payload_len), 0);
	assert_true(mpt_tcp_csum_ok(seg, ip->payload_len, &ip->src, &ip->dst));
	assert_int_equal(mpt_tcp_opts_parse(&opts, th->opt, th->opt_len), 0);
	if (opts.n_mptcp == 0)
		return false;
	struct mpt_mptcp_parse_ctx ctx = {.version = MPT_MPTCP_V1,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(th->flags),
					  .ext = MPT_MPTCP_EXT_EXTKEY};
	return mpt_mptcp_parse(o, th->opt + opts.mptcp[0].off, opts.mptcp[0].len, &ctx) == 0;
}

#define HM_TOK_I  0x11223344u
#define HM_TOK_L  0xaabbccddu
#define HM_NK     UINT64_C(0x0102030405060708)
#define HM_NONCE  0x5eed5eedu
#define HM_ISS_I  1000u
#define HM_ISS_L  5000u
#define HM_PORT_I 40001u
#define HM_PORT_L 5001u

static void hm_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	(void)ifindex;
	(void)now;
	struct hm_node *c = ud;
	assert_true(c->cnt < HM_MAX);
	assert_true(len <= sizeof(c->pkt[0]));
	memcpy(c->pkt[c->cnt], pkt, len);
	c->len[c->cnt] = len;
	size_t i = c->cnt++;
	struct mpt_ip_hdr ip;
	struct mpt_tcp_hdr th;
	struct mpt_mptcp_opt o;
	if (!c->answer_join || !hm_parse(c, i, &ip, &th, &o) || o.subtype != MPT_MPTCP_MP_JOIN)
		return;
	struct mpt_mptcp_opt r;
	memset(&r, 0, sizeof(r));
	struct hm_seg g = {.src = &ip.dst, .dst = &ip.src, .sport = th.dport, .dport = th.sport};
	if (o.u.join.form == MPT_JOIN_SYN) {
		/* A listener with external keys answers with an HMAC under its
		 * key (any bytes here: the box cannot check them). */
		r.subtype = MPT_MPTCP_MP_JOIN;
		r.version = MPT_MPTCP_V1;
		r.key_id = o.key_id;
		r.u.join.form = MPT_JOIN_SYNACK;
		r.u.join.nonce = HM_NONCE;
		memset(r.u.join.hmac, 0x77, 8);
		g.seq = 9000;
		g.ack = th.seq + 1;
		g.flags = MPT_TCP_SYN | MPT_TCP_ACK;
	} else {
		/* ... and refuses the third ACK, whose HMAC is wrong. */
		r.subtype = MPT_MPTCP_MP_TCPRST;
		r.version = MPT_MPTCP_V1;
		r.u.tcprst.reason = MPT_TCPRST_MPTCP;
		g.seq = th.ack;
		g.flags = MPT_TCP_RST;
	}
	g.opt = &r;
	hm_send(c, &g);
}

struct hm {
	struct mpt_sim *sim;
	struct hm_node i, l;
	struct mpt_sim_link *il, *li;
};

static void hm_setup(struct hm *h, struct mpt_test_mem *tm)
{
	memset(h, 0, sizeof(*h));
	mpt_test_mem_init(tm);
	assert_int_equal(mpt_sim_create(&tm->mem, 7, &h->sim), 0);
	h->i.sim = h->l.sim = h->sim;
	assert_int_equal(mpt_addr_parse(&h->i.addr, "10.0.0.1"), 0);
	assert_int_equal(mpt_addr_parse(&h->l.addr, "10.0.0.2"), 0);
	assert_int_equal(mpt_sim_add_node(h->sim, "I", &hm_ops, &h->i, &h->i.n), 0);
	assert_int_equal(mpt_sim_add_node(h->sim, "L", &hm_ops, &h->l, &h->l.n), 0);
	struct mpt_sim_link_cfg lc = {.delay_ns = 1 * MS};
	assert_int_equal(mpt_sim_connect(h->sim, h->i.n, &h->i.addr, h->l.n, &h->l.addr, &lc, &lc,
					 &h->il, &h->li),
			 0);
}

static void test_api(void **state)
{
	(void)state;
	struct mpt_test_mem tm;
	struct hm h;
	hm_setup(&h, &tm);
	struct mpt_sim_mbox_cfg c = {.kind = MPT_SIM_MBOX_MPTCP_ATTACK};
	struct mpt_sim_mbox *mb = NULL, *other = NULL;
	struct mpt_sim_attack_stats st;
	/* Both directions of one path, a usable address family. */
	assert_int_equal(mpt_sim_mbox_add(h.il, NULL, &c, &mb), MPT_ERR_INVAL);
	assert_int_equal(mpt_sim_mbox_add(h.il, h.il, &c, &mb), MPT_ERR_INVAL);
	c.atk_join_addr.family = 5;
	assert_int_equal(mpt_sim_mbox_add(h.il, h.li, &c, &mb), MPT_ERR_INVAL);
	assert_null(mb);
	c.atk_join_addr.family = 0;
	/* Triggers with nothing recorded: counted, nothing sent. */
	c.atk_join_at = 1 * MS;
	c.atk_fastclose_at = 2 * MS;
	assert_int_equal(mpt_sim_mbox_add(h.il, h.li, &c, &mb), 0);
	struct mpt_sim_mbox_cfg nat = {.kind = MPT_SIM_MBOX_SEQ_OFFSET, .delta = 1};
	assert_int_equal(mpt_sim_mbox_add(h.il, NULL, &nat, &other), 0);
	assert_int_equal(mpt_sim_attack_get_stats(other, &st), MPT_ERR_INVAL);
	assert_int_equal(mpt_sim_attack_get_stats(NULL, &st), MPT_ERR_INVAL);
	assert_int_equal(mpt_sim_attack_get_stats(mb, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_sim_run(h.sim, 10 * MS, NULL, NULL), MPT_SIM_RUN_IDLE);
	assert_int_equal(mpt_sim_attack_get_stats(mb, &st), 0);
	assert_int_equal(st.not_ready, 2);
	assert_false(st.handshake);
	assert_int_equal(st.join_syn_tx + st.fastclose_tx, 0);
	assert_int_equal(h.i.cnt + h.l.cnt, 0);
	mpt_sim_destroy(h.sim);
	assert_int_equal(tm.live, 0);
}

static void hm_at_syn(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct hm *h = arg;
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_CAPABLE;
	o.version = MPT_MPTCP_V1;
	o.u.mpc.form = MPT_MPC_NOKEY;
	o.u.mpc.flags = MPT_MPC_F_H | MPT_MPC_F_E;
	struct hm_seg g = {&h->i.addr, &h->l.addr,  HM_PORT_I, HM_PORT_L, HM_ISS_I,
			   0,          MPT_TCP_SYN, 0,         &o};
	hm_send(&h->i, &g);
	/* The listener's SYN/ACK: its token, no key. */
	o.u.mpc.form = MPT_MPC_EXT_ONETOKEN;
	o.u.mpc.snd_token = HM_TOK_L;
	g = (struct hm_seg){&h->l.addr,
			    &h->i.addr,
			    HM_PORT_L,
			    HM_PORT_I,
			    HM_ISS_L,
			    HM_ISS_I + 1,
			    MPT_TCP_SYN | MPT_TCP_ACK,
			    0,
			    &o};
	hm_send(&h->l, &g);
}

static void hm_at_ack(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct hm *h = arg;
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_CAPABLE;
	o.version = MPT_MPTCP_V1;
	o.u.mpc.form = MPT_MPC_EXT_TWOTOKENS;
	o.u.mpc.flags = MPT_MPC_F_H | MPT_MPC_F_E;
	o.u.mpc.snd_token = HM_TOK_I;
	o.u.mpc.rcv_token = HM_TOK_L;
	struct hm_seg g = {&h->i.addr,   &h->l.addr,  HM_PORT_I, HM_PORT_L, HM_ISS_I + 1,
			   HM_ISS_L + 1, MPT_TCP_ACK, 0,         &o};
	hm_send(&h->i, &g);
	/* 100 bytes with the initiator's NEW_KEY for key id 1. */
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_EXTKEY_SUBTYPE;
	o.version = MPT_MPTCP_V1;
	o.key_id = 1;
	mpt_put64(o.u.new_key.hmac, HM_NK);
	g = (struct hm_seg){&h->i.addr,   &h->l.addr,  HM_PORT_I, HM_PORT_L, HM_ISS_I + 1,
			    HM_ISS_L + 1, MPT_TCP_ACK, 100,       &o};
	hm_send(&h->i, &g);
}

static void test_ext_handshake(void **state)
{
	(void)state;
	struct mpt_test_mem tm;
	struct hm h;
	hm_setup(&h, &tm);
	h.l.answer_join = true;
	struct mpt_sim_mbox_cfg c = {
	    .kind = MPT_SIM_MBOX_MPTCP_ATTACK, .atk_join_at = 50 * MS, .atk_fastclose_at = 60 * MS};
	struct mpt_sim_mbox *mb;
	struct mpt_sim_attack_stats st;
	struct mpt_sim_mbox_stats ms;
	assert_int_equal(mpt_sim_mbox_add(h.il, h.li, &c, &mb), 0);
	assert_int_equal(mpt_sim_at(h.sim, 0, hm_at_syn, &h), 0);
	assert_int_equal(mpt_sim_at(h.sim, 20 * MS, hm_at_ack, &h), 0);
	assert_int_equal(mpt_sim_run(h.sim, 100 * MS, NULL, NULL), MPT_SIM_RUN_IDLE);
	assert_int_equal(mpt_sim_attack_get_stats(mb, &st), 0);
	mpt_sim_mbox_get_stats(mb, &ms);
	/* The record: tokens, no key. */
	assert_true(st.handshake);
	assert_true(st.ext);
	assert_false(st.keys);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.token_initiator, HM_TOK_I);
	assert_int_equal(st.token_listener, HM_TOK_L);
	assert_int_equal(st.key_initiator | st.key_listener | st.idsn_initiator | st.idsn_listener,
			 0);
	/* The join ran its handshake without keys and was refused. */
	assert_int_equal(st.join_syn_tx, 1);
	assert_int_equal(st.join_synack_rx, 1);
	assert_int_equal(st.join_synack_hmac_ok, 0);
	assert_int_equal(st.join_ack_tx, 1);
	assert_int_equal(st.join_established, 0);
	assert_int_equal(st.join_rst_rx, 1);
	assert_int_equal(st.join_rx, 2);
	assert_int_equal(st.fastclose_tx, 1);
	assert_int_equal(st.not_ready, 0);
	assert_int_equal(ms.created, 3);
	assert_int_equal(ms.dropped, 2);
	/* L got, in order: the initiator's SYN, third ACK and data, then the
	 * forged join SYN, its third ACK and the MP_FASTCLOSE. */
	assert_int_equal(h.l.cnt, 6);
	struct mpt_ip_hdr ip;
	struct mpt_tcp_hdr th;
	struct mpt_mptcp_opt o;
	assert_true(hm_parse(&h.l, 3, &ip, &th, &o));
	assert_true(mpt_addr_equal(&ip.src, &h.i.addr)); /* default: the initiator's address */
	assert_int_equal(th.sport, MPT_SIM_ATTACK_PORT);
	assert_int_equal(th.dport, HM_PORT_L);
	assert_int_equal(th.flags, MPT_TCP_SYN);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_JOIN);
	assert_int_equal(o.u.join.form, MPT_JOIN_SYN);
	assert_int_equal(o.u.join.token, HM_TOK_L);
	assert_int_equal(o.key_id, 1);
	uint32_t iss = th.seq;
	assert_true(hm_parse(&h.l, 4, &ip, &th, &o));
	assert_int_equal(th.sport, MPT_SIM_ATTACK_PORT);
	assert_int_equal(th.flags, MPT_TCP_ACK);
	assert_int_equal(th.seq, iss + 1);
	assert_int_equal(th.ack, 9001);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_JOIN);
	assert_int_equal(o.u.join.form, MPT_JOIN_ACK);
	assert_int_equal(o.key_id, 1);
	assert_true(hm_parse(&h.l, 5, &ip, &th, &o));
	assert_int_equal(th.sport, HM_PORT_I);
	assert_int_equal(th.dport, HM_PORT_L);
	assert_int_equal(th.flags, MPT_TCP_ACK);
	assert_int_equal(th.seq, HM_ISS_I + 1 + 100); /* after the initiator's data */
	assert_int_equal(th.ack, HM_ISS_L + 1);
	assert_int_equal(o.subtype, MPT_MPTCP_MP_FASTCLOSE);
	assert_int_equal(o.key_id, 1);
	assert_int_equal(o.u.fastclose_key, HM_NK); /* the replayed NEW_KEY HMAC */
	/* The initiator never saw the listener's answers to the forged join. */
	assert_int_equal(h.i.cnt, 1); /* the SYN/ACK */
	mpt_sim_destroy(h.sim);
	assert_int_equal(tm.live, 0);
}

/* ---- the same attacks against external keys: refused ------------------------------ */
/*
 * Both stacks offer external keys (draft-baerts-tcpm-mptcpext-00,
 * docs/external-keys.md) and the test installs the same key on both sides
 * as soon as the connection takes it.  The box sees flag E, records the
 * two tokens and no key and still forges: its MP_JOIN SYN names the
 * listener's token with the key id of the initiator's last NEW_KEY, its
 * third ACK carries an HMAC it cannot compute, its MP_FASTCLOSE replays
 * that NEW_KEY's HMAC (decision 12 keeps the two apart).  Both are refused
 * and counted; the transfer completes intact.
 */
static void ext_tweak(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	cc->mptcp.ext_keys = MPT_EXT_KEYS_OFFER;
	sv->mptcp.ext_keys = MPT_EXT_KEYS_OFFER;
}

static void ext_attack(bool v6, uint64_t seed, bool join)
{
	char name[80];
	snprintf(name, sizeof(name), "external keys%s seed %llu, forged %s", v6 ? " IPv6" : "",
		 (unsigned long long)seed, join ? "MP_JOIN" : "MP_FASTCLOSE");
	struct mscn sc = base(name, 1, v6, seed);
	sc.tweak = ext_tweak;
	struct atk a = {.with_box = true, .ext = true, .ext_rc = {1, 1}};
	if (join)
		a.cfg.atk_join_at = ATK_AT;
	else
		a.cfg.atk_fastclose_at = ATK_AT;
	struct mout o;
	run_atk(&sc, &a, &o);
	/* The extension ran: keys installed and confirmed on both sides. */
	assert_int_equal(a.ext_rc[0], 0);
	assert_int_equal(a.ext_rc[1], 0);
	assert_true(o.ci.ext_keys && o.si.ext_keys);
	assert_int_equal(o.ci.ext_key_gen, 1);
	assert_int_equal(o.si.ext_key_gen, 1);
	/* The box saw the handshake: tokens, no keys. */
	assert_true(a.st.handshake);
	assert_true(a.st.ext);
	assert_false(a.st.keys);
	assert_int_equal(a.st.token_initiator, o.ci.mptcpi_token);
	assert_int_equal(a.st.token_listener, o.si.mptcpi_token);
	assert_int_equal(a.st.not_ready, 0);
	if (join) {
		/* The forgery went out and got its SYN/ACK, whose HMAC the box
		 * could not check; its third ACK was refused with a RST. */
		assert_int_equal(a.st.join_syn_tx, 1);
		assert_int_equal(a.st.join_synack_rx, 1);
		assert_int_equal(a.st.join_synack_hmac_ok, 0);
		assert_int_equal(a.st.join_established, 0);
		assert_int_equal(a.st.join_rst_rx, 1);
		assert_int_equal(mcounter(&o, 1, "MPJoinAckRx"), 0);
		assert_int_equal(mcounter(&o, 1, "MPJoinAckHMacFailure"), 1);
		assert_int_equal(o.pmev[1][MPT_PM_EV_SF_ESTABLISHED], 0);
		assert_int_equal(a.srv_joins_max, 0);
	} else {
		assert_int_equal(a.st.fastclose_tx, 1);
		assert_int_equal(mcounter_end(&o, 1, "MPFastcloseRx"), 0);
		assert_int_equal(mcounter_end(&o, 1, "MPFastcloseRxDrop"), 1);
	}
	/* Nothing reached the applications: the transfer is intact. */
	mcheck(&sc, &o);
}

static void test_ext_forgeries_refused(void **state)
{
	(void)state;
	for (uint64_t seed = 12; seed < 15; seed++) {
		ext_attack(false, seed, true);
		ext_attack(false, seed, false);
		ext_attack(true, seed, true);
		ext_attack(true, seed, false);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_only),      cmocka_unit_test(test_forged_join),
	    cmocka_unit_test(test_forged_fastclose), cmocka_unit_test(test_api),
	    cmocka_unit_test(test_ext_handshake),    cmocka_unit_test(test_ext_forgeries_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
