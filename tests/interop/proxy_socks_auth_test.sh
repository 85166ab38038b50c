#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt proxy --socks5` hardening (issue 11, finding 5): RFC 1929
# username/password authentication, no unauthenticated SOCKS5 beyond
# loopback unless --insecure, and a negotiation deadline.
#
# Topology: svc_lib.sh.  `mpt proxy` in $NS_C (mpt address 10.81.2.1 on
# TUN mpttun0) through `mpt convert` in $NS_V to an echo server in $NS_S;
# the SOCKS clients are an independent Python implementation (svc_peer.py).
#
# (a) right user and password: 2 MiB through proxy + converter, intact;
# (b) wrong password, unknown user: RFC 1929 failure status, then the
#     connection is closed; nothing relayed;
# (c) a client offering only "no authentication": method 0xFF;
# (d) a greeting announcing 255 methods and sending one: closed by the
#     --handshake-timeout (2 s), not held forever; the same for a
#     username/password request cut short;
# (e) SOCKS5 without --auth-file on 0.0.0.0: refused at start (exit 2);
#     with --insecure it serves;
# (f) a malformed --auth-file line is reported as FILE:LINE;
# (g) counters socks-auth-ok / socks-auth-failed / handshake-timeouts;
# (h) a configuration file for the proxy: --check passes, a bad value is
#     reported as FILE:LINE, an open SOCKS5 setup from a file is refused too;
# (i) without --convert, SOCKS5 requests for the proxy host's own addresses
#     (its stack's packets would be delivered to the host's own services)
#     get reply 2 and reach nothing; a real server is reached.
set -uo pipefail
TEST_NAME=proxy_socks_auth
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svc_lib.sh"
interop_require
SP="$INTEROP_DIR/svc_peer.py"
CASE_TIMEOUT=${CASE_TIMEOUT:-60}

topo_svc
CONV=10.81.1.1
ip netns exec "$NS_S" python3 "$SP" echo-server --bind 0.0.0.0 --port 7000 \
	--ready "$WORK/s.ready" --count "$WORK/s.count" 2>"$WORK/s.err" &
INTEROP_PIDS+=($!)
wait_file "$WORK/s.ready" 10 || die "echo server did not start"
ip netns exec "$NS_V" "$MPT_BIN" convert --path "$CONV/24,dev=mpttun0" --allow 10.82.0.2:7000 \
	5124 2>"$WORK/conv.err" &
INTEROP_PIDS+=($!)
printf '# SOCKS users\nalice:s3cret pass\nbob:hunter2\n' >"$WORK/users"
chmod 600 "$WORK/users"
ip netns exec "$NS_C" "$MPT_BIN" proxy --socks5 --convert "$CONV:5124" --auth-file "$WORK/users" \
	--handshake-timeout 2 --path 10.81.2.1/24,dev=mpttun0 127.0.0.1:1080 2>"$WORK/proxy.err" &
PROXY_PID=$!
INTEROP_PIDS+=($PROXY_PID)
wait_route "$NS_V" "$CONV" mpttun0 10 || die "converter did not start"
wait_route "$NS_C" 10.81.2.1 mpttun0 10 || { show_log "$WORK/proxy.err"; die "proxy did not start"; }
sleep 0.3

socks() {
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" python3 "$SP" socks --proxy 127.0.0.1:1080 \
		--dest 10.82.0.2:7000 "$@"
}

echo "-- (a) RFC 1929 username/password, then 2 MiB through proxy + converter"
out=$(socks --user alice --password "s3cret pass" --mib 2 --expect ok 2>&1)
rc=$?
echo "$out" | sed 's/^/  /'
case_result "(a) authenticated client relayed intact" $rc

echo "-- (b) wrong password / unknown user: failure status and close"
case_b() {
	local rc=0 before after out
	before=$(cat "$WORK/s.count")
	out=$(socks --user alice --password wrong --expect auth-failed 2>&1) || rc=1
	echo "  alice/wrong: $out"
	out=$(socks --user mallory --password hunter2 --expect auth-failed 2>&1) || rc=1
	echo "  mallory/hunter2: $out"
	out=$(socks --user bob --password hunter --expect auth-failed 2>&1) || rc=1
	echo "  bob/hunter (a prefix of the password): $out"
	after=$(cat "$WORK/s.count")
	[ "$before" = "$after" ] || { echo "  the server was reached"; rc=1; }
	return $rc
}
case_b
case_result "(b) bad credentials refused, connection closed, nothing relayed" $?

echo "-- (c) a client that offers only 'no authentication'"
out=$(socks --methods 0 --expect no-method 2>&1)
rc=$?
echo "  $out"
case_result "(c) method 0xFF when authentication is required" $rc

echo "-- (d) negotiation deadline (--handshake-timeout 2)"
case_d() {
	local rc=0 out
	out=$(ip netns exec "$NS_C" timeout 30 python3 "$SP" socks-stall --proxy 127.0.0.1:1080 \
		--announce 255 --send 1 --limit 20 2>&1) || rc=1
	echo "  greeting announcing 255 methods, 1 sent: $out"
	# A username/password request cut short: VER 1, ULEN 5, "al".
	out=$(ip netns exec "$NS_C" timeout 30 python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 1080), timeout=20)
s.sendall(b"\x05\x01\x02")
assert s.recv(2) == b"\x05\x02"
s.sendall(b"\x01\x05al")
t0 = time.monotonic()
try:
    while s.recv(64):
        pass
except socket.timeout:
    print("still open after 20 s"); sys.exit(1)
except ConnectionResetError:
    pass
print("closed after %.2f s" % (time.monotonic() - t0))' 2>&1) || rc=1
	echo "  RFC 1929 request cut short: $out"
	return $rc
}
case_d
case_result "(d) stalled negotiations closed by the deadline" $?

echo "-- (e) SOCKS5 beyond loopback needs authentication or --insecure"
case_e() {
	local rc=0 out erc
	out=$(ip netns exec "$NS_C" timeout 10 "$MPT_BIN" proxy --socks5 --convert "$CONV:5124" \
		--path 10.81.2.2/24,dev=mpttun1 0.0.0.0:1081 2>&1)
	erc=$?
	echo "  without --auth-file on 0.0.0.0: exit $erc: $(echo "$out" | head -n 1)"
	[ $erc = 2 ] && [[ "$out" == *"refusing to serve SOCKS5 without authentication"* ]] || rc=1
	ip netns exec "$NS_C" "$MPT_BIN" proxy --socks5 --insecure --convert "$CONV:5124" \
		--path 10.81.2.2/24,dev=mpttun1 0.0.0.0:1081 2>"$WORK/insecure.err" &
	local ipid=$!
	INTEROP_PIDS+=($ipid)
	wait_route "$NS_C" 10.81.2.2 mpttun1 10 || { show_log "$WORK/insecure.err"; return 1; }
	sleep 0.3
	out=$(ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" python3 "$SP" socks --proxy 10.81.0.1:1081 \
		--dest 10.82.0.2:7000 --methods 0 --expect ok 2>&1) || rc=1
	echo "  with --insecure, from 10.81.0.1: $out"
	kill -TERM $ipid
	wait $ipid || rc=1
	return $rc
}
case_e
case_result "(e) no open SOCKS5 proxy by accident" $?

echo "-- (f) --auth-file errors name FILE:LINE"
case_f() {
	local out
	printf 'alice:ok\n\n# x\nnocolon\n' >"$WORK/bad_users"
	out=$(ip netns exec "$NS_C" "$MPT_BIN" proxy --socks5 --auth-file "$WORK/bad_users" \
		--path 10.81.2.3/24,dev=mpttun2 1082 2>&1)
	echo "  $out" | grep -v warning
	[[ "$out" == *"bad_users:4: expected USER:PASSWORD"* ]]
}
case_f
case_result "(f) auth file errors as FILE:LINE" $?

echo "-- (h) configuration file for the proxy: --check, FILE:LINE errors"
case_h() {
	local rc=0 out crc
	printf 'socks5\nauth-file %s\nconvert %s:5124\npath 10.81.2.7/24,dev=mpttun7\nhandshake-timeout 5\nlisten 10.81.0.1:1089\n' \
		"$WORK/users" "$CONV" >"$WORK/proxy.conf"
	ip netns exec "$NS_C" "$MPT_BIN" proxy --config "$WORK/proxy.conf" --check >"$WORK/h.out" 2>&1
	crc=$?
	sed 's/^/  /' "$WORK/h.out" | grep -E "SOCKS5|listened|problem"
	[ $crc = 0 ] || rc=1
	printf 'socks5\nhandshake-timeout 0\nlisten 1089\n' >"$WORK/proxy_bad.conf"
	out=$(ip netns exec "$NS_C" "$MPT_BIN" proxy --config "$WORK/proxy_bad.conf" 2>&1)
	echo "  $out"
	[[ "$out" == *"proxy_bad.conf:2: --handshake-timeout: '0' is not a number of seconds"* ]] || rc=1
	# Without authentication, on a non-loopback address, from a file too.
	printf 'socks5\npath 10.81.2.7/24,dev=mpttun7\nlisten 10.81.0.1:1089\n' >"$WORK/proxy_open.conf"
	out=$(ip netns exec "$NS_C" "$MPT_BIN" proxy --config "$WORK/proxy_open.conf" 2>&1)
	crc=$?
	echo "  open proxy from a file: exit $crc"
	[ $crc = 2 ] || rc=1
	return $rc
}
case_h
case_result "(h) proxy configuration file and --check" $?

echo "-- (i) SOCKS5 straight to MPTCP (no --convert): this host's addresses refused"
case_i() {
	local rc=0 out
	ip -n "$NS_C" route add 10.82.0.0/24 via 10.81.0.2
	ip netns exec "$NS_C" python3 "$SP" echo-server --bind 0.0.0.0 --port 7100 \
		--ready "$WORK/l.ready" --count "$WORK/l.count" 2>"$WORK/l.err" &
	INTEROP_PIDS+=($!)
	wait_file "$WORK/l.ready" 10 || return 1
	ip netns exec "$NS_C" "$MPT_BIN" proxy --socks5 --path 10.81.2.9/24,dev=mpttun9 \
		127.0.0.1:1090 2>"$WORK/pass.err" &
	local qpid=$!
	INTEROP_PIDS+=($qpid)
	wait_route "$NS_C" 10.81.2.9 mpttun9 10 || { show_log "$WORK/pass.err"; return 1; }
	sleep 0.3
	for d in 10.81.0.1:7100 10.81.0.10:7100 10.81.2.9:7100; do
		out=$(ip netns exec "$NS_C" timeout 30 python3 "$SP" socks --proxy 127.0.0.1:1090 \
			--dest "$d" --methods 0 --expect reply-2 2>&1) || rc=1
		echo "  to $d (this host): $out"
	done
	out=$(ip netns exec "$NS_C" timeout 30 python3 "$SP" socks --proxy 127.0.0.1:1090 \
		--dest 10.82.0.2:7000 --methods 0 --expect ok 2>&1) || rc=1
	echo "  to 10.82.0.2:7000 (a server; plain TCP, MPTCP falls back): $out"
	echo "  local service connections: $(cat "$WORK/l.count")"
	[ "$(cat "$WORK/l.count")" = 0 ] || rc=1
	kill -TERM $qpid
	wait $qpid || rc=1
	grep -q "counter socks-destination-refused 3$" "$WORK/pass.err" || rc=1
	[ $rc = 0 ] || show_log "$WORK/pass.err"
	return $rc
}
case_i
case_result "(i) SOCKS5 passthrough: no way into the proxy's host" $?

kill -TERM "$PROXY_PID"
wait "$PROXY_PID"
prc=$?
echo "-- (g) counters"
grep -E "counter (socks-auth|socks-no-acceptable|handshake-timeouts)" "$WORK/proxy.err" | sed 's/^/  /'
case_g() {
	[ $prc = 0 ] || { echo "  mpt proxy exit status $prc"; return 1; }
	grep -q "Sanitizer\|runtime error" "$WORK/proxy.err" && return 1
	grep -q "counter socks-auth-ok 1$" "$WORK/proxy.err" &&
		grep -q "counter socks-auth-failed 3$" "$WORK/proxy.err" &&
		grep -q "counter socks-no-acceptable-method 1$" "$WORK/proxy.err" &&
		grep -q "counter handshake-timeouts 2$" "$WORK/proxy.err"
}
case_g
case_result "(g) counters" $?

if [ "$FAILED" != 0 ]; then
	show_log "$WORK/proxy.err"
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
