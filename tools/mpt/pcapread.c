/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capture files (pcapread.h).  Formats: the classic libpcap format
 * (https://www.tcpdump.org/manpages/pcap-savefile.5.html) and pcapng
 * (draft-ietf-opsawg-pcapng); link types from tcpdump.org's list.
 */
#define _GNU_SOURCE
#include "pcapread.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Link types (LINKTYPE_*, tcpdump.org). */
#define LT_NULL      0
#define LT_ETHERNET  1
#define LT_RAW       101
#define LT_LOOP      108
#define LT_LINUX_SLL 113
#define LT_IPV4      228
#define LT_IPV6      229
#define LT_SLL2      276
#define LT_RAW_OLD   12 /* DLT_RAW on some systems */
#define LT_RAW_OLD2  14

/* pcapng block types. */
#define NG_SHB 0x0a0d0d0au
#define NG_IDB 0x00000001u
#define NG_SPB 0x00000003u
#define NG_EPB 0x00000006u
#define NG_BOM 0x1a2b3c4du

static uint32_t rd32(const struct pcapr *r, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct pcapr *r, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static int fail(struct pcapr *r, const char *what)
{
	snprintf(r->err, sizeof(r->err), "%s (after %" PRIu64 " records)", what, r->records);
	return -1;
}

int pcapr_open(struct pcapr *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->f = fopen(path, "rb");
	if (!r->f) {
		snprintf(r->err, sizeof(r->err), "%s", strerror(errno));
		return -1;
	}
	r->buf = malloc(PCAPR_MAX_PKT + 128); /* a record, or a pcapng block with headers */
	if (!r->buf)
		return fail(r, "out of memory");
	uint8_t h[24];
	if (fread(h, 1, 24, r->f) != 24)
		return fail(r, "not a capture file (too short)");
	uint32_t magic;
	memcpy(&magic, h, 4);
	switch (magic) {
	case 0xa1b2c3d4u:
	case 0xa1b23c4du:
		r->nsec = magic == 0xa1b23c4du;
		break;
	case 0xd4c3b2a1u:
	case 0x4d3cb2a1u:
		r->swap = true;
		r->nsec = magic == 0x4d3cb2a1u;
		break;
	case NG_SHB: {
		r->ng = true;
		uint32_t bom;
		memcpy(&bom, h + 8, 4);
		if (bom == NG_BOM)
			r->swap = false;
		else if (bom == __builtin_bswap32(NG_BOM))
			r->swap = true;
		else
			return fail(r, "pcapng: bad byte-order magic");
		/* Skip the rest of the first section header block. */
		uint32_t blen = rd32(r, h + 4);
		if (blen < 28 || blen > PCAPR_MAX_PKT || blen % 4)
			return fail(r, "pcapng: bad section header length");
		if (fseek(r->f, (long)blen - 24, SEEK_CUR) != 0)
			return fail(r, "pcapng: truncated section header");
		return 0;
	}
	default:
		return fail(r, "not a pcap or pcapng file (unknown magic number)");
	}
	r->linktype = rd32(r, h + 20) & 0x0fffffffu;
	return 0;
}

void pcapr_close(struct pcapr *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	r->f = NULL;
	r->buf = NULL;
}

/* Strip the link layer: where the IP header starts, or -1 (not IP). */
static long ip_offset(uint32_t lt, const uint8_t *p, size_t len)
{
	size_t off;
	uint16_t et;
	switch (lt) {
	case LT_RAW:
	case LT_RAW_OLD:
	case LT_RAW_OLD2:
	case LT_IPV4:
	case LT_IPV6:
		return 0;
	case LT_NULL:
	case LT_LOOP:
		/* 4-byte address family, host or network order: any IP will do. */
		return len >= 4 ? 4 : -1;
	case LT_ETHERNET:
		if (len < 14)
			return -1;
		off = 12;
		et = (uint16_t)(p[off] << 8 | p[off + 1]);
		/* 802.1Q / 802.1ad tags, a few deep at most. */
		for (int i = 0; i < 3 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++) {
			off += 4;
			if (len < off + 2)
				return -1;
			et = (uint16_t)(p[off] << 8 | p[off + 1]);
		}
		off += 2;
		break;
	case LT_LINUX_SLL:
		if (len < 16)
			return -1;
		et = (uint16_t)(p[14] << 8 | p[15]);
		off = 16;
		break;
	case LT_SLL2:
		if (len < 20)
			return -1;
		et = (uint16_t)(p[0] << 8 | p[1]);
		off = 20;
		break;
	default:
		return -1;
	}
	if (et != 0x0800 && et != 0x86dd)
		return -1;
	return (long)off;
}

/* The next record of a classic pcap file. */
static int next_pcap(struct pcapr *r, size_t *caplen, uint64_t *ts, uint32_t *lt)
{
	uint8_t h[16];
	size_t n = fread(h, 1, 16, r->f);
	if (n == 0)
		return 0;
	if (n != 16)
		return fail(r, "truncated record header");
	uint32_t sec = rd32(r, h), frac = rd32(r, h + 4), cl = rd32(r, h + 8);
	if (cl > PCAPR_MAX_PKT) {
		/* Too big to be one of ours: skip it. */
		if (fseek(r->f, (long)cl, SEEK_CUR) != 0)
			return fail(r, "truncated record");
		r->skipped++;
		*caplen = 0;
		return 1;
	}
	if (fread(r->buf, 1, cl, r->f) != cl)
		return fail(r, "truncated record");
	*caplen = cl;
	*ts = (uint64_t)sec * 1000000000u + (uint64_t)frac * (r->nsec ? 1u : 1000u);
	*lt = r->linktype;
	return 1;
}

/* if_tsresol: 10^-n (high bit clear) or 2^-n. */
static uint64_t tsres_of(uint8_t v)
{
	uint64_t res = 1;
	unsigned n = v & 0x7fu;
	if (v & 0x80u) {
		if (n > 63)
			return 0;
		return UINT64_C(1) << n;
	}
	for (unsigned i = 0; i < n && i < 19; i++)
		res *= 10;
	return res;
}

/* The next packet block of a pcapng file (other blocks are read past). */
static int next_ng(struct pcapr *r, size_t *caplen, uint64_t *ts, uint32_t *lt)
{
	for (;;) {
		uint8_t h[8];
		size_t n = fread(h, 1, 8, r->f);
		if (n == 0)
			return 0;
		if (n != 8)
			return fail(r, "pcapng: truncated block header");
		uint32_t type = rd32(r, h), blen = rd32(r, h + 4);
		if (type == NG_SHB) {
			/* A new section may change the byte order. */
			uint8_t b[4];
			if (fread(b, 1, 4, r->f) != 4)
				return fail(r, "pcapng: truncated section header");
			uint32_t bom;
			memcpy(&bom, b, 4);
			r->swap = bom != NG_BOM;
			blen = rd32(r, h + 4);
			r->n_ifc = 0;
			if (blen < 28 || blen % 4 || fseek(r->f, (long)blen - 12, SEEK_CUR) != 0)
				return fail(r, "pcapng: bad section header");
			continue;
		}
		if (blen < 12 || blen % 4)
			return fail(r, "pcapng: bad block length");
		size_t body = blen - 12;
		if (blen > PCAPR_MAX_PKT + 64) {
			/* Bigger than any packet we read: pass it by. */
			if (fseek(r->f, (long)body + 4, SEEK_CUR) != 0)
				return fail(r, "pcapng: truncated block");
			r->skipped++;
			continue;
		}
		if (fread(r->buf, 1, body + 4, r->f) != body + 4)
			return fail(r, "pcapng: truncated block");
		const uint8_t *b = r->buf;
		if (type == NG_IDB) {
			if (body < 8)
				return fail(r, "pcapng: short interface block");
			if (r->n_ifc < PCAPR_MAX_IFACES) {
				r->ifc[r->n_ifc].linktype = rd16(r, b);
				r->ifc[r->n_ifc].tsres = 1000000; /* default: microseconds */
				/* Options: code, length, value padded to 4. */
				size_t o = 8;
				while (o + 4 <= body) {
					uint16_t code = rd16(r, b + o), ol = rd16(r, b + o + 2);
					if (code == 0 || o + 4 + ol > body)
						break;
					if (code == 9 && ol >= 1) { /* if_tsresol */
						uint64_t res = tsres_of(b[o + 4]);
						if (res)
							r->ifc[r->n_ifc].tsres = res;
					}
					o += 4 + (((size_t)ol + 3) & ~(size_t)3);
				}
			}
			r->n_ifc++;
			continue;
		}
		if (type == NG_EPB) {
			if (body < 20)
				return fail(r, "pcapng: short packet block");
			uint32_t ifid = rd32(r, b), hi = rd32(r, b + 4), lo = rd32(r, b + 8);
			uint32_t cl = rd32(r, b + 12);
			if (cl > body - 20)
				return fail(r, "pcapng: packet longer than its block");
			if (ifid >= r->n_ifc || ifid >= PCAPR_MAX_IFACES) {
				r->skipped++;
				continue;
			}
			uint64_t ticks = (uint64_t)hi << 32 | lo, res = r->ifc[ifid].tsres;
			*ts = res == 1000000000u ? ticks
						 : (uint64_t)((double)ticks * (1e9 / (double)res));
			*lt = r->ifc[ifid].linktype;
			memmove(r->buf, b + 20, cl);
			*caplen = cl;
			return 1;
		}
		if (type == NG_SPB) {
			if (body < 4 || r->n_ifc == 0)
				continue;
			uint32_t ol = rd32(r, b);
			size_t cl = ol < body - 4 ? ol : body - 4;
			*ts = 0; /* simple packet blocks carry no time */
			*lt = r->ifc[0].linktype;
			memmove(r->buf, b + 4, cl);
			*caplen = cl;
			return 1;
		}
		/* Name resolution, statistics, custom blocks...: not needed. */
	}
}

int pcapr_next_ip(struct pcapr *r, const uint8_t **ip, size_t *len, uint64_t *ts_ns)
{
	for (;;) {
		size_t cl = 0;
		uint32_t lt = 0;
		int rc = r->ng ? next_ng(r, &cl, ts_ns, &lt) : next_pcap(r, &cl, ts_ns, &lt);
		if (rc <= 0)
			return rc;
		r->records++;
		if (cl == 0)
			continue;
		long off = ip_offset(lt, r->buf, cl);
		if (off < 0 || (size_t)off >= cl) {
			r->skipped++;
			continue;
		}
		uint8_t v = r->buf[off] >> 4;
		if (v != 4 && v != 6) {
			r->skipped++;
			continue;
		}
		*ip = r->buf + off;
		*len = cl - (size_t)off;
		return 1;
	}
}
