/* SPDX-License-Identifier: Apache-2.0 */
/* A router node for simulator tests (see simrouter.h). */
#include "simrouter.h"

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

const struct mpt_sim_node_ops router_ops = {.input = router_input};
