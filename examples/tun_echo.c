/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An echo server on mpt's TUN backend: mpt's own TCP/MPTCP stack answers
 * for ADDR (the kernel only routes ADDR into a TUN device), and every byte a
 * client sends comes back.  Clients may use plain TCP or MPTCP (e.g. a
 * kernel client under mptcpize).  Needs CAP_NET_ADMIN.
 *
 *   cc tun_echo.c $(pkg-config --cflags --libs mpt) -o tun_echo
 *   sudo ./tun_echo 10.1.0.1/24 7000 [CONNECTIONS]
 *
 * Serves one connection at a time; exits after CONNECTIONS of them (default:
 * never).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpt/backend.h>
#include <mpt/mpt.h>

struct echo {
	struct mpt_backend *be;
	struct mpt_sock *listener, *conn;
	uint8_t buf[65536];
	size_t len, off; /* received, not yet echoed */
	bool eof;        /* the client finished sending */
	uint64_t echoed;
	long served, limit;
	bool stopping;
};

/* Read what the client sent and write it back, as far as the send buffer
 * allows; half-close once the client has finished and everything went back. */
static void pump(struct echo *e)
{
	uint64_t now = mpt_backend_now();
	for (;;) {
		if (e->off < e->len) {
			long n = mpt_send(e->conn, e->buf + e->off, e->len - e->off, now);
			if (n < 0)
				return; /* MPT_ERR_AGAIN: wait for MPT_EV_WRITABLE */
			e->off += (size_t)n;
			e->echoed += (uint64_t)n;
			continue;
		}
		if (e->eof)
			return;
		long n = mpt_recv(e->conn, e->buf, sizeof(e->buf), now);
		if (n == MPT_ERR_AGAIN)
			return;
		if (n <= 0) { /* end of stream (or an error: mpt_shutdown reports it) */
			e->eof = true;
			mpt_shutdown(e->conn, now);
			return;
		}
		e->len = (size_t)n;
		e->off = 0;
	}
}

static void finish(struct echo *e)
{
	struct mpt_endpoint remote;
	char ra[64];
	mpt_sock_endpoints(e->conn, NULL, &remote);
	printf("echoed %" PRIu64 " bytes to %s port %u (%s)\n", e->echoed,
	       mpt_addr_format(&remote.addr, ra, sizeof(ra)), remote.port,
	       mpt_sock_mptcp_enabled(e->conn) ? "MPTCP" : "TCP");
	fflush(stdout);
	mpt_close(e->conn, mpt_backend_now());
	e->conn = NULL;
	if (e->limit && ++e->served >= e->limit) {
		mpt_backend_stop(e->be, 0);
		e->stopping = true; /* accept no more */
	}
}

/* The next waiting connection, if any (one at a time). */
static void next_conn(struct echo *e)
{
	if (e->conn || e->stopping)
		return;
	e->conn = mpt_accept(e->listener);
	e->len = e->off = 0;
	e->eof = false;
	e->echoed = 0;
	if (e->conn)
		pump(e);
}

static void on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct echo *e = ud;
	if (s == e->listener) {
		next_conn(e);
		return;
	}
	if (s != e->conn)
		return;
	if (ev & (MPT_EV_READABLE | MPT_EV_WRITABLE))
		pump(e);
	if (ev & (MPT_EV_CLOSED | MPT_EV_ERROR)) {
		finish(e);
		next_conn(e);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s ADDR/PLEN PORT [CONNECTIONS]\n", argv[0]);
		return 2;
	}
	static struct echo e;
	struct mpt_backend_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	mpt_stack_cfg_init(&cfg.stack);
	cfg.stack.mptcp.enable = true;
	cfg.stack.on_event = on_event;
	cfg.stack.event_ud = &e;
	char err[256];
	if (mpt_path_parse(argv[1], &cfg.paths[0], err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	cfg.n_paths = 1;
	e.limit = argc > 3 ? atol(argv[3]) : 0;
	if (mpt_backend_create(&cfg, &e.be, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	struct mpt_endpoint any = {.port = (uint16_t)atoi(argv[2])};
	int rc = mpt_listen(mpt_backend_stack(e.be), &any, 16, &e.listener);
	if (rc < 0) {
		fprintf(stderr, "%s: listen: %s\n", argv[0], mpt_strerror(rc));
		mpt_backend_destroy(e.be);
		return 1;
	}
	printf("echo server on %s port %u (dev %s)\n", argv[1], any.port,
	       mpt_backend_dev_name(e.be, 0));
	fflush(stdout);
	rc = mpt_backend_run(e.be);
	mpt_backend_destroy(e.be);
	return rc < 0 ? 1 : 0;
}
