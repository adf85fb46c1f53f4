// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/spl/kmem/slab: one line per cache in the column format of OpenZFS
 * SPL's spl-proc.c, so tools that parse it keep working, plus two columns
 * at the end: the current magazine size (it grows under depot contention)
 * and the objects in the cache's magazines (every CPU's and the depot's).
 * /proc/spl/kmem/shrinker beside it: the shrinker's calls.
 * When SPL itself is loaded /proc/spl exists already and both files are
 * left out (logged).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#define SPL_KMEM_CACHE_IMPLEMENTING
#include <sys/kmem_cache.h>

#include "seam.h"
#include "glue.h"

static struct proc_dir_entry *proc_spl;
static struct proc_dir_entry *proc_spl_kmem;

static void slab_show_one(const struct splk_cache_stats *s, void *arg)
{
	struct seq_file *f = arg;

	seq_printf(f, "%-36s  ", s->name);
	if (s->flags & KMC_SLAB) {
		/* The Linux cache keeps its own books: /proc/slabinfo. */
		seq_printf(f,
			   "0x%05lx %9s %9llu %8s %8llu  %5s %5s %5s  %5s %5llu %5s  %5s %5s %5s  %5llu %6llu\n",
			   s->flags, "-", s->obj_size * s->linux_alloc, "-",
			   s->obj_size, "-", "-", "-", "-", s->linux_alloc,
			   "-", "-", "-", "-", s->mag_size, s->mag_objs);
		return;
	}
	seq_printf(f,
		   "0x%05lx %9llu %9llu %8llu %8llu  %5llu %5llu %5llu  %5llu %5llu %5llu  %5llu %5llu %5llu  %5llu %6llu\n",
		   s->flags, s->slab_size * s->slab_total,
		   s->obj_size * s->obj_alloc, s->slab_size, s->obj_size,
		   s->slab_total, s->slab_alloc, s->slab_max,
		   s->obj_total, s->obj_alloc, s->obj_max,
		   s->obj_deadlock, s->obj_emergency, s->obj_emergency_max,
		   s->mag_size, s->mag_objs);
}

/*
 * /proc/spl/kmem/shrinker: how often reclaim called the shrinker and what
 * it freed, "name value" a line.  SPL has no such file (it registers no
 * shrinker for its caches); make zfs-test reads it around each drop_caches.
 */
static int shrinker_show(struct seq_file *f, void *unused)
{
	struct splk_shrinker_stats s;

	splk_core_shrinker_stats(&s);
	seq_printf(f, "count_calls %llu\n", s.count_calls);
	seq_printf(f, "count_busy %llu\n", s.count_busy);
	seq_printf(f, "scan_calls %llu\n", s.scan_calls);
	seq_printf(f, "scan_busy %llu\n", s.scan_busy);
	seq_printf(f, "scan_freed %llu\n", s.scan_freed);
	seq_printf(f, "cpu_drains %llu\n", s.cpu_drains);
	return 0;
}

static int slab_show(struct seq_file *f, void *unused)
{
	seq_puts(f, "--------------------- cache -------------------------------------------------------  ----- slab ------  ---- object -----  --- emergency ---  - magazine -\n");
	seq_puts(f, "name                                    flags      size     alloc slabsize  objsize  total alloc   max  total alloc   max  dlock alloc   max   size   objs\n");
	splk_for_each_cache(slab_show_one, f);
	return 0;
}

int splk_proc_init(void)
{
	proc_spl = proc_mkdir("spl", NULL);
	if (!proc_spl) {
		pr_warn("splkmem: /proc/spl exists (SPL loaded?), no /proc/spl/kmem/slab\n");
		return 0;
	}
	proc_spl_kmem = proc_mkdir("kmem", proc_spl);
	if (!proc_spl_kmem ||
	    !proc_create_single("slab", 0444, proc_spl_kmem, slab_show) ||
	    !proc_create_single("shrinker", 0444, proc_spl_kmem, shrinker_show)) {
		splk_proc_exit();
		return -ENOMEM;
	}
	return 0;
}

/* /proc/spl when it is ours (NULL when SPL made it), for taskq_proc.c. */
struct proc_dir_entry *splk_proc_spl_dir(void)
{
	return proc_spl;
}

void splk_proc_exit(void)
{
	if (proc_spl)
		proc_remove(proc_spl);
	proc_spl = NULL;
	proc_spl_kmem = NULL;
}
