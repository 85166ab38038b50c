#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt proxy --tproxy`: a plain TCP client whose traffic is routed through
# the proxy's namespace is intercepted there by an iptables TPROXY rule (no
# NAT: the proxy reads the original destination from the accepted socket's
# local address) and carried over MPTCP on two paths to an `mpt convert`,
# which speaks plain TCP to the server.
#
# Topology: topo_proxy_paths ($NS_P proxy, $NS_V converter + server
# 10.90.0.1, two shaped paths) plus a client namespace:
#   $NS_C mpt-cc 10.91.0.2/24 (default route via 10.91.0.1)  <->
#   $NS_P mpt-cp 10.91.0.1/24 (forwards; routes 10.90.0.0/24 towards $NS_V)
# In $NS_P: iptables -t mangle -A PREROUTING -p tcp -s 10.91.0.0/24 -j TPROXY
# --on-port 1081 --tproxy-mark 1/1; ip rule fwmark 1/1 lookup 100; table 100:
# local 0.0.0.0/0 dev lo.  The rule matches only the client's network, so
# the proxy's own MPTCP packets (entering from its TUN devices) pass.
#
# Cases: (t) 8 MiB up client -> 10.90.0.1:5003 (intercepted) -> proxy ->
# convert -> server, SHA-256 intact, a clean converted relay in the proxy's
# log; (l) a connection straight to the proxy port on $NS_P's own address
# (also intercepted: its local address is the proxy itself) is reset, not
# relayed to itself.  Skipped when the kernel rejects the TPROXY target.
set -uo pipefail
TEST_NAME=proxy_tproxy
. "$(dirname "$0")/lib.sh"
interop_require
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
command -v iptables >/dev/null || skip "iptables is not installed"
RATE=${RATE:-100mbit}
SIZE_MIB=${SIZE_MIB:-8}
CASE_TIMEOUT=${CASE_TIMEOUT:-30}
PP="$INTEROP_DIR/proxy_peer.py"

TOPO_V_SRCROUTE=1 topo_proxy_paths "mpt-tpx-$$" "mpt-tcv-$$" mpt-tproxy
NS_C="mpt-tcl-$$"
ip netns add "$NS_C" || die "ip netns add $NS_C"
INTEROP_NS+=("$NS_C")
ip link add mpt-cc netns "$NS_C" type veth peer name mpt-cp netns "$NS_P" ||
	die "cannot create the client veth pair"
ip -n "$NS_C" link set lo up
ip -n "$NS_C" addr add 10.91.0.2/24 dev mpt-cc
ip -n "$NS_C" link set mpt-cc up
ip -n "$NS_C" route add default via 10.91.0.1
ip -n "$NS_P" addr add 10.91.0.1/24 dev mpt-cp
ip netns exec "$NS_P" sysctl -qw net.ipv4.conf.mpt-cp.rp_filter=0 >/dev/null
ip -n "$NS_P" link set mpt-cp up
# Without the interception the client's packets would be forwarded this way.
ip -n "$NS_P" route add 10.90.0.0/24 via 10.78.0.2

if ! ip netns exec "$NS_P" iptables -t mangle -A PREROUTING -p tcp -s 10.91.0.0/24 \
	-j TPROXY --on-port 1081 --tproxy-mark 1/1 2>"$WORK/ipt.err"; then
	skip "iptables TPROXY target rejected (xt_TPROXY / nf_tproxy missing?): $(head -n1 "$WORK/ipt.err")"
fi
ip -n "$NS_P" rule add fwmark 1/1 lookup 100 pref 90 || die "ip rule fwmark"
ip -n "$NS_P" route add local 0.0.0.0/0 dev lo table 100 || die "local route in table 100"

CONV=10.78.2.1
CPORT=5124
SRV=10.90.0.1
ip netns exec "$NS_V" "$MPT_BIN" convert --path "$CONV/24,dev=mpttun0" \
	--path "10.79.2.1/24,dev=mpttun1" --allow-local 10.90.0.1:5003 "$CPORT" 2>"$WORK/conv.err" &
CONV_PID=$!
INTEROP_PIDS+=($CONV_PID)
ip netns exec "$NS_P" "$MPT_BIN" proxy --tproxy --convert "$CONV:$CPORT" \
	--path "10.78.1.1/24,dev=mpttun0" --path "10.79.1.1/24,dev=mpttun1" 1081 \
	2>"$WORK/proxy.err" &
PROXY_PID=$!
INTEROP_PIDS+=($PROXY_PID)
wait_route "$NS_V" "$CONV" mpttun0 10 || { show_log "$WORK/conv.err"; die "converter did not start"; }
wait_route "$NS_P" 10.79.1.1 mpttun1 10 || { show_log "$WORK/proxy.err"; die "proxy did not start"; }
sleep 0.3
kill -0 "$PROXY_PID" 2>/dev/null || { show_log "$WORK/proxy.err"; die "proxy exited"; }

echo "-- (t) client -> TPROXY -> mpt proxy --tproxy -> 2 x $RATE -> mpt convert -> server, $SIZE_MIB MiB up"
case_t() {
	local d="$WORK/t" rc=0
	mkdir -p "$d"
	head -c "${SIZE_MIB}M" /dev/urandom >"$d/data"
	ip netns exec "$NS_V" timeout "$CASE_TIMEOUT" python3 "$PP" sink-server --port 5003 \
		--recv-out "$d/got" --ready "$d/ready" >"$d/srv.out" 2>"$d/srv.err" &
	local spid=$!
	INTEROP_PIDS+=($spid)
	wait_file "$d/ready" 10 || { echo "  server did not start"; return 1; }
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" python3 "$PP" direct --dest "$SRV:5003" \
		--send "$d/data" >"$d/cli.out" 2>"$d/cli.err" || { echo "  client failed"; rc=1; }
	wait "$spid" || { echo "  server failed"; rc=1; }
	same_file "up $SIZE_MIB MiB" "$d/data" "$d/got" || rc=1
	local secs
	secs=$(awk '/^elapsed/ { print $2 }' "$d/srv.out")
	[ -n "$secs" ] && echo "  $SIZE_MIB MiB in $secs s:" \
		"$(python3 -c "print('%.1f' % ($SIZE_MIB * 8388608 / $secs / 1e6))") Mbit/s goodput"
	sleep 0.3
	grep -E "10.91.0.2:[0-9]+ -> 10.90.0.1:5003" "$WORK/proxy.err" | sed 's/^/  proxy: /'
	grep -q "10.90.0.1:5003 (converted).*ended: clean" "$WORK/proxy.err" ||
		{ echo "  no clean converted relay line in the proxy's log"; rc=1; }
	local pkts
	pkts=$(ip netns exec "$NS_P" iptables -t mangle -vnL PREROUTING | awk '/TPROXY/ { print $1; exit }')
	echo "  TPROXY rule matched ${pkts:-?} packets"
	[ $rc = 0 ] || { show_log "$WORK/proxy.err"; show_log "$d/cli.err"; show_log "$d/srv.err"; }
	return $rc
}
case_t
case_result "(t) TPROXY mode, $SIZE_MIB MiB intact through proxy + convert" $?

echo "-- (l) a connection to the proxy's own address and port is reset (no loop)"
case_l() {
	local out rc=0
	out=$(ip netns exec "$NS_C" timeout 20 python3 "$PP" expect-fail --dest 10.91.0.1:1081) || rc=1
	echo "  client: $out"
	grep -q "10.91.0.1:1081: failed: connection was not sent by TPROXY" "$WORK/proxy.err" ||
		{ echo "  the proxy did not log the refusal"; rc=1; }
	kill -0 "$PROXY_PID" 2>/dev/null || { echo "  mpt proxy died"; rc=1; }
	return $rc
}
case_l
case_result "(l) connection to the proxy itself refused" $?

kill -TERM "$PROXY_PID" "$CONV_PID" 2>/dev/null
for p in "$PROXY_PID:proxy" "$CONV_PID:conv"; do
	wait "${p%%:*}"
	rc=$?
	if [ $rc != 0 ] || grep -q "Sanitizer\|runtime error" "$WORK/${p#*:}.err"; then
		echo "FAIL $TEST_NAME: mpt (${p#*:}.err) exit status $rc at SIGTERM"
		show_log "$WORK/${p#*:}.err"
		FAILED=$((FAILED + 1))
	fi
done
echo "-- counters (proxy)"
awk '/: exiting/ { n = NR } { l[NR] = $0 } END { for (i = n + 1; i <= NR; i++) print l[i] }' \
	"$WORK/proxy.err" | grep "counter" | grep -v " 0$" | sed 's/^/  /'
grep -q "mpt proxy: counter conversions 1$" "$WORK/proxy.err" ||
	{ echo "  expected exactly 1 conversion"; FAILED=$((FAILED + 1)); }

if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
