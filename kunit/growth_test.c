// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous slab growth, deadlock detection and emergency objects, driven
 * by the fault hooks of test builds (seam.h) and by the kernel's own fault
 * injection (failslab, fail_page_alloc).
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "splkmem_test.h"

#define GT_NAME "splk_growth"
#define GT_SIZE 4096

static void gt_reset_hooks(void)
{
	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 0);
	WRITE_ONCE(splk_test_hooks.fail_slab_alloc, false);
	WRITE_ONCE(splk_test_hooks.fail_emergency_alloc, false);
	WRITE_ONCE(splk_test_hooks.fault_inject_grow, false);
	WRITE_ONCE(splk_test_hooks.grow_tail_delay_ms, 0);
}

static spl_kmem_cache_t *gt_create(struct kunit *test, size_t size, int flags)
{
	spl_kmem_cache_t *skc = spl_kmem_cache_create(GT_NAME, size, 0, NULL, NULL,
						      NULL, NULL, NULL, flags);

	KUNIT_ASSERT_NOT_NULL(test, skc);
	return skc;
}

static struct splk_cache_stats gt_stats(struct kunit *test)
{
	struct splk_cache_stats st;

	KUNIT_ASSERT_TRUE(test, splk_test_stats(GT_NAME, &st));
	return st;
}

/* Waits (up to 10 s) for the grow task to finish its slab. */
static void gt_wait_growth(struct kunit *test)
{
	int i;

	for (i = 0; i < 500; i++) {
		struct splk_cache_stats st = gt_stats(test);

		if (!(st.flags & KMC_GROWING))
			return;
		msleep(20);
	}
	KUNIT_FAIL(test, "grow task did not finish");
}

/* The first allocation of a cache grows it through the task queue. */
static void growth_async_creates_slab(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, GT_SIZE, KMC_KVMEM);
	struct splk_cache_stats st;
	void *obj = spl_kmem_cache_alloc(skc, KM_SLEEP);

	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(obj));
	st = gt_stats(test);
	KUNIT_EXPECT_EQ(test, st.slab_create, 1ULL);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_deadlock, 0ULL);
	KUNIT_EXPECT_FALSE(test, st.flags & (KMC_GROWING | KMC_DEADLOCKED));
	spl_kmem_cache_free(skc, obj);
	spl_kmem_cache_destroy(skc);
}

/*
 * A grow task that stalls past HZ/10 marks the cache deadlocked; KM_SLEEP
 * allocations then get emergency objects until the grow completes.
 */
static void growth_stall_serves_emergency_objects(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, GT_SIZE, KMC_KVMEM);
	struct splk_cache_stats st;
	void *a, *b, *c;

	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 1000);
	a = spl_kmem_cache_alloc(skc, KM_SLEEP);
	b = spl_kmem_cache_alloc(skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(a));
	KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(b));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(a));
	memset(a, 0x5a, GT_SIZE);
	memset(b, 0xa5, GT_SIZE);

	st = gt_stats(test);
	KUNIT_EXPECT_GE(test, st.obj_deadlock, 1ULL);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 2ULL);
	KUNIT_EXPECT_EQ(test, st.obj_emergency_max, 2ULL);
	KUNIT_EXPECT_TRUE(test, st.flags & KMC_DEADLOCKED);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(skc), 2ULL);

	spl_kmem_cache_free(skc, a);
	spl_kmem_cache_free(skc, b);
	st = gt_stats(test);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_emergency_max, 2ULL);

	/* The grow completes, clears the deadlock; slabs serve again. */
	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 0);
	gt_wait_growth(test);
	st = gt_stats(test);
	KUNIT_EXPECT_FALSE(test, st.flags & KMC_DEADLOCKED);
	KUNIT_EXPECT_EQ(test, st.slab_create, 1ULL);
	c = spl_kmem_cache_alloc(skc, KM_SLEEP);
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(c));
	spl_kmem_cache_free(skc, c);
	splk_test_reap_all_cpus(skc);
	st = gt_stats(test);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_total, 0ULL);
	spl_kmem_cache_destroy(skc);
}

/* KM_NOSLEEP never waits for growth: an emergency object, or NULL. */
static void growth_nosleep_emergency_or_null(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, GT_SIZE, KMC_KVMEM);
	struct splk_cache_stats st;
	void *obj;

	obj = spl_kmem_cache_alloc(skc, KM_NOSLEEP);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(obj));
	KUNIT_EXPECT_EQ(test, gt_stats(test).obj_emergency, 1ULL);
	spl_kmem_cache_free(skc, obj);

	WRITE_ONCE(splk_test_hooks.fail_emergency_alloc, true);
	KUNIT_EXPECT_NULL(test, spl_kmem_cache_alloc(skc, KM_NOSLEEP));
	WRITE_ONCE(splk_test_hooks.fail_emergency_alloc, false);

	st = gt_stats(test);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_total, 0ULL);
	spl_kmem_cache_destroy(skc);
}

/*
 * Slab allocation fails: KM_SLEEP still succeeds (emergency objects),
 * KM_NOSLEEP gets NULL when emergency pages fail too; every counter ends
 * at zero and slabs come back once allocation works again.
 */
static void growth_slab_failure_sleep_still_succeeds(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, GT_SIZE, KMC_KVMEM);
	struct splk_cache_stats st;
	void *objs[3], *obj = NULL;
	int i;

	WRITE_ONCE(splk_test_hooks.fail_slab_alloc, true);
	for (i = 0; i < ARRAY_SIZE(objs); i++) {
		objs[i] = spl_kmem_cache_alloc(skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(objs[i]));
	}
	WRITE_ONCE(splk_test_hooks.fail_emergency_alloc, true);
	KUNIT_EXPECT_NULL(test, spl_kmem_cache_alloc(skc, KM_NOSLEEP));
	WRITE_ONCE(splk_test_hooks.fail_emergency_alloc, false);

	st = gt_stats(test);
	KUNIT_EXPECT_GE(test, st.slab_fail, 1ULL);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 3ULL);
	for (i = 0; i < ARRAY_SIZE(objs); i++)
		spl_kmem_cache_free(skc, objs[i]);
	st = gt_stats(test);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_total, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);

	WRITE_ONCE(splk_test_hooks.fail_slab_alloc, false);
	gt_wait_growth(test);
	for (i = 0; i < 100; i++) {
		obj = spl_kmem_cache_alloc(skc, KM_SLEEP);
		if (is_vmalloc_addr(obj))
			break;
		spl_kmem_cache_free(skc, obj);
		obj = NULL;
		msleep(20);
	}
	KUNIT_EXPECT_NOT_NULL(test, obj);
	spl_kmem_cache_free(skc, obj);
	splk_test_reap_all_cpus(skc);
	st = gt_stats(test);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);
	spl_kmem_cache_destroy(skc);
}

struct gt_bursts {
	spl_kmem_cache_t *skc;
	void **objs;
	int n;
	bool failed;
	u64 first_created;
};

/* Two bursts of n allocations then n frees, on one CPU. */
static long gt_bursts_fn(void *arg)
{
	struct gt_bursts *b = arg;
	struct splk_cache_stats st;
	int round, i;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < b->n; i++) {
			b->objs[i] = spl_kmem_cache_alloc(b->skc, KM_SLEEP);
			if (!b->objs[i]) {
				b->failed = true;
				b->n = i;
			}
		}
		for (i = 0; i < b->n; i++)
			spl_kmem_cache_free(b->skc, b->objs[i]);
		if (round == 0 && splk_test_stats(GT_NAME, &st))
			b->first_created = st.slab_create;
	}
	return 0;
}

/*
 * Empty slabs stay until a reap: a second burst of the same size reuses
 * them (no new slab), and a reap on every CPU gives all of them back.  The
 * bursts run on one CPU: a test thread that moved between them would find
 * the first CPU's magazines out of reach and grow (seen on a loaded host).
 */
static void growth_warm_cache_keeps_empty_slabs(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, 64, KMC_KVMEM);
	struct gt_bursts b = { .skc = skc, .n = 2048 };
	struct splk_cache_stats second;
	u64 first_created;

	b.objs = kunit_kcalloc(test, b.n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b.objs);
	splk_test_on_cpu(cpumask_first(cpu_online_mask), gt_bursts_fn, &b);
	KUNIT_EXPECT_FALSE(test, b.failed);
	first_created = b.first_created;
	second = gt_stats(test);
	KUNIT_EXPECT_GT(test, first_created, 1ULL);
	KUNIT_EXPECT_EQ(test, second.slab_create, first_created);
	KUNIT_EXPECT_EQ(test, second.slab_destroy, 0ULL);
	KUNIT_EXPECT_EQ(test, second.slab_total, first_created);

	splk_test_reap_all_cpus(skc);
	second = gt_stats(test);
	KUNIT_EXPECT_EQ(test, second.slab_total, 0ULL);
	KUNIT_EXPECT_EQ(test, second.slab_destroy, first_created);
	KUNIT_EXPECT_EQ(test, second.obj_alloc, 0ULL);
	spl_kmem_cache_destroy(skc);
}

#define GT_BURST 512

static long gt_burst_fn(void *arg)
{
	spl_kmem_cache_t *skc = arg;
	void **objs = kmalloc_array(GT_BURST, sizeof(void *), GFP_KERNEL);
	int i;

	if (!objs)
		return -ENOMEM;
	for (i = 0; i < GT_BURST; i++)
		objs[i] = spl_kmem_cache_alloc(skc, KM_SLEEP);
	for (i = 0; i < GT_BURST; i++)
		spl_kmem_cache_free(skc, objs[i]);
	kfree(objs);
	return 0;
}

static long gt_drop_slab_fn(void *arg)
{
	struct file *f = filp_open("/proc/sys/vm/drop_caches", O_WRONLY, 0);
	loff_t pos = 0;
	ssize_t n;

	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_write(f, "2", 1, &pos);	/* 2: shrink slab caches */
	filp_close(f, NULL);
	return n == 1 ? 0 : -EIO;
}

/*
 * The shrinker: drop_caches=2 runs every shrinker.  Ours gives back the
 * depots' magazines and frees the empty slabs (the CPUs' own magazines are
 * left to reaps): after the burst on CPU 0, only the objects still in CPU
 * 0's two magazines keep slabs.
 */
static void growth_shrinker_returns_empty_slabs(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, 1024, KMC_KVMEM);
	struct splk_cache_stats before, after;

	KUNIT_ASSERT_EQ(test, splk_test_on_cpu(0, gt_burst_fn, skc), 0);
	before = gt_stats(test);
	KUNIT_ASSERT_GT(test, before.slab_total, 1ULL);
	KUNIT_ASSERT_GT(test, before.depot_objs, 0ULL);
	KUNIT_ASSERT_EQ(test, before.slab_destroy, 0ULL);

	KUNIT_ASSERT_EQ(test, splk_test_on_cpu(0, gt_drop_slab_fn, NULL), 0);
	after = gt_stats(test);
	KUNIT_EXPECT_EQ(test, after.depot_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, after.obj_alloc, after.cpu_objs);
	KUNIT_EXPECT_EQ(test, after.slab_destroy - before.slab_destroy + after.slab_total,
			before.slab_total);
	KUNIT_EXPECT_LE(test, after.slab_total, after.cpu_objs);
	KUNIT_EXPECT_LT(test, after.slab_total, before.slab_total);
	KUNIT_EXPECT_EQ(test, after.obj_total, after.slab_total * after.slab_objs);
	KUNIT_EXPECT_EQ(test, after.slab_create, before.slab_create);
	spl_kmem_cache_destroy(skc);
}

/* The figure named @key in /proc/spl/kmem/shrinker ("name value" lines). */
static unsigned long long gt_proc_shrinker(struct kunit *test, const char *key)
{
	char *buf = kunit_kzalloc(test, 1024, GFP_KERNEL);
	unsigned long long v = 0;
	struct file *f;
	loff_t pos = 0;
	ssize_t len;
	char *line, *p;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	f = filp_open("/proc/spl/kmem/shrinker", O_RDONLY, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(f), "open /proc/spl/kmem/shrinker: %d",
			       PTR_ERR_OR_ZERO(f));
	len = kernel_read(f, buf, 1023, &pos);
	filp_close(f, NULL);
	KUNIT_ASSERT_GT(test, len, 0);
	p = buf;
	while ((line = strsep(&p, "\n"))) {
		char *name = strsep(&line, " ");

		if (line && !strcmp(name, key)) {
			KUNIT_ASSERT_EQ(test, kstrtoull(line, 10, &v), 0);
			return v;
		}
	}
	KUNIT_FAIL(test, "no %s in /proc/spl/kmem/shrinker", key);
	return 0;
}

/*
 * drop_caches=2 calls the shrinker through the kernel's shrink_slab():
 * its count and scan calls and what the scans freed are counted (at least
 * the depot's objects of the burst), and /proc/spl/kmem/shrinker shows the
 * same figures.
 */
static void growth_shrinker_calls_counted(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, 1024, KMC_KVMEM);
	struct splk_shrinker_stats before, after, mid;
	struct splk_cache_stats st;

	KUNIT_ASSERT_EQ(test, splk_test_on_cpu(0, gt_burst_fn, skc), 0);
	st = gt_stats(test);
	KUNIT_ASSERT_GT(test, st.depot_objs, 0ULL);
	splk_core_shrinker_stats(&before);
	KUNIT_ASSERT_EQ(test, splk_test_on_cpu(0, gt_drop_slab_fn, NULL), 0);
	splk_core_shrinker_stats(&after);
	KUNIT_EXPECT_GT(test, after.count_calls, before.count_calls);
	KUNIT_EXPECT_GT(test, after.scan_calls, before.scan_calls);
	KUNIT_EXPECT_GE(test, after.scan_freed - before.scan_freed, st.depot_objs);
	KUNIT_EXPECT_EQ(test, gt_stats(test).depot_objs, 0ULL);

	/* The file shows these figures (or later ones, if reclaim came). */
	KUNIT_EXPECT_GE(test, gt_proc_shrinker(test, "count_calls"), after.count_calls);
	KUNIT_EXPECT_GE(test, gt_proc_shrinker(test, "scan_calls"), after.scan_calls);
	KUNIT_EXPECT_GE(test, gt_proc_shrinker(test, "scan_freed"), after.scan_freed);
	KUNIT_EXPECT_GE(test, gt_proc_shrinker(test, "count_busy"), after.count_busy);
	KUNIT_EXPECT_GE(test, gt_proc_shrinker(test, "scan_busy"), after.scan_busy);

	/* A direct scan counts once, with what it returned. */
	KUNIT_ASSERT_EQ(test, splk_test_on_cpu(0, gt_burst_fn, skc), 0);
	splk_core_shrinker_stats(&mid);
	{
		u64 freed = splk_core_shrink_scan(ULLONG_MAX);

		splk_core_shrinker_stats(&after);
		KUNIT_EXPECT_GT(test, freed, 0ULL);
		KUNIT_EXPECT_GE(test, after.scan_calls - mid.scan_calls, 1ULL);
		KUNIT_EXPECT_GE(test, after.scan_freed - mid.scan_freed, freed);
	}
	spl_kmem_cache_destroy(skc);
}

/* Allocators on every CPU while the grow task stalls. */
#define GT_PER_CPU 24

struct gt_worker {
	spl_kmem_cache_t *skc;
	void *objs[GT_PER_CPU];
	int got;
	struct completion done;
};

static int gt_worker_fn(void *arg)
{
	struct gt_worker *w = arg;
	int i;

	for (i = 0; i < GT_PER_CPU; i++) {
		w->objs[i] = spl_kmem_cache_alloc(w->skc, KM_SLEEP);
		if (w->objs[i]) {
			memset(w->objs[i], i, GT_SIZE);
			w->got++;
		}
	}
	complete(&w->done);
	return 0;
}

static int gt_cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static void growth_all_cpus_during_stall(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, GT_SIZE, KMC_KVMEM);
	int ncpu = num_online_cpus(), cpu, n = 0, i, j;
	struct gt_worker *w = kunit_kcalloc(test, ncpu, sizeof(*w), GFP_KERNEL);
	void **all = kunit_kcalloc(test, ncpu * GT_PER_CPU, sizeof(void *), GFP_KERNEL);
	struct splk_cache_stats st;

	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_NOT_NULL(test, all);
	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 300);
	i = 0;
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		w[i].skc = skc;
		init_completion(&w[i].done);
		t = kthread_create(gt_worker_fn, &w[i], "splk_gt/%d", cpu);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		kthread_bind(t, cpu);
		wake_up_process(t);
		i++;
	}
	for (i = 0; i < ncpu; i++) {
		wait_for_completion(&w[i].done);
		KUNIT_EXPECT_EQ(test, w[i].got, GT_PER_CPU);
		for (j = 0; j < w[i].got; j++)
			all[n++] = w[i].objs[j];
	}
	sort(all, n, sizeof(void *), gt_cmp_ptr, NULL);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_NE(test, (uintptr_t)all[i - 1], (uintptr_t)all[i]);
	st = gt_stats(test);
	KUNIT_EXPECT_GE(test, st.obj_deadlock, 1ULL);
	KUNIT_EXPECT_GE(test, st.obj_emergency_max, 1ULL);

	for (i = 0; i < n; i++)
		spl_kmem_cache_free(skc, all[i]);
	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 0);
	gt_wait_growth(test);
	splk_test_reap_all_cpus(skc);
	st = gt_stats(test);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 0ULL);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);
	spl_kmem_cache_destroy(skc);
}

/* destroy while the grow task still runs: it waits, no use after free. */
static void growth_destroy_races_grow_task(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, GT_SIZE, KMC_KVMEM);
	unsigned long warnings = splk_warning_count();
	void *obj;

	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 400);
	obj = spl_kmem_cache_alloc(skc, KM_SLEEP);	/* emergency after HZ/10 */
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_EXPECT_TRUE(test, gt_stats(test).flags & KMC_GROWING);
	spl_kmem_cache_free(skc, obj);
	spl_kmem_cache_destroy(skc);	/* the grow task is still asleep */
	KUNIT_EXPECT_FALSE(test, splk_test_stats(GT_NAME, &(struct splk_cache_stats){}));
	KUNIT_EXPECT_EQ(test, splk_warning_count(), warnings);
}

/* /proc/spl/kmem/slab shows the deadlock and emergency columns. */
static void growth_proc_shows_emergency_counters(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, GT_SIZE, KMC_KVMEM);
	unsigned long long dlock = 0, alloc = 0, max = 0;
	char *buf = kunit_kzalloc(test, 16384, GFP_KERNEL);
	struct file *f;
	loff_t pos = 0;
	ssize_t len;
	char *line;
	void *obj;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 400);
	obj = spl_kmem_cache_alloc(skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, obj);

	f = filp_open("/proc/spl/kmem/slab", O_RDONLY, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	len = kernel_read(f, buf, 16383, &pos);
	filp_close(f, NULL);
	KUNIT_ASSERT_GT(test, len, 0);
	line = strstr(buf, "\n" GT_NAME " ");
	KUNIT_ASSERT_NOT_NULL(test, line);
	line++;
	/*
	 * 15 columns: name flags size alloc slabsize objsize, slab
	 * total/alloc/max, object total/alloc/max, dlock, emergency alloc/max.
	 */
	{
		char *cols[15], *p = line;
		int n = 0;

		*strchrnul(line, '\n') = '\0';
		while (n < 15 && (cols[n] = strsep(&p, " ")))
			if (*cols[n])
				n++;
		KUNIT_ASSERT_EQ(test, n, 15);
		KUNIT_ASSERT_EQ(test, kstrtoull(cols[12], 10, &dlock), 0);
		KUNIT_ASSERT_EQ(test, kstrtoull(cols[13], 10, &alloc), 0);
		KUNIT_ASSERT_EQ(test, kstrtoull(cols[14], 10, &max), 0);
	}
	KUNIT_EXPECT_GE(test, dlock, 1ULL);
	KUNIT_EXPECT_EQ(test, alloc, 1ULL);
	KUNIT_EXPECT_EQ(test, max, 1ULL);

	spl_kmem_cache_free(skc, obj);
	spl_kmem_cache_destroy(skc);
}

/* ---- The kernel's fault injection ------------------------------------- */

/*
 * failslab and fail_page_alloc fail 20% of the allocations of this thread
 * and of the grow task: slabs fail to grow, emergency pages and their
 * tracking nodes fail, and so do the index nodes of a cache with its tags
 * in the slab header (16 KiB page-aligned objects).  KM_SLEEP must still
 * always succeed, KM_NOSLEEP may fail, no object is lost or handed out
 * twice, and the books balance.
 *
 * The harness (scripts/check.sh) arms both at boot with task-filter=Y, so
 * only tasks marked make-it-fail (this one, the grow task while the hook
 * is on) see failures; debugfs attributes cannot be written from the
 * kernel.  If they were not armed, slab_fail stays 0 and the test fails.
 */
static void growth_fault_injection_stress(struct kunit *test)
{
	static const char *const names[] = { "splk_gt_fi_kv", "splk_gt_fi_slab", "splk_gt_fi_ht" };
	static const size_t sizes[] = { GT_SIZE, 256, SZ_16K };
	spl_kmem_cache_t *skcs[] = {
		spl_kmem_cache_create(names[0], sizes[0], 0, NULL, NULL, NULL, NULL, NULL,
				      KMC_KVMEM),
		spl_kmem_cache_create(names[1], sizes[1], 0, NULL, NULL, NULL, NULL, NULL,
				      KMC_SLAB),
		spl_kmem_cache_create(names[2], sizes[2], PAGE_SIZE, NULL, NULL, NULL, NULL,
				      NULL, KMC_KVMEM),
	};
	void **objs = kunit_kcalloc(test, 48, sizeof(void *), GFP_KERNEL);
	unsigned long nosleep_null = 0;
	struct splk_cache_stats st;
	int round, i, k;

	for (k = 0; k < ARRAY_SIZE(skcs); k++)
		KUNIT_ASSERT_NOT_NULL(test, skcs[k]);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	WRITE_ONCE(splk_test_hooks.fault_inject_grow, true);
	splk_fault_inject_current(true);

	for (round = 0; round < 90; round++) {
		spl_kmem_cache_t *skc = skcs[round % 3];
		size_t size = sizes[round % 3];

		for (i = 0; i < 48; i++) {
			int flags = (i % 4 == 3) ? KM_NOSLEEP : KM_SLEEP;

			objs[i] = spl_kmem_cache_alloc(skc, flags);
			if (!objs[i]) {
				KUNIT_EXPECT_EQ(test, flags, KM_NOSLEEP);
				nosleep_null++;
				continue;
			}
			memset(objs[i], round, size);
		}
		for (i = 0; i < 48; i++) {
			if (!objs[i])
				continue;
			KUNIT_EXPECT_EQ(test, ((u8 *)objs[i])[size - 1], (u8)round);
			spl_kmem_cache_free(skc, objs[i]);
		}
		if (round % 3 != 1)
			spl_kmem_cache_reap_now(skc);	/* frees slabs: more growth */
	}

	splk_fault_inject_current(false);
	WRITE_ONCE(splk_test_hooks.fault_inject_grow, false);

	kunit_info(test, "KM_NOSLEEP failures: %lu", nosleep_null);
	for (k = 0; k < ARRAY_SIZE(skcs); k += 2) {
		KUNIT_ASSERT_TRUE(test, splk_test_stats(names[k], &st));
		kunit_info(test, "%s: slab_fail %llu deadlock %llu emergency_max %llu",
			   names[k], st.slab_fail, st.obj_deadlock, st.obj_emergency_max);
		KUNIT_EXPECT_GT(test, st.slab_fail, 0ULL);	/* injection reached growth */
		KUNIT_EXPECT_EQ(test, st.obj_emergency, 0ULL);
		splk_test_reap_all_cpus(skcs[k]);
		KUNIT_ASSERT_TRUE(test, splk_test_stats(names[k], &st));
		KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);
	}
	KUNIT_ASSERT_TRUE(test, splk_test_stats(names[1], &st));
	KUNIT_EXPECT_EQ(test, st.linux_alloc, 0ULL);
	for (k = 0; k < ARRAY_SIZE(skcs); k++)
		spl_kmem_cache_destroy(skcs[k]);
}

static void gt_exit(struct kunit *test)
{
	gt_reset_hooks();
	splk_fault_inject_current(false);
	splk_test_exit(test);
}

/*
 * Two grow tasks of one cache overlap: the first is still in its tail (it
 * cleared GROWING and holds the cache) when the second is dispatched with
 * the same embedded entry and finishes.  destroy must wait for both, not
 * only for the task its last recorded id names.
 */
static void growth_destroy_waits_overlapping_grows(struct kunit *test)
{
	spl_kmem_cache_t *skc = gt_create(test, 64, KMC_KVMEM);
	const int n = 600;	/* more than one grow task's slabs hold */
	void **objs = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	unsigned long dispatched, finished;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	gt_reset_hooks();
	WRITE_ONCE(splk_test_hooks.grow_tail_delay_ms, 600);
	dispatched = READ_ONCE(splk_test_hooks.grows_dispatched);
	for (i = 0; i < n; i++) {
		objs[i] = spl_kmem_cache_alloc(skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
	/* At least two grows: the first one's tail overlaps the later ones. */
	finished = READ_ONCE(splk_test_hooks.grows_dispatched);
	KUNIT_EXPECT_GE(test, finished - dispatched, 2UL);
	for (i = 0; i < n; i++)
		spl_kmem_cache_free(skc, objs[i]);
	spl_kmem_cache_destroy(skc);
	/* Every grow task was done with the cache before destroy returned. */
	finished = READ_ONCE(splk_test_hooks.grows_finished);
	dispatched = READ_ONCE(splk_test_hooks.grows_dispatched);
	KUNIT_EXPECT_EQ(test, finished, dispatched);
	msleep(700);	/* a task destroy did not wait for would touch it now */
	gt_reset_hooks();
}

static struct kunit_case growth_cases[] = {
	KUNIT_CASE(growth_async_creates_slab),
	KUNIT_CASE(growth_stall_serves_emergency_objects),
	KUNIT_CASE(growth_nosleep_emergency_or_null),
	KUNIT_CASE(growth_slab_failure_sleep_still_succeeds),
	KUNIT_CASE(growth_warm_cache_keeps_empty_slabs),
	KUNIT_CASE(growth_shrinker_returns_empty_slabs),
	KUNIT_CASE(growth_shrinker_calls_counted),
	KUNIT_CASE(growth_all_cpus_during_stall),
	KUNIT_CASE(growth_destroy_races_grow_task),
	KUNIT_CASE_SLOW(growth_destroy_waits_overlapping_grows),
	KUNIT_CASE(growth_proc_shows_emergency_counters),
	KUNIT_CASE_SLOW(growth_fault_injection_stress),
	{}
};

static struct kunit_suite growth_suite = {
	.name = "splkmem_growth",
	.exit = gt_exit,
	.test_cases = growth_cases,
};

kunit_test_suites(&growth_suite);
