// SPDX-License-Identifier: GPL-2.0
/*
 * The memory shrinker: under memory pressure the VM asks how many objects
 * the caches could give back (free in slabs or cached in magazines) and
 * then reaps every cache (spl_kmem_reap()).  With spl_kmem_cache_reclaim=1
 * (KMC_RECLAIM_ONCE) each request gets a single pass and the shrinker then
 * reports that it can do no more.
 */
#include <linux/mm.h>
#include <linux/shrinker.h>
#include <linux/version.h>

#include "seam.h"
#include "glue.h"

static unsigned long splk_shrink_count(struct shrinker *s,
				       struct shrink_control *sc)
{
	unsigned long freeable = splk_core_freeable();

	return freeable ? freeable : SHRINK_EMPTY;
}

static unsigned long splk_shrink_scan(struct shrinker *s,
				      struct shrink_control *sc)
{
	unsigned long before = splk_core_freeable();
	unsigned long after;

	spl_kmem_reap();
	after = splk_core_freeable();
	if (READ_ONCE(spl_kmem_cache_reclaim) & 1)
		return SHRINK_STOP;
	return before > after ? before - after : SHRINK_STOP;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
static struct shrinker *splk_shrinker;

int splk_shrinker_init(void)
{
	splk_shrinker = shrinker_alloc(0, "splkmem");
	if (!splk_shrinker)
		return -ENOMEM;
	splk_shrinker->count_objects = splk_shrink_count;
	splk_shrinker->scan_objects = splk_shrink_scan;
	splk_shrinker->seeks = DEFAULT_SEEKS;
	shrinker_register(splk_shrinker);
	return 0;
}

void splk_shrinker_exit(void)
{
	shrinker_free(splk_shrinker);
}
#else
static struct shrinker splk_shrinker = {
	.count_objects = splk_shrink_count,
	.scan_objects = splk_shrink_scan,
	.seeks = DEFAULT_SEEKS,
};

int splk_shrinker_init(void)
{
	return register_shrinker(&splk_shrinker, "splkmem");
}

void splk_shrinker_exit(void)
{
	unregister_shrinker(&splk_shrinker);
}
#endif
