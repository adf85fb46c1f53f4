// SPDX-License-Identifier: GPL-2.0
/*
 * NUMA (issue 26, item 3; module/core/numa.hpp): the depot and the slab
 * lists are kept per node.  Our test kernels have no CONFIG_NUMA, so
 * nodes collapse to one there; the per-node cases make the core believe
 * in two (splk_test_hooks.fake_nodes: CPU c on node c % 2, memory still
 * from the one real node) and check the bookkeeping by its effects:
 *  - one node: a CPU's frees feed another CPU's allocations (one depot);
 *  - two nodes: they do not: full magazines of one node stay in its depot
 *    part while a CPU of the other node grows slabs, and go to a CPU of
 *    their own node whole;
 *  - two nodes: a refill does not take the other node's partial slabs,
 *    unless it cannot wait (KM_NOSLEEP: another node's object beats an
 *    emergency page);
 *  - reclaim and the statistics see every node's depot part, and the
 *    invariant check (every suite's exit) walks them all.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/slab.h>

#include "splkmem_test.h"

struct nt_batch {
	spl_kmem_cache_t *skc;
	void **objs;
	unsigned int n;
	unsigned int got;
	int km_flags;
};

static long nt_alloc_fn(void *arg)
{
	struct nt_batch *b = arg;
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		b->objs[i] = spl_kmem_cache_alloc(b->skc, b->km_flags);
		b->got += b->objs[i] != NULL;
	}
	return 0;
}

static long nt_free_fn(void *arg)
{
	struct nt_batch *b = arg;
	unsigned int i;

	for (i = 0; i < b->n; i++)
		if (b->objs[i])
			spl_kmem_cache_free(b->skc, b->objs[i]);
	return 0;
}

static struct nt_batch *nt_batch(struct kunit *test, struct splk_test_cache *c, unsigned int n)
{
	struct nt_batch *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->skc = c->skc;
	b->n = n;
	b->km_flags = KM_SLEEP;
	b->objs = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->objs);
	return b;
}

static struct splk_cache_stats *nt_stats(struct kunit *test, unsigned int n)
{
	struct splk_cache_stats *st = kunit_kcalloc(test, n, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	return st;
}

/*
 * Two online CPUs a and b that fake_nodes=2 puts on different nodes
 * (c % 2 differs); false if there are none.
 */
static bool nt_two_nodes(int *a, int *b)
{
	int cpu;

	*a = *b = -1;
	for_each_online_cpu(cpu) {
		if (*a < 0 && cpu % 2 == 0)
			*a = cpu;
		if (*b < 0 && cpu % 2 == 1)
			*b = cpu;
	}
	return *a >= 0 && *b >= 0;
}

/*
 * CPU a allocates four magazines' worth, CPU b frees them (full magazines
 * into b's depot part), CPU a allocates as many again.  Fills in the
 * statistics after the free (st[0]) and after the second allocation
 * (st[1]); returns what a holds then, for the caller to free last.
 */
static struct nt_batch *nt_cross_free(struct kunit *test, struct splk_test_cache *c, int a, int b,
			  struct splk_cache_stats *st)
{
	struct splk_cache_stats first;
	struct nt_batch *ba, *again;

	splk_test_cache_stats(test, c, &first);
	ba = nt_batch(test, c, 4 * first.mag_size);
	splk_test_on_cpu(a, nt_alloc_fn, ba);
	KUNIT_ASSERT_EQ(test, ba->got, ba->n);
	splk_test_cache_stats(test, c, &first);	/* cpu_objs: a's leftovers */
	splk_test_on_cpu(b, nt_free_fn, ba);
	splk_test_cache_stats(test, c, &st[0]);
	KUNIT_ASSERT_GE(test, st[0].depot_full, 1ULL);

	/* a's leftovers and every depot object, if a may draw on them. */
	again = nt_batch(test, c, first.cpu_objs + st[0].depot_objs);
	splk_test_on_cpu(a, nt_alloc_fn, again);
	KUNIT_ASSERT_EQ(test, again->got, again->n);
	splk_test_cache_stats(test, c, &st[1]);
	return again;
}

/* Without NUMA (or with one node) one depot serves every CPU. */
static void numa_one_node_one_depot(struct kunit *test)
{
	struct splk_test_cache *c;
	struct splk_cache_stats *st = nt_stats(test, 2);
	struct nt_batch *held;
	int a, b;

	if (!nt_two_nodes(&a, &b))
		kunit_skip(test, "needs an even and an odd online CPU");
	if (nr_node_ids > 1)
		kunit_skip(test, "a kernel with NUMA: the machine's nodes decide");
	splk_test_set_param(test, &splk_test_hooks.fake_nodes, 0);
	c = splk_test_cache_create(test, "splk_nt_one", 256, 0, NULL, NULL, NULL, KMC_KVMEM);
	held = nt_cross_free(test, c, a, b, st);
	/* a drew b's full magazines: the depot is empty, no slab was made. */
	KUNIT_EXPECT_EQ(test, st[1].depot_full, 0ULL);
	KUNIT_EXPECT_EQ(test, st[1].slab_create, st[0].slab_create);
	splk_test_on_cpu(a, nt_free_fn, held);
}

/*
 * Two nodes: b's full magazines stay in b's depot part while a (the other
 * node) allocates from its own node's slabs; then b takes them whole.
 */
static void numa_depot_per_node(struct kunit *test)
{
	struct splk_test_cache *c;
	struct splk_cache_stats *st = nt_stats(test, 3);
	struct nt_batch *bb, *held;
	int a, b;

	if (!nt_two_nodes(&a, &b))
		kunit_skip(test, "needs an even and an odd online CPU");
	splk_test_set_param(test, &splk_test_hooks.fake_nodes, 2);
	c = splk_test_cache_create(test, "splk_nt_depot", 256, 0, NULL, NULL, NULL, KMC_KVMEM);
	held = nt_cross_free(test, c, a, b, st);
	KUNIT_EXPECT_EQ(test, st[1].depot_full, st[0].depot_full);
	KUNIT_EXPECT_EQ(test, st[1].depot_objs, st[0].depot_objs);
	KUNIT_EXPECT_GT(test, st[1].obj_alloc, st[0].obj_alloc);

	/* b's own node: its two magazines, then its depot part's. */
	bb = nt_batch(test, c, st[1].depot_objs + 2 * st[1].mag_size);
	splk_test_on_cpu(b, nt_alloc_fn, bb);
	KUNIT_ASSERT_EQ(test, bb->got, bb->n);
	splk_test_cache_stats(test, c, &st[2]);
	KUNIT_EXPECT_EQ(test, st[2].depot_full, 0ULL);
	splk_test_on_cpu(b, nt_free_fn, bb);
	splk_test_on_cpu(a, nt_free_fn, held);
}

/*
 * Two nodes: a leaves free objects on its node's slabs; b's KM_SLEEP
 * allocation grows a slab of its own rather than take them, and a
 * KM_NOSLEEP one (which may not wait for growth) takes them rather than
 * an emergency page.
 */
static void numa_slabs_per_node(struct kunit *test)
{
	struct splk_test_cache *c;
	struct splk_cache_stats *st = nt_stats(test, 3);
	struct nt_batch *ba, *bs, *bn;
	int a, b;

	if (!nt_two_nodes(&a, &b))
		kunit_skip(test, "needs an even and an odd online CPU");
	splk_test_set_param(test, &splk_test_hooks.fake_nodes, 2);
	c = splk_test_cache_create(test, "splk_nt_slabs", 256, 0, NULL, NULL, NULL, KMC_KVMEM);
	ba = nt_batch(test, c, 1);
	splk_test_on_cpu(a, nt_alloc_fn, ba);
	KUNIT_ASSERT_EQ(test, ba->got, 1U);
	/* a's magazine back to its slabs: a partial slab on a's node. */
	splk_test_reap_on_cpu(a, c->skc);
	splk_test_cache_stats(test, c, &st[0]);
	KUNIT_ASSERT_GT(test, st[0].obj_total, st[0].obj_alloc);

	bs = nt_batch(test, c, 1);
	splk_test_on_cpu(b, nt_alloc_fn, bs);
	KUNIT_ASSERT_EQ(test, bs->got, 1U);
	splk_test_cache_stats(test, c, &st[1]);
	KUNIT_EXPECT_GT(test, st[1].slab_create, st[0].slab_create);

	/* Empty b's magazines and depot part, keep a's objects in its slabs. */
	splk_test_on_cpu(b, nt_free_fn, bs);
	bs->objs[0] = NULL;
	splk_test_reap_on_cpu(b, c->skc);
	bn = nt_batch(test, c, 1);
	bn->km_flags = KM_NOSLEEP;
	splk_test_cache_stats(test, c, &st[1]);
	if (st[1].obj_total - st[1].obj_alloc == 0)
		kunit_skip(test, "the reap left no free slab object to take");
	splk_test_on_cpu(b, nt_alloc_fn, bn);
	KUNIT_ASSERT_EQ(test, bn->got, 1U);
	splk_test_cache_stats(test, c, &st[2]);
	KUNIT_EXPECT_EQ(test, st[2].obj_emergency, 0ULL);
	KUNIT_EXPECT_EQ(test, st[2].slab_create, st[1].slab_create);
	splk_test_on_cpu(b, nt_free_fn, bn);
	splk_test_on_cpu(a, nt_free_fn, ba);
}

/* A reap and the statistics see both nodes' depot parts. */
static void numa_reclaim_sees_every_part(struct kunit *test)
{
	struct splk_test_cache *c;
	struct splk_cache_stats *st = nt_stats(test, 2);
	struct nt_batch *ba, *bb;
	int a, b;

	if (!nt_two_nodes(&a, &b))
		kunit_skip(test, "needs an even and an odd online CPU");
	splk_test_set_param(test, &splk_test_hooks.fake_nodes, 2);
	c = splk_test_cache_create(test, "splk_nt_reap", 512, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_cache_stats(test, c, &st[0]);
	ba = nt_batch(test, c, 4 * st[0].mag_size);
	bb = nt_batch(test, c, 4 * st[0].mag_size);
	/* Each CPU cycles its own objects: full magazines in both parts. */
	splk_test_on_cpu(a, nt_alloc_fn, ba);
	splk_test_on_cpu(b, nt_alloc_fn, bb);
	splk_test_on_cpu(a, nt_free_fn, ba);
	splk_test_on_cpu(b, nt_free_fn, bb);
	splk_test_cache_stats(test, c, &st[0]);
	KUNIT_EXPECT_GE(test, st[0].depot_full, 2ULL);
	KUNIT_EXPECT_EQ(test, st[0].depot_objs, st[0].depot_full * st[0].mag_size);

	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &st[1]);
	KUNIT_EXPECT_EQ(test, st[1].depot_full, 0ULL);
	KUNIT_EXPECT_EQ(test, st[1].depot_objs, 0ULL);
	KUNIT_EXPECT_EQ(test, st[1].obj_alloc, 0ULL);
	KUNIT_EXPECT_EQ(test, st[1].slab_total, 0ULL);
}

static struct kunit_case numa_cases[] = {
	KUNIT_CASE(numa_one_node_one_depot),
	KUNIT_CASE(numa_depot_per_node),
	KUNIT_CASE(numa_slabs_per_node),
	KUNIT_CASE(numa_reclaim_sees_every_part),
	{}
};

static struct kunit_suite numa_suite = {
	.name = "splkmem_numa",
	.exit = splk_test_exit,
	.test_cases = numa_cases,
};

kunit_test_suites(&numa_suite);
