#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt cat` over plain TCP against the Linux kernel's TCP (issue 4, phase 1).
#
# Cases: (a) mpt client -> kernel server, 16 MiB each way at once;
# (b) kernel client -> `mpt cat -l`, 16 MiB each way; (c) the same as (a)
# over IPv6; (d) as (a) with 20 ms delay and 1 % loss emulated on mpt's path;
# (e) mpt's --pcap is written and readable; (f) a refused connection fails
# loudly; (g) an emulated rate limits the goodput; (h) an existing TUN is
# attached and `-l -k` serves connections one after another.  Integrity: SHA-256 of every
# stream.  Every process runs under `timeout` so nothing hangs.
set -uo pipefail
TEST_NAME=cat_plain
. "$(dirname "$0")/lib.sh"
interop_require
topo_two_ns

V4=10.77.1.1
V6=fd77:1::1
SRV4=10.77.0.2
SRV6=fd77::2
mpt_c() {
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat --no-mptcp "$@"
}

# mpt connects to a kernel server; both send SIZE_MIB at once.
# client_to_kernel NAME SIZE_MIB SERVER PORT V6FLAG PATH... [-- EXTRA mpt options]
client_to_kernel() {
	local name=$1 size=$2 srv=$3 port=$4 v6=$5 path=$6
	shift 6
	local d="$WORK/$name"
	mkdir -p "$d"
	head -c "${size}M" /dev/urandom >"$d/up"
	head -c "${DOWN_MIB:-$size}M" /dev/urandom >"$d/down"
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" python3 "$PEER" server $v6 \
		--port "$port" --send "$d/down" --recv-out "$d/srv_got" --ready "$d/ready" \
		2>"$d/peer.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || { echo "  kernel server did not start"; show_log "$d/peer.err"; return 1; }
	local t0 mrc
	t0=$(date +%s%N)
	if [ "${CAT_PIPES:-0}" = 1 ]; then
		# stdin and stdout are pipes (polled), not regular files.
		cat "$d/up" | mpt_c --path "$path" "$@" "$srv" "$port" 2>"$d/mpt.err" |
			cat >"$d/cli_got"
		mrc=${PIPESTATUS[1]}
	else
		mpt_c --path "$path" "$@" "$srv" "$port" <"$d/up" >"$d/cli_got" 2>"$d/mpt.err"
		mrc=$?
	fi
	LAST_NS=$(($(date +%s%N) - t0))
	wait "$spid"
	local prc=$?
	echo "  mpt exit $mrc, kernel peer exit $prc, $((LAST_NS / 1000000)) ms"
	local rc=0
	[ $mrc = 0 ] || rc=1
	[ $prc = 0 ] || rc=1
	same_file "mpt -> kernel" "$d/up" "$d/srv_got" || rc=1
	same_file "kernel -> mpt" "$d/down" "$d/cli_got" || rc=1
	if [ $rc != 0 ]; then
		show_log "$d/mpt.err"
		show_log "$d/peer.err"
	fi
	return $rc
}

# (a) mpt client -> kernel server, IPv4.
echo "-- (a) mpt cat -N -> kernel TCP server, IPv4, 16 MiB each way, stdin/stdout pipes"
CAT_PIPES=1 client_to_kernel a 16 "$SRV4" 5001 "" "$V4/24,dev=mpttun0" -N -v
case_result "(a) mpt client -> kernel server (IPv4)" $?

# (b) kernel client -> mpt cat -l.
echo "-- (b) kernel TCP client -> mpt cat -l, IPv4, 16 MiB each way"
case_b() {
	local d="$WORK/b"
	mkdir -p "$d"
	head -c 16M /dev/urandom >"$d/up"
	head -c 16M /dev/urandom >"$d/down"
	mpt_c -N -l -v --path "$V4/24,dev=mpttun0" 5002 <"$d/down" >"$d/mpt_got" \
		2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_route "$NS_C" "$V4" mpttun0 10 || { echo "  mpt did not set up its TUN"; show_log "$d/mpt.err"; return 1; }
	local t0=$SECONDS
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" python3 "$PEER" client --host "$V4" \
		--port 5002 --send "$d/up" --recv-out "$d/peer_got" 2>"$d/peer.err"
	local prc=$?
	wait "$mpid"
	local mrc=$?
	echo "  mpt exit $mrc, kernel peer exit $prc, $((SECONDS - t0)) s"
	local rc=0
	[ $mrc = 0 ] || rc=1
	[ $prc = 0 ] || rc=1
	same_file "kernel -> mpt" "$d/up" "$d/mpt_got" || rc=1
	same_file "mpt -> kernel" "$d/down" "$d/peer_got" || rc=1
	# The kernel must not own mpt's address (it would answer with RSTs).
	if ip -n "$NS_C" addr show | grep -q "inet $V4/"; then
		echo "  the kernel owns $V4"
		rc=1
	fi
	if [ $rc != 0 ]; then
		show_log "$d/mpt.err"
		show_log "$d/peer.err"
	fi
	return $rc
}
case_b
case_result "(b) kernel client -> mpt server (IPv4)" $?

# (c) IPv6.
echo "-- (c) mpt cat (no -N) -> kernel TCP server, IPv6, 16 MiB each way"
client_to_kernel c 16 "$SRV6" 5003 --v6 "$V6/64,dev=mpttun0"
case_result "(c) mpt client -> kernel server (IPv6)" $?

# (d) emulated delay and loss on mpt's path (both directions).
echo "-- (d) as (a) with delay=20 ms and loss=1 % emulated on the path, 4 MiB each way"
client_to_kernel d 4 "$SRV4" 5004 "" "$V4/24,dev=mpttun0,delay=20,loss=1" -N -v --seed 7
rc=$?
if [ $rc = 0 ]; then
	# The emulator must really have dropped packets and delayed them.
	grep -q "emulated loss [1-9]" "$WORK/d/mpt.err" || { echo "  no emulated loss reported"; show_log "$WORK/d/mpt.err"; rc=1; }
	grep -Eq "srtt (4[0-9]|[5-9][0-9]|[1-9][0-9]{2,})\." "$WORK/d/mpt.err" ||
		{ echo "  srtt does not reflect 2 x 20 ms delay"; show_log "$WORK/d/mpt.err"; rc=1; }
	grep -E "emulated loss|srtt" "$WORK/d/mpt.err" | sed 's/^/  /'
fi
case_result "(d) delay 20 ms + loss 1 %: intact" $rc

# (e) pcap of what the stack sends and receives.
echo "-- (e) --pcap: 1 MiB each way, capture readable"
case_e() {
	local pcap="$WORK/e.pcap"
	client_to_kernel e 1 "$SRV4" 5005 "" "$V4/24,dev=mpttun0" -N --pcap "$pcap" || return 1
	[ -s "$pcap" ] || { echo "  no pcap written"; return 1; }
	python3 - "$pcap" <<'PY' || return 1
import struct, sys
data = open(sys.argv[1], "rb").read()
magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
assert magic == 0xA1B2C3D4, "bad pcap magic %#x" % magic
assert link == 101, "linktype %d, expected 101 (LINKTYPE_RAW)" % link
off, n, tcp = 24, 0, 0
payload = {}
while off + 16 <= len(data):
    sec, usec, caplen, wirelen = struct.unpack("<IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    n += 1
    if len(pkt) >= 40 and pkt[0] >> 4 == 4 and pkt[9] == 6:
        tcp += 1
        ihl = (pkt[0] & 15) * 4
        tot = struct.unpack(">H", pkt[2:4])[0]
        assert tot == len(pkt) == wirelen, "IP length %d, captured %d" % (tot, len(pkt))
        thl = (pkt[ihl + 12] >> 4) * 4
        src = bytes(pkt[12:16])
        payload[src] = payload.get(src, 0) + tot - ihl - thl
assert off == len(data), "trailing garbage in the pcap"
# With segmentation offload the capture holds what crossed the TUN device
# (super-segments, as tcpdump shows on a TSO interface): count the bytes,
# not the packets.  Each direction carried 1 MiB (retransmissions add).
assert len(payload) == 2 and min(payload.values()) >= 1048576, \
    "TCP payload per source %s" % payload
print("  pcap (python): %d packets, %d TCP, payload per direction %s" %
      (n, tcp, sorted(payload.values())))
PY
	if command -v tshark >/dev/null; then
		local cnt
		cnt=$(tshark -r "$pcap" -Y tcp -T fields -e tcp.len 2>/dev/null |
			awk '{ s += $1 } END { print s + 0 }')
		echo "  pcap (tshark): $cnt B of TCP payload"
		[ "$cnt" -ge 2097152 ] || { echo "  tshark found too few TCP bytes"; return 1; }
	fi
	return 0
}
case_e
case_result "(e) --pcap written and readable" $?

# (g) emulated rate: 8 MiB through 40 Mbit/s (one way: the reverse
# direction carries only ACKs) runs at 30 to 40 Mbit/s of goodput.
echo "-- (g) rate=40 Mbit/s emulated on the path, 8 MiB mpt -> kernel"
case_g() {
	DOWN_MIB=0 client_to_kernel g 8 "$SRV4" 5006 "" "$V4/24,dev=mpttun0,rate=40" -N -v ||
		return 1
	grep -E "emulat|srtt" "$WORK/g/mpt.err" | sed 's/^/  /'
	python3 -c "
import sys
secs = $LAST_NS / 1e9
mbit = 8 * 8388608 / secs / 1e6
print('  %.2f s, %.1f Mbit/s goodput (limit 40 on the wire)' % (secs, mbit))
sys.exit(0 if 30 <= mbit <= 40 else 1)"
}
case_g
case_result "(g) rate 40 Mbit/s enforced" $?

# (f) errors: a refused connection is reported with a non-zero exit.
echo "-- (f) connection refused: message on stderr, exit status 1"
case_f() {
	local err="$WORK/f.err" rc
	mpt_c --path "$V4/24,dev=mpttun0" "$SRV4" 5999 </dev/null >/dev/null 2>"$err"
	rc=$?
	echo "  exit $rc: $(head -n 1 "$err")"
	[ $rc = 1 ] && grep -qi "refused" "$err"
}
case_f
case_result "(f) refused connection reported" $?

# (h) an existing TUN device (attached, not created) and `-l -k`: two
# kernel clients one after the other; mpt's stdout holds both streams.
echo "-- (h) attach to an existing TUN; mpt cat -l -k serves two clients in turn"
case_h() {
	local d="$WORK/h"
	mkdir -p "$d"
	ip -n "$NS_C" tuntap add mode tun name mpt-pre0 || { echo "  cannot create mpt-pre0"; return 1; }
	head -c 1M /dev/urandom >"$d/one"
	head -c 1M /dev/urandom >"$d/two"
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat --no-mptcp -l -k -v \
		--path "$V4/24,dev=mpt-pre0" 5007 </dev/null >"$d/got" 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_route "$NS_C" "$V4" mpt-pre0 10 || { echo "  no route via mpt-pre0"; show_log "$d/mpt.err"; return 1; }
	local rc=0 f
	for f in one two; do
		ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" python3 "$PEER" client --host "$V4" \
			--port 5007 --send "$d/$f" --recv-out /dev/null 2>>"$d/peer.err" || rc=1
	done
	sleep 0.2
	kill "$mpid" 2>/dev/null
	wait "$mpid" 2>/dev/null
	cat "$d/one" "$d/two" >"$d/both"
	same_file "two clients -> mpt -l -k" "$d/both" "$d/got" || rc=1
	grep -q "attached to TUN mpt-pre0" "$d/mpt.err" || { echo "  did not attach"; rc=1; }
	[ "$(grep -c "connection from" "$d/mpt.err")" = 2 ] || { echo "  not two connections"; rc=1; }
	ip -n "$NS_C" link show mpt-pre0 >/dev/null 2>&1 || { echo "  attached device was removed"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/mpt.err"; show_log "$d/peer.err"; }
	return $rc
}
case_h
case_result "(h) existing TUN + -l -k" $?

if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
