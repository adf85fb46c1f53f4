// SPDX-License-Identifier: GPL-2.0
/*
 * The seam: C calls reach the C++ core and come back with its answers.
 */
#include <kunit/test.h>
#include <linux/string.h>

#include "seam.h"

static void seam_core_version(struct kunit *test)
{
	const char *version = splk_core_version();

	KUNIT_ASSERT_NOT_NULL(test, version);
	KUNIT_EXPECT_EQ(test, strncmp(version, "splkmem core ", 13), 0);
}

static struct kunit_case seam_cases[] = {
	KUNIT_CASE(seam_core_version),
	{}
};

static struct kunit_suite seam_suite = {
	.name = "splkmem_seam",
	.test_cases = seam_cases,
};

kunit_test_suites(&seam_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("splkmem KUnit suites");
