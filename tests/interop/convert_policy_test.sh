#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt convert --allow-any` is no open door into its own host (issue 11,
# finding 3).  Three namespaces (svc_lib.sh): an independent RFC 8803
# client in $NS_C, `mpt convert --allow-any --deny 10.82.0.2:7002` in $NS_V,
# echo servers in $NS_S (the legitimate destinations).  $NS_V also runs
# host-local services: 0.0.0.0:7100 and [::]:7101 (reachable on its veth
# addresses, loopback, 169.254.169.254 on lo, and an AnyIP prefix
# 10.83.0.0/24 routed locally).
#
# (a) Connect TLVs to every address of the converter's host, loopback,
#     link-local / metadata, unspecified, multicast, subnet broadcast, the
#     AnyIP prefix, the converter's own listening address, a --deny rule:
#     the right Error TLV (Malformed Message where RFC 8803 §4.2.5 forbids
#     the address in a Connect TLV, Not Authorized otherwise); legitimate
#     IPv4 and IPv6 destinations relayed (1000 B echoed).
# (b) An address added to the host while the converter runs is refused at
#     once; moved to the server namespace, it is relayed.
# (c) On the wire (dumpcap on every interface of $NS_V): no SYN ever left
#     for a refused destination; SYNs did for the legitimate ones; the
#     host-local services never saw a connection.
# (d) The converter's counters say why (policy-refused-*).
# (e) A configuration file with an error is reported as FILE:LINE; --check
#     accepts a good one and names the problems of this host.
set -uo pipefail
TEST_NAME=convert_policy
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svc_lib.sh"
interop_require
svc_require_tool dumpcap
svc_require_tool tshark
SP="$INTEROP_DIR/svc_peer.py"
CASE_TIMEOUT=${CASE_TIMEOUT:-60}

topo_svc
CONV=10.81.1.1
CPORT=5124

# Host-local services on the converter's host, and the legitimate servers.
ip -n "$NS_V" addr add 169.254.169.254/32 dev lo
ip -n "$NS_V" route add local 10.83.0.0/24 dev lo
ip netns exec "$NS_V" python3 "$SP" echo-server --bind 0.0.0.0 --port 7100 \
	--ready "$WORK/h4.ready" --count "$WORK/h4.count" 2>"$WORK/h4.err" &
INTEROP_PIDS+=($!)
ip netns exec "$NS_V" python3 "$SP" echo-server --bind :: --port 7101 \
	--ready "$WORK/h6.ready" --count "$WORK/h6.count" 2>"$WORK/h6.err" &
INTEROP_PIDS+=($!)
ip netns exec "$NS_V" python3 "$SP" echo-server --bind 0.0.0.0 --port 7103 \
	--ready "$WORK/hl.ready" --count "$WORK/hl.count" 2>"$WORK/hl.err" &
INTEROP_PIDS+=($!)
ip netns exec "$NS_S" python3 "$SP" echo-server --bind 0.0.0.0 --port 7000 \
	--ready "$WORK/s4.ready" --count "$WORK/s4.count" 2>"$WORK/s4.err" &
INTEROP_PIDS+=($!)
ip netns exec "$NS_S" python3 "$SP" echo-server --bind :: --port 7001 \
	--ready "$WORK/s6.ready" --count "$WORK/s6.count" 2>"$WORK/s6.err" &
INTEROP_PIDS+=($!)
ip netns exec "$NS_S" python3 "$SP" echo-server --bind 0.0.0.0 --port 7002 \
	--ready "$WORK/s7.ready" --count "$WORK/s7.count" 2>"$WORK/s7.err" &
INTEROP_PIDS+=($!)
for f in h4 h6 hl s4 s6 s7; do
	wait_file "$WORK/$f.ready" 10 || die "echo server $f did not start"
done

# Every TCP packet to the services' ports, on every interface of the
# converter's host (veths, loopback, the TUN device).
ip netns exec "$NS_V" dumpcap -q -i any -f "tcp port 7100 or tcp port 7101 or tcp port 7000 or tcp port 7001 or tcp port 7002 or tcp port 7103 or tcp port $CPORT" \
	-w "$WORK/wire.pcapng" 2>"$WORK/dumpcap.err" &
CAP_PID=$!
INTEROP_PIDS+=($CAP_PID)
for _ in $(seq 50); do
	grep -q "Capturing on" "$WORK/dumpcap.err" 2>/dev/null && break
	sleep 0.1
done

ip netns exec "$NS_V" "$MPT_BIN" convert --path "$CONV/24,dev=mpttun0" --allow-any \
	--deny 10.82.0.2:7002 --allow-local 10.82.0.1:7103 --allow-local 127.0.0.1:7103 \
	"$CPORT" 2>"$WORK/conv.err" &
CONV_PID=$!
INTEROP_PIDS+=($CONV_PID)
wait_route "$NS_V" "$CONV" mpttun0 10 || { show_log "$WORK/conv.err"; die "converter did not start"; }
sleep 0.3

probe() { # probe CASE...
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" python3 "$SP" policy --conv "$CONV:$CPORT" "$@"
}

echo "-- (a) refused before any connection attempt; legitimate destinations relayed"
probe \
	"host veth address (client side)=10.81.0.2:7100=32" \
	"host veth address (server side)=10.82.0.1:7100=32" \
	"subnet broadcast of the host=10.82.0.255:7100=32" \
	"loopback 127.0.0.1=127.0.0.1:7100=1" \
	"loopback 127.1.2.3=127.1.2.3:7100=1" \
	"metadata 169.254.169.254=169.254.169.254:7100=32" \
	"link-local 169.254.1.1=169.254.1.1:7100=32" \
	"AnyIP local route 10.83.0.5=10.83.0.5:7100=32" \
	"unspecified 0.0.0.0=0.0.0.0:7100=1" \
	"this-network 0.1.2.3=0.1.2.3:7100=32" \
	"multicast 224.0.0.1=224.0.0.1:7100=1" \
	"reserved 240.0.0.1=240.0.0.1:7100=32" \
	"converter's own listening address=$CONV:$CPORT=32" \
	"converter's own address, other port=$CONV:7100=32" \
	"IPv6 host address fd82::1=[fd82::1]:7101=32" \
	"IPv6 loopback ::1=[::1]:7101=1" \
	"IPv6 link-local fe80::1=[fe80::1]:7101=32" \
	"IPv6 multicast ff02::1=[ff02::1]:7101=1" \
	"IPv6 unspecified ::=[::]:7101=1" \
	"--deny 10.82.0.2:7002=10.82.0.2:7002=32" \
	"--allow-local service on the host=10.82.0.1:7103=ok" \
	"other host address, same port=10.81.0.2:7103=32" \
	"loopback despite --allow-local=127.0.0.1:7103=1" \
	"legitimate IPv4 server=10.82.0.2:7000=ok" \
	"legitimate IPv6 server=[fd82::2]:7001=ok" >"$WORK/a.out" 2>&1
rc=$?
cat "$WORK/a.out"
case_result "(a) host, loopback, link-local, AnyIP, own, multicast, denied: Error TLV; legitimate relayed" $rc

echo "-- (b) addresses that appear or move while the converter runs"
case_b() {
	local rc=0
	ip -n "$NS_V" addr add 10.82.0.77/24 dev mpt-vs || return 1
	sleep 0.3
	probe "address added to the host=10.82.0.77:7100=32" || rc=1
	ip -n "$NS_V" addr del 10.82.0.77/24 dev mpt-vs
	ip -n "$NS_S" addr add 10.82.0.77/24 dev mpt-ss
	sleep 0.3
	probe "same address, now a server's=10.82.0.77:7000=ok" || rc=1
	return $rc
}
case_b
case_result "(b) host addresses followed at runtime (netlink)" $?

kill -USR1 "$CONV_PID"
sleep 0.3
kill -INT "$CAP_PID" 2>/dev/null
wait "$CAP_PID" 2>/dev/null

echo "-- (c) on the wire: no connection attempt to a refused destination"
case_c() {
	local rc=0 syn_host syn_own syn_legit syn_deny h4 h6
	tshark -r "$WORK/wire.pcapng" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" \
		-T fields -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e tcp.dstport \
		>"$WORK/syns.txt" 2>"$WORK/tshark.err" || { show_log "$WORK/tshark.err"; return 1; }
	syn_host=$(awk '$NF == 7100 || $NF == 7101' "$WORK/syns.txt" | wc -l)
	# SYNs to the converter's own port from the converter's host itself
	# (a relay to itself); the client's SYNs come from 10.81.0.1.
	syn_own=$(awk -v p="$CPORT" '$NF == p && $1 != "10.81.0.1"' "$WORK/syns.txt" | wc -l)
	syn_deny=$(awk '$NF == 7002' "$WORK/syns.txt" | wc -l)
	syn_legit=$(awk '$NF == 7000 || $NF == 7001' "$WORK/syns.txt" | wc -l)
	h4=$(cat "$WORK/h4.count")
	h6=$(cat "$WORK/h6.count")
	echo "  SYNs seen: to the host's services $syn_host, to the converter from itself $syn_own," \
		"to the denied server $syn_deny, to legitimate servers $syn_legit" \
		"($(wc -l <"$WORK/syns.txt") SYNs in all)"
	echo "  host services accepted: 0.0.0.0:7100 $h4, [::]:7101 $h6 connection(s)"
	[ "$syn_host" = 0 ] && [ "$syn_own" = 0 ] && [ "$syn_deny" = 0 ] || rc=1
	[ "$h4" = 0 ] && [ "$h6" = 0 ] || rc=1
	# v4, v6, and the moved address: three relayed connections.
	[ "$syn_legit" -ge 3 ] || { echo "  expected >= 3 SYNs to the legitimate servers"; rc=1; }
	[ "$(cat "$WORK/s7.count")" = 0 ] || { echo "  the denied server was reached"; rc=1; }
	# --allow-local: exactly the one listed host service was reached.
	echo "  --allow-local service: $(awk '$NF == 7103' "$WORK/syns.txt" | wc -l) SYN(s), $(cat "$WORK/hl.count") connection(s)"
	[ "$(awk '$NF == 7103' "$WORK/syns.txt" | wc -l)" = 1 ] && [ "$(cat "$WORK/hl.count")" = 1 ] || rc=1
	return $rc
}
case_c
case_result "(c) dumpcap: no SYN to refused destinations, SYNs to legitimate ones" $?

echo "-- (d) counters"
case_d() {
	local rc=0 n
	grep "counter policy-" "$WORK/conv.err" | tail -n 9 | sed 's/^/  /'
	for n in host-address own-address local-route deny-rule builtin; do
		grep -q "counter policy-refused-$n [1-9]" "$WORK/conv.err" ||
			{ echo "  policy-refused-$n not counted"; rc=1; }
	done
	grep -q "counter policy-allowed [3-9]" "$WORK/conv.err" || { echo "  policy-allowed < 3"; rc=1; }
	grep -q "counter policy-allowed-local 1$" "$WORK/conv.err" || { echo "  policy-allowed-local != 1"; rc=1; }
	kill -0 "$CONV_PID" 2>/dev/null || { echo "  mpt convert died"; rc=1; }
	return $rc
}
case_d
case_result "(d) refusals counted by reason; converter alive" $?

echo "-- (e) configuration file errors (FILE:LINE) and --check"
case_e() {
	local rc=0 out
	printf '# converter\npath 10.81.1.9/24,dev=mpttun9\nallow 10.82.0.0/24:7000-7001\n\nallow 10.82.0.0/33\nlisten 5125\n' \
		>"$WORK/bad.conf"
	out=$(ip netns exec "$NS_V" "$MPT_BIN" convert --config "$WORK/bad.conf" 2>&1)
	echo "  bad file: $out"
	[[ "$out" == *"bad.conf:5: --allow: '10.82.0.0/33'"* ]] || rc=1
	printf 'path 10.81.1.9/24,dev=mpttun9\nallow 10.82.0.0/24:7000-7001\nunknown-key 1\n' \
		>"$WORK/bad2.conf"
	out=$(ip netns exec "$NS_V" "$MPT_BIN" convert --config "$WORK/bad2.conf" 5125 2>&1)
	echo "  unknown key: $out"
	[[ "$out" == *"bad2.conf:3: unknown setting 'unknown-key'"* ]] || rc=1
	printf 'path 10.81.1.9/24,dev=mpttun9\nallow 10.82.0.0/24:7000-7001\ncookie 0a0b\nuser nobody\nlisten 5125\n' \
		>"$WORK/good.conf"
	ip netns exec "$NS_V" "$MPT_BIN" convert --config "$WORK/good.conf" --check \
		>"$WORK/check.out" 2>&1
	local crc=$?
	sed 's/^/  /' "$WORK/check.out"
	[ $crc = 0 ] && grep -q "check: 0 problem(s)" "$WORK/check.out" || rc=1
	# The running converter's address is routed through its TUN: a second
	# instance on it is a problem --check names.
	printf 'path %s/24,dev=mpttun5\nallow 10.82.0.0/24\nlisten 5126\n' "$CONV" >"$WORK/clash.conf"
	ip netns exec "$NS_V" "$MPT_BIN" convert --config "$WORK/clash.conf" --check \
		>"$WORK/clash.out" 2>&1
	crc=$?
	grep "PROBLEM" "$WORK/clash.out" | sed 's/^/  /'
	[ $crc = 1 ] && grep -q "another mpt instance" "$WORK/clash.out" || rc=1
	return $rc
}
case_e
case_result "(e) config file errors as FILE:LINE; --check" $?

kill -TERM "$CONV_PID"
wait "$CONV_PID"
crc=$?
if [ $crc != 0 ] || grep -q "Sanitizer\|runtime error" "$WORK/conv.err"; then
	echo "FAIL $TEST_NAME: mpt convert exit status $crc at SIGTERM"
	show_log "$WORK/conv.err"
	FAILED=$((FAILED + 1))
fi
if [ "$FAILED" != 0 ]; then
	show_log "$WORK/conv.err"
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
