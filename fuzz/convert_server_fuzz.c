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
 * cookie, the TCP-option checks and the destination policy
 * (tools/mpt/dstpolicy.c: built-in refusals, the converter's own addresses,
 * --allow/--deny rules in order, --allow-any), the per-source and
 * --max-conns limits with eviction, and answers.  connect() to
 * the destination is the one thing replaced (-Wl,--wrap=svc_connect): it
 * fails with an errno the input picks, so the converter's error mapping
 * runs and no packet ever leaves the process; mpt_backend_now() is the
 * harness's simulated clock (-Wl,--wrap=mpt_backend_now).
 *
 * Variants (first byte), configured through the converter's own option
 * parser (cv_opt): TFO without cookie + --deny/--allow rules; TFO with
 * cookies + a converter cookie required + --deny + --allow-any; no TFO +
 * --max-conns 2 (eviction); IPv6 + the rules of the first + tight
 * per-source limits.  The host-address layer of the policy (netlink,
 * dp_open) is left out: the fuzzed destinations are documentation
 * addresses no host has.
 * Operations: open a client connection (MPTCP or not), write part of
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
 * converter connection object is accounted for: once the connections
 * left are released, the global and per-source counts are back at zero
 * and no source entry is left.
 */
#include "../tools/mpt/convert.c"

#include "harness.h"

static struct cv g_cv;
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

#define N_VARS 4
static const struct fz_variant vars[N_VARS] = {
    {.mptcp = true, .version = 1, .arg = 0},
    {.mptcp = true, .version = 1, .arg = 1},
    {.mptcp = true, .version = 0, .arg = 2},
    {.mptcp = true, .version = 1, .v6 = true, .arg = 3},
};
static struct fz_snap snaps[N_VARS];
/* The converter of each variant as built: its stack, listener and
 * source table belong to that variant's world. */
static struct cv g_cv_snap[N_VARS];
/* Each variant's one-thread converter shares its source table with no one. */
static struct cv_shared g_sh[N_VARS] = {
    {.team = {.lock = PTHREAD_MUTEX_INITIALIZER}, .n = 1},
    {.team = {.lock = PTHREAD_MUTEX_INITIALIZER}, .n = 1},
    {.team = {.lock = PTHREAD_MUTEX_INITIALIZER}, .n = 1},
    {.team = {.lock = PTHREAD_MUTEX_INITIALIZER}, .n = 1},
};

static void cv_event(int host, struct mpt_sock *s, unsigned ev)
{
	if (host == 1)
		on_event(&g_cv, s, ev);
}

/* One option as `mpt convert` would read it from its command line. */
static void opt(int ch, const char *arg)
{
	if (cv_opt(&g_cv, "convert_server_fuzz", ch, arg) != 0)
		abort();
}

static void build(const struct fz_variant *v)
{
	static const uint8_t tfo[] = {MPT_TFO_NO_COOKIE, MPT_TFO_COOKIE, MPT_TFO_OFF,
				      MPT_TFO_NO_COOKIE};
	fz_make_stacks(v, tfo[v->arg]);
	W.port = CV_PORT;
	/* As mpt_cmd_convert sets it up, minus what needs the host (TUN
	 * devices, netlink, epoll, signals, timerfd, control socket). */
	memset(&g_cv, 0, sizeof(g_cv));
	svc_conf_init(&g_cv.conf);
	g_cv.max_hs_per_source = CV_PER_SOURCE_HS_DEF;
	g_cv.max_total_per_source = CV_PER_SOURCE_TOTAL_DEF;
	g_cv.sig.fd = -1;
	g_cv.timer.fd = -1;
	g_cv.sh = &g_sh[v - vars];
	g_cv.sh->cvs = &g_cv;
	g_cv.threads = 1;
	snprintf(g_cv.name, sizeof(g_cv.name), "%s", prog);
	g_cv.st = W.st[1];
	g_cv.quiet = true;
	g_cv.tfo = tfo[v->arg];
	switch (v->arg) {
	case 0:
	case 3:
		/* First match wins: the upper half of 192.0.2.0/24 stays
		 * refused although the next rule allows the /24. */
		opt(OPT_DENY, "192.0.2.128/25");
		opt(OPT_ALLOW, "192.0.2.0/24:80");
		opt(OPT_ALLOW, "2001:db8:99::/48");
		if (v->arg == 3) {
			g_cv.conf.max_conns = 8;
			opt(OPT_HS_PER_SOURCE, "2");
			opt(OPT_PER_SOURCE, "3");
		}
		break;
	case 1:
		opt(OPT_DENY, "203.0.113.0/24");
		opt(OPT_ALLOW_ANY, NULL);
		g_cv.conf.cookie_len = 8;
		memcpy(g_cv.conf.cookie, "cookie!!", 8);
		break;
	default:
		g_cv.conf.max_conns = 2;
		opt(OPT_ALLOW, "198.51.100.7");
		opt(OPT_ALLOW, "192.0.2.0/24:80-443");
		break;
	}
	/* The converter's own addresses (its --path addresses) are refused. */
	for (size_t p = 0; p < W.cfg[1].n_local; p++)
		g_cv.policy.own[g_cv.policy.n_own++] = W.cfg[1].local[p];
	/* The source table stays allocated from one input to the next: every
	 * input leaves it empty (checked in release_all). */
	if (svc_srcs_init(&g_cv.sh->srcs, g_cv.conf.max_conns) < 0)
		abort();
	struct mpt_endpoint l = {.port = CV_PORT};
	if (mpt_listen(W.st[1], &l, CV_BACKLOG, &g_cv.lsock) < 0)
		abort();
	g_cv_snap[v - vars] = g_cv;
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

/* After on_idle (finished connections freed): the global and per-source
 * counts agree with the states of the connections listed. */
static void idle(void)
{
	(void)on_idle(&g_cv);
	size_t n = 0, hs = 0;
	for (struct cv_conn *c = g_cv.conns; c; c = c->next) {
		n++;
		hs += c->state == CV_HELLO;
		if (c->state == CV_INIT || c->state == CV_DONE)
			FZ_ABORT("converter: connection in state %d after on_idle", (int)c->state);
		uint32_t total = 0, src_hs = 0;
		for (struct cv_conn *d = g_cv.conns; d; d = d->next)
			if (d->src == c->src) {
				total++;
				src_hs += d->state == CV_HELLO;
			}
		if (c->src->total != total || c->src->handshakes != src_hs)
			FZ_ABORT("converter: source counts %u/%u, connections %u/%u", c->src->total,
				 c->src->handshakes, total, src_hs);
	}
	if (n != g_cv.n_active + g_cv.n_refusing || hs != g_cv.n_handshakes ||
	    n > g_cv.ctr.accepted)
		FZ_ABORT("converter: %zu connections listed (%zu handshaking), counts: active "
			 "%zu, refusing %zu, handshaking %zu, accepted %" PRIu64,
			 n, hs, g_cv.n_active, g_cv.n_refusing, g_cv.n_handshakes,
			 (uint64_t)g_cv.ctr.accepted);
	if (g_cv.n_active > g_cv.conf.max_conns)
		FZ_ABORT("converter: %zu active connections, --max-conns %zu", g_cv.n_active,
			 g_cv.conf.max_conns);
}

/* End of an input: release what the converter still holds the way on_idle
 * does for a finished connection; every count must come back to zero. */
static void release_all(void)
{
	while (g_cv.conns) {
		struct cv_conn *c = g_cv.conns;
		g_cv.conns = c->next;
		set_state(c, CV_DONE);
		c->src->total--;
		svc_src_release(&g_cv.sh->srcs, c->src);
		free(c);
	}
	if (g_cv.n_active || g_cv.n_handshakes || g_cv.n_refusing || g_cv.sh->srcs.n)
		FZ_ABORT("converter: counts not zero once every connection is released "
			 "(active %zu, handshaking %zu, refusing %zu, sources %zu)",
			 g_cv.n_active, g_cv.n_handshakes, g_cv.n_refusing, g_cv.sh->srcs.n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int errs[] = {ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ETIMEDOUT,
				   ECONNRESET,   EACCES,      EMFILE,       ENOBUFS};
	struct fz_in in = {data, size};
	fz_build_hook = build;
	fz_forge_to_server_only = true;
	fz_event_hook = cv_event;
	size_t v = in_u8(&in) % N_VARS;
	fz_begin(snaps, vars, v);
	g_cv = g_cv_snap[v];
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
	release_all();
	fz_end();
	return 0;
}
