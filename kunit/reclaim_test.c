// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_reclaim: giving memory back while other CPUs run.
 *
 * - The working-set update, the shrinker and /proc read other CPUs'
 *   magazines while those CPUs trade them into the depot and the shrinker
 *   frees them: nothing may read a freed magazine (KASAN reports it).
 * - The shrinker never sleeps on splkmem's locks: with the registry held
 *   for writing, its count and scan return at once.
 * - A reap does not wait for other CPUs: with one CPU busy and not
 *   rescheduling, a reap from another returns, and the busy CPU empties
 *   its magazines once it can.
 * - A bogus free racing a reap reads no slab the reap freed.
 * - A stale free after a reap, with the reaped slab's addresses free for
 *   vmalloc to hand out again, finds no new object at the stale address:
 *   where it can be checked without a fault it warns, and nothing is
 *   handed out twice.
 * - Direct reclaim measures its progress by current->reclaim_state: every
 *   slab page freed in its context is credited there, also those of
 *   header-tag slabs, which go back a grace period later.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/swap.h>
#include <linux/vmalloc.h>

#include "splkmem_test.h"

/* ---- Other CPUs' magazines read while they are traded and freed --------- */

#define RC_OBJS 8
#define RC_INBOX 64

struct rc_run;

struct rc_worker {
	struct rc_run *run;
	struct task_struct *task;
	spinlock_t lock;	/* protects inbox and count */
	void *inbox[RC_INBOX];
	unsigned int count;
	unsigned long allocs;
	struct completion done;
};

struct rc_run {
	spl_kmem_cache_t *skc;
	struct rc_worker w[2];
	struct completion shrinker_done;
	unsigned long shrinks;
	bool stop;
};

/* The shrinker's scan, again and again: it frees the depot's magazines. */
static int rc_shrink_fn(void *arg)
{
	struct rc_run *run = arg;

	while (!READ_ONCE(run->stop)) {
		splk_core_shrink_scan(ULLONG_MAX);
		run->shrinks++;
		cond_resched();
	}
	complete(&run->shrinker_done);
	return 0;
}

static void rc_hook_off(void *unused)
{
	WRITE_ONCE(splk_test_hooks.race_window_us, 0);
}

/* Objects this worker allocated go to the other, which frees them. */
static int rc_worker_fn(void *arg)
{
	struct rc_worker *me = arg;
	struct rc_run *run = me->run;
	struct rc_worker *peer = &run->w[me == &run->w[0]];
	void *objs[RC_INBOX];
	unsigned int i, n;

	while (!READ_ONCE(run->stop)) {
		for (i = 0; i < RC_OBJS; i++) {
			void *obj = spl_kmem_cache_alloc(run->skc, KM_SLEEP);

			spin_lock(&peer->lock);
			if (peer->count < RC_INBOX) {
				peer->inbox[peer->count++] = obj;
				obj = NULL;
			}
			spin_unlock(&peer->lock);
			if (obj)
				spl_kmem_cache_free(run->skc, obj);
			me->allocs++;
		}
		spin_lock(&me->lock);
		n = me->count;
		memcpy(objs, me->inbox, n * sizeof(void *));
		me->count = 0;
		spin_unlock(&me->lock);
		for (i = 0; i < n; i++)
			spl_kmem_cache_free(run->skc, objs[i]);
		cond_resched();
	}
	complete(&me->done);
	return 0;
}

static void rc_noop_stats(const struct splk_cache_stats *st, void *arg)
{
	*(u64 *)arg += st->cpu_objs;
}

/*
 * Magazines of 2 rounds: every few objects a CPU trades one into the depot,
 * where the shrinker's scan (a thread of its own) frees it, while the
 * update and the statistics read every CPU's loaded and previous
 * magazines, spinning 200 us between finding one and reading it (a test
 * hook): a magazine freed meanwhile is a use after free KASAN reports.
 */
static void reclaim_reads_no_freed_magazine(struct kunit *test)
{
	struct splk_test_cache *c;
	struct rc_run *run;
	unsigned long deadline, loops = 0;
	u64 sum = 0;
	int i, cpu;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	splk_test_set_param(test, &spl_kmem_cache_magazine_size, 2);
	c = splk_test_cache_create(test, "splk_rc_mag", 256, 0, NULL, NULL, NULL, KMC_KVMEM);
	run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run);
	run->skc = c->skc;
	init_completion(&run->shrinker_done);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, rc_hook_off, NULL), 0);
	WRITE_ONCE(splk_test_hooks.race_window_us, 200);
	cpu = cpumask_first(cpu_online_mask);
	for (i = 0; i < 2; i++) {
		run->w[i].run = run;
		spin_lock_init(&run->w[i].lock);
		init_completion(&run->w[i].done);
		run->w[i].task = kthread_create(rc_worker_fn, &run->w[i], "splk_rc%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(run->w[i].task));
		kthread_bind(run->w[i].task, cpu);
		cpu = cpumask_next(cpu, cpu_online_mask);
	}
	wake_up_process(run->w[0].task);
	wake_up_process(run->w[1].task);
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(rc_shrink_fn, run, "splk_rc_shrink")));

	deadline = jiffies + 3 * HZ;
	while (time_before(jiffies, deadline)) {
		splk_core_update_now();
		splk_for_each_cache(rc_noop_stats, &sum);
		loops++;
		cond_resched();
	}
	WRITE_ONCE(run->stop, true);
	wait_for_completion(&run->w[0].done);
	wait_for_completion(&run->w[1].done);
	wait_for_completion(&run->shrinker_done);
	rc_hook_off(NULL);
	for (i = 0; i < 2; i++)
		while (run->w[i].count > 0)
			spl_kmem_cache_free(c->skc, run->w[i].inbox[--run->w[i].count]);

	kunit_info(test, "%lu reader loops, %lu shrinker scans, %lu + %lu objects allocated",
		   loops, run->shrinks, run->w[0].allocs, run->w[1].allocs);
	KUNIT_EXPECT_GT(test, loops, 10UL);
	KUNIT_EXPECT_GT(test, run->shrinks, 10UL);
	KUNIT_EXPECT_GT(test, run->w[0].allocs, 0UL);
	KUNIT_EXPECT_GT(test, run->w[1].allocs, 0UL);
}

/* ---- The shrinker never waits for the registry ---------------------------- */

struct rc_holder {
	struct completion held;
	struct completion release;
	struct completion done;
};

static int rc_hold_fn(void *arg)
{
	struct rc_holder *h = arg;

	splk_registry_lock_write();
	complete(&h->held);
	/* Never longer than 2 s: a shrinker that waits is seen, not hung. */
	wait_for_completion_timeout(&h->release, 2 * HZ);
	splk_registry_unlock_write();
	complete(&h->done);
	return 0;
}

/*
 * A destroy holds the registry for writing (or waits for it): reclaim
 * entering the shrinker meanwhile, maybe with the destroying task's own
 * allocation, must not sleep behind it.  Count and scan return at once.
 */
static void shrinker_never_waits_for_registry(struct kunit *test)
{
	struct rc_holder *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct task_struct *t;
	unsigned long start, count_j, scan_j;

	KUNIT_ASSERT_NOT_NULL(test, h);
	init_completion(&h->held);
	init_completion(&h->release);
	init_completion(&h->done);
	t = kthread_run(rc_hold_fn, h, "splk_rc_hold");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wait_for_completion(&h->held);
	start = jiffies;
	splk_core_shrink_count();
	count_j = jiffies - start;
	start = jiffies;
	splk_core_shrink_scan(ULLONG_MAX);
	scan_j = jiffies - start;
	complete(&h->release);
	wait_for_completion(&h->done);

	kunit_info(test, "count took %u ms, scan %u ms with the registry held",
		   jiffies_to_msecs(count_j), jiffies_to_msecs(scan_j));
	KUNIT_EXPECT_LT(test, jiffies_to_msecs(count_j), 500U);
	KUNIT_EXPECT_LT(test, jiffies_to_msecs(scan_j), 500U);
}

/* ---- A reap waits for no other CPU ----------------------------------------- */

struct rc_busy {
	unsigned long ms;
	struct completion spinning;
	struct completion done;
};

/* Busy with preemption off: no kworker can run on this CPU meanwhile. */
static int rc_busy_fn(void *arg)
{
	struct rc_busy *b = arg;
	unsigned long end;

	preempt_disable();
	complete(&b->spinning);
	end = jiffies + msecs_to_jiffies(b->ms);
	while (time_before(jiffies, end))
		cpu_relax();
	preempt_enable();
	complete(&b->done);
	return 0;
}

struct rc_fill {
	spl_kmem_cache_t *skc;
	void *objs[32];
};

static long rc_fill_fn(void *arg)
{
	struct rc_fill *f = arg;
	int i;

	for (i = 0; i < ARRAY_SIZE(f->objs); i++)
		f->objs[i] = spl_kmem_cache_alloc(f->skc, KM_SLEEP);
	for (i = 0; i < ARRAY_SIZE(f->objs); i++)
		spl_kmem_cache_free(f->skc, f->objs[i]);
	return 0;
}

static long rc_reap_fn(void *arg)
{
	unsigned long start = jiffies;

	spl_kmem_cache_reap_now(arg);
	return jiffies - start;
}

/*
 * OpenZFS reaps about a hundred caches under memory pressure
 * (arc_kmem_reap_soon()): a reap must not wait for every CPU in turn.
 * One CPU holds objects in its magazines and then stays busy for 2 s; a
 * reap from the other returns well before, and once the busy CPU is free
 * its drain work empties its magazines, and the slabs go.
 */
static void reap_waits_for_no_other_cpu(struct kunit *test)
{
	struct rc_busy *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct rc_fill *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	struct task_struct *t;
	int cpu0, cpu1;
	long took;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, f);
	cpu0 = cpumask_first(cpu_online_mask);
	cpu1 = cpumask_next(cpu0, cpu_online_mask);
	c = splk_test_cache_create(test, "splk_rc_reap", 512, 0, NULL, NULL, NULL, KMC_KVMEM);
	f->skc = c->skc;
	splk_test_on_cpu(cpu1, rc_fill_fn, f);
	splk_test_cache_stats(test, c, &st);
	KUNIT_ASSERT_GT(test, st.cpu_objs, 0ULL);

	b->ms = 2000;
	init_completion(&b->spinning);
	init_completion(&b->done);
	t = kthread_create(rc_busy_fn, b, "splk_rc_busy");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	kthread_bind(t, cpu1);
	wake_up_process(t);
	wait_for_completion(&b->spinning);
	took = splk_test_on_cpu(cpu0, rc_reap_fn, c->skc);
	wait_for_completion(&b->done);
	kunit_info(test, "the reap took %u ms with CPU %d busy for %lu ms",
		   jiffies_to_msecs(took), cpu1, b->ms);
	KUNIT_EXPECT_LT(test, jiffies_to_msecs(took), 1000U);

	/* The busy CPU's drain work ran (or runs now): nothing is left. */
	splk_drain_flush();
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.cpu_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);
}

/* ---- A bogus free racing a reap on a header-tag cache ---------------------- */

#define RC_STALE 16

struct rc_bogus {
	spl_kmem_cache_t *skc;
	void *stale[RC_STALE];	/* objects of earlier rounds, free by now */
	atomic_t reaping;	/* the round the owner reaps in, 0 while it allocates */
	atomic_t inside;	/* bogus frees in progress */
	unsigned long bogus;
	bool stop;
	struct completion done;
};

/*
 * Frees pointers to objects that are already free, only while the owner
 * reaps (so none of them can be allocated again meanwhile): each one is
 * refused with a warning, and none may read a slab reclaim freed.
 */
static int rc_bogus_fn(void *arg)
{
	struct rc_bogus *b = arg;
	int round, last = 0;
	unsigned int i = 0;

	while (!READ_ONCE(b->stop)) {
		/* One free a round, at a different moment of each reap. */
		udelay(get_random_u32_below(2000));
		atomic_inc(&b->inside);
		/* inside before reaping: pairs with the smp_mb() of the owner. */
		smp_mb__after_atomic();
		round = atomic_read(&b->reaping);
		if (round && round != last) {
			spl_kmem_cache_free(b->skc, READ_ONCE(b->stale[i++ % RC_STALE]));
			b->bogus++;
			last = round;
		}
		atomic_dec(&b->inside);
		cond_resched();
	}
	complete(&b->done);
	return 0;
}

/*
 * Page-aligned page-sized objects keep their tags in the slab header,
 * found through an index.  One thread allocates, frees and reaps (which
 * frees every slab); another frees stale pointers during the reaps, with
 * the test hook's 200 us between finding a slot and reading it.  Every
 * bogus free is refused with one warning; none reads freed memory.
 */
static void bogus_free_racing_reap_header_tags(struct kunit *test)
{
	struct rc_bogus *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct splk_test_cache *c;
	struct task_struct *t;
	void *objs[RC_STALE];
	unsigned long w, deadline, rounds = 0;
	int i, cpu0, cpu1;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	KUNIT_ASSERT_NOT_NULL(test, b);
	cpu0 = cpumask_first(cpu_online_mask);
	cpu1 = cpumask_next(cpu0, cpu_online_mask);
	c = splk_test_cache_create(test, "splk_rc_bogus", 4096, 4096, NULL, NULL, NULL, KMC_KVMEM);
	b->skc = c->skc;
	init_completion(&b->done);
	for (i = 0; i < RC_STALE; i++) {
		b->stale[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, b->stale[i]);
	}
	for (i = 0; i < RC_STALE; i++)
		spl_kmem_cache_free(c->skc, b->stale[i]);

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, rc_hook_off, NULL), 0);
	WRITE_ONCE(splk_test_hooks.race_window_us, 200);
	w = splk_test_expect_warn_begin();
	t = kthread_create(rc_bogus_fn, b, "splk_rc_bogus");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	kthread_bind(t, cpu1);
	wake_up_process(t);

	deadline = jiffies + 3 * HZ;
	while (time_before(jiffies, deadline) && rounds < 200) {
		atomic_set(&b->reaping, rounds + 1);
		splk_test_reap_on_cpu(cpu0, c->skc);
		udelay(1000);	/* the reap's grace periods and drains */
		atomic_set(&b->reaping, 0);
		/*
		 * No bogus free in progress may see the next allocations:
		 * pairs with smp_mb__after_atomic() in rc_bogus_fn() (the
		 * store to reaping before the load of inside, there the
		 * increment of inside before the load of reaping).
		 */
		smp_mb();
		while (atomic_read(&b->inside))
			cpu_relax();
		for (i = 0; i < RC_STALE; i++)
			objs[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		for (i = 0; i < RC_STALE; i++) {
			WRITE_ONCE(b->stale[i], objs[i]);
			spl_kmem_cache_free(c->skc, objs[i]);
		}
		rounds++;
	}
	WRITE_ONCE(b->stop, true);
	wait_for_completion(&b->done);
	rc_hook_off(NULL);
	kunit_info(test, "%lu rounds, %lu bogus frees", rounds, b->bogus);
	KUNIT_EXPECT_GT(test, b->bogus, 0UL);
	splk_test_expect_warn_end(test, w, b->bogus);
}

/* ---- A stale free after the slab's addresses went back to vmalloc ------ */

#define RC_HELD 24	/* three slabs of 64 KiB or 4 KiB objects */

struct rc_stale_case {
	const char *name;
	size_t size;
	size_t align;
	bool debug;
	bool free_checked;	/* the stale free can be made (see below) */
};

/*
 * With tags before the objects, the production free reads the tag word
 * of the stale pointer as it is: a reaped slab's page is unmapped, and
 * the free faults as any free after a reap does there (README, known
 * gaps).  That case checks only where the new slabs went.
 */
static const struct rc_stale_case rc_stale_cases[] = {
	{ "tags before, production", 65536, 0, false, false },
	{ "tags before, debug", 65536, 0, true, true },
	{ "header tags, production", 4096, 4096, false, true },
	{ "header tags, debug", 4096, 4096, true, true },
};

static void rc_stale_desc(const struct rc_stale_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rc_stale, rc_stale_cases, rc_stale_desc);

static void stale_free_after_address_reuse(struct kunit *test)
{
	const struct rc_stale_case *p = test->param_value;
	void **held = kunit_kcalloc(test, RC_HELD, sizeof(*held), GFP_KERNEL);
	struct splk_test_cache *c;
	void *stale, *next;
	unsigned long w;
	int i, j;

	KUNIT_ASSERT_NOT_NULL(test, held);
	splk_test_set_param(test, &spl_kmem_cache_debug, p->debug);
	c = splk_test_cache_create(test, "splk_rc_stale", p->size, p->align, NULL, NULL, NULL,
				   KMC_KVMEM);
	stale = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, stale);
	spl_kmem_cache_free(c->skc, stale);
	splk_test_reap_all_cpus(c->skc);
	/*
	 * Header-tag slabs go a grace period later, by a vfree() that an
	 * RCU callback defers to a work item; then the lazily freed vmalloc
	 * areas are purged, so that their addresses can be handed out again.
	 */
	rcu_barrier();
	msleep(100);
	vm_unmap_aliases();

	for (i = 0; i < RC_HELD; i++) {
		held[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, held[i]);
		KUNIT_EXPECT_PTR_NE_MSG(test, held[i], stale,
					"a new slab put object %d at the stale address", i);
	}
	if (p->free_checked) {
		w = splk_test_expect_warn_begin();
		spl_kmem_cache_free(c->skc, stale);
		next = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		splk_test_expect_warn_end(test, w, 1);
		KUNIT_ASSERT_NOT_NULL(test, next);
		for (j = 0; j < RC_HELD; j++)
			KUNIT_EXPECT_PTR_NE_MSG(test, next, held[j],
						"object %d handed out twice", j);
		spl_kmem_cache_free(c->skc, next);
	}
	for (i = 0; i < RC_HELD; i++)
		spl_kmem_cache_free(c->skc, held[i]);
}

/* ---- Slab pages freed in reclaim are credited to it ---------------------- */

#define RC_CREDIT_OBJS 64

struct rc_credit_case {
	size_t size;
	size_t align;
	const char *layout;
};

static const struct rc_credit_case rc_credit_cases[] = {
	{ SZ_64K, 8, "tags before the objects" },
	{ SZ_16K, PAGE_SIZE, "tags in the slab header" },
};

static void rc_credit_desc(const struct rc_credit_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zu B, %s", c->size, c->layout);
}

KUNIT_ARRAY_PARAM(rc_credit, rc_credit_cases, rc_credit_desc);

struct rc_credit {
	struct splk_test_cache *c;
	unsigned long credited;
	unsigned long freed_pages;	/* by the reap, from the cache's books */
	uint64_t freed_slabs;
	struct splk_cache_stats before, after;
	void *objs[RC_CREDIT_OBJS];
};

/*
 * On one CPU (its magazines are the only ones that hold objects): fill
 * several slabs, free every object, and reap in a context that reclaim
 * entered, as arc_kmem_reap_soon() does.
 */
static long rc_credit_fn(void *arg)
{
	struct rc_credit *r = arg;
	struct reclaim_state rs = {};
	void **objs = r->objs;
	int i;

	for (i = 0; i < RC_CREDIT_OBJS; i++) {
		objs[i] = spl_kmem_cache_alloc(r->c->skc, KM_SLEEP);
		if (!objs[i])
			return -ENOMEM;
	}
	for (i = 0; i < RC_CREDIT_OBJS; i++)
		spl_kmem_cache_free(r->c->skc, objs[i]);
	if (!splk_test_stats(r->c->name, &r->before))
		return -ENOENT;
	current->reclaim_state = &rs;
	spl_kmem_cache_reap_now(r->c->skc);
	current->reclaim_state = NULL;
	if (!splk_test_stats(r->c->name, &r->after))
		return -ENOENT;
#if SPLK_HAVE_RECLAIM_STATE_RECLAIMED
	r->credited = rs.reclaimed;
#else
	r->credited = rs.reclaimed_slab;
#endif
	r->freed_slabs = r->after.slab_destroy - r->before.slab_destroy;
	r->freed_pages = r->freed_slabs * (r->after.slab_size >> PAGE_SHIFT);
	return 0;
}

static void reap_in_reclaim_credits_slab_pages(struct kunit *test)
{
	const struct rc_credit_case *p = test->param_value;
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_rc_credit", p->size,
							   p->align, NULL, NULL, NULL, KMC_KVMEM);
	struct rc_credit *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->c = c;
	KUNIT_ASSERT_EQ(test, splk_test_on_cpu(cpumask_first(cpu_online_mask), rc_credit_fn, r),
			0);
	kunit_info(test, "the reap freed %llu slabs, %lu pages; %lu pages credited",
		   r->freed_slabs, r->freed_pages, r->credited);
	KUNIT_EXPECT_GT(test, r->freed_slabs, 0ULL);
	KUNIT_EXPECT_EQ(test, r->credited, r->freed_pages);
	splk_test_cache_destroy(test, c);
}

static struct kunit_case reclaim_cases[] = {
	KUNIT_CASE_SLOW(bogus_free_racing_reap_header_tags),
	KUNIT_CASE_SLOW(reclaim_reads_no_freed_magazine),
	KUNIT_CASE(shrinker_never_waits_for_registry),
	KUNIT_CASE_SLOW(reap_waits_for_no_other_cpu),
	KUNIT_CASE_PARAM(stale_free_after_address_reuse, rc_stale_gen_params),
	KUNIT_CASE_PARAM(reap_in_reclaim_credits_slab_pages, rc_credit_gen_params),
	{}
};

static struct kunit_suite reclaim_suite = {
	.name = "splkmem_reclaim",
	.exit = splk_test_exit,
	.test_cases = reclaim_cases,
};
kunit_test_suite(reclaim_suite);
