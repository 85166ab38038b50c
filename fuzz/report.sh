#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Write docs/fuzzing.md from measurements, never by hand:
#  - the long runs' statistics, read from fuzz/run.sh's logs (FUZZ_OUT=DIR);
#  - executions per second before and after the snapshot harness: the
#    input targets of BASE (default: the commit before the harness,
#    1345416) and of the working tree, each run SECS (default 120) seconds
#    from its committed corpus, one after the other, on this machine;
#  - line coverage of the committed corpora (fuzz/coverage.sh);
#  - and it keeps the section fuzz/speed.sh --update wrote (the harness
#    speed before and after issue 11: measured by that script alone, since
#    it takes a while and needs its own base).
#
#   fuzz/report.sh DIR [BASE] [SECS]
#   fuzz/report.sh --long-runs DIR      (only the long runs' table, in place)
set -euo pipefail
cd "$(dirname "$0")/.."
long_only=0
if [ "${1:-}" = --long-runs ]; then
	long_only=1
	shift
fi
dir=${1:?usage: fuzz/report.sh [--long-runs] DIR [BASE] [SECS]}
base=${2:-1345416}
secs=${3:-120}
doc=docs/fuzzing.md

stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }
cpu_of() { # bash `times` output (second line: children's user and system time)
	awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/);
		t += a[1] * 60 + a[2] } printf "%.0f", t }' "$1"
}

# The "Long runs" section, from the logs in $dir (fuzz/run.sh FUZZ_OUT=DIR).
long_runs() {
	cat <<'EOF'
## Long runs

`FUZZ_OUT=DIR nice bash fuzz/run.sh 3600 TARGET`, one to four targets at a
time (the rest of the machine busy with other work, so executions per CPU
second are the figure to compare), figures from libFuzzer's final
statistics.  Build "asan": the sanitizer build (ASan + UBSan, comparison
tracing); "fast": `FUZZ_FAST=1` (`-DMPT_FUZZ_FAST=ON`, no sanitizers, no
comparison tracing), its whole grown corpus then replayed once through the
sanitizer build.  A target without a long run in DIR is listed as such:

| target | build | seconds | executions | exec/s | exec per CPU s | new units | result |
|---|---|---:|---:|---:|---:|---:|---|
EOF
	for log in "$dir"/*/log; do
		t=$(basename "$(dirname "$log")")
		build=asan
		if [ "${t%.fast}" != "$t" ]; then
			t=${t%.fast}
			build=fast
		fi
		runs=$(stat number_of_executed_units "$log")
		eps=$(stat average_exec_per_sec "$log")
		new=$(stat new_units_added "$log")
		cpu=$(cpu_of "$(dirname "$log")/time")
		epc=$(awk -v r="${runs:-0}" -v c="${cpu:-0}" 'BEGIN { if (c > 0) printf "%d", r / c; else print "-" }')
		secs_run=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
		if grep -qE 'ERROR: |fuzz invariant|Test unit written' "$log"; then
			res="FAILED: $(grep -m1 -E 'fuzz invariant|ERROR: ' "$log" | cut -c1-80)"
		elif [ -z "$runs" ]; then
			res="no statistics"
		else
			res="0 crashes, 0 leaks, 0 hangs"
			if [ "$build" = fast ]; then
				rep=$(sed -n 's/^replay: \([0-9]*\) inputs under ASan + UBSan: ok$/\1/p' "$log")
				if [ -n "$rep" ]; then
					res="$res; the $rep inputs of its corpus replayed under ASan + UBSan: 0 failures"
				else
					res="FAILED: no sanitizer replay recorded"
				fi
			fi
		fi
		echo "| $t | $build | ${secs_run:--} | ${runs:--} | ${eps:--} | $epc | ${new:--} | $res |"
	done
	for src in fuzz/*_fuzz.c; do
		t=$(basename "$src" .c)
		[ -e "$dir/$t/log" ] || [ -e "$dir/$t.fast/log" ] ||
			echo "| $t | - | - | - | - | - | - | no long run recorded here yet |"
	done
}

# --long-runs DIR: only that section of the document, in place (the other
# sections take a quarter of an hour to measure).
if [ "$long_only" = 1 ]; then
	python3 - "$doc" "$(long_runs)" <<'PY'
import sys
doc, new = sys.argv[1], sys.argv[2]
text = open(doc).read()
a = text.index("## Long runs")
b = text.index("\n## ", a + 1)
open(doc, "w").write(text[:a] + new.rstrip("\n") + "\n" + text[b:])
PY
	echo "report: updated the long runs of $doc"
	exit 0
fi

# ---- before / after ---------------------------------------------------------
speed=$(mktemp)
old=$(mktemp -d)
git archive "$base" | tar -x -C "$old"
(cd "$old" && CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMPT_FUZZ=ON >/dev/null && ninja -C build-fuzz input_fuzz mptcp_input_fuzz >/dev/null)
bash fuzz/run.sh 1 input_fuzz mptcp_input_fuzz >/dev/null # builds the current targets
measure() { # LABEL BINARY CORPUS EXTRA-FLAGS
	local w
	w=$(mktemp -d)
	cp -r "$3/." "$w/"
	(
		"$2" -max_total_time="$secs" -print_final_stats=1 $4 "$w" >"$w.log" 2>&1 || true
		times >"$w.time"
	)
	printf '%s %s %s %s\n' "$1" "$(stat number_of_executed_units "$w.log")" \
		"$(stat average_exec_per_sec "$w.log")" "$(cpu_of "$w.time")" >>"$speed"
	rm -rf "$w" "$w.log" "$w.time"
}
for t in mptcp_input_fuzz input_fuzz; do
	measure "before:$t" "$old/build-fuzz/$t" "$old/fuzz/seeds/$t" ""
	measure "after:$t" "./build-fuzz/$t" "fuzz/corpus/$t" "-entropic=0"
done
rm -rf "$old"
load=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- coverage ----------------------------------------------------------------
cov=$(mktemp)
bash fuzz/coverage.sh "$cov" >/dev/null

# ---- the document -----------------------------------------------------------------
speed_section=$(sed -n '/^<!-- speed.sh begin/,/^<!-- speed.sh end/p' "$doc" 2>/dev/null || true)
{
	cat <<'EOF'
# Fuzzing

<!-- Generated by fuzz/report.sh from measurements; do not edit by hand. -->

`bash fuzz/run.sh [SECONDS] [TARGET...]` builds the libFuzzer targets (clang,
`-DMPT_FUZZ=ON`: ASan + UBSan, IP/TCP checksums not verified, an all-zero
HMAC and a zero DSS checksum accepted) and runs each from its committed
corpus `fuzz/corpus/<target>/`; it prints libFuzzer's final statistics and
fails on any crash, leak, hang or missing statistics (CI: `fuzz/run.sh 20`
from `scripts/test.sh`).  Grown corpora are minimised back with
`fuzz/corpus.sh`; `fuzz/gen_corpus.py` writes the hand-made seeds.
`FUZZ_FAST=1 bash fuzz/run.sh SECONDS TARGET` explores with a build without
sanitizers or comparison tracing (`-DMPT_FUZZ_FAST=ON`: about five times
the executions per CPU second of mptcp_input_fuzz), then replays the whole
grown corpus once through the sanitizer build and fails if any input fails
there.

| target | what it drives | checks besides the sanitizers |
|---|---|---|
| `mptcp_input_fuzz` | established MPTCP connections (v1, v1 + DSS checksums, v0, v1 over IPv6; 4 subflows on 2 paths), restored from a snapshot per input; crafted segments with any MPTCP option (keys, tokens, sequence numbers, DSNs relative to what the stacks said), raw packets, bit flips of the stacks' own packets in flight, loss, duplication, reordering, time, application and path-manager calls, a failing allocation | allocator: no double / foreign free, no leak after `mpt_stack_destroy` |
| `input_fuzz` | the same for plain TCP (IPv4, IPv6; TFO SYN data accepted) | same |
| `stateful_fuzz` | two real stacks, nothing forged: the input is the network (deliver, drop, duplicate, reorder, cut a path) and the applications (write, read, shutdown, close, abort, connect, accept, path manager, a failing allocation) | after every step: each side reads exactly the peer's stream (no byte out of order, twice or changed), never more than written, end of stream only after everything and only after the peer's shutdown/close; counters agree with the applications; allocator; at the end, after the network is repaired, every byte written arrives (liveness) |
| `convert_server_fuzz` | `tools/mpt/convert.c` compiled in, on the harness's server stack: connections or forged SYNs carrying RFC 8803 messages as TFO data, split anywhere; cookie, allow-list, option checks; `connect()` answered by the harness with an errno of the input's choosing (no packet leaves) | every answer the client reads is a well-formed Convert message with Error / Supported / Extended TCP Header TLVs; the converter's connection list is consistent; allocator |
| `socks5_fuzz` | `tools/mpt/proxy.c` compiled in: its SOCKS5 client handler reads a socketpair fed in input-chosen pieces, then opens the MPTCP connection | replies well formed (method selection, RFC 1928 §6 reply codes, closed after a failure), defined end states, a connection only for a complete CONNECT |
| `convert_fuzz` | the RFC 8803 codec (`tools/mpt/convert_codec.c`) | parse/emit round trip, prefixes are "need more", every rejection has an Error TLV answer |
| `opt_fuzz` | the TCP option parser and the MPTCP option codec | parse/emit round trip |

The two tool targets compile the tools' sources unchanged, so they test
the code that runs, and they depend on internal names (`struct px_conn`,
`on_client`, `struct cv`, `hello_pump`, `on_event`).  A small refactor
would make them independent: a pure `socks5_parse(state, buf, len, &dest,
&reply)` in its own file (the state machine of `socks_parse()` without
`send()`/`conn_fail()`), and for the converter a pure
`cv_decide(policy, msg, &verdict)` holding the direction rule, cookie,
option and allow-list checks of `handle_request()`.

## Executions per second, before and after the snapshot harness

EOF
	echo "Each target run ${secs} s from its committed corpus, one after the other, by"
	echo "\`fuzz/report.sh\` on $(date -u +%Y-%m-%d) (before: commit \`$base\`'s targets and seeds;"
	echo "load average at the end $load on 2 shared cores, so executions per CPU second"
	echo "are the figure to compare):"
	echo
	echo "| target | harness | executions | exec/s | CPU s | exec per CPU s |"
	echo "|---|---|---:|---:|---:|---:|"
	while read -r label runs eps cpu; do
		t=${label#*:}
		h=${label%%:*}
		[ "$h" = before ] && h="before (rebuilt per input)" || h="after (snapshot)"
		epc=$(awk -v r="${runs:-0}" -v c="${cpu:-0}" 'BEGIN { if (c > 0) printf "%d", r / c; else print "-" }')
		echo "| $t | $h | ${runs:--} | ${eps:--} | ${cpu:--} | $epc |"
	done <"$speed"
	if [ -n "$speed_section" ]; then
		echo
		printf '%s\n' "$speed_section"
	fi
	echo
	long_runs
	cat <<'EOF'

## Line coverage of the committed corpora

`fuzz/coverage.sh` (clang source-based coverage, llvm-cov 14): every target
run once over its corpus, profiles merged.

EOF
	cat "$cov"
	cat <<'EOF'

## Findings

Inputs that fail on the engine are in `fuzz/repro/` with a diagnosis
(`fuzz/repro/README.md`; `fuzz/repro/run.sh` says which still fail).
EOF
} >"$doc"
rm -f "$speed" "$cov"
echo "report: wrote $doc"
