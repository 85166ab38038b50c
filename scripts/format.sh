#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# clang-format every C source; --check fails on any difference instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--check" ]; then
	clang-format --dry-run -Werror "${files[@]}"
	echo "format: ${#files[@]} files clean"
else
	clang-format -i "${files[@]}"
fi
