// SPDX-License-Identifier: GPL-2.0
/*
 * The memory shrinker.  Its count is what its scan can free without
 * touching any CPU: the objects in the caches' depots and the capacity of
 * their empty slabs, read from counters (splk_core_shrink_count()).  The
 * scan gives those back cache by cache until nr_to_scan objects are freed
 * and stops there.  The CPUs' own magazines are left to reaps
 * (spl_kmem_reap(), which OpenZFS calls under ARC pressure) and to the
 * working-set update.  With spl_kmem_cache_reclaim=1 (KMC_RECLAIM_ONCE)
 * each request gets a single scan and the shrinker then reports that it
 * can do no more.
 */
#include <linux/mm.h>
#include <linux/shrinker.h>

#include "seam.h"
#include "glue.h"
#include "generated/kernel_features.h"

static unsigned long splk_shrink_count(struct shrinker *s,
				       struct shrink_control *sc)
{
	unsigned long n = splk_core_shrink_count();

	return n ? n : SHRINK_EMPTY;
}

static unsigned long splk_shrink_scan(struct shrinker *s,
				      struct shrink_control *sc)
{
	unsigned long freed = splk_core_shrink_scan(sc->nr_to_scan);

	if (READ_ONCE(spl_kmem_cache_reclaim) & 1)
		return SHRINK_STOP;
	return freed ? freed : SHRINK_STOP;
}

#if SPLK_HAVE_SHRINKER_ALLOC
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
#if SPLK_HAVE_REGISTER_SHRINKER_NAME
	return register_shrinker(&splk_shrinker, "splkmem");
#else
	return register_shrinker(&splk_shrinker);
#endif
}

void splk_shrinker_exit(void)
{
	unregister_shrinker(&splk_shrinker);
}
#endif
