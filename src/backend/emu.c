/* SPDX-License-Identifier: Apache-2.0 */
/* Per-direction link emulation: delay, seeded loss, token-bucket rate. */
#include <math.h>
#include <string.h>

#include "backend/emu.h"
#include "base/splitmix.h"
#include "common.h"

#define EMU_QUEUE_PKTS_DEFAULT 4096u
#define EMU_QUEUE_BYTES_MIN    (96u * 1024u)
#define EMU_BURST_MIN          3000u
#define EMU_QUEUE_TIME_NS      (50 * MPT_NS_PER_MS)

struct emu_slot {
	uint64_t due;
	uint8_t *data;
	size_t len;
};

struct mpt_emu {
	const struct mpt_mem *mem;
	struct mpt_emu_cfg cfg;
	struct emu_slot *ring;
	size_t cap, head, count;
	uint64_t rng;
	/* Token bucket in virtual time: tokens left right after the last
	 * queued packet's departure at last_dep (departures are FIFO). */
	uint64_t last_dep;
	double tokens;
	struct mpt_emu_stats stats;
};

int mpt_emu_create(const struct mpt_mem *mem, const struct mpt_emu_cfg *cfg, struct mpt_emu **out)
{
	if (!cfg || !out || !(cfg->loss >= 0.0 && cfg->loss <= 1.0))
		return MPT_ERR_INVAL;
	if (!mem)
		mem = mpt_mem_default();
	struct mpt_emu *e = mpt_calloc(mem, 1, sizeof(*e));
	if (!e)
		return MPT_ERR_NOMEM;
	e->mem = mem;
	e->cfg = *cfg;
	if (!e->cfg.queue_pkts)
		e->cfg.queue_pkts = EMU_QUEUE_PKTS_DEFAULT;
	double bytes_per_s = (double)cfg->rate_bps / 8.0;
	if (!e->cfg.burst_bytes) {
		double b = bytes_per_s / 1000.0;
		e->cfg.burst_bytes = b > EMU_BURST_MIN ? (uint32_t)MPT_MIN(b, 1e9) : EMU_BURST_MIN;
	}
	if (!e->cfg.queue_bytes) {
		double q = bytes_per_s * (double)EMU_QUEUE_TIME_NS / 1e9;
		e->cfg.queue_bytes =
		    q > EMU_QUEUE_BYTES_MIN ? (uint32_t)MPT_MIN(q, 1e9) : EMU_QUEUE_BYTES_MIN;
	}
	e->cap = e->cfg.queue_pkts;
	e->ring = mpt_calloc(mem, e->cap, sizeof(*e->ring));
	if (!e->ring) {
		mpt_free(mem, e);
		return MPT_ERR_NOMEM;
	}
	e->rng = cfg->seed;
	e->tokens = (double)e->cfg.burst_bytes;
	*out = e;
	return 0;
}

void mpt_emu_destroy(struct mpt_emu *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->count; i++)
		mpt_free(e->mem, e->ring[(e->head + i) % e->cap].data);
	mpt_free(e->mem, e->ring);
	mpt_free(e->mem, e);
}

/* Departure time of a len-byte packet arriving at now behind the packets
 * already queued, and the bucket state after it; or false when the bytes
 * waiting for tokens would exceed queue_bytes (tail drop, as tbf's limit). */
static bool rate_depart(struct mpt_emu *e, size_t len, uint64_t now, uint64_t *dep)
{
	if (!e->cfg.rate_bps) {
		*dep = now;
		return true;
	}
	double ns_per_byte = 8e9 / (double)e->cfg.rate_bps;
	if (e->last_dep > now) {
		/* Bytes still waiting: what the bucket must earn until last_dep. */
		double backlog = (double)(e->last_dep - now) / ns_per_byte;
		if (backlog + (double)len > (double)e->cfg.queue_bytes)
			return false;
	}
	uint64_t t0 = MPT_MAX(now, e->last_dep);
	double tokens = e->tokens + (double)(t0 - e->last_dep) / ns_per_byte;
	if (tokens > (double)e->cfg.burst_bytes)
		tokens = (double)e->cfg.burst_bytes;
	if (tokens >= (double)len) {
		*dep = t0;
		e->tokens = tokens - (double)len;
	} else {
		*dep = t0 + (uint64_t)ceil(((double)len - tokens) * ns_per_byte);
		e->tokens = 0;
	}
	e->last_dep = *dep;
	return true;
}

int mpt_emu_push(struct mpt_emu *e, const uint8_t *pkt, size_t len, uint64_t now)
{
	if (!e || !pkt || !len)
		return MPT_ERR_INVAL;
	e->stats.in++;
	if (e->cfg.loss > 0) {
		/* 53 random bits -> uniform [0, 1). */
		double u = (double)(mpt_splitmix64(&e->rng) >> 11) * 0x1.0p-53;
		if (u < e->cfg.loss) {
			e->stats.lost++;
			return MPT_EMU_LOST;
		}
	}
	if (e->count >= e->cap) {
		e->stats.dropped++;
		return MPT_EMU_DROPPED;
	}
	uint64_t dep;
	if (!rate_depart(e, len, now, &dep)) {
		e->stats.dropped++;
		return MPT_EMU_DROPPED;
	}
	uint8_t *copy = mpt_malloc(e->mem, len);
	if (!copy)
		return MPT_ERR_NOMEM;
	memcpy(copy, pkt, len);
	struct emu_slot *s = &e->ring[(e->head + e->count) % e->cap];
	s->due = dep + e->cfg.delay_ns;
	if (e->count) {
		/* FIFO: never release before the packet ahead (clock steps). */
		const struct emu_slot *prev = &e->ring[(e->head + e->count - 1) % e->cap];
		s->due = MPT_MAX(s->due, prev->due);
	}
	s->data = copy;
	s->len = len;
	e->count++;
	return MPT_EMU_QUEUED;
}

uint64_t mpt_emu_next_due(const struct mpt_emu *e)
{
	return e && e->count ? e->ring[e->head].due : MPT_TIME_NEVER;
}

long mpt_emu_pop(struct mpt_emu *e, uint64_t now, uint8_t *buf, size_t cap)
{
	if (!e || !e->count || e->ring[e->head].due > now)
		return MPT_ERR_AGAIN;
	struct emu_slot *s = &e->ring[e->head];
	long rc;
	if (s->len > cap) {
		e->stats.dropped++;
		rc = MPT_ERR_NOSPACE;
	} else {
		memcpy(buf, s->data, s->len);
		e->stats.out++;
		rc = (long)s->len;
	}
	mpt_free(e->mem, s->data);
	s->data = NULL;
	e->head = (e->head + 1) % e->cap;
	e->count--;
	return rc;
}

size_t mpt_emu_queued(const struct mpt_emu *e)
{
	return e ? e->count : 0;
}

void mpt_emu_stats(const struct mpt_emu *e, struct mpt_emu_stats *out)
{
	*out = e->stats;
}
