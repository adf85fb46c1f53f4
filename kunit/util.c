// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the splkmem KUnit suites (declared in splkmem_test.h).
 */
#include <linux/string.h>
#include <linux/workqueue.h>

#include "splkmem_test.h"

struct splk_test_find {
	const char *name;
	struct splk_cache_stats *out;
	bool found;
};

static void splk_test_find_one(const struct splk_cache_stats *stats, void *arg)
{
	struct splk_test_find *find = arg;

	/* stats->name is only valid during this call: compare it here. */
	if (find->found || strcmp(stats->name, find->name) != 0)
		return;
	*find->out = *stats;
	find->found = true;
}

bool splk_test_stats(const char *name, struct splk_cache_stats *out)
{
	struct splk_test_find find = { .name = name, .out = out };

	splk_for_each_cache(splk_test_find_one, &find);
	/* Point the snapshot at the caller's string, not into the cache. */
	if (find.found)
		out->name = name;
	return find.found;
}

long splk_test_on_cpu(int cpu, long (*fn)(void *), void *arg)
{
	return work_on_cpu(cpu, fn, arg);
}
