// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel services of the C++ task queue (declared in seam.h, section
 * "Task queue services"): the kernel objects inside a taskq_ent_t (its
 * timer for delayed dispatch, lock, wait queue), the sleep and wake-up of
 * idle workers, worker threads with SPL's priorities, and finding the
 * queue of a thread.
 *
 * This file also holds the build-time proof of binary compatibility with
 * OpenZFS 2.4.4 (include/sys/taskq.h explains what is compatible): with
 * SPLKMEM_OPENZFS_ABI, generated/openzfs_abi.h holds the size and offsets
 * of OpenZFS's taskq_ent_t compiled from OpenZFS's own header against the
 * same kernel, and every one must equal ours.
 */
#include <linux/atomic.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/timer.h>
#include <linux/wait.h>

#include <sys/taskq.h>

#include "seam.h"
#include "generated/taskq_sizes.h"

static_assert(sizeof(struct timer_list) == SPLK_TIMER_LIST_SIZE);
static_assert(sizeof(struct taskq_ent) == SPLK_TQENT_SIZE);
static_assert(MAX_RT_PRIO == SPLK_MAX_RT_PRIO && MAX_PRIO == SPLK_MAX_PRIO);

#ifdef SPLKMEM_OPENZFS_ABI
#include "generated/openzfs_abi.h"

#define SPLK_SAME_OFFSET(name, member)					\
	static_assert(offsetof(struct taskq_ent, member) ==		\
		      OPENZFS_TQENT_##name##_OFFSET,			\
		      "taskq_ent_t." #member " is not where OpenZFS 2.4.4 has it")

static_assert(sizeof(struct taskq_ent) == OPENZFS_TQENT_SIZE,
	      "taskq_ent_t differs in size from OpenZFS 2.4.4's");
SPLK_SAME_OFFSET(LOCK, tqent_lock);
SPLK_SAME_OFFSET(WAITQ, tqent_waitq);
SPLK_SAME_OFFSET(TIMER, tqent_timer);
SPLK_SAME_OFFSET(LIST, tqent_list);
SPLK_SAME_OFFSET(ID, tqent_id);
SPLK_SAME_OFFSET(FUNC, tqent_func);
SPLK_SAME_OFFSET(ARG, tqent_arg);
SPLK_SAME_OFFSET(TASKQ, tqent_taskq);
SPLK_SAME_OFFSET(FLAGS, tqent_flags);
SPLK_SAME_OFFSET(BIRTH, tqent_birth);
static_assert(OPENZFS_TQENT_FLAG_PREALLOC == TQENT_FLAG_PREALLOC &&
	      OPENZFS_TQENT_FLAG_CANCEL == TQENT_FLAG_CANCEL &&
	      OPENZFS_TQENT_LIST_MASK == TQENT_LIST_MASK);
static_assert(OPENZFS_TQ_FLAGS == (TQ_SLEEP | TQ_NOSLEEP | TQ_PUSHPAGE |
	      TQ_NOQUEUE | TQ_NOALLOC | TQ_NEW | TQ_FRONT) &&
	      OPENZFS_TQ_FRONT == TQ_FRONT && OPENZFS_TQ_NOQUEUE == TQ_NOQUEUE);
static_assert(OPENZFS_TASKQ_FLAGS == (TASKQ_PREPOPULATE | TASKQ_CPR_SAFE |
	      TASKQ_DYNAMIC | TASKQ_THREADS_CPU_PCT | TASKQ_DC_BATCH));
static_assert(OPENZFS_MAXCLSYSPRI == maxclsyspri &&
	      OPENZFS_DEFCLSYSPRI == defclsyspri &&
	      OPENZFS_MINCLSYSPRI == minclsyspri &&
	      OPENZFS_WTQCLSYSPRI == wtqclsyspri);
#endif

/*
 * SPL's dynamic task queue parameters, with SPL's names, types,
 * permissions and defaults.  A TASKQ_DYNAMIC queue starts with one thread
 * and grows to its nthreads while work waits; its idle threads retire.
 */
int spl_taskq_thread_dynamic = 1;
module_param(spl_taskq_thread_dynamic, int, 0444);
MODULE_PARM_DESC(spl_taskq_thread_dynamic, "Allow dynamic taskq threads");

unsigned int spl_taskq_thread_sequential = 4;
module_param(spl_taskq_thread_sequential, uint, 0644);
MODULE_PARM_DESC(spl_taskq_thread_sequential,
		 "Create new taskq threads after N sequential tasks");

unsigned int spl_taskq_thread_timeout_ms = 5000;
module_param(spl_taskq_thread_timeout_ms, uint, 0644);
MODULE_PARM_DESC(spl_taskq_thread_timeout_ms,
		 "Minimum idle threads exit interval for dynamic taskqs");

/* SPL's: new threads are bound to CPUs in turn; nice follows the priority. */
int spl_taskq_thread_bind;
module_param(spl_taskq_thread_bind, int, 0644);
MODULE_PARM_DESC(spl_taskq_thread_bind, "Bind taskq thread to CPU by default");

int spl_taskq_thread_priority = 1;
module_param(spl_taskq_thread_priority, int, 0644);
MODULE_PARM_DESC(spl_taskq_thread_priority,
		 "Allow non-default priority for taskq threads");

/*
 * SPL's spl_taskq_kick: writing a nonzero number makes every queue whose
 * next task has waited longer than 5 s ask for one more thread (dynamic
 * queues below their maximum; each queue is logged).  Reads 0: the value
 * is not kept, as in SPL.
 */
static unsigned int spl_taskq_kick;

static int splk_taskq_kick_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int rc = kstrtouint(val, 0, &v);

	if (rc) {
		pr_err("splkmem: spl_taskq_kick: '%s' is not a number\n", val);
		return rc;
	}
	if (v)
		splk_taskq_kick();
	return 0;
}

static const struct kernel_param_ops splk_taskq_kick_ops = {
	.set = splk_taskq_kick_set,
	.get = param_get_uint,
};

module_param_cb(spl_taskq_kick, &splk_taskq_kick_ops, &spl_taskq_kick, 0644);
MODULE_PARM_DESC(spl_taskq_kick,
		 "Write nonzero to kick stuck taskqs to spawn more threads");

#ifdef SPLKMEM_TEST_HOOKS
/* Test builds: the suites shorten the idle timeout, bind, drop priorities. */
EXPORT_SYMBOL_GPL(spl_taskq_thread_timeout_ms);
EXPORT_SYMBOL_GPL(spl_taskq_thread_bind);
EXPORT_SYMBOL_GPL(spl_taskq_thread_priority);
#endif

unsigned int splk_num_online_cpus(void)
{
	return num_online_cpus();
}

/*
 * CPU hotplug for TASKQ_THREADS_CPU_PCT queues, as SPL registers it: an
 * AP_ONLINE_DYN state, whose startup runs on a CPU that has just come
 * online and whose teardown runs on one about to go down, while it is
 * still in cpu_online_mask.  Both may sleep.
 */
static int splk_tq_cpuhp_state;

static int splk_tq_cpu_online(unsigned int cpu)
{
	splk_taskq_cpus_changed(num_online_cpus() + !cpu_online(cpu));
	return 0;
}

static int splk_tq_cpu_down_prep(unsigned int cpu)
{
	splk_taskq_cpus_changed(num_online_cpus() - !!cpu_online(cpu));
	return 0;
}

int splk_tq_hotplug_init(void)
{
	int rc = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "splkmem/taskq:online",
					   splk_tq_cpu_online, splk_tq_cpu_down_prep);

	if (rc < 0) {
		pr_err("splkmem: cannot register the task queues' CPU hotplug state: %d\n", rc);
		return rc;
	}
	splk_tq_cpuhp_state = rc;
	return 0;
}

void splk_tq_hotplug_exit(void)
{
	if (splk_tq_cpuhp_state > 0)
		cpuhp_remove_state_nocalls(splk_tq_cpuhp_state);
	splk_tq_cpuhp_state = 0;
}

static DEFINE_MUTEX(splk_tq_registry);

void splk_tq_registry_lock(void)
{
	mutex_lock(&splk_tq_registry);
}

void splk_tq_registry_unlock(void)
{
	mutex_unlock(&splk_tq_registry);
}

void splk_tq_registry_assert_held(void)
{
	lockdep_assert_held(&splk_tq_registry);
}

static void splk_tq_timer_fn(struct timer_list *timer)
{
	splk_taskq_entry_expired(container_of(timer, struct taskq_ent, tqent_timer));
}

void splk_tq_entry_kernel_init(void *entry)
{
	struct taskq_ent *ent = entry;

	spin_lock_init(&ent->tqent_lock);
	init_waitqueue_head(&ent->tqent_waitq);
	timer_setup(&ent->tqent_timer, splk_tq_timer_fn, 0);
}

void splk_tq_entry_arm(void *entry, unsigned long expires)
{
	struct taskq_ent *ent = entry;

	ent->tqent_timer.expires = expires;
	add_timer(&ent->tqent_timer);
}

void splk_tq_entry_disarm_sync(void *entry)
{
	timer_delete_sync(&((struct taskq_ent *)entry)->tqent_timer);
}

unsigned long splk_jiffies(void)
{
	return jiffies;
}

void splk_tq_prepare_idle(void)
{
	set_current_state(TASK_INTERRUPTIBLE);
}

long splk_tq_idle(long timeout)
{
	return schedule_timeout(timeout < 0 ? MAX_SCHEDULE_TIMEOUT : timeout);
}

void splk_tq_cancel_idle(void)
{
	__set_current_state(TASK_RUNNING);
}

void splk_tq_thread_wake(void *thread)
{
	wake_up_process(thread);
}

void *splk_tq_current(void)
{
	return current;
}

/*
 * SPL: a thread of a queue created with priority pri runs at that nice
 * (unless spl_taskq_thread_priority is 0); with spl_taskq_thread_bind each
 * new thread is bound to the next CPU in turn.
 */
void *splk_tq_thread_create(int (*fn)(void *), void *arg, int pri,
			    const char *name, int instance)
{
	static atomic_t last_cpu = ATOMIC_INIT(0);
	struct task_struct *t = kthread_create(fn, arg, "%s/%d", name, instance);

	if (IS_ERR(t))
		return NULL;
	if (READ_ONCE(spl_taskq_thread_bind))
		kthread_bind(t, (unsigned int)atomic_inc_return(&last_cpu) %
			     num_online_cpus());
	if (READ_ONCE(spl_taskq_thread_priority))
		set_user_nice(t, clamp(PRIO_TO_NICE(pri), MIN_NICE, MAX_NICE));
	wake_up_process(t);
	return t;
}

void *splk_tq_thread_data(void *thread, int (*fn)(void *))
{
	struct task_struct *t = thread ? thread : current;

	if (!(t->flags & PF_KTHREAD) || kthread_func(t) != fn)
		return NULL;
	return kthread_data(t);
}
