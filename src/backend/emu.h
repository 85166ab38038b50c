/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Link emulation for one direction of one path (the backend's stand-in for
 * netem): fixed added delay, seeded random loss and a token-bucket rate,
 * with a bounded FIFO.  Time is an argument, so it is tested without a
 * clock.  Packets never reorder: a packet's release time is at least its
 * predecessor's.
 */
#ifndef MPT_BACKEND_EMU_H
#define MPT_BACKEND_EMU_H

#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

struct mpt_emu_cfg {
	uint64_t delay_ns;    /**< added one-way delay */
	double loss;          /**< loss probability, [0, 1] */
	uint64_t rate_bps;    /**< token rate, bit/s (0: unlimited) */
	uint32_t burst_bytes; /**< bucket depth (0: max(3000, 1 ms at rate)) */
	uint32_t queue_bytes; /**< bytes waiting for tokens (0: max(96 KiB, 50 ms at rate)) */
	uint32_t queue_pkts;  /**< packets held in total (0: 4096) */
	uint64_t seed;        /**< loss generator seed */
};

struct mpt_emu_stats {
	uint64_t in;      /**< packets offered */
	uint64_t out;     /**< packets released */
	uint64_t lost;    /**< random loss */
	uint64_t dropped; /**< queue overflow (tail drop) */
};

/** mpt_emu_push results. */
enum {
	MPT_EMU_QUEUED = 0,
	MPT_EMU_LOST = 1,    /**< dropped by random loss */
	MPT_EMU_DROPPED = 2, /**< dropped: queue full */
};

struct mpt_emu;

/** Returns 0, MPT_ERR_INVAL (loss outside [0, 1]) or MPT_ERR_NOMEM. */
int mpt_emu_create(const struct mpt_mem *mem, const struct mpt_emu_cfg *cfg, struct mpt_emu **out);
void mpt_emu_destroy(struct mpt_emu *e);
/**
 * Offer a packet at time now.  Returns MPT_EMU_QUEUED, MPT_EMU_LOST,
 * MPT_EMU_DROPPED, MPT_ERR_INVAL (empty packet) or MPT_ERR_NOMEM.
 */
int mpt_emu_push(struct mpt_emu *e, const uint8_t *pkt, size_t len, uint64_t now);
/** Release time of the oldest packet, or MPT_TIME_NEVER when empty. */
uint64_t mpt_emu_next_due(const struct mpt_emu *e);
/**
 * Copy the oldest packet due at or before now into buf.  Returns its length,
 * MPT_ERR_AGAIN (nothing due) or MPT_ERR_NOSPACE (cap too small; the packet
 * is discarded and counted as dropped).
 */
long mpt_emu_pop(struct mpt_emu *e, uint64_t now, uint8_t *buf, size_t cap);
/** Packets currently held. */
size_t mpt_emu_queued(const struct mpt_emu *e);
void mpt_emu_stats(const struct mpt_emu *e, struct mpt_emu_stats *out);

#endif /* MPT_BACKEND_EMU_H */
