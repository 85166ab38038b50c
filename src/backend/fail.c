/* SPDX-License-Identifier: Apache-2.0 */
/* The backend's error messages (fail.h). */
#include "backend/fail.h"

#include <stdarg.h>
#include <stdio.h>

int mpt_backend_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
