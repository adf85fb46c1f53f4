// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation and free from interrupt context, as SPL callers do on
 * network and block completion paths: KM_NOSLEEP allocations and frees
 * from a timer (softirq) and from irq_work (hard irq), while a thread
 * allocates and frees the same cache with interrupts on and a reap runs
 * beside it.  Each interrupt-context batch is larger than a magazine, so
 * it refills and flushes under the cache lock (in one case, with no depot
 * slack and no reaps, it opens depot trim windows from the interrupt and
 * asks for the trim tick there); lockdep (the test kernel
 * has it) reports any lock also taken with interrupts on, and the console
 * checker fails the run on that report.  The books must balance after.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/timer.h>

#include "splkmem_test.h"

#define IRQ_BATCH 300		/* more than the largest magazine (256) */
#define IRQ_RUNS 40		/* batches per context */

struct irq_ctx {
	spl_kmem_cache_t *skc;
	size_t size;
	void *objs[IRQ_BATCH];
	struct timer_list timer;
	struct irq_work work;
	atomic_t timer_runs, work_runs;
	atomic_t allocated, refused;
	bool trim;	/* no reaps: the depot trim gives memory back */
	bool stop;
};

/* One batch: allocate up to IRQ_BATCH, write them, free them all. */
static void irq_batch(struct irq_ctx *x)
{
	unsigned int i, n = 0;

	for (i = 0; i < IRQ_BATCH; i++) {
		void *obj = spl_kmem_cache_alloc(x->skc, KM_NOSLEEP);

		if (!obj) {
			atomic_inc(&x->refused);
			continue;
		}
		memset(obj, 0x6b, x->size);
		x->objs[n++] = obj;
	}
	atomic_add(n, &x->allocated);
	while (n > 0)
		spl_kmem_cache_free(x->skc, x->objs[--n]);
}

static void irq_work_fn(struct irq_work *w)
{
	struct irq_ctx *x = container_of(w, struct irq_ctx, work);

	WARN_ON_ONCE(!in_hardirq());
	irq_batch(x);
	atomic_inc(&x->work_runs);
}

static void irq_timer_fn(struct timer_list *t)
{
	struct irq_ctx *x = container_of(t, struct irq_ctx, timer);

	WARN_ON_ONCE(!in_serving_softirq());
	irq_batch(x);
	/* The hard-irq batch runs after this one: objs[] is free again. */
	irq_work_queue(&x->work);
	if (atomic_inc_return(&x->timer_runs) < IRQ_RUNS && !READ_ONCE(x->stop))
		mod_timer(&x->timer, jiffies + 1);
}

static int irq_hammer(void *arg)
{
	struct irq_ctx *x = arg;
	void *objs[64];
	unsigned int round = 0;

	while (!kthread_should_stop()) {
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(objs); i++)
			objs[i] = spl_kmem_cache_alloc(x->skc, KM_SLEEP);
		for (i = 0; i < ARRAY_SIZE(objs); i++)
			spl_kmem_cache_free(x->skc, objs[i]);
		/* Reaps take the cache lock with interrupts on. */
		if (!x->trim && ++round % 16 == 0)
			spl_kmem_cache_reap_now(x->skc);
		cond_resched();
	}
	return 0;
}

static void irq_alloc_free(struct kunit *test, int flags, size_t size, bool trim)
{
	struct splk_test_cache *c;
	struct irq_ctx *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct task_struct *hammer;
	unsigned long deadline;

	/*
	 * Magazines of 16 and no slack: each batch's frees put full
	 * magazines in the depot and open trim windows, from the interrupt.
	 */
	if (trim) {
		splk_test_set_param(test, &spl_kmem_cache_magazine_size, 16);
		splk_test_set_param(test, &spl_kmem_cache_depot_slack_kb, 0);
	}
	c = splk_test_cache_create(test, "splk_irq", size, 0, NULL, NULL, NULL, flags);
	KUNIT_ASSERT_NOT_NULL(test, x);
	x->skc = c->skc;
	x->trim = trim;
	x->size = size;
	init_irq_work(&x->work, irq_work_fn);
	timer_setup(&x->timer, irq_timer_fn, 0);

	hammer = kthread_run(irq_hammer, x, "splk_irq_hammer");
	KUNIT_ASSERT_FALSE(test, IS_ERR(hammer));
	mod_timer(&x->timer, jiffies + 1);

	deadline = jiffies + 20 * HZ;
	while (atomic_read(&x->work_runs) < IRQ_RUNS && time_before(jiffies, deadline))
		msleep(20);
	WRITE_ONCE(x->stop, true);
	timer_delete_sync(&x->timer);
	irq_work_sync(&x->work);
	kthread_stop(hammer);

	KUNIT_EXPECT_EQ(test, atomic_read(&x->timer_runs), IRQ_RUNS);
	KUNIT_EXPECT_EQ(test, atomic_read(&x->work_runs), IRQ_RUNS);
	/* Interrupt context got objects, not only refusals. */
	KUNIT_EXPECT_GT(test, atomic_read(&x->allocated), IRQ_BATCH * IRQ_RUNS);
	kunit_info(test, "%d objects in irq context, %d KM_NOSLEEP refusals",
		   atomic_read(&x->allocated), atomic_read(&x->refused));
	/* Everything was freed: nothing is out of the cache. */
	if (flags & KMC_SLAB) {
		KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0);
	} else {
		struct splk_cache_stats st;

		splk_test_cache_stats(test, c, &st);
		KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);
		KUNIT_EXPECT_EQ(test, st.obj_emergency, 0);
	}
	/*
	 * The last hard-irq batch left its frees in the depot, which nothing
	 * draws on now: the tick gives all of it back.
	 */
	if (trim) {
		struct splk_cache_stats st;

		splk_test_wait_trim(test, c, &st);
		KUNIT_EXPECT_GT(test, st.depot_trims, 0);
		KUNIT_EXPECT_EQ(test, st.depot_objs, 0);
		KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);
	}
	splk_test_cache_destroy(test, c);
}

static void irq_alloc_free_kvmem(struct kunit *test)
{
	irq_alloc_free(test, KMC_KVMEM, 64, false);
}

static void irq_alloc_free_slab(struct kunit *test)
{
	irq_alloc_free(test, KMC_SLAB, 64, false);
}

/* The same without reaps, the depot trim's windows opened by the interrupts. */
static void irq_alloc_free_kvmem_trim(struct kunit *test)
{
	irq_alloc_free(test, KMC_KVMEM, 64, true);
}

/* ---- KM_NOSLEEP never sleeps, whatever set_allocflags() added ---------- */

#define NS_OBJS 8

struct irq_nosleep {
	spl_kmem_cache_t *skc;
	void *objs[2][NS_OBJS];	/* [0] hard irq, [1] soft irq */
	int got[2];
	struct timer_list timer;
	struct irq_work work;
	struct completion done[2];
};

static void ns_batch(struct irq_nosleep *x, int ctx)
{
	int i;

	for (i = 0; i < NS_OBJS; i++) {
		x->objs[ctx][i] = spl_kmem_cache_alloc(x->skc, KM_NOSLEEP);
		if (x->objs[ctx][i])
			x->got[ctx]++;
	}
	complete(&x->done[ctx]);
}

static void ns_work_fn(struct irq_work *w)
{
	ns_batch(container_of(w, struct irq_nosleep, work), 0);
}

static void ns_timer_fn(struct timer_list *t)
{
	struct irq_nosleep *x = container_of(t, struct irq_nosleep, timer);

	ns_batch(x, 1);
}

/*
 * A caller's spl_kmem_cache_set_allocflags() with GFP_KERNEL (direct
 * reclaim) and bits no object allocation can honour: KM_NOSLEEP
 * allocations from a hard and a soft interrupt, on a cache whose growth is
 * stalled and whose slabs are empty (vmalloc-backed: emergency pages;
 * KMC_SLAB: SLUB), must neither sleep (CONFIG_DEBUG_ATOMIC_SLEEP reports
 * it, and the console checker fails the run) nor make SLUB or the page
 * allocator warn.  Interrupt context still gets its objects.
 */
static void irq_nosleep_ignores_sleeping_allocflags(struct kunit *test, int flags,
						    size_t size)
{
	const gfp_t extra = GFP_KERNEL | __GFP_NOFAIL | __GFP_HIGHMEM | __GFP_DMA;
	struct irq_nosleep *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct splk_test_cache *c;
	int ctx, i;

	KUNIT_ASSERT_NOT_NULL(test, x);
	c = splk_test_cache_create(test, "splk_irq_ns", size, 0, NULL, NULL, NULL, flags);
	spl_kmem_cache_set_allocflags(c->skc, extra);
	x->skc = c->skc;
	init_completion(&x->done[0]);
	init_completion(&x->done[1]);
	init_irq_work(&x->work, ns_work_fn);
	timer_setup(&x->timer, ns_timer_fn, 0);

	/* The first grow task waits 2 s: growth is stalled meanwhile. */
	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 2000);
	irq_work_queue(&x->work);
	mod_timer(&x->timer, jiffies + 1);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&x->done[0], 10 * HZ));
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&x->done[1], 10 * HZ));
	timer_delete_sync(&x->timer);
	irq_work_sync(&x->work);
	WRITE_ONCE(splk_test_hooks.grow_delay_ms, 0);

	kunit_info(test, "hard irq got %d of %d, soft irq %d of %d", x->got[0], NS_OBJS,
		   x->got[1], NS_OBJS);
	KUNIT_EXPECT_GT(test, x->got[0] + x->got[1], 0);
	for (ctx = 0; ctx < 2; ctx++)
		for (i = 0; i < NS_OBJS; i++)
			if (x->objs[ctx][i])
				spl_kmem_cache_free(c->skc, x->objs[ctx][i]);
	splk_test_cache_destroy(test, c);
}

static void irq_nosleep_allocflags_kvmem(struct kunit *test)
{
	irq_nosleep_ignores_sleeping_allocflags(test, KMC_KVMEM, 4096);
}

static void irq_nosleep_allocflags_slab(struct kunit *test)
{
	irq_nosleep_ignores_sleeping_allocflags(test, KMC_SLAB, 200);
}

static struct kunit_case irq_cases[] = {
	KUNIT_CASE(irq_nosleep_allocflags_kvmem),
	KUNIT_CASE(irq_nosleep_allocflags_slab),
	KUNIT_CASE_SLOW(irq_alloc_free_kvmem),
	KUNIT_CASE_SLOW(irq_alloc_free_slab),
	KUNIT_CASE_SLOW(irq_alloc_free_kvmem_trim),
	{}
};

static struct kunit_suite irq_suite = {
	.name = "splkmem_irq_context",
	.exit = splk_test_exit,
	.test_cases = irq_cases,
};

kunit_test_suites(&irq_suite);
