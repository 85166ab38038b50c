# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers of the flood tests and of bench/floods.sh (sourced after lib.sh).
#
# Topology: lib.sh's topo_two_ns (mpt in $NS_C at 10.77.1.1 on TUN mpttun0;
# the kernel side, attacker and legitimate clients, in $NS_S at 10.77.0.2)
# plus:
#  - the spoofed sources are 10.99.0.0/16; in $NS_C a blackhole rule makes
#    every packet to them vanish without an ICMP error, as SYN-ACKs to
#    addresses nobody uses do on the Internet (a reachable spoofed source
#    would answer with a RST and free the listener's state itself);
#  - MPTCP enabled in both namespaces, net.mptcp.blackhole_timeout=0;
#  - an echo server at 10.77.0.2:7000 (the converter's destination).

FLOOD_SPOOF=10.99.0.0/16
FLOOD_MPT=10.77.1.1
FLOOD_PEER="$INTEROP_DIR/flood_peer.py"

# The packets are laid out by scapy; pick a python3 that has it (CI's is
# /usr/bin/python3 with python3-scapy from scripts/deps.sh).  Sets FPY.
flood_require_scapy() {
	local py
	FPY=""
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null && "$py" -c 'import scapy.all' 2>/dev/null; then
			FPY=$(command -v "$py")
			return 0
		fi
	done
	[ "${CI:-}" = true ] && die "python3-scapy is not installed (needed in CI; scripts/deps.sh installs it)"
	skip "python3-scapy is not installed (scripts/deps.sh installs it)"
}

# 1 when $1 is built with AddressSanitizer (its quarantine keeps freed
# memory, up to 256 MiB by default: RSS says nothing about leaks there).
is_asan() {
	if ldd "$1" 2>/dev/null | grep -q libasan || grep -qa "__asan_init" "$1"; then
		echo 1
	else
		echo 0
	fi
}

flood_topo() {
	topo_two_ns
	local ns
	for ns in "$NS_C" "$NS_S"; do
		ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1 >/dev/null ||
			die "cannot enable MPTCP in $ns"
		ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
	done
	ip -n "$NS_C" rule add to "$FLOOD_SPOOF" blackhole pref 10 ||
		die "cannot add the blackhole rule for the spoofed sources"
	ip netns exec "$NS_S" "$FPY" "$INTEROP_DIR/svc_peer.py" echo-server --bind 10.77.0.2 \
		--port 7000 --ready "$WORK/echo.ready" 2>"$WORK/echo.err" &
	INTEROP_PIDS+=($!)
	wait_file "$WORK/echo.ready" 10 || die "echo server did not start"
}

# kv FILE KEY: the value after KEY in a "key value..." file (all fields)
kv() {
	awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$1"
}

# TX drops of a device (packets the kernel could not queue for the reader)
tun_drops() {
	ip -n "$1" -s link show "$2" 2>/dev/null |
		awk '/TX:/ { getline; print $4; exit }'
}

# flood_run NAME PORT MODE START_CMD...: one server under flood.
#   MODE: legit client mode (perf, cat, convert, kcat)
#   START_CMD: the server command line, run in $NS_C (stdout to
#   $d/srv.out, stderr to $d/srv.err)
# Runs the server, the RSS/CPU monitor, the legitimate client (from
# $FLOOD_BEFORE s before the flood to $FLOOD_AFTER s after it) and the
# flood of $N_SYN SYNs over $FLOOD_S s; stops the server with SIGTERM.
# Leaves in $d: srv.out srv.err legit.out flood.out mon.out summary
# (flood_peer summarize) pcap.stats (with FLOOD_PCAP=1) and srv.rc;
# sets FLOOD_SRV_PID.
flood_run() {
	local name=$1 port=$2 mode=$3
	shift 3
	local d="$WORK/$name"
	mkdir -p "$d"
	ip netns exec "$NS_C" "$@" >"$d/srv.out" 2>"$d/srv.err" &
	local spid=$!
	FLOOD_SRV_PID=$spid
	INTEROP_PIDS+=($spid)
	local ready=0 i
	for ((i = 0; i < 100; i++)); do
		if [ "$mode" = kcat ]; then
			[ -e "$d/ready" ] && ready=1
		else
			ip -n "$NS_C" route get "$FLOOD_MPT" 2>/dev/null | grep -q "dev mpttun0" && ready=1
		fi
		[ $ready = 1 ] && break
		kill -0 $spid 2>/dev/null || break
		sleep 0.1
	done
	if [ $ready != 1 ]; then
		echo "  $name: the server did not start"
		show_log "$d/srv.err"
		echo 1 >"$d/srv.rc"
		return 1
	fi
	sleep 0.3
	local drops0
	drops0=$(tun_drops "$NS_C" mpttun0)
	"$FPY" "$FLOOD_PEER" monitor --pid $spid --interval 0.25 --out "$d/mon.out" &
	local mpid=$!
	local host=$FLOOD_MPT
	[ "$mode" = kcat ] && host=10.77.0.1
	ip netns exec "$NS_S" timeout $((FLOOD_BEFORE + FLOOD_S + FLOOD_AFTER + 90)) "$FPY" \
		"$FLOOD_PEER" legit --mode "$mode" --host "$host" --port "$port" --src 10.77.0.2 \
		--duration $((FLOOD_BEFORE + FLOOD_S + FLOOD_AFTER + 30)) --stop-file "$d/stop" \
		--interval "$FLOOD_INTERVAL" \
		--timeout "$LEGIT_TIMEOUT" --proto "${FLOOD_PROTO:-alt}" --dest 10.77.0.2:7000 \
		--tokens "$d/tokens" ${FLOOD_CONCURRENT:+--concurrent} >"$d/legit.out" \
		2>"$d/legit.err" &
	local lpid=$!
	sleep "$FLOOD_BEFORE"
	if [ "$mode" = convert ]; then
		# convert's counters (the engine's heap through its counting
		# allocator) a quarter into the flood and at its end
		(
			for ((i = 0; i < 300; i++)); do
				grep -q "syn-flood: t0" "$d/flood.out" 2>/dev/null && break
				sleep 0.1
			done
			sleep "$(awk -v s="$FLOOD_S" 'BEGIN { print s / 4 }')"
			kill -USR1 $spid 2>/dev/null
		) &
	fi
	ip netns exec "$NS_S" timeout $((FLOOD_S + 60)) "$FPY" "$FLOOD_PEER" syn-flood \
		--dst "$host" --port "$port" -n "$N_SYN" --duration "$FLOOD_S" \
		--kinds "${FLOOD_KINDS:-plain,mpc1,mpc0}" --spoof "$FLOOD_SPOOF" \
		--seed "${FLOOD_SEED:-$$}" >"$d/flood.out" 2>&1
	[ "$mode" = convert ] && kill -USR1 $spid 2>/dev/null
	sleep "$FLOOD_AFTER"
	touch "$d/stop"
	echo "  $(grep 'syn-flood: sent' "$d/flood.out" || echo "flood failed: $(tail -n 1 "$d/flood.out")")"
	wait $lpid
	echo $? >"$d/legit.rc"
	if [ "$mode" = convert ]; then
		kill -USR1 $spid 2>/dev/null
		sleep 0.3
	fi
	if [ "$mode" != kcat ]; then
		echo "tun-drops $(($(tun_drops "$NS_C" mpttun0) - drops0))" >"$d/tun"
	fi
	if kill -0 $spid 2>/dev/null; then
		kill -TERM $spid
		wait $spid
		echo $? >"$d/srv.rc"
	else
		wait $spid
		echo "died $?" >"$d/srv.rc"
	fi
	wait $mpid 2>/dev/null
	"$FPY" "$FLOOD_PEER" summarize --legit "$d/legit.out" --flood "$d/flood.out" \
		--monitor "$d/mon.out" >"$d/summary" 2>&1
	if [ -s "$d/srv.pcap" ]; then
		"$FPY" "$FLOOD_PEER" pcap-stats --file "$d/srv.pcap" --spoof "$FLOOD_SPOOF" \
			>"$d/pcap.stats" 2>&1
	fi
	return 0
}
