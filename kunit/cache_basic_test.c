// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_cache_basic: the SPL object cache used as documented.  Objects of
 * every size, alignment and cache type; constructors and destructors;
 * statistics, reaping, magazine and slab sizing; /proc/spl/kmem/slab and
 * the module parameters read at cache creation.
 */
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "splkmem_test.h"

/* Header of a vmalloc-backed slab: at most one cache line (slab.hpp). */
#define CB_SLAB_HEADER_MAX	64
/* Per-object tag in front of every object of a vmalloc-backed slab. */
#define CB_TAG_SIZE		8
#define CB_MIN_ALIGN		8

/* ---- Helpers ------------------------------------------------------------ */

/* Bytes from one object to the next with its tag before it (SPL's size). */
static u64 cb_spl_stride(size_t size, size_t align)
{
	u64 a = max_t(u64, align, CB_MIN_ALIGN);

	return round_up(round_up((u64)size, CB_MIN_ALIGN) + CB_TAG_SIZE, a);
}

/*
 * The tags move into the slab header when the one before an object would
 * cost a page or more of padding (slab_layout.hpp).
 */
static bool cb_header_tags(size_t size, size_t align)
{
	u64 a = max_t(u64, align, CB_MIN_ALIGN);

	return cb_spl_stride(size, align) - round_up(round_up((u64)size, CB_MIN_ALIGN), a) >=
	       PAGE_SIZE;
}

/* Bytes from one object to the next in a vmalloc-backed slab. */
static u64 cb_stride(size_t size, size_t align)
{
	u64 a = max_t(u64, align, CB_MIN_ALIGN);

	if (cb_header_tags(size, align))
		return round_up(round_up((u64)size, CB_MIN_ALIGN), a);
	return cb_spl_stride(size, align);
}

static int cb_cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a;
	uintptr_t y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sorts a copy of @objs and checks that no two of the @n objects of @size
 * bytes share a byte.  Returns false (after failing the test) if they do.
 */
static bool cb_expect_disjoint(struct kunit *test, void **objs, size_t n,
			       size_t size)
{
	uintptr_t *sorted;
	size_t i;

	sorted = kunit_kmalloc_array(test, n ? n : 1, sizeof(*sorted), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sorted);
	for (i = 0; i < n; i++)
		sorted[i] = (uintptr_t)objs[i];
	sort(sorted, n, sizeof(*sorted), cb_cmp_ptr, NULL);
	for (i = 1; i < n; i++) {
		if (sorted[i - 1] + size > sorted[i]) {
			KUNIT_FAIL(test, "objects at %lx and %lx (size %zu) overlap",
				   sorted[i - 1], sorted[i], size);
			kunit_kfree(test, sorted);
			return false;
		}
	}
	kunit_kfree(test, sorted);
	return true;
}

/* ---- Sizes, alignments and cache types ---------------------------------- */

static const size_t cb_sizes[] = {
	1, 8, 63, 64, 100, 512, 4096, 5000, 16384, 65536, 262144, 1 << 20,
};

static const size_t cb_aligns[] = { 0, 8, 64, 4096 };

struct cb_geometry {
	size_t size;
	size_t align;
};

static struct cb_geometry cb_geometries[ARRAY_SIZE(cb_sizes) * ARRAY_SIZE(cb_aligns)];

static const void *cb_geometry_gen(SPLK_KUNIT_GEN(prev, desc))
{
	const struct cb_geometry *g = prev;
	size_t i = g ? g - cb_geometries + 1 : 0;

	if (i >= ARRAY_SIZE(cb_geometries))
		return NULL;
	cb_geometries[i].size = cb_sizes[i / ARRAY_SIZE(cb_aligns)];
	cb_geometries[i].align = cb_aligns[i % ARRAY_SIZE(cb_aligns)];
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "size %zu align %zu",
		 cb_geometries[i].size, cb_geometries[i].align);
	return &cb_geometries[i];
}

static u8 cb_pattern(size_t i)
{
	return 0x11 + (i % 0xe0);
}

/* About 3 slabs' worth of objects, at most about 8 MiB of them. */
static size_t cb_object_count(const struct splk_cache_stats *st, size_t size,
			      size_t align)
{
	u64 stride = cb_stride(size, align);

	if (st->flags & KMC_KVMEM)
		return min_t(u64, 3 * st->slab_objs,
			     max_t(u64, st->slab_objs + 1, SZ_8M / stride));
	return min_t(size_t, max_t(size_t, 24, 3 * PAGE_SIZE / round_up(size, 8)),
		     SZ_8M / size);
}

static void cb_fill_and_check(struct kunit *test, size_t size, size_t align,
			      int flags, unsigned long want_type)
{
	const size_t min_align = max_t(size_t, align, CB_MIN_ALIGN);
	const size_t check = min_t(size_t, size, 256);
	unsigned long warnings = splk_warning_count();
	struct splk_cache_stats st;
	size_t count, i, misaligned = 0;
	struct splk_test_cache *c;
	void **objs;

	c = splk_test_cache_create(test, "splk_basic", size, align, NULL, NULL, NULL, flags);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ_MSG(test, st.flags & (KMC_SLAB | KMC_KVMEM), want_type,
			    "size %zu flags 0x%x", size, flags);
	KUNIT_EXPECT_EQ(test, st.obj_size, size);
	KUNIT_EXPECT_EQ(test, st.obj_align, min_align);
	if (st.flags & KMC_KVMEM)
		KUNIT_ASSERT_GE(test, st.slab_objs, 1);

	count = cb_object_count(&st, size, align);
	objs = kunit_kcalloc(test, count, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);

	for (i = 0; i < count; i++) {
		objs[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		if (!objs[i]) {
			KUNIT_FAIL(test, "KM_SLEEP allocation %zu returned NULL", i);
			break;
		}
		if (!IS_ALIGNED((uintptr_t)objs[i], min_align) && !misaligned++)
			KUNIT_FAIL(test, "object %p not aligned to %zu", objs[i], min_align);
		memset(objs[i], cb_pattern(i), size);
	}
	count = i;

	/* Every object still holds its own pattern at both ends. */
	for (i = 0; i < count; i++) {
		if (memchr_inv(objs[i], cb_pattern(i), check) ||
		    memchr_inv(objs[i] + size - check, cb_pattern(i), check)) {
			KUNIT_FAIL(test, "object %zu at %p was overwritten", i, objs[i]);
			break;
		}
	}
	cb_expect_disjoint(test, objs, count, size);

	splk_test_cache_stats(test, c, &st);
	if (st.flags & KMC_KVMEM) {
		/*
		 * Each object is from a slab or an emergency object (growing
		 * was slow); objects out of the slabs are the caller's or in
		 * a magazine.  Only allocations happened, and a refill takes
		 * from the fullest slab first: one slab at most is partly used.
		 */
		KUNIT_EXPECT_EQ(test, st.obj_alloc + st.obj_emergency, count + st.mag_objs);
		KUNIT_EXPECT_EQ(test, st.obj_total, st.slab_total * st.slab_objs + st.obj_emergency);
		KUNIT_EXPECT_EQ(test, st.slab_alloc, DIV_ROUND_UP(st.obj_alloc, st.slab_objs));
		KUNIT_EXPECT_LE(test, st.slab_alloc, st.slab_total);
		KUNIT_EXPECT_EQ(test, st.slab_create, st.slab_total);
		KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), st.obj_total);
	} else {
		KUNIT_EXPECT_EQ(test, st.linux_alloc, count);
		KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), count);
	}

	for (i = 0; i < count; i++)
		spl_kmem_cache_free(c->skc, objs[i]);
	splk_test_cache_stats(test, c, &st);
	if (st.flags & KMC_KVMEM) {
		/* Every slab object is back in a slab or a magazine. */
		KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);
		KUNIT_EXPECT_EQ(test, st.obj_emergency, 0);
		splk_test_reap_all_cpus(c->skc);
		splk_test_cache_stats(test, c, &st);
		KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);
		KUNIT_EXPECT_EQ(test, st.mag_objs, 0);
		KUNIT_EXPECT_EQ(test, st.slab_total, 0);
		KUNIT_EXPECT_EQ(test, st.obj_total, 0);
		KUNIT_EXPECT_EQ(test, st.slab_destroy, st.slab_create);
	} else {
		KUNIT_EXPECT_EQ(test, st.linux_alloc, 0);
	}
	splk_test_cache_destroy(test, c);
	kunit_kfree(test, objs);
	/* Nothing in there was a misuse: no warning. */
	KUNIT_EXPECT_EQ(test, splk_warning_count(), warnings);
}

static void cache_sizes_aligns_types(struct kunit *test)
{
	const struct cb_geometry *g = test->param_value;
	unsigned int limit = READ_ONCE(spl_kmem_cache_slab_limit);
	bool slab_ok = limit && g->size <= limit;

	cb_fill_and_check(test, g->size, g->align, KMC_KVMEM, KMC_KVMEM);
	if (slab_ok && g->size <= 16384)
		cb_fill_and_check(test, g->size, g->align, KMC_SLAB, KMC_SLAB);
	/* No type asked for: chosen by size against spl_kmem_cache_slab_limit. */
	cb_fill_and_check(test, g->size, g->align, 0, slab_ok ? KMC_SLAB : KMC_KVMEM);
}

/* ---- Constructor and destructor ------------------------------------------ */

struct cb_cd_state {
	unsigned int ctors;
	unsigned int dtors;
	void *ctor_obj;
	void *ctor_priv;
	int ctor_flags;
	void *dtor_obj;
	void *dtor_priv;
};

/* Only the test thread allocates from these caches. */
static struct cb_cd_state cb_cd;

static int cb_ctor(void *obj, void *priv, int flags)
{
	cb_cd.ctors++;
	cb_cd.ctor_obj = obj;
	cb_cd.ctor_priv = priv;
	cb_cd.ctor_flags = flags;
	return 0;
}

static void cb_dtor(void *obj, void *priv)
{
	cb_cd.dtors++;
	cb_cd.dtor_obj = obj;
	cb_cd.dtor_priv = priv;
}

static void cb_ctor_dtor_one(struct kunit *test, int cache_flags)
{
	static const int km_flags[] = { KM_SLEEP, KM_PUSHPAGE, KM_NOSLEEP };
	const unsigned int n = 200;
	unsigned int allocated = 0, i;
	struct splk_test_cache *c;
	void **objs;
	void *priv;

	priv = kunit_kzalloc(test, 32, GFP_KERNEL);
	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, priv);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	memset(&cb_cd, 0, sizeof(cb_cd));

	c = splk_test_cache_create(test, "splk_ctor", 200, 0, cb_ctor, cb_dtor, priv, cache_flags);
	KUNIT_EXPECT_EQ(test, cb_cd.ctors, 0);

	for (i = 0; i < n; i++) {
		int flags = km_flags[i % ARRAY_SIZE(km_flags)];
		void *obj = spl_kmem_cache_alloc(c->skc, flags);

		if (!obj) {
			/* Only KM_NOSLEEP may fail; then no constructor ran. */
			KUNIT_EXPECT_EQ(test, flags, KM_NOSLEEP);
			KUNIT_EXPECT_EQ(test, cb_cd.ctors, allocated);
			continue;
		}
		objs[allocated++] = obj;
		KUNIT_EXPECT_EQ(test, cb_cd.ctors, allocated);
		KUNIT_EXPECT_PTR_EQ(test, cb_cd.ctor_obj, obj);
		KUNIT_EXPECT_PTR_EQ(test, cb_cd.ctor_priv, priv);
		KUNIT_EXPECT_EQ(test, cb_cd.ctor_flags, flags);
	}
	KUNIT_EXPECT_GE(test, allocated, n * 2 / 3);
	KUNIT_EXPECT_EQ(test, cb_cd.dtors, 0);

	for (i = 0; i < allocated; i++) {
		spl_kmem_cache_free(c->skc, objs[i]);
		KUNIT_EXPECT_EQ(test, cb_cd.dtors, i + 1);
		KUNIT_EXPECT_PTR_EQ(test, cb_cd.dtor_obj, objs[i]);
		KUNIT_EXPECT_PTR_EQ(test, cb_cd.dtor_priv, priv);
	}
	KUNIT_EXPECT_EQ(test, cb_cd.ctors, allocated);
	KUNIT_EXPECT_EQ(test, cb_cd.dtors, allocated);

	/* Destroying the cache runs no more constructors or destructors. */
	splk_test_cache_destroy(test, c);
	KUNIT_EXPECT_EQ(test, cb_cd.ctors, allocated);
	KUNIT_EXPECT_EQ(test, cb_cd.dtors, allocated);
}

static void cache_ctor_dtor_kvmem(struct kunit *test)
{
	cb_ctor_dtor_one(test, KMC_KVMEM);
}

static void cache_ctor_dtor_slab(struct kunit *test)
{
	cb_ctor_dtor_one(test, KMC_SLAB);
}

/* ---- No object handed out twice ------------------------------------------ */

static void cb_no_double_handout(struct kunit *test, int flags)
{
	const size_t n = 1500, size = 96;
	struct splk_test_cache *c;
	void **objs;
	size_t i;

	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	c = splk_test_cache_create(test, "splk_unique", size, 0, NULL, NULL, NULL, flags);

	for (i = 0; i < n; i++) {
		objs[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
	cb_expect_disjoint(test, objs, n, size);

	/* Free every other object, then allocate as many again. */
	for (i = 0; i < n; i += 2)
		spl_kmem_cache_free(c->skc, objs[i]);
	for (i = 0; i < n; i += 2) {
		objs[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
	cb_expect_disjoint(test, objs, n, size);

	for (i = 0; i < n; i++)
		spl_kmem_cache_free(c->skc, objs[i]);
	splk_test_cache_destroy(test, c);
}

static void cache_no_object_handed_out_twice_kvmem(struct kunit *test)
{
	cb_no_double_handout(test, KMC_KVMEM);
}

static void cache_no_object_handed_out_twice_slab(struct kunit *test)
{
	cb_no_double_handout(test, KMC_SLAB);
}

/* ---- Statistics and reaping ------------------------------------------------ */

static void cb_alloc_n(struct kunit *test, struct splk_test_cache *c, void **objs,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		objs[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
}

static void cb_free_n(struct splk_test_cache *c, void **objs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		spl_kmem_cache_free(c->skc, objs[i]);
}

static void cache_stats_track_objects(struct kunit *test)
{
	const size_t n = 300;
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	void **objs;

	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	c = splk_test_cache_create(test, "splk_stats", 128, 0, NULL, NULL, NULL, KMC_KVMEM);

	/* A fresh cache has no slab. */
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0);
	KUNIT_EXPECT_EQ(test, st.slab_create, 0);
	KUNIT_EXPECT_EQ(test, st.obj_total, 0);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);

	cb_alloc_n(test, c, objs, n);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_GT(test, st.obj_alloc, 0);
	/*
	 * Objects out of the slabs are with the caller or in a magazine; the
	 * caller may also hold emergency objects (a slow grow), which are
	 * counted in obj_total but not in obj_alloc.
	 */
	KUNIT_EXPECT_EQ(test, st.obj_alloc + st.obj_emergency, n + st.mag_objs);
	KUNIT_EXPECT_GT(test, st.slab_total, 0);
	KUNIT_EXPECT_GT(test, st.slab_create, 0);
	KUNIT_EXPECT_EQ(test, st.obj_total, st.slab_total * st.slab_objs + st.obj_emergency);
	KUNIT_EXPECT_GE(test, st.obj_total, n);
	KUNIT_EXPECT_LE(test, st.slab_alloc, st.slab_total);
	KUNIT_EXPECT_GE(test, st.obj_max, st.obj_alloc);

	cb_free_n(c, objs, n);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0);
	KUNIT_EXPECT_EQ(test, st.mag_objs, 0);
	KUNIT_EXPECT_EQ(test, st.obj_total, 0);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 0);
	KUNIT_EXPECT_EQ(test, st.slab_alloc, 0);
	splk_test_cache_destroy(test, c);
}

static void cache_reap_returns_slabs(struct kunit *test)
{
	const size_t n = 200;
	struct splk_cache_stats before, after;
	struct splk_test_cache *c;
	void **objs;

	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	c = splk_test_cache_create(test, "splk_reap", 1000, 0, NULL, NULL, NULL, KMC_KVMEM);

	cb_alloc_n(test, c, objs, n);
	cb_free_n(c, objs, n);
	/* The magazines keep objects, so their slabs are still there. */
	splk_test_cache_stats(test, c, &before);
	KUNIT_ASSERT_GT(test, before.mag_objs, 0);
	KUNIT_ASSERT_GT(test, before.slab_total, 0);

	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &after);
	KUNIT_EXPECT_EQ(test, after.slab_destroy - before.slab_destroy, before.slab_total);
	KUNIT_EXPECT_EQ(test, after.slab_total, 0);
	KUNIT_EXPECT_EQ(test, after.slab_create, before.slab_create);
	splk_test_cache_destroy(test, c);
}

struct cb_xcpu {
	spl_kmem_cache_t *skc;
	void **objs;
	size_t n;
	size_t done;
};

static long cb_xcpu_alloc(void *arg)
{
	struct cb_xcpu *x = arg;

	for (x->done = 0; x->done < x->n; x->done++) {
		x->objs[x->done] = spl_kmem_cache_alloc(x->skc, KM_SLEEP);
		if (!x->objs[x->done])
			break;
	}
	return 0;
}

static long cb_xcpu_free(void *arg)
{
	struct cb_xcpu *x = arg;
	size_t i;

	for (i = 0; i < x->done; i++)
		spl_kmem_cache_free(x->skc, x->objs[i]);
	return 0;
}

static void cache_cross_cpu_free(struct kunit *test)
{
	struct splk_cache_stats st;
	struct cb_xcpu x = { .n = 600 };
	struct splk_test_cache *c;
	unsigned int cpu0, cpu1;

	cpu0 = cpumask_first(cpu_online_mask);
	cpu1 = cpumask_next(cpu0, cpu_online_mask);
	if (cpu1 >= nr_cpu_ids)
		kunit_skip(test, "needs two online CPUs");

	x.objs = kunit_kcalloc(test, x.n, sizeof(*x.objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x.objs);
	c = splk_test_cache_create(test, "splk_xcpu", 128, 0, NULL, NULL, NULL, KMC_KVMEM);
	x.skc = c->skc;

	splk_test_on_cpu(cpu0, cb_xcpu_alloc, &x);
	KUNIT_ASSERT_EQ(test, x.done, x.n);
	splk_test_on_cpu(cpu1, cb_xcpu_free, &x);

	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);
	KUNIT_EXPECT_GT(test, st.mag_objs, 0);

	splk_test_reap_on_cpu(cpu0, c->skc);
	splk_test_reap_on_cpu(cpu1, c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0);
	KUNIT_EXPECT_EQ(test, st.mag_objs, 0);
	splk_test_cache_destroy(test, c);
}

/*
 * A refill takes from the fullest partial slab (partial_slabs.hpp), so the
 * emptiest drains and is freed.  Four slabs of 8 are left holding 1, 7, 3
 * and 5 objects; a refill of 8 must take 1 from the second, 3 from the
 * fourth, 4 from the third and none from the first, which then empties.
 */
#define CB_FULLEST_SLABS 4
#define CB_FULLEST_OBJS 8

static int cb_slab_index(void **first, void *obj)
{
	int i;

	for (i = 0; i < CB_FULLEST_SLABS * CB_FULLEST_OBJS; i++)
		if (first[i] == obj)
			return i / CB_FULLEST_OBJS;
	return -1;
}

static void cache_refill_takes_fullest_slab(struct kunit *test)
{
	static const unsigned int keep[CB_FULLEST_SLABS] = { 1, 7, 3, 5 };
	static const unsigned int taken[CB_FULLEST_SLABS] = { 0, 1, 4, 3 };
	const unsigned int n = CB_FULLEST_SLABS * CB_FULLEST_OBJS;
	unsigned int per_slab[CB_FULLEST_SLABS] = { 0 };
	struct cb_xcpu x = { .n = CB_FULLEST_OBJS };
	struct splk_cache_stats *st;
	struct splk_test_cache *c;
	unsigned int cpu = cpumask_first(cpu_online_mask);
	void **first, *refill[CB_FULLEST_OBJS];
	unsigned int s, i;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	first = kunit_kcalloc(test, n, sizeof(*first), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_NOT_NULL(test, first);
	/* Refills of half a magazine: one whole slab of 8 at a time. */
	splk_test_set_param(test, &spl_kmem_cache_magazine_size, 2 * CB_FULLEST_OBJS);
	splk_test_set_param(test, &spl_kmem_cache_obj_per_slab, CB_FULLEST_OBJS);
	c = splk_test_cache_create(test, "splk_fullest", SZ_32K, 0, NULL, NULL, NULL, KMC_KVMEM);
	x.skc = c->skc;
	splk_test_cache_stats(test, c, st);
	KUNIT_ASSERT_EQ(test, st->slab_objs, CB_FULLEST_OBJS);

	/* On one CPU, each batch of 8 empties one new slab into a magazine. */
	for (s = 0; s < CB_FULLEST_SLABS; s++) {
		x.objs = first + s * CB_FULLEST_OBJS;
		splk_test_on_cpu(cpu, cb_xcpu_alloc, &x);
		KUNIT_ASSERT_EQ(test, x.done, x.n);
		splk_test_cache_stats(test, c, st);
		KUNIT_ASSERT_EQ(test, st->slab_total, s + 1);
		KUNIT_ASSERT_EQ(test, st->slab_alloc, s + 1);
		KUNIT_ASSERT_EQ(test, st->mag_objs, 0);
	}
	for (s = 0; s < CB_FULLEST_SLABS; s++)
		for (i = keep[s]; i < CB_FULLEST_OBJS; i++)
			spl_kmem_cache_free(c->skc, first[s * CB_FULLEST_OBJS + i]);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, st);
	KUNIT_ASSERT_EQ(test, st->obj_alloc, 1 + 7 + 3 + 5);
	KUNIT_ASSERT_EQ(test, st->slab_total, CB_FULLEST_SLABS);

	x.objs = refill;
	splk_test_on_cpu(cpu, cb_xcpu_alloc, &x);
	KUNIT_ASSERT_EQ(test, x.done, x.n);
	for (i = 0; i < CB_FULLEST_OBJS; i++) {
		int slab = cb_slab_index(first, refill[i]);

		KUNIT_ASSERT_GE_MSG(test, slab, 0, "object %p is not from the first slabs",
				    refill[i]);
		per_slab[slab]++;
	}
	for (s = 0; s < CB_FULLEST_SLABS; s++)
		KUNIT_EXPECT_EQ_MSG(test, per_slab[s], taken[s],
				    "slab %u (held %u of 8): objects the refill took", s, keep[s]);

	/* The first slab's last object back: that slab is empty and freed. */
	spl_kmem_cache_free(c->skc, first[0]);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, st);
	KUNIT_EXPECT_EQ(test, st->slab_total, CB_FULLEST_SLABS - 1);
	KUNIT_EXPECT_EQ(test, st->slab_destroy, 1);

	for (i = 0; i < CB_FULLEST_OBJS; i++)
		spl_kmem_cache_free(c->skc, refill[i]);
	for (s = 1; s < CB_FULLEST_SLABS; s++)
		for (i = 0; i < keep[s]; i++)
			spl_kmem_cache_free(c->skc, first[s * CB_FULLEST_OBJS + i]);
	splk_test_cache_destroy(test, c);
}

/* ---- Magazine and slab sizing ---------------------------------------------- */

struct cb_mag_case {
	size_t size;
	size_t align;
	u64 mag_size;
};

static void cache_magazine_sizing(struct kunit *test)
{
	/*
	 * SPL's table, by the object's stride (size + tag, aligned), halved
	 * over a page (magazine.hpp): two magazines a CPU hold what SPL's one
	 * does.
	 */
	const struct cb_mag_case cases[] = {
		{ 8, 0, 256 },
		{ PAGE_SIZE / 4 - CB_TAG_SIZE, 0, 256 },	/* stride PAGE_SIZE / 4 */
		{ PAGE_SIZE / 4 - 7, 0, 128 },
		{ 100, PAGE_SIZE / 2, 128 },			/* stride PAGE_SIZE / 2 */
		{ PAGE_SIZE - CB_TAG_SIZE, 0, 128 },		/* stride PAGE_SIZE */
		{ PAGE_SIZE - 7, 0, 32 },
		{ PAGE_SIZE - CB_TAG_SIZE, PAGE_SIZE, 128 },
		{ PAGE_SIZE, PAGE_SIZE, 32 },			/* stride 2 pages */
		{ 32 * PAGE_SIZE - CB_TAG_SIZE, 0, 32 },	/* stride 32 pages */
		{ 32 * PAGE_SIZE - 7, 0, 8 },
		{ 32 * PAGE_SIZE, 0, 8 },
		{ 256 * PAGE_SIZE - CB_TAG_SIZE, 0, 8 },	/* stride 256 pages */
		{ 256 * PAGE_SIZE - 7, 0, 2 },
		{ 256 * PAGE_SIZE, 0, 2 },
	};
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	size_t i;

	if (READ_ONCE(spl_kmem_cache_magazine_size) != 0)
		kunit_skip(test, "spl_kmem_cache_magazine_size is set");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		c = splk_test_cache_create(test, "splk_mag", cases[i].size, cases[i].align,
			      NULL, NULL, NULL, KMC_KVMEM);
		splk_test_cache_stats(test, c, &st);
		KUNIT_EXPECT_EQ_MSG(test, st.mag_size, cases[i].mag_size,
				    "size %zu align %zu stride %llu", cases[i].size,
				    cases[i].align, cb_spl_stride(cases[i].size, cases[i].align));
		KUNIT_EXPECT_EQ(test, st.mag_refill, (st.mag_size + 1) / 2);
		splk_test_cache_destroy(test, c);
	}
}

static void cache_slab_layout(struct kunit *test)
{
	static const size_t sizes[] = {
		1, 8, 64, 100, 1000, 4096, 5000, 65536, 300000, 1 << 20, 4 << 20,
	};
	unsigned int target = READ_ONCE(spl_kmem_cache_obj_per_slab);
	u64 max_bytes = (u64)READ_ONCE(spl_kmem_cache_max_size) << 20;
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < ARRAY_SIZE(cb_aligns); j++) {
			size_t size = sizes[i], align = cb_aligns[j];
			u64 stride = cb_stride(size, align);
			/*
			 * Object 0 comes after the header and its own tag, or
			 * after the header and every object's tag.
			 */
			u64 first_max = round_up(CB_SLAB_HEADER_MAX + CB_TAG_SIZE,
						 max_t(u64, align, CB_MIN_ALIGN));

			c = splk_test_cache_create(test, "splk_layout", size, align, NULL, NULL,
				      NULL, KMC_KVMEM);
			splk_test_cache_stats(test, c, &st);
			if (cb_header_tags(size, align))
				first_max = round_up(CB_SLAB_HEADER_MAX +
						     CB_TAG_SIZE * max_t(u64, st.slab_objs, target),
						     max_t(u64, align, CB_MIN_ALIGN));
			KUNIT_EXPECT_EQ_MSG(test, st.slab_size % PAGE_SIZE, 0,
					    "size %zu align %zu", size, align);
			KUNIT_EXPECT_GE_MSG(test, st.slab_objs, 1,
					    "size %zu align %zu", size, align);
			KUNIT_EXPECT_LT_MSG(test, st.slab_objs * stride, st.slab_size,
					    "size %zu align %zu", size, align);
			/* No slack where another object would fit. */
			KUNIT_EXPECT_GT_MSG(test, (st.slab_objs + 1) * stride + first_max,
					    st.slab_size, "size %zu align %zu", size, align);
			KUNIT_EXPECT_LE_MSG(test, st.slab_size, max_bytes,
					    "size %zu align %zu", size, align);
			if (first_max + target * stride <= max_bytes)
				KUNIT_EXPECT_GE_MSG(test, st.slab_objs, target,
						    "size %zu align %zu", size, align);
			/* Slabs are only allocated on demand. */
			KUNIT_EXPECT_EQ(test, st.slab_total, 0);
			splk_test_cache_destroy(test, c);
		}
	}
}

/*
 * Page-aligned objects whose size is a page multiple (ZFS's zio buffers)
 * keep their tags in the slab header: the slab is one page of header and
 * tags plus the objects back to back (SPL's layout takes a page more per
 * object), every object is page aligned and wholly the caller's, and the
 * books balance through a fill, a full overwrite, frees and a reap.
 */
static void cache_header_tags_layout(struct kunit *test)
{
	const size_t size = SZ_128K;
	unsigned long warnings = splk_warning_count();
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	size_t n, i, adjacent = 0;
	uintptr_t *sorted;
	void **objs;

	KUNIT_ASSERT_TRUE(test, cb_header_tags(size, PAGE_SIZE));
	c = splk_test_cache_create(test, "splk_htags", size, PAGE_SIZE, NULL, NULL, NULL,
				   KMC_KVMEM);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_objs, READ_ONCE(spl_kmem_cache_obj_per_slab));
	KUNIT_EXPECT_EQ(test, st.slab_size, PAGE_SIZE + st.slab_objs * size);
	KUNIT_EXPECT_LT(test, st.slab_size,
			round_up(CB_SLAB_HEADER_MAX + CB_TAG_SIZE, PAGE_SIZE) +
			st.slab_objs * cb_spl_stride(size, PAGE_SIZE));

	n = 2 * st.slab_objs;
	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	sorted = kunit_kcalloc(test, n, sizeof(*sorted), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	KUNIT_ASSERT_NOT_NULL(test, sorted);
	for (i = 0; i < n; i++) {
		objs[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((uintptr_t)objs[i], PAGE_SIZE));
		memset(objs[i], cb_pattern(i), size);
		sorted[i] = (uintptr_t)objs[i];
	}
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_NULL_MSG(test, memchr_inv(objs[i], cb_pattern(i), size),
				      "object %zu", i);
	cb_expect_disjoint(test, objs, n, size);
	/*
	 * Two slabs' worth: objects of one slab with no gap between them (a
	 * tag before each would put a page between neighbours).
	 */
	sort(sorted, n, sizeof(*sorted), cb_cmp_ptr, NULL);
	for (i = 1; i < n; i++)
		adjacent += sorted[i] - sorted[i - 1] == size;
	splk_test_cache_stats(test, c, &st);
	if (st.obj_emergency == 0)
		KUNIT_EXPECT_GE(test, adjacent, 1);

	for (i = 0; i < n; i++)
		spl_kmem_cache_free(c->skc, objs[i]);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0);
	KUNIT_EXPECT_EQ(test, splk_warning_count(), warnings);
	splk_test_cache_destroy(test, c);
}

/* ---- Accessors, /proc and spl_kmem_reap() ----------------------------------- */

static void cache_inuse_entry_size(struct kunit *test)
{
	const size_t n = 10, size = 360;
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	void *objs[10];

	c = splk_test_cache_create(test, "splk_inuse", size, 0, NULL, NULL, NULL, KMC_KVMEM);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_entry_size(c->skc), size);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0);
	cb_alloc_n(test, c, objs, n);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_GE(test, st.obj_total, n);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), st.obj_total);
	cb_free_n(c, objs, n);
	splk_test_cache_destroy(test, c);

	c = splk_test_cache_create(test, "splk_inuse", size, 0, NULL, NULL, NULL, KMC_SLAB);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_entry_size(c->skc), size);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0);
	cb_alloc_n(test, c, objs, n);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), n);
	spl_kmem_cache_free(c->skc, objs[0]);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), n - 1);
	cb_free_n(c, objs + 1, n - 1);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0);
	splk_test_cache_destroy(test, c);
}

#define CB_PROC_SIZE	SZ_32K

/* The two columns after SPL's 15: magazine size, objects in magazines. */
static void cb_proc_check_magazine(struct kunit *test, char *l,
				   const struct splk_cache_stats *st)
{
	unsigned long long mag_size = 0;
	char *cols[17];
	int n = 0;

	while (n < 17 && (cols[n] = strsep(&l, " ")))
		if (*cols[n])
			n++;
	KUNIT_ASSERT_EQ(test, n, 17);
	KUNIT_ASSERT_EQ(test, kstrtoull(cols[15], 10, &mag_size), 0);
	KUNIT_EXPECT_EQ(test, mag_size, st->mag_size);
}

static void cache_proc_slab(struct kunit *test)
{
	unsigned long long size, alloc, slab_size, obj_size;
	bool header = false, line = false;
	struct splk_cache_stats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct splk_test_cache *c;
	char *buf, *cur, *l;
	unsigned long flags;
	struct file *f;
	size_t len = 0;
	loff_t pos = 0;
	void *objs[5];
	int fields;
	ssize_t n;

	buf = kunit_kzalloc(test, CB_PROC_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, st);
	c = splk_test_cache_create(test, "splk_proc", 200, 0, NULL, NULL, NULL, KMC_KVMEM);
	cb_alloc_n(test, c, objs, ARRAY_SIZE(objs));
	splk_test_cache_stats(test, c, st);

	f = filp_open("/proc/spl/kmem/slab", O_RDONLY, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(f), "open /proc/spl/kmem/slab: %ld",
			       PTR_ERR(f));
	while (len < CB_PROC_SIZE - 1) {
		n = kernel_read(f, buf + len, CB_PROC_SIZE - 1 - len, &pos);
		if (n <= 0)
			break;
		len += n;
	}
	filp_close(f, NULL);
	cb_free_n(c, objs, ARRAY_SIZE(objs));
	KUNIT_ASSERT_LT(test, len, CB_PROC_SIZE - 1);

	cur = buf;
	while ((l = strsep(&cur, "\n")) != NULL) {
		if (str_has_prefix(l, "name ") && strstr(l, " flags ") &&
		    strstr(l, " objsize "))
			header = true;
		if (!str_has_prefix(l, c->name) || l[strlen(c->name)] != ' ')
			continue;
		line = true;
		fields = sscanf(l + strlen(c->name), " 0x%lx %llu %llu %llu %llu",
				&flags, &size, &alloc, &slab_size, &obj_size);
		KUNIT_EXPECT_EQ_MSG(test, fields, 5, "line: %s", l);
		if (fields != 5)
			continue;
		KUNIT_EXPECT_TRUE(test, flags & KMC_KVMEM);
		KUNIT_EXPECT_EQ(test, slab_size, st->slab_size);
		KUNIT_EXPECT_EQ(test, obj_size, 200);
		KUNIT_EXPECT_EQ(test, alloc, st->obj_alloc * st->obj_size);
		cb_proc_check_magazine(test, l, st);
	}
	KUNIT_EXPECT_TRUE_MSG(test, header, "no column header in /proc/spl/kmem/slab");
	KUNIT_EXPECT_TRUE_MSG(test, line, "no line for %s in /proc/spl/kmem/slab", c->name);
	splk_test_cache_destroy(test, c);
}

struct cb_kmem_reap {
	struct splk_test_cache *c[2];
	struct splk_cache_stats before[2];
	struct splk_cache_stats after[2];
	bool found;
	bool alloc_failed;
};

/* Runs on one CPU: everything goes through that CPU's magazines. */
static long cb_kmem_reap_fn(void *arg)
{
	struct cb_kmem_reap *r = arg;
	void *objs[20];
	int i, j;

	r->found = true;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < ARRAY_SIZE(objs); j++) {
			objs[j] = spl_kmem_cache_alloc(r->c[i]->skc, KM_SLEEP);
			r->alloc_failed |= !objs[j];
		}
		for (j = 0; j < ARRAY_SIZE(objs); j++)
			spl_kmem_cache_free(r->c[i]->skc, objs[j]);
		r->found &= splk_test_stats(r->c[i]->name, &r->before[i]);
	}
	spl_kmem_reap();
	for (i = 0; i < 2; i++)
		r->found &= splk_test_stats(r->c[i]->name, &r->after[i]);
	return 0;
}

static void cache_kmem_reap_all_caches(struct kunit *test)
{
	struct cb_kmem_reap *r;
	int i;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->c[0] = splk_test_cache_create(test, "splk_kreap", 128, 0, NULL, NULL, NULL, KMC_KVMEM);
	r->c[1] = splk_test_cache_create(test, "splk_kreap", 9000, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_on_cpu(cpumask_first(cpu_online_mask), cb_kmem_reap_fn, r);
	KUNIT_ASSERT_TRUE(test, r->found);
	KUNIT_ASSERT_FALSE(test, r->alloc_failed);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_GT(test, r->before[i].mag_objs, 0);
		KUNIT_EXPECT_GT(test, r->before[i].slab_total, 0);
		KUNIT_EXPECT_EQ(test, r->after[i].mag_objs, 0);
		KUNIT_EXPECT_EQ(test, r->after[i].obj_alloc, 0);
		KUNIT_EXPECT_EQ(test, r->after[i].slab_total, 0);
		splk_test_cache_destroy(test, r->c[i]);
	}
}

/* ---- Module parameters read at cache creation ------------------------------- */

static void cache_param_obj_per_slab(struct kunit *test)
{
	const size_t size = SZ_64K;
	const u64 stride = cb_stride(size, 0);
	struct splk_cache_stats st_small, st;
	struct splk_test_cache *def, *small;
	u64 default_objs;
	void *objs[3];

	def = splk_test_cache_create(test, "splk_ops", size, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_set_param(test, &spl_kmem_cache_obj_per_slab, 2);
	small = splk_test_cache_create(test, "splk_ops", size, 0, NULL, NULL, NULL, KMC_KVMEM);

	splk_test_cache_stats(test, def, &st);
	default_objs = st.slab_objs;
	splk_test_cache_stats(test, small, &st_small);
	KUNIT_EXPECT_GE(test, st_small.slab_objs, 2);
	KUNIT_EXPECT_LE(test, st_small.slab_size,
			round_up(2 * stride + CB_SLAB_HEADER_MAX + CB_TAG_SIZE, PAGE_SIZE));
	KUNIT_EXPECT_LT(test, st_small.slab_objs, default_objs);

	/* Three objects take two of the small slabs (or emergency objects). */
	cb_alloc_n(test, small, objs, ARRAY_SIZE(objs));
	splk_test_cache_stats(test, small, &st);
	KUNIT_EXPECT_EQ(test, st.obj_total, st.slab_total * st_small.slab_objs + st.obj_emergency);
	KUNIT_EXPECT_GE(test, st.obj_total, ARRAY_SIZE(objs));
	KUNIT_EXPECT_LE(test, st.slab_total,
			DIV_ROUND_UP(ARRAY_SIZE(objs), st_small.slab_objs));
	cb_free_n(small, objs, ARRAY_SIZE(objs));
	splk_test_cache_destroy(test, small);
	splk_test_cache_destroy(test, def);
}

static void cache_param_max_size(struct kunit *test)
{
	const size_t size = 300000;
	const u64 stride = cb_stride(size, 0);
	struct splk_cache_stats st;
	spl_kmem_cache_t *skc;
	struct splk_test_cache *c;

	/* Fits the default 32 MiB slab limit. */
	if (READ_ONCE(spl_kmem_cache_max_size) >= 3) {
		c = splk_test_cache_create(test, "splk_maxsz", 2 * SZ_1M, 0, NULL, NULL, NULL, KMC_KVMEM);
		splk_test_cache_destroy(test, c);
	}

	splk_test_set_param(test, &spl_kmem_cache_max_size, 1);
	c = splk_test_cache_create(test, "splk_maxsz", size, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_LE(test, st.slab_size, SZ_1M);
	KUNIT_EXPECT_GE(test, st.slab_objs, 1);
	KUNIT_EXPECT_LE(test, st.slab_objs * stride, SZ_1M);
	/* 8 objects are wanted, 3 fit. */
	KUNIT_EXPECT_EQ(test, st.slab_objs,
			min_t(u64, 3, READ_ONCE(spl_kmem_cache_obj_per_slab)));
	splk_test_cache_destroy(test, c);

	/* A 2 MiB object fits no 1 MiB slab. */
	skc = spl_kmem_cache_create("splk_maxsz_big", 2 * SZ_1M, 0, NULL, NULL,
				    NULL, NULL, NULL, KMC_KVMEM);
	KUNIT_EXPECT_NULL(test, skc);
	if (skc)
		spl_kmem_cache_destroy(skc);
}

static void cache_param_slab_limit(struct kunit *test)
{
	struct splk_cache_stats st;
	spl_kmem_cache_t *skc;
	struct splk_test_cache *c;

	splk_test_set_param(test, &spl_kmem_cache_slab_limit, 0);
	c = splk_test_cache_create(test, "splk_limit", 64, 0, NULL, NULL, NULL, 0);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.flags & (KMC_SLAB | KMC_KVMEM), KMC_KVMEM);
	splk_test_cache_destroy(test, c);

	/* With the Linux slab disabled, KMC_SLAB cannot be had. */
	skc = spl_kmem_cache_create("splk_limit_slab", 64, 0, NULL, NULL, NULL,
				    NULL, NULL, KMC_SLAB);
	KUNIT_EXPECT_NULL(test, skc);
	if (skc)
		spl_kmem_cache_destroy(skc);

	splk_test_set_param(test, &spl_kmem_cache_slab_limit, 128);
	c = splk_test_cache_create(test, "splk_limit", 128, 0, NULL, NULL, NULL, 0);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.flags & (KMC_SLAB | KMC_KVMEM), KMC_SLAB);
	splk_test_cache_destroy(test, c);
	c = splk_test_cache_create(test, "splk_limit", 129, 0, NULL, NULL, NULL, 0);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.flags & (KMC_SLAB | KMC_KVMEM), KMC_KVMEM);
	splk_test_cache_destroy(test, c);
}

static void cache_param_magazine_size(struct kunit *test)
{
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	void *objs[40];

	splk_test_set_param(test, &spl_kmem_cache_magazine_size, 4);
	c = splk_test_cache_create(test, "splk_magsz", 64, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.mag_size, 4);
	KUNIT_EXPECT_EQ(test, st.mag_refill, 2);

	/* A magazine never holds more than its size (two a CPU, the depot's). */
	cb_alloc_n(test, c, objs, ARRAY_SIZE(objs));
	cb_free_n(c, objs, ARRAY_SIZE(objs));
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_LE(test, st.cpu_objs, 2 * 4 * num_online_cpus());
	KUNIT_EXPECT_EQ(test, st.depot_objs, 4 * st.depot_full);
	splk_test_cache_destroy(test, c);

	/* Out of range values are clamped to 2..256, as in SPL. */
	splk_test_set_param(test, &spl_kmem_cache_magazine_size, 1);
	c = splk_test_cache_create(test, "splk_magsz", 64, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.mag_size, 2);
	splk_test_cache_destroy(test, c);

	splk_test_set_param(test, &spl_kmem_cache_magazine_size, 1000);
	c = splk_test_cache_create(test, "splk_magsz", 64, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.mag_size, 256);
	splk_test_cache_destroy(test, c);
}

static int cb_ctor_fill(void *obj, void *priv, int flags)
{
	memset(obj, 0x5c, 64);
	return 0;
}

/*
 * KMC_SLAB objects from a magazine follow the kernel's init_on_alloc rule
 * for caches: zeroed when the cache has no constructor and init_on_alloc
 * is on (the KUnit run boots with it), never zeroed over a constructor.
 */
static void cache_slab_init_on_alloc(struct kunit *test)
{
	/* 296 B: tagged, so objects come back through the magazine. */
	struct splk_test_cache *plain = splk_test_cache_create(test, "splk_ioa", 296, 0, NULL,
							       NULL, NULL, KMC_SLAB);
	struct splk_test_cache *ctor = splk_test_cache_create(test, "splk_ioa_ctor", 296, 0,
							      cb_ctor_fill, NULL, NULL,
							      KMC_SLAB);
	u8 *obj, *again;
	int i;

	KUNIT_ASSERT_TRUE_MSG(test, want_init_on_alloc(GFP_KERNEL),
			      "the KUnit run boots with init_on_alloc=1");
	for (i = 0; i < 3; i++) {
		obj = spl_kmem_cache_alloc(plain->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, obj);
		KUNIT_EXPECT_NULL(test, memchr_inv(obj, 0, 296));
		memset(obj, 0xa7, 296);
		spl_kmem_cache_free(plain->skc, obj);
		/* The same object, back from this CPU's magazine: zeroed again. */
		again = spl_kmem_cache_alloc(plain->skc, KM_SLEEP);
		KUNIT_EXPECT_PTR_EQ(test, again, obj);
		KUNIT_EXPECT_NULL(test, memchr_inv(again, 0, 296));
		spl_kmem_cache_free(plain->skc, again);

		obj = spl_kmem_cache_alloc(ctor->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, obj);
		KUNIT_EXPECT_NULL(test, memchr_inv(obj, 0x5c, 64));
		spl_kmem_cache_free(ctor->skc, obj);
	}
	splk_test_cache_destroy(test, ctor);
	splk_test_cache_destroy(test, plain);
}

static struct kunit_case cache_basic_cases[] = {
	KUNIT_CASE_PARAM(cache_sizes_aligns_types, cb_geometry_gen),
	KUNIT_CASE(cache_ctor_dtor_kvmem),
	KUNIT_CASE(cache_ctor_dtor_slab),
	KUNIT_CASE(cache_slab_init_on_alloc),
	KUNIT_CASE(cache_no_object_handed_out_twice_kvmem),
	KUNIT_CASE(cache_no_object_handed_out_twice_slab),
	KUNIT_CASE(cache_stats_track_objects),
	KUNIT_CASE(cache_reap_returns_slabs),
	KUNIT_CASE(cache_cross_cpu_free),
	KUNIT_CASE(cache_refill_takes_fullest_slab),
	KUNIT_CASE(cache_magazine_sizing),
	KUNIT_CASE(cache_slab_layout),
	KUNIT_CASE(cache_header_tags_layout),
	KUNIT_CASE(cache_inuse_entry_size),
	KUNIT_CASE(cache_proc_slab),
	KUNIT_CASE(cache_kmem_reap_all_caches),
	KUNIT_CASE(cache_param_obj_per_slab),
	KUNIT_CASE(cache_param_max_size),
	KUNIT_CASE(cache_param_slab_limit),
	KUNIT_CASE(cache_param_magazine_size),
	{}
};

static struct kunit_suite cache_basic_suite = {
	.name = "splkmem_cache_basic",
	.exit = splk_test_exit,
	.test_cases = cache_basic_cases,
};

kunit_test_suites(&cache_basic_suite);
