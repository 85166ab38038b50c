#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt perf` (plain TCP, --no-mptcp) against stock iperf3 (issue 4).
#
# Cases: (a) mpt perf -c -t -> iperf3 -s; (b) -n (the intervals, the last
# partial one included, add up to the transfer); (b2) -n --no-offload; (c)
# -R; (d) iperf3 -c -> mpt perf -s; (e) iperf3 -c -R -n -> mpt perf -s -J; (f) -P 3 streams
# (refused before issue 15); (g) no server: non-zero exit.  Checks exit
# codes, the bytes iperf3's own JSON (-J) reports, and that mpt's -J output parses and has the
# "mptcp" object.  Every process runs under `timeout`.
set -uo pipefail
TEST_NAME=perf_plain
. "$(dirname "$0")/lib.sh"
interop_require
command -v iperf3 >/dev/null || skip "iperf3 is not installed (scripts/deps.sh installs it)"
topo_two_ns

V4=10.77.1.1
SRV4=10.77.0.2
PATH_OPT="$V4/24,dev=mpttun0"
mpt_perf() {
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" perf --no-mptcp \
		--path "$PATH_OPT" "$@"
}

# jq-like checks with python3: json_check FILE 'python expression on j'
json_check() {
	python3 - "$1" "$2" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("  %s: not JSON: %s" % (sys.argv[1], e))
    sys.exit(1)
ok = eval(sys.argv[2], {"j": j})
if not ok:
    print("  check failed on %s: %s" % (sys.argv[1], sys.argv[2]))
    e = j.get("end", {})
    print("    error=%r sum_sent=%r sum_received=%r" % (j.get("error"),
          e.get("sum_sent", {}).get("bytes"), e.get("sum_received", {}).get("bytes")))
sys.exit(0 if ok else 1)
PY
}

# mpt client -> iperf3 -s.  client_case NAME PORT MPT_ARGS...
client_case() {
	local name=$1 port=$2
	shift 2
	local d="$WORK/$name"
	mkdir -p "$d"
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" iperf3 -s -1 -J -p "$port" \
		>"$d/iperf3.json" 2>"$d/iperf3.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	sleep 0.3
	mpt_perf -c "$SRV4" -p "$port" "$@" >"$d/mpt.out" 2>"$d/mpt.err"
	local mrc=$?
	wait "$spid"
	local src=$?
	echo "  mpt perf exit $mrc, iperf3 -s exit $src"
	[ $mrc = 0 ] && [ $src = 0 ] && return 0
	show_log "$d/mpt.out"
	show_log "$d/mpt.err"
	show_log "$d/iperf3.err"
	return 1
}

echo "-- (a) mpt perf -c -t 2 -> iperf3 -s (human output)"
case_a() {
	client_case a 5201 -t 2 || return 1
	local d="$WORK/a" rc=0
	grep -Eq "^\[  5\] +0\.00-2\.[0-9]+ +sec .* sender$" "$d/mpt.out" || { echo "  no sender row"; rc=1; }
	grep -Eq "^\[  5\] +0\.00-[0-9.]+ +sec .* receiver$" "$d/mpt.out" || { echo "  no receiver row"; rc=1; }
	[ "$(grep -Ec '^\[  5\] +[0-9.]+-[0-9.]+ +sec .*Bytes' "$d/mpt.out")" -ge 4 ] ||
		{ echo "  fewer than 2 interval rows"; rc=1; }
	json_check "$d/iperf3.json" 'j["end"]["sum_received"]["bytes"] > 1000000' || rc=1
	grep -E "sender|receiver" "$d/mpt.out" | sed 's/^/  /'
	[ $rc = 0 ] || show_log "$d/mpt.out"
	return $rc
}
case_a
case_result "(a) mpt perf -c -t -> iperf3 -s" $?

echo "-- (b) mpt perf -c -n 8M -J -> iperf3 -s -J"
case_b() {
	client_case b 5202 -n 8M -J -v || return 1
	local d="$WORK/b" rc=0
	json_check "$d/mpt.out" 'j["end"]["sum_sent"]["bytes"] == 8388608 and "mptcp" in j and j["mptcp"]["enabled"] is False and len(j["intervals"]) >= 1 and j["start"]["test_start"]["bytes"] == 8388608' || rc=1
	intervals_cover "$d/mpt.out" || rc=1
	json_check "$d/iperf3.json" '0 < j["end"]["sum_received"]["bytes"] <= 8388608' || rc=1
	python3 -c "
import json; j = json.load(open('$d/iperf3.json'))
print('  iperf3 -s received %d of 8388608 B' % j['end']['sum_received']['bytes'])"
	grep -h "offload" "$d/mpt.err" | sed 's/^/  /'
	return $rc
}
# As iperf3: the intervals, the last partial one included however short
# (8 MiB may take a few ms with TUN offload), add up to the whole transfer
# and end where the test ends.
intervals_cover() {
	python3 - "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
iv = j["intervals"]
total = sum(i["sum"]["bytes"] for i in iv)
end = j["end"]["sum_sent"]
print("  %d interval(s), %d B in them, the last ending at %.4f s; sum_sent %d B in %.4f s" %
      (len(iv), total, iv[-1]["sum"]["end"] if iv else -1, end["bytes"], end["end"]))
ok = iv and total == end["bytes"] and abs(iv[-1]["sum"]["end"] - end["end"]) < 1e-3 and \
    all(i["sum"]["seconds"] > 0 for i in iv)
if not ok:
    print("  the intervals do not cover the transfer")
sys.exit(0 if ok else 1)
PY
}
case_b
case_result "(b) mpt perf -c -n -> iperf3 -s; JSON" $?

echo "-- (b2) --no-offload: mpt perf -c -n 8M -J -v --no-offload -> iperf3 -s"
case_b2() {
	client_case b2 5208 -n 8M -J -v --no-offload || return 1
	local d="$WORK/b2" rc=0
	grep -q "segmentation/checksum offload off" "$d/mpt.err" ||
		{ echo "  -v does not say the offload is off"; show_log "$d/mpt.err"; rc=1; }
	json_check "$d/mpt.out" 'j["end"]["sum_sent"]["bytes"] == 8388608' || rc=1
	intervals_cover "$d/mpt.out" || rc=1
	json_check "$d/iperf3.json" '0 < j["end"]["sum_received"]["bytes"] <= 8388608' || rc=1
	return $rc
}
case_b2
case_result "(b2) --no-offload" $?

echo "-- (c) mpt perf -c -R -t 2 -J -> iperf3 -s -J"
case_c() {
	client_case c 5203 -R -t 2 -J || return 1
	local d="$WORK/c" rc=0
	json_check "$d/mpt.out" 'j["end"]["sum_received"]["bytes"] > 1000000 and j["end"]["sum_received"]["sender"] is False and "mptcp" in j' || rc=1
	json_check "$d/iperf3.json" 'j["end"]["sum_sent"]["bytes"] > 1000000' || rc=1
	return $rc
}
case_c
case_result "(c) mpt perf -c -R -> iperf3 -s" $?

# iperf3 -c -> mpt perf -s -1.  server_case NAME PORT MPT_ARGS -- IPERF3_ARGS
server_case() {
	local name=$1 port=$2
	shift 2
	local margs=() iargs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		margs+=("$1")
		shift
	done
	shift
	iargs=("$@")
	local d="$WORK/$name"
	mkdir -p "$d"
	mpt_perf -s -1 -p "$port" "${margs[@]}" >"$d/mpt.out" 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_route "$NS_C" "$V4" mpttun0 10 || { echo "  mpt did not set up its TUN"; show_log "$d/mpt.err"; return 1; }
	sleep 0.2
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" iperf3 -c "$V4" -p "$port" -J "${iargs[@]}" \
		>"$d/iperf3.json" 2>"$d/iperf3.err"
	local src=$?
	wait "$mpid"
	local mrc=$?
	echo "  iperf3 -c exit $src, mpt perf -s exit $mrc"
	[ $mrc = 0 ] && [ $src = 0 ] && return 0
	show_log "$d/mpt.out"
	show_log "$d/mpt.err"
	show_log "$d/iperf3.json"
	return 1
}

echo "-- (d) iperf3 -c -t 2 -J -> mpt perf -s -1"
case_d() {
	server_case d 5204 -- -t 2 || return 1
	local d="$WORK/d" rc=0
	json_check "$d/iperf3.json" 'j["end"]["sum_sent"]["bytes"] > 1000000 and j["end"]["sum_received"]["bytes"] > 1000000 and "error" not in j' || rc=1
	grep -Eq "receiver$" "$d/mpt.out" || { echo "  mpt printed no summary"; rc=1; }
	python3 -c "
import json; e = json.load(open('$d/iperf3.json'))['end']
print('  iperf3 sent %d B, mpt received %d B (%.0f Mbit/s)' % (e['sum_sent']['bytes'],
      e['sum_received']['bytes'], e['sum_received']['bits_per_second'] / 1e6))"
	return $rc
}
case_d
case_result "(d) iperf3 -c -> mpt perf -s" $?

echo "-- (e) iperf3 -c -R -n 8M -J -> mpt perf -s -1 -J"
case_e() {
	server_case e 5205 -J -- -R -n 8M || return 1
	local d="$WORK/e" rc=0
	json_check "$d/iperf3.json" 'j["end"]["sum_received"]["bytes"] == 8388608 and "error" not in j' || rc=1
	json_check "$d/mpt.out" 'j["end"]["sum_sent"]["bytes"] == 8388608 and j["end"]["sum_sent"]["sender"] is True and "mptcp" in j and len(j["mptcp"]["subflows"]) == 1' || rc=1
	return $rc
}
case_e
case_result "(e) iperf3 -c -R -n -> mpt perf -s -J" $?

echo "-- (f) -P 3 (three streams; issue 15: was refused) -> iperf3 -s"
case_f() {
	client_case f 5206 -t 2 -P 3 -J || return 1
	json_check "$WORK/f/mpt.out" 'len(j["end"]["streams"]) == 3 and all(s["sender"]["bytes"] > 100000 for s in j["end"]["streams"]) and j["end"]["sum_sent"]["bytes"] == sum(s["sender"]["bytes"] for s in j["end"]["streams"])' || return 1
	json_check "$WORK/f/iperf3.json" 'len(j["end"]["streams"]) == 3 and "error" not in j'
}
case_f
case_result "(f) -P 3" $?

echo "-- (g) no server: non-zero exit, reason on stderr"
case_g() {
	local err="$WORK/g.err" rc
	mpt_perf -c "$SRV4" -p 5299 -t 1 >/dev/null 2>"$err"
	rc=$?
	echo "  exit $rc: $(head -n 1 "$err")"
	[ $rc = 1 ] && grep -qi "refused" "$err"
}
case_g
case_result "(g) refused connection reported" $?

if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
