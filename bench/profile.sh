#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where mpt's CPU goes on a CPU-bound link (issue 13; a benchmark, not a
# test): `perf record` (software cpu-clock sampling with DWARF call graphs:
# this machine has no hardware counters) on the mpt process while it moves
# data over two unshaped veth paths, once receiving (kernel iperf3 -c ->
# mpt perf -s) and once sending (mpt perf -c -> kernel iperf3 -s), both
# against the Linux kernel's MPTCP.  Writes docs/profile.md: goodput, the
# mpt process's time split by what it was doing (TUN writes with the
# kernel work they trigger, TUN reads, copies, mpt's own code, waiting) and
# the hottest functions.
#
#   sudo bash bench/profile.sh            # T=6 s per direction
#   sudo T=3 bash bench/profile.sh        # a quick look
#
# Environment: T (seconds, 6), MPT_BIN (use this mpt instead of building
# build-profile/mpt; MPT_SRC: the git tree it was built from, for the
# report), OUT (default docs/profile.md).  Skips loudly (exit 0) without
# root, network namespaces, TUN, kernel MPTCP or a working `perf record`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
T=${T:-6}
OUT=${OUT:-docs/profile.md}
export TEST_NAME=profile # for lib.sh
CMDLINE="T=$T bash bench/profile.sh"
[ -z "${MPT_BIN:-}" ] || CMDLINE="MPT_BIN=$MPT_BIN${MPT_SRC:+ MPT_SRC=$MPT_SRC} $CMDLINE"

BENCH=profile
. bench/netns_lib.sh
bench_require ip:iproute2 iperf3:iperf3 mptcpize:mptcpize python3:python3 perf:linux-perf
perf record -q -e cpu-clock -o /dev/null -- true 2>/dev/null ||
	bench_skip "perf record does not work here (kernel.perf_event_paranoid?)"
bench_mpt
. tests/interop/lib.sh
interop_require
CASE_TIMEOUT=$((T + 40))
topo_two_paths # no TOPO_RATE: unshaped veths
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
	ip -n "$ns" mptcp limits set subflow 4 add_addr_accepted 4
done
MPT_TWO=(--path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1")
PERF=(perf record -q -F 999 -e cpu-clock --call-graph dwarf,16384)
RES="$WORK/res"
mkdir -p "$RES"

goodput() { # receiver JSON -> Gbit/s
	python3 -c "import json,sys; print('%.2f' % (json.load(open(sys.argv[1]))['end']['sum_received']['bits_per_second'] / 1e9))" "$1" 2>/dev/null || echo failed
}

# The mpt process's samples, two views: self per symbol and with children.
report() { # report NAME
	perf report -i "$RES/$1.data" --no-children --sort dso,symbol -g none --percent-limit 0.3 \
		2>/dev/null | grep -v '^#' | grep -v '^$' >"$RES/$1.self"
	perf report -i "$RES/$1.data" --children --sort symbol -g none --percent-limit 0.3 \
		2>/dev/null | grep -v '^#' | grep -v '^$' >"$RES/$1.children"
	perf report -i "$RES/$1.data" --no-children --sort dso -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' >"$RES/$1.dso"
}

echo "== profile: kernel iperf3 -c -> mpt perf -s (mpt receives), $T s"
ip -n "$NS_S" mptcp endpoint flush
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s subflow
ip netns exec "$NS_C" "${PERF[@]}" -o "$RES/recv.data" -- "$MPT_BIN" perf -s -1 -p 7301 -J \
	"${MPT_TWO[@]}" >"$RES/recv.json" 2>"$RES/recv.err" &
mpid=$!
INTEROP_PIDS+=("$mpid")
wait_route "$NS_C" "$MP_B" mpttun1 10 || echo "  mpt did not set up its TUNs"
sleep 0.5
ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -c "$MP_A" -p 7301 -t "$T" \
	-J >"$RES/recv-cli.json" 2>&1
wait "$mpid"
report recv
G_RECV=$(goodput "$RES/recv.json")

echo "== profile: mpt perf -c -> kernel iperf3 -s (mpt sends), $T s"
ip -n "$NS_S" mptcp endpoint flush
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal
ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -s -1 -p 7302 -J \
	>"$RES/send-srv.json" 2>&1 &
spid=$!
INTEROP_PIDS+=("$spid")
sleep 1
ip netns exec "$NS_C" "${PERF[@]}" -o "$RES/send.data" -- "$MPT_BIN" perf -c "$SRV_A" -p 7302 \
	-t "$T" -J "${MPT_TWO[@]}" >"$RES/send.json" 2>"$RES/send.err"
wait "$spid"
report send
G_SEND=$(goodput "$RES/send-srv.json")

SRC=${MPT_SRC:-$ROOT}
REV=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SRC" diff --quiet HEAD -- src include tools CMakeLists.txt 2>/dev/null ||
	REV="$REV (with uncommitted changes)"
IPERF_VER=$(iperf3 --version 2>/dev/null | head -n 1 | awk '{ print $1, $2 }')
python3 - "$RES" "$CMDLINE" "$T" "$REV" "$G_RECV" "$G_SEND" "$(cut -d' ' -f1-3 /proc/loadavg)" \
	"$IPERF_VER" <<'PY' >"$OUT"
import sys, re, datetime, platform, os, json
res, cmd, T, rev, g_recv, g_send, load, iperf = sys.argv[1:9]

def rows(path):
    out = []
    for l in open(path):
        m = re.match(r"\s*([\d.]+)%\s+(?:([\d.]+)%\s+)?(\S+)?\s*\[(.)\]\s+(\S+)", l)
        if m:
            out.append(m.groups())
    return out

def split(name):
    ch = {r[4]: float(r[0]) for r in rows(f"{res}/{name}.children")}
    self_rows = []
    for l in open(f"{res}/{name}.self"):
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(\S+)", l)
        if m:
            self_rows.append((float(m.group(1)), m.group(2), m.group(4)))
    dso = {}
    for l in open(f"{res}/{name}.dso"):
        m = re.match(r"\s*([\d.]+)%\s+(\S+)", l)
        if m:
            dso[m.group(2)] = float(m.group(1))
    def first(*names):
        for n in names:
            if n in ch:
                return ch[n]
        return 0.0
    cats = [
        ("writes to the TUN devices (`writev`), with the kernel's work under them: IP forwarding to the veth, and the kernel TCP receiving mpt's segments and sending in reply, run in mpt's context (softirq)",
         first("__GI___writev", "writev", "__writev")),
        ("reads from the TUN devices (`read`): the kernel copying packets out",
         first("__GI___libc_read", "__libc_read", "read")),
        ("copies in mpt's process (libc memcpy/memmove, all callers)",
         sum(p for p, d, s in self_rows if re.match(r"__mem(cpy|move)", s))),
        ("mpt's own code (self time of the mpt binary: engine, backend, tool)",
         sum(v for k, v in dso.items() if k == "mpt" or k.endswith("/mpt"))),
        ("waiting for packets (`epoll_wait`)", first("epoll_wait", "__GI_epoll_wait")),
    ]
    top = sorted(self_rows, reverse=True)[:15]
    return cats, top, dso

print("# Where mpt's CPU goes (perf profile)\n")
print("Produced by `%s` (as root) on %s, mpt %s, Linux %s, %d CPUs (%s); load average at the end %s.\n" % (
    cmd, datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), rev, platform.release(),
    os.cpu_count(), platform.machine(), load))
print("Two unshaped veth paths (`topo_two_paths` of tests/interop/lib.sh), one connection, "
      "%s s per direction, against the Linux kernel's MPTCP (`%s` under `mptcpize`). "
      "`perf record -F 999 -e cpu-clock --call-graph dwarf` on the mpt process only: the shares "
      "below are of the samples taken while mpt ran, user and kernel code together; the kernel "
      "peer's own process is not in them. Percentages overlap where one activity runs inside "
      "another (copies inside mpt's code are counted in both rows).\n" % (T, iperf))
for name, title, g in (("recv", "mpt receives: kernel iperf3 -c -> mpt perf -s", g_recv),
                       ("send", "mpt sends: mpt perf -c -> kernel iperf3 -s", g_send)):
    cats, top, dso = split(name)
    print("## %s\n" % title)
    print("Goodput (receiver's iperf3 JSON): **%s Gbit/s**.  Samples in the kernel: %.1f %%; "
          "in libc: %.1f %%; in mpt: %.1f %%.\n" % (
              g, dso.get("[kernel.kallsyms]", 0.0),
              sum(v for k, v in dso.items() if "libc" in k),
              sum(v for k, v in dso.items() if k == "mpt" or k.endswith("/mpt"))))
    if name == "send":
        try:
            j = json.load(open(f"{res}/send.json"))
            sent = j["end"]["sum_sent"]["bytes"]
            kept = j["mptcp"]["snd_kept_bytes"]
            print("Bytes the subflows copied into their own send rings (`MPTCPSndKept`: DATA_ACKed "
                  "before their TCP ACK came back; the rest went out straight from the data-level "
                  "buffer, two copies): %.1f %% of the %.2f GB sent.\n" % (100.0 * kept / sent, sent / 1e9))
        except (OSError, KeyError, ValueError, ZeroDivisionError):
            print("Bytes kept in the subflows' send rings: not known (no `snd_kept_bytes` in mpt perf's JSON).\n")
    print("| what mpt's process was doing | share of its samples |")
    print("|---|---|")
    for label, v in cats:
        print("| %s | %.1f %% |" % (label, v))
    print("\nHottest functions (self):\n")
    print("| self | where | function |")
    print("|---|---|---|")
    for p, d, s in top:
        print("| %.1f %% | %s | `%s` |" % (p, d, s))
    print()
print("""## Reading it

- The first row is mostly not mpt's work: a write to a TUN device runs the
  kernel's receive path for that packet at once, in the writer's context:
  IP forwarding to the veth and, on the other namespace's side, the kernel
  TCP processing it (and, for an ACK, transmitting the data it lets go).
  A kernel-to-kernel transfer pays the same work in its own softirq; here it
  is charged to mpt.  Fewer, larger writes (offloads, fewer pure ACKs) are
  what lowers it.
- `pvm_irq_enable` at the top of the kernel's share is not a function
  doing work: on this virtual machine a cpu-clock sample that falls while
  interrupts are disabled is taken when they are enabled again, so it
  stands for kernel work done with interrupts off (mostly the softirq
  network processing of the first row).
- The second row is the kernel copying received packets to mpt; the third
  mpt's own copies (docs/architecture.md counts them hop by hop; the
  engine's copies per byte are in docs/bench.md).
- Side-by-side goodput against the kernel, with CPU per byte:
  docs/aggregate.md (`bench/aggregate.sh`).""")
PY
echo "profile: wrote $OUT"
cat "$OUT"
