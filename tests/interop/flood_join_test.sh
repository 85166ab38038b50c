#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MP_JOIN flood during a transfer (issue 11, finding 2): $N_JOIN spoofed
# MP_JOIN SYNs carrying the connection's valid token, over $FLOOD_S s,
# while a kernel MPTCP client sends $XFER_MIB MiB to `mpt cat -l`; a
# legitimate join from a new path, started in the middle of the flood, must
# still succeed, and the transfer must be intact.  Before the first fix,
# spoofed joins held the connection's subflow slots for about two minutes;
# before the second, each was a half-open subflow from a budget of 8.
#
# Topology: lib.sh's topo_two_paths; mpt (the server) in $NS_C at 10.78.1.1
# only; the kernel client in $NS_S starts on path 1 (10.78.0.2).  Its join
# comes from 10.79.0.2 over path 2 (policy routing both ways), added as a
# "subflow" endpoint $JOIN_AT s into the flood (the kernel then opens the
# subflow on the running connection; ADD_ADDR is not accepted, so that is
# the only join); a second later path 1 becomes backup (MP_PRIO), so the
# rest of the data (sent at an even pace over $XFER_S s) must take the new
# subflow.  The attacker (flood_peer.py join-flood) sniffs path 1 in $NS_S
# for the handshake, takes the server's key from the SYN-ACK's MP_CAPABLE,
# computes the token (top 32 bits of SHA-256(key)) and sends the joins from
# random addresses of 10.99.0.0/16 (their SYN-ACKs vanish in $NS_C's
# blackhole rule, as to addresses nobody uses).
#
# Cases: (a) as on this veth (RTT ~0.2 ms), (b) with 20 ms each way added
# by mpt's path emulation (RTT 40 ms, a real network's).  Checked:
# (a1)/(b1) the flood and the transfer:
#  - the token was valid: mpt counted at least $MIN_REACH_PCT % of the joins
#    as MP_JOIN SYNs of the connection (MPJoinSynRx; the others were dropped
#    by the kernel at the TUN queue, printed), none as unknown tokens, and
#    replaced join records older than 1 s to make room (MPJoinPendingEvict:
#    the table of 4096 is full after ~4 s at 1,000 joins/s);
#  - the transfer is intact (SHA-256) and was not a fallback to TCP;
#  - mpt's RSS: peak at most $RSS_BOUND_KB KiB above its value before the
#    connection: the connection itself with its two subflows touches about
#    4 MiB of buffers (measured with N_JOIN=8: 7132 -> 11108 KiB), the
#    half-open joins are records of a table allocated at start (4096 x 120
#    bytes, 480 KiB, resident as they are used; docs/mptcp-design.md "Join
#    records"), plus slack; 10,000 joins holding subflows would take
#    hundreds of MiB.  Not asserted under AddressSanitizer (its quarantine
#    keeps freed memory).
# (a2)/(b2) the legitimate join succeeded: the kernel received mpt's SYN-ACK
#    with a valid HMAC (MPTcpExtMPJoinSynAckRx), mpt the third ACK
#    (MPJoinAckRx >= 1), the client's connection ends with its added
#    subflow (MPTCP_INFO), and the rest of the transfer used it (at least
#    $MIN_PATH2_KIB KiB left on path 2 after the join).
#
# Formerly a known engine bug (a2 intermittent, b2 deterministic): a
# half-open join was a subflow, reset when max_join_pending (8) newer ones
# arrived before its third ACK, whatever its age; at 1,000 spoofed joins/s a
# real join had to complete within ~8 ms, never the case with a 40 ms RTT.
# Received joins are now join records (a table of 4096 per stack; the
# oldest is replaced only when older than 1 s), and the subflow is created
# at a third ACK with a valid HMAC: a2 and b2 pass (3 runs in a row when
# they left KNOWN_BUGS).
set -uo pipefail
TEST_NAME=flood_join
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flood_lib.sh"
interop_require
flood_require_scapy
N_JOIN=${N_JOIN:-10000}
FLOOD_S=${FLOOD_S:-10}
XFER_MIB=${XFER_MIB:-8}
XFER_S=${XFER_S:-16}
JOIN_AT=${JOIN_AT:-4}
# Under AddressSanitizer mpt reads the joins several times slower (each one
# allocates a subflow with its rings): the TUN queue drops most of them.
if [ "$(is_asan "$MPT_BIN")" = 1 ]; then
	MIN_REACH_PCT=${MIN_REACH_PCT:-10}
else
	MIN_REACH_PCT=${MIN_REACH_PCT:-50}
fi
MIN_PATH2_KIB=${MIN_PATH2_KIB:-1024}
RSS_BOUND_KB=${RSS_BOUND_KB:-8192}
# Known engine bugs: "case-letter:reason" lines (MPT_KNOWN_BUGS overrides;
# "" shows them as failures).  None today: see the header (a2, b2).
KNOWN_BUGS=${MPT_KNOWN_BUGS-""}
XFAILED=0

topo_two_paths
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
done
ip -n "$NS_S" mptcp limits set subflow 4 add_addr_accepted 0 || die "ip mptcp limits"
ip -n "$NS_C" rule add to "$FLOOD_SPOOF" blackhole pref 10 || die "blackhole rule"
# The join's path: 10.79.0.2 reaches mpt over path 2, and back.
ip -n "$NS_S" route add 10.78.1.0/24 via 10.79.0.1 dev mpt-p2s table 202
ip -n "$NS_S" rule add from 10.79.0.2 table 202 pref 100
ip -n "$NS_C" rule add from 10.78.1.0/24 to 10.79.0.0/24 table 102 pref 50

# case_join NAME PORT DELAY_MS
case_join() {
	local d="$WORK/$1" port=$2 delay=$3 rc=0
	mkdir -p "$d"
	ip -n "$NS_S" mptcp endpoint flush
	head -c $((XFER_MIB * 1048576)) /dev/urandom >"$d/data"
	ip netns exec "$NS_C" "$MPT_BIN" cat -l -vv \
		--path "$MP_A/24,dev=mpttun0${delay:+,delay=$delay}" --pcap "$d/mpt.pcap" "$port" \
		</dev/null >"$d/got" 2>"$d/mpt.err" &
	local spid=$!
	INTEROP_PIDS+=($spid)
	wait_route "$NS_C" "$MP_A" mpttun0 10 || { show_log "$d/mpt.err"; return 1; }
	local drops0
	drops0=$(tun_drops "$NS_C" mpttun0)
	"$FPY" "$FLOOD_PEER" monitor --pid $spid --interval 0.25 --out "$d/mon.out" &
	ip netns exec "$NS_S" timeout $((XFER_S + FLOOD_S + 60)) "$FPY" "$FLOOD_PEER" join-flood \
		--iface mpt-p1s --server "$MP_A" --port "$port" -n "$N_JOIN" --duration "$FLOOD_S" \
		--delay 1 --spoof "$FLOOD_SPOOF" --seed $$ --ready "$d/sniff.ready" \
		--started "$d/flood.started" >"$d/flood.out" 2>&1 &
	local fpid=$!
	wait_file "$d/sniff.ready" 10 || { echo "  the sniffer did not start"; return 1; }
	ksnap "$NS_S" "$d/k0"
	ip -n "$NS_S" mptcp endpoint add "$SRV_A" dev mpt-p1s id 1 || die "endpoint id 1"
	ip netns exec "$NS_S" timeout $((XFER_S + FLOOD_S + 60)) "$FPY" "$FLOOD_PEER" transfer \
		--host "$MP_A" --port "$port" --src "$SRV_A" --file "$d/data" --seconds "$XFER_S" \
		>"$d/xfer.out" 2>"$d/xfer.err" &
	local xpid=$!
	if ! wait_file "$d/flood.started" 20; then
		echo "  the join flood did not start"
		show_log "$d/flood.out"
		return 1
	fi
	sleep "$JOIN_AT"
	local p2a
	p2a=$(ip -n "$NS_S" -s link show mpt-p2s | awk '/TX:/ { getline; print $1; exit }')
	ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s id 2 subflow ||
		{ echo "  cannot add the endpoint"; rc=1; }
	echo "  legitimate join from $SRV_B started $JOIN_AT s into the flood"
	# Then path 1 becomes backup (MP_PRIO): the rest of the data must take
	# the new subflow.
	sleep 1
	ip -n "$NS_S" mptcp endpoint change id 1 backup || { echo "  cannot set path 1 to backup"; rc=1; }
	wait $fpid
	local frc=$?
	# (mpt's TUN goes away with it: read its drops now)
	local drops=$(($(tun_drops "$NS_C" mpttun0) - drops0))
	if [ -n "${FLOOD_DEBUG:-}" ]; then
		ip netns exec "$NS_C" tc -s qdisc show dev mpttun0
		ip -n "$NS_C" -s link show mpttun0
	fi
	wait $xpid
	local xrc=$?
	local p2b
	p2b=$(ip -n "$NS_S" -s link show mpt-p2s | awk '/TX:/ { getline; print $1; exit }')
	ksnap "$NS_S" "$d/k1"
	# mpt cat -l ends with the connection (its -vv counters are printed then)
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 $spid 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $spid 2>/dev/null && { echo "  mpt cat did not exit after the transfer"; kill $spid; }
	wait $spid
	local src=$?
	sed 's/^/  /' "$d/flood.out" | grep -v ": t[01] "
	sed 's/^/  /' "$d/xfer.out"
	[ $frc = 0 ] || { echo "  join flood exit status $frc"; rc=1; }
	[ $xrc = 0 ] || { echo "  transfer exit status $xrc"; show_log "$d/xfer.err"; rc=1; }
	[ $src = 0 ] || { echo "  mpt cat exit status $src"; show_log "$d/mpt.err"; rc=1; }
	same_file "transfer" "$d/data" "$d/got" || rc=1
	grep -q "fallback 0" "$d/xfer.out" || { echo "  the transfer was not MPTCP"; rc=1; }
	# mpt's counters at exit (-vv)
	c() { awk -v n="$1" '$1 == "mpt:" && $2 == "counter" && $3 == n { v = $4 } END { print v + 0 }' "$d/mpt.err"; }
	local syn evict ack notok rej sent
	syn=$(c MPJoinSynRx)
	evict=$(c MPJoinPendingEvict)
	ack=$(c MPJoinAckRx)
	notok=$(c MPJoinNoTokenFound)
	rej=$(c MPJoinRejected)
	sent=$(awk '/join-flood: sent/ { print $3 }' "$d/flood.out")
	echo "  kernel TUN drops (joins mpt could not read in time): $drops"
	echo "  mpt: MPJoinSynRx $syn, MPJoinPendingEvict $evict, MPJoinRejected $rej," \
		"MPJoinNoTokenFound $notok, MPJoinAckRx $ack, MPJoinAckHMacFailure $(c MPJoinAckHMacFailure)"
	echo "  kernel client: $(kshow "$d/k0" "$d/k1" | grep -E 'Join|Fallback|Reset' | tr '\n' ';' | tr -s ' ')"
	[ -n "$sent" ] && [ "$sent" -ge "$N_JOIN" ] || { echo "  the flood sent ${sent:-nothing}"; rc=1; }
	[ $(((syn + drops) * 100)) -ge $((${sent:-0} * 99)) ] ||
		{ echo "  joins lost elsewhere than in the TUN queue"; rc=1; }
	[ $((syn * 100)) -ge $((${sent:-0} * MIN_REACH_PCT)) ] ||
		{ echo "  fewer than $MIN_REACH_PCT % of the joins counted as MP_JOIN SYNs"; rc=1; }
	[ "$notok" = 0 ] || { echo "  joins with an unknown token: the token was wrong?"; rc=1; }
	[ "$evict" -gt 0 ] || { echo "  no half-open join was evicted"; rc=1; }
	# The legitimate join (JOIN_RC).
	JOIN_RC=0
	[ "$ack" -ge 1 ] || { echo "  mpt never got a valid third ACK of a join"; JOIN_RC=1; }
	[ "$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynAckRx)" -ge 1 ] ||
		{ echo "  the kernel never got a valid MP_JOIN SYN-ACK"; JOIN_RC=1; }
	grep -q "subflows 1 " "$d/xfer.out" ||
		{ echo "  the client's connection has no added subflow"; JOIN_RC=1; }
	local p2=$(((p2b - p2a) / 1024))
	echo "  path 2 carried $p2 KiB from the client after the join"
	[ "$p2" -ge "$MIN_PATH2_KIB" ] || { echo "  the new path carried almost nothing"; JOIN_RC=1; }
	# memory
	"$FPY" - "$d/mon.out" "$RSS_BOUND_KB" "$(is_asan "$MPT_BIN")" <<'EOF' || rc=1
import sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith("#")]
rss = [int(r[1]) for r in rows]
print("  mpt RSS: start %d KiB, peak %d KiB, end %d KiB" % (rss[0], max(rss), rss[-1]))
if sys.argv[3] == "1":
    print("  (RSS not asserted under AddressSanitizer: its quarantine keeps freed memory)")
elif max(rss) - rss[0] > int(sys.argv[2]):
    print("  RSS grew more than %s KiB" % sys.argv[2])
    sys.exit(1)
EOF
	if grep -q "Sanitizer\|runtime error" "$d/mpt.err"; then
		show_log "$d/mpt.err"
		rc=1
	fi
	[ $rc = 0 ] && [ $JOIN_RC = 0 ] || show_log "$d/mpt.err"
	return $rc
}
echo "-- (a) $N_JOIN spoofed valid-token MP_JOINs in $FLOOD_S s during a $XFER_MIB MiB transfer; a real join from a new path mid-flood"
JOIN_RC=1
case_join a 5300 ""
case_result "(a1) valid-token join flood during a transfer: joins counted, the transfer intact" $?
known_bug_result "(a2) a real join from a new path, mid-flood, succeeds and carries data" $JOIN_RC
echo "-- (b) the same with a 40 ms round trip (mpt's path emulation: 20 ms each way)"
JOIN_RC=1
case_join b 5301 20
case_result "(b1) the same flood with a 40 ms RTT: joins counted, the transfer intact" $?
known_bug_result "(b2) with a 40 ms RTT, a real join mid-flood succeeds and carries data" $JOIN_RC

if [ "$XFAILED" != 0 ]; then
	echo "NOTE: $TEST_NAME: $XFAILED case(s) XFAIL (known engine bugs, see above)"
fi
if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
