#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Least privilege (issue 11, finding 6): the services carry their traffic
# as an unprivileged user, in both modes, checked in /proc/PID/status while
# a transfer runs.
#
# Topology: svc_lib.sh; a SOCKS5 client in $NS_C -> `mpt proxy` ($NS_C) ->
# `mpt convert` ($NS_V) -> echo server ($NS_S); 8 MiB at an even pace over
# $SECONDS_XFER s, echoed back and compared.
#
# (a) started as root with --user nobody: the TUN devices and routes are
#     made as root, then both processes run with every uid and gid 65534,
#     CapEff = CapPrm = CapBnd = 0 and NoNewPrivs 1 during the transfer.
# (b) attach mode, never root: persistent TUN devices owned by nobody
#     (`ip tuntap add ... user nobody`, set up, routes added by the
#     administrator), both programs started by setpriv as nobody with no
#     capabilities at all; the same transfer; the same status.  This
#     machine's /dev/net/tun is root-only (mode 0600; Debian's default is
#     0666), so each program gets a private mount namespace where a 0666
#     node of the same device replaces it.
# (c) `mpt onpath --user nobody` runs as nobody with no capabilities.
# (d) --user with an unknown account, and --user as a non-root user other
#     than that account, are refused at start.
set -uo pipefail
TEST_NAME=svc_privileges
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svc_lib.sh"
interop_require
svc_require_tool setpriv
svc_require_tool unshare
SP="$INTEROP_DIR/svc_peer.py"
SECONDS_XFER=${SECONDS_XFER:-4}
NOBODY=$(id -u nobody 2>/dev/null) || skip "no 'nobody' account"
NOGROUP=$(id -g nobody)

topo_svc
# A copy of the binary any user can run, wherever the build tree is.
cp "$MPT_BIN" "$WORK/mpt" && chmod 755 "$WORK/mpt"
BIN="$WORK/mpt"
CONV=10.81.1.1
ip netns exec "$NS_S" python3 "$SP" echo-server --bind 0.0.0.0 --port 7000 \
	--ready "$WORK/s.ready" 2>"$WORK/s.err" &
INTEROP_PIDS+=($!)
wait_file "$WORK/s.ready" 10 || die "echo server did not start"
printf 'alice:pw-%s\n' "$$" >"$WORK/users"
chmod 600 "$WORK/users"

WANT="uid $NOBODY/$NOBODY/$NOBODY/$NOBODY gid $NOGROUP/$NOGROUP/$NOGROUP/$NOGROUP capeff 0000000000000000 capprm 0000000000000000 capbnd 0000000000000000 nnp 1"

# transfer_and_check NAME PROXY_PID CONV_PID PORT: the paced transfer, with
# both processes' status read half-way.
transfer_and_check() {
	local name=$1 ppid=$2 cpid=$3 port=$4 rc=0 out st
	ip netns exec "$NS_C" timeout 120 python3 "$SP" socks --proxy "127.0.0.1:$port" \
		--dest 10.82.0.2:7000 --user alice --password "pw-$$" --mib 8 \
		--seconds "$SECONDS_XFER" >"$WORK/$name.xfer" 2>&1 &
	local xpid=$!
	sleep $((SECONDS_XFER / 2))
	for p in "proxy:$ppid" "convert:$cpid"; do
		st=$(status_of "${p#*:}")
		echo "  mpt ${p%%:*} during the transfer: $st"
		[ "$st" = "$WANT" ] || { echo "  expected: $WANT"; rc=1; }
	done
	wait $xpid || rc=1
	sed 's/^/  /' "$WORK/$name.xfer"
	grep -q "intact" "$WORK/$name.xfer" || rc=1
	return $rc
}

stop() { # stop PID LOG: SIGTERM, exit status 0 and no sanitizer report
	kill -TERM "$1" 2>/dev/null
	wait "$1"
	local rc=$?
	if [ $rc != 0 ] || grep -q "Sanitizer\|runtime error" "$2"; then
		echo "  $(basename "$2" .err): exit status $rc"
		show_log "$2"
		return 1
	fi
}

echo "-- (a) root at start, --user nobody once the devices exist"
case_a() {
	local rc=0
	ip netns exec "$NS_V" "$BIN" convert --user nobody --path "$CONV/24,dev=mpttun0" \
		--allow 10.82.0.2:7000 5124 2>"$WORK/a_conv.err" &
	local cpid=$!
	INTEROP_PIDS+=($cpid)
	ip netns exec "$NS_C" "$BIN" proxy --user nobody --socks5 --auth-file "$WORK/users" \
		--convert "$CONV:5124" --path 10.81.2.1/24,dev=mpttun0 127.0.0.1:1080 \
		2>"$WORK/a_proxy.err" &
	local ppid=$!
	INTEROP_PIDS+=($ppid)
	wait_route "$NS_V" "$CONV" mpttun0 10 && wait_route "$NS_C" 10.81.2.1 mpttun0 10 ||
		{ show_log "$WORK/a_conv.err"; show_log "$WORK/a_proxy.err"; return 1; }
	sleep 0.5
	grep -h "running as" "$WORK/a_conv.err" "$WORK/a_proxy.err" | sed 's/^/  /'
	transfer_and_check a "$ppid" "$cpid" 1080 || rc=1
	stop "$ppid" "$WORK/a_proxy.err" || rc=1
	stop "$cpid" "$WORK/a_conv.err" || rc=1
	# The devices the root part created went with the processes.
	ip -n "$NS_V" link show mpttun0 >/dev/null 2>&1 && { echo "  mpttun0 left behind"; rc=1; }
	return $rc
}
case_a
case_result "(a) --user nobody: uid/gid 65534, no capabilities, during a transfer" $?

echo "-- (b) attach mode: TUN devices owned by nobody, no root at all"
# as_nobody NS CMD...: run CMD in NS as nobody, no capabilities, with a
# 0666 /dev/net/tun in a private mount namespace.  It execs: call it in
# the background (its PID is then mpt's) or in a subshell.
as_nobody() {
	local ns=$1
	shift
	exec ip netns exec "$ns" unshare -m sh -c '
		d=$(mktemp -d /tmp/mpt-tun.XXXXXX) &&
		mount -t tmpfs -o mode=755 none "$d" &&
		mknod -m 666 "$d/tun" c 10 200 &&
		mount --bind "$d/tun" /dev/net/tun &&
		exec setpriv --reuid='"$NOBODY"' --regid='"$NOGROUP"' --clear-groups \
			--inh-caps=-all --bounding-set=-all --no-new-privs "$@"' sh "$@"
}
case_b() {
	local rc=0
	ip -n "$NS_V" tuntap add dev mpt-tv mode tun user nobody || return 1
	ip -n "$NS_V" link set mpt-tv up
	ip -n "$NS_V" route add "$CONV/32" dev mpt-tv
	ip -n "$NS_C" tuntap add dev mpt-tc mode tun user nobody || return 1
	ip -n "$NS_C" link set mpt-tc up
	ip -n "$NS_C" route add 10.81.2.1/32 dev mpt-tc
	cp "$WORK/users" "$WORK/users_b"
	chown nobody "$WORK/users_b"
	# --check as nobody: attach mode is recognised, nothing is missing.
	(as_nobody "$NS_V" "$BIN" convert --check --path "$CONV/24,dev=mpt-tv" \
		--allow 10.82.0.2:7000 5125) >"$WORK/b_check.out" 2>&1
	local crc=$?
	sed 's/^/  /' "$WORK/b_check.out" | grep -E "attach|TUN|routed|problem"
	[ $crc = 0 ] || rc=1
	as_nobody "$NS_V" "$BIN" convert --path "$CONV/24,dev=mpt-tv" --allow 10.82.0.2:7000 \
		5125 2>"$WORK/b_conv.err" &
	local cpid=$!
	INTEROP_PIDS+=($cpid)
	as_nobody "$NS_C" "$BIN" proxy --socks5 --auth-file "$WORK/users_b" \
		--convert "$CONV:5125" --path 10.81.2.1/24,dev=mpt-tc 127.0.0.1:1081 \
		2>"$WORK/b_proxy.err" &
	local ppid=$!
	INTEROP_PIDS+=($ppid)
	local i
	for i in $(seq 50); do
		grep -q "listening" "$WORK/b_conv.err" 2>/dev/null &&
			grep -q "listening" "$WORK/b_proxy.err" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "listening" "$WORK/b_conv.err" && grep -q "listening" "$WORK/b_proxy.err" ||
		{ show_log "$WORK/b_conv.err"; show_log "$WORK/b_proxy.err"; return 1; }
	# unshare and sh exec into mpt: the PIDs are mpt's.
	transfer_and_check b "$ppid" "$cpid" 1081 || rc=1
	stop "$ppid" "$WORK/b_proxy.err" || rc=1
	stop "$cpid" "$WORK/b_conv.err" || rc=1
	# Persistent devices stay for the next run.
	ip -n "$NS_V" link show mpt-tv >/dev/null 2>&1 || { echo "  mpt-tv vanished"; rc=1; }
	return $rc
}
case_b
case_result "(b) attach mode as nobody from the start, during a transfer" $?

echo "-- (c) mpt onpath --user nobody"
case_c() {
	local rc=0 st
	ip netns exec "$NS_V" "$BIN" onpath --user nobody --path 10.81.3.1/32,dev=mpttun3 \
		2>"$WORK/c_onpath.err" &
	local opid=$!
	INTEROP_PIDS+=($opid)
	for _ in $(seq 50); do
		grep -q "running as" "$WORK/c_onpath.err" && break
		sleep 0.1
	done
	st=$(status_of "$opid")
	echo "  mpt onpath: $st"
	[ "$st" = "$WANT" ] || rc=1
	stop "$opid" "$WORK/c_onpath.err" || rc=1
	return $rc
}
case_c
case_result "(c) onpath drops to nobody" $?

echo "-- (d) --user errors"
case_d() {
	local rc=0 out erc
	out=$(ip netns exec "$NS_V" "$BIN" convert --user no-such-user-$$ --allow 10.82.0.2 \
		--path 10.81.1.5/24,dev=mpttun5 5126 2>&1)
	erc=$?
	echo "  unknown account: exit $erc: $out"
	[ $erc = 2 ] || rc=1
	out=$(ip netns exec "$NS_V" setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups \
		"$BIN" convert --user root --allow 10.82.0.2 --path 10.81.1.5/24,dev=mpttun5 5126 2>&1)
	erc=$?
	echo "  --user root: exit $erc: $out"
	[ $erc = 2 ] || rc=1
	return $rc
}
case_d
case_result "(d) bad --user refused" $?

if [ "$FAILED" != 0 ]; then
	echo "FAIL: $TEST_NAME: $FAILED case(s) failed: $FAILED_CASES"
	exit 1
fi
echo "PASS: $TEST_NAME"
