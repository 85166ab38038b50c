/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registries of schedulers and path managers (policy.h).
 */
#include <string.h>

#include "common.h"
#include "mptcp/policy.h"

static bool name_ok(const char *name)
{
	return name[0] != '\0' && memchr(name, '\0', MPT_POLICY_NAME_LEN) != NULL;
}

static int reg_add(const void **tab, size_t *n, const void *ops, const char *name,
		   const char *(*name_of)(const void *))
{
	if (!name_ok(name))
		return MPT_ERR_INVAL;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(name_of(tab[i]), name) == 0)
			return MPT_ERR_EXIST;
	if (*n >= MPT_POLICY_REGISTRY_MAX)
		return MPT_ERR_LIMIT;
	tab[(*n)++] = ops;
	return 0;
}

static const char *sched_name(const void *p)
{
	return ((const struct mpt_sched_ops *)p)->name;
}

static const char *pm_name(const void *p)
{
	return ((const struct mpt_pm_ops *)p)->name;
}

int mpt_sched_register(struct mpt_policy_registry *r, const struct mpt_sched_ops *ops)
{
	if (!r || !ops || !ops->push)
		return MPT_ERR_INVAL;
	return reg_add((const void **)r->sched, &r->nsched, ops, ops->name, sched_name);
}

int mpt_pm_register(struct mpt_policy_registry *r, const struct mpt_pm_ops *ops)
{
	if (!r || !ops || !ops->run || !ops->sf_failed || !ops->accept_addr)
		return MPT_ERR_INVAL;
	return reg_add((const void **)r->pm, &r->npm, ops, ops->name, pm_name);
}

const struct mpt_sched_ops *mpt_sched_find(const struct mpt_policy_registry *r, const char *name)
{
	if (!name || !name[0])
		return r->nsched > 0 ? r->sched[0] : NULL;
	for (size_t i = 0; i < r->nsched; i++)
		if (strncmp(r->sched[i]->name, name, MPT_POLICY_NAME_LEN) == 0)
			return r->sched[i];
	return NULL;
}

const struct mpt_pm_ops *mpt_pm_find(const struct mpt_policy_registry *r, const char *name)
{
	if (!name || !name[0])
		return r->npm > 0 ? r->pm[0] : NULL;
	for (size_t i = 0; i < r->npm; i++)
		if (strncmp(r->pm[i]->name, name, MPT_POLICY_NAME_LEN) == 0)
			return r->pm[i];
	return NULL;
}

static const struct mpt_sched_ops *const builtin_sched[] = {
    &mpt_sched_minrtt, /* first: the default */
    &mpt_sched_rr,
    &mpt_sched_redundant,
    &mpt_sched_ecf,
};

static const struct mpt_pm_ops *const builtin_pm[] = {
    &mpt_pm_fullmesh, /* first: the default */
    &mpt_pm_ndiffports, &mpt_pm_endpoints, &mpt_pm_mobility, &mpt_pm_none,
};

void mpt_policy_registry_init(struct mpt_policy_registry *r)
{
	memset(r, 0, sizeof(*r));
	/* Cannot fail: the registry is empty and the built-ins are valid. */
	for (size_t i = 0; i < MPT_ARRAY_SIZE(builtin_sched); i++)
		(void)mpt_sched_register(r, builtin_sched[i]);
	for (size_t i = 0; i < MPT_ARRAY_SIZE(builtin_pm); i++)
		(void)mpt_pm_register(r, builtin_pm[i]);
}

const char *mpt_sched_name(size_t i)
{
	return i < MPT_ARRAY_SIZE(builtin_sched) ? builtin_sched[i]->name : NULL;
}

const char *mpt_pm_name(size_t i)
{
	return i < MPT_ARRAY_SIZE(builtin_pm) ? builtin_pm[i]->name : NULL;
}
