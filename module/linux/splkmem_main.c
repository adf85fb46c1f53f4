// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem.ko: module init/exit, the module parameters (SPL's and
 * splkmem's own) and the exported SPL object-cache API (implemented by the
 * C++ core).
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/moduleparam.h>

#define SPL_KMEM_CACHE_IMPLEMENTING
#include <sys/kmem.h>
#include <sys/kmem_cache.h>
#include <sys/taskq.h>

#include "seam.h"
#include "glue.h"
#include "version.h"

/*
 * Module parameters keep SPL's names, types, permissions, defaults and
 * descriptions.  Each one has a range; a value outside it is clamped
 * (magazine size, as SPL does) or refused with -EINVAL (all others), with
 * a message naming the parameter and the value.  A refused value at insmod
 * time fails the load.
 */
struct splk_param {
	unsigned int *value;
	unsigned int min;
	unsigned int max;
	bool clamp;		/* clamp into range instead of refusing */
	bool zero_ok;		/* 0 is a valid value outside min..max */
};

static int splk_param_set(const char *val, const struct kernel_param *kp)
{
	const struct splk_param *p = kp->arg;
	unsigned int v;
	int rc;

	rc = kstrtouint(val, 0, &v);
	if (rc) {
		pr_err("splkmem: %s: '%s' is not a number\n", kp->name, val);
		return rc;
	}
	if ((v == 0 && p->zero_ok) || (v >= p->min && v <= p->max)) {
		WRITE_ONCE(*p->value, v);
		return 0;
	}
	if (!p->clamp) {
		pr_err("splkmem: %s: %u is out of range %u..%u, refused\n",
		       kp->name, v, p->min, p->max);
		return -EINVAL;
	}
	pr_warn("splkmem: %s: %u is out of range %u..%u, clamped to %u\n",
		kp->name, v, p->min, p->max, clamp(v, p->min, p->max));
	WRITE_ONCE(*p->value, clamp(v, p->min, p->max));
	return 0;
}

static int splk_param_get(char *buf, const struct kernel_param *kp)
{
	const struct splk_param *p = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*p->value));
}

static const struct kernel_param_ops splk_param_ops = {
	.set = splk_param_set,
	.get = splk_param_get,
};

#define SPLK_PARAM(name, def, lo, hi, clamp_, zero_ok_, perm, desc)	\
	unsigned int name = def;					\
	static struct splk_param name##_range = {			\
		.value = &name, .min = lo, .max = hi,			\
		.clamp = clamp_, .zero_ok = zero_ok_,			\
	};								\
	module_param_cb(name, &splk_param_ops, &name##_range, perm);	\
	MODULE_PARM_DESC(name, desc)

/*
 * Per-CPU magazine size.  0 sizes it from the object size; otherwise it is
 * clamped to 2..256 objects, as in SPL.  Magazines cannot be disabled.
 */
SPLK_PARAM(spl_kmem_cache_magazine_size, 0, 2, 256, true, true, 0444,
	   "Default magazine size (2-256), set automatically (0)");

/*
 * The shrinker (shrinker.c) reaps every cache under memory pressure.
 * 0: it keeps reaping while that frees objects; 1 (KMC_RECLAIM_ONCE): one
 * pass per request.
 */
SPLK_PARAM(spl_kmem_cache_reclaim, 0, 0, 1, false, true, 0644,
	   "Single reclaim pass (0x1)");

/* Target objects per slab for vmalloc-backed caches (1..65536). */
SPLK_PARAM(spl_kmem_cache_obj_per_slab, SPL_KMEM_CACHE_OBJ_PER_SLAB,
	   1, 65536, false, false, 0644, "Number of objects per slab");

/* Largest slab in MB (1..1024); objects above it cannot be cached. */
SPLK_PARAM(spl_kmem_cache_max_size, SPL_KMEM_CACHE_MAX_SIZE, 1, 1024,
	   false, false, 0644, "Maximum size of slab in MB");

/*
 * Caches created without KMC_KVMEM or KMC_SLAB use a Linux kmem_cache when
 * their objects are at most this many bytes (0 disables it; up to 1 MiB).
 * The default, 4 pages, is SPL's 16 KiB on 4 KiB pages.
 */
SPLK_PARAM(spl_kmem_cache_slab_limit, 4 * PAGE_SIZE, 0, 1 << 20, false,
	   true, 0644, "Objects less than N bytes use the Linux slab");

/*
 * The working-set update (object_cache.hpp): every this many ms each
 * cache gives back what its depot did not use in the last interval and
 * frees slabs empty for a whole interval (illumos kmem_reap_interval,
 * 15 s).  0: no periodic update (reaps and the shrinker only).
 */
SPLK_PARAM(spl_kmem_cache_reap_interval_ms, 15000, 0, 3600000, false, true,
	   0644, "Working-set update interval in ms (0: none)");

/*
 * Depot lock contention per interval past which a cache's magazines are
 * made bigger (illumos kmem_depot_contention, 3).  0: never resized.
 */
SPLK_PARAM(spl_kmem_cache_depot_contention, 3, 0, 1000000, false, true,
	   0644, "Depot contention per interval that grows magazines (0: off)");

/*
 * The depot trim (object_cache.hpp, "Giving memory back"): KiB of full
 * magazines a cache's depot keeps without a trim window, and the window:
 * what stays idle beyond the slack for that many ms goes back to the
 * slabs.  A slack of 16 GiB in effect leaves everything to the
 * working-set update, as illumos does.
 */
SPLK_PARAM(spl_kmem_cache_depot_slack_kb, 1024, 0, 16 << 20, false, true,
	   0644, "Depot KiB kept without a trim window");
SPLK_PARAM(spl_kmem_cache_depot_trim_ms, 100, 1, 60000, false, false,
	   0644, "Depot trim window in ms: idle excess goes back after it");

/*
 * The debug mode (module/core/debug_check.hpp) for caches created while it
 * is set: red zones, use-after-free fills, call sites, fault-free tag
 * reads, an atomic allocated bit.  Caches without a type flag are then
 * vmalloc-backed, whatever their size.
 */
SPLK_PARAM(spl_kmem_cache_debug, 0, 0, 1, false, true, 0644,
	   "Debug checks for caches created while set (0x1)");

/* Threads that grow slabs asynchronously (1..64). */
SPLK_PARAM(spl_kmem_cache_kmem_threads, 4, 1, 64, false, false, 0444,
	   "Number of spl_kmem_cache threads");

EXPORT_SYMBOL(spl_kmem_cache_create);
EXPORT_SYMBOL(spl_kmem_cache_set_move);
EXPORT_SYMBOL(spl_kmem_cache_destroy);
EXPORT_SYMBOL(spl_kmem_cache_alloc);
EXPORT_SYMBOL(spl_kmem_cache_free);
EXPORT_SYMBOL(spl_kmem_cache_alloc_batch);
EXPORT_SYMBOL(spl_kmem_cache_free_batch);
EXPORT_SYMBOL(spl_kmem_cache_set_allocflags);
EXPORT_SYMBOL(spl_kmem_cache_reap_now);
EXPORT_SYMBOL(spl_kmem_reap);
EXPORT_SYMBOL(spl_kmem_cache_reap_active);
EXPORT_SYMBOL(spl_kmem_cache_inuse);
EXPORT_SYMBOL(spl_kmem_cache_entry_size);

EXPORT_SYMBOL(taskq_create);
EXPORT_SYMBOL(taskq_destroy);
EXPORT_SYMBOL(taskq_dispatch);
EXPORT_SYMBOL(taskq_dispatch_ent);
EXPORT_SYMBOL(taskq_init_ent);
EXPORT_SYMBOL(taskq_empty_ent);
EXPORT_SYMBOL(taskq_cancel_id);
EXPORT_SYMBOL(taskq_wait);
EXPORT_SYMBOL(taskq_wait_id);
EXPORT_SYMBOL(taskq_wait_outstanding);
EXPORT_SYMBOL(taskq_member);
EXPORT_SYMBOL(taskq_dispatch_delay);
EXPORT_SYMBOL(taskq_create_synced);
EXPORT_SYMBOL(taskq_of_curthread);
EXPORT_SYMBOL(system_taskq);
EXPORT_SYMBOL(system_delay_taskq);

/* For the KUnit suites: the warning counter and the core's statistics. */
EXPORT_SYMBOL_GPL(splk_warning_count);
#ifdef SPLKMEM_TEST_HOOKS
/* Test builds only: the suites set parameters, even read-only ones. */
EXPORT_SYMBOL_GPL(spl_kmem_cache_magazine_size);
EXPORT_SYMBOL_GPL(spl_kmem_cache_reclaim);
EXPORT_SYMBOL_GPL(spl_kmem_cache_reap_interval_ms);
EXPORT_SYMBOL_GPL(spl_kmem_cache_depot_contention);
EXPORT_SYMBOL_GPL(spl_kmem_cache_depot_slack_kb);
EXPORT_SYMBOL_GPL(spl_kmem_cache_depot_trim_ms);
EXPORT_SYMBOL_GPL(splk_core_trim_now);
EXPORT_SYMBOL_GPL(spl_kmem_cache_debug);
EXPORT_SYMBOL_GPL(splk_core_update_now);
EXPORT_SYMBOL_GPL(splk_core_shrink_count);
EXPORT_SYMBOL_GPL(splk_core_shrink_scan);
EXPORT_SYMBOL_GPL(splk_core_shrinker_stats);
/* The suites hold the registry to show the shrinker never waits for it. */
EXPORT_SYMBOL_GPL(splk_registry_lock_write);
EXPORT_SYMBOL_GPL(splk_registry_unlock_write);
/* ... and wait for the drains a reap asked of the other CPUs. */
EXPORT_SYMBOL_GPL(splk_drain_flush);
EXPORT_SYMBOL_GPL(spl_kmem_cache_obj_per_slab);
EXPORT_SYMBOL_GPL(spl_kmem_cache_max_size);
EXPORT_SYMBOL_GPL(spl_kmem_cache_slab_limit);
EXPORT_SYMBOL_GPL(spl_kmem_cache_kmem_threads);
EXPORT_SYMBOL_GPL(splk_taskq_hold);
EXPORT_SYMBOL_GPL(splk_taskq_get_stats);
/* The glue's SLUB batch calls, whose return the seam suite checks. */
EXPORT_SYMBOL_GPL(splk_linux_cache_alloc_bulk);
EXPORT_SYMBOL_GPL(splk_linux_cache_free_bulk);
#endif
EXPORT_SYMBOL_GPL(splk_for_each_cache);
EXPORT_SYMBOL_GPL(splk_cache_stats_find);
EXPORT_SYMBOL_GPL(splk_core_check_invariants);
EXPORT_SYMBOL_GPL(splk_core_check_task_queues);
EXPORT_SYMBOL_GPL(splk_core_version);

static int __init splkmem_init(void)
{
	int rc;

	splk_kernel_info_init();
	splk_drain_init();
	rc = splk_core_init();
	if (rc)
		return rc;
	rc = splk_taskq_init();
	if (rc)
		goto out_core;
	rc = splk_proc_init();
	if (rc)
		goto out_taskq;
	splk_taskq_proc_init();
	rc = splk_shrinker_init();
	if (rc)
		goto out_proc;
	rc = splk_hotplug_init();
	if (rc)
		goto out_shrinker;
	pr_info("splkmem: loaded (%s)\n", splk_core_version());
	return 0;

out_shrinker:
	splk_shrinker_exit();
out_proc:
	splk_taskq_proc_exit();
	splk_proc_exit();
out_taskq:
	splk_taskq_fini();
out_core:
	splk_drain_flush();
	splk_core_exit();
	rcu_barrier();
	return rc;
}

static void __exit splkmem_exit(void)
{
	splk_hotplug_exit();
	splk_shrinker_exit();
	splk_taskq_proc_exit();
	splk_proc_exit();
	splk_taskq_fini();
	/* No cache is left for a drain to visit, but the work must be done. */
	splk_drain_flush();
	splk_core_exit();
	/* Magazines freed after a grace period call back into this module. */
	rcu_barrier();
	pr_info("splkmem: unloaded\n");
}

module_init(splkmem_init);
module_exit(splkmem_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("OpenZFS SPL object cache (spl_kmem_cache) as a module");
MODULE_VERSION(SPLKMEM_VERSION);
