/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-subflow DSS mapping lists (RFC 8684 §3.3.1): which data sequence
 * numbers the bytes of a subflow carry.  A bounded ring of mappings in
 * subflow sequence order; subflow numbers are relative 32-bit values that
 * wrap, so every comparison goes through mpt_seq_* (or an unsigned
 * difference from the oldest mapping).
 *
 * A len of 0 is the infinite mapping (RFC 8684 §3.3.1: "a data-level length
 * of 0 ... an infinite mapping", used on fallback): it covers every subflow
 * byte from its ssn on.
 */
#include "common.h"
#include "mptcp/dsbuf.h"

int mpt_maplist_init(struct mpt_maplist *ml, const struct mpt_mem *mem, size_t cap)
{
	if (!ml)
		return MPT_ERR_INVAL;
	memset(ml, 0, sizeof(*ml));
	if (!mem || cap == 0 || cap > SIZE_MAX / 2 / sizeof(struct mpt_map))
		return MPT_ERR_INVAL;
	ml->v = mpt_calloc(mem, cap, sizeof(struct mpt_map));
	if (!ml->v)
		return MPT_ERR_NOMEM;
	ml->mem = mem;
	ml->cap = cap;
	ml->max_cap = cap;
	return 0;
}

void mpt_maplist_set_max(struct mpt_maplist *ml, size_t max)
{
	ml->max_cap = MPT_MAX(max, ml->cap);
}

int mpt_maplist_reserve(struct mpt_maplist *ml, size_t want)
{
	if (want <= ml->cap)
		return 0;
	if (want > ml->max_cap)
		return MPT_ERR_LIMIT;
	size_t ncap = ml->cap;
	while (ncap < want)
		ncap *= 2;
	ncap = MPT_MIN(ncap, ml->max_cap);
	struct mpt_map *v = mpt_calloc(ml->mem, ncap, sizeof(*v));
	if (!v)
		return MPT_ERR_NOMEM;
	for (size_t i = 0; i < ml->n; i++)
		v[i] = *mpt_maplist_at(ml, i);
	mpt_free(ml->mem, ml->v);
	ml->v = v;
	ml->cap = ncap;
	ml->head = 0;
	return 0;
}

void mpt_maplist_free(struct mpt_maplist *ml)
{
	if (!ml)
		return;
	if (ml->v)
		mpt_free(ml->mem, ml->v);
	ml->v = NULL;
	ml->cap = 0;
	ml->head = 0;
	ml->n = 0;
}

void mpt_maplist_clear(struct mpt_maplist *ml)
{
	ml->head = 0;
	ml->n = 0;
}

size_t mpt_maplist_count(const struct mpt_maplist *ml)
{
	return ml->n;
}

/* Array index of the i-th mapping from the oldest (i < n). */
static size_t map_pos(const struct mpt_maplist *ml, size_t i)
{
	size_t pos = ml->head + i;
	return pos >= ml->cap ? pos - ml->cap : pos;
}

const struct mpt_map *mpt_maplist_at(const struct mpt_maplist *ml, size_t i)
{
	return i < ml->n ? &ml->v[map_pos(ml, i)] : NULL;
}

struct mpt_map *mpt_maplist_at_mut(struct mpt_maplist *ml, size_t i)
{
	return i < ml->n ? &ml->v[map_pos(ml, i)] : NULL;
}

const struct mpt_map *mpt_maplist_first(const struct mpt_maplist *ml)
{
	return mpt_maplist_at(ml, 0);
}

/*
 * Same mapping: the checksum only counts when present (an absent one is an
 * arbitrary value in the struct).
 */
static bool map_same(const struct mpt_map *a, const struct mpt_map *b)
{
	return a->dsn == b->dsn && a->ssn == b->ssn && a->len == b->len &&
	       a->has_csum == b->has_csum && (!a->has_csum || a->csum == b->csum) &&
	       a->data_fin == b->data_fin;
}

bool mpt_map_covers(const struct mpt_map *m, uint32_t ssn)
{
	if (m->len == 0)
		return mpt_seq_geq(ssn, m->ssn);
	return (uint32_t)(ssn - m->ssn) < m->len;
}

int mpt_maplist_push(struct mpt_maplist *ml, const struct mpt_map *m)
{
	const struct mpt_map *last;
	size_t i, pos;

	if (!m)
		return MPT_ERR_INVAL;
	if (ml->n > 0) {
		last = mpt_maplist_at(ml, ml->n - 1);
		/* RFC 8684 §3.3.1: a DSS may be repeated on several segments. */
		if (map_same(last, m))
			return 0;
		/*
		 * Overlap in subflow space: the new mapping starts before the
		 * newest one ends (an infinite mapping never ends).  Only an
		 * exact repeat of a held mapping (a retransmitted segment with
		 * its original DSS) is acceptable; anything else would map the
		 * same subflow bytes to two places.
		 */
		if (last->len == 0 || mpt_seq_lt(m->ssn, last->ssn + last->len)) {
			for (i = 0; i < ml->n; i++)
				if (map_same(mpt_maplist_at(ml, i), m))
					return 0;
			return MPT_ERR_PROTO;
		}
	}
	if (ml->n >= ml->cap)
		return MPT_ERR_LIMIT;
	pos = ml->head + ml->n;
	if (pos >= ml->cap)
		pos -= ml->cap;
	ml->v[pos] = *m;
	ml->n++;
	return 0;
}

void mpt_maplist_replace_last(struct mpt_maplist *ml, const struct mpt_map *m)
{
	if (ml->n == 0)
		return;
	if (!m) {
		ml->n--;
		return;
	}
	size_t pos = ml->head + ml->n - 1;
	if (pos >= ml->cap)
		pos -= ml->cap;
	ml->v[pos] = *m;
}

const struct mpt_map *mpt_maplist_find(const struct mpt_maplist *ml, uint32_t ssn)
{
	size_t i = mpt_maplist_find_index(ml, ssn);
	return i < ml->n ? mpt_maplist_at(ml, i) : NULL;
}

size_t mpt_maplist_find_index(const struct mpt_maplist *ml, uint32_t ssn)
{
	const struct mpt_map *first = mpt_maplist_first(ml);
	uint32_t key;
	size_t lo, hi;

	if (!first || mpt_seq_lt(ssn, first->ssn))
		return ml->n;
	/*
	 * Starts are strictly increasing in subflow order and do not overlap,
	 * so as offsets from the oldest start they are sorted: binary search
	 * for the last mapping starting at or before ssn.
	 */
	key = ssn - first->ssn;
	lo = 0;
	hi = ml->n; /* invariant: at(lo) starts <= key, at(hi) (if any) > key */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uint32_t)(mpt_maplist_at(ml, mid)->ssn - first->ssn) <= key)
			lo = mid;
		else
			hi = mid;
	}
	return mpt_map_covers(mpt_maplist_at(ml, lo), ssn) ? lo : ml->n;
}

void mpt_maplist_drop_before(struct mpt_maplist *ml, uint32_t ssn)
{
	while (ml->n > 0) {
		const struct mpt_map *m = &ml->v[ml->head];

		/* An infinite mapping never ends. */
		if (m->len == 0 || mpt_seq_gt(m->ssn + m->len, ssn))
			break;
		ml->head++;
		if (ml->head >= ml->cap)
			ml->head = 0;
		ml->n--;
	}
}
