#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt proxy` + `mpt convert` (issue 6, first slice): plain TCP on both ends,
# MPTCP over two paths in between, RFC 8803 in explicit mode.
#
# Topology (two namespaces, two veth pairs, tbf $RATE on every veth end):
#   $NS_P: client apps (python) + `mpt proxy` (TUN 10.78.1.1 mpttun0, 10.79.1.1 mpttun1)
#   $NS_V: `mpt convert` (TUN 10.78.2.1 mpttun0, 10.79.2.1 mpttun1) + plain TCP
#          servers on 10.90.0.1
#   path 1: $NS_P mpt-p1p 10.78.0.1  <->  $NS_V mpt-p1v 10.78.0.2
#   path 2: $NS_P mpt-p2p 10.79.0.1  <->  $NS_V mpt-p2v 10.79.0.2
# Both namespaces route by SOURCE address (policy rules), so whatever an mpt
# address sends leaves on its own path.
#
# Cases: (a) SOCKS5 client -> proxy -> 2 paths -> convert -> server: 64 MiB
# up and 64 MiB down, SHA-256 intact, goodput printed and asserted >= $MIN_MBIT
# (target 0.9 x 2 x rate); (r) the same through iptables REDIRECT (16 MiB);
# (b) an independent RFC 8803 client (plain kernel TCP to the converter's
# TUN address): malformed header, wrong magic, unsupported version,
# truncated TLV, unknown TLV, loopback destination, destination not allowed,
# refused destination, missing / wrong cookie -> the matching Error TLV,
# nothing relayed, then a good request works; (d) the proxy maps a
# converter's Error TLV to a SOCKS5 reply code / a RST (REDIRECT); (p)
# passthrough: the proxy without --convert to a kernel MPTCP server;
# (c) $MANY short connections
# in a row through proxy + convert, all intact, within the time budget; fd
# count, VmRSS and the stack's heap of both mpt processes before/after
# (after: once TIME-WAIT, 2 x $MSL s, is over): no fd growth, RSS growth
# below $MAX_RSS_GROWTH_KB kB, stack heap back to within 1 MiB of before.
set -uo pipefail
TEST_NAME=proxy_convert
. "$(dirname "$0")/lib.sh"
interop_require
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
RATE=${RATE:-100mbit}
RATE_MBIT=${RATE%mbit}
MIN_MBIT=${MIN_MBIT:-150}
MANY=${MANY:-1000}
# TIME-WAIT (2 x MSL) holds a closed connection's control blocks (about
# 22 KiB per proxied connection with its 4 subflows); a short MSL lets the
# 1000-connection case see them go within its time budget.
MSL=${MSL:-1}
# Under AddressSanitizer freed memory sits in its quarantine (256 MB at
# most by default) and RSS says little: a larger bound there; the stack heap
# (counted by the allocator hooks) is exact in both builds.
if ldd "$MPT_BIN" 2>/dev/null | grep -q libasan || grep -qa "__asan_init" "$MPT_BIN"; then
	MAX_RSS_GROWTH_KB=${MAX_RSS_GROWTH_KB:-65536}
else
	MAX_RSS_GROWTH_KB=${MAX_RSS_GROWTH_KB:-20480}
fi
MANY_BUDGET=${MANY_BUDGET:-60}
SIZE_MIB=${SIZE_MIB:-64}
CASE_TIMEOUT=${CASE_TIMEOUT:-120}
PP="$INTEROP_DIR/proxy_peer.py"
COOKIE=c0ffee0123456789

TOPO_V_SRCROUTE=1 topo_proxy_paths "mpt-px-$$" "mpt-cv-$$" mpt-pxcv
# The redirect client connects to 10.90.0.1 from $NS_P: it needs a route
# (the nat OUTPUT rule then sends it to the proxy instead).
ip -n "$NS_P" route add 10.90.0.0/24 via 10.78.0.2

CONV=10.78.2.1
CPORT=5124
SRV=10.90.0.1
MPT_P=(--path "10.78.1.1/24,dev=mpttun0" --path "10.79.1.1/24,dev=mpttun1")
MPT_V=(--path "$CONV/24,dev=mpttun0" --path "10.79.2.1/24,dev=mpttun1")

# Servers in $NS_V: an echo server (port 7000, counts connections) and, per
# case, a one-shot sink/source server.
ip netns exec "$NS_V" python3 "$PP" echo-server --port 7000 --ready "$WORK/echo.ready" \
	--count "$WORK/echo.count" 2>"$WORK/echo.err" &
INTEROP_PIDS+=($!)
wait_file "$WORK/echo.ready" 10 || die "echo server did not start"

ip netns exec "$NS_V" "$MPT_BIN" convert "${MPT_V[@]}" --msl "$MSL" --cookie "$COOKIE" \
	--allow-local 10.90.0.1/32:7000 --allow-local 10.90.0.1:5001-5003 \
	--allow-local 10.90.0.1:7001 "$CPORT" 2>"$WORK/conv.err" &
CONV_PID=$!
INTEROP_PIDS+=($CONV_PID)
ip netns exec "$NS_P" "$MPT_BIN" proxy --socks5 --convert "$CONV:$CPORT" --cookie "$COOKIE" \
	--msl "$MSL" "${MPT_P[@]}" 127.0.0.1:1080 2>"$WORK/proxy.err" &
PROXY_PID=$!
INTEROP_PIDS+=($PROXY_PID)
ip netns exec "$NS_P" "$MPT_BIN" proxy --redirect --convert "$CONV:$CPORT" --cookie "$COOKIE" \
	--path "10.78.1.2/24,dev=mpttun2" --path "10.79.1.2/24,dev=mpttun3" 1081 \
	2>"$WORK/proxy_r.err" &
PROXYR_PID=$!
INTEROP_PIDS+=($PROXYR_PID)
wait_route "$NS_V" "$CONV" mpttun0 10 || { show_log "$WORK/conv.err"; die "converter did not start"; }
wait_route "$NS_P" 10.79.1.1 mpttun1 10 || { show_log "$WORK/proxy.err"; die "proxy did not start"; }
wait_route "$NS_P" 10.79.1.2 mpttun3 10 || { show_log "$WORK/proxy_r.err"; die "redirect proxy did not start"; }
sleep 0.3

pstat() { # pstat PID LOG: "fds N rss KB heap B"
	local heap
	kill -USR1 "$1" 2>/dev/null
	sleep 0.2
	heap=$(awk '/counter stack-heap-bytes/ { v = $NF } END { print v }' "$2")
	echo "fds $(ls "/proc/$1/fd" 2>/dev/null | wc -l) rss $(awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null) kB stack-heap $((${heap:-0} / 1024)) kB"
}
alive() {
	kill -0 "$CONV_PID" 2>/dev/null || { echo "  mpt convert died"; show_log "$WORK/conv.err"; return 1; }
	kill -0 "$PROXY_PID" 2>/dev/null || { echo "  mpt proxy died"; show_log "$WORK/proxy.err"; return 1; }
}
mbit() { # mbit BYTES SECONDS
	python3 -c "print('%.1f' % ($1 * 8 / $2 / 1e6))"
}

# (a) 64 MiB each way (one direction at a time) through SOCKS5 -> proxy ->
# convert -> server.
# bulk NAME PORT DIRECTION(up|down) MIB MODE(socks|redirect)
bulk() {
	local name=$1 port=$2 dir=$3 mib=$4 mode=$5
	local d="$WORK/$name"
	mkdir -p "$d"
	head -c "${mib}M" /dev/urandom >"$d/data"
	local ssend="" scli=""
	if [ "$dir" = up ]; then
		ssend=(--recv-out "$d/got")
		scli=(--send "$d/data")
	else
		ssend=(--send "$d/data" --recv-out /dev/null)
		scli=(--recv-out "$d/got")
	fi
	ip netns exec "$NS_V" timeout "$CASE_TIMEOUT" python3 "$PP" sink-server --port "$port" \
		"${ssend[@]}" --ready "$d/ready" >"$d/srv.out" 2>"$d/srv.err" &
	local spid=$!
	INTEROP_PIDS+=($spid)
	wait_file "$d/ready" 10 || { echo "  server did not start"; return 1; }
	local crc
	if [ "$mode" = socks ]; then
		ip netns exec "$NS_P" timeout "$CASE_TIMEOUT" python3 "$PP" socks --proxy 127.0.0.1:1080 \
			--dest "$SRV:$port" "${scli[@]}" >"$d/cli.out" 2>"$d/cli.err"
		crc=$?
	else
		ip netns exec "$NS_P" timeout "$CASE_TIMEOUT" python3 "$PP" direct \
			--dest "$SRV:$port" "${scli[@]}" >"$d/cli.out" 2>"$d/cli.err"
		crc=$?
	fi
	wait "$spid"
	local src=$?
	# Goodput is timed by the receiver: the sender finishes as soon as its
	# data sits in the proxy's and the stack's buffers.
	local secs
	if [ "$dir" = up ]; then
		secs=$(awk '/^elapsed/ { print $2 }' "$d/srv.out")
	else
		secs=$(awk '/^elapsed/ { print $2 }' "$d/cli.out")
	fi
	local rc=0
	[ $crc = 0 ] && [ $src = 0 ] || { echo "  client exit $crc, server exit $src"; rc=1; }
	same_file "$dir $mib MiB" "$d/data" "$d/got" || rc=1
	if [ -n "$secs" ]; then
		LAST_MBIT=$(mbit $((mib * 1048576)) "$secs")
		echo "  $dir: $mib MiB in $secs s: $LAST_MBIT Mbit/s goodput" \
			"(2 paths x $RATE_MBIT Mbit/s; target $((RATE_MBIT * 18 / 10)))"
	else
		LAST_MBIT=0
	fi
	[ $rc = 0 ] || { show_log "$d/cli.err"; show_log "$d/srv.err"; }
	return $rc
}

echo "-- (a) SOCKS5 client -> mpt proxy -> 2 x $RATE -> mpt convert -> TCP server, $SIZE_MIB MiB up, then down"
case_a() {
	local rc=0 up down
	bulk a_up 5001 up "$SIZE_MIB" socks || rc=1
	up=$LAST_MBIT
	bulk a_down 5002 down "$SIZE_MIB" socks || rc=1
	down=$LAST_MBIT
	grep -E "10.90.0.1:500[12].*ended" "$WORK/conv.err" | sed 's/^/  convert: /'
	grep -E "10.90.0.1:500[12].*ended" "$WORK/proxy.err" | sed 's/^/  proxy:   /'
	python3 -c "import sys; sys.exit(0 if $up >= $MIN_MBIT and $down >= $MIN_MBIT else 1)" ||
		{ echo "  goodput below $MIN_MBIT Mbit/s (up $up, down $down)"; rc=1; }
	grep -q "10.90.0.1:5001.*MPTCP, [2-9] subflows" "$WORK/proxy.err" ||
		{ echo "  the proxy did not report >= 2 MPTCP subflows"; rc=1; }
	alive || rc=1
	return $rc
}
case_a
case_result "(a) proxy + convert, $SIZE_MIB MiB each way over 2 paths" $?

echo "-- (r) transparent: iptables REDIRECT -> mpt proxy --redirect -> convert, 16 MiB up"
case_r() {
	if ! ip netns exec "$NS_P" iptables -t nat -A OUTPUT -p tcp -d "$SRV" --dport 5003 \
		-j REDIRECT --to-ports 1081 2>"$WORK/ipt.err"; then
		echo "  iptables REDIRECT unavailable: $(head -n1 "$WORK/ipt.err") (not counted)"
		return 0
	fi
	bulk r 5003 up 16 redirect || return 1
	grep -q "10.90.0.1:5003 (converted).*ended: clean" "$WORK/proxy_r.err" ||
		{ echo "  no clean relay line in the redirect proxy's log"; show_log "$WORK/proxy_r.err"; return 1; }
}
case_r
case_result "(r) REDIRECT mode" $?

echo "-- (b) RFC 8803 errors from an independent plain-TCP client to the converter"
case_b() {
	local before after rc=0
	before=$(cat "$WORK/echo.count" 2>/dev/null || echo 0)
	ip netns exec "$NS_P" timeout "$CASE_TIMEOUT" python3 "$PP" rfc8803 --conv "$CONV:$CPORT" \
		--good "$SRV:7000" --denied "$SRV:22" --refused "$SRV:7001" --cookie "$COOKIE" \
		2>"$WORK/b.err" || rc=1
	after=$(cat "$WORK/echo.count" 2>/dev/null || echo 0)
	echo "  echo server connections: $before -> $after (only the good request may reach it)"
	[ $((after - before)) = 1 ] || { echo "  expected exactly 1 relayed connection"; rc=1; }
	grep "refused:" "$WORK/conv.err" | sed 's/^/  convert: /' | tail -n 12
	alive || rc=1
	[ $rc = 0 ] || show_log "$WORK/b.err"
	return $rc
}
case_b
case_result "(b) RFC 8803 error TLVs; converter keeps serving" $?

echo "-- (d) converter errors reach the client: SOCKS5 reply code / RST (REDIRECT)"
case_d() {
	local rc=0 out
	out=$(ip netns exec "$NS_P" timeout 30 python3 "$PP" expect-fail --proxy 127.0.0.1:1080 \
		--dest "$SRV:22" --socks-code 2) || rc=1
	echo "  SOCKS5 to a destination not in the allow-list: $out (want 2)"
	out=$(ip netns exec "$NS_P" timeout 30 python3 "$PP" expect-fail --proxy 127.0.0.1:1080 \
		--dest "$SRV:7001" --socks-code 5) || rc=1
	echo "  SOCKS5 to a refusing destination: $out (want 5)"
	if ip netns exec "$NS_P" iptables -t nat -A OUTPUT -p tcp -d "$SRV" --dport 22 \
		-j REDIRECT --to-ports 1081 2>/dev/null; then
		out=$(ip netns exec "$NS_P" timeout 30 python3 "$PP" expect-fail --dest "$SRV:22") || rc=1
		echo "  REDIRECT to a destination not in the allow-list: $out"
	fi
	grep -q "counter error-not-authorized" "$WORK/proxy.err" || kill -USR1 $PROXY_PID
	alive || rc=1
	return $rc
}
case_d
case_result "(d) Error TLV -> SOCKS5 code / RST" $?

echo "-- (p) passthrough: mpt proxy --socks5 (no --convert) -> kernel MPTCP server, 8 MiB up"
case_p() {
	if ! ip netns exec "$NS_V" sysctl -qw net.mptcp.enabled=1 2>/dev/null ||
		! command -v mptcpize >/dev/null; then
		echo "  no kernel MPTCP or no mptcpize here (not counted)"
		return 0
	fi
	ip -n "$NS_V" mptcp limits set subflow 4 add_addr_accepted 4 2>/dev/null
	ip netns exec "$NS_P" "$MPT_BIN" proxy --socks5 --path "10.78.1.3/24,dev=mpttun4" \
		--path "10.79.1.3/24,dev=mpttun5" 127.0.0.1:1082 2>"$WORK/proxy_p.err" &
	local ppid=$!
	INTEROP_PIDS+=($ppid)
	wait_route "$NS_P" 10.79.1.3 mpttun5 10 || { show_log "$WORK/proxy_p.err"; return 1; }
	local d="$WORK/p" rc=0
	mkdir -p "$d"
	head -c 8M /dev/urandom >"$d/data"
	ip netns exec "$NS_V" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PP" sink-server \
		--port 5004 --recv-out "$d/got" --ready "$d/ready" >/dev/null 2>"$d/srv.err" &
	local spid=$!
	wait_file "$d/ready" 10 || { echo "  server did not start"; return 1; }
	( sleep 0.3; ip netns exec "$NS_V" ss -Mni >"$d/ss.txt" 2>&1 ) &
	ip netns exec "$NS_P" timeout "$CASE_TIMEOUT" python3 "$PP" socks --proxy 127.0.0.1:1082 \
		--dest "$SRV:5004" --send "$d/data" >/dev/null 2>"$d/cli.err" || rc=1
	wait "$spid" || rc=1
	same_file "passthrough 8 MiB" "$d/data" "$d/got" || rc=1
	kill -TERM $ppid
	wait $ppid
	grep "10.90.0.1:5004" "$WORK/proxy_p.err" | sed 's/^/  proxy: /'
	echo "  kernel: MPCapableSYNRX $(kcounter "$NS_V" MPTcpExtMPCapableSYNRX)," \
		"MPJoinSynRx $(kcounter "$NS_V" MPTcpExtMPJoinSynRx)," \
		"MPJoinAckRx $(kcounter "$NS_V" MPTcpExtMPJoinAckRx)"
	grep -q "10.90.0.1:5004: .*MPTCP, [1-9] subflows, ended: clean" "$WORK/proxy_p.err" ||
		{ echo "  expected a clean MPTCP relay"; rc=1; }
	grep -q "counter passthroughs 1" "$WORK/proxy_p.err" || { echo "  passthrough not counted"; rc=1; }
	[ $rc = 0 ] || { show_log "$WORK/proxy_p.err"; show_log "$d/srv.err"; show_log "$d/cli.err"; }
	return $rc
}
case_p
case_result "(p) passthrough to a kernel MPTCP server" $?

echo "-- (c) $MANY short connections in a row through proxy + convert"
case_c() {
	local rc=0 p0 c0 p1 c1 pf0 cf0 pf1 cf1
	# Warm up (first-use allocations), then measure.
	ip netns exec "$NS_P" timeout "$CASE_TIMEOUT" python3 "$PP" many --proxy 127.0.0.1:1080 \
		--dest "$SRV:7000" -n 20 --seed 2 >/dev/null 2>&1
	sleep 0.5
	p0=$(pstat $PROXY_PID "$WORK/proxy.err")
	c0=$(pstat $CONV_PID "$WORK/conv.err")
	ip netns exec "$NS_P" timeout "$CASE_TIMEOUT" python3 "$PP" many --proxy 127.0.0.1:1080 \
		--dest "$SRV:7000" -n "$MANY" --seed 3 2>"$WORK/c.err" >"$WORK/c.out" || rc=1
	sed 's/^/  /' "$WORK/c.out"
	# TIME-WAIT is 2 x MSL; then the idle loop gives freed pages back.
	sleep $((2 * MSL + 3))
	p1=$(pstat $PROXY_PID "$WORK/proxy.err")
	c1=$(pstat $CONV_PID "$WORK/conv.err")
	echo "  mpt proxy:   before: $p0; after: $p1"
	echo "  mpt convert: before: $c0; after: $c1"
	if [ "${SETTLE:-0}" != 0 ]; then
		# Diagnostic: does anything else go later?
		sleep "$SETTLE"
		echo "  after ${SETTLE}s more: proxy $(pstat $PROXY_PID "$WORK/proxy.err"); convert $(pstat $CONV_PID "$WORK/conv.err")"
	fi
	pf0=$(echo "$p0" | awk '{ print $2 }')
	pf1=$(echo "$p1" | awk '{ print $2 }')
	cf0=$(echo "$c0" | awk '{ print $2 }')
	cf1=$(echo "$c1" | awk '{ print $2 }')
	[ "$pf1" -le "$pf0" ] || { echo "  proxy fd count grew"; rc=1; }
	[ "$cf1" -le "$cf0" ] || { echo "  converter fd count grew"; rc=1; }
	# field 4: VmRSS kB; field 7: stack heap kB
	local who v0 v1
	for who in proxy convert; do
		if [ $who = proxy ]; then v0=$p0 v1=$p1; else v0=$c0 v1=$c1; fi
		local r0 r1 h0 h1
		r0=$(echo "$v0" | awk '{ print $4 }')
		r1=$(echo "$v1" | awk '{ print $4 }')
		h0=$(echo "$v0" | awk '{ print $7 }')
		h1=$(echo "$v1" | awk '{ print $7 }')
		echo "  $who: RSS growth $((r1 - r0)) kB (bound $MAX_RSS_GROWTH_KB), stack heap growth $((h1 - h0)) kB (bound 1024)"
		[ $((r1 - r0)) -lt "$MAX_RSS_GROWTH_KB" ] || { echo "  $who RSS grew too much"; rc=1; }
		[ $((h1 - h0)) -lt 1024 ] || { echo "  $who stack heap grew"; rc=1; }
	done
	local secs
	secs=$(awk '/^many:/ { print $6 }' "$WORK/c.out")
	echo "  $MANY connections in $secs s (budget $MANY_BUDGET s)"
	python3 -c "import sys; sys.exit(0 if float('${secs:-999}') < $MANY_BUDGET else 1)" ||
		{ echo "  over the time budget"; rc=1; }
	alive || rc=1
	[ $rc = 0 ] || show_log "$WORK/c.err"
	return $rc
}
case_c
case_result "(c) $MANY short connections: intact, no fd / memory growth" $?

# Counters at exit (SIGTERM): printed by both programs.
# Exit status 0 on SIGTERM; sanitizer builds report leaks/errors here too.
kill -TERM "$PROXY_PID" "$CONV_PID" "$PROXYR_PID" 2>/dev/null
for p in "$PROXY_PID:proxy" "$CONV_PID:conv" "$PROXYR_PID:proxy_r"; do
	wait "${p%%:*}"
	rc=$?
	if [ $rc != 0 ] || grep -q "Sanitizer\|runtime error" "$WORK/${p#*:}.err"; then
		echo "FAIL $TEST_NAME: mpt (${p#*:}.err) exit status $rc at SIGTERM"
		show_log "$WORK/${p#*:}.err"
		FAILED=$((FAILED + 1))
	fi
done
echo "-- counters"
# (the block after the last "exiting" line: SIGUSR1 printed earlier ones)
final_counters() {
	awk '/: exiting/ { n = NR } { l[NR] = $0 } END { for (i = n + 1; i <= NR; i++) print l[i] }' "$1" |
		grep "counter" | grep -v " 0$" | sed 's/^/  /'
}
final_counters "$WORK/proxy.err"
final_counters "$WORK/conv.err"
grep -q "mpt convert: counter conversions [1-9]" "$WORK/conv.err" ||
	{ echo "  no conversions counted"; FAILED=$((FAILED + 1)); }

if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
