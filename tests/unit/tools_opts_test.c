/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared stack options of the mpt tool (tools/mpt/opts.c, linked from
 * the static library mpt_toolopts).
 */
#define _DEFAULT_SOURCE /* mkstemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <getopt.h>

#include "opts.h"

/* Parse argv the way a subcommand does: getopt_long with the shared table. */
static int parse(struct mpt_tool_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {MPT_STACK_LONGOPTS, {NULL, 0, NULL, 0}};
	mpt_opts_init(o);
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "+" MPT_STACK_SHORTOPTS, lopts, NULL)) != -1) {
		if (ch == '?')
			return -1;
		int rc = mpt_opts_handle(o, "test", ch, optarg);
		if (rc != 0)
			return -1;
	}
	return mpt_opts_finish(o, "test");
}

#define PARSE(o, ...)                                                                              \
	({                                                                                         \
		char *argv_[] = {"cmd", __VA_ARGS__, NULL};                                        \
		parse((o), (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_);                    \
	})

static void test_full(void **state)
{
	(void)state;
	struct mpt_tool_opts o;
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24,dev=t0", "--path",
			       "2001:db8::1/64,delay=5", "--version", "0", "--checksum", "--sched",
			       "minrtt", "--cc", "reno", "--pm", "none", "--max-subflows", "4",
			       "--pcap", "x.pcap", "--seed", "9", "-v", "-v"),
			 0);
	assert_int_equal(o.be.n_paths, 2);
	assert_string_equal(o.be.paths[0].dev, "t0");
	assert_false(o.be.paths[1].backup);
	assert_int_equal(o.be.paths[1].delay_ms, 5);
	assert_string_equal(o.be.stack.tcp.cc, "reno");
	assert_true(o.be.stack.mptcp.enable);
	assert_int_equal(o.be.stack.mptcp.version, 0);
	assert_true(o.be.stack.mptcp.checksum);
	assert_true(o.be.stack.mptcp.no_pm);
	assert_int_equal(o.be.stack.mptcp.max_subflows, 4);
	assert_string_equal(o.be.pcap, "x.pcap");
	assert_int_equal(o.be.seed, 9);
	assert_int_equal(o.be.verbose, 2);
	/* Backup paths are accepted (the backend sets MPT_LOCAL_BACKUP). */
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--path", "10.0.1.1/24,backup"), 0);
	assert_false(o.be.paths[0].backup);
	assert_true(o.be.paths[1].backup);
	/* --remove-path-after applies to the path with that address, given
	 * before or after it. */
	assert_int_equal(PARSE(&o, "--remove-path-after", "10.0.1.1,1.5", "--path", "10.0.0.1",
			       "--path", "10.0.1.1"),
			 0);
	assert_int_equal(o.be.paths[0].remove_after_ms, 0);
	assert_int_equal(o.be.paths[1].remove_after_ms, 1500);
}

static void test_defaults(void **state)
{
	(void)state;
	struct mpt_tool_opts o;
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1"), 0);
	assert_true(o.be.stack.mptcp.enable);
	assert_int_equal(o.be.stack.mptcp.version, 1);
	assert_false(o.be.stack.mptcp.checksum);
	assert_false(o.be.stack.mptcp.no_pm);
	assert_string_equal(o.be.stack.tcp.cc, "cubic");
	assert_null(o.be.pcap);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--no-mptcp"), 0);
	assert_false(o.be.stack.mptcp.enable);
}

static void test_invalid(void **state)
{
	(void)state;
	struct mpt_tool_opts o;
	assert_int_equal(PARSE(&o, "--no-mptcp"), -1); /* no path */
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/40"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--version", "2"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--version", "-1"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--version", "1x"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--cc", "bbr9"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--cc", "averyveryverylongname"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--sched", "roundrobin"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--pm", "netlink"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--max-subflows", "0"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--max-subflows", "256"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--seed", "0"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--pcap", ""), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--bogus"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--version"), -1); /* missing value */
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--remove-path-after", "10.0.0.2,1"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--remove-path-after", "10.0.0.1"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--remove-path-after", "10.0.0.1,0"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--remove-path-after", "10.0.0.1,x"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1", "--remove-path-after", "bad,1"), -1);
	/* At most MPT_BACKEND_MAX_PATHS paths. */
	mpt_opts_init(&o);
	char spec[32];
	for (int i = 0; i < MPT_BACKEND_MAX_PATHS; i++) {
		snprintf(spec, sizeof(spec), "10.0.0.%d", i + 1);
		assert_int_equal(mpt_opts_handle(&o, "test", MPT_OPT_PATH, spec), 0);
	}
	assert_int_equal(mpt_opts_handle(&o, "test", MPT_OPT_PATH, "10.0.1.1"), -1);
	/* Codes that are not shared options are handed back. */
	assert_int_equal(mpt_opts_handle(&o, "test", 'l', NULL), 1);
}

static void test_policies(void **state)
{
	(void)state;
	struct mpt_tool_opts o;
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24,signal,subflow", "--path",
			       "10.0.1.1/24,fullmesh,backup", "--sched", "ecf", "--pm",
			       "ndiffports,4", "--race"),
			 0);
	assert_string_equal(o.be.stack.mptcp.sched, "ecf");
	assert_string_equal(o.be.stack.mptcp.pm, "ndiffports");
	assert_int_equal(o.be.stack.mptcp.ndiffports, 4);
	assert_true(o.be.stack.mptcp.race);
	assert_false(o.be.stack.mptcp.no_pm);
	assert_int_equal(o.be.paths[0].flags, MPT_LOCAL_SIGNAL | MPT_LOCAL_SUBFLOW);
	assert_int_equal(o.be.paths[1].flags, MPT_LOCAL_FULLMESH);
	assert_true(o.be.paths[1].backup);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--pm", "mobility"), 0);
	assert_string_equal(o.be.stack.mptcp.pm, "mobility");
	/* errors */
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--sched", "fastest"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--pm", "fullmesh,2"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--pm", "ndiffports,0"), -1);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24,signal=1"), -1);
}

/* --ext-keys and --ext-key-file (docs/external-keys.md). */
static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_ext_keys(void **state)
{
	(void)state;
	struct mpt_tool_opts o;
	char hex[] = "/tmp/mpt-opts-test-hex.XXXXXX", raw[] = "/tmp/mpt-opts-test-raw.XXXXXX",
	     bad[] = "/tmp/mpt-opts-test-bad.XXXXXX";
	int fds[3] = {mkstemp(hex), mkstemp(raw), mkstemp(bad)};
	for (int i = 0; i < 3; i++) {
		assert_true(fds[i] >= 0);
		close(fds[i]);
	}
	/* Default: off, no key. */
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24"), 0);
	assert_int_equal(o.be.stack.mptcp.ext_keys, MPT_EXT_KEYS_OFF);
	assert_int_equal(o.be.stack.mptcp.ext_key_len, 0);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-keys", "require"), 0);
	assert_int_equal(o.be.stack.mptcp.ext_keys, MPT_EXT_KEYS_REQUIRE);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-keys", "maybe"), -1);
	/* 64 hex digits and a newline: 32 bytes; the file alone offers. */
	const char *h = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n";
	write_file(hex, h, strlen(h));
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-key-file", hex), 0);
	assert_int_equal(o.be.stack.mptcp.ext_keys, MPT_EXT_KEYS_OFFER);
	assert_int_equal(o.be.stack.mptcp.ext_key_len, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(o.be.stack.mptcp.ext_key[i], i);
	assert_int_equal(
	    PARSE(&o, "--path", "10.0.0.1/24", "--ext-keys", "require", "--ext-key-file", hex), 0);
	assert_int_equal(o.be.stack.mptcp.ext_keys, MPT_EXT_KEYS_REQUIRE);
	assert_int_equal(
	    PARSE(&o, "--path", "10.0.0.1/24", "--ext-keys", "off", "--ext-key-file", hex), -1);
	/* 20 raw bytes (not hex): taken as they are. */
	uint8_t r[20];
	for (int i = 0; i < 20; i++)
		r[i] = (uint8_t)(0xf0 + i);
	write_file(raw, r, sizeof(r));
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-key-file", raw), 0);
	assert_int_equal(o.be.stack.mptcp.ext_key_len, 20);
	assert_memory_equal(o.be.stack.mptcp.ext_key, r, sizeof(r));
	/* Too short (15 raw bytes, 30 hex digits), too long (65 raw bytes,
	 * 130 hex digits), odd hex, missing file: refused, never truncated. */
	write_file(bad, r, 15);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-key-file", bad), -1);
	write_file(bad, "000102030405060708090a0b0c0d0e", 30);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-key-file", bad), -1);
	uint8_t big[130];
	memset(big, 'a', sizeof(big));
	write_file(bad, big, 65);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-key-file", bad), -1);
	write_file(bad, big, 130);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-key-file", bad), -1);
	write_file(bad, "0123456789abcdef0123456789abcdef0", 33);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--ext-key-file", bad),
			 0); /* 33 raw bytes, not hex */
	assert_int_equal(o.be.stack.mptcp.ext_key_len, 33);
	assert_int_equal(
	    PARSE(&o, "--path", "10.0.0.1/24", "--ext-key-file", "/nonexistent/mpt-key"), -1);
	unlink(hex);
	unlink(raw);
	unlink(bad);
}

/* --stall-timeout SECONDS: mptcp.stall_timeout_ns, 0 (the default) is off. */
static void test_stall_timeout(void **state)
{
	(void)state;
	struct mpt_tool_opts o;
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24"), 0);
	assert_true(o.be.stack.mptcp.stall_timeout_ns == 0);
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--stall-timeout", "30"), 0);
	assert_true(o.be.stack.mptcp.stall_timeout_ns == UINT64_C(30000000000));
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--stall-timeout", "1.5"), 0);
	assert_true(o.be.stack.mptcp.stall_timeout_ns == UINT64_C(1500000000));
	/* The bounds themselves. */
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--stall-timeout", "0.001"), 0);
	assert_true(o.be.stack.mptcp.stall_timeout_ns == UINT64_C(1000000));
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--stall-timeout", "3600"), 0);
	assert_true(o.be.stack.mptcp.stall_timeout_ns == UINT64_C(3600000000000));
	/* 0 turns it off, also after an earlier value: the last one wins. */
	assert_int_equal(
	    PARSE(&o, "--path", "10.0.0.1/24", "--stall-timeout", "30", "--stall-timeout", "0"), 0);
	assert_true(o.be.stack.mptcp.stall_timeout_ns == 0);
	/* Garbage, negatives, too small to be told from off, too large. */
	const char *bad[] = {"",       "x",    "30s",  "1,5", "-1",  "-0.5",
			     "0.0001", "3601", "1e10", "inf", "nan", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"cmd",          "--path", "10.0.0.1/24", "--stall-timeout",
				(char *)bad[i], NULL};
		assert_int_equal(parse(&o, 5, argv), -1);
	}
	assert_int_equal(PARSE(&o, "--path", "10.0.0.1/24", "--stall-timeout"), -1); /* no value */
	/* A rejected value leaves the knob as it was. */
	mpt_opts_init(&o);
	assert_int_equal(mpt_opts_handle(&o, "test", MPT_OPT_STALL_TIMEOUT, "20"), 0);
	assert_int_equal(mpt_opts_handle(&o, "test", MPT_OPT_STALL_TIMEOUT, "-20"), -1);
	assert_true(o.be.stack.mptcp.stall_timeout_ns == UINT64_C(20000000000));
	assert_int_equal(mpt_opts_handle(&o, "test", MPT_OPT_STALL_TIMEOUT, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policies), cmocka_unit_test(test_full),
	    cmocka_unit_test(test_defaults), cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_ext_keys), cmocka_unit_test(test_stall_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
