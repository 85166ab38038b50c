/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internet checksum (RFC 1071) with incremental update (RFC 1624) and the
 * TCP pseudo-headers for IPv4 (RFC 9293 §3.1) and IPv6 (RFC 8200 §8.1).
 *
 * Partial sums are kept as uint32_t "unfolded" accumulators so that a sum
 * can be built over several buffers (pseudo-header, header, payload pieces).
 * Data is summed as big-endian 16-bit words; odd-length pieces are handled
 * only at the end of a sum (mpt_csum_add pads with a zero byte).
 */
#ifndef MPT_WIRE_CSUM_H
#define MPT_WIRE_CSUM_H

#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

/**
 * Add len bytes (big-endian 16-bit words) to the accumulator and return the
 * new accumulator.  Any alignment of data is fine.  An odd len is padded
 * with one zero byte (RFC 1071 §4.1), so only the LAST piece of a sum may
 * have an odd length: bytes added after an odd piece would be summed one
 * byte out of phase and give a wrong checksum.
 */
uint32_t mpt_csum_add(uint32_t acc, const uint8_t *data, size_t len);
/** Fold to 16 bits and complement: the value to store in a header. */
uint16_t mpt_csum_fold(uint32_t acc);
/** One-shot checksum of a buffer. */
uint16_t mpt_csum(const uint8_t *data, size_t len);
/**
 * Accumulator seeded with the pseudo-header for src/dst (both of the same
 * family: 16 address bytes when src->family is 6, else 4), protocol proto
 * (6 for TCP) and the upper-layer length len (header + payload).
 */
uint32_t mpt_csum_pseudo(const struct mpt_addr *src, const struct mpt_addr *dst, uint8_t proto,
			 uint32_t len);
/**
 * RFC 1624 eqn. 3 incremental update: checksum field value old_csum after a
 * 16-bit word changed from old_word to new_word.
 */
uint16_t mpt_csum_update16(uint16_t old_csum, uint16_t old_word, uint16_t new_word);
/** Same for a 32-bit field (two 16-bit words). */
uint16_t mpt_csum_update32(uint16_t old_csum, uint32_t old_val, uint32_t new_val);

#endif /* MPT_WIRE_CSUM_H */
