#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The pictures and outputs of docs/introspection.md, made by running the tools
# (figures in docs/ are written by the script that measures them):
#   docs/img/analyze-dsn.png, docs/img/analyze-tput.png
#       `mpt analyze --svg` of a simulated transfer whose first path fails
#       for half a second (mpt sim --pcap: no root needed);
#   docs/img/mpt-ss.png
#       `mpt ss -i` of an `mpt perf -c` over two namespaced paths to the
#       kernel's MPTCP (needs root; without root that picture is kept);
#   docs/introspection.md
#       the page, with the commands' text output as they printed it.
#   scripts/docs-figures.sh [BUILD_DIR]
# Needs rsvg-convert (Debian: librsvg2-bin) and the DejaVu fonts.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
mpt=$(realpath "$build/mpt")
command -v rsvg-convert >/dev/null || { echo "docs-figures: rsvg-convert is missing (apt-get install librsvg2-bin)"; exit 1; }
mkdir -p docs/img
work=$(mktemp -d /tmp/mpt-figs.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Text as a picture: a terminal-like SVG of monospace lines, then PNG.
text_png() { # text_png TEXTFILE PNG TITLE
	python3 - "$1" "$work/text.svg" "$3" <<'PY'
import sys, html
lines = open(sys.argv[1]).read().rstrip("\n").split("\n")
w = max(len(l.expandtabs(8)) for l in lines) * 7.3 + 40
h = len(lines) * 16 + 56
out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">' % (w, h),
       '<rect width="100%" height="100%" rx="6" fill="#1e1e1e"/>',
       '<text x="16" y="22" font-family="DejaVu Sans" font-size="12" fill="#9a9a9a">%s</text>' % html.escape(sys.argv[3])]
for i, l in enumerate(lines):
    out.append('<text x="16" y="%d" font-family="DejaVu Sans Mono" font-size="12" fill="#e6e6e6" xml:space="preserve">%s</text>'
               % (44 + 16 * i, html.escape(l.expandtabs(8))))
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out))
PY
	rsvg-convert -o "$2" "$work/text.svg"
}

echo "== mpt analyze of a simulated transfer"
(cd "$work" && "$mpt" sim --size 24 --link rate=40,rtt=20,down=1.0-1.5 --link rate=25,rtt=40 \
	--pcap sim.pcap -q >sim.txt)
"$mpt" analyze --svg "$work/plots" "$work/sim.pcap" | sed "s|$work/||g" >"$work/analyze.txt"
rsvg-convert -o docs/img/analyze-dsn.png "$work/plots/conn1-up-dsn.svg"
rsvg-convert -o docs/img/analyze-tput.png "$work/plots/conn1-up-tput.svg"

ss_txt=""
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
	echo "== mpt ss -i of mpt perf against the kernel (namespaces)"
	bash -c '
		set -u
		TEST_NAME=docs-figures
		. tests/interop/lib.sh
		TOPO_RATE=50mbit topo_two_paths
		ip -n "$NS_S" mptcp endpoint add "$SRV_B" dev mpt-p2s signal
		ip netns exec "$NS_S" timeout 20 mptcpize run iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
		sleep 0.5
		ip netns exec "$NS_C" timeout 20 "$MPT_BIN" perf -c "$SRV_A" -t 4 --ctl "$WORK/perf.sock" \
			--path "$MP_A/24,dev=mpttun0" --path "$MP_B/24,dev=mpttun1,backup" >/dev/null 2>&1 &
		sleep 2.5
		ip netns exec "$NS_C" "$MPT_BIN" ss -i --ctl "$WORK/perf.sock" | sed "s|$WORK/|/run/mpt/|; s|pid [0-9]*|pid 4242|; s|pid=[0-9]*|pid=4242|" >"'"$work"'/ss.txt"
		wait
	' && ss_txt=$(cat "$work/ss.txt")
	text_png "$work/ss.txt" docs/img/mpt-ss.png "# mpt ss -i   (mpt perf -c over two paths to the kernel's MPTCP; the second path is a backup)"
else
	echo "== not root: docs/img/mpt-ss.png kept as it is"
fi

{
	echo "# Looking into mpt: analyze, ss, monitor, nstat"
	echo
	echo "<!-- Written by scripts/docs-figures.sh on $(date -u +%Y-%m-%d) from the tools' own output: do not edit. -->"
	echo
	echo "## mpt analyze"
	echo
	echo "A simulated transfer of 24 MiB over a 40 Mbit/s path (20 ms RTT) that fails from"
	echo "1.0 s to 1.5 s and a 25 Mbit/s path (40 ms), captured by \`mpt sim --pcap\`:"
	echo
	echo '```'
	echo "$ mpt analyze --svg plots sim.pcap"
	cat "$work/analyze.txt"
	echo '```'
	echo
	echo "The data sequence number of every segment, a color per subflow: the gap is"
	echo "the outage; what was in flight on the failed path is reinjected on the others."
	echo
	echo "![DSN over time](img/analyze-dsn.png)"
	echo
	echo "![throughput per subflow](img/analyze-tput.png)"
	echo
	echo "## mpt ss"
	echo
	if [ -n "$ss_txt" ]; then
		echo '```'
		echo "$ss_txt"
		echo '```'
		echo
	fi
	echo "![mpt ss -i](img/mpt-ss.png)"
	echo
	echo "See \`mpt-ss(1)\`, \`mpt-monitor(1)\`, \`mpt-nstat(1)\` and \`mpt-analyze(1)\`."
} >docs/introspection.md
echo "== wrote docs/introspection.md, docs/img/analyze-dsn.png, docs/img/analyze-tput.png${ss_txt:+, docs/img/mpt-ss.png}"
