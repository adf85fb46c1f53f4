// SPDX-License-Identifier: GPL-2.0
/*
 * Layout facts the C++ task queue needs from the kernel's headers, made
 * into module/generated/taskq_sizes.h the way kernel_sizes.c does (the
 * asm-offsets technique): the size of struct timer_list, the size and
 * member offsets of our struct taskq_ent (include/sys/taskq.h, which the
 * core's TaskEntry is laid over), and the kernel priorities that SPL's
 * maxclsyspri/defclsyspri/minclsyspri are made of.
 */
#include <linux/kbuild.h>
#include <linux/sched/prio.h>
#include <linux/stddef.h>
#include <linux/timer.h>
#include <sys/taskq.h>

int main(void);
int main(void)
{
	DEFINE(SPLK_TIMER_LIST_SIZE, sizeof(struct timer_list));
	DEFINE(SPLK_TIMER_LIST_ALIGN, __alignof__(struct timer_list));
	DEFINE(SPLK_TQENT_SIZE, sizeof(struct taskq_ent));
	DEFINE(SPLK_TQENT_ALIGN, __alignof__(struct taskq_ent));
	DEFINE(SPLK_TQENT_LOCK_OFFSET, offsetof(struct taskq_ent, tqent_lock));
	DEFINE(SPLK_TQENT_WAITQ_OFFSET, offsetof(struct taskq_ent, tqent_waitq));
	DEFINE(SPLK_TQENT_TIMER_OFFSET, offsetof(struct taskq_ent, tqent_timer));
	DEFINE(SPLK_TQENT_LIST_OFFSET, offsetof(struct taskq_ent, tqent_list));
	DEFINE(SPLK_TQENT_ID_OFFSET, offsetof(struct taskq_ent, tqent_id));
	DEFINE(SPLK_TQENT_FUNC_OFFSET, offsetof(struct taskq_ent, tqent_func));
	DEFINE(SPLK_TQENT_ARG_OFFSET, offsetof(struct taskq_ent, tqent_arg));
	DEFINE(SPLK_TQENT_TASKQ_OFFSET, offsetof(struct taskq_ent, tqent_taskq));
	DEFINE(SPLK_TQENT_FLAGS_OFFSET, offsetof(struct taskq_ent, tqent_flags));
	DEFINE(SPLK_TQENT_BIRTH_OFFSET, offsetof(struct taskq_ent, tqent_birth));
	DEFINE(SPLK_MAX_RT_PRIO, MAX_RT_PRIO);
	DEFINE(SPLK_DEFAULT_PRIO, DEFAULT_PRIO);
	DEFINE(SPLK_MAX_PRIO, MAX_PRIO);

	return 0;
}
