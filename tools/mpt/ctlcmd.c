/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mpt ss`, `mpt nstat`, `mpt monitor`: look into running mpt processes
 * through their control sockets (ctl.h), as ss -M -i, nstat and
 * ip mptcp monitor look into the kernel.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "tool.h"

#define MAX_TARGETS 64

/* ---- talking to a process ----------------------------------------------------------- */

/* Send a request, read the whole answer (one JSON document). */
static cJSON *request(const char *path, const char *req, char *err, size_t errlen)
{
	int fd = ctl_connect(path, err, errlen);
	if (fd < 0)
		return NULL;
	size_t rl = strlen(req);
	if (write(fd, req, rl) != (ssize_t)rl) {
		snprintf(err, errlen, "%s: write: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (len + 4096 > cap) {
			if (cap >= 64u * 1024 * 1024)
				break;
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 5000) <= 0) {
			snprintf(err, errlen, "%s: no answer within 5 s", path);
			free(buf);
			close(fd);
			return NULL;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	buf[len] = '\0';
	cJSON *j = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!j)
		snprintf(err, errlen, "%s: not a JSON answer", path);
	return j;
}

/* An answer that lacks the part of a thread that did not answer in time
 * (ctl.h) is shown as it is, said on stderr and makes the status 1. */
static int partial(const cJSON *doc, const char *path, const char *prog)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	if (!cJSON_IsString(e))
		return 0;
	fprintf(stderr, "%s: %s: %s\n", prog, path, e->valuestring);
	return 1;
}

/* The sockets to ask: --ctl PATH, -p PID, or every one found. */
static size_t targets(const char *path, long pid, char out[][300], const char *prog)
{
	if (path) {
		snprintf(out[0], 300, "%s", path);
		return 1;
	}
	static char all[MAX_TARGETS][300];
	bool more = false;
	size_t n = ctl_find_sockets(all, MAX_TARGETS, &more), k = 0;
	if (more)
		fprintf(stderr, "%s: more than %d mpt processes: only %d are asked\n", prog,
			MAX_TARGETS, MAX_TARGETS);
	for (size_t i = 0; i < n; i++) {
		if (pid > 0) {
			char suffix[32];
			snprintf(suffix, sizeof(suffix), ".%ld.sock", pid);
			size_t l = strlen(all[i]), sl = strlen(suffix);
			if (l < sl || strcmp(all[i] + l - sl, suffix))
				continue;
		}
		snprintf(out[k++], 300, "%.299s", all[i]);
	}
	if (k == 0)
		fprintf(stderr,
			"%s: no running mpt process found%s (control sockets in /run/mpt, "
			"$XDG_RUNTIME_DIR/mpt, /tmp/mpt-UID)\n",
			prog, pid > 0 ? " with that pid" : "");
	return k;
}

static double jn(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *js(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static bool jb(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static const char *short_state(const char *s)
{
	if (!strcmp(s, "ESTABLISHED"))
		return "ESTAB";
	if (!strcmp(s, "SYN-SENT"))
		return "SYN-SENT";
	if (!strcmp(s, "SYN-RECEIVED"))
		return "SYN-RECV";
	return s;
}

static void endpoint(char *buf, size_t len, const cJSON *o, const char *h, const char *p)
{
	const char *host = js(o, h);
	if (strchr(host, ':'))
		snprintf(buf, len, "[%s]:%.0f", host, jn(o, p));
	else
		snprintf(buf, len, "%s:%.0f", host, jn(o, p));
}

/* ---- mpt ss ------------------------------------------------------------------------- */

static void ss_usage(FILE *f)
{
	fprintf(f, "usage: mpt ss [-i] [-a] [-H] [-j] [-p PID | --ctl PATH]\n"
		   "  Connections of running mpt processes (perf, cat, proxy, convert, onpath),\n"
		   "  as ss -M shows the kernel's: MPTCP or TCP (fell back), token, subflows.\n"
		   "  -i, --info        every subflow: addresses, address ids, state, RTT, cwnd,\n"
		   "                    bytes, retransmissions, backup flag (as ss -i)\n"
		   "  -a, --all         listeners too\n"
		   "  -H, --no-header   no header line\n"
		   "  -j, --json        the processes' JSON documents (an array)\n"
		   "  -p, --pid PID     only the process PID\n"
		   "      --ctl PATH    only the process serving this control socket\n"
		   "  -h, --help        this text\n");
}

static void ss_print(const cJSON *doc, bool info, bool all, bool header)
{
	printf("# mpt %s (pid %.0f, %s)\n", js(doc, "tool"), jn(doc, "pid"), js(doc, "ctl"));
	if (header)
		printf("%-11s %-40s %-40s %s\n", "State", "Local Address:Port", "Peer Address:Port",
		       "Process");
	const cJSON *conns = cJSON_GetObjectItemCaseSensitive(doc, "connections");
	const cJSON *c;
	cJSON_ArrayForEach(c, conns)
	{
		const char *state = js(c, "state");
		bool listener = !strcmp(state, "LISTEN");
		if (listener && !all)
			continue;
		char l[80], r[80];
		endpoint(l, sizeof(l), c, "local_host", "local_port");
		if (listener)
			snprintf(r, sizeof(r), "*:*");
		else
			endpoint(r, sizeof(r), c, "remote_host", "remote_port");
		printf("%-11s %-40s %-40s %s,pid=%.0f\n", short_state(state), l, r, js(doc, "tool"),
		       jn(doc, "pid"));
		if (listener)
			continue;
		const cJSON *subs = cJSON_GetObjectItemCaseSensitive(c, "subflows");
		int nsf = cJSON_GetArraySize(subs), joins = 0;
		const cJSON *sf;
		cJSON_ArrayForEach(sf, subs) joins += jb(sf, "join");
		if (jb(c, "mptcp"))
			printf("\t mptcp v%.0f token:%s subflows:%d (%d join%s) established:%.0f "
			       "max:%.0f add_addr_signal:%.0f add_addr_accepted:%.0f%s\n",
			       jn(c, "version"), js(c, "token"), nsf, joins, joins == 1 ? "" : "s",
			       jn(c, "subflows_established"), jn(c, "subflows_max"),
			       jn(c, "add_addr_signal"), jn(c, "add_addr_accepted"),
			       jb(c, "checksum") ? " checksum" : "");
		else if (jb(c, "fallback"))
			printf("\t tcp (fell back from MPTCP v%.0f) token:%s\n", jn(c, "version"),
			       js(c, "token"));
		else
			printf("\t tcp (no MPTCP)\n");
		printf("\t bytes_sent:%.0f bytes_acked:%.0f bytes_received:%.0f bytes_retrans:%.0f "
		       "retrans:%.0f reinjected:%.0f rtt:%.3fms cwnd:%.0f cc:%s\n",
		       jn(c, "bytes_sent"), jn(c, "bytes_acked"), jn(c, "bytes_received"),
		       jn(c, "bytes_retrans"), jn(c, "retransmits"), jn(c, "reinjected_bytes"),
		       jn(c, "rtt_us") / 1000.0, jn(c, "cwnd"), js(c, "cc"));
		if (!info)
			continue;
		int k = 0;
		cJSON_ArrayForEach(sf, subs)
		{
			char sl[80], sr[80];
			endpoint(sl, sizeof(sl), sf, "local_host", "local_port");
			endpoint(sr, sizeof(sr), sf, "remote_host", "remote_port");
			printf("\t subflow %d: %s -> %s ids %.0f/%.0f %s%s%s rtt:%.3fms cwnd:%.0f "
			       "bytes_sent:%.0f bytes_acked:%.0f bytes_received:%.0f retrans:%.0f "
			       "backup:%d %s\n",
			       k++, sl, sr, jn(sf, "local_id"), jn(sf, "remote_id"),
			       short_state(js(sf, "state")), jb(sf, "active") ? "" : " (inactive)",
			       "", jn(sf, "rtt_us") / 1000.0, jn(sf, "cwnd"), jn(sf, "bytes_sent"),
			       jn(sf, "bytes_acked"), jn(sf, "bytes_received"),
			       jn(sf, "retransmits"), jb(sf, "backup") ? 1 : 0,
			       jb(sf, "join") ? "join" : "initial");
		}
	}
}

int mpt_cmd_ss(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"info", no_argument, NULL, 'i'},      {"all", no_argument, NULL, 'a'},
	    {"no-header", no_argument, NULL, 'H'}, {"json", no_argument, NULL, 'j'},
	    {"pid", required_argument, NULL, 'p'}, {"ctl", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
	bool info = false, all = false, header = true, json = false;
	long pid = 0;
	const char *path = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "iaHjp:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			info = true;
			break;
		case 'a':
			all = true;
			break;
		case 'H':
			header = false;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			pid = strtol(optarg, NULL, 10);
			if (pid <= 0) {
				fprintf(stderr, "mpt ss: -p: '%s' is not a pid\n", optarg);
				return 2;
			}
			break;
		case 'c':
			path = optarg;
			break;
		case 'h':
			ss_usage(stdout);
			return 0;
		default:
			ss_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mpt ss: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	static char paths[MAX_TARGETS][300];
	size_t n = targets(path, pid, paths, "mpt ss");
	if (n == 0)
		return 1;
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	int rc = 0, ok = 0;
	for (size_t i = 0; i < n; i++) {
		char err[400];
		cJSON *doc = request(paths[i], "ss\n", err, sizeof(err));
		if (!doc) {
			/* A stale socket of a gone process is skipped when listing
			 * them all; asked for by name, it is an error. */
			if (path || pid > 0 || !strstr(err, "process is gone")) {
				fprintf(stderr, "mpt ss: %s\n", err);
				rc = 1;
			}
			continue;
		}
		ok++;
		rc |= partial(doc, paths[i], "mpt ss");
		if (json)
			cJSON_AddItemToArray(arr, doc);
		else {
			ss_print(doc, info, all, header);
			cJSON_Delete(doc);
		}
	}
	if (json) {
		char *t = cJSON_Print(arr);
		if (t)
			printf("%s\n", t);
		cJSON_free(t);
		cJSON_Delete(arr);
	}
	return rc ? rc : (ok ? 0 : 1);
}

/* ---- mpt nstat ----------------------------------------------------------------------- */

static void nstat_usage(FILE *f)
{
	fprintf(f, "usage: mpt nstat [-a] [-z] [-r] [-n] [-s] [-j] [-p PID | --ctl PATH]\n"
		   "  Counters of running mpt processes, with the kernel's MIB names\n"
		   "  (MPTcpExt*, TcpExt*, Tcp*, Ip*) so they compare with nstat(8).  By default\n"
		   "  the increments since the last mpt nstat of that process (history in\n"
		   "  /tmp/.mpt-nstat.uUID.PID, as nstat keeps its own), with a rate per second.\n"
		   "  -a, --absolute    absolute values instead of increments\n"
		   "  -z, --zeros       counters that are zero too\n"
		   "  -r, --reset       forget the history (the next increments count from 0)\n"
		   "  -n, --nooutput    update the history only\n"
		   "  -s, --noupdate    do not update the history\n"
		   "  -j, --json        JSON: {\"PROCESS\": {\"NAME\": value, ...}, ...}\n"
		   "  -p, --pid PID     only the process PID\n"
		   "      --ctl PATH    only the process serving this control socket\n"
		   "  -h, --help        this text\n");
}

struct hist {
	uint64_t t_ns;
	char (*name)[96];
	double *val;
	size_t n, cap;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * MPT_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void hist_path(char *buf, size_t len, const cJSON *doc)
{
	snprintf(buf, len, "/tmp/.mpt-nstat.u%u.%s.%.0f", (unsigned)getuid(), js(doc, "tool"),
		 jn(doc, "pid"));
}

static void hist_load(struct hist *h, const char *path)
{
	memset(h, 0, sizeof(*h));
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[256];
	if (fgets(line, sizeof(line), f))
		h->t_ns = strtoull(line, NULL, 10);
	while (fgets(line, sizeof(line), f)) {
		char name[96];
		double v;
		if (sscanf(line, "%95s %lf", name, &v) != 2)
			continue;
		if (h->n == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 128;
			void *a = realloc(h->name, cap * sizeof(*h->name));
			if (!a)
				break;
			h->name = a;
			void *b = realloc(h->val, cap * sizeof(*h->val));
			if (!b)
				break;
			h->val = b;
			h->cap = cap;
		}
		snprintf(h->name[h->n], 96, "%s", name);
		h->val[h->n++] = v;
	}
	fclose(f);
}

static double hist_get(const struct hist *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->name[i], name))
			return h->val[i];
	return 0;
}

static void hist_save(const char *path, const cJSON *counters, uint64_t t)
{
	char tmp[400];
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	mode_t old = umask(0077);
	FILE *f = fopen(tmp, "w");
	umask(old);
	if (!f)
		return;
	fprintf(f, "%" PRIu64 "\n", t);
	const cJSON *c;
	cJSON_ArrayForEach(c, counters) fprintf(f, "%s %.0f\n", c->string, c->valuedouble);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

int mpt_cmd_nstat(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"absolute", no_argument, NULL, 'a'},  {"zeros", no_argument, NULL, 'z'},
	    {"reset", no_argument, NULL, 'r'},     {"nooutput", no_argument, NULL, 'n'},
	    {"noupdate", no_argument, NULL, 's'},  {"json", no_argument, NULL, 'j'},
	    {"pid", required_argument, NULL, 'p'}, {"ctl", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
	bool absolute = false, zeros = false, reset = false, noout = false, noupdate = false,
	     json = false;
	long pid = 0;
	const char *path = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "azrnsjp:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			absolute = true;
			break;
		case 'z':
			zeros = true;
			break;
		case 'r':
			reset = true;
			break;
		case 'n':
			noout = true;
			break;
		case 's':
			noupdate = true;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			pid = strtol(optarg, NULL, 10);
			if (pid <= 0) {
				fprintf(stderr, "mpt nstat: -p: '%s' is not a pid\n", optarg);
				return 2;
			}
			break;
		case 'c':
			path = optarg;
			break;
		case 'h':
			nstat_usage(stdout);
			return 0;
		default:
			nstat_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mpt nstat: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	static char paths[MAX_TARGETS][300];
	size_t n = targets(path, pid, paths, "mpt nstat");
	if (n == 0)
		return 1;
	cJSON *out = json ? cJSON_CreateObject() : NULL;
	int rc = 0, ok = 0;
	for (size_t i = 0; i < n; i++) {
		char err[400];
		cJSON *doc = request(paths[i], "nstat\n", err, sizeof(err));
		if (!doc) {
			if (path || pid > 0 || !strstr(err, "process is gone")) {
				fprintf(stderr, "mpt nstat: %s\n", err);
				rc = 1;
			}
			continue;
		}
		ok++;
		rc |= partial(doc, paths[i], "mpt nstat");
		/* One list: the stack's counters, then the backend's. */
		cJSON *counters = cJSON_Duplicate(cJSON_GetObjectItem(doc, "counters"), true);
		const cJSON *b;
		cJSON_ArrayForEach(b, cJSON_GetObjectItem(doc, "backend"))
		    cJSON_AddNumberToObject(counters, b->string, b->valuedouble);
		char hp[300];
		hist_path(hp, sizeof(hp), doc);
		if (reset)
			unlink(hp);
		struct hist h;
		hist_load(&h, reset ? "/nonexistent" : hp);
		uint64_t t = wall_ns();
		double secs = h.t_ns && t > h.t_ns ? (double)(t - h.t_ns) / 1e9 : jn(doc, "uptime");
		char label[96];
		snprintf(label, sizeof(label), "%s.%.0f", js(doc, "tool"), jn(doc, "pid"));
		cJSON *jo = json ? cJSON_AddObjectToObject(out, label) : NULL;
		if (!noout && !json)
			printf("#mpt %s pid %.0f\n", js(doc, "tool"), jn(doc, "pid"));
		const cJSON *c;
		cJSON_ArrayForEach(c, counters)
		{
			double v = c->valuedouble;
			double d = absolute ? v : v - hist_get(&h, c->string);
			if (d < 0) /* the process restarted with the same pid */
				d = v;
			if (!zeros && d == 0)
				continue;
			if (jo)
				cJSON_AddNumberToObject(jo, c->string, d);
			else if (!noout)
				printf("%-32s%-19.0f%.1f\n", c->string, d,
				       secs > 0 && !absolute ? d / secs : 0.0);
		}
		if (!noupdate)
			hist_save(hp, counters, t);
		free(h.name);
		free(h.val);
		cJSON_Delete(counters);
		cJSON_Delete(doc);
	}
	if (json && !noout) {
		char *t = cJSON_Print(out);
		if (t)
			printf("%s\n", t);
		cJSON_free(t);
	}
	cJSON_Delete(out);
	return rc ? rc : (ok ? 0 : 1);
}

/* ---- mpt monitor ------------------------------------------------------------------------ */

static void monitor_usage(FILE *f)
{
	fprintf(f, "usage: mpt monitor [-j] [-p PID | --ctl PATH]\n"
		   "  Path-manager events of running mpt processes as they happen, in\n"
		   "  ip mptcp monitor's vocabulary and layout: CREATED, ESTABLISHED,\n"
		   "  ANNOUNCED, REMOVED, SF_ESTABLISHED, SF_CLOSED, SF_PRIORITY, CLOSED, with\n"
		   "  tokens, address ids, addresses and ports.  Runs until interrupted or until\n"
		   "  every watched process has ended.\n"
		   "  -j, --json        the events as JSON, one object per line\n"
		   "  -p, --pid PID     only the process PID\n"
		   "      --ctl PATH    only the process serving this control socket\n"
		   "  -h, --help        this text\n");
}

static void print_event(const cJSON *e, const char *who)
{
	const cJSON *lost = cJSON_GetObjectItemCaseSensitive(e, "lost");
	if (cJSON_IsNumber(lost)) {
		printf("[%14s] %.0f events lost (the monitor did not keep up)%s\n", "LOST",
		       lost->valuedouble, who);
		return;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ready")))
		return;
	printf("[%14s] token=%s", js(e, "type"), js(e, "token"));
	const char *type = js(e, "type");
	bool has_ids = strcmp(type, "CLOSED") != 0;
	if (has_ids) {
		printf(" remid=%.0f", jn(e, "remid"));
		if (strcmp(type, "ANNOUNCED") && strcmp(type, "REMOVED"))
			printf(" locid=%.0f", jn(e, "locid"));
	}
	char v = jn(e, "family") == 6 ? '6' : '4';
	if (cJSON_GetObjectItemCaseSensitive(e, "saddr"))
		printf(" saddr%c=%s", v, js(e, "saddr"));
	if (cJSON_GetObjectItemCaseSensitive(e, "daddr"))
		printf(" daddr%c=%s", v, js(e, "daddr"));
	if (cJSON_GetObjectItemCaseSensitive(e, "sport"))
		printf(" sport=%.0f", jn(e, "sport"));
	if (cJSON_GetObjectItemCaseSensitive(e, "dport") && jn(e, "dport"))
		printf(" dport=%.0f", jn(e, "dport"));
	if (cJSON_GetObjectItemCaseSensitive(e, "backup"))
		printf(" backup=%.0f", jn(e, "backup"));
	if (cJSON_GetObjectItemCaseSensitive(e, "error"))
		printf(" error=%.0f (%s)", jn(e, "error"), js(e, "error_text"));
	printf("%s\n", who);
}

static volatile sig_atomic_t monitor_stop;

static void on_stop(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

int mpt_cmd_monitor(int argc, char **argv)
{
	static const struct option lopts[] = {{"json", no_argument, NULL, 'j'},
					      {"pid", required_argument, NULL, 'p'},
					      {"ctl", required_argument, NULL, 'c'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	bool json = false;
	long pid = 0;
	const char *path = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "jp:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'p':
			pid = strtol(optarg, NULL, 10);
			if (pid <= 0) {
				fprintf(stderr, "mpt monitor: -p: '%s' is not a pid\n", optarg);
				return 2;
			}
			break;
		case 'c':
			path = optarg;
			break;
		case 'h':
			monitor_usage(stdout);
			return 0;
		default:
			monitor_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mpt monitor: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	static char paths[MAX_TARGETS][300];
	size_t n = targets(path, pid, paths, "mpt monitor");
	if (n == 0)
		return 1;
	struct pollfd pf[MAX_TARGETS];
	static char buf[MAX_TARGETS][65536];
	size_t len[MAX_TARGETS] = {0};
	char who[MAX_TARGETS][64];
	size_t live = 0;
	for (size_t i = 0; i < n; i++) {
		char err[400];
		pf[i].fd = ctl_connect(paths[i], err, sizeof(err));
		pf[i].events = POLLIN;
		who[i][0] = '\0';
		if (pf[i].fd < 0) {
			if (path || pid > 0 || !strstr(err, "process is gone"))
				fprintf(stderr, "mpt monitor: %s\n", err);
			continue;
		}
		if (write(pf[i].fd, "monitor\n", 8) != 8) {
			close(pf[i].fd);
			pf[i].fd = -1;
			continue;
		}
		if (n > 1) {
			/* Several processes: say whose event it is. */
			const char *base = strrchr(paths[i], '/');
			snprintf(who[i], sizeof(who[i]), " process=%.50s",
				 base ? base + 1 : paths[i]);
			char *dot = strstr(who[i], ".sock");
			if (dot)
				*dot = '\0';
		}
		live++;
	}
	if (!live)
		return 1;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (live && !monitor_stop) {
		int r = poll(pf, (nfds_t)n, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(pf[i].fd, buf[i] + len[i], sizeof(buf[i]) - 1 - len[i]);
			if (got <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				live--;
				continue;
			}
			len[i] += (size_t)got;
			buf[i][len[i]] = '\0';
			char *line = buf[i], *nl;
			while ((nl = strchr(line, '\n')) != NULL) {
				*nl = '\0';
				if (json) {
					printf("%s\n", line);
				} else {
					cJSON *e = cJSON_Parse(line);
					if (e)
						print_event(e, who[i]);
					cJSON_Delete(e);
				}
				line = nl + 1;
			}
			len[i] -= (size_t)(line - buf[i]);
			memmove(buf[i], line, len[i]);
			if (len[i] == sizeof(buf[i]) - 1) /* an absurd line: drop it */
				len[i] = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	return 0;
}
