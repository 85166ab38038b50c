#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt analyze` on real captures (issue 15):
#   (a) mpt's own capture (--pcap, classic pcap, microseconds) of
#       `mpt cat -N` over two paths with 0.5 % emulated loss to a kernel
#       MPTCP server, 8 MiB up and 4 MiB down: the MPTCP connection carries
#       exactly 8 MiB client -> server and 4 MiB back (each data-level byte
#       counted once, whatever was retransmitted or reinjected), the
#       subflows' new bytes add up to it, every subflow's payload bytes
#       equal what tshark counts for that TCP stream (an independent
#       reader), every subflow has a handshake RTT;
#   (b) a kernel <-> kernel capture (dumpcap on both of the server's
#       interfaces: pcapng, two interfaces) of a kernel MPTCP client and
#       server (mptcpize), 8 MiB up and 4 MiB down, with a join on the
#       second path: the same checks;
#   (d) the capture of (b) with its interfaces one after the other (the
#       second interface's records first: mergecap -a), the order a
#       multi-interface capture can have when the capturer drains one
#       buffer late (seen in CI: a join's SYN before its connection's
#       handshake): the analysis must give the same bytes as (b);
#   (c) plots: --svg writes the DSN and throughput SVGs of each direction
#       with data, with a series per subflow.
set -uo pipefail
TEST_NAME=analyze
. "$(dirname "$0")/lib.sh"
interop_require
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v tshark >/dev/null || skip "tshark is not installed (scripts/deps.sh installs it)"
command -v dumpcap >/dev/null || skip "dumpcap (wireshark-common) is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"
TOPO_RATE=50mbit topo_two_paths
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
done
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal || die "endpoint add"
SIZE=$((8 * 1048576))

# check CAPTURE ANALYZE_JSON UP DOWN: the assertions of (a) and (b): UP bytes
# client -> server, DOWN bytes back (-1: not checked).
check() {
	local cap=$1 js=$2
	tshark -r "$cap" -T fields -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.len \
		-Y tcp 2>/dev/null >"$js.tshark" || { echo "  tshark cannot read $cap"; return 1; }
	python3 - "$js" "$js.tshark" "$3" "$4" <<'PY'
import collections, json, sys
j = json.load(open(sys.argv[1]))
size, down = int(sys.argv[3]), int(sys.argv[4])
ok = True
conns = j["connections"]
if not conns:
    print("  no MPTCP connection found"); sys.exit(1)
# The data connection: the one with the most bytes client -> server.
c = max(conns, key=lambda c: c["directions"][0]["bytes"])
up = c["directions"][0]
sfs = [s for s in up["subflows"]]
print("  connection %d: %s -> %s, v%d, tokens %s/%s, %d subflows, %d bytes up, reinjected %d" % (
    c["id"], c["client"], c["server"], c["version"], c["client_token"], c["server_token"],
    len(sfs), up["bytes"], up["reinjected_bytes"]))
if up["bytes"] != size:
    ok = False; print("  data-level bytes up %d, expected %d" % (up["bytes"], size))
if down >= 0:
    got = c["directions"][1]["bytes"]
    print("  %d bytes down" % got)
    if got != down:
        ok = False; print("  data-level bytes down %d, expected %d" % (got, down))
if sum(s["new_bytes"] for s in sfs) != up["bytes"]:
    ok = False; print("  the subflows' new bytes do not add up")
used = [s for s in sfs if s["new_bytes"] > 100000]
if len(used) < 2:
    ok = False; print("  fewer than 2 subflows carried data")
# tshark: payload per directed 4-tuple
ts = collections.Counter()
for line in open(sys.argv[2]):
    f = line.split("\t")
    if len(f) < 5 or not f[4].strip():
        continue
    ts[(f[0], f[1], f[2], f[3])] += int(f[4])
for s in sfs + c["directions"][1]["subflows"]:
    (sa, sp), (da, dp) = s["from"].rsplit(":", 1), s["to"].rsplit(":", 1)
    want = ts[(sa.strip("[]"), sp, da.strip("[]"), dp.strip())]
    mark = "" if want == s["bytes"] else "  <- tshark counts %d" % want
    print("    subflow %d %s -> %s: %d bytes (%.1f %% of the data), retrans %d, reinjected %d, rtt %.2f ms%s" % (
        s["subflow"], s["from"], s["to"], s["bytes"], 100 * s["share"], s["retransmitted_bytes"],
        s["reinjected_bytes"], s.get("rtt_handshake_ms", -1), mark))
    if want != s["bytes"]:
        ok = False
    if not s.get("rtt_handshake_ms", 0) > 0:
        ok = False; print("    no handshake RTT")
sys.exit(0 if ok else 1)
PY
}

echo "-- (a) mpt's capture of mpt cat -N (2 paths, 0.5 % loss) <-> kernel MPTCP server, 8 MiB up, 4 MiB down"
case_a() {
	local d="$WORK/a"
	mkdir -p "$d"
	head -c "$SIZE" /dev/urandom >"$d/up"
	head -c $((SIZE / 2)) /dev/urandom >"$d/down"
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" server --keep-listening \
		--port 5401 --send "$d/down" --recv-out "$d/got" --ready "$d/ready" 2>"$d/peer.err" &
	local ks=$!
	INTEROP_PIDS+=("$ks")
	wait_file "$d/ready" 10 || return 1
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -N --pcap "$d/mpt.pcap" \
		--path "$MP_A/24,dev=mpttun0,loss=0.5" --path "$MP_B/24,dev=mpttun1,loss=0.5" \
		"$SRV_A" 5401 <"$d/up" >"$d/back" 2>"$d/cat.err" || { echo "  mpt cat failed"; show_log "$d/cat.err"; return 1; }
	wait "$ks" || return 1
	same_file "mpt -> kernel" "$d/up" "$d/got" || return 1
	same_file "kernel -> mpt" "$d/down" "$d/back" || return 1
	"$MPT_BIN" analyze -j "$d/mpt.pcap" >"$d/an.json" 2>"$d/an.err" || { show_log "$d/an.err"; return 1; }
	"$MPT_BIN" analyze --svg "$d/svg" "$d/mpt.pcap" >"$d/an.txt" 2>&1 || { show_log "$d/an.txt"; return 1; }
	head -n 16 "$d/an.txt" | sed 's/^/  | /'
	check "$d/mpt.pcap" "$d/an.json" "$SIZE" $((SIZE / 2))
}
case_a
case_result "(a) mpt capture: bytes agree with the transfer and with tshark" $?

echo "-- (b) kernel <-> kernel capture (dumpcap, pcapng, 2 interfaces), 8 MiB up, 4 MiB down"
case_b() {
	local d="$WORK/b"
	mkdir -p "$d"
	head -c "$SIZE" /dev/urandom >"$d/up"
	head -c $((SIZE / 2)) /dev/urandom >"$d/down"
	ip -n "$NS_C" mptcp endpoint add 10.79.0.1 dev mpt-p2c subflow || return 1
	ip netns exec "$NS_S" timeout 60 dumpcap -q -i mpt-p1s -i mpt-p2s -f "tcp port 5402" \
		-w "$d/kk.pcapng" 2>"$d/dumpcap.err" &
	local dc=$!
	INTEROP_PIDS+=("$dc")
	sleep 1.5
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" server --keep-listening \
		--port 5402 --send "$d/down" --recv-out "$d/got" --ready "$d/ready" 2>"$d/peer.err" &
	local ks=$!
	INTEROP_PIDS+=("$ks")
	wait_file "$d/ready" 10 || return 1
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" client --host "$SRV_A" \
		--port 5402 --send "$d/up" --recv-out "$d/back" 2>"$d/cli.err" || { echo "  kernel client failed"; return 1; }
	wait "$ks" || return 1
	sleep 0.5
	kill -INT "$dc"
	wait "$dc"
	ip -n "$NS_C" mptcp endpoint flush
	same_file "kernel -> kernel" "$d/up" "$d/got" || return 1
	"$MPT_BIN" analyze -j "$d/kk.pcapng" >"$d/an.json" 2>"$d/an.err" || { show_log "$d/an.err"; return 1; }
	"$MPT_BIN" analyze --svg "$d/svg" "$d/kk.pcapng" >"$d/an.txt" 2>&1 || return 1
	head -n 16 "$d/an.txt" | sed 's/^/  | /'
	check "$d/kk.pcapng" "$d/an.json" "$SIZE" $((SIZE / 2))
}
case_b
case_result "(b) kernel capture: bytes agree with the transfer and with tshark" $?

echo "-- (d) the capture of (b), interfaces concatenated in reverse order (mergecap -a)"
case_d() {
	local d="$WORK/b"
	[ -s "$d/kk.pcapng" ] || { echo "  no capture from (b)"; return 1; }
	command -v mergecap >/dev/null || { echo "  mergecap (wireshark-common) is missing"; return 1; }
	tshark -r "$d/kk.pcapng" -Y "frame.interface_id == 1" -w "$d/if1.pcapng" 2>/dev/null || return 1
	tshark -r "$d/kk.pcapng" -Y "frame.interface_id == 0" -w "$d/if0.pcapng" 2>/dev/null || return 1
	mergecap -a -w "$d/rev.pcapng" "$d/if1.pcapng" "$d/if0.pcapng" || return 1
	local n1
	n1=$(tshark -r "$d/if1.pcapng" 2>/dev/null | wc -l)
	echo "  $n1 records of interface 1 come first"
	[ "$n1" -gt 0 ] || { echo "  interface 1 carried nothing"; return 1; }
	"$MPT_BIN" analyze -j "$d/rev.pcapng" >"$d/rev.json" 2>"$d/rev.err" || { show_log "$d/rev.err"; return 1; }
	python3 - "$d/rev.json" <<'PY' || return 1
import json, sys
j = json.load(open(sys.argv[1]))
print("  records out of time order beyond the reorder buffer: %d, joins without connection: %d"
      % (j["out_of_order_records"], j["joins_without_connection"]))
sys.exit(0 if j["joins_without_connection"] == 0 else 1)
PY
	check "$d/rev.pcapng" "$d/rev.json" "$SIZE" $((SIZE / 2))
}
case_d
case_result "(d) a capture out of time order across interfaces: the same bytes as (b)" $?

echo "-- (c) plots"
case_c() {
	local rc=0 f
	for f in "$WORK/a/svg/conn"*-up-dsn.svg "$WORK/a/svg/conn"*-up-tput.svg "$WORK/b/svg/conn"*-up-dsn.svg; do
		[ -s "$f" ] || { echo "  missing $f"; rc=1; continue; }
		local series
		series=$(grep -c ">subflow [0-9]*: " "$f")
		echo "  $(basename "$(dirname "$(dirname "$f")")")/$(basename "$f"): $(wc -c <"$f") bytes, $series subflow series"
		[ "$series" -ge 2 ] || { echo "  fewer than 2 subflows plotted"; rc=1; }
		grep -q "<svg" "$f" && grep -q "</svg>" "$f" || rc=1
	done
	return $rc
}
case_c
case_result "(c) SVG plots" $?

[ $FAILED = 0 ] || exit 1
echo "analyze: all cases passed"
