#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Man pages and shell completion, as a user meets them:
#   1. every page built from docs/man renders with `man -l` (groff warnings
#      on: none allowed) and has NAME, SYNOPSIS and DESCRIPTION;
#   2. every command `mpt --help` lists has its page mpt-COMMAND(1), and
#      every option its --help prints appears in that page (no drift);
#   3. `cmake --install` puts the pages in share/man/man1 and the bash and
#      zsh completions where bash-completion and zsh look for them;
#   4. the bash completion completes commands, options (from --help) and
#      option values; the zsh completion parses (zsh -n).
#   tests/cli/man_test.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "${1:?usage: $0 BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: $0 BUILD_DIR SOURCE_DIR}" && pwd)
mpt="$build/mpt"
work=$(mktemp -d /tmp/mpt-man.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if "$@"; then :; else echo "FAIL: $*"; fail=1; fi; }
for tool in man groff scdoc; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x "$mpt" ] || { echo "FAIL: $mpt not built"; exit 1; }

echo "-- pages render"
pages=("$build"/man/*.[0-9])
nsrc=$(ls "$src"/docs/man/*.scd | wc -l)
[ -e "${pages[0]}" ] || { echo "FAIL: no man pages in $build/man (scdoc missing at configure time?)"; exit 1; }
check [ "${#pages[@]}" = "$nsrc" ]
for p in "${pages[@]}"; do
	name=$(basename "$p")
	if ! MANWIDTH=80 man --warnings -l "$p" >"$work/$name.txt" 2>"$work/$name.err"; then
		echo "FAIL: man -l $name exits non-zero"
		fail=1
	fi
	if [ -s "$work/$name.err" ]; then
		echo "FAIL: man -l $name warns:"
		sed 's/^/    /' "$work/$name.err"
		fail=1
	fi
	for sec in NAME SYNOPSIS DESCRIPTION; do
		grep -q "^$sec" "$work/$name.txt" || { echo "FAIL: $name has no $sec"; fail=1; }
	done
	echo "  $name: $(wc -l <"$work/$name.txt") lines"
done

echo "-- every command has its page, every option is documented"
cmds=$("$mpt" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || { echo "FAIL: no commands in mpt --help"; exit 1; }
for c in $cmds; do
	page="$work/mpt-$c.1.txt"
	if [ ! -f "$page" ]; then
		echo "FAIL: command '$c' has no man page (docs/man/mpt-$c.1.scd)"
		fail=1
		continue
	fi
	# man renders hyphens as U+2010 in places; compare on ASCII.
	# and a name broken at one of its hyphens at a line's end is joined.
	text=$(sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g' "$page" | sed -z 's/-\n *\([a-z]\)/-\1/g')
	# Long options, and short ones (one letter: not "[-PORT]" of a syntax).
	opts=$("$mpt" "$c" --help 2>&1 | grep -Eo -- '(^|[ ,(\[|])--?[A-Za-z0-9][A-Za-z0-9-]*' |
		sed 's/^[ ,(\[|]//' | grep -E -- '^(--.*|-[A-Za-z0-9])$' | sort -u)
	missing=""
	for o in $opts; do
		grep -q -- "$o" <<<"$text" || missing="$missing $o"
	done
	if [ -n "$missing" ]; then
		echo "FAIL: mpt-$c(1) does not document:$missing"
		fail=1
	else
		echo "  mpt-$c(1): $(wc -w <<<"$opts") options documented"
	fi
done

echo "-- cmake --install: pages and completions"
cmake --install "$build" --prefix "$work/p" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
for p in "${pages[@]}"; do
	name=$(basename "$p")
	check test -f "$work/p/share/man/man${name##*.}/$name"
done
check test -f "$work/p/share/bash-completion/completions/mpt"
check test -f "$work/p/share/zsh/site-functions/_mpt"
# man finds the installed pages through MANPATH.
check grep -q "mpt-perf" <(MANPATH="$work/p/share/man" MANWIDTH=80 man mpt-perf 2>/dev/null)

echo "-- bash completion"
complete_words() { # complete_words WORD... : the candidates for the last word
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_mpt; printf "%s\n" "${COMPREPLY[@]}"' _ "$work/p/share/bash-completion/completions/mpt" "$@"
}
PATH="$build:$PATH"
check grep -qx cat <(complete_words mpt ca)
check grep -qx perf <(complete_words mpt pe)
check grep -qx -- --path <(complete_words mpt cat --pa)
check grep -qx -- --bitrate <(complete_words mpt perf --bit)
check grep -qx olia <(complete_words mpt perf --cc ol)
check grep -qx minrtt <(complete_words mpt cat -l 5000 --sched m)
# The control socket and --no-offload on every tool on TUN paths.
for c in perf cat proxy convert onpath; do
	check grep -qx -- --ctl <(complete_words mpt "$c" --ct)
	check grep -qx -- --no-offload <(complete_words mpt "$c" --no-of)
done
check grep -qx none <(complete_words mpt proxy --ctl n)
echo "  mpt ca -> $(complete_words mpt ca | tr '\n' ' ')"
echo "  mpt perf --bi -> $(complete_words mpt perf --bi | tr '\n' ' ')"

echo "-- zsh completion"
if command -v zsh >/dev/null; then
	check zsh -n "$work/p/share/zsh/site-functions/_mpt"
	check grep -q '^#compdef mpt' "$work/p/share/zsh/site-functions/_mpt"
else
	echo "FAIL: zsh is not installed (scripts/deps.sh): its completion is not checked"
	fail=1
fi

[ $fail = 0 ] && echo "man_pages: all checks passed"
exit $fail
