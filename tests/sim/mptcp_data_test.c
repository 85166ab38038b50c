/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP data integrity: one subflow with 1 % loss (v1 and v0, 64 MiB),
 * a path outage in the middle of a two-path transfer (the dead path's
 * unacknowledged data is reinjected on the other; RFC 8684 §3.3.6), and a
 * move to a backup path after the stacks ran out of memory, and what
 * every data segment carries on the wire (payload = its mapping's bytes).
 */
#include "mptcp_scn.h"

#include "base/splitmix.h"
#include "common.h"
#include "crypto/crypto.h"
#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"

/*
 * 1 % loss, 20 ms RTT: the CUBIC/Reno response function (see
 * simtcp_test.c) gives 1.2247/sqrt(p) segments per RTT; with 1420-byte
 * payloads (40 option bytes: timestamps + DSS) that is 6.96 Mbit/s, so
 * 64 MiB ideally takes 77.2 s.  Budget: 1.3x (SACK blocks only fit on
 * pure ACKs, as on the plain-TCP path they always fit).
 */
#define LOSSY_BUDGET (UINT64_C(100400) * MS)

static void lossy(int version, const char *name)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = 64u * MIB;
	sc.seed = 31;
	sc.npaths = 1;
	sc.path[0].rate_bps = 100000000;
	sc.path[0].rtt_ns = 20 * MS;
	sc.path[0].loss = 0.01;
	sc.cli_version = version + 1;
	sc.budget_ns = LOSSY_BUDGET;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_int_equal(o.ci.version, version);
	assert_true(o.ci.mptcpi_retransmits > 100);
}

static void test_lossy_v1(void **state)
{
	(void)state;
	lossy(1, "1 % loss, v1, 64 MiB");
}

static void test_lossy_v0(void **state)
{
	(void)state;
	lossy(0, "1 % loss, v0, 64 MiB");
}

static void test_outage(void **state)
{
	(void)state;
	/* Path 1 is down from 2 s to 60 s (both directions): everything in
	 * flight there is lost and must be reinjected on path 0. */
	static const struct mpt_sim_outage out = {.down_at = 2 * SEC, .up_at = 60 * SEC};
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "2 paths, path 1 down at 2 s";
	sc.bytes = 128u * MIB;
	sc.seed = 41;
	sc.npaths = 2;
	for (int i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.path[1].outage = &out;
	/* ~2 s at 200 Mbit/s, then ~ 128 MiB - 48 MiB at 100 Mbit/s (7 s). */
	sc.budget_ns = 12 * SEC;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.ci.reinjected_bytes > 0);
	assert_true(mcounter(&o, 0, "MPTCPReinject") > 0);
}

/*
 * Out of memory in the middle of a transfer: from 1 s on every allocation
 * of both stacks fails (the simulator's own memory is apart).  Nothing the
 * connection already holds may be lost for it.  Path 1 is a backup: its
 * subflow exists from the start but carries no data until path 0 goes
 * down at 2 s.  Its first mappings then came when no memory was left: the
 * room for them was taken at the first mapping, the mapping was dropped,
 * its bytes (acknowledged by TCP) were never delivered and the transfer
 * stalled for good (found by the stateful fuzzer, stall-d2d3cd48:
 * DSSNoMatchTCP on every segment).  Mapping room now comes with the
 * subflow, and a mapping that finds none is counted and its bytes resent
 * at the data level.
 */
static struct mctx *oom_ctx;
static void oom_remember(struct mctx *x, void *arg)
{
	(void)arg;
	oom_ctx = x;
}
static void oom_start(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	(void)arg;
	oom_ctx->mem->fail_from = oom_ctx->mem->allocs;
}
static void oom_backup(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv)
{
	cc->local_flags[1] = MPT_LOCAL_BACKUP;
	(void)sv;
}

static void test_oom_then_backup(void **state)
{
	(void)state;
	static const struct mpt_sim_outage down = {.down_at = 2 * SEC, .up_at = 600 * SEC};
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "no memory from 1 s, backup from 2 s";
	sc.bytes = 24u * MIB;
	sc.seed = 47;
	sc.npaths = 2;
	for (int i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 50000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.path[0].outage = &down;
	sc.cli_csum = sc.srv_csum = true;
	sc.tweak = oom_backup;
	sc.setup = oom_remember;
	sc.at_start = oom_start;
	sc.at_t = 1 * SEC;
	/* ~2 s on path 0 (12 MiB), the RTO that finds it down (~0.3 s),
	 * then the rest on path 1 at 50 Mbit/s (~2 s). */
	sc.budget_ns = 6 * SEC;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.nsub_c >= 2);
	assert_int_equal(mcounter(&o, 1, "DSSNoMatchTCP"), 0);
}

/*
 * Destroying stacks in the middle of transfers (what `mpt perf` and every
 * tool do at exit): eight MPTCP connections over two paths, both paths cut
 * at 0.7 s and the client's applications close at 1 s, so that every
 * connection has a timer armed (its DATA_FIN's retransmission) when both
 * stacks are destroyed at 1.5 s.  mpt_stack_destroy freed sockets one by one while their nodes
 * were still in the stack's timer heap; releasing a later connection's
 * subflows took their nodes out of the heap, which reads and moves other
 * nodes, a freed socket's among them (the heap-use-after-free ASan found
 * at `mpt perf`'s exit).  Under ASan this test fails without the fix;
 * everywhere, all memory must come back.
 */
#define DESTROY_CONNS 8
static void test_destroy_mid_transfer(void **state)
{
	(void)state;
	struct mpt_test_mem sm, hm;
	mpt_test_mem_init(&sm);
	mpt_test_mem_init(&hm);
	const struct mpt_mem smem = sm.mem, hmem = hm.mem;
	struct mpt_sim *sim;
	assert_int_equal(mpt_sim_create(&smem, 53, &sim), 0);
	struct mpt_stack_cfg cc, sv;
	mpt_stack_cfg_init(&cc);
	cc.mem = &hmem;
	cc.mptcp.enable = true;
	cc.n_local = 2;
	sv = cc;
	for (size_t i = 0; i < 2; i++) {
		addr_for(&cc.local[i], false, i, 1);
		addr_for(&sv.local[i], false, i, 2);
	}
	struct mpt_simhost *c, *s;
	assert_int_equal(mpt_simhost_create(sim, "client", &cc, &c), 0);
	assert_int_equal(mpt_simhost_create(sim, "server", &sv, &s), 0);
	struct mpt_sim_link *lf[2], *lr[2];
	for (size_t i = 0; i < 2; i++) {
		struct mpt_sim_link_cfg l;
		memset(&l, 0, sizeof(l));
		l.rate_bps = 50000000;
		l.delay_ns = 10 * MS;
		l.queue_bytes = 64 * 1500;
		assert_int_equal(mpt_sim_connect(sim, mpt_simhost_node(c), &cc.local[i],
						 mpt_simhost_node(s), &sv.local[i], &l, &l, &lf[i],
						 &lr[i]),
				 0);
	}
	struct mpt_bulk *b[DESTROY_CONNS];
	for (int k = 0; k < DESTROY_CONNS; k++) {
		struct mpt_bulk_cfg bc = {
		    .bytes = 64u * MIB, .port = (uint16_t)(5001 + k), .seed = (uint64_t)k + 1};
		struct mpt_endpoint dst = {.addr = sv.local[0], .port = bc.port};
		assert_int_equal(mpt_bulk_start(c, s, &dst, &bc, &b[k]), 0);
	}
	(void)mpt_sim_run(sim, 700 * MS, NULL, NULL);
	/* The simulator drives one bulk application per host (the last one
	 * started, the newest socket): the others' sockets get bytes here.
	 * Then every application closes, and both paths are cut while the
	 * bytes and DATA_FINs are on the wire: every connection keeps a
	 * DATA_FIN retransmission timer, its subflows their RTOs. */
	static uint8_t chunk[256 * 1024];
	for (int k = 0; k < DESTROY_CONNS; k++) {
		struct mpt_sock *cs = mpt_bulk_client_sock(b[k]);
		if (k < DESTROY_CONNS - 1)
			assert_true(mpt_send(cs, chunk, sizeof(chunk), mpt_sim_now(sim)) > 0);
		mpt_close(cs, mpt_sim_now(sim));
	}
	(void)mpt_sim_run(sim, 702 * MS, NULL, NULL);
	for (size_t i = 0; i < 2; i++) {
		mpt_sim_link_set_up(lf[i], false);
		mpt_sim_link_set_up(lr[i], false);
	}
	(void)mpt_sim_run(sim, 1500 * MS, NULL, NULL);
	uint64_t got = 0;
	for (int k = 0; k < DESTROY_CONNS; k++)
		got += mpt_bulk_received(b[k]);
	/* In the middle of every transfer, with subflows joined. */
	assert_true(got > 1u * MIB);
	assert_true(got < DESTROY_CONNS * 64u * MIB);
	uint64_t joins = 0;
	assert_int_equal(mpt_stack_counter_by_name(mpt_simhost_stack(c), "MPJoinSynAckRx", &joins),
			 0);
	assert_true(joins > 0);
	for (int k = 0; k < DESTROY_CONNS; k++)
		mpt_bulk_destroy(b[k]);
	mpt_simhost_destroy(c);
	mpt_simhost_destroy(s);
	mpt_sim_destroy(sim);
	assert_int_equal(hm.live, 0);
	assert_int_equal(sm.live, 0);
}

/*
 * A subflow that still holds bytes when the data level is done: path 1
 * goes down at 0.3 s with data in flight, the data level sends it again
 * on path 0, the transfer completes and both sides close; path 1 comes
 * back at 2.5 s and its subflow sends its old bytes again (TCP must
 * deliver them before its FIN).  Each of those segments must carry its
 * mapping (RFC 8684 §3.3.1).  The lists of sent mappings were freed with
 * the data-level send buffer once everything was DATA_ACKed, so these
 * retransmissions left without one: Linux resets such a subflow
 * (MP_TCPRST), Wireshark flags "No mapping available" (a CI run of
 * mptcp_wireshark_test, kmatrix's b5 signature); here the receiver counts
 * DSSNoMatchTCP.
 */
static void test_mappings_outlive_data_level(void **state)
{
	(void)state;
	static const struct mpt_sim_outage down = {.down_at = 300 * MS, .up_at = 2500 * MS};
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "path 1 down 0.3-2.5 s, transfer over on path 0";
	sc.bytes = 4u * MIB;
	sc.seed = 59;
	sc.npaths = 2;
	for (int i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 50000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.path[1].outage = &down;
	/* ~0.3 s on both paths, the RTO that finds path 1 down, the rest
	 * (about 3 MiB) on path 0 at 50 Mbit/s: ~0.9 s. */
	sc.budget_ns = 3 * SEC;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(mcounter(&o, 0, "MPTCPReinject") > 0);
	assert_int_equal(mcounter_end(&o, 0, "MPTCPDataNoMapTx"), 0);
	assert_int_equal(mcounter_end(&o, 1, "DSSNoMatchTCP"), 0);
	assert_int_equal(mcounter_end(&o, 1, "MPRstTx"), 0);
}

/*
 * What the wire carries, checked against the source: the client's bytes
 * are the bulk pattern (splitmix64 of seed + block), so a forwarding node
 * can check every payload byte of every client data segment, first
 * transmission or retransmission, against the DSN its DSS mapping gives
 * it.  Subflows send their mappings' bytes from the data-level buffer and
 * keep a copy only of bytes the data level released while the subflow
 * still needs them (sched.c send_chunk, subflow.c mpt_sf_snd_keep).  To
 * make such bytes go out again, the node drops path 1's ACKs (server to
 * client) from 0.3 to 1.3 s: the server has the data and DATA_ACKs it on
 * path 0, path 1 never hears its own ACKs and retransmits them.  A kept
 * copy that is wrong (or missing) shows here, and only here: the receiver
 * discards a copy of data it already delivered without looking at it.
 */
#define AUDIT_SF 8
static struct {
	uint64_t seed;
	bool have_idsn;
	uint64_t idsn; /* the client's (RFC 8684 §3.1: first byte at idsn + 1) */
	struct {
		bool used;
		size_t path;
		uint16_t sport;
		uint32_t iss;
		uint32_t max_end; /* highest sequence number sent + 1 (relative) */
	} sf[AUDIT_SF];
	uint64_t checked, bad, rtx_checked, acks_dropped;
} au;

static int audit_sf(size_t path, uint16_t sport, bool syn, uint32_t seq)
{
	for (int i = 0; i < AUDIT_SF; i++)
		if (au.sf[i].used && au.sf[i].path == path && au.sf[i].sport == sport)
			return i;
	if (!syn)
		return -1;
	for (int i = 0; i < AUDIT_SF; i++)
		if (!au.sf[i].used) {
			au.sf[i].used = true;
			au.sf[i].path = path;
			au.sf[i].sport = sport;
			au.sf[i].iss = seq;
			au.sf[i].max_end = 1;
			return i;
		}
	return -1;
}

static bool audit_tamper(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len,
			 size_t cap, uint64_t now)
{
	(void)x;
	(void)cap;
	if (dir == 1) {
		if (path == 1 && now >= 300 * MS && now < 1300 * MS) {
			au.acks_dropped++;
			return false;
		}
		return true;
	}
	struct mpt_ip_hdr ip;
	if (mpt_ip_parse(&ip, pkt, *len, false) < 0 || ip.proto != MPT_IPPROTO_TCP)
		return true;
	const uint8_t *tcp = pkt + ip.hdr_len;
	size_t tlen = ip.payload_len, thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl < 20 || thl > tlen)
		return true;
	uint32_t seq = mpt_get32(tcp + 4);
	int k = audit_sf(path, mpt_get16(tcp), (tcp[13] & 0x02) != 0, seq);
	const uint8_t *map = NULL;
	for (size_t i = 20; i + 1 < thl && tcp[i] != 0;) {
		if (tcp[i] == 1) {
			i++;
			continue;
		}
		uint8_t ol = tcp[i + 1];
		if (ol < 2 || i + ol > thl)
			break;
		const uint8_t *o = tcp + i;
		/* The third ACK's MP_CAPABLE: the client's key first. */
		if (o[0] == 30 && ol >= 12 && (o[2] >> 4) == MPT_MPTCP_MP_CAPABLE &&
		    !au.have_idsn && (tcp[13] & 0x12) == 0x10) {
			assert_int_equal(mpt_key_token_idsn(1, mpt_get64(o + 4), NULL, &au.idsn),
					 0);
			au.have_idsn = true;
		}
		if (o[0] == 30 && ol >= 4 && (o[2] >> 4) == MPT_MPTCP_DSS &&
		    (o[3] & MPT_DSS_F_MAP) && (o[3] & MPT_DSS_F_DSN64)) {
			size_t off = 4;
			if (o[3] & MPT_DSS_F_ACK)
				off += (o[3] & MPT_DSS_F_ACK64) ? 8 : 4;
			if (off + 14 <= ol)
				map = o + off;
		}
		i += ol;
	}
	size_t plen = tlen - thl;
	if (k < 0 || plen == 0 || !map || !au.have_idsn)
		return true;
	uint64_t dsn = mpt_get64(map);
	uint32_t ssn = mpt_get32(map + 8);
	uint16_t dlen = mpt_get16(map + 12);
	uint32_t rel = seq - au.sf[k].iss;
	bool rtx = mpt_seq_lt(rel, au.sf[k].max_end);
	if (mpt_seq_gt(rel + (uint32_t)plen, au.sf[k].max_end))
		au.sf[k].max_end = rel + (uint32_t)plen;
	const uint8_t *pay = tcp + thl;
	for (size_t j = 0; j < plen; j++) {
		uint32_t in = rel + (uint32_t)j - ssn;
		if (in >= dlen) {
			au.bad++; /* a payload byte outside the segment's mapping */
			continue;
		}
		uint64_t so = dsn + in - (au.idsn + 1);
		uint64_t st = au.seed + so / 8;
		uint8_t blk[8];
		mpt_put64(blk, mpt_splitmix64(&st));
		au.checked++;
		if (rtx)
			au.rtx_checked++;
		if (pay[j] != blk[so % 8])
			au.bad++;
	}
	return true;
}

static void test_wire_bytes_match_mappings(void **state)
{
	(void)state;
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "every client payload byte is its mapping's byte";
	sc.bytes = 6u * MIB;
	sc.seed = 61;
	sc.npaths = 2;
	for (int i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 50000000;
		sc.path[i].rtt_ns = (uint64_t)(10 + 30 * i) * MS;
	}
	sc.tamper = audit_tamper;
	/* ~1 s at 100 Mbit/s and path 1's recovery after its ACKs return. */
	sc.budget_ns = 4 * SEC;
	memset(&au, 0, sizeof(au));
	au.seed = sc.seed;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	fprintf(
	    stderr,
	    "  audited %llu payload bytes (%llu retransmitted), %llu wrong; MPTCPSndKept %llu B; "
	    "%llu ACKs dropped\n",
	    (unsigned long long)au.checked, (unsigned long long)au.rtx_checked,
	    (unsigned long long)au.bad, (unsigned long long)mcounter(&o, 0, "MPTCPSndKept"),
	    (unsigned long long)au.acks_dropped);
	assert_true(au.have_idsn);
	assert_true(au.checked >= sc.bytes);
	assert_int_equal(au.bad, 0);
	/* The scenario did what it is for: bytes kept, and sent again. */
	assert_true(mcounter(&o, 0, "MPTCPSndKept") > 0);
	assert_true(au.rtx_checked > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outage),
	    cmocka_unit_test(test_oom_then_backup),
	    cmocka_unit_test(test_lossy_v1),
	    cmocka_unit_test(test_lossy_v0),
	    cmocka_unit_test(test_destroy_mid_transfer),
	    cmocka_unit_test(test_mappings_outlive_data_level),
	    cmocka_unit_test(test_wire_bytes_match_mappings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
