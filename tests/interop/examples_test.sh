#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# examples/ against the Linux kernel, built from an INSTALLED tree with
# pkg-config (what a library user does):
#   (a) tun_echo (mpt's stack, one path) <- a kernel MPTCP client
#       (mptcpize): 4 MiB come back intact, the server says "MPTCP";
#   (b) mptcp_client (two paths) -> a kernel MPTCP server announcing its
#       second address: 4 MiB each way, per-subflow rows, 2+ subflows that
#       carried data.
set -uo pipefail
TEST_NAME=examples
. "$(dirname "$0")/lib.sh"
interop_require
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v pkg-config >/dev/null || die "pkg-config is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"
BUILD=$(dirname "$MPT_BIN")
SRC=$(cd "$INTEROP_DIR/../.." && pwd)
topo_two_paths

cmake --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install.log" 2>&1 ||
	{ cat "$WORK/install.log"; die "cmake --install $BUILD"; }
PKG_CONFIG_PATH=$(dirname "$(find "$WORK/prefix" -name mpt.pc | head -n 1)")
export PKG_CONFIG_PATH
EX_CFLAGS="-O2 -g -Wall -Wextra -Werror -std=c11"
grep -q "^MPT_ASAN:BOOL=ON" "$BUILD/CMakeCache.txt" 2>/dev/null && EX_CFLAGS="$EX_CFLAGS -fsanitize=address,undefined"
make -s -C "$SRC/examples" O="$WORK" CFLAGS="$EX_CFLAGS" >"$WORK/make.log" 2>&1 || { cat "$WORK/make.log"; die "examples do not build"; }

echo "-- (a) tun_echo <- kernel MPTCP client, 4 MiB"
case_a() {
	local d="$WORK/a"
	mkdir -p "$d"
	head -c 4M /dev/urandom >"$d/up"
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$WORK/tun_echo" "$MP_A/24,dev=mpttun0" 7000 1 \
		>"$d/echo.out" 2>"$d/echo.err" &
	local epid=$!
	INTEROP_PIDS+=("$epid")
	wait_route "$NS_C" "$MP_A" mpttun0 || { echo "  tun_echo did not come up"; show_log "$d/echo.err"; return 1; }
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" client --host "$MP_A" \
		--port 7000 --send "$d/up" --recv-out "$d/back" 2>"$d/peer.err"
	local prc=$?
	wait "$epid"
	local erc=$?
	echo "  kernel client exit $prc, tun_echo exit $erc"
	sed 's/^/  | /' "$d/echo.out"
	local rc=0
	[ $prc = 0 ] && [ $erc = 0 ] || rc=1
	same_file "echoed" "$d/up" "$d/back" || rc=1
	grep -q "echoed 4194304 bytes .*(MPTCP)" "$d/echo.out" || { echo "  no MPTCP echo line"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/echo.err"; show_log "$d/peer.err"; }
	return $rc
}
case_a
case_result "(a) tun_echo <- kernel MPTCP client" $?

echo "-- (b) mptcp_client (2 paths) -> kernel MPTCP server, 4 MiB each way"
case_b() {
	local d="$WORK/b"
	mkdir -p "$d"
	head -c 4M /dev/urandom >"$d/down"
	ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal || return 1
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" server --keep-listening \
		--port 7001 --send "$d/down" --recv-out "$d/got" --ready "$d/ready" 2>"$d/peer.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || { echo "  kernel server did not start"; return 1; }
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$WORK/mptcp_client" "$SRV_A" 7001 4194304 \
		"$MP_A/24,dev=mpttun0" "$MP_B/24,dev=mpttun1" >"$d/client.out" 2>"$d/client.err"
	local crc=$?
	wait "$spid"
	local prc=$?
	echo "  mptcp_client exit $crc, kernel server exit $prc"
	sed -n '/^end:/,$p' "$d/client.out" | sed 's/^/  | /'
	local rc=0
	[ $crc = 0 ] && [ $prc = 0 ] || rc=1
	[ "$(stat -c %s "$d/got" 2>/dev/null)" = 4194304 ] || { echo "  the server did not get 4 MiB"; rc=1; }
	grep -q "^end: MPTCP, sent 4194304 B, received 4194304 B" "$d/client.out" ||
		{ echo "  wrong end line"; rc=1; }
	local used
	# Every subflow the client saw, with its last counts ("seen:"): one the
	# peer closed first is freed once CLOSED and is missing from "end:".
	used=$(sed -n '/^seen:/,$p' "$d/client.out" | awk '/^  \[/ { for (i = 1; i <= NF; i++) if ($i == "sent" && $(i + 1) > 100000) n++ } END { print n + 0 }')
	[ "$used" -ge 2 ] || { echo "  $used subflow(s) carried data, expected 2 or more"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/client.err"; show_log "$d/peer.err"; }
	return $rc
}
case_b
case_result "(b) mptcp_client (2 paths) -> kernel MPTCP server" $?

[ $FAILED = 0 ] || exit 1
echo "examples: all cases passed"
