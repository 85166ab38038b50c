/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A group of backends, one per thread, sharing multi-queue TUN devices
 * (issue 13): which member owns a packet, and the inboxes through which a
 * member hands another one the packets it read for it.
 */
#ifndef MPT_BACKEND_GROUP_H
#define MPT_BACKEND_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/backend.h"

/** A packet in an inbox: the device it was read from, its virtio header
 *  (zero when the device has none), the IP packet. */
struct be_grp_pkt {
	struct be_grp_pkt *next;
	size_t dev;
	uint8_t vh[16]; /* struct virtio_net_hdr, or zeros */
	size_t len;
	uint8_t data[];
};

/** Member `shard` is b; wake_fd (an eventfd) is written when its inbox fills. */
void be_group_attach(struct mpt_backend_group *g, unsigned shard, int wake_fd);
/** Member shard leaves: nobody hands it packets any more; its inbox is freed. */
void be_group_detach(struct mpt_backend_group *g, unsigned shard);

/**
 * The member that owns an IP packet read from a TUN device (its source is
 * the peer, its destination the stack).  Anything that is not a TCP
 * segment the router can parse is the reader's (self).
 */
unsigned be_group_owner(struct mpt_backend_group *g, const uint8_t *pkt, size_t len, unsigned self);

/** Copy a packet into member to's inbox and wake it; false: the inbox is
 *  full or the member gone (the packet is dropped, the caller counts it). */
bool be_group_push(struct mpt_backend_group *g, unsigned to, size_t dev, const uint8_t vh[16],
		   const uint8_t *pkt, size_t len);

/** Take member self's whole inbox, oldest first (free each with free()). */
struct be_grp_pkt *be_group_take(struct mpt_backend_group *g, unsigned self);

/** The stack of member self added (up) or dropped a flow (mpt_stack_cfg.on_flow). */
void be_group_flow(struct mpt_backend_group *g, unsigned self, const struct mpt_endpoint *local,
		   const struct mpt_endpoint *remote, bool up);

#endif /* MPT_BACKEND_GROUP_H */
