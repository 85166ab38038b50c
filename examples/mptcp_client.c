/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An MPTCP client on mpt's TUN backend that shows its subflows: connects to
 * HOST PORT from the first ADDR, opens subflows from the others (the
 * default "fullmesh" path manager), sends BYTES, reads whatever the server
 * sends until it closes, and prints every subflow once a second and at the
 * end, then every subflow it saw with its last byte counts ("seen": a
 * subflow the peer closes first is freed once CLOSED and leaves the live
 * list).  Needs CAP_NET_ADMIN.
 *
 *   cc mptcp_client.c $(pkg-config --cflags --libs mpt) -o mptcp_client
 *   sudo ./mptcp_client HOST PORT BYTES ADDR/PLEN[,dev=NAME] [ADDR/PLEN...]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpt/backend.h>
#include <mpt/mpt.h>

struct client {
	struct mpt_backend *be;
	struct mpt_sock *s;
	uint64_t to_send, sent, received;
	bool fin_sent, eof, failed;
	uint64_t next_print;
	uint64_t done_at; /* both directions finished (0: not yet) */
	struct seen {
		char name[160]; /* "LOCAL:PORT -> REMOTE:PORT" */
		uint64_t sent, received;
	} seen[32];
	int nseen;
	uint8_t buf[65536];
};

/* Remember every subflow's latest counts (called on every loop turn). */
static void remember_subflows(struct client *c)
{
	struct mpt_subflow_info sf[16];
	int n = mpt_sock_subflows(c->s, sf, 16);
	for (int i = 0; i < n && i < 16; i++) {
		char la[64], ra[64], name[160];
		mpt_addr_format(&sf[i].local.addr, la, sizeof(la));
		mpt_addr_format(&sf[i].remote.addr, ra, sizeof(ra));
		snprintf(name, sizeof(name), "%s:%u -> %s:%u", la, sf[i].local.port, ra,
			 sf[i].remote.port);
		int k = 0;
		while (k < c->nseen && strcmp(c->seen[k].name, name) != 0)
			k++;
		if (k == c->nseen) {
			if (c->nseen == 32)
				continue;
			snprintf(c->seen[k].name, sizeof(c->seen[k].name), "%s", name);
			c->nseen++;
		}
		c->seen[k].sent = sf[i].bytes_sent;
		c->seen[k].received = sf[i].bytes_received;
	}
}

static void print_subflows(const struct client *c, const char *when)
{
	struct mpt_subflow_info sf[16];
	int n = mpt_sock_subflows(c->s, sf, 16);
	printf("%s: %s, sent %" PRIu64 " B, received %" PRIu64 " B, %d subflow(s)\n", when,
	       mpt_sock_mptcp_enabled(c->s) ? "MPTCP" : "TCP (no MPTCP)", c->sent, c->received, n);
	for (int i = 0; i < n && i < 16; i++) {
		char la[64], ra[64];
		mpt_addr_format(&sf[i].local.addr, la, sizeof(la));
		mpt_addr_format(&sf[i].remote.addr, ra, sizeof(ra));
		printf("  [%d] %s:%u -> %s:%u ids %u/%u %-11s srtt %6.2f ms cwnd %6u "
		       "sent %10" PRIu64 " recv %10" PRIu64 " retrans %u%s%s\n",
		       i, la, sf[i].local.port, ra, sf[i].remote.port, sf[i].local_id,
		       sf[i].remote_id, sf[i].state, (double)sf[i].srtt_ns / 1e6, sf[i].cwnd,
		       sf[i].bytes_sent, sf[i].bytes_received, sf[i].retransmits,
		       sf[i].backup ? " backup" : "", sf[i].join ? " (MP_JOIN)" : " (initial)");
	}
	fflush(stdout);
}

static void pump(struct client *c)
{
	uint64_t now = mpt_backend_now();
	while (c->sent < c->to_send) {
		size_t n = sizeof(c->buf);
		if (c->to_send - c->sent < n)
			n = (size_t)(c->to_send - c->sent);
		long w = mpt_send(c->s, c->buf, n, now);
		if (w < 0)
			break;
		c->sent += (uint64_t)w;
	}
	if (c->sent == c->to_send && !c->fin_sent) {
		mpt_shutdown(c->s, now);
		c->fin_sent = true;
	}
	long r;
	while ((r = mpt_recv(c->s, c->buf, sizeof(c->buf), now)) > 0)
		c->received += (uint64_t)r;
	if (r == 0)
		c->eof = true;
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct client *c = ud;
	if (s != c->s)
		return;
	if (ev & MPT_EV_ERROR) {
		fprintf(stderr, "connection: %s\n", mpt_strerror(mpt_sock_error(s)));
		c->failed = true;
		mpt_backend_stop(c->be, 1);
		return;
	}
	if (ev & (MPT_EV_CONNECTED | MPT_EV_WRITABLE | MPT_EV_READABLE))
		pump(c);
}

/* Every subflow has finished its FIN exchange. */
static bool subflows_closed(const struct client *c)
{
	struct mpt_subflow_info sf[16];
	int n = mpt_sock_subflows(c->s, sf, 16);
	for (int i = 0; i < n && i < 16; i++)
		if (strcmp(sf[i].state, "TIME-WAIT") && strcmp(sf[i].state, "CLOSED"))
			return false;
	return true;
}

/* Once a second, the subflows.  When both directions are done, give the
 * subflows up to 2 s to exchange their FINs (leaving at once would have the
 * peer retransmit FINs to addresses that vanish with us), then stop. */
static bool on_idle(void *ud)
{
	struct client *c = ud;
	uint64_t now = mpt_backend_now();
	remember_subflows(c);
	if (now >= c->next_print) {
		print_subflows(c, "now");
		c->next_print = now + MPT_NS_PER_S;
	}
	if (c->eof && c->fin_sent && c->sent == c->to_send) {
		if (!c->done_at)
			c->done_at = now;
		if (subflows_closed(c) || now - c->done_at > 2 * MPT_NS_PER_S)
			mpt_backend_stop(c->be, 0);
	}
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s HOST PORT BYTES ADDR/PLEN[,dev=NAME] [ADDR/PLEN...]\n",
			argv[0]);
		return 2;
	}
	static struct client c;
	struct mpt_backend_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	mpt_stack_cfg_init(&cfg.stack);
	cfg.stack.mptcp.enable = true;
	cfg.stack.on_event = on_event;
	cfg.stack.event_ud = &c;
	char err[256];
	for (int i = 4; i < argc && cfg.n_paths < MPT_BACKEND_MAX_PATHS; i++) {
		if (mpt_path_parse(argv[i], &cfg.paths[cfg.n_paths], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", argv[0], err);
			return 2;
		}
		cfg.n_paths++;
	}
	struct mpt_endpoint dst = {.port = (uint16_t)atoi(argv[2])};
	if (mpt_addr_parse(&dst.addr, argv[1]) < 0) {
		fprintf(stderr, "%s: '%s' is not an IP address\n", argv[0], argv[1]);
		return 2;
	}
	c.to_send = strtoull(argv[3], NULL, 10);
	if (mpt_backend_create(&cfg, &c.be, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	mpt_backend_set_idle(c.be, on_idle, &c);
	int rc =
	    mpt_connect(mpt_backend_stack(c.be), &dst, &cfg.paths[0].addr, mpt_backend_now(), &c.s);
	if (rc < 0) {
		fprintf(stderr, "%s: connect: %s\n", argv[0], mpt_strerror(rc));
		mpt_backend_destroy(c.be);
		return 1;
	}
	c.next_print = mpt_backend_now() + MPT_NS_PER_S;
	rc = mpt_backend_run(c.be);
	print_subflows(&c, "end");
	printf("seen: %d subflow(s)\n", c.nseen);
	for (int i = 0; i < c.nseen; i++)
		printf("  [%d] %s sent %" PRIu64 " recv %" PRIu64 "\n", i, c.seen[i].name,
		       c.seen[i].sent, c.seen[i].received);
	mpt_close(c.s, mpt_backend_now());
	mpt_backend_destroy(c.be);
	return rc == 0 && !c.failed ? 0 : 1;
}
