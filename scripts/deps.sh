#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages mpt needs, when missing.
#   deps.sh build   what building the library, tests and tools needs (the demo)
#   deps.sh         everything the full test run needs (fuzzers, format check,
#                   interop peers, Wireshark)
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
# libpcap-dev: the tests read back the pcap files mpt writes (libmpt does not link it).
pkgs=(cmake ninja-build gcc pkg-config libssl-dev libcmocka-dev libcjson-dev libmnl-dev scdoc
      libpcap-dev)
if [ "${1:-all}" != build ]; then
	pkgs+=(clang libclang-rt-14-dev python3 clang-format valgrind iproute2 iperf3 mptcpize
	       tshark iptables socat python3-scapy man-db zsh bash-completion)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
