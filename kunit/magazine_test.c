// SPDX-License-Identifier: GPL-2.0
/*
 * The magazine layer (cpu_layer.hpp, depot.hpp): one CPU's frees feed
 * another CPU's allocations through the depot, the working-set update
 * keeps a busy cache and trims an idle one, magazines grow under depot
 * contention, a reap empties the depot too, and the shrinker's count is
 * what its scan frees.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/slab.h>

#include "splkmem_test.h"

struct mt_batch {
	spl_kmem_cache_t *skc;
	void **objs;
	unsigned int n;
	unsigned int got;
};

static long mt_alloc_fn(void *arg)
{
	struct mt_batch *b = arg;
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		b->objs[i] = spl_kmem_cache_alloc(b->skc, KM_SLEEP);
		b->got += b->objs[i] != NULL;
	}
	return 0;
}

static long mt_free_fn(void *arg)
{
	struct mt_batch *b = arg;
	unsigned int i;

	for (i = 0; i < b->n; i++)
		spl_kmem_cache_free(b->skc, b->objs[i]);
	return 0;
}

static long mt_cycle_fn(void *arg)
{
	mt_alloc_fn(arg);
	return mt_free_fn(arg);
}

/* A batch of four magazines' worth of objects of c. */
static struct mt_batch *mt_batch(struct kunit *test, struct splk_test_cache *c)
{
	struct mt_batch *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct splk_cache_stats st;

	KUNIT_ASSERT_NOT_NULL(test, b);
	splk_test_cache_stats(test, c, &st);
	b->skc = c->skc;
	b->n = 4 * st.mag_size;
	b->objs = kunit_kcalloc(test, b->n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->objs);
	return b;
}

static int mt_other_cpu(int cpu)
{
	int other;

	for_each_online_cpu(other)
		if (other != cpu)
			return other;
	return -1;
}

/*
 * CPU A allocates four magazines' worth, CPU B frees them all: what does
 * not fit B's two magazines goes to the depot as full magazines, not to
 * the slabs.  A's next allocations take those magazines whole: no slab is
 * created and no object leaves the slabs.
 */
static void mag_depot_feeds_other_cpu(struct kunit *test)
{
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_mt_depot", 256, 0, NULL,
							   NULL, NULL, KMC_KVMEM);
	struct mt_batch *b = mt_batch(test, c), *again_b;
	struct splk_cache_stats allocated, freed, again;
	int a = 0, other = mt_other_cpu(0);

	if (other < 0)
		kunit_skip(test, "needs a second online CPU");
	splk_test_on_cpu(a, mt_alloc_fn, b);
	KUNIT_ASSERT_EQ(test, b->got, b->n);
	splk_test_cache_stats(test, c, &allocated);

	splk_test_on_cpu(other, mt_free_fn, b);
	splk_test_cache_stats(test, c, &freed);
	KUNIT_EXPECT_GE(test, freed.depot_full, 1ULL);
	KUNIT_EXPECT_EQ(test, freed.depot_objs, freed.depot_full * freed.mag_size);
	KUNIT_EXPECT_EQ(test, freed.obj_alloc, allocated.obj_alloc);
	KUNIT_EXPECT_EQ(test, freed.mag_objs, (u64)b->n + allocated.mag_objs);

	/* A's own leftovers, then every depot magazine: no slab touched. */
	again_b = mt_batch(test, c);
	again_b->n = allocated.cpu_objs + freed.depot_objs;
	KUNIT_ASSERT_LE(test, again_b->n, 4 * freed.mag_size);
	splk_test_on_cpu(a, mt_alloc_fn, again_b);
	KUNIT_EXPECT_EQ(test, again_b->got, again_b->n);
	splk_test_cache_stats(test, c, &again);
	KUNIT_EXPECT_EQ(test, again.slab_create, freed.slab_create);
	KUNIT_EXPECT_EQ(test, again.depot_full, 0ULL);
	KUNIT_EXPECT_EQ(test, again.obj_alloc, freed.obj_alloc);
	splk_test_on_cpu(a, mt_free_fn, again_b);
}

/*
 * Two intervals: the busy cache cycles four magazines' worth through the
 * depot in each, the idle one was filled once before the first.  The busy
 * one keeps its slabs and depot; the idle one gives back every object and
 * every slab.
 */
static void mag_ws_keeps_busy_trims_idle(struct kunit *test)
{
	struct splk_test_cache *busy = splk_test_cache_create(test, "splk_mt_busy", 512, 0, NULL,
							      NULL, NULL, KMC_KVMEM);
	struct splk_test_cache *idle = splk_test_cache_create(test, "splk_mt_idle", 512, 0, NULL,
							      NULL, NULL, KMC_KVMEM);
	struct mt_batch *bb = mt_batch(test, busy), *ib = mt_batch(test, idle);
	struct splk_cache_stats bs, is;
	int round;

	splk_test_on_cpu(0, mt_cycle_fn, ib);
	splk_test_cache_stats(test, idle, &is);
	KUNIT_ASSERT_GT(test, is.slab_total, 0ULL);
	KUNIT_ASSERT_GT(test, is.depot_full, 0ULL);
	for (round = 0; round < 2; round++) {
		splk_test_on_cpu(0, mt_cycle_fn, bb);
		splk_core_update_now();
	}
	splk_test_cache_stats(test, idle, &is);
	KUNIT_EXPECT_EQ(test, is.mag_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, is.depot_full, 0ULL);
	KUNIT_EXPECT_EQ(test, is.obj_alloc, 0ULL);
	KUNIT_EXPECT_EQ(test, is.slab_total, 0ULL);

	splk_test_cache_stats(test, busy, &bs);
	KUNIT_EXPECT_EQ(test, bs.slab_destroy, 0ULL);
	KUNIT_EXPECT_GT(test, bs.depot_full, 0ULL);
	KUNIT_EXPECT_EQ(test, bs.obj_alloc, bs.mag_objs);
}

/* Every depot lock counted as contended: the next update doubles the size. */
static void mag_resize_under_contention(struct kunit *test)
{
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_mt_resize", 2048, 0, NULL,
							   NULL, NULL, KMC_KVMEM);
	struct mt_batch *b = mt_batch(test, c);
	unsigned int saved = READ_ONCE(spl_kmem_cache_depot_contention);
	struct splk_cache_stats before, after;

	splk_test_cache_stats(test, c, &before);
	WRITE_ONCE(spl_kmem_cache_depot_contention, 1);
	WRITE_ONCE(splk_test_hooks.depot_trylock_fails, true);
	splk_test_on_cpu(0, mt_cycle_fn, b);
	splk_test_on_cpu(0, mt_cycle_fn, b);
	WRITE_ONCE(splk_test_hooks.depot_trylock_fails, false);
	splk_core_update_now();
	WRITE_ONCE(spl_kmem_cache_depot_contention, saved);

	splk_test_cache_stats(test, c, &after);
	KUNIT_EXPECT_EQ(test, after.mag_resizes, before.mag_resizes + 1);
	KUNIT_EXPECT_EQ(test, after.mag_size, 2 * before.mag_size);
	/* The new size is what new magazines get: still every object served. */
	b->got = 0;
	splk_test_on_cpu(0, mt_cycle_fn, b);
	KUNIT_EXPECT_EQ(test, b->got, b->n);
}

/* A reap empties the depot as well as every CPU's magazines. */
static void mag_reap_now_empties_depot(struct kunit *test)
{
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_mt_reap", 256, 0, NULL,
							   NULL, NULL, KMC_KVMEM);
	struct mt_batch *b = mt_batch(test, c);
	struct splk_cache_stats st;

	splk_test_on_cpu(0, mt_cycle_fn, b);
	splk_test_cache_stats(test, c, &st);
	KUNIT_ASSERT_GT(test, st.depot_objs, 0ULL);
	KUNIT_ASSERT_GT(test, st.cpu_objs, 0ULL);
	spl_kmem_cache_reap_now(c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.depot_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st.depot_full, 0ULL);
	KUNIT_EXPECT_EQ(test, st.cpu_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);
}

/*
 * The shrinker's count is the depots' objects plus empty slabs (nothing in
 * the CPUs' magazines), a scan for one object stops after the first cache
 * that frees any, and a scan for everything leaves a count of zero.
 */
static void mag_shrinker_count_is_scan(struct kunit *test)
{
	struct splk_test_cache *c1 = splk_test_cache_create(test, "splk_mt_shrink1", 256, 0,
							    NULL, NULL, NULL, KMC_KVMEM);
	struct splk_test_cache *c2 = splk_test_cache_create(test, "splk_mt_shrink2", 256, 0,
							    NULL, NULL, NULL, KMC_KVMEM);
	struct mt_batch *b1 = mt_batch(test, c1), *b2 = mt_batch(test, c2);
	struct splk_cache_stats s1, s2;
	u64 count, freed;

	splk_test_on_cpu(0, mt_cycle_fn, b1);
	splk_test_on_cpu(0, mt_cycle_fn, b2);
	splk_test_cache_stats(test, c1, &s1);
	splk_test_cache_stats(test, c2, &s2);
	KUNIT_ASSERT_GT(test, s1.depot_objs, 0ULL);
	KUNIT_ASSERT_GT(test, s2.depot_objs, 0ULL);

	count = splk_core_shrink_count();
	KUNIT_EXPECT_GE(test, count, s1.depot_objs + s2.depot_objs);
	freed = splk_core_shrink_scan(1);
	KUNIT_EXPECT_GE(test, freed, 1ULL);
	KUNIT_EXPECT_LT(test, freed, count);
	KUNIT_EXPECT_EQ(test, splk_core_shrink_count(), count - freed);

	freed += splk_core_shrink_scan(ULLONG_MAX);
	KUNIT_EXPECT_EQ(test, freed, count);
	KUNIT_EXPECT_EQ(test, splk_core_shrink_count(), 0ULL);
	splk_test_cache_stats(test, c1, &s1);
	splk_test_cache_stats(test, c2, &s2);
	KUNIT_EXPECT_EQ(test, s1.depot_objs + s2.depot_objs, 0ULL);
	/* The CPUs' magazines are the reaps' to empty, not the shrinker's. */
	KUNIT_EXPECT_GT(test, s1.cpu_objs, 0ULL);
}

/*
 * The periodic update itself: with the interval set to 200 ms (the task
 * looks at the parameter at least every second), an idle cache is trimmed
 * to nothing within a few seconds, without any call.
 */
static void mag_periodic_update_trims_idle(struct kunit *test)
{
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_mt_periodic", 256, 0,
							   NULL, NULL, NULL, KMC_KVMEM);
	struct mt_batch *b = mt_batch(test, c);
	unsigned int saved = READ_ONCE(spl_kmem_cache_reap_interval_ms);
	struct splk_cache_stats st;
	int ms;

	splk_test_on_cpu(0, mt_cycle_fn, b);
	splk_test_cache_stats(test, c, &st);
	KUNIT_ASSERT_GT(test, st.slab_total, 0ULL);
	WRITE_ONCE(spl_kmem_cache_reap_interval_ms, 200);
	for (ms = 0; ms < 5000; ms += 100) {
		msleep(100);
		splk_test_cache_stats(test, c, &st);
		if (st.slab_total == 0)
			break;
	}
	WRITE_ONCE(spl_kmem_cache_reap_interval_ms, saved);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);
	KUNIT_EXPECT_EQ(test, st.mag_objs, 0ULL);
}

static struct kunit_case magazine_cases[] = {
	KUNIT_CASE(mag_depot_feeds_other_cpu),
	KUNIT_CASE(mag_ws_keeps_busy_trims_idle),
	KUNIT_CASE(mag_resize_under_contention),
	KUNIT_CASE(mag_reap_now_empties_depot),
	KUNIT_CASE(mag_shrinker_count_is_scan),
	KUNIT_CASE_SLOW(mag_periodic_update_trims_idle),
	{}
};

static struct kunit_suite magazine_suite = {
	.name = "splkmem_magazines",
	.exit = splk_test_exit,
	.test_cases = magazine_cases,
};

kunit_test_suites(&magazine_suite);
