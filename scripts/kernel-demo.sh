#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo for real: mpt's MPTCP against the Linux kernel's MPTCP over two
# paths in network namespaces (needs root; removes everything it creates).
#
#   sudo bash scripts/kernel-demo.sh            # 10 s over 2 x 100 Mbit/s paths
#   sudo T=5 RATE=50mbit bash scripts/kernel-demo.sh
#
# What it shows: two namespaces joined by two veth pairs, each shaped with tbf
# to RATE (tests/interop/lib.sh topo_two_paths).  In the server namespace the
# kernel runs `mptcpize run iperf3 -s` and announces its second address
# (`ip mptcp endpoint add 10.79.0.2 ... signal`).  In the client namespace
# `mpt perf -c` (mpt's own TCP/MPTCP stack on two TUN devices, 10.78.1.1 on
# path 1 and 10.79.1.1 on path 2) runs T seconds and prints iperf3-style
# rows: one per subflow and a [SUM] per second, so the goodput of both paths
# adding up is visible.  Then, from the kernel's side: `ss -M` (its MPTCP
# connection and subflows, sampled half-way) and the MPTcpExt counters
# (nstat) that moved: MP_CAPABLE, MP_JOINs accepted, ADD_ADDR sent, ...
#
# Environment: T (seconds, 10), RATE (tbf rate per path, 100mbit; "" for
# unshaped), MPT_BIN (use this mpt instead of building build/mpt).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
T=${T:-10}
RATE=${RATE-100mbit}

[ "$(id -u)" = 0 ] || { echo "kernel-demo: needs root (network namespaces, veth, tbf, TUN):" \
	"sudo bash scripts/kernel-demo.sh" >&2; exit 1; }
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] ||
	{ echo "kernel-demo: this kernel has no MPTCP (net.mptcp.enabled is not 1)" >&2; exit 1; }
missing=()
for c in ip:iproute2 nstat:iproute2 iperf3:iperf3 mptcpize:mptcpize python3:python3; do
	command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "kernel-demo: installing ${missing[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" || exit 1
fi

if [ -z "${MPT_BIN:-}" ]; then # build like scripts/demo.sh
	bash scripts/deps.sh build || exit 1
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
	ninja -C build mpt || exit 1
	MPT_BIN=$(pwd)/build/mpt
fi
MPT_BIN=$(readlink -f "$MPT_BIN")
export MPT_BIN
# shellcheck disable=SC2034 # both read by tests/interop/lib.sh
TEST_NAME=kernel-demo
MPT_INTEROP_REQUIRE=1 # a demo that cannot run is a failure, not a skip
. tests/interop/lib.sh
interop_require
CASE_TIMEOUT=$((T + 30))
TOPO_RATE=$RATE topo_two_paths # sets a trap that removes the namespaces

echo "== topology: $NS_C (mpt: $MP_A on mpttun0 -> path 1, $MP_B on mpttun1 -> path 2)"
echo "              $NS_S (kernel: $SRV_A on path 1, $SRV_B on path 2)," \
	"each path ${RATE:-unshaped}"
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal || die "ip mptcp endpoint add"
echo "== kernel server: ip netns exec $NS_S mptcpize run iperf3 -s -1" \
	"(announces $SRV_B: $(ip -n "$NS_S" mptcp endpoint show | tr -s ' '))"
ksnap "$NS_S" "$WORK/k0"
ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -s -1 >"$WORK/srv.txt" 2>&1 &
INTEROP_PIDS+=($!)
SPID=$!
for ((i = 0; i < 50; i++)); do
	ip netns exec "$NS_S" ss -Hltn "sport = :5201" | grep -q . && break
	sleep 0.1
done

# The kernel's view half-way through (printed after the transfer).
(
	sleep "$(awk -v t="$T" 'BEGIN { print t / 2 }')"
	ip netns exec "$NS_S" ss -HMin
	echo "-- its TCP subflows (ss -ti; iperf3's control connection is MPTCP too: the"
	echo "   subflows that received only a few bytes are the control connection's)"
	ip netns exec "$NS_S" ss -Htin state established "( sport = :5201 )" |
		awk '/^[0-9]/ { loc = $3; peer = $4 } /tcp-ulp-mptcp/ {
			rx = 0; for (i = 1; i <= NF; i++) if ($i ~ /^bytes_received:/) { split($i, a, ":"); rx = a[2] }
			tok = ""; for (i = 1; i <= NF; i++) if ($i ~ /^token:/) tok = $i
			printf "  %s <- %s  bytes_received %s  %s\n", loc, peer, rx, tok }'
) >"$WORK/ss.txt" 2>&1 &
SSPID=$!

MPT_CMD=(perf -c "$SRV_A" -t "$T" --path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1")
echo "== mpt client: ip netns exec $NS_C mpt ${MPT_CMD[*]}"
echo
mpt_c "${MPT_CMD[@]}"
MRC=$?
wait "$SPID"
SRC=$?
wait "$SSPID"
ksnap "$NS_S" "$WORK/k1"

echo
echo "== the kernel's side, half-way through: ss -M (its MPTCP sockets)"
sed 's/^/  /' "$WORK/ss.txt"
echo "== kernel MPTcpExt counters that moved (nstat, server namespace)"
kshow "$WORK/k0" "$WORK/k1"
d() { kdelta "$WORK/k0" "$WORK/k1" "MPTcpExt$1"; }
echo "   in short: $(d MPCapableSYNRX) MP_CAPABLE connection(s) (iperf3 control + data)," \
	"$(d MPJoinAckRx) MP_JOIN subflow(s) accepted, $(d AddAddrTx) ADD_ADDR sent," \
	"$(($(d MPCapableFallbackACK) + $(d MPCapableFallbackSYNACK) + $(d DSSCorruptionFallback) +
		$(d InfiniteMapRx))) fallback(s) to TCP"
echo "== kernel iperf3 -s summary"
grep -E "receiver|sender" "$WORK/srv.txt" | sed 's/^/  /'
if [ $MRC != 0 ] || [ $SRC != 0 ]; then
	echo "kernel-demo: FAILED (mpt perf exit $MRC, iperf3 -s exit $SRC)"
	show_log "$WORK/srv.txt"
	exit 1
fi
echo "kernel-demo: done (namespaces removed on exit)"
