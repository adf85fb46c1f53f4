// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_cache_basic: the SPL object cache used as documented.  Objects of
 * every size, alignment and cache type; constructors and destructors;
 * init_on_alloc; no object handed out twice.  Statistics and reaping are
 * in cache_stats_test.c, magazine and slab sizing and the module
 * parameters read at creation in cache_layout_test.c.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cache_test.h"

/* ---- Sizes, alignments and cache types ---------------------------------- */

static const size_t cb_sizes[] = {
	1, 8, 63, 64, 100, 512, 4096, 5000, 16384, 65536, 262144, 1 << 20,
};

static const size_t cb_aligns[] = { CB_ALIGNS };

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
	{}
};

static struct kunit_suite cache_basic_suite = {
	.name = "splkmem_cache_basic",
	.exit = splk_test_exit,
	.test_cases = cache_basic_cases,
};

kunit_test_suites(&cache_basic_suite);
