/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv4 (RFC 791) and IPv6 (RFC 8200) header codecs.
 *
 * Every read is preceded by a length check against the bytes the caller
 * handed in; the IPv6 extension-header walk is additionally bounded by the
 * payload length and by MPT_IP6_MAX_EXT_HDRS so hostile chains cost O(1).
 */
#include "wire/ip.h"

#include "common.h"
#include "wire/bytes.h"
#include "wire/csum.h"

/* IPv6 next-header values walked or recognised (IANA "Assigned Internet
 * Protocol Numbers", RFC 8200 §4). */
#define IP6_NH_HOPOPTS  0
#define IP6_NH_ROUTING  43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_AH       51
#define IP6_NH_NONE     59
#define IP6_NH_DSTOPTS  60

/* IPv4 flags/fragment-offset field (RFC 791 §3.1). */
#define IP4_DF      0x4000u
#define IP4_MF      0x2000u
#define IP4_OFFMASK 0x1fffu

static int ip4_parse(struct mpt_ip_hdr *out, const uint8_t *pkt, size_t len, bool verify_csum)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

	/* len >= MPT_IP4_HDR_LEN was checked by the caller. */
	if (ihl < MPT_IP4_HDR_LEN)
		return MPT_ERR_BADLEN;
	if (ihl > len)
		return MPT_ERR_TRUNCATED;

	size_t total = mpt_get16(pkt + 2);

	if (total > len)
		return MPT_ERR_TRUNCATED;
	if (total < ihl)
		return MPT_ERR_BADLEN;
	/* RFC 791 §3.1: the checksum covers the header including options; a
	 * correct header sums to 0xffff, i.e. the folded complement is 0. */
	if (verify_csum && mpt_csum(pkt, ihl) != 0)
		return MPT_ERR_CHECKSUM;

	uint16_t frag = mpt_get16(pkt + 6);

	/* Any piece of a fragmented datagram: MF set (first/middle pieces) or
	 * a non-zero offset (middle/last pieces).  Reassembly is unsupported. */
	if ((frag & IP4_MF) || (frag & IP4_OFFMASK))
		return MPT_ERR_FRAGMENT;

	out->src.family = 4;
	out->dst.family = 4;
	memcpy(out->src.bytes, pkt + 12, 4);
	memcpy(out->dst.bytes, pkt + 16, 4);
	out->tos = pkt[1];
	out->id = mpt_get16(pkt + 4);
	out->ttl = pkt[8];
	out->proto = pkt[9];
	out->flow_label = 0;
	out->hdr_len = ihl;
	out->payload_len = total - ihl;
	return 0;
}

static int ip6_parse(struct mpt_ip_hdr *out, const uint8_t *pkt, size_t len)
{
	if (len < MPT_IP6_HDR_LEN)
		return MPT_ERR_TRUNCATED;

	/* Payload length excludes the fixed header but includes extension
	 * headers (RFC 8200 §3).  Jumbograms (RFC 2675) are not supported: a
	 * zero payload length simply means an empty payload. */
	size_t end = MPT_IP6_HDR_LEN + (size_t)mpt_get16(pkt + 4);

	if (end > len)
		return MPT_ERR_TRUNCATED;

	uint32_t w0 = mpt_get32(pkt);
	uint8_t nh = pkt[6];
	size_t off = MPT_IP6_HDR_LEN;
	unsigned int n_ext = 0;
	bool done = false;

	while (!done) {
		size_t ext_len;

		switch (nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_ROUTING:
		case IP6_NH_DSTOPTS:
		case IP6_NH_AH:
			/* RFC 8200 §4.1: Hop-by-Hop Options only directly after
			 * the fixed header. */
			if (nh == IP6_NH_HOPOPTS && off != MPT_IP6_HDR_LEN)
				return MPT_ERR_PROTO;
			if (++n_ext > MPT_IP6_MAX_EXT_HDRS)
				return MPT_ERR_PROTO;
			/* Next Header and length bytes must be in the payload. */
			if (end - off < 2)
				return MPT_ERR_PROTO;
			if (nh == IP6_NH_AH)
				/* RFC 4302 §2.2: length in 4-octet units minus 2. */
				ext_len = ((size_t)pkt[off + 1] + 2) * 4;
			else
				/* RFC 8200 §4.3-4.6: 8-octet units, not counting
				 * the first 8 octets. */
				ext_len = ((size_t)pkt[off + 1] + 1) * 8;
			if (ext_len > end - off)
				return MPT_ERR_PROTO;
			nh = pkt[off];
			off += ext_len;
			break;
		case IP6_NH_FRAGMENT:
			/* RFC 8200 §4.5: even an atomic fragment is rejected; we
			 * never send fragments and do not reassemble. */
			return MPT_ERR_FRAGMENT;
		case IP6_NH_NONE:
		default:
			/* Upper-layer protocol, or No Next Header (59, RFC 8200
			 * §4.7) which is reported as proto 59 with whatever
			 * follows treated as opaque payload. */
			done = true;
			break;
		}
	}

	out->src.family = 6;
	out->dst.family = 6;
	memcpy(out->src.bytes, pkt + 8, 16);
	memcpy(out->dst.bytes, pkt + 24, 16);
	out->tos = (uint8_t)(w0 >> 20);
	out->flow_label = w0 & 0xfffffu;
	out->ttl = pkt[7];
	out->proto = nh;
	out->id = 0;
	out->hdr_len = off;
	out->payload_len = end - off;
	return 0;
}

int mpt_ip_parse(struct mpt_ip_hdr *out, const uint8_t *pkt, size_t len, bool verify_csum)
{
	if (!out || (!pkt && len))
		return MPT_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (len < MPT_IP4_HDR_LEN)
		return MPT_ERR_TRUNCATED;
	switch (pkt[0] >> 4) {
	case 4:
		return ip4_parse(out, pkt, len, verify_csum);
	case 6:
		return ip6_parse(out, pkt, len);
	default:
		return MPT_ERR_PROTO;
	}
}

size_t mpt_ip_hdr_len(uint8_t family)
{
	switch (family) {
	case 4:
		return MPT_IP4_HDR_LEN;
	case 6:
		return MPT_IP6_HDR_LEN;
	default:
		return 0;
	}
}

int mpt_ip_emit(uint8_t *buf, size_t cap, const struct mpt_ip_hdr *h)
{
	if (!buf || !h || h->dst.family != h->src.family)
		return MPT_ERR_INVAL;
	if (h->src.family == 4) {
		if (h->payload_len > 0xffffu - MPT_IP4_HDR_LEN)
			return MPT_ERR_INVAL;
		if (cap < MPT_IP4_HDR_LEN)
			return MPT_ERR_NOSPACE;
		buf[0] = 0x45; /* version 4, IHL 5 */
		buf[1] = h->tos;
		mpt_put16(buf + 2, (uint16_t)(MPT_IP4_HDR_LEN + h->payload_len));
		mpt_put16(buf + 4, h->id);
		/* DF: we never reassemble, so ask the path to drop oversize
		 * packets (and signal it, RFC 1191) rather than fragment them. */
		mpt_put16(buf + 6, IP4_DF);
		buf[8] = h->ttl;
		buf[9] = h->proto;
		mpt_put16(buf + 10, 0);
		memcpy(buf + 12, h->src.bytes, 4);
		memcpy(buf + 16, h->dst.bytes, 4);
		mpt_put16(buf + 10, mpt_csum(buf, MPT_IP4_HDR_LEN));
		return MPT_IP4_HDR_LEN;
	}
	if (h->src.family == 6) {
		if (h->payload_len > 0xffffu || h->flow_label > 0xfffffu)
			return MPT_ERR_INVAL;
		if (cap < MPT_IP6_HDR_LEN)
			return MPT_ERR_NOSPACE;
		mpt_put32(buf, 6u << 28 | (uint32_t)h->tos << 20 | h->flow_label);
		mpt_put16(buf + 4, (uint16_t)h->payload_len);
		buf[6] = h->proto;
		buf[7] = h->ttl;
		memcpy(buf + 8, h->src.bytes, 16);
		memcpy(buf + 24, h->dst.bytes, 16);
		return MPT_IP6_HDR_LEN;
	}
	return MPT_ERR_INVAL;
}
