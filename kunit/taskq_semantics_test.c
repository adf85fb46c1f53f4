// SPDX-License-Identifier: GPL-2.0
/*
 * Task queue semantics that must match SPL's (issue 10, item 9; issue 22,
 * items 1, 2, 4 and 5): the order of TQ_FRONT and TQ_NOQUEUE tasks,
 * TQ_SLEEP throttling on maxalloc, cancelling a caller-owned entry, waits
 * for ids that are not outstanding, every return value of
 * taskq_cancel_id(), TQ_NOQUEUE entries on a queue that can grow, and the
 * cap on TASKQ_PREPOPULATE.  (One wake-up per dispatch is in
 * taskq_features_test.c, NULL queues in taskq_bad_input_test.c.)
 * Ordering is made deterministic by holding the queue's workers
 * (splk_taskq_hold(), test builds only) or by a blocker task on a
 * one-thread queue.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <sys/taskq.h>

#include "splkmem_test.h"

#define SEM_TASKS 8

struct sem_task {
	atomic_t *order;
	struct completion *gate;	/* wait for this first, if set */
	struct completion started;
	int ran_at;			/* order value when it ran, 0 = never */
};

struct sem_fixture {
	struct sem_task t[SEM_TASKS];
	taskq_ent_t ent[SEM_TASKS];
	struct completion gate;
	atomic_t order;
};

static void sem_task_fn(void *arg)
{
	struct sem_task *t = arg;

	complete(&t->started);
	if (t->gate)
		wait_for_completion(t->gate);
	t->ran_at = atomic_inc_return(t->order);
}

static struct sem_fixture *sem_fixture(struct kunit *test)
{
	struct sem_fixture *fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, fx);
	init_completion(&fx->gate);
	atomic_set(&fx->order, 0);
	for (i = 0; i < SEM_TASKS; i++) {
		fx->t[i].order = &fx->order;
		init_completion(&fx->t[i].started);
		taskq_init_ent(&fx->ent[i]);
	}
	return fx;
}

/*
 * One thread, blocked.  Three TQ_FRONT entries and two normal ones queue
 * behind it: the front ones run first and in the order they were
 * dispatched (SPL's priority list is FIFO), then the normal ones.
 */
static void taskq_front_tasks_run_in_order(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	taskq_t *tq = taskq_create("splk_tq_front", 1, defclsyspri, 0, 64, 0);
	struct sem_task *t = fx->t;
	unsigned int flags[] = { 0, TQ_FRONT, 0, TQ_FRONT, TQ_FRONT };
	int expect[] = { 5, 2, 6, 3, 4 };	/* blocker is 1 */
	int i;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	t[0].gate = &fx->gate;
	taskq_dispatch_ent(tq, sem_task_fn, &t[0], 0, &fx->ent[0]);
	wait_for_completion(&t[0].started);
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		taskq_dispatch_ent(tq, sem_task_fn, &t[i + 1], flags[i], &fx->ent[i + 1]);
	complete(&fx->gate);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, t[0].ran_at, 1);
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		KUNIT_EXPECT_EQ_MSG(test, t[i + 1].ran_at, expect[i], "task %d", i);
	taskq_destroy(tq);
}

/*
 * TQ_NOQUEUE succeeds while a thread is idle and queues at the very front
 * (before earlier TQ_FRONT tasks), as SPL does.  The one worker is held
 * so that all four are queued before any runs.
 */
static void taskq_noqueue_goes_to_front(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	taskq_t *tq = taskq_create("splk_tq_noqueue", 1, defclsyspri, 0, 64, 0);
	struct sem_task *t = fx->t;
	unsigned int flags[] = { 0, TQ_FRONT, TQ_NOQUEUE, 0 };
	int expect[] = { 3, 2, 1, 4 };
	int i;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	splk_taskq_hold(tq, true);
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		KUNIT_EXPECT_NE_MSG(test, taskq_dispatch(tq, sem_task_fn, &t[i], flags[i]),
				    TASKQID_INVALID, "task %d", i);
	splk_taskq_hold(tq, false);
	taskq_wait(tq);
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		KUNIT_EXPECT_EQ_MSG(test, t[i].ran_at, expect[i], "task %d", i);
	taskq_destroy(tq);
}

/*
 * maxalloc 1, the one entry held by a running task: TQ_NOSLEEP fails at
 * once; TQ_SLEEP is throttled (SPL polls the free list every HZ/100, up to
 * 100 times, then allocates past maxalloc) and then succeeds.
 */
static void taskq_sleep_throttles_on_maxalloc(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	taskq_t *tq = taskq_create("splk_tq_throttle", 1, defclsyspri, 0, 1, 0);
	struct sem_task *t = fx->t;
	unsigned long start, took;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	t[0].gate = &fx->gate;
	KUNIT_ASSERT_NE(test, taskq_dispatch(tq, sem_task_fn, &t[0], TQ_SLEEP),
			TASKQID_INVALID);
	wait_for_completion(&t[0].started);

	KUNIT_EXPECT_EQ(test, taskq_dispatch(tq, sem_task_fn, &t[1], TQ_NOSLEEP),
			TASKQID_INVALID);
	start = jiffies;
	KUNIT_EXPECT_NE(test, taskq_dispatch(tq, sem_task_fn, &t[2], TQ_SLEEP),
			TASKQID_INVALID);
	took = jiffies - start;
	kunit_info(test, "TQ_SLEEP past maxalloc took %u ms\n", jiffies_to_msecs(took));
	KUNIT_EXPECT_GE_MSG(test, jiffies_to_msecs(took), 500U,
			    "TQ_SLEEP past maxalloc returned after %u ms",
			    jiffies_to_msecs(took));
	complete(&fx->gate);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, t[1].ran_at, 0);
	KUNIT_EXPECT_EQ(test, t[2].ran_at, 2);
	taskq_destroy(tq);
}

/*
 * A caller-owned entry cancelled while queued: 0, it never runs, the entry
 * is empty again and can be dispatched anew.
 */
static void taskq_cancel_dispatch_ent(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	taskq_t *tq = taskq_create("splk_tq_cancel_ent", 1, defclsyspri, 0, 64, 0);
	struct sem_task *t = fx->t;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	splk_taskq_hold(tq, true);
	taskq_dispatch_ent(tq, sem_task_fn, &t[0], 0, &fx->ent[0]);
	KUNIT_EXPECT_FALSE(test, taskq_empty_ent(&fx->ent[0]));
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, fx->ent[0].tqent_id, 1), 0);
	KUNIT_EXPECT_TRUE(test, taskq_empty_ent(&fx->ent[0]));
	splk_taskq_hold(tq, false);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, t[0].ran_at, 0);
	taskq_dispatch_ent(tq, sem_task_fn, &t[1], 0, &fx->ent[0]);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, t[1].ran_at, 1);
	taskq_destroy(tq);
}

/* TQ_NOQUEUE on a dynamic queue with every thread busy: it may grow, so queued. */
static void taskq_noqueue_dynamic_grows(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	taskq_t *tq = taskq_create("splk_tq_noqueue_dyn", 2, defclsyspri, 0, 64, TASKQ_DYNAMIC);
	struct sem_task *t = fx->t;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	t[0].gate = &fx->gate;
	KUNIT_ASSERT_NE(test, taskq_dispatch(tq, sem_task_fn, &t[0], TQ_SLEEP), TASKQID_INVALID);
	wait_for_completion(&t[0].started);
	/* The one thread is busy, a second can be made: queued and run. */
	KUNIT_EXPECT_NE(test, taskq_dispatch(tq, sem_task_fn, &t[1], TQ_NOQUEUE),
			TASKQID_INVALID);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&t[1].started, 10 * HZ), 0UL);
	complete(&fx->gate);
	taskq_wait(tq);
	KUNIT_EXPECT_GT(test, t[1].ran_at, 0);
	KUNIT_EXPECT_GT(test, t[0].ran_at, 0);
	taskq_destroy(tq);
}

/*
 * taskq_wait_id() of an id that is neither queued nor running returns at
 * once, as SPL's taskq_find() finds nothing: 0 (TASKQID_INVALID, which
 * OpenZFS waits on after dmu_objset_upgrade_task_cb() reset
 * os_upgrade_id), a finished task's id, an id never issued.  Each wait
 * runs in a thread of its own so that a wait that never returns fails
 * the case instead of hanging the run; such a thread and its queue are
 * left behind (the case failed).
 */
struct sem_waiter {
	taskq_t *tq;
	taskqid_t id;
	struct completion done;
};

static int sem_wait_id_fn(void *arg)
{
	struct sem_waiter *w = arg;

	taskq_wait_id(w->tq, w->id);
	complete(&w->done);
	return 0;
}

/* True when taskq_wait_id(tq, id) returned within 2 s. */
static bool sem_wait_id_returns(struct kunit *test, taskq_t *tq, taskqid_t id)
{
	struct sem_waiter *w = kzalloc(sizeof(*w), GFP_KERNEL);
	struct task_struct *t;

	KUNIT_ASSERT_NOT_NULL(test, w);
	w->tq = tq;
	w->id = id;
	init_completion(&w->done);
	t = kthread_run(sem_wait_id_fn, w, "splk_wait_id");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	if (!wait_for_completion_timeout(&w->done, 2 * HZ)) {
		KUNIT_FAIL(test, "taskq_wait_id(tq, %lu) did not return within 2 s", id);
		return false;	/* w stays with the waiting thread */
	}
	kfree(w);
	return true;
}

static void taskq_wait_id_not_outstanding_returns(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	taskq_t *tq = taskq_create("splk_tq_wait_none", 2, defclsyspri, 0, 64, 0);
	taskqid_t done_id;
	bool ok;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	done_id = taskq_dispatch(tq, sem_task_fn, &fx->t[0], TQ_SLEEP);
	KUNIT_ASSERT_NE(test, done_id, TASKQID_INVALID);
	taskq_wait(tq);
	msleep(20);		/* both workers idle again */
	ok = sem_wait_id_returns(test, tq, TASKQID_INVALID);
	ok = sem_wait_id_returns(test, tq, done_id) && ok;
	ok = sem_wait_id_returns(test, tq, done_id + 1000) && ok;
	if (ok)
		taskq_destroy(tq);	/* else a waiter may still use it */
}

/*
 * taskq_cancel_id() returns what SPL's returns in every state of a task:
 * 0 when it was queued (pending, TQ_FRONT, delayed, delayed and due) and
 * will not run; EBUSY while it runs and the caller does not wait; ENOENT
 * once it ran and the caller waited, when it had finished, was cancelled
 * already, is 0 or was never issued.
 */
static void sem_release_fn(void *arg)
{
	msleep(100);
	complete(arg);
}

static void taskq_cancel_return_values_as_spl(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	taskq_t *tq = taskq_create("splk_tq_cancel_rv", 1, defclsyspri, 0, 64, 0);
	struct sem_task *t = fx->t;
	taskqid_t finished, running, pending, front, delayed, due;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	finished = taskq_dispatch(tq, sem_task_fn, &t[0], TQ_SLEEP);
	KUNIT_ASSERT_NE(test, finished, TASKQID_INVALID);
	taskq_wait_id(tq, finished);
	KUNIT_EXPECT_EQ(test, t[0].ran_at, 1);

	t[1].gate = &fx->gate;
	running = taskq_dispatch(tq, sem_task_fn, &t[1], TQ_SLEEP);
	KUNIT_ASSERT_NE(test, running, TASKQID_INVALID);
	wait_for_completion(&t[1].started);
	pending = taskq_dispatch(tq, sem_task_fn, &t[2], TQ_SLEEP);
	front = taskq_dispatch(tq, sem_task_fn, &t[3], TQ_FRONT);
	delayed = taskq_dispatch_delay(tq, sem_task_fn, &t[4], TQ_SLEEP, jiffies + 60 * HZ);
	due = taskq_dispatch_delay(tq, sem_task_fn, &t[5], TQ_SLEEP, jiffies);
	KUNIT_ASSERT_NE(test, pending, TASKQID_INVALID);
	KUNIT_ASSERT_NE(test, front, TASKQID_INVALID);
	KUNIT_ASSERT_NE(test, delayed, TASKQID_INVALID);
	KUNIT_ASSERT_NE(test, due, TASKQID_INVALID);
	msleep(50);		/* "due" expired onto the priority list */

	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, pending, 0), 0);
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, front, 1), 0);
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, delayed, 0), 0);
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, due, 1), 0);
	/* Cancelled already, finished, 0, never issued: not found. */
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, pending, i), ENOENT);
		KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, finished, i), ENOENT);
		KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, TASKQID_INVALID, i), ENOENT);
		KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, due + 1000, i), ENOENT);
	}
	/* Running: busy without waiting; with waiting, not found once done. */
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, running, 0), EBUSY);
	KUNIT_ASSERT_NE(test, taskq_dispatch(system_taskq, sem_release_fn, &fx->gate, TQ_SLEEP),
			TASKQID_INVALID);
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, running, 1), ENOENT);
	KUNIT_EXPECT_EQ(test, t[1].ran_at, 2);	/* it had finished */
	taskq_wait(tq);
	msleep(20);
	for (i = 2; i <= 5; i++)
		KUNIT_EXPECT_EQ_MSG(test, t[i].ran_at, 0, "task %d ran after its cancel", i);
	taskq_destroy(tq);
}

/*
 * taskq_dispatch_ent() with TQ_NOQUEUE, as SPL's: with a thread idle the
 * entry is queued as a normal one; with every thread busy on a dynamic
 * queue that can still grow, it becomes a TQ_FRONT entry (priority list)
 * and a thread is added for it; with every thread busy and no room to
 * grow, it is not queued.
 */
static void taskq_noqueue_ent_front_when_queue_can_grow(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	taskq_t *tq = taskq_create("splk_tq_noq_ent", 2, defclsyspri, 0, 64, TASKQ_DYNAMIC);
	taskq_t *fixed = taskq_create("splk_tq_noq_fixed", 1, defclsyspri, 0, 64, 0);
	struct sem_task *t = fx->t;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	KUNIT_ASSERT_NOT_NULL(test, fixed);
	/* Idle thread: a normal entry. */
	taskq_dispatch_ent(fixed, sem_task_fn, &t[0], TQ_NOQUEUE, &fx->ent[0]);
	KUNIT_EXPECT_NE(test, fx->ent[0].tqent_id, TASKQID_INVALID);
	KUNIT_EXPECT_EQ(test, fx->ent[0].tqent_flags & TQENT_LIST_MASK,
			(uintptr_t)TQENT_LIST_PENDING);
	taskq_wait(fixed);
	KUNIT_EXPECT_GT(test, t[0].ran_at, 0);

	/* Every thread busy, room for one more: front, and it runs. */
	t[1].gate = &fx->gate;
	KUNIT_ASSERT_NE(test, taskq_dispatch(tq, sem_task_fn, &t[1], TQ_SLEEP), TASKQID_INVALID);
	wait_for_completion(&t[1].started);
	taskq_dispatch_ent(tq, sem_task_fn, &t[2], TQ_NOQUEUE, &fx->ent[1]);
	KUNIT_EXPECT_NE(test, fx->ent[1].tqent_id, TASKQID_INVALID);
	KUNIT_EXPECT_EQ(test, fx->ent[1].tqent_flags & TQENT_LIST_MASK,
			(uintptr_t)TQENT_LIST_PRIORITY);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&t[2].started, 10 * HZ), 0UL);

	/* Every thread busy on a static queue: not queued, entry left alone. */
	t[3].gate = &fx->gate;
	KUNIT_ASSERT_NE(test, taskq_dispatch(fixed, sem_task_fn, &t[3], TQ_SLEEP),
			TASKQID_INVALID);
	wait_for_completion(&t[3].started);
	taskq_init_ent(&fx->ent[2]);
	taskq_dispatch_ent(fixed, sem_task_fn, &t[4], TQ_NOQUEUE, &fx->ent[2]);
	KUNIT_EXPECT_TRUE(test, taskq_empty_ent(&fx->ent[2]));
	complete_all(&fx->gate);
	taskq_wait(tq);
	taskq_wait(fixed);
	KUNIT_EXPECT_GT(test, t[2].ran_at, 0);
	KUNIT_EXPECT_EQ(test, t[4].ran_at, 0);
	taskq_destroy(fixed);
	taskq_destroy(tq);
}

/*
 * TASKQ_PREPOPULATE preallocates minalloc entries, at most
 * SPLK_TASKQ_PREPOPULATE_MAX (with a message): minalloc = maxalloc =
 * INT_MAX would otherwise try 2^31 KM_SLEEP allocations.  The first
 * queue asks for twice the cap, which an uncapped create still survives:
 * the case stops there before it tries INT_MAX.
 */
static void taskq_prepopulate_is_capped(struct kunit *test)
{
	struct sem_fixture *fx = sem_fixture(test);
	struct splk_taskq_stats st;
	taskq_t *tq = taskq_create("splk_tq_prepop", 1, defclsyspri,
				   2 * SPLK_TASKQ_PREPOPULATE_MAX,
				   2 * SPLK_TASKQ_PREPOPULATE_MAX, TASKQ_PREPOPULATE);

	KUNIT_ASSERT_NOT_NULL(test, tq);
	splk_taskq_get_stats(tq, &st);
	taskq_destroy(tq);
	KUNIT_ASSERT_EQ(test, st.nfree, SPLK_TASKQ_PREPOPULATE_MAX);

	tq = taskq_create("splk_tq_prepop", 1, defclsyspri, INT_MAX, INT_MAX,
			  TASKQ_PREPOPULATE);
	KUNIT_ASSERT_NOT_NULL(test, tq);
	splk_taskq_get_stats(tq, &st);
	KUNIT_EXPECT_EQ(test, st.nfree, SPLK_TASKQ_PREPOPULATE_MAX);
	KUNIT_EXPECT_EQ(test, st.nalloc, SPLK_TASKQ_PREPOPULATE_MAX);
	KUNIT_EXPECT_NE(test, taskq_dispatch(tq, sem_task_fn, &fx->t[0], TQ_SLEEP),
			TASKQID_INVALID);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, fx->t[0].ran_at, 1);
	taskq_destroy(tq);
}

static struct kunit_case taskq_semantics_cases[] = {
	KUNIT_CASE(taskq_front_tasks_run_in_order),
	KUNIT_CASE(taskq_noqueue_goes_to_front),
	KUNIT_CASE_SLOW(taskq_sleep_throttles_on_maxalloc),
	KUNIT_CASE(taskq_cancel_dispatch_ent),
	KUNIT_CASE(taskq_noqueue_dynamic_grows),
	KUNIT_CASE(taskq_wait_id_not_outstanding_returns),
	KUNIT_CASE(taskq_cancel_return_values_as_spl),
	KUNIT_CASE(taskq_noqueue_ent_front_when_queue_can_grow),
	KUNIT_CASE_SLOW(taskq_prepopulate_is_capped),
	{}
};

static struct kunit_suite taskq_semantics_suite = {
	.name = "splkmem_taskq_semantics",
	.exit = splk_test_exit,
	.test_cases = taskq_semantics_cases,
};

kunit_test_suites(&taskq_semantics_suite);
