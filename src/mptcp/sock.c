/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Multipath TCP connection behind the socket API: its socket operations
 * (core/host.h), and those of a connection that fell back to TCP at the
 * handshake (RFC 8684 §3.7): TCP's data path over the former initial
 * subflow's flow, with MPTCP's information (fallback flag, version, ...).
 */
#include "mptcp/mptcp.h"

static struct mpt_mpconn *conn_of(const struct mpt_sock *s)
{
	return mpt_stack_sock_conn(s);
}

static long mp_send(struct mpt_sock *s, const void *data, size_t len, uint64_t now)
{
	return mpt_mp_send(conn_of(s), data, len, now);
}

static long mp_recv(struct mpt_sock *s, void *buf, size_t len, uint64_t now)
{
	return mpt_mp_recv(conn_of(s), buf, len, now);
}

static int mp_shutdown(struct mpt_sock *s, uint64_t now)
{
	return mpt_mp_shutdown(conn_of(s), now);
}

static void mp_close(struct mpt_sock *s, bool abort, uint64_t now)
{
	mpt_mp_close(conn_of(s), abort, now);
}

static unsigned mp_events(const struct mpt_sock *s)
{
	return mpt_mp_events(conn_of(s));
}

static const struct mpt_tcp *mp_info_tcp(const struct mpt_sock *s)
{
	const struct mpt_flow *f = mpt_mp_info_flow(conn_of(s));
	return f ? f->tcp : NULL;
}

static int mp_subflows(const struct mpt_sock *s, struct mpt_subflow_info *out, size_t max)
{
	return mpt_mp_subflows(conn_of(s), out, max);
}

static uint64_t mp_deadline(const struct mpt_sock *s)
{
	return mpt_mp_next_deadline(conn_of(s));
}

static void mp_on_timer(struct mpt_sock *s, uint64_t now)
{
	mpt_mp_on_timer(conn_of(s), now);
}

static void mp_run(struct mpt_sock *s, uint64_t now)
{
	mpt_mp_run(conn_of(s), now);
}

static bool mp_finished(const struct mpt_sock *s)
{
	return mpt_mp_finished(conn_of(s));
}

static void mp_release(struct mpt_sock *s)
{
	mpt_mp_free(conn_of(s));
}

static bool mp_evict(struct mpt_sock *s)
{
	return mpt_mp_evict_tw(conn_of(s));
}

/* ---- RFC 6897 and the external path manager ------------------------------ */

static bool mp_enabled(const struct mpt_sock *s)
{
	return !mpt_mp_is_fallback(conn_of(s));
}

static uint32_t mp_conn_id(const struct mpt_sock *s)
{
	const struct mpt_mpconn *mp = conn_of(s);
	return mpt_mp_is_fallback(mp) ? 0 : mp->token_local;
}

static int mp_info(const struct mpt_sock *s, struct mpt_mptcp_info *info)
{
	return mpt_mp_info(conn_of(s), info);
}

static int mp_set_backup(struct mpt_sock *s, const struct mpt_addr *local, bool backup,
			 uint64_t now)
{
	return mpt_mp_set_backup(conn_of(s), local, backup, now);
}

static int mp_set_ext_key(struct mpt_sock *s, const uint8_t *key, size_t len, uint64_t now)
{
	return mpt_ek_install(conn_of(s), key, len, now);
}

static int mp_pm_event(struct mpt_sock *s, struct mpt_pm_event *ev)
{
	return mpt_mp_pm_event_pop(conn_of(s), ev);
}

static void mp_local_added(struct mpt_sock *s)
{
	/* The path manager picks it up on its next run. */
	mpt_mp_dirty(conn_of(s));
}

static void mp_local_removed(struct mpt_sock *s, const struct mpt_addr *a, uint8_t id, uint64_t now)
{
	mpt_mp_local_removed(conn_of(s), a, id, now);
}

static int mp_pm_open(struct mpt_sock *s, const struct mpt_addr *local,
		      const struct mpt_endpoint *remote, bool backup, uint64_t now)
{
	return mpt_pm_api_open(conn_of(s), local, remote, backup, now);
}

static int mp_pm_close(struct mpt_sock *s, const struct mpt_addr *local,
		       const struct mpt_endpoint *remote, uint64_t now)
{
	return mpt_pm_api_close(conn_of(s), local, remote, now);
}

static int mp_pm_announce(struct mpt_sock *s, const struct mpt_addr *local)
{
	return mpt_pm_api_announce(conn_of(s), local);
}

static int mp_pm_withdraw(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now)
{
	return mpt_pm_api_withdraw(conn_of(s), local, now);
}

static int mp_pm_remote(const struct mpt_sock *s, struct mpt_endpoint *out, uint8_t *ids,
			size_t max)
{
	const struct mpt_mpconn *mp = conn_of(s);
	if (mpt_mp_is_fallback(mp))
		return MPT_ERR_STATE;
	return mpt_pm_api_remote(mp, out, ids, max);
}

static const struct mpt_mptcp_sock_ops mp_mptcp = {
    .enabled = mp_enabled,
    .conn_id = mp_conn_id,
    .info = mp_info,
    .set_backup = mp_set_backup,
    .set_ext_key = mp_set_ext_key,
    .pm_event = mp_pm_event,
    .local_added = mp_local_added,
    .local_removed = mp_local_removed,
    .pm_open = mp_pm_open,
    .pm_close = mp_pm_close,
    .pm_announce = mp_pm_announce,
    .pm_withdraw = mp_pm_withdraw,
    .pm_remote = mp_pm_remote,
};

const struct mpt_sock_ops mpt_mptcp_sock_ops = {
    .name = "mptcp",
    .send = mp_send,
    .recv = mp_recv,
    .shutdown = mp_shutdown,
    .close = mp_close,
    .events = mp_events,
    .info_tcp = mp_info_tcp,
    .subflows = mp_subflows,
    .deadline = mp_deadline,
    .on_timer = mp_on_timer,
    .run = mp_run,
    .finished = mp_finished,
    .release = mp_release,
    .evict = mp_evict,
    .mptcp = &mp_mptcp,
};

/* ---- fallen back to TCP at the handshake ----------------------------------- */

static bool fb_enabled(const struct mpt_sock *s)
{
	MPT_UNUSED(s);
	return false;
}

static uint32_t fb_conn_id(const struct mpt_sock *s)
{
	MPT_UNUSED(s);
	return 0;
}

static int fb_set_backup(struct mpt_sock *s, const struct mpt_addr *local, bool backup,
			 uint64_t now)
{
	MPT_UNUSED(s), MPT_UNUSED(local), MPT_UNUSED(backup), MPT_UNUSED(now);
	return MPT_ERR_STATE;
}

static int fb_set_ext_key(struct mpt_sock *s, const uint8_t *key, size_t len, uint64_t now)
{
	MPT_UNUSED(s), MPT_UNUSED(key), MPT_UNUSED(len), MPT_UNUSED(now);
	return MPT_ERR_STATE;
}

static void fb_local_added(struct mpt_sock *s)
{
	MPT_UNUSED(s);
}

static void fb_local_removed(struct mpt_sock *s, const struct mpt_addr *a, uint8_t id, uint64_t now)
{
	MPT_UNUSED(s), MPT_UNUSED(a), MPT_UNUSED(id), MPT_UNUSED(now);
}

static int fb_pm_open(struct mpt_sock *s, const struct mpt_addr *local,
		      const struct mpt_endpoint *remote, bool backup, uint64_t now)
{
	MPT_UNUSED(s), MPT_UNUSED(local), MPT_UNUSED(remote), MPT_UNUSED(backup), MPT_UNUSED(now);
	return MPT_ERR_STATE;
}

static int fb_pm_close(struct mpt_sock *s, const struct mpt_addr *local,
		       const struct mpt_endpoint *remote, uint64_t now)
{
	MPT_UNUSED(s), MPT_UNUSED(local), MPT_UNUSED(remote), MPT_UNUSED(now);
	return MPT_ERR_STATE;
}

static int fb_pm_announce(struct mpt_sock *s, const struct mpt_addr *local)
{
	MPT_UNUSED(s), MPT_UNUSED(local);
	return MPT_ERR_STATE;
}

static int fb_pm_withdraw(struct mpt_sock *s, const struct mpt_addr *local, uint64_t now)
{
	MPT_UNUSED(s), MPT_UNUSED(local), MPT_UNUSED(now);
	return MPT_ERR_STATE;
}

static int fb_pm_remote(const struct mpt_sock *s, struct mpt_endpoint *out, uint8_t *ids,
			size_t max)
{
	MPT_UNUSED(s), MPT_UNUSED(out), MPT_UNUSED(ids), MPT_UNUSED(max);
	return MPT_ERR_STATE;
}

static const struct mpt_mptcp_sock_ops fb_mptcp = {
    .enabled = fb_enabled,
    .conn_id = fb_conn_id,
    .info = mp_info,
    .set_backup = fb_set_backup,
    .set_ext_key = fb_set_ext_key,
    .pm_event = mp_pm_event,
    .local_added = fb_local_added,
    .local_removed = fb_local_removed,
    .pm_open = fb_pm_open,
    .pm_close = fb_pm_close,
    .pm_announce = fb_pm_announce,
    .pm_withdraw = fb_pm_withdraw,
    .pm_remote = fb_pm_remote,
};

const struct mpt_sock_ops mpt_mptcp_fallback_ops = {
    .name = "mptcp-fallback",
    .send = mpt_tcp_sock_send,
    .recv = mpt_tcp_sock_recv,
    .shutdown = mpt_tcp_sock_shutdown,
    .close = mpt_tcp_sock_close,
    .events = mpt_tcp_sock_events,
    .info_tcp = mpt_tcp_sock_info_tcp,
    .subflows = mpt_tcp_sock_subflows,
    .deadline = mpt_tcp_sock_deadline,
    .on_timer = mpt_tcp_sock_on_timer,
    .run = mp_run, /* the old subflow objects are reaped there */
    .finished = mp_finished,
    .release = mp_release,
    .evict = mpt_tcp_sock_evict,
    .mptcp = &fb_mptcp,
};
