#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Policies benchmark (issue 5, "bench/policies"; issue 10): every scheduler x every
# congestion control x 6 simulated bulk scenarios (equal paths, heterogeneous RTT,
# lossy path, shared bottleneck, two receive-window-limited ones), request/response on
# two path pairs and a paced application.  Writes docs/policies.md (tables) and
# docs/policies/<scenario>.svg (goodput bar charts), all from one run.
# Deterministic (fixed seeds, virtual time); takes a few minutes.
# Exit status 1 when a run was not intact or did not finish.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPT_TESTS=OFF >/dev/null
ninja -C build-bench policies_bench >/dev/null
# Provenance for the Markdown header: the commit, and whether the library's
# sources differ from it.
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- src include 2>/dev/null; then
	rev="$rev + uncommitted changes in src/ or include/"
fi
mkdir -p docs/policies
MPT_BENCH_SOURCE="$rev" ./build-bench/policies_bench docs/policies.md docs/policies
