// SPDX-License-Identifier: GPL-2.0
/*
 * The allocators measured: creating and destroying each kind's cache, one
 * allocation or free through any kind (the loops that are not timed per
 * kind), the statistics snapshot, and the calibration every timed
 * workload uses.
 */
#include "bench.h"

/* Short names for the caches, which need unique names. */
static const char * const bench_kind_tag[BK_NR] = {
	[BK_SPLK_KVMEM] = "kv",
	[BK_SPLK_KVPG] = "kvp",
	[BK_SPLK_SLAB] = "sl",
	[BK_SLUB] = "slub",
	[BK_SLUB_SHEAF] = "sheaf",
	[BK_KMALLOC] = "km",
	[BK_KVMALLOC] = "kvm",
	[BK_VMALLOC] = "vm",
};

static unsigned int bench_seq;		/* makes cache names unique */

/*
 * Sets up @a; creates a cache, with a unique name, for the cache
 * allocators.  Returns 0, or -ENOENT when the cache cannot be created
 * (KMC_SLAB above spl_kmem_cache_slab_limit): the caller skips it.
 */
int ba_create(struct bench_alloc *a, enum bench_kind kind, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->size = size;
	snprintf(a->name, sizeof(a->name), "splkb_%s_%zu_%u",
		 bench_kind_tag[kind], size, ++bench_seq);
	switch (kind) {
	case BK_SPLK_KVMEM:
		a->skc = spl_kmem_cache_create(a->name, size, 0, NULL, NULL,
					       NULL, NULL, NULL, KMC_KVMEM);
		break;
	case BK_SPLK_KVPG:
		a->skc = spl_kmem_cache_create(a->name, size, PAGE_SIZE, NULL, NULL,
					       NULL, NULL, NULL, KMC_KVMEM);
		break;
	case BK_SPLK_SLAB:
		a->skc = spl_kmem_cache_create(a->name, size, 0, NULL, NULL,
					       NULL, NULL, NULL, KMC_SLAB);
		break;
	case BK_SLUB:
		a->kc = kmem_cache_create(a->name, size, 8, BENCH_SLUB_FLAGS,
					  NULL);
		if (!a->kc)
			pr_warn("%s: kmem_cache_create(%zu) failed\n", a->name,
				size);
		return a->kc ? 0 : -ENOENT;
#if SPLK_HAVE_KMEM_CACHE_SHEAF_CAPACITY
	case BK_SLUB_SHEAF: {
		struct kmem_cache_args args = {
			.align = 8,
			.sheaf_capacity = BENCH_SHEAF_CAPACITY,
		};

		a->kc = kmem_cache_create(a->name, size, &args,
					  BENCH_SLUB_FLAGS);
		if (!a->kc)
			pr_warn("%s: kmem_cache_create(%zu, sheaf_capacity %u) failed\n",
				a->name, size, BENCH_SHEAF_CAPACITY);
		return a->kc ? 0 : -ENOENT;
	}
#endif
	default:
		return 0;
	}
	if (!a->skc)
		pr_warn("%s: spl_kmem_cache_create(%zu, %s) failed\n", a->name,
			size, kind == BK_SPLK_SLAB ? "KMC_SLAB" : "KMC_KVMEM");
	return a->skc ? 0 : -ENOENT;
}

void ba_destroy(struct bench_alloc *a)
{
	if (a->skc)
		spl_kmem_cache_destroy(a->skc);
	kmem_cache_destroy(a->kc);
	a->skc = NULL;
	a->kc = NULL;
}

/* Snapshot of an splkmem cache's statistics, found by name. */
#ifdef BENCH_PROVIDER_SPL
/* spl.ko exports no statistics snapshot. */
bool bench_stats(const char *name, struct splk_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	return false;
}
#else
bool bench_stats(const char *name, struct splk_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	return splk_cache_stats_find(name, out);
}
#endif


/*
 * Whether @kind runs in this boot: under spl.ko only the provider's caches
 * (the kernel's allocators are measured in the splkmem boot), in gate mode
 * only the caches and the bare SLUB cache they are compared with, in scale
 * mode the caches and SLUB's cache as it is on this kernel (no sheaf
 * request).
 */
bool bench_kind_enabled(enum bench_kind kind)
{
	bool cache = kind == BK_SPLK_KVMEM || kind == BK_SPLK_KVPG || kind == BK_SPLK_SLAB;

	if (!strcmp(BENCH_PROVIDER, "spl"))
		return cache;
	if (kind == BK_SLUB_SHEAF && !SPLK_HAVE_KMEM_CACHE_SHEAF_CAPACITY)
		return false;
	if (cfg.scale)
		return cache || kind == BK_SLUB;
	return cache || !cfg.gate || kind == BK_SLUB || kind == BK_SLUB_SHEAF;
}

/*
 * Finds the iteration count that makes one run take about @target_ns:
 * runs @run with growing counts until a run takes an eighth of the target,
 * then scales by the fastest of three runs of that count (one run can be
 * stretched by an interrupt, or by the host under a virtual machine).
 * Returns 0 or the error of @run.
 */
int bench_calibrate(int (*run)(void *ctx, u64 n, u64 *ns), void *ctx,
			   u64 target_ns, u64 min_n, u64 max_n, u64 *n_out)
{
	u64 n = min_n, ns = 0, again;
	unsigned int i;
	int rc;

	for (;;) {
		rc = run(ctx, n, &ns);
		if (rc)
			return rc;
		if (ns >= target_ns / 8 || n >= max_n)
			break;
		n = min(n * (ns < target_ns / 64 ? 8 : 2), max_n);
		cond_resched();
	}
	for (i = 0; i < 2; i++) {
		cond_resched();
		rc = run(ctx, n, &again);
		if (rc)
			return rc;
		ns = min(ns, again);
	}
	n = div64_u64(n * target_ns, max_t(u64, ns, 1));
	*n_out = clamp(n, min_n, max_n);
	return 0;
}

/* ---- SLUB's sysfs files. ---- */

/*
 * Reads the number at the start of the sysfs file @path (sysfs files, not
 * proc ones: /proc/slabinfo, which shows SLUB's counters too, is a plain
 * seq_read() file that kernel_read() refuses).
 */
bool bench_read_number(const char *path, unsigned long *val)
{
	char buf[64], *end;
	struct file *file;
	loff_t pos = 0;
	ssize_t got;

	file = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(file)) {
		pr_warn("cannot open %s: %ld\n", path, PTR_ERR(file));
		return false;
	}
	got = kernel_read(file, buf, sizeof(buf) - 1, &pos);
	filp_close(file, NULL);
	if (got <= 0) {
		pr_warn("cannot read %s: %zd\n", path, got);
		return false;
	}
	/* "slabs" goes on with per-node counts: keep the first number. */
	buf[got] = '\0';
	end = buf;
	while (*end && !isspace(*end))
		end++;
	*end = '\0';
	return !kstrtoul(buf, 10, val);
}

/* The number at the start of /sys/kernel/slab/<name>/<attr>. */
bool bench_slub_attr(const char *name, const char *attr,
			    unsigned long *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/%s", name, attr);
	return bench_read_number(path, val);
}
