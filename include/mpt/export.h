/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPT_API marks the functions of mpt's public API (the headers installed
 * under include/mpt/).  The library's objects are compiled with
 * -fvisibility=hidden, so libmpt.so exports what carries MPT_API and
 * nothing else: the engine's internal functions (tcp_output, sim_rng_seed,
 * mpt_key_token_idsn, ...) stay inside the library, where calls to them
 * are direct, and cannot be relied upon or interposed by a program.  The
 * attribute on the declaration is enough for GCC and Clang: the definition
 * takes its visibility from the header it includes.  The tools, tests and
 * benchmarks that use internal functions link the static library
 * (tests/exports_test.sh checks the shared library's symbol table).
 */
#ifndef MPT_EXPORT_H
#define MPT_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define MPT_API __attribute__((visibility("default")))
#else
#define MPT_API
#endif

#endif /* MPT_EXPORT_H */
