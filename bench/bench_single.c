// SPDX-License-Identifier: GPL-2.0
/*
 * The single-CPU timed workloads: pair (the hit path, what make check's
 * gate measures) and batch_fresh / batch_warm.  Each timed loop is
 * instantiated per allocator kind with the switch of ba_alloc() folded
 * away, so that a figure is the allocator's cost and not the dispatch.
 */
#include "bench.h"

/* ---- pair. ---- */

static __always_inline u64 pair_loop(struct bench_alloc *a,
				     enum bench_kind kind, u64 n, bool *failed)
{
	u64 i, t0 = ktime_get_ns();
	void *obj;

	for (i = 0; i < n; i++) {
		obj = ba_alloc(a, kind);
		if (unlikely(!obj)) {
			*failed = true;
			break;
		}
		ba_free(a, kind, obj);
	}
	return ktime_get_ns() - t0;
}

static noinline u64 bench_pairs(struct bench_alloc *a, u64 n, bool *failed)
{
	switch (a->kind) {
	case BK_SPLK_KVMEM:
	case BK_SPLK_KVPG:
	case BK_SPLK_SLAB:
		return pair_loop(a, BK_SPLK_KVMEM, n, failed);
	case BK_SLUB:
	case BK_SLUB_SHEAF:
		return pair_loop(a, BK_SLUB, n, failed);
	case BK_KMALLOC:
		return pair_loop(a, BK_KMALLOC, n, failed);
	case BK_KVMALLOC:
		return pair_loop(a, BK_KVMALLOC, n, failed);
	case BK_VMALLOC:
		return pair_loop(a, BK_VMALLOC, n, failed);
	default:
		*failed = true;
		return 0;
	}
}

static int pair_run(void *ctx, u64 n, u64 *ns)
{
	bool failed = false;

	*ns = bench_pairs(ctx, n, &failed);
	return failed ? -ENOMEM : 0;
}

/*
 * The sheaf capacity SLUB gave a SLUB cache, as a record beside its pair:
 * which SLUB a figure is (0: no sheaves).  Only where SLUB has sheaves
 * (the sysfs file is there): earlier kernels get no record.
 */
static void bench_sheaf_capacity(struct bench_alloc *a)
{
	unsigned long cap;

	if (!SPLK_HAVE_KMEM_CACHE_SHEAF_CAPACITY ||
	    (a->kind != BK_SLUB && a->kind != BK_SLUB_SHEAF))
		return;
	if (bench_slub_attr(a->name, "sheaf_capacity", &cap))
		bench_emit(WL_PAIR, a->kind, a->size, 1, M_SHEAF_CAPACITY, cap);
}

void bench_pair(size_t size, enum bench_kind kind)
{
	u64 vals[BENCH_MAX_ROUNDS], n = 0, ns, done = 0;
	struct bench_alloc a;
	unsigned int r;
	int rc;

	if (ba_create(&a, kind, size)) {
		bench_skip(WL_PAIR, kind, size);
		return;
	}
	migrate_disable();
	/* Warm up: cfg.warmup pairs, or fewer when they are slow. */
	rc = 0;
	ns = 0;
	while (!rc && done < cfg.warmup && ns < cfg.pair_ns) {
		u64 t;

		rc = pair_run(&a, 16, &t);
		ns += t;
		done += 16;
	}
	if (!rc)
		rc = bench_calibrate(pair_run, &a, cfg.pair_ns, 4, 1 << 24, &n);
	for (r = 0; !rc && r < cfg.rounds; r++) {
		cond_resched();
		rc = pair_run(&a, n, &ns);
		vals[r] = bench_per_op(ns, n);
	}
	migrate_enable();
	bench_sheaf_capacity(&a);
	ba_destroy(&a);
	if (rc) {
		pr_warn("pair: %s %zu: allocation failed, skipped\n",
			bench_kind_name[kind], size);
		bench_skip(WL_PAIR, kind, size);
		return;
	}
	bench_emit(WL_PAIR, kind, size, 1, M_NS_PER_PAIR,
		   bench_median(vals, cfg.rounds));
}

/* ---- batch_fresh and batch_warm. ---- */

static __always_inline u64 batch_loop(struct bench_alloc *a,
				      enum bench_kind kind, void **objs,
				      unsigned int n, bool *failed)
{
	u64 t0 = ktime_get_ns(), t;
	unsigned int i, got;

	for (got = 0; got < n; got++) {
		objs[got] = ba_alloc(a, kind);
		if (unlikely(!objs[got]))
			break;
	}
	for (i = 0; i < got; i++)
		ba_free(a, kind, objs[i]);
	t = ktime_get_ns() - t0;
	if (got < n)
		*failed = true;
	return t;
}

static noinline u64 bench_batch_once(struct bench_alloc *a, unsigned int n,
				     bool *failed)
{
	switch (a->kind) {
	case BK_SPLK_KVMEM:
	case BK_SPLK_SLAB:
		return batch_loop(a, BK_SPLK_KVMEM, bench_objs, n, failed);
	case BK_SLUB:
	case BK_SLUB_SHEAF:
		return batch_loop(a, BK_SLUB, bench_objs, n, failed);
	case BK_KMALLOC:
		return batch_loop(a, BK_KMALLOC, bench_objs, n, failed);
	case BK_KVMALLOC:
		return batch_loop(a, BK_KVMALLOC, bench_objs, n, failed);
	case BK_VMALLOC:
		return batch_loop(a, BK_VMALLOC, bench_objs, n, failed);
	default:
		*failed = true;
		return 0;
	}
}

/* One round: returns 0, -ENOENT (no cache) or -ENOMEM. */
static int bench_batch_round(size_t size, enum bench_kind kind, bool warm,
			     unsigned int n, u64 *tenths, u64 *growths)
{
	struct splk_cache_stats before, after;
	bool failed = false, stats = false;
	struct bench_alloc a;
	u64 ns = 0;

	if (ba_create(&a, kind, size))
		return -ENOENT;
	if (warm)
		bench_batch_once(&a, n, &failed);
	if (kind == BK_SPLK_KVMEM)
		stats = bench_stats(a.name, &before);
	if (!failed)
		ns = bench_batch_once(&a, n, &failed);
	if (stats)
		stats = bench_stats(a.name, &after);
	ba_destroy(&a);
	if (failed)
		return -ENOMEM;
	*tenths = bench_per_op(ns, n);
	*growths = stats ? after.slab_create - before.slab_create : 0;
	return 0;
}

static void bench_batch(size_t size, enum bench_kind kind, bool warm)
{
	enum bench_wl wl = warm ? WL_BATCH_WARM : WL_BATCH_FRESH;
	u64 vals[BENCH_MAX_ROUNDS], growths[BENCH_MAX_ROUNDS];
	unsigned int i, r, n;
	int rc = 0;

	for (i = 0; i < cfg.nr_batch; i++) {
		n = cfg.batch[i];
		if ((u64)n * size > BENCH_BATCH_BYTES)
			break;
		migrate_disable();
		for (r = 0; !rc && r < cfg.rounds; r++) {
			cond_resched();
			rc = bench_batch_round(size, kind, warm, n, &vals[r],
					       &growths[r]);
		}
		migrate_enable();
		if (rc == -ENOENT) {
			bench_skip(wl, kind, size);
			return;
		}
		if (rc) {
			pr_warn("%s: %s %zu x %u: allocation failed, skipped\n",
				bench_wl_name[wl], bench_kind_name[kind], size,
				n);
			bench_skip(wl, kind, size);
			return;
		}
		bench_emit(wl, kind, size, n, M_NS_PER_OBJ,
			   bench_median(vals, cfg.rounds));
		if (kind == BK_SPLK_KVMEM && BENCH_HAVE_STATS)
			bench_emit(wl, kind, size, n, M_SLAB_GROWTHS,
				   bench_median(growths, cfg.rounds));
	}
}

void bench_batch_fresh(size_t size, enum bench_kind kind)
{
	bench_batch(size, kind, false);
}

void bench_batch_warm(size_t size, enum bench_kind kind)
{
	bench_batch(size, kind, true);
}
