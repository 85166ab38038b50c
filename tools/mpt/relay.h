/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Relay between one connection of mpt's userspace stack and one kernel TCP
 * socket, inside the backend's epoll loop (used by `mpt proxy` and
 * `mpt convert`).
 *
 * Two independent bounded ring buffers, one per direction.  A side is read
 * only while the buffer towards the other side has room: a full buffer stops
 * reading from the kernel socket (its receive window closes) or stops
 * mpt_recv() (the stack's window closes), and reading resumes when the other
 * side drains (EPOLLOUT / MPT_EV_WRITABLE).  Memory is 2 x bufsize per
 * connection, whatever the peers do.
 *
 * End of stream is propagated as a half-close: kernel EOF -> mpt_shutdown()
 * once everything read has been handed to the stack; mpt EOF ->
 * shutdown(SHUT_WR) once everything has been written to the kernel.  A reset
 * is mapped to the other side: kernel ECONNRESET/EPIPE -> mpt_abort() (RST,
 * MP_FASTCLOSE for MPTCP); an mpt error or reset -> close() with SO_LINGER 0
 * so the kernel sends a RST.
 */
#ifndef MPT_TOOL_RELAY_H
#define MPT_TOOL_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpt/backend.h"
#include "mpt/mpt.h"

/*
 * The backend watches at most a handful of application descriptors
 * (BE_MAX_APP_FDS, 16), so every kernel socket of the proxy and the
 * converter lives in one epoll set of our own, and only that set's
 * descriptor is watched by the backend (epoll descriptors nest).
 */
struct relay_watch {
	void (*fn)(void *ud, uint32_t events); /**< NULL: ignore (closed, freed at idle) */
	void *ud;
};

/** Create the poller and register it with the backend.  Returns 0 or -1 (errno). */
int relay_poller_init(struct mpt_backend *be);
/** Close the poller. */
void relay_poller_fini(struct mpt_backend *be);
/** Watch fd (EPOLLIN/EPOLLOUT, level-triggered).  Returns 0 or -1 (errno). */
int relay_poller_add(int fd, uint32_t events, struct relay_watch *w);
int relay_poller_mod(int fd, uint32_t events, struct relay_watch *w);
void relay_poller_del(int fd);

#define RELAY_BUF_DEFAULT (128u * 1024u)
#define RELAY_BUF_MIN     (4u * 1024u)
#define RELAY_BUF_MAX     (16u * 1024u * 1024u)

/** A bounded byte ring. */
struct relay_ring {
	uint8_t *buf;
	size_t cap;
	size_t head; /**< next byte to take out */
	size_t len;  /**< bytes held */
};

/** How a relayed connection ended (for the log line and counters). */
enum relay_end {
	RELAY_RUNNING = 0,
	RELAY_END_CLEAN,        /**< both directions finished with FINs */
	RELAY_END_KERNEL_RESET, /**< the kernel side reset (ECONNRESET/EPIPE) -> mpt_abort */
	RELAY_END_KERNEL_ERROR, /**< another kernel socket error -> mpt_abort */
	RELAY_END_MPT_RESET,    /**< the mpt side was reset -> kernel RST */
	RELAY_END_MPT_ERROR,    /**< another mpt error (timeout, ...) -> kernel RST */
	RELAY_END_ABORTED,      /**< relay_abort(): both sides reset (shutdown, limits) */
};

/** Human-readable name of an ending ("clean", "kernel reset", ...). */
const char *relay_end_name(enum relay_end e);

struct relay {
	struct mpt_backend *be;
	struct relay_watch watch;
	struct mpt_sock *ms; /**< NULL once closed */
	int fd;              /**< -1 once closed */
	struct relay_ring k2m, m2k;
	uint32_t fd_want;       /**< epoll events requested for fd */
	bool k_eof, m_fin_sent; /**< kernel -> mpt direction */
	bool m_eof, k_shut;     /**< mpt -> kernel direction */
	bool started, watching; /**< relay_start() done / fd watched */
	enum relay_end end;     /**< RELAY_RUNNING until finished */
	int m_err;              /**< mpt error that ended it (or 0) */
	int k_errno;            /**< kernel errno that ended it (or 0) */
	uint64_t bytes_k2m;     /**< bytes read from the kernel socket */
	uint64_t bytes_m2k;     /**< bytes read from the mpt socket */
	uint64_t t_start;       /**< mpt_backend_now() at relay_init */
	int subflows;           /**< most MPTCP subflows seen (incl. initial), -1: plain TCP */
	uint64_t next_sample;   /**< when to sample the subflow count again */
	char tag[160];          /**< who, for the log line */
};

/**
 * Set up r (buffers of bufsize bytes each).  Takes ownership of ms and fd
 * only after relay_start().  Returns 0 or MPT_ERR_NOMEM.
 */
int relay_init(struct relay *r, struct mpt_backend *be, struct mpt_sock *ms, int fd,
	       size_t bufsize);
/** Queue bytes to be sent on the mpt side first (e.g. a Convert answer). */
int relay_preload_k2m(struct relay *r, const uint8_t *data, size_t len);
/** Queue bytes to be written to the kernel side first (e.g. data after a header). */
int relay_preload_m2k(struct relay *r, const uint8_t *data, size_t len);
/**
 * Start relaying: fd (non-blocking) is watched through the backend and the
 * pumps run.  Returns 0, or a backend error (the relay then ended aborted).
 */
int relay_start(struct relay *r);
/** Feed an MPT_EV_* event of r->ms (from the stack's on_event). */
void relay_on_mpt_event(struct relay *r, unsigned ev);
/** Reset both sides now (e.g. at program exit); r ends RELAY_END_ABORTED. */
void relay_abort(struct relay *r);
/** True once the relay ended: both sides closed, r->end says how. */
bool relay_done(const struct relay *r);
/** Free the buffers (after relay_done, or instead of relay_start). */
void relay_free(struct relay *r);
/** Seconds since relay_init. */
double relay_seconds(const struct relay *r);

/* ---- counters shared by proxy and convert -------------------------------- */

/** Program-wide counters. */
struct relay_counters {
	uint64_t accepted; /**< connections accepted */
	uint64_t
	    conversions; /**< relayed through RFC 8803 (convert: served; proxy: via --convert) */
	uint64_t passthroughs; /**< proxy: relayed straight to an MPTCP server, no converter */
	uint64_t fallbacks;    /**< MPTCP was attempted but the connection fell back to TCP */
	uint64_t ended[RELAY_END_ABORTED + 1]; /**< relayed connections by ending */
	uint64_t bytes_k2m, bytes_m2k;
	uint64_t
	    rfc_errors[256];   /**< RFC 8803 Error TLV codes sent (convert) or received (proxy) */
	uint64_t local_errors; /**< failures before relaying that have no RFC code */
	uint64_t handshake_timeouts; /**< gave up waiting for a Convert message / SOCKS request */
};

/** Count a finished relay and print its log line "PROG: TAG: ..." on stderr
 *  (prog NULL: count only). */
void relay_account(struct relay_counters *c, const struct relay *r, const char *prog);
/** Print all non-zero counters on stderr, one "PROG: counter NAME VALUE" per line. */
void relay_counters_print(const struct relay_counters *c, const char *prog);
/** Add every counter of from to to (the threads of `mpt convert --threads`). */
void relay_counters_add(struct relay_counters *to, const struct relay_counters *from);
/** Print the stack counters named in names (NULL-terminated) as
 *  "PROG: counter stack-NAME VALUE" lines on stderr. */
void relay_stack_counters_print(const struct mpt_stack *st, const char *prog,
				const char *const *names);
/** Name of an RFC 8803 error code ("not-authorized", ...; "code-N" when unassigned). */
const char *relay_rfc_error_name(unsigned code);

/* ---- a counting allocator for the stack ------------------------------------ */

/**
 * Allocator hooks that count the bytes the stack (and the backend) hold, so
 * that memory growth can be told from the C library keeping freed pages.
 */
const struct mpt_mem *relay_counting_mem(void);
/** Bytes currently allocated through relay_counting_mem(), and allocations. */
void relay_mem_usage(uint64_t *bytes, uint64_t *blocks);
/**
 * From the idle callback: when the stack released a lot of memory since the
 * last call that did something (16 MiB), give the C library's free pages
 * back to the system (glibc keeps them otherwise, and RSS never shrinks).
 * Checks at most every 2 s.
 */
void relay_mem_trim(uint64_t now);

/* ---- helpers shared by proxy and convert --------------------------------- */

struct sockaddr_storage;

/** Parse "A.B.C.D:PORT" or "[V6]:PORT" (port 1-65535).  Returns 0 or -1. */
int relay_parse_hostport(const char *s, struct mpt_endpoint *out);
/** Parse an even number of hex digits (at most max bytes).  Returns the length or -1. */
int relay_parse_hex(const char *s, uint8_t *out, size_t max);
/** Fill a sockaddr_in/_in6 from e; returns its length. */
unsigned relay_sockaddr(const struct mpt_endpoint *e, struct sockaddr_storage *ss);
/** Read back an endpoint from a sockaddr (IPv4-mapped IPv6 becomes IPv4).  0 or -1. */
int relay_endpoint(const struct sockaddr_storage *ss, struct mpt_endpoint *e);
/** "1.2.3.4:80" or "[::1]:80" into buf (64 bytes is enough); returns buf. */
char *relay_fmt_ep(const struct mpt_endpoint *e, char *buf, size_t len);
/**
 * Block SIGINT, SIGTERM and SIGUSR1 and return a non-blocking signalfd for
 * them (SIGPIPE is ignored).  Returns the fd or -1.
 */
int relay_signalfd(void);

#endif /* MPT_TOOL_RELAY_H */
