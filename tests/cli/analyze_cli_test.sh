#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `mpt analyze` without a network: a simulated transfer's pcap (mpt sim
# --pcap: nanosecond pcap, raw IP) and the same capture converted to pcapng
# (editcap) give the same report: one MPTCP connection, exactly the bytes
# the simulator moved, 4 subflows whose new bytes add up, reinjections
# close to what the engine counted; a cut file is reported up to the cut
# (exit 1); a file that is no capture is refused.  Needs editcap (Wireshark)
# for the pcapng half; under CI=true its absence is a failure.
#   tests/cli/analyze_cli_test.sh PATH_TO_MPT
set -u
mpt=${1:?usage: $0 PATH_TO_MPT}
work=$(mktemp -d /tmp/mpt-anz.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if "$@"; then :; else echo "FAIL: $*"; fail=1; fi; }
cd "$work"

"$mpt" sim --size 6 --link rate=40,rtt=20,down=0.3-0.8 --link rate=30,rtt=30 --pcap sim.pcap \
	>sim.out 2>&1 || { cat sim.out; echo "FAIL: mpt sim"; exit 1; }
reinj=$(sed -n 's/.*reinjected \([0-9]*\) bytes.*/\1/p' sim.out)
"$mpt" analyze -j sim.pcap >a.json 2>a.err
check [ $? = 0 ]
python3 - a.json "$((6 * 1048576))" "$reinj" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
size, reinj = int(sys.argv[2]), int(sys.argv[3])
c = j["connections"]
ok = len(c) == 1
up = c[0]["directions"][0]
sf = up["subflows"]
print("  %d bytes up over %d subflows, reinjected %d (the engine: %d)" % (up["bytes"], len(sf), up["reinjected_bytes"], reinj))
ok = ok and up["bytes"] == size and len(sf) == 4
ok = ok and sum(s["new_bytes"] for s in sf) == size and abs(sum(s["share"] for s in sf) - 1) < 1e-9
# the engine counts what it re-sent on another subflow; the capture sees
# the reinjections whose first copy got onto a wire (copies dropped by the
# outage before the wire are not in it): at most the engine's, and most of
# it here
ok = ok and reinj > 0 and 0.5 * reinj <= up["reinjected_bytes"] <= reinj
ok = ok and all(s["rtt_handshake_ms"] > 0 for s in sf)
ok = ok and any(e["event"].startswith("ADD_ADDR") for e in c[0]["events"])
sys.exit(0 if ok else 1)
PY
"$mpt" analyze --svg plots sim.pcap >a.txt 2>&1
check [ $? = 0 ]
check grep -q "^MPTCP connection 1: 10.0.1.1:[0-9]* -> 10.0.1.2:5201, version 1" a.txt
check test -s plots/conn1-up-dsn.svg
check test -s plots/conn1-up-tput.svg

if command -v editcap >/dev/null; then
	editcap -F pcapng sim.pcap sim.pcapng >/dev/null 2>&1
	"$mpt" analyze -j sim.pcapng >ng.json 2>/dev/null
	check [ $? = 0 ]
	# The same report but the file name.
	check [ "$(grep -v '"file"' a.json | md5sum)" = "$(grep -v '"file"' ng.json | md5sum)" ]
elif [ "${CI:-}" = true ]; then
	echo "FAIL: editcap is not installed: the pcapng reader is not checked"
	fail=1
else
	echo "  (editcap missing: pcapng not checked here)"
fi

# A cut file: what was read is reported, exit 1 with the reason.
head -c $(($(stat -c %s sim.pcap) / 2 + 7)) sim.pcap >cut.pcap
"$mpt" analyze cut.pcap >cut.out 2>cut.err
check [ $? = 1 ]
check grep -q "truncated record" cut.err
check grep -q "^MPTCP connection 1" cut.out
# Not a capture.
printf 'hello, this is no pcap file at all\n' >bad.pcap
"$mpt" analyze bad.pcap >/dev/null 2>bad.err
check [ $? = 1 ]
check grep -q "not a pcap or pcapng file" bad.err
"$mpt" analyze >/dev/null 2>&1
check [ $? = 2 ]

[ $fail = 0 ] && echo "analyze_cli: all checks passed"
exit $fail
