/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP option codec: TCP option kind 30 for MPTCP v1 (RFC 8684) and v0
 * (RFC 6824), plus the DSS checksum (RFC 8684 §3.3.1) and 32->64-bit data
 * sequence number expansion.  Pure: no state, no I/O, no allocation.
 *
 * One call parses one MPTCP option (one subtype) into a flat struct of
 * host-order fields; emit is its exact inverse.  The codec checks lengths
 * and formats only; every semantic decision (is MP_CAPABLE allowed here, was
 * the checksum negotiated, does the HMAC verify, which 64-bit DSN a 32-bit
 * value stands for) belongs to the connection layer.
 *
 * Byte-exact round trip: emit(parse(b)) == b for every accepted b whose
 * reserved bits are zero (reserved bits are ignored on input and written
 * as zero, RFC 8684 §3: "MUST be set to zero by the sender and ignored by
 * the receiver"), and parse(emit(x)) == x for every x emit accepts.
 *
 * External keys (draft-baerts-tcpm-mptcpext-00, docs/external-keys.md) are
 * understood only when the parse context asks for them (ctx->ext); without
 * it every byte is parsed exactly as RFC 8684 / RFC 6824 say, as before.
 */
#ifndef MPT_WIRE_MPTCP_H
#define MPT_WIRE_MPTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

#define MPT_MPTCP_KIND    30
/* An option lives in the TCP options area (at most 40 bytes). */
#define MPT_MPTCP_MAX_LEN 40

/* MPTCP protocol versions (the MP_CAPABLE version nibble). */
#define MPT_MPTCP_V0 0 /* RFC 6824 */
#define MPT_MPTCP_V1 1 /* RFC 8684 */

/** Option subtypes (RFC 8684 §7.2 registry; 0..7 also in RFC 6824). */
enum mpt_mptcp_subtype {
	MPT_MPTCP_MP_CAPABLE = 0x0,
	MPT_MPTCP_MP_JOIN = 0x1,
	MPT_MPTCP_DSS = 0x2,
	MPT_MPTCP_ADD_ADDR = 0x3,
	MPT_MPTCP_REMOVE_ADDR = 0x4,
	MPT_MPTCP_MP_PRIO = 0x5,
	MPT_MPTCP_MP_FAIL = 0x6,
	MPT_MPTCP_MP_FASTCLOSE = 0x7,
	MPT_MPTCP_MP_TCPRST = 0x8,       /* v1 only; unknown in v0 */
	MPT_MPTCP_MP_EXPERIMENTAL = 0xf, /* always decoded as unknown */
};

/** Which kind of segment carries the option (some forms depend on it). */
enum mpt_mptcp_seg {
	MPT_MPTCP_SEG_ANY = 0, /* unknown: infer the form from the length alone */
	MPT_MPTCP_SEG_SYN,     /* SYN without ACK */
	MPT_MPTCP_SEG_SYNACK,  /* SYN with ACK */
	MPT_MPTCP_SEG_ACK,     /* any segment without SYN */
};

/** Parse context: what the option itself cannot tell. */
struct mpt_mptcp_parse_ctx {
	/*
	 * Negotiated MPTCP version (MPT_MPTCP_V0/V1): picks the ADD_ADDR and
	 * MP_PRIO formats and whether subtype 8 exists.  MP_CAPABLE ignores it
	 * and uses its own version nibble.
	 */
	uint8_t version;
	uint8_t seg; /* enum mpt_mptcp_seg */
	/*
	 * Extensions this parser understands (MPT_MPTCP_EXT_* bits); 0 (what
	 * a zero-initialised context holds) is plain RFC 8684 / RFC 6824.
	 */
	uint8_t ext;
};

/** Why a parse failed (out->reason).  See mpt_mptcp_reason_str(). */
enum mpt_mptcp_reason {
	MPT_MPTCP_R_OK = 0,
	MPT_MPTCP_R_NOT_MPTCP, /* kind byte is not 30 (MPT_ERR_INVAL) */
	MPT_MPTCP_R_BAD_CTX,   /* ctx->version not 0/1 or ctx->seg invalid (MPT_ERR_INVAL) */
	MPT_MPTCP_R_TRUNCATED, /* buffer shorter than 2 or than the length byte (TRUNCATED) */
	MPT_MPTCP_R_SHORT,     /* length byte < 3: no subtype byte (BADLEN) */
	MPT_MPTCP_R_LONG,      /* length byte > 40: cannot be in a TCP header (BADLEN) */
	MPT_MPTCP_R_VERSION,   /* MP_CAPABLE version other than 0/1 (UNSUPPORTED) */
	MPT_MPTCP_R_LEN,       /* length illegal for the subtype and version (BADLEN) */
	MPT_MPTCP_R_LEN_SEG,   /* legal length, but not for this segment type (BADLEN) */
	MPT_MPTCP_R_IPVER,     /* v0 ADD_ADDR IPVer neither 4 nor 6 (PROTO) */
	MPT_MPTCP_R_IPVER_LEN, /* v0 ADD_ADDR IPVer does not match the length (BADLEN) */
	MPT_MPTCP_R_MAX
};

/*
 * ---- External keys: draft-baerts-tcpm-mptcpext-00 ----
 *
 * The draft leaves its codepoints "TBD" and only proposes them (its §6); this
 * block is the one place that holds them, so that a later revision (or the
 * IANA assignment) is a change here.  Decisions where the draft is open:
 * docs/external-keys.md.  All of it is v1 only: in v0 (RFC 6824) the E bit
 * of MP_CAPABLE is a crypto-algorithm bit and keeps that meaning.
 *
 * With MPT_MPTCP_EXT_EXTKEY in ctx->ext (and version 1):
 *   MP_CAPABLE with E set: tokens instead of keys (forms MPT_MPC_EXT_*);
 *   NEW_KEY (subtype MPT_EXTKEY_SUBTYPE): decoded, length 12 only;
 *   MP_JOIN (every form), v1 ADD_ADDR, MP_FASTCLOSE: the K bit (key id)
 *     is decoded into mpt_mptcp_opt.key_id.
 * Without it: E is just a bit of mpc.flags, subtype 9 is an unknown
 * subtype (kept raw), K is a reserved bit (ignored, key_id stays 0).
 */
#define MPT_MPTCP_EXT_EXTKEY 0x01u /* ctx->ext: understand external keys */
#define MPT_MPTCP_EXT_MASK   0x01u /* every ctx->ext bit this codec knows */

#define MPT_EXTKEY_MPC_FLAG      0x08u /* MP_CAPABLE flag E (draft §6 proposes E) */
#define MPT_EXTKEY_SUBTYPE       0x9   /* NEW_KEY (draft §6 suggests 0x9) */
#define MPT_EXTKEY_K_NEW_KEY     0x01u /* K in NEW_KEY's subtype byte (Figure 5) */
#define MPT_EXTKEY_K_JOIN        0x02u /* K in MP_JOIN's subtype byte (Figure 6; B is 0x01) */
#define MPT_EXTKEY_K_ADD_ADDR    0x02u /* K in ADD_ADDR's subtype byte (Figure 7; E is 0x01) */
#define MPT_EXTKEY_K_FASTCLOSE   0x01u /* K in MP_FASTCLOSE's subtype byte (Figure 8) */
#define MPT_EXTKEY_NEW_KEY_LEN   12    /* kind, length, subtype|K, 0, 64-bit HMAC */
/*
 * The SYN's offer (docs/external-keys.md, decision 1): Linux ignores an
 * MP_CAPABLE whose flags have any of D..G set (E among them), so a SYN with
 * the draft's E would get plain TCP from it, not RFC 8684.  mpt's SYN
 * carries the RFC 8684 MP_CAPABLE unchanged plus this 4-byte
 * MP_EXPERIMENTAL suboption (subtype 0xf, private use, RFC 8684 §8) whose
 * last byte names the experiment; every later MP_CAPABLE carries E as the
 * draft says.  A SYN with E is accepted as an offer too.
 */
#define MPT_EXTKEY_OFFER_SUBTYPE 0xf
#define MPT_EXTKEY_OFFER_LEN     4
#define MPT_EXTKEY_OFFER_ID      0xe1
#define MPT_EXTKEY_HMAC_LEN      8 /* NEW_KEY: low-order 64 bits of the HMAC */

/* ---- MP_CAPABLE (RFC 8684 §3.1, RFC 6824 §3.1) ---- */

/* Flags byte, A is the most significant bit. */
#define MPT_MPC_F_A 0x80u /* checksum required */
#define MPT_MPC_F_B 0x40u /* extensibility (unused, MUST be 0) */
#define MPT_MPC_F_C 0x20u /* v1: do not open subflows to the source address */
#define MPT_MPC_F_H 0x01u /* v1: HMAC-SHA256; v0: HMAC-SHA1 */

#define MPT_MPC_F_E MPT_EXTKEY_MPC_FLAG /* v1 + external keys: tokens, no keys */

/*
 * Wire form, determined by the length (and the version):
 *   v1: SYN 4 (NOKEY), SYN/ACK 12 (ONEKEY), ACK 20 (TWOKEYS),
 *       ACK with data 22/24 (DATA, without/with checksum);
 *   v0: SYN and SYN/ACK 12 (ONEKEY), ACK 20 (TWOKEYS).
 *   v1 with external keys understood and E set (draft Figure 4): SYN 4
 *       (NOKEY, as in v1), SYN/ACK 8 (EXT_ONETOKEN), ACK 12 (EXT_TWOTOKENS),
 *       ACK with data 14/16 (EXT_DATA); the keyed lengths 12/20/22/24 with
 *       E set are refused there (E says tokens, the length says keys).
 * The emitter writes what the struct says: an EXT_* form needs version 1
 * and E in flags; a keyed form with E set is still written (it parses
 * back only with external keys not understood).
 */
enum mpt_mpc_form {
	MPT_MPC_NOKEY = 0,     /* v1 SYN */
	MPT_MPC_ONEKEY,        /* v1 SYN/ACK; v0 SYN and SYN/ACK: sender's key */
	MPT_MPC_TWOKEYS,       /* third ACK: sender's and receiver's keys */
	MPT_MPC_DATA,          /* v1 ACK with data: keys + data-level length (+ checksum) */
	MPT_MPC_EXT_ONETOKEN,  /* extkey SYN/ACK: sender's token */
	MPT_MPC_EXT_TWOTOKENS, /* extkey third ACK: sender's and receiver's tokens */
	MPT_MPC_EXT_DATA,      /* extkey ACK with data: tokens + data-level length (+ csum) */
};

struct mpt_mptcp_mpc {
	uint8_t form;       /* enum mpt_mpc_form */
	uint8_t flags;      /* raw A..H byte (MPT_MPC_F_*) */
	uint64_t snd_key;   /* Option Sender's Key (ONEKEY, TWOKEYS, DATA) */
	uint64_t rcv_key;   /* Option Receiver's Key (TWOKEYS, DATA) */
	uint16_t data_len;  /* Data-Level Length (DATA, EXT_DATA) */
	bool has_csum;      /* DATA, EXT_DATA: checksum present (length 24 / 16) */
	uint16_t csum;      /* DATA or EXT_DATA with has_csum: DSS checksum */
	uint32_t snd_token; /* Option Sender's Token (EXT_ONETOKEN, EXT_TWOTOKENS, EXT_DATA) */
	uint32_t rcv_token; /* Option Receiver's Token (EXT_TWOTOKENS, EXT_DATA) */
};

/* ---- MP_JOIN (RFC 8684 §3.2) ---- */

enum mpt_join_form {
	MPT_JOIN_SYN = 0, /* 12: B, address id, receiver's token, sender's nonce */
	MPT_JOIN_SYNACK,  /* 16: B, address id, truncated (leftmost 64-bit) HMAC, nonce */
	MPT_JOIN_ACK,     /* 24: 160-bit HMAC */
};

struct mpt_mptcp_join {
	uint8_t form;     /* enum mpt_join_form */
	bool backup;      /* B flag (SYN, SYNACK) */
	uint8_t addr_id;  /* SYN, SYNACK */
	uint32_t token;   /* SYN: receiver's token */
	uint32_t nonce;   /* SYN, SYNACK: sender's random number */
	uint8_t hmac[20]; /* SYNACK: hmac[0..7] (truncated); ACK: all 20 bytes */
};

/* ---- DSS (RFC 8684 §3.3) ---- */

#define MPT_DSS_F_ACK   0x01u /* A: Data ACK present */
#define MPT_DSS_F_ACK64 0x02u /* a: Data ACK is 8 octets */
#define MPT_DSS_F_MAP   0x04u /* M: DSN, SSN, data-level length (+ checksum) present */
#define MPT_DSS_F_DSN64 0x08u /* m: DSN is 8 octets */
#define MPT_DSS_F_FIN   0x10u /* F: DATA_FIN */
#define MPT_DSS_F_MASK  0x1fu

struct mpt_mptcp_dss {
	uint8_t flags;     /* MPT_DSS_F_* as on the wire (a/m kept even without A/M) */
	uint64_t data_ack; /* A: raw wire value (< 2^32 unless ACK64) */
	uint64_t dsn;      /* M: raw wire value (< 2^32 unless DSN64) */
	uint32_t ssn;      /* M: relative subflow sequence number */
	uint16_t data_len; /* M: data-level length */
	bool has_csum;     /* M: checksum present (length says so) */
	uint16_t csum;     /* M and has_csum */
};

/* ---- ADD_ADDR (RFC 8684 §3.4.1, RFC 6824 §3.4.1) ---- */

struct mpt_mptcp_add_addr {
	bool echo;            /* v1 E flag; false in v0 */
	uint8_t addr_id;      /* Address ID */
	struct mpt_addr addr; /* family 4 or 6 (v0: the IPVer nibble; v1: from length) */
	bool has_port;        /* port present */
	uint16_t port;        /* host order */
	uint8_t hmac[8];      /* v1 and !echo: truncated HMAC (rightmost 64 bits) */
};

/* ---- REMOVE_ADDR (RFC 8684 §3.4.2) ---- */

#define MPT_MPTCP_MAX_RM_IDS (MPT_MPTCP_MAX_LEN - 3)

struct mpt_mptcp_rm_addr {
	uint8_t n;                         /* >= 1 */
	uint8_t ids[MPT_MPTCP_MAX_RM_IDS]; /* Address IDs */
};

/* ---- MP_PRIO (RFC 8684 §3.3.8; RFC 6824 §3.3.8 with optional AddrID) ---- */

struct mpt_mptcp_prio {
	bool backup;      /* B flag */
	bool has_addr_id; /* v0 only: RFC 8684 removed the AddrID (length 3 only) */
	uint8_t addr_id;
};

/* ---- MP_TCPRST (RFC 8684 §3.6) ---- */

#define MPT_TCPRST_F_U 0x8u
#define MPT_TCPRST_F_V 0x4u
#define MPT_TCPRST_F_W 0x2u
#define MPT_TCPRST_F_T 0x1u /* transient: the subflow may be retried later */

enum mpt_tcprst_reason {
	MPT_TCPRST_UNSPEC = 0x00,          /* unspecified error */
	MPT_TCPRST_MPTCP = 0x01,           /* MPTCP-specific error */
	MPT_TCPRST_RESOURCES = 0x02,       /* lack of resources */
	MPT_TCPRST_ADMIN = 0x03,           /* administratively prohibited */
	MPT_TCPRST_TOO_MUCH_DATA = 0x04,   /* too much outstanding data */
	MPT_TCPRST_BAD_PERFORMANCE = 0x05, /* unacceptable performance */
	MPT_TCPRST_MIDDLEBOX = 0x06,       /* middlebox interference */
};

struct mpt_mptcp_tcprst {
	uint8_t flags;  /* U V W T (MPT_TCPRST_F_*) */
	uint8_t reason; /* enum mpt_tcprst_reason (other values kept as is) */
};

/* ---- NEW_KEY (draft-baerts-tcpm-mptcpext-00 §4.2; key id in opt.key_id) ---- */

struct mpt_mptcp_new_key {
	uint8_t hmac[MPT_EXTKEY_HMAC_LEN]; /* low-order 64 bits of the HMAC of the key */
};

/* ---- unknown subtypes (incl. MP_EXPERIMENTAL): kept raw ---- */

struct mpt_mptcp_unknown {
	uint8_t len;                         /* total option length (3..40) */
	uint8_t data[MPT_MPTCP_MAX_LEN - 2]; /* bytes after kind+length; data[0]>>4 == subtype */
};

/** One parsed MPTCP option. */
struct mpt_mptcp_opt {
	uint8_t subtype; /* raw subtype nibble (enum mpt_mptcp_subtype or other) */
	bool unknown;    /* true: not decoded, see u.unknown */
	uint8_t version; /* MP_CAPABLE: its version nibble; others: ctx->version */
	uint8_t reason;  /* parse: enum mpt_mptcp_reason (R_OK on success) */
	/*
	 * External keys: the K bit (0 or 1) of MP_JOIN, v1 ADD_ADDR,
	 * MP_FASTCLOSE and NEW_KEY when ctx->ext understands them; 0 otherwise.
	 * Emit refuses a non-zero key_id on any other option.
	 */
	uint8_t key_id;
	union {
		struct mpt_mptcp_mpc mpc;
		struct mpt_mptcp_join join;
		struct mpt_mptcp_dss dss;
		struct mpt_mptcp_add_addr add_addr;
		struct mpt_mptcp_rm_addr rm_addr;
		struct mpt_mptcp_prio prio;
		uint64_t fail_dsn;      /* MP_FAIL: 64-bit DSN */
		uint64_t fastclose_key; /* MP_FASTCLOSE: Option Receiver's Key
					 * (external keys: the truncated HMAC) */
		struct mpt_mptcp_tcprst tcprst;
		struct mpt_mptcp_new_key new_key; /* subtype MPT_EXTKEY_SUBTYPE, decoded */
		struct mpt_mptcp_unknown unknown;
	} u;
};

/** Segment kind from TCP header flags (MPT_TCP_SYN/MPT_TCP_ACK of wire/tcp.h). */
enum mpt_mptcp_seg mpt_mptcp_seg_from_flags(uint16_t tcp_flags);

/**
 * Parse one MPTCP option.  opt points at the kind byte; len is the number of
 * bytes available from opt (at least the option's length byte opt[1]; more
 * is fine, only opt[1] bytes are used).  ctx may be NULL (version 1, any
 * segment).  Only legal lengths are accepted: each subtype's exact set for
 * the version (and segment kind when ctx->seg is not ANY) - see the table in
 * mptcp.c.  Unknown subtypes (and subtype 8 in v0; subtype 9 unless
 * ctx->ext understands external keys in v1) succeed with out->unknown set.  out is fully overwritten; on failure out->reason says
 * why, and out->subtype/out->version are still filled in when the header
 * could be read (so that an MP_CAPABLE SYN with a newer version can be
 * answered with ours, RFC 8684 §3.1).  ctx->ext bits this codec does not
 * know are a bad context.
 * Returns 0, MPT_ERR_INVAL (not kind 30, bad ctx), MPT_ERR_TRUNCATED,
 * MPT_ERR_BADLEN, MPT_ERR_UNSUPPORTED (MP_CAPABLE version > 1) or
 * MPT_ERR_PROTO (bad v0 ADD_ADDR IPVer).
 */
int mpt_mptcp_parse(struct mpt_mptcp_opt *out, const uint8_t *opt, size_t len,
		    const struct mpt_mptcp_parse_ctx *ctx);

/**
 * Encoded length of o (kind and length bytes included), or 0 when o cannot
 * be encoded (bad version, form, flags, address family, count...).
 */
size_t mpt_mptcp_opt_len(const struct mpt_mptcp_opt *o);

/**
 * Encode o into buf (cap bytes); reserved bits are written as zero.  The
 * exact inverse of mpt_mptcp_parse: o->version selects the format of
 * MP_CAPABLE, ADD_ADDR, MP_PRIO and MP_TCPRST.  Values that do not fit their
 * wire width (a 32-bit DSN/DATA_ACK above 2^32-1) are refused rather than
 * truncated.  Returns the length written, MPT_ERR_INVAL (see
 * mpt_mptcp_opt_len) or MPT_ERR_NOSPACE.
 */
int mpt_mptcp_emit(uint8_t *buf, size_t cap, const struct mpt_mptcp_opt *o);

/** Text for an enum mpt_mptcp_reason value (never NULL). */
const char *mpt_mptcp_reason_str(int reason);
/** Name of a subtype ("MP_CAPABLE", ..., "unknown"); never NULL. */
const char *mpt_mptcp_subtype_str(int subtype);
/** Text for an MP_TCPRST reason code ("unknown" beyond 0x06); never NULL. */
const char *mpt_tcprst_reason_str(int code);

/**
 * Expand a 32-bit DSN or DATA_ACK to the 64-bit value closest to ref (RFC
 * 8684 §3.3.1: a 32-bit value is implicitly the low bits of the 64-bit
 * sequence space around the most recent one).  Values within 2^31 below
 * or 2^31-1 above ref come back exactly; arithmetic is modulo 2^64.
 */
uint64_t mpt_dsn_expand(uint64_t ref, uint32_t low32);

/*
 * DSS checksum (RFC 8684 §3.3.1).  The Internet checksum (RFC 1071) over
 * the pseudo-header
 *     64-bit DSN | 32-bit relative SSN | 16-bit data-level length | 16-bit 0
 * followed by the mapped payload (a final odd byte padded with zero).  The
 * DSN is always the full 64-bit value, even when the option carries 32.
 * Convention (as for TCP): the value sent is the one's complement of the
 * folded one's-complement sum, so re-summing the pseudo-header with that
 * value in the checksum field plus the payload gives 0xffff (0 after
 * complementing) - which is what mpt_dss_csum_check tests.
 *
 * The payload may be fed in pieces of any size, including odd sizes in the
 * middle: an odd trailing byte is carried over to the next update.
 */
struct mpt_dss_csum {
	uint32_t acc; /* accumulator as returned by mpt_csum_add */
	uint8_t odd;  /* pending byte when has_odd */
	bool has_odd; /* an odd number of payload bytes has been summed */
};

/** Start a checksum: sum the pseudo-header (checksum field zero). */
void mpt_dss_csum_init(struct mpt_dss_csum *c, uint64_t dsn, uint32_t ssn, uint16_t data_len);
/** Add len payload bytes (any length, any number of calls). */
void mpt_dss_csum_update(struct mpt_dss_csum *c, const uint8_t *data, size_t len);
/** The 16-bit value to put in the DSS / MP_CAPABLE checksum field. */
uint16_t mpt_dss_csum_final(const struct mpt_dss_csum *c);
/** True when wire_csum (as received) is correct for everything summed. */
bool mpt_dss_csum_check(const struct mpt_dss_csum *c, uint16_t wire_csum);
/** One-shot: checksum field value for a mapping and its whole payload. */
uint16_t mpt_dss_csum(uint64_t dsn, uint32_t ssn, uint16_t data_len, const uint8_t *payload,
		      size_t len);

#endif /* MPT_WIRE_MPTCP_H */
