#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared set-up of the benchmarks that run mpt against the kernel in network
# namespaces (bench/aggregate.sh, bench/profile.sh): the loud skip, the
# checks and installs, and the mpt binary.  Sourced from the repository's
# root with BENCH set to the benchmark's name.

bench_skip() { # bench_skip MESSAGE: say why, loudly, and exit 0
	echo "=================================================================="
	echo "SKIP: $BENCH benchmark: $*"
	echo "=================================================================="
	exit 0
}

# bench_require CMD:PACKAGE...: root, TUN and the kernel's MPTCP (cheap
# checks first, so that a machine that cannot run it does not build), then
# each command, installing the Debian packages of those missing.
bench_require() {
	[ "$(id -u)" = 0 ] || bench_skip "not root (network namespaces, veth, tbf and TUN need root)"
	[ -c /dev/net/tun ] || bench_skip "/dev/net/tun does not exist"
	[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] ||
		bench_skip "the kernel has no MPTCP (net.mptcp.enabled is not 1)"
	local c missing=()
	for c in "$@"; do
		command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	echo "$BENCH: installing ${missing[*]}"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"; } || bench_skip "cannot install ${missing[*]}"
}

# bench_mpt: MPT_BIN as given, or build-$BENCH/mpt built from this tree;
# exported, as an absolute path, for tests/interop/lib.sh.
bench_mpt() {
	if [ -z "${MPT_BIN:-}" ]; then
		bash scripts/deps.sh build
		cmake -S . -B "build-$BENCH" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DMPT_TESTS=OFF >/dev/null || { echo "$BENCH: cmake failed"; exit 1; }
		ninja -C "build-$BENCH" mpt >/dev/null || { echo "$BENCH: build failed"; exit 1; }
		MPT_BIN=$(pwd)/build-$BENCH/mpt
	fi
	MPT_BIN=$(readlink -f "$MPT_BIN")
	export MPT_BIN
}
