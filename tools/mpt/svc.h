/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pieces shared by mpt's long-running services (`mpt convert`, `mpt proxy`,
 * `mpt onpath`) and its other subcommands: option parsing with the tools'
 * error messages, signal handling on the backend loop, and the non-blocking
 * kernel connect() that precedes a relay.
 */
#ifndef MPT_TOOL_SVC_H
#define MPT_TOOL_SVC_H

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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
 * The default of --threads (`mpt convert`, `mpt proxy`): one per online
 * CPU, within 1 .. MPT_BACKEND_MAX_SHARDS.
 */
unsigned svc_default_threads(void);

/*
 * Several threads (`--threads`), one backend each: how thread 0 gathers the
 * others' counters for SIGUSR1.  A thread's counters are only ever read by
 * that thread while it runs, so the others are woken (mpt_backend_wake) to
 * take a snapshot under the team's lock, and thread 0 waits for them,
 * bounded.  The tool may guard more of its shared state with the lock.
 */
struct svc_team {
	pthread_mutex_t lock;
	pthread_cond_t acked; /* a snapshot is in (on the monotonic clock) */
	unsigned acks;        /* snapshots in since the last collection */
};

/** One thread's part. */
struct svc_mate {
	struct mpt_backend *be; /* its backend (woken to take its snapshot) */
	atomic_bool report;     /* a collection asks for a snapshot */
	bool started;           /* its thread was created (threads 1 .. n-1) */
};

/** Returns 0, or -1 (out of resources). */
int svc_team_init(struct svc_team *t);
void svc_team_fini(struct svc_team *t);
/**
 * In thread 0: ask mates 1 .. n-1 (mate(ud, i); those not started are
 * skipped) for a snapshot and wait up to SVC_TEAM_WAIT_S seconds for them;
 * then copy(ud) runs under the lock (it reads the snapshots).  Those that
 * did not answer in time are named on stderr (their snapshots are older).
 */
#define SVC_TEAM_WAIT_S 2
void svc_team_collect(struct svc_team *t, unsigned n,
		      struct svc_mate *(*mate)(void *ud, unsigned i), void (*copy)(void *ud),
		      void *ud, const char *prog);
/** The group's hand-overs, summed over the threads: steer-out, steer-in,
 *  steer-drops counter lines. */
void svc_steer_print(const char *prog, const struct mpt_backend_stats *sum);
/** In a mate's thread (its backend's wake function): if a collection asked,
 *  take(ud) its snapshot under the lock and answer. */
void svc_team_answer(struct svc_team *t, struct svc_mate *m, void (*take)(void *ud), void *ud);
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

/** The account a service switches to once its devices and routes exist (--user). */
struct svc_user {
	bool set; /**< --user given */
	char name[64];
	uid_t uid;
	gid_t gid;
};

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
	SVC_OPT_HANDSHAKE_TIMEOUT,
	SVC_OPT_USER,
	SVC_OPT_CONFIG,
	SVC_OPT_CHECK,
	SVC_OPT_CTL,
};

/** getopt_long entries of the shared service options. */
/* clang-format off */
#define SVC_LONGOPTS                                                            \
	{"cookie", required_argument, NULL, SVC_OPT_COOKIE},                    \
	{"max-conns", required_argument, NULL, SVC_OPT_MAX_CONNS},              \
	{"buf", required_argument, NULL, SVC_OPT_BUF},                          \
	{"connect-timeout", required_argument, NULL, SVC_OPT_CONNECT_TIMEOUT},  \
	{"msl", required_argument, NULL, SVC_OPT_MSL},                          \
	{"handshake-timeout", required_argument, NULL,                          \
	 SVC_OPT_HANDSHAKE_TIMEOUT},                                            \
	{"user", required_argument, NULL, SVC_OPT_USER},                        \
	{"config", required_argument, NULL, SVC_OPT_CONFIG},                    \
	{"check", no_argument, NULL, SVC_OPT_CHECK},                            \
	{"ctl", required_argument, NULL, SVC_OPT_CTL}
/* clang-format on */

/** What the shared service options set (--msl goes to the stack options). */
struct svc_conf {
	uint8_t cookie[SVC_MAX_COOKIE];
	int cookie_len;        /**< 0: no cookie */
	size_t max_conns;      /**< --max-conns */
	size_t bufsize;        /**< --buf: relay buffer per direction */
	uint64_t connect_ns;   /**< --connect-timeout */
	uint64_t handshake_ns; /**< --handshake-timeout: the client's request (Convert
				    message, SOCKS negotiation) must be complete by then */
	struct svc_user user;  /**< --user */
	bool check;            /**< --check: validate, report, exit */
	const char *ctl_path;  /**< --ctl: control socket (NULL: the default, "none": none) */
};

/** Defaults: 512 connections, RELAY_BUF_DEFAULT, 10 s to connect, 10 s for
 *  the request, no cookie, no --user. */
void svc_conf_init(struct svc_conf *c);
/**
 * An option the service does not handle itself: a shared service option
 * into c (or o for --msl), else svc_stack_opt().  --config is the caller's
 * (it needs the caller's option handler).  Returns 0, or 2 (the exit
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

/* ---- a timer for the tools' own deadlines ------------------------------------ */

/*
 * The backend sleeps until a packet, a descriptor or one of the stack's
 * deadlines; a tool's own deadlines (a Convert message or a SOCKS request
 * that never completes) must wake it too, or an otherwise idle service waits
 * forever.  A timerfd in the relay poller does that: the idle callback runs
 * after every wake-up, checks its deadlines and arms the next one.
 */
struct svc_timer {
	int fd; /**< timerfd, -1 when closed */
	struct relay_watch watch;
	uint64_t armed; /**< absolute CLOCK_MONOTONIC ns, MPT_TIME_NEVER: disarmed */
};

/** Create the timerfd and watch it (relay_poller_init done).  0 or -1 (errno). */
int svc_timer_open(struct svc_timer *t);
/** Wake the loop at deadline (mpt_backend_now() clock); MPT_TIME_NEVER disarms. */
void svc_timer_arm(struct svc_timer *t, uint64_t deadline);
/** Stop watching and close (safe when never opened: fd -1). */
void svc_timer_close(struct svc_timer *t);

/* ---- per-source accounting ------------------------------------------------------ */

/*
 * Connections per source, for limits that a single hostile source cannot
 * exhaust for everyone (issue 11: 2,000 slow connections from one host).  A
 * source is the client's IPv4 address, or its IPv6 /64 (one subscriber
 * usually holds a whole /64, RFC 6177).  Entries exist while a source has a
 * connection: at most one per connection, so the table is bounded by the
 * connection limit.
 */
struct svc_src {
	struct mpt_addr key;  /**< IPv4 address, or IPv6 /64 (low 64 bits zero) */
	uint32_t handshakes;  /**< connections still negotiating (no request yet) */
	uint32_t total;       /**< every connection held for this source */
	uint64_t window;      /**< start of the current one-second refusal window */
	uint32_t refused;     /**< refusals in that window */
	struct svc_src *next; /**< hash chain */
};

struct svc_srcs {
	struct svc_src **bucket;
	size_t n_buckets; /**< a power of two */
	size_t n;         /**< sources with at least one connection */
};

/** An empty table sized for about max_conns sources.  0 or -1 (ENOMEM). */
int svc_srcs_init(struct svc_srcs *t, size_t max_conns);
void svc_srcs_fini(struct svc_srcs *t);
/** The entry of a's source, created (zero counts) when absent; NULL: out of memory. */
struct svc_src *svc_src_get(struct svc_srcs *t, const struct mpt_addr *a);
/** Free e when both its counts are zero. */
void svc_src_release(struct svc_srcs *t, struct svc_src *e);

/* ---- privileges --------------------------------------------------------------- */

/**
 * Look NAME (or a numeric uid) up in the user database.  On error print
 * "WHERE: --user: ..." and return -1.
 */
int svc_user_parse(const char *where, const char *name, struct svc_user *u);

/** Capability bits (1 << CAP_x) for svc_drop_privileges' keep argument. */
#define SVC_CAP_NET_ADMIN (UINT64_C(1) << 12)

/**
 * Least privilege after setup (TUN devices opened, routes installed,
 * listening sockets bound, pcap opened): with --user, switch every uid and
 * gid (and the supplementary groups) to that account; in every case where
 * the process holds capabilities and is not root without --user, reduce the
 * permitted, effective and bounding sets to keep, clear the inheritable and
 * ambient sets, and set no_new_privs.  Nothing the services do afterwards
 * needs a privilege: mpt's paths are the stack's addresses (REMOVE_ADDR /
 * ADD_ADDR, --watch) over descriptors already open, so keep is 0 today; a
 * caller that changes kernel routes later would keep SVC_CAP_NET_ADMIN.
 * Root without --user keeps running as root (a warning says so).  Checks
 * the result (uid 0 cannot be regained, the effective set is keep).  On
 * error prints "PROG: ..." and returns -1: the caller must exit.
 */
int svc_drop_privileges(const char *prog, const struct svc_user *u, uint64_t keep);
/** Effective capabilities of this process (bit n = capability n); 0 on error. */
uint64_t svc_caps_effective(void);

/* ---- configuration files ------------------------------------------------------ */

/**
 * Handle one option: ch is the getopt_long code of the option (from the
 * same table as the command line), arg its value (NULL for flags).  Values
 * stay valid until svc_config_free().  where prefixes error messages
 * ("mpt convert" on the command line, "mpt convert: FILE:LINE" in a file).
 * Returns 0, or the exit status (2) when parsing must stop.
 */
typedef int (*svc_opt_fn)(void *ud, const char *where, int ch, const char *arg);

/**
 * Read a configuration file: one option per line, "NAME [VALUE]", NAME a
 * long option of lopts without the dashes, '#' starts a comment, blank
 * lines are ignored; positional (e.g. "listen") names the command's operand,
 * stored in *operand.  Options excluded ("config", "help", "check") are
 * refused.  Every error is reported as "PROG: FILE:LINE: ..." (or
 * "PROG: FILE: ERRNO").  Returns 0, or 2 (exit status).
 */
int svc_config_load(const char *prog, const char *path, const struct option *lopts,
		    const char *positional, const char **operand, svc_opt_fn fn, void *ud);
/** Free every configuration file read so far (values handed out die). */
void svc_config_free(void);

/* ---- --check ------------------------------------------------------------------ */

/** Counts of --check findings. */
struct svc_check {
	const char *prog;
	unsigned problems; /**< would stop the service or break it */
	unsigned warnings; /**< works, but not as it should be deployed */
};

/** Print "PROG: check: ok: ..." */
void svc_check_ok(struct svc_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Print "PROG: check: PROBLEM: ..." and count it. */
void svc_check_problem(struct svc_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Print "PROG: check: warning: ..." and count it. */
void svc_check_warn(struct svc_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/**
 * The host's side of a backend configuration, as far as it can be seen
 * without creating anything: /dev/net/tun usable; per path, the device
 * (created: CAP_NET_ADMIN needed; attached: a TUN device this user may
 * open, up, with the route to the path address through it when there is no
 * CAP_NET_ADMIN), the path address not owned by a kernel interface nor
 * routed through another device (another instance), forwarding enabled for
 * its family (the kernel forwards what the TUN sends); the --user account.
 */
void svc_check_host(struct svc_check *c, const struct mpt_backend_cfg *be,
		    const struct svc_user *u);
/** The summary line; returns the exit status (0: no problem, 1). */
int svc_check_finish(struct svc_check *c);

#endif /* MPT_TOOL_SVC_H */
