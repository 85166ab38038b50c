#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build mpt and run the main demo: a simulated transfer (no root needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build mpt
./build/mpt sim "$@"
