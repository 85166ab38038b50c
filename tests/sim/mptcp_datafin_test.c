/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A DATA_FIN that rode on a mapping and never took effect at the receiver
 * (RFC 8684 §3.3.3: it "MUST be retransmitted until acknowledged").
 *
 * Found by the soak (seeds 17 and 27, "no-eof"): the receiver ignored a
 * mapped DATA_FIN whose DSN lay beyond its data-level window when the
 * segment arrived (its bytes waited at the subflow level for the
 * application to read), then took the bytes but never the DATA_FIN.  The
 * sender saw every byte DATA_ACKed, its DATA_FIN not, and no timer was
 * left: subflow retransmissions stop once the bytes are acknowledged, the
 * data-level timer only watched bytes, and the bare DATA_FIN's timer only
 * runs for a DATA_FIN that was never mapped.  Both stacks idled for good.
 *
 * A forwarding node reproduces the loss deterministically: it clears the
 * DATA_FIN flag (and the octet it adds to the data-level length) from
 * every client segment whose mapping carries it, so the server gets all
 * the bytes and never that DATA_FIN.  The client must notice and send the
 * DATA_FIN again (bare: SSN 0, length 1) until it is DATA_ACKed.
 */
#include "mptcp_scn.h"

#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

static struct {
	int stripped; /* data segments whose DATA_FIN flag was cleared */
	int bare;     /* bare DATA_FINs (no payload) let through */
} g;

/* The DSS option in the TCP header at tcp (thl bytes), or NULL. */
static uint8_t *find_dss(uint8_t *tcp, size_t thl)
{
	size_t i = 20;
	while (i < thl) {
		uint8_t k = tcp[i];
		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		if (i + 1 >= thl || tcp[i + 1] < 2 || i + tcp[i + 1] > thl)
			break;
		if (k == 30 && tcp[i + 1] >= 4 && (tcp[i + 2] >> 4) == MPT_MPTCP_DSS)
			return tcp + i;
		i += tcp[i + 1];
	}
	return NULL;
}

static bool strip_mapped_fin(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len,
			     size_t cap, uint64_t now)
{
	(void)x;
	(void)path;
	(void)cap;
	(void)now;
	struct mpt_ip_hdr ip;
	if (dir != 0 || mpt_ip_parse(&ip, pkt, *len, false) < 0 || ip.proto != MPT_IPPROTO_TCP)
		return true;
	uint8_t *tcp = pkt + ip.hdr_len;
	size_t tlen = ip.payload_len, thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl > tlen)
		return true;
	uint8_t *o = find_dss(tcp, thl);
	if (!o)
		return true;
	uint8_t fl = o[3];
	if (!(fl & MPT_DSS_F_MAP) || !(fl & MPT_DSS_F_FIN) || !(fl & MPT_DSS_F_DSN64))
		return true;
	if (tlen == thl) {
		g.bare++; /* the retransmission this test waits for */
		return true;
	}
	size_t off = 4;
	if (fl & MPT_DSS_F_ACK)
		off += (fl & MPT_DSS_F_ACK64) ? 8 : 4;
	if (off + 14 > o[1])
		return true;
	uint8_t *pl = o + off + 12; /* data-level length */
	uint16_t dlen = mpt_get16(pl);
	if (dlen < 2)
		return true;
	mpt_put16(pl, (uint16_t)(dlen - 1));
	o[3] = (uint8_t)(fl & ~MPT_DSS_F_FIN);
	tcp[16] = tcp[17] = 0;
	mpt_tcp_csum_fill(tcp, tlen, &ip.src, &ip.dst);
	g.stripped++;
	return true;
}

static struct mscn base(const char *name, size_t npaths)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = 2u * MIB;
	sc.seed = 5;
	sc.npaths = npaths;
	for (size_t i = 0; i < npaths; i++) {
		sc.path[i].rate_bps = 50000000;
		sc.path[i].rtt_ns = (i + 1) * 10 * MS;
	}
	sc.budget_ns = 5 * SEC;
	sc.tamper = strip_mapped_fin;
	return sc;
}

static void run_lost_fin(size_t npaths)
{
	struct mscn sc =
	    base(npaths == 1 ? "mapped DATA_FIN lost, one path" : "mapped DATA_FIN lost, two paths",
		 npaths);
	struct mout o;
	memset(&g, 0, sizeof(g));
	run_mscn(&sc, &o);
	/* The DATA_FIN went on a mapping and the node took it off. */
	assert_true(g.stripped >= 1);
	/* EOF reached the server anyway, intact and on time. */
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_false(o.ci.fallback);
	/* By the client's data-level timer: a bare DATA_FIN, DATA_ACKed. */
	assert_true(mcounter(&o, 0, "MPTCPDataRtx") >= 1);
	assert_true(g.bare >= 1);
	assert_int_equal(mcounter(&o, 1, "MPTCPDataFinRx"), 1);
	/* One timer period after the last byte, not a long backoff. */
	assert_true(o.res.t_done - o.res.t_connected <= 2 * SEC);
	assert_int_equal(mcounter(&o, 0, "MPRstTx"), 0);
	assert_int_equal(mcounter(&o, 1, "MPRstTx"), 0);
}

static void test_lost_fin_one_path(void **state)
{
	(void)state;
	run_lost_fin(1);
}

static void test_lost_fin_two_paths(void **state)
{
	(void)state;
	run_lost_fin(2);
}

/* Without tampering a mapped DATA_FIN needs no data-level retransmission. */
static void test_no_spurious(void **state)
{
	(void)state;
	struct mscn sc = base("clean close: no DATA_FIN retransmission", 2);
	sc.tamper = NULL;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 0, "MPTCPDataRtx"), 0);
	assert_int_equal(mcounter(&o, 1, "MPTCPDataFinRx"), 1);
}

/*
 * A bare DATA_FIN beside the repeated third ACK (kmatrix c011, Linux as the
 * server): with DSS checksums it needs 16 option bytes, and MP_CAPABLE with
 * timestamps leaves 8.  The client repeats the third ACK until the server's
 * first DSS; a server with nothing to send that waits for EOF before it
 * closes never sends one.  Here the node drops the server's pure ACKs for
 * the first 300 ms, the way Linux stays silent: the DATA_FIN must still go
 * (alone, on its own pure ACK) and the connection end.
 */
static bool quiet_server(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len,
			 size_t cap, uint64_t now)
{
	(void)x;
	(void)path;
	(void)cap;
	struct mpt_ip_hdr ip;
	if (dir != 1 || now >= 300 * MS || mpt_ip_parse(&ip, pkt, *len, false) < 0 ||
	    ip.proto != MPT_IPPROTO_TCP)
		return true;
	const uint8_t *tcp = pkt + ip.hdr_len;
	size_t thl = (size_t)(tcp[12] >> 4) * 4;
	bool syn = tcp[13] & 0x02;
	return syn || ip.payload_len > thl; /* drop pure ACKs */
}

static void test_bare_fin_beside_third_ack(void **state)
{
	(void)state;
	struct mscn sc = base("bare DATA_FIN with checksums, server silent", 1);
	sc.bytes = 0;
	sc.cli_csum = true;
	sc.tamper = quiet_server;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_true(o.ci.mptcpi_csum_enabled);
	assert_int_equal(mcounter(&o, 1, "MPTCPDataFinRx"), 1);
	assert_true(o.res.t_done - o.res.t_connected <= 2 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lost_fin_one_path),
	    cmocka_unit_test(test_lost_fin_two_paths),
	    cmocka_unit_test(test_no_spurious),
	    cmocka_unit_test(test_bare_fin_beside_third_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
