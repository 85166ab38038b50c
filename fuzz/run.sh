#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer targets (clang, MPT_FUZZ=ON) and run each for SECONDS
# (default 60) from its committed corpus fuzz/corpus/<target>/ (copied: the
# committed corpus is not modified).  Prints libFuzzer's own final
# statistics per target (executions, executions/s, new units) and fails
# when a target crashes, leaks, hangs (-timeout), runs out of memory, or
# prints no statistics at all.  The inputs that failed are kept in
# build-fuzz/artifacts/<target>/ (reproduce: build-fuzz/<target> FILE).
#
#   fuzz/run.sh [SECONDS] [TARGET...]        (CI: fuzz/run.sh 20)
#   FUZZ_SEED=N (default 1): libFuzzer's seed, so that a CI run explores
#       the same mutations every time (reproducible; long runs for new
#       findings use other seeds).  Known open findings: fuzz/known/.
#   FUZZ_OUT=DIR fuzz/run.sh 3600 stateful_fuzz
#       also keeps the grown corpus and the log in DIR/<target>/ (long runs;
#       merge into fuzz/corpus with fuzz/corpus.sh).
#   FUZZ_FAST=1 fuzz/run.sh 3600 mptcp_input_fuzz
#       explores with the fast build (build-fuzz-fast, -DMPT_FUZZ_FAST=ON: no
#       sanitizers, no comparison tracing; ~5x the executions), then replays
#       the whole grown corpus once through the sanitizer build (build-fuzz)
#       and fails if any input fails there.  FUZZ_OUT keeps it in
#       DIR/<target>.fast/ (fuzz/report.sh lists it as its own row).
#
# -entropic=0: libFuzzer 14's entropic scheduler spends ~90 % of the time of
# the harness targets in its feature-frequency bookkeeping (each input runs
# thousands of edges); without it mptcp_input_fuzz runs ~13x more inputs
# and reaches more features in the same time (measured, docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for src in fuzz/*_fuzz.c; do
		targets+=("$(basename "$src" .c)")
	done
fi
build() { # DIR [cmake options...]: the targets built in DIR
	local d=$1
	shift
	CC=clang cmake -S . -B "$d" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPT_FUZZ=ON \
		-DMPT_FUZZ_COVERAGE=OFF "$@" >/dev/null
	if ! ninja -C "$d" "${targets[@]}" >"$d/ninja.log" 2>&1; then
		cat "$d/ninja.log"
		exit 1
	fi
}
fast=${FUZZ_FAST:-0}
build build-fuzz -DMPT_FUZZ_FAST=OFF
bdir=build-fuzz
if [ "$fast" = 1 ]; then
	build build-fuzz-fast -DMPT_FUZZ_FAST=ON
	bdir=build-fuzz-fast
fi

stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }

status=0
printf 'fuzz: %-20s %12s %8s %9s %6s  %s\n' target executions exec/s exec/cpu-s new \
	"result (${secs}s each)"
for name in "${targets[@]}"; do
	work=$(mktemp -d)
	mkdir -p "$work/corpus" "$work/art"
	if [ -d "fuzz/corpus/$name" ]; then
		cp -r "fuzz/corpus/$name/." "$work/corpus/"
	fi
	rc=0
	# The CPU seconds the target used (bash's `times` in a subshell: its
	# children), so that executions per CPU second can be compared between
	# runs on a loaded machine.
	(
		r=0
		"./$bdir/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
			-seed="${FUZZ_SEED:-1}" \
			-entropic=0 -print_final_stats=1 -artifact_prefix="$work/art/" \
			"$work/corpus" >"$work/log" 2>&1 || r=$?
		times >"$work/time"
		exit $r
	) || rc=$?
	runs=$(stat number_of_executed_units "$work/log")
	eps=$(stat average_exec_per_sec "$work/log")
	# Second line of `times`: children's user and system time, "XmY.Zs".
	cpu=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/);
		t += a[1] * 60 + a[2] } print t }' "$work/time" 2>/dev/null || true)
	epc=-
	[ -n "$runs" ] && [ -n "$cpu" ] && epc=$(awk -v r="$runs" -v c="$cpu" \
		'BEGIN { if (c > 0) printf "%d", r / c; else print "-" }')
	new=$(stat new_units_added "$work/log")
	bad=$(find "$work/art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | wc -l)
	result=ok
	if [ "$rc" != 0 ] || [ "$bad" != 0 ] || [ -z "$runs" ]; then
		result="FAILED (exit $rc, $bad failing inputs$([ -n "$runs" ] || echo ', no statistics'))"
		status=1
	fi
	# A fast run: every input of the grown corpus once more under ASan
	# and UBSan (-runs=0: the corpus only, no mutation).
	if [ "$fast" = 1 ] && [ "$result" = ok ]; then
		n=$(find "$work/corpus" -type f | wc -l)
		rrc=0
		"./build-fuzz/$name" -runs=0 -timeout=10 -rss_limit_mb=2048 -entropic=0 \
			-artifact_prefix="$work/art/" "$work/corpus" >"$work/replay" 2>&1 || rrc=$?
		if [ "$rrc" != 0 ]; then
			result="FAILED in the sanitizer replay of $n inputs (exit $rrc)"
			status=1
			# (into the log: shown below, kept with the inputs)
			cat "$work/replay" >>"$work/log"
		else
			result="ok (the $n inputs replayed under ASan + UBSan)"
			echo "replay: $n inputs under ASan + UBSan: ok" >>"$work/log"
		fi
	fi
	printf 'fuzz: %-20s %12s %8s %9s %6s  %s\n' "$name" "${runs:--}" "${eps:--}" "$epc" \
		"${new:--}" "$result"
	if [ "${result%% *}" != ok ]; then
		grep -E 'ERROR|SUMMARY|fuzz invariant|Test unit' "$work/log" | head -20 | sed 's/^/  /'
		tail -40 "$work/log" | sed 's/^/  | /'
		mkdir -p "build-fuzz/artifacts/$name"
		cp "$work/art/"* "build-fuzz/artifacts/$name/" 2>/dev/null || true
		cp "$work/log" "build-fuzz/artifacts/$name/log"
		echo "  inputs and log kept in build-fuzz/artifacts/$name/"
	fi
	if [ -n "${FUZZ_OUT:-}" ]; then
		out="$FUZZ_OUT/$name"
		[ "$fast" = 1 ] && out="$out.fast"
		mkdir -p "$out"
		cp -r "$work/corpus" "$out/"
		cp "$work/log" "$out/log"
		cp "$work/time" "$out/time"
	fi
	rm -rf "$work"
done
exit $status
