/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt onpath`: the transparent, on-path converter (issue 6).  The box is a
 * router between clients and servers; the kernel sends every packet it
 * forwards through the stack's TUN device (policy routing set up by the
 * operator: `ip rule add iif CLIENT_IF lookup T; ip route add default dev
 * mpttun0 table T`, and the same for the server side), and this program
 * decides per flow:
 *
 *  - an MPTCP SYN (MP_CAPABLE) goes on to the server unchanged, and the
 *    flow is "probing";
 *  - the server's SYN/ACK carries MP_CAPABLE: the connection is end-to-end
 *    MPTCP, the box only forwards it ("passthrough");
 *  - the SYN/ACK has no MP_CAPABLE: the server does not speak MPTCP.  The
 *    SYN/ACK is dropped, the server's half-open connection is reset, and
 *    the client's saved SYN goes to the stack (transparent mode: it answers
 *    as the server's address), which terminates MPTCP; the box opens a
 *    plain TCP connection to the server and relays ("converted");
 *  - MP_JOINs to a converted connection's server endpoint go to the stack;
 *  - anything else (plain TCP, other protocols, other flows) is forwarded.
 *
 * IPv4 and IPv6.  The flow table is bounded (--max-flows); entries expire
 * after --idle seconds without packets.  This is a backend application: it
 * calls the clock and the kernel directly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "mpt/backend.h"
#include "mpt/mpt.h"
#include "opts.h"
#include "relay.h"
#include "svc.h"
#include "tool.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

static const char *prog = "mpt onpath";

#define OP_SYN_MAX   1600u /* a SYN kept while probing (options + TFO data) */
#define OP_BUCKETS   8192u
#define OP_FLOWS_DEF 4096u

enum op_state {
	OP_PROBE,   /* MPTCP SYN forwarded, waiting for the server's SYN/ACK */
	OP_PASS,    /* end-to-end MPTCP: forward */
	OP_CONVERT, /* terminated here */
};

/* A flow, keyed by the client's and the server's endpoints. */
struct op_flow {
	bool used;
	enum op_state state;
	struct mpt_endpoint cli, srv;
	uint64_t last; /* last packet seen */
	uint8_t *syn;  /* OP_PROBE: the client's SYN */
	size_t syn_len;
	int next; /* hash chain (-1: end) */
};

/* A converted connection: stack socket + kernel socket. */
struct op_conn {
	struct op *op;
	struct mpt_sock *ms;
	int fd;
	bool connecting, relaying;
	uint64_t deadline;
	struct mpt_endpoint cli, srv;
	struct relay_watch watch;
	struct relay relay;
	struct op_conn *next;
};

struct op {
	struct mpt_backend *be;
	struct mpt_stack *st;
	struct mpt_sock *lsock;
	struct op_flow *flows;
	size_t max_flows, n_flows;
	int buckets[OP_BUCKETS];
	int free_head;
	uint64_t idle_ns;
	uint64_t next_sweep; /* next expiry pass over the flow table */
	size_t bufsize;
	struct op_conn *conns;
	struct svc_signals sig;
	bool quiet;
	struct relay_counters ctr;
	uint64_t probes, passthroughs, conversions, table_full, forwarded, terminated;
};

static void op_usage(FILE *f)
{
	fprintf(f,
		"usage: mpt onpath [options] --path ADDR/PLEN[,dev=NAME]\n"
		"  Transparent on-path converter: MPTCP connections to servers that do not\n"
		"  speak MPTCP are terminated here and relayed over plain TCP; connections\n"
		"  to MPTCP servers pass through.  Route the forwarded traffic into the TUN\n"
		"  device of --path (see docs/proxy-convert.md).\n"
		"  --max-flows N     flows tracked at once (default %u)\n"
		"  --idle S          forget a flow after S seconds without packets (default 300)\n"
		"  --buf BYTES       relay buffer per direction (default %u)\n"
		"  --user NAME       once the TUN device and routes exist, run as NAME with\n"
		"                    no capabilities\n"
		"  --ctl PATH        control socket (default /run/mpt/onpath.PID.sock; none: no\n"
		"                    socket); see mpt ss, mpt nstat, mpt monitor\n"
		"  -q                no per-connection log lines\n"
		"  -h, --help        this text\n",
		OP_FLOWS_DEF, RELAY_BUF_DEFAULT);
	mpt_opts_usage(f);
}

/* ---- flow table ------------------------------------------------------------ */

static uint32_t ep_hash(const struct mpt_endpoint *a, const struct mpt_endpoint *b)
{
	uint32_t h = 2166136261u;
	const struct mpt_endpoint *e[2] = {a, b};
	for (int k = 0; k < 2; k++) {
		size_t n = e[k]->addr.family == 6 ? 16 : 4;
		for (size_t i = 0; i < n; i++)
			h = (h ^ e[k]->addr.bytes[i]) * 16777619u;
		h = (h ^ (e[k]->port & 0xff)) * 16777619u;
		h = (h ^ (uint32_t)(e[k]->port >> 8)) * 16777619u;
	}
	return h % OP_BUCKETS;
}

static bool ep_eq(const struct mpt_endpoint *a, const struct mpt_endpoint *b)
{
	return a->port == b->port && mpt_addr_equal(&a->addr, &b->addr);
}

static struct op_flow *flow_find(struct op *op, const struct mpt_endpoint *cli,
				 const struct mpt_endpoint *srv)
{
	for (int i = op->buckets[ep_hash(cli, srv)]; i >= 0; i = op->flows[i].next) {
		struct op_flow *f = &op->flows[i];
		if (ep_eq(&f->cli, cli) && ep_eq(&f->srv, srv))
			return f;
	}
	return NULL;
}

static void flow_del(struct op *op, struct op_flow *f)
{
	int idx = (int)(f - op->flows);
	int *pp = &op->buckets[ep_hash(&f->cli, &f->srv)];
	while (*pp >= 0 && *pp != idx)
		pp = &op->flows[*pp].next;
	if (*pp == idx)
		*pp = f->next;
	free(f->syn);
	memset(f, 0, sizeof(*f));
	f->next = op->free_head;
	op->free_head = idx;
	op->n_flows--;
}

static struct op_flow *flow_add(struct op *op, const struct mpt_endpoint *cli,
				const struct mpt_endpoint *srv, enum op_state st, uint64_t now)
{
	if (op->free_head < 0) {
		op->table_full++;
		return NULL;
	}
	int idx = op->free_head;
	struct op_flow *f = &op->flows[idx];
	op->free_head = f->next;
	memset(f, 0, sizeof(*f));
	f->used = true;
	f->state = st;
	f->cli = *cli;
	f->srv = *srv;
	f->last = now;
	uint32_t h = ep_hash(cli, srv);
	f->next = op->buckets[h];
	op->buckets[h] = idx;
	op->n_flows++;
	return f;
}

/* ---- packets ----------------------------------------------------------------- */

struct op_pkt {
	struct mpt_ip_hdr ip;
	struct mpt_tcp_hdr th;
	struct mpt_tcp_opts opts;
	struct mpt_endpoint src, dst;
	bool mpc, join;
};

static bool parse_pkt(const uint8_t *pkt, size_t len, struct op_pkt *p)
{
	memset(p, 0, sizeof(*p));
	if (mpt_ip_parse(&p->ip, pkt, len, false) < 0 || p->ip.proto != MPT_IPPROTO_TCP)
		return false;
	if (p->ip.hdr_len + p->ip.payload_len > len)
		return false;
	const uint8_t *tp = pkt + p->ip.hdr_len;
	if (mpt_tcp_hdr_parse(&p->th, tp, p->ip.payload_len) < 0 ||
	    mpt_tcp_opts_parse(&p->opts, p->th.opt, p->th.opt_len) < 0)
		return false;
	p->src = (struct mpt_endpoint){.addr = p->ip.src, .port = p->th.sport};
	p->dst = (struct mpt_endpoint){.addr = p->ip.dst, .port = p->th.dport};
	for (size_t i = 0; i < p->opts.n_mptcp; i++) {
		const uint8_t *o = p->th.opt + p->opts.mptcp[i].off;
		if (p->opts.mptcp[i].len < 3)
			continue;
		uint8_t subtype = o[2] >> 4; /* RFC 8684 §3: subtype in the high nibble */
		p->mpc = p->mpc || subtype == MPT_MPTCP_MP_CAPABLE;
		p->join = p->join || subtype == MPT_MPTCP_MP_JOIN;
	}
	return true;
}

/* Reset the server's half-open connection: a RST from the client's
 * endpoint with the sequence number the server's SYN/ACK acknowledged. */
static void reset_server(struct op *op, size_t dev, const struct op_pkt *synack)
{
	uint8_t pkt[80];
	struct mpt_tcp_hdr th;
	memset(&th, 0, sizeof(th));
	th.sport = synack->th.dport;
	th.dport = synack->th.sport;
	th.seq = synack->th.ack;
	th.flags = MPT_TCP_RST;
	size_t hl = mpt_ip_hdr_len(synack->ip.src.family);
	int tl = mpt_tcp_hdr_emit(pkt + hl, sizeof(pkt) - hl, &th, NULL, 0);
	if (hl == 0 || tl < 20)
		return;
	struct mpt_ip_hdr ih;
	memset(&ih, 0, sizeof(ih));
	ih.src = synack->ip.dst;
	ih.dst = synack->ip.src;
	ih.proto = MPT_IPPROTO_TCP;
	ih.ttl = 64;
	ih.payload_len = (size_t)tl;
	mpt_tcp_csum_fill(pkt + hl, (size_t)tl, &ih.src, &ih.dst);
	if (mpt_ip_emit(pkt, hl, &ih) < 0)
		return;
	mpt_backend_send_raw(op->be, dev, pkt, hl + (size_t)tl);
}

static enum mpt_backend_verdict filter(void *ud, size_t dev, const uint8_t *pkt, size_t len,
				       uint64_t now)
{
	struct op *op = ud;
	struct op_pkt p;
	if (!parse_pkt(pkt, len, &p)) {
		op->forwarded++;
		return MPT_BE_FORWARD;
	}
	uint16_t fl = p.th.flags;
	bool syn = (fl & (MPT_TCP_SYN | MPT_TCP_ACK)) == MPT_TCP_SYN;
	bool synack = (fl & (MPT_TCP_SYN | MPT_TCP_ACK)) == (MPT_TCP_SYN | MPT_TCP_ACK);
	/* Client -> server direction first, then server -> client. */
	struct op_flow *f = flow_find(op, &p.src, &p.dst);
	bool from_client = f != NULL;
	if (!f)
		f = flow_find(op, &p.dst, &p.src);
	if (f)
		f->last = now;
	if (!f && syn && p.mpc) {
		f = flow_add(op, &p.src, &p.dst, OP_PROBE, now);
		if (f) {
			f->syn = malloc(len);
			if (f->syn) {
				memcpy(f->syn, pkt, len);
				f->syn_len = len;
				/* Kept for the stack, which may get it later through
				 * mpt_backend_deliver, without this read's offload
				 * flags: a SYN forwarded from a veth comes with a
				 * partial checksum (the kernel left it to the
				 * device), which the stack would drop as corrupt and
				 * answer only the client's retransmission a second
				 * later.  Complete it now. */
				mpt_tcp_csum_fill(f->syn + p.ip.hdr_len, p.ip.payload_len,
						  &p.ip.src, &p.ip.dst);
				op->probes++;
			} else {
				flow_del(op, f);
			}
		}
		op->forwarded++;
		return MPT_BE_FORWARD;
	}
	if (!f && syn && p.join) {
		/* A join to a converted connection's server endpoint is ours:
		 * its token lives in our stack.  (The endpoint match stands in
		 * for a token lookup: a passthrough server keeps its own.) */
		for (size_t i = 0; i < op->max_flows; i++) {
			struct op_flow *c = &op->flows[i];
			if (c->used && c->state == OP_CONVERT && ep_eq(&c->srv, &p.dst)) {
				f = flow_add(op, &p.src, &p.dst, OP_CONVERT, now);
				break;
			}
		}
		if (f) {
			op->terminated++;
			return MPT_BE_STACK;
		}
	}
	if (!f) {
		op->forwarded++;
		return MPT_BE_FORWARD;
	}
	switch (f->state) {
	case OP_PROBE:
		if (!from_client && synack) {
			if (p.mpc) {
				/* RFC 8684 end to end: nothing for us to do. */
				f->state = OP_PASS;
				free(f->syn);
				f->syn = NULL;
				op->passthroughs++;
				op->ctr.passthroughs++;
				op->forwarded++;
				return MPT_BE_FORWARD;
			}
			/* The server has no MPTCP: terminate here. */
			f->state = OP_CONVERT;
			op->conversions++;
			reset_server(op, dev, &p);
			mpt_backend_deliver(op->be, f->syn, f->syn_len);
			free(f->syn);
			f->syn = NULL;
			op->terminated++;
			return MPT_BE_DROP;
		}
		if (!from_client && (fl & MPT_TCP_RST))
			flow_del(op, f); /* refused: nothing to convert */
		op->forwarded++;
		return MPT_BE_FORWARD;
	case OP_PASS:
		if (fl & MPT_TCP_RST)
			flow_del(op, f);
		op->forwarded++;
		return MPT_BE_FORWARD;
	case OP_CONVERT:
		if (!from_client) {
			/* The server's late answers to the reset attempt. */
			return MPT_BE_DROP;
		}
		op->terminated++;
		return MPT_BE_STACK;
	}
	return MPT_BE_FORWARD;
}

/* ---- converted connections -------------------------------------------------- */

/* Reset the client's side (mpt monitor hears of it first). */
static void abort_ms(struct mpt_sock *s)
{
	ctl_server_sock_closing(s);
	mpt_abort(s, mpt_backend_now());
}

static void conn_free(struct op_conn *c)
{
	if (c->fd >= 0) {
		relay_poller_del(c->fd);
		close(c->fd);
	}
	if (c->ms)
		abort_ms(c->ms);
	free(c);
}

static void start_relay(struct op_conn *c)
{
	struct op *op = c->op;
	relay_poller_del(c->fd);
	c->watch.fn = NULL;
	if (relay_init(&c->relay, op->be, c->ms, c->fd, op->bufsize) < 0) {
		op->ctr.local_errors++;
		abort_ms(c->ms);
		c->ms = NULL;
		close(c->fd);
		c->fd = -1;
		return;
	}
	char cl[64], sv[64];
	snprintf(c->relay.tag, sizeof(c->relay.tag), "%s -> %s",
		 relay_fmt_ep(&c->cli, cl, sizeof(cl)), relay_fmt_ep(&c->srv, sv, sizeof(sv)));
	op->ctr.conversions++;
	c->relaying = true;
	c->connecting = false;
	c->fd = -1;
	c->ms = NULL;
	relay_start(&c->relay);
}

static void on_connect_fd(void *ud, uint32_t events)
{
	struct op_conn *c = ud;
	if (!c->connecting)
		return;
	int err = svc_connect_result(c->fd, events);
	if (err < 0)
		return;
	if (err == 0) {
		start_relay(c);
		return;
	}
	/* The server is gone since it answered the probe: the client sees a
	 * reset (what it would have seen from the server). */
	c->op->ctr.local_errors++;
	c->connecting = false;
	relay_poller_del(c->fd);
	close(c->fd);
	c->fd = -1;
	abort_ms(c->ms);
	c->ms = NULL;
}

static void accept_all(struct op *op)
{
	struct mpt_sock *s;
	while ((s = mpt_accept(op->lsock)) != NULL) {
		op->ctr.accepted++;
		struct op_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			abort_ms(s);
			op->ctr.local_errors++;
			continue;
		}
		c->op = op;
		c->ms = s;
		c->fd = -1;
		mpt_sock_endpoints(s, &c->srv, &c->cli);
		mpt_sock_set_user(s, c);
		c->next = op->conns;
		op->conns = c;
		/* The same destination the client asked for, from the box's
		 * own address (the kernel picks it). */
		int fd;
		int err = svc_connect(&c->srv, false, &fd);
		if (err != 0 && err != EINPROGRESS) {
			if (fd >= 0)
				close(fd);
			op->ctr.local_errors++;
			abort_ms(s);
			c->ms = NULL;
			continue;
		}
		c->fd = fd;
		c->connecting = true;
		c->deadline = mpt_backend_now() + 10 * MPT_NS_PER_S;
		c->watch.fn = on_connect_fd;
		c->watch.ud = c;
		if (relay_poller_add(fd, EPOLLOUT, &c->watch) < 0)
			on_connect_fd(c, EPOLLERR);
	}
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct op *op = ud;
	ctl_server_on_event(s, ev); /* path-manager events for mpt monitor */
	if (s == op->lsock) {
		if (ev & MPT_EV_ACCEPTABLE)
			accept_all(op);
		return;
	}
	struct op_conn *c = mpt_sock_get_user(s);
	if (!c)
		return;
	if (c->relaying)
		relay_on_mpt_event(&c->relay, ev);
	else if (c->connecting && (ev & MPT_EV_ERROR)) {
		c->connecting = false;
		abort_ms(c->ms);
		c->ms = NULL;
	}
}

static bool on_idle(void *ud)
{
	struct op *op = ud;
	uint64_t now = mpt_backend_now();
	struct op_conn **pp = &op->conns;
	while (*pp) {
		struct op_conn *c = *pp;
		if (c->connecting && now >= c->deadline)
			on_connect_fd(c, EPOLLERR);
		bool done = c->relaying ? relay_done(&c->relay) : !c->connecting;
		if (!done) {
			pp = &c->next;
			continue;
		}
		if (c->relaying) {
			relay_account(&op->ctr, &c->relay, op->quiet ? NULL : prog);
			relay_free(&c->relay);
		}
		*pp = c->next;
		conn_free(c);
	}
	/* Expire idle flows (a probe whose server never answered, finished
	 * passthrough and converted connections). */
	if (now >= op->next_sweep) {
		op->next_sweep = now + MPT_NS_PER_S;
		for (size_t i = 0; i < op->max_flows; i++) {
			struct op_flow *f = &op->flows[i];
			uint64_t idle = f->state == OP_PROBE ? 10 * MPT_NS_PER_S : op->idle_ns;
			if (f->used && now - f->last > idle)
				flow_del(op, f);
		}
	}
	return false;
}

/* The control server's view of our connections (mpt ss): the listener and
 * every converted connection's MPTCP side still open (passthrough flows are
 * forwarded, not terminated: they have no socket here). */
static size_t list_socks(void *ud, struct mpt_sock **out, size_t max)
{
	const struct op *op = ud;
	size_t n = 0;
	if (op->lsock && n < max)
		out[n++] = op->lsock;
	for (const struct op_conn *c = op->conns; c && n < max; c = c->next) {
		struct mpt_sock *s = c->relaying ? c->relay.ms : c->ms;
		if (s)
			out[n++] = s;
	}
	return n;
}

static void op_counters_print(void *ud)
{
	const struct op *op = ud;
	fprintf(stderr,
		"%s: counter flows %zu\n%s: counter probes %llu\n%s: counter passthroughs %llu\n"
		"%s: counter conversions %llu\n%s: counter flow-table-full %llu\n"
		"%s: counter pkts-forwarded %llu\n%s: counter pkts-terminated %llu\n",
		prog, op->n_flows, prog, (unsigned long long)op->probes, prog,
		(unsigned long long)op->passthroughs, prog, (unsigned long long)op->conversions,
		prog, (unsigned long long)op->table_full, prog, (unsigned long long)op->forwarded,
		prog, (unsigned long long)op->terminated);
	relay_counters_print(&op->ctr, prog);
}

int mpt_cmd_onpath(int argc, char **argv)
{
	static const struct option lopts[] = {{"max-flows", required_argument, NULL, 'F'},
					      {"idle", required_argument, NULL, 'I'},
					      {"buf", required_argument, NULL, 'B'},
					      {"help", no_argument, NULL, 'h'},
					      {"user", required_argument, NULL, 'U'},
					      {"ctl", required_argument, NULL, 'C'},
					      MPT_STACK_LONGOPTS,
					      {NULL, 0, NULL, 0}};
	struct mpt_tool_opts o;
	mpt_opts_init(&o);
	struct op op;
	memset(&op, 0, sizeof(op));
	op.max_flows = OP_FLOWS_DEF;
	op.idle_ns = 300 * MPT_NS_PER_S;
	op.bufsize = RELAY_BUF_DEFAULT;
	op.sig.fd = -1;
	struct svc_user user = {0};
	const char *ctl_path = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "qh" MPT_STACK_SHORTOPTS, lopts, NULL)) != -1) {
		unsigned long v;
		switch (ch) {
		case 'F':
			if (svc_parse_ulong(prog, "--max-flows", optarg, 1, 1000000, "", "", &v) <
			    0)
				return 2;
			op.max_flows = v;
			break;
		case 'I':
			if (svc_parse_ulong(prog, "--idle", optarg, 1, 86400, "seconds ", "", &v) <
			    0)
				return 2;
			op.idle_ns = v * MPT_NS_PER_S;
			break;
		case 'B':
			if (svc_parse_ulong(prog, "--buf", optarg, RELAY_BUF_MIN, RELAY_BUF_MAX, "",
					    "", &v) < 0)
				return 2;
			op.bufsize = v;
			break;
		case 'q':
			op.quiet = true;
			break;
		case 'U':
			if (svc_user_parse(prog, optarg, &user) < 0)
				return 2;
			break;
		case 'C':
			ctl_path = optarg;
			break;
		case 'h':
			op_usage(stdout);
			return 0;
		default:
			if (svc_stack_opt(&o, prog, ch, optarg, op_usage))
				return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		return 2;
	}
	if (mpt_opts_finish(&o, prog) < 0)
		return 2;
	/* Terminate as the servers' addresses; announce nothing (the client
	 * reaches the server's address over each of its paths). */
	o.be.stack.transparent = true;
	o.be.stack.mptcp.enable = true;
	o.be.stack.mptcp.no_pm = true;
	o.be.stack.on_event = on_event;
	o.be.stack.event_ud = &op;
	op.flows = calloc(op.max_flows, sizeof(*op.flows));
	if (!op.flows) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	for (size_t i = 0; i < OP_BUCKETS; i++)
		op.buckets[i] = -1;
	for (size_t i = 0; i < op.max_flows; i++)
		op.flows[i].next = i + 1 < op.max_flows ? (int)(i + 1) : -1;
	op.free_head = 0;
	char err[256];
	int rc = mpt_backend_create(&o.be, &op.be, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		free(op.flows);
		return 1;
	}
	op.st = mpt_backend_stack(op.be);
	struct mpt_endpoint any = {.port = 0};
	int status = 1;
	if (mpt_listen(op.st, &any, 1024, &op.lsock) < 0) {
		fprintf(stderr, "%s: cannot listen (transparent stack)\n", prog);
		goto out;
	}
	if (relay_poller_init(op.be) < 0) {
		fprintf(stderr, "%s: epoll: %s\n", prog, strerror(errno));
		goto out;
	}
	if (svc_signals_open(&op.sig, prog) < 0)
		goto out;
	if (svc_signals_watch(&op.sig, op.be, op_counters_print, &op) < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(errno));
		goto out;
	}
	/* Before the privileges go: /run/mpt is root's. */
	if (ctl_server_open(op.be, op.st, "onpath", ctl_path, list_socks, &op, prog) < 0)
		goto out;
	/* The TUN device, its routes and every descriptor exist: the box
	 * forwards and terminates through them without any privilege. */
	if (svc_drop_privileges(prog, &user, 0) < 0)
		goto out;
	mpt_backend_set_filter(op.be, filter, &op);
	mpt_backend_set_idle(op.be, on_idle, &op);
	if (o.be.verbose)
		fprintf(stderr, "%s: running on %s\n", prog, mpt_backend_dev_name(op.be, 0));
	status = mpt_backend_run(op.be) < 0 ? 1 : 0;
	op_counters_print(&op);
out:
	while (op.conns) {
		struct op_conn *c = op.conns;
		op.conns = c->next;
		if (c->relaying) {
			relay_abort(&c->relay);
			relay_free(&c->relay);
		}
		conn_free(c);
	}
	for (size_t i = 0; i < op.max_flows; i++)
		free(op.flows[i].syn);
	free(op.flows);
	ctl_server_close();
	relay_poller_fini(op.be);
	svc_signals_close(&op.sig);
	mpt_backend_destroy(op.be);
	return status;
}
