#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Slowloris on `mpt convert` (issue 11, finding 4): 2,000 connections from
# one source, each sending 2 bytes of a Convert header and nothing more
# (reopened whenever the converter closes one, up to $RATE new connections
# per second), must not stop conversions from another source.
#
# Topology: svc_lib.sh.  The attacker is 10.81.0.10, the legitimate client
# 10.81.0.1 (both in $NS_C, plain kernel TCP, an independent RFC 8803
# client); `mpt convert` in $NS_V; an echo server in $NS_S.
#
# (a) default limits (--max-conns 512; once 128 connections wait for their
#     Convert message, 8 per source; once 256 are held, 64 per source):
#     every legitimate conversion attempted during the attack succeeds (one
#     every 100 ms for $LEGIT_S s, each given $LEGIT_TIMEOUT s); the
#     converter refused the attacker by source (per-source-refusals).
# (b) per-source limits off (--max-per-source 0
#     --max-handshakes-per-source 0) and --max-conns 256: the table fills
#     with the attacker's connections, and the handshake deadline scaled to
#     the load plus eviction of the connection that waited longest keep the
#     legitimate client served: every attempt succeeds.
# Latencies (p50 / p99 / max) are printed, not asserted (no wall-clock
# bounds in tests; bench/attacks.sh measures them).
set -uo pipefail
TEST_NAME=convert_slowloris
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svc_lib.sh"
interop_require
SP="$INTEROP_DIR/svc_peer.py"
N_SLOW=${N_SLOW:-2000}
LEGIT_S=${LEGIT_S:-12}
LEGIT_TIMEOUT=${LEGIT_TIMEOUT:-10}
# The attacker reopens what the converter closes, at most RATE new
# connections per second.  Under AddressSanitizer the converter runs several
# times slower: 1,000 handshakes a second are more than it can process on 2
# busy CPUs (the SYN queue overflows, the legitimate client's message is
# read after its deadline), which is no test of the limits: fewer there.
if ldd "$MPT_BIN" 2>/dev/null | grep -q libasan || grep -qa "__asan_init" "$MPT_BIN"; then
	RATE=${RATE:-250}
else
	RATE=${RATE:-1000}
fi

topo_svc
CONV=10.81.1.1
ip netns exec "$NS_S" python3 "$SP" echo-server --bind 0.0.0.0 --port 7000 \
	--ready "$WORK/s.ready" 2>"$WORK/s.err" &
INTEROP_PIDS+=($!)
wait_file "$WORK/s.ready" 10 || die "echo server did not start"

# attack NAME PORT CONVERT_OPTIONS...: run the converter, the legitimate
# client and the attacker; sets ATTACK_RC (0: every legitimate attempt ok).
attack() {
	local name=$1 port=$2
	shift 2
	local d="$WORK/$name"
	mkdir -p "$d"
	ip netns exec "$NS_V" "$MPT_BIN" convert --path "$CONV/24,dev=mpttun0" -q --msl 2 \
		--allow 10.82.0.2:7000 "$@" "$port" 2>"$d/conv.err" &
	local cpid=$!
	INTEROP_PIDS+=($cpid)
	wait_route "$NS_V" "$CONV" mpttun0 10 || { show_log "$d/conv.err"; return 1; }
	sleep 0.3
	ip netns exec "$NS_C" timeout $((LEGIT_S + 60)) python3 "$SP" legit \
		--conv "$CONV:$port" --dest 10.82.0.2:7000 --src 10.81.0.1 --duration "$LEGIT_S" \
		--interval 0.1 --timeout "$LEGIT_TIMEOUT" >"$d/legit.out" 2>"$d/legit.err" &
	local lpid=$!
	sleep 2
	ip netns exec "$NS_C" bash -c "ulimit -n $((N_SLOW + 1024)) && exec timeout $((LEGIT_S + 30)) \
		python3 '$SP' slowloris --conv '$CONV:$port' --src 10.81.0.10 -n $N_SLOW \
		--duration $((LEGIT_S - 2)) --rate $RATE" >"$d/slow.out" 2>"$d/slow.err" &
	local apid=$!
	# Mid-attack: what the converter holds, and its memory.
	sleep $((LEGIT_S / 2))
	kill -USR1 "$cpid"
	sleep 0.3
	echo "  mid-attack: $(awk '/counter conns-handshaking/ { h = $NF } /counter conns-active/ { a = $NF } /counter sources/ { s = $NF } END { print "handshaking " h ", active " a ", sources " s }' "$d/conv.err"), VmRSS $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$cpid/status")"
	wait "$apid"
	wait "$lpid"
	ATTACK_RC=$?
	sed 's/^/  /' "$d/slow.out"
	tail -n 1 "$d/legit.out" | sed 's/^/  /'
	grep " FAIL " "$d/legit.out" | head -n 5 | sed 's/^/  failed: /'
	kill -TERM "$cpid"
	wait "$cpid"
	local crc=$?
	grep -E "counter (per-source-refusals|handshake-evictions|handshake-timeouts|refused-with-rst|conversions|error-resource-exceeded|stack-heap-bytes)" \
		"$d/conv.err" | tail -n 7 | sed 's/^/  /'
	if [ $crc != 0 ] || grep -q "Sanitizer\|runtime error" "$d/conv.err"; then
		echo "  mpt convert exit status $crc"
		show_log "$d/conv.err"
		ATTACK_RC=1
	fi
	grep -q "legit: attempts [1-9]" "$d/legit.out" || ATTACK_RC=1
	awk -v n="$N_SLOW" '/slowloris:/ { exit !($3 >= n) }' "$d/slow.out" ||
		{ echo "  the attack opened fewer than $N_SLOW connections"; ATTACK_RC=1; }
}

echo "-- (a) $N_SLOW slow connections from 10.81.0.10, default limits; conversions from 10.81.0.1"
case_a() {
	attack a 5124
	local rc=$ATTACK_RC
	grep -q "counter per-source-refusals [1-9]" "$WORK/a/conv.err" ||
		{ echo "  the attacker was not refused by source"; rc=1; }
	return $rc
}
case_a
case_result "(a) per-source limits: every legitimate conversion succeeds during the attack" $?

echo "-- (b) per-source limits off, --max-conns 256: scaled deadline + eviction"
case_b() {
	attack b 5125 --max-per-source 0 --max-handshakes-per-source 0 --max-conns 256
	local rc=$ATTACK_RC
	grep -qE "counter (handshake-evictions|handshake-timeouts) [1-9]" "$WORK/b/conv.err" ||
		{ echo "  neither evictions nor timeouts: the table never filled?"; rc=1; }
	return $rc
}
case_b
case_result "(b) no per-source limits: deadline scaled to load keeps conversions going" $?

if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
