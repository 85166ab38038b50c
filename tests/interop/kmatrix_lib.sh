# SPDX-License-Identifier: Apache-2.0
# The differential interop matrix against the Linux kernel (issue 10):
# topologies, the case runner and the checks shared by
# tests/interop/kmatrix_test.sh (a deterministic sample, CI),
# tests/interop/kregress_test.sh (the numbered bugs' regression cases) and
# bench/kmatrix.sh (the whole table, report in docs/kmatrix.md).
# Sourced after lib.sh.  The kernel side is kpeer.py (kernel sockets only).
#
# Each case writes one line to $KM_RESULTS:
#   id verdict seconds(mpt) seconds(kernel) class details...
# verdict: pass | FAIL; class: what went wrong (see km_classify).

KPEER="$INTEROP_DIR/kpeer.py"
# The interpreter itself, resolved once (a pyenv-style shim costs a shell
# script per call, and the runner calls Python a few times per case).
KM_PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)
KM_TABLE=${KM_TABLE:-$INTEROP_DIR/kmatrix_cases.tsv}
KM_PORT=${KM_PORT:-20000}
MIB=1048576

# Whether the mpt under test was built with AddressSanitizer (slower).
km_is_asan() {
	ldd "$MPT_BIN" 2>/dev/null | grep -q libasan || grep -qa "__asan_init" "$MPT_BIN"
}

km_require() {
	interop_require
	local t
	for t in nstat ss sha256sum dd; do
		command -v "$t" >/dev/null || skip "$t is not installed"
	done
	[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] ||
		skip "the kernel has no MPTCP (net.mptcp.enabled)"
	"$KM_PY" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262).close()' \
		2>/dev/null || skip "IPPROTO_MPTCP sockets are not available"
}

km_ns() { # km_ns NAME: a fresh namespace, registered for cleanup
	ip netns add "$1" || die "ip netns add $1"
	INTEROP_NS+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.mptcp.enabled=1 \
		net.mptcp.blackhole_timeout=0 >/dev/null 2>&1 ||
		ip netns exec "$1" sysctl -qw net.mptcp.enabled=1 >/dev/null ||
		die "cannot enable MPTCP in $1"
	ip netns exec "$1" sysctl -qw net.mptcp.blackhole_timeout=0 >/dev/null 2>&1
	ip -n "$1" mptcp limits set subflow 8 add_addr_accepted 8 || die "ip mptcp limits in $1"
}

km_work() {
	[ -n "$WORK" ] && return
	WORK=$(mktemp -d /tmp/mpt-kmatrix.XXXXXX)
	trap interop_cleanup EXIT
	KM_RESULTS=${KM_RESULTS:-$WORK/results.txt}
	: >"$KM_RESULTS"
}

# ---- topology 1: mpt cat <-> kernel over 4 paths --------------------------
# $KM_C (mpt, its TUNs mpttun0..3, forwards) and $KM_S (the kernel peer),
# joined by 4 veth pairs; path i (1..4), n = 77 + i:
#   $KM_C mpt-kc$i 10.n.0.1/24 fdn::1/64  <->  $KM_S mpt-ks$i 10.n.0.2/24 fdn::2/64
#   mpt's address on path i: 10.n.1.1 / fdn:1::1 (TUN mpttun$((i-1)))
# $KM_C routes by source (whatever an mpt address sends leaves on its own
# path); $KM_S routes mpt's addresses of path i over path i.  So a subflow's
# path is the one of its mpt address, in both directions.
km_topo_cat() {
	km_work
	KM_C="mpt-kmc-$$"
	KM_S="mpt-kms-$$"
	km_ns "$KM_C"
	km_ns "$KM_S"
	ip netns exec "$KM_C" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
	local i n
	for i in 1 2 3 4; do
		n=$((77 + i))
		ip link add "mpt-kc$i" netns "$KM_C" type veth peer name "mpt-ks$i" netns "$KM_S" ||
			die "cannot create veth pair $i"
		ip -n "$KM_C" addr add "10.$n.0.1/24" dev "mpt-kc$i"
		ip -n "$KM_S" addr add "10.$n.0.2/24" dev "mpt-ks$i"
		ip -n "$KM_C" addr add "fd$n::1/64" dev "mpt-kc$i" nodad
		ip -n "$KM_S" addr add "fd$n::2/64" dev "mpt-ks$i" nodad
		ip netns exec "$KM_C" sysctl -qw "net.ipv4.conf.mpt-kc$i.rp_filter=0" >/dev/null
		ip netns exec "$KM_S" sysctl -qw "net.ipv4.conf.mpt-ks$i.rp_filter=0" >/dev/null
		ip -n "$KM_C" link set "mpt-kc$i" up
		ip -n "$KM_S" link set "mpt-ks$i" up
		ip -n "$KM_S" route add "10.$n.1.0/24" via "10.$n.0.1"
		ip -n "$KM_S" -6 route add "fd$n:1::/64" via "fd$n::1"
		ip -n "$KM_C" route add default via "10.$n.0.2" dev "mpt-kc$i" table "10$i"
		ip -n "$KM_C" rule add from "10.$n.1.0/24" table "10$i" pref "10$i"
		ip -n "$KM_C" -6 route add default via "fd$n::2" dev "mpt-kc$i" table "10$i"
		ip -n "$KM_C" -6 rule add from "fd$n:1::/64" table "10$i" pref "10$i"
	done
}

# mpt's --path list for NPATHS paths of family FAM with emulation EMU
# (none | dNN | lNN | dNNlNN: delay ms, loss %): sets KM_PATHS.
km_paths() {
	local fam=$1 np=$2 emu=$3 i n extra=""
	local delay loss
	delay=$(printf '%s' "$emu" | sed -n 's/^d\([0-9]*\).*/\1/p')
	loss=$(printf '%s' "$emu" | sed -n 's/.*l\([0-9.]*\)$/\1/p')
	[ -n "$delay" ] && extra+=",delay=$delay"
	[ -n "$loss" ] && extra+=",loss=$loss"
	KM_PATHS=()
	for ((i = 1; i <= np; i++)); do
		n=$((77 + i))
		if [ "$fam" = 6 ]; then
			KM_PATHS+=(--path "fd$n:1::1/64,dev=mpttun$((i - 1))$extra")
		else
			KM_PATHS+=(--path "10.$n.1.1/24,dev=mpttun$((i - 1))$extra")
		fi
	done
}

# ---- case bookkeeping --------------------------------------------------------
km_ts() { date +%s.%N; }
km_secs() { "$KM_PY" -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
km_size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

# Payload files, one per (direction, size), made once per run.
km_data() { # km_data up|down SIZE -> path
	local f="$WORK/data/$1_$2"
	if [ ! -e "$f" ]; then
		mkdir -p "$WORK/data"
		head -c "$2" /dev/urandom >"$f.tmp" && mv "$f.tmp" "$f"
		sha256sum "$f" | cut -d' ' -f1 >"$f.sha"
	fi
	echo "$f"
}

# A JSON field of kpeer's result file.
km_json() { # km_json FILE KEY [DEFAULT]
	"$KM_PY" -c "
import json, sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2], sys.argv[3])
except Exception:
    v = sys.argv[3]
print(' | '.join(v) if isinstance(v, list) else v)" "$1" "$2" "${3:-}"
}

# Liveness bound (seconds) of a case: a generous multiple of what it should
# take here (on a loaded 2-core machine), to tell a stall from slowness.
# km_bound SIZE_TOTAL_BYTES READER EMU STDOUT PATHS
km_bound() {
	"$KM_PY" - "$@" <<'PY'
import sys
total, reader, emu, stdout = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
mode = sys.argv[6] if len(sys.argv) > 6 else "bound"
mib = total / 1048576.0
per = 0.25                         # s per MiB, prompt, no emulation
if reader == "slow": per = 1.0     # 4 KiB per >= 1 ms
if reader == "paused": per = 0.5   # + 200 ms per MiB
# Emulated loss and delay (RTT 2 x delay): TCP's rate goes as
# MSS / RTT / sqrt(loss) (Mathis et al.): 2 % loss at 40 ms RTT is
# ~0.3 MB/s, 1 % at ~1 ms ~2 MB/s.
rates = {"none": None, "d10": 4.0, "l1": 1.5, "d20l2": 0.25}
r = rates.get(emu)
if r: per = max(per, 1.0 / r)
elif emu != "none" and "l" in emu: per = max(per, 4.0)
slowpipe = 1 if stdout == "slow" else 0
if mode == "estimate":
    print(int(3 + slowpipe + per * mib))
else:
    print(int(20 + slowpipe + 3 * per * mib))
PY
}

# Wait (max 5 s) until the namespace has no MPTCP/TCP socket of PORT left
# other than TIME-WAIT, so that the next case's counters are its own.
km_settle() { # km_settle NS PORT
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$1" ss -Htan "( sport = :$2 or dport = :$2 )" 2>/dev/null |
			grep -qv TIME-WAIT || return 0
		sleep 0.1
	done
	return 0
}

# Counters that must not move in a healthy case, whatever its shape.
KM_BAD_COUNTERS="MPTcpExtMPCapableFallbackACK MPTcpExtMPCapableFallbackSYNACK
MPTcpExtMPFallbackTokenInit MPTcpExtDSSCorruptionFallback MPTcpExtDSSCorruptionReset
MPTcpExtInfiniteMapRx MPTcpExtInfiniteMapTx MPTcpExtDssFallback MPTcpExtMPCapableDataFallback
MPTcpExtFallbackFailed MPTcpExtSimultConnectFallback MPTcpExtDataCsumErr MPTcpExtDSSNotMatching
MPTcpExtMPRstTx MPTcpExtMPRstRx MPTcpExtMPFailTx MPTcpExtMPFailRx MPTcpExtMPFastcloseTx
MPTcpExtMPFastcloseRx MPTcpExtMPJoinRejected MPTcpExtMPJoinSynAckHMacFailure
MPTcpExtMPJoinAckHMacFailure MPTcpExtMPJoinNoTokenFound MPTcpExtAddAddrDrop MPTcpExtRmAddrDrop"

# A kernel client that half-closes at once (< 100 ms after the handshake: it
# has nothing to send) leaves ESTABLISHED while its own join is in its
# handshake; when the join's SYN/ACK arrives Linux refuses to complete it
# (the connection no longer accepts subflows) and resets it with MP_TCPRST
# (MPRstTx) before counting the SYN/ACK (MPJoinSynAckRx).  That is the
# client's decision about its own join, not something the peer did: prints
# MPTcpExtMPRstTx (the counter to tolerate) when the client half-closed at
# once and every MP_TCPRST it sent can be such a join (no more resets than
# joins it started and never completed), and nothing otherwise.  A reset of
# the initial subflow, or of a join that had completed, still fails.
km_join_resets_own() { # km_join_resets_own BEFORE AFTER KPEER_JSON
	local rst syn ack
	rst=$(kdelta "$1" "$2" MPTcpExtMPRstTx)
	[ "$rst" -gt 0 ] || return 0
	"$KM_PY" -c "
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r.get('t_shut', 1e18) - r.get('t_established', 0) < 0.1 else 1)" "$3" 2>/dev/null ||
		return 0
	syn=$(kdelta "$1" "$2" MPTcpExtMPJoinSynTx)
	ack=$(kdelta "$1" "$2" MPTcpExtMPJoinSynAckRx)
	[ "$rst" -le $((syn - ack)) ] && echo MPTcpExtMPRstTx
	return 0
}

# km_counters_check BEFORE AFTER: prints the bad counters that moved.
km_counters_bad() {
	local c v out=""
	for c in $KM_BAD_COUNTERS; do
		v=$(kdelta "$1" "$2" "$c")
		[ "$v" != 0 ] && out+="${c#MPTcpExt}+$v "
	done
	printf '%s' "$out"
}

# What went wrong with one direction: ok | lost | extra | corrupt | missing.
# km_dir_class WANT_FILE GOT_SIZE GOT_SHA
km_dir_class() {
	local want=$1 gsize=$2 gsha=$3 wsize wsha
	wsize=$(km_size_of "$want")
	wsha=$(cat "$want.sha")
	if [ "$gsha" = "$wsha" ] && [ "$gsize" = "$wsize" ]; then
		echo ok
	elif [ -z "$gsha" ] || [ "$gsha" = missing ]; then
		echo "missing(0/$wsize)"
	elif [ "$gsize" -lt "$wsize" ]; then
		echo "short($gsize/$wsize)"
	elif [ "$gsize" -gt "$wsize" ]; then
		echo "extra($gsize/$wsize)"
	else
		echo "corrupt($gsize/$wsize)"
	fi
}

# Record one case: km_record ID VERDICT MPT_S KERNEL_S CLASS DETAILS
# Known failures, "ID:reason" per line (MPT_KMATRIX_KNOWN overrides): such a
# row prints XFAIL (or XPASS once it passes) and does not fail the run; each
# is a bug under investigation (the reason says what is known).
KM_KNOWN=${MPT_KMATRIX_KNOWN-""}
km_known() { printf '%s\n' "$KM_KNOWN" | awk -F: -v id="$1" '$1 == id { sub(/^[^:]*:/, ""); print; exit }'; }
# Known failures of one exact class only, "ID|CLASS|reason" per line: the row
# is XFAIL when its failure class is exactly CLASS (everything else checked
# passed: data intact, both ends finished in time, joins); any other failure
# of the row still fails the run.
KM_KNOWN_SIG=${MPT_KMATRIX_KNOWN_SIG-""}
km_known_sig() {
	printf '%s\n' "$KM_KNOWN_SIG" | awk -F'|' -v id="$1" -v cls="$2" \
		'$1 == id && $2 == cls { print $3; exit }'
}

km_record() {
	local known
	known=$(km_known "$1")
	[ -z "$known" ] && [ "$2" != pass ] && known=$(km_known_sig "$1" "$(echo "$5" | xargs)")
	if [ "$2" = pass ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$KM_RESULTS"
		if [ -n "$known" ]; then
			echo "XPASS $TEST_NAME: $1 ($KM_DESC) mpt ${3}s kernel ${4}s (listed as known: $known)"
		else
			echo "ok   $TEST_NAME: $1 ($KM_DESC) mpt ${3}s kernel ${4}s"
		fi
	elif [ -n "$known" ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "pass" "$3" "$4" "xfail:$5" "$6" >>"$KM_RESULTS"
		echo "XFAIL $TEST_NAME: $1 ($KM_DESC) mpt ${3}s kernel ${4}s: $5 $6 (known: $known)"
	else
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$KM_RESULTS"
		echo "FAIL $TEST_NAME: $1 ($KM_DESC) mpt ${3}s kernel ${4}s: $5 $6"
		FAILED=$((FAILED + 1))
	fi
}

# ---- a cat case ---------------------------------------------------------------
# km_cat ID MROLE FAM PATHS DIR SIZE KREADER KWRITER CLOSE STDOUT CSUM EMU
# Extra knobs (environment): KM_KEXTRA (more kpeer args), KM_MEXTRA (more
# mpt args), KM_PCAP_DIR (mpt's capture per case), KM_DURING (a command run
# in the background once mpt started), KM_EXPECT_JOINS (1: joins required,
# 0: not, default: when >= 2 paths and >= 1 MiB moves).
km_cat() {
	local id=$1 mrole=$2 fam=$3 np=$4 dir=$5 size=$6 kreader=$7 kwriter=$8 close=$9
	local stdout=${10} csum=${11} emu=${12}
	local d="$WORK/$id" port=$((KM_PORT + 10#${id//[!0-9]/} % 20000))
	[ -n "${KM_PORTOFF:-}" ] && port=$((port + KM_PORTOFF))
	rm -rf "$d"
	mkdir -p "$d"
	KM_DESC="cat mpt-$mrole v$fam ${np}p $dir $size kread=$kreader kwrite=$kwriter close=$close stdout=$stdout csum=$csum emu=$emu"
	local upsz=0 downsz=0
	[ "$dir" != down ] && upsz=$size
	[ "$dir" != up ] && downsz=$size
	local up down
	up=$(km_data up "$upsz")
	down=$(km_data down "$downsz")
	local bound=${KM_BOUND:-}
	[ -n "$bound" ] || bound=$(km_bound $((upsz + downsz)) "$kreader" "$emu" "$stdout" "$np")
	# Kernel side.
	local kc=0
	[ "$csum" = kernel ] || [ "$csum" = both ] && kc=1
	ip netns exec "$KM_S" sysctl -qw "net.mptcp.checksum_enabled=$kc" >/dev/null
	local kclose=now mN=(-N)
	[ "$close" = mpt ] && kclose=eof
	[ "$close" = kernel ] && mN=()
	local kargs=(--family "$fam" --port "$port" --reader "$kreader" --writer "$kwriter"
		--close "$kclose" --send "$down" --result "$d/k.json" --timeout "$bound"
		${KM_KEXTRA:-})
	# mpt side.
	km_paths "$fam" "$np" "$emu"
	# KM_PATHS_OVERRIDE: mpt's --path values (space-separated) instead.
	if [ -n "${KM_PATHS_OVERRIDE:-}" ]; then
		local pth
		KM_PATHS=()
		for pth in $KM_PATHS_OVERRIDE; do KM_PATHS+=(--path "$pth"); done
	fi
	local margs=(-v "${mN[@]}" "${KM_PATHS[@]}" --seed "$((10#${id//[!0-9]/} + 1))" ${KM_MEXTRA:-})
	# KM_PCAP_DIR: mpt writes its packets to DIR/ID.pcap (one file per case).
	[ -n "${KM_PCAP_DIR:-}" ] && mkdir -p "$KM_PCAP_DIR" && margs+=(--pcap "$KM_PCAP_DIR/$id.pcap")
	[ "$csum" = mpt ] || [ "$csum" = both ] && margs+=(--checksum)
	local sink="" # stdout=file: none
	case $stdout in
	pipe) sink="cat" ;;
	slow) sink="sleep 1; exec dd bs=4096 status=none" ;;
	esac
	local srv_addr=10.78.0.2 mpt_addr=10.78.1.1
	[ "$fam" = 6 ] && srv_addr=fd78::2 mpt_addr=fd78:1::1
	ksnap "$KM_S" "$d/k0"
	local t0 kpid mpid
	t0=$(km_ts)
	# mpt, stdin the upload file, stdout by $stdout; its exit status and
	# end time in $d/mpt.rc (not the pipeline's).
	local mcmd
	if [ "$mrole" = client ]; then
		ip netns exec "$KM_S" timeout "$((bound + 5))" "$KM_PY" "$KPEER" server "${kargs[@]}" \
			--ready "$d/ready" 2>"$d/k.err" &
		kpid=$!
		INTEROP_PIDS+=("$kpid")
		wait_file "$d/ready" 10 || { echo "  kernel server did not start"; show_log "$d/k.err"; }
		t0=$(km_ts)
		mcmd=(cat "${margs[@]}" "$srv_addr" "$port")
	else
		mcmd=(cat -l "${margs[@]}" "$port")
	fi
	if [ "$stdout" = file ]; then
		{ ip netns exec "$KM_C" timeout "$bound" "$MPT_BIN" "${mcmd[@]}" <"$up" >"$d/m.out" \
			2>"$d/m.err"; echo "$? $(km_ts)" >"$d/mpt.rc"; } &
	else
		{ { ip netns exec "$KM_C" timeout "$bound" "$MPT_BIN" "${mcmd[@]}" <"$up" 2>"$d/m.err"
			echo "$? $(km_ts)" >"$d/mpt.rc"; } | timeout "$((bound + 5))" sh -c "$sink" >"$d/m.out"; } &
	fi
	mpid=$!
	INTEROP_PIDS+=("$mpid")
	if [ "$mrole" = server ]; then
		local i
		for ((i = 1; i <= np; i++)); do
			wait_route "$KM_C" "$([ "$fam" = 6 ] && echo "fd$((77 + i)):1::1" || echo "10.$((77 + i)).1.1")" \
				"mpttun$((i - 1))" 10 || echo "  mpt's TUN mpttun$((i - 1)) did not come up"
		done
		ip netns exec "$KM_S" timeout "$((bound + 5))" "$KM_PY" "$KPEER" client "${kargs[@]}" \
			--host "$mpt_addr" --retry 5 2>"$d/k.err" &
		kpid=$!
		INTEROP_PIDS+=("$kpid")
	fi
	local dpid=""
	if [ -n "${KM_DURING:-}" ]; then
		D="$d" bash -c "$KM_DURING" >"$d/during.log" 2>&1 &
		dpid=$!
		INTEROP_PIDS+=("$dpid")
	fi
	# The kernel's view while the transfer runs (subflows, ss -M).
	( sleep 1; ip netns exec "$KM_S" ss -Mni >"$d/ss.txt" 2>&1 ) &
	local spid=$!
	wait "$kpid"
	local krc=$?
	wait "$mpid"
	[ -n "$dpid" ] && wait "$dpid"
	wait "$spid" 2>/dev/null
	km_settle "$KM_S" "$port"
	ksnap "$KM_S" "$d/k1"
	local mrc mend
	read -r mrc mend <"$d/mpt.rc" 2>/dev/null || { mrc=999; mend=$(km_ts); }
	local kend
	kend=$(km_json "$d/k.json" t_end "$(km_ts)")
	KM_T0=$t0 KM_MEND=$mend KM_KEND=$kend
	# Checks.
	local cls="" det=""
	local kgot ksha mgot msha
	kgot=$(km_json "$d/k.json" received 0)
	ksha=$(km_json "$d/k.json" recv_sha256 missing)
	mgot=$(km_size_of "$d/m.out")
	msha=$(sha "$d/m.out")
	local c_up c_down
	c_up=$(km_dir_class "$up" "$kgot" "$ksha")
	c_down=$(km_dir_class "$down" "$mgot" "$msha")
	[ "$c_up" = ok ] || cls+="mpt->kernel:$c_up "
	[ "$c_down" = ok ] || cls+="kernel->mpt:$c_down "
	if [ "$mrc" = 124 ]; then
		cls+="mpt:stuck(timeout ${bound}s) "
	elif [ "$mrc" != 0 ]; then
		cls+="mpt:exit$mrc "
	fi
	if [ "$krc" = 124 ]; then
		cls+="kernel:stuck(timeout) "
	elif [ "$krc" != 0 ]; then
		cls+="kernel:exit$krc "
		det+="kpeer: $(km_json "$d/k.json" errors) "
	fi
	# Joins, when the connection lives long enough for them.
	# Linux accepts a join only while its MPTCP socket is ESTABLISHED
	# (neither a DATA_FIN received nor its application's shutdown), and its
	# own path manager opens none once it sent its DATA_FIN.  So joins are
	# required with >= 2 paths and >= 1 MiB only when both ends keep their
	# sending side open for a while: mpt has data to send (or waits for the
	# kernel's FIN), and the kernel application half-closes >= 100 ms after
	# the connection started.
	local want_joins=${KM_EXPECT_JOINS:-}
	if [ -z "$want_joins" ]; then
		want_joins=0
		[ "$np" -ge 2 ] && [ $((upsz + downsz)) -ge $MIB ] && want_joins=1
		[ "$upsz" = 0 ] && [ "$close" != kernel ] && want_joins=0
		"$KM_PY" -c "
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r.get('t_shut', 1e18) - r.get('t_established', 0) >= 0.1 else 1)" "$d/k.json" 2>/dev/null ||
			want_joins=0
		# With emulated loss a join's SYN, SYN/ACK or third ACK can be
		# lost, and is sent again only after the initial RTO of 1 s
		# (RFC 6298 §2.1; Linux's too): a transfer over in less than
		# 1.5 s may end before any join could complete (kmatrix c085:
		# the seeded loss drops the join's SYN/ACK every run).
		case $emu in *l*)
			"$KM_PY" -c "import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) >= 1.5 else 1)" \
				"$t0" "$mend" || { want_joins=0; det+="joins-not-required(loss,<1.5s) "; } ;;
		esac
	fi
	# Otherwise a join may arrive after the kernel left ESTABLISHED: it
	# refuses it (MPJoinRejected; RFC 8684 §3.2 leaves that to the peer).
	# Tolerated only there, once per extra path (a retry is a failure), and
	# noted in the details.
	local skip_c="" rej
	rej=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinRejected)
	if [ "$want_joins" = 0 ] && [ "$rej" -gt 0 ] && [ "$rej" -le $((np - 1)) ]; then
		skip_c=MPTcpExtMPJoinRejected
		det+="join-refused-closing+$rej "
	fi
	# mpt is the server: the kernel client may reset its own join (above).
	local own=""
	[ "$mrole" = server ] && own=$(km_join_resets_own "$d/k0" "$d/k1" "$d/k.json")
	[ -n "$own" ] && det+="own-join-reset-by-closing-client+$(kdelta "$d/k0" "$d/k1" MPTcpExtMPRstTx) "
	local bad
	bad=$(KM_BAD_COUNTERS=$(printf '%s\n' $KM_BAD_COUNTERS | grep -vx "${skip_c:-none}" |
		grep -vx "${own:-none}") km_counters_bad "$d/k0" "$d/k1")
	[ -n "$bad" ] && cls+="counters:$bad"
	# MPTCP really used: the kernel counted MP_CAPABLE and mpt says MPTCP.
	local mpc
	if [ "$mrole" = client ]; then
		mpc=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableSYNRX)
	else
		mpc=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPCapableSYNACKRX)
	fi
	[ "$mpc" -ge 1 ] || cls+="no-MP_CAPABLE "
	[ "$mrole" = client ] && { grep -q "(MPTCP)" "$d/m.err" || cls+="mpt-not-MPTCP "; }
	[ "$(km_json "$d/k.json" mptcp_fallback False)" = False ] || cls+="kernel-fallback "
	local js ja aa
	if [ "$mrole" = client ]; then
		js=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynRx)
		ja=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinAckRx)
		det+="joins syn+$js ack+$ja "
		[ "$want_joins" = 1 ] && { [ "$js" -ge 1 ] && [ "$ja" -ge 1 ] || cls+="no-join-accepted "; }
	else
		aa=$(kdelta "$d/k0" "$d/k1" MPTcpExtAddAddr)
		ja=$(kdelta "$d/k0" "$d/k1" MPTcpExtMPJoinSynAckRx)
		det+="add_addr+$aa join-synack+$ja "
		[ "$want_joins" = 1 ] && { [ "$aa" -ge 1 ] || cls+="no-ADD_ADDR "; }
		[ "$want_joins" = 1 ] && { [ "$ja" -ge 1 ] || cls+="no-join-accepted "; }
	fi
	local ms ks
	ms=$(km_secs "$t0" "$mend")
	ks=$(km_secs "$t0" "$kend")
	"$KM_PY" -c "import sys; sys.exit(0 if max(float(sys.argv[1]), float(sys.argv[2])) <= float(sys.argv[3]) else 1)" \
		"$ms" "$ks" "$bound" || cls+="over-bound(${bound}s) "
	# KM_MAX_EXIT_LAG: mpt must exit within this many seconds of the kernel.
	if [ -n "${KM_MAX_EXIT_LAG:-}" ]; then
		local lag
		lag=$(km_secs "$kend" "$mend")
		det+="exit lag ${lag}s "
		"$KM_PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)" \
			"$lag" "$KM_MAX_EXIT_LAG" || cls+="mpt-exit-lag(${lag}s>${KM_MAX_EXIT_LAG}s) "
	fi
	det+="bound ${bound}s sf_max $(km_json "$d/k.json" mptcp_subflows_max '?')"
	if [ -z "$cls" ]; then
		km_record "$id" pass "$ms" "$ks" "-" "$det"
	else
		km_record "$id" FAIL "$ms" "$ks" "$cls" "$det"
		[ "${KM_VERBOSE:-1}" = 1 ] && { show_log "$d/m.err"; show_log "$d/k.err"; kshow "$d/k0" "$d/k1"; }
	fi
	[ -z "$cls" ]
}

# ---- topology 2: kernel TCP client -> mpt proxy -> 2 paths -> mpt convert
# -> kernel TCP server (lib.sh's topo_proxy_paths, without shaping unless
# KM_RELAY_RATE is set):
#   $KM_P mpt-rp{1,2}p 10.7{8,9}.0.1 (client, proxy: 10.7{8,9}.1.1 on mpttun0/1)
#   $KM_V mpt-rp{1,2}v 10.7{8,9}.0.2 (convert: 10.7{8,9}.2.1; servers on 10.90.0.1)
km_topo_relay() {
	km_work
	KM_P="mpt-kmp-$$"
	KM_V="mpt-kmv-$$"
	km_ns "$KM_P"
	km_ns "$KM_V"
	local i n ns
	for ns in "$KM_P" "$KM_V"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	done
	ip -n "$KM_V" addr add 10.90.0.1/32 dev lo
	for i in 1 2; do
		n=$((77 + i))
		ip link add "mpt-rp${i}p" netns "$KM_P" type veth peer name "mpt-rp${i}v" netns "$KM_V" ||
			die "cannot create veth pair $i"
		ip -n "$KM_P" addr add "10.$n.0.1/24" dev "mpt-rp${i}p"
		ip -n "$KM_V" addr add "10.$n.0.2/24" dev "mpt-rp${i}v"
		ip netns exec "$KM_P" sysctl -qw "net.ipv4.conf.mpt-rp${i}p.rp_filter=0" >/dev/null
		ip netns exec "$KM_V" sysctl -qw "net.ipv4.conf.mpt-rp${i}v.rp_filter=0" >/dev/null
		ip -n "$KM_P" link set "mpt-rp${i}p" up
		ip -n "$KM_V" link set "mpt-rp${i}v" up
		ip -n "$KM_P" route add "10.$n.2.0/24" via "10.$n.0.2"
		ip -n "$KM_V" route add "10.$n.1.0/24" via "10.$n.0.1"
		ip -n "$KM_P" route add default via "10.$n.0.2" dev "mpt-rp${i}p" table "10$i"
		ip -n "$KM_P" rule add from "10.$n.1.0/24" table "10$i" pref "10$i"
		ip -n "$KM_V" route add default via "10.$n.0.1" dev "mpt-rp${i}v" table "10$i"
		ip -n "$KM_V" rule add from "10.$n.2.0/24" table "10$i" pref "10$i"
		if [ -n "${KM_RELAY_RATE:-}" ]; then
			ip netns exec "$KM_P" tc qdisc add dev "mpt-rp${i}p" root tbf rate "$KM_RELAY_RATE" \
				burst 64kb latency 20ms || die "tbf failed"
			ip netns exec "$KM_V" tc qdisc add dev "mpt-rp${i}v" root tbf rate "$KM_RELAY_RATE" \
				burst 64kb latency 20ms || die "tbf failed"
		fi
	done
}

# ---- topology 3: kernel MPTCP client (2 paths) -> box (mpt onpath) -> server
# (as onpath_test.sh):
#   $KM_OC mpt-oc{1,2} 10.60.{1,2}.2 <-> $KM_OB mpt-ob{1,2} 10.60.{1,2}.1
#   $KM_OB mpt-obs 10.61.0.1 <-> $KM_OS mpt-os 10.61.0.2
# Everything the box forwards goes through mpt onpath's TUN (table 200).
km_topo_onpath() {
	km_work
	KM_OC="mpt-kmoc-$$"
	KM_OB="mpt-kmob-$$"
	KM_OS="mpt-kmos-$$"
	local ns i
	for ns in "$KM_OC" "$KM_OB" "$KM_OS"; do
		km_ns "$ns"
	done
	ip netns exec "$KM_OB" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	for i in 1 2; do
		ip link add "mpt-oc$i" netns "$KM_OC" type veth peer name "mpt-ob$i" netns "$KM_OB" ||
			die "veth $i"
		ip -n "$KM_OC" addr add "10.60.$i.2/24" dev "mpt-oc$i"
		ip -n "$KM_OB" addr add "10.60.$i.1/24" dev "mpt-ob$i"
		ip -n "$KM_OC" link set "mpt-oc$i" up
		ip -n "$KM_OB" link set "mpt-ob$i" up
		ip netns exec "$KM_OB" sysctl -qw "net.ipv4.conf.mpt-ob$i.rp_filter=0" >/dev/null
	done
	ip link add mpt-obs netns "$KM_OB" type veth peer name mpt-os netns "$KM_OS" || die "veth s"
	ip -n "$KM_OB" addr add 10.61.0.1/24 dev mpt-obs
	ip -n "$KM_OS" addr add 10.61.0.2/24 dev mpt-os
	ip -n "$KM_OB" link set mpt-obs up
	ip -n "$KM_OS" link set mpt-os up
	ip netns exec "$KM_OB" sysctl -qw net.ipv4.conf.mpt-obs.rp_filter=0 >/dev/null
	ip -n "$KM_OS" route add default via 10.61.0.1
	ip -n "$KM_OC" route add default via 10.60.1.1 dev mpt-oc1
	ip -n "$KM_OC" route add default via 10.60.2.1 dev mpt-oc2 table 102
	ip -n "$KM_OC" rule add from 10.60.2.2 table 102 pref 102
	ip -n "$KM_OC" mptcp endpoint add 10.60.2.2 dev mpt-oc2 subflow
	for dev in mpt-ob1 mpt-ob2 mpt-obs; do
		ip -n "$KM_OB" rule add iif "$dev" table 200 pref 200
	done
}

# Stop a long-running mpt tool of a case (TERM, then KILL after 5 s).
km_stop() { # km_stop PID
	kill -TERM "$1" 2>/dev/null || return 0
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ---- a relay case -------------------------------------------------------------
# km_relay ID KIND(proxy|onpath-conv|onpath-pass) DIR SIZE KREADER KWRITER CLOSE EMU
# Both ends are kpeer.py (same reader/writer behaviour at both ends); close:
# client | server | both (who half-closes first).
km_relay() {
	local id=$1 kind=$2 dir=$3 size=$4 kreader=$5 kwriter=$6 close=$7 emu=$8
	local d="$WORK/$id" port=$((KM_PORT + 10#${id//[!0-9]/} % 20000 + 1000))
	rm -rf "$d"
	mkdir -p "$d"
	KM_DESC="$kind $dir $size kread=$kreader kwrite=$kwriter close=$close emu=$emu"
	local upsz=0 downsz=0
	[ "$dir" != down ] && upsz=$size
	[ "$dir" != up ] && downsz=$size
	local up down bound=${KM_BOUND:-}
	up=$(km_data up "$upsz")
	down=$(km_data down "$downsz")
	[ -n "$bound" ] || bound=$(km_bound $((upsz + downsz)) "$kreader" "$emu" file 2)
	local cclose=now sclose=now
	[ "$close" = client ] && sclose=eof
	[ "$close" = server ] && cclose=eof
	local common=(--port "$port" --reader "$kreader" --writer "$kwriter" --timeout "$bound")
	local tool_pids=() cns sns caddr sproto=tcp cproto=tcp logs=()
	# KM_KEEP_RECV=1: both ends keep what they received ($d/{c,s}.recv),
	# to locate a corruption (compare with cmp against the sent file).
	local crecv=() srecv=()
	if [ "${KM_KEEP_RECV:-0}" = 1 ]; then
		crecv=(--recv-out "$d/c.recv")
		srecv=(--recv-out "$d/s.recv")
	fi
	if [ "$kind" = proxy ]; then
		cns=$KM_P sns=$KM_V caddr=10.90.0.1
		km_paths 4 2 "$emu"
		# No `timeout` around the relays: SIGUSR1 (counters) must reach mpt
		# itself; km_stop ends them (and interop_cleanup on the way out).
		ip netns exec "$KM_V" "$MPT_BIN" convert --msl 1 \
			--path 10.78.2.1/24,dev=mpttun0 --path 10.79.2.1/24,dev=mpttun1 \
			--allow-local 10.90.0.1/32 ${KM_RELAY_EXTRA:-} 5124 2>"$d/convert.err" &
		tool_pids+=($!)
		INTEROP_PIDS+=($!)
		ip netns exec "$KM_P" "$MPT_BIN" proxy --socks5 --msl 1 \
			--convert 10.78.2.1:5124 "${KM_PATHS[@]}" ${KM_RELAY_EXTRA:-} 127.0.0.1:1080 \
			2>"$d/proxy.err" &
		tool_pids+=($!)
		INTEROP_PIDS+=($!)
		logs=("$d/proxy.err" "$d/convert.err")
		wait_route "$KM_V" 10.79.2.1 mpttun1 10 || echo "  convert did not start"
		wait_route "$KM_P" 10.79.1.1 mpttun1 10 || echo "  proxy did not start"
		sleep 0.2
	else
		cns=$KM_OC sns=$KM_OS caddr=10.61.0.2 cproto=mptcp
		[ "$kind" = onpath-pass ] && sproto=mptcp
	fi
	if [ "$kind" = onpath-pass ] && [ "${KM_NO_BOX:-0}" = 1 ]; then
		# Control for passthrough rows: the same two kernels and the same
		# router, without mpt (table 200 has no route without mpttun0,
		# so the router forwards by its main table).
		ip -n "$KM_OB" route flush table 200 2>/dev/null
		logs=(/dev/null)
	elif [ "$kind" != proxy ]; then
		ip netns exec "$KM_OB" "$MPT_BIN" onpath -v ${KM_ONPATH_EXTRA:-} \
			--path 10.62.0.1/32,dev=mpttun0 2>"$d/onpath.err" &
		tool_pids+=($!)
		INTEROP_PIDS+=($!)
		logs=("$d/onpath.err")
		wait_route "$KM_OB" 10.62.0.1 mpttun0 10 || echo "  onpath did not start"
		ip netns exec "$KM_OB" sysctl -qw net.ipv4.conf.mpttun0.rp_filter=0 >/dev/null
		ip -n "$KM_OB" route replace default dev mpttun0 table 200
	fi
	local c0="$d/c0" s0="$d/s0"
	ksnap "$cns" "$d/c0"
	ksnap "$sns" "$d/s0"
	local sbind=()
	[ "$kind" = proxy ] && sbind=(--bind 10.90.0.1)
	ip netns exec "$sns" timeout "$((bound + 5))" "$KM_PY" "$KPEER" server "${common[@]}" \
		--proto "$sproto" "${sbind[@]}" "${srecv[@]}" --close "$sclose" --send "$down" --result "$d/s.json" \
		--ready "$d/ready" 2>"$d/s.err" &
	local spid=$!
	INTEROP_PIDS+=("$spid")
	wait_file "$d/ready" 10 || echo "  kernel server did not start"
	local t0 cargs=()
	[ "$kind" = proxy ] && cargs=(--socks5 127.0.0.1:1080)
	# KM_DIAG=1: both kernels' sockets (ss -tinM: TCP and MPTCP state)
	# just before the client's deadline, and on failure every kernel
	# counter that moved (a stall's state, taken while it lasts).
	local diag_pid=""
	if [ "${KM_DIAG:-0}" = 1 ]; then
		(
			sleep "$bound"
			for n in "$cns" "$sns"; do
				echo "== ss -tinM in $n at ${bound}s"
				ip netns exec "$n" ss -tinM 2>&1
				ip netns exec "$n" ss -tin 2>&1
				echo "== nonzero counters in $n (namespaces are fresh per test run)"
				ip netns exec "$n" nstat -az 2>/dev/null | awk '$2 != 0 && $1 ~ /^(TcpExt|MPTcpExt|Tcp)/ { printf "%s %s; ", $1, $2 } END { print "" }'
			done >"$d/diag.ss"
		) &
		diag_pid=$!
	fi
	t0=$(km_ts)
	ip netns exec "$cns" timeout "$((bound + 5))" "$KM_PY" "$KPEER" client "${common[@]}" \
		--proto "$cproto" "${cargs[@]}" "${crecv[@]}" --host "$caddr" --close "$cclose" --send "$up" \
		--result "$d/c.json" --retry 3 2>"$d/c.err"
	local crc=$?
	wait "$spid"
	local src=$?
	local p alive=1
	for p in "${tool_pids[@]}"; do
		kill -0 "$p" 2>/dev/null || alive=0
	done
	km_settle "$sns" "$port"
	ksnap "$cns" "$d/c1"
	ksnap "$sns" "$d/s1"
	[ "$kind" != proxy ] && [ ${#tool_pids[@]} -gt 0 ] && kill -USR1 "${tool_pids[0]}" 2>/dev/null && sleep 0.2
	for p in "${tool_pids[@]}"; do
		km_stop "$p"
	done
	local cend send cls="" det=""
	cend=$(km_json "$d/c.json" t_end "$(km_ts)")
	send=$(km_json "$d/s.json" t_end "$(km_ts)")
	local c_up c_down
	c_up=$(km_dir_class "$up" "$(km_json "$d/s.json" received 0)" "$(km_json "$d/s.json" recv_sha256 missing)")
	c_down=$(km_dir_class "$down" "$(km_json "$d/c.json" received 0)" "$(km_json "$d/c.json" recv_sha256 missing)")
	[ "$c_up" = ok ] || cls+="client->server:$c_up "
	[ "$c_down" = ok ] || cls+="server->client:$c_down "
	[ "$crc" = 124 ] && cls+="client:stuck(timeout) "
	[ "$crc" != 124 ] && [ "$crc" != 0 ] && cls+="client:exit$crc " && det+="client: $(km_json "$d/c.json" errors) "
	[ "$src" = 124 ] && cls+="server:stuck(timeout) "
	[ "$src" != 124 ] && [ "$src" != 0 ] && cls+="server:exit$src " && det+="server: $(km_json "$d/s.json" errors) "
	[ "$alive" = 1 ] || cls+="relay-died "
	if grep -q "runtime error\|AddressSanitizer" "${logs[@]}" 2>/dev/null; then
		cls+="sanitizer "
	fi
	local bad
	# Passthrough: both ends are Linux and decide about joins themselves
	# (a join whose SYN/ACK finds its connection closing is reset by the
	# client, MPRstTx; a join to a closing connection is refused by the
	# server, MPJoinRejected; a join that completed as the server closed
	# may get the closing server's RST with MP_TCPRST, counted as MPRstRx
	# by the client while the server's MPRstTx does not move: r071, 1 run
	# in 6 on 2026-12-06, data intact both ways).  The box's part is to deliver every join SYN: when the
	# server saw as many as the client sent, those counters are the
	# kernels' own decisions (as onpath_test (p)); a join lost at the box
	# still fails.  (The box never writes an MPTCP option into a RST: its
	# only RST, reset_server in tools/mpt/onpath.c, is plain TCP to the
	# server.)
	local pass_ok=0 jtx jrx
	if [ "$kind" = onpath-pass ]; then
		jtx=$(kdelta "$d/c0" "$d/c1" MPTcpExtMPJoinSynTx)
		jrx=$(kdelta "$d/s0" "$d/s1" MPTcpExtMPJoinSynRx)
		if [ "$jtx" -ge 1 ] && [ "$jrx" -ge "$jtx" ]; then
			pass_ok=1
			det+="joins-delivered($jrx/$jtx)-decided-by-the-kernels "
		fi
	fi
	if [ "$kind" != proxy ]; then
		local own
		own=$(km_join_resets_own "$d/c0" "$d/c1" "$d/c.json")
		[ -n "$own" ] && [ "$pass_ok" != 1 ] &&
			det+="own-join-reset-by-closing-client+$(kdelta "$d/c0" "$d/c1" MPTcpExtMPRstTx) "
		if [ "$pass_ok" = 1 ]; then
			local rrx
			rrx=$(kdelta "$d/c0" "$d/c1" MPTcpExtMPRstRx)
			[ "$rrx" != 0 ] && det+="join-reset-by-the-server-kernel+$rrx "
			bad=$(KM_BAD_COUNTERS=$(printf '%s\n' $KM_BAD_COUNTERS |
				grep -vx -e MPTcpExtMPRstTx -e MPTcpExtMPRstRx) \
				km_counters_bad "$d/c0" "$d/c1")
		elif [ -n "$own" ]; then
			bad=$(KM_BAD_COUNTERS=$(printf '%s\n' $KM_BAD_COUNTERS | grep -vx MPTcpExtMPRstTx) \
				km_counters_bad "$d/c0" "$d/c1")
		else
			bad=$(km_counters_bad "$d/c0" "$d/c1")
		fi
		[ -n "$bad" ] && cls+="client-counters:$bad"
		[ "$(kdelta "$d/c0" "$d/c1" MPTcpExtMPCapableSYNACKRX)" -ge 1 ] || cls+="no-MP_CAPABLE "
		[ "$(km_json "$d/c.json" mptcp_fallback False)" = False ] || cls+="client-fallback "
		local js
		js=$(kdelta "$d/c0" "$d/c1" MPTcpExtMPJoinSynAckRx)
		det+="client joins+$js "
		# As in km_cat: Linux completes a join only while its connection
		# is ESTABLISHED, and a client that half-closes at once (it has
		# nothing to send) leaves that state before its own join's
		# SYN/ACK can come back through the relay: it resets the join
		# (captured in the box for r047: SYN/ACK 1.9 ms after the join
		# SYN, the client's RST).  Joins are required only when the
		# client kept its sending side open >= 100 ms.
		local wj=0
		[ $((upsz + downsz)) -ge $MIB ] && wj=1
		if [ "$wj" = 1 ] && ! "$KM_PY" -c "
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r.get('t_shut', 1e18) - r.get('t_established', 0) >= 0.1 else 1)" "$d/c.json" 2>/dev/null; then
			wj=0
			det+="joins-not-required(client half-closed at once) "
		fi
		[ "$pass_ok" = 1 ] && wj=0
		[ "$wj" = 1 ] && [ "$js" -lt 1 ] && cls+="no-join-accepted "
		if [ "$kind" = onpath-pass ]; then
			local skip_s=none
			[ "$pass_ok" = 1 ] && skip_s=MPTcpExtMPJoinRejected
			bad=$(KM_BAD_COUNTERS=$(printf '%s\n' $KM_BAD_COUNTERS | grep -vx "$skip_s") \
				km_counters_bad "$d/s0" "$d/s1")
			[ -n "$bad" ] && cls+="server-counters:$bad"
		fi
	fi
	det+="relay: $(grep -h "ended:" "${logs[@]}" 2>/dev/null | sed 's/.*ended: //' | sort | uniq -c | tr -s ' ' | tr '\n' ';') "
	local cs ss
	cs=$(km_secs "$t0" "$cend")
	ss=$(km_secs "$t0" "$send")
	"$KM_PY" -c "import sys; sys.exit(0 if max(float(sys.argv[1]), float(sys.argv[2])) <= float(sys.argv[3]) else 1)" \
		"$cs" "$ss" "$bound" || cls+="over-bound(${bound}s) "
	det+="bound ${bound}s"
	if [ -z "$cls" ]; then
		km_record "$id" pass "$cs" "$ss" "-" "$det"
	else
		km_record "$id" FAIL "$cs" "$ss" "$cls" "$det"
		[ "${KM_VERBOSE:-1}" = 1 ] && { for p in "${logs[@]}" "$d/c.err" "$d/s.err"; do show_log "$p"; done; }
		if [ "${KM_DIAG:-0}" = 1 ]; then
			echo "    | client kernel counters that moved:"
			kshow "$d/c0" "$d/c1" | sed 's/^/    | /'
			echo "    | server kernel counters that moved:"
			kshow "$d/s0" "$d/s1" | sed 's/^/    | /'
			[ -s "$d/diag.ss" ] && sed 's/^/    | /' "$d/diag.ss"
		fi
	fi
	[ -n "$diag_pid" ] && { kill "$diag_pid" 2>/dev/null; wait "$diag_pid" 2>/dev/null; }
	[ -z "$cls" ]
}

# ---- the table -------------------------------------------------------------------
# km_run_row ID KIND MROLE FAM PATHS DIR SIZE KREADER KWRITER CLOSE STDOUT CSUM EMU
km_run_row() {
	if [ "$2" = cat ]; then
		km_cat "$1" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" "${12}" "${13}"
	else
		km_relay "$1" "$2" "$6" "$7" "$8" "$9" "${10}" "${13}"
	fi
}

# Estimated seconds of a row (for the CI sample's budget).
km_estimate() {
	local total=$7
	[ "$6" = both ] && total=$((2 * $7))
	km_bound "$total" "$8" "${13}" "${11}" "$5" estimate
}

# km_select [SEED BUDGET_S]: print the table's rows (without the header);
# with arguments, a deterministic random sample whose estimated time stays
# within BUDGET_S.  KMATRIX_CASES="id ..." picks rows by id instead.
km_select() {
	if [ -n "${KMATRIX_CASES:-}" ]; then
		awk -v ids=" $KMATRIX_CASES " 'NR > 1 && index(ids, " " $1 " ")' "$KM_TABLE"
		return
	fi
	if [ $# = 0 ]; then
		tail -n +2 "$KM_TABLE"
		return
	fi
	local seed=$1 budget=$2 row est used=0
	tail -n +2 "$KM_TABLE" | "$KM_PY" -c "
import random, sys
rows = sys.stdin.read().splitlines()
random.Random(int(sys.argv[1])).shuffle(rows)
print('\n'.join(rows))" "$seed" | while IFS= read -r row; do
		# shellcheck disable=SC2086
		est=$(km_estimate $row)
		# Rows longer than KMATRIX_MAX_CASE s (32 MiB under loss) are for
		# bench/kmatrix.sh only.
		[ "$est" -le "${KMATRIX_MAX_CASE:-45}" ] || continue
		[ $((used + est)) -le "$budget" ] || continue
		used=$((used + est))
		printf '%s\n' "$row"
	done
}
