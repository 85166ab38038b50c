/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP connections (RFC 8684 v1, RFC 6824 v0): creation (active open with
 * its racing initial SYNs, passive open, joins), keys and tokens, the
 * data-level calls behind the socket operations (send, receive, shutdown,
 * close; the operations tables are in sock.c), DATA_ACK and DATA_FIN,
 * data-level retransmission, fallback and the infinite mapping,
 * MP_FASTCLOSE, the run loop that drives subflows in named phases, timers,
 * local addresses that come and go during the connection, path-manager
 * events and information.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "crypto/crypto.h"
#include "mptcp/mptcp.h"
#include "wire/bytes.h"

#define MP_BUF_MIN       (256u * 1024u)
#define MP_FIN_RTO_MIN   (200 * MPT_NS_PER_MS)
#define MP_FIN_RTO_MAX   (60 * MPT_NS_PER_S)
#define MP_DRTX_MIN      (200 * MPT_NS_PER_MS)
#define MP_STALE_BACKOFF 4              /* RTOs in a row without progress: a stale subflow */
#define MP_DRTX_BURST    (256u * 1024u) /* bytes re-sent per data-level timeout */
#define MP_STALL_WND_MIN (8u * 1024u)   /* a window below this is closed (drtx_arm) */

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
	if (k->mpc_syn_tries == 0)
		k->mpc_syn_tries = 2;
	if (k->join_retry_ns == 0)
		k->join_retry_ns = MPT_NS_PER_S;
	if (k->ndiffports == 0)
		k->ndiffports = 2;
	if (k->add_addr_accept_max == 0)
		k->add_addr_accept_max = 8;
	if (k->wnd_share == 0)
		k->wnd_share = MPT_MP_WND_SHARE_DEFAULT;
	if (k->wnd_share > 256)
		return MPT_ERR_INVAL;
	if (k->no_pm)
		snprintf(k->pm, sizeof(k->pm), "none");
	/* External keys: a known mode; a configured key of 16..64 bytes. */
	if (k->ext_keys > MPT_EXT_KEYS_REQUIRE ||
	    (k->ext_key_len != 0 &&
	     (k->ext_key_len < MPT_EXTKEY_KEY_MIN || k->ext_key_len > MPT_EXTKEY_KEY_MAX)))
		return MPT_ERR_INVAL;
	return 0;
}

void mpt_mp_dirty(struct mpt_mpconn *mp)
{
	if (mp->in_run)
		mp->again = true;
	else
		mpt_stack_sock_dirty(mp->sock);
}

static struct mpt_mpconn *conn_new(struct mpt_stack *st, struct mpt_sock *s,
				   const struct mpt_mptcp_knobs *k, bool passive)
{
	struct mpt_mpconn *mp = mpt_calloc(st->mem, 1, sizeof(*mp));
	if (!mp)
		return NULL;
	mp->scratch = mpt_malloc(st->mem, MPT_MP_SCRATCH);
	if (!mp->scratch) {
		mpt_free(st->mem, mp);
		return NULL;
	}
	mp->st = st;
	mp->sock = s;
	mpt_sock_endpoints(s, &mp->local, &mp->remote);
	mp->k = *k;
	mp->passive = passive;
	mp->version = k->version;
	mp->fin_rtx_at = MPT_TIME_NEVER;
	mp->drtx_at = MPT_TIME_NEVER;
	mpt_cc_group_init(&mp->ccg);
	/* Names were checked when the knobs were accepted (stack creation,
	 * mpt_connect_ex); the defaults stand in should one be unknown. */
	char n[MPT_POLICY_NAME_LEN + 1];
	memcpy(n, k->sched, MPT_POLICY_NAME_LEN);
	n[MPT_POLICY_NAME_LEN] = '\0';
	mp->sched = mpt_sched_find(&st->polreg, n);
	if (!mp->sched)
		mp->sched = &mpt_sched_minrtt;
	memcpy(n, k->pm, MPT_POLICY_NAME_LEN);
	mp->pm = mpt_pm_find(&st->polreg, n);
	if (!mp->pm)
		mp->pm = &mpt_pm_fullmesh;
	char c[MPT_CC_NAME_LEN + 1];
	memcpy(c, k->cc, MPT_CC_NAME_LEN);
	c[MPT_CC_NAME_LEN] = '\0';
	mp->cc = c[0] ? mpt_cc_find(&st->ccreg, c) : NULL;
	mp->race_at = MPT_TIME_NEVER;
	mp->mob_failed_li = -1;
	return mp;
}

void mpt_mp_free(struct mpt_mpconn *mp)
{
	if (!mp)
		return;
	struct mpt_stack *st = mp->st;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		mpt_sf_flow_free(sf);
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

size_t mpt_mp_rcvbuf_size(uint32_t knob)
{
	return buf_size(knob ? knob : MP_BUF_MIN);
}

int mpt_mp_set_remote_key(struct mpt_mpconn *mp, uint64_t key)
{
	if (mp->keys_known)
		return key == mp->key_remote ? 0 : MPT_ERR_PROTO;
	uint32_t tok = 0;
	uint64_t idsn = 0;
	if (mpt_key_token_idsn(mp->version, key, &tok, &idsn) < 0)
		return MPT_ERR_PROTO;
	return mpt_mp_set_remote_ids(mp, key, tok, idsn);
}

int mpt_mp_set_remote_ids(struct mpt_mpconn *mp, uint64_t key, uint32_t tok, uint64_t idsn)
{
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

bool mpt_mp_is_fallback(const struct mpt_mpconn *mp)
{
	return mp->fallback || mp->inf_tx || mp->inf_rx;
}

/* Lowest DSN not yet (re)sent. */
static uint64_t unsent_dsn(const struct mpt_mpconn *mp)
{
	uint64_t d = mp->snd_nxt;
	for (size_t i = 0; i < mp->n_reinj; i++)
		d = mpt_dsn_min(d, mpt_dsn_max(mp->reinj[i].dsn, mp->snd.una));
	return d;
}

void mpt_mp_inf_tx(struct mpt_mpconn *mp, struct mpt_subflow *sf, uint64_t dsn)
{
	if (mp->inf_tx || !sf->flow || sf->closed || !mp->snd_ready)
		return;
	/* RFC 8684 §3.7: the infinite mapping starts where the data the
	 * peer is missing starts; data below DATA_ACK is never resent. */
	dsn = mpt_dsn_max(dsn, mp->snd.una);
	dsn = mpt_dsn_min(dsn, mp->snd_nxt);
	mpt_mib_inc(&mp->st->mib, MPT_MIB_InfiniteMapTx);
	mp->inf_tx = true;
	mp->inf_sf = sf;
	mp->inf_tx_ssn = mpt_tcp_snd_write_seq(sf->flow->tcp) - sf->iss;
	mp->inf_tx_dsn = dsn;
	mp->snd_nxt = dsn;
	mp->n_reinj = 0;
	/* From now on the subflow's FIN is the DATA_FIN. */
	mp->fin_mapped = false;
	mp->fin_rtx_at = MPT_TIME_NEVER;
	for (size_t i = 0; i < mp->nsf; i++)
		if (mp->sf[i] != sf)
			mpt_sf_reset(mp->sf[i], MPT_TCPRST_MPTCP);
	mpt_mp_dirty(mp);
}

void mpt_mp_inf_rx(struct mpt_mpconn *mp, struct mpt_subflow *sf, uint32_t ssn, uint64_t dsn)
{
	if (mp->inf_rx)
		return;
	mpt_mib_inc(&mp->st->mib, MPT_MIB_InfiniteMapRx);
	mp->inf_rx = true;
	mp->inf_sf = sf;
	mp->inf_rx_ssn = ssn;
	mp->inf_rx_dsn = dsn;
	mp->fail_pending = false;
	/* RFC 8684 §3.7: after the infinite mapping the connection is plain
	 * TCP in both directions: ours follows with its own. */
	if (!mp->inf_tx && mp->snd_ready)
		mpt_mp_inf_tx(mp, sf, unsent_dsn(mp));
	mpt_mp_dirty(mp);
}

void mpt_mp_fastclose_rx(struct mpt_mpconn *mp, uint64_t key, uint8_t kid, uint64_t now)
{
	MPT_UNUSED(now);
	/* RFC 8684 §3.5: the Option Receiver's Key must be ours; under
	 * external keys the HMAC of the key named by kid (decision 12; none
	 * before the first key: decision 16). */
	uint64_t want = 0;
	if (!mp->keys_known || mpt_mp_fastclose_value(mp, kid, false, &want) < 0 || key != want) {
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPFastcloseRxDrop);
		return;
	}
	mpt_mib_inc(&mp->st->mib, MPT_MIB_MPFastcloseRx);
	mp->fc_rx = true;
	mpt_mp_dirty(mp);
}

void mpt_mp_fallback(struct mpt_mpconn *mp, enum mpt_mib_id why)
{
	if (mp->fallback)
		return;
	if (mp->k.ext_keys == MPT_EXT_KEYS_REQUIRE) {
		/* "External keys or nothing" (docs/external-keys.md): not
		 * plain TCP either.  The initial subflow goes with a reset;
		 * the connection reports the error. */
		mpt_mib_inc(&mp->st->mib, MPT_MIB_ExtKeyRefused);
		for (size_t i = 0; i < mp->nsf; i++)
			if (mp->sf[i]->join == MPT_SF_INITIAL)
				mpt_sf_reset(mp->sf[i], MPT_TCPRST_ADMIN);
		mpt_mp_dirty(mp);
		return;
	}
	mpt_mib_inc(&mp->st->mib, why);
	mp->fallback = true;
	if (mp->token_inserted) {
		(void)mpt_token_remove(&mp->st->tokens, mp->token_local);
		mp->token_inserted = false;
	}
	/* RFC 8684 §3.7: the connection is plain TCP from now on, over the
	 * initial subflow's flow: hand the flow to the socket, which takes
	 * TCP's operations (this connection stays attached for what
	 * mpt_sock_mptcp_info reports).  The subflow object goes. */
	struct mpt_subflow *sf = NULL;
	for (size_t i = 0; i < mp->nsf && !sf; i++)
		if (mp->sf[i]->join == MPT_SF_INITIAL && mp->sf[i]->flow && !mp->sf[i]->closed)
			sf = mp->sf[i];
	if (sf) {
		struct mpt_flow *f = sf->flow;
		/* Plain TCP from here: its engine holds every byte itself. */
		mpt_sf_snd_keep(sf, 0, true, NULL);
		mpt_cc_group_leave(&mp->ccg, mpt_tcp_cc(f->tcp));
		sf->flow = NULL;
		sf->closed = true;
		sf->dead = true;
		mpt_stack_sock_to_tcp(mp->sock, f, &mpt_mptcp_fallback_ops);
	}
	mpt_mp_dirty(mp);
}

static int new_key(struct mpt_mpconn *mp)
{
	struct mpt_stack *st = mp->st;
	if (st->pctx.cookie) {
		/* Rebuilt from a SYN cookie: the key its SYN-ACK carried. */
		mp->key_local = st->pctx.key;
		int rc = mpt_key_token_idsn(mp->version, mp->key_local, &mp->token_local,
					    &mp->idsn_local);
		if (rc == 0)
			rc = mpt_token_insert(&st->tokens, mp->token_local, mp);
		if (rc == 0)
			mp->token_inserted = true;
		return rc;
	}
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
	struct mpt_stack *st = mpt_stack_of(s);
	struct mpt_mpconn *mp = conn_new(st, s, k, false);
	if (!mp)
		return MPT_ERR_NOMEM;
	mpt_stack_sock_attach(s, &mpt_mptcp_sock_ops, mp);
	int rc = new_key(mp);
	if (rc < 0)
		return rc;
	struct mpt_subflow *sf = mpt_sf_new(mp);
	if (!sf)
		return MPT_ERR_NOMEM;
	sf->join = MPT_SF_INITIAL;
	mp->next_local_id = 1;
	(void)mpt_pm_add_raddr(mp, &mp->remote.addr, 0, 0, true);
	rc = mpt_sf_flow_new(sf, &mp->local, &mp->remote);
	if (rc < 0)
		return rc;
	sf->flow->iss = mpt_stack_flow_isn(st, sf->flow, now);
	sf->iss = sf->flow->iss;
	if (k->race && st->cfg.n_local > 1) {
		uint64_t d = k->race_delay_ns ? k->race_delay_ns : st->tcpcfg.rto_initial_ns;
		mp->race_at = now + (d ? d : MPT_NS_PER_S);
		int li = mpt_stack_local_index(st, &mp->local.addr);
		mp->race_next = (uint8_t)(li >= 0 ? li + 1 : 0);
	}
	return mpt_tcp_connect(sf->flow->tcp, sf->iss, now);
}

/*
 * Racing the initial subflow (happy eyeballs for MPTCP): no SYN/ACK after
 * race_delay -> one more MP_CAPABLE SYN, same connection, from the next
 * local address of the remote's family.  Each SYN is a separate attempt at
 * the listener; the first SYN/ACK wins (mpt_mp_race_settle), the others
 * are aborted.
 */
static void race_syn(struct mpt_mpconn *mp, uint64_t now)
{
	struct mpt_stack *st = mp->st;
	mp->race_at = MPT_TIME_NEVER;
	size_t n = st->cfg.n_local;
	for (size_t k = 0; k < n; k++) {
		size_t li = (mp->race_next + k) % n;
		const struct mpt_addr *la = &st->cfg.local[li];
		if (la->family != mp->remote.addr.family || mpt_addr_equal(la, &mp->local.addr) ||
		    mp->nsf >= MPT_MP_MAX_SF)
			continue;
		bool busy = false;
		for (size_t i = 0; i < mp->nsf; i++)
			busy = busy || (mp->sf[i]->flow && !mp->sf[i]->closed &&
					mpt_addr_equal(&mp->sf[i]->flow->local.addr, la));
		if (busy)
			continue;
		struct mpt_subflow *sf = mpt_sf_new(mp);
		if (!sf)
			return;
		sf->join = MPT_SF_INITIAL;
		sf->race = true;
		struct mpt_endpoint l = {.addr = *la, .port = 0};
		int rc = mpt_sf_flow_new(sf, &l, &mp->remote);
		if (rc == 0) {
			sf->flow->iss = mpt_stack_flow_isn(st, sf->flow, now);
			sf->iss = sf->flow->iss;
			rc = mpt_tcp_connect(sf->flow->tcp, sf->iss, now);
		}
		if (rc < 0) {
			sf->closed = true;
			sf->dead = true;
			return;
		}
		mpt_mib_inc(&st->mib, MPT_MIB_MPTCPRaceSyn);
		mp->race_next = (uint8_t)(li + 1);
		uint64_t d = mp->k.race_delay_ns ? mp->k.race_delay_ns : st->tcpcfg.rto_initial_ns;
		mp->race_at = now + (d ? d : MPT_NS_PER_S);
		return;
	}
}

void mpt_mp_race_settle(struct mpt_subflow *win, uint64_t now)
{
	struct mpt_mpconn *mp = win->mp;
	if (mp->race_done)
		return;
	mp->race_done = true;
	mp->race_at = MPT_TIME_NEVER;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *o = mp->sf[i];
		if (o == win || o->join != MPT_SF_INITIAL || !o->flow || o->closed)
			continue;
		/* The losers never reached the connection: no MP_TCPRST, no
		 * retry from the path manager's backoff for this attempt. */
		o->removed = true;
		o->race = true;
		mpt_tcp_abort(o->flow->tcp, now);
	}
	if (win->idx != 0) {
		/* The winner is the connection's initial subflow from now on
		 * (fallback and info use the first one). */
		struct mpt_subflow *first = mp->sf[0];
		mp->sf[0] = win;
		mp->sf[win->idx] = first;
		first->idx = win->idx;
		win->idx = 0;
	}
	if (win->race) {
		mp->local = win->flow->local;
		mpt_stack_sock_set_local(mp->sock, &mp->local);
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPRaceWon);
	}
}

static void send_rst(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
		     const struct mpt_tcp_seg *seg, uint8_t reason)
{
	uint8_t opt[8];
	size_t n = mpt_mp_write_tcprst(opt, sizeof(opt), reason);
	if (n > 0)
		mpt_mib_inc(&st->mib, MPT_MIB_MPRstTx);
	mpt_stack_send_rst(st, ip, seg, opt, n);
}

int mpt_mp_accept_version(struct mpt_stack *st, const struct mpt_mptcp_opt *mpc, uint8_t *flags)
{
	const struct mpt_mptcp_knobs *k = &st->cfg.mptcp;
	/* RFC 8684 §3.1: answer with the highest version we accept that is
	 * not above the one offered; a newer version than ours is answered
	 * with ours.  B set (unknown extension) or no H: ignore the option. */
	uint8_t offered = mpc->version > MPT_MPTCP_V1 ? MPT_MPTCP_V1 : mpc->version;
	bool parsed = mpc->reason == MPT_MPTCP_R_OK;
	if (!parsed && mpc->version <= MPT_MPTCP_V1)
		return MPT_ERR_UNSUPPORTED;
	uint8_t f = parsed ? mpc->u.mpc.flags : MPT_MPC_F_H;
	if ((f & MPT_MPC_F_B) || !(f & MPT_MPC_F_H)) {
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
	*flags = f;
	return v;
}

int mpt_mp_passive(struct mpt_stack *st, struct mpt_sock *lis, const struct mpt_ip_hdr *ip,
		   const struct mpt_tcp_seg *seg, const struct mpt_mptcp_opt *mpc, uint64_t now)
{
	const struct mpt_mptcp_knobs *k = &st->cfg.mptcp;
	mpt_mib_inc(&st->mib, MPT_MIB_MPCapableSYNRX);
	uint8_t flags = 0;
	int v = mpt_mp_accept_version(st, mpc, &flags);
	if (v < 0)
		return v;
	bool parsed = mpc->reason == MPT_MPTCP_R_OK;
	/* External keys (docs/external-keys.md): flag E on a v1 SYN. */
	bool ek = k->ext_keys != MPT_EXT_KEYS_OFF && v == MPT_MPTCP_V1 && parsed &&
		  mpt_ek_syn_offer(seg, flags);
	if (k->ext_keys == MPT_EXT_KEYS_REQUIRE && !ek) {
		mpt_mib_inc(&st->mib, MPT_MIB_ExtKeyRefused);
		send_rst(st, ip, seg, MPT_TCPRST_ADMIN);
		return MPT_ERR_REFUSED;
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
	mpt_stack_sock_attach(s, &mpt_mptcp_sock_ops, mp);
	mp->version = (uint8_t)v;
	mp->csum = k->checksum || (flags & MPT_MPC_F_A);
	mp->peer_c = (flags & MPT_MPC_F_C) != 0;
	mp->next_local_id = 1;
	struct mpt_subflow *sf = NULL;
	rc = new_key(mp);
	if (rc == 0 && ek)
		rc = mpt_ek_start(mp); /* SYN/ACK with our token (draft §4.1) */
	if (rc == 0 && parsed && mpc->u.mpc.form == MPT_MPC_ONEKEY && v == MPT_MPTCP_V0)
		rc = mpt_mp_set_remote_key(mp, mpc->u.mpc.snd_key);
	if (rc == 0) {
		sf = mpt_sf_new(mp);
		rc = sf ? 0 : MPT_ERR_NOMEM;
	}
	if (rc == 0) {
		sf->passive = true;
		sf->join = MPT_SF_INITIAL;
		(void)mpt_pm_add_raddr(mp, &mp->remote.addr, 0, 0, !mp->peer_c);
		rc = mpt_sf_flow_new(sf, &mp->local, &mp->remote);
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

/*
 * An ADD_ADDR invites the peer to join; Linux completes a join only while
 * its connection is ESTABLISHED (mptcp_finish_join), and our DATA_FIN
 * takes it out of that state: a join whose SYN/ACK arrives after our
 * DATA_FIN is reset by the peer with MP_TCPRST, and a peer that uploads
 * after we closed our direction then stays on one path.  So the DATA_FIN
 * waits (the data does not) until such a join had time to complete.  The
 * peer echoes an ADD_ADDR (v1) when its path manager takes it, which is
 * when it sends the join's SYN: the echo's round trip measures the path
 * the SYN/ACK must travel too, and needs no RTT sample (a server that only
 * receives has none).  Held until every announcement is echoed, then one
 * more announcement round trip plus FIN_HOLD_SLACK; v0 has no echo: two
 * of the slowest subflow's smoothed RTTs (FIN_HOLD_NO_RTT without a
 * sample) plus the slack.  Never more than FIN_HOLD_MAX after the last
 * ADD_ADDR.  Returns the end of the hold when it still runs at now, else 0.
 */
#define FIN_HOLD_SLACK  (10 * MPT_NS_PER_MS)
#define FIN_HOLD_NO_RTT (100 * MPT_NS_PER_MS)
#define FIN_HOLD_MAX    (1000 * MPT_NS_PER_MS)
uint64_t mpt_mp_fin_hold(const struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->ann_tx_at == 0 || now >= mp->ann_tx_at + FIN_HOLD_MAX)
		return 0;
	uint64_t until;
	if (mp->version == MPT_MPTCP_V1) {
		for (size_t i = 0; i < mp->nann; i++)
			if (mp->ann[i].tries > 0 && !mp->ann[i].echoed)
				return mp->ann_tx_at + FIN_HOLD_MAX;
		uint64_t rtt =
		    mp->ann_echo_at > mp->ann_tx_at ? mp->ann_echo_at - mp->ann_tx_at : 0;
		until = MPT_MAX(mp->ann_echo_at, mp->ann_tx_at) + rtt + FIN_HOLD_SLACK;
	} else {
		uint64_t srtt = 0;
		for (size_t i = 0; i < mp->nsf; i++) {
			const struct mpt_subflow *sf = mp->sf[i];
			if (!sf->flow || sf->closed || !sf->established)
				continue;
			struct mpt_tcp_info ti;
			mpt_tcp_get_info(sf->flow->tcp, &ti);
			srtt = MPT_MAX(srtt, ti.srtt_ns);
		}
		until = mp->ann_tx_at + (srtt ? 2 * srtt : FIN_HOLD_NO_RTT) + FIN_HOLD_SLACK;
	}
	until = MPT_MIN(until, mp->ann_tx_at + FIN_HOLD_MAX);
	return now < until ? until : 0;
}

size_t mpt_mp_live_subflows(const struct mpt_mpconn *mp, size_t *pending_joins)
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

/* A stateless reset with MP_TCPRST (RFC 8684 §3.6). */

/* The connection a join may attach to, or NULL. */
static struct mpt_mpconn *join_conn(struct mpt_stack *st, uint32_t token)
{
	struct mpt_mpconn *mp = mpt_token_lookup(&st->tokens, token);
	if (!mp || mpt_mp_is_fallback(mp) || mp->closed || !mp->keys_known || mp->app_closed ||
	    mp->fastclose)
		return NULL;
	return mp;
}

/*
 * RFC 8684 §3.7: once a checksum failed on the only subflow (our MP_FAIL
 * is out) or an infinite mapping is under way, the connection goes on as
 * plain TCP on that subflow: no new subflow.  A join accepted meanwhile
 * got the MP_FAIL too and the peer took it for its infinite mapping
 * (soak seed 763).  Refused for good (no T flag).
 */
static bool join_single_path(const struct mpt_mpconn *mp)
{
	return mp->fail_pending || mp->inf_tx || mp->inf_rx;
}

/* Established subflows (and joins we opened still half-open) against
 * max_subflows: a received join counts only once its third ACK came. */
static bool join_room(const struct mpt_mpconn *mp)
{
	size_t pending = 0;
	size_t live = mpt_mp_live_subflows(mp, &pending);
	return live - pending < mp->k.max_subflows && mp->nsf < MPT_MP_MAX_SF;
}

/* Our SYN/ACK for join record r: MP_JOIN with our B flag, address id,
 * R_B and HMAC-B = HMAC(Key-B||Key-A, R-B||R-A), leftmost 64 bits
 * (RFC 8684 §3.2; RFC 6824 §3.2 for v0, same layout). */
static int join_synack(struct mpt_mpconn *mp, struct mpt_join_rec *r, uint64_t now)
{
	r->synack_at = now;
	if (r->synacks < UINT8_MAX)
		r->synacks++;
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.subtype = MPT_MPTCP_MP_JOIN;
	o.version = mp->version;
	o.u.join.form = MPT_JOIN_SYNACK;
	o.u.join.backup = r->backup;
	o.u.join.addr_id = r->local_id;
	o.u.join.nonce = r->nonce_local;
	o.key_id = mp->ek.on ? r->key_id : 0; /* draft §4.3: the SYN's K */
	uint64_t h = 0;
	int rc = mpt_mp_join_hmac64(mp, r->key_id, true, r->nonce_local, r->nonce_remote, &h);
	if (rc < 0)
		return rc;
	mpt_put64(o.u.join.hmac, h);
	uint8_t ext[MPT_TCP_MAX_OPT_LEN];
	int n = mpt_mptcp_emit(ext, sizeof(ext), &o);
	if (n <= 0)
		return MPT_ERR_NOSPACE;
	return mpt_stack_joinrec_synack(mp->st, r, ext, (size_t)n, now);
}

int mpt_mp_join_syn(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
		    const struct mpt_tcp_seg *seg, const struct mpt_mptcp_opt *join, uint64_t now)
{
	mpt_mib_inc(&st->mib, MPT_MIB_MPJoinSynRx);
	struct mpt_mpconn *mp = join_conn(st, join->u.join.token);
	if (!mp) {
		/* RFC 8684 §3.2: an unknown token gets a RST. */
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinNoTokenFound);
		send_rst(st, ip, seg, MPT_TCPRST_MPTCP);
		return MPT_ERR_NOTFOUND;
	}
	if (join_single_path(mp)) {
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinRejected);
		send_rst(st, ip, seg, MPT_TCPRST_ADMIN);
		return MPT_ERR_STATE;
	}
	uint8_t kid = 0;
	if (mp->ek.on) {
		/* External keys (draft §4.3): a join names its key with K; none
		 * naming a key we lack.  A key still pending here counts: the
		 * peer opens joins once it has our NEW_KEY, which may still be
		 * on its way to us on a busier path, and the third ACK's HMAC
		 * proves the peer holds the key. */
		struct mpt_mptcp_opt jk;
		if (mpt_mp_find_opt_ext(seg, MPT_MPTCP_MP_JOIN, MPT_MPTCP_V1, MPT_MPTCP_EXT_EXTKEY,
					&jk) < 0 ||
		    !mpt_ek_has_key(mp, jk.key_id)) {
			mpt_mib_inc(&st->mib, MPT_MIB_ExtKeyJoinRefused);
			send_rst(st, ip, seg, MPT_TCPRST_MPTCP);
			return MPT_ERR_STATE;
		}
		kid = jk.key_id;
	}
	/* Nothing to offer when the connection is at its limit already (it
	 * is checked again at the third ACK, which is what counts). */
	if (!join_room(mp)) {
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinRejected);
		send_rst(st, ip, seg, MPT_TCPRST_RESOURCES);
		return MPT_ERR_LIMIT;
	}
	struct mpt_endpoint l = {.addr = ip->dst, .port = seg->hdr.dport};
	struct mpt_endpoint rm = {.addr = ip->src, .port = seg->hdr.sport};
	struct mpt_join_rec *r = mpt_stack_joinrec_find(st, &l, &rm, now);
	if (r && r->irs == seg->hdr.seq && r->token == join->u.join.token &&
	    r->nonce_remote == join->u.join.nonce) {
		/* The initiator's SYN again: our SYN/ACK (or its answer) was
		 * lost.  The same SYN/ACK again, from the record; records
		 * never retransmit on their own (RFC 4987 §3.6, as cookies). */
		return join_synack(mp, r, now);
	}
	if (r) /* another SYN on this 4-tuple: it starts over */
		mpt_stack_joinrec_free(st, r);
	r = mpt_stack_joinrec_new(st, ip, seg, now);
	if (!r)
		return MPT_ERR_LIMIT; /* counted (MPJoinRecFull); the peer retries */
	if (mp->passive && !mp->dack_sent) {
		/* The peer's first join can come before we sent anything after
		 * the third ACK (an upload that has not started, no ADD_ADDR).
		 * The peer is fully established only once our DSS has reached
		 * it (RFC 8684 §3.1), and Linux resets its own join whose
		 * SYN/ACK finds the connection not fully established
		 * (MP_TCPRST "MPTCP-specific error", no counter).  A DATA_ACK
		 * on the initial subflow goes out first. */
		for (size_t i = 0; i < mp->nsf; i++)
			if (mp->sf[i]->join == MPT_SF_INITIAL)
				mpt_mp_send_ack(mp->sf[i], now);
	}
	r->token = join->u.join.token;
	r->key_id = kid;
	r->remote_id = join->u.join.addr_id;
	r->peer_backup = join->u.join.backup;
	r->nonce_remote = join->u.join.nonce;
	r->nonce_local = rand32(st);
	int li = mpt_stack_local_index(st, &ip->dst);
	r->local_id = mpt_addr_equal(&ip->dst, &mp->local.addr) ? 0 : (uint8_t)(li + 1);
	/* Our B flag in the SYN/ACK (RFC 8684 §3.2): a backup address. */
	r->backup = li >= 0 && (st->cfg.local_flags[li] & MPT_LOCAL_BACKUP) != 0;
	int rc = join_synack(mp, r, now);
	if (rc < 0)
		mpt_stack_joinrec_free(st, r);
	return rc;
}

/* The subflow of join record r, whose third ACK seg checked out: an
 * engine in SYN-RECEIVED as if it had answered the SYN (its own SYN/ACK
 * is not sent: the record's went), then handed the third ACK. */
static int join_create(struct mpt_mpconn *mp, const struct mpt_join_rec *r,
		       const struct mpt_tcp_seg *seg, uint64_t now)
{
	struct mpt_stack *st = mp->st;
	uint8_t raw[MPT_TCP_HDR_LEN + MPT_TCP_MAX_OPT_LEN];
	struct mpt_tcp_seg syn;
	int rc = mpt_stack_joinrec_syn(r, raw, sizeof(raw), &syn);
	if (rc < 0)
		return rc;
	struct mpt_subflow *sf = mpt_sf_new(mp);
	if (!sf)
		return MPT_ERR_NOMEM;
	sf->passive = true;
	sf->join = MPT_SF_JOIN_SYN;
	sf->remote_id = r->remote_id;
	sf->peer_backup = r->peer_backup;
	sf->nonce_remote = r->nonce_remote;
	sf->nonce_local = r->nonce_local;
	sf->ek_kid = r->key_id;
	sf->local_id = r->local_id;
	sf->backup = r->backup;
	sf->created_at = r->created_at;
	memset(&st->pctx, 0, sizeof(st->pctx));
	st->pctx.cookie = true; /* ISN and timestamp clock: the record's */
	st->pctx.mute = true;
	st->pctx.iss = r->iss;
	st->pctx.ts_offset = r->ts_offset;
	rc = mpt_sf_flow_new(sf, &r->local, &r->remote);
	if (rc == 0) {
		sf->flow->iss = r->iss;
		sf->iss = r->iss;
		sf->irs = r->irs;
		/* As if the engine had sent the record's SYN/ACK: the third
		 * ACK is then its RTT sample (RFC 6298 §2), unless several
		 * SYN/ACKs went out (Karn's rule: then none is taken). */
		rc = mpt_tcp_accept(sf->flow->tcp, &syn, sf->iss,
				    r->synacks == 1 ? r->synack_at : now);
	}
	memset(&st->pctx, 0, sizeof(st->pctx));
	if (rc < 0) {
		/* Never reached an engine callback: drop it now. */
		if (sf->flow)
			mpt_sf_flow_free(sf);
		sf->closed = true;
		sf->dead = true;
		mpt_mp_dirty(mp);
		return rc;
	}
	struct mpt_flow *f = sf->flow;
	if (r->synacks != 1)
		mpt_tcp_skip_handshake_rtt(f->tcp);
	(void)mpt_tcp_input(f->tcp, seg, now); /* HMAC-A checked again, fourth ACK */
	mpt_sf_kick(f);
	mpt_mp_dirty(mp);
	return 0;
}

int mpt_mp_join_ack(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
		    const struct mpt_tcp_seg *seg, uint64_t now, bool *handled)
{
	*handled = false;
	struct mpt_endpoint l = {.addr = ip->dst, .port = seg->hdr.dport};
	struct mpt_endpoint rm = {.addr = ip->src, .port = seg->hdr.sport};
	struct mpt_join_rec *r = mpt_stack_joinrec_find(st, &l, &rm, now);
	struct mpt_mptcp_opt j;
	bool has = mpt_mp_find_opt(seg, MPT_MPTCP_MP_JOIN, MPT_MPTCP_V1, &j) == 0 &&
		   j.u.join.form == MPT_JOIN_ACK;
	if (!r) {
		if (!has)
			return MPT_ERR_NOTFOUND; /* not ours: a stray ACK */
		/* A third ACK for a join we never answered, or answered too
		 * long ago: refused as the subflow it names does not exist. */
		*handled = true;
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinAckNoRecord);
		send_rst(st, ip, seg, MPT_TCPRST_MPTCP);
		return MPT_ERR_NOTFOUND;
	}
	*handled = true;
	if (seg->hdr.ack != r->iss + 1) {
		/* RFC 9293 §3.10.7.4 (SYN-RECEIVED): an unacceptable ACK gets
		 * a RST; the record stays for the real initiator. */
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinAckBadSeq);
		mpt_stack_send_rst(st, ip, seg, NULL, 0);
		return MPT_ERR_PROTO;
	}
	struct mpt_mpconn *mp = join_conn(st, r->token);
	if (!mp) {
		/* The connection went (or can no longer take joins) since
		 * the SYN. */
		mpt_stack_joinrec_free(st, r);
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinNoTokenFound);
		send_rst(st, ip, seg, MPT_TCPRST_MPTCP);
		return MPT_ERR_NOTFOUND;
	}
	/* RFC 8684 §3.2: HMAC-A = HMAC(Key-A||Key-B, R-A||R-B), all 160
	 * bits; "If the HMAC does not match, the subflow MUST be closed
	 * with a RST": here nothing was created for it. */
	uint8_t want[MPT_CRYPTO_JOIN_ACK_LEN];
	if (has && mp->ek.on &&
	    (mpt_mp_find_opt_ext(seg, MPT_MPTCP_MP_JOIN, MPT_MPTCP_V1, MPT_MPTCP_EXT_EXTKEY, &j) <
		 0 ||
	     j.key_id != r->key_id))
		has = false; /* the third ACK names another key than its SYN */
	if (!has ||
	    mpt_mp_join_hmac160(mp, r->key_id, false, r->nonce_remote, r->nonce_local, want) < 0 ||
	    !mpt_crypto_memeq(want, j.u.join.hmac, sizeof(want))) {
		mpt_stack_joinrec_free(st, r);
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinAckHMacFailure);
		send_rst(st, ip, seg, MPT_TCPRST_MPTCP);
		return MPT_ERR_PROTO;
	}
	if (join_single_path(mp)) {
		mpt_stack_joinrec_free(st, r);
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinRejected);
		send_rst(st, ip, seg, MPT_TCPRST_ADMIN);
		return MPT_ERR_STATE;
	}
	/* The subflow limit applies now: only a join that completes takes
	 * an established subflow's place. */
	if (!join_room(mp)) {
		mpt_stack_joinrec_free(st, r);
		mpt_mib_inc(&st->mib, MPT_MIB_MPJoinRejected);
		send_rst(st, ip, seg, MPT_TCPRST_RESOURCES);
		return MPT_ERR_LIMIT;
	}
	struct mpt_join_rec copy = *r;
	mpt_stack_joinrec_free(st, r);
	int rc = join_create(mp, &copy, seg, now);
	if (rc < 0) {
		mpt_mib_inc(&st->mib, MPT_MIB_TCPMemoryDrop);
		send_rst(st, ip, seg, MPT_TCPRST_RESOURCES);
	}
	return rc;
}

/* Open an MP_JOIN subflow from local address index li to remote slot ri. */
int mpt_mp_open_join(struct mpt_mpconn *mp, size_t li, size_t ri, uint64_t now)
{
	struct mpt_stack *st = mp->st;
	/* External keys: no join before the first key is active. */
	if (!mpt_ek_keyed(mp))
		return MPT_ERR_STATE;
	struct mpt_subflow *sf = mpt_sf_new(mp);
	if (!sf)
		return MPT_ERR_NOMEM;
	sf->join = MPT_SF_JOIN_SYN;
	sf->ek_kid = mpt_ek_kid(mp);
	sf->nonce_local = rand32(st);
	const struct mpt_addr *la = &st->cfg.local[li];
	sf->local_id = mpt_addr_equal(la, &mp->local.addr) ? 0 : (uint8_t)(li + 1);
	sf->remote_id = mp->raddr[ri].id;
	/* RFC 8684 §3.2: the B flag of MP_JOIN: a backup local address. */
	sf->backup = (st->cfg.local_flags[li] & MPT_LOCAL_BACKUP) != 0 || mp->open_backup;
	struct mpt_endpoint l = {.addr = *la, .port = 0};
	struct mpt_endpoint r = {.addr = mp->raddr[ri].addr,
				 .port = mp->raddr[ri].port ? mp->raddr[ri].port : mp->remote.port};
	int rc = mpt_sf_flow_new(sf, &l, &r);
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

void mpt_mp_data_ack(struct mpt_mpconn *mp, uint64_t ack, const struct mpt_subflow *by,
		     const uint32_t *by_ack)
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
	/* Bytes the subflows still read from the buffer go to their rings
	 * first (mpt_sf_snd_keep). */
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		mpt_sf_snd_keep(sf, ack, false, sf == by ? by_ack : NULL);
	}
	size_t n = mpt_dsnd_ack(&mp->snd, ack);
	if (n > 0) {
		mp->bytes_acked += n;
		if (mpt_dsn_lt(mp->snd_nxt, mp->snd.una))
			mp->snd_nxt = mp->snd.una;
		if (!mp->app_shutdown)
			mp->ev_pending |= MPT_EV_WRITABLE;
		mpt_mp_dirty(mp);
	}
}

void mpt_mp_rx_data_fin(struct mpt_mpconn *mp, uint64_t dsn)
{
	if (mp->peer_fin_done || !mp->keys_known || !mp->rcv.buf)
		return; /* the first DATA_FIN that completed the stream stays */
	/*
	 * RFC 8684 §3.3.3: the DATA_FIN takes the DSN after the peer's last
	 * byte.  Valid only inside the data-level window we offered,
	 * [DATA_ACK, read + cap], and not before data already received; a
	 * later valid one replaces an earlier one that has not completed the
	 * stream (a DATA_FIN injected at a bogus DSN must not latch and hide
	 * the real one; issue 10 bug 8).
	 */
	uint64_t lim = mp->rcv.read + mp->rcv.cap;
	bool held_beyond =
	    mp->rcv.nranges > 0 && mpt_dsn_gt(mp->rcv.ranges[mp->rcv.nranges - 1].end, dsn);
	if (mpt_dsn_lt(dsn, mp->rcv.nxt) || mpt_dsn_gt(dsn, lim) || held_beyond) {
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataFinDrop);
		return;
	}
	mp->peer_fin = true;
	mp->peer_fin_dsn = dsn;
	mpt_mp_dirty(mp);
}

long mpt_mp_send(struct mpt_mpconn *mp, const void *data, size_t len, uint64_t now)
{
	MPT_UNUSED(now);
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
	MPT_UNUSED(now);
	if (!buf && len)
		return MPT_ERR_INVAL;
	if (mp->keys_known) {
		size_t n = mpt_drcv_read(&mp->rcv, buf, len);
		if (n > 0) {
			/* Room for more subflow bytes, and a larger window to
			 * tell the peer about (mpt_sf_rcv_space). */
			mp->win_check = true;
			mpt_mp_dirty(mp);
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
	MPT_UNUSED(now);
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

/*
 * RFC 8684 §3.5 MP_FASTCLOSE: the abrupt close of the whole connection.
 * RST form: every subflow is reset with MP_FASTCLOSE (and MP_TCPRST) on
 * its RST.  ACK form: MP_FASTCLOSE rides on pure ACKs of one subflow
 * (retransmitted until the peer's RST, at most three times, then a RST
 * with it), the other subflows are reset at once.
 */
static void fastclose(struct mpt_mpconn *mp, uint64_t now)
{
	struct mpt_subflow *keep = NULL;
	if (mp->k.fastclose_ack)
		for (size_t i = 0; i < mp->nsf && !keep; i++)
			if (mpt_sf_usable(mp->sf[i]))
				keep = mp->sf[i];
	mp->fastclose = true;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (sf == keep || !sf->flow || sf->closed)
			continue;
		sf->dead = true;
		sf->rst_opt = true;
		sf->rst_reason = MPT_TCPRST_UNSPEC;
		sf->rst_fastclose = !keep;
		mpt_tcp_abort(sf->flow->tcp, now);
	}
	if (keep) {
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(keep->flow->tcp, &ti);
		mp->fastclose_ack = true;
		mp->fc_sf = keep;
		mp->fc_tries = 1;
		mp->fc_rtx_at = now + MPT_MAX(ti.rto_ns, MP_FIN_RTO_MIN);
		keep->dead = true;
		mpt_mp_send_ack(keep, now);
	}
}

static bool unread_data(const struct mpt_mpconn *mp)
{
	if (mp->keys_known && mpt_drcv_readable(&mp->rcv) > 0)
		return true;
	/* After the peer's DATA_FIN the whole stream is at the data level:
	 * what a subflow still holds is no data of it (mpt_sf_drain discards
	 * it on the next run), not unread data worth a reset. */
	if (mp->peer_fin_done)
		return false;
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
		mpt_stack_sock_done(mp->sock);
	}
	mp->ev_pending |= ev | MPT_EV_CLOSED;
	if (mp->pm_created)
		mpt_mp_pm_event(mp, MPT_PM_EV_CLOSED, NULL, NULL, 0, mp->err);
}

void mpt_mp_close(struct mpt_mpconn *mp, bool abort, uint64_t now)
{
	mp->app_closed = true;
	mpt_stack_reap_later(mp->sock);
	if (mp->inf_tx || mp->inf_rx) {
		/* Fallen back mid-connection: the subflow is the connection. */
		struct mpt_subflow *sf = mp->inf_sf;
		if (abort || unread_data(mp)) {
			abort_all(mp, now);
			conn_set_closed(mp, 0);
		} else {
			(void)mpt_mp_shutdown(mp, now);
			mpt_mp_dirty(mp);
		}
		MPT_UNUSED(sf);
		return;
	}
	/* RFC 8684 §3.5: an abort of an MPTCP connection is MP_FASTCLOSE. */
	if (abort && mp->keys_known && mp->established && !mp->closed) {
		fastclose(mp, now);
		conn_set_closed(mp, 0);
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
		if (!mpt_mp_is_fallback(mp) && !sf->reinjected)
			mpt_sched_reinject_sf(sf);
		/* One subflow's failure is not the connection's: it only
		 * matters when it was the last one (below). */
		if (sf->err)
			mp->last_sf_err = sf->err;
		mp->orphan_ok = sf->local_gone;
		if (sf == mp->inf_sf)
			mp->inf_sf = NULL;
		if (sf == mp->fail_sf) {
			/* Its data is reinjected on the others: no MP_FAIL
			 * is owed any more. */
			mp->fail_sf = NULL;
			mp->fail_pending = false;
		}
		if (sf == mp->fc_sf)
			mp->fc_sf = NULL;
		if (sf == mp->fin_sf)
			mp->fin_sf = NULL;
		if (!mp->fallback)
			mpt_pm_sf_failed(mp, sf, mp->st->now);
		if (sf->was_done || sf->join == MPT_SF_JOIN_DONE)
			mpt_mp_pm_event(mp, MPT_PM_EV_SF_CLOSED, sf, NULL, 0, sf->err);
		mpt_sf_flow_free(sf);
		mpt_sf_free(sf);
	}
	/* The last subflow gone: the socket may be done (mpt_mp_finished). */
	if (w == 0 && mp->nsf > 0)
		mpt_stack_reap_later(mp->sock);
	mp->nsf = w;
}

/* Fallen back mid-connection: DATA_ACK from the subflow's ACK. */
static void inf_data_ack(struct mpt_mpconn *mp)
{
	struct mpt_subflow *sf = mp->inf_sf;
	if (!mp->inf_tx || !sf || !sf->flow || !mp->snd_ready)
		return;
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(sf->flow->tcp, &ti);
	uint32_t una = ti.snd_una - sf->iss;
	uint64_t ack = mp->snd.una;
	/* Bytes before the infinite mapping keep their explicit mappings;
	 * none counts beyond the infinite mapping's DSN (after MP_FAIL the
	 * peer dropped them and they are sent again). */
	size_t n = mpt_maplist_count(&sf->tx);
	for (size_t i = 0; i < n; i++) {
		const struct mpt_map *m = mpt_maplist_at(&sf->tx, i);
		if (!mpt_seq_leq(m->ssn + m->len, una))
			break;
		if (mpt_seq_lt(m->ssn, mp->inf_tx_ssn))
			ack = mpt_dsn_max(ack, mpt_dsn_min(m->dsn + m->len, mp->inf_tx_dsn));
	}
	if (mpt_seq_geq(una, mp->inf_tx_ssn)) {
		ack = mpt_dsn_max(ack, mp->inf_tx_dsn + (uint32_t)(una - mp->inf_tx_ssn));
		mp->inf_tx_acked = true; /* the peer has the infinite mapping */
	}
	ack = mpt_dsn_min(ack, mp->snd.end);
	if (mpt_dsn_gt(ack, mp->snd.una))
		mpt_mp_data_ack(mp, ack, NULL, NULL);
	/* Our FIN (= DATA_FIN) acknowledged. */
	if (mp->app_shutdown && sf->fin_sent && !mp->fin_acked && ti.snd_una == ti.snd_nxt &&
	    mp->snd.una == mp->snd.end &&
	    (ti.state == MPT_TCP_FIN_WAIT_2 || ti.state == MPT_TCP_TIME_WAIT ||
	     ti.state == MPT_TCP_CLOSED)) {
		mp->fin_acked = true;
		mpt_mp_dirty(mp);
	}
}

static void inf_step(struct mpt_mpconn *mp, uint64_t now)
{
	struct mpt_subflow *sf = mp->inf_sf;
	inf_data_ack(mp);
	if (!sf || !sf->flow || sf->closed)
		return;
	/* The peer's FIN after all its data: that is its DATA_FIN. */
	enum mpt_tcp_state s = mpt_tcp_get_state(sf->flow->tcp);
	if (!mp->peer_fin && mp->keys_known && mpt_tcp_readable(sf->flow->tcp) == 0 &&
	    mp->rcv.nranges == 0 &&
	    (s == MPT_TCP_CLOSE_WAIT || s == MPT_TCP_LAST_ACK || s == MPT_TCP_CLOSING ||
	     s == MPT_TCP_TIME_WAIT))
		mpt_mp_rx_data_fin(mp, mp->rcv.nxt);
	/* Our DATA_FIN is the subflow's FIN, once every byte is queued. */
	if (mp->inf_tx && mp->app_shutdown && !sf->fin_sent && mp->snd_nxt == mp->snd.end) {
		sf->fin_sent = true;
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataFinTx);
		(void)mpt_tcp_shutdown(sf->flow->tcp, now);
	}
}

/* The data-level RTO: the largest subflow RTO (the data may sit behind
 * the slowest path), at least MP_DRTX_MIN; doubled per firing.  The
 * subflows' RTOs before their backoff: a path whose retransmissions keep
 * failing backs off towards a minute, and the data level, which exists to
 * route around it, would wait as long (soak seed 747: a 66-byte
 * resegmenting path held DATA_ACK for 60 s at a time while two healthy
 * paths idled). */
static uint64_t drtx_rto(const struct mpt_mpconn *mp)
{
	uint64_t rto = MP_DRTX_MIN;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sf_usable(sf))
			continue;
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(sf->flow->tcp, &ti);
		rto = MPT_MAX(rto, ti.rto_base_ns);
	}
	rto = MPT_MIN(rto, MP_FIN_RTO_MAX);
	for (uint8_t i = 0; i < mp->drtx_n && rto < MP_FIN_RTO_MAX; i++)
		rto *= 2;
	return MPT_MIN(rto, MP_FIN_RTO_MAX);
}

/*
 * RFC 8684 §3.3.3: a DATA_FIN that rode on a mapping is retransmitted
 * until DATA_ACKed, like the data.  Once every byte before it is DATA_ACKed
 * but it is not, nothing else sends it again: the peer dropped it (it
 * arrived before its data fitted the window, and a receiver may ignore a
 * DATA_FIN it cannot place), or it went on a subflow that then failed
 * (reinjection only moves data bytes).
 */
static bool drtx_fin_only(const struct mpt_mpconn *mp)
{
	return mp->app_shutdown && mp->fin_mapped && !mp->fin_acked && mp->snd_nxt == mp->fin_dsn &&
	       mp->snd.una == mp->fin_dsn;
}

/* A closed window is the peer's choice (a paused reader), not a stall: the
 * clock of stall_timeout starts when it opens.  Closed is also a window of
 * a few segments only: receivers avoid offering less than a segment (RFC
 * 9293 §3.8.6.2.2) but may keep what is left of the last offer. */
static bool wnd_closed(const struct mpt_mpconn *mp)
{
	return mp->wnd_known && !mpt_dsn_gt(mp->wnd_end, mp->snd.una + MP_STALL_WND_MIN);
}

/*
 * RFC 8684 §3.3.6: a sender keeps data until it is DATA_ACKed and may
 * retransmit it at the data level.  A receiver may acknowledge a segment
 * at the subflow level and still drop its payload at the data level (the
 * Linux receiver does so for data beyond its data-level window:
 * MPTcpExtNoDSSInWindow); no subflow will ever send those bytes again, so
 * without this timer DATA_ACK stops at the hole for good.  Armed while
 * mapped data is not DATA_ACKed; restarted whenever DATA_ACK moves.
 */
static void drtx_arm(struct mpt_mpconn *mp, uint64_t now)
{
	bool outstanding =
	    mp->snd_ready && !mp->inf_tx && (mp->snd_nxt != mp->snd.una || drtx_fin_only(mp));
	if (!outstanding) {
		mp->drtx_at = MPT_TIME_NEVER;
		mp->drtx_n = 0;
		return;
	}
	if (mp->drtx_at == MPT_TIME_NEVER || mp->drtx_una != mp->snd.una) {
		if (mp->drtx_una != mp->snd.una)
			mp->drtx_n = 0;
		mp->drtx_una = mp->snd.una;
		mp->drtx_at = now + drtx_rto(mp);
		mp->drtx_since = now;
	}
	if (wnd_closed(mp))
		mp->drtx_since = now;
}

/* Whether a subflow acknowledged the byte at DATA_ACK: the peer holds it
 * and does not deliver it (not a path losing it: the subflow's own
 * recovery and its timeouts handle that). */
static bool head_delivered(const struct mpt_mpconn *mp)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed)
			continue;
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(sf->flow->tcp, &ti);
		uint32_t una_rel = ti.snd_una - sf->iss;
		size_t n = mpt_maplist_count(&sf->tx);
		for (size_t k = 0; k < n; k++) {
			const struct mpt_map *m = mpt_maplist_at(&sf->tx, k);
			if (m->len == 0 || !mpt_dsn_in(mp->snd.una, m->dsn, m->len))
				continue;
			uint32_t pos = m->ssn + (uint32_t)(mp->snd.una - m->dsn);
			if (mpt_seq_lt(pos, una_rel))
				return true;
		}
	}
	return false;
}

/*
 * DATA_ACK has not moved for stall_timeout while data was outstanding, the
 * peer's window open (drtx_arm) and the byte at DATA_ACK acknowledged by
 * a subflow (drtx_fire): the peer takes our segments at the subflow level
 * and delivers nothing.  Linux 6.18 does that for good once
 * out-of-order data filled its receive buffer (docs/mptcp-design.md, "The
 * Linux receiver's memory").  Fail the connection as TCP fails one whose
 * retransmissions go unanswered (RFC 9293 §3.8.3, R2): the application
 * gets an error rather than waiting forever, the peer an MP_FASTCLOSE
 * (RFC 8684 §3.5).
 */
static bool drtx_stalled(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->k.stall_timeout_ns == 0 || now - mp->drtx_since < mp->k.stall_timeout_ns)
		return false;
	mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataStall);
	mp->err = MPT_ERR_TIMEDOUT;
	if (mp->keys_known && mp->established)
		fastclose(mp, now);
	else
		abort_all(mp, now);
	if (mp->sock)
		mpt_stack_sock_set_error(mp->sock, mp->err);
	mp->drtx_at = MPT_TIME_NEVER;
	conn_set_closed(mp, MPT_EV_ERROR | MPT_EV_READABLE);
	return true;
}

/*
 * The peer's window is zero (DATA_ACK + window, RFC 8684 §3.3.4) and a
 * subflow already probes it: its engine holds bytes its own zero window
 * keeps back, so its persist timer sends one at a time (RFC 9293
 * §3.8.6.1), and the peer's answer on that subflow carries DATA_ACK and
 * the window.  A copy of the byte at DATA_ACK on another subflow would
 * only start a second probe schedule there (its window is as closed).
 */
static bool zero_wnd_probed(const struct mpt_mpconn *mp)
{
	if (!mp->wnd_known || mpt_dsn_gt(mp->wnd_end, mp->snd.una))
		return false;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sf_usable(sf))
			continue;
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(sf->flow->tcp, &ti);
		if (ti.snd_wnd == 0 && ti.sndbuf_used > ti.unacked)
			return true;
	}
	return false;
}

static void drtx_fire(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->drtx_at > now)
		return;
	if (!mp->snd_ready || mp->inf_tx || !any_usable(mp) ||
	    (mp->snd_nxt == mp->snd.una && !drtx_fin_only(mp))) {
		mp->drtx_at = MPT_TIME_NEVER;
		return;
	}
	/* The stall clock runs only while the peer holds the byte at
	 * DATA_ACK with its window open (checked at each firing too: the
	 * connection may not have run since the window closed). */
	if (!drtx_fin_only(mp) && (wnd_closed(mp) || !head_delivered(mp)))
		mp->drtx_since = now;
	if (drtx_stalled(mp, now))
		return;
	if (drtx_fin_only(mp)) {
		/* Only the DATA_FIN is missing: it leaves bare (SSN 0, length
		 * 1) and from now on on the bare DATA_FIN's own timer
		 * (phase_send, mpt_mp_on_timer) until DATA_ACKed. */
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataRtx);
		mp->fin_mapped = false;
		mp->fin_rtx_at = MPT_TIME_NEVER;
		mp->drtx_at = MPT_TIME_NEVER;
		mp->drtx_n = 0;
		return;
	}
	/*
	 * The byte at DATA_ACK still in flight on a live subflow (its mapping
	 * not yet acknowledged there): that subflow's own recovery (RFC 6298,
	 * RFC 8985) resends it, and a copy queued behind it on the same path
	 * only doubles the load of a path already losing packets.  The
	 * timer is for data a subflow delivered and the peer dropped.
	 * rescue_head and the subflow-failure reinjection cover slow or dead
	 * holders.  Not a holder in retransmission backoff: its own recovery
	 * already failed at least once and its next try may be a minute
	 * away; the data goes elsewhere now (§3.3.6).
	 */
	const struct mpt_map *hm = NULL;
	struct mpt_subflow *h = mpt_sched_holder(mp, mp->snd.una, &hm);
	struct mpt_tcp_info ti;
	bool live_holder = false;
	if (h && mpt_sf_usable(h)) {
		mpt_tcp_get_info(h->flow->tcp, &ti);
		live_holder = ti.backoff == 0;
	}
	if (live_holder) {
		/* With DSS checksums the receiver takes none of a mapping
		 * before all of it arrived (§3.3.1): the whole mapping is in
		 * flight, unless the window closed on it (then the hole may
		 * be what keeps it closed). */
		uint32_t una_rel = ti.snd_una - h->iss;
		uint32_t pos = hm->ssn + (uint32_t)(mp->snd.una - hm->dsn);
		bool flying = mpt_seq_geq(pos, una_rel) || (mp->csum && ti.snd_wnd > 0 &&
							    mpt_seq_gt(hm->ssn + hm->len, una_rel));
		if (flying) {
			mp->drtx_at = now + drtx_rto(mp);
			return;
		}
	}
	if (zero_wnd_probed(mp)) {
		if (mp->drtx_n < 16)
			mp->drtx_n++;
		mp->drtx_at = now + drtx_rto(mp);
		return;
	}
	/* Re-send from DATA_ACK (new mappings, same DSNs; the scheduler
	 * picks the best subflow), at most MP_DRTX_BURST bytes per firing
	 * and never beyond the peer's window. */
	uint64_t end = mpt_dsn_min(mp->snd_nxt, mp->snd.una + MP_DRTX_BURST);
	end = mpt_dsn_min(end, mpt_dsn_max(mpt_sched_wnd_edge(mp), mp->snd.una + 1));
	mpt_sched_reinject_range(mp, mp->snd.una, end);
	mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataRtx);
	if (mp->drtx_n < 16)
		mp->drtx_n++;
	mp->drtx_una = mp->snd.una;
	mp->drtx_at = now + drtx_rto(mp);
}

#define MP_ORPHAN_GRACE (30 * MPT_NS_PER_S)

/*
 * The last subflow closed because its local address went away (a link
 * down, mobility): unlike the kernel, keep the connection for up to
 * MP_ORPHAN_GRACE while the path manager opens a subflow from another local
 * address of the peer's family - break before make.  Not for a listener's
 * connection (it cannot open subflows), nor without a path manager.
 */
static bool orphan_wait(struct mpt_mpconn *mp, uint64_t now)
{
	if (!mp->orphan_ok || mp->passive || !mp->fully_established || mpt_mp_is_fallback(mp) ||
	    mp->app_closed || mp->fastclose || mp->nraddr == 0 || !mp->raddr[0].usable ||
	    mp->pm == &mpt_pm_none)
		return false;
	bool other = false;
	const struct mpt_stack_cfg *c = &mp->st->cfg;
	for (size_t i = 0; i < c->n_local && !other; i++)
		other = c->local[i].family == mp->raddr[0].addr.family;
	if (!other)
		return false;
	if (mp->orphan_until == 0)
		mp->orphan_until = now + MP_ORPHAN_GRACE;
	return now < mp->orphan_until;
}

/*
 * Buffers a finished direction no longer needs go at once rather than
 * when the last subflow leaves TIME-WAIT (2 MSL later): the data-level
 * send buffer once everything is DATA_ACKed (or the connection is gone);
 * the receive buffer once the peer's DATA_FIN is in and the application
 * read everything (or closed).
 */
static void conn_release(struct mpt_mpconn *mp)
{
	if (mp->fallback)
		return;
	if (mp->snd_ready && mp->snd.buf &&
	    (mp->closed || (mp->fin_acked && mp->snd.una == mp->snd.end))) {
		for (size_t i = 0; i < mp->nsf; i++)
			mpt_sf_snd_keep(mp->sf[i], 0, true, NULL);
		mpt_dsnd_free(&mp->snd);
		mp->snd_nxt = mp->snd.end;
		mp->n_reinj = 0;
		/* Not the subflows' lists of sent mappings: a subflow may still
		 * hold bytes its peer has not acknowledged at the TCP level (data
		 * reinjected and DATA_ACKed elsewhere, a zero-window probe byte),
		 * and TCP sends them again until it has; each such segment must
		 * carry its mapping (RFC 8684 §3.3.1), or Linux resets the subflow
		 * (MP_TCPRST) and Wireshark flags "No mapping available".  They
		 * go as TCP acknowledges them (phase_health) or with the
		 * subflow. */
	}
	if (mp->keys_known && mp->rcv.buf &&
	    ((mp->peer_fin_done && mp->rcv.read == mp->rcv.nxt) ||
	     (mp->closed && (mp->app_closed || !mp->sock))))
		mpt_drcv_free(&mp->rcv);
	/* Both directions done: no more copies through the scratch buffer
	 * (sending and draining check snd/rcv first, and nothing is left). */
	if (mp->scratch && mp->snd_ready && !mp->snd.buf && mp->keys_known && !mp->rcv.buf) {
		mpt_free(mp->st->mem, mp->scratch);
		mp->scratch = NULL;
	}
}

/*
 * The run loop in phases, in this order each time the connection is run
 * (mpt_mp_run): what the peer and the engines did is taken in first, then
 * the connection decides, then it sends.
 */

/* RFC 8684 §3.5: MP_FASTCLOSE received: reset every subflow, the
 * connection is gone (no DATA_FIN exchange). */
static void phase_fastclose_rx(struct mpt_mpconn *mp, uint64_t now)
{
	if (!mp->fc_rx || mp->closed)
		return;
	abort_all(mp, now);
	mp->err = MPT_ERR_RESET;
	if (mp->sock)
		mpt_stack_sock_set_error(mp->sock, mp->err);
	conn_set_closed(mp, MPT_EV_ERROR | MPT_EV_READABLE);
}

/* Pending subflow resets (RFC 8684 §3.6: with MP_TCPRST). */
static void phase_resets(struct mpt_mpconn *mp, uint64_t now)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->reset_pending || sf->dead)
			continue;
		sf->dead = true;
		if (!sf->reinjected)
			mpt_sched_reinject_sf(sf);
		if (sf->flow && !sf->closed) {
			sf->rst_opt = true;
			sf->rst_reason = sf->reset_reason;
			mpt_tcp_abort(sf->flow->tcp, now);
		}
	}
}

/* The handshake finished: report it (once), and the path-manager events of
 * the connection's establishment. */
static void phase_established(struct mpt_mpconn *mp)
{
	struct mpt_subflow *initial = NULL;
	for (size_t i = 0; i < mp->nsf && !initial; i++)
		if (mp->sf[i]->join == MPT_SF_INITIAL)
			initial = mp->sf[i]; /* the first: a race's winner is sf[0] */
	if (!mp->established && initial && initial->established && mp->keys_known) {
		mp->established = true;
		mp->ready_pending = true;
	}
	if (mp->established && !mp->pm_created && !mpt_mp_is_fallback(mp)) {
		mp->pm_created = true;
		mpt_mp_pm_event(mp, MPT_PM_EV_CREATED, initial, NULL, 0, 0);
	}
	if (mp->pm_created && mp->fully_established && !mp->pm_established &&
	    !mpt_mp_is_fallback(mp)) {
		mp->pm_established = true;
		mpt_mp_pm_event(mp, MPT_PM_EV_ESTABLISHED, initial, NULL, 0, 0);
	}
}

/* Subflow bytes -> data level; larger windows after the application read. */
static void phase_receive(struct mpt_mpconn *mp, uint64_t now)
{
	/* Bytes a subflow put in the data level during its input count as
	 * progress too (mpt_sf_rcv_direct). */
	bool any = mp->rx_direct, prog;
	mp->rx_direct = false;
	do {
		prog = false;
		for (size_t i = 0; i < mp->nsf; i++)
			if (mpt_sf_drain(mp->sf[i], now))
				prog = true;
		any = any || prog;
	} while (prog);
	if (mp->win_check) {
		/* The application read data-level bytes: every subflow's
		 * advertised window may grow (RFC 8684 §3.3.4: the window is
		 * the connection's, and each subflow's own ACKs carry it). */
		mp->win_check = false;
		for (size_t i = 0; i < mp->nsf; i++)
			if (mpt_sf_usable(mp->sf[i]))
				mpt_tcp_window_check(mp->sf[i]->flow->tcp, now);
	}
	if (any)
		mp->ev_pending |= MPT_EV_READABLE;
}

/* The peer's DATA_FIN: discarded when data arrived past it, done once every
 * byte before it is in (RFC 8684 §3.3.3). */
static void phase_data_fin_rx(struct mpt_mpconn *mp)
{
	if (!mp->peer_fin || mp->peer_fin_done)
		return;
	if (mpt_dsn_gt(mp->rcv.nxt, mp->peer_fin_dsn) ||
	    (mp->rcv.nranges > 0 &&
	     mpt_dsn_gt(mp->rcv.ranges[mp->rcv.nranges - 1].end, mp->peer_fin_dsn))) {
		/* Data arrived past that DATA_FIN: it was not the real one. */
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataFinDrop);
		mp->peer_fin = false;
		return;
	}
	if (mp->keys_known && mp->rcv.nxt == mp->peer_fin_dsn) {
		mp->peer_fin_done = true;
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataFinRx);
		mp->ev_pending |= MPT_EV_READABLE;
		struct mpt_subflow *sf = any_usable(mp);
		if (sf)
			sf->ack_due = true;
	}
}

/* Subflows the peer closed: finish them (the data level decides the
 * connection's fate, RFC 8684 §3.3.3). */
static void phase_peer_closed(struct mpt_mpconn *mp, uint64_t now)
{
	for (size_t i = 0; i < mp->nsf && !(mp->inf_tx || mp->inf_rx); i++) {
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
}

/* Each subflow's health: progress, staleness, retransmission timeouts (its
 * data moves elsewhere), and sent mappings acknowledged at both levels. */
static void phase_health(struct mpt_mpconn *mp, uint64_t now)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed)
			continue;
		/* (the light accessor: this runs for every subflow at every
		 * step, where mpt_tcp_get_info was a tenth of the fuzzers'
		 * time) */
		struct mpt_tcp_progress ti;
		mpt_tcp_get_progress(sf->flow->tcp, &ti);
		if (mpt_sf_usable(sf))
			mp->orphan_until = 0; /* a subflow works again */
		/*
		 * The clock also starts when data went out, outside our
		 * steps, on a subflow that had nothing outstanding at the end
		 * of the previous step (note_outstanding): "nothing received
		 * for an RTO while data is out" counts from when the data
		 * went out, not from the last segment received.  A
		 * zero-window probe (RFC 9293 §3.8.6.1), sent by the
		 * subflow's persist timer, leaves at least an RTO after the
		 * last segment from the peer by design: counted from there,
		 * every probe made its subflow stale the moment it left, its
		 * byte was reinjected on another subflow, whose persist timer
		 * started over without backoff, and the probes went out every
		 * RTO for as long as the window stayed shut (issue 10;
		 * RFC 1122 §4.2.2.17 asks for exponential backoff).
		 */
		bool went_out = ti.unacked > 0 && sf->last_unacked == 0;
		if (ti.bytes_acked > sf->last_bytes_acked || ti.unacked == 0 || went_out ||
		    sf->progress_at == 0 || !sf->established) {
			/* (a subflow's clock starts when it is seen first,
			 * and again when its handshake completes) */
			sf->last_bytes_acked = ti.bytes_acked;
			sf->progress_at = now;
			if (sf->stale)
				sf->stale = false;
			sf->reinjected = false;
		}
		/* Nothing received for a whole RTO while data is out: the
		 * subflow is stale now, without waiting for its retransmission
		 * timer (which a tail loss probe pushes back by up to 2 RTTs,
		 * RFC 8985 §7): backups take over within one RTO.  Segments
		 * still arriving (window updates from a peer that does not
		 * read: zero window) mean a live path, not a dead one. */
		if (ti.last_rcv_ns > sf->progress_at)
			sf->progress_at = ti.last_rcv_ns;
		if (ti.unacked > 0 && sf->established && !sf->stale && ti.rto_ns > 0 &&
		    now - sf->progress_at >= ti.rto_ns) {
			sf->stale = true;
			if (!sf->reinjected)
				mpt_sched_reinject_sf(sf);
		}
		/* Sent mappings go once acknowledged at both levels. */
		const struct mpt_map *m;
		uint32_t una_rel = ti.snd_una - sf->iss;
		while ((m = mpt_maplist_first(&sf->tx)) != NULL &&
		       mpt_seq_leq(m->ssn + m->len, una_rel) &&
		       mpt_dsn_leq(m->dsn + m->len, mp->snd.una))
			mpt_maplist_drop_before(&sf->tx, m->ssn + m->len);
		/* Retransmission timeouts in a row without progress: stale
		 * even though the peer's segments still arrive (duplicate
		 * ACKs of a path that delivers nothing new; Linux's
		 * net.mptcp.stale_loss_cnt, 4 by default).  Its data and new
		 * data may then go to the backups (RFC 8684 §3.3.8): soak
		 * seed 747's regular path, cut into 66-byte pieces, held
		 * DATA_ACK for a minute at a time while two backups idled. */
		if (ti.backoff >= MP_STALE_BACKOFF && ti.unacked > 0 && sf->established &&
		    !sf->stale) {
			sf->stale = true;
			if (!sf->reinjected)
				mpt_sched_reinject_sf(sf);
		}
		if (ti.rto_count > sf->last_rto_count) {
			sf->last_rto_count = ti.rto_count;
			/* Its outstanding data may go elsewhere at once (the
			 * subflow recovers at one segment per RTT).  But a
			 * timeout on a path that still delivers the peer's
			 * segments is a loss, not a dead path: only a silent one
			 * (nothing for half an RTO) is stale, else one tail loss
			 * would send traffic to the backups. */
			if (ti.unacked > 0 && sf->established) {
				if (now - ti.last_rcv_ns >= ti.rto_ns / 2)
					sf->stale = true;
				if (!sf->reinjected)
					mpt_sched_reinject_sf(sf);
			}
		}
	}
}

/* Close sequence: both DATA_FINs acknowledged (or we closed and ours is
 * acknowledged) -> close the subflows. */
static void phase_close(struct mpt_mpconn *mp, uint64_t now)
{
	if (!mp->fin_acked || !(mp->peer_fin_done || mp->app_closed) || mp->closed)
		return;
	if (mp->peer_fin_done && !mp->final_ack_sent) {
		/* DATA_ACK the peer's DATA_FIN before the subflow FINs (which
		 * carry no option), preferably where our own DATA_FIN went:
		 * its mapping covers that position. */
		struct mpt_subflow *a =
		    mp->fin_sf && mpt_sf_usable(mp->fin_sf) ? mp->fin_sf : any_usable(mp);
		if (a) {
			a->ack_due = false;
			mpt_mp_send_ack(a, now);
		}
	}
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

/* No subflow left.  Returns false when the connection failed for good. */
static bool phase_subflowless(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->closed || mp->nsf > 0 || orphan_wait(mp, now))
		return true; /* (orphaned: the path manager opens one below) */
	/* Every subflow is gone without a data-level close. */
	if (!mp->err)
		mp->err = mp->last_sf_err   ? mp->last_sf_err
			  : mp->established ? MPT_ERR_RESET
					    : MPT_ERR_REFUSED;
	if (mp->sock)
		mpt_stack_sock_set_error(mp->sock, mp->err);
	conn_set_closed(mp, MPT_EV_ERROR | MPT_EV_READABLE);
	return false;
}

static void send_due_acks(struct mpt_mpconn *mp, uint64_t now)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (sf->ack_due) {
			sf->ack_due = false;
			mpt_mp_send_ack(sf, now);
		}
	}
}

/* Path manager, scheduler, data-level retransmission, a bare DATA_FIN
 * (RFC 8684 §3.3.3: on a pure ACK, retransmitted on a timer until
 * DATA_ACKed), the ACKs owed. */
static void phase_send(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->fully_established && !mpt_mp_is_fallback(mp) && mpt_ek_keyed(mp))
		mpt_pm_run(mp, now);
	mpt_sched_push(mp, now);
	drtx_arm(mp, now);
	if (mp->app_shutdown && !mp->fin_mapped && !mp->fin_acked && mp->snd_nxt == mp->fin_dsn &&
	    mp->n_reinj == 0 && mp->fin_rtx_at == MPT_TIME_NEVER && !mp->inf_tx &&
	    mpt_mp_fin_hold(mp, now) == 0) {
		struct mpt_subflow *sf = any_usable(mp);
		if (sf) {
			struct mpt_tcp_info ti;
			mpt_tcp_get_info(sf->flow->tcp, &ti);
			mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPDataFinTx);
			mp->fin_rto = MPT_MAX(ti.rto_ns, MP_FIN_RTO_MIN);
			mp->fin_rtx_at = now + mp->fin_rto;
			mp->fin_bare_due = true;
			sf->ack_due = true;
		}
	}
	send_due_acks(mp, now);
}

/* What each subflow has outstanding as a step ends (see phase_health). */
static void note_outstanding(struct mpt_mpconn *mp)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed)
			continue;
		struct mpt_tcp_progress ti;
		mpt_tcp_get_progress(sf->flow->tcp, &ti);
		sf->last_unacked = ti.unacked;
	}
}

static void conn_step(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->fallback) {
		reap_subflows(mp);
		return;
	}
	phase_fastclose_rx(mp, now);
	phase_resets(mp, now);
	phase_established(mp);
	mpt_ek_auto(mp, now);
	phase_receive(mp, now);
	phase_data_fin_rx(mp);
	if (mp->inf_tx || mp->inf_rx)
		inf_step(mp, now);
	phase_peer_closed(mp, now);
	phase_health(mp, now);
	reap_subflows(mp);
	phase_close(mp, now);
	if (!phase_subflowless(mp, now))
		return;
	if (mp->closed) {
		send_due_acks(mp, now); /* e.g. the DATA_ACK of a retransmitted DATA_FIN */
		note_outstanding(mp);
		return;
	}
	phase_send(mp, now);
	note_outstanding(mp);
}

/* Rounds of one mpt_mp_run call: each round's work can ask for another
 * (mp->again); a connection that keeps asking must not hold the caller. */
#define MP_RUN_ROUNDS 16

void mpt_mp_run(struct mpt_mpconn *mp, uint64_t now)
{
	if (mp->in_run) {
		mp->again = true;
		return;
	}
	mp->in_run = true;
	int iter;
	for (iter = 0; iter < MP_RUN_ROUNDS; iter++) {
		mp->again = false;
		conn_step(mp, now);
		conn_release(mp);
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
	if (iter == MP_RUN_ROUNDS) {
		/* Still work to do after the round budget: not dropped, it
		 * runs in the stack's next round (which is due at once). */
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPRunDeferred);
		mpt_mp_dirty(mp);
	}
}

uint64_t mpt_mp_next_deadline(const struct mpt_mpconn *mp)
{
	if (mp->fastclose_ack && mp->fc_sf)
		return mp->fc_rtx_at;
	if (mp->fallback || mp->closed)
		return MPT_TIME_NEVER;
	uint64_t d = mp->fin_rtx_at, p = mpt_pm_deadline(mp);
	d = p < d ? p : d;
	if (mp->app_shutdown && !mp->fin_mapped && !mp->fin_acked) {
		/* the end of the DATA_FIN's hold (the connection's clock) */
		uint64_t h = mpt_mp_fin_hold(mp, mp->st->now);
		if (h != 0 && h < d)
			d = h;
	}
	d = mp->race_at < d ? mp->race_at : d;
	p = mpt_ek_deadline(mp);
	d = p < d ? p : d;
	if (mp->nsf == 0 && mp->orphan_until != 0 && mp->orphan_until < d)
		d = mp->orphan_until;
	/* when a subflow with data out would turn stale (mpt_mp_run) */
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed || sf->stale || !sf->established)
			continue;
		struct mpt_tcp_progress ti;
		mpt_tcp_get_progress(sf->flow->tcp, &ti);
		uint64_t since = MPT_MAX(sf->progress_at, ti.last_rcv_ns);
		if (ti.unacked > 0 && ti.rto_ns > 0 && since + ti.rto_ns < d)
			d = since + ti.rto_ns;
	}
	return mp->drtx_at < d ? mp->drtx_at : d;
}

void mpt_mp_on_timer(struct mpt_mpconn *mp, uint64_t now)
{
	mpt_mp_dirty(mp); /* staleness is checked in mpt_mp_run */
	if (mp->race_at <= now && !mp->race_done && !mp->closed)
		race_syn(mp, now);
	if (mp->fastclose_ack && mp->fc_sf && mp->fc_rtx_at <= now) {
		struct mpt_subflow *sf = mp->fc_sf;
		if (mp->fc_tries >= 3 || !sf->flow || sf->closed) {
			/* No RST from the peer: reset with MP_FASTCLOSE. */
			mp->fc_sf = NULL;
			if (sf->flow && !sf->closed) {
				sf->rst_fastclose = true;
				mpt_tcp_abort(sf->flow->tcp, now);
			}
		} else {
			mp->fc_tries++;
			mp->fc_rtx_at = now + (MP_FIN_RTO_MIN << mp->fc_tries);
			mpt_mp_send_ack(sf, now);
		}
		mpt_mp_dirty(mp);
		return;
	}
	if (mp->fallback || mp->closed)
		return;
	if (mp->fin_rtx_at <= now) {
		struct mpt_subflow *sf = any_usable(mp);
		if (sf)
			sf->ack_due = true;
		mp->fin_bare_due = true;
		mp->fin_rto = MPT_MIN(mp->fin_rto * 2, MP_FIN_RTO_MAX);
		mp->fin_rtx_at = now + mp->fin_rto;
	}
	drtx_fire(mp, now);
	mpt_pm_on_timer(mp, now);
	mpt_ek_on_timer(mp, now);
	mpt_mp_dirty(mp);
}

bool mpt_mp_finished(const struct mpt_mpconn *mp)
{
	return mp->nsf == 0;
}

bool mpt_mp_evict_tw(struct mpt_mpconn *mp)
{
	/* Only a connection closed at the data level whose subflows are all
	 * closed or in TIME-WAIT: nothing of it can still carry data. */
	if (!mp->closed)
		return false;
	bool any = false;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (sf->closed || !sf->flow || sf->flow->tcp_closed)
			continue;
		if (mpt_tcp_get_state(sf->flow->tcp) != MPT_TCP_TIME_WAIT)
			return false;
		any = true;
	}
	if (!any)
		return false;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->closed && sf->flow && !sf->flow->tcp_closed)
			mpt_stack_flow_retire(mp->st, sf->flow);
	}
	return true;
}

/* ---- address changes during the connection (RFC 6897 §5.3) --------------- */

void mpt_mp_local_removed(struct mpt_mpconn *mp, const struct mpt_addr *a, uint8_t id, uint64_t now)
{
	MPT_UNUSED(now);
	if (mpt_mp_is_fallback(mp) || mp->closed)
		return;
	struct mpt_stack *st = mp->st;
	bool used = false;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed || !mpt_addr_equal(&sf->flow->local.addr, a))
			continue;
		used = true;
		if (sf->removed)
			continue;
		sf->removed = true;
		sf->local_gone = true;
		mpt_mib_inc(&st->mib, MPT_MIB_RmSubflow);
		mpt_sf_reset(sf, MPT_TCPRST_ADMIN);
	}
	/* Stop announcing it. */
	for (size_t i = 0; i < mp->nann; i++) {
		if (mp->ann[i].id != id)
			continue;
		used = used || mp->ann[i].tries > 0;
		mp->nann--;
		memmove(mp->ann + i, mp->ann + i + 1, (mp->nann - i) * sizeof(mp->ann[0]));
		break;
	}
	int li = mpt_stack_local_index(st, a);
	if (li >= 0) {
		for (size_t ri = 0; ri < MPT_MP_MAX_ADDRS; ri++)
			mp->retry_at[li][ri] = 0;
		mp->tried[li] = 0;
	}
	/* RFC 8684 §3.4.2: tell the peer (on a pure ACK of another subflow). */
	if (used && mp->keys_known && mp->nrm < MPT_ARRAY_SIZE(mp->rm_ids)) {
		mp->rm_ids[mp->nrm++] = id;
		for (size_t i = 0; i < mp->nsf; i++)
			if (mpt_sf_usable(mp->sf[i]) && !mp->sf[i]->removed) {
				mp->sf[i]->ack_due = true;
				break;
			}
	}
	mpt_mp_dirty(mp);
}

int mpt_mp_set_backup(struct mpt_mpconn *mp, const struct mpt_addr *local, bool backup,
		      uint64_t now)
{
	MPT_UNUSED(now);
	if (mpt_mp_is_fallback(mp) || mp->closed)
		return MPT_ERR_STATE;
	int n = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed || sf->dead)
			continue;
		if (local && !mpt_addr_equal(&sf->flow->local.addr, local))
			continue;
		n++;
		if (sf->backup == backup)
			continue;
		/* RFC 8684 §3.3.8: MP_PRIO on the subflow it applies to. */
		sf->backup = backup;
		sf->prio_pending = true;
		sf->ack_due = true;
		mpt_mp_pm_event(mp, MPT_PM_EV_SF_PRIORITY, sf, NULL, 0, 0);
	}
	mpt_mp_dirty(mp);
	return n;
}

/* ---- path-manager events ------------------------------------------------- */

void mpt_mp_pm_event(struct mpt_mpconn *mp, uint8_t type, const struct mpt_subflow *sf,
		     const struct mpt_addr *raddr, uint8_t rid, int err)
{
	if (mp->pmq_n == MPT_MP_PMQ) {
		/* keep the newest: drop the oldest */
		mp->pmq_head = (uint8_t)((mp->pmq_head + 1) % MPT_MP_PMQ);
		mp->pmq_n--;
		mpt_mib_inc(&mp->st->mib, MPT_MIB_PMEventDrop);
	}
	struct mpt_pm_event *e = &mp->pmq[(mp->pmq_head + mp->pmq_n) % MPT_MP_PMQ];
	mp->pmq_n++;
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->token = mp->token_local;
	e->error = err;
	if (sf) {
		e->local_id = sf->local_id;
		e->remote_id = sf->remote_id;
		e->backup = sf->backup || sf->peer_backup;
		if (sf->flow) {
			e->local = sf->flow->local;
			e->remote = sf->flow->remote;
		}
	}
	if (raddr) {
		e->remote.addr = *raddr;
		e->remote_id = rid;
	} else if (!sf) {
		e->remote_id = rid;
	}
	mp->ev_pending |= MPT_EV_PM;
}

int mpt_mp_pm_event_pop(struct mpt_mpconn *mp, struct mpt_pm_event *ev)
{
	if (mp->pmq_n == 0)
		return 0;
	*ev = mp->pmq[mp->pmq_head];
	mp->pmq_head = (uint8_t)((mp->pmq_head + 1) % MPT_MP_PMQ);
	mp->pmq_n--;
	return 1;
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
	in->mptcpi_flags = (mpt_mp_is_fallback(mp) ? MPT_MPTCP_INFO_FLAG_FALLBACK : 0u) |
			   (mp->keys_known ? MPT_MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED : 0u);
	in->mptcpi_token = mp->token_local;
	in->version = mp->version;
	in->fallback = mpt_mp_is_fallback(mp);
	in->mptcpi_csum_enabled = mp->csum && !mpt_mp_is_fallback(mp);
	in->mptcpi_add_addr_signal = mp->add_addr_signal;
	in->mptcpi_add_addr_accepted = mp->add_addr_accepted;
	in->mptcpi_local_addr_max = (uint8_t)mp->st->cfg.n_local;
	in->reinjected_bytes = mp->reinjected;
	in->ext_keys = mp->ek.on;
	in->ext_key_gen = (uint8_t)MPT_MIN(mp->ek.gens, 255u);
	in->ext_key_pending = mp->ek.pending;
	in->remote_token = mp->keys_known ? mp->token_remote : 0;
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
			o->peer_backup = sf->peer_backup;
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
