/* SPDX-License-Identifier: Apache-2.0 */
/* Signals, a wake-up timer, a progress line, connection kinds (toolloop.h). */
#define _GNU_SOURCE
#include "toolloop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* ---- signals ---------------------------------------------------------------- */

static void sigset_tool(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

static void on_signalfd(void *ud, int fd, uint32_t events)
{
	struct tool_signals *s = ud;
	(void)events;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		s->fn(s->ud, (int)si.ssi_signo);
}

int tool_signals_open(struct tool_signals *s, struct mpt_backend *be, tool_signal_fn fn, void *ud)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->fn = fn;
	s->ud = ud;
	signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigset_tool(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0)
		return -1;
	if (mpt_backend_watch(be, s->fd, EPOLLIN, on_signalfd, s) < 0) {
		close(s->fd);
		s->fd = -1;
		errno = EMFILE;
		return -1;
	}
	return 0;
}

void tool_signals_close(struct tool_signals *s, struct mpt_backend *be)
{
	if (s->fd < 0)
		return;
	if (be)
		mpt_backend_unwatch(be, s->fd);
	close(s->fd);
	s->fd = -1;
	sigset_t set;
	sigset_tool(&set);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- a wake-up timer ------------------------------------------------------------ */

static void on_timerfd(void *ud, int fd, uint32_t events)
{
	struct tool_timer *t = ud;
	(void)events;
	uint64_t n;
	while (read(fd, &n, sizeof(n)) > 0)
		;
	t->armed = MPT_TIME_NEVER;
}

int tool_timer_open(struct tool_timer *t, struct mpt_backend *be)
{
	t->armed = MPT_TIME_NEVER;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0)
		return -1;
	if (mpt_backend_watch(be, t->fd, EPOLLIN, on_timerfd, t) < 0) {
		close(t->fd);
		t->fd = -1;
		errno = EMFILE;
		return -1;
	}
	return 0;
}

void tool_timer_arm(struct tool_timer *t, uint64_t deadline)
{
	if (t->fd < 0 || deadline == t->armed)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (deadline != MPT_TIME_NEVER) {
		uint64_t d = deadline ? deadline : 1; /* 0 would disarm */
		its.it_value.tv_sec = (time_t)(d / MPT_NS_PER_S);
		its.it_value.tv_nsec = (long)(d % MPT_NS_PER_S);
	}
	if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		t->armed = deadline;
}

void tool_timer_close(struct tool_timer *t, struct mpt_backend *be)
{
	if (t->fd < 0)
		return;
	if (be)
		mpt_backend_unwatch(be, t->fd);
	close(t->fd);
	t->fd = -1;
}

/* ---- progress line ----------------------------------------------------------------- */

void tool_progress_init(struct tool_progress *p, bool quiet, uint64_t now)
{
	memset(p, 0, sizeof(*p));
	p->on = !quiet && isatty(STDERR_FILENO);
	p->start = now;
}

static void fmt_size(char *buf, size_t len, uint64_t b)
{
	if (b >= 10ull * 1024 * 1024 * 1024)
		snprintf(buf, len, "%.1f GiB", (double)b / (1024.0 * 1024 * 1024));
	else if (b >= 10ull * 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)b / (1024.0 * 1024));
	else
		snprintf(buf, len, "%.1f KiB", (double)b / 1024.0);
}

void tool_progress_update(struct tool_progress *p, const char *what, uint64_t done, uint64_t total,
			  uint64_t now)
{
	if (!p->on || now < p->next)
		return;
	p->next = now + MPT_NS_PER_S / 4;
	double secs = (double)(now - p->start) / 1e9;
	double mbit = secs > 0 ? (double)done * 8 / secs / 1e6 : 0;
	char d[32], t[32];
	fmt_size(d, sizeof(d), done);
	if (total) {
		fmt_size(t, sizeof(t), total);
		double frac = (double)done / (double)total;
		int bar = (int)(frac * 20 + 0.5);
		fprintf(stderr, "\r\033[K%s [%.*s%*s] %5.1f%%  %s of %s  %.1f Mbit/s", what, bar,
			"====================", 20 - bar, "", 100 * frac, d, t, mbit);
	} else {
		fprintf(stderr, "\r\033[K%s %s  %.1f Mbit/s", what, d, mbit);
	}
	fflush(stderr);
	p->shown = true;
}

void tool_progress_clear(struct tool_progress *p)
{
	if (p->shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		p->shown = false;
	}
	p->next = 0;
}

/* ---- what a connection became ------------------------------------------------------- */

const char *tool_conn_kind(const struct mpt_sock *s, char *buf, size_t len)
{
	struct mpt_mptcp_info mi;
	if (!s) {
		snprintf(buf, len, "no connection");
		return buf;
	}
	if (mpt_sock_mptcp_info(s, &mi) < 0) {
		snprintf(buf, len, "TCP (MPTCP not negotiated)");
		return buf;
	}
	if (mi.fallback) {
		/* RFC 8684 §3.7: no key from the peer means it never answered
		 * with MPTCP; with its key, the connection fell back later. */
		if (mi.mptcpi_flags & MPT_MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED)
			snprintf(buf, len, "TCP (fell back from MPTCP v%u)", mi.version);
		else
			snprintf(buf, len, "TCP (the peer did not answer with MPTCP)");
		return buf;
	}
	if (!mpt_sock_mptcp_enabled(s)) {
		snprintf(buf, len, "TCP");
		return buf;
	}
	/* Every subflow the connection has had that is still known, closing
	 * ones included (mptcpi_subflows_total counts established ones only:
	 * 0 once the connection closes). */
	struct mpt_subflow_info sf[32];
	int n = mpt_sock_subflows(s, sf, 32);
	unsigned total = 0, joins = 0;
	for (int i = 0; i < n && i < 32; i++) {
		total++;
		joins += sf[i].join;
	}
	if (mi.mptcpi_subflows_total > total) {
		total = mi.mptcpi_subflows_total;
		joins = mi.mptcpi_subflows;
	}
	snprintf(buf, len, "MPTCP v%u, %u subflow%s (%u join%s)", mi.version, total,
		 total == 1 ? "" : "s", joins, joins == 1 ? "" : "s");
	return buf;
}
