// SPDX-License-Identifier: GPL-2.0
/*
 * An example consumer written against OpenZFS SPL's headers: it uses only
 * <sys/kmem.h> and <sys/kmem_cache.h> and the Solaris-style names, exactly
 * as SPL code does, and links against splkmem.ko's exports.
 *
 * At load it creates a small and a large object cache with a constructor
 * and destructor, allocates and frees objects, reaps, checks that every
 * constructed object was destroyed, and reports.  It fails to load if
 * anything is off.  Parameter: objects (per cache, default 256).
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <sys/kmem.h>
#include <sys/kmem_cache.h>

static unsigned int objects = 256;
module_param(objects, uint, 0444);
MODULE_PARM_DESC(objects, "Objects allocated per cache (1-4096)");

#define CONSUMER_PATTERN 0x53504c4b4d454dULL	/* "SPLKMEM" */

struct consumer_stats {
	atomic_t constructed;
	atomic_t destroyed;
};

static int consumer_ctor(void *obj, void *priv, int kmflags)
{
	struct consumer_stats *stats = priv;

	*(u64 *)obj = CONSUMER_PATTERN;
	atomic_inc(&stats->constructed);
	return 0;
}

static void consumer_dtor(void *obj, void *priv)
{
	struct consumer_stats *stats = priv;

	atomic_inc(&stats->destroyed);
}

static int exercise(const char *name, size_t size)
{
	struct consumer_stats stats = {};
	kmem_cache_t *cache;
	void **objs;
	unsigned int i;
	int rc = 0;

	objs = kvmalloc_array(objects, sizeof(*objs), GFP_KERNEL | __GFP_ZERO);
	if (!objs)
		return -ENOMEM;
	cache = kmem_cache_create(name, size, 0, consumer_ctor, consumer_dtor,
				  NULL, &stats, NULL, 0);
	if (!cache) {
		kvfree(objs);
		return -ENOMEM;
	}
	for (i = 0; i < objects; i++) {
		objs[i] = kmem_cache_alloc(cache, KM_SLEEP);
		if (*(u64 *)objs[i] != CONSUMER_PATTERN)
			rc = -EINVAL;
		memset(objs[i], 0xa5, size);
	}
	pr_info("splkmem_consumer: %s: %u objects of %zu bytes, %llu in use\n",
		name, objects, size, spl_kmem_cache_inuse(cache));
	for (i = 0; i < objects; i++)
		kmem_cache_free(cache, objs[i]);
	kmem_cache_reap_now(cache);
	kmem_reap();
	kmem_cache_destroy(cache);
	kvfree(objs);

	if (atomic_read(&stats.constructed) != objects ||
	    atomic_read(&stats.destroyed) != objects) {
		pr_err("splkmem_consumer: %s: %d constructed, %d destroyed, want %u\n",
		       name, atomic_read(&stats.constructed),
		       atomic_read(&stats.destroyed), objects);
		rc = -EINVAL;
	}
	return rc;
}

/* A cache kept with live objects while loaded, to show in /proc. */
static kmem_cache_t *kept_cache;
static void *kept_objs[16];
static struct consumer_stats kept_stats;

static int __init consumer_init(void)
{
	unsigned int i;
	int rc;

	if (objects < 1 || objects > 4096) {
		pr_err("splkmem_consumer: objects=%u out of range 1-4096\n", objects);
		return -EINVAL;
	}
	rc = exercise("consumer_small", 128);
	if (!rc)
		rc = exercise("consumer_large", 128 * 1024);
	if (rc)
		return rc;

	kept_cache = kmem_cache_create("consumer_kept", 4096, 64, consumer_ctor,
				       consumer_dtor, NULL, &kept_stats, NULL,
				       KMC_KVMEM);
	if (!kept_cache)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(kept_objs); i++)
		kept_objs[i] = kmem_cache_alloc(kept_cache, KM_SLEEP);
	pr_info("splkmem_consumer: all checks passed\n");
	return 0;
}

static void __exit consumer_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kept_objs); i++)
		kmem_cache_free(kept_cache, kept_objs[i]);
	kmem_cache_destroy(kept_cache);
	pr_info("splkmem_consumer: unloaded, %d constructed, %d destroyed\n",
		atomic_read(&kept_stats.constructed),
		atomic_read(&kept_stats.destroyed));
}

module_init(consumer_init);
module_exit(consumer_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example SPL kmem_cache consumer of splkmem");
