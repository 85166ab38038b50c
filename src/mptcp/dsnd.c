/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data-level send buffer (RFC 8684 §3.3): bytes the application wrote and
 * the peer has not yet DATA_ACKed, kept so that any subflow can (re)send
 * them by DSN.  A ring of cap bytes; b->head is the ring index of b->una.
 *
 * DSNs are 64-bit and, in theory, wrap at 2^64 (the IDSN is a hash output,
 * RFC 8684 §3.1, so it can start anywhere).  Every comparison is therefore
 * done on unsigned differences from una, never on absolute values.
 */
#include "common.h"
#include "mptcp/dsbuf.h"

/* Bytes held: end - una (<= cap). */
static size_t dsnd_used(const struct mpt_dsnd *b)
{
	return (size_t)(b->end - b->una);
}

/* Ring index of the byte off bytes after una (off < cap). */
static size_t dsnd_pos(const struct mpt_dsnd *b, size_t off)
{
	size_t pos = b->head + off;

	/* head < cap and off < cap: one subtraction, no overflow for cap <= SIZE_MAX / 2. */
	return pos >= b->cap ? pos - b->cap : pos;
}

int mpt_dsnd_init(struct mpt_dsnd *b, const struct mpt_mem *mem, size_t cap, uint64_t isn)
{
	if (!b)
		return MPT_ERR_INVAL;
	memset(b, 0, sizeof(*b));
	if (!mem || cap == 0 || cap > SIZE_MAX / 2)
		return MPT_ERR_INVAL;
	b->buf = mpt_malloc(mem, cap);
	if (!b->buf)
		return MPT_ERR_NOMEM;
	b->mem = mem;
	b->cap = cap;
	b->una = isn;
	b->end = isn;
	return 0;
}

void mpt_dsnd_free(struct mpt_dsnd *b)
{
	if (!b)
		return;
	if (b->buf)
		mpt_free(b->mem, b->buf);
	b->buf = NULL;
	b->cap = 0;
	b->head = 0;
	b->end = b->una;
}

size_t mpt_dsnd_space(const struct mpt_dsnd *b)
{
	return b->cap - dsnd_used(b);
}

size_t mpt_dsnd_used(const struct mpt_dsnd *b)
{
	return dsnd_used(b);
}

size_t mpt_dsnd_write(struct mpt_dsnd *b, const void *data, size_t len)
{
	size_t n = MPT_MIN(len, mpt_dsnd_space(b));
	size_t pos, first;

	if (n == 0 || !data)
		return 0;
	pos = dsnd_pos(b, dsnd_used(b) % b->cap);
	first = MPT_MIN(n, b->cap - pos);
	memcpy(b->buf + pos, data, first);
	if (n > first)
		memcpy(b->buf, (const uint8_t *)data + first, n - first);
	b->end += n;
	return n;
}

size_t mpt_dsnd_ack(struct mpt_dsnd *b, uint64_t data_ack)
{
	/*
	 * RFC 8684 §3.3.2: a DATA_ACK acknowledges everything below it.  One
	 * outside (una, end] is old (a reordered option) or acknowledges data
	 * never sent; either way it must not move una.
	 */
	uint64_t d = data_ack - b->una;

	if (d == 0 || d > (uint64_t)dsnd_used(b))
		return 0;
	b->una = data_ack;
	b->head = dsnd_pos(b, (size_t)d % b->cap);
	return (size_t)d;
}

int mpt_dsnd_peek(const struct mpt_dsnd *b, uint64_t dsn, size_t len, const uint8_t *p[2],
		  size_t n[2])
{
	uint64_t off = dsn - b->una;
	size_t used = dsnd_used(b);

	p[0] = p[1] = NULL;
	n[0] = n[1] = 0;
	if (off > (uint64_t)used || len > used - (size_t)off)
		return MPT_ERR_INVAL;
	if (len == 0)
		return 0;
	size_t pos = dsnd_pos(b, (size_t)off);
	n[0] = MPT_MIN(len, b->cap - pos);
	p[0] = b->buf + pos;
	if (len > n[0]) {
		n[1] = len - n[0];
		p[1] = b->buf;
	}
	return 0;
}

int mpt_dsnd_copy(const struct mpt_dsnd *b, uint64_t dsn, void *out, size_t len)
{
	const uint8_t *p[2];
	size_t n[2];
	int r = mpt_dsnd_peek(b, dsn, len, p, n);
	if (r < 0 || len == 0)
		return r;
	if (!out)
		return MPT_ERR_INVAL;
	memcpy(out, p[0], n[0]);
	if (n[1])
		memcpy((uint8_t *)out + n[0], p[1], n[1]);
	return 0;
}
