/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 0-RTT TCP Convert Protocol (RFC 8803) message codec.  Pure: no state, no
 * I/O, no allocation.  Parsed variable-length fields are views into the
 * caller's buffer (valid as long as that buffer is).
 *
 * A Convert message (RFC 8803 §4) is a 4-byte fixed header (§4.1):
 *
 *     Version (8) | Total Length (8, 32-bit words incl. header) | Magic (16) = 0x2263
 *
 * followed by TLVs (§4.2.1: Type (8) | Length (8, 32-bit words incl. Type
 * and Length) | Value, zero-padded to a multiple of 4 bytes) that exactly
 * fill Total Length.  The message rides at the start of the SYN / SYN+ACK /
 * RST payload (TFO data); bytes after Total Length are application data.
 * The largest message is 255 words = 1020 bytes.
 */
#ifndef MPT_TOOLS_CONVERT_CODEC_H
#define MPT_TOOLS_CONVERT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

#define MPT_CONVERT_VERSION     1      /* RFC 8803 §4.1: this document is version 1 */
#define MPT_CONVERT_MAGIC       0x2263 /* RFC 8803 §4.1 */
#define MPT_CONVERT_HDR_LEN     4
#define MPT_CONVERT_MAX_LEN     (255 * 4) /* Total Length is 8 bits of 32-bit words */
/* Largest single TLV: a message holding only that TLV. */
#define MPT_CONVERT_MAX_TLV_LEN (MPT_CONVERT_MAX_LEN - MPT_CONVERT_HDR_LEN)
/* RFC 8803 §4.2.1: a TLV appears at most once, so at most one per known type. */
#define MPT_CONVERT_MAX_TLVS    6

/** TLV types (RFC 8803 §4.2.2, IANA "Convert TLVs"). */
enum mpt_convert_tlv_type {
	MPT_CONVERT_TLV_INFO = 0x01,        /**< §4.2.3: Client asks for capabilities */
	MPT_CONVERT_TLV_CONNECT = 0x0a,     /**< §4.2.5: destination + TCP options */
	MPT_CONVERT_TLV_EXT_TCP_HDR = 0x14, /**< §4.2.6: server's SYN+ACK extended header */
	MPT_CONVERT_TLV_SUPPORTED = 0x15,   /**< §4.2.4: Supported TCP Extensions */
	MPT_CONVERT_TLV_COOKIE = 0x16,      /**< §4.2.7 */
	MPT_CONVERT_TLV_ERROR = 0x1e,       /**< §4.2.8 */
};

/** Error TLV codes (RFC 8803 §4.2.8, IANA "Convert Errors"). */
enum mpt_convert_error_code {
	/* Message validation and processing errors (0-31). */
	MPT_CONVERT_ERR_UNSUPPORTED_VERSION = 0,
	MPT_CONVERT_ERR_MALFORMED = 1,
	MPT_CONVERT_ERR_UNSUPPORTED_MSG = 2,
	MPT_CONVERT_ERR_MISSING_COOKIE = 3,
	/* Client-side errors (32-63). */
	MPT_CONVERT_ERR_NOT_AUTHORIZED = 32,
	MPT_CONVERT_ERR_UNSUPPORTED_TCP_OPT = 33,
	/* Transport Converter-side errors (64-95). */
	MPT_CONVERT_ERR_RESOURCE_EXCEEDED = 64,
	MPT_CONVERT_ERR_NETWORK_FAILURE = 65,
	/* Errors caused by the destination server (96-127). */
	MPT_CONVERT_ERR_CONNECTION_RESET = 96,
	MPT_CONVERT_ERR_DEST_UNREACHABLE = 97,
};

/** Connect TLV (RFC 8803 §4.2.5). */
struct mpt_convert_connect {
	struct mpt_endpoint remote; /**< IPv4-mapped ::ffff:a.b.c.d decodes as family 4 */
	const uint8_t *opt;         /**< TCP options (kind, length, value)*, no padding */
	uint16_t opt_len;           /**< bytes at opt, zero padding excluded */
};

/** An opaque byte string inside a TLV (Extended TCP Header, Cookie). */
struct mpt_convert_bytes {
	const uint8_t *data;
	uint16_t len;
};

/** Supported TCP Extensions TLV (RFC 8803 §4.2.4): TCP option kinds. */
struct mpt_convert_supported {
	const uint8_t *kinds; /**< one TCP option kind per byte, never 0, 1 or 2 */
	uint16_t n_kinds;     /**< zero padding excluded */
};

/** Error TLV (RFC 8803 §4.2.8). */
struct mpt_convert_error {
	uint8_t code;         /**< enum mpt_convert_error_code (or an unassigned value) */
	const uint8_t *value; /**< Value field */
	uint16_t value_len;   /**< on parse: 4 * Length - 3 (padding cannot be told from value) */
};

/** One TLV; the member of u that matches type is valid (Info has none). */
struct mpt_convert_tlv {
	uint8_t type; /**< enum mpt_convert_tlv_type */
	union {
		struct mpt_convert_connect connect;
		struct mpt_convert_bytes ext_tcp_hdr; /**< raw copy of the SYN+ACK header */
		struct mpt_convert_supported supported;
		struct mpt_convert_bytes cookie;
		struct mpt_convert_error error;
	} u;
};

/** A parsed (or to-be-emitted) Convert message. */
struct mpt_convert_msg {
	uint8_t version; /**< parse: as received; emit: ignored (always version 1) */
	uint16_t len;    /**< parse: message length in bytes (4 * Total Length) */
	uint8_t n_tlvs;  /**< TLVs in wire order */
	struct mpt_convert_tlv tlv[MPT_CONVERT_MAX_TLVS];
	/* Filled by mpt_convert_parse() when it fails: */
	int rfc_error;    /**< enum mpt_convert_error_code to answer with, or -1 */
	uint16_t err_off; /**< byte offset of the offending field, for logs */
	uint16_t need;    /**< MPT_ERR_AGAIN: total bytes needed to go on */
};

/**
 * Parse the Convert message at the start of buf (len bytes received so far).
 * Never reads past len; lengths are checked before anything is read.
 *
 * Returns 0 with *consumed = message length (the caller's data follows), or:
 *  - MPT_ERR_AGAIN: buf holds only the start of a message that is not (yet)
 *    invalid; m->need is how many bytes are needed in total.
 *  - MPT_ERR_PROTO: wrong magic number, reserved TLV type 0, a TLV repeated
 *    (§4.2.1), an invalid value (Connect to a multicast, broadcast, loopback
 *    or unspecified address, NOP/bad length in the TCP Options field, option
 *    kind 0/1/2 in the Supported TCP Extensions list, non-zero padding).
 *    rfc_error = Malformed Message.
 *  - MPT_ERR_BADLEN: Total Length 0, a TLV Length of 0, a TLV running past
 *    Total Length, or a TLV Length impossible for its type.  rfc_error =
 *    Malformed Message.
 *  - MPT_ERR_UNSUPPORTED: Version != 1 (rfc_error = Unsupported Version) or
 *    an unknown TLV type (rfc_error = Unsupported Message).
 *  - MPT_ERR_INVAL: NULL m or consumed, or NULL buf with len > 0.
 * On error *consumed is the offending message's length when the header was
 * valid and the whole message present (so it can be echoed), else 0.
 * Direction-specific rules (which TLVs a Client or a Converter may send) and
 * the once-per-connection rule across several messages are the caller's.
 */
int mpt_convert_parse(struct mpt_convert_msg *m, const uint8_t *buf, size_t len, size_t *consumed);

/** The first TLV of the given type in m, or NULL. */
const struct mpt_convert_tlv *mpt_convert_find(const struct mpt_convert_msg *m, uint8_t type);

/**
 * Encoded size of t in bytes (a multiple of 4), or MPT_ERR_INVAL (unknown
 * type, invalid field, see mpt_convert_emit_tlv) or MPT_ERR_LIMIT (larger
 * than MPT_CONVERT_MAX_TLV_LEN).
 */
int mpt_convert_tlv_len(const struct mpt_convert_tlv *t);

/**
 * Write t at buf.  Padding and Unassigned/Zero fields are written as zero.
 * Fields must be what parse would accept: Connect address not multicast,
 * broadcast, loopback or unspecified, options well-formed without NOP/EOL;
 * supported kinds not 0, 1, 2.  Returns bytes written, MPT_ERR_INVAL,
 * MPT_ERR_LIMIT or MPT_ERR_NOSPACE (cap too small).
 */
int mpt_convert_emit_tlv(uint8_t *buf, size_t cap, const struct mpt_convert_tlv *t);

/* Per-type shorthands for mpt_convert_emit_tlv (same return values). */
int mpt_convert_emit_info(uint8_t *buf, size_t cap);
int mpt_convert_emit_connect(uint8_t *buf, size_t cap, const struct mpt_endpoint *remote,
			     const uint8_t *opt, size_t opt_len);
int mpt_convert_emit_ext_tcp_hdr(uint8_t *buf, size_t cap, const uint8_t *hdr, size_t len);
int mpt_convert_emit_supported(uint8_t *buf, size_t cap, const uint8_t *kinds, size_t n);
int mpt_convert_emit_cookie(uint8_t *buf, size_t cap, const uint8_t *cookie, size_t len);
int mpt_convert_emit_error(uint8_t *buf, size_t cap, uint8_t code, const uint8_t *value,
			   size_t value_len);

/**
 * Write a whole message: fixed header (version 1, Total Length, magic) and
 * m->tlv[0..n_tlvs).  Returns bytes written, MPT_ERR_INVAL (NULL, n_tlvs too
 * large, a TLV type repeated, an invalid TLV), MPT_ERR_LIMIT (more than
 * MPT_CONVERT_MAX_LEN bytes) or MPT_ERR_NOSPACE.
 */
int mpt_convert_emit(uint8_t *buf, size_t cap, const struct mpt_convert_msg *m);

/**
 * Write a complete answer carrying one Error TLV, with the Value the RFC
 * asks for (§4.2.8): Unsupported Version -> the supported version list
 * ({1}; data ignored); Malformed / Unsupported Message -> an echo of the
 * received message (data, truncated to what fits in one message); any other
 * code -> data as given (e.g. the option kind for Unsupported TCP Option),
 * or a zero byte when data is NULL/empty.
 * Returns bytes written, MPT_ERR_INVAL or MPT_ERR_NOSPACE.
 */
int mpt_convert_emit_error_msg(uint8_t *buf, size_t cap, uint8_t code, const uint8_t *data,
			       size_t data_len);

#endif /* MPT_TOOLS_CONVERT_CODEC_H */
