/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: hostile packets into established plain TCP
 * connections.  As mptcp_input_fuzz.c, with MPTCP off on both stacks; the
 * first byte picks IPv4 or IPv6.  The server also takes TCP Fast Open SYN
 * data from anyone, so new SYNs reach that path.
 */
#include "harness.h"

static const struct fz_variant vars[] = {
    {.mptcp = false},
    {.mptcp = false, .v6 = true},
};
static struct fz_snap snaps[sizeof(vars) / sizeof(vars[0])];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	fz_begin(snaps, vars, in_u8(&in) % (sizeof(vars) / sizeof(vars[0])));
	fz_run_hostile(&in);
	fz_end();
	return 0;
}
