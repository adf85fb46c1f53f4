/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splkmem: the OpenZFS SPL task queue API, <sys/taskq.h>, with the
 * prototypes of OpenZFS 2.4.4's include/os/linux/spl/sys/taskq.h.
 *
 * Binary compatibility with OpenZFS 2.4.4
 * ---------------------------------------
 * A module compiled against OpenZFS's own SPL headers links against
 * splkmem and passes us three kinds of data:
 *
 * - taskq_t *: opaque to consumers (no OpenZFS header or inline function
 *   reads a taskq_t field), so ours is a different, private structure.
 * - taskq_ent_t: consumers embed it in their own structures (zio_t,
 *   dmu_buf_user_t, ...), so its size is part of the ABI, and
 *   taskq_init_ent(), taskq_dispatch_ent() and taskq_empty_ent() write
 *   and read it.  struct taskq_ent below has SPL's members, types and
 *   order: lock, wait queue, timer, list linkage, id, function, argument,
 *   queue, flags, birth time.  So its size and every offset equal
 *   OpenZFS's for any kernel configuration, and each member means what it
 *   means in SPL (tqent_id is the id of the last dispatch, TASKQID_INVALID
 *   when a dispatch was refused; tqent_list is empty when the entry is not
 *   queued; tqent_flags carries TQENT_FLAG_* and TQENT_LIST_*).  How it is
 *   checked: when the OpenZFS 2.4.4 tarball is available at build time,
 *   module/linux/openzfs_abi.c is compiled against OpenZFS's own taskq.h and
 *   the target kernel's headers, its sizeof/offsetof values become
 *   generated/openzfs_abi.h, and module/linux/taskq_services.c static_asserts
 *   that our size and every member's offset are equal.  The C++ core's
 *   view of the entry is checked against this structure the same way
 *   (generated/taskq_sizes.h, static_asserts in task_queue.cpp).  A
 *   consumer module built against OpenZFS's headers (tests/openzfs-abi/)
 *   is loaded on splkmem in make check.
 * - pri_t priorities: kernel priorities as in SPL's sys/sysmacros.h
 *   (maxclsyspri is MAX_RT_PRIO, ...), defined identically below, so both
 *   header sets pass the same numbers; a thread gets nice
 *   PRIO_TO_NICE(pri), as in SPL.
 *
 * Not provided: taskq_t's members, tq_list/tq_list_sem (SPL's private
 * list of queues, not exported by spl-taskq.c either).
 */
#ifndef _SPLKMEM_SYS_TASKQ_H
#define _SPLKMEM_SYS_TASKQ_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/sched/prio.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/wait.h>
#include <splkmem/taskq_types.h>

struct task_struct;

/* A task entry; see above for what is ABI.  Owned by splkmem once queued. */
struct taskq_ent {
	spinlock_t tqent_lock;		/* initialized, not used by splkmem */
	wait_queue_head_t tqent_waitq;	/* initialized, not used by splkmem */
	struct timer_list tqent_timer;	/* delayed dispatch */
	struct list_head tqent_list;	/* on a queue list, else empty */
	taskqid_t tqent_id;
	task_func_t *tqent_func;
	void *tqent_arg;
	taskq_t *tqent_taskq;
	uintptr_t tqent_flags;		/* TQENT_FLAG_*, TQENT_LIST_* */
	unsigned long tqent_birth;	/* jiffies when queued */
};

/*
 * Thread priorities: kernel priorities, as SPL's sys/sysmacros.h defines
 * them (lower is more important; 100..139 are nice -20..19).
 */
#ifndef maxclsyspri
#define maxclsyspri		(MAX_RT_PRIO)
#define defclsyspri		(DEFAULT_PRIO)
#define minclsyspri		(MAX_PRIO - 1)
#define wtqclsyspri		(MAX_RT_PRIO + 1)
#endif

/* Dynamic queue shared by all consumers, for short tasks. */
extern taskq_t *system_taskq;
/* Dynamic queue for tasks dispatched with a long delay. */
extern taskq_t *system_delay_taskq;

/**
 * taskq_create() - create a task queue and start its threads
 * @name:     name, at most %TASKQ_NAMELEN characters; threads are "name/N"
 * @nthreads: threads (1-1024), or a percentage of the CPUs with
 *            %TASKQ_THREADS_CPU_PCT (of the CPUs online: the count
 *            follows CPU hotplug, as SPL's)
 * @pri:      kernel priority: %maxclsyspri (nice -20) .. %minclsyspri
 *            (nice 19); %defclsyspri is nice 0
 * @minalloc: entries kept in the pool (preallocated with %TASKQ_PREPOPULATE,
 *            at most 4096 of them, with a message: the rest on demand)
 * @maxalloc: entries in existence above which %TQ_NOSLEEP dispatches fail
 *            and %TQ_SLEEP dispatches are throttled (as SPL: polled every
 *            10 ms for up to a second, then allocated anyway)
 * @flags:    %TASKQ_PREPOPULATE, %TASKQ_THREADS_CPU_PCT, %TASKQ_DYNAMIC
 *            (one thread at first, up to @nthreads while work waits, idle
 *            ones retire: spl_taskq_thread_* parameters); %TASKQ_CPR_SAFE
 *            and %TASKQ_DC_BATCH are accepted; other bits are refused
 *
 * May sleep.  Returns NULL (with a message) on bad arguments or no memory.
 */
taskq_t *taskq_create(const char *name, int nthreads, pri_t pri, int minalloc,
		      int maxalloc, unsigned int flags);

/**
 * taskq_create_synced() - taskq_create() with @nthreads threads, all
 * running when it returns, and their task_structs
 * @name:     as taskq_create()
 * @nthreads: threads (not a percentage)
 * @pri:      ignored: the threads get %minclsyspri, as in SPL
 * @minalloc: ignored: @nthreads entries are preallocated, as in SPL
 * @maxalloc: ignored (unlimited), as in SPL
 * @flags:    as taskq_create(), without %TASKQ_DYNAMIC,
 *            %TASKQ_THREADS_CPU_PCT and %TASKQ_DC_BATCH
 * @ktpp:     receives a kmalloc'ed array of the @nthreads threads, which
 *            the caller frees with kfree() (SPL's kmem_free())
 */
taskq_t *taskq_create_synced(const char *name, int nthreads, pri_t pri,
			     int minalloc, int maxalloc, unsigned int flags,
			     struct task_struct ***ktpp);

/**
 * taskq_destroy() - run every pending and delayed task, stop the threads,
 * free the queue
 * @tq: the queue; dispatches after this starts fail (%TASKQID_INVALID)
 */
void taskq_destroy(taskq_t *tq);

/**
 * taskq_dispatch() - queue func(arg) with an entry from the queue's pool
 * @tq:    the queue
 * @func:  the task
 * @arg:   its argument
 * @flags: %TQ_SLEEP or %TQ_NOSLEEP, optionally %TQ_PUSHPAGE, %TQ_FRONT
 *         (before every normal task, after earlier %TQ_FRONT ones),
 *         %TQ_NOQUEUE (fail if every thread is busy, else run next),
 *         %TQ_NOALLOC (fail rather than allocate an entry)
 *
 * Callable from any context with %TQ_NOSLEEP.  Returns the task id, or
 * %TASKQID_INVALID when it could not be queued (as SPL, also on a queue
 * being destroyed, without a warning).  A NULL @tq or @func or unknown
 * flags: a WARN naming the queue and %TASKQID_INVALID.
 */
taskqid_t taskq_dispatch(taskq_t *tq, task_func_t func, void *arg,
			 unsigned int flags);

/**
 * taskq_dispatch_delay() - queue func(arg) to run at a given time
 * @tq:          the queue
 * @func:        the task
 * @arg:         its argument
 * @flags:       as taskq_dispatch()
 * @expire_time: when, in absolute jiffies (SPL: ddi_get_lbolt() + delay)
 *
 * The task waits on the queue's delay list; at @expire_time it moves to
 * the priority list in id order.  taskq_cancel_id() before then means it
 * never runs.  taskq_wait() waits for delayed tasks too.
 */
taskqid_t taskq_dispatch_delay(taskq_t *tq, task_func_t func, void *arg,
			       unsigned int flags, clock_t expire_time);

/**
 * taskq_dispatch_ent() - queue func(arg) with the caller's entry
 * @tq:    the queue
 * @func:  the task
 * @arg:   its argument
 * @flags: %TQ_FRONT to run before what is pending; %TQ_NOQUEUE: not
 *         queued when every thread is busy, unless the queue is dynamic
 *         and can add a thread, when it is queued as %TQ_FRONT (as SPL)
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
 * Returns, as SPL: 0 when the task was queued (pending, %TQ_FRONT,
 * delayed, or delayed and due) and will not run (the caller owns its
 * resources); %EBUSY when it is running and @wait is false; %ENOENT when
 * it is not found (finished, cancelled already, never issued,
 * %TASKQID_INVALID) or was running and has finished by the time this
 * returns (@wait true).
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
 *
 * Returns at once when @id is neither queued, delayed nor running: a task
 * that finished, an id never issued, %TASKQID_INVALID (as SPL).
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

/**
 * taskq_of_curthread() - the queue whose thread is running, or NULL
 */
taskq_t *taskq_of_curthread(void);

/* illumos variants with a process and a duty cycle, which Linux has not. */
#define taskq_create_proc(name, nthreads, pri, min, max, proc, flags) \
	((void)sizeof(proc), taskq_create(name, nthreads, pri, min, max, flags))
#define taskq_create_sysdc(name, nthreads, min, max, proc, dc, flags) \
	((void)sizeof(proc), (void)sizeof(dc), \
	 taskq_create(name, nthreads, maxclsyspri, min, max, flags))

#endif /* _SPLKMEM_SYS_TASKQ_H */
