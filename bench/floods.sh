#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): SYN floods against mpt's servers and against the
# Linux kernel's own listeners, side by side in one run, on the same machine
# and topology.
#   bench/floods.sh [BUILD_DIR]      (root: network namespaces, TUN; scapy)
# Writes docs/floods.md (the whole file: every figure in it comes from this
# script).
#
# Topology: tests/interop/flood_lib.sh (mpt, or the kernel listener, in one
# namespace; the attacker and the legitimate client in the other; SYN-ACKs
# to the spoofed sources vanish silently).  Servers:
#   mpt perf -s, mpt cat -l -k, mpt convert (BUILD_DIR's mpt; default a
#   Release build of this tree in build-bench);
#   mpt perf -s built from $BEFORE_REV (default: main just before SYN
#   cookies), to show what the flood did before (BEFORE_REV= skips it);
#   a kernel TCP and a kernel MPTCP listener (python, listen backlog 128,
#   net.ipv4.tcp_syncookies=1 in their namespace), accepting and reading
#   each connection to its end.
# For each server, $REPEAT runs (servers alternating within each round) of:
#   flood    $N_SYN spoofed SYNs over $FLOOD_S s (plain, MP_CAPABLE v1 and
#            v0 taking turns), a legitimate client starting a connection
#            every $INTERVAL s (open loop; TCP and MPTCP taking turns; TCP
#            only for the kernel TCP listener) from before the flood to
#            $AFTER_S s after it, each attempt given $TIMEOUT s;
#   control  the same without a single spoofed packet.
# Reported: the legitimate attempts started during the flood (all runs
# pooled): success rate, connect() time percentiles; the same without the
# flood; the server process' CPU use during
# the flood, and the flood sender's system time (the kernel's work on each
# spoofed SYN runs in softirq in the sender's context: the kernel
# listener's SYN handling, or the forwarding into mpt's TUN), the server's
# RSS before the flood and its peak (medians of the runs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ "$(id -u)" = 0 ] || { echo "bench/floods.sh: needs root"; exit 1; }
N_SYN=${N_SYN:-20000}
FLOOD_S=${FLOOD_S:-10}
AFTER_S=${AFTER_S:-4}
INTERVAL=${INTERVAL:-0.1}
TIMEOUT=${TIMEOUT:-10}
REPEAT=${REPEAT:-3}
BEFORE_REV=${BEFORE_REV-1345416^}
build=${1:-$root/build-bench}
if [ -z "${1:-}" ]; then
	cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMPT_TESTS=OFF >/dev/null
	ninja -C "$build" mpt >/dev/null
fi
BIN=$build/mpt
OLD=""
if [ -n "$BEFORE_REV" ]; then
	old_rev=$(git -C "$root" rev-parse --short "$BEFORE_REV")
	old_dir=$root/build-bench-nocookie
	if [ ! -x "$old_dir/build/mpt" ] || [ "$(cat "$old_dir/rev" 2>/dev/null)" != "$old_rev" ]; then
		rm -rf "$old_dir"
		mkdir -p "$old_dir/src"
		git -C "$root" archive "$old_rev" | tar -x -C "$old_dir/src"
		cmake -S "$old_dir/src" -B "$old_dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
			-DMPT_TESTS=OFF >/dev/null
		ninja -C "$old_dir/build" mpt >/dev/null
		echo "$old_rev" >"$old_dir/rev"
	fi
	OLD=$old_dir/build/mpt
fi

# ---- the report (from the runs' records in $1) -------------------------------
report() {
	local rev=$REV dirty=$DIRTY
	if ! TIMEOUT=$TIMEOUT AFTER_S=$AFTER_S "$FPY" - "$1" "$REPEAT" "${SERVERS[*]}" \
		>"$1/tables.md" <<'EOF'
import os, statistics, sys
work, repeat, servers = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
label = {
    "perf-nocookie": "`mpt perf -s`, before SYN cookies",
    "perf": "`mpt perf -s` (backlog 8)",
    "cat": "`mpt cat -l -k` (backlog 16)",
    "convert": "`mpt convert` (backlog 128)",
    "kernel-tcp": "Linux TCP listener (backlog 128)",
    "kernel-mptcp": "Linux MPTCP listener (backlog 128)",
}

def kv(path):
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 2:
            out[f[0]] = f[1:]
    return out

def rows(d):
    """legit attempts started while the flood ran: (ok, connect_ms)"""
    t0 = f0 = f1 = None
    for line in open(os.path.join(d, "legit.out")):
        if line.startswith("legit: t0 "):
            t0 = float(line.split()[2])
    for line in open(os.path.join(d, "flood.out")):
        if ": t0 " in line:
            f0 = float(line.split()[2])
        elif ": t1 " in line:
            f1 = float(line.split()[2])
    out = {"during": [], "after": []}
    for line in open(os.path.join(d, "legit.out")):
        f = line.split()
        if len(f) >= 5 and f[2] in ("OK", "FAIL"):
            t = float(f[0]) + t0
            w = "during" if f0 <= t < f1 else ("after" if t >= f1 else None)
            if w:
                out[w].append((f[2] == "OK", float(f[3])))
    return out

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")

def fmt(x, nd=1):
    return "–" if x != x else ("%.*f" % (nd, x))

def pooled(s, kind, w):
    att = []
    for r in range(1, repeat + 1):
        d = os.path.join(work, "%s.%s.%d" % (s, kind, r))
        att += rows(d)[w]
    ok = [c for good, c in att if good]
    return len(att), len(ok), ok

def med(s, kind, key, scale=1.0):
    v = []
    for r in range(1, repeat + 1):
        k = kv(os.path.join(work, "%s.%s.%d" % (s, kind, r), "summary"))
        if key in k and k[key][0] != "nan":
            v.append(float(k[key][0]) * scale)
    return statistics.median(v) if v else float("nan")

def sender(s, kind):
    """the flood sender's (user, system) CPU in % of one core, median of the runs"""
    u, y = [], []
    for r in range(1, repeat + 1):
        d = os.path.join(work, "%s.%s.%d" % (s, kind, r), "flood.out")
        t = cpu = None
        for line in open(d):
            f = line.split()
            if line.startswith("syn-flood: sent"):
                t = float(f[6])
            elif line.startswith("syn-flood: cpu"):
                cpu = (float(f[3]), float(f[5]))
        if t and cpu:
            u.append(100 * cpu[0] / t)
            y.append(100 * cpu[1] / t)
    return (statistics.median(u) if u else float("nan"), statistics.median(y) if y else float("nan"))

def drops(s):
    v = []
    for r in range(1, repeat + 1):
        p = os.path.join(work, "%s.flood.%d" % (s, r), "tun")
        if os.path.exists(p):
            v.append(float(kv(p)["tun-drops"][0]))
    return statistics.median(v) if v else float("nan")

print("### Legitimate connections during the flood\n")
print("Attempts started while the flood ran, all runs pooled; connect() time in ms "
      "(a failed attempt waited %s s)." % os.environ.get("TIMEOUT", "10"))
print()
print("| server | attempts | succeeded | success | p50 | p90 | p99 | max |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for s in servers:
    n, k, ok = pooled(s, "flood", "during")
    print("| %s | %d | %d | %s %% | %s | %s | %s | %s |" % (
        label[s], n, k, fmt(100.0 * k / n if n else float("nan")), fmt(pct(ok, 50), 2),
        fmt(pct(ok, 90), 2), fmt(pct(ok, 99), 2), fmt(max(ok) if ok else float("nan"), 2)))
print()
print("### After the flood (the next %s s)\n" % os.environ.get("AFTER_S", "4"))
print("| server | attempts | succeeded | success | p50 | p99 | max |")
print("|---|---:|---:|---:|---:|---:|---:|")
for s in servers:
    n, k, ok = pooled(s, "flood", "after")
    print("| %s | %d | %d | %s %% | %s | %s | %s |" % (
        label[s], n, k, fmt(100.0 * k / n if n else float("nan")), fmt(pct(ok, 50), 2),
        fmt(pct(ok, 99), 2), fmt(max(ok) if ok else float("nan"), 2)))
print()
print("### The same window without a flood (control)\n")
print("| server | attempts | succeeded | p50 | p90 | p99 | max |")
print("|---|---:|---:|---:|---:|---:|---:|")
for s in servers:
    n, k, ok = pooled(s, "control", "during")
    print("| %s | %d | %d | %s | %s | %s | %s |" % (
        label[s], n, k, fmt(pct(ok, 50), 2), fmt(pct(ok, 90), 2), fmt(pct(ok, 99), 2),
        fmt(max(ok) if ok else float("nan"), 2)))
print()
print("### Server CPU and memory (medians of the runs)\n")
print("Server process: its user + system time over the flood's window, in % of "
      "one core.  Kernel, in the sender: the flood sender's system time over "
      "the same window; it includes what the kernel does with each spoofed SYN "
      "in the sender's context (veth delivery, then the kernel listener's SYN "
      "handling, or the forwarding into mpt's TUN), its own sendto() calls "
      "being the same in every row.  RSS: the server process.")
print()
print("| server | server process CPU, flood | server process CPU, control | "
      "kernel, in the sender | RSS before (MiB) | RSS peak, flood (MiB) | "
      "RSS peak, control (MiB) | TUN drops |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for s in servers:
    print("| %s | %s %% | %s %% | %s %% | %s | %s | %s | %s |" % (
        label[s], fmt(med(s, "flood", "cpu-during-pct")), fmt(med(s, "control", "cpu-during-pct")),
        fmt(sender(s, "flood")[1]),
        fmt(med(s, "flood", "rss-before-kb", 1 / 1024.0)),
        fmt(med(s, "flood", "rss-peak-kb", 1 / 1024.0)),
        fmt(med(s, "control", "rss-peak-kb", 1 / 1024.0)),
        "–" if s.startswith("kernel") else fmt(drops(s), 0)))
EOF
	then
		echo "bench/floods.sh: the report failed; the runs are in $1" >&2
		exit 1
	fi
	{
	cat <<EOF
# SYN floods: mpt's servers and the Linux kernel

Generated by \`bench/floods.sh\` (do not edit: run it again).  Commit $rev$dirty,
$(date -u +%Y-%m-%d), Linux $(uname -r), $(nproc) CPUs shared with other work (load
average $LOAD0 at the start, $LOAD1 at the end), $REPEAT rounds in $((T1 - T0)) s.

Each run: $N_SYN spoofed SYNs over $FLOOD_S s (plain, MP_CAPABLE v1 and MP_CAPABLE
v0 taking turns; random sources in 10.99.0.0/16 whose SYN-ACKs vanish, as
to addresses nobody uses) from one network namespace to a server in another;
meanwhile a legitimate client in the first namespace starts a connection every
$INTERVAL s whatever the earlier ones are doing (open loop; kernel TCP and MPTCP
sockets taking turns, TCP only for the kernel TCP listener; each given
$TIMEOUT s) and proves the application got the connection: \`mpt cat\` and the
kernel listeners read a line to its end, \`mpt perf\` answers iperf3's cookie
with PARAM_EXCHANGE, \`mpt convert\` converts to an echo server (RFC 8803).
The control runs are the same without the flood.  mpt's servers run on TUN
devices with their default settings (\`tcp.syncookies\` auto: cookies once
the half-open table reaches the listener's backlog); the kernel listeners use
\`net.ipv4.tcp_syncookies=1\` (the default).  "Before SYN cookies" is mpt
built from $([ -n "$OLD" ] && echo "$old_rev" || echo "–"), the commit before they were added.

$(cat "$1/tables.md")

### Reading the figures

- Connect times are milliseconds from \`connect()\` to its return in the
  client (one SYN, SYN-ACK round trip), so they include the client's and the
  server's scheduling on a shared machine.  A SYN lost in a full TUN queue
  (TUN drops) costs the client a 1 s retransmission.
- mpt answers spoofed SYNs from user space: every SYN is read from the TUN
  device, and the SYN-ACK is written back, which is the process CPU above;
  the kernel answers in softirq.  The floods here are ~$((N_SYN / FLOOD_S)) SYNs/s.
- A half-open connection in mpt is a whole connection (send and receive
  rings): the table of \`backlog\` of them is what the RSS peak shows (convert:
  backlog 128); the SYNs beyond it cost nothing (cookies).  For the kernel
  listeners the RSS is the python accept loop's: the kernel's own request
  sockets are not in it.

Commands: \`bash bench/floods.sh\` (N_SYN=$N_SYN FLOOD_S=$FLOOD_S AFTER_S=$AFTER_S
INTERVAL=$INTERVAL TIMEOUT=$TIMEOUT REPEAT=$REPEAT BEFORE_REV=${BEFORE_REV:-(none)}); the tests:
\`tests/interop/flood_syn_test.sh\`, \`tests/interop/flood_join_test.sh\`.
EOF
} >"$root/docs/floods.md"
echo "wrote docs/floods.md" >&2
}

if [ -n "${REPORT_FROM:-}" ]; then
	. "$REPORT_FROM/env"
	FPY=$(command -v python3)
	SERVERS=(perf cat convert kernel-tcp kernel-mptcp)
	[ -n "$OLD" ] && SERVERS=(perf-nocookie "${SERVERS[@]}")
	report "$REPORT_FROM"
	exit 0
fi

# The interop tests' helpers, without their skip logic.
TEST_NAME=bench-floods
. "$root/tests/interop/lib.sh"
. "$root/tests/interop/flood_lib.sh"
flood_require_scapy
flood_topo
# lib.sh's cleanup kills processes that may be gone: under set -e a failing
# kill would end the trap before the namespaces are deleted.
trap 'set +e; interop_cleanup' EXIT
ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_syncookies=1
set +e

FLOOD_BEFORE=1
FLOOD_AFTER=$AFTER_S
FLOOD_INTERVAL=$INTERVAL
LEGIT_TIMEOUT=$TIMEOUT
MP="$FLOOD_MPT/24,dev=mpttun0"
FLOOD_CONCURRENT=1

# server NAME PORT: the server's command line (into SRV) and legit mode
server() {
	case $1 in
	perf) MODE=perf SRV=("$BIN" perf -s -p "$2" -i 0 --path "$MP") ;;
	perf-nocookie) MODE=perf SRV=("$OLD" perf -s -p "$2" -i 0 --path "$MP") ;;
	cat) MODE=cat SRV=("$BIN" cat -l -k --path "$MP" "$2") ;;
	convert)
		MODE=convert
		SRV=("$BIN" convert -q --msl 2 --path "$MP" --allow 10.77.0.2:7000 "$2")
		;;
	kernel-tcp)
		MODE=kcat
		SRV=("$FPY" "$FLOOD_PEER" kserver --bind 10.77.0.1 --port "$2" --backlog 128
			--ready "$WORK/$3/ready")
		;;
	kernel-mptcp)
		MODE=kcat
		SRV=("$FPY" "$FLOOD_PEER" kserver --bind 10.77.0.1 --port "$2" --backlog 128 --mptcp
			--ready "$WORK/$3/ready")
		;;
	esac
}

SERVERS=(perf cat convert kernel-tcp kernel-mptcp)
[ -n "$OLD" ] && SERVERS=(perf-nocookie "${SERVERS[@]}")
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
port=6000
for r in $(seq "$REPEAT"); do
	for kind in flood control; do
		for s in "${SERVERS[@]}"; do
			name="$s.$kind.$r"
			port=$((port + 1))
			mkdir -p "$WORK/$name"
			server "$s" "$port" "$name"
			FLOOD_PROTO=alt
			[ "$s" = kernel-tcp ] && FLOOD_PROTO=tcp
			N_SYN_RUN=$N_SYN
			[ "$kind" = control ] && N_SYN_RUN=0
			echo "== round $r/$REPEAT: $s, $kind" >&2
			N_SYN=$N_SYN_RUN flood_run "$name" "$port" "$MODE" "${SRV[@]}" >&2
			tail -n 1 "$WORK/$name/legit.out" | sed 's/^/  /' >&2
			# a server without cookies keeps its half-open entries ~2 min:
			# the next run uses another port, so it starts clean anyway
		done
	done
done
T1=$(date +%s)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
REV=$(git -C "$root" rev-parse --short HEAD)
DIRTY=""
git -C "$root" diff --quiet HEAD -- src include tools || DIRTY=" (with uncommitted changes)"
# The runs' records, kept (build-bench/ is not tracked) to look into them
# or to write the report again: REPORT_FROM=DIR bench/floods.sh
keep=$build/floods-runs
rm -rf "$keep"
mkdir -p "$keep"
for d in "$WORK"/*.*.*; do
	mkdir -p "$keep/${d##*/}"
	cp "$d"/{legit.out,flood.out,summary,mon.out} "$keep/${d##*/}/" 2>/dev/null
	[ -e "$d/tun" ] && cp "$d/tun" "$keep/${d##*/}/"
done
printf 'LOAD0="%s"\nLOAD1="%s"\nT0=%s\nT1=%s\nN_SYN=%s\nFLOOD_S=%s\nAFTER_S=%s\nINTERVAL=%s\nTIMEOUT=%s\nREPEAT=%s\nREV=%s\nDIRTY="%s"\n' \
	"$LOAD0" "$LOAD1" "$T0" "$T1" "$N_SYN" "$FLOOD_S" "$AFTER_S" "$INTERVAL" "$TIMEOUT" \
	"$REPEAT" "$REV" "$DIRTY" >"$keep/env"
report "$keep"

