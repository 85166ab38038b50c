/* SPDX-License-Identifier: Apache-2.0 */
/* The pcap file writer (see pcap.h). */
#include "base/pcap.h"

#include <errno.h>
#include <string.h>

/* Every field is written in host byte order: the magic number tells a
 * reader which one that was. */
static bool put32(FILE *f, uint32_t v)
{
	return fwrite(&v, sizeof(v), 1, f) == 1;
}

static bool put16(FILE *f, uint16_t v)
{
	return fwrite(&v, sizeof(v), 1, f) == 1;
}

int mpt_pcap_open(struct mpt_pcap_writer *w, const char *path, uint32_t snaplen, bool nsec)
{
	memset(w, 0, sizeof(*w));
	if (!path || !*path || snaplen == 0) {
		errno = EINVAL;
		return -1;
	}
	w->f = fopen(path, "wb");
	if (!w->f)
		return -1;
	w->nsec = nsec;
	w->snaplen = snaplen;
	/* File header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen,
	 * link type. */
	bool ok = put32(w->f, nsec ? MPT_PCAP_MAGIC_NS : MPT_PCAP_MAGIC_US) && put16(w->f, 2) &&
		  put16(w->f, 4) && put32(w->f, 0) && put32(w->f, 0) && put32(w->f, snaplen) &&
		  put32(w->f, MPT_PCAP_LINKTYPE_RAW);
	if (!ok || fflush(w->f) != 0) {
		int e = errno;
		fclose(w->f);
		w->f = NULL;
		errno = e ? e : EIO;
		return -1;
	}
	return 0;
}

void mpt_pcap_write(struct mpt_pcap_writer *w, uint64_t ts_ns, const uint8_t *pkt, size_t len)
{
	if (!w || !w->f)
		return;
	uint32_t caplen = len > w->snaplen ? w->snaplen : (uint32_t)len;
	uint32_t frac = (uint32_t)(ts_ns % 1000000000u);
	if (!w->nsec)
		frac /= 1000u;
	/* Record header: seconds, fraction, captured length, original length. */
	bool ok = put32(w->f, (uint32_t)(ts_ns / 1000000000u)) && put32(w->f, frac) &&
		  put32(w->f, caplen) &&
		  put32(w->f, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len) &&
		  (caplen == 0 || fwrite(pkt, caplen, 1, w->f) == 1);
	if (!ok)
		w->failed = true;
}

void mpt_pcap_flush(struct mpt_pcap_writer *w)
{
	if (w && w->f && fflush(w->f) != 0)
		w->failed = true;
}

int mpt_pcap_close(struct mpt_pcap_writer *w)
{
	if (!w || !w->f)
		return 0;
	int rc = fclose(w->f) == 0 && !w->failed ? 0 : -1;
	w->f = NULL;
	return rc;
}
