#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Aggregation benchmark (issue 4; a benchmark, not a test): goodput of mpt
# against the Linux kernel's MPTCP over two real paths, side by side with the
# kernel against itself over the SAME two paths, in the same run.
#
#   sudo bash bench/aggregate.sh            # T=10 s per transfer, R=3 repetitions
#   sudo T=3 R=1 bash bench/aggregate.sh    # a quick look
#
# Topology: tests/interop/lib.sh topo_two_paths: a client namespace NS_C and a
# server namespace NS_S joined by two veth pairs (path 1: 10.78.0.0/24, path
# 2: 10.79.0.0/24); mpt runs in NS_C on TUN devices with 10.78.1.1 (routed
# out of path 1 by source) and 10.79.1.1 (path 2).  For kernel -> kernel the
# kernel of NS_C uses its own veth addresses 10.78.0.1 and 10.79.0.1 (an
# `ip mptcp endpoint ... subflow` for the second, and a source rule sending
# it out of path 2), so all scenarios cross the same veths and qdiscs.
#
# Scenarios (each T seconds, repeated R times, interleaved, median reported):
#   mpt->kernel    mpt perf -c (two --path) -> mptcpize run iperf3 -s; the
#                  kernel announces 10.79.0.2 (`endpoint add ... signal`)
#   kernel->mpt    mptcpize run iperf3 -c (kernel endpoint 10.79.0.2 `subflow`)
#                  -> mpt perf -s with two addresses (mpt announces the second)
#   kernel->kernel mptcpize run iperf3 -c (NS_C) -> mptcpize run iperf3 -s (NS_S)
#   kernel->kernel -R: the same with iperf3 -R (data NS_S -> NS_C), the
#                  direction-matched reference of kernel->mpt
# first with tbf at RATE (default 100mbit) on every veth end, then with the
# qdiscs removed (unshaped veths: CPU-bound).  Goodput is the RECEIVER's
# end.sum_received.bits_per_second from its own -J output (mpt perf -J is
# iperf3-compatible).  Writes docs/aggregate.md (OUT overrides).
#
# Environment: T (seconds, 10), R (repetitions, 3), RATE (tbf rate, 100mbit),
# SIGNAL (1: the kernel server announces its 2nd address in mpt->kernel),
# MPT_BIN (use this mpt instead of building build-aggregate/mpt; MPT_SRC: the
# git tree it was built from, for the report), OUT,
# LABEL (a sentence printed at the top of the report, e.g. why it is preliminary).
# Skips loudly (exit 0) without root, network namespaces, TUN or kernel MPTCP.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
T=${T:-10}
R=${R:-3}
RATE=${RATE:-100mbit}
SIGNAL=${SIGNAL:-1}
OUT=${OUT:-docs/aggregate.md}
export TEST_NAME=aggregate # for lib.sh
CMDLINE="T=$T R=$R RATE=$RATE SIGNAL=$SIGNAL bash bench/aggregate.sh"
[ -z "${MPT_BIN:-}" ] || CMDLINE="MPT_BIN=$MPT_BIN${MPT_SRC:+ MPT_SRC=$MPT_SRC} $CMDLINE"

banner_skip() {
	echo "=================================================================="
	echo "SKIP: aggregate benchmark: $*"
	echo "=================================================================="
	exit 0
}

# Cheap checks first, so that a machine that cannot run this does not build.
[ "$(id -u)" = 0 ] || banner_skip "not root (network namespaces, veth, tbf and TUN need root)"
[ -c /dev/net/tun ] || banner_skip "/dev/net/tun does not exist"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] ||
	banner_skip "the kernel has no MPTCP (net.mptcp.enabled is not 1)"
missing=()
for c in ip:iproute2 tc:iproute2 nstat:iproute2 iperf3:iperf3 mptcpize:mptcpize python3:python3; do
	command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	# The same packages scripts/deps.sh installs for the interop suite.
	echo "aggregate: installing ${missing[*]}"
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"; }; then
		banner_skip "cannot install ${missing[*]}"
	fi
fi

if [ -z "${MPT_BIN:-}" ]; then
	bash scripts/deps.sh build
	cmake -S . -B build-aggregate -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DMPT_TESTS=OFF >/dev/null || { echo "aggregate: cmake failed"; exit 1; }
	ninja -C build-aggregate mpt >/dev/null || { echo "aggregate: build failed"; exit 1; }
	MPT_BIN=$ROOT/build-aggregate/mpt
fi
MPT_BIN=$(readlink -f "$MPT_BIN")
export MPT_BIN
. tests/interop/lib.sh
interop_require # netns + TUN-in-netns probe; skips loudly
CASE_TIMEOUT=$((T + 40))

TOPO_RATE=$RATE topo_two_paths
RES="$WORK/results.tsv"
: >"$RES"
MPT_TWO=(--path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1")
CLI_A=10.78.0.1 # NS_C's own veth addresses (kernel -> kernel)
CLI_B=10.79.0.1
# kernel -> kernel: NS_C's kernel opens a second subflow from CLI_B, which
# leaves on path 2 (table 102 of topo_two_paths) like mpt's MP_B does.
ip -n "$NS_C" mptcp endpoint add "$CLI_B" dev mpt-p2c subflow || die "endpoint add in $NS_C"
ip -n "$NS_C" rule add from "$CLI_B" table 102 pref 99 || die "source rule for $CLI_B"

PORT=7100
next_port() { PORT=$((PORT + 1)); }

wait_listen() { # wait_listen NS PORT
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# Bytes sent on each path (both veth ends, so data + ACKs): "p1 p2".
path_bytes() {
	local i s=""
	for i in 1 2; do
		s+="$(($(ip netns exec "$NS_C" cat /sys/class/net/mpt-p${i}c/statistics/tx_bytes) +
			$(ip netns exec "$NS_S" cat /sys/class/net/mpt-p${i}s/statistics/tx_bytes))) "
	done
	echo "$s"
}

server_endpoints() { # server_endpoints none|signal|subflow
	ip -n "$NS_S" mptcp endpoint flush
	[ "$1" = none ] || ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s "$1"
}

# record TOPO SCENARIO REP RC RECEIVER_JSON SUBFLOWS BYTES_BEFORE BYTES_AFTER
record() {
	local topo=$1 sc=$2 rep=$3 rc=$4 json=$5 nsf=$6 b0=$7 b1=$8
	python3 - "$topo" "$sc" "$rep" "$rc" "$json" "$nsf" "$b0" "$b1" >>"$RES" <<'PY'
import json, sys
topo, sc, rep, rc, path, nsf, b0, b1 = sys.argv[1:9]
try:
    bps = json.load(open(path))["end"]["sum_received"]["bits_per_second"]
except Exception:
    bps = 0.0
p = [int(a) - int(b) for a, b in zip(b1.split(), b0.split())]
share = p[0] / (p[0] + p[1]) if sum(p) > 0 else 0.0
ok = 1 if rc == "0" and bps > 0 else 0
print("%s\t%s\t%s\t%d\t%.3f\t%s\t%.3f" % (topo, sc, rep, ok, bps / 1e6, nsf, share))
PY
	tail -n 1 "$RES" | awk -F'\t' '{ printf "  %-9s %-16s rep %s: %8.1f Mbit/s  subflows %s  path-1 share %.2f%s\n",
		$1, $2, $3, $5, $6, $7, $4 == 1 ? "" : "  FAILED" }'
}

# The kernel's view of its MPTCP connections half-way through a transfer.
sample_subflows() { # sample_subflows FILE
	sleep "$(awk -v t="$T" 'BEGIN { print t / 2 }')"
	ip netns exec "$NS_S" ss -HMin >"$1" 2>&1
}
ss_subflows() { # 1 + the most joined subflows of any MPTCP socket in an ss -Mi sample
	grep -o 'subflows:[0-9]*' "$1" 2>/dev/null | awk -F: '$2 + 0 > m { m = $2 + 0 }
		END { print (NR ? m + 1 : "?") }'
}

mpt_subflows() { # number of subflows in an mpt -J output
	python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['mptcp']['subflows']))" \
		"$1" 2>/dev/null || echo "?"
}

# mpt perf -c (two paths) -> mptcpize iperf3 -s.  Receiver: iperf3 -s.
run_mpt_to_kernel() {
	local topo=$1 rep=$2 d b0 b1 spid src mrc
	d=$(mktemp -d "$WORK/$1-mk-$2.XXX")
	next_port
	if [ "$SIGNAL" = 1 ]; then server_endpoints signal; else server_endpoints none; fi
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -s -1 -J -p "$PORT" \
		>"$d/recv.json" 2>"$d/srv.err" &
	spid=$!
	INTEROP_PIDS+=("$spid")
	wait_listen "$NS_S" "$PORT" || echo "  iperf3 -s is not listening"
	b0=$(path_bytes)
	mpt_c perf -c "$SRV_A" -p "$PORT" -t "$T" -J "${MPT_TWO[@]}" >"$d/send.json" 2>"$d/mpt.err"
	mrc=$?
	wait "$spid"
	src=$?
	b1=$(path_bytes)
	record "$topo" "mpt->kernel" "$rep" $((mrc | src)) "$d/recv.json" \
		"$(mpt_subflows "$d/send.json")" "$b0" "$b1"
	[ $((mrc | src)) = 0 ] || { show_log "$d/mpt.err"; show_log "$d/srv.err"; }
}

# mptcpize iperf3 -c (NS_S) -> mpt perf -s (two addresses).  Receiver: mpt.
run_kernel_to_mpt() {
	local topo=$1 rep=$2 d b0 b1 mpid src mrc
	d=$(mktemp -d "$WORK/$1-km-$2.XXX")
	next_port
	server_endpoints subflow
	mpt_c perf -s -1 -p "$PORT" -J "${MPT_TWO[@]}" >"$d/recv.json" 2>"$d/mpt.err" &
	mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_route "$NS_C" "$MP_B" mpttun1 10 || echo "  mpt did not set up its TUNs"
	sleep 0.3
	b0=$(path_bytes)
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -c "$MP_A" -p "$PORT" \
		-t "$T" -J >"$d/send.json" 2>"$d/cli.err"
	src=$?
	wait "$mpid"
	mrc=$?
	b1=$(path_bytes)
	record "$topo" "kernel->mpt" "$rep" $((mrc | src)) "$d/recv.json" \
		"$(mpt_subflows "$d/recv.json")" "$b0" "$b1"
	[ $((mrc | src)) = 0 ] || { show_log "$d/mpt.err"; show_log "$d/cli.err"; }
}

# mptcpize iperf3 -c (NS_C, kernel addresses) -> mptcpize iperf3 -s (NS_S).
# $3 = -R: data flows NS_S -> NS_C and the client is the receiver.
run_kernel_to_kernel() {
	local topo=$1 rep=$2 rev=${3:-} d b0 b1 spid src crc recv sc nsf
	d=$(mktemp -d "$WORK/$1-kk${rev}-$2.XXX")
	next_port
	server_endpoints none
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -s -1 -J -p "$PORT" \
		>"$d/srv.json" 2>"$d/srv.err" &
	spid=$!
	INTEROP_PIDS+=("$spid")
	wait_listen "$NS_S" "$PORT" || echo "  iperf3 -s is not listening"
	b0=$(path_bytes)
	sample_subflows "$d/ss.txt" &
	local sspid=$!
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -c "$SRV_A" -B "$CLI_A" \
		-p "$PORT" -t "$T" -J ${rev:+"$rev"} >"$d/cli.json" 2>"$d/cli.err"
	crc=$?
	wait "$spid"
	src=$?
	wait "$sspid"
	b1=$(path_bytes)
	nsf=$(ss_subflows "$d/ss.txt")
	if [ -n "$rev" ]; then
		recv="$d/cli.json" sc="kernel->kernel-R"
	else
		recv="$d/srv.json" sc="kernel->kernel"
	fi
	record "$topo" "$sc" "$rep" $((crc | src)) "$recv" "$nsf" "$b0" "$b1"
	[ $((crc | src)) = 0 ] || { show_log "$d/cli.err"; show_log "$d/srv.err"; }
}

# A run that fails is recorded (it counts in "runs ok") and tried once more.
last_ok() { [ "$(tail -n 1 "$RES" | cut -f4)" = 1 ]; }
run_all() { # run_all TOPO: R interleaved rounds of the four scenarios
	local rep
	for ((rep = 1; rep <= R; rep++)); do
		run_mpt_to_kernel "$1" "$rep"
		last_ok || run_mpt_to_kernel "$1" "$rep"
		run_kernel_to_mpt "$1" "$rep"
		last_ok || run_kernel_to_mpt "$1" "$rep"
		run_kernel_to_kernel "$1" "$rep"
		last_ok || run_kernel_to_kernel "$1" "$rep"
		run_kernel_to_kernel "$1" "$rep" -R
		last_ok || run_kernel_to_kernel "$1" "$rep" -R
	done
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== aggregate: 2 x $RATE tbf paths, $T s x $R (load average $LOAD0)"
run_all shaped
# The same veths without their qdiscs: only CPU limits the goodput.
for i in 1 2; do
	ip netns exec "$NS_C" tc qdisc del dev "mpt-p${i}c" root
	ip netns exec "$NS_S" tc qdisc del dev "mpt-p${i}s" root
done
echo "== aggregate: 2 unshaped veth paths, $T s x $R"
run_all unshaped
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
KCC=$(ip netns exec "$NS_S" sysctl -n net.ipv4.tcp_congestion_control)

# The source the mpt binary was built from: this tree, or MPT_SRC (e.g. a
# clean clone) when MPT_BIN points elsewhere.
SRC=${MPT_SRC:-$ROOT}
REV=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SRC" diff --quiet HEAD -- src include tools CMakeLists.txt 2>/dev/null ||
	REV="$REV (with uncommitted changes)"
python3 - "$RES" "$CMDLINE" "$T" "$R" "$RATE" "$SIGNAL" "$REV" "$LOAD0" "$LOAD1" "$KCC" "${LABEL:-}" <<'PY' >"$OUT"
import sys, statistics, datetime, platform, os
res, cmd, T, R, rate, signal, rev, load0, load1, kcc, label = sys.argv[1:12]
rows = [l.rstrip("\n").split("\t") for l in open(res) if l.strip()]
order = ["mpt->kernel", "kernel->mpt", "kernel->kernel", "kernel->kernel-R"]
desc = {
    "mpt->kernel": ("mpt perf -c -> kernel iperf3 -s", "client -> server (NS_C -> NS_S)", "kernel->kernel"),
    "kernel->mpt": ("kernel iperf3 -c -> mpt perf -s", "client -> server (NS_S -> NS_C)", "kernel->kernel-R"),
    "kernel->kernel": ("kernel iperf3 -c -> kernel iperf3 -s", "client -> server (NS_C -> NS_S)", "kernel->kernel"),
    "kernel->kernel-R": ("kernel iperf3 -c -R <- kernel iperf3 -s", "server -> client (NS_S -> NS_C)", "kernel->kernel-R"),
}
def stats(topo, sc):
    v = [float(r[4]) for r in rows if r[0] == topo and r[1] == sc and r[3] == "1"]
    n = len([r for r in rows if r[0] == topo and r[1] == sc])
    sf = sorted(set(r[5] for r in rows if r[0] == topo and r[1] == sc and r[3] == "1"))
    sh = [float(r[6]) for r in rows if r[0] == topo and r[1] == sc and r[3] == "1"]
    return v, n, sf, sh
kver = platform.release()
ncpu = os.cpu_count()
print("# Aggregation benchmark: mpt and the Linux kernel's MPTCP over two paths\n")
if label:
    print("> **%s**\n" % label)
print("Produced by `%s` (as root) on %s, mpt %s, Linux %s, %d CPUs (%s)." % (
    cmd, datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), rev, kver, ncpu, platform.machine()))
print("Each transfer lasts %s s; %s repetition(s) per scenario, interleaved "
      "(round 1 of every scenario, then round 2, ...). Load average before/after: %s / %s.\n" % (
      T, R, load0, load1))
print("Goodput is the **receiver's** `end.sum_received.bits_per_second` from its own `-J` output "
      "(iperf3 3.12, or `mpt perf -J`, which is iperf3-compatible). The ratio is the median over "
      "the median of kernel -> kernel in the same direction over the same paths "
      "(kernel -> mpt is compared with kernel -> kernel `-R`, whose data also flows from the "
      "server namespace to the client namespace).\n")
for topo, title in (("shaped", "Two %s tbf paths" % rate.replace("mbit", " Mbit/s")),
                    ("unshaped", "Two unshaped veth paths (CPU-bound)")):
    print("## %s\n" % title)
    print("| scenario | direction | goodput median (Mbit/s) | min / max | runs ok | subflows | path-1 share of bytes | ratio to kernel -> kernel |")
    print("|---|---|---|---|---|---|---|---|")
    med = {}
    for sc in order:
        v, n, sf, sh = stats(topo, sc)
        med[sc] = statistics.median(v) if v else None
    for sc in order:
        v, n, sf, sh = stats(topo, sc)
        name, dirn, ref = desc[sc]
        if v:
            m = med[sc]
            mm = "%.1f / %.1f" % (min(v), max(v))
            ratio = "%.2f" % (m / med[ref]) if med[ref] else "n/a"
            share = "%.2f" % statistics.median(sh)
            ms = "%.1f" % m
        else:
            ms, mm, ratio, share = "failed", "-", "n/a", "-"
        print("| %s | %s | %s | %s | %d/%d | %s | %s | %s |" % (
            name, dirn, ms, mm, len(v), n, ",".join(sf) or "-", share, ratio))
    print()
print("""## Setup

- Topology: `topo_two_paths` of `tests/interop/lib.sh`: namespaces NS_C and NS_S joined by
  two veth pairs, path 1 (10.78.0.0/24) and path 2 (10.79.0.0/24). mpt runs in NS_C on TUN
  devices `mpttun0` (10.78.1.1, routed out of path 1 by source) and `mpttun1` (10.79.1.1,
  path 2); NS_S routes 10.78.1.0/24 back over path 1 and 10.79.1.0/24 over path 2.
- Shaping: `tc qdisc add dev DEV root tbf rate %s burst 64kb latency 20ms` on **both** ends of
  both veths; the unshaped half of the run deletes these qdiscs (same veths, same namespaces).
- mpt -> kernel: `mptcpize run iperf3 -s -1 -J` in NS_S with `ip mptcp endpoint add 10.79.0.2
  dev mpt-p2s signal` (SIGNAL=%s); `mpt perf -c 10.78.0.2 -t T -J --path 10.78.1.1/24,dev=mpttun0
  --path 10.79.1.1/24,dev=mpttun1` in NS_C (default scheduler, path manager fullmesh, cc cubic).
- kernel -> mpt: `mpt perf -s -1 -J` with the same two `--path`s in NS_C; `mptcpize run iperf3 -c
  10.78.1.1 -t T -J` in NS_S with `ip mptcp endpoint add 10.79.0.2 dev mpt-p2s subflow`.
- kernel -> kernel: NS_C's kernel uses its own veth addresses: `ip mptcp endpoint add 10.79.0.1
  dev mpt-p2c subflow` and `ip rule add from 10.79.0.1 table 102` (path 2), NS_S has no
  endpoint; `mptcpize run iperf3 -c 10.78.0.2 -B 10.78.0.1 -t T -J [-R]` in NS_C against
  `mptcpize run iperf3 -s -1 -J` in NS_S. Both namespaces: `ip mptcp limits set subflow 4
  add_addr_accepted 4`.
- Subflows: for mpt, the subflows in its `-J` `mptcp` section; for kernel -> kernel, 1 + the
  largest `subflows:` (joined subflows) of the server namespace's `ss -Mi` sampled half-way
  through the transfer. Path-1 share: tx bytes (data and ACKs, both veth ends) of path 1 over
  both paths during the transfer.
- Congestion control: mpt uses its default (cubic, not coupled); the kernel's MPTCP subflows
  use the namespaces' `net.ipv4.tcp_congestion_control` (%s here), uncoupled.
- A run that fails (an exit status other than 0, or no goodput in the receiver's JSON) is kept
  in "runs ok" and the per-run table, and tried once more; medians use the runs that worked.

## Notes and approximations

- The client namespace forwards mpt's packets between its TUN devices and the veths, so mpt's
  traffic crosses one more kernel hop (TUN + IP forwarding) than the kernel -> kernel traffic,
  which starts on the veth itself; unshaped, that forwarding costs CPU that kernel -> kernel
  does not pay. The kernel's TCP also gets TSO/GSO/GRO on veth; mpt's TUN path moves one
  MSS-sized packet per read/write.
- Subflow counts differ by design: with the kernel announcing 10.79.0.2, mpt's fullmesh path
  manager opens up to 4 subflows (2 per path: both server addresses from each local address,
  each local address pinned to its path by source routing), while the kernel -> kernel
  reference has 1 per path. SIGNAL=0 runs mpt -> kernel without the announcement (2 subflows).
- kernel -> mpt: NS_S routes by destination (no source rules there), so the path a kernel
  subflow takes is set by the mpt address it goes to; the kernel joins mpt's announced
  10.79.1.1 from its `subflow` endpoint, which puts one subflow on each path.
- Each figure is one connection (one stream, iperf3 `-P 1`); the time-based test (`-t T`)
  includes slow start, which weighs more in short runs (small T).
- Figures depend on whatever else the machine runs at the time (see load averages above); a
  two-CPU machine shared with builds makes the unshaped (CPU-bound) half especially noisy.
""" % (rate, signal, kcc))
print("## Per-run figures\n")
print("| paths | scenario | round | ok | goodput (Mbit/s) | subflows | path-1 share |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %s | %s | %s | %s | %s | %s |" % (r[0], r[1], r[2], "yes" if r[3] == "1" else "no", r[4], r[5], r[6]))
PY
echo "== wrote $OUT"
cat "$OUT"
