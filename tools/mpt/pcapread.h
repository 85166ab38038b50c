/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading capture files: pcap (microsecond or nanosecond, either byte order)
 * and pcapng (Section Header, Interface Description, Enhanced and Simple
 * Packet blocks, any number of interfaces each with its own link type and
 * timestamp resolution), and the link layers captures of IP traffic come
 * with: raw IP, Ethernet (with 802.1Q/802.1ad tags), Linux cooked (SLL and
 * SLL2), BSD loopback.  What `mpt analyze` needs, for files from mpt's
 * --pcap, tcpdump, dumpcap and Wireshark.  Every length is checked before
 * it is used: a damaged file ends the reading with a message, never worse.
 */
#ifndef MPT_TOOL_PCAPREAD_H
#define MPT_TOOL_PCAPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCAPR_MAX_IFACES 64
#define PCAPR_MAX_PKT    (256u * 1024u) /* larger records are skipped (counted) */

struct pcapr {
	FILE *f;
	bool ng;   /* pcapng */
	bool swap; /* the file's byte order is not ours */
	bool nsec; /* classic pcap: nanosecond timestamps */
	uint32_t linktype;
	struct {
		uint32_t linktype;
		uint64_t tsres; /* ticks per second */
	} ifc[PCAPR_MAX_IFACES];
	size_t n_ifc;
	uint8_t *buf; /* one record */
	uint64_t records, skipped;
	char err[160];
};

/** Open path; returns 0, or -1 with the reason in r->err. */
int pcapr_open(struct pcapr *r, const char *path);
/**
 * The next packet's IP header and what follows: *ip, *len (the bytes
 * captured from the IP header on), *ts_ns.  Packets that are not IPv4 or
 * IPv6 are skipped.  Returns 1, 0 at the end, -1 on a damaged file (r->err).
 */
int pcapr_next_ip(struct pcapr *r, const uint8_t **ip, size_t *len, uint64_t *ts_ns);
void pcapr_close(struct pcapr *r);

#endif /* MPT_TOOL_PCAPREAD_H */
