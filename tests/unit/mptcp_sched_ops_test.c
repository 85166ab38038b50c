/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schedulers (src/mptcp/sched_*.c) called through their ops tables
 * (policy.h) on an established connection whose subflows the test sets
 * up between calls: RTT estimates, congestion windows, backup and stale
 * flags.  The engine's own scheduler is replaced by one that sends
 * nothing, so that data written by the application waits in the
 * connection's send buffer until the test calls ops->push itself; the
 * simulator is not run between a push and its checks (no ACK moves
 * anything meanwhile).
 *
 * What is asserted is what docs/policies.md and the files' headers
 * promise: minrtt sends on the lowest-RTT subflow with room, never on a
 * stale one, on a backup only when no regular subflow is usable (RFC 8684
 * §3.3.8); rr hands chunks to the subflows in turn; redundant sends every
 * byte on every usable subflow; ecf waits for the fast subflow when the
 * rule of Lim et al. (CoNEXT 2017, Algorithm 1) says waiting completes
 * sooner, and uses the slow one otherwise.
 */
#include "mptcp_ops_harness.h"

static void hold_push(struct mpt_mpconn *mp, uint64_t now)
{
	(void)mp;
	(void)now;
}

/* Holds every byte the application writes until the test pushes. */
static const struct mpt_sched_ops sched_hold = {.name = "hold", .push = hold_push};

#define NSF 3

struct sx {
	struct opsx x;
	struct mpt_subflow *sf[NSF]; /* the usable ones, in mp->sf order */
	uint32_t wseq[NSF];          /* write sequence at the last snapshot */
	size_t nmap[NSF];            /* mappings at the last snapshot */
	/* Stale flags to apply right before a push: the engine recomputes
	 * sf->stale from its RTO counts whenever it runs (conn.c), e.g. on
	 * the application's write. */
	bool stale[NSF];
	uint8_t buf[512 * 1024];
};

static struct sx S;

static struct mpt_tcp *tcp_of(struct mpt_subflow *sf)
{
	return sf->flow->tcp;
}

static void set_rtt(struct mpt_subflow *sf, uint64_t ms)
{
	struct mpt_tcp *t = tcp_of(sf);
	t->srtt = ms * OPS_MS;
	t->min_rtt = ms * OPS_MS;
	t->rttvar = 0;
}

static void snapshot(void)
{
	for (size_t i = 0; i < NSF; i++) {
		S.wseq[i] = mpt_tcp_snd_write_seq(tcp_of(S.sf[i]));
		S.nmap[i] = mpt_maplist_count(&S.sf[i]->tx);
	}
}

/* Bytes handed to subflow i since the last snapshot. */
static uint32_t took(size_t i)
{
	return mpt_tcp_snd_write_seq(tcp_of(S.sf[i])) - S.wseq[i];
}

/* Queue n bytes at the connection level (the held scheduler sends none). */
static void queue(size_t n)
{
	assert_true(n <= sizeof(S.buf));
	uint64_t nxt = S.x.mp->snd_nxt;
	long r = mpt_send(S.x.cs, S.buf, n, opsx_now(&S.x));
	assert_int_equal(r, (long)n);
	assert_true(S.x.mp->snd_nxt == nxt); /* nothing left yet */
	snapshot();                          /* what the engine did meanwhile is not the policy's */
}

static void push(const struct mpt_sched_ops *ops)
{
	for (size_t i = 0; i < NSF; i++)
		S.sf[i]->stale = S.stale[i];
	ops->push(S.x.mp, opsx_now(&S.x));
}

static uint64_t counter(const char *name)
{
	return opsx_counter(S.x.c, name);
}

/* Every subflow usable, regular, not stale, RTTs 10/20/30 ms, windows
 * opened wide (so that room is not what decides unless a test says so). */
static void reset_flags(void)
{
	for (size_t i = 0; i < NSF; i++) {
		S.sf[i]->backup = S.sf[i]->peer_backup = S.stale[i] = false;
		set_rtt(S.sf[i], 10 * (i + 1));
		tcp_of(S.sf[i])->cc.cwnd = 64 * tcp_of(S.sf[i])->snd_mss;
		/* Not idle: RFC 5681 §4.1's restart would cut the window the
		 * test sets at the first send (the simulator is paused). */
		tcp_of(S.sf[i])->last_send = opsx_now(&S.x);
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&S, 0, sizeof(S));
	for (size_t i = 0; i < sizeof(S.buf); i++)
		S.buf[i] = (uint8_t)(i * 7u);
	struct opsx_cfg cfg = {.npaths = NSF, .max_subflows = NSF};
	opsx_start(&S.x, &cfg);
	struct mpt_mpconn *mp = S.x.mp;
	opsx_dump(&S.x);
	assert_true(mp->fully_established);
	/* Which address pairs the subflows use does not matter here. */
	size_t n = 0;
	for (size_t i = 0; i < mp->nsf && n < NSF; i++)
		if (mpt_sf_usable(mp->sf[i]))
			S.sf[n++] = mp->sf[i];
	for (size_t i = 0; i < NSF; i++)
		assert_non_null(S.sf[i]);
	mp->sched = &sched_hold;
	reset_flags();
	snapshot();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	S.x.mp->sched = &mpt_sched_minrtt;
	opsx_stop(&S.x);
	return 0;
}

/* ---- minrtt ------------------------------------------------------------- */

/* The chunk goes to the lowest smoothed RTT, whichever subflow has it. */
static void minrtt_lowest_rtt(void **state)
{
	(void)state;
	static const uint64_t rtt[3][NSF] = {{30, 10, 20}, {5, 40, 20}, {25, 15, 8}};
	static const size_t want[3] = {1, 0, 2};
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < NSF; i++)
			set_rtt(S.sf[i], rtt[k][i]);
		snapshot();
		queue(8000);
		push(&mpt_sched_minrtt);
		for (size_t i = 0; i < NSF; i++)
			assert_int_equal(took(i), i == want[k] ? 8000 : 0);
		assert_true(S.x.mp->snd_nxt == S.x.mp->snd.end);
	}
}

/* Stale subflows are skipped even with the lowest RTT. */
static void minrtt_skips_stale(void **state)
{
	(void)state;
	reset_flags(); /* RTTs 10, 20, 30 */
	S.stale[0] = true;
	queue(6000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 6000);
	assert_int_equal(took(2), 0);
	S.stale[1] = true;
	queue(6000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 0);
	assert_int_equal(took(2), 6000);
	/* Every subflow stale: nothing is sent, the data waits. */
	S.stale[2] = true;
	queue(6000);
	push(&mpt_sched_minrtt);
	for (size_t i = 0; i < NSF; i++)
		assert_int_equal(took(i), 0);
	assert_true(S.x.mp->snd_nxt + 6000 == S.x.mp->snd.end);
	reset_flags();
	push(&mpt_sched_minrtt);
	assert_true(S.x.mp->snd_nxt == S.x.mp->snd.end);
}

/* A backup (ours or the peer's B flag) is skipped while a regular subflow
 * is usable, even a slower one, and used when none is (RFC 8684 §3.3.8). */
static void minrtt_backup(void **state)
{
	(void)state;
	reset_flags(); /* RTTs 10, 20, 30 */
	S.sf[0]->backup = true;
	S.sf[1]->peer_backup = true;
	queue(5000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 0);
	assert_int_equal(took(2), 5000);
	/* The one regular subflow is stale: the fastest backup carries. */
	S.stale[2] = true;
	queue(5000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 5000);
	assert_int_equal(took(1), 0);
	assert_int_equal(took(2), 0);
	/* The regular one recovers: the backups idle again. */
	S.stale[2] = false;
	queue(5000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 0);
	assert_int_equal(took(2), 5000);
	reset_flags();
}

/* A regular subflow that is merely full (no room) does not make the
 * backups eligible: the data waits (§3.3.8: "not merely busy"). */
static void minrtt_backup_not_when_busy(void **state)
{
	(void)state;
	reset_flags();
	S.sf[1]->backup = true;
	S.sf[2]->backup = true;
	tcp_of(S.sf[0])->cc.cwnd = 0; /* no room on the one regular subflow */
	queue(5000);
	push(&mpt_sched_minrtt);
	for (size_t i = 0; i < NSF; i++)
		assert_int_equal(took(i), 0);
	reset_flags();
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 5000);
	assert_int_equal(took(1), 0);
	assert_int_equal(took(2), 0);
}

/* The fastest subflow without room is passed over for the next fastest
 * (RTTs within 1.5x: the head-of-line guard stays out of it). */
static void minrtt_room(void **state)
{
	(void)state;
	reset_flags();
	set_rtt(S.sf[0], 12);
	set_rtt(S.sf[1], 10);
	set_rtt(S.sf[2], 14);
	tcp_of(S.sf[1])->cc.cwnd = 0;
	queue(7000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 7000);
	assert_int_equal(took(1), 0);
	assert_int_equal(took(2), 0);
	tcp_of(S.sf[0])->cc.cwnd = 0;
	queue(7000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 0);
	assert_int_equal(took(2), 7000);
	reset_flags();
}

/*
 * Head-of-line guard (docs/mptcp-design.md, minrtt): f (10 ms) full, s
 * (100 ms, over 1.5x) with room.  In one RTT of s, f sends about
 * x = cwnd_f * 10 = 290 kB; the shared window is far larger here, so s is
 * skipped only while f alone would send everything queued before s
 * delivers anything (queued <= x).
 */
static void minrtt_hol_guard(void **state)
{
	(void)state;
	reset_flags();
	struct mpt_subflow *f = S.sf[0], *s = S.sf[1];
	S.stale[2] = true;
	set_rtt(f, 10);
	set_rtt(s, 100);
	uint32_t C = 20 * tcp_of(f)->snd_mss;
	tcp_of(f)->cc.cwnd = C;
	tcp_of(s)->cc.cwnd = C;
	queue(2 * C);
	push(&mpt_sched_minrtt);
	assert_true(took(0) >= C);
	assert_int_equal(took(1), 0);
	assert_int_equal(mpt_sched_sf_room(f, MPT_MP_MAP_MAX), 0);
	/* 100 kB queued < x: wait for f. */
	uint64_t holw = counter("MPTCPSchedHolWait");
	queue(100000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 0);
	assert_true(counter("MPTCPSchedHolWait") > holw);
	/* 400 kB queued > x: s helps and is used. */
	queue(300000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 0);
	assert_true(took(1) > 0);
	reset_flags();
	push(&mpt_sched_minrtt);
}

/* Within 1.5x (s at 14 ms) the guard stays out even for little data (x
 * would be 1.4 C > 3000 bytes). */
static void minrtt_no_guard_similar_rtts(void **state)
{
	(void)state;
	reset_flags();
	struct mpt_subflow *f = S.sf[0], *s = S.sf[1];
	S.stale[2] = true;
	set_rtt(f, 10);
	set_rtt(s, 14);
	uint32_t C = 20 * tcp_of(f)->snd_mss;
	tcp_of(f)->cc.cwnd = C;
	queue(2 * C);
	push(&mpt_sched_minrtt);
	assert_int_equal(mpt_sched_sf_room(f, MPT_MP_MAP_MAX), 0);
	queue(3000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 3000);
	reset_flags();
	push(&mpt_sched_minrtt);
}

/* ---- rr ----------------------------------------------------------------- */

struct mapref {
	uint64_t dsn;
	size_t sf;
};

static int mapref_cmp(const void *a, const void *b)
{
	const struct mapref *x = a, *y = b;
	return x->dsn < y->dsn ? -1 : x->dsn > y->dsn;
}

/* New mappings since the last snapshot, in DSN order. */
static size_t new_maps(struct mapref *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < NSF; i++) {
		size_t c = mpt_maplist_count(&S.sf[i]->tx);
		for (size_t k = S.nmap[i]; k < c && n < max; k++)
			out[n++] =
			    (struct mapref){.dsn = mpt_maplist_at(&S.sf[i]->tx, k)->dsn, .sf = i};
	}
	qsort(out, n, sizeof(out[0]), mapref_cmp);
	return n;
}

/* Chunks go to the subflows in turn, whatever their RTTs. */
static void rr_alternates(void **state)
{
	(void)state;
	reset_flags(); /* RTTs 10, 20, 30: rr ignores them */
	/* Windows of 64 segments: every chunk is a full mapping. */
	queue(6 * MPT_MP_MAP_MAX);
	push(&mpt_sched_rr);
	struct mapref m[32];
	size_t n = new_maps(m, 32);
	printf("  rr: %zu mappings:", n);
	for (size_t k = 0; k < n; k++)
		printf(" %zu", m[k].sf);
	printf("\n");
	assert_int_equal(n, 6);
	for (size_t k = 1; k < n; k++)
		assert_int_equal(m[k].sf, (m[k - 1].sf + 1) % NSF);
	for (size_t i = 0; i < NSF; i++)
		assert_int_equal(took(i), 2 * MPT_MP_MAP_MAX);
	reset_flags();
	push(&mpt_sched_rr);
}

/* rr skips a stale subflow and a backup while regular ones are usable. */
static void rr_skips_backup_and_stale(void **state)
{
	(void)state;
	reset_flags();
	uint32_t mss = tcp_of(S.sf[0])->snd_mss;
	S.sf[0]->backup = true;
	S.stale[1] = true;
	queue(4 * 16 * mss);
	push(&mpt_sched_rr);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 0);
	assert_true(took(2) > 0);
	/* The regular one stale too: the backup carries. */
	S.stale[2] = true;
	queue(16 * mss);
	push(&mpt_sched_rr);
	assert_int_equal(took(0), 16 * mss);
	assert_int_equal(took(1), 0);
	assert_int_equal(took(2), 0);
	reset_flags();
	push(&mpt_sched_rr);
}

/* ---- redundant ---------------------------------------------------------- */

/* Every byte on every usable regular subflow, at the same DSNs. */
static void redundant_every_subflow(void **state)
{
	(void)state;
	reset_flags();
	/* Cursors start where the connection is. */
	for (size_t i = 0; i < NSF; i++) {
		S.sf[i]->sched_dsn = S.x.mp->snd_nxt;
		S.sf[i]->sched_dsn_set = true;
	}
	uint64_t dsn = S.x.mp->snd_nxt;
	queue(9000);
	push(&mpt_sched_redundant);
	for (size_t i = 0; i < NSF; i++) {
		assert_int_equal(took(i), 9000);
		assert_int_equal(mpt_maplist_count(&S.sf[i]->tx), S.nmap[i] + 1);
		const struct mpt_map *m = mpt_maplist_at(&S.sf[i]->tx, S.nmap[i]);
		assert_true(m->dsn == dsn);
		assert_int_equal(m->len, 9000);
	}
	/* A stale one and a backup get nothing; the others still everything. */
	S.stale[0] = true;
	S.sf[2]->backup = true;
	queue(4000);
	push(&mpt_sched_redundant);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 4000);
	assert_int_equal(took(2), 0);
	/* No regular one usable: the backup gets the data. */
	S.stale[1] = true;
	queue(3000);
	push(&mpt_sched_redundant);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 0);
	assert_true(took(2) >= 3000); /* from its own cursor: the 4000 it missed too */
	reset_flags();
	push(&mpt_sched_redundant);
}

/* A subflow that lagged (stale while the others delivered) restarts from
 * DATA_ACK, not from its own cursor: delivered bytes are not sent again. */
static void redundant_cursor_jumps_to_data_ack(void **state)
{
	(void)state;
	reset_flags();
	for (size_t i = 0; i < NSF; i++) {
		S.sf[i]->sched_dsn = S.x.mp->snd_nxt;
		S.sf[i]->sched_dsn_set = true;
	}
	uint64_t start = S.x.mp->snd_nxt;
	S.stale[0] = true;
	queue(20000);
	push(&mpt_sched_redundant);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 20000);
	assert_int_equal(took(2), 20000);
	/* The others deliver it: DATA_ACK passes sf[0]'s cursor. */
	opsx_run(&S.x, 500 * OPS_MS);
	assert_true(S.x.mp->snd.una == start + 20000);
	assert_true(S.sf[0]->sched_dsn == start);
	reset_flags();
	queue(2000);
	push(&mpt_sched_redundant);
	for (size_t i = 0; i < NSF; i++) {
		assert_int_equal(took(i), 2000);
		const struct mpt_map *m =
		    mpt_maplist_at(&S.sf[i]->tx, mpt_maplist_count(&S.sf[i]->tx) - 1);
		assert_true(m->dsn == start + 20000);
	}
}

/* ---- ecf ---------------------------------------------------------------- */

/*
 * Two subflows: f (10 ms) full, s (rtt_s) with room; sf[2] stale.  With
 * cwnd_f = cwnd_s = C and k bytes queued, ECF waits when
 *   (1 + k / C) * 10 ms < rtt_s + delta  and  (k / C) * rtt_s >= 20 ms + delta
 * (delta = 0 here: rttvar 0).
 */
static void ecf_wait_or_slow(void **state)
{
	(void)state;
	reset_flags();
	struct mpt_subflow *f = S.sf[0], *s = S.sf[1];
	uint32_t mss = tcp_of(f)->snd_mss;
	uint32_t C = 20 * mss;
	S.stale[2] = true;
	set_rtt(f, 10);
	set_rtt(s, 100);
	tcp_of(f)->cc.cwnd = C;
	tcp_of(s)->cc.cwnd = C;
	/* While f has room, ECF is minrtt: everything on f until it is full. */
	queue(2 * C + 3 * C); /* k = 3 C left once f is full */
	uint64_t waits = counter("MPTCPSchedEcfWait");
	push(&mpt_sched_ecf);
	printf("  ecf: f took %u, s took %u, queued %llu\n", took(0), took(1),
	       (unsigned long long)(S.x.mp->snd.end - S.x.mp->snd_nxt));
	assert_true(took(0) >= C);
	assert_int_equal(mpt_sched_sf_room(f, MPT_MP_MAP_MAX), 0);
	/* (1 + 3) * 10 = 40 ms < 100 ms and 3 * 100 ms >= 20 ms: wait. */
	assert_int_equal(took(1), 0);
	assert_true(S.x.mp->sched_wait);
	assert_int_equal(counter("MPTCPSchedEcfWait"), waits + 1);
	/* rtt_s 35 ms: 40 ms < (1 + 1/4) * 35 ms while waiting (w = 1, the
	 * hysteresis): still wait. */
	set_rtt(s, 35);
	snapshot();
	push(&mpt_sched_ecf);
	assert_int_equal(took(1), 0);
	assert_true(S.x.mp->sched_wait);
	/* The same state without the wait bit: 40 ms >= 35 ms, s completes
	 * sooner and takes a chunk (at most its window).  The rule is
	 * judged per chunk: with k down to about 2 C, (1 + 2) * 10 ms < 35 ms
	 * and ECF waits for f again. */
	S.x.mp->sched_wait = false;
	push(&mpt_sched_ecf);
	assert_true(took(1) > 0);
	assert_true(took(1) <= C);
	assert_int_equal(took(0), 0);
	assert_true(S.x.mp->snd_nxt != S.x.mp->snd.end);
	assert_true(S.x.mp->sched_wait);
	reset_flags();
	push(&mpt_sched_ecf);
}

/* Little data queued behind a full fast subflow: k / C * rtt_s < 2 rtt_f
 * (the second condition fails although the first holds): s finishes it
 * before f could even start, no wait. */
static void ecf_small_k_uses_slow(void **state)
{
	(void)state;
	reset_flags();
	struct mpt_subflow *f = S.sf[0], *s = S.sf[1];
	S.stale[2] = true;
	set_rtt(f, 10);
	set_rtt(s, 100);
	uint32_t mss = tcp_of(f)->snd_mss;
	uint32_t C = 20 * mss;
	tcp_of(f)->cc.cwnd = C;
	tcp_of(s)->cc.cwnd = C;
	queue(2 * C); /* f fills up (what rounding leaves may go to s) */
	push(&mpt_sched_ecf);
	assert_true(took(0) >= C);
	assert_int_equal(mpt_sched_sf_room(f, MPT_MP_MAP_MAX), 0);
	/* k = 1000: (1 + 0) * 10 ms < 100 ms, but 1000 / C * 100 ms = 3.5 ms
	 * < 20 ms. */
	queue(1000);
	push(&mpt_sched_ecf);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 1000);
	assert_false(S.x.mp->sched_wait);
	/* k = 3 C on the same state: both conditions hold, wait. */
	queue(3 * C);
	push(&mpt_sched_ecf);
	assert_int_equal(took(0), 0);
	assert_int_equal(took(1), 0);
	assert_true(S.x.mp->sched_wait);
	/* f's window closed (cwnd 0, taken as 1 byte): n * rtt_f is then far
	 * beyond rtt_s, waiting never pays, s is used. */
	tcp_of(f)->cc.cwnd = 0;
	snapshot();
	push(&mpt_sched_ecf);
	assert_int_equal(took(0), 0);
	assert_true(took(1) >= C / 2);
	assert_false(S.x.mp->sched_wait);
	reset_flags();
	push(&mpt_sched_ecf);
}

/* ---- a join's first mapping (sched.c join_first) ----------------------- */

/* The mapping sf was handed first since the last snapshot. */
static const struct mpt_map *first_new_map(size_t i)
{
	return mpt_maplist_at(&S.sf[i]->tx, S.nmap[i]);
}

/*
 * A join we opened starts with a mapping at the DATA_ACK of its fourth
 * ACK (Linux rebases the first mapping of a join it completes late to
 * that value: input.c join_pin).  (a) Picked for later data while the
 * data there is in flight elsewhere: one segment copied from there first,
 * then the chunk.  (b) Picked for the data at that very point: sent as
 * it is, no copy.  (c) DATA_ACK moved past it: released, no copy.
 */
static void join_first_mapping(void **state)
{
	(void)state;
	struct mpt_mpconn *mp = S.x.mp;
	uint64_t c0 = counter("MPJoinFirstAtAck");
	/* (a) sf[1] pinned at DATA_ACK; 8000 bytes go to sf[0] first. */
	S.sf[1]->join_pin = true;
	S.sf[1]->join_pin_dsn = mp->snd.una;
	uint64_t pin = mp->snd.una;
	set_rtt(S.sf[0], 5);
	queue(8000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 8000);
	assert_int_equal(took(1), 0);
	assert_true(S.sf[1]->join_pin);
	/* Now sf[1] is the fastest: its first mapping starts at pin. */
	set_rtt(S.sf[0], 30);
	set_rtt(S.sf[1], 5);
	queue(4000);
	push(&mpt_sched_minrtt);
	uint32_t seg = tcp_of(S.sf[1])->snd_mss;
	const struct mpt_map *m = first_new_map(1);
	assert_non_null(m);
	assert_true(m->dsn == pin);
	assert_true(m->len > 0 && m->len <= 8000);
	assert_int_equal(took(1), m->len + 4000);
	assert_true(m->len <= seg); /* one segment's worth */
	m = mpt_maplist_at(&S.sf[1]->tx, S.nmap[1] + 1);
	assert_non_null(m);
	assert_true(m->dsn == pin + 8000 && m->len == 4000);
	assert_false(S.sf[1]->join_pin);
	assert_int_equal(counter("MPJoinFirstAtAck"), c0 + 1);
	/* (b) sf[2] pinned at the next new data: it takes it, no copy. */
	S.sf[2]->join_pin = true;
	S.sf[2]->join_pin_dsn = mp->snd_nxt;
	pin = mp->snd_nxt;
	set_rtt(S.sf[1], 30);
	set_rtt(S.sf[2], 5);
	queue(3000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(2), 3000);
	m = first_new_map(2);
	assert_non_null(m);
	assert_true(m->dsn == pin && m->len == 3000);
	assert_false(S.sf[2]->join_pin);
	assert_int_equal(counter("MPJoinFirstAtAck"), c0 + 2);
	/* (c) pinned below DATA_ACK (it moved): released, nothing copied. */
	S.sf[0]->join_pin = true;
	S.sf[0]->join_pin_dsn = mp->snd.una - 1;
	set_rtt(S.sf[0], 1);
	queue(2000);
	push(&mpt_sched_minrtt);
	assert_int_equal(took(0), 2000);
	assert_false(S.sf[0]->join_pin);
	assert_int_equal(counter("MPJoinFirstAtAck"), c0 + 2);
}

/*
 * Data beyond DATA_ACK fills wnd_share/256 of the peer's window (default
 * 224: seven eighths) while two or more subflows can carry it, all of it
 * with one (sched.c wnd_share: a Linux receiver's buffer can fill with a
 * window of out-of-order data only with two).
 */
static void wnd_share_of_window(void **state)
{
	(void)state;
	struct mpt_mpconn *mp = S.x.mp;
	assert_int_equal(mp->k.wnd_share, 224);
	uint64_t una = mp->snd.una;
	mp->wnd_known = true;
	mp->wnd_end = una + 40000;
	assert_true(mpt_sched_wnd_edge(mp) == una + 35000);
	queue(50000);
	push(&mpt_sched_minrtt);
	uint32_t sent = 0;
	for (size_t i = 0; i < NSF; i++)
		sent += took(i);
	assert_int_equal(sent, 35000);
	/* The knob: the whole window. */
	mp->k.wnd_share = 256;
	assert_true(mpt_sched_wnd_edge(mp) == una + 40000);
	/* One usable subflow: the whole window, whatever the knob. */
	mp->k.wnd_share = 128;
	assert_true(mpt_sched_wnd_edge(mp) == una + 20000);
	for (size_t i = 1; i < NSF; i++)
		S.sf[i]->dead = true;
	assert_true(mpt_sched_wnd_edge(mp) == una + 40000);
	for (size_t i = 1; i < NSF; i++)
		S.sf[i]->dead = false;
	mp->k.wnd_share = 224;
	/* A closed window still lets one byte probe it. */
	mp->wnd_end = una;
	assert_true(mpt_sched_wnd_edge(mp) == una + 1);
	/* The arithmetic: a share of a window, never zero of a non-zero one. */
	assert_true(mpt_sched_wnd_scaled(40000, 224) == 35000);
	assert_true(mpt_sched_wnd_scaled(40000, 256) == 40000);
	assert_true(mpt_sched_wnd_scaled(40000, 0) == 40000);
	assert_true(mpt_sched_wnd_scaled(UINT64_C(1) << 45, 128) == UINT64_C(1) << 44);
	mp->wnd_end = una + 1;
	assert_true(mpt_sched_wnd_edge(mp) == una + 1);
}

/* ---- the run loop's budgets ------------------------------------------- */

/*
 * A scheduler that asks for another round (mpt_mp_dirty) until it has been
 * called `greedy_want` times, handing nothing to any subflow.  One
 * mpt_mp_run does 16 rounds and the stack's run_dirty 64 runs per entry
 * point: work beyond either budget must be deferred and counted, never
 * dropped.  Before, mpt_mp_run's 17th round was dropped silently (the
 * connection waited for its next packet), and so was everything still
 * marked after run_dirty's 64th.
 */
static unsigned greedy_calls, greedy_want;
static void greedy_push(struct mpt_mpconn *mp, uint64_t now)
{
	(void)now;
	if (++greedy_calls < greedy_want)
		mpt_mp_dirty(mp);
}
static const struct mpt_sched_ops greedy = {.name = "greedy", .push = greedy_push};

static void run_rounds(unsigned want)
{
	greedy_calls = 0;
	greedy_want = want;
	S.x.mp->sched = &greedy;
	uint64_t run0 = counter("MPTCPRunDeferred"), dirty0 = counter("DirtyDeferred");
	/* A socket call runs the connection when it leaves the stack. */
	assert_int_equal(mpt_send(S.x.cs, S.buf, 100, opsx_now(&S.x)), 100);
	unsigned in_call = greedy_calls;
	uint64_t run1 = counter("MPTCPRunDeferred"), dirty1 = counter("DirtyDeferred");
	if (want <= 64 * 16) {
		/* One socket call did it all, 16 rounds per run. */
		assert_int_equal(in_call, want);
		assert_int_equal(run1 - run0, (want - 1) / 16);
		assert_int_equal(dirty1, dirty0);
	} else {
		/* The stack's 64 runs of 16 rounds, then the rest is due now. */
		assert_int_equal(in_call, 64 * 16);
		assert_int_equal(dirty1 - dirty0, 1);
		assert_true(mpt_stack_next_deadline(mpt_simhost_stack(S.x.c)) <= opsx_now(&S.x));
		(void)mpt_sim_run(S.x.sim, opsx_now(&S.x) + OPS_MS, NULL, NULL);
		assert_int_equal(greedy_calls, want);
	}
	S.x.mp->sched = &mpt_sched_minrtt;
}

static void run_round_budget(void **state)
{
	(void)state;
	run_rounds(40);
}

static void run_stack_budget(void **state)
{
	(void)state;
	run_rounds(3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(minrtt_lowest_rtt, setup, teardown),
	    cmocka_unit_test_setup_teardown(minrtt_skips_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(minrtt_backup, setup, teardown),
	    cmocka_unit_test_setup_teardown(minrtt_backup_not_when_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(minrtt_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(minrtt_hol_guard, setup, teardown),
	    cmocka_unit_test_setup_teardown(minrtt_no_guard_similar_rtts, setup, teardown),
	    cmocka_unit_test_setup_teardown(rr_alternates, setup, teardown),
	    cmocka_unit_test_setup_teardown(rr_skips_backup_and_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(redundant_every_subflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(redundant_cursor_jumps_to_data_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(ecf_wait_or_slow, setup, teardown),
	    cmocka_unit_test_setup_teardown(ecf_small_k_uses_slow, setup, teardown),
	    cmocka_unit_test_setup_teardown(join_first_mapping, setup, teardown),
	    cmocka_unit_test_setup_teardown(wnd_share_of_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(run_round_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(run_stack_budget, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
