/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splkmem: the task queue types and flags with OpenZFS SPL's names and
 * values.  Plain C with no include, shared by <sys/taskq.h> and the C++
 * core, which lays its task entry over struct taskq_ent (checked by
 * static_assert in module/task_queue.cpp).
 */
#ifndef _SPLKMEM_TASKQ_TYPES_H
#define _SPLKMEM_TASKQ_TYPES_H

#define TASKQ_NAMELEN		31

#define TASKQ_PREPOPULATE	0x00000001	/* preallocate minalloc entries */
#define TASKQ_CPR_SAFE		0x00000002	/* accepted, no effect */
#define TASKQ_DYNAMIC		0x00000004	/* accepted: threads are created up front */
#define TASKQ_THREADS_CPU_PCT	0x00000008	/* nthreads is a percentage of CPUs */
#define TASKQ_DC_BATCH		0x00000010	/* accepted, no effect */

#define TQ_SLEEP		0x00000000	/* may sleep to allocate an entry */
#define TQ_NOSLEEP		0x00000001	/* may not sleep, may fail */
#define TQ_PUSHPAGE		0x00000002	/* may use reserves */
#define TQ_NOQUEUE		0x01000000	/* fail rather than queue */
#define TQ_NOALLOC		0x02000000	/* fail rather than allocate */
#define TQ_NEW			0x04000000	/* accepted, no effect */
#define TQ_FRONT		0x08000000	/* queue at the head */

#define TASKQID_INVALID		((taskqid_t)0)
#define TASKQID_INITIAL		((taskqid_t)1)

/* Thread priorities as nice values, as SPL defines them on Linux. */
#define maxclsyspri		(-20)
#define defclsyspri		0
#define minclsyspri		19

typedef unsigned long taskqid_t;
typedef void (task_func_t)(void *);
typedef int pri_t;
typedef struct taskq taskq_t;

/*
 * A task entry.  Callers of taskq_dispatch_ent() own it and initialize it
 * once with taskq_init_ent(); its fields are private to splkmem.
 */
typedef struct taskq_ent {
	struct taskq_ent *tqent_prev;	/* list linkage, self when idle */
	struct taskq_ent *tqent_next;
	taskqid_t tqent_id;
	task_func_t *tqent_func;
	void *tqent_arg;
	taskq_t *tqent_taskq;
	unsigned long tqent_flags;
} taskq_ent_t;

#endif /* _SPLKMEM_TASKQ_TYPES_H */
