// SPDX-License-Identifier: GPL-2.0
/*
 * The seam: C calls reach the C++ core and come back with its answers.
 */
#include <kunit/test.h>
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

static struct kunit_case seam_cases[] = {
	KUNIT_CASE(seam_core_version),
	KUNIT_CASE(seam_fast_path_kind),
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
