#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Handover (issue 6, must-show 4): plain TCP client -> `mpt proxy --pm
# mobility --watch ...` -> 2 paths -> `mpt convert` -> plain TCP server; the
# active path's veth goes down mid-transfer.  The proxy sees the link go
# down over netlink (libmnl), removes the path's address from the stack
# (REMOVE_ADDR), the mobility path manager opens a subflow from the other
# address (break before make) and the transfer completes intact.  The
# receiving application timestamps every recv(): the stall is the longest
# time without data delivered after the link-down event.
#
# Topology (like proxy_convert_test.sh): $NS_P client + proxy (TUN
# 10.78.1.1 mpttun0, 10.79.1.1 mpttun1, each with $DELAY_MS ms emulated
# one-way delay, so RTT = 2 x $DELAY_MS), $NS_V converter (10.78.2.1,
# 10.79.2.1) + server 10.90.0.1.  path i: $NS_P mpt-pip <-> $NS_V mpt-piv,
# tbf $RATE.  $NS_P routes by source address (each mpt address leaves on
# its own path); $NS_V routes by destination (the answer to 10.79.1.1 goes
# back over path 2 whatever converter address it comes from).
# Cases:
#  (m1) $SIZE_MIB MiB up; after $DOWN_AFTER s, mpt-p1p (the initial
#       subflow's path) goes down.  Intact; stall reported and asserted
#       below $MAX_STALL_MS; the proxy logged the removal; MP_JOIN and
#       REMOVE_ADDR sent.
#  (m2) mpt-p1p comes back up: the proxy adds the address again (no
#       restart); a second transfer, with mpt-p2p going down this time,
#       moves back to path 1 and completes intact.
set -uo pipefail
TEST_NAME=proxy_mobility
. "$(dirname "$0")/lib.sh"
interop_require
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
RATE=${RATE:-50mbit}
DELAY_MS=${DELAY_MS:-10}
RTT_MS=$((2 * DELAY_MS))
SIZE_MIB=${SIZE_MIB:-16}
DOWN_AFTER=${DOWN_AFTER:-1.0}
MAX_STALL_MS=${MAX_STALL_MS:-250}
CASE_TIMEOUT=${CASE_TIMEOUT:-60}
PP="$INTEROP_DIR/proxy_peer.py"

topo_proxy_paths "mpt-mp-$$" "mpt-mv-$$" mpt-mob

CONV=10.78.2.1
CPORT=5124
SRV=10.90.0.1
ip netns exec "$NS_V" "$MPT_BIN" convert --path "$CONV/24,dev=mpttun0" \
	--path "10.79.2.1/24,dev=mpttun1" --allow-local "$SRV/32" "$CPORT" 2>"$WORK/conv.err" &
CONV_PID=$!
INTEROP_PIDS+=($CONV_PID)
ip netns exec "$NS_P" "$MPT_BIN" proxy --socks5 --convert "$CONV:$CPORT" --pm mobility \
	--path "10.78.1.1/24,dev=mpttun0,delay=$DELAY_MS" \
	--path "10.79.1.1/24,dev=mpttun1,delay=$DELAY_MS" \
	--watch 10.78.1.1=mpt-p1p --watch 10.79.1.1=mpt-p2p 127.0.0.1:1080 2>"$WORK/proxy.err" &
PROXY_PID=$!
INTEROP_PIDS+=($PROXY_PID)
wait_route "$NS_V" "$CONV" mpttun0 10 || { show_log "$WORK/conv.err"; die "converter did not start"; }
wait_route "$NS_P" 10.79.1.1 mpttun1 10 || { show_log "$WORK/proxy.err"; die "proxy did not start"; }
sleep 0.3
grep -q "watching mpt-p1p for path 10.78.1.1: up" "$WORK/proxy.err" ||
	{ show_log "$WORK/proxy.err"; die "the proxy does not watch mpt-p1p"; }

ctr() { # ctr PID LOG NAME: a counter of a running mpt (printed on SIGUSR1)
	kill -USR1 "$1" 2>/dev/null
	sleep 0.2
	awk -v n="counter $3" 'index($0, n " ") { v = $NF } END { print v + 0 }' "$2"
}

# handover NAME PORT DEV: $SIZE_MIB MiB up through the proxy; DEV goes down
# after $DOWN_AFTER s.  Sets STALL_MS.
handover() {
	local name=$1 port=$2 dev=$3 d="$WORK/$1" rc=0
	mkdir -p "$d"
	head -c "${SIZE_MIB}M" /dev/urandom >"$d/data"
	ip netns exec "$NS_V" timeout "$CASE_TIMEOUT" python3 "$PP" stall-sink --port "$port" \
		--recv-out "$d/got" --times "$d/times" --ready "$d/ready" 2>"$d/srv.err" &
	local spid=$!
	INTEROP_PIDS+=($spid)
	wait_file "$d/ready" 10 || { echo "  server did not start"; return 1; }
	ip netns exec "$NS_P" timeout "$CASE_TIMEOUT" python3 "$PP" socks --proxy 127.0.0.1:1080 \
		--dest "$SRV:$port" --send "$d/data" >"$d/cli.out" 2>"$d/cli.err" &
	local cpid=$!
	sleep "$DOWN_AFTER"
	local t_down
	t_down=$(date +%s.%N)
	ip -n "$NS_P" link set "$dev" down
	echo "  $dev down at +$DOWN_AFTER s"
	wait $cpid || { echo "  client failed"; rc=1; }
	wait $spid || { echo "  server failed"; rc=1; }
	same_file "$name: $SIZE_MIB MiB up" "$d/data" "$d/got" || rc=1
	local out
	out=$(python3 "$PP" stall --times "$d/times" --event "$t_down") || rc=1
	echo "  receiver: $out"
	STALL_MS=$(echo "$out" | awk '{ printf "%d", $2 }')
	echo "  stall after the link-down: ${STALL_MS:-?} ms (RTT $RTT_MS ms emulated +" \
		"tbf queueing; bound $MAX_STALL_MS ms)"
	grep -E "path .*(removed|added|new subflow)" "$WORK/proxy.err" | tail -n 3 | sed 's/^/  proxy: /'
	grep -E "10.90.0.1:$port.*ended" "$WORK/proxy.err" | sed 's/^/  proxy: /'
	[ -n "$STALL_MS" ] && [ "$STALL_MS" -lt "$MAX_STALL_MS" ] ||
		{ echo "  stall above $MAX_STALL_MS ms"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/cli.err"; show_log "$d/srv.err"; show_log "$WORK/proxy.err"; }
	return $rc
}

echo "-- (m1) $SIZE_MIB MiB up, --pm mobility; mpt-p1p (active path) down after $DOWN_AFTER s"
case_m1() {
	local rc=0 j0 j1 r0 r1
	j0=$(ctr $PROXY_PID "$WORK/proxy.err" stack-MPJoinSynTx)
	r0=$(ctr $PROXY_PID "$WORK/proxy.err" stack-RmAddrTx)
	handover m1 5001 mpt-p1p || rc=1
	j1=$(ctr $PROXY_PID "$WORK/proxy.err" stack-MPJoinSynTx)
	r1=$(ctr $PROXY_PID "$WORK/proxy.err" stack-RmAddrTx)
	echo "  proxy: MP_JOIN SYNs sent $j0 -> $j1, REMOVE_ADDR sent $r0 -> $r1"
	grep -q "path 10.78.1.1 (mpt-p1p): address removed" "$WORK/proxy.err" ||
		{ echo "  the proxy did not remove 10.78.1.1"; rc=1; }
	[ "$j1" -gt "$j0" ] || { echo "  no MP_JOIN opened"; rc=1; }
	return $rc
}
case_m1
case_result "(m1) handover on link down: intact, stall ${STALL_MS:-?} ms" $?

echo "-- (m2) mpt-p1p back up (address added again), then mpt-p2p down mid-transfer"
case_m2() {
	local rc=0
	ip -n "$NS_P" link set mpt-p1p up
	ip -n "$NS_P" route replace default via 10.78.0.2 dev mpt-p1p table 101 2>/dev/null
	ip -n "$NS_P" route replace 10.78.2.0/24 via 10.78.0.2 2>/dev/null
	for _ in $(seq 50); do
		grep -q "path 10.78.1.1 (mpt-p1p): up: address added" "$WORK/proxy.err" && break
		sleep 0.1
	done
	grep -q "path 10.78.1.1 (mpt-p1p): up: address added" "$WORK/proxy.err" ||
		{ echo "  the proxy did not add 10.78.1.1 back"; show_log "$WORK/proxy.err"; return 1; }
	sleep 0.3
	handover m2 5002 mpt-p2p || rc=1
	return $rc
}
case_m2
case_result "(m2) address re-added without a restart; handover back: intact, stall ${STALL_MS:-?} ms" $?

for p in "$PROXY_PID:proxy" "$CONV_PID:conv"; do
	kill -TERM "${p%%:*}" 2>/dev/null
	wait "${p%%:*}"
	rc=$?
	if [ $rc != 0 ] || grep -q "ERROR: AddressSanitizer\|LeakSanitizer\|runtime error" "$WORK/${p#*:}.err"; then
		echo "FAIL $TEST_NAME: mpt (${p#*:}.err) exit status $rc at SIGTERM"
		show_log "$WORK/${p#*:}.err"
		FAILED=$((FAILED + 1))
	fi
done
echo "-- counters at exit"
awk '/: exiting/ { n = NR } { l[NR] = $0 } END { for (i = n + 1; i <= NR; i++) print l[i] }' \
	"$WORK/proxy.err" | grep "counter" | grep -v " 0$" | sed 's/^/  /'
if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
