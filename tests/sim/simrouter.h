/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A router node for simulator tests: forwards IPv4 packets by destination
 * address (a host route table and a default interface), where the plain
 * scenario runner's hosts send by source address.
 */
#ifndef MPT_TEST_SIMROUTER_H
#define MPT_TEST_SIMROUTER_H

#include <string.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"

struct route {
	struct mpt_addr dst;
	unsigned ifindex;
};

struct router {
	struct mpt_sim *sim;
	struct mpt_sim_node *node;
	struct route r[8];
	size_t n;
	unsigned dflt;
};

static void router_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	(void)ifindex;
	(void)now;
	struct router *rt = ud;
	struct mpt_addr dst;
	memset(&dst, 0, sizeof(dst));
	if (len < 20 || (pkt[0] >> 4) != 4)
		return;
	dst.family = 4;
	memcpy(dst.bytes, pkt + 16, 4);
	unsigned out = rt->dflt;
	for (size_t i = 0; i < rt->n; i++)
		if (mpt_addr_equal(&rt->r[i].dst, &dst))
			out = rt->r[i].ifindex;
	(void)mpt_sim_send_if(rt->sim, rt->node, out, pkt, len);
}

static const struct mpt_sim_node_ops router_ops = {.input = router_input};

#endif /* MPT_TEST_SIMROUTER_H */
