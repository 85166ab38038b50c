/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two simulated hosts for the simulator tests that drive the socket API
 * themselves (own application callbacks, own links): the counting
 * allocator, the simulator, both stacks' configurations (MPTCP v1, one
 * address per path: client NET.i.1, server NET.i.2) and, at the end, the
 * close sequences run out, the listener closed, everything destroyed and
 * checked to be freed.  The tests built on tests/common/mptcp_scn.h (bulk
 * transfers over standard paths) do not need it.  Uses cmocka's
 * assertions (linked in mpt_testscn).
 */
#ifndef MPT_SIMPAIR_H
#define MPT_SIMPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"
#include "testmem.h"

struct simpair {
	struct mpt_test_mem tm; /* both stacks' and the simulator's memory */
	struct mpt_sim *sim;
	struct mpt_stack_cfg cc, sc; /* client, server: adjust between init and hosts */
	struct mpt_simhost *c, *s;
	struct mpt_sock *lis; /* the server's listener, if the test opens one */
};

/* Byte i of a test stream (a fixed pattern: integrity checks compare
 * each byte read with it). */
static inline uint8_t simpair_pat(uint64_t i)
{
	uint64_t x = (i + 1) * UINT64_C(0x9e3779b97f4a7c15);
	return (uint8_t)(x >> 29);
}

/* The allocator, the simulator (seed) and both configurations: MPTCP v1,
 * npaths local addresses each under net ("10.8": 10.8.i.1 and 10.8.i.2). */
void simpair_init(struct simpair *p, uint64_t seed, const char *net, size_t npaths);

/* Both hosts from p->cc and p->sc, their application callback fn(ud). */
void simpair_hosts(struct simpair *p, void (*fn)(void *ud, struct mpt_sock *s, unsigned events),
		   void *ud);

/* End: run linger_ns more (close sequences, TIME-WAIT), close p->lis,
 * run 5 s, destroy hosts and simulator, assert nothing is left allocated.
 * p must not be used afterwards. */
void simpair_finish(struct simpair *p, uint64_t linger_ns);

#endif
