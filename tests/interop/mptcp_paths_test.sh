#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mpt's MPTCP against the Linux kernel: paths that change (issue 4, cases 4,
# 5, 7, 9 and 10).
#
# Topology: topo_two_paths (lib.sh) plus IPv6 on both paths and a third
# IPv4 path, all source-routed (each subflow stays on its own path):
#   path 1: mpt 10.78.1.1 fd78:1::1 (mpttun0) - mpt-p1c <-> mpt-p1s 10.78.0.2 fd78::2
#   path 2: mpt 10.79.1.1 fd79:1::1 (mpttun1) - mpt-p2c <-> mpt-p2s 10.79.0.2 fd79::2
#   path 3: mpt 10.80.1.1           (mpttun2) - mpt-p3c <-> mpt-p3s 10.80.0.2
# Every veth is shaped to $RATE (tbf) so that transfers last a few seconds
# and a change in the middle of one really happens mid-transfer.
#
# Cases (mpt cat <-> a kernel MPTCP peer, data both ways at once, SHA-256 of
# each stream; the kernel's view from nstat in its namespace and ss):
# (ra) the kernel announces 10.79.0.2 (endpoint id 5) and deletes the
#      endpoint after 1 s: the kernel sends REMOVE_ADDR (RmAddrTx), mpt counts
#      it (mpt -vv: counter RmAddr) and the subflows to 10.79.0.2 are gone
#      (ss) while the transfer goes on over the rest, intact.
# (rb) mpt removes its address 10.79.1.1 after 1 s (--remove-path-after):
#      the kernel receives REMOVE_ADDR (RmAddr +1) and closes the subflow
#      (RmSubflow), intact.
# (sa) iptables TCPOPTSTRIP of option 30 (MPTCP) on SYN and SYN/ACK in the
#      forwarding namespace: plain TCP on both sides, intact.
# (sb) the same on every packet.
# (sc) the same on every packet except SYNs (MP_CAPABLE handshake intact,
#      then no DSS): both fall back to TCP, intact.
# (xa) mixed families: the initial subflow over IPv4, the kernel (a dual-stack
#      listener) announces its IPv6 address fd79::2 and mpt joins it from
#      fd79:1::1.  (xb) the other way round: initial over IPv6, the kernel
#      announces 10.79.0.2, mpt joins over IPv4.  Joins counted, intact.
# (mtu) IPv6, two paths, path 2 with MTU 1280 on both veths and on mpt's TUN
#      (--path ...,mtu=1280): joins, path 2 carries data, no ICMPv6 Packet
#      Too Big in the forwarding namespace, intact.
# (d3) three paths (3 subflows); path 2's veth goes down after 1 s: intact.
# (d1) two paths; path 1's veth (the initial subflow's) goes down: intact.
# (ba) backup: mpt --path ...,backup on path 2 -> kernel server: path 2
#      carries < 5 % of the bytes (each direction) while path 1 is up, and
#      the transfer completes over it once path 1's veth goes down.
# (bb) backup: kernel client with a `subflow backup` endpoint (10.79.0.2)
#      -> mpt cat -l (one address): the same checks.
# Every process runs under `timeout`.  A case failing because of a known mpt
# bug is listed in KNOWN_BUGS and printed as "XFAIL: reason" (never "ok").
set -uo pipefail
TEST_NAME=mptcp_paths
CASE_TIMEOUT=${CASE_TIMEOUT:-30}
. "$(dirname "$0")/lib.sh"
interop_require
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v nstat >/dev/null || skip "nstat (iproute2) is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"
RATE=${RATE:-50mbit}
TOPO_RATE=$RATE topo_two_paths

# IPv6 on paths 1 and 2 (MP6_A/B, SRV6_A/B), source-routed like IPv4.
topo_ipv6_paths

# Path 3 (IPv4 only), like topo_two_paths' paths.
MP_C=10.80.1.1
SRV_C=10.80.0.2
ip link add mpt-p3c netns "$NS_C" type veth peer name mpt-p3s netns "$NS_S" ||
	die "cannot create veth pair 3"
ip -n "$NS_C" addr add 10.80.0.1/24 dev mpt-p3c
ip -n "$NS_S" addr add "$SRV_C/24" dev mpt-p3s
ip netns exec "$NS_C" sysctl -qw net.ipv4.conf.mpt-p3c.rp_filter=0 >/dev/null
ip netns exec "$NS_S" sysctl -qw net.ipv4.conf.mpt-p3s.rp_filter=0 >/dev/null
ip -n "$NS_C" link set mpt-p3c up
ip -n "$NS_S" link set mpt-p3s up
ip -n "$NS_S" route add 10.80.1.0/24 via 10.80.0.1
ip -n "$NS_C" route add default via "$SRV_C" dev mpt-p3c table 103
ip -n "$NS_C" rule add from 10.80.1.0/24 table 103 pref 103
for dev in mpt-p3c mpt-p3s; do
	ns=$NS_C
	[ "$dev" = mpt-p3s ] && ns=$NS_S
	ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "$RATE" burst 64kb latency 20ms ||
		die "tbf failed"
done

# Known mpt bugs: "case-id:reason" lines, the id being what a case's name
# has in parentheses (MPT_KNOWN_BUGS overrides; "" shows them as failures).
# None now.  sc used to be listed: mpt (the initiator) did not treat the
# kernel's bare data as a fallback while not yet fully established (the
# kernel fell back because the third ACK's MP_CAPABLE was stripped); fixed
# in src/mptcp/subflow.c, RFC 8684 §3.7.
KNOWN_BUGS=${MPT_KNOWN_BUGS-"mtu:intermittent: once in a CI-like run the upload stopped at 69 kB and the kernel reset 3 joins (5 of 5 alone pass); under investigation
bb:intermittent: the primary carried almost nothing while up (163 kB in 1.2 s), the backup takes over correctly; under investigation"}
XFAILED=0
# MPT_CASES="ra sc" runs only those cases (for debugging; default: all);
# MPT_PCAP_DIR=DIR makes mpt cat write DIR/CASE.pcap (--pcap).
want() {
	[ -z "${MPT_CASES:-}" ] && return 0
	case " $MPT_CASES " in *" $1 "*) return 0 ;; esac
	return 1
}
# A case that cannot run on this machine (a missing kernel feature): loud,
# never "ok", and not a failure (unless MPT_INTEROP_REQUIRE=1).
SKIPPED=0
case_skip() {
	echo "SKIP-CASE: $TEST_NAME: $1: $2"
	SKIPPED=$((SKIPPED + 1))
	[ "${MPT_INTEROP_REQUIRE:-0}" = 1 ] && FAILED=$((FAILED + 1))
}

# The kernel server (IPv4, or dual-stack IPv6 with family 6) is tcp_peer.py's
# server with --keep-listening: the listener stays open until the transfer
# ends (Linux takes MP_JOIN SYNs through it).

# Bring path I's client-side veth back up after a case set it down.  Setting
# a device down deletes the routes through it, so the source-routing table
# of the path (10I) is refilled too; without that, a later case's subflows
# from that path's address would silently leave through the main table
# (another path).
path_up() {
	local i=$1
	ip -n "$NS_C" link set "mpt-p${i}c" up
	if [ "$i" = 3 ]; then
		ip -n "$NS_C" route replace default via "$SRV_C" dev mpt-p3c table 103
	else
		ip -n "$NS_C" route replace default via "10.7$((7 + i)).0.2" dev "mpt-p${i}c" table "10$i"
		ip -n "$NS_C" -6 route replace default via "fd7$((7 + i))::2" dev "mpt-p${i}c" table "10$i"
	fi
}

# Bytes through a veth: vbytes NS DEV rx|tx
vbytes() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_bytes"
}
vsnap() { # vsnap FILE: rx/tx bytes of the server-side veths
	local dev
	for dev in mpt-p1s mpt-p2s mpt-p3s; do
		echo "$dev $(vbytes "$NS_S" $dev rx) $(vbytes "$NS_S" $dev tx)"
	done >"$1"
}
export -f vsnap vbytes # for $DURING
export NS_S
vget() { # vget FILE DEV rx|tx
	awk -v d="$2" -v w="$3" '$1 == d { print (w == "rx" ? $2 : $3) }' "$1"
}
# mpt's own counter from its -vv output (0 when it did not move).
mcounter() {
	awk -v n="$2" '$1 == "mpt:" && $2 == "counter" && $3 == n { v = $4 } END { print v + 0 }' "$1"
}
# Established TCP sockets (MPTCP subflows included) in the kernel's
# namespace matching an ss filter, e.g. nsubflows "src 10.79.0.2".
nsubflows() {
	# shellcheck disable=SC2086 # the filter is words for ss
	ip netns exec "$NS_S" ss -tnH state established $1 2>/dev/null | grep -c .
}

# run_cat NAME FAMILY PORT SIZE_MIB SERVER_ADDR -- MPT_ARGS...
# mpt cat (client) <-> mptcpize'd kernel server.  Leaves $WORK/NAME/{k0,k1,
# v0,v1,mpt.err,...}; returns non-zero on a bad exit or corrupted data.
# $DURING (a command), when set, runs in the background once mpt started;
# it can write $WORK/NAME/mid (vsnap) and ..._at files.
run_cat() {
	local name=$1 fam=$2 port=$3 size=$4 srv=$5
	shift 6
	local d="$WORK/$name" t
	mkdir -p "$d"
	for t in 101 102 103; do # every path still source-routed (see path_up)
		ip -n "$NS_C" route show table $t | grep -q "^default" ||
			{ echo "  topology broken: no default route in table $t"; return 1; }
	done
	head -c "${size}M" /dev/urandom >"$d/up"
	head -c "${size}M" /dev/urandom >"$d/down"
	ksnap "$NS_S" "$d/k0"
	ip netns exec "$NS_C" nstat -az >"$d/c0" 2>/dev/null
	vsnap "$d/v0"
	local v6=()
	[ "$fam" = 6 ] && v6=(--v6)
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" server --keep-listening \
		"${v6[@]}" --port "$port" --send "$d/down" --recv-out "$d/srv_got" --ready "$d/ready" 2>"$d/peer.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || { echo "  kernel server did not start"; show_log "$d/peer.err"; return 1; }
	local dpid=""
	if [ -n "${DURING:-}" ]; then
		D=$d bash -c "$DURING" >"$d/during.log" 2>&1 &
		dpid=$!
		INTEROP_PIDS+=("$dpid")
	fi
	local t0
	t0=$(date +%s%N)
	local pcap=()
	[ -n "${MPT_PCAP_DIR:-}" ] && pcap=(--pcap "$MPT_PCAP_DIR/$name.pcap")
	mpt_c cat -N -v -v "${pcap[@]}" "$@" "$srv" "$port" <"$d/up" >"$d/cli_got" 2>"$d/mpt.err"
	local mrc=$?
	date +%s%N >"$d/end_at"
	local ms=$((($(date +%s%N) - t0) / 1000000))
	wait "$spid"
	local prc=$?
	[ -n "$dpid" ] && wait "$dpid"
	ksnap "$NS_S" "$d/k1"
	ip netns exec "$NS_C" nstat -az >"$d/c1" 2>/dev/null
	vsnap "$d/v1"
	echo "  mpt cat exit $mrc, kernel server exit $prc, $ms ms"
	local rc=0
	[ $mrc = 0 ] || rc=1
	[ $prc = 0 ] || rc=1
	same_file "mpt -> kernel" "$d/up" "$d/srv_got" || rc=1
	same_file "kernel -> mpt" "$d/down" "$d/cli_got" || rc=1
	kshow "$d/k0" "$d/k1"
	[ -s "$d/during.log" ] && sed 's/^/  during: /' "$d/during.log"
	[ $rc = 0 ] || { show_log "$d/mpt.err"; show_log "$d/peer.err"; }
	return $rc
}

# MPTCP end to end: the kernel saw MP_CAPABLE and did not fall back.
check_mptcp() {
	local d="$WORK/$1" rc=0 mpc fb
	mpc=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableSYNRX)
	fb=$(($(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableFallbackACK) +
		$(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableFallbackSYNACK) +
		$(kdelta "$d/k0" "$d/k1" MPTcpExtDSSCorruptionFallback) +
		$(kdelta "$d/k0" "$d/k1" MPTcpExtInfiniteMapRx)))
	[ "$mpc" -ge 1 ] || { echo "  the kernel saw no MP_CAPABLE SYN"; rc=1; }
	[ "$fb" = 0 ] || { echo "  the kernel fell back to TCP ($fb)"; rc=1; }
	grep -q "(MPTCP)" "$d/mpt.err" || { echo "  mpt did not report MPTCP"; rc=1; }
	return $rc
}
# check_joins NAME MIN: the kernel completed at least MIN MP_JOINs.
check_joins() {
	local d="$WORK/$1" syn ack
	syn=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynRx)
	ack=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinAckRx)
	echo "  kernel: MP_JOIN SYNs received $syn, third ACKs received $ack"
	[ "$ack" -ge "${2:-1}" ] || { echo "  fewer than ${2:-1} MP_JOIN(s) completed at the kernel"; return 1; }
}
# The event of $DURING happened before the transfer ended: went_mid NAME FILE
went_mid() {
	local d="$WORK/$1" at end
	at=$(cat "$d/$2" 2>/dev/null || echo 0)
	end=$(cat "$d/end_at" 2>/dev/null || echo 0)
	if [ "$at" = 0 ] || [ "$at" -ge "$end" ]; then
		echo "  the event ($2) did not happen during the transfer"
		return 1
	fi
	echo "  event $2: $(((end - at) / 1000000)) ms before the transfer ended"
}

MPT_ONE=(--path "$MP_A/24,dev=mpttun0")
MPT_TWO=(--path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1")

echo "-- (ra) the kernel deletes its announced endpoint $SRV_B (id 5) after 1 s, 24 MiB each way"
case_ra() {
	ip -n "$NS_S" mptcp endpoint flush
	ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s id 5 signal || { echo "  endpoint add failed"; return 1; }
	DURING="sleep 1; ip netns exec $NS_S ss -tnH state established src $SRV_B | grep -c . >\$D/before
		ip -n $NS_S mptcp endpoint delete id 5 && date +%s%N >\$D/rm_at; sleep 0.7
		ip netns exec $NS_S ss -tnH state established src $SRV_B | grep -c . >\$D/after" \
		run_cat ra 4 7101 24 "$SRV_A" -- "${MPT_TWO[@]}"
	local rc=$? d="$WORK/ra"
	ip -n "$NS_S" mptcp endpoint flush
	check_mptcp ra || rc=1
	check_joins ra 2 || rc=1
	went_mid ra rm_at || rc=1
	local before after rmtx rmrx
	before=$(cat "$d/before" 2>/dev/null || echo 0)
	after=$(cat "$d/after" 2>/dev/null || echo 0)
	rmtx=$(kdelta "$d/k0" "$d/k1" MPTcpExtRmAddrTx)
	rmrx=$(mcounter "$d/mpt.err" RmAddr)
	echo "  subflows to $SRV_B: $before before the delete, $after 0.7 s after;" \
		"kernel RmAddrTx +$rmtx, mpt RmAddr $rmrx"
	[ "$before" -ge 1 ] || { echo "  no subflow to $SRV_B before the delete"; rc=1; }
	[ "$after" = 0 ] || { echo "  subflows to $SRV_B remain after REMOVE_ADDR"; rc=1; }
	[ "$rmtx" -ge 1 ] || { echo "  the kernel sent no REMOVE_ADDR"; rc=1; }
	[ "$rmrx" -ge 1 ] || { echo "  mpt did not count the REMOVE_ADDR"; rc=1; }
	return $rc
}
if want ra; then
	case_ra
	known_bug_result "(ra) kernel REMOVE_ADDR mid-transfer: mpt closes those subflows, intact" $?
fi

echo "-- (rb) mpt removes its address $MP_B after 1 s (--remove-path-after), 24 MiB each way"
case_rb() {
	ip -n "$NS_S" mptcp endpoint flush
	DURING="sleep 0.8; ip netns exec $NS_S ss -tnH state established dst $MP_B | grep -c . >\$D/before
		sleep 0.9; ip netns exec $NS_S ss -tnH state established dst $MP_B | grep -c . >\$D/after
		date +%s%N >\$D/check_at" \
		run_cat rb 4 7102 24 "$SRV_A" -- "${MPT_TWO[@]}" --remove-path-after "$MP_B,1"
	local rc=$? d="$WORK/rb"
	check_mptcp rb || rc=1
	check_joins rb 1 || rc=1
	went_mid rb check_at || rc=1
	local before after rmrx rmsf rmtx
	before=$(cat "$d/before" 2>/dev/null || echo 0)
	after=$(cat "$d/after" 2>/dev/null || echo 0)
	rmrx=$(kdelta "$d/k0" "$d/k1" MPTcpExtRmAddr)
	rmsf=$(kdelta "$d/k0" "$d/k1" MPTcpExtRmSubflow)
	rmtx=$(mcounter "$d/mpt.err" RmAddrTx)
	echo "  subflows from $MP_B: $before at 0.8 s, $after at 1.7 s; kernel RmAddr +$rmrx," \
		"RmSubflow +$rmsf; mpt RmAddrTx $rmtx"
	grep -h "removed" "$d/mpt.err" | sed 's/^/  /'
	[ "$before" -ge 1 ] || { echo "  no subflow from $MP_B before the removal"; rc=1; }
	[ "$after" = 0 ] || { echo "  subflows from $MP_B remain after the removal"; rc=1; }
	[ "$rmrx" -ge 1 ] || { echo "  the kernel received no REMOVE_ADDR"; rc=1; }
	return $rc
}
if want rb; then
	case_rb
	known_bug_result "(rb) mpt REMOVE_ADDR mid-transfer: kernel counts it, intact" $?
fi

echo "-- (s*) iptables TCPOPTSTRIP --strip-options 30 (MPTCP) on path 1, 8 MiB each way"
ipt() { ip netns exec "$NS_C" iptables -t mangle "$@"; }
STRIP_OK=1
if ! command -v iptables >/dev/null; then
	STRIP_OK=0
	STRIP_WHY="iptables is not installed (scripts/deps.sh installs it)"
elif ! ipt -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options 30 2>"$WORK/ipt.err"; then
	STRIP_OK=0
	STRIP_WHY="iptables TCPOPTSTRIP does not work here: $(head -c 200 "$WORK/ipt.err")"
fi
ipt -F FORWARD 2>/dev/null
case_s() { # case_s NAME PORT EXPECT_MPC(0|1) IPTABLES_MATCH...
	local name=$1 port=$2 expect_mpc=$3
	shift 3
	ipt -A FORWARD -p tcp "$@" -j TCPOPTSTRIP --strip-options 30 || { echo "  iptables failed"; return 1; }
	run_cat "$name" 4 "$port" 8 "$SRV_A" -- "${MPT_ONE[@]}"
	local rc=$? d="$WORK/$name" hits
	hits=$(ipt -L FORWARD -v -x -n | awk '/TCPOPTSTRIP/ { s += $1 } END { print s + 0 }')
	ipt -F FORWARD
	echo "  TCPOPTSTRIP rule matched $hits packets"
	[ "$hits" -ge 1 ] || { echo "  the rule never matched"; rc=1; }
	local mpc fb
	mpc=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableSYNRX)
	fb=$(($(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableFallbackACK) +
		$(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableFallbackSYNACK) +
		$(kdelta "$d/k0" "$d/k1" MPTcpExtDSSCorruptionFallback) +
		$(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableDataFallback) +
		$(kdelta "$d/k0" "$d/k1" MPTcpExtDssFallback) +
		$(kdelta "$d/k0" "$d/k1" MPTcpExtInfiniteMapRx)))
	grep -h "connected to" "$d/mpt.err" | sed 's/^/  /'
	if [ "$expect_mpc" = 0 ]; then
		[ "$mpc" = 0 ] || { echo "  the kernel saw MP_CAPABLE ($mpc) though it was stripped"; rc=1; }
		grep -q "(TCP)" "$d/mpt.err" || { echo "  mpt -v did not report plain TCP"; rc=1; }
	else
		# The handshake passed intact; what follows carries no MPTCP
		# option: both ends must have fallen back (RFC 8684 §3.7).
		[ "$mpc" -ge 1 ] || { echo "  the kernel saw no MP_CAPABLE SYN"; rc=1; }
		echo "  kernel fallback counters moved by $fb"
		[ "$fb" -ge 1 ] || { echo "  the kernel did not fall back"; rc=1; }
	fi
	return $rc
}
if [ $STRIP_OK = 1 ]; then
	echo "   (sa) on SYN and SYN/ACK"
	if want sa; then
		case_s sa 7111 0 --tcp-flags SYN SYN
		known_bug_result "(sa) TCPOPTSTRIP MPTCP on SYNs -> fallback to TCP, intact" $?
	fi
	echo "   (sb) on every packet"
	if want sb; then
		case_s sb 7112 0
		known_bug_result "(sb) TCPOPTSTRIP MPTCP on every packet -> fallback to TCP, intact" $?
	fi
	echo "   (sc) on every packet but SYNs (the handshake is MPTCP)"
	if want sc; then
		# (8 MiB take 2 s: do not wait 30 s for a known hang)
		CASE_TIMEOUT=15 case_s sc 7113 1 --tcp-flags SYN NONE
		known_bug_result "(sc) TCPOPTSTRIP MPTCP after the handshake -> fallback, intact" $?
	fi
else
	case_skip "(sa/sb/sc) TCPOPTSTRIP" "$STRIP_WHY"
fi

echo "-- (xa) mixed families: initial IPv4, kernel announces $SRV6_B, mpt joins over IPv6, 16 MiB"
case_x() { # case_x NAME PORT SERVER SIGNAL_ADDR MPT_ARGS...
	local name=$1 port=$2 srv=$3 sig=$4
	shift 4
	ip -n "$NS_S" mptcp endpoint flush
	ip -n "$NS_S" mptcp endpoint add "$sig" dev mpt-p2s signal || { echo "  endpoint add failed"; return 1; }
	run_cat "$name" 6 "$port" 16 "$srv" -- "$@"
	local rc=$? d="$WORK/$name"
	ip -n "$NS_S" mptcp endpoint flush
	check_mptcp "$name" || rc=1
	check_joins "$name" 1 || rc=1
	local p2
	p2=$(($(vget "$d/v1" mpt-p2s rx) - $(vget "$d/v0" mpt-p2s rx)))
	echo "  path 2 carried $((p2 / 1000)) kB towards the kernel"
	[ "$p2" -ge 2000000 ] || { echo "  path 2 carried (almost) nothing"; rc=1; }
	return $rc
}
if want xa; then
	case_x xa 7121 "$SRV_A" "$SRV6_B" --path "$MP_A/24,dev=mpttun0" --path "$MP6_B/64,dev=mpttun1"
	known_bug_result "(xa) IPv4 connection, join over IPv6 to the kernel's announced address, intact" $?
fi
echo "-- (xb) mixed families: initial IPv6, kernel announces $SRV_B, mpt joins over IPv4, 16 MiB"
if want xb; then
	case_x xb 7122 "$SRV6_A" "$SRV_B" --path "$MP6_A/64,dev=mpttun0" --path "$MP_B/24,dev=mpttun1"
	known_bug_result "(xb) IPv6 connection, join over IPv4 to the kernel's announced address, intact" $?
fi

echo "-- (mtu) IPv6, two paths, path 2 with MTU 1280 (veths and TUN), 16 MiB each way"
case_mtu() {
	ip -n "$NS_C" link set mpt-p2c mtu 1280
	ip -n "$NS_S" link set mpt-p2s mtu 1280
	ip -n "$NS_S" mptcp endpoint flush
	ip -n "$NS_S" mptcp endpoint add "$SRV6_B" dev mpt-p2s signal || { echo "  endpoint add failed"; return 1; }
	run_cat mtu 6 7131 16 "$SRV6_A" -- --path "$MP6_A/64,dev=mpttun0" \
		--path "$MP6_B/64,dev=mpttun1,mtu=1280"
	local rc=$? d="$WORK/mtu"
	ip -n "$NS_S" mptcp endpoint flush
	ip -n "$NS_C" link set mpt-p2c mtu 1500
	ip -n "$NS_S" link set mpt-p2s mtu 1500
	check_mptcp mtu || rc=1
	check_joins mtu 1 || rc=1
	local p2 ptb tunmtu
	p2=$(($(vget "$d/v1" mpt-p2s rx) - $(vget "$d/v0" mpt-p2s rx)))
	ptb=$(($(awk '$1 == "Icmp6OutPktTooBigs" { print $2 }' "$d/c1") - \
		$(awk '$1 == "Icmp6OutPktTooBigs" { print $2 }' "$d/c0")))
	echo "  path 2 carried $((p2 / 1000)) kB towards the kernel; ICMPv6 Packet Too Big sent" \
		"in the forwarding namespace: $ptb"
	[ "$p2" -ge 2000000 ] || { echo "  path 2 carried (almost) nothing"; rc=1; }
	[ "$ptb" = 0 ] || { echo "  mpt sent packets larger than the path MTU"; rc=1; }
	return $rc
}
if want mtu; then
	case_mtu
	known_bug_result "(mtu) IPv6 path with MTU 1280: joins, intact, no Packet Too Big" $?
fi

echo "-- (d3) three paths (3 subflows), path 2's veth down after 1 s, 32 MiB each way"
case_d3() {
	ip -n "$NS_S" mptcp endpoint flush
	DURING="sleep 1; ip -n $NS_C link set mpt-p2c down && date +%s%N >\$D/down_at" \
		run_cat d3 4 7141 32 "$SRV_A" -- "${MPT_TWO[@]}" --path "$MP_C/24,dev=mpttun2"
	local rc=$? d="$WORK/d3"
	path_up 2
	check_mptcp d3 || rc=1
	check_joins d3 2 || rc=1
	went_mid d3 down_at || rc=1
	local p2 p3
	p2=$(($(vget "$d/v1" mpt-p2s rx) - $(vget "$d/v0" mpt-p2s rx)))
	p3=$(($(vget "$d/v1" mpt-p3s rx) - $(vget "$d/v0" mpt-p3s rx)))
	echo "  towards the kernel: path 2 carried $((p2 / 1000)) kB (before going down)," \
		"path 3 $((p3 / 1000)) kB"
	[ "$p2" -ge 1000000 ] || { echo "  path 2 carried (almost) nothing before going down"; rc=1; }
	[ "$p3" -ge 1000000 ] || { echo "  path 3 carried (almost) nothing"; rc=1; }
	return $rc
}
if want d3; then
	case_d3
	known_bug_result "(d3) path down mid-transfer with 3 subflows: transfer completes intact" $?
fi

echo "-- (d1) two paths, path 1's veth (the initial subflow's) down after 1 s, 24 MiB each way"
case_d1() {
	ip -n "$NS_S" mptcp endpoint flush
	DURING="sleep 1; ip -n $NS_C link set mpt-p1c down && date +%s%N >\$D/down_at" \
		run_cat d1 4 7142 24 "$SRV_A" -- "${MPT_TWO[@]}"
	local rc=$? d="$WORK/d1"
	path_up 1
	check_mptcp d1 || rc=1
	check_joins d1 1 || rc=1
	went_mid d1 down_at || rc=1
	return $rc
}
if want d1; then
	case_d1
	known_bug_result "(d1) the initial subflow's path down mid-transfer (2 subflows): completes intact" $?
fi

# Backup share check on $WORK/NAME/{v0,mid,v1}: path 2 (backup) < 5 % of
# each direction's bytes while path 1 was up, and a real share afterwards.
# backup_check NAME PRIMARY_DEV BACKUP_DEV
backup_check() {
	local d="$WORK/$1" p=$2 b=$3 rc=0 dir
	[ -s "$d/mid" ] || { echo "  no mid-transfer snapshot"; return 1; }
	for dir in rx tx; do
		local pb bb pa ba what
		pb=$(($(vget "$d/mid" "$p" $dir) - $(vget "$d/v0" "$p" $dir)))
		bb=$(($(vget "$d/mid" "$b" $dir) - $(vget "$d/v0" "$b" $dir)))
		pa=$(($(vget "$d/v1" "$p" $dir) - $(vget "$d/mid" "$p" $dir)))
		ba=$(($(vget "$d/v1" "$b" $dir) - $(vget "$d/mid" "$b" $dir)))
		what="kernel -> mpt"
		[ $dir = rx ] && what="mpt -> kernel"
		local share=$((bb * 1000 / (pb + bb + 1)))
		echo "  $what: primary up: primary $((pb / 1000)) kB, backup $((bb / 1000)) kB" \
			"($((share / 10)).$((share % 10)) %); primary down: backup $((ba / 1000)) kB," \
			"primary $((pa / 1000)) kB"
		[ "$pb" -ge 2000000 ] || { echo "  $what: the primary carried (almost) nothing"; rc=1; }
		[ "$share" -lt 50 ] || { echo "  $what: the backup carried >= 5 % while the primary was up"; rc=1; }
		[ "$ba" -ge 2000000 ] || { echo "  $what: the backup did not take over"; rc=1; }
	done
	return $rc
}

echo "-- (ba) mpt --path ...,backup on path 2 -> kernel server; path 1 down after 1.2 s, 16 MiB"
case_ba() {
	ip -n "$NS_S" mptcp endpoint flush
	DURING="sleep 1.2; vsnap \$D/mid; ip -n $NS_C link set mpt-p1c down && date +%s%N >\$D/down_at" \
		run_cat ba 4 7151 16 "$SRV_A" -- --path "$MP_A/24,dev=mpttun0" \
		--path "$MP_B/24,dev=mpttun1,backup"
	local rc=$? d="$WORK/ba"
	path_up 1
	check_mptcp ba || rc=1
	check_joins ba 1 || rc=1
	went_mid ba down_at || rc=1
	local bk
	bk=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynBackupRx)
	echo "  kernel: MP_JOIN SYNs with the backup flag received: $bk"
	[ "$bk" -ge 1 ] || { echo "  mpt's MP_JOIN did not carry B=1"; rc=1; }
	backup_check ba mpt-p1s mpt-p2s || rc=1
	return $rc
}
if want ba; then
	case_ba
	known_bug_result "(ba) mpt backup path: < 5 % while the primary is up, takes over when it goes down" $?
fi

echo "-- (bb) kernel client, endpoint $SRV_B subflow backup -> mpt cat -l; path 1 down after 1.2 s, 16 MiB"
case_bb() {
	local d="$WORK/bb" port=7152
	mkdir -p "$d"
	head -c 16M /dev/urandom >"$d/up"
	head -c 16M /dev/urandom >"$d/down"
	ip -n "$NS_S" mptcp endpoint flush
	ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s subflow backup || { echo "  endpoint add failed"; return 1; }
	# The backup subflow ($SRV_B <-> $MP_A) runs over path 2 both ways.
	ip -n "$NS_S" route add default via 10.79.0.1 dev mpt-p2s table 202
	ip -n "$NS_S" rule add from "$SRV_B" table 202 pref 202
	ip -n "$NS_C" rule add from "$MP_A" to "$SRV_B" table 102 pref 90
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -l -N -v -v \
		--path "$MP_A/24,dev=mpttun0" "$port" <"$d/down" >"$d/srv_got" 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_route "$NS_C" "$MP_A" mpttun0 10 || { echo "  mpt did not set up its TUN"; show_log "$d/mpt.err"; return 1; }
	sleep 0.2
	ksnap "$NS_S" "$d/k0"
	vsnap "$d/v0"
	( sleep 1.2; vsnap "$d/mid"; ip -n "$NS_C" link set mpt-p1c down && date +%s%N >"$d/down_at" ) &
	local dpid=$!
	INTEROP_PIDS+=("$dpid")
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" client \
		--host "$MP_A" --port "$port" --send "$d/up" --recv-out "$d/cli_got" 2>"$d/peer.err"
	local prc=$?
	date +%s%N >"$d/end_at"
	wait "$mpid"
	local mrc=$?
	wait "$dpid"
	ksnap "$NS_S" "$d/k1"
	vsnap "$d/v1"
	path_up 1
	ip -n "$NS_C" rule del from "$MP_A" to "$SRV_B" table 102 pref 90
	ip -n "$NS_S" rule del from "$SRV_B" table 202 pref 202
	ip -n "$NS_S" route flush table 202
	ip -n "$NS_S" mptcp endpoint flush
	echo "  kernel client exit $prc, mpt cat -l exit $mrc"
	local rc=0
	[ $mrc = 0 ] && [ $prc = 0 ] || rc=1
	same_file "kernel -> mpt" "$d/up" "$d/srv_got" || rc=1
	same_file "mpt -> kernel" "$d/down" "$d/cli_got" || rc=1
	kshow "$d/k0" "$d/k1"
	grep -q "(MPTCP)\|connection from" "$d/mpt.err" || true
	local jt bk
	jt=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynAckRx)
	bk=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynAckBackupRx)
	echo "  kernel: MP_JOIN SYN/ACKs received $jt (with B=1: $bk)"
	[ "$jt" -ge 1 ] || { echo "  the kernel's backup subflow was not established"; rc=1; }
	went_mid bb down_at || rc=1
	backup_check bb mpt-p1s mpt-p2s || rc=1
	[ $rc = 0 ] || { show_log "$d/mpt.err"; show_log "$d/peer.err"; }
	return $rc
}
if want bb; then
	case_bb
	known_bug_result "(bb) kernel backup endpoint -> mpt server: < 5 % while the primary is up, takes over" $?
fi

if [ "$SKIPPED" != 0 ]; then
	echo "WARNING: $TEST_NAME: $SKIPPED case(s) SKIPPED (see SKIP-CASE above)"
fi
if [ "$XFAILED" != 0 ]; then
	echo "NOTE: $TEST_NAME: $XFAILED case(s) XFAIL (known mpt bugs, see above)"
fi
if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
