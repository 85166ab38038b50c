#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Throughput benchmark (issues 4 and 13; a benchmark, not a test): goodput
# and CPU cost of mpt against the Linux kernel over real veth paths, side by
# side with the kernel against itself over the SAME paths, in the same run:
# MPTCP over two paths (shaped, then unshaped) against the kernel's MPTCP,
# and MPTCP over one unshaped path against the kernel's plain TCP.
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
# Sections (each scenario T seconds, repeated R times, interleaved, median,
# min and max reported; a failed run is recorded and tried once more):
#   shaped    two paths, tbf at RATE (default 100mbit) on every veth end
#   unshaped  the same two paths with the qdiscs removed (CPU-bound)
#   path1     path 1 only, unshaped (CPU-bound), one subflow (PATHS1=0: skip)
# Scenarios of the two-path sections:
#   mpt->kernel    mpt perf -c (two --path) -> mptcpize run iperf3 -s; the
#                  kernel announces 10.79.0.2 (`endpoint add ... signal`)
#   kernel->mpt    mptcpize run iperf3 -c (kernel endpoint 10.79.0.2 `subflow`)
#                  -> mpt perf -s with two addresses (mpt announces the second)
#   kernel->kernel mptcpize run iperf3 -c (NS_C) -> mptcpize run iperf3 -s (NS_S)
#   kernel->kernel -R: the same with iperf3 -R (data NS_S -> NS_C), the
#                  direction-matched reference of kernel->mpt
# Scenarios of the one-path section (no endpoints in NS_S, one --path for mpt):
#   mpt->kernel    mpt perf -c (--path 10.78.1.1) -> mptcpize run iperf3 -s
#   kernel->mpt    mptcpize run iperf3 -c (NS_S) -> mpt perf -s (--path 10.78.1.1)
#   tcp->tcp       plain iperf3 -c (NS_C, from 10.78.0.1) -> plain iperf3 -s
#                  (NS_S): the kernel's TCP over path 1, reference of mpt->kernel
#   tcp->tcp -R    the same with -R (data NS_S -> NS_C), reference of kernel->mpt
# Columns: goodput is the RECEIVER's end.sum_received.bits_per_second from its
# own -J output (mpt perf -J is iperf3-compatible); subflows; path-1 share of
# the bytes on both veths; ratio of the median to the median of the kernel's
# reference in the same direction; in the unshaped sections also "CPU ns per
# byte (whole machine)": the busy jiffies of /proc/stat's cpu line (user +
# nice + system + irq + softirq + steal, all CPUs, getconf CLK_TCK) during the
# transfer over the receiver's end.sum_received.bytes, and "mpt process CPU
# ns/byte": user + system time of the mpt process (/usr/bin/time -f "%U %S")
# over the same bytes.  Writes docs/aggregate.md (OUT overrides).
#
# Environment: T (seconds, 10), R (repetitions, 3), RATE (tbf rate, 100mbit),
# SIGNAL (1: the kernel server announces its 2nd address in two-path
# mpt->kernel), PATHS1 (1: run the one-path section; 0: skip it),
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
PATHS1=${PATHS1:-1}
OUT=${OUT:-docs/aggregate.md}
export TEST_NAME=aggregate # for lib.sh
CMDLINE="T=$T R=$R RATE=$RATE SIGNAL=$SIGNAL PATHS1=$PATHS1 bash bench/aggregate.sh"
[ -z "${MPT_BIN:-}" ] || CMDLINE="MPT_BIN=$MPT_BIN${MPT_SRC:+ MPT_SRC=$MPT_SRC} $CMDLINE"

BENCH=aggregate
. bench/netns_lib.sh
# The same packages scripts/deps.sh installs for the interop suite.
bench_require ip:iproute2 tc:iproute2 nstat:iproute2 iperf3:iperf3 mptcpize:mptcpize \
	python3:python3 /usr/bin/time:time getconf:libc-bin
bench_mpt
. tests/interop/lib.sh
interop_require # netns + TUN-in-netns probe; skips loudly
CASE_TIMEOUT=$((T + 40))
HZ=$(getconf CLK_TCK)

TOPO_RATE=$RATE topo_two_paths
RES="$WORK/results.tsv"
: >"$RES"
CLI_A=10.78.0.1 # NS_C's own veth addresses (kernel -> kernel)
CLI_B=10.79.0.1
# kernel -> kernel: NS_C's kernel opens a second subflow from CLI_B, which
# leaves on path 2 (table 102 of topo_two_paths) like mpt's MP_B does.
ip -n "$NS_C" mptcp endpoint add "$CLI_B" dev mpt-p2c subflow || die "endpoint add in $NS_C"
ip -n "$NS_C" rule add from "$CLI_B" table 102 pref 99 || die "source rule for $CLI_B"

PORT=7100
next_port() { PORT=$((PORT + 1)); }

# mpt's --path options in a section: path 1 only in "path1", else both.
mpt_paths() { # mpt_paths TOPO: sets MPT_PATHS
	MPT_PATHS=(--path "$MP_A/24,dev=mpttun0")
	[ "$1" = path1 ] || MPT_PATHS+=(--path "$MP_B/24,dev=mpttun1")
}

# mpt in the client namespace, bounded by CASE_TIMEOUT, its own CPU time
# ("user system" seconds) written to FILE.
mpt_timed() { # mpt_timed FILE ARGS...
	local f=$1
	shift
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" /usr/bin/time -f "%U %S" -o "$f" "$MPT_BIN" "$@"
}

# Busy jiffies of all CPUs: user + nice + system + irq + softirq + steal.
cpu_busy() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

wait_listen() { # wait_listen NS PORT
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# Bytes sent on each path (both veth ends, so data + ACKs) and the busy
# jiffies of the machine: "p1 p2 jiffies".
sample() {
	local i s=""
	for i in 1 2; do
		s+="$(($(ip netns exec "$NS_C" cat /sys/class/net/mpt-p${i}c/statistics/tx_bytes) +
			$(ip netns exec "$NS_S" cat /sys/class/net/mpt-p${i}s/statistics/tx_bytes))) "
	done
	echo "$s$(cpu_busy)"
}

server_endpoints() { # server_endpoints none|signal|subflow
	ip -n "$NS_S" mptcp endpoint flush
	[ "$1" = none ] || ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s "$1"
}

# record TOPO SCENARIO REP RC RECEIVER_JSON SUBFLOWS SAMPLE_BEFORE SAMPLE_AFTER [MPT_TIME_FILE]
# appends: topo scenario round ok Mbit/s subflows path-1-share bytes
#          busy-CPU-seconds mpt-CPU-seconds (-1: none)
record() {
	python3 - "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "${9:-}" "$HZ" >>"$RES" <<'PY'
import json, sys
topo, sc, rep, rc, path, nsf, s0, s1, tfile, hz = sys.argv[1:11]
try:
    recv = json.load(open(path))["end"]["sum_received"]
    bps, nbytes = float(recv["bits_per_second"]), int(recv["bytes"])
except Exception:
    bps, nbytes = 0.0, 0
d = [int(a) - int(b) for a, b in zip(s1.split(), s0.split())]
p, busy = d[:2], d[2] / float(hz)
share = p[0] / (p[0] + p[1]) if sum(p) > 0 else 0.0
mcpu = -1.0
if tfile:
    try:  # GNU time's last line; a line before it notes a non-zero exit status
        mcpu = sum(float(x) for x in open(tfile).read().split("\n")[-2].split())
    except Exception:
        mcpu = -1.0
ok = 1 if rc == "0" and bps > 0 and nbytes > 0 else 0
print("%s\t%s\t%s\t%d\t%.3f\t%s\t%.3f\t%d\t%.2f\t%.2f" % (
    topo, sc, rep, ok, bps / 1e6, nsf, share, nbytes, busy, mcpu))
PY
	tail -n 1 "$RES" | awk -F'\t' '{
		printf "  %-9s %-16s rep %s: %8.1f Mbit/s  subflows %s  path-1 share %.2f",
			$1, $2, $3, $5, $6, $7
		if ($8 > 0) printf "  cpu %.2f ns/B", $9 * 1e9 / $8
		if ($8 > 0 && $10 >= 0) printf "  mpt %.2f ns/B", $10 * 1e9 / $8
		printf "%s\n", $4 == 1 ? "" : "  FAILED" }'
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

# mpt perf -c -> mptcpize iperf3 -s.  Receiver: iperf3 -s.
run_mpt_to_kernel() {
	local topo=$1 rep=$2 d s0 s1 spid src mrc
	d=$(mktemp -d "$WORK/$1-mk-$2.XXX")
	next_port
	mpt_paths "$topo"
	if [ "$SIGNAL" = 1 ] && [ "$topo" != path1 ]; then
		server_endpoints signal
	else
		server_endpoints none
	fi
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -s -1 -J -p "$PORT" \
		>"$d/recv.json" 2>"$d/srv.err" &
	spid=$!
	INTEROP_PIDS+=("$spid")
	wait_listen "$NS_S" "$PORT" || echo "  iperf3 -s is not listening"
	s0=$(sample)
	mpt_timed "$d/mpt.time" perf -c "$SRV_A" -p "$PORT" -t "$T" -J "${MPT_PATHS[@]}" \
		>"$d/send.json" 2>"$d/mpt.err"
	mrc=$?
	wait "$spid"
	src=$?
	s1=$(sample)
	record "$topo" "mpt->kernel" "$rep" $((mrc | src)) "$d/recv.json" \
		"$(mpt_subflows "$d/send.json")" "$s0" "$s1" "$d/mpt.time"
	[ $((mrc | src)) = 0 ] || { show_log "$d/mpt.err"; show_log "$d/srv.err"; }
}

# mptcpize iperf3 -c (NS_S) -> mpt perf -s.  Receiver: mpt.
run_kernel_to_mpt() {
	local topo=$1 rep=$2 d s0 s1 mpid src mrc tun=mpttun1 addr=$MP_B
	d=$(mktemp -d "$WORK/$1-km-$2.XXX")
	next_port
	mpt_paths "$topo"
	if [ "$topo" = path1 ]; then
		server_endpoints none
		tun=mpttun0 addr=$MP_A
	else
		server_endpoints subflow
	fi
	mpt_timed "$d/mpt.time" perf -s -1 -p "$PORT" -J "${MPT_PATHS[@]}" \
		>"$d/recv.json" 2>"$d/mpt.err" &
	mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_route "$NS_C" "$addr" "$tun" 10 || echo "  mpt did not set up its TUNs"
	sleep 0.3
	s0=$(sample)
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -c "$MP_A" -p "$PORT" \
		-t "$T" -J >"$d/send.json" 2>"$d/cli.err"
	src=$?
	wait "$mpid"
	mrc=$?
	s1=$(sample)
	record "$topo" "kernel->mpt" "$rep" $((mrc | src)) "$d/recv.json" \
		"$(mpt_subflows "$d/recv.json")" "$s0" "$s1" "$d/mpt.time"
	[ $((mrc | src)) = 0 ] || { show_log "$d/mpt.err"; show_log "$d/cli.err"; }
}

# iperf3 -c (NS_C, kernel address CLI_A) -> iperf3 -s (NS_S), both under
# mptcpize (kernel MPTCP over both paths) or, in "path1", plain TCP.
# $3 = -R: data flows NS_S -> NS_C and the client is the receiver.
run_kernel_to_kernel() {
	local topo=$1 rep=$2 rev=${3:-} d s0 s1 spid src crc recv sc nsf sspid="" k="kernel" wrap=()
	if [ "$topo" = path1 ]; then
		k=tcp
	else
		wrap=(mptcpize run)
	fi
	d=$(mktemp -d "$WORK/$1-$k${rev}-$2.XXX")
	next_port
	server_endpoints none
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" "${wrap[@]}" iperf3 -s -1 -J -p "$PORT" \
		>"$d/srv.json" 2>"$d/srv.err" &
	spid=$!
	INTEROP_PIDS+=("$spid")
	wait_listen "$NS_S" "$PORT" || echo "  iperf3 -s is not listening"
	s0=$(sample)
	if [ "$k" = kernel ]; then
		sample_subflows "$d/ss.txt" &
		sspid=$!
	fi
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "${wrap[@]}" iperf3 -c "$SRV_A" -B "$CLI_A" \
		-p "$PORT" -t "$T" -J ${rev:+"$rev"} >"$d/cli.json" 2>"$d/cli.err"
	crc=$?
	wait "$spid"
	src=$?
	[ -z "$sspid" ] || wait "$sspid"
	s1=$(sample)
	if [ "$k" = kernel ]; then nsf=$(ss_subflows "$d/ss.txt"); else nsf=1; fi
	if [ -n "$rev" ]; then
		recv="$d/cli.json" sc="$k->$k-R"
	else
		recv="$d/srv.json" sc="$k->$k"
	fi
	record "$topo" "$sc" "$rep" $((crc | src)) "$recv" "$nsf" "$s0" "$s1"
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
if [ "$PATHS1" = 1 ]; then
	echo "== aggregate: 1 unshaped veth path (path 1), $T s x $R"
	run_all path1
fi
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
KCC=$(ip netns exec "$NS_S" sysctl -n net.ipv4.tcp_congestion_control)
IPERF=$(iperf3 --version 2>/dev/null | head -n 1 | awk '{ print $1, $2 }')

# The source the mpt binary was built from: this tree, or MPT_SRC (e.g. a
# clean clone) when MPT_BIN points elsewhere.
SRC=${MPT_SRC:-$ROOT}
REV=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SRC" diff --quiet HEAD -- src include tools CMakeLists.txt 2>/dev/null ||
	REV="$REV (with uncommitted changes)"
python3 - "$RES" "$CMDLINE" "$T" "$R" "$RATE" "$SIGNAL" "$REV" "$LOAD0" "$LOAD1" "$KCC" \
	"${LABEL:-}" "$IPERF" "$HZ" "$PATHS1" <<'PY' >"$OUT"
import sys, statistics, datetime, platform, os
(res, cmd, T, R, rate, signal, rev, load0, load1, kcc, label, iperf, hz,
 paths1) = sys.argv[1:15]
rows = [l.rstrip("\n").split("\t") for l in open(res) if l.strip()]
# The attempt of each run within its (section, scenario, round): 2 = the retry.
seen = {}
for r in rows:
    k = (r[0], r[1], r[2])
    seen[k] = seen.get(k, 0) + 1
    r.append(str(seen[k]))
def ns_per_byte(r, col):
    b, s = int(r[7]), float(r[col])
    return s * 1e9 / b if b > 0 and s >= 0 else None
mptcp_desc = {
    "mpt->kernel": ("mpt perf -c -> kernel MPTCP iperf3 -s", "client -> server (NS_C -> NS_S)", "kernel->kernel"),
    "kernel->mpt": ("kernel MPTCP iperf3 -c -> mpt perf -s", "client -> server (NS_S -> NS_C)", "kernel->kernel-R"),
    "kernel->kernel": ("kernel MPTCP iperf3 -c -> kernel MPTCP iperf3 -s", "client -> server (NS_C -> NS_S)", "kernel->kernel"),
    "kernel->kernel-R": ("kernel MPTCP iperf3 -c -R <- kernel MPTCP iperf3 -s", "server -> client (NS_S -> NS_C)", "kernel->kernel-R"),
}
tcp_desc = {
    "mpt->kernel": ("mpt perf -c (1 path) -> kernel MPTCP iperf3 -s", "client -> server (NS_C -> NS_S)", "tcp->tcp"),
    "kernel->mpt": ("kernel MPTCP iperf3 -c -> mpt perf -s (1 path)", "client -> server (NS_S -> NS_C)", "tcp->tcp-R"),
    "tcp->tcp": ("kernel TCP iperf3 -c -> kernel TCP iperf3 -s", "client -> server (NS_C -> NS_S)", "tcp->tcp"),
    "tcp->tcp-R": ("kernel TCP iperf3 -c -R <- kernel TCP iperf3 -s", "server -> client (NS_S -> NS_C)", "tcp->tcp-R"),
}
sections = [
    ("shaped", "Two %s tbf paths" % rate.replace("mbit", " Mbit/s"), mptcp_desc,
     "kernel MPTCP", False),
    ("unshaped", "Two unshaped veth paths (CPU-bound)", mptcp_desc, "kernel MPTCP", True),
]
if paths1 == "1":
    sections.append(("path1", "One unshaped veth path (CPU-bound, one subflow)", tcp_desc,
                     "kernel TCP", True))
def runs(topo, sc):
    return [r for r in rows if r[0] == topo and r[1] == sc]
def med(v, fmt):
    return fmt % statistics.median(v) if v else "-"
kver = platform.release()
ncpu = os.cpu_count()
print("# Throughput benchmark: mpt against the Linux kernel's MPTCP over two paths%s\n" % (
    " and its TCP over one path" if paths1 == "1" else ""))
if label:
    print("> **%s**\n" % label)
print("Produced by `%s` (as root) on %s, mpt %s, Linux %s, %d CPUs (%s)." % (
    cmd, datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), rev, kver, ncpu, platform.machine()))
print("Each transfer lasts %s s; %s repetition(s) per scenario, interleaved "
      "(round 1 of every scenario, then round 2, ...). Load average before/after: %s / %s.\n" % (
      T, R, load0, load1))
print("Goodput is the **receiver's** `end.sum_received.bits_per_second` from its own `-J` output "
      "(iperf3, `%s`, or `mpt perf -J`, which is iperf3-compatible). The ratio is the median over the "
      "median of the kernel's reference in the same direction over the same path(s): kernel "
      "MPTCP against itself in the two-path sections, plain kernel TCP in the one-path section "
      "(kernel -> mpt is compared with the reference's `-R` run, whose data also flows from the "
      "server namespace to the client namespace).\n" % (iperf or "version unknown"))
print("In the unshaped sections, **CPU ns per byte (whole machine)** is the busy CPU time of "
      "all CPUs during the transfer (`/proc/stat`: user + nice + system + irq + softirq + "
      "steal, in ticks of 1/%s s) over the bytes the receiver got (`end.sum_received.bytes`); "
      "**mpt process CPU ns/byte** is the user + system time of the mpt process alone "
      "(`/usr/bin/time -f \"%%U %%S\"`) over the same bytes. Both are medians over the runs "
      "that worked.\n" % hz)
for topo, title, desc, refname, cpu in sections:
    order = list(desc)
    print("## %s\n" % title)
    hdr = ["scenario", "direction", "goodput median (Mbit/s)", "min / max", "runs ok",
           "subflows", "path-1 share of bytes"]
    if cpu:
        hdr += ["CPU ns per byte (whole machine)", "mpt process CPU ns/byte"]
    hdr.append("ratio to %s, same direction" % refname)
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    medians = {}
    for sc in order:
        v = [float(r[4]) for r in runs(topo, sc) if r[3] == "1"]
        medians[sc] = statistics.median(v) if v else None
    for sc in order:
        rr = runs(topo, sc)
        ok = [r for r in rr if r[3] == "1"]
        v = [float(r[4]) for r in ok]
        name, dirn, ref = desc[sc]
        sf = sorted(set(r[5] for r in ok))
        if v:
            cells = ["%.1f" % medians[sc], "%.1f / %.1f" % (min(v), max(v))]
        else:
            cells = ["failed", "-"]
        cells += ["%d/%d" % (len(v), len(rr)), ",".join(sf) or "-",
                  med([float(r[6]) for r in ok], "%.2f")]
        if cpu:
            c = [x for x in (ns_per_byte(r, 8) for r in ok) if x is not None]
            m = [x for x in (ns_per_byte(r, 9) for r in ok) if x is not None]
            cells += [med(c, "%.2f"), med(m, "%.2f")]
        cells.append("%.2f" % (medians[sc] / medians[ref])
                     if medians[sc] and medians[ref] else "n/a")
        print("| %s | %s | %s |" % (name, dirn, " | ".join(cells)))
    print()
print("""## Setup

- Topology: `topo_two_paths` of `tests/interop/lib.sh`: namespaces NS_C and NS_S joined by
  two veth pairs, path 1 (10.78.0.0/24) and path 2 (10.79.0.0/24). mpt runs in NS_C on TUN
  devices `mpttun0` (10.78.1.1, routed out of path 1 by source) and `mpttun1` (10.79.1.1,
  path 2); NS_S routes 10.78.1.0/24 back over path 1 and 10.79.1.0/24 over path 2.
- Shaping: `tc qdisc add dev DEV root tbf rate %s burst 64kb latency 20ms` on **both** ends of
  both veths for the shaped section; the unshaped sections run after these qdiscs are deleted
  (same veths, same namespaces).
- Two paths, mpt -> kernel: `mptcpize run iperf3 -s -1 -J` in NS_S with `ip mptcp endpoint add
  10.79.0.2 dev mpt-p2s signal` (SIGNAL=%s); `mpt perf -c 10.78.0.2 -t T -J --path
  10.78.1.1/24,dev=mpttun0 --path 10.79.1.1/24,dev=mpttun1` in NS_C (default scheduler, path
  manager fullmesh, cc cubic, TUN offloads as by default: on where the kernel accepts them).
- Two paths, kernel -> mpt: `mpt perf -s -1 -J` with the same two `--path`s in NS_C;
  `mptcpize run iperf3 -c 10.78.1.1 -t T -J` in NS_S with `ip mptcp endpoint add 10.79.0.2 dev
  mpt-p2s subflow`.
- Two paths, kernel -> kernel: NS_C's kernel uses its own veth addresses: `ip mptcp endpoint
  add 10.79.0.1 dev mpt-p2c subflow` and `ip rule add from 10.79.0.1 table 102` (path 2), NS_S
  has no endpoint; `mptcpize run iperf3 -c 10.78.0.2 -B 10.78.0.1 -t T -J [-R]` in NS_C against
  `mptcpize run iperf3 -s -1 -J` in NS_S. Both namespaces: `ip mptcp limits set subflow 4
  add_addr_accepted 4`.
- One path (section "path1"): NS_S has no MPTCP endpoint and mpt gets only `--path
  10.78.1.1/24,dev=mpttun0`, so neither side learns a second address: mpt -> kernel is `mpt
  perf -c 10.78.0.2` against `mptcpize run iperf3 -s`, kernel -> mpt is `mptcpize run iperf3 -c
  10.78.1.1` from NS_S against `mpt perf -s`, each one MPTCP connection with one subflow on
  path 1. The reference is the kernel's plain TCP on the same veth: `iperf3 -c 10.78.0.2 -B
  10.78.0.1 -t T -J [-R]` (no mptcpize) in NS_C against `iperf3 -s -1 -J` in NS_S.
- Subflows: for mpt, the subflows in its `-J` `mptcp` section; for kernel MPTCP -> kernel
  MPTCP, 1 + the largest `subflows:` (joined subflows) of the server namespace's `ss -Mi`
  sampled half-way through the transfer; plain TCP is one connection (shown as 1). Path-1
  share: tx bytes (data and ACKs, both veth ends) of path 1 over both paths during the
  transfer.
- CPU: `/proc/stat` and the path byte counters are read just before the sending client starts
  (the receiving server already listens) and just after both ends have exited; mpt's own time
  covers its whole process, from start (TUN set-up; for `mpt perf -s`, also the wait for the
  client) to exit.
- Congestion control: mpt uses its default (cubic, not coupled); the kernel's MPTCP subflows
  and TCP connections use the namespaces' `net.ipv4.tcp_congestion_control` (%s here),
  uncoupled.
- A run that fails (an exit status other than 0, or no goodput in the receiver's JSON) is kept
  in "runs ok" and the per-run table (attempt 1), and tried once more (attempt 2 of the same
  round); medians use the runs that worked.

## Notes and approximations

- The client namespace forwards mpt's packets between its TUN devices and the veths, so mpt's
  traffic crosses one more kernel hop (TUN + IP forwarding) than the kernel's own traffic,
  which starts on the veth itself; unshaped, that hop costs CPU that the kernel reference
  does not pay, and it is counted in the whole-machine CPU figure.
- TUN offloads: mpt opens its TUN devices with `IFF_VNET_HDR` and enables checksum and TSO
  offload (`TUNSETOFFLOAD`), so it writes TCP super-segments (a virtio-net header carrying the
  GSO size; the kernel segments them) and reads packets that the kernel has already
  GRO-coalesced, rather than one MSS-sized packet per read or write; the kernel's TCP gets
  TSO/GSO/GRO on veth. `mpt --no-offload` turns the TUN offloads off (not used here). mpt
  still copies every byte across the TUN device and runs TCP and MPTCP in user space, on one
  thread.
- Subflow counts differ by design in the two-path sections: with the kernel announcing
  10.79.0.2, mpt's fullmesh path manager opens a subflow from each of its addresses to each
  server address (each local address pinned to its path by source routing), while the
  kernel -> kernel reference has one per path. SIGNAL=0 runs mpt -> kernel without the
  announcement (one subflow per path).
- Two paths, kernel -> mpt: NS_S routes by destination (no source rules there), so the path a
  kernel subflow takes is set by the mpt address it goes to; the kernel joins mpt's announced
  10.79.1.1 from its `subflow` endpoint, which puts one subflow on each path.
- The one-path section compares MPTCP (mpt at one end, the kernel's MPTCP at the other) with
  plain TCP, so its ratios include MPTCP's own costs (DSS options, data-level acknowledgements)
  besides the differences between mpt and the kernel.
- The whole-machine CPU figure counts both namespaces (sender, receiver, forwarding), the
  iperf3 processes and anything else the machine runs at the time, at tick resolution; the mpt
  process figure is part of it (10 ms resolution of `/usr/bin/time`). When every CPU is busy
  (a CPU-bound transfer, or a background job), the whole-machine figure is about the number
  of CPUs times the duration over the bytes, so it mostly restates the goodput; the mpt
  process figure is the one that isolates mpt's own cost.
- Each figure is one connection (one stream, iperf3 `-P 1`); the time-based test (`-t T`)
  includes slow start, which weighs more in short runs (small T).
- Figures depend on whatever else the machine runs at the time (see load averages above); a
  machine shared with builds makes the unshaped (CPU-bound) sections especially noisy, the CPU
  per byte figures most of all.
""" % (rate, signal, kcc))
print("## Per-run figures\n")
print("| section | scenario | round | attempt | ok | goodput (Mbit/s) | subflows | path-1 share | bytes received | CPU ns/byte (machine) | mpt CPU ns/byte |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
n = 0
for topo, _, desc, _, cpu in sections:
    for r in rows:  # each run exactly once, in the order it ran
        if r[0] != topo:
            continue
        c, m = ns_per_byte(r, 8), ns_per_byte(r, 9)
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r[0], r[1], r[2], r[10], "yes" if r[3] == "1" else "no", r[4], r[5], r[6], r[7],
            "%.2f" % c if cpu and c is not None else "-",
            "%.2f" % m if cpu and m is not None else "-"))
        n += 1
assert n == len(rows), "per-run table: %d rows printed, %d recorded" % (n, len(rows))
PY
echo "== wrote $OUT"
cat "$OUT"
