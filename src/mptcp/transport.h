/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the stack (src/core) sees of the MPTCP layer: its socket operations,
 * the entry points of a connection's life (active open, a SYN with
 * MP_CAPABLE or MP_JOIN), the hooks of a subflow's TCP engine, and the few
 * helpers the stack and its SYN cookies need.  The other direction is
 * core/host.h.
 */
#ifndef MPT_MPTCP_TRANSPORT_H
#define MPT_MPTCP_TRANSPORT_H

#include "core/host.h"
#include "wire/mptcp.h"

/** A Multipath TCP connection's socket operations. */
extern const struct mpt_sock_ops mpt_mptcp_sock_ops;

/** Default of mpt_mptcp_knobs.wnd_share (256ths). */
#define MPT_MP_WND_SHARE_DEFAULT 224u

/** Normalise knobs (defaults for zero fields); MPT_ERR_INVAL on bad values. */
int mpt_mp_knobs_fix(struct mpt_mptcp_knobs *k);
/** Receive buffer of the connection level (and of each subflow engine). */
size_t mpt_mp_rcvbuf_size(uint32_t knob);
/** Active open of an MPTCP connection for socket s (endpoints set). */
int mpt_mp_connect(struct mpt_sock *s, const struct mpt_mptcp_knobs *k, uint64_t now);
/**
 * A SYN for listener lis with an MP_CAPABLE option (mpc parsed, rc its parse
 * result): open a connection.  Returns 0, MPT_ERR_UNSUPPORTED (answer it as
 * plain TCP) or another negative error (SYN dropped).
 */
int mpt_mp_passive(struct mpt_stack *st, struct mpt_sock *lis, const struct mpt_ip_hdr *ip,
		   const struct mpt_tcp_seg *seg, const struct mpt_mptcp_opt *mpc, uint64_t now);
/** A SYN with MP_JOIN; answers with a RST when the token is unknown. */
int mpt_mp_join_syn(struct mpt_stack *st, const struct mpt_ip_hdr *ip,
		    const struct mpt_tcp_seg *seg, const struct mpt_mptcp_opt *join, uint64_t now);
/**
 * The MPTCP version to answer a SYN's MP_CAPABLE mpc with (and its flags
 * in *flags), or MPT_ERR_UNSUPPORTED (answer as plain TCP).
 */
int mpt_mp_accept_version(struct mpt_stack *st, const struct mpt_mptcp_opt *mpc, uint8_t *flags);
/** Find the first MPTCP option of a subtype in a segment (0 or negative). */
int mpt_mp_find_opt(const struct mpt_tcp_seg *seg, uint8_t subtype, uint8_t version,
		    struct mpt_mptcp_opt *out);

/* ---- hooks of a subflow's engine (ud = struct mpt_flow) ------------------- */

size_t mpt_sf_write_opts(void *ud, struct mpt_tcp_out_info *info, uint8_t *buf, size_t room);
void mpt_sf_ext_input(void *ud, const struct mpt_tcp_seg *seg);
/** Connection-level receive space beyond DATA_ACK (the window to advertise). */
uint32_t mpt_sf_rcv_space(void *ud);
uint32_t mpt_sf_rcv_direct(void *ud, uint32_t seq, const uint8_t *data, uint32_t n);
/** Payload of owned mappings, from the data-level send buffer (ext_snd_read). */
bool mpt_sf_snd_read(void *ud, uint32_t seq, uint8_t *dst, uint32_t n);
/** The engine of flow f (owned by a subflow) reported ev. */
void mpt_sf_event(struct mpt_flow *f, enum mpt_tcp_event ev);
/* The socket of the connection flow f is a subflow of (NULL: none). */
struct mpt_sock *mpt_sf_owner(const struct mpt_flow *f);
/**
 * A RST the engine accepted arrived on f (RFC 8684 §3.5, §3.6, §3.7):
 * MP_FASTCLOSE (key checked), MP_TCPRST (counted; T flag remembered),
 * MP_FAIL (counted).
 */
void mpt_sf_rst_rx(struct mpt_subflow *sf, const struct mpt_tcp_seg *seg, uint64_t now);
/** Flow f's engine did something (input, timer): its connection runs. */
void mpt_sf_kick(struct mpt_flow *f);

#endif /* MPT_MPTCP_TRANSPORT_H */
