/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the RFC 8803 Convert message codec.
 *
 * The input is treated as the start of a SYN payload.  Whatever the parser
 * accepts must re-emit to a message that parses to the same TLVs and
 * re-emits to the same bytes; every prefix of an accepted message must be
 * "need more bytes" (split delivery never yields a different verdict); and
 * every rejection must name an RFC error code for which an Error answer can
 * be built.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct mpt_convert_msg *a, const struct mpt_convert_msg *b)
{
	if (a->n_tlvs != b->n_tlvs)
		abort();
	for (unsigned i = 0; i < a->n_tlvs; i++) {
		const struct mpt_convert_tlv *x = &a->tlv[i], *y = &b->tlv[i];
		if (x->type != y->type)
			abort();
		const uint8_t *p = NULL, *q = NULL;
		size_t n = 0, m = 0;
		switch (x->type) {
		case MPT_CONVERT_TLV_CONNECT:
			if (x->u.connect.remote.port != y->u.connect.remote.port ||
			    memcmp(&x->u.connect.remote.addr, &y->u.connect.remote.addr,
				   sizeof(x->u.connect.remote.addr)) != 0)
				abort();
			p = x->u.connect.opt, n = x->u.connect.opt_len;
			q = y->u.connect.opt, m = y->u.connect.opt_len;
			break;
		case MPT_CONVERT_TLV_EXT_TCP_HDR:
			p = x->u.ext_tcp_hdr.data, n = x->u.ext_tcp_hdr.len;
			q = y->u.ext_tcp_hdr.data, m = y->u.ext_tcp_hdr.len;
			break;
		case MPT_CONVERT_TLV_SUPPORTED:
			p = x->u.supported.kinds, n = x->u.supported.n_kinds;
			q = y->u.supported.kinds, m = y->u.supported.n_kinds;
			break;
		case MPT_CONVERT_TLV_COOKIE:
			p = x->u.cookie.data, n = x->u.cookie.len;
			q = y->u.cookie.data, m = y->u.cookie.len;
			break;
		case MPT_CONVERT_TLV_ERROR:
			if (x->u.error.code != y->u.error.code)
				abort();
			p = x->u.error.value, n = x->u.error.value_len;
			q = y->u.error.value, m = y->u.error.value_len;
			break;
		default:
			break;
		}
		if (n != m || (n && memcmp(p, q, n) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 2 * MPT_CONVERT_MAX_LEN)
		size = 2 * MPT_CONVERT_MAX_LEN;
	/* Exact-size copy so ASan catches any read past the input. */
	uint8_t *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	if (size)
		memcpy(in, data, size);

	struct mpt_convert_msg m;
	size_t used = 0;
	int rc = mpt_convert_parse(&m, size ? in : NULL, size, &used);
	if (rc == 0) {
		if (used > size || used < MPT_CONVERT_HDR_LEN || used % 4 ||
		    m.n_tlvs > MPT_CONVERT_MAX_TLVS)
			abort();
		uint8_t e1[MPT_CONVERT_MAX_LEN], e2[MPT_CONVERT_MAX_LEN];
		int n1 = mpt_convert_emit(e1, sizeof(e1), &m);
		if (n1 <= 0 || (size_t)n1 != used)
			abort();
		struct mpt_convert_msg m2;
		size_t used2;
		if (mpt_convert_parse(&m2, e1, (size_t)n1, &used2) != 0 || used2 != (size_t)n1)
			abort();
		check_same(&m, &m2);
		int n2 = mpt_convert_emit(e2, sizeof(e2), &m2);
		if (n2 != n1 || memcmp(e1, e2, (size_t)n1) != 0)
			abort();
		/* Any prefix of an accepted message is only "need more bytes". */
		size_t cut = used > 1 ? (size_t)data[0] % used : 0;
		struct mpt_convert_msg p;
		size_t pu;
		if (mpt_convert_parse(&p, in, cut, &pu) != MPT_ERR_AGAIN || p.need <= cut)
			abort();
	} else if (rc == MPT_ERR_AGAIN) {
		if (m.need <= size || m.rfc_error != -1 || used != 0)
			abort();
	} else {
		if (m.rfc_error < 0 || m.rfc_error > 2 || used > size)
			abort();
		uint8_t ans[MPT_CONVERT_MAX_LEN];
		int n = mpt_convert_emit_error_msg(ans, sizeof(ans), (uint8_t)m.rfc_error, in,
						   used ? used : size);
		struct mpt_convert_msg a;
		size_t au;
		if (n <= 0 || mpt_convert_parse(&a, ans, (size_t)n, &au) != 0 ||
		    a.tlv[0].u.error.code != m.rfc_error)
			abort();
	}
	free(in);
	return 0;
}
