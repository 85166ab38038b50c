#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The module boundaries of src/ hold (docs/architecture.md):
#   - src/core's private header (core/stack_int.h) is included by src/core only;
#   - src/mptcp reaches the stack through core/host.h and nothing else of src/core;
#   - the lower layers never include the upper ones:
#       base, wire  -> nothing of cc, crypto, tcp, mptcp, core, sim, backend
#       crypto, cc  -> nothing of tcp, mptcp, core, sim, backend
#       tcp         -> nothing of mptcp, core, sim, backend
#       mptcp       -> nothing of sim, backend (and of core: host.h only)
#       core        -> nothing of sim, backend
# Exit 1 with every violation listed.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
violation() {
	echo "include_graph: $1"
	fail=1
}
includes() { # includes DIR: "file: included" lines of the project's own headers
	grep -Hn '^#include "' "$1"/*.[ch] 2>/dev/null | sed -E 's/:[0-9]+:#include "([^"]+)".*/: \1/'
}
while IFS= read -r line; do
	f=${line%%: *}
	inc=${line#*: }
	case "$f" in src/core/*) continue ;; esac
	[ "$inc" = core/stack_int.h ] && violation "$f includes core/stack_int.h (private to src/core)"
done < <(for d in src/*/; do includes "${d%/}"; done)
check_layer() { # check_layer DIR FORBIDDEN_PREFIX...
	local dir=$1 line inc p
	shift
	while IFS= read -r line; do
		inc=${line#*: }
		for p in "$@"; do
			case "$inc" in "$p"/*) violation "${line%%: *} includes $inc" ;; esac
		done
	done < <(includes "$dir")
}
check_layer src/base cc crypto tcp mptcp core sim backend
check_layer src/wire cc crypto tcp mptcp core sim backend
check_layer src/crypto tcp mptcp core sim backend
check_layer src/cc tcp mptcp core sim backend
check_layer src/tcp mptcp core sim backend
check_layer src/core sim backend
check_layer src/mptcp sim backend
# src/mptcp: of src/core only the host interface
while IFS= read -r line; do
	inc=${line#*: }
	case "$inc" in core/host.h) ;; core/*) violation "${line%%: *} includes $inc (only core/host.h)" ;; esac
done < <(includes src/mptcp)
# the rule must have something to check
[ -f src/core/host.h ] || violation "src/core/host.h is missing"
grep -q '#include "core/host.h"' src/mptcp/*.h || violation "src/mptcp does not use core/host.h"
if [ "$fail" = 0 ]; then
	echo "include_graph: module boundaries hold ($(ls src/*/*.[ch] | wc -l) files)"
fi
exit $fail
