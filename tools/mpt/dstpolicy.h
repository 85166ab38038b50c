/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt convert`'s destination policy (issue 11, finding 3): which
 * destinations a Connect TLV may name, decided before any connection
 * attempt.
 *
 * Two layers, checked in this order:
 *  1. Built-in refusals that no option lifts (not even --allow-any): the
 *     unspecified, loopback, link-local (169.254/16, fe80::/10; cloud
 *     metadata services live there), multicast and reserved ranges
 *     (0/8, 127/8, 169.254/16, 224/4, 240/4 incl. 255.255.255.255; ::,
 *     ::1, ::/96, fe80::/10, fec0::/10, ff00::/8), the converter's own
 *     --path addresses, every address of the host's interfaces (read over
 *     netlink at start and again on every address change), and any
 *     destination the kernel would deliver locally or broadcast (its route
 *     is local, broadcast, multicast or anycast: e.g. an AnyIP
 *     `ip route add local PREFIX dev lo`).  Port 0 is refused too.
 *  2. The operator's rules, an ordered list of --allow and --deny entries
 *     (PREFIX[:PORT[-PORT]]), first match wins; --allow-any adds "allow
 *     everything" after them; no match: refused (the default is to refuse
 *     every destination).
 * One exception to layer 1, never implied by --allow or --allow-any: an
 * --allow-local PREFIX[:PORT[-PORT]] entry lets a host address (or a
 * locally routed one) through, for a service the operator runs on the
 * converter's host on purpose.  Loopback, link-local, multicast, reserved
 * and the converter's own addresses stay refused even then.
 * Every refusal is answered with Error TLV 32, Not Authorized (RFC 8803
 * §4.2.8: the converter refuses the connection by local policy).
 * Loopback, multicast, broadcast and unspecified destinations never get
 * here: the codec rejects the Connect TLV itself (Malformed Message,
 * §4.2.5), and this layer refuses them again for any other caller.
 */
#ifndef MPT_TOOL_DSTPOLICY_H
#define MPT_TOOL_DSTPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/backend.h"
#include "mpt/mpt.h"
#include "nlwatch.h"

#define DP_MAX_RULES 64

/** Why a destination was allowed or refused. */
enum dp_verdict {
	DP_ALLOW = 0,   /**< an --allow rule (or --allow-any) matched */
	DP_BUILTIN,     /**< unspecified, loopback, link-local, multicast, reserved */
	DP_OWN,         /**< one of the converter's own (--path) addresses */
	DP_HOST,        /**< an address of the host's interfaces */
	DP_LOCAL_ROUTE, /**< the kernel routes it locally / as broadcast or multicast */
	DP_PORT_ZERO,   /**< port 0 */
	DP_DENIED,      /**< a --deny rule matched */
	DP_NO_RULE,     /**< no rule matched (default: refuse) */
	DP_ALLOW_LOCAL, /**< a host address named by an --allow-local rule */
};
#define DP_N_VERDICTS (DP_ALLOW_LOCAL + 1)

/** Whether v lets the connection through. */
static inline bool dp_allowed(int v)
{
	return v == DP_ALLOW || v == DP_ALLOW_LOCAL;
}

/** One --allow / --deny entry. */
struct dp_rule {
	bool allow;
	bool local;           /**< --allow-local: for host addresses only */
	struct mpt_addr addr; /**< prefix (host bits zero) */
	uint8_t plen;
	uint16_t port_lo, port_hi; /**< 0, 0: any port */
};

struct dstpolicy {
	struct dp_rule rules[DP_MAX_RULES]; /**< in command-line order */
	size_t n_rules;
	bool allow_any;                             /**< --allow-any: allow after the rules */
	struct mpt_addr own[MPT_BACKEND_MAX_PATHS]; /**< the converter's addresses */
	size_t n_own;
	struct nladdrs *host;          /**< the host's addresses (NULL until dp_open) */
	uint64_t count[DP_N_VERDICTS]; /**< decisions taken, by verdict */
};

/**
 * Parse "ADDR[/PLEN][:PORT[-PORT]]" ("[ADDR[/PLEN]]:PORT[-PORT]" for IPv6
 * with a port) into r.  Host bits of ADDR must be zero.  Returns 0, or -1
 * with a reason in err.
 */
int dp_parse_rule(const char *arg, bool allow, struct dp_rule *r, char *err, size_t errlen);
/** Append a rule.  0, or -1 when DP_MAX_RULES are there. */
int dp_add_rule(struct dstpolicy *p, const struct dp_rule *r);
/** "allow 10.0.0.0/8 port 80-443" into buf. */
char *dp_rule_format(const struct dp_rule *r, char *buf, size_t len);
/**
 * Start watching the host's addresses (netlink).  Returns 0, or -1 with
 * errno: the caller must not serve without it.
 */
int dp_open(struct dstpolicy *p);
void dp_close(struct dstpolicy *p);
/** Descriptor to poll for address changes (-1 before dp_open). */
int dp_fd(const struct dstpolicy *p);
/** After EPOLLIN on dp_fd: re-read the host's addresses.  0 or -1 (errno). */
int dp_process(struct dstpolicy *p);
/** Decide for dst (counted in p->count).  Needs dp_open for the host layers. */
enum dp_verdict dp_check(struct dstpolicy *p, const struct mpt_endpoint *dst);
/** Short reason ("host address", "denied by rule", ...). */
const char *dp_verdict_name(enum dp_verdict v);
/** Whether a is in a built-in refused range (layer 1 without the host). */
bool dp_builtin_refused(const struct mpt_addr *a);

#endif /* MPT_TOOL_DSTPOLICY_H */
