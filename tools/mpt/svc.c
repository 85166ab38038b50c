/* Shared pieces of mpt's services and subcommands (see svc.h). */
#define _GNU_SOURCE
#include "svc.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- option parsing --------------------------------------------------------- */

int svc_parse_ulong(const char *prog, const char *opt, const char *arg, unsigned long lo,
		    unsigned long hi, const char *pre, const char *post, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	/* An overflow gives ULONG_MAX, above any hi we use. */
	if (errno || end == arg || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: %s: '%s' is not %sin [%lu, %lu]%s\n", prog, opt, arg, pre, lo,
			hi, post);
		return -1;
	}
	*out = v;
	return 0;
}

int svc_parse_seconds(const char *prog, const char *opt, const char *arg, double max, uint64_t *ns)
{
	char *end;
	errno = 0;
	double d = strtod(arg, &end);
	if (errno || end == arg || *end || !(d >= 0.001 && d <= max)) {
		fprintf(stderr, "%s: %s: '%s' is not a number of seconds in [0.001, %g]\n", prog,
			opt, arg, max);
		return -1;
	}
	*ns = (uint64_t)(d * 1e9);
	return 0;
}

int svc_parse_hex(const char *prog, const char *opt, const char *arg, uint8_t *out, size_t max)
{
	int n = relay_parse_hex(arg, out, max);
	if (n <= 0) {
		fprintf(stderr, "%s: %s: '%s' is not 1 to %zu bytes of hex digits\n", prog, opt,
			arg, max);
		return -1;
	}
	return n;
}

int svc_stack_opt(struct mpt_tool_opts *o, const char *prog, int ch, const char *arg,
		  void (*usage)(FILE *f))
{
	/* '?' (getopt's unknown option) is not a stack option either. */
	int rc = mpt_opts_handle(o, prog, ch, arg);
	if (rc > 0)
		usage(stderr);
	return rc != 0 ? 2 : 0;
}

void svc_conf_init(struct svc_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = SVC_DEFAULT_MAX_CONNS;
	c->bufsize = RELAY_BUF_DEFAULT;
	c->connect_ns = SVC_CONNECT_NS;
}

int svc_conf_opt(struct svc_conf *c, struct mpt_tool_opts *o, const char *prog, int ch,
		 const char *arg, void (*usage)(FILE *f))
{
	unsigned long v;
	switch (ch) {
	case SVC_OPT_COOKIE:
		c->cookie_len = svc_parse_hex(prog, "--cookie", arg, c->cookie, SVC_MAX_COOKIE);
		return c->cookie_len < 0 ? 2 : 0;
	case SVC_OPT_MAX_CONNS:
		if (svc_parse_ulong(prog, "--max-conns", arg, 1, 100000, "", "", &v) < 0)
			return 2;
		c->max_conns = v;
		return 0;
	case SVC_OPT_BUF:
		if (svc_parse_ulong(prog, "--buf", arg, RELAY_BUF_MIN, RELAY_BUF_MAX, "", " bytes",
				    &v) < 0)
			return 2;
		c->bufsize = v;
		return 0;
	case SVC_OPT_CONNECT_TIMEOUT:
		return svc_parse_seconds(prog, "--connect-timeout", arg, 3600, &c->connect_ns) < 0
			   ? 2
			   : 0;
	case SVC_OPT_MSL:
		return svc_parse_seconds(prog, "--msl", arg, 600, &o->be.stack.tcp.msl_ns) < 0 ? 2
											       : 0;
	default:
		return svc_stack_opt(o, prog, ch, arg, usage);
	}
}

/* ---- signals ---------------------------------------------------------------- */

int svc_signals_open(struct svc_signals *s, const char *prog)
{
	memset(s, 0, sizeof(*s));
	s->fd = relay_signalfd();
	if (s->fd < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(errno));
		return -1;
	}
	return 0;
}

static void on_signal(void *ud, uint32_t events)
{
	struct svc_signals *s = ud;
	(void)events;
	struct signalfd_siginfo si;
	while (read(s->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			s->report(s->ud);
			continue;
		}
		mpt_backend_stop(s->be, 0);
	}
}

int svc_signals_watch(struct svc_signals *s, struct mpt_backend *be, void (*report)(void *ud),
		      void *ud)
{
	s->be = be;
	s->report = report;
	s->ud = ud;
	s->watch.fn = on_signal;
	s->watch.ud = s;
	return relay_poller_add(s->fd, EPOLLIN, &s->watch);
}

void svc_signals_close(struct svc_signals *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* ---- connecting to a kernel TCP peer ----------------------------------------- */

int svc_connect(const struct mpt_endpoint *dst, bool nodelay, int *fd)
{
	*fd = socket(dst->addr.family == 4 ? AF_INET : AF_INET6,
		     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return errno;
	if (nodelay) {
		int one = 1;
		(void)setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	struct sockaddr_storage ss;
	socklen_t sl = relay_sockaddr(dst, &ss);
	if (connect(*fd, (struct sockaddr *)&ss, sl) == 0)
		return 0;
	return errno;
}

int svc_connect_result(int fd, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0 && !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return -1;
	return err;
}
