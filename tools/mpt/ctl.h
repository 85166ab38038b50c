/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket of a running mpt process: what `mpt ss`, `mpt nstat`
 * and `mpt monitor` read.
 *
 * A unix stream socket (mode 0600: the owner, normally root, only) at
 * /run/mpt/TOOL.PID.sock by default ($XDG_RUNTIME_DIR/mpt/ or
 * /tmp/mpt-UID/ when /run/mpt cannot be written), served from the tool's
 * backend loop: no thread, no call into the stack outside the loop.  A
 * client sends one request line and reads JSON:
 *
 *   "ss\n"       one document: the process and its connections, each with
 *                its subflows (addresses, ids, state, RTT, cwnd, bytes,
 *                retransmissions, backup flag; MPTCP or fallen back)
 *   "nstat\n"    one document: every counter (kernel MIB names) and the
 *                backend's packet counters
 *   "monitor\n"  a stream, one JSON object per line: {"ready": ...} first,
 *                then every path-manager event (ip mptcp monitor's
 *                vocabulary: CREATED, ESTABLISHED, ANNOUNCED, REMOVED,
 *                SF_ESTABLISHED, SF_CLOSED, SF_PRIORITY, CLOSED) until the
 *                client closes
 *
 * Everything is bounded: 8 clients at a time (more are closed at once),
 * 256-byte requests, 1 s to send one, 16 MiB per answer, 256 KiB of events
 * queued per monitor (beyond: dropped and counted in a "lost" line).
 *
 * One control server per process, served by the thread that opened it.  A
 * program with one stack per thread (`--threads`) adds the others' stacks
 * (ctl_server_add_thread): an ss or nstat request then asks every thread
 * for its part through its backend's wake-up (each stack is only touched by
 * its own thread), and is answered once all are in, with the connections
 * of every thread and the counters summed over them.  A thread that does
 * not answer within CTL_GATHER_S seconds is left out and named in the
 * answer ("error", "threads_missing"); the server's loop never waits for
 * it.  `monitor` streams the server thread's events only.  The tool calls,
 * from its own code:
 *   ctl_server_open()          after mpt_backend_create()
 *   ctl_server_add_thread()    several threads: for each of threads 1 ..
 *                              n-1, from the server's thread, before that
 *                              thread runs
 *   ctl_server_on_wake()       several threads: in every thread's backend
 *                              wake function (mpt_backend_set_wake)
 *   ctl_server_on_event()      first thing in its stack on_event callback
 *   ctl_server_sock_closing()  just before mpt_close()/mpt_abort() of a
 *                              connection (events after the close are not
 *                              delivered: CLOSED is reported here)
 *   ctl_server_close()         before mpt_backend_destroy()
 */
#ifndef MPT_TOOL_CTL_H
#define MPT_TOOL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mpt/backend.h"
#include "mpt/mpt.h"

/** Fill out with the tool's connections (and listeners); return how many. */
typedef size_t (*ctl_list_fn)(void *ud, struct mpt_sock **out, size_t max);

/**
 * Open the control socket and serve it from be's loop.  path: NULL for the
 * default, "none" for no socket at all.  Prints "PROG: ..." and returns -1
 * when the socket cannot be made (an explicit path) ; a default path that
 * cannot be made is a warning (the tool runs without).  Returns 0.
 */
int ctl_server_open(struct mpt_backend *be, struct mpt_stack *st, const char *tool,
		    const char *path, ctl_list_fn list, void *ud, const char *prog);
/** Threads a process may add (thread numbers 0 .. CTL_MAX_THREADS-1). */
#define CTL_MAX_THREADS MPT_BACKEND_MAX_SHARDS
/** How long an ss / nstat request waits for the other threads' parts. */
#define CTL_GATHER_S    2
/**
 * Thread i (1 .. CTL_MAX_THREADS-1) has stack st on backend be; list(ud)
 * lists its connections, called in thread i only.  Call in the server's
 * thread after ctl_server_open(), before thread i runs.  Without a server
 * (none, or it could not be opened), nothing.  Returns 0, or -1 with a
 * warning printed (no timer for the bounded wait: the thread is not shown).
 */
int ctl_server_add_thread(unsigned i, struct mpt_backend *be, struct mpt_stack *st,
			  ctl_list_fn list, void *ud);
/**
 * From thread i's backend wake function: in a thread added above, builds
 * the part a request asked for, if any; in the server's thread (i == 0),
 * answers the requests whose parts are all in.
 */
void ctl_server_on_wake(unsigned i);
/** Close the socket and every client; remove the socket file.  After the
 *  added threads ended. */
void ctl_server_close(void);
/** The socket's path ("" when none). */
const char *ctl_server_path(void);
/** From the stack's on_event: pops the path-manager events (always, so the
 *  connection's queue never overflows) and streams them to monitors. */
void ctl_server_on_event(struct mpt_sock *s, unsigned ev);
/** Before the tool closes or aborts connection s. */
void ctl_server_sock_closing(struct mpt_sock *s);
/** Every non-zero counter, one "PROG: counter NAME VALUE" line each. */
void ctl_server_print_counters(FILE *f, const struct mpt_stack *st, const char *prog);

/** The kernel's name of counter name ("MPTcpExt...", "TcpExt...", "Ip..."). */
void ctl_mib_name(const char *name, char *buf, size_t len);
/** The event type's name in ip mptcp monitor's vocabulary ("SF_ESTABLISHED"). */
const char *ctl_event_name(int type);

/* ---- clients (mpt ss / nstat / monitor) ---------------------------------------- */

/** Directories searched for control sockets, in order. */
size_t ctl_socket_dirs(char dirs[][256], size_t max);
/**
 * Connect to the socket at path (or, path NULL, every socket found in the
 * directories: paths are returned into found[] (up to max)).  Returns the
 * connected fd or -1 with a message in err.
 */
int ctl_connect(const char *path, char *err, size_t errlen);
/** Every live control socket found (sorted), up to max; returns how many,
 * *truncated (when not NULL) says there were more.  Sockets of processes
 * that are gone are skipped, and unlinked where the caller may. */
size_t ctl_find_sockets(char paths[][300], size_t max, bool *truncated);

#endif /* MPT_TOOL_CTL_H */
