/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splkmem: the OpenZFS SPL task queue API, <sys/taskq.h> - the part the
 * object cache needs (and SPL consumers use most): create, dispatch with a
 * pooled or a caller-owned entry, cancel, wait, destroy.  Not provided:
 * delayed dispatch (taskq_dispatch_delay), system_taskq, taskq_of_curthread.
 */
#ifndef _SPLKMEM_SYS_TASKQ_H
#define _SPLKMEM_SYS_TASKQ_H

#include <linux/types.h>
#include <splkmem/taskq_types.h>

struct task_struct;

/**
 * taskq_create() - create a task queue and start its threads
 * @name:     name, at most %TASKQ_NAMELEN characters; threads are "name/N"
 * @nthreads: threads (1-1024), or a percentage of the CPUs with
 *            %TASKQ_THREADS_CPU_PCT
 * @pri:      thread priority as a nice value: %maxclsyspri (-20) ..
 *            %minclsyspri (19)
 * @minalloc: entries kept in the pool (preallocated with %TASKQ_PREPOPULATE)
 * @maxalloc: entries above which %TQ_NOSLEEP dispatches fail
 * @flags:    %TASKQ_PREPOPULATE, %TASKQ_THREADS_CPU_PCT; %TASKQ_DYNAMIC and
 *            %TASKQ_CPR_SAFE are accepted (all threads start at once)
 *
 * May sleep.  Returns NULL (with a message) on bad arguments or no memory.
 */
taskq_t *taskq_create(const char *name, int nthreads, pri_t pri, int minalloc,
		      int maxalloc, unsigned int flags);

/**
 * taskq_destroy() - run every pending task, stop the threads, free the queue
 * @tq: the queue; dispatches after this starts fail
 */
void taskq_destroy(taskq_t *tq);

/**
 * taskq_dispatch() - queue func(arg) with an entry from the queue's pool
 * @tq:    the queue
 * @func:  the task
 * @arg:   its argument
 * @flags: %TQ_SLEEP or %TQ_NOSLEEP, optionally %TQ_PUSHPAGE, %TQ_FRONT
 *         (run before what is pending), %TQ_NOQUEUE (fail if every thread
 *         is busy), %TQ_NOALLOC (fail rather than allocate an entry)
 *
 * Callable from any context with %TQ_NOSLEEP.  Returns the task id, or
 * %TASKQID_INVALID when it could not be queued.
 */
taskqid_t taskq_dispatch(taskq_t *tq, task_func_t func, void *arg,
			 unsigned int flags);

/**
 * taskq_dispatch_ent() - queue func(arg) with the caller's entry
 * @tq:    the queue
 * @func:  the task
 * @arg:   its argument
 * @flags: %TQ_FRONT to run before what is pending
 * @ent:   an entry initialized by taskq_init_ent() and not queued now
 *
 * Never allocates, callable from any context.  The entry is not touched
 * once @func starts, so @func may reuse or free it.  On a queue being
 * destroyed the task is not queued and the entry's id is %TASKQID_INVALID.
 */
void taskq_dispatch_ent(taskq_t *tq, task_func_t func, void *arg,
			unsigned int flags, taskq_ent_t *ent);

/**
 * taskq_init_ent() - initialize a caller-owned entry
 * @ent: the entry
 */
void taskq_init_ent(taskq_ent_t *ent);

/**
 * taskq_empty_ent() - whether an entry is not queued
 * @ent: the entry
 */
int taskq_empty_ent(taskq_ent_t *ent);

/**
 * taskq_cancel_id() - cancel a task
 * @tq:   the queue
 * @id:   the task id
 * @wait: when the task is running, wait for it to finish
 *
 * Returns 0 when the task was pending and will not run (the caller owns
 * its resources); %EBUSY when it is running and @wait is false; %ENOENT
 * when it is unknown, already done, or was running and has now finished.
 */
int taskq_cancel_id(taskq_t *tq, taskqid_t id, int wait);

/**
 * taskq_wait() - wait until nothing is pending or running
 * @tq: the queue; tasks that dispatch more tasks make this wait for those
 */
void taskq_wait(taskq_t *tq);

/**
 * taskq_wait_id() - wait until one task is done (or cancelled)
 * @tq: the queue
 * @id: the task id
 */
void taskq_wait_id(taskq_t *tq, taskqid_t id);

/**
 * taskq_wait_outstanding() - wait until every task up to an id is done
 * @tq: the queue
 * @id: the id, or 0 for every task dispatched so far
 */
void taskq_wait_outstanding(taskq_t *tq, taskqid_t id);

/**
 * taskq_member() - whether a thread is one of the queue's threads
 * @tq:     the queue
 * @thread: the thread
 */
int taskq_member(taskq_t *tq, struct task_struct *thread);

#endif /* _SPLKMEM_SYS_TASKQ_H */
