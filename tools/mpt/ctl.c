/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket of a running mpt process (see ctl.h). */
#define _GNU_SOURCE
#include "ctl.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mpt/version.h"

#define CTL_MAX_CLIENTS 8
#define CTL_REQ_MAX     256
#define CTL_REQ_NS      (1 * MPT_NS_PER_S) /* a client has this long to send its request */
#define CTL_ANSWER_MAX  (16u * 1024u * 1024u)
#define CTL_MONITOR_MAX (256u * 1024u)
#define CTL_MAX_SOCKS   8192
#define CTL_MAX_SF      32
#define CTL_TOKENS      4096 /* connections whose CLOSED is still due */
#define CTL_GATHER_NS   ((uint64_t)CTL_GATHER_S * MPT_NS_PER_S)
#define CTL_TAG_TIMER   (CTL_MAX_CLIENTS + 1) /* epoll tag of the gather deadline */

/* CL_WAIT: an ss/nstat request waiting for the other threads' parts. */
enum client_kind { CL_REQUEST, CL_WAIT, CL_ANSWER, CL_MONITOR };

/* What a gather asks the threads for (bits). */
enum { WANT_SS = 1, WANT_NSTAT = 2 };

struct ctl_client {
	int fd;
	enum client_kind kind;
	uint64_t since; /* accepted at (request deadline) */
	char req[CTL_REQ_MAX];
	size_t req_len;
	char *out;
	size_t out_len, out_off, out_cap;
	uint64_t lost; /* monitor: events dropped (slow reader) */
	bool want_out;
	unsigned want;  /* CL_WAIT: WANT_SS or WANT_NSTAT */
	uint64_t round; /* CL_WAIT: the gather its answer comes from */
};

/*
 * Another thread's part of an answer (a program with one stack per thread,
 * ctl_server_add_thread).  Its stack and sockets are only ever touched by
 * that thread: the server's thread asks (asked, then a wake-up of its
 * backend), the thread builds its part in its own loop and hands it over
 * under part_lock, then wakes the server's thread, which answers once every
 * part of the round is in or CTL_GATHER_S passed.  One part per thread at
 * most is held: memory stays bounded whatever the clients do.
 */
struct ctl_part {
	/* Set by the server's thread before the thread runs, then read only. */
	struct mpt_backend *be;
	struct mpt_stack *st;
	ctl_list_fn list;
	void *ud;
	atomic_bool asked; /* the server wants a part (the thread clears it) */
	/* Under part_lock: */
	uint64_t round;              /* the gather these results belong to (0: none) */
	cJSON *conns;                /* WANT_SS: its connections, a JSON array */
	uint64_t *counters;          /* WANT_NSTAT: its stack's counters (mpt_counter_count()) */
	struct mpt_backend_stats bs; /* WANT_NSTAT: its backend's */
};

static struct ctl_part parts[CTL_MAX_THREADS];
/* Guards every part's results and ask_round / ask_want below. */
static pthread_mutex_t part_lock = PTHREAD_MUTEX_INITIALIZER;

struct ctl_srv {
	bool open;
	int lfd, epfd;
	struct mpt_backend *be;
	struct mpt_stack *st;
	char path[300];
	char tool[32];
	ctl_list_fn list;
	void *ud;
	uint64_t t0;
	struct ctl_client cl[CTL_MAX_CLIENTS];
	uint32_t open_tokens[CTL_TOKENS]; /* CREATED seen, CLOSED not yet */
	size_t n_tokens;
	/* The thread that opened the server (a program with several stacks,
	 * one per thread, serves --ctl from one of them): only its sockets are
	 * monitored, the others' events are discarded unseen; the others'
	 * connections and counters come as parts (struct ctl_part). */
	pthread_t owner;
	bool owned;       /* owner is set (ctl_server_open ran) */
	const char *prog; /* for messages */
	/* Gathers from the other threads (server's thread only, except
	 * ask_round and ask_want: under part_lock, read by the threads). */
	unsigned n_threads; /* 1 + the highest thread added (1: none) */
	int tfd;            /* timerfd: the round's deadline */
	uint64_t round;     /* the latest round started */
	bool in_flight;     /* round is waiting for parts */
	uint64_t deadline;  /* in_flight: answer by then (mono_ns) */
	unsigned next_want; /* what clients that came during the round want */
	uint64_t ask_round;
	unsigned ask_want;
};

static struct ctl_srv srv = {.lfd = -1, .epfd = -1, .tfd = -1};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MPT_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ---- names ---------------------------------------------------------------------- */

void ctl_mib_name(const char *name, char *buf, size_t len)
{
	/* As nstat(8) shows the kernel's: Ip*, Tcp*, TcpExt* and MPTcpExt*. */
	if (!strncmp(name, "Tcp", 3) && name[3] >= 'A' && name[3] <= 'Z')
		snprintf(buf, len, "%s", name);
	else if (!strncmp(name, "TCP", 3) || !strncmp(name, "PAWS", 4))
		snprintf(buf, len, "TcpExt%s", name);
	else if (!strncmp(name, "In", 2) || !strcmp(name, "ReasmFails"))
		snprintf(buf, len, "Ip%s", name);
	else
		snprintf(buf, len, "MPTcpExt%s", name);
}

const char *ctl_event_name(int type)
{
	switch (type) {
	case MPT_PM_EV_CREATED:
		return "CREATED";
	case MPT_PM_EV_ESTABLISHED:
		return "ESTABLISHED";
	case MPT_PM_EV_CLOSED:
		return "CLOSED";
	case MPT_PM_EV_ANNOUNCED:
		return "ANNOUNCED";
	case MPT_PM_EV_REMOVED:
		return "REMOVED";
	case MPT_PM_EV_SF_ESTABLISHED:
		return "SF_ESTABLISHED";
	case MPT_PM_EV_SF_CLOSED:
		return "SF_CLOSED";
	case MPT_PM_EV_SF_PRIORITY:
		return "SF_PRIORITY";
	default:
		return "UNKNOWN";
	}
}

void ctl_server_print_counters(FILE *f, const struct mpt_stack *st, const char *prog)
{
	int n = mpt_counter_count();
	for (int i = 0; i < n; i++) {
		uint64_t v = mpt_stack_counter(st, i);
		const char *name = mpt_counter_name(i);
		if (v && name)
			fprintf(f, "%s: counter %s %" PRIu64 "\n", prog, name, v);
	}
	fflush(f);
}

/* ---- client buffers ------------------------------------------------------------- */

static void client_close(struct ctl_client *c)
{
	if (c->fd >= 0) {
		(void)epoll_ctl(srv.epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void client_want_out(struct ctl_client *c, bool on)
{
	if (c->want_out == on)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u),
				 .data.u64 = (uint64_t)(c - srv.cl) + 1};
	if (epoll_ctl(srv.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = on;
}

/* Queue text for the client; false when it would exceed the bound. */
static bool client_put(struct ctl_client *c, const char *s, size_t n, size_t bound)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len - c->out_off + n > bound)
		return false;
	if (c->out_len + n > c->out_cap) {
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + n)
			cap *= 2;
		char *o = realloc(c->out, cap);
		if (!o)
			return false;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	return true;
}

/* Write what is queued; an answered client is closed once all is out. */
static void client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			client_want_out(c, true);
			return;
		}
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	client_want_out(c, false);
	if (c->kind == CL_ANSWER)
		client_close(c);
}

static void client_put_json(struct ctl_client *c, cJSON *j, size_t bound)
{
	char *txt = cJSON_PrintUnformatted(j);
	if (!txt)
		return;
	size_t n = strlen(txt);
	if (!client_put(c, txt, n, bound) || !client_put(c, "\n", 1, bound + 1)) {
		if (c->kind == CL_MONITOR)
			c->lost++;
	}
	cJSON_free(txt);
}

/* ---- documents ---------------------------------------------------------------- */

static void add_endpoint(cJSON *o, const char *host_key, const char *port_key,
			 const struct mpt_endpoint *e)
{
	char a[64];
	cJSON_AddStringToObject(o, host_key,
				e->addr.family ? mpt_addr_format(&e->addr, a, sizeof(a)) : "*");
	cJSON_AddNumberToObject(o, port_key, e->port);
}

static void add_token(cJSON *o, const char *key, uint32_t token)
{
	char t[16];
	snprintf(t, sizeof(t), "%08x", token);
	cJSON_AddStringToObject(o, key, t);
}

static cJSON *conn_json(struct mpt_sock *s)
{
	cJSON *o = cJSON_CreateObject();
	struct mpt_endpoint l, r;
	mpt_sock_endpoints(s, &l, &r);
	add_endpoint(o, "local_host", "local_port", &l);
	if (mpt_sock_is_listener(s)) {
		cJSON_AddStringToObject(o, "state", "LISTEN");
		return o;
	}
	add_endpoint(o, "remote_host", "remote_port", &r);
	struct mpt_sock_info si;
	if (mpt_sock_info(s, &si) == 0) {
		cJSON_AddStringToObject(o, "state", si.state);
		cJSON_AddNumberToObject(o, "rtt_us", (double)(si.srtt_ns / 1000u));
		cJSON_AddNumberToObject(o, "cwnd", si.snd_cwnd);
		cJSON_AddNumberToObject(o, "mss", si.snd_mss);
		cJSON_AddStringToObject(o, "cc", si.cc);
	}
	struct mpt_mptcp_info mi;
	bool have = mpt_sock_mptcp_info(s, &mi) == 0;
	bool mptcp = mpt_sock_mptcp_enabled(s);
	cJSON_AddBoolToObject(o, "mptcp", mptcp);
	cJSON_AddBoolToObject(o, "fallback", have && mi.fallback);
	if (have) {
		add_token(o, "token", mi.mptcpi_token);
		cJSON_AddNumberToObject(o, "version", mi.version);
		cJSON_AddNumberToObject(o, "subflows_established", mi.mptcpi_subflows_total);
		cJSON_AddNumberToObject(o, "subflows_max", mi.mptcpi_subflows_max);
		cJSON_AddNumberToObject(o, "add_addr_signal", mi.mptcpi_add_addr_signal);
		cJSON_AddNumberToObject(o, "add_addr_accepted", mi.mptcpi_add_addr_accepted);
		cJSON_AddBoolToObject(o, "checksum", mi.mptcpi_csum_enabled != 0);
		cJSON_AddNumberToObject(o, "bytes_sent", (double)mi.mptcpi_bytes_sent);
		cJSON_AddNumberToObject(o, "bytes_acked", (double)mi.mptcpi_bytes_acked);
		cJSON_AddNumberToObject(o, "bytes_received", (double)mi.mptcpi_bytes_received);
		cJSON_AddNumberToObject(o, "bytes_retrans", (double)mi.mptcpi_bytes_retrans);
		cJSON_AddNumberToObject(o, "retransmits", mi.mptcpi_retransmits);
		cJSON_AddNumberToObject(o, "reinjected_bytes", (double)mi.reinjected_bytes);
		cJSON_AddNumberToObject(o, "snd_una", (double)mi.mptcpi_snd_una);
		cJSON_AddNumberToObject(o, "write_seq", (double)mi.mptcpi_write_seq);
		cJSON_AddNumberToObject(o, "rcv_nxt", (double)mi.mptcpi_rcv_nxt);
	} else if (mpt_sock_info(s, &si) == 0) {
		cJSON_AddNumberToObject(o, "bytes_sent", (double)si.bytes_sent);
		cJSON_AddNumberToObject(o, "bytes_acked", (double)si.bytes_acked);
		cJSON_AddNumberToObject(o, "bytes_received", (double)si.bytes_received);
		cJSON_AddNumberToObject(o, "bytes_retrans", (double)si.bytes_retrans);
		cJSON_AddNumberToObject(o, "retransmits", si.total_retrans);
	}
	struct mpt_subflow_info sf[CTL_MAX_SF];
	int n = mpt_sock_subflows(s, sf, CTL_MAX_SF);
	cJSON *arr = cJSON_AddArrayToObject(o, "subflows");
	for (int i = 0; i < n && i < CTL_MAX_SF; i++) {
		cJSON *f = cJSON_CreateObject();
		add_endpoint(f, "local_host", "local_port", &sf[i].local);
		add_endpoint(f, "remote_host", "remote_port", &sf[i].remote);
		cJSON_AddNumberToObject(f, "local_id", sf[i].local_id);
		cJSON_AddNumberToObject(f, "remote_id", sf[i].remote_id);
		cJSON_AddStringToObject(f, "state", sf[i].state);
		cJSON_AddBoolToObject(f, "backup", sf[i].backup);
		cJSON_AddBoolToObject(f, "peer_backup", sf[i].peer_backup);
		cJSON_AddBoolToObject(f, "join", sf[i].join);
		cJSON_AddBoolToObject(f, "active", sf[i].active);
		cJSON_AddNumberToObject(f, "rtt_us", (double)(sf[i].srtt_ns / 1000u));
		cJSON_AddNumberToObject(f, "cwnd", sf[i].cwnd);
		cJSON_AddNumberToObject(f, "bytes_sent", (double)sf[i].bytes_sent);
		cJSON_AddNumberToObject(f, "bytes_acked", (double)sf[i].bytes_acked);
		cJSON_AddNumberToObject(f, "bytes_received", (double)sf[i].bytes_received);
		cJSON_AddNumberToObject(f, "bytes_retrans", (double)sf[i].bytes_retrans);
		cJSON_AddNumberToObject(f, "retransmits", sf[i].retransmits);
		cJSON_AddItemToArray(arr, f);
	}
	return o;
}

static cJSON *header_json(void)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "tool", srv.tool);
	cJSON_AddNumberToObject(j, "pid", (double)getpid());
	cJSON_AddStringToObject(j, "version", MPT_VERSION_STRING);
	cJSON_AddStringToObject(j, "ctl", srv.path);
	cJSON_AddNumberToObject(j, "uptime", (double)(mono_ns() - srv.t0) / 1e9);
	return j;
}

/* One stack's connections (list(ud)) as a JSON array; thread: its number
 * when the process has several stacks, else -1.  In the stack's thread. */
static cJSON *conns_json(ctl_list_fn list, void *ud, int thread)
{
	cJSON *arr = cJSON_CreateArray();
	/* Not static: every thread builds its own list. */
	struct mpt_sock **socks = malloc(CTL_MAX_SOCKS * sizeof(*socks));
	size_t n = arr && socks && list ? list(ud, socks, CTL_MAX_SOCKS) : 0;
	for (size_t i = 0; i < n && i < CTL_MAX_SOCKS; i++) {
		cJSON *o = conn_json(socks[i]);
		if (thread >= 0)
			cJSON_AddNumberToObject(o, "thread", thread);
		cJSON_AddItemToArray(arr, o);
	}
	free(socks);
	return arr;
}

/* One stack's counters into ctr (mpt_counter_count() of them), added. */
static void counters_add(uint64_t *ctr, const struct mpt_stack *st)
{
	int n = mpt_counter_count();
	for (int i = 0; i < n; i++)
		ctr[i] += mpt_stack_counter(st, i);
}

static void backend_stats_add(struct mpt_backend_stats *sum, const struct mpt_backend_stats *b)
{
	sum->rx_pkts += b->rx_pkts;
	sum->rx_bytes += b->rx_bytes;
	sum->tx_pkts += b->tx_pkts;
	sum->tx_bytes += b->tx_bytes;
	sum->tx_queued += b->tx_queued;
	sum->tx_drops += b->tx_drops;
	sum->tx_errors += b->tx_errors;
	sum->emu_lost += b->emu_lost;
	sum->emu_drops += b->emu_drops;
	sum->stack_rejects += b->stack_rejects;
	sum->steer_out += b->steer_out;
	sum->steer_in += b->steer_in;
	sum->steer_drops += b->steer_drops;
}

/* ss: the header, then conns (taken over). */
static cJSON *ss_json(cJSON *conns)
{
	cJSON *j = header_json();
	cJSON_AddItemToObject(j, "connections", conns ? conns : cJSON_CreateArray());
	return j;
}

/* nstat: the header, the counters ctr (NULL: none could be had) and the
 * backend's packet counters. */
static cJSON *nstat_json(const uint64_t *ctr, const struct mpt_backend_stats *bs)
{
	cJSON *j = header_json();
	cJSON *c = cJSON_AddObjectToObject(j, "counters");
	int n = mpt_counter_count();
	for (int i = 0; i < n && ctr; i++) {
		const char *name = mpt_counter_name(i);
		if (!name)
			continue;
		char k[96];
		ctl_mib_name(name, k, sizeof(k));
		cJSON_AddNumberToObject(c, k, (double)ctr[i]);
	}
	cJSON *b = cJSON_AddObjectToObject(j, "backend");
	cJSON_AddNumberToObject(b, "TunRxPackets", (double)bs->rx_pkts);
	cJSON_AddNumberToObject(b, "TunRxBytes", (double)bs->rx_bytes);
	cJSON_AddNumberToObject(b, "TunTxPackets", (double)bs->tx_pkts);
	cJSON_AddNumberToObject(b, "TunTxBytes", (double)bs->tx_bytes);
	cJSON_AddNumberToObject(b, "TunTxQueued", (double)bs->tx_queued);
	cJSON_AddNumberToObject(b, "TunTxDrops", (double)bs->tx_drops);
	cJSON_AddNumberToObject(b, "TunTxErrors", (double)bs->tx_errors);
	cJSON_AddNumberToObject(b, "EmuLost", (double)bs->emu_lost);
	cJSON_AddNumberToObject(b, "EmuDrops", (double)bs->emu_drops);
	cJSON_AddNumberToObject(b, "StackRejects", (double)bs->stack_rejects);
	return j;
}

/* The server's own stack only (one thread). */
static cJSON *nstat_json_own(void)
{
	int n = mpt_counter_count();
	uint64_t *ctr = calloc((size_t)(n > 0 ? n : 1), sizeof(*ctr));
	if (ctr)
		counters_add(ctr, srv.st);
	struct mpt_backend_stats bs;
	mpt_backend_stats(srv.be, &bs);
	cJSON *j = nstat_json(ctr, &bs);
	free(ctr);
	return j;
}

/* ---- events ---------------------------------------------------------------------- */

static void token_add(uint32_t t)
{
	if (!t)
		return;
	for (size_t i = 0; i < srv.n_tokens; i++)
		if (srv.open_tokens[i] == t)
			return;
	if (srv.n_tokens == CTL_TOKENS) { /* forget the oldest */
		memmove(srv.open_tokens, srv.open_tokens + 1, (CTL_TOKENS - 1) * sizeof(uint32_t));
		srv.n_tokens--;
	}
	srv.open_tokens[srv.n_tokens++] = t;
}

static bool token_del(uint32_t t)
{
	for (size_t i = 0; i < srv.n_tokens; i++) {
		if (srv.open_tokens[i] == t) {
			memmove(srv.open_tokens + i, srv.open_tokens + i + 1,
				(srv.n_tokens - i - 1) * sizeof(uint32_t));
			srv.n_tokens--;
			return true;
		}
	}
	return false;
}

static void broadcast(cJSON *j)
{
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &srv.cl[i];
		if (c->fd < 0 || c->kind != CL_MONITOR)
			continue;
		if (c->lost) {
			/* Say what a slow reader missed, once there is room. */
			cJSON *l = cJSON_CreateObject();
			cJSON_AddNumberToObject(l, "lost", (double)c->lost);
			uint64_t lost = c->lost;
			c->lost = 0;
			client_put_json(c, l, CTL_MONITOR_MAX);
			cJSON_Delete(l);
			if (c->lost) {
				c->lost += lost;
				continue;
			}
		}
		client_put_json(c, j, CTL_MONITOR_MAX);
		client_flush(c);
	}
}

static void emit_event(struct mpt_sock *s, const struct mpt_pm_event *e, bool synthesized)
{
	if (!srv.open)
		return;
	struct mpt_endpoint l = e->local, r = e->remote;
	/* CREATED / ESTABLISHED carry the initial subflow's endpoints;
	 * ip mptcp monitor shows them: take them from the socket if absent. */
	if (s && !l.addr.family &&
	    (e->type == MPT_PM_EV_CREATED || e->type == MPT_PM_EV_ESTABLISHED ||
	     e->type == MPT_PM_EV_CLOSED))
		mpt_sock_endpoints(s, &l, &r);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "type", ctl_event_name(e->type));
	add_token(j, "token", e->token);
	cJSON_AddNumberToObject(j, "time", (double)(mono_ns() - srv.t0) / 1e9);
	cJSON_AddNumberToObject(j, "remid", e->remote_id);
	cJSON_AddNumberToObject(j, "locid", e->local_id);
	char a[64];
	if (l.addr.family) {
		cJSON_AddNumberToObject(j, "family", l.addr.family);
		cJSON_AddStringToObject(j, "saddr", mpt_addr_format(&l.addr, a, sizeof(a)));
		cJSON_AddNumberToObject(j, "sport", l.port);
	}
	if (r.addr.family) {
		if (!l.addr.family)
			cJSON_AddNumberToObject(j, "family", r.addr.family);
		cJSON_AddStringToObject(j, "daddr", mpt_addr_format(&r.addr, a, sizeof(a)));
		cJSON_AddNumberToObject(j, "dport", r.port);
	}
	if (e->type == MPT_PM_EV_SF_ESTABLISHED || e->type == MPT_PM_EV_SF_CLOSED ||
	    e->type == MPT_PM_EV_SF_PRIORITY)
		cJSON_AddNumberToObject(j, "backup", e->backup ? 1 : 0);
	if (e->error) {
		cJSON_AddNumberToObject(j, "error", e->error);
		cJSON_AddStringToObject(j, "error_text", mpt_strerror(e->error));
	}
	if (synthesized)
		cJSON_AddBoolToObject(j, "at_close", true);
	broadcast(j);
	cJSON_Delete(j);
}

static void drain_events(struct mpt_sock *s)
{
	struct mpt_pm_event e;
	while (mpt_sock_pm_event(s, &e) == 1) {
		if (e.type == MPT_PM_EV_CREATED)
			token_add(e.token);
		else if (e.type == MPT_PM_EV_CLOSED)
			(void)token_del(e.token);
		emit_event(s, &e, false);
	}
}

/* Called from the thread of another stack than the server's: its sockets'
 * events are popped (the connection's queue stays short) and dropped. */
static bool foreign_thread(struct mpt_sock *s)
{
	if (!srv.owned || pthread_equal(pthread_self(), srv.owner))
		return false;
	struct mpt_pm_event e;
	while (mpt_sock_pm_event(s, &e) == 1)
		;
	return true;
}

void ctl_server_on_event(struct mpt_sock *s, unsigned ev)
{
	/* Popped even without a server: the connection's queue stays short. */
	if (s && (ev & MPT_EV_PM) && !foreign_thread(s))
		drain_events(s);
}

void ctl_server_sock_closing(struct mpt_sock *s)
{
	if (!s || mpt_sock_is_listener(s) || foreign_thread(s))
		return;
	drain_events(s);
	struct mpt_mptcp_info mi;
	if (mpt_sock_mptcp_info(s, &mi) == 0 && token_del(mi.mptcpi_token)) {
		/* The close's own CLOSED is not delivered once the application
		 * closed the socket: report it now. */
		struct mpt_pm_event e = {.type = MPT_PM_EV_CLOSED, .token = mi.mptcpi_token};
		emit_event(s, &e, true);
	}
}

/* ---- requests that need every thread ------------------------------------------------ */

static void client_watch(struct ctl_client *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)(c - srv.cl) + 1};
	if (epoll_ctl(srv.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = (events & EPOLLOUT) != 0;
}

/* The deadline of the round in flight: in ns from now, 0 to disarm. */
static void timer_arm(uint64_t ns)
{
	struct itimerspec it = {.it_value = {.tv_sec = (time_t)(ns / MPT_NS_PER_S),
					     .tv_nsec = (long)(ns % MPT_NS_PER_S)}};
	(void)timerfd_settime(srv.tfd, 0, &it, NULL);
}

/* Ask every other thread for its part of a new round. */
static void round_start(unsigned want)
{
	pthread_mutex_lock(&part_lock);
	srv.ask_round = ++srv.round;
	srv.ask_want = want;
	pthread_mutex_unlock(&part_lock);
	srv.in_flight = true;
	srv.deadline = mono_ns() + CTL_GATHER_NS;
	timer_arm(CTL_GATHER_NS);
	for (unsigned i = 1; i < srv.n_threads; i++) {
		struct ctl_part *p = &parts[i];
		if (!p->be)
			continue;
		atomic_store(&p->asked, true);
		mpt_backend_wake(p->be, false, 0);
	}
}

/* Extra fields of a document made of several threads' parts. */
static void add_threads(cJSON *j, const cJSON *missing, const char *err)
{
	cJSON_AddNumberToObject(j, "threads", srv.n_threads);
	if (cJSON_GetArraySize(missing)) {
		cJSON_AddStringToObject(j, "error", err);
		cJSON_AddItemToObject(j, "threads_missing", cJSON_Duplicate(missing, true));
	}
}

/*
 * The round in flight ends (every part is in, or its deadline passed):
 * answer its clients with this thread's part and every part that came in.
 * A thread that did not answer is named ("threads_missing", "error"); its
 * late part is kept until the next round replaces it (one per thread).
 */
static void round_finish(void)
{
	unsigned want = 0;
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
		if (srv.cl[i].fd >= 0 && srv.cl[i].kind == CL_WAIT && srv.cl[i].round == srv.round)
			want |= srv.cl[i].want;
	int nc = mpt_counter_count();
	uint64_t *ctr = NULL;
	struct mpt_backend_stats bs = {0};
	cJSON *conns = want & WANT_SS ? conns_json(srv.list, srv.ud, 0) : NULL;
	if (want & WANT_NSTAT) {
		ctr = calloc((size_t)(nc > 0 ? nc : 1), sizeof(*ctr));
		if (ctr)
			counters_add(ctr, srv.st);
		struct mpt_backend_stats b;
		mpt_backend_stats(srv.be, &b);
		backend_stats_add(&bs, &b);
	}
	cJSON *missing = cJSON_CreateArray();
	pthread_mutex_lock(&part_lock);
	for (unsigned i = 1; i < srv.n_threads; i++) {
		struct ctl_part *p = &parts[i];
		if (!p->be)
			continue;
		if (p->round != srv.round || ((want & WANT_SS) && !p->conns) ||
		    ((want & WANT_NSTAT) && !p->counters)) {
			cJSON_AddItemToArray(missing, cJSON_CreateNumber(i));
			continue;
		}
		cJSON *it;
		while (conns && p->conns && (it = cJSON_DetachItemFromArray(p->conns, 0)) != NULL)
			cJSON_AddItemToArray(conns, it);
		for (int k = 0; ctr && p->counters && k < nc; k++)
			ctr[k] += p->counters[k];
		if (want & WANT_NSTAT)
			backend_stats_add(&bs, &p->bs);
		cJSON_Delete(p->conns);
		free(p->counters);
		p->conns = NULL;
		p->counters = NULL;
		p->round = 0;
	}
	pthread_mutex_unlock(&part_lock);
	char err[200];
	snprintf(err, sizeof(err),
		 "%d of %u threads did not answer within %d s (threads_missing): their "
		 "connections and counters are not in this answer",
		 cJSON_GetArraySize(missing), srv.n_threads - 1, CTL_GATHER_S);
	char *txt[WANT_NSTAT + 1] = {NULL};
	if (want & WANT_SS) {
		cJSON *j = ss_json(conns);
		add_threads(j, missing, err);
		txt[WANT_SS] = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
	}
	if (want & WANT_NSTAT) {
		cJSON *j = nstat_json(ctr, &bs);
		add_threads(j, missing, err);
		txt[WANT_NSTAT] = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
	}
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &srv.cl[i];
		if (c->fd < 0 || c->kind != CL_WAIT || c->round != srv.round)
			continue;
		const char *t = txt[c->want];
		c->kind = CL_ANSWER;
		client_watch(c, EPOLLIN);
		if (!t || !client_put(c, t, strlen(t), CTL_ANSWER_MAX) ||
		    !client_put(c, "\n", 1, CTL_ANSWER_MAX + 1)) {
			client_close(c); /* out of memory, or beyond the bound */
			continue;
		}
		client_flush(c);
	}
	cJSON_free(txt[WANT_SS]);
	cJSON_free(txt[WANT_NSTAT]);
	cJSON_Delete(missing);
	free(ctr);
	srv.in_flight = false;
	timer_arm(0);
	if (srv.next_want) {
		/* Those that came during this round: their own, newer round. */
		unsigned w = srv.next_want;
		srv.next_want = 0;
		round_start(w);
	}
}

/* In the server's thread, woken by a thread whose part is in. */
static void round_check(void)
{
	if (!srv.in_flight)
		return;
	bool all = true;
	pthread_mutex_lock(&part_lock);
	for (unsigned i = 1; i < srv.n_threads && all; i++)
		all = !parts[i].be || parts[i].round == srv.round;
	pthread_mutex_unlock(&part_lock);
	if (all)
		round_finish();
}

static void on_timer(void)
{
	uint64_t ticks;
	if (read(srv.tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	/* A tick of an earlier round may be read after it ended. */
	if (srv.in_flight && mono_ns() >= srv.deadline)
		round_finish();
}

/* An ss or nstat request while other threads hold part of the answer. */
static void client_wait(struct ctl_client *c, unsigned want)
{
	c->kind = CL_WAIT;
	c->want = want;
	/* Nothing is read any more; a client that goes away (EPOLLHUP) is
	 * closed, one that only half-closed still gets its answer. */
	client_watch(c, 0);
	if (!srv.in_flight) {
		round_start(want);
		c->round = srv.round;
	} else {
		/* Parts asked before this request may predate it. */
		c->round = srv.round + 1;
		srv.next_want |= want;
	}
}

int ctl_server_add_thread(unsigned i, struct mpt_backend *be, struct mpt_stack *st,
			  ctl_list_fn list, void *ud)
{
	if (!srv.open || i == 0 || i >= CTL_MAX_THREADS)
		return 0;
	if (srv.tfd < 0) {
		srv.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = CTL_TAG_TIMER};
		if (srv.tfd < 0 || epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.tfd, &ev) < 0) {
			fprintf(stderr,
				"%s: warning: control socket: no timer (%s): thread %u's "
				"connections and counters are not shown\n",
				srv.prog, strerror(errno), i);
			if (srv.tfd >= 0)
				close(srv.tfd);
			srv.tfd = -1;
			return -1;
		}
	}
	struct ctl_part *p = &parts[i];
	p->be = be;
	p->st = st;
	p->list = list;
	p->ud = ud;
	atomic_store(&p->asked, false);
	if (i + 1 > srv.n_threads)
		srv.n_threads = i + 1;
	return 0;
}

void ctl_server_on_wake(unsigned i)
{
	if (i == 0) {
		if (srv.open)
			round_check();
		return;
	}
	if (i >= CTL_MAX_THREADS)
		return;
	struct ctl_part *p = &parts[i];
	if (!atomic_exchange(&p->asked, false))
		return;
	/* In thread i: its own stack, its own sockets. */
	pthread_mutex_lock(&part_lock);
	uint64_t round = srv.ask_round;
	unsigned want = srv.ask_want;
	pthread_mutex_unlock(&part_lock);
	cJSON *conns = want & WANT_SS ? conns_json(p->list, p->ud, (int)i) : NULL;
	uint64_t *ctr = NULL;
	struct mpt_backend_stats bs = {0};
	if (want & WANT_NSTAT) {
		int nc = mpt_counter_count();
		ctr = calloc((size_t)(nc > 0 ? nc : 1), sizeof(*ctr));
		if (ctr)
			counters_add(ctr, p->st);
		mpt_backend_stats(p->be, &bs);
	}
	pthread_mutex_lock(&part_lock);
	cJSON *old_conns = p->conns;
	uint64_t *old_ctr = p->counters;
	p->conns = conns;
	p->counters = ctr;
	p->bs = bs;
	p->round = round;
	pthread_mutex_unlock(&part_lock);
	cJSON_Delete(old_conns);
	free(old_ctr);
	mpt_backend_wake(srv.be, false, 0);
}

/* ---- requests ----------------------------------------------------------------------- */

static void answer(struct ctl_client *c)
{
	char *nl = memchr(c->req, '\n', c->req_len);
	if (!nl)
		return;
	*nl = '\0';
	if (nl > c->req && nl[-1] == '\r')
		nl[-1] = '\0';
	cJSON *j = NULL;
	bool ss = !strcmp(c->req, "ss"), nstat = !strcmp(c->req, "nstat");
	if ((ss || nstat) && srv.n_threads > 1) {
		client_wait(c, ss ? WANT_SS : WANT_NSTAT);
		return;
	}
	if (ss) {
		j = ss_json(conns_json(srv.list, srv.ud, -1));
	} else if (nstat) {
		j = nstat_json_own();
	} else if (!strcmp(c->req, "monitor")) {
		c->kind = CL_MONITOR;
		cJSON *h = header_json();
		cJSON_AddBoolToObject(h, "ready", true);
		client_put_json(c, h, CTL_MONITOR_MAX);
		cJSON_Delete(h);
		client_flush(c);
		return;
	} else {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "error", "unknown request (ss, nstat, monitor)");
	}
	c->kind = CL_ANSWER;
	client_put_json(c, j, CTL_ANSWER_MAX);
	cJSON_Delete(j);
	client_flush(c);
}

static void client_read(struct ctl_client *c)
{
	for (;;) {
		char buf[512];
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* A monitor leaves by closing; a half-closed request
			 * still gets its answer. */
			if (c->kind == CL_REQUEST || c->kind == CL_MONITOR || n < 0)
				client_close(c);
			return;
		}
		if (c->kind != CL_REQUEST)
			continue; /* nothing more is read from a client */
		size_t take = (size_t)n;
		if (c->req_len + take > CTL_REQ_MAX - 1) {
			client_close(c);
			return;
		}
		memcpy(c->req + c->req_len, buf, take);
		c->req_len += take;
		c->req[c->req_len] = '\0';
		if (memchr(c->req, '\n', c->req_len)) {
			answer(c);
			if (c->fd < 0)
				return;
		}
	}
}

static void do_accept(void)
{
	for (;;) {
		int fd = accept4(srv.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		uint64_t now = mono_ns();
		size_t slot = CTL_MAX_CLIENTS;
		for (size_t i = 0; i < CTL_MAX_CLIENTS && slot == CTL_MAX_CLIENTS; i++)
			if (srv.cl[i].fd < 0)
				slot = i;
		/* Full: a client that never sent its request makes room. */
		for (size_t i = 0; i < CTL_MAX_CLIENTS && slot == CTL_MAX_CLIENTS; i++)
			if (srv.cl[i].kind == CL_REQUEST && now - srv.cl[i].since > CTL_REQ_NS) {
				client_close(&srv.cl[i]);
				slot = i;
			}
		if (slot == CTL_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		struct ctl_client *c = &srv.cl[slot];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->since = now;
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = slot + 1};
		if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			c->fd = -1;
		}
	}
}

static void on_epoll(void *ud, int fd, uint32_t events)
{
	(void)ud;
	(void)fd;
	(void)events;
	struct epoll_event evs[16];
	int n = epoll_wait(srv.epfd, evs, 16, 0);
	for (int i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64;
		if (tag == 0) {
			do_accept();
			continue;
		}
		if (tag == CTL_TAG_TIMER) {
			on_timer();
			continue;
		}
		struct ctl_client *c = &srv.cl[tag - 1];
		if (c->fd < 0)
			continue;
		if (c->kind == CL_WAIT) {
			if (evs[i].events & (EPOLLHUP | EPOLLERR))
				client_close(c); /* gone before its answer */
			continue;
		}
		if (evs[i].events & EPOLLOUT)
			client_flush(c);
		if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			client_read(c);
	}
}

/* ---- setup ------------------------------------------------------------------------- */

/* A directory we may put the socket in: root's /run/mpt, else per user. */
static bool ensure_dir(const char *d, mode_t mode)
{
	if (mkdir(d, mode) < 0 && errno != EEXIST)
		return false;
	struct stat st;
	if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode) || access(d, W_OK | X_OK) < 0)
		return false;
	/* A per-user directory must be ours and closed to others. */
	if (mode == 0700 && (st.st_uid != getuid() || (st.st_mode & 077)))
		return false;
	return true;
}

size_t ctl_socket_dirs(char dirs[][256], size_t max)
{
	size_t n = 0;
	if (n < max)
		snprintf(dirs[n++], 256, "/run/mpt");
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (x && *x && n < max)
		snprintf(dirs[n++], 256, "%s/mpt", x);
	if (n < max)
		snprintf(dirs[n++], 256, "/tmp/mpt-%u", (unsigned)getuid());
	return n;
}

int ctl_server_open(struct mpt_backend *be, struct mpt_stack *st, const char *tool,
		    const char *path, ctl_list_fn list, void *ud, const char *prog)
{
	memset(&srv, 0, sizeof(srv));
	srv.owner = pthread_self();
	srv.owned = true;
	srv.prog = prog;
	srv.lfd = srv.epfd = srv.tfd = -1;
	srv.n_threads = 1;
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
		srv.cl[i].fd = -1;
	if (path && !strcmp(path, "none"))
		return 0;
	srv.be = be;
	srv.st = st;
	srv.list = list;
	srv.ud = ud;
	srv.t0 = mono_ns();
	snprintf(srv.tool, sizeof(srv.tool), "%s", tool);
	bool explicit_path = path != NULL;
	if (path) {
		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			fprintf(stderr, "%s: --ctl %s: path too long\n", prog, path);
			return -1;
		}
		snprintf(srv.path, sizeof(srv.path), "%s", path);
	} else {
		char dirs[3][256];
		size_t nd = ctl_socket_dirs(dirs, 3);
		size_t i;
		for (i = 0; i < nd; i++)
			if (ensure_dir(dirs[i], i == 0 ? 0755 : 0700))
				break;
		if (i == nd) {
			fprintf(stderr,
				"%s: warning: no directory for the control socket "
				"(/run/mpt, $XDG_RUNTIME_DIR/mpt, /tmp/mpt-UID): mpt ss will "
				"not see this process\n",
				prog);
			return 0;
		}
		snprintf(srv.path, sizeof(srv.path), "%.200s/%.31s.%d.sock", dirs[i], tool,
			 (int)getpid());
		/* While we may still unlink in it: sweep the sockets of gone
		 * processes, so a directory shared for years stays small. */
		static char seen[64][300];
		(void)ctl_find_sockets(seen, 64, NULL);
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(srv.path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: control socket path %s too long\n", prog, srv.path);
		srv.path[0] = '\0';
		return explicit_path ? -1 : 0;
	}
	memcpy(sa.sun_path, srv.path, strlen(srv.path) + 1);
	/* A leftover socket of a dead process is replaced; a live one is not. */
	struct stat sst;
	if (lstat(srv.path, &sst) == 0) {
		char e[128];
		int probe = ctl_connect(srv.path, e, sizeof(e));
		if (probe >= 0 || !S_ISSOCK(sst.st_mode)) {
			if (probe >= 0)
				close(probe);
			fprintf(stderr, "%s: control socket %s: %s\n", prog, srv.path,
				probe >= 0 ? "another process serves it"
					   : "exists and is no socket");
			srv.path[0] = '\0';
			return explicit_path ? -1 : 0;
		}
		unlink(srv.path);
	}
	srv.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	mode_t old = umask(0077); /* the socket file: 0600 from the start */
	int rc =
	    srv.lfd < 0 || srv.epfd < 0 ? -1 : bind(srv.lfd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (rc == 0)
		rc = chmod(srv.path, 0600);
	if (rc == 0)
		rc = listen(srv.lfd, CTL_MAX_CLIENTS);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	if (rc == 0)
		rc = epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.lfd, &ev);
	if (rc == 0 && mpt_backend_watch(be, srv.epfd, EPOLLIN, on_epoll, NULL) < 0) {
		rc = -1;
		errno = EMFILE;
	}
	if (rc < 0) {
		if (!e)
			e = errno;
		fprintf(stderr, "%s: %scontrol socket %s: %s\n", prog,
			explicit_path ? "" : "warning: no ", srv.path, strerror(e ? e : errno));
		if (srv.lfd >= 0)
			close(srv.lfd);
		if (srv.epfd >= 0)
			close(srv.epfd);
		unlink(srv.path);
		srv.lfd = srv.epfd = -1;
		srv.path[0] = '\0';
		return explicit_path ? -1 : 0;
	}
	srv.open = true;
	return 0;
}

void ctl_server_close(void)
{
	if (!srv.open)
		return;
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
		if (srv.cl[i].fd >= 0) {
			client_flush(&srv.cl[i]);
			if (srv.cl[i].fd >= 0)
				client_close(&srv.cl[i]);
		}
	if (srv.be)
		mpt_backend_unwatch(srv.be, srv.epfd);
	/* The threads are joined: their last parts are ours to free. */
	for (unsigned i = 1; i < CTL_MAX_THREADS; i++) {
		cJSON_Delete(parts[i].conns);
		free(parts[i].counters);
		memset(&parts[i], 0, sizeof(parts[i]));
	}
	srv.n_threads = 1;
	srv.in_flight = false;
	if (srv.tfd >= 0)
		close(srv.tfd);
	srv.tfd = -1;
	close(srv.lfd);
	close(srv.epfd);
	unlink(srv.path);
	srv.open = false;
	srv.lfd = srv.epfd = -1;
	srv.path[0] = '\0';
}

const char *ctl_server_path(void)
{
	return srv.path;
}

/* ---- the client side ------------------------------------------------------------ */

int ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(e),
			 e == EACCES ? " (the socket is its owner's only: run as that user or root)"
			 : e == ECONNREFUSED ? " (the process is gone)"
					     : "");
		close(fd);
		return -1;
	}
	return fd;
}

static int cmp_paths(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* A socket named TOOL.PID.sock whose process no longer exists: left by a
 * process that was killed, or that dropped its privileges (--user) and so
 * may not unlink from root's /run/mpt.  Nobody listens on it any more. */
static bool stale_socket(const char *dir, const char *name)
{
	const char *dot = strrchr(name, '.'), *p = dot;
	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (!dot || p == dot || p == name || p[-1] != '.' || dot - p > 9)
		return false;
	pid_t pid = (pid_t)strtol(p, NULL, 10);
	if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
		return false;
	/* The pid is gone, so a connect is refused: unlink when we may
	 * (root, or the owner), so they do not pile up; skip it either way. */
	char path[300];
	snprintf(path, sizeof(path), "%.200s/%.95s", dir, name);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, path, strlen(path) + 1);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool refused = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
			       errno == ECONNREFUSED;
		if (fd >= 0)
			close(fd);
		if (refused)
			(void)unlink(path);
	}
	return true;
}

size_t ctl_find_sockets(char paths[][300], size_t max, bool *truncated)
{
	char dirs[3][256];
	size_t nd = ctl_socket_dirs(dirs, 3), n = 0;
	bool more = false;
	for (size_t i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i]);
		if (!d)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);
			if (l < 6 || strcmp(de->d_name + l - 5, ".sock"))
				continue;
			if (stale_socket(dirs[i], de->d_name))
				continue;
			if (n == max) {
				more = true; /* read on: the sweep goes on */
				continue;
			}
			snprintf(paths[n], 300, "%.200s/%.95s", dirs[i], de->d_name);
			bool dup = false;
			for (size_t k = 0; k < n && !dup; k++)
				dup = !strcmp(paths[k], paths[n]);
			if (!dup)
				n++;
		}
		closedir(d);
	}
	if (truncated)
		*truncated = more;
	qsort(paths, n, 300, cmp_paths);
	return n;
}
