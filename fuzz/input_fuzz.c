/*
 * libFuzzer target: packet input into an established connection.
 *
 * Two stacks (10.0.0.1 client, 10.0.0.2 server) are connected in memory and
 * exchange some data; then the fuzz input is read as a list of records that
 * act on the server:
 *   0  raw IP packet (anything at all)
 *   1  a TCP segment with the connection's 4-tuple: flags, seq/ack offsets
 *      relative to the server's rcv_nxt/snd_una, window, options, payload —
 *      so the fuzzer reaches the engine's deep paths, not just the demux
 *   2  advance time and run timers
 *   3  application: client sends, server reads
 * Packets the two stacks emit are delivered to each other (bounded).
 * Checksums are not verified in fuzz builds (MPT_FUZZING).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpt/mpt.h"
#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QMAX 64
#define PMAX 2048

struct pkt {
	uint8_t b[PMAX];
	size_t len;
	int to; /* 0 client, 1 server */
};

struct world {
	struct mpt_stack *st[2];
	struct mpt_sock *cs, *ss, *ls;
	struct pkt q[QMAX];
	size_t qn;
	uint64_t now;
	uint64_t rng;
};

static void wrand(uint8_t *buf, size_t len, void *ud)
{
	struct world *w = ud;
	for (size_t i = 0; i < len; i++) {
		w->rng = w->rng * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(w->rng >> 56);
	}
}

static void out_c(void *ud, const uint8_t *p, size_t len)
{
	struct world *w = ud;
	if (w->qn < QMAX && len <= PMAX) {
		memcpy(w->q[w->qn].b, p, len);
		w->q[w->qn].len = len;
		w->q[w->qn].to = 1;
		w->qn++;
	}
}

static void out_s(void *ud, const uint8_t *p, size_t len)
{
	struct world *w = ud;
	if (w->qn < QMAX && len <= PMAX) {
		memcpy(w->q[w->qn].b, p, len);
		w->q[w->qn].len = len;
		w->q[w->qn].to = 0;
		w->qn++;
	}
}

static void on_ev(void *ud, struct mpt_sock *s, unsigned ev)
{
	(void)ud;
	(void)s;
	(void)ev;
}

static void pump(struct world *w)
{
	/* Bounded: an ACK war between the two engines cannot hang the run. */
	for (int steps = 0; steps < 256 && w->qn > 0; steps++) {
		struct pkt p = w->q[0];
		memmove(w->q, w->q + 1, (w->qn - 1) * sizeof(w->q[0]));
		w->qn--;
		(void)mpt_stack_input(w->st[p.to], p.b, p.len, w->now);
	}
	w->qn = 0;
}

static void advance(struct world *w, uint64_t dt)
{
	w->now += dt;
	for (int i = 0; i < 2; i++)
		if (mpt_stack_next_deadline(w->st[i]) <= w->now)
			mpt_stack_on_timer(w->st[i], w->now);
	pump(w);
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->rng = 42;
	w->now = 1000000000ULL;
	for (int i = 0; i < 2; i++) {
		struct mpt_stack_cfg cfg;
		mpt_stack_cfg_init(&cfg);
		cfg.rand = wrand;
		cfg.rand_ud = w;
		cfg.output = i == 0 ? out_c : out_s;
		cfg.output_ud = w;
		cfg.on_event = on_ev;
		cfg.n_local = 1;
		(void)mpt_addr_parse(&cfg.local[0], i == 0 ? "10.0.0.1" : "10.0.0.2");
		cfg.tcp.sndbuf = cfg.tcp.rcvbuf = 64 * 1024;
		cfg.max_socks = 16;
		/* The server takes SYN data (TCP Fast Open) from anyone: SYNs
		 * from the fuzzer reach that path too. */
		if (i == 1)
			cfg.tcp.tfo_server = MPT_TFO_NO_COOKIE;
#ifdef FUZZ_MPTCP
		/* MPTCP on both ends: the fuzzer's option bytes reach the MPTCP
		 * layer (DSS, ADD_ADDR, MP_PRIO, ...) of a live connection. */
		cfg.mptcp.enable = true;
		cfg.mptcp.checksum = (i == 0);
#endif
		if (mpt_stack_create(&cfg, &w->st[i]) < 0)
			abort();
	}
	struct mpt_endpoint l = {.addr = {.family = 0}, .port = 80};
	struct mpt_endpoint r = {.port = 80};
	(void)mpt_addr_parse(&r.addr, "10.0.0.2");
	if (mpt_listen(w->st[1], &l, 4, &w->ls) < 0 ||
	    mpt_connect(w->st[0], &r, NULL, w->now, &w->cs) < 0)
		abort();
	pump(w);
	w->ss = mpt_accept(w->ls);
	if (!w->ss)
		abort();
	static const char hello[] = "hello from the client";
	(void)mpt_send(w->cs, hello, sizeof(hello), w->now);
	pump(w);
	advance(w, 50000000ULL);
	return w;
}

static void world_free(struct world *w)
{
	mpt_stack_destroy(w->st[0]);
	mpt_stack_destroy(w->st[1]);
	free(w);
}

static void inject_segment(struct world *w, const uint8_t *d, size_t n)
{
	if (n < 10)
		return;
	struct mpt_sock_info si;
	if (mpt_sock_info(w->ss, &si) < 0)
		return;
	struct mpt_endpoint le, re;
	mpt_sock_endpoints(w->ss, &le, &re);
	uint16_t flags = d[0];
	uint32_t seq = si.rcv_nxt + (uint32_t)(int16_t)mpt_get16(d + 1);
	uint32_t ack = si.snd_una + (uint32_t)(int16_t)mpt_get16(d + 3);
	uint16_t win = mpt_get16(d + 5);
	size_t optlen = (size_t)(d[7] % 11) * 4;
	d += 8;
	n -= 8;
	if (optlen > n)
		optlen = n & ~(size_t)3;
	uint8_t pkt[PMAX];
	size_t paylen = n - optlen;
	if (paylen > 1400)
		paylen = 1400;
	struct mpt_tcp_hdr th;
	memset(&th, 0, sizeof(th));
	th.sport = re.port;
	th.dport = le.port;
	th.seq = seq;
	th.ack = ack;
	th.flags = flags;
	th.window = win;
	int hl = mpt_tcp_hdr_emit(pkt + 20, sizeof(pkt) - 20, &th, d, optlen);
	if (hl < 0)
		return;
	memcpy(pkt + 20 + hl, d + optlen, paylen);
	struct mpt_ip_hdr ih;
	memset(&ih, 0, sizeof(ih));
	ih.src = re.addr;
	ih.dst = le.addr;
	ih.proto = MPT_IPPROTO_TCP;
	ih.ttl = 64;
	ih.payload_len = (size_t)hl + paylen;
	if (mpt_ip_emit(pkt, 20, &ih) < 0)
		return;
	(void)mpt_stack_input(w->st[1], pkt, 20 + (size_t)hl + paylen, w->now);
	pump(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w = world_new();
	if (!w)
		return 0;
	uint8_t buf[4096];
	while (size >= 3) {
		uint8_t type = data[0] % 4;
		size_t n = mpt_get16(data + 1);
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		switch (type) {
		case 0:
			(void)mpt_stack_input(w->st[1], data, n, w->now);
			pump(w);
			break;
		case 1:
			inject_segment(w, data, n);
			break;
		case 2:
			advance(w, (uint64_t)(n ? data[0] : 1) * 10000000ULL);
			break;
		case 3:
			memset(buf, 'x', sizeof(buf));
			(void)mpt_send(w->cs, buf, n % sizeof(buf), w->now);
			(void)mpt_recv(w->ss, buf, sizeof(buf), w->now);
			pump(w);
			break;
		}
		data += n;
		size -= n;
	}
	world_free(w);
	return 0;
}
