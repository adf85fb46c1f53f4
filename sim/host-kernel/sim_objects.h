/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's kernel objects: what the simulation stores in the storage the
 * core reserves for a spinlock_t, a wait_queue_head_t, a timer_list, an
 * rb_root and an xarray.  Plain C, so that the sizes generator
 * (sim/gen/host_sizes.c) and the C++ seam implementation see one
 * definition; the generated headers take their sizes from here, as the
 * kernel build takes them from the kernel's own headers.
 */
#ifndef SIM_OBJECTS_H
#define SIM_OBJECTS_H

#include <stdint.h>

#define SIM_SPIN_MAGIC 0x5350494eu	/* "SPIN" */
#define SIM_WAITQ_MAGIC 0x57414954u	/* "WAIT" */
#define SIM_TIMER_MAGIC 0x54494d52u	/* "TIMR" */
#define SIM_XA_MAGIC 0x58415252u	/* "XARR" */

struct sim_spinlock {
	uint32_t magic;
	int32_t owner;		/* thread id + 1, 0 when free */
	int32_t cls;		/* splk_lock_class */
	uint32_t irqsafe_seen;	/* taken with interrupts off at least once */
};

struct sim_waitq {
	uint32_t magic;
	uint32_t pad;
	void *head;		/* first waiting sim::Thread */
};

struct sim_timer {
	uint32_t magic;
	uint32_t armed;
	uint32_t pad[2];
	uint64_t expires;
	uint64_t seq;		/* arm order: ties expire in it */
	void *entry;		/* what splk_taskq_entry_expired() is given */
};

struct sim_rb_root {
	void *first;		/* a list of sim address nodes */
};

struct sim_xarray {
	uint32_t magic;
	uint32_t pad;
	void *impl;		/* the host's map, made by splk_index_init() */
};

struct sim_list_head {
	struct sim_list_head *next, *prev;
};

#endif
