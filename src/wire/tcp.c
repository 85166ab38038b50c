/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP header (RFC 9293 §3.1) and option (RFC 9293 §3.2, RFC 7323, RFC 2018,
 * RFC 7413, RFC 8684) codecs.
 *
 * The option parser computes each option's extent from its length byte and
 * checks it against the area before reading any of its body, so a hostile
 * options area can at worst be rejected, never over-read.
 */
#include "wire/tcp.h"

#include "common.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip.h"

/* Exact option lengths (RFC 9293 §3.2, RFC 7323 §2.2/§3.2, RFC 2018 §2). */
#define TCPOLEN_MSS        4
#define TCPOLEN_WSCALE     3
#define TCPOLEN_SACK_PERM  2
#define TCPOLEN_SACK_BASE  2
#define TCPOLEN_SACK_BLOCK 8
#define TCPOLEN_TS         10
#define TCPOLEN_TFO_BASE   2
#define TCPOLEN_MPTCP_MIN  3 /* kind, length, subtype (RFC 8684 §3) */

/* TFO cookie limits (RFC 7413 §4.1.1). */
#define TFO_COOKIE_MIN 4
#define TFO_COOKIE_MAX 16

/* Offset of the checksum field in the TCP header. */
#define TCP_CSUM_OFF 16

int mpt_tcp_hdr_parse(struct mpt_tcp_hdr *out, const uint8_t *seg, size_t len)
{
	if (!out || (!seg && len))
		return MPT_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (len < MPT_TCP_HDR_LEN)
		return MPT_ERR_TRUNCATED;

	size_t hdr_len = (size_t)(seg[12] >> 4) * 4;

	if (hdr_len < MPT_TCP_HDR_LEN)
		return MPT_ERR_BADLEN;
	if (hdr_len > len)
		return MPT_ERR_TRUNCATED;

	out->sport = mpt_get16(seg);
	out->dport = mpt_get16(seg + 2);
	out->seq = mpt_get32(seg + 4);
	out->ack = mpt_get32(seg + 8);
	/* RFC 9293 §3.1: the low bit of byte 12 is AE (formerly NS, RFC
	 * 3540); the other three reserved bits are ignored on receipt. */
	out->flags = (uint16_t)((seg[12] & 0x01u) << 8 | seg[13]);
	out->window = mpt_get16(seg + 14);
	out->csum = mpt_get16(seg + 16);
	out->urg = mpt_get16(seg + 18);
	out->hdr_len = (uint8_t)hdr_len;
	out->opt = seg + MPT_TCP_HDR_LEN;
	out->opt_len = (uint8_t)(hdr_len - MPT_TCP_HDR_LEN);
	return 0;
}

/* Whether a known kind's total length olen is one it can have. */
static bool known_len_ok(uint8_t kind, size_t olen)
{
	switch (kind) {
	case MPT_TCPOPT_MSS:
		return olen == TCPOLEN_MSS;
	case MPT_TCPOPT_WSCALE:
		return olen == TCPOLEN_WSCALE;
	case MPT_TCPOPT_SACK_PERM:
		return olen == TCPOLEN_SACK_PERM;
	case MPT_TCPOPT_SACK:
		/* RFC 2018 §3: 8n + 2 bytes, at most 4 blocks in 40 bytes. */
		return olen >= TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK &&
		       olen <= TCPOLEN_SACK_BASE + MPT_TCP_MAX_SACK * TCPOLEN_SACK_BLOCK &&
		       (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_BLOCK == 0;
	case MPT_TCPOPT_TS:
		return olen == TCPOLEN_TS;
	case MPT_TCPOPT_TFO: {
		/* RFC 7413 §4.1.1: empty (cookie request) or a cookie of 4..16
		 * bytes whose length is even. */
		size_t clen = olen - TCPOLEN_TFO_BASE;

		return clen == 0 ||
		       (clen >= TFO_COOKIE_MIN && clen <= TFO_COOKIE_MAX && clen % 2 == 0);
	}
	case MPT_TCPOPT_MPTCP:
		return olen >= TCPOLEN_MPTCP_MIN;
	default:
		return true;
	}
}

static void record_ref(struct mpt_tcpopt_ref *refs, uint8_t *n, uint8_t max, size_t off,
		       size_t olen)
{
	if (*n >= max)
		return; /* more than we keep: skipped silently */
	refs[*n].off = (uint8_t)off;
	refs[*n].len = (uint8_t)olen;
	(*n)++;
}

int mpt_tcp_opts_parse(struct mpt_tcp_opts *out, const uint8_t *opt, size_t len)
{
	if (!out || (!opt && len))
		return MPT_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (len > MPT_TCP_MAX_OPT_LEN)
		return MPT_ERR_INVAL;

	size_t i = 0;

	while (i < len) {
		uint8_t kind = opt[i];

		/* RFC 9293 §3.2: EOL ends the list (the rest is padding); NOP
		 * is a single byte used for alignment. */
		if (kind == MPT_TCPOPT_EOL)
			break;
		if (kind == MPT_TCPOPT_NOP) {
			i++;
			continue;
		}
		/* RFC 9293 §3.2 / §3.10.7.1: every other kind has a length
		 * byte covering kind and length; a length that does not fit
		 * makes the whole options area untrustworthy. */
		if (len - i < 2)
			return MPT_ERR_BADLEN;

		size_t olen = opt[i + 1];

		if (olen < 2 || olen > len - i)
			return MPT_ERR_BADLEN;
		if (!known_len_ok(kind, olen))
			return MPT_ERR_BADLEN;

		const uint8_t *p = opt + i;

		switch (kind) {
		case MPT_TCPOPT_MSS:
			if (!(out->present & MPT_TCPOPT_F_MSS)) {
				out->present |= MPT_TCPOPT_F_MSS;
				out->mss = mpt_get16(p + 2);
			}
			break;
		case MPT_TCPOPT_WSCALE:
			if (!(out->present & MPT_TCPOPT_F_WSCALE)) {
				out->present |= MPT_TCPOPT_F_WSCALE;
				out->wscale = p[2];
			}
			break;
		case MPT_TCPOPT_SACK_PERM:
			out->present |= MPT_TCPOPT_F_SACK_PERM;
			break;
		case MPT_TCPOPT_SACK:
			if (!(out->present & MPT_TCPOPT_F_SACK)) {
				uint8_t n =
				    (uint8_t)((olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_BLOCK);

				out->present |= MPT_TCPOPT_F_SACK;
				out->nsack = n;
				for (uint8_t b = 0; b < n; b++) {
					const uint8_t *q = p + 2 + (size_t)b * TCPOLEN_SACK_BLOCK;

					out->sack[b].left = mpt_get32(q);
					out->sack[b].right = mpt_get32(q + 4);
				}
			}
			break;
		case MPT_TCPOPT_TS:
			if (!(out->present & MPT_TCPOPT_F_TS)) {
				out->present |= MPT_TCPOPT_F_TS;
				out->tsval = mpt_get32(p + 2);
				out->tsecr = mpt_get32(p + 6);
			}
			break;
		case MPT_TCPOPT_TFO:
			if (!(out->present & MPT_TCPOPT_F_TFO)) {
				out->present |= MPT_TCPOPT_F_TFO;
				out->tfo_len = (uint8_t)(olen - TCPOLEN_TFO_BASE);
				memcpy(out->tfo_cookie, p + 2, out->tfo_len);
			}
			break;
		case MPT_TCPOPT_MPTCP:
			/* Decoded by wire/mptcp; several may share a segment. */
			out->present |= MPT_TCPOPT_F_MPTCP;
			record_ref(out->mptcp, &out->n_mptcp, MPT_TCP_MAX_MPTCP, i, olen);
			break;
		default:
			out->present |= MPT_TCPOPT_F_UNKNOWN;
			record_ref(out->unknown, &out->n_unknown, MPT_TCP_MAX_UNKNOWN, i, olen);
			break;
		}
		i += olen;
	}
	return 0;
}

/* Sizes of the emitted blocks; each is a multiple of 4 bytes so that every
 * option after them stays aligned as RFC 7323 Appendix A suggests. */
#define EMIT_MSS       4
#define EMIT_TS        12 /* 04 02 08 0a ... or 01 01 08 0a ... */
#define EMIT_WS        4  /* 01 03 03 ws */
#define EMIT_SACK_PERM 4  /* 01 01 04 02 */
#define EMIT_SACK_HDR  4  /* 01 01 05 len */
/* TFO is kind, len, cookie with NOPs in front up to a multiple of 4 (cookie
 * lengths are even, so 0 or 2 NOPs). */

static size_t round4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int mpt_tcp_opts_emit(uint8_t *buf, size_t cap, const struct mpt_tcp_opts_out *o,
		      uint8_t *nsack_written)
{
	if (nsack_written)
		*nsack_written = 0;
	if (!buf || !o || (o->extra_len && !o->extra))
		return MPT_ERR_INVAL;

	const uint32_t pres = o->present;
	const bool has_ts = pres & MPT_TCPOPT_F_TS;
	const bool has_sackp = pres & MPT_TCPOPT_F_SACK_PERM;
	const uint8_t want_sack = (pres & MPT_TCPOPT_F_SACK) ? o->nsack : 0;

	if (want_sack > MPT_TCP_MAX_SACK)
		return MPT_ERR_INVAL;
	if ((pres & MPT_TCPOPT_F_TFO) && o->tfo_len != 0 &&
	    (o->tfo_len < TFO_COOKIE_MIN || o->tfo_len > TFO_COOKIE_MAX || o->tfo_len % 2))
		return MPT_ERR_INVAL;

	/* Everything except SACK blocks is mandatory. */
	size_t need = 0;

	if (pres & MPT_TCPOPT_F_MSS)
		need += EMIT_MSS;
	if (has_ts)
		need += EMIT_TS; /* includes SACK-permitted when both are set */
	if (pres & MPT_TCPOPT_F_WSCALE)
		need += EMIT_WS;
	if (has_sackp && !has_ts)
		need += EMIT_SACK_PERM;
	if (pres & MPT_TCPOPT_F_TFO)
		need += round4(TCPOLEN_TFO_BASE + (size_t)o->tfo_len);
	need += round4(o->extra_len);

	size_t limit = MPT_MIN(cap, (size_t)MPT_TCP_MAX_OPT_LEN);

	if (need > limit)
		return MPT_ERR_NOSPACE;

	/* RFC 2018 §3: send as many blocks as fit; the first block (most
	 * recent) is kept, later ones are dropped. */
	uint8_t nsack = 0;

	if (want_sack && limit - need >= EMIT_SACK_HDR + TCPOLEN_SACK_BLOCK) {
		size_t fit = (limit - need - EMIT_SACK_HDR) / TCPOLEN_SACK_BLOCK;

		nsack = (uint8_t)MPT_MIN((size_t)want_sack, fit);
	}

	uint8_t *p = buf;

	if (pres & MPT_TCPOPT_F_MSS) {
		p[0] = MPT_TCPOPT_MSS;
		p[1] = TCPOLEN_MSS;
		mpt_put16(p + 2, o->mss);
		p += EMIT_MSS;
	}
	if (has_ts) {
		/* Same packing as Linux: SACK-permitted takes the place of the
		 * two NOPs that would otherwise align the timestamps. */
		if (has_sackp) {
			p[0] = MPT_TCPOPT_SACK_PERM;
			p[1] = TCPOLEN_SACK_PERM;
		} else {
			p[0] = MPT_TCPOPT_NOP;
			p[1] = MPT_TCPOPT_NOP;
		}
		p[2] = MPT_TCPOPT_TS;
		p[3] = TCPOLEN_TS;
		mpt_put32(p + 4, o->tsval);
		mpt_put32(p + 8, o->tsecr);
		p += EMIT_TS;
	}
	if (pres & MPT_TCPOPT_F_WSCALE) {
		p[0] = MPT_TCPOPT_NOP;
		p[1] = MPT_TCPOPT_WSCALE;
		p[2] = TCPOLEN_WSCALE;
		p[3] = o->wscale;
		p += EMIT_WS;
	}
	if (has_sackp && !has_ts) {
		p[0] = MPT_TCPOPT_NOP;
		p[1] = MPT_TCPOPT_NOP;
		p[2] = MPT_TCPOPT_SACK_PERM;
		p[3] = TCPOLEN_SACK_PERM;
		p += EMIT_SACK_PERM;
	}
	if (nsack) {
		p[0] = MPT_TCPOPT_NOP;
		p[1] = MPT_TCPOPT_NOP;
		p[2] = MPT_TCPOPT_SACK;
		p[3] = (uint8_t)(TCPOLEN_SACK_BASE + nsack * TCPOLEN_SACK_BLOCK);
		p += EMIT_SACK_HDR;
		for (uint8_t b = 0; b < nsack; b++) {
			mpt_put32(p, o->sack[b].left);
			mpt_put32(p + 4, o->sack[b].right);
			p += TCPOLEN_SACK_BLOCK;
		}
	}
	if (pres & MPT_TCPOPT_F_TFO) {
		size_t olen = TCPOLEN_TFO_BASE + (size_t)o->tfo_len;

		for (size_t k = olen; k % 4; k++)
			*p++ = MPT_TCPOPT_NOP;
		p[0] = MPT_TCPOPT_TFO;
		p[1] = (uint8_t)olen;
		memcpy(p + 2, o->tfo_cookie, o->tfo_len);
		p += olen;
	}
	if (o->extra_len) {
		memcpy(p, o->extra, o->extra_len);
		p += o->extra_len;
	}
	/* Pad to a 32-bit boundary (RFC 9293 §3.1 data offset) with NOPs,
	 * which parse as nothing whatever the preceding option was. */
	while ((size_t)(p - buf) % 4)
		*p++ = MPT_TCPOPT_NOP;

	if (nsack_written)
		*nsack_written = nsack;
	return (int)(p - buf);
}

int mpt_tcp_hdr_emit(uint8_t *buf, size_t cap, const struct mpt_tcp_hdr *h, const uint8_t *opt,
		     size_t opt_len)
{
	if (!buf || !h || (opt_len && !opt))
		return MPT_ERR_INVAL;
	if (opt_len % 4 || opt_len > MPT_TCP_MAX_OPT_LEN || (h->flags & ~0x1ffu))
		return MPT_ERR_INVAL;
	if (cap < MPT_TCP_HDR_LEN + opt_len)
		return MPT_ERR_NOSPACE;

	size_t hdr_len = MPT_TCP_HDR_LEN + opt_len;

	mpt_put16(buf, h->sport);
	mpt_put16(buf + 2, h->dport);
	mpt_put32(buf + 4, h->seq);
	mpt_put32(buf + 8, h->ack);
	buf[12] = (uint8_t)((hdr_len / 4) << 4 | (h->flags >> 8 & 0x01u));
	buf[13] = (uint8_t)h->flags;
	mpt_put16(buf + 14, h->window);
	mpt_put16(buf + 16, h->csum);
	mpt_put16(buf + 18, h->urg);
	if (opt_len)
		memmove(buf + MPT_TCP_HDR_LEN, opt, opt_len);
	return (int)hdr_len;
}

static uint32_t seg_sum(const uint8_t *seg, size_t len, const struct mpt_addr *src,
			const struct mpt_addr *dst)
{
	uint32_t acc = mpt_csum_pseudo(src, dst, MPT_IPPROTO_TCP, (uint32_t)len);

	return mpt_csum_add(acc, seg, len);
}

void mpt_tcp_csum_fill(uint8_t *seg, size_t len, const struct mpt_addr *src,
		       const struct mpt_addr *dst)
{
	if (!seg || !src || !dst || len < MPT_TCP_HDR_LEN)
		return;
	mpt_put16(seg + TCP_CSUM_OFF, 0);
	mpt_put16(seg + TCP_CSUM_OFF, mpt_csum_fold(seg_sum(seg, len, src, dst)));
}

void mpt_tcp_csum_partial(uint8_t *seg, size_t len, const struct mpt_addr *src,
			  const struct mpt_addr *dst)
{
	if (!seg || !src || !dst || len < MPT_TCP_HDR_LEN)
		return;
	/* The device sums from the TCP header on, this field included, and
	 * stores the complement: the field starts as the folded pseudo-header
	 * sum, not complemented (a CHECKSUM_PARTIAL packet in Linux terms). */
	uint16_t folded = (uint16_t)~mpt_csum_fold(mpt_csum_pseudo(src, dst, 6, (uint32_t)len));
	mpt_put16(seg + TCP_CSUM_OFF, folded);
}

bool mpt_tcp_csum_ok(const uint8_t *seg, size_t len, const struct mpt_addr *src,
		     const struct mpt_addr *dst)
{
	if (!seg || !src || !dst || len < MPT_TCP_HDR_LEN)
		return false;
	/* The sum over a segment carrying a correct checksum is 0xffff
	 * (negative zero), whose complement is 0. */
	return mpt_csum_fold(seg_sum(seg, len, src, dst)) == 0;
}
