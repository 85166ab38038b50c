#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# examples/ against the Linux kernel, built from an INSTALLED tree with
# pkg-config (what a library user does):
#   (a) tun_echo (mpt's stack, one path) <- a kernel MPTCP client
#       (mptcpize): 4 MiB come back intact, the server says "MPTCP";
#   (b) mptcp_client (two paths) -> a kernel MPTCP server announcing its
#       second address: 4 MiB each way, per-subflow rows, 2+ subflows that
#       carried data;
#   (c) tls_client (two paths) -> `mpt cat --tls -l`: TLS 1.3 over MPTCP,
#       external keys exported from TLS by each side on its own, 4 MiB each
#       way intact, the key confirmed and joins under it.
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

echo "-- (c) tls_client (2 paths) -> mpt cat --tls -l: TLS 1.3, external keys from TLS, 4 MiB each way"
# The listener is the mpt tool on TUN addresses of its own in the server
# namespace (the kernel there forwards to them), so this is the example
# against an implementation of the binding it shares no code with.
case_c() {
	local d="$WORK/c" i
	mkdir -p "$d"
	head -c 4M /dev/urandom >"$d/up"
	head -c 4M /dev/urandom >"$d/down"
	ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -l -N -v -v --tls \
		--path 10.78.2.1/24,dev=mptsrv0 --path 10.79.2.1/24,dev=mptsrv1 7002 \
		<"$d/down" >"$d/srv_got" 2>"$d/srv.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	for ((i = 0; i < 50; i++)); do
		grep -q 'listening' "$d/srv.err" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$WORK/tls_client" 10.78.2.1 7002 \
		"$MP_A/24,dev=mpttun0" "$MP_B/24,dev=mpttun1" <"$d/up" >"$d/cli_got" 2>"$d/cli.err"
	local crc=$?
	wait "$spid"
	local src=$?
	ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=0 >/dev/null
	echo "  tls_client exit $crc, mpt cat exit $src"
	grep '^tls_client: TLS' "$d/cli.err" | sed 's/^/  | /'
	local rc=0
	[ $crc = 0 ] && [ $src = 0 ] || rc=1
	same_file "tls_client -> mpt" "$d/up" "$d/srv_got" || rc=1
	same_file "mpt -> tls_client" "$d/down" "$d/cli_got" || rc=1
	grep -q '^tls_client: TLS 1.3 .*external keys: negotiated, key generations active 1' "$d/cli.err" ||
		{ echo "  tls_client: no TLS-derived key active"; rc=1; }
	local m
	m=$(sed -n 's/^tls_client: .*subflows \([0-9]*\).*/\1/p' "$d/cli.err")
	[ "${m:-0}" -ge 2 ] || { echo "  tls_client: ${m:-0} subflow(s)"; rc=1; }
	local nk joins
	nk=$(awk '$1 == "mpt:" && $2 == "counter" && $3 == "ExtKeyNewKeyRx" { v = $4 } END { print v + 0 }' "$d/srv.err")
	joins=$(awk '$1 == "mpt:" && $2 == "counter" && $3 == "MPJoinAckRx" { v = $4 } END { print v + 0 }' "$d/srv.err")
	echo "  mpt cat: ExtKeyNewKeyRx $nk, MPJoinAckRx $joins"
	[ "$nk" = 1 ] && [ "$joins" -ge 1 ] || rc=1
	[ $rc = 0 ] || { show_log "$d/cli.err"; show_log "$d/srv.err"; }
	return $rc
}
case_c
case_result "(c) tls_client (2 paths) -> mpt cat --tls -l: the same TLS-derived key, joins under it" $?

[ $FAILED = 0 ] || exit 1
echo "examples: all cases passed"
