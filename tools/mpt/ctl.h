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
 * One control server per process (one stack per process).  The tool calls,
 * from its own code:
 *   ctl_server_open()          after mpt_backend_create()
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
/** Close the socket and every client; remove the socket file. */
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
