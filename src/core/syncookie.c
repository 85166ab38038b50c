/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SYN cookies (RFC 4987 §3.6) for plain TCP and for MPTCP (RFC 8684 §3.1).
 *
 * When a listener's half-open table is full (or always, by knob), a SYN is
 * answered with a SYN-ACK whose ISN encodes what the connection needs, and
 * nothing is kept; the client's ACK brings it back and the connection is
 * created then.  Our ISN (the cookie):
 *
 *   bits 31..8  the top 24 bits of a MAC (HMAC-SHA256 under the stack's
 *               secret) of the 4-tuple, the client's ISN and bits 7..0
 *   bits  7..5  a 64-second time counter (mod 8): a cookie is good for
 *               the period it was made in and the next one (64-128 s)
 *   bits  4..3  MPTCP: 0 none, 1 version 0 (RFC 6824), 2 version 1
 *   bits  2..0  index of the client's MSS in mss_tab (rounded down)
 *
 * Window scale and SACK-permitted fit only where the client uses
 * timestamps: they ride in the low 6 bits of our TSval (rounded down so
 * that our clock never steps back), which the client echoes in TSecr.
 * Without timestamps the SYN-ACK offers neither (as Linux does).
 *
 * MPTCP: the listener's key is a MAC of the tuple, our ISN and the client's
 * ISN, so it need not be stored; the third ACK (v1 and v0) echoes both keys
 * (RFC 8684 §3.1: "the ACK ... carries both keys, so that the listener can
 * be stateless"), and the key it names as ours must be that MAC.  A key
 * whose token is already in use makes the cookie plain TCP.  The timestamp
 * offset of the connection is a MAC too, so the engine rebuilt from the
 * cookie keeps the clock the cookie's SYN-ACK used.
 */
#include <string.h>

#include "common.h"
#include "core/stack_int.h"
#include "crypto/crypto.h"
#include "mib.h"
#include "mptcp/transport.h"
#include "tcp/tcp.h"
#include "wire/bytes.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

#define CK_PERIOD  (64 * MPT_NS_PER_S)
/* How long after the last cookie its ACKs are looked for: two periods. */
#define CK_WATCH   (2 * CK_PERIOD + MPT_NS_PER_S)
#define CK_WS_NONE 0xfu
#define CK_SACK    0x10u
#define CK_TS_MASK 0x3fu

/* MSS values a cookie can name (the client's, rounded down). */
static const uint16_t mss_tab[8] = {536, 1220, 1300, 1360, 1400, 1440, 1460, 8960};

enum { CK_MP_NONE = 0, CK_MP_V0 = 1, CK_MP_V1 = 2 };

static uint32_t ck_time(uint64_t now)
{
	return (uint32_t)(now / CK_PERIOD) & 7u;
}

static void endpoints(const struct mpt_ip_hdr *ip, const struct mpt_tcp_seg *seg,
		      struct mpt_endpoint *l, struct mpt_endpoint *r)
{
	memset(l, 0, sizeof(*l));
	memset(r, 0, sizeof(*r));
	l->addr = ip->dst;
	l->port = seg->hdr.dport;
	r->addr = ip->src;
	r->port = seg->hdr.sport;
}

static int ck_isn(const struct mpt_stack *st, const struct mpt_endpoint *l,
		  const struct mpt_endpoint *r, uint32_t peer_isn, uint32_t low8, uint32_t *out)
{
	uint64_t m = 0;
	int rc = mpt_tuple_mac(st->core->isn_secret, 'C', l, r, peer_isn, low8, &m);
	if (rc < 0)
		return rc;
	*out = (uint32_t)(m >> 40) << 8 | low8;
	return 0;
}

static uint32_t ck_ts_offset(const struct mpt_stack *st, const struct mpt_endpoint *l,
			     const struct mpt_endpoint *r, uint32_t peer_isn)
{
	uint64_t m = 0;
	(void)mpt_tuple_mac(st->core->isn_secret, 'O', l, r, peer_isn, 0, &m);
	return (uint32_t)m;
}

static uint64_t ck_key(const struct mpt_stack *st, const struct mpt_endpoint *l,
		       const struct mpt_endpoint *r, uint32_t iss, uint32_t peer_isn)
{
	uint64_t m = 0;
	(void)mpt_tuple_mac(st->core->isn_secret, 'K', l, r, iss, peer_isn, &m);
	return m;
}

int mpt_syncookie_send(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
		       const struct mpt_tcp_seg *seg, uint64_t now)
{
	struct mpt_endpoint le, re;
	endpoints(ip, seg, &le, &re);
	uint32_t peer_isn = seg->hdr.seq;
	const struct mpt_tcp_opts *in = &seg->opts;
	uint16_t pmss = (in->present & MPT_TCPOPT_F_MSS) ? in->mss : 536;
	uint32_t idx = 0;
	for (uint32_t i = 0; i < MPT_ARRAY_SIZE(mss_tab); i++)
		if (mss_tab[i] <= pmss)
			idx = i;
	/* MPTCP as mpt_mp_passive would answer (RFC 8684 §3.1). */
	uint32_t mpv = CK_MP_NONE;
	uint8_t cflags = 0;
	struct mpt_mptcp_opt mpc;
	if (st->cfg.mptcp.enable &&
	    mpt_mp_find_opt(seg, MPT_MPTCP_MP_CAPABLE, MPT_MPTCP_V1, &mpc) != MPT_ERR_NOTFOUND) {
		mpt_mib_inc(&st->mib, MPT_MIB_MPCapableSYNRX);
		int v = mpt_mp_accept_version(st, &mpc, &cflags);
		if (v >= 0)
			mpv = v == MPT_MPTCP_V1 ? CK_MP_V1 : CK_MP_V0;
	}
	uint32_t iss = 0;
	uint64_t key = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		uint32_t low8 = ck_time(now) << 5 | mpv << 3 | idx;
		if (ck_isn(st, &le, &re, peer_isn, low8, &iss) < 0)
			return MPT_ERR_PROTO;
		if (mpv == CK_MP_NONE)
			break;
		key = ck_key(st, &le, &re, iss, peer_isn);
		uint32_t tok = 0;
		int ver = mpv == CK_MP_V1 ? MPT_MPTCP_V1 : MPT_MPTCP_V0;
		if (mpt_key_token_idsn(ver, key, &tok, NULL) == 0 &&
		    !mpt_token_exists(&st->tokens, tok))
			break;
		/* RFC 8684 §3.1: tokens are unique per host; this key's is
		 * taken, and a cookie's key cannot be redrawn: plain TCP. */
		mpv = CK_MP_NONE;
	}
	/* Timestamps carry window scale and SACK-permitted; without them
	 * neither is offered (the cookie could not bring them back). */
	struct mpt_tcp_seg syn = *seg;
	const struct mpt_tcp_cfg *tc = &st->tcpcfg;
	bool ts = !tc->no_timestamps && (in->present & MPT_TCPOPT_F_TS);
	uint32_t tsval = 0;
	if (ts) {
		uint32_t ws = (!tc->no_wscale && (in->present & MPT_TCPOPT_F_WSCALE))
				  ? MPT_MIN(in->wscale, (uint8_t)MPT_TCP_WSCALE_MAX)
				  : CK_WS_NONE;
		uint32_t sack =
		    (!tc->no_sack && (in->present & MPT_TCPOPT_F_SACK_PERM)) ? CK_SACK : 0;
		uint32_t v = (uint32_t)(now / MPT_NS_PER_MS) + ck_ts_offset(st, &le, &re, peer_isn);
		tsval = (v & ~CK_TS_MASK) | ws | sack;
		if ((int32_t)(tsval - v) > 0)
			tsval -= CK_TS_MASK + 1; /* never ahead of the clock */
	} else {
		syn.opts.present &= ~(uint32_t)(MPT_TCPOPT_F_WSCALE | MPT_TCPOPT_F_SACK_PERM);
	}
	uint8_t ext[MPT_TCP_MAX_OPT_LEN];
	size_t elen = 0;
	struct mpt_tcp_cfg cfg = *tc;
	if (mpv != CK_MP_NONE) {
		const struct mpt_mptcp_knobs *k = &st->cfg.mptcp;
		struct mpt_mptcp_opt o;
		memset(&o, 0, sizeof(o));
		o.subtype = MPT_MPTCP_MP_CAPABLE;
		o.version = mpv == CK_MP_V1 ? MPT_MPTCP_V1 : MPT_MPTCP_V0;
		o.u.mpc.form = MPT_MPC_ONEKEY;
		o.u.mpc.snd_key = key;
		o.u.mpc.flags = MPT_MPC_F_H;
		if (k->checksum || (cflags & MPT_MPC_F_A))
			o.u.mpc.flags |= MPT_MPC_F_A;
		if (k->c_flag)
			o.u.mpc.flags |= MPT_MPC_F_C;
		int n = mpt_mptcp_emit(ext, sizeof(ext), &o);
		if (n > 0)
			elen = (size_t)n;
		cfg.rcvbuf = (uint32_t)mpt_mp_rcvbuf_size(cfg.rcvbuf);
	}
	uint8_t *tcp = st->core->scratch + MPT_TCP_HEADROOM;
	int n = mpt_tcp_synack_build(&cfg, &syn, iss, tsval, ext, elen, tcp,
				     MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN);
	if (n < 0)
		return n;
	mpt_mib_inc(&st->mib, MPT_MIB_SyncookiesSent);
	mpt_mib_inc(&st->mib, MPT_MIB_TcpOutSegs);
	l->cookie_until = now + CK_WATCH;
	mpt_stack_emit(st, &ip->dst, &ip->src, tcp, (size_t)n);
	return 0;
}

/* What a rebuilt SYN carries (a cookie's, or a join record's). */
struct syn_fields {
	uint16_t sport, dport;
	uint32_t seq;
	uint16_t window;
	uint16_t mss; /* 0: no MSS option */
	bool ws_ok;   /* window scale option, shift ws */
	uint8_t ws;
	bool sack, ts; /* SACK-permitted; timestamps with tsval */
	uint32_t tsval;
	const struct mpt_mptcp_opt *mpc; /* or NULL */
};

/* A SYN that was answered statelessly, as raw bytes parsed into *syn: what
 * the engine accepts when the handshake completes (RFC 4987 §3.6). */
static int build_syn(const struct syn_fields *f, uint8_t *raw, size_t cap, struct mpt_tcp_seg *syn)
{
	struct mpt_tcp_opts_out o;
	memset(&o, 0, sizeof(o));
	if (f->mss) {
		o.present |= MPT_TCPOPT_F_MSS;
		o.mss = f->mss;
	}
	if (f->ws_ok) {
		o.present |= MPT_TCPOPT_F_WSCALE;
		o.wscale = f->ws;
	}
	if (f->sack)
		o.present |= MPT_TCPOPT_F_SACK_PERM;
	if (f->ts) {
		o.present |= MPT_TCPOPT_F_TS;
		o.tsval = f->tsval;
	}
	uint8_t opt[MPT_TCP_MAX_OPT_LEN];
	int r = mpt_tcp_opts_emit(opt, sizeof(opt), &o, NULL);
	if (r < 0)
		return r;
	size_t olen = (size_t)r;
	if (f->mpc) {
		int n = mpt_mptcp_emit(opt + olen, sizeof(opt) - olen, f->mpc);
		if (n <= 0)
			return MPT_ERR_NOSPACE;
		olen += (size_t)n;
	}
	while (olen % 4)
		opt[olen++] = MPT_TCPOPT_EOL;
	struct mpt_tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.sport = f->sport;
	h.dport = f->dport;
	h.seq = f->seq;
	h.flags = MPT_TCP_SYN;
	h.window = f->window;
	int len = mpt_tcp_hdr_emit(raw, cap, &h, opt, olen);
	if (len < 0)
		return len;
	memset(syn, 0, sizeof(*syn));
	int rc = mpt_tcp_hdr_parse(&syn->hdr, raw, (size_t)len);
	if (rc == 0)
		rc = mpt_tcp_opts_parse(&syn->opts, syn->hdr.opt, syn->hdr.opt_len);
	syn->payload = raw + len;
	syn->len = 0;
	return rc < 0 ? rc : 0;
}

/* The SYN the cookie stands for. */
static int rebuild_syn(const struct mpt_tcp_seg *ack, uint32_t peer_isn, uint16_t mss, uint32_t ws,
		       bool sack, bool ts, const struct mpt_mptcp_opt *mpc, uint8_t *raw,
		       size_t cap, struct mpt_tcp_seg *syn)
{
	struct syn_fields f = {.sport = ack->hdr.sport,
			       .dport = ack->hdr.dport,
			       .seq = peer_isn,
			       .window = ack->hdr.window,
			       .mss = mss,
			       .ws_ok = ws != CK_WS_NONE,
			       .ws = (uint8_t)ws,
			       .sack = sack,
			       .ts = ts,
			       .tsval = ack->opts.tsval,
			       .mpc = mpc};
	return build_syn(&f, raw, cap, syn);
}

static int fail(struct mpt_stack *st)
{
	mpt_mib_inc(&st->mib, MPT_MIB_SyncookiesFailed);
	return MPT_ERR_NOTFOUND;
}

int mpt_syncookie_ack(struct mpt_stack *st, struct mpt_sock *l, const struct mpt_ip_hdr *ip,
		      const struct mpt_tcp_seg *seg, uint64_t now)
{
	struct mpt_endpoint le, re;
	endpoints(ip, seg, &le, &re);
	uint32_t iss = seg->hdr.ack - 1, peer_isn = seg->hdr.seq - 1;
	uint32_t low8 = iss & 0xffu;
	uint32_t t = low8 >> 5, mpv = (low8 >> 3) & 3u, idx = low8 & 7u;
	uint32_t want = 0;
	if (((ck_time(now) - t) & 7u) > 1 || mpv > CK_MP_V1 ||
	    ck_isn(st, &le, &re, peer_isn, low8, &want) < 0 || want != iss)
		return fail(st);
	/* A client whose cookie checks out thinks it is connected: when it
	 * waits for us to speak nothing would ever tell it otherwise.  Its
	 * SYN found room in the accept queue, so allow the queue twice the
	 * backlog for cookie completions before dropping. */
	if (l->nqueued >= 2 * l->backlog) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPListenOverflows);
		return MPT_ERR_LIMIT;
	}
	const struct mpt_tcp_cfg *tc = &st->tcpcfg;
	bool ts = !tc->no_timestamps && (seg->opts.present & MPT_TCPOPT_F_TS);
	uint32_t ws = CK_WS_NONE;
	bool sack = false;
	if (ts) {
		ws = seg->opts.tsecr & 0xfu;
		sack = (seg->opts.tsecr & CK_SACK) != 0;
		if (ws != CK_WS_NONE && ws > MPT_TCP_WSCALE_MAX)
			ws = MPT_TCP_WSCALE_MAX;
	}
	/* MPTCP: the third ACK (or the first data) must carry both keys, and
	 * the one it names as ours must be this cookie's (RFC 8684 §3.1). */
	struct mpt_mptcp_opt mpc, synmpc;
	const struct mpt_mptcp_opt *use_mpc = NULL;
	uint64_t key = 0;
	if (mpv != CK_MP_NONE) {
		uint8_t ver = mpv == CK_MP_V1 ? MPT_MPTCP_V1 : MPT_MPTCP_V0;
		if (mpt_mp_find_opt(seg, MPT_MPTCP_MP_CAPABLE, ver, &mpc) == 0 &&
		    mpc.u.mpc.form >= MPT_MPC_TWOKEYS) {
			key = ck_key(st, &le, &re, iss, peer_isn);
			if (mpc.u.mpc.rcv_key != key)
				return fail(st);
			memset(&synmpc, 0, sizeof(synmpc));
			synmpc.subtype = MPT_MPTCP_MP_CAPABLE;
			synmpc.version = ver;
			synmpc.u.mpc.flags = mpc.u.mpc.flags;
			if (ver == MPT_MPTCP_V1) {
				synmpc.u.mpc.form = MPT_MPC_NOKEY;
			} else {
				synmpc.u.mpc.form = MPT_MPC_ONEKEY;
				synmpc.u.mpc.snd_key = mpc.u.mpc.snd_key;
			}
			use_mpc = &synmpc;
		}
		/* Without MP_CAPABLE the client fell back to TCP (RFC 8684
		 * §3.7): so do we. */
	}
	uint8_t raw[MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN];
	struct mpt_tcp_seg syn;
	if (rebuild_syn(seg, peer_isn, mss_tab[idx], ws, sack, ts, use_mpc, raw, sizeof(raw),
			&syn) < 0)
		return fail(st);
	memset(&st->pctx, 0, sizeof(st->pctx));
	st->pctx.cookie = true;
	st->pctx.mute = true;
	st->pctx.iss = iss;
	st->pctx.ts_offset = ck_ts_offset(st, &le, &re, peer_isn);
	st->pctx.key = key;
	/* (An MPTCP cookie whose ACK had no MP_CAPABLE: the rebuilt SYN has
	 * none either, so the connection is plain TCP.) */
	int rc = mpt_stack_passive_state(st, l, ip, &syn, now);
	memset(&st->pctx, 0, sizeof(st->pctx));
	if (rc < 0)
		return rc;
	struct mpt_flow *f = mpt_stack_lookup(st, &le, &re);
	if (!f)
		return MPT_ERR_STATE;
	mpt_tcp_skip_handshake_rtt(f->tcp);
	mpt_mib_inc(&st->mib, MPT_MIB_SyncookiesRecv);
	if (f->sf)
		mpt_mib_inc(&st->mib, MPT_MIB_MPCapableSyncookie);
	(void)mpt_tcp_input(f->tcp, seg, now);
	if (f->sf)
		mpt_sf_kick(f);
	return 0;
}

/* ---- join records ----------------------------------------------------------
 *
 * The MP_JOIN counterpart of the cookies above.  A join SYN with a valid
 * token gets a record (host.h struct mpt_join_rec) in a table allocated
 * once with the stack, and a SYN/ACK built from it; no subflow and no TCP
 * engine exist until a third ACK with a valid HMAC-A (RFC 8684 §3.2)
 * arrives (mpt_mp_join_ack).  A join cannot be a plain cookie: the third
 * ACK does not echo R_B (only an HMAC over it), so R_B must be kept.
 *
 * Records have no timers.  Our SYN/ACK is not retransmitted: as with SYN
 * cookies (RFC 4987 §3.6) the initiator's SYN retransmission brings
 * another copy of it (the same one, from the record).  A record older than
 * JR_LIFE is dead and is freed when a lookup or an insertion meets it.
 */

#define JR_NONE      UINT32_MAX
#define JR_DEFAULT   4096u
#define JR_MAX       65536u
/* As long as a received half-open join lived when it was a subflow (a
 * SYN/ACK and two retransmissions, 1 + 2 + 4 s): an initiator's third ACK
 * comes one RTT after any of our SYN/ACKs, which follow its SYNs. */
#define JR_LIFE      (7 * MPT_NS_PER_S)
/* A full table replaces its oldest record only when that one is at least
 * this old: a real join completes one RTT after our SYN/ACK (RFC 6298
 * §2.1: 1 s is the initial RTO; a path slower than that also has its SYN
 * retransmitted), so a flood of spoofed joins (RFC 7430 §2.2) has to
 * send more than the table holds per second to push out a real one.
 * Below that rate a new SYN is dropped, and the initiator retries. */
#define JR_EVICT_AGE (1 * MPT_NS_PER_S)
#define JR_NO_WS     0xffu

int mpt_joinrec_init(struct mpt_stack *st)
{
	struct mpt_stack_core *c = st->core;
	c->jr_free = c->jr_oldest = c->jr_newest = JR_NONE;
	if (!st->cfg.mptcp.enable)
		return 0; /* no joins are answered: no table */
	uint32_t cap = st->cfg.max_join_records ? st->cfg.max_join_records : JR_DEFAULT;
	cap = MPT_MIN(cap, JR_MAX);
	st->cfg.max_join_records = cap;
	uint32_t buckets = 16;
	while (buckets < cap)
		buckets <<= 1;
	c->jr = mpt_calloc(st->mem, cap, sizeof(*c->jr));
	c->jr_hash = mpt_malloc(st->mem, (size_t)buckets * sizeof(*c->jr_hash));
	if (!c->jr || !c->jr_hash) {
		mpt_joinrec_fini(st);
		return MPT_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < buckets; i++)
		c->jr_hash[i] = JR_NONE;
	for (uint32_t i = 0; i < cap; i++)
		c->jr[i].hnext = i + 1 < cap ? i + 1 : JR_NONE;
	c->jr_free = 0;
	c->jr_cap = cap;
	c->jr_hmask = buckets - 1;
	return 0;
}

void mpt_joinrec_fini(struct mpt_stack *st)
{
	struct mpt_stack_core *c = st->core;
	mpt_free(st->mem, c->jr);
	mpt_free(st->mem, c->jr_hash);
	c->jr = NULL;
	c->jr_hash = NULL;
	c->jr_cap = c->jr_n = 0;
}

uint32_t mpt_joinrec_count(const struct mpt_stack *st)
{
	return st->core->jr_n;
}

/* Keyed by the stack's random hash seed, so that a sender cannot aim its
 * 4-tuples at one chain. */
static uint32_t jr_bucket(const struct mpt_stack *st, const struct mpt_endpoint *l,
			  const struct mpt_endpoint *r)
{
	uint64_t h = st->core->hash_seed;
	const struct mpt_endpoint *e[2] = {l, r};
	for (int k = 0; k < 2; k++) {
		size_t n = e[k]->addr.family == 6 ? 16 : 4;
		for (size_t i = 0; i < n; i++)
			h = (h ^ e[k]->addr.bytes[i]) * UINT64_C(0x100000001b3);
		h = (h ^ e[k]->port) * UINT64_C(0x100000001b3);
	}
	h ^= h >> 31;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 29;
	return (uint32_t)h & st->core->jr_hmask;
}

static bool jr_match(const struct mpt_join_rec *r, const struct mpt_endpoint *l,
		     const struct mpt_endpoint *rm)
{
	return r->local.port == l->port && r->remote.port == rm->port &&
	       mpt_addr_equal(&r->local.addr, &l->addr) &&
	       mpt_addr_equal(&r->remote.addr, &rm->addr);
}

static uint32_t jr_index(const struct mpt_stack *st, const struct mpt_join_rec *r)
{
	return (uint32_t)(r - st->core->jr);
}

static void jr_unlink(struct mpt_stack *st, uint32_t i)
{
	struct mpt_stack_core *c = st->core;
	struct mpt_join_rec *r = &c->jr[i];
	uint32_t *pp = &c->jr_hash[jr_bucket(st, &r->local, &r->remote)];
	while (*pp != JR_NONE && *pp != i)
		pp = &c->jr[*pp].hnext;
	if (*pp == i)
		*pp = r->hnext;
	if (r->older != JR_NONE)
		c->jr[r->older].newer = r->newer;
	else
		c->jr_oldest = r->newer;
	if (r->newer != JR_NONE)
		c->jr[r->newer].older = r->older;
	else
		c->jr_newest = r->older;
	memset(r, 0, sizeof(*r));
	r->hnext = c->jr_free;
	c->jr_free = i;
	c->jr_n--;
}

void mpt_stack_joinrec_free(struct mpt_stack *st, struct mpt_join_rec *r)
{
	if (r && r->used)
		jr_unlink(st, jr_index(st, r));
}

struct mpt_join_rec *mpt_stack_joinrec_find(struct mpt_stack *st, const struct mpt_endpoint *local,
					    const struct mpt_endpoint *remote, uint64_t now)
{
	struct mpt_stack_core *c = st->core;
	if (c->jr_n == 0)
		return NULL;
	for (uint32_t i = c->jr_hash[jr_bucket(st, local, remote)]; i != JR_NONE;
	     i = c->jr[i].hnext) {
		struct mpt_join_rec *r = &c->jr[i];
		if (!jr_match(r, local, remote))
			continue;
		if (now - r->created_at >= JR_LIFE) {
			mpt_mib_inc(&st->mib, MPT_MIB_MPJoinRecExpired);
			jr_unlink(st, i);
			return NULL;
		}
		return r;
	}
	return NULL;
}

struct mpt_join_rec *mpt_stack_joinrec_new(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
					   const struct mpt_tcp_seg *seg, uint64_t now)
{
	struct mpt_stack_core *c = st->core;
	if (c->jr_cap == 0)
		return NULL;
	/* Lazy expiry: the list by age starts with the oldest. */
	while (c->jr_oldest != JR_NONE && now - c->jr[c->jr_oldest].created_at >= JR_LIFE) {
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinRecExpired);
		jr_unlink(st, c->jr_oldest);
	}
	if (c->jr_free == JR_NONE) {
		if (now - c->jr[c->jr_oldest].created_at < JR_EVICT_AGE) {
			mpt_mib_inc(&st->mib, MPT_MIB_MPJoinRecFull);
			return NULL;
		}
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinPendingEvict);
		jr_unlink(st, c->jr_oldest);
	}
	uint32_t i = c->jr_free;
	struct mpt_join_rec *r = &c->jr[i];
	c->jr_free = r->hnext;
	memset(r, 0, sizeof(*r));
	r->used = true;
	endpoints(ip, seg, &r->local, &r->remote);
	r->created_at = now;
	r->irs = seg->hdr.seq;
	r->window = seg->hdr.window;
	/* RFC 6528 ISN and RFC 7323 §5.4 random timestamp offset, as for an
	 * engine's passive open (stack.c). */
	(void)mpt_isn_rfc6528(c->isn_secret, &r->local.addr, r->local.port, &r->remote.addr,
			      r->remote.port, now, &r->iss);
	if (st->cfg.shards > 1) {
		/* One stack of a group: the join's third ACK carries no token,
		 * so the router in front of the stacks finds this one from the
		 * ACK number (iss + 1) alone: iss % shards == shard.  A few bits
		 * of the RFC 6528 ISN's 32 are given up (log2 shards). */
		uint32_t n = st->cfg.shards, base = r->iss - r->iss % n;
		uint32_t iss = base + st->cfg.shard;
		if (iss < base) /* wrapped past 2^32: the residue moves */
			iss -= n;
		r->iss = iss;
	}
	uint8_t off[4];
	st->cfg.rand(off, sizeof(off), st->cfg.rand_ud);
	r->ts_offset = mpt_get32(off);
	const struct mpt_tcp_opts *in = &seg->opts;
	r->mss = (in->present & MPT_TCPOPT_F_MSS) ? in->mss : 0;
	r->wscale = (in->present & MPT_TCPOPT_F_WSCALE) ? in->wscale : JR_NO_WS;
	r->sack = (in->present & MPT_TCPOPT_F_SACK_PERM) != 0;
	r->ts = (in->present & MPT_TCPOPT_F_TS) != 0;
	r->peer_tsval = in->tsval;
	/* newest end of the age list, head of its hash chain */
	r->newer = JR_NONE;
	r->older = c->jr_newest;
	if (c->jr_newest != JR_NONE)
		c->jr[c->jr_newest].newer = i;
	else
		c->jr_oldest = i;
	c->jr_newest = i;
	uint32_t *b = &c->jr_hash[jr_bucket(st, &r->local, &r->remote)];
	r->hnext = *b;
	*b = i;
	c->jr_n++;
	return r;
}

int mpt_stack_joinrec_syn(const struct mpt_join_rec *r, uint8_t *raw, size_t cap,
			  struct mpt_tcp_seg *syn)
{
	struct syn_fields f = {.sport = r->remote.port,
			       .dport = r->local.port,
			       .seq = r->irs,
			       .window = r->window,
			       .mss = r->mss,
			       .ws_ok = r->wscale != JR_NO_WS,
			       .ws = r->wscale,
			       .sack = r->sack,
			       .ts = r->ts,
			       .tsval = r->peer_tsval};
	return build_syn(&f, raw, cap, syn);
}

int mpt_stack_joinrec_synack(struct mpt_stack *st, const struct mpt_join_rec *r, const uint8_t *ext,
			     size_t ext_len, uint64_t now)
{
	uint8_t raw[MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN];
	struct mpt_tcp_seg syn;
	int rc = mpt_stack_joinrec_syn(r, raw, sizeof(raw), &syn);
	if (rc < 0)
		return rc;
	/* What the subflow's engine would send (stack.c flow_create for
	 * MPTCP): the same receive buffer, so the same window scale. */
	struct mpt_tcp_cfg cfg = st->tcpcfg;
	cfg.rcvbuf = (uint32_t)mpt_mp_rcvbuf_size(cfg.rcvbuf);
	cfg.ts_offset = r->ts_offset;
	uint32_t tsval = (uint32_t)(now / MPT_NS_PER_MS) + r->ts_offset;
	uint8_t *tcp = st->core->scratch + MPT_TCP_HEADROOM;
	int n = mpt_tcp_synack_build(&cfg, &syn, r->iss, tsval, ext, ext_len, tcp,
				     MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN);
	if (n < 0)
		return n;
	mpt_mib_inc(&st->mib, MPT_MIB_TcpOutSegs);
	mpt_stack_emit(st, &r->local.addr, &r->remote.addr, tcp, (size_t)n);
	return 0;
}
