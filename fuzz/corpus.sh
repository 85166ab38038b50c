#!/usr/bin/env bash
# Minimise corpora: merge each target's committed corpus with what a long
# run grew (fuzz/run.sh with FUZZ_OUT=DIR) into the smallest set that keeps
# every feature (libFuzzer -merge=1), and write it back to
# fuzz/corpus/<target>/ (hand-written seed-* files from fuzz/gen_corpus.py
# are always kept).  DIR/<target>.fast/ (FUZZ_FAST=1 runs) is merged too.
#
#   fuzz/corpus.sh DIR [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
grown=${1:?usage: fuzz/corpus.sh DIR [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for src in fuzz/*_fuzz.c; do
		targets+=("$(basename "$src" .c)")
	done
fi
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPT_FUZZ=ON \
	-DMPT_FUZZ_COVERAGE=OFF >/dev/null
ninja -C build-fuzz "${targets[@]}" >/dev/null
for t in "${targets[@]}"; do
	work=$(mktemp -d)
	mkdir -p "$work/new"
	srcs=()
	[ -d "fuzz/corpus/$t" ] && srcs+=("fuzz/corpus/$t")
	[ -d "$grown/$t/corpus" ] && srcs+=("$grown/$t/corpus")
	# A FUZZ_FAST=1 run's corpus (its features are counted here by the
	# sanitizer build, the one CI runs).
	[ -d "$grown/$t.fast/corpus" ] && srcs+=("$grown/$t.fast/corpus")
	before=$(find "${srcs[@]}" -type f | wc -l)
	"./build-fuzz/$t" -merge=1 -timeout=30 -rss_limit_mb=4096 "$work/new" "${srcs[@]}" \
		>"$work/log" 2>&1 || {
		tail -30 "$work/log"
		exit 1
	}
	mkdir -p "fuzz/corpus/$t"
	find "fuzz/corpus/$t" -type f ! -name 'seed-*' -delete
	# Merged units are named by their SHA-1; one identical to a seed is a
	# duplicate of it.
	find "$work/new" -type f -exec cp {} "fuzz/corpus/$t/" \;
	for s in "fuzz/corpus/$t"/seed-*; do
		[ -e "$s" ] || continue
		h=$(sha1sum "$s" | cut -d' ' -f1)
		[ -e "fuzz/corpus/$t/$h" ] && rm -f "fuzz/corpus/$t/$h"
	done
	n=$(find "fuzz/corpus/$t" -type f | wc -l)
	sz=$(find "fuzz/corpus/$t" -type f -exec cat {} + | wc -c)
	echo "corpus: $t: $n inputs, $sz bytes (merged from $before)"
	rm -rf "$work"
done
