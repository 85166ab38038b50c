/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux TUN backend: runs one stack against real networks.
 *
 * Each path is a TUN device (created and configured by the backend, or an
 * existing one attached by name) carrying one of the stack's addresses.  The
 * kernel never owns those addresses: the backend only installs a host route
 * to each through its device, so the kernel forwards packets for them into
 * the TUN and never answers (RSTs) for them itself.
 *
 * mpt_backend_run() is an epoll loop with a timerfd: it reads packets from
 * every TUN, feeds mpt_stack_input() with CLOCK_MONOTONIC time, writes the
 * stack's output to the TUN of the path whose address is the packet's source,
 * fires the stack's timers, and optionally emulates per-path delay, loss and
 * rate (this kernel has no netem) and captures a pcap.  Applications add
 * their own descriptors (stdin/stdout for `mpt cat`) and an idle callback.
 *
 * This is a backend, not the engine: it calls the clock, the kernel and the
 * allocator directly.
 */
#ifndef MPT_BACKEND_H
#define MPT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/mpt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MPT_BACKEND_MAX_PATHS MPT_MAX_LOCAL_ADDRS
#define MPT_DEV_NAME_LEN      16 /* IFNAMSIZ, including the NUL */

/** One path: a local address of the stack and the device that carries it. */
struct mpt_path_cfg {
	struct mpt_addr addr;       /**< the stack's address on this path */
	uint8_t plen;               /**< prefix length (default: host prefix) */
	struct mpt_addr gw;         /**< gateway (family 0: none); kept for routing */
	char dev[MPT_DEV_NAME_LEN]; /**< TUN name ("": "mpttun<N>") */
	bool backup;                /**< MPTCP backup path (RFC 8684 §3.3.8) */
	uint8_t flags;              /**< MPT_LOCAL_SIGNAL/SUBFLOW/FULLMESH ("endpoints" PM) */
	uint32_t delay_ms;          /**< emulated one-way delay, each direction */
	double loss_pct;            /**< emulated random loss, each direction, % */
	double rate_mbit;           /**< emulated rate (token bucket), Mbit/s; 0: none */
	uint16_t mtu;               /**< device MTU (0: 1500) */
	/**
	 * Remove this address from the stack (mpt_stack_remove_local_addr:
	 * its subflows close, the peer gets REMOVE_ADDR) this many ms after
	 * mpt_backend_run() starts; 0: never.  Not part of the --path syntax
	 * (the tool sets it with --remove-path-after).
	 */
	uint32_t remove_after_ms;
};

/**
 * Parse "ADDR[/PLEN][,gw=GW][,dev=NAME][,backup][,delay=MS][,loss=PCT]
 * [,rate=MBIT][,mtu=N][,signal][,subflow][,fullmesh]" (IPv4 or IPv6).  On error writes a message naming
 * the bad part into err (when errlen > 0).
 * Returns 0 or MPT_ERR_INVAL.
 */
MPT_API int mpt_path_parse(const char *spec, struct mpt_path_cfg *out, char *err, size_t errlen);

/**
 * Whether the host leaves path p's address to mpt, before its TUN device
 * (dev: the name it will have) is brought up.  Refused, with the reason in
 * err: an address configured on a kernel interface (the kernel would answer
 * for it: mpt would never see its packets), an address already routed
 * (host route in the main table) into another device (another mpt
 * instance's TUN: taking its route over would cut that instance's peers
 * off), or a TUN device attached by another process.  Needs no privilege.
 * Returns 0, MPT_ERR_EXIST (refused) or MPT_ERR_UNSUPPORTED (netlink
 * failed) or MPT_ERR_INVAL.
 */
MPT_API int mpt_path_check_host(const struct mpt_path_cfg *p, const char *dev, char *err,
				size_t errlen);

/**
 * Would the kernel forward a packet from src, arriving on TUN device dev, to
 * dst?  Asks for the input route (RTM_GETROUTE with iif, so policy rules by
 * source apply) as the kernel will when the stack sends.  Returns 0 (routed,
 * or the kernel cannot be asked), MPT_ERR_NOTFOUND with the reason in err
 * ("Network is unreachable", forwarding disabled, a prohibit rule) or
 * MPT_ERR_INVAL.
 */
MPT_API int mpt_path_route_check(const char *dev, const struct mpt_addr *src,
				 const struct mpt_addr *dst, char *err, size_t errlen);

/** Backend configuration. */
struct mpt_backend_cfg {
	/**
	 * Stack configuration.  output and local[]/n_local are set by the
	 * backend from paths (local_flags[i] gets MPT_LOCAL_BACKUP for a
	 * backup path, on top of what the caller set); rand NULL means
	 * mpt_rand_default; on_event is passed through to the application.
	 */
	struct mpt_stack_cfg stack;
	struct mpt_path_cfg paths[MPT_BACKEND_MAX_PATHS];
	size_t n_paths;
	const char *pcap;    /**< write what the stack sends and receives here (NULL: off) */
	uint64_t seed;       /**< link-emulation loss seed (0: 1) */
	uint32_t queue_pkts; /**< bound on packets queued per TUN / per emulated
				  direction (0: 4096) */
	int verbose;         /**< diagnostics on stderr (2 or more: also the stack's
				  non-zero counters when the backend is destroyed) */
	/**
	 * No segmentation/checksum offload: one packet per TUN read and write
	 * (by default the TUN devices take 64 KB super-packets when the kernel
	 * allows it: IFF_VNET_HDR, TUNSETOFFLOAD).
	 */
	bool no_offload;
	/**
	 * One member of a group of backends, one per thread, that share the
	 * TUN devices (multi-queue, IFF_MULTI_QUEUE): NULL, alone.  Member 0
	 * must be created first (it creates and configures the devices),
	 * then 1 .. n-1, all from one thread; each then runs its own
	 * mpt_backend_run in its own thread.  The member number is
	 * `shard`; stack.shards / stack.shard / stack.on_flow are set by the
	 * backend.  A packet read by one member for a flow another member
	 * owns is handed to that member (see mpt_backend_group_create).
	 */
	struct mpt_backend_group *group;
	unsigned shard;
};

/** Packet and drop counters (cf. `ip -s link`). */
struct mpt_backend_stats {
	uint64_t rx_pkts, rx_bytes; /**< read from TUN devices */
	uint64_t tx_pkts, tx_bytes; /**< written to TUN devices */
	uint64_t tx_queued;         /**< writes that would block, queued */
	uint64_t tx_drops;          /**< writes that would block, queue full */
	uint64_t tx_errors;         /**< writes the kernel rejected */
	uint64_t emu_lost;          /**< packets lost by emulation (both directions) */
	uint64_t emu_drops;         /**< emulation queue overflow (both directions) */
	uint64_t stack_rejects;     /**< packets mpt_stack_input refused */
	uint64_t steer_out;         /**< packets handed to another member of the group */
	uint64_t steer_in;          /**< packets received from other members */
	uint64_t steer_drops;       /**< hand-overs refused: the member's inbox was full */
};

struct mpt_backend;

/**
 * Open (or create and configure) every path's TUN, create the stack, open
 * the pcap.  Needs CAP_NET_ADMIN.  On failure writes the reason into err.
 * Returns 0, MPT_ERR_INVAL (bad configuration), MPT_ERR_NOMEM, or
 * MPT_ERR_UNSUPPORTED (a system call failed: no /dev/net/tun, no
 * permission, netlink refused the route, pcap not writable).
 */
MPT_API int mpt_backend_create(const struct mpt_backend_cfg *cfg, struct mpt_backend **out,
			       char *err, size_t errlen);
/** Destroy the stack, close devices (created ones disappear), flush the pcap. */
MPT_API void mpt_backend_destroy(struct mpt_backend *b);
MPT_API struct mpt_stack *mpt_backend_stack(const struct mpt_backend *b);
/** CLOCK_MONOTONIC in nanoseconds (the clock the stack runs on). */
MPT_API uint64_t mpt_backend_now(void);
/** Name of path i's device (NULL when out of range). */
MPT_API const char *mpt_backend_dev_name(const struct mpt_backend *b, size_t i);
MPT_API void mpt_backend_stats(const struct mpt_backend *b, struct mpt_backend_stats *out);

/** Callback for an application descriptor: events are EPOLL* bits. */
typedef void (*mpt_backend_fd_fn)(void *ud, int fd, uint32_t events);

/**
 * Watch fd for events (EPOLLIN / EPOLLOUT, level-triggered; 0 watches
 * nothing for now).  Returns 0, MPT_ERR_LIMIT (too many descriptors),
 * MPT_ERR_EXIST, or MPT_ERR_UNSUPPORTED when fd cannot be polled (a regular
 * file: it is always ready, drive it from the idle callback).
 */
MPT_API int mpt_backend_watch(struct mpt_backend *b, int fd, uint32_t events, mpt_backend_fd_fn fn,
			      void *ud);
/** Change the events of a watched fd.  Returns 0 or MPT_ERR_NOTFOUND. */
MPT_API int mpt_backend_watch_mod(struct mpt_backend *b, int fd, uint32_t events);
/** Stop watching fd (does not close it). */
MPT_API void mpt_backend_unwatch(struct mpt_backend *b, int fd);

/**
 * Called once per loop iteration after packets, timers and descriptors were
 * handled.  Return true when it has more work: the loop then polls without
 * sleeping.
 */
typedef bool (*mpt_backend_idle_fn)(void *ud);
MPT_API void mpt_backend_set_idle(struct mpt_backend *b, mpt_backend_idle_fn fn, void *ud);

/** What an input filter decides for a packet read from a device. */
enum mpt_backend_verdict {
	MPT_BE_STACK = 0,   /**< hand it to the stack (the default without a filter) */
	MPT_BE_FORWARD = 1, /**< write it back to its device: the kernel routes it on */
	MPT_BE_DROP = 2,    /**< the filter consumed it (kept a copy, or dropped it) */
};

/**
 * Called for every packet read from a device (dev = device index) before
 * emulation and the stack: an on-path box decides per flow whether its
 * packets are terminated here or forwarded.  The packet buffer is only
 * valid during the call.
 */
typedef enum mpt_backend_verdict (*mpt_backend_filter_fn)(void *ud, size_t dev, const uint8_t *pkt,
							  size_t len, uint64_t now);
MPT_API void mpt_backend_set_filter(struct mpt_backend *b, mpt_backend_filter_fn fn, void *ud);
/** Write a raw IP packet to device dev (the kernel routes it as received). */
MPT_API void mpt_backend_send_raw(struct mpt_backend *b, size_t dev, const uint8_t *pkt,
				  size_t len);
/** Hand a packet to the stack now (e.g. one a filter held back), with pcap. */
MPT_API void mpt_backend_deliver(struct mpt_backend *b, const uint8_t *pkt, size_t len);

/**
 * Run until mpt_backend_stop().  Returns the status given to stop, or
 * MPT_ERR_UNSUPPORTED when epoll fails.
 */
/* ---- several threads (issue 13) ------------------------------------------- */

/**
 * A group of n backends (1 <= n <= MPT_BACKEND_MAX_SHARDS), one per thread,
 * each with its own stack, sharing the TUN devices through one queue each.
 * Who owns a packet: the member whose stack has its 4-tuple (a table every
 * member's stack keeps up to date through mpt_stack_cfg.on_flow, consulted
 * only for flows that are not where a keyed hash of the 4-tuple puts them);
 * a new flow's SYN goes where the hash puts it, except an MP_JOIN SYN, which
 * goes to the member whose tokens have the residue of the one it names.
 * The kernel picks a queue per flow, so most packets are read by their
 * owner; the others are copied into the owner's inbox (bounded, counted).
 * Returns 0, MPT_ERR_INVAL or MPT_ERR_NOMEM.
 */
#define MPT_BACKEND_MAX_SHARDS 64
MPT_API int mpt_backend_group_create(unsigned n, struct mpt_backend_group **out);
/** After every member is destroyed. */
MPT_API void mpt_backend_group_destroy(struct mpt_backend_group *g);
/** Members in the group. */
MPT_API unsigned mpt_backend_group_size(const struct mpt_backend_group *g);

/** Called in b's own thread, from its loop, after mpt_backend_wake(b). */
typedef void (*mpt_backend_wake_fn)(void *ud);
MPT_API void mpt_backend_set_wake(struct mpt_backend *b, mpt_backend_wake_fn fn, void *ud);
/**
 * From any thread: make b's loop call its wake function soon (once for
 * several calls before it runs).  With stop: also leave mpt_backend_run
 * with status (after the wake function).  Works on a backend of any group
 * or none.
 */
MPT_API void mpt_backend_wake(struct mpt_backend *b, bool stop, int status);

MPT_API int mpt_backend_run(struct mpt_backend *b);
/** Make mpt_backend_run return status after the current iteration. */
MPT_API void mpt_backend_stop(struct mpt_backend *b, int status);

#ifdef __cplusplus
}
#endif
#endif /* MPT_BACKEND_H */
