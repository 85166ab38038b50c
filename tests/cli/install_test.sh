#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The installed tree, as a library user meets it:
#   1. `cmake --install BUILD --prefix P` installs the three libraries
#      (libmpt, libmpt-sim, libmpt-backend; shared and static), the public
#      headers with version.h, their .pc files, the tool, its man pages and
#      shell completions, LICENSE and CHANGELOG.md;
#   2. the tree is MOVED to another directory: pkg-config must still point
#      into it (mpt.pc's prefix comes from ${pcfiledir});
#   3. examples/ builds there with pkg-config (shared, with rpath, and
#      static) and the simulator example runs and moves every byte;
#   4. nothing pulls libpcap: not `pkg-config --static --libs mpt`, not the
#      shared library's or the programs' NEEDED entries;
#   5. the version agrees everywhere: CMake's, version.h's, mpt.pc's,
#      `mpt --version`, the shared library's file name.
#   tests/cli/install_test.sh BUILD_DIR [SOURCE_DIR]
set -u
build=$(cd "${1:?usage: $0 BUILD_DIR [SOURCE_DIR]}" && pwd)
src=$(cd "${2:-$(dirname "$0")/../..}" && pwd)
work=$(mktemp -d /tmp/mpt-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if "$@"; then :; else echo "FAIL: $*"; fail=1; fi; }
need() { command -v "$1" >/dev/null || { echo "FAIL: $1 is not installed (scripts/deps.sh)"; exit 1; }; }
need cmake
need pkg-config
need cc
need make

version=$(sed -n 's/^project(mpt VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || { echo "FAIL: no version in CMakeLists.txt"; exit 1; }

cmake --install "$build" --prefix "$work/p" >"$work/install.log" 2>&1 ||
	{ echo "FAIL: cmake --install"; cat "$work/install.log"; exit 1; }
mv "$work/p" "$work/moved"
P="$work/moved"
pcdir=$(dirname "$(find "$P" -name mpt.pc | head -n 1)")
[ -n "$pcdir" ] && [ -f "$pcdir/mpt.pc" ] || { echo "FAIL: mpt.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir"
libdir=$(pkg-config --variable=libdir mpt)
incdir=$(pkg-config --variable=includedir mpt)

echo "-- installed files"
check test -f "$incdir/mpt/mpt.h"
check test -f "$incdir/mpt/backend.h"
check test -f "$incdir/mpt/version.h"
for l in mpt mpt-sim mpt-backend; do
	check test -f "$libdir/lib$l.a"
	check test -e "$libdir/lib$l.so"
	check test -f "$pcdir/$l.pc"
done
check test -x "$P/bin/mpt"
check test -f "$P/share/doc/mpt/LICENSE"
check test -f "$P/share/doc/mpt/CHANGELOG.md"

echo "-- pkg-config after moving the tree"
cflags=$(pkg-config --cflags mpt)
libs=$(pkg-config --libs mpt)
slibs=$(pkg-config --static --libs mpt)
echo "  cflags: $cflags"
echo "  libs:   $libs"
echo "  static: $slibs"
check grep -q -- "-I$P/" <<<"$cflags"
check grep -q -- "-L$P/" <<<"$libs"
check [ "$(realpath "$incdir")" = "$(realpath "$P/include")" ]
if grep -Eq -- "-l(pcap|dbus|systemd|gcrypt)" <<<"$slibs"; then
	echo "FAIL: the static link line pulls libpcap or its dependencies: $slibs"
	fail=1
fi
check [ "$(pkg-config --modversion mpt)" = "$version" ]

echo "-- examples against the installed tree"
mkdir -p "$work/ex" "$work/ex-static"
# A sanitizer build's library needs the sanitizers' runtime in the programs.
ex_cflags="-O2 -g -Wall -Wextra -Werror -std=c11"
if grep -q "^MPT_ASAN:BOOL=ON" "$build/CMakeCache.txt"; then
	ex_cflags="$ex_cflags -fsanitize=address,undefined"
fi
if make -s -C "$src/examples" O="$work/ex" CFLAGS="$ex_cflags" >"$work/make.log" 2>&1; then
	echo "  shared: built $(ls "$work/ex" | tr '\n' ' ')"
else
	echo "FAIL: examples (shared) do not build against the installed tree"
	cat "$work/make.log"
	fail=1
fi
if make -s -C "$src/examples" O="$work/ex-static" STATIC=1 CFLAGS="$ex_cflags" >"$work/make-static.log" 2>&1; then
	echo "  static: built $(ls "$work/ex-static" | tr '\n' ' ')"
else
	echo "FAIL: examples (static) do not build against the installed tree"
	cat "$work/make-static.log"
	fail=1
fi
for prog in "$work/ex/sim_transfer" "$work/ex-static/sim_transfer"; do
	[ -x "$prog" ] || continue
	out=$("$prog" 4 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  | /'
	check [ "$rc" = 0 ]
	check grep -q "received 4194304 of 4194304 bytes" <<<"$out"
	check grep -Eq "MPTCP, [2-9] subflow" <<<"$out"
done
# The shared build resolves its libraries from the moved tree (rpath), not
# the build: the simulator example needs libmpt-sim and, through it, libmpt.
if [ -x "$work/ex/sim_transfer" ]; then
	check grep -q "$libdir/libmpt-sim.so" <(ldd "$work/ex/sim_transfer")
	check grep -q "$libdir/libmpt.so" <(ldd "$work/ex/sim_transfer")
fi
if [ -x "$work/ex/tun_echo" ]; then
	check grep -q "$libdir/libmpt-backend.so" <(ldd "$work/ex/tun_echo")
fi

echo "-- no libpcap anywhere"
for f in "$libdir/libmpt.so" "$libdir/libmpt-sim.so" "$libdir/libmpt-backend.so" "$P/bin/mpt" \
	"$work/ex/tun_echo"; do
	[ -e "$f" ] || continue
	if objdump -p "$f" | grep NEEDED | grep -q pcap; then
		echo "FAIL: $f needs libpcap"
		fail=1
	fi
done

echo "-- deployment files"
check test -f "$P/lib/systemd/system/mpt-proxy.service"
check test -f "$P/lib/systemd/system/mpt-convert.service"
check test -x "$P/libexec/mpt/mpt-routes"
check test -f "$P/share/doc/mpt/deploy/routes.conf"
check grep -q "^ExecStart=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")/bin/mpt proxy --config" \
	"$P/lib/systemd/system/mpt-proxy.service"
# The example configurations parse (--check also looks at the host: its
# verdict here does not matter, a FILE:LINE error does).
for t in proxy convert; do
	sed 's/^user mpt/user nobody/' "$P/share/doc/mpt/deploy/$t.conf" >"$work/$t.conf"
	"$P/bin/mpt" "$t" --config "$work/$t.conf" --check >"$work/$t.check" 2>&1
	if grep -q "$t.conf:[0-9]" "$work/$t.check"; then
		echo "FAIL: docs/deploy/$t.conf does not parse:"
		sed 's/^/    /' "$work/$t.check"
		fail=1
	fi
done
if command -v systemd-analyze >/dev/null; then
	# The units as they would be installed here (paths into the moved
	# tree, the example environment files); the man pages are not in
	# MANPATH here: that one complaint is not the units' fault.
	mkdir -p "$work/units"
	for u in mpt-proxy mpt-convert; do
		sed -e "s|^ExecStart=[^ ]*/mpt |ExecStart=$P/bin/mpt |" \
			-e "s|[^ =+]*/libexec/mpt/mpt-routes|$P/libexec/mpt/mpt-routes|g" \
			-e "s|/etc/mpt/|$P/share/doc/mpt/deploy/|g" \
			"$P/lib/systemd/system/$u.service" >"$work/units/$u.service"
	done
	out=$(systemd-analyze verify "$work/units/mpt-proxy.service" "$work/units/mpt-convert.service" 2>&1 |
		grep -v "Command 'man " || true)
	if [ -n "$out" ]; then
		echo "FAIL: systemd-analyze verify:"
		echo "$out" | sed 's/^/    /'
		fail=1
	else
		echo "  systemd-analyze verify: both units clean"
	fi
fi

echo "-- one version everywhere ($version)"
check grep -q "#define MPT_VERSION_STRING \"$version\"" "$incdir/mpt/version.h"
check [ "$("$P/bin/mpt" --version)" = "mpt $version" ]
for l in mpt mpt-sim mpt-backend; do
	check test -f "$libdir/lib$l.so.$version"
	check [ "$(pkg-config --modversion "$l")" = "$version" ]
done
# mpt.h still carries its own copy until it includes version.h: they agree.
hv=$(sed -n 's/^#define MPT_VERSION_STRING "\(.*\)"/\1/p' "$incdir/mpt/mpt.h")
if [ -n "$hv" ]; then
	check [ "$hv" = "$version" ]
fi

[ $fail = 0 ] && echo "install_tree: all checks passed"
exit $fail
