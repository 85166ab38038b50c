#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks (not tests).  Writes docs/bench.md with:
#  1. simulator speed: simulated time / wall time, 2 flows x 100 Mbit/s;
#  2. engine cost: instructions per payload byte under callgrind: the self
#     cost of every function compiled from the engine's sources (src/wire,
#     src/tcp, src/cc, src/mptcp, src/core/stack.c) — not the simulator, the
#     payload generator or the test app's SHA-256 — plus, separately, libc's
#     memcpy/memmove (all callers, so an upper bound for the engine's copies);
#  3. side by side, the Linux kernel's TCP over loopback in the same run:
#     CPU time per byte of iperf3 (client + server, user+sys), and ours in the
#     simulator (whole process, so simulator overhead is included: an upper
#     bound for the engine).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
command -v iperf3 >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3; }
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPT_TESTS=OFF >/dev/null
ninja -C build-bench sim_bench >/dev/null
out=docs/bench.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== simulator speed"
/usr/bin/time -f "%U %S" -o "$tmp/t1" ./build-bench/sim_bench 2 64 100 20 | tee "$tmp/speed"
read -r u1 s1 < "$tmp/t1"

echo "== engine cost (callgrind)"
# engine_cost PROTO: "bytes total engine copies" of one 16 MiB flow
engine_cost() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg-$1.out" ./build-bench/sim_bench 1 16 100 \
		20 "$1" >"$tmp/cg-$1.stdout" 2>"$tmp/cg-$1.stderr"
	callgrind_annotate --auto=no --threshold=100 "$tmp/cg-$1.out" >"$tmp/cg-$1.txt" 2>/dev/null
	# Lines look like "  1,234 (0.5%)  src/tcp/tcp_in.c:tcp_ack [binary]"; inline helpers
	# from src/common.h and src/mib.h count as engine code.
	echo "$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$tmp/cg-$1.stdout")" \
		"$(grep -m1 "PROGRAM TOTALS" "$tmp/cg-$1.txt" | awk '{gsub(",","",$1); print $1}')" \
		"$(awk '$0 ~ /[ \/]src\/(wire|tcp|cc|mptcp)\// || $0 ~ /[ \/]src\/(core\/stack\.c|common\.h|mib\.h):/ {gsub(",","",$1); s+=$1} END {print s+0}' "$tmp/cg-$1.txt")" \
		"$(awk '$0 ~ /:__mem(cpy|move)/ {gsub(",","",$1); s+=$1} END {print s+0}' "$tmp/cg-$1.txt")"
}
engine_cost tcp >"$tmp/cost"
engine_cost mptcp >>"$tmp/cost"

echo "== kernel TCP over loopback (iperf3, 1 GiB)"
/usr/bin/time -f "%U %S" -o "$tmp/t3" iperf3 -s -1 -p 5299 >/dev/null 2>&1 &
srv=$!
sleep 0.5
/usr/bin/time -f "%U %S" -o "$tmp/t2" iperf3 -c 127.0.0.1 -p 5299 -n 1G -J >"$tmp/ip.json"
wait $srv || true
read -r u2 s2 < "$tmp/t2"
read -r u3 s3 < "$tmp/t3"
u2=$(python3 -c "print($u2 + $u3)")
s2=$(python3 -c "print($s2 + $s3)")
kbps=$(python3 -c "import json;d=json.load(open('$tmp/ip.json'));print(round(d['end']['sum_received']['bits_per_second']/1e9,2))")
kcpu=$(python3 -c "import json;d=json.load(open('$tmp/ip.json'));c=d['end']['cpu_utilization_percent'];print(round(c['host_total'],1), round(c['remote_total'],1))")

python3 - "$tmp" "$u1" "$s1" "$kbps" "$kcpu" "$u2" "$s2" <<'PY' >"$out"
import sys, re, platform, datetime
tmp,u1,s1,kbps,kcpu,u2,s2 = sys.argv[1:8]
cost = [l.split() for l in open(f"{tmp}/cost")]
speed = open(f"{tmp}/speed").read()
m = dict(re.findall(r"(\w+)=([\w.]+)", speed))
sim_cpu = float(u1)+float(s1)
b1 = 2*64*1048576
print("# Benchmarks\n")
print(f"Produced by `bash bench/run.sh` on {datetime.date.today()} ({platform.machine()}, "
      f"{open('/proc/cpuinfo').read().count('processor')} cores). Figures are from one run.\n")
print("## Simulator speed (2 TCP flows x 100 Mbit/s, 20 ms RTT, 64 MiB each)\n")
print("| simulated time | wall time | simulated/wall | events | intact |")
print("|---|---|---|---|---|")
print(f"| {m['simulated_s']} s | {m['wall_s']} s | {m['speedup']}x | {m['events']} | {m['intact']} |\n")
print("## Engine cost (callgrind, 1 flow, 16 MiB, both ends)\n")
print("| connection | engine code (self) | libc memcpy/memmove (all callers) | whole process | payload bytes | engine instr/byte | copies instr/byte | engine+copies instr/byte | process instr/byte |")
print("|---|---|---|---|---|---|---|---|---|")
for label, (b, t, e, c) in zip(("TCP", "MPTCP, 1 subflow"), cost):
    b, t, e, c = int(b), int(t), int(e), int(c)
    print(f"| {label} | {e:,} | {c:,} | {t:,} | {b:,} | {e/b:.2f} | {c/b:.2f} | {(e+c)/b:.2f} | {t/b:.1f} |")
print()
print("Copies per byte, MPTCP: the data goes application -> data-level send buffer -> packet on the sender "
      "(two copies; a subflow copies into its own send ring only bytes it must keep after DATA_ACK, and "
      "reinjected bytes), packet -> data-level receive buffer -> application on the receiver "
      "when a subflow's data comes in order (two; out of order at the subflow level it goes through the "
      "subflow's receive ring first: three); the simulator adds its own copy of each packet; the subflows read "
      "from and write to the data-level buffers directly, without a scratch buffer in between "
      "(docs/architecture.md).\n")
print("Engine code = self cost of every function compiled from src/wire, src/tcp, src/cc, "
      "src/mptcp, src/core/stack.c (and inline helpers from src/common.h, src/mib.h), for sender and receiver together (checksums included). "
      "The process total also holds the simulator, the payload generator and SHA-256 of both streams.\n")
print("## Side by side: Linux kernel TCP (same run)\n")
print("Hardware counters are not available on this machine (`perf stat` says not supported), "
      "so the comparison is CPU time per byte.\n")
kc = (float(u2)+float(s2))
print("| | bytes | CPU time (user+sys) | CPU ns/byte | note |")
print("|---|---|---|---|---|")
print(f"| mpt in simulator (2 flows, whole process) | {b1:,} | {sim_cpu:.2f} s | {sim_cpu*1e9/b1:.2f} | includes simulator + SHA-256 of both ends |")
print(f"| kernel TCP, loopback, iperf3 client + server | {1<<30:,} | {kc:.2f} s | {kc*1e9/(1<<30):.2f} | both processes (softirq work may be charged to either); {kbps} Gbit/s |")
print("\n## Throughput on real links, and where the CPU goes\n")
print("mpt against the Linux kernel over veth paths in network namespaces (shaped and unshaped, "
      "one and two paths, CPU per byte): [aggregate.md](aggregate.md), written by "
      "`bash bench/aggregate.sh`; a perf profile of mpt's process receiving and sending: "
      "[profile.md](profile.md), written by `bash bench/profile.sh`.")
print("\n## Memory\n")
print("Per-connection memory of idle connections (simulator, with and without buffers) and "
      "10,000 idle connections through `mpt convert`, next to the kernel: "
      "[memory.md](memory.md), written by `bash bench/memory.sh`.")
print("\n## Timers\n")
print("Cost per packet, per `mpt_stack_on_timer` and per `mpt_stack_next_deadline` call with "
      "10 to 10,000 idle connections beside one bulk connection (simulator): "
      "[timers.md](timers.md), written by `bash bench/timers.sh`.")
PY
cat "$out"
