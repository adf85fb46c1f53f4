/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the object cache suites (cache_basic_test.c,
 * cache_stats_test.c, cache_layout_test.c): the slab geometry the core
 * is expected to compute, and small allocation loops.
 */
#ifndef SPLKMEM_KUNIT_CACHE_TEST_H
#define SPLKMEM_KUNIT_CACHE_TEST_H

#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sort.h>

#include "splkmem_test.h"

/* Header of a vmalloc-backed slab: at most one cache line (slab.hpp). */
#define CB_SLAB_HEADER_MAX	64
/* Per-object tag in front of every object of a vmalloc-backed slab. */
#define CB_TAG_SIZE		8
/* The alignments every geometry test covers. */
#define CB_ALIGNS		0, 8, 64, 4096
#define CB_MIN_ALIGN		8

/* Bytes from one object to the next with its tag before it (SPL's size). */
static inline u64 cb_spl_stride(size_t size, size_t align)
{
	u64 a = max_t(u64, align, CB_MIN_ALIGN);

	return round_up(round_up((u64)size, CB_MIN_ALIGN) + CB_TAG_SIZE, a);
}

/*
 * The tags move into the slab header when the one before an object would
 * cost a page or more of padding (slab_layout.hpp).
 */
static inline bool cb_header_tags(size_t size, size_t align)
{
	u64 a = max_t(u64, align, CB_MIN_ALIGN);

	return cb_spl_stride(size, align) - round_up(round_up((u64)size, CB_MIN_ALIGN), a) >=
	       PAGE_SIZE;
}

/* Bytes from one object to the next in a vmalloc-backed slab. */
static inline u64 cb_stride(size_t size, size_t align)
{
	u64 a = max_t(u64, align, CB_MIN_ALIGN);

	if (cb_header_tags(size, align))
		return round_up(round_up((u64)size, CB_MIN_ALIGN), a);
	return cb_spl_stride(size, align);
}

static inline int cb_cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a;
	uintptr_t y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sorts a copy of @objs and checks that no two of the @n objects of @size
 * bytes share a byte.  Returns false (after failing the test) if they do.
 */
static inline bool cb_expect_disjoint(struct kunit *test, void **objs, size_t n,
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

static inline void cb_alloc_n(struct kunit *test, struct splk_test_cache *c, void **objs,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		objs[i] = spl_kmem_cache_alloc(c->skc, KM_SLEEP);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
}

static inline void cb_free_n(struct splk_test_cache *c, void **objs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		spl_kmem_cache_free(c->skc, objs[i]);
}

static inline u8 cb_pattern(size_t i)
{
	return 0x11 + (i % 0xe0);
}

#endif
