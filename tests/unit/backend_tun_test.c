/* SPDX-License-Identifier: Apache-2.0 */
/* What a packet written to a TUN device costs the Linux receiver
 * (src/backend/tun.c mpt_tun_rx_truesize, mpt_tun_wnd_share). */
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

/* The share of the window the dearest offload packet still fits, relative
 * to a lone segment: the three-segment packet (0.475 payload per byte
 * charged against 0.616: 197/256) with 1,420-byte segments and 4 KiB
 * pages. */
static void test_wnd_share(void **state)
{
	(void)state;
	assert_int_equal(mpt_tun_wnd_share(HDR, SEG, 4096), 197);
	/* By hand: 3 x 2304 / 8960 of 256. */
	assert_int_equal(mpt_tun_wnd_share(HDR, SEG, 4096), 256 * 3 * 2304 / 8960);
	/* 16 KiB pages: three segments fit a kmalloc'd head of 8 KiB; the
	 * dearest is elsewhere, and no share is above 256. */
	uint16_t s16 = mpt_tun_wnd_share(HDR, SEG, 16384);
	assert_true(s16 > 150 && s16 <= 256);
	/* Jumbo segments (9000-byte MTU): every packet is paged, the lone
	 * segment too; a share still comes out, at most 256. */
	uint16_t sj = mpt_tun_wnd_share(HDR, 8920, 4096);
	assert_true(sj > 0 && sj <= 256);
	/* No segment size: the whole window. */
	assert_int_equal(mpt_tun_wnd_share(HDR, 0, 4096), 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_truesize),
	    cmocka_unit_test(test_wnd_share),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
