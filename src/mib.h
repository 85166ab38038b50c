/* SPDX-License-Identifier: Apache-2.0 */
/* Named counters (MIB). One enum, names from mib_list.h. */
#ifndef MPT_MIB_H
#define MPT_MIB_H

#include <stdint.h>

enum mpt_mib_id {
#define X(name, comment) MPT_MIB_##name,
#include "mib_list.h"
#undef X
	MPT_MIB_MAX
};

/** A counter block: one uint64_t per counter. */
struct mpt_mib {
	uint64_t v[MPT_MIB_MAX];
};

/** Increment a counter; mib may be NULL (counting disabled). */
static inline void mpt_mib_inc(struct mpt_mib *mib, enum mpt_mib_id id)
{
	if (mib)
		mib->v[id]++;
}
static inline void mpt_mib_add(struct mpt_mib *mib, enum mpt_mib_id id, uint64_t n)
{
	if (mib)
		mib->v[id] += n;
}

/** Name of a counter ("TcpInSegs"), or NULL when out of range. */
const char *mpt_mib_name(int id);
/** One-line description of a counter, or NULL when out of range. */
const char *mpt_mib_comment(int id);

#endif /* MPT_MIB_H */
