#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regression cases for issue 10's numbered bugs that can be seen from
# outside mpt, against the Linux kernel (kpeer.py, iperf3) in namespaces.
# Each case is named after its bug ("(bN-...)"); the shared runner is
# kmatrix_lib.sh (hashes, exit statuses, liveness bound, kernel counters).
#
#  b1  relays and mpt cat with a slow reader: blocks skipped/repeated
#      (proxy -> convert 32 MiB up/down/both, onpath upload 32 MiB, mpt cat
#      into `sh -c 'sleep 1; exec dd bs=4096'` 8 MiB from a kernel server)
#  b2  small uploads (1..12000 B) from `mpt cat -N`, stdin a regular file,
#      to a kernel MPTCP server: hung (DATA_FIN counted in the MP_CAPABLE
#      mapping)
#  b3  the kernel writes 32 MiB without reading while mpt sends 32 MiB:
#      zero-window deadlock
#  b4  zero windows on 10 + 3 Mbit/s paths: a probe byte retransmitted
#      without its mapping -> the kernel's MP_TCPRST (MPRstRx/Tx must stay 0)
#  b5  IPv6, kernel client -> mpt cat -l with two IPv6 addresses: mpt must
#      announce the second (ADD_ADDR) and the kernel join it (IPv4 control)
#  b6  a kernel server that half-closes right after accept: time from the
#      MP_CAPABLE SYN/ACK to the first MP_JOIN SYN, mpt vs the kernel's own
#      path manager (dumpcap in the server's namespace), both over the same
#      tbf-shaped paths: mpt's within 10 ms of the kernel's, never retried
#      after the closing server refused it, carrying data when accepted
#      (acceptance itself is a race with the server's close: not asserted)
#  b9  Ctrl-C (SIGINT) of `mpt perf -c` against `iperf3 -s` (kernel MPTCP):
#      the server must not stay busy (a kernel iperf3 -c right after works);
#      of `mpt cat`: the kernel peer learns within 3 s; both exit non-zero
#  b10 a dead path (veth down mid-upload, mid-download, and from the start)
#      must not delay `mpt cat`'s exit by more than 2.5 s after the kernel
#      closed (the 2 s subflow linger + 0.5 s; a healthy close takes ~0.1 s)
#  b11 kernel client -> mpt cat -l with 2-4 addresses, a few bytes, mpt
#      closes first: mpt's DATA_FIN reached the kernel before the SYN/ACK
#      of the join its ADD_ADDR had invited, and Linux resets a join whose
#      SYN/ACK finds its connection not ESTABLISHED (MPRstTx +1, no join):
#      the kernel's joins must now complete (kmatrix c016 c018 c057 ...)
# Not here: b7 (IDSN near 2^64 needs a forced IDSN, simulator soak) and b8
# (a forged DATA_FIN: packet injection).
set -uo pipefail
TEST_NAME=kregress
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kmatrix_lib.sh"
[ "${CI:-}" = true ] && export MPT_INTEROP_REQUIRE=1
km_require
for t in dumpcap tshark iperf3 mptcpize; do
	command -v "$t" >/dev/null || skip "$t is not installed (scripts/deps.sh installs it)"
done
CASES=${KREGRESS_CASES:-"b1 b2 b3 b4 b5 b6 b9 b10 b11"}
want() { [[ " $CASES " == *" $1 "* ]]; }
km_topo_cat
want b1 && { km_topo_relay; km_topo_onpath; }
T0=$SECONDS

# ---- b1 ---------------------------------------------------------------------
if want b1; then
	echo "-- (b1) slow readers behind relays / a slow pipe behind mpt cat"
	km_relay b1-1 proxy up $((32 * MIB)) slow large both none
	km_relay b1-2 proxy down $((32 * MIB)) slow large both none
	km_relay b1-3 proxy both $((32 * MIB)) paused large both none
	km_relay b1-4 onpath-conv up $((32 * MIB)) slow large both none
	km_cat b1-5 client 4 1 down $((8 * MIB)) prompt large both slow off none
fi

# ---- b2 ---------------------------------------------------------------------
if want b2; then
	echo "-- (b2) small uploads from mpt cat -N (stdin a regular file) to a kernel MPTCP server"
	for s in 1 100 1000 1024 1400 4000 12000; do
		KM_BOUND=10 km_cat "b2-$s" client 4 1 up "$s" prompt one mpt file off none
	done
	KM_BOUND=10 km_cat b2-6-1000 client 6 2 up 1000 prompt one mpt file off none
fi

# ---- b3 ---------------------------------------------------------------------
if want b3; then
	echo "-- (b3) the kernel writes 32 MiB without reading while mpt sends 32 MiB"
	KM_BOUND=60 km_cat b3-1 client 4 1 both $((32 * MIB)) late large mpt file off none
	KM_BOUND=60 km_cat b3-2 server 4 1 both $((32 * MIB)) late large mpt file off none
fi

# ---- b4 ---------------------------------------------------------------------
if want b4; then
	echo "-- (b4) zero windows over 10 + 3 Mbit/s paths: no MP_TCPRST"
	KM_BOUND=60 KM_PATHS_OVERRIDE="10.78.1.1/24,dev=mpttun0,rate=10 10.79.1.1/24,dev=mpttun1,rate=3" \
		km_cat b4-1 client 4 2 both $((8 * MIB)) late large mpt file off none
	KM_BOUND=60 KM_PATHS_OVERRIDE="10.78.1.1/24,dev=mpttun0,rate=10 10.79.1.1/24,dev=mpttun1,rate=3" \
		km_cat b4-2 client 4 2 both $((8 * MIB)) paused large mpt file off none
fi

# ---- b5 ---------------------------------------------------------------------
if want b5; then
	echo "-- (b5) kernel client -> mpt cat -l with two addresses: ADD_ADDR + join (IPv6; IPv4 control)"
	# A slow kernel reader: the transfer lasts over a second, so a join that
	# is not accepted is a failure, not a race with the end of the transfer.
	# The kernel half-closes only at the end of what it reads (close=mpt):
	# its path manager opens no subflow once the connection left
	# ESTABLISHED, and with close=both its 4 MiB upload (done in ~20 ms)
	# and DATA_FIN sometimes beat its path manager's handling of our
	# ADD_ADDR (1 of 21 runs: the ADD_ADDR echo and the DATA_FIN in the
	# same millisecond, no join SYN).
	KM_EXPECT_JOINS=1 km_cat b5-6 server 6 2 both $((4 * MIB)) slow large mpt file off none
	KM_EXPECT_JOINS=1 km_cat b5-4 server 4 2 both $((4 * MIB)) slow large mpt file off none
fi

# ---- b6 ---------------------------------------------------------------------
# b6_join_delays PCAP: "first-join-delay-ms join-syns" from the SYN-only
# capture: the MP_JOIN SYNs (subtype 1, no ACK) after the MP_CAPABLE SYN/ACK
# (subtype 0, SYN+ACK), delay from that SYN/ACK to the first join SYN.
b6_join_delays() {
	tshark -r "$1" -Y "tcp.flags.syn == 1 && tcp.options.mptcp.subtype" -T fields \
		-e frame.time_epoch -e tcp.flags.ack -e tcp.options.mptcp.subtype -e ip.src 2>/dev/null |
		python3 -c "
import sys
synack = None; joins = []
for l in sys.stdin:
    f = l.split('\t')
    if len(f) < 3: continue
    t, ack, sub = float(f[0]), f[1].strip() in ('1', 'True'), f[2].split(',')[0].strip()
    if sub == '0' and ack and synack is None: synack = t
    if sub == '1' and not ack: joins.append(t)
if synack is None or not joins:
    print('none %d' % len(joins))
else:
    print('%.2f %d' % ((joins[0] - synack) * 1000, len(joins)))"
}
b6_case() { # b6_case NAME mpt|kernel
	local name=$1 who=$2 d="$WORK/$1" port=$((KM_PORT + 600 + ${#1}))
	[ "$who" = kernel ] && port=$((port + 1))
	mkdir -p "$d"
	local up
	up=$(km_data up $((16 * MIB)))
	ksnap "$KM_S" "$d/k0"
	ip netns exec "$KM_S" timeout 60 dumpcap -q -i mpt-ks1 -i mpt-ks2 \
		-f "tcp port $port and tcp[tcpflags] & tcp-syn != 0" -w "$d/syn.pcapng" -a duration:50 \
		>"$d/dumpcap.log" 2>&1 &
	local cpid=$!
	INTEROP_PIDS+=("$cpid")
	sleep 1.5 # dumpcap needs a moment before it captures
	local p2=/sys/class/net/mpt-ks2/statistics/rx_bytes p2a p2b
	p2a=$(ip netns exec "$KM_S" cat "$p2")
	# The discard-style server: shuts its sending side right after accept.
	ip netns exec "$KM_S" timeout 60 python3 "$KPEER" server --port "$port" --close now \
		--reader prompt --result "$d/k.json" --ready "$d/ready" 2>"$d/k.err" &
	local kpid=$!
	INTEROP_PIDS+=("$kpid")
	wait_file "$d/ready" 10
	local rc=0 t0
	t0=$(km_ts)
	if [ "$who" = mpt ]; then
		# The same shaping as the kernel's client below (tbf on the two
		# veths that mpt's TUN traffic leaves by), not mpt's own rate
		# emulation: that one serializes every packet at 10 Mbit/s from
		# the first, where tbf lets a 32 kB burst through at once, and
		# the first DATA_ACK (which the path manager waits for, RFC 8684
		# §3.2) came back 1.2 ms per segment later than the kernel's.
		local i
		for i in 1 2; do
			ip netns exec "$KM_C" tc qdisc replace dev "mpt-kc$i" root tbf rate 10mbit burst 32kb latency 50ms
		done
		ip netns exec "$KM_C" timeout 60 "$MPT_BIN" cat -N -v \
			--path 10.78.1.1/24,dev=mpttun0 --path 10.79.1.1/24,dev=mpttun1 \
			10.78.0.2 "$port" <"$up" >/dev/null 2>"$d/m.err" || { echo "  mpt cat failed"; rc=1; }
		for i in 1 2; do
			ip netns exec "$KM_C" tc qdisc del dev "mpt-kc$i" root
		done
	else
		# The kernel's own client and path manager over the same two veths
		# (rate-limited like mpt's emulation), from the kernel's addresses in
		# mpt's namespace: a subflow endpoint on path 2.
		ip -n "$KM_C" mptcp endpoint add 10.79.0.1 dev mpt-kc2 subflow
		ip -n "$KM_C" rule add from 10.79.0.1 table 102 pref 99
		local i
		for i in 1 2; do
			ip netns exec "$KM_C" tc qdisc replace dev "mpt-kc$i" root tbf rate 10mbit burst 32kb latency 50ms
		done
		ip netns exec "$KM_C" timeout 60 python3 "$KPEER" client --host 10.78.0.2 --bind 10.78.0.1 \
			--port "$port" --send "$up" --close now --result "$d/c.json" 2>"$d/c.err" ||
			{ echo "  kernel client failed"; rc=1; }
		for i in 1 2; do
			ip netns exec "$KM_C" tc qdisc del dev "mpt-kc$i" root
		done
		ip -n "$KM_C" mptcp endpoint flush
		ip -n "$KM_C" rule del from 10.79.0.1 table 102 pref 99
	fi
	local secs
	secs=$(km_secs "$t0" "$(km_ts)")
	wait "$kpid" || { echo "  kernel server failed: $(km_json "$d/k.json" errors)"; rc=1; }
	p2b=$(ip netns exec "$KM_S" cat "$p2")
	km_settle "$KM_S" "$port"
	ksnap "$KM_S" "$d/k1"
	sleep 0.5
	kill -INT "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	[ "$(km_json "$d/k.json" recv_sha256)" = "$(cat "$up.sha")" ] || { echo "  upload corrupted"; rc=1; }
	local delay joins
	read -r delay joins < <(b6_join_delays "$d/syn.pcapng")
	local rej acc
	rej=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinRejected)
	acc=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinAckRx)
	echo "  $who: 16 MiB upload in $secs s; first MP_JOIN SYN ${delay} ms after the MP_CAPABLE SYN/ACK;" \
		"join SYNs $joins; kernel MPJoinRejected +$rej, MPJoinAckRx +$acc;" \
		"path 2 carried $(((p2b - p2a) / 1000)) kB"
	eval "B6_${who}_delay=$delay B6_${who}_rej=$rej B6_${who}_acc=$acc B6_${who}_p2=$((p2b - p2a)) B6_${who}_joins=$joins"
	return $rc
}
if want b6; then
	echo "-- (b6) kernel server half-closing right after accept: join timing, mpt vs the kernel's PM"
	# The server half-closes at once, and Linux refuses every join that
	# completes after its DATA_FIN (MPJoinRejected): whether a join gets in
	# is a race with the server application's accept-then-shutdown, which
	# the kernel's own client loses too, in most rounds on this machine
	# (2026-12-05, idle, with the same 1-3 ms join delay as mpt's).  So
	# acceptance is not asserted; what is: mpt opens its join as early as
	# the kernel's path manager (RFC 8684 §3.2, within 10 ms on the same
	# shaped paths), never retries a join the closing peer refused, the
	# upload is intact, and when the join got in, path 2 carries a real
	# share.  Up to 3 rounds, stopping at one where mpt's join got in.
	for b6_round in 1 2 3; do
		b6_case "b6-kernel$b6_round" kernel
		krc=$?
		b6_case "b6-mpt$b6_round" mpt
		rc=$?
		[ "$B6_mpt_rej" = 0 ] && [ "$B6_mpt_acc" -ge 1 ] && break
		echo "  round $b6_round: mpt's join refused by the closing server (kernel's own:" \
			"rejected +$B6_kernel_rej, accepted +$B6_kernel_acc)"
	done
	[ $krc = 0 ] || echo "  (the kernel's own client failed: reference missing)"
	[ "$B6_mpt_joins" -le 1 ] || { echo "  mpt sent $B6_mpt_joins join SYNs for one extra path"; rc=1; }
	if [ "$B6_mpt_acc" -ge 1 ]; then
		[ "$B6_mpt_p2" -ge 4000000 ] || { echo "  path 2 carried under 4 MB of the 16 MiB upload"; rc=1; }
	else
		echo "  mpt's join was refused in every round (the server's race; not a failure)"
	fi
	echo "  first-join delay: mpt $B6_mpt_delay ms, kernel PM $B6_kernel_delay ms"
	# As early as RFC 8684 §3.2 allows, like the kernel: within 10 ms of
	# the kernel's own path manager on the same paths (it takes ~1 ms).
	if [ "$B6_mpt_delay" = none ]; then
		rc=1
	elif [ "$B6_kernel_delay" != none ]; then
		python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) + 10 else 1)" \
			"$B6_mpt_delay" "$B6_kernel_delay" || { echo "  mpt's first join is late"; rc=1; }
	fi
	KM_DESC="join timing"
	km_record b6-join "$([ $rc = 0 ] && echo pass || echo FAIL)" "$B6_mpt_delay" "$B6_kernel_delay" \
		"$([ $rc = 0 ] && echo - || echo "join-retried/late/corrupt")" \
		"first-join ms mpt/kernel; mpt rejected+$B6_mpt_rej accepted+$B6_mpt_acc syns $B6_mpt_joins path2 $((B6_mpt_p2 / 1000)) kB"
fi

# ---- b9 ---------------------------------------------------------------------
# The kernel namespace's ESTABLISHED TCP sockets of PORT (subflows included).
estab() { ip netns exec "$KM_S" ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l; }
if want b9; then
	echo "-- (b9) SIGINT to mpt perf -c (iperf3 -s kernel) and to mpt cat (kernel peer)"
	d="$WORK/b9"
	mkdir -p "$d"
	port=$((KM_PORT + 900))
	ip netns exec "$KM_S" timeout 120 mptcpize run iperf3 -s -p "$port" >"$d/iperf3-s.log" 2>&1 &
	INTEROP_PIDS+=($!)
	sleep 1
	# Background jobs of a script start with SIGINT ignored: give mpt the
	# default disposition a shell's foreground job has (Ctrl-C).
	env --default-signal=INT ip netns exec "$KM_C" "$MPT_BIN" perf -c 10.78.0.2 -p "$port" -t 20 \
		--path 10.78.1.1/24,dev=mpttun0 --path 10.79.1.1/24,dev=mpttun1 >"$d/perf.out" 2>"$d/perf.err" &
	mp=$!
	INTEROP_PIDS+=("$mp")
	sleep 3
	before=$(estab "$port")
	t0=$(km_ts)
	kill -INT "$mp"
	for ((i = 0; i < 100; i++)); do kill -0 "$mp" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$mp" 2>/dev/null && { kill -KILL "$mp"; echo "  mpt perf still running 10 s after SIGINT"; }
	wait "$mp"
	prc=$?
	exit_s=$(km_secs "$t0" "$(km_ts)")
	for ((i = 0; i < 30; i++)); do [ "$(estab "$port")" = 0 ] && break; sleep 0.1; done
	after=$(estab "$port")
	ip netns exec "$KM_C" timeout 20 mptcpize run iperf3 -c 10.78.0.2 -B 10.78.0.1 -p "$port" -t 1 \
		>"$d/iperf3-c.log" 2>&1
	irc=$?
	echo "  mpt perf: exit $prc ${exit_s} s after SIGINT; kernel ESTABLISHED sockets of the port:" \
		"$before before, $after 3 s after; a kernel iperf3 -c next: exit $irc" \
		"$(grep -o 'server is busy' "$d/iperf3-c.log" | head -1)"
	rc=0
	[ "$prc" != 0 ] || { echo "  mpt perf exited 0 after SIGINT"; rc=1; }
	[ "$after" = 0 ] || rc=1
	[ "$irc" = 0 ] || { show_log "$d/iperf3-c.log"; rc=1; }
	grep -qi "sender\|receiver\|sum" "$d/perf.out" || { echo "  no (partial) summary printed"; rc=1; }
	KM_DESC="SIGINT mpt perf -c"
	km_record b9-perf "$([ $rc = 0 ] && echo pass || echo FAIL)" "$exit_s" - \
		"$([ $rc = 0 ] && echo - || echo "peer-left-busy/exit$prc")" \
		"estab before $before after $after; next iperf3 -c exit $irc"

	# mpt cat fed forever, SIGINT after 2 s: the kernel peer must learn.
	port=$((port + 1))
	ip netns exec "$KM_S" timeout 60 python3 "$KPEER" server --port "$port" --close eof \
		--result "$d/k.json" --ready "$d/ready" 2>"$d/k.err" &
	kp=$!
	INTEROP_PIDS+=("$kp")
	wait_file "$d/ready" 10
	mkfifo "$d/fifo"
	( for ((i = 0; i < 400; i++)); do head -c 65536 /dev/zero; sleep 0.05; done >"$d/fifo" ) &
	feeder=$!
	INTEROP_PIDS+=("$feeder")
	env --default-signal=INT ip netns exec "$KM_C" "$MPT_BIN" cat -N --path 10.78.1.1/24,dev=mpttun0 \
		--path 10.79.1.1/24,dev=mpttun1 10.78.0.2 "$port" <"$d/fifo" >/dev/null 2>"$d/cat.err" &
	mp=$!
	INTEROP_PIDS+=("$mp")
	sleep 2
	t0=$(km_ts)
	kill -INT "$mp"
	for ((i = 0; i < 100; i++)); do kill -0 "$mp" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$mp" 2>/dev/null && { kill -KILL "$mp"; echo "  mpt cat still running 10 s after SIGINT"; }
	wait "$mp"
	crc=$?
	for ((i = 0; i < 30; i++)); do kill -0 "$kp" 2>/dev/null || break; sleep 0.1; done
	kalive=0
	kill -0 "$kp" 2>/dev/null && kalive=1
	kill "$kp" "$feeder" 2>/dev/null
	wait "$kp" 2>/dev/null
	kend=$(km_json "$d/k.json" t_end "")
	klearn=$([ -n "$kend" ] && km_secs "$t0" "$kend" || echo never)
	echo "  mpt cat: exit $crc; the kernel peer ended ${klearn} s after the SIGINT" \
		"($(km_json "$d/k.json" errors 'no result'); received $(km_json "$d/k.json" received 0) B)"
	rc=0
	[ "$crc" != 0 ] || { echo "  mpt cat exited 0 after SIGINT"; rc=1; }
	[ "$kalive" = 0 ] || { echo "  the kernel peer still waits 3 s after mpt cat's exit"; rc=1; }
	KM_DESC="SIGINT mpt cat"
	km_record b9-cat "$([ $rc = 0 ] && echo pass || echo FAIL)" - "$klearn" \
		"$([ $rc = 0 ] && echo - || echo "peer-not-told/exit$crc")" "kernel peer ended after ${klearn} s"
fi

# ---- b10 --------------------------------------------------------------------
# mpt cat's exit after the kernel closed (it has every byte and our DATA_FIN).
b10_case() { # b10_case ID WHEN(mid|start)
	local id=$1 when=$2
	local paths="10.78.1.1/24,dev=mpttun0,rate=40 10.79.1.1/24,dev=mpttun1,rate=40"
	if [ "$when" = start ]; then
		ip -n "$KM_C" link set mpt-kc2 down
		KM_MAX_EXIT_LAG=2.5 KM_EXPECT_JOINS=0 KM_BOUND=40 KM_PATHS_OVERRIDE=$paths \
			km_cat "$id" client 4 2 up $((8 * MIB)) prompt large mpt file off none
	else
		KM_MAX_EXIT_LAG=2.5 KM_DURING="sleep 0.8; ip -n $KM_C link set mpt-kc2 down" KM_BOUND=40 \
			KM_PATHS_OVERRIDE=$paths km_cat "$id" client 4 2 up $((8 * MIB)) prompt large mpt file off none
	fi
	local rc=$?
	ip -n "$KM_C" link set mpt-kc2 up
	ip -n "$KM_C" route replace default via 10.79.0.2 dev mpt-kc2 table 102
	echo "  mpt cat exited $(km_secs "$KM_KEND" "$KM_MEND") s after the kernel peer closed"
	return $rc
}
if want b10; then
	echo "-- (b10) one dead path must not delay mpt cat's exit (bound 2.5 s after the kernel closed)"
	b10_case b10-mid mid
	b10_case b10-start start
	# The kernel sending (download) while path 2 dies.
	KM_MAX_EXIT_LAG=2.5 KM_DURING="sleep 0.8; ip -n $KM_C link set mpt-kc2 down" KM_BOUND=40 \
		KM_PATHS_OVERRIDE="10.78.1.1/24,dev=mpttun0,rate=40 10.79.1.1/24,dev=mpttun1,rate=40" \
		km_cat b10-down client 4 2 down $((8 * MIB)) prompt large both file off none
	ip -n "$KM_C" link set mpt-kc2 up
	ip -n "$KM_C" route replace default via 10.79.0.2 dev mpt-kc2 table 102
fi

# ---- b11 --------------------------------------------------------------------
if want b11; then
	echo "-- (b11) mpt closes first after announcing addresses: the kernel client's joins complete"
	KM_EXPECT_JOINS=1 KM_BOUND=10 km_cat b11-1 server 4 4 up 1 late large mpt slow mpt none
	KM_EXPECT_JOINS=1 KM_BOUND=10 km_cat b11-2 server 6 3 down 1 slow one mpt slow kernel none
	KM_EXPECT_JOINS=1 KM_BOUND=10 km_cat b11-3 server 6 3 both 16383 prompt tiny both pipe off none
	KM_EXPECT_JOINS=1 KM_BOUND=10 km_cat b11-4 server 4 2 up 0 slow large mpt file mpt l1
fi

echo "-- $TEST_NAME: $((SECONDS - T0)) s"
if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED check(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
