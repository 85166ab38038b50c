/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the MPTCP options of a received segment do (RFC 8684 §3, RFC 6824
 * §3): the handshake (MP_CAPABLE, MP_JOIN and their HMACs), DATA_ACKs and
 * mappings, the infinite mapping, address and subflow signals, and the
 * options of a RST.  The options arrive parsed (options.c); each stage of
 * mpt_sf_ext_input is a function of its own.
 */
#include <string.h>

#include "common.h"
#include "crypto/crypto.h"
#include "mptcp/mptcp.h"
#include "wire/bytes.h"

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
	bool ek = has && mpc->u.mpc.form == MPT_MPC_EXT_ONETOKEN && mpt_ek_offered(mp);
	if (!has || (mpc->u.mpc.form != MPT_MPC_ONEKEY && !ek) ||
	    !mpc_version_ok(mp, mpc->version) || (mpc->u.mpc.flags & MPT_MPC_F_B) ||
	    !(mpc->u.mpc.flags & MPT_MPC_F_H)) {
		mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackSYNACK);
		return;
	}
	mpt_mib_inc(&st->mib, MPT_MIB_MPCapableSYNACKRX);
	mp->csum = mp->k.checksum || (mpc->u.mpc.flags & MPT_MPC_F_A);
	mp->peer_c = (mpc->u.mpc.flags & MPT_MPC_F_C) != 0;
	if (mp->peer_c && mp->nraddr > 0)
		mp->raddr[0].usable = false;
	if (ek) {
		/* External keys (draft §4.1): the listener's token instead
		 * of its key; IDSNs from the tokens (decision 14). */
		if (mpt_ek_start(mp) < 0 || mpt_ek_set_remote_token(mp, mpc->u.mpc.snd_token) < 0)
			mpt_sf_reset(sf, MPT_TCPRST_MPTCP);
		return;
	}
	if (mp->k.ext_keys == MPT_EXT_KEYS_REQUIRE) {
		/* The listener answered without E: plain RFC 8684 is not
		 * what the application asked for. */
		mpt_mib_inc(&st->mib, MPT_MIB_ExtKeyRefused);
		mpt_sf_reset(sf, MPT_TCPRST_ADMIN);
		return;
	}
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
	if (mpt_mp_set_remote_key(mp, mpc->u.mpc.snd_key) < 0)
		mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackSYNACK);
}

static void join_synack(struct mpt_subflow *sf, const struct mpt_mptcp_opt *j, bool has)
{
	struct mpt_mpconn *mp = sf->mp;
	uint64_t h = 0;
	uint8_t want[8];
	/* External keys: the SYN/ACK names the key our SYN named (decision 5). */
	if (has && j->u.join.form == MPT_JOIN_SYNACK && (!mp->ek.on || j->key_id == sf->ek_kid) &&
	    mpt_mp_join_hmac64(mp, sf->ek_kid, false, j->u.join.nonce, sf->nonce_local, &h) == 0) {
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
	if (has && j->u.join.form == MPT_JOIN_ACK && (!mp->ek.on || j->key_id == sf->ek_kid) &&
	    mpt_mp_join_hmac160(mp, sf->ek_kid, false, sf->nonce_remote, sf->nonce_local, want) ==
		0 &&
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

/*
 * A received segment's MPTCP options, in stages.  Each stage reads the
 * parsed options (struct mpt_mp_opts, options.c) and the connection's
 * state, records what it learnt and returns false when the segment has
 * nothing more to say (the subflow is being reset, or the connection fell
 * back).  Anything that calls back into an engine happens in mpt_mp_run.
 */
struct in_seg {
	struct mpt_flow *f;
	struct mpt_subflow *sf;
	struct mpt_mpconn *mp;
	struct mpt_stack *st;
	const struct mpt_tcp_seg *seg;
	uint16_t fl;
	struct mpt_mp_opts o;
};

/* SYN/ACK of a subflow we opened (RFC 8684 §3.1, §3.2). */
static void in_synack(struct in_seg *c)
{
	struct mpt_subflow *sf = c->sf;
	if (sf->passive && !(c->fl & MPT_TCP_ACK) && sf->join == MPT_SF_INITIAL && sf->syn_tx > 0 &&
	    !sf->mpc_off && c->seg->opts.n_mptcp == 0) {
		/* The initiator's SYN again, now without MPTCP: it gave up on
		 * MP_CAPABLE (RFC 8684 §3.1, blackhole detection), most likely
		 * because our SYN/ACKs do not reach it.  Answer as plain TCP;
		 * the third ACK still decides (§3.7). */
		sf->mpc_off = true;
		mpt_mib_inc(&c->st->mib, MPT_MIB_MPCapableSYNRXDrop);
	}
	if (!(c->fl & MPT_TCP_ACK) || sf->passive)
		return; /* the listener handled the SYN already */
	sf->irs = c->seg->hdr.seq;
	if (sf->join == MPT_SF_INITIAL) {
		mpt_mp_race_settle(sf, c->st->now);
		initial_synack(sf, &c->o.mpc, MPT_MP_HAS(&c->o, MPT_MPTCP_MP_CAPABLE));
	} else if (sf->join == MPT_SF_JOIN_SYN) {
		join_synack(sf, &c->o.join, MPT_MP_HAS(&c->o, MPT_MPTCP_MP_JOIN));
	}
}

/* The listener's third ACK (or first data) names both keys, ours as we
 * sent it (RFC 8684 §3.1) - or, under external keys, both tokens (draft
 * §4.1; a keyed form there is a mismatch, decision 4). */
static bool third_ack_ok(const struct mpt_mpconn *mp, const struct mpt_mptcp_opt *mpc)
{
	const struct mpt_mptcp_mpc *m = &mpc->u.mpc;
	if (mp->ek.on)
		return (m->form == MPT_MPC_EXT_TWOTOKENS || m->form == MPT_MPC_EXT_DATA) &&
		       m->rcv_token == mp->token_local &&
		       (!mp->keys_known || m->snd_token == mp->token_remote);
	return (m->form == MPT_MPC_TWOKEYS || m->form == MPT_MPC_DATA) &&
	       m->rcv_key == mp->key_local && (!mp->keys_known || m->snd_key == mp->key_remote);
}

static int third_ack_learn(struct mpt_mpconn *mp, const struct mpt_mptcp_opt *mpc)
{
	return mp->ek.on ? mpt_ek_set_remote_token(mp, mpc->u.mpc.snd_token)
			 : mpt_mp_set_remote_key(mp, mpc->u.mpc.snd_key);
}

/*
 * The initial subflow becomes fully established (RFC 8684 §3.1): the
 * listener from the third ACK (or the first data) carrying MP_CAPABLE with
 * both keys, or a DSS when it already has the peer's key (v0); the
 * initiator from the peer's first DSS.  Anything else on the listener's
 * side is a fallback to TCP (§3.7).
 */
static bool in_establish(struct in_seg *c)
{
	struct mpt_subflow *sf = c->sf;
	struct mpt_mpconn *mp = c->mp;
	const struct mpt_mptcp_opt *mpc = &c->o.mpc;
	bool has_mpc = MPT_MP_HAS(&c->o, MPT_MPTCP_MP_CAPABLE);
	bool has_dss = MPT_MP_HAS(&c->o, MPT_MPTCP_DSS);
	if (sf->join != MPT_SF_INITIAL)
		return true;
	if (sf->passive && !mp->fully_established) {
		if (has_mpc && third_ack_ok(mp, mpc)) {
			if (!mp->keys_known && third_ack_learn(mp, mpc) < 0) {
				mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackACK);
				return false;
			}
			mpt_mib_inc(&c->st->mib, MPT_MIB_MPCapableACKRX);
			mp->fully_established = true;
			if ((mpc->u.mpc.form == MPT_MPC_TWOKEYS ||
			     mpc->u.mpc.form == MPT_MPC_EXT_TWOTOKENS) &&
			    !mp->dack_sent) {
				/* Our DATA_ACK at once: the peer is fully
				 * established only on our first DSS (§3.1), and
				 * Linux resets its own join whose SYN/ACK comes
				 * before that.  A client that starts writing at
				 * once holds its subflow's lock, so our ACKs of
				 * its data wait in the socket backlog while the
				 * join's SYN/ACK on another subflow does not
				 * (kregress b1-4).  No data is in flight yet, so
				 * this ACK is no duplicate. */
				sf->ack_due = true;
				mpt_mp_dirty(mp);
			}
		} else if (has_dss && mp->keys_known) {
			mp->fully_established = true;
		} else {
			mpt_mp_fallback(mp, MPT_MIB_MPCapableFallbackACK);
			return false;
		}
	}
	if (sf->passive && has_mpc && mp->keys_known &&
	    mpc->u.mpc.form == (mp->ek.on ? MPT_MPC_EXT_DATA : MPT_MPC_DATA) &&
	    mpc->u.mpc.data_len > 0) {
		/* RFC 8684 §3.1: MP_CAPABLE with data maps DSN IDSN+1 to
		 * SSN 1 (repeated on every segment of that first mapping). */
		struct mpt_rmap m = {.dsn = mp->idsn_remote + 1,
				     .ssn = 1,
				     .len = mpc->u.mpc.data_len,
				     .csum = mpc->u.mpc.csum,
				     .has_csum = mpc->u.mpc.has_csum};
		mp->dss_seen = true;
		mpt_sf_rmap_add(sf, &m);
	}
	if (!sf->passive && !mp->fully_established && has_dss) {
		mp->fully_established = true; /* the peer's DSS: it has our key */
		if (mp->app_shutdown && !mp->fin_mapped && !mp->fin_acked &&
		    mpt_mp_fin_hold(mp, mp->st->now) == 0) {
			/* A DATA_FIN kept off the MP_CAPABLE mapping (sched.c)
			 * leaves now rather than at its retransmission timer. */
			mp->fin_bare_due = true;
			sf->ack_due = true;
			mpt_mp_dirty(mp);
		}
	}
	return true;
}

/*
 * RFC 8684 §3.7: an ACK of new data without any MPTCP option: a middlebox
 * strips them (the peer writes a DATA_ACK on every segment), or the peer
 * fell back to TCP (it lost our options) and this may be its FIN: that FIN
 * ends its stream, not the subflow under ours.  One subflow
 * with all data on it: fall back to TCP; else this subflow cannot be used.
 */
static bool in_stripped(struct in_seg *c)
{
	struct mpt_subflow *sf = c->sf;
	struct mpt_mpconn *mp = c->mp;
	if (c->seg->opts.n_mptcp != 0 || mp->inf_tx || !sf->established || !(c->fl & MPT_TCP_ACK) ||
	    !mp->snd_ready || mp->closed || sf->fin_sent ||
	    (sf->join != MPT_SF_INITIAL && sf->join != MPT_SF_JOIN_DONE))
		return true;
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(c->f->tcp, &ti);
	if (!mpt_seq_gt(c->seg->hdr.ack, ti.snd_una))
		return true;
	if (mpt_mp_live_subflows(mp, NULL) == 1 && mp->n_reinj == 0) {
		mpt_mib_inc(&c->st->mib, MPT_MIB_DSSFallback);
		mpt_mp_inf_tx(mp, sf, mp->snd_nxt);
		return true;
	}
	mpt_sf_reset(sf, MPT_TCPRST_MIDDLEBOX);
	return false;
}

/*
 * Our join is usable (RFC 8684 §3.2: the fourth ACK came).  Its first
 * mapping will start at the DATA_ACK this segment carries (or at our
 * DATA_ACK when it carries none): Linux (6.18) completes a passive join
 * whose third ACK found the connection locked by its application only
 * when that lock is released, and then rebases the mapping that the
 * join's first data already loaded to its connection-level ack_seq
 * (map_seq = ack_seq).  Data cannot move that ack_seq meanwhile, so it is the
 * DATA_ACK of its fourth ACK; a first mapping starting anywhere else was
 * delivered at the wrong place (one window of the stream replaced by
 * later bytes; docs/mptcp-design.md, "Linux's late join").  sched.c
 * join_first sends it.
 */
static void join_pin(struct in_seg *c)
{
	struct mpt_subflow *sf = c->sf;
	struct mpt_mpconn *mp = c->mp;
	uint64_t a = mp->snd.una;
	if (MPT_MP_HAS(&c->o, MPT_MPTCP_DSS) && mp->keys_known) {
		const struct mpt_mptcp_dss *d = &c->o.dss.u.dss;
		if (d->flags & MPT_DSS_F_ACK)
			a = (d->flags & MPT_DSS_F_ACK64)
				? d->data_ack
				: mpt_dsn_expand(mp->snd.una, (uint32_t)d->data_ack);
	}
	sf->join_pin = true;
	sf->join_pin_dsn = a;
}

/* The join handshake's third ACK (listener) or fourth ACK (initiator),
 * RFC 8684 §3.2. */
static bool in_join_ack(struct in_seg *c)
{
	struct mpt_subflow *sf = c->sf;
	if (sf->join == MPT_SF_JOIN_SYN && sf->passive) {
		join_third_ack(sf, &c->o.join, MPT_MP_HAS(&c->o, MPT_MPTCP_MP_JOIN));
		return !sf->reset_pending;
	}
	if (sf->join == MPT_SF_JOIN_ACK) {
		/* The fourth ACK: the listener got our third ACK. */
		sf->join = MPT_SF_JOIN_DONE;
		join_pin(c);
		mpt_mp_pm_event(c->mp, MPT_PM_EV_SF_ESTABLISHED, sf, NULL, 0, 0);
	}
	return true;
}

/*
 * RFC 8684 §3.3.1: a data-level length of 0 is the infinite mapping: from
 * its SSN on the subflow is the data stream (§3.7).  Only on the single
 * subflow left (the peer answers our MP_FAIL, or lost its options there),
 * resuming at or below our DATA_ACK; anything else would hand the data
 * stream to whoever sent it.  Returns false when the DSS was an infinite
 * mapping (nothing else in it applies).
 */
static bool in_infinite(struct in_seg *c)
{
	struct mpt_mpconn *mp = c->mp;
	const struct mpt_mptcp_dss *d = &c->o.dss.u.dss;
	if (!(d->flags & MPT_DSS_F_MAP) || d->data_len != 0 || (d->flags & MPT_DSS_F_FIN))
		return true;
	uint64_t dsn =
	    (d->flags & MPT_DSS_F_DSN64) ? d->dsn : mpt_dsn_expand(mp->rcv.nxt, (uint32_t)d->dsn);
	/* RFC 8684 §3.7: an infinite mapping is taken on the only subflow
	 * that carries data.  Our joins still in their handshake do not
	 * count: the peer never saw them complete, so they carry nothing,
	 * and a single-path connection cannot keep them (reset below).
	 * Counting them refused the fallback of a peer whose options a
	 * middlebox stripped while our joins were out (soak seed 410). */
	size_t pending = 0;
	size_t live = mpt_mp_live_subflows(mp, &pending);
	bool mine_pending = c->sf->join == MPT_SF_JOIN_SYN || c->sf->join == MPT_SF_JOIN_ACK;
	if (live - pending == 1 && !mine_pending && mpt_dsn_leq(dsn, mp->rcv.nxt) &&
	    mp->rcv.nxt - dsn <= mp->rcv.cap) {
		for (size_t i = 0; i < mp->nsf && pending > 0; i++) {
			struct mpt_subflow *o = mp->sf[i];
			if (o != c->sf && !o->closed && !o->dead && !o->reset_pending &&
			    (o->join == MPT_SF_JOIN_SYN || o->join == MPT_SF_JOIN_ACK))
				mpt_sf_reset(o, MPT_TCPRST_ADMIN);
		}
		mpt_mp_inf_rx(mp, c->sf, d->ssn, dsn);
	} else {
		mpt_mib_inc(&c->st->mib, MPT_MIB_InfiniteMapRxDrop);
	}
	return false;
}

/* DATA_ACK and the window relative to it (RFC 8684 §3.3.2, §3.3.4). */
static void in_data_ack(struct in_seg *c)
{
	struct mpt_mpconn *mp = c->mp;
	const struct mpt_mptcp_dss *d = &c->o.dss.u.dss;
	if (!(d->flags & MPT_DSS_F_ACK))
		return;
	uint64_t a = (d->flags & MPT_DSS_F_ACK64)
			 ? d->data_ack
			 : mpt_dsn_expand(mp->snd.una, (uint32_t)d->data_ack);
	/* The segment's own ACK is applied right after this hook (its
	 * engine checked it against SND.NXT already). */
	uint32_t sack = c->seg->hdr.ack;
	bool has_ack = (c->fl & MPT_TCP_ACK) && !(c->fl & MPT_TCP_RST);
	mpt_mp_data_ack(mp, a, c->sf, has_ack ? &sack : NULL);
	if (!(c->fl & MPT_TCP_SYN) && c->sf->flow && mp->snd_ready &&
	    a - mp->snd.una <= mp->snd.end + 1 - mp->snd.una) {
		/* RFC 8684 §3.3.4: this segment's window is relative to its
		 * DATA_ACK (scaled as the subflow's windows are, RFC 7323
		 * §2.3). */
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(c->sf->flow->tcp, &ti);
		mpt_sched_wnd_update(mp, a, (uint64_t)c->seg->hdr.window << ti.snd_wscale);
	}
}

/* The mapping the segment carries, and a DATA_FIN (RFC 8684 §3.3.1,
 * §3.3.3). */
static void in_mapping(struct in_seg *c)
{
	struct mpt_mpconn *mp = c->mp;
	const struct mpt_mptcp_dss *d = &c->o.dss.u.dss;
	if (!(d->flags & MPT_DSS_F_MAP) || d->data_len == 0)
		return;
	uint64_t dsn =
	    (d->flags & MPT_DSS_F_DSN64) ? d->dsn : mpt_dsn_expand(mp->rcv.nxt, (uint32_t)d->dsn);
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
		mpt_sf_rmap_add(c->sf, &m);
	}
	if (fin && c->seg->len == 0) {
		c->sf->ack_due = true; /* DATA_ACK a bare DATA_FIN */
		mp->final_ack_sent = false;
	}
}

/*
 * Data without a mapping.  Also before we are fully established on the
 * initial subflow we opened: the listener never saw the MP_CAPABLE of our
 * third ACK (stripped) and fell back to TCP, so its data comes bare (RFC
 * 8684 §3.7).
 */
static void in_unmapped(struct in_seg *c)
{
	struct mpt_subflow *sf = c->sf;
	struct mpt_mpconn *mp = c->mp;
	bool mapped_expected =
	    mp->fully_established || (sf->join == MPT_SF_INITIAL && !sf->passive);
	if (c->seg->len > 0 && mapped_expected && !mp->inf_rx &&
	    !mpt_sf_rmap_find(sf, c->seg->hdr.seq - sf->irs) &&
	    mpt_seq_geq(c->seg->hdr.seq, mpt_tcp_rcv_read_seq(c->f->tcp))) {
		mpt_mib_inc(&c->st->mib, MPT_MIB_DSSNoMatchTCP);
		if (!MPT_MP_HAS(&c->o, MPT_MPTCP_DSS) && !MPT_MP_HAS(&c->o, MPT_MPTCP_MP_CAPABLE))
			sf->nomap = true;
	}
}

/* Address and subflow signals: ADD_ADDR, REMOVE_ADDR, MP_PRIO, MP_FAIL,
 * MP_FASTCLOSE (and MP_TCPRST, meaningful on a RST only). */
static void in_signals(struct in_seg *c)
{
	struct mpt_subflow *sf = c->sf;
	struct mpt_mpconn *mp = c->mp;
	struct mpt_stack *st = c->st;
	const struct mpt_mp_opts *o = &c->o;
	for (size_t i = 0; i < o->nadd && !mp->inf_tx; i++)
		mpt_pm_add_addr_rx(sf, &o->add[i], o->add_kid[i]);
	if (o->new_key)
		mpt_ek_new_key_rx(mp, o->new_key_kid, o->new_key_hmac);
	if (MPT_MP_HAS(o, MPT_MPTCP_MP_FAIL) && !mp->inf_tx) {
		/* RFC 8684 §3.7: the peer's checksum failed on the only
		 * subflow: resend from that DSN with an infinite mapping
		 * (counted once: it repeats until answered). */
		mpt_mib_inc(&st->mib, MPT_MIB_MPFailRx);
		mpt_mp_inf_tx(mp, sf, o->fail_dsn);
	}
	if (MPT_MP_HAS(o, MPT_MPTCP_MP_FASTCLOSE))
		mpt_mp_fastclose_rx(mp, o->fastclose_key, o->fastclose_kid, st->now);
	if (MPT_MP_HAS(o, MPT_MPTCP_MP_PRIO)) {
		/* RFC 8684 §3.3.8 (v0: an address id names the subflows). */
		mpt_mib_inc(&st->mib, MPT_MIB_MPPrioRx);
		if (o->prio.has_addr_id) {
			for (size_t k = 0; k < mp->nsf; k++)
				if (mp->sf[k]->remote_id == o->prio.addr_id &&
				    mp->sf[k]->peer_backup != o->prio.backup) {
					mp->sf[k]->peer_backup = o->prio.backup;
					mpt_mp_pm_event(mp, MPT_PM_EV_SF_PRIORITY, mp->sf[k], NULL,
							0, 0);
				}
		} else if (sf->peer_backup != o->prio.backup) {
			sf->peer_backup = o->prio.backup;
			mpt_mp_pm_event(mp, MPT_PM_EV_SF_PRIORITY, sf, NULL, 0, 0);
		}
	}
	if (MPT_MP_HAS(o, MPT_MPTCP_REMOVE_ADDR))
		mpt_pm_rm_addr_rx(sf, &o->rm);
	if (MPT_MP_HAS(o, MPT_MPTCP_MP_TCPRST)) /* RFC 8684 §3.6: only on a RST */
		mpt_mib_inc(&st->mib, MPT_MIB_MPRstIgnored);
}

void mpt_sf_ext_input(void *ud, const struct mpt_tcp_seg *seg)
{
	struct in_seg c;
	c.f = ud;
	c.sf = c.f->sf;
	if (!c.sf)
		return;
	c.mp = c.sf->mp;
	c.st = c.mp->st;
	c.seg = seg;
	c.fl = seg->hdr.flags;
	struct mpt_mpconn *mp = c.mp;
	if (mp->fallback || c.sf->reset_pending)
		return;
	mpt_mp_dirty(mp);
	if (mp->inf_tx && mp->inf_rx)
		return; /* plain TCP now: no MPTCP option means anything */
	mpt_mp_opts_parse(seg, mp->version, mpt_ek_ext(mp), &c.o);
	for (unsigned i = 0; i < c.o.malformed; i++)
		mpt_mib_inc(&c.st->mib, MPT_MIB_MPTCPOptMalformed);
	if (c.fl & MPT_TCP_SYN) {
		in_synack(&c);
		return;
	}
	if (!in_establish(&c) || !in_stripped(&c) || !in_join_ack(&c))
		return;
	if (MPT_MP_HAS(&c.o, MPT_MPTCP_DSS) && mp->keys_known && !mp->inf_rx) {
		mp->dss_seen = true;
		if (in_infinite(&c) && !mp->inf_rx) {
			in_data_ack(&c);
			in_mapping(&c);
		}
	}
	in_unmapped(&c);
	in_signals(&c);
}

void mpt_sf_rst_rx(struct mpt_subflow *sf, const struct mpt_tcp_seg *seg, uint64_t now)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	struct mpt_mptcp_parse_ctx ctx = {
	    .version = mp->version, .seg = MPT_MPTCP_SEG_ACK, .ext = (uint8_t)mpt_ek_ext(mp)};
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
				mpt_mp_fastclose_rx(mp, o.u.fastclose_key, o.key_id, now);
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