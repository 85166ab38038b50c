/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared scenario runner for the MPTCP simulator tests: a client and a
 * server node joined by up to four paths (path i: client 10.0.i.1 <->
 * server 10.0.i.2, or 2001:db8:i::1/2), a bulk transfer client -> server,
 * SHA-256 integrity, a counting allocator (leak check), counters and
 * MPTCP information of both ends.  The functions are in mptcp_scn.c
 * (tests/common, the static library mpt_testcommon); they use cmocka's
 * assertions, so their users are cmocka tests.
 */
#ifndef MPTCP_SCN_H
#define MPTCP_SCN_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt/mpt.h"
#include "mpt/sim.h"
#include "mpt/simhost.h"
#include "testmem.h" /* counting allocator: every run ends with nothing live */

#define MIB (1024u * 1024u)
#define MS  UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

struct mpath {
	uint64_t rate_bps;
	uint64_t rtt_ns;
	double loss;
	const struct mpt_sim_outage *outage; /* both directions */
	uint64_t jitter_ns;                  /* both directions, FIFO kept (0: none) */
	uint32_t queue_bytes;                /* droptail queue (0: 1 BDP, at least 64 x 1500 B) */
};

struct mctx;

struct mscn {
	const char *name;
	uint64_t bytes;
	uint64_t seed;
	size_t npaths;
	struct mpath path[4];
	bool v6;
	/* knobs: cli/srv start from mpt_stack_cfg_init defaults with enable */
	bool cli_off, srv_off;       /* plain TCP on that side */
	int cli_version, srv_accept; /* -1 / 0: defaults */
	bool cli_csum, srv_csum;
	bool srv_c_flag;
	uint8_t max_subflows;
	bool no_pm;
	uint32_t buf; /* per-engine buffers (0: 4 BDP) */
	uint32_t max_retries;
	uint64_t budget_ns;
	/* hooks */
	void (*at_start)(struct mpt_sim *sim, void *arg); /* scheduled at t */
	uint64_t at_t;
	void *at_arg;
	/* after the links exist, before the transfer starts */
	void (*setup)(struct mctx *x, void *arg);
	void *setup_arg;
	/* last word on both stacks' configurations */
	void (*tweak)(struct mpt_stack_cfg *cc, struct mpt_stack_cfg *sv);
	uint32_t rcvbuf; /* per-engine receive buffer override (0: as buf) */
	/* the client's per-connection options (NULL: its stack's defaults);
	 * may be filled by setup, which runs before the connect */
	const struct mpt_conn_opts *conn_opts;
	/*
	 * When set, every path goes through a forwarding node (client <->
	 * node over the path's links, node <-> server over ideal links) that
	 * calls tamper for each packet: dir 0 client -> server, 1 server ->
	 * client.  It may change pkt in place (*len up to cap), return false
	 * to drop it, or inject packets with mscn_inject.
	 */
	bool (*tamper)(struct mctx *x, size_t path, int dir, uint8_t *pkt, size_t *len, size_t cap,
		       uint64_t now);
	void *tamper_arg;
};

struct mout {
	struct mpt_bulk_result res;
	struct mpt_mptcp_info ci, si;
	int ci_rc, si_rc;
	bool c_enabled, s_enabled;
	int nsub_c;    /* most subflows seen in one sample */
	int nsub_last; /* subflows in the last sample (entries of sub[]) */
	struct mpt_subflow_info sub[16];
	uint64_t sim_end;
	uint64_t counters[2][512];
	uint64_t counters_end[2][512]; /* after the close sequence (5 s more) */
	uint64_t wire_fwd[4];          /* bytes on each path's client -> server wire */
	uint64_t lost_fwd;             /* packets the client -> server links dropped */
	long live_after;
	/* path-manager events (mpt_sock_pm_event) seen per side, by type */
	unsigned pmev[2][16];
	struct mpt_pm_event pm_last[2][16]; /* the last of each type */
};

uint64_t mcounter(const struct mout *o, int side, const char *name);

/* A counter after the close sequence. */
uint64_t mcounter_end(const struct mout *o, int side, const char *name);

struct mctx {
	struct mpt_sim *sim;
	struct mpt_simhost *c, *s;
	struct mpt_bulk *b;
	struct mpt_sim_link *lf[4], *lr[4];
	struct mout *out;
	bool sampled;
	const struct mscn *sc;
	struct mpt_sim_node *mid; /* forwarding node (tamper scenarios) */
	struct mpt_test_mem *mem; /* both stacks' allocator (inject failures) */
};

/* Send a packet from the forwarding node on path `path` in direction dir. */
void mscn_inject(struct mctx *x, size_t path, int dir, const uint8_t *pkt, size_t len);
/* Path `path`'s address of host 1 (client) or 2 (server); 253/254: the
 * forwarding node's ends. */
void addr_for(struct mpt_addr *a, bool v6, size_t path, int host);

void run_mscn(const struct mscn *sc, struct mout *out);
void mcheck(const struct mscn *sc, const struct mout *o);

#endif /* MPTCP_SCN_H */
