// SPDX-License-Identifier: GPL-2.0
/*
 * The seam: C calls reach the C++ core and come back with its answers.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "seam.h"
#include "splkmem_test.h"

static void seam_core_version(struct kunit *test)
{
	const char *version = splk_core_version();

	KUNIT_ASSERT_NOT_NULL(test, version);
	KUNIT_EXPECT_EQ(test, strncmp(version, "splkmem core ", 13), 0);
}

/*
 * The interrupt primitives are inlined exactly where the kernel's own are
 * fixed-register paravirt calls and no tracing belongs around them
 * (module/linux/fastpath_probe.c); the test kernel traces irq flags (lockdep).
 */
static void seam_fast_path_kind(struct kunit *test)
{
	bool inline_irq = IS_ENABLED(CONFIG_PARAVIRT_XXL) &&
			  !IS_ENABLED(CONFIG_TRACE_IRQFLAGS);
	const char *want = inline_irq ? "fast path: inline irq" :
					"fast path: irq via seam calls";

	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(splk_core_version(), want),
				  "version '%s' lacks '%s'",
				  splk_core_version(), want);
}

/*
 * SLUB's bulk allocation is all or nothing, and says so by the count on
 * 6.12 but by true or false on 7.x: the glue must give the core the number
 * of objects it got.  (On 7.2 it gave 1 for a whole batch, and the rest
 * of every batch a tagged KMC_SLAB cache took from SLUB leaked: SLUB
 * found them at kmem_cache_destroy().)
 */
static void seam_linux_bulk_alloc_count(struct kunit *test)
{
	struct kmem_cache *kc = kmem_cache_create("splk_seam_bulk", 96, 8, 0, NULL);
	void *objs[16] = {};
	const unsigned int n = ARRAY_SIZE(objs);
	unsigned int got, i, j;

	KUNIT_ASSERT_NOT_NULL(test, kc);
	got = splk_linux_cache_alloc_bulk(kc, (__force unsigned int)GFP_KERNEL,
					  n, objs);
	KUNIT_EXPECT_EQ(test, got, n);
	/* What SLUB filled in, whatever the glue said: give it all back. */
	for (got = 0; got < n && objs[got]; got++)
		for (j = 0; j < got; j++)
			KUNIT_EXPECT_PTR_NE(test, objs[j], objs[got]);
	KUNIT_EXPECT_EQ(test, got, n);
	for (i = 0; i < got; i++)
		memset(objs[i], 0x5a, 96);
	splk_linux_cache_free_bulk(kc, got, objs);
	kmem_cache_destroy(kc);
}

static struct kunit_case seam_cases[] = {
	KUNIT_CASE(seam_core_version),
	KUNIT_CASE(seam_fast_path_kind),
	KUNIT_CASE(seam_linux_bulk_alloc_count),
	{}
};

static struct kunit_suite seam_suite = {
	.name = "splkmem_seam",
	.exit = splk_test_exit,
	.test_cases = seam_cases,
};

kunit_test_suites(&seam_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("splkmem KUnit suites");
