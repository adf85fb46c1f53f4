// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_bench: allocator benchmarks for splkmem, run at module load.
 *
 * Compares splkmem's object caches with the kernel's own allocators, for
 * object sizes 64, 512, 4096, 16384, 65536, 262144 and 1048576 bytes.
 * Allocators (<allocator>):
 *
 *   splk_kvmem  spl_kmem_cache_create(..., KMC_KVMEM), KM_SLEEP
 *   splk_kvmem_pg  the same with align PAGE_SIZE (ZFS's zio buffers), sizes
 *               of a page and up, workloads pair and memory only: a page
 *               multiple keeps its tags in the slab header (SPL pads each
 *               object to the next page for its spl_kmem_obj_t)
 *   splk_slab   spl_kmem_cache_create(..., KMC_SLAB), KM_SLEEP
 *   slub        kmem_cache_create(name, size, 8, SLAB_NO_MERGE, NULL)
 *   slub_sheaf  the same created with kmem_cache_args.sheaf_capacity =
 *               BENCH_SHEAF_CAPACITY: SLUB's per-CPU sheaves (Linux 6.18
 *               and up; from 7.0 on every such cache has sheaves of a
 *               capacity SLUB picks by size, and the request raises it),
 *               only where the kernel has the field (a feature test,
 *               bench/Kbuild); its records and those of slub carry the
 *               sheaf_capacity SLUB gave the cache (pair workload)
 *   kmalloc     kmalloc()/kfree()
 *   kvmalloc    kvmalloc()/kvfree()
 *   vmalloc     vmalloc()/vfree()
 *
 * Workloads (<workload>), what <n> is, and the metrics:
 *
 *   pair         alloc + free of one object, warm, on one CPU (the
 *                loader's, migrate_disable()); n = 1; ns_per_pair
 *   batch_fresh  alloc n objects then free them, on a cache created just
 *                before (not timed); n = 16..4096 with n * size <= 64 MiB;
 *                ns_per_obj (time / n), and for splk_kvmem slab_growths
 *                (slab_create increase during the timed part)
 *   batch_warm   the same after one untimed alloc n / free n on the cache
 *   prodcons     a kthread on one CPU allocates, one on another frees,
 *                through a single-producer single-consumer ring; n = ring
 *                slots (256, fewer for big objects: 16 MiB in flight at
 *                most); ns_per_obj (wall time / objects)
 *   allcpus      a kthread per online CPU allocs 16 then frees 16, on one
 *                shared cache; n = CPUs; ns_per_op (wall time * CPUs /
 *                alloc+free pairs, the cost of one pair on one CPU)
 *   memory       n = min(4096, 64 MiB / size) objects live; obj_size and
 *                bytes_per_obj: splk_kvmem slab_total * slab_size /
 *                obj_alloc; slub and splk_slab the SLUB cache's slabs *
 *                pages per slab * PAGE_SIZE / active objects (the numbers
 *                of /proc/slabinfo); kmalloc, kvmalloc, vmalloc the size
 *                the allocation is rounded to (kmalloc bucket or pages)
 *   bulk         warm, one CPU: n objects by one spl_kmem_cache_alloc_batch()
 *                call, then one spl_kmem_cache_free_batch() (slub:
 *                kmem_cache_alloc_bulk() / kmem_cache_free_bulk()); n = 8,
 *                32, 128; sizes 64, 512 and 4096 (splk_kvmem_pg: 4096);
 *                modes all, single and gate (under -icount: instruction
 *                counts); ns_per_obj.  Not under spl.ko (no batch calls)
 *   bulk_single  the same n objects by single calls, the comparison
 *   idle         splk_kvmem only, every size at once (modes all and
 *                smoke): a burst of n = min(4096, 64 MiB / size) allocs
 *                then n frees, then the caches sit idle while splkmem's
 *                periodic working-set update (every
 *                spl_kmem_cache_reap_interval_ms, read from
 *                /sys/module/splkmem/parameters) gives their memory back;
 *                slab_bytes_burst and mag_objs_burst (slab_total *
 *                slab_size, objects in magazines) right after the burst,
 *                slab_bytes_idle once it reached 0 or two intervals + a
 *                margin after the burst, ms_to_zero (from the last free
 *                to slab_total 0, polled every 50 ms; absent when not
 *                reached), reap_interval_ms.  All sizes share the wait
 *                (at most 2.25 intervals + 1 s).  Skipped under spl.ko
 *                (no statistics) and when the interval is 0.
 *
 * Task queue workloads (tq_roundtrip, tq_throughput; modes all, smoke and
 * taskq): the provider's taskq and the kernel's workqueue on queues of 1,
 * 8 and 100 threads; see "Workload 6" below.
 *
 * Providers: the module is built once per provider of SPL's symbols, which
 * cannot be loaded together (same exported names).  The default build
 * links against splkmem.ko; built with BENCH_PROVIDER=spl (Kbuild
 * variable) it links against OpenZFS's own spl.ko, calls it exactly the
 * same way, names its allocators spl_kvmem and spl_slab, and runs only
 * those two (the kernel's allocators are measured in the splkmem boot).
 * Under spl.ko, slab_growths and the spl_kvmem memory figure are not
 * available (they read splkmem's statistics) and are not reported.
 *
 * A figure that could not be measured (KMC_SLAB above the slab limit, an
 * allocation failure, prodcons with one CPU) is a record with n = 0, metric
 * skipped and value 1.  Times are medians over the rounds, calibrated so a
 * round takes 10 ms (pair; 1 ms in modes single and gate, which run under
 * -icount) or 20 ms (prodcons, allcpus) by ktime_get_ns().
 *
 * Output, pr_info() lines: "splkmem-bench: begin mode=<mode>
 * rounds=<rounds>", a line about the kernel, one line per record
 *
 *   splkmem-bench: csv,<workload>,<allocator>,<size>,<n>,<metric>,<value>
 *
 * (values with one decimal for ns_* and bytes_per_obj, integers
 * otherwise), tables of the same data, "splkmem-bench: end".  The module
 * then stays loaded, doing nothing, until it is removed.
 *
 * Parameters: mode=all|single|smoke|gate|taskq|cross (single: pair and
 * batch only; cross: prodcons and allcpus only, the -icount -smp 2 run;
 * smoke: every workload, one round, sizes 64 and 65536, tiny counts;
 * gate: the pair of the provider's two cache types and of SLUB kmem_cache,
 * every size, three rounds: the hit-path regression gate of make check,
 * run under -icount; taskq: the task queue workloads only), rounds (1-31,
 * default 5; at most 3 for tq_throughput), provider=splkmem|spl (must
 * name the provider the module was built for: a cross-check that the
 * right build is loaded), taskq_wl (0: modes all and smoke skip the task
 * queue workloads), idle_wl (0: they skip idle and its wait), tq_tasks
 * (tasks per tq_throughput round, default 100000).  Load splkmem with
 * spl_kmem_cache_slab_limit=1048576 so that KMC_SLAB caches of every size
 * can be created.
 *
 * Note: with init_on_alloc=1 (Debian's default) the kernel allocators zero
 * every object they hand out; splkmem's magazine objects are not zeroed.
 */
#define pr_fmt(fmt) "splkmem-bench: " fmt

#include "bench_features.h"
#include "numa.h"

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

/* The kernel's kmem_cache_*() stay visible: SPL's are called spl_*(). */
#define SPL_KMEM_CACHE_IMPLEMENTING
#include <sys/kmem.h>
#include <sys/kmem_cache.h>
#include <sys/taskq.h>

#ifdef BENCH_PROVIDER_SPL
#define BENCH_PROVIDER		"spl"
#define BENCH_HAVE_STATS	false
#else
#include "seam.h"
#define BENCH_PROVIDER		"splkmem"
#define BENCH_HAVE_STATS	true
#endif

static char *mode = "all";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode,
		 "all: every workload; single: pair and batch only; smoke: every workload, quickly; gate: cache pairs only; cross: prodcons and allcpus only");

static char *provider = BENCH_PROVIDER;
module_param(provider, charp, 0444);
MODULE_PARM_DESC(provider,
		 "The provider of SPL's symbols this build links against: splkmem or spl");

static unsigned int rounds = 5;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Rounds per timed figure, the median is reported (1-31)");

#define BENCH_MAX_ROUNDS	31
#define BENCH_MAX_OBJS		4096		/* batch N and memory K */
#define BENCH_BATCH_BYTES	(64UL << 20)	/* N * size at most */
#define BENCH_MEM_BYTES		(64UL << 20)	/* K * size at most */
#define BENCH_RING_SLOTS	256		/* prodcons ring, at most */
#define BENCH_RING_BYTES	(16UL << 20)	/* objects in flight, at most */
#define BENCH_ALLCPUS_BATCH	16
#define BENCH_ALLCPUS_BYTES	(512UL << 20)	/* live in allcpus, at most */
#define BENCH_MAX_RECORDS	4096

#ifdef SLAB_NO_MERGE
#define BENCH_SLUB_FLAGS	SLAB_NO_MERGE
#else
#define BENCH_SLUB_FLAGS	0
#endif

/*
 * The sheaf capacity slub_sheaf asks for: more than SLUB picks by itself
 * at any size (60, rounded up to fill a kmalloc bucket, below 256 B; 4 at
 * a page and up), so that its sheaves are the requested ones at every
 * size measured (SLUB takes the larger of the two).  A warm pair hits the
 * main sheaf whatever its capacity; the capacity matters to batches.
 */
#define BENCH_SHEAF_CAPACITY	128	/* scripts/bench.sh reads this line */

/* ---- What is measured and how it is reported. ---- */

enum bench_kind {
	BK_SPLK_KVMEM,
	BK_SPLK_KVPG,
	BK_SPLK_SLAB,
	BK_SLUB,
	BK_SLUB_SHEAF,
	BK_KMALLOC,
	BK_KVMALLOC,
	BK_VMALLOC,
	BK_NR,
};

static const char * const bench_kind_name[BK_NR] = {
#ifdef BENCH_PROVIDER_SPL
	[BK_SPLK_KVMEM] = "spl_kvmem",
	[BK_SPLK_KVPG] = "spl_kvmem_pg",
	[BK_SPLK_SLAB] = "spl_slab",
#else
	[BK_SPLK_KVMEM] = "splk_kvmem",
	[BK_SPLK_KVPG] = "splk_kvmem_pg",
	[BK_SPLK_SLAB] = "splk_slab",
#endif
	[BK_SLUB] = "slub",
	[BK_SLUB_SHEAF] = "slub_sheaf",
	[BK_KMALLOC] = "kmalloc",
	[BK_KVMALLOC] = "kvmalloc",
	[BK_VMALLOC] = "vmalloc",
};

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

enum bench_wl {
	WL_PAIR,
	WL_BATCH_FRESH,
	WL_BATCH_WARM,
	WL_PRODCONS,
	WL_ALLCPUS,
	WL_MEMORY,
	WL_IDLE,
	WL_BULK,
	WL_BULK_SINGLE,
	WL_NR,
};

static const char * const bench_wl_name[WL_NR] = {
	[WL_PAIR] = "pair",
	[WL_BATCH_FRESH] = "batch_fresh",
	[WL_BATCH_WARM] = "batch_warm",
	[WL_PRODCONS] = "prodcons",
	[WL_ALLCPUS] = "allcpus",
	[WL_MEMORY] = "memory",
	[WL_IDLE] = "idle",
	[WL_BULK] = "bulk",
	[WL_BULK_SINGLE] = "bulk_single",
};

/* What n means in each workload, for the tables. */
static const char * const bench_wl_desc[WL_NR] = {
	[WL_PAIR] = "alloc+free of one object on one CPU, n = 1",
	[WL_BATCH_FRESH] = "alloc n then free n, new cache each round",
	[WL_BATCH_WARM] = "alloc n then free n after one untimed pass",
	[WL_PRODCONS] = "CPU A allocs, CPU B frees, n = ring slots",
	[WL_ALLCPUS] = "every CPU allocs 16 then frees 16, one cache, n = CPUs",
	[WL_MEMORY] = "n objects live",
	[WL_IDLE] = "n allocs then n frees, then idle for two reap intervals",
	[WL_BULK] = "one batch call of n then one free batch call (slub: SLUB's bulk calls)",
	[WL_BULK_SINGLE] = "the same n objects by single calls, for comparison",
};

enum bench_metric {
	M_NS_PER_PAIR,
	M_NS_PER_OBJ,
	M_SLAB_GROWTHS,
	M_NS_PER_OP,
	M_BYTES_PER_OBJ,
	M_OBJ_SIZE,
	M_SKIPPED,
	M_NS_PER_TASK,
	M_NS_P10,
	M_NS_P99,
	M_NS_MAX,
	M_OVER_1MS,
	M_WORKER_WAKEUPS,
	M_SLAB_BYTES_BURST,
	M_MAG_OBJS_BURST,
	M_SLAB_BYTES_IDLE,
	M_MS_TO_ZERO,
	M_REAP_INTERVAL_MS,
	M_SHEAF_CAPACITY,
	M_NR,
};

static const char * const bench_metric_name[M_NR] = {
	[M_NS_PER_PAIR] = "ns_per_pair",
	[M_NS_PER_OBJ] = "ns_per_obj",
	[M_SLAB_GROWTHS] = "slab_growths",
	[M_NS_PER_OP] = "ns_per_op",
	[M_BYTES_PER_OBJ] = "bytes_per_obj",
	[M_OBJ_SIZE] = "obj_size",
	[M_SKIPPED] = "skipped",
	[M_NS_PER_TASK] = "ns_per_task",
	[M_NS_P10] = "ns_p10",
	[M_NS_P99] = "ns_p99",
	[M_NS_MAX] = "ns_max",
	[M_OVER_1MS] = "over_1ms",
	[M_WORKER_WAKEUPS] = "worker_wakeups",
	[M_SLAB_BYTES_BURST] = "slab_bytes_burst",
	[M_MAG_OBJS_BURST] = "mag_objs_burst",
	[M_SLAB_BYTES_IDLE] = "slab_bytes_idle",
	[M_MS_TO_ZERO] = "ms_to_zero",
	[M_REAP_INTERVAL_MS] = "reap_interval_ms",
	[M_SHEAF_CAPACITY] = "sheaf_capacity",
};

/* Metrics kept in tenths and printed with one decimal; others are counts. */
static bool bench_metric_tenths(enum bench_metric m)
{
	return m == M_NS_PER_PAIR || m == M_NS_PER_OBJ || m == M_NS_PER_OP ||
	       m == M_BYTES_PER_OBJ || m == M_NS_PER_TASK ||
	       m == M_NS_P10 || m == M_NS_P99 || m == M_NS_MAX;
}

struct bench_rec {
	u8 wl;
	u8 kind;
	u8 metric;
	u32 size;
	u32 n;
	u64 value;
};

static struct bench_rec *bench_recs;
static unsigned int bench_nr_recs;

/* ---- Configuration, from the mode. ---- */

static const size_t bench_sizes_all[] = {
	64, 512, 4096, 16384, 65536, 262144, 1048576,
};

static const size_t bench_sizes_smoke[] = { 64, 65536 };
static const unsigned int bench_batch_all[] = { 16, 64, 256, 1024, 4096 };
static const unsigned int bench_batch_smoke[] = { 16, 64 };

struct bench_config {
	bool multi;			/* prodcons, allcpus and memory too */
	bool batch_wl;			/* batch_fresh and batch_warm */
	bool gate;			/* cache kinds and SLUB only */
	bool cross;			/* prodcons and allcpus only */
	unsigned int rounds;
	const size_t *sizes;
	unsigned int nr_sizes;
	const unsigned int *batch;
	unsigned int nr_batch;
	unsigned int warmup;		/* pairs before the pair rounds */
	u64 pair_ns;			/* calibration targets, one round */
	u64 prodcons_ns;
	u64 allcpus_ns;
	unsigned int mem_objs;		/* memory: K at most */
	bool taskq;			/* tq_roundtrip and tq_throughput */
	bool taskq_only;		/* mode taskq: nothing else */
	unsigned int tq_tasks;		/* tq_throughput: n */
	unsigned int tq_rounds;		/* tq_throughput: rounds at most */
	u64 tq_roundtrip_ns;		/* tq_roundtrip: sampling time */
	u64 tq_throughput_ns;		/* tq_throughput: no new round after */
};

static struct bench_config cfg;
static void **bench_objs;		/* BENCH_MAX_OBJS pointers */
static unsigned int bench_seq;		/* makes cache names unique */

/* ---- Results. ---- */

static void bench_format(char *buf, size_t len, enum bench_metric m, u64 v)
{
	if (bench_metric_tenths(m))
		scnprintf(buf, len, "%llu.%llu", v / 10, v % 10);
	else
		scnprintf(buf, len, "%llu", v);
}

/* Prints one csv record and keeps it for the tables. */
static void bench_emit(enum bench_wl wl, enum bench_kind kind, size_t size,
		       unsigned int n, enum bench_metric m, u64 value)
{
	char val[24];

	bench_format(val, sizeof(val), m, value);
	pr_info("csv,%s,%s,%zu,%u,%s,%s\n", bench_wl_name[wl],
		bench_kind_name[kind], size, n, bench_metric_name[m], val);
	if (bench_nr_recs == BENCH_MAX_RECORDS) {
		pr_warn_once("more than %d records, the tables are incomplete\n",
			     BENCH_MAX_RECORDS);
		return;
	}
	bench_recs[bench_nr_recs++] = (struct bench_rec) {
		.wl = wl, .kind = kind, .metric = m, .size = size, .n = n,
		.value = value,
	};
}

static void bench_skip(enum bench_wl wl, enum bench_kind kind, size_t size)
{
	bench_emit(wl, kind, size, 0, M_SKIPPED, 1);
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median of v[0..n-1] (sorts v); the mean of the middle two for even n. */
static u64 bench_median(u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2] + 1) / 2;
}

/* Nanoseconds per operation, in tenths, rounded. */
static u64 bench_per_op(u64 ns, u64 ops)
{
	return div64_u64(ns * 10 + ops / 2, max_t(u64, ops, 1));
}

/* ---- The allocators. ---- */

struct bench_alloc {
	enum bench_kind kind;
	size_t size;
	char name[SPL_KMEM_CACHE_NAME_MAX + 1];
	spl_kmem_cache_t *skc;
	struct kmem_cache *kc;
};

/*
 * Sets up @a; creates a cache, with a unique name, for the cache
 * allocators.  Returns 0, or -ENOENT when the cache cannot be created
 * (KMC_SLAB above spl_kmem_cache_slab_limit): the caller skips it.
 */
static int ba_create(struct bench_alloc *a, enum bench_kind kind, size_t size)
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

static void ba_destroy(struct bench_alloc *a)
{
	if (a->skc)
		spl_kmem_cache_destroy(a->skc);
	kmem_cache_destroy(a->kc);
	a->skc = NULL;
	a->kc = NULL;
}

/*
 * One allocation or free with the allocator @kind.  The timed loops pass a
 * constant @kind so that the switch folds away; __GFP_NOWARN because a
 * failure is reported as a skipped figure, not a splat.
 */
static __always_inline void *ba_alloc(struct bench_alloc *a,
				      enum bench_kind kind)
{
	switch (kind) {
	case BK_SPLK_KVMEM:
	case BK_SPLK_KVPG:
	case BK_SPLK_SLAB:
		return spl_kmem_cache_alloc(a->skc, KM_SLEEP);
	case BK_SLUB:
	case BK_SLUB_SHEAF:
		return kmem_cache_alloc(a->kc, GFP_KERNEL | __GFP_NOWARN);
	case BK_KMALLOC:
		return kmalloc(a->size, GFP_KERNEL | __GFP_NOWARN);
	case BK_KVMALLOC:
		return kvmalloc(a->size, GFP_KERNEL | __GFP_NOWARN);
	case BK_VMALLOC:
		return vmalloc(a->size);
	default:
		return NULL;
	}
}

static __always_inline void ba_free(struct bench_alloc *a,
				    enum bench_kind kind, void *obj)
{
	switch (kind) {
	case BK_SPLK_KVMEM:
	case BK_SPLK_KVPG:
	case BK_SPLK_SLAB:
		spl_kmem_cache_free(a->skc, obj);
		break;
	case BK_SLUB:
	case BK_SLUB_SHEAF:
		kmem_cache_free(a->kc, obj);
		break;
	case BK_KMALLOC:
		kfree(obj);
		break;
	case BK_KVMALLOC:
		kvfree(obj);
		break;
	case BK_VMALLOC:
		vfree(obj);
		break;
	default:
		break;
	}
}

static noinline void *ba_alloc_any(struct bench_alloc *a)
{
	return ba_alloc(a, a->kind);
}

static noinline void ba_free_any(struct bench_alloc *a, void *obj)
{
	ba_free(a, a->kind, obj);
}

/* Snapshot of an splkmem cache's statistics, found by name. */
#ifdef BENCH_PROVIDER_SPL
struct splk_cache_stats {
	u64 slab_create;
	u64 slab_total;
	u64 slab_size;
	u64 obj_alloc;
	u64 mag_objs;
};

/* spl.ko exports no statistics snapshot. */
static bool bench_stats(const char *name, struct splk_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	return false;
}
#else
static bool bench_stats(const char *name, struct splk_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	return splk_cache_stats_find(name, out);
}
#endif

/*
 * Whether @kind runs in this boot: under spl.ko only the provider's caches
 * (the kernel's allocators are measured in the splkmem boot), in gate mode
 * only the caches and the bare SLUB cache they are compared with.
 */
static bool bench_kind_enabled(enum bench_kind kind)
{
	bool cache = kind == BK_SPLK_KVMEM || kind == BK_SPLK_KVPG || kind == BK_SPLK_SLAB;

	if (!strcmp(BENCH_PROVIDER, "spl"))
		return cache;
	if (kind == BK_SLUB_SHEAF && !SPLK_HAVE_KMEM_CACHE_SHEAF_CAPACITY)
		return false;
	return cache || !cfg.gate || kind == BK_SLUB || kind == BK_SLUB_SHEAF;
}

/*
 * Finds the iteration count that makes one run take about @target_ns:
 * runs @run with growing counts until a run takes an eighth of the target,
 * then scales by the fastest of three runs of that count (one run can be
 * stretched by an interrupt, or by the host under a virtual machine).
 * Returns 0 or the error of @run.
 */
static int bench_calibrate(int (*run)(void *ctx, u64 n, u64 *ns), void *ctx,
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
static bool bench_read_number(const char *path, unsigned long *val)
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
static bool bench_slub_attr(const char *name, const char *attr,
			    unsigned long *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/%s", name, attr);
	return bench_read_number(path, val);
}

/* ---- Workload 1: pair. ---- */

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

static void bench_pair(size_t size, enum bench_kind kind)
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

/* ---- Workload 2: batch_fresh and batch_warm. ---- */

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

/* ---- Workload 8: bulk and bulk_single (the batch calls). ---- */

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

static void bench_bulk(size_t size, enum bench_kind kind)
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

/* ---- Workload 3: prodcons. ---- */

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

struct pc_ctx {
	struct pc_ring *ring;
	unsigned int cpu_a;
	unsigned int cpu_b;
};

static int pc_run(void *arg, u64 n, u64 *ns)
{
	struct pc_ctx *ctx = arg;
	struct pc_ring *ring = ctx->ring;
	struct bench_thread bts[2] = {
		{ .cpu = ctx->cpu_a, .fn = pc_produce, .arg = ring },
		{ .cpu = ctx->cpu_b, .fn = pc_consume, .arg = ring },
	};

	ring->total = n;
	ring->head = 0;
	ring->tail = 0;
	return bench_group_run(bts, 2, ns);
}

static void bench_prodcons(size_t size, enum bench_kind kind)
{
	unsigned int slots = BENCH_RING_SLOTS;
	u64 vals[BENCH_MAX_ROUNDS], n, ns;
	struct pc_ring *ring;
	struct bench_alloc a;
	struct pc_ctx ctx;
	unsigned int r;
	int rc;

	ctx.cpu_a = cpumask_first(cpu_online_mask);
	ctx.cpu_b = cpumask_next(ctx.cpu_a, cpu_online_mask);
	if (ctx.cpu_b >= nr_cpu_ids) {
		bench_skip(WL_PRODCONS, kind, size);
		return;
	}
	/* At most BENCH_RING_BYTES of objects in flight. */
	while (slots > 4 && (u64)slots * size > BENCH_RING_BYTES)
		slots /= 2;
	ring = kzalloc(sizeof(*ring), GFP_KERNEL);
	if (ring)
		ring->slots = kcalloc(slots, sizeof(void *), GFP_KERNEL);
	if (!ring || !ring->slots) {
		kfree(ring);
		pr_warn("prodcons: no memory for the ring\n");
		bench_skip(WL_PRODCONS, kind, size);
		return;
	}
	ring->a = &a;
	ring->mask = slots - 1;
	ctx.ring = ring;
	if (ba_create(&a, kind, size)) {
		rc = -ENOENT;
		goto out;
	}
	rc = bench_calibrate(pc_run, &ctx, cfg.prodcons_ns, 16, 1 << 22, &n);
	for (r = 0; !rc && r < cfg.rounds; r++) {
		cond_resched();
		rc = pc_run(&ctx, n, &ns);
		vals[r] = bench_per_op(ns, n);
	}
	ba_destroy(&a);
out:
	kfree(ring->slots);
	kfree(ring);
	if (rc) {
		if (rc != -ENOENT)
			pr_warn("prodcons: %s %zu: failed (%d), skipped\n",
				bench_kind_name[kind], size, rc);
		bench_skip(WL_PRODCONS, kind, size);
		return;
	}
	bench_emit(WL_PRODCONS, kind, size, slots, M_NS_PER_OBJ,
		   bench_median(vals, cfg.rounds));
}

/* ---- Workload 4: allcpus. ---- */

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

static void bench_allcpus(size_t size, enum bench_kind kind)
{
	u64 vals[BENCH_MAX_ROUNDS], n, ns;
	struct bench_alloc a;
	struct ac_ctx ctx;
	unsigned int cpu, i = 0, r;
	int rc;

	ctx.nr = num_online_cpus();
	if ((u64)ctx.nr * BENCH_ALLCPUS_BATCH * size > BENCH_ALLCPUS_BYTES) {
		bench_skip(WL_ALLCPUS, kind, size);
		return;
	}
	ctx.bts = kcalloc(ctx.nr, sizeof(*ctx.bts), GFP_KERNEL);
	if (!ctx.bts) {
		bench_skip(WL_ALLCPUS, kind, size);
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
			/* wall * ncpus / (ncpus * n * 16) */
			vals[r] = bench_per_op(ns, n * BENCH_ALLCPUS_BATCH);
		}
		ba_destroy(&a);
	}
	kfree(ctx.bts);
	if (rc) {
		if (rc != -ENOENT)
			pr_warn("allcpus: %s %zu: failed (%d), skipped\n",
				bench_kind_name[kind], size, rc);
		bench_skip(WL_ALLCPUS, kind, size);
		return;
	}
	bench_emit(WL_ALLCPUS, kind, size, ctx.nr, M_NS_PER_OP,
		   bench_median(vals, cfg.rounds));
}

/* ---- Workload 5: memory. ---- */

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

static void bench_memory(size_t size, enum bench_kind kind)
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

/* ---- Workload 7: idle. ---- */

#define IDLE_PARAM	"/sys/module/splkmem/parameters/spl_kmem_cache_reap_interval_ms"
#define IDLE_POLL_MS	50

static bool idle_wl = true;
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
static void bench_idle(void)
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

/* ---- Workload 6: task queues. ---- */

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
 * Queues: taskq_create(name, threads, defclsyspri, 50, INT_MAX,
 * TASKQ_PREPOPULATE); alloc_workqueue(name, WQ_UNBOUND, threads), where
 * max_active bounds the work items running at once, as threads do.
 * worker_wakeups (taskq only): voluntary context switches of the queue's
 * threads during the timed part, each a sleep ended by a wake-up; n =
 * tasks.  About one per task in tq_roundtrip means a dispatch wakes one
 * worker; the thread count per task would be a thundering herd.
 */
#define TQ_NAME			"splkb_tq"
#define TQ_ROUNDTRIP_NS		(200 * NSEC_PER_MSEC)	/* per queue, at most */
#define TQ_THROUGHPUT_NS	(5 * NSEC_PER_SEC)	/* per queue, at most */

static unsigned int tq_tasks = 100000;
module_param(tq_tasks, uint, 0444);
MODULE_PARM_DESC(tq_tasks,
		 "Tasks per tq_throughput round in mode all (16-1000000)");

static bool taskq_wl = true;
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

static int tq_create(struct tq_queue *q, enum tq_kind kind,
		     unsigned int threads)
{
	q->kind = kind;
	q->tq = NULL;
	q->wq = NULL;
	if (kind == TQK_WQ)
		q->wq = alloc_workqueue("%s", WQ_UNBOUND, threads, TQ_NAME);
	else
		q->tq = taskq_create(TQ_NAME, threads, defclsyspri, 50,
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

	if (tq_create(&q, kind, threads))
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

static void bench_tq_throughput(enum tq_kind kind, unsigned int threads)
{
	u64 vals[BENCH_MAX_ROUNDS], sleeps = 0, ns, spent = 0;
	unsigned int r, n = cfg.tq_tasks;
	struct work_struct *works = NULL;
	struct tq_queue q;
	int rc = 0;

	if (kind == TQK_WQ) {
		works = kvmalloc_array(n, sizeof(*works), GFP_KERNEL);
		if (!works)
			return;
	}
	if (tq_create(&q, kind, threads)) {
		kvfree(works);
		return;
	}
	if (kind == TQK_TASKQ)
		sleeps = tq_worker_sleeps();
	/* The rounds stop early once they took TQ_THROUGHPUT_NS. */
	for (r = 0; !rc && r < cfg.tq_rounds &&
	     (!r || spent < cfg.tq_throughput_ns); r++) {
		cond_resched();
		rc = tq_throughput_once(&q, works, n, &ns);
		vals[r] = bench_per_op(ns, n);
		spent += ns;
	}
	if (kind == TQK_TASKQ)
		sleeps = tq_worker_sleeps() - sleeps;
	tq_destroy(&q);
	kvfree(works);
	if (rc) {
		pr_warn("tq_throughput: %s, %u threads: dispatch failed\n",
			tq_kind_name[kind], threads);
		return;
	}
	if (r < cfg.tq_rounds)
		pr_info("tq_throughput: %s, %u threads: %u of %u rounds (%llu ms)\n",
			tq_kind_name[kind], threads, r, cfg.tq_rounds,
			div_u64(spent, NSEC_PER_MSEC));
	tq_emit("tq_throughput", kind, threads, n, M_NS_PER_TASK,
		bench_median(vals, r));
	if (kind == TQK_TASKQ)
		tq_emit("tq_throughput", kind, threads, n * r,
			M_WORKER_WAKEUPS, sleeps);
}

static void bench_taskq(void)
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
			bench_tq_throughput(kind, tq_threads[i]);
			cond_resched();
		}
	}
	kvfree(samples);
}

/* ---- Tables. ---- */

static const struct bench_rec *bench_find(enum bench_wl wl,
					  enum bench_kind kind, u32 size,
					  u32 n, enum bench_metric m)
{
	unsigned int i;

	for (i = 0; i < bench_nr_recs; i++) {
		const struct bench_rec *rec = &bench_recs[i];

		if (rec->wl == wl && rec->kind == kind && rec->size == size &&
		    rec->metric == m && (m == M_SKIPPED || rec->n == n))
			return rec;
	}
	return NULL;
}

static void bench_table(enum bench_wl wl, enum bench_metric m, u64 *keys)
{
	unsigned int i, nkeys = 0, kept = 0;
	const struct bench_rec *rec;
	enum bench_kind kind;
	char line[160];
	size_t len;
	u32 size, n;

	for (i = 0; i < bench_nr_recs; i++)
		if (bench_recs[i].wl == wl && bench_recs[i].metric == m)
			keys[nkeys++] = (u64)bench_recs[i].size << 32 |
					bench_recs[i].n;
	if (!nkeys)
		return;
	sort(keys, nkeys, sizeof(*keys), bench_cmp_u64, NULL);
	for (i = 0; i < nkeys; i++)
		if (!kept || keys[i] != keys[kept - 1])
			keys[kept++] = keys[i];

	pr_info("\n");
	if (wl == WL_MEMORY || wl == WL_IDLE)
		pr_info("%s %s: %s\n", bench_wl_name[wl], bench_metric_name[m],
			bench_wl_desc[wl]);
	else
		pr_info("%s %s, median of %u: %s\n", bench_wl_name[wl],
			bench_metric_name[m], cfg.rounds, bench_wl_desc[wl]);
	len = scnprintf(line, sizeof(line), "%8s %5s", "size", "n");
	for (kind = 0; kind < BK_NR; kind++)
		if (bench_kind_enabled(kind))
			len += scnprintf(line + len, sizeof(line) - len,
					 " %11s", bench_kind_name[kind]);
	pr_info("%s\n", line);

	for (i = 0; i < kept; i++) {
		size = keys[i] >> 32;
		n = (u32)keys[i];
		len = scnprintf(line, sizeof(line), "%8u %5u", size, n);
		for (kind = 0; kind < BK_NR; kind++) {
			char val[24] = "-";

			if (!bench_kind_enabled(kind))
				continue;
			rec = bench_find(wl, kind, size, n, m);
			if (rec)
				bench_format(val, sizeof(val), m, rec->value);
			else if (bench_find(wl, kind, size, 0, M_SKIPPED))
				strscpy(val, "skip", sizeof(val));
			len += scnprintf(line + len, sizeof(line) - len,
					 " %11s", val);
		}
		pr_info("%s\n", line);
	}
	if (wl == WL_MEMORY && m == M_BYTES_PER_OBJ)
		pr_info("(splk_kvmem, splk_kvmem_pg: slab_total * slab_size / obj_alloc; slub, splk_slab: SLUB slabs * pages per slab / objects; others: size rounding)\n");
}

static void bench_tables(void)
{
	enum bench_metric m;
	enum bench_wl wl;
	u64 *keys;

	keys = kvmalloc_array(max(bench_nr_recs, 1U), sizeof(*keys),
			      GFP_KERNEL);
	if (!keys)
		return;
	for (wl = 0; wl < WL_NR; wl++)
		for (m = 0; m < M_NR; m++)
			if (m != M_SKIPPED && m != M_OBJ_SIZE &&
			    m != M_REAP_INTERVAL_MS && m != M_SHEAF_CAPACITY)
				bench_table(wl, m, keys);
	kvfree(keys);
}

/* ---- Driver. ---- */

static int bench_configure(void)
{
	bool smoke = !strcmp(mode, "smoke");

	if (strcmp(provider, BENCH_PROVIDER)) {
		pr_err("provider=%s: this build links against %s\n", provider,
		       BENCH_PROVIDER);
		return -EINVAL;
	}
	cfg.gate = !strcmp(mode, "gate");
	cfg.taskq_only = !strcmp(mode, "taskq");
	cfg.cross = !strcmp(mode, "cross");
	if (!smoke && !cfg.gate && !cfg.taskq_only && !cfg.cross &&
	    strcmp(mode, "all") && strcmp(mode, "single")) {
		pr_err("mode=%s: want all, single, smoke, gate, taskq or cross\n",
		       mode);
		return -EINVAL;
	}
	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS) {
		pr_err("rounds=%u: want 1 to %d\n", rounds, BENCH_MAX_ROUNDS);
		return -EINVAL;
	}
	cfg.multi = !strcmp(mode, "all") || smoke;
	cfg.taskq = (cfg.multi && taskq_wl) || cfg.taskq_only;
	if (tq_tasks < 16 || tq_tasks > 1000000) {
		pr_err("tq_tasks=%u: want 16 to 1000000\n", tq_tasks);
		return -EINVAL;
	}
	cfg.batch_wl = !cfg.gate && !cfg.taskq_only && !cfg.cross;
	if (cfg.gate) {
		/*
		 * Run under -icount, where a pair's cost is an instruction
		 * count: three short rounds agree.
		 */
		cfg.rounds = 3;
		cfg.sizes = bench_sizes_all;
		cfg.nr_sizes = ARRAY_SIZE(bench_sizes_all);
		cfg.warmup = 256;
		cfg.pair_ns = NSEC_PER_MSEC;
	} else if (smoke) {
		cfg.rounds = 1;
		cfg.sizes = bench_sizes_smoke;
		cfg.nr_sizes = ARRAY_SIZE(bench_sizes_smoke);
		cfg.batch = bench_batch_smoke;
		cfg.nr_batch = ARRAY_SIZE(bench_batch_smoke);
		cfg.warmup = 32;
		cfg.pair_ns = NSEC_PER_MSEC;
		cfg.prodcons_ns = 2 * NSEC_PER_MSEC;
		cfg.allcpus_ns = 2 * NSEC_PER_MSEC;
		cfg.mem_objs = 256;
		cfg.tq_tasks = 256;
		cfg.tq_rounds = 1;
		cfg.tq_roundtrip_ns = NSEC_PER_MSEC;
		cfg.tq_throughput_ns = NSEC_PER_MSEC;
	} else {
		cfg.rounds = rounds;
		cfg.sizes = bench_sizes_all;
		cfg.nr_sizes = ARRAY_SIZE(bench_sizes_all);
		cfg.batch = bench_batch_all;
		cfg.nr_batch = ARRAY_SIZE(bench_batch_all);
		cfg.warmup = 256;
		cfg.pair_ns = 10 * NSEC_PER_MSEC;
		/*
		 * single is the -icount run: a pair's cost is an instruction
		 * count, and longer rounds only catch more of whatever else
		 * the guest does.  Measured on stock 6.12: with 10 ms rounds
		 * SLUB-backed pairs (slub, KMC_SLAB) came out up to 2.2 times
		 * their 1 ms figure, at sizes that changed from boot to boot;
		 * the vmalloc caches' pairs did not move.
		 */
		if (!cfg.multi)
			cfg.pair_ns = NSEC_PER_MSEC;
		cfg.prodcons_ns = 20 * NSEC_PER_MSEC;
		cfg.allcpus_ns = 20 * NSEC_PER_MSEC;
		cfg.mem_objs = BENCH_MAX_OBJS;
		cfg.tq_tasks = tq_tasks;
		cfg.tq_rounds = min(rounds, 3U);
		cfg.tq_roundtrip_ns = TQ_ROUNDTRIP_NS;
		cfg.tq_throughput_ns = TQ_THROUGHPUT_NS;
	}
	return 0;
}

/*
 * Runs @fn for every size and enabled kind; splk_kvmem_pg only when
 * @page_aligned (pair and memory) and for sizes of a page and up.
 */
static void bench_each(void (*fn)(size_t size, enum bench_kind kind), bool page_aligned)
{
	enum bench_kind kind;
	unsigned int i;

	for (i = 0; i < cfg.nr_sizes; i++) {
		for (kind = 0; kind < BK_NR; kind++) {
			if (!bench_kind_enabled(kind))
				continue;
			if (kind == BK_SPLK_KVPG && (!page_aligned || cfg.sizes[i] < PAGE_SIZE))
				continue;
			fn(cfg.sizes[i], kind);
			cond_resched();
		}
	}
}

static void bench_batch_fresh(size_t size, enum bench_kind kind)
{
	bench_batch(size, kind, false);
}

static void bench_batch_warm(size_t size, enum bench_kind kind)
{
	bench_batch(size, kind, true);
}

static int __init splkmem_bench_init(void)
{
	u64 t0 = ktime_get_ns();
	int rc;

	if (!strcmp(mode, "numa")) {	/* numa.c: a mode of its own */
		pr_info("begin mode=numa provider=%s\n", BENCH_PROVIDER);
		rc = bench_numa(BENCH_PROVIDER);
		pr_info("end\n");
		return rc;
	}
	rc = bench_configure();
	if (rc)
		return rc;
	bench_recs = kvcalloc(BENCH_MAX_RECORDS, sizeof(*bench_recs),
			      GFP_KERNEL);
	bench_objs = kvcalloc(BENCH_MAX_OBJS, sizeof(void *), GFP_KERNEL);
	if (!bench_recs || !bench_objs) {
		kvfree(bench_recs);
		kvfree(bench_objs);
		return -ENOMEM;
	}

	pr_info("begin mode=%s rounds=%u provider=%s\n", mode, cfg.rounds,
		BENCH_PROVIDER);
	pr_info("kernel %s, %u CPUs online, init_on_alloc=%d, page size %lu\n",
		init_utsname()->release, num_online_cpus(),
		want_init_on_alloc(GFP_KERNEL), PAGE_SIZE);

	if (!cfg.taskq_only && !cfg.cross)
		bench_each(bench_pair, true);
	if (cfg.batch_wl) {
		bench_each(bench_batch_fresh, false);
		bench_each(bench_batch_warm, false);
	}
	if (cfg.gate || !strcmp(mode, "single") || !strcmp(mode, "all"))
		bench_each(bench_bulk, true);
	if (cfg.multi || cfg.cross) {
		bench_each(bench_prodcons, false);
		bench_each(bench_allcpus, false);
	}
	if (cfg.multi) {
		bench_each(bench_memory, true);
		if (idle_wl)
			bench_idle();
	}
	if (cfg.taskq)
		bench_taskq();
	bench_tables();
	pr_info("\n");
	pr_info("%u records in %llu ms\n", bench_nr_recs,
		div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC));
	pr_info("end\n");

	kvfree(bench_objs);
	bench_objs = NULL;
	kvfree(bench_recs);
	bench_recs = NULL;
	return 0;
}

static void __exit splkmem_bench_exit(void)
{
}

module_init(splkmem_bench_init);
module_exit(splkmem_bench_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Allocator benchmarks for splkmem, run at load");

/* Until the split of this file: numa.c is built as part of it. */
#include "numa.c"
