/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Glue between the simulator (mpt/sim.h) and the stack (mpt/mpt.h): a sim
 * node that runs one stack, plus a bulk-transfer application used by the
 * simulator tests, the `mpt sim` demo and the benchmarks.
 */
#ifndef MPT_SIMHOST_H
#define MPT_SIMHOST_H

#include "mpt/mpt.h"
#include "mpt/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mpt_simhost;

/**
 * Create a node named name running a stack configured by cfg.  cfg->output
 * and cfg->rand are replaced (packets go to the simulator; randomness is the
 * simulator's deterministic node stream); cfg->on_event is replaced by the
 * host's dispatcher (see mpt_simhost_set_app).  With cfg->tso_max or
 * cfg->csum_offload the host's "device" cuts and checksums the stack's
 * super-segments in software (so the engine's offload path runs in the
 * simulator).  Connect the node to others
 * with mpt_sim_connect using the addresses in cfg->local.
 * Returns 0, MPT_ERR_INVAL or MPT_ERR_NOMEM.
 */
MPT_API int mpt_simhost_create(struct mpt_sim *sim, const char *name,
			       const struct mpt_stack_cfg *cfg, struct mpt_simhost **out);
MPT_API void mpt_simhost_destroy(struct mpt_simhost *h);
MPT_API struct mpt_stack *mpt_simhost_stack(const struct mpt_simhost *h);
MPT_API struct mpt_sim_node *mpt_simhost_node(const struct mpt_simhost *h);
MPT_API struct mpt_sim *mpt_simhost_sim(const struct mpt_simhost *h);
/** Route the stack's socket events to fn (one application per host). */
MPT_API void mpt_simhost_set_app(struct mpt_simhost *h,
				 void (*fn)(void *ud, struct mpt_sock *s, unsigned events),
				 void *ud);

/* ---- bulk transfer ----------------------------------------------------- */

struct mpt_bulk;

struct mpt_bulk_cfg {
	uint64_t bytes; /**< bytes the client sends */
	uint16_t port;  /**< server port */
	uint64_t seed;  /**< payload pattern seed */
	uint32_t chunk; /**< application write size (default 64 KiB) */
	/** Per-connection options for the client's connect (NULL: stack defaults). */
	const struct mpt_conn_opts *conn_opts;
};

struct mpt_bulk_result {
	uint64_t sent;         /**< bytes accepted by mpt_send */
	uint64_t received;     /**< bytes read by the server */
	uint8_t tx_sha256[32]; /**< hash of everything sent */
	uint8_t rx_sha256[32]; /**< hash of everything received */
	bool done;             /**< server saw end of stream after all bytes */
	bool intact;           /**< done, received == bytes and hashes equal */
	uint64_t t_connected;  /**< client handshake completion (ns) */
	uint64_t t_done;       /**< end of stream read by the server (ns) */
	int client_err, server_err;
	bool aborted; /**< mpt_bulk_abort was called */
};

/**
 * Start a transfer: server listens on dst->port, client connects to dst at
 * the current virtual time, writes cfg->bytes of a seeded pattern, then
 * half-closes; the server reads and hashes until end of stream, then closes.
 * Takes over both hosts' application callbacks.
 * Returns 0 or a negative mpt_err.
 */
MPT_API int mpt_bulk_start(struct mpt_simhost *client, struct mpt_simhost *server,
			   const struct mpt_endpoint *dst, const struct mpt_bulk_cfg *cfg,
			   struct mpt_bulk **out);
/** True once the server has read the whole stream (usable as a sim stop fn). */
MPT_API bool mpt_bulk_done(void *bulk);
/** Bytes read by the server so far. */
MPT_API uint64_t mpt_bulk_received(const struct mpt_bulk *b);
MPT_API void mpt_bulk_result(const struct mpt_bulk *b, struct mpt_bulk_result *out);
/** Client-side connection (NULL once closed) for mpt_sock_info. */
MPT_API struct mpt_sock *mpt_bulk_client_sock(const struct mpt_bulk *b);
/** Server-side connection (NULL before accept and once closed). */
MPT_API struct mpt_sock *mpt_bulk_server_sock(const struct mpt_bulk *b);
/**
 * Abort one side's connection (mpt_abort: MP_FASTCLOSE for MPTCP) now.
 * The transfer then counts as done once the other side saw the error.
 */
MPT_API void mpt_bulk_abort(struct mpt_bulk *b, bool server, uint64_t now);
MPT_API void mpt_bulk_destroy(struct mpt_bulk *b);

#ifdef __cplusplus
}
#endif
#endif /* MPT_SIMHOST_H */
