/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP options of a subflow's segments (RFC 8684 §3, RFC 6824 §3): every
 * suboption of a received segment parsed once into one flat structure with
 * a mask of what was seen (mpt_mp_opts_parse; input.c acts on it), and what
 * each outgoing segment carries (mpt_sf_write_opts, the TCP engine's
 * extension hook): MP_CAPABLE / MP_JOIN on the handshake, DSS (DATA_ACK and
 * the mapping covering the segment), the infinite mapping after a fallback,
 * signals on pure ACKs (MP_FAIL, MP_PRIO, REMOVE_ADDR, ADD_ADDR) and, on
 * resets, MP_TCPRST / MP_FASTCLOSE / MP_FAIL.
 */
#include <string.h>

#include "common.h"
#include "crypto/crypto.h"
#include "mptcp/mptcp.h"
#include "wire/bytes.h"

/* ---- options in ----------------------------------------------------------- */

int mpt_mp_opts_parse(const struct mpt_tcp_seg *seg, uint8_t version, unsigned ext,
		      struct mpt_mp_opts *out)
{
	struct mpt_mptcp_parse_ctx ctx = {.version = version,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(seg->hdr.flags),
					  .ext = (uint8_t)ext};
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < seg->opts.n_mptcp; i++) {
		const struct mpt_tcpopt_ref *r = &seg->opts.mptcp[i];
		struct mpt_mptcp_opt o;
		if ((size_t)r->off + r->len > seg->hdr.opt_len ||
		    mpt_mptcp_parse(&o, seg->hdr.opt + r->off, r->len, &ctx) < 0) {
			out->malformed++;
			continue;
		}
		if (o.unknown || o.subtype >= 16)
			continue;
		uint32_t bit = 1u << o.subtype;
		if (o.subtype == MPT_MPTCP_ADD_ADDR) {
			if (out->nadd < MPT_ARRAY_SIZE(out->add)) {
				out->add_kid[out->nadd] = o.key_id;
				out->add[out->nadd++] = o.u.add_addr;
			}
			out->seen |= bit;
			continue;
		}
		/* One of each other kind: the first counts (a repeat in one
		 * segment has no meaning of its own). */
		if (out->seen & bit)
			continue;
		out->seen |= bit;
		switch (o.subtype) {
		case MPT_MPTCP_MP_CAPABLE:
			out->mpc = o;
			break;
		case MPT_MPTCP_MP_JOIN:
			out->join = o;
			break;
		case MPT_MPTCP_DSS:
			out->dss = o;
			break;
		case MPT_MPTCP_REMOVE_ADDR:
			out->rm = o.u.rm_addr;
			break;
		case MPT_MPTCP_MP_PRIO:
			out->prio = o.u.prio;
			break;
		case MPT_MPTCP_MP_FAIL:
			out->fail_dsn = o.u.fail_dsn;
			break;
		case MPT_MPTCP_MP_FASTCLOSE:
			out->fastclose_key = o.u.fastclose_key;
			out->fastclose_kid = o.key_id;
			break;
		case MPT_EXTKEY_SUBTYPE: /* decoded only when ext asked for it */
			out->new_key = true;
			out->new_key_kid = o.key_id;
			memcpy(out->new_key_hmac, o.u.new_key.hmac, sizeof(out->new_key_hmac));
			break;
		case MPT_MPTCP_MP_TCPRST:
			out->tcprst = o.u.tcprst;
			break;
		default:
			out->seen &= ~bit;
			break;
		}
	}
	return 0;
}

int mpt_mp_find_opt(const struct mpt_tcp_seg *seg, uint8_t subtype, uint8_t version,
		    struct mpt_mptcp_opt *out)
{
	return mpt_mp_find_opt_ext(seg, subtype, version, 0, out);
}

int mpt_mp_find_opt_ext(const struct mpt_tcp_seg *seg, uint8_t subtype, uint8_t version,
			unsigned ext, struct mpt_mptcp_opt *out)
{
	struct mpt_mptcp_opt tmp;
	struct mpt_mptcp_parse_ctx ctx = {.version = version,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(seg->hdr.flags),
					  .ext = (uint8_t)ext};
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

/* ---- options out ---------------------------------------------------------- */

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
	/* External keys (draft §4.1, decision 4): E on every MP_CAPABLE
	 * after the SYN once both sides offered them (the SYN's offer is
	 * MPT_EXTKEY_OFFER_*: decision 1). */
	if (mp->ek.on)
		f |= MPT_MPC_F_E;
	return f;
}

/*
 * Listener side of blackhole detection: SYN/ACKs sent with MP_CAPABLE
 * before the retransmissions go without it.  RFC 8684 §3.1 leaves the
 * number of MP_CAPABLE attempts to local policy and expects a sender to
 * fall back to plain TCP to get past middleboxes that drop segments with
 * unknown options (RFC 6824bis §3.1 said the same of SYNs); a box that
 * drops them only on the way back eats every SYN/ACK with MP_CAPABLE while
 * the initiator's SYNs still pass.  Three transmissions (the first and two
 * retransmissions, about 3 s with the 1 s initial RTO) match the Linux
 * initiator's default of two MP_CAPABLE SYN retransmissions before plain
 * TCP, so a lossy path rarely loses MPTCP (a 2 % loss takes all three with
 * probability 1e-5) and the connection still opens long before the
 * initiator's SYN retries run out.  Nothing is decided here: the third ACK
 * says which SYN/ACK the initiator took (§3.1, §3.7).
 */
#define MPC_SYNACK_TRIES 3u

/* MP_CAPABLE on an initial SYN/ACK (RFC 8684 §3.1), or nothing. */
static bool synack_mpc(struct mpt_subflow *sf)
{
	struct mpt_mpconn *mp = sf->mp;
	if (!sf->mpc_off && sf->syn_tx < MPC_SYNACK_TRIES) {
		sf->syn_tx++;
		return true;
	}
	sf->mpc_off = true;
	mpt_mib_inc(&mp->st->mib, MPT_MIB_MPCapableSYNACKTXDrop);
	return false;
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
		if (synack && !synack_mpc(sf))
			return 0;
		o.subtype = MPT_MPTCP_MP_CAPABLE;
		o.version = mp->version;
		o.u.mpc.flags = mpc_flags(mp, synack);
		o.u.mpc.snd_key = mp->key_local;
		o.u.mpc.snd_token = mp->token_local;
		/* v1 SYN carries no key (4 bytes); v0 SYN and both SYN/ACKs
		 * carry the sender's key (12 bytes); under external keys the
		 * SYN/ACK carries the sender's token instead (8 bytes). */
		o.u.mpc.form = (!synack && mp->version == MPT_MPTCP_V1) ? MPT_MPC_NOKEY
			       : mp->ek.on                              ? MPT_MPC_EXT_ONETOKEN
									: MPT_MPC_ONEKEY;
		if (!synack)
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPCapableSYNTX);
		size_t n = emit(buf, room, &o);
		if (n > 0 && !synack && mpt_ek_offered(mp))
			n += mpt_ek_write_offer(buf + n, room - n);
		return n;
	}
	o.subtype = MPT_MPTCP_MP_JOIN;
	o.version = mp->version;
	o.u.join.backup = sf->backup;
	o.u.join.addr_id = sf->local_id;
	o.u.join.nonce = sf->nonce_local;
	o.key_id = mp->ek.on ? sf->ek_kid : 0; /* draft §4.3 */
	if (!synack) {
		o.u.join.form = MPT_JOIN_SYN;
		o.u.join.token = mp->token_remote;
	} else {
		/* RFC 8684 §3.2: HMAC-B = HMAC(Key-B||Key-A, R-B||R-A),
		 * leftmost 64 bits. */
		uint64_t h = 0;
		o.u.join.form = MPT_JOIN_SYNACK;
		(void)mpt_mp_join_hmac64(mp, sf->ek_kid, true, sf->nonce_local, sf->nonce_remote,
					 &h);
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
			if (mpt_rel_cmp(rel + info->len, end) > 0)
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
		} else {
			/* Data no mapping covers: the peer cannot place it
			 * (RFC 8684 §3.3.1); must never happen, so counted. */
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataNoMapTx);
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
		/* A 32-bit DSN (RFC 8684 §3.3: the receiver expands it near
		 * its own): 4 bytes less, enough beside a third ACK. */
		d->flags &= (uint8_t)~MPT_DSS_F_DSN64;
		d->dsn &= 0xffffffffu;
		need = mpt_mptcp_opt_len(&o);
	}
	if (need > room && map) {
		d->flags &= (uint8_t) ~(MPT_DSS_F_MAP | MPT_DSS_F_DSN64 | MPT_DSS_F_FIN);
		d->has_csum = false;
		need = mpt_mptcp_opt_len(&o);
		if (info->len == 0)
			mp->fin_bare_due = true; /* not this time: the next ACK */
	}
	if (need > room || !d->flags)
		return 0;
	size_t n = emit(buf, room, &o);
	if (n > 0 && (d->flags & MPT_DSS_F_ACK))
		mp->dack_sent = true;
	if (n > 0 && info->len == 0 && (d->flags & MPT_DSS_F_FIN))
		sf->fin_turn = false; /* the bare DATA_FIN went: the third ACK may repeat */
	return n;
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
	if (info->len > 0 && mpt_rel_cmp(rel, mp->inf_tx_ssn) < 0) {
		if (mpt_rel_cmp(rel + info->len, mp->inf_tx_ssn) > 0)
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
	if (mp->fail_pending && !mp->inf_rx && sf == mp->fail_sf) {
		/* Only where the checksum failed: the peer answers with an
		 * infinite mapping on the subflow MP_FAIL came on and resets
		 * the others (§3.7); on a join that completed meanwhile it
		 * would pick that one and reset the subflow in question (soak
		 * seed 763). */
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

size_t mpt_mp_write_tcprst(uint8_t *buf, size_t room, uint8_t reason)
{
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_TCPRST;
	o.version = MPT_MPTCP_V1;
	o.u.tcprst.reason = reason;
	/* RFC 8684 §3.6: "lack of resources" here is a subflow or half-open
	 * join budget that frees up as subflows close: transient (T), so the
	 * peer may try again later.  Without it an mpt peer never retried the
	 * pair and lost the connection when its other paths went (soak seed
	 * 410). */
	if (reason == MPT_TCPRST_RESOURCES)
		o.u.tcprst.flags |= MPT_TCPRST_F_T;
	return emit(buf, room, &o);
}

/*
 * MP_FASTCLOSE (RFC 8684 §3.5) with the peer's key, or under external keys
 * with K and the HMAC of decision 12; false before the first external key
 * (decision 16: a plain RST then).
 */
static bool fastclose_opt(const struct mpt_mpconn *mp, struct mpt_mptcp_opt *o)
{
	memset(o, 0, sizeof(*o));
	o->subtype = MPT_MPTCP_MP_FASTCLOSE;
	o->version = mp->version;
	if (mp->ek.on && !mpt_ek_keyed(mp))
		return false;
	o->key_id = mpt_ek_kid(mp);
	return mpt_mp_fastclose_value(mp, o->key_id, true, &o->u.fastclose_key) == 0;
}

/*
 * A reset of the subflow: RFC 8684 §3.6 MP_TCPRST with its reason (v1), and
 * MP_FASTCLOSE with the peer's key (§3.5) or MP_FAIL with the DSN the data
 * must resume at (§3.7) when those are why it goes.
 */
static size_t write_rst(struct mpt_subflow *sf, uint8_t *buf, size_t room)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	size_t n = 0;
	if (sf->rst_opt && mp->version == MPT_MPTCP_V1) {
		size_t k = mpt_mp_write_tcprst(buf, room, sf->rst_reason);
		if (k > 0)
			mpt_mib_inc(&st->mib, MPT_MIB_MPRstTx);
		n += k;
	}
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.version = mp->version;
	if (sf->rst_fastclose && fastclose_opt(mp, &o)) {
		size_t k = emit(buf + n, room - n, &o);
		if (k > 0)
			mpt_mib_inc(&st->mib, MPT_MIB_MPFastcloseTx);
		n += k;
	}
	if (sf->rst_fail) {
		memset(&o, 0, sizeof(o));
		o.version = mp->version;
		o.subtype = MPT_MPTCP_MP_FAIL;
		o.u.fail_dsn = sf->rst_fail_dsn;
		size_t k = emit(buf + n, room - n, &o);
		if (k > 0)
			mpt_mib_inc(&st->mib, MPT_MIB_MPFailTx);
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
	if (fl & MPT_TCP_RST)
		return write_rst(sf, buf, room);
	if (mp->fastclose_ack && sf == mp->fc_sf) {
		/* RFC 8684 §3.5: MP_FASTCLOSE on an ACK, with the peer's key. */
		struct mpt_mptcp_opt fc;
		size_t n = info->len == 0 && fastclose_opt(mp, &fc) ? emit(buf, room, &fc) : 0;
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
		o.key_id = mp->ek.on ? sf->ek_kid : 0;
		if (mpt_mp_join_hmac160(mp, sf->ek_kid, true, sf->nonce_local, sf->nonce_remote,
					h) == 0)
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
		o.u.mpc.snd_token = mp->token_local;
		o.u.mpc.rcv_token = mp->token_remote;
		const struct mpt_map *m =
		    info->len > 0 ? mpt_maplist_find(&sf->tx, info->seq - sf->iss) : NULL;
		if (mp->version == MPT_MPTCP_V1 && m && m->ssn == 1 &&
		    m->dsn == mp->idsn_local + 1) {
			/* RFC 8684 §3.1: the first data carries MP_CAPABLE
			 * with the data-level length (and checksum); the
			 * mapping is implicit: DSN = IDSN+1, SSN = 1. */
			uint32_t rel = info->seq - sf->iss, end = m->ssn + m->len;
			if (mpt_rel_cmp(rel + info->len, end) > 0)
				info->len = end - rel;
			o.u.mpc.form = mp->ek.on ? MPT_MPC_EXT_DATA : MPT_MPC_DATA;
			o.u.mpc.data_len = (uint16_t)(m->len + (m->data_fin ? 1u : 0u));
			o.u.mpc.has_csum = mp->csum;
			o.u.mpc.csum = m->csum;
			return emit(buf, room, &o);
		}
		if (info->len == 0 && mp->version == MPT_MPTCP_V0 && mp->fin_bare_due) {
			/* RFC 6824 §3.1: a v0 listener has both keys from the
			 * SYN and its own SYN/ACK already; repeating the third
			 * ACK here would leave no room for the bare DATA_FIN
			 * (MP_CAPABLE 20 bytes beside timestamps leaves 8),
			 * which then never leaves.  A DSS from us makes the
			 * peer fully established as well. */
		} else if (info->len == 0 && !(sf->fin_turn && mp->fin_bare_due)) {
			/* Third ACK (repeated on pure ACKs until the peer's
			 * first DSS shows it has our key), plus a DATA_ACK
			 * when room is left. */
			o.u.mpc.form = mp->ek.on ? MPT_MPC_EXT_TWOTOKENS : MPT_MPC_TWOKEYS;
			size_t n = emit(buf, room, &o);
			if (n > 0 && room - n >= 8 && mp->keys_known)
				n += write_dss(sf, info, buf + n, room - n);
			if (n > 0 && mp->fin_bare_due && !(info->flags & MPT_TCP_FIN) &&
			    !sf->fin_turn) {
				/* A bare DATA_FIN did not fit beside it (with
				 * checksums it needs 16 bytes; 8 are left): it
				 * goes alone on the next pure ACK, sent at once.
				 * A peer with nothing to send never sends the
				 * DSS that ends the repetition, and waited for
				 * a DATA_FIN that never came (kmatrix c011). */
				sf->fin_turn = true;
				sf->ack_due = true;
				mpt_mp_dirty(mp);
			}
			return n;
		}
	}
	if (!mp->keys_known)
		return 0;
	size_t n = 0;
	if (info->len == 0 && !(info->flags & MPT_TCP_FIN)) {
		/* NEW_KEY (12 bytes) beside a DATA_ACK only on pure ACKs. */
		n = mpt_ek_write(mp, sf, buf, room > 8 ? room - 8 : 0, mp->st->now);
		n += write_signals(sf, buf + n, room > 8 + n ? room - 8 - n : 0);
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
