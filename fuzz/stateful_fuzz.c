/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: whole connections under an adversarial network and
 * adversarial applications, with invariants checked after every step.
 *
 * Two real stacks talk to each other; nothing is forged.  The input (first
 * byte: the variant - plain TCP, MPTCP v1, v1 with DSS checksums, v0, v1
 * over IPv6; all MPTCP ones with joined subflows on two paths) decides,
 * step by step, what the network does with the packets the stacks send
 * (deliver all, deliver one out of order, drop, duplicate, cut a path or
 * repair it, let time pass) and what the applications do (write, read,
 * shut down, close, abort, accept, open connections, drive the path
 * manager, make one allocation fail).
 *
 * Invariants, after every step:
 *  - each application reads exactly the stream its peer wrote: never a
 *    byte out of order, twice or changed (fz_recv checks every byte of a
 *    keyed pseudo-random stream), never more than was written, nothing
 *    after the end of the stream, and the end only after everything and
 *    only when the peer shut down or closed;
 *  - nothing is accepted by mpt_send after mpt_shutdown;
 *  - the counters agree with the applications: bytes received in order
 *    (TCP and data level) are at least what was read and at most what
 *    was written (+1 for the FIN / DATA_FIN); bytes acknowledged at most
 *    what was written;
 *  - the allocator: no double free, no free of a foreign pointer, and at
 *    the end (both stacks destroyed) no block left: checked by the arena
 *    (fuzz/harness.h).
 * And at the end, liveness: unless the input did something that may
 * legitimately kill the connection (abort, address removal, subflow
 * reset, failed allocation) or a socket reports an error, the network is
 * repaired and time runs (up to 10 simulated minutes): every byte written
 * by an application whose peer still reads must arrive, and a shutdown
 * must arrive as the end of the stream.
 */
#include "harness.h"

/*
 * 32 KiB buffers: with 16 KiB (less than 16 segments) MPTCP connections
 * stall for good (fuzz/repro/stateful-sched-stall-16k-sndbuf, reproduce
 * with FZ_BUF=16384); until that is fixed the long runs use 32 KiB so that
 * they look for something else.
 */
static const struct fz_variant vars[] = {
    {.mptcp = false, .buf = 32768},
    {.mptcp = true, .version = 1, .joins = true, .buf = 32768},
    {.mptcp = true, .version = 1, .csum = true, .joins = true, .buf = 32768},
    {.mptcp = true, .version = 0, .csum = true, .joins = true, .buf = 32768},
    {.mptcp = true, .version = 1, .v6 = true, .joins = true, .buf = 32768},
};
static struct fz_snap snaps[sizeof(vars) / sizeof(vars[0])];

static void check_counters(void)
{
	for (int h = 0; h < 2; h++) {
		struct mpt_sock *s = W.sk[h];
		if (!s)
			continue;
		int peer = 1 - h;
		const struct fz_stream *in = &W.s[peer], *out = &W.s[h];
		struct mpt_mptcp_info mi;
		if (W.mptcp && mpt_sock_mptcp_info(s, &mi) == 0 && !mi.fallback) {
			if (mi.mptcpi_bytes_received < in->read ||
			    mi.mptcpi_bytes_received > in->written + 1)
				FZ_ABORT(
				    "host %d: data-level bytes received %llu, peer wrote %llu, "
				    "we read %llu",
				    h, (unsigned long long)mi.mptcpi_bytes_received,
				    (unsigned long long)in->written, (unsigned long long)in->read);
			if (mi.mptcpi_bytes_acked > out->written + 1)
				FZ_ABORT("host %d: %llu bytes DATA_ACKed, %llu written", h,
					 (unsigned long long)mi.mptcpi_bytes_acked,
					 (unsigned long long)out->written);
		}
		struct mpt_sock_info si;
		if (!W.mptcp && mpt_sock_info(s, &si) == 0) {
			if (si.bytes_received < in->read || si.bytes_received > in->written + 1)
				FZ_ABORT("host %d: TCP bytes received %llu, peer wrote %llu, we "
					 "read %llu",
					 h, (unsigned long long)si.bytes_received,
					 (unsigned long long)in->written,
					 (unsigned long long)in->read);
			if (si.bytes_acked > out->written + 1)
				FZ_ABORT("host %d: %llu bytes acked, %llu written", h,
					 (unsigned long long)si.bytes_acked,
					 (unsigned long long)out->written);
		}
	}
}

/* The network is repaired; everything written must arrive. */
static void check_liveness(void)
{
	if (fz_disruptive || !W.sk[0] || !W.sk[1] || mpt_sock_error(W.sk[0]) ||
	    mpt_sock_error(W.sk[1]))
		return;
	W.cut = 0;
	W.hold = false;
	fz_budget = 1L << 30; /* the loop below is bounded itself */
	uint64_t deadline = W.now + 600 * MPT_NS_PER_S;
	bool settled = false; /* nothing left to happen, or the 10 minutes passed */
	for (int i = 0; i < 20000; i++) {
		if (W.now >= deadline) {
			settled = true;
			break;
		}
		fz_pump();
		fz_recv(0, 0);
		fz_recv(1, 0);
		bool done = true;
		for (int h = 0; h < 2; h++)
			if (W.s[h].read != W.s[h].written || (W.s[h].shut && !W.s[h].eof))
				done = false;
		if (done)
			return;
		uint64_t d0 = mpt_stack_next_deadline(W.st[0]);
		uint64_t d1 = mpt_stack_next_deadline(W.st[1]);
		uint64_t d = d0 < d1 ? d0 : d1;
		if (d == MPT_TIME_NEVER && fz_qn == 0) {
			settled = true;
			break;
		}
		fz_advance(d > W.now ? d - W.now : 1);
	}
	if (!settled)
		return; /* still busy after 20,000 steps: no verdict */
	if (mpt_sock_error(W.sk[0]) || mpt_sock_error(W.sk[1]))
		return; /* e.g. too many retransmissions while the network was cut */
	if (fz_trace > 0)
		for (int h = 0; h < 2; h++)
			for (int i = 0; i < mpt_counter_count(); i++)
				if (mpt_stack_counter(W.st[h], i))
					fprintf(stderr, "host %d: %s %llu\n", h,
						mpt_counter_name(i),
						(unsigned long long)mpt_stack_counter(W.st[h], i));
	for (int h = 0; h < 2; h++) {
		if (W.s[h].read != W.s[h].written)
			FZ_ABORT("stalled: host %d wrote %llu bytes, host %d read %llu after the "
				 "network was repaired",
				 h, (unsigned long long)W.s[h].written, 1 - h,
				 (unsigned long long)W.s[h].read);
		if (W.s[h].shut && !W.s[h].eof)
			FZ_ABORT("host %d shut down; host %d never saw the end of the stream", h,
				 1 - h);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	fz_check_data = true;
	fz_disruptive = false;
	fz_begin(snaps, vars, in_u8(&in) % (sizeof(vars) / sizeof(vars[0])));
	W.hold = true;
	for (int ops = 0; in.n && ops < FZ_MAX_OPS; ops++) {
		uint8_t op = in_u8(&in);
		switch (op % 8) {
		case 0:
		case 1:
			fz_pump();
			break;
		case 2:
			fz_queue(&in, false);
			break;
		case 3:
			fz_time(&in);
			break;
		case 4:
		case 5:
			fz_app(&in);
			break;
		case 6:
			W.cut ^= (uint8_t)(1u << (in_u8(&in) % FZ_NPATHS));
			break;
		default: { /* both write, both read: traffic */
			uint8_t b = in_u8(&in);
			fz_send(0, (size_t)(b & 15) * 512 + 1);
			fz_send(1, (size_t)(b >> 4) * 512 + 1);
			fz_recv(0, 0);
			fz_recv(1, 0);
			break;
		}
		}
		check_counters();
	}
	check_liveness();
	check_counters();
	fz_end();
	return 0;
}
