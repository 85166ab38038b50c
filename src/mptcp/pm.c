/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Path-manager machinery shared by every path manager (RFC 8684 §3.2,
 * §3.4); the path managers themselves (fullmesh, the default, and the
 * others) are in pm_policies.c and decide which subflows to open and which
 * addresses to announce.  Here: the peer's addresses (ADD_ADDR and
 * REMOVE_ADDR received, the subflows to a removed address closed), our
 * announcements (ADD_ADDR on pure ACKs; v1: HMAC, echo, retransmission;
 * v0: no HMAC, no echo), opening joins over (local, remote) address pairs
 * up to max_subflows, re-trying failed subflows after an exponential
 * backoff, and the external path-manager API of mpt.h (mpt_pm_*).
 */
#include <string.h>

#include "common.h"
#include "crypto/crypto.h"
#include "mptcp/mptcp.h"
#include "wire/bytes.h"

#define PM_ADD_ADDR_TRIES 3

int mpt_pm_add_raddr(struct mpt_mpconn *mp, const struct mpt_addr *a, uint16_t port, uint8_t id,
		     bool usable)
{
	for (size_t i = 0; i < mp->nraddr; i++) {
		struct mpt_raddr *r = &mp->raddr[i];
		if (mpt_addr_equal(&r->addr, a) && r->port == port) {
			r->id = id;
			return (int)i;
		}
	}
	if (mp->nraddr >= MPT_MP_MAX_ADDRS)
		return -1;
	struct mpt_raddr *r = &mp->raddr[mp->nraddr];
	r->addr = *a;
	r->port = port;
	r->id = id;
	r->usable = usable;
	return (int)mp->nraddr++;
}

static size_t count_live(const struct mpt_mpconn *mp, size_t *pending)
{
	size_t n = 0, p = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (sf->closed || sf->dead)
			continue;
		n++;
		if (sf->join == MPT_SF_JOIN_SYN || sf->join == MPT_SF_JOIN_ACK)
			p++;
	}
	*pending = p;
	return n;
}

void mpt_pm_announce_locals(struct mpt_mpconn *mp, uint8_t flags)
{
	/* Every matching local address not announced yet (addresses added
	 * while the connection runs too, RFC 6897 §5.3). */
	const struct mpt_stack_cfg *c = &mp->st->cfg;
	const struct mpt_addr *mine = &mp->local.addr;
	mp->pm_announced = true;
	for (size_t i = 0; i < c->n_local && mp->nann < MPT_MAX_LOCAL_ADDRS; i++) {
		if (mpt_addr_equal(&c->local[i], mine) || c->local[i].family == 0)
			continue;
		if (flags && !(c->local_flags[i] & flags))
			continue;
		bool known = false;
		for (size_t k = 0; k < mp->nann; k++)
			known = known || mp->ann[k].id == (uint8_t)(i + 1);
		if (known)
			continue;
		struct mpt_ann *an = &mp->ann[mp->nann++];
		memset(an, 0, sizeof(*an));
		an->addr = c->local[i];
		an->id = (uint8_t)(i + 1);
		an->pending = true;
		an->rtx_at = MPT_TIME_NEVER;
	}
}

/*
 * v1: one announcement in flight at a time.  The peer echoes each
 * (RFC 8684 §3.4.1); a Linux peer processes one ADD_ADDR at a time and
 * drops one that arrives while it is busy (MPTcpExtAddAddrDrop), so a burst
 * of them loses addresses.  The next goes once the echo came (or its
 * retransmissions gave up).
 */
static bool ann_in_flight(const struct mpt_mpconn *mp)
{
	for (size_t i = 0; i < mp->nann && mp->version == MPT_MPTCP_V1; i++)
		if (mp->ann[i].tries > 0 && !mp->ann[i].echoed &&
		    (mp->ann[i].pending || mp->ann[i].rtx_at != MPT_TIME_NEVER))
			return true;
	return false;
}

static bool ann_sendable(const struct mpt_ann *a, bool in_flight)
{
	return a->pending && (!in_flight || a->tries > 0);
}

void mpt_pm_flush(struct mpt_mpconn *mp)
{
	/* REMOVE_ADDRs too: one queued while no subflow could carry it
	 * (the last one went with the address) leaves on the next. */
	bool want = mp->necho > 0 || mp->nrm > 0;
	bool in_flight = ann_in_flight(mp);
	for (size_t i = 0; i < mp->nann && !want; i++)
		want = ann_sendable(&mp->ann[i], in_flight);
	if (!want)
		return;
	/* Carried by the next pure ACK: make one now. */
	for (size_t i = 0; i < mp->nsf; i++)
		if (mpt_sf_usable(mp->sf[i])) {
			mp->sf[i]->ack_due = true;
			break;
		}
}

bool mpt_pm_can_open(const struct mpt_mpconn *mp)
{
	size_t pending;
	return count_live(mp, &pending) < mp->k.max_subflows && pending < mp->k.max_join_pending &&
	       mp->nsf < MPT_MP_MAX_SF;
}

int mpt_pm_initial_local(const struct mpt_mpconn *mp)
{
	return mpt_stack_local_index(mp->st, &mp->local.addr);
}

size_t mpt_pm_pair_count(const struct mpt_mpconn *mp, size_t li, size_t ri)
{
	size_t n = 0;
	const struct mpt_addr *l = &mp->st->cfg.local[li];
	const struct mpt_addr *r = &mp->raddr[ri].addr;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (sf->closed || sf->dead || !sf->flow)
			continue;
		if (mpt_addr_equal(&sf->flow->local.addr, l) &&
		    mpt_addr_equal(&sf->flow->remote.addr, r))
			n++;
	}
	return n;
}

void mpt_pm_run(struct mpt_mpconn *mp, uint64_t now)
{
	/* Subflows still help while queued data (and the DATA_FIN) waits. */
	if (mp->closed || mp->fin_acked || mp->app_closed || !mp->sock)
		return;
	if (mp->necho || mp->nrm)
		mpt_pm_flush(mp);
	int li0 = mpt_pm_initial_local(mp);
	if (!mp->pm_init && li0 >= 0 && mp->nraddr > 0)
		mp->tried[li0] |= 1u; /* raddr[0] is the initial remote address */
	mp->pm_init = true;
	/* A pair that works again starts its backoff afresh. */
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sf_usable(sf))
			continue;
		int li = mpt_stack_local_index(mp->st, &sf->flow->local.addr);
		for (size_t ri = 0; li >= 0 && ri < mp->nraddr; ri++)
			if (mpt_addr_equal(&mp->raddr[ri].addr, &sf->flow->remote.addr))
				mp->retry_n[li][ri] = 0;
	}
	mp->pm->run(mp, now);
}

void mpt_pm_open_pairs(struct mpt_mpconn *mp, bool (*want)(struct mpt_mpconn *, size_t, size_t),
		       uint64_t now)
{
	struct mpt_stack *st = mp->st;
	/* Pass 0 takes pairs whose local and remote addresses are both still
	 * unused, so that with a subflow limit every path gets one before
	 * any path gets a second. */
	uint32_t lused = 0, rused = 0;
	for (size_t li = 0; li < st->cfg.n_local; li++)
		for (size_t ri = 0; ri < mp->nraddr; ri++)
			if (mp->tried[li] & (1u << ri)) {
				lused |= 1u << li;
				rused |= 1u << ri;
			}
	for (int pass = 0; pass < 2; pass++)
		for (size_t li = 0; li < st->cfg.n_local; li++) {
			if (st->cfg.local[li].family == 0)
				continue;
			for (size_t ri = 0; ri < mp->nraddr; ri++) {
				const struct mpt_raddr *r = &mp->raddr[ri];
				if (mp->tried[li] & (1u << ri))
					continue;
				if (!r->usable || r->addr.family != st->cfg.local[li].family)
					continue;
				if (pass == 0 && ((lused & (1u << li)) || (rused & (1u << ri))))
					continue;
				if (!want(mp, li, ri))
					continue;
				lused |= 1u << li;
				rused |= 1u << ri;
				if (!mpt_pm_can_open(mp))
					return;
				mp->tried[li] |= 1u << ri;
				if (mp->retry_at[li][ri] != 0)
					continue; /* waiting for its retry time */
				(void)mpt_mp_open_join(mp, li, ri, now);
			}
		}
}

void mpt_pm_add_addr_rx(struct mpt_subflow *sf, const struct mpt_mptcp_add_addr *a, uint8_t kid)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	if (a->echo) {
		for (size_t i = 0; i < mp->nann; i++) {
			if (mp->ann[i].id == a->addr_id && !mp->ann[i].echoed) {
				mp->ann[i].echoed = true;
				mp->ann[i].rtx_at = MPT_TIME_NEVER;
				mp->ann_echo_at = st->now; /* mpt_mp_fin_hold */
				mpt_mib_inc(&st->mib, MPT_MIB_EchoAdd);
			}
		}
		mpt_pm_flush(mp); /* the next announcement, if one waits */
		return;
	}
	if (mp->version == MPT_MPTCP_V1) {
		/* RFC 8684 §3.4.1: HMAC(Key of sender || key of receiver,
		 * id || address || port); a wrong one is ignored.  External
		 * keys: HMAC(the key named by K, same message), none before
		 * the first key (draft §4.3). */
		uint64_t h = 0;
		uint8_t want[8];
		enum mpt_mib_id drop = mp->ek.on ? MPT_MIB_ExtKeyAddAddrDrop : MPT_MIB_AddAddrDrop;
		if (!mp->keys_known || mpt_mp_add_addr_hmac(mp, kid, false, a->addr_id, &a->addr,
							    a->has_port ? a->port : 0, &h) < 0) {
			mpt_mib_inc(&st->mib, drop);
			return;
		}
		mpt_put64(want, h);
		if (!mpt_crypto_memeq(want, a->hmac, 8)) {
			mpt_mib_inc(&st->mib, drop);
			return;
		}
	}
	/* A valid ADD_ADDR is echoed even when the path manager does not
	 * use it (RFC 8684 §3.4.1: the echo only says it arrived). */
	if (!mp->pm->accept_addr(mp, a)) {
		mpt_mib_inc(&st->mib, MPT_MIB_AddAddrIgnored);
	} else if (mpt_pm_add_raddr(mp, &a->addr, a->has_port ? a->port : 0, a->addr_id, true) <
		   0) {
		mpt_mib_inc(&st->mib, MPT_MIB_AddAddrDrop);
		return;
	} else {
		mpt_mib_inc(&st->mib, MPT_MIB_AddAddr);
		mpt_mp_pm_event(mp, MPT_PM_EV_ANNOUNCED, NULL, &a->addr, a->addr_id, 0);
		if (a->has_port)
			mp->pmq[(mp->pmq_head + mp->pmq_n - 1) % MPT_MP_PMQ].remote.port = a->port;
		if (mp->add_addr_accepted < 255)
			mp->add_addr_accepted++;
	}
	if (mp->version == MPT_MPTCP_V1 && mp->necho < MPT_ARRAY_SIZE(mp->echo)) {
		mp->echo[mp->necho].addr = a->addr;
		mp->echo[mp->necho].port = a->port;
		mp->echo[mp->necho].has_port = a->has_port;
		mp->echo[mp->necho].id = a->addr_id;
		mp->necho++;
	}
	mpt_mp_dirty(mp);
}

size_t mpt_pm_write(struct mpt_mpconn *mp, uint8_t *buf, size_t room, uint64_t now)
{
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_ADD_ADDR;
	o.version = mp->version;
	if (mp->necho > 0) {
		o.u.add_addr.echo = true;
		o.u.add_addr.addr_id = mp->echo[0].id;
		o.u.add_addr.addr = mp->echo[0].addr;
		o.u.add_addr.has_port = mp->echo[0].has_port;
		o.u.add_addr.port = mp->echo[0].port;
		int n = mpt_mptcp_emit(buf, room, &o);
		if (n <= 0)
			return 0;
		mp->necho--;
		memmove(mp->echo, mp->echo + 1, mp->necho * sizeof(mp->echo[0]));
		return (size_t)n;
	}
	bool in_flight = ann_in_flight(mp);
	for (size_t i = 0; i < mp->nann; i++) {
		struct mpt_ann *a = &mp->ann[i];
		if (!ann_sendable(a, in_flight))
			continue;
		o.u.add_addr.addr_id = a->id;
		o.u.add_addr.addr = a->addr;
		if (mp->version == MPT_MPTCP_V1) {
			uint64_t h = 0;
			if (!mpt_ek_keyed(mp))
				return 0; /* held until the first external key */
			o.key_id = mpt_ek_kid(mp);
			if (mpt_mp_add_addr_hmac(mp, o.key_id, true, a->id, &a->addr, 0, &h) < 0)
				return 0;
			mpt_put64(o.u.add_addr.hmac, h);
		}
		int n = mpt_mptcp_emit(buf, room, &o);
		if (n <= 0)
			return 0;
		a->pending = false;
		if (a->tries == 0) {
			mp->ann_tx_at = now; /* mpt_mp_fin_hold */
			mpt_mib_inc(&mp->st->mib, MPT_MIB_AddAddrTx);
			if (mp->add_addr_signal < 255)
				mp->add_addr_signal++;
		}
		a->tries++;
		/* v0 has no echo: one transmission (RFC 6824 §3.4.1). */
		a->rtx_at = (mp->version == MPT_MPTCP_V1 && a->tries < PM_ADD_ADDR_TRIES)
				? now + mp->k.add_addr_timeout_ns
				: MPT_TIME_NEVER;
		return (size_t)n;
	}
	return 0;
}

uint64_t mpt_pm_deadline(const struct mpt_mpconn *mp)
{
	uint64_t d = MPT_TIME_NEVER;
	for (size_t li = 0; li < MPT_MAX_LOCAL_ADDRS; li++)
		for (size_t ri = 0; ri < mp->nraddr; ri++)
			if (mp->retry_at[li][ri] != 0 && mp->retry_at[li][ri] < d)
				d = mp->retry_at[li][ri];
	for (size_t i = 0; i < mp->nann; i++)
		if (!mp->ann[i].echoed && !mp->ann[i].pending && mp->ann[i].rtx_at < d)
			d = mp->ann[i].rtx_at;
	return d;
}

void mpt_pm_on_timer(struct mpt_mpconn *mp, uint64_t now)
{
	for (size_t li = 0; li < MPT_MAX_LOCAL_ADDRS; li++)
		for (size_t ri = 0; ri < mp->nraddr; ri++)
			if (mp->retry_at[li][ri] != 0 && mp->retry_at[li][ri] <= now) {
				mp->retry_at[li][ri] = 0;
				mp->tried[li] &= ~(1u << ri);
				mpt_mib_inc(&mp->st->mib, MPT_MIB_MPJoinRetry);
			}
	for (size_t i = 0; i < mp->nann; i++) {
		struct mpt_ann *a = &mp->ann[i];
		if (!a->echoed && !a->pending && a->rtx_at <= now) {
			/* RFC 8684 §3.4.1: no echo in time -> send it again. */
			a->pending = true;
			a->rtx_at = MPT_TIME_NEVER;
			mpt_mib_inc(&mp->st->mib, MPT_MIB_AddAddrRtx);
		}
	}
}

/* Slot of the remote address a flow goes to, or -1. */
static int raddr_slot(const struct mpt_mpconn *mp, const struct mpt_endpoint *r)
{
	for (size_t i = 0; i < mp->nraddr; i++) {
		const struct mpt_raddr *a = &mp->raddr[i];
		uint16_t port = a->port ? a->port : mp->remote.port;
		if (mpt_addr_equal(&a->addr, &r->addr) && port == r->port)
			return (int)i;
	}
	return -1;
}

void mpt_pm_retry_later(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now)
{
	/* Keep every (local, remote) pair of live addresses in use: a
	 * subflow that failed (timeout, reset, refused join) is tried again
	 * after an exponential backoff. */
	int li = mpt_stack_local_index(mp->st, &sf->flow->local.addr);
	int ri = raddr_slot(mp, &sf->flow->remote);
	if (li < 0 || ri < 0 || !mp->raddr[ri].usable)
		return;
	uint8_t n = mp->retry_n[li][ri];
	mp->retry_at[li][ri] = now + (mp->k.join_retry_ns << n);
	if (n < 6)
		mp->retry_n[li][ri] = (uint8_t)(n + 1);
}

/* Never again for this connection: the pair's slot stays busy. */
static void retry_never(struct mpt_mpconn *mp, const struct mpt_subflow *sf)
{
	int li = mpt_stack_local_index(mp->st, &sf->flow->local.addr);
	int ri = raddr_slot(mp, &sf->flow->remote);
	if (li >= 0 && ri >= 0)
		mp->retry_at[li][ri] = MPT_TIME_NEVER;
}

void mpt_pm_sf_failed(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now)
{
	/* Nothing to re-establish when the connection is ending, when the
	 * address was removed, or when the peer's MP_TCPRST said the problem
	 * is not transient (RFC 8684 §3.6, flag T). */
	if (!sf || mp->passive || mp->closed || mp->fin_acked || mp->app_closed || !mp->sock ||
	    mpt_mp_is_fallback(mp) || mp->fastclose || sf->removed || !sf->flow || sf->fin_sent)
		return;
	/* Refused for good: the policies must not open the same pair again
	 * at once either (a refusal loop is a SYN storm at the peer). */
	if (sf->rst_opt_rx && !(sf->rst_rx_flags & MPT_TCPRST_F_T)) {
		retry_never(mp, sf);
		return;
	}
	/* A peer that sent its DATA_FIN is closing: Linux refuses joins once
	 * its connection left ESTABLISHED (MPJoinRejected), so a retry only
	 * adds a RST exchange per backoff step. */
	if (mp->peer_fin && !sf->was_done) {
		retry_never(mp, sf);
		return;
	}
	mp->pm->sf_failed(mp, sf, now);
}

void mpt_pm_rm_addr_rx(struct mpt_subflow *sf, const struct mpt_mptcp_rm_addr *r)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	mpt_mib_inc(&st->mib, MPT_MIB_RmAddr);
	for (size_t k = 0; k < r->n && k < MPT_MPTCP_MAX_RM_IDS; k++) {
		uint8_t id = r->ids[k];
		mpt_mp_pm_event(mp, MPT_PM_EV_REMOVED, NULL, NULL, id, 0);
		/* RFC 8684 §3.4.2: no new subflows to it; the ones using it
		 * are closed (their data goes to the others). */
		for (size_t i = 0; i < mp->nraddr; i++)
			if (mp->raddr[i].id == id)
				mp->raddr[i].usable = false;
		for (size_t i = 0; i < mp->nsf; i++) {
			struct mpt_subflow *o = mp->sf[i];
			if (o->remote_id != id || o->removed || o->closed)
				continue;
			o->removed = true;
			mpt_mib_inc(&st->mib, MPT_MIB_RmSubflow);
			mpt_sf_reset(o, MPT_TCPRST_ADMIN);
		}
	}
	mpt_mp_dirty(mp);
}

/* ---- the external path-manager API (mpt.h: mpt_pm_*) ---------------------- */

static bool pm_api_ok(const struct mpt_mpconn *mp)
{
	return mp->fully_established && !mpt_mp_is_fallback(mp) && !mp->closed && !mp->fastclose &&
	       !mp->app_closed;
}

int mpt_pm_api_open(struct mpt_mpconn *mp, const struct mpt_addr *local,
		    const struct mpt_endpoint *remote, bool backup, uint64_t now)
{
	if (!pm_api_ok(mp) || mp->passive)
		return MPT_ERR_STATE;
	int li = mpt_stack_local_index(mp->st, local);
	if (li < 0 || local->family != remote->addr.family)
		return MPT_ERR_INVAL;
	if (!mpt_pm_can_open(mp))
		return MPT_ERR_LIMIT;
	uint16_t port = remote->port == mp->remote.port ? 0 : remote->port;
	int ri = -1;
	for (size_t i = 0; i < mp->nraddr && ri < 0; i++)
		if (mpt_addr_equal(&mp->raddr[i].addr, &remote->addr) &&
		    (mp->raddr[i].port == port || (port == 0 && mp->raddr[i].port == 0)))
			ri = (int)i;
	if (ri < 0) {
		/* Not announced: joining an address the peer did not
		 * announce is allowed (RFC 8684 §3.2); its id is unknown. */
		ri = mpt_pm_add_raddr(mp, &remote->addr, port, 0, true);
		if (ri < 0)
			return MPT_ERR_LIMIT;
	}
	mp->tried[li] |= 1u << ri; /* the controller owns this pair now */
	/* The B flag goes on the MP_JOIN SYN itself (RFC 8684 §3.2). */
	mp->open_backup = backup;
	int rc = mpt_mp_open_join(mp, (size_t)li, (size_t)ri, now);
	mp->open_backup = false;
	mpt_mp_dirty(mp);
	return rc;
}

int mpt_pm_api_close(struct mpt_mpconn *mp, const struct mpt_addr *local,
		     const struct mpt_endpoint *remote, uint64_t now)
{
	(void)now;
	if (!pm_api_ok(mp))
		return MPT_ERR_STATE;
	int n = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed || sf->removed)
			continue;
		if (!mpt_addr_equal(&sf->flow->local.addr, local) ||
		    !mpt_addr_equal(&sf->flow->remote.addr, &remote->addr) ||
		    (remote->port && sf->flow->remote.port != remote->port))
			continue;
		/* Closed on purpose: not re-established by the backoff. */
		sf->removed = true;
		mpt_sf_reset(sf, MPT_TCPRST_ADMIN);
		n++;
	}
	mpt_mp_dirty(mp);
	return n > 0 ? n : MPT_ERR_NOTFOUND;
}

int mpt_pm_api_announce(struct mpt_mpconn *mp, const struct mpt_addr *local)
{
	if (!pm_api_ok(mp))
		return MPT_ERR_STATE;
	int li = mpt_stack_local_index(mp->st, local);
	if (li < 0)
		return MPT_ERR_INVAL;
	uint8_t id = (uint8_t)(li + 1);
	for (size_t k = 0; k < mp->nann; k++)
		if (mp->ann[k].id == id)
			return MPT_ERR_EXIST;
	if (mp->nann >= MPT_MAX_LOCAL_ADDRS)
		return MPT_ERR_LIMIT;
	struct mpt_ann *an = &mp->ann[mp->nann++];
	memset(an, 0, sizeof(*an));
	an->addr = *local;
	an->id = id;
	an->pending = true;
	an->rtx_at = MPT_TIME_NEVER;
	mpt_pm_flush(mp);
	mpt_mp_dirty(mp);
	return 0;
}

int mpt_pm_api_withdraw(struct mpt_mpconn *mp, const struct mpt_addr *local, uint64_t now)
{
	if (!pm_api_ok(mp))
		return MPT_ERR_STATE;
	int li = mpt_stack_local_index(mp->st, local);
	if (li < 0)
		return MPT_ERR_INVAL;
	bool used = false;
	for (size_t i = 0; i < mp->nsf; i++)
		used = used || (mp->sf[i]->flow && !mp->sf[i]->closed &&
				mpt_addr_equal(&mp->sf[i]->flow->local.addr, local));
	for (size_t k = 0; k < mp->nann; k++)
		used = used || mp->ann[k].id == (uint8_t)(li + 1);
	if (!used)
		return MPT_ERR_NOTFOUND;
	/* The initial subflow's address has id 0 (RFC 8684 §3.4.2). */
	uint8_t id = mpt_addr_equal(local, &mp->local.addr) ? 0 : (uint8_t)(li + 1);
	mpt_mp_local_removed(mp, local, id, now);
	return 0;
}

int mpt_pm_api_remote(const struct mpt_mpconn *mp, struct mpt_endpoint *out, uint8_t *ids,
		      size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < mp->nraddr; i++) {
		const struct mpt_raddr *r = &mp->raddr[i];
		if (i > 0 && !r->usable)
			continue;
		if (n < max) {
			if (out) {
				out[n].addr = r->addr;
				out[n].port = r->port ? r->port : mp->remote.port;
			}
			if (ids)
				ids[n] = r->id;
		}
		n++;
	}
	return (int)n;
}
