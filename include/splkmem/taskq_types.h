/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splkmem: the task queue types and flags with OpenZFS SPL's names and
 * values.  Plain C with no include, shared by <sys/taskq.h> and the C++
 * core.  struct taskq_ent itself is in <sys/taskq.h> (it embeds kernel
 * objects); the core lays its TaskEntry over it (checked at build time,
 * module/linux/taskq_services.c and module/core/task_queue.cpp).
 */
#ifndef _SPLKMEM_TASKQ_TYPES_H
#define _SPLKMEM_TASKQ_TYPES_H

#define TASKQ_NAMELEN		31

#define TASKQ_PREPOPULATE	0x00000001	/* preallocate minalloc entries */
#define TASKQ_CPR_SAFE		0x00000002	/* accepted, no effect */
#define TASKQ_DYNAMIC		0x00000004	/* threads created and retired on demand */
#define TASKQ_THREADS_CPU_PCT	0x00000008	/* nthreads is a percentage of CPUs */
#define TASKQ_DC_BATCH		0x00000010	/* accepted, no effect */
#define TASKQ_ACTIVE		0x80000000	/* internal: queue accepts work */

#define TQ_SLEEP		0x00000000	/* may sleep to allocate an entry */
#define TQ_NOSLEEP		0x00000001	/* may not sleep, may fail */
#define TQ_PUSHPAGE		0x00000002	/* may use reserves */
#define TQ_NOQUEUE		0x01000000	/* only if a thread is idle; runs next */
#define TQ_NOALLOC		0x02000000	/* fail rather than allocate */
#define TQ_NEW			0x04000000	/* accepted, no effect */
#define TQ_FRONT		0x08000000	/* priority list: before normal tasks, FIFO */

#define TASKQID_INVALID		((taskqid_t)0)
#define TASKQID_INITIAL		((taskqid_t)1)

typedef unsigned long taskqid_t;
typedef void (task_func_t)(void *);
typedef int pri_t;
typedef struct taskq taskq_t;
/* Defined in <sys/taskq.h> with kernel types; the C++ core has its own view. */
typedef struct taskq_ent taskq_ent_t;

/* taskq_ent_t.tqent_flags, SPL's values and meaning. */
#define TQENT_FLAG_PREALLOC	0x1	/* the caller owns the entry */
#define TQENT_FLAG_CANCEL	0x2	/* cancelled while delayed */
#define TQENT_LIST_NONE		0x0	/* bits 2-3: the list it is on */
#define TQENT_LIST_PENDING	0x4
#define TQENT_LIST_PRIORITY	0x8
#define TQENT_LIST_DELAY	0xc
#define TQENT_LIST_MASK		0xc

#endif /* _SPLKMEM_TASKQ_TYPES_H */
