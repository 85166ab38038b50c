/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: hostile packets into established MPTCP connections.
 *
 * Each input starts from a snapshot (fuzz/harness.h) of two stacks with an
 * established MPTCP connection over two paths (initial subflow plus joins,
 * ADD_ADDR exchanged, data sent both ways), chosen by the first byte:
 *   0  v1, IPv4      1  v1 with DSS checksums
 *   2  v0 with DSS checksums      3  v1, IPv6
 *   4  v1 with external keys (docs/external-keys.md), a configured key
 *   (other values: modulo 4, as before the fifth variant existed)
 * The rest is a list of operations (fz_run_hostile): crafted segments
 * carrying any MPTCP option with keys, tokens, sequence numbers and DSNs
 * taken from what the stacks said (so the checks behind them are passed or
 * narrowly missed), raw packets, bit flips of the stacks' own packets in
 * flight, loss / duplication / reordering, time, and application calls.
 * Fuzz builds accept a zero DSS checksum and zero HMACs (MPT_FUZZING).
 */
#include "harness.h"

static const struct fz_variant vars[] = {
    {.mptcp = true, .version = 1, .joins = true},
    {.mptcp = true, .version = 1, .csum = true, .joins = true},
    {.mptcp = true, .version = 0, .csum = true, .joins = true},
    {.mptcp = true, .version = 1, .v6 = true, .joins = true},
    {.mptcp = true, .version = 1, .joins = true, .extkey = true},
};
static struct fz_snap snaps[sizeof(vars) / sizeof(vars[0])];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	uint8_t b = in_u8(&in);
	fz_begin(snaps, vars, b == 4 ? 4u : b % 4u);
	fz_run_hostile(&in);
	fz_end();
	return 0;
}
