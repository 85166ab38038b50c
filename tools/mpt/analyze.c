/* SPDX-License-Identifier: Apache-2.0 */
/* `mpt analyze` (being written). */
#include <stdio.h>

#include "tool.h"

int mpt_cmd_analyze(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mpt analyze: not yet\n");
	return 1;
}
