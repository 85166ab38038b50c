/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internet checksum (RFC 1071), incremental update (RFC 1624) and the TCP
 * pseudo-headers (RFC 9293 §3.1, RFC 8200 §8.1).
 *
 * Speed: every packet in and out is summed, so mpt_csum_add loads 32-bit
 * words in host byte order into a 64-bit accumulator and folds once at the
 * end.  This relies on two RFC 1071 §2 properties:
 *  - (B) byte-order independence: summing in host order gives the byte-swap
 *    of the big-endian sum, so one swap after folding fixes it on
 *    little-endian hosts;
 *  - (C) parallel summation: a 32-bit word hi:lo is congruent to hi + lo
 *    modulo 0xffff (2^16 == 1), so summing 32-bit words and folding the
 *    carries back in gives the same one's-complement sum as 16-bit words.
 */
#include "wire/csum.h"

#include <string.h>

#include "common.h"

/* Bytes summed before the 64-bit accumulator is folded: 2^30 bytes are at
 * most 2^28 words of < 2^32 each, so the sum stays below 2^60. */
#define CSUM_CHUNK ((size_t)1 << 30)

/* Constant-folded by the compiler; avoids relying on non-standard macros. */
static inline bool host_is_little_endian(void)
{
	const uint16_t one = 1;
	uint8_t first;

	memcpy(&first, &one, 1);
	return first == 1;
}

/*
 * End-around-carry fold of a 64-bit sum into 16 bits.  Two steps per width
 * suffice: the first leaves at most 2 * (2^k - 1), whose high part is then
 * at most 1 while the low part is at most 2^k - 2, so the second step cannot
 * carry again.
 */
static inline uint16_t fold64_16(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* any alignment; compiles to one load */
	return v;
}

/* Host-order 16-bit sum (folded) of an even-aligned run; odd tail padded. */
static uint16_t sum_host_order(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	while (len >= 32) {
		s += (uint64_t)load32(p) + load32(p + 4) + load32(p + 8) + load32(p + 12);
		s += (uint64_t)load32(p + 16) + load32(p + 20) + load32(p + 24) + load32(p + 28);
		p += 32;
		len -= 32;
	}
	while (len >= 4) {
		s += load32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* RFC 1071 §4.1: a trailing odd byte is the high-order (first in
		 * memory) byte of a word whose second byte is zero. */
		const uint8_t tail[2] = {p[0], 0};
		uint16_t w;

		memcpy(&w, tail, 2);
		s += w;
	}
	return fold64_16(s);
}

uint32_t mpt_csum_add(uint32_t acc, const uint8_t *data, size_t len)
{
	uint64_t total = acc;

	while (len > 0) {
		size_t n = MPT_MIN(len, CSUM_CHUNK); /* even, so only the last piece is odd */
		uint16_t s = sum_host_order(data, n);

		if (host_is_little_endian())
			s = (uint16_t)(s << 8 | s >> 8);
		total += s;
		data += n;
		len -= n;
	}
	/* Keep the result an unfolded 32-bit accumulator (carries folded in). */
	total = (total & 0xffffffffu) + (total >> 32);
	total = (total & 0xffffffffu) + (total >> 32);
	return (uint32_t)total;
}

uint16_t mpt_csum_fold(uint32_t acc)
{
	return (uint16_t)~fold64_16(acc);
}

uint16_t mpt_csum(const uint8_t *data, size_t len)
{
	return mpt_csum_fold(mpt_csum_add(0, data, len));
}

uint32_t mpt_csum_pseudo(const struct mpt_addr *src, const struct mpt_addr *dst, uint8_t proto,
			 uint32_t len)
{
	size_t alen = src->family == 6 ? 16 : 4;
	uint32_t acc = 0;

	acc = mpt_csum_add(acc, src->bytes, alen);
	acc = mpt_csum_add(acc, dst->bytes, alen);
	/*
	 * IPv4 (RFC 9293 §3.1): zero, PTCL, 16-bit TCP length.  IPv6 (RFC
	 * 8200 §8.1): 32-bit upper-layer length, 24 zero bits, next header.
	 * Both reduce to adding proto and the length's two 16-bit halves (the
	 * high half is 0 for any IPv4 segment).
	 */
	uint64_t s = (uint64_t)acc + proto + (len >> 16) + (len & 0xffffu);

	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t mpt_csum_update16(uint16_t old_csum, uint16_t old_word, uint16_t new_word)
{
	/* RFC 1624 §3 eqn. 3: HC' = ~(~HC + ~m + m'). */
	uint32_t s = (uint32_t)(uint16_t)~old_csum + (uint16_t)~old_word + new_word;

	return mpt_csum_fold(s);
}

uint16_t mpt_csum_update32(uint16_t old_csum, uint32_t old_val, uint32_t new_val)
{
	uint32_t s = (uint32_t)(uint16_t)~old_csum;

	s += (uint16_t) ~(old_val >> 16);
	s += (uint16_t)~old_val;
	s += (uint16_t)(new_val >> 16);
	s += (uint16_t)new_val;
	return mpt_csum_fold(s);
}
