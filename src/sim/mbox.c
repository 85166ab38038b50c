/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Middleboxes on a link direction.  They operate on raw IP packets with
 * the wire codecs and keep TCP checksums valid: in-place rewrites use the
 * RFC 1624 incremental update (so a segment that arrived with a bad
 * checksum still has a bad one), segments built anew (resegment, coalesce)
 * get a full checksum.  RFC 8684 §6 lists these behaviours as the ones
 * MPTCP must survive (option stripping, sequence rewriting, NAT,
 * resegmentation/coalescing, payload modification).  One box is of another
 * kind: MPTCP_ATTACK, the on-path attacker of RFC 6181 / RFC 7430, which
 * records the handshake and forges MP_JOIN and MP_FASTCLOSE (issue 12).
 * And JOIN_REBASE stands in for a peer's behaviour rather than a
 * middlebox's: the Linux 6.18 listener that delivers the first mapping of
 * a join at its fourth ACK's DATA_ACK.
 */
#include "crypto/crypto.h"
#include "sim/sim_int.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

#define TCP_OFF_SEQ   4
#define TCP_OFF_ACK   8
#define TCP_OFF_FLAGS 13
#define TCP_OFF_WIN   14
#define TCP_OFF_CSUM  16

/* A TCP segment located inside a packet. */
struct tcp_view {
	struct mpt_ip_hdr ip;
	struct mpt_tcp_hdr th;
	uint8_t *tcp;   /* TCP header inside the packet */
	size_t seg_len; /* TCP header + payload */
	size_t pay_len;
};

static bool view_tcp(struct sim_pkt *p, struct tcp_view *v)
{
	if (mpt_ip_parse(&v->ip, p->data, p->len, false) < 0 || v->ip.proto != MPT_IPPROTO_TCP)
		return false;
	if (v->ip.hdr_len > p->len || v->ip.payload_len > p->len - v->ip.hdr_len)
		return false;
	v->tcp = p->data + v->ip.hdr_len;
	v->seg_len = v->ip.payload_len;
	if (mpt_tcp_hdr_parse(&v->th, v->tcp, v->seg_len) < 0)
		return false;
	v->pay_len = v->seg_len - v->th.hdr_len;
	return true;
}

/* ---- incremental checksum helpers ---------------------------------------- */
static uint16_t seg_word(const uint8_t *seg, size_t len, size_t off)
{
	/* The checksum pads an odd-length segment with a zero byte. */
	return off + 1 < len ? mpt_get16(seg + off) : (uint16_t)((unsigned)seg[off] << 8);
}

/* Set one byte of a TCP segment, keeping the checksum consistent. */
static void seg_set_byte(uint8_t *seg, size_t len, size_t off, uint8_t val)
{
	size_t w = off & ~(size_t)1;
	uint16_t old = seg_word(seg, len, w);

	seg[off] = val;
	mpt_put16(seg + TCP_OFF_CSUM,
		  mpt_csum_update16(mpt_get16(seg + TCP_OFF_CSUM), old, seg_word(seg, len, w)));
}

/* Set a 32-bit field at an even offset, keeping the checksum consistent. */
static void seg_set32(uint8_t *seg, size_t off, uint32_t val)
{
	uint32_t old = mpt_get32(seg + off);

	mpt_put32(seg + off, val);
	mpt_put16(seg + TCP_OFF_CSUM, mpt_csum_update32(mpt_get16(seg + TCP_OFF_CSUM), old, val));
}

/* Checksum after the even-length byte string old[] became new[]. */
static uint16_t csum_replace(uint16_t csum, const uint8_t *old, const uint8_t *nw, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		csum = mpt_csum_update16(csum, mpt_get16(old + i), mpt_get16(nw + i));
	return csum;
}

static size_t addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/* Offset of the source / destination address in the IP header. */
static size_t addr_off(uint8_t family, bool dst)
{
	if (family == 4)
		return dst ? 16 : 12;
	return dst ? 24 : 8;
}

/*
 * Rewrite an IP address (source or destination) and a TCP port; fix the
 * IPv4 header checksum and the TCP checksum (whose pseudo-header covers the
 * addresses, RFC 9293 §3.1).
 */
static void rewrite_addr_port(struct sim_pkt *p, struct tcp_view *v, bool dst,
			      const struct mpt_addr *a, uint16_t port)
{
	uint8_t fam = v->ip.src.family;
	size_t n = addr_len(fam), off = addr_off(fam, dst);
	uint8_t *ap = p->data + off;
	uint16_t tcs = mpt_get16(v->tcp + TCP_OFF_CSUM);
	size_t poff = dst ? 2 : 0;
	uint16_t oldport = mpt_get16(v->tcp + poff);

	tcs = csum_replace(tcs, ap, a->bytes, n);
	if (fam == 4)
		mpt_put16(p->data + 10, csum_replace(mpt_get16(p->data + 10), ap, a->bytes, n));
	memcpy(ap, a->bytes, n);
	tcs = mpt_csum_update16(tcs, oldport, port);
	mpt_put16(v->tcp + poff, port);
	mpt_put16(v->tcp + TCP_OFF_CSUM, tcs);
}

/* ---- option walker ------------------------------------------------------- */
typedef bool (*opt_fn)(void *ctx, uint8_t kind, size_t off, size_t len);

/*
 * Walk the options area (RFC 9293 §3.2): EOL ends it, NOP is one byte,
 * everything else has a length byte >= 2 that must fit.  Calls fn for each
 * non-NOP option; stops early when fn returns false.  Returns false when
 * the area is malformed.
 */
static bool opt_walk(const uint8_t *opt, size_t n, opt_fn fn, void *ctx)
{
	size_t i = 0;

	while (i < n) {
		uint8_t kind = opt[i];
		size_t l;

		if (kind == MPT_TCPOPT_EOL)
			break;
		if (kind == MPT_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return false;
		l = opt[i + 1];
		if (l < 2 || l > n - i)
			return false;
		if (!fn(ctx, kind, i, l))
			break;
		i += l;
	}
	return true;
}

/* ---- STRIP_OPT ------------------------------------------------------------ */
struct strip_ctx {
	struct tcp_view *v;
	uint8_t kind;
	bool changed;
};

static bool strip_cb(void *arg, uint8_t kind, size_t off, size_t len)
{
	struct strip_ctx *c = arg;

	if (kind != c->kind)
		return true;
	for (size_t i = 0; i < len; i++)
		seg_set_byte(c->v->tcp, c->v->seg_len, MPT_TCP_HDR_LEN + off + i, MPT_TCPOPT_NOP);
	c->changed = true;
	return true;
}

static enum sim_mbox_verdict do_strip(struct mpt_sim_mbox *mb, struct tcp_view *v)
{
	struct strip_ctx c = {v, mb->cfg.opt_kind, false};

	if (mb->cfg.syn_only && !(v->th.flags & MPT_TCP_SYN))
		return SIM_MBOX_PASS;
	/* Walk a copy: the callback rewrites the bytes being walked. */
	uint8_t opt[MPT_TCP_MAX_OPT_LEN];

	memcpy(opt, v->tcp + MPT_TCP_HDR_LEN, v->th.opt_len);
	(void)opt_walk(opt, v->th.opt_len, strip_cb, &c);
	if (c.changed)
		mb->st.modified++;
	return SIM_MBOX_PASS;
}

/* ---- SEQ_OFFSET ------------------------------------------------------------ */
struct sack_ctx {
	struct tcp_view *v;
	uint32_t delta;
	bool changed;
};

static bool sack_cb(void *arg, uint8_t kind, size_t off, size_t len)
{
	struct sack_ctx *c = arg;
	size_t base = MPT_TCP_HDR_LEN + off + 2;

	if (kind != MPT_TCPOPT_SACK || (len - 2) % 8 != 0)
		return true;
	/* RFC 2018 §3: each block is two 32-bit sequence numbers. */
	for (size_t i = 0; i + 4 <= len - 2; i += 4) {
		uint8_t *f = c->v->tcp + base + i;
		uint32_t val = mpt_get32(f) - c->delta;

		/* The block may sit at an odd offset: patch byte by byte. */
		for (size_t b = 0; b < 4; b++)
			seg_set_byte(c->v->tcp, c->v->seg_len, base + i + b,
				     (uint8_t)(val >> (24 - 8 * b)));
		c->changed = true;
	}
	return true;
}

static enum sim_mbox_verdict do_seq(struct mpt_sim_mbox *mb, struct tcp_view *v, bool rev)
{
	uint32_t d = mb->cfg.delta;

	if (!rev) {
		seg_set32(v->tcp, TCP_OFF_SEQ, mpt_get32(v->tcp + TCP_OFF_SEQ) + d);
		mb->st.modified++;
		return SIM_MBOX_PASS;
	}
	/* Return direction: the peer acknowledges (and SACKs) shifted numbers. */
	struct sack_ctx c = {v, d, false};
	uint8_t opt[MPT_TCP_MAX_OPT_LEN];

	if (v->th.flags & MPT_TCP_ACK) {
		seg_set32(v->tcp, TCP_OFF_ACK, mpt_get32(v->tcp + TCP_OFF_ACK) - d);
		c.changed = true;
	}
	memcpy(opt, v->tcp + MPT_TCP_HDR_LEN, v->th.opt_len);
	(void)opt_walk(opt, v->th.opt_len, sack_cb, &c);
	if (c.changed)
		mb->st.modified++;
	else
		mb->st.passed++;
	return SIM_MBOX_PASS;
}

/* ---- NAT -------------------------------------------------------------------- */
static enum sim_mbox_verdict do_nat(struct mpt_sim *sim, struct mpt_sim_mbox *mb, struct sim_pkt *p,
				    struct tcp_view *v, bool rev)
{
	const struct mpt_addr *pub = &mb->cfg.nat_addr;
	struct sim_nat_map *m = NULL;

	if (rev) {
		if (!mpt_addr_equal(&v->ip.dst, pub)) {
			mb->st.passed++;
			return SIM_MBOX_PASS;
		}
		for (unsigned i = 0; i < mb->n_nat; i++) {
			if (mb->nat[i].outer_port == v->th.dport) {
				m = &mb->nat[i];
				break;
			}
		}
		if (!m) {
			mb->st.passed++;
			return SIM_MBOX_PASS;
		}
		rewrite_addr_port(p, v, true, &m->inner, m->inner_port);
		mb->st.modified++;
		return SIM_MBOX_PASS;
	}
	if (v->ip.src.family != pub->family)
		return SIM_MBOX_DROP;
	for (unsigned i = 0; i < mb->n_nat; i++) {
		if (mb->nat[i].inner_port == v->th.sport &&
		    mpt_addr_equal(&mb->nat[i].inner, &v->ip.src)) {
			m = &mb->nat[i];
			break;
		}
	}
	if (!m) {
		if (mb->n_nat >= MPT_SIM_NAT_MAX)
			return SIM_MBOX_DROP;
		if (!mb->nat) {
			mb->nat = mpt_calloc(sim->mem, MPT_SIM_NAT_MAX, sizeof(*mb->nat));
			if (!mb->nat)
				return SIM_MBOX_DROP;
		}
		m = &mb->nat[mb->n_nat];
		m->inner = v->ip.src;
		m->inner_port = v->th.sport;
		m->outer_port =
		    (uint16_t)((mb->cfg.nat_port_base ? mb->cfg.nat_port_base : 40000) + mb->n_nat);
		mb->n_nat++;
	}
	rewrite_addr_port(p, v, false, pub, m->outer_port);
	mb->st.modified++;
	return SIM_MBOX_PASS;
}

/* ---- segment builder (resegment, coalesce) --------------------------------- */
/*
 * Build a new packet: the IP + TCP headers of v (from packet p) followed by
 * plen payload bytes from pay (and plen2 from pay2), with the IP length
 * fields set and both checksums recomputed.
 */
static struct sim_pkt *build_seg(struct mpt_sim *sim, const struct sim_pkt *p,
				 const struct tcp_view *v, const uint8_t *pay, size_t plen,
				 const uint8_t *pay2, size_t plen2)
{
	size_t hl = v->ip.hdr_len, thl = v->th.hdr_len;
	size_t len = hl + thl + plen + plen2;
	struct sim_pkt *q;
	uint8_t *tcp;

	if (len > 65535 + (v->ip.src.family == 6 ? 40u : 0u))
		return NULL;
	q = sim_pkt_new(sim, NULL, len);
	if (!q)
		return NULL;
	memcpy(q->data, p->data, hl + thl);
	memcpy(q->data + hl + thl, pay, plen);
	if (plen2)
		memcpy(q->data + hl + thl + plen, pay2, plen2);
	if (v->ip.src.family == 4) {
		mpt_put16(q->data + 2, (uint16_t)len);
		mpt_put16(q->data + 10, 0);
		mpt_put16(q->data + 10, mpt_csum(q->data, hl));
	} else {
		/* RFC 8200 §3: payload length counts extension headers too. */
		mpt_put16(q->data + 4, (uint16_t)(len - MPT_IP6_HDR_LEN));
	}
	tcp = q->data + hl;
	mpt_put16(tcp + TCP_OFF_CSUM, 0);
	mpt_tcp_csum_fill(tcp, thl + plen + plen2, &v->ip.src, &v->ip.dst);
	q->link = p->link;
	return q;
}

static void fill_tcp_csum(struct sim_pkt *q, const struct tcp_view *v)
{
	uint8_t *tcp = q->data + v->ip.hdr_len;
	size_t seg_len = q->len - v->ip.hdr_len;

	mpt_put16(tcp + TCP_OFF_CSUM, 0);
	mpt_tcp_csum_fill(tcp, seg_len, &v->ip.src, &v->ip.dst);
}

/* ---- RESEGMENT --------------------------------------------------------------- */
static enum sim_mbox_verdict do_reseg(struct mpt_sim *sim, struct sim_mbox_att *a,
				      struct sim_pkt *p, struct tcp_view *v)
{
	struct mpt_sim_mbox *mb = a->mb;
	uint32_t seg = mb->cfg.seg_size;
	const uint8_t *pay = v->tcp + v->th.hdr_len;
	struct sim_pkt *pieces[64];
	size_t n = 0;

	if (v->pay_len <= seg || (v->th.flags & (MPT_TCP_SYN | MPT_TCP_RST)) ||
	    !mpt_tcp_csum_ok(v->tcp, v->seg_len, &v->ip.src, &v->ip.dst) ||
	    (v->pay_len + seg - 1) / seg > MPT_ARRAY_SIZE(pieces)) {
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	/* Build all pieces first so an allocation failure drops nothing. */
	for (size_t off = 0; off < v->pay_len; off += seg) {
		size_t plen = MPT_MIN((size_t)seg, v->pay_len - off);
		bool last = off + plen == v->pay_len;
		struct sim_pkt *q = build_seg(sim, p, v, pay + off, plen, NULL, 0);
		uint8_t *tcp;

		if (!q) {
			for (size_t i = 0; i < n; i++)
				sim_pkt_free(sim, pieces[i]);
			mb->st.passed++;
			return SIM_MBOX_PASS;
		}
		tcp = q->data + v->ip.hdr_len;
		mpt_put32(tcp + TCP_OFF_SEQ, v->th.seq + (uint32_t)off);
		if (!last)
			tcp[TCP_OFF_FLAGS] &= (uint8_t) ~(MPT_TCP_FIN | MPT_TCP_PSH);
		if (v->ip.src.family == 4)
			mpt_put16(q->data + 4, (uint16_t)(v->ip.id + n));
		if (v->ip.src.family == 4) {
			mpt_put16(q->data + 10, 0);
			mpt_put16(q->data + 10, mpt_csum(q->data, v->ip.hdr_len));
		}
		fill_tcp_csum(q, v);
		pieces[n++] = q;
	}
	mb->st.modified++;
	mb->st.created += n - 1;
	sim_pkt_free(sim, p);
	for (size_t i = 0; i < n; i++)
		sim_link_chain(sim, a->link, a->pos + 1, pieces[i]);
	return SIM_MBOX_CONSUMED;
}

/* ---- COALESCE ------------------------------------------------------------------ */
#define COALESCE_BAD_FLAGS (MPT_TCP_SYN | MPT_TCP_FIN | MPT_TCP_RST | MPT_TCP_URG)

static bool coalescable(const struct tcp_view *v)
{
	return v->pay_len > 0 && !(v->th.flags & COALESCE_BAD_FLAGS);
}

static void atk_fire(struct mpt_sim *sim, struct mpt_sim_mbox *mb);

void sim_mbox_flush(struct mpt_sim *sim, struct sim_mbox_att *a)
{
	struct sim_pkt *h = a->held;

	sim_ev_cancel(sim, &a->flush);
	if (a->mb->cfg.kind == MPT_SIM_MBOX_MPTCP_ATTACK) {
		atk_fire(sim, a->mb);
		return;
	}
	if (!h)
		return;
	a->held = NULL;
	sim_link_chain(sim, a->link, a->pos + 1, h);
}

static enum sim_mbox_verdict do_coalesce(struct mpt_sim *sim, struct sim_mbox_att *a,
					 struct sim_pkt *p, struct tcp_view *v)
{
	struct mpt_sim_mbox *mb = a->mb;
	uint32_t max = mb->cfg.coalesce_max ? mb->cfg.coalesce_max : 65000;
	struct tcp_view hv;

	if (!coalescable(v)) {
		sim_mbox_flush(sim, a);
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	if (a->held && view_tcp(a->held, &hv) && hv.ip.src.family == v->ip.src.family &&
	    mpt_addr_equal(&hv.ip.src, &v->ip.src) && mpt_addr_equal(&hv.ip.dst, &v->ip.dst) &&
	    hv.th.sport == v->th.sport && hv.th.dport == v->th.dport &&
	    hv.ip.hdr_len == v->ip.hdr_len && hv.th.hdr_len == v->th.hdr_len &&
	    hv.th.seq + (uint32_t)hv.pay_len == v->th.seq && hv.pay_len + v->pay_len <= max &&
	    (!mb->cfg.coalesce_same_opts ||
	     (hv.th.ack == v->th.ack && memcmp(hv.tcp + MPT_TCP_HDR_LEN, v->tcp + MPT_TCP_HDR_LEN,
					       (size_t)v->th.hdr_len - MPT_TCP_HDR_LEN) == 0)) &&
	    mpt_tcp_csum_ok(v->tcp, v->seg_len, &v->ip.src, &v->ip.dst)) {
		struct sim_pkt *m = build_seg(sim, a->held, &hv, hv.tcp + hv.th.hdr_len, hv.pay_len,
					      v->tcp + v->th.hdr_len, v->pay_len);

		if (m) {
			uint8_t *tcp = m->data + hv.ip.hdr_len;

			/* Later ACK and window win; PSH carries over. */
			mpt_put32(tcp + TCP_OFF_ACK, v->th.ack);
			mpt_put16(tcp + TCP_OFF_WIN, v->th.window);
			tcp[TCP_OFF_FLAGS] |= (uint8_t)(v->th.flags & MPT_TCP_PSH);
			fill_tcp_csum(m, &hv);
			m->link = a->link;
			sim_pkt_free(sim, a->held);
			sim_pkt_free(sim, p);
			a->held = m;
			mb->st.modified++;
			return SIM_MBOX_CONSUMED;
		}
	}
	/* Not mergeable with the held one: release it, then hold this one. */
	sim_mbox_flush(sim, a);
	if (!mpt_tcp_csum_ok(v->tcp, v->seg_len, &v->ip.src, &v->ip.dst) ||
	    sim_ev_schedule(sim, &a->flush, sim->now + mb->cfg.hold_ns) < 0) {
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	a->held = p;
	return SIM_MBOX_CONSUMED;
}

/* ---- CORRUPT -------------------------------------------------------------------- */
static enum sim_mbox_verdict do_corrupt(struct mpt_sim_mbox *mb, struct tcp_view *v)
{
	bool hit = false;
	size_t off;

	if (v->pay_len == 0) {
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	mb->data_segs++;
	if (mb->cfg.corrupt_nth && mb->data_segs == mb->cfg.corrupt_nth)
		hit = true;
	if (mb->cfg.corrupt_prob > 0.0 && sim_rng_unit(&mb->rng) < mb->cfg.corrupt_prob)
		hit = true;
	if (!hit) {
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	off = v->th.hdr_len + v->pay_len / 2;
	seg_set_byte(v->tcp, v->seg_len, off,
		     (uint8_t)(v->tcp[off] ^ (mb->cfg.corrupt_xor ? mb->cfg.corrupt_xor : 0xff)));
	mb->st.modified++;
	return SIM_MBOX_PASS;
}

/* ---- DROP_UNKNOWN_OPT ------------------------------------------------------------ */
struct allow_ctx {
	const uint64_t *allowed;
	bool bad;
};

static bool allow_cb(void *arg, uint8_t kind, size_t off, size_t len)
{
	struct allow_ctx *c = arg;

	MPT_UNUSED(off);
	MPT_UNUSED(len);
	if (!((c->allowed[kind / 64] >> (kind % 64)) & 1)) {
		c->bad = true;
		return false;
	}
	return true;
}

static enum sim_mbox_verdict do_drop_unknown(struct mpt_sim_mbox *mb, struct tcp_view *v)
{
	struct allow_ctx c = {mb->cfg.allowed, false};

	if (!opt_walk(v->tcp + MPT_TCP_HDR_LEN, v->th.opt_len, allow_cb, &c) || c.bad)
		return SIM_MBOX_DROP;
	mb->st.passed++;
	return SIM_MBOX_PASS;
}

/* ---- MPTCP_ATTACK ----------------------------------------------------------------- */
/*
 * The on-path attacker of RFC 6181 §3 and RFC 7430 §2: it sees the
 * MP_CAPABLE exchange, in which both hosts send their 64-bit keys in the
 * clear (RFC 8684 §3.1), and from the keys it computes what authenticates
 * everything else: the tokens (an MP_JOIN SYN names the connection by the
 * listener's token), the MP_JOIN HMACs (§3.2) and the MP_FASTCLOSE key
 * (§3.5).  It never changes a packet of the connection it watches; it only
 * adds packets of its own at the configured times.
 *
 * With external keys (draft-baerts-tcpm-mptcpext-00, docs/external-keys.md)
 * the handshake carries tokens instead of keys: the attacker still knows
 * the listener's token (so its join SYN names the connection) but no key,
 * and forges with what it has: HMACs over zero keys, and for MP_FASTCLOSE
 * the HMAC of the last NEW_KEY the initiator sent (the replay that
 * decision 12 of docs/external-keys.md is about).  A host with external
 * keys must refuse both.
 */

/* Address id of the forged join's MP_JOIN SYN: any value works (RFC 8684
 * §3.2: the listener only records it); mpt's path managers hand out small
 * ids, so this one stands out in a capture. */
#define ATK_JOIN_ADDR_ID 0x64u
#define ATK_MSS          1460u

enum atk_join_state {
	ATK_J_IDLE = 0, /* not started */
	ATK_J_SYN_SENT, /* MP_JOIN SYN out, waiting for the SYN/ACK */
	ATK_J_ACK_SENT, /* third ACK out, waiting for the listener's ACK of it */
	ATK_J_DONE,     /* established, or reset */
};

/* Sequence state of one direction of the recorded subflow, as last sent. */
struct atk_dir {
	bool known;
	uint32_t snd_nxt; /* highest seq + length (+ SYN, FIN) sent */
	uint16_t win;     /* last raw window field */
	bool has_ts;
	uint32_t tsval, tsecr;
};

struct sim_attack {
	struct mpt_sim_attack_stats st;
	bool syn_seen;               /* an MP_CAPABLE SYN was recorded */
	unsigned to_l;               /* mb->att[] index of the direction towards the listener */
	struct mpt_endpoint ini;     /* initiator of the recorded subflow */
	struct mpt_endpoint lis;     /* listener */
	bool have_key_i, have_key_l; /* keys seen so far */
	struct atk_dir d[2];         /* 0: initiator -> listener, 1: back */
	/* External keys: the last NEW_KEY the initiator sent. */
	bool nk_seen;
	uint8_t nk_id;
	uint64_t nk_hmac;
	bool join_done, fc_done; /* triggers that have fired */
	/* The forged join: a TCP endpoint for one subflow, minimal (no data,
	 * no retransmission). */
	enum atk_join_state js;
	struct mpt_endpoint jsrc;
	uint32_t j_iss, j_irs;
	uint32_t j_nonce, j_nonce_l; /* R-A (ours), R-B (the listener's) */
	uint8_t j_key_id;
};

static bool ep_equal(const struct mpt_endpoint *a, const struct mpt_addr *addr, uint16_t port)
{
	return a->port == port && mpt_addr_equal(&a->addr, addr);
}

/* Both keys known: what RFC 8684 §3.1 derives from them. */
static void atk_derive(struct sim_attack *k)
{
	struct mpt_sim_attack_stats *st = &k->st;

	if (st->keys || !k->have_key_i || !k->have_key_l)
		return;
	if (mpt_key_token_idsn(st->version, st->key_initiator, &st->token_initiator,
			       &st->idsn_initiator) < 0 ||
	    mpt_key_token_idsn(st->version, st->key_listener, &st->token_listener,
			       &st->idsn_listener) < 0)
		return;
	st->keys = true;
}

/* One MP_CAPABLE of the watched handshake (dir: the att index it crossed). */
static void atk_mpc(struct sim_attack *k, unsigned dir, const struct tcp_view *v,
		    const struct mpt_mptcp_opt *o)
{
	const struct mpt_mptcp_mpc *c = &o->u.mpc;
	bool syn = (v->th.flags & MPT_TCP_SYN) != 0, ack = (v->th.flags & MPT_TCP_ACK) != 0;
	bool from_i = k->syn_seen && ep_equal(&k->ini, &v->ip.src, v->th.sport) &&
		      ep_equal(&k->lis, &v->ip.dst, v->th.dport);
	bool from_l = k->syn_seen && ep_equal(&k->lis, &v->ip.src, v->th.sport) &&
		      ep_equal(&k->ini, &v->ip.dst, v->th.dport);

	if (syn && !ack) {
		/* The first MPTCP connection that crosses the box (its SYN
		 * again is the same connection). */
		if (k->syn_seen && !from_i)
			return;
		k->syn_seen = true;
		k->to_l = dir;
		k->ini = (struct mpt_endpoint){v->ip.src, v->th.sport};
		k->lis = (struct mpt_endpoint){v->ip.dst, v->th.dport};
		k->st.version = o->version;
		/* v1: the SYN carries no key (RFC 8684 §3.1); v0 (RFC 6824
		 * §3.1): the initiator's key is in it already. */
		if (c->form == MPT_MPC_ONEKEY) {
			k->st.key_initiator = c->snd_key;
			k->have_key_i = true;
		}
		k->st.ext = c->form == MPT_MPC_NOKEY && (c->flags & MPT_MPC_F_E) != 0;
		return;
	}
	if (syn && from_l) {
		/* The SYN/ACK: the listener's key (or, with E, its token);
		 * its version is the connection's (it may be lower). */
		k->st.version = o->version;
		k->st.handshake = true;
		if (c->form == MPT_MPC_ONEKEY) {
			k->st.key_listener = c->snd_key;
			k->have_key_l = true;
			k->st.ext = false;
		} else if (c->form == MPT_MPC_EXT_ONETOKEN) {
			k->st.token_listener = c->snd_token;
			k->st.ext = true;
		}
	} else if (!syn && from_i) {
		/* Third ACK or first data: both keys (or both tokens). */
		if (c->form == MPT_MPC_TWOKEYS || c->form == MPT_MPC_DATA) {
			k->st.key_initiator = c->snd_key;
			k->have_key_i = true;
			if (!k->have_key_l) {
				k->st.key_listener = c->rcv_key;
				k->have_key_l = true;
			}
		} else if (c->form == MPT_MPC_EXT_TWOTOKENS || c->form == MPT_MPC_EXT_DATA) {
			k->st.token_initiator = c->snd_token;
			k->st.token_listener = c->rcv_token;
		}
	}
	atk_derive(k);
}

/* Every MPTCP option of a packet of the watched connection. */
static void atk_options(struct sim_attack *k, unsigned dir, const struct tcp_view *v,
			const struct mpt_tcp_opts *opts)
{
	for (unsigned i = 0; i < opts->n_mptcp && i < MPT_TCP_MAX_MPTCP; i++) {
		const uint8_t *b = v->th.opt + opts->mptcp[i].off;
		size_t len = opts->mptcp[i].len;
		bool mpc = len >= 3 && (b[2] >> 4) == MPT_MPTCP_MP_CAPABLE;
		/* MP_CAPABLE is read with the extension understood (flag E
		 * tells which handshake it is); the rest as negotiated. */
		struct mpt_mptcp_parse_ctx ctx = {
		    .version = k->syn_seen ? k->st.version : MPT_MPTCP_V1,
		    .seg = (uint8_t)mpt_mptcp_seg_from_flags(v->th.flags),
		    .ext = (uint8_t)((mpc || k->st.ext) ? MPT_MPTCP_EXT_EXTKEY : 0u)};
		struct mpt_mptcp_opt o;

		if (ctx.version > MPT_MPTCP_V1)
			ctx.version = MPT_MPTCP_V1;
		if (mpt_mptcp_parse(&o, b, len, &ctx) < 0 || o.unknown)
			continue;
		if (o.subtype == MPT_MPTCP_MP_CAPABLE) {
			atk_mpc(k, dir, v, &o);
		} else if (o.subtype == MPT_EXTKEY_SUBTYPE && k->syn_seen && dir == k->to_l) {
			k->nk_seen = true;
			k->nk_id = o.key_id;
			k->nk_hmac = mpt_get64(o.u.new_key.hmac);
		}
	}
}

/* Sequence state of the recorded subflow, from a packet as it is sent. */
static void atk_track(struct sim_attack *k, const struct tcp_view *v,
		      const struct mpt_tcp_opts *opts, bool opts_ok)
{
	unsigned d;
	struct atk_dir *s;
	uint32_t end;

	if (!k->syn_seen)
		return;
	if (ep_equal(&k->ini, &v->ip.src, v->th.sport) &&
	    ep_equal(&k->lis, &v->ip.dst, v->th.dport))
		d = 0;
	else if (ep_equal(&k->lis, &v->ip.src, v->th.sport) &&
		 ep_equal(&k->ini, &v->ip.dst, v->th.dport))
		d = 1;
	else
		return;
	s = &k->d[d];
	if (v->th.flags & MPT_TCP_RST)
		return;
	end = v->th.seq + (uint32_t)v->pay_len + ((v->th.flags & MPT_TCP_SYN) ? 1u : 0u) +
	      ((v->th.flags & MPT_TCP_FIN) ? 1u : 0u);
	if (!s->known || mpt_seq_gt(end, s->snd_nxt))
		s->snd_nxt = end;
	s->known = true;
	s->win = v->th.window;
	s->has_ts = opts_ok && (opts->present & MPT_TCPOPT_F_TS);
	if (s->has_ts) {
		s->tsval = opts->tsval;
		s->tsecr = opts->tsecr;
	}
}

/* What a forged segment carries. */
struct atk_seg {
	const struct mpt_endpoint *src, *dst;
	uint32_t seq, ack;
	uint16_t flags, win;
	bool mss;
	const struct atk_dir *ts; /* TSval / TSecr of this direction (NULL: none) */
	const struct mpt_mptcp_opt *opt;
};

/* Build a forged segment and send it towards the listener (dir to_l) or
 * back (the other att), after this box on that link. */
static bool atk_send(struct mpt_sim *sim, struct mpt_sim_mbox *mb, unsigned dir,
		     const struct atk_seg *g)
{
	uint8_t buf[MPT_IP6_HDR_LEN + MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN];
	uint8_t mopt[MPT_MPTCP_MAX_LEN], topt[MPT_TCP_MAX_OPT_LEN];
	struct mpt_tcp_opts_out oo;
	struct mpt_tcp_hdr h;
	struct mpt_ip_hdr ip;
	struct sim_mbox_att *a = mb->att[dir];
	size_t hl = mpt_ip_hdr_len(g->src->addr.family);
	struct sim_pkt *p;
	int ml, tl, n;

	ml = mpt_mptcp_emit(mopt, sizeof(mopt), g->opt);
	if (ml < 0 || !a || hl == 0)
		return false;
	memset(&oo, 0, sizeof(oo));
	if (g->mss) {
		oo.present |= MPT_TCPOPT_F_MSS;
		oo.mss = ATK_MSS;
	}
	if (g->ts && g->ts->has_ts) {
		/* The spoofed sender's latest timestamps pass RFC 7323 PAWS. */
		oo.present |= MPT_TCPOPT_F_TS;
		oo.tsval = g->ts->tsval;
		oo.tsecr = g->ts->tsecr;
	}
	oo.extra = mopt;
	oo.extra_len = (uint8_t)ml;
	tl = mpt_tcp_opts_emit(topt, sizeof(topt), &oo, NULL);
	if (tl < 0)
		return false;
	memset(&h, 0, sizeof(h));
	h.sport = g->src->port;
	h.dport = g->dst->port;
	h.seq = g->seq;
	h.ack = g->ack;
	h.flags = g->flags;
	h.window = g->win;
	n = mpt_tcp_hdr_emit(buf + hl, sizeof(buf) - hl, &h, topt, (size_t)tl);
	if (n < 0)
		return false;
	mpt_tcp_csum_fill(buf + hl, (size_t)n, &g->src->addr, &g->dst->addr);
	memset(&ip, 0, sizeof(ip));
	ip.src = g->src->addr;
	ip.dst = g->dst->addr;
	ip.proto = MPT_IPPROTO_TCP;
	ip.ttl = 64;
	ip.payload_len = (size_t)n;
	if (mpt_ip_emit(buf, hl, &ip) < 0)
		return false;
	p = sim_pkt_new(sim, buf, hl + (size_t)n);
	if (!p)
		return false;
	mb->st.created++;
	sim_link_chain(sim, a->link, a->pos + 1, p);
	return true;
}

/* Key id for the forgeries: external keys name a key by K (the
 * initiator's latest NEW_KEY tells the current one); 0 otherwise. */
static uint8_t atk_key_id(const struct sim_attack *k)
{
	return k->st.ext && k->nk_seen ? k->nk_id : 0;
}

/* (a) MP_JOIN SYN to the listener with its token (RFC 8684 §3.2). */
static void atk_join_start(struct mpt_sim *sim, struct mpt_sim_mbox *mb)
{
	struct sim_attack *k = mb->atk;
	struct mpt_mptcp_opt o;
	struct atk_seg g;

	if (!k->st.handshake || (!k->st.keys && !k->st.ext)) {
		k->st.not_ready++;
		return;
	}
	k->jsrc.addr = mb->cfg.atk_join_addr.family ? mb->cfg.atk_join_addr : k->ini.addr;
	k->jsrc.port = mb->cfg.atk_join_port ? mb->cfg.atk_join_port : MPT_SIM_ATTACK_PORT;
	if (k->jsrc.addr.family != k->lis.addr.family) {
		k->st.not_ready++;
		return;
	}
	k->j_iss = (uint32_t)sim_rng_next(&mb->rng);
	k->j_nonce = (uint32_t)sim_rng_next(&mb->rng);
	k->j_key_id = atk_key_id(k);
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_JOIN;
	o.version = k->st.version;
	o.key_id = k->j_key_id;
	o.u.join.form = MPT_JOIN_SYN;
	o.u.join.addr_id = ATK_JOIN_ADDR_ID;
	o.u.join.token = k->st.token_listener;
	o.u.join.nonce = k->j_nonce;
	g = (struct atk_seg){.src = &k->jsrc,
			     .dst = &k->lis,
			     .seq = k->j_iss,
			     .flags = MPT_TCP_SYN,
			     .win = UINT16_MAX,
			     .mss = true,
			     .opt = &o};
	if (!atk_send(sim, mb, k->to_l, &g))
		return;
	k->js = ATK_J_SYN_SENT;
	k->st.join_syn_tx++;
}

/* The listener's SYN/ACK: check HMAC-B, answer the third ACK with HMAC-A. */
static void atk_join_synack(struct mpt_sim *sim, struct mpt_sim_mbox *mb, const struct tcp_view *v)
{
	struct sim_attack *k = mb->atk;
	struct mpt_tcp_opts opts;
	struct mpt_mptcp_opt j, o;
	struct mpt_mptcp_parse_ctx ctx = {.version = k->st.version,
					  .seg = MPT_MPTCP_SEG_SYNACK,
					  .ext = (uint8_t)(k->st.ext ? MPT_MPTCP_EXT_EXTKEY : 0u)};
	bool found = false;
	uint8_t want[8];
	uint64_t h = 0;
	struct atk_seg g;

	if (v->th.ack != k->j_iss + 1 || mpt_tcp_opts_parse(&opts, v->th.opt, v->th.opt_len) < 0)
		return;
	for (unsigned i = 0; i < opts.n_mptcp && i < MPT_TCP_MAX_MPTCP && !found; i++)
		found = mpt_mptcp_parse(&j, v->th.opt + opts.mptcp[i].off, opts.mptcp[i].len,
					&ctx) == 0 &&
			!j.unknown && j.subtype == MPT_MPTCP_MP_JOIN &&
			j.u.join.form == MPT_JOIN_SYNACK;
	if (!found)
		return;
	k->st.join_synack_rx++;
	k->j_irs = v->th.seq;
	k->j_nonce_l = j.u.join.nonce;
	/* HMAC-B = HMAC(Key-B || Key-A, R-B || R-A), leftmost 64 bits: the
	 * listener proves it knows both keys, and so do we. */
	if (k->st.keys &&
	    mpt_hmac_join_trunc64(k->st.version, k->st.key_listener, k->st.key_initiator,
				  k->j_nonce_l, k->j_nonce, &h) == 0) {
		mpt_put64(want, h);
		if (memcmp(want, j.u.join.hmac, sizeof(want)) == 0)
			k->st.join_synack_hmac_ok++;
	}
	/* HMAC-A = HMAC(Key-A || Key-B, R-A || R-B), leftmost 160 bits
	 * (without keys: over zero keys, which a host must refuse). */
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_JOIN;
	o.version = k->st.version;
	o.key_id = k->j_key_id;
	o.u.join.form = MPT_JOIN_ACK;
	if (mpt_hmac_join_160(k->st.version, k->st.keys ? k->st.key_initiator : 0,
			      k->st.keys ? k->st.key_listener : 0, k->j_nonce, k->j_nonce_l,
			      o.u.join.hmac) < 0)
		return;
	g = (struct atk_seg){.src = &k->jsrc,
			     .dst = &k->lis,
			     .seq = k->j_iss + 1,
			     .ack = k->j_irs + 1,
			     .flags = MPT_TCP_ACK,
			     .win = UINT16_MAX,
			     .opt = &o};
	if (!atk_send(sim, mb, k->to_l, &g))
		return;
	k->js = ATK_J_ACK_SENT;
	k->st.join_ack_tx++;
}

/* A packet from the listener to the forged subflow: taken off the path. */
static void atk_join_input(struct mpt_sim *sim, struct mpt_sim_mbox *mb, const struct tcp_view *v)
{
	struct sim_attack *k = mb->atk;
	uint16_t fl = v->th.flags;

	k->st.join_rx++;
	if (fl & MPT_TCP_RST) {
		k->st.join_rst_rx++;
		k->js = ATK_J_DONE;
		return;
	}
	if (k->js == ATK_J_SYN_SENT && (fl & MPT_TCP_SYN) && (fl & MPT_TCP_ACK)) {
		atk_join_synack(sim, mb, v);
		return;
	}
	/* RFC 8684 §3.2: the listener acknowledges the third ACK (the
	 * "fourth ACK"); only then is the subflow established on both
	 * sides. */
	if (k->js == ATK_J_ACK_SENT && !(fl & MPT_TCP_SYN) && (fl & MPT_TCP_ACK) &&
	    v->th.ack == k->j_iss + 1) {
		k->st.join_established++;
		k->js = ATK_J_DONE;
	}
}

/* (b) MP_FASTCLOSE to the listener on the recorded subflow (RFC 8684
 * §3.5, the ACK form): from the initiator's address and port, at the
 * initiator's next sequence number (in the listener's window once the
 * segments sent before it have arrived: same link, FIFO), acknowledging
 * what the listener last sent (RFC 5961 §5.2 accepts it). */
static void atk_fastclose(struct mpt_sim *sim, struct mpt_sim_mbox *mb)
{
	struct sim_attack *k = mb->atk;
	struct mpt_mptcp_opt o;
	struct atk_seg g;

	if (!k->st.handshake || !k->d[0].known || !k->d[1].known || (!k->st.keys && !k->st.ext)) {
		k->st.not_ready++;
		return;
	}
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_FASTCLOSE;
	o.version = k->st.version;
	o.key_id = atk_key_id(k);
	/* The Option Receiver's Key: the listener's.  With external keys the
	 * field is a truncated HMAC: replay the initiator's NEW_KEY one. */
	o.u.fastclose_key = k->st.keys ? k->st.key_listener : k->nk_seen ? k->nk_hmac : 0;
	g = (struct atk_seg){.src = &k->ini,
			     .dst = &k->lis,
			     .seq = k->d[0].snd_nxt,
			     .ack = k->d[1].snd_nxt,
			     .flags = MPT_TCP_ACK,
			     .win = k->d[0].win,
			     .ts = &k->d[0],
			     .opt = &o};
	if (atk_send(sim, mb, k->to_l, &g))
		k->st.fastclose_tx++;
}

/* Arm the box's event for the next trigger not yet fired. */
static void atk_arm(struct mpt_sim *sim, struct mpt_sim_mbox *mb)
{
	struct sim_attack *k = mb->atk;
	uint64_t t = MPT_TIME_NEVER;

	if (!k->join_done && mb->cfg.atk_join_at)
		t = MPT_MIN(t, mb->cfg.atk_join_at);
	if (!k->fc_done && mb->cfg.atk_fastclose_at)
		t = MPT_MIN(t, mb->cfg.atk_fastclose_at);
	if (t == MPT_TIME_NEVER)
		sim_ev_cancel(sim, &mb->att[0]->flush);
	else
		(void)sim_ev_schedule(sim, &mb->att[0]->flush, t);
}

static void atk_fire(struct mpt_sim *sim, struct mpt_sim_mbox *mb)
{
	struct sim_attack *k = mb->atk;

	if (!k->join_done && mb->cfg.atk_join_at && mb->cfg.atk_join_at <= sim->now) {
		k->join_done = true;
		atk_join_start(sim, mb);
	}
	if (!k->fc_done && mb->cfg.atk_fastclose_at && mb->cfg.atk_fastclose_at <= sim->now) {
		k->fc_done = true;
		atk_fastclose(sim, mb);
	}
	atk_arm(sim, mb);
}

static enum sim_mbox_verdict do_attack(struct sim_mbox_att *a, struct tcp_view *v)
{
	struct mpt_sim_mbox *mb = a->mb;
	struct sim_attack *k = mb->atk;
	unsigned dir = a == mb->att[0] ? 0u : 1u;
	struct mpt_tcp_opts opts;
	bool opts_ok;

	if (k->js != ATK_J_IDLE && ep_equal(&k->jsrc, &v->ip.dst, v->th.dport) &&
	    ep_equal(&k->lis, &v->ip.src, v->th.sport)) {
		atk_join_input(mb->sim, mb, v);
		return SIM_MBOX_DROP;
	}
	opts_ok = mpt_tcp_opts_parse(&opts, v->th.opt, v->th.opt_len) == 0;
	if (opts_ok)
		atk_options(k, dir, v, &opts);
	atk_track(k, v, &opts, opts_ok);
	mb->st.passed++;
	return SIM_MBOX_PASS;
}

int mpt_sim_attack_get_stats(const struct mpt_sim_mbox *mb, struct mpt_sim_attack_stats *out)
{
	if (!mb || !out || mb->cfg.kind != MPT_SIM_MBOX_MPTCP_ATTACK || !mb->atk)
		return MPT_ERR_INVAL;
	*out = mb->atk->st;
	return 0;
}

/* ---- JOIN_REBASE ------------------------------------------------------------------ */
/*
 * A Linux 6.18 listener whose MP_JOIN completes late (mpt/sim.h has the
 * story): it answers the third ACK (RFC 8684 §3.2) with a fourth ACK
 * whose DSS DATA_ACK is A, its connection-level ack_seq, attaches the
 * subflow only when the application releases the connection, and then
 * sets the subflow's current mapping to start at ack_seq - still A.  The
 * first mapping the initiator sent on the join is delivered at DSN A
 * whatever its DSN field says.  The box makes any listener do the same by
 * writing A into that field, so that a simulated initiator shows whether
 * it survives such a peer: it does when its first mapping on a join
 * starts at A (the rewrite is then a no-op, rebase_moved stays 0).
 */

enum rb_state {
	RB_FREE = 0,  /* slot unused */
	RB_WANT_ACK4, /* MP_JOIN SYN seen: waiting for the listener's fourth ACK */
	RB_WANT_MAP,  /* A known: waiting for the initiator's first mapping */
	RB_MAPPED,    /* first mapping known: rebase it wherever it is (re)sent */
	RB_DONE,      /* nothing to do on this subflow (its mapping has a DSS checksum) */
};

/* One tracked join subflow. */
struct rb_flow {
	enum rb_state st;
	struct mpt_endpoint ini; /* join initiator (sender of the MP_JOIN SYN) */
	struct mpt_endpoint lis; /* listener */
	uint64_t a;              /* DATA_ACK of the fourth ACK, as on the wire */
	bool a64;                /* ... an 8-octet field (flag a) */
	uint64_t d;              /* first mapping: DSN as on the wire */
	bool d64;                /* ... an 8-octet field (flag m) */
	uint32_t ssn;            /* ... relative subflow sequence number */
	uint16_t len;            /* ... data-level length */
};

struct sim_rebase {
	struct rb_flow f[MPT_SIM_REBASE_MAX];
};

/* The first MPTCP option of a subtype that parses (RFC 8684 §3: kind 30,
 * the subtype in the high nibble of the third byte), and its offset in
 * the TCP segment.  DSS and MP_JOIN read the same in v0 and v1. */
static bool rb_find(const struct tcp_view *v, uint8_t subtype, struct mpt_mptcp_opt *o, size_t *off)
{
	struct mpt_tcp_opts opts;
	struct mpt_mptcp_parse_ctx ctx = {.version = MPT_MPTCP_V1,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(v->th.flags)};

	if (mpt_tcp_opts_parse(&opts, v->th.opt, v->th.opt_len) < 0)
		return false;
	for (unsigned i = 0; i < opts.n_mptcp && i < MPT_TCP_MAX_MPTCP; i++) {
		const uint8_t *b = v->th.opt + opts.mptcp[i].off;
		size_t len = opts.mptcp[i].len;

		if (len < 3 || (b[2] >> 4) != subtype)
			continue;
		if (mpt_mptcp_parse(o, b, len, &ctx) < 0 || o->unknown)
			continue;
		*off = MPT_TCP_HDR_LEN + opts.mptcp[i].off;
		return true;
	}
	return false;
}

/* The tracked subflow of a segment (fwd: initiator -> listener), or NULL. */
static struct rb_flow *rb_lookup(struct sim_rebase *k, const struct tcp_view *v, bool rev)
{
	for (unsigned i = 0; i < MPT_SIM_REBASE_MAX; i++) {
		struct rb_flow *f = &k->f[i];
		const struct mpt_endpoint *s = rev ? &f->lis : &f->ini;
		const struct mpt_endpoint *d = rev ? &f->ini : &f->lis;

		if (f->st != RB_FREE && ep_equal(s, &v->ip.src, v->th.sport) &&
		    ep_equal(d, &v->ip.dst, v->th.dport))
			return f;
	}
	return NULL;
}

/* Two DSN / DATA_ACK fields name the same number: compared in full when
 * both are 64-bit, else by their low 32 bits (RFC 8684 §3.3.1: a 4-octet
 * field is the low half of the 64-bit number). */
static bool rb_same(uint64_t x, bool x64, uint64_t y, bool y64)
{
	return x64 && y64 ? x == y : (uint32_t)x == (uint32_t)y;
}

/* Write the fourth ACK's DATA_ACK into a DSN field (8 or 4 octets at off,
 * possibly at an odd offset: byte by byte, checksum kept). */
static void rb_rewrite(struct tcp_view *v, size_t off, const struct mpt_mptcp_dss *dss,
		       const struct rb_flow *f)
{
	bool m64 = (dss->flags & MPT_DSS_F_DSN64) != 0;
	size_t n = m64 ? 8 : 4;
	uint64_t val = f->a;

	/* A 32-bit DATA_ACK only tells the low half. */
	if (m64 && !f->a64)
		val = (dss->dsn & ~(uint64_t)UINT32_MAX) | (uint32_t)f->a;
	for (size_t i = 0; i < n; i++)
		seg_set_byte(v->tcp, v->seg_len, off + i, (uint8_t)(val >> (8 * (n - 1 - i))));
}

static enum sim_mbox_verdict do_rebase(struct sim_mbox_att *a, struct tcp_view *v)
{
	struct mpt_sim_mbox *mb = a->mb;
	struct sim_rebase *k = mb->rb;
	uint16_t fl = v->th.flags;
	struct mpt_mptcp_opt o;
	struct rb_flow *f;
	size_t off;

	if (!a->rev && (fl & MPT_TCP_SYN) && !(fl & MPT_TCP_ACK) &&
	    rb_find(v, MPT_MPTCP_MP_JOIN, &o, &off)) {
		/* A join starts (or its SYN is sent again: start over). */
		f = rb_lookup(k, v, false);
		for (unsigned i = 0; !f && i < MPT_SIM_REBASE_MAX; i++)
			if (k->f[i].st == RB_FREE)
				f = &k->f[i];
		if (f) {
			memset(f, 0, sizeof(*f));
			f->st = RB_WANT_ACK4;
			f->ini = (struct mpt_endpoint){v->ip.src, v->th.sport};
			f->lis = (struct mpt_endpoint){v->ip.dst, v->th.dport};
		}
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	f = rb_lookup(k, v, a->rev);
	if (f && (fl & MPT_TCP_RST)) {
		f->st = RB_FREE; /* the subflow is gone: its slot too */
		f = NULL;
	}
	if (!f || (fl & MPT_TCP_SYN) || !rb_find(v, MPT_MPTCP_DSS, &o, &off)) {
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	const struct mpt_mptcp_dss *dss = &o.u.dss;
	size_t ack_len =
	    (dss->flags & MPT_DSS_F_ACK) ? ((dss->flags & MPT_DSS_F_ACK64) ? 8 : 4) : 0;
	bool map = (dss->flags & MPT_DSS_F_MAP) && dss->data_len != 0;
	bool m64 = (dss->flags & MPT_DSS_F_DSN64) != 0;

	if (a->rev) {
		/* The listener's first DATA_ACK after the handshake: its
		 * answer to the third ACK (RFC 8684 §3.2, the fourth ACK). */
		if (f->st == RB_WANT_ACK4 && (dss->flags & MPT_DSS_F_ACK)) {
			f->a = dss->data_ack;
			f->a64 = (dss->flags & MPT_DSS_F_ACK64) != 0;
			f->st = RB_WANT_MAP;
		}
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	if (!map || (f->st != RB_WANT_MAP && f->st != RB_MAPPED)) {
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	if (f->st == RB_WANT_MAP) {
		if (dss->has_csum) {
			/* RFC 8684 §3.3.1: the checksum covers the DSN; a
			 * rewritten one would fail it.  Not this box's case. */
			f->st = RB_DONE;
			mb->st.passed++;
			return SIM_MBOX_PASS;
		}
		f->st = RB_MAPPED;
		f->d = dss->dsn;
		f->d64 = m64;
		f->ssn = dss->ssn;
		f->len = dss->data_len;
		mb->st.rebase_joins++;
		if (!rb_same(f->d, f->d64, f->a, f->a64))
			mb->st.rebase_moved++;
	}
	/* Only the first mapping, as first sent (its retransmissions
	 * carry it again); and nothing to do where it starts at A. */
	if (dss->has_csum || dss->ssn != f->ssn || dss->data_len != f->len ||
	    !rb_same(dss->dsn, m64, f->d, f->d64) || rb_same(dss->dsn, m64, f->a, f->a64)) {
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	/* RFC 8684 §3.3: kind, length, subtype, flags, DATA_ACK, then DSN. */
	rb_rewrite(v, off + 4 + ack_len, dss, f);
	mb->st.modified++;
	return SIM_MBOX_PASS;
}

/* ---- FREEZE_DATA_ACK ------------------------------------------------------------- */
static enum sim_mbox_verdict do_freeze(struct mpt_sim *sim, struct mpt_sim_mbox *mb,
				       struct tcp_view *v)
{
	struct mpt_mptcp_opt o;
	size_t off;

	if (sim->now < mb->cfg.freeze_at || !rb_find(v, MPT_MPTCP_DSS, &o, &off) ||
	    !(o.u.dss.flags & MPT_DSS_F_ACK)) {
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	bool a64 = (o.u.dss.flags & MPT_DSS_F_ACK64) != 0;
	if (!mb->frz_set) {
		mb->frz_set = true;
		mb->frz_ack = o.u.dss.data_ack;
		mb->frz64 = a64;
	}
	uint64_t val = mb->frz_ack;
	/* A 4-octet field is the low half (RFC 8684 §3.3.1); a 64-bit one
	 * after a 32-bit first value keeps its own high half. */
	if (a64 && !mb->frz64)
		val = (o.u.dss.data_ack & ~(uint64_t)UINT32_MAX) | (uint32_t)val;
	size_t n = a64 ? 8 : 4;
	/* The DATA_ACK follows kind, length, subtype and flags (§3.3). */
	for (size_t i = 0; i < n; i++)
		seg_set_byte(v->tcp, v->seg_len, off + 4 + i, (uint8_t)(val >> (8 * (n - 1 - i))));
	mb->st.frozen_acks++;
	mb->st.modified++;
	return SIM_MBOX_PASS;
}

/* ---- dispatch --------------------------------------------------------------------- */
enum sim_mbox_verdict sim_mbox_apply(struct mpt_sim *sim, struct sim_mbox_att *a,
				     struct sim_pkt **pp)
{
	struct mpt_sim_mbox *mb = a->mb;
	struct sim_pkt *p = *pp;
	struct tcp_view v;
	enum sim_mbox_verdict r = SIM_MBOX_PASS;

	mb->st.seen++;
	if (!view_tcp(p, &v)) {
		/* Not TCP (or unparsable): a coalescer must still keep order. */
		if (mb->cfg.kind == MPT_SIM_MBOX_COALESCE)
			sim_mbox_flush(sim, a);
		mb->st.passed++;
		return SIM_MBOX_PASS;
	}
	switch (mb->cfg.kind) {
	case MPT_SIM_MBOX_STRIP_OPT:
		r = do_strip(mb, &v);
		break;
	case MPT_SIM_MBOX_SEQ_OFFSET:
		r = do_seq(mb, &v, a->rev);
		break;
	case MPT_SIM_MBOX_NAT:
		r = do_nat(sim, mb, p, &v, a->rev);
		break;
	case MPT_SIM_MBOX_RESEGMENT:
		r = do_reseg(sim, a, p, &v);
		break;
	case MPT_SIM_MBOX_COALESCE:
		r = do_coalesce(sim, a, p, &v);
		break;
	case MPT_SIM_MBOX_CORRUPT:
		r = do_corrupt(mb, &v);
		break;
	case MPT_SIM_MBOX_DROP_UNKNOWN_OPT:
		r = do_drop_unknown(mb, &v);
		break;
	case MPT_SIM_MBOX_MPTCP_ATTACK:
		r = do_attack(a, &v);
		break;
	case MPT_SIM_MBOX_JOIN_REBASE:
		r = do_rebase(a, &v);
		break;
	case MPT_SIM_MBOX_FREEZE_DATA_ACK:
		r = do_freeze(sim, mb, &v);
		break;
	}
	if (r == SIM_MBOX_DROP)
		mb->st.dropped++;
	return r;
}

/* ---- creation ---------------------------------------------------------------------- */
static int attach(struct mpt_sim *sim, struct mpt_sim_mbox *mb, struct mpt_sim_link *l, bool rev)
{
	struct sim_mbox_att *a, **v;

	a = mpt_calloc(sim->mem, 1, sizeof(*a));
	if (!a)
		return MPT_ERR_NOMEM;
	v = mpt_realloc(sim->mem, l->att, (l->n_att + 1) * sizeof(*v));
	if (!v) {
		mpt_free(sim->mem, a);
		return MPT_ERR_NOMEM;
	}
	l->att = v;
	a->flush.idx = SIM_EV_NOT_QUEUED;
	a->flush.kind = SIM_EV_FLUSH;
	a->mb = mb;
	a->link = l;
	a->rev = rev;
	if (rev) {
		/* The way back crosses the boxes in the opposite order: the
		 * reverse half of a two-way box goes first on its link, so
		 * that two NATs in a row undo their translations in the
		 * right order (a double NAT once answered the client's
		 * inner port: soak seed 1228). */
		for (size_t i = l->n_att; i > 0; i--) {
			l->att[i] = l->att[i - 1];
			l->att[i]->pos = i;
		}
		a->pos = 0;
		l->att[0] = a;
		l->n_att++;
	} else {
		a->pos = l->n_att;
		l->att[l->n_att++] = a;
	}
	mb->att[rev ? 1 : 0] = a;
	return 0;
}

static void detach(struct mpt_sim *sim, struct sim_mbox_att *a)
{
	struct mpt_sim_link *l = a->link;

	/* Only the last attachment made can be undone (creation failure):
	 * at the end of its link, or at the front for a reverse half. */
	if (l->n_att > 0 && l->att[l->n_att - 1] == a) {
		l->n_att--;
	} else if (l->n_att > 0 && l->att[0] == a) {
		for (size_t i = 1; i < l->n_att; i++) {
			l->att[i - 1] = l->att[i];
			l->att[i - 1]->pos = i - 1;
		}
		l->n_att--;
	}
	mpt_free(sim->mem, a);
}

static bool cfg_ok(const struct mpt_sim_mbox_cfg *c)
{
	switch (c->kind) {
	case MPT_SIM_MBOX_STRIP_OPT:
	case MPT_SIM_MBOX_SEQ_OFFSET:
	case MPT_SIM_MBOX_COALESCE:
	case MPT_SIM_MBOX_DROP_UNKNOWN_OPT:
	case MPT_SIM_MBOX_JOIN_REBASE:
	case MPT_SIM_MBOX_FREEZE_DATA_ACK:
		return true;
	case MPT_SIM_MBOX_NAT:
		return c->nat_addr.family == 4 || c->nat_addr.family == 6;
	case MPT_SIM_MBOX_RESEGMENT:
		return c->seg_size > 0;
	case MPT_SIM_MBOX_CORRUPT:
		return c->corrupt_prob >= 0.0 && c->corrupt_prob <= 1.0;
	case MPT_SIM_MBOX_MPTCP_ATTACK:
		return c->atk_join_addr.family == 0 || c->atk_join_addr.family == 4 ||
		       c->atk_join_addr.family == 6;
	}
	return false;
}

int mpt_sim_mbox_add(struct mpt_sim_link *fwd, struct mpt_sim_link *rev,
		     const struct mpt_sim_mbox_cfg *cfg, struct mpt_sim_mbox **out)
{
	struct mpt_sim *sim;
	struct mpt_sim_mbox *mb;
	bool two_way;
	int rc;

	if (out)
		*out = NULL;
	if (!fwd || !cfg || !cfg_ok(cfg) || (rev && rev->sim != fwd->sim))
		return MPT_ERR_INVAL;
	/* The attacker and the rebasing listener see both directions of
	 * one path. */
	if ((cfg->kind == MPT_SIM_MBOX_MPTCP_ATTACK || cfg->kind == MPT_SIM_MBOX_JOIN_REBASE) &&
	    (!rev || rev == fwd))
		return MPT_ERR_INVAL;
	sim = fwd->sim;
	two_way = rev &&
		  (cfg->kind == MPT_SIM_MBOX_SEQ_OFFSET || cfg->kind == MPT_SIM_MBOX_NAT ||
		   cfg->kind == MPT_SIM_MBOX_MPTCP_ATTACK || cfg->kind == MPT_SIM_MBOX_JOIN_REBASE);
	mb = mpt_calloc(sim->mem, 1, sizeof(*mb));
	if (!mb)
		return MPT_ERR_NOMEM;
	mb->sim = sim;
	mb->cfg = *cfg;
	if (cfg->kind == MPT_SIM_MBOX_MPTCP_ATTACK) {
		mb->atk = mpt_calloc(sim->mem, 1, sizeof(*mb->atk));
		if (!mb->atk) {
			mpt_free(sim->mem, mb);
			return MPT_ERR_NOMEM;
		}
	}
	if (cfg->kind == MPT_SIM_MBOX_JOIN_REBASE) {
		mb->rb = mpt_calloc(sim->mem, 1, sizeof(*mb->rb));
		if (!mb->rb) {
			mpt_free(sim->mem, mb);
			return MPT_ERR_NOMEM;
		}
	}
	sim_rng_seed(&mb->rng, sim->seed, sim_next_stream(sim));
	rc = attach(sim, mb, fwd, false);
	if (rc == 0 && two_way) {
		rc = attach(sim, mb, rev, true);
		if (rc < 0) {
			detach(sim, mb->att[0]);
			mb->att[0] = NULL;
		}
	}
	if (rc < 0) {
		mpt_free(sim->mem, mb->atk);
		mpt_free(sim->mem, mb->rb);
		mpt_free(sim->mem, mb);
		return rc;
	}
	mb->next = sim->mboxes;
	sim->mboxes = mb;
	if (mb->atk)
		atk_arm(sim, mb);
	if (out)
		*out = mb;
	return 0;
}

void mpt_sim_mbox_get_stats(const struct mpt_sim_mbox *mb, struct mpt_sim_mbox_stats *out)
{
	*out = mb->st;
}

void sim_mbox_free_all(struct mpt_sim *sim)
{
	while (sim->mboxes) {
		struct mpt_sim_mbox *mb = sim->mboxes;

		sim->mboxes = mb->next;
		for (int i = 0; i < 2; i++) {
			struct sim_mbox_att *a = mb->att[i];

			if (!a)
				continue;
			sim_ev_cancel(sim, &a->flush);
			sim_pkt_free(sim, a->held);
			mpt_free(sim->mem, a);
		}
		mpt_free(sim->mem, mb->nat);
		mpt_free(sim->mem, mb->atk);
		mpt_free(sim->mem, mb->rb);
		mpt_free(sim->mem, mb);
	}
}
