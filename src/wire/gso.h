/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Software segmentation of a TCP super-segment (what a device does for
 * segmentation offload, RFC-free: Linux's GSO): for a backend whose device
 * cannot take it (no offload, or per-packet link emulation) and for the
 * simulator.
 */
#ifndef MPT_WIRE_GSO_H
#define MPT_WIRE_GSO_H

#include <stddef.h>
#include <stdint.h>

/**
 * Cut pkt (an IPv4 or IPv6 packet with a TCP segment starting at l3_len;
 * l3_len 0: wherever its IP header ends)
 * into segments of at most gso_size payload bytes; each is built in out
 * (out_cap bytes) with the IP and TCP headers copied, the sequence number
 * advanced, FIN and PSH on the last segment only, the IP length, IPv4 ID and
 * checksum and the TCP checksum computed, then handed to emit.  gso_size 0
 * or a payload within one segment: pkt once, checksums completed.
 * Returns the number of segments, or a negative mpt_err (malformed).
 */
int mpt_gso_segment(const uint8_t *pkt, size_t len, size_t l3_len, uint32_t gso_size, uint8_t *out,
		    size_t out_cap, void (*emit)(void *ud, const uint8_t *seg, size_t len),
		    void *ud);

#endif /* MPT_WIRE_GSO_H */
