/*
 * MPTCP connections (RFC 8684 v1, RFC 6824 v0): creation (active, passive,
 * joins), keys and tokens, the data-level socket API (send, receive,
 * shutdown, close), DATA_ACK and DATA_FIN, fallback, the run loop that
 * drives subflows, timers and information.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "crypto/crypto.h"
#include "mptcp/mptcp.h"
#include "wire/bytes.h"

#define MP_BUF_MIN     (256u * 1024u)
#define MP_FIN_RTO_MIN (200 * MPT_NS_PER_MS)
#define MP_FIN_RTO_MAX (60 * MPT_NS_PER_S)

int mpt_mp_knobs_fix(struct mpt_mptcp_knobs *k)
{
	if (k->version > MPT_MPTCP_V1)
		return MPT_ERR_INVAL;
	if (k->accept_versions == 0)
		k->accept_versions = MPT_MPTCP_ACCEPT_V0 | MPT_MPTCP_ACCEPT_V1;
	if (k->max_subflows == 0)
		k->max_subflows = 8;
	if (k->max_subflows > MPT_MP_MAX_SF)
		k->max_subflows = MPT_MP_MAX_SF;
	if (k->max_join_pending == 0)
		k->max_join_pending = 8;
	if (k->add_addr_timeout_ns == 0)
		k->add_addr_timeout_ns = 2 * MPT_NS_PER_S;
	return 0;
}

void mpt_mp_dirty(struct mpt_mpconn *mp)
{
	if (mp->in_run)
		mp->again = true;
	else
		mpt_stack_mark_dirty(mp->st, mp);
}

static struct mpt_mpconn *conn_new(struct mpt_stack *st, struct mpt_sock *s,
				   const struct mpt_mptcp_knobs *k, bool passive)
{
	struct mpt_mpconn *mp = mpt_calloc(st->mem, 1, sizeof(*mp));
	if (!mp)
		return NULL;
	mp->scratch = mpt_malloc(st->mem, MPT_MP_MAP_MAX);
	if (!mp->scratch) {
		mpt_free(st->mem, mp);
		return NULL;
	}
	mp->st = st;
	mp->sock = s;
	mp->k = *k;
	mp->passive = passive;
	mp->version = k->version;
	mp->fin_rtx_at = MPT_TIME_NEVER;
	return mp;
}

void mpt_mp_free(struct mpt_mpconn *mp)
{
	if (!mp)
		return;
	struct mpt_stack *st = mp->st;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (sf->flow) {
			sf->flow->sf = NULL;
			mpt_stack_flow_free(st, sf->flow);
		}
		mpt_sf_free(sf);
	}
	if (mp->token_inserted)
		(void)mpt_token_remove(&st->tokens, mp->token_local);
	if (mp->snd_ready) {
		mpt_dsnd_free(&mp->snd);
	}
	if (mp->keys_known)
		mpt_drcv_free(&mp->rcv);
	mpt_free(st->mem, mp->scratch);
	mpt_free(st->mem, mp);
}

static size_t buf_size(uint32_t knob)
{
	/* The data level holds what all subflows have in flight or queued. */
	return 4 * (size_t)MPT_MAX(knob, MP_BUF_MIN);
}

int mpt_mp_set_remote_key(struct mpt_mpconn *mp, uint64_t key)
{
	if (mp->keys_known)
		return key == mp->key_remote ? 0 : MPT_ERR_PROTO;
	uint32_t tok = 0;
	uint64_t idsn = 0;
	if (mpt_key_token_idsn(mp->version, key, &tok, &idsn) < 0)
		return MPT_ERR_PROTO;
	const struct mpt_stack_cfg *c = &mp->st->cfg;
	if (!mp->snd_ready) {
		/* RFC 8684 §3.3.1: the first data byte has DSN IDSN+1. */
		if (mpt_dsnd_init(&mp->snd, mp->st->mem, buf_size(c->tcp.sndbuf),
				  mp->idsn_local + 1) < 0)
			return MPT_ERR_NOMEM;
		mp->snd_ready = true;
		mp->snd_nxt = mp->idsn_local + 1;
	}
	if (mpt_drcv_init(&mp->rcv, mp->st->mem, buf_size(c->tcp.rcvbuf), idsn + 1) < 0)
		return MPT_ERR_NOMEM;
	mp->key_remote = key;
	mp->token_remote = tok;
	mp->idsn_remote = idsn;
	mp->keys_known = true;
	return 0;
}

void mpt_mp_fallback(struct mpt_mpconn *mp, enum mpt_mib_id why)
{
	if (mp->fallback)
		return;
	mpt_mib_inc(&mp->st->mib, why);
	mp->fallback = true;
	if (mp->token_inserted) {
		(void)mpt_token_remove(&mp->st->tokens, mp->token_local);
		mp->token_inserted = false;
	}
	mpt_mp_dirty(mp);
}

static int new_key(struct mpt_mpconn *mp)
{
	struct mpt_stack *st = mp->st;
	int rc = mpt_token_new_key(&st->tokens, mp->version, st->cfg.rand, st->cfg.rand_ud, mp,
				   &mp->key_local, &mp->token_local, &mp->idsn_local);
	if (rc == 0)
		mp->token_inserted = true;
	return rc;
}

static uint32_t rand32(struct mpt_stack *st)
{
	uint8_t b[4];
	st->cfg.rand(b, sizeof(b), st->cfg.rand_ud);
	return mpt_get32(b);
}

int mpt_mp_connect(struct mpt_sock *s, const struct mpt_mptcp_knobs *k, uint64_t now)
{
	struct mpt_stack *st = s->st;
	struct mpt_mpconn *mp = conn_new(st, s, k, false);
	if (!mp)
		return MPT_ERR_NOMEM;
	s->mp = mp;
	int rc = new_key(mp);
	if (rc < 0)
		return rc;
	struct mpt_subflow *sf = mpt_sf_new(mp);
	if (!sf)
		return MPT_ERR_NOMEM;
	sf->join = MPT_SF_INITIAL;
	mp->next_local_id = 1;
	(void)mpt_pm_add_raddr(mp, &s->remote.addr, 0, 0, true);
	rc = mpt_stack_flow_new(st, &s->local, &s->remote, sf, &sf->flow);
	if (rc < 0)
		return rc;
	sf->flow->iss = mpt_stack_flow_isn(st, sf->flow, now);
	sf->iss = sf->flow->iss;
	return mpt_tcp_connect(sf->flow->tcp, sf->iss, now);
}

int mpt_mp_passive(struct mpt_stack *st, struct mpt_sock *lis, const struct mpt_ip_hdr *ip,
		   const struct mpt_tcp_seg *seg, const struct mpt_mptcp_opt *mpc, uint64_t now)
{
	const struct mpt_mptcp_knobs *k = &st->cfg.mptcp;
	mpt_mib_inc(&st->mib, MPT_MIB_MPCapableSYNRX);
	/* RFC 8684 §3.1: answer with the highest version we accept that is
	 * not above the one offered; a newer version than ours is answered
	 * with ours.  B set (unknown extension) or no H: ignore the option. */
	uint8_t offered = mpc->version > MPT_MPTCP_V1 ? MPT_MPTCP_V1 : mpc->version;
	bool parsed = mpc->reason == MPT_MPTCP_R_OK;
	if (!parsed && mpc->version <= MPT_MPTCP_V1)
		return MPT_ERR_UNSUPPORTED;
	uint8_t flags = parsed ? mpc->u.mpc.flags : MPT_MPC_F_H;
	if ((flags & MPT_MPC_F_B) || !(flags & MPT_MPC_F_H)) {
		mpt_mib_inc(&st->mib, MPT_MIB_MPCapableEndpAttempt);
		return MPT_ERR_UNSUPPORTED;
	}
	int v = offered;
	while (v >= 0 && !(k->accept_versions & (1u << v)))
		v--;
	if (v < 0) {
		mpt_mib_inc(&st->mib, MPT_MIB_MPCapableEndpAttempt);
		return MPT_ERR_UNSUPPORTED;
	}
	if (lis->nchildren >= lis->backlog) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPListenOverflows);
		return MPT_ERR_LIMIT;
	}
	struct mpt_sock *s;
	int rc = mpt_stack_child_new(st, lis, ip, seg, &s);
	if (rc < 0)
		return rc;
	struct mpt_mpconn *mp = conn_new(st, s, k, true);
	if (!mp) {
		mpt_stack_sock_discard(st, s);
		return MPT_ERR_NOMEM;
	}
	s->mp = mp;
	mp->version = (uint8_t)v;
	mp->csum = k->checksum || (flags & MPT_MPC_F_A);
	mp->peer_c = (flags & MPT_MPC_F_C) != 0;
	mp->next_local_id = 1;
	struct mpt_subflow *sf = NULL;
	rc = new_key(mp);
	if (rc == 0 && parsed && mpc->u.mpc.form == MPT_MPC_ONEKEY && v == MPT_MPTCP_V0)
		rc = mpt_mp_set_remote_key(mp, mpc->u.mpc.snd_key);
	if (rc == 0) {
		sf = mpt_sf_new(mp);
		rc = sf ? 0 : MPT_ERR_NOMEM;
	}
	if (rc == 0) {
		sf->passive = true;
		sf->join = MPT_SF_INITIAL;
		(void)mpt_pm_add_raddr(mp, &s->remote.addr, 0, 0, !mp->peer_c);
		rc = mpt_stack_flow_new(st, &s->local, &s->remote, sf, &sf->flow);
	}
	if (rc == 0) {
		sf->flow->iss = mpt_stack_flow_isn(st, sf->flow, now);
		sf->iss = sf->flow->iss;
		sf->irs = seg->hdr.seq;
		rc = mpt_tcp_accept(sf->flow->tcp, seg, sf->iss, now);
	}
	if (rc < 0) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPMemoryDrop);
		mpt_stack_sock_discard(st, s);
		return rc;
	}
	return 0;
}

static size_t live_subflows(const struct mpt_mpconn *mp, size_t *pending_joins)
{
	size_t n = 0, p = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (sf->closed || sf->dead || sf->reset_pending)
			continue;
		n++;
		if (sf->join == MPT_SF_JOIN_SYN || sf->join == MPT_SF_JOIN_ACK)
			p++;
	}
	if (pending_joins)
		*pending_joins = p;
	return n;
}

int mpt_mp_join_syn(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
		    const struct mpt_tcp_seg *seg, const struct mpt_mptcp_opt *join, uint64_t now)
{
	mpt_mib_inc(&st->mib, MPT_MIB_MPJoinSynRx);
	struct mpt_mpconn *mp = mpt_token_lookup(&st->tokens, join->u.join.token);
	if (!mp || mp->fallback || mp->closed || !mp->keys_known || mp->app_closed) {
		/* RFC 8684 §3.2: an unknown token gets a RST. */
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinNoTokenFound);
		mpt_stack_send_rst(st, ip, seg, MPT_TCPRST_MPTCP);
		return MPT_ERR_NOTFOUND;
	}
	size_t pending = 0;
	if (live_subflows(mp, &pending) >= mp->k.max_subflows ||
	    pending >= mp->k.max_join_pending || mp->nsf >= MPT_MP_MAX_SF) {
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinRejected);
		mpt_stack_send_rst(st, ip, seg, MPT_TCPRST_RESOURCES);
		return MPT_ERR_LIMIT;
	}
	struct mpt_subflow *sf = mpt_sf_new(mp);
	if (!sf)
		return MPT_ERR_NOMEM;
	sf->passive = true;
	sf->join = MPT_SF_JOIN_SYN;
	sf->remote_id = join->u.join.addr_id;
	sf->peer_backup = join->u.join.backup;
	sf->nonce_remote = join->u.join.nonce;
	sf->nonce_local = rand32(st);
	int li = mpt_stack_local_index(st, &ip->dst);
	sf->local_id = mpt_addr_equal(&ip->dst, &mp->sock->local.addr) ? 0 : (uint8_t)(li + 1);
	struct mpt_endpoint l = {.addr = ip->dst, .port = seg->hdr.dport};
	struct mpt_endpoint r = {.addr = ip->src, .port = seg->hdr.sport};
	int rc = mpt_stack_flow_new(st, &l, &r, sf, &sf->flow);
	if (rc == 0) {
		sf->flow->iss = mpt_stack_flow_isn(st, sf->flow, now);
		sf->iss = sf->flow->iss;
		sf->irs = seg->hdr.seq;
		rc = mpt_tcp_accept(sf->flow->tcp, seg, sf->iss, now);
	}
	if (rc < 0) {
		/* Never reached an engine callback: drop it now. */
		if (sf->flow) {
			mpt_stack_flow_free(st, sf->flow);
			sf->flow = NULL;
		}
		sf->closed = true;
		sf->dead = true;
		mpt_mp_dirty(mp);
		return rc;
	}
	mpt_mp_dirty(mp);
	return 0;
}

/* Open an MP_JOIN subflow from local address index li to remote slot ri. */
int mpt_mp_open_join(struct mpt_mpconn *mp, size_t li, size_t ri, uint64_t now)
{
	struct mpt_stack *st = mp->st;
	struct mpt_subflow *sf = mpt_sf_new(mp);
	if (!sf)
		return MPT_ERR_NOMEM;
	sf->join = MPT_SF_JOIN_SYN;
	sf->nonce_local = rand32(st);
	const struct mpt_addr *la = &st->cfg.local[li];
	sf->local_id = mpt_addr_equal(la, &mp->sock->local.addr) ? 0 : (uint8_t)(li + 1);
	sf->remote_id = mp->raddr[ri].id;
	struct mpt_endpoint l = {.addr = *la, .port = 0};
	struct mpt_endpoint r = {.addr = mp->raddr[ri].addr,
				 .port = mp->raddr[ri].port ? mp->raddr[ri].port
							    : mp->sock->remote.port};
	int rc = mpt_stack_flow_new(st, &l, &r, sf, &sf->flow);
	if (rc == 0) {
		sf->flow->iss = mpt_stack_flow_isn(st, sf->flow, now);
		sf->iss = sf->flow->iss;
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinSynTx);
		rc = mpt_tcp_connect(sf->flow->tcp, sf->iss, now);
	}
	if (rc < 0) {
		sf->closed = true;
		sf->dead = true;
	}
	return rc;
}

/* ---- data level ------------------------------------------------------------ */

uint64_t mpt_mp_rcv_ack(const struct mpt_mpconn *mp)
{
	/* RFC 8684 §3.3.3: the DATA_FIN occupies one DSN; acknowledging it
	 * means DATA_ACK = its DSN + 1. */
	return mp->rcv.nxt + (mp->peer_fin_done ? 1u : 0u);
}

void mpt_mp_data_ack(struct mpt_mpconn *mp, uint64_t ack)
{
	if (!mp->snd_ready)
		return;
	uint64_t top = mp->snd.end + (mp->app_shutdown ? 1u : 0u);
	/* Only (una, top]; an old or impossible DATA_ACK is ignored. */
	if (ack - mp->snd.una > top - mp->snd.una || ack == mp->snd.una)
		return;
	if (mp->app_shutdown && ack == mp->fin_dsn + 1) {
		if (!mp->fin_acked)
			mpt_mp_dirty(mp);
		mp->fin_acked = true;
		mp->fin_rtx_at = MPT_TIME_NEVER;
		ack = mp->fin_dsn;
	}
	size_t n = mpt_dsnd_ack(&mp->snd, ack);
	if (n > 0) {
		mp->bytes_acked += n;
		if (mp->snd_nxt < mp->snd.una)
			mp->snd_nxt = mp->snd.una;
		if (!mp->app_shutdown)
			mp->ev_pending |= MPT_EV_WRITABLE;
		mpt_mp_dirty(mp);
	}
}

void mpt_mp_rx_data_fin(struct mpt_mpconn *mp, uint64_t dsn)
{
	if (mp->peer_fin)
		return;
	mp->peer_fin = true;
	mp->peer_fin_dsn = dsn;
	mpt_mp_dirty(mp);
}

struct mpt_flow *mpt_mp_fallback_flow(const struct mpt_mpconn *mp)
{
	if (!mp->fallback)
		return NULL;
	for (size_t i = 0; i < mp->nsf; i++)
		if (mp->sf[i]->join == MPT_SF_INITIAL)
			return mp->sf[i]->flow;
	return NULL;
}

long mpt_mp_send(struct mpt_mpconn *mp, const void *data, size_t len, uint64_t now)
{
	if (mp->fallback) {
		struct mpt_flow *f = mpt_mp_fallback_flow(mp);
		return f ? mpt_tcp_send(f->tcp, data, len, now) : MPT_ERR_CLOSED;
	}
	if (mp->err)
		return mp->err;
	if (mp->app_shutdown || mp->closed)
		return MPT_ERR_CLOSED;
	if (!data && len)
		return MPT_ERR_INVAL;
	if (!mp->established || !mp->snd_ready)
		return MPT_ERR_AGAIN;
	if (len == 0)
		return 0;
	size_t n = mpt_dsnd_write(&mp->snd, data, len);
	if (n == 0)
		return MPT_ERR_AGAIN;
	mpt_mp_dirty(mp);
	return (long)n;
}

long mpt_mp_recv(struct mpt_mpconn *mp, void *buf, size_t len, uint64_t now)
{
	if (mp->fallback) {
		struct mpt_flow *f = mpt_mp_fallback_flow(mp);
		if (f)
			return mpt_tcp_recv(f->tcp, buf, len, now);
		return mp->sock->err ? mp->sock->err : 0;
	}
	if (!buf && len)
		return MPT_ERR_INVAL;
	if (mp->keys_known) {
		size_t n = mpt_drcv_read(&mp->rcv, buf, len);
		if (n > 0) {
			mpt_mp_dirty(mp); /* room for more subflow bytes */
			return (long)n;
		}
		if (mp->peer_fin_done) {
			mp->rx_eof_read = true;
			return 0;
		}
	}
	if (mp->err)
		return mp->err;
	return MPT_ERR_AGAIN;
}

int mpt_mp_shutdown(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->fallback) {
		struct mpt_flow *f = mpt_mp_fallback_flow(mp);
		return f ? mpt_tcp_shutdown(f->tcp, now) : MPT_ERR_STATE;
	}
	if (!mp->snd_ready || mp->closed)
		return MPT_ERR_STATE;
	if (mp->app_shutdown)
		return 0;
	/* RFC 8684 §3.3.3: DATA_FIN after the last byte written. */
	mp->app_shutdown = true;
	mp->fin_dsn = mp->snd.end;
	mpt_mp_dirty(mp);
	return 0;
}

static void abort_all(struct mpt_mpconn *mp, uint64_t now)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		sf->dead = true;
		if (sf->flow && !sf->closed)
			mpt_tcp_abort(sf->flow->tcp, now);
	}
}

static bool unread_data(const struct mpt_mpconn *mp)
{
	if (mp->keys_known && mpt_drcv_readable(&mp->rcv) > 0)
		return true;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (sf->flow && !sf->closed && mpt_tcp_readable(sf->flow->tcp) > 0)
			return true;
	}
	return false;
}

static void conn_set_closed(struct mpt_mpconn *mp, unsigned ev)
{
	if (mp->closed)
		return;
	mp->closed = true;
	mp->fin_rtx_at = MPT_TIME_NEVER;
	if (mp->sock) {
		mp->sock->tcp_closed = true;
		mp->st->reap_pending = true;
	}
	mp->ev_pending |= ev | MPT_EV_CLOSED;
}

void mpt_mp_close(struct mpt_mpconn *mp, bool abort, uint64_t now)
{
	mp->app_closed = true;
	mp->st->reap_pending = true;
	if (mp->fallback) {
		struct mpt_flow *f = mpt_mp_fallback_flow(mp);
		if (f && !f->tcp_closed) {
			if (abort)
				mpt_tcp_abort(f->tcp, now);
			else
				mpt_tcp_close(f->tcp, now);
		}
		return;
	}
	/* Like TCP's CLOSE (RFC 9293 §3.10.4): unread data means a reset. */
	if (abort || !mp->snd_ready || unread_data(mp)) {
		abort_all(mp, now);
		conn_set_closed(mp, 0);
		return;
	}
	(void)mpt_mp_shutdown(mp, now);
	mpt_mp_dirty(mp);
}

unsigned mpt_mp_events(const struct mpt_mpconn *mp)
{
	unsigned ev = 0;
	if (mp->fallback) {
		struct mpt_flow *f = mpt_mp_fallback_flow(mp);
		if (mp->established)
			ev |= MPT_EV_CONNECTED;
		if (f && mpt_tcp_readable(f->tcp) > 0)
			ev |= MPT_EV_READABLE;
		if (f && mp->established && mpt_tcp_writable(f->tcp) > 0)
			ev |= MPT_EV_WRITABLE;
		if (mp->sock && mp->sock->err)
			ev |= MPT_EV_ERROR | MPT_EV_READABLE;
		if (mp->closed)
			ev |= MPT_EV_CLOSED;
		return ev;
	}
	if (mp->established)
		ev |= MPT_EV_CONNECTED;
	if (mp->keys_known && (mpt_drcv_readable(&mp->rcv) > 0 || mp->peer_fin_done))
		ev |= MPT_EV_READABLE;
	if (mp->established && mp->snd_ready && !mp->app_shutdown && mpt_dsnd_space(&mp->snd) > 0)
		ev |= MPT_EV_WRITABLE;
	if (mp->err)
		ev |= MPT_EV_ERROR | MPT_EV_READABLE;
	if (mp->closed)
		ev |= MPT_EV_CLOSED;
	return ev;
}

/* ---- the run loop ----------------------------------------------------------- */

void mpt_mp_send_ack(struct mpt_subflow *sf, uint64_t now)
{
#ifdef MPT_TCP_HAVE_SEND_ACK
	if (sf->flow && !sf->closed)
		mpt_tcp_send_ack(sf->flow->tcp, now);
#else
	MPT_UNUSED(sf);
	MPT_UNUSED(now);
#endif
}

static struct mpt_subflow *any_usable(struct mpt_mpconn *mp)
{
	struct mpt_subflow *best = NULL;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sf_usable(sf))
			continue;
		if (!best || (best->stale && !sf->stale))
			best = sf;
	}
	return best;
}

/* Free subflows whose engine is done; their data goes elsewhere first. */
static void reap_subflows(struct mpt_mpconn *mp)
{
	size_t w = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->closed) {
			sf->idx = (uint8_t)w;
			mp->sf[w++] = sf;
			continue;
		}
		if (!mp->fallback && !sf->reinjected)
			mpt_sched_reinject_sf(sf);
		if (sf->err)
			mp->err = sf->err;
		if (sf->flow) {
			sf->flow->sf = NULL;
			mpt_stack_flow_free(mp->st, sf->flow);
			sf->flow = NULL;
		}
		mpt_sf_free(sf);
	}
	mp->nsf = w;
}

static void conn_step(struct mpt_mpconn *mp, uint64_t now)
{
	struct mpt_stack *st = mp->st;
	if (mp->fallback) {
		reap_subflows(mp);
		return;
	}
	/* Pending subflow resets (RFC 8684 §3.6: with MP_TCPRST). */
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->reset_pending || sf->dead)
			continue;
		sf->dead = true;
		if (!sf->reinjected)
			mpt_sched_reinject_sf(sf);
		if (sf->flow && !sf->closed) {
			sf->flow->rst_opt = true;
			sf->flow->rst_reason = sf->reset_reason;
			mpt_tcp_abort(sf->flow->tcp, now);
		}
	}
	struct mpt_subflow *initial = NULL;
	for (size_t i = 0; i < mp->nsf; i++)
		if (mp->sf[i]->join == MPT_SF_INITIAL)
			initial = mp->sf[i];
	if (!mp->established && initial && initial->established && mp->keys_known) {
		mp->established = true;
		mp->ready_pending = true;
	}
	/* Subflow bytes -> data level. */
	bool any = false, prog;
	do {
		prog = false;
		for (size_t i = 0; i < mp->nsf; i++)
			if (mpt_sf_drain(mp->sf[i], now))
				prog = true;
		any = any || prog;
	} while (prog);
	if (any)
		mp->ev_pending |= MPT_EV_READABLE;
	if (mp->peer_fin && !mp->peer_fin_done && mp->keys_known &&
	    mp->rcv.nxt == mp->peer_fin_dsn) {
		mp->peer_fin_done = true;
		mpt_mib_inc(&st->mib, MPT_MIB_MPTCPDataFinRx);
		mp->ev_pending |= MPT_EV_READABLE;
		struct mpt_subflow *sf = any_usable(mp);
		if (sf)
			sf->ack_due = true;
	}
	/* Subflows the peer closed: finish them (the data level decides
	 * the connection's fate, RFC 8684 §3.3.3). */
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed || sf->fin_sent)
			continue;
		enum mpt_tcp_state s = mpt_tcp_get_state(sf->flow->tcp);
		if (s == MPT_TCP_CLOSE_WAIT && mpt_tcp_readable(sf->flow->tcp) == 0) {
			if (!sf->reinjected)
				mpt_sched_reinject_sf(sf);
			sf->fin_sent = true;
			mpt_tcp_close(sf->flow->tcp, now);
		}
	}
	/* Retransmission timeouts on a subflow: move its data elsewhere. */
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed)
			continue;
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(sf->flow->tcp, &ti);
		if (ti.bytes_acked > sf->last_bytes_acked) {
			sf->last_bytes_acked = ti.bytes_acked;
			if (sf->stale)
				sf->stale = false;
			sf->reinjected = false;
		}
		/* Sent mappings go once acknowledged at both levels. */
		const struct mpt_map *m;
		uint32_t una_rel = ti.snd_una - sf->iss;
		while ((m = mpt_maplist_first(&sf->tx)) != NULL &&
		       mpt_seq_leq(m->ssn + m->len, una_rel) && m->dsn + m->len <= mp->snd.una)
			mpt_maplist_drop_before(&sf->tx, m->ssn + m->len);
		if (ti.rto_count > sf->last_rto_count) {
			sf->last_rto_count = ti.rto_count;
			if (ti.unacked > 0 && sf->established) {
				sf->stale = true;
				if (!sf->reinjected)
					mpt_sched_reinject_sf(sf);
			}
		}
	}
	reap_subflows(mp);

	/* Close sequence: both DATA_FINs acknowledged (or we closed and ours
	 * is acknowledged) -> close the subflows. */
	if (mp->fin_acked && (mp->peer_fin_done || mp->app_closed)) {
		for (size_t i = 0; i < mp->nsf; i++) {
			struct mpt_subflow *sf = mp->sf[i];
			if (sf->flow && !sf->closed && !sf->fin_sent) {
				if (mpt_tcp_readable(sf->flow->tcp) > 0)
					(void)mpt_sf_drain(sf, now);
				sf->fin_sent = true;
				mpt_tcp_close(sf->flow->tcp, now);
			}
		}
		conn_set_closed(mp, 0);
	}
	if (!mp->closed && mp->nsf == 0) {
		/* Every subflow is gone without a data-level close. */
		if (!mp->err)
			mp->err = mp->established ? MPT_ERR_RESET : MPT_ERR_REFUSED;
		if (mp->sock)
			mp->sock->err = mp->err;
		conn_set_closed(mp, MPT_EV_ERROR | MPT_EV_READABLE);
		return;
	}
	if (mp->closed)
		return;
	if (mp->fully_established && !mp->k.no_pm)
		mpt_pm_run(mp, now);
	mpt_sched_push(mp, now);
	/* A DATA_FIN without data rides on a pure ACK; it is retransmitted
	 * on a timer until DATA_ACKed. */
	if (mp->app_shutdown && !mp->fin_mapped && !mp->fin_acked && mp->snd_nxt == mp->fin_dsn &&
	    mp->n_reinj == 0 && mp->fin_rtx_at == MPT_TIME_NEVER) {
		struct mpt_subflow *sf = any_usable(mp);
		if (sf) {
			struct mpt_tcp_info ti;
			mpt_tcp_get_info(sf->flow->tcp, &ti);
			mpt_mib_inc(&st->mib, MPT_MIB_MPTCPDataFinTx);
			mp->fin_rto = MPT_MAX(ti.rto_ns, MP_FIN_RTO_MIN);
			mp->fin_rtx_at = now + mp->fin_rto;
			sf->ack_due = true;
		}
	}
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (sf->ack_due) {
			sf->ack_due = false;
			mpt_mp_send_ack(sf, now);
		}
	}
}

void mpt_mp_run(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->in_run) {
		mp->again = true;
		return;
	}
	mp->in_run = true;
	for (int iter = 0; iter < 16; iter++) {
		mp->again = false;
		conn_step(mp, now);
		struct mpt_sock *s = mp->sock;
		bool ready = mp->ready_pending;
		unsigned ev = mp->ev_pending;
		mp->ready_pending = false;
		mp->ev_pending = 0;
		if (s && ready)
			mpt_stack_sock_ready(s);
		if (s && ev && (mp->established || (ev & MPT_EV_ERROR)))
			mpt_stack_notify(s, ev);
		if (!mp->again)
			break;
	}
	mp->in_run = false;
}

uint64_t mpt_mp_next_deadline(const struct mpt_mpconn *mp)
{
	if (mp->fallback || mp->closed)
		return MPT_TIME_NEVER;
	uint64_t d = mp->fin_rtx_at, p = mpt_pm_deadline(mp);
	return p < d ? p : d;
}

void mpt_mp_on_timer(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->fallback || mp->closed)
		return;
	if (mp->fin_rtx_at <= now) {
		struct mpt_subflow *sf = any_usable(mp);
		if (sf)
			sf->ack_due = true;
		mp->fin_rto = MPT_MIN(mp->fin_rto * 2, MP_FIN_RTO_MAX);
		mp->fin_rtx_at = now + mp->fin_rto;
	}
	mpt_pm_on_timer(mp, now);
	mpt_mp_dirty(mp);
}

bool mpt_mp_finished(const struct mpt_mpconn *mp)
{
	return mp->nsf == 0 || (mp->fallback && mpt_mp_fallback_flow(mp) == NULL);
}

/* ---- information ---------------------------------------------------------- */

struct mpt_flow *mpt_mp_info_flow(const struct mpt_mpconn *mp)
{
	for (size_t i = 0; i < mp->nsf; i++)
		if (mp->sf[i]->flow && mp->sf[i]->join == MPT_SF_INITIAL)
			return mp->sf[i]->flow;
	for (size_t i = 0; i < mp->nsf; i++)
		if (mp->sf[i]->flow)
			return mp->sf[i]->flow;
	return NULL;
}

int mpt_mp_info(const struct mpt_mpconn *mp, struct mpt_mptcp_info *in)
{
	memset(in, 0, sizeof(*in));
	in->mptcpi_subflows_max = mp->k.max_subflows;
	in->mptcpi_flags = (mp->fallback ? MPT_MPTCP_INFO_FLAG_FALLBACK : 0u) |
			   (mp->keys_known ? MPT_MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED : 0u);
	in->mptcpi_token = mp->token_local;
	in->version = mp->version;
	in->fallback = mp->fallback;
	in->mptcpi_csum_enabled = mp->csum && !mp->fallback;
	in->mptcpi_add_addr_signal = mp->add_addr_signal;
	in->mptcpi_add_addr_accepted = mp->add_addr_accepted;
	in->mptcpi_local_addr_max = (uint8_t)mp->st->cfg.n_local;
	in->reinjected_bytes = mp->reinjected;
	if (mp->snd_ready) {
		in->mptcpi_write_seq = mp->snd.end;
		in->mptcpi_snd_una = mp->snd.una;
	}
	if (mp->keys_known) {
		in->mptcpi_rcv_nxt = mp->rcv.nxt;
		in->mptcpi_bytes_received = mp->rcv.nxt - (mp->idsn_remote + 1);
	}
	in->mptcpi_bytes_acked = mp->bytes_acked;
	uint32_t used = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow)
			continue;
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(sf->flow->tcp, &ti);
		in->mptcpi_retransmits += ti.total_retrans;
		in->mptcpi_bytes_retrans += ti.bytes_retrans;
		in->mptcpi_bytes_sent += ti.bytes_sent;
		bool up = mpt_sf_usable(sf);
		if (up) {
			in->mptcpi_subflows_total++;
			if (sf->join != MPT_SF_INITIAL)
				in->mptcpi_subflows++;
			int li = mpt_stack_local_index(mp->st, &sf->flow->local.addr);
			if (li >= 0)
				used |= 1u << li;
		}
	}
	while (used) {
		in->mptcpi_local_addr_used++;
		used &= used - 1;
	}
	return 0;
}

int mpt_mp_subflows(const struct mpt_mpconn *mp, struct mpt_subflow_info *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow)
			continue;
		if (n < max) {
			struct mpt_subflow_info *o = &out[n];
			struct mpt_tcp_info ti;
			mpt_tcp_get_info(sf->flow->tcp, &ti);
			memset(o, 0, sizeof(*o));
			o->local = sf->flow->local;
			o->remote = sf->flow->remote;
			o->local_id = sf->local_id;
			o->remote_id = sf->remote_id;
			o->backup = sf->backup;
			o->join = sf->join != MPT_SF_INITIAL;
			o->active = mpt_sf_usable(sf);
			snprintf(o->state, sizeof(o->state), "%s", mpt_tcp_state_name(ti.state));
			o->srtt_ns = ti.srtt_ns;
			o->cwnd = ti.snd_cwnd;
			o->bytes_sent = ti.bytes_sent;
			o->bytes_acked = ti.bytes_acked;
			o->bytes_received = ti.bytes_received;
			o->bytes_retrans = ti.bytes_retrans;
			o->retransmits = ti.total_retrans;
		}
		n++;
	}
	return (int)n;
}
