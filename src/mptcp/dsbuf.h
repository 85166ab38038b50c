/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP data-level building blocks (RFC 8684 §3.3): the connection's send
 * buffer and reassembly buffer in 64-bit data sequence space, per-subflow
 * mapping lists, and the token table.  Pure data structures: no I/O, no
 * clock; memory only through struct mpt_mem.  Tests:
 * tests/unit/mptcp_{drcv,dsnd,map,token}_test.c.
 */
#ifndef MPT_MPTCP_DSBUF_H
#define MPT_MPTCP_DSBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

/* ---- data sequence numbers ------------------------------------------------ */

/*
 * 64-bit data sequence numbers are serial numbers: the IDSN is derived from
 * a key (RFC 8684 §3.1), so the data stream may cross 2^64 at any point of
 * a connection.  Every comparison of two DSNs goes through these (the live
 * part of the space, a few buffers wide, is far below 2^63); never `<` on
 * raw values.
 */
static inline bool mpt_dsn_lt(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}
static inline bool mpt_dsn_leq(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) <= 0;
}
static inline bool mpt_dsn_gt(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) > 0;
}
static inline bool mpt_dsn_geq(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) >= 0;
}
static inline uint64_t mpt_dsn_min(uint64_t a, uint64_t b)
{
	return mpt_dsn_lt(a, b) ? a : b;
}
static inline uint64_t mpt_dsn_max(uint64_t a, uint64_t b)
{
	return mpt_dsn_lt(a, b) ? b : a;
}
/** Bytes from a to b when b is at or after a, else 0. */
static inline uint64_t mpt_dsn_span(uint64_t a, uint64_t b)
{
	return mpt_dsn_lt(a, b) ? b - a : 0;
}
/** Whether dsn is in [start, start + len). */
static inline bool mpt_dsn_in(uint64_t dsn, uint64_t start, uint64_t len)
{
	return dsn - start < len;
}

/* ---- data-level send buffer ------------------------------------------- */

/**
 * Bytes the application wrote and the peer has not DATA_ACKed, indexed by
 * DSN: [una, end).  A ring of cap bytes; end - una <= cap always.
 */
struct mpt_dsnd {
	const struct mpt_mem *mem;
	uint8_t *buf;
	size_t cap;
	uint64_t una; /**< oldest byte not yet DATA_ACKed */
	uint64_t end; /**< DSN after the last byte written */
	size_t head;  /**< ring index of una (internal) */
};

/**
 * Allocate cap bytes (cap > 0); the first byte written gets DSN isn.
 * Returns 0, MPT_ERR_INVAL (NULL argument, cap 0) or MPT_ERR_NOMEM.
 */
int mpt_dsnd_init(struct mpt_dsnd *b, const struct mpt_mem *mem, size_t cap, uint64_t isn);
void mpt_dsnd_free(struct mpt_dsnd *b);
/** Append up to len bytes; returns bytes accepted (0 when full). */
size_t mpt_dsnd_write(struct mpt_dsnd *b, const void *data, size_t len);
/** Free space. */
size_t mpt_dsnd_space(const struct mpt_dsnd *b);
/** Bytes held, end - una (written and not yet DATA_ACKed). */
size_t mpt_dsnd_used(const struct mpt_dsnd *b);
/**
 * Release bytes below data_ack.  A data_ack outside (una, end] is ignored
 * (returns 0); otherwise returns the number of bytes released.
 */
size_t mpt_dsnd_ack(struct mpt_dsnd *b, uint64_t data_ack);
/**
 * Copy [dsn, dsn+len) into out.  Returns MPT_ERR_INVAL when the range is
 * not inside [una, end); 0 on success.
 */
int mpt_dsnd_copy(const struct mpt_dsnd *b, uint64_t dsn, void *out, size_t len);
/** Where [dsn, dsn + len) lies in the buffer, without copying: in p[0]
 *  (n[0] bytes) and, when the ring wraps, p[1] (n[1]; else 0).  The same
 *  checks and result as mpt_dsnd_copy. */
int mpt_dsnd_peek(const struct mpt_dsnd *b, uint64_t dsn, size_t len, const uint8_t *p[2],
		  size_t n[2]);

/* ---- data-level reassembly ---------------------------------------------- */

/* 512 ranges (8 KiB per connection): a long path that loses a burst leaves
 * one hole per mapping it carried, and when the ranges run out the other
 * subflows cannot be drained either (measured: 63 holes after one burst
 * on a 100 ms path next to a 10 ms one, bench/policies). */
#define MPT_DRCV_MAX_RANGES 512

/**
 * Receive side: a ring of cap bytes holding [read, read + cap).  [read, nxt)
 * is in order and readable; beyond nxt up to MPT_DRCV_MAX_RANGES
 * out-of-order ranges.  DATA_ACK = nxt.  The window we can offer relative to
 * DATA_ACK is cap - (nxt - read).
 */
struct mpt_drcv {
	const struct mpt_mem *mem;
	uint8_t *buf;
	size_t cap;
	uint64_t read; /**< DSN of the next byte the application reads */
	uint64_t nxt;  /**< first DSN not yet received in order (DATA_ACK) */
	size_t head;   /**< ring index of read (internal) */
	size_t nranges;
	struct {
		uint64_t start, end; /* [start, end), start > nxt, sorted, disjoint */
	} ranges[MPT_DRCV_MAX_RANGES];
};

/** Returns 0, MPT_ERR_INVAL (NULL argument, cap 0) or MPT_ERR_NOMEM. */
int mpt_drcv_init(struct mpt_drcv *r, const struct mpt_mem *mem, size_t cap, uint64_t isn);
void mpt_drcv_free(struct mpt_drcv *r);
/**
 * Store len bytes at dsn.  Bytes below nxt (duplicates) are ignored; bytes
 * at or beyond read + cap are trimmed; bytes already held out of order are
 * kept (first copy wins: a retransmission never overwrites).  Returns the
 * number of bytes newly stored (>= 0), or MPT_ERR_LIMIT when the data
 * would need a new out-of-order range and all are in use (nothing stored),
 * or MPT_ERR_INVAL for NULL data with len > 0.
 */
long mpt_drcv_insert(struct mpt_drcv *r, uint64_t dsn, const uint8_t *data, size_t len);
/** Read in-order bytes; returns bytes copied (out NULL: discard them). */
size_t mpt_drcv_read(struct mpt_drcv *r, void *out, size_t len);
size_t mpt_drcv_readable(const struct mpt_drcv *r);
/** Window relative to nxt (DATA_ACK). */
size_t mpt_drcv_window(const struct mpt_drcv *r);

/* ---- mapping lists (one per subflow and direction) ------------------------ */

/** A DSS mapping: subflow bytes [ssn, ssn+len) carry data [dsn, dsn+len). */
struct mpt_map {
	uint64_t dsn;
	uint32_t ssn;  /**< relative subflow sequence number (RFC 8684 §3.3.1) */
	uint32_t len;  /**< data-level length (<= 65535 on the wire; 0 = infinite) */
	uint16_t csum; /**< DSS checksum (when has_csum) */
	bool has_csum;
	bool data_fin; /**< DATA_FIN rides on this mapping (occupies dsn + len) */
	/** Sent mappings: the subflow's engine reads this payload from the
	 *  data-level send buffer (mpt_tcp_send_owned), not from its ring. */
	bool owned;
};

/** A bounded FIFO of mappings in subflow sequence order. */
struct mpt_maplist {
	const struct mpt_mem *mem;
	struct mpt_map *v;
	size_t cap, head, n;
	size_t max_cap; /* mpt_maplist_reserve grows cap up to this */
};

/** Room for cap mappings, which is also the most it grows to (see
 * mpt_maplist_set_max).  Returns 0, MPT_ERR_INVAL (NULL argument, cap 0)
 * or MPT_ERR_NOMEM. */
int mpt_maplist_init(struct mpt_maplist *ml, const struct mpt_mem *mem, size_t cap);
/** Let mpt_maplist_reserve grow the room up to max (never below cap). */
void mpt_maplist_set_max(struct mpt_maplist *ml, size_t max);
/** Room for at least want mappings: grows by doubling, up to the maximum;
 * the held mappings are kept in order.  Returns 0, MPT_ERR_LIMIT (beyond
 * the maximum) or MPT_ERR_NOMEM (the list is unchanged then). */
int mpt_maplist_reserve(struct mpt_maplist *ml, size_t want);
void mpt_maplist_free(struct mpt_maplist *ml);
/**
 * Append a mapping.  If it equals the newest one (a repeated DSS), nothing
 * is added and 0 is returned.  A mapping that starts before the newest one
 * ends (overlap in subflow space) is rejected with MPT_ERR_PROTO unless it
 * is identical to a held mapping (then 0, nothing added).  A mapping
 * behind the oldest held one (already dropped) is an overlap too, so the
 * caller should not push mappings of subflow data it has already consumed.
 * After an infinite mapping (len 0) nothing else can be pushed.
 * "Identical" compares every field, csum only when has_csum.
 * MPT_ERR_LIMIT when full, MPT_ERR_INVAL for NULL m.
 */
int mpt_maplist_push(struct mpt_maplist *ml, const struct mpt_map *m);
/** Replace the newest mapping with m (same start, a shorter length), or
 * drop it when m is NULL.  Nothing when the list is empty. */
void mpt_maplist_replace_last(struct mpt_maplist *ml, const struct mpt_map *m);
/** The mapping covering subflow byte ssn (wrap-safe), or NULL. */
const struct mpt_map *mpt_maplist_find(const struct mpt_maplist *ml, uint32_t ssn);
/** Index (from the oldest) of the mapping covering ssn, or count when none. */
size_t mpt_maplist_find_index(const struct mpt_maplist *ml, uint32_t ssn);
/** Drop mappings that end at or before ssn (wrap-safe); never an infinite one. */
void mpt_maplist_drop_before(struct mpt_maplist *ml, uint32_t ssn);
/** Drop every mapping. */
void mpt_maplist_clear(struct mpt_maplist *ml);
/** Whether m covers subflow byte ssn (wrap-safe; len 0 covers ssn and beyond). */
bool mpt_map_covers(const struct mpt_map *m, uint32_t ssn);
/** Oldest mapping or NULL. */
const struct mpt_map *mpt_maplist_first(const struct mpt_maplist *ml);
size_t mpt_maplist_count(const struct mpt_maplist *ml);
/** i-th mapping from the oldest (i < count). */
const struct mpt_map *mpt_maplist_at(const struct mpt_maplist *ml, size_t i);
/** The same, writable (for flags that are not part of the mapping). */
struct mpt_map *mpt_maplist_at_mut(struct mpt_maplist *ml, size_t i);

/* ---- token table ----------------------------------------------------------- */

/** Tokens of local connections (RFC 8684 §3.2: MP_JOIN names the connection by token). */
struct mpt_token_ent {
	uint32_t token;
	void *conn;
	struct mpt_token_ent *next;
};

struct mpt_token_table {
	const struct mpt_mem *mem;
	struct mpt_token_ent **buckets;
	size_t mask;
	size_t count;
	uint64_t seed; /**< keyed bucket choice (peers pick tokens' keys, not us) */
	/** One stack of a group (mpt_stack_cfg.shards > 1): new keys' tokens
	 *  satisfy token % shards == shard. */
	uint16_t shards, shard;
};

/**
 * nbuckets is rounded up to a power of two (0 gives 1).  Returns 0,
 * MPT_ERR_INVAL (NULL argument, absurd size) or MPT_ERR_NOMEM.
 */
int mpt_token_table_init(struct mpt_token_table *t, const struct mpt_mem *mem, size_t nbuckets,
			 uint64_t seed);
void mpt_token_table_free(struct mpt_token_table *t);
/**
 * Returns 0, MPT_ERR_EXIST when the token is in use, MPT_ERR_NOMEM, or
 * MPT_ERR_INVAL on a table whose init failed.  conn may be NULL.
 */
int mpt_token_insert(struct mpt_token_table *t, uint32_t token, void *conn);
/** The conn inserted with token, or NULL. */
void *mpt_token_lookup(const struct mpt_token_table *t, uint32_t token);
/** Whether token is in the table (also for an entry inserted with conn NULL). */
bool mpt_token_exists(const struct mpt_token_table *t, uint32_t token);
/** Returns 0 or MPT_ERR_NOTFOUND. */
int mpt_token_remove(struct mpt_token_table *t, uint32_t token);
/**
 * Draw keys until one's token is unused (RFC 8684 §3.1: the key "MUST be
 * unique" locally by its token), derive token and IDSN for the version
 * (crypto/crypto.h) and insert it for conn.  MPT_ERR_LIMIT after 16
 * collisions in a row; MPT_ERR_INVAL for a NULL rnd; MPT_ERR_NOMEM; the
 * errors of mpt_key_token_idsn() (MPT_ERR_UNSUPPORTED for a bad version).
 * key, token and idsn may be NULL; they are written only on success.
 */
int mpt_token_new_key(struct mpt_token_table *t, int version, mpt_rand_fn rnd, void *rnd_ud,
		      void *conn, uint64_t *key, uint32_t *token, uint64_t *idsn);

#endif /* MPT_MPTCP_DSBUF_H */
