/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of splkmem_bench.ko share: the allocators measured, the
 * workloads and metrics, the configuration a mode sets, the records, and
 * the one allocation or free the timed loops inline.  The overview of the
 * whole benchmark (workloads, metrics, modes, output) is at the top of
 * bench_main.c.
 */
#ifndef SPLKMEM_BENCH_H
#define SPLKMEM_BENCH_H

#define pr_fmt(fmt) "splkmem-bench: " fmt

#include "bench_features.h"

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
	WL_SCALE_ALLCPUS,
	WL_SCALE_PRODCONS,
	WL_NR,
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
	M_CPU_OVERLAP,
	M_TQ_WAKEUPS,
	M_TQ_WAKEUPS_NOWORK,
	M_TQ_SLEEPS,
	M_NR,
};

/* Names for the records and tables (bench_report.c). */
extern const char * const bench_kind_name[BK_NR];
extern const char * const bench_wl_name[WL_NR];
extern const char * const bench_metric_name[M_NR];

/* ---- Configuration, from the mode (bench_main.c). ---- */

struct bench_config {
	bool multi;			/* prodcons, allcpus and memory too */
	bool batch_wl;			/* batch_fresh and batch_warm */
	bool gate;			/* cache kinds and SLUB only */
	bool cross;			/* prodcons and allcpus only */
	bool scale;			/* the scale_* workloads only */
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

extern struct bench_config cfg;
extern void **bench_objs;		/* BENCH_MAX_OBJS pointers */

/* ---- Results (bench_report.c). ---- */

int bench_records_alloc(void);
void bench_records_free(void);
unsigned int bench_records_count(void);
void bench_format(char *buf, size_t len, enum bench_metric m, u64 v);
void bench_emit(enum bench_wl wl, enum bench_kind kind, size_t size,
		unsigned int n, enum bench_metric m, u64 value);
void bench_skip(enum bench_wl wl, enum bench_kind kind, size_t size);
u64 bench_median(u64 *v, unsigned int n);
u64 bench_per_op(u64 ns, u64 ops);
void bench_tables(void);

/* ---- The allocators (bench_alloc.c). ---- */

/* ---- The allocators. ---- */

struct bench_alloc {
	enum bench_kind kind;
	size_t size;
	char name[SPL_KMEM_CACHE_NAME_MAX + 1];
	spl_kmem_cache_t *skc;
	struct kmem_cache *kc;
};

int ba_create(struct bench_alloc *a, enum bench_kind kind, size_t size);
void ba_destroy(struct bench_alloc *a);
bool bench_kind_enabled(enum bench_kind kind);
int bench_calibrate(int (*run)(void *ctx, u64 n, u64 *ns), void *ctx,
		    u64 target_ns, u64 min_n, u64 max_n, u64 *n_out);
bool bench_read_number(const char *path, unsigned long *val);
bool bench_slub_attr(const char *name, const char *attr, unsigned long *val);

#ifdef BENCH_PROVIDER_SPL
/* The fields of splkmem's statistics snapshot that the workloads read. */
struct splk_cache_stats {
	u64 slab_create;
	u64 slab_total;
	u64 slab_size;
	u64 obj_alloc;
	u64 mag_objs;
};
#endif
bool bench_stats(const char *name, struct splk_cache_stats *out);

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

/*
 * The same through any kind, for the loops that are not instantiated per
 * kind.  Static in each file that uses them: a call to a local function
 * lets the compiler see which registers it clobbers (-fipa-ra), and a
 * shared extern copy cost bulk_single one instruction per call more.
 */
static noinline __maybe_unused void *ba_alloc_any(struct bench_alloc *a)
{
	return ba_alloc(a, a->kind);
}

static noinline __maybe_unused void ba_free_any(struct bench_alloc *a, void *obj)
{
	ba_free(a, a->kind, obj);
}

/* ---- The workloads, each file's entry points (bench_main.c runs them). ---- */

void bench_pair(size_t size, enum bench_kind kind);		/* bench_single.c */
void bench_batch_fresh(size_t size, enum bench_kind kind);
void bench_batch_warm(size_t size, enum bench_kind kind);
void bench_bulk(size_t size, enum bench_kind kind);		/* bench_bulk.c */
/* A size whose KMC_SLAB cache is tagged: OpenZFS's dnode_t. */
#define BENCH_BULK_TAGGED_SIZE	936
void bench_prodcons(size_t size, enum bench_kind kind);	/* bench_cross.c */
void bench_allcpus(size_t size, enum bench_kind kind);
void bench_scale_prodcons(size_t size, enum bench_kind kind);
void bench_scale_allcpus(size_t size, enum bench_kind kind);
void bench_memory(size_t size, enum bench_kind kind);		/* bench_memory.c */
extern bool idle_wl;
void bench_idle(void);
#define TQ_ROUNDTRIP_NS		(200 * NSEC_PER_MSEC)	/* per queue, at most */
#define TQ_THROUGHPUT_NS	(5 * NSEC_PER_SEC)	/* per queue, at most */
extern bool taskq_wl;						/* bench_taskq.c */
extern unsigned int tq_tasks;
void bench_taskq(void);
void bench_scale_taskq(void);

/* profile.c: a sampling profile of a timed section (profile=1). */
bool profile_start(void);
void profile_stop(const char *what);

#endif /* SPLKMEM_BENCH_H */
