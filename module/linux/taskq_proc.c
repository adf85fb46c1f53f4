// SPDX-License-Identifier: GPL-2.0
/*
 * The task queues in /proc, in OpenZFS 2.4's formats.
 *
 * /proc/spl/kstat/taskq/summary and /proc/spl/kstat/taskq/<name>.<instance>
 * are SPL's task queue kstats, byte for byte in the layout SPL's kstat
 * files have, so that what reads SPL's reads ours:
 *
 *   - a first line "kid type flags ndata data_size crtime snaptime"
 *     (crtime and snaptime in ns of CLOCK_MONOTONIC_RAW, as SPL's
 *     gethrtime());
 *   - summary, a raw kstat (type 0, flags 0x01 virtual, 1 datum of size
 *     0): three header lines, then one line a queue, newest first:
 *
 *       taskq name (name.instance) | threads: total [active idle] max |
 *       tasks on queue: waiting [normal priority] delayed
 *
 *   - a queue's file, a named kstat (type 1, flags 0x01, 23 data of SPL's
 *     kstat_named_t size): the line "name type data", then one line a
 *     field, "%-31s %-4d %llu" with type 4 (unsigned 64-bit), the fields
 *     and their order those of SPL's taskq_kstats_t.
 *
 * /proc/spl/taskq and /proc/spl/taskq-all have the summary's columns
 * (oldest queue first): taskq-all lists every queue; taskq only those
 * with a thread at work or a task waiting, as SPL's /proc/spl/taskq did.
 *
 * Who owns what: /proc/spl is proc.c's (absent when SPL itself made it:
 * then none of these exist).  /proc/spl/kstat is made here and handed to
 * OpenZFS's spl.ko when it loads on top of splkmem
 * (splkmem_proc_kstat_dir(), patches/openzfs-2.4.4-on-splkmem.patch):
 * spl.ko's kstats (zfs/...) go below it, and it is removed when splkmem
 * unloads, after spl.ko.  A queue's file is added when the queue is
 * registered and removed, its readers done, before the queue is freed
 * (the core calls splk_tq_kstat_install()/remove() under the registry
 * lock; a file's reader never takes that lock).
 */
#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include <sys/taskq.h>

#include "seam.h"
#include "glue.h"

/* SPL's kstat constants (sys/kstat.h), for the files' first line. */
#define SPLK_KSTAT_TYPE_RAW	0
#define SPLK_KSTAT_TYPE_NAMED	1
#define SPLK_KSTAT_FLAG_VIRTUAL	0x01
#define SPLK_KSTAT_DATA_UINT64	4
/*
 * sizeof(kstat_named_t) on 64-bit: a 255-byte name, a type byte, then a
 * 16-byte value union at 8-byte alignment.  The first line of a named
 * kstat shows ndata times this.
 */
#define SPLK_KSTAT_NAMED_SIZE	272

static struct proc_dir_entry *kstat_dir;	/* /proc/spl/kstat */
static struct proc_dir_entry *kstat_taskq_dir;	/* /proc/spl/kstat/taskq */
static struct proc_dir_entry *kstat_summary;
static struct proc_dir_entry *taskq_busy_entry;
static struct proc_dir_entry *taskq_all_entry;
/* SPL numbers its kstats in creation order (ks_kid). */
static atomic_t kstat_next_kid = ATOMIC_INIT(0);
static int summary_kid;
static s64 summary_crtime;

/* One queue's kstat file. */
struct splk_tq_kstat {
	struct proc_dir_entry *pde;
	void *tq;
	int kid;
	s64 crtime;
};

static void kstat_first_line(struct seq_file *f, int kid, int type, int ndata,
			     int size, s64 crtime)
{
	seq_printf(f, "%d %d 0x%02x %d %d %lld %lld\n", kid, type,
		   SPLK_KSTAT_FLAG_VIRTUAL, ndata, size, crtime,
		   (s64)ktime_get_raw_ns());
}

/* The threads and tasks columns of one queue. */
static void taskq_line(struct seq_file *f, const struct splk_taskq_stats *s)
{
	char name[TASKQ_NAMELEN + 13];
	char threads[32];
	char tasks[48];
	int idle = max(s->nthreads - s->nactive, 0);

	snprintf(name, sizeof(name), "%s.%d", s->name, s->instance);
	snprintf(threads, sizeof(threads), "%3d [%3d %3d] %3d", s->nthreads,
		 s->nactive, idle, s->maxthreads);
	snprintf(tasks, sizeof(tasks), "%5d [%5d %5d] %3d",
		 s->npend + s->nprio + s->ndelay, s->npend, s->nprio, s->ndelay);
	seq_printf(f, "%-20s | %-17s | %-23s\n", name, threads, tasks);
}

static void taskq_header(struct seq_file *f)
{
	seq_printf(f, "%-20s | %-17s | %-23s\n", "", "threads", "tasks on queue");
	seq_printf(f, "%-20s | %-17s | %-23s\n", "taskq name", "tot [act idl] max",
		   " pend [ norm  high] dly");
	seq_printf(f, "%-20s | %-17s | %-23s\n", "--------------------",
		   "-----------------", "-----------------------");
}

/* ---- /proc/spl/taskq, /proc/spl/taskq-all ---- */

struct taskq_proc_walk {
	struct seq_file *f;
	bool all;
};

static void taskq_show_one(const struct splk_taskq_stats *s, void *arg)
{
	struct taskq_proc_walk *w = arg;

	if (w->all || s->nactive || s->npend + s->nprio + s->ndelay)
		taskq_line(w->f, s);
}

static int taskq_show(struct seq_file *f, bool all)
{
	struct taskq_proc_walk w = { .f = f, .all = all };

	taskq_header(f);
	splk_taskq_for_each(taskq_show_one, &w, false);
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

/* ---- /proc/spl/kstat/taskq/summary ---- */

static int kstat_summary_show(struct seq_file *f, void *unused)
{
	struct taskq_proc_walk w = { .f = f, .all = true };

	kstat_first_line(f, summary_kid, SPLK_KSTAT_TYPE_RAW, 1, 0,
			 summary_crtime);
	taskq_header(f);
	splk_taskq_for_each(taskq_show_one, &w, true);
	return 0;
}

/* ---- /proc/spl/kstat/taskq/<name>.<instance> ---- */

/* SPL's taskq_kstats_t: its fields' names, in its order. */
static const char *const kstat_field_names[] = {
	"threads_max", "entry_pool_min", "entry_pool_max",
	"threads_active", "threads_idle", "threads_total",
	"tasks_pending", "tasks_priority", "tasks_total", "tasks_delayed",
	"entries_free",
	"threads_created", "threads_destroyed",
	"tasks_dispatched", "tasks_dispatched_delayed",
	"tasks_executed_normal", "tasks_executed_priority", "tasks_executed",
	"tasks_delayed_requeued", "tasks_cancelled",
	"thread_wakeups", "thread_wakeups_nowork", "thread_sleeps",
};

#define KSTAT_FIELDS ARRAY_SIZE(kstat_field_names)

static void kstat_fields(const struct splk_taskq_stats *s, u64 *v)
{
	int i = 0;

	v[i++] = s->maxthreads;
	v[i++] = s->minalloc;
	v[i++] = s->maxalloc;
	v[i++] = s->nactive;
	v[i++] = max(s->nthreads - s->nactive, 0);
	v[i++] = s->nthreads;
	v[i++] = s->npend;
	v[i++] = s->nprio;
	v[i++] = s->npend + s->nprio + s->ndelay;
	v[i++] = s->ndelay;
	v[i++] = s->nfree;
	v[i++] = s->threads_created;
	v[i++] = s->threads_destroyed;
	v[i++] = s->dispatched;
	v[i++] = s->dispatched_delayed;
	v[i++] = s->executed_normal;
	v[i++] = s->executed_priority;
	v[i++] = s->executed_normal + s->executed_priority;
	v[i++] = s->delayed_requeued;
	v[i++] = s->cancelled;
	v[i++] = s->sleeps_ended;
	v[i++] = s->wakeups_nowork;
	v[i++] = s->sleeps;
	WARN_ON_ONCE(i != KSTAT_FIELDS);
}

static int kstat_queue_show(struct seq_file *f, void *unused)
{
	struct splk_tq_kstat *k = f->private;
	struct splk_taskq_stats s;
	u64 v[KSTAT_FIELDS];
	int i;

	splk_taskq_get_stats(k->tq, &s);
	kstat_fields(&s, v);
	kstat_first_line(f, k->kid, SPLK_KSTAT_TYPE_NAMED, KSTAT_FIELDS,
			 KSTAT_FIELDS * SPLK_KSTAT_NAMED_SIZE, k->crtime);
	seq_printf(f, "%-31s %-4s %s\n", "name", "type", "data");
	for (i = 0; i < KSTAT_FIELDS; i++)
		seq_printf(f, "%-31s %-4d %llu\n", kstat_field_names[i],
			   SPLK_KSTAT_DATA_UINT64, v[i]);
	return 0;
}

void *splk_tq_kstat_install(void *tq, const char *name, int instance)
{
	struct splk_tq_kstat *k;
	char file[TASKQ_NAMELEN + 13];

	if (!kstat_taskq_dir)
		return NULL;
	k = kzalloc(sizeof(*k), GFP_KERNEL);
	if (!k)
		return NULL;
	k->tq = tq;
	k->kid = atomic_inc_return(&kstat_next_kid) - 1;
	k->crtime = ktime_get_raw_ns();
	snprintf(file, sizeof(file), "%s.%d", name, instance);
	strreplace(file, '/', '_');	/* a '/' would name a directory */
	k->pde = proc_create_single_data(file, 0444, kstat_taskq_dir,
					 kstat_queue_show, k);
	if (!k->pde) {
		pr_warn("splkmem: taskq '%s': cannot create /proc/spl/kstat/taskq/%s\n",
			name, file);
		kfree(k);
		return NULL;
	}
	return k;
}

void splk_tq_kstat_remove(void *handle)
{
	struct splk_tq_kstat *k = handle;

	proc_remove(k->pde);
	kfree(k);
}

/**
 * splkmem_proc_kstat_dir() - /proc/spl/kstat, for OpenZFS's spl.ko
 *
 * spl.ko, patched to load on top of splkmem, puts its kstats here instead
 * of making the directory itself (it would fail: the directory exists).
 * Return: the directory, or NULL when splkmem does not own /proc/spl.
 */
struct proc_dir_entry *splkmem_proc_kstat_dir(void)
{
	return kstat_dir;
}
EXPORT_SYMBOL_GPL(splkmem_proc_kstat_dir);

void splk_taskq_proc_init(void)
{
	struct proc_dir_entry *dir = splk_proc_spl_dir();

	if (!dir)
		return;		/* proc.c said why */
	taskq_busy_entry = proc_create_single("taskq", 0444, dir, taskq_show_busy);
	taskq_all_entry = proc_create_single("taskq-all", 0444, dir, taskq_show_all);
	if (!taskq_busy_entry || !taskq_all_entry)
		pr_warn("splkmem: cannot create /proc/spl/taskq and taskq-all\n");
	kstat_dir = proc_mkdir("kstat", dir);
	kstat_taskq_dir = kstat_dir ? proc_mkdir("taskq", kstat_dir) : NULL;
	if (!kstat_taskq_dir) {
		pr_warn("splkmem: cannot create /proc/spl/kstat/taskq, no task queue kstats\n");
		return;
	}
	summary_kid = atomic_inc_return(&kstat_next_kid) - 1;
	summary_crtime = ktime_get_raw_ns();
	kstat_summary = proc_create_single("summary", 0444, kstat_taskq_dir,
					   kstat_summary_show);
	if (!kstat_summary)
		pr_warn("splkmem: cannot create /proc/spl/kstat/taskq/summary\n");
	splk_taskq_kstats_enable(true);
}

void splk_taskq_proc_exit(void)
{
	/* The queues' files first, under the registry lock... */
	splk_taskq_kstats_enable(false);
	/* ...then what reads the registry, outside it. */
	proc_remove(kstat_summary);
	proc_remove(taskq_all_entry);
	proc_remove(taskq_busy_entry);
	kstat_summary = NULL;
	taskq_all_entry = NULL;
	taskq_busy_entry = NULL;
	proc_remove(kstat_dir);		/* spl.ko's kstats left before us */
	kstat_taskq_dir = NULL;
	kstat_dir = NULL;
}
