// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_cache_layout: magazine and slab sizing (SPL's rules, header
 * tags) and the module parameters read at cache creation.
 */
#include <linux/kernel.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cache_test.h"

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
	static const size_t aligns[] = { CB_ALIGNS };
	unsigned int target = READ_ONCE(spl_kmem_cache_obj_per_slab);
	u64 max_bytes = (u64)READ_ONCE(spl_kmem_cache_max_size) << 20;
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < ARRAY_SIZE(aligns); j++) {
			size_t size = sizes[i], align = aligns[j];
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

static struct kunit_case cache_layout_cases[] = {
	KUNIT_CASE(cache_magazine_sizing),
	KUNIT_CASE(cache_slab_layout),
	KUNIT_CASE(cache_header_tags_layout),
	KUNIT_CASE(cache_param_obj_per_slab),
	KUNIT_CASE(cache_param_max_size),
	KUNIT_CASE(cache_param_slab_limit),
	KUNIT_CASE(cache_param_magazine_size),
	{}
};

static struct kunit_suite cache_layout_suite = {
	.name = "splkmem_cache_layout",
	.exit = splk_test_exit,
	.test_cases = cache_layout_cases,
};

kunit_test_suites(&cache_layout_suite);
