// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/spl/taskq and /proc/spl/taskq-all: one line per task queue in the
 * columns of OpenZFS 2.4's task queue summary (kstat taskq/summary):
 *
 *   taskq name (name.instance) | threads: total [active idle] max |
 *   tasks on queue: waiting [normal priority] delayed
 *
 * taskq-all lists every queue; taskq only those with a thread at work or
 * a task waiting, as SPL's /proc/spl/taskq did.  /proc/spl belongs to
 * proc.c (absent when SPL itself made it: then these are absent too).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "seam.h"
#include "glue.h"

struct taskq_proc_walk {
	struct seq_file *f;
	bool all;
};

static void taskq_show_one(const struct splk_taskq_stats *s, void *arg)
{
	struct taskq_proc_walk *w = arg;
	char name[TASKQ_NAMELEN + 8];
	char threads[32];
	char tasks[40];
	int waiting = s->npend + s->nprio + s->ndelay;

	if (!w->all && !s->nactive && !waiting)
		return;
	snprintf(name, sizeof(name), "%s.%d", s->name, s->instance);
	snprintf(threads, sizeof(threads), "%3d [%3d %3d] %3d", s->nthreads,
		 s->nactive, s->nthreads - s->nactive, s->maxthreads);
	snprintf(tasks, sizeof(tasks), "%5d [%5d %5d] %3d", waiting, s->npend,
		 s->nprio, s->ndelay);
	seq_printf(w->f, "%-20s | %-17s | %-23s\n", name, threads, tasks);
}

static int taskq_show(struct seq_file *f, bool all)
{
	struct taskq_proc_walk w = { .f = f, .all = all };

	seq_printf(f, "%-20s | %-17s | %-23s\n", "", "threads", "tasks on queue");
	seq_printf(f, "%-20s | %-17s | %-23s\n", "taskq name", "tot [act idl] max",
		   " pend [ norm  high] dly");
	seq_printf(f, "%-20s | %-17s | %-23s\n", "--------------------",
		   "-----------------", "-----------------------");
	splk_for_each_taskq(taskq_show_one, &w);
	return 0;
}

static int taskq_show_busy(struct seq_file *f, void *unused)
{
	return taskq_show(f, false);
}

static int taskq_show_all(struct seq_file *f, void *unused)
{
	return taskq_show(f, true);
}

static struct proc_dir_entry *taskq_busy_entry;
static struct proc_dir_entry *taskq_all_entry;

void splk_taskq_proc_init(void)
{
	struct proc_dir_entry *dir = splk_proc_spl_dir();

	if (!dir)
		return;		/* proc.c said why */
	taskq_busy_entry = proc_create_single("taskq", 0444, dir, taskq_show_busy);
	taskq_all_entry = proc_create_single("taskq-all", 0444, dir, taskq_show_all);
	if (!taskq_busy_entry || !taskq_all_entry)
		pr_warn("splkmem: cannot create /proc/spl/taskq and taskq-all\n");
}

void splk_taskq_proc_exit(void)
{
	proc_remove(taskq_all_entry);
	proc_remove(taskq_busy_entry);
	taskq_all_entry = NULL;
	taskq_busy_entry = NULL;
}
