#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt convert --threads 2` (issue 13): one stack per thread behind the same
# TUN devices, kernel MPTCP clients with two paths.
#
# Topology (topo_proxy_paths, lib.sh; tbf $RATE on every veth end):
#   $NS_P: kernel MPTCP clients, 10.78.0.1 (path 1) and 10.79.0.1 (path 2)
#   $NS_V: `mpt convert --threads 2` (TUN 10.78.2.1 mpttun0, 10.79.2.1
#          mpttun1) and a plain TCP echo server on 10.90.0.1:7000
# The clients connect to 10.78.2.1 over path 1; the converter (default path
# manager, passive: it announces its other address) makes each client join
# 10.79.2.1 from 10.79.0.1 over path 2, so every connection has 2 subflows.
#
# Cases:
# (a) $PAR clients at once, each $SEQ connections in a row ($PAR x $SEQ
#     connections), sizes from 1 byte to 3 MiB: each sends its Convert
#     message and its data, waits for its join, half-closes, reads the echo;
#     SHA-256 of every byte each way; every connection MPTCP with 2
#     subflows established (MPTCP_TCPINFO on the client), and the client
#     kernel's MPJoinSynAckRx moved by at least the number of connections.
# (b) --ctl with 2 threads: $HOLD kernel MPTCP connections held open (each
#     with its join established); `mpt ss --ctl` lists every one of them,
#     from both threads (the flows spread over the 2 stacks by hash: all
#     $HOLD on one thread has a probability of 2^-(HOLD-1)), and
#     `mpt nstat --ctl` shows the counters summed over the threads:
#     TcpPassiveOpens, MPTcpExtMPCapableSYNRX and MPTcpExtMPJoinSynRx equal
#     the stack-* sums SIGUSR1 prints right after (no connection starts in
#     between).  Before, --ctl showed thread 0's connections and counters.
# (c) The converter's counters on SIGUSR1 and at exit (SIGTERM): summed
#     over its threads, each printed once
#     (conversions = connections, relays ended clean), "threads 2", and
#     packets handed from one thread to the other (steer-out, steer-in).
#     Hand-overs cannot be forced from outside, but they are all but
#     certain: the kernel chooses a TUN queue by its own hash of the
#     4-tuple, the backend places a flow by a keyed hash of its own, and an
#     MP_JOIN goes to the thread that owns its token whatever its 4-tuple;
#     with $PAR x $SEQ connections and as many joins, no hand-over at all
#     has a probability below 2^-40.
# (d) --threads on the command line and in a --config file: bounds, --check.
set -uo pipefail
TEST_NAME=convert_threads
. "$(dirname "$0")/lib.sh"
interop_require
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
command -v nstat >/dev/null || skip "nstat (iproute2) is not installed"
RATE=${RATE:-1gbit}
PAR=${PAR:-8}
SEQ=${SEQ:-4}
HOLD=${HOLD:-16}
CASE_TIMEOUT=${CASE_TIMEOUT:-60}

TOPO_V_SRCROUTE=1 topo_proxy_paths "mpt-thp-$$" "mpt-thv-$$" mpt-thr
for ns in "$NS_P" "$NS_V"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1 >/dev/null ||
		skip "MPTCP cannot be enabled (net.mptcp.enabled)"
	# A kernel that saw a few odd MPTCP connections stops trying MPTCP
	# for a while (blackhole detection); this test wants MPTCP every time.
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null
done
ip -n "$NS_P" mptcp limits set subflow 2 add_addr_accepted 2 || die "ip mptcp limits failed"
# The clients' path-2 address leaves on path 2 (topo_proxy_paths routes
# only the mpt addresses by source).
ip -n "$NS_P" rule add from 10.79.0.1 table 102 pref 90

CONV=10.78.2.1
CPORT=5124
SRV=10.90.0.1
SP="$INTEROP_DIR/svc_peer.py"

ip netns exec "$NS_V" python3 "$SP" echo-server --bind "$SRV" --port 7000 \
	--ready "$WORK/echo.ready" 2>"$WORK/echo.err" &
INTEROP_PIDS+=($!)
wait_file "$WORK/echo.ready" 10 || die "echo server did not start"

CTL="$WORK/conv.sock"
ip netns exec "$NS_V" "$MPT_BIN" convert --threads 2 -q --ctl "$CTL" --path "$CONV/24,dev=mpttun0" \
	--path "10.79.2.1/24,dev=mpttun1" --allow-local "$SRV/32:7000" "$CPORT" \
	2>"$WORK/conv.err" &
CONV_PID=$!
INTEROP_PIDS+=($CONV_PID)
wait_route "$NS_V" 10.79.2.1 mpttun1 10 || { show_log "$WORK/conv.err"; die "converter did not start"; }
for _ in $(seq 50); do
	grep -q "listening on port" "$WORK/conv.err" && break
	sleep 0.1
done
grep "listening on port" "$WORK/conv.err" | sed 's/^/  /'
grep -q "listening on port $CPORT .*2 threads" "$WORK/conv.err" ||
	{ show_log "$WORK/conv.err"; die "no 'listening on port $CPORT ... 2 threads' line"; }

# The clients: kernel MPTCP (IPPROTO_MPTCP), svc_peer.py's RFC 8803 codec.
cat >"$WORK/clients.py" <<'EOF'
import ctypes, hashlib, os, socket, struct, sys, threading, time
sys.path.insert(0, sys.argv[1])
from svc_peer import convert_msg, read_answer, T_EXT

conv, dest = (sys.argv[2], int(sys.argv[3])), sys.argv[4]
par, seq, limit = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
IPPROTO_MPTCP, SOL_MPTCP, MPTCP_TCPINFO, TCP_ESTABLISHED = 262, 284, 2, 1
libc = ctypes.CDLL(None, use_errno=True)
SIZES = [1, 2, 100, 1460, 4096, 65535, 200000, 1 << 20, 3 << 20]
lock = threading.Lock()
fails, joined = [], [0]


def established(s):
    """Subflows in ESTABLISHED (MPTCP_TCPINFO: each subflow's tcp_info, of
    which tcpi_state, its first byte); -1: not MPTCP.  Python's getsockopt
    cannot pass the request header this option reads: through libc."""
    stride, room = 8, 8
    buf = ctypes.create_string_buffer(16 + room * stride)
    # struct mptcp_subflow_data: size_subflow_data, num_subflows,
    # size_kernel, size_user (in: bytes of tcp_info wanted per subflow)
    struct.pack_into("IIII", buf, 0, 16, 0, 0, stride)
    ln = ctypes.c_uint32(len(buf))
    if libc.getsockopt(s.fileno(), SOL_MPTCP, MPTCP_TCPINFO, buf, ctypes.byref(ln)) < 0:
        return -1
    _, num, _, size_user = struct.unpack_from("IIII", buf, 0)
    raw = buf.raw
    return sum(1 for i in range(min(num, room)) if raw[16 + i * size_user] == TCP_ESTABLISHED)


def one(k, size, deadline):
    payload = os.urandom(size)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.bind(("10.78.0.1", 0))
    s.settimeout(max(1, deadline - time.monotonic()))
    s.connect(conv)
    most = [established(s)]

    def send():
        # The echo comes back while we send: a thread of its own.
        s.sendall(convert_msg(dest) + payload)
        # Half-close only once the join is established: a short
        # connection would otherwise be over before the converter's
        # ADD_ADDR is acted on.
        until = time.monotonic() + 5
        while most[0] < 2 and time.monotonic() < until:
            most[0] = max(most[0], established(s))
            time.sleep(0.01)
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=send, daemon=True)
    t.start()
    tlvs, got = read_answer(s, deadline)
    if [ty for ty, _ in tlvs] != [T_EXT]:
        raise OSError("answer TLVs %r" % [ty for ty, _ in tlvs])
    h = hashlib.sha256(got)
    n = len(got)
    while True:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        d = s.recv(1 << 16)
        if not d:
            break
        h.update(d)
        n += len(d)
        most[0] = max(most[0], established(s))
    t.join(max(0.01, deadline - time.monotonic()))
    s.close()
    if n != size or h.digest() != hashlib.sha256(payload).digest():
        raise OSError("echo differs: %d of %d bytes, or corrupted" % (n, size))
    if most[0] < 2:
        raise OSError("%s" % ("not MPTCP" if most[0] < 0 else "no join established"))
    return most[0]


def client(c, deadline):
    for i in range(seq):
        k = c * seq + i
        size = SIZES[k % len(SIZES)]
        try:
            j = one(k, size, deadline)
            with lock:
                joined[0] += 1
            print("conn %d: %d B each way, intact, %d subflows established" % (k, size, j))
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
print("connections: %d, intact with 2 subflows: %d, failed: %d" % (par * seq, joined[0], len(fails)))
sys.exit(1 if fails else 0)
EOF

echo "-- (a) $PAR kernel MPTCP clients x $SEQ connections (1 B .. 3 MiB) through mpt convert --threads 2"
case_a() {
	local rc=0 t0 t1 jsa mpc
	ksnap "$NS_P" "$WORK/k0"
	t0=$(date +%s%N)
	ip netns exec "$NS_P" timeout $((CASE_TIMEOUT + 5)) python3 "$WORK/clients.py" "$INTEROP_DIR" \
		"$CONV" "$CPORT" "$SRV:7000" "$PAR" "$SEQ" "$CASE_TIMEOUT" >"$WORK/a.out" 2>&1 || rc=1
	t1=$(date +%s%N)
	ksnap "$NS_P" "$WORK/k1"
	grep -v ": FAILED" "$WORK/a.out" | tail -n 4 | sed 's/^/  /'
	grep ": FAILED\|Error\|Traceback" "$WORK/a.out" | head -n 10 | sed 's/^/  /'
	echo "  $(((t1 - t0) / 1000000)) ms"
	jsa=$(kdelta "$WORK/k0" "$WORK/k1" MPTcpExtMPJoinSynAckRx)
	mpc=$(kdelta "$WORK/k0" "$WORK/k1" MPTcpExtMPCapableFallbackSYNACK)
	echo "  client kernel: MPJoinSynAckRx +$jsa, MPCapableFallbackSYNACK +$mpc"
	[ "$jsa" -ge $((PAR * SEQ)) ] || { echo "  fewer joins than connections"; rc=1; }
	[ "$mpc" = 0 ] || { echo "  connections fell back to TCP"; rc=1; }
	kill -0 "$CONV_PID" 2>/dev/null || { echo "  mpt convert died"; rc=1; }
	return $rc
}
case_a
case_result "(a) $((PAR * SEQ)) connections, 2 subflows each, every byte intact" $?

# $HOLD connections: opened, echoed once, held until the file argv[6] exists.
cat >"$WORK/hold.py" <<'EOF'
import ctypes, os, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
from svc_peer import convert_msg, read_answer, T_EXT

conv, dest, hold, release = (sys.argv[2], int(sys.argv[3])), sys.argv[4], int(sys.argv[5]), sys.argv[6]
libc = ctypes.CDLL(None, use_errno=True)


def established(s):
    """Subflows in ESTABLISHED, as clients.py counts them (MPTCP_TCPINFO)."""
    buf = ctypes.create_string_buffer(16 + 8 * 8)
    struct.pack_into("IIII", buf, 0, 16, 0, 0, 8)
    ln = ctypes.c_uint32(len(buf))
    if libc.getsockopt(s.fileno(), 284, 2, buf, ctypes.byref(ln)) < 0:
        return -1
    _, num, _, size_user = struct.unpack_from("IIII", buf, 0)
    return sum(1 for i in range(min(num, 8)) if buf.raw[16 + i * size_user] == 1)


deadline = time.monotonic() + 20
socks = []
for k in range(hold):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)  # IPPROTO_MPTCP
    s.bind(("10.78.0.1", 0))
    s.settimeout(10)
    s.connect(conv)
    s.sendall(convert_msg(dest) + b"x")
    tlvs, got = read_answer(s, deadline)
    while len(got) < 1:
        got += s.recv(1)
    if [t for t, _ in tlvs] != [T_EXT] or got != b"x":
        sys.exit("conn %d: bad answer or echo" % k)
    socks.append(s)
# Every join established: no SYN reaches the converter while it is asked.
while time.monotonic() < deadline and min(established(s) for s in socks) < 2:
    time.sleep(0.05)
print("held %d connections, fewest subflows established: %d"
      % (hold, min(established(s) for s in socks)), flush=True)
open(release + ".ready", "w").close()
while not os.path.exists(release) and time.monotonic() < deadline + 60:
    time.sleep(0.05)
for s in socks:
    s.close()
EOF

echo "-- (b) --ctl with 2 threads: mpt ss lists every thread's connections, mpt nstat sums the counters"
# SIGUSR1 to the converter, and wait (5 s at most) for its sums to be printed
# (svc_team_collect: one more "counter steer-drops" line).
conv_usr1() {
	local sigs
	sigs=$(grep -c "counter steer-drops" "$WORK/conv.err")
	kill -USR1 "$CONV_PID"
	for _ in $(seq 50); do
		[ "$(grep -c "counter steer-drops" "$WORK/conv.err")" -gt "$sigs" ] && break
		sleep 0.1
	done
}

case_b() {
	local rc=0 hp
	ip netns exec "$NS_P" timeout 90 python3 "$WORK/hold.py" "$INTEROP_DIR" "$CONV" "$CPORT" \
		"$SRV:7000" "$HOLD" "$WORK/release" >"$WORK/hold.out" 2>&1 &
	hp=$!
	INTEROP_PIDS+=($hp)
	wait_file "$WORK/release.ready" 30 || { cat "$WORK/hold.out"; return 1; }
	sed 's/^/  /' "$WORK/hold.out"
	"$MPT_BIN" ss -j --ctl "$CTL" >"$WORK/ss.json" 2>"$WORK/ss.err" || { echo "  mpt ss failed"; rc=1; }
	"$MPT_BIN" nstat -a -s -j --ctl "$CTL" >"$WORK/nstat.json" 2>"$WORK/nstat.err" ||
		{ echo "  mpt nstat failed"; rc=1; }
	sed 's/^/  stderr: /' "$WORK/ss.err" "$WORK/nstat.err"
	# The reference: the sums SIGUSR1 prints (svc_team_collect).
	conv_usr1
	touch "$WORK/release"
	wait "$hp" || { echo "  the held connections failed"; rc=1; }
	python3 - "$WORK/ss.json" "$WORK/nstat.json" "$WORK/conv.err" "$HOLD" <<'PY' || rc=1
import json, sys
ss, ns, log, hold = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rc = 0
doc = json.load(open(ss))[0]
held = [c for c in doc["connections"]
        if c.get("remote_host") == "10.78.0.1" and c.get("state") == "ESTABLISHED"]
threads = sorted({str(c.get("thread")) for c in held})
print("  mpt ss: %d sockets, %d held connections (from 10.78.0.1, ESTABLISHED), "
      "on threads %s; \"threads\": %s" % (len(doc["connections"]), len(held),
                                            ",".join(threads), doc.get("threads")))
if len(held) != hold:
    print("  mpt ss lists %d of the %d held connections" % (len(held), hold)); rc = 1
if threads != ["0", "1"]:
    print("  the held connections are not listed from both threads"); rc = 1
if doc.get("threads") != 2 or "error" in doc:
    print("  not a whole answer from 2 threads: %s" % doc.get("error")); rc = 1
ctr = list(json.load(open(ns)).values())[0]
usr1 = {}
for line in open(log):
    f = line.split()
    if len(f) >= 3 and f[-3] == "counter" and f[-2].startswith("stack-"):
        usr1[f[-2][6:]] = int(f[-1])  # the last SIGUSR1's
for name, key in (("TcpPassiveOpens", "TcpPassiveOpens"),
                  ("MPCapableSYNRX", "MPTcpExtMPCapableSYNRX"),
                  ("MPJoinSynRx", "MPTcpExtMPJoinSynRx")):
    got, want = ctr.get(key), usr1.get(name)
    print("  mpt nstat -a %s %s, SIGUSR1 sum %s" % (key, got, want))
    if got is None or got != want:
        print("  %s is not the sum over the threads" % key); rc = 1
sys.exit(rc)
PY
	return $rc
}
case_b
case_result "(b) --ctl: every thread's connections, counters summed over the threads" $?

echo "-- (c) the converter's counters (SIGUSR1, then exit): summed over 2 threads, hand-overs"
# SIGUSR1 first: the running threads' counters, collected and summed (case
# (b) may have sent one already).
sigs=$(grep -c "counter steer-drops" "$WORK/conv.err")
conv_usr1
usr1_conv=$(awk '$(NF-1) == "conversions" { v = $NF } END { print v }' "$WORK/conv.err")
kill -TERM "$CONV_PID"
wait "$CONV_PID"
crc=$?
ctr() { awk -v n="$1" '$(NF-2) == "counter" && $(NF-1) == n { v = $NF } END { print v + 0 }' "$WORK/conv.err"; }
case_c() {
	local rc=0 n=$((PAR * SEQ + HOLD))
	echo "  exit status $crc"
	[ "$crc" = 0 ] || rc=1
	if grep -q "Sanitizer\|runtime error" "$WORK/conv.err"; then
		echo "  sanitizer report"
		rc=1
	fi
	echo "  SIGUSR1: conversions ${usr1_conv:-none}"
	[ "${usr1_conv:-}" = "$n" ] || { echo "  SIGUSR1 did not print the sum ($n)"; rc=1; }
	[ "$(grep -c "counter conversions" "$WORK/conv.err")" = $((sigs + 2)) ] ||
		{ echo "  the counters are not printed once per SIGUSR1 and once at exit"; rc=1; }
	grep "counter \(conversions\|relay-ended-clean\|fallbacks\|threads\|steer-\|stack-MPJoinSynRx\|stack-MPCapableSYNRX\)" \
		"$WORK/conv.err" | sed 's/^/  /'
	[ "$(ctr threads)" = 2 ] || { echo "  not 2 threads"; rc=1; }
	[ "$(ctr conversions)" = "$n" ] || { echo "  conversions != $n"; rc=1; }
	[ "$(ctr relay-ended-clean)" = "$n" ] || { echo "  relays ended clean != $n"; rc=1; }
	[ "$(ctr fallbacks)" = 0 ] || { echo "  fallbacks to TCP"; rc=1; }
	[ "$(ctr stack-MPJoinSynRx)" -ge "$n" ] || { echo "  the stacks saw fewer MP_JOIN SYNs than connections"; rc=1; }
	[ "$(ctr steer-out)" -ge 1 ] || { echo "  no packet handed over between threads"; rc=1; }
	[ "$(ctr steer-in)" -ge 1 ] || { echo "  no packet received from the other thread"; rc=1; }
	[ "$(ctr steer-in)" -le "$(ctr steer-out)" ] || { echo "  more hand-overs received than sent"; rc=1; }
	return $rc
}
case_c
case_result "(c) exit counters summed over the threads; packets handed between threads" $?

echo "-- (d) --threads: bounds, configuration file, --check"
case_d() {
	local rc=0 out
	out=$(ip netns exec "$NS_V" "$MPT_BIN" convert --threads 0 --path 10.78.2.9/24,dev=mpttun9 \
		--allow-any 5125 2>&1)
	[ $? = 2 ] && [[ "$out" == *"--threads: '0'"* ]] || { echo "  --threads 0: $out"; rc=1; }
	out=$(ip netns exec "$NS_V" "$MPT_BIN" convert --threads 65 --path 10.78.2.9/24,dev=mpttun9 \
		--allow-any 5125 2>&1)
	[ $? = 2 ] && [[ "$out" == *"--threads: '65'"* ]] || { echo "  --threads 65: $out"; rc=1; }
	printf 'path 10.78.2.9/24,dev=mpttun9\nallow 10.90.0.0/24\nthreads 3\nmax-conns 100\nlisten 5125\n' \
		>"$WORK/t.conf"
	out=$(ip netns exec "$NS_V" "$MPT_BIN" convert --config "$WORK/t.conf" --check 2>&1)
	echo "$out" | grep "thread" | sed 's/^/  /'
	[[ "$out" == *"3 thread(s), up to 34 connections each"* ]] || { echo "  --check: $out"; rc=1; }
	return $rc
}
case_d
case_result "(d) --threads bounds, in a --config file, --check" $?

if [ "$FAILED" != 0 ]; then
	show_log "$WORK/conv.err"
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
