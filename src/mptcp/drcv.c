/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data-level reassembly (RFC 8684 §3.3): subflows deliver bytes tagged with
 * their DSN in any order; this buffer puts them back in data sequence order.
 *
 * Layout: a ring of cap bytes; r->head is the ring index of r->read, and the
 * byte with DSN d (read <= d < read + cap) lives at (head + (d - read)) % cap.
 * [read, nxt) is in order; out-of-order data beyond nxt is described by at
 * most MPT_DRCV_MAX_RANGES sorted, disjoint, non-adjacent ranges (adjacent
 * ones are merged), all with start > nxt and end <= read + cap.
 *
 * DSNs wrap at 2^64 in theory, so positions are always unsigned offsets from
 * nxt (or read), never compared as absolute values.
 */
#include "common.h"
#include "mptcp/dsbuf.h"

int mpt_drcv_init(struct mpt_drcv *r, const struct mpt_mem *mem, size_t cap, uint64_t isn)
{
	if (!r)
		return MPT_ERR_INVAL;
	memset(r, 0, sizeof(*r));
	if (!mem || cap == 0 || cap > SIZE_MAX / 2)
		return MPT_ERR_INVAL;
	r->buf = mpt_malloc(mem, cap);
	if (!r->buf)
		return MPT_ERR_NOMEM;
	r->mem = mem;
	r->cap = cap;
	r->read = isn;
	r->nxt = isn;
	return 0;
}

void mpt_drcv_free(struct mpt_drcv *r)
{
	if (!r)
		return;
	if (r->buf)
		mpt_free(r->mem, r->buf);
	r->buf = NULL;
	r->cap = 0;
	r->head = 0;
	r->nranges = 0;
	r->nxt = r->read;
}

size_t mpt_drcv_readable(const struct mpt_drcv *r)
{
	return (size_t)(r->nxt - r->read);
}

size_t mpt_drcv_window(const struct mpt_drcv *r)
{
	return r->cap - mpt_drcv_readable(r);
}

/* Copy n bytes into the ring at offset off from read (off + n <= cap). */
static void drcv_put(struct mpt_drcv *r, size_t off, const uint8_t *src, size_t n)
{
	size_t pos = r->head + off;
	size_t first;

	if (pos >= r->cap)
		pos -= r->cap;
	first = MPT_MIN(n, r->cap - pos);
	memcpy(r->buf + pos, src, first);
	if (n > first)
		memcpy(r->buf, src + first, n - first);
}

long mpt_drcv_insert(struct mpt_drcv *r, uint64_t dsn, const uint8_t *data, size_t len)
{
	size_t used = mpt_drcv_readable(r);
	size_t win = r->cap - used; /* room from nxt up to read + cap */
	uint64_t off, end;
	size_t i0, i1, j, stored = 0;
	uint64_t cur, ms, me;

	if (len == 0)
		return 0;
	if (!data)
		return MPT_ERR_INVAL;

	/*
	 * Duplicates: bytes below nxt were already delivered in order and are
	 * dropped (RFC 8684 §3.3: retransmissions on another subflow are
	 * normal).  "Below" is judged on the signed distance so that a DSN a
	 * little behind nxt across 2^64 still counts as old.
	 */
	if ((int64_t)(dsn - r->nxt) < 0) {
		uint64_t skip = r->nxt - dsn;

		if (skip >= (uint64_t)len)
			return 0;
		data += skip;
		len -= (size_t)skip;
		dsn = r->nxt;
	}

	/* Trim at the window edge read + cap: we never advertised beyond it. */
	off = dsn - r->nxt;
	if (off >= (uint64_t)win)
		return 0;
	if ((uint64_t)len > (uint64_t)win - off)
		len = (size_t)((uint64_t)win - off);
	end = off + len;

	/*
	 * Ranges i0..i1-1 overlap or touch [off, end) (relative to nxt).  All
	 * relative positions are <= win <= cap, so plain comparisons are safe.
	 */
	for (i0 = 0; i0 < r->nranges; i0++)
		if (r->ranges[i0].end - r->nxt >= off)
			break;
	for (i1 = i0; i1 < r->nranges; i1++)
		if (r->ranges[i1].start - r->nxt > end)
			break;

	/* A new isolated range beyond nxt needs a free slot; else store nothing. */
	if (off > 0 && i0 == i1 && r->nranges >= MPT_DRCV_MAX_RANGES)
		return MPT_ERR_LIMIT;

	/* Write only the gaps between held ranges: the first copy wins. */
	cur = off;
	for (j = i0; j < i1; j++) {
		uint64_t rs = r->ranges[j].start - r->nxt;
		uint64_t re = r->ranges[j].end - r->nxt;
		uint64_t gap_end = MPT_MIN(rs, end);

		if (gap_end > cur) {
			drcv_put(r, used + (size_t)cur, data + (cur - off),
				 (size_t)(gap_end - cur));
			stored += (size_t)(gap_end - cur);
		}
		if (re > cur)
			cur = re;
	}
	if (end > cur) {
		drcv_put(r, used + (size_t)cur, data + (cur - off), (size_t)(end - cur));
		stored += (size_t)(end - cur);
	}

	/* Merge [off, end) with ranges i0..i1-1 into one range [ms, me). */
	ms = off;
	me = end;
	if (i1 > i0) {
		ms = MPT_MIN(ms, r->ranges[i0].start - r->nxt);
		me = MPT_MAX(me, r->ranges[i1 - 1].end - r->nxt);
	}

	if (ms == 0) {
		/*
		 * The merged range starts at nxt: it becomes in-order data.  It
		 * absorbed every range touching it, so the next one (if any) is
		 * still separated by a gap.  Here i0 == 0.
		 */
		size_t rest = r->nranges - i1;

		memmove(&r->ranges[0], &r->ranges[i1], rest * sizeof(r->ranges[0]));
		r->nranges = rest;
		r->nxt += me;
	} else {
		size_t rest = r->nranges - i1;

		if (i1 == i0) {
			/* Open a slot at i0. */
			memmove(&r->ranges[i0 + 1], &r->ranges[i0], rest * sizeof(r->ranges[0]));
			r->nranges++;
		} else if (i1 - i0 > 1) {
			/* Collapse i0..i1-1 into slot i0. */
			memmove(&r->ranges[i0 + 1], &r->ranges[i1], rest * sizeof(r->ranges[0]));
			r->nranges -= i1 - i0 - 1;
		}
		r->ranges[i0].start = r->nxt + ms;
		r->ranges[i0].end = r->nxt + me;
	}
	return (long)stored;
}

size_t mpt_drcv_read(struct mpt_drcv *r, void *out, size_t len)
{
	size_t n = MPT_MIN(len, mpt_drcv_readable(r));
	size_t first;

	if (n == 0)
		return 0;
	if (out) {
		first = MPT_MIN(n, r->cap - r->head);
		memcpy(out, r->buf + r->head, first);
		if (n > first)
			memcpy((uint8_t *)out + first, r->buf, n - first);
	}
	r->head += n;
	if (r->head >= r->cap)
		r->head -= r->cap;
	r->read += n;
	return n;
}
