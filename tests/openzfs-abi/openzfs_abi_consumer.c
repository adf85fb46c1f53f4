// SPDX-License-Identifier: GPL-2.0
/*
 * A consumer of the task queue compiled against OpenZFS 2.4.4's own SPL
 * headers (include/os/linux/spl from the release tarball, not splkmem's
 * include/), as zfs.ko is.  It embeds taskq_ent_t in its own structures
 * between guard words and uses every task queue symbol spl-taskq.c
 * exports; loaded on splkmem, it proves that splkmem's taskq is binary
 * compatible: sizes, offsets, flag values, priorities and semantics.
 * Loading fails (and the console says why) on any mismatch.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <sys/taskq.h>		/* OpenZFS's (see Kbuild) */
#include <sys/sysmacros.h>
#include <sys/timer.h>

#define GUARD 0x5a5a5a5a5a5a5a5aULL

/* A caller structure with an embedded entry, as zio_t has io_tqent. */
struct abi_job {
	u64 before;
	taskq_ent_t ent;
	u64 after;
	atomic_t *runs;
	taskq_t *expect_tq;
	bool member;
	taskq_t *of_curthread;
	struct completion done;
};

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		pr_err("openzfs-abi: FAILED at line %d: %s\n",		\
		       __LINE__, #cond);				\
		failures++;						\
	}								\
} while (0)

static void abi_job_fn(void *arg)
{
	struct abi_job *j = arg;

	j->member = j->expect_tq && taskq_member(j->expect_tq, current);
	j->of_curthread = taskq_of_curthread();
	atomic_inc(j->runs);
	complete(&j->done);
}

static void abi_job_init(struct abi_job *j, atomic_t *runs, taskq_t *tq)
{
	memset(j, 0, sizeof(*j));
	j->before = GUARD;
	j->after = GUARD;
	j->runs = runs;
	j->expect_tq = tq;
	init_completion(&j->done);
	taskq_init_ent(&j->ent);
}

static void abi_entries(taskq_t *tq, atomic_t *runs)
{
	struct abi_job *jobs = kcalloc(4, sizeof(*jobs), GFP_KERNEL);
	int i;

	CHECK(jobs);
	if (!jobs)
		return;
	for (i = 0; i < 4; i++) {
		abi_job_init(&jobs[i], runs, tq);
		CHECK(taskq_empty_ent(&jobs[i].ent));
		CHECK(jobs[i].ent.tqent_id == TASKQID_INVALID);
	}
	for (i = 0; i < 4; i++) {
		taskq_dispatch_ent(tq, abi_job_fn, &jobs[i], i == 3 ? TQ_FRONT : 0,
				   &jobs[i].ent);
		CHECK(jobs[i].ent.tqent_id != TASKQID_INVALID);
		CHECK(jobs[i].ent.tqent_taskq == tq);
		CHECK(jobs[i].ent.tqent_func == abi_job_fn);
		CHECK(jobs[i].ent.tqent_arg == &jobs[i]);
		CHECK(jobs[i].ent.tqent_flags & TQENT_FLAG_PREALLOC);
		if (i)
			CHECK(jobs[i].ent.tqent_id > jobs[i - 1].ent.tqent_id);
	}
	taskq_wait(tq);
	for (i = 0; i < 4; i++) {
		CHECK(jobs[i].before == GUARD && jobs[i].after == GUARD);
		CHECK(taskq_empty_ent(&jobs[i].ent));
		CHECK(jobs[i].member);
		CHECK(jobs[i].of_curthread == tq);
	}
	/* An entry may be dispatched again once its task ran. */
	taskq_dispatch_ent(tq, abi_job_fn, &jobs[0], 0, &jobs[0].ent);
	taskq_wait_id(tq, jobs[0].ent.tqent_id);
	CHECK(jobs[0].before == GUARD && jobs[0].after == GUARD);
	kfree(jobs);
}

static void abi_pooled(taskq_t *tq, atomic_t *runs)
{
	struct abi_job *j = kzalloc(sizeof(*j) * 3, GFP_KERNEL);
	taskqid_t a, b, c;

	CHECK(j);
	if (!j)
		return;
	abi_job_init(&j[0], runs, tq);
	abi_job_init(&j[1], runs, tq);
	abi_job_init(&j[2], runs, tq);
	a = taskq_dispatch(tq, abi_job_fn, &j[0], TQ_SLEEP);
	CHECK(a != TASKQID_INVALID);
	b = taskq_dispatch_delay(tq, abi_job_fn, &j[1], TQ_SLEEP,
				 ddi_get_lbolt() + MSEC_TO_TICK(50));
	CHECK(b > a);
	c = taskq_dispatch_delay(tq, abi_job_fn, &j[2], TQ_SLEEP,
				 ddi_get_lbolt() + SEC_TO_TICK(60));
	CHECK(c > b);
	CHECK(taskq_cancel_id(tq, c, B_TRUE) == 0);	/* never runs */
	taskq_wait_outstanding(tq, b);
	CHECK(completion_done(&j[0].done) && completion_done(&j[1].done));
	CHECK(!completion_done(&j[2].done));
	CHECK(taskq_cancel_id(tq, a, B_FALSE) == ENOENT);
	kfree(j);
}

static void abi_system_queues(atomic_t *runs)
{
	struct abi_job *j = kzalloc(sizeof(*j), GFP_KERNEL);
	taskqid_t id;

	CHECK(system_taskq && system_delay_taskq);
	if (!j || !system_taskq || !system_delay_taskq) {
		kfree(j);
		return;
	}
	abi_job_init(j, runs, system_taskq);
	id = taskq_dispatch(system_taskq, abi_job_fn, j, TQ_NOSLEEP);
	CHECK(id != TASKQID_INVALID);
	wait_for_completion(&j->done);
	CHECK(j->member && j->of_curthread == system_taskq);

	abi_job_init(j, runs, system_delay_taskq);
	id = taskq_dispatch_delay(system_delay_taskq, abi_job_fn, j, TQ_SLEEP,
				  ddi_get_lbolt() + 1);
	CHECK(id != TASKQID_INVALID);
	taskq_wait_id(system_delay_taskq, id);
	CHECK(j->member && j->of_curthread == system_delay_taskq);
	kfree(j);
}

static void abi_synced(void)
{
	kthread_t **threads = NULL;
	taskq_t *tq = taskq_create_synced("abi_synced", 2, defclsyspri, 0, 0, 0,
					  &threads);
	int i;

	CHECK(tq && threads);
	if (!tq || !threads)
		return;
	for (i = 0; i < 2; i++) {
		CHECK(threads[i] && taskq_member(tq, threads[i]));
		CHECK(task_nice(threads[i]) == PRIO_TO_NICE(minclsyspri));
	}
	taskq_destroy(tq);
	kfree(threads);		/* splkmem allocates it with kmalloc */
}

static int __init abi_init(void)
{
	atomic_t runs = ATOMIC_INIT(0);
	taskq_t *tq;

	pr_info("openzfs-abi: taskq_ent_t is %zu bytes, tqent_id at %zu\n",
		sizeof(taskq_ent_t), offsetof(taskq_ent_t, tqent_id));
	tq = taskq_create("abi_taskq", 2, maxclsyspri, 4, INT_MAX,
			  TASKQ_PREPOPULATE | TASKQ_DYNAMIC);
	CHECK(tq);
	if (!tq)
		return -EINVAL;
	CHECK(!taskq_member(tq, current));
	CHECK(taskq_of_curthread() == NULL);
	abi_entries(tq, &runs);
	abi_pooled(tq, &runs);
	taskq_destroy(tq);
	abi_system_queues(&runs);
	abi_synced();
	CHECK(atomic_read(&runs) == 4 + 1 + 2 + 2);
	if (failures) {
		pr_err("openzfs-abi: %d checks failed\n", failures);
		return -EINVAL;
	}
	pr_info("openzfs-abi: PASS (%d tasks ran)\n", atomic_read(&runs));
	return 0;
}

static void __exit abi_exit(void)
{
}

module_init(abi_init);
module_exit(abi_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("splkmem test: a taskq consumer built against OpenZFS 2.4.4's headers");
