/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the TCP option parser and the MPTCP option codec.
 *
 * Input byte 0 picks the MPTCP parse context (version, segment kind); the
 * rest is an options area.  Every parsed MPTCP option that the codec
 * accepts must re-emit to exactly the bytes it was parsed from (modulo
 * reserved bits, so we compare parse(emit(parse(x))) instead), and TCP
 * options must survive emit/parse.
 *
 * Every MPTCP option is also parsed with external keys understood
 * (draft-baerts-tcpm-mptcpext-00, docs/external-keys.md), with the same
 * round-trip check, and the two parses must agree on everything the
 * extension does not change: only a v1 MP_CAPABLE with flag E and NEW_KEY
 * (subtype 9, v1) may differ, elsewhere at most the key id.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/mptcp.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_mptcp_one(const uint8_t *opt, size_t len, const struct mpt_mptcp_parse_ctx *ctx)
{
	struct mpt_mptcp_opt o, o2;
	if (mpt_mptcp_parse(&o, opt, len, ctx) != 0)
		return;
	uint8_t buf[64];
	int n = mpt_mptcp_emit(buf, sizeof(buf), &o);
	if (n < 0)
		return; /* e.g. unknown subtype kept raw but not re-encodable */
	if ((size_t)n != mpt_mptcp_opt_len(&o))
		abort();
	if (mpt_mptcp_parse(&o2, buf, (size_t)n, ctx) != 0)
		abort();
	uint8_t buf2[64];
	int n2 = mpt_mptcp_emit(buf2, sizeof(buf2), &o2);
	if (n2 != n || memcmp(buf, buf2, (size_t)n) != 0)
		abort();
}

static void check_mptcp(const uint8_t *opt, size_t len, const struct mpt_mptcp_parse_ctx *ctx)
{
	struct mpt_mptcp_parse_ctx cx = *ctx;
	cx.ext = MPT_MPTCP_EXT_EXTKEY;
	check_mptcp_one(opt, len, ctx);
	check_mptcp_one(opt, len, &cx);

	struct mpt_mptcp_opt p, e;
	int rp = mpt_mptcp_parse(&p, opt, len, ctx);
	int re = mpt_mptcp_parse(&e, opt, len, &cx);
	if (p.key_id != 0)
		abort(); /* no key id without the extension */
	if (len >= 3 && opt[0] == MPT_MPTCP_KIND && opt[1] >= 3 && opt[1] <= len) {
		int st = opt[2] >> 4;
		if (st == MPT_EXTKEY_SUBTYPE && ctx->version == MPT_MPTCP_V1)
			return;
		if (st == MPT_MPTCP_MP_CAPABLE && (opt[2] & 0x0f) == MPT_MPTCP_V1 && opt[1] >= 4 &&
		    (opt[3] & MPT_EXTKEY_MPC_FLAG))
			return;
	}
	/* parse zeroes the whole struct first, so memcmp is exact */
	e.key_id = 0;
	if (rp != re || memcmp(&p, &e, sizeof(p)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct mpt_mptcp_parse_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = data[0] & 1;
	ctx.seg = (uint8_t)((data[0] >> 1) % 4);
	const uint8_t *opt = data + 1;
	size_t len = size - 1;
	if (len > MPT_TCP_MAX_OPT_LEN)
		len = MPT_TCP_MAX_OPT_LEN;

	/* Exact-size copy so ASan catches any read past the area. */
	uint8_t *area = malloc(len ? len : 1);
	if (!area)
		return 0;
	memcpy(area, opt, len);
	struct mpt_tcp_opts to;
	if (mpt_tcp_opts_parse(&to, area, len) == 0) {
		for (unsigned i = 0; i < to.n_mptcp; i++) {
			const struct mpt_tcpopt_ref *r = &to.mptcp[i];
			if ((size_t)r->off + r->len > len)
				abort();
			check_mptcp(area + r->off, r->len, &ctx);
		}
		/* Known options re-emitted must parse back to the same values. */
		struct mpt_tcp_opts_out out;
		memset(&out, 0, sizeof(out));
		out.present = to.present & (MPT_TCPOPT_F_MSS | MPT_TCPOPT_F_WSCALE |
					    MPT_TCPOPT_F_SACK_PERM | MPT_TCPOPT_F_TS);
		out.mss = to.mss;
		out.wscale = to.wscale;
		out.tsval = to.tsval;
		out.tsecr = to.tsecr;
		uint8_t eb[MPT_TCP_MAX_OPT_LEN];
		int n = mpt_tcp_opts_emit(eb, sizeof(eb), &out, NULL);
		struct mpt_tcp_opts back;
		if (n >= 0 && mpt_tcp_opts_parse(&back, eb, (size_t)n) == 0) {
			if ((back.present & out.present) != out.present)
				abort();
			if ((out.present & MPT_TCPOPT_F_MSS) && back.mss != out.mss)
				abort();
			if ((out.present & MPT_TCPOPT_F_TS) &&
			    (back.tsval != out.tsval || back.tsecr != out.tsecr))
				abort();
		}
	}
	/* The MPTCP parser on its own, whatever the TCP parser said. */
	check_mptcp(area, len, &ctx);
	free(area);
	return 0;
}
