#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every reproducer in fuzz/repro/ (README.md says which target and
# environment each needs) and say whether it still fails.  Exit status 0
# when every one reproduced (the bugs are still there), 1 when one of them
# no longer fails (fixed: move it into the target's corpus), 2 on errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPT_FUZZ=ON \
	-DMPT_FUZZ_COVERAGE=OFF >/dev/null
ninja -C build-fuzz stateful_fuzz >/dev/null
status=0
check() { # NAME TARGET ENV...
	local name=$1 target=$2
	shift 2
	if env "$@" "./build-fuzz/$target" "fuzz/repro/$name" >/tmp/repro.$$ 2>&1; then
		echo "repro: $name: no longer fails (fixed?)"
		status=1
	else
		echo "repro: $name: REPRODUCED: $(grep -m1 -E 'fuzz invariant|ERROR' /tmp/repro.$$)"
	fi
	rm -f /tmp/repro.$$
}
check stateful-sched-stall-16k-sndbuf stateful_fuzz FZ_BUF=16384
exit $status
