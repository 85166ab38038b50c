#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every tests/interop/*_test.sh against an mpt build.
#   tests/interop/run.sh [BUILD_DIR]      (default: build)
# Each test needs root, network namespaces and /dev/net/tun; without them it
# prints SKIP and the reason.  Exit status: non-zero when any test failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
export MPT_BIN=${MPT_BIN:-$(cd "$build" && pwd)/mpt}
pass=0 fail=0 skip=0
failed=()
# MPT_INTEROP_EXCLUDE="a_test b_test": not run in this pass (scripts/test.sh
# runs them in its other pass); said loudly, never counted as passed.
excluded=()
# The failing cases with the lines just before them, repeated at the end:
# a CI excerpt shows the tail of the log.
recap=$(mktemp /tmp/mpt-interop-recap.XXXXXX)
# For each FAIL line: the case's own lines since its header (its reasons;
# the "|" lines are logs it shows, often long, so only the last 3 of them),
# then the FAIL line.  Reasons printed before a long log stay visible.
recap_case() {
	awk '
	/^(ok|FAIL|SKIP|PASS)[ :]/ || /^-- / {
		if ($0 ~ /^FAIL /) {
			for (i = (nr > 12 ? nr - 12 : 0); i < nr; i++) print r[i % 12]
			for (i = (nl > 3 ? nl - 3 : 0); i < nl; i++) print l[i % 3]
			print
		}
		nr = 0; nl = 0; next
	}
	/^ *\|/ { l[nl % 3] = $0; nl++; next }
	{ r[nr % 12] = $0; nr++ }' "$1"
}
for t in "$here"/*_test.sh; do
	name=$(basename "$t" .sh)
	case " ${MPT_INTEROP_EXCLUDE:-} " in
	*" $name "*)
		excluded+=("$name")
		continue
		;;
	esac
	echo "== interop: $name"
	out=$(mktemp /tmp/mpt-interop-log.XXXXXX)
	bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ]; then
		fail=$((fail + 1))
		failed+=("$name")
		{ echo "-- $name"; recap_case "$out" | cut -c1-300; } >>"$recap"
	elif grep -q "^SKIP: " "$out"; then
		skip=$((skip + 1))
	else
		pass=$((pass + 1))
	fi
	rm -f "$out"
done
echo "== interop: $pass passed, $fail failed, $skip skipped${excluded[*]:+, not run in this pass: ${excluded[*]}}"
[ "$skip" = 0 ] || echo "== interop: WARNING: $skip test(s) SKIPPED (see the reasons above)"
if [ "$fail" != 0 ]; then
	echo "== interop: the failing cases and the lines before them:"
	cat "$recap"
	rm -f "$recap"
	echo "== interop: FAILED: ${failed[*]}"
	exit 1
fi
rm -f "$recap"
