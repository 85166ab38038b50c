/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP header (RFC 9293 §3.1) and option (RFC 9293 §3.2, RFC 7323, RFC 2018,
 * RFC 7413, RFC 8684) codecs.  Pure: no state, no I/O.
 */
#ifndef MPT_WIRE_TCP_H
#define MPT_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

#define MPT_TCP_HDR_LEN     20
#define MPT_TCP_MAX_OPT_LEN 40

/* Header flags (low 8 bits of the flags field, plus AE/NS bit 8). */
#define MPT_TCP_FIN 0x01u
#define MPT_TCP_SYN 0x02u
#define MPT_TCP_RST 0x04u
#define MPT_TCP_PSH 0x08u
#define MPT_TCP_ACK 0x10u
#define MPT_TCP_URG 0x20u
#define MPT_TCP_ECE 0x40u
#define MPT_TCP_CWR 0x80u
#define MPT_TCP_AE  0x100u

/* Option kinds. */
#define MPT_TCPOPT_EOL       0
#define MPT_TCPOPT_NOP       1
#define MPT_TCPOPT_MSS       2
#define MPT_TCPOPT_WSCALE    3
#define MPT_TCPOPT_SACK_PERM 4
#define MPT_TCPOPT_SACK      5
#define MPT_TCPOPT_TS        8
#define MPT_TCPOPT_MPTCP     30
#define MPT_TCPOPT_TFO       34

/* Bits of mpt_tcp_opts.present. */
#define MPT_TCPOPT_F_MSS       (1u << 0)
#define MPT_TCPOPT_F_WSCALE    (1u << 1)
#define MPT_TCPOPT_F_SACK_PERM (1u << 2)
#define MPT_TCPOPT_F_SACK      (1u << 3)
#define MPT_TCPOPT_F_TS        (1u << 4)
#define MPT_TCPOPT_F_TFO       (1u << 5)
#define MPT_TCPOPT_F_MPTCP     (1u << 6)
#define MPT_TCPOPT_F_UNKNOWN   (1u << 7)

#define MPT_TCP_MAX_SACK    4  /* 4 blocks fit in 40 bytes without timestamps */
#define MPT_TCP_MAX_MPTCP   4  /* MPTCP options remembered per segment */
#define MPT_TCP_MAX_UNKNOWN 4  /* unknown options remembered per segment */
#define MPT_TCP_WSCALE_MAX  14 /* RFC 7323 §2.3 */

/** A SACK block [left, right). */
struct mpt_sack_block {
	uint32_t left;
	uint32_t right;
};

/** Location of an option inside the options area (offset from its start). */
struct mpt_tcpopt_ref {
	uint8_t off; /**< offset of the kind byte within the options area */
	uint8_t len; /**< total option length including kind and length bytes */
};

/** Parsed TCP options.  Only fields whose present bit is set are valid. */
struct mpt_tcp_opts {
	uint32_t present; /**< MPT_TCPOPT_F_* */
	uint16_t mss;     /**< kind 2 */
	uint8_t wscale;   /**< kind 3, as received (clamping is the engine's job) */
	uint8_t nsack;    /**< kind 5: number of blocks */
	struct mpt_sack_block sack[MPT_TCP_MAX_SACK];
	uint32_t tsval; /**< kind 8 */
	uint32_t tsecr;
	uint8_t tfo_len; /**< kind 34: cookie length (0 = cookie request) */
	uint8_t tfo_cookie[16];
	uint8_t n_mptcp; /**< kind 30 options, referenced in the options area */
	struct mpt_tcpopt_ref mptcp[MPT_TCP_MAX_MPTCP];
	uint8_t n_unknown; /**< options of other kinds (skipped, kept by reference) */
	struct mpt_tcpopt_ref unknown[MPT_TCP_MAX_UNKNOWN];
};

/** A parsed TCP header. */
struct mpt_tcp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint16_t flags;  /**< MPT_TCP_* */
	uint16_t window; /**< raw, unscaled */
	uint16_t csum;
	uint16_t urg;
	uint8_t hdr_len;    /**< data offset * 4 (20..60) */
	const uint8_t *opt; /**< options area inside the parsed buffer */
	uint8_t opt_len;    /**< hdr_len - 20 */
};

/**
 * Parse the fixed TCP header of a segment of len bytes (header + payload).
 * Checks len >= 20, data offset >= 5 and hdr_len <= len.  Does not parse
 * options (see mpt_tcp_opts_parse) nor verify the checksum.  The three
 * reserved header bits are ignored.  *out is zeroed first.
 * Returns 0, MPT_ERR_INVAL (NULL out, or NULL seg with len > 0),
 * MPT_ERR_TRUNCATED (len < 20 or < hdr_len) or MPT_ERR_BADLEN (offset < 5).
 */
int mpt_tcp_hdr_parse(struct mpt_tcp_hdr *out, const uint8_t *seg, size_t len);

/**
 * Parse an options area of len <= 40 bytes.  Walks kinds; EOL ends the list;
 * NOP skipped; every other kind must have a length byte >= 2 that fits in
 * the area; known kinds must have their exact length (MSS 4, WS 3, SACK-perm
 * 2, SACK 2+8n with 1 <= n <= 4, TS 10, TFO 2 or 2+cookie with an even
 * cookie length 4..16, MPTCP >= 3).  A missing length byte, a length byte
 * that is < 2 or overruns the area, or a known kind with a wrong length is
 * an error: MPT_ERR_BADLEN (the whole segment's options are then untrusted;
 * *out is partially filled and must not be used).  Unknown kinds are skipped
 * and recorded in unknown[] (up to MPT_TCP_MAX_UNKNOWN; more are skipped
 * silently).  MPTCP options are recorded by reference in mptcp[] (up to
 * MPT_TCP_MAX_MPTCP, more skipped silently), not decoded (see wire/mptcp.h).
 * If a known option appears twice, the first occurrence wins (the later one
 * must still have a valid length).  *out is zeroed first.
 * Returns 0, MPT_ERR_BADLEN, or MPT_ERR_INVAL (NULL out, NULL opt with
 * len > 0, or len > MPT_TCP_MAX_OPT_LEN: no TCP header carries more).
 */
int mpt_tcp_opts_parse(struct mpt_tcp_opts *out, const uint8_t *opt, size_t len);

/**
 * Options to write on an outgoing segment.  Written in this order, each
 * block 4-byte aligned (the packing Linux uses):
 *   MSS                    02 04 mss
 *   TS (+ SACK-permitted)  04 02 08 0a tsval tsecr, or 01 01 08 0a ... without SACK-perm
 *   WS                     01 03 03 ws
 *   SACK-permitted w/o TS  01 01 04 02
 *   SACK blocks            01 01 05 len blocks...
 *   TFO                    NOPs to alignment, 22 len cookie
 * then `extra` raw bytes (e.g. MPTCP options, already encoded) verbatim.
 * The result is padded with NOPs to a multiple of 4.  The MPTCP and UNKNOWN
 * present bits are ignored (pass such options in extra).
 */
struct mpt_tcp_opts_out {
	uint32_t present; /**< which of MSS/WSCALE/SACK_PERM/SACK/TS/TFO to write */
	uint16_t mss;
	uint8_t wscale;
	uint8_t nsack;
	struct mpt_sack_block sack[MPT_TCP_MAX_SACK];
	uint32_t tsval;
	uint32_t tsecr;
	uint8_t tfo_len;
	uint8_t tfo_cookie[16];
	const uint8_t *extra; /**< raw pre-encoded options appended last */
	uint8_t extra_len;
};

/**
 * Encode options into buf (cap bytes, at most 40 used).  SACK blocks (only
 * written when the SACK bit is set and nsack > 0) that do not fit after the
 * other options are dropped from the end (the count actually written is
 * stored back in *nsack_written when non-NULL; 0 on error).
 * mpt_tcp_opts_parse(emit(o)) yields o's fields back.
 * Returns the length written (multiple of 4, 0..40) or MPT_ERR_NOSPACE when
 * the mandatory options plus extra do not fit, MPT_ERR_INVAL (NULL buf/o,
 * NULL extra with extra_len > 0, nsack > 4, TFO cookie length not 0 or an
 * even 4..16).
 */
int mpt_tcp_opts_emit(uint8_t *buf, size_t cap, const struct mpt_tcp_opts_out *o,
		      uint8_t *nsack_written);

/**
 * Write a 20-byte header plus opt_len option bytes (already encoded, a
 * multiple of 4) at buf; opt may already lie at buf + 20 (overlap is fine).
 * Data offset is (20 + opt_len) / 4 (h->hdr_len, h->opt, h->opt_len are
 * ignored).  csum is written as h->csum (normally 0; fill it in with
 * mpt_tcp_csum_fill afterwards).  Returns bytes written, MPT_ERR_NOSPACE
 * (cap < 20 + opt_len) or MPT_ERR_INVAL (NULL argument, opt_len not a
 * multiple of 4 or > 40, flags beyond MPT_TCP_AE).
 */
int mpt_tcp_hdr_emit(uint8_t *buf, size_t cap, const struct mpt_tcp_hdr *h, const uint8_t *opt,
		     size_t opt_len);

/**
 * Compute the TCP checksum of seg (header+payload, len bytes, any len
 * including odd) over the pseudo-header for src/dst and store it at offset
 * 16.  Does nothing when len < 20 or an argument is NULL.
 */
/**
 * For checksum offload: store in seg's checksum field the pseudo-header sum
 * over len bytes (folded, not complemented); the device completes it from
 * the TCP header on.
 */
void mpt_tcp_csum_partial(uint8_t *seg, size_t len, const struct mpt_addr *src,
			  const struct mpt_addr *dst);
void mpt_tcp_csum_fill(uint8_t *seg, size_t len, const struct mpt_addr *src,
		       const struct mpt_addr *dst);
/** True when seg's checksum is correct for src/dst (false when len < 20). */
bool mpt_tcp_csum_ok(const uint8_t *seg, size_t len, const struct mpt_addr *src,
		     const struct mpt_addr *dst);

#endif /* MPT_WIRE_TCP_H */
