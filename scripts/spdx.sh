#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# License tags (https://spdx.dev/learn/handling-license-info/): every source
# and script file carries one "SPDX-License-Identifier: Apache-2.0" line.
#
#   scripts/spdx.sh              add the line to every file that lacks it
#   scripts/spdx.sh --check      list the files without it; exit 1 if any
#   scripts/spdx.sh [--check] FILE...   only these files
#
# Files: the git-tracked C sources and headers, shell and Python scripts,
# CMake files, *.in templates, man page sources (scdoc), shell
# completions, systemd units and *.conf examples.  Data (fuzz corpora, test vectors, pcaps), Markdown and the
# LICENSE itself are not tagged.  Adding is idempotent: a file that has the
# line anywhere in its first 10 lines is left alone.  Where the line goes:
#   C (.c .h .in of C):   /* SPDX-License-Identifier: Apache-2.0 */  first line
#   #-comment files:      after a "#!" or "#compdef" first line, else first
#   scdoc (.scd):         ; SPDX-...  (a scdoc comment) after the header line
set -euo pipefail
cd "$(dirname "$0")/.."
ID="SPDX-License-Identifier: Apache-2.0"

check=0
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi

# The files to consider.
list_files() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@"
		return
	fi
	{
		git ls-files 2>/dev/null || true
		# Untracked but not ignored files count too (new work not yet added).
		git ls-files --others --exclude-standard 2>/dev/null || true
	} | sort -u | grep -E '(\.(c|h|sh|py|cmake|in|scd|bash|zsh|service|conf)|(^|/)CMakeLists\.txt|(^|/)_mpt|(^|/)run|(^|/)Makefile|(^|/)mpt-routes)$' |
		grep -Ev '^(fuzz/corpus|tests/vectors/.*\.txt)' || true
}

# Comment style of a file: c, hash or scd.
style_of() {
	case "$1" in
	*.c | *.h | cmake/*.h.in) echo c ;;
	*.scd) echo scd ;;
	*) echo hash ;;
	esac
}

has_tag() {
	head -n 10 "$1" | grep -q "SPDX-License-Identifier:"
}

add_tag() {
	local f=$1 tmp first
	tmp=$(mktemp "$f.spdx.XXXXXX")
	first=$(head -n 1 "$f")
	case "$(style_of "$f")" in
	c)
		{ echo "/* $ID */"; cat "$f"; } >"$tmp" ;;
	scd)
		# scdoc wants its "name(section)" header first; ";" starts a comment.
		{ echo "$first"; echo "; $ID"; tail -n +2 "$f"; } >"$tmp" ;;
	hash)
		case "$first" in
		'#!'* | '#compdef'*)
			{ echo "$first"; echo "# $ID"; tail -n +2 "$f"; } >"$tmp" ;;
		*)
			{ echo "# $ID"; cat "$f"; } >"$tmp" ;;
		esac ;;
	esac
	chmod --reference="$f" "$tmp"
	mv "$tmp" "$f"
}

missing=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	[ -s "$f" ] || continue
	if has_tag "$f"; then
		continue
	fi
	if [ $check = 1 ]; then
		echo "spdx: no license tag: $f"
		missing=$((missing + 1))
	else
		add_tag "$f"
		echo "spdx: tagged $f"
	fi
done < <(list_files "$@")

if [ $check = 1 ]; then
	if [ $missing -gt 0 ]; then
		echo "spdx: $missing file(s) lack 'SPDX-License-Identifier' (run scripts/spdx.sh to add it)"
		exit 1
	fi
	echo "spdx: every source and script file has its license tag"
fi
