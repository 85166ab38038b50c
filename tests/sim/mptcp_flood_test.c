/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Floods.  SYN cookies (RFC 4987 §3.6; RFC 8684 §3.1 for MPTCP): a listener that
 * answers statelessly still gets every byte across, for plain TCP, MPTCP
 * v1 and v0 (joins included), with and without timestamps; a flood of
 * spoofed SYNs (plain and MP_CAPABLE) does not keep a legitimate client out
 * and none of its connections reaches the application; an ACK with a wrong
 * cookie creates nothing.  Joins: 10,000 spoofed MP_JOIN SYNs with the
 * connection's real token (anyone who saw the handshake can make them, RFC
 * 7430 §2.2) do not keep a legitimate join from a new path out.
 */
#include "mptcp_scn.h"

#include "crypto/crypto.h"
#include "tcp/tcp.h"

#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

static uint8_t g_mode;
static bool g_cli_no_ts;

static void tweak(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	sv->tcp.syncookies = g_mode;
	if (g_cli_no_ts)
		cc->tcp.no_timestamps = true;
}

static struct mscn base(const char *name, size_t npaths, int version)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = 16u * MIB;
	sc.seed = 5;
	sc.npaths = npaths;
	for (size_t i = 0; i < npaths; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.cli_version = version + 1;
	sc.budget_ns = npaths == 1 ? 2 * SEC : SEC + SEC / 2;
	sc.tweak = tweak;
	return sc;
}

static void always(const char *name, size_t npaths, int version, bool mptcp, bool no_ts)
{
	struct mscn sc = base(name, npaths, version);
	sc.cli_off = !mptcp;
	g_mode = MPT_SYNCOOKIES_ALWAYS;
	g_cli_no_ts = no_ts;
	if (no_ts) /* no window scaling: 64 KiB per 20 ms RTT, 26 Mbit/s */
		sc.budget_ns = 5500 * MS;
	struct mout o;
	run_mscn(&sc, &o);
	g_cli_no_ts = false;
	mcheck(&sc, &o);
	assert_true(mcounter(&o, 1, "SyncookiesSent") >= 1);
	assert_true(mcounter(&o, 1, "SyncookiesRecv") >= 1);
	assert_int_equal(mcounter(&o, 1, "SyncookiesFailed"), 0);
	if (mptcp) {
		assert_true(o.c_enabled);
		assert_false(o.ci.fallback);
		assert_int_equal(o.ci.version, version);
		assert_int_equal(mcounter(&o, 1, "MPCapableSyncookie"), 1);
		if (npaths > 1) /* joins to a cookie-made connection work */
			assert_true(mcounter(&o, 1, "MPJoinAckRx") >= 1);
	} else {
		assert_false(o.c_enabled);
	}
	/* the handshake gave no bogus RTT: the sampled subflows' RTT is
	 * about the path's 20 ms, not 0 and not 20 + 64 ms */
	for (int i = 0; i < o.nsub_last && i < 16; i++)
		if (o.sub[i].srtt_ns)
			assert_true(o.sub[i].srtt_ns >= 15 * MS && o.sub[i].srtt_ns < 80 * MS);
}

static void test_tcp(void **state)
{
	(void)state;
	always("cookies always: plain TCP", 1, 1, false, false);
}

static void test_v1(void **state)
{
	(void)state;
	always("cookies always: MPTCP v1, 2 paths", 2, 1, true, false);
}

static void test_v0(void **state)
{
	(void)state;
	always("cookies always: MPTCP v0, 2 paths", 2, 0, true, false);
}

static void test_v1_no_ts(void **state)
{
	(void)state;
	always("cookies always: v1, no timestamps", 1, 1, true, true);
}

/* ---- a flood of spoofed SYNs ------------------------------------------------- */

static unsigned g_flood_n;
static bool g_flood_mpc;
static bool g_bad_ack;

static bool pass(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len, size_t cap,
		 uint64_t now)
{
	(void)x, (void)path, (void)dir, (void)pkt, (void)len, (void)cap, (void)now;
	return true;
}

/* A SYN (or, with ack set, a bare ACK) from 10.0.0.<host>:<port> to the
 * server's 10.0.0.2:5001. */
static size_t spoof(uint8_t *out, uint32_t host, uint16_t port, uint32_t seq, bool mpc,
		    uint32_t ack)
{
	uint8_t opt[40];
	size_t ol = 0;
	struct mpt_tcp_opts_out o;
	memset(&o, 0, sizeof(o));
	if (!ack) {
		o.present = MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_SACK_PERM | MPT_TCPOPT_F_WSCALE |
			    MPT_TCPOPT_F_TS;
		o.mss = 1460;
		o.wscale = 7;
		o.tsval = seq;
	}
	int r = mpt_tcp_opts_emit(opt, sizeof(opt), &o, NULL);
	assert_true(r >= 0);
	ol = (size_t)r;
	if (mpc && !ack) {
		struct mpt_mptcp_opt m;
		memset(&m, 0, sizeof(m));
		m.subtype = MPT_MPTCP_MP_CAPABLE;
		m.version = 1;
		m.u.mpc.form = MPT_MPC_NOKEY;
		m.u.mpc.flags = MPT_MPC_F_H;
		int n = mpt_mptcp_emit(opt + ol, sizeof(opt) - ol, &m);
		assert_true(n > 0);
		ol += (size_t)n;
	}
	while (ol % 4)
		opt[ol++] = 1;
	struct mpt_tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.sport = port;
	h.dport = 5001;
	h.seq = seq;
	h.ack = ack;
	h.flags = ack ? MPT_TCP_ACK : MPT_TCP_SYN;
	h.window = 65535;
	struct mpt_ip_hdr ip;
	memset(&ip, 0, sizeof(ip));
	char a[32];
	snprintf(a, sizeof(a), "10.0.%u.%u", 100 + (host >> 8 & 0x7f), host & 0xff);
	assert_int_equal(mpt_addr_parse(&ip.src, a), 0);
	assert_int_equal(mpt_addr_parse(&ip.dst, "10.0.0.2"), 0);
	ip.proto = MPT_IPPROTO_TCP;
	ip.ttl = 64;
	int n = mpt_tcp_hdr_emit(out + 20, 100, &h, opt, ol);
	assert_true(n > 0);
	mpt_tcp_csum_fill(out + 20, (size_t)n, &ip.src, &ip.dst);
	ip.payload_len = (size_t)n;
	assert_int_equal(mpt_ip_emit(out, 20, &ip), 20);
	return 20 + (size_t)n;
}

static struct mctx *g_x;

static void keep(struct mctx *x, void *arg)
{
	(void)arg;
	g_x = x;
}

static void flood(struct mpt_sim *sim, void *arg)
{
	(void)sim, (void)arg;
	uint8_t pkt[160];
	for (unsigned i = 0; i < g_flood_n; i++) {
		size_t n = spoof(pkt, i % 30000, (uint16_t)(1024 + i % 60000), i * 2654435761u,
				 g_flood_mpc && (i & 1), 0);
		mscn_inject(g_x, 0, 0, pkt, n);
		if (g_bad_ack) {
			/* an ACK that guesses a cookie */
			n = spoof(pkt, i % 30000, (uint16_t)(1024 + i % 60000), i * 2654435761u + 1,
				  false, i * 77u + 1);
			mscn_inject(g_x, 0, 0, pkt, n);
		}
	}
}

static void flooded(const char *name, uint8_t mode, bool mpc, bool bad_ack)
{
	struct mscn sc = base(name, 1, 1);
	sc.tamper = pass;
	sc.setup = keep;
	sc.at_start = flood;
	sc.at_t = 0;
	g_mode = mode;
	g_flood_n = 10000;
	g_flood_mpc = mpc;
	g_bad_ack = bad_ack;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	/* the half-open table filled up, the rest got cookies, and the
	 * legitimate client got through (within the usual budget: 2 s) */
	assert_true(mcounter(&o, 1, "SyncookiesSent") >= 10000 - 16);
	assert_true(mcounter(&o, 1, "SyncookiesRecv") >= 1);
	assert_int_equal(mcounter(&o, 1, "TcpPassiveOpens"), 16 + 1);
	printf("    cookies sent %llu, bad cookies %llu\n",
	       (unsigned long long)mcounter(&o, 1, "SyncookiesSent"),
	       (unsigned long long)mcounter(&o, 1, "SyncookiesFailed"));
	if (bad_ack)
		assert_true(mcounter(&o, 1, "SyncookiesFailed") >= 10000 - 16);
	/* the server's application saw one connection: the transfer */
	assert_int_equal(o.res.received, sc.bytes);
}

static void test_flood_tcp(void **state)
{
	(void)state;
	flooded("10,000 spoofed SYNs, then a client", MPT_SYNCOOKIES_AUTO, false, false);
}

static void test_flood_mpc(void **state)
{
	(void)state;
	flooded("10,000 spoofed (MP_CAPABLE) SYNs", MPT_SYNCOOKIES_AUTO, true, false);
}

static void test_flood_bad_acks(void **state)
{
	(void)state;
	flooded("10,000 SYNs + 10,000 guessed ACKs", MPT_SYNCOOKIES_AUTO, true, true);
}

/* ---- a flood of spoofed joins ----------------------------------------------- */

static uint64_t g_srv_key;
static bool g_have_key;
static unsigned g_joins;

static bool grab_key(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len, size_t cap,
		     uint64_t now)
{
	(void)x, (void)path, (void)cap, (void)now;
	/* RFC 8684 §3.1: the server's key is in the clear in its SYN/ACK. */
	struct mpt_ip_hdr ip;
	if (g_have_key || dir != 1 || mpt_ip_parse(&ip, pkt, *len, false) < 0)
		return true;
	struct mpt_tcp_seg seg;
	memset(&seg, 0, sizeof(seg));
	if (mpt_tcp_hdr_parse(&seg.hdr, pkt + ip.hdr_len, ip.payload_len) < 0 ||
	    mpt_tcp_opts_parse(&seg.opts, seg.hdr.opt, seg.hdr.opt_len) < 0)
		return true;
	if ((seg.hdr.flags & (MPT_TCP_SYN | MPT_TCP_ACK)) != (MPT_TCP_SYN | MPT_TCP_ACK))
		return true;
	for (unsigned i = 0; i < seg.opts.n_mptcp; i++) {
		const uint8_t *o = seg.hdr.opt + seg.opts.mptcp[i].off;
		if (seg.opts.mptcp[i].len == 12 && (o[2] >> 4) == MPT_MPTCP_MP_CAPABLE) {
			g_srv_key = mpt_get64(o + 4);
			g_have_key = true;
		}
	}
	return true;
}

static void one_client_addr(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	(void)sv;
	cc->n_local = 1;
}

static void add_client_addr(struct mpt_sim *sim, void *arg)
{
	(void)arg;
	struct mpt_addr p1;
	assert_int_equal(mpt_addr_parse(&p1, "10.0.1.1"), 0);
	assert_int_equal(mpt_stack_add_local_addr(mpt_simhost_stack(g_x->c), &p1, mpt_sim_now(sim)),
			 0);
	mpt_sim_node_kick(sim, mpt_simhost_node(g_x->c));
}

static void join_flood(struct mpt_sim *sim, void *arg)
{
	(void)arg;
	assert_true(g_have_key);
	uint32_t tok = 0;
	assert_int_equal(mpt_key_token_idsn(1, g_srv_key, &tok, NULL), 0);
	for (unsigned i = 0; i < g_joins; i++) {
		uint8_t opt[16], pkt[120];
		struct mpt_mptcp_opt m;
		memset(&m, 0, sizeof(m));
		m.subtype = MPT_MPTCP_MP_JOIN;
		m.version = 1;
		m.u.join.form = MPT_JOIN_SYN;
		m.u.join.token = tok;
		m.u.join.nonce = i * 2654435761u;
		m.u.join.addr_id = 9;
		int ol = mpt_mptcp_emit(opt, sizeof(opt), &m);
		assert_int_equal(ol, 12);
		struct mpt_tcp_hdr h;
		memset(&h, 0, sizeof(h));
		h.sport = (uint16_t)(1024 + i % 60000);
		h.dport = 5001;
		h.seq = i * 7919u;
		h.flags = MPT_TCP_SYN;
		h.window = 65535;
		struct mpt_ip_hdr ip;
		memset(&ip, 0, sizeof(ip));
		char a[32];
		snprintf(a, sizeof(a), "10.0.%u.%u", 100 + (i >> 8 & 0x7f), i & 0xff);
		assert_int_equal(mpt_addr_parse(&ip.src, a), 0);
		assert_int_equal(mpt_addr_parse(&ip.dst, "10.0.0.2"), 0);
		ip.proto = MPT_IPPROTO_TCP;
		ip.ttl = 64;
		int n = mpt_tcp_hdr_emit(pkt + 20, 100, &h, opt, (size_t)ol);
		assert_true(n > 0);
		mpt_tcp_csum_fill(pkt + 20, (size_t)n, &ip.src, &ip.dst);
		ip.payload_len = (size_t)n;
		assert_int_equal(mpt_ip_emit(pkt, 20, &ip), 20);
		mscn_inject(g_x, 0, 0, pkt, 20 + (size_t)n);
	}
	/* 0.2 s later the client gets its second address */
	assert_int_equal(mpt_sim_at(sim, mpt_sim_now(sim) + 200 * MS, add_client_addr, NULL), 0);
}

static void test_join_flood(void **state)
{
	(void)state;
	/* 16 MiB over one path takes ~1.5 s; at 0.3 s 10,000 joins with the
	 * token arrive; at 0.5 s the client gets its second address and joins
	 * from it: that join must succeed and carry data. */
	struct mscn sc = base("10,000 spoofed joins, then a real one", 2, 1);
	sc.tweak = one_client_addr;
	sc.tamper = grab_key;
	sc.setup = keep;
	sc.at_start = join_flood;
	sc.at_t = 300 * MS;
	g_have_key = false;
	g_joins = 10000;
	struct mout o;
	/* the second address arrives later (a second timed action) */
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	printf("    joins evicted %llu, rejected %llu, legit join acks %llu\n",
	       (unsigned long long)mcounter(&o, 1, "MPJoinPendingEvict"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinRejected"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinAckRx"));
	assert_true(mcounter(&o, 1, "MPJoinSynRx") >= 10000);
	assert_true(mcounter(&o, 1, "MPJoinPendingEvict") >= 10000 - 8);
	/* fullmesh: one join to the server's announced address before the
	 * flood, two from the new address after it */
	assert_int_equal(mcounter(&o, 1, "MPJoinAckRx"), 3);
	assert_int_equal(o.ci.mptcpi_subflows_total, 4);
	assert_true(o.wire_fwd[1] > 2 * MIB); /* the real join carried data */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_v1),
	    cmocka_unit_test(test_v0),
	    cmocka_unit_test(test_v1_no_ts),
	    cmocka_unit_test(test_flood_tcp),
	    cmocka_unit_test(test_flood_mpc),
	    cmocka_unit_test(test_flood_bad_acks),
	    cmocka_unit_test(test_join_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
