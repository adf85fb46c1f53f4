// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_cache_reliability: defects an adversarial review found (issue 10)
 * and the behaviour around them.  Sizes whose layout arithmetic overflows
 * are refused; each module parameter is read once per create; emergency
 * pages of a KMC_RECLAIMABLE cache are reclaimable; a destroyed cache's
 * handle is refused, not a use-after-free; set_allocflags and
 * KMC_RECLAIMABLE reach the allocators; allocations keep working while
 * reaps, the shrinker and /proc readers run at the same time.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "splkmem_test.h"

/* ---- Helpers ------------------------------------------------------------ */

/* A module parameter set for one test and restored when it ends. */
struct cr_param {
	unsigned int *var;
	unsigned int saved;
};

static void cr_param_restore(void *ctx)
{
	struct cr_param *p = ctx;

	WRITE_ONCE(*p->var, p->saved);
}

static void cr_param_set(struct kunit *test, unsigned int *var, unsigned int value)
{
	struct cr_param *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->var = var;
	p->saved = READ_ONCE(*var);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cr_param_restore, p), 0);
	WRITE_ONCE(*var, value);
}

/* ---- Item 1: sizes whose arithmetic overflows are refused --------------- */

static const size_t cr_huge_sizes[] = {
	SIZE_MAX,			/* stride wrapped to 8: overlapping objects */
	SIZE_MAX - 7,			/* stride wrapped to 0: division by zero */
	SIZE_MAX - 8,
	SIZE_MAX - PAGE_SIZE + 1,
	(size_t)(int)-1,		/* a negative int passed as the size */
	(size_t)(int)-4096,
	(size_t)INT_MIN,
	SIZE_MAX / 2 + 1,
	(size_t)U32_MAX + 1,
	U32_MAX,
};

static const int cr_huge_flags[] = { 0, KMC_KVMEM, KMC_SLAB, KMC_KVMEM | KMC_RECLAIMABLE };
static const size_t cr_huge_aligns[] = { 0, 8, 64, PAGE_SIZE };

static void create_refuses_overflowing_sizes(struct kunit *test)
{
	unsigned long w = READ_ONCE(splk_warnings);
	struct splk_cache_stats st;
	spl_kmem_cache_t *skc;
	size_t i, j, k;

	for (i = 0; i < ARRAY_SIZE(cr_huge_sizes); i++) {
		for (j = 0; j < ARRAY_SIZE(cr_huge_flags); j++) {
			for (k = 0; k < ARRAY_SIZE(cr_huge_aligns); k++) {
				skc = spl_kmem_cache_create("splk_rel_huge", cr_huge_sizes[i],
							    cr_huge_aligns[k], NULL, NULL, NULL,
							    NULL, NULL, cr_huge_flags[j]);
				KUNIT_EXPECT_NULL_MSG(test, skc,
						      "size %zu (0x%zx) align %zu flags 0x%x",
						      cr_huge_sizes[i], cr_huge_sizes[i],
						      cr_huge_aligns[k], cr_huge_flags[j]);
				if (skc)
					spl_kmem_cache_destroy(skc);
				KUNIT_EXPECT_FALSE(test, splk_test_stats("splk_rel_huge", &st));
			}
		}
	}
	/* Refused with an error message, not a WARN. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(splk_warnings), w);
}

/*
 * The largest objects are exact: one that fits a slab of
 * spl_kmem_cache_max_size with its tag and the header works (one object a
 * slab, no overlap), one that does not is refused.
 */
static void create_largest_object_fits_max_size(struct kunit *test)
{
	const size_t max_bytes = SZ_1M;
	const size_t size = max_bytes - PAGE_SIZE;
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	spl_kmem_cache_t *skc;
	void *a, *b;

	cr_param_set(test, &spl_kmem_cache_max_size, 1);
	c = splk_test_cache_create(test, "splk_rel_big", size, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_objs, 1);
	KUNIT_EXPECT_LE(test, st.slab_size, max_bytes);
	a = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	b = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	memset(a, 0x11, size);
	memset(b, 0x22, size);
	KUNIT_EXPECT_NULL(test, memchr_inv(a, 0x11, size));
	spl_kmem_cache_free(c->skc, a);
	spl_kmem_cache_free(c->skc, b);
	splk_test_cache_destroy(test, c);

	skc = spl_kmem_cache_create("splk_rel_big_no", max_bytes, 0, NULL, NULL, NULL, NULL,
				    NULL, KMC_KVMEM);
	KUNIT_EXPECT_NULL(test, skc);
	if (skc)
		spl_kmem_cache_destroy(skc);
}

/* ---- Item 12: each module parameter is read once per create -------------- */

struct cr_flipper {
	unsigned int *var;
	unsigned int a, b;
	unsigned long flips;
};

static int cr_flipper_fn(void *arg)
{
	struct cr_flipper *f = arg;

	while (!kthread_should_stop()) {
		WRITE_ONCE(*f->var, f->a);
		WRITE_ONCE(*f->var, f->b);
		if (!(++f->flips & 0xfff))
			cond_resched();
	}
	return 0;
}

/*
 * A cache without a type flag picks KMC_SLAB or KMC_KVMEM by
 * spl_kmem_cache_slab_limit.  With the limit changing under it (a sysfs
 * write), every create must still succeed with one of the two.
 */
static void create_reads_slab_limit_once(struct kunit *test)
{
	struct cr_flipper flipper = { .var = &spl_kmem_cache_slab_limit, .a = 0, .b = 16384 };
	unsigned long deadline = jiffies + 6 * HZ;
	unsigned int creates = 0, failed = 0;
	struct task_struct *t;
	spl_kmem_cache_t *skc;
	int cpu, other;

	cpu = get_cpu();
	put_cpu();
	other = cpumask_any_but(cpu_online_mask, cpu);
	if (other >= nr_cpu_ids)
		kunit_skip(test, "needs two online CPUs");

	cr_param_set(test, &spl_kmem_cache_slab_limit, 16384);
	t = kthread_create(cr_flipper_fn, &flipper, "splk_rel_flip");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	kthread_bind(t, other);
	get_task_struct(t);
	wake_up_process(t);
	while (creates < 4000 && time_before(jiffies, deadline)) {
		skc = spl_kmem_cache_create("splk_rel_limit", 64, 0, NULL, NULL, NULL, NULL,
					    NULL, 0);
		creates++;
		if (!skc)
			failed++;
		else
			spl_kmem_cache_destroy(skc);
	}
	kthread_stop(t);
	put_task_struct(t);
	kunit_info(test, "%u creates, %lu flips of the limit", creates, flipper.flips);
	KUNIT_EXPECT_GT(test, flipper.flips, 0);
	KUNIT_EXPECT_EQ_MSG(test, failed, 0, "%u of %u creates failed", failed, creates);
}

/* ---- Item 11: emergency pages of a KMC_RECLAIMABLE cache ---------------- */

/*
 * What the page allocator was asked for: the mm_page_alloc tracepoint
 * reports each allocation's page, order, GFP mask and migratetype.  The
 * tracepoint is not exported, so it is found by name; only allocations of
 * the task under test are recorded.
 */
struct cr_page_rec {
	struct page *page;
	unsigned int order;
	gfp_t gfp;
	int migratetype;
};

static struct {
	struct task_struct *task;
	atomic_t n;
	struct cr_page_rec recs[256];
} cr_pages;

static void cr_page_alloc_probe(void *data, struct page *page, unsigned int order,
				gfp_t gfp, int migratetype)
{
	int i;

	if (current != READ_ONCE(cr_pages.task) || in_interrupt())
		return;
	i = atomic_inc_return(&cr_pages.n) - 1;
	if (i < ARRAY_SIZE(cr_pages.recs))
		cr_pages.recs[i] = (struct cr_page_rec){ page, order, gfp, migratetype };
}

static void cr_find_tracepoint(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "mm_page_alloc"))
		*(struct tracepoint **)priv = tp;
}

static struct tracepoint *cr_page_tp;

static void cr_pages_stop(void *unused)
{
	tracepoint_probe_unregister(cr_page_tp, cr_page_alloc_probe, NULL);
	tracepoint_synchronize_unregister();
	WRITE_ONCE(cr_pages.task, NULL);
}

/* Starts recording this task's page allocations until the test ends. */
static void cr_pages_start(struct kunit *test)
{
	if (!cr_page_tp)
		for_each_kernel_tracepoint(cr_find_tracepoint, &cr_page_tp);
	KUNIT_ASSERT_NOT_NULL_MSG(test, cr_page_tp, "no mm_page_alloc tracepoint");
	memset(cr_pages.recs, 0, sizeof(cr_pages.recs));
	atomic_set(&cr_pages.n, 0);
	WRITE_ONCE(cr_pages.task, current);
	KUNIT_ASSERT_EQ(test, tracepoint_probe_register(cr_page_tp, cr_page_alloc_probe, NULL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cr_pages_stop, NULL), 0);
}

/* The recorded allocation of the page at @addr (asserted to exist). */
static struct cr_page_rec cr_pages_find(struct kunit *test, const void *addr)
{
	int n = min_t(int, atomic_read(&cr_pages.n), ARRAY_SIZE(cr_pages.recs));
	struct page *page = virt_to_head_page(addr);
	int i;

	for (i = n - 1; i >= 0; i--)
		if (cr_pages.recs[i].page == page)
			return cr_pages.recs[i];
	KUNIT_FAIL(test, "no page allocation recorded for %p (%d recorded)", addr, n);
	return (struct cr_page_rec){};
}

/*
 * The first allocation from @c with @km_flags, and what the page allocator
 * was asked for the page it lives on (a fresh slab of a Linux cache, or an
 * emergency object).
 */
static struct cr_page_rec cr_first_alloc(struct kunit *test, struct splk_test_cache *c,
					 int km_flags, void **obj)
{
	cr_pages_start(test);
	*obj = spl_kmem_cache_alloc(c->skc, km_flags);
	kunit_release_action(test, cr_pages_stop, NULL);
	KUNIT_ASSERT_NOT_NULL(test, *obj);
	return cr_pages_find(test, *obj);
}

/*
 * A KM_NOSLEEP allocation from a cache without a slab gets an emergency
 * object at once: whole pages from the page allocator, asked for as
 * reclaimable when the cache is KMC_RECLAIMABLE (SPL's
 * spl_emergency_alloc()).
 */
static void cr_emergency_page(struct kunit *test, int flags, int want_mt)
{
	struct splk_test_cache *c;
	struct cr_page_rec rec;
	void *obj;

	c = splk_test_cache_create(test, "splk_rel_emerg", PAGE_SIZE, 0, NULL, NULL, NULL, flags);
	rec = cr_first_alloc(test, c, KM_NOSLEEP, &obj);
	KUNIT_EXPECT_FALSE_MSG(test, is_vmalloc_addr(obj), "not an emergency object");
	KUNIT_EXPECT_EQ(test, rec.migratetype, want_mt);
	KUNIT_EXPECT_EQ(test, !!(rec.gfp & __GFP_RECLAIMABLE), want_mt == MIGRATE_RECLAIMABLE);
	spl_kmem_cache_free(c->skc, obj);
	splk_test_cache_destroy(test, c);
}

static void emergency_pages_reclaimable(struct kunit *test)
{
	cr_emergency_page(test, KMC_KVMEM | KMC_RECLAIMABLE, MIGRATE_RECLAIMABLE);
	/* The control: without the flag they are unmovable kernel pages. */
	cr_emergency_page(test, KMC_KVMEM, MIGRATE_UNMOVABLE);
}

/* ---- Item 4: stale handles ------------------------------------------------- */

static spl_kmem_cache_t *cr_create_plain(struct kunit *test, const char *name, int flags)
{
	spl_kmem_cache_t *skc = spl_kmem_cache_create(name, 128, 0, NULL, NULL, NULL, NULL,
						      NULL, flags);

	KUNIT_ASSERT_NOT_NULL(test, skc);
	return skc;
}

static void cr_destroy_twice(struct kunit *test, int flags)
{
	spl_kmem_cache_t *skc = cr_create_plain(test, "splk_rel_twice", flags);
	void *obj = spl_kmem_cache_alloc(skc, KM_SLEEP);
	unsigned long w;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	spl_kmem_cache_free(skc, obj);
	w = READ_ONCE(splk_warnings);
	spl_kmem_cache_destroy(skc);
	KUNIT_EXPECT_EQ(test, READ_ONCE(splk_warnings), w);

	w = splk_test_expect_warn_begin();
	spl_kmem_cache_destroy(skc);
	splk_test_expect_warn_end(test, w, 1);
}

static void destroy_twice_kvmem(struct kunit *test)
{
	cr_destroy_twice(test, KMC_KVMEM);
}

static void destroy_twice_slab(struct kunit *test)
{
	cr_destroy_twice(test, KMC_SLAB);
}

/* Every entry point refuses a destroyed handle with one warning each. */
static void cr_stale_handle_calls(struct kunit *test, int flags)
{
	spl_kmem_cache_t *skc = cr_create_plain(test, "splk_rel_stale", flags);
	u8 *foreign = kunit_kzalloc(test, 128, GFP_KERNEL);
	unsigned long w;

	KUNIT_ASSERT_NOT_NULL(test, foreign);
	memset(foreign, 0x77, 128);
	spl_kmem_cache_destroy(skc);

	w = splk_test_expect_warn_begin();
	KUNIT_EXPECT_NULL(test, spl_kmem_cache_alloc(skc, KM_SLEEP));
	KUNIT_EXPECT_NULL(test, spl_kmem_cache_alloc(skc, KM_NOSLEEP));
	spl_kmem_cache_free(skc, foreign);
	spl_kmem_cache_reap_now(skc);
	spl_kmem_cache_set_allocflags(skc, __GFP_ZERO);
	spl_kmem_cache_set_move(skc, NULL);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(skc), 0);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_entry_size(skc), 0);
	splk_test_expect_warn_end(test, w, 8);
	/* The pointer handed to the dead cache was not touched. */
	KUNIT_EXPECT_NULL(test, memchr_inv(foreign, 0x77, 128));
}

static void stale_handle_calls_kvmem(struct kunit *test)
{
	cr_stale_handle_calls(test, KMC_KVMEM);
}

static void stale_handle_calls_slab(struct kunit *test)
{
	cr_stale_handle_calls(test, KMC_SLAB);
}

/* Destroys a freed cache slot waits out before reuse (cache_registry.cpp). */
#define CR_QUARANTINE 64

/*
 * Destroy A, create B, destroy A again through the stale handle: one
 * warning, and B is untouched.  On one CPU (migration off), so that if a
 * freed cache's memory went back to kmalloc, B would most likely get it;
 * in the test's own thread, so that a KASAN report fails the test.
 */
static void cr_stale_destroy_spares_new_cache(struct kunit *test, int flags)
{
	spl_kmem_cache_t *old, *fresh, *churn;
	int i;
	struct splk_cache_stats st;
	unsigned long w;
	bool alive;
	void *obj;

	migrate_disable();
	old = spl_kmem_cache_create("splk_rel_old", 128, 0, NULL, NULL, NULL, NULL, NULL, flags);
	if (old)
		spl_kmem_cache_destroy(old);
	/* The quarantine covers the next CR_QUARANTINE - 1 destroys too. */
	for (i = 0; i < CR_QUARANTINE - 1; i++) {
		churn = spl_kmem_cache_create("splk_rel_churn", 128, 0, NULL, NULL, NULL, NULL,
					      NULL, flags);
		if (churn)
			spl_kmem_cache_destroy(churn);
		KUNIT_EXPECT_PTR_NE(test, churn, old);
	}
	fresh = spl_kmem_cache_create("splk_rel_new", 128, 0, NULL, NULL, NULL, NULL, NULL, flags);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, old);
	KUNIT_ASSERT_NOT_NULL(test, fresh);
	/* The destroyed cache's memory is in quarantine, not reused at once. */
	KUNIT_EXPECT_PTR_NE(test, old, fresh);

	w = splk_test_expect_warn_begin();
	spl_kmem_cache_destroy(old);
	splk_test_expect_warn_end(test, w, 1);

	alive = splk_test_stats("splk_rel_new", &st);
	KUNIT_EXPECT_TRUE_MSG(test, alive, "the stale destroy tore down the new cache");
	if (!alive)
		return;
	obj = spl_kmem_cache_alloc(fresh, KM_SLEEP);
	KUNIT_EXPECT_NOT_NULL(test, obj);
	spl_kmem_cache_free(fresh, obj);
	spl_kmem_cache_destroy(fresh);
}

static void stale_destroy_spares_new_cache_kvmem(struct kunit *test)
{
	cr_stale_destroy_spares_new_cache(test, KMC_KVMEM);
}

static void stale_destroy_spares_new_cache_slab(struct kunit *test)
{
	cr_stale_destroy_spares_new_cache(test, KMC_SLAB);
}

static struct kunit_case cache_reliability_cases[] = {
	KUNIT_CASE(create_refuses_overflowing_sizes),
	KUNIT_CASE(create_largest_object_fits_max_size),
	KUNIT_CASE_SLOW(create_reads_slab_limit_once),
	KUNIT_CASE(emergency_pages_reclaimable),
	KUNIT_CASE(destroy_twice_kvmem),
	KUNIT_CASE(destroy_twice_slab),
	KUNIT_CASE(stale_handle_calls_kvmem),
	KUNIT_CASE(stale_handle_calls_slab),
	KUNIT_CASE(stale_destroy_spares_new_cache_kvmem),
	KUNIT_CASE(stale_destroy_spares_new_cache_slab),
	{}
};

static struct kunit_suite cache_reliability_suite = {
	.name = "splkmem_cache_reliability",
	.test_cases = cache_reliability_cases,
};

kunit_test_suites(&cache_reliability_suite);
