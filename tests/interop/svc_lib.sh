# SPDX-License-Identifier: Apache-2.0
# Topology and helpers of the service hardening tests (issue 11), sourced
# after lib.sh.
#
#   $NS_C  client side: 10.81.0.1/24 and 10.81.0.10/24 (a second source) on
#          mpt-sc; an `mpt proxy` here uses mpt address 10.81.2.1 (TUN).
#   $NS_V  converter host: mpt-sv 10.81.0.2/24 towards the clients, mpt-vs
#          10.82.0.1/24 fd82::1/64 towards the servers; `mpt convert` runs
#          here with mpt address 10.81.1.1 (TUN).
#   $NS_S  servers: mpt-ss 10.82.0.2/24 fd82::2/64.
# $NS_C and $NS_V forward; rp_filter is off; routes make 10.81.1.0/24 (the
# converter's stack) reachable from $NS_C and 10.81.2.0/24 (the proxy's
# stack) from $NS_V.
topo_svc() {
	NS_C="mpt-svc-c-$$"
	NS_V="mpt-svc-v-$$"
	NS_S="mpt-svc-s-$$"
	WORK=$(mktemp -d /tmp/mpt-svc.XXXXXX)
	chmod 755 "$WORK"
	trap interop_cleanup EXIT
	local ns
	for ns in "$NS_C" "$NS_V" "$NS_S"; do
		ip netns add "$ns" || die "ip netns add $ns"
		INTEROP_NS+=("$ns")
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null
		ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
	done
	ip link add mpt-sc netns "$NS_C" type veth peer name mpt-sv netns "$NS_V" ||
		die "cannot create veth pair"
	ip link add mpt-vs netns "$NS_V" type veth peer name mpt-ss netns "$NS_S" ||
		die "cannot create veth pair"
	ip -n "$NS_C" addr add 10.81.0.1/24 dev mpt-sc
	ip -n "$NS_C" addr add 10.81.0.10/24 dev mpt-sc
	ip -n "$NS_V" addr add 10.81.0.2/24 dev mpt-sv
	ip -n "$NS_V" addr add 10.82.0.1/24 dev mpt-vs
	ip -n "$NS_V" addr add fd82::1/64 dev mpt-vs nodad
	ip -n "$NS_S" addr add 10.82.0.2/24 dev mpt-ss
	ip -n "$NS_S" addr add fd82::2/64 dev mpt-ss nodad
	ip -n "$NS_C" link set mpt-sc up
	ip -n "$NS_V" link set mpt-sv up
	ip -n "$NS_V" link set mpt-vs up
	ip -n "$NS_S" link set mpt-ss up
	ip -n "$NS_C" route add 10.81.1.0/24 via 10.81.0.2
	ip -n "$NS_V" route add 10.81.2.0/24 via 10.81.0.1
	ip -n "$NS_S" route add default via 10.82.0.1
	ip -n "$NS_S" -6 route add default via fd82::1
}

# svc_require_ci_tool TOOL: a missing tool skips the test, and fails it in CI.
svc_require_tool() {
	command -v "$1" >/dev/null && return 0
	[ "${CI:-}" = true ] && die "$1 is not installed (needed in CI)"
	skip "$1 is not installed"
}

# status_of PID: "uid U gid G capeff HEX capprm HEX capbnd HEX nnp N"
status_of() {
	awk '/^Uid:/ { u = $2 "/" $3 "/" $4 "/" $5 } /^Gid:/ { g = $2 "/" $3 "/" $4 "/" $5 }
	     /^CapEff:/ { e = $2 } /^CapPrm:/ { p = $2 } /^CapBnd:/ { b = $2 }
	     /^NoNewPrivs:/ { n = $2 }
	     END { print "uid " u " gid " g " capeff " e " capprm " p " capbnd " b " nnp " n }' \
		"/proc/$1/status" 2>/dev/null
}
