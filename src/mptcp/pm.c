/*
 * The default path manager, "fullmesh" (RFC 8684 §3.4, §3.2): the initiator
 * opens one subflow from each local address to each known remote address
 * (the initial one unless the peer set flag C, plus every ADD_ADDR), up to
 * max_subflows; the listener announces its other local addresses with
 * ADD_ADDR (v1: HMAC, echo, retransmission; v0: no HMAC, no echo).
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
	const struct mpt_addr *mine = &mp->sock->local.addr;
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

void mpt_pm_flush(struct mpt_mpconn *mp)
{
	bool want = mp->necho > 0;
	for (size_t i = 0; i < mp->nann && !want; i++)
		want = mp->ann[i].pending;
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
	return mpt_stack_local_index(mp->st, &mp->sock->local.addr);
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
	if (mp->necho)
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

void mpt_pm_add_addr_rx(struct mpt_subflow *sf, const struct mpt_mptcp_add_addr *a)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	if (a->echo) {
		for (size_t i = 0; i < mp->nann; i++) {
			if (mp->ann[i].id == a->addr_id && !mp->ann[i].echoed) {
				mp->ann[i].echoed = true;
				mp->ann[i].rtx_at = MPT_TIME_NEVER;
				mpt_mib_inc(&st->mib, MPT_MIB_EchoAdd);
			}
		}
		return;
	}
	if (mp->version == MPT_MPTCP_V1) {
		/* RFC 8684 §3.4.1: HMAC(Key of sender || key of receiver,
		 * id || address || port); a wrong one is ignored. */
		uint64_t h = 0;
		uint8_t want[8];
		if (!mp->keys_known ||
		    mpt_hmac_add_addr(mp->key_remote, mp->key_local, a->addr_id, &a->addr,
				      a->has_port ? a->port : 0, &h) < 0) {
			mpt_mib_inc(&st->mib, MPT_MIB_AddAddrDrop);
			return;
		}
		mpt_put64(want, h);
		if (!mpt_crypto_memeq(want, a->hmac, 8)) {
			mpt_mib_inc(&st->mib, MPT_MIB_AddAddrDrop);
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
	for (size_t i = 0; i < mp->nann; i++) {
		struct mpt_ann *a = &mp->ann[i];
		if (!a->pending)
			continue;
		o.u.add_addr.addr_id = a->id;
		o.u.add_addr.addr = a->addr;
		if (mp->version == MPT_MPTCP_V1) {
			uint64_t h = 0;
			if (mpt_hmac_add_addr(mp->key_local, mp->key_remote, a->id, &a->addr, 0,
					      &h) < 0)
				return 0;
			mpt_put64(o.u.add_addr.hmac, h);
		}
		int n = mpt_mptcp_emit(buf, room, &o);
		if (n <= 0)
			return 0;
		a->pending = false;
		if (a->tries == 0) {
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
		uint16_t port = a->port ? a->port : mp->sock->remote.port;
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

void mpt_pm_sf_failed(struct mpt_mpconn *mp, const struct mpt_subflow *sf, uint64_t now)
{
	/* Nothing to re-establish when the connection is ending, when the
	 * address was removed, or when the peer's MP_TCPRST said the problem
	 * is not transient (RFC 8684 §3.6, flag T). */
	if (!sf || mp->passive || mp->closed || mp->fin_acked || mp->app_closed || !mp->sock ||
	    mpt_mp_is_fallback(mp) || mp->fastclose || sf->removed || !sf->flow || sf->fin_sent)
		return;
	if (sf->rst_opt_rx && !(sf->rst_rx_flags & MPT_TCPRST_F_T))
		return;
	mp->pm->sf_failed(mp, sf, now);
}

void mpt_pm_rm_addr_rx(struct mpt_subflow *sf, const struct mpt_mptcp_rm_addr *r)
{
	struct mpt_mpconn *mp = sf->mp;
	struct mpt_stack *st = mp->st;
	mpt_mib_inc(&st->mib, MPT_MIB_RmAddr);
	for (size_t k = 0; k < r->n && k < MPT_MPTCP_MAX_RM_IDS; k++) {
		uint8_t id = r->ids[k];
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
