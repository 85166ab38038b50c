#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A shared library of mpt is a library boundary (issue 14): its dynamic
# symbol table holds its public API and nothing else.  libmpt.so exports the
# functions of mpt.h, libmpt-sim.so those of sim.h and simhost.h,
# libmpt-backend.so those of backend.h.
#   1. every symbol it exports (`nm -D --defined-only`) is named mpt_*;
#   2. every symbol it exports is a function declared with MPT_API in the
#      installed headers (no internal mpt_* function leaks either);
#   3. every MPT_API function of those headers is exported (the visibility
#      change hid no public function, and each one is defined).
# Every offender is listed; exit 1 if there is any.  A check that cannot run
# (nm missing, no library) fails too.
#   tests/exports_test.sh LIB_SO HEADER...
#   EXPORTS_MIN_DECL=N: fewer MPT_API declarations found means the parse
#   broke (default 5).
set -uo pipefail
lib=${1:?usage: $0 LIB_SO HEADER...}
shift
[ $# -ge 1 ] || { echo "usage: $0 LIB_SO HEADER..."; exit 1; }
headers=("$@")
inc="${headers[*]##*/}"
command -v nm >/dev/null || {
	echo "exports: FAIL: nm is not installed (binutils)"
	exit 1
}
[ -f "$lib" ] || {
	echo "exports: FAIL: no shared library at $lib"
	exit 1
}
# Symbols the linker itself may define and export in every shared object:
# GNU ld of older binutils exports _edata, _end and __bss_start (section
# boundary markers) and some crti.o define _init/_fini as default-visibility
# globals.  They are not ours and no visibility attribute of ours hides them.
toolchain='^(_init|_fini|_edata|_end|__bss_start)$'

exported=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { sub(/@.*/, "", $NF); print $NF }' | sort -u)
[ -n "$exported" ] || {
	echo "exports: FAIL: nm -D --defined-only $lib lists nothing"
	exit 1
}
# The declarations: a line starting with MPT_API, the function's name just
# before the first "(" (clang-format keeps name and "(" on that line).
declared=$(cat "${headers[@]}" | sed -nE 's/^MPT_API[^(]*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*)\(.*/\1/p' |
	sort -u)
n_decl=$(grep -c . <<<"$declared")
[ "$n_decl" -ge "${EXPORTS_MIN_DECL:-5}" ] || {
	echo "exports: FAIL: only $n_decl MPT_API declarations found in $inc"
	exit 1
}

fail=0
ours=$(grep -vE "$toolchain" <<<"$exported")
bad=$(grep -v '^mpt_' <<<"$ours")
if [ -n "$bad" ]; then
	echo "exports: FAIL: $(grep -c . <<<"$bad") exported symbol(s) without the mpt_ prefix:"
	sed 's/^/  /' <<<"$bad"
	fail=1
fi
bad=$(comm -23 <(grep '^mpt_' <<<"$ours") <(echo "$declared"))
if [ -n "$bad" ]; then
	echo "exports: FAIL: $(grep -c . <<<"$bad") exported mpt_ symbol(s) not declared with" \
		"MPT_API in $inc (internal: should be hidden):"
	sed 's/^/  /' <<<"$bad"
	fail=1
fi
bad=$(comm -13 <(echo "$ours") <(echo "$declared"))
if [ -n "$bad" ]; then
	echo "exports: FAIL: $(grep -c . <<<"$bad") MPT_API function(s) not exported by $lib:"
	sed 's/^/  /' <<<"$bad"
	fail=1
fi
if [ $fail = 0 ]; then
	echo "exports: $(grep -c . <<<"$exported") symbols exported, all mpt_*: exactly the" \
		"$n_decl MPT_API functions of $inc"
fi
exit $fail
