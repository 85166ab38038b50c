/*
 * MPTCP subflows: the option hooks of each subflow's TCP engine (what to
 * write on every outgoing segment, what to learn from every incoming one),
 * received DSS mappings, and draining subflow bytes into the data-level
 * reassembly buffer (RFC 8684 §3.1-§3.3, RFC 6824 §3.1-§3.3).
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

#define SF_TX_MAPS   4096 /* sent mappings held per subflow */
#define SF_RX_MAPMAX 8192 /* received mappings held per subflow */

struct mpt_subflow *mpt_sf_new(struct mpt_mpconn *mp)
{
	if (mp->nsf >= MPT_MP_MAX_SF)
		return NULL;
	struct mpt_subflow *sf = mpt_calloc(mp->st->mem, 1, sizeof(*sf));
	if (!sf)
		return NULL;
	if (mpt_maplist_init(&sf->tx, mp->st->mem, SF_TX_MAPS) < 0) {
		mpt_free(mp->st->mem, sf);
		return NULL;
	}
	sf->mp = mp;
	sf->idx = (uint8_t)mp->nsf;
	mp->sf[mp->nsf++] = sf;
	return sf;
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

static int32_t rel_cmp(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* Drop mappings that end at or before rel (everything before was read). */
static void rmap_drop(struct mpt_subflow *sf, uint32_t rel)
{
	size_t k = 0;
	while (k < sf->rx_n && rel_cmp(sf->rx[k].ssn + sf->rx[k].len, rel) <= 0)
		k++;
	if (k) {
		memmove(sf->rx, sf->rx + k, (sf->rx_n - k) * sizeof(*sf->rx));
		sf->rx_n -= k;
	}
}

static const struct mpt_rmap *rmap_find(const struct mpt_subflow *sf, uint32_t rel)
{
	for (size_t i = 0; i < sf->rx_n; i++) {
		const struct mpt_rmap *m = &sf->rx[i];
		if (rel_cmp(rel, m->ssn) >= 0 && rel_cmp(rel, m->ssn + m->len) < 0)
			return m;
		if (rel_cmp(m->ssn, rel) > 0)
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
static void rmap_add(struct mpt_subflow *sf, const struct mpt_rmap *m)
{
	struct mpt_stack *st = sf->mp->st;
	uint32_t base = sf->flow ? mpt_sf_rx_rel(sf) : 0;
	if (m->len == 0 || rel_cmp(m->ssn + m->len, base) <= 0)
		return; /* already read */
	size_t pos = sf->rx_n;
	for (size_t i = 0; i < sf->rx_n; i++) {
		const struct mpt_rmap *o = &sf->rx[i];
		if (o->ssn == m->ssn && o->dsn == m->dsn && o->len == m->len)
			return;
		bool overlap =
		    rel_cmp(m->ssn, o->ssn + o->len) < 0 && rel_cmp(o->ssn, m->ssn + m->len) < 0;
		if (overlap) {
			mpt_mib_inc(&st->mib, MPT_MIB_DSSNotMatching);
			return;
		}
		if (rel_cmp(m->ssn, o->ssn) < 0) {
			pos = i;
			break;
		}
	}
	if (sf->rx_n == sf->rx_cap) {
		if (sf->rx_cap >= SF_RX_MAPMAX)
			return;
		size_t ncap = sf->rx_cap ? sf->rx_cap * 2 : 64;
		struct mpt_rmap *n = mpt_realloc(st->mem, sf->rx, ncap * sizeof(*n));
		if (!n)
			return;
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

bool mpt_sf_drain(struct mpt_subflow *sf, uint64_t now)
{
	struct mpt_mpconn *mp = sf->mp;
	bool progress = false;
	if (!sf->flow || mp->fallback || !mp->keys_known || sf->reset_pending || !mp->scratch)
		return false;
	struct mpt_tcp *tcp = sf->flow->tcp;
	for (int guard = 0; guard < 4096; guard++) {
		size_t n = mpt_tcp_readable(tcp);
		if (n == 0)
			break;
		uint32_t rel = mpt_sf_rx_rel(sf);
		rmap_drop(sf, rel);
		uint64_t lim = mp->rcv.read + mp->rcv.cap;
		if (mp->inf_rx && sf == mp->inf_sf && rel_cmp(rel, mp->inf_rx_ssn) >= 0) {
			/* RFC 8684 §3.7: infinite mapping: the subflow's bytes
			 * are the data stream (no checksum any more). */
			uint64_t dsn = mp->inf_rx_dsn + (uint32_t)(rel - mp->inf_rx_ssn);
			if (mpt_dsn_geq(dsn, lim))
				break; /* the peer's TCP window keeps it behind lim */
			size_t take = MPT_MIN(n, (size_t)MPT_MP_MAP_MAX);
			take = (size_t)MPT_MIN((uint64_t)take, lim - dsn);
			if (!drcv_has_room(&mp->rcv, dsn))
				break;
			long rc = mpt_tcp_recv(tcp, mp->scratch, take, now);
			if (rc <= 0)
				break;
			(void)mpt_drcv_insert(&mp->rcv, dsn, mp->scratch, (size_t)rc);
			sf->bytes_received += (uint64_t)rc;
			progress = true;
			continue;
		}
		const struct mpt_rmap *m = rmap_find(sf, rel);
		if (!m && mp->inf_rx && sf == mp->inf_sf) {
			/* Unmapped bytes before the infinite mapping: the
			 * sender resends their data after it; discard. */
			uint32_t gap = mp->inf_rx_ssn - rel;
			long rc =
			    mpt_tcp_recv(tcp, mp->scratch,
					 MPT_MIN(n, (size_t)MPT_MIN(gap, MPT_MP_MAP_MAX)), now);
			if (rc <= 0)
				break;
			progress = true;
			continue;
		}
		if (!m && sf->nomap && !mp->inf_rx) {
			/* RFC 8684 §3.7: data without a mapping (a middlebox
			 * strips our options).  With one subflow and nothing
			 * missing at the data level the stream continues as
			 * TCP: an implied infinite mapping from here.  Else
			 * the subflow must go. */
			if (mpt_mp_live_subflows(mp, NULL) == 1 && mp->rcv.nranges == 0 &&
			    sf->rx_n == 0) {
				mpt_mib_inc(&mp->st->mib, MPT_MIB_DSSFallback);
				mpt_mp_inf_rx(mp, sf, rel, mp->rcv.nxt);
				continue;
			}
			mpt_sf_reset(sf, MPT_TCPRST_MIDDLEBOX);
			return progress;
		}
		if (!m)
			break; /* the mapping may still come with a later segment */
		uint32_t off = rel - m->ssn;
		uint64_t dsn = m->dsn + off;
		size_t take = MPT_MIN(n, (size_t)(m->len - off));
		if (mp->csum && m->has_csum) {
			/* RFC 8684 §3.3.1: the checksum covers the whole mapping;
			 * nothing of it is delivered before it verified. */
			if (off != 0 || n < m->len)
				break;
			if (m->len > MPT_MP_SCRATCH) {
				/* Cannot come from a 16-bit length; never overrun. */
				mpt_sf_reset(sf, MPT_TCPRST_MIDDLEBOX);
				return progress;
			}
			if (mpt_dsn_gt(dsn + m->len, lim) && mpt_dsn_lt(dsn, lim))
				break; /* fits once the application read more */
			if (mpt_dsn_geq(dsn, lim)) {
				/* Beyond every window we offered (RFC 8684
				 * §3.3.4): a correct sender never sends it. */
				mpt_mib_inc(&mp->st->mib, MPT_MIB_DSSNoWindow);
				(void)mpt_tcp_recv(tcp, mp->scratch, m->len, now);
				progress = true;
				continue;
			}
			if (!drcv_has_room(&mp->rcv, dsn))
				break;
			long rc = mpt_tcp_recv(tcp, mp->scratch, m->len, now);
			if (rc != (long)m->len)
				break;
			struct mpt_dss_csum c;
			mpt_dss_csum_init(&c, m->dsn, m->ssn,
					  (uint16_t)(m->len + (m->data_fin ? 1u : 0u)));
			mpt_dss_csum_update(&c, mp->scratch, m->len);
			if (!mpt_dss_csum_check(&c, m->csum)) {
				mpt_mib_inc(&mp->st->mib, MPT_MIB_DataCsumErr);
				if (mpt_mp_live_subflows(mp, NULL) == 1 && !mp->inf_rx) {
					/* RFC 8684 §3.7: the only subflow: send
					 * MP_FAIL with the DSN the data must
					 * resume at and drop the mapping; the
					 * sender answers with an infinite
					 * mapping from that DSN. */
					if (!mp->fail_pending) {
						mp->fail_pending = true;
						mp->fail_dsn = mpt_dsn_min(m->dsn, mp->rcv.nxt);
						mpt_mib_inc(&mp->st->mib, MPT_MIB_MPFailTx);
					}
					sf->ack_due = true;
					mpt_mp_dirty(mp);
					continue;
				}
				/* Several subflows: reset this one with MP_FAIL
				 * on the RST; the sender reinjects its data on
				 * the others. */
				sf->flow->rst_fail = true;
				sf->flow->rst_fail_dsn = m->dsn;
				sf->flow->rst_version = mp->version;
				mpt_sf_reset(sf, MPT_TCPRST_MPTCP);
				return progress;
			}
			(void)mpt_drcv_insert(&mp->rcv, dsn, mp->scratch, m->len);
			sf->bytes_received += m->len;
			progress = true;
			continue;
		}
		if (mpt_dsn_geq(dsn, lim)) {
			/* Beyond every window we offered (the right edge read +
			 * cap never moves back; RFC 8684 §3.3.4): a correct
			 * sender never sends it.  Waiting would stall the
			 * subflow for good: drop and count it. */
			mpt_mib_inc(&mp->st->mib, MPT_MIB_DSSNoWindow);
			(void)mpt_tcp_recv(tcp, mp->scratch, MPT_MIN(take, (size_t)MPT_MP_SCRATCH),
					   now);
			progress = true;
			continue;
		}
		take = (size_t)MPT_MIN((uint64_t)take, lim - dsn);
		take = MPT_MIN(take, (size_t)MPT_MP_MAP_MAX);
		if (!drcv_has_room(&mp->rcv, dsn))
			break;
		long rc = mpt_tcp_recv(tcp, mp->scratch, take, now);
		if (rc <= 0)
			break;
		(void)mpt_drcv_insert(&mp->rcv, dsn, mp->scratch, (size_t)rc);
		sf->bytes_received += (uint64_t)rc;
		progress = true;
	}
	return progress;
}

/* ---- options out ------------------------------------------------------------ */

static size_t emit(uint8_t *buf, size_t room, const struct mpt_mptcp_opt *o)
{
	int n = mpt_mptcp_emit(buf, room, o);
	return n > 0 ? (size_t)n : 0;
}

static uint8_t mpc_flags(const struct mpt_mpconn *mp, bool synack)
{
	/* RFC 8684 §3.1: H = HMAC-SHA256 (v1) / HMAC-SHA1 (v0) is the only
	 * algorithm; A asks for checksums; C says "no subflows to my address". */
	uint8_t f = MPT_MPC_F_H;
	if (synack ? mp->csum : mp->k.checksum)
		f |= MPT_MPC_F_A;
	if (mp->k.c_flag)
		f |= MPT_MPC_F_C;
	return f;
}

static size_t write_syn(struct mpt_subflow *sf, uint16_t fl, uint8_t *buf, size_t room)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	bool synack = (fl & MPT_TCP_ACK) != 0;
	if (sf->join == MPT_SF_INITIAL) {
		if (!synack && mp->k.mpc_syn_tries != 255 && sf->syn_tx++ >= mp->k.mpc_syn_tries) {
			/* RFC 8684 §3.7: MP_CAPABLE SYNs may be dropped by a
			 * middlebox; after mpc_syn_tries of them, retry as
			 * plain TCP (the SYN/ACK then has no MP_CAPABLE). */
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPCapableSYNTXDrop);
			return 0;
		}
		o.subtype = MPT_MPTCP_MP_CAPABLE;
		o.version = mp->version;
		o.u.mpc.flags = mpc_flags(mp, synack);
		o.u.mpc.snd_key = mp->key_local;
		/* v1 SYN carries no key (4 bytes); v0 SYN and both SYN/ACKs
		 * carry the sender's key (12 bytes). */
		o.u.mpc.form =
		    (!synack && mp->version == MPT_MPTCP_V1) ? MPT_MPC_NOKEY : MPT_MPC_ONEKEY;
		if (!synack)
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPCapableSYNTX);
		return emit(buf, room, &o);
	}
	o.subtype = MPT_MPTCP_MP_JOIN;
	o.version = mp->version;
	o.u.join.backup = sf->backup;
	o.u.join.addr_id = sf->local_id;
	o.u.join.nonce = sf->nonce_local;
	if (!synack) {
		o.u.join.form = MPT_JOIN_SYN;
		o.u.join.token = mp->token_remote;
	} else {
		/* RFC 8684 §3.2: HMAC-B = HMAC(Key-B||Key-A, R-B||R-A),
		 * leftmost 64 bits. */
		uint64_t h = 0;
		o.u.join.form = MPT_JOIN_SYNACK;
		(void)mpt_hmac_join_trunc64(mp->version, mp->key_local, mp->key_remote,
					    sf->nonce_local, sf->nonce_remote, &h);
		mpt_put64(o.u.join.hmac, h);
	}
	return emit(buf, room, &o);
}

/* DSS: DATA_ACK always (64-bit when it fits), plus the mapping covering
 * the segment (which is clipped to it). */
static size_t write_dss(struct mpt_subflow *sf, struct mpt_tcp_out_info *info, uint8_t *buf,
			size_t room)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_DSS;
	o.version = mp->version;
	struct mpt_mptcp_dss *d = &o.u.dss;
	if (mp->keys_known) {
		d->flags |= MPT_DSS_F_ACK | MPT_DSS_F_ACK64;
		d->data_ack = mpt_mp_rcv_ack(mp);
		if (mp->peer_fin_done)
			mp->final_ack_sent = true;
	}
	bool map = false;
	if (info->len > 0) {
		uint32_t rel = info->seq - sf->iss;
		const struct mpt_map *m = mpt_maplist_find(&sf->tx, rel);
		if (m) {
			uint32_t end = m->ssn + m->len;
			if (rel_cmp(rel + info->len, end) > 0)
				info->len = end - rel;
			d->flags |= MPT_DSS_F_MAP | MPT_DSS_F_DSN64;
			d->dsn = m->dsn;
			d->ssn = m->ssn;
			d->data_len = (uint16_t)(m->len + (m->data_fin ? 1u : 0u));
			if (m->data_fin)
				d->flags |= MPT_DSS_F_FIN;
			d->has_csum = mp->csum;
			d->csum = m->csum;
			map = true;
		}
	} else if (mp->app_shutdown && !mp->fin_mapped && !mp->fin_acked && !mp->inf_tx &&
		   mp->fin_bare_due && mp->snd_nxt == mp->fin_dsn && !(info->flags & MPT_TCP_FIN)) {
		/* RFC 8684 §3.3.3: a DATA_FIN without data: SSN 0, length 1,
		 * on the forced ACK (first time and timer retransmissions
		 * only: a repeat on every ACK makes the peer answer each). */
		mp->fin_bare_due = false;
		d->flags |= MPT_DSS_F_MAP | MPT_DSS_F_DSN64 | MPT_DSS_F_FIN;
		d->dsn = mp->fin_dsn;
		d->ssn = 0;
		d->data_len = 1;
		d->has_csum = mp->csum;
		if (mp->csum)
			d->csum = mpt_dss_csum(mp->fin_dsn, 0, 1, NULL, 0);
		map = true;
	}
	if (!d->flags)
		return 0;
	size_t need = mpt_mptcp_opt_len(&o);
	if (need > room && (d->flags & MPT_DSS_F_ACK)) {
		/* Fall back to a 32-bit DATA_ACK (the peer expands it). */
		d->flags &= (uint8_t)~MPT_DSS_F_ACK64;
		d->data_ack &= 0xffffffffu;
		need = mpt_mptcp_opt_len(&o);
	}
	if (need > room && map) {
		d->flags &= (uint8_t) ~(MPT_DSS_F_MAP | MPT_DSS_F_DSN64 | MPT_DSS_F_FIN);
		d->has_csum = false;
		need = mpt_mptcp_opt_len(&o);
	}
	if (need > room || !d->flags)
		return 0;
	return emit(buf, room, &o);
}

/* Fallen back mid-connection (RFC 8684 §3.7): the infinite mapping (data
 * length 0) on data segments from its SSN until they are acknowledged;
 * bytes before it keep their explicit mappings. */
static size_t write_inf(struct mpt_subflow *sf, struct mpt_tcp_out_info *info, uint8_t *buf,
			size_t room)
{
	struct mpt_mpconn *mp = sf->mp;
	if (sf != mp->inf_sf)
		return 0;
	uint32_t rel = info->seq - sf->iss;
	if (info->len > 0 && rel_cmp(rel, mp->inf_tx_ssn) < 0) {
		if (rel_cmp(rel + info->len, mp->inf_tx_ssn) > 0)
			info->len = mp->inf_tx_ssn - rel;
		return write_dss(sf, info, buf, room);
	}
	if (info->len == 0 || mp->inf_tx_acked)
		return (info->len == 0 && !mp->inf_rx) ? write_dss(sf, info, buf, room) : 0;
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_DSS;
	o.version = mp->version;
	o.u.dss.flags = MPT_DSS_F_MAP | MPT_DSS_F_DSN64;
	o.u.dss.dsn = mp->inf_tx_dsn;
	o.u.dss.ssn = mp->inf_tx_ssn;
	o.u.dss.data_len = 0;
	o.u.dss.has_csum = mp->csum; /* checksum field present, zero */
	size_t n = emit(buf, room, &o);
	return n;
}

/* Signals that ride on pure ACKs: MP_FAIL, MP_PRIO, REMOVE_ADDR. */
static size_t write_signals(struct mpt_subflow *sf, uint8_t *buf, size_t room)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_mptcp_opt o;
	size_t n = 0;
	if (mp->fail_pending && !mp->inf_rx) {
		memset(&o, 0, sizeof(o));
		o.subtype = MPT_MPTCP_MP_FAIL;
		o.version = mp->version;
		o.u.fail_dsn = mp->fail_dsn;
		n += emit(buf + n, room - n, &o);
	}
	if (sf->prio_pending) {
		/* RFC 8684 §3.3.8: applies to the subflow it is sent on. */
		memset(&o, 0, sizeof(o));
		o.subtype = MPT_MPTCP_MP_PRIO;
		o.version = mp->version;
		o.u.prio.backup = sf->backup;
		size_t k = emit(buf + n, room - n, &o);
		if (k > 0) {
			sf->prio_pending = false;
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPPrioTx);
		}
		n += k;
	}
	if (mp->nrm > 0) {
		memset(&o, 0, sizeof(o));
		o.subtype = MPT_MPTCP_REMOVE_ADDR;
		o.version = mp->version;
		o.u.rm_addr.n = (uint8_t)mp->nrm;
		memcpy(o.u.rm_addr.ids, mp->rm_ids, mp->nrm);
		size_t k = emit(buf + n, room - n, &o);
		if (k > 0) {
			mp->nrm = 0;
			mpt_mib_inc(&mp->st->mib, MPT_MIB_RmAddrTx);
		}
		n += k;
	}
	return n;
}

size_t mpt_sf_write_opts(void *ud, struct mpt_tcp_out_info *info, uint8_t *buf, size_t room)
{
	struct mpt_flow *f = ud;
	struct mpt_subflow *sf = f->sf;
	if (!sf)
		return 0;
	struct mpt_mpconn *mp = sf->mp;
	uint16_t fl = info->flags;
	if (mp->fastclose_ack && sf == mp->fc_sf) {
		/* RFC 8684 §3.5: MP_FASTCLOSE on an ACK, with the peer's key. */
		struct mpt_mptcp_opt fc;
		memset(&fc, 0, sizeof(fc));
		fc.subtype = MPT_MPTCP_MP_FASTCLOSE;
		fc.version = mp->version;
		fc.u.fastclose_key = mp->key_remote;
		size_t n = info->len == 0 ? emit(buf, room, &fc) : 0;
		if (n > 0)
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPFastcloseTx);
		return n;
	}
	if (mp->fallback || sf->reset_pending)
		return 0;
	if (fl & MPT_TCP_SYN)
		return write_syn(sf, fl, buf, room);
	if (mp->inf_tx)
		return write_inf(sf, info, buf, room);
	if (mp->inf_rx)
		return 0;
	if (sf->fin_sent && info->len == 0 && mp->final_ack_sent &&
	    !(sf == mp->fin_sf && info->seq - sf->iss == mp->fin_sf_end)) {
		/* The connection-level close is done: the subflow's FIN and
		 * the ACKs after it have nothing to say at the data level (and
		 * no mapping covers their sequence numbers). */
		return 0;
	}
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.version = mp->version;
	if (sf->join == MPT_SF_JOIN_ACK || (sf->join == MPT_SF_JOIN_SYN && !sf->passive)) {
		/* RFC 8684 §3.2: the third ACK carries HMAC-A (160 bits);
		 * repeated until the fourth ACK shows it arrived. */
		uint8_t h[MPT_CRYPTO_JOIN_ACK_LEN];
		o.subtype = MPT_MPTCP_MP_JOIN;
		o.u.join.form = MPT_JOIN_ACK;
		if (mpt_hmac_join_160(mp->version, mp->key_local, mp->key_remote, sf->nonce_local,
				      sf->nonce_remote, h) == 0)
			memcpy(o.u.join.hmac, h, sizeof(h));
		size_t n = emit(buf, room, &o);
		sf->join = MPT_SF_JOIN_ACK;
		return n;
	}
	if (sf->join == MPT_SF_INITIAL && !sf->passive && !mp->fully_established) {
		o.subtype = MPT_MPTCP_MP_CAPABLE;
		o.u.mpc.flags = mpc_flags(mp, true);
		o.u.mpc.snd_key = mp->key_local;
		o.u.mpc.rcv_key = mp->key_remote;
		const struct mpt_map *m =
		    info->len > 0 ? mpt_maplist_find(&sf->tx, info->seq - sf->iss) : NULL;
		if (mp->version == MPT_MPTCP_V1 && m && m->ssn == 1 &&
		    m->dsn == mp->idsn_local + 1) {
			/* RFC 8684 §3.1: the first data carries MP_CAPABLE
			 * with the data-level length (and checksum); the
			 * mapping is implicit: DSN = IDSN+1, SSN = 1. */
			uint32_t rel = info->seq - sf->iss, end = m->ssn + m->len;
			if (rel_cmp(rel + info->len, end) > 0)
				info->len = end - rel;
			o.u.mpc.form = MPT_MPC_DATA;
			o.u.mpc.data_len = (uint16_t)(m->len + (m->data_fin ? 1u : 0u));
			o.u.mpc.has_csum = mp->csum;
			o.u.mpc.csum = m->csum;
			return emit(buf, room, &o);
		}
		if (info->len == 0) {
			/* Third ACK (repeated on pure ACKs until the peer's
			 * first DSS shows it has our key), plus a DATA_ACK
			 * when room is left. */
			o.u.mpc.form = MPT_MPC_TWOKEYS;
			size_t n = emit(buf, room, &o);
			if (n > 0 && room - n >= 8 && mp->keys_known)
				n += write_dss(sf, info, buf + n, room - n);
			return n;
		}
	}
	if (!mp->keys_known)
		return 0;
	size_t n = 0;
	if (info->len == 0 && !(info->flags & MPT_TCP_FIN)) {
		n = write_signals(sf, buf, room > 8 ? room - 8 : 0);
		size_t a = mpt_pm_write(mp, buf + n, room > 8 + n ? room - 8 - n : 0, mp->st->now);
		if (a == 0 && n == 0 && !mp->fin_bare_due && !mp->peer_fin) {
			/* RFC 8684 §3.4.1: an ADD_ADDR too large to sit beside
			 * a DSS (IPv6 with its HMAC: 28 bytes, 30 with a port,
			 * next to timestamps) goes alone on this pure ACK; the
			 * DATA_ACK follows on the next one, sent at once. */
			a = mpt_pm_write(mp, buf, room, mp->st->now);
			if (a > 0) {
				sf->ack_due = true;
				mpt_mp_dirty(mp);
				return a;
			}
		}
		n += a;
	}
	return n + write_dss(sf, info, buf + n, room - n);
}

/* ---- options in --------------------------------------------------------- */

int mpt_mp_find_opt(const struct mpt_tcp_seg *seg, uint8_t subtype, uint8_t version,
		    struct mpt_mptcp_opt *out)
{
	struct mpt_mptcp_opt tmp;
	struct mpt_mptcp_parse_ctx ctx = {.version = version,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(seg->hdr.flags)};
	if (!out)
		out = &tmp;
	for (unsigned i = 0; i < seg->opts.n_mptcp; i++) {
		const struct mpt_tcpopt_ref *r = &seg->opts.mptcp[i];
		if (r->len < 3 || (size_t)r->off + r->len > seg->hdr.opt_len)
			continue;
		const uint8_t *p = seg->hdr.opt + r->off;
		if ((p[2] >> 4) != subtype)
			continue;
		int rc = mpt_mptcp_parse(out, p, r->len, &ctx);
		return rc;
	}
	return MPT_ERR_NOTFOUND;
}

static bool mpc_version_ok(const struct mpt_mpconn *mp, uint8_t v)
{
	return v <= mp->k.version && (mp->k.accept_versions & (1u << v));
}

/* Initiator: the SYN/ACK of the initial subflow (RFC 8684 §3.1). */
static void initial_synack(struct mpt_subflow *sf, const struct mpt_mptcp_opt *mpc, bool has)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	/* No MP_CAPABLE, a version we did not offer / accept, B set (an
	 * extension we do not know: "MUST ... fall back") or no H: plain TCP. */
	if (!has || mpc->u.mpc.form != MPT_MPC_ONEKEY || !mpc_version_ok(mp, mpc->version) ||
	    (mpc->u.mpc.flags & MPT_MPC_F_B) || !(mpc->u.mpc.flags & MPT_MPC_F_H)) {
		mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackSYNACK);
		return;
	}
	mpt_mib_inc(&st->mib, MPT_MIB_MPCapableSYNACKRX);
	if (mpc->version != mp->version) {
		/* RFC 8684 §3.1: the listener chose a lower version; token
		 * and IDSN of our key are derived with its hash. */
		uint32_t tok = 0;
		uint64_t idsn = 0;
		(void)mpt_token_remove(&st->tokens, mp->token_local);
		mp->token_inserted = false;
		if (mpt_key_token_idsn(mpc->version, mp->key_local, &tok, &idsn) < 0 ||
		    mpt_token_insert(&st->tokens, tok, mp) < 0) {
			mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackSYNACK);
			return;
		}
		mp->token_inserted = true;
		mp->version = mpc->version;
		mp->token_local = tok;
		mp->idsn_local = idsn;
	}
	mp->csum = mp->k.checksum || (mpc->u.mpc.flags & MPT_MPC_F_A);
	mp->peer_c = (mpc->u.mpc.flags & MPT_MPC_F_C) != 0;
	if (mp->peer_c && mp->nraddr > 0)
		mp->raddr[0].usable = false;
	if (mpt_mp_set_remote_key(mp, mpc->u.mpc.snd_key) < 0)
		mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackSYNACK);
}

static void join_synack(struct mpt_subflow *sf, const struct mpt_mptcp_opt *j, bool has)
{
	struct mpt_mpconn *mp = sf->mp;
	uint64_t h = 0;
	uint8_t want[8];
	if (has && j->u.join.form == MPT_JOIN_SYNACK &&
	    mpt_hmac_join_trunc64(mp->version, mp->key_remote, mp->key_local, j->u.join.nonce,
				  sf->nonce_local, &h) == 0) {
		mpt_put64(want, h);
		if (mpt_crypto_memeq(want, j->u.join.hmac, 8)) {
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPJoinSynAckRx);
			sf->nonce_remote = j->u.join.nonce;
			sf->remote_id = j->u.join.addr_id;
			sf->peer_backup = j->u.join.backup;
			return;
		}
	}
	/* RFC 8684 §3.2: "If the HMAC does not match, the subflow MUST be
	 * closed with a RST". */
	mpt_mib_inc(&mp->st->mib, MPT_MIB_MPJoinSynAckHMacFailure);
	mpt_sf_reset(sf, MPT_TCPRST_MPTCP);
}

static void join_third_ack(struct mpt_subflow *sf, const struct mpt_mptcp_opt *j, bool has)
{
	struct mpt_mpconn *mp = sf->mp;
	uint8_t want[MPT_CRYPTO_JOIN_ACK_LEN];
	if (has && j->u.join.form == MPT_JOIN_ACK &&
	    mpt_hmac_join_160(mp->version, mp->key_remote, mp->key_local, sf->nonce_remote,
			      sf->nonce_local, want) == 0 &&
	    mpt_crypto_memeq(want, j->u.join.hmac, sizeof(want))) {
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPJoinAckRx);
		sf->join = MPT_SF_JOIN_DONE;
		mpt_mp_pm_event(mp, MPT_PM_EV_SF_ESTABLISHED, sf, NULL, 0, 0);
		sf->ack_due = true; /* the fourth ACK */
		return;
	}
	mpt_mib_inc(&mp->st->mib, MPT_MIB_MPJoinAckHMacFailure);
	mpt_sf_reset(sf, MPT_TCPRST_MPTCP);
}

void mpt_sf_ext_input(void *ud, const struct mpt_tcp_seg *seg)
{
	struct mpt_flow *f = ud;
	struct mpt_subflow *sf = f->sf;
	if (!sf)
		return;
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	if (mp->fallback || sf->reset_pending)
		return;
	mpt_mp_dirty(mp);
	uint16_t fl = seg->hdr.flags;
	struct mpt_mptcp_parse_ctx ctx = {.version = mp->version,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(fl)};
	struct mpt_mptcp_opt mpc, join, dss, add[MPT_TCP_MAX_MPTCP], other[MPT_TCP_MAX_MPTCP];
	/* Only read when has_* is set; cleared so that gcc can see that. */
	memset(&mpc, 0, sizeof(mpc));
	memset(&join, 0, sizeof(join));
	memset(&dss, 0, sizeof(dss));
	bool has_mpc = false, has_join = false, has_dss = false;
	size_t nadd = 0, nother = 0;
	if (mp->inf_tx && mp->inf_rx)
		return; /* plain TCP now: no MPTCP option means anything */
	for (unsigned i = 0; i < seg->opts.n_mptcp; i++) {
		const struct mpt_tcpopt_ref *r = &seg->opts.mptcp[i];
		struct mpt_mptcp_opt o;
		if ((size_t)r->off + r->len > seg->hdr.opt_len ||
		    mpt_mptcp_parse(&o, seg->hdr.opt + r->off, r->len, &ctx) < 0) {
			mpt_mib_inc(&st->mib, MPT_MIB_MPTCPOptMalformed);
			continue;
		}
		if (o.unknown)
			continue;
		switch (o.subtype) {
		case MPT_MPTCP_MP_CAPABLE:
			if (!has_mpc)
				mpc = o;
			has_mpc = true;
			break;
		case MPT_MPTCP_MP_JOIN:
			if (!has_join)
				join = o;
			has_join = true;
			break;
		case MPT_MPTCP_DSS:
			if (!has_dss)
				dss = o;
			has_dss = true;
			break;
		case MPT_MPTCP_ADD_ADDR:
			add[nadd++] = o;
			break;
		case MPT_MPTCP_REMOVE_ADDR:
		case MPT_MPTCP_MP_PRIO:
		case MPT_MPTCP_MP_FAIL:
		case MPT_MPTCP_MP_FASTCLOSE:
		case MPT_MPTCP_MP_TCPRST:
			other[nother++] = o;
			break;
		default:
			break;
		}
	}

	if (fl & MPT_TCP_SYN) {
		if (!(fl & MPT_TCP_ACK) || sf->passive)
			return; /* the listener handled the SYN already */
		sf->irs = seg->hdr.seq;
		if (sf->join == MPT_SF_INITIAL) {
			mpt_mp_race_settle(sf, st->now);
			initial_synack(sf, &mpc, has_mpc);
		} else if (sf->join == MPT_SF_JOIN_SYN)
			join_synack(sf, &join, has_join);
		return;
	}

	if (sf->join == MPT_SF_INITIAL && sf->passive && !mp->fully_established) {
		/* Listener: the third ACK (or the first data) must carry
		 * MP_CAPABLE with both keys, or - when we already have the
		 * peer's key (v0) - a DSS (RFC 8684 §3.1, §3.7). */
		if (has_mpc && mpc.u.mpc.form >= MPT_MPC_TWOKEYS &&
		    mpc.u.mpc.rcv_key == mp->key_local &&
		    (!mp->keys_known || mpc.u.mpc.snd_key == mp->key_remote)) {
			if (!mp->keys_known && mpt_mp_set_remote_key(mp, mpc.u.mpc.snd_key) < 0) {
				mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackACK);
				return;
			}
			mpt_mib_inc(&st->mib, MPT_MIB_MPCapableACKRX);
			mp->fully_established = true;
		} else if (has_dss && mp->keys_known) {
			mp->fully_established = true;
		} else {
			mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackACK);
			return;
		}
	}
	if (sf->join == MPT_SF_INITIAL && sf->passive && has_mpc && mp->keys_known &&
	    mpc.u.mpc.form == MPT_MPC_DATA && mpc.u.mpc.data_len > 0) {
		/* RFC 8684 §3.1: MP_CAPABLE with data maps DSN IDSN+1 to
		 * SSN 1 (repeated on every segment of that first mapping). */
		struct mpt_rmap m = {.dsn = mp->idsn_remote + 1,
				     .ssn = 1,
				     .len = mpc.u.mpc.data_len,
				     .csum = mpc.u.mpc.csum,
				     .has_csum = mpc.u.mpc.has_csum};
		mp->dss_seen = true;
		rmap_add(sf, &m);
	}
	if (sf->join == MPT_SF_INITIAL && !sf->passive && !mp->fully_established && has_dss) {
		mp->fully_established = true; /* the peer's DSS: it has our key */
		if (mp->app_shutdown && !mp->fin_mapped && !mp->fin_acked) {
			/* A DATA_FIN kept off the MP_CAPABLE mapping (sched.c)
			 * leaves now rather than at its retransmission timer. */
			mp->fin_bare_due = true;
			sf->ack_due = true;
			mpt_mp_dirty(mp);
		}
	}
	if (seg->opts.n_mptcp == 0 && !mp->inf_tx && sf->established && (fl & MPT_TCP_ACK) &&
	    mp->snd_ready && !mp->closed && !sf->fin_sent && !(fl & MPT_TCP_FIN) &&
	    (sf->join == MPT_SF_INITIAL || sf->join == MPT_SF_JOIN_DONE)) {
		/* RFC 8684 §3.7: an ACK of new data without any MPTCP option:
		 * a middlebox strips them (the peer writes a DATA_ACK on
		 * every segment).  One subflow with all data on it: fall
		 * back to TCP; else this subflow cannot be used. */
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(f->tcp, &ti);
		if (mpt_seq_gt(seg->hdr.ack, ti.snd_una)) {
			if (mpt_mp_live_subflows(mp, NULL) == 1 && mp->n_reinj == 0) {
				mpt_mib_inc(&st->mib, MPT_MIB_DSSFallback);
				mpt_mp_inf_tx(mp, sf, mp->snd_nxt);
			} else {
				mpt_sf_reset(sf, MPT_TCPRST_MIDDLEBOX);
				return;
			}
		}
	}
	if (sf->join == MPT_SF_JOIN_SYN && sf->passive) {
		join_third_ack(sf, &join, has_join);
		if (sf->reset_pending)
			return;
	} else if (sf->join == MPT_SF_JOIN_ACK) {
		/* The fourth ACK: the listener got our third ACK. */
		sf->join = MPT_SF_JOIN_DONE;
		mpt_mp_pm_event(mp, MPT_PM_EV_SF_ESTABLISHED, sf, NULL, 0, 0);
	}

	if (has_dss && mp->keys_known && !mp->inf_rx) {
		const struct mpt_mptcp_dss *d = &dss.u.dss;
		mp->dss_seen = true;
		if ((d->flags & MPT_DSS_F_MAP) && d->data_len == 0 && !(d->flags & MPT_DSS_F_FIN)) {
			/* RFC 8684 §3.3.1: data-level length 0 = the infinite
			 * mapping: from its SSN the subflow is the data stream. */
			uint64_t dsn = (d->flags & MPT_DSS_F_DSN64)
					   ? d->dsn
					   : mpt_dsn_expand(mp->rcv.nxt, (uint32_t)d->dsn);
			/* RFC 8684 §3.7: only on the single subflow left (the
			 * peer answers our MP_FAIL, or lost its options there),
			 * resuming at or below our DATA_ACK.  Anything else
			 * would hand the data stream to whoever sent it. */
			if (mpt_mp_live_subflows(mp, NULL) == 1 && mpt_dsn_leq(dsn, mp->rcv.nxt) &&
			    mp->rcv.nxt - dsn <= mp->rcv.cap) {
				mpt_mp_inf_rx(mp, sf, d->ssn, dsn);
			} else {
				mpt_mib_inc(&st->mib, MPT_MIB_InfiniteMapRxDrop);
			}
			has_dss = false;
		}
	}
	if (has_dss && mp->keys_known && !mp->inf_rx) {
		const struct mpt_mptcp_dss *d = &dss.u.dss;
		if (d->flags & MPT_DSS_F_ACK) {
			uint64_t a = (d->flags & MPT_DSS_F_ACK64)
					 ? d->data_ack
					 : mpt_dsn_expand(mp->snd.una, (uint32_t)d->data_ack);
			mpt_mp_data_ack(mp, a);
			if (!(fl & MPT_TCP_SYN) && sf->flow && mp->snd_ready &&
			    a - mp->snd.una <= mp->snd.end + 1 - mp->snd.una) {
				/* RFC 8684 §3.3.4: this segment's window is
				 * relative to its DATA_ACK (scaled as the
				 * subflow's windows are, RFC 7323 §2.3). */
				struct mpt_tcp_info ti;
				mpt_tcp_get_info(sf->flow->tcp, &ti);
				mpt_sched_wnd_update(mp, a,
						     (uint64_t)seg->hdr.window << ti.snd_wscale);
			}
		}
		if ((d->flags & MPT_DSS_F_MAP) && d->data_len > 0) {
			uint64_t dsn = (d->flags & MPT_DSS_F_DSN64)
					   ? d->dsn
					   : mpt_dsn_expand(mp->rcv.nxt, (uint32_t)d->dsn);
			bool fin = (d->flags & MPT_DSS_F_FIN) != 0;
			uint32_t plen = (uint32_t)d->data_len - (fin ? 1u : 0u);
			if (fin)
				mpt_mp_rx_data_fin(mp, dsn + plen);
			if (plen > 0 && !(fin && d->ssn == 0)) {
				struct mpt_rmap m = {.dsn = dsn,
						     .ssn = d->ssn,
						     .len = plen,
						     .csum = d->csum,
						     .has_csum = d->has_csum,
						     .data_fin = fin};
				rmap_add(sf, &m);
			}
			if (fin && seg->len == 0) {
				sf->ack_due = true; /* DATA_ACK a bare DATA_FIN */
				mp->final_ack_sent = false;
			}
		}
	}
	/* Data without a mapping.  Also before we are fully established on
	 * the initial subflow we opened: the listener never saw the
	 * MP_CAPABLE of our third ACK (stripped) and fell back to TCP, so
	 * its data comes bare (RFC 8684 §3.7). */
	bool mapped_expected =
	    mp->fully_established || (sf->join == MPT_SF_INITIAL && !sf->passive);
	if (seg->len > 0 && mapped_expected && !mp->inf_rx &&
	    !rmap_find(sf, seg->hdr.seq - sf->irs) &&
	    mpt_seq_geq(seg->hdr.seq, mpt_tcp_rcv_read_seq(f->tcp))) {
		mpt_mib_inc(&st->mib, MPT_MIB_DSSNoMatchTCP);
		if (!has_dss && !has_mpc)
			sf->nomap = true;
	}
	for (size_t i = 0; i < nadd && !mp->inf_tx; i++)
		mpt_pm_add_addr_rx(sf, &add[i].u.add_addr);
	for (size_t i = 0; i < nother; i++) {
		const struct mpt_mptcp_opt *o = &other[i];
		switch (o->subtype) {
		case MPT_MPTCP_MP_FAIL:
			/* RFC 8684 §3.7: the peer's checksum failed on the only
			 * subflow: resend from that DSN with an infinite
			 * mapping. */
			if (!mp->inf_tx) {
				/* counted once: it repeats until answered */
				mpt_mib_inc(&st->mib, MPT_MIB_MPFailRx);
				mpt_mp_inf_tx(mp, sf, o->u.fail_dsn);
			}
			break;
		case MPT_MPTCP_MP_FASTCLOSE:
			mpt_mp_fastclose_rx(mp, o->u.fastclose_key, st->now);
			break;
		case MPT_MPTCP_MP_PRIO:
			/* RFC 8684 §3.3.8 (v0: an address id names the subflows). */
			mpt_mib_inc(&st->mib, MPT_MIB_MPPrioRx);
			if (o->u.prio.has_addr_id) {
				for (size_t k = 0; k < mp->nsf; k++)
					if (mp->sf[k]->remote_id == o->u.prio.addr_id &&
					    mp->sf[k]->peer_backup != o->u.prio.backup) {
						mp->sf[k]->peer_backup = o->u.prio.backup;
						mpt_mp_pm_event(mp, MPT_PM_EV_SF_PRIORITY,
								mp->sf[k], NULL, 0, 0);
					}
			} else if (sf->peer_backup != o->u.prio.backup) {
				sf->peer_backup = o->u.prio.backup;
				mpt_mp_pm_event(mp, MPT_PM_EV_SF_PRIORITY, sf, NULL, 0, 0);
			}
			break;
		case MPT_MPTCP_REMOVE_ADDR:
			mpt_pm_rm_addr_rx(sf, &o->u.rm_addr);
			break;
		case MPT_MPTCP_MP_TCPRST:
			/* RFC 8684 §3.6: only meaningful on a RST. */
			mpt_mib_inc(&st->mib, MPT_MIB_MPRstIgnored);
			break;
		default:
			break;
		}
	}
}

void mpt_sf_rst_rx(struct mpt_subflow *sf, const struct mpt_tcp_seg *seg, uint64_t now)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	struct mpt_mptcp_parse_ctx ctx = {.version = mp->version, .seg = MPT_MPTCP_SEG_ACK};
	sf->rst_rx = true;
	for (unsigned i = 0; i < seg->opts.n_mptcp; i++) {
		const struct mpt_tcpopt_ref *r = &seg->opts.mptcp[i];
		struct mpt_mptcp_opt o;
		if ((size_t)r->off + r->len > seg->hdr.opt_len ||
		    mpt_mptcp_parse(&o, seg->hdr.opt + r->off, r->len, &ctx) < 0 || o.unknown)
			continue;
		switch (o.subtype) {
		case MPT_MPTCP_MP_TCPRST:
			mpt_mib_inc(&st->mib, MPT_MIB_MPRstRx);
			sf->rst_rx_flags = o.u.tcprst.flags;
			sf->rst_rx_reason = o.u.tcprst.reason;
			sf->rst_opt_rx = true;
			break;
		case MPT_MPTCP_MP_FASTCLOSE:
			if (!mp->fallback)
				mpt_mp_fastclose_rx(mp, o.u.fastclose_key, now);
			break;
		case MPT_MPTCP_MP_FAIL:
			mpt_mib_inc(&st->mib, MPT_MIB_MPFailRx);
			break;
		default:
			break;
		}
	}
	mpt_mp_dirty(mp);
}

void mpt_sf_event(struct mpt_flow *f, enum mpt_tcp_event ev)
{
	struct mpt_subflow *sf = f->sf;
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_sock *s = mp->sock;
	if (mp->fallback && sf->idx == 0 && s) {
		/* RFC 8684 §3.7: after fallback the subflow is the connection. */
		switch (ev) {
		case MPT_TCP_EV_ESTABLISHED:
			sf->established = true;
			mp->established = true;
			mpt_stack_sock_ready(s);
			break;
		case MPT_TCP_EV_READABLE:
			mpt_stack_notify(s, MPT_EV_READABLE);
			break;
		case MPT_TCP_EV_WRITABLE:
			mpt_stack_notify(s, MPT_EV_WRITABLE);
			break;
		case MPT_TCP_EV_ERROR:
			s->err = mpt_tcp_error(f->tcp);
			mpt_stack_notify(s, MPT_EV_ERROR | MPT_EV_READABLE);
			break;
		case MPT_TCP_EV_CLOSED:
			sf->closed = true;
			s->tcp_closed = true;
			mp->closed = true;
			mpt_stack_notify(s, MPT_EV_CLOSED);
			break;
		}
		return;
	}
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
	/* Plain TCP after fallback (the engine's buffer is the stream's), or
	 * no data-level buffer yet: the engine's own space. */
	if (!mp->keys_known || mpt_mp_is_fallback(mp))
		return UINT32_MAX;
	/* RFC 8684 §3.3.4: the window is relative to DATA_ACK and covers the
	 * connection-level buffer: what it can still hold beyond DATA_ACK. */
	const struct mpt_drcv *r = &mp->rcv;
	uint64_t used = r->nxt - r->read;
	uint64_t free = used < r->cap ? r->cap - used : 0;
	return (uint32_t)MPT_MIN(free, (uint64_t)UINT32_MAX);
}
