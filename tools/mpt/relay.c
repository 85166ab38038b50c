/* SPDX-License-Identifier: Apache-2.0 */
/* Relay between an mpt connection and a kernel TCP socket (see relay.h). */
#define _GNU_SOURCE
#include "relay.h"

#include "opts.h"

#include <arpa/inet.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "convert_codec.h"
#include "ctl.h"

/* ---- the poller: one nested epoll set for every kernel socket ------------ */

#define POLLER_BATCH 64

/* One per thread: `mpt convert --threads` runs a backend (and relays) in
 * each thread, and a relay only ever touches its own thread's poller. */
static _Thread_local int poller_fd = -1;

static void poller_dispatch(void *ud, int fd, uint32_t events)
{
	(void)ud;
	(void)events;
	struct epoll_event evs[POLLER_BATCH];
	int n = epoll_wait(fd, evs, POLLER_BATCH, 0);
	/* Objects are freed only from the idle callback, after this batch: a
	 * watch closed earlier in the batch has fn == NULL and is skipped. */
	for (int i = 0; i < n; i++) {
		struct relay_watch *w = evs[i].data.ptr;
		if (w && w->fn)
			w->fn(w->ud, evs[i].events);
	}
}

int relay_poller_init(struct mpt_backend *be)
{
	poller_fd = epoll_create1(EPOLL_CLOEXEC);
	if (poller_fd < 0)
		return -1;
	if (mpt_backend_watch(be, poller_fd, EPOLLIN, poller_dispatch, NULL) < 0) {
		close(poller_fd);
		poller_fd = -1;
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void relay_poller_fini(struct mpt_backend *be)
{
	if (poller_fd < 0)
		return;
	mpt_backend_unwatch(be, poller_fd);
	close(poller_fd);
	poller_fd = -1;
}

int relay_poller_add(int fd, uint32_t events, struct relay_watch *w)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(poller_fd, EPOLL_CTL_ADD, fd, &ev);
}

int relay_poller_mod(int fd, uint32_t events, struct relay_watch *w)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(poller_fd, EPOLL_CTL_MOD, fd, &ev);
}

void relay_poller_del(int fd)
{
	(void)epoll_ctl(poller_fd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- ring buffers -------------------------------------------------------- */

static int ring_init(struct relay_ring *g, size_t cap)
{
	g->buf = malloc(cap);
	if (!g->buf)
		return MPT_ERR_NOMEM;
	g->cap = cap;
	g->head = g->len = 0;
	return 0;
}

/* Contiguous bytes held, starting at the head. */
static size_t ring_data(const struct relay_ring *g, uint8_t **p)
{
	*p = g->buf + g->head;
	size_t to_end = g->cap - g->head;
	return g->len < to_end ? g->len : to_end;
}

/* Contiguous free space after the data. */
static size_t ring_space(const struct relay_ring *g, uint8_t **p)
{
	size_t tail = (g->head + g->len) % g->cap;
	*p = g->buf + tail;
	size_t free_total = g->cap - g->len;
	size_t to_end = g->cap - tail;
	return free_total < to_end ? free_total : to_end;
}

static void ring_consume(struct relay_ring *g, size_t n)
{
	g->head = (g->head + n) % g->cap;
	g->len -= n;
	if (g->len == 0)
		g->head = 0; /* keep writes contiguous when possible */
}

static int ring_put(struct relay_ring *g, const uint8_t *data, size_t len)
{
	while (len) {
		uint8_t *p;
		size_t sp = ring_space(g, &p);
		if (!sp)
			return MPT_ERR_NOSPACE;
		size_t n = len < sp ? len : sp;
		memcpy(p, data, n);
		g->len += n;
		data += n;
		len -= n;
	}
	return 0;
}

/* ---- relay --------------------------------------------------------------- */

const char *relay_end_name(enum relay_end e)
{
	switch (e) {
	case RELAY_RUNNING:
		return "running";
	case RELAY_END_CLEAN:
		return "clean";
	case RELAY_END_KERNEL_RESET:
		return "kernel side reset";
	case RELAY_END_KERNEL_ERROR:
		return "kernel side error";
	case RELAY_END_MPT_RESET:
		return "mptcp side reset";
	case RELAY_END_MPT_ERROR:
		return "mptcp side error";
	case RELAY_END_ABORTED:
		return "aborted";
	}
	return "?";
}

static void on_fd(void *ud, uint32_t events);
static void sample_subflows(struct relay *r, uint64_t now, bool force);

int relay_init(struct relay *r, struct mpt_backend *be, struct mpt_sock *ms, int fd, size_t bufsize)
{
	memset(r, 0, sizeof(*r));
	r->be = be;
	r->ms = ms;
	r->fd = fd;
	r->t_start = mpt_backend_now();
	r->watch.fn = on_fd;
	r->watch.ud = r;
	if (ring_init(&r->k2m, bufsize) < 0)
		return MPT_ERR_NOMEM;
	if (ring_init(&r->m2k, bufsize) < 0) {
		free(r->k2m.buf);
		r->k2m.buf = NULL;
		return MPT_ERR_NOMEM;
	}
	return 0;
}

int relay_preload_k2m(struct relay *r, const uint8_t *data, size_t len)
{
	return ring_put(&r->k2m, data, len);
}

int relay_preload_m2k(struct relay *r, const uint8_t *data, size_t len)
{
	return ring_put(&r->m2k, data, len);
}

void relay_free(struct relay *r)
{
	free(r->k2m.buf);
	free(r->m2k.buf);
	r->k2m.buf = r->m2k.buf = NULL;
}

bool relay_done(const struct relay *r)
{
	return r->end != RELAY_RUNNING;
}

double relay_seconds(const struct relay *r)
{
	return (double)(mpt_backend_now() - r->t_start) / 1e9;
}

static void fd_close(struct relay *r, bool rst)
{
	if (r->fd < 0)
		return;
	if (r->watching)
		relay_poller_del(r->fd);
	r->watching = false;
	if (rst) {
		/* SO_LINGER with a zero timeout: close() sends a RST (RFC 9293
		 * §3.10.5 ABORT) instead of a FIN. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		(void)setsockopt(r->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(r->fd);
	r->fd = -1;
}

static void finish(struct relay *r, enum relay_end end)
{
	if (r->end != RELAY_RUNNING)
		return;
	r->end = end;
	r->watch.fn = NULL;
	uint64_t now = mpt_backend_now();
	sample_subflows(r, now, true);
	/* mpt monitor: the connection's events up to the close, CLOSED included. */
	ctl_server_sock_closing(r->ms);
	switch (end) {
	case RELAY_END_CLEAN:
		/* Both FINs are exchanged on the kernel side; the stack finishes
		 * the mpt side's close sequence on its own. */
		fd_close(r, false);
		if (r->ms)
			mpt_close(r->ms, now);
		break;
	case RELAY_END_KERNEL_RESET:
	case RELAY_END_KERNEL_ERROR:
		fd_close(r, false);
		if (r->ms)
			mpt_abort(r->ms, now); /* RST / MP_FASTCLOSE to the MPTCP peer */
		break;
	case RELAY_END_MPT_RESET:
	case RELAY_END_MPT_ERROR:
	case RELAY_END_ABORTED:
		fd_close(r, true);
		if (r->ms)
			mpt_abort(r->ms, now);
		break;
	case RELAY_RUNNING:
		break;
	}
	r->ms = NULL;
}

static void sample_subflows(struct relay *r, uint64_t now, bool force)
{
	struct mpt_mptcp_info mi;
	if (!r->ms || (!force && now < r->next_sample))
		return;
	r->next_sample = now + 50 * MPT_NS_PER_MS;
	if (mpt_sock_mptcp_enabled(r->ms) && mpt_sock_mptcp_info(r->ms, &mi) == 0) {
		if (mi.mptcpi_subflows_total > r->subflows)
			r->subflows = mi.mptcpi_subflows_total;
	} else if (r->subflows <= 0) {
		r->subflows = -1;
	}
}

static void kernel_fail(struct relay *r, int err)
{
	r->k_errno = err;
	finish(r,
	       err == ECONNRESET || err == EPIPE ? RELAY_END_KERNEL_RESET : RELAY_END_KERNEL_ERROR);
}

static void mpt_fail(struct relay *r, int err)
{
	r->m_err = err;
	finish(r, err == MPT_ERR_RESET ? RELAY_END_MPT_RESET : RELAY_END_MPT_ERROR);
}

static void check_clean(struct relay *r)
{
	if (r->end == RELAY_RUNNING && r->k_eof && r->m_fin_sent && r->m_eof && r->k_shut)
		finish(r, RELAY_END_CLEAN);
}

static void update_want(struct relay *r)
{
	if (r->end != RELAY_RUNNING || r->fd < 0 || !r->started)
		return;
	uint32_t want = 0;
	if (!r->k_eof && r->k2m.len < r->k2m.cap)
		want |= EPOLLIN;
	if (r->m2k.len > 0 && !r->k_shut)
		want |= EPOLLOUT;
	if (r->k_eof && r->k_shut) {
		/* Both kernel directions are finished: the socket now reports
		 * EPOLLHUP forever, which would spin a level-triggered loop. */
		if (r->watching)
			relay_poller_del(r->fd);
		r->watching = false;
		return;
	}
	if (!r->watching) {
		if (relay_poller_add(r->fd, want, &r->watch) == 0) {
			r->watching = true;
			r->fd_want = want;
		}
		return;
	}
	if (want != r->fd_want && relay_poller_mod(r->fd, want, &r->watch) == 0)
		r->fd_want = want;
}

/* kernel -> mpt */
static void pump_k2m(struct relay *r)
{
	uint64_t now = mpt_backend_now();
	while (r->end == RELAY_RUNNING && r->ms) {
		bool blocked = false;
		while (r->k2m.len > 0) {
			uint8_t *p;
			size_t n = ring_data(&r->k2m, &p);
			long sent = mpt_send(r->ms, p, n, now);
			if (sent == MPT_ERR_AGAIN) {
				blocked = true; /* MPT_EV_WRITABLE resumes */
				break;
			}
			if (sent < 0) {
				mpt_fail(r, (int)sent);
				return;
			}
			if (sent == 0) {
				blocked = true;
				break;
			}
			ring_consume(&r->k2m, (size_t)sent);
		}
		if (r->k2m.len == 0 && r->k_eof && !r->m_fin_sent) {
			/* Half-close: the kernel peer's FIN becomes ours. */
			int rc = mpt_shutdown(r->ms, now);
			if (rc < 0 && rc != MPT_ERR_CLOSED) {
				mpt_fail(r, rc);
				return;
			}
			r->m_fin_sent = true;
		}
		if (r->k_eof || r->fd < 0 || r->k2m.len == r->k2m.cap)
			break;
		uint8_t *p;
		size_t sp = ring_space(&r->k2m, &p);
		ssize_t got = recv(r->fd, p, sp, MSG_DONTWAIT);
		if (got > 0) {
			r->k2m.len += (size_t)got;
			r->bytes_k2m += (uint64_t)got;
			if (blocked && r->k2m.len == r->k2m.cap)
				break;
			continue;
		}
		if (got == 0) {
			r->k_eof = true;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		kernel_fail(r, errno);
		return;
	}
}

/* mpt -> kernel */
static void pump_m2k(struct relay *r)
{
	uint64_t now = mpt_backend_now();
	while (r->end == RELAY_RUNNING && r->fd >= 0) {
		bool blocked = false;
		while (r->m2k.len > 0) {
			uint8_t *p;
			size_t n = ring_data(&r->m2k, &p);
			ssize_t w = send(r->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				blocked = true; /* EPOLLOUT resumes */
				break;
			}
			if (w <= 0) {
				kernel_fail(r, w < 0 ? errno : EIO);
				return;
			}
			ring_consume(&r->m2k, (size_t)w);
		}
		if (r->m2k.len == 0 && r->m_eof && !r->k_shut) {
			if (shutdown(r->fd, SHUT_WR) < 0 && errno != ENOTCONN) {
				kernel_fail(r, errno);
				return;
			}
			r->k_shut = true;
		}
		if (r->m_eof || !r->ms || r->m2k.len == r->m2k.cap)
			break;
		uint8_t *p;
		size_t sp = ring_space(&r->m2k, &p);
		long got = mpt_recv(r->ms, p, sp, now);
		if (got > 0) {
			r->m2k.len += (size_t)got;
			r->bytes_m2k += (uint64_t)got;
			if (blocked && r->m2k.len == r->m2k.cap)
				break;
			continue;
		}
		if (got == 0) {
			r->m_eof = true;
			continue;
		}
		if (got == MPT_ERR_AGAIN)
			break; /* MPT_EV_READABLE resumes */
		mpt_fail(r, (int)got);
		return;
	}
}

static void pump(struct relay *r)
{
	pump_m2k(r);
	pump_k2m(r);
	check_clean(r);
	update_want(r);
}

static void on_fd(void *ud, uint32_t events)
{
	struct relay *r = ud;
	if (r->end != RELAY_RUNNING)
		return;
	if (events & EPOLLERR) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
			kernel_fail(r, err);
			return;
		}
	}
	pump(r);
	if (r->end == RELAY_RUNNING && (events & EPOLLHUP) && r->watching &&
	    r->k2m.len == r->k2m.cap && r->m2k.len == 0) {
		/* HUP while we cannot read (k2m full) and have nothing to write:
		 * stop watching until the mpt side makes room (pump re-adds). */
		relay_poller_del(r->fd);
		r->watching = false;
	}
}

int relay_start(struct relay *r)
{
	r->started = true;
	sample_subflows(r, mpt_backend_now(), true);
	pump(r);
	if (r->end == RELAY_RUNNING && r->fd >= 0 && !r->watching && !(r->k_eof && r->k_shut)) {
		r->k_errno = errno;
		finish(r, RELAY_END_ABORTED);
		return MPT_ERR_UNSUPPORTED;
	}
	return 0;
}

void relay_on_mpt_event(struct relay *r, unsigned ev)
{
	if (r->end != RELAY_RUNNING || !r->started)
		return;
	if (ev & MPT_EV_ERROR) {
		/* Drain what can still be read first? A reset discards it at the
		 * peer anyway: map it to a kernel RST at once. */
		int err = r->ms ? mpt_sock_error(r->ms) : 0;
		mpt_fail(r, err ? err : MPT_ERR_RESET);
		return;
	}
	/* A path-manager event (a join completed, a subflow closed) is when
	 * the count changes: sampled at once, not only when 50 ms passed
	 * (a short connection's join would otherwise go unseen). */
	sample_subflows(r, mpt_backend_now(), (ev & MPT_EV_PM) != 0);
	pump(r);
}

void relay_abort(struct relay *r)
{
	finish(r, RELAY_END_ABORTED);
}

/* ---- counters and log lines ---------------------------------------------- */

const char *relay_rfc_error_name(unsigned code)
{
	static _Thread_local char buf[16]; /* several converter threads log at once */
	switch (code) {
	case MPT_CONVERT_ERR_UNSUPPORTED_VERSION:
		return "unsupported-version";
	case MPT_CONVERT_ERR_MALFORMED:
		return "malformed-message";
	case MPT_CONVERT_ERR_UNSUPPORTED_MSG:
		return "unsupported-message";
	case MPT_CONVERT_ERR_MISSING_COOKIE:
		return "missing-cookie";
	case MPT_CONVERT_ERR_NOT_AUTHORIZED:
		return "not-authorized";
	case MPT_CONVERT_ERR_UNSUPPORTED_TCP_OPT:
		return "unsupported-tcp-option";
	case MPT_CONVERT_ERR_RESOURCE_EXCEEDED:
		return "resource-exceeded";
	case MPT_CONVERT_ERR_NETWORK_FAILURE:
		return "network-failure";
	case MPT_CONVERT_ERR_CONNECTION_RESET:
		return "connection-reset";
	case MPT_CONVERT_ERR_DEST_UNREACHABLE:
		return "destination-unreachable";
	default:
		snprintf(buf, sizeof(buf), "code-%u", code & 0xffu);
		return buf;
	}
}

void relay_account(struct relay_counters *c, const struct relay *r, const char *prog)
{
	c->ended[r->end <= RELAY_END_ABORTED ? r->end : RELAY_END_ABORTED]++;
	c->bytes_k2m += r->bytes_k2m;
	c->bytes_m2k += r->bytes_m2k;
	if (!prog)
		return;
	char why[96] = "", sub[32] = "plain TCP";
	if (r->subflows >= 0)
		snprintf(sub, sizeof(sub), "MPTCP, %d subflows", r->subflows);
	if (r->k_errno)
		snprintf(why, sizeof(why), " (%s)", strerror(r->k_errno));
	else if (r->m_err)
		snprintf(why, sizeof(why), " (%s)", mpt_strerror(r->m_err));
	fprintf(stderr,
		"%s: %s: tcp->mptcp %" PRIu64 " B, mptcp->tcp %" PRIu64
		" B, %.3f s, %s, ended: %s%s\n",
		prog, r->tag, r->bytes_k2m, r->bytes_m2k, relay_seconds(r), sub,
		relay_end_name(r->end), why);
}

void relay_counters_print(const struct relay_counters *c, const char *prog)
{
	static const char *const end_names[] = {
	    [RELAY_END_CLEAN] = "relay-ended-clean",
	    [RELAY_END_KERNEL_RESET] = "relay-ended-tcp-reset",
	    [RELAY_END_KERNEL_ERROR] = "relay-ended-tcp-error",
	    [RELAY_END_MPT_RESET] = "relay-ended-mptcp-reset",
	    [RELAY_END_MPT_ERROR] = "relay-ended-mptcp-error",
	    [RELAY_END_ABORTED] = "relay-ended-aborted",
	};
	fprintf(stderr, "%s: counter accepted %" PRIu64 "\n", prog, c->accepted);
	fprintf(stderr, "%s: counter conversions %" PRIu64 "\n", prog, c->conversions);
	fprintf(stderr, "%s: counter passthroughs %" PRIu64 "\n", prog, c->passthroughs);
	fprintf(stderr, "%s: counter fallbacks %" PRIu64 "\n", prog, c->fallbacks);
	for (int e = RELAY_END_CLEAN; e <= RELAY_END_ABORTED; e++)
		fprintf(stderr, "%s: counter %s %" PRIu64 "\n", prog, end_names[e], c->ended[e]);
	fprintf(stderr, "%s: counter bytes-tcp-to-mptcp %" PRIu64 "\n", prog, c->bytes_k2m);
	fprintf(stderr, "%s: counter bytes-mptcp-to-tcp %" PRIu64 "\n", prog, c->bytes_m2k);
	for (unsigned i = 0; i < 256; i++)
		if (c->rfc_errors[i])
			fprintf(stderr, "%s: counter error-%s %" PRIu64 "\n", prog,
				relay_rfc_error_name(i), c->rfc_errors[i]);
	fprintf(stderr, "%s: counter local-errors %" PRIu64 "\n", prog, c->local_errors);
	fprintf(stderr, "%s: counter handshake-timeouts %" PRIu64 "\n", prog,
		c->handshake_timeouts);
	uint64_t bytes, blocks;
	relay_mem_usage(&bytes, &blocks);
	fprintf(stderr, "%s: counter stack-heap-bytes %" PRIu64 "\n", prog, bytes);
	fprintf(stderr, "%s: counter stack-heap-blocks %" PRIu64 "\n", prog, blocks);
}

void relay_counters_add(struct relay_counters *to, const struct relay_counters *from)
{
	to->accepted += from->accepted;
	to->conversions += from->conversions;
	to->passthroughs += from->passthroughs;
	to->fallbacks += from->fallbacks;
	for (int e = 0; e <= RELAY_END_ABORTED; e++)
		to->ended[e] += from->ended[e];
	to->bytes_k2m += from->bytes_k2m;
	to->bytes_m2k += from->bytes_m2k;
	for (unsigned i = 0; i < 256; i++)
		to->rfc_errors[i] += from->rfc_errors[i];
	to->local_errors += from->local_errors;
	to->handshake_timeouts += from->handshake_timeouts;
}

void relay_stack_counters_print(const struct mpt_stack *st, const char *prog,
				const char *const *names)
{
	for (size_t i = 0; st && names[i]; i++) {
		uint64_t v = 0;
		if (mpt_stack_counter_by_name(st, names[i], &v) == 0)
			fprintf(stderr, "%s: counter stack-%s %" PRIu64 "\n", prog, names[i], v);
	}
}

/* ---- counting allocator ---------------------------------------------------- */

/* Each block carries its size in a header that keeps max_align_t alignment. */
#define MEM_HDR sizeof(max_align_t)

/* Atomic: every stack of `mpt convert --threads` allocates through these
 * hooks from its own thread.  Relaxed is enough: they are statistics, read
 * on their own. */
static _Atomic uint64_t mem_bytes, mem_blocks;

static void *cm_malloc(size_t size, void *ud)
{
	(void)ud;
	if (size > SIZE_MAX - MEM_HDR)
		return NULL;
	uint8_t *p = malloc(size + MEM_HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	atomic_fetch_add_explicit(&mem_bytes, size, memory_order_relaxed);
	atomic_fetch_add_explicit(&mem_blocks, 1, memory_order_relaxed);
	return p + MEM_HDR;
}

static void *cm_calloc(size_t n, size_t size, void *ud)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = cm_malloc(n * size, ud);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static void cm_free(void *ptr, void *ud)
{
	(void)ud;
	if (!ptr)
		return;
	uint8_t *p = (uint8_t *)ptr - MEM_HDR;
	size_t size;
	memcpy(&size, p, sizeof(size));
	atomic_fetch_sub_explicit(&mem_bytes, size, memory_order_relaxed);
	atomic_fetch_sub_explicit(&mem_blocks, 1, memory_order_relaxed);
	free(p);
}

static void *cm_realloc(void *ptr, size_t size, void *ud)
{
	if (!ptr)
		return cm_malloc(size, ud);
	if (size > SIZE_MAX - MEM_HDR)
		return NULL;
	uint8_t *p = (uint8_t *)ptr - MEM_HDR;
	size_t old;
	memcpy(&old, p, sizeof(old));
	uint8_t *q = realloc(p, size + MEM_HDR);
	if (!q)
		return NULL;
	memcpy(q, &size, sizeof(size));
	atomic_fetch_add_explicit(&mem_bytes, size, memory_order_relaxed);
	atomic_fetch_sub_explicit(&mem_bytes, old, memory_order_relaxed);
	return q + MEM_HDR;
}

static const struct mpt_mem counting_mem = {
    .malloc = cm_malloc, .calloc = cm_calloc, .realloc = cm_realloc, .free = cm_free};

const struct mpt_mem *relay_counting_mem(void)
{
	return &counting_mem;
}

void relay_mem_usage(uint64_t *bytes, uint64_t *blocks)
{
	*bytes = atomic_load_explicit(&mem_bytes, memory_order_relaxed);
	*blocks = atomic_load_explicit(&mem_blocks, memory_order_relaxed);
}

void relay_mem_trim(uint64_t now)
{
	/* Per thread (each converter thread calls this from its loop); the
	 * bytes are the process's. */
	static _Thread_local uint64_t next_check, high;
	uint64_t bytes = atomic_load_explicit(&mem_bytes, memory_order_relaxed);
	if (bytes > high)
		high = bytes;
	if (now < next_check)
		return;
	next_check = now + 2 * MPT_NS_PER_S;
	if (high >= bytes + (16u << 20)) {
#ifdef __GLIBC__
		(void)malloc_trim(0);
#endif
		high = bytes;
	}
}

/* ---- helpers ------------------------------------------------------------- */

int relay_parse_hostport(const char *s, struct mpt_endpoint *out)
{
	char host[64];
	const char *port;
	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	if (s[0] == '[') {
		const char *close_br = strchr(s, ']');
		if (!close_br || close_br[1] != ':' || (size_t)(close_br - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(close_br - s - 1));
		host[close_br - s - 1] = '\0';
		port = close_br + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host) ||
		    memchr(s, ':', (size_t)(colon - s)))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	if (mpt_addr_parse(&out->addr, host) < 0)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(port, &end, 10);
	if (errno || end == port || *end || v < 1 || v > 65535)
		return -1;
	out->port = (uint16_t)v;
	return 0;
}

int relay_parse_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = mpt_opts_hexval(s[2 * i]), lo = mpt_opts_hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

unsigned relay_sockaddr(const struct mpt_endpoint *e, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (e->addr.family == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(e->port);
		memcpy(&a->sin_addr, e->addr.bytes, 4);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(e->port);
	memcpy(&a->sin6_addr, e->addr.bytes, 16);
	return sizeof(*a);
}

int relay_endpoint(const struct sockaddr_storage *ss, struct mpt_endpoint *e)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		e->addr.family = 4;
		memcpy(e->addr.bytes, &a->sin_addr, 4);
		e->port = ntohs(a->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		const uint8_t *b = (const uint8_t *)&a->sin6_addr;
		if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
			e->addr.family = 4;
			memcpy(e->addr.bytes, b + 12, 4);
		} else {
			e->addr.family = 6;
			memcpy(e->addr.bytes, b, 16);
		}
		e->port = ntohs(a->sin6_port);
		return 0;
	}
	return -1;
}

char *relay_fmt_ep(const struct mpt_endpoint *e, char *buf, size_t len)
{
	char a[64];
	mpt_addr_format(&e->addr, a, sizeof(a));
	if (e->addr.family == 6)
		snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		snprintf(buf, len, "%s:%u", a, e->port);
	return buf;
}

int relay_signalfd(void)
{
	sigset_t set;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}
