#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Live introspection against the kernel's MPTCP (issue 15): mpt ss,
# mpt nstat and mpt monitor on a running `mpt perf -s` while a kernel
# client (mptcpize run iperf3 -c) goes through a scripted scenario:
#   join: the kernel client opens subflows from its second address, and to
#         mpt's second address (mpt announces it);
#   ADD_ADDR: the kernel announces its second address (endpoint "signal");
#   backup switch: `ip mptcp endpoint change ID backup` (MP_PRIO);
#   REMOVE_ADDR: `ip mptcp endpoint delete ID`;
#   close: the test ends.
# Checks: (a) the monitor shows every event of ip mptcp monitor's vocabulary
# for the data connection (CREATED, ESTABLISHED, ANNOUNCED, SF_ESTABLISHED,
# SF_PRIORITY backup=1, REMOVED, SF_CLOSED, CLOSED) with the right ids and
# addresses; (b) mpt ss: the connection, MPTCP, its token (= the monitor's),
# every subflow with addresses, ids, state, RTT, cwnd, bytes; (c) mpt nstat:
# kernel MIB names, increments (reset, then the scenario's MP_PRIO and
# REMOVE_ADDR counted), absolute values, and MPTcpExtMPJoinSynRx equal to
# the kernel client's MPTcpExtMPJoinSynTx; (d) a server says whether a
# connection became MPTCP or stayed TCP; (e) the control socket is 0600 and
# others are refused; (f) counters survive SIGTERM (-vv); (g) the same on a
# running `mpt proxy` relaying to a kernel MPTCP server (mpt ss rows with
# subflows during the transfer, nstat against the kernel's counters, monitor
# up to CLOSED); (h) `mpt convert` (default socket path, --no-offload) and
# `mpt onpath` serve it too, with 80 sockets of gone processes in /run/mpt
# (skipped by mpt ss, and swept).
set -uo pipefail
TEST_NAME=ctl
. "$(dirname "$0")/lib.sh"
interop_require
command -v iperf3 >/dev/null || skip "iperf3 is not installed (scripts/deps.sh installs it)"
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v nstat >/dev/null || skip "nstat (iproute2) is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"
TOPO_RATE=50mbit topo_two_paths
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
done
CTL="$WORK/perf.sock"
MPT=(--path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1")
mpt_in() { ip netns exec "$NS_C" "$MPT_BIN" "$@"; }

# The kernel client's second address: joins from it, and announced (id 7).
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s id 7 signal subflow || die "endpoint add"
# Its joins from SRV_B go out on path 2.
ip -n "$NS_S" route add default via 10.79.0.1 dev mpt-p2s table 207
ip -n "$NS_S" rule add from "$SRV_B" table 207 pref 207

d="$WORK/run"
mkdir -p "$d"
ksnap "$NS_S" "$d/k0"
mpt_in perf -s -1 -J --ctl "$CTL" "${MPT[@]}" >"$d/perf.json" 2>"$d/perf.err" &
PERF=$!
INTEROP_PIDS+=("$PERF")
wait_file "$CTL" 10 || { show_log "$d/perf.err"; die "mpt perf -s made no control socket"; }
mpt_in monitor --ctl "$CTL" >"$d/mon.txt" 2>"$d/mon.err" &
MON=$!
INTEROP_PIDS+=("$MON")
mpt_in monitor -j --ctl "$CTL" >"$d/mon.json" 2>/dev/null &
INTEROP_PIDS+=($!)
sleep 0.5
mpt_in nstat -r -n --ctl "$CTL" || echo "  mpt nstat -r -n failed"
# -b 20M: below the 50 Mbit/s paths.  The kernel sends REMOVE_ADDR once, on a
# pure ACK, and never again (RFC 8684 §3.4.2 leaves it unreliable); a
# saturated path makes the tbf drop hundreds of packets, and one CI run lost
# exactly that ACK (the monitor then rightly showed no REMOVED).
ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -c "$MP_A" -t 10 -b 20M -J \
	>"$d/kcli.json" 2>"$d/kcli.err" &
KCLI=$!
INTEROP_PIDS+=("$KCLI")
sleep 2.5
mpt_in ss -i --ctl "$CTL" >"$d/ss.txt" 2>&1
mpt_in ss -j -i --ctl "$CTL" >"$d/ss.json" 2>&1
ip -n "$NS_S" mptcp endpoint change id 7 backup || echo "  endpoint change failed"
sleep 1
ip -n "$NS_S" mptcp endpoint delete id 7 || echo "  endpoint delete failed"
sleep 1
mpt_in nstat -j --ctl "$CTL" >"$d/nstat.json" 2>&1
mpt_in nstat -a -j --ctl "$CTL" >"$d/nstat_abs.json" 2>&1
mpt_in nstat --ctl "$CTL" -s >"$d/nstat.txt" 2>&1
ls -l "$CTL" >"$d/ls.txt"
stat -c %a "$CTL" >"$d/mode.txt"
# Another user may not read it.
if id nobody >/dev/null 2>&1; then
	ip netns exec "$NS_C" setpriv --reuid=nobody --regid=nogroup --clear-groups "$MPT_BIN" ss \
		--ctl "$CTL" >"$d/nobody.txt" 2>&1
	echo $? >"$d/nobody.rc"
fi
wait "$KCLI"
KRC=$?
wait "$PERF"
PRC=$?
for _ in $(seq 30); do kill -0 "$MON" 2>/dev/null || break; sleep 0.1; done
kill "$MON" 2>/dev/null
ksnap "$NS_S" "$d/k1"
echo "  kernel iperf3 -c exit $KRC, mpt perf -s exit $PRC"
echo "  kernel client: RmAddrTx +$(kdelta "$d/k0" "$d/k1" MPTcpExtRmAddrTx)," \
	"RmAddrTxDrop +$(kdelta "$d/k0" "$d/k1" MPTcpExtRmAddrTxDrop)"
for i in 1 2; do
	echo "  kernel side tbf on path $i: $(ip netns exec "$NS_S" tc -s qdisc show dev "mpt-p${i}s" |
		grep -o 'dropped [0-9]*' | head -1)"
done
sed 's/^/  | /' "$d/mon.txt"

# The data connection's token: the one with the most bytes in mpt ss.
TOKEN=$(python3 -c "
import json
j = json.load(open('$d/ss.json'))[0]
c = max(j['connections'], key=lambda c: c.get('bytes_received', 0) + c.get('bytes_sent', 0))
print(c.get('token', ''))" 2>/dev/null)
echo "  data connection token (mpt ss): ${TOKEN:-none}"

echo "-- (a) mpt monitor: the scenario's events in ip mptcp monitor's vocabulary"
case_a() {
	local rc=0 ev
	[ $KRC = 0 ] && [ $PRC = 0 ] || { echo "  the test itself failed"; show_log "$d/perf.err"; show_log "$d/kcli.err"; rc=1; }
	[ -n "$TOKEN" ] || return 1
	for ev in CREATED ESTABLISHED ANNOUNCED SF_ESTABLISHED SF_PRIORITY REMOVED SF_CLOSED CLOSED; do
		grep -Eq "^\[ *$ev\] token=$TOKEN( |$)" "$d/mon.txt" || { echo "  no $ev for token $TOKEN"; rc=1; }
	done
	grep -Eq "^\[ *ANNOUNCED\] token=$TOKEN remid=7 daddr4=$SRV_B" "$d/mon.txt" ||
		{ echo "  ANNOUNCED does not name $SRV_B with id 7"; rc=1; }
	grep -Eq "^\[ *REMOVED\] token=$TOKEN remid=7$" "$d/mon.txt" || { echo "  REMOVED lacks remid=7"; rc=1; }
	grep -Eq "^\[ *SF_PRIORITY\] token=$TOKEN remid=7 .*daddr4=$SRV_B .*backup=1" "$d/mon.txt" ||
		{ echo "  no SF_PRIORITY backup=1 on a subflow to $SRV_B"; rc=1; }
	grep -Eq "^\[ *SF_ESTABLISHED\] token=$TOKEN .*saddr4=($MP_A|$MP_B) daddr4=$SRV_B " "$d/mon.txt" ||
		{ echo "  no SF_ESTABLISHED from $SRV_B"; rc=1; }
	grep -Eq "^\[ *CREATED\] token=$TOKEN remid=0 locid=0 saddr4=$MP_A daddr4=$SRV_A sport=[0-9]+ dport=[0-9]+" "$d/mon.txt" ||
		{ echo "  CREATED lacks the initial subflow's addresses"; rc=1; }
	# The JSON stream says the same.
	python3 - "$d/mon.json" "$TOKEN" <<'PY' || rc=1
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if not evs or not evs[0].get("ready"):
    print("  the JSON monitor did not start with a ready line"); sys.exit(1)
types = {e["type"] for e in evs[1:] if e.get("token") == sys.argv[2]}
need = {"CREATED", "ESTABLISHED", "ANNOUNCED", "SF_ESTABLISHED", "SF_PRIORITY", "REMOVED", "SF_CLOSED", "CLOSED"}
if need - types:
    print("  JSON monitor lacks %s" % sorted(need - types)); sys.exit(1)
print("  JSON monitor: %d events, all 8 types for the data connection" % (len(evs) - 1))
PY
	return $rc
}
case_a
case_result "(a) mpt monitor: join, ADD_ADDR, backup switch, REMOVE_ADDR, close" $?

echo "-- (b) mpt ss: connections, MPTCP, token, every subflow"
case_b() {
	sed 's/^/  | /' "$d/ss.txt"
	python3 - "$d/ss.json" "$TOKEN" "$SRV_B" <<'PY' || return 1
import json, sys
j = json.load(open(sys.argv[1]))[0]
ok = j["tool"] == "perf" and j["pid"] > 0
c = [c for c in j["connections"] if c.get("token") == sys.argv[2]]
if not ok or len(c) != 1:
    print("  the data connection is not listed"); sys.exit(1)
c = c[0]
sf = c["subflows"]
ok = c["mptcp"] and not c["fallback"] and c["state"] == "ESTABLISHED" and len(sf) >= 2
ok = ok and all(s["rtt_us"] > 0 and s["cwnd"] > 0 and s["local_port"] > 0 and s["remote_port"] > 0 for s in sf)
ok = ok and any(s["remote_host"] == sys.argv[3] and s["join"] for s in sf)
ok = ok and sum(s["bytes_received"] for s in sf) > 1000000 and c["bytes_received"] > 1000000
ids = sorted({(s["local_id"], s["remote_id"]) for s in sf})
print("  %d subflows, ids (local, remote) %s, %d bytes received" % (len(sf), ids, c["bytes_received"]))
sys.exit(0 if ok else 1)
PY
	grep -q "mptcp v1 token:$TOKEN subflows:" "$d/ss.txt" || { echo "  the text lacks the token line"; return 1; }
	[ "$(grep -c "^	 subflow [0-9]*: " "$d/ss.txt")" -ge 4 ] || { echo "  the text lacks -i subflow lines"; return 1; }
}
case_b
case_result "(b) mpt ss -i" $?

echo "-- (c) mpt nstat: kernel MIB names, increments, absolute values, the kernel agrees"
case_c() {
	grep -E "MPTcpExt(MPPrioRx|RmAddr|MPJoinSynRx|AddAddr) " "$d/nstat.txt" | sed 's/^/  | /'
	local kjoin kdone
	kjoin=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynTx)
	kdone=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynAckRx)
	python3 - "$d/nstat.json" "$d/nstat_abs.json" "$kjoin" "$kdone" <<'PY'
import json, sys
d = list(json.load(open(sys.argv[1])).values())[0]
a = list(json.load(open(sys.argv[2])).values())[0]
kjoin, kdone = int(sys.argv[3]), int(sys.argv[4])
ok = True
for k in ("MPTcpExtMPPrioRx", "MPTcpExtRmAddr", "MPTcpExtAddAddr", "TcpInSegs", "MPTcpExtMPCapableSYNRX"):
    if d.get(k, 0) < 1:
        ok = False; print("  increment of %s is %s, expected >= 1" % (k, d.get(k)))
for k, v in d.items():
    if a.get(k, 0) < v:
        ok = False; print("  %s: absolute %s < increment %s" % (k, a.get(k), v))
# Joins the kernel client started (its SYNs; mpt also counts their
# retransmissions) and completed (its SYN/ACKs received = mpt's third ACKs).
# (The kernel's joins from its second address to mpt's first one do not
# complete here: the kernel binds them to its path-2 device, and mpt's
# SYN/ACK from its path-1 address comes back on path 1.)
print("  mpt MPTcpExtMPJoinSynRx %s, MPTcpExtMPJoinAckRx %s; kernel client MPTcpExtMPJoinSynTx +%d, "
      "MPTcpExtMPJoinSynAckRx +%d" % (a.get("MPTcpExtMPJoinSynRx"), a.get("MPTcpExtMPJoinAckRx"), kjoin, kdone))
if a.get("MPTcpExtMPJoinSynRx", 0) < kjoin or kjoin < 1 or a.get("MPTcpExtMPJoinAckRx") != kdone or kdone < 1:
    ok = False; print("  the join counts do not agree")
if not any(k.startswith("TcpExt") for k in a) or not any(k.startswith("Ip") for k in a):
    ok = False; print("  no TcpExt*/Ip* names")
sys.exit(0 if ok else 1)
PY
}
case_c
case_result "(c) mpt nstat" $?

echo "-- (d) a server says what each connection became"
case_d() {
	local rc=0
	python3 -c "
import json, sys
j = json.load(open('$d/perf.json'))
k = [c['mptcp'] for c in j['start']['connected']]
print('  mpt perf -s (kernel MPTCP client):', k)
sys.exit(0 if k and all(x.startswith('MPTCP v1') for x in k) else 1)" || rc=1
	# A plain TCP client (no mptcpize): the server says TCP.
	local s2="$WORK/perf2.sock"
	mpt_in perf -s -1 -p 5202 --ctl "$s2" "${MPT[@]}" >"$d/perf2.out" 2>&1 &
	local p2=$!
	INTEROP_PIDS+=("$p2")
	wait_file "$s2" 10 || return 1
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" iperf3 -c "$MP_A" -p 5202 -t 1 >/dev/null 2>&1 || rc=1
	wait "$p2" || rc=1
	grep "connected to" "$d/perf2.out" | sed 's/^/  | /'
	grep -q "connected to .*(TCP (MPTCP not negotiated))" "$d/perf2.out" ||
		{ echo "  the server did not say TCP"; rc=1; }
	return $rc
}
case_d
case_result "(d) servers report MPTCP or TCP" $?

echo "-- (e) the control socket is its owner's only"
case_e() {
	local rc=0
	echo "  $(cat "$d/ls.txt")"
	[ "$(cat "$d/mode.txt")" = 600 ] || { echo "  mode $(cat "$d/mode.txt"), expected 600"; rc=1; }
	if [ -f "$d/nobody.rc" ]; then
		echo "  as nobody: exit $(cat "$d/nobody.rc"): $(head -n 1 "$d/nobody.txt")"
		[ "$(cat "$d/nobody.rc")" != 0 ] && grep -q "Permission denied" "$d/nobody.txt" || rc=1
	fi
	[ ! -e "$CTL" ] || { echo "  the socket file stayed after the process ended"; rc=1; }
	return $rc
}
case_e
case_result "(e) control socket 0600, removed at exit" $?

echo "-- (f) counters survive SIGTERM (-vv)"
case_f() {
	local f="$WORK/f"
	mkdir -p "$f"
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run iperf3 -s -1 -p 5203 >/dev/null 2>&1 &
	INTEROP_PIDS+=($!)
	sleep 0.5
	# (not through mpt_in: $! must be mpt's own pid)
	ip netns exec "$NS_C" "$MPT_BIN" perf -c "$SRV_A" -p 5203 -t 20 -vv --ctl none "${MPT[@]}" \
		>/dev/null 2>"$f/err" &
	local m=$!
	INTEROP_PIDS+=("$m")
	sleep 2
	kill -TERM "$m"
	wait "$m"
	local r=$?
	echo "  exit $r; $(grep -c "counter " "$f/err") counter lines"
	grep -E "counter (MPCapableSYNTX|TcpOutSegs) " "$f/err" | sed 's/^/  | /'
	[ $r = 1 ] && grep -q "counter MPCapableSYNTX [1-9]" "$f/err" && grep -q "counter TcpOutSegs [1-9]" "$f/err"
}
case_f
case_result "(f) counters printed on SIGTERM with -vv" $?

echo "-- (g) mpt proxy: mpt ss / nstat / monitor during a transfer to a kernel MPTCP server"
# SOCKS5 client -> mpt proxy (both paths) -> MPTCP -> kernel echo server
# (mptcpize; it keeps listening, so the proxy's joins are accepted).
# mpt ss must list the relay's connection, MPTCP, with two or more
# subflows moving bytes; mpt nstat the proxy's MP_CAPABLE SYN and joins, the
# kernel agreeing; mpt monitor the connection from CREATED to the CLOSED the
# relay reports when it closes the socket (relay.c).
case_g() {
	local g="$WORK/g" rc=0
	mkdir -p "$g"
	local pctl="$g/proxy.sock" PP="$INTEROP_DIR/proxy_peer.py"
	head -c 16M /dev/urandom >"$g/data"
	ksnap "$NS_S" "$g/k0"
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PP" echo-server \
		--port 5210 --ready "$g/ready" >/dev/null 2>"$g/srv.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	# One thread: mpt monitor streams thread 0's events only (mpt-proxy(1));
	# with the default (one thread per CPU) the kernel's SO_REUSEPORT hash
	# puts the one connection on another thread half of the time, and the
	# monitor would not see its events (mpt ss and nstat would: they
	# gather every thread's part, convert_threads_test case (b)).
	ip netns exec "$NS_C" "$MPT_BIN" proxy --socks5 --threads 1 --ctl "$pctl" \
		--path "10.78.1.5/24,dev=mpttun2" --path "10.79.1.5/24,dev=mpttun3" \
		127.0.0.1:1090 2>"$g/proxy.err" &
	local ppid=$!
	INTEROP_PIDS+=("$ppid")
	wait_file "$pctl" 10 || { show_log "$g/proxy.err"; echo "  mpt proxy made no control socket"; return 1; }
	wait_file "$g/ready" 10 || { echo "  the kernel sink did not start"; return 1; }
	mpt_in monitor -j --ctl "$pctl" >"$g/mon.json" 2>"$g/mon.err" &
	local mon=$!
	INTEROP_PIDS+=("$mon")
	sleep 0.3
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" python3 "$PP" socks --proxy 127.0.0.1:1090 \
		--dest "$SRV_A:5210" --send "$g/data" --recv-out "$g/got" >/dev/null 2>"$g/cli.err" &
	local cpid=$!
	INTEROP_PIDS+=("$cpid")
	# During the transfer (16 MiB each way at 2 x 50 Mbit/s: 1.5 s or more):
	# the first answer with two subflows that carried data (40 tries).
	local i found=0
	for i in $(seq 40); do
		mpt_in ss -j -i --ctl "$pctl" >"$g/ss.json" 2>"$g/ss.err"
		if python3 - "$g/ss.json" <<'PY'; then
import json, sys
try:
    j = json.load(open(sys.argv[1]))[0]
except Exception:
    sys.exit(1)
sys.exit(0 if any(len([s for s in c.get("subflows", []) if s["bytes_sent"] > 0]) >= 2
                  for c in j["connections"]) else 1)
PY
			found=1
			break
		fi
		sleep 0.1
	done
	mpt_in ss -i --ctl "$pctl" >"$g/ss.txt" 2>&1
	mpt_in nstat -a -j --ctl "$pctl" >"$g/nstat.json" 2>&1
	wait "$cpid" || { echo "  the SOCKS client failed"; show_log "$g/cli.err"; rc=1; }
	kill "$spid" 2>/dev/null
	same_file "16 MiB echoed through mpt proxy" "$g/data" "$g/got" || rc=1
	sleep 0.5 # the relay's close reaches the monitor
	ksnap "$NS_S" "$g/k1"
	kill -TERM "$ppid"
	wait "$ppid"
	for _ in $(seq 30); do kill -0 "$mon" 2>/dev/null || break; sleep 0.1; done
	kill "$mon" 2>/dev/null
	sed 's/^/  | /' "$g/ss.txt"
	[ $found = 1 ] || { echo "  mpt ss never showed a connection with 2 subflows carrying data"; rc=1; }
	python3 - "$g/ss.json" "$g/nstat.json" "$g/mon.json" "$SRV_A" \
		"$(kdelta "$g/k0" "$g/k1" MPTcpExtMPCapableSYNRX)" \
		"$(kdelta "$g/k0" "$g/k1" MPTcpExtMPJoinSynRx)" <<'PY' || rc=1
import json, sys
ss = json.load(open(sys.argv[1]))[0]
nsd = json.load(open(sys.argv[2]))
label, ns = list(nsd.items())[0]
srv, kcap, kjoin = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
ok = True
conns = [c for c in ss["connections"] if c.get("remote_host") == srv and c.get("remote_port") == 5210]
if len(conns) == 1:
    conns[0]["subflows"] = [s for s in conns[0]["subflows"] if s["bytes_sent"] > 0]
if ss["tool"] != "proxy" or len(conns) != 1:
    print("  mpt ss: tool %r, %d connections to %s:5210" % (ss["tool"], len(conns), srv)); sys.exit(1)
c = conns[0]
sf = c["subflows"]
print("  mpt ss: token %s, %s, %d subflows carrying data %s, %d bytes sent" % (c.get("token"), c["state"], len(sf),
      [(s["local_host"], s["remote_host"], s["bytes_sent"]) for s in sf], c["bytes_sent"]))
if not (c["mptcp"] and not c["fallback"] and c["state"] == "ESTABLISHED" and len(sf) >= 2):
    ok = False; print("  the connection is not an established MPTCP one with 2+ subflows")
if not all(s["rtt_us"] > 0 and s["cwnd"] > 0 and s["local_port"] > 0 for s in sf):
    ok = False; print("  a subflow lacks RTT, cwnd or port")
if not any(s["join"] for s in sf):
    ok = False; print("  no join (MP_JOIN) subflow carries data")
cap, join = ns.get("MPTcpExtMPCapableSYNTX", 0), ns.get("MPTcpExtMPJoinSynTx", 0)
print("  mpt nstat (%s): MPCapableSYNTX %d, MPJoinSynTx %d, TunTxPackets %d; kernel sink MPCapableSYNRX +%d, "
      "MPJoinSynRx +%d" % (label, cap, join, ns.get("TunTxPackets", 0), kcap, kjoin))
if not label.startswith("proxy.") or cap < 1 or join < 1 or ns.get("TunTxPackets", 0) < 1:
    ok = False; print("  mpt nstat lacks the proxy's handshakes or packets")
if kcap < 1 or kjoin < 1 or kjoin > join:
    ok = False; print("  the kernel does not agree with mpt nstat")
evs = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
tok = c.get("token")
types = [e["type"] for e in evs[1:] if e.get("token") == tok]
print("  mpt monitor: %s" % " ".join(types))
need = ["CREATED", "ESTABLISHED", "SF_ESTABLISHED", "CLOSED"]
if not evs or not evs[0].get("ready") or any(t not in types for t in need):
    ok = False; print("  mpt monitor lacks one of %s" % need)
sys.exit(0 if ok else 1)
PY
	[ ! -e "$pctl" ] || { echo "  the control socket stayed after mpt proxy ended"; rc=1; }
	[ $rc = 0 ] || { show_log "$g/proxy.err"; show_log "$g/ss.err"; }
	return $rc
}
case_g
case_result "(g) mpt ss/nstat/monitor on mpt proxy" $?

echo "-- (h) mpt convert and mpt onpath serve the control socket too (default path)"
# convert without --ctl: /run/mpt/convert.PID.sock (or the per-user
# fallback), its listener in mpt ss, removed at exit; --no-offload turns the
# TUN offload off (-v says so).  onpath with --ctl: its listener.
case_h() {
	local h="$WORK/h" rc=0
	mkdir -p "$h"
	# 80 sockets of gone processes (what a killed tool, or one that dropped
	# its privileges, leaves in /run/mpt): more than mpt ss asks at once.
	# They must not hide the live ones, and are swept.
	mkdir -p /run/mpt
	python3 - >"$h/stale.txt" <<'PY'
import os, socket
made = 0
for pid in range(2, 4194304):
    if made == 80:
        break
    try:
        os.kill(pid, 0)
        continue
    except ProcessLookupError:
        pass
    except PermissionError:
        continue
    path = "/run/mpt/stale.%d.sock" % pid
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    made += 1
print(made)
PY
	ip netns exec "$NS_C" "$MPT_BIN" convert --allow-any --no-offload -v \
		--path "10.78.1.6/24,dev=mpttun4" 5211 2>"$h/conv.err" &
	local cpid=$!
	INTEROP_PIDS+=("$cpid")
	local sock="" f
	for _ in $(seq 100); do
		for f in /run/mpt/convert.$cpid.sock "${XDG_RUNTIME_DIR:-/nonexistent}/mpt/convert.$cpid.sock" \
			"/tmp/mpt-$(id -u)/convert.$cpid.sock"; do
			[ -S "$f" ] && sock=$f
		done
		[ -n "$sock" ] && break
		sleep 0.1
	done
	[ -n "$sock" ] || { echo "  mpt convert made no control socket at the default path"; show_log "$h/conv.err"; return 1; }
	mpt_in ss -j >"$h/all.json" 2>&1 # every process: convert is among them
	mpt_in ss -j --ctl "$sock" >"$h/conv.json" 2>&1
	mpt_in nstat -a -z -j --ctl "$sock" >"$h/conv_nstat.json" 2>&1
	ip netns exec "$NS_C" "$MPT_BIN" onpath --ctl "$h/onpath.sock" --path "10.78.1.7/24,dev=mpttun5" \
		2>"$h/onpath.err" &
	local opid=$!
	INTEROP_PIDS+=("$opid")
	wait_file "$h/onpath.sock" 10 && mpt_in ss -j --ctl "$h/onpath.sock" >"$h/onpath.json" 2>&1
	kill -TERM "$cpid" "$opid"
	wait "$cpid"
	wait "$opid"
	echo "  mpt convert: control socket $sock"
	python3 - "$h/conv.json" "$h/all.json" "$h/onpath.json" "$h/conv_nstat.json" "$cpid" <<'PY' || rc=1
import json, sys
ok = True
def load(p):
    try:
        return json.load(open(p))
    except Exception as e:
        print("  %s: %s" % (p, e)); return []
cv, every, op, ns = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3]), load(sys.argv[4])
pid = int(sys.argv[5])
if not cv or cv[0]["tool"] != "convert" or cv[0]["pid"] != pid or \
        not any(c.get("state") == "LISTEN" and c["local_port"] == 5211 for c in cv[0]["connections"]):
    ok = False; print("  mpt ss --ctl: no convert process listening on 5211: %r" % cv)
if not any(p.get("tool") == "convert" and p.get("pid") == pid for p in every):
    ok = False; print("  mpt ss (every process) does not list convert %d" % pid)
if not op or op[0]["tool"] != "onpath" or not any(c.get("state") == "LISTEN" for c in op[0]["connections"]):
    ok = False; print("  mpt ss --ctl: no onpath process with its listener: %r" % op)
if not ns or list(ns) != ["convert.%d" % pid] or list(ns.values())[0].get("TunRxPackets") is None:
    ok = False; print("  mpt nstat -a on convert: %r" % ns)
print("  convert: %s; onpath: %s" % ([c.get("state") for c in cv[0]["connections"]] if cv else None,
      [c.get("state") for c in op[0]["connections"]] if op else None))
sys.exit(0 if ok else 1)
PY
	grep -q "segmentation/checksum offload off" "$h/conv.err" ||
		{ echo "  --no-offload: mpt convert -v did not say the offload is off"; rc=1; }
	local left
	left=$(find /run/mpt -name 'stale.*.sock' | wc -l)
	echo "  stale sockets made: $(cat "$h/stale.txt"), left after mpt ss: $left"
	[ "$(cat "$h/stale.txt")" = 80 ] && [ "$left" = 0 ] ||
		{ echo "  the sockets of gone processes were not swept"; rc=1; }
	[ ! -e "$sock" ] || { echo "  $sock stayed after mpt convert ended"; rc=1; }
	[ ! -e "$h/onpath.sock" ] || { echo "  the onpath socket stayed after it ended"; rc=1; }
	[ $rc = 0 ] || { show_log "$h/conv.err"; show_log "$h/onpath.err"; }
	return $rc
}
case_h
case_result "(h) mpt convert / onpath control sockets" $?

[ $FAILED = 0 ] || exit 1
echo "ctl: all cases passed"
