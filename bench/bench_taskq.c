// SPDX-License-Identifier: GPL-2.0
/*
 * The task queue workloads (tq_roundtrip, tq_throughput): the provider's
 * taskq and the kernel's workqueue.
 */
#include "bench.h"

/*
 * The provider's taskq (splk_taskq under splkmem, spl_taskq under spl.ko)
 * and, in the splkmem boot, the kernel's workqueue, on queues of 1, 8 and
 * 100 threads.  size = threads in the records.
 *
 *   tq_roundtrip   dispatch one empty task, wait for it (taskq_dispatch +
 *                  taskq_wait_id; queue_work + flush_work); each round
 *                  trip timed alone, the median (ns_per_task), the
 *                  10th and 99th percentiles (ns_p10, ns_p99), the
 *                  slowest (ns_max) and how many took 1 ms or more
 *                  (over_1ms: a wake-up that waited for a tick is
 *                  4 ms at HZ=250) reported; n = round trips
 *   tq_throughput  dispatch n empty tasks (taskq_dispatch(TQ_SLEEP);
 *                  queue_work of preallocated work items), then wait for
 *                  all (taskq_wait; flush_workqueue); ns_per_task = wall
 *                  time / n, median over the rounds
 *
 * Queues: taskq_create(name, threads, defclsyspri, TQ_MINALLOC, INT_MAX,
 * TASKQ_PREPOPULATE); alloc_workqueue(name, WQ_UNBOUND, threads), where
 * max_active bounds the work items running at once, as threads do.
 * worker_wakeups (taskq only): voluntary context switches of the queue's
 * threads during the timed part, each a sleep ended by a wake-up; n =
 * tasks.  About one per task in tq_roundtrip means a dispatch wakes one
 * worker; the thread count per task would be a thundering herd.
 */
#define TQ_MINALLOC		50	/* entries kept in a taskq's pool */
#define TQ_NAME			"splkb_tq"

unsigned int tq_tasks = 100000;
module_param(tq_tasks, uint, 0444);
MODULE_PARM_DESC(tq_tasks,
		 "Tasks per tq_throughput round in mode all (16-1000000)");

bool taskq_wl = true;
module_param(taskq_wl, bool, 0444);
MODULE_PARM_DESC(taskq_wl,
		 "Run the task queue workloads (modes all and smoke)");

static const unsigned int tq_threads[] = { 1, 8, 100 };

enum tq_kind { TQK_TASKQ, TQK_WQ, TQK_NR };

static const char * const tq_kind_name[TQK_NR] = {
#ifdef BENCH_PROVIDER_SPL
	[TQK_TASKQ] = "spl_taskq",
#else
	[TQK_TASKQ] = "splk_taskq",
#endif
	[TQK_WQ] = "workqueue",
};

static void tq_emit(const char *wl, enum tq_kind kind, unsigned int threads,
		    unsigned int n, enum bench_metric m, u64 value)
{
	char val[24];

	bench_format(val, sizeof(val), m, value);
	pr_info("csv,%s,%s,%u,%u,%s,%s\n", wl, tq_kind_name[kind], threads, n,
		bench_metric_name[m], val);
}

static void tq_empty_task(void *arg)
{
}

static void tq_empty_work(struct work_struct *work)
{
}

/* Voluntary context switches of the benchmark queue's threads. */
static u64 tq_worker_sleeps(void)
{
	struct task_struct *p;
	u64 sum = 0;

	rcu_read_lock();
	for_each_process(p)
		if ((p->flags & PF_KTHREAD) &&
		    !strncmp(p->comm, TQ_NAME, strlen(TQ_NAME)))
			sum += READ_ONCE(p->nvcsw);
	rcu_read_unlock();
	return sum;
}

struct tq_queue {
	enum tq_kind kind;
	taskq_t *tq;
	struct workqueue_struct *wq;
};

/* @minalloc: the taskq's pool of task entries (TQ_MINALLOC but in scale_tq_pool). */
static int tq_create(struct tq_queue *q, enum tq_kind kind,
		     unsigned int threads, int minalloc)
{
	q->kind = kind;
	q->tq = NULL;
	q->wq = NULL;
	if (kind == TQK_WQ)
		q->wq = alloc_workqueue("%s", WQ_UNBOUND, threads, TQ_NAME);
	else
		q->tq = taskq_create(TQ_NAME, threads, defclsyspri, minalloc,
				     INT_MAX, TASKQ_PREPOPULATE);
	if (!q->tq && !q->wq) {
		pr_warn("%s: creating a queue of %u threads failed\n",
			tq_kind_name[kind], threads);
		return -ENOMEM;
	}
	return 0;
}

static void tq_destroy(struct tq_queue *q)
{
	if (q->tq)
		taskq_destroy(q->tq);
	if (q->wq)
		destroy_workqueue(q->wq);
}

/* One round trip; returns its time, or 0 when the dispatch failed. */
static u64 tq_roundtrip_once(struct tq_queue *q, struct work_struct *w)
{
	u64 t0 = ktime_get_ns();
	taskqid_t id;

	if (q->wq) {
		queue_work(q->wq, w);
		flush_work(w);
	} else {
		id = taskq_dispatch(q->tq, tq_empty_task, NULL, TQ_SLEEP);
		if (id == TASKQID_INVALID)
			return 0;
		taskq_wait_id(q->tq, id);
	}
	return max_t(u64, ktime_get_ns() - t0, 1);
}

static void bench_tq_roundtrip(enum tq_kind kind, unsigned int threads,
			       u64 *samples, unsigned int max_samples)
{
	u64 t_end, sleeps = 0;
	struct work_struct w;
	struct tq_queue q;
	unsigned int i, n = 0;

	if (tq_create(&q, kind, threads, TQ_MINALLOC))
		return;
	INIT_WORK(&w, tq_empty_work);
	for (i = 0; i < 16; i++)
		if (!tq_roundtrip_once(&q, &w))
			goto failed;
	if (kind == TQK_TASKQ)
		sleeps = tq_worker_sleeps();
	t_end = ktime_get_ns() + cfg.tq_roundtrip_ns;
	while (n < max_samples && (n < 16 || ktime_get_ns() < t_end)) {
		samples[n] = tq_roundtrip_once(&q, &w);
		if (!samples[n])
			goto failed;
		n++;
	}
	if (kind == TQK_TASKQ)
		sleeps = tq_worker_sleeps() - sleeps;
	tq_destroy(&q);
	/* bench_median() sorted the samples. */
	tq_emit("tq_roundtrip", kind, threads, n, M_NS_PER_TASK,
		bench_median(samples, n) * 10);
	tq_emit("tq_roundtrip", kind, threads, n, M_NS_P10, samples[n / 10] * 10);
	tq_emit("tq_roundtrip", kind, threads, n, M_NS_P99,
		samples[n * 99 / 100] * 10);
	tq_emit("tq_roundtrip", kind, threads, n, M_NS_MAX, samples[n - 1] * 10);
	for (i = 0; i < n && samples[i] < NSEC_PER_MSEC; i++)
		;
	tq_emit("tq_roundtrip", kind, threads, n, M_OVER_1MS, n - i);
	if (kind == TQK_TASKQ)
		tq_emit("tq_roundtrip", kind, threads, n, M_WORKER_WAKEUPS,
			sleeps);
	return;
failed:
	tq_destroy(&q);
	pr_warn("tq_roundtrip: %s, %u threads: dispatch failed\n",
		tq_kind_name[kind], threads);
}

/* One throughput round: n tasks; returns 0 or -ENOMEM. */
static int tq_throughput_once(struct tq_queue *q, struct work_struct *works,
			      unsigned int n, u64 *ns)
{
	unsigned int i;
	u64 t0;

	if (q->wq) {
		for (i = 0; i < n; i++)
			INIT_WORK(&works[i], tq_empty_work);
		t0 = ktime_get_ns();
		for (i = 0; i < n; i++)
			queue_work(q->wq, &works[i]);
		flush_workqueue(q->wq);
	} else {
		t0 = ktime_get_ns();
		for (i = 0; i < n; i++)
			if (taskq_dispatch(q->tq, tq_empty_task, NULL,
					   TQ_SLEEP) == TASKQID_INVALID)
				break;
		taskq_wait(q->tq);
	}
	*ns = ktime_get_ns() - t0;
	return i < n ? -ENOMEM : 0;
}

/*
 * The queue's own counters (mode scale): how often its workers slept and
 * were woken, to tell where the instructions per task go as the CPUs
 * grow.  Read from its kstat file, which splkmem and SPL both make in
 * SPL's layout (lines "name type value"); the benchmark's queue is the
 * only one of its name, instance 0.
 */
#define TQ_KSTAT	"/proc/spl/kstat/taskq/" TQ_NAME ".0"

static const char * const tq_counter_names[] = {
	"thread_wakeups", "thread_wakeups_nowork", "thread_sleeps",
};

static const enum bench_metric tq_counter_metrics[] = {
	M_TQ_WAKEUPS, M_TQ_WAKEUPS_NOWORK, M_TQ_SLEEPS,
};

/* Fills @v with the counters; false when the file cannot be read. */
static bool tq_counters(u64 *v)
{
	unsigned int i, found = 0;
	struct file *file;
	loff_t pos = 0;
	char *buf, *line, *p;
	ssize_t got;

	buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return false;
	file = filp_open(TQ_KSTAT, O_RDONLY, 0);
	if (IS_ERR(file)) {
		kfree(buf);
		return false;
	}
	got = kernel_read(file, buf, PAGE_SIZE - 1, &pos);
	filp_close(file, NULL);
	for (p = buf; got > 0 && (line = strsep(&p, "\n"));) {
		for (i = 0; i < ARRAY_SIZE(tq_counter_names); i++) {
			size_t len = strlen(tq_counter_names[i]);

			/*
			 * The leading space of " %*d": the kernel's
			 * sscanf() skips no blanks before a suppressed
			 * field, so it would take the type for the value.
			 */
			if (!strncmp(line, tq_counter_names[i], len) &&
			    isspace(line[len]) &&
			    sscanf(line + len, " %*d %llu", &v[i]) == 1)
				found++;
		}
	}
	kfree(buf);
	return found == ARRAY_SIZE(tq_counter_names);
}

/*
 * @wl: tq_throughput, or scale_tq / scale_tq_pool in mode scale (the same
 * figures); @minalloc: see tq_create().
 */
static void bench_tq_throughput(const char *wl, enum tq_kind kind,
				unsigned int threads, int minalloc)
{
	u64 before[ARRAY_SIZE(tq_counter_names)];
	u64 after[ARRAY_SIZE(tq_counter_names)];
	bool counters = false;
	u64 vals[BENCH_MAX_ROUNDS], sleeps = 0, ns, spent = 0;
	unsigned int i, r, n = cfg.tq_tasks;
	struct work_struct *works = NULL;
	struct tq_queue q;
	int rc = 0;

	if (kind == TQK_WQ) {
		works = kvmalloc_array(n, sizeof(*works), GFP_KERNEL);
		if (!works)
			return;
	}
	if (tq_create(&q, kind, threads, minalloc)) {
		kvfree(works);
		return;
	}
	/*
	 * Mode scale: one untimed round first.  How far the dispatcher runs
	 * ahead of the workers depends on the turns QEMU gives the vCPUs, so
	 * a queue that keeps its entries (splkmem) allocated some in one
	 * timed round and none in the next (a 1-thread queue at 2 vCPUs:
	 * 398 in one boot, 841 in another); warm, they allocate little.
	 */
	if (cfg.scale)
		rc = tq_throughput_once(&q, works, n, &ns);
	if (kind == TQK_TASKQ)
		sleeps = tq_worker_sleeps();
	if (kind == TQK_TASKQ && cfg.scale)
		counters = tq_counters(before);
	if (cfg.scale)
		profile_start();
	/* The rounds stop early once they took TQ_THROUGHPUT_NS. */
	for (r = 0; !rc && r < cfg.tq_rounds &&
	     (!r || spent < cfg.tq_throughput_ns); r++) {
		cond_resched();
		rc = tq_throughput_once(&q, works, n, &ns);
		vals[r] = bench_per_op(ns, n);
		spent += ns;
	}
	if (cfg.scale) {
		char what[48];

		snprintf(what, sizeof(what), "%s %s %u threads", wl,
			 tq_kind_name[kind], threads);
		profile_stop(what);
	}
	if (kind == TQK_TASKQ)
		sleeps = tq_worker_sleeps() - sleeps;
	if (counters)
		counters = tq_counters(after);
	tq_destroy(&q);
	kvfree(works);
	if (rc) {
		pr_warn("%s: %s, %u threads: dispatch failed\n", wl,
			tq_kind_name[kind], threads);
		return;
	}
	if (r < cfg.tq_rounds)
		pr_info("%s: %s, %u threads: %u of %u rounds (%llu ms)\n",
			wl, tq_kind_name[kind], threads, r, cfg.tq_rounds,
			div_u64(spent, NSEC_PER_MSEC));
	tq_emit(wl, kind, threads, n, M_NS_PER_TASK,
		bench_median(vals, r));
	if (kind == TQK_TASKQ)
		tq_emit(wl, kind, threads, n * r,
			M_WORKER_WAKEUPS, sleeps);
	for (i = 0; counters && i < ARRAY_SIZE(tq_counter_names); i++)
		tq_emit(wl, kind, threads, n * r, tq_counter_metrics[i],
			after[i] - before[i]);
}

void bench_taskq(void)
{
	unsigned int i, max_samples = 4096;
	enum tq_kind kind;
	u64 *samples;

	samples = kvmalloc_array(max_samples, sizeof(*samples), GFP_KERNEL);
	if (!samples)
		return;
	for (kind = 0; kind < TQK_NR; kind++) {
		/* The workqueue is measured in the splkmem boot. */
		if (kind == TQK_WQ && !strcmp(BENCH_PROVIDER, "spl"))
			continue;
		for (i = 0; i < ARRAY_SIZE(tq_threads); i++) {
			bench_tq_roundtrip(kind, tq_threads[i], samples,
					   max_samples);
			bench_tq_throughput("tq_throughput", kind, tq_threads[i],
					    TQ_MINALLOC);
			cond_resched();
		}
	}
	kvfree(samples);
}

/*
 * Mode scale (run under -icount): tq_throughput on a queue of one thread
 * per online CPU, recorded as scale_tq (size = threads): under -icount
 * the time per task counts the instructions of every CPU, the
 * dispatcher's and the workers'.  Queues of 1 and 8 threads too, at every
 * CPU count: they tell what grows with the threads from what grows with
 * the CPUs.
 */
void bench_scale_taskq(void)
{
	unsigned int threads[] = { num_online_cpus(), 1, 8 };
	enum tq_kind kind;
	unsigned int i;

	for (kind = 0; kind < TQK_NR; kind++) {
		/* The workqueue is measured in the splkmem boot. */
		if (kind == TQK_WQ && !strcmp(BENCH_PROVIDER, "spl"))
			continue;
		for (i = 0; i < ARRAY_SIZE(threads); i++)
			if (!i || threads[i] != threads[0])
				bench_tq_throughput("scale_tq", kind, threads[i],
						    TQ_MINALLOC);
	}
	/*
	 * The same queue with a pool of an entry per task of a round: no
	 * dispatch allocates an entry (with 50, tasks dispatched faster
	 * than the workers run them get theirs from kmalloc on the
	 * dispatcher's CPU and are kfree'd on the worker's).
	 */
	bench_tq_throughput("scale_tq_pool", TQK_TASKQ, num_online_cpus(),
			    cfg.tq_tasks);
}
