/*
 * Pieces shared by mpt's long-running services (`mpt convert`, `mpt proxy`,
 * `mpt onpath`) and its other subcommands: option parsing with the tools'
 * error messages, signal handling on the backend loop, and the non-blocking
 * kernel connect() that precedes a relay.
 */
#ifndef MPT_TOOL_SVC_H
#define MPT_TOOL_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mpt/backend.h"
#include "mpt/mpt.h"
#include "opts.h"
#include "relay.h"

/* ---- option parsing --------------------------------------------------------- */

/**
 * Parse a decimal integer option in [lo, hi].  On error print
 * "PROG: OPT: 'ARG' is not PRE in [LO, HI]POST" (PRE empty: "is not in")
 * on stderr and return -1; else store it in *out and return 0.
 */
int svc_parse_ulong(const char *prog, const char *opt, const char *arg, unsigned long lo,
		    unsigned long hi, const char *pre, const char *post, unsigned long *out);
/**
 * Parse a number of seconds in [0.001, max] into nanoseconds.  On error print
 * "PROG: OPT: 'ARG' is not a number of seconds in [0.001, MAX]" and return -1.
 */
int svc_parse_seconds(const char *prog, const char *opt, const char *arg, double max, uint64_t *ns);
/**
 * Parse 1 to max bytes of hex digits (a cookie).  On error print
 * "PROG: OPT: 'ARG' is not 1 to MAX bytes of hex digits" and return -1;
 * else return the length.
 */
int svc_parse_hex(const char *prog, const char *opt, const char *arg, uint8_t *out, size_t max);
/**
 * An option the subcommand does not handle itself: hand it to the shared
 * stack options (mpt_opts_handle).  An unknown one ('?' included) prints
 * usage on stderr.  Returns 0, or 2 (the exit status) when parsing must stop.
 */
int svc_stack_opt(struct mpt_tool_opts *o, const char *prog, int ch, const char *arg,
		  void (*usage)(FILE *f));

/* ---- options `mpt convert` and `mpt proxy` share --------------------------------- */

#define SVC_MAX_COOKIE        64
#define SVC_DEFAULT_MAX_CONNS 512
#define SVC_CONNECT_NS        (10 * MPT_NS_PER_S)

enum {
	SVC_OPT_COOKIE = 0x1800,
	SVC_OPT_MAX_CONNS,
	SVC_OPT_BUF,
	SVC_OPT_CONNECT_TIMEOUT,
	SVC_OPT_MSL,
};

/** getopt_long entries of the shared service options. */
/* clang-format off */
#define SVC_LONGOPTS                                                            \
	{"cookie", required_argument, NULL, SVC_OPT_COOKIE},                    \
	{"max-conns", required_argument, NULL, SVC_OPT_MAX_CONNS},              \
	{"buf", required_argument, NULL, SVC_OPT_BUF},                          \
	{"connect-timeout", required_argument, NULL, SVC_OPT_CONNECT_TIMEOUT},  \
	{"msl", required_argument, NULL, SVC_OPT_MSL}
/* clang-format on */

/** What the shared service options set (--msl goes to the stack options). */
struct svc_conf {
	uint8_t cookie[SVC_MAX_COOKIE];
	int cookie_len;      /**< 0: no cookie */
	size_t max_conns;    /**< --max-conns */
	size_t bufsize;      /**< --buf: relay buffer per direction */
	uint64_t connect_ns; /**< --connect-timeout */
};

/** Defaults: 512 connections, RELAY_BUF_DEFAULT, 10 s to connect, no cookie. */
void svc_conf_init(struct svc_conf *c);
/**
 * An option the service does not handle itself: a shared service option
 * into c (or o for --msl), else svc_stack_opt().  Returns 0, or 2 (the exit
 * status) when parsing must stop.
 */
int svc_conf_opt(struct svc_conf *c, struct mpt_tool_opts *o, const char *prog, int ch,
		 const char *arg, void (*usage)(FILE *f));

/* ---- signals ---------------------------------------------------------------- */

/** SIGINT and SIGTERM stop the backend loop; SIGUSR1 calls report (counters). */
struct svc_signals {
	int fd; /**< the signalfd, -1 when closed */
	struct relay_watch watch;
	struct mpt_backend *be;
	void (*report)(void *ud);
	void *ud;
};

/**
 * Block SIGINT, SIGTERM and SIGUSR1 into a signalfd (relay_signalfd()).  On
 * error print "PROG: signalfd: ERRNO" and return -1; else 0.
 */
int svc_signals_open(struct svc_signals *s, const char *prog);
/** Watch the signalfd through the relay poller (relay_poller_init done).  0 or -1 (errno). */
int svc_signals_watch(struct svc_signals *s, struct mpt_backend *be, void (*report)(void *ud),
		      void *ud);
/** Close the signalfd (if open). */
void svc_signals_close(struct svc_signals *s);

/* ---- connecting to a kernel TCP peer ----------------------------------------- */

/**
 * Start a non-blocking TCP connection to dst (TCP_NODELAY set first when
 * nodelay).  *fd is the socket, or -1 when none could be made.  Returns 0
 * (connected already), EINPROGRESS (watch for EPOLLOUT, then
 * svc_connect_result()), or the errno of the failure.
 */
int svc_connect(const struct mpt_endpoint *dst, bool nodelay, int *fd);
/**
 * After an epoll event on a connecting socket: -1 while still in progress,
 * else 0 (connected) or the errno the connection failed with.
 */
int svc_connect_result(int fd, uint32_t events);

#endif /* MPT_TOOL_SVC_H */
