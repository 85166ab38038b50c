/* SPDX-License-Identifier: Apache-2.0 */
/* A simulator node running a stack, and a bulk-transfer application. */
#include <string.h>

#include <openssl/evp.h>

#include "base/splitmix.h"
#include "common.h"
#include "mpt/simhost.h"
#include "wire/bytes.h"
#include "wire/gso.h"

struct mpt_simhost {
	struct mpt_sim *sim;
	struct mpt_sim_node *node;
	struct mpt_stack *st;
	const struct mpt_mem *mem;
	void (*app_fn)(void *ud, struct mpt_sock *s, unsigned events);
	void *app_ud;
	uint8_t gso_buf[MPT_SIM_MAX_PKT]; /* software segmentation (cfg.tso_max) */
};

static void host_output(void *ud, const uint8_t *pkt, size_t len)
{
	struct mpt_simhost *h = ud;
	(void)mpt_sim_send(h->sim, h->node, pkt, len);
}

static void host_emit(void *ud, const uint8_t *pkt, size_t len)
{
	struct mpt_simhost *h = ud;
	(void)mpt_sim_send(h->sim, h->node, pkt, len);
}

/* A stack with segmentation offload: the "device" cuts its super-segments
 * in software, so that the links see ordinary segments. */
static void host_output_ex(void *ud, const uint8_t *pkt, size_t len, const struct mpt_out_meta *m)
{
	struct mpt_simhost *h = ud;
	if (!m->csum_partial && m->gso_size == 0) {
		host_emit(h, pkt, len);
		return;
	}
	(void)mpt_gso_segment(pkt, len, m->l3_len, m->gso_size, h->gso_buf, sizeof(h->gso_buf),
			      host_emit, h);
}

static void host_event(void *ud, struct mpt_sock *s, unsigned events)
{
	struct mpt_simhost *h = ud;
	if (h->app_fn)
		h->app_fn(h->app_ud, s, events);
}

static void node_input(void *ud, unsigned ifindex, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct mpt_simhost *h = ud;
	MPT_UNUSED(ifindex);
	(void)mpt_stack_input(h->st, pkt, len, now);
}

static uint64_t node_deadline(void *ud)
{
	struct mpt_simhost *h = ud;
	return mpt_stack_next_deadline(h->st);
}

static void node_timer(void *ud, uint64_t now)
{
	struct mpt_simhost *h = ud;
	mpt_stack_on_timer(h->st, now);
}

static const struct mpt_sim_node_ops host_ops = {
    .input = node_input,
    .next_deadline = node_deadline,
    .on_timer = node_timer,
};

int mpt_simhost_create(struct mpt_sim *sim, const char *name, const struct mpt_stack_cfg *cfg,
		       struct mpt_simhost **out)
{
	if (!sim || !cfg || !out)
		return MPT_ERR_INVAL;
	const struct mpt_mem *mem = cfg->mem ? cfg->mem : mpt_mem_default();
	struct mpt_simhost *h = mpt_calloc(mem, 1, sizeof(*h));
	if (!h)
		return MPT_ERR_NOMEM;
	h->sim = sim;
	h->mem = mem;
	struct mpt_stack_cfg c = *cfg;
	c.output = host_output;
	c.output_ex = c.tso_max || c.csum_offload ? host_output_ex : NULL;
	c.output_ud = h;
	c.rand = mpt_sim_rand;
	c.rand_ud = sim;
	c.on_event = host_event;
	c.event_ud = h;
	int rc = mpt_stack_create(&c, &h->st);
	if (rc == 0)
		rc = mpt_sim_add_node(sim, name, &host_ops, h, &h->node);
	if (rc < 0) {
		mpt_stack_destroy(h->st);
		mpt_free(mem, h);
		return rc;
	}
	*out = h;
	return 0;
}

void mpt_simhost_destroy(struct mpt_simhost *h)
{
	if (!h)
		return;
	mpt_stack_destroy(h->st);
	mpt_free(h->mem, h);
}

struct mpt_stack *mpt_simhost_stack(const struct mpt_simhost *h)
{
	return h->st;
}

struct mpt_sim_node *mpt_simhost_node(const struct mpt_simhost *h)
{
	return h->node;
}

struct mpt_sim *mpt_simhost_sim(const struct mpt_simhost *h)
{
	return h->sim;
}

void mpt_simhost_set_app(struct mpt_simhost *h,
			 void (*fn)(void *ud, struct mpt_sock *s, unsigned events), void *ud)
{
	h->app_fn = fn;
	h->app_ud = ud;
}

/* ---- bulk transfer ------------------------------------------------------ */

#define BULK_CHUNK_DEFAULT (64u * 1024u)
#define BULK_CHUNK_MAX     (1024u * 1024u)

struct mpt_bulk {
	struct mpt_simhost *client, *server;
	struct mpt_bulk_cfg cfg;
	struct mpt_sock *lsock, *csock, *ssock;
	EVP_MD_CTX *tx, *rx;
	struct mpt_bulk_result res;
	bool fin_sent;
	uint8_t *buf;    /* receive scratch */
	uint8_t *txbuf;  /* generated pattern not yet accepted by mpt_send */
	uint64_t tx_off; /* stream offset of txbuf[0] */
	size_t tx_len;
};

/* Pattern byte stream: 8-byte block i is the first splitmix64 output from
 * state seed + i, so any offset can be regenerated when a write was only
 * partly accepted. */
static uint64_t pattern_block(uint64_t seed, uint64_t i)
{
	uint64_t state = seed + i;

	return mpt_splitmix64(&state);
}

static void pattern(uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
	while (len > 0) {
		uint8_t blk[8];
		mpt_put64(blk, pattern_block(seed, off / 8));
		size_t skip = (size_t)(off % 8), n = MPT_MIN(len, 8 - skip);
		memcpy(buf, blk + skip, n);
		buf += n;
		off += n;
		len -= n;
	}
}

static uint64_t sim_now(const struct mpt_bulk *b)
{
	return mpt_sim_now(mpt_simhost_sim(b->client));
}

static void client_pump(struct mpt_bulk *b)
{
	uint64_t now = sim_now(b);
	while (b->csock && b->res.sent < b->cfg.bytes) {
		/* Generate a chunk once; partial writes consume it piecewise
		 * (regenerating per write cost more than the whole engine). */
		size_t used = (size_t)(b->res.sent - b->tx_off);
		if (used >= b->tx_len) {
			b->tx_off = b->res.sent;
			b->tx_len =
			    (size_t)MPT_MIN((uint64_t)b->cfg.chunk, b->cfg.bytes - b->res.sent);
			pattern(b->cfg.seed, b->tx_off, b->txbuf, b->tx_len);
			used = 0;
		}
		long rc = mpt_send(b->csock, b->txbuf + used, b->tx_len - used, now);
		if (rc <= 0) {
			if (rc != MPT_ERR_AGAIN)
				b->res.client_err = (int)rc;
			return;
		}
		EVP_DigestUpdate(b->tx, b->txbuf + used, (size_t)rc);
		b->res.sent += (uint64_t)rc;
	}
	if (b->csock && !b->fin_sent && b->res.sent == b->cfg.bytes) {
		b->fin_sent = true;
		(void)mpt_shutdown(b->csock, now);
	}
}

static void client_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct mpt_bulk *b = ud;
	if (s != b->csock)
		return;
	if ((ev & MPT_EV_CONNECTED) && !b->res.t_connected)
		b->res.t_connected = sim_now(b);
	if (ev & MPT_EV_ERROR)
		b->res.client_err = mpt_sock_error(s);
	if (ev & (MPT_EV_CONNECTED | MPT_EV_WRITABLE))
		client_pump(b);
}

static void finish_rx(struct mpt_bulk *b)
{
	unsigned int n = 0;
	b->res.done = true;
	b->res.t_done = sim_now(b);
	EVP_DigestFinal_ex(b->rx, b->res.rx_sha256, &n);
	EVP_DigestFinal_ex(b->tx, b->res.tx_sha256, &n);
	b->res.intact = b->res.received == b->cfg.bytes && b->res.sent == b->cfg.bytes &&
			memcmp(b->res.rx_sha256, b->res.tx_sha256, 32) == 0;
}

static void server_read(struct mpt_bulk *b)
{
	uint64_t now = sim_now(b);
	while (b->ssock && !b->res.done) {
		long rc = mpt_recv(b->ssock, b->buf, b->cfg.chunk, now);
		if (rc > 0) {
			EVP_DigestUpdate(b->rx, b->buf, (size_t)rc);
			b->res.received += (uint64_t)rc;
			continue;
		}
		if (rc == 0) {
			finish_rx(b);
			struct mpt_sock *s = b->ssock;
			b->ssock = NULL;
			mpt_close(s, now);
		} else if (rc != MPT_ERR_AGAIN) {
			b->res.server_err = (int)rc;
		}
		return;
	}
}

static void server_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	struct mpt_bulk *b = ud;
	if (s == b->lsock && (ev & MPT_EV_ACCEPTABLE)) {
		struct mpt_sock *c;
		while ((c = mpt_accept(b->lsock)) != NULL) {
			if (b->ssock) {
				mpt_abort(c, sim_now(b)); /* one transfer at a time */
				continue;
			}
			b->ssock = c;
			server_read(b); /* data may have arrived before accept */
		}
		return;
	}
	if (s != b->ssock)
		return;
	if (ev & MPT_EV_ERROR)
		b->res.server_err = mpt_sock_error(s);
	if (ev & MPT_EV_READABLE)
		server_read(b);
}

int mpt_bulk_start(struct mpt_simhost *client, struct mpt_simhost *server,
		   const struct mpt_endpoint *dst, const struct mpt_bulk_cfg *cfg,
		   struct mpt_bulk **out)
{
	if (!client || !server || !dst || !cfg || !out || cfg->chunk > BULK_CHUNK_MAX)
		return MPT_ERR_INVAL;
	const struct mpt_mem *mem = client->mem;
	struct mpt_bulk *b = mpt_calloc(mem, 1, sizeof(*b));
	if (!b)
		return MPT_ERR_NOMEM;
	b->client = client;
	b->server = server;
	b->cfg = *cfg;
	if (!b->cfg.chunk)
		b->cfg.chunk = BULK_CHUNK_DEFAULT;
	b->buf = mpt_malloc(mem, b->cfg.chunk);
	b->txbuf = mpt_malloc(mem, b->cfg.chunk);
	b->tx = EVP_MD_CTX_new();
	b->rx = EVP_MD_CTX_new();
	if (!b->buf || !b->txbuf || !b->tx || !b->rx ||
	    !EVP_DigestInit_ex(b->tx, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(b->rx, EVP_sha256(), NULL)) {
		mpt_bulk_destroy(b);
		return MPT_ERR_NOMEM;
	}
	mpt_simhost_set_app(client, client_event, b);
	mpt_simhost_set_app(server, server_event, b);
	struct mpt_endpoint any = {.addr = {.family = 0}, .port = dst->port};
	int rc = mpt_listen(mpt_simhost_stack(server), &any, 16, &b->lsock);
	if (rc == 0)
		rc = mpt_connect_ex(mpt_simhost_stack(client), dst, NULL, cfg->conn_opts,
				    sim_now(b), &b->csock);
	if (rc < 0) {
		mpt_bulk_destroy(b);
		return rc;
	}
	mpt_sim_node_kick(mpt_simhost_sim(client), mpt_simhost_node(client));
	*out = b;
	return 0;
}

bool mpt_bulk_done(void *bulk)
{
	const struct mpt_bulk *b = bulk;
	return b->res.done || b->res.client_err || b->res.server_err ||
	       (b->res.aborted && (!b->csock || !b->ssock) && (!b->csock || b->res.client_err));
}

uint64_t mpt_bulk_received(const struct mpt_bulk *b)
{
	return b->res.received;
}

void mpt_bulk_result(const struct mpt_bulk *b, struct mpt_bulk_result *out)
{
	*out = b->res;
}

struct mpt_sock *mpt_bulk_client_sock(const struct mpt_bulk *b)
{
	return b->csock;
}

struct mpt_sock *mpt_bulk_server_sock(const struct mpt_bulk *b)
{
	return b->ssock;
}

void mpt_bulk_abort(struct mpt_bulk *b, bool server, uint64_t now)
{
	struct mpt_sock **sp = server ? &b->ssock : &b->csock;
	struct mpt_sock *s = *sp;
	if (!s)
		return;
	*sp = NULL;
	b->res.aborted = true;
	mpt_abort(s, now);
}

void mpt_bulk_destroy(struct mpt_bulk *b)
{
	if (!b)
		return;
	if (b->client)
		mpt_simhost_set_app(b->client, NULL, NULL);
	if (b->server)
		mpt_simhost_set_app(b->server, NULL, NULL);
	EVP_MD_CTX_free(b->tx);
	EVP_MD_CTX_free(b->rx);
	const struct mpt_mem *mem = b->client->mem;
	mpt_free(mem, b->buf);
	mpt_free(mem, b->txbuf);
	mpt_free(mem, b);
}
