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
	unsigned long w = splk_warning_count();
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
	KUNIT_EXPECT_EQ(test, splk_warning_count(), w);
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

	splk_test_set_param(test, &spl_kmem_cache_max_size, 1);
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

	splk_test_set_param(test, &spl_kmem_cache_slab_limit, 16384);
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
	w = splk_warning_count();
	spl_kmem_cache_destroy(skc);
	KUNIT_EXPECT_EQ(test, splk_warning_count(), w);

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

/* ---- KMC_RECLAIMABLE Linux caches ---------------------------------------- */

/*
 * A KMC_SLAB cache with KMC_RECLAIMABLE is a SLAB_RECLAIM_ACCOUNT Linux
 * cache: the first object of a fresh cache comes from a new slab whose
 * pages are reclaimable (and counted as reclaimable slab memory).
 */
static void cr_slab_page(struct kunit *test, int flags, int want_mt)
{
	struct splk_test_cache *c;
	struct cr_page_rec rec;
	void *obj;

	c = splk_test_cache_create(test, "splk_rel_rcl", 4000, 0, NULL, NULL, NULL, flags);
	rec = cr_first_alloc(test, c, KM_SLEEP, &obj);
	KUNIT_EXPECT_EQ(test, rec.migratetype, want_mt);
	spl_kmem_cache_free(c->skc, obj);
	splk_test_cache_destroy(test, c);
}

static void kmc_reclaimable_slab_pages(struct kunit *test)
{
	cr_slab_page(test, KMC_SLAB | KMC_RECLAIMABLE, MIGRATE_RECLAIMABLE);
	cr_slab_page(test, KMC_SLAB, MIGRATE_UNMOVABLE);
}

/* ---- spl_kmem_cache_set_allocflags() --------------------------------------- */

/*
 * The flags reach the page allocator: for a KMC_SLAB cache through
 * kmem_cache_alloc() (a fresh cache's first object takes a new slab), for
 * a vmalloc-backed one with its emergency objects.  @mark is a flag that
 * the request would not carry otherwise (SLUB adds __GFP_NOMEMALLOC to its
 * own high-order attempts, so it cannot mark a slab page); __GFP_ZERO
 * must clear the object.  Without the call, @mark is not there (the
 * control).
 */
static void cr_allocflags(struct kunit *test, int flags, int km_flags, size_t size, gfp_t mark,
			  bool set)
{
	struct splk_test_cache *c;
	struct cr_page_rec rec;
	void *obj;

	c = splk_test_cache_create(test, "splk_rel_gfp", size, 0, NULL, NULL, NULL, flags);
	if (set)
		spl_kmem_cache_set_allocflags(c->skc, (__force unsigned int)(__GFP_ZERO | mark));
	rec = cr_first_alloc(test, c, km_flags, &obj);
	KUNIT_EXPECT_EQ_MSG(test, rec.gfp & mark, set ? mark : 0, "flags 0x%x gfp %pGg", flags,
			    &rec.gfp);
	if (set)
		KUNIT_EXPECT_NULL(test, memchr_inv(obj, 0, size));
	spl_kmem_cache_free(c->skc, obj);
	splk_test_cache_destroy(test, c);
}

static void set_allocflags_slab(struct kunit *test)
{
	cr_allocflags(test, KMC_SLAB, KM_SLEEP, 512, __GFP_RETRY_MAYFAIL, false);
	cr_allocflags(test, KMC_SLAB, KM_SLEEP, 512, __GFP_RETRY_MAYFAIL, true);
}

static void set_allocflags_kvmem_emergency(struct kunit *test)
{
	cr_allocflags(test, KMC_KVMEM, KM_NOSLEEP, PAGE_SIZE, __GFP_NOMEMALLOC, false);
	cr_allocflags(test, KMC_KVMEM, KM_NOSLEEP, PAGE_SIZE, __GFP_NOMEMALLOC, true);
}

/* ---- Allocations alongside reaps, the shrinker and /proc readers ----------- */

#define CR_CONC_SECONDS	3
#define CR_CONC_BATCH	48

struct cr_conc {
	spl_kmem_cache_t *skc[2];
	size_t size[2];
	unsigned long deadline;
	atomic_t bad;		/* objects found overwritten, NULL KM_SLEEP allocations */
	atomic_t errors;	/* /proc or drop_caches failures */
	atomic_long_t allocs;
	atomic_long_t reaps;
	atomic_long_t drops;
	atomic_long_t reads;
};

struct cr_conc_thread {
	struct cr_conc *run;
	int (*fn)(struct cr_conc_thread *t);
	unsigned int id;
	struct completion done;
};

static int cr_conc_worker(struct cr_conc_thread *t)
{
	struct cr_conc *r = t->run;
	void *objs[CR_CONC_BATCH];
	unsigned int round = 0, i, n, k;

	while (time_before(jiffies, r->deadline)) {
		k = (t->id + round) & 1;
		n = 1 + (round * 7 + t->id) % CR_CONC_BATCH;
		for (i = 0; i < n; i++) {
			objs[i] = spl_kmem_cache_alloc(r->skc[k], KM_SLEEP);
			if (!objs[i]) {
				atomic_inc(&r->bad);
				break;
			}
			memset(objs[i], (u8)(t->id * 31 + i), r->size[k]);
		}
		n = i;
		cond_resched();
		for (i = 0; i < n; i++) {
			if (memchr_inv(objs[i], (u8)(t->id * 31 + i), r->size[k]))
				atomic_inc(&r->bad);
			spl_kmem_cache_free(r->skc[k], objs[i]);
		}
		atomic_long_add(n, &r->allocs);
		round++;
	}
	return 0;
}

static int cr_conc_reaper(struct cr_conc_thread *t)
{
	while (time_before(jiffies, t->run->deadline)) {
		spl_kmem_reap();
		atomic_long_inc(&t->run->reaps);
		usleep_range(500, 1000);
	}
	return 0;
}

static int cr_conc_dropper(struct cr_conc_thread *t)
{
	while (time_before(jiffies, t->run->deadline)) {
		struct file *f = filp_open("/proc/sys/vm/drop_caches", O_WRONLY, 0);
		loff_t pos = 0;

		if (IS_ERR(f)) {
			atomic_inc(&t->run->errors);
			return 0;
		}
		if (kernel_write(f, "2", 1, &pos) != 1)	/* 2: shrink slab caches */
			atomic_inc(&t->run->errors);
		filp_close(f, NULL);
		atomic_long_inc(&t->run->drops);
		msleep(20);
	}
	return 0;
}

static int cr_conc_reader(struct cr_conc_thread *t)
{
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);

	if (!buf) {
		atomic_inc(&t->run->errors);
		return 0;
	}
	while (time_before(jiffies, t->run->deadline)) {
		struct file *f = filp_open("/proc/spl/kmem/slab", O_RDONLY, 0);
		loff_t pos = 0;
		ssize_t n;

		if (IS_ERR(f)) {
			atomic_inc(&t->run->errors);
			break;
		}
		do {
			n = kernel_read(f, buf, PAGE_SIZE, &pos);
		} while (n > 0);
		if (n < 0)
			atomic_inc(&t->run->errors);
		filp_close(f, NULL);
		atomic_long_inc(&t->run->reads);
		cond_resched();
	}
	kfree(buf);
	return 0;
}

static int cr_conc_thread_fn(void *arg)
{
	struct cr_conc_thread *t = arg;

	t->fn(t);
	complete(&t->done);
	return 0;
}

static void alloc_free_alongside_reap_shrinker_proc(struct kunit *test)
{
	const unsigned int nworkers = 2 * num_online_cpus();
	struct splk_test_cache *c[2];
	struct cr_conc_thread *threads;
	struct splk_cache_stats st;
	unsigned int nthreads = nworkers + 3, i;
	struct cr_conc *r;
	unsigned long w = splk_warning_count();

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	threads = kunit_kcalloc(test, nthreads, sizeof(*threads), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, threads);
	c[0] = splk_test_cache_create(test, "splk_rel_conc", 200, 0, NULL, NULL, NULL, KMC_KVMEM);
	c[1] = splk_test_cache_create(test, "splk_rel_conc", 6000, 0, NULL, NULL, NULL, KMC_KVMEM);
	for (i = 0; i < 2; i++) {
		r->skc[i] = c[i]->skc;
		r->size[i] = i ? 6000 : 200;
	}
	r->deadline = jiffies + CR_CONC_SECONDS * HZ;

	for (i = 0; i < nthreads; i++) {
		struct task_struct *task;

		threads[i].run = r;
		threads[i].id = i;
		threads[i].fn = i < nworkers ? cr_conc_worker :
			i == nworkers ? cr_conc_reaper :
			i == nworkers + 1 ? cr_conc_dropper : cr_conc_reader;
		init_completion(&threads[i].done);
		task = kthread_run(cr_conc_thread_fn, &threads[i], "splk_rel_conc/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < nthreads; i++)
		wait_for_completion(&threads[i].done);

	kunit_info(test, "%ld objects, %ld reaps, %ld drop_caches, %ld /proc reads",
		   atomic_long_read(&r->allocs), atomic_long_read(&r->reaps),
		   atomic_long_read(&r->drops), atomic_long_read(&r->reads));
	KUNIT_EXPECT_EQ(test, atomic_read(&r->bad), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->errors), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&r->allocs), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&r->reaps), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&r->drops), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&r->reads), 0);
	KUNIT_EXPECT_EQ(test, splk_warning_count(), w);

	/* Every object came back: a reap on every CPU leaves no slab. */
	for (i = 0; i < 2; i++) {
		splk_test_reap_all_cpus(c[i]->skc);
		splk_test_cache_stats(test, c[i], &st);
		KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);
		KUNIT_EXPECT_EQ(test, st.mag_objs, 0);
		KUNIT_EXPECT_EQ(test, st.obj_emergency, 0);
		KUNIT_EXPECT_EQ(test, st.slab_total, 0);
		KUNIT_EXPECT_EQ(test, st.obj_total, 0);
		splk_test_cache_destroy(test, c[i]);
	}
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
	KUNIT_CASE(kmc_reclaimable_slab_pages),
	KUNIT_CASE(set_allocflags_slab),
	KUNIT_CASE(set_allocflags_kvmem_emergency),
	KUNIT_CASE_SLOW(alloc_free_alongside_reap_shrinker_proc),
	{}
};

static struct kunit_suite cache_reliability_suite = {
	.name = "splkmem_cache_reliability",
	.exit = splk_test_exit,
	.test_cases = cache_reliability_cases,
};

kunit_test_suites(&cache_reliability_suite);
