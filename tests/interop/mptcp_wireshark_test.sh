#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Wireshark's MPTCP analysis of a real mpt client -> kernel server transfer
# (issue 4, case 11).
#
# Topology: topo_two_paths (lib.sh), veths shaped to $RATE.  The kernel
# server (mptcpize) announces its second address 10.79.0.2, mpt cat (two
# paths) transfers 2 MiB each way, so the capture holds the MP_CAPABLE
# handshake, ADD_ADDR, MP_JOINs (to the initial and the announced address),
# DSS mappings and DATA_FIN.  Two captures of the same transfer:
#   srv.pcapng  dumpcap on both of the SERVER's veths (what the kernel saw),
#               128-byte snaplen (headers and options only);
#   mpt.pcap    mpt's own --pcap (what mpt sent and received).
# Each passes tshark with mptcp.analyze_mptcp, mptcp.analyze_mappings and
# mptcp.relative_sequence_numbers on, checking that
#   1. every MP_JOIN SYN carries the token Wireshark expects from the
#      kernel's key (MP_CAPABLE SYN/ACK, mptcp.expected_token), which is
#      also the kernel's own token (ss -M in its namespace);
#   2. all subflows (>= 2) belong to one mptcp.stream;
#   3. no MPTCP expert info: none of Wireshark's MPTCP expert fields
#      (mptcp.connection.*, mptcp.dss.*) in any packet, and no warning or
#      error _ws.expert message about MPTCP.
# The data is checked by SHA-256 both ways.  Every process runs under
# `timeout`.
set -uo pipefail
TEST_NAME=mptcp_wireshark
CASE_TIMEOUT=${CASE_TIMEOUT:-30}
. "$(dirname "$0")/lib.sh"
interop_require
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v tshark >/dev/null || skip "tshark is not installed (scripts/deps.sh installs it)"
command -v dumpcap >/dev/null || skip "dumpcap (Wireshark) is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"
RATE=${RATE:-100mbit}
TOPO_RATE=$RATE topo_two_paths

d="$WORK/t"
mkdir -p "$d"
head -c 2M /dev/urandom >"$d/up"
head -c 2M /dev/urandom >"$d/down"
port=7201

echo "-- capture: mpt cat (2 paths) -> kernel server announcing $SRV_B, 2 MiB each way"
ip -n "$NS_S" mptcp endpoint flush
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal || die "ip mptcp endpoint add failed"
# dumpcap writes pcapng (two interfaces); -q: no packet count on stderr.
ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" dumpcap -q -s 128 -i mpt-p1s -i mpt-p2s \
	-f "tcp port $port" -w "$d/srv.pcapng" >"$d/dumpcap.log" 2>&1 &
cpid=$!
INTEROP_PIDS+=("$cpid")
for _ in $(seq 50); do
	grep -q "Capturing on" "$d/dumpcap.log" 2>/dev/null && break
	sleep 0.1
done
grep -q "Capturing on" "$d/dumpcap.log" || { show_log "$d/dumpcap.log"; die "dumpcap did not start"; }
sleep 0.3
ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" server --keep-listening \
	--port "$port" --send "$d/down" --recv-out "$d/srv_got" --ready "$d/ready" 2>"$d/peer.err" &
spid=$!
INTEROP_PIDS+=("$spid")
wait_file "$d/ready" 10 || die "kernel server did not start"
# The kernel's token of the connection, read while it is open.
(
	for _ in $(seq 40); do
		ip netns exec "$NS_S" ss -Mni 2>/dev/null | grep -o "token:[0-9a-f]*" | head -1 >"$d/ktoken"
		[ -s "$d/ktoken" ] && break
		sleep 0.05
	done
) &
tpid=$!
mpt_c cat -N -v --pcap "$d/mpt.pcap" --path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1" \
	"$SRV_A" "$port" <"$d/up" >"$d/cli_got" 2>"$d/mpt.err"
mrc=$?
wait "$spid"
prc=$?
wait "$tpid"
sleep 0.3
kill -INT "$cpid" 2>/dev/null
wait "$cpid"
ip -n "$NS_S" mptcp endpoint flush
echo "  mpt cat exit $mrc, kernel server exit $prc"
rc=0
[ $mrc = 0 ] && [ $prc = 0 ] || rc=1
same_file "mpt -> kernel" "$d/up" "$d/srv_got" || rc=1
same_file "kernel -> mpt" "$d/down" "$d/cli_got" || rc=1
[ $rc = 0 ] || { show_log "$d/mpt.err"; show_log "$d/peer.err"; }
case_result "transfer for the captures" $rc
ktok_hex=$(sed 's/token://' "$d/ktoken" 2>/dev/null)
if [ -n "$ktok_hex" ]; then
	ktok=$((16#$ktok_hex))
	echo "  kernel token (ss -M): $ktok_hex = $ktok"
else
	ktok=""
	echo "  could not read the kernel's token with ss -M"
fi

# Wireshark's MPTCP expert fields (the FT_NONE fields of the mptcp protocol;
# mptcp.analysis is only the subtree).
EXPERTS=$(tshark -G fields 2>/dev/null |
	awk -F'\t' '$1 == "F" && $3 ~ /^mptcp\./ && $4 == "FT_NONE" && $3 != "mptcp.analysis" {print $3}')
[ -n "$EXPERTS" ] || die "could not list Wireshark's MPTCP expert fields"
# Wireshark 4.0 looks up a DSS mapping for every segment of an MPTCP
# subflow, also for pure ACKs (tcp.len 0: no data to map), and flags
# "No mapping available" on those whose sequence number lies just past the
# last mapping -- the kernel's ACKs as much as mpt's.  Only segments that
# carry data must have a mapping.
EXPERT_FILTER=$(printf '%s\n' "$EXPERTS" | grep -v '^mptcp.dss.missing_mapping$' | paste -sd'|' |
	sed 's/|/ || /g')
EXPERT_FILTER="$EXPERT_FILTER || (mptcp.dss.missing_mapping && tcp.len > 0)"

# analyze NAME FILE
analyze() {
	local name=$1 f=$2 rc=0
	ts() {
		tshark -r "$f" -o mptcp.analyze_mptcp:TRUE -o mptcp.analyze_mappings:TRUE \
			-o mptcp.relative_sequence_numbers:TRUE "$@" 2>/dev/null
	}
	[ -s "$f" ] || { echo "  $name: no capture"; return 1; }
	local npk
	npk=$(ts -T fields -e frame.number | grep -c .)
	echo "  $name: $npk packets, $(stat -c %s "$f") bytes"
	# 1. Tokens: the kernel is the listener; its SYN/ACK gives the token.
	local expected njoin joins tok
	expected=$(ts -Y "tcp.options.mptcp.subtype == 0 && tcp.flags.syn == 1 && tcp.flags.ack == 1" \
		-T fields -e mptcp.expected_token | sort -u | grep .)
	if [ "$(printf '%s\n' "$expected" | grep -c .)" != 1 ]; then
		echo "  $name: expected one MP_CAPABLE SYN/ACK token, got: $(echo $expected)"
		rc=1
	elif [ -n "$ktok" ] && [ "$expected" != "$ktok" ]; then
		echo "  $name: Wireshark's expected token $expected != the kernel's token $ktok"
		rc=1
	fi
	joins=$(ts -Y "tcp.options.mptcp.subtype == 1 && tcp.flags.syn == 1 && tcp.flags.ack == 0" \
		-T fields -e tcp.options.mptcp.recvtok)
	njoin=$(printf '%s\n' "$joins" | grep -c .)
	echo "  $name: expected token $expected; $njoin MP_JOIN SYN(s) with tokens $(echo $joins | tr ' ' '\n' | sort -u | paste -sd' ')"
	[ "$njoin" -ge 2 ] || { echo "  $name: fewer than 2 MP_JOIN SYNs"; rc=1; }
	while read -r tok; do
		[ -z "$tok" ] && continue
		[ "$tok" = "$expected" ] || { echo "  $name: MP_JOIN SYN token $tok != expected $expected"; rc=1; }
	done <<<"$joins"
	# 2. One MPTCP connection over several subflows.
	local streams nstreams subflows
	streams=$(ts -Y "mptcp.stream" -T fields -e mptcp.stream | sort -u | grep .)
	nstreams=$(printf '%s\n' "$streams" | grep -c .)
	subflows=$(ts -Y "mptcp.stream" -T fields -e tcp.stream | sort -u | grep -c .)
	echo "  $name: $subflows subflow(s) in $nstreams MPTCP connection(s)"
	[ "$nstreams" = 1 ] || { echo "  $name: subflows spread over mptcp.stream values: $(echo $streams)"; rc=1; }
	[ "$subflows" -ge 3 ] || { echo "  $name: fewer than 3 subflows"; rc=1; }
	# DSS mappings were analysed at all (not a capture without MPTCP).
	local ndss
	ndss=$(ts -Y "tcp.options.mptcp.subtype == 2 && tcp.len > 0" -T fields -e frame.number | grep -c .)
	echo "  $name: $ndss data segments with DSS"
	[ "$ndss" -ge 100 ] || { echo "  $name: (almost) no DSS data segments"; rc=1; }
	# 3. No MPTCP expert info.
	local bad
	if ! bad=$(ts -Y "$EXPERT_FILTER" -T fields -e frame.number -e _ws.expert.message); then
		echo "  $name: tshark rejected the expert filter: $EXPERT_FILTER"
		rc=1
	fi
	bad=$(printf '%s\n' "$bad" | grep . | head -10)
	if [ -n "$bad" ]; then
		echo "  $name: MPTCP expert info (frame, message):"
		printf '%s\n' "$bad" | sed 's/^/    /'
		rc=1
	fi
	# Warnings/errors of any dissector that talk about MPTCP (severity
	# warn = 0x600000, error = 0x800000).
	bad=$(ts -Y "_ws.expert.severity >= 0x600000" -T fields -e frame.number -e tcp.len \
		-e _ws.expert.message |
		awk -F'\t' '$2 == 0 { gsub(/No mapping available,?/, "", $3) } { print $1 "\t" $3 }' |
		grep -i "mptcp\|mapping\|dss\|data.fin\|subflow" | head -10)
	if [ -n "$bad" ]; then
		echo "  $name: MPTCP-related expert warnings/errors (frame, message):"
		printf '%s\n' "$bad" | sed 's/^/    /'
		rc=1
	fi
	local acks
	acks=$(ts -Y "mptcp.dss.missing_mapping && tcp.len == 0" -T fields -e frame.number | grep -c .)
	echo "  $name: $acks pure ACK(s) flagged 'No mapping available' (ignored, see above)"
	# Other expert warnings (TCP analysis: retransmissions etc.) are
	# expected with tbf and shown for information only.
	local other
	other=$(ts -Y "_ws.expert.severity >= 0x600000" -T fields -e _ws.expert.message |
		tr ',' '\n' | grep . | sort | uniq -c | sort -rn | head -4)
	[ -n "$other" ] && printf '%s\n' "$other" | sed "s/^/  $name: (info) expert: /"
	return $rc
}

echo "-- (srv) tshark capture on the server's veths"
analyze srv "$d/srv.pcapng"
case_result "(srv) server-side capture passes Wireshark's MPTCP analysis, tokens match" $?
echo "-- (mpt) mpt's own --pcap"
analyze mpt "$d/mpt.pcap"
case_result "(mpt) mpt --pcap passes Wireshark's MPTCP analysis, tokens match" $?

if [ "$FAILED" != 0 ]; then
	[ "${MPT_INTEROP_KEEP:-0}" = 1 ] && echo "  captures kept in $d"
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
