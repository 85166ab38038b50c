/* SPDX-License-Identifier: Apache-2.0 */
/* What a packet written to a TUN device costs the Linux receiver
 * (src/backend/tun.c mpt_tun_rx_truesize, mpt_tun_gso_dear). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backend/tun.h"

#define HDR 80u   /* IPv4 + TCP with timestamps and a DSS option */
#define SEG 1420u /* the payload of a full segment after those options */

/* The figures tun_alloc_skb gives on x86-64 (4 KiB pages): an skb struct
 * of 256 and shared info of 320 bytes, 64 bytes of headroom, kmalloc
 * classes of powers of two. */
static void test_truesize(void **state)
{
	(void)state;
	/* One segment, 1500 bytes: a 2 KiB kmalloc'd head. */
	assert_int_equal(mpt_tun_rx_truesize(HDR + SEG, HDR, 4096), 2048 + 256);
	/* Two (2920 bytes): still under a page, a 4 KiB head. */
	assert_int_equal(mpt_tun_rx_truesize(HDR + 2 * SEG, HDR, 4096), 4096 + 256);
	/* Three (4340): over a page, paged: a 512-byte head for the
	 * headers and an order-1 block (8 KiB) for 4260 bytes. */
	assert_int_equal(mpt_tun_rx_truesize(HDR + 3 * SEG, HDR, 4096), 512 + 256 + 8192);
	/* Ten (14280): one 16 KiB block (0.83 payload per byte charged). */
	assert_int_equal(mpt_tun_rx_truesize(HDR + 10 * SEG, HDR, 4096), 768 + 16384);
	/* Twelve (17120): 16 KiB + 4 KiB. */
	assert_int_equal(mpt_tun_rx_truesize(HDR + 12 * SEG, HDR, 4096), 768 + 16384 + 4096);
	/* 64000 bytes of payload: two 32 KiB blocks (order 3 at most). */
	assert_int_equal(mpt_tun_rx_truesize(HDR + 64000, HDR, 4096), 768 + 2 * 32768);
	/* Larger pages: the three segments fit one 16 KiB page's head. */
	assert_int_equal(mpt_tun_rx_truesize(HDR + 3 * SEG, HDR, 16384), 8192 + 256);
	assert_int_equal(mpt_tun_rx_truesize(HDR + SEG, HDR, 0), 2048 + 256); /* 0: 4 KiB */
}

static void test_dear(void **state)
{
	(void)state;
	/* One segment is the reference (0.616 payload per byte charged). */
	assert_false(mpt_tun_gso_dear(HDR + SEG, HDR, SEG, 4096));
	/* Two: 0.653; three: 0.475 (the one to split); four: 0.634. */
	assert_false(mpt_tun_gso_dear(HDR + 2 * SEG, HDR, SEG, 4096));
	assert_true(mpt_tun_gso_dear(HDR + 3 * SEG, HDR, SEG, 4096));
	assert_false(mpt_tun_gso_dear(HDR + 4 * SEG, HDR, SEG, 4096));
	/* Every count from 1 to 45 segments but three costs at most what
	 * single segments cost, with this MSS. */
	for (unsigned n = 1; n <= 45; n++)
		assert_int_equal(mpt_tun_gso_dear(HDR + n * SEG, HDR, SEG, 4096), n == 3);
	/* A short last segment counts as payload too: 2 full + 600 bytes
	 * (3540 bytes, under a page) is fine, 3 full + 100 is not. */
	assert_false(mpt_tun_gso_dear(HDR + 2 * SEG + 600, HDR, SEG, 4096));
	assert_true(mpt_tun_gso_dear(HDR + 3 * SEG + 100, HDR, SEG, 4096));
	/* Nothing to cut: no segmentation size, or one segment's worth. */
	assert_false(mpt_tun_gso_dear(HDR + 3 * SEG, HDR, 0, 4096));
	assert_false(mpt_tun_gso_dear(HDR + 1000, HDR, SEG, 4096));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_truesize),
	    cmocka_unit_test(test_dear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
