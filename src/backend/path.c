/* SPDX-License-Identifier: Apache-2.0 */
/* --path specifications (ADDR/PLEN,key=value,...), and whether the host
 * leaves a path's address to mpt. */
#define _GNU_SOURCE /* strtok_r, if_indextoname */
/* net/if.h must come before linux/if.h (glibc guards only that order). */
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/fail.h"
#include "common.h"
#include "mpt/backend.h"

#define PATH_SPEC_MAX 256

/* A finite decimal number in [lo, hi] with nothing after it. */
static bool parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	if (!*s)
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* A decimal integer in [lo, hi]: digits only (no sign, exponent or point). */
static bool parse_int(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	if (!*s || strlen(s) > 9)
		return false;
	unsigned long v = 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Interface names: 1..15 bytes, no '/', no whitespace, not "." or ".."
 * (what the kernel's dev_valid_name accepts). */
static bool valid_dev(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= MPT_DEV_NAME_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' || c == ':' || c <= ' ' || c >= 0x7f)
			return false;
	}
	return true;
}

int mpt_path_parse(const char *spec, struct mpt_path_cfg *out, char *err, size_t errlen)
{
	if (!spec || !out)
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL, "no path given");
	if (strlen(spec) >= PATH_SPEC_MAX)
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL, "path specification too long");
	char buf[PATH_SPEC_MAX];
	snprintf(buf, sizeof(buf), "%s", spec);
	struct mpt_path_cfg p;
	memset(&p, 0, sizeof(p));

	char *save = NULL;
	char *tok = strtok_r(buf, ",", &save);
	if (!tok || tok != buf)
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
					"'%s': expected ADDR/PLEN first", spec);
	char *slash = strchr(tok, '/');
	if (slash)
		*slash = '\0';
	if (mpt_addr_parse(&p.addr, tok) < 0)
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
					"'%s' is not an IPv4 or IPv6 address", tok);
	unsigned maxlen = p.addr.family == 4 ? 32 : 128;
	p.plen = (uint8_t)maxlen;
	if (slash) {
		unsigned long v;
		if (!parse_int(slash + 1, 0, maxlen, &v))
			return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
						"prefix length '%s' is not an integer in [0, %u]",
						slash + 1, maxlen);
		p.plen = (uint8_t)v;
	}

	unsigned seen = 0;
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		char *val = strchr(tok, '=');
		if (val)
			*val++ = '\0';
		static const char *const keys[] = {"gw",   "dev", "backup", "delay",   "loss",
						   "rate", "mtu", "signal", "subflow", "fullmesh"};
		unsigned k;
		for (k = 0; k < MPT_ARRAY_SIZE(keys); k++)
			if (!strcmp(tok, keys[k]))
				break;
		if (k == MPT_ARRAY_SIZE(keys))
			return mpt_backend_fail(
			    err, errlen, MPT_ERR_INVAL,
			    "unknown path option '%s' (known: gw, dev, backup, delay, loss, "
			    "rate, mtu, signal, subflow, fullmesh)",
			    tok);
		if (seen & (1u << k))
			return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
						"path option '%s' given twice", tok);
		seen |= 1u << k;
		bool is_flag = k == 2 || k >= 7;
		if (is_flag && val)
			return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
						"path option '%s' takes no value", tok);
		if (!is_flag && (!val || !*val))
			return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
						"path option '%s' needs a value (%s=...)", tok,
						tok);
		unsigned long v = 0;
		switch (k) {
		case 0:
			if (mpt_addr_parse(&p.gw, val) < 0)
				return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
							"gateway '%s' is not an address", val);
			if (p.gw.family != p.addr.family)
				return mpt_backend_fail(
				    err, errlen, MPT_ERR_INVAL,
				    "gateway '%s' is not of the path address's family", val);
			break;
		case 1:
			if (!valid_dev(val))
				return mpt_backend_fail(
				    err, errlen, MPT_ERR_INVAL,
				    "device name '%s' is invalid (1-15 characters, no "
				    "'/', ':' or spaces)",
				    val);
			snprintf(p.dev, sizeof(p.dev), "%s", val);
			break;
		case 2:
			p.backup = true;
			break;
		case 7: /* endpoint flags of the "endpoints" path manager */
			p.flags |= MPT_LOCAL_SIGNAL;
			break;
		case 8:
			p.flags |= MPT_LOCAL_SUBFLOW;
			break;
		case 9:
			p.flags |= MPT_LOCAL_FULLMESH;
			break;
		case 3:
			if (!parse_int(val, 0, 60000, &v))
				return mpt_backend_fail(
				    err, errlen, MPT_ERR_INVAL,
				    "delay '%s' is not an integer (ms) in [0, 60000]", val);
			p.delay_ms = (uint32_t)v;
			break;
		case 4:
			if (!parse_num(val, 0, 100, &p.loss_pct))
				return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
							"loss '%s' is not a percentage in [0, 100]",
							val);
			break;
		case 5:
			if (!parse_num(val, 0.001, 1e6, &p.rate_mbit))
				return mpt_backend_fail(
				    err, errlen, MPT_ERR_INVAL,
				    "rate '%s' is not a number of Mbit/s in [0.001, 1e6]", val);
			break;
		case 6: {
			/* IPv6 links carry at least 1280 bytes (RFC 8200 §5); every
			 * IPv4 host accepts 576-byte datagrams (RFC 791). */
			unsigned long lo = p.addr.family == 6 ? 1280 : 576;
			if (!parse_int(val, lo, 65535, &v))
				return mpt_backend_fail(
				    err, errlen, MPT_ERR_INVAL,
				    "mtu '%s' is not an integer in [%lu, 65535]", val, lo);
			p.mtu = (uint16_t)v;
			break;
		}
		default:
			break;
		}
	}
	*out = p;
	return 0;
}

/* ---- the host's view of a path (rtnetlink) -------------------------------
 *
 * Before a path is brought up: does the kernel leave its address to us?  And
 * before connecting: would the kernel forward what the stack sends?  Both
 * are questions to rtnetlink, asked with hand-built messages (as tun.c does
 * for its configuration: a handful of attributes needs no library).
 */

#define NLQ_BUF 16384

struct nlq {
	int fd;
	uint32_t seq;
};

static int nlq_open(struct nlq *q)
{
	q->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	q->seq = 0;
	return q->fd < 0 ? -errno : 0;
}

static void nlq_close(struct nlq *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

/* Append attribute type with len bytes of data to the message in buf. */
static void nlq_put(uint8_t *buf, unsigned short type, const void *data, size_t len)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf;
	struct rtattr *a = (struct rtattr *)(void *)(buf + NLMSG_ALIGN(nh->nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + (uint32_t)RTA_ALIGN(a->rta_len);
}

/*
 * Send the request in buf and hand every answer message to fn (a dump ends
 * with NLMSG_DONE; a single request with its answer or an error).  fn
 * returns non-zero to stop early with that value.  Returns 0, fn's value, or
 * -errno (a netlink error answer included).
 *
 * The answer is walked through non-const pointers on purpose: the
 * <linux/netlink.h> and <linux/rtnetlink.h> macros (NLMSG_NEXT, NLMSG_DATA,
 * RTA_NEXT, RTA_DATA, IFA_RTA, RTM_RTA) cast their argument to char *, which
 * drops a const qualifier (-Wcast-qual under clang, which unlike GCC warns
 * inside system-header macros).  The buffer is our own and writable.
 */
static int nlq_talk(struct nlq *q, uint8_t *buf, bool dump, int (*fn)(void *ud, struct nlmsghdr *h),
		    void *ud)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf;
	nh->nlmsg_flags |= NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	nh->nlmsg_seq = ++q->seq;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(q->fd, buf, nh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	static uint8_t ans[NLQ_BUF] __attribute__((aligned(4)));
	for (;;) {
		ssize_t n = recv(q->fd, ans, sizeof(ans), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)(void *)ans; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != q->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EIO;
				return e->error; /* 0 or -errno */
			}
			int rc = fn(ud, h);
			if (rc)
				return rc;
			if (!dump)
				return 0;
		}
	}
}

/* What the dumps look for, and what they found. */
struct host_q {
	const struct mpt_addr *addr;
	int our_ifindex; /* the path's device when it exists (0: not yet) */
	int found_ifindex;
	bool found;
};

static bool attr_is_addr(struct rtattr *a, const struct mpt_addr *addr)
{
	size_t alen = addr->family == 4 ? 4 : 16;
	return RTA_PAYLOAD(a) == alen && !memcmp(RTA_DATA(a), addr->bytes, alen);
}

/* RTM_NEWADDR of a dump: the address on some interface? */
static int on_addr(void *ud, struct nlmsghdr *h)
{
	struct host_q *q = ud;
	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
		return 0;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	size_t len = IFA_PAYLOAD(h);
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		/* IFA_LOCAL is the address itself on point-to-point links;
		 * IFA_ADDRESS elsewhere (and always for IPv6). */
		if ((a->rta_type == IFA_LOCAL || a->rta_type == IFA_ADDRESS) &&
		    attr_is_addr(a, q->addr)) {
			q->found = true;
			q->found_ifindex = (int)ifa->ifa_index;
			return 1;
		}
	}
	return 0;
}

/* RTM_NEWROUTE of a dump: a host route to the address in the main table,
 * through another device than ours? */
static int on_route(void *ud, struct nlmsghdr *h)
{
	struct host_q *q = ud;
	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return 0;
	struct rtmsg *rt = NLMSG_DATA(h);
	unsigned full = q->addr->family == 4 ? 32 : 128;
	if (rt->rtm_dst_len != full)
		return 0;
	uint32_t table = rt->rtm_table;
	bool dst = false;
	int oif = 0;
	size_t len = RTM_PAYLOAD(h);
	for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_DST && attr_is_addr(a, q->addr))
			dst = true;
		else if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= 4)
			memcpy(&oif, RTA_DATA(a), 4);
		else if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= 4)
			memcpy(&table, RTA_DATA(a), 4);
	}
	if (!dst || table != RT_TABLE_MAIN || oif == 0 || oif == q->our_ifindex)
		return 0;
	q->found = true;
	q->found_ifindex = oif;
	return 1;
}

static int dump(struct nlq *n, uint16_t type, uint8_t family, struct host_q *q,
		int (*fn)(void *ud, struct nlmsghdr *h))
{
	static uint8_t buf[256] __attribute__((aligned(4)));
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf;
	size_t body = type == RTM_GETADDR ? sizeof(struct ifaddrmsg) : sizeof(struct rtmsg);
	nh->nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
	nh->nlmsg_type = type;
	/* ifaddrmsg and rtmsg both start with the family byte. */
	*(uint8_t *)NLMSG_DATA(nh) = family;
	int rc = nlq_talk(n, buf, true, fn, q);
	return rc < 0 ? rc : 0;
}

static const char *ifname(int ifindex, char *buf)
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

/* Is TUN device name attached by some process?  Attaching to a free
 * (persistent) device and closing it again leaves it as it was. */
static bool tun_busy(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	bool busy = ioctl(fd, TUNSETIFF, &ifr) < 0 && errno == EBUSY;
	close(fd);
	return busy;
}

int mpt_path_check_host(const struct mpt_path_cfg *p, const char *dev, char *err, size_t errlen)
{
	if (!p || !dev || !*dev || (p->addr.family != 4 && p->addr.family != 6))
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL, "bad path");
	char a[64], name[IF_NAMESIZE];
	mpt_addr_format(&p->addr, a, sizeof(a));
	struct host_q q = {.addr = &p->addr, .our_ifindex = (int)if_nametoindex(dev)};
	/* A TUN device only exists while a process holds it (or when made
	 * persistent): attached already means another program runs on it. */
	if (q.our_ifindex > 0 && tun_busy(dev)) {
		return mpt_backend_fail(
		    err, errlen, MPT_ERR_EXIST,
		    "TUN device %s is in use by another process (another mpt instance?): "
		    "each instance needs its own devices (dev=NAME) and addresses",
		    dev);
	}
	struct nlq n;
	int rc = nlq_open(&n);
	if (rc < 0) {
		return mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED,
					"cannot ask the kernel about %s: netlink: %s", a,
					strerror(-rc));
	}
	uint8_t fam = p->addr.family == 4 ? AF_INET : AF_INET6;
	rc = dump(&n, RTM_GETADDR, fam, &q, on_addr);
	if (rc == 0 && q.found) {
		nlq_close(&n);
		return mpt_backend_fail(
		    err, errlen, MPT_ERR_EXIST,
		    "%s is configured on interface %s: the kernel owns it, answers for it "
		    "and would never hand its packets to mpt's TUN device; use an address "
		    "no interface has (and route it to this host)",
		    a, ifname(q.found_ifindex, name));
	}
	if (rc == 0)
		rc = dump(&n, RTM_GETROUTE, fam, &q, on_route);
	nlq_close(&n);
	if (rc < 0) {
		return mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED,
					"cannot ask the kernel about %s: netlink: %s", a,
					strerror(-rc));
	}
	if (q.found) {
		return mpt_backend_fail(
		    err, errlen, MPT_ERR_EXIST,
		    "%s is already routed to device %s (another mpt instance uses this "
		    "address?); refusing to take its route over",
		    a, ifname(q.found_ifindex, name));
	}
	return 0;
}

/* The answer to RTM_GETROUTE: routed, fine. */
static int on_getroute(void *ud, struct nlmsghdr *h)
{
	(void)ud;
	(void)h;
	return 0;
}

int mpt_path_route_check(const char *dev, const struct mpt_addr *src, const struct mpt_addr *dst,
			 char *err, size_t errlen)
{
	if (!dev || !src || !dst || src->family != dst->family ||
	    (src->family != 4 && src->family != 6))
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL, "bad route query");
	int ifindex = (int)if_nametoindex(dev);
	if (ifindex <= 0)
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL, "no device %s", dev);
	struct nlq n;
	int rc = nlq_open(&n);
	if (rc < 0)
		return 0; /* cannot tell: let the connection try */
	static uint8_t buf[256] __attribute__((aligned(4)));
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf;
	nh->nlmsg_len = (uint32_t)NLMSG_LENGTH(sizeof(struct rtmsg));
	nh->nlmsg_type = RTM_GETROUTE;
	struct rtmsg *rt = NLMSG_DATA(nh);
	bool v4 = src->family == 4;
	size_t alen = v4 ? 4 : 16;
	rt->rtm_family = v4 ? AF_INET : AF_INET6;
	rt->rtm_dst_len = (unsigned char)(alen * 8);
	rt->rtm_src_len = (unsigned char)(alen * 8);
	/* As the kernel sees it: a packet from src arriving on the TUN device
	 * (an input route lookup, policy rules by source included). */
	nlq_put(buf, RTA_DST, dst->bytes, alen);
	nlq_put(buf, RTA_SRC, src->bytes, alen);
	nlq_put(buf, RTA_IIF, &ifindex, sizeof(ifindex));
	rc = nlq_talk(&n, buf, false, on_getroute, NULL);
	nlq_close(&n);
	char d[64], s[64];
	mpt_addr_format(dst, d, sizeof(d));
	mpt_addr_format(src, s, sizeof(s));
	switch (-rc) {
	case 0:
		return 0;
	case ENETUNREACH:
		return mpt_backend_fail(err, errlen, MPT_ERR_NOTFOUND,
					"Network is unreachable (the kernel has no route to %s for "
					"packets from %s)",
					d, s);
	case EHOSTUNREACH:
		return mpt_backend_fail(
		    err, errlen, MPT_ERR_NOTFOUND,
		    "No route to host: the kernel does not forward packets arriving on %s "
		    "(sysctl net.ipv%c.%s)",
		    dev, v4 ? '4' : '6', v4 ? "ip_forward=1" : "conf.all.forwarding=1");
	case EACCES:
	case EPERM:
		return mpt_backend_fail(err, errlen, MPT_ERR_NOTFOUND,
					"the kernel's routing policy forbids %s -> %s (%s)", s, d,
					strerror(-rc));
	default:
		/* EXDEV (reverse-path filter) or others: say it, do not fail. */
		return 0;
	}
}
