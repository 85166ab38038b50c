/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend's error reporting: its setup functions (paths, TUN devices,
 * the event loop) return a negative MPT_ERR_* code and write a sentence
 * for the user into a caller's buffer, which may be absent.  One helper,
 * so that every message is written the same way.  Internal: hidden in
 * libmpt.so like every symbol without MPT_API.
 */
#ifndef MPT_BACKEND_FAIL_H
#define MPT_BACKEND_FAIL_H

#include <stddef.h>

/* Format the message into err (when err && errlen), then return rc. */
int mpt_backend_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
