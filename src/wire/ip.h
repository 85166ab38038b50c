/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv4 (RFC 791) and IPv6 (RFC 8200) header codecs. Pure: no state, no I/O.
 */
#ifndef MPT_WIRE_IP_H
#define MPT_WIRE_IP_H

#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

#define MPT_IPPROTO_TCP      6
#define MPT_IP4_HDR_LEN      20
#define MPT_IP6_HDR_LEN      40
/** IPv6 extension headers walked before giving up (bounded work). */
#define MPT_IP6_MAX_EXT_HDRS 8

/** A parsed IP header (either family). */
struct mpt_ip_hdr {
	struct mpt_addr src;
	struct mpt_addr dst;
	uint8_t proto;       /**< upper-layer protocol (after IPv6 ext headers) */
	uint8_t ttl;         /**< TTL / hop limit */
	uint8_t tos;         /**< IPv4 TOS / IPv6 traffic class */
	uint16_t id;         /**< IPv4 identification (0 for IPv6) */
	uint32_t flow_label; /**< IPv6 only */
	size_t hdr_len;      /**< bytes up to the upper-layer header (incl. options/ext) */
	size_t payload_len;  /**< upper-layer bytes (from the length field, not the buffer) */
};

/**
 * Parse an IPv4 or IPv6 packet (version nibble decides).  Checks, in order:
 * buffer holds 20 bytes; version 4 or 6; then for IPv4: IHL >= 5 and within
 * the buffer, total length within the buffer and >= IHL * 4, header
 * checksum (when verify_csum), fragments (MF set or offset != 0); for IPv6:
 * buffer holds 40 bytes, 40 + payload length within the buffer, then the
 * extension-header chain is walked.  Trailing bytes beyond the IP length
 * (e.g. Ethernet padding) are ignored.  IPv4 options are skipped, not
 * validated.  IPv6: Hop-by-Hop (only first), Routing, Destination Options
 * and AH (RFC 4302 length rule) are walked, at most MPT_IP6_MAX_EXT_HDRS,
 * each checked to lie within the payload; a Fragment header is rejected;
 * No Next Header (59) and any other value end the walk and become proto.
 * On success hdr_len + payload_len is the IP length.  *out is zeroed first.
 *
 * Returns 0, or MPT_ERR_INVAL (NULL out, or NULL pkt with len > 0),
 * MPT_ERR_TRUNCATED (buffer shorter than the fixed header, IHL or length
 * field), MPT_ERR_BADLEN (IHL < 5, IPv4 total length < header length),
 * MPT_ERR_PROTO (bad version; IPv6 ext-header chain too long, overrunning
 * the payload, or Hop-by-Hop not first), MPT_ERR_CHECKSUM (IPv4 header
 * checksum), MPT_ERR_FRAGMENT (any fragment).
 */
int mpt_ip_parse(struct mpt_ip_hdr *out, const uint8_t *pkt, size_t len, bool verify_csum);

/**
 * Write a minimal IP header (no options / ext headers) for h->src/dst,
 * proto, ttl, tos, id (IPv4), flow_label (IPv6), payload_len; hdr_len is
 * ignored.  family from h->src.family.  IPv4 headers carry DF (we never
 * reassemble, so fragmentation must not happen on the path) and a computed
 * header checksum.  Returns the header length written (20 or 40) or
 * MPT_ERR_NOSPACE (cap too small) / MPT_ERR_INVAL (NULL argument, family not
 * 4 or 6 or differing between src and dst, payload_len too large for the
 * length field, flow label above 20 bits).
 */
int mpt_ip_emit(uint8_t *buf, size_t cap, const struct mpt_ip_hdr *h);

/** Header length mpt_ip_emit writes for a family (20 or 40, 0 if invalid). */
size_t mpt_ip_hdr_len(uint8_t family);

#endif /* MPT_WIRE_IP_H */
