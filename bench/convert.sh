#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): `mpt convert` and `mpt proxy`, each with 1 and 2
# threads, next to the Linux kernel doing the same jobs, in one run, on the
# same machine and topology.
#   bench/convert.sh [BUILD_DIR]     (root: network namespaces, TUN)
# Writes the "Benchmark" section of docs/proxy-convert.md.
#
# Topology: two namespaces joined by one veth pair (no shaping).  The
# client namespace runs a kernel MPTCP client (python, IPPROTO_MPTCP); the
# converter namespace runs, side by side:
#   mpt:    `mpt convert --threads 1` on TUN address 10.77.1.1:5124 and
#           `mpt convert --threads 2` on 10.77.2.1:5124 (RFC 8803: the
#           client sends a Convert message first, gets the answer, then
#           data), relaying to plain TCP servers on 10.77.0.1;
#   kernel: `mptcpize run socat TCP-LISTEN:6000,fork TCP:10.77.0.1:PORT`
#           (the kernel terminates MPTCP, socat relays to plain TCP; no
#           Convert message).
# and the other way round, in the client namespace: plain TCP clients to
#   mpt:    `mpt proxy --socks5 --threads 1|2` (TUN 10.77.3.1 / 10.77.4.1),
#           MPTCP to kernel MPTCP servers (mptcpize python) on 10.77.0.1;
#   kernel: `mptcpize run socat TCP-LISTEN:6100,fork TCP:10.77.0.1:PORT`
#           (plain TCP accepted, MPTCP out; no SOCKS5).
# Figures: connections per second (100 B echoed each: the relay's setup +
# teardown cost plus the round trips), one client in a row and $PAR clients
# at once, and goodput ($BULK_MIB MiB to a discard server) over one
# connection and split over $PAR at once.  Each measured $REPEAT times, the
# median is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ "$(id -u)" = 0 ] || { echo "bench/convert.sh: needs root"; exit 1; }
for c in socat mptcpize python3 ip; do
	command -v $c >/dev/null || { echo "bench/convert.sh: $c missing (scripts/deps.sh)"; exit 1; }
done
build=${1:-$root/build-bench}
if [ -z "${1:-}" ]; then
	cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMPT_TESTS=OFF >/dev/null
	ninja -C "$build" mpt >/dev/null
fi
MPT=$build/mpt
PP=$root/tests/interop/proxy_peer.py
CPS_N=${CPS_N:-300}
BULK_MIB=${BULK_MIB:-256}
REPEAT=${REPEAT:-3}
PAR=${PAR:-4}
NS_C="mpt-bcc-$$"
NS_V="mpt-bcv-$$"
tmp=$(mktemp -d /tmp/mpt-bconv.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$NS_C" 2>/dev/null || true
	ip netns del "$NS_V" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$NS_C"
ip netns add "$NS_V"
ip link add mpt-bc netns "$NS_C" type veth peer name mpt-bv netns "$NS_V"
for ns in "$NS_C" "$NS_V"; do
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
done
ip netns exec "$NS_V" sysctl -qw net.ipv4.ip_forward=1
ip -n "$NS_V" addr add 10.77.0.1/24 dev mpt-bv
ip -n "$NS_C" addr add 10.77.0.2/24 dev mpt-bc
ip -n "$NS_V" link set mpt-bv up
ip -n "$NS_C" link set mpt-bc up
ip -n "$NS_C" route add 10.77.1.0/24 via 10.77.0.1
ip -n "$NS_C" route add 10.77.2.0/24 via 10.77.0.1
# mpt proxy runs in the client namespace: its TUN packets are forwarded to
# the veth, and the server namespace routes the answers back.
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_forward=1
ip -n "$NS_V" route add 10.77.3.0/24 via 10.77.0.2
ip -n "$NS_V" route add 10.77.4.0/24 via 10.77.0.2

wait_for() { for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
ip netns exec "$NS_V" python3 "$PP" echo-server --port 7000 --ready "$tmp/echo.ready" 2>/dev/null &
pids+=($!)
ip netns exec "$NS_V" python3 "$PP" discard-server --port 7001 --ready "$tmp/disc.ready" 2>/dev/null &
pids+=($!)
# MPTCP servers for the proxy (passthrough: it talks MPTCP to them).
ip netns exec "$NS_V" mptcpize run python3 "$PP" echo-server --port 7100 \
	--ready "$tmp/mecho.ready" 2>/dev/null &
pids+=($!)
ip netns exec "$NS_V" mptcpize run python3 "$PP" discard-server --port 7101 \
	--ready "$tmp/mdisc.ready" 2>/dev/null &
pids+=($!)
wait_for "$tmp/echo.ready"
wait_for "$tmp/disc.ready"
wait_for "$tmp/mecho.ready"
wait_for "$tmp/mdisc.ready"
ip netns exec "$NS_V" "$MPT" convert -q --threads 1 --path 10.77.1.1/24,dev=mpttun0 \
	--allow-local 10.77.0.1/32 5124 2>"$tmp/conv.err" &
pids+=($!)
ip netns exec "$NS_V" "$MPT" convert -q --threads 2 --path 10.77.2.1/24,dev=mpttun1 \
	--allow-local 10.77.0.1/32 5124 2>"$tmp/conv2.err" &
pids+=($!)
ip netns exec "$NS_V" mptcpize run socat TCP-LISTEN:6000,fork,reuseaddr,nodelay \
	TCP:10.77.0.1:7000,nodelay 2>"$tmp/socat.err" &
pids+=($!)
ip netns exec "$NS_V" mptcpize run socat -b 262144 TCP-LISTEN:6001,fork,reuseaddr \
	TCP:10.77.0.1:7001 2>"$tmp/socat1.err" &
pids+=($!)
# The proxy's side: plain TCP in (SOCKS5 for mpt), MPTCP out.  The proxy
# closes first, so its MPTCP connections wait out TIME-WAIT (2 x MSL,
# default 30 s) holding a slot of the stack's socket table (default 4096):
# this benchmark's ~4,500 connections within a minute fill it, and the
# stack then ends the oldest TIME-WAIT connection for each new one
# (counter TCPTimeWaitOverflow; Linux drops TIME-WAIT beyond
# tcp_max_tw_buckets).  Until that existed the proxies ran with --msl 5.
ip netns exec "$NS_C" "$MPT" proxy -q --socks5 --threads 1 --ctl "$tmp/px1.ctl" \
	--path 10.77.3.1/24,dev=mpttun2 127.0.0.1:1080 2>"$tmp/proxy.err" &
pids+=($!)
ip netns exec "$NS_C" "$MPT" proxy -q --socks5 --threads 2 \
	--path 10.77.4.1/24,dev=mpttun3 127.0.0.1:1081 2>"$tmp/proxy2.err" &
pids+=($!)
ip netns exec "$NS_C" mptcpize run socat TCP-LISTEN:6100,fork,reuseaddr,nodelay \
	TCP:10.77.0.1:7100,nodelay 2>"$tmp/psocat.err" &
pids+=($!)
ip netns exec "$NS_C" mptcpize run socat -b 262144 TCP-LISTEN:6101,fork,reuseaddr \
	TCP:10.77.0.1:7101 2>"$tmp/psocat1.err" &
pids+=($!)
for _ in $(seq 100); do
	ip -n "$NS_V" route get 10.77.1.1 2>/dev/null | grep -q mpttun0 &&
		ip -n "$NS_V" route get 10.77.2.1 2>/dev/null | grep -q mpttun1 &&
		ip -n "$NS_C" route get 10.77.3.1 2>/dev/null | grep -q mpttun2 &&
		ip -n "$NS_C" route get 10.77.4.1 2>/dev/null | grep -q mpttun3 && break
	sleep 0.1
done
sleep 0.5

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
run() { # run LABEL ARGS...: median of REPEAT runs of the bench client
	local label=$1 i
	shift
	for i in $(seq "$REPEAT"); do
		ip netns exec "$NS_C" timeout 300 python3 "$PP" bench "$@" | awk '{ print $2 }'
	done | median
}
# Every figure: kernel, mpt with 1 thread, mpt with 2 threads (one line).
three() { # three ARGS...: the three medians for one workload
	local k m1 m2
	if [ "$MODE" = convert ]; then
		k=$(run kernel --mptcp --to 10.77.0.1:$KPORT "$@")
		m1=$(run mpt --mptcp --to 10.77.1.1:5124 --convert 10.77.0.1:$DPORT "$@")
		m2=$(run mpt --mptcp --to 10.77.2.1:5124 --convert 10.77.0.1:$DPORT "$@")
	else
		k=$(run kernel --to 127.0.0.1:$KPORT "$@")
		m1=$(run mpt --socks 127.0.0.1:1080 --to 10.77.0.1:$DPORT "$@")
		m2=$(run mpt --socks 127.0.0.1:1081 --to 10.77.0.1:$DPORT "$@")
	fi
	echo "$k $m1 $m2"
}
declare -A F
measure() { # measure MODE ECHO_KPORT ECHO_DPORT BULK_KPORT BULK_DPORT: F[MODE.row]
	MODE=$1
	echo "== $MODE: connections per second (100 B echoed each), goodput (Mbit/s), median of $REPEAT: kernel, mpt 1 thread, mpt 2 threads"
	KPORT=$2 DPORT=$3
	F[$MODE.cps]=$(three --cps "$CPS_N")
	echo "  one client, $CPS_N connections in a row: ${F[$MODE.cps]}"
	F[$MODE.cpsp]=$(three --cps "$CPS_N" --parallel "$PAR")
	echo "  $PAR clients at once, $CPS_N each: ${F[$MODE.cpsp]}"
	KPORT=$4 DPORT=$5
	F[$MODE.gp]=$(three --bulk "$BULK_MIB")
	echo "  one connection, $BULK_MIB MiB: ${F[$MODE.gp]}"
	F[$MODE.gpp]=$(three --bulk "$BULK_MIB" --parallel "$PAR")
	echo "  $PAR connections at once, $BULK_MIB MiB in all: ${F[$MODE.gpp]}"
}
measure convert 6000 7000 6001 7001
measure proxy 6100 7100 6101 7101
# What the 1-thread proxy's full socket table cost: TIME-WAIT ended early.
tw_over=$(ip netns exec "$NS_C" "$MPT" nstat -a -z -j --ctl "$tmp/px1.ctl" |
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(int(c.get("TcpExtTCPTimeWaitOverflow", 0)) for c in d.values()))')
echo "  1-thread proxy: TIME-WAIT connections ended early (TcpExtTCPTimeWaitOverflow): $tw_over"
for f in conv conv2 proxy proxy2; do
	if [ -s "$tmp/$f.err" ]; then
		echo "$f:"
		cat "$tmp/$f.err"
	fi
done

doc=$root/docs/proxy-convert.md
section="$tmp/section.md"
{
	echo "## Benchmark"
	echo
	echo "Generated by \`bench/convert.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs, Linux $(uname -r))."
	echo "**convert**: a kernel MPTCP client (IPPROTO_MPTCP, one subflow) in one namespace;"
	echo "in the other, side by side, \`mpt convert\` (RFC 8803: Convert message first,"
	echo "its answer, then data; TUN device, no emulated delay) and the kernel doing the"
	echo "same job, \`mptcpize run socat TCP-LISTEN,fork TCP:...\` (no Convert message);"
	echo "both relay to plain TCP servers in the converter's namespace.  **proxy**: plain"
	echo "TCP clients in the client namespace, through \`mpt proxy --socks5\` (TUN, one"
	echo "path) or the kernel (\`mptcpize run socat TCP-LISTEN,fork TCP:...\`: plain TCP"
	echo "in, MPTCP out; no SOCKS5), to kernel MPTCP servers (\`mptcpize run python3\`) in"
	echo "the other namespace; the proxies run with the default MSL (their TIME-WAIT"
	echo "connections fill the socket table, and the oldest one ends early for each new"
	echo "connection: counter TCPTimeWaitOverflow, $tw_over in the 1-thread proxy over"
	echo "this run).  One veth pair, no"
	echo "shaping: the figures are CPU-bound."
	echo "Median of $REPEAT runs."
	echo
	row() { # row LABEL "K M1 M2"
		local k m1 m2
		read -r k m1 m2 <<<"$2"
		echo "| $1 | $k | $m1 | $m2 |"
	}
	for mode in convert proxy; do
		echo "| $mode | kernel (mptcpize socat) | mpt $mode, 1 thread | mpt $mode, 2 threads |"
		echo "|---|---|---|---|"
		row "connections per second, one client ($CPS_N in a row, 100 B echoed each)" "${F[$mode.cps]}"
		row "connections per second, $PAR clients at once ($CPS_N each)" "${F[$mode.cpsp]}"
		row "goodput, one connection, $BULK_MIB MiB (Mbit/s)" "${F[$mode.gp]}"
		row "goodput, $PAR connections at once, $BULK_MIB MiB in all (Mbit/s)" "${F[$mode.gpp]}"
		echo
	done
	echo "socat (\`-b 262144\` for the goodput run) forks a process per connection, which bounds its connection"
	echo "rate; mpt's connection rate includes the Convert message (resp. SOCKS5) round trip."
	echo "\`--threads 2\`: two stacks, one per thread, each reading its own queue of a"
	echo "multi-queue TUN device (flows sharded by 4-tuple, joins by token; see"
	echo "\"Threads\" above).  One connection stays on one thread, so only the rows"
	echo "with several clients can gain from a second thread, and only with a CPU to"
	echo "spare: the client processes, the Python servers and the kernel's own"
	echo "forwarding share the same $(nproc) CPUs with mpt and limit every column.  On a"
	echo "machine where they take every CPU, the 1- and 2-thread columns say what a"
	echo "group costs (the hand-overs, a second loop), not how it scales.  On a shared"
	echo "machine runs vary (up to 2x seen between runs): compare the columns of one"
	echo "run, not runs."
	echo
} >"$section"
python3 - "$doc" "$section" <<'EOF'
import re, sys
doc, sec = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
m = re.search(r"^## Benchmark\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
if m:
    text = text[:m.start()] + sec + text[m.end():]
else:
    m = re.search(r"^## Not done yet", text, flags=re.M)
    pos = m.start() if m else len(text)
    text = text[:pos] + sec + text[pos:]
open(doc, "w").write(text)
EOF
echo "wrote the Benchmark section of docs/proxy-convert.md"
