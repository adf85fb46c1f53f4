// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_cache_semantics: where the object cache's answers must be SPL's
 * contract (or say why not), under concurrency and in the debug mode:
 * spl_kmem_cache_inuse() read while other CPUs allocate and free, tiny
 * objects reused in the debug mode, and the warning counter under
 * concurrent warnings.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "splkmem_test.h"

/* ---- spl_kmem_cache_inuse() while other CPUs allocate and free ---------- */

#define SEM_RING 64

/*
 * A producer on one CPU allocates into a ring, a consumer on another frees
 * from it: each object is counted allocated on the first CPU and freed on
 * the second, so a sum of per-CPU counters read meanwhile can see a free
 * before its allocation.
 */
struct sem_ring {
	spl_kmem_cache_t *skc;
	spinlock_t lock;	/* protects objs, head, tail */
	void *objs[SEM_RING];
	unsigned int head, tail;
	bool stop;
	unsigned long moved;
	struct completion done[2];
};

static bool sem_ring_push(struct sem_ring *r, void *obj)
{
	bool ok;

	spin_lock(&r->lock);
	ok = r->head - r->tail < SEM_RING;
	if (ok)
		r->objs[r->head++ % SEM_RING] = obj;
	spin_unlock(&r->lock);
	return ok;
}

static void *sem_ring_pop(struct sem_ring *r)
{
	void *obj = NULL;

	spin_lock(&r->lock);
	if (r->head != r->tail)
		obj = r->objs[r->tail++ % SEM_RING];
	spin_unlock(&r->lock);
	return obj;
}

static int sem_producer(void *arg)
{
	struct sem_ring *r = arg;
	void *obj = NULL;

	while (!READ_ONCE(r->stop)) {
		if (!obj)
			obj = spl_kmem_cache_alloc(r->skc, KM_SLEEP);
		if (sem_ring_push(r, obj))
			obj = NULL;
		else
			cond_resched();
	}
	if (obj)
		spl_kmem_cache_free(r->skc, obj);
	complete(&r->done[0]);
	return 0;
}

static int sem_consumer(void *arg)
{
	struct sem_ring *r = arg;
	void *obj;

	while (!READ_ONCE(r->stop)) {
		obj = sem_ring_pop(r);
		if (obj) {
			spl_kmem_cache_free(r->skc, obj);
			r->moved++;
		} else {
			cond_resched();
		}
	}
	complete(&r->done[1]);
	return 0;
}

/*
 * ZFS's zfs_btree_leaf_cache is a 4 KiB KMC_SLAB cache (untagged here):
 * metaslab_potentially_evict() reads its inuse.  At most the ring, the
 * producer's object in hand and one per CPU in flight are allocated at
 * any time; a transiently negative sum must not wrap to about 2^64.
 */
static void inuse_bounded_under_cross_cpu_traffic(struct kunit *test)
{
	struct splk_test_cache *c;
	struct task_struct *t[2];
	struct sem_ring *r;
	u64 seen, max_seen = 0;
	unsigned long polls = 0, deadline;
	int cpu[2], i;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	cpu[0] = cpumask_first(cpu_online_mask);
	cpu[1] = cpumask_next(cpu[0], cpu_online_mask);

	c = splk_test_cache_create(test, "splk_sem_inuse", 4096, 0, NULL, NULL, NULL, KMC_SLAB);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->skc = c->skc;
	spin_lock_init(&r->lock);
	init_completion(&r->done[0]);
	init_completion(&r->done[1]);
	t[0] = kthread_create(sem_producer, r, "splk_sem_prod");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t[0]));
	t[1] = kthread_create(sem_consumer, r, "splk_sem_cons");
	if (IS_ERR(t[1])) {
		kthread_stop(t[0]);
		KUNIT_FAIL(test, "kthread_create failed");
		return;
	}
	for (i = 0; i < 2; i++) {
		kthread_bind(t[i], cpu[i]);
		wake_up_process(t[i]);
	}

	deadline = jiffies + 2 * HZ;
	while (time_before(jiffies, deadline)) {
		seen = spl_kmem_cache_inuse(c->skc);
		max_seen = max(max_seen, seen);
		if (++polls % 64 == 0)
			cond_resched();
	}
	WRITE_ONCE(r->stop, true);
	wait_for_completion(&r->done[0]);
	wait_for_completion(&r->done[1]);
	while ((seen = (uintptr_t)sem_ring_pop(r)) != 0)
		spl_kmem_cache_free(c->skc, (void *)(uintptr_t)seen);

	kunit_info(test, "%lu polls, %lu objects moved, most seen %llu", polls, r->moved,
		   max_seen);
	KUNIT_EXPECT_GT(test, r->moved, 0UL);
	KUNIT_EXPECT_LE(test, max_seen, (u64)SEM_RING + 1 + num_online_cpus());
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0ULL);
}

/* ---- Debug mode: objects of 1 to 7 bytes --------------------------------- */

/*
 * An object smaller than a word goes back to its slab, whose free-list link
 * overwrites a whole word: handing it out again must not report a write
 * after free (the fill check covers the padding up to the word too).
 */
static void debug_tiny_objects_reused_without_false_report(struct kunit *test)
{
	enum { N = 300 };
	void **objs = kunit_kcalloc(test, N, sizeof(void *), GFP_KERNEL);
	struct splk_test_cache *c;
	unsigned long w;
	void *held, *freed;
	size_t size;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	splk_test_set_param(test, &spl_kmem_cache_debug, 1);
	for (size = 1; size <= 8; size++) {
		c = splk_test_cache_create(test, "splk_sem_tiny", size, 0, NULL, NULL, NULL,
					   KMC_KVMEM);
		w = splk_test_expect_warn_begin();
		/* held keeps the slab alive: freed goes to its free list. */
		held = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		freed = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, held);
		KUNIT_ASSERT_NOT_NULL(test, freed);
		spl_kmem_cache_free(c->skc, freed);
		splk_test_reap_all_cpus(c->skc);
		/* More than one refill: freed is handed out again among them. */
		for (i = 0; i < N; i++)
			objs[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		for (i = 0; i < N; i++)
			spl_kmem_cache_free(c->skc, objs[i]);
		spl_kmem_cache_free(c->skc, held);
		splk_test_expect_warn_end(test, w, 0);
		splk_test_cache_destroy(test, c);
	}
}

/* ---- The warning counter under concurrent warnings ----------------------- */

#define SEM_WARNS 16

struct sem_warner {
	spl_kmem_cache_t *skc;
	void *obj;
	struct completion go;
	struct completion done;
};

static int sem_warn_thread(void *arg)
{
	struct sem_warner *wr = arg;
	int i;

	wait_for_completion(&wr->go);
	for (i = 0; i < SEM_WARNS; i++)
		spl_kmem_cache_free(wr->skc, wr->obj);	/* a double free: one WARN */
	complete(&wr->done);
	return 0;
}

/* Two CPUs warning at once: the count the suites rely on is exact. */
static void warnings_counted_exactly_across_cpus(struct kunit *test)
{
	struct splk_test_cache *c;
	struct sem_warner wr[2];
	struct task_struct *t;
	unsigned long w;
	int i, cpu;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	c = splk_test_cache_create(test, "splk_sem_warn", 256, 0, NULL, NULL, NULL, KMC_KVMEM);
	w = splk_test_expect_warn_begin();
	cpu = cpumask_first(cpu_online_mask);
	for (i = 0; i < 2; i++) {
		wr[i].skc = c->skc;
		wr[i].obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, wr[i].obj);
		spl_kmem_cache_free(c->skc, wr[i].obj);
		init_completion(&wr[i].go);
		init_completion(&wr[i].done);
		t = kthread_create(sem_warn_thread, &wr[i], "splk_sem_warn%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		kthread_bind(t, cpu);
		wake_up_process(t);
		cpu = cpumask_next(cpu, cpu_online_mask);
	}
	complete(&wr[0].go);
	complete(&wr[1].go);
	wait_for_completion(&wr[0].done);
	wait_for_completion(&wr[1].done);
	splk_test_expect_warn_end(test, w, 2 * SEM_WARNS);
}

static struct kunit_case cache_semantics_cases[] = {
	KUNIT_CASE_SLOW(inuse_bounded_under_cross_cpu_traffic),
	KUNIT_CASE(debug_tiny_objects_reused_without_false_report),
	KUNIT_CASE(warnings_counted_exactly_across_cpus),
	{}
};

static struct kunit_suite cache_semantics_suite = {
	.name = "splkmem_cache_semantics",
	.exit = splk_test_exit,
	.test_cases = cache_semantics_cases,
};
kunit_test_suite(cache_semantics_suite);
