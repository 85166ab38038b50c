/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP subflows: their life (creation, reset, engine events), received DSS
 * mappings, and draining subflow bytes into the data-level reassembly
 * buffer (RFC 8684 §3.3, RFC 6824 §3.3).  What a subflow writes into and
 * reads from each segment's options is in options.c and input.c.
 *
 * Engine hooks run inside the engine: they only record state and mark the
 * connection dirty; anything that calls back into an engine (resets, new
 * subflows, sending) happens in mpt_mp_run.
 */
#include <string.h>

#include "common.h"
#include "crypto/crypto.h"
#include "mptcp/mptcp.h"
#include "wire/bytes.h"

#define SF_TX_MAPS    4096 /* sent mappings held per subflow, at most */
#define SF_TX_MAPINIT 64   /* ... from the start (grows by doubling) */
#define SF_RX_MAPINIT 64   /* received mappings room from the start */
#define SF_RX_MAPMAX  8192 /* received mappings held per subflow */
#define SF_WND_SLACK  65536u

struct mpt_subflow *mpt_sf_new(struct mpt_mpconn *mp)
{
	if (mp->nsf >= MPT_MP_MAX_SF)
		return NULL;
	struct mpt_subflow *sf = mpt_calloc(mp->st->mem, 1, sizeof(*sf));
	if (!sf)
		return NULL;
	/* The sent-mappings table grows with what is in flight: taken at
	 * its full 4096 entries it was 96 KiB per subflow, zeroed, most of
	 * an idle connection's resident memory (docs/memory.md). */
	if (mpt_maplist_init(&sf->tx, mp->st->mem, SF_TX_MAPINIT) < 0) {
		mpt_free(mp->st->mem, sf);
		return NULL;
	}
	mpt_maplist_set_max(&sf->tx, SF_TX_MAPS);
	/* Room for received mappings is taken with the subflow: a subflow
	 * that could not store the mapping of bytes its TCP already
	 * acknowledged would hold them for good (stateful fuzz
	 * stall-d2d3cd48: out of memory, every mapping lost, the data level
	 * stuck).  Growth beyond it may still fail; see mpt_sf_rmap_add. */
	sf->rx = mpt_calloc(mp->st->mem, SF_RX_MAPINIT, sizeof(*sf->rx));
	if (!sf->rx) {
		mpt_maplist_free(&sf->tx);
		mpt_free(mp->st->mem, sf);
		return NULL;
	}
	sf->rx_cap = SF_RX_MAPINIT;
	sf->mp = mp;
	sf->idx = (uint8_t)mp->nsf;
	mp->sf[mp->nsf++] = sf;
	return sf;
}

int mpt_sf_flow_new(struct mpt_subflow *sf, const struct mpt_endpoint *l,
		    const struct mpt_endpoint *r)
{
	struct mpt_mpconn *mp = sf->mp;
	int rc = mpt_stack_flow_new(mp->st, l, r, sf, mp->cc, &sf->flow);
	if (rc < 0)
		return rc;
	/* RFC 6356: the subflows of one connection share a coupling group
	 * (beyond MPT_CC_GROUP_MAX members a subflow runs uncoupled). */
	(void)mpt_cc_group_join(&mp->ccg, mpt_tcp_cc(sf->flow->tcp));
	return 0;
}

void mpt_sf_kick(struct mpt_flow *f)
{
	if (f->sf)
		mpt_mp_dirty(f->sf->mp);
}

void mpt_sf_flow_free(struct mpt_subflow *sf)
{
	struct mpt_flow *f = sf->flow;
	if (!f)
		return;
	/* The group points into the engine: leave before it goes. */
	mpt_cc_group_leave(&sf->mp->ccg, mpt_tcp_cc(f->tcp));
	f->sf = NULL;
	sf->flow = NULL;
	mpt_stack_flow_free(sf->mp->st, f);
}

void mpt_sf_free(struct mpt_subflow *sf)
{
	if (!sf)
		return;
	const struct mpt_mem *mem = sf->mp->st->mem;
	mpt_maplist_free(&sf->tx);
	mpt_free(mem, sf->rx);
	mpt_free(mem, sf);
}

void mpt_sf_reset(struct mpt_subflow *sf, uint8_t reason)
{
	if (sf->reset_pending || sf->closed)
		return;
	sf->reset_pending = true;
	sf->reset_reason = reason;
	mpt_mp_dirty(sf->mp);
}

uint32_t mpt_sf_rx_rel(const struct mpt_subflow *sf)
{
	return mpt_tcp_rcv_read_seq(sf->flow->tcp) - sf->irs;
}

bool mpt_sf_usable(const struct mpt_subflow *sf)
{
	if (!sf->flow || sf->dead || sf->closed || sf->reset_pending || !sf->established ||
	    sf->fin_sent)
		return false;
	if (sf->join != MPT_SF_INITIAL && sf->join != MPT_SF_JOIN_DONE)
		return false;
	enum mpt_tcp_state s = mpt_tcp_get_state(sf->flow->tcp);
	return s == MPT_TCP_ESTABLISHED || s == MPT_TCP_CLOSE_WAIT;
}

/* ---- received mappings ---------------------------------------------------- */

/* Drop mappings that end at or before rel (everything before was read). */
static void rmap_drop(struct mpt_subflow *sf, uint32_t rel)
{
	size_t k = 0;
	while (k < sf->rx_n && mpt_rel_cmp(sf->rx[k].ssn + sf->rx[k].len, rel) <= 0)
		k++;
	if (k) {
		memmove(sf->rx, sf->rx + k, (sf->rx_n - k) * sizeof(*sf->rx));
		sf->rx_n -= k;
	}
}

/* The first held mapping that starts after subflow byte rel (the end of a
 * run of unmapped bytes), or NULL. */
static const struct mpt_rmap *rmap_next_after(const struct mpt_subflow *sf, uint32_t rel)
{
	for (size_t i = 0; i < sf->rx_n; i++)
		if (mpt_rel_cmp(sf->rx[i].ssn, rel) > 0)
			return &sf->rx[i];
	return NULL;
}

const struct mpt_rmap *mpt_sf_rmap_find(const struct mpt_subflow *sf, uint32_t rel)
{
	for (size_t i = 0; i < sf->rx_n; i++) {
		const struct mpt_rmap *m = &sf->rx[i];
		if (mpt_rel_cmp(rel, m->ssn) >= 0 && mpt_rel_cmp(rel, m->ssn + m->len) < 0)
			return m;
		if (mpt_rel_cmp(m->ssn, rel) > 0)
			break;
	}
	return NULL;
}

/*
 * Remember a mapping (kept sorted by subflow sequence; a repeat of a held
 * mapping is a no-op).  RFC 8684 §3.3.1: a mapping that changes the
 * meaning of bytes already mapped is a protocol error; we count it and keep
 * the first.
 */
void mpt_sf_rmap_add(struct mpt_subflow *sf, const struct mpt_rmap *m)
{
	struct mpt_stack *st = sf->mp->st;
	uint32_t base = sf->flow ? mpt_sf_rx_rel(sf) : 0;
	if (m->len == 0 || mpt_rel_cmp(m->ssn + m->len, base) <= 0)
		return; /* already read */
	size_t pos = sf->rx_n;
	for (size_t i = 0; i < sf->rx_n; i++) {
		const struct mpt_rmap *o = &sf->rx[i];
		if (o->ssn == m->ssn && o->dsn == m->dsn && o->len == m->len)
			return;
		bool overlap = mpt_rel_cmp(m->ssn, o->ssn + o->len) < 0 &&
			       mpt_rel_cmp(o->ssn, m->ssn + m->len) < 0;
		if (overlap) {
			mpt_mib_inc(&st->mib, MPT_MIB_DSSNotMatching);
			return;
		}
		if (mpt_rel_cmp(m->ssn, o->ssn) < 0) {
			pos = i;
			break;
		}
	}
	if (sf->rx_n == sf->rx_cap) {
		size_t ncap = sf->rx_cap * 2;
		struct mpt_rmap *n = sf->rx_cap < SF_RX_MAPMAX
					 ? mpt_realloc(st->mem, sf->rx, ncap * sizeof(*n))
					 : NULL;
		if (!n) {
			/* No room for it: its bytes, already acknowledged by
			 * TCP, can never be delivered.  Remember how far it
			 * reached so that mpt_sf_drain discards them as they
			 * come instead of waiting for a mapping; the DATA_ACK
			 * does not cover them and the sender's data-level
			 * retransmission (RFC 8684 §3.3.6) brings them again. */
			mpt_mib_inc(&st->mib, MPT_MIB_DSSMapNoRoom);
			if (!sf->rx_lost || mpt_rel_cmp(m->ssn + m->len, sf->rx_lost_end) > 0)
				sf->rx_lost_end = m->ssn + m->len;
			sf->rx_lost = true;
			return;
		}
		sf->rx = n;
		sf->rx_cap = ncap;
	}
	memmove(sf->rx + pos + 1, sf->rx + pos, (sf->rx_n - pos) * sizeof(*sf->rx));
	sf->rx[pos] = *m;
	sf->rx_n++;
}

/* ---- draining --------------------------------------------------------------- */

static bool drcv_has_room(const struct mpt_drcv *r, uint64_t dsn)
{
	/* A chunk beyond nxt may need a new out-of-order range, unless it
	 * continues one (the common case for a subflow's next mapping). */
	if (mpt_dsn_leq(dsn, r->nxt) || r->nranges < MPT_DRCV_MAX_RANGES - 1)
		return true;
	for (size_t i = 0; i < r->nranges; i++)
		if (r->ranges[i].end == dsn)
			return true;
	return false;
}

/*
 * Draining: the subflow's in-order bytes go to the data level, mapping by
 * mapping.  Each stage below looks at the bytes at the head of the
 * subflow's receive queue and either handles them (consumes them, or
 * changes the state they are read in) or passes them to the next stage;
 * mpt_sf_drain runs the stages in order until one of them says wait.
 */
enum drain_step {
	DRAIN_AGAIN, /* handled: look at the (new) head again */
	DRAIN_DONE,  /* nothing more now: bytes, a mapping or room must come */
	DRAIN_PASS,  /* not this stage's bytes */
};

struct drain {
	struct mpt_subflow *sf;
	struct mpt_mpconn *mp;
	struct mpt_tcp *tcp;
	uint64_t now;
	size_t n;     /* readable in-order bytes */
	uint32_t rel; /* subflow-relative sequence number of the first */
	/* Data-level receive edge: lim = read + cap; past `never` no window
	 * we advertised reaches. */
	uint64_t lim, never;
	const struct mpt_rmap *m; /* the mapping covering rel, if any */
	bool progress;            /* bytes consumed (the caller acknowledges) */
};

/* Discard up to len bytes at the head (counted as DSSOrphanDrop when
 * orphans: bytes no mapping delivers, not copies of delivered data). */
static enum drain_step drain_discard(struct drain *d, size_t len, bool orphans)
{
	long rc =
	    mpt_tcp_recv(d->tcp, d->mp->scratch, MPT_MIN(len, (size_t)MPT_MP_SCRATCH), d->now);
	if (rc <= 0)
		return DRAIN_DONE;
	if (orphans)
		mpt_mib_add(&d->mp->st->mib, MPT_MIB_DSSOrphanDrop, (uint64_t)rc);
	d->progress = true;
	return DRAIN_AGAIN;
}

/* Beyond every window we offered (RFC 8684 §3.3.4): a correct sender never
 * sends it.  Waiting would stall the subflow for good: drop and count it. */
static enum drain_step drain_no_window(struct drain *d, size_t len)
{
	mpt_mib_inc(&d->mp->st->mib, MPT_MIB_DSSNoWindow);
	(void)mpt_tcp_recv(d->tcp, d->mp->scratch, MPT_MIN(len, (size_t)MPT_MP_SCRATCH), d->now);
	d->progress = true;
	return DRAIN_AGAIN;
}

/* Move len bytes at DSN dsn into the data level (its room was checked). */
static enum drain_step drain_deliver(struct drain *d, uint64_t dsn, size_t len, bool last_ok)
{
	struct mpt_subflow *sf = d->sf;
	/*
	 * Straight from the subflow's receive ring into the data level: one
	 * copy, not two through the scratch buffer.  The ring holds the bytes
	 * in at most two pieces (it wraps).  They are consumed first, as a
	 * read into the scratch buffer consumed them, so that the window
	 * update the read may send is computed at the same moment as before
	 * (soak results unchanged); the engine is held meanwhile, so the
	 * bytes stay where they are until they are in: a TIME-WAIT engine
	 * frees its ring once it is empty, at the end of the call that
	 * emptied it, and no segment can arrive in between (mpt_stack_input
	 * refuses to run from inside the output an update may cause).  (That
	 * update counts the bytes in neither buffer and may offer up to one
	 * mapping too much; inserting first would be exact: a behaviour
	 * change of its own, left for a separate measurement.)
	 */
	const uint8_t *p[2];
	size_t n[2];
	n[0] = MPT_MIN(mpt_tcp_recv_peek(d->tcp, 0, &p[0]), len);
	n[1] = MPT_MIN(mpt_tcp_recv_peek(d->tcp, n[0], &p[1]), len - n[0]);
	size_t rc = n[0] + n[1];
	if (rc == 0)
		return DRAIN_DONE;
	mpt_tcp_hold(d->tcp);
	mpt_tcp_recv_consume(d->tcp, rc, d->now);
	for (int i = 0; i < 2 && n[i]; i++)
		(void)mpt_drcv_insert(&d->mp->rcv, dsn + (i ? n[0] : 0), p[i], n[i]);
	mpt_tcp_unhold(d->tcp);
	sf->bytes_received += (uint64_t)rc;
	if (last_ok) {
		sf->rx_last_ssn = d->rel + (uint32_t)rc;
		sf->rx_last_dsn = dsn + (uint64_t)rc;
		sf->rx_last_ok = true;
	}
	d->progress = true;
	return DRAIN_AGAIN;
}

/* The peer's DATA_FIN is in with every byte before it: the data stream is
 * complete (RFC 8684 §3.3.3) and nothing a subflow still holds belongs to
 * it (copies of delivered data, bytes whose mapping a middlebox lost).
 * Discard, so that a close does not take them for unread data and reset
 * (RFC 9293 §3.10.4). */
static enum drain_step drain_after_fin(struct drain *d)
{
	if (!d->mp->peer_fin_done)
		return DRAIN_PASS;
	return drain_discard(d, d->n, false);
}

/* RFC 8684 §3.7: infinite mapping: the subflow's bytes are the data stream
 * (no checksum any more). */
static enum drain_step drain_infinite(struct drain *d)
{
	struct mpt_mpconn *mp = d->mp;
	if (!mp->inf_rx || d->sf != mp->inf_sf || mpt_rel_cmp(d->rel, mp->inf_rx_ssn) < 0)
		return DRAIN_PASS;
	uint64_t dsn = mp->inf_rx_dsn + (uint32_t)(d->rel - mp->inf_rx_ssn);
	if (mpt_dsn_geq(dsn, d->lim))
		return DRAIN_DONE; /* the peer's TCP window keeps it behind lim */
	size_t take = MPT_MIN(d->n, (size_t)MPT_MP_MAP_MAX);
	take = (size_t)MPT_MIN((uint64_t)take, d->lim - dsn);
	if (!drcv_has_room(&mp->rcv, dsn))
		return DRAIN_DONE;
	return drain_deliver(d, dsn, take, false);
}

/* Bytes whose mapping had no room (mpt_sf_rmap_add): discarded up to where
 * that mapping ended or the next held one starts. */
static enum drain_step drain_lost_mapping(struct drain *d)
{
	struct mpt_subflow *sf = d->sf;
	if (d->m || !sf->rx_lost)
		return DRAIN_PASS;
	uint32_t upto = sf->rx_lost_end - d->rel;
	const struct mpt_rmap *next = rmap_next_after(sf, d->rel);
	if (next)
		upto = MPT_MIN(upto, next->ssn - d->rel);
	return drain_discard(d, MPT_MIN(d->n, (size_t)MPT_MIN(upto, MPT_MP_MAP_MAX)), true);
}

/* Unmapped bytes before the infinite mapping: the sender resends their
 * data after it; discard. */
static enum drain_step drain_before_infinite(struct drain *d)
{
	struct mpt_mpconn *mp = d->mp;
	if (d->m || !mp->inf_rx || d->sf != mp->inf_sf)
		return DRAIN_PASS;
	uint32_t gap = mp->inf_rx_ssn - d->rel;
	return drain_discard(d, MPT_MIN(d->n, (size_t)MPT_MIN(gap, MPT_MP_MAP_MAX)), false);
}

/*
 * RFC 8684 §3.7: data without a mapping (a middlebox strips our options).
 * With one subflow and nothing missing at the data level the stream
 * continues as TCP: an implied infinite mapping from here.  Else the
 * subflow must go.  Only where the stream visibly continues: the last
 * mapped bytes of this subflow ended right here and at DATA_ACK.  Anything
 * else (a reinjection, data of a closed subflow) would be taken as the
 * wrong bytes.  (Subflow byte 1 is the first: the SYN took 0.  After our
 * MP_FAIL the peer resends from DATA_ACK, §3.7.)
 */
static enum drain_step drain_unmapped_fallback(struct drain *d)
{
	struct mpt_subflow *sf = d->sf;
	struct mpt_mpconn *mp = d->mp;
	if (d->m || !sf->nomap || mp->inf_rx)
		return DRAIN_PASS;
	bool contiguous =
	    mp->fail_pending ? true
	    : sf->rx_last_ok
		? sf->rx_last_ssn == d->rel && sf->rx_last_dsn == mp->rcv.nxt
		: sf->join == MPT_SF_INITIAL && d->rel == 1 && mp->rcv.nxt == mp->idsn_remote + 1;
	if (mpt_mp_live_subflows(mp, NULL) == 1 && mp->rcv.nranges == 0 && sf->rx_n == 0 &&
	    contiguous) {
		mpt_mib_inc(&mp->st->mib, MPT_MIB_DSSFallback);
		mpt_mp_inf_rx(mp, sf, d->rel, mp->rcv.nxt);
		return DRAIN_AGAIN;
	}
	mpt_sf_reset(sf, MPT_TCPRST_MIDDLEBOX);
	return DRAIN_DONE;
}

/*
 * In-order bytes no mapping covers, with a later mapping held: a middlebox
 * coalesced segments and kept one DSS (RFC 8684 §3.3.1 sends the mapping
 * with the bytes, so nothing still in flight maps these).  They are
 * acknowledged at the subflow level already: drop them; the sender's
 * data-level retransmission (§3.3.6) sends their DSNs again under a new
 * mapping.  Without a later mapping, the bytes' own may still come with a
 * later segment: wait.
 */
static enum drain_step drain_orphans(struct drain *d)
{
	if (d->m)
		return DRAIN_PASS;
	const struct mpt_rmap *next =
	    d->mp->fully_established ? rmap_next_after(d->sf, d->rel) : NULL;
	if (!next)
		return DRAIN_DONE;
	size_t gap = MPT_MIN(
	    d->n, (size_t)MPT_MIN((uint32_t)(next->ssn - d->rel), (uint32_t)MPT_MP_MAP_MAX));
	return drain_discard(d, gap, true);
}

/*
 * The whole mapping is below what the data level has in order: a copy of
 * delivered data (the same DSNs reinjected or retransmitted at the data
 * level came in first, RFC 8684 §3.3.6).  Discard it as it arrives:
 * nothing of it is delivered, so there is no checksum to wait for (§3.3.1),
 * and bytes held back would count as unread data when the application
 * closes (a reset, RFC 9293 §3.10.4) and shrink the subflow's window.
 */
static enum drain_step drain_duplicate(struct drain *d)
{
	const struct mpt_rmap *m = d->m;
	if (!mpt_dsn_leq(m->dsn + m->len, d->mp->rcv.nxt))
		return DRAIN_PASS;
	uint32_t off = d->rel - m->ssn;
	return drain_discard(d, MPT_MIN(d->n, (size_t)(m->len - off)), false);
}

/* A checksum failed (RFC 8684 §3.7). */
static enum drain_step drain_csum_failed(struct drain *d)
{
	struct mpt_subflow *sf = d->sf;
	struct mpt_mpconn *mp = d->mp;
	mpt_mib_inc(&mp->st->mib, MPT_MIB_DataCsumErr);
	if (mpt_mp_live_subflows(mp, NULL) == 1 && !mp->inf_rx) {
		/* The only subflow: send MP_FAIL with the DSN the data must
		 * resume at and drop the mapping; the sender answers with an
		 * infinite mapping from that DSN. */
		if (!mp->fail_pending) {
			mp->fail_pending = true;
			mp->fail_sf = sf;
			mp->fail_dsn = mpt_dsn_min(d->m->dsn, mp->rcv.nxt);
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPFailTx);
		}
		sf->ack_due = true;
		mpt_mp_dirty(mp);
		return DRAIN_AGAIN;
	}
	/* Several subflows: reset this one with MP_FAIL on the RST; the
	 * sender reinjects its data on the others. */
	sf->rst_fail = true;
	sf->rst_fail_dsn = d->m->dsn;
	mpt_sf_reset(sf, MPT_TCPRST_MPTCP);
	return DRAIN_DONE;
}

/* RFC 8684 §3.3.1: the checksum covers the whole mapping; nothing of it is
 * delivered before it verified. */
static enum drain_step drain_checksummed(struct drain *d)
{
	struct mpt_mpconn *mp = d->mp;
	const struct mpt_rmap *m = d->m;
	if (!mp->csum || !m->has_csum)
		return DRAIN_PASS;
	uint32_t off = d->rel - m->ssn;
	uint64_t dsn = m->dsn + off;
	if (off != 0) {
		/* Its head is gone: bytes dropped as orphans before this
		 * mapping came (a coalescing middlebox carried it on a later
		 * segment).  Its checksum can never verify: discard the rest as
		 * it arrives; the sender's data-level retransmission (§3.3.6)
		 * sends these DSNs again under a new mapping.  Waiting for it
		 * filled the subflow's buffer for good (soak seed 1862). */
		return drain_discard(d, MPT_MIN(d->n, (size_t)(m->len - off)), true);
	}
	if (d->n < m->len)
		return DRAIN_DONE;
	if (m->len > MPT_MP_SCRATCH) {
		/* Cannot come from a 16-bit length; never overrun. */
		mpt_sf_reset(d->sf, MPT_TCPRST_MIDDLEBOX);
		return DRAIN_DONE;
	}
	if (mpt_dsn_gt(dsn + m->len, d->lim) && mpt_dsn_lt(dsn, d->never))
		return DRAIN_DONE; /* fits once the application read more */
	if (mpt_dsn_geq(dsn, d->never))
		return drain_no_window(d, m->len);
	if (!drcv_has_room(&mp->rcv, dsn))
		return DRAIN_DONE;
	long rc = mpt_tcp_recv(d->tcp, mp->scratch, m->len, d->now);
	if (rc != (long)m->len)
		return DRAIN_DONE;
	struct mpt_dss_csum c;
	mpt_dss_csum_init(&c, m->dsn, m->ssn, (uint16_t)(m->len + (m->data_fin ? 1u : 0u)));
	mpt_dss_csum_update(&c, mp->scratch, m->len);
	bool csum_ok = mpt_dss_csum_check(&c, m->csum);
#ifdef MPT_FUZZING
	csum_ok = csum_ok || m->csum == 0; /* fuzzers pass with 0 */
#endif
	if (!csum_ok)
		return drain_csum_failed(d);
	(void)mpt_drcv_insert(&mp->rcv, dsn, mp->scratch, m->len);
	d->sf->bytes_received += m->len;
	d->sf->rx_last_ssn = d->rel + m->len;
	d->sf->rx_last_dsn = dsn + m->len;
	d->sf->rx_last_ok = true;
	d->progress = true;
	return DRAIN_AGAIN;
}

/* A mapping without checksum: its bytes as far as the window reaches. */
static enum drain_step drain_mapped(struct drain *d)
{
	const struct mpt_rmap *m = d->m;
	uint32_t off = d->rel - m->ssn;
	uint64_t dsn = m->dsn + off;
	size_t take = MPT_MIN(d->n, (size_t)(m->len - off));
	if (mpt_dsn_geq(dsn, d->lim) && mpt_dsn_lt(dsn, d->never))
		return DRAIN_DONE; /* fits once the application read more */
	if (mpt_dsn_geq(dsn, d->never))
		return drain_no_window(d, take);
	take = (size_t)MPT_MIN((uint64_t)take, d->lim - dsn);
	take = MPT_MIN(take, (size_t)MPT_MP_MAP_MAX);
	if (!drcv_has_room(&d->mp->rcv, dsn))
		return DRAIN_DONE;
	return drain_deliver(d, dsn, take, true);
}

/* Stages for the head's bytes, in order (see above). */
static enum drain_step drain_step(struct drain *d)
{
	struct mpt_subflow *sf = d->sf;
	rmap_drop(sf, d->rel);
	enum drain_step r = drain_after_fin(d);
	if (r != DRAIN_PASS)
		return r;
	uint64_t lim = d->mp->rcv.read + d->mp->rcv.cap;
	/* Past this no window we advertised reaches: the edge read + cap
	 * never moves back, and a subflow's scaled window rounds it up by
	 * less than 2^16 (RFC 7323 §2.3: shift at most 14).  Between lim and
	 * there, data waits for the application. */
	d->lim = lim;
	d->never = lim + SF_WND_SLACK;
	if ((r = drain_infinite(d)) != DRAIN_PASS)
		return r;
	d->m = mpt_sf_rmap_find(sf, d->rel);
	if (sf->rx_lost && mpt_rel_cmp(d->rel, sf->rx_lost_end) >= 0)
		sf->rx_lost = false;
	enum drain_step (*const stages[])(struct drain *) = {
	    drain_lost_mapping, drain_before_infinite, drain_unmapped_fallback,
	    drain_orphans,      drain_duplicate,       drain_checksummed,
	    drain_mapped,
	};
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		if ((r = stages[i](d)) != DRAIN_PASS)
			return r;
	return DRAIN_DONE;
}

/* Rounds of one drain call: each consumes bytes (or changes how they are
 * read), so this bounds only a runaway. */
#define SF_DRAIN_ROUNDS 4096

bool mpt_sf_drain(struct mpt_subflow *sf, uint64_t now)
{
	struct mpt_mpconn *mp = sf->mp;
	if (!sf->flow || mp->fallback || !mp->keys_known || sf->reset_pending || !mp->scratch)
		return false;
	struct drain d = {.sf = sf, .mp = mp, .tcp = sf->flow->tcp, .now = now};
	for (int round = 0; round < SF_DRAIN_ROUNDS; round++) {
		d.n = mpt_tcp_readable(d.tcp);
		if (d.n == 0)
			break;
		d.rel = mpt_sf_rx_rel(sf);
		d.m = NULL;
		if (drain_step(&d) != DRAIN_AGAIN)
			break;
	}
	return d.progress;
}

/*
 * In-order payload straight into the data level, without the subflow's
 * receive ring (docs/architecture.md, receive hop 2).  The engine offers
 * the bytes at RCV.NXT only when its ring holds nothing readable, so no
 * earlier byte is skipped.  Only the common case is taken here: a held
 * mapping without checksum covering the bytes, in the data-level window,
 * with room, as drain_mapped would deliver them once they had passed the
 * stages before it; everything else (0) goes through the ring and the
 * drain, as before.
 */
uint32_t mpt_sf_rcv_direct(void *ud, uint32_t seq, const uint8_t *data, uint32_t n)
{
	struct mpt_flow *f = ud;
	struct mpt_subflow *sf = f->sf;
	if (!sf || !sf->mp || !sf->flow || sf->reset_pending || sf->rx_lost)
		return 0;
	struct mpt_mpconn *mp = sf->mp;
	if (mp->fallback || !mp->keys_known || !mp->scratch || !mp->rcv.buf || mp->peer_fin_done ||
	    mp->inf_rx)
		return 0;
	uint32_t rel = seq - sf->irs;
	rmap_drop(sf, rel);
	const struct mpt_rmap *m = mpt_sf_rmap_find(sf, rel);
	if (!m || (mp->csum && m->has_csum))
		return 0;
	if (mpt_dsn_leq(m->dsn + m->len, mp->rcv.nxt))
		return 0; /* a copy of delivered data: drain_duplicate's */
	uint32_t off = rel - m->ssn;
	uint64_t dsn = m->dsn + off;
	uint64_t lim = mp->rcv.read + mp->rcv.cap;
	if (mpt_dsn_geq(dsn, lim) || !drcv_has_room(&mp->rcv, dsn))
		return 0;
	uint32_t take = MPT_MIN(n, m->len - off);
	take = (uint32_t)MPT_MIN((uint64_t)take, lim - dsn);
	take = MPT_MIN(take, (uint32_t)MPT_MP_MAP_MAX);
	(void)mpt_drcv_insert(&mp->rcv, dsn, data, take);
	sf->bytes_received += take;
	sf->rx_last_ssn = rel + take;
	sf->rx_last_dsn = dsn + take;
	sf->rx_last_ok = true;
	mp->rx_direct = true;
	mpt_mp_dirty(mp);
	return take;
}

/*
 * Sending with two copies (application -> data-level buffer -> segment):
 * a mapping sent with mpt_tcp_send_owned leaves its bytes in the
 * data-level buffer, and each segment's payload is read from there.  The
 * data-level buffer releases bytes at DATA_ACK, but a subflow may still
 * have to send them again (the peer got them through another subflow, or
 * its TCP-level ACK is still on the way): mpt_sf_snd_keep copies such
 * bytes into the subflow's own ring first, so a slow or dead path never
 * holds the data-level buffer.  An owned mapping's bytes are read from
 * the data-level buffer from its DATA_ACK on, from the ring below it.
 */
bool mpt_sf_snd_read(void *ud, uint32_t seq, uint8_t *dst, uint32_t n)
{
	struct mpt_flow *f = ud;
	struct mpt_subflow *sf = f->sf;
	if (!sf || !sf->mp || sf->n_owned == 0)
		return false;
	const struct mpt_dsnd *snd = &sf->mp->snd;
	struct mpt_tcp *tcp = f->tcp;
	uint32_t rel = seq - sf->iss;
	while (n > 0) {
		const struct mpt_map *m = mpt_maplist_find(&sf->tx, rel);
		uint32_t piece = n;
		bool ring = true;
		if (m && m->len > 0) {
			uint32_t off = rel - m->ssn;
			uint64_t dsn = m->dsn + off;
			piece = MPT_MIN(n, m->len - off);
			if (m->owned && mpt_dsn_lt(dsn, snd->una)) {
				/* Kept in the ring (mpt_sf_snd_keep). */
				piece = (uint32_t)MPT_MIN((uint64_t)piece, snd->una - dsn);
			} else if (m->owned) {
				ring = mpt_dsnd_copy(snd, dsn, dst, piece) < 0; /* never */
			}
		} else {
			/* No mapping (plain TCP after a fallback) or an
			 * infinite one: the ring, up to the next mapping. */
			for (size_t i = 0; i < mpt_maplist_count(&sf->tx); i++) {
				uint32_t d = mpt_maplist_at(&sf->tx, i)->ssn - rel;
				if (d > 0 && d < piece && d < 0x80000000u)
					piece = d;
			}
		}
		if (ring)
			mpt_tcp_snd_peek(tcp, sf->iss + rel, dst, piece);
		dst += piece;
		rel += piece;
		n -= piece;
	}
	return true;
}

void mpt_sf_snd_keep(struct mpt_subflow *sf, uint64_t below, bool all, const uint32_t *acked)
{
	if (sf->n_owned == 0)
		return;
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_tcp *tcp = sf->flow ? sf->flow->tcp : NULL;
	uint64_t una = mp->snd.una; /* below it: in the ring already */
	if (all)
		below = mp->snd.end;
	uint32_t from = tcp ? mpt_tcp_snd_held_seq(tcp) : 0;
	if (tcp && acked && mpt_seq_gt(*acked, from))
		from = *acked;
	size_t cnt = mpt_maplist_count(&sf->tx);
	/* From the oldest owned mapping (kept ones before it wait there
	 * for their TCP ACK: not walked again on every DATA_ACK). */
	size_t i = mpt_maplist_find_index(&sf->tx, sf->own_ssn);
	bool oldest = false; /* own_ssn names the oldest one still owned */
	for (i = i < cnt ? i : 0; i < cnt && sf->n_owned > 0; i++) {
		struct mpt_map *m = mpt_maplist_at_mut(&sf->tx, i);
		if (!m->owned)
			continue;
		/* Owned DSNs grow in subflow order: the rest stay. */
		if (mpt_dsn_geq(m->dsn, below)) {
			if (!oldest)
				sf->own_ssn = m->ssn;
			break;
		}
		if (mpt_dsn_leq(m->dsn + m->len, below)) {
			m->owned = false; /* all of it in the ring from now on */
			sf->n_owned--;
		} else if (!oldest) {
			sf->own_ssn = m->ssn;
			oldest = true;
		}
		if (!tcp)
			continue;
		/* Its bytes in [una, below) the engine may still send. */
		uint64_t d0 = mpt_dsn_max(m->dsn, una);
		uint64_t d1 = mpt_dsn_min(m->dsn + m->len, below);
		uint32_t s0 = sf->iss + m->ssn + (uint32_t)(d0 - m->dsn);
		if (mpt_seq_gt(from, s0)) {
			uint32_t k = from - s0;
			d0 = mpt_dsn_min(d0 + k, d1);
			s0 = from;
		}
		if (mpt_dsn_geq(d0, d1))
			continue; /* acknowledged at the TCP level: not needed */
		const uint8_t *p[2];
		size_t pn[2];
		size_t len = (size_t)(d1 - d0);
		if (mpt_dsnd_peek(&mp->snd, d0, len, p, pn) < 0)
			continue; /* cannot happen: kept before the buffer releases them */
		mpt_tcp_snd_fill(tcp, s0, p[0], (uint32_t)pn[0]);
		if (pn[1] > 0)
			mpt_tcp_snd_fill(tcp, s0 + (uint32_t)pn[0], p[1], (uint32_t)pn[1]);
		mpt_mib_add(&mp->st->mib, MPT_MIB_MPTCPSndKept, len);
	}
}

struct mpt_sock *mpt_sf_owner(const struct mpt_flow *f)
{
	return f->sf && f->sf->mp ? f->sf->mp->sock : NULL;
}

void mpt_sf_event(struct mpt_flow *f, enum mpt_tcp_event ev)
{
	struct mpt_subflow *sf = f->sf;
	struct mpt_mpconn *mp = sf->mp;
	switch (ev) {
	case MPT_TCP_EV_ESTABLISHED:
		sf->established = true;
		break;
	case MPT_TCP_EV_READABLE:
	case MPT_TCP_EV_WRITABLE:
		break;
	case MPT_TCP_EV_ERROR:
		sf->err = mpt_tcp_error(f->tcp);
		break;
	case MPT_TCP_EV_CLOSED:
		sf->closed = true;
		break;
	}
	mpt_mp_dirty(mp);
}

uint32_t mpt_sf_rcv_space(void *ud)
{
	const struct mpt_flow *f = ud;
	const struct mpt_subflow *sf = f->sf;
	if (!sf || !sf->mp)
		return UINT32_MAX;
	const struct mpt_mpconn *mp = sf->mp;
	/* Plain TCP after fallback (the engine's buffer is the stream's), no
	 * data-level buffer yet, or none any more (the peer's data stream is
	 * complete and read, or the connection closed: what still comes is
	 * discarded): the engine's own space.  A zero window there would
	 * only make crossing FINs unacceptable to each other. */
	if (!mp->keys_known || mpt_mp_is_fallback(mp) || !mp->rcv.buf)
		return UINT32_MAX;
	/* RFC 8684 §3.3.4: the window is relative to DATA_ACK and covers the
	 * connection-level buffer: what it can still hold beyond DATA_ACK. */
	const struct mpt_drcv *r = &mp->rcv;
	uint64_t used = r->nxt - r->read;
	uint64_t free = used < r->cap ? r->cap - used : 0;
	return (uint32_t)MPT_MIN(free, (uint64_t)UINT32_MAX);
}
