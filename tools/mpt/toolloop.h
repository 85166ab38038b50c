/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small pieces `mpt cat` and `mpt perf` share on top of the backend loop:
 * signals read from a signalfd (so SIGINT/SIGTERM are handled in the loop,
 * between stack calls, never in an async handler), a one-shot wake-up timer,
 * a progress line for terminals, and how a connection turned out (MPTCP, or
 * TCP and why).
 */
#ifndef MPT_TOOL_LOOP_H
#define MPT_TOOL_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mpt/backend.h"
#include "mpt/mpt.h"

/* ---- signals ---------------------------------------------------------------- */

/** A signal arrived (SIGINT, SIGTERM, SIGHUP or SIGUSR1). */
typedef void (*tool_signal_fn)(void *ud, int signo);

struct tool_signals {
	int fd; /**< signalfd, -1 when closed */
	tool_signal_fn fn;
	void *ud;
};

/**
 * Block SIGINT, SIGTERM, SIGHUP and SIGUSR1, read them from a signalfd
 * watched by the backend loop, and call fn for each.  SIGPIPE is ignored.
 * Returns 0 or -1 (errno set).
 */
int tool_signals_open(struct tool_signals *s, struct mpt_backend *be, tool_signal_fn fn, void *ud);
/** Stop watching, close, and unblock the signals again. */
void tool_signals_close(struct tool_signals *s, struct mpt_backend *be);

/* ---- a wake-up timer ------------------------------------------------------------ */

struct tool_timer {
	int fd;         /**< timerfd, -1 when closed */
	uint64_t armed; /**< deadline (CLOCK_MONOTONIC ns), MPT_TIME_NEVER: none */
};

/** A timerfd watched by the loop: the loop wakes at the armed deadline (the
 *  idle callback then runs).  Returns 0 or -1 (errno set). */
int tool_timer_open(struct tool_timer *t, struct mpt_backend *be);
/** Wake the loop at deadline (MPT_TIME_NEVER: disarm). */
void tool_timer_arm(struct tool_timer *t, uint64_t deadline);
void tool_timer_close(struct tool_timer *t, struct mpt_backend *be);

/* ---- progress line ----------------------------------------------------------------- */

/**
 * A one-line progress display on a terminal (stderr), redrawn in place at
 * most 4 times a second.  Silent when stderr is not a terminal.
 */
struct tool_progress {
	bool on;        /**< stderr is a terminal and the user did not say -q */
	bool shown;     /**< a line is on screen */
	uint64_t next;  /**< earliest next redraw */
	uint64_t start; /**< when counting began */
};

void tool_progress_init(struct tool_progress *p, bool quiet, uint64_t now);
/** Redraw with done of total bytes (total 0: unknown) if it is time. */
void tool_progress_update(struct tool_progress *p, const char *what, uint64_t done, uint64_t total,
			  uint64_t now);
/** Erase the line (before other output, or at the end). */
void tool_progress_clear(struct tool_progress *p);

/* ---- what a connection became ------------------------------------------------------- */

/**
 * "MPTCP v1, 3 subflows (2 joins)", "TCP (the peer did not offer MPTCP)",
 * "TCP (fell back from MPTCP)", "TCP (--no-mptcp)"...  into buf; returns buf.
 */
const char *tool_conn_kind(const struct mpt_sock *s, char *buf, size_t len);

#endif /* MPT_TOOL_LOOP_H */
