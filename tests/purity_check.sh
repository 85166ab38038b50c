#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The engine never calls a clock, a socket, malloc, a random source, a file
# or the terminal directly, and allocates nothing per packet (DEVELOPERS.md).
# Check it on the compiled objects (nm -u: what each object calls):
#  1. no engine object references a forbidden libc symbol (list below);
#  2. the only OpenSSL functions the engine may call are the ones that never
#     allocate (SHA-1/SHA-256 block functions, CRYPTO_memcmp,
#     OPENSSL_cleanse): EVP_*, HMAC*, CRYPTO_malloc & co. allocate inside
#     libcrypto on every call, outside cfg.mem (issue 11, finding 7).
#     tests/unit/crypto_alloc_test.c checks the same at run time with a
#     counting CRYPTO_set_mem_functions hook over whole transfers.
# Engine objects: src/{wire,tcp,cc,mptcp,crypto}, src/core except simhost.c,
# src/base/{mib,util}.c.  Backends (sim, simhost, backend/) and the default
# hooks (src/base/mem.c: malloc, RAND_bytes) are exempt by design.
set -euo pipefail
bin=${1:?build dir}

forbidden_list=(
	# allocation
	malloc calloc realloc reallocarray free aligned_alloc posix_memalign memalign valloc
	pvalloc strdup strndup asprintf vasprintf getline getdelim mmap mmap64 munmap mremap
	brk sbrk
	# randomness
	rand random srand srandom rand_r random_r drand48 erand48 lrand48 nrand48 mrand48
	jrand48 arc4random arc4random_buf getrandom getentropy RAND_bytes RAND_priv_bytes
	# clocks and sleeping
	time clock_gettime clock_getres clock_settime gettimeofday clock times ftime nanosleep
	clock_nanosleep usleep sleep timerfd_create timerfd_settime localtime gmtime mktime
	# sockets, polling, descriptors
	socket socketpair connect bind listen accept accept4 shutdown sendto recvfrom send recv
	sendmsg recvmsg sendmmsg recvmmsg setsockopt getsockopt getaddrinfo poll ppoll select
	pselect epoll_create epoll_create1 epoll_ctl epoll_wait ioctl fcntl pipe pipe2 close
	# files and the terminal
	read write readv writev pread pwrite open open64 openat creat fopen fopen64 fdopen
	fclose fread fwrite fflush fputs fputc puts putchar printf fprintf vprintf vfprintf
	dprintf perror syslog
	# process
	exit _exit getenv fork signal sigaction pthread_create dlopen
)
forbidden="^($(
	IFS='|'
	echo "${forbidden_list[*]}"
))\$"
# OpenSSL functions the engine may call: none of them allocates.
openssl_ok='^(SHA1_Init|SHA1_Update|SHA1_Final|SHA256_Init|SHA256_Update|SHA256_Final|CRYPTO_memcmp|OPENSSL_cleanse)$'
openssl_any='^(EVP_|HMAC|CRYPTO_|OPENSSL_|OSSL_|SHA|MD5|RAND_|ERR_|BIO_|BN_|ossl_)'

objs=()
for o in "$bin"/CMakeFiles/mpt_{wire,tcp,cc,mptcp,crypto,core}.dir/src/*/*.o \
	"$bin"/CMakeFiles/mpt_base.dir/src/base/{mib,util}.c.o; do
	[ -f "$o" ] || continue
	[ "$(basename "$o")" = simhost.c.o ] && continue
	objs+=("$o")
done
# The objects the rules are most about must be there, or we check nothing.
for must in crypto/crypto.c.o core/stack.c.o core/syncookie.c.o mptcp/subflow.c.o tcp/tcp_in.c.o; do
	found=0
	for o in "${objs[@]}"; do
		case "$o" in */src/$must) found=1 ;; esac
	done
	[ $found = 1 ] || {
		echo "purity: src/$must not found under $bin"
		exit 1
	}
done

status=0
for o in "${objs[@]}"; do
	syms=$(nm -u "$o" | awk '{print $2}')
	bad=$(grep -E "$forbidden" <<<"$syms" || true)
	if [ -n "$bad" ]; then
		echo "purity: $(basename "$o") calls:" $bad
		status=1
	fi
	bad=$(grep -E "$openssl_any" <<<"$syms" | grep -vE "$openssl_ok" || true)
	if [ -n "$bad" ]; then
		echo "purity: $(basename "$o") calls OpenSSL functions that allocate (or are not" \
			"reviewed):" $bad
		status=1
	fi
done
echo "purity: ${#objs[@]} engine objects checked, $([ $status = 0 ] && echo clean || echo VIOLATIONS)"
exit $status
