// SPDX-License-Identifier: GPL-2.0
/*
 * Dynamic task queues (TASKQ_DYNAMIC): one thread at creation, more while
 * work waits, up to nthreads; idle threads retire after
 * spl_taskq_thread_timeout_ms, down to one; destroy while threads are
 * being created.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/slab.h>
#include <sys/taskq.h>

#include "splkmem_test.h"

#define DYN_THREADS 4

struct dyn_fixture {
	struct completion started[DYN_THREADS];
	struct completion gate;
	atomic_t next;
	atomic_t runs;
};

static void dyn_block_fn(void *arg)
{
	struct dyn_fixture *fx = arg;

	complete(&fx->started[atomic_inc_return(&fx->next) - 1]);
	wait_for_completion(&fx->gate);
	atomic_inc(&fx->runs);
}

static void dyn_quick_fn(void *arg)
{
	struct dyn_fixture *fx = arg;

	atomic_inc(&fx->runs);
}

static int dyn_threads(taskq_t *tq)
{
	struct splk_taskq_stats st;

	splk_taskq_get_stats(tq, &st);
	return st.nthreads;
}

static void dyn_restore_timeout(void *old)
{
	WRITE_ONCE(spl_taskq_thread_timeout_ms, (unsigned int)(uintptr_t)old);
}

static void taskq_dynamic_spawn_and_retire(struct kunit *test)
{
	struct dyn_fixture *fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	taskq_t *tq;
	int i, threads;

	KUNIT_ASSERT_NOT_NULL(test, fx);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, dyn_restore_timeout,
		(void *)(uintptr_t)READ_ONCE(spl_taskq_thread_timeout_ms)), 0);
	WRITE_ONCE(spl_taskq_thread_timeout_ms, 100);
	for (i = 0; i < DYN_THREADS; i++)
		init_completion(&fx->started[i]);
	init_completion(&fx->gate);
	tq = taskq_create("splk_tq_dynamic", DYN_THREADS, defclsyspri, 0, 64, TASKQ_DYNAMIC);
	KUNIT_ASSERT_NOT_NULL(test, tq);
	KUNIT_EXPECT_EQ(test, dyn_threads(tq), 1);

	/* Four tasks that block: each can only start on a new thread. */
	for (i = 0; i < DYN_THREADS; i++)
		KUNIT_EXPECT_NE(test, taskq_dispatch(tq, dyn_block_fn, fx, TQ_SLEEP),
				TASKQID_INVALID);
	for (i = 0; i < DYN_THREADS; i++)
		KUNIT_EXPECT_GT_MSG(test, wait_for_completion_timeout(&fx->started[i], 10 * HZ),
				    0UL, "task %d never started", i);
	KUNIT_EXPECT_EQ(test, dyn_threads(tq), DYN_THREADS);
	/* Never more than nthreads, however much waits. */
	for (i = 0; i < 8; i++)
		taskq_dispatch(tq, dyn_quick_fn, fx, TQ_SLEEP);
	msleep(50);
	KUNIT_EXPECT_EQ(test, dyn_threads(tq), DYN_THREADS);
	complete_all(&fx->gate);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->runs), DYN_THREADS + 8);

	/* Idle: one retires per 100 ms, down to the first thread. */
	for (i = 0; i < 50 && (threads = dyn_threads(tq)) > 1; i++)
		msleep(100);
	KUNIT_EXPECT_EQ(test, dyn_threads(tq), 1);
	/* And it still runs work. */
	KUNIT_EXPECT_NE(test, taskq_dispatch(tq, dyn_quick_fn, fx, TQ_SLEEP), TASKQID_INVALID);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->runs), DYN_THREADS + 9);
	taskq_destroy(tq);
}

/*
 * Twenty rounds of a burst of blocking tasks dispatched before any runs:
 * every round must grow the queue to one thread per task.  (A thread
 * created for the burst can take a task before it is counted; the queue
 * must still see that work waits.)
 */
static void taskq_dynamic_spawns_for_blocked_burst(struct kunit *test)
{
	struct dyn_fixture *fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	int round, i, stuck = 0;

	KUNIT_ASSERT_NOT_NULL(test, fx);
	init_completion(&fx->gate);
	for (i = 0; i < DYN_THREADS; i++)
		init_completion(&fx->started[i]);
	for (round = 0; round < 20; round++) {
		taskq_t *tq = taskq_create("splk_tq_burst", DYN_THREADS, defclsyspri, 0, 64,
					   TASKQ_DYNAMIC);

		KUNIT_ASSERT_NOT_NULL(test, tq);
		atomic_set(&fx->next, 0);
		reinit_completion(&fx->gate);
		for (i = 0; i < DYN_THREADS; i++)
			reinit_completion(&fx->started[i]);
		for (i = 0; i < DYN_THREADS; i++)
			taskq_dispatch(tq, dyn_block_fn, fx, TQ_SLEEP);
		for (i = 0; i < DYN_THREADS; i++)
			if (!wait_for_completion_timeout(&fx->started[i], 5 * HZ))
				stuck++;
		complete_all(&fx->gate);
		taskq_destroy(tq);
	}
	KUNIT_EXPECT_EQ(test, stuck, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->runs), 20 * DYN_THREADS);
}

/* Destroy right after a burst: thread creations in flight are waited for. */
static void taskq_dynamic_destroy_while_spawning(struct kunit *test)
{
	struct dyn_fixture *fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	int round, i;

	KUNIT_ASSERT_NOT_NULL(test, fx);
	for (round = 0; round < 10; round++) {
		taskq_t *tq = taskq_create("splk_tq_dyn_destroy", 16, defclsyspri, 0, 256,
					   TASKQ_DYNAMIC);

		KUNIT_ASSERT_NOT_NULL(test, tq);
		for (i = 0; i < 32; i++)
			taskq_dispatch(tq, dyn_quick_fn, fx, TQ_SLEEP);
		taskq_destroy(tq);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->runs), 10 * 32);
}

/* system_taskq is dynamic: it starts small. */
static void taskq_system_taskq_is_dynamic(struct kunit *test)
{
	KUNIT_ASSERT_NOT_NULL(test, system_taskq);
	KUNIT_EXPECT_LT(test, dyn_threads(system_taskq), 64);
}

static struct kunit_case taskq_dynamic_cases[] = {
	KUNIT_CASE_SLOW(taskq_dynamic_spawn_and_retire),
	KUNIT_CASE_SLOW(taskq_dynamic_spawns_for_blocked_burst),
	KUNIT_CASE(taskq_dynamic_destroy_while_spawning),
	KUNIT_CASE(taskq_system_taskq_is_dynamic),
	{}
};

static struct kunit_suite taskq_dynamic_suite = {
	.name = "splkmem_taskq_dynamic",
	.exit = splk_test_exit,
	.test_cases = taskq_dynamic_cases,
};

kunit_test_suites(&taskq_dynamic_suite);
