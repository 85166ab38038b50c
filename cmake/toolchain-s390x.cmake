# SPDX-License-Identifier: Apache-2.0
# Cross build for s390x (docs/portability.md): Debian's cross compiler
# (gcc-s390x-linux-gnu, with its own glibc under /usr/s390x-linux-gnu) and the target's
# libraries (OpenSSL, cmocka, libpcap and what they need) unpacked from
# Debian's s390x packages into build-cross/sysroot-s390x by scripts/cross.sh.
# A private sysroot, not multiarch packages: Multi-Arch: same packages
# (libssl3, linux-libc-dev, ...) must carry one version on every installed
# architecture, and the security archive here does not serve every
# architecture, so multiarch would downgrade the host's packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CMAKE_C_COMPILER s390x-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE s390x-linux-gnu)
get_filename_component(MPT_SYSROOT ${CMAKE_CURRENT_LIST_DIR}/../build-cross/sysroot-s390x ABSOLUTE)
set(CMAKE_FIND_ROOT_PATH ${MPT_SYSROOT} /usr/s390x-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# OpenSSL's configuration.h lives in the multiarch include directory; the
# libraries' own dependencies (libpcap -> libdbus -> libsystemd ...) are found
# at link time through -rpath-link.
set(_mpt_libs ${MPT_SYSROOT}/usr/lib/s390x-linux-gnu:${MPT_SYSROOT}/lib/s390x-linux-gnu)
set(CMAKE_C_FLAGS_INIT "-isystem ${MPT_SYSROOT}/usr/include/s390x-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_mpt_libs}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_mpt_libs}")
# pkg-config (libpcap, for the tests) reads the target's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} ${MPT_SYSROOT}/usr/lib/s390x-linux-gnu/pkgconfig:${MPT_SYSROOT}/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${MPT_SYSROOT})
# ctest runs the test binaries under qemu-user: the cross glibc's loader,
# then the sysroot's libraries.
find_program(MPT_QEMU NAMES qemu-s390x-static qemu-s390x REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${MPT_QEMU} -L /usr/s390x-linux-gnu -E
    LD_LIBRARY_PATH=${_mpt_libs})
