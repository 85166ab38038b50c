#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Coupled congestion control benchmark (RFC 6356 goals): the shared-bottleneck
# and resource-pooling scenarios of tests/common/cc_scn.c over many simulator
# seeds, every CC, against reno and cubic, with the references (a plain TCP
# flow, the same stack with one subflow, one TCP flow on the best path).
# Writes docs/cc.md.  Deterministic (fixed seeds, virtual time).
#   bash bench/cc.sh [SEEDS [TEST_SEEDS]]   (defaults 16 and 4; TEST_SEEDS must
#   match what tests/sim/mptcp_cc_test.c runs.)  About 15 min on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPT_TESTS=OFF >/dev/null
ninja -C build-bench cc_bench >/dev/null
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- src include tests/common/cc_scn.c bench/cc_bench.c 2>/dev/null; then
	rev="$rev + uncommitted changes"
fi
MPT_BENCH_SOURCE="$rev" ./build-bench/cc_bench docs/cc.md "${1:-16}" "${2:-4}"
