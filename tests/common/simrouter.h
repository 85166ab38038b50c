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

/* The router's node operations (simrouter.c): the node's user data is a
 * struct router. */
extern const struct mpt_sim_node_ops router_ops;

#endif /* MPT_TEST_SIMROUTER_H */
