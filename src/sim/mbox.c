/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Middleboxes on a link direction.  They operate on raw IP packets with
 * the wire codecs and keep TCP checksums valid: in-place rewrites use the
 * RFC 1624 incremental update (so a segment that arrived with a bad
 * checksum still has a bad one), segments built anew (resegment, coalesce)
 * get a full checksum.  RFC 8684 §6 lists these behaviours as the ones
 * MPTCP must survive (option stripping, sequence rewriting, NAT,
 * resegmentation/coalescing, payload modification).
 */
#include "sim/sim_int.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip.h"
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

void sim_mbox_flush(struct mpt_sim *sim, struct sim_mbox_att *a)
{
	struct sim_pkt *h = a->held;

	sim_ev_cancel(sim, &a->flush);
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
		return true;
	case MPT_SIM_MBOX_NAT:
		return c->nat_addr.family == 4 || c->nat_addr.family == 6;
	case MPT_SIM_MBOX_RESEGMENT:
		return c->seg_size > 0;
	case MPT_SIM_MBOX_CORRUPT:
		return c->corrupt_prob >= 0.0 && c->corrupt_prob <= 1.0;
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
	sim = fwd->sim;
	two_way = rev && (cfg->kind == MPT_SIM_MBOX_SEQ_OFFSET || cfg->kind == MPT_SIM_MBOX_NAT);
	mb = mpt_calloc(sim->mem, 1, sizeof(*mb));
	if (!mb)
		return MPT_ERR_NOMEM;
	mb->sim = sim;
	mb->cfg = *cfg;
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
		mpt_free(sim->mem, mb);
		return rc;
	}
	mb->next = sim->mboxes;
	sim->mboxes = mb;
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
		mpt_free(sim->mem, mb);
	}
}
