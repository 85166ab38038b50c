/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External keys (draft-baerts-tcpm-mptcpext-00; docs/external-keys.md) in
 * the engine, over simulated paths, both ends mpt:
 *   - negotiation: flag E both ways, tokens instead of keys, the transfer
 *     intact; without an installed key the connection stays on its initial
 *     subflow (no join, no ADD_ADDR); with one, joins and ADD_ADDR run
 *     under it (NEW_KEY exchanged and confirmed on both sides);
 *   - a rekey mid-transfer: a join before it names key id 0, a join after
 *     it key id 1 (read off the wire), both accepted;
 *   - negotiation down: a peer that does not offer E gets plain RFC 8684
 *     (joins with the handshake's keys, no key needed); "external keys or
 *     nothing" refuses it on either side, counted;
 *   - a join SYN naming a key id the listener never installed (K flipped
 *     on the wire) is refused with a RST and counted; the others go on;
 *   - the API's refusals (bad lengths, a connection without the extension,
 *     a second key while the first is unconfirmed).
 * The attacks against it are in mptcp_attack_test.c.
 */
#include "mptcp_scn.h"

#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

#define POLL (5 * MS)

static struct mscn base(const char *name, size_t npaths, uint64_t bytes)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = bytes;
	sc.seed = 21;
	sc.npaths = npaths;
	for (size_t i = 0; i < npaths; i++) {
		sc.path[i].rate_bps = 20000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.budget_ns = 20 * SEC;
	return sc;
}

/* The knobs the tweak hook applies (cmocka runs one test at a time). */
static struct {
	uint8_t cli, srv; /* ext_keys */
	bool cli_pm_none;
	bool cfg_key; /* both: the configured key (knob ext_key) */
} K;

static void tweak(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	cc->mptcp.ext_keys = K.cli;
	sv->mptcp.ext_keys = K.srv;
	if (K.cli_pm_none)
		snprintf(cc->mptcp.pm, sizeof(cc->mptcp.pm), "%s", "none");
	if (K.cfg_key) {
		struct mpt_mptcp_knobs *both[2] = {&cc->mptcp, &sv->mptcp};
		for (int i = 0; i < 2; i++) {
			both[i]->ext_key_len = 24;
			memset(both[i]->ext_key, 0x5a, 24);
		}
	}
}

/* ---- the test's controller: keys, joins, and what it saw ---------------------- */

#define STEPS 8

struct ek {
	struct mctx *x;
	/* key generation g is installed on both sides at key_at[g] (0: never) */
	uint64_t key_at[2];
	int ngens;
	int installed[2]; /* per side: keys installed */
	int rc_install[2][2];
	/* the client opens a join to path p at join_at[p] (external PM) */
	uint64_t join_at[4];
	bool joined[4];
	int rc_join[4];
	/* API checks, run once on the established connection */
	bool api_checked;
	int rc_short, rc_long, rc_null, rc_again, rc_plain;
	/* on the wire (tamper): key ids of MP_JOIN SYNs, NEW_KEYs seen */
	int njoin;
	uint8_t join_kid[8];
	int new_key[2]; /* per direction */
	int mpc_e[2];   /* MP_CAPABLE options with flag E, per direction */
	int mpc[2];
	int syn_mpc, syn_e; /* the client's SYNs: MP_CAPABLE, with flag E */
	int offer;          /* the client's SYNs with the offer suboption */
	/* name key id 1 (never installed) in the client's first join SYN */
	bool flip_join_kid;
	int flipped;
	/* corrupt the HMAC of the listener's first ADD_ADDR (not an echo) */
	bool corrupt_add_addr;
	int corrupted;
	/* the latest information of both sides while the run goes */
	struct mpt_mptcp_info ci, si;
	bool ci_ok, si_ok;
};

static const uint8_t KEY0[32] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
				 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
				 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
static const uint8_t KEY1[48] = {
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22};

static void api_checks(struct ek *e, struct mpt_sock *cs, uint64_t now)
{
	uint8_t big[65];
	memset(big, 7, sizeof(big));
	e->rc_short = mpt_sock_set_external_key(cs, big, 15, now);
	e->rc_long = mpt_sock_set_external_key(cs, big, 65, now);
	e->rc_null = mpt_sock_set_external_key(cs, NULL, 32, now);
	e->api_checked = true;
}

static void step(struct mpt_sim *sim, void *arg)
{
	struct ek *e = arg;
	uint64_t now = mpt_sim_now(sim);
	struct mpt_sock *s[2] = {mpt_bulk_client_sock(e->x->b), mpt_bulk_server_sock(e->x->b)};
	struct mpt_mptcp_info in;
	if (s[0] && mpt_sock_mptcp_info(s[0], &in) == 0) {
		e->ci = in;
		e->ci_ok = true;
	}
	if (s[1] && mpt_sock_mptcp_info(s[1], &in) == 0) {
		e->si = in;
		e->si_ok = true;
	}
	if (s[0] && s[1] && !e->api_checked)
		api_checks(e, s[0], now);
	for (int side = 0; side < 2; side++) {
		int g = e->installed[side];
		if (!s[side] || g >= e->ngens || e->key_at[g] == 0 || now < e->key_at[g])
			continue;
		const uint8_t *key = g == 0 ? KEY0 : KEY1;
		size_t len = g == 0 ? sizeof(KEY0) : sizeof(KEY1);
		int rc = mpt_sock_set_external_key(s[side], key, len, now);
		e->rc_install[side][g] = rc;
		if (rc == 0) {
			e->installed[side]++;
			if (side == 0 && g == 0 && e->installed[0] == 1 && e->ngens > 1)
				/* a second key while the first is unconfirmed */
				e->rc_again =
				    mpt_sock_set_external_key(s[0], KEY1, sizeof(KEY1), now);
		}
	}
	for (size_t p = 1; p < 4 && s[0]; p++) {
		if (e->join_at[p] == 0 || e->joined[p] || now < e->join_at[p])
			continue;
		struct mpt_endpoint l, r, to;
		mpt_sock_endpoints(s[0], &l, &r);
		addr_for(&to.addr, false, p, 2);
		to.port = r.port;
		struct mpt_addr from;
		addr_for(&from, false, p, 1);
		e->rc_join[p] = mpt_pm_subflow_open(s[0], &from, &to, false, now);
		e->joined[p] = true;
	}
	assert_int_equal(mpt_sim_at(sim, now + POLL, step, e), 0);
}

static void setup(struct mctx *x, void *arg)
{
	struct ek *e = arg;
	e->x = x;
	assert_int_equal(mpt_sim_at(x->sim, POLL, step, e), 0);
}

/* Every MPTCP option of a packet: MP_CAPABLE's flag E, MP_JOIN SYNs'
 * key ids, NEW_KEYs (parsed with the extension understood). */
static bool watch(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len, size_t cap,
		  uint64_t now)
{
	(void)path, (void)cap, (void)now;
	struct ek *e = x->sc->tamper_arg;
	struct mpt_ip_hdr ip;
	struct mpt_tcp_hdr th;
	if (mpt_ip_parse(&ip, pkt, *len, false) < 0 || ip.proto != MPT_IPPROTO_TCP ||
	    mpt_tcp_hdr_parse(&th, pkt + ip.hdr_len, ip.payload_len) < 0)
		return true;
	struct mpt_mptcp_parse_ctx ctx = {.version = MPT_MPTCP_V1,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(th.flags),
					  .ext = MPT_MPTCP_EXT_EXTKEY};
	for (size_t i = 0; i + 1 < th.opt_len;) {
		uint8_t kind = th.opt[i];
		if (kind == MPT_TCPOPT_EOL)
			break;
		if (kind == MPT_TCPOPT_NOP) {
			i++;
			continue;
		}
		uint8_t ol = th.opt[i + 1];
		if (ol < 2 || i + ol > th.opt_len)
			break;
		struct mpt_mptcp_opt o;
		bool syn = th.flags == MPT_TCP_SYN;
		if (kind == MPT_TCPOPT_MPTCP && ol == MPT_EXTKEY_OFFER_LEN &&
		    th.opt[i + 2] >> 4 == MPT_EXTKEY_OFFER_SUBTYPE &&
		    th.opt[i + 3] == MPT_EXTKEY_OFFER_ID && syn)
			e->offer++;
		if (kind == MPT_TCPOPT_MPTCP && mpt_mptcp_parse(&o, th.opt + i, ol, &ctx) == 0 &&
		    !o.unknown) {
			if (o.subtype == MPT_MPTCP_MP_CAPABLE) {
				e->mpc[dir]++;
				if (o.u.mpc.flags & MPT_MPC_F_E)
					e->mpc_e[dir]++;
				e->syn_mpc += syn;
				e->syn_e += syn && (o.u.mpc.flags & MPT_MPC_F_E);
			} else if (o.subtype == MPT_MPTCP_MP_JOIN &&
				   o.u.join.form == MPT_JOIN_SYN && dir == 0 && e->njoin < 8) {
				e->join_kid[e->njoin++] = o.key_id;
				if (e->flip_join_kid && !e->flipped) {
					/* K is a flag in the subtype byte (draft
					 * §4.3); the SYN carries no HMAC, so only
					 * the key check can catch it. */
					size_t at = (size_t)(th.opt - (pkt + ip.hdr_len)) + i + 2;
					pkt[ip.hdr_len + at] |= MPT_EXTKEY_K_JOIN;
					mpt_tcp_csum_fill(pkt + ip.hdr_len, ip.payload_len, &ip.src,
							  &ip.dst);
					e->flipped++;
				}
			} else if (o.subtype == MPT_EXTKEY_SUBTYPE) {
				e->new_key[dir]++;
			} else if (o.subtype == MPT_MPTCP_ADD_ADDR && !o.u.add_addr.echo &&
				   dir == 1 && e->corrupt_add_addr && !e->corrupted) {
				/* The HMAC is the option's last 8 bytes: flip one
				 * and fix the TCP checksum (an on-path forger
				 * without the key). */
				size_t at = (size_t)(th.opt - (pkt + ip.hdr_len)) + i + ol - 1;
				pkt[ip.hdr_len + at] ^= 0x5a;
				mpt_tcp_csum_fill(pkt + ip.hdr_len, ip.payload_len, &ip.src,
						  &ip.dst);
				e->corrupted++;
			}
		}
		i += ol;
	}
	return true;
}

static void run(struct mscn *sc, struct ek *e, struct mout *o)
{
	sc->tweak = tweak;
	sc->setup = setup;
	sc->setup_arg = e;
	sc->tamper = watch;
	sc->tamper_arg = e;
	run_mscn(sc, o);
	assert_int_equal(o->live_after, 0);
}

/* ---- negotiated, with and without a key ------------------------------------------ */

static void test_two_paths_keyed(void **state)
{
	(void)state;
	memset(&K, 0, sizeof(K));
	K.cli = K.srv = MPT_EXT_KEYS_OFFER;
	struct mscn sc = base("external keys, key at 300 ms, 2 paths", 2, 16u * MIB);
	struct ek e;
	memset(&e, 0, sizeof(e));
	e.ngens = 1;
	e.key_at[0] = 300 * MS;
	struct mout o;
	run(&sc, &e, &o);
	mcheck(&sc, &o);
	/* The SYN: RFC 8684's MP_CAPABLE (no E) and the offer (decision 1);
	 * flag E on the SYN/ACK and the third ACK(s). */
	assert_int_equal(e.syn_mpc, 1);
	assert_int_equal(e.syn_e, 0);
	assert_int_equal(e.offer, 1);
	assert_true(e.mpc_e[0] >= 1);
	assert_int_equal(e.mpc_e[0], e.mpc[0] - e.syn_mpc);
	assert_int_equal(e.mpc_e[1], 1);
	assert_int_equal(e.mpc_e[1], e.mpc[1]);
	for (int side = 0; side < 2; side++) {
		assert_int_equal(mcounter(&o, side, "ExtKeyNegotiated"), 1);
		assert_int_equal(mcounter(&o, side, "ExtKeyNewKeyRx"), 1);
		assert_true(mcounter(&o, side, "ExtKeyNewKeyTx") >= 1);
		assert_int_equal(mcounter(&o, side, "ExtKeyNewKeyAbandon"), 0);
		assert_int_equal(mcounter(&o, side, "ExtKeyJoinRefused"), 0);
		assert_int_equal(mcounter(&o, side, "ExtKeyAddAddrDrop"), 0);
		assert_int_equal(e.rc_install[side][0], 0);
	}
	assert_true(e.new_key[0] >= 1 && e.new_key[1] >= 1);
	assert_true(o.ci.ext_keys && o.si.ext_keys);
	assert_int_equal(o.ci.ext_key_gen, 1);
	assert_int_equal(o.si.ext_key_gen, 1);
	assert_false(o.ci.ext_key_pending || o.si.ext_key_pending);
	/* Joins under the key (the full mesh: the server announced its
	 * second address under the key too), all with key id 0. */
	assert_true(o.nsub_c >= 2);
	assert_true(mcounter(&o, 1, "AddAddrTx") >= 1);
	assert_true(mcounter(&o, 0, "AddAddr") >= 1);
	assert_true(mcounter(&o, 1, "MPJoinAckRx") >= 1);
	assert_true(e.njoin >= 1);
	for (int i = 0; i < e.njoin; i++)
		assert_int_equal(e.join_kid[i], 0);
	/* The API refused what it must. */
	assert_true(e.api_checked);
	assert_int_equal(e.rc_short, MPT_ERR_INVAL);
	assert_int_equal(e.rc_long, MPT_ERR_INVAL);
	assert_int_equal(e.rc_null, MPT_ERR_INVAL);
}

static void test_no_key_single_path(void **state)
{
	(void)state;
	memset(&K, 0, sizeof(K));
	K.cli = K.srv = MPT_EXT_KEYS_OFFER;
	struct mscn sc = base("external keys, no key installed", 2, 4u * MIB);
	struct ek e;
	memset(&e, 0, sizeof(e));
	struct mout o;
	run(&sc, &e, &o);
	mcheck(&sc, &o);
	for (int side = 0; side < 2; side++) {
		assert_int_equal(mcounter(&o, side, "ExtKeyNegotiated"), 1);
		assert_int_equal(mcounter(&o, side, "ExtKeyNewKeyTx"), 0);
		assert_int_equal(mcounter(&o, side, "MPJoinSynTx"), 0);
		assert_int_equal(mcounter(&o, side, "AddAddrTx"), 0);
	}
	assert_int_equal(o.nsub_c, 1);
	assert_true(o.ci.ext_keys && o.si.ext_keys);
	assert_int_equal(o.ci.ext_key_gen, 0);
	assert_int_equal(e.njoin, 0);
	assert_int_equal(e.new_key[0] + e.new_key[1], 0);
}

/* The configured key (knob ext_key): installed by the engine itself. */
static void test_configured_key(void **state)
{
	(void)state;
	memset(&K, 0, sizeof(K));
	K.cli = MPT_EXT_KEYS_REQUIRE;
	K.srv = MPT_EXT_KEYS_OFFER;
	K.cfg_key = true;
	struct mscn sc = base("external keys, configured key, 2 paths", 2, 16u * MIB);
	struct ek e;
	memset(&e, 0, sizeof(e));
	struct mout o;
	run(&sc, &e, &o);
	mcheck(&sc, &o);
	for (int side = 0; side < 2; side++) {
		assert_int_equal(mcounter(&o, side, "ExtKeyNegotiated"), 1);
		assert_int_equal(mcounter(&o, side, "ExtKeyNewKeyRx"), 1);
		assert_int_equal(mcounter(&o, side, "ExtKeyRefused"), 0);
	}
	assert_int_equal(o.ci.ext_key_gen, 1);
	assert_int_equal(o.si.ext_key_gen, 1);
	assert_true(o.nsub_c >= 2);
	assert_true(mcounter(&o, 1, "MPJoinAckRx") >= 1);
	assert_true(e.njoin >= 1);
}

/* DSS checksums asked by the listener only (flag A in its SYN/ACK): the
 * initiator must take them from the SYN/ACK with external keys as without. */
static void test_checksum_from_listener(void **state)
{
	(void)state;
	memset(&K, 0, sizeof(K));
	K.cli = K.srv = MPT_EXT_KEYS_OFFER;
	struct mscn sc = base("external keys, checksums asked by the listener", 2, 8u * MIB);
	sc.srv_csum = true;
	struct ek e;
	memset(&e, 0, sizeof(e));
	e.ngens = 1;
	e.key_at[0] = 200 * MS;
	struct mout o;
	run(&sc, &e, &o);
	mcheck(&sc, &o);
	assert_true(o.ci.ext_keys && o.si.ext_keys);
	assert_int_equal(o.ci.mptcpi_csum_enabled, 1);
	assert_int_equal(o.si.mptcpi_csum_enabled, 1);
	for (int side = 0; side < 2; side++) {
		assert_int_equal(mcounter(&o, side, "DataCsumErr"), 0);
		assert_int_equal(mcounter(&o, side, "MPFailTx"), 0);
		assert_int_equal(mcounter(&o, side, "InfiniteMapRx"), 0);
	}
	assert_true(o.nsub_c >= 2);
}

/* A forged ADD_ADDR under external keys (docs/security.md): the
 * listener's first one reaches the client with a wrong HMAC: dropped and
 * counted; its retransmission (RFC 8684 §3.4.1, 2 s) is accepted and the
 * client joins the announced address. */
static void test_forged_add_addr(void **state)
{
	(void)state;
	memset(&K, 0, sizeof(K));
	K.cli = K.srv = MPT_EXT_KEYS_OFFER;
	struct mscn sc = base("external keys, ADD_ADDR with a wrong HMAC", 2, 24u * MIB);
	struct ek e;
	memset(&e, 0, sizeof(e));
	e.ngens = 1;
	e.key_at[0] = 200 * MS;
	e.corrupt_add_addr = true;
	struct mout o;
	run(&sc, &e, &o);
	mcheck(&sc, &o);
	assert_int_equal(e.corrupted, 1);
	assert_int_equal(mcounter(&o, 0, "ExtKeyAddAddrDrop"), 1);
	assert_int_equal(mcounter(&o, 0, "AddAddrDrop"), 0);
	assert_true(mcounter(&o, 1, "AddAddrTx") >= 1);
	assert_true(mcounter(&o, 0, "AddAddr") >= 1); /* the retransmission */
	assert_true(o.nsub_c >= 3);                   /* joins to the announced address too */
}

/* A join naming a key id the listener never installed (key 1; only key 0
 * exists) is refused at its SYN with a RST, counted, and holds nothing;
 * the other joins and the transfer go on. */
static void test_join_unknown_key_id(void **state)
{
	(void)state;
	memset(&K, 0, sizeof(K));
	K.cli = K.srv = MPT_EXT_KEYS_OFFER;
	struct mscn sc = base("external keys, a join naming an uninstalled key id", 2, 16u * MIB);
	struct ek e;
	memset(&e, 0, sizeof(e));
	e.ngens = 1;
	e.key_at[0] = 200 * MS;
	e.flip_join_kid = true;
	struct mout o;
	run(&sc, &e, &o);
	mcheck(&sc, &o);
	assert_int_equal(e.flipped, 1);
	assert_int_equal(mcounter(&o, 1, "ExtKeyJoinRefused"), 1);
	assert_int_equal(mcounter(&o, 0, "ExtKeyJoinRefused"), 0);
	assert_true(mcounter(&o, 1, "MPJoinAckRx") >= 1); /* the other joins */
	assert_int_equal(o.si.ext_key_gen, 1);
}

/* ---- a rekey mid-transfer ----------------------------------------------------------- */

static void test_rekey(void **state)
{
	(void)state;
	memset(&K, 0, sizeof(K));
	K.cli = K.srv = MPT_EXT_KEYS_OFFER;
	K.cli_pm_none = true; /* the test opens the joins */
	struct mscn sc = base("external keys, rekey between two joins", 3, 24u * MIB);
	struct ek e;
	memset(&e, 0, sizeof(e));
	e.ngens = 2;
	e.key_at[0] = 200 * MS;
	e.join_at[1] = 1 * SEC;
	e.key_at[1] = 2 * SEC;
	e.join_at[2] = 3 * SEC;
	struct mout o;
	run(&sc, &e, &o);
	mcheck(&sc, &o);
	assert_true(o.res.t_done > 3 * SEC + 500 * MS); /* the second join had work */
	for (int side = 0; side < 2; side++) {
		assert_int_equal(e.rc_install[side][0], 0);
		assert_int_equal(e.rc_install[side][1], 0);
		assert_int_equal(mcounter(&o, side, "ExtKeyNewKeyRx"), 2);
		assert_int_equal(mcounter(&o, side, "ExtKeyJoinRefused"), 0);
		assert_int_equal(mcounter(&o, side, "ExtKeyNewKeyAbandon"), 0);
	}
	assert_int_equal(e.rc_again, MPT_ERR_AGAIN); /* key 1 while key 0 was pending */
	assert_int_equal(e.rc_join[1], 0);
	assert_int_equal(e.rc_join[2], 0);
	assert_int_equal(e.njoin, 2);
	assert_int_equal(e.join_kid[0], 0);
	assert_int_equal(e.join_kid[1], 1);
	assert_int_equal(mcounter(&o, 1, "MPJoinAckRx"), 2);
	assert_int_equal(o.nsub_c, 3);
	assert_int_equal(o.ci.ext_key_gen, 2);
	assert_int_equal(o.si.ext_key_gen, 2);
}

/* ---- negotiation down, and "external keys or nothing" ------------------------------ */

static void downgrade(uint8_t cli, uint8_t srv)
{
	memset(&K, 0, sizeof(K));
	K.cli = cli;
	K.srv = srv;
	char name[64];
	snprintf(name, sizeof(name), "external keys: client %u, server %u", cli, srv);
	struct mscn sc = base(name, 2, 8u * MIB);
	struct ek e;
	memset(&e, 0, sizeof(e));
	e.ngens = 1;
	e.key_at[0] = 200 * MS; /* refused: nothing was negotiated */
	struct mout o;
	run(&sc, &e, &o);
	mcheck(&sc, &o);
	for (int side = 0; side < 2; side++) {
		assert_int_equal(mcounter(&o, side, "ExtKeyNegotiated"), 0);
		assert_int_equal(e.rc_install[side][0], MPT_ERR_STATE);
	}
	assert_false(o.ci.ext_keys || o.si.ext_keys);
	assert_int_equal(o.ci.version, 1);
	assert_false(o.ci.fallback);
	assert_true(o.nsub_c >= 2); /* RFC 8684 joins, with the handshake's keys */
	assert_int_equal(e.mpc_e[1], 0);
	assert_int_equal(e.njoin >= 1, true);
}

static void test_downgrade(void **state)
{
	(void)state;
	downgrade(MPT_EXT_KEYS_OFFER, MPT_EXT_KEYS_OFF);
	downgrade(MPT_EXT_KEYS_OFF, MPT_EXT_KEYS_OFFER);
}

static void refused(uint8_t cli, uint8_t srv, int side, bool cli_tcp)
{
	memset(&K, 0, sizeof(K));
	K.cli = cli;
	K.srv = srv;
	char name[80];
	snprintf(name, sizeof(name), "external keys or nothing: client %u%s, server %u", cli,
		 cli_tcp ? " (plain TCP)" : "", srv);
	struct mscn sc = base(name, 1, 1u * MIB);
	sc.cli_off = cli_tcp;
	sc.budget_ns = 5 * SEC;
	struct ek e;
	memset(&e, 0, sizeof(e));
	struct mout o;
	run(&sc, &e, &o);
	assert_true(mcounter_end(&o, side, "ExtKeyRefused") >= 1);
	assert_int_equal(mcounter_end(&o, 0, "ExtKeyNegotiated"), 0);
	assert_int_equal(o.res.received, 0);
	assert_int_not_equal(o.res.client_err, 0);
}

static void test_require(void **state)
{
	(void)state;
	refused(MPT_EXT_KEYS_REQUIRE, MPT_EXT_KEYS_OFF, 0, false);
	refused(MPT_EXT_KEYS_OFF, MPT_EXT_KEYS_REQUIRE, 1, false);
	refused(MPT_EXT_KEYS_OFF, MPT_EXT_KEYS_REQUIRE, 1, true); /* a plain TCP client */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_paths_keyed),
	    cmocka_unit_test(test_no_key_single_path),
	    cmocka_unit_test(test_rekey),
	    cmocka_unit_test(test_downgrade),
	    cmocka_unit_test(test_require),
	    cmocka_unit_test(test_configured_key),
	    cmocka_unit_test(test_checksum_from_listener),
	    cmocka_unit_test(test_forged_add_addr),
	    cmocka_unit_test(test_join_unknown_key_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
