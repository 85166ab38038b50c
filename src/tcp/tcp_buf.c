/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Buffers of the TCP engine: a byte ring (send and receive) and the
 * receiver's out-of-order reassembly (interval list over the receive ring,
 * no per-segment allocation) plus SACK block generation (RFC 2018 §4).
 */
#include "tcp/tcp_internal.h"

int tcp_ring_init(struct tcp_ring *r, const struct mpt_mem *m, uint32_t cap)
{
	memset(r, 0, sizeof(*r));
	r->buf = mpt_malloc(m, cap);
	if (!r->buf)
		return MPT_ERR_NOMEM;
	r->cap = cap;
	return 0;
}

void tcp_ring_free(struct tcp_ring *r, const struct mpt_mem *m)
{
	mpt_free(m, r->buf);
	r->buf = NULL;
}

/* Write n bytes at logical offset off from head (does not change len). */
void tcp_ring_write(struct tcp_ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
	if (r->cap == 0) /* released (tcp_release_buffers) */
		return;
	uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % r->cap);
	uint32_t first = MPT_MIN(n, r->cap - pos);

	memcpy(r->buf + pos, src, first);
	if (n > first)
		memcpy(r->buf, src + first, n - first);
}

void tcp_ring_read(const struct tcp_ring *r, uint32_t off, uint8_t *dst, uint32_t n)
{
	if (r->cap == 0) /* released (tcp_release_buffers) */
		return;
	uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % r->cap);
	uint32_t first = MPT_MIN(n, r->cap - pos);

	memcpy(dst, r->buf + pos, first);
	if (n > first)
		memcpy(dst + first, r->buf, n - first);
}

void tcp_ring_consume(struct tcp_ring *r, uint32_t n)
{
	if (r->cap == 0) /* released (tcp_release_buffers) */
		return;
	r->head = (uint32_t)(((uint64_t)r->head + n) % r->cap);
	r->len -= n;
}

/* In-order bytes the application can read. */
uint32_t tcp_rcv_avail(const struct mpt_tcp *t)
{
	return t->rb.len;
}

/* Free receive space to the right of rcv_nxt (RFC 9293 RCV.BUFF - queued). */
uint32_t tcp_rcv_space(const struct mpt_tcp *t)
{
	uint32_t edge = t->read_seq + t->rb.cap;

	return mpt_seq_gt(edge, t->rcv_nxt) ? edge - t->rcv_nxt : 0;
}

/* Copy the parts of [seq, seq+n) not yet covered by out-of-order intervals. */
static void rcv_write_uncovered(struct mpt_tcp *t, uint32_t seq, const uint8_t *data, uint32_t n)
{
	uint32_t end = seq + n;
	uint32_t pos = seq;

	/*
	 * Overlapping data: bytes already held win (we never overwrite stored
	 * bytes with a retransmission's copy), so a misbehaving peer sending
	 * different bytes for the same sequence numbers cannot change data the
	 * receiver already has.
	 */
	for (uint32_t i = 0; i < t->n_ofo && mpt_seq_lt(pos, end); i++) {
		const struct tcp_range *g = &t->ofo[i];

		if (mpt_seq_leq(g->r, pos))
			continue;
		if (mpt_seq_geq(g->l, end))
			break;
		if (mpt_seq_lt(pos, g->l))
			tcp_ring_write(&t->rb, pos - t->read_seq, data + (pos - seq), g->l - pos);
		pos = g->r;
	}
	if (mpt_seq_lt(pos, end))
		tcp_ring_write(&t->rb, pos - t->read_seq, data + (pos - seq), end - pos);
}

/* Would inserting [l, r) need a new interval slot? */
static bool ofo_needs_slot(const struct mpt_tcp *t, uint32_t l, uint32_t r)
{
	for (uint32_t i = 0; i < t->n_ofo; i++) {
		/* touching or overlapping an existing interval merges into it */
		if (mpt_seq_leq(t->ofo[i].l, r) && mpt_seq_leq(l, t->ofo[i].r))
			return false;
	}
	return true;
}

static void ofo_insert(struct mpt_tcp *t, uint32_t l, uint32_t r)
{
	uint32_t i = 0, j;

	while (i < t->n_ofo && mpt_seq_lt(t->ofo[i].r, l))
		i++;
	/* i: first interval that ends at or after l; merge all that touch [l, r) */
	j = i;
	while (j < t->n_ofo && mpt_seq_leq(t->ofo[j].l, r)) {
		l = mpt_seq_min(l, t->ofo[j].l);
		r = mpt_seq_max(r, t->ofo[j].r);
		j++;
	}
	if (j == i) {
		memmove(&t->ofo[i + 1], &t->ofo[i], (t->n_ofo - i) * sizeof(t->ofo[0]));
		t->n_ofo++;
	} else if (j > i + 1) {
		memmove(&t->ofo[i + 1], &t->ofo[j], (t->n_ofo - j) * sizeof(t->ofo[0]));
		t->n_ofo -= j - i - 1;
	}
	t->ofo[i].l = l;
	t->ofo[i].r = r;
}

/* Remember that the block containing seq changed (RFC 2018 §4: first block
 * reports the most recent segment, then the most recently reported ones). */
static void sack_note(struct mpt_tcp *t, uint32_t seq)
{
	uint32_t n = MPT_MIN(t->n_sack_recent, (uint32_t)MPT_TCP_MAX_SACK - 1);

	memmove(&t->sack_recent[1], &t->sack_recent[0], n * sizeof(t->sack_recent[0]));
	t->sack_recent[0] = seq;
	t->n_sack_recent = n + 1;
}

/*
 * Store payload [seq, seq+n) that the caller already trimmed to
 * [rcv_nxt, rcv_adv).  Returns TCP_RCV_* bits.
 */
/* Report [l, r) as a duplicate in the first SACK block of the next ACK
 * (RFC 2883 §4: only the most recent duplicate is reported). */
void tcp_dsack_note(struct mpt_tcp *t, uint32_t l, uint32_t r)
{
	if (!t->sack_ok || !mpt_seq_lt(l, r))
		return;
	t->dsack_pending = true;
	t->dsack.l = l;
	t->dsack.r = r;
}

unsigned tcp_rcv_data(struct mpt_tcp *t, uint32_t seq, const uint8_t *data, uint32_t n)
{
	uint32_t end = seq + n;
	unsigned res = 0;

	if (n == 0 || t->rb.cap == 0)
		return 0;
	/* RFC 2883 §4 (2): data already held out of order arrived again. */
	for (uint32_t i = 0; t->sack_ok && i < t->n_ofo; i++) {
		uint32_t l = mpt_seq_max(seq, t->ofo[i].l), r = mpt_seq_min(end, t->ofo[i].r);

		if (mpt_seq_lt(l, r)) {
			tcp_dsack_note(t, l, r);
			mpt_mib_inc(t->cfg.mib, MPT_MIB_TCPDSACKOfoSent);
			t->ack_now = true;
			break;
		}
		if (mpt_seq_geq(t->ofo[i].l, end))
			break;
	}
	if (seq != t->rcv_nxt) {
		if (t->n_ofo >= TCP_OFO_MAX && ofo_needs_slot(t, seq, end))
			return TCP_RCV_DROP;
		rcv_write_uncovered(t, seq, data, n);
		ofo_insert(t, seq, end);
		sack_note(t, seq);
		return TCP_RCV_OFO;
	}
	if (t->cb.ext_rcv_direct && t->read_seq == t->rcv_nxt) {
		/* Nothing readable waits in the ring: the owner may take the
		 * head of this segment itself (up to the first out-of-order
		 * interval, whose bytes the ring already holds).  Taken bytes
		 * are as if written and read at once: the ring's head moves
		 * with read_seq, so held out-of-order bytes keep their place. */
		uint32_t lim = t->n_ofo > 0 ? MPT_MIN(n, t->ofo[0].l - seq) : n;
		uint32_t k = lim > 0 ? t->cb.ext_rcv_direct(t->cb.ud, seq, data, lim) : 0;

		if (k > 0) {
			k = MPT_MIN(k, lim);
			t->rb.head = (uint32_t)(((uint64_t)t->rb.head + k) % t->rb.cap);
			t->read_seq += k;
			seq += k;
			data += k;
			n -= k;
		}
	}
	if (n > 0)
		rcv_write_uncovered(t, seq, data, n);
	t->rcv_nxt = end;
	/* Pull in out-of-order intervals that are now contiguous. */
	while (t->n_ofo > 0 && mpt_seq_leq(t->ofo[0].l, t->rcv_nxt)) {
		t->rcv_nxt = mpt_seq_max(t->rcv_nxt, t->ofo[0].r);
		memmove(&t->ofo[0], &t->ofo[1], (t->n_ofo - 1) * sizeof(t->ofo[0]));
		t->n_ofo--;
		res |= TCP_RCV_FILLED;
	}
	t->rb.len = t->rcv_nxt - t->read_seq;
	return res | TCP_RCV_INORDER;
}

/*
 * Fill up to max SACK blocks for an outgoing ACK: the block with the most
 * recently received segment first, then the other recently reported ones,
 * then any remaining intervals (RFC 2018 §4).  Returns the count.
 */
uint32_t tcp_sack_blocks(struct mpt_tcp *t, struct mpt_sack_block *out, uint32_t max)
{
	uint32_t n = 0, keep = 0;
	bool used[TCP_OFO_MAX] = {false};

	if (t->n_ofo == 0) {
		t->n_sack_recent = 0;
		return 0;
	}
	for (uint32_t k = 0; k < t->n_sack_recent; k++) {
		uint32_t s = t->sack_recent[k];

		for (uint32_t i = 0; i < t->n_ofo; i++) {
			if (mpt_seq_leq(t->ofo[i].l, s) && mpt_seq_lt(s, t->ofo[i].r)) {
				if (!used[i]) {
					used[i] = true;
					t->sack_recent[keep++] = s;
					if (n < max) {
						out[n].left = t->ofo[i].l;
						out[n].right = t->ofo[i].r;
						n++;
					}
				}
				break;
			}
		}
	}
	t->n_sack_recent = keep;
	for (uint32_t i = 0; i < t->n_ofo && n < max; i++) {
		if (used[i])
			continue;
		out[n].left = t->ofo[i].l;
		out[n].right = t->ofo[i].r;
		n++;
	}
	return n;
}

void tcp_release_buffers(struct mpt_tcp *t)
{
	/* TIME-WAIT lasts 2 MSL and a closed engine may wait for its owner:
	 * neither sends or receives data any more, so the rings go as soon
	 * as they are empty (like Linux's small time-wait sockets).  What is
	 * left is the engine itself and its per-segment records. */
	if (t->state != MPT_TCP_TIME_WAIT && t->state != MPT_TCP_CLOSED)
		return;
	if (t->sb.buf && t->sb.len == 0) {
		tcp_ring_free(&t->sb, &t->mem);
		t->sb.cap = 0;
		t->sb.head = 0;
	}
	if (t->rb.buf && t->rb.len == 0 && t->n_ofo == 0) {
		tcp_ring_free(&t->rb, &t->mem);
		t->rb.cap = 0;
		t->rb.head = 0;
	}
	/* RACK's transmission records: nothing outstanding any more (the
	 * send path skips recording without them). */
	if (t->txr && t->txr_n == 0 && t->snd_una == t->snd_nxt)
		tcp_txr_free(t);
}
