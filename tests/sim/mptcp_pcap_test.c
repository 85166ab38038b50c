/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A 2-path MPTCP transfer written to a pcap for Wireshark's MPTCP analysis
 * (tests/pcap/check_mptcp_pcap.sh runs this and then tshark).  Writes
 * $MPT_PCAP_DIR/mptcp_2path.pcap (default: the build directory) and
 * mptcp_2path.tokens: "client-token server-token" in hex, the tokens every
 * MP_JOIN SYN must carry (RFC 8684 §3.2: the receiver's token).
 * On its own it checks the transfer and that the file was written.
 */
#include "mptcp_scn.h"

#include <sys/stat.h>

static char g_path[1024];

static void open_pcap(struct mctx *x, void *arg)
{
	(void)arg;
	assert_int_equal(mpt_sim_pcap_open(x->sim, g_path), 0);
}

static uint32_t g_ctok, g_stok;

static void grab_tokens(struct mpt_sim *sim, void *arg)
{
	(void)sim;
	struct mctx *x = *(struct mctx **)arg;
	struct mpt_sock *c = mpt_bulk_client_sock(x->b), *s = mpt_bulk_server_sock(x->b);
	if (c)
		g_ctok = mpt_sock_conn_id(c);
	if (s)
		g_stok = mpt_sock_conn_id(s);
}

static struct mctx *g_x;

static void keep(struct mctx *x, void *arg)
{
	(void)arg;
	g_x = x;
	open_pcap(x, NULL);
}

static void test_pcap_2path(void **state)
{
	(void)state;
	const char *dir = getenv("MPT_PCAP_DIR");
	if (!dir || !*dir)
		dir = MPT_BINARY_DIR;
	snprintf(g_path, sizeof(g_path), "%s/mptcp_2path.pcap", dir);
	struct mscn sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "2 paths, pcap";
	sc.bytes = 4u * MIB;
	sc.seed = 5;
	sc.npaths = 2;
	for (int i = 0; i < 2; i++) {
		sc.path[i].rate_bps = 50000000;
		sc.path[i].rtt_ns = 20 * MS;
	}
	/* Some loss: retransmissions and their mappings get analysed too. */
	sc.path[1].loss = 0.002;
	sc.budget_ns = 3 * SEC;
	sc.setup = keep;
	sc.at_start = grab_tokens;
	sc.at_arg = &g_x;
	sc.at_t = 200 * MS;
	struct mout o;
	run_mscn(&sc, &o);
	mcheck(&sc, &o);
	assert_true(o.c_enabled);
	assert_true(o.ci.mptcpi_subflows_total >= 2);
	assert_int_not_equal(g_ctok, 0);
	assert_int_not_equal(g_stok, 0);
	struct stat stt;
	assert_int_equal(stat(g_path, &stt), 0);
	/* st_size is a signed off_t (a 32-bit long on i386): -Wsign-compare against
	 * the unsigned 4 * MIB there; compare as uint64_t once known positive
	 * (docs/portability.md). */
	assert_true(stt.st_size > 0 && (uint64_t)stt.st_size > 4u * MIB);
	char tp[1100];
	snprintf(tp, sizeof(tp), "%s/mptcp_2path.tokens", dir);
	FILE *f = fopen(tp, "w");
	assert_non_null(f);
	fprintf(f, "%08x %08x\n", g_ctok, g_stok);
	fclose(f);
	printf("    pcap %s, tokens client %08x server %08x\n", g_path, g_ctok, g_stok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pcap_2path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
