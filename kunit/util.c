// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the splkmem KUnit suites (declared in splkmem_test.h).
 */
#include <linux/workqueue.h>

#include "splkmem_test.h"

bool splk_test_stats(const char *name, struct splk_cache_stats *out)
{
	return splk_cache_stats_find(name, out);
}

long splk_test_on_cpu(int cpu, long (*fn)(void *), void *arg)
{
	return work_on_cpu(cpu, fn, arg);
}
