// SPDX-License-Identifier: GPL-2.0
/*
 * The cross-CPU workloads: prodcons (one CPU allocates, another frees)
 * and allcpus (every CPU allocates and frees on one shared cache), run by
 * kthreads bound to their CPUs that start together.
 */
#include "bench.h"

/* ---- Kernel threads that start together, for prodcons and allcpus. ---- */

struct bench_group;

struct bench_thread {
	struct task_struct *task;
	struct bench_group *group;
	unsigned int cpu;
	int (*fn)(struct bench_thread *bt);	/* the work; 0 or -ENOMEM */
	void *arg;
	u64 t_start;
	u64 t_end;
	int rc;
};

struct bench_group {
	unsigned int nr;
	atomic_t ready;
	atomic_t started;
	atomic_t running;
	struct completion all_ready;
	struct completion go;
	struct completion all_done;
};

static int bench_thread_main(void *data)
{
	struct bench_thread *bt = data;
	struct bench_group *g = bt->group;

	if (atomic_inc_return(&g->ready) == g->nr)
		complete(&g->all_ready);
	wait_for_completion(&g->go);
	/*
	 * The wake-ups from go can be a scheduler tick apart: meet here so
	 * that the work starts together.  cond_resched() lets the loader,
	 * which woke us, get off this CPU.
	 */
	atomic_inc(&g->started);
	while (atomic_read(&g->started) < g->nr) {
		cpu_relax();
		cond_resched();
	}
	bt->rc = bt->fn(bt);
	if (atomic_dec_and_test(&g->running))
		complete(&g->all_done);
	return 0;
}

/*
 * Runs bts[0..nr-1], each in a kthread bound to its CPU, released together
 * once all are ready.  Returns the wall time from the first start to the
 * last end in *ns, and 0 or the first error.
 */
static int bench_group_run(struct bench_thread *bts, unsigned int nr, u64 *ns)
{
	struct task_struct *task;
	struct bench_group g;
	u64 start = U64_MAX, end = 0;
	unsigned int i, created;
	int rc = 0;

	g.nr = nr;
	atomic_set(&g.ready, 0);
	atomic_set(&g.started, 0);
	atomic_set(&g.running, nr);
	init_completion(&g.all_ready);
	init_completion(&g.go);
	init_completion(&g.all_done);
	for (created = 0; created < nr; created++) {
		bts[created].group = &g;
		bts[created].rc = 0;
		task = kthread_create(bench_thread_main, &bts[created],
				      "splkbench/%u", bts[created].cpu);
		if (IS_ERR(task)) {
			rc = PTR_ERR(task);
			break;
		}
		get_task_struct(task);
		kthread_bind(task, bts[created].cpu);
		bts[created].task = task;
	}
	if (!rc) {
		for (i = 0; i < nr; i++)
			wake_up_process(bts[i].task);
		wait_for_completion(&g.all_ready);
		complete_all(&g.go);
		wait_for_completion(&g.all_done);
	}
	/* Joins the threads (one never woken exits without running). */
	for (i = 0; i < created; i++) {
		kthread_stop(bts[i].task);
		put_task_struct(bts[i].task);
	}
	if (rc) {
		pr_warn("kthread_create failed: %d\n", rc);
		return rc;
	}
	for (i = 0; i < nr; i++) {
		if (bts[i].rc)
			rc = bts[i].rc;
		start = min(start, bts[i].t_start);
		end = max(end, bts[i].t_end);
	}
	*ns = end > start ? end - start : 0;
	return rc;
}

/*
 * Whether a cross-CPU figure failed (@rc): then it is recorded as skipped,
 * with a warning unless there was no cache to measure (-ENOENT).
 */
static bool cross_failed(enum bench_wl wl, enum bench_kind kind, size_t size,
			 int rc)
{
	if (!rc)
		return false;
	if (rc != -ENOENT)
		pr_warn("%s: %s %zu: failed (%d), skipped\n", bench_wl_name[wl],
			bench_kind_name[kind], size, rc);
	bench_skip(wl, kind, size);
	return true;
}

/* ---- prodcons. ---- */

struct pc_ring {
	struct bench_alloc *a;
	void **slots;
	unsigned long mask;		/* slots - 1, a power of two */
	unsigned long total;		/* objects; lowered on failure */
	unsigned long head ____cacheline_aligned_in_smp;	/* producer */
	unsigned long tail ____cacheline_aligned_in_smp;	/* consumer */
};

static int pc_produce(struct bench_thread *bt)
{
	struct pc_ring *ring = bt->arg;
	unsigned long head, total = ring->total;
	void *obj;
	int rc = 0;

	bt->t_start = ktime_get_ns();
	for (head = 0; head < total; head++) {
		obj = ba_alloc_any(ring->a);
		if (unlikely(!obj)) {
			/* The consumer stops after the slots published. */
			smp_store_release(&ring->total, head);
			rc = -ENOMEM;
			break;
		}
		/* Pairs with the consumer's release: its slot reads are done. */
		while (head - smp_load_acquire(&ring->tail) > ring->mask) {
			cpu_relax();
			cond_resched();
		}
		ring->slots[head & ring->mask] = obj;
		/* Publishes the slot; pairs with the consumer's acquire. */
		smp_store_release(&ring->head, head + 1);
	}
	bt->t_end = ktime_get_ns();
	return rc;
}

static int pc_consume(struct bench_thread *bt)
{
	struct pc_ring *ring = bt->arg;
	unsigned long head, tail = 0;

	bt->t_start = ktime_get_ns();
	/* Pairs with the producer's release of a lowered total. */
	while (tail < smp_load_acquire(&ring->total)) {
		/* Pairs with the producer's release: the slots are written. */
		head = smp_load_acquire(&ring->head);
		if (head == tail) {
			cpu_relax();
			cond_resched();
			continue;
		}
		for (; tail < head; tail++)
			ba_free_any(ring->a, ring->slots[tail & ring->mask]);
		/* Hands the slots back; pairs with the producer's acquire. */
		smp_store_release(&ring->tail, tail);
	}
	bt->t_end = ktime_get_ns();
	return 0;
}

/* The pairs of a prodcons run: pair i is threads 2i (producer), 2i + 1. */
struct pc_ctx {
	struct pc_ring **rings;
	struct bench_thread *bts;
	unsigned int pairs;
};

static int pc_run(void *arg, u64 n, u64 *ns)
{
	struct pc_ctx *ctx = arg;
	unsigned int i;

	for (i = 0; i < ctx->pairs; i++) {
		ctx->rings[i]->total = n;
		ctx->rings[i]->head = 0;
		ctx->rings[i]->tail = 0;
	}
	return bench_group_run(ctx->bts, 2 * ctx->pairs, ns);
}

static void pc_free(struct pc_ctx *ctx)
{
	unsigned int i;

	for (i = 0; ctx->rings && i < ctx->pairs; i++) {
		if (ctx->rings[i])
			kfree(ctx->rings[i]->slots);
		kfree(ctx->rings[i]);
	}
	kfree(ctx->rings);
	kfree(ctx->bts);
}

/*
 * Sets up @pairs rings of @slots on the first 2 * @pairs online CPUs, the
 * producer of pair i on the (2i)th, its consumer on the next.
 */
static int pc_setup(struct pc_ctx *ctx, struct bench_alloc *a,
		    unsigned int pairs, unsigned int slots)
{
	unsigned int cpu, i = 0;

	ctx->pairs = pairs;
	ctx->rings = kcalloc(pairs, sizeof(*ctx->rings), GFP_KERNEL);
	ctx->bts = kcalloc(2 * pairs, sizeof(*ctx->bts), GFP_KERNEL);
	if (!ctx->rings || !ctx->bts)
		return -ENOMEM;
	for (i = 0; i < pairs; i++) {
		ctx->rings[i] = kzalloc(sizeof(*ctx->rings[i]), GFP_KERNEL);
		if (!ctx->rings[i])
			return -ENOMEM;
		ctx->rings[i]->slots = kcalloc(slots, sizeof(void *), GFP_KERNEL);
		if (!ctx->rings[i]->slots)
			return -ENOMEM;
		ctx->rings[i]->a = a;
		ctx->rings[i]->mask = slots - 1;
	}
	i = 0;
	for_each_online_cpu(cpu) {
		if (i == 2 * pairs)
			break;
		ctx->bts[i].cpu = cpu;
		ctx->bts[i].fn = i % 2 ? pc_consume : pc_produce;
		ctx->bts[i].arg = ctx->rings[i / 2];
		i++;
	}
	return i == 2 * pairs ? 0 : -ENOENT;
}

/*
 * @pairs producer/consumer pairs on one cache; the median over the rounds
 * of the time per object, all pairs' objects counted (with one pair: the
 * wall time per object; under -icount, where the time counts every CPU's
 * instructions, the instructions spent on an object by both CPUs).
 */
static void prodcons(size_t size, enum bench_kind kind, enum bench_wl wl,
		     unsigned int pairs, unsigned int n_rec)
{
	unsigned int slots = BENCH_RING_SLOTS;
	u64 vals[BENCH_MAX_ROUNDS], n, ns;
	struct pc_ctx ctx = { };
	struct bench_alloc a;
	unsigned int r;
	int rc;

	if (pairs < 1 || num_online_cpus() < 2 * pairs) {
		bench_skip(wl, kind, size);
		return;
	}
	/* At most BENCH_RING_BYTES of objects in flight per ring. */
	while (slots > 4 && (u64)slots * size > BENCH_RING_BYTES)
		slots /= 2;
	rc = pc_setup(&ctx, &a, pairs, slots);
	if (rc) {
		pc_free(&ctx);
		pr_warn("%s: no memory for the rings or too few CPUs (%d)\n",
			bench_wl_name[wl], rc);
		bench_skip(wl, kind, size);
		return;
	}
	rc = ba_create(&a, kind, size);
	if (!rc) {
		rc = bench_calibrate(pc_run, &ctx, cfg.prodcons_ns, 16, 1 << 22, &n);
		for (r = 0; !rc && r < cfg.rounds; r++) {
			cond_resched();
			rc = pc_run(&ctx, n, &ns);
			vals[r] = bench_per_op(ns, n * pairs);
		}
		ba_destroy(&a);
	}
	pc_free(&ctx);
	if (cross_failed(wl, kind, size, rc))
		return;
	bench_emit(wl, kind, size, n_rec ? n_rec : slots, M_NS_PER_OBJ,
		   bench_median(vals, cfg.rounds));
}

/* One pair, on the first two online CPUs; n = ring slots. */
void bench_prodcons(size_t size, enum bench_kind kind)
{
	prodcons(size, kind, WL_PRODCONS, 1, 0);
}

/* Mode scale: a pair per two online CPUs, one CPU left out when odd. */
void bench_scale_prodcons(size_t size, enum bench_kind kind)
{
	prodcons(size, kind, WL_SCALE_PRODCONS, num_online_cpus() / 2,
		 num_online_cpus());
}

/* ---- allcpus. ---- */

struct ac_ctx {
	struct bench_alloc *a;
	struct bench_thread *bts;
	unsigned int nr;
	u64 iters;
};

static int ac_work(struct bench_thread *bt)
{
	struct ac_ctx *ctx = bt->arg;
	void *objs[BENCH_ALLCPUS_BATCH];
	unsigned int i, got;
	int rc = 0;
	u64 it;

	bt->t_start = ktime_get_ns();
	for (it = 0; !rc && it < ctx->iters; it++) {
		for (got = 0; got < BENCH_ALLCPUS_BATCH; got++) {
			objs[got] = ba_alloc_any(ctx->a);
			if (unlikely(!objs[got])) {
				rc = -ENOMEM;
				break;
			}
		}
		for (i = 0; i < got; i++)
			ba_free_any(ctx->a, objs[i]);
	}
	bt->t_end = ktime_get_ns();
	return rc;
}

static int ac_run(void *arg, u64 n, u64 *ns)
{
	struct ac_ctx *ctx = arg;

	ctx->iters = n;
	return bench_group_run(ctx->bts, ctx->nr, ns);
}

/*
 * How much the threads' runs overlapped, in tenths: the sum of each
 * thread's time from its start to its end over the wall time from the
 * first start to the last end.  10 (1.0) means they ran one after the
 * other, nr * 10 that all ran the whole time.  Under -icount, where
 * QEMU runs the vCPUs in turn, it says how finely their work interleaved.
 */
static u64 ac_overlap(const struct ac_ctx *ctx, u64 wall)
{
	u64 sum = 0;
	unsigned int i;

	for (i = 0; i < ctx->nr; i++)
		sum += ctx->bts[i].t_end - ctx->bts[i].t_start;
	return div64_u64(sum * 10, max_t(u64, wall, 1));
}

/*
 * Every online CPU allocates 16 then frees 16 on one cache.  Emits, as
 * @wl, the median time per alloc+free pair: per CPU (WL_ALLCPUS: wall
 * time over one CPU's pairs, what one pair costs while all run), or over
 * all CPUs' pairs (WL_SCALE_ALLCPUS, run under -icount: the instructions
 * one pair costs, flat when the cache scales) with the overlap beside it.
 */
static void allcpus(size_t size, enum bench_kind kind, enum bench_wl wl)
{
	u64 vals[BENCH_MAX_ROUNDS], overlap[BENCH_MAX_ROUNDS], n, ns;
	bool all = wl == WL_SCALE_ALLCPUS;
	struct bench_alloc a;
	struct ac_ctx ctx;
	unsigned int cpu, i = 0, r;
	int rc;

	ctx.nr = num_online_cpus();
	if ((u64)ctx.nr * BENCH_ALLCPUS_BATCH * size > BENCH_ALLCPUS_BYTES) {
		bench_skip(wl, kind, size);
		return;
	}
	ctx.bts = kcalloc(ctx.nr, sizeof(*ctx.bts), GFP_KERNEL);
	if (!ctx.bts) {
		bench_skip(wl, kind, size);
		return;
	}
	for_each_online_cpu(cpu) {
		if (i == ctx.nr)
			break;
		ctx.bts[i].cpu = cpu;
		ctx.bts[i].fn = ac_work;
		ctx.bts[i].arg = &ctx;
		i++;
	}
	ctx.nr = i;
	ctx.a = &a;
	rc = ba_create(&a, kind, size);
	if (!rc) {
		rc = bench_calibrate(ac_run, &ctx, cfg.allcpus_ns, 4, 1 << 20,
				     &n);
		for (r = 0; !rc && r < cfg.rounds; r++) {
			cond_resched();
			rc = ac_run(&ctx, n, &ns);
			/* WL_ALLCPUS: wall * ncpus / (ncpus * n * 16) */
			vals[r] = bench_per_op(ns, n * BENCH_ALLCPUS_BATCH *
					       (all ? ctx.nr : 1));
			overlap[r] = ac_overlap(&ctx, ns);
		}
		ba_destroy(&a);
	}
	kfree(ctx.bts);
	if (cross_failed(wl, kind, size, rc))
		return;
	bench_emit(wl, kind, size, ctx.nr, M_NS_PER_OP,
		   bench_median(vals, cfg.rounds));
	if (all)
		bench_emit(wl, kind, size, ctx.nr, M_CPU_OVERLAP,
			   bench_median(overlap, cfg.rounds));
}

void bench_allcpus(size_t size, enum bench_kind kind)
{
	allcpus(size, kind, WL_ALLCPUS);
}

void bench_scale_allcpus(size_t size, enum bench_kind kind)
{
	allcpus(size, kind, WL_SCALE_ALLCPUS);
}
