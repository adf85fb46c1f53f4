// SPDX-License-Identifier: GPL-2.0
/*
 * The batch calls against single calls (workloads bulk, bulk_single):
 * spl_kmem_cache_alloc_batch()/free_batch(), SLUB's bulk calls.
 */
#include "bench.h"

static const unsigned int bench_bulk_n[] = { 8, 32, 128 };

static int bulk_once(struct bench_alloc *a, unsigned int n, bool single)
{
	void **objs = bench_objs;
	unsigned int i;

	if (single) {
		unsigned int got;

		for (got = 0; got < n; got++) {
			objs[got] = ba_alloc_any(a);
			if (!objs[got])
				break;
		}
		for (i = 0; i < got; i++)
			ba_free_any(a, objs[i]);
		return got == n ? 0 : -ENOMEM;
	}
	if (a->kind == BK_SLUB) {
		if (kmem_cache_alloc_bulk(a->kc, GFP_KERNEL, n, objs) != n)
			return -ENOMEM;
		kmem_cache_free_bulk(a->kc, n, objs);
		return 0;
	}
#if defined(SPL_KMEM_CACHE_HAVE_BATCH) && !defined(BENCH_PROVIDER_SPL)
	if (spl_kmem_cache_alloc_batch(a->skc, KM_SLEEP, objs, n) != n)
		return -ENOMEM;
	spl_kmem_cache_free_batch(a->skc, objs, n);
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

struct bulk_ctx {
	struct bench_alloc *a;
	unsigned int n;
	bool single;
};

static int bulk_run(void *arg, u64 times, u64 *ns)
{
	struct bulk_ctx *c = arg;
	u64 i, t0 = ktime_get_ns();
	int rc = 0;

	for (i = 0; i < times && !rc; i++)
		rc = bulk_once(c->a, c->n, c->single);
	*ns = ktime_get_ns() - t0;
	return rc;
}

static void bench_bulk_one(struct bench_alloc *a, size_t size, unsigned int n, bool single)
{
	enum bench_wl wl = single ? WL_BULK_SINGLE : WL_BULK;
	struct bulk_ctx c = { .a = a, .n = n, .single = single };
	u64 vals[BENCH_MAX_ROUNDS], times = 0, ns;
	unsigned int r;
	int rc;

	rc = bulk_run(&c, 4, &ns);	/* warm: the magazines, SLUB's slabs */
	if (!rc)
		rc = bench_calibrate(bulk_run, &c, cfg.pair_ns, 1, 1 << 20, &times);
	for (r = 0; !rc && r < cfg.rounds; r++) {
		cond_resched();
		rc = bulk_run(&c, times, &ns);
		vals[r] = bench_per_op(ns, times * n);
	}
	if (rc) {
		bench_skip(wl, a->kind, size);
		return;
	}
	bench_emit(wl, a->kind, size, n, M_NS_PER_OBJ, bench_median(vals, cfg.rounds));
}

void bench_bulk(size_t size, enum bench_kind kind)
{
	struct bench_alloc a;
	unsigned int i;

	if (size > 4096 || (kind != BK_SPLK_KVMEM && kind != BK_SPLK_KVPG &&
			    kind != BK_SPLK_SLAB && kind != BK_SLUB))
		return;
	if (ba_create(&a, kind, size)) {
		bench_skip(WL_BULK, kind, size);
		return;
	}
	migrate_disable();
	for (i = 0; i < ARRAY_SIZE(bench_bulk_n); i++) {
		bench_bulk_one(&a, size, bench_bulk_n[i], true);
		bench_bulk_one(&a, size, bench_bulk_n[i], false);
	}
	migrate_enable();
	ba_destroy(&a);
}
