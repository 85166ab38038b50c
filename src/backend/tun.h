/* SPDX-License-Identifier: Apache-2.0 */
/* TUN devices and their kernel configuration (rtnetlink). Linux only. */
#ifndef MPT_BACKEND_TUN_H
#define MPT_BACKEND_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/backend.h"

struct mpt_tun {
	int fd; /**< non-blocking, IFF_TUN | IFF_NO_PI */
	int ifindex;
	char name[MPT_DEV_NAME_LEN];
	bool created; /**< false: an existing device was attached */
	/**
	 * Every packet read or written starts with a struct virtio_net_hdr
	 * (IFF_VNET_HDR): segmentation and checksum offload information.
	 */
	bool vnet;
	/** The kernel hands us (and takes) TSO super-packets with partial
	 *  checksums (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6). */
	bool offload;
};

/**
 * Attach to the TUN device name, or create it when it does not exist; set it
 * up, set its MTU (mtu 0: leave an attached device's MTU, 1500 for a new
 * one) and turn off IPv6 address generation on a new device (no link-local
 * address, no router solicitations).  Writes the reason for a failure into
 * err.  Returns 0 or MPT_ERR_UNSUPPORTED.
 */
int mpt_tun_open(const char *name, uint16_t mtu, bool multi_queue, struct mpt_tun *out, char *err,
		 size_t errlen);
/**
 * Ask for segmentation and checksum offload on an open device (t->vnet set
 * by mpt_tun_open when the kernel accepted the virtio header).  Sets
 * t->offload; returns 0 or MPT_ERR_UNSUPPORTED (no offload: packets come
 * and go one segment at a time with their checksums, the header zero).
 */
int mpt_tun_offload(struct mpt_tun *t);
/** Turn the offloads off again (the header stays, zero). */
int mpt_tun_offload_off(struct mpt_tun *t);
/**
 * Route addr (host prefix) through the device: the kernel then forwards
 * packets for addr into the TUN without owning addr.  Replaces an existing
 * route.  Returns 0 or MPT_ERR_UNSUPPORTED (reason in err).
 */
int mpt_tun_add_route(const struct mpt_tun *t, const struct mpt_addr *addr, char *err,
		      size_t errlen);
/**
 * What Linux charges a receiving socket (skb truesize) for a packet of len
 * bytes written to a TUN device with a virtio-net header whose hdr_len is
 * hdr_len, pages of page bytes: a model of tun_alloc_skb on a 64-bit
 * kernel (a packet under a page is one kmalloc'd buffer; a larger one is
 * its header plus page blocks of up to 8 pages, each charged in full).
 */
size_t mpt_tun_rx_truesize(size_t len, size_t hdr_len, size_t page);
/**
 * The share (in 256ths) of a Linux MPTCP receiver's window that data beyond
 * DATA_ACK may fill when it arrives in segmentation-offload packets of any
 * size up to 65000 bytes (segments of seg payload bytes, headers hdr_len)
 * and the receiver sized its window by one segment written alone: the
 * cheapest per byte of them over the dearest (the three-segment packet,
 * charged two pages for 4.3 kB: 197 with 1,420-byte segments).
 * docs/mptcp-design.md, "The Linux receiver's memory".
 */
uint16_t mpt_tun_wnd_share(size_t hdr_len, uint32_t seg, size_t page);
/** Close the descriptor; a device created by mpt_tun_open disappears. */
void mpt_tun_close(struct mpt_tun *t);

#endif /* MPT_BACKEND_TUN_H */
