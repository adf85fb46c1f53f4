// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_batch: spl_kmem_cache_alloc_batch() and spl_kmem_cache_free_batch()
 * (include/sys/kmem_cache.h), on every kind of cache.
 *
 * - A batch gives distinct, usable objects, and the books afterwards say
 *   what single calls would: the objects callers hold, the constructor
 *   and destructor run once per object.
 * - A free batch checks every pointer as a single free does: foreign and
 *   double frees are reported and skipped, the rest freed.
 * - KM_NOSLEEP batches end early, never sleep, when the cache cannot grow;
 *   they work from hard interrupt context.
 * - A NULL array is refused with a warning; n == 0 does nothing.
 */
#include <linux/irq_work.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "splkmem_test.h"

#define BT_MAX 300	/* more than a magazine of any cache below */

struct bt_kind {
	const char *name;
	size_t size;
	size_t align;
	int flags;
	bool callbacks;	/* constructor and destructor */
	bool debug;
};

/*
 * The kinds with a batch path of their own (plain vmalloc, header tags,
 * untagged KMC_SLAB, tagged KMC_SLAB with or without callbacks) and those
 * served one call at a time (vmalloc caches with callbacks, the debug
 * mode).
 */
static const struct bt_kind bt_kinds[] = {
	{ "vmalloc plain 256 B", 256, 0, KMC_KVMEM, false, false },
	{ "vmalloc header tags 4 KiB", 4096, 4096, KMC_KVMEM, false, false },
	{ "vmalloc with ctor/dtor", 256, 0, KMC_KVMEM, true, false },
	{ "vmalloc debug", 256, 0, KMC_KVMEM, false, true },
	{ "KMC_SLAB untagged 64 B", 64, 0, KMC_SLAB, false, false },
	{ "KMC_SLAB tagged 232 B", 232, 0, KMC_SLAB, false, false },
	{ "KMC_SLAB with ctor/dtor", 232, 0, KMC_SLAB, true, false },
};

static void bt_kind_desc(const struct bt_kind *k, char *desc)
{
	strscpy(desc, k->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bt_kind, bt_kinds, bt_kind_desc);

static atomic_t bt_ctors, bt_dtors;

static int bt_ctor(void *obj, void *priv, int flags)
{
	atomic_inc(&bt_ctors);
	return 0;
}

static void bt_dtor(void *obj, void *priv)
{
	atomic_inc(&bt_dtors);
}

static struct splk_test_cache *bt_create(struct kunit *test, const struct bt_kind *k)
{
	splk_test_set_param(test, &spl_kmem_cache_debug, k->debug);
	atomic_set(&bt_ctors, 0);
	atomic_set(&bt_dtors, 0);
	return splk_test_cache_create(test, "splk_bt", k->size, k->align,
				      k->callbacks ? bt_ctor : NULL,
				      k->callbacks ? bt_dtor : NULL, NULL, k->flags);
}

/*
 * Objects the callers hold, by the cache's books: a KMC_SLAB cache counts
 * them (linux_alloc, spl_kmem_cache_inuse()); a vmalloc cache counts the
 * objects out of its slabs, magazines and depot included.
 */
static u64 bt_held(struct kunit *test, struct splk_test_cache *c, bool slab_kind)
{
	struct splk_cache_stats st;

	splk_test_cache_stats(test, c, &st);
	if (slab_kind)
		return st.linux_alloc;
	return st.obj_alloc - st.cpu_objs - st.depot_objs;
}

static int bt_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* Every object distinct, none NULL, each usable over its whole size. */
static void bt_expect_distinct(struct kunit *test, void **objs, size_t n, size_t size)
{
	void **sorted = kunit_kcalloc(test, n, sizeof(*sorted), GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, sorted);
	memcpy(sorted, objs, n * sizeof(*sorted));
	sort(sorted, n, sizeof(*sorted), bt_cmp, NULL);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_NOT_NULL(test, sorted[i]);
		if (i > 0)
			KUNIT_EXPECT_PTR_NE_MSG(test, sorted[i], sorted[i - 1],
						"object handed out twice in one batch");
		memset(sorted[i], 0x5a, size);
	}
}

static void batch_alloc_free_like_single_calls(struct kunit *test)
{
	static const size_t sizes[] = { 1, 8, 33, BT_MAX };
	const struct bt_kind *k = test->param_value;
	const bool slab_kind = k->flags & KMC_SLAB;
	void **objs = kunit_kcalloc(test, BT_MAX, sizeof(*objs), GFP_KERNEL);
	struct splk_test_cache *c;
	size_t i, n, got;
	u64 before;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	c = bt_create(test, k);
	before = bt_held(test, c, slab_kind);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		n = sizes[i];
		got = spl_kmem_cache_alloc_batch(c->skc, KM_SLEEP, objs, n);
		KUNIT_ASSERT_EQ(test, got, n);
		bt_expect_distinct(test, objs, n, k->size);
		KUNIT_EXPECT_EQ(test, bt_held(test, c, slab_kind), before + n);
		if (k->callbacks)
			KUNIT_EXPECT_EQ(test, atomic_read(&bt_ctors), (int)n);
		spl_kmem_cache_free_batch(c->skc, objs, n);
		KUNIT_EXPECT_EQ(test, bt_held(test, c, slab_kind), before);
		if (k->callbacks)
			KUNIT_EXPECT_EQ(test, atomic_read(&bt_dtors), (int)n);
		atomic_set(&bt_ctors, 0);
		atomic_set(&bt_dtors, 0);
	}
	/* The objects went back where single frees put them: a reap empties all. */
	splk_test_reap_all_cpus(c->skc);
	KUNIT_EXPECT_EQ(test, bt_held(test, c, slab_kind), before);
}

static void bt_vfree(void *mem)
{
	vfree(mem);
}

/*
 * A free batch with a pointer that is not the cache's and an object twice:
 * two warnings, and the valid objects are free (all come back, none twice).
 */
static void batch_free_checks_every_pointer(struct kunit *test)
{
	const struct bt_kind *k = test->param_value;
	const bool slab_kind = k->flags & KMC_SLAB;
	struct splk_test_cache *c;
	void *objs[4], *bad[6], *again[3];
	unsigned long w;
	u64 before;
	char *foreign;

	c = bt_create(test, k);
	/*
	 * Not slab memory (SLUB would take a foreign slab object behind an
	 * untagged cache and free it to its own cache, with its own warning).
	 */
	foreign = vmalloc(2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, foreign);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bt_vfree, foreign), 0);
	foreign += 64;
	before = bt_held(test, c, slab_kind);
	KUNIT_ASSERT_EQ(test, spl_kmem_cache_alloc_batch(c->skc, KM_SLEEP, objs, 3), (size_t)3);
	bad[0] = objs[0];
	bad[1] = foreign;
	bad[2] = objs[1];
	bad[3] = objs[0];	/* a second free of objs[0] */
	bad[4] = NULL;		/* as kfree(NULL): nothing */
	bad[5] = objs[2];
	/*
	 * Untagged KMC_SLAB caches cannot tell a double free (SLUB's own
	 * checks are behind them, as in SPL): no second objs[0] there.
	 */
	if (slab_kind && strstr(k->name, "untagged"))
		bad[3] = NULL;
	w = splk_test_expect_warn_begin();
	spl_kmem_cache_free_batch(c->skc, bad, ARRAY_SIZE(bad));
	splk_test_expect_warn_end(test, w, bad[3] ? 2 : 1);
	KUNIT_EXPECT_EQ(test, bt_held(test, c, slab_kind), before);
	KUNIT_EXPECT_PTR_EQ(test, bad[0], objs[0]);	/* the array is not changed */
	KUNIT_ASSERT_EQ(test, spl_kmem_cache_alloc_batch(c->skc, KM_SLEEP, again, 3), (size_t)3);
	KUNIT_EXPECT_PTR_NE(test, again[0], again[1]);
	KUNIT_EXPECT_PTR_NE(test, again[1], again[2]);
	KUNIT_EXPECT_PTR_NE(test, again[0], again[2]);
	spl_kmem_cache_free_batch(c->skc, again, 3);
}

static void bt_hooks_off(void *unused)
{
	WRITE_ONCE(splk_test_hooks.fail_slab_alloc, false);
	WRITE_ONCE(splk_test_hooks.fail_emergency_alloc, false);
}

/*
 * Growth fails: a KM_NOSLEEP batch gets what the magazines and slabs hold
 * and stops there, and the objects it got are good.
 */
static void batch_nosleep_partial_when_growth_fails(struct kunit *test)
{
	void **objs = kunit_kcalloc(test, BT_MAX, sizeof(*objs), GFP_KERNEL);
	struct splk_test_cache *c;
	size_t got;
	void *one;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	c = splk_test_cache_create(test, "splk_bt_grow", 4096, 0, NULL, NULL, NULL, KMC_KVMEM);
	/* One slab's worth, free in the slab. */
	one = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
	KUNIT_ASSERT_NOT_NULL(test, one);
	spl_kmem_cache_free(c->skc, one);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bt_hooks_off, NULL), 0);
	WRITE_ONCE(splk_test_hooks.fail_slab_alloc, true);
	WRITE_ONCE(splk_test_hooks.fail_emergency_alloc, true);
	got = spl_kmem_cache_alloc_batch(c->skc, KM_NOSLEEP, objs, BT_MAX);
	kunit_info(test, "KM_NOSLEEP batch of %d with growth failing: %zu", BT_MAX, got);
	KUNIT_EXPECT_GT(test, got, (size_t)0);
	KUNIT_EXPECT_LT(test, got, (size_t)BT_MAX);
	bt_expect_distinct(test, objs, got, 4096);
	bt_hooks_off(NULL);
	spl_kmem_cache_free_batch(c->skc, objs, got);
}

/* ---- Hard interrupt context ------------------------------------------- */

#define BT_IRQ_N 48

struct bt_irq {
	struct irq_work work;
	spl_kmem_cache_t *skc;
	void *objs[BT_IRQ_N];
	size_t got;
	bool irqs_off;
};

static void bt_irq_fn(struct irq_work *w)
{
	struct bt_irq *x = container_of(w, struct bt_irq, work);

	x->irqs_off = irqs_disabled();
	x->got = spl_kmem_cache_alloc_batch(x->skc, KM_NOSLEEP, x->objs, BT_IRQ_N);
	spl_kmem_cache_free_batch(x->skc, x->objs, x->got);
}

static void batch_nosleep_in_hard_irq(struct kunit *test)
{
	const struct bt_kind *k = test->param_value;
	struct bt_irq *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	const bool slab_kind = k->flags & KMC_SLAB;
	struct splk_test_cache *c;
	void *warm[BT_IRQ_N];
	u64 before;

	KUNIT_ASSERT_NOT_NULL(test, x);
	c = bt_create(test, k);
	before = bt_held(test, c, slab_kind);
	/* Slabs to take from: interrupt context cannot grow a vmalloc cache. */
	KUNIT_ASSERT_EQ(test, spl_kmem_cache_alloc_batch(c->skc, KM_SLEEP, warm, BT_IRQ_N),
			(size_t)BT_IRQ_N);
	spl_kmem_cache_free_batch(c->skc, warm, BT_IRQ_N);
	x->skc = c->skc;
	init_irq_work(&x->work, bt_irq_fn);
	irq_work_queue(&x->work);
	irq_work_sync(&x->work);
	KUNIT_EXPECT_TRUE(test, x->irqs_off);
	KUNIT_EXPECT_EQ(test, x->got, (size_t)BT_IRQ_N);
	KUNIT_EXPECT_EQ(test, bt_held(test, c, slab_kind), before);
}

static void batch_bad_arrays(struct kunit *test)
{
	struct splk_test_cache *c;
	unsigned long w;

	c = splk_test_cache_create(test, "splk_bt_args", 256, 0, NULL, NULL, NULL, KMC_KVMEM);
	w = splk_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_alloc_batch(c->skc, KM_SLEEP, NULL, 4), (size_t)0);
	spl_kmem_cache_free_batch(c->skc, NULL, 4);
	splk_test_expect_warn_end(test, w, 2);
	w = splk_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_alloc_batch(c->skc, KM_SLEEP, NULL, 0), (size_t)0);
	spl_kmem_cache_free_batch(c->skc, NULL, 0);
	splk_test_expect_warn_end(test, w, 0);
}

static struct kunit_case batch_cases[] = {
	KUNIT_CASE_PARAM(batch_alloc_free_like_single_calls, bt_kind_gen_params),
	KUNIT_CASE_PARAM(batch_free_checks_every_pointer, bt_kind_gen_params),
	KUNIT_CASE_PARAM(batch_nosleep_in_hard_irq, bt_kind_gen_params),
	KUNIT_CASE(batch_nosleep_partial_when_growth_fails),
	KUNIT_CASE(batch_bad_arrays),
	{}
};

static struct kunit_suite batch_suite = {
	.name = "splkmem_batch",
	.exit = splk_test_exit,
	.test_cases = batch_cases,
};

kunit_test_suite(batch_suite);
