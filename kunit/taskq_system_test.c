// SPDX-License-Identifier: GPL-2.0
/*
 * SPL's task queue as the rest of the system sees it (issue 22, items 11
 * to 13): the kstats in /proc/spl/kstat/taskq, read as text and checked
 * against the layout of OpenZFS 2.4.4's spl-kstat.c and the fields of its
 * spl-taskq.c (the expected lines below are written from those files, not
 * from ours; scripts/check-taskq-kstat.py, run by openzfs-abi-test.sh,
 * checks the files a stock kernel shows against the OpenZFS tarball
 * itself); the spl_taskq_kick parameter; CPU hotplug for
 * TASKQ_THREADS_CPU_PCT queues.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <sys/taskq.h>

#include "splkmem_test.h"

#define SYS_FILE_SIZE 32768

/* The whole of a /proc file, NUL-terminated; NULL (logged) when it cannot be opened. */
static char *sys_read(struct kunit *test, const char *path)
{
	char *buf = kunit_kzalloc(test, SYS_FILE_SIZE, GFP_KERNEL);
	struct file *f;
	size_t len = 0;
	loff_t pos = 0;
	ssize_t n;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f))
		return NULL;
	while (len < SYS_FILE_SIZE - 1) {
		n = kernel_read(f, buf + len, SYS_FILE_SIZE - 1 - len, &pos);
		if (n <= 0)
			break;
		len += n;
	}
	filp_close(f, NULL);
	return buf;
}

/* The next line of *cur (NUL-terminated in place), NULL at the end. */
static char *sys_line(char **cur)
{
	char *l = *cur;

	if (!l || !*l)
		return NULL;
	strsep(cur, "\n");
	return l;
}

/* SPL's kstat first line: kid type flags ndata data_size crtime snaptime. */
static void sys_check_first_line(struct kunit *test, const char *line, int type,
				 int ndata, int size)
{
	int kid, t, flags, nd, sz, n;
	long long crtime, snaptime;

	KUNIT_ASSERT_NOT_NULL(test, line);
	n = sscanf(line, "%d %d 0x%x %d %d %lld %lld", &kid, &t, &flags, &nd, &sz, &crtime,
		   &snaptime);
	KUNIT_ASSERT_EQ_MSG(test, n, 7, "line: %s", line);
	KUNIT_EXPECT_EQ(test, t, type);
	KUNIT_EXPECT_EQ(test, flags, 0x01);		/* KSTAT_FLAG_VIRTUAL */
	KUNIT_EXPECT_TRUE_MSG(test, strstr(line, " 0x01 "), "line: %s", line);
	KUNIT_EXPECT_EQ(test, nd, ndata);
	KUNIT_EXPECT_EQ(test, sz, size);
	KUNIT_EXPECT_GE(test, kid, 0);
	KUNIT_EXPECT_GT(test, crtime, 0LL);
	KUNIT_EXPECT_LE(test, crtime, snaptime);
}

/* OpenZFS 2.4.4 spl-taskq.c, taskq_kstats_template, in order. */
static const char *const sys_kstat_names[] = {
	"threads_max", "entry_pool_min", "entry_pool_max", "threads_active",
	"threads_idle", "threads_total", "tasks_pending", "tasks_priority",
	"tasks_total", "tasks_delayed", "entries_free", "threads_created",
	"threads_destroyed", "tasks_dispatched", "tasks_dispatched_delayed",
	"tasks_executed_normal", "tasks_executed_priority", "tasks_executed",
	"tasks_delayed_requeued", "tasks_cancelled", "thread_wakeups",
	"thread_wakeups_nowork", "thread_sleeps",
};

#define SYS_NFIELDS ARRAY_SIZE(sys_kstat_names)
/* sizeof(kstat_named_t): char name[KSTAT_STRLEN = 255], uchar_t type, 16-byte union. */
#define SYS_KSTAT_NAMED_SIZE 272

/*
 * Reads a queue's named kstat and checks its layout: the first line, the
 * "name type data" line, then each field in SPL's order as
 * "%-31s %-4d %llu" with type 4 (KSTAT_DATA_UINT64).  Values into v[].
 */
static void sys_read_queue_kstat(struct kunit *test, const char *file, u64 *v)
{
	char path[96], *buf, *cur, *l;
	int i, n;

	snprintf(path, sizeof(path), "/proc/spl/kstat/taskq/%s", file);
	buf = sys_read(test, path);
	KUNIT_ASSERT_NOT_NULL_MSG(test, buf, "cannot open %s", path);
	cur = buf;
	sys_check_first_line(test, sys_line(&cur), 1, SYS_NFIELDS,
			     SYS_NFIELDS * SYS_KSTAT_NAMED_SIZE);
	l = sys_line(&cur);
	KUNIT_ASSERT_NOT_NULL(test, l);
	KUNIT_EXPECT_STREQ(test, l, "name                            type data");
	for (i = 0; i < SYS_NFIELDS; i++) {
		char name[40];
		int type;

		l = sys_line(&cur);
		KUNIT_ASSERT_NOT_NULL_MSG(test, l, "%s ends before %s", path, sys_kstat_names[i]);
		n = sscanf(l, "%39s %d %llu", name, &type, &v[i]);
		KUNIT_ASSERT_EQ_MSG(test, n, 3, "line: %s", l);
		KUNIT_EXPECT_STREQ(test, name, sys_kstat_names[i]);
		KUNIT_EXPECT_EQ(test, type, 4);
		/* Columns: name padded to 31, type to 4, one space each. */
		KUNIT_EXPECT_EQ_MSG(test, l[31], ' ', "line: %s", l);
		KUNIT_EXPECT_EQ_MSG(test, l[32], '4', "line: %s", l);
		KUNIT_EXPECT_TRUE_MSG(test, l[36] == ' ' && l[37] >= '0' && l[37] <= '9',
				      "line: %s", l);
	}
	KUNIT_EXPECT_NULL(test, sys_line(&cur));
}

static u64 sys_field(const u64 *v, const char *name)
{
	int i;

	for (i = 0; i < SYS_NFIELDS; i++)
		if (!strcmp(sys_kstat_names[i], name))
			return v[i];
	return ~0ULL;
}

static void sys_task_fn(void *arg)
{
	atomic_inc(arg);
}

/*
 * A queue's named kstat: its layout, and what each field counts while
 * tasks wait (held workers) and after they ran.
 */
static void taskq_kstat_per_queue(struct kunit *test)
{
	taskq_t *tq = taskq_create("splk_tq_kstat", 3, defclsyspri, 2, 50, TASKQ_PREPOPULATE);
	atomic_t *runs = kunit_kzalloc(test, sizeof(*runs), GFP_KERNEL);
	u64 v[SYS_NFIELDS];
	taskqid_t front, cancel;

	KUNIT_ASSERT_NOT_NULL(test, tq);
	KUNIT_ASSERT_NOT_NULL(test, runs);
	msleep(20);		/* every worker asleep */
	splk_taskq_hold(tq, true);
	KUNIT_EXPECT_NE(test, taskq_dispatch(tq, sys_task_fn, runs, TQ_SLEEP), 0UL);
	KUNIT_EXPECT_NE(test, taskq_dispatch(tq, sys_task_fn, runs, TQ_SLEEP), 0UL);
	front = taskq_dispatch(tq, sys_task_fn, runs, TQ_FRONT);
	KUNIT_EXPECT_NE(test, front, 0UL);
	/*
	 * Due in 10 s: long after the checks below, which take milliseconds;
	 * taskq_destroy() at the end waits for it (it was 60 s, the whole
	 * KUnit run's longest minute).
	 */
	KUNIT_EXPECT_NE(test, taskq_dispatch_delay(tq, sys_task_fn, runs, TQ_SLEEP,
						   jiffies + 10 * HZ), 0UL);
	cancel = taskq_dispatch_delay(tq, sys_task_fn, runs, TQ_SLEEP, jiffies + 60 * HZ);
	KUNIT_EXPECT_EQ(test, taskq_cancel_id(tq, cancel, 1), 0);

	sys_read_queue_kstat(test, "splk_tq_kstat.0", v);
	KUNIT_EXPECT_EQ(test, sys_field(v, "threads_max"), 3ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "entry_pool_min"), 2ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "entry_pool_max"), 50ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "threads_total"), 3ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "threads_active"), 0ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "threads_idle"), 3ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "threads_created"), 3ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "threads_destroyed"), 0ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_pending"), 2ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_priority"), 1ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_delayed"), 1ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_total"), 4ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_dispatched"), 3ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_dispatched_delayed"), 2ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_cancelled"), 1ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_executed"), 0ULL);
	KUNIT_EXPECT_GE(test, sys_field(v, "thread_sleeps"), 3ULL);

	splk_taskq_hold(tq, false);
	taskq_wait_outstanding(tq, front);	/* all but the delayed ones */
	KUNIT_EXPECT_EQ(test, atomic_read(runs), 3);
	sys_read_queue_kstat(test, "splk_tq_kstat.0", v);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_executed"), 3ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_executed_normal"), 2ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_executed_priority"), 1ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_total"), 1ULL);
	KUNIT_EXPECT_EQ(test, sys_field(v, "tasks_delayed"), 1ULL);
	/* Every entry but the delayed one is back in the pool, beyond minalloc. */
	KUNIT_EXPECT_EQ(test, sys_field(v, "entries_free"), 4ULL);
	KUNIT_EXPECT_GE(test, sys_field(v, "thread_wakeups"), 1ULL);
	taskq_destroy(tq);	/* runs the delayed task */
	KUNIT_EXPECT_EQ(test, atomic_read(runs), 4);
	KUNIT_EXPECT_NULL(test, sys_read(test, "/proc/spl/kstat/taskq/splk_tq_kstat.0"));
}

/*
 * The summary: a raw kstat whose header lines are SPL's, one line a queue
 * with every queue, the newest first; the system queues are there.
 */
static void taskq_kstat_summary(struct kunit *test)
{
	taskq_t *tq = taskq_create("splk_tq_summary", 2, defclsyspri, 0, 8, 0);
	taskq_t *tq2 = taskq_create("splk_tq_summary", 1, defclsyspri, 0, 8, 0);
	char *buf, *cur, *l;
	int line = 0, at0 = 0, at1 = 0, at_sys = 0, n;
	int total, act, idl, max, waiting, norm, high, dly;
	atomic_t runs = ATOMIC_INIT(0);

	KUNIT_ASSERT_NOT_NULL(test, tq);
	KUNIT_ASSERT_NOT_NULL(test, tq2);
	splk_taskq_hold(tq, true);
	KUNIT_EXPECT_NE(test, taskq_dispatch(tq, sys_task_fn, &runs, TQ_SLEEP), 0UL);
	KUNIT_EXPECT_NE(test, taskq_dispatch(tq, sys_task_fn, &runs, TQ_FRONT), 0UL);
	buf = sys_read(test, "/proc/spl/kstat/taskq/summary");
	KUNIT_ASSERT_NOT_NULL(test, buf);
	cur = buf;
	sys_check_first_line(test, sys_line(&cur), 0, 1, 0);
	KUNIT_EXPECT_STREQ(test, sys_line(&cur),
			   "                     | threads           | tasks on queue         ");
	KUNIT_EXPECT_STREQ(test, sys_line(&cur),
			   "taskq name           | tot [act idl] max |  pend [ norm  high] dly");
	KUNIT_EXPECT_STREQ(test, sys_line(&cur),
			   "-------------------- | ----------------- | -----------------------");
	while ((l = sys_line(&cur)) != NULL) {
		line++;
		if (str_has_prefix(l, "splk_tq_summary.0 ")) {
			at0 = line;
			n = sscanf(l, "splk_tq_summary.0 | %d [%d %d] %d | %d [%d %d] %d",
				   &total, &act, &idl, &max, &waiting, &norm, &high, &dly);
			KUNIT_EXPECT_EQ_MSG(test, n, 8, "line: %s", l);
			KUNIT_EXPECT_EQ(test, total, 2);
			KUNIT_EXPECT_EQ(test, idl, 2);
			KUNIT_EXPECT_EQ(test, max, 2);
			KUNIT_EXPECT_EQ(test, waiting, 2);
			KUNIT_EXPECT_EQ(test, norm, 1);
			KUNIT_EXPECT_EQ(test, high, 1);
			KUNIT_EXPECT_EQ(test, dly, 0);
			/* SPL's widths: "%-20s | %-17s | %-23s". */
			KUNIT_EXPECT_EQ(test, strlen(l), (size_t)66);
		}
		if (str_has_prefix(l, "splk_tq_summary.1 "))
			at1 = line;
		if (str_has_prefix(l, "spl_system_taskq.0 "))
			at_sys = line;
	}
	KUNIT_EXPECT_GT(test, at0, 0);
	KUNIT_EXPECT_GT(test, at1, 0);
	KUNIT_EXPECT_LT(test, at1, at0);	/* newest first */
	KUNIT_EXPECT_GT(test, at_sys, at0);
	/* A queue's own file is there too, and the system queues'. */
	KUNIT_EXPECT_NOT_NULL(test, sys_read(test, "/proc/spl/kstat/taskq/splk_tq_summary.1"));
	KUNIT_EXPECT_NOT_NULL(test, sys_read(test, "/proc/spl/kstat/taskq/spl_delay_taskq.0"));
	splk_taskq_hold(tq, false);
	taskq_destroy(tq2);
	taskq_destroy(tq);
	KUNIT_EXPECT_EQ(test, atomic_read(&runs), 2);
}

static int sys_threads(taskq_t *tq, int *max)
{
	struct splk_taskq_stats st;

	splk_taskq_get_stats(tq, &st);
	if (max)
		*max = st.maxthreads;
	return st.nthreads;
}

/* Polls (5 s at most) until @tq has @want threads; false if it never had. */
static bool sys_wait_threads(taskq_t *tq, int want)
{
	int ms;

	for (ms = 0; ms < 5000; ms += 20) {
		if (sys_threads(tq, NULL) == want)
			return true;
		msleep(20);
	}
	return false;
}

/* Writes a module parameter through sysfs, as a user would. */
static void sys_write_param(struct kunit *test, const char *name, const char *val)
{
	char path[96];
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/module/splkmem/parameters/%s", name);
	f = filp_open(path, O_WRONLY, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(f), "open %s: %ld", path, PTR_ERR(f));
	n = kernel_write(f, val, strlen(val), &pos);
	filp_close(f, NULL);
	KUNIT_EXPECT_EQ_MSG(test, n, (ssize_t)strlen(val), "write %s to %s", val, path);
}

/*
 * spl_taskq_kick (issue 22, item 12): a dynamic queue whose next task has
 * waited more than 5 s gets one more thread; one whose task is younger
 * does not.  The workers are held so that the tasks wait; the stuck
 * task's birth (tqent_birth of the caller's entry) is set 6 s back
 * rather than waiting 6 s.
 */
static void taskq_kick_spawns_for_stuck_queue(struct kunit *test)
{
	taskq_t *stuck = taskq_create("splk_tq_kick", 3, defclsyspri, 0, 8, TASKQ_DYNAMIC);
	taskq_t *young = taskq_create("splk_tq_kick_young", 3, defclsyspri, 0, 8, TASKQ_DYNAMIC);
	taskq_ent_t *ent = kunit_kzalloc(test, 2 * sizeof(*ent), GFP_KERNEL);
	atomic_t *runs = kunit_kzalloc(test, sizeof(*runs), GFP_KERNEL);
	char *val;

	KUNIT_ASSERT_NOT_NULL(test, stuck);
	KUNIT_ASSERT_NOT_NULL(test, young);
	KUNIT_ASSERT_NOT_NULL(test, ent);
	KUNIT_ASSERT_NOT_NULL(test, runs);
	KUNIT_EXPECT_EQ(test, sys_threads(stuck, NULL), 1);
	KUNIT_EXPECT_EQ(test, sys_threads(young, NULL), 1);
	splk_taskq_hold(stuck, true);
	splk_taskq_hold(young, true);
	taskq_init_ent(&ent[0]);
	taskq_init_ent(&ent[1]);
	taskq_dispatch_ent(stuck, sys_task_fn, runs, 0, &ent[0]);
	taskq_dispatch_ent(young, sys_task_fn, runs, 0, &ent[1]);
	ent[0].tqent_birth = jiffies - 6 * HZ;

	sys_write_param(test, "spl_taskq_kick", "1");
	KUNIT_EXPECT_TRUE_MSG(test, sys_wait_threads(stuck, 2), "kicked queue has %d threads",
			      sys_threads(stuck, NULL));
	msleep(50);
	KUNIT_EXPECT_EQ(test, sys_threads(stuck, NULL), 2);
	KUNIT_EXPECT_EQ(test, sys_threads(young, NULL), 1);
	/* The value is not kept, as in SPL. */
	val = sys_read(test, "/sys/module/splkmem/parameters/spl_taskq_kick");
	KUNIT_ASSERT_NOT_NULL(test, val);
	KUNIT_EXPECT_STREQ(test, val, "0\n");

	splk_taskq_hold(stuck, false);
	splk_taskq_hold(young, false);
	taskq_wait(stuck);
	taskq_wait(young);
	KUNIT_EXPECT_EQ(test, atomic_read(runs), 2);
	taskq_destroy(young);
	taskq_destroy(stuck);
}

static void sys_add_cpu_back(void *cpu)
{
	add_cpu((unsigned long)cpu);	/* 0 when it is online already */
}

/*
 * CPU hotplug (issue 22, item 13): a TASKQ_THREADS_CPU_PCT queue of 100 %
 * has one thread a CPU; a CPU goes offline and one thread retires, it
 * comes back and one thread more runs.  A dynamic one's maximum follows.
 */
static void taskq_cpu_pct_follows_hotplug(struct kunit *test)
{
	int cpu = cpumask_last(cpu_online_mask);
	int ncpus = num_online_cpus();
	atomic_t *runs = kunit_kzalloc(test, sizeof(*runs), GFP_KERNEL);
	taskq_t *tq, *dyn;
	int max, i, rc;

	KUNIT_ASSERT_NOT_NULL(test, runs);
	if (ncpus < 2 || cpu == 0)
		kunit_skip(test, "needs a second online CPU");
	tq = taskq_create("splk_tq_hotplug", 100, defclsyspri, 0, 64, TASKQ_THREADS_CPU_PCT);
	dyn = taskq_create("splk_tq_hotplug_dyn", 100, defclsyspri, 0, 64,
			   TASKQ_THREADS_CPU_PCT | TASKQ_DYNAMIC);
	KUNIT_ASSERT_NOT_NULL(test, tq);
	KUNIT_ASSERT_NOT_NULL(test, dyn);
	KUNIT_EXPECT_EQ(test, sys_threads(tq, &max), ncpus);
	KUNIT_EXPECT_EQ(test, max, ncpus);
	sys_threads(dyn, &max);
	KUNIT_EXPECT_EQ(test, max, ncpus);

	rc = remove_cpu(cpu);
	KUNIT_ASSERT_EQ_MSG(test, rc, 0, "remove_cpu(%d)", cpu);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, sys_add_cpu_back,
							(void *)(unsigned long)cpu), 0);
	KUNIT_EXPECT_TRUE_MSG(test, sys_wait_threads(tq, ncpus - 1),
			      "%d threads with %d CPUs online", sys_threads(tq, NULL), ncpus - 1);
	sys_threads(tq, &max);
	KUNIT_EXPECT_EQ(test, max, ncpus - 1);
	sys_threads(dyn, &max);
	KUNIT_EXPECT_EQ(test, max, ncpus - 1);
	for (i = 0; i < 8; i++)
		taskq_dispatch(tq, sys_task_fn, runs, TQ_SLEEP);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, atomic_read(runs), 8);

	rc = add_cpu(cpu);
	KUNIT_ASSERT_EQ_MSG(test, rc, 0, "add_cpu(%d)", cpu);
	KUNIT_EXPECT_TRUE_MSG(test, sys_wait_threads(tq, ncpus),
			      "%d threads with %d CPUs online", sys_threads(tq, NULL), ncpus);
	sys_threads(tq, &max);
	KUNIT_EXPECT_EQ(test, max, ncpus);
	sys_threads(dyn, &max);
	KUNIT_EXPECT_EQ(test, max, ncpus);
	for (i = 0; i < 8; i++)
		taskq_dispatch(tq, sys_task_fn, runs, TQ_SLEEP);
	taskq_wait(tq);
	KUNIT_EXPECT_EQ(test, atomic_read(runs), 16);
	taskq_destroy(dyn);
	taskq_destroy(tq);
}

static struct kunit_case taskq_system_cases[] = {
	KUNIT_CASE(taskq_kstat_per_queue),
	KUNIT_CASE(taskq_kstat_summary),
	KUNIT_CASE(taskq_kick_spawns_for_stuck_queue),
	KUNIT_CASE_SLOW(taskq_cpu_pct_follows_hotplug),
	{}
};

static struct kunit_suite taskq_system_suite = {
	.name = "splkmem_taskq_system",
	.exit = splk_test_exit,
	.test_cases = taskq_system_cases,
};

kunit_test_suites(&taskq_system_suite);
