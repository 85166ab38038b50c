#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The differential interop matrix against the Linux kernel (issue 10), CI
# sample: a deterministic random sample of tests/interop/kmatrix_cases.tsv
# (seed $KMATRIX_SEED, default 1) whose estimated time fits $KMATRIX_BUDGET
# seconds (default 240; half of it under AddressSanitizer).  The whole table
# runs in bench/kmatrix.sh (report: docs/kmatrix.md).
#
# The table: mpt cat (client and server, IPv4/IPv6, 1-4 paths, stdout to a
# file, a pipe or a slow pipe, DSS checksums, emulated delay/loss) against
# kpeer.py on a kernel MPTCP socket (readers prompt/slow/paused/late, writers
# one/tiny/large, every half-close order, sizes 0 B..32 MiB, upload-only,
# download-only, both), and relays with kpeer.py at both ends: mpt proxy ->
# mpt convert, mpt onpath (converting and passing through).  Each case
# checks both SHA-256 hashes, exit statuses, that both ends finish within a
# liveness bound, and the kernel's MPTCP counters (no MP_TCPRST, no
# fallback, no MP_FAIL/FASTCLOSE, no checksum error, joins accepted when
# there are paths to join).
#   KMATRIX_CASES="c012 r003" bash tests/interop/kmatrix_test.sh   # chosen rows
# Every case line says ok or FAIL with the failure's class (which direction
# lost/duplicated/corrupted bytes, which side got stuck, which counters moved).
set -uo pipefail
TEST_NAME=kmatrix
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kmatrix_lib.sh"
[ "${CI:-}" = true ] && export MPT_INTEROP_REQUIRE=1
km_require
SEED=${KMATRIX_SEED:-1}
BUDGET=${KMATRIX_BUDGET:-240}
km_is_asan && BUDGET=${KMATRIX_BUDGET:-120}
km_topo_cat
km_topo_relay
km_topo_onpath
rows=$(km_select "$SEED" "$BUDGET")
[ -n "$rows" ] || die "no case selected"
echo "-- $(printf '%s\n' "$rows" | wc -l) case(s) of $(($(wc -l <"$KM_TABLE") - 1)) (seed $SEED, budget ${BUDGET}s)"
t0=$SECONDS
mapfile -t ROWS <<<"$rows"
for row in "${ROWS[@]}"; do
	# shellcheck disable=SC2086
	km_run_row $row
done
# Every selected row must have produced a result line (a case that broke
# the runner itself must not pass by omission).
if [ "$(wc -l <"$KM_RESULTS")" != "${#ROWS[@]}" ]; then
	echo "FAIL $TEST_NAME: ${#ROWS[@]} case(s) selected, $(wc -l <"$KM_RESULTS") result(s)"
	FAILED=$((FAILED + 1))
fi
pass=$(awk -F'\t' '$2 == "pass"' "$KM_RESULTS" | wc -l)
total=$(wc -l <"$KM_RESULTS")
echo "-- $pass/$total passed in $((SECONDS - t0)) s"
if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed:"
	awk -F'\t' '$2 != "pass" { printf "  %s: %s\n", $1, $5 }' "$KM_RESULTS"
	exit 1
fi
echo "PASS: $TEST_NAME"
