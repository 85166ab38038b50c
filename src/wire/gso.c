/* SPDX-License-Identifier: Apache-2.0 */
/* Software segmentation of a TCP super-segment (see gso.h). */
#include <string.h>

#include "common.h"
#include "wire/bytes.h"
#include "wire/gso.h"
#include "wire/ip.h"
#include "wire/tcp.h"

int mpt_gso_segment(const uint8_t *pkt, size_t len, size_t l3_len, uint32_t gso_size, uint8_t *out,
		    size_t out_cap, void (*emit)(void *ud, const uint8_t *seg, size_t len),
		    void *ud)
{
	struct mpt_ip_hdr ip;
	if (!pkt || !out || !emit || mpt_ip_parse(&ip, pkt, len, false) < 0 ||
	    ip.proto != MPT_IPPROTO_TCP || (l3_len && ip.hdr_len != l3_len))
		return MPT_ERR_INVAL;
	l3_len = ip.hdr_len;
	const uint8_t *tcp = pkt + l3_len;
	size_t tlen = ip.payload_len;
	if (tlen < MPT_TCP_HDR_LEN)
		return MPT_ERR_TRUNCATED;
	size_t thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl < MPT_TCP_HDR_LEN || thl > tlen)
		return MPT_ERR_BADLEN;
	size_t pay = tlen - thl;
	size_t seg = gso_size ? gso_size : pay;
	if (seg == 0)
		seg = 1;
	uint32_t seq = mpt_get32(tcp + 4);
	uint8_t flags = tcp[13];
	int n = 0;
	for (size_t off = 0; off < pay || (pay == 0 && n == 0); off += seg) {
		size_t chunk = MPT_MIN(seg, pay - off);
		if (l3_len + thl + chunk > out_cap)
			return MPT_ERR_NOSPACE;
		struct mpt_ip_hdr h = ip;
		h.payload_len = thl + chunk;
		if (n > 0)
			h.id = (uint16_t)(ip.id + n);
		if (mpt_ip_emit(out, l3_len, &h) < 0)
			return MPT_ERR_INVAL;
		uint8_t *t = out + l3_len;
		memcpy(t, tcp, thl);
		memcpy(t + thl, tcp + thl + off, chunk);
		mpt_put32(t + 4, seq + (uint32_t)off);
		bool last = off + chunk >= pay;
		/* FIN and PSH belong to the last segment (as Linux's GSO). */
		t[13] = last ? flags : (uint8_t)(flags & ~(MPT_TCP_FIN | MPT_TCP_PSH));
		mpt_tcp_csum_fill(t, thl + chunk, &h.src, &h.dst);
		emit(ud, out, l3_len + thl + chunk);
		n++;
		if (pay == 0)
			break;
	}
	return n;
}
