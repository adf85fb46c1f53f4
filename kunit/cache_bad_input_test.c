// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_cache_bad_input: misuse of the SPL object cache API.  Bad
 * arguments to spl_kmem_cache_create() are refused with an error message;
 * frees of foreign pointers, double frees, destroying a cache that still
 * has objects and NULL caches are reported with exactly one WARN each and
 * change nothing.
 */
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "splkmem_test.h"

/* 64 characters, one more than SPL_KMEM_CACHE_NAME_MAX. */
#define CBI_NAME_64 "splk_bad_name_64_0123456789abcdef0123456789abcdef0123456789abcde"
static_assert(sizeof(CBI_NAME_64) == SPL_KMEM_CACHE_NAME_MAX + 2);

/* Destructor calls, to check that a refused free runs no destructor. */
static atomic_t cbi_dtors = ATOMIC_INIT(0);

static void cbi_dtor(void *obj, void *priv)
{
	atomic_inc(&cbi_dtors);
}

/* Every cache of this suite counts its destructor calls. */
static struct splk_test_cache *cbi_create(struct kunit *test, const char *base,
					  size_t size, int flags)
{
	return splk_test_cache_create(test, base, size, 0, NULL, cbi_dtor, NULL, flags);
}

static void *cbi_alloc(struct kunit *test, struct splk_test_cache *c)
{
	void *obj = spl_kmem_cache_alloc(c->skc, KM_SLEEP);

	KUNIT_ASSERT_NOT_NULL(test, obj);
	return obj;
}

/*
 * Frees @ptr, which is not an allocated object of @c: exactly one warning,
 * no destructor, and the cache's books do not move.
 */
static void cbi_expect_free_refused(struct kunit *test, struct splk_test_cache *c,
				    void *ptr)
{
	struct splk_cache_stats before, after;
	int dtors = atomic_read(&cbi_dtors);
	unsigned long w;

	splk_test_cache_stats(test, c, &before);
	w = splk_test_expect_warn_begin();
	spl_kmem_cache_free(c->skc, ptr);
	splk_test_expect_warn_end(test, w, 1);
	splk_test_cache_stats(test, c, &after);
	KUNIT_EXPECT_EQ(test, atomic_read(&cbi_dtors), dtors);
	KUNIT_EXPECT_EQ(test, after.obj_alloc, before.obj_alloc);
	KUNIT_EXPECT_EQ(test, after.obj_total, before.obj_total);
	KUNIT_EXPECT_EQ(test, after.obj_emergency, before.obj_emergency);
	KUNIT_EXPECT_EQ(test, after.mag_objs, before.mag_objs);
	KUNIT_EXPECT_EQ(test, after.linux_alloc, before.linux_alloc);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), before.flags & KMC_SLAB ?
			before.linux_alloc : before.obj_total);
}

/* Frees @obj, an object of @c, which must work without a warning. */
static void cbi_free_ok(struct kunit *test, struct splk_test_cache *c, void *obj)
{
	unsigned long w = splk_warning_count();

	spl_kmem_cache_free(c->skc, obj);
	KUNIT_EXPECT_EQ(test, splk_warning_count(), w);
}

/* ---- spl_kmem_cache_create() refuses bad arguments ------------------------ */

struct cbi_create_case {
	const char *desc;
	const char *name;
	size_t size;
	size_t align;
	int flags;
};

static const struct cbi_create_case cbi_create_cases[] = {
	{ "align 3", "splk_bad_align3", 64, 3, 0 },
	{ "align 24", "splk_bad_align24", 64, 24, 0 },
	{ "align 2 pages", "splk_bad_align2p", 64, 2 * PAGE_SIZE, 0 },
	{ "size 0", "splk_bad_size0", 0, 0, 0 },
	{ "size 0 KMC_KVMEM", "splk_bad_size0_kv", 0, 0, KMC_KVMEM },
	{ "NULL name", NULL, 64, 0, 0 },
	{ "64-character name", CBI_NAME_64, 64, 0, 0 },
	{ "empty name", "", 64, 0, 0 },
	{ "KMC_DEADLOCKED", "splk_bad_deadlocked", 64, 0, KMC_DEADLOCKED },
	{ "KMC_KVMEM|KMC_DEADLOCKED", "splk_bad_deadlocked2", 64, 0,
	  KMC_KVMEM | KMC_DEADLOCKED },
	{ "KMC_SLAB|KMC_KVMEM", "splk_bad_both", 64, 0, KMC_SLAB | KMC_KVMEM },
};

static void cbi_create_case_desc(const struct cbi_create_case *p, char *desc)
{
	strscpy(desc, p->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(cbi_create, cbi_create_cases, cbi_create_case_desc);

static void cbi_expect_create_refused(struct kunit *test, const char *name,
				      size_t size, size_t align, int flags)
{
	unsigned long w = splk_warning_count();
	struct splk_cache_stats st;
	spl_kmem_cache_t *skc;

	skc = spl_kmem_cache_create(name, size, align, NULL, NULL, NULL, NULL,
				    NULL, flags);
	KUNIT_EXPECT_NULL(test, skc);
	if (skc)
		spl_kmem_cache_destroy(skc);
	/* An error message, not a WARN. */
	KUNIT_EXPECT_EQ(test, splk_warning_count(), w);
	/* Nothing was registered under that name. */
	if (name && *name)
		KUNIT_EXPECT_FALSE(test, splk_test_stats(name, &st));
}

static void create_refuses_bad_arguments(struct kunit *test)
{
	const struct cbi_create_case *p = test->param_value;

	cbi_expect_create_refused(test, p->name, p->size, p->align, p->flags);
}

static void create_refuses_kmc_slab_over_limit(struct kunit *test)
{
	unsigned int limit = READ_ONCE(spl_kmem_cache_slab_limit);

	cbi_expect_create_refused(test, "splk_bad_slab_limit", (size_t)limit + 1,
				  0, KMC_SLAB);
	/* Whatever the limit, it is at most 1 MiB. */
	cbi_expect_create_refused(test, "splk_bad_slab_1m", SZ_1M + 1, 0, KMC_SLAB);
}

static void create_accepts_small_aligns_and_name_max(struct kunit *test)
{
	static const size_t aligns[] = { 1, 2, 4 };
	struct splk_cache_stats st;
	spl_kmem_cache_t *skc;
	const char *name;
	size_t i;
	void *obj;

	for (i = 0; i < ARRAY_SIZE(aligns); i++) {
		skc = spl_kmem_cache_create("splk_small_align", 20, aligns[i], NULL,
					    NULL, NULL, NULL, NULL, KMC_KVMEM);
		KUNIT_ASSERT_NOT_NULL_MSG(test, skc, "align %zu", aligns[i]);
		KUNIT_EXPECT_TRUE(test, splk_test_stats("splk_small_align", &st));
		KUNIT_EXPECT_EQ(test, st.obj_align, 8);
		obj = spl_kmem_cache_alloc(skc, KM_SLEEP);
		KUNIT_EXPECT_NOT_NULL(test, obj);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((uintptr_t)obj, 8));
		spl_kmem_cache_free(skc, obj);
		spl_kmem_cache_destroy(skc);
	}

	/* SPL_KMEM_CACHE_NAME_MAX characters are fine, and kept whole. */
	name = CBI_NAME_64 + 1;
	KUNIT_ASSERT_EQ(test, strlen(name), SPL_KMEM_CACHE_NAME_MAX);
	skc = spl_kmem_cache_create(name, 64, 0, NULL, NULL, NULL, NULL, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, skc);
	KUNIT_EXPECT_TRUE(test, splk_test_stats(name, &st));
	spl_kmem_cache_destroy(skc);
}

/* ---- Frees of pointers that are not objects of the cache -------------------- */

static void free_kmalloc_pointer(struct kunit *test)
{
	struct splk_test_cache *c = cbi_create(test, "splk_bad_kmalloc", 64, KMC_KVMEM);
	void *live = cbi_alloc(test, c);
	void *p = kmalloc(64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	cbi_expect_free_refused(test, c, p);
	memset(p, 0x5a, 64);
	kfree(p);
	cbi_free_ok(test, c, live);
	splk_test_cache_destroy(test, c);
}

static void free_object_of_other_cache(struct kunit *test)
{
	struct splk_test_cache *c = cbi_create(test, "splk_bad_other", 64, KMC_KVMEM);
	struct splk_test_cache *other = cbi_create(test, "splk_bad_other", 64, KMC_KVMEM);
	struct splk_cache_stats st;
	void *live = cbi_alloc(test, c);
	void *foreign = cbi_alloc(test, other);

	memset(foreign, 0x3c, 64);
	cbi_expect_free_refused(test, c, foreign);
	/* Still an object of the other cache, intact, and freed there. */
	KUNIT_EXPECT_NULL(test, memchr_inv(foreign, 0x3c, 64));
	cbi_free_ok(test, other, foreign);
	splk_test_cache_stats(test, other, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);
	cbi_free_ok(test, c, live);
	splk_test_cache_destroy(test, other);
	splk_test_cache_destroy(test, c);
}

/* Offsets into an object that are never an object themselves. */
static const size_t cbi_interior_offsets[] = { 1, 7, 8, 16, 63, 64, 128, 200, 248, 255 };
#define CBI_INTERIOR_SIZE 256
/*
 * KMC_SLAB objects of this size carry the tag header (it costs SLUB no
 * memory there); at sizes where it would, such as 64 B or powers of two,
 * they are untagged and a double free is SLUB's to catch, as in SPL.
 */
#define CBI_TAGGED_SLAB_SIZE 296


/*
 * Pointers into an allocated object, at the start of its words and in
 * between, up to its last byte: each refused, the object untouched and
 * still freeable.
 */
static void cbi_free_interior(struct kunit *test, int flags)
{
	struct splk_test_cache *c = cbi_create(test, "splk_bad_interior",
					       (flags & KMC_SLAB) ? CBI_TAGGED_SLAB_SIZE :
								    CBI_INTERIOR_SIZE,
					       flags);
	void *obj = cbi_alloc(test, c);
	size_t i;

	memset(obj, 0xa5, CBI_INTERIOR_SIZE);
	for (i = 0; i < ARRAY_SIZE(cbi_interior_offsets); i++) {
		kunit_info(test, "offset %zu", cbi_interior_offsets[i]);
		cbi_expect_free_refused(test, c, obj + cbi_interior_offsets[i]);
		KUNIT_EXPECT_NULL(test, memchr_inv(obj, 0xa5, CBI_INTERIOR_SIZE));
	}
	cbi_free_ok(test, c, obj);
	splk_test_cache_destroy(test, c);
}

static void free_interior_pointer(struct kunit *test)
{
	cbi_free_interior(test, KMC_KVMEM);
}

static void free_interior_pointer_kmc_slab(struct kunit *test)
{
	cbi_free_interior(test, KMC_SLAB);
}

/*
 * A cache whose tags are in the slab header (page-aligned 128 KiB objects,
 * slab_layout.hpp): no tag before the object to read, so every pointer is
 * looked up in the cache's index of object starts.  Refused: pointers to
 * an object's later pages and into its first page, the page before an
 * object (the slab header, or the previous object's last page), a page of
 * vmalloc memory that is no object, a second free, and a pointer to an
 * object whose slab has been reaped, which a cache with tags before its
 * objects would have to read and cannot tell apart.
 */
static void free_bad_pointers_header_tags(struct kunit *test)
{
	const size_t size = SZ_128K;
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_bad_htags", size,
							   PAGE_SIZE, NULL, cbi_dtor, NULL,
							   KMC_KVMEM);
	struct splk_cache_stats st;
	void *obj = cbi_alloc(test, c);
	void *other = cbi_alloc(test, c);
	void *foreign = vmalloc(size);
	void *stale;

	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_size, PAGE_SIZE + st.slab_objs * size);
	/* The caller owns every byte: ours are all outside the object. */
	memset(obj, 0xa5, size);
	cbi_expect_free_refused(test, c, obj + PAGE_SIZE);
	cbi_expect_free_refused(test, c, obj + size - PAGE_SIZE);
	cbi_expect_free_refused(test, c, obj + 8);
	cbi_expect_free_refused(test, c, obj - PAGE_SIZE);
	KUNIT_EXPECT_NULL(test, memchr_inv(obj, 0xa5, size));
	KUNIT_ASSERT_NOT_NULL(test, foreign);
	cbi_expect_free_refused(test, c, foreign);
	vfree(foreign);

	cbi_free_ok(test, c, obj);
	cbi_expect_free_refused(test, c, obj);

	/* Every object back, the slabs reaped: a stale pointer is unknown. */
	stale = other;
	cbi_free_ok(test, c, other);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0);
	cbi_expect_free_refused(test, c, stale);

	/* And the cache still works. */
	obj = cbi_alloc(test, c);
	memset(obj, 0x5a, size);
	cbi_free_ok(test, c, obj);
	splk_test_cache_destroy(test, c);
}

static void cbi_unpin(void *mask)
{
	set_cpus_allowed_ptr(current, mask);
}

/*
 * The same caller's bugs, on a cache without a destructor, from one CPU
 * (pinned), where a free finds the slot through the CPU's hint, the slab
 * of its last free (module/core/tag_slots.hpp): each bad pointer into the
 * hint's slab is refused as through the index, and a slab reaped since
 * is no hint any more.
 */
static void free_bad_pointers_through_hint(struct kunit *test)
{
	const size_t size = SZ_128K;
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_bad_hint", size,
							   PAGE_SIZE, NULL, NULL, NULL,
							   KMC_KVMEM);
	struct cpumask *saved = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	struct splk_cache_stats st;
	void *a, *b, *d;

	KUNIT_ASSERT_NOT_NULL(test, saved);
	cpumask_copy(saved, current->cpus_ptr);
	KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current, cpumask_of(raw_smp_processor_id())),
			0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cbi_unpin, saved), 0);

	/* One slab holds all three (8 objects a slab at 128 KiB). */
	a = cbi_alloc(test, c);
	b = cbi_alloc(test, c);
	d = cbi_alloc(test, c);
	cbi_free_ok(test, c, a);	/* the index; the slab becomes the hint */
	cbi_expect_free_refused(test, c, a);	/* already free */
	cbi_expect_free_refused(test, c, b + PAGE_SIZE);	/* interior */
	cbi_expect_free_refused(test, c, b + 8);
	cbi_expect_free_refused(test, c, b - PAGE_SIZE);
	cbi_free_ok(test, c, b);	/* through the hint */
	cbi_expect_free_refused(test, c, b);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc - st.mag_objs, 1ULL);	/* d */

	/* The slab goes: a stale pointer into it is unknown, hint or not. */
	cbi_free_ok(test, c, d);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0ULL);
	cbi_expect_free_refused(test, c, d);

	a = cbi_alloc(test, c);
	memset(a, 0x5a, size);
	cbi_free_ok(test, c, a);
	cbi_free_ok(test, c, cbi_alloc(test, c));
	splk_test_cache_destroy(test, c);
}

/* One CPU's round trip of an object, written after its free. */
struct cbi_waf {
	spl_kmem_cache_t *skc;
	bool copy;	/* the write copies another free object's bytes */
	void *freed;
	void *again;
	unsigned long warnings;
};

static long cbi_waf_fn(void *arg)
{
	struct cbi_waf *w = arg;
	void *other = NULL;

	if (w->copy) {
		other = spl_kmem_cache_alloc(w->skc, KM_SLEEP);
		if (!other)
			return -ENOMEM;
	}
	w->freed = spl_kmem_cache_alloc(w->skc, KM_SLEEP);
	if (!w->freed)
		return -ENOMEM;
	if (other)
		spl_kmem_cache_free(w->skc, other);
	spl_kmem_cache_free(w->skc, w->freed);
	/*
	 * The bug under test: the object's first bytes written after free,
	 * with a pattern or with a copy of another free object's words
	 * (which name that object's slot, sealed for that object).
	 */
	if (other)
		memcpy(w->freed, other, 64);
	else
		memset(w->freed, 0x5a, 64);
	w->warnings = splk_test_expect_warn_begin();
	/* This CPU's magazine is last in, first out: the same object. */
	w->again = spl_kmem_cache_alloc(w->skc, KM_SLEEP);
	pr_info(SPLK_TEST_SPLAT_END "\n");
	w->warnings = splk_warning_count() - w->warnings;
	return 0;
}

/*
 * A free object of a header-tag cache carries its tag slot in its words
 * (tag_slots.hpp), which a write after free destroys: the allocation that
 * takes it says so once and finds the slot through the index, and the
 * object's books stay right.
 */
static void cbi_alloc_after_write_after_free(struct kunit *test, bool copy)
{
	struct splk_test_cache *c = splk_test_cache_create(test, "splk_bad_waf", SZ_16K,
							   PAGE_SIZE, NULL, NULL, NULL,
							   KMC_KVMEM);
	struct cbi_waf w = { .skc = c->skc, .copy = copy };
	struct splk_cache_stats st;

	KUNIT_ASSERT_EQ(test, splk_test_on_cpu(cpumask_first(cpu_online_mask), cbi_waf_fn, &w),
			0);
	KUNIT_EXPECT_EQ(test, w.warnings, 1UL);
	KUNIT_ASSERT_PTR_EQ(test, w.again, w.freed);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs + 1);
	/* Allocated in the books: one free works, the second is refused. */
	cbi_free_ok(test, c, w.again);
	cbi_expect_free_refused(test, c, w.again);
	/* And the next round trip is quiet: the free wrote the words again. */
	w.warnings = splk_warning_count();
	w.again = cbi_alloc(test, c);
	KUNIT_EXPECT_EQ(test, splk_warning_count(), w.warnings);
	cbi_free_ok(test, c, w.again);
	splk_test_cache_destroy(test, c);
}

static void alloc_after_write_after_free_header_tags(struct kunit *test)
{
	cbi_alloc_after_write_after_free(test, false);
}

/*
 * Words copied from another free object are words this cache wrote, but
 * for that object: the seal names the object, so they are refused as
 * overwritten, and the object the words name is not touched.
 */
static void alloc_after_words_copied_header_tags(struct kunit *test)
{
	cbi_alloc_after_write_after_free(test, true);
}

static void free_vmalloc_start(struct kunit *test)
{
	struct splk_test_cache *c = cbi_create(test, "splk_bad_vmalloc", 64, KMC_KVMEM);
	void *live = cbi_alloc(test, c);
	void *v = vmalloc(PAGE_SIZE);

	KUNIT_ASSERT_NOT_NULL(test, v);
	/* The word before it is on an unmapped page: read without faulting. */
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(v));
	cbi_expect_free_refused(test, c, v);
	memset(v, 0x5a, PAGE_SIZE);
	vfree(v);
	cbi_free_ok(test, c, live);
	splk_test_cache_destroy(test, c);
}

static void cbi_free_twice(struct kunit *test, int flags)
{
	size_t size = (flags & KMC_SLAB) ? CBI_TAGGED_SLAB_SIZE : 64;
	struct splk_test_cache *c = cbi_create(test, "splk_bad_twice", size, flags);
	void *obj = cbi_alloc(test, c);
	void *a, *b;

	cbi_free_ok(test, c, obj);
	cbi_expect_free_refused(test, c, obj);
	/* The object is in the cache once: two allocations get two objects. */
	a = cbi_alloc(test, c);
	b = cbi_alloc(test, c);
	KUNIT_EXPECT_PTR_NE(test, a, b);
	cbi_free_ok(test, c, a);
	cbi_free_ok(test, c, b);
	splk_test_cache_destroy(test, c);
}

static void free_twice(struct kunit *test)
{
	cbi_free_twice(test, KMC_KVMEM);
}

static void free_twice_kmc_slab(struct kunit *test)
{
	cbi_free_twice(test, KMC_SLAB);
}

static char cbi_global[64];

static void free_foreign_into_slab_cache(struct kunit *test)
{
	struct splk_test_cache *c = cbi_create(test, "splk_bad_slab", 64, KMC_SLAB);
	void *live = cbi_alloc(test, c);
	char on_stack[64];
	void *v = vmalloc(PAGE_SIZE);

	KUNIT_ASSERT_NOT_NULL(test, v);
	cbi_expect_free_refused(test, c, v);
	cbi_expect_free_refused(test, c, v + 64);
	cbi_expect_free_refused(test, c, on_stack);
	cbi_expect_free_refused(test, c, cbi_global);
	memset(v, 0x5a, PAGE_SIZE);
	vfree(v);
	memset(on_stack, 0x5a, sizeof(on_stack));
	memset(cbi_global, 0x5a, sizeof(cbi_global));
	cbi_free_ok(test, c, live);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0);
	splk_test_cache_destroy(test, c);
}

/* ---- Destroying a cache with objects still allocated ------------------------ */

static void cbi_destroy_with_live_objects(struct kunit *test, int flags)
{
	const size_t size = 128;
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	void *objs[3];
	unsigned long w;
	char base[32];
	size_t i;

	/*
	 * The cache is kept until splkmem is unloaded; a Linux slab cache
	 * with live objects stays for good, under its name: make it unique.
	 */
	snprintf(base, sizeof(base), "splk_bad_leak_%08x", get_random_u32());
	c = cbi_create(test, base, size, flags);
	for (i = 0; i < ARRAY_SIZE(objs); i++) {
		objs[i] = cbi_alloc(test, c);
		memset(objs[i], 0x11 * (i + 1), size);
	}

	w = splk_test_expect_warn_begin();
	splk_test_cache_forget(test, c);
	spl_kmem_cache_destroy(c->skc);
	splk_test_expect_warn_end(test, w, 1);

	/* Gone from the registry, but the objects are still memory. */
	KUNIT_EXPECT_FALSE(test, splk_test_stats(c->name, &st));
	for (i = 0; i < ARRAY_SIZE(objs); i++) {
		KUNIT_EXPECT_NULL(test, memchr_inv(objs[i], 0x11 * (i + 1), size));
		memset(objs[i], 0xee, size);
	}

	/* The handle is dead: each use is refused with a warning, no crash. */
	w = splk_test_expect_warn_begin();
	spl_kmem_cache_free(c->skc, objs[0]);
	KUNIT_EXPECT_NULL(test, spl_kmem_cache_alloc(c->skc, KM_SLEEP));
	spl_kmem_cache_reap_now(c->skc);
	splk_test_expect_warn_end(test, w, 3);
}

static void destroy_with_live_objects_kvmem(struct kunit *test)
{
	cbi_destroy_with_live_objects(test, KMC_KVMEM);
}

static void destroy_with_live_objects_slab(struct kunit *test)
{
	cbi_destroy_with_live_objects(test, KMC_SLAB);
}

/* ---- NULL caches and NULL objects -------------------------------------------- */

static void null_cache_is_warned(struct kunit *test)
{
	struct splk_test_cache *c = cbi_create(test, "splk_bad_null", 64, KMC_KVMEM);
	void *obj = cbi_alloc(test, c);
	unsigned long w;

	w = splk_test_expect_warn_begin();
	KUNIT_EXPECT_NULL(test, spl_kmem_cache_alloc(NULL, KM_SLEEP));
	splk_test_expect_warn_end(test, w, 1);

	/* A real object, a NULL cache: refused, the object stays allocated. */
	w = splk_test_expect_warn_begin();
	spl_kmem_cache_free(NULL, obj);
	splk_test_expect_warn_end(test, w, 1);

	w = splk_test_expect_warn_begin();
	spl_kmem_cache_reap_now(NULL);
	splk_test_expect_warn_end(test, w, 1);

	w = splk_test_expect_warn_begin();
	spl_kmem_cache_destroy(NULL);
	splk_test_expect_warn_end(test, w, 1);

	w = splk_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(NULL), 0);
	splk_test_expect_warn_end(test, w, 1);

	w = splk_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_entry_size(NULL), 0);
	splk_test_expect_warn_end(test, w, 1);

	cbi_free_ok(test, c, obj);
	splk_test_cache_destroy(test, c);
}

static void free_null_object_is_silent(struct kunit *test)
{
	struct splk_test_cache *c = cbi_create(test, "splk_bad_nullobj", 64, KMC_KVMEM);
	struct splk_cache_stats before, after;
	int dtors = atomic_read(&cbi_dtors);
	void *live = cbi_alloc(test, c);
	unsigned long w;

	splk_test_cache_stats(test, c, &before);
	w = splk_warning_count();
	spl_kmem_cache_free(c->skc, NULL);
	spl_kmem_cache_free(NULL, NULL);
	KUNIT_EXPECT_EQ(test, splk_warning_count(), w);
	KUNIT_EXPECT_EQ(test, atomic_read(&cbi_dtors), dtors);
	splk_test_cache_stats(test, c, &after);
	KUNIT_EXPECT_EQ(test, after.obj_alloc, before.obj_alloc);
	KUNIT_EXPECT_EQ(test, after.mag_objs, before.mag_objs);
	cbi_free_ok(test, c, live);
	splk_test_cache_destroy(test, c);
}

static struct kunit_case cache_bad_input_cases[] = {
	KUNIT_CASE_PARAM(create_refuses_bad_arguments, cbi_create_gen_params),
	KUNIT_CASE(create_refuses_kmc_slab_over_limit),
	KUNIT_CASE(create_accepts_small_aligns_and_name_max),
	KUNIT_CASE(free_kmalloc_pointer),
	KUNIT_CASE(free_object_of_other_cache),
	KUNIT_CASE(free_interior_pointer),
	KUNIT_CASE(free_interior_pointer_kmc_slab),
	KUNIT_CASE(free_vmalloc_start),
	KUNIT_CASE(free_bad_pointers_header_tags),
	KUNIT_CASE(free_bad_pointers_through_hint),
	KUNIT_CASE(alloc_after_write_after_free_header_tags),
	KUNIT_CASE(alloc_after_words_copied_header_tags),
	KUNIT_CASE(free_twice),
	KUNIT_CASE(free_twice_kmc_slab),
	KUNIT_CASE(free_foreign_into_slab_cache),
	KUNIT_CASE(destroy_with_live_objects_kvmem),
	KUNIT_CASE(destroy_with_live_objects_slab),
	KUNIT_CASE(null_cache_is_warned),
	KUNIT_CASE(free_null_object_is_silent),
	{}
};

static struct kunit_suite cache_bad_input_suite = {
	.name = "splkmem_cache_bad_input",
	.exit = splk_test_exit,
	.test_cases = cache_bad_input_cases,
};

kunit_test_suites(&cache_bad_input_suite);
