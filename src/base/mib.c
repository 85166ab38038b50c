/* SPDX-License-Identifier: Apache-2.0 */
#include "mib.h"

#include <stddef.h>

static const char *const mib_names[] = {
#define X(name, comment) #name,
#include "mib_list.h"
#undef X
};

static const char *const mib_comments[] = {
#define X(name, comment) comment,
#include "mib_list.h"
#undef X
};

const char *mpt_mib_name(int id)
{
	if (id < 0 || id >= MPT_MIB_MAX)
		return NULL;
	return mib_names[id];
}

const char *mpt_mib_comment(int id)
{
	if (id < 0 || id >= MPT_MIB_MAX)
		return NULL;
	return mib_comments[id];
}
