#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The transparent on-path converter (`mpt onpath`, issue 6 must-show 2).
#
# Topology (three namespaces):
#   client (kernel MPTCP)  --path 1: 10.60.1.2 <-> 10.60.1.1--+
#                          --path 2: 10.60.2.2 <-> 10.60.2.1--+ box: routes,
#                                         10.61.0.1 <-> 10.61.0.2 server
# The box forwards between the client's two paths and the server.  Policy
# routing sends every packet it would forward into mpt's TUN (mpttun0);
# `mpt onpath` either writes it back (forward) or terminates it.
#
# Cases (each with both directions of data checked by SHA-256):
# (c) kernel MPTCP client (mptcpize, endpoint for its 2nd path) -> a plain
#     TCP server: converted at the box: the client's kernel counts an
#     MP_CAPABLE SYN/ACK and its joins, the server sees plain TCP from the
#     box's address, onpath counts one conversion;
# (p) the same client -> a kernel MPTCP server (mptcpize): passthrough: the
#     server's kernel counts the MP_CAPABLE SYN and the join, its peer is
#     the client's address (not the box's; `ss -M` sampled as an
#     illustration), onpath counts one passthrough and no conversion.
set -uo pipefail
TEST_NAME=onpath
. "$(dirname "$0")/lib.sh"
interop_require
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v nstat >/dev/null || skip "nstat (iproute2) is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"

NS_C="mpt-opc-$$"
NS_B="mpt-opb-$$"
NS_S="mpt-ops-$$"
WORK=$(mktemp -d /tmp/mpt-interop.XXXXXX)
trap interop_cleanup EXIT
for ns in "$NS_C" "$NS_B" "$NS_S"; do
	ip netns add "$ns" || die "ip netns add $ns"
	INTEROP_NS+=("$ns")
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.mptcp.enabled=1 >/dev/null || die "sysctl in $ns"
done
ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
for i in 1 2; do
	ip link add "mpt-oc$i" netns "$NS_C" type veth peer name "mpt-ob$i" netns "$NS_B" ||
		die "veth $i"
	ip -n "$NS_C" addr add "10.60.$i.2/24" dev "mpt-oc$i"
	ip -n "$NS_B" addr add "10.60.$i.1/24" dev "mpt-ob$i"
	ip -n "$NS_C" link set "mpt-oc$i" up
	ip -n "$NS_B" link set "mpt-ob$i" up
	ip netns exec "$NS_B" sysctl -qw "net.ipv4.conf.mpt-ob$i.rp_filter=0" >/dev/null
done
ip link add mpt-obs netns "$NS_B" type veth peer name mpt-os netns "$NS_S" || die "veth s"
ip -n "$NS_B" addr add 10.61.0.1/24 dev mpt-obs
ip -n "$NS_S" addr add 10.61.0.2/24 dev mpt-os
ip -n "$NS_B" link set mpt-obs up
ip -n "$NS_S" link set mpt-os up
ip netns exec "$NS_B" sysctl -qw net.ipv4.conf.mpt-obs.rp_filter=0 >/dev/null
ip -n "$NS_S" route add default via 10.61.0.1
# The client: path 1 is the default route, path 2 by source.
ip -n "$NS_C" route add default via 10.60.1.1 dev mpt-oc1
ip -n "$NS_C" route add default via 10.60.2.1 dev mpt-oc2 table 102
ip -n "$NS_C" rule add from 10.60.2.2 table 102 pref 102
ip -n "$NS_C" mptcp limits set subflow 4 add_addr_accepted 4
ip -n "$NS_C" mptcp endpoint add 10.60.2.2 dev mpt-oc2 subflow
ip -n "$NS_S" mptcp limits set subflow 4 add_addr_accepted 4

# The box: mpt onpath on TUN mpttun0 (its own address 10.62.0.1 is only the
# device's); everything forwarded from the three veths goes into the TUN.
ip netns exec "$NS_B" "$MPT_BIN" onpath --path 10.62.0.1/32,dev=mpttun0 -v \
	>"$WORK/onpath.out" 2>"$WORK/onpath.err" &
OPID=$!
INTEROP_PIDS+=("$OPID")
wait_route "$NS_B" 10.62.0.1 mpttun0 10 || { show_log "$WORK/onpath.err"; die "onpath did not start"; }
ip netns exec "$NS_B" sysctl -qw net.ipv4.conf.mpttun0.rp_filter=0 >/dev/null
ip -n "$NS_B" route add default dev mpttun0 table 200
for dev in mpt-ob1 mpt-ob2 mpt-obs; do
	ip -n "$NS_B" rule add iif "$dev" table 200 pref 200
done

# The server's two peers: plain TCP on 5001, kernel MPTCP on 5002; both
# keep their listener open (tcp_peer.py --keep-listening: joins arrive
# through it).

# run_case NAME PORT SERVER_WRAPPER(""|mptcpize) SIZE_MIB
run_case() {
	local name=$1 port=$2 wrap=$3 size=$4 d="$WORK/$1"
	mkdir -p "$d"
	head -c "${size}M" /dev/urandom >"$d/up"
	head -c "${size}M" /dev/urandom >"$d/down"
	ksnap "$NS_C" "$d/c0"
	ksnap "$NS_S" "$d/s0"
	local wrapper=()
	[ -n "$wrap" ] && wrapper=(mptcpize run)
	ip netns exec "$NS_S" timeout 60 "${wrapper[@]}" python3 "$PEER" server --keep-listening \
		--port "$port" --send "$d/down" --recv-out "$d/srv_got" --ready "$d/ready" 2>"$d/srv.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || { show_log "$d/srv.err"; return 1; }
	# The server's view while the transfer runs: keep the first sample
	# that shows the MPTCP connection (ss -M lists MPTCP sockets).  Until
	# the client is done, not for a fixed time: on a loaded CI machine
	# the connection once came up after the 4 s this loop used to give.
	( for _ in $(seq 1 600); do
		sleep 0.1
		[ -e "$d/cli_done" ] && break
		ip netns exec "$NS_S" ss -Mni >"$d/ss_try.txt" 2>&1
		if grep -q "10.60" "$d/ss_try.txt"; then
			mv "$d/ss_try.txt" "$d/ss_srv.txt"
			ip netns exec "$NS_S" ss -tni >"$d/ss_srv_tcp.txt" 2>&1
			break
		fi
	  done; touch "$d/ss_srv.txt" ) &
	local sspid=$!
	local t0=$SECONDS
	ip netns exec "$NS_C" timeout 60 mptcpize run python3 "$PEER" client --host 10.61.0.2 \
		--port "$port" --send "$d/up" --recv-out "$d/cli_got" 2>"$d/cli.err"
	local crc=$?
	touch "$d/cli_done"
	wait "$spid"
	local src=$?
	wait "$sspid"
	ksnap "$NS_C" "$d/c1"
	ksnap "$NS_S" "$d/s1"
	echo "  client exit $crc, server exit $src, $((SECONDS - t0)) s"
	same_file "client -> server" "$d/up" "$d/srv_got" || return 1
	same_file "server -> client" "$d/down" "$d/cli_got" || return 1
	[ "$crc" = 0 ] && [ "$src" = 0 ] || { show_log "$d/cli.err"; show_log "$d/srv.err"; return 1; }
	echo "  client kernel:"; kshow "$d/c0" "$d/c1"
	echo "  server kernel:"; kshow "$d/s0" "$d/s1"
	return 0
}

onpath_counter() { # onpath_counter NAME: from the last SIGUSR1 dump
	awk -v n="$1" '$3 == "counter" && $4 == n { v = $5 } END { print v + 0 }' "$WORK/onpath.err"
}
dump_counters() {
	kill -USR1 "$OPID" 2>/dev/null
	sleep 0.3
}

CASES=${MPT_CASES:-"c p"}
want() { [[ " $CASES " == *" $1 "* ]]; }

if want c; then
kill -0 "$OPID" 2>/dev/null || die "mpt onpath is not running"
echo "-- (c) kernel MPTCP client -> plain TCP server: converted at the box, 8 MiB each way"
run_case c 5001 "" 8
rc=$?
if [ $rc = 0 ]; then
	d="$WORK/c"
	dump_counters
	conv=$(onpath_counter conversions)
	# The client's kernel got an MP_CAPABLE answer (from the box) and its
	# join was accepted (by the box); the server saw no MPTCP at all.
	synack=$(kdelta "$d/c0" "$d/c1" MPTcpExtMPCapableSYNACKRX)
	joins=$(kdelta "$d/c0" "$d/c1" MPTcpExtMPJoinSynAckRx)
	srv_mpc=$(kdelta "$d/s0" "$d/s1" MPTcpExtMPCapableSYNRX)
	peer=$(sed -n 's/^tcp_peer: connection from //p' "$d/srv.err")
	echo "  onpath conversions $conv; client MPCapableSYNACKRX +$synack, MPJoinSynAckRx +$joins;" \
		"server MPCapableSYNRX +$srv_mpc; server's peer $peer"
	[ "$conv" -ge 1 ] && [ "$synack" -ge 1 ] && [ "$joins" -ge 1 ] && [ "$srv_mpc" = 0 ] &&
		[ "$peer" = 10.61.0.1 ] || rc=1
fi
case_result "(c) kernel MPTCP client -> on-path converter -> plain TCP server" "$rc"
fi

if want p; then
kill -0 "$OPID" 2>/dev/null || die "mpt onpath is not running any more"
echo "-- (p) kernel MPTCP client -> kernel MPTCP server: passthrough, 32 MiB each way"
run_case p 5002 mptcpize 32
rc=$?
if [ $rc = 0 ]; then
	d="$WORK/p"
	dump_counters
	pass=$(onpath_counter passthroughs)
	conv=$(onpath_counter conversions)
	srv_mpc=$(kdelta "$d/s0" "$d/s1" MPTcpExtMPCapableSYNRX)
	srv_jsyn=$(kdelta "$d/s0" "$d/s1" MPTcpExtMPJoinSynRx)
	srv_join=$(kdelta "$d/s0" "$d/s1" MPTcpExtMPJoinAckRx)
	cli_rst=$(kdelta "$d/c0" "$d/c1" MPTcpExtMPRstTx)
	echo "  onpath passthroughs $pass conversions $conv; server MPCapableSYNRX +$srv_mpc," \
		"MPJoinSynRx +$srv_jsyn, MPJoinAckRx +$srv_join; client MPRstTx +$cli_rst"
	peer=$(sed -n 's/^tcp_peer: connection from //p' "$d/srv.err")
	echo "  server's peer $peer; server's ss -M during the transfer (a sample, when one came):"
	sed 's/^/    | /' "$d/ss_srv.txt" | head -8
	# The server's own view: an MPTCP connection (its kernel counted the
	# MP_CAPABLE SYN and the join) from the client's address, not the
	# box's.  The ss sample only illustrates it: a 1 s transfer can end
	# between two samples on a loaded machine.
	[ "$peer" = 10.60.1.2 ] || rc=1
	[ "$pass" -ge 1 ] && [ "$conv" = "$(want c && echo 1 || echo 0)" ] && [ "$srv_mpc" -ge 1 ] &&
		[ "$srv_jsyn" -ge 1 ] || rc=1
	# The join went through the box both ways (the server counted its
	# SYN).  Its completion is between the two kernels: a Linux client
	# resets its own join (MP_TCPRST, MPRstTx) when the SYN/ACK finds the
	# connection past the state where it takes subflows: the client's
	# kernel decides it (kmatrix r086 lists the same).  A join the box lost after the SYN
	# would leave neither an ACK at the server nor a reset at the client.
	if [ "$srv_join" -ge 1 ]; then
		:
	elif [ "$cli_rst" -ge 1 ]; then
		echo "  the client's kernel reset its own join (MPRstTx +$cli_rst): a kernel-to-kernel" \
			"refusal, not the box's (kmatrix r086)"
	else
		echo "  the join's SYN reached the server but neither its ACK nor a reset followed: lost at the box"
		rc=1
	fi
fi
case_result "(p) kernel MPTCP client -> on-path box -> kernel MPTCP server (passthrough)" "$rc"
fi

kill -TERM "$OPID" 2>/dev/null
wait "$OPID" 2>/dev/null
if grep -q "runtime error\|AddressSanitizer\|LeakSanitizer" "$WORK/onpath.err"; then
	show_log "$WORK/onpath.err"
	case_result "onpath exits cleanly (no sanitizer reports)" 1
fi
[ "$FAILED" = 0 ] || { show_log "$WORK/onpath.err"; echo "FAIL: $TEST_NAME: $FAILED_CASES"; exit 1; }
echo "PASS: $TEST_NAME"
