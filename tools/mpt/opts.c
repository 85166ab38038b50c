/* SPDX-License-Identifier: Apache-2.0 */
/* Stack options shared by the real-network subcommands (see opts.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

void mpt_opts_init(struct mpt_tool_opts *o)
{
	memset(o, 0, sizeof(*o));
	mpt_stack_cfg_init(&o->be.stack);
	o->mptcp_version = -1;
	o->max_subflows = -1;
	o->ext_keys = -1;
}

int mpt_opts_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * --ext-key-file: the external key, as hex digits (32..128 of them,
 * whitespace around them ignored: `openssl rand -hex 32 > key`) or as
 * 16..64 raw bytes.  A file that is neither is refused, never truncated.
 */
static int read_ext_key(struct mpt_tool_opts *o, const char *prog, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: --ext-key-file: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	uint8_t buf[160];
	size_t n = fread(buf, 1, sizeof(buf), f);
	bool more = n == sizeof(buf) && fgetc(f) != EOF;
	fclose(f);
	size_t a = 0, b = n;
	while (a < b && (buf[a] == ' ' || buf[a] == '\n' || buf[a] == '\r' || buf[a] == '\t'))
		a++;
	while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\n' || buf[b - 1] == '\r' ||
			 buf[b - 1] == '\t'))
		b--;
	bool hex = !more && b > a && (b - a) % 2 == 0;
	for (size_t i = a; hex && i < b; i++)
		hex = mpt_opts_hexval(buf[i]) >= 0;
	if (hex && (b - a) / 2 >= 16 && (b - a) / 2 <= sizeof(o->ext_key)) {
		o->ext_key_len = (b - a) / 2;
		for (size_t i = 0; i < o->ext_key_len; i++)
			o->ext_key[i] = (uint8_t)(mpt_opts_hexval(buf[a + 2 * i]) << 4 |
						  mpt_opts_hexval(buf[a + 2 * i + 1]));
		return 0;
	}
	if (!hex && !more && n >= 16 && n <= sizeof(o->ext_key)) {
		memcpy(o->ext_key, buf, n);
		o->ext_key_len = n;
		return 0;
	}
	fprintf(stderr,
		"%s: --ext-key-file: %s: not a key (32 to 128 hex digits, or 16 to 64 raw "
		"bytes)\n",
		prog, path);
	return -1;
}

static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* The library's built-in names (mpt_sched_name / mpt_pm_name): one list. */
static bool name_known(const char *name, const char *(*name_at)(size_t))
{
	for (size_t i = 0; name_at(i); i++)
		if (!strcmp(name, name_at(i)))
			return true;
	return false;
}

static void list_names(char *buf, size_t len, const char *(*name_at)(size_t))
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; name_at(i) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", name_at(i));
}

/* --remove-path-after ADDR,SECONDS (seconds may have a fraction, > 0). */
static int parse_remove(struct mpt_tool_opts *o, const char *prog, const char *arg)
{
	char addr[64];
	const char *comma = arg ? strchr(arg, ',') : NULL;
	if (!comma || (size_t)(comma - arg) >= sizeof(addr)) {
		fprintf(stderr, "%s: --remove-path-after: expected ADDR,SECONDS, not '%s'\n", prog,
			arg ? arg : "");
		return -1;
	}
	if (o->n_remove >= MPT_BACKEND_MAX_PATHS) {
		fprintf(stderr, "%s: at most %d --remove-path-after options\n", prog,
			MPT_BACKEND_MAX_PATHS);
		return -1;
	}
	memcpy(addr, arg, (size_t)(comma - arg));
	addr[comma - arg] = '\0';
	struct mpt_addr a;
	if (mpt_addr_parse(&a, addr) < 0) {
		fprintf(stderr, "%s: --remove-path-after: '%s' is not an IPv4 or IPv6 address\n",
			prog, addr);
		return -1;
	}
	char *end;
	errno = 0;
	double secs = strtod(comma + 1, &end);
	if (errno || end == comma + 1 || *end || !(secs >= 0.001 && secs <= 86400)) {
		fprintf(stderr,
			"%s: --remove-path-after: '%s' is not a number of seconds in [0.001, "
			"86400]\n",
			prog, comma + 1);
		return -1;
	}
	o->remove[o->n_remove].addr = a;
	o->remove[o->n_remove].ms = (uint32_t)(secs * 1000.0 + 0.5);
	o->n_remove++;
	return 0;
}

/*
 * --stall-timeout SECONDS (mptcp.stall_timeout_ns): 0 is off, the library's
 * default.  Otherwise at least a millisecond, so that a tiny value is not
 * rounded to 0 and turned off without a word, and at most an hour, as the
 * services' other timeouts: a stuck transfer is given up on long before,
 * and a larger value is more likely a typo than a wish.
 */
#define STALL_TIMEOUT_MAX_S 3600

static int parse_stall_timeout(struct mpt_tool_opts *o, const char *prog, const char *arg)
{
	char *end;
	errno = 0;
	double secs = arg ? strtod(arg, &end) : -1.0;
	if (!arg || errno || end == arg || *end ||
	    !(secs == 0.0 || (secs >= 0.001 && secs <= STALL_TIMEOUT_MAX_S))) {
		fprintf(stderr,
			"%s: --stall-timeout: '%s' is not 0 (off) or a number of seconds in "
			"[0.001, %d]\n",
			prog, arg ? arg : "", STALL_TIMEOUT_MAX_S);
		return -1;
	}
	o->be.stack.mptcp.stall_timeout_ns = (uint64_t)(secs * 1e9 + 0.5);
	return 0;
}

int mpt_opts_handle(struct mpt_tool_opts *o, const char *prog, int code, const char *arg)
{
	unsigned long v;
	switch (code) {
	case MPT_OPT_PATH: {
		if (o->be.n_paths >= MPT_BACKEND_MAX_PATHS) {
			fprintf(stderr, "%s: at most %d --path options\n", prog,
				MPT_BACKEND_MAX_PATHS);
			return -1;
		}
		char err[160];
		if (mpt_path_parse(arg, &o->be.paths[o->be.n_paths], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: --path: %s\n", prog, err);
			return -1;
		}
		o->be.n_paths++;
		return 0;
	}
	case MPT_OPT_VERSION:
		if (!parse_uint(arg, 0, 1, &v)) {
			fprintf(stderr, "%s: --version: MPTCP version must be 0 or 1, not '%s'\n",
				prog, arg);
			return -1;
		}
		o->mptcp_version = (int)v;
		return 0;
	case MPT_OPT_CHECKSUM:
		o->checksum = true;
		return 0;
	case MPT_OPT_NO_MPTCP:
		o->no_mptcp = true;
		return 0;
	case MPT_OPT_SCHED:
		o->sched = arg;
		return 0;
	case MPT_OPT_CC:
		if (!arg || !*arg || strlen(arg) >= MPT_CC_NAME_LEN) {
			fprintf(stderr, "%s: --cc: bad congestion control name '%s'\n", prog,
				arg ? arg : "");
			return -1;
		}
		o->cc = arg;
		return 0;
	case MPT_OPT_PM: {
		/* NAME, or ndiffports,N */
		const char *comma = arg ? strchr(arg, ',') : NULL;
		if (comma) {
			if ((size_t)(comma - arg) != strlen("ndiffports") ||
			    strncmp(arg, "ndiffports", (size_t)(comma - arg)) ||
			    !parse_uint(comma + 1, 1, 32, &v)) {
				fprintf(stderr,
					"%s: --pm: '%s': only ndiffports takes a number "
					"(ndiffports,N with N in [1, 32])\n",
					prog, arg);
				return -1;
			}
			o->ndiffports = (int)v;
			o->pm = "ndiffports";
			return 0;
		}
		o->pm = arg;
		return 0;
	}
	case MPT_OPT_RACE:
		o->race = true;
		return 0;
	case MPT_OPT_NO_OFFLOAD:
		o->be.no_offload = true;
		return 0;
	case MPT_OPT_EXT_KEYS:
		if (arg && !strcmp(arg, "off")) {
			o->ext_keys = MPT_EXT_KEYS_OFF;
		} else if (arg && !strcmp(arg, "offer")) {
			o->ext_keys = MPT_EXT_KEYS_OFFER;
		} else if (arg && !strcmp(arg, "require")) {
			o->ext_keys = MPT_EXT_KEYS_REQUIRE;
		} else {
			fprintf(stderr, "%s: --ext-keys: '%s' is not off, offer or require\n", prog,
				arg ? arg : "");
			return -1;
		}
		return 0;
	case MPT_OPT_EXT_KEY_FILE:
		return read_ext_key(o, prog, arg);
	case MPT_OPT_STALL_TIMEOUT:
		return parse_stall_timeout(o, prog, arg);
	case MPT_OPT_MAX_SUBFLOWS:
		if (!parse_uint(arg, 1, 255, &v)) {
			fprintf(stderr, "%s: --max-subflows: '%s' is not an integer in [1, 255]\n",
				prog, arg);
			return -1;
		}
		o->max_subflows = (int)v;
		return 0;
	case MPT_OPT_PCAP:
		if (!arg || !*arg) {
			fprintf(stderr, "%s: --pcap needs a file name\n", prog);
			return -1;
		}
		o->be.pcap = arg;
		return 0;
	case MPT_OPT_SEED:
		if (!parse_uint(arg, 1, ULONG_MAX, &v)) {
			fprintf(stderr, "%s: --seed: '%s' is not a positive integer\n", prog, arg);
			return -1;
		}
		o->be.seed = v;
		return 0;
	case MPT_OPT_REMOVE_PATH_AFTER:
		return parse_remove(o, prog, arg);
	case MPT_OPT_VERBOSE:
		o->be.verbose++;
		return 0;
	default:
		return 1;
	}
}

static void discard_output(void *ud, const uint8_t *pkt, size_t len)
{
	(void)ud;
	(void)pkt;
	(void)len;
}

/* Whether the stack knows this congestion control: ask it (a throw-away
 * stack that never sends), rather than keeping a second list here. */
static bool cc_known(const char *name)
{
	struct mpt_stack_cfg c;
	mpt_stack_cfg_init(&c);
	c.output = discard_output;
	c.rand = mpt_rand_default;
	snprintf(c.tcp.cc, sizeof(c.tcp.cc), "%s", name);
	struct mpt_stack *st = NULL;
	if (mpt_stack_create(&c, &st) < 0)
		return false;
	mpt_stack_destroy(st);
	return true;
}

int mpt_opts_finish(struct mpt_tool_opts *o, const char *prog)
{
	char names[128];
	if (o->sched && !name_known(o->sched, mpt_sched_name)) {
		list_names(names, sizeof(names), mpt_sched_name);
		fprintf(stderr, "%s: --sched: unknown scheduler '%s' (available: %s)\n", prog,
			o->sched, names);
		return -1;
	}
	if (o->pm && !name_known(o->pm, mpt_pm_name)) {
		list_names(names, sizeof(names), mpt_pm_name);
		fprintf(stderr, "%s: --pm: unknown path manager '%s' (available: %s)\n", prog,
			o->pm, names);
		return -1;
	}
	if (o->cc && !cc_known(o->cc)) {
		fprintf(stderr,
			"%s: --cc: unknown congestion control '%s' (available: cubic, reno, lia, "
			"olia, balia)\n",
			prog, o->cc);
		return -1;
	}
	if (o->be.n_paths == 0) {
		fprintf(stderr,
			"%s: no --path given: at least one ADDR/PLEN is needed (the stack's own "
			"address)\n",
			prog);
		return -1;
	}
	/* A backup path becomes MPT_LOCAL_BACKUP in the stack's local_flags
	 * (the backend does it where paths become local addresses). */
	for (size_t r = 0; r < o->n_remove; r++) {
		size_t i;
		for (i = 0; i < o->be.n_paths; i++)
			if (mpt_addr_equal(&o->be.paths[i].addr, &o->remove[r].addr))
				break;
		if (i == o->be.n_paths) {
			char a[64];
			fprintf(stderr,
				"%s: --remove-path-after: %s is not the address of a --path\n",
				prog, mpt_addr_format(&o->remove[r].addr, a, sizeof(a)));
			return -1;
		}
		o->be.paths[i].remove_after_ms = o->remove[r].ms;
	}
	struct mpt_stack_cfg *c = &o->be.stack;
	if (o->cc)
		snprintf(c->tcp.cc, sizeof(c->tcp.cc), "%s", o->cc);
	c->mptcp.enable = !o->no_mptcp;
	if (o->mptcp_version >= 0)
		c->mptcp.version = (uint8_t)o->mptcp_version;
	c->mptcp.checksum = o->checksum;
	if (o->ext_key_len > 0 && o->ext_keys == MPT_EXT_KEYS_OFF) {
		fprintf(stderr,
			"%s: --ext-key-file with --ext-keys off: the key would never be used\n",
			prog);
		return -1;
	}
	/* A key file alone offers the extension. */
	if (o->ext_keys >= 0)
		c->mptcp.ext_keys = (uint8_t)o->ext_keys;
	else if (o->ext_key_len > 0)
		c->mptcp.ext_keys = MPT_EXT_KEYS_OFFER;
	c->mptcp.ext_key_len = (uint8_t)o->ext_key_len;
	memcpy(c->mptcp.ext_key, o->ext_key, o->ext_key_len);
	if (o->max_subflows > 0)
		c->mptcp.max_subflows = (uint8_t)o->max_subflows;
	if (o->sched)
		snprintf(c->mptcp.sched, sizeof(c->mptcp.sched), "%s", o->sched);
	if (o->pm)
		snprintf(c->mptcp.pm, sizeof(c->mptcp.pm), "%s", o->pm);
	c->mptcp.no_pm = o->pm && !strcmp(o->pm, "none");
	if (o->ndiffports > 0)
		c->mptcp.ndiffports = (uint8_t)o->ndiffports;
	c->mptcp.race = o->race;
	return 0;
}

void mpt_opts_dev_name(const struct mpt_tool_opts *o, size_t i, char *buf, size_t len)
{
	if (i < o->be.n_paths && o->be.paths[i].dev[0])
		snprintf(buf, len, "%s", o->be.paths[i].dev);
	else /* the backend's default name (src/backend/loop.c) */
		snprintf(buf, len, "mpttun%u", (unsigned)(uint8_t)i);
}

int mpt_opts_check_host(const struct mpt_tool_opts *o, const char *prog)
{
	for (size_t i = 0; i < o->be.n_paths; i++) {
		char dev[MPT_DEV_NAME_LEN], err[320], a[64];
		mpt_opts_dev_name(o, i, dev, sizeof(dev));
		int rc = mpt_path_check_host(&o->be.paths[i], dev, err, sizeof(err));
		if (rc == MPT_ERR_UNSUPPORTED && o->be.verbose) /* cannot tell: carry on */
			fprintf(stderr, "%s: warning: %s\n", prog, err);
		if (rc < 0 && rc != MPT_ERR_UNSUPPORTED) {
			fprintf(stderr, "%s: --path %s: %s\n", prog,
				mpt_addr_format(&o->be.paths[i].addr, a, sizeof(a)), err);
			return -1;
		}
	}
	return 0;
}

int mpt_opts_route_check(const struct mpt_tool_opts *o, const struct mpt_addr *local,
			 const struct mpt_endpoint *remote, const char *prog)
{
	for (size_t i = 0; i < o->be.n_paths; i++) {
		if (!mpt_addr_equal(&o->be.paths[i].addr, local))
			continue;
		char dev[MPT_DEV_NAME_LEN], err[320], r[64];
		mpt_opts_dev_name(o, i, dev, sizeof(dev));
		if (mpt_path_route_check(dev, local, &remote->addr, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: cannot connect to %s port %u: %s\n", prog,
				mpt_addr_format(&remote->addr, r, sizeof(r)), remote->port, err);
			return -1;
		}
		return 0;
	}
	return 0;
}

static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

int mpt_opts_check_setup(const struct mpt_tool_opts *o, const char *prog)
{
	int bad = 0;
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < o->be.n_paths; i++) {
		char dev[MPT_DEV_NAME_LEN], err[320], a[64];
		mpt_opts_dev_name(o, i, dev, sizeof(dev));
		mpt_addr_format(&o->be.paths[i].addr, a, sizeof(a));
		v4 |= o->be.paths[i].addr.family == 4;
		v6 |= o->be.paths[i].addr.family == 6;
		int rc = mpt_path_check_host(&o->be.paths[i], dev, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "%s: check: --path %s: %s\n", prog, a, err);
			bad |= rc != MPT_ERR_UNSUPPORTED;
		} else {
			fprintf(stderr, "%s: check: --path %s (dev %s): free for mpt\n", prog, a,
				dev);
		}
	}
	if (v4 && read_sysctl("/proc/sys/net/ipv4/ip_forward") != 1) {
		fprintf(stderr,
			"%s: check: net.ipv4.ip_forward is not 1: what mpt sends is "
			"not forwarded\n",
			prog);
		bad = 1;
	}
	if (v6 && read_sysctl("/proc/sys/net/ipv6/conf/all/forwarding") != 1) {
		fprintf(stderr,
			"%s: check: net.ipv6.conf.all.forwarding is not 1: what mpt sends "
			"is not forwarded\n",
			prog);
		bad = 1;
	}
	if (v4 && (read_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter") == 1 ||
		   read_sysctl("/proc/sys/net/ipv4/conf/default/rp_filter") == 1))
		fprintf(stderr,
			"%s: check: warning: strict reverse-path filtering (rp_filter=1): "
			"answers that come back on another uplink than the main table's "
			"are dropped; use 2 (loose) on the uplinks (docs/deployment.md)\n",
			prog);
	fprintf(stderr, "%s: check: %s\n", prog, bad ? "NOT ready" : "ready");
	return bad ? -1 : 0;
}

void mpt_opts_usage(FILE *f)
{
	fprintf(f,
		"stack options:\n"
		"  --path ADDR/PLEN[,gw=GW][,dev=NAME][,backup][,delay=MS][,loss=PCT][,rate=MBIT]"
		"[,mtu=N]\n"
		"       [,signal][,subflow][,fullmesh]\n"
		"                    a local address of the stack, carried by TUN device NAME\n"
		"                    (created, or attached when it exists; default mpttunN).\n"
		"                    delay/loss/rate emulate the link in both directions.\n"
		"                    gw= is informational (the kernel routes the TUN).\n"
		"                    Repeatable; IPv4 and IPv6.  At least one is required.\n"
		"                    backup: subflows on it are backup (MP_JOIN/MP_PRIO B flag)\n"
		"                    signal/subflow/fullmesh: endpoint flags (--pm endpoints)\n"
		"  --remove-path-after ADDR,SECONDS\n"
		"                    remove path ADDR from the stack SECONDS after start: its\n"
		"                    subflows close and the peer gets REMOVE_ADDR\n"
		"  --no-mptcp        plain TCP (no MP_CAPABLE offered or accepted)\n"
		"  --version 0|1     MPTCP version to offer (default 1)\n"
		"  --checksum        request DSS checksums\n"
		"  --ext-keys off|offer|require\n"
		"                    external keys (draft-baerts-tcpm-mptcpext; default off):\n"
		"                    joins, ADD_ADDR and MP_FASTCLOSE authenticated by a key\n"
		"                    that never crosses the network; require: refuse a peer\n"
		"                    without them (docs/external-keys.md)\n"
		"  --ext-key-file F  the key (32-128 hex digits or 16-64 raw bytes; implies\n"
		"                    --ext-keys offer); the same file on both sides\n"
		"  --max-subflows N  subflows per connection (default 8)\n"
		"  --pm NAME         path manager: fullmesh (default), ndiffports[,N] (N\n"
		"                    subflows over the first path, default 2), endpoints\n"
		"                    (paths flagged signal/subflow/fullmesh/backup, like\n"
		"                    `ip mptcp endpoint`), mobility (one subflow at a time),\n"
		"                    none (no extra subflows, no announcements)\n"
		"  --sched NAME      scheduler: minrtt (default), rr, redundant, ecf\n"
		"  --race            connect: also try the next path when the first SYN gets\n"
		"                    no answer within the initial RTO (happy eyeballs)\n"
		"  --stall-timeout SECONDS\n"
		"                    fail a connection (MP_FASTCLOSE, timed out) whose DATA_ACK\n"
		"                    has not moved for SECONDS while the peer's window is open\n"
		"                    and a subflow acknowledged the byte at DATA_ACK: the peer\n"
		"                    holds data it does not deliver (0: off, the default;\n"
		"                    at most 3600)\n"
		"  --cc NAME         congestion control: cubic (default), reno, lia, olia, balia\n"
		"  --pcap FILE       write what the stack sends and receives (raw IP pcap)\n"
		"  --no-offload      one packet per TUN read and write (no 64 KB\n"
		"                    segmentation/checksum offload super-packets)\n"
		"  --seed N          seed of the emulated loss (default 1)\n"
		"  -v, --verbose     diagnostics on stderr (repeat for more)\n");
}
