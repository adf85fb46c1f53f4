// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to the task queue API: a NULL queue, a NULL function, unknown
 * flags, an entry dispatched twice.  Each is a WARN (counted exactly) and
 * a clear return, never a crash.  A dispatch to a queue being destroyed
 * is not bad input to SPL (TASKQID_INVALID, no warning): tested here too,
 * with no warning expected.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/slab.h>
#include <sys/taskq.h>

#include "splkmem_test.h"

static atomic_t bad_runs;

static void bad_task_fn(void *arg)
{
	atomic_inc(&bad_runs);
}

static void taskq_null_queue(struct kunit *test)
{
	taskq_ent_t *ent = kunit_kzalloc(test, sizeof(*ent), GFP_KERNEL);
	unsigned long w;

	KUNIT_ASSERT_NOT_NULL(test, ent);
	taskq_init_ent(ent);
	ent->tqent_id = 42;
	w = splk_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, taskq_dispatch(NULL, bad_task_fn, NULL, TQ_SLEEP),
			TASKQID_INVALID);
	KUNIT_EXPECT_EQ(test, taskq_dispatch_delay(NULL, bad_task_fn, NULL, TQ_SLEEP,
						   jiffies + 1), TASKQID_INVALID);
	taskq_dispatch_ent(NULL, bad_task_fn, NULL, 0, ent);
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(NULL, 1, 1), ENOENT);
	taskq_wait(NULL);
	taskq_wait_id(NULL, 1);
	taskq_wait_outstanding(NULL, 0);
	taskq_destroy(NULL);
	splk_test_expect_warn_end(test, w, 8);
	KUNIT_EXPECT_EQ(test, ent->tqent_id, TASKQID_INVALID);
	KUNIT_EXPECT_TRUE(test, taskq_empty_ent(ent));
	KUNIT_EXPECT_FALSE(test, taskq_member(NULL, current));
}

static void taskq_null_function_and_unknown_flags(struct kunit *test)
{
	taskq_t *tq = taskq_create("splk_tq_bad", 1, defclsyspri, 0, 8, 0);
	taskq_ent_t *ent = kunit_kzalloc(test, sizeof(*ent), GFP_KERNEL);
	unsigned long w;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	KUNIT_ASSERT_NOT_NULL(test, ent);
	taskq_init_ent(ent);
	atomic_set(&bad_runs, 0);
	w = splk_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, taskq_dispatch(tq, NULL, NULL, TQ_SLEEP), TASKQID_INVALID);
	KUNIT_EXPECT_EQ(test, taskq_dispatch_delay(tq, NULL, NULL, TQ_SLEEP, jiffies + 1),
			TASKQID_INVALID);
	taskq_dispatch_ent(tq, NULL, NULL, 0, ent);
	KUNIT_EXPECT_EQ(test, ent->tqent_id, TASKQID_INVALID);
	KUNIT_EXPECT_EQ(test, taskq_dispatch(tq, bad_task_fn, NULL, 0x10000),
			TASKQID_INVALID);
	taskq_dispatch_ent(tq, bad_task_fn, NULL, 0x100, ent);
	splk_test_expect_warn_end(test, w, 5);
	KUNIT_EXPECT_TRUE(test, taskq_empty_ent(ent));
	/* Unknown creation flags: refused with a message, no queue. */
	KUNIT_EXPECT_NULL(test, taskq_create("splk_tq_bad2", 1, defclsyspri, 0, 8, 0x100));
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, atomic_read(&bad_runs), 0);
	taskq_destroy(tq);
}

struct bad_gate {
	taskq_t *tq;
	taskq_ent_t ent;
	struct completion started;
	struct completion release;
	taskqid_t id;
};

static void bad_gate_fn(void *arg)
{
	struct bad_gate *g = arg;

	complete(&g->started);
	wait_for_completion(&g->release);
}

/* The same entry dispatched while it is still queued: WARN, left alone. */
static void taskq_entry_dispatched_twice(struct kunit *test)
{
	struct bad_gate *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	taskq_ent_t *ent = kunit_kzalloc(test, sizeof(*ent), GFP_KERNEL);
	unsigned long w;
	taskqid_t id;

	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_ASSERT_NOT_NULL(test, ent);
	g->tq = taskq_create("splk_tq_twice", 1, defclsyspri, 0, 8, 0);
	KUNIT_ASSERT_NOT_NULL(test, g->tq);
	init_completion(&g->started);
	init_completion(&g->release);
	KUNIT_ASSERT_NE(test, taskq_dispatch(g->tq, bad_gate_fn, g, TQ_SLEEP), TASKQID_INVALID);
	wait_for_completion(&g->started);
	atomic_set(&bad_runs, 0);
	taskq_init_ent(ent);
	taskq_dispatch_ent(g->tq, bad_task_fn, NULL, 0, ent);
	id = ent->tqent_id;
	w = splk_test_expect_warn_begin();
	taskq_dispatch_ent(g->tq, bad_task_fn, NULL, 0, ent);
	splk_test_expect_warn_end(test, w, 1);
	KUNIT_EXPECT_EQ(test, ent->tqent_id, id);
	complete(&g->release);
	taskq_wait(g->tq);
	KUNIT_EXPECT_EQ(test, atomic_read(&bad_runs), 1);
	taskq_destroy(g->tq);
}

/* A task running while its queue is destroyed dispatches to it. */
static void bad_redispatch_fn(void *arg)
{
	struct bad_gate *g = arg;

	struct splk_taskq_stats st;
	int i;

	complete(&g->started);
	for (i = 0; i < 500; i++) {	/* until taskq_destroy() has begun */
		splk_taskq_get_stats(g->tq, &st);
		if (!(st.flags & TASKQ_ACTIVE))
			break;
		msleep(20);
	}
	g->id = taskq_dispatch(g->tq, bad_task_fn, NULL, TQ_SLEEP);
	taskq_dispatch_ent(g->tq, bad_task_fn, NULL, 0, &g->ent);
}

static void taskq_dispatch_to_queue_being_destroyed(struct kunit *test)
{
	struct bad_gate *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	unsigned long w;

	KUNIT_ASSERT_NOT_NULL(test, g);
	g->tq = taskq_create("splk_tq_dying", 1, defclsyspri, 0, 8, 0);
	KUNIT_ASSERT_NOT_NULL(test, g->tq);
	init_completion(&g->started);
	taskq_init_ent(&g->ent);
	g->ent.tqent_id = 42;
	atomic_set(&bad_runs, 0);
	KUNIT_ASSERT_NE(test, taskq_dispatch(g->tq, bad_redispatch_fn, g, TQ_SLEEP),
			TASKQID_INVALID);
	wait_for_completion(&g->started);
	/* SPL: refused without a warning (issue 22, item 3). */
	w = splk_test_expect_warn_begin();
	taskq_destroy(g->tq);
	splk_test_expect_warn_end(test, w, 0);
	KUNIT_EXPECT_EQ(test, g->id, TASKQID_INVALID);
	KUNIT_EXPECT_EQ(test, g->ent.tqent_id, TASKQID_INVALID);
	KUNIT_EXPECT_EQ(test, atomic_read(&bad_runs), 0);
}

/* A second destroy: WARN, and the freed queue is not touched. */
static void taskq_destroy_twice(struct kunit *test)
{
	taskq_t *tq = taskq_create("splk_tq_destroy2", 1, defclsyspri, 0, 8, 0);
	unsigned long w;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	taskq_destroy(tq);
	w = splk_test_expect_warn_begin();
	taskq_destroy(tq);
	splk_test_expect_warn_end(test, w, 1);
}

static struct kunit_case taskq_bad_input_cases[] = {
	KUNIT_CASE(taskq_null_queue),
	KUNIT_CASE(taskq_null_function_and_unknown_flags),
	KUNIT_CASE(taskq_entry_dispatched_twice),
	KUNIT_CASE(taskq_dispatch_to_queue_being_destroyed),
	KUNIT_CASE(taskq_destroy_twice),
	{}
};

static struct kunit_suite taskq_bad_input_suite = {
	.name = "splkmem_taskq_bad_input",
	.exit = splk_test_exit,
	.test_cases = taskq_bad_input_cases,
};

kunit_test_suites(&taskq_bad_input_suite);
