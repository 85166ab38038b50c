/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Adversarial inputs and middleboxes on a running 2-path MPTCP transfer.
 * A forwarding node between the hosts tampers with packets:
 *   - MP_JOIN SYN/ACK with a wrong HMAC -> subflow reset (MP_TCPRST),
 *     MPJoinSynAckHMacFailure, the pair retried later;
 *   - ADD_ADDR with a wrong HMAC -> ignored (AddAddrDrop) until the
 *     retransmission (AddAddrRtx) is accepted;
 *   - MP_FASTCLOSE with a wrong key -> ignored (MPFastcloseRxDrop);
 *   - MP_TCPRST on a segment without RST -> ignored (MPRstIgnored);
 *   - RST outside the window (with MP_TCPRST) -> ignored
 *     (TCPRstNotInWindow, no MPRstRx);
 *   - an in-window RST with MP_TCPRST on the second subflow -> that subflow
 *     closes (MPRstRx); with flag T the pair is retried, without it not.
 * And the simulator's middleboxes: sequence rewriting, resegmentation,
 * coalescing, NAT on the second path.  Every case: data intact (SHA-256),
 * time budget, no leak.
 */
#include "mptcp_scn.h"

#include "crypto/crypto.h"
#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

static struct mscn base2(const char *name)
{
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.bytes = 64u * MIB;
	sc.seed = 91;
	sc.npaths = 2;
	for (size_t i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 100000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	sc.budget_ns = 5 * SEC;
	return sc;
}

/* ---- packet helpers (IPv4) --------------------------------------------------- */

struct pk {
	uint8_t *ip;
	size_t len, ihl;
	uint8_t *tcp;
	size_t tlen, thl, payload;
	uint16_t flags;
	struct mpt_addr src, dst;
};

static bool pk_parse(uint8_t *pkt, size_t len, struct pk *p)
{
	struct mpt_ip_hdr ip;
	if (mpt_ip_parse(&ip, pkt, len, false) < 0 || ip.proto != MPT_IPPROTO_TCP)
		return false;
	memset(p, 0, sizeof(*p));
	p->ip = pkt;
	p->len = len;
	p->ihl = ip.hdr_len;
	p->tcp = pkt + ip.hdr_len;
	p->tlen = ip.payload_len;
	p->thl = (size_t)(p->tcp[12] >> 4) * 4;
	p->payload = p->tlen - p->thl;
	p->flags = (uint16_t)(p->tcp[13] | ((p->tcp[12] & 1) << 8));
	p->src = ip.src;
	p->dst = ip.dst;
	return true;
}

/* First MPTCP option of a subtype in the packet, or NULL. */
static uint8_t *pk_mptcp(const struct pk *p, int subtype)
{
	size_t i = 20;
	while (i < p->thl) {
		uint8_t k = p->tcp[i];
		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		if (i + 1 >= p->thl || p->tcp[i + 1] < 2)
			break;
		if (k == 30 && p->tcp[i + 1] >= 3 && (p->tcp[i + 2] >> 4) == subtype)
			return p->tcp + i;
		i += p->tcp[i + 1];
	}
	return NULL;
}

static void pk_fix(const struct pk *p)
{
	p->tcp[16] = p->tcp[17] = 0;
	mpt_tcp_csum_fill(p->tcp, p->tlen, &p->src, &p->dst);
}

/*
 * A copy of pure ACK p with opt appended to its options, the flags set to
 * flags and seq moved by seq_delta.  Returns the new length, 0 when the
 * options would not fit.
 */
static size_t pk_copy_with(const struct pk *p, uint8_t *out, const struct mpt_mptcp_opt *o,
			   uint16_t flags, uint32_t seq_delta)
{
	uint8_t opt[40];
	int ol = mpt_mptcp_emit(opt, sizeof(opt), o);
	assert_true(ol > 0);
	while (ol % 4)
		opt[ol++] = 1; /* NOP */
	size_t thl = p->thl + (size_t)ol;
	if (p->payload != 0 || thl > 60)
		return 0;
	struct mpt_ip_hdr h;
	memset(&h, 0, sizeof(h));
	h.src = p->src;
	h.dst = p->dst;
	h.proto = MPT_IPPROTO_TCP;
	h.ttl = 64;
	h.payload_len = thl;
	int hl = mpt_ip_emit(out, 60, &h);
	assert_true(hl > 0);
	uint8_t *t = out + hl;
	memcpy(t, p->tcp, p->thl);
	memcpy(t + p->thl, opt, (size_t)ol);
	t[12] = (uint8_t)((thl / 4) << 4 | (t[12] & 0x0f));
	t[13] = (uint8_t)flags;
	mpt_put32(t + 4, mpt_get32(t + 4) + seq_delta);
	t[16] = t[17] = 0;
	mpt_tcp_csum_fill(t, thl, &p->src, &p->dst);
	return (size_t)hl + thl;
}

/* ---- tampering --------------------------------------------------------------- */

enum adv_kind {
	ADV_JOIN_SYNACK_HMAC,
	ADV_ADD_ADDR_HMAC,
	ADV_FASTCLOSE_KEY,
	ADV_TCPRST_NO_RST,
	ADV_RST_OUT_OF_WINDOW,
	ADV_RST_TRANSIENT,
	ADV_RST_PERMANENT,
	ADV_DATA_FIN_AHEAD,  /* a DATA_FIN in the window, past the real end */
	ADV_DATA_FIN_BEYOND, /* a DATA_FIN far outside the window */
};

static uint64_t g_srv_key;
static bool g_have_key;

static enum adv_kind g_kind;
static int g_done;

static bool tamper(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len, size_t cap,
		   uint64_t now)
{
	(void)cap;
	struct pk p;
	if (g_done || dir != 1 || !pk_parse(pkt, *len, &p))
		return true;
	uint8_t *o;
	struct mpt_mptcp_opt m;
	memset(&m, 0, sizeof(m));
	m.version = 1;
	bool pure_ack = p.payload == 0 && p.flags == MPT_TCP_ACK;
	uint8_t copy[128];
	size_t n = 0;
	if ((g_kind == ADV_DATA_FIN_AHEAD || g_kind == ADV_DATA_FIN_BEYOND) &&
	    (p.flags & (MPT_TCP_SYN | MPT_TCP_ACK)) == (MPT_TCP_SYN | MPT_TCP_ACK)) {
		/* The server's key (RFC 8684 §3.1: in the clear in the
		 * SYN/ACK): its IDSN + 1 is where its data (none) starts. */
		o = pk_mptcp(&p, MPT_MPTCP_MP_CAPABLE);
		if (o && o[1] == 12 && !g_have_key) {
			g_srv_key = mpt_get64(o + 4);
			g_have_key = true;
		}
		return true;
	}
	switch (g_kind) {
	case ADV_JOIN_SYNACK_HMAC:
		o = pk_mptcp(&p, MPT_MPTCP_MP_JOIN);
		if ((p.flags & (MPT_TCP_SYN | MPT_TCP_ACK)) == (MPT_TCP_SYN | MPT_TCP_ACK) && o &&
		    o[1] == 16) {
			o[4] ^= 0x80; /* first byte of the truncated HMAC */
			pk_fix(&p);
			g_done = 1;
		}
		return true;
	case ADV_ADD_ADDR_HMAC:
		o = pk_mptcp(&p, MPT_MPTCP_ADD_ADDR);
		if (o && !(o[2] & 1) && o[1] >= 16) {
			o[o[1] - 1] ^= 0x01; /* last byte of the HMAC */
			pk_fix(&p);
			g_done = 1;
		}
		return true;
	case ADV_FASTCLOSE_KEY:
		if (!pure_ack || now < 500 * MS)
			return true;
		m.subtype = MPT_MPTCP_MP_FASTCLOSE;
		m.u.fastclose_key = 0x0123456789abcdefull; /* not the client's key */
		n = pk_copy_with(&p, copy, &m, MPT_TCP_ACK, 0);
		break;
	case ADV_TCPRST_NO_RST:
		if (!pure_ack || now < 500 * MS)
			return true;
		m.subtype = MPT_MPTCP_MP_TCPRST;
		m.u.tcprst.reason = MPT_TCPRST_ADMIN;
		n = pk_copy_with(&p, copy, &m, MPT_TCP_ACK, 0);
		break;
	case ADV_RST_OUT_OF_WINDOW:
		if (!pure_ack || now < 500 * MS)
			return true;
		m.subtype = MPT_MPTCP_MP_TCPRST;
		m.u.tcprst.reason = MPT_TCPRST_ADMIN;
		n = pk_copy_with(&p, copy, &m, MPT_TCP_RST | MPT_TCP_ACK, 0x40000000u);
		break;
	case ADV_RST_TRANSIENT:
	case ADV_RST_PERMANENT:
		/* A subflow of path 1 (only joins use it). */
		if (!pure_ack || now < 500 * MS || path != 1)
			return true;
		m.subtype = MPT_MPTCP_MP_TCPRST;
		m.u.tcprst.reason = MPT_TCPRST_BAD_PERFORMANCE;
		m.u.tcprst.flags = g_kind == ADV_RST_TRANSIENT ? MPT_TCPRST_F_T : 0;
		n = pk_copy_with(&p, copy, &m, MPT_TCP_RST | MPT_TCP_ACK, 0);
		break;
	case ADV_DATA_FIN_AHEAD:
	case ADV_DATA_FIN_BEYOND: {
		if (!pure_ack || now < 500 * MS || !g_have_key)
			return true;
		uint32_t tok = 0;
		uint64_t idsn = 0;
		assert_int_equal(mpt_key_token_idsn(1, g_srv_key, &tok, &idsn), 0);
		/* A bare DATA_FIN (RFC 8684 §3.3.3: SSN 0, length 1) at a DSN
		 * the server never used, on an in-window copy of this ACK that
		 * keeps only its timestamps (so that it carries just this DSS). */
		uint8_t orig[1600];
		memcpy(orig, pkt, *len);
		struct pk q;
		assert_true(pk_parse(orig, *len, &q));
		size_t w = 20;
		for (size_t i = 20; i < q.thl;) {
			uint8_t k = q.tcp[i];
			if (k == 0)
				break;
			if (k == 1) {
				i++;
				continue;
			}
			uint8_t l = q.tcp[i + 1];
			if (l < 2 || i + l > q.thl)
				break;
			if (k == 8) {
				memmove(q.tcp + w, q.tcp + i, l);
				w += l;
			}
			i += l;
		}
		while (w % 4)
			q.tcp[w++] = 1;
		q.thl = q.tlen = w;
		m.subtype = MPT_MPTCP_DSS;
		m.u.dss.flags = MPT_DSS_F_MAP | MPT_DSS_F_DSN64 | MPT_DSS_F_FIN;
		m.u.dss.dsn = idsn + 1 + (g_kind == ADV_DATA_FIN_AHEAD ? 1000 : (1ull << 40));
		m.u.dss.ssn = 0;
		m.u.dss.data_len = 1;
		n = pk_copy_with(&q, copy, &m, MPT_TCP_ACK, 0);
		break;
	}
	}
	if (n > 0) {
		mscn_inject(x, path, dir, copy, n);
		g_done = 1;
	}
	return true;
}

static void adv_run(enum adv_kind k, const char *name, struct mout *o)
{
	struct mscn sc = base2(name);
	g_kind = k;
	g_done = 0;
	g_have_key = false;
	sc.tamper = tamper;
	run_mscn(&sc, o);
	mcheck(&sc, o);
	assert_int_equal(g_done, 1);
	assert_true(o->c_enabled);
	assert_false(o->ci.fallback);
}

static void test_join_synack_bad_hmac(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_JOIN_SYNACK_HMAC, "MP_JOIN SYN/ACK with a wrong HMAC", &o);
	/* RFC 8684 §3.2: the initiator resets the subflow. */
	assert_int_equal(mcounter(&o, 0, "MPJoinSynAckHMacFailure"), 1);
	assert_true(mcounter(&o, 0, "MPRstTx") >= 1);
	assert_true(mcounter(&o, 0, "MPJoinRetry") >= 1);
}

static void test_add_addr_bad_hmac(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_ADD_ADDR_HMAC, "ADD_ADDR with a wrong HMAC", &o);
	/* RFC 8684 §3.4.1: ignored; not echoed, so the peer sends it again. */
	assert_int_equal(mcounter(&o, 0, "AddAddrDrop"), 1);
	assert_true(mcounter(&o, 1, "AddAddrRtx") >= 1);
	assert_int_equal(mcounter(&o, 0, "AddAddr"), 1);
}

static void test_fastclose_bad_key(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_FASTCLOSE_KEY, "MP_FASTCLOSE with a wrong key", &o);
	assert_int_equal(mcounter(&o, 0, "MPFastcloseRxDrop"), 1);
	assert_int_equal(mcounter(&o, 0, "MPFastcloseRx"), 0);
}

static void test_tcprst_without_rst(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_TCPRST_NO_RST, "MP_TCPRST without the RST flag", &o);
	assert_int_equal(mcounter(&o, 0, "MPRstIgnored"), 1);
	assert_int_equal(mcounter(&o, 0, "MPRstRx"), 0);
}

static void test_rst_out_of_window(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_RST_OUT_OF_WINDOW, "RST outside the window", &o);
	assert_int_equal(mcounter(&o, 0, "TCPRstNotInWindow"), 1);
	assert_int_equal(mcounter(&o, 0, "MPRstRx"), 0);
	assert_int_equal(mcounter(&o, 0, "TcpEstabResets"), 0);
}

static void test_rst_transient(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_RST_TRANSIENT, "MP_TCPRST (T) on subflow 2", &o);
	/* RFC 8684 §3.6: the subflow is gone; T says try again later. */
	assert_int_equal(mcounter(&o, 0, "MPRstRx"), 1);
	assert_int_equal(mcounter(&o, 0, "MPJoinRetry"), 1);
}

static void test_rst_permanent(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_RST_PERMANENT, "MP_TCPRST (no T) on subflow 2", &o);
	assert_int_equal(mcounter(&o, 0, "MPRstRx"), 1);
	assert_int_equal(mcounter(&o, 0, "MPJoinRetry"), 0);
}

/*
 * Issue 10 bug 8: a DATA_FIN injected at a bogus DSN must neither latch (the
 * server's real one, sent when it closes, is then taken: the client sees the
 * end of the stream) nor be accepted outside the window (counted).
 */
static void test_data_fin_ahead(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_DATA_FIN_AHEAD, "bogus DATA_FIN in the window", &o);
	assert_int_equal(mcounter_end(&o, 0, "MPTCPDataFinRx"), 1);
}

static void test_data_fin_beyond(void **state)
{
	(void)state;
	struct mout o;
	adv_run(ADV_DATA_FIN_BEYOND, "bogus DATA_FIN past the window", &o);
	assert_int_equal(mcounter_end(&o, 0, "MPTCPDataFinDrop"), 1);
	assert_int_equal(mcounter_end(&o, 0, "MPTCPDataFinRx"), 1);
}

/* ---- middleboxes -------------------------------------------------------------- */

struct mbs {
	struct mpt_sim_mbox_cfg cfg;
	bool both_paths;
	bool two_way; /* SEQ_OFFSET / NAT: the reverse direction too */
};

static void add_mbs(struct mctx *x, void *arg)
{
	const struct mbs *m = arg;
	for (size_t i = m->both_paths ? 0 : 1; i < 2; i++)
		assert_int_equal(
		    mpt_sim_mbox_add(x->lf[i], m->two_way ? x->lr[i] : NULL, &m->cfg, NULL), 0);
}

static void mb_run(struct mbs *m, const char *name, struct mout *o)
{
	struct mscn sc = base2(name);
	sc.setup = add_mbs;
	sc.setup_arg = m;
	run_mscn(&sc, o);
	mcheck(&sc, o);
	assert_true(o->c_enabled);
	assert_false(o->ci.fallback);
	assert_true(mcounter(o, 1, "MPJoinAckRx") >= 1);
}

static void test_mb_seq_offset(void **state)
{
	(void)state;
	struct mbs m = {.both_paths = true, .two_way = true};
	m.cfg.kind = MPT_SIM_MBOX_SEQ_OFFSET;
	m.cfg.delta = 0x7fff1234u;
	struct mout o;
	mb_run(&m, "sequence numbers rewritten", &o);
	assert_int_equal(mcounter(&o, 1, "DSSNoMatchTCP"), 0);
}

static void test_mb_resegment(void **state)
{
	(void)state;
	struct mbs m = {.both_paths = true};
	m.cfg.kind = MPT_SIM_MBOX_RESEGMENT;
	m.cfg.seg_size = 536;
	struct mout o;
	mb_run(&m, "resegmented to 536 bytes", &o);
}

static void test_mb_coalesce(void **state)
{
	(void)state;
	struct mbs m = {.both_paths = true};
	m.cfg.kind = MPT_SIM_MBOX_COALESCE;
	m.cfg.hold_ns = 200 * 1000;
	m.cfg.coalesce_max = 8000;
	struct mout o;
	mb_run(&m, "coalesced (8000 bytes, 0.2 ms)", &o);
}

static void test_mb_nat_path2(void **state)
{
	(void)state;
	struct mbs m = {.both_paths = false, .two_way = true};
	m.cfg.kind = MPT_SIM_MBOX_NAT;
	assert_int_equal(mpt_addr_parse(&m.cfg.nat_addr, "192.0.2.7"), 0);
	m.cfg.nat_port_base = 61000;
	struct mout o;
	mb_run(&m, "NAT on the second path", &o);
	/* Joins from the NATed path arrive from 192.0.2.7 and still work. */
	assert_true(o.ci.mptcpi_subflows_total >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_synack_bad_hmac), cmocka_unit_test(test_add_addr_bad_hmac),
	    cmocka_unit_test(test_fastclose_bad_key),    cmocka_unit_test(test_tcprst_without_rst),
	    cmocka_unit_test(test_rst_out_of_window),    cmocka_unit_test(test_rst_transient),
	    cmocka_unit_test(test_rst_permanent),        cmocka_unit_test(test_data_fin_ahead),
	    cmocka_unit_test(test_data_fin_beyond),      cmocka_unit_test(test_mb_seq_offset),
	    cmocka_unit_test(test_mb_resegment),         cmocka_unit_test(test_mb_coalesce),
	    cmocka_unit_test(test_mb_nat_path2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
