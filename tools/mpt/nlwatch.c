/* SPDX-License-Identifier: Apache-2.0 */
/* Link and address watching over rtnetlink with libmnl (see nlwatch.h). */
#define _GNU_SOURCE
#include "nlwatch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct nlw_entry {
	struct mpt_addr addr;
	char ifname[IFNAMSIZ];
	int ifindex; /* 0: the interface does not exist (now) */
	unsigned flags;
	unsigned naddr;
	bool up;
};

struct nlwatch {
	struct mnl_socket *ev; /* multicast events, non-blocking */
	struct mnl_socket *rq; /* requests and dumps, blocking */
	unsigned rq_portid;
	unsigned seq;
	nlwatch_fn fn;
	void *ud;
	struct nlw_entry e[NLWATCH_MAX];
	size_t n;
	uint8_t buf[16384]; /* >= MNL_SOCKET_BUFFER_SIZE (8 KiB at most) */
};

struct nlwatch *nlwatch_open(nlwatch_fn fn, void *ud)
{
	struct nlwatch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->fn = fn;
	w->ud = ud;
	w->seq = (unsigned)time(NULL);
	w->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	w->rq = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!w->ev || !w->rq ||
	    mnl_socket_bind(w->ev, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(w->rq, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		nlwatch_close(w);
		errno = e;
		return NULL;
	}
	w->rq_portid = mnl_socket_get_portid(w->rq);
	return w;
}

void nlwatch_close(struct nlwatch *w)
{
	if (!w)
		return;
	if (w->ev)
		mnl_socket_close(w->ev);
	if (w->rq)
		mnl_socket_close(w->rq);
	free(w);
}

int nlwatch_add(struct nlwatch *w, const struct mpt_addr *addr, const char *ifname)
{
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
		errno = EINVAL;
		return -1;
	}
	if (w->n >= NLWATCH_MAX) {
		errno = ENOSPC;
		return -1;
	}
	struct nlw_entry *e = &w->e[w->n];
	memset(e, 0, sizeof(*e));
	e->addr = *addr;
	memcpy(e->ifname, ifname, strlen(ifname) + 1);
	return (int)w->n++;
}

int nlwatch_fd(const struct nlwatch *w)
{
	return mnl_socket_get_fd(w->ev);
}

const struct mpt_addr *nlwatch_addr(const struct nlwatch *w, size_t idx)
{
	return idx < w->n ? &w->e[idx].addr : NULL;
}

const char *nlwatch_ifname(const struct nlwatch *w, size_t idx)
{
	return idx < w->n ? w->e[idx].ifname : NULL;
}

bool nlwatch_is_up(const struct nlwatch *w, size_t idx)
{
	return idx < w->n && w->e[idx].up;
}

const char *nlwatch_why(const struct nlwatch *w, size_t idx)
{
	if (idx >= w->n)
		return "?";
	const struct nlw_entry *e = &w->e[idx];
	if (!e->ifindex)
		return "no such interface";
	if (!(e->flags & IFF_UP))
		return "administratively down";
	if (!(e->flags & IFF_LOWER_UP))
		return "no carrier";
	if (!e->naddr)
		return "no address";
	return "up";
}

/* ---- reading the state ---------------------------------------------------- */

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const char **name = data;
	if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlw_entry *e = data;
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return MNL_CB_OK;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const char *name = NULL;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, &name);
	if (name && !strcmp(name, e->ifname)) {
		e->ifindex = ifi->ifi_index;
		e->flags = ifi->ifi_flags;
	}
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlwatch *w = data;
	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifaddrmsg))
		return MNL_CB_OK;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	/* Link-local and host addresses do not carry a path; neither does
	 * an IPv6 address still in (or failed) duplicate address detection. */
	if (ifa->ifa_scope == RT_SCOPE_LINK || ifa->ifa_scope == RT_SCOPE_HOST ||
	    (ifa->ifa_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
		return MNL_CB_OK;
	for (size_t i = 0; i < w->n; i++)
		if (w->e[i].ifindex && (unsigned)w->e[i].ifindex == ifa->ifa_index)
			w->e[i].naddr++;
	return MNL_CB_OK;
}

/* Send a request on the request socket and run cb over the answer (every
 * part of a dump).  Returns 0, or -1 with errno (e.g. ENODEV from an
 * NLMSG_ERROR). */
static int request(struct nlwatch *w, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned seq = ++w->seq;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(w->rq, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->rq, w->buf, sizeof(w->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		int rc = mnl_cb_run(w->buf, (size_t)n, seq, w->rq_portid, cb, data);
		if (rc < 0)
			return -1;
		if (rc == MNL_CB_STOP || !(nlh->nlmsg_flags & NLM_F_DUMP))
			return 0;
	}
}

int nlwatch_sync(struct nlwatch *w)
{
	_Alignas(8) uint8_t req[256];
	for (size_t i = 0; i < w->n; i++) {
		struct nlw_entry *e = &w->e[i];
		e->ifindex = 0;
		e->flags = 0;
		e->naddr = 0;
		/* RTM_GETLINK by name: one RTM_NEWLINK, or ENODEV. */
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
		nlh->nlmsg_type = RTM_GETLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, e->ifname);
		if (request(w, nlh, link_cb, e) < 0 && errno != ENODEV)
			return -1;
	}
	/* One dump of every address, counted per watched interface. */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (request(w, nlh, addr_cb, w) < 0)
		return -1;
	for (size_t i = 0; i < w->n; i++) {
		struct nlw_entry *e = &w->e[i];
		e->up = e->ifindex && (e->flags & IFF_UP) && (e->flags & IFF_LOWER_UP) && e->naddr;
	}
	return 0;
}

int nlwatch_process(struct nlwatch *w)
{
	bool any = false;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->ev, w->buf, sizeof(w->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				any = true; /* events lost: the state is read anyway */
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		/* Only link and address notifications arrive here (the groups
		 * we joined); which interface they name does not matter: the
		 * state of every watched one is read again below. */
		if (n > 0)
			any = true;
	}
	if (!any)
		return 0;
	bool was[NLWATCH_MAX];
	for (size_t i = 0; i < w->n; i++)
		was[i] = w->e[i].up;
	if (nlwatch_sync(w) < 0)
		return -1;
	int changes = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (w->e[i].up == was[i])
			continue;
		changes++;
		if (w->fn)
			w->fn(w->ud, i, w->e[i].up);
	}
	return changes;
}

/* ---- the host's own addresses -------------------------------------------------- */

struct nladdrs {
	struct mnl_socket *ev; /* address events, non-blocking */
	struct mnl_socket *rq; /* dumps and route queries */
	unsigned rq_portid;
	unsigned seq;
	struct mpt_addr a[NLADDRS_MAX];
	size_t n;
	bool overflow;
	/* Netlink headers are read in place: 4-byte alignment at least. */
	_Alignas(8) uint8_t buf[16384];
};

static void addrs_put(struct nladdrs *h, int family, const void *bytes)
{
	struct mpt_addr a;
	memset(&a, 0, sizeof(a));
	a.family = family == AF_INET ? 4 : 6;
	memcpy(a.bytes, bytes, family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < h->n; i++)
		if (mpt_addr_equal(&h->a[i], &a))
			return;
	if (h->n >= NLADDRS_MAX) {
		h->overflow = true;
		return;
	}
	h->a[h->n++] = a;
}

struct addrs_attrs {
	const struct nlattr *local, *address, *broadcast;
};

static int addrs_attr_cb(const struct nlattr *a, void *data)
{
	struct addrs_attrs *t = data;
	switch (mnl_attr_get_type(a)) {
	case IFA_LOCAL:
		t->local = a;
		break;
	case IFA_ADDRESS:
		t->address = a;
		break;
	case IFA_BROADCAST:
		t->broadcast = a;
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int addrs_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nladdrs *h = data;
	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifaddrmsg))
		return MNL_CB_OK;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
	struct addrs_attrs t = {0};
	mnl_attr_parse(nlh, sizeof(*ifa), addrs_attr_cb, &t);
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the same,
	 * or the peer's on a point-to-point link (then IFA_LOCAL exists). */
	const struct nlattr *own = t.local ? t.local : t.address;
	if (own && mnl_attr_get_payload_len(own) == alen)
		addrs_put(h, ifa->ifa_family, mnl_attr_get_payload(own));
	if (t.broadcast && mnl_attr_get_payload_len(t.broadcast) == alen)
		addrs_put(h, ifa->ifa_family, mnl_attr_get_payload(t.broadcast));
	return MNL_CB_OK;
}

static int addrs_request(struct nladdrs *h, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned seq = ++h->seq;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(h->rq, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(h->rq, h->buf, sizeof(h->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		int rc = mnl_cb_run(h->buf, (size_t)n, seq, h->rq_portid, cb, data);
		if (rc < 0)
			return -1;
		if (rc == MNL_CB_STOP || !(nlh->nlmsg_flags & NLM_F_DUMP))
			return 0;
	}
}

static int addrs_sync(struct nladdrs *h)
{
	_Alignas(8) uint8_t req[128];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	h->n = 0;
	h->overflow = false;
	return addrs_request(h, nlh, addrs_cb, h);
}

struct nladdrs *nladdrs_open(void)
{
	struct nladdrs *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->seq = (unsigned)time(NULL);
	h->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	h->rq = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!h->ev || !h->rq ||
	    mnl_socket_bind(h->ev, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, MNL_SOCKET_AUTOPID) <
		0 ||
	    mnl_socket_bind(h->rq, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		nladdrs_close(h);
		errno = e;
		return NULL;
	}
	h->rq_portid = mnl_socket_get_portid(h->rq);
	/* Subscribed before the dump: a change during it is not missed. */
	if (addrs_sync(h) < 0) {
		int e = errno;
		nladdrs_close(h);
		errno = e;
		return NULL;
	}
	return h;
}

void nladdrs_close(struct nladdrs *h)
{
	if (!h)
		return;
	if (h->ev)
		mnl_socket_close(h->ev);
	if (h->rq)
		mnl_socket_close(h->rq);
	free(h);
}

int nladdrs_fd(const struct nladdrs *h)
{
	return mnl_socket_get_fd(h->ev);
}

int nladdrs_process(struct nladdrs *h)
{
	bool any = false;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(h->ev, h->buf, sizeof(h->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				any = true; /* events lost: read everything again */
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		if (n > 0)
			any = true;
	}
	if (!any)
		return 0;
	return addrs_sync(h) < 0 ? -1 : 1;
}

bool nladdrs_contains(const struct nladdrs *h, const struct mpt_addr *a)
{
	for (size_t i = 0; h && i < h->n; i++)
		if (mpt_addr_equal(&h->a[i], a))
			return true;
	return false;
}

size_t nladdrs_count(const struct nladdrs *h, bool *overflow)
{
	if (overflow)
		*overflow = h->overflow;
	return h->n;
}

struct route_ans {
	int oif, type;
	bool got;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_ans *r = data;
	if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		r->oif = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_ans *r = data;
	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct rtmsg))
		return MNL_CB_OK;
	const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
	r->type = rt->rtm_type;
	r->got = true;
	mnl_attr_parse(nlh, sizeof(*rt), route_attr_cb, r);
	return MNL_CB_OK;
}

static int route_query(struct mnl_socket *s, unsigned portid, unsigned seq,
		       const struct mpt_addr *dst, uint8_t *buf, size_t buflen, int *oif, int *type)
{
	_Alignas(8) uint8_t req[128];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	bool v4 = dst->family == 4;
	rt->rtm_family = v4 ? AF_INET : AF_INET6;
	rt->rtm_dst_len = v4 ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, v4 ? 4 : 16, dst->bytes);
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
		return -1;
	struct route_ans r = {0};
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, buf, buflen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* One RTM_NEWROUTE, or an NLMSG_ERROR (errno set by mnl_cb_run). */
		int rc = mnl_cb_run(buf, (size_t)n, seq, portid, route_cb, &r);
		if (rc < 0)
			return -1;
		if (r.got)
			break;
	}
	*oif = r.oif;
	*type = r.type;
	return 0;
}

int nladdrs_route(struct nladdrs *h, const struct mpt_addr *dst, int *oif, int *type)
{
	return route_query(h->rq, h->rq_portid, ++h->seq, dst, h->buf, sizeof(h->buf), oif, type);
}

int nl_route_get(const struct mpt_addr *dst, int *oif, int *type)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!s)
		return -1;
	_Alignas(8) uint8_t buf[8192];
	int rc = -1;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) == 0)
		rc = route_query(s, mnl_socket_get_portid(s), (unsigned)time(NULL), dst, buf,
				 sizeof(buf), oif, type);
	int e = errno;
	mnl_socket_close(s);
	errno = e;
	return rc;
}
