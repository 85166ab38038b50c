/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scheduler machinery shared by every scheduler (the policies themselves
 * are in sched_*.c): the reinjection queue, the peer's data-level window
 * edge, chunking of the data stream into mappings, and the common push
 * loop.
 *
 * Every chunk handed to a subflow becomes one mapping (RFC 8684 §3.3.1)
 * of at most MPT_MP_MAP_MAX bytes, fixed once sent.
 */
#include <string.h>

#include "common.h"
#include "mptcp/mptcp.h"
#include "mptcp/policy.h"

bool mpt_sched_sf_ok(const struct mpt_subflow *sf)
{
	return mpt_sf_usable(sf) && !sf->stale;
}

bool mpt_sched_sf_backup(const struct mpt_subflow *sf)
{
	return sf->backup || sf->peer_backup;
}

bool mpt_sched_have_regular(const struct mpt_mpconn *mp)
{
	/* RFC 8684 §3.3.8: backup subflows carry data only when no regular
	 * subflow is available (not merely when they are busy). */
	for (size_t i = 0; i < mp->nsf; i++)
		if (mpt_sched_sf_ok(mp->sf[i]) && !mpt_sched_sf_backup(mp->sf[i]))
			return true;
	return false;
}

uint64_t mpt_sched_sf_srtt(const struct mpt_subflow *sf)
{
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(sf->flow->tcp, &ti);
	return ti.srtt_ns ? ti.srtt_ns : UINT64_MAX / 4;
}

size_t mpt_sched_sf_room(const struct mpt_subflow *sf, size_t want)
{
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(sf->flow->tcp, &ti);
	/* (A full table grows in send_chunk, up to its maximum.) */
	if (mpt_maplist_count(&sf->tx) + 1 >= sf->tx.max_cap)
		return 0;
	/* Each subflow keeps only about one cwnd of unsent data queued in
	 * its engine, so a slow subflow cannot hoard data the fast ones
	 * could carry. */
	uint32_t unsent = ti.sndbuf_used > ti.unacked ? ti.sndbuf_used - ti.unacked : 0;
	if (unsent >= ti.snd_cwnd)
		return 0;
	/* Its engine holds bytes the peer's zero window keeps back (its
	 * persist timer probes with them, RFC 9293 §3.8.6.1): more would
	 * only wait behind them, and rescue_head would copy them elsewhere. */
	if (ti.snd_wnd == 0 && unsent > 0)
		return 0;
	size_t writable = mpt_tcp_writable(sf->flow->tcp);
	size_t room = MPT_MIN((size_t)(ti.snd_cwnd - unsent), writable);
	/*
	 * Avoid small mappings: wait for 16 segments of room (or a cwnd).
	 * Every mapping sent on a subflow that later dies becomes a hole at
	 * the receiver, and the receiver holds a bounded number of
	 * out-of-order ranges (MPT_DRCV_MAX_RANGES): fewer, larger mappings
	 * keep a path failure from exhausting them.
	 */
	size_t thr = MPT_MIN(want, MPT_MIN((size_t)16 * ti.snd_mss, (size_t)ti.snd_cwnd));
	/* The threshold must be reachable: with a subflow send buffer
	 * smaller than it (a small SO_SNDBUF), waiting for that much room
	 * would wait forever with nothing in flight to free it.  Half the
	 * buffer is always reachable once the subflow drains. */
	size_t ring = writable + ti.sndbuf_used;
	thr = MPT_MIN(thr, MPT_MAX(ring / 2, (size_t)1));
	/* What a full segment carries once the options took their room. */
	size_t seg = ti.snd_payload ? ti.snd_payload : ti.snd_mss;
	if (room < want && room > seg && seg > 0) {
		/*
		 * A chunk cut by the room (not the end of the data) ends on a
		 * segment boundary: a runt in the middle of the stream would
		 * wait behind Nagle (RFC 896) for everything before it to be
		 * acknowledged, and the receiver's delayed ACK (RFC 1122
		 * §4.2.3.2) for an odd segment count: a round trip plus a
		 * delayed-ACK timeout per cwnd.
		 */
		room -= room % seg;
		if (thr > seg)
			thr -= thr % seg;
	}
	return room >= thr ? room : 0;
}

/*
 * Data beyond DATA_ACK may fill wnd_share/256 of the window (the knob's
 * default: seven eighths).  Why not all of it: Linux (6.18) sizes its
 * data-level window from its receive buffer times the payload-to-memory
 * ratio of one sample packet per subflow, moves nothing from a subflow
 * into a connection whose memory is over that buffer, does not prune its
 * out-of-order queue and grows the buffer only as its application reads.
 * A window of out-of-order data (a hole at DATA_ACK: a loss, a slower
 * path) in packets that cost it more memory than the sample did fills the
 * buffer, and the bytes of the hole, when they come, are never moved: the
 * connection stops for good (docs/mptcp-design.md, "The Linux receiver's
 * memory").  The engine's margin absorbs packets dearer than the sample
 * (short ones); the TUN backend sets the share its offload packets need.
 */
static uint64_t wnd_share(const struct mpt_mpconn *mp, uint64_t wnd)
{
	/* One subflow delivers in DSN order: nothing waits out of order at
	 * the data level (its own losses wait in its TCP queue, which Linux
	 * prunes), so the whole window is safe. */
	size_t n = 0;
	for (size_t i = 0; i < mp->nsf && n < 2; i++)
		if (mpt_sf_usable(mp->sf[i]))
			n++;
	if (n < 2)
		return wnd;
	uint64_t w = mpt_sched_wnd_scaled(wnd, mp->k.wnd_share);
	return MPT_MAX(w, 1u);
}

uint64_t mpt_sched_wnd_scaled(uint64_t wnd, uint16_t share)
{
	if (share == 0 || share >= 256)
		return wnd;
	/* Windows are below 2^32 << 14 (RFC 7323 §2.3): no overflow. */
	return MPT_MIN(wnd, UINT64_C(1) << 46) * share / 256;
}

uint64_t mpt_sched_wnd_edge(const struct mpt_mpconn *mp)
{
	/*
	 * RFC 8684 §3.3.4: the receive window is shared by the subflows and
	 * relative to DATA_ACK: no DSN at or beyond DATA_ACK + window may be
	 * sent.  The edge is tracked per received DATA_ACK + window pair
	 * (mpt_sched_wnd_update); only before the first one does it come
	 * from the subflows' windows (the largest) added to DATA_ACK.
	 */
	if (mp->wnd_known) {
		/* The edge from the latest DATA_ACK + window; at least one
		 * byte past DATA_ACK so that a zero window can be probed. */
		uint64_t e = mp->wnd_end;
		if (!mpt_dsn_gt(e, mp->snd.una))
			return mp->snd.una + 1;
		return mp->snd.una + wnd_share(mp, e - mp->snd.una);
	}
	uint32_t wnd = 0;
	bool any = false;
	for (size_t i = 0; i < mp->nsf; i++) {
		const struct mpt_subflow *sf = mp->sf[i];
		if (!mpt_sf_usable(sf))
			continue;
		struct mpt_tcp_info ti;
		mpt_tcp_get_info(sf->flow->tcp, &ti);
		wnd = MPT_MAX(wnd, ti.snd_wnd);
		any = true;
	}
	if (!any)
		return mp->snd.end; /* nothing can send anyway */
	/* A zero window still lets one mapping's worth probe it (the
	 * subflow's persist timer does the probing). */
	return mp->snd.una + wnd_share(mp, MPT_MAX(wnd, 1u));
}

/* RFC 8684 §3.3.1: the DSS checksum of a mapping whose first len payload
 * bytes are p[0] (pn[0] bytes) then p[1]; data_len as on the wire (a
 * DATA_FIN counts one). */
static uint16_t map_csum(const struct mpt_map *m, uint16_t data_len, const uint8_t *const p[2],
			 const size_t pn[2], size_t len)
{
	struct mpt_dss_csum c;
	mpt_dss_csum_init(&c, m->dsn, m->ssn, data_len);
	size_t a = MPT_MIN(len, pn[0]);
	mpt_dss_csum_update(&c, p[0], a);
	if (len > a)
		mpt_dss_csum_update(&c, p[1], len - a);
	return mpt_dss_csum_final(&c);
}

/* Hand [dsn, dsn+len) to sf as one mapping.  Returns bytes sent. */
static size_t send_chunk(struct mpt_mpconn *mp, struct mpt_subflow *sf, uint64_t dsn, size_t len,
			 bool fin, uint64_t now)
{
	/* The subflow reads the bytes from the data-level buffer as it
	 * sends them (mpt_tcp_send_owned; subflow.c mpt_sf_snd_read), or
	 * for a copy of bytes below its owned ones (a reinjection: owned
	 * DSNs must grow in subflow order, mpt_sf_snd_keep) they go to its
	 * send ring (one copy; two pieces when the buffer wraps). */
	bool own = len > 0 && (sf->n_owned == 0 || mpt_dsn_geq(dsn, sf->own_end));
	const uint8_t *p[2];
	size_t pn[2];
	if (mpt_dsnd_peek(&mp->snd, dsn, len, p, pn) < 0)
		return 0;
	uint32_t seq = mpt_tcp_snd_write_seq(sf->flow->tcp);
	struct mpt_map m;
	memset(&m, 0, sizeof(m));
	m.dsn = dsn;
	m.ssn = seq - sf->iss;
	m.len = (uint32_t)len;
	m.data_fin = fin;
	m.owned = own;
	if (mp->csum) {
		/* RFC 8684 §3.3.1: over the whole mapping, the DATA_FIN
		 * counted in the length but not in the payload. */
		m.has_csum = true;
		m.csum = map_csum(&m, (uint16_t)(len + (fin ? 1u : 0u)), p, pn, len);
	}
	/* One free entry kept, as mpt_sched_sf_room counts; growth is
	 * amortised (at most six doublings per subflow). */
	if (mpt_maplist_count(&sf->tx) + 1 >= sf->tx.cap &&
	    mpt_maplist_reserve(&sf->tx, sf->tx.cap + 1) < 0)
		return 0; /* out of memory: nothing sent here, no byte lost */
	if (mpt_maplist_push(&sf->tx, &m) < 0)
		return 0;
	long n;
	if (own) {
		/* Counted first: the engine may send (and read) at once. */
		uint64_t old_end = sf->own_end;
		uint32_t old_ssn = sf->own_ssn;
		if (sf->n_owned++ == 0)
			sf->own_ssn = m.ssn;
		sf->own_end = dsn + len;
		n = mpt_tcp_send_owned(sf->flow->tcp, len, now);
		if (n <= 0) {
			sf->n_owned--;
			sf->own_end = old_end;
			sf->own_ssn = old_ssn;
		} else {
			sf->own_end = dsn + (uint64_t)n;
		}
	} else {
		n = mpt_tcp_send2(sf->flow->tcp, p[0], pn[0], p[1], pn[1], now);
	}
	if (n != (long)len) {
		/* Not expected (room was checked), but never leave a mapping
		 * for bytes the engine did not take: the next mapping would
		 * overlap it and be refused, and TCP would send bytes it
		 * does not describe.  The mapping shrinks to what was taken
		 * (without the DATA_FIN, which the caller then does not mark
		 * as mapped). */
		size_t took = n > 0 ? (size_t)n : 0;
		m.len = (uint32_t)took;
		m.data_fin = false;
		if (mp->csum)
			m.csum = map_csum(&m, (uint16_t)took, p, pn, took);
		mpt_maplist_replace_last(&sf->tx, took > 0 ? &m : NULL);
		return took;
	}
	return len;
}

/* Fallen back mid-connection (RFC 8684 §3.7): the one subflow carries the
 * data stream as plain TCP, no mappings. */
static void inf_push(struct mpt_mpconn *mp, uint64_t now)
{
	struct mpt_subflow *sf = mp->inf_sf;
	if (!sf || !sf->flow || sf->closed || sf->fin_sent)
		return;
	while (mpt_dsn_lt(mp->snd_nxt, mp->snd.end)) {
		size_t w = mpt_tcp_writable(sf->flow->tcp);
		size_t len = (size_t)MPT_MIN((uint64_t)MPT_MIN(w, (size_t)MPT_MP_MAP_MAX),
					     mpt_dsn_span(mp->snd_nxt, mp->snd.end));
		const uint8_t *p[2];
		size_t pn[2];
		if (len == 0 || mpt_dsnd_peek(&mp->snd, mp->snd_nxt, len, p, pn) < 0)
			return;
		long n = mpt_tcp_send2(sf->flow->tcp, p[0], pn[0], p[1], pn[1], now);
		if (n <= 0)
			return;
		mp->snd_nxt += (uint64_t)n;
	}
}

static void reinj_pop(struct mpt_mpconn *mp)
{
	mp->n_reinj--;
	memmove(mp->reinj, mp->reinj + 1, mp->n_reinj * sizeof(mp->reinj[0]));
}

bool mpt_sched_next_chunk(struct mpt_mpconn *mp, struct mpt_sched_chunk *c)
{
	while (mp->n_reinj > 0 && mpt_dsn_leq(mp->reinj[0].end, mp->snd.una))
		reinj_pop(mp);
	if (mp->n_reinj > 0) {
		c->dsn = mpt_dsn_max(mp->reinj[0].dsn, mp->snd.una);
		c->end = mp->reinj[0].end;
		c->reinj = true;
	} else if (mpt_dsn_lt(mp->snd_nxt, mp->snd.end)) {
		/* v1: until the peer shows it has our key (its first DSS),
		 * only the first mapping may go (it rides on MP_CAPABLE,
		 * RFC 8684 §3.1). */
		if (!mp->fully_established && mp->snd_nxt != mp->idsn_local + 1)
			return false;
		c->dsn = mp->snd_nxt;
		c->end = mpt_dsn_min(mp->snd.end, mpt_sched_wnd_edge(mp));
		c->reinj = false;
		if (mpt_dsn_geq(c->dsn, c->end))
			return false;
	} else {
		return false;
	}
	c->end = mpt_dsn_min(c->end, c->dsn + MPT_MP_MAP_MAX);
	return true;
}

/*
 * The first mapping of a join we opened starts at the DATA_ACK of its
 * fourth ACK (input.c join_pin says why).  A chunk starting there goes
 * as it is; before any other, one segment from there is sent first: a
 * copy of data in flight on another subflow (one segment twice per join;
 * nothing waits for it, so a slow new path delays no request).  Once
 * DATA_ACK moved past that point the listener completed the join (its
 * data moves only after that) and any mapping is safe.  Returns whether
 * chunk c may follow now.
 */
static bool join_first(struct mpt_mpconn *mp, struct mpt_subflow *sf,
		       const struct mpt_sched_chunk *c, uint64_t now)
{
	uint64_t pin = sf->join_pin_dsn;
	/* Moved past it, or outside what we sent (nothing to align with). */
	if (mpt_dsn_lt(pin, mp->snd.una) || mpt_dsn_gt(pin, mp->snd_nxt)) {
		sf->join_pin = false;
		return true;
	}
	if (c->dsn == pin) {
		sf->join_pin = false;
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPJoinFirstAtAck);
		return true;
	}
	if (pin == mp->snd_nxt)
		return false; /* nothing there to copy yet, and c lies below it */
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(sf->flow->tcp, &ti);
	uint64_t seg = MPT_MAX(ti.snd_payload ? ti.snd_payload : ti.snd_mss, 1u);
	size_t n = send_chunk(mp, sf, pin, (size_t)(mpt_dsn_min(mp->snd_nxt, pin + seg) - pin),
			      false, now);
	if (n == 0)
		return false;
	sf->join_pin = false;
	mpt_mib_inc(&mp->st->mib, MPT_MIB_MPJoinFirstAtAck);
	mp->reinjected += n;
	mpt_mib_add(&mp->st->mib, MPT_MIB_MPTCPReinject, n);
	return true;
}

size_t mpt_sched_send(struct mpt_mpconn *mp, struct mpt_subflow *sf,
		      const struct mpt_sched_chunk *c, size_t len, uint64_t now)
{
	if (len == 0 || len > mpt_dsn_span(c->dsn, c->end))
		return 0;
	if (sf->join_pin && !join_first(mp, sf, c, now))
		return 0;
	/* A held DATA_FIN (mpt_mp_fin_hold) leaves bare later (conn.c). */
	bool fin = mp->app_shutdown && c->dsn + len == mp->fin_dsn && mpt_mp_fin_hold(mp, now) == 0;
	if (fin && mp->version == MPT_MPTCP_V1 && !mp->fully_established &&
	    c->dsn == mp->idsn_local + 1) {
		/* RFC 8684 §3.1: this first mapping rides on MP_CAPABLE,
		 * whose data-level length has no DATA_FIN flag: counting the
		 * DATA_FIN there would announce a byte that never comes.  The
		 * DATA_FIN leaves bare (§3.3.3) once the peer has our key. */
		fin = false;
	}
	size_t n = send_chunk(mp, sf, c->dsn, len, fin, now);
	if (n == 0)
		return 0;
	if (fin && n == len) {
		mp->fin_mapped = true;
		mp->fin_sf = sf;
		mp->fin_sf_end = mpt_tcp_snd_write_seq(sf->flow->tcp) - sf->iss;
	}
	if (c->reinj) {
		mp->reinjected += n;
		mpt_mib_add(&mp->st->mib, MPT_MIB_MPTCPReinject, n);
		if (mp->n_reinj > 0) {
			mp->reinj[0].dsn = c->dsn + n;
			if (mpt_dsn_geq(mp->reinj[0].dsn, mp->reinj[0].end))
				reinj_pop(mp);
		}
	} else if (mpt_dsn_gt(c->dsn + n, mp->snd_nxt)) {
		mp->snd_nxt = c->dsn + n;
	}
	return n;
}

void mpt_sched_push_loop(struct mpt_mpconn *mp, mpt_sched_pick_fn pick, uint64_t now)
{
	for (int guard = 0; guard < 1024; guard++) {
		struct mpt_sched_chunk c;
		if (!mpt_sched_next_chunk(mp, &c))
			return;
		size_t want = (size_t)(c.end - c.dsn);
		size_t room = 0;
		struct mpt_subflow *sf = pick(mp, want, &room, now);
		if (!sf)
			return;
		if (mpt_sched_send(mp, sf, &c, MPT_MIN(want, room), now) == 0)
			return;
	}
}

struct mpt_subflow *mpt_sched_holder(struct mpt_mpconn *mp, uint64_t dsn, const struct mpt_map **mo)
{
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (!sf->flow || sf->closed)
			continue;
		size_t n = mpt_maplist_count(&sf->tx);
		for (size_t k = 0; k < n; k++) {
			const struct mpt_map *m = mpt_maplist_at(&sf->tx, k);
			if (m->len > 0 && mpt_dsn_in(dsn, m->dsn, m->len)) {
				*mo = m;
				return sf;
			}
		}
	}
	return NULL;
}

bool mpt_sched_head_resent(const struct mpt_mpconn *mp)
{
	/*
	 * sched_opp_end starts at 0, and every uint64_t is some DSN (serial
	 * arithmetic, RFC 1982 style: the data stream may cross 2^64): an
	 * order test alone against a value never set says "already done"
	 * for half of all IDSNs.  A copy counts only while its end lies in
	 * (DATA_ACK, snd_nxt], where every real one is when sent.
	 */
	return mpt_dsn_lt(mp->snd.una, mp->sched_opp_end) &&
	       mpt_dsn_leq(mp->sched_opp_end, mp->snd_nxt);
}

/*
 * The byte at DATA_ACK still sits unsent in the queue of the subflow it was
 * given to (its window collapsed after the chunk was queued: each subflow
 * may hold up to a window of unsent data): everything behind it at the
 * receiver waits for that subflow's slow trickle.  Send that mapping again
 * on a subflow that can send now, once per DSN (like minrtt's opportunistic
 * reinjection, but for data that never left).
 */
static void rescue_head(struct mpt_mpconn *mp, uint64_t now)
{
	uint64_t una = mp->snd.una;
	/* Per push (every ACK): look for the holder only when DATA_ACK did
	 * not move since the previous push; moving means it is not stuck. */
	bool moved = una != mp->sched_last_una;
	mp->sched_last_una = una;
	if (moved || mpt_dsn_geq(una, mp->snd_nxt) || mpt_sched_head_resent(mp) ||
	    mp->n_reinj > 0 || !mp->fully_established)
		return;
	const struct mpt_map *m = NULL;
	struct mpt_subflow *h = mpt_sched_holder(mp, una, &m);
	if (!h)
		return;
	struct mpt_tcp_info ti;
	mpt_tcp_get_info(h->flow->tcp, &ti);
	uint32_t pos = m->ssn + (uint32_t)(una - m->dsn);
	if (mpt_seq_lt(pos, ti.snd_nxt - h->iss))
		return; /* in flight: the subflow's own recovery handles it */
	struct mpt_sched_chunk c = {.dsn = una, .end = m->dsn + m->len, .reinj = false};
	size_t want = (size_t)(c.end - c.dsn);
	bool regular = mpt_sched_have_regular(mp);
	struct mpt_subflow *best = NULL;
	size_t room = 0;
	uint64_t best_rtt = 0;
	for (size_t i = 0; i < mp->nsf; i++) {
		struct mpt_subflow *sf = mp->sf[i];
		if (sf == h || !mpt_sched_sf_ok(sf) || mpt_sched_sf_backup(sf) == regular)
			continue;
		size_t r = mpt_sched_sf_room(sf, want);
		uint64_t rtt = mpt_sched_sf_srtt(sf);
		if (r > 0 && (!best || rtt < best_rtt)) {
			best = sf;
			best_rtt = rtt;
			room = r;
		}
	}
	if (!best)
		return;
	size_t n = mpt_sched_send(mp, best, &c, MPT_MIN(want, room), now);
	if (n > 0) {
		mp->sched_opp_end = una + n;
		mp->reinjected += n;
		mpt_mib_add(&mp->st->mib, MPT_MIB_MPTCPReinject, n);
		mpt_mib_inc(&mp->st->mib, MPT_MIB_MPTCPSchedHeadRescue);
	}
}

void mpt_sched_push(struct mpt_mpconn *mp, uint64_t now)
{
	if (!mp->snd_ready || mp->fallback || mp->closed)
		return;
	if (mp->inf_tx) {
		inf_push(mp, now);
		return;
	}
	mp->sched->push(mp, now);
	if (mp->sched != &mpt_sched_redundant)
		rescue_head(mp, now);
}

static void reinj_add(struct mpt_mpconn *mp, uint64_t dsn, uint64_t end)
{
	if (mpt_dsn_geq(dsn, end))
		return;
	if (mp->n_reinj > 0) {
		struct mpt_mp_range *last = &mp->reinj[mp->n_reinj - 1];
		if (mpt_dsn_leq(dsn, last->end) && mpt_dsn_geq(end, last->dsn)) {
			last->dsn = mpt_dsn_min(last->dsn, dsn);
			last->end = mpt_dsn_max(last->end, end);
			return;
		}
	}
	if (mp->n_reinj >= MPT_MP_REINJ_MAX) {
		/* Merge into the last range rather than lose data. */
		struct mpt_mp_range *last = &mp->reinj[mp->n_reinj - 1];
		last->dsn = mpt_dsn_min(last->dsn, dsn);
		last->end = mpt_dsn_max(last->end, end);
		return;
	}
	mp->reinj[mp->n_reinj].dsn = dsn;
	mp->reinj[mp->n_reinj].end = end;
	mp->n_reinj++;
}

void mpt_sched_wnd_update(struct mpt_mpconn *mp, uint64_t ack, uint64_t wnd)
{
	/*
	 * RFC 8684 §3.3.4: the window in a segment is relative to the
	 * DATA_ACK in that same segment.  The right edge never moves
	 * backwards: a segment reordered behind a later one (or a receiver
	 * shrinking its buffer) must not take back what was offered, and a
	 * window taken from one segment must never be added to a DATA_ACK
	 * that arrived in another (that overshoots the receiver's edge, and
	 * the Linux receiver drops such data after ACKing it at the subflow
	 * level: MPTcpExtNoDSSInWindow).
	 */
	uint64_t e = ack + wnd;
	if (!mp->wnd_known || mpt_dsn_gt(e, mp->wnd_end)) {
		mp->wnd_end = e;
		mp->wnd_known = true;
	}
}

void mpt_sched_reinject_range(struct mpt_mpconn *mp, uint64_t dsn, uint64_t end)
{
	if (!mp->snd_ready)
		return;
	dsn = mpt_dsn_max(dsn, mp->snd.una);
	end = mpt_dsn_min(end, mp->snd_nxt);
	reinj_add(mp, dsn, end);
	mpt_mp_dirty(mp);
}

void mpt_sched_reinject_sf(struct mpt_subflow *sf)
{
	struct mpt_mpconn *mp = sf->mp;
	sf->reinjected = true;
	if (!mp->snd_ready)
		return;
	/* RFC 8684 §3.3.6: data not DATA_ACKed that was sent on a subflow
	 * that failed may be sent again on another (same DSNs, new mapping). */
	size_t n = mpt_maplist_count(&sf->tx);
	for (size_t i = 0; i < n; i++) {
		const struct mpt_map *m = mpt_maplist_at(&sf->tx, i);
		uint64_t end = m->dsn + m->len;
		if (mpt_dsn_leq(end, mp->snd.una))
			continue;
		reinj_add(mp, mpt_dsn_max(m->dsn, mp->snd.una), end);
	}
	mpt_mp_dirty(mp);
}
