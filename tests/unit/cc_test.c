/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Congestion control: the registry, NewReno and CUBIC.
 *
 * Growth shapes are checked with a tiny round simulator: every round ACKs
 * the whole cwnd (as it was at the start of the round) in equal ACKs spread
 * evenly over one fixed RTT.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/splitmix.h"
#include "cc/cc.h"
#include "mpt/mpt.h"

#define MSS 1000u
#define MS  (UINT64_C(1000000))

/* ---- helpers ------------------------------------------------------------ */

struct sim {
	struct mpt_cc cc;
	uint64_t now;
	uint64_t rtt;
};

static void sim_start(struct sim *s, const struct mpt_cc_ops *ops, uint32_t mss, uint64_t rtt)
{
	memset(s, 0, sizeof(*s));
	s->now = 1000 * MS; /* arbitrary non-zero origin */
	s->rtt = rtt;
	s->cc.srtt_ns = rtt;
	s->cc.min_rtt_ns = rtt;
	mpt_cc_start(&s->cc, ops, mss, s->now);
}

static void sim_ack(struct sim *s, uint32_t acked, bool app_limited)
{
	struct mpt_cc_ack a = {
	    .now = s->now,
	    .acked = acked,
	    .in_flight = s->cc.cwnd,
	    .rtt_ns = s->rtt,
	    .app_limited = app_limited,
	};
	s->cc.ops->on_ack(&s->cc, &a);
}

/* One RTT: ACK the current cwnd in ACKs of `per_ack` bytes. */
static void sim_round(struct sim *s, uint32_t per_ack)
{
	uint32_t w = s->cc.cwnd;
	uint32_t n = (w + per_ack - 1) / per_ack;
	uint64_t start = s->now;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t a = w - i * per_ack < per_ack ? w - i * per_ack : per_ack;
		s->now = start + s->rtt * (i + 1) / n;
		sim_ack(s, a, false);
	}
	s->now = start + s->rtt;
}

/* A loss at exactly `cwnd` bytes, followed by the end of recovery. */
static void sim_loss_at(struct sim *s, uint32_t cwnd)
{
	s->cc.cwnd = cwnd;
	s->cc.ops->on_loss(&s->cc, cwnd, s->now);
	s->cc.ops->on_recovery_exit(&s->cc, s->now);
}

static void nop_init(struct mpt_cc *cc, uint64_t now)
{
	(void)cc;
	(void)now;
}
static void nop_ack(struct mpt_cc *cc, const struct mpt_cc_ack *a)
{
	(void)cc;
	(void)a;
}
static void nop_loss(struct mpt_cc *cc, uint32_t f, uint64_t now)
{
	(void)cc;
	(void)f;
	(void)now;
}

static struct mpt_cc_ops nop_ops(const char *name)
{
	struct mpt_cc_ops o = {
	    .init = nop_init,
	    .on_ack = nop_ack,
	    .on_loss = nop_loss,
	    .on_recovery_exit = nop_init,
	    .on_rto = nop_loss,
	    .on_idle = nop_init,
	};
	size_t n = strlen(name);
	memcpy(o.name, name, n < sizeof(o.name) ? n : sizeof(o.name) - 1);
	return o;
}

/* ---- registry ----------------------------------------------------------- */

static void test_registry_builtins(void **state)
{
	(void)state;
	struct mpt_cc_registry r;
	memset(&r, 0xa5, sizeof(r));
	mpt_cc_registry_init(&r);
	assert_int_equal(r.n, 5); /* reno, cubic, lia, olia, balia */
	assert_ptr_equal(mpt_cc_find(&r, "reno"), &mpt_cc_reno);
	assert_ptr_equal(mpt_cc_find(&r, "cubic"), &mpt_cc_cubic);
	assert_null(mpt_cc_find(&r, "bbr"));
	assert_null(mpt_cc_find(&r, "ren"));
	assert_null(mpt_cc_find(&r, "renoo"));
	assert_null(mpt_cc_find(&r, ""));
	assert_null(mpt_cc_find(&r, NULL));
	assert_null(mpt_cc_find(NULL, "reno"));
}

static void test_registry_duplicate(void **state)
{
	(void)state;
	struct mpt_cc_registry r;
	mpt_cc_registry_init(&r);
	assert_int_equal(mpt_cc_register(&r, &mpt_cc_reno), MPT_ERR_EXIST);
	struct mpt_cc_ops o = nop_ops("cubic"); /* different table, same name */
	assert_int_equal(mpt_cc_register(&r, &o), MPT_ERR_EXIST);
	assert_int_equal(r.n, 5); /* reno, cubic, lia, olia, balia */
	struct mpt_cc_ops x = nop_ops("x");
	assert_int_equal(mpt_cc_register(&r, &x), 0);
	assert_int_equal(mpt_cc_register(&r, &x), MPT_ERR_EXIST);
	assert_ptr_equal(mpt_cc_find(&r, "x"), &x);
	assert_int_equal(r.n, 6);
}

static void test_registry_invalid(void **state)
{
	(void)state;
	struct mpt_cc_registry r;
	mpt_cc_registry_init(&r);
	assert_int_equal(mpt_cc_register(&r, NULL), MPT_ERR_INVAL);
	assert_int_equal(mpt_cc_register(NULL, &mpt_cc_reno), MPT_ERR_INVAL);

	/* Each hook missing in turn. */
	for (int i = 0; i < 6; i++) {
		struct mpt_cc_ops o = nop_ops("hookless");
		switch (i) {
		case 0:
			o.init = NULL;
			break;
		case 1:
			o.on_ack = NULL;
			break;
		case 2:
			o.on_loss = NULL;
			break;
		case 3:
			o.on_recovery_exit = NULL;
			break;
		case 4:
			o.on_rto = NULL;
			break;
		default:
			o.on_idle = NULL;
			break;
		}
		assert_int_equal(mpt_cc_register(&r, &o), MPT_ERR_INVAL);
	}

	/* Empty and unterminated names. */
	struct mpt_cc_ops e = nop_ops("");
	assert_int_equal(mpt_cc_register(&r, &e), MPT_ERR_INVAL);
	struct mpt_cc_ops u = nop_ops("x");
	memset(u.name, 'a', sizeof(u.name));
	assert_int_equal(mpt_cc_register(&r, &u), MPT_ERR_INVAL);
	assert_int_equal(r.n, 5); /* reno, cubic, lia, olia, balia */

	/* The longest valid name: MPT_CC_NAME_MAX - 1 characters. */
	struct mpt_cc_ops l = nop_ops("x");
	memset(l.name, 'b', sizeof(l.name) - 1);
	l.name[sizeof(l.name) - 1] = '\0';
	assert_int_equal(mpt_cc_register(&r, &l), 0);
	assert_ptr_equal(mpt_cc_find(&r, "bbbbbbbbbbbbbbb"), &l);
}

static void test_registry_full(void **state)
{
	(void)state;
	struct mpt_cc_registry r;
	static struct mpt_cc_ops extra[MPT_CC_REGISTRY_MAX];
	char name[MPT_CC_NAME_MAX];
	mpt_cc_registry_init(&r);
	for (size_t i = 0; i < MPT_CC_REGISTRY_MAX; i++) {
		snprintf(name, sizeof(name), "cc%zu", i);
		extra[i] = nop_ops(name);
	}
	size_t i = 0;
	while (r.n < MPT_CC_REGISTRY_MAX)
		assert_int_equal(mpt_cc_register(&r, &extra[i++]), 0);
	assert_int_equal(r.n, MPT_CC_REGISTRY_MAX);
	assert_int_equal(mpt_cc_register(&r, &extra[i]), MPT_ERR_LIMIT);
	/* Duplicate is reported before capacity. */
	assert_int_equal(mpt_cc_register(&r, &mpt_cc_reno), MPT_ERR_EXIST);
	assert_int_equal(r.n, MPT_CC_REGISTRY_MAX);
	assert_ptr_equal(mpt_cc_find(&r, "cc0"), &extra[0]);
	assert_null(mpt_cc_find(&r, extra[i].name));
}

static void test_start_defaults(void **state)
{
	(void)state;
	struct mpt_cc cc;
	memset(&cc, 0, sizeof(cc));
	cc.srtt_ns = 5 * MS;
	memset(cc.priv, 0xff, sizeof(cc.priv));
	mpt_cc_start(&cc, NULL, 0, 0);
	assert_ptr_equal(cc.ops, &mpt_cc_reno);
	assert_int_equal(cc.mss, 536);
	assert_int_equal(cc.cwnd, 5360);
	assert_int_equal(cc.srtt_ns, 5 * MS);      /* kept */
	mpt_cc_start(NULL, &mpt_cc_reno, 1460, 0); /* no crash */
}

/* ---- reno --------------------------------------------------------------- */

static void test_reno_iw(void **state)
{
	(void)state;
	/* RFC 6928: min(10*MSS, max(2*MSS, 14600)). */
	assert_int_equal(mpt_cc_initial_window(1460), 14600);
	assert_int_equal(mpt_cc_initial_window(536), 5360);
	assert_int_equal(mpt_cc_initial_window(1000), 10000);
	assert_int_equal(mpt_cc_initial_window(9000), 18000);
	assert_int_equal(mpt_cc_initial_window(100), 1000);
	assert_int_equal(mpt_cc_initial_window(UINT32_MAX), MPT_CC_CWND_MAX);
	struct sim s;
	sim_start(&s, &mpt_cc_reno, 1460, 10 * MS);
	assert_ptr_equal(s.cc.ops, &mpt_cc_reno);
	assert_int_equal(s.cc.cwnd, 14600);
	assert_int_equal(s.cc.ssthresh, UINT32_MAX);
}

static void test_reno_slow_start(void **state)
{
	(void)state;
	struct sim s;
	/* One ACK per segment: cwnd doubles every RTT. */
	sim_start(&s, &mpt_cc_reno, MSS, 10 * MS);
	for (int r = 0; r < 4; r++) {
		uint32_t w = s.cc.cwnd;
		sim_round(&s, MSS);
		assert_int_equal(s.cc.cwnd, 2 * w);
	}
	assert_int_equal(s.cc.cwnd, 160 * MSS);
	/* Delayed ACKs (2 segments each): still doubles with L = 2*SMSS. */
	sim_start(&s, &mpt_cc_reno, MSS, 10 * MS);
	for (int r = 0; r < 4; r++) {
		uint32_t w = s.cc.cwnd;
		sim_round(&s, 2 * MSS);
		assert_int_equal(s.cc.cwnd, 2 * w);
	}
	/* A stretch ACK grows cwnd by at most L = 2*SMSS (RFC 3465). */
	sim_start(&s, &mpt_cc_reno, MSS, 10 * MS);
	sim_ack(&s, 8 * MSS, false);
	assert_int_equal(s.cc.cwnd, 12 * MSS);
	/* Slow start stops at ssthresh. */
	s.cc.ssthresh = 13 * MSS;
	sim_ack(&s, 2 * MSS, false);
	assert_int_equal(s.cc.cwnd, 13 * MSS);
	/* App-limited, in-recovery and empty ACKs do not grow cwnd. */
	s.cc.ssthresh = UINT32_MAX;
	sim_ack(&s, 2 * MSS, true);
	sim_ack(&s, 0, false);
	struct mpt_cc_ack a = {.now = s.now, .acked = 2 * MSS, .in_recovery = true};
	s.cc.ops->on_ack(&s.cc, &a);
	s.cc.ops->on_ack(&s.cc, NULL);
	assert_int_equal(s.cc.cwnd, 13 * MSS);
}

static void test_reno_avoidance(void **state)
{
	(void)state;
	struct sim s;
	sim_start(&s, &mpt_cc_reno, MSS, 10 * MS);
	s.cc.cwnd = 20 * MSS;
	s.cc.ssthresh = 20 * MSS;
	/* Exactly one SMSS per RTT, whatever the ACK size. */
	for (int r = 1; r <= 10; r++) {
		sim_round(&s, MSS);
		assert_int_equal(s.cc.cwnd, (20 + r) * MSS);
	}
	for (int r = 1; r <= 10; r++) {
		sim_round(&s, 2 * MSS);
		assert_int_equal(s.cc.cwnd, (30 + r) * MSS);
	}
	/* Byte counting: half a window of ACKs does not add anything yet. */
	uint32_t w = s.cc.cwnd;
	for (uint32_t b = 0; b + MSS <= w / 2; b += MSS)
		sim_ack(&s, MSS, false);
	assert_int_equal(s.cc.cwnd, w);
	/* A stretch ACK of two windows adds two SMSS. */
	sim_ack(&s, 2 * w, false);
	assert_true(s.cc.cwnd >= w + 2 * MSS && s.cc.cwnd <= w + 3 * MSS);
}

static void test_reno_loss_rto_recovery(void **state)
{
	(void)state;
	struct sim s;
	sim_start(&s, &mpt_cc_reno, MSS, 10 * MS);
	s.cc.cwnd = 40 * MSS;
	/* RFC 5681 eqn (4): half the flight. */
	s.cc.ops->on_loss(&s.cc, 40 * MSS, s.now);
	assert_int_equal(s.cc.ssthresh, 20 * MSS);
	assert_int_equal(s.cc.cwnd, 20 * MSS);
	/* In recovery the engine may shrink cwnd (pipe); exit deflates to ssthresh. */
	s.cc.cwnd = 5 * MSS;
	s.cc.ops->on_recovery_exit(&s.cc, s.now);
	assert_int_equal(s.cc.cwnd, 20 * MSS);
	/* Floors: 2*SMSS on loss. */
	s.cc.ops->on_loss(&s.cc, MSS, s.now);
	assert_int_equal(s.cc.ssthresh, 2 * MSS);
	assert_int_equal(s.cc.cwnd, 2 * MSS);
	s.cc.ops->on_recovery_exit(&s.cc, s.now);
	assert_int_equal(s.cc.cwnd, 2 * MSS);

	/* RTO: ssthresh from the flight, cwnd = 1 SMSS. */
	s.cc.cwnd = 40 * MSS;
	s.cc.ops->on_rto(&s.cc, 30 * MSS, s.now);
	assert_int_equal(s.cc.ssthresh, 15 * MSS);
	assert_int_equal(s.cc.cwnd, MSS);
	/* Backed-off RTO without a new ACK keeps ssthresh. */
	s.cc.ops->on_rto(&s.cc, MSS, s.now);
	assert_int_equal(s.cc.ssthresh, 15 * MSS);
	assert_int_equal(s.cc.cwnd, MSS);
	/* Slow start after RTO uses L = 1*SMSS. */
	sim_ack(&s, 2 * MSS, false);
	assert_int_equal(s.cc.cwnd, 2 * MSS);
	/* After a new ACK, the next RTO is a new event. */
	s.cc.ops->on_rto(&s.cc, 2 * MSS, s.now);
	assert_int_equal(s.cc.ssthresh, 2 * MSS);
	assert_int_equal(s.cc.cwnd, MSS);
}

static void test_reno_idle(void **state)
{
	(void)state;
	struct sim s;
	sim_start(&s, &mpt_cc_reno, MSS, 10 * MS);
	s.cc.cwnd = 50 * MSS;
	s.cc.ssthresh = 30 * MSS;
	s.cc.ops->on_idle(&s.cc, s.now);
	assert_int_equal(s.cc.cwnd, 10 * MSS);
	assert_int_equal(s.cc.ssthresh, 30 * MSS);
	s.cc.cwnd = 3 * MSS;
	s.cc.ops->on_idle(&s.cc, s.now);
	assert_int_equal(s.cc.cwnd, 3 * MSS);
}

/* ---- cubic -------------------------------------------------------------- */

/* RFC 9438 Figure 1 in MSS units for the checks (floating point is fine here). */
static double cubic_model(double w_max, double cwnd_epoch, double t)
{
	double k = cbrt((w_max - cwnd_epoch) / 0.4);
	return 0.4 * (t - k) * (t - k) * (t - k) + w_max;
}

static void test_cubic_decrease(void **state)
{
	(void)state;
	struct sim s;
	sim_start(&s, &mpt_cc_cubic, MSS, 100 * MS);
	assert_int_equal(s.cc.cwnd, 10 * MSS);
	assert_int_equal(s.cc.ssthresh, UINT32_MAX);
	s.cc.cwnd = 100 * MSS;
	s.cc.ops->on_loss(&s.cc, 50 * MSS, s.now); /* cwnd-based, not flight */
	assert_int_equal(s.cc.ssthresh, 70 * MSS);
	assert_int_equal(s.cc.cwnd, 70 * MSS);
	s.cc.cwnd = 3 * MSS;
	s.cc.ops->on_loss(&s.cc, 3 * MSS, s.now);
	assert_int_equal(s.cc.ssthresh, 2100);
	s.cc.cwnd = 2 * MSS;
	s.cc.ops->on_loss(&s.cc, 2 * MSS, s.now);
	assert_int_equal(s.cc.ssthresh, 2 * MSS);
	assert_int_equal(s.cc.cwnd, 2 * MSS);
	s.cc.cwnd = MSS;
	s.cc.ops->on_recovery_exit(&s.cc, s.now);
	assert_int_equal(s.cc.cwnd, 2 * MSS);
}

static void test_cubic_curve(void **state)
{
	(void)state;
	struct sim s;
	const uint64_t rtt = 100 * MS;
	/*
	 * W_max = 1000 MSS at 100 ms: a BDP where the cubic curve dominates
	 * the Reno-friendly estimate on both sides of K.
	 */
	sim_start(&s, &mpt_cc_cubic, MSS, rtt);
	sim_loss_at(&s, 1000 * MSS);
	assert_int_equal(s.cc.cwnd, 700 * MSS);
	/* K = cbrt(300 / 0.4) s = 9.086 s = ~91 rounds of 100 ms. */
	const double k = cbrt(300.0 / 0.4);
	const int rk = (int)(k * 10 + 0.5);
	uint64_t t0 = s.now;
	static uint32_t w[2 * 91 + 1];
	for (int r = 0; r <= 2 * rk; r++) {
		w[r] = s.cc.cwnd;
		double t = (double)(s.now - t0) / 1e9;
		double model = cubic_model(1000, 700, t) * MSS;
		/* cwnd follows W_cubic(t) within 1% (it aims at t + RTT). */
		assert_true(w[r] >= 0.99 * model && w[r] <= 1.01 * model);
		sim_round(&s, MSS);
	}
	/* At t = K the window is back at W_max. */
	assert_true(w[rk] >= 990 * MSS && w[rk] <= 1010 * MSS);
	/* Plateau: around K the window grows by less than 1 MSS per RTT. */
	for (int r = rk - 3; r < rk + 3; r++)
		assert_true(w[r + 1] - w[r] < MSS);
	/* Concave before K: increments shrink; convex after: they grow. */
	int third = rk / 3;
	uint32_t a = w[third] - w[0], b = w[2 * third] - w[third], c = w[rk] - w[2 * third];
	assert_true(a > b && b > c);
	uint32_t d = w[rk + third] - w[rk], e = w[rk + 2 * third] - w[rk + third];
	uint32_t f = w[2 * rk] - w[rk + 2 * third];
	assert_true(d < e && e < f);
	/* Monotonic, never more than 1.5x per RTT. */
	for (int r = 1; r <= 2 * rk; r++)
		assert_true(w[r] >= w[r - 1] && w[r] <= w[r - 1] + w[r - 1] / 2);

	/*
	 * W_max = 100 MSS: back at W_max at K = 4.2 s, but after W_est has
	 * reached cwnd_prior, the Reno-friendly region (alpha = 1) gives
	 * exactly 1 MSS per RTT, faster than the early convex curve.
	 */
	sim_start(&s, &mpt_cc_cubic, MSS, rtt);
	sim_loss_at(&s, 100 * MSS);
	t0 = s.now;
	for (int r = 0; r < 42; r++)
		sim_round(&s, MSS);
	assert_true(s.cc.cwnd >= 97 * MSS && s.cc.cwnd <= 103 * MSS);
	for (int r = 42; r < 60; r++)
		sim_round(&s, MSS);
	for (int r = 60; r < 70; r++) {
		uint32_t before = s.cc.cwnd;
		double t = (double)(s.now - t0) / 1e9;
		assert_true(before > cubic_model(100, 70, t) * MSS);
		sim_round(&s, MSS);
		assert_true(s.cc.cwnd - before >= MSS - 10 && s.cc.cwnd - before <= MSS + 10);
	}
}

static void test_cubic_fast_convergence(void **state)
{
	(void)state;
	struct sim s;
	sim_start(&s, &mpt_cc_cubic, MSS, 100 * MS);
	sim_loss_at(&s, 1000 * MSS); /* W_max = 1000 MSS */
	while (s.cc.cwnd < 800 * MSS)
		sim_round(&s, 10 * MSS);
	/* Loss below the previous W_max: W_max = 800 * 0.85 = 680 MSS. */
	sim_loss_at(&s, 800 * MSS);
	assert_int_equal(s.cc.cwnd, 560 * MSS);
	uint64_t t0 = s.now;
	double k = cbrt((680.0 - 560.0) / 0.4); /* 6.69 s */
	while ((double)(s.now - t0) / 1e9 < k)
		sim_round(&s, 10 * MSS);
	/* Plateau at 680 MSS, far below the 800 MSS it would be without FC. */
	assert_true(s.cc.cwnd >= 660 * MSS && s.cc.cwnd <= 700 * MSS);

	/* A loss at or above the previous W_max sets W_max = cwnd. */
	sim_loss_at(&s, 700 * MSS); /* > 680 */
	t0 = s.now;
	k = cbrt((700.0 - 490.0) / 0.4); /* 8.07 s */
	while ((double)(s.now - t0) / 1e9 < k)
		sim_round(&s, 10 * MSS);
	assert_true(s.cc.cwnd >= 680 * MSS && s.cc.cwnd <= 720 * MSS);
}

static void test_cubic_reno_friendly(void **state)
{
	(void)state;
	struct sim s;
	/* Small window, 1 ms RTT: cubic alone would take K = 2.47 s = 2466 RTTs. */
	sim_start(&s, &mpt_cc_cubic, MSS, 1 * MS);
	sim_loss_at(&s, 20 * MSS);
	assert_int_equal(s.cc.cwnd, 14 * MSS);
	for (int r = 0; r < 10; r++)
		sim_round(&s, MSS);
	/* alpha_cubic = 9/17 MSS per RTT while W_est < cwnd_prior. */
	double expect = 14 * MSS + 10 * MSS * 9.0 / 17.0;
	assert_true(s.cc.cwnd >= expect - 300 && s.cc.cwnd <= expect + 300);
	for (int r = 10; r < 100; r++)
		sim_round(&s, MSS);
	/* Then 1 MSS per RTT: 20 + (100 - 11.3) = ~108.7 MSS. */
	assert_true(s.cc.cwnd >= 105 * MSS && s.cc.cwnd <= 112 * MSS);
	/* The cubic curve alone would still be below W_max. */
	assert_true(cubic_model(20, 14, 0.1) < 20);
}

static void test_cubic_rto(void **state)
{
	(void)state;
	struct sim s;
	sim_start(&s, &mpt_cc_cubic, MSS, 100 * MS);
	/* An earlier loss leaves W_max = 200 MSS, well above the RTO point. */
	sim_loss_at(&s, 200 * MSS);
	s.cc.cwnd = 100 * MSS;
	s.cc.ops->on_rto(&s.cc, 100 * MSS, s.now);
	assert_int_equal(s.cc.cwnd, MSS);
	assert_int_equal(s.cc.ssthresh, 70 * MSS);
	s.cc.ops->on_rto(&s.cc, MSS, s.now); /* backoff: ssthresh kept */
	assert_int_equal(s.cc.ssthresh, 70 * MSS);
	/* Slow start after an RTO: L = 1 SMSS, doubling per RTT. */
	sim_ack(&s, 2 * MSS, false);
	assert_int_equal(s.cc.cwnd, 2 * MSS);
	while (s.cc.cwnd < s.cc.ssthresh)
		sim_round(&s, MSS);
	/* The rest of the last round is already avoidance. */
	assert_true(s.cc.cwnd >= 70 * MSS && s.cc.cwnd <= 71 * MSS);
	/* First CA stage after an RTO: K = 0, W_max = 70 MSS (convex only). */
	uint64_t t0 = s.now;
	while (s.now - t0 < 5000 * MS)
		sim_round(&s, MSS);
	double model = cubic_model(70, 70, 5.0) * MSS; /* 120 MSS */
	assert_true(s.cc.cwnd >= 0.95 * model && s.cc.cwnd <= 1.05 * model);
	/* (Aiming at the old W_max instead would give ~197 MSS here.) */
}

static void test_cubic_target_cap(void **state)
{
	(void)state;
	struct sim s;
	/*
	 * Small window, 1 s RTT, K = 0 (after an RTO): W_cubic(t + RTT) soon
	 * runs far ahead of cwnd, and the target is clamped to 1.5 * cwnd
	 * (RFC 9438 §4.4).
	 */
	sim_start(&s, &mpt_cc_cubic, MSS, 1000 * MS);
	s.cc.cwnd = 4 * MSS;
	s.cc.ops->on_rto(&s.cc, 4 * MSS, s.now);
	s.cc.ssthresh = 3 * MSS;
	s.cc.cwnd = 3 * MSS;
	bool capped = false;
	for (int r = 0; r < 12; r++) {
		uint32_t before = s.cc.cwnd;
		sim_round(&s, MSS);
		assert_true(s.cc.cwnd >= before);
		assert_true(s.cc.cwnd <= before + before / 2 + 1);
		if (s.cc.cwnd >= before + before / 2 - before / 50)
			capped = true;
	}
	assert_true(capped);
}

static void test_cubic_app_limited(void **state)
{
	(void)state;
	struct sim s;
	sim_start(&s, &mpt_cc_cubic, MSS, 100 * MS);
	sim_loss_at(&s, 100 * MSS);
	for (int r = 0; r < 5; r++)
		sim_round(&s, MSS);
	uint32_t w = s.cc.cwnd;
	/* 20 s of app-limited ACKs: no growth, and the cubic clock stops. */
	for (int i = 0; i < 200; i++) {
		s.now += 100 * MS;
		sim_ack(&s, MSS, true);
	}
	assert_int_equal(s.cc.cwnd, w);
	sim_round(&s, MSS);
	/* Without the freeze, W_cubic(25 s) would push cwnd up by 1.5x. */
	assert_true(s.cc.cwnd > w && s.cc.cwnd < w + 3 * MSS);

	/* Idle restart: cwnd = min(cwnd, IW); the epoch restarts later. */
	s.cc.ops->on_idle(&s.cc, s.now);
	assert_int_equal(s.cc.cwnd, 10 * MSS);
	s.now += 3600 * 1000 * MS;
	while (s.cc.cwnd < s.cc.ssthresh)
		sim_round(&s, MSS);
	uint32_t w2 = s.cc.cwnd;
	sim_round(&s, MSS);
	assert_true(s.cc.cwnd >= w2 && s.cc.cwnd < w2 + 5 * MSS);

	/* Idle while in avoidance below IW: the hour of idle is not CA time. */
	sim_loss_at(&s, 6 * MSS); /* cwnd = ssthresh = 4.2 MSS < IW */
	for (int r = 0; r < 3; r++)
		sim_round(&s, MSS);
	uint32_t w3 = s.cc.cwnd;
	assert_true(w3 < 10 * MSS);
	s.now += 3600 * 1000 * MS;
	s.cc.ops->on_idle(&s.cc, s.now);
	assert_int_equal(s.cc.cwnd, w3);
	sim_round(&s, MSS);
	assert_true(s.cc.cwnd >= w3 && s.cc.cwnd < w3 + MSS);
}

static void test_cubic_no_overflow(void **state)
{
	(void)state;
	const uint32_t msss[] = {1, 536, 65535, 100000};
	for (size_t m = 0; m < sizeof(msss) / sizeof(msss[0]); m++) {
		for (int alg = 0; alg < 2; alg++) {
			struct sim s;
			sim_start(&s, alg ? &mpt_cc_cubic : &mpt_cc_reno, msss[m], 100 * MS);
			s.cc.srtt_ns = UINT64_MAX / 2;
			/* Loss at a huge window, then hours later a huge ACK. */
			sim_loss_at(&s, MPT_CC_CWND_MAX);
			assert_true(s.cc.cwnd <= MPT_CC_CWND_MAX);
			assert_true(s.cc.cwnd >= MPT_CC_CWND_MAX / 2 - 1);
			for (int i = 0; i < 5; i++) {
				uint32_t before = s.cc.cwnd;
				s.now += UINT64_C(10) * 3600 * 1000 * MS;
				sim_ack(&s, UINT32_MAX, false);
				assert_true(s.cc.cwnd >= before);
				assert_true(s.cc.cwnd <= MPT_CC_CWND_MAX);
			}
			/* Engine set cwnd above the cap: clamped, no wrap. */
			s.cc.cwnd = UINT32_MAX;
			sim_ack(&s, UINT32_MAX, false);
			assert_true(s.cc.cwnd <= UINT32_MAX && s.cc.cwnd >= MPT_CC_CWND_MAX);
			s.cc.ops->on_loss(&s.cc, UINT32_MAX, s.now);
			assert_true(s.cc.cwnd <= MPT_CC_CWND_MAX);
			/* Time at the end of the range and going backwards. */
			s.now = UINT64_MAX;
			sim_ack(&s, UINT32_MAX, false);
			s.now = 0;
			sim_ack(&s, UINT32_MAX, false);
			assert_true(s.cc.cwnd <= MPT_CC_CWND_MAX);
			s.cc.ops->on_idle(&s.cc, UINT64_MAX);
			s.cc.ops->on_rto(&s.cc, UINT32_MAX, UINT64_MAX);
			assert_true(s.cc.cwnd >= 1);
		}
	}
}

/* Random event sequences: invariants hold and two runs are bit-identical. */
static void run_random(const struct mpt_cc_ops *ops, uint64_t seed, struct mpt_cc *out)
{
	struct sim s;
	uint64_t x = seed;
	sim_start(&s, ops, MSS, 20 * MS);
	for (int i = 0; i < 20000; i++) {
		uint64_t r = mpt_splitmix64(&x);
		s.now += r % (50 * MS);
		switch ((r >> 32) % 16) {
		case 0: {
			uint32_t cw = s.cc.cwnd;
			s.cc.ops->on_loss(&s.cc, (uint32_t)(r >> 40) % (cw + 1), s.now);
			assert_true(s.cc.cwnd >= 2 * MSS && s.cc.ssthresh >= 2 * MSS);
			break;
		}
		case 1:
			s.cc.ops->on_recovery_exit(&s.cc, s.now);
			assert_true(s.cc.cwnd >= 2 * MSS);
			break;
		case 2:
			if ((r >> 48) % 8 == 0) {
				s.cc.ops->on_rto(&s.cc, s.cc.cwnd, s.now);
				assert_int_equal(s.cc.cwnd, MSS);
				assert_true(s.cc.ssthresh >= 2 * MSS);
			}
			break;
		case 3:
			s.cc.ops->on_idle(&s.cc, s.now);
			break;
		default: {
			uint32_t before = s.cc.cwnd;
			sim_ack(&s, (uint32_t)((r >> 40) % (4 * MSS)), (r >> 60) == 0);
			assert_true(s.cc.cwnd >= before);
			break;
		}
		}
		assert_true(s.cc.cwnd >= MSS && s.cc.cwnd <= MPT_CC_CWND_MAX);
	}
	*out = s.cc;
}

static void test_deterministic(void **state)
{
	(void)state;
	const struct mpt_cc_ops *algs[] = {&mpt_cc_reno, &mpt_cc_cubic};
	for (int a = 0; a < 2; a++) {
		struct mpt_cc x, y;
		memset(&x, 0, sizeof(x));
		memset(&y, 1, sizeof(y));
		run_random(algs[a], 42, &x);
		run_random(algs[a], 42, &y);
		assert_int_equal(x.cwnd, y.cwnd);
		assert_int_equal(x.ssthresh, y.ssthresh);
		assert_memory_equal(x.priv, y.priv, sizeof(x.priv));
	}
	/* Same event script, same result for the round simulator too. */
	struct sim s1, s2;
	for (int k = 0; k < 2; k++) {
		struct sim *s = k ? &s2 : &s1;
		sim_start(s, &mpt_cc_cubic, MSS, 30 * MS);
		sim_loss_at(s, 300 * MSS);
		for (int r = 0; r < 200; r++)
			sim_round(s, 2 * MSS);
	}
	assert_int_equal(s1.cc.cwnd, s2.cc.cwnd);
	assert_memory_equal(s1.cc.priv, s2.cc.priv, sizeof(s1.cc.priv));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry_builtins),
	    cmocka_unit_test(test_registry_duplicate),
	    cmocka_unit_test(test_registry_invalid),
	    cmocka_unit_test(test_registry_full),
	    cmocka_unit_test(test_start_defaults),
	    cmocka_unit_test(test_reno_iw),
	    cmocka_unit_test(test_reno_slow_start),
	    cmocka_unit_test(test_reno_avoidance),
	    cmocka_unit_test(test_reno_loss_rto_recovery),
	    cmocka_unit_test(test_reno_idle),
	    cmocka_unit_test(test_cubic_decrease),
	    cmocka_unit_test(test_cubic_curve),
	    cmocka_unit_test(test_cubic_fast_convergence),
	    cmocka_unit_test(test_cubic_reno_friendly),
	    cmocka_unit_test(test_cubic_rto),
	    cmocka_unit_test(test_cubic_target_cap),
	    cmocka_unit_test(test_cubic_app_limited),
	    cmocka_unit_test(test_cubic_no_overflow),
	    cmocka_unit_test(test_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
