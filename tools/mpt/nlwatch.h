/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Link and address watching over rtnetlink (libmnl), for `mpt proxy
 * --watch ADDR=IFNAME`.
 *
 * mpt's addresses live on TUN devices the kernel forwards through; the
 * interface that really carries a path (a Wi-Fi or cellular link, a veth
 * in the tests) is another one.  A watched path is "up" while that
 * interface exists, is administratively up, has carrier (IFF_LOWER_UP) and
 * holds at least one address of global scope; the callback fires on every
 * change of that state, so the application can remove the path's address
 * from the stack when the link goes away (mpt_stack_remove_local_addr:
 * REMOVE_ADDR, a path manager moves to another path) and add it back when
 * it returns (mpt_stack_add_local_addr).
 *
 * Events come from the RTMGRP_LINK, RTMGRP_IPV4_IFADDR and
 * RTMGRP_IPV6_IFADDR multicast groups; after each batch the state of every
 * watched interface is read again with a request/dump on a second socket,
 * so a missed or reordered event (or an ENOBUFS overrun) cannot leave a
 * wrong state behind.
 */
#ifndef MPT_TOOL_NLWATCH_H
#define MPT_TOOL_NLWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "mpt/mpt.h"

#define NLWATCH_MAX 8

struct nlwatch;

/** Called when watched entry idx goes up (up = true) or down. */
typedef void (*nlwatch_fn)(void *ud, size_t idx, bool up);

/**
 * Open the netlink sockets (subscribed, non-blocking).  Returns NULL with
 * errno set on failure.
 */
struct nlwatch *nlwatch_open(nlwatch_fn fn, void *ud);
/** Close the sockets and free w (NULL is fine). */
void nlwatch_close(struct nlwatch *w);
/**
 * Watch interface ifname for the path with address addr.  Returns the
 * entry's index, or -1 (errno EINVAL: bad name; ENOSPC: NLWATCH_MAX).
 */
int nlwatch_add(struct nlwatch *w, const struct mpt_addr *addr, const char *ifname);
/** Read the current state of every entry (no callbacks).  0 or -1 (errno). */
int nlwatch_sync(struct nlwatch *w);
/** The descriptor to poll for EPOLLIN. */
int nlwatch_fd(const struct nlwatch *w);
/**
 * Drain pending events; after any, read the states again and call the
 * callback for every entry that changed.
 * Returns the number of changes, or -1 (errno) when the sockets failed.
 */
int nlwatch_process(struct nlwatch *w);
/** Entry idx: its path address, interface name, and whether it is up now. */
const struct mpt_addr *nlwatch_addr(const struct nlwatch *w, size_t idx);
const char *nlwatch_ifname(const struct nlwatch *w, size_t idx);
bool nlwatch_is_up(const struct nlwatch *w, size_t idx);
/** Human-readable reason of the current state ("up", "no carrier", ...). */
const char *nlwatch_why(const struct nlwatch *w, size_t idx);

/* ---- the host's own addresses (`mpt convert`'s destination policy) ---------- */

/*
 * Every address configured on the host's interfaces (RTM_GETADDR dump:
 * IFA_LOCAL, or IFA_ADDRESS without one, and IFA_BROADCAST), read at open
 * and read again whenever an RTMGRP_IPV4_IFADDR / RTMGRP_IPV6_IFADDR event
 * arrives, so an address added while the converter runs is refused at once.
 * Bounded (NLADDRS_MAX); a host with more sets the overflow flag and relies
 * on nladdrs_route()'s check (the kernel's local routes cover every address
 * of the host).  Needs no privilege.
 */
#define NLADDRS_MAX 1024

struct nladdrs;

/** Open (subscribed), read the addresses.  NULL with errno on failure. */
struct nladdrs *nladdrs_open(void);
void nladdrs_close(struct nladdrs *h);
/** Descriptor to poll for EPOLLIN (address events). */
int nladdrs_fd(const struct nladdrs *h);
/** Drain events; read the addresses again after any.  1 (re-read), 0, or -1. */
int nladdrs_process(struct nladdrs *h);
/** Whether a is one of the host's addresses (IPv4 broadcast ones included). */
bool nladdrs_contains(const struct nladdrs *h, const struct mpt_addr *a);
/** Addresses known; *overflow set when the host had more than NLADDRS_MAX. */
size_t nladdrs_count(const struct nladdrs *h, bool *overflow);
/**
 * The kernel's route to dst (RTM_GETROUTE, as `ip route get`): the output
 * interface index and the route type (RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST,
 * RTN_MULTICAST, RTN_UNREACHABLE, ...).  Returns 0, or -1 with errno (e.g.
 * ENETUNREACH: no route).  nl_route_get opens a socket for one query.
 */
int nladdrs_route(struct nladdrs *h, const struct mpt_addr *dst, int *oif, int *type);
int nl_route_get(const struct mpt_addr *dst, int *oif, int *type);

#endif /* MPT_TOOL_NLWATCH_H */
