// SPDX-License-Identifier: GPL-2.0
/*
 * The magazine layer (cpu_layer.hpp, depot.hpp): one CPU's frees feed
 * another CPU's allocations through the depot, the working-set update
 * keeps a busy cache and trims an idle one, magazines grow under depot
 * contention, a reap empties the depot too, the shrinker's count is what
 * its scan frees, and the depot trim gives back what sits idle beyond its
 * slack for a window (and everything beyond it at the next tick after a
 * window found idle excess), and keeps what the CPUs draw on.
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

/* n statistics snapshots, off the stack (KASAN frames are 1 KiB at most). */
static struct splk_cache_stats *mt_stats(struct kunit *test, unsigned int n)
{
	struct splk_cache_stats *st = kunit_kcalloc(test, n, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	return st;
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
	struct splk_cache_stats *st = mt_stats(test, 3);
	struct splk_cache_stats *allocated = &st[0], *freed = &st[1], *again = &st[2];
	int a = 0, other = mt_other_cpu(0);

	if (other < 0)
		kunit_skip(test, "needs a second online CPU");
	splk_test_on_cpu(a, mt_alloc_fn, b);
	KUNIT_ASSERT_EQ(test, b->got, b->n);
	splk_test_cache_stats(test, c, allocated);

	splk_test_on_cpu(other, mt_free_fn, b);
	splk_test_cache_stats(test, c, freed);
	KUNIT_EXPECT_GE(test, freed->depot_full, 1ULL);
	KUNIT_EXPECT_EQ(test, freed->depot_objs, freed->depot_full * freed->mag_size);
	KUNIT_EXPECT_EQ(test, freed->obj_alloc, allocated->obj_alloc);
	KUNIT_EXPECT_EQ(test, freed->mag_objs, (u64)b->n + allocated->mag_objs);

	/* A's own leftovers, then every depot magazine: no slab touched. */
	again_b = mt_batch(test, c);
	again_b->n = allocated->cpu_objs + freed->depot_objs;
	KUNIT_ASSERT_LE(test, again_b->n, 4 * freed->mag_size);
	splk_test_on_cpu(a, mt_alloc_fn, again_b);
	KUNIT_EXPECT_EQ(test, again_b->got, again_b->n);
	splk_test_cache_stats(test, c, again);
	KUNIT_EXPECT_EQ(test, again->slab_create, freed->slab_create);
	KUNIT_EXPECT_EQ(test, again->depot_full, 0ULL);
	KUNIT_EXPECT_EQ(test, again->obj_alloc, freed->obj_alloc);
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
	splk_drain_flush();	/* CPU 0's drain, if the reap ran elsewhere */
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.depot_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st.depot_full, 0ULL);
	KUNIT_EXPECT_EQ(test, st.cpu_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);
}

/*
 * The shrinker's count is the depots' objects plus empty slabs (nothing in
 * the CPUs' magazines), a scan for one object stops after the first cache
 * that frees any, and a scan for everything leaves a count of zero and,
 * having freed less than asked, has the CPUs empty their magazines: then
 * the caches hold no slab.
 */
static void mag_shrinker_count_is_scan(struct kunit *test)
{
	struct splk_test_cache *c1 = splk_test_cache_create(test, "splk_mt_shrink1", 256, 0,
							    NULL, NULL, NULL, KMC_KVMEM);
	struct splk_test_cache *c2 = splk_test_cache_create(test, "splk_mt_shrink2", 256, 0,
							    NULL, NULL, NULL, KMC_KVMEM);
	struct mt_batch *b1 = mt_batch(test, c1), *b2 = mt_batch(test, c2);
	struct splk_shrinker_stats before, after;
	struct splk_cache_stats s1, s2;
	unsigned long deadline;
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

	splk_core_shrinker_stats(&before);
	freed += splk_core_shrink_scan(ULLONG_MAX);
	KUNIT_EXPECT_EQ(test, freed, count);
	splk_test_cache_stats(test, c1, &s1);
	splk_test_cache_stats(test, c2, &s2);
	KUNIT_EXPECT_EQ(test, s1.depot_objs + s2.depot_objs, 0ULL);

	/*
	 * That scan freed less than it was asked for: the CPUs were asked to
	 * empty their magazines too, and their drain work frees the slabs
	 * that empties.  At most once a second: if an earlier case's scan
	 * asked less than a second ago, a later scan asks.
	 */
	deadline = jiffies + 5 * HZ;
	for (;;) {
		splk_drain_flush();
		splk_test_cache_stats(test, c1, &s1);
		splk_test_cache_stats(test, c2, &s2);
		if ((s1.cpu_objs == 0 && s2.cpu_objs == 0) || time_after(jiffies, deadline))
			break;
		msleep(100);
		splk_core_shrink_scan(ULLONG_MAX);
	}
	splk_core_shrinker_stats(&after);
	KUNIT_EXPECT_GT(test, after.cpu_drains, before.cpu_drains);
	KUNIT_EXPECT_EQ(test, s1.cpu_objs + s2.cpu_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, s1.slab_total + s2.slab_total, 0ULL);
	KUNIT_EXPECT_EQ(test, splk_core_shrink_count(), 0ULL);
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

/*
 * The depot trim (object_cache.hpp, "Giving memory back"): 8 KiB objects,
 * 64 a magazine (512 KiB, set by the parameter), a slack of 1 MiB (128 objects, two magazines)
 * and no periodic update.  With the tick manual, the cases close the trim
 * windows themselves (splk_core_trim_now()): nothing depends on time.
 */
#define MT_TRIM_SIZE 8192
#define MT_TRIM_SLACK_KB 1024
#define MT_TRIM_KEEP (MT_TRIM_SLACK_KB * 1024ULL / MT_TRIM_SIZE)

static struct splk_test_cache *mt_trim_cache(struct kunit *test, const char *name, bool manual)
{
	splk_test_set_param(test, &spl_kmem_cache_reap_interval_ms, 0);
	splk_test_set_param(test, &spl_kmem_cache_magazine_size, 64);
	splk_test_set_param(test, &spl_kmem_cache_depot_slack_kb, MT_TRIM_SLACK_KB);
	splk_test_set_param(test, &splk_test_hooks.trim_tick_manual, manual);
	return splk_test_cache_create(test, name, MT_TRIM_SIZE, 0, NULL, NULL, NULL, KMC_KVMEM);
}

/* Eight magazines' worth allocated, then freed, on CPU 0. */
static struct mt_batch *mt_burst(struct kunit *test, struct splk_test_cache *c)
{
	struct mt_batch *b = mt_batch(test, c);

	b->n = 8 * (b->n / 4);
	b->objs = kunit_kcalloc(test, b->n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->objs);
	splk_test_on_cpu(0, mt_cycle_fn, b);
	KUNIT_ASSERT_EQ(test, b->got, b->n);
	return b;
}

/*
 * A burst nobody draws on: the frees leave six full magazines in the
 * depot, and the first one past the slack opened a trim window.  Closing
 * it gives back what was there when it opened, beyond the slack (one
 * magazine), and makes the cache eager; the magazines that came later
 * open the next window, which an eager cache closes at once, bringing the
 * depot down to the slack and freeing the slabs that emptied: the cache
 * keeps only what its magazines hold.
 */
static void mag_trim_gives_back_idle_burst(struct kunit *test)
{
	struct splk_test_cache *c = mt_trim_cache(test, "splk_mt_trim", true);
	struct splk_cache_stats *st = mt_stats(test, 4);
	struct splk_cache_stats *burst = &st[0], *early = &st[1], *first = &st[2];
	struct splk_cache_stats *second = &st[3];
	struct mt_batch *b;

	b = mt_burst(test, c);
	splk_test_cache_stats(test, c, burst);
	KUNIT_EXPECT_EQ(test, burst->depot_keep, MT_TRIM_KEEP);
	KUNIT_EXPECT_TRUE(test, burst->trim_open);
	KUNIT_EXPECT_FALSE(test, burst->trim_eager);
	KUNIT_ASSERT_EQ(test, burst->mag_size, 64ULL);
	KUNIT_EXPECT_EQ(test, burst->depot_objs, 6 * burst->mag_size);

	/* A patient window that has not lasted its length stays open. */
	splk_core_trim_now(false);
	splk_test_cache_stats(test, c, early);
	KUNIT_EXPECT_EQ(test, early->depot_trims, 0ULL);
	KUNIT_EXPECT_EQ(test, early->depot_objs, burst->depot_objs);

	splk_core_trim_now(true);
	splk_test_cache_stats(test, c, first);
	KUNIT_EXPECT_EQ(test, first->depot_trims, 1ULL);
	KUNIT_EXPECT_EQ(test, first->depot_objs, burst->depot_objs - first->mag_size);
	KUNIT_EXPECT_TRUE(test, first->trim_open);
	KUNIT_EXPECT_TRUE(test, first->trim_eager);

	splk_core_trim_now(false);
	splk_test_cache_stats(test, c, second);
	KUNIT_EXPECT_EQ(test, second->depot_trims, 2ULL);
	KUNIT_EXPECT_EQ(test, second->depot_objs, MT_TRIM_KEEP);
	KUNIT_EXPECT_FALSE(test, second->trim_open);
	/* Out of the slabs: exactly what the magazines hold. */
	KUNIT_EXPECT_EQ(test, second->obj_alloc, second->mag_objs);
	KUNIT_EXPECT_GT(test, second->slab_destroy, 0ULL);
	KUNIT_EXPECT_EQ(test, second->slab_create - second->slab_destroy, second->slab_total);
	/* Every slab left holds an object: the trimmed ones' slabs are gone. */
	KUNIT_EXPECT_LE(test, second->slab_total, second->mag_objs);
	KUNIT_EXPECT_LT(test, second->slab_total * second->slab_objs, (u64)b->n);
	/* The emptied magazines wait in the depot for the next frees. */
	KUNIT_EXPECT_GE(test, second->depot_empty, 4ULL);
}

/*
 * An eager cache gives its next burst back at the next tick, window or
 * not; the working-set update makes it patient again, and the burst after
 * that waits its window.
 */
static void mag_trim_eager_until_update(struct kunit *test)
{
	struct splk_test_cache *c = mt_trim_cache(test, "splk_mt_eager", true);
	struct splk_cache_stats *st = mt_stats(test, 3);
	struct splk_cache_stats *eager = &st[0], *patient = &st[1], *waited = &st[2];

	mt_burst(test, c);
	splk_core_trim_now(true);
	splk_core_trim_now(false);
	mt_burst(test, c);
	splk_core_trim_now(false);
	splk_test_cache_stats(test, c, eager);
	KUNIT_EXPECT_TRUE(test, eager->trim_eager);
	KUNIT_EXPECT_FALSE(test, eager->trim_open);
	KUNIT_EXPECT_EQ(test, eager->depot_objs, MT_TRIM_KEEP);

	splk_core_update_now();
	mt_burst(test, c);
	splk_core_trim_now(false);
	splk_test_cache_stats(test, c, patient);
	KUNIT_EXPECT_FALSE(test, patient->trim_eager);
	KUNIT_EXPECT_TRUE(test, patient->trim_open);
	KUNIT_EXPECT_EQ(test, patient->depot_trims, eager->depot_trims);
	KUNIT_EXPECT_GT(test, patient->depot_objs, MT_TRIM_KEEP);

	splk_core_trim_now(true);
	splk_test_cache_stats(test, c, waited);
	KUNIT_EXPECT_GT(test, waited->depot_trims, eager->depot_trims);
	KUNIT_EXPECT_TRUE(test, waited->trim_eager);
}

/*
 * A cache that draws on its depot within the window keeps it: the second
 * burst takes the first one's magazines (no slab created), the window
 * closes with nothing given back and the cache stays patient; only a
 * window with no draw at all gives the excess back.
 */
static void mag_trim_keeps_drawn_depot(struct kunit *test)
{
	struct splk_test_cache *c = mt_trim_cache(test, "splk_mt_drawn", true);
	struct splk_cache_stats *st = mt_stats(test, 3);
	struct splk_cache_stats *first = &st[0], *again = &st[1], *idle = &st[2];

	mt_burst(test, c);
	splk_test_cache_stats(test, c, first);
	KUNIT_ASSERT_TRUE(test, first->trim_open);
	mt_burst(test, c);
	splk_core_trim_now(true);
	splk_test_cache_stats(test, c, again);
	KUNIT_EXPECT_EQ(test, again->slab_create, first->slab_create);
	KUNIT_EXPECT_EQ(test, again->depot_trims, 0ULL);
	KUNIT_EXPECT_EQ(test, again->depot_objs, first->depot_objs);
	KUNIT_EXPECT_TRUE(test, again->trim_open);
	KUNIT_EXPECT_FALSE(test, again->trim_eager);

	splk_core_trim_now(true);
	splk_test_cache_stats(test, c, idle);
	KUNIT_EXPECT_EQ(test, idle->depot_trims, 1ULL);
	KUNIT_EXPECT_EQ(test, idle->depot_objs, MT_TRIM_KEEP);
	KUNIT_EXPECT_FALSE(test, idle->trim_open);
}

/*
 * The ticks themselves, with a 50 ms window: a burst's excess is gone
 * without any call (a window, then the soon tick), and the emptied slabs
 * with it.
 */
static void mag_trim_tick_runs(struct kunit *test)
{
	struct splk_test_cache *c;
	struct splk_cache_stats st;

	splk_test_set_param(test, &spl_kmem_cache_depot_trim_ms, 50);
	c = mt_trim_cache(test, "splk_mt_tick", false);
	mt_burst(test, c);
	splk_test_wait_trim(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.depot_objs, MT_TRIM_KEEP);
	KUNIT_EXPECT_GE(test, st.depot_trims, 1ULL);
	KUNIT_EXPECT_GT(test, st.slab_destroy, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);
}

static struct kunit_case magazine_cases[] = {
	KUNIT_CASE(mag_depot_feeds_other_cpu),
	KUNIT_CASE(mag_ws_keeps_busy_trims_idle),
	KUNIT_CASE(mag_resize_under_contention),
	KUNIT_CASE(mag_reap_now_empties_depot),
	KUNIT_CASE(mag_shrinker_count_is_scan),
	KUNIT_CASE_SLOW(mag_periodic_update_trims_idle),
	KUNIT_CASE(mag_trim_gives_back_idle_burst),
	KUNIT_CASE(mag_trim_eager_until_update),
	KUNIT_CASE(mag_trim_keeps_drawn_depot),
	KUNIT_CASE(mag_trim_tick_runs),
	{}
};

static struct kunit_suite magazine_suite = {
	.name = "splkmem_magazines",
	.exit = splk_test_exit,
	.test_cases = magazine_cases,
};

kunit_test_suites(&magazine_suite);
