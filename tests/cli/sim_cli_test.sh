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
check [ "$rc" = 2 ]
"$mpt" sim a.scn b.scn >/dev/null 2>&1; rc=$?
check [ "$rc" = 2 ]
if [ $fail = 0 ]; then echo "sim_cli: all checks passed"; fi
exit $fail
