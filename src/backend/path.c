/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of --path specifications (ADDR/PLEN,key=value,...). */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mpt/backend.h"

#define PATH_SPEC_MAX 256

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return MPT_ERR_INVAL;
}

/* A finite decimal number in [lo, hi] with nothing after it. */
static bool parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	if (!*s)
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* A decimal integer in [lo, hi]: digits only (no sign, exponent or point). */
static bool parse_int(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	if (!*s || strlen(s) > 9)
		return false;
	unsigned long v = 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Interface names: 1..15 bytes, no '/', no whitespace, not "." or ".."
 * (what the kernel's dev_valid_name accepts). */
static bool valid_dev(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= MPT_DEV_NAME_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' || c == ':' || c <= ' ' || c >= 0x7f)
			return false;
	}
	return true;
}

int mpt_path_parse(const char *spec, struct mpt_path_cfg *out, char *err, size_t errlen)
{
	if (!spec || !out)
		return fail(err, errlen, "no path given");
	if (strlen(spec) >= PATH_SPEC_MAX)
		return fail(err, errlen, "path specification too long");
	char buf[PATH_SPEC_MAX];
	snprintf(buf, sizeof(buf), "%s", spec);
	struct mpt_path_cfg p;
	memset(&p, 0, sizeof(p));

	char *save = NULL;
	char *tok = strtok_r(buf, ",", &save);
	if (!tok || tok != buf)
		return fail(err, errlen, "'%s': expected ADDR/PLEN first", spec);
	char *slash = strchr(tok, '/');
	if (slash)
		*slash = '\0';
	if (mpt_addr_parse(&p.addr, tok) < 0)
		return fail(err, errlen, "'%s' is not an IPv4 or IPv6 address", tok);
	unsigned maxlen = p.addr.family == 4 ? 32 : 128;
	p.plen = (uint8_t)maxlen;
	if (slash) {
		unsigned long v;
		if (!parse_int(slash + 1, 0, maxlen, &v))
			return fail(err, errlen, "prefix length '%s' is not an integer in [0, %u]",
				    slash + 1, maxlen);
		p.plen = (uint8_t)v;
	}

	unsigned seen = 0;
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		char *val = strchr(tok, '=');
		if (val)
			*val++ = '\0';
		static const char *const keys[] = {"gw",   "dev", "backup", "delay",   "loss",
						   "rate", "mtu", "signal", "subflow", "fullmesh"};
		unsigned k;
		for (k = 0; k < MPT_ARRAY_SIZE(keys); k++)
			if (!strcmp(tok, keys[k]))
				break;
		if (k == MPT_ARRAY_SIZE(keys))
			return fail(
			    err, errlen,
			    "unknown path option '%s' (known: gw, dev, backup, delay, loss, "
			    "rate, mtu, signal, subflow, fullmesh)",
			    tok);
		if (seen & (1u << k))
			return fail(err, errlen, "path option '%s' given twice", tok);
		seen |= 1u << k;
		bool is_flag = k == 2 || k >= 7;
		if (is_flag && val)
			return fail(err, errlen, "path option '%s' takes no value", tok);
		if (!is_flag && (!val || !*val))
			return fail(err, errlen, "path option '%s' needs a value (%s=...)", tok,
				    tok);
		unsigned long v = 0;
		switch (k) {
		case 0:
			if (mpt_addr_parse(&p.gw, val) < 0)
				return fail(err, errlen, "gateway '%s' is not an address", val);
			if (p.gw.family != p.addr.family)
				return fail(err, errlen,
					    "gateway '%s' is not of the path address's family",
					    val);
			break;
		case 1:
			if (!valid_dev(val))
				return fail(err, errlen,
					    "device name '%s' is invalid (1-15 characters, no "
					    "'/', ':' or spaces)",
					    val);
			snprintf(p.dev, sizeof(p.dev), "%s", val);
			break;
		case 2:
			p.backup = true;
			break;
		case 7: /* endpoint flags of the "endpoints" path manager */
			p.flags |= MPT_LOCAL_SIGNAL;
			break;
		case 8:
			p.flags |= MPT_LOCAL_SUBFLOW;
			break;
		case 9:
			p.flags |= MPT_LOCAL_FULLMESH;
			break;
		case 3:
			if (!parse_int(val, 0, 60000, &v))
				return fail(err, errlen,
					    "delay '%s' is not an integer (ms) in [0, 60000]", val);
			p.delay_ms = (uint32_t)v;
			break;
		case 4:
			if (!parse_num(val, 0, 100, &p.loss_pct))
				return fail(err, errlen,
					    "loss '%s' is not a percentage in [0, 100]", val);
			break;
		case 5:
			if (!parse_num(val, 0.001, 1e6, &p.rate_mbit))
				return fail(err, errlen,
					    "rate '%s' is not a number of Mbit/s in [0.001, 1e6]",
					    val);
			break;
		case 6: {
			/* IPv6 links carry at least 1280 bytes (RFC 8200 §5); every
			 * IPv4 host accepts 576-byte datagrams (RFC 791). */
			unsigned long lo = p.addr.family == 6 ? 1280 : 576;
			if (!parse_int(val, lo, 65535, &v))
				return fail(err, errlen,
					    "mtu '%s' is not an integer in [%lu, 65535]", val, lo);
			p.mtu = (uint16_t)v;
			break;
		}
		default:
			break;
		}
	}
	*out = p;
	return 0;
}
