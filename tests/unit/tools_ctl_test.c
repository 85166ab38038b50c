/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket of a process with one stack per thread
 * (tools/mpt/ctl.c, ctl_server_add_thread): ss and nstat answers made of
 * every thread's part, and the bounded wait for a thread that does not
 * answer.  The backend is replaced by the four calls ctl.c makes (watch,
 * unwatch, wake, stats), and the test runs the loops itself, in one
 * thread, step by step: ctl_server_on_wake(i) is what thread i's loop
 * calls after a wake-up, and a backend's wake-ups are counted.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <poll.h>
#include <sys/epoll.h>

#include "ctl.h"

/* ---- the backend, as ctl.c sees it ------------------------------------------------ */

struct mpt_backend {
	unsigned wakes;
	struct mpt_backend_stats bs;
};

static struct mpt_backend g_be[2];
static int g_fd = -1; /* the server's epoll descriptor, watched by "the loop" */
static mpt_backend_fd_fn g_fn;
static void *g_ud;

int mpt_backend_watch(struct mpt_backend *b, int fd, uint32_t events, mpt_backend_fd_fn fn,
		      void *ud)
{
	(void)b;
	(void)events;
	g_fd = fd;
	g_fn = fn;
	g_ud = ud;
	return 0;
}

void mpt_backend_unwatch(struct mpt_backend *b, int fd)
{
	(void)b;
	if (fd == g_fd)
		g_fd = -1;
}

void mpt_backend_wake(struct mpt_backend *b, bool stop, int status)
{
	(void)stop;
	(void)status;
	b->wakes++;
}

void mpt_backend_stats(const struct mpt_backend *b, struct mpt_backend_stats *out)
{
	*out = b->bs;
}

/* ---- two stacks, each with a listener -------------------------------------------- */

static struct mpt_stack *g_st[2];
static struct mpt_sock *g_ls[2];
static char g_dir[64], g_path[96];

static void out_drop(void *ud, const uint8_t *pkt, size_t len)
{
	(void)ud;
	(void)pkt;
	(void)len;
}

/* Any bytes do: nothing here depends on them. */
static void fake_rand(uint8_t *buf, size_t len, void *ud)
{
	static uint64_t x = 1;
	(void)ud;
	for (size_t i = 0; i < len; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(x >> 56);
	}
}

static size_t list_one(void *ud, struct mpt_sock **out, size_t max)
{
	struct mpt_sock **ls = ud;
	if (max == 0)
		return 0;
	out[0] = *ls;
	return 1;
}

static int setup(void **state)
{
	(void)state;
	static const char *const addr[2] = {"10.0.0.1", "10.0.0.2"};
	memset(g_be, 0, sizeof(g_be));
	for (int i = 0; i < 2; i++) {
		struct mpt_stack_cfg cfg;
		mpt_stack_cfg_init(&cfg);
		cfg.output = out_drop;
		cfg.rand = fake_rand;
		cfg.n_local = 1;
		assert_int_equal(mpt_addr_parse(&cfg.local[0], addr[i]), 0);
		assert_int_equal(mpt_stack_create(&cfg, &g_st[i]), 0);
		struct mpt_endpoint ep = {.addr = cfg.local[0], .port = (uint16_t)(5000 + i)};
		assert_int_equal(mpt_listen(g_st[i], &ep, 8, &g_ls[i]), 0);
		/* Different counters per stack: 3 and 5 truncated packets. */
		static const uint8_t junk[4] = {0x45, 0, 0, 0};
		for (int k = 0; k < 3 + 2 * i; k++)
			(void)mpt_stack_input(g_st[i], junk, sizeof(junk), 0);
		g_be[i].bs.rx_pkts = 10u + (uint64_t)i;
	}
	snprintf(g_dir, sizeof(g_dir), "/tmp/mpt-ctl-test.XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	snprintf(g_path, sizeof(g_path), "%s/ctl.sock", g_dir);
	assert_int_equal(ctl_server_open(&g_be[0], g_st[0], "test", g_path, list_one, &g_ls[0],
					 "tools_ctl_test"),
			 0);
	assert_int_equal(ctl_server_add_thread(1, &g_be[1], g_st[1], list_one, &g_ls[1]), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctl_server_close();
	for (int i = 0; i < 2; i++)
		mpt_stack_destroy(g_st[i]);
	rmdir(g_dir);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

/* Thread 0's loop: the control socket's events, as many rounds as it takes. */
static void pump(void)
{
	for (int i = 0; i < 4; i++)
		g_fn(g_ud, g_fd, EPOLLIN);
}

static int ask(const char *req)
{
	char err[200];
	int fd = ctl_connect(g_path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	pump();
	return fd;
}

/* True when fd has something to read (an answer, or its end) now. */
static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

/* The whole answer, parsed; the server closes once it is out. */
static cJSON *answer(int fd)
{
	static char buf[1 << 16];
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 1000), 1);
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	return j;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static uint64_t stack_ctr(int i, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(mpt_stack_counter_by_name(g_st[i], name, &v), 0);
	return v;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- tests ---------------------------------------------------------------------------- */

/* nstat: the answer waits for thread 1's part, then sums both stacks. */
static void test_nstat_sums_threads(void **state)
{
	(void)state;
	int fd = ask("nstat\n");
	/* Thread 1 was woken and asked; nothing is answered yet. */
	assert_int_equal(g_be[1].wakes, 1);
	assert_false(readable(fd));
	ctl_server_on_wake(1); /* in thread 1: its part, then thread 0 is woken */
	assert_int_equal(g_be[0].wakes, 1);
	assert_false(readable(fd));
	ctl_server_on_wake(0); /* in thread 0: every part is in */
	cJSON *j = answer(fd);
	assert_int_equal((int)num(j, "threads"), 2);
	assert_null(cJSON_GetObjectItem(j, "error"));
	const cJSON *c = cJSON_GetObjectItem(j, "counters");
	assert_int_equal((uint64_t)num(c, "IpInReceives"), 3 + 5);
	/* Every counter is the sum of the two stacks'. */
	int n = mpt_counter_count();
	for (int i = 0; i < n; i++) {
		const char *name = mpt_counter_name(i);
		if (!name)
			continue;
		char k[96];
		ctl_mib_name(name, k, sizeof(k));
		assert_int_equal((uint64_t)num(c, k), stack_ctr(0, name) + stack_ctr(1, name));
	}
	assert_int_equal((uint64_t)num(cJSON_GetObjectItem(j, "backend"), "TunRxPackets"), 21);
	cJSON_Delete(j);
}

/* ss: both threads' sockets, each with its thread. */
static void test_ss_lists_threads(void **state)
{
	(void)state;
	int fd = ask("ss\n");
	ctl_server_on_wake(1);
	ctl_server_on_wake(0);
	cJSON *j = answer(fd);
	const cJSON *conns = cJSON_GetObjectItem(j, "connections");
	assert_int_equal(cJSON_GetArraySize(conns), 2);
	for (int i = 0; i < 2; i++) {
		const cJSON *o = cJSON_GetArrayItem(conns, i);
		assert_int_equal((int)num(o, "thread"), i);
		assert_int_equal((int)num(o, "local_port"), 5000 + i);
		assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "LISTEN");
	}
	assert_null(cJSON_GetObjectItem(j, "error"));
	cJSON_Delete(j);
}

/*
 * A thread that does not answer: the request is answered after
 * CTL_GATHER_S with thread 0's part and an error naming thread 1 (the loop
 * is not held meanwhile: the deadline is one of its descriptors).  A
 * request that came during that round gets a round of its own, answered in
 * full once thread 1 answers.
 */
static void test_stuck_thread_is_bounded(void **state)
{
	(void)state;
	uint64_t t0 = mono_ms();
	int fd = ask("ss\n");
	int fd2 = ask("nstat\n"); /* during the round: waits for the next one */
	/* The server's descriptor becomes readable when the deadline passes. */
	struct pollfd p = {.fd = g_fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, (CTL_GATHER_S + 2) * 1000), 1);
	uint64_t waited = mono_ms() - t0;
	assert_true(waited >= CTL_GATHER_S * 1000u - 50u);
	pump();
	cJSON *j = answer(fd);
	const cJSON *err = cJSON_GetObjectItem(j, "error");
	assert_true(cJSON_IsString(err));
	assert_non_null(strstr(err->valuestring, "did not answer within"));
	const cJSON *miss = cJSON_GetObjectItem(j, "threads_missing");
	assert_int_equal(cJSON_GetArraySize(miss), 1);
	assert_int_equal(cJSON_GetArrayItem(miss, 0)->valueint, 1);
	const cJSON *conns = cJSON_GetObjectItem(j, "connections");
	assert_int_equal(cJSON_GetArraySize(conns), 1);
	assert_int_equal((int)num(cJSON_GetArrayItem(conns, 0), "thread"), 0);
	cJSON_Delete(j);
	/* The nstat request's round started when the first ended: thread 1
	 * was asked again and now answers (its first part was for ss). */
	assert_false(readable(fd2));
	ctl_server_on_wake(1);
	ctl_server_on_wake(0);
	j = answer(fd2);
	assert_null(cJSON_GetObjectItem(j, "error"));
	assert_int_equal((uint64_t)num(cJSON_GetObjectItem(j, "counters"), "IpInReceives"), 8);
	cJSON_Delete(j);
}

/* A client that goes away while it waits is closed; the round still ends. */
static void test_client_gone_while_waiting(void **state)
{
	(void)state;
	int fd = ask("ss\n");
	close(fd);
	pump(); /* EPOLLHUP: closed */
	int fd2 = ask("nstat\n");
	ctl_server_on_wake(1);
	ctl_server_on_wake(0);
	/* The round of the gone client ended; the nstat one follows. */
	ctl_server_on_wake(1);
	ctl_server_on_wake(0);
	cJSON *j = answer(fd2);
	assert_null(cJSON_GetObjectItem(j, "error"));
	assert_int_equal((int)num(j, "threads"), 2);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_nstat_sums_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ss_lists_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stuck_thread_is_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_gone_while_waiting, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
