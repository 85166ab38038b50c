#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How `mpt cat` ends, against the kernel's MPTCP (issue 15):
#   (a) one path dies mid-transfer (the initial subflow's veth goes down):
#       once every byte arrived both ways, mpt must exit within its bound
#       (2 s of close handshake, + 1 s slack) instead of waiting for the dead
#       subflow's FIN exchange (it used to take 3 to 9 s);
#   (b) SIGTERM mid-transfer: mpt aborts the connection (MP_FASTCLOSE), says
#       what it transferred, exits 1 at once, and the kernel is left with no
#       ESTABLISHED subflow of it (it used to die with the kernel's subflows
#       still ESTABLISHED);
#   (c) SIGINT to a listening `mpt cat -l` with a kernel client connected:
#       the same, from the server side.
set -uo pipefail
TEST_NAME=cat_close
. "$(dirname "$0")/lib.sh"
# Known bugs, "case-id:reason" lines (MPT_KNOWN_BUGS overrides): XFAIL/XPASS.
KNOWN_BUGS=${MPT_KNOWN_BUGS-"a:intermittent: after the initial path dies the upload stalled once (57 kB of 8 MiB, 8 timeouts, one CI-like run of 2026-12-04 morning); not seen since the TUN read fairness and subflow window fixes (2 CI-like runs and 5 runs in a row pass); kept listed until explained"}
interop_require
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v nstat >/dev/null || skip "nstat (iproute2) is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"
TOPO_RATE=20mbit topo_two_paths
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
done
MPT_TWO=(--path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1")
ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal || die "endpoint add"

now() { date +%s.%N; }
# established NS PORT: TCP connections of the kernel in NS on local/remote PORT
established() {
	ip netns exec "$1" ss -Htn state established "( sport = :$2 or dport = :$2 )" | wc -l
}
# wait_established NS PORT N: until N of them are up (at most 10 s), then
# one more second of transfer
wait_established() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(established "$1" "$2")" -ge "$3" ] && break
		sleep 0.1
	done
	sleep 1
}

echo "-- (a) the initial subflow's path dies: bounded exit after the data is done"
case_a() {
	local d="$WORK/a" size=$((8 * 1048576))
	mkdir -p "$d"
	head -c "$size" /dev/urandom >"$d/up"
	ip netns exec "$NS_S" timeout 60 mptcpize run python3 "$PEER" server --keep-listening \
		--port 6200 --send "$d/up" --recv-out "$d/srv_got" --ready "$d/ready" 2>"$d/peer.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || return 1
	(sleep 1; ip -n "$NS_C" link set mpt-p1c down) &
	ip netns exec "$NS_C" timeout 60 "$MPT_BIN" cat -N -v "${MPT_TWO[@]}" "$SRV_A" 6200 \
		<"$d/up" >"$d/cli_got" 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	# When did every byte arrive both ways (mpt's output complete, the
	# kernel server done)?
	local t_done="" i
	for ((i = 0; i < 1200; i++)); do
		if [ -z "$t_done" ] && [ "$(stat -c %s "$d/cli_got" 2>/dev/null)" = "$size" ] &&
			! kill -0 "$spid" 2>/dev/null; then
			t_done=$(now)
		fi
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.05
	done
	local t_exit
	t_exit=$(now)
	wait "$mpid"
	local mrc=$?
	wait "$spid"
	local prc=$?
	ip -n "$NS_C" link set mpt-p1c up
	[ -n "$t_done" ] || t_done=$t_exit
	local lag
	lag=$(echo "$t_exit - $t_done" | bc)
	echo "  mpt exit $mrc, kernel server exit $prc; mpt exited ${lag} s after the data was done"
	local rc=0
	[ $mrc = 0 ] && [ $prc = 0 ] || rc=1
	same_file "mpt -> kernel" "$d/up" "$d/srv_got" || rc=1
	same_file "kernel -> mpt" "$d/up" "$d/cli_got" || rc=1
	python3 -c "import sys; sys.exit(0 if $lag <= 3.0 else 1)" ||
		{ echo "  exit took more than 3 s (bound: 2 s of close handshake)"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/mpt.err"; show_log "$d/peer.err"; }
	return $rc
}
case_a
known_bug_result "(a) dead initial path: exit within the bound" $?

echo "-- (b) SIGTERM to mpt cat (client) mid-transfer"
case_b() {
	local d="$WORK/b"
	mkdir -p "$d"
	ksnap "$NS_S" "$d/k0"
	# The server sends too: a kernel MPTCP connection that has sent its
	# DATA_FIN takes no more joins.
	head -c 64M /dev/zero >"$d/big"
	ip netns exec "$NS_S" timeout 60 mptcpize run python3 "$PEER" server --keep-listening \
		--port 6201 --send "$d/big" --recv-out /dev/null --ready "$d/ready" 2>"$d/peer.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || return 1
	ip netns exec "$NS_C" timeout 60 "$MPT_BIN" cat "${MPT_TWO[@]}" "$SRV_A" 6201 \
		</dev/zero >/dev/null 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_established "$NS_S" 6201 2
	local before
	before=$(established "$NS_S" 6201)
	local t0 t1
	t0=$(now)
	kill -TERM "$mpid"
	wait "$mpid"
	local mrc=$?
	t1=$(now)
	sleep 0.5
	local after
	after=$(established "$NS_S" 6201)
	ksnap "$NS_S" "$d/k1"
	local fc
	fc=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPFastcloseRx)
	echo "  kernel subflows ESTABLISHED before: $before, 0.5 s after: $after;" \
		"MPTcpExtMPFastcloseRx +$fc; mpt exit $mrc after $(echo "$t1 - $t0" | bc) s"
	sed 's/^/  | /' "$d/mpt.err" | tail -n 3
	local rc=0
	[ "$before" -ge 2 ] || { echo "  fewer than 2 subflows before the signal"; rc=1; }
	[ "$after" = 0 ] || { echo "  the kernel still has ESTABLISHED subflows"; rc=1; }
	[ "$fc" -ge 1 ] || { echo "  the kernel got no MP_FASTCLOSE"; rc=1; }
	[ $mrc = 1 ] || { echo "  exit status $mrc, expected 1"; rc=1; }
	grep -q "interrupted" "$d/mpt.err" || { echo "  no 'interrupted' message"; rc=1; }
	grep -q "sent [0-9]* B" "$d/mpt.err" || { echo "  no transfer summary"; rc=1; }
	wait "$spid" 2>/dev/null
	return $rc
}
case_b
case_result "(b) SIGTERM: MP_FASTCLOSE, no ESTABLISHED subflow left, exit 1" $?

echo "-- (c) SIGINT to mpt cat -l with a kernel MPTCP client"
case_c() {
	local d="$WORK/c"
	mkdir -p "$d"
	ksnap "$NS_S" "$d/k0"
	ip netns exec "$NS_C" timeout 60 "$MPT_BIN" cat -l -v "${MPT_TWO[@]}" 6202 \
		</dev/zero >/dev/null 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	wait_route "$NS_C" "$MP_A" mpttun0 || return 1
	head -c 64M /dev/zero >"$d/big"
	ip netns exec "$NS_S" timeout 60 mptcpize run python3 "$PEER" client --host "$MP_A" \
		--port 6202 --send "$d/big" --recv-out /dev/null 2>"$d/peer.err" &
	local cpid=$!
	INTEROP_PIDS+=("$cpid")
	wait_established "$NS_S" 6202 1
	local before after
	before=$(established "$NS_S" 6202)
	kill -INT "$mpid"
	wait "$mpid"
	local mrc=$?
	sleep 0.5
	after=$(established "$NS_S" 6202)
	ksnap "$NS_S" "$d/k1"
	local fc
	fc=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPFastcloseRx)
	echo "  kernel subflows ESTABLISHED before: $before, after: $after;" \
		"MPTcpExtMPFastcloseRx +$fc; mpt exit $mrc"
	grep -E "connection from|interrupted" "$d/mpt.err" | sed 's/^/  | /'
	local rc=0
	[ "$before" -ge 1 ] || { echo "  no connection before the signal"; rc=1; }
	[ "$after" = 0 ] || { echo "  the kernel still has ESTABLISHED subflows"; rc=1; }
	[ "$fc" -ge 1 ] || { echo "  the kernel got no MP_FASTCLOSE"; rc=1; }
	[ $mrc = 1 ] || { echo "  exit status $mrc, expected 1"; rc=1; }
	grep -q "connection from .*(MPTCP)" "$d/mpt.err" ||
		{ echo "  the listener did not say the connection is MPTCP"; rc=1; }
	wait "$cpid" 2>/dev/null
	return $rc
}
case_c
case_result "(c) SIGINT to a listener: MP_FASTCLOSE, exit 1" $?

[ $FAILED = 0 ] || exit 1
echo "cat_close: all cases passed"
