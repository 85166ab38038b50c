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

/* The TCP options of a spoofed SYN (none on a bare ACK), into opt. */
static size_t spoof_tcp_opts(uint8_t *opt, size_t cap, uint32_t seq, uint32_t ack)
{
	struct mpt_tcp_opts_out o;
	memset(&o, 0, sizeof(o));
	if (!ack) {
		o.present = MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_SACK_PERM | MPT_TCPOPT_F_WSCALE |
			    MPT_TCPOPT_F_TS;
		o.mss = 1460;
		o.wscale = 7;
		o.tsval = seq;
	}
	int r = mpt_tcp_opts_emit(opt, cap, &o, NULL);
	assert_true(r >= 0);
	return (size_t)r;
}

/* The IPv4 packet from 10.0.<100+host>:<port> to 10.0.0.2:5001 with these
 * options (padded here; opt has room for it): a SYN, or an ACK when ack != 0.
 * Returns its length. */
static size_t spoof_pkt(uint8_t *out, size_t tcp_cap, uint32_t host, uint16_t port, uint32_t seq,
			uint32_t ack, uint8_t *opt, size_t ol)
{
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
	int n = mpt_tcp_hdr_emit(out + 20, tcp_cap, &h, opt, ol);
	assert_true(n > 0);
	mpt_tcp_csum_fill(out + 20, (size_t)n, &ip.src, &ip.dst);
	ip.payload_len = (size_t)n;
	assert_int_equal(mpt_ip_emit(out, 20, &ip), 20);
	return 20 + (size_t)n;
}

/* A SYN (or, with ack set, a bare ACK) from 10.0.0.<host>:<port> to the
 * server's 10.0.0.2:5001. */
static size_t spoof(uint8_t *out, uint32_t host, uint16_t port, uint32_t seq, bool mpc,
		    uint32_t ack)
{
	uint8_t opt[40];
	size_t ol = 0;
	ol = spoof_tcp_opts(opt, sizeof(opt), seq, ack);
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
	return spoof_pkt(out, 100, host, port, seq, ack, opt, ol);
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
	/* 32 MiB over one path take ~3 s; at 0.3 s 10,000 joins with the
	 * token arrive at once; at 0.5 s the client gets its second address
	 * and joins from it: that join must succeed and carry data.  A burst
	 * larger than the join-record table (4096) within 1 s fills it with
	 * records too young to replace: the real join's first SYN is dropped
	 * (MPJoinRecFull) and its retransmission 1 s later gets in. */
	struct mscn sc = base("10,000 spoofed joins, then a real one", 2, 1);
	sc.bytes = 32u * MIB;
	sc.budget_ns = 3 * SEC;
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
	printf("    join records replaced %llu, SYNs dropped (table full) %llu, rejected %llu, "
	       "legit join acks %llu\n",
	       (unsigned long long)mcounter(&o, 1, "MPJoinPendingEvict"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinRecFull"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinRejected"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinAckRx"));
	assert_true(mcounter(&o, 1, "MPJoinSynRx") >= 10000);
	/* 4096 records taken, the rest of the burst and the real join's
	 * first SYN(s) dropped; its retransmission replaced an old record */
	assert_true(mcounter(&o, 1, "MPJoinRecFull") >= 10000 - 4096 + 1);
	assert_true(mcounter(&o, 1, "MPJoinPendingEvict") >= 1);
	/* fullmesh: one join to the server's announced address before the
	 * flood, two from the new address after it */
	assert_int_equal(mcounter(&o, 1, "MPJoinAckRx"), 3);
	assert_int_equal(o.ci.mptcpi_subflows_total, 4);
	assert_true(o.wire_fwd[1] > 2 * MIB); /* the real join carried data */
}

/* ---- join records (issue 11): a sustained flood, refused third ACKs ------- */

static struct mpt_test_mem g_smem; /* the server stack's own allocator */
static uint64_t g_cli_key;
static bool g_have_ckey;

/* A join segment from spoofed 10.0.<100+..>.<..>:port to the server's
 * 10.0.0.2:5001: a SYN with the usual TCP options and MP_JOIN (SYN form,
 * token tok, nonce), or an ACK (ack != 0) with MP_JOIN's ACK form carrying
 * hmac (NULL: no MP_JOIN).  Returns the packet's length. */
static size_t join_seg(uint8_t *out, uint32_t host, uint16_t port, uint32_t seq, uint32_t ack,
		       uint32_t tok, uint32_t nonce, const uint8_t *hmac)
{
	uint8_t opt[60];
	size_t ol = spoof_tcp_opts(opt, sizeof(opt), seq, ack);
	struct mpt_mptcp_opt m;
	memset(&m, 0, sizeof(m));
	m.subtype = MPT_MPTCP_MP_JOIN;
	m.version = 1;
	if (!ack) {
		m.u.join.form = MPT_JOIN_SYN;
		m.u.join.token = tok;
		m.u.join.nonce = nonce;
		m.u.join.addr_id = 9;
	} else {
		m.u.join.form = MPT_JOIN_ACK;
		if (hmac)
			memcpy(m.u.join.hmac, hmac, MPT_CRYPTO_JOIN_ACK_LEN);
	}
	if (!ack || hmac) {
		int n = mpt_mptcp_emit(opt + ol, sizeof(opt) - ol, &m);
		assert_true(n > 0);
		ol += (size_t)n;
	}
	return spoof_pkt(out, 120, host, port, seq, ack, opt, ol);
}

static uint32_t srv_token(void)
{
	uint32_t tok = 0;
	assert_true(g_have_key);
	assert_int_equal(mpt_key_token_idsn(1, g_srv_key, &tok, NULL), 0);
	return tok;
}

/* Both keys (RFC 8684 §3.1: the MP_CAPABLE third ACK carries them in the
 * clear) and the server's SYN/ACKs to spoofed hosts (10.0.100+.x). */
#define NSPY 8
static struct {
	uint16_t port;
	uint32_t iss, nonce; /* the server's ISN and R_B */
	bool seen;
} g_spy[NSPY];

static bool grab_keys(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len, size_t cap,
		      uint64_t now)
{
	(void)grab_key(x, path, dir, pkt, len, cap, now);
	struct mpt_ip_hdr ip;
	struct mpt_tcp_seg seg;
	memset(&seg, 0, sizeof(seg));
	if (mpt_ip_parse(&ip, pkt, *len, false) < 0 ||
	    mpt_tcp_hdr_parse(&seg.hdr, pkt + ip.hdr_len, ip.payload_len) < 0 ||
	    mpt_tcp_opts_parse(&seg.opts, seg.hdr.opt, seg.hdr.opt_len) < 0)
		return true;
	for (unsigned i = 0; i < seg.opts.n_mptcp; i++) {
		const uint8_t *o = seg.hdr.opt + seg.opts.mptcp[i].off;
		uint8_t st = o[2] >> 4;
		if (dir == 0 && !g_have_ckey && st == MPT_MPTCP_MP_CAPABLE &&
		    seg.opts.mptcp[i].len >= 20) {
			g_cli_key = mpt_get64(o + 4);
			g_have_ckey = true;
		}
		if (dir == 1 && st == MPT_MPTCP_MP_JOIN && seg.opts.mptcp[i].len == 16 &&
		    ip.dst.bytes[2] >= 100) {
			for (int k = 0; k < NSPY; k++)
				if (g_spy[k].port == seg.hdr.dport) {
					g_spy[k].iss = seg.hdr.seq;
					g_spy[k].nonce = mpt_get32(o + 12);
					g_spy[k].seen = true;
				}
		}
	}
	/* spoofed hosts do not exist: nothing of theirs reaches the client */
	return !(dir == 1 && ip.dst.bytes[2] >= 100);
}

/* 2,000 spoofed joins per second (two every millisecond), each from its own
 * 4-tuple, from g_flood_from until g_flood_to; the server stack's heap is
 * sampled at 0.30 s and 0.48 s (before the real join at 0.5 s), and at 2.4 s
 * and 3.2 s (table full: every join SYN replaces the oldest record). */
static uint64_t g_flood_from, g_flood_to;
static unsigned g_jsent;
static long g_mem_allocs[4], g_mem_live[4], g_mem_bytes[4];

static void sample_mem(int k)
{
	g_mem_allocs[k] = g_smem.allocs;
	g_mem_live[k] = g_smem.live;
	g_mem_bytes[k] = g_smem.live_bytes;
}

static void join_tick(struct mpt_sim *sim, void *arg)
{
	(void)arg;
	uint64_t now = mpt_sim_now(sim);
	if (now >= g_flood_to)
		return;
	if (now == 300 * MS)
		sample_mem(0);
	if (now == 480 * MS)
		sample_mem(1);
	if (now == 2400 * MS)
		sample_mem(2);
	if (now == 3200 * MS)
		sample_mem(3);
	uint32_t tok = srv_token();
	uint8_t pkt[200];
	for (int k = 0; k < 2; k++, g_jsent++) {
		unsigned i = g_jsent;
		size_t n = join_seg(pkt, i % 30000, (uint16_t)(1024 + i / 30000), i * 7919u, 0, tok,
				    i * 2654435761u, NULL);
		mscn_inject(g_x, 0, 0, pkt, n);
	}
	assert_int_equal(mpt_sim_at(sim, now + MS, join_tick, NULL), 0);
}

static void join_rate_start(struct mpt_sim *sim, void *arg)
{
	(void)arg;
	join_tick(sim, NULL);
	assert_int_equal(mpt_sim_at(sim, 500 * MS, add_client_addr, NULL), 0);
}

static void srv_own_mem(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	one_client_addr(cc, sv);
	sv->mem = &g_smem.mem;
}

static void test_join_flood_rate(void **state)
{
	(void)state;
	/* RFC 7430 §2.2: anyone who saw the handshake sends valid-token join
	 * SYNs, here 2,000 per second from 0.2 s to 5 s.  At 0.5 s the client
	 * gets a second address and joins over a 40 ms RTT path: its third
	 * ACK comes 40 ms after our SYN/ACK, while 80 spoofed joins arrive.
	 * The join must complete at its first SYN and carry data; the flood
	 * must not allocate, also once the table (4096) is full (from about
	 * 2.25 s) and every spoofed SYN replaces the oldest record.  64 MiB
	 * at 2 x 100 Mbit/s take about 3 s. */
	struct mscn sc = base("2,000 spoofed joins/s, 40 ms join", 2, 1);
	for (size_t i = 0; i < 2; i++)
		sc.path[i].rtt_ns = 40 * MS;
	sc.bytes = 64u * MIB;
	sc.budget_ns = 6 * SEC;
	sc.tweak = srv_own_mem;
	sc.tamper = grab_keys;
	sc.setup = keep;
	sc.at_start = join_rate_start;
	sc.at_t = 200 * MS;
	g_have_key = g_have_ckey = false;
	memset(g_spy, 0, sizeof(g_spy));
	g_jsent = 0;
	g_flood_from = 200 * MS;
	g_flood_to = 5 * SEC;
	mpt_test_mem_init(&g_smem);
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	printf("    spoofed joins sent %u; server: join SYNs %llu, records replaced %llu, "
	       "dropped %llu, third ACKs %llu\n",
	       g_jsent, (unsigned long long)mcounter(&o, 1, "MPJoinSynRx"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinPendingEvict"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinRecFull"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinAckRx"));
	printf("    server heap 0.30 s -> 0.48 s (360 spoofed joins): allocations %ld -> %ld, "
	       "live %ld -> %ld blocks, %ld -> %ld bytes\n",
	       g_mem_allocs[0], g_mem_allocs[1], g_mem_live[0], g_mem_live[1], g_mem_bytes[0],
	       g_mem_bytes[1]);
	assert_true(mcounter(&o, 1, "MPJoinSynRx") >= 2000);
	/* 2,000 per second never fill 4096 records younger than 1 s: no SYN
	 * was dropped, the real one included */
	assert_int_equal(mcounter(&o, 1, "MPJoinRecFull"), 0);
	/* fullmesh: one join to the server's announced address, two from the
	 * client's new address, all completed; nothing else did */
	assert_int_equal(mcounter(&o, 1, "MPJoinAckRx"), 3);
	assert_int_equal(mcounter(&o, 1, "MPJoinAckHMacFailure"), 0);
	assert_true(o.wire_fwd[1] > 2 * MIB); /* the real join carried data */
	/* the flood allocated nothing on the server: same heap, to the byte */
	assert_true(g_mem_allocs[0] > 0);
	assert_int_equal(g_mem_allocs[1], g_mem_allocs[0]);
	assert_int_equal(g_mem_live[1], g_mem_live[0]);
	assert_int_equal(g_mem_bytes[1], g_mem_bytes[0]);
	printf("    server heap 2.4 s -> 3.2 s (1,600 spoofed joins, table full): allocations "
	       "%ld -> %ld, live %ld -> %ld bytes\n",
	       g_mem_allocs[2], g_mem_allocs[3], g_mem_bytes[2], g_mem_bytes[3]);
	assert_true(mcounter(&o, 1, "MPJoinPendingEvict") >= 1000);
	assert_int_equal(g_mem_allocs[3], g_mem_allocs[2]);
	assert_int_equal(g_mem_live[3], g_mem_live[2]);
	assert_int_equal(g_mem_bytes[3], g_mem_bytes[2]);
	assert_int_equal(g_smem.live, 0);
}

/* Third ACKs that must be refused: a wrong HMAC, one for a join never
 * answered, one (with the right HMAC) after its record expired; and one
 * right one, accepted, which shows the test's HMAC is the real thing. */
enum { SPY_BAD = 0, SPY_LATE, SPY_GOOD };

static void third_ack(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	int k = (int)(intptr_t)arg;
	assert_true(g_spy[k].seen);
	assert_true(g_have_ckey);
	uint8_t hmac[MPT_CRYPTO_JOIN_ACK_LEN];
	uint32_t ra = 1000u + (uint32_t)k;
	/* RFC 8684 §3.2: HMAC-A = HMAC(Key-A||Key-B, R-A||R-B) */
	assert_int_equal(mpt_hmac_join_160(1, g_cli_key, g_srv_key, ra, g_spy[k].nonce, hmac), 0);
	if (k == SPY_BAD)
		hmac[5] ^= 0x40;
	uint8_t pkt[200];
	size_t n =
	    join_seg(pkt, 7 + (uint32_t)k, g_spy[k].port, 5000u + 1, g_spy[k].iss + 1, 0, 0, hmac);
	mscn_inject(g_x, 0, 0, pkt, n);
}

static void unknown_ack(struct mpt_sim *sim, void *arg)
{
	(void)sim, (void)arg;
	uint8_t hmac[MPT_CRYPTO_JOIN_ACK_LEN];
	memset(hmac, 0x5a, sizeof(hmac));
	uint8_t pkt[200];
	size_t n = join_seg(pkt, 99, 4242, 12345, 67890, 0, 0, hmac);
	mscn_inject(g_x, 0, 0, pkt, n);
}

/* The accepted spoofed subflow is closed again (its host does not exist). */
static void good_rst(struct mpt_sim *sim, void *arg)
{
	(void)sim, (void)arg;
	uint8_t pkt[200];
	size_t n = join_seg(pkt, 7 + SPY_GOOD, g_spy[SPY_GOOD].port, 5000u + 1,
			    g_spy[SPY_GOOD].iss + 1, 0, 0, NULL);
	pkt[20 + 13] = MPT_TCP_RST | MPT_TCP_ACK;
	struct mpt_ip_hdr ip;
	assert_int_equal(mpt_ip_parse(&ip, pkt, n, false), 0);
	pkt[20 + 16] = pkt[20 + 17] = 0;
	mpt_tcp_csum_fill(pkt + 20, n - 20, &ip.src, &ip.dst);
	mscn_inject(g_x, 0, 0, pkt, n);
}

static void join_syns(struct mpt_sim *sim, void *arg)
{
	(void)arg;
	uint64_t now = mpt_sim_now(sim);
	uint32_t tok = srv_token();
	for (int k = SPY_BAD; k <= SPY_GOOD; k++) {
		g_spy[k].port = (uint16_t)(40000 + k);
		uint8_t pkt[200];
		size_t n = join_seg(pkt, 7 + (uint32_t)k, g_spy[k].port, 5000u, 0, tok,
				    1000u + (uint32_t)k, NULL);
		mscn_inject(g_x, 0, 0, pkt, n);
	}
	/* the server-side link is ideal: the SYN/ACKs are back at once */
	assert_int_equal(mpt_sim_at(sim, now + 10 * MS, third_ack, (void *)(intptr_t)SPY_BAD), 0);
	assert_int_equal(mpt_sim_at(sim, now + 10 * MS, third_ack, (void *)(intptr_t)SPY_GOOD), 0);
	assert_int_equal(mpt_sim_at(sim, now + 20 * MS, good_rst, NULL), 0);
	assert_int_equal(mpt_sim_at(sim, now + 10 * MS, unknown_ack, NULL), 0);
	/* a record lives 7 s */
	assert_int_equal(mpt_sim_at(sim, now + 7500 * MS, third_ack, (void *)(intptr_t)SPY_LATE),
			 0);
}

static void test_join_third_acks(void **state)
{
	(void)state;
	/* one 10 Mbit/s path: 16 MiB take about 14 s, so the connection is
	 * alive for the late third ACK (7.5 s after its SYN) */
	struct mscn sc = base("join third ACKs refused", 1, 1);
	sc.path[0].rate_bps = 10000000;
	sc.budget_ns = 16 * SEC;
	sc.tamper = grab_keys;
	sc.setup = keep;
	sc.at_start = join_syns;
	sc.at_t = 300 * MS;
	g_have_key = g_have_ckey = false;
	memset(g_spy, 0, sizeof(g_spy));
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	printf("    HMAC failures %llu, no record %llu, expired %llu, accepted %llu, RSTs with "
	       "MP_TCPRST %llu\n",
	       (unsigned long long)mcounter(&o, 1, "MPJoinAckHMacFailure"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinAckNoRecord"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinRecExpired"),
	       (unsigned long long)mcounter(&o, 1, "MPJoinAckRx"),
	       (unsigned long long)mcounter(&o, 1, "MPRstTx"));
	assert_int_equal(mcounter(&o, 1, "MPJoinSynRx"), 3);
	assert_int_equal(mcounter(&o, 1, "MPJoinAckHMacFailure"), 1);
	/* the unknown one and the late one */
	assert_int_equal(mcounter(&o, 1, "MPJoinAckNoRecord"), 2);
	assert_int_equal(mcounter(&o, 1, "MPJoinRecExpired"), 1);
	/* the right HMAC in time: a subflow */
	assert_int_equal(mcounter(&o, 1, "MPJoinAckRx"), 1);
	assert_true(mcounter(&o, 1, "MPRstTx") >= 3);
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
	    cmocka_unit_test(test_join_flood_rate),
	    cmocka_unit_test(test_join_third_acks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
