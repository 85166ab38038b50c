#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A join mpt opens to a Linux MPTCP listener starts with a mapping at the
# DATA_ACK of the listener's fourth ACK (src/mptcp/sched.c join_first).
#
# Why: Linux 6.18 completes a passive join at the connection level only
# when the application releases the connection's lock; it then sets the
# join's current mapping to its connection-level ack_seq
# (mptcp_subflow_joined).  If the join's first data arrived in between,
# its mapping is rebased: those bytes are delivered at that ack_seq (the
# fourth ACK's DATA_ACK) whatever DSN the mapping said.  mpt used to
# start a join with new data while earlier data was still in flight, and
# now and then one window of the stream came out replaced by later bytes
# (found through `mpt proxy`, a kernel MPTCP echo server, ctl_test (g)
# and proxy_threads_test (p); docs/mptcp-design.md, "Linux's late join").
# The corruption itself needs the server application to hold its lock at
# the wrong microsecond; what mpt puts on the wire is checked every time.
#
# Cases:
# (a) $N SOCKS5 connections through `mpt proxy` (two paths; the kernel
#     announces its second address and mpt joins it) to a kernel MPTCP
#     echo server, 2 MiB each way, every echo compared byte for byte.
# (b) In a capture of both server-side veths (dumpcap, 128 bytes per
#     packet), join_first.py: every join that carried data starts at its
#     fourth ACK's DATA_ACK (or after the listener's DATA_ACK moved past
#     it: the join was complete), at least $N/2 joins checked, and at
#     least one of them started while data beyond that point was already
#     in flight (the case that matters: the check is not vacuous).
set -uo pipefail
TEST_NAME=join_first
. "$(dirname "$0")/lib.sh"
interop_require
command -v dumpcap >/dev/null || skip "dumpcap (tshark) is not installed"
command -v mptcpize >/dev/null || skip "mptcpize is not installed"
N=${N:-12}

topo_two_paths
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
done
# The kernel announces its second address (ADD_ADDR) and routes by source.
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s id 7 signal ||
	die "ip mptcp endpoint add failed"
ip -n "$NS_S" route add default via 10.79.0.1 dev mpt-p2s table 207
ip -n "$NS_S" rule add from "$SRV_B" table 207 pref 207
PP="$INTEROP_DIR/proxy_peer.py"
head -c 2M /dev/urandom >"$WORK/data"

ip netns exec "$NS_S" timeout 120 mptcpize run python3 "$PP" echo-server --port 5210 \
	--ready "$WORK/srv.ready" >/dev/null 2>"$WORK/srv.err" &
INTEROP_PIDS+=($!)
wait_file "$WORK/srv.ready" 10 || die "the echo server did not start"
ip netns exec "$NS_C" "$MPT_BIN" proxy --socks5 --path "10.78.1.5/24,dev=mpttun2" \
	--path "10.79.1.5/24,dev=mpttun3" 127.0.0.1:1090 2>"$WORK/proxy.err" &
PROXY_PID=$!
INTEROP_PIDS+=($PROXY_PID)
wait_route "$NS_C" 10.79.1.5 mpttun3 10 || { show_log "$WORK/proxy.err"; die "proxy did not start"; }
for i in 1 2; do
	ip netns exec "$NS_S" timeout 120 dumpcap -q -P -s 128 -i "mpt-p${i}s" \
		-f "tcp port 5210" -w "$WORK/p$i.pcap" >"$WORK/dumpcap$i.log" 2>&1 &
	INTEROP_PIDS+=($!)
	eval "CAP$i=\$!"
done
sleep 1.5 # dumpcap needs a moment before it captures

echo "-- (a) $N connections, 2 MiB echoed each, through mpt proxy to a kernel MPTCP server"
rc=0
for k in $(seq "$N"); do
	rm -f "$WORK/got"
	if ! ip netns exec "$NS_C" timeout 30 python3 "$PP" socks --proxy 127.0.0.1:1090 \
		--dest "$SRV_A:5210" --send "$WORK/data" --recv-out "$WORK/got" \
		>/dev/null 2>"$WORK/cli.err"; then
		echo "  connection $k: the SOCKS client failed"
		show_log "$WORK/cli.err"
		rc=1
	fi
	same_file "connection $k" "$WORK/data" "$WORK/got" >"$WORK/same.out" ||
		{ cat "$WORK/same.out"; rc=1; }
done
kill -0 "$PROXY_PID" 2>/dev/null || { echo "  mpt proxy died"; rc=1; }
case_result "(a) $N echoes of 2 MiB intact" $rc

echo "-- (b) every join's first mapping at its fourth ACK's DATA_ACK (capture)"
sleep 0.5
kill "$CAP1" "$CAP2" 2>/dev/null
wait "$CAP1" "$CAP2" 2>/dev/null
rc=0
python3 "$INTEROP_DIR/join_first.py" "$WORK/p1.pcap" "$WORK/p2.pcap" >"$WORK/joins.out" 2>&1 || rc=1
grep -v ": ok" "$WORK/joins.out" | sed 's/^/  /'
summary=$(tail -n 1 "$WORK/joins.out")
read -r _ joins _ _ _ bad _ copies <<<"$summary"
echo "  $(grep -c ": ok" "$WORK/joins.out") joins ok"
[ "${joins:-0}" -ge $((N / 2)) ] || { echo "  fewer than $((N / 2)) joins carried data"; rc=1; }
[ "${bad:-1}" = 0 ] || rc=1
[ "${copies:-0}" -ge 1 ] || { echo "  no join started with data in flight: the check says nothing"; rc=1; }
case_result "(b) first mappings of joins at the fourth ACK's DATA_ACK" $rc

if [ "$FAILED" != 0 ]; then
	show_log "$WORK/proxy.err"
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
