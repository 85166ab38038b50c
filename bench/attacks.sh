#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): the converter and proxy attacks of issue 11, on
# mpt before and after its service hardening, in one run, on the same
# machine and topology.
#   bench/attacks.sh [BUILD_DIR]      (root: network namespaces, TUN)
# Writes docs/attacks.md (the whole file: every figure in it comes from
# this script).
#
# "before" is mpt built from $BEFORE_REV (default cedccd1, main just before
# the hardening: no per-source limits, a fixed 10 s handshake timeout that
# only fired when something else woke the loop, no destination policy
# beyond the allow-list); "after" is BUILD_DIR's mpt (default: a Release
# build of this tree in build-bench).
#
# Topology: tests/interop/svc_lib.sh (client namespace with two source
# addresses, converter namespace, server namespace; no shaping, no delay).
# Scenarios:
#  1. baseline: one client converting in a row (Convert message, answer,
#     100 B echoed) for $BASE_S s: conversions per second, latency.
#  2. slowloris: $N_SLOW connections from 10.81.0.10 that send 2 bytes of a
#     Convert header and stall (reopened when closed, at most 1000 new per
#     second) while 10.81.0.1 converts every 100 ms for $ATTACK_S s (each
#     attempt given 5 s): success rate, latency p50/p99/max, the longest
#     time without a successful conversion, the converter's CPU use and peak
#     RSS during the attack.
#  Scenarios 1 and 2 run $REPEAT times, before and after alternately; the
#  median of each figure is reported.
#  3. SOCKS5 stall: $N_STALL connections to `mpt proxy --socks5` announcing
#     255 methods and sending 1, then silent: how many the proxy still holds
#     after 14 s (the default negotiation deadline is 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ "$(id -u)" = 0 ] || { echo "bench/attacks.sh: needs root"; exit 1; }
BEFORE_REV=${BEFORE_REV:-cedccd1}
N_SLOW=${N_SLOW:-2000}
ATTACK_S=${ATTACK_S:-20}
BASE_S=${BASE_S:-5}
N_STALL=${N_STALL:-200}
REPEAT=${REPEAT:-3}
build=${1:-$root/build-bench}
if [ -z "${1:-}" ]; then
	cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMPT_TESTS=OFF >/dev/null
	ninja -C "$build" mpt >/dev/null
fi
AFTER=$build/mpt
# The "before" tree, exported from git (no checkout of this worktree moves).
old_src=$root/build-bench-before/src
old_build=$root/build-bench-before/build
if [ ! -x "$old_build/mpt" ] || [ "$(cat "$root/build-bench-before/rev" 2>/dev/null)" != "$BEFORE_REV" ]; then
	rm -rf "$root/build-bench-before"
	mkdir -p "$old_src"
	git -C "$root" archive "$BEFORE_REV" | tar -x -C "$old_src"
	cmake -S "$old_src" -B "$old_build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMPT_TESTS=OFF \
		>/dev/null
	ninja -C "$old_build" mpt >/dev/null
	echo "$BEFORE_REV" >"$root/build-bench-before/rev"
fi
BEFORE=$old_build/mpt
SP=$root/tests/interop/svc_peer.py

# The interop tests' helpers, without their skip logic.
TEST_NAME=bench-attacks
. "$root/tests/interop/lib.sh"
. "$root/tests/interop/svc_lib.sh"
topo_svc
# lib.sh's cleanup kills processes that may be gone: under set -e a failing
# kill would end the trap before the namespaces are deleted.
trap 'set +e; interop_cleanup' EXIT
CONV=10.81.1.1
ip netns exec "$NS_S" python3 "$SP" echo-server --bind 0.0.0.0 --port 7000 \
	--ready "$WORK/s.ready" 2>/dev/null &
INTEROP_PIDS+=($!)
wait_file "$WORK/s.ready" 10 || die "echo server did not start"

cpu_ms() { # user+system CPU of PID in ms
	awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"
}

# summary FILE: "success% p50 p99 max gap n" from svc_peer legit output
summary() {
	python3 - "$1" <<'EOF'
import sys
rows = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3 and f[1] in ("OK", "FAIL"):
        rows.append((float(f[0]), f[1] == "OK", float(f[2])))
ok = [r for r in rows if r[1]]
lat = sorted(r[2] for r in ok)
def pct(p):
    return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] * 1e3 if lat else float("nan")
# longest time without a successful conversion: from the first attempt to
# the first success, between successes (attempt start + latency), and from
# the last success to the end of the last attempt
end = max(r[0] + r[2] for r in rows) if rows else 0.0
ends = [rows[0][0] if rows else 0.0] + sorted(r[0] + r[2] for r in ok) + [end]
gap = max(b - a for a, b in zip(ends, ends[1:])) if rows else float("nan")
dur = rows[-1][0] - rows[0][0] if len(rows) > 1 else float("nan")
print("%.1f %.1f %.1f %.1f %.2f %d %.1f" % (100.0 * len(ok) / max(1, len(rows)), pct(50), pct(99),
      (max(lat) * 1e3 if lat else float("nan")), gap, len(rows), len(ok) / dur if dur > 0 else 0))
EOF
}

# run_convert BIN PORT NAME ATTACK(0|1): sets RES (summary + " cpu% rssMB")
run_convert() {
	local bin=$1 port=$2 name=$3 attack=$4 d="$WORK/$3"
	mkdir -p "$d"
	ip netns exec "$NS_V" "$bin" convert -q --msl 2 --path "$CONV/24,dev=mpttun0" \
		--allow 10.82.0.2:7000 "$port" 2>"$d/conv.err" &
	local cpid=$!
	INTEROP_PIDS+=($cpid)
	wait_route "$NS_V" "$CONV" mpttun0 10 || die "converter $name did not start"
	sleep 0.5
	local dur=$BASE_S interval=0
	[ "$attack" = 1 ] && dur=$ATTACK_S interval=0.1
	local apid=""
	if [ "$attack" = 1 ]; then
		ip netns exec "$NS_C" bash -c "ulimit -n $((N_SLOW + 1024)) && exec python3 '$SP' slowloris \
			--conv '$CONV:$port' --src 10.81.0.10 -n $N_SLOW --duration $((ATTACK_S + 2)) \
			--rate 1000" >"$d/slow.out" 2>&1 &
		apid=$!
		sleep 2
	fi
	local c0 t0 c1 t1 rss=0 r
	c0=$(cpu_ms $cpid)
	t0=$(date +%s%N)
	ip netns exec "$NS_C" python3 "$SP" legit --conv "$CONV:$port" --dest 10.82.0.2:7000 \
		--src 10.81.0.1 --duration "$dur" --interval "$interval" --timeout 5 >"$d/legit.out" 2>&1 &
	local lpid=$!
	while kill -0 $lpid 2>/dev/null; do
		r=$(awk '/^VmRSS/ { print $2 }' "/proc/$cpid/status" 2>/dev/null || echo 0)
		[ "${r:-0}" -gt "$rss" ] && rss=$r
		sleep 0.5
	done
	wait $lpid || true
	grep " FAIL " "$d/legit.out" | head -n 3 | sed "s/^/    $name failed: /" >&2 || true
	c1=$(cpu_ms $cpid)
	t1=$(date +%s%N)
	[ -n "$apid" ] && wait "$apid" 2>/dev/null || true
	kill -TERM $cpid 2>/dev/null
	wait $cpid 2>/dev/null || true
	RES="$(summary "$d/legit.out") $(python3 -c "print('%.0f %.1f' % ((${c1} - ${c0}) / ((${t1} - ${t0}) / 1e6) * 100, ${rss} / 1024))")"
	echo "  $name: $RES" >&2
}

# median "A B C" "A B C" ...: per-field median of the runs
median() {
	python3 -c '
import sys, statistics
runs = [r.split() for r in sys.argv[1:]]
print(" ".join("%g" % statistics.median(float(r[i]) for r in runs) for i in range(len(runs[0]))))' "$@"
}

# run_stall BIN PORT NAME: sets STALL_RES ("held-after-14s fds-before fds-at-13s")
run_stall() {
	local bin=$1 port=$2 name=$3 d="$WORK/$3"
	mkdir -p "$d"
	ip netns exec "$NS_C" "$bin" proxy --socks5 --convert "$CONV:5124" \
		--path 10.81.2.1/24,dev=mpttun0 "127.0.0.1:$port" 2>"$d/proxy.err" &
	local ppid=$!
	INTEROP_PIDS+=($ppid)
	wait_route "$NS_C" 10.81.2.1 mpttun0 10 || die "proxy $name did not start"
	sleep 0.5
	local f0 f1
	f0=$(ls "/proc/$ppid/fd" | wc -l)
	ip netns exec "$NS_C" bash -c "ulimit -n 4096 && exec python3 -c '
import socket, time
ss = []
for i in range($N_STALL):
    s = socket.create_connection((\"127.0.0.1\", $port))
    s.sendall(bytes([5, 255, 0]))
    ss.append(s)
time.sleep(14)
held = 0
for s in ss:
    s.setblocking(False)
    try:
        held += 1 if s.recv(1) is None else 0
    except BlockingIOError:
        held += 1
    except OSError:
        pass
print(held)
'" >"$d/held.out" 2>&1 &
	local spid=$!
	sleep 13
	f1=$(ls "/proc/$ppid/fd" | wc -l)
	wait $spid || true
	kill -TERM $ppid 2>/dev/null
	wait $ppid 2>/dev/null || true
	STALL_RES="$(tail -n 1 "$d/held.out") $f0 $f1"
	echo "  $name: $STALL_RES" >&2
}

LOAD0=$(cut -d' ' -f1 /proc/loadavg)
port=5200
BB=() BA=() SB=() SA=()
for r in $(seq "$REPEAT"); do
	echo "== run $r of $REPEAT: baseline (no attack)"
	run_convert "$BEFORE" $((port += 1)) "base_before_$r" 0
	BB+=("$RES")
	run_convert "$AFTER" $((port += 1)) "base_after_$r" 0
	BA+=("$RES")
	echo "== run $r of $REPEAT: slowloris, $N_SLOW slow connections from one source"
	run_convert "$BEFORE" $((port += 1)) "slow_before_$r" 1
	SB+=("$RES")
	run_convert "$AFTER" $((port += 1)) "slow_after_$r" 1
	SA+=("$RES")
done
BASE_B=$(median "${BB[@]}")
BASE_A=$(median "${BA[@]}")
SLOW_B=$(median "${SB[@]}")
SLOW_A=$(median "${SA[@]}")
echo "== SOCKS5 stalled greetings"
run_stall "$BEFORE" 1090 stall_before
STALL_B=$STALL_RES
run_stall "$AFTER" 1091 stall_after
STALL_A=$STALL_RES

f() { echo "$1" | awk -v i="$2" '{ print $i }'; }
out=docs/attacks.md
{
	echo "# Attacks on \`mpt convert\` and \`mpt proxy\`: before and after (issue 11)"
	echo
	echo "Generated by \`bench/attacks.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs, Linux $(uname -r),"
	echo "load average $LOAD0 at the start and $(cut -d' ' -f1 /proc/loadavg) at the end: other jobs shared the CPUs);"
	echo "do not edit by hand.  \"after\": this tree (\`$(git -C "$root" rev-parse --short HEAD)\`); \"before\": mpt at \`$BEFORE_REV\` (no per-source limits, a 10 s"
	echo "handshake timeout checked only when something woke the loop, no SOCKS5"
	echo "negotiation timer).  Three namespaces (tests/interop/svc_lib.sh),"
	echo "no shaping or emulated delay; the clients are Python (tests/interop/svc_peer.py) on"
	echo "the same 2 CPUs, so absolute figures are CPU-bound and vary between runs: compare the"
	echo "columns of one run.  Connection scenarios: median of $REPEAT runs, before and after"
	echo "alternately."
	echo
	echo "## Conversions from one client, no attack ($BASE_S s, in a row)"
	echo
	echo "| | before | after |"
	echo "|---|---|---|"
	echo "| conversions per second | $(f "$BASE_B" 7) | $(f "$BASE_A" 7) |"
	echo "| latency p50 / p99 (ms) | $(f "$BASE_B" 2) / $(f "$BASE_B" 3) | $(f "$BASE_A" 2) / $(f "$BASE_A" 3) |"
	echo "| converter CPU (% of one core) | $(f "$BASE_B" 8) | $(f "$BASE_A" 8) |"
	echo
	echo "\"after\" asks the kernel for the route of every destination (one netlink round trip)"
	echo "and checks the host's address table before connecting."
	echo
	echo "## Slowloris: $N_SLOW connections from one source sending 2 bytes of a Convert header"
	echo
	echo "Another source converts every 100 ms for $ATTACK_S s during the attack (each attempt"
	echo "given 5 s; a failure is a refusal, a reset or no answer within 5 s)."
	echo
	echo "| | before | after |"
	echo "|---|---|---|"
	echo "| legitimate conversions that succeeded | $(f "$SLOW_B" 1) % of $(f "$SLOW_B" 6) | $(f "$SLOW_A" 1) % of $(f "$SLOW_A" 6) |"
	echo "| latency p50 / p99 / max (ms) | $(f "$SLOW_B" 2) / $(f "$SLOW_B" 3) / $(f "$SLOW_B" 4) | $(f "$SLOW_A" 2) / $(f "$SLOW_A" 3) / $(f "$SLOW_A" 4) |"
	echo "| longest time without a successful conversion (s) | $(f "$SLOW_B" 5) | $(f "$SLOW_A" 5) |"
	echo "| converter CPU during the attack (% of one core) | $(f "$SLOW_B" 8) | $(f "$SLOW_A" 8) |"
	echo "| converter peak RSS (MB) | $(f "$SLOW_B" 9) | $(f "$SLOW_A" 9) |"
	echo
	echo 'After: once a quarter of `--max-conns` (512) wait for their Convert message, a source'
	echo "may hold 8 of them; the attacker's other connections are refused at once (Error TLV"
	echo "64, Resource Exceeded, 16 per second; a bare RST beyond); the handshake deadline"
	echo "shrinks from 10 s towards 1 s as the table fills, and a full table evicts a waiting"
	echo "connection of the source with the most waiting.  Figures are medians"
	echo "of the runs, field by field."
	echo
	echo "## SOCKS5: $N_STALL greetings announcing 255 methods and sending one"
	echo
	echo "| | before | after |"
	echo "|---|---|---|"
	echo "| stalled connections the proxy still holds after 14 s | $(f "$STALL_B" 1) of $N_STALL | $(f "$STALL_A" 1) of $N_STALL |"
	echo "| proxy descriptors: idle / 13 s into the stall | $(f "$STALL_B" 2) / $(f "$STALL_B" 3) | $(f "$STALL_A" 2) / $(f "$STALL_A" 3) |"
	echo
	echo "After: \`--handshake-timeout\` (default 10 s) is a timer of its own; before, the deadline"
	echo "was only looked at when a packet or another event woke the loop."
} >"$out"
echo "wrote $out"
# The interop helpers kill processes that may be gone already: not an error here.
set +e
interop_cleanup
trap - EXIT
exit 0
