// SPDX-License-Identifier: GPL-2.0
/*
 * The debug mode (spl_kmem_cache_debug, module/core/debug_check.hpp): each
 * kind of corruption is caught and reported exactly once, and the object
 * is never handed out twice.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>

#include "splkmem_test.h"

#define DT_SIZE 100	/* not a multiple of 8: the red zone starts at 104 */

static unsigned int dt_saved;

static int dt_init(struct kunit *test)
{
	dt_saved = READ_ONCE(spl_kmem_cache_debug);
	WRITE_ONCE(spl_kmem_cache_debug, 1);
	return 0;
}

static void dt_exit(struct kunit *test)
{
	WRITE_ONCE(spl_kmem_cache_debug, dt_saved);
	splk_test_exit(test);
}

static struct splk_test_cache *dt_cache(struct kunit *test, int flags)
{
	return splk_test_cache_create(test, "splk_dbg", DT_SIZE, 0, NULL, NULL, NULL, flags);
}

/* After a refused double free, the object is in one magazine only. */
static void dt_expect_no_object_twice(struct kunit *test, spl_kmem_cache_t *skc)
{
	void *a = spl_kmem_cache_alloc(skc, KM_SLEEP);
	void *b = spl_kmem_cache_alloc(skc, KM_SLEEP);

	KUNIT_EXPECT_PTR_NE(test, a, b);
	spl_kmem_cache_free(skc, a);
	spl_kmem_cache_free(skc, b);
}

/* Created while the mode is on, a cache with no type flag is vmalloc-backed. */
static void debug_cache_is_vmalloc_backed(struct kunit *test)
{
	struct splk_test_cache *c = dt_cache(test, 0);
	struct splk_cache_stats st;

	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_TRUE(test, st.flags & KMC_KVMEM);
	KUNIT_EXPECT_FALSE(test, st.flags & KMC_SLAB);
}

/* A write past the end is reported on free, once; the zone is repaired. */
static void debug_red_zone_overrun(struct kunit *test)
{
	struct splk_test_cache *c = dt_cache(test, KMC_KVMEM);
	unsigned long w;
	char *obj;

	obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	obj[round_up(DT_SIZE, 8)] = 0;
	w = splk_test_expect_warn_begin();
	spl_kmem_cache_free(c->skc, obj);
	splk_test_expect_warn_end(test, w, 1);

	w = splk_test_expect_warn_begin();
	obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	spl_kmem_cache_free(c->skc, obj);
	splk_test_expect_warn_end(test, w, 0);
}

/* A write to a freed object is reported when it is handed out again. */
static void debug_use_after_free_write(struct kunit *test)
{
	struct splk_test_cache *c = dt_cache(test, KMC_KVMEM);
	unsigned long w;
	char *obj, *again;

	obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	memset(obj, 0x11, DT_SIZE);
	spl_kmem_cache_free(c->skc, obj);
	KUNIT_EXPECT_EQ(test, (u8)obj[10], 0x6b);	/* freed objects are filled */
	obj[10] = 0x42;					/* the bug */

	w = splk_test_expect_warn_begin();
	migrate_disable();	/* the same CPU's magazine: the same object back */
	again = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	migrate_enable();
	splk_test_expect_warn_end(test, w, again == obj ? 1 : 0);
	KUNIT_EXPECT_PTR_EQ(test, again, obj);
	spl_kmem_cache_free(c->skc, again);
}

/* A second free is refused and reported; the object is handed out once. */
static void debug_double_free(struct kunit *test)
{
	struct splk_test_cache *c = dt_cache(test, KMC_KVMEM);
	unsigned long w;
	void *obj;

	obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	spl_kmem_cache_free(c->skc, obj);
	w = splk_test_expect_warn_begin();
	spl_kmem_cache_free(c->skc, obj);
	splk_test_expect_warn_end(test, w, 1);

	dt_expect_no_object_twice(test, c->skc);
}

/*
 * @obj, freed, goes back with its slab in a reap; a second free of it is
 * one report, and nothing goes into a magazine.
 */
static void dt_expect_free_after_reap_reported(struct kunit *test, struct splk_test_cache *c,
					       void *obj)
{
	struct splk_cache_stats st;
	unsigned long w;

	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_ASSERT_EQ(test, st.slab_total, 0ULL);

	w = splk_test_expect_warn_begin();
	spl_kmem_cache_free(c->skc, obj);
	splk_test_expect_warn_end(test, w, 1);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.mag_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);
}

/*
 * A free of an object whose slab a reap has given back: the tag is read
 * without faulting, so it is a report, not an oops.
 */
static void debug_double_free_after_reap(struct kunit *test)
{
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_dbg_big", 3 * PAGE_SIZE,
							   0, NULL, NULL, NULL, KMC_KVMEM);
	void *obj;

	obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	spl_kmem_cache_free(c->skc, obj);
	dt_expect_free_after_reap_reported(test, c, obj);
}

/*
 * A debug cache whose laid-out object (object and its 24-byte trailer) is
 * two pages, page aligned: its tags are in the slab header.  A double
 * free, and a free after the slab was reaped, are reports through the
 * index.
 */
static void debug_header_tags_frees(struct kunit *test)
{
	const size_t size = 2 * PAGE_SIZE - 24;
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_dbg_htags", size,
							   PAGE_SIZE, NULL, NULL, NULL, KMC_KVMEM);
	struct splk_cache_stats st;
	unsigned long w;
	void *obj;

	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_size, PAGE_SIZE + st.slab_objs * 2 * PAGE_SIZE);
	obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	memset(obj, 0x3c, size);
	spl_kmem_cache_free(c->skc, obj);
	w = splk_test_expect_warn_begin();
	spl_kmem_cache_free(c->skc, obj);
	splk_test_expect_warn_end(test, w, 1);
	dt_expect_free_after_reap_reported(test, c, obj);
}

struct dt_race {
	spl_kmem_cache_t *skc;
	void *obj;
	atomic_t go;
	struct completion done;
};

static int dt_race_fn(void *arg)
{
	struct dt_race *r = arg;

	while (!atomic_read(&r->go))
		cpu_relax();
	spl_kmem_cache_free(r->skc, r->obj);
	complete(&r->done);
	return 0;
}

/*
 * Two CPUs free one object at the same moment, many times: each time
 * exactly one free takes it and the other is reported, so the object is
 * never in two magazines (the next two allocations differ).
 */
static void debug_concurrent_double_free(struct kunit *test)
{
	struct splk_test_cache *c = dt_cache(test, KMC_KVMEM);
	struct dt_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct task_struct *t;
	int i, cpu = cpumask_last(cpu_online_mask);
	unsigned long w;

	KUNIT_ASSERT_NOT_NULL(test, r);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	r->skc = c->skc;
	for (i = 0; i < 50; i++) {
		r->obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, r->obj);
		atomic_set(&r->go, 0);
		init_completion(&r->done);
		t = kthread_create(dt_race_fn, r, "splk_dbg_race");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		kthread_bind(t, cpu);
		w = splk_test_expect_warn_begin();
		wake_up_process(t);
		udelay(50);
		atomic_set(&r->go, 1);
		spl_kmem_cache_free(c->skc, r->obj);
		wait_for_completion(&r->done);
		splk_test_expect_warn_end(test, w, 1);

		dt_expect_no_object_twice(test, c->skc);
	}
}

/* Flags SPL's caches do not take (KM_ZERO): a warning, then ignored. */
static void debug_unknown_alloc_flags(struct kunit *test)
{
	struct splk_test_cache *c = dt_cache(test, KMC_KVMEM);
	unsigned long w;
	void *obj;

	w = splk_test_expect_warn_begin();
	obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP | KM_ZERO);
	splk_test_expect_warn_end(test, w, 1);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	spl_kmem_cache_free(c->skc, obj);
}

static struct kunit_case debug_cases[] = {
	KUNIT_CASE(debug_cache_is_vmalloc_backed),
	KUNIT_CASE(debug_red_zone_overrun),
	KUNIT_CASE(debug_use_after_free_write),
	KUNIT_CASE(debug_double_free),
	KUNIT_CASE(debug_unknown_alloc_flags),
	KUNIT_CASE(debug_double_free_after_reap),
	KUNIT_CASE(debug_header_tags_frees),
	KUNIT_CASE_SLOW(debug_concurrent_double_free),
	{}
};

static struct kunit_suite debug_suite = {
	.name = "splkmem_debug",
	.init = dt_init,
	.exit = dt_exit,
	.test_cases = debug_cases,
};

kunit_test_suites(&debug_suite);
