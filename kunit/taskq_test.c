// SPDX-License-Identifier: GPL-2.0
/*
 * The task queue API (sys/taskq.h): dispatch, ordering, cancel, the wait
 * functions, membership, entry pools, destroy with work pending.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/sched.h>
#include <sys/taskq.h>

#include "splkmem_test.h"

/* A task that records its run and optionally blocks on a completion. */
struct tq_probe {
	struct completion *gate;	/* wait for this first, if set */
	struct completion started;
	atomic_t *order;		/* global run counter */
	int ran_at;			/* order value when it ran, 0 = never */
	bool member;			/* taskq_member(tq, current) inside */
	taskq_t *tq;
	unsigned int sleep_ms;
};

static void tq_probe_init(struct tq_probe *p, taskq_t *tq, atomic_t *order,
			  struct completion *gate)
{
	memset(p, 0, sizeof(*p));
	p->tq = tq;
	p->order = order;
	p->gate = gate;
	init_completion(&p->started);
}

static void tq_probe_fn(void *arg)
{
	struct tq_probe *p = arg;

	complete(&p->started);
	if (p->gate)
		wait_for_completion(p->gate);
	if (p->sleep_ms)
		msleep(p->sleep_ms);
	p->member = taskq_member(p->tq, current);
	p->ran_at = atomic_inc_return(p->order);
}

/* Probes and entries live on the heap: with lockdep they are large. */
struct tq_fixture {
	struct tq_probe p[8];
	taskq_ent_t ent[3];
	struct completion gate;
	atomic_t order;
};

static struct tq_fixture *tq_fixture(struct kunit *test)
{
	struct tq_fixture *fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, fx);
	init_completion(&fx->gate);
	atomic_set(&fx->order, 0);
	return fx;
}

static taskq_t *tq_create_one(struct kunit *test, int threads, int minalloc,
			      unsigned int flags)
{
	taskq_t *tq = taskq_create("splk_tq_test", threads, defclsyspri,
				   minalloc, 64, flags);

	KUNIT_ASSERT_NOT_NULL(test, tq);
	return tq;
}

static void taskq_dispatch_runs_and_waits(struct kunit *test)
{
	struct tq_fixture *fx = tq_fixture(test);
	taskq_t *tq = tq_create_one(test, 2, 4, TASKQ_PREPOPULATE);
	struct tq_probe *p = fx->p;
	atomic_t *order = &fx->order;
	taskqid_t last = TASKQID_INVALID;
	int i;

	for (i = 0; i < ARRAY_SIZE(fx->p); i++) {
		taskqid_t id;

		tq_probe_init(&p[i], tq, order, NULL);
		id = taskq_dispatch(tq, tq_probe_fn, &p[i], TQ_SLEEP);
		KUNIT_EXPECT_NE(test, id, TASKQID_INVALID);
		KUNIT_EXPECT_GT(test, id, last);	/* ids increase */
		last = id;
	}
	taskq_wait(tq);
	for (i = 0; i < ARRAY_SIZE(fx->p); i++) {
		KUNIT_EXPECT_GT(test, p[i].ran_at, 0);
		KUNIT_EXPECT_TRUE(test, p[i].member);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(order), (int)ARRAY_SIZE(fx->p));
	KUNIT_EXPECT_FALSE(test, taskq_member(tq, current));
	taskq_destroy(tq);
}

/* One thread, blocked: A, B queue normally, C with TQ_FRONT runs first. */
static void taskq_dispatch_ent_front_order(struct kunit *test)
{
	struct tq_fixture *fx = tq_fixture(test);
	taskq_t *tq = tq_create_one(test, 1, 0, 0);
	struct tq_probe *blocker = &fx->p[0], *a = &fx->p[1], *b = &fx->p[2], *c = &fx->p[3];
	taskq_ent_t *ea = &fx->ent[0], *eb = &fx->ent[1], *ec = &fx->ent[2];

	tq_probe_init(blocker, tq, &fx->order, &fx->gate);
	KUNIT_ASSERT_NE(test, taskq_dispatch(tq, tq_probe_fn, blocker, TQ_SLEEP),
			TASKQID_INVALID);
	wait_for_completion(&blocker->started);

	taskq_init_ent(ea);
	taskq_init_ent(eb);
	taskq_init_ent(ec);
	KUNIT_EXPECT_TRUE(test, taskq_empty_ent(ea));
	tq_probe_init(a, tq, &fx->order, NULL);
	tq_probe_init(b, tq, &fx->order, NULL);
	tq_probe_init(c, tq, &fx->order, NULL);
	taskq_dispatch_ent(tq, tq_probe_fn, a, 0, ea);
	taskq_dispatch_ent(tq, tq_probe_fn, b, 0, eb);
	taskq_dispatch_ent(tq, tq_probe_fn, c, TQ_FRONT, ec);
	KUNIT_EXPECT_FALSE(test, taskq_empty_ent(ea));
	KUNIT_EXPECT_NE(test, ea->tqent_id, TASKQID_INVALID);

	complete(&fx->gate);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, blocker->ran_at, 1);
	KUNIT_EXPECT_EQ(test, c->ran_at, 2);
	KUNIT_EXPECT_EQ(test, a->ran_at, 3);
	KUNIT_EXPECT_EQ(test, b->ran_at, 4);
	KUNIT_EXPECT_TRUE(test, taskq_empty_ent(ea));
	taskq_destroy(tq);
}

static void taskq_cancel_pending_running_unknown(struct kunit *test)
{
	struct tq_fixture *fx = tq_fixture(test);
	taskq_t *tq = tq_create_one(test, 1, 0, 0);
	struct tq_probe *running = &fx->p[0], *pending = &fx->p[1];
	taskqid_t running_id, pending_id;

	tq_probe_init(running, tq, &fx->order, &fx->gate);
	running_id = taskq_dispatch(tq, tq_probe_fn, running, TQ_SLEEP);
	wait_for_completion(&running->started);
	tq_probe_init(pending, tq, &fx->order, NULL);
	pending_id = taskq_dispatch(tq, tq_probe_fn, pending, TQ_SLEEP);

	/* Pending: cancelled, never runs. */
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, pending_id, 1), 0);
	/* Running, no wait: busy. */
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, running_id, 0), EBUSY);
	/* Unknown: not found. */
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, running_id + 1000, 1), ENOENT);
	/* Running, wait: returns once it is done, as not found. */
	complete(&fx->gate);
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, running_id, 1), ENOENT);
	KUNIT_EXPECT_EQ(test, running->ran_at, 1);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, pending->ran_at, 0);
	taskq_destroy(tq);
}

static void taskq_wait_id_and_outstanding(struct kunit *test)
{
	struct tq_fixture *fx = tq_fixture(test);
	taskq_t *tq = tq_create_one(test, 2, 0, 0);
	struct tq_probe *slow = &fx->p[0], *fast = &fx->p[1];
	taskqid_t slow_id, fast_id;

	tq_probe_init(slow, tq, &fx->order, NULL);
	slow->sleep_ms = 200;
	tq_probe_init(fast, tq, &fx->order, NULL);
	slow_id = taskq_dispatch(tq, tq_probe_fn, slow, TQ_SLEEP);
	fast_id = taskq_dispatch(tq, tq_probe_fn, fast, TQ_SLEEP);

	taskq_wait_id(tq, fast_id);
	KUNIT_EXPECT_GT(test, fast->ran_at, 0);
	/* Waiting for everything up to fast_id includes the slow one. */
	taskq_wait_outstanding(tq, fast_id);
	KUNIT_EXPECT_GT(test, slow->ran_at, 0);
	KUNIT_EXPECT_LT(test, slow_id, fast_id);
	taskq_destroy(tq);
}

static void taskq_noqueue_and_noalloc_fail(struct kunit *test)
{
	struct tq_fixture *fx = tq_fixture(test);
	taskq_t *tq = tq_create_one(test, 1, 1, TASKQ_PREPOPULATE);
	struct tq_probe *blocker = &fx->p[0], *p = &fx->p[1];

	/* The one pooled entry runs the blocker: the pool is empty now. */
	tq_probe_init(blocker, tq, &fx->order, &fx->gate);
	KUNIT_ASSERT_NE(test, taskq_dispatch(tq, tq_probe_fn, blocker, TQ_NOALLOC),
			TASKQID_INVALID);
	wait_for_completion(&blocker->started);
	tq_probe_init(p, tq, &fx->order, NULL);
	/* No pooled entry and no allocation allowed. */
	KUNIT_EXPECT_EQ(test, taskq_dispatch(tq, tq_probe_fn, p, TQ_NOALLOC),
			TASKQID_INVALID);
	/* Every thread busy. */
	KUNIT_EXPECT_EQ(test, taskq_dispatch(tq, tq_probe_fn, p, TQ_NOQUEUE),
			TASKQID_INVALID);
	complete(&fx->gate);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, p->ran_at, 0);
	taskq_destroy(tq);
}

/* destroy runs every pending task before it stops the threads. */
static void taskq_destroy_runs_pending(struct kunit *test)
{
	struct tq_fixture *fx = tq_fixture(test);
	taskq_t *tq = tq_create_one(test, 2, 2, TASKQ_PREPOPULATE | TASKQ_DYNAMIC);
	struct tq_probe *p = fx->p;
	int i;

	for (i = 0; i < ARRAY_SIZE(fx->p); i++) {
		tq_probe_init(&p[i], tq, &fx->order, NULL);
		p[i].sleep_ms = 20;
		KUNIT_ASSERT_NE(test, taskq_dispatch(tq, tq_probe_fn, &p[i], TQ_SLEEP),
				TASKQID_INVALID);
	}
	taskq_destroy(tq);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->order), (int)ARRAY_SIZE(fx->p));
	for (i = 0; i < ARRAY_SIZE(fx->p); i++)
		KUNIT_EXPECT_GT(test, p[i].ran_at, 0);
}

static void taskq_create_bad_arguments(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, taskq_create("splk_tq_zero", 0, defclsyspri, 0, 1, 0));
	KUNIT_EXPECT_NULL(test, taskq_create(NULL, 1, defclsyspri, 0, 1, 0));
	KUNIT_EXPECT_NULL(test, taskq_create("a_task_queue_name_of_32_chars___", 1,
					     defclsyspri, 0, 1, 0));
}

static struct kunit_case taskq_cases[] = {
	KUNIT_CASE(taskq_dispatch_runs_and_waits),
	KUNIT_CASE(taskq_dispatch_ent_front_order),
	KUNIT_CASE(taskq_cancel_pending_running_unknown),
	KUNIT_CASE(taskq_wait_id_and_outstanding),
	KUNIT_CASE(taskq_noqueue_and_noalloc_fail),
	KUNIT_CASE(taskq_destroy_runs_pending),
	KUNIT_CASE(taskq_create_bad_arguments),
	{}
};

static struct kunit_suite taskq_suite = {
	.name = "splkmem_taskq",
	.exit = splk_test_exit,
	.test_cases = taskq_cases,
};

kunit_test_suites(&taskq_suite);
