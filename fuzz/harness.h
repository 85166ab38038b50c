/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared fuzzing harness: two mpt stacks in one process (host 0 the
 * client, host 1 the server), a packet queue between them, an observer that
 * learns each flow's sequence numbers, keys and data sequence numbers from
 * the packets the stacks send, and a snapshot of the whole world.
 *
 * Snapshots (why the targets are fast).  Building an established MPTCP
 * connection costs tens of milliseconds (two stacks, buffers, handshakes,
 * joins, timers), so it is done once per variant.  Every allocation of both
 * stacks comes from one arena (cfg.mem) at a fixed address; the arena's
 * used bytes plus the small world struct are the snapshot, and each input
 * starts by copying them back: every pointer inside stays valid because
 * nothing moved.  The arena keeps AddressSanitizer's view exact: each block
 * is unpoisoned for exactly its size, with poisoned headers and red zones
 * between blocks, freed blocks are poisoned and never reused within an
 * input, and a restore re-poisons everything but the snapshot's live blocks
 * - so overflows, use-after-free and double frees inside the engine are
 * still caught.  At the end of every input both stacks are destroyed and
 * the arena must hold no live block (a leak check libFuzzer could not do,
 * since the arena is not malloc).
 *
 * Input language: see fz_run_ops().  Values in injected segments are
 * relative to what the receiving stack last said (its ACK, its DATA_ACK,
 * its keys), so that mutations stay near the states that matter.
 */
#ifndef MPT_FUZZ_HARNESS_H
#define MPT_FUZZ_HARNESS_H

/* Each target uses part of the harness. */
#pragma GCC diagnostic ignored "-Wunused-function"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* MAP_ANONYMOUS, MAP_NORESERVE */
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sanitizer/asan_interface.h>

#include "crypto/crypto.h"
#include "mpt/mpt.h"
#include "wire/bytes.h"
#include "wire/ip.h"
#include "wire/mptcp.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ABORT(...)                                                                              \
	do {                                                                                       \
		fprintf(stderr, "fuzz invariant: " __VA_ARGS__);                                   \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

/* ---- input reader ------------------------------------------------------- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t in_u8(struct fz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t in_u16(struct fz_in *in)
{
	uint16_t hi = in_u8(in);
	return (uint16_t)(hi << 8 | in_u8(in));
}

static inline uint32_t in_u32(struct fz_in *in)
{
	uint32_t hi = in_u16(in);
	return hi << 16 | in_u16(in);
}

static inline uint64_t in_u64(struct fz_in *in)
{
	uint64_t hi = in_u32(in);
	return hi << 32 | in_u32(in);
}

/* Up to want bytes of the input (fewer at its end). */
static inline size_t in_take(struct fz_in *in, size_t want, const uint8_t **out)
{
	if (want > in->n)
		want = in->n;
	*out = in->p;
	in->p += want;
	in->n -= want;
	return want;
}

/* ---- the arenas ------------------------------------------------------- */

/*
 * One arena per world variant, each at its own fixed address, so that
 * inputs switching variants cost nothing.  Block metadata lives beside the
 * arena (fz_meta), not in it.
 *
 * What a restore copies back: every block of the snapshot smaller than
 * FZ_BUF_MIN (the structures: stack, sockets, connections, subflows, TCP
 * engines, hash tables), but not the byte buffers (TCP rings, the 1 MiB
 * data-level and subflow receive rings, mapping lists, the 64 KiB scratch
 * buffer).  An MPTCP world holds ~14 MB, ~90 KB of it in structures;
 * copying it all cost 3 ms per input (and tracking written
 * pages with mprotect costs more than that in this VM: every fault is a VM
 * exit).  Skipping the buffers does not change what the engine does: a
 * snapshot is only taken when the world is quiescent (fz_quiescent():
 * every byte sent was acknowledged and read), so the buffers hold only
 * dead bytes, which the engine overwrites before it reads them (reading
 * them would be an engine bug; here it would show as an input that does
 * not reproduce).  The sanitizer state is restored exactly: blocks
 * allocated during the input are poisoned again, snapshot blocks freed
 * during it are unpoisoned.
 */
#define FZ_ARENA_SIZE ((size_t)128 << 20) /* address space only */
#define FZ_ARENAS     8
#define FZ_MAX_BLOCKS 65536
#define FZ_MAGIC      0x6d70747aU
#define FZ_RED        16 /* poisoned bytes after each block */
/* Blocks this large are byte buffers: TCP rings (tcp.sndbuf, rcvbuf: 16 or
 * 32 KiB here), the MPTCP scratch buffer (64 KiB), data-level and subflow
 * rings (1 MiB), mapping lists (96 KiB).  Every structure is below 14 KiB
 * (the stack is the largest). */
#define FZ_BUF_MIN    ((size_t)16 << 10)
#define FZ_INPUT_MEM  ((size_t)48 << 20)

/* In-arena header (written once, at allocation). */
struct fz_blk {
	uint32_t magic;
	uint32_t idx; /* index into the arena's fz_meta */
	uint64_t pad;
};

struct fz_meta {
	uint32_t off; /* payload offset in the arena */
	uint32_t size;
	bool live;
};

struct fz_arena {
	uint8_t *mem;
	size_t top; /* bytes used */
	long live;  /* blocks allocated and not freed */
	struct fz_meta *meta;
	uint32_t nmeta;
	/* snapshot */
	bool snapped;
	uint8_t *snap; /* copy of [0, snap_top) (buffers included, never copied back) */
	size_t snap_top;
	long snap_live;
	uint32_t snap_nmeta;
	struct fz_meta *snap_meta;
	uint32_t *copy; /* meta indexes of the blocks a restore copies back */
	size_t ncopy;
	/* changes since the snapshot */
	uint32_t *freed; /* snapshot blocks freed (meta indexes) */
	size_t nfreed;
	bool freed_overflow;
};

static struct fz_arena fz_arenas[FZ_ARENAS];
static struct fz_arena *fz_cur; /* the arena of the running input */
static long fz_allocs;          /* allocation calls (for failure injection) */
static long fz_fail_at = -1;    /* the allocation with this index fails */
static bool fz_teardown;        /* frees of mpt_stack_destroy at the end of an input */

/* Copy that AddressSanitizer does not check (arena memory between blocks is
 * poisoned; the caller knows the ranges are right). */
__attribute__((no_sanitize("address"))) static void fz_copy(void *dst, const void *src, size_t n)
{
#if defined(__x86_64__)
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
#else
	volatile uint8_t *d = dst;
	const volatile uint8_t *s = src;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
#endif
}

static void fz_arena_init(struct fz_arena *ar)
{
	void *m = mmap(NULL, FZ_ARENA_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		abort();
	ar->mem = m;
	ar->meta = calloc(FZ_MAX_BLOCKS, sizeof(*ar->meta));
	ar->freed = calloc(FZ_MAX_BLOCKS, sizeof(*ar->freed));
	if (!ar->meta || !ar->freed)
		abort();
	ASAN_POISON_MEMORY_REGION(ar->mem, FZ_ARENA_SIZE);
}

static inline size_t fz_round16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static void *fz_alloc(size_t size, bool zero)
{
	struct fz_arena *ar = fz_cur;
	long idx = fz_allocs++;
	if (idx == fz_fail_at)
		return NULL;
	if (size > UINT32_MAX || ar->nmeta == FZ_MAX_BLOCKS)
		return NULL;
	size_t need = sizeof(struct fz_blk) + fz_round16(size ? size : 1) + FZ_RED;
	if (ar->top + need > FZ_ARENA_SIZE)
		return NULL;
	/* At most FZ_INPUT_MEM new bytes per input (an MPTCP subflow takes
	 * over 2 MB: inputs that make the path manager retry joins for hours
	 * would spend their time in page faults); past it, allocations fail
	 * like a full heap, which the engine must handle anyway. */
	if (ar->snapped && ar->top + need > ar->snap_top + FZ_INPUT_MEM)
		return NULL;
	struct fz_blk *b = (struct fz_blk *)(void *)(ar->mem + ar->top);
	uint8_t *p = (uint8_t *)(b + 1);
	ASAN_UNPOISON_MEMORY_REGION(b, sizeof(*b));
	b->magic = FZ_MAGIC;
	b->idx = ar->nmeta;
	b->pad = 0;
	ASAN_POISON_MEMORY_REGION(b, sizeof(*b));
	ar->meta[ar->nmeta++] = (struct fz_meta){(uint32_t)(p - ar->mem), (uint32_t)size, true};
	ASAN_UNPOISON_MEMORY_REGION(p, size);
	/* Never hand out an earlier input's bytes (large buffers excepted, see
	 * above: the engine writes them before it reads them). */
	if (zero)
		memset(p, 0, size);
	else if (size < FZ_BUF_MIN)
		memset(p, 0xbe, size);
	ar->top += need;
	ar->live++;
	return p;
}

/* The metadata of an arena block, or abort (a pointer we never gave out). */
__attribute__((no_sanitize("address"))) static struct fz_meta *fz_meta_of(void *p)
{
	struct fz_arena *ar = fz_cur;
	uint8_t *q = p;
	if (q < ar->mem + sizeof(struct fz_blk) || q >= ar->mem + ar->top ||
	    ((uintptr_t)q & 15) != 0)
		FZ_ABORT("free/realloc of a pointer outside the arena (%p)", p);
	const struct fz_blk *b = (const struct fz_blk *)(void *)(q - sizeof(struct fz_blk));
	if (b->magic != FZ_MAGIC || b->idx >= ar->nmeta || ar->meta[b->idx].off != q - ar->mem)
		FZ_ABORT("free/realloc of a pointer that is not a block start (%p)", p);
	struct fz_meta *m = &ar->meta[b->idx];
	if (!m->live)
		FZ_ABORT("double free (%p, %u bytes)", p, m->size);
	return m;
}

static void fz_free(void *p, void *ud)
{
	(void)ud;
	if (!p)
		return;
	struct fz_arena *ar = fz_cur;
	struct fz_meta *m = fz_meta_of(p);
	m->live = false;
	ar->live--;
	if (fz_teardown)
		return; /* the restore resets everything anyway */
	ASAN_POISON_MEMORY_REGION(p, fz_round16(m->size ? m->size : 1));
	if (ar->snapped && m->off < ar->snap_top) {
		if (ar->nfreed < FZ_MAX_BLOCKS)
			ar->freed[ar->nfreed++] = (uint32_t)(m - ar->meta);
		else
			ar->freed_overflow = true;
	}
}

static void *fz_malloc(size_t n, void *ud)
{
	(void)ud;
	return fz_alloc(n, false);
}

static void *fz_calloc(size_t a, size_t n, void *ud)
{
	(void)ud;
	if (n && a > SIZE_MAX / n)
		return NULL;
	return fz_alloc(a * n, true);
}

static void *fz_realloc(void *p, size_t n, void *ud)
{
	if (!p)
		return fz_alloc(n, false);
	size_t old = fz_meta_of(p)->size;
	void *q = fz_alloc(n, false);
	if (!q)
		return NULL; /* C realloc: the old block stays valid */
	memcpy(q, p, old < n ? old : n);
	fz_free(p, ud);
	return q;
}

static const struct mpt_mem fz_mem_hooks = {
    .malloc = fz_malloc, .calloc = fz_calloc, .realloc = fz_realloc, .free = fz_free};

/* ---- the world ---------------------------------------------------------- */

#define FZ_QMAX   96
#define FZ_PMAX   1600
#define FZ_FLOWS  12
#define FZ_EXTRA  6
#define FZ_PORT   80
#define FZ_NPATHS 2

struct fz_pkt {
	uint16_t len;
	uint8_t to; /* receiving host */
	uint8_t b[FZ_PMAX];
};

/* What one host said last on a flow. */
struct fz_half {
	bool seen;    /* this host sent on the flow */
	bool isn_set; /* its SYN was seen */
	bool ts;      /* it sends timestamps */
	uint32_t isn; /* its initial sequence number */
	uint32_t nxt; /* highest seq + len it sent */
	uint32_t ack; /* last ACK it sent (its rcv_nxt) */
	uint32_t tsval;
	uint16_t win;
};

struct fz_flow {
	struct mpt_endpoint ep[2]; /* ep[h]: host h's end */
	struct fz_half h[2];
	/* Opened by a forged SYN: the fuzzer is the peer on this 4-tuple, so
	 * what the real stack sends on it is observed but not delivered to
	 * the other real stack (which would answer with a RST). */
	bool forged;
	/* MPTCP keys seen in MP_CAPABLE on this 4-tuple (its own connection's
	 * keys; 0: none, use the main connection's). */
	uint64_t key[2];
};

/* Connection-level values learned from MP_CAPABLE and DSS options. */
struct fz_track {
	struct fz_flow f[FZ_FLOWS];
	unsigned nf;
	uint8_t version; /* MPTCP version seen in MP_CAPABLE */
	bool key_seen[2];
	uint64_t key[2];
	uint32_t token[2];
	bool dsn_seen[2];
	uint64_t dsn_nxt[2]; /* next DSN host h maps (its data snd_nxt) */
	bool dack_seen[2];
	uint64_t dack[2]; /* host h's last DATA_ACK (its data rcv_nxt) */
};

/* Application-level bookkeeping of the main connection (stateful target). */
struct fz_stream {
	uint64_t written; /* bytes the sender's application wrote */
	uint64_t read;    /* bytes the receiver's application read */
	bool shut;        /* sender called mpt_shutdown */
	bool eof;         /* receiver saw end of stream */
};

struct fz_world {
	struct mpt_stack *st[2];
	struct mpt_sock *ls;    /* server listener */
	struct mpt_sock *sk[2]; /* the main connection: client end, server end */
	struct mpt_sock *extra[FZ_EXTRA];
	struct mpt_stack_cfg cfg[2];
	uint64_t now;
	uint64_t rng;
	struct fz_track tr;
	struct fz_stream s[2]; /* s[h]: data host h sends */
	bool closed[2];        /* sk[h] closed or aborted by the application */
	bool hold;             /* packets wait in the queue until released */
	uint8_t cut;           /* paths (bit p: address index p) whose packets are lost */
	bool mptcp;
	uint16_t port; /* the server's listening port (new 4-tuples go there) */
};

static struct fz_world W;
/*
 * The packet queue: FZ_QMAX slots plus one for the packet being delivered,
 * and the queue order as slot indexes (delivering, dropping or reordering
 * moves bytes of indexes, never packets).
 */
static struct fz_pkt fz_slot[FZ_QMAX + 1];
static uint8_t fz_ord[FZ_QMAX]; /* fz_ord[k]: slot of the k-th queued packet */
static size_t fz_qn;            /* packets queued */
static uint8_t fz_freel[FZ_QMAX + 1];
static size_t fz_nfree;
static long fz_q_dropped;

/*
 * Work allowed per input: packet deliveries plus timer rounds.  Inputs that
 * let hours pass in one-second steps or keep an ACK war going would
 * otherwise take milliseconds each; past the budget, queued packets are
 * lost and time jumps without running timers.  fz_begin sets it; building
 * a world and the stateful target's liveness check get their own.
 */
#define FZ_BUDGET 1024
static long fz_budget = 1L << 30;

#define FZ_Q(i) (&fz_slot[fz_ord[i]])

/* Empty the queue. */
static void fz_qclear(void)
{
	fz_qn = 0;
	fz_nfree = FZ_QMAX + 1;
	for (size_t i = 0; i < fz_nfree; i++)
		fz_freel[i] = (uint8_t)i;
}

/* A free slot, or NULL (queue full). */
static struct fz_pkt *fz_qpush(void)
{
	if (fz_nfree == 0 && fz_qn == 0)
		fz_qclear(); /* first use */
	if (fz_qn == FZ_QMAX || fz_nfree == 0)
		return NULL;
	uint8_t k = fz_freel[--fz_nfree];
	fz_ord[fz_qn++] = k;
	return &fz_slot[k];
}

/* Take queued packet i out of the order; returns its slot (still taken:
 * give it back with fz_qfree). */
static uint8_t fz_qtake(size_t i)
{
	uint8_t k = fz_ord[i];
	memmove(fz_ord + i, fz_ord + i + 1, fz_qn - i - 1);
	fz_qn--;
	return k;
}

static void fz_qfree(uint8_t k)
{
	fz_freel[fz_nfree++] = k;
}

static void fz_rand(uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	for (size_t i = 0; i < len; i++) {
		W.rng = W.rng * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(W.rng >> 56);
	}
}

/* ---- observer: learn each flow's state from what the stacks send --------- */

static struct fz_flow *fz_flow_find(const struct mpt_endpoint *e0, const struct mpt_endpoint *e1)
{
	for (unsigned i = 0; i < W.tr.nf; i++) {
		struct fz_flow *f = &W.tr.f[i];
		if (f->ep[0].port == e0->port && f->ep[1].port == e1->port &&
		    mpt_addr_equal(&f->ep[0].addr, &e0->addr) &&
		    mpt_addr_equal(&f->ep[1].addr, &e1->addr))
			return f;
	}
	return NULL;
}

static struct fz_flow *fz_flow_add(const struct mpt_endpoint *e0, const struct mpt_endpoint *e1)
{
	struct fz_flow *f = fz_flow_find(e0, e1);
	if (f)
		return f;
	if (W.tr.nf == FZ_FLOWS)
		return NULL;
	f = &W.tr.f[W.tr.nf++];
	memset(f, 0, sizeof(*f));
	f->ep[0] = *e0;
	f->ep[1] = *e1;
	return f;
}

static bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static void fz_learn_key(int h, uint64_t key)
{
	if (W.tr.key_seen[h])
		return;
	uint32_t tok = 0;
	uint64_t idsn = 0;
	if (mpt_key_token_idsn(W.tr.version, key, &tok, &idsn) < 0)
		return;
	W.tr.key_seen[h] = true;
	W.tr.key[h] = key;
	W.tr.token[h] = tok;
	/* RFC 8684 §3.3: data starts at IDSN + 1 (the SYN counts one). */
	if (!W.tr.dsn_seen[h]) {
		W.tr.dsn_seen[h] = true;
		W.tr.dsn_nxt[h] = idsn + 1;
	}
	if (!W.tr.dack_seen[1 - h]) {
		W.tr.dack_seen[1 - h] = true;
		W.tr.dack[1 - h] = idsn + 1;
	}
}

/* FZ_TRACE=1 in the environment: print every packet (debugging). */
static int fz_trace = -1;

static void fz_observe_mptcp(struct fz_flow *f, int h, const uint8_t *opt, size_t len,
			     uint16_t flags)
{
	struct mpt_mptcp_parse_ctx ctx = {.version = W.tr.version,
					  .seg = (uint8_t)mpt_mptcp_seg_from_flags(flags)};
	struct mpt_mptcp_opt o;
	if (mpt_mptcp_parse(&o, opt, len, &ctx) != 0 || o.unknown)
		return;
	if (fz_trace > 0) {
		fprintf(stderr, "    %s", mpt_mptcp_subtype_str(o.subtype));
		if (o.subtype == MPT_MPTCP_DSS) {
			const struct mpt_mptcp_dss *d = &o.u.dss;
			if (d->flags & MPT_DSS_F_ACK)
				fprintf(stderr, " dack %llu", (unsigned long long)d->data_ack);
			if (d->flags & MPT_DSS_F_MAP)
				fprintf(stderr, " dsn %llu ssn %u len %u%s",
					(unsigned long long)d->dsn, d->ssn, d->data_len,
					d->has_csum ? " csum" : "");
			if (d->flags & MPT_DSS_F_FIN)
				fprintf(stderr, " DATA_FIN");
		}
		fputc('\n', stderr);
	}
	switch (o.subtype) {
	case MPT_MPTCP_MP_CAPABLE:
		W.tr.version = o.version;
		if (o.u.mpc.form == MPT_MPC_ONEKEY) {
			fz_learn_key(h, o.u.mpc.snd_key);
			f->key[h] = o.u.mpc.snd_key;
		}
		if (o.u.mpc.form >= MPT_MPC_TWOKEYS) {
			fz_learn_key(h, o.u.mpc.snd_key);
			fz_learn_key(1 - h, o.u.mpc.rcv_key);
			f->key[h] = o.u.mpc.snd_key;
			f->key[1 - h] = o.u.mpc.rcv_key;
		}
		break;
	case MPT_MPTCP_DSS: {
		const struct mpt_mptcp_dss *d = &o.u.dss;
		if ((d->flags & MPT_DSS_F_MAP) && W.tr.dsn_seen[h]) {
			uint64_t dsn = (d->flags & MPT_DSS_F_DSN64)
					   ? d->dsn
					   : mpt_dsn_expand(W.tr.dsn_nxt[h], (uint32_t)d->dsn);
			uint64_t end = dsn + d->data_len;
			if ((int64_t)(end - W.tr.dsn_nxt[h]) > 0)
				W.tr.dsn_nxt[h] = end;
		}
		if ((d->flags & MPT_DSS_F_ACK) && W.tr.dack_seen[h])
			W.tr.dack[h] = (d->flags & MPT_DSS_F_ACK64)
					   ? d->data_ack
					   : mpt_dsn_expand(W.tr.dack[h], (uint32_t)d->data_ack);
		break;
	}
	default:
		break;
	}
}

/* A packet host h sent; returns its flow (NULL: not followed). */
static struct fz_flow *fz_observe(int h, const uint8_t *p, size_t len)
{
	struct mpt_ip_hdr ip;
	struct mpt_tcp_hdr th;
	if (mpt_ip_parse(&ip, p, len, false) < 0 || ip.proto != MPT_IPPROTO_TCP ||
	    mpt_tcp_hdr_parse(&th, p + ip.hdr_len, ip.payload_len) < 0)
		return NULL;
	if (fz_trace < 0)
		fz_trace = getenv("FZ_TRACE") != NULL;
	if (fz_trace)
		fprintf(stderr,
			"t=%llu.%06llu host %d: %u>%u flags %03x seq %u ack %u win %u len %zu\n",
			(unsigned long long)(W.now / 1000000000ULL),
			(unsigned long long)(W.now % 1000000000ULL / 1000), h, th.sport, th.dport,
			th.flags, th.seq, th.ack, th.window, ip.payload_len - th.hdr_len);
	struct mpt_endpoint me = {.addr = ip.src, .port = th.sport};
	struct mpt_endpoint peer = {.addr = ip.dst, .port = th.dport};
	struct fz_flow *f = (th.flags & MPT_TCP_SYN)
				? (h == 0 ? fz_flow_add(&me, &peer) : fz_flow_add(&peer, &me))
				: (h == 0 ? fz_flow_find(&me, &peer) : fz_flow_find(&peer, &me));
	if (!f)
		return NULL;
	struct fz_half *s = &f->h[h];
	size_t plen = ip.payload_len - th.hdr_len;
	uint32_t end = th.seq + (uint32_t)plen + ((th.flags & MPT_TCP_SYN) ? 1u : 0u) +
		       ((th.flags & MPT_TCP_FIN) ? 1u : 0u);
	if (th.flags & MPT_TCP_SYN) {
		s->isn_set = true;
		s->isn = th.seq;
		s->nxt = end;
	} else if (!s->seen || seq_gt(end, s->nxt)) {
		s->nxt = end;
	}
	s->seen = true;
	if (th.flags & MPT_TCP_ACK)
		s->ack = th.ack;
	s->win = th.window;
	struct mpt_tcp_opts to;
	if (mpt_tcp_opts_parse(&to, th.opt, th.opt_len) < 0)
		return f;
	if (to.present & MPT_TCPOPT_F_TS) {
		s->ts = true;
		s->tsval = to.tsval;
	}
	for (unsigned i = 0; i < to.n_mptcp; i++)
		fz_observe_mptcp(f, h, th.opt + to.mptcp[i].off, to.mptcp[i].len, th.flags);
	return f;
}

/* ---- plumbing ------------------------------------------------------------ */

static long fz_forged_out; /* packets on forged flows (not delivered) */

static void fz_out(int from, const uint8_t *p, size_t len)
{
	const struct fz_flow *f = fz_observe(from, p, len);
	if (f && f->forged) {
		fz_forged_out++;
		return;
	}
	struct fz_pkt *q = len <= FZ_PMAX ? fz_qpush() : NULL;
	if (!q) {
		fz_q_dropped++;
		return;
	}
	memcpy(q->b, p, len);
	q->len = (uint16_t)len;
	q->to = (uint8_t)(1 - from);
}

static void fz_out0(void *ud, const uint8_t *p, size_t len)
{
	(void)ud;
	fz_out(0, p, len);
}

static void fz_out1(void *ud, const uint8_t *p, size_t len)
{
	(void)ud;
	fz_out(1, p, len);
}

/* Optional per-target hook, called for every event (stateful checks). */
static void (*fz_event_hook)(int host, struct mpt_sock *s, unsigned ev);

static void fz_on_event(void *ud, struct mpt_sock *s, unsigned ev)
{
	int h = (int)(intptr_t)ud;
	if (fz_event_hook)
		fz_event_hook(h, s, ev);
}

/* The path of a queued packet: the index of its destination address
 * among the receiver's (7: none of them). */
static unsigned fz_path_of(const struct fz_pkt *p)
{
	struct mpt_ip_hdr ip;
	if (mpt_ip_parse(&ip, p->b, p->len, false) < 0)
		return 7;
	for (unsigned i = 0; i < W.cfg[p->to].n_local && i < 7; i++)
		if (mpt_addr_equal(&ip.dst, &W.cfg[p->to].local[i]))
			return i;
	return 7;
}

/* Deliver queued packet i. */
static void fz_deliver(size_t i)
{
	if (i >= fz_qn)
		return;
	uint8_t k = fz_qtake(i);
	const struct fz_pkt *p = &fz_slot[k];
	if (fz_budget-- > 0 && (!W.cut || !(W.cut & (1u << fz_path_of(p)))))
		(void)mpt_stack_input(W.st[p->to], p->b, p->len, W.now);
	fz_qfree(k);
}

/* Deliver everything queued (and what that causes), bounded: an ACK war
 * between the two engines cannot hang the run. */
static void fz_pump(void)
{
	for (int steps = 0; steps < 512 && fz_qn > 0; steps++)
		fz_deliver(0);
	fz_q_dropped += (long)fz_qn;
	fz_qclear();
}

static void fz_settle(void)
{
	if (!W.hold)
		fz_pump();
}

/* Let dt pass: timers of both stacks, in time order, bounded. */
static void fz_advance(uint64_t dt)
{
	uint64_t until = W.now + dt;
	for (int steps = 0; steps < 256 && fz_budget > 0; steps++, fz_budget--) {
		uint64_t d0 = mpt_stack_next_deadline(W.st[0]);
		uint64_t d1 = mpt_stack_next_deadline(W.st[1]);
		uint64_t d = d0 < d1 ? d0 : d1;
		if (d > until)
			break;
		if (d > W.now)
			W.now = d;
		/* (mpt_stack_next_deadline costs a walk over every subflow:
		 * asked once per host and round.) */
		if (d0 <= W.now)
			mpt_stack_on_timer(W.st[0], W.now);
		if (d1 <= W.now)
			mpt_stack_on_timer(W.st[1], W.now);
		fz_settle();
	}
	if (until > W.now)
		W.now = until;
}

/* ---- building worlds ------------------------------------------------------ */

/* How the two hosts are set up. */
struct fz_variant {
	bool mptcp;
	uint8_t version; /* MPTCP version the client offers */
	bool csum;       /* DSS checksums */
	bool v6;
	bool joins;  /* wait for the path manager's joins */
	bool extkey; /* external keys, with a configured key on both sides */
	uint32_t buf;
	int arg; /* meaning up to a target's fz_build_hook */
};

/* A target that builds its own world (instead of fz_build's established
 * connection) sets this; the world must be quiescent when it returns. */
static void (*fz_build_hook)(const struct fz_variant *v);

static void fz_addr(struct mpt_addr *a, bool v6, int path, int host)
{
	char t[48];
	if (v6)
		snprintf(t, sizeof(t), "2001:db8:%d::%d", path, host + 1);
	else
		snprintf(t, sizeof(t), "10.0.%d.%d", path, host + 1);
	if (mpt_addr_parse(a, t) < 0)
		abort();
}

/* Count the live subflows of the client's connection. */
static int fz_subflows(struct mpt_sock *s)
{
	struct mpt_subflow_info si[8];
	int n = mpt_sock_subflows(s, si, 8);
	int live = 0;
	for (int i = 0; i < n && i < 8; i++)
		live += si[i].active;
	return live;
}

/* Two stacks in the (empty) arena: host h has addresses 10.0.p.(h+1) (or
 * 2001:db8:p::(h+1)) on paths p; the server (host 1) takes TFO SYN data
 * in mode tfo. */
static void fz_make_stacks(const struct fz_variant *v, uint8_t tfo)
{
	memset(&W, 0, sizeof(W));
	fz_qclear();
	W.rng = 42;
	W.now = 1000000000ULL;
	W.mptcp = v->mptcp;
	W.port = FZ_PORT;
	for (int h = 0; h < 2; h++) {
		struct mpt_stack_cfg *c = &W.cfg[h];
		mpt_stack_cfg_init(c);
		c->mem = &fz_mem_hooks;
		c->rand = fz_rand;
		c->output = h == 0 ? fz_out0 : fz_out1;
		c->on_event = fz_on_event;
		c->event_ud = (void *)(intptr_t)h;
		c->n_local = FZ_NPATHS;
		for (int p = 0; p < FZ_NPATHS; p++)
			fz_addr(&c->local[p], v->v6, p, h);
		c->tcp.sndbuf = c->tcp.rcvbuf = v->buf ? v->buf : 16384;
		/* FZ_BUF=BYTES in the environment overrides the buffer size of
		 * every variant (reproducers, fuzz/repro/README.md). */
		const char *env = getenv("FZ_BUF");
		if (env && atoi(env) > 0)
			c->tcp.sndbuf = c->tcp.rcvbuf = (uint32_t)atoi(env);
		c->max_socks = 16;
		/* The join-record table holds state (records, free list, hash
		 * chains): kept below FZ_BUF_MIN (16 x 120 bytes, 16 buckets)
		 * so that a snapshot restores it with the structures.  At the
		 * default 4096 it counted as a byte buffer, was not restored,
		 * and its chains went stale across inputs (timeouts). */
		c->max_join_records = 16;
		c->mptcp.enable = v->mptcp;
		c->mptcp.version = v->version;
		c->mptcp.checksum = v->csum;
		if (v->extkey) {
			/* docs/external-keys.md: joins wait for the first key,
			 * which both sides take from their configuration. */
			c->mptcp.ext_keys = MPT_EXT_KEYS_OFFER;
			c->mptcp.ext_key_len = 32;
			memset(c->mptcp.ext_key, 0x6b, 32);
		}
		if (h == 1)
			c->tcp.tfo_server = tfo;
		if (mpt_stack_create(c, &W.st[h]) < 0)
			abort();
	}
}

/* Build a world from nothing into the (empty) arena: an established
 * connection that exchanged some data both ways, everything acknowledged.
 * The server takes SYN data (TCP Fast Open) from anyone: SYNs from the
 * fuzzer reach that path too. */
static void fz_build(const struct fz_variant *v)
{
	fz_make_stacks(v, MPT_TFO_NO_COOKIE);
	struct mpt_endpoint l = {.port = FZ_PORT};
	struct mpt_endpoint r = {.addr = W.cfg[1].local[0], .port = FZ_PORT};
	if (mpt_listen(W.st[1], &l, 4, &W.ls) < 0 ||
	    mpt_connect(W.st[0], &r, NULL, W.now, &W.sk[0]) < 0)
		abort();
	fz_pump();
	fz_advance(10000000ULL);
	W.sk[1] = mpt_accept(W.ls);
	if (!W.sk[1])
		abort();
	static const char hello[] = "hello from the client";
	static const char hi[] = "and hello from the server";
	uint8_t sink[64];
	(void)mpt_send(W.sk[0], hello, sizeof(hello), W.now);
	(void)mpt_send(W.sk[1], hi, sizeof(hi), W.now);
	fz_pump();
	fz_advance(50000000ULL);
	(void)mpt_recv(W.sk[1], sink, sizeof(sink), W.now);
	(void)mpt_recv(W.sk[0], sink, sizeof(sink), W.now);
	W.s[0].written = W.s[0].read = sizeof(hello);
	W.s[1].written = W.s[1].read = sizeof(hi);
	/* Joins (fullmesh: the server announces its second address, the
	 * client joins from each of its addresses). */
	for (int i = 0; v->joins && i < 40 && fz_subflows(W.sk[0]) < 3; i++)
		fz_advance(100000000ULL);
	fz_advance(500000000ULL);
	fz_pump();
	if (fz_qn != 0)
		abort();
}

/* ---- snapshots -------------------------------------------------------------- */

struct fz_snap {
	bool built;
	struct fz_arena *ar;
	struct fz_world w;
};

/* Nothing in flight, nothing unread, nothing unacknowledged: the
 * condition under which fz_snap_restore may skip the buffers. */
static bool fz_quiescent(void)
{
	if (fz_qn != 0)
		return false;
	for (int h = 0; h < 2 && W.sk[0]; h++) {
		struct mpt_sock_info si;
		if (mpt_sock_info(W.sk[h], &si) < 0 || si.snd_una != si.snd_nxt)
			return false;
		if (W.s[h].read != W.s[h].written)
			return false;
		struct mpt_mptcp_info mi;
		if (W.mptcp && (mpt_sock_mptcp_info(W.sk[h], &mi) < 0 ||
				mi.mptcpi_snd_una != mi.mptcpi_write_seq))
			return false;
		struct mpt_subflow_info sf[8];
		int n = mpt_sock_subflows(W.sk[h], sf, 8);
		for (int i = 0; i < n && i < 8; i++)
			if (sf[i].bytes_acked != sf[i].bytes_sent)
				return false;
	}
	return true;
}

static void fz_snap_take(struct fz_snap *s)
{
	struct fz_arena *ar = s->ar;
	ar->snap = malloc(ar->top ? ar->top : 1);
	ar->snap_meta = malloc(sizeof(*ar->snap_meta) * (ar->nmeta + 1));
	ar->copy = malloc(sizeof(*ar->copy) * (ar->nmeta + 1));
	if (!ar->snap || !ar->snap_meta || !ar->copy)
		abort();
	fz_copy(ar->snap, ar->mem, ar->top);
	memcpy(ar->snap_meta, ar->meta, sizeof(*ar->meta) * ar->nmeta);
	ar->ncopy = 0;
	for (uint32_t i = 0; i < ar->nmeta; i++)
		if (ar->meta[i].live && ar->meta[i].size < FZ_BUF_MIN)
			ar->copy[ar->ncopy++] = i;
	ar->snap_top = ar->top;
	ar->snap_live = ar->live;
	ar->snap_nmeta = ar->nmeta;
	ar->nfreed = 0;
	ar->freed_overflow = false;
	ar->snapped = true;
	s->w = W;
	s->built = true;
}

static void fz_snap_restore(const struct fz_snap *s)
{
	struct fz_arena *ar = s->ar;
	for (size_t i = 0; i < ar->ncopy; i++) {
		const struct fz_meta *m = &ar->snap_meta[ar->copy[i]];
		fz_copy(ar->mem + m->off, ar->snap + m->off, m->size);
	}
	/* Sanitizer state: blocks of the last input poisoned again, snapshot
	 * blocks it freed live again. */
	if (ar->top > ar->snap_top)
		ASAN_POISON_MEMORY_REGION(ar->mem + ar->snap_top, ar->top - ar->snap_top);
	if (ar->freed_overflow) {
		ASAN_POISON_MEMORY_REGION(ar->mem, ar->snap_top);
		for (uint32_t i = 0; i < ar->snap_nmeta; i++)
			if (ar->snap_meta[i].live)
				ASAN_UNPOISON_MEMORY_REGION(ar->mem + ar->snap_meta[i].off,
							    ar->snap_meta[i].size);
	} else {
		for (size_t i = 0; i < ar->nfreed; i++) {
			const struct fz_meta *m = &ar->snap_meta[ar->freed[i]];
			ASAN_UNPOISON_MEMORY_REGION(ar->mem + m->off, m->size);
		}
	}
	ar->nfreed = 0;
	ar->freed_overflow = false;
	memcpy(ar->meta, ar->snap_meta, sizeof(*ar->meta) * ar->snap_nmeta);
	ar->nmeta = ar->snap_nmeta;
	ar->top = ar->snap_top;
	ar->live = ar->snap_live;
	W = s->w;
	fz_qclear();
}

/* Start an input from variant v's snapshot (built on first use). */
static void fz_begin(struct fz_snap *snaps, const struct fz_variant *vars, size_t v)
{
	fz_budget = 1L << 30;
	fz_fail_at = -1;
	fz_teardown = false;
	if (!snaps[v].built) {
		snaps[v].ar = &fz_arenas[v];
		fz_arena_init(snaps[v].ar);
		fz_cur = snaps[v].ar;
		if (fz_build_hook)
			fz_build_hook(&vars[v]);
		else
			fz_build(&vars[v]);
		if (!fz_quiescent())
			FZ_ABORT("variant %zu: the world is not quiescent after building it", v);
		fz_snap_take(&snaps[v]);
		fz_budget = FZ_BUDGET;
		return;
	}
	fz_cur = snaps[v].ar;
	fz_snap_restore(&snaps[v]);
	fz_budget = FZ_BUDGET;
}

/* End an input: free everything; the arena must be empty again. */
static void fz_end(void)
{
	fz_qclear();
	fz_fail_at = -1;
	fz_teardown = true;
	mpt_stack_destroy(W.st[0]);
	mpt_stack_destroy(W.st[1]);
	fz_teardown = false;
	if (fz_cur->live != 0)
		FZ_ABORT("%ld blocks still allocated after mpt_stack_destroy (leak)", fz_cur->live);
}

/* ---- crafted segments -------------------------------------------------------- */

/* A segment to inject: host `to` receives it as if its peer sent it. */
struct fz_seg {
	int to;
	struct mpt_endpoint src, dst;
	uint16_t flags;
	uint32_t seq, ack;
	uint16_t win;
	uint8_t opt[MPT_TCP_MAX_OPT_LEN];
	size_t optlen;
	const uint8_t *payload;
	size_t plen;
};

static void fz_inject(const struct fz_seg *s)
{
	uint8_t pkt[FZ_PMAX];
	size_t ihl = mpt_ip_hdr_len(s->src.addr.family);
	struct mpt_tcp_hdr th;
	memset(&th, 0, sizeof(th));
	th.sport = s->src.port;
	th.dport = s->dst.port;
	th.seq = s->seq;
	th.ack = s->ack;
	th.flags = s->flags;
	th.window = s->win;
	size_t optlen = s->optlen & ~(size_t)3;
	int hl = mpt_tcp_hdr_emit(pkt + ihl, sizeof(pkt) - ihl, &th, s->opt, optlen);
	if (hl < 0 || ihl + (size_t)hl + s->plen > sizeof(pkt))
		return;
	if (s->plen)
		memcpy(pkt + ihl + (size_t)hl, s->payload, s->plen);
	struct mpt_ip_hdr ih;
	memset(&ih, 0, sizeof(ih));
	ih.src = s->src.addr;
	ih.dst = s->dst.addr;
	ih.proto = MPT_IPPROTO_TCP;
	ih.ttl = 64;
	ih.payload_len = (size_t)hl + s->plen;
	if (mpt_ip_emit(pkt, ihl, &ih) < 0)
		return;
	mpt_tcp_csum_fill(pkt + ihl, (size_t)hl + s->plen, &s->src.addr, &s->dst.addr);
	(void)mpt_stack_input(W.st[s->to], pkt, ihl + (size_t)hl + s->plen, W.now);
	fz_settle();
}

/* Append an encoded MPTCP option to seg (dropped when it does not fit). */
static void fz_put_mptcp(struct fz_seg *s, const struct mpt_mptcp_opt *o)
{
	int n = mpt_mptcp_emit(s->opt + s->optlen, sizeof(s->opt) - s->optlen, o);
	if (n > 0)
		s->optlen += (size_t)n;
}

static void fz_put_raw(struct fz_seg *s, const uint8_t *p, size_t n)
{
	if (n > sizeof(s->opt) - s->optlen)
		n = sizeof(s->opt) - s->optlen;
	memcpy(s->opt + s->optlen, p, n);
	s->optlen += n;
}

/* Pad the options to a multiple of 4 with NOPs. */
static void fz_pad(struct fz_seg *s)
{
	while ((s->optlen & 3) && s->optlen < sizeof(s->opt))
		s->opt[s->optlen++] = MPT_TCPOPT_NOP;
}

/* An address of host h on path p (p beyond its addresses: an address it
 * does not have). */
static struct mpt_addr fz_host_addr(int h, unsigned p)
{
	if (p < W.cfg[h].n_local)
		return W.cfg[h].local[p];
	struct mpt_addr a;
	fz_addr(&a, W.cfg[h].local[0].family == 6, (int)(p % 7) + 2, h);
	return a;
}

/*
 * One crafted segment from the input.  Layout:
 *   u8  sel     bit 0: receiving host; bits 1-4: flow (past the known
 *               flows: a new 4-tuple, its ports and address from below)
 *   u8  flags   TCP flags
 *   u8  mode    bit 0 timestamps (next tsval, echo of the receiver's),
 *               bit 1 a DSS with DATA_ACK and a mapping of the payload
 *               (correct DSS checksum when checksums are on),
 *               bit 2 absolute seq/ack (u32 each) instead of offsets,
 *               bit 3 payload bytes from the input (else a pattern),
 *               bit 4 zero the DSS checksum (fuzz builds accept zero),
 *               bits 5-7 number of option templates (fz_opt_template)
 *   seq, ack    i16 offsets from the receiver's ACK / its snd_nxt
 *   u16 window, u16 payload length (<= 1400)
 *   templates, then payload bytes when bit 3.
 */
static void fz_opt_template(struct fz_in *in, struct fz_seg *s, const struct fz_flow *f, int from);

/* Set by a target whose checks assume the client's stream is the server's
 * (convert_server_fuzz): crafted segments then only go to the server. */
static bool fz_forge_to_server_only;

static void fz_segment(struct fz_in *in)
{
	uint8_t sel = in_u8(in);
	struct fz_seg s;
	memset(&s, 0, sizeof(s));
	s.to = fz_forge_to_server_only ? 1 : sel & 1;
	int from = 1 - s.to;
	unsigned fi = (sel >> 1) & 15;
	s.flags = in_u8(in);
	uint8_t mode = in_u8(in);
	struct fz_flow *f = NULL;
	if (fi < W.tr.nf) {
		f = &W.tr.f[fi];
		s.src = f->ep[from];
		s.dst = f->ep[s.to];
	} else {
		/* A new 4-tuple: from one of the sender's addresses (or not). */
		uint8_t a = in_u8(in);
		s.src.addr = fz_host_addr(from, a & 3);
		s.dst.addr = fz_host_addr(s.to, (a >> 2) & 3);
		s.src.port = (uint16_t)(40000 + in_u8(in));
		s.dst.port = s.to == 1 ? W.port : in_u16(in);
		if (s.src.addr.family != s.dst.addr.family)
			s.dst.addr = fz_host_addr(s.to, 0);
	}
	int16_t dseq = 0, dack = 0;
	uint32_t aseq = 0, aack = 0;
	if (mode & 4) {
		aseq = in_u32(in);
		aack = in_u32(in);
	} else {
		dseq = (int16_t)in_u16(in);
		dack = (int16_t)in_u16(in);
	}
	s.win = in_u16(in);
	size_t plen = in_u16(in) % 1401;
	if (f) {
		const struct fz_half *rx = &f->h[s.to], *tx = &f->h[from];
		uint32_t seq_ref = rx->seen ? rx->ack : tx->nxt;
		uint32_t ack_ref = rx->nxt;
		s.seq = (mode & 4) ? aseq : seq_ref + (uint32_t)(int32_t)dseq;
		s.ack = (mode & 4) ? aack : ack_ref + (uint32_t)(int32_t)dack;
	} else {
		s.seq = (mode & 4) ? aseq : 1000u + (uint32_t)(int32_t)dseq;
		s.ack = (mode & 4) ? aack : (uint32_t)(int32_t)dack;
		/* Remember the new flow so that later segments can follow it. */
		bool known = s.to == 1 ? fz_flow_find(&s.src, &s.dst) != NULL
				       : fz_flow_find(&s.dst, &s.src) != NULL;
		struct fz_flow *nf =
		    s.to == 1 ? fz_flow_add(&s.src, &s.dst) : fz_flow_add(&s.dst, &s.src);
		if (nf && !known)
			nf->forged = true;
		if (nf && (s.flags & MPT_TCP_SYN)) {
			nf->h[from].seen = nf->h[from].isn_set = true;
			nf->h[from].isn = s.seq;
			nf->h[from].nxt = s.seq + 1;
		}
		f = nf;
	}
	static uint8_t pattern[1400];
	if (!pattern[1])
		for (size_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)('a' + i % 26);
	const uint8_t *payload = pattern;
	if (mode & 1) {
		uint8_t ts[12] = {MPT_TCPOPT_NOP, MPT_TCPOPT_NOP, MPT_TCPOPT_TS, 10};
		uint32_t tsval = f ? f->h[from].tsval + 1 : 1;
		uint32_t tsecr = f ? f->h[s.to].tsval : 0;
		mpt_put32(ts + 4, tsval);
		mpt_put32(ts + 8, tsecr);
		fz_put_raw(&s, ts, sizeof(ts));
	}
	unsigned ntpl = mode >> 5;
	for (unsigned i = 0; i < ntpl; i++)
		fz_opt_template(in, &s, f, from);
	if (mode & 8)
		plen = in_take(in, plen, &payload);
	s.payload = payload;
	s.plen = plen;
	if ((mode & 2) && W.mptcp) {
		/* The common case made easy: acknowledge what the receiver
		 * sent and map our payload at its DATA_ACK. */
		struct mpt_mptcp_opt o;
		memset(&o, 0, sizeof(o));
		o.subtype = MPT_MPTCP_DSS;
		o.version = W.tr.version;
		o.u.dss.flags = MPT_DSS_F_ACK | MPT_DSS_F_ACK64;
		o.u.dss.data_ack = W.tr.dsn_nxt[s.to];
		/* A TCP FIN comes with a DATA_FIN (RFC 8684 §3.3.3: it counts
		 * one in the data-level length; alone it maps SSN 0). */
		bool dfin = (s.flags & MPT_TCP_FIN) != 0;
		if (plen || dfin) {
			uint64_t dsn = W.tr.dack[s.to];
			uint32_t ssn = f && f->h[from].isn_set ? s.seq - f->h[from].isn : 1;
			if (!plen)
				ssn = 0;
			uint16_t dlen = (uint16_t)(plen + (dfin ? 1 : 0));
			o.u.dss.flags |=
			    MPT_DSS_F_MAP | MPT_DSS_F_DSN64 | (dfin ? MPT_DSS_F_FIN : 0);
			o.u.dss.dsn = dsn;
			o.u.dss.ssn = ssn;
			o.u.dss.data_len = dlen;
			o.u.dss.has_csum = W.cfg[0].mptcp.checksum;
			if (o.u.dss.has_csum && !(mode & 16))
				o.u.dss.csum = mpt_dss_csum(dsn, ssn, dlen, payload, plen);
		}
		fz_put_mptcp(&s, &o);
	}
	fz_pad(&s);
	fz_inject(&s);
}

/* 64-bit DSN near ref, from an i16 offset. */
static uint64_t fz_rel64(uint64_t ref, struct fz_in *in)
{
	return ref + (uint64_t)(int64_t)(int16_t)in_u16(in);
}

/*
 * One option, encoded by the codec from a template (u8 kind, then fields).
 * Keys, tokens and DSNs come from what the hosts said, so that the checks
 * behind them are reached; HMACs are zero, which fuzz builds accept
 * (mpt_crypto_memeq), or raw.
 */
static void fz_opt_template(struct fz_in *in, struct fz_seg *s, const struct fz_flow *f, int from)
{
	/* Keys: this 4-tuple's connection's when it had an MP_CAPABLE, else
	 * the main connection's. */
	uint64_t key[2] = {W.tr.key[0], W.tr.key[1]};
	for (int h = 0; f && h < 2; h++)
		if (f->key[h])
			key[h] = f->key[h];
	struct mpt_mptcp_opt o;
	memset(&o, 0, sizeof(o));
	o.version = W.tr.version;
	uint8_t kind = in_u8(in);
	uint8_t b = in_u8(in);
	int to = s->to;
	switch (kind % 13) {
	case 0: /* DSS */
		o.subtype = MPT_MPTCP_DSS;
		o.u.dss.flags = b & MPT_DSS_F_MASK;
		o.u.dss.data_ack = fz_rel64(W.tr.dsn_nxt[to], in);
		o.u.dss.dsn = fz_rel64(W.tr.dack[to], in);
		if (!(o.u.dss.flags & MPT_DSS_F_ACK64))
			o.u.dss.data_ack &= 0xffffffffu;
		if (!(o.u.dss.flags & MPT_DSS_F_DSN64))
			o.u.dss.dsn &= 0xffffffffu;
		o.u.dss.ssn = in_u32(in);
		if (f && f->h[from].isn_set && !(b & 0x80))
			o.u.dss.ssn = s->seq - f->h[from].isn + (o.u.dss.ssn & 0xff);
		o.u.dss.data_len = (b & 0x40) ? in_u16(in) : (uint16_t)(in_u8(in));
		o.u.dss.has_csum = (b & 0x20) != 0;
		o.u.dss.csum = (b & 0x20) ? in_u16(in) : 0;
		break;
	case 1: { /* ADD_ADDR */
		o.subtype = MPT_MPTCP_ADD_ADDR;
		o.u.add_addr.echo = b & 1;
		o.u.add_addr.addr_id = in_u8(in);
		o.u.add_addr.addr = fz_host_addr(from, (b >> 1) & 7);
		if (b & 0x10)
			o.u.add_addr.addr.bytes[3] = in_u8(in);
		o.u.add_addr.has_port = (b & 0x20) != 0;
		o.u.add_addr.port = o.u.add_addr.has_port ? in_u16(in) : 0;
		if (b & 0x40)
			for (int i = 0; i < 8; i++)
				o.u.add_addr.hmac[i] = in_u8(in);
		break;
	}
	case 2: /* REMOVE_ADDR */
		o.subtype = MPT_MPTCP_REMOVE_ADDR;
		o.u.rm_addr.n = (uint8_t)(1 + b % 4);
		for (unsigned i = 0; i < o.u.rm_addr.n; i++)
			o.u.rm_addr.ids[i] = in_u8(in);
		break;
	case 3: /* MP_PRIO */
		o.subtype = MPT_MPTCP_MP_PRIO;
		o.u.prio.backup = b & 1;
		o.u.prio.has_addr_id = o.version == 0 && (b & 2);
		o.u.prio.addr_id = in_u8(in);
		break;
	case 4: /* MP_FAIL */
		o.subtype = MPT_MPTCP_MP_FAIL;
		o.u.fail_dsn = fz_rel64(W.tr.dack[to], in);
		break;
	case 5: /* MP_FASTCLOSE with the receiver's key (or not) */
		o.subtype = MPT_MPTCP_MP_FASTCLOSE;
		o.u.fastclose_key = (b & 1) ? in_u64(in) : key[to];
		break;
	case 6: /* MP_TCPRST */
		o.subtype = MPT_MPTCP_MP_TCPRST;
		o.u.tcprst.flags = b & 0xf;
		o.u.tcprst.reason = in_u8(in);
		break;
	case 7: /* MP_JOIN, form from the segment's flags unless b says */
		o.subtype = MPT_MPTCP_MP_JOIN;
		o.u.join.form = (s->flags & MPT_TCP_SYN)
				    ? ((s->flags & MPT_TCP_ACK) ? MPT_JOIN_SYNACK : MPT_JOIN_SYN)
				    : MPT_JOIN_ACK;
		if (b & 0x80)
			o.u.join.form = (uint8_t)(b % 3);
		o.u.join.backup = b & 1;
		o.u.join.addr_id = in_u8(in);
		o.u.join.token = (b & 2) ? in_u32(in) : W.tr.token[to];
		o.u.join.nonce = in_u32(in);
		if (b & 4)
			for (int i = 0; i < 20; i++)
				o.u.join.hmac[i] = in_u8(in);
		break;
	case 8: /* MP_CAPABLE */
		o.subtype = MPT_MPTCP_MP_CAPABLE;
		o.version = (b & 0x80) ? 0 : 1;
		o.u.mpc.form = (uint8_t)(b & 3);
		if (o.version == 0 && o.u.mpc.form == MPT_MPC_NOKEY)
			o.u.mpc.form = MPT_MPC_ONEKEY;
		if (o.version == 0 && o.u.mpc.form == MPT_MPC_DATA)
			o.u.mpc.form = MPT_MPC_TWOKEYS;
		o.u.mpc.flags = in_u8(in);
		o.u.mpc.snd_key = (b & 4) ? in_u64(in) : key[from];
		o.u.mpc.rcv_key = (b & 8) ? in_u64(in) : key[to];
		o.u.mpc.data_len = in_u16(in);
		o.u.mpc.has_csum = (b & 0x10) != 0;
		o.u.mpc.csum = in_u16(in);
		break;
	case 9: { /* raw option bytes */
		const uint8_t *p;
		size_t n = in_take(in, b % 41, &p);
		fz_put_raw(s, p, n);
		return;
	}
	case 10: { /* SACK blocks around the receiver's snd_una */
		uint8_t sack[36] = {MPT_TCPOPT_NOP, MPT_TCPOPT_NOP, MPT_TCPOPT_SACK};
		unsigned n = 1 + b % 4;
		uint32_t ref = f ? f->h[to].nxt : 0;
		sack[3] = (uint8_t)(2 + 8 * n);
		for (unsigned i = 0; i < n; i++) {
			uint32_t l = ref - (uint32_t)in_u16(in);
			mpt_put32(sack + 4 + 8 * i, l);
			mpt_put32(sack + 8 + 8 * i, l + in_u16(in));
		}
		fz_put_raw(s, sack, 4 + 8 * n);
		return;
	}
	case 11: { /* handshake options: MSS, window scale, SACK-permitted */
		uint8_t hs[12] = {MPT_TCPOPT_MSS,
				  4,
				  0,
				  0,
				  MPT_TCPOPT_NOP,
				  MPT_TCPOPT_WSCALE,
				  3,
				  0,
				  MPT_TCPOPT_NOP,
				  MPT_TCPOPT_NOP,
				  MPT_TCPOPT_SACK_PERM,
				  2};
		mpt_put16(hs + 2, in_u16(in));
		hs[7] = b;
		fz_put_raw(s, hs, sizeof(hs));
		return;
	}
	default: { /* TFO cookie (request or cookie) */
		uint8_t tfo[20] = {MPT_TCPOPT_NOP, MPT_TCPOPT_NOP, MPT_TCPOPT_TFO, 2};
		unsigned cl = (b & 1) ? 0 : 4 + 2 * (b >> 1) % 14;
		if (cl > 16)
			cl = 16;
		tfo[3] = (uint8_t)(2 + cl);
		for (unsigned i = 0; i < cl; i++)
			tfo[4 + i] = in_u8(in);
		fz_put_raw(s, tfo, 4 + cl);
		return;
	}
	}
	fz_put_mptcp(s, &o);
}

/* ---- the applications ------------------------------------------------------ */

/* Byte at offset off of the stream host h sends: a keyed pseudo-random
 * sequence, so that data delivered at the wrong place or twice shows. */
static inline uint8_t fz_sbyte(int h, uint64_t off)
{
	uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ULL ^ (h ? 0xA5A5A5A5A5ULL : 0x5A5A5A5A5AULL);
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ULL;
	return (uint8_t)(x >> 56);
}

/* Check what the receiving application got (stateful target only). */
static bool fz_check_data;

static void fz_send(int h, size_t n)
{
	static uint8_t buf[8192];
	struct mpt_sock *s = W.sk[h];
	if (!s || n == 0)
		return;
	if (n > sizeof(buf))
		n = sizeof(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = fz_sbyte(h, W.s[h].written + i);
	long rc = mpt_send(s, buf, n, W.now);
	if (rc > 0) {
		if (W.s[h].shut)
			FZ_ABORT("mpt_send accepted %ld bytes after mpt_shutdown", rc);
		W.s[h].written += (uint64_t)rc;
	}
}

/* Host h's application reads what its peer sent: one mpt_recv of up to n
 * bytes, or (n == 0) until nothing is left (end of stream included). */
static void fz_recv(int h, size_t n)
{
	bool all = n == 0;
	static uint8_t buf[8192];
	struct mpt_sock *s = W.sk[h];
	int peer = 1 - h;
	if (!s)
		return;
	if (n == 0 || n > sizeof(buf))
		n = sizeof(buf);
	for (int rounds = 0; rounds < 64; rounds++) {
		long rc = mpt_recv(s, buf, n, W.now);
		if (rc < 0)
			return;
		struct fz_stream *st = &W.s[peer];
		if (rc == 0) {
			if (fz_check_data && !st->eof) {
				/* End of stream: the peer's application said so,
				 * and everything it wrote came first. */
				if (!st->shut && !W.closed[peer])
					FZ_ABORT("host %d: end of stream, but host %d neither shut "
						 "down nor closed",
						 h, peer);
				if (st->read != st->written)
					FZ_ABORT("host %d: end of stream after %llu of %llu bytes",
						 h, (unsigned long long)st->read,
						 (unsigned long long)st->written);
			}
			st->eof = true;
			return;
		}
		if (fz_check_data) {
			if (st->eof)
				FZ_ABORT("host %d: %ld bytes after end of stream", h, rc);
			if (st->read + (uint64_t)rc > st->written)
				FZ_ABORT("host %d: read %llu bytes, host %d wrote only %llu", h,
					 (unsigned long long)(st->read + (uint64_t)rc), peer,
					 (unsigned long long)st->written);
			for (long i = 0; i < rc; i++)
				if (buf[i] != fz_sbyte(peer, st->read + (uint64_t)i))
					FZ_ABORT("host %d: byte %llu of the stream is wrong (out "
						 "of order, twice or corrupted)",
						 h, (unsigned long long)(st->read + (uint64_t)i));
		}
		st->read += (uint64_t)rc;
		if (!all)
			return;
	}
}

static struct mpt_sock **fz_extra_slot(void)
{
	for (int i = 0; i < FZ_EXTRA; i++)
		if (!W.extra[i])
			return &W.extra[i];
	return NULL;
}

/* Inputs that make a connection legitimately unable to finish (address
 * removal, subflow resets, allocation failures) turn off the stateful
 * target's liveness check. */
static bool fz_disruptive;

/*
 * One application action (u8 op, u8 arg): sends, reads, shutdowns, closes
 * and aborts on either end, accepting, new connections, the path-manager
 * API, the information calls, and one failed allocation.
 */
static void fz_app(struct fz_in *in)
{
	uint8_t op = in_u8(in);
	uint8_t arg = in_u8(in);
	int h = op & 1;
	struct mpt_sock *s = W.sk[h];
	struct mpt_addr la = fz_host_addr(h, arg & 3);
	struct mpt_addr ra = fz_host_addr(1 - h, (arg >> 2) & 3);
	switch ((op >> 1) % 16) {
	case 0:
	case 1:
		fz_send(h, (size_t)arg * 32 + 1);
		break;
	case 2:
	case 3:
		fz_recv(h, (size_t)arg * 32 + 1);
		break;
	case 4:
		if (s && mpt_shutdown(s, W.now) == 0)
			W.s[h].shut = true;
		break;
	case 5:
		if (s) {
			if (arg & 1)
				mpt_abort(s, W.now);
			else
				mpt_close(s, W.now);
			W.sk[h] = NULL;
			W.closed[h] = true;
			if (arg & 1)
				fz_disruptive = true;
		}
		break;
	case 6: { /* accept what the listener has */
		struct mpt_sock *c;
		while ((c = mpt_accept(W.ls)) != NULL) {
			struct mpt_sock **slot = fz_extra_slot();
			if (slot)
				*slot = c;
			else
				mpt_close(c, W.now);
		}
		break;
	}
	case 7: { /* close, abort, read from or write to an extra connection */
		struct mpt_sock **x = &W.extra[arg % FZ_EXTRA];
		if (!*x)
			break;
		uint8_t buf[512];
		switch ((arg >> 3) & 3) {
		case 0:
			mpt_close(*x, W.now);
			*x = NULL;
			break;
		case 1:
			mpt_abort(*x, W.now);
			*x = NULL;
			break;
		case 2:
			(void)mpt_recv(*x, buf, sizeof(buf), W.now);
			break;
		default:
			memset(buf, 'x', sizeof(buf));
			(void)mpt_send(*x, buf, sizeof(buf), W.now);
			break;
		}
		break;
	}
	case 8: { /* a new connection from the client (v0/v1, with or without MPTCP) */
		struct mpt_sock **slot = fz_extra_slot();
		if (!slot)
			break;
		struct mpt_conn_opts o;
		mpt_conn_opts_init(W.st[0], &o);
		o.mptcp.enable = !(arg & 1);
		o.mptcp.version = (arg >> 1) & 1;
		o.mptcp.checksum = (arg >> 2) & 1;
		struct mpt_endpoint r = {.addr = fz_host_addr(1, (arg >> 3) & 1),
					 .port = (arg & 0x40) ? FZ_PORT : 81};
		(void)mpt_connect_ex(W.st[0], &r, NULL, &o, W.now, slot);
		break;
	}
	case 9:
		if (s)
			(void)mpt_pm_announce(s, &la, W.now);
		break;
	case 10:
		if (s) {
			struct mpt_endpoint re = {.addr = ra, .port = (arg & 0x80) ? 0 : FZ_PORT};
			(void)mpt_pm_subflow_open(s, &la, &re, (arg >> 4) & 1, W.now);
		}
		break;
	case 11:
		if (s) {
			struct mpt_endpoint re = {.addr = ra, .port = 0};
			if (mpt_pm_subflow_close(s, &la, &re, W.now) > 0)
				fz_disruptive = true;
		}
		break;
	case 12:
		if (s)
			(void)mpt_sock_set_backup(s, (arg & 0x10) ? NULL : &la, (arg >> 5) & 1,
						  W.now);
		break;
	case 13:
		if (arg & 0x80) {
			if (mpt_stack_remove_local_addr(W.st[h], &la, W.now) == 0)
				fz_disruptive = true;
		} else if (arg & 0x40) {
			(void)mpt_stack_add_local_addr(W.st[h], &la, W.now);
		} else if (s && mpt_pm_withdraw(s, &la, W.now) == 0) {
			fz_disruptive = true;
		}
		break;
	case 14: { /* every information call */
		struct mpt_sock_info si;
		struct mpt_mptcp_info mi;
		struct mpt_subflow_info sf[4];
		struct mpt_endpoint eps[4];
		uint8_t ids[4];
		struct mpt_pm_event ev;
		for (int i = 0; i < 2; i++) {
			struct mpt_sock *x = W.sk[i];
			if (!x)
				continue;
			(void)mpt_sock_info(x, &si);
			(void)mpt_sock_mptcp_info(x, &mi);
			(void)mpt_sock_subflows(x, sf, 4);
			(void)mpt_pm_remote_addrs(x, eps, ids, 4);
			(void)mpt_sock_events(x);
			while (mpt_sock_pm_event(x, &ev) == 1) {
			}
		}
		break;
	}
	default: /* the allocation after the next (arg % 32) fails */
		fz_fail_at = fz_allocs + (arg % 32);
		fz_disruptive = true;
		break;
	}
	fz_settle();
}

/* ---- time and the network ------------------------------------------------- */

/* u8: (b & 31) + 1 units of 1 us, 1 ms, 10 ms, 100 ms, 1 s, 10 s, 60 s or 1 ns. */
static void fz_time(struct fz_in *in)
{
	static const uint64_t unit[8] = {1000ULL,        1000000ULL,    10000000ULL,
					 100000000ULL,   1000000000ULL, 10000000000ULL,
					 60000000000ULL, 1ULL};
	uint8_t b = in_u8(in);
	fz_advance((uint64_t)((b & 31) + 1) * unit[b >> 5]);
}

/*
 * The network between the hosts (u8): deliver everything, deliver / drop /
 * duplicate / move to the back one queued packet, hold packets or let them
 * flow, and (hostile targets only) flip bits of a queued packet in flight
 * (u16 offset, u8 mask): the stacks' own packets, mutated, reach states a
 * packet built from scratch does not.
 */
static void fz_queue(struct fz_in *in, bool hostile)
{
	uint8_t b = in_u8(in);
	size_t i = fz_qn ? (size_t)(b >> 3) % fz_qn : 0;
	switch (b & 7) {
	case 0:
		fz_pump();
		break;
	case 1:
		fz_deliver(i);
		break;
	case 2:
		if (i < fz_qn)
			fz_qfree(fz_qtake(i));
		break;
	case 3:
		if (i < fz_qn) {
			const struct fz_pkt *src = FZ_Q(i);
			struct fz_pkt *d = fz_qpush();
			if (d)
				*d = *src;
		}
		break;
	case 4:
		W.hold = !W.hold;
		fz_settle();
		break;
	case 5:
		if (hostile && i < fz_qn) {
			uint16_t off = in_u16(in);
			uint8_t mask = in_u8(in);
			struct fz_pkt *q = FZ_Q(i);
			q->b[off % q->len] ^= mask ? mask : 1;
		}
		break;
	case 6:
		fz_qclear();
		break;
	default:
		if (i < fz_qn && fz_qn > 1) {
			uint8_t k = fz_qtake(i);
			fz_ord[fz_qn++] = k;
		}
		break;
	}
}

/* A raw packet from the input (u8 host, u16 length), in an exact-size
 * buffer so that AddressSanitizer sees any read past its end. */
static void fz_raw(struct fz_in *in)
{
	int to = in_u8(in) & 1;
	const uint8_t *p;
	size_t n = in_take(in, in_u16(in) % FZ_PMAX, &p);
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return;
	memcpy(copy, p, n);
	(void)mpt_stack_input(W.st[to], copy, n, W.now);
	free(copy);
	fz_settle();
}

#define FZ_MAX_OPS 256

/* The hostile targets' input: a list of operations (first byte % 8). */
static void fz_run_hostile(struct fz_in *in)
{
	for (int ops = 0; in->n && ops < FZ_MAX_OPS; ops++) {
		uint8_t op = in_u8(in);
		switch (op % 8) {
		case 0:
			fz_raw(in);
			break;
		case 4:
			fz_time(in);
			break;
		case 5:
			fz_app(in);
			break;
		case 6:
			fz_queue(in, true);
			break;
		default:
			fz_segment(in);
			break;
		}
	}
}

#endif /* MPT_FUZZ_HARNESS_H */
