/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the splkmem KUnit suites.
 *
 * Expected warnings: a test that feeds bad input on purpose makes splkmem
 * WARN.  It brackets that code with splk_test_expect_warn_begin()/_end():
 * the markers tell the console checker (scripts/check-console.py) to ignore
 * splats between them, and _end() asserts that exactly the expected number
 * of splkmem warnings happened, so the test still fails if none did.
 */
#ifndef SPLKMEM_KUNIT_TEST_H
#define SPLKMEM_KUNIT_TEST_H

#include <kunit/test.h>

#define SPL_KMEM_CACHE_IMPLEMENTING
#include <sys/kmem.h>
#include <sys/kmem_cache.h>

#include "seam.h"
#include "generated/kernel_features.h"

/*
 * The parameters of a hand-written KUnit parameter generator (those of
 * KUNIT_ARRAY_PARAM() follow the kernel by themselves): newer kernels pass
 * the test first, found by scripts/kernel-features.sh.  Declare one as
 * static const void *gen(SPLK_KUNIT_GEN(prev, desc)).
 */
#if SPLK_HAVE_KUNIT_GEN_PARAMS_TEST
#define SPLK_KUNIT_GEN(prev, desc) \
	struct kunit *splk_gen_test, const void *prev, char *desc
#else
#define SPLK_KUNIT_GEN(prev, desc) const void *prev, char *desc
#endif

#define SPLK_TEST_SPLAT_BEGIN "splkmem-test: expect-splat-begin"
#define SPLK_TEST_SPLAT_END "splkmem-test: expect-splat-end"

static inline unsigned long splk_test_expect_warn_begin(void)
{
	pr_info(SPLK_TEST_SPLAT_BEGIN "\n");
	return splk_warning_count();
}

static inline void splk_test_expect_warn_end(struct kunit *test,
					     unsigned long before,
					     unsigned long expected)
{
	pr_info(SPLK_TEST_SPLAT_END "\n");
	KUNIT_EXPECT_EQ(test, splk_warning_count() - before, expected);
}

/* Snapshot of a cache's statistics, found by name; false if not found. */
bool splk_test_stats(const char *name, struct splk_cache_stats *out);

/* Runs fn(arg) on @cpu (work_on_cpu) and returns its result. */
long splk_test_on_cpu(int cpu, long (*fn)(void *), void *arg);

/*
 * spl_kmem_cache_reap_now() on @cpu, which empties that CPU's magazines,
 * then waits for the drains it asked of the other CPUs.
 */
void splk_test_reap_on_cpu(int cpu, spl_kmem_cache_t *skc);
/* ... and on every online CPU, which empties every magazine. */
void splk_test_reap_all_cpus(spl_kmem_cache_t *skc);

/*
 * A cache with a unique name ("<base>_<n>"), destroyed at the latest when
 * the test ends (a KUnit action), or earlier by splk_test_cache_destroy().
 */
struct splk_test_cache {
	spl_kmem_cache_t *skc;
	char name[SPL_KMEM_CACHE_NAME_MAX + 1];
};

struct splk_test_cache *splk_test_cache_create(struct kunit *test, const char *base,
					       size_t size, size_t align,
					       spl_kmem_ctor_t ctor, spl_kmem_dtor_t dtor,
					       void *priv, int flags);
void splk_test_cache_destroy(struct kunit *test, struct splk_test_cache *c);
/* The cache will not be destroyed at test end (the test destroys it). */
void splk_test_cache_forget(struct kunit *test, struct splk_test_cache *c);
/* Its statistics; the test fails if it is not in the registry. */
void splk_test_cache_stats(struct kunit *test, struct splk_test_cache *c,
			   struct splk_cache_stats *st);

/* Sets a module parameter for the rest of the case (restored by an action). */
void splk_test_set_param(struct kunit *test, unsigned int *param, unsigned int value);
/*
 * Waits (5 s at most, else the case fails) until the trim tick closed c's
 * trim window and opened no other; st holds the last statistics read.
 */
void splk_test_wait_trim(struct kunit *test, struct splk_test_cache *c,
			 struct splk_cache_stats *st);

/*
 * The core's invariants over every live cache (object_cache.hpp, the
 * depot's among them) and every registered task queue (task_queue.hpp):
 * every suite's .exit, after every test case.
 */
void splk_test_exit(struct kunit *test);

#endif /* SPLKMEM_KUNIT_TEST_H */
