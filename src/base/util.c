/* SPDX-License-Identifier: Apache-2.0 */
/* Error strings and address helpers. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

const char *mpt_strerror(int err)
{
	switch (err) {
	case MPT_OK:
		return "success";
	case MPT_ERR_INVAL:
		return "invalid argument";
	case MPT_ERR_NOMEM:
		return "out of memory";
	case MPT_ERR_TRUNCATED:
		return "truncated input";
	case MPT_ERR_BADLEN:
		return "bad length field";
	case MPT_ERR_CHECKSUM:
		return "checksum mismatch";
	case MPT_ERR_FRAGMENT:
		return "IP fragment not supported";
	case MPT_ERR_PROTO:
		return "protocol violation";
	case MPT_ERR_UNSUPPORTED:
		return "unsupported";
	case MPT_ERR_NOSPACE:
		return "no space in output buffer";
	case MPT_ERR_AGAIN:
		return "try again";
	case MPT_ERR_STATE:
		return "invalid state for operation";
	case MPT_ERR_CLOSED:
		return "connection closed";
	case MPT_ERR_RESET:
		return "connection reset";
	case MPT_ERR_TIMEDOUT:
		return "timed out";
	case MPT_ERR_REFUSED:
		return "connection refused";
	case MPT_ERR_EXIST:
		return "already exists";
	case MPT_ERR_NOTFOUND:
		return "not found";
	case MPT_ERR_LIMIT:
		return "resource limit reached";
	default:
		return "unknown error";
	}
}

int mpt_addr_parse(struct mpt_addr *out, const char *text)
{
	if (!out || !text)
		return MPT_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = 6;
		return 0;
	}
	return MPT_ERR_INVAL;
}

char *mpt_addr_format(const struct mpt_addr *a, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	if (!a)
		return buf;
	if (a->family == 4) {
		if (!inet_ntop(AF_INET, a->bytes, buf, (socklen_t)len))
			buf[0] = '\0';
	} else if (a->family == 6) {
		if (!inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len))
			buf[0] = '\0';
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

bool mpt_addr_equal(const struct mpt_addr *a, const struct mpt_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}
