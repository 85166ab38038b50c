/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pcap file writer (the classic libpcap format: a 24-byte file header,
 * then a 16-byte header per record), for the drivers that capture what a
 * stack sends and receives (the simulator, the TUN backend).  Written here
 * rather than linked from libpcap: the format is a few lines, and libpcap
 * would pull its own dependency tree (dbus, systemd, ...) into every program
 * that links libmpt.  Not part of the engine: it does file I/O.  Not
 * installed.
 */
#ifndef MPT_BASE_PCAP_H
#define MPT_BASE_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* LINKTYPE_RAW (tcpdump.org link-layer header types): each record is a bare
 * IPv4 or IPv6 packet, the version taken from its first nibble. */
#define MPT_PCAP_LINKTYPE_RAW 101u

/* Magic numbers of the file header (written in host byte order; readers
 * tell the byte order from them). */
#define MPT_PCAP_MAGIC_US 0xa1b2c3d4u /* timestamps in microseconds */
#define MPT_PCAP_MAGIC_NS 0xa1b23c4du /* timestamps in nanoseconds */

struct mpt_pcap_writer {
	FILE *f;
	bool nsec;        /* nanosecond timestamps */
	uint32_t snaplen; /* records are cut to this length */
	bool failed;      /* a write failed (reported by close) */
};

/**
 * Create (truncate) path and write the file header: link type RAW, records
 * cut at snaplen bytes, nanosecond timestamps when nsec.  Returns 0 or -1
 * with errno set.
 */
int mpt_pcap_open(struct mpt_pcap_writer *w, const char *path, uint32_t snaplen, bool nsec);
/** Append one packet captured at ts_ns (nanoseconds since the epoch, or any
 *  origin the reader should show).  No-op when the writer is not open. */
void mpt_pcap_write(struct mpt_pcap_writer *w, uint64_t ts_ns, const uint8_t *pkt, size_t len);
/** Flush buffered records to the file (e.g. before a risky operation). */
void mpt_pcap_flush(struct mpt_pcap_writer *w);
/** Flush and close.  Returns 0, or -1 when a write or the close failed. */
int mpt_pcap_close(struct mpt_pcap_writer *w);

#endif /* MPT_BASE_PCAP_H */
