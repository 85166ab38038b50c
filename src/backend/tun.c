/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TUN devices: open /dev/net/tun, and configure the link and routes with
 * rtnetlink (hand-built messages: a handful of attributes does not need a
 * library).
 */
#define _GNU_SOURCE
/* net/if.h must come before linux/if.h (glibc guards only that order). */
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/fail.h"
#include "backend/tun.h"
#include "common.h"

/* ---- rtnetlink requests ------------------------------------------------- */

#define NL_BUF 1024

struct nl_req {
	union {
		struct nlmsghdr nh;
		uint8_t raw[NL_BUF];
	} u;
};

static void *nl_tail(struct nl_req *r)
{
	return r->u.raw + NLMSG_ALIGN(r->u.nh.nlmsg_len);
}

/* Append an attribute; the request buffer is sized for every caller. */
static struct rtattr *nl_put(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = nl_tail(r);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->u.nh.nlmsg_len = NLMSG_ALIGN(r->u.nh.nlmsg_len) + (uint32_t)RTA_ALIGN(a->rta_len);
	return a;
}

static void nl_nest_end(struct nl_req *r, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((uint8_t *)nl_tail(r) - (uint8_t *)nest);
}

/* Send one request and wait for its acknowledgement: 0 or -errno. */
static int nl_talk(struct nl_req *r)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	r->u.nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	r->u.nh.nlmsg_seq = 1;
	int rc = -EIO;
	if (sendto(fd, r->u.raw, r->u.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		union {
			struct nlmsghdr nh;
			uint8_t raw[8192];
		} ans;
		ssize_t n = recv(fd, ans.raw, sizeof(ans.raw), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = &ans.nh; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != 1)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					rc = -EIO;
				else
					rc = e->error; /* 0 (ack) or -errno */
				goto out;
			}
		}
	}
out:
	close(fd);
	return rc;
}

/*
 * MTU, no IPv6 address generation (new devices), and the link up.  The
 * kernel applies IFF_UP before IFLA_AF_SPEC within one request, and would
 * generate a link-local address on the way up: so "up" goes separately,
 * after the rest.
 */
static int link_config(int ifindex, uint16_t mtu, bool no_addrgen, unsigned set, unsigned change)
{
	struct nl_req r;
	memset(&r, 0, sizeof(r));
	r.u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.u.nh.nlmsg_type = RTM_NEWLINK;
	struct ifinfomsg *ifi = NLMSG_DATA(&r.u.nh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = set;
	ifi->ifi_change = change;
	if (mtu) {
		uint32_t m = mtu;
		nl_put(&r, IFLA_MTU, &m, sizeof(m));
	}
	if (no_addrgen) {
		struct rtattr *spec = nl_put(&r, IFLA_AF_SPEC, NULL, 0);
		struct rtattr *in6 = nl_put(&r, AF_INET6, NULL, 0);
		uint8_t mode = IN6_ADDR_GEN_MODE_NONE;
		nl_put(&r, IFLA_INET6_ADDR_GEN_MODE, &mode, sizeof(mode));
		nl_nest_end(&r, in6);
		nl_nest_end(&r, spec);
	}
	return nl_talk(&r);
}

/*
 * The device the kernel routes addr through (RTM_GETROUTE, as `ip route
 * get`; no privilege needed): its ifindex, 0 when the route is not a
 * unicast one, or -errno.
 */
static int route_oif(const struct mpt_addr *addr)
{
	struct nl_req r;
	memset(&r, 0, sizeof(r));
	r.u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	r.u.nh.nlmsg_type = RTM_GETROUTE;
	r.u.nh.nlmsg_flags = NLM_F_REQUEST;
	r.u.nh.nlmsg_seq = 2;
	struct rtmsg *rt = NLMSG_DATA(&r.u.nh);
	bool v4 = addr->family == 4;
	rt->rtm_family = v4 ? AF_INET : AF_INET6;
	rt->rtm_dst_len = v4 ? 32 : 128;
	nl_put(&r, RTA_DST, addr->bytes, v4 ? 4 : 16);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int rc = -EIO;
	if (sendto(fd, r.u.raw, r.u.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		union {
			struct nlmsghdr nh;
			uint8_t raw[8192];
		} ans;
		ssize_t n = recv(fd, ans.raw, sizeof(ans.raw), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = &ans.nh; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != 2)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				rc = h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || !e->error
					 ? -EIO
					 : e->error;
				goto out;
			}
			if (h->nlmsg_type != RTM_NEWROUTE ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
				continue;
			/* Non-const: RTM_RTA and RTA_NEXT (<linux/rtnetlink.h>) cast to
			 * char *, which would drop a const (-Wcast-qual, clang). */
			struct rtmsg *m = NLMSG_DATA(h);
			rc = 0;
			size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
			for (struct rtattr *a = RTM_RTA(m); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(uint32_t) &&
				    m->rtm_type == RTN_UNICAST) {
					uint32_t oif;
					memcpy(&oif, RTA_DATA(a), sizeof(oif));
					rc = (int)oif;
				}
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

int mpt_tun_add_route(const struct mpt_tun *t, const struct mpt_addr *addr, char *err,
		      size_t errlen)
{
	if (!t || !addr || (addr->family != 4 && addr->family != 6))
		return mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED, "bad route request");
	struct nl_req r;
	memset(&r, 0, sizeof(r));
	r.u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	r.u.nh.nlmsg_type = RTM_NEWROUTE;
	r.u.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	struct rtmsg *rt = NLMSG_DATA(&r.u.nh);
	bool v4 = addr->family == 4;
	rt->rtm_family = v4 ? AF_INET : AF_INET6;
	rt->rtm_dst_len = v4 ? 32 : 128;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = v4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	nl_put(&r, RTA_DST, addr->bytes, v4 ? 4 : 16);
	uint32_t oif = (uint32_t)t->ifindex;
	nl_put(&r, RTA_OIF, &oif, sizeof(oif));
	int rc = nl_talk(&r);
	/* Attach mode without CAP_NET_ADMIN: the operator made the route
	 * (`ip route add ADDR dev TUN`); it is all we need. */
	if (rc == -EPERM && route_oif(addr) == t->ifindex)
		rc = 0;
	if (rc < 0) {
		char a[64];
		return mpt_backend_fail(
		    err, errlen, MPT_ERR_UNSUPPORTED, "cannot add route %s/%d dev %s: %s",
		    mpt_addr_format(addr, a, sizeof(a)), v4 ? 32 : 128, t->name, strerror(-rc));
	}
	return 0;
}

int mpt_tun_open(const char *name, uint16_t mtu, bool multi_queue, struct mpt_tun *out, char *err,
		 size_t errlen)
{
	if (!name || !*name || strlen(name) >= IFNAMSIZ || !out)
		return mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED, "bad device name");
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	/* Whether it exists decides "attach" vs "create" (and who configures). */
	bool existed = if_nametoindex(name) != 0;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED,
					"cannot open /dev/net/tun: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	/* With the virtio header when the kernel takes it (segmentation and
	 * checksum offload, mpt_tun_offload); without it otherwise. */
	/* Several threads: one queue each (the device is made multi-queue by
	 * the first, and every later open adds a queue). */
	short mq = multi_queue ? IFF_MULTI_QUEUE : 0;
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | mq);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	bool vnet = true;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | mq);
		vnet = false;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			int e = errno;
			close(fd);
			return mpt_backend_fail(
			    err, errlen, MPT_ERR_UNSUPPORTED, "cannot %s TUN device %s: %s%s",
			    existed ? "attach to" : "create", name, strerror(e),
			    !existed      ? ""
			    : multi_queue ? " (is it a multi-queue TUN device without packet "
					    "information?)"
					  : " (is it a TUN device without packet information?)");
		}
	}
	int hdrsz = (int)sizeof(struct virtio_net_hdr);
	if (vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
		/* The header stays, at its default size (the same). */
	}
	out->vnet = vnet;
	snprintf(out->name, sizeof(out->name), "%s", ifr.ifr_name);
	out->ifindex = (int)if_nametoindex(out->name);
	out->created = !existed;
	out->fd = fd;
	if (out->ifindex <= 0) {
		mpt_tun_close(out);
		return mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED, "TUN device %s vanished",
					name);
	}
	if (!mtu && !existed)
		mtu = 1500;
	int rc = 0;
	if (existed) {
		/* Attach mode: a device the operator created, set up and gave
		 * to our user (`ip tuntap add ... user NAME`) needs no change,
		 * and a process without CAP_NET_ADMIN may not make one. */
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq q;
		memset(&q, 0, sizeof(q));
		snprintf(q.ifr_name, sizeof(q.ifr_name), "%s", out->name);
		bool up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &q) == 0 && (q.ifr_flags & IFF_UP);
		bool mtu_ok =
		    !mtu || (s >= 0 && ioctl(s, SIOCGIFMTU, &q) == 0 && q.ifr_mtu == (int)mtu);
		if (s >= 0)
			close(s);
		if (up && mtu_ok)
			return 0;
	}
	if (mtu || !existed) {
		rc = link_config(out->ifindex, mtu, !existed, 0, 0);
		if (rc == -EOPNOTSUPP || rc == -EAFNOSUPPORT || rc == -EINVAL)
			rc = link_config(out->ifindex, mtu, false, 0, 0); /* no IPv6 */
	}
	/* Up; a new device also loses IFF_MULTICAST: no MLD reports into it. */
	if (rc == 0)
		rc = link_config(out->ifindex, 0, false, IFF_UP,
				 IFF_UP | (existed ? 0u : (unsigned)IFF_MULTICAST));
	if (rc < 0) {
		mpt_tun_close(out);
		return mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED,
					"cannot set %s up (mtu %u): %s", name, mtu, strerror(-rc));
	}
	return 0;
}

int mpt_tun_offload(struct mpt_tun *t)
{
	t->offload = false;
	if (!t->vnet || t->fd < 0)
		return MPT_ERR_UNSUPPORTED;
	unsigned long f = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	if (ioctl(t->fd, TUNSETOFFLOAD, f) < 0) {
		(void)ioctl(t->fd, TUNSETOFFLOAD, 0UL);
		return MPT_ERR_UNSUPPORTED;
	}
	t->offload = true;
	return 0;
}

int mpt_tun_offload_off(struct mpt_tun *t)
{
	t->offload = false;
	if (!t->vnet || t->fd < 0)
		return 0;
	return ioctl(t->fd, TUNSETOFFLOAD, 0UL) < 0 ? MPT_ERR_UNSUPPORTED : 0;
}

void mpt_tun_close(struct mpt_tun *t)
{
	if (t && t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
}

/* ---- what a written packet costs the receiver ---------------------------- */

/* Linux, 64-bit: sizeof(struct sk_buff) and of skb_shared_info rounded to
 * a cache line, the headroom tun reserves (NET_SKB_PAD), and the largest
 * page block alloc_skb_with_frags takes (PAGE_ALLOC_COSTLY_ORDER). */
#define SKB_STRUCT  256u
#define SKB_SHINFO  320u
#define SKB_PAD     64u
#define SKB_MAX_ORD 3u

/* kmalloc's size classes from 512 bytes up: powers of two. */
static size_t kmalloc_class(size_t n)
{
	size_t c = 512;
	while (c < n)
		c *= 2;
	return c;
}

static size_t head_truesize(size_t linear)
{
	size_t n = ((SKB_PAD + linear + 63u) & ~(size_t)63u) + SKB_SHINFO;
	return kmalloc_class(n) + SKB_STRUCT;
}

size_t mpt_tun_rx_truesize(size_t len, size_t hdr_len, size_t page)
{
	if (page == 0)
		page = 4096;
	/* Under a page: all of it in the kmalloc'd head. */
	if (SKB_PAD + len < page)
		return head_truesize(len);
	size_t linear = MPT_MIN(hdr_len, len);
	size_t ts = head_truesize(linear);
	size_t rest = len - linear;
	unsigned order = SKB_MAX_ORD;
	while (rest > 0) {
		size_t aligned = (rest + page - 1) / page * page;
		while (order > 0 && aligned < (page << order))
			order--;
		size_t blk = page << order;
		ts += blk; /* charged whole, however little of it is used */
		rest -= MPT_MIN(rest, blk);
	}
	return ts;
}

uint16_t mpt_tun_wnd_share(size_t hdr_len, uint32_t seg, size_t page)
{
	if (seg == 0)
		return 256;
	/* One segment alone: the receiver's sample (tcp_out.c alone_max). */
	uint64_t ts1 = mpt_tun_rx_truesize(hdr_len + seg, hdr_len, page);
	/* The dearest per byte of the packets offload makes (at most 65000
	 * bytes of payload, cfg.tso_max), relative to it: n seg / ts(n)
	 * over seg / ts1, as a share of 256, rounded down. */
	uint64_t share = 256;
	for (uint64_t n = 2; n * seg <= 65000; n++) {
		uint64_t ts = mpt_tun_rx_truesize(hdr_len + (size_t)(n * seg), hdr_len, page);
		uint64_t s = 256 * n * ts1 / ts;
		if (s < share)
			share = s;
	}
	return (uint16_t)share;
}
