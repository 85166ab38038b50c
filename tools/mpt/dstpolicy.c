/* SPDX-License-Identifier: Apache-2.0 */
/* `mpt convert`'s destination policy (see dstpolicy.h). */
#define _GNU_SOURCE
#include "dstpolicy.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool prefix_match(const struct mpt_addr *p, uint8_t plen, const struct mpt_addr *a)
{
	if (p->family != a->family)
		return false;
	unsigned full = plen / 8u, rest = plen % 8u;
	if (memcmp(p->bytes, a->bytes, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8u - rest));
	return (p->bytes[full] & mask) == (a->bytes[full] & mask);
}

/* Layer 1's fixed ranges (RFC 6890 special-purpose registries): what a
 * converter must never connect to whatever the operator allowed. */
struct dp_range {
	uint8_t family, plen;
	uint8_t bytes[16];
};

static const struct dp_range builtin[] = {
    {4, 8, {0}},                         /* 0.0.0.0/8: "this network", unspecified */
    {4, 8, {127}},                       /* 127.0.0.0/8: loopback */
    {4, 16, {169, 254}},                 /* 169.254.0.0/16: link-local (metadata services) */
    {4, 4, {224}},                       /* 224.0.0.0/4: multicast */
    {4, 4, {240}},                       /* 240.0.0.0/4: reserved, 255.255.255.255 broadcast */
    {6, 128, {0}},                       /* ::/128: unspecified */
    {6, 128, {[15] = 1}},                /* ::1/128: loopback */
    {6, 96, {0}},                        /* ::/96: IPv4-compatible (deprecated, RFC 4291) */
    {6, 96, {[10] = 0xff, [11] = 0xff}}, /* ::ffff:0:0/96: IPv4-mapped */
    {6, 10, {0xfe, 0x80}},               /* fe80::/10: link-local */
    {6, 10, {0xfe, 0xc0}},               /* fec0::/10: site-local (deprecated) */
    {6, 8, {0xff}},                      /* ff00::/8: multicast */
};

bool dp_builtin_refused(const struct mpt_addr *a)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		struct mpt_addr p;
		memset(&p, 0, sizeof(p));
		p.family = builtin[i].family;
		memcpy(p.bytes, builtin[i].bytes, 16);
		if (prefix_match(&p, builtin[i].plen, a))
			return true;
	}
	return a->family != 4 && a->family != 6;
}

static int perr(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535 || *s == '+' || *s == '-')
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int dp_parse_rule(const char *arg, bool allow, struct dp_rule *r, char *err, size_t errlen)
{
	char buf[96], ports[32] = "";
	memset(r, 0, sizeof(*r));
	r->allow = allow;
	if (!arg || strlen(arg) >= sizeof(buf))
		return perr(err, errlen, "too long");
	if (arg[0] == '[') {
		const char *cb = strchr(arg, ']');
		if (!cb || cb[1] != ':' || strlen(cb + 2) >= sizeof(ports))
			return perr(err, errlen, "IPv6 with a port is [ADDR[/PLEN]]:PORT[-PORT]");
		memcpy(buf, arg + 1, (size_t)(cb - arg - 1));
		buf[cb - arg - 1] = '\0';
		snprintf(ports, sizeof(ports), "%s", cb + 2);
	} else {
		snprintf(buf, sizeof(buf), "%s", arg);
		char *colon = strchr(buf, ':');
		/* One colon: IPv4 with a port; more: a bare IPv6 prefix. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			if (strlen(colon + 1) >= sizeof(ports))
				return perr(err, errlen, "bad port");
			snprintf(ports, sizeof(ports), "%s", colon + 1);
		}
	}
	char *slash = strchr(buf, '/');
	long plen = -1;
	if (slash) {
		char *end;
		*slash = '\0';
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || plen < 0)
			return perr(err, errlen, "bad prefix length");
	}
	if (mpt_addr_parse(&r->addr, buf) < 0)
		return perr(err, errlen, "not an IPv4 or IPv6 address");
	long maxp = r->addr.family == 4 ? 32 : 128;
	if (plen < 0)
		plen = maxp;
	if (plen > maxp)
		return perr(err, errlen, "prefix length too long for the address family");
	r->plen = (uint8_t)plen;
	/* Host bits set usually mean a typo in the prefix length. */
	struct mpt_addr masked;
	memset(&masked, 0, sizeof(masked));
	masked.family = r->addr.family;
	unsigned full = r->plen / 8u, rest = r->plen % 8u;
	memcpy(masked.bytes, r->addr.bytes, full);
	if (rest)
		masked.bytes[full] = (uint8_t)(r->addr.bytes[full] & (0xffu << (8u - rest)));
	if (!mpt_addr_equal(&masked, &r->addr))
		return perr(err, errlen, "host bits set after the prefix length");
	if (ports[0]) {
		char *dash = strchr(ports, '-');
		if (dash)
			*dash = '\0';
		if (parse_port(ports, &r->port_lo) < 0 ||
		    parse_port(dash ? dash + 1 : ports, &r->port_hi) < 0)
			return perr(err, errlen, "port is not 1-65535 (or a range LOW-HIGH)");
		if (r->port_hi < r->port_lo)
			return perr(err, errlen, "port range LOW-HIGH with HIGH < LOW");
	}
	return 0;
}

int dp_add_rule(struct dstpolicy *p, const struct dp_rule *r)
{
	if (p->n_rules >= DP_MAX_RULES)
		return -1;
	p->rules[p->n_rules++] = *r;
	return 0;
}

char *dp_rule_format(const struct dp_rule *r, char *buf, size_t len)
{
	char a[64];
	mpt_addr_format(&r->addr, a, sizeof(a));
	const char *what = r->local ? "allow-local" : r->allow ? "allow" : "deny";
	if (!r->port_lo)
		snprintf(buf, len, "%s %s/%u any port", what, a, r->plen);
	else if (r->port_lo == r->port_hi)
		snprintf(buf, len, "%s %s/%u port %u", what, a, r->plen, r->port_lo);
	else
		snprintf(buf, len, "%s %s/%u ports %u-%u", what, a, r->plen, r->port_lo,
			 r->port_hi);
	return buf;
}

int dp_open(struct dstpolicy *p)
{
	p->host = nladdrs_open();
	return p->host ? 0 : -1;
}

void dp_close(struct dstpolicy *p)
{
	nladdrs_close(p->host);
	p->host = NULL;
}

int dp_fd(const struct dstpolicy *p)
{
	return p->host ? nladdrs_fd(p->host) : -1;
}

int dp_process(struct dstpolicy *p)
{
	return p->host && nladdrs_process(p->host) < 0 ? -1 : 0;
}

static bool rule_match(const struct dp_rule *r, const struct mpt_endpoint *dst)
{
	return prefix_match(&r->addr, r->plen, &dst->addr) &&
	       (!r->port_lo || (dst->port >= r->port_lo && dst->port <= r->port_hi));
}

/* An --allow-local entry for dst (a host address): the only way to one. */
static bool local_rule(const struct dstpolicy *p, const struct mpt_endpoint *dst)
{
	if (dst->port == 0)
		return false;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].local && rule_match(&p->rules[i], dst))
			return true;
	return false;
}

static enum dp_verdict decide(struct dstpolicy *p, const struct mpt_endpoint *dst)
{
	const struct mpt_addr *a = &dst->addr;
	if (dp_builtin_refused(a))
		return DP_BUILTIN;
	for (size_t i = 0; i < p->n_own; i++)
		if (mpt_addr_equal(&p->own[i], a))
			return DP_OWN;
	if (p->host) {
		if (nladdrs_contains(p->host, a))
			return local_rule(p, dst) ? DP_ALLOW_LOCAL : DP_HOST;
		/* The kernel's own view: a local route (an address not on any
		 * interface, AnyIP prefixes), a subnet broadcast, or a route
		 * that is gone to nowhere useful.  A lookup failure (no route)
		 * is left to connect(), which fails at once, without a packet. */
		int oif = 0, type = 0;
		if (nladdrs_route(p->host, a, &oif, &type) == 0 &&
		    (type == RTN_LOCAL || type == RTN_BROADCAST || type == RTN_MULTICAST ||
		     type == RTN_ANYCAST || type == RTN_NAT))
			return type == RTN_LOCAL && local_rule(p, dst) ? DP_ALLOW_LOCAL
								       : DP_LOCAL_ROUTE;
	}
	if (dst->port == 0)
		return DP_PORT_ZERO;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct dp_rule *r = &p->rules[i];
		if (r->local || !rule_match(r, dst))
			continue;
		return r->allow ? DP_ALLOW : DP_DENIED;
	}
	return p->allow_any ? DP_ALLOW : DP_NO_RULE;
}

enum dp_verdict dp_check(struct dstpolicy *p, const struct mpt_endpoint *dst)
{
	enum dp_verdict v = decide(p, dst);
	p->count[v]++;
	return v;
}

const char *dp_verdict_name(enum dp_verdict v)
{
	switch (v) {
	case DP_ALLOW:
		return "allowed";
	case DP_BUILTIN:
		return "loopback, link-local, multicast or reserved address";
	case DP_OWN:
		return "the converter's own address";
	case DP_HOST:
		return "an address of this host";
	case DP_LOCAL_ROUTE:
		return "routed locally by this host (local/broadcast route)";
	case DP_PORT_ZERO:
		return "port 0";
	case DP_DENIED:
		return "denied by a --deny rule";
	case DP_NO_RULE:
		return "not in the allow-list";
	case DP_ALLOW_LOCAL:
		return "allowed (--allow-local)";
	}
	return "?";
}
