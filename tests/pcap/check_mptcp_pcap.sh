#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Wireshark's MPTCP analysis of a simulated 2-path transfer (issue 3).
#
#   tests/pcap/check_mptcp_pcap.sh BUILD_DIR
#
# Runs BUILD_DIR/mptcp_pcap_test (writes mptcp_2path.pcap and the two
# connection tokens into a scratch directory), then runs tshark with
# mptcp.analyze_mptcp, mptcp.analyze_mappings and
# mptcp.relative_sequence_numbers on and checks that
#   1. every MP_JOIN SYN carries the connection's token: the token
#      Wireshark derives from the listener's key (mptcp.expected_token)
#      and the one the server stack reports (mpt_sock_conn_id);
#   2. there are at least two subflows and all of them belong to one
#      mptcp.stream;
#   3. no MPTCP expert info (warning or error) was raised: none of
#      Wireshark's MPTCP expert fields (mptcp.connection.*, mptcp.dss.*)
#      is present in any packet.
# tshark is installed if missing (Debian/Ubuntu, needs root).
# Exit status 0 = pass, 1 = fail, 77 = skipped (no tshark and no way to
# install it).
set -u

build=${1:?usage: $0 BUILD_DIR}
bin="$build/mptcp_pcap_test"
if [ ! -x "$bin" ]; then
	echo "FAIL: $bin not built" >&2
	exit 1
fi

if ! command -v tshark >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing tshark" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y tshark >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y tshark >/dev/null 2>&1; }
	fi
	if ! command -v tshark >/dev/null 2>&1; then
		echo "SKIP: tshark not available" >&2
		exit 77
	fi
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if ! MPT_PCAP_DIR="$dir" "$bin" >"$dir/run.log" 2>&1; then
	cat "$dir/run.log" >&2
	echo "FAIL: $bin" >&2
	exit 1
fi
pcap="$dir/mptcp_2path.pcap"
read -r ctok_hex stok_hex <"$dir/mptcp_2path.tokens"
stok=$((16#$stok_hex))

ts() {
	tshark -r "$pcap" -o mptcp.analyze_mptcp:TRUE -o mptcp.analyze_mappings:TRUE \
		-o mptcp.relative_sequence_numbers:TRUE "$@" 2>/dev/null
}

fail=0

# 1. Tokens.  The listener's SYN/ACK (MP_CAPABLE) gives the expected token.
expected=$(ts -Y "tcp.options.mptcp.subtype == 0 && tcp.flags.syn == 1 && tcp.flags.ack == 1" \
	-T fields -e mptcp.expected_token | sort -u)
nexp=$(printf '%s\n' "$expected" | grep -c .)
if [ "$nexp" != 1 ]; then
	echo "FAIL: expected one MP_CAPABLE SYN/ACK token, got: $expected" >&2
	fail=1
fi
if [ "$expected" != "$stok" ]; then
	echo "FAIL: Wireshark's expected token $expected != server token $stok ($stok_hex)" >&2
	fail=1
fi
joins=$(ts -Y "tcp.options.mptcp.subtype == 1 && tcp.flags.syn == 1 && tcp.flags.ack == 0" \
	-T fields -e tcp.options.mptcp.recvtok)
njoin=$(printf '%s\n' "$joins" | grep -c .)
if [ "$njoin" -lt 1 ]; then
	echo "FAIL: no MP_JOIN SYN in the capture" >&2
	fail=1
fi
while read -r tok; do
	[ -z "$tok" ] && continue
	if [ "$tok" != "$expected" ]; then
		echo "FAIL: MP_JOIN SYN token $tok != expected $expected" >&2
		fail=1
	fi
done <<<"$joins"

# 2. One MPTCP connection over several subflows.
streams=$(ts -Y "mptcp.stream" -T fields -e mptcp.stream | sort -u)
nstreams=$(printf '%s\n' "$streams" | grep -c .)
subflows=$(ts -Y "mptcp.stream" -T fields -e tcp.stream | sort -u | grep -c .)
if [ "$nstreams" != 1 ]; then
	echo "FAIL: subflows spread over mptcp.stream values: $(echo $streams)" >&2
	fail=1
fi
if [ "$subflows" -lt 2 ]; then
	echo "FAIL: only $subflows subflow(s) in the capture" >&2
	fail=1
fi

# 3. No MPTCP expert info: the expert fields are the FT_NONE fields of the
#    mptcp protocol (mptcp.analysis itself is only the subtree).
experts=$(tshark -G fields 2>/dev/null |
	awk -F'\t' '$1 == "F" && $3 ~ /^mptcp\./ && $4 == "FT_NONE" && $3 != "mptcp.analysis" {print $3}')
if [ -z "$experts" ]; then
	echo "FAIL: could not list Wireshark's MPTCP expert fields" >&2
	fail=1
fi
filter=$(printf '%s\n' "$experts" | paste -sd'|' | sed 's/|/ || /g')
# (a filter tshark rejects must fail the check, not pass it silently)
if ! bad=$(ts -Y "$filter" -T fields -e frame.number -e _ws.expert.message); then
	echo "FAIL: tshark rejected the expert filter: $filter" >&2
	fail=1
fi
bad=$(printf '%s\n' "$bad" | grep . | head -20)
if [ -n "$bad" ]; then
	echo "FAIL: MPTCP expert info in the capture (frame, message):" >&2
	printf '%s\n' "$bad" >&2
	fail=1
fi

pkts=$(ts -T fields -e frame.number | wc -l)
echo "mptcp pcap: $pkts packets, $subflows subflows, $njoin MP_JOIN SYNs," \
	"token $stok_hex (Wireshark $expected), mptcp.stream $(echo $streams)," \
	"MPTCP expert fields checked: $(echo $experts)"
if [ "$fail" != 0 ]; then
	echo "FAIL" >&2
	exit 1
fi
echo "PASS"
exit 0
