#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command line on a real (namespaced) network, against the kernel:
#   (a) options after operands: `mpt cat -l PORT --path ...` and
#       `mpt cat HOST PORT --path ... -N` work as GNU getopt allows;
#   (b) a second instance on an address already in use refuses (another
#       device, or the same one) and the first keeps its route and peers;
#   (c) --path with an address configured on a kernel interface says so at
#       once instead of hanging;
#   (d) a destination without a route fails at once with "Network is
#       unreachable" (it used to wait 30 s and say "timed out");
#   (e) --check reports the host's side (an interface's address, forwarding
#       off) and changes nothing.
# Needs root (namespaces, TUN): skips otherwise, FAILS when it cannot run
# under CI=true.
#   tests/cli/netns_cli_test.sh PATH_TO_MPT
set -uo pipefail
export MPT_BIN=${1:-${MPT_BIN:-}}
TEST_NAME=netns_cli
if [ "${CI:-}" = true ]; then
	export MPT_INTEROP_REQUIRE=1
fi
. "$(dirname "$0")/../interop/lib.sh"
MPT_BIN=$(realpath "$MPT_BIN")
CASE_TIMEOUT=20
interop_require
topo_two_ns
V4=10.77.1.1
SRV4=10.77.0.2

# wait_gone PID SECONDS: until the process ended (1 if still running)
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

echo "-- (a) options after operands"
case_a() {
	local d="$WORK/a" rc=0
	mkdir -p "$d"
	head -c 300000 /dev/urandom >"$d/up"
	# Listener: `-l PORT` first, then the stack options.
	ip netns exec "$NS_C" timeout 20 "$MPT_BIN" cat -l 5100 --path "$V4/24" -v \
		>"$d/got" 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_route "$NS_C" "$V4" mpttun0 || { echo "  mpt cat -l PORT --path did not start"; show_log "$d/mpt.err"; return 1; }
	ip netns exec "$NS_S" timeout 20 python3 "$PEER" client --host "$V4" --port 5100 \
		--send "$d/up" --recv-out /dev/null 2>"$d/peer.err" || rc=1
	wait "$mpid" || rc=1
	same_file "kernel -> mpt cat -l 5100 --path" "$d/up" "$d/got" || rc=1
	# Client: HOST PORT, then options (-N after the operands too).
	ip netns exec "$NS_S" timeout 20 python3 "$PEER" server --port 5101 --send /dev/null \
		--recv-out "$d/srv_got" --ready "$d/ready" 2>>"$d/peer.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || return 1
	ip netns exec "$NS_C" timeout 20 "$MPT_BIN" cat "$SRV4" 5101 --path "$V4/24" -N \
		<"$d/up" >/dev/null 2>"$d/mpt2.err" || { echo "  mpt cat HOST PORT --path -N failed"; rc=1; }
	wait "$spid" || rc=1
	same_file "mpt cat HOST PORT --path -N -> kernel" "$d/up" "$d/srv_got" || rc=1
	[ $rc = 0 ] || { show_log "$d/mpt.err"; show_log "$d/mpt2.err"; show_log "$d/peer.err"; }
	return $rc
}
case_a
case_result "(a) options after operands" $?

echo "-- (b) a second instance on an address in use refuses"
case_b() {
	local d="$WORK/b" rc=0
	mkdir -p "$d"
	ip netns exec "$NS_C" timeout 30 "$MPT_BIN" cat -l -k 5200 --path "$V4/24,dev=mpttun0" \
		>/dev/null 2>"$d/first.err" &
	local first=$!
	INTEROP_PIDS+=("$first")
	wait_route "$NS_C" "$V4" mpttun0 || { echo "  first instance did not start"; return 1; }
	# Same address on another device: would take the route over.
	ip netns exec "$NS_C" timeout 10 "$MPT_BIN" cat -l 5201 --path "$V4/24,dev=mpttun9" \
		</dev/null >/dev/null 2>"$d/second.err"
	local r2=$?
	echo "  second instance (dev=mpttun9) exit $r2: $(head -n 1 "$d/second.err")"
	[ $r2 = 1 ] || rc=1
	grep -q "already routed to device mpttun0" "$d/second.err" || { echo "  no clear reason"; rc=1; }
	# Same address, same (default) device name.
	ip netns exec "$NS_C" timeout 10 "$MPT_BIN" cat -l 5202 --path "$V4/24" \
		</dev/null >/dev/null 2>"$d/third.err"
	local r3=$?
	echo "  second instance (same device) exit $r3: $(head -n 1 "$d/third.err")"
	[ $r3 = 1 ] || rc=1
	grep -q "mpttun0 is in use by another process" "$d/third.err" || { echo "  no clear reason"; rc=1; }
	# The first instance kept its route and still serves.
	wait_route "$NS_C" "$V4" mpttun0 1 || { echo "  the first instance lost its route"; rc=1; }
	ip -n "$NS_C" link show mpttun9 >/dev/null 2>&1 && { echo "  mpttun9 was created"; rc=1; }
	echo hello >"$d/msg"
	ip netns exec "$NS_S" timeout 10 python3 "$PEER" client --host "$V4" --port 5200 \
		--send "$d/msg" --recv-out /dev/null 2>"$d/peer.err" ||
		{ echo "  the first instance no longer answers"; rc=1; }
	kill "$first" 2>/dev/null
	wait "$first" 2>/dev/null
	[ $rc = 0 ] || { show_log "$d/first.err"; show_log "$d/second.err"; show_log "$d/third.err"; }
	return $rc
}
case_b
case_result "(b) second instance on an address in use" $?

echo "-- (c) --path with an address of a kernel interface"
case_c() {
	local d="$WORK/c" rc=0
	mkdir -p "$d"
	ip netns exec "$NS_C" timeout 10 "$MPT_BIN" cat --path 10.77.0.1/24 "$SRV4" 5300 \
		</dev/null >/dev/null 2>"$d/err"
	local r=$?
	echo "  exit $r: $(head -n 1 "$d/err")"
	[ $r = 1 ] || { echo "  expected exit 1 at once (124: it hung)"; rc=1; }
	grep -q "10.77.0.1 is configured on interface mpt-vc" "$d/err" || { echo "  no clear reason"; rc=1; }
	ip -n "$NS_C" link show mpttun0 >/dev/null 2>&1 && { echo "  a TUN was created anyway"; rc=1; }
	return $rc
}
case_c
case_result "(c) --path with an interface's address" $?

echo "-- (d) no route to the destination: fails at once"
case_d() {
	local d="$WORK/d" rc=0 t0 t1
	mkdir -p "$d"
	t0=$(date +%s.%N)
	ip netns exec "$NS_C" timeout 10 "$MPT_BIN" cat --path "$V4/24" 192.0.2.99 5400 \
		</dev/null >/dev/null 2>"$d/err"
	local r=$?
	t1=$(date +%s.%N)
	echo "  exit $r after $(echo "$t1 - $t0" | bc) s: $(head -n 1 "$d/err")"
	[ $r = 1 ] || { echo "  expected exit 1 (124: it waited for the SYN timeout)"; rc=1; }
	grep -q "cannot connect to 192.0.2.99 port 5400: Network is unreachable" "$d/err" ||
		{ echo "  no 'Network is unreachable'"; rc=1; }
	# The same for perf.
	ip netns exec "$NS_C" timeout 10 "$MPT_BIN" perf -c 192.0.2.99 --path "$V4/24" \
		>/dev/null 2>"$d/perf.err"
	r=$?
	echo "  mpt perf: exit $r: $(head -n 1 "$d/perf.err")"
	[ $r = 1 ] || rc=1
	grep -q "Network is unreachable" "$d/perf.err" || { echo "  perf: no 'Network is unreachable'"; rc=1; }
	return $rc
}
case_d
case_result "(d) unreachable destination" $?

echo "-- (e) --check: the host's side, without changing anything"
case_e() {
	local d="$WORK/e" rc=0
	mkdir -p "$d"
	ip netns exec "$NS_C" "$MPT_BIN" cat --check --path "$V4/24" "$SRV4" 5500 2>"$d/ok.err"
	local r=$?
	sed 's/^/  | /' "$d/ok.err"
	[ $r = 0 ] && grep -q "check: ready" "$d/ok.err" || { echo "  a good setup is not ready"; rc=1; }
	ip -n "$NS_C" link show mpttun0 >/dev/null 2>&1 && { echo "  --check created a device"; rc=1; }
	ip netns exec "$NS_C" "$MPT_BIN" perf -c "$SRV4" --check --path 10.77.0.1/24 2>"$d/bad1.err"
	[ $? = 1 ] && grep -q "configured on interface mpt-vc" "$d/bad1.err" || { echo "  an interface's address passed"; rc=1; }
	ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_forward=0
	ip netns exec "$NS_C" "$MPT_BIN" cat --check --path "$V4/24" -l 5500 2>"$d/bad2.err"
	local r2=$?
	ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_forward=1
	sed 's/^/  | /' "$d/bad2.err"
	[ $r2 = 1 ] && grep -q "ip_forward is not 1" "$d/bad2.err" || { echo "  forwarding off passed"; rc=1; }
	return $rc
}
case_e
case_result "(e) --check" $?

[ $FAILED = 0 ] || exit 1
echo "netns_cli: all cases passed"
