#!/usr/bin/env bash
# The engine never calls a clock, a socket, malloc or a random source
# directly (DEVELOPERS.md).  Check it on the compiled objects: no engine
# object may reference one of these libc symbols.  Backends (sim, simhost)
# and the default hooks (src/base/mem.c) are exempt by design.
set -euo pipefail
bin=${1:?build dir}
forbidden='^(malloc|calloc|realloc|free|aligned_alloc|posix_memalign|rand|random|srand|srandom|rand_r|drand48|arc4random|getrandom|getentropy|time|clock_gettime|gettimeofday|clock|socket|sendto|recvfrom|send|recv|read|write|open|fopen|RAND_bytes)$'
status=0
checked=0
for o in "$bin"/CMakeFiles/mpt_{wire,tcp,cc,mptcp}.dir/src/*/*.o "$bin"/CMakeFiles/mpt_core.dir/src/core/stack.c.o; do
	[ -f "$o" ] || continue
	checked=$((checked + 1))
	bad=$(nm -u "$o" | awk '{print $2}' | grep -E "$forbidden" || true)
	if [ -n "$bad" ]; then
		echo "purity: $(basename "$o") calls: $bad"
		status=1
	fi
done
[ "$checked" -gt 10 ] || { echo "purity: only $checked objects found under $bin"; exit 1; }
echo "purity: $checked engine objects checked, $([ $status = 0 ] && echo clean || echo VIOLATIONS)"
exit $status
