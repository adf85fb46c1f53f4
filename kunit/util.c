// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the splkmem KUnit suites (declared in splkmem_test.h).
 */
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/workqueue.h>

#include "splkmem_test.h"

bool splk_test_stats(const char *name, struct splk_cache_stats *out)
{
	return splk_cache_stats_find(name, out);
}

long splk_test_on_cpu(int cpu, long (*fn)(void *), void *arg)
{
	return work_on_cpu(cpu, fn, arg);
}

static long splk_test_reap_fn(void *skc)
{
	spl_kmem_cache_reap_now(skc);
	return 0;
}

void splk_test_reap_on_cpu(int cpu, spl_kmem_cache_t *skc)
{
	splk_test_on_cpu(cpu, splk_test_reap_fn, skc);
	/* The drains it asked of the other CPUs are done, none comes late. */
	splk_drain_flush();
}

void splk_test_reap_all_cpus(spl_kmem_cache_t *skc)
{
	int cpu;

	for_each_online_cpu(cpu)
		splk_test_reap_on_cpu(cpu, skc);
}

static atomic_t splk_test_cache_seq = ATOMIC_INIT(0);

static void splk_test_cache_destroy_action(void *ctx)
{
	struct splk_test_cache *c = ctx;

	spl_kmem_cache_destroy(c->skc);
}

struct splk_test_cache *splk_test_cache_create(struct kunit *test, const char *base,
					       size_t size, size_t align,
					       spl_kmem_ctor_t ctor, spl_kmem_dtor_t dtor,
					       void *priv, int flags)
{
	struct splk_test_cache *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	snprintf(c->name, sizeof(c->name), "%s_%d", base,
		 atomic_inc_return(&splk_test_cache_seq));
	c->skc = spl_kmem_cache_create(c->name, size, align, ctor, dtor, NULL,
				       priv, NULL, flags);
	KUNIT_ASSERT_NOT_NULL_MSG(test, c->skc,
				  "create %s size %zu align %zu flags 0x%x",
				  c->name, size, align, flags);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, splk_test_cache_destroy_action, c),
			0);
	return c;
}

void splk_test_cache_destroy(struct kunit *test, struct splk_test_cache *c)
{
	kunit_release_action(test, splk_test_cache_destroy_action, c);
}

void splk_test_cache_forget(struct kunit *test, struct splk_test_cache *c)
{
	kunit_remove_action(test, splk_test_cache_destroy_action, c);
}

void splk_test_cache_stats(struct kunit *test, struct splk_test_cache *c,
			   struct splk_cache_stats *st)
{
	KUNIT_ASSERT_TRUE_MSG(test, splk_test_stats(c->name, st),
			      "cache %s not in the registry", c->name);
}

struct splk_test_param {
	unsigned int *param;
	unsigned int saved;
};

static void splk_test_param_restore(void *ctx)
{
	struct splk_test_param *p = ctx;

	WRITE_ONCE(*p->param, p->saved);
}

void splk_test_set_param(struct kunit *test, unsigned int *param, unsigned int value)
{
	struct splk_test_param *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->param = param;
	p->saved = READ_ONCE(*param);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, splk_test_param_restore, p), 0);
	WRITE_ONCE(*param, value);
}

void splk_test_wait_trim(struct kunit *test, struct splk_test_cache *c,
			 struct splk_cache_stats *st)
{
	int ms;

	for (ms = 0; ms < 5000; ms += 20) {
		splk_test_cache_stats(test, c, st);
		if (!st->trim_open)
			return;
		msleep(20);
	}
	KUNIT_FAIL(test, "cache %s: trim window still open after 5 s, depot at %llu objects",
		   c->name, st->depot_objs);
}

void splk_test_exit(struct kunit *test)
{
	const char *cache = NULL, *queue = NULL;
	const char *why = splk_core_check_invariants(&cache);

	KUNIT_EXPECT_TRUE_MSG(test, why == NULL, "cache '%s': %s", cache, why);
	why = splk_core_check_task_queues(&queue);
	KUNIT_EXPECT_TRUE_MSG(test, why == NULL, "task queue '%s': %s", queue, why);
}
