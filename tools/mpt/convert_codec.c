/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 8803 (0-RTT TCP Convert Protocol) message codec.  See convert_codec.h.
 */
#include "convert_codec.h"

#include <string.h>

#include "wire/bytes.h"

#define TLV_HDR_LEN     2  /* Type + Length */
#define CONNECT_MIN_LEN 20 /* Type, Length, Port, 16-byte address (5 words) */

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool known_type(uint8_t type, unsigned *bit)
{
	switch (type) {
	case MPT_CONVERT_TLV_INFO:
		*bit = 0;
		return true;
	case MPT_CONVERT_TLV_CONNECT:
		*bit = 1;
		return true;
	case MPT_CONVERT_TLV_EXT_TCP_HDR:
		*bit = 2;
		return true;
	case MPT_CONVERT_TLV_SUPPORTED:
		*bit = 3;
		return true;
	case MPT_CONVERT_TLV_COOKIE:
		*bit = 4;
		return true;
	case MPT_CONVERT_TLV_ERROR:
		*bit = 5;
		return true;
	default:
		return false;
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * RFC 8803 §4.2.5: "the Remote Peer IP address field MUST NOT include
 * multicast, broadcast, and host loopback addresses"; §4.2.8 names such a
 * Connect TLV as the typical Malformed Message.  The unspecified address is
 * refused too: connecting to 0.0.0.0 or :: reaches the converter's own host
 * on common stacks, i.e. it is a loopback in disguise.
 */
static bool addr_allowed(const struct mpt_addr *a)
{
	if (a->family == 4) {
		const uint8_t *b = a->bytes;
		if (b[0] == 127 || (b[0] & 0xf0) == 0xe0) /* 127/8, 224/4 */
			return false;
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return false;
		return !all_zero(b, 4);
	}
	if (a->family != 6)
		return false;
	if (a->bytes[0] == 0xff) /* ff00::/8 */
		return false;
	if (all_zero(a->bytes, 15) && a->bytes[15] <= 1) /* :: and ::1 */
		return false;
	return true;
}

/* 16-byte wire address <-> mpt_addr (IPv4-mapped, RFC 4291 §2.5.5.2). */
static void addr_from_wire(struct mpt_addr *a, const uint8_t *w)
{
	memset(a, 0, sizeof(*a));
	if (memcmp(w, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		a->family = 4;
		memcpy(a->bytes, w + 12, 4);
	} else {
		a->family = 6;
		memcpy(a->bytes, w, 16);
	}
}

static void addr_to_wire(uint8_t *w, const struct mpt_addr *a)
{
	if (a->family == 4) {
		memcpy(w, v4mapped_prefix, sizeof(v4mapped_prefix));
		memcpy(w + 12, a->bytes, 4);
	} else {
		memcpy(w, a->bytes, 16);
	}
}

/*
 * The Connect TLV's TCP Options field (RFC 8803 §4.2.5): a list of options
 * each with kind and length >= 2 (so no EOL/NOP: "cannot be placed inside"),
 * then zero padding to the 32-bit boundary.  Returns the options' length
 * without padding, or -1.  When parsing, the padding must be zeros and
 * shorter than 4 bytes (the TLV Length is the smallest that fits, §4.2.1);
 * emit passes the bare options, which must not contain padding at all.
 */
static int connect_opts_len(const uint8_t *p, size_t n, bool parsing)
{
	size_t i = 0;
	while (i < n) {
		if (p[i] == 0) /* kind 0 cannot be an option: padding starts */
			break;
		if (p[i] == 1 || n - i < 2 || p[i + 1] < 2 || p[i + 1] > n - i)
			return -1;
		i += p[i + 1];
	}
	if (i < n && (!parsing || n - i >= 4 || !all_zero(p + i, n - i)))
		return -1;
	return (int)i;
}

/*
 * Supported TCP Extensions (RFC 8803 §4.2.4): one kind per byte; kinds 0, 1
 * and 2 "MUST NOT appear in this list", so the first 0 starts the padding.
 */
static int supported_kinds_len(const uint8_t *p, size_t n, bool parsing)
{
	size_t i = 0;
	while (i < n && p[i] != 0) {
		if (p[i] <= 2)
			return -1;
		i++;
	}
	if (i < n && (!parsing || n - i >= 4 || !all_zero(p + i, n - i)))
		return -1;
	return (int)i;
}

static int fail(struct mpt_convert_msg *m, int rc, int code, size_t off)
{
	m->rfc_error = code;
	m->err_off = (uint16_t)off;
	return rc;
}

/* Decode one TLV of l bytes (already checked: 4 <= l, fits the message). */
static int parse_tlv(struct mpt_convert_msg *m, struct mpt_convert_tlv *t, const uint8_t *p,
		     size_t l, size_t off)
{
	t->type = p[0];
	switch (p[0]) {
	case MPT_CONVERT_TLV_INFO:
		/* §4.2.2 table / §4.2.3: Length 1, the 16 bits after it are Zero. */
		if (l != 4)
			return fail(m, MPT_ERR_BADLEN, MPT_CONVERT_ERR_MALFORMED, off + 1);
		return 0;
	case MPT_CONVERT_TLV_CONNECT: {
		if (l < CONNECT_MIN_LEN)
			return fail(m, MPT_ERR_BADLEN, MPT_CONVERT_ERR_MALFORMED, off + 1);
		struct mpt_convert_connect *c = &t->u.connect;
		c->remote.port = mpt_get16(p + 2);
		addr_from_wire(&c->remote.addr, p + 4);
		if (!addr_allowed(&c->remote.addr))
			return fail(m, MPT_ERR_PROTO, MPT_CONVERT_ERR_MALFORMED, off + 4);
		int ol = connect_opts_len(p + CONNECT_MIN_LEN, l - CONNECT_MIN_LEN, true);
		if (ol < 0)
			return fail(m, MPT_ERR_PROTO, MPT_CONVERT_ERR_MALFORMED,
				    off + CONNECT_MIN_LEN);
		c->opt = p + CONNECT_MIN_LEN;
		c->opt_len = (uint16_t)ol;
		return 0;
	}
	case MPT_CONVERT_TLV_EXT_TCP_HDR:
		/* §4.2.6: Unassigned (16, ignored on receipt), then the header copy. */
		t->u.ext_tcp_hdr.data = p + 4;
		t->u.ext_tcp_hdr.len = (uint16_t)(l - 4);
		return 0;
	case MPT_CONVERT_TLV_SUPPORTED: {
		/* §4.2.4: Unassigned (16), then kinds. */
		int n = supported_kinds_len(p + 4, l - 4, true);
		if (n < 0)
			return fail(m, MPT_ERR_PROTO, MPT_CONVERT_ERR_MALFORMED, off + 4);
		t->u.supported.kinds = p + 4;
		t->u.supported.n_kinds = (uint16_t)n;
		return 0;
	}
	case MPT_CONVERT_TLV_COOKIE:
		/* §4.2.7: Zero (16), then the opaque cookie. */
		t->u.cookie.data = p + 4;
		t->u.cookie.len = (uint16_t)(l - 4);
		return 0;
	case MPT_CONVERT_TLV_ERROR:
		/* §4.2.8: Error Code (8), Value (variable, padded). */
		t->u.error.code = p[2];
		t->u.error.value = p + 3;
		t->u.error.value_len = (uint16_t)(l - 3);
		return 0;
	default:
		break;
	}
	if (p[0] == 0) /* §4.2.2: type 0 is reserved; such a message is discarded */
		return fail(m, MPT_ERR_PROTO, MPT_CONVERT_ERR_MALFORMED, off);
	/* §4.2.8: a message type the Converter does not support. */
	return fail(m, MPT_ERR_UNSUPPORTED, MPT_CONVERT_ERR_UNSUPPORTED_MSG, off);
}

int mpt_convert_parse(struct mpt_convert_msg *m, const uint8_t *buf, size_t len, size_t *consumed)
{
	if (!m || !consumed || (!buf && len))
		return MPT_ERR_INVAL;
	memset(m, 0, sizeof(*m));
	m->rfc_error = -1;
	*consumed = 0;

	/*
	 * §4.1 fixed header.  The magic number is what makes this a Convert
	 * message at all, so it is checked (as far as it has arrived) before
	 * the version: a partial header that already disagrees fails now
	 * instead of waiting for bytes that cannot fix it.
	 */
	if (len < MPT_CONVERT_HDR_LEN) {
		if (len >= 3 && buf[2] != (MPT_CONVERT_MAGIC >> 8))
			return fail(m, MPT_ERR_PROTO, MPT_CONVERT_ERR_MALFORMED, 2);
		m->need = MPT_CONVERT_HDR_LEN;
		return MPT_ERR_AGAIN;
	}
	if (mpt_get16(buf + 2) != MPT_CONVERT_MAGIC)
		return fail(m, MPT_ERR_PROTO, MPT_CONVERT_ERR_MALFORMED, 2);
	m->version = buf[0];
	if (buf[0] != MPT_CONVERT_VERSION)
		return fail(m, MPT_ERR_UNSUPPORTED, MPT_CONVERT_ERR_UNSUPPORTED_VERSION, 0);
	/* Total Length counts the header itself: 0 is impossible. */
	if (buf[1] == 0)
		return fail(m, MPT_ERR_BADLEN, MPT_CONVERT_ERR_MALFORMED, 1);
	size_t mlen = (size_t)buf[1] * 4;
	m->len = (uint16_t)mlen;
	if (len < mlen) {
		m->need = (uint16_t)mlen;
		return MPT_ERR_AGAIN;
	}
	*consumed = mlen;

	/* §4.2.1: TLVs, each a whole number of words, exactly fill the message. */
	unsigned seen = 0;
	size_t off = MPT_CONVERT_HDR_LEN;
	while (off < mlen) {
		/* mlen - off is a non-zero multiple of 4: Type and Length are there. */
		size_t l = (size_t)buf[off + 1] * 4;
		if (l == 0)
			return fail(m, MPT_ERR_BADLEN, MPT_CONVERT_ERR_MALFORMED, off + 1);
		if (l > mlen - off)
			return fail(m, MPT_ERR_BADLEN, MPT_CONVERT_ERR_MALFORMED, off + 1);
		unsigned bit;
		if (known_type(buf[off], &bit)) {
			/* §4.2.1: "A given TLV MUST only appear once". */
			if (seen & (1u << bit))
				return fail(m, MPT_ERR_PROTO, MPT_CONVERT_ERR_MALFORMED, off);
			seen |= 1u << bit;
		}
		/* Unknown types fail inside parse_tlv, so n_tlvs stays in bounds. */
		int rc = parse_tlv(m, &m->tlv[m->n_tlvs], buf + off, l, off);
		if (rc < 0)
			return rc;
		m->n_tlvs++;
		off += l;
	}
	return 0;
}

const struct mpt_convert_tlv *mpt_convert_find(const struct mpt_convert_msg *m, uint8_t type)
{
	if (!m)
		return NULL;
	for (unsigned i = 0; i < m->n_tlvs && i < MPT_CONVERT_MAX_TLVS; i++)
		if (m->tlv[i].type == type)
			return &m->tlv[i];
	return NULL;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Unpadded length of t's encoding, or a negative error. */
static long tlv_raw_len(const struct mpt_convert_tlv *t)
{
	switch (t->type) {
	case MPT_CONVERT_TLV_INFO:
		return 4;
	case MPT_CONVERT_TLV_CONNECT: {
		const struct mpt_convert_connect *c = &t->u.connect;
		if (!addr_allowed(&c->remote.addr) || (!c->opt && c->opt_len))
			return MPT_ERR_INVAL;
		if (c->opt_len > MPT_CONVERT_MAX_TLV_LEN)
			return MPT_ERR_LIMIT;
		if (connect_opts_len(c->opt, c->opt_len, false) != (int)c->opt_len)
			return MPT_ERR_INVAL;
		return CONNECT_MIN_LEN + (long)c->opt_len;
	}
	case MPT_CONVERT_TLV_EXT_TCP_HDR:
		if (!t->u.ext_tcp_hdr.data && t->u.ext_tcp_hdr.len)
			return MPT_ERR_INVAL;
		return 4 + (long)t->u.ext_tcp_hdr.len;
	case MPT_CONVERT_TLV_SUPPORTED: {
		const struct mpt_convert_supported *s = &t->u.supported;
		if (!s->kinds && s->n_kinds)
			return MPT_ERR_INVAL;
		if (s->n_kinds > MPT_CONVERT_MAX_TLV_LEN)
			return MPT_ERR_LIMIT;
		if (supported_kinds_len(s->kinds, s->n_kinds, false) != (int)s->n_kinds)
			return MPT_ERR_INVAL;
		return 4 + (long)s->n_kinds;
	}
	case MPT_CONVERT_TLV_COOKIE:
		if (!t->u.cookie.data && t->u.cookie.len)
			return MPT_ERR_INVAL;
		return 4 + (long)t->u.cookie.len;
	case MPT_CONVERT_TLV_ERROR:
		if (!t->u.error.value && t->u.error.value_len)
			return MPT_ERR_INVAL;
		/* At least one Value byte: the TLV is one word at minimum. */
		return 3 + (long)(t->u.error.value_len ? t->u.error.value_len : 1);
	default:
		return MPT_ERR_INVAL;
	}
}

int mpt_convert_tlv_len(const struct mpt_convert_tlv *t)
{
	if (!t)
		return MPT_ERR_INVAL;
	long raw = tlv_raw_len(t);
	if (raw < 0)
		return (int)raw;
	size_t l = pad4((size_t)raw);
	if (l > MPT_CONVERT_MAX_TLV_LEN)
		return MPT_ERR_LIMIT;
	return (int)l;
}

int mpt_convert_emit_tlv(uint8_t *buf, size_t cap, const struct mpt_convert_tlv *t)
{
	int l = mpt_convert_tlv_len(t);
	if (l < 0)
		return l;
	if (!buf || cap < (size_t)l)
		return MPT_ERR_NOSPACE;
	memset(buf, 0, (size_t)l); /* padding, Zero and Unassigned fields */
	buf[0] = t->type;
	buf[1] = (uint8_t)(l / 4);
	switch (t->type) {
	case MPT_CONVERT_TLV_INFO:
		break;
	case MPT_CONVERT_TLV_CONNECT:
		mpt_put16(buf + 2, t->u.connect.remote.port);
		addr_to_wire(buf + 4, &t->u.connect.remote.addr);
		if (t->u.connect.opt_len)
			memcpy(buf + CONNECT_MIN_LEN, t->u.connect.opt, t->u.connect.opt_len);
		break;
	case MPT_CONVERT_TLV_EXT_TCP_HDR:
		if (t->u.ext_tcp_hdr.len)
			memcpy(buf + 4, t->u.ext_tcp_hdr.data, t->u.ext_tcp_hdr.len);
		break;
	case MPT_CONVERT_TLV_SUPPORTED:
		if (t->u.supported.n_kinds)
			memcpy(buf + 4, t->u.supported.kinds, t->u.supported.n_kinds);
		break;
	case MPT_CONVERT_TLV_COOKIE:
		if (t->u.cookie.len)
			memcpy(buf + 4, t->u.cookie.data, t->u.cookie.len);
		break;
	case MPT_CONVERT_TLV_ERROR:
		buf[2] = t->u.error.code;
		if (t->u.error.value_len)
			memcpy(buf + 3, t->u.error.value, t->u.error.value_len);
		break;
	default:
		return MPT_ERR_INVAL; /* unreachable: tlv_len rejected it */
	}
	return l;
}

int mpt_convert_emit_info(uint8_t *buf, size_t cap)
{
	struct mpt_convert_tlv t = {.type = MPT_CONVERT_TLV_INFO};
	return mpt_convert_emit_tlv(buf, cap, &t);
}

int mpt_convert_emit_connect(uint8_t *buf, size_t cap, const struct mpt_endpoint *remote,
			     const uint8_t *opt, size_t opt_len)
{
	if (!remote)
		return MPT_ERR_INVAL;
	if (opt_len > MPT_CONVERT_MAX_TLV_LEN)
		return MPT_ERR_LIMIT;
	struct mpt_convert_tlv t = {.type = MPT_CONVERT_TLV_CONNECT};
	t.u.connect.remote = *remote;
	t.u.connect.opt = opt;
	t.u.connect.opt_len = (uint16_t)opt_len;
	return mpt_convert_emit_tlv(buf, cap, &t);
}

int mpt_convert_emit_ext_tcp_hdr(uint8_t *buf, size_t cap, const uint8_t *hdr, size_t len)
{
	if (len > MPT_CONVERT_MAX_TLV_LEN)
		return MPT_ERR_LIMIT;
	struct mpt_convert_tlv t = {.type = MPT_CONVERT_TLV_EXT_TCP_HDR};
	t.u.ext_tcp_hdr.data = hdr;
	t.u.ext_tcp_hdr.len = (uint16_t)len;
	return mpt_convert_emit_tlv(buf, cap, &t);
}

int mpt_convert_emit_supported(uint8_t *buf, size_t cap, const uint8_t *kinds, size_t n)
{
	if (n > MPT_CONVERT_MAX_TLV_LEN)
		return MPT_ERR_LIMIT;
	struct mpt_convert_tlv t = {.type = MPT_CONVERT_TLV_SUPPORTED};
	t.u.supported.kinds = kinds;
	t.u.supported.n_kinds = (uint16_t)n;
	return mpt_convert_emit_tlv(buf, cap, &t);
}

int mpt_convert_emit_cookie(uint8_t *buf, size_t cap, const uint8_t *cookie, size_t len)
{
	if (len > MPT_CONVERT_MAX_TLV_LEN)
		return MPT_ERR_LIMIT;
	struct mpt_convert_tlv t = {.type = MPT_CONVERT_TLV_COOKIE};
	t.u.cookie.data = cookie;
	t.u.cookie.len = (uint16_t)len;
	return mpt_convert_emit_tlv(buf, cap, &t);
}

int mpt_convert_emit_error(uint8_t *buf, size_t cap, uint8_t code, const uint8_t *value,
			   size_t value_len)
{
	if (value_len > MPT_CONVERT_MAX_TLV_LEN)
		return MPT_ERR_LIMIT;
	struct mpt_convert_tlv t = {.type = MPT_CONVERT_TLV_ERROR};
	t.u.error.code = code;
	t.u.error.value = value;
	t.u.error.value_len = (uint16_t)value_len;
	return mpt_convert_emit_tlv(buf, cap, &t);
}

int mpt_convert_emit(uint8_t *buf, size_t cap, const struct mpt_convert_msg *m)
{
	if (!m || m->n_tlvs > MPT_CONVERT_MAX_TLVS)
		return MPT_ERR_INVAL;
	/* Size and validate everything before writing anything. */
	size_t total = MPT_CONVERT_HDR_LEN;
	unsigned seen = 0;
	for (unsigned i = 0; i < m->n_tlvs; i++) {
		unsigned bit;
		if (!known_type(m->tlv[i].type, &bit) || (seen & (1u << bit)))
			return MPT_ERR_INVAL;
		seen |= 1u << bit;
		int l = mpt_convert_tlv_len(&m->tlv[i]);
		if (l < 0)
			return l;
		total += (size_t)l;
	}
	if (total > MPT_CONVERT_MAX_LEN)
		return MPT_ERR_LIMIT;
	if (!buf || cap < total)
		return MPT_ERR_NOSPACE;
	buf[0] = MPT_CONVERT_VERSION;
	buf[1] = (uint8_t)(total / 4);
	mpt_put16(buf + 2, MPT_CONVERT_MAGIC);
	size_t off = MPT_CONVERT_HDR_LEN;
	for (unsigned i = 0; i < m->n_tlvs; i++) {
		int l = mpt_convert_emit_tlv(buf + off, cap - off, &m->tlv[i]);
		if (l < 0)
			return l;
		off += (size_t)l;
	}
	return (int)off;
}

int mpt_convert_emit_error_msg(uint8_t *buf, size_t cap, uint8_t code, const uint8_t *data,
			       size_t data_len)
{
	static const uint8_t versions[1] = {MPT_CONVERT_VERSION};
	static const uint8_t zero[1] = {0};
	/* Header + Type, Length, Error Code leave this much for the Value. */
	const size_t max_value = MPT_CONVERT_MAX_LEN - MPT_CONVERT_HDR_LEN - 3;

	if (!data && data_len)
		return MPT_ERR_INVAL;
	struct mpt_convert_msg m;
	memset(&m, 0, sizeof(m));
	m.n_tlvs = 1;
	m.tlv[0].type = MPT_CONVERT_TLV_ERROR;
	m.tlv[0].u.error.code = code;
	if (code == MPT_CONVERT_ERR_UNSUPPORTED_VERSION) {
		/* §4.2.8: "the Value field MUST be set to the version supported". */
		m.tlv[0].u.error.value = versions;
		m.tlv[0].u.error.value_len = sizeof(versions);
	} else if (data_len) {
		/*
		 * §4.2.8: Malformed / Unsupported Message "MUST echo the
		 * received message"; one message cannot hold a copy of a
		 * maximal one, so the echo keeps the leading bytes.
		 */
		m.tlv[0].u.error.value = data;
		m.tlv[0].u.error.value_len =
		    (uint16_t)(data_len < max_value ? data_len : max_value);
	} else {
		m.tlv[0].u.error.value = zero;
		m.tlv[0].u.error.value_len = sizeof(zero);
	}
	return mpt_convert_emit(buf, cap, &m);
}
