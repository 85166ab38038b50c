#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run each for SECONDS (default 60)
# starting from its checked-in seed corpus (fuzz/seeds/<target>/).  Any crash,
# leak or sanitizer report fails the run.  Long runs: fuzz/run.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPT_FUZZ=ON >/dev/null
ninja -C build-fuzz
status=0
for src in fuzz/*_fuzz.c; do
	name=$(basename "$src" .c)
	work=$(mktemp -d)
	seeds=fuzz/seeds/$name
	[ -d "$seeds" ] || seeds=""
	echo "fuzz: $name for ${secs}s"
	if ! ./build-fuzz/"$name" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/" "$work" $seeds >"$work/log" 2>&1; then
		echo "fuzz: $name FAILED"; tail -40 "$work/log"; status=1
	else
		grep -E "stat::number_of_executed_runs|stat::new_units_added" "$work/log" | sed "s/^/  /"
	fi
	rm -rf "$work"
done
exit $status
