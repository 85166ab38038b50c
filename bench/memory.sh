#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): memory of idle connections (issue 13).
#   bash bench/memory.sh [BUILD_DIR]
# Writes docs/memory.md (the whole file: every figure in it comes from this
# script's run).
#
# 1. Simulator (no root): bench/conn_memory.c opens $N_SIM idle established
#    connections between two simulated stacks with counting allocators and
#    reports the bytes each side holds per connection (MPTCP with 2 and 1
#    subflows, plain TCP; default and small buffer knobs), split into byte
#    rings, scratch, tables and structures.
# 2. Network namespaces (root): $N_CONV concurrent idle connections through
#    `mpt convert` (RFC 8803): kernel MPTCP clients (IPPROTO_MPTCP) in one
#    namespace each send a Convert message and read the answer, then stay
#    idle; the converter relays to a kernel TCP server that holds them.
#    Reported: the converter's VmRSS / VmHWM / VmPTE (/proc/PID/status)
#    before and with the connections, per connection, and what its stack
#    allocated (stack-heap-bytes).  With 1 subflow (one converter path) and
#    2 (two paths; the converter announces its second address and the
#    kernel client joins it).
# 3. Same run, the kernel for comparison: $N_CONV idle connections between
#    two namespaces with both ends in the kernel (plain TCP, MPTCP with 1
#    and 2 subflows), the kernel's slab memory (/proc/meminfo Slab and the
#    socket caches of /proc/slabinfo) before and with them.
# Without root, or with SKIP_NETNS=1, only part 1 runs and docs/memory.md
# says so; in CI (CI=true) a missing part fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
N_SIM=${N_SIM:-1000}
N_CONV=${N_CONV:-10000}
SETTLE_S=${SETTLE_S:-5}
build=${1:-$root/build-bench}
if [ -z "${1:-}" ]; then
	nice -n 10 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DMPT_TESTS=OFF >/dev/null
	nice -n 10 ninja -j2 -C "$build" conn_memory mpt >/dev/null
fi
MPT=$build/mpt
PEER=$root/bench/memory_peer.py
tmp=$(mktemp -d /tmp/mpt-bmem.XXXXXX)
NS_C="mpt-bmc-$$"
NS_V="mpt-bmv-$$"
NS_S="mpt-bms-$$"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for ns in "$NS_C" "$NS_V" "$NS_S"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "== 1. simulator: $N_SIM idle connections per scenario (bench/conn_memory.c)"
nice -n 10 "$build/conn_memory" "$N_SIM" >"$tmp/sim.txt"
grep '^result\|^rss' "$tmp/sim.txt"

netns=1
why_no_netns=""
if [ "${SKIP_NETNS:-0}" = 1 ]; then
	netns=0
	why_no_netns="SKIP_NETNS=1"
elif [ "$(id -u)" != 0 ]; then
	netns=0
	why_no_netns="not root"
else
	for c in ip python3 nstat ss; do
		command -v $c >/dev/null || { netns=0; why_no_netns="$c missing"; }
	done
fi
if [ $netns = 0 ] && [ "${CI:-}" = true ]; then
	echo "bench/memory.sh: cannot run the namespace part: $why_no_netns"
	exit 1
fi

# ---- helpers -------------------------------------------------------------------
# status_kib PID FIELD: a Vm* field of /proc/PID/status in KiB.
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# slab_snap FILE: "name active_objs objsize" for every cache, then "Slab KiB".
slab_snap() {
	awk 'NR > 2 { print $1, $2, $4 }' /proc/slabinfo >"$1"
	awk '$1 == "Slab:" { print "@Slab", $2 }' /proc/meminfo >>"$1"
}
# wait_status FILE PATTERN SECONDS
wait_status() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# wait_prints FILE K: until the converter printed its counters K times (SIGUSR1).
wait_prints() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c 'counter conns-active' "$1" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "  the converter did not print its counters"
}
# counter FILE NAME: the last "counter NAME V" a converter printed.
# (Lines read "mpt convert: counter NAME VALUE".)
counter() { awk -v n="$2" '$(NF-2) == "counter" && $(NF-1) == n { v = $NF } END { printf "%.0f\n", v }' "$1"; }

# ---- 2 + 3: network namespaces ----------------------------------------------------
# Topology (no shaping, no delay):
#   $NS_C clients 10.81.0.1 (mpt-mc) <-> $NS_V 10.81.0.2 (mpt-mv): `mpt convert`
#   on TUN addresses 10.81.1.1 (mpttun0) and 10.81.3.1 (mpttun1); $NS_V
#   10.82.0.1 (mpt-vs) <-> $NS_S 10.82.0.2 and 10.82.0.3 (mpt-ss): servers.
topo() {
	local ns
	for ns in "$NS_C" "$NS_V" "$NS_S"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv4.ip_forward=1 net.mptcp.enabled=1 \
			net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096 >/dev/null
		ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
	done
	ip link add mpt-mc netns "$NS_C" type veth peer name mpt-mv netns "$NS_V"
	ip link add mpt-vs netns "$NS_V" type veth peer name mpt-ss netns "$NS_S"
	ip -n "$NS_C" addr add 10.81.0.1/24 dev mpt-mc
	ip -n "$NS_V" addr add 10.81.0.2/24 dev mpt-mv
	ip -n "$NS_V" addr add 10.82.0.1/24 dev mpt-vs
	ip -n "$NS_S" addr add 10.82.0.2/24 dev mpt-ss
	ip -n "$NS_S" addr add 10.82.0.3/24 dev mpt-ss
	ip -n "$NS_C" link set mpt-mc up
	ip -n "$NS_V" link set mpt-mv up
	ip -n "$NS_V" link set mpt-vs up
	ip -n "$NS_S" link set mpt-ss up
	ip -n "$NS_C" route add 10.81.1.0/24 via 10.81.0.2
	ip -n "$NS_C" route add 10.81.3.0/24 via 10.81.0.2
	ip -n "$NS_C" route add 10.82.0.0/24 via 10.81.0.2
	ip -n "$NS_S" route add default via 10.82.0.1
}

# mptcp_limits SUBFLOWS: the kernel client accepts one ADD_ADDR and opens
# SUBFLOWS-1 extra subflows; the kernel server signals 10.82.0.3 when 2.
mptcp_limits() {
	local extra=$(($1 - 1))
	ip -n "$NS_C" mptcp limits set subflow "$extra" add_addr_accepted "$extra"
	ip -n "$NS_S" mptcp limits set subflow "$extra" add_addr_accepted 0
	ip -n "$NS_S" mptcp endpoint flush
	if [ "$1" = 2 ]; then
		ip -n "$NS_S" mptcp endpoint add 10.82.0.3 dev mpt-ss signal
	fi
}

# hold_clients NAME N ARGS...: start the client holder in $NS_C (background,
# pid in $client_pid); waits until it settled all N.
hold_clients() {
	local name=$1 n=$2
	shift 2
	ip netns exec "$NS_C" bash -c "ulimit -n $((n + 1024)) && exec timeout 600 python3 '$PEER' \
		hold-client -n $n --status '$tmp/$name.client' --hold 300 --timeout 240 $*" \
		>"$tmp/$name.client.out" 2>&1 &
	client_pid=$!
	pids+=("$client_pid")
	wait_status "$tmp/$name.client" '^done' 250 || echo "  client holder did not finish"
	sed 's/^/  client: /' "$tmp/$name.client"
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# conv_phase SUBFLOWS: mpt convert with $N_CONV idle connections.
conv_phase() {
	local sf=$1 name="conv$1" paths
	paths="--path 10.81.1.1/24,dev=mpttun0"
	[ "$sf" = 2 ] && paths="$paths --path 10.81.3.1/24,dev=mpttun1"
	mptcp_limits "$sf"
	ip netns exec "$NS_S" bash -c "ulimit -n $((N_CONV + 1024)) && exec timeout 600 python3 \
		'$PEER' hold-server --bind 10.82.0.2 --port 7000 --status '$tmp/$name.server' --hold 500" \
		2>"$tmp/$name.server.err" &
	local spid=$!
	pids+=("$spid")
	wait_status "$tmp/$name.server" '^held' 10
	# Limits set for the bench (the defaults are for hostile sources): every
	# connection comes from one source address.
	# exec all the way down: $! is the converter itself (signals go to it);
	# it is stopped below or by cleanup.
	ip netns exec "$NS_V" bash -c "ulimit -n $((N_CONV + 1024)) && exec '$MPT' \
		convert -q $paths --allow 10.82.0.2:7000 --ctl '$tmp/$name.sock' $CONV_LIMITS 5124" \
		2>"$tmp/$name.conv.err" &
	local cpid=$!
	pids+=("$cpid")
	local i
	for ((i = 0; i < 100; i++)); do
		ip -n "$NS_C" route get 10.81.1.1 >/dev/null 2>&1 &&
			grep -q "listening on port" "$tmp/$name.conv.err" && break
		sleep 0.1
	done
	sleep 1
	local rss0 hwm0 pte0 vsz0
	rss0=$(status_kib "$cpid" VmRSS)
	hwm0=$(status_kib "$cpid" VmHWM)
	pte0=$(status_kib "$cpid" VmPTE)
	vsz0=$(status_kib "$cpid" VmSize)
	kill -USR1 "$cpid"
	wait_prints "$tmp/$name.conv.err" 1
	local heap0
	heap0=$(counter "$tmp/$name.conv.err" stack-heap-bytes)
	local t0=$SECONDS
	hold_clients "$name" "$N_CONV" --to 10.81.1.1:5124 --convert 10.82.0.2:7000 --mptcp \
		--window 64
	local secs=$((SECONDS - t0))
	sleep "$SETTLE_S"
	local rss1 hwm1 pte1 vsz1
	rss1=$(status_kib "$cpid" VmRSS)
	hwm1=$(status_kib "$cpid" VmHWM)
	pte1=$(status_kib "$cpid" VmPTE)
	vsz1=$(status_kib "$cpid" VmSize)
	local vmas
	vmas=$(wc -l <"/proc/$cpid/maps")
	kill -USR1 "$cpid"
	wait_prints "$tmp/$name.conv.err" 2
	local heap1 active held ok failed
	heap1=$(counter "$tmp/$name.conv.err" stack-heap-bytes)
	active=$(counter "$tmp/$name.conv.err" conns-active)
	"$MPT" nstat -a -z -s --ctl "$tmp/$name.sock" >"$tmp/$name.nstat" 2>&1 || true
	mkdir -p "$build/memory-raw"
	cp "$tmp/$name.nstat" "$tmp/$name.conv.err" "$build/memory-raw/" 2>/dev/null || true
	local overflows joins
	overflows=$(awk '$1 ~ /ListenOverflows$/ { print $2; f = 1 } END { if (!f) print "?" }' \
		"$tmp/$name.nstat")
	joins=$(awk '$1 == "MPTcpExtMPJoinAckRx" { print $2; f = 1 } END { if (!f) print "?" }' \
		"$tmp/$name.nstat")
	held=$(awk '{ print $2 }' "$tmp/$name.server")
	read -r _ ok failed <"$tmp/$name.client"
	# Established subflows the kernel clients hold to each converter address.
	local sf_a sf_b
	sf_a=$(ip netns exec "$NS_C" ss -Htn state established dst 10.81.1.1 | wc -l)
	sf_b=$(ip netns exec "$NS_C" ss -Htn state established dst 10.81.3.1 | wc -l)
	echo "  converter: VmRSS $rss0 -> $rss1 KiB, VmHWM $hwm1, VmPTE $pte0 -> $pte1," \
		"stack heap $heap0 -> $heap1 B, active $active, server holds $held," \
		"subflows to 10.81.1.1 $sf_a, to 10.81.3.1 $sf_b"
	local reasons
	reasons=$(grep '^reason' "$tmp/$name.client" | sed 's/^reason //' | paste -sd ';' || true)
	echo "conv sf=$sf n=$N_CONV ok=$ok failed=$failed secs=$secs rss0=$rss0 rss1=$rss1" \
		"hwm0=$hwm0 hwm1=$hwm1 pte0=$pte0 pte1=$pte1 vsz0=$vsz0 vsz1=$vsz1 heap0=$heap0" \
		"heap1=$heap1 vmas=$vmas active=$active overflows=$overflows held=$held joins=$joins sf_a=$sf_a sf_b=$sf_b" \
		"reasons=${reasons// /_}" >>"$tmp/net.txt"
	stop_pid "$client_pid"
	stop_pid "$cpid"
	stop_pid "$spid"
	sleep 2
}

# kern_phase KIND SUBFLOWS: N_CONV idle connections, both ends in the kernel.
kern_phase() {
	local kind=$1 sf=$2 name="k$1$2" mp=""
	[ "$kind" = mptcp ] && mp=--mptcp
	mptcp_limits "$sf"
	ip netns exec "$NS_S" bash -c "ulimit -n $((N_CONV + 1024)) && exec timeout 600 python3 \
		'$PEER' hold-server --bind 0.0.0.0 --port 7001 $mp --echo --status '$tmp/$name.server' \
		--hold 500" 2>"$tmp/$name.server.err" &
	local spid=$!
	pids+=("$spid")
	wait_status "$tmp/$name.server" '^held' 10
	sleep 1
	slab_snap "$tmp/$name.slab0"
	hold_clients "$name" "$N_CONV" --to 10.82.0.2:7001 $mp --request 100 --window 256
	sleep "$SETTLE_S"
	slab_snap "$tmp/$name.slab1"
	local held ok failed sf_b
	held=$(awk '{ print $2 }' "$tmp/$name.server")
	read -r _ ok failed <"$tmp/$name.client"
	sf_b=$(ip netns exec "$NS_C" ss -Htn state established dst 10.82.0.3 | wc -l)
	python3 - "$tmp/$name.slab0" "$tmp/$name.slab1" "$kind" "$sf" "$N_CONV" "$ok" "$held" \
		"$sf_b" >>"$tmp/net.txt" <<'EOF'
import sys
a, b, kind, sf, n, ok, held, sfb = sys.argv[1:9]
def load(p):
    d, slab = {}, 0
    for line in open(p):
        f = line.split()
        if f[0] == "@Slab":
            slab = int(f[1])
        else:
            d[f[0]] = (int(f[1]), int(f[2]))
    return d, slab
d0, s0 = load(a)
d1, s1 = load(b)
deltas = []
for name, (objs, size) in d1.items():
    o0 = d0.get(name, (0, size))[0]
    if objs != o0:
        deltas.append(((objs - o0) * size, name, objs - o0, size))
deltas.sort(reverse=True)
sock = [x for x in deltas if x[1].split("_")[0] in ("MPTCP", "TCP", "MPTCPv6", "TCPv6")
        or x[1] in ("sock_inode_cache", "filp", "dentry")
        or x[1].startswith(("request_sock", "tw_sock", "eventpoll", "skbuff"))]
named = sum(x[0] for x in sock)
top = ";".join("%s:%d:%d" % (x[1], x[2], x[0]) for x in deltas[:8])
objs = ";".join("%s:%d" % (x[1], x[2]) for x in sock)
# /proc/PID/fd/N inodes: made by whatever lists our descriptors (not the
# sockets' cost; seen growing by one per descriptor with nothing of ours
# reading /proc), reported apart.
proc = sum(x[0] for x in deltas if x[1] == "proc_inode_cache")
print("kern kind=%s sf=%s n=%s ok=%s held=%s sf_b=%s slab_kib=%d proc_bytes=%d named_bytes=%d "
      "objs=%s top=%s" % (kind, sf, n, ok, held, sfb, s1 - s0, proc, named, objs, top))
EOF
	tail -1 "$tmp/net.txt" | sed 's/^/  /'
	# Resets, not FINs: no TIME-WAIT left to shrink the next phase's slab.
	stop_pid "$client_pid"
	stop_pid "$spid"
	sleep 3
}

hard_nofile=$(ulimit -Hn)
if [ $netns = 1 ] && [ "$hard_nofile" != unlimited ] && [ $((N_CONV + 1024)) -gt "$hard_nofile" ]; then
	echo "bench/memory.sh: N_CONV=$N_CONV needs N_CONV + 1024 open files per process;" \
		"the hard limit is $(ulimit -Hn)"
	exit 1
fi
if [ $netns = 1 ]; then
	topo
	: >"$tmp/net.txt"
	# Limits that decide whether N_CONV can be reached (reported in the doc).
	echo "limits nofile_soft=$(ulimit -Sn) nofile_hard=$(ulimit -Hn)" \
		"max_map_count=$(cat /proc/sys/vm/max_map_count)" \
		"overcommit=$(cat /proc/sys/vm/overcommit_memory)" \
		"port_range=$(ip netns exec "$NS_V" cat /proc/sys/net/ipv4/ip_local_port_range | tr '\t' -)" \
		>>"$tmp/net.txt"
	CONV_LIMITS="--max-conns $((N_CONV + N_CONV / 10)) --max-per-source 0 --max-handshakes-per-source 0"
	echo "convlimits $CONV_LIMITS" >>"$tmp/net.txt"
	for sf in ${CONV_SF-1 2}; do
		echo "== 2. mpt convert: $N_CONV idle connections, $sf subflow(s)"
		conv_phase "$sf"
	done
	for k in ${KERN-tcp:1 mptcp:1 mptcp:2}; do
		# shellcheck disable=SC2086 # "tcp:1" -> two words
		set -- ${k/:/ }
		echo "== 3. kernel $1 ($2 subflow(s)): $N_CONV idle connections, both ends in the kernel"
		kern_phase "$1" "$2"
	done
fi
[ -f "$tmp/net.txt" ] || echo "skipped $why_no_netns" >"$tmp/net.txt"
# The raw figures, next to the build (for a look after the run).
mkdir -p "$build/memory-raw"
cp "$tmp/sim.txt" "$tmp/net.txt" "$build/memory-raw/"

rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src include tools bench 2>/dev/null || rev="$rev + uncommitted changes"
machine="$(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
machine="$machine $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo),"
machine="$machine Linux $(uname -r), glibc $(getconf GNU_LIBC_VERSION | sed 's/^glibc //')"
python3 "$root/bench/memory_report.py" "$tmp/sim.txt" "$tmp/net.txt" "$(date -u +%Y-%m-%d)" \
	"$rev" "$machine" "N_SIM=$N_SIM N_CONV=$N_CONV" >"$root/docs/memory.md"
echo "wrote docs/memory.md"
