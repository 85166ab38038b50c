/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plain TCP behind the socket API: the operations of a socket whose
 * connection is one flow (RFC 9293), and that flow's engine events as
 * socket events.  A Multipath TCP connection that falls back to TCP at the
 * handshake (RFC 8684 §3.7) takes these operations too.
 */
#include <stdio.h>
#include <string.h>

#include "core/stack_int.h"

long mpt_tcp_sock_send(struct mpt_sock *s, const void *data, size_t len, uint64_t now)
{
	return s->flow ? mpt_tcp_send(s->flow->tcp, data, len, now) : MPT_ERR_CLOSED;
}

long mpt_tcp_sock_recv(struct mpt_sock *s, void *buf, size_t len, uint64_t now)
{
	if (!s->flow)
		return s->err ? s->err : 0;
	return mpt_tcp_recv(s->flow->tcp, buf, len, now);
}

int mpt_tcp_sock_shutdown(struct mpt_sock *s, uint64_t now)
{
	return s->flow ? mpt_tcp_shutdown(s->flow->tcp, now) : MPT_ERR_CLOSED;
}

void mpt_tcp_sock_close(struct mpt_sock *s, bool abort, uint64_t now)
{
	if (!s->flow || s->tcp_closed || s->flow->tcp_closed)
		return;
	if (abort)
		mpt_tcp_abort(s->flow->tcp, now);
	else
		mpt_tcp_close(s->flow->tcp, now);
}

unsigned mpt_tcp_sock_events(const struct mpt_sock *s)
{
	unsigned ev = 0;
	if (s->established)
		ev |= MPT_EV_CONNECTED;
	if (s->flow && mpt_tcp_readable(s->flow->tcp) > 0)
		ev |= MPT_EV_READABLE;
	if (s->flow && s->established && mpt_tcp_writable(s->flow->tcp) > 0)
		ev |= MPT_EV_WRITABLE;
	if (s->err)
		ev |= MPT_EV_ERROR | MPT_EV_READABLE;
	if (s->tcp_closed)
		ev |= MPT_EV_CLOSED;
	return ev;
}

const struct mpt_tcp *mpt_tcp_sock_info_tcp(const struct mpt_sock *s)
{
	return s->flow ? s->flow->tcp : NULL;
}

int mpt_tcp_sock_subflows(const struct mpt_sock *s, struct mpt_subflow_info *out, size_t max)
{
	/* One flow: reported as one subflow (mpt.h). */
	if (max > 0 && s->flow) {
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(s->flow->tcp, &ti);
		memset(out, 0, sizeof(*out));
		out->local = s->local;
		out->remote = s->remote;
		out->active = ti.state == MPT_TCP_ESTABLISHED;
		snprintf(out->state, sizeof(out->state), "%s", mpt_tcp_state_name(ti.state));
		out->srtt_ns = ti.srtt_ns;
		out->cwnd = ti.snd_cwnd;
		out->bytes_sent = ti.bytes_sent;
		out->bytes_acked = ti.bytes_acked;
		out->bytes_received = ti.bytes_received;
		out->bytes_retrans = ti.bytes_retrans;
		out->retransmits = ti.total_retrans;
	}
	return 1;
}

uint64_t mpt_tcp_sock_deadline(const struct mpt_sock *s)
{
	MPT_UNUSED(s);
	return MPT_TIME_NEVER; /* the flow's timers are the stack's */
}

void mpt_tcp_sock_on_timer(struct mpt_sock *s, uint64_t now)
{
	MPT_UNUSED(s);
	MPT_UNUSED(now);
}

bool mpt_tcp_sock_finished(const struct mpt_sock *s)
{
	MPT_UNUSED(s);
	return true; /* nothing beyond the flow, which the stack frees */
}

static void tcp_sock_release(struct mpt_sock *s)
{
	MPT_UNUSED(s);
}

bool mpt_tcp_sock_evict(struct mpt_sock *s)
{
	if (!s->flow || s->flow->tcp_closed || mpt_tcp_get_state(s->flow->tcp) != MPT_TCP_TIME_WAIT)
		return false;
	mpt_stack_flow_retire(s->st, s->flow);
	return true;
}

const struct mpt_sock_ops mpt_tcp_sock_ops = {
    .name = "tcp",
    .send = mpt_tcp_sock_send,
    .recv = mpt_tcp_sock_recv,
    .shutdown = mpt_tcp_sock_shutdown,
    .close = mpt_tcp_sock_close,
    .events = mpt_tcp_sock_events,
    .info_tcp = mpt_tcp_sock_info_tcp,
    .subflows = mpt_tcp_sock_subflows,
    .deadline = mpt_tcp_sock_deadline,
    .on_timer = mpt_tcp_sock_on_timer,
    .run = NULL,
    .finished = mpt_tcp_sock_finished,
    .release = tcp_sock_release,
    .evict = mpt_tcp_sock_evict,
    .mptcp = NULL,
};

void mpt_tcp_sock_event(struct mpt_sock *s, struct mpt_flow *f, enum mpt_tcp_event ev)
{
	switch (ev) {
	case MPT_TCP_EV_ESTABLISHED:
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
		s->tcp_closed = true;
		mpt_stack_reap_later(s);
		mpt_stack_notify(s, MPT_EV_CLOSED);
		break;
	}
}
