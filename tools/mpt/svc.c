/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of mpt's services and subcommands (see svc.h). */
#define _GNU_SOURCE
#include "svc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "nlwatch.h"

/* ---- several threads ----------------------------------------------------------- */

int svc_team_init(struct svc_team *t)
{
	t->acks = 0;
	if (pthread_mutex_init(&t->lock, NULL) != 0)
		return -1;
	/* svc_team_collect's deadline is on the monotonic clock. */
	pthread_condattr_t ca;
	int ok = pthread_condattr_init(&ca) == 0;
	if (!ok || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&t->acked, &ca) != 0) {
		if (ok)
			pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&t->lock);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

void svc_team_fini(struct svc_team *t)
{
	pthread_cond_destroy(&t->acked);
	pthread_mutex_destroy(&t->lock);
}

void svc_team_collect(struct svc_team *t, unsigned n,
		      struct svc_mate *(*mate)(void *ud, unsigned i), void (*copy)(void *ud),
		      void *ud, const char *prog)
{
	unsigned want = 0;
	pthread_mutex_lock(&t->lock);
	t->acks = 0;
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 1; i < n; i++) {
		struct svc_mate *m = mate(ud, i);
		if (!m->started)
			continue;
		want++;
		atomic_store(&m->report, true);
		mpt_backend_wake(m->be, false, 0);
	}
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += SVC_TEAM_WAIT_S;
	pthread_mutex_lock(&t->lock);
	while (t->acks < want && pthread_cond_timedwait(&t->acked, &t->lock, &until) != ETIMEDOUT)
		;
	unsigned got = t->acks;
	copy(ud);
	pthread_mutex_unlock(&t->lock);
	if (got < want)
		fprintf(stderr,
			"%s: %u of %u threads did not report in time: their counters are older\n",
			prog, want - got, want);
}

void svc_steer_print(const char *prog, const struct mpt_backend_stats *sum)
{
	/* Packets a thread read for a flow another thread owns, handed over
	 * (the kernel's choice of queue and the owner differ). */
	fprintf(stderr, "%s: counter steer-out %" PRIu64 "\n", prog, sum->steer_out);
	fprintf(stderr, "%s: counter steer-in %" PRIu64 "\n", prog, sum->steer_in);
	fprintf(stderr, "%s: counter steer-drops %" PRIu64 "\n", prog, sum->steer_drops);
}

void svc_team_answer(struct svc_team *t, struct svc_mate *m, void (*take)(void *ud), void *ud)
{
	if (!atomic_exchange(&m->report, false))
		return;
	pthread_mutex_lock(&t->lock);
	take(ud);
	t->acks++;
	pthread_cond_signal(&t->acked);
	pthread_mutex_unlock(&t->lock);
}

/* ---- option parsing --------------------------------------------------------- */

unsigned svc_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > MPT_BACKEND_MAX_SHARDS ? MPT_BACKEND_MAX_SHARDS : (unsigned)n;
}

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
	c->handshake_ns = SVC_CONNECT_NS;
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
	case SVC_OPT_HANDSHAKE_TIMEOUT:
		return svc_parse_seconds(prog, "--handshake-timeout", arg, 3600, &c->handshake_ns) <
			       0
			   ? 2
			   : 0;
	case SVC_OPT_USER:
		return svc_user_parse(prog, arg, &c->user) < 0 ? 2 : 0;
	case SVC_OPT_CHECK:
		c->check = true;
		return 0;
	case SVC_OPT_CTL:
		if (!arg || !*arg) {
			fprintf(stderr, "%s: --ctl needs a path (or none)\n", prog);
			return 2;
		}
		c->ctl_path = arg;
		return 0;
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

/* ---- timer ------------------------------------------------------------------ */

static void on_timer(void *ud, uint32_t events)
{
	struct svc_timer *t = ud;
	(void)events;
	uint64_t ticks;
	/* Only the wake-up matters: the idle callback that runs next checks
	 * every deadline and arms the next one. */
	if (read(t->fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
		t->armed = MPT_TIME_NEVER;
}

int svc_timer_open(struct svc_timer *t)
{
	t->armed = MPT_TIME_NEVER;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0)
		return -1;
	t->watch.fn = on_timer;
	t->watch.ud = t;
	if (relay_poller_add(t->fd, EPOLLIN, &t->watch) < 0) {
		int e = errno;
		close(t->fd);
		t->fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

void svc_timer_arm(struct svc_timer *t, uint64_t deadline)
{
	if (t->fd < 0 || deadline == t->armed)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (deadline != MPT_TIME_NEVER) {
		/* An absolute time of 0 would disarm: 1 ns is long past. */
		uint64_t d = deadline ? deadline : 1;
		its.it_value.tv_sec = (time_t)(d / MPT_NS_PER_S);
		its.it_value.tv_nsec = (long)(d % MPT_NS_PER_S);
	}
	if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		t->armed = deadline;
}

void svc_timer_close(struct svc_timer *t)
{
	if (t->fd < 0)
		return;
	relay_poller_del(t->fd);
	close(t->fd);
	t->fd = -1;
}

/* ---- per-source accounting ---------------------------------------------------- */

int svc_srcs_init(struct svc_srcs *t, size_t max_conns)
{
	size_t n = 64;
	while (n < max_conns && n < (1u << 20))
		n <<= 1;
	t->bucket = calloc(n, sizeof(*t->bucket));
	t->n_buckets = t->bucket ? n : 0;
	t->n = 0;
	if (!t->bucket) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void svc_srcs_fini(struct svc_srcs *t)
{
	for (size_t i = 0; i < t->n_buckets; i++) {
		while (t->bucket[i]) {
			struct svc_src *e = t->bucket[i];
			t->bucket[i] = e->next;
			free(e);
		}
	}
	free(t->bucket);
	t->bucket = NULL;
	t->n_buckets = t->n = 0;
}

static void src_key(const struct mpt_addr *a, struct mpt_addr *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	memcpy(k->bytes, a->bytes, a->family == 6 ? 8 : 4);
}

static size_t src_hash(const struct svc_srcs *t, const struct mpt_addr *k)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < 8; i++)
		h = (h ^ k->bytes[i]) * 16777619u;
	return h & (t->n_buckets - 1);
}

struct svc_src *svc_src_get(struct svc_srcs *t, const struct mpt_addr *a)
{
	struct mpt_addr k;
	src_key(a, &k);
	size_t h = src_hash(t, &k);
	for (struct svc_src *e = t->bucket[h]; e; e = e->next)
		if (mpt_addr_equal(&e->key, &k))
			return e;
	struct svc_src *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = k;
	e->next = t->bucket[h];
	t->bucket[h] = e;
	t->n++;
	return e;
}

void svc_src_release(struct svc_srcs *t, struct svc_src *e)
{
	if (!e || e->handshakes || e->total)
		return;
	struct svc_src **pp = &t->bucket[src_hash(t, &e->key)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = e->next;
		t->n--;
		free(e);
	}
}

/* ---- privileges --------------------------------------------------------------- */

int svc_user_parse(const char *where, const char *name, struct svc_user *u)
{
	memset(u, 0, sizeof(*u));
	if (!name || !*name || strlen(name) >= sizeof(u->name)) {
		fprintf(stderr, "%s: --user: '%s' is not a user name\n", where, name ? name : "");
		return -1;
	}
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		char *end;
		unsigned long v = strtoul(name, &end, 10);
		if (!*end && end != name)
			pw = getpwuid((uid_t)v);
	}
	if (!pw) {
		fprintf(stderr, "%s: --user: no user '%s' in the user database%s%s\n", where, name,
			errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr, "%s: --user: '%s' is root: name an unprivileged account\n", where,
			name);
		return -1;
	}
	u->set = true;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

/* Raw capget/capset (linux/capability.h, version 3: two 32-bit words per
 * set); libcap is not needed for three sets of one word's worth. */
static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	memset(d, 0, 2 * sizeof(*d));
	return (int)syscall(SYS_capget, &h, d);
}

static int caps_set(uint64_t permitted, uint64_t effective)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 2; i++) {
		d[i].permitted = (uint32_t)(permitted >> (32 * i));
		d[i].effective = (uint32_t)(effective >> (32 * i));
		d[i].inheritable = 0;
	}
	return (int)syscall(SYS_capset, &h, d);
}

uint64_t svc_caps_effective(void)
{
	struct __user_cap_data_struct d[2];
	if (caps_get(d) < 0)
		return 0;
	return (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
}

static uint64_t caps_permitted(void)
{
	struct __user_cap_data_struct d[2];
	if (caps_get(d) < 0)
		return 0;
	return (uint64_t)d[0].permitted | (uint64_t)d[1].permitted << 32;
}

static int priv_fail(const char *prog, const char *what)
{
	fprintf(stderr, "%s: dropping privileges: %s: %s\n", prog, what, strerror(errno));
	return -1;
}

int svc_drop_privileges(const char *prog, const struct svc_user *u, uint64_t keep)
{
	bool root = geteuid() == 0;
	if (u->set && !root && geteuid() != u->uid) {
		fprintf(stderr,
			"%s: --user %s: not running as root, cannot become another user (run as "
			"%s, or as root)\n",
			prog, u->name, u->name);
		return -1;
	}
	if (!u->set && root) {
		fprintf(stderr,
			"%s: warning: running as root for the whole run (--user NAME drops to an "
			"unprivileged account once the devices exist)\n",
			prog);
		return 0;
	}
	uint64_t have = caps_permitted();
	keep &= have | (root ? ~UINT64_C(0) : 0);
	if (u->set && root) {
		/* The bounding set first, while CAP_SETPCAP is still held: nothing
		 * executed later can regain what is dropped here. */
		for (unsigned long cap = 0; cap < 64; cap++) {
			if (keep & (UINT64_C(1) << cap))
				continue;
			if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0)
				continue; /* beyond the kernel's last capability */
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
				return priv_fail(prog, "PR_CAPBSET_DROP");
		}
		/* Permitted capabilities survive the uid change only with
		 * KEEPCAPS (and then only when keep is not empty). */
		if (prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0)
			return priv_fail(prog, "PR_SET_KEEPCAPS");
		if (initgroups(u->name, u->gid) < 0)
			return priv_fail(prog, "initgroups");
		if (setresgid(u->gid, u->gid, u->gid) < 0)
			return priv_fail(prog, "setresgid");
		if (setresuid(u->uid, u->uid, u->uid) < 0)
			return priv_fail(prog, "setresuid");
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	} else if (have & ~keep) {
		/* Not root: capabilities from file capabilities or an ambient set
		 * (e.g. systemd AmbientCapabilities=); the bounding set needs
		 * CAP_SETPCAP, which such a process rarely has. */
		for (unsigned long cap = 0; cap < 64; cap++)
			if (!(keep & (UINT64_C(1) << cap)) &&
			    prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0)
				(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	}
	if (caps_set(keep, keep) < 0)
		return priv_fail(prog, "capset");
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return priv_fail(prog, "PR_SET_NO_NEW_PRIVS");
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer stops the world with ptrace from a helper of this
	 * process; a uid change makes the process non-dumpable, which refuses
	 * it.  Sanitizer builds only. */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	/* Check what we got rather than trust it. */
	if (u->set && (setuid(0) == 0 || getuid() != u->uid || geteuid() != u->uid ||
		       getgid() != u->gid || getegid() != u->gid)) {
		fprintf(stderr, "%s: dropping privileges: still able to become root\n", prog);
		return -1;
	}
	if (svc_caps_effective() != keep || caps_permitted() != keep) {
		fprintf(stderr, "%s: dropping privileges: capabilities not reduced\n", prog);
		return -1;
	}
	if (u->set)
		fprintf(stderr, "%s: running as %s (uid %u, gid %u)%s\n", prog, u->name,
			(unsigned)u->uid, (unsigned)u->gid,
			keep ? ", keeping CAP_NET_ADMIN" : ", no capabilities");
	return 0;
}

/* ---- configuration files ------------------------------------------------------ */

/* Every file read stays in memory until svc_config_free(): handlers keep
 * pointers into it, as they keep optarg pointers into argv. */
struct cfg_file {
	struct cfg_file *next;
	char text[];
};
static struct cfg_file *cfg_files;

void svc_config_free(void)
{
	while (cfg_files) {
		struct cfg_file *f = cfg_files;
		cfg_files = f->next;
		free(f);
	}
}

#define CFG_MAX_BYTES (1u << 20)

int svc_config_load(const char *prog, const char *path, const struct option *lopts,
		    const char *positional, const char **operand, svc_opt_fn fn, void *ud)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return 2;
	}
	struct cfg_file *f = malloc(sizeof(*f) + CFG_MAX_BYTES + 1);
	if (!f) {
		fclose(fp);
		fprintf(stderr, "%s: %s: out of memory\n", prog, path);
		return 2;
	}
	size_t n = fread(f->text, 1, CFG_MAX_BYTES + 1, fp);
	bool err = ferror(fp);
	fclose(fp);
	if (err || n > CFG_MAX_BYTES) {
		fprintf(stderr, "%s: %s: %s\n", prog, path,
			err ? "read error" : "larger than 1 MiB: not a configuration file");
		free(f);
		return 2;
	}
	f->text[n] = '\0';
	f->next = cfg_files;
	cfg_files = f;
	char where[512];
	unsigned line = 0;
	/* Split by hand: strtok would skip empty lines and miscount. */
	char *p = f->text;
	while (p && *p) {
		line++;
		char *nl = strchr(p, '\n');
		char *next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		snprintf(where, sizeof(where), "%s: %s:%u", prog, path, line);
		char *hash = strchr(p, '#');
		if (hash)
			*hash = '\0';
		/* Trim both ends (spaces, tabs, a CR from a DOS file). */
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
			p[--len] = '\0';
		if (!len) {
			p = next;
			continue;
		}
		char *key = p, *val = p;
		while (*val && *val != ' ' && *val != '\t' && *val != '=')
			val++;
		if (*val) {
			*val++ = '\0';
			while (*val == ' ' || *val == '\t' || *val == '=')
				val++;
		}
		if (!*val)
			val = NULL;
		if (positional && !strcmp(key, positional)) {
			if (!val) {
				fprintf(stderr, "%s: '%s' needs a value\n", where, key);
				return 2;
			}
			*operand = val;
			p = next;
			continue;
		}
		const struct option *o = NULL;
		for (const struct option *q = lopts; q->name; q++)
			if (!strcmp(q->name, key))
				o = q;
		if (!o || !strcmp(key, "config") || !strcmp(key, "help") || !strcmp(key, "check")) {
			fprintf(stderr, "%s: unknown setting '%s'%s\n", where, key,
				o ? " (allowed on the command line only)" : "");
			return 2;
		}
		if (o->has_arg == required_argument && !val) {
			fprintf(stderr, "%s: '%s' needs a value\n", where, key);
			return 2;
		}
		if (o->has_arg == no_argument && val) {
			fprintf(stderr, "%s: '%s' takes no value (found '%s')\n", where, key, val);
			return 2;
		}
		int rc = fn(ud, where, o->val, val);
		if (rc)
			return rc;
		p = next;
	}
	return 0;
}

/* ---- --check -------------------------------------------------------------------- */

static void check_line(struct svc_check *c, const char *kind, const char *fmt, va_list ap)
{
	fprintf(stdout, "%s: check: %s", c->prog, kind);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
}

void svc_check_ok(struct svc_check *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	check_line(c, "ok: ", fmt, ap);
	va_end(ap);
}

void svc_check_problem(struct svc_check *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	check_line(c, "PROBLEM: ", fmt, ap);
	va_end(ap);
	c->problems++;
}

void svc_check_warn(struct svc_check *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	check_line(c, "warning: ", fmt, ap);
	va_end(ap);
	c->warnings++;
}

/* A small sysfs file's first line (without the newline) into buf, or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	bool ok = fgets(buf, (int)len, fp) != NULL;
	fclose(fp);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static long read_long(const char *path, long dflt)
{
	char buf[64];
	if (read_line(path, buf, sizeof(buf)) < 0)
		return dflt;
	return strtol(buf, NULL, 0);
}

static void check_path(struct svc_check *c, const struct mpt_path_cfg *p, size_t i, bool admin,
		       const struct svc_user *u, struct nladdrs *host)
{
	char name[MPT_DEV_NAME_LEN], a[64], sys[128];
	if (p->dev[0])
		snprintf(name, sizeof(name), "%s", p->dev);
	else
		snprintf(name, sizeof(name), "mpttun%u", (unsigned)(uint8_t)i);
	mpt_addr_format(&p->addr, a, sizeof(a));
	unsigned ifindex = if_nametoindex(name);
	/* Whose the process will be when it reaches the device: attaching
	 * happens before the drop, so the current user matters. */
	(void)u;
	if (!ifindex) {
		if (admin)
			svc_check_ok(c, "path %s: TUN device %s will be created", a, name);
		else
			svc_check_problem(c,
					  "path %s: no device %s, and creating one needs "
					  "CAP_NET_ADMIN (or: ip tuntap add dev %s mode tun user "
					  "USER; ip link set %s up; ip route add %s dev %s)",
					  a, name, name, name, a, name);
	} else {
		snprintf(sys, sizeof(sys), "/sys/class/net/%s/tun_flags", name);
		long flags = read_long(sys, -1);
		if (flags < 0) {
			svc_check_problem(c, "path %s: %s exists and is not a TUN device", a, name);
			return;
		}
		if (!(flags & 0x0001)) /* IFF_TUN (not IFF_TAP) */
			svc_check_problem(c, "path %s: %s is a TAP device, not TUN", a, name);
		snprintf(sys, sizeof(sys), "/sys/class/net/%s/owner", name);
		long owner = read_long(sys, -1);
		snprintf(sys, sizeof(sys), "/sys/class/net/%s/group", name);
		long group = read_long(sys, -1);
		bool mine = (owner < 0 || (uid_t)owner == geteuid()) &&
			    (group < 0 || (gid_t)group == getegid() || group_member((gid_t)group));
		if (!admin && !mine)
			svc_check_problem(c,
					  "path %s: TUN %s belongs to uid %ld gid %ld, not to us",
					  a, name, owner, group);
		snprintf(sys, sizeof(sys), "/sys/class/net/%s/flags", name);
		long ifl = read_long(sys, 0);
		if (!admin && !(ifl & 0x1))
			svc_check_problem(c,
					  "path %s: TUN %s is down and setting it up needs "
					  "CAP_NET_ADMIN (ip link set %s up)",
					  a, name, name);
		if (admin || (mine && (ifl & 0x1)))
			svc_check_ok(c, "path %s: attaching to TUN device %s (owner %ld)", a, name,
				     owner);
	}
	if (host && nladdrs_contains(host, &p->addr)) {
		svc_check_problem(c,
				  "path %s: the address is configured on a kernel interface: the "
				  "kernel would answer for it instead of mpt",
				  a);
		return;
	}
	int oif = 0, type = 0;
	if (nl_route_get(&p->addr, &oif, &type) == 0) {
		char dev[IF_NAMESIZE] = "?";
		if (oif > 0)
			(void)if_indextoname((unsigned)oif, dev);
		if (ifindex && (unsigned)oif == ifindex)
			svc_check_ok(c, "path %s: routed through %s", a, name);
		else if (oif > 0 && !strncmp(dev, "mpttun", 6))
			svc_check_problem(c,
					  "path %s: already routed through %s: another mpt "
					  "instance uses this address?",
					  a, dev);
		else if (!admin)
			svc_check_problem(c,
					  "path %s: the route to it goes through %s, not %s, and "
					  "adding it needs CAP_NET_ADMIN (ip route add %s dev %s)",
					  a, dev, name, a, name);
	}
	const char *fwd = p->addr.family == 4 ? "/proc/sys/net/ipv4/ip_forward"
					      : "/proc/sys/net/ipv6/conf/all/forwarding";
	if (read_long(fwd, 0) != 1)
		svc_check_warn(c,
			       "path %s: %s is not 1: the kernel will not forward what mpt sends "
			       "through its TUN device to other hosts (local peers only)",
			       a, fwd);
}

void svc_check_host(struct svc_check *c, const struct mpt_backend_cfg *be, const struct svc_user *u)
{
	bool admin = (svc_caps_effective() & SVC_CAP_NET_ADMIN) != 0;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		svc_check_problem(c, "/dev/net/tun: %s", strerror(errno));
	else
		svc_check_ok(c, "/dev/net/tun opens");
	if (fd >= 0)
		close(fd);
	if (admin)
		svc_check_ok(c, "CAP_NET_ADMIN held: TUN devices and routes can be made");
	else
		svc_check_ok(c, "no CAP_NET_ADMIN: attach mode (existing TUN devices and routes)");
	struct nladdrs *host = nladdrs_open();
	if (!host)
		svc_check_warn(c, "cannot read the host's addresses (netlink): %s",
			       strerror(errno));
	if (be->n_paths == 0)
		svc_check_problem(c, "no --path");
	for (size_t i = 0; i < be->n_paths; i++)
		check_path(c, &be->paths[i], i, admin, u, host);
	nladdrs_close(host);
	if (u->set) {
		if (geteuid() == 0)
			svc_check_ok(c, "will run as %s (uid %u) once set up", u->name,
				     (unsigned)u->uid);
		else if (geteuid() != u->uid)
			svc_check_problem(c, "--user %s: only root can switch users", u->name);
		else
			svc_check_ok(c, "running as %s already", u->name);
	} else if (geteuid() == 0) {
		svc_check_warn(c, "runs as root for its whole life: add --user NAME");
	}
}

int svc_check_finish(struct svc_check *c)
{
	fprintf(stdout, "%s: check: %u problem(s), %u warning(s)\n", c->prog, c->problems,
		c->warnings);
	return c->problems ? 1 : 0;
}
