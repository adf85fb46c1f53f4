// SPDX-License-Identifier: GPL-2.0
/*
 * Magazines of every CPU: a reap empties all of them, not only the
 * caller's, and a CPU taken offline gives its objects back to the slabs.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/kthread.h>

#include "splkmem_test.h"

#define CPU_OBJS 50

struct cpu_fill {
	spl_kmem_cache_t *skc;
	struct completion done;
	int got;
};

/* On its CPU: allocate CPU_OBJS objects, free them into its magazine. */
static int cpu_fill_fn(void *arg)
{
	struct cpu_fill *f = arg;
	void *objs[CPU_OBJS];
	int i;

	for (i = 0; i < CPU_OBJS; i++) {
		objs[i] = spl_kmem_cache_alloc(f->skc, KM_SLEEP);
		if (objs[i])
			f->got++;
	}
	for (i = 0; i < CPU_OBJS; i++)
		spl_kmem_cache_free(f->skc, objs[i]);
	complete(&f->done);
	return 0;
}

static void cpu_fill_on(struct kunit *test, spl_kmem_cache_t *skc, int cpu)
{
	struct cpu_fill f = { .skc = skc };
	struct task_struct *t;

	init_completion(&f.done);
	t = kthread_create(cpu_fill_fn, &f, "splk_cpu_fill/%d", cpu);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	kthread_bind(t, cpu);
	wake_up_process(t);
	wait_for_completion(&f.done);
	KUNIT_EXPECT_EQ(test, f.got, CPU_OBJS);
}

/* Magazines hold CPU_OBJS objects on each online CPU; one reap empties all. */
static void cpu_reap_drains_every_cpu(struct kunit *test)
{
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_cpu_reap", 256, 0, NULL,
							   NULL, NULL, KMC_KVMEM);
	struct splk_cache_stats st;
	int cpu, ncpu = 0;

	for_each_online_cpu(cpu) {
		cpu_fill_on(test, c->skc, cpu);
		ncpu++;
	}
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_GE(test, st.mag_objs, (u64)CPU_OBJS * ncpu);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);

	/*
	 * One call, from this CPU only: the other CPUs empty their magazines
	 * in their drain work, which the reap does not wait for.
	 */
	spl_kmem_cache_reap_now(c->skc);
	splk_drain_flush();
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.mag_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);
	splk_test_cache_destroy(test, c);
}

/*
 * A CPU with objects in its magazine goes offline: they go back to the
 * slabs at once (a reap then frees every slab), and the CPU comes back
 * with an empty magazine that refills as usual.
 */
static void cpu_offline_drains_magazine(struct kunit *test)
{
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_cpu_hp", 256, 0, NULL,
							   NULL, NULL, KMC_KVMEM);
	struct splk_cache_stats st;
	int cpu = cpumask_last(cpu_online_mask);
	int rc;

	if (num_online_cpus() < 2 || cpu == 0)
		kunit_skip(test, "needs a second online CPU");
	cpu_fill_on(test, c->skc, cpu);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_GE(test, st.mag_objs, (u64)CPU_OBJS);

	rc = remove_cpu(cpu);
	KUNIT_ASSERT_EQ_MSG(test, rc, 0, "remove_cpu(%d)", cpu);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.mag_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0ULL);
	/* With the objects back, a reap on the CPUs left frees every slab. */
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);

	rc = add_cpu(cpu);
	KUNIT_ASSERT_EQ_MSG(test, rc, 0, "add_cpu(%d)", cpu);
	cpu_fill_on(test, c->skc, cpu);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);
	KUNIT_EXPECT_GE(test, st.mag_objs, (u64)CPU_OBJS);
	splk_test_cache_destroy(test, c);
}

static struct kunit_case cpu_cases[] = {
	KUNIT_CASE(cpu_reap_drains_every_cpu),
	KUNIT_CASE_SLOW(cpu_offline_drains_magazine),
	{}
};

static struct kunit_suite cpu_suite = {
	.name = "splkmem_cpus",
	.exit = splk_test_exit,
	.test_cases = cpu_cases,
};

kunit_test_suites(&cpu_suite);
