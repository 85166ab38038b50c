/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPTCP option codec (TCP option kind 30): RFC 8684 (v1) and RFC 6824 (v0).
 *
 * Legal total lengths (kind and length bytes included) accepted by the
 * parser; anything else is refused with a reason:
 *
 *   subtype          v1 (RFC 8684)                  v0 (RFC 6824)
 *   MP_CAPABLE  0    SYN 4, SYN/ACK 12, ACK 20,     SYN and SYN/ACK 12, ACK 20
 *                    ACK+data 22 / 24 (checksum)    (version nibble of the option)
 *   MP_JOIN     1    SYN 12, SYN/ACK 16, ACK 24     same
 *   DSS         2    4 + A(4|8) + M((4|8)+4+2(+2))  same
 *   ADD_ADDR    3    v4: 8, 10 (E=1); 16, 18 (E=0)  v4: 8, 10; v6: 20, 22
 *                    v6: 20, 22 (E=1); 28, 30 (E=0) (IPVer must match)
 *   REMOVE_ADDR 4    3 + n, n >= 1                  same
 *   MP_PRIO     5    3                              3, 4 (optional AddrID)
 *   MP_FAIL     6    12                             same
 *   MP_FASTCLOSE 7   12                             same
 *   MP_TCPRST   8    4                              (unassigned: unknown)
 *   others           any 3..40, returned raw        same
 *
 * With external keys understood (ctx->ext & MPT_MPTCP_EXT_EXTKEY, v1 only,
 * draft-baerts-tcpm-mptcpext-00; docs/external-keys.md):
 *   MP_CAPABLE, E set  SYN 4, SYN/ACK 8, ACK 12, ACK+data 14 / 16 (checksum)
 *   MP_CAPABLE, E clear  unchanged
 *   NEW_KEY     9    12 (instead of "any 3..40, raw")
 *   MP_JOIN, ADD_ADDR, MP_FASTCLOSE: same lengths, K bit decoded
 *
 * The codec is deliberately strict on lengths (as Linux' mptcp_parse_option
 * is): an option whose length does not match its content cannot be trusted,
 * and the connection layer decides what to do (count, ignore, reset).
 */
#include "wire/mptcp.h"

#include "common.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/tcp.h"

/* Fixed lengths (RFC 8684 §3.1, §3.2, §3.3, §3.7, §3.5, §3.6). */
#define MPC_LEN_NOKEY     4
#define MPC_LEN_ONEKEY    12
#define MPC_LEN_TWOKEYS   20
#define MPC_LEN_DATA      22
#define MPC_LEN_DATA_CSUM 24
#define JOIN_LEN_SYN      12
#define JOIN_LEN_SYNACK   16
#define JOIN_LEN_ACK      24
#define FAIL_LEN          12
#define FASTCLOSE_LEN     12
#define TCPRST_LEN        4
#define PRIO_LEN          3
#define PRIO_LEN_V0_ID    4
#define ADD_ADDR_HMAC_LEN 8
#define ADD_ADDR_V1_E     0x01u

/* External keys (draft-baerts-tcpm-mptcpext-00 Figure 4): 32-bit tokens. */
#define MPC_LEN_EXT_ONETOKEN  8
#define MPC_LEN_EXT_TWOTOKENS 12
#define MPC_LEN_EXT_DATA      14
#define MPC_LEN_EXT_DATA_CSUM 16

enum mpt_mptcp_seg mpt_mptcp_seg_from_flags(uint16_t tcp_flags)
{
	if (!(tcp_flags & MPT_TCP_SYN))
		return MPT_MPTCP_SEG_ACK;
	return (tcp_flags & MPT_TCP_ACK) ? MPT_MPTCP_SEG_SYNACK : MPT_MPTCP_SEG_SYN;
}

/* ---- parsing ------------------------------------------------------------ */

static int fail(struct mpt_mptcp_opt *out, enum mpt_mptcp_reason r)
{
	out->reason = (uint8_t)r;
	switch (r) {
	case MPT_MPTCP_R_NOT_MPTCP:
	case MPT_MPTCP_R_BAD_CTX:
		return MPT_ERR_INVAL;
	case MPT_MPTCP_R_TRUNCATED:
		return MPT_ERR_TRUNCATED;
	case MPT_MPTCP_R_VERSION:
		return MPT_ERR_UNSUPPORTED;
	case MPT_MPTCP_R_IPVER:
		return MPT_ERR_PROTO;
	case MPT_MPTCP_R_SHORT:
	case MPT_MPTCP_R_LONG:
	case MPT_MPTCP_R_LEN:
	case MPT_MPTCP_R_LEN_SEG:
	case MPT_MPTCP_R_IPVER_LEN:
		return MPT_ERR_BADLEN;
	case MPT_MPTCP_R_OK:
	case MPT_MPTCP_R_MAX:
		break;
	}
	return MPT_ERR_INVAL;
}

/*
 * External keys (draft-baerts-tcpm-mptcpext-00 §4.1, Figure 4): with E set
 * the SYN is the v1 SYN, and the SYN/ACK and third ACK carry 32-bit tokens
 * where v1 carries 64-bit keys.  A keyed length with E set is refused: the
 * two say different things about the same bytes.
 */
static int parse_mpc_ext(struct mpt_mptcp_opt *out, const uint8_t *p, size_t olen, int seg)
{
	struct mpt_mptcp_mpc *m = &out->u.mpc;
	int want;

	switch (olen) {
	case MPC_LEN_NOKEY:
		m->form = MPT_MPC_NOKEY;
		want = MPT_MPTCP_SEG_SYN;
		break;
	case MPC_LEN_EXT_ONETOKEN:
		m->form = MPT_MPC_EXT_ONETOKEN;
		want = MPT_MPTCP_SEG_SYNACK;
		break;
	case MPC_LEN_EXT_TWOTOKENS:
		m->form = MPT_MPC_EXT_TWOTOKENS;
		want = MPT_MPTCP_SEG_ACK;
		break;
	case MPC_LEN_EXT_DATA:
	case MPC_LEN_EXT_DATA_CSUM:
		m->form = MPT_MPC_EXT_DATA;
		want = MPT_MPTCP_SEG_ACK;
		break;
	default:
		return fail(out, MPT_MPTCP_R_LEN);
	}
	if (seg != MPT_MPTCP_SEG_ANY && seg != want)
		return fail(out, MPT_MPTCP_R_LEN_SEG);
	m->flags = p[3];
	if (olen >= MPC_LEN_EXT_ONETOKEN)
		m->snd_token = mpt_get32(p + 4);
	if (olen >= MPC_LEN_EXT_TWOTOKENS)
		m->rcv_token = mpt_get32(p + 8);
	if (olen >= MPC_LEN_EXT_DATA)
		m->data_len = mpt_get16(p + 12);
	if (olen == MPC_LEN_EXT_DATA_CSUM) {
		m->has_csum = true;
		m->csum = mpt_get16(p + 14);
	}
	return 0;
}

/* RFC 8684 §3.1: the version nibble of the option itself decides the format. */
static int parse_mpc(struct mpt_mptcp_opt *out, const uint8_t *p, size_t olen, int seg, bool extkey)
{
	struct mpt_mptcp_mpc *m = &out->u.mpc;
	uint8_t ver = p[2] & 0x0f;

	out->version = ver;
	if (ver > MPT_MPTCP_V1)
		return fail(out, MPT_MPTCP_R_VERSION);
	/* olen first: a 3-byte option has no flags byte to look at. */
	if (extkey && ver == MPT_MPTCP_V1 && olen >= MPC_LEN_NOKEY && (p[3] & MPT_EXTKEY_MPC_FLAG))
		return parse_mpc_ext(out, p, olen, seg);
	switch (olen) {
	case MPC_LEN_NOKEY:
		/* v1 SYN carries no key (RFC 8684 §3.1); v0 had none this short. */
		if (ver != MPT_MPTCP_V1)
			return fail(out, MPT_MPTCP_R_LEN);
		m->form = MPT_MPC_NOKEY;
		break;
	case MPC_LEN_ONEKEY:
		m->form = MPT_MPC_ONEKEY;
		break;
	case MPC_LEN_TWOKEYS:
		m->form = MPT_MPC_TWOKEYS;
		break;
	case MPC_LEN_DATA:
	case MPC_LEN_DATA_CSUM:
		/* v1 only: the first data travels with the keys (RFC 8684 §3.1). */
		if (ver != MPT_MPTCP_V1)
			return fail(out, MPT_MPTCP_R_LEN);
		m->form = MPT_MPC_DATA;
		break;
	default:
		return fail(out, MPT_MPTCP_R_LEN);
	}
	switch (seg) {
	case MPT_MPTCP_SEG_SYN:
		if (m->form != (ver == MPT_MPTCP_V1 ? MPT_MPC_NOKEY : MPT_MPC_ONEKEY))
			return fail(out, MPT_MPTCP_R_LEN_SEG);
		break;
	case MPT_MPTCP_SEG_SYNACK:
		if (m->form != MPT_MPC_ONEKEY)
			return fail(out, MPT_MPTCP_R_LEN_SEG);
		break;
	case MPT_MPTCP_SEG_ACK:
		if (m->form != MPT_MPC_TWOKEYS && m->form != MPT_MPC_DATA)
			return fail(out, MPT_MPTCP_R_LEN_SEG);
		break;
	default:
		break;
	}
	m->flags = p[3];
	if (olen >= MPC_LEN_ONEKEY)
		m->snd_key = mpt_get64(p + 4);
	if (olen >= MPC_LEN_TWOKEYS)
		m->rcv_key = mpt_get64(p + 12);
	if (olen >= MPC_LEN_DATA)
		m->data_len = mpt_get16(p + 20);
	if (olen == MPC_LEN_DATA_CSUM) {
		m->has_csum = true;
		m->csum = mpt_get16(p + 22);
	}
	return 0;
}

/* RFC 8684 §3.2: the form follows the carrying segment (SYN, SYN/ACK, ACK). */
static int parse_join(struct mpt_mptcp_opt *out, const uint8_t *p, size_t olen, int seg,
		      bool extkey)
{
	struct mpt_mptcp_join *j = &out->u.join;
	int want;

	switch (olen) {
	case JOIN_LEN_SYN:
		j->form = MPT_JOIN_SYN;
		want = MPT_MPTCP_SEG_SYN;
		break;
	case JOIN_LEN_SYNACK:
		j->form = MPT_JOIN_SYNACK;
		want = MPT_MPTCP_SEG_SYNACK;
		break;
	case JOIN_LEN_ACK:
		j->form = MPT_JOIN_ACK;
		want = MPT_MPTCP_SEG_ACK;
		break;
	default:
		return fail(out, MPT_MPTCP_R_LEN);
	}
	if (seg != MPT_MPTCP_SEG_ANY && seg != want)
		return fail(out, MPT_MPTCP_R_LEN_SEG);
	/* External keys: K names the key of the HMACs, in every form (decision
	 * 5 of docs/external-keys.md); a reserved bit otherwise. */
	if (extkey)
		out->key_id = (p[2] & MPT_EXTKEY_K_JOIN) ? 1 : 0;
	switch (j->form) {
	case MPT_JOIN_SYN:
		j->backup = p[2] & 1;
		j->addr_id = p[3];
		j->token = mpt_get32(p + 4);
		j->nonce = mpt_get32(p + 8);
		break;
	case MPT_JOIN_SYNACK:
		j->backup = p[2] & 1;
		j->addr_id = p[3];
		memcpy(j->hmac, p + 4, 8);
		j->nonce = mpt_get32(p + 12);
		break;
	default:
		memcpy(j->hmac, p + 4, 20);
		break;
	}
	return 0;
}

/* Length of a DSS option with these flags, without the optional checksum. */
static size_t dss_base_len(uint8_t flags)
{
	size_t n = 4;

	if (flags & MPT_DSS_F_ACK)
		n += (flags & MPT_DSS_F_ACK64) ? 8u : 4u;
	if (flags & MPT_DSS_F_MAP)
		n += ((flags & MPT_DSS_F_DSN64) ? 8u : 4u) + 4u + 2u;
	return n;
}

/*
 * RFC 8684 §3.3: the flags say which fields follow; the checksum (present
 * only with a mapping, when negotiated) is known from the length alone.
 */
static int parse_dss(struct mpt_mptcp_opt *out, const uint8_t *p, size_t olen)
{
	struct mpt_mptcp_dss *d = &out->u.dss;
	uint8_t flags;
	size_t base;
	size_t off = 4;

	if (olen < 4) /* the flags byte itself is missing */
		return fail(out, MPT_MPTCP_R_LEN);
	flags = p[3] & MPT_DSS_F_MASK;
	base = dss_base_len(flags);
	if (olen == base + 2 && (flags & MPT_DSS_F_MAP))
		d->has_csum = true;
	else if (olen != base)
		return fail(out, MPT_MPTCP_R_LEN);
	d->flags = flags;
	if (flags & MPT_DSS_F_ACK) {
		if (flags & MPT_DSS_F_ACK64) {
			d->data_ack = mpt_get64(p + off);
			off += 8;
		} else {
			d->data_ack = mpt_get32(p + off);
			off += 4;
		}
	}
	if (flags & MPT_DSS_F_MAP) {
		if (flags & MPT_DSS_F_DSN64) {
			d->dsn = mpt_get64(p + off);
			off += 8;
		} else {
			d->dsn = mpt_get32(p + off);
			off += 4;
		}
		d->ssn = mpt_get32(p + off);
		d->data_len = mpt_get16(p + off + 4);
		off += 6;
		if (d->has_csum)
			d->csum = mpt_get16(p + off);
	}
	return 0;
}

/*
 * v1 (RFC 8684 §3.4.1): the address family is implied by the length (the
 * v4 set {8,10,16,18} and the v6 set {20,22,28,30} are disjoint), E says
 * whether the 8-byte truncated HMAC follows the optional port.
 * v0 (RFC 6824 §3.4.1): explicit IPVer nibble, no HMAC, no echo.
 */
static int parse_add_addr(struct mpt_mptcp_opt *out, const uint8_t *p, size_t olen, int version,
			  bool extkey)
{
	struct mpt_mptcp_add_addr *a = &out->u.add_addr;
	size_t rest;
	size_t alen;

	if (version == MPT_MPTCP_V1) {
		size_t fixed = 4;

		a->echo = p[2] & ADD_ADDR_V1_E;
		if (!a->echo)
			fixed += ADD_ADDR_HMAC_LEN;
		if (olen < fixed)
			return fail(out, MPT_MPTCP_R_LEN);
		rest = olen - fixed;
		if (rest == 4 || rest == 6)
			alen = 4;
		else if (rest == 16 || rest == 18)
			alen = 16;
		else
			return fail(out, MPT_MPTCP_R_LEN);
	} else {
		uint8_t ipver = p[2] & 0x0f;

		if (olen != 8 && olen != 10 && olen != 20 && olen != 22)
			return fail(out, MPT_MPTCP_R_LEN);
		if (ipver != 4 && ipver != 6)
			return fail(out, MPT_MPTCP_R_IPVER);
		rest = olen - 4;
		alen = ipver == 4 ? 4 : 16;
		if (rest != alen && rest != alen + 2)
			return fail(out, MPT_MPTCP_R_IPVER_LEN);
	}
	if (extkey)
		out->key_id = (p[2] & MPT_EXTKEY_K_ADD_ADDR) ? 1 : 0;
	a->addr_id = p[3];
	a->addr.family = alen == 4 ? 4 : 6;
	memcpy(a->addr.bytes, p + 4, alen);
	if (rest == alen + 2) {
		a->has_port = true;
		a->port = mpt_get16(p + 4 + alen);
	}
	if (version == MPT_MPTCP_V1 && !a->echo)
		memcpy(a->hmac, p + 4 + rest, ADD_ADDR_HMAC_LEN);
	return 0;
}

static void keep_raw(struct mpt_mptcp_opt *out, const uint8_t *p, size_t olen)
{
	out->unknown = true;
	out->u.unknown.len = (uint8_t)olen;
	memcpy(out->u.unknown.data, p + 2, olen - 2);
}

int mpt_mptcp_parse(struct mpt_mptcp_opt *out, const uint8_t *opt, size_t len,
		    const struct mpt_mptcp_parse_ctx *ctx)
{
	int version = ctx ? ctx->version : MPT_MPTCP_V1;
	int seg = ctx ? ctx->seg : MPT_MPTCP_SEG_ANY;
	unsigned ext = ctx ? ctx->ext : 0u;
	/* External keys exist in v1 only (MP_CAPABLE checks its own nibble). */
	bool extkey = (ext & MPT_MPTCP_EXT_EXTKEY) != 0;
	bool extkey_v1 = extkey && version == MPT_MPTCP_V1;
	size_t olen;

	memset(out, 0, sizeof(*out));
	out->version = (uint8_t)version;
	if (version != MPT_MPTCP_V0 && version != MPT_MPTCP_V1)
		return fail(out, MPT_MPTCP_R_BAD_CTX);
	if (seg < MPT_MPTCP_SEG_ANY || seg > MPT_MPTCP_SEG_ACK)
		return fail(out, MPT_MPTCP_R_BAD_CTX);
	if (ext & ~MPT_MPTCP_EXT_MASK)
		return fail(out, MPT_MPTCP_R_BAD_CTX);
	if (!opt || len < 2)
		return fail(out, MPT_MPTCP_R_TRUNCATED);
	if (opt[0] != MPT_MPTCP_KIND)
		return fail(out, MPT_MPTCP_R_NOT_MPTCP);
	olen = opt[1];
	if (olen > len)
		return fail(out, MPT_MPTCP_R_TRUNCATED);
	if (olen < 3)
		return fail(out, MPT_MPTCP_R_SHORT);
	if (olen > MPT_MPTCP_MAX_LEN)
		return fail(out, MPT_MPTCP_R_LONG);
	out->subtype = opt[2] >> 4;

	switch (out->subtype) {
	case MPT_MPTCP_MP_CAPABLE:
		return parse_mpc(out, opt, olen, seg, extkey);
	case MPT_MPTCP_MP_JOIN:
		return parse_join(out, opt, olen, seg, extkey_v1);
	case MPT_MPTCP_DSS:
		return parse_dss(out, opt, olen);
	case MPT_MPTCP_ADD_ADDR:
		return parse_add_addr(out, opt, olen, version, extkey_v1);
	case MPT_MPTCP_REMOVE_ADDR:
		/* RFC 8684 §3.4.2: one or more address ids. */
		if (olen < 4)
			return fail(out, MPT_MPTCP_R_LEN);
		out->u.rm_addr.n = (uint8_t)(olen - 3);
		memcpy(out->u.rm_addr.ids, opt + 3, olen - 3);
		return 0;
	case MPT_MPTCP_MP_PRIO:
		/* RFC 8684 §3.3.8 / Appendix E: v1 removed RFC 6824's AddrID. */
		if (olen == PRIO_LEN_V0_ID && version == MPT_MPTCP_V0) {
			out->u.prio.has_addr_id = true;
			out->u.prio.addr_id = opt[3];
		} else if (olen != PRIO_LEN) {
			return fail(out, MPT_MPTCP_R_LEN);
		}
		out->u.prio.backup = opt[2] & 1;
		return 0;
	case MPT_MPTCP_MP_FAIL:
		if (olen != FAIL_LEN)
			return fail(out, MPT_MPTCP_R_LEN);
		out->u.fail_dsn = mpt_get64(opt + 4);
		return 0;
	case MPT_MPTCP_MP_FASTCLOSE:
		if (olen != FASTCLOSE_LEN)
			return fail(out, MPT_MPTCP_R_LEN);
		/* External keys: K, then a truncated HMAC where the key was. */
		if (extkey_v1)
			out->key_id = (opt[2] & MPT_EXTKEY_K_FASTCLOSE) ? 1 : 0;
		out->u.fastclose_key = mpt_get64(opt + 4);
		return 0;
	case MPT_MPTCP_MP_TCPRST:
		/* Subtype 8 is unassigned in RFC 6824: a v0 stack ignores it. */
		if (version == MPT_MPTCP_V0)
			break;
		if (olen != TCPRST_LEN)
			return fail(out, MPT_MPTCP_R_LEN);
		out->u.tcprst.flags = opt[2] & 0x0f;
		out->u.tcprst.reason = opt[3];
		return 0;
	case MPT_EXTKEY_SUBTYPE:
		/* NEW_KEY (draft §4.2, Figure 5); an unknown subtype otherwise. */
		if (!extkey_v1)
			break;
		if (olen != MPT_EXTKEY_NEW_KEY_LEN)
			return fail(out, MPT_MPTCP_R_LEN);
		out->key_id = (opt[2] & MPT_EXTKEY_K_NEW_KEY) ? 1 : 0;
		memcpy(out->u.new_key.hmac, opt + 4, MPT_EXTKEY_HMAC_LEN);
		return 0;
	default:
		break;
	}
	/* RFC 8684 §3: unknown subtypes are ignored, not fatal. */
	keep_raw(out, opt, olen);
	return 0;
}

/* ---- emitting ----------------------------------------------------------- */

static size_t mpc_len(const struct mpt_mptcp_opt *o)
{
	const struct mpt_mptcp_mpc *m = &o->u.mpc;
	bool ext_ok = o->version == MPT_MPTCP_V1 && (m->flags & MPT_EXTKEY_MPC_FLAG);

	if (m->has_csum && m->form != MPT_MPC_DATA && m->form != MPT_MPC_EXT_DATA)
		return 0;
	switch (m->form) {
	case MPT_MPC_NOKEY:
		return o->version == MPT_MPTCP_V1 ? MPC_LEN_NOKEY : 0;
	case MPT_MPC_ONEKEY:
		return MPC_LEN_ONEKEY;
	case MPT_MPC_TWOKEYS:
		return MPC_LEN_TWOKEYS;
	case MPT_MPC_DATA:
		if (o->version != MPT_MPTCP_V1)
			return 0;
		return m->has_csum ? MPC_LEN_DATA_CSUM : MPC_LEN_DATA;
	/* Token forms only with E, or they would not parse back as tokens. */
	case MPT_MPC_EXT_ONETOKEN:
		return ext_ok ? MPC_LEN_EXT_ONETOKEN : 0;
	case MPT_MPC_EXT_TWOTOKENS:
		return ext_ok ? MPC_LEN_EXT_TWOTOKENS : 0;
	case MPT_MPC_EXT_DATA:
		if (!ext_ok)
			return 0;
		return m->has_csum ? MPC_LEN_EXT_DATA_CSUM : MPC_LEN_EXT_DATA;
	default:
		return 0;
	}
}

/* Only the options that carry a K bit may have a key id, and only 0 or 1. */
static bool key_id_ok(const struct mpt_mptcp_opt *o)
{
	if (o->key_id == 0)
		return true;
	if (o->key_id > 1 || o->unknown)
		return false;
	switch (o->subtype) {
	case MPT_MPTCP_MP_JOIN:
	case MPT_MPTCP_MP_FASTCLOSE:
	case MPT_EXTKEY_SUBTYPE:
		return true;
	case MPT_MPTCP_ADD_ADDR:
		return o->version == MPT_MPTCP_V1; /* v0: the nibble is IPVer */
	default:
		return false;
	}
}

static size_t dss_len(const struct mpt_mptcp_dss *d)
{
	if (d->flags & ~MPT_DSS_F_MASK)
		return 0;
	if ((d->flags & MPT_DSS_F_ACK) && !(d->flags & MPT_DSS_F_ACK64) && d->data_ack > UINT32_MAX)
		return 0;
	if ((d->flags & MPT_DSS_F_MAP) && !(d->flags & MPT_DSS_F_DSN64) && d->dsn > UINT32_MAX)
		return 0;
	if (d->has_csum && !(d->flags & MPT_DSS_F_MAP))
		return 0;
	return dss_base_len(d->flags) + (d->has_csum ? 2 : 0);
}

static size_t add_addr_len(const struct mpt_mptcp_opt *o)
{
	const struct mpt_mptcp_add_addr *a = &o->u.add_addr;
	size_t n = 4;

	if (a->addr.family == 4)
		n += 4;
	else if (a->addr.family == 6)
		n += 16;
	else
		return 0;
	if (a->has_port)
		n += 2;
	if (o->version == MPT_MPTCP_V0) {
		if (a->echo)
			return 0; /* v0 has no echo flag */
	} else if (!a->echo) {
		n += ADD_ADDR_HMAC_LEN;
	}
	return n;
}

size_t mpt_mptcp_opt_len(const struct mpt_mptcp_opt *o)
{
	if (!o)
		return 0;
	if (!key_id_ok(o))
		return 0;
	if (o->unknown) {
		const struct mpt_mptcp_unknown *u = &o->u.unknown;

		if (u->len < 3 || u->len > MPT_MPTCP_MAX_LEN || (u->data[0] >> 4) != o->subtype)
			return 0;
		return u->len;
	}
	if (o->version != MPT_MPTCP_V0 && o->version != MPT_MPTCP_V1)
		return 0;
	switch (o->subtype) {
	case MPT_MPTCP_MP_CAPABLE:
		return mpc_len(o);
	case MPT_MPTCP_MP_JOIN:
		switch (o->u.join.form) {
		case MPT_JOIN_SYN:
			return JOIN_LEN_SYN;
		case MPT_JOIN_SYNACK:
			return JOIN_LEN_SYNACK;
		case MPT_JOIN_ACK:
			return JOIN_LEN_ACK;
		default:
			return 0;
		}
	case MPT_MPTCP_DSS:
		return dss_len(&o->u.dss);
	case MPT_MPTCP_ADD_ADDR:
		return add_addr_len(o);
	case MPT_MPTCP_REMOVE_ADDR:
		if (o->u.rm_addr.n < 1 || o->u.rm_addr.n > MPT_MPTCP_MAX_RM_IDS)
			return 0;
		return 3u + o->u.rm_addr.n;
	case MPT_MPTCP_MP_PRIO:
		if (!o->u.prio.has_addr_id)
			return PRIO_LEN;
		return o->version == MPT_MPTCP_V0 ? PRIO_LEN_V0_ID : 0;
	case MPT_MPTCP_MP_FAIL:
		return FAIL_LEN;
	case MPT_MPTCP_MP_FASTCLOSE:
		return FASTCLOSE_LEN;
	case MPT_MPTCP_MP_TCPRST:
		if (o->version != MPT_MPTCP_V1 || o->u.tcprst.flags > 0x0f)
			return 0;
		return TCPRST_LEN;
	case MPT_EXTKEY_SUBTYPE:
		return o->version == MPT_MPTCP_V1 ? MPT_EXTKEY_NEW_KEY_LEN : 0;
	default:
		return 0; /* other subtypes only as raw (unknown) bytes */
	}
}

static void emit_mpc(uint8_t *p, const struct mpt_mptcp_opt *o, size_t n)
{
	const struct mpt_mptcp_mpc *m = &o->u.mpc;

	p[2] = (uint8_t)(MPT_MPTCP_MP_CAPABLE << 4 | o->version);
	p[3] = m->flags;
	if (m->form >= MPT_MPC_EXT_ONETOKEN) {
		if (n >= MPC_LEN_EXT_ONETOKEN)
			mpt_put32(p + 4, m->snd_token);
		if (n >= MPC_LEN_EXT_TWOTOKENS)
			mpt_put32(p + 8, m->rcv_token);
		if (n >= MPC_LEN_EXT_DATA)
			mpt_put16(p + 12, m->data_len);
		if (n == MPC_LEN_EXT_DATA_CSUM)
			mpt_put16(p + 14, m->csum);
		return;
	}
	if (n >= MPC_LEN_ONEKEY)
		mpt_put64(p + 4, m->snd_key);
	if (n >= MPC_LEN_TWOKEYS)
		mpt_put64(p + 12, m->rcv_key);
	if (n >= MPC_LEN_DATA)
		mpt_put16(p + 20, m->data_len);
	if (n == MPC_LEN_DATA_CSUM)
		mpt_put16(p + 22, m->csum);
}

static void emit_join(uint8_t *p, const struct mpt_mptcp_join *j, uint8_t key_id)
{
	p[2] = (uint8_t)(MPT_MPTCP_MP_JOIN << 4 | (key_id ? MPT_EXTKEY_K_JOIN : 0));
	switch (j->form) {
	case MPT_JOIN_SYN:
		p[2] |= j->backup ? 1 : 0;
		p[3] = j->addr_id;
		mpt_put32(p + 4, j->token);
		mpt_put32(p + 8, j->nonce);
		break;
	case MPT_JOIN_SYNACK:
		p[2] |= j->backup ? 1 : 0;
		p[3] = j->addr_id;
		memcpy(p + 4, j->hmac, 8);
		mpt_put32(p + 12, j->nonce);
		break;
	default:
		p[3] = 0;
		memcpy(p + 4, j->hmac, 20);
		break;
	}
}

static void emit_dss(uint8_t *p, const struct mpt_mptcp_dss *d)
{
	size_t off = 4;

	p[2] = MPT_MPTCP_DSS << 4;
	p[3] = d->flags;
	if (d->flags & MPT_DSS_F_ACK) {
		if (d->flags & MPT_DSS_F_ACK64) {
			mpt_put64(p + off, d->data_ack);
			off += 8;
		} else {
			mpt_put32(p + off, (uint32_t)d->data_ack);
			off += 4;
		}
	}
	if (d->flags & MPT_DSS_F_MAP) {
		if (d->flags & MPT_DSS_F_DSN64) {
			mpt_put64(p + off, d->dsn);
			off += 8;
		} else {
			mpt_put32(p + off, (uint32_t)d->dsn);
			off += 4;
		}
		mpt_put32(p + off, d->ssn);
		mpt_put16(p + off + 4, d->data_len);
		off += 6;
		if (d->has_csum)
			mpt_put16(p + off, d->csum);
	}
}

static void emit_add_addr(uint8_t *p, const struct mpt_mptcp_opt *o)
{
	const struct mpt_mptcp_add_addr *a = &o->u.add_addr;
	size_t alen = a->addr.family == 4 ? 4 : 16;
	size_t off = 4 + alen;

	if (o->version == MPT_MPTCP_V0)
		p[2] = (uint8_t)(MPT_MPTCP_ADD_ADDR << 4 | a->addr.family);
	else
		p[2] = (uint8_t)(MPT_MPTCP_ADD_ADDR << 4 | (a->echo ? ADD_ADDR_V1_E : 0) |
				 (o->key_id ? MPT_EXTKEY_K_ADD_ADDR : 0));
	p[3] = a->addr_id;
	memcpy(p + 4, a->addr.bytes, alen);
	if (a->has_port) {
		mpt_put16(p + off, a->port);
		off += 2;
	}
	if (o->version == MPT_MPTCP_V1 && !a->echo)
		memcpy(p + off, a->hmac, ADD_ADDR_HMAC_LEN);
}

int mpt_mptcp_emit(uint8_t *buf, size_t cap, const struct mpt_mptcp_opt *o)
{
	size_t n = mpt_mptcp_opt_len(o);

	if (n == 0 || !buf)
		return MPT_ERR_INVAL;
	if (n > cap)
		return MPT_ERR_NOSPACE;
	buf[0] = MPT_MPTCP_KIND;
	buf[1] = (uint8_t)n;
	if (o->unknown) {
		memcpy(buf + 2, o->u.unknown.data, n - 2);
		return (int)n;
	}
	switch (o->subtype) {
	case MPT_MPTCP_MP_CAPABLE:
		emit_mpc(buf, o, n);
		break;
	case MPT_MPTCP_MP_JOIN:
		emit_join(buf, &o->u.join, o->key_id);
		break;
	case MPT_MPTCP_DSS:
		emit_dss(buf, &o->u.dss);
		break;
	case MPT_MPTCP_ADD_ADDR:
		emit_add_addr(buf, o);
		break;
	case MPT_MPTCP_REMOVE_ADDR:
		buf[2] = MPT_MPTCP_REMOVE_ADDR << 4;
		memcpy(buf + 3, o->u.rm_addr.ids, o->u.rm_addr.n);
		break;
	case MPT_MPTCP_MP_PRIO:
		buf[2] = (uint8_t)(MPT_MPTCP_MP_PRIO << 4 | (o->u.prio.backup ? 1 : 0));
		if (o->u.prio.has_addr_id)
			buf[3] = o->u.prio.addr_id;
		break;
	case MPT_MPTCP_MP_FAIL:
		buf[2] = MPT_MPTCP_MP_FAIL << 4;
		buf[3] = 0;
		mpt_put64(buf + 4, o->u.fail_dsn);
		break;
	case MPT_MPTCP_MP_FASTCLOSE:
		buf[2] = (uint8_t)(MPT_MPTCP_MP_FASTCLOSE << 4 |
				   (o->key_id ? MPT_EXTKEY_K_FASTCLOSE : 0));
		buf[3] = 0;
		mpt_put64(buf + 4, o->u.fastclose_key);
		break;
	case MPT_MPTCP_MP_TCPRST:
		buf[2] = (uint8_t)(MPT_MPTCP_MP_TCPRST << 4 | o->u.tcprst.flags);
		buf[3] = o->u.tcprst.reason;
		break;
	case MPT_EXTKEY_SUBTYPE:
		buf[2] =
		    (uint8_t)(MPT_EXTKEY_SUBTYPE << 4 | (o->key_id ? MPT_EXTKEY_K_NEW_KEY : 0));
		buf[3] = 0; /* Figure 5: "0" */
		memcpy(buf + 4, o->u.new_key.hmac, MPT_EXTKEY_HMAC_LEN);
		break;
	default:
		return MPT_ERR_INVAL; /* unreachable: opt_len returned 0 */
	}
	return (int)n;
}

/* ---- names -------------------------------------------------------------- */

const char *mpt_mptcp_reason_str(int reason)
{
	static const char *const names[MPT_MPTCP_R_MAX] = {
	    [MPT_MPTCP_R_OK] = "ok",
	    [MPT_MPTCP_R_NOT_MPTCP] = "not an MPTCP option (kind != 30)",
	    [MPT_MPTCP_R_BAD_CTX] = "invalid parse context",
	    [MPT_MPTCP_R_TRUNCATED] = "option truncated",
	    [MPT_MPTCP_R_SHORT] = "option length below 3",
	    [MPT_MPTCP_R_LONG] = "option length above 40",
	    [MPT_MPTCP_R_VERSION] = "unsupported MP_CAPABLE version",
	    [MPT_MPTCP_R_LEN] = "illegal length for subtype",
	    [MPT_MPTCP_R_LEN_SEG] = "length not allowed on this segment",
	    [MPT_MPTCP_R_IPVER] = "bad ADD_ADDR IPVer",
	    [MPT_MPTCP_R_IPVER_LEN] = "ADD_ADDR IPVer does not match length",
	};

	if (reason < 0 || reason >= MPT_MPTCP_R_MAX)
		return "unknown reason";
	return names[reason];
}

const char *mpt_mptcp_subtype_str(int subtype)
{
	static const char *const names[] = {
	    "MP_CAPABLE", "MP_JOIN", "DSS",          "ADD_ADDR",  "REMOVE_ADDR",
	    "MP_PRIO",    "MP_FAIL", "MP_FASTCLOSE", "MP_TCPRST",
	};

	if (subtype == MPT_MPTCP_MP_EXPERIMENTAL)
		return "MP_EXPERIMENTAL";
	if (subtype < 0 || (size_t)subtype >= MPT_ARRAY_SIZE(names))
		return "unknown";
	return names[subtype];
}

const char *mpt_tcprst_reason_str(int code)
{
	static const char *const names[] = {
	    "unspecified error",           "MPTCP-specific error",      "lack of resources",
	    "administratively prohibited", "too much outstanding data", "unacceptable performance",
	    "middlebox interference",
	};

	if (code < 0 || (size_t)code >= MPT_ARRAY_SIZE(names))
		return "unknown";
	return names[code];
}

/* ---- sequence numbers and checksum -------------------------------------- */

uint64_t mpt_dsn_expand(uint64_t ref, uint32_t low32)
{
	/* Signed distance in the 32-bit space, applied modulo 2^64. */
	int32_t delta = (int32_t)(low32 - (uint32_t)ref);

	return ref + (uint64_t)(int64_t)delta;
}

void mpt_dss_csum_init(struct mpt_dss_csum *c, uint64_t dsn, uint32_t ssn, uint16_t data_len)
{
	uint8_t ph[16];

	/* RFC 8684 §3.3.1: DSN (always 64 bits), SSN, length, zero checksum. */
	mpt_put64(ph, dsn);
	mpt_put32(ph + 8, ssn);
	mpt_put16(ph + 12, data_len);
	mpt_put16(ph + 14, 0);
	c->acc = mpt_csum_add(0, ph, sizeof(ph));
	c->odd = 0;
	c->has_odd = false;
}

void mpt_dss_csum_update(struct mpt_dss_csum *c, const uint8_t *data, size_t len)
{
	if (len == 0)
		return;
	/*
	 * mpt_csum_add pads an odd piece with zero, which is only right at the
	 * very end; so an odd byte is held back and paired with the next one.
	 */
	if (c->has_odd) {
		const uint8_t w[2] = {c->odd, data[0]};

		c->acc = mpt_csum_add(c->acc, w, 2);
		c->has_odd = false;
		data++;
		len--;
	}
	if (len >= 2)
		c->acc = mpt_csum_add(c->acc, data, len & ~(size_t)1);
	if (len & 1) {
		c->odd = data[len - 1];
		c->has_odd = true;
	}
}

static uint32_t dss_csum_total(const struct mpt_dss_csum *c)
{
	if (c->has_odd) {
		const uint8_t w[2] = {c->odd, 0};

		return mpt_csum_add(c->acc, w, 2);
	}
	return c->acc;
}

uint16_t mpt_dss_csum_final(const struct mpt_dss_csum *c)
{
	return mpt_csum_fold(dss_csum_total(c));
}

bool mpt_dss_csum_check(const struct mpt_dss_csum *c, uint16_t wire_csum)
{
	uint8_t w[2];

	/* Put the received value in the (zero) checksum field: sum must be ~0. */
	mpt_put16(w, wire_csum);
	return mpt_csum_fold(mpt_csum_add(dss_csum_total(c), w, 2)) == 0;
}

uint16_t mpt_dss_csum(uint64_t dsn, uint32_t ssn, uint16_t data_len, const uint8_t *payload,
		      size_t len)
{
	struct mpt_dss_csum c;

	mpt_dss_csum_init(&c, dsn, ssn, data_len);
	mpt_dss_csum_update(&c, payload, len);
	return mpt_dss_csum_final(&c);
}
