# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the interop tests (sourced, not run).
#
# Every name this suite creates starts with "mpt-" and carries the test's
# PID, so runs never collide and cleanup removes exactly what was made.
# A test that cannot run here (not root, no netns, no TUN) prints SKIP with
# the reason and exits 0; any other problem is a FAIL with a non-zero exit.
# MPT_INTEROP_REQUIRE=1 turns skips into failures (for CI that must run it).

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MPT_BIN=${MPT_BIN:-$INTEROP_DIR/../../build/mpt}
PEER="$INTEROP_DIR/tcp_peer.py"
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
CASE_TIMEOUT=${CASE_TIMEOUT:-60}
INTEROP_PIDS=()
INTEROP_NS=()
WORK=""
FAILED=0
FAILED_CASES=""

skip() {
	echo "=================================================================="
	echo "SKIP: $TEST_NAME: $*"
	echo "=================================================================="
	if [ "${MPT_INTEROP_REQUIRE:-0}" = 1 ]; then
		echo "FAIL: $TEST_NAME: skipping is not allowed (MPT_INTEROP_REQUIRE=1)"
		exit 1
	fi
	exit 0
}

die() {
	echo "FAIL: $TEST_NAME: $*"
	exit 1
}

# Skip unless this machine can run namespace tests.
interop_require() {
	[ "$(id -u)" = 0 ] || skip "not root (network namespaces and TUN need root)"
	command -v ip >/dev/null || skip "iproute2 ('ip') is not installed"
	command -v python3 >/dev/null || skip "python3 is not installed"
	command -v timeout >/dev/null || skip "coreutils 'timeout' is missing"
	[ -c /dev/net/tun ] || skip "/dev/net/tun does not exist"
	local probe="mpt-probe-$$"
	ip netns add "$probe" 2>/dev/null || skip "cannot create network namespaces"
	ip netns exec "$probe" python3 -c '
import fcntl, os, struct
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"mpt-probe", 0x1001))' 2>/dev/null
	local tun_ok=$?
	ip netns del "$probe"
	[ $tun_ok = 0 ] || skip "cannot create TUN devices inside a namespace"
	[ -x "$MPT_BIN" ] || die "mpt binary not found at $MPT_BIN (set MPT_BIN)"
}

interop_cleanup() {
	local pid ns
	for pid in "${INTEROP_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${INTEROP_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for ns in "${INTEROP_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$WORK" ] && [ "${MPT_INTEROP_KEEP:-0}" != 1 ]; then
		rm -rf "$WORK"
	fi
}

# Two namespaces joined by a veth pair:
#   $NS_C (mpt and its TUN; forwards) 10.77.0.1/24 fd77::1/64  <->
#   $NS_S (the kernel peer)           10.77.0.2/24 fd77::2/64
# The kernel in $NS_S reaches mpt's addresses 10.77.1.0/24 and fd77:1::/64
# through $NS_C, whose kernel routes them into mpt's TUN (mpt adds that
# route itself when it creates the TUN; no address is assigned to it).
topo_two_ns() {
	NS_C="mpt-cli-$$"
	NS_S="mpt-srv-$$"
	WORK=$(mktemp -d /tmp/mpt-interop.XXXXXX)
	trap interop_cleanup EXIT
	ip netns add "$NS_C" || die "ip netns add $NS_C"
	INTEROP_NS+=("$NS_C")
	ip netns add "$NS_S" || die "ip netns add $NS_S"
	INTEROP_NS+=("$NS_S")
	ip link add mpt-vc netns "$NS_C" type veth peer name mpt-vs netns "$NS_S" ||
		die "cannot create the veth pair"
	local ns
	for ns in "$NS_C" "$NS_S"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null
	done
	ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 >/dev/null
	ip -n "$NS_C" addr add 10.77.0.1/24 dev mpt-vc
	ip -n "$NS_C" addr add fd77::1/64 dev mpt-vc nodad
	ip -n "$NS_S" addr add 10.77.0.2/24 dev mpt-vs
	ip -n "$NS_S" addr add fd77::2/64 dev mpt-vs nodad
	ip -n "$NS_C" link set mpt-vc up
	ip -n "$NS_S" link set mpt-vs up
	ip -n "$NS_S" route add 10.77.1.0/24 via 10.77.0.1
	ip -n "$NS_S" -6 route add fd77:1::/64 via fd77::1
}

# Wait until a file exists (max $2 seconds).
wait_file() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# Wait until namespace $1 routes address $2 through device $3.
wait_route() {
	local i
	for ((i = 0; i < ${4:-10} * 10; i++)); do
		ip -n "$1" route get "$2" 2>/dev/null | grep -q "dev $3" && return 0
		sleep 0.1
	done
	return 1
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# same_file NAME EXPECTED ACTUAL: compare by SHA-256 and size.
same_file() {
	local want got
	want=$(sha "$2")
	got=$(sha "$3" 2>/dev/null || echo missing)
	if [ "$want" != "$got" ]; then
		echo "  $1: MISMATCH: expected $(stat -c %s "$2") B sha256 $want," \
			"got $(stat -c %s "$3" 2>/dev/null || echo 0) B sha256 $got"
		return 1
	fi
	echo "  $1: $(stat -c %s "$3") B, sha256 ${got:0:16}... OK"
}

case_result() {
	if [ "$2" = 0 ]; then
		echo "ok   $TEST_NAME: $1"
	else
		echo "FAIL $TEST_NAME: $1"
		FAILED=$((FAILED + 1))
		# Kept for a last line: CI excerpts show a log's tail.
		FAILED_CASES+="${FAILED_CASES:+; }$1"
	fi
}

show_log() {
	[ -s "$1" ] && sed 's/^/    | /' "$1" | tail -n 20
	return 0
}

# Two namespaces joined by TWO veth pairs (two paths), for MPTCP:
#   path 1: $NS_C mpt-p1c 10.78.0.1/24  <->  $NS_S mpt-p1s 10.78.0.2/24
#   path 2: $NS_C mpt-p2c 10.79.0.1/24  <->  $NS_S mpt-p2s 10.79.0.2/24
# mpt runs in $NS_C with 10.78.1.1 on TUN mpttun0 and 10.79.1.1 on TUN
# mpttun1 (MP_A / MP_B below).  $NS_C forwards by SOURCE (policy routing):
# whatever mpt sends from MP_B leaves on path 2, whatever from MP_A on path
# 1, whichever server address it goes to, so each subflow really has its
# own path.  $NS_S routes 10.78.1.0/24 back over path 1, 10.79.1.0/24 over
# path 2.  With TOPO_RATE (e.g. 100mbit) every veth gets a tbf qdisc.
# MPTCP is enabled in both namespaces with room for 4 subflows.
topo_two_paths() {
	NS_C="mpt-cli-$$"
	NS_S="mpt-srv-$$"
	MP_A=10.78.1.1
	MP_B=10.79.1.1
	SRV_A=10.78.0.2
	SRV_B=10.79.0.2
	WORK=$(mktemp -d /tmp/mpt-interop.XXXXXX)
	trap interop_cleanup EXIT
	ip netns add "$NS_C" || die "ip netns add $NS_C"
	INTEROP_NS+=("$NS_C")
	ip netns add "$NS_S" || die "ip netns add $NS_S"
	INTEROP_NS+=("$NS_S")
	local ns i
	for i in 1 2; do
		ip link add "mpt-p${i}c" netns "$NS_C" type veth peer name "mpt-p${i}s" \
			netns "$NS_S" || die "cannot create veth pair $i"
	done
	for ns in "$NS_C" "$NS_S"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.mptcp.enabled=1 >/dev/null ||
			die "cannot enable MPTCP in $ns"
		ip -n "$ns" mptcp limits set subflow 4 add_addr_accepted 4 ||
			die "ip mptcp limits failed in $ns"
	done
	ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	for i in 1 2; do
		ip -n "$NS_C" addr add "10.7$((7 + i)).0.1/24" dev "mpt-p${i}c"
		ip -n "$NS_S" addr add "10.7$((7 + i)).0.2/24" dev "mpt-p${i}s"
		ip netns exec "$NS_C" sysctl -qw "net.ipv4.conf.mpt-p${i}c.rp_filter=0" >/dev/null
		ip netns exec "$NS_S" sysctl -qw "net.ipv4.conf.mpt-p${i}s.rp_filter=0" >/dev/null
		ip -n "$NS_C" link set "mpt-p${i}c" up
		ip -n "$NS_S" link set "mpt-p${i}s" up
		ip -n "$NS_S" route add "10.7$((7 + i)).1.0/24" via "10.7$((7 + i)).0.1"
		# Source routing in the mpt namespace: table 10$i sends everything
		# out of path i.
		ip -n "$NS_C" route add default via "10.7$((7 + i)).0.2" dev "mpt-p${i}c" \
			table "10$i"
		ip -n "$NS_C" rule add from "10.7$((7 + i)).1.0/24" table "10$i" pref "10$i"
		if [ -n "${TOPO_RATE:-}" ]; then
			ip netns exec "$NS_C" tc qdisc add dev "mpt-p${i}c" root tbf \
				rate "$TOPO_RATE" burst 64kb latency 20ms || die "tbf failed"
			ip netns exec "$NS_S" tc qdisc add dev "mpt-p${i}s" root tbf \
				rate "$TOPO_RATE" burst 64kb latency 20ms || die "tbf failed"
		fi
	done
}

# The proxy / converter tests' two namespaces, joined by two paths:
#   path i: $NS_P mpt-pip 10.7N.0.1/24 <-> $NS_V mpt-piv 10.7N.0.2/24 (N = 7 + i)
# $NS_P (client + mpt proxy, mpt addresses 10.7N.1.1) routes by source
# address: each mpt address leaves on its own path.  $NS_V (mpt convert,
# 10.7N.2.1; the servers on 10.90.0.1/32 at lo, as this kernel may lack the
# dummy driver) routes by destination, or by source too with
# TOPO_V_SRCROUTE=1.  Both forward; every veth gets a tbf qdisc of $RATE.
# topo_proxy_paths NS_P_NAME NS_V_NAME WORK_PREFIX
topo_proxy_paths() {
	NS_P=$1
	NS_V=$2
	WORK=$(mktemp -d "/tmp/$3.XXXXXX")
	trap interop_cleanup EXIT
	ip netns add "$NS_P" || die "ip netns add $NS_P"
	INTEROP_NS+=("$NS_P")
	ip netns add "$NS_V" || die "ip netns add $NS_V"
	INTEROP_NS+=("$NS_V")
	local i n ns
	for i in 1 2; do
		ip link add "mpt-p${i}p" netns "$NS_P" type veth peer name "mpt-p${i}v" netns "$NS_V" ||
			die "cannot create veth pair $i"
	done
	for ns in "$NS_P" "$NS_V"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv4.ip_forward=1 >/dev/null
	done
	# The servers' address (not a loopback one: RFC 8803 §4.2.5 forbids
	# those in a Connect TLV).
	ip -n "$NS_V" addr add 10.90.0.1/32 dev lo
	for i in 1 2; do
		n=$((7 + i))
		ip -n "$NS_P" addr add "10.7$n.0.1/24" dev "mpt-p${i}p"
		ip -n "$NS_V" addr add "10.7$n.0.2/24" dev "mpt-p${i}v"
		ip netns exec "$NS_P" sysctl -qw "net.ipv4.conf.mpt-p${i}p.rp_filter=0" >/dev/null
		ip netns exec "$NS_V" sysctl -qw "net.ipv4.conf.mpt-p${i}v.rp_filter=0" >/dev/null
		ip -n "$NS_P" link set "mpt-p${i}p" up
		ip -n "$NS_V" link set "mpt-p${i}v" up
		# The other side's mpt addresses (for traffic from non-mpt sources).
		ip -n "$NS_P" route add "10.7$n.2.0/24" via "10.7$n.0.2"
		ip -n "$NS_V" route add "10.7$n.1.0/24" via "10.7$n.0.1"
		# Source routing: each mpt address leaves on its own path.
		ip -n "$NS_P" route add default via "10.7$n.0.2" dev "mpt-p${i}p" table "10$i"
		ip -n "$NS_P" rule add from "10.7$n.1.0/24" table "10$i" pref "10$i"
		if [ "${TOPO_V_SRCROUTE:-0}" = 1 ]; then
			ip -n "$NS_V" route add default via "10.7$n.0.1" dev "mpt-p${i}v" table "10$i"
			ip -n "$NS_V" rule add from "10.7$n.2.0/24" table "10$i" pref "10$i"
		fi
		ip netns exec "$NS_P" tc qdisc add dev "mpt-p${i}p" root tbf rate "$RATE" burst 64kb \
			latency 20ms || die "tbf failed"
		ip netns exec "$NS_V" tc qdisc add dev "mpt-p${i}v" root tbf rate "$RATE" burst 64kb \
			latency 20ms || die "tbf failed"
	done
}

# IPv6 on topo_two_paths' paths 1 and 2, source-routed like IPv4 (each
# subflow stays on its path):
#   path 1: mpt fd78:1::1 (MP6_A) -> mpt-p1c fd78::1 <-> mpt-p1s fd78::2 (SRV6_A)
#   path 2: mpt fd79:1::1 (MP6_B) -> mpt-p2c fd79::1 <-> mpt-p2s fd79::2 (SRV6_B)
topo_ipv6_paths() {
	ip netns exec "$NS_C" sysctl -qw net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 >/dev/null
	ip netns exec "$NS_S" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null
	local i n
	for i in 1 2; do
		n=$((7 + i))
		ip -n "$NS_C" addr add "fd7$n::1/64" dev "mpt-p${i}c" nodad || die "IPv6 address"
		ip -n "$NS_S" addr add "fd7$n::2/64" dev "mpt-p${i}s" nodad || die "IPv6 address"
		ip -n "$NS_S" -6 route add "fd7$n:1::/64" via "fd7$n::1" || die "IPv6 route"
		ip -n "$NS_C" -6 route add default via "fd7$n::2" dev "mpt-p${i}c" table "10$i"
		ip -n "$NS_C" -6 rule add from "fd7$n:1::/64" table "10$i" pref "10$i"
	done
	MP6_A=fd78:1::1
	MP6_B=fd79:1::1
	SRV6_A=fd78::2
	SRV6_B=fd79::2
}

# known_bug_result NAME RC: case_result, except for a case listed in
# $KNOWN_BUGS ("case-id:reason" lines, the id being what NAME has in
# parentheses): its failure is an XFAIL (counted in XFAILED), its success an
# XPASS (heap corruption does not always abort: not "ok", not a failure).
known_bug_result() {
	local name=$1 rc=$2 id reason
	id=$(printf '%s\n' "$1" | sed -n 's/^(\([^)]*\)).*/\1/p')
	reason=$(printf '%s\n' "${KNOWN_BUGS:-}" | awk -F: -v l="$id" '$1 == l { sub(/^[^:]*:/, ""); print; exit }')
	if [ "$rc" != 0 ] && [ -n "$reason" ]; then
		echo "XFAIL: $TEST_NAME: $name: $reason"
		XFAILED=$((XFAILED + 1))
		return
	fi
	if [ "$rc" = 0 ] && [ -n "$reason" ]; then
		echo "XPASS $TEST_NAME: $name (listed as known bug: $reason)"
		return
	fi
	case_result "$name" "$rc"
}

# Absolute value of a kernel MIB counter (e.g. MPTcpExtMPJoinSynRx) in $1.
kcounter() {
	ip netns exec "$1" nstat -az "$2" 2>/dev/null | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}

# ---- helpers of the kernel MPTCP tests -------------------------------------
# mpt in the client namespace, bounded by CASE_TIMEOUT.
mpt_c() {
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" "$@"
}
ksnap() { # ksnap NS FILE: all MPTCP counters
	ip netns exec "$1" nstat -az 2>/dev/null | awk '$1 ~ /^MPTcpExt/ { print $1, $2 }' >"$2"
}
kdelta() { # kdelta BEFORE AFTER NAME
	local a b
	a=$(awk -v n="$3" '$1 == n { print $2 }' "$1")
	b=$(awk -v n="$3" '$1 == n { print $2 }' "$2")
	echo $((${b:-0} - ${a:-0}))
}
kshow() { # kshow BEFORE AFTER: counters that moved
	join <(sort "$1") <(sort "$2") | awk '$3 != $2 { printf "  kernel %s +%d\n", $1, $3 - $2 }'
}
