/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The socket API of mpt.h (RFC 6897's basic API for Multipath TCP) and its
 * external path-manager calls (mpt_pm_*): every call on a connection goes
 * through its table of operations (host.h), plain TCP (sock_tcp.c) or a
 * transport's (Multipath TCP, src/mptcp); listeners and their accept
 * queues are the stack's own.
 */
#include <stdio.h>
#include <string.h>

#include "core/stack_int.h"
#include "mptcp/transport.h"

int mpt_listen(struct mpt_stack *st, const struct mpt_endpoint *local, uint32_t backlog,
	       struct mpt_sock **out)
{
	if (!st || !local || !out || backlog == 0)
		return MPT_ERR_INVAL;
	if (local->port == 0 && !(st->cfg.transparent && local->addr.family == 0))
		return MPT_ERR_INVAL;
	if (local->addr.family != 0 && !mpt_stack_is_local(st, &local->addr))
		return MPT_ERR_INVAL;
	for (struct mpt_sock *s = st->core->listeners; s; s = s->lnext) {
		if (s->app_closed || s->local.port != local->port)
			continue;
		if (s->local.addr.family == 0 || local->addr.family == 0 ||
		    mpt_addr_equal(&s->local.addr, &local->addr))
			return MPT_ERR_EXIST;
	}
	struct mpt_sock *s = mpt_stack_sock_new(st);
	if (!s)
		return st->core->nsocks >= st->cfg.max_socks ? MPT_ERR_LIMIT : MPT_ERR_NOMEM;
	mpt_stack_listener_add(st, s);
	s->app_owned = true;
	s->local = *local;
	s->backlog = backlog;
	*out = s;
	return 0;
}

struct mpt_sock *mpt_accept(struct mpt_sock *l)
{
	if (!l || !l->listener || l->app_closed)
		return NULL;
	struct mpt_sock *s = l->qhead;
	if (!s)
		return NULL;
	mpt_stack_queue_remove(l, s);
	l->nchildren--;
	s->parent = NULL;
	s->app_owned = true;
	/* No reaping to ask for: a child that finished while queued had no
	 * owner and went then (stack_reap frees it off the queue); now it has
	 * one, and the listener is open.  Asking would walk every socket of
	 * the stack once per accept (issue 13). */
	return s;
}

void mpt_conn_opts_init(const struct mpt_stack *st, struct mpt_conn_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (st)
		o->mptcp = st->cfg.mptcp;
}

int mpt_connect_ex(struct mpt_stack *st, const struct mpt_endpoint *remote,
		   const struct mpt_addr *local_addr, const struct mpt_conn_opts *opts,
		   uint64_t now, struct mpt_sock **out)
{
	if (!st || !remote || !out || remote->port == 0 ||
	    (remote->addr.family != 4 && remote->addr.family != 6))
		return MPT_ERR_INVAL;
	struct mpt_mptcp_knobs mk = opts ? opts->mptcp : st->cfg.mptcp;
	if (mpt_mp_knobs_fix(&mk) < 0 || !mpt_stack_knobs_names_ok(st, &mk))
		return MPT_ERR_INVAL;
	const struct mpt_addr *la =
	    local_addr ? local_addr : mpt_stack_pick_local(st, remote->addr.family);
	if (!la || la->family != remote->addr.family || !mpt_stack_is_local(st, la))
		return MPT_ERR_INVAL;
	uint16_t port;
	if (opts && opts->local_port) {
		/* A chosen port (iperf3's --cport): refused if the 4-tuple is
		 * taken, never silently replaced. */
		struct mpt_endpoint l = {.addr = *la, .port = opts->local_port};
		if (mpt_stack_lookup(st, &l, remote))
			return MPT_ERR_EXIST;
		port = opts->local_port;
	} else {
		port = mpt_stack_pick_port(st, la, remote);
		if (port == 0)
			return MPT_ERR_LIMIT;
	}
	struct mpt_sock *s = mpt_stack_sock_new(st);
	if (!s)
		return st->core->nsocks >= st->cfg.max_socks ? MPT_ERR_LIMIT : MPT_ERR_NOMEM;
	s->local.addr = *la;
	s->local.port = port;
	s->remote = *remote;
	s->app_owned = true;
	mpt_stack_enter(st, now);
	int rc;
	if (mk.enable) {
		rc = mpt_mp_connect(s, &mk, now);
		if (rc < 0) {
			mpt_stack_sock_free(st, s);
			mpt_stack_leave(st);
			return rc;
		}
	} else {
		s->ops = &mpt_tcp_sock_ops;
		s->flow = mpt_stack_tcp_flow(st, s, now);
		if (!s->flow) {
			mpt_stack_sock_free(st, s);
			mpt_stack_leave(st);
			return MPT_ERR_NOMEM;
		}
		rc = mpt_tcp_connect(s->flow->tcp, s->flow->iss, now);
	}
	*out = s;
	mpt_stack_leave(st);
	return rc;
}

int mpt_connect(struct mpt_stack *st, const struct mpt_endpoint *remote,
		const struct mpt_addr *local_addr, uint64_t now, struct mpt_sock **out)
{
	return mpt_connect_ex(st, remote, local_addr, NULL, now, out);
}

/* A connection the application may still use. */
static bool usable(const struct mpt_sock *s)
{
	return s && !s->listener && !s->app_closed && s->ops;
}

long mpt_send(struct mpt_sock *s, const void *data, size_t len, uint64_t now)
{
	if (!usable(s))
		return MPT_ERR_INVAL;
	if (s->err)
		return s->err;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	long rc = s->ops->send(s, data, len, now);
	mpt_stack_leave(s->st);
	return rc;
}

long mpt_recv(struct mpt_sock *s, void *buf, size_t len, uint64_t now)
{
	if (!usable(s))
		return MPT_ERR_INVAL;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	long rc = s->ops->recv(s, buf, len, now);
	mpt_stack_leave(s->st);
	return rc;
}

int mpt_shutdown(struct mpt_sock *s, uint64_t now)
{
	if (!usable(s))
		return MPT_ERR_INVAL;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	int rc = s->ops->shutdown(s, now);
	mpt_stack_leave(s->st);
	return rc;
}

static void close_listener(struct mpt_sock *l, uint64_t now)
{
	/* Children not yet accepted have no owner left: abort them. */
	for (struct mpt_sock *s = l->st->core->all; s; s = s->next)
		if (s->parent == l && !s->tcp_closed && s->ops)
			s->ops->close(s, true, now);
}

static void sock_close(struct mpt_sock *s, uint64_t now, bool abort)
{
	if (!s || s->app_closed)
		return;
	struct mpt_stack *st = s->st;
	mpt_stack_enter(st, now);
	mpt_stack_touch(st, &s->tn);
	s->app_closed = true;
	mpt_stack_reap_later(s);
	if (s->listener)
		close_listener(s, now);
	else if (s->ops)
		s->ops->close(s, abort, now);
	mpt_stack_leave(st);
}

void mpt_close(struct mpt_sock *s, uint64_t now)
{
	sock_close(s, now, false);
}

void mpt_abort(struct mpt_sock *s, uint64_t now)
{
	sock_close(s, now, true);
}

unsigned mpt_sock_events(const struct mpt_sock *s)
{
	if (!s)
		return 0;
	if (s->listener)
		return s->qhead ? (unsigned)MPT_EV_ACCEPTABLE : 0u;
	return s->ops ? s->ops->events(s) : 0u;
}

int mpt_sock_error(const struct mpt_sock *s)
{
	return s ? s->err : MPT_ERR_INVAL;
}

bool mpt_sock_is_listener(const struct mpt_sock *s)
{
	return s && s->listener;
}

void mpt_sock_set_user(struct mpt_sock *s, void *user)
{
	if (s)
		s->user = user;
}

void *mpt_sock_get_user(const struct mpt_sock *s)
{
	return s ? s->user : NULL;
}

void mpt_sock_endpoints(const struct mpt_sock *s, struct mpt_endpoint *local,
			struct mpt_endpoint *remote)
{
	if (local)
		*local = s->local;
	if (remote)
		*remote = s->remote;
}

static void fill_info(const struct mpt_tcp *tcp, struct mpt_sock_info *info)
{
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(tcp, &ti);
	memset(info, 0, sizeof(*info));
	snprintf(info->state, sizeof(info->state), "%s", mpt_tcp_state_name(ti.state));
	info->snd_mss = ti.snd_mss;
	info->rcv_mss = ti.rcv_mss;
	info->srtt_ns = ti.srtt_ns;
	info->rttvar_ns = ti.rttvar_ns;
	info->rto_ns = ti.rto_ns;
	info->min_rtt_ns = ti.min_rtt_ns;
	info->snd_cwnd = ti.snd_cwnd;
	info->snd_ssthresh = ti.snd_ssthresh;
	info->snd_wnd = ti.snd_wnd;
	info->rcv_wnd = ti.rcv_wnd;
	info->bytes_sent = ti.bytes_sent;
	info->bytes_retrans = ti.bytes_retrans;
	info->bytes_acked = ti.bytes_acked;
	info->bytes_received = ti.bytes_received;
	info->segs_out = ti.segs_out;
	info->segs_in = ti.segs_in;
	info->total_retrans = ti.total_retrans;
	info->rto_count = ti.rto_count;
	info->fast_retrans = ti.fast_retrans;
	info->iss = ti.iss;
	info->irs = ti.irs;
	info->snd_una = ti.snd_una;
	info->snd_nxt = ti.snd_nxt;
	info->rcv_nxt = ti.rcv_nxt;
	snprintf(info->cc, sizeof(info->cc), "%s", ti.cc_name);
}

int mpt_sock_info(const struct mpt_sock *s, struct mpt_sock_info *info)
{
	if (!s || !info)
		return MPT_ERR_INVAL;
	if (s->listener || !s->ops)
		return MPT_ERR_STATE;
	const struct mpt_tcp *t = s->ops->info_tcp(s);
	if (!t)
		return MPT_ERR_STATE;
	fill_info(t, info);
	return 0;
}

int mpt_sock_subflows(const struct mpt_sock *s, struct mpt_subflow_info *out, size_t max)
{
	if (!s || (!out && max))
		return MPT_ERR_INVAL;
	if (s->listener || !s->ops)
		return MPT_ERR_STATE;
	return s->ops->subflows(s, out, max);
}

/* ---- Multipath TCP (RFC 6897 §5.3) ------------------------------------------ */

static const struct mpt_mptcp_sock_ops *mptcp_of(const struct mpt_sock *s)
{
	return s && !s->listener && s->ops ? s->ops->mptcp : NULL;
}

bool mpt_sock_mptcp_enabled(const struct mpt_sock *s)
{
	const struct mpt_mptcp_sock_ops *m = mptcp_of(s);
	return m && m->enabled(s);
}

uint32_t mpt_sock_conn_id(const struct mpt_sock *s)
{
	const struct mpt_mptcp_sock_ops *m = mptcp_of(s);
	return m ? m->conn_id(s) : 0;
}

int mpt_sock_mptcp_info(const struct mpt_sock *s, struct mpt_mptcp_info *info)
{
	if (!s || !info)
		return MPT_ERR_INVAL;
	const struct mpt_mptcp_sock_ops *m = mptcp_of(s);
	return m ? m->info(s, info) : MPT_ERR_STATE;
}

int mpt_sock_pm_event(struct mpt_sock *s, struct mpt_pm_event *ev)
{
	if (!s || !ev)
		return MPT_ERR_INVAL;
	const struct mpt_mptcp_sock_ops *m = mptcp_of(s);
	return m ? m->pm_event(s, ev) : 0;
}

int mpt_sock_set_external_key(struct mpt_sock *s, const uint8_t *key, size_t len, uint64_t now)
{
	if (!usable(s) || !key)
		return MPT_ERR_INVAL;
	const struct mpt_mptcp_sock_ops *m = mptcp_of(s);
	if (!m)
		return MPT_ERR_STATE;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	int rc = m->set_ext_key(s, key, len, now);
	mpt_stack_leave(s->st);
	return rc;
}

int mpt_sock_set_backup(struct mpt_sock *s, const struct mpt_addr *local, bool backup, uint64_t now)
{
	if (!usable(s))
		return MPT_ERR_INVAL;
	const struct mpt_mptcp_sock_ops *m = mptcp_of(s);
	if (!m)
		return MPT_ERR_STATE;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	int rc = m->set_backup(s, local, backup, now);
	mpt_stack_leave(s->st);
	return rc;
}

/* ---- the external path-manager API ---------------------------------------- */

static int pm_sock_ok(const struct mpt_sock *s, const void *a)
{
	if (!usable(s) || !a)
		return MPT_ERR_INVAL;
	return mptcp_of(s) ? 0 : MPT_ERR_STATE;
}

int mpt_pm_subflow_open(struct mpt_sock *s, const struct mpt_addr *local,
			const struct mpt_endpoint *remote, bool backup, uint64_t now)
{
	int rc = pm_sock_ok(s, local);
	if (rc < 0 || !remote)
		return rc < 0 ? rc : MPT_ERR_INVAL;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	rc = mptcp_of(s)->pm_open(s, local, remote, backup, now);
	mpt_stack_leave(s->st);
	return rc;
}

int mpt_pm_subflow_close(struct mpt_sock *s, const struct mpt_addr *local,
			 const struct mpt_endpoint *remote, uint64_t now)
{
	int rc = pm_sock_ok(s, local);
	if (rc < 0 || !remote)
		return rc < 0 ? rc : MPT_ERR_INVAL;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	rc = mptcp_of(s)->pm_close(s, local, remote, now);
	mpt_stack_leave(s->st);
	return rc;
}

int mpt_pm_announce(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now)
{
	int rc = pm_sock_ok(s, local);
	if (rc < 0)
		return rc;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	rc = mptcp_of(s)->pm_announce(s, local);
	mpt_stack_leave(s->st);
	return rc;
}

int mpt_pm_withdraw(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now)
{
	int rc = pm_sock_ok(s, local);
	if (rc < 0)
		return rc;
	mpt_stack_enter(s->st, now);
	mpt_stack_touch(s->st, &s->tn);
	rc = mptcp_of(s)->pm_withdraw(s, local, now);
	mpt_stack_leave(s->st);
	return rc;
}

int mpt_pm_remote_addrs(const struct mpt_sock *s, struct mpt_endpoint *out, uint8_t *ids,
			size_t max)
{
	if (!s || s->listener || (max > 0 && !out && !ids))
		return MPT_ERR_INVAL;
	const struct mpt_mptcp_sock_ops *m = mptcp_of(s);
	return m ? m->pm_remote(s, out, ids, max) : MPT_ERR_STATE;
}
