/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data-level retransmission (RFC 8684 §3.3.6) and the data-level window
 * (§3.3.4), found by interop with the Linux kernel: its receiver ACKs a
 * segment at the subflow level and may still drop the payload at the data
 * level (MPTcpExtNoDSSInWindow).  No subflow sends those bytes again, so
 * DATA_ACK stops at the hole until the sender re-sends from DATA_ACK.
 *
 * A forwarding node reproduces that: it rewrites the DSS mapping of one
 * client mapping (every segment and retransmission of it, consistently) to
 * point at data the server already has, so the server acknowledges the
 * bytes at the subflow level and discards them at the data level.  The
 * transfer must still complete intact within the budget, by data-level
 * retransmission (MPTCPDataRtx) of the hole.
 */
#include "mptcp_scn.h"

#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

/* The mapping being hidden: (path, relative SSN) of its subflow, its DSN. */
static struct {
	bool chosen;
	size_t path;
	uint32_t ssn;
	uint64_t dsn;
	int rewritten;
	int nholes; /* mappings to hide (1 or more, consecutive on one subflow) */
	int hidden;
	uint64_t max_dsn; /* highest mapping DSN seen (new data only is chosen) */
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

static bool tamper(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len, size_t cap,
		   uint64_t now)
{
	(void)x;
	(void)cap;
	struct mpt_ip_hdr ip;
	if (dir != 0 || mpt_ip_parse(&ip, pkt, *len, false) < 0 || ip.proto != MPT_IPPROTO_TCP)
		return true;
	uint8_t *tcp = pkt + ip.hdr_len;
	size_t tlen = ip.payload_len, thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl > tlen || tlen == thl)
		return true; /* no payload */
	uint8_t *o = find_dss(tcp, thl);
	if (!o)
		return true;
	uint8_t fl = o[3];
	if (!(fl & MPT_DSS_F_MAP) || !(fl & MPT_DSS_F_DSN64))
		return true;
	size_t off = 4;
	if (fl & MPT_DSS_F_ACK)
		off += (fl & MPT_DSS_F_ACK64) ? 8 : 4;
	if (off + 14 > o[1])
		return true;
	uint8_t *pd = o + off;
	uint64_t dsn = mpt_get64(pd);
	uint32_t ssn = mpt_get32(pd + 8);
	uint16_t dlen = mpt_get16(pd + 12);
	bool fresh = dsn > g.max_dsn;
	if (fresh)
		g.max_dsn = dsn;
	if (!g.chosen) {
		/* Well into the transfer (several MiB delivered), a full-size
		 * mapping on the first path. */
		if (now < 700 * MS || path != 0 || !fresh || dlen < 16000 || (fl & MPT_DSS_F_FIN))
			return true;
		g.chosen = true;
		g.path = path;
		g.ssn = ssn;
		g.dsn = dsn;
		g.hidden = 1;
	} else if (path == g.path && ssn != g.ssn && g.hidden < g.nholes && fresh &&
		   (int32_t)(ssn - g.ssn) > 0) {
		/* further consecutive mappings on the same subflow */
		g.ssn = ssn;
		g.dsn = dsn;
		g.hidden++;
	}
	if (path != g.path || ssn != g.ssn)
		return true;
	/* 4 MiB back: bytes the server has delivered long ago. */
	mpt_put64(pd, dsn - 4u * MIB);
	tcp[16] = tcp[17] = 0;
	mpt_tcp_csum_fill(tcp, tlen, &ip.src, &ip.dst);
	g.rewritten++;
	return true;
}

static struct mscn base(const char *name)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = 48u * MIB;
	sc.seed = 17;
	sc.npaths = 2;
	for (size_t i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = (i + 1) * 10 * MS;
	}
	sc.budget_ns = 5 * SEC;
	sc.tamper = tamper;
	return sc;
}

static void run_holes(int nholes)
{
	struct mscn sc = base(nholes == 1 ? "one mapping dropped at the data level"
					  : "several mappings dropped at the data level");
	struct mout o;
	memset(&g, 0, sizeof(g));
	g.nholes = nholes;
	run_mscn(&sc, &o);
	/* The hole was made and healed: data intact, on time, no leak. */
	assert_true(g.chosen);
	assert_true(g.rewritten >= 1);
	assert_int_equal(g.hidden, nholes);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_false(o.ci.fallback);
	/* Recovered by the data-level timer, not by a subflow failure. */
	assert_true(mcounter(&o, 0, "MPTCPDataRtx") >= 1);
	assert_true(mcounter(&o, 0, "MPTCPDataRtx") <= 20);
	assert_true(mcounter(&o, 0, "MPTCPReinject") >= 16000);
	assert_int_equal(mcounter(&o, 0, "MPRstTx"), 0);
	assert_int_equal(mcounter(&o, 1, "MPRstTx"), 0);
}

static void test_one_hole(void **state)
{
	(void)state;
	run_holes(1);
}

static void test_three_holes(void **state)
{
	(void)state;
	run_holes(3);
}

/* Without tampering the timer never fires on a clean 2-path transfer. */
static void test_no_spurious(void **state)
{
	(void)state;
	struct mscn sc = base("clean transfer: no data-level retransmission");
	sc.tamper = NULL;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_int_equal(mcounter(&o, 0, "MPTCPDataRtx"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_hole),
	    cmocka_unit_test(test_three_holes),
	    cmocka_unit_test(test_no_spurious),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
