/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend's event loop: epoll over the TUN devices, a timerfd for the
 * stack's and the emulator's deadlines, and the application's descriptors.
 * One stack, one thread, real time (CLOCK_MONOTONIC).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_net.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "backend/emu.h"
#include "backend/fail.h"
#include "backend/group.h"
#include "backend/tun.h"
#include "base/pcap.h"
#include "common.h"
#include "mpt/backend.h"
#include "wire/gso.h"

#define BE_PKT_MAX      65536u /* largest IP packet a TUN hands us */
#define BE_VNET_LEN     sizeof(struct virtio_net_hdr)
/*
 * Reads per device per wake-up, bounded in packets and in bytes, so one
 * busy device cannot starve another: with receive offload a read can be a
 * 64 KiB super-packet, and 64 of them are a whole 4 MiB transfer, during
 * which a join's SYN/ACK waited on the second device for 40 ms and the
 * kernel peer, its data sent and its DATA_FIN out by then, refused the
 * join (MPJoinRejected).  Time bounds it too: what a read sets off (ACK
 * processing, new data written to a TUN, which runs the kernel's forwarding
 * in the write) costs far more than the read.
 */
#define BE_RX_BATCH     64
#define BE_RX_BUDGET    (256u * 1024u)
#define BE_RX_TIME_NS   (500u * 1000u)
#define BE_MAX_APP_FDS  16
#define BE_QUEUE_PKTS   4096u
#define BE_EPOLL_EVENTS 32

enum be_kind { BE_TIMER = 1, BE_DEV = 2, BE_APP = 3, BE_WAKE = 4 };

/* What mpt_backend_wake asked for (wake_req bits). */
enum { WAKE_FN = 1, WAKE_STOP = 2 };

/* Packets a TUN write refused with "would block", in order. */
struct be_txq {
	uint8_t **pkt;
	size_t *len;
	size_t cap, head, count;
};

struct be_dev {
	struct mpt_tun tun;
	struct be_txq txq; /* entries start with the virtio header when tun.vnet */
	bool want_out;     /* EPOLLOUT registered */
};

struct be_path {
	struct mpt_backend *b;
	struct mpt_path_cfg cfg;
	size_t dev;
	struct mpt_emu *tx, *rx; /* NULL: no emulation */
	uint64_t remove_at;      /* cfg.remove_after_ms as a deadline (MPT_TIME_NEVER: none) */
};

struct be_app {
	int fd;
	mpt_backend_fd_fn fn;
	void *ud;
	bool used;
};

struct mpt_backend {
	const struct mpt_mem *mem;
	struct mpt_stack *st;
	struct be_path paths[MPT_BACKEND_MAX_PATHS];
	size_t n_paths;
	struct be_dev devs[MPT_BACKEND_MAX_PATHS];
	size_t n_devs;
	struct be_app apps[BE_MAX_APP_FDS];
	int epfd, tfd;
	uint64_t armed; /* timerfd deadline, MPT_TIME_NEVER: disarmed */
	mpt_backend_idle_fn idle;
	void *idle_ud;
	mpt_backend_filter_fn filter;
	void *filter_ud;
	bool stopped;
	bool started; /* mpt_backend_run ran: remove_at deadlines are set */
	int status;
	int verbose;
	struct mpt_pcap_writer pcap; /* --pcap (closed: pcap.f == NULL) */
	struct mpt_backend_stats stats;
	bool offload; /* every device offloads: the stack makes super-segments */
	/* Other threads reach this backend through an eventfd (mpt_backend_wake,
	 * and a group's inbox: packets another member read for this one). */
	int wfd;
	atomic_uint wake_req; /* WAKE_* bits */
	atomic_int wake_status;
	mpt_backend_wake_fn wake_fn;
	void *wake_ud;
	struct mpt_backend_group *grp; /* NULL: alone */
	unsigned shard;
	uint8_t rxbuf[BE_VNET_LEN + BE_PKT_MAX]; /* virtio header, then buf */
	uint8_t *buf;                            /* = rxbuf + BE_VNET_LEN */
	uint8_t segbuf[BE_PKT_MAX];              /* software segmentation */
};

uint64_t mpt_backend_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MPT_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t tag(enum be_kind k, size_t idx)
{
	return (uint64_t)k << 32 | (uint64_t)idx;
}

/* ---- packet helpers ------------------------------------------------------ */

/* Source (src=true) or destination address of an IP packet; false when the
 * packet is too short to have one. */
static bool pkt_addr(const uint8_t *p, size_t len, bool src, struct mpt_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (len >= 20 && p[0] >> 4 == 4) {
		a->family = 4;
		memcpy(a->bytes, p + (src ? 12 : 16), 4);
		return true;
	}
	if (len >= 40 && p[0] >> 4 == 6) {
		a->family = 6;
		memcpy(a->bytes, p + (src ? 8 : 24), 16);
		return true;
	}
	return false;
}

/* The path owning address a (among paths on dev when dev < n_devs), or
 * fallback. */
static struct be_path *path_for(struct mpt_backend *b, const struct mpt_addr *a, size_t dev,
				struct be_path *fallback)
{
	for (size_t i = 0; i < b->n_paths; i++) {
		struct be_path *p = &b->paths[i];
		if ((dev >= b->n_devs || p->dev == dev) && mpt_addr_equal(&p->cfg.addr, a))
			return p;
	}
	return fallback;
}

static void pcap_write(struct mpt_backend *b, const uint8_t *pkt, size_t len)
{
	if (!b->pcap.f)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	mpt_pcap_write(&b->pcap, (uint64_t)ts.tv_sec * MPT_NS_PER_S + (uint64_t)ts.tv_nsec, pkt,
		       len);
}

/* ---- writing to a TUN ---------------------------------------------------- */

static void dev_want_out(struct mpt_backend *b, size_t i, bool on)
{
	struct be_dev *d = &b->devs[i];
	if (d->want_out == on)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u),
				 .data.u64 = tag(BE_DEV, i)};
	if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, d->tun.fd, &ev) == 0)
		d->want_out = on;
}

static bool txq_push(struct mpt_backend *b, struct be_txq *q, const uint8_t *hdr, size_t hlen,
		     const uint8_t *pkt, size_t len)
{
	if (q->count >= q->cap)
		return false;
	uint8_t *copy = mpt_malloc(b->mem, hlen + len);
	if (!copy)
		return false;
	memcpy(copy, hdr, hlen);
	memcpy(copy + hlen, pkt, len);
	size_t i = (q->head + q->count) % q->cap;
	q->pkt[i] = copy;
	q->len[i] = hlen + len;
	q->count++;
	return true;
}

static void txq_pop(struct mpt_backend *b, struct be_txq *q)
{
	mpt_free(b->mem, q->pkt[q->head]);
	q->pkt[q->head] = NULL;
	q->head = (q->head + 1) % q->cap;
	q->count--;
}

/* One write (hdr: the virtio header, hlen 0 when none): 1 written, 0 would
 * block, -1 rejected (counted). */
static int dev_write1(struct mpt_backend *b, struct be_dev *d, const uint8_t *hdr, size_t hlen,
		      const uint8_t *pkt, size_t len)
{
	struct iovec iov[2] = {{.iov_base = (void *)(uintptr_t)hdr, .iov_len = hlen},
			       {.iov_base = (void *)(uintptr_t)pkt, .iov_len = len}};
	for (;;) {
		ssize_t n = hlen ? writev(d->tun.fd, iov, 2) : write(d->tun.fd, pkt, len);
		if (n >= 0) {
			b->stats.tx_pkts++;
			b->stats.tx_bytes += len;
			return 1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS || errno == ENOMEM)
			return 0;
		if (b->verbose)
			fprintf(stderr, "mpt: write to %s: %s\n", d->tun.name, strerror(errno));
		b->stats.tx_errors++;
		return -1;
	}
}

/* Write a packet with virtio header vh (NULL: none needed, zero). */
static void dev_write_vh(struct mpt_backend *b, size_t i, const struct virtio_net_hdr *vh,
			 const uint8_t *pkt, size_t len)
{
	struct be_dev *d = &b->devs[i];
	static const struct virtio_net_hdr zero;
	const uint8_t *hdr = (const uint8_t *)(vh ? vh : &zero);
	size_t hlen = d->tun.vnet ? BE_VNET_LEN : 0;
	/* Keep order: nothing overtakes packets already waiting. */
	if (d->txq.count == 0 && dev_write1(b, d, hdr, hlen, pkt, len) != 0)
		return;
	if (txq_push(b, &d->txq, hdr, hlen, pkt, len)) {
		b->stats.tx_queued++;
		dev_want_out(b, i, true);
	} else {
		b->stats.tx_drops++;
	}
}

static void dev_write(struct mpt_backend *b, size_t i, const uint8_t *pkt, size_t len)
{
	dev_write_vh(b, i, NULL, pkt, len);
}

static void dev_flush(struct mpt_backend *b, size_t i)
{
	struct be_dev *d = &b->devs[i];
	while (d->txq.count) {
		int rc =
		    dev_write1(b, d, NULL, 0, d->txq.pkt[d->txq.head], d->txq.len[d->txq.head]);
		if (rc == 0)
			return;
		txq_pop(b, &d->txq);
	}
	dev_want_out(b, i, false);
}

/* ---- the stack's side ---------------------------------------------------- */

static void emu_tx_push(void *ud, const uint8_t *pkt, size_t len)
{
	struct be_path *p = ud;
	struct mpt_backend *b = p->b;
	int rc = mpt_emu_push(p->tx, pkt, len, mpt_backend_now());
	if (rc == MPT_EMU_LOST)
		b->stats.emu_lost++;
	else if (rc != MPT_EMU_QUEUED)
		b->stats.emu_drops++;
}

static void stack_output_ex(void *ud, const uint8_t *pkt, size_t len, const struct mpt_out_meta *m)
{
	struct mpt_backend *b = ud;
	struct mpt_addr src;
	struct be_path *p = &b->paths[0];
	if (pkt_addr(pkt, len, true, &src))
		p = path_for(b, &src, SIZE_MAX, p);
	pcap_write(b, pkt, len);
	if (p->tx) {
		/* Link emulation works on wire packets: cut super-segments and
		 * complete checksums in software first. */
		if (m->gso_size || m->csum_partial)
			(void)mpt_gso_segment(pkt, len, m->l3_len, m->gso_size, b->segbuf,
					      sizeof(b->segbuf), emu_tx_push, p);
		else
			emu_tx_push(p, pkt, len);
		return;
	}
	struct virtio_net_hdr vh;
	memset(&vh, 0, sizeof(vh));
	if (m->csum_partial) {
		/* The device completes the checksum (and cuts at gso_size). */
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start = m->l3_len;
		vh.csum_offset = 16;
	}
	if (m->gso_size) {
		vh.gso_type =
		    (pkt[0] >> 4) == 6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		vh.gso_size = (uint16_t)m->gso_size;
		vh.hdr_len = (uint16_t)(m->l3_len + m->l4_len);
	}
	dev_write_vh(b, p->dev, &vh, pkt, len);
}

static void stack_output(void *ud, const uint8_t *pkt, size_t len)
{
	struct mpt_out_meta m = {0};
	stack_output_ex(ud, pkt, len, &m);
}

static void stack_deliver_ex(struct mpt_backend *b, const uint8_t *pkt, size_t len, unsigned flags,
			     uint64_t now)
{
	pcap_write(b, pkt, len);
	if (mpt_stack_input_ex(b->st, pkt, len, flags, now) < 0)
		b->stats.stack_rejects++;
}

static void stack_deliver(struct mpt_backend *b, const uint8_t *pkt, size_t len, uint64_t now)
{
	stack_deliver_ex(b, pkt, len, 0, now);
}

static void emu_rx_push(void *ud, const uint8_t *pkt, size_t len)
{
	struct be_path *p = ud;
	struct mpt_backend *b = p->b;
	int rc = mpt_emu_push(p->rx, pkt, len, mpt_backend_now());
	if (rc == MPT_EMU_LOST)
		b->stats.emu_lost++;
	else if (rc != MPT_EMU_QUEUED)
		b->stats.emu_drops++;
}

/*
 * One packet read from device i (or handed over by another member of the
 * group, steer false): the filter, the link emulation, the stack.
 */
static void rx_packet(struct mpt_backend *b, size_t i, const struct virtio_net_hdr *vh,
		      uint8_t *pkt, size_t len, uint64_t now, bool steer)
{
	if (steer && b->grp) {
		unsigned owner = be_group_owner(b->grp, pkt, len, b->shard);
		if (owner != b->shard) {
			uint8_t raw[16] = {0};
			memcpy(raw, vh, MPT_MIN(sizeof(raw), sizeof(*vh)));
			if (be_group_push(b->grp, owner, i, raw, pkt, len))
				b->stats.steer_out++;
			else
				b->stats.steer_drops++;
			return;
		}
	}
	/* Receive offload: a super-packet (coalesced, or locally made and
	 * not cut), its checksum verified or left partial. */
	unsigned flags = 0;
	if (vh->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		flags |= MPT_INPUT_CSUM_OK;
	if (b->filter) {
		enum mpt_backend_verdict v = b->filter(b->filter_ud, i, pkt, len, now);
		if (v == MPT_BE_FORWARD) {
			dev_write_vh(b, i, vh, pkt, len);
			return;
		}
		if (v == MPT_BE_DROP)
			return;
	}
	struct mpt_addr dst;
	struct be_path *p = NULL;
	if (pkt_addr(pkt, len, false, &dst))
		p = path_for(b, &dst, i, NULL);
	if (p && p->rx) {
		/* Emulation works on wire packets (see stack_output_ex). */
		if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE ||
		    (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			(void)mpt_gso_segment(pkt, len, 0, vh->gso_size, b->segbuf,
					      sizeof(b->segbuf), emu_rx_push, p);
		else
			emu_rx_push(p, pkt, len);
		return;
	}
	stack_deliver_ex(b, pkt, len, flags, now);
}

static void dev_read(struct mpt_backend *b, size_t i)
{
	struct be_dev *d = &b->devs[i];
	size_t hlen = d->tun.vnet ? BE_VNET_LEN : 0;
	uint8_t *rd = b->buf - hlen;
	size_t budget = BE_RX_BUDGET;
	uint64_t until = mpt_backend_now() + BE_RX_TIME_NS;
	for (int k = 0; k < BE_RX_BATCH && budget; k++) {
		ssize_t n = read(d->tun.fd, rd, hlen + BE_PKT_MAX);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or the device went away */
		}
		if ((size_t)n <= hlen)
			return;
		size_t len = (size_t)n - hlen;
		budget -= MPT_MIN(budget, len);
		struct virtio_net_hdr vh;
		memset(&vh, 0, sizeof(vh));
		if (hlen)
			memcpy(&vh, rd, sizeof(vh));
		uint64_t now = mpt_backend_now();
		if (k && now > until) {
			/* Over this wake-up's time: the packet just read is
			 * handled, the rest waits for the next turn. */
			budget = 0;
		}
		b->stats.rx_pkts++;
		b->stats.rx_bytes += len;
		rx_packet(b, i, &vh, b->buf, len, now, true);
	}
}

/* Another thread woke us: packets another member read for this one, a
 * wake-up for the application, a request to stop. */
static void on_wake(struct mpt_backend *b)
{
	uint64_t cnt;
	if (read(b->wfd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	if (b->grp) {
		struct be_grp_pkt *p = be_group_take(b->grp, b->shard);
		while (p) {
			struct be_grp_pkt *next = p->next;
			struct virtio_net_hdr vh;
			memcpy(&vh, p->vh, sizeof(vh));
			b->stats.steer_in++;
			if (p->dev < b->n_devs)
				rx_packet(b, p->dev, &vh, p->data, p->len, mpt_backend_now(),
					  false);
			free(p);
			p = next;
		}
	}
	unsigned req = atomic_exchange(&b->wake_req, 0u);
	if ((req & WAKE_FN) && b->wake_fn)
		b->wake_fn(b->wake_ud);
	if (req & WAKE_STOP)
		mpt_backend_stop(b, atomic_load(&b->wake_status));
}

/* Scheduled removal of a path's address (--remove-path-after): the stack
 * closes its subflows there and sends REMOVE_ADDR (RFC 8684 §3.4.2).  The
 * device stays: packets still in flight to the address reach the stack. */
static void remove_due(struct mpt_backend *b, uint64_t now)
{
	for (size_t i = 0; i < b->n_paths; i++) {
		struct be_path *p = &b->paths[i];
		if (p->remove_at > now)
			continue;
		p->remove_at = MPT_TIME_NEVER;
		int rc = mpt_stack_remove_local_addr(b->st, &p->cfg.addr, now);
		if (b->verbose || rc < 0) {
			char a[64];
			fprintf(stderr, "mpt: path %zu: address %s removed%s%s\n", i,
				mpt_addr_format(&p->cfg.addr, a, sizeof(a)), rc < 0 ? ": " : "",
				rc < 0 ? mpt_strerror(rc) : "");
		}
	}
}

/* Release due emulated packets and fire due stack timers. */
static void service(struct mpt_backend *b)
{
	uint64_t now = mpt_backend_now();
	remove_due(b, now);
	for (size_t i = 0; i < b->n_paths; i++) {
		struct be_path *p = &b->paths[i];
		long n;
		while (p->rx && (n = mpt_emu_pop(p->rx, now, b->buf, BE_PKT_MAX)) != MPT_ERR_AGAIN)
			if (n > 0)
				stack_deliver(b, b->buf, (size_t)n, now);
		while (p->tx && (n = mpt_emu_pop(p->tx, now, b->buf, BE_PKT_MAX)) != MPT_ERR_AGAIN)
			if (n > 0)
				dev_write(b, p->dev, b->buf, (size_t)n);
	}
	if (mpt_stack_next_deadline(b->st) <= now)
		mpt_stack_on_timer(b->st, now);
}

static uint64_t next_deadline(const struct mpt_backend *b)
{
	uint64_t dl = mpt_stack_next_deadline(b->st);
	for (size_t i = 0; i < b->n_paths; i++) {
		dl = MPT_MIN(dl, mpt_emu_next_due(b->paths[i].rx));
		dl = MPT_MIN(dl, mpt_emu_next_due(b->paths[i].tx));
		dl = MPT_MIN(dl, b->paths[i].remove_at);
	}
	return dl;
}

static void arm_timer(struct mpt_backend *b, uint64_t dl)
{
	if (dl == b->armed)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (dl != MPT_TIME_NEVER) {
		/* 0 would disarm; an absolute time of 1 ns is long past. */
		uint64_t t = dl ? dl : 1;
		its.it_value.tv_sec = (time_t)(t / MPT_NS_PER_S);
		its.it_value.tv_nsec = (long)(t % MPT_NS_PER_S);
	}
	if (timerfd_settime(b->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		b->armed = dl;
}

int mpt_backend_run(struct mpt_backend *b)
{
	if (!b)
		return MPT_ERR_INVAL;
	b->stopped = false;
	b->status = 0;
	if (!b->started) {
		uint64_t t0 = mpt_backend_now();
		for (size_t i = 0; i < b->n_paths; i++)
			if (b->paths[i].cfg.remove_after_ms)
				b->paths[i].remove_at =
				    t0 + (uint64_t)b->paths[i].cfg.remove_after_ms * MPT_NS_PER_MS;
		b->started = true;
	}
	while (!b->stopped) {
		service(b);
		bool busy = b->idle && b->idle(b->idle_ud);
		if (b->stopped)
			break;
		uint64_t dl = next_deadline(b);
		int timeout = -1;
		if (busy || dl <= mpt_backend_now())
			timeout = 0;
		else
			arm_timer(b, dl);
		struct epoll_event evs[BE_EPOLL_EVENTS];
		int n = epoll_wait(b->epfd, evs, BE_EPOLL_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return MPT_ERR_UNSUPPORTED;
		}
		for (int k = 0; k < n && !b->stopped; k++) {
			uint32_t kind = (uint32_t)(evs[k].data.u64 >> 32);
			size_t idx = (size_t)(evs[k].data.u64 & 0xffffffffu);
			if (kind == BE_TIMER) {
				uint64_t ticks;
				if (read(b->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					return MPT_ERR_UNSUPPORTED;
				b->armed = MPT_TIME_NEVER;
			} else if (kind == BE_DEV && idx < b->n_devs) {
				if (evs[k].events & EPOLLOUT)
					dev_flush(b, idx);
				if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
					dev_read(b, idx);
			} else if (kind == BE_WAKE) {
				on_wake(b);
			} else if (kind == BE_APP && idx < BE_MAX_APP_FDS && b->apps[idx].used) {
				struct be_app *a = &b->apps[idx];
				a->fn(a->ud, a->fd, evs[k].events);
			}
		}
	}
	return b->status;
}

void mpt_backend_stop(struct mpt_backend *b, int status)
{
	b->stopped = true;
	b->status = status;
}

/* ---- application descriptors --------------------------------------------- */

int mpt_backend_watch(struct mpt_backend *b, int fd, uint32_t events, mpt_backend_fd_fn fn,
		      void *ud)
{
	if (!b || fd < 0 || !fn)
		return MPT_ERR_INVAL;
	size_t free_slot = BE_MAX_APP_FDS;
	for (size_t i = 0; i < BE_MAX_APP_FDS; i++) {
		if (b->apps[i].used && b->apps[i].fd == fd)
			return MPT_ERR_EXIST;
		if (!b->apps[i].used && free_slot == BE_MAX_APP_FDS)
			free_slot = i;
	}
	if (free_slot == BE_MAX_APP_FDS)
		return MPT_ERR_LIMIT;
	struct epoll_event ev = {.events = events, .data.u64 = tag(BE_APP, free_slot)};
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return MPT_ERR_UNSUPPORTED; /* EPERM: regular file, always ready */
	b->apps[free_slot] = (struct be_app){.fd = fd, .fn = fn, .ud = ud, .used = true};
	return 0;
}

int mpt_backend_watch_mod(struct mpt_backend *b, int fd, uint32_t events)
{
	for (size_t i = 0; b && i < BE_MAX_APP_FDS; i++) {
		if (b->apps[i].used && b->apps[i].fd == fd) {
			struct epoll_event ev = {.events = events, .data.u64 = tag(BE_APP, i)};
			return epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev) == 0
				   ? 0
				   : MPT_ERR_UNSUPPORTED;
		}
	}
	return MPT_ERR_NOTFOUND;
}

void mpt_backend_unwatch(struct mpt_backend *b, int fd)
{
	for (size_t i = 0; b && i < BE_MAX_APP_FDS; i++) {
		if (b->apps[i].used && b->apps[i].fd == fd) {
			(void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
			b->apps[i].used = false;
		}
	}
}

void mpt_backend_set_filter(struct mpt_backend *b, mpt_backend_filter_fn fn, void *ud)
{
	b->filter = fn;
	b->filter_ud = ud;
}

void mpt_backend_send_raw(struct mpt_backend *b, size_t dev, const uint8_t *pkt, size_t len)
{
	if (dev < b->n_devs && pkt && len > 0)
		dev_write(b, dev, pkt, len);
}

void mpt_backend_deliver(struct mpt_backend *b, const uint8_t *pkt, size_t len)
{
	if (pkt && len > 0)
		stack_deliver(b, pkt, len, mpt_backend_now());
}

void mpt_backend_set_wake(struct mpt_backend *b, mpt_backend_wake_fn fn, void *ud)
{
	b->wake_fn = fn;
	b->wake_ud = ud;
}

void mpt_backend_wake(struct mpt_backend *b, bool stop, int status)
{
	if (!b)
		return;
	if (stop)
		atomic_store(&b->wake_status, status);
	atomic_fetch_or(&b->wake_req, stop ? (unsigned)(WAKE_FN | WAKE_STOP) : (unsigned)WAKE_FN);
	uint64_t one = 1;
	ssize_t n = write(b->wfd, &one, sizeof(one));
	(void)n; /* an eventfd that cannot take 1 more is already readable */
}

void mpt_backend_set_idle(struct mpt_backend *b, mpt_backend_idle_fn fn, void *ud)
{
	b->idle = fn;
	b->idle_ud = ud;
}

/* ---- setup and teardown -------------------------------------------------- */

static int emu_make(struct mpt_backend *b, const struct mpt_path_cfg *pc, uint64_t seed,
		    uint32_t queue_pkts, struct mpt_emu **out)
{
	if (!pc->delay_ms && pc->loss_pct <= 0 && pc->rate_mbit <= 0)
		return 0;
	struct mpt_emu_cfg ec;
	memset(&ec, 0, sizeof(ec));
	ec.delay_ns = (uint64_t)pc->delay_ms * MPT_NS_PER_MS;
	ec.loss = pc->loss_pct / 100.0;
	ec.rate_bps = (uint64_t)(pc->rate_mbit * 1e6);
	ec.seed = seed;
	/* Enough for the bandwidth-delay product of a fast path. */
	ec.queue_pkts = MPT_MAX(queue_pkts, 4 * BE_QUEUE_PKTS);
	return mpt_emu_create(b->mem, &ec, out);
}

static int dev_open(struct mpt_backend *b, const struct mpt_path_cfg *pc, size_t path_idx,
		    uint32_t queue_pkts, size_t *dev_out, char *err, size_t errlen)
{
	char name[MPT_DEV_NAME_LEN];
	if (pc->dev[0])
		snprintf(name, sizeof(name), "%s", pc->dev);
	else
		/* Paths are few; the cast bounds the digits (IFNAMSIZ is 16). */
		snprintf(name, sizeof(name), "mpttun%u", (unsigned)(uint8_t)path_idx);
	for (size_t i = 0; i < b->n_devs; i++) {
		if (!strcmp(b->devs[i].tun.name, name)) {
			*dev_out = i;
			return 0;
		}
	}
	struct be_dev *d = &b->devs[b->n_devs];
	int rc = mpt_tun_open(name, pc->mtu, b->grp != NULL, &d->tun, err, errlen);
	if (rc < 0)
		return rc;
	size_t di = b->n_devs++;
	d->txq.cap = queue_pkts;
	d->txq.pkt = mpt_calloc(b->mem, queue_pkts, sizeof(*d->txq.pkt));
	d->txq.len = mpt_calloc(b->mem, queue_pkts, sizeof(*d->txq.len));
	if (!d->txq.pkt || !d->txq.len)
		return mpt_backend_fail(err, errlen, MPT_ERR_NOMEM, "out of memory");
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag(BE_DEV, di)};
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, d->tun.fd, &ev) < 0)
		return mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED, "epoll: %s",
					strerror(errno));
	if (b->verbose)
		fprintf(stderr, "mpt: %s TUN %s (ifindex %d)\n",
			d->tun.created ? "created" : "attached to", d->tun.name, d->tun.ifindex);
	*dev_out = di;
	return 0;
}

/* The stack's flow table changed: the group's router learns exceptions. */
static void stack_flow(void *ud, const struct mpt_endpoint *local,
		       const struct mpt_endpoint *remote, bool up)
{
	struct mpt_backend *b = ud;
	be_group_flow(b->grp, b->shard, local, remote, up);
}

/* MSS that fits the smallest path MTU (IPv4/IPv6 + TCP headers, no options). */
static uint16_t mss_for_paths(const struct mpt_backend_cfg *cfg)
{
	uint16_t mss = cfg->stack.tcp.mss ? cfg->stack.tcp.mss : 1460;
	for (size_t i = 0; i < cfg->n_paths; i++) {
		const struct mpt_path_cfg *p = &cfg->paths[i];
		unsigned mtu = p->mtu ? p->mtu : 1500;
		unsigned hdr = p->addr.family == 4 ? 40 : 60;
		if (mtu > hdr && mtu - hdr < mss)
			mss = (uint16_t)(mtu - hdr);
	}
	return mss;
}

int mpt_backend_create(const struct mpt_backend_cfg *cfg, struct mpt_backend **out, char *err,
		       size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!cfg || !out)
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL, "no configuration");
	if (cfg->n_paths == 0 || cfg->n_paths > MPT_BACKEND_MAX_PATHS)
		return mpt_backend_fail(err, errlen, MPT_ERR_INVAL, "need 1 to %d paths (--path)",
					MPT_BACKEND_MAX_PATHS);
	for (size_t i = 0; i < cfg->n_paths; i++)
		for (size_t j = 0; j < i; j++)
			if (mpt_addr_equal(&cfg->paths[i].addr, &cfg->paths[j].addr))
				return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
							"two paths have the same address");
	const struct mpt_mem *mem = cfg->stack.mem ? cfg->stack.mem : mpt_mem_default();
	struct mpt_backend *b = mpt_calloc(mem, 1, sizeof(*b));
	if (!b)
		return mpt_backend_fail(err, errlen, MPT_ERR_NOMEM, "out of memory");
	b->buf = b->rxbuf + BE_VNET_LEN;
	b->mem = mem;
	b->epfd = b->tfd = b->wfd = -1;
	b->armed = MPT_TIME_NEVER;
	atomic_init(&b->wake_req, 0u);
	atomic_init(&b->wake_status, 0);
	if (cfg->group && mpt_backend_group_size(cfg->group) > 1) {
		if (cfg->shard >= mpt_backend_group_size(cfg->group)) {
			mpt_free(mem, b);
			return mpt_backend_fail(err, errlen, MPT_ERR_INVAL,
						"member %u of a group of %u", cfg->shard,
						mpt_backend_group_size(cfg->group));
		}
		b->grp = cfg->group;
		b->shard = cfg->shard;
	}
	b->verbose = cfg->verbose;
	uint32_t queue_pkts = cfg->queue_pkts ? cfg->queue_pkts : BE_QUEUE_PKTS;
	int rc = 0;

	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	b->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	b->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->epfd < 0 || b->tfd < 0 || b->wfd < 0) {
		rc = mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED, "epoll/timerfd: %s",
				      strerror(errno));
		goto fail;
	}
	struct epoll_event tev = {.events = EPOLLIN, .data.u64 = tag(BE_TIMER, 0)};
	struct epoll_event wev = {.events = EPOLLIN, .data.u64 = tag(BE_WAKE, 0)};
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->tfd, &tev) < 0 ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->wfd, &wev) < 0) {
		rc = mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED, "epoll: %s",
				      strerror(errno));
		goto fail;
	}

	uint64_t seed = cfg->seed ? cfg->seed : 1;
	for (size_t i = 0; i < cfg->n_paths; i++) {
		struct be_path *p = &b->paths[i];
		p->b = b;
		p->cfg = cfg->paths[i];
		p->remove_at = MPT_TIME_NEVER;
		rc = dev_open(b, &p->cfg, i, queue_pkts, &p->dev, err, errlen);
		if (rc < 0)
			goto fail;
		b->n_paths++;
		rc = mpt_tun_add_route(&b->devs[p->dev].tun, &p->cfg.addr, err, errlen);
		if (rc < 0)
			goto fail;
		/* Independent, reproducible loss streams per path and direction. */
		uint64_t s = seed * UINT64_C(0x9e3779b97f4a7c15) + i * 2;
		if ((rc = emu_make(b, &p->cfg, s, queue_pkts, &p->tx)) < 0 ||
		    (rc = emu_make(b, &p->cfg, s + 1, queue_pkts, &p->rx)) < 0) {
			mpt_backend_fail(err, errlen, rc, "link emulation: %s", mpt_strerror(rc));
			goto fail;
		}
		if (b->verbose) {
			char a[64];
			fprintf(stderr,
				"mpt: path %zu: %s/%u dev %s%s delay %u ms loss %.2f%% rate %.3g "
				"Mbit/s\n",
				i, mpt_addr_format(&p->cfg.addr, a, sizeof(a)), p->cfg.plen,
				b->devs[p->dev].tun.name, p->cfg.backup ? " backup" : "",
				p->cfg.delay_ms, p->cfg.loss_pct, p->cfg.rate_mbit);
		}
	}

	if (cfg->pcap && mpt_pcap_open(&b->pcap, cfg->pcap, BE_PKT_MAX, false) < 0) {
		rc = mpt_backend_fail(err, errlen, MPT_ERR_UNSUPPORTED, "cannot write pcap %s: %s",
				      cfg->pcap, strerror(errno));
		goto fail;
	}

	/* Segmentation and checksum offload when every device takes it
	 * (issue 13: a super-packet per write/read instead of a packet). */
	b->offload = !cfg->no_offload && b->n_devs > 0;
	for (size_t i = 0; i < b->n_devs && b->offload; i++)
		if (mpt_tun_offload(&b->devs[i].tun) < 0)
			b->offload = false;
	if (!b->offload)
		for (size_t i = 0; i < b->n_devs; i++)
			if (b->devs[i].tun.offload)
				(void)mpt_tun_offload_off(&b->devs[i].tun);
	if (b->verbose)
		fprintf(stderr, "mpt: segmentation/checksum offload %s\n",
			b->offload ? "on" : "off");
	struct mpt_stack_cfg sc = cfg->stack;
	sc.output = stack_output;
	sc.output_ex = stack_output_ex;
	sc.output_ud = b;
	if (b->offload) {
		sc.tso_max = 64000;
		sc.csum_offload = true;
		/*
		 * Offload packets of some sizes cost a Linux receiver more
		 * memory per byte than the lone segment it sizes its window by
		 * (tcp_out.c alone_max): data beyond DATA_ACK keeps within the
		 * share of the window that the dearest of them still fits
		 * (docs/mptcp-design.md, "The Linux receiver's memory").  The
		 * segment: the MSS less the options of a data segment
		 * (timestamps and a DSS with DATA_ACK and mapping: 40 bytes).
		 */
		long pg = sysconf(_SC_PAGESIZE);
		uint16_t mss = mss_for_paths(cfg);
		uint16_t share = mpt_tun_wnd_share(40 + 40, mss > 40 ? mss - 40u : mss,
						   pg > 0 ? (size_t)pg : 4096);
		if (sc.mptcp.wnd_share == 0 || share < sc.mptcp.wnd_share)
			sc.mptcp.wnd_share = share;
	}
	if (!sc.rand)
		sc.rand = mpt_rand_default;
	sc.n_local = cfg->n_paths;
	for (size_t i = 0; i < cfg->n_paths; i++) {
		sc.local[i] = cfg->paths[i].addr;
		/* RFC 8684 §3.3.8: subflows on a backup path carry B=1 (MP_JOIN's
		 * B flag, MP_PRIO); the stack honours it for every path manager. */
		if (cfg->paths[i].backup)
			sc.local_flags[i] |= MPT_LOCAL_BACKUP;
		sc.local_flags[i] |= cfg->paths[i].flags;
	}
	sc.tcp.mss = mss_for_paths(cfg);
	if (b->grp) {
		sc.shards = (uint16_t)mpt_backend_group_size(b->grp);
		sc.shard = (uint16_t)b->shard;
		sc.on_flow = stack_flow;
		sc.flow_ud = b;
		be_group_secret(b->grp, sc.secret);
		sc.has_secret = true;
	}
	rc = mpt_stack_create(&sc, &b->st);
	if (rc < 0) {
		mpt_backend_fail(err, errlen, rc,
				 "cannot create the stack: %s (unknown congestion control '%s'?)",
				 mpt_strerror(rc), sc.tcp.cc);
		goto fail;
	}
	if (b->grp)
		be_group_attach(b->grp, b->shard, b->wfd);
	*out = b;
	return 0;
fail:
	mpt_backend_destroy(b);
	return rc < 0 ? rc : MPT_ERR_UNSUPPORTED;
}

/* -vv: the stack's counters that moved, one line each (kernel MIB names
 * where one exists, so they compare with `nstat` on the peer). */
static void print_counters(const struct mpt_backend *b)
{
	int n = mpt_counter_count();
	for (int i = 0; i < n; i++) {
		uint64_t v = mpt_stack_counter(b->st, i);
		const char *name = mpt_counter_name(i);
		if (v && name)
			fprintf(stderr, "mpt: counter %s %" PRIu64 "\n", name, v);
	}
}

void mpt_backend_destroy(struct mpt_backend *b)
{
	if (!b)
		return;
	if (b->grp)
		be_group_detach(b->grp, b->shard);
	if (b->st && b->verbose >= 2)
		print_counters(b);
	mpt_stack_destroy(b->st);
	for (size_t i = 0; i < b->n_paths; i++) {
		mpt_emu_destroy(b->paths[i].tx);
		mpt_emu_destroy(b->paths[i].rx);
	}
	for (size_t i = 0; i < MPT_BACKEND_MAX_PATHS; i++) {
		struct be_dev *d = &b->devs[i];
		if (i < b->n_devs)
			mpt_tun_close(&d->tun);
		if (d->txq.pkt)
			while (d->txq.count)
				txq_pop(b, &d->txq);
		mpt_free(b->mem, d->txq.pkt);
		mpt_free(b->mem, d->txq.len);
	}
	if (mpt_pcap_close(&b->pcap) < 0)
		fprintf(stderr, "mpt: writing the pcap file failed: %s\n", strerror(errno));
	if (b->epfd >= 0)
		close(b->epfd);
	if (b->tfd >= 0)
		close(b->tfd);
	if (b->wfd >= 0)
		close(b->wfd);
	mpt_free(b->mem, b);
}

struct mpt_stack *mpt_backend_stack(const struct mpt_backend *b)
{
	return b->st;
}

const char *mpt_backend_dev_name(const struct mpt_backend *b, size_t i)
{
	return b && i < b->n_paths ? b->devs[b->paths[i].dev].tun.name : NULL;
}

void mpt_backend_stats(const struct mpt_backend *b, struct mpt_backend_stats *out)
{
	*out = b->stats;
}
