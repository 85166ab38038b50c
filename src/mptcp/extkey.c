/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External keys (draft-baerts-tcpm-mptcpext-00; docs/external-keys.md holds
 * the wire formats, the decisions where the draft is open, and the state
 * machine).  The handshake carries tokens instead of keys; the application
 * installs keys (e.g. from a TLS exporter) that authenticate MP_JOIN,
 * ADD_ADDR and MP_FASTCLOSE; each key is announced with NEW_KEY and becomes
 * active once the peer's NEW_KEY for the same key arrives (§4.2).
 *
 * Also here: the HMACs of MP_JOIN, ADD_ADDR and MP_FASTCLOSE for both
 * modes, so that the handshake code asks one function whichever mode the
 * connection is in.
 */
#include <string.h>

#include "common.h"
#include "mptcp/mptcp.h"
#include "wire/bytes.h"

/* Decision 9: NEW_KEY is resent with the subflow's RTO and its backoff,
 * at most this many transmissions, then the rekey is abandoned. */
#define EK_TRIES_MAX 8u
/* Floor of that RTO (a just-opened subflow may report a tiny one). */
#define EK_RTO_MIN   (200 * MPT_NS_PER_MS)

unsigned mpt_ek_ext(const struct mpt_mpconn *mp)
{
	/* Decision 19: the codec decodes the extension only for connections
	 * that offered or negotiated it. */
	return (mp->ek.on || mpt_ek_offered(mp)) ? MPT_MPTCP_EXT_EXTKEY : 0u;
}

bool mpt_ek_offered(const struct mpt_mpconn *mp)
{
	/* Decision 2: v1 only. */
	return mp->k.ext_keys != MPT_EXT_KEYS_OFF && mp->version == MPT_MPTCP_V1 &&
	       (mp->k.accept_versions & MPT_MPTCP_ACCEPT_V1);
}

size_t mpt_ek_write_offer(uint8_t *buf, size_t room)
{
	if (room < MPT_EXTKEY_OFFER_LEN)
		return 0;
	buf[0] = MPT_TCPOPT_MPTCP;
	buf[1] = MPT_EXTKEY_OFFER_LEN;
	buf[2] = MPT_EXTKEY_OFFER_SUBTYPE << 4;
	buf[3] = MPT_EXTKEY_OFFER_ID;
	return MPT_EXTKEY_OFFER_LEN;
}

bool mpt_ek_syn_offer(const struct mpt_tcp_seg *seg, uint8_t mpc_flags)
{
	if (mpc_flags & MPT_MPC_F_E)
		return true; /* the draft's own form (decision 1) */
	for (unsigned i = 0; i < seg->opts.n_mptcp; i++) {
		const struct mpt_tcpopt_ref *r = &seg->opts.mptcp[i];
		if (r->len != MPT_EXTKEY_OFFER_LEN || (size_t)r->off + r->len > seg->hdr.opt_len)
			continue;
		const uint8_t *p = seg->hdr.opt + r->off;
		if ((p[2] >> 4) == MPT_EXTKEY_OFFER_SUBTYPE && p[3] == MPT_EXTKEY_OFFER_ID)
			return true;
	}
	return false;
}

int mpt_ek_start(struct mpt_mpconn *mp)
{
	/* Decision 14: our IDSN from our token (the key that made the token
	 * is never sent: the token is just a random unique number now). */
	uint64_t idsn = 0;
	if (mpt_extkey_idsn(mp->token_local, &idsn) < 0)
		return MPT_ERR_PROTO;
	mp->idsn_local = idsn;
	mp->key_local = 0;
	mp->ek.on = true;
	mpt_mib_inc(&mp->st->mib, MPT_MIB_ExtKeyNegotiated);
	return 0;
}

int mpt_ek_set_remote_token(struct mpt_mpconn *mp, uint32_t token)
{
	if (mp->keys_known)
		return token == mp->token_remote ? 0 : MPT_ERR_PROTO;
	uint64_t idsn = 0;
	if (mpt_extkey_idsn(token, &idsn) < 0)
		return MPT_ERR_PROTO;
	return mpt_mp_set_remote_ids(mp, 0, token, idsn);
}

bool mpt_ek_keyed(const struct mpt_mpconn *mp)
{
	return !mp->ek.on || mp->ek.gens > 0;
}

uint8_t mpt_ek_kid(const struct mpt_mpconn *mp)
{
	return mp->ek.on && mp->ek.gens > 0 ? (uint8_t)((mp->ek.gens - 1) % 2) : 0;
}

/* The installed key of id k (active, previous or pending), or NULL. */
static const struct mpt_ek_slot *ek_slot(const struct mpt_mpconn *mp, uint8_t k)
{
	if (!mp->ek.on || k > 1 || mp->ek.slot[k].len == 0)
		return NULL;
	return &mp->ek.slot[k];
}

bool mpt_ek_has_key(const struct mpt_mpconn *mp, uint8_t k)
{
	return ek_slot(mp, k) != NULL;
}

/* The key id our NEW_KEY names: the pending key, else the newest one. */
static uint8_t ek_tx_kid(const struct mpt_mpconn *mp)
{
	return mp->ek.pending ? (uint8_t)(mp->ek.gens % 2) : mpt_ek_kid(mp);
}

/* A pure ACK soon on a subflow that can carry it. */
static void ek_kick(struct mpt_mpconn *mp)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (mpt_sf_usable(sf)) {
			sf->ack_due = true;
			break;
		}
	}
	mpt_mp_dirty(mp);
}

/* Whether hmac is the peer's NEW_KEY HMAC of the key in slot k
 * (decision 8: keyed with the peer's token first). */
static bool ek_peer_match(const struct mpt_mpconn *mp, uint8_t k, const uint8_t *hmac)
{
	const struct mpt_ek_slot *s = ek_slot(mp, k);
	uint8_t want[MPT_EXTKEY_HMAC_LEN];
	return s &&
	       mpt_extkey_new_key_hmac(mp->token_remote, mp->token_local, s->key, s->len, want) ==
		   0 &&
	       mpt_crypto_memeq(want, hmac, sizeof(want));
}

static void ek_confirm(struct mpt_mpconn *mp)
{
	mp->ek.pending = false;
	mp->ek.gens++;
	mp->ek.rtx_at = MPT_TIME_NEVER;
	mpt_mib_inc(&mp->st->mib, MPT_MIB_ExtKeyNewKeyRx);
	/* Joins and ADD_ADDRs held back until now may go (phase_send). */
	mpt_mp_dirty(mp);
}

int mpt_ek_install(struct mpt_mpconn *mp, const uint8_t *key, size_t len, uint64_t now)
{
	MPT_UNUSED(now);
	if (!key || len < MPT_EXTKEY_KEY_MIN || len > MPT_EXTKEY_KEY_MAX)
		return MPT_ERR_INVAL;
	if (!mp->ek.on || !mp->keys_known || mpt_mp_is_fallback(mp) || mp->closed || mp->fastclose)
		return MPT_ERR_STATE;
	/* Decision 10: key n+1 only once key n is active, so that a key id
	 * always names one key. */
	if (mp->ek.pending)
		return MPT_ERR_AGAIN;
	uint8_t k = (uint8_t)(mp->ek.gens % 2);
	struct mpt_ek_slot *s = &mp->ek.slot[k];
	memcpy(s->key, key, len);
	s->len = (uint8_t)len;
	mp->ek.pending = true;
	mp->ek.tx_due = true;
	mp->ek.tries = 0;
	mp->ek.rto = 0;
	mp->ek.rtx_at = MPT_TIME_NEVER;
	if (mp->ek.early) {
		/* The peer announced this key before we had it. */
		mp->ek.early = false;
		if (mp->ek.early_k == k && ek_peer_match(mp, k, mp->ek.early_hmac))
			ek_confirm(mp);
	}
	ek_kick(mp);
	return 0;
}

void mpt_ek_auto(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->ek.on && mp->k.ext_key_len > 0 && mp->ek.gens == 0 && !mp->ek.pending &&
	    !mp->ek.auto_done && mp->keys_known && mp->established) {
		mp->ek.auto_done = true;
		(void)mpt_ek_install(mp, mp->k.ext_key, mp->k.ext_key_len, now);
	}
}

void mpt_ek_new_key_rx(struct mpt_mpconn *mp, uint8_t k, const uint8_t *hmac)
{
	struct mpt_stack *st = mp->st;
	if (!mp->ek.on || !mp->keys_known || k > 1) {
		mpt_mib_inc(&st->mib, MPT_MIB_ExtKeyNewKeyRxDrop); /* decision 11 */
		return;
	}
	if (ek_peer_match(mp, k, hmac)) {
		if (mp->ek.pending && k == mp->ek.gens % 2) {
			ek_confirm(mp);
			return;
		}
		/* A key already active here: the peer still sends its
		 * NEW_KEY, so it has not seen ours (lost): answer with ours
		 * once more. */
		if (mp->ek.gens > 0 && k == mpt_ek_kid(mp)) {
			mp->ek.tx_due = true;
			ek_kick(mp);
		}
		return;
	}
	mpt_mib_inc(&st->mib, MPT_MIB_ExtKeyNewKeyRxDrop);
	mp->ek.early = true;
	mp->ek.early_k = k;
	memcpy(mp->ek.early_hmac, hmac, sizeof(mp->ek.early_hmac));
}

size_t mpt_ek_write(struct mpt_mpconn *mp, struct mpt_subflow *sf, uint8_t *buf, size_t room,
		    uint64_t now)
{
	if (!mp->ek.tx_due || room < MPT_EXTKEY_NEW_KEY_LEN || !sf->flow)
		return 0;
	uint8_t k = ek_tx_kid(mp);
	const struct mpt_ek_slot *s = ek_slot(mp, k);
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_EXTKEY_SUBTYPE;
	o.version = MPT_MPTCP_V1;
	o.key_id = k;
	if (!s || mpt_extkey_new_key_hmac(mp->token_local, mp->token_remote, s->key, s->len,
					  o.u.new_key.hmac) < 0) {
		mp->ek.tx_due = false;
		return 0;
	}
	int n = mpt_mptcp_emit(buf, room, &o);
	if (n <= 0)
		return 0;
	mp->ek.tx_due = false;
	mpt_mib_inc(&mp->st->mib, MPT_MIB_ExtKeyNewKeyTx);
	if (mp->ek.pending) {
		/* Decision 9: the sending subflow's RTO, doubled per try. */
		if (mp->ek.rto == 0) {
			struct mpt_tcp_info ti;
			mpt_tcp_get_info(sf->flow->tcp, &ti);
			mp->ek.rto = MPT_MAX(ti.rto_ns, EK_RTO_MIN);
		} else {
			mp->ek.rto *= 2;
		}
		mp->ek.tries++;
		mp->ek.rtx_at = now + mp->ek.rto;
	}
	return (size_t)n;
}

uint64_t mpt_ek_deadline(const struct mpt_mpconn *mp)
{
	return mp->ek.pending ? mp->ek.rtx_at : MPT_TIME_NEVER;
}

void mpt_ek_on_timer(struct mpt_mpconn *mp, uint64_t now)
{
	if (!mp->ek.pending || mp->ek.rtx_at > now)
		return;
	if (mp->ek.tries >= EK_TRIES_MAX) {
		/* Decision 9: abandoned; the previous key stays in use (its
		 * slot was the one before it: that key is gone). */
		mp->ek.pending = false;
		mp->ek.rtx_at = MPT_TIME_NEVER;
		mp->ek.slot[mp->ek.gens % 2].len = 0;
		mpt_mib_inc(&mp->st->mib, MPT_MIB_ExtKeyNewKeyAbandon);
		mpt_mp_dirty(mp);
		return;
	}
	mp->ek.rtx_at = MPT_TIME_NEVER; /* re-armed when it leaves */
	mp->ek.tx_due = true;
	ek_kick(mp);
}

int mpt_mp_join_hmac64(const struct mpt_mpconn *mp, uint8_t kid, bool ours, uint32_t nonce_snd,
		       uint32_t nonce_rcv, uint64_t *out)
{
	if (mp->ek.on) {
		const struct mpt_ek_slot *s = ek_slot(mp, kid);
		return s ? mpt_extkey_join_trunc64(s->key, s->len, nonce_snd, nonce_rcv, out)
			 : MPT_ERR_NOTFOUND;
	}
	return mpt_hmac_join_trunc64(mp->version, ours ? mp->key_local : mp->key_remote,
				     ours ? mp->key_remote : mp->key_local, nonce_snd, nonce_rcv,
				     out);
}

int mpt_mp_join_hmac160(const struct mpt_mpconn *mp, uint8_t kid, bool ours, uint32_t nonce_snd,
			uint32_t nonce_rcv, uint8_t out[MPT_CRYPTO_JOIN_ACK_LEN])
{
	if (mp->ek.on) {
		const struct mpt_ek_slot *s = ek_slot(mp, kid);
		return s ? mpt_extkey_join_160(s->key, s->len, nonce_snd, nonce_rcv, out)
			 : MPT_ERR_NOTFOUND;
	}
	return mpt_hmac_join_160(mp->version, ours ? mp->key_local : mp->key_remote,
				 ours ? mp->key_remote : mp->key_local, nonce_snd, nonce_rcv, out);
}

int mpt_mp_add_addr_hmac(const struct mpt_mpconn *mp, uint8_t kid, bool ours, uint8_t id,
			 const struct mpt_addr *addr, uint16_t port, uint64_t *out)
{
	if (mp->ek.on) {
		const struct mpt_ek_slot *s = ek_slot(mp, kid);
		return s ? mpt_extkey_add_addr_hmac(s->key, s->len, id, addr, port, out)
			 : MPT_ERR_NOTFOUND;
	}
	return mpt_hmac_add_addr(ours ? mp->key_local : mp->key_remote,
				 ours ? mp->key_remote : mp->key_local, id, addr, port, out);
}

int mpt_mp_fastclose_value(const struct mpt_mpconn *mp, uint8_t kid, bool ours, uint64_t *out)
{
	if (mp->ek.on) {
		const struct mpt_ek_slot *s = ek_slot(mp, kid);
		if (!s)
			return MPT_ERR_NOTFOUND;
		return mpt_extkey_fastclose_hmac(ours ? mp->token_local : mp->token_remote,
						 ours ? mp->token_remote : mp->token_local, s->key,
						 s->len, out);
	}
	/* RFC 8684 §3.5: the Option Receiver's Key. */
	*out = ours ? mp->key_remote : mp->key_local;
	return 0;
}
