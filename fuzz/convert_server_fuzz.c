/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the RFC 8803 server path of `mpt convert`.
 *
 * tools/mpt/convert.c is compiled into this target unchanged (#include
 * below) and runs on the server stack of the fuzz harness (fuzz/harness.h):
 * its listener accepts the connections the client stack opens, or the
 * segments the fuzzer forges (SYNs carrying the Convert message as TCP Fast
 * Open data, RFC 8803 §3), and its own code reads the message as it comes
 * (hello_pump: any split), parses it, applies the direction rule, the
 * cookie, the TCP-option and allow-list checks, and answers.  connect() to
 * the destination is the one thing replaced (-Wl,--wrap=svc_connect): it
 * fails with an errno the input picks, so the converter's error mapping
 * runs and no packet ever leaves the process; mpt_backend_now() is the
 * harness's simulated clock (-Wl,--wrap=mpt_backend_now).
 *
 * Variants (first byte): TFO without cookie + allow-list; TFO with cookies
 * + a converter cookie required + --allow-any; no TFO + --max-conns 2;
 * IPv6.  Operations: open a client connection (MPTCP or not), write part of
 * a message on one, shut down / close / abort it, read the answers, forge a
 * segment to the converter, let time pass (the converter's deadlines
 * run), lose / duplicate / reorder packets (no bit flips, no forged
 * segments towards the client: what the client reads is checked), pick
 * connect()'s errno.
 *
 * Checked besides the sanitizers: every byte the converter sends back
 * before a relay starts is a well-formed Convert message (Error TLV or
 * Supported TCP Extensions TLV) - a client can always parse the refusal;
 * the converter never has more connections than it accepted; and after
 * the input nothing of either stack is left (arena leak check) and every
 * converter connection object is accounted for.
 */
#include "../tools/mpt/convert.c"

#include "harness.h"

static struct cv g_cv;
static struct cv g_cv_snap;
static int g_connect_err = ECONNREFUSED;

int __wrap_svc_connect(const struct mpt_endpoint *dst, bool nodelay, int *fd);
uint64_t __wrap_mpt_backend_now(void);

int __wrap_svc_connect(const struct mpt_endpoint *dst, bool nodelay, int *fd)
{
	(void)dst;
	(void)nodelay;
	*fd = -1;
	return g_connect_err;
}

uint64_t __wrap_mpt_backend_now(void)
{
	return W.now;
}

#define CV_PORT 5000

static const struct fz_variant vars[] = {
    {.mptcp = true, .version = 1, .arg = 0},
    {.mptcp = true, .version = 1, .arg = 1},
    {.mptcp = true, .version = 0, .arg = 2},
    {.mptcp = true, .version = 1, .v6 = true, .arg = 0},
};
static struct fz_snap snaps[sizeof(vars) / sizeof(vars[0])];

static void cv_event(int host, struct mpt_sock *s, unsigned ev)
{
	if (host == 1)
		on_event(&g_cv, s, ev);
}

static void build(const struct fz_variant *v)
{
	static const uint8_t tfo[] = {MPT_TFO_NO_COOKIE, MPT_TFO_COOKIE, MPT_TFO_OFF};
	fz_make_stacks(v, tfo[v->arg]);
	W.port = CV_PORT;
	memset(&g_cv, 0, sizeof(g_cv));
	g_cv.st = W.st[1];
	g_cv.quiet = true;
	g_cv.handshake_ns = CV_HANDSHAKE_NS;
	g_cv.tfo = tfo[v->arg];
	svc_conf_init(&g_cv.conf);
	static const char *const allow[] = {"192.0.2.0/24:80", "2001:db8:99::/48", "198.51.100.7"};
	switch (v->arg) {
	case 0:
		for (size_t i = 0; i < 2; i++)
			if (parse_allow(allow[i], &g_cv.allow[g_cv.n_allow++]) < 0)
				abort();
		break;
	case 1:
		g_cv.allow_any = true;
		g_cv.conf.cookie_len = 8;
		memcpy(g_cv.conf.cookie, "cookie!!", 8);
		break;
	default:
		g_cv.conf.max_conns = 2;
		if (parse_allow(allow[2], &g_cv.allow[g_cv.n_allow++]) < 0)
			abort();
		break;
	}
	struct mpt_endpoint l = {.port = CV_PORT};
	if (mpt_listen(W.st[1], &l, CV_BACKLOG, &g_cv.lsock) < 0)
		abort();
	g_cv_snap = g_cv;
}

/* What each client connection got back, to be parsed as it completes. */
struct answer {
	uint8_t buf[MPT_CONVERT_MAX_LEN];
	size_t len;
	bool done; /* a whole message was checked (the rest would be relay data) */
};
static struct answer g_ans[FZ_EXTRA];

static void read_answers(int i)
{
	struct mpt_sock *s = W.extra[i];
	struct answer *a = &g_ans[i];
	if (!s)
		return;
	for (int rounds = 0; rounds < 8 && !a->done; rounds++) {
		long rc = mpt_recv(s, a->buf + a->len, sizeof(a->buf) - a->len, W.now);
		if (rc <= 0)
			return;
		a->len += (size_t)rc;
		struct mpt_convert_msg m;
		size_t used = 0;
		int prc = mpt_convert_parse(&m, a->buf, a->len, &used);
		if (prc == MPT_ERR_AGAIN && a->len < sizeof(a->buf))
			continue;
		if (prc != 0)
			FZ_ABORT("the converter sent a malformed Convert message (%s)",
				 mpt_strerror(prc));
		for (unsigned t = 0; t < m.n_tlvs; t++)
			if (m.tlv[t].type != MPT_CONVERT_TLV_ERROR &&
			    m.tlv[t].type != MPT_CONVERT_TLV_SUPPORTED &&
			    m.tlv[t].type != MPT_CONVERT_TLV_EXT_TCP_HDR)
				FZ_ABORT("the converter sent TLV type %u", m.tlv[t].type);
		a->done = true;
	}
}

static void idle(void)
{
	(void)on_idle(&g_cv);
	size_t n = 0;
	for (struct cv_conn *c = g_cv.conns; c; c = c->next)
		n++;
	if (n != g_cv.n_conns)
		FZ_ABORT("converter: %zu connections listed, n_conns %zu", n, g_cv.n_conns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int errs[] = {ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ETIMEDOUT,
				   ECONNRESET,   EACCES,      EMFILE,       ENOBUFS};
	struct fz_in in = {data, size};
	fz_build_hook = build;
	fz_forge_to_server_only = true;
	fz_event_hook = cv_event;
	size_t v = in_u8(&in) % (sizeof(vars) / sizeof(vars[0]));
	bool fresh = !snaps[v].built;
	fz_begin(snaps, vars, v);
	if (fresh)
		g_cv_snap = g_cv;
	g_cv = g_cv_snap;
	memset(g_ans, 0, sizeof(g_ans));
	g_connect_err = ECONNREFUSED;
	for (int ops = 0; in.n && ops < FZ_MAX_OPS; ops++) {
		uint8_t op = in_u8(&in);
		int i = (op >> 3) % FZ_EXTRA;
		switch (op & 7) {
		case 0: { /* a client connection */
			if (W.extra[i])
				break;
			uint8_t b = in_u8(&in);
			struct mpt_conn_opts o;
			mpt_conn_opts_init(W.st[0], &o);
			o.mptcp.enable = !(b & 1);
			struct mpt_endpoint r = {.addr = fz_host_addr(1, (b >> 1) & 1),
						 .port = CV_PORT};
			(void)mpt_connect_ex(W.st[0], &r, NULL, &o, W.now, &W.extra[i]);
			memset(&g_ans[i], 0, sizeof(g_ans[i]));
			fz_settle();
			break;
		}
		case 1: { /* part of a message (u8 length, bytes) */
			const uint8_t *p;
			size_t n = in_take(&in, in_u8(&in), &p);
			if (W.extra[i] && n)
				(void)mpt_send(W.extra[i], p, n, W.now);
			fz_settle();
			break;
		}
		case 2: /* the client ends */
			if (W.extra[i]) {
				uint8_t b = in_u8(&in);
				if (b % 3 == 0) {
					(void)mpt_shutdown(W.extra[i], W.now);
				} else {
					if (b % 3 == 1)
						mpt_close(W.extra[i], W.now);
					else
						mpt_abort(W.extra[i], W.now);
					W.extra[i] = NULL;
				}
				fz_settle();
			}
			break;
		case 3:
			read_answers(i);
			break;
		case 4:
			fz_segment(&in);
			break;
		case 5:
			fz_time(&in);
			idle();
			break;
		case 6:
			/* No bit flips: the answers the client reads are checked. */
			fz_queue(&in, false);
			break;
		default:
			g_connect_err = errs[in_u8(&in) % (sizeof(errs) / sizeof(errs[0]))];
			break;
		}
		for (int k = 0; k < FZ_EXTRA; k++)
			read_answers(k);
	}
	idle();
	/* The converter's connection objects live outside the arena. */
	while (g_cv.conns) {
		struct cv_conn *c = g_cv.conns;
		g_cv.conns = c->next;
		free(c);
	}
	fz_end();
	return 0;
}
