// SPDX-License-Identifier: GPL-2.0
/*
 * The size and member offsets of OpenZFS 2.4.4's taskq_ent_t, compiled
 * against OpenZFS's own include/os/linux/spl/sys/taskq.h (extracted from
 * the release tarball by scripts/openzfs-headers.sh) and the target
 * kernel's headers, made into module/generated/openzfs_abi.h (the
 * asm-offsets technique).  taskq_services.c static_asserts that our
 * struct taskq_ent (include/sys/taskq.h) has the same size and offsets.
 * Built only when the tarball is there (Kbuild: SPLKMEM_OPENZFS).
 */
#include <linux/kbuild.h>
#include <linux/stddef.h>
#include <sys/taskq.h>		/* OpenZFS's, not ours: see Kbuild */
#include <sys/sysmacros.h>

int main(void);
int main(void)
{
	DEFINE(OPENZFS_TQENT_SIZE, sizeof(taskq_ent_t));
	DEFINE(OPENZFS_TQENT_LOCK_OFFSET, offsetof(taskq_ent_t, tqent_lock));
	DEFINE(OPENZFS_TQENT_WAITQ_OFFSET, offsetof(taskq_ent_t, tqent_waitq));
	DEFINE(OPENZFS_TQENT_TIMER_OFFSET, offsetof(taskq_ent_t, tqent_timer));
	DEFINE(OPENZFS_TQENT_LIST_OFFSET, offsetof(taskq_ent_t, tqent_list));
	DEFINE(OPENZFS_TQENT_ID_OFFSET, offsetof(taskq_ent_t, tqent_id));
	DEFINE(OPENZFS_TQENT_FUNC_OFFSET, offsetof(taskq_ent_t, tqent_func));
	DEFINE(OPENZFS_TQENT_ARG_OFFSET, offsetof(taskq_ent_t, tqent_arg));
	DEFINE(OPENZFS_TQENT_TASKQ_OFFSET, offsetof(taskq_ent_t, tqent_taskq));
	DEFINE(OPENZFS_TQENT_FLAGS_OFFSET, offsetof(taskq_ent_t, tqent_flags));
	DEFINE(OPENZFS_TQENT_BIRTH_OFFSET, offsetof(taskq_ent_t, tqent_birth));
	DEFINE(OPENZFS_TQENT_FLAG_PREALLOC, TQENT_FLAG_PREALLOC);
	DEFINE(OPENZFS_TQENT_FLAG_CANCEL, TQENT_FLAG_CANCEL);
	DEFINE(OPENZFS_TQENT_LIST_MASK, TQENT_LIST_MASK);
	DEFINE(OPENZFS_TQ_FLAGS, TQ_SLEEP | TQ_NOSLEEP | TQ_PUSHPAGE |
	       TQ_NOQUEUE | TQ_NOALLOC | TQ_NEW | TQ_FRONT);
	DEFINE(OPENZFS_TQ_FRONT, TQ_FRONT);
	DEFINE(OPENZFS_TQ_NOQUEUE, TQ_NOQUEUE);
	DEFINE(OPENZFS_TASKQ_FLAGS, TASKQ_PREPOPULATE | TASKQ_CPR_SAFE |
	       TASKQ_DYNAMIC | TASKQ_THREADS_CPU_PCT | TASKQ_DC_BATCH);
	DEFINE(OPENZFS_MAXCLSYSPRI, maxclsyspri);
	DEFINE(OPENZFS_DEFCLSYSPRI, defclsyspri);
	DEFINE(OPENZFS_MINCLSYSPRI, minclsyspri);
	DEFINE(OPENZFS_WTQCLSYSPRI, wtqclsyspri);

	return 0;
}
