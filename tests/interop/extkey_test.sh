#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# External keys (issue 12, draft-baerts-tcpm-mptcpext-00, docs/external-keys.md)
# over real paths, with a configured key (--ext-key-file, the same file on
# both ends):
#   (a) mpt cat <-> mpt cat -l over two paths (mpt on TUN devices in both
#       namespaces), 8 MiB each way at once: intact; both ends negotiated
#       the extension, the key became active on both (NEW_KEY confirmed),
#       and the joins ran under it (MPJoinAckRx on the listener, no join
#       refused);
#   (b) mpt cat --ext-key-file -> a kernel MPTCP server (which does not
#       know the extension, and announces its second address): a clean
#       negotiation down to RFC 8684 - MPTCP v1 on both sides (the kernel
#       counts the MP_CAPABLE SYN: mpt's SYN offers the extension beside
#       an unchanged MP_CAPABLE, decision 1 of docs/external-keys.md, as
#       the draft's flag E in the SYN makes Linux ignore MP_CAPABLE), a
#       join with the handshake's keys, intact;
#   (c) a kernel MPTCP client -> mpt cat -l --ext-key-file: the kernel
#       offers no E: plain RFC 8684 with the kernel's join, intact;
#   (d) mpt cat --ext-keys require -> the kernel server: refused (exit
#       status non-zero, ExtKeyRefused counted), nothing delivered;
#   (t) mpt cat --tls <-> mpt cat --tls -l (keys from the TLS exporter,
#       generation n+1 every 2 s on both sides), 32 MiB each way over two
#       paths: intact; the keys confirmed on both sides; the client gives
#       up its second address at 3 s, so it joins again after the rekey:
#       its MP_JOIN SYNs in its capture name key id 0, then key id 1;
#   (w) Wireshark's view of (a)'s capture: it shows the SYN's offer
#       (subtype 15) and NEW_KEY (subtype 9) as options it does not know,
#       without complaint, and flags the MP_CAPABLEs with flag E (as an
#       unsupported algorithm; the third ACK's token form trips a dissector
#       assertion, so it is marked malformed) - and nothing else: every
#       frame with MPTCP expert info carries E.
set -uo pipefail
TEST_NAME=extkey
CASE_TIMEOUT=${CASE_TIMEOUT:-60}
. "$(dirname "$0")/lib.sh"
interop_require
command -v mptcpize >/dev/null || skip "mptcpize is not installed (scripts/deps.sh installs it)"
command -v nstat >/dev/null || skip "nstat (iproute2) is not installed"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "the kernel has no MPTCP (net.mptcp.enabled)"
TOPO_RATE=20mbit topo_two_paths
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.mptcp.blackhole_timeout=0 2>/dev/null || true
done
# A second mpt in the server namespace, on TUN addresses of its own; the
# kernel there forwards to them (routes back to the client's mpt exist).
ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
MS_A=10.78.2.1
MS_B=10.79.2.1
MPT_TWO=(--path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1")
MPT_SRV_TWO=(--path "$MS_A/24,dev=mptsrv0" --path "$MS_B/24,dev=mptsrv1")
openssl rand -hex 32 >"$WORK/key" 2>/dev/null || head -c 32 /dev/urandom >"$WORK/key"
SIZE=$((8 * 1048576))
head -c "$SIZE" /dev/urandom >"$WORK/up"
head -c "$SIZE" /dev/urandom >"$WORK/down"

# mcounter FILE NAME: mpt's counter from its -vv output (0 when it did not move)
mcounter() {
	awk -v n="$2" '$1 == "mpt:" && $2 == "counter" && $3 == n { v = $4 } END { print v + 0 }' "$1"
}

echo "-- (a) mpt <-> mpt, two paths, the same key file on both ends"
case_a() {
	local d="$WORK/a"
	mkdir -p "$d"
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -l -N -v -v \
		"${MPT_SRV_TWO[@]}" --ext-key-file "$WORK/key" 6300 \
		<"$WORK/down" >"$d/srv_got" 2>"$d/srv.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q 'listening' "$d/srv.err" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -N -v -v "${MPT_TWO[@]}" \
		--pcap "$WORK/a.pcap" --ext-key-file "$WORK/key" "$MS_A" 6300 <"$WORK/up" \
		>"$d/cli_got" 2>"$d/cli.err"
	local crc=$?
	wait "$spid"
	local src=$?
	echo "  client exit $crc, server exit $src"
	local rc=0
	[ $crc = 0 ] && [ $src = 0 ] || rc=1
	same_file "client -> server" "$WORK/up" "$d/srv_got" || rc=1
	same_file "server -> client" "$WORK/down" "$d/cli_got" || rc=1
	local side f
	for side in cli srv; do
		f="$d/$side.err"
		echo "  $side: ExtKeyNegotiated $(mcounter "$f" ExtKeyNegotiated)" \
			"ExtKeyNewKeyTx $(mcounter "$f" ExtKeyNewKeyTx)" \
			"ExtKeyNewKeyRx $(mcounter "$f" ExtKeyNewKeyRx)" \
			"ExtKeyJoinRefused $(mcounter "$f" ExtKeyJoinRefused)" \
			"MPJoinSynTx $(mcounter "$f" MPJoinSynTx) MPJoinAckRx $(mcounter "$f" MPJoinAckRx)"
		[ "$(mcounter "$f" ExtKeyNegotiated)" = 1 ] || { echo "  $side: not negotiated"; rc=1; }
		[ "$(mcounter "$f" ExtKeyNewKeyRx)" = 1 ] || { echo "  $side: key not confirmed"; rc=1; }
		[ "$(mcounter "$f" ExtKeyJoinRefused)" = 0 ] || { echo "  $side: a join was refused"; rc=1; }
	done
	[ "$(mcounter "$d/srv.err" MPJoinAckRx)" -ge 1 ] || { echo "  no join completed"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/cli.err"; show_log "$d/srv.err"; }
	return $rc
}
case_a
case_result "(a) mpt <-> mpt with external keys, two paths, intact" $?
[ -n "${EXTKEY_KEEP:-}" ] && cp "$WORK/a.pcap" "$EXTKEY_KEEP"

echo "-- (w) Wireshark on (a)'s capture (mpt --pcap): complaints only where the extension is"
case_w() {
	local f="$WORK/a.pcap" rc=0
	ts() { tshark -r "$f" -o mptcp.analyze_mptcp:TRUE "$@" 2>/dev/null; }
	[ -s "$f" ] || { echo "  no capture"; return 1; }
	# MPTCP's expert fields, as in mptcp_wireshark_test.sh (pure ACKs past
	# the last mapping are flagged by Wireshark 4.0 for any peer).
	local experts filter
	experts=$(tshark -G fields 2>/dev/null |
		awk -F'\t' '$1 == "F" && $3 ~ /^mptcp\./ && $4 == "FT_NONE" && $3 != "mptcp.analysis" {print $3}')
	[ -n "$experts" ] || { echo "  could not list Wireshark's MPTCP expert fields"; return 1; }
	filter=$(printf '%s\n' "$experts" | grep -v '^mptcp.dss.missing_mapping$' | paste -sd'|' |
		sed 's/|/ || /g')
	filter="($filter || (mptcp.dss.missing_mapping && tcp.len > 0) || _ws.malformed)"
	# The extension's MP_CAPABLE forms: flag E (0x08) on the SYN/ACK and
	# the third ACKs; the SYN's offer is subtype 0xf, NEW_KEY subtype 9.
	local ext="(tcp.options.mptcp.subtype == 0 && tcp.options.mptcp.flags & 0x08)"
	local nflag nbad nother noffer nnewkey njoin
	nflag=$(ts -Y "$filter" -T fields -e frame.number | grep -c .)
	nbad=$(ts -Y "$filter && $ext" -T fields -e frame.number | grep -c .)
	nother=$(ts -Y "$filter && !$ext" -T fields -e frame.number | grep -c .)
	noffer=$(ts -Y "tcp.options.mptcp.subtype == 15 && tcp.flags.syn == 1" -T fields -e frame.number | grep -c .)
	nnewkey=$(ts -Y "tcp.options.mptcp.subtype == 9" -T fields -e frame.number | grep -c .)
	njoin=$(ts -Y "tcp.options.mptcp.subtype == 1 && tcp.flags.syn == 1 && tcp.flags.ack == 0" \
		-T fields -e frame.number | grep -c .)
	echo "  SYN offers (subtype 15) $noffer, NEW_KEY (subtype 9) $nnewkey, MP_JOIN SYNs $njoin"
	echo "  frames with MPTCP expert info or malformed: $nflag, all MP_CAPABLE with flag E: $nbad"
	ts -Y "$filter" -T fields -e _ws.expert.message | tr ',' '\n' | sed 's/^ *//' | sort | uniq -c |
		sed 's/^/    /' | head -8
	[ "$noffer" = 1 ] && [ "$nnewkey" -ge 2 ] && [ "$njoin" -ge 1 ] || rc=1
	[ "$nbad" -ge 1 ] || { echo "  no complaint about flag E at all? (the check would be void)"; rc=1; }
	if [ "$nother" != 0 ]; then
		echo "  MPTCP expert info elsewhere (frame, message):"
		ts -Y "$filter && !$ext" -T fields -e frame.number -e _ws.expert.message | head -5 |
			sed 's/^/    /'
		rc=1
	fi
	return $rc
}
if command -v tshark >/dev/null; then
	case_w
	case_result "(w) Wireshark: only the extension's MP_CAPABLEs are flagged" $?
elif [ "${CI:-}" = true ]; then
	case_result "(w) Wireshark: tshark is not installed" 1
else
	echo "SKIP (w): tshark is not installed"
fi
echo "-- (t) mpt cat --tls <-> mpt cat --tls -l: keys from TLS, a rekey, a join after it"
# join_kids PCAP: the key id (K, 0x02 of byte 2) of every MP_JOIN SYN in
# mpt's own capture (raw IPv4), in order: independent of Wireshark, which
# does not know K.
join_kids() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, out = 24, []
while off + 16 <= len(d):
    incl = struct.unpack("<I", d[off + 8:off + 12])[0]
    p = d[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(p) < 20 or p[0] >> 4 != 4 or p[9] != 6:
        continue
    t = p[(p[0] & 15) * 4:]
    if len(t) < 20 or t[13] & 0x12 != 0x02:  # SYN without ACK
        continue
    o, end = 20, min((t[12] >> 4) * 4, len(t))
    while o < end:
        if t[o] == 0:
            break
        if t[o] == 1:
            o += 1
            continue
        if o + 1 >= end or t[o + 1] < 2:
            break
        if t[o] == 30 and t[o + 1] >= 12 and t[o + 2] >> 4 == 1:
            out.append(str((t[o + 2] >> 1) & 1))
        o += t[o + 1]
print(" ".join(out))
PY
}
case_t() {
	local d="$WORK/t" size=$((32 * 1048576))
	mkdir -p "$d"
	head -c "$size" /dev/urandom >"$d/up"
	head -c "$size" /dev/urandom >"$d/down"
	# The client (two subflows at most: the initial one and a join from
	# its second address) gives up its second address at 3 s, after the
	# rekey at 2 s: it then joins the listener's announced address from
	# its first one, under key id 1 (or 0 again after the rekey at 4 s).
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -l -N -v -v \
		"${MPT_SRV_TWO[@]}" --tls --tls-rekey 2 6304 \
		<"$d/down" >"$d/srv_got" 2>"$d/srv.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q 'listening' "$d/srv.err" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -N -v -v "${MPT_TWO[@]}" \
		--tls --tls-rekey 2 --max-subflows 2 --remove-path-after "$MP_B,3" \
		--pcap "$d/cli.pcap" "$MS_A" 6304 \
		<"$d/up" >"$d/cli_got" 2>"$d/cli.err"
	local crc=$?
	wait "$spid"
	local src=$?
	echo "  client exit $crc, server exit $src"
	local rc=0
	[ $crc = 0 ] && [ $src = 0 ] || rc=1
	same_file "client -> server" "$d/up" "$d/srv_got" || rc=1
	same_file "server -> client" "$d/down" "$d/cli_got" || rc=1
	local side f
	for side in cli srv; do
		f="$d/$side.err"
		echo "  $side: $(grep -o 'TLS 1.3 [A-Z0-9_]* established[^;]*; external key 0 installed' "$f" | head -1)," \
			"keys installed $(grep -c 'external key [0-9]* installed' "$f")," \
			"ExtKeyNewKeyRx $(mcounter "$f" ExtKeyNewKeyRx)" \
			"ExtKeyJoinRefused $(mcounter "$f" ExtKeyJoinRefused)" \
			"ExtKeyNewKeyAbandon $(mcounter "$f" ExtKeyNewKeyAbandon)" \
			"MPJoinAckRx $(mcounter "$f" MPJoinAckRx)"
		grep -q 'TLS 1.3 .*established; external key 0 installed' "$f" ||
			{ echo "  $side: no TLS-derived key 0"; rc=1; }
		grep -q 'external key 1 installed' "$f" || { echo "  $side: no rekey"; rc=1; }
		[ "$(mcounter "$f" ExtKeyNegotiated)" = 1 ] || rc=1
		[ "$(mcounter "$f" ExtKeyNewKeyRx)" -ge 2 ] || { echo "  $side: rekey not confirmed"; rc=1; }
		[ "$(mcounter "$f" ExtKeyJoinRefused)" = 0 ] || rc=1
		[ "$(mcounter "$f" ExtKeyNewKeyAbandon)" = 0 ] || rc=1
	done
	[ "$(mcounter "$d/srv.err" MPJoinAckRx)" -ge 2 ] || { echo "  fewer than two joins"; rc=1; }
	local kids
	kids=$(join_kids "$d/cli.pcap")
	echo "  key ids of the client's MP_JOIN SYNs, in order: $kids"
	echo "$kids" | awk '{ for (i = 1; i <= NF; i++) { if ($i == 0) z = 1; if ($i == 1 && z) ok = 1 } }
		END { exit !ok }' ||
		{ echo "  no join under key id 0 followed by one under key id 1"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/cli.err"; show_log "$d/srv.err"; }
	[ -n "${EXTKEY_KEEP_T:-}" ] && rm -f "$d/up" "$d/down" "$d/"*_got && cp -r "$d" "$EXTKEY_KEEP_T"
	return $rc
}
case_t
case_result "(t) TLS-derived keys, 32 MiB each way, rekey, a join under the new key id" $?

ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=0 >/dev/null

echo "-- (b) mpt cat --ext-key-file -> kernel MPTCP server"
case_b() {
	local d="$WORK/b"
	mkdir -p "$d"
	ksnap "$NS_S" "$d/k0"
	ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal || return 1
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" server \
		--keep-listening --port 6301 --send "$WORK/down" --recv-out "$d/srv_got" --ready "$d/ready" \
		2>"$d/peer.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || return 1
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -N -v -v "${MPT_TWO[@]}" \
		--ext-key-file "$WORK/key" "$SRV_A" 6301 <"$WORK/up" >"$d/cli_got" 2>"$d/cli.err"
	local crc=$?
	wait "$spid"
	local prc=$?
	ksnap "$NS_S" "$d/k1"
	ip -n "$NS_S" mptcp endpoint flush
	echo "  mpt exit $crc, kernel server exit $prc"
	kshow "$d/k0" "$d/k1"
	local rc=0
	[ $crc = 0 ] && [ $prc = 0 ] || rc=1
	same_file "mpt -> kernel" "$WORK/up" "$d/srv_got" || rc=1
	same_file "kernel -> mpt" "$WORK/down" "$d/cli_got" || rc=1
	[ "$(mcounter "$d/cli.err" ExtKeyNegotiated)" = 0 ] || { echo "  negotiated with the kernel?"; rc=1; }
	local syn synack joins
	syn=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableSYNRX)
	synack=$(mcounter "$d/cli.err" MPCapableSYNACKRX)
	joins=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinAckRx)
	echo "  kernel MPCapableSYNRX +$syn, MPJoinAckRx +$joins; mpt MPCapableSYNACKRX $synack," \
		"MPCapableFallbackSYNACK $(mcounter "$d/cli.err" MPCapableFallbackSYNACK)"
	[ "$syn" = 1 ] && [ "$synack" = 1 ] || { echo "  not MPTCP v1"; rc=1; }
	[ "$(mcounter "$d/cli.err" MPCapableFallbackSYNACK)" = 0 ] || rc=1
	[ "$joins" -ge 1 ] || { echo "  no join"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/cli.err"; show_log "$d/peer.err"; }
	return $rc
}
case_b
case_result "(b) mpt (external keys offered) -> kernel: RFC 8684 with a join, intact" $?

echo "-- (c) kernel MPTCP client -> mpt cat -l --ext-key-file"
case_c() {
	local d="$WORK/c"
	mkdir -p "$d"
	ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s subflow || return 1
	ip netns exec "$NS_C" timeout "$CASE_TIMEOUT" "$MPT_BIN" cat -l -N -v -v "${MPT_TWO[@]}" \
		--ext-key-file "$WORK/key" 6302 <"$WORK/down" >"$d/mpt_got" 2>"$d/mpt.err" &
	local mpid=$!
	INTEROP_PIDS+=("$mpid")
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q 'listening' "$d/mpt.err" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$NS_S" timeout "$CASE_TIMEOUT" mptcpize run python3 "$PEER" client \
		--host "$MP_A" --port 6302 --send "$WORK/up" --recv-out "$d/peer_got" --retry 5 \
		2>"$d/peer.err"
	local prc=$?
	wait "$mpid"
	local mrc=$?
	ip -n "$NS_S" mptcp endpoint flush
	echo "  kernel client exit $prc, mpt exit $mrc"
	local rc=0
	[ $mrc = 0 ] && [ $prc = 0 ] || rc=1
	same_file "kernel -> mpt" "$WORK/up" "$d/mpt_got" || rc=1
	same_file "mpt -> kernel" "$WORK/down" "$d/peer_got" || rc=1
	echo "  mpt: ExtKeyNegotiated $(mcounter "$d/mpt.err" ExtKeyNegotiated)" \
		"MPCapableACKRX $(mcounter "$d/mpt.err" MPCapableACKRX)" \
		"MPJoinAckRx $(mcounter "$d/mpt.err" MPJoinAckRx)"
	[ "$(mcounter "$d/mpt.err" ExtKeyNegotiated)" = 0 ] || rc=1
	[ "$(mcounter "$d/mpt.err" MPCapableACKRX)" -ge 1 ] || { echo "  not MPTCP"; rc=1; }
	[ "$(mcounter "$d/mpt.err" MPJoinAckRx)" -ge 1 ] || { echo "  the kernel's join did not complete"; rc=1; }
	[ $rc = 0 ] || { show_log "$d/mpt.err"; show_log "$d/peer.err"; }
	return $rc
}
case_c
case_result "(c) kernel -> mpt (external keys offered): RFC 8684 with a join, intact" $?

echo "-- (d) mpt cat --ext-keys require -> kernel MPTCP server: refused"
case_d() {
	local d="$WORK/d"
	mkdir -p "$d"
	ip netns exec "$NS_S" timeout 15 mptcpize run python3 "$PEER" server \
		--port 6303 --send "$WORK/down" --recv-out "$d/srv_got" --ready "$d/ready" \
		2>"$d/peer.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || return 1
	ip netns exec "$NS_C" timeout 15 "$MPT_BIN" cat -N -v -v "${MPT_TWO[@]}" --ext-keys require \
		--ext-key-file "$WORK/key" "$SRV_A" 6303 <"$WORK/up" >"$d/cli_got" 2>"$d/cli.err"
	local crc=$?
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	local got
	got=$(stat -c %s "$d/cli_got" 2>/dev/null || echo 0)
	echo "  mpt exit $crc, received $got B, ExtKeyRefused $(mcounter "$d/cli.err" ExtKeyRefused)"
	local rc=0
	[ $crc != 0 ] && [ $crc != 124 ] || { echo "  mpt did not fail at once"; rc=1; }
	[ "$got" = 0 ] || rc=1
	[ "$(mcounter "$d/cli.err" ExtKeyRefused)" -ge 1 ] || rc=1
	[ $rc = 0 ] || show_log "$d/cli.err"
	return $rc
}
case_d
case_result "(d) external keys required, kernel peer: refused, counted" $?

[ "$FAILED" = 0 ] || die "$FAILED case(s) failed: $FAILED_CASES"
echo "PASS: $TEST_NAME"
