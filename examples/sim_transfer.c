/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Multipath TCP transfer in mpt's deterministic network simulator: two
 * hosts joined by two 50 Mbit/s links, the client writes 8 MiB, the server
 * reads it; then each subflow's share.  No root, no network: everything
 * runs on the simulator's virtual clock, and the same seed replays exactly.
 *
 *   cc sim_transfer.c $(pkg-config --cflags --libs mpt) -o sim_transfer
 *   ./sim_transfer [MIB]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpt/mpt.h>
#include <mpt/sim.h>
#include <mpt/simhost.h>

struct app {
	struct mpt_sim *sim;
	struct mpt_sock *listener, *client, *server;
	uint64_t to_send, sent, received;
	bool server_eof;
	uint8_t buf[16384];
};

/* Client side: write while the stack takes data, then half-close. */
static void client_write(struct app *a)
{
	uint64_t now = mpt_sim_now(a->sim);
	while (a->sent < a->to_send) {
		size_t n = sizeof(a->buf);
		if (a->to_send - a->sent < n)
			n = (size_t)(a->to_send - a->sent);
		long w = mpt_send(a->client, a->buf, n, now);
		if (w < 0)
			return; /* MPT_ERR_AGAIN: MPT_EV_WRITABLE calls us again */
		a->sent += (uint64_t)w;
	}
	mpt_shutdown(a->client, now); /* FIN (DATA_FIN) after the queued data */
}

static void on_client_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct app *a = ud;
	if (s == a->client && (ev & (MPT_EV_CONNECTED | MPT_EV_WRITABLE)))
		client_write(a);
	if (s == a->client && (ev & MPT_EV_ERROR))
		fprintf(stderr, "client: %s\n", mpt_strerror(mpt_sock_error(s)));
}

static void on_server_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct app *a = ud;
	uint64_t now = mpt_sim_now(a->sim);
	if (s == a->listener && (ev & MPT_EV_ACCEPTABLE) && !a->server)
		a->server = mpt_accept(a->listener);
	if (a->server && (s == a->server || s == a->listener)) {
		long n;
		while ((n = mpt_recv(a->server, a->buf, sizeof(a->buf), now)) > 0)
			a->received += (uint64_t)n;
		if (n == 0)
			a->server_eof = true;
	}
}

static bool done(void *ud)
{
	return ((struct app *)ud)->server_eof;
}

static void set_addr(struct mpt_addr *a, const char *text)
{
	if (mpt_addr_parse(a, text) < 0)
		abort();
}

int main(int argc, char **argv)
{
	struct app *a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	a->to_send = (uint64_t)(argc > 1 ? atof(argv[1]) : 8.0) * 1048576u;
	if (mpt_sim_create(NULL, 1, &a->sim) < 0)
		return 1;

	/* Two hosts, two addresses each: 10.0.N.1 (client), 10.0.N.2 (server). */
	struct mpt_stack_cfg cc, sc;
	mpt_stack_cfg_init(&cc);
	cc.mptcp.enable = true; /* applications opt in to MPTCP */
	cc.n_local = 2;
	set_addr(&cc.local[0], "10.0.1.1");
	set_addr(&cc.local[1], "10.0.2.1");
	sc = cc;
	set_addr(&sc.local[0], "10.0.1.2");
	set_addr(&sc.local[1], "10.0.2.2");
	struct mpt_simhost *client, *server;
	if (mpt_simhost_create(a->sim, "client", &cc, &client) < 0 ||
	    mpt_simhost_create(a->sim, "server", &sc, &server) < 0)
		return 1;
	mpt_simhost_set_app(client, on_client_event, a);
	mpt_simhost_set_app(server, on_server_event, a);

	/* Two links: 50 Mbit/s, 10 ms each way, a queue of 64 packets. */
	for (int i = 0; i < 2; i++) {
		struct mpt_sim_link_cfg l;
		memset(&l, 0, sizeof(l));
		l.rate_bps = 50000000;
		l.delay_ns = 10 * MPT_NS_PER_MS;
		l.queue_pkts = 64;
		if (mpt_sim_connect(a->sim, mpt_simhost_node(client), &cc.local[i],
				    mpt_simhost_node(server), &sc.local[i], &l, &l, NULL, NULL) < 0)
			return 1;
	}

	struct mpt_endpoint dst = {.addr = sc.local[0], .port = 5001};
	struct mpt_endpoint any = {.port = 5001};
	if (mpt_listen(mpt_simhost_stack(server), &any, 4, &a->listener) < 0 ||
	    mpt_connect(mpt_simhost_stack(client), &dst, NULL, 0, &a->client) < 0)
		return 1;
	mpt_sim_run(a->sim, 120 * MPT_NS_PER_S, done, a);

	double secs = (double)mpt_sim_now(a->sim) / 1e9;
	printf("received %" PRIu64 " of %" PRIu64
	       " bytes in %.3f simulated seconds (%.1f Mbit/s)\n",
	       a->received, a->to_send, secs, secs > 0 ? (double)a->received * 8 / secs / 1e6 : 0);
	struct mpt_subflow_info sf[8];
	int n = mpt_sock_subflows(a->client, sf, 8);
	printf("%s, %d subflow(s):\n", mpt_sock_mptcp_enabled(a->client) ? "MPTCP" : "plain TCP",
	       n);
	/* Shares of what the subflows sent (retransmissions and reinjections
	 * included, so the sum exceeds what the application wrote). */
	uint64_t total = 0;
	for (int i = 0; i < n && i < 8; i++)
		total += sf[i].bytes_sent;
	for (int i = 0; i < n && i < 8; i++) {
		char la[64], ra[64];
		mpt_addr_format(&sf[i].local.addr, la, sizeof(la));
		mpt_addr_format(&sf[i].remote.addr, ra, sizeof(ra));
		printf("  %s:%u -> %s:%u  %-11s %7.2f MiB (%4.1f %%)  srtt %.1f ms  %s\n", la,
		       sf[i].local.port, ra, sf[i].remote.port, sf[i].state,
		       (double)sf[i].bytes_sent / 1048576.0,
		       total ? 100.0 * (double)sf[i].bytes_sent / (double)total : 0.0,
		       (double)sf[i].srtt_ns / 1e6, sf[i].join ? "MP_JOIN" : "initial");
	}
	int ok = a->received == a->to_send;
	mpt_close(a->client, mpt_sim_now(a->sim));
	mpt_simhost_destroy(client);
	mpt_simhost_destroy(server);
	mpt_sim_destroy(a->sim);
	free(a);
	return ok ? 0 : 1;
}
