#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt proxy --threads 2` (issue 13): one stack per thread behind the same
# TUN devices, one SO_REUSEPORT listening socket per thread; plain TCP
# (SOCKS5) clients, MPTCP with two paths, both through `mpt convert
# --threads 2` and straight to a kernel MPTCP server (passthrough).
#
# Topology (topo_proxy_paths, lib.sh; tbf $RATE on every veth end):
#   $NS_P: the clients (python SOCKS5), `mpt proxy --threads 2 --convert`
#          (TUN 10.78.1.1 mpttun0, 10.79.1.1 mpttun1) on 127.0.0.1:1080 and
#          `mpt proxy --threads 2` without --convert (10.78.1.3 mpttun2,
#          10.79.1.3 mpttun3) on 127.0.0.1:1081
#   $NS_V: `mpt convert --threads 2` (10.78.2.1 mpttun0, 10.79.2.1 mpttun1),
#          a plain TCP echo server on 10.90.0.1:7000 and a kernel MPTCP
#          (IPPROTO_MPTCP) echo server on 10.90.0.1:7001
# Each proxy's MPTCP connection starts on path 1; its path manager joins
# from its path-2 address, so every connection has 2 subflows (4 through
# the converter, which announces its second address: one per pair).
#
# Cases:
# (a) $PAR clients at once, each $SEQ connections in a row, through the
#     converting proxy and the converter, sizes 1 byte to 3 MiB: the client
#     sends while it reads the echo, checks SHA-256 of every byte, then
#     half-closes (a little later: the join must have been made).
# (p) the same through the passthrough proxy to the kernel MPTCP server;
#     the server kernel's MPJoinSynRx moved by at least the connections.
# (b) counters on SIGUSR1 and at exit (SIGTERM) of both proxies (each
#     printed exactly twice), and of the converter at exit: summed
#     over the threads (conversions / passthroughs = connections, relays
#     ended clean, no fallback), "threads 2", both proxy threads accepted
#     connections (thread0-accepted, thread1-accepted: the kernel spreads
#     them over the SO_REUSEPORT sockets by a hash of the 4-tuple; all on
#     one thread has a probability of 2^-39), MP_JOIN SYNs sent at least
#     one per connection, and every connection's log line says 2 or more
#     subflows (the largest number it had at once).  The passthrough
#     proxy's --ctl, asked before SIGUSR1: mpt nstat's MPTcpExtMPJoinSynTx
#     and TcpActiveOpens are the sums over both threads (= SIGUSR1's
#     stack-MPJoinSynTx, >= the connections; before, thread 0's only).
# (c) --threads: bounds, in a --config file, --check.
set -uo pipefail
TEST_NAME=proxy_threads
. "$(dirname "$0")/lib.sh"
interop_require
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
command -v nstat >/dev/null || skip "nstat (iproute2) is not installed"
RATE=${RATE:-1gbit}
PAR=${PAR:-8}
SEQ=${SEQ:-5}
CASE_TIMEOUT=${CASE_TIMEOUT:-60}
N=$((PAR * SEQ))

TOPO_V_SRCROUTE=1 topo_proxy_paths "mpt-ptp-$$" "mpt-ptv-$$" mpt-pth
for ns in "$NS_P" "$NS_V"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1 >/dev/null ||
		skip "MPTCP cannot be enabled (net.mptcp.enabled)"
	# A kernel that saw a few odd MPTCP connections stops trying MPTCP
	# for a while (blackhole detection); this test wants MPTCP every time.
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null
done
# The kernel MPTCP server accepts the proxy's joins.
ip -n "$NS_V" mptcp limits set subflow 2 add_addr_accepted 2 || die "ip mptcp limits failed"

CONV=10.78.2.1
CPORT=5124
SRV=10.90.0.1

# Echo servers: plain TCP (behind the converter) and kernel MPTCP.
cat >"$WORK/echo.py" <<'EOF'
import socket, sys, threading
port, proto, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("10.90.0.1", port))
ls.listen(128)


def serve(c):
    try:
        while True:
            d = c.recv(1 << 16)
            if not d:
                break
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    c.close()


open(ready, "w").close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
ip netns exec "$NS_V" python3 "$WORK/echo.py" 7000 0 "$WORK/echo.ready" 2>"$WORK/echo.err" &
INTEROP_PIDS+=($!)
ip netns exec "$NS_V" python3 "$WORK/echo.py" 7001 262 "$WORK/mecho.ready" 2>"$WORK/mecho.err" &
INTEROP_PIDS+=($!)
wait_file "$WORK/echo.ready" 10 || die "echo server did not start"
wait_file "$WORK/mecho.ready" 10 || { show_log "$WORK/mecho.err"; die "MPTCP echo server did not start"; }

ip netns exec "$NS_V" "$MPT_BIN" convert --threads 2 -q --path "$CONV/24,dev=mpttun0" \
	--path "10.79.2.1/24,dev=mpttun1" --allow-local "$SRV/32:7000" "$CPORT" \
	2>"$WORK/conv.err" &
CONV_PID=$!
INTEROP_PIDS+=($CONV_PID)
# Not -q: every relay's line says how many subflows it had.
ip netns exec "$NS_P" "$MPT_BIN" proxy --socks5 --threads 2 --convert "$CONV:$CPORT" \
	--path "10.78.1.1/24,dev=mpttun0" --path "10.79.1.1/24,dev=mpttun1" 127.0.0.1:1080 \
	2>"$WORK/proxy.err" &
PROXY_PID=$!
INTEROP_PIDS+=($PROXY_PID)
ip netns exec "$NS_P" "$MPT_BIN" proxy --socks5 --threads 2 --ctl "$WORK/proxy_p.sock" \
	--path "10.78.1.3/24,dev=mpttun2" --path "10.79.1.3/24,dev=mpttun3" 127.0.0.1:1081 \
	2>"$WORK/proxy_p.err" &
PROXYP_PID=$!
INTEROP_PIDS+=($PROXYP_PID)
wait_route "$NS_V" 10.79.2.1 mpttun1 10 || { show_log "$WORK/conv.err"; die "converter did not start"; }
wait_route "$NS_P" 10.79.1.1 mpttun1 10 || { show_log "$WORK/proxy.err"; die "proxy did not start"; }
wait_route "$NS_P" 10.79.1.3 mpttun3 10 || { show_log "$WORK/proxy_p.err"; die "passthrough proxy did not start"; }
for f in conv proxy proxy_p; do
	for _ in $(seq 50); do
		grep -q "listening on" "$WORK/$f.err" && break
		sleep 0.1
	done
	grep "listening on" "$WORK/$f.err" | sed 's/^/  /'
done
grep -q "listening on 127.0.0.1:1080 (SOCKS5, 2 threads)" "$WORK/proxy.err" ||
	{ show_log "$WORK/proxy.err"; die "no 'listening on 127.0.0.1:1080 (SOCKS5, 2 threads)' line"; }
grep -q "listening on 127.0.0.1:1081 (SOCKS5, 2 threads)" "$WORK/proxy_p.err" ||
	{ show_log "$WORK/proxy_p.err"; die "no 'listening on 127.0.0.1:1081 (SOCKS5, 2 threads)' line"; }

# The clients: SOCKS5 (RFC 1928, no authentication) to the proxy.
cat >"$WORK/clients.py" <<'EOF'
import os, socket, struct, sys, threading, time

sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[7])
from proxy_peer import socks_connect  # noqa: E402

proxy = "127.0.0.1:%d" % int(sys.argv[1])
dest = "%s:%d" % (sys.argv[2], int(sys.argv[3]))
par, seq, limit = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
SIZES = [1, 2, 100, 1460, 4096, 65535, 200000, 1 << 20, 3 << 20]
lock = threading.Lock()
fails, ok = [], [0]


def pattern(size, tag):
    # Every 8 bytes say where they belong (offset, connection tag): bytes
    # that come back in the wrong place tell whose and which they were.
    w = bytearray()
    for off in range(0, size + 8, 8):
        w += struct.pack("<II", off, tag)
    return bytes(w[:size])


def explain(got, payload):
    i = next(k for k in range(min(len(got), len(payload))) if got[k] != payload[k])
    a = i - i % 8
    off, tag = struct.unpack("<II", bytes(got[a:a + 8])) if a + 8 <= len(got) else (-1, -1)
    want_off, want_tag = struct.unpack("<II", payload[a:a + 8]) if a + 8 <= len(payload) else (-1, -1)
    return "first difference at byte %d: the word there says offset %d of tag %#x, not %d of %#x" % (
        i, off, tag, want_off, want_tag)


def one(size, deadline):
    tag = int.from_bytes(os.urandom(4), "little")
    payload = pattern(size, tag)
    s = socks_connect(proxy, dest, timeout=max(1, deadline - time.monotonic()))
    err = []

    def send():
        try:
            s.sendall(payload)
        except OSError as e:
            err.append(e)

    # The echo comes back while we send: a thread of its own.
    t = threading.Thread(target=send, daemon=True)
    t.start()
    got = bytearray()
    while len(got) < size:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        d = s.recv(1 << 16)
        if not d:
            break
        got += d
    n = len(got)
    t.join(max(0.01, deadline - time.monotonic()))
    if err:
        raise err[0]
    # Half-close a little later: a short connection would otherwise be
    # over before the proxy's join is up.
    time.sleep(0.5)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(max(0.01, deadline - time.monotonic()))
    extra = s.recv(1)
    s.close()
    if n != size or extra:
        raise OSError("echo differs: %d of %d bytes" % (n, size))
    if bytes(got) != payload:
        raise OSError("CORRUPTED: %d of %d bytes, other contents; %s" % (n, size, explain(got, payload)))


def client(c, deadline):
    for i in range(seq):
        k = c * seq + i
        size = SIZES[k % len(SIZES)]
        try:
            one(size, deadline)
            with lock:
                ok[0] += 1
            print("conn %d: %d B each way, intact" % (k, size))
        except Exception as e:
            with lock:
                fails.append(k)
            print("conn %d: %d B: FAILED: %s" % (k, size, e))


deadline = time.monotonic() + limit
ts = [threading.Thread(target=client, args=(c, deadline)) for c in range(par)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("connections: %d, intact: %d, failed: %d" % (par * seq, ok[0], len(fails)))
sys.exit(1 if fails else 0)
EOF

alive() {
	local p
	for p in "$CONV_PID:conv" "$PROXY_PID:proxy" "$PROXYP_PID:proxy_p"; do
		kill -0 "${p%%:*}" 2>/dev/null || { echo "  mpt (${p#*:}) died"; return 1; }
	done
}

# clients NAME PORT DEST_PORT: $N connections through the proxy on PORT.
clients() {
	local rc=0 t0 t1
	t0=$(date +%s%N)
	ip netns exec "$NS_P" timeout $((CASE_TIMEOUT + 5)) python3 "$WORK/clients.py" "$2" \
		"$SRV" "$3" "$PAR" "$SEQ" "$CASE_TIMEOUT" "$INTEROP_DIR" >"$WORK/$1.out" 2>&1 || rc=1
	t1=$(date +%s%N)
	grep -v ": FAILED" "$WORK/$1.out" | tail -n 1 | sed 's/^/  /'
	grep ": FAILED\|Error\|Traceback" "$WORK/$1.out" | head -n 10 | sed 's/^/  /'
	echo "  $(((t1 - t0) / 1000000)) ms"
	alive || rc=1
	return $rc
}

echo "-- (a) $PAR SOCKS5 clients x $SEQ connections (1 B .. 3 MiB): proxy --threads 2 -> convert --threads 2"
clients a 1080 7000
case_result "(a) $N connections through proxy + converter, every byte intact" $?

echo "-- (p) $PAR SOCKS5 clients x $SEQ connections: proxy --threads 2 -> kernel MPTCP server"
case_p() {
	local rc=0 jsr mpc
	ksnap "$NS_V" "$WORK/k0"
	clients p 1081 7001 || rc=1
	ksnap "$NS_V" "$WORK/k1"
	jsr=$(kdelta "$WORK/k0" "$WORK/k1" MPTcpExtMPJoinSynRx)
	mpc=$(kdelta "$WORK/k0" "$WORK/k1" MPTcpExtMPCapableSYNRX)
	echo "  server kernel: MPCapableSYNRX +$mpc, MPJoinSynRx +$jsr"
	[ "$mpc" -ge "$N" ] || { echo "  fewer MPTCP connections than clients"; rc=1; }
	[ "$jsr" -ge "$N" ] || { echo "  fewer joins than connections"; rc=1; }
	return $rc
}
case_p
case_result "(p) $N connections passed through to a kernel MPTCP server, every byte intact" $?

echo "-- (b) SIGUSR1 and exit counters: summed over the threads, both threads accepted"
# The passthrough proxy's control socket first (nothing moves any more).
"$MPT_BIN" nstat -a -s -j --ctl "$WORK/proxy_p.sock" >"$WORK/proxy_p.nstat" 2>&1
# SIGUSR1: the main thread collects the other thread's counters.
kill -USR1 "$PROXY_PID" "$PROXYP_PID"
sleep 0.5
stop() { # stop PID: SIGTERM, wait, exit status
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}
stop "$PROXY_PID"
prc=$?
stop "$PROXYP_PID"
pprc=$?
stop "$CONV_PID"
crc=$?
ctr() { # ctr LOG NAME
	awk -v n="$2" '$(NF-2) == "counter" && $(NF-1) == n { v = $NF } END { print v + 0 }' "$1"
}
# check_proxy LOG KIND(conversions|passthroughs) EXIT_STATUS
check_proxy() {
	local log=$1 kind=$2 rc=0 two
	echo "  $(basename "$log" .err): exit status $3"
	[ "$3" = 0 ] || rc=1
	if grep -q "Sanitizer\|runtime error" "$log"; then
		echo "  sanitizer report"
		rc=1
	fi
	[ "$(grep -c "counter $kind" "$log")" = 2 ] ||
		{ echo "  the counters are not printed exactly twice (SIGUSR1, exit)"; rc=1; }
	grep -q "did not report in time" "$log" && { echo "  a thread did not report on SIGUSR1"; rc=1; }
	grep "counter \($kind\|accepted\|relay-ended-clean\|fallbacks\|threads\|thread[0-9]*-accepted\|steer-\|stack-MPJoinSynTx\)" \
		"$log" | sed 's/^/    /'
	[ "$(ctr "$log" threads)" = 2 ] || { echo "  not 2 threads"; rc=1; }
	[ "$(ctr "$log" accepted)" = "$N" ] || { echo "  accepted != $N"; rc=1; }
	[ "$(ctr "$log" "$kind")" = "$N" ] || { echo "  $kind != $N"; rc=1; }
	[ "$(ctr "$log" relay-ended-clean)" = "$N" ] || { echo "  relays ended clean != $N"; rc=1; }
	[ "$(ctr "$log" fallbacks)" = 0 ] || { echo "  fallbacks to TCP"; rc=1; }
	[ "$(ctr "$log" thread0-accepted)" -ge 1 ] || { echo "  thread 0 accepted nothing"; rc=1; }
	[ "$(ctr "$log" thread1-accepted)" -ge 1 ] || { echo "  thread 1 accepted nothing"; rc=1; }
	[ $(($(ctr "$log" thread0-accepted) + $(ctr "$log" thread1-accepted))) = "$N" ] ||
		{ echo "  per-thread accepted counts do not add up to $N"; rc=1; }
	[ "$(ctr "$log" stack-MPJoinSynTx)" -ge "$N" ] || { echo "  fewer MP_JOIN SYNs than connections"; rc=1; }
	[ "$(ctr "$log" steer-drops)" = 0 ] || { echo "  hand-overs dropped"; rc=1; }
	two=$(grep -c "10.90.0.1:700[01].*MPTCP, [2-9] subflows, ended: clean" "$log")
	echo "    relays with 2 or more subflows, ended clean: $two"
	[ "$two" = "$N" ] || {
		echo "  not every connection had 2 subflows:"
		grep "10.90.0.1:700[01]" "$log" | grep -v "MPTCP, [2-9] subflows, ended: clean" |
			head -n 5 | sed 's/^/    /'
		rc=1
	}
	return $rc
}
case_b() {
	local rc=0
	check_proxy "$WORK/proxy.err" conversions "$prc" || rc=1
	check_proxy "$WORK/proxy_p.err" passthroughs "$pprc" || rc=1
	echo "  conv: exit status $crc"
	[ "$crc" = 0 ] || rc=1
	grep "counter \(conversions\|relay-ended-clean\|threads\|steer-\)" "$WORK/conv.err" | sed 's/^/    /'
	[ "$(ctr "$WORK/conv.err" conversions)" = "$N" ] || { echo "  converter: conversions != $N"; rc=1; }
	[ "$(ctr "$WORK/conv.err" relay-ended-clean)" = "$N" ] || { echo "  converter: relays ended clean != $N"; rc=1; }
	return $rc
}
case_b
case_result "(b) SIGUSR1 and exit counters summed over the threads; both proxy threads accepted" $?
case_ctl() {
	local rc=0 usr1 joins opens
	usr1=$(awk '$(NF-1) == "stack-MPJoinSynTx" { print $NF; exit }' "$WORK/proxy_p.err")
	joins=$(python3 -c 'import json,sys; d=list(json.load(open(sys.argv[1])).values())[0]; print(d.get(sys.argv[2], "none"))' \
		"$WORK/proxy_p.nstat" MPTcpExtMPJoinSynTx 2>&1)
	opens=$(python3 -c 'import json,sys; d=list(json.load(open(sys.argv[1])).values())[0]; print(d.get(sys.argv[2], "none"))' \
		"$WORK/proxy_p.nstat" TcpActiveOpens 2>&1)
	echo "  mpt nstat --ctl: MPTcpExtMPJoinSynTx $joins (SIGUSR1 sum ${usr1:-none}), TcpActiveOpens $opens"
	[ "$joins" = "${usr1:-x}" ] || { echo "  MPJoinSynTx is not the sum over the threads"; rc=1; }
	[ "$opens" -ge "$N" ] 2>/dev/null || { echo "  TcpActiveOpens below the $N connections"; rc=1; }
	return $rc
}
case_ctl
case_result "(b) passthrough proxy: mpt nstat --ctl sums both threads" $?

echo "-- (c) --threads: bounds, configuration file, --check"
case_c() {
	local rc=0 out
	out=$(ip netns exec "$NS_P" "$MPT_BIN" proxy --socks5 --threads 0 --path 10.78.1.9/24,dev=mpttun9 \
		1089 2>&1)
	[ $? = 2 ] && [[ "$out" == *"--threads: '0'"* ]] || { echo "  --threads 0: $out"; rc=1; }
	out=$(ip netns exec "$NS_P" "$MPT_BIN" proxy --socks5 --threads 65 --path 10.78.1.9/24,dev=mpttun9 \
		1089 2>&1)
	[ $? = 2 ] && [[ "$out" == *"--threads: '65'"* ]] || { echo "  --threads 65: $out"; rc=1; }
	printf 'socks5\npath 10.78.1.9/24,dev=mpttun9\nthreads 3\nmax-conns 100\nlisten 1089\n' \
		>"$WORK/t.conf"
	out=$(ip netns exec "$NS_P" "$MPT_BIN" proxy --config "$WORK/t.conf" --check 2>&1)
	echo "$out" | grep "thread" | sed 's/^/  /'
	[[ "$out" == *"3 thread(s), up to 34 connections each"* ]] || { echo "  --check: $out"; rc=1; }
	# Two proxies on one address: the second is refused even though each
	# thread's socket has SO_REUSEPORT.
	ip netns exec "$NS_P" python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", 1089)); s.listen(1)
open(sys.argv[1], "w").close()
time.sleep(10)' "$WORK/taken" &
	local hpid=$!
	INTEROP_PIDS+=($hpid)
	wait_file "$WORK/taken" 5 || { echo "  holder did not start"; rc=1; }
	out=$(ip netns exec "$NS_P" timeout 10 "$MPT_BIN" proxy --socks5 --threads 2 \
		--path 10.78.1.9/24,dev=mpttun9 1089 2>&1)
	local erc=$?
	kill "$hpid" 2>/dev/null
	wait "$hpid" 2>/dev/null
	echo "  address taken: exit $erc: $(echo "$out" | grep "cannot listen")"
	[ "$erc" = 1 ] && [[ "$out" == *"cannot listen on 127.0.0.1:1089"* ]] || { echo "  $out"; rc=1; }
	return $rc
}
case_c
case_result "(c) --threads bounds, in a --config file, --check, address taken" $?

if [ "$FAILED" != 0 ]; then
	show_log "$WORK/proxy.err"
	show_log "$WORK/proxy_p.err"
	show_log "$WORK/conv.err"
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
