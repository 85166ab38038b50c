# SPDX-License-Identifier: Apache-2.0
# Cross build for i386 (docs/portability.md): Debian's cross compiler
# (gcc-i686-linux-gnu, with its own glibc under /usr/i686-linux-gnu) and the target's
# libraries (OpenSSL, cmocka, libpcap and what they need) unpacked from
# Debian's i386 packages into build-cross/sysroot-i386 by scripts/cross.sh.
# A private sysroot, not multiarch packages: Multi-Arch: same packages
# (libssl3, linux-libc-dev, ...) must carry one version on every installed
# architecture, and the security archive here does not serve every
# architecture, so multiarch would downgrade the host's packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)
get_filename_component(MPT_SYSROOT ${CMAKE_CURRENT_LIST_DIR}/../build-cross/sysroot-i386 ABSOLUTE)
set(CMAKE_FIND_ROOT_PATH ${MPT_SYSROOT} /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# OpenSSL's configuration.h lives in the multiarch include directory; the
# libraries' own dependencies (libpcap -> libdbus -> libsystemd ...) are found
# at link time through -rpath-link.
set(_mpt_libs ${MPT_SYSROOT}/usr/lib/i386-linux-gnu:${MPT_SYSROOT}/lib/i386-linux-gnu)
set(CMAKE_C_FLAGS_INIT "-isystem ${MPT_SYSROOT}/usr/include/i386-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_mpt_libs}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_mpt_libs}")
# pkg-config (libpcap, for the tests) reads the target's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} ${MPT_SYSROOT}/usr/lib/i386-linux-gnu/pkgconfig:${MPT_SYSROOT}/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${MPT_SYSROOT})
# An x86-64 kernel with IA32 emulation runs i386 code natively: ctest starts
# each test binary through the cross glibc's loader (no i386 libc6 on the
# host).  scripts/cross.sh checks that this works, else sets MPT_I386_QEMU=ON
# and the binaries run under qemu-user instead.
option(MPT_I386_QEMU "Run i386 test binaries under qemu-i386" OFF)
if(MPT_I386_QEMU)
  find_program(MPT_QEMU NAMES qemu-i386-static qemu-i386 REQUIRED)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MPT_QEMU} -L /usr/i686-linux-gnu -E
      LD_LIBRARY_PATH=${_mpt_libs})
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR /usr/i686-linux-gnu/lib/ld-linux.so.2 --library-path
      /usr/i686-linux-gnu/lib:${_mpt_libs})
endif()
