/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the C glue files only (never seen by C++). */
#ifndef SPLKMEM_GLUE_H
#define SPLKMEM_GLUE_H

void splk_kernel_info_init(void);
void splk_drain_init(void);
int splk_proc_init(void);
void splk_proc_exit(void);
struct proc_dir_entry *splk_proc_spl_dir(void);
void splk_taskq_proc_init(void);
void splk_taskq_proc_exit(void);
struct proc_dir_entry *splkmem_proc_kstat_dir(void);
int splk_shrinker_init(void);
void splk_shrinker_exit(void);
int splk_hotplug_init(void);
void splk_hotplug_exit(void);

#endif /* SPLKMEM_GLUE_H */
