// SPDX-License-Identifier: GPL-2.0
/*
 * What memory the caches hold: memory (bytes per live object) and idle
 * (what the periodic working-set update gives back after a burst).
 */
#include "bench.h"

/* ---- memory. ---- */

/*
 * Slab memory per active object of the SLUB cache @name, in tenths: what
 * /proc/slabinfo shows as num_slabs * pagesperslab * PAGE_SIZE /
 * active_objs, from SLUB's slabs, order and objects files.
 */
static bool bench_slub_footprint(const char *name, u64 *tenths)
{
	unsigned long slabs, order, objects;

	if (!bench_slub_attr(name, "slabs", &slabs) ||
	    !bench_slub_attr(name, "order", &order) ||
	    !bench_slub_attr(name, "objects", &objects) || !objects)
		return false;
	*tenths = div64_u64((u64)slabs * (PAGE_SIZE << order) * 10, objects);
	return true;
}

/*
 * Memory per object of the page-level allocators, in tenths: the size
 * kmalloc rounds to, or the whole pages of a vmalloc area (page tables and
 * the vm_struct not counted).
 */
static u64 bench_kernel_footprint(enum bench_kind kind, size_t size,
				  void **objs, unsigned int k)
{
	u64 bytes = 0;
	unsigned int i;

	for (i = 0; i < k; i++) {
		if (kind == BK_VMALLOC || is_vmalloc_addr(objs[i]))
			bytes += PAGE_ALIGN(size);
		else
			bytes += kmalloc_size_roundup(size);
	}
	return div64_u64(bytes * 10, max(k, 1U));
}

void bench_memory(size_t size, enum bench_kind kind)
{
	unsigned int i, k = min_t(u64, cfg.mem_objs, BENCH_MEM_BYTES / size);
	struct splk_cache_stats st;
	struct bench_alloc a;
	bool ok = true;
	u64 tenths = 0;

	if (((kind == BK_SPLK_KVMEM || kind == BK_SPLK_KVPG) && !BENCH_HAVE_STATS) ||
	    ba_create(&a, kind, size)) {
		bench_skip(WL_MEMORY, kind, size);
		return;
	}
	for (i = 0; i < k; i++) {
		bench_objs[i] = ba_alloc_any(&a);
		if (!bench_objs[i])
			break;
		if (i % 64 == 63)
			cond_resched();
	}
	if (i < k) {
		pr_warn("memory: %s %zu: allocation %u of %u failed\n",
			bench_kind_name[kind], size, i, k);
		ok = false;
	}
	if (ok) {
		switch (kind) {
		case BK_SPLK_KVMEM:
		case BK_SPLK_KVPG:
			ok = bench_stats(a.name, &st) && st.obj_alloc;
			if (ok)
				tenths = div64_u64(st.slab_total * st.slab_size * 10,
						   st.obj_alloc);
			break;
		case BK_SPLK_SLAB:
		case BK_SLUB:
		case BK_SLUB_SHEAF:
			ok = bench_slub_footprint(a.name, &tenths);
			break;
		default:
			tenths = bench_kernel_footprint(kind, size, bench_objs,
							k);
			break;
		}
	}
	while (i--)
		ba_free_any(&a, bench_objs[i]);
	ba_destroy(&a);
	if (!ok) {
		bench_skip(WL_MEMORY, kind, size);
		return;
	}
	bench_emit(WL_MEMORY, kind, size, k, M_OBJ_SIZE, size);
	bench_emit(WL_MEMORY, kind, size, k, M_BYTES_PER_OBJ, tenths);
}

/* ---- idle. ---- */

#define IDLE_PARAM	"/sys/module/splkmem/parameters/spl_kmem_cache_reap_interval_ms"
#define IDLE_POLL_MS	50

bool idle_wl = true;
module_param(idle_wl, bool, 0444);
MODULE_PARM_DESC(idle_wl,
		 "Run the idle workload and its wait of two reap intervals (modes all and smoke)");

struct idle_cache {
	struct bench_alloc a;
	unsigned int n;
	u64 burst_end;		/* ktime_get_ns() after the last free */
	u64 deadline;
	u64 bytes;		/* slab bytes when last looked at */
	bool created;
	bool done;
	bool zero;
};

static u64 idle_slab_bytes(const struct splk_cache_stats *st)
{
	return st->slab_total * st->slab_size;
}

/* The burst: n allocs, then n frees, on the loader's CPU. */
static int idle_burst(struct idle_cache *ic, size_t size)
{
	struct splk_cache_stats st;
	unsigned int i, got;

	migrate_disable();
	for (got = 0; got < ic->n; got++) {
		bench_objs[got] = ba_alloc_any(&ic->a);
		if (!bench_objs[got])
			break;
		if (got % 64 == 63)
			cond_resched();
	}
	for (i = 0; i < got; i++)
		ba_free_any(&ic->a, bench_objs[i]);
	migrate_enable();
	ic->burst_end = ktime_get_ns();
	if (got < ic->n) {
		pr_warn("idle: %zu: allocation %u of %u failed\n", size, got,
			ic->n);
		return -ENOMEM;
	}
	if (!bench_stats(ic->a.name, &st))
		return -ENOENT;
	ic->bytes = idle_slab_bytes(&st);
	bench_emit(WL_IDLE, BK_SPLK_KVMEM, size, ic->n, M_SLAB_BYTES_BURST,
		   ic->bytes);
	bench_emit(WL_IDLE, BK_SPLK_KVMEM, size, ic->n, M_MAG_OBJS_BURST,
		   st.mag_objs);
	return 0;
}

/*
 * Every size's cache gets its burst, then all of them wait together, so
 * the two intervals are paid once.  The periodic update runs every
 * interval from splkmem's load, whatever the burst's phase: the first one
 * after the burst sees the depot used during its interval and keeps it;
 * the second returns the unused magazines, drains the CPUs idle since,
 * and frees their slabs at once.  So slab_total reaches 0 by two
 * intervals after the burst; the margin (a quarter interval and a
 * second) covers the update task's own delay on a loaded guest.
 */
void bench_idle(void)
{
	u64 interval_ns, now, end_ns;
	struct splk_cache_stats st;
	unsigned long interval_ms;
	struct idle_cache *ic;
	unsigned int i, left;
	size_t size;

	if (!BENCH_HAVE_STATS ||
	    !bench_read_number(IDLE_PARAM, &interval_ms) || !interval_ms) {
		if (BENCH_HAVE_STATS)
			pr_warn("idle: no periodic reap (interval 0 or unreadable), skipped\n");
		for (i = 0; i < cfg.nr_sizes; i++)
			bench_skip(WL_IDLE, BK_SPLK_KVMEM, cfg.sizes[i]);
		return;
	}
	ic = kcalloc(cfg.nr_sizes, sizeof(*ic), GFP_KERNEL);
	if (!ic) {
		for (i = 0; i < cfg.nr_sizes; i++)
			bench_skip(WL_IDLE, BK_SPLK_KVMEM, cfg.sizes[i]);
		return;
	}
	interval_ns = (u64)interval_ms * NSEC_PER_MSEC;
	for (i = 0; i < cfg.nr_sizes; i++) {
		size = cfg.sizes[i];
		ic[i].n = min_t(u64, cfg.mem_objs, BENCH_MEM_BYTES / size);
		ic[i].created = !ba_create(&ic[i].a, BK_SPLK_KVMEM, size);
		if (!ic[i].created || idle_burst(&ic[i], size)) {
			bench_skip(WL_IDLE, BK_SPLK_KVMEM, size);
			ic[i].done = true;
			continue;
		}
		ic[i].deadline = ic[i].burst_end + 2 * interval_ns +
				 interval_ns / 4 + NSEC_PER_SEC;
		cond_resched();
	}
	end_ns = ktime_get_ns();
	for (;;) {
		left = 0;
		now = ktime_get_ns();
		for (i = 0; i < cfg.nr_sizes; i++) {
			if (ic[i].done)
				continue;
			if (!bench_stats(ic[i].a.name, &st)) {
				ic[i].done = true;
				ic[i].deadline = 0;	/* nothing to report */
				continue;
			}
			ic[i].bytes = idle_slab_bytes(&st);
			if (!st.slab_total) {
				ic[i].zero = true;
				ic[i].done = true;
				bench_emit(WL_IDLE, BK_SPLK_KVMEM, cfg.sizes[i],
					   ic[i].n, M_MS_TO_ZERO,
					   div_u64(now - ic[i].burst_end,
						   NSEC_PER_MSEC));
			} else if (now >= ic[i].deadline) {
				ic[i].done = true;
			} else {
				left++;
			}
		}
		if (!left)
			break;
		msleep(IDLE_POLL_MS);
	}
	for (i = 0; i < cfg.nr_sizes; i++) {
		size = cfg.sizes[i];
		if (ic[i].created)
			ba_destroy(&ic[i].a);
		if (!ic[i].burst_end || (!ic[i].zero && !ic[i].deadline))
			continue;
		if (!ic[i].zero)
			pr_warn("idle: %zu: %llu slab bytes left %llu ms after the burst (reap interval %lu ms)\n",
				size, ic[i].bytes,
				div_u64(ic[i].deadline - ic[i].burst_end,
					NSEC_PER_MSEC), interval_ms);
		bench_emit(WL_IDLE, BK_SPLK_KVMEM, size, ic[i].n,
			   M_SLAB_BYTES_IDLE, ic[i].bytes);
		bench_emit(WL_IDLE, BK_SPLK_KVMEM, size, ic[i].n,
			   M_REAP_INTERVAL_MS, interval_ms);
	}
	pr_info("idle: waited %llu ms after the bursts\n",
		div_u64(ktime_get_ns() - end_ns, NSEC_PER_MSEC));
	kfree(ic);
}
