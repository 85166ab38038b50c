/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the SOCKS5 side of `mpt proxy --socks5` (RFC 1928).
 *
 * tools/mpt/proxy.c is compiled into this target unchanged (#include
 * below): the fuzzer drives its real client handler, on_client(), which
 * reads from the client's socket, parses the greeting and the CONNECT
 * request (socks_parse()), answers, and on success opens the MPTCP
 * connection (start_mpt()) on a real stack whose packets go nowhere.  The
 * client is one end of a socketpair; the input is written to the other end
 * in pieces whose sizes the input chooses (u8 length, then the bytes), with
 * on_client() run after each piece, so every split of the negotiation is
 * tried.
 *
 * Checked: no sanitizer report (reads past the buffer, overflow of the
 * 600-byte input buffer or of the 256-byte domain name), every reply the
 * client gets is well formed (method selection: 05 00 or 05 ff; request
 * reply: 05 REP 00 01 0.0.0.0:0 with an RFC 1928 §6 code), the handler
 * ends in a defined state, a connection is opened only for a complete
 * CONNECT request with an IPv4/IPv6 (or numeric domain) address, and
 * nothing leaks (LeakSanitizer).
 *
 * Compiling the tool's source in is what keeps this target honest (it
 * tests the code that runs), and also why it depends on proxy.c's internal
 * names (struct px_conn, on_client); see docs/fuzzing.md for the small
 * refactor that would make the parser a function of its own.
 */
#include "../tools/mpt/proxy.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void out_nowhere(void *ud, const uint8_t *pkt, size_t len)
{
	(void)ud;
	(void)pkt;
	(void)len;
}

static void fixed_rand(uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 37 + 11);
}

/* Everything the client got back must be well-formed replies. */
static void check_replies(const uint8_t *r, size_t n, enum px_state end)
{
	size_t off = 0;
	if (n == 0)
		return;
	/* §3 method selection (only once a whole greeting was read). */
	if (n < 2 || r[0] != 5 || (r[1] != 0x00 && r[1] != 0xff))
		abort();
	off = 2;
	if (r[1] == 0xff) {
		if (off != n || end != PX_DONE)
			abort(); /* refused: nothing more, connection closed */
		return;
	}
	if (off == n)
		return;
	/* §6 reply: only failures are sent before the MPTCP side connects. */
	if (n - off != 10 || r[off] != 5 || r[off + 1] == SOCKS_OK || r[off + 1] > SOCKS_BAD_ATYP ||
	    r[off + 2] != 0 || r[off + 3] != 1 || end != PX_DONE)
		abort();
	for (size_t i = off + 4; i < n; i++)
		if (r[i] != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mpt_stack_cfg cfg;
	mpt_stack_cfg_init(&cfg);
	cfg.rand = fixed_rand;
	cfg.output = out_nowhere;
	cfg.n_local = 2;
	(void)mpt_addr_parse(&cfg.local[0], "10.0.1.2");
	(void)mpt_addr_parse(&cfg.local[1], "2001:db8:1::2");
	cfg.mptcp.enable = true;
	static struct px px;
	memset(&px, 0, sizeof(px));
	px.socks = true;
	px.quiet = true;
	px.conf.connect_ns = MPT_NS_PER_S;
	if (mpt_stack_create(&cfg, &px.st) < 0)
		abort();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	struct px_conn *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->px = &px;
	c->fd = sv[0];
	c->state = PX_GREETING;
	while (size > 0 && (c->state == PX_GREETING || c->state == PX_REQUEST)) {
		size_t n = data[0];
		data++;
		size--;
		if (n > size || n == 0)
			n = size;
		if (n && write(sv[1], data, n) != (ssize_t)n)
			abort();
		data += n;
		size -= n;
		on_client(c, EPOLLIN);
		if (c->ilen > sizeof(c->in))
			abort();
	}
	/* Defined end states: still negotiating, refused, or connecting. */
	if (c->state == PX_CONNECTING) {
		if (!c->ms || (c->dest.addr.family != 4 && c->dest.addr.family != 6))
			abort();
	} else if (c->state != PX_GREETING && c->state != PX_REQUEST && c->state != PX_DONE) {
		abort();
	}
	uint8_t replies[64];
	ssize_t got = read(sv[1], replies, sizeof(replies));
	check_replies(replies, got > 0 ? (size_t)got : 0, c->state);
	if (c->ms)
		mpt_abort(c->ms, mpt_backend_now());
	if (c->fd >= 0)
		close(c->fd);
	close(sv[1]);
	free(c);
	mpt_stack_destroy(px.st);
	return 0;
}
