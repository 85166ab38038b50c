#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt sim` end to end: a scenario file with an outage, CSV + SVG output,
# and clear errors for bad scenario lines and bad options.
set -u
mpt=${1:?usage: $0 PATH_TO_MPT}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if "$@"; then :; else echo "FAIL: $*"; fail=1; fi; }

cd "$work"
out=$("$mpt" sim "$src/docs/scenarios/outage.scn" --size 48 --csv run.csv --svg run.svg 2>&1)
rc=$?
check [ "$rc" = 0 ]
check grep -q "integrity: OK" <<<"$out"
check grep -q "down 2.0-4.0 s" <<<"$out"
check grep -q "^\[SUM\]" <<<"$out"
check grep -q "<polyline" run.svg
check [ "$(grep -c ',SUM,' run.csv)" -ge 4 ]

printf 'size 1\nlink rate=fast\n' >bad1.scn
"$mpt" sim bad1.scn >/dev/null 2>err1; rc=$?
check [ "$rc" = 2 ]
check grep -q "rate" err1
printf 'size 1\nnosuchoption 3\n' >bad2.scn
"$mpt" sim bad2.scn >/dev/null 2>err2; rc=$?
check [ "$rc" = 2 ]
printf 'size 1 2\n' >bad3.scn
"$mpt" sim bad3.scn >/dev/null 2>err3; rc=$?
check [ "$rc" = 2 ]
check grep -q "one value" err3
"$mpt" sim "$work/missing.scn" >/dev/null 2>err4; rc=$?
check [ "$rc" = 2 ]
"$mpt" sim --link rate=10,down=5-3 >/dev/null 2>err5; rc=$?
check grep -q "end must follow start" err5
check [ "$rc" = 2 ]
"$mpt" sim a.scn b.scn >/dev/null 2>&1; rc=$?
check [ "$rc" = 2 ]

# --help names the scenario argument, --svg and link outages.
help=$("$mpt" sim --help)
check grep -q "SCENARIO" <<<"$help"
check grep -q -- "--svg" <<<"$help"
check grep -q "down=START-END" <<<"$help"

# A bad scenario line is reported as FILE:LINE.
check grep -q "bad1.scn:2: --link rate: 'fast'" err1
check grep -q "bad2.scn:2: unknown option '--nosuchoption'" err2
check grep -q "bad3.scn:1: 'size' takes one value" err3
printf '# comment\nchecksum yes\n' >bad6.scn
"$mpt" sim bad6.scn >/dev/null 2>err6; rc=$?
check [ "$rc" = 2 ]
check grep -q "bad6.scn:2: 'checksum' takes no value" err6
printf 'size\n' >bad7.scn
"$mpt" sim bad7.scn >/dev/null 2>err7; rc=$?
check [ "$rc" = 2 ]
check grep -q "bad7.scn:1: --size needs a value" err7

# The last, partial interval is printed: 20 MiB over 2 x 100 Mbit/s ends
# between two ticks; the final [SUM] row ends at the completion time.
out=$("$mpt" sim --size 20 --interval 1 2>&1)
last=$(grep '^\[SUM\]' <<<"$out" | tail -n 1 | awk '{ print $2 }')
done_s=$(sed -n 's/^done: [0-9]* bytes in \([0-9.]*\) s.*/\1/p' <<<"$out")
echo "  last [SUM] interval $last, done after $done_s s"
check python3 -c "import sys; a, b = map(float, '$last'.split('-')); sys.exit(0 if b != int(b) and b - a < 1 and b >= $done_s else 1)"
# One wording for subflow counts: "N subflows (M joins)".
check grep -Eq "^mptcp: version 1, multipath, 4 subflows \(3 joins\)" <<<"$out"

# The SVG: ticks at round values, the outage shaded and labelled.
check grep -q ">link 1 down</text>" run.svg
check grep -q "fill=\"#f2c6c6\"" run.svg
ticks=$(grep -o 'text-anchor="middle">[0-9.]*</text>' run.svg | sed 's/.*">\([0-9.]*\)<.*/\1/' | tr '\n' ' ')
echo "  x ticks: $ticks"
check python3 -c "
import sys
t = [float(x) for x in '$ticks'.split()]
step = t[1] - t[0]
ok = len(t) >= 4 and all(abs((b - a) - step) < 1e-9 for a, b in zip(t, t[1:]))
ok = ok and any(abs(step - m * 10 ** e) < 1e-9 for m in (1, 2, 5) for e in range(-3, 4))
sys.exit(0 if ok else 1)"

# A failed --svg write is an error (exit 1), after the run.
"$mpt" sim --size 1 --svg "$work/no/such/dir/x.svg" >/dev/null 2>err8; rc=$?
check [ "$rc" = 1 ]
check grep -q "cannot write $work/no/such/dir/x.svg" err8

# Line-buffered into a pipe: the first row arrives while mpt still runs
# (fully buffered, the whole output would arrive at exit).
( "$mpt" sim --size 256 2>/dev/null & echo $! >sim.pid; wait ) | {
	read -r first
	if kill -0 "$(cat sim.pid)" 2>/dev/null; then echo alive >alive; fi
	cat >/dev/null
}
check test -f alive

# The progress line: on a terminal only (script(1) gives mpt a pty).
if command -v script >/dev/null; then
	script -qec "$mpt sim --size 8" /dev/null >tty.out 2>&1
	check grep -q "s simulated \\[" tty.out
	"$mpt" sim --size 8 2>notty.err >/dev/null
	check [ ! -s notty.err ]
	script -qec "$mpt sim --size 8 -q" /dev/null >tty-q.out 2>&1
	check [ "$(grep -c "s simulated \\[" tty-q.out)" = 0 ]
else
	echo "FAIL: script(1) (util-linux) is missing: the progress line is not checked"
	fail=1
fi

if [ $fail = 0 ]; then echo "sim_cli: all checks passed"; fi
exit $fail
