/* SPDX-License-Identifier: Apache-2.0 */
#include "simpair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

void simpair_init(struct simpair *p, uint64_t seed, const char *net, size_t npaths)
{
	memset(p, 0, sizeof(*p));
	mpt_test_mem_init(&p->tm);
	assert_int_equal(mpt_sim_create(&p->tm.mem, seed, &p->sim), 0);
	mpt_stack_cfg_init(&p->cc);
	p->cc.mem = &p->tm.mem;
	p->cc.mptcp.enable = true;
	p->cc.mptcp.version = 1;
	p->sc = p->cc;
	assert_true(npaths <= MPT_MAX_LOCAL_ADDRS);
	char a[48];
	for (size_t i = 0; i < npaths; i++) {
		snprintf(a, sizeof(a), "%s.%zu.1", net, i);
		assert_int_equal(mpt_addr_parse(&p->cc.local[i], a), 0);
		snprintf(a, sizeof(a), "%s.%zu.2", net, i);
		assert_int_equal(mpt_addr_parse(&p->sc.local[i], a), 0);
	}
	p->cc.n_local = p->sc.n_local = npaths;
}

void simpair_hosts(struct simpair *p, void (*fn)(void *ud, struct mpt_sock *s, unsigned events),
		   void *ud)
{
	assert_int_equal(mpt_simhost_create(p->sim, "c", &p->cc, &p->c), 0);
	assert_int_equal(mpt_simhost_create(p->sim, "s", &p->sc, &p->s), 0);
	mpt_simhost_set_app(p->c, fn, ud);
	mpt_simhost_set_app(p->s, fn, ud);
}

void simpair_finish(struct simpair *p, uint64_t linger_ns)
{
	(void)mpt_sim_run(p->sim, mpt_sim_now(p->sim) + linger_ns, NULL, NULL);
	if (p->lis)
		mpt_close(p->lis, mpt_sim_now(p->sim));
	p->lis = NULL;
	(void)mpt_sim_run(p->sim, mpt_sim_now(p->sim) + UINT64_C(5000000000), NULL, NULL);
	mpt_simhost_destroy(p->c);
	mpt_simhost_destroy(p->s);
	mpt_sim_destroy(p->sim);
	assert_int_equal(p->tm.live, 0);
}
