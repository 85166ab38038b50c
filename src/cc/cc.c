/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Congestion-control registry and helpers shared by the algorithms.
 */
#include <string.h>

#include "cc/cc.h"
#include "cc/cc_int.h"
#include "common.h"

void mpt_cc_registry_init(struct mpt_cc_registry *r)
{
	if (!r)
		return;
	memset(r, 0, sizeof(*r));
	/* Cannot fail: the registry is empty and the built-ins are valid. */
	(void)mpt_cc_register(r, &mpt_cc_reno);
	(void)mpt_cc_register(r, &mpt_cc_cubic);
	(void)mpt_cc_register(r, &mpt_cc_lia);
	(void)mpt_cc_register(r, &mpt_cc_olia);
	(void)mpt_cc_register(r, &mpt_cc_balia);
}

/* A name must be non-empty and NUL-terminated inside its fixed array. */
static bool name_valid(const char name[MPT_CC_NAME_MAX])
{
	return name[0] != '\0' && memchr(name, '\0', MPT_CC_NAME_MAX) != NULL;
}

/*
 * Checks run in this order: arguments, hooks and name (MPT_ERR_INVAL), then
 * duplicates (MPT_ERR_EXIST), then capacity (MPT_ERR_LIMIT).
 */
int mpt_cc_register(struct mpt_cc_registry *r, const struct mpt_cc_ops *ops)
{
	if (!r || !ops || r->n > MPT_CC_REGISTRY_MAX)
		return MPT_ERR_INVAL;
	if (!ops->init || !ops->on_ack || !ops->on_loss || !ops->on_recovery_exit || !ops->on_rto ||
	    !ops->on_idle)
		return MPT_ERR_INVAL;
	if (!name_valid(ops->name))
		return MPT_ERR_INVAL;
	if (mpt_cc_find(r, ops->name))
		return MPT_ERR_EXIST;
	if (r->n == MPT_CC_REGISTRY_MAX)
		return MPT_ERR_LIMIT;
	r->ops[r->n++] = ops;
	return 0;
}

const struct mpt_cc_ops *mpt_cc_find(const struct mpt_cc_registry *r, const char *name)
{
	if (!r || !name)
		return NULL;
	size_t n = MPT_MIN(r->n, (size_t)MPT_CC_REGISTRY_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct mpt_cc_ops *o = r->ops[i];
		/* Registered names are terminated within MPT_CC_NAME_MAX. */
		if (o && strcmp(o->name, name) == 0)
			return o;
	}
	return NULL;
}

uint32_t mpt_cc_initial_window(uint32_t mss)
{
	/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
	uint64_t m = mss;
	uint64_t iw = MPT_MIN(10 * m, MPT_MAX(2 * m, UINT64_C(14600)));
	return mpt_cc_clamp(iw);
}

void mpt_cc_start(struct mpt_cc *cc, const struct mpt_cc_ops *ops, uint32_t mss, uint64_t now)
{
	if (!cc)
		return;
	cc->ops = ops ? ops : &mpt_cc_reno;
	cc->mss = mss ? mss : MPT_CC_DEFAULT_MSS;
	cc->cwnd = 0;
	cc->ssthresh = 0;
	memset(cc->priv, 0, sizeof(cc->priv));
	cc->ops->init(cc, now);
}

void mpt_cc_slow_start(struct mpt_cc *cc, uint32_t acked, uint32_t l_segs)
{
	uint64_t smss = mpt_cc_smss(cc);
	/* RFC 3465 §2.2: cwnd += min(N, L*SMSS). */
	uint64_t inc = MPT_MIN((uint64_t)acked, (uint64_t)l_segs * smss);
	uint64_t next = (uint64_t)cc->cwnd + inc;
	/* RFC 5681 §3.1: slow start ends when cwnd reaches ssthresh. */
	if (next > cc->ssthresh)
		next = cc->ssthresh;
	cc->cwnd = mpt_cc_clamp(MPT_MAX(next, (uint64_t)cc->cwnd));
}
