#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt perf` against iperf3 3.12 (issue 15), over two paths to the kernel's
# MPTCP, with emulated loss (0.5 % per direction) so that retransmissions
# happen:
#   (a) client JSON: for each of several option sets (plain; -R; --bidir
#       -P 2; -P 3 -O 1 -b -w -M -T --get-server-output) every key of what
#       a real `iperf3 -c -J` prints is in what `mpt perf -c -J` prints (the
#       same server: `mptcpize run iperf3 -s -J`);
#   (b) server JSON: the same with the kernel's `iperf3 -c` against
#       `mpt perf -s -J` versus against `iperf3 -s -J`;
#   (c) retransmissions agree: within mpt's document (sum_sent ==
#       streams[].sender sums == the intervals' sums == mptcp.retransmits ==
#       the subflows' sum, when mpt sends) and with the kernel's iperf3
#       (mpt -R: mpt's sum_sent.retransmits == the kernel server's own;
#       kernel -c -R to mpt -s: the kernel client's == mpt's), and are
#       non-zero (the loss is real);
#   (d) the human output: the sender summary's Retr equals the sum of the
#       [SF] rows' totals and of the interval rows;
#   (e) SIGINT to `mpt perf -c` mid-test: the partial summary is printed,
#       the exit status is 1, the kernel server is told (CLIENT_TERMINATE:
#       "the client has terminated") and keeps no ESTABLISHED subflow (what
#       it had not closed by itself got MP_FASTCLOSE); it used to stay
#       ESTABLISHED: mpt died without a word;
#   (f) unsupported iperf3 options (-u, --sctp, -Z) get one line each, exit 2.
set -uo pipefail
TEST_NAME=perf_parity
. "$(dirname "$0")/lib.sh"
interop_require
command -v iperf3 >/dev/null || skip "iperf3 is not installed (scripts/deps.sh installs it)"
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v nstat >/dev/null || skip "nstat (iproute2) is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"
iperf3 --version | grep -q "^iperf 3\." || skip "iperf3 is not version 3.x"
TOPO_RATE=50mbit topo_two_paths
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
done
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal || die "endpoint add"
# The kernel client in $NS_C uses the same two paths (its endpoints).
ip -n "$NS_C" mptcp endpoint add 10.79.0.1 dev mpt-p2c subflow || die "endpoint add (client)"
MPT=(--path "$MP_A/24,dev=mpttun0,loss=0.5" --path "$MP_B/24,dev=mpttun1,loss=0.5")
TREE="$WORK/tree.py"
cat >"$TREE" <<'PY'
import json, sys
def tree(o, p=""):
    out = []
    if isinstance(o, dict):
        for k, v in o.items():
            out.append(p + "." + k)
            out += tree(v, p + "." + k)
    elif isinstance(o, list):
        for v in o:
            for t in tree(v, p + "[]"):
                if t not in out:
                    out.append(t)
    return out
ref, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
missing = sorted(set(tree(ref)) - set(tree(got)))
if "error" in got:
    print("  mpt's document has an error: %s" % got["error"])
    sys.exit(1)
if missing:
    print("  keys of iperf3's document missing in mpt's (%d): %s" % (len(missing), " ".join(missing)))
    sys.exit(1)
print("  all %d keys of iperf3's document present (mpt adds %d)" % (
    len(set(tree(ref))), len(set(tree(got)) - set(tree(ref)))))
PY

SRV_PORT=5301
next_port() { SRV_PORT=$((SRV_PORT + 1)); }

# A kernel iperf3 server (MPTCP), its JSON into $1.
kernel_server() {
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -s -1 -J -p "$SRV_PORT" >"$1" 2>&1 &
	INTEROP_PIDS+=($!)
	KSRV=$!
	sleep 0.5
}

# retr_check MPT_JSON [KERNEL_JSON KERNEL_KEY]: the figures within mpt's
# document agree; with a kernel document, its KEY (a Python expression on k)
# equals mpt's end.sum_sent.retransmits (or sum_sent_bidir_reverse).
retr_check() {
	python3 - "$@" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
e = j["end"]
ok = True
def say(m):
    print("  " + m)
streams = e["streams"]
groups = [("sum_sent", "sum")] + ([("sum_sent_bidir_reverse", "sum_bidir_reverse")] if "sum_sent_bidir_reverse" in e else [])
total_ours = 0
for gi, (key, ivkey) in enumerate(groups):
    s = e[key]
    if "retransmits" not in s:
        continue
    # the streams of this group: those whose "sender" flag equals the group's
    flag = s["sender"]
    st = [x for x in streams if x["sender"]["sender"] == flag]
    per = sum(x["sender"].get("retransmits", 0) for x in st)
    ivs = sum(iv[ivkey].get("retransmits", 0) for iv in j["intervals"] if not iv[ivkey]["omitted"])
    say("%s.retransmits %d, streams' sum %d, intervals' sum %d (sender: %s)" % (key, s["retransmits"], per, ivs, "mpt" if flag else "peer"))
    if s["retransmits"] != per:
        ok = False; say("MISMATCH: %s vs the streams" % key)
    if flag:
        total_ours += s["retransmits"]
        if ivs != s["retransmits"]:
            ok = False; say("MISMATCH: %s vs the intervals" % key)
m = j["mptcp"]
sf = sum(x["retransmits"] for x in m["subflows"])
say("mptcp.retransmits %d, subflows' sum %d" % (m["retransmits"], sf))
if m["retransmits"] != sf:
    ok = False; say("MISMATCH: mptcp.retransmits vs the subflows")
senders = [x for x in m["streams"] if x["sender"]]
if senders and sum(x["retransmits"] for x in senders) != total_ours:
    ok = False; say("MISMATCH: the sending streams' mptcp retransmits vs sum_sent")
if len(sys.argv) > 2:
    k = json.load(open(sys.argv[2]))
    want = eval(sys.argv[3], {"k": k})
    got = e["sum_sent"].get("retransmits")
    say("kernel iperf3: %s = %s, mpt: %s" % (sys.argv[3], want, got))
    if want != got:
        ok = False; say("MISMATCH with the kernel's iperf3")
    if not want:
        ok = False; say("no retransmission at all: the loss did not bite")
sys.exit(0 if ok else 1)
PY
}

VARIANTS=("-t 2" "-t 2 -R" "-t 2 --bidir -P 2" "-t 3 -P 3 -O 1 -b 20M -w 512K -M 1400 -T tt --get-server-output")

echo "-- (a) client: iperf3 -c -J vs mpt perf -c -J, same kernel server"
case_a() {
	local i=0 rc=0 v
	for v in "${VARIANTS[@]}"; do
		i=$((i + 1))
		local d="$WORK/a$i"
		mkdir -p "$d"
		echo "  options: $v"
		next_port
		kernel_server "$d/ref_srv.json"
		# shellcheck disable=SC2086
		ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -c "$SRV_A" -p "$SRV_PORT" -J $v \
			>"$d/ref.json" 2>"$d/ref.err" || { echo "  the kernel's iperf3 -c failed"; rc=1; }
		wait "$KSRV"
		next_port
		kernel_server "$d/k_srv.json"
		# shellcheck disable=SC2086
		ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" perf -c "$SRV_A" -p "$SRV_PORT" -J $v \
			"${MPT[@]}" >"$d/mpt.json" 2>"$d/mpt.err" || { echo "  mpt perf -c failed"; show_log "$d/mpt.err"; rc=1; }
		wait "$KSRV"
		python3 "$TREE" "$d/ref.json" "$d/mpt.json" || rc=1
		case "$v" in
		*-R*) retr_check "$d/mpt.json" "$d/k_srv.json" 'k["end"]["sum_sent"]["retransmits"]' || rc=1 ;;
		*) retr_check "$d/mpt.json" || rc=1 ;;
		esac
	done
	return $rc
}
case_a
case_result "(a) client JSON key tree (iperf3 3.12) and retransmits" $?

echo "-- (b) server: iperf3 -c -> mpt perf -s -J vs -> iperf3 -s -J"
case_b() {
	local i=0 rc=0 v
	for v in "-t 2" "-t 2 -R" "-t 2 --bidir -P 2"; do
		i=$((i + 1))
		local d="$WORK/b$i"
		mkdir -p "$d"
		echo "  kernel client options: $v"
		next_port
		kernel_server "$d/ref.json"
		# shellcheck disable=SC2086
		ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -c "$SRV_A" -p "$SRV_PORT" $v \
			>/dev/null 2>&1 || { echo "  the kernel's iperf3 -c failed"; rc=1; }
		wait "$KSRV"
		next_port
		ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" perf -s -1 -J -p "$SRV_PORT" \
			"${MPT[@]}" >"$d/mpt.json" 2>"$d/mpt.err" &
		local mpid=$!
		INTEROP_PIDS+=("$mpid")
		wait_route "$NS_C" "$MP_A" mpttun0 || { echo "  mpt perf -s did not start"; rc=1; continue; }
		# shellcheck disable=SC2086
		ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -c "$MP_A" -p "$SRV_PORT" -J $v \
			>"$d/kcli.json" 2>"$d/kcli.err" || { echo "  iperf3 -c -> mpt perf -s failed"; show_log "$d/kcli.err"; rc=1; }
		wait "$mpid" || { echo "  mpt perf -s failed"; show_log "$d/mpt.err"; rc=1; }
		python3 "$TREE" "$d/ref.json" "$d/mpt.json" || rc=1
		case "$v" in
		*-R*) # mpt sends: the kernel client's sum_sent.retransmits are ours
			retr_check "$d/mpt.json" "$d/kcli.json" 'k["end"]["sum_sent"]["retransmits"]' || rc=1 ;;
		*) retr_check "$d/mpt.json" || rc=1 ;;
		esac
	done
	return $rc
}
case_b
case_result "(b) server JSON key tree (iperf3 3.12) and retransmits" $?

echo "-- (d) human output: the sender summary's Retr = the [SF] rows' = the intervals'"
case_d() {
	local d="$WORK/d"
	mkdir -p "$d"
	next_port
	kernel_server "$d/k.json"
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" perf -c "$SRV_A" -p "$SRV_PORT" -t 3 \
		"${MPT[@]}" >"$d/mpt.out" 2>"$d/mpt.err" || { show_log "$d/mpt.err"; return 1; }
	wait "$KSRV"
	python3 - "$d/mpt.out" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
summary = [l for l in lines if l.endswith(" sender")]
m = re.search(r"/sec\s+(\d+)\s+sender$", summary[-1]) if summary else None
if not m:
    print("  no sender summary with Retr"); sys.exit(1)
retr = int(m.group(1))
# totals: the [SF] rows after the summary; intervals: [SUM] rows before it
end = lines.index(summary[-1])
sf_tot = sum(int(re.search(r"/sec\s+(\d+)\s", l).group(1)) for l in lines[end:] if l.startswith("[SF"))
iv_tot = sum(int(re.search(r"/sec\s+(\d+)\s", l).group(1)) for l in lines[:end] if l.startswith("[SUM]"))
print("  sender summary Retr %d, [SF] totals %d, interval [SUM] rows %d" % (retr, sf_tot, iv_tot))
sys.exit(0 if retr == sf_tot == iv_tot and retr > 0 else 1)
PY
}
case_d
case_result "(d) Retr agrees across the human output" $?

echo "-- (e) SIGINT to mpt perf -c mid-test against iperf3 -s"
case_e() {
	local d="$WORK/e" rc=0
	mkdir -p "$d"
	ksnap "$NS_S" "$d/k0"
	next_port
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -s -1 -p "$SRV_PORT" >"$d/k.out" 2>&1 &
	local ksrv=$!
	INTEROP_PIDS+=("$ksrv")
	sleep 0.5
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" perf -c "$SRV_A" -p "$SRV_PORT" -t 30 \
		"${MPT[@]}" >"$d/mpt.out" 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	sleep 3
	local before after
	before=$(ip netns exec "$NS_S" ss -Htn state established "( sport = :$SRV_PORT )" | wc -l)
	kill -INT "$mpid"
	wait "$mpid"
	local mrc=$?
	sleep 0.5
	after=$(ip netns exec "$NS_S" ss -Htn state established "( sport = :$SRV_PORT )" | wc -l)
	local t=0
	while kill -0 "$ksrv" 2>/dev/null && [ $t -lt 30 ]; do sleep 0.1; t=$((t + 1)); done
	kill -0 "$ksrv" 2>/dev/null && { echo "  the kernel's iperf3 -s is still running"; rc=1; }
	ksnap "$NS_S" "$d/k1"
	local fc
	fc=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPFastcloseRx)
	echo "  mpt exit $mrc; kernel ESTABLISHED before $before, after $after; MPTcpExtMPFastcloseRx +$fc"
	grep -E "sender$|receiver$|interrupt" "$d/mpt.out" "$d/mpt.err" | sed 's/^[^:]*:/  | /'
	sed 's/^/  | kernel: /' "$d/k.out" | tail -n 4
	[ $mrc = 1 ] || { echo "  exit status $mrc, expected 1"; rc=1; }
	[ "$before" -ge 2 ] || { echo "  fewer than 2 subflows before the signal"; rc=1; }
	[ "$after" = 0 ] || { echo "  the kernel still has ESTABLISHED subflows"; rc=1; }
	grep -Eq "^\[  5\] +0\.00-[0-9.]+ +sec .* sender$" "$d/mpt.out" || { echo "  no partial sender summary"; rc=1; }
	grep -q "interrupt - the client has terminated" "$d/mpt.err" || { echo "  no interrupt message"; rc=1; }
	grep -q "the client has terminated" "$d/k.out" || { echo "  the kernel server was not told"; rc=1; }
	return $rc
}
case_e
case_result "(e) SIGINT: partial summary, CLIENT_TERMINATE, MP_FASTCLOSE, exit 1" $?

echo "-- (f) iperf3 options without meaning here: one line, exit 2"
case_f() {
	local rc=0 o out
	for o in "-u" "--sctp" "-Z" "--fq-rate 1M" "-S 16"; do
		# shellcheck disable=SC2086
		out=$("$MPT_BIN" perf -c 10.0.0.1 $o --path 10.99.0.1/24 2>&1)
		local r=$?
		echo "  mpt perf -c ... $o: exit $r: $out"
		[ $r = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "not supported" <<<"$out" || rc=1
	done
	return $rc
}
case_f
case_result "(f) unsupported options: one line" $?

[ $FAILED = 0 ] || exit 1
echo "perf_parity: all cases passed"
