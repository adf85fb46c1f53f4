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
 * Scaling workloads (mode scale only, run under -icount shift=0 at 1, 2,
 * 4, 8 vCPUs by scripts/bench.sh BENCH_MODE=scale; the provider's two
 * cache types and SLUB, sizes 64 and 4096; n = online CPUs).  Under
 * -icount QEMU runs the vCPUs in turn and the guest's time advances one
 * nanosecond per instruction of any vCPU, so time over all CPUs'
 * operations is the instructions one operation costs, flat when the
 * cache scales:
 *
 *   scale_allcpus   allcpus on every online CPU; ns_per_op = time /
 *                   (every CPU's alloc+free pairs); cpu_overlap = the
 *                   threads' run times summed over the wall time (1.0:
 *                   one after the other, CPUs: all the whole time)
 *   scale_prodcons  CPUs / 2 producer/consumer pairs on one cache, a
 *                   ring each; ns_per_obj = time / (all pairs' objects);
 *                   skipped on one CPU
 *   scale_tq        tq_throughput on a queue of one thread per CPU
 *                   (size = threads), the provider's taskq and the
 *                   workqueue; ns_per_task = time / tasks
 *
 * Task queue workloads (tq_roundtrip, tq_throughput; modes all, smoke and
 * taskq): the provider's taskq and the kernel's workqueue on queues of 1,
 * 8 and 100 threads; see bench_taskq.c.
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
 * Parameters: mode=all|single|smoke|gate|taskq|cross|scale (single: pair and
 * batch only; cross: prodcons and allcpus only, the -icount -smp 2 run;
 * smoke: every workload, one round, sizes 64 and 65536, tiny counts;
 * gate: the pair of the provider's two cache types and of SLUB kmem_cache,
 * every size, three rounds: the hit-path regression gate of make check,
 * run under -icount; taskq: the task queue workloads only; scale: the
 * scale_* workloads only), rounds (1-31,
 * default 5; at most 3 for tq_throughput), provider=splkmem|spl (must
 * name the provider the module was built for: a cross-check that the
 * right build is loaded), scale_caches (0: mode scale measures the task
 * queues only), taskq_wl (0: modes all and smoke skip the task
 * queue workloads), idle_wl (0: they skip idle and its wait), tq_tasks
 * (tasks per tq_throughput round, default 100000).  Load splkmem with
 * spl_kmem_cache_slab_limit=1048576 so that KMC_SLAB caches of every size
 * can be created.
 *
 * Note: with init_on_alloc=1 (Debian's default) the kernel allocators zero
 * every object they hand out; splkmem's magazine objects are not zeroed.
 */

#include "bench.h"
#include "numa.h"

static char *mode = "all";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode,
		 "all: every workload; single: pair and batch only; smoke: every workload, quickly; gate: cache pairs only; cross: prodcons and allcpus only; scale: the scale_* workloads");

static char *provider = BENCH_PROVIDER;
module_param(provider, charp, 0444);
MODULE_PARM_DESC(provider,
		 "The provider of SPL's symbols this build links against: splkmem or spl");

static bool scale_caches = true;
module_param(scale_caches, bool, 0444);
MODULE_PARM_DESC(scale_caches,
		 "Mode scale: 0 measures the task queues only (BENCH_SCALE_CACHES=0)");

static unsigned int rounds = 5;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Rounds per timed figure, the median is reported (1-31)");

/* ---- Configuration, from the mode. ---- */

static const size_t bench_sizes_all[] = {
	64, 512, 4096, 16384, 65536, 262144, 1048576,
};

static const size_t bench_sizes_smoke[] = { 64, 65536 };
static const size_t bench_sizes_scale[] = { 64, 4096 };
static const unsigned int bench_batch_all[] = { 16, 64, 256, 1024, 4096 };
static const unsigned int bench_batch_smoke[] = { 16, 64 };

struct bench_config cfg;
void **bench_objs;

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
	cfg.scale = !strcmp(mode, "scale");
	if (!smoke && !cfg.gate && !cfg.taskq_only && !cfg.cross && !cfg.scale &&
	    strcmp(mode, "all") && strcmp(mode, "single")) {
		pr_err("mode=%s: want all, single, smoke, gate, taskq, cross or scale\n",
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
	cfg.batch_wl = !cfg.gate && !cfg.taskq_only && !cfg.cross && !cfg.scale;
	if (cfg.scale) {
		/*
		 * Run under -icount: instruction counts, three rounds agree.
		 * A round's time counts every CPU's instructions, so it grows
		 * with the CPUs to keep each CPU's share of the work (20
		 * million instructions) the same: with 20 ms whatever the
		 * CPUs, the 8 threads of allcpus came out overlapping only
		 * 1.2 to 2.1 times (cpu_overlap), QEMU running most of one
		 * CPU's share before the next.  20000 tasks a round keep the
		 * 16-vCPU boot within a few minutes.
		 */
		cfg.rounds = 3;
		cfg.sizes = bench_sizes_scale;
		cfg.nr_sizes = ARRAY_SIZE(bench_sizes_scale);
		cfg.prodcons_ns = 20 * NSEC_PER_MSEC * num_online_cpus();
		cfg.allcpus_ns = 20 * NSEC_PER_MSEC * num_online_cpus();
		cfg.tq_tasks = 20000;
		/*
		 * Task queues: five rounds after an untimed one.  A round in
		 * which the dispatcher ran further ahead of the workers than
		 * ever before allocates entries: the median leaves it out.
		 */
		cfg.tq_rounds = 5;
		cfg.tq_throughput_ns = TQ_THROUGHPUT_NS;
	} else if (cfg.gate) {
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

/* fn at one size outside cfg.sizes, every enabled kind but page-aligned. */
static void bench_each_kind(void (*fn)(size_t size, enum bench_kind kind), size_t size)
{
	enum bench_kind kind;

	for (kind = 0; kind < BK_NR; kind++) {
		if (bench_kind_enabled(kind) && kind != BK_SPLK_KVPG)
			fn(size, kind);
		cond_resched();
	}
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
	bench_objs = kvcalloc(BENCH_MAX_OBJS, sizeof(void *), GFP_KERNEL);
	if (!bench_objs || bench_records_alloc()) {
		kvfree(bench_objs);
		return -ENOMEM;
	}

	pr_info("begin mode=%s rounds=%u provider=%s\n", mode, cfg.rounds,
		BENCH_PROVIDER);
	pr_info("kernel %s, %u CPUs online, init_on_alloc=%d, page size %lu\n",
		init_utsname()->release, num_online_cpus(),
		want_init_on_alloc(GFP_KERNEL), PAGE_SIZE);

	if (cfg.scale && scale_caches) {
		bench_each(bench_scale_allcpus, false);
		bench_each(bench_scale_prodcons, false);
	}
	if (cfg.scale)
		bench_scale_taskq();
	if (!cfg.taskq_only && !cfg.cross && !cfg.scale)
		bench_each(bench_pair, true);
	if (cfg.batch_wl) {
		bench_each(bench_batch_fresh, false);
		bench_each(bench_batch_warm, false);
	}
	if (cfg.gate || !strcmp(mode, "single") || !strcmp(mode, "all")) {
		bench_each(bench_bulk, true);
		/*
		 * The power-of-two sizes fill SLUB's slabs exactly, so their
		 * KMC_SLAB caches are untagged (SLUB's bulk calls); ZFS's
		 * odd sizes are tagged (magazines in front of SLUB).
		 */
		bench_each_kind(bench_bulk, BENCH_BULK_TAGGED_SIZE);
	}
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
	pr_info("%u records in %llu ms\n", bench_records_count(),
		div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC));
	pr_info("end\n");

	kvfree(bench_objs);
	bench_objs = NULL;
	bench_records_free();
	return 0;
}

static void __exit splkmem_bench_exit(void)
{
}

module_init(splkmem_bench_init);
module_exit(splkmem_bench_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Allocator benchmarks for splkmem, run at load");
