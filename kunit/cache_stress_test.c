// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_cache_stress: one thread per online CPU allocating and freeing
 * batches of objects at once, some of them freed by another thread on
 * another CPU.  Every object carries its owner's signature, checked before
 * it is freed; at the end every object is back and a reap on every CPU
 * leaves a vmalloc-backed cache without a slab.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "splkmem_test.h"

#define CS_BATCH_MAX	64
#define CS_INBOX_MAX	128
#define CS_KEEP_MAX	128
#define CS_MAGIC	0x5a17c0de3ca1ab1eULL

struct cs_config {
	const char *name;
	size_t size;		/* a multiple of 8 */
	int flags;
	unsigned int iterations;
	unsigned int max_batch;	/* objects allocated at once, 1..max_batch */
	unsigned int inbox_max;	/* objects waiting for the next thread */
	unsigned int keep_max;	/* objects kept across iterations */
};

struct cs_run;

/* An object held by a thread, and the head word it must still carry. */
struct cs_obj {
	void *ptr;
	u64 head;
};

/* Objects passed to a thread by the previous one, for it to free. */
struct cs_inbox {
	spinlock_t lock;	/* protects count and objs */
	unsigned int count;
	struct cs_obj objs[CS_INBOX_MAX];
};

struct cs_thread {
	struct cs_run *run;
	unsigned int id;
	unsigned int cpu;
	bool wrong_cpu;
	struct task_struct *task;
	struct completion done;
	struct cs_inbox inbox;
	unsigned long allocs;
	unsigned long frees;
	unsigned long passed;
	unsigned long alloc_failures;
	unsigned long corruptions;
	unsigned int kept;
	struct cs_obj keep[CS_KEEP_MAX];
	struct cs_obj batch[CS_BATCH_MAX];
	struct cs_obj drained[CS_INBOX_MAX];
};

struct cs_run {
	const struct cs_config *cfg;
	spl_kmem_cache_t *skc;
	unsigned int nthreads;
	struct cs_thread *threads;
};

/* ---- Object signatures ------------------------------------------------- */

/*
 * Word 0 of an object is its head, (owner thread << 32 | sequence number),
 * unique to one allocation; signature words derived from the head and the
 * address are spread over the rest.  An object handed out twice, or written
 * by someone else, no longer carries the head its holder expects.
 */
static u64 cs_sig(const void *obj, u64 head)
{
	return (uintptr_t)obj ^ head ^ CS_MAGIC;
}

/* Words between two signature words: every word of small objects. */
static size_t cs_step(size_t size)
{
	return size <= 1024 ? 1 : 512 / sizeof(u64);
}

static void cs_sign(void *obj, size_t size, u64 head)
{
	const size_t words = size / sizeof(u64), step = cs_step(size);
	u64 sig = cs_sig(obj, head);
	u64 *w = obj;
	size_t i;

	w[0] = head;
	for (i = step; i < words; i += step)
		w[i] = sig;
	w[words - 1] = sig;
}

static bool cs_check(const struct cs_obj *o, size_t size)
{
	const size_t words = size / sizeof(u64), step = cs_step(size);
	const u64 *w = o->ptr;
	u64 sig = cs_sig(o->ptr, o->head);
	size_t i;

	if (w[0] != o->head || w[words - 1] != sig)
		return false;
	for (i = step; i < words; i += step)
		if (w[i] != sig)
			return false;
	return true;
}

/* ---- The threads ------------------------------------------------------- */

static void cs_free(struct cs_thread *t, const struct cs_obj *o)
{
	struct cs_run *r = t->run;

	if (!cs_check(o, r->cfg->size)) {
		t->corruptions++;
		return;		/* leaked: the test fails anyway */
	}
	spl_kmem_cache_free(r->skc, o->ptr);
	t->frees++;
}

static bool cs_pass(struct cs_thread *to, const struct cs_obj *o)
{
	bool passed = false;

	spin_lock(&to->inbox.lock);
	if (to->inbox.count < to->run->cfg->inbox_max) {
		to->inbox.objs[to->inbox.count++] = *o;
		passed = true;
	}
	spin_unlock(&to->inbox.lock);
	return passed;
}

/* @t frees what was passed to @box (its own inbox, or any at the end). */
static void cs_drain(struct cs_thread *t, struct cs_thread *box)
{
	unsigned int n, i;

	spin_lock(&box->inbox.lock);
	n = box->inbox.count;
	memcpy(t->drained, box->inbox.objs, n * sizeof(t->drained[0]));
	box->inbox.count = 0;
	spin_unlock(&box->inbox.lock);
	for (i = 0; i < n; i++)
		cs_free(t, &t->drained[i]);
}

static int cs_thread_fn(void *arg)
{
	struct cs_thread *t = arg;
	struct cs_run *r = t->run;
	const struct cs_config *cfg = r->cfg;
	struct cs_thread *next = &r->threads[(t->id + 1) % r->nthreads];
	/*
	 * Even threads pass half their objects on, odd ones an eighth: the
	 * flow between CPUs is uneven, so magazines overflow to the slabs on
	 * one side and refill from them on the other.
	 */
	const u32 pass_mask = t->id % 2 ? 7 : 1;
	unsigned int it, n, i, slot;
	struct rnd_state rnd;
	struct cs_obj *o;
	u32 seq = 0;

	prandom_seed_state(&rnd, 0x5eed0000ULL + t->id);
	for (it = 0; it < cfg->iterations; it++) {
		n = 1 + prandom_u32_state(&rnd) % cfg->max_batch;
		for (i = 0; i < n; i++) {
			o = &t->batch[i];
			o->ptr = spl_kmem_cache_alloc(r->skc, KM_SLEEP);
			if (!o->ptr) {
				t->alloc_failures++;
				break;
			}
			t->allocs++;
			o->head = (u64)t->id << 32 | seq++;
			cs_sign(o->ptr, cfg->size, o->head);
		}
		n = i;

		cs_drain(t, t);
		for (i = 0; i < n; i++) {
			u32 dice = prandom_u32_state(&rnd);

			o = &t->batch[i];
			if (!cs_check(o, cfg->size)) {
				t->corruptions++;
				continue;
			}
			if ((dice & pass_mask) == 0 && cs_pass(next, o)) {
				t->passed++;
				continue;
			}
			/* Some live on, replacing an older object. */
			if ((dice & 0x70) == 0 && cfg->keep_max) {
				slot = (dice >> 8) % cfg->keep_max;
				if (slot >= t->kept)
					slot = t->kept++;
				else
					cs_free(t, &t->keep[slot]);
				t->keep[slot] = *o;
				continue;
			}
			cs_free(t, o);
		}
		t->wrong_cpu |= raw_smp_processor_id() != t->cpu;
		cond_resched();
	}
	cs_drain(t, t);
	kthread_complete_and_exit(&t->done, 0);
}

static void cs_destroy_action(void *skc)
{
	spl_kmem_cache_destroy(skc);
}

static void cs_stress(struct kunit *test, const struct cs_config *cfg)
{
	unsigned long warnings = splk_warning_count();
	unsigned long allocs = 0, frees = 0, passed = 0;
	struct splk_cache_stats st;
	struct task_struct *task;
	struct cs_thread *t;
	char name[SPL_KMEM_CACHE_NAME_MAX + 1];
	struct cs_run r = { .cfg = cfg };
	unsigned int i, k;
	int cpu;

	r.nthreads = num_online_cpus();
	r.threads = kunit_kcalloc(test, r.nthreads, sizeof(*r.threads), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r.threads);
	snprintf(name, sizeof(name), "%s_%u", cfg->name, get_random_u32());
	r.skc = spl_kmem_cache_create(name, cfg->size, 0, NULL, NULL, NULL, NULL,
				      NULL, cfg->flags);
	KUNIT_ASSERT_NOT_NULL(test, r.skc);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cs_destroy_action, r.skc), 0);

	/* One thread bound to each online CPU, all started at once. */
	i = 0;
	for_each_online_cpu(cpu) {
		if (i == r.nthreads)
			break;
		t = &r.threads[i];
		t->run = &r;
		t->id = i;
		t->cpu = cpu;
		init_completion(&t->done);
		spin_lock_init(&t->inbox.lock);
		task = kthread_create_on_cpu(cs_thread_fn, t, cpu, "splk_stress/%u");
		if (IS_ERR(task)) {
			KUNIT_FAIL(test, "kthread_create_on_cpu(%d): %ld", cpu, PTR_ERR(task));
			break;
		}
		t->task = task;
		i++;
	}
	r.nthreads = i;
	for (i = 0; i < r.nthreads; i++)
		wake_up_process(r.threads[i].task);
	for (i = 0; i < r.nthreads; i++)
		wait_for_completion(&r.threads[i].done);

	/* Leftovers: passed after their receiver finished, and kept ones. */
	for (i = 0; i < r.nthreads; i++) {
		t = &r.threads[i];
		cs_drain(t, t);
		for (k = 0; k < t->kept; k++)
			cs_free(t, &t->keep[k]);
		t->kept = 0;
	}

	for (i = 0; i < r.nthreads; i++) {
		t = &r.threads[i];
		KUNIT_EXPECT_EQ_MSG(test, t->alloc_failures, 0, "thread %u", i);
		KUNIT_EXPECT_EQ_MSG(test, t->corruptions, 0, "thread %u", i);
		KUNIT_EXPECT_FALSE_MSG(test, t->wrong_cpu, "thread %u left CPU %u", i, t->cpu);
		/* At least one object per iteration. */
		KUNIT_EXPECT_GE_MSG(test, t->allocs, cfg->iterations, "thread %u", i);
		allocs += t->allocs;
		frees += t->frees;
		passed += t->passed;
	}
	KUNIT_EXPECT_EQ(test, frees, allocs);
	kunit_info(test, "%u threads: %lu objects, %lu freed by the next thread\n",
		   r.nthreads, allocs, passed);

	splk_test_reap_all_cpus(r.skc);
	KUNIT_ASSERT_TRUE(test, splk_test_stats(name, &st));
	if (cfg->flags & KMC_SLAB) {
		KUNIT_EXPECT_EQ(test, st.linux_alloc, 0);
		KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(r.skc), 0);
	} else {
		KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);
		KUNIT_EXPECT_EQ(test, st.slab_total, 0);
		KUNIT_EXPECT_EQ(test, st.mag_objs, 0);
		KUNIT_EXPECT_GT(test, st.slab_create, 0);
	}
	kunit_release_action(test, cs_destroy_action, r.skc);
	/* Nothing in there was a misuse: no warning. */
	KUNIT_EXPECT_EQ(test, splk_warning_count(), warnings);
}

static void stress_kvmem_256(struct kunit *test)
{
	static const struct cs_config cfg = {
		.name = "splk_stress_kv256", .size = 256, .flags = KMC_KVMEM,
		.iterations = 2000, .max_batch = 64, .inbox_max = 128, .keep_max = 128,
	};

	cs_stress(test, &cfg);
}

static void stress_kvmem_64k(struct kunit *test)
{
	static const struct cs_config cfg = {
		.name = "splk_stress_kv64k", .size = SZ_64K, .flags = KMC_KVMEM,
		.iterations = 500, .max_batch = 16, .inbox_max = 16, .keep_max = 8,
	};

	cs_stress(test, &cfg);
}

static void stress_slab_256(struct kunit *test)
{
	static const struct cs_config cfg = {
		.name = "splk_stress_slab256", .size = 256, .flags = KMC_SLAB,
		.iterations = 300, .max_batch = 64, .inbox_max = 128, .keep_max = 128,
	};

	cs_stress(test, &cfg);
}

static struct kunit_case cache_stress_cases[] = {
	KUNIT_CASE_SLOW(stress_kvmem_256),
	KUNIT_CASE_SLOW(stress_kvmem_64k),
	KUNIT_CASE_SLOW(stress_slab_256),
	{}
};

static struct kunit_suite cache_stress_suite = {
	.name = "splkmem_cache_stress",
	.exit = splk_test_exit,
	.test_cases = cache_stress_cases,
};

kunit_test_suites(&cache_stress_suite);
