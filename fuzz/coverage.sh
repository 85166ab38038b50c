#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Line coverage of the engine by the committed corpora (clang source-based
# coverage, llvm-14 tools).  Builds the fuzz targets with coverage in
# build-cov/, runs each once over fuzz/corpus/<target>/ (-runs=0: every
# input once, no fuzzing), merges the profiles, and prints line coverage per
# source directory (src/mptcp and src/tcp first) and per target.
#
#   fuzz/coverage.sh [OUT.md]      (OUT.md: the same tables in markdown)
#
# Needs clang and llvm-14 (llvm-profdata-14, llvm-cov-14: apt-get install
# llvm-14).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-}
for tool in llvm-profdata-14 llvm-cov-14 clang; do
	command -v "$tool" >/dev/null || {
		echo "coverage: $tool missing (apt-get install llvm-14 clang)"
		exit 1
	}
done
targets=()
for src in fuzz/*_fuzz.c; do
	targets+=("$(basename "$src" .c)")
done
CC=clang cmake -S . -B build-cov -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPT_FUZZ=ON \
	-DMPT_FUZZ_COVERAGE=ON >/dev/null
ninja -C build-cov "${targets[@]}" >build-cov/ninja.log 2>&1 || {
	cat build-cov/ninja.log
	exit 1
}
rm -rf build-cov/prof
mkdir -p build-cov/prof
objs=()
for t in "${targets[@]}"; do
	[ -d "fuzz/corpus/$t" ] || continue
	n=$(find "fuzz/corpus/$t" -type f | wc -l)
	LLVM_PROFILE_FILE="build-cov/prof/$t-%p.profraw" "./build-cov/$t" -runs=0 -timeout=30 \
		-rss_limit_mb=4096 "fuzz/corpus/$t" >"build-cov/prof/$t.log" 2>&1 || {
		echo "coverage: $t failed on its corpus:"
		tail -30 "build-cov/prof/$t.log"
		exit 1
	}
	llvm-profdata-14 merge -sparse build-cov/prof/"$t"-*.profraw -o "build-cov/prof/$t.profdata"
	llvm-cov-14 export -summary-only -instr-profile="build-cov/prof/$t.profdata" \
		"./build-cov/$t" >"build-cov/prof/$t.json"
	echo "$t $n" >>build-cov/prof/inputs.txt
	objs+=("$t")
done
llvm-profdata-14 merge -sparse build-cov/prof/*.profraw -o build-cov/prof/all.profdata
args=("./build-cov/${objs[0]}")
for t in "${objs[@]:1}"; do
	args+=(-object "./build-cov/$t")
done
llvm-cov-14 export -summary-only -instr-profile=build-cov/prof/all.profdata "${args[@]}" \
	>build-cov/prof/all.json

python3 - "$out" <<'EOF'
import json, os, sys
root = os.getcwd() + "/"
out = sys.argv[1]
def per_dir(path):
    files = json.load(open(path))["data"][0]["files"]
    d = {}
    for f in files:
        name = f["filename"].replace(root, "")
        if "/../" in name:
            name = os.path.normpath(name)
        # The engine, the tool sources targets compile in, the Convert codec.
        if not (name.startswith("src/") or name in ("tools/mpt/proxy.c",
                                                    "tools/mpt/convert.c",
                                                    "tools/mpt/convert_codec.c")):
            continue
        key = os.path.dirname(name) if name.startswith("src/") else name
        l = f["summary"]["lines"]
        c, n = d.get(key, (0, 0))
        d[key] = (c + l["covered"], n + l["count"])
    return d
def pct(c, n):
    return f"{100.0 * c / n:.1f} %" if n else "-"
alld = per_dir("build-cov/prof/all.json")
order = ["src/mptcp", "src/tcp"] + sorted(k for k in alld if k not in ("src/mptcp", "src/tcp"))
lines = ["| code | lines covered | lines | line coverage |", "|---|---:|---:|---:|"]
for k in order:
    if k in alld:
        c, n = alld[k]
        lines.append(f"| {k} | {c} | {n} | {pct(c, n)} |")
inputs = dict(l.split() for l in open("build-cov/prof/inputs.txt"))
tl = ["| target | corpus inputs | src/mptcp | src/tcp |", "|---|---:|---:|---:|"]
for t in sorted(inputs):
    d = per_dir(f"build-cov/prof/{t}.json")
    m = d.get("src/mptcp", (0, 0)); p = d.get("src/tcp", (0, 0))
    tl.append(f"| {t} | {inputs[t]} | {pct(*m)} | {pct(*p)} |")
text = "\n".join(lines) + "\n\nPer target (the same corpora):\n\n" + "\n".join(tl) + "\n"
print(text)
if out:
    open(out, "w").write(text)
EOF
