// SPDX-License-Identifier: GPL-2.0
/*
 * Records and tables: every figure is printed as a csv line when measured
 * (what scripts/bench-report.py reads) and kept for the tables printed at
 * the end (what a person reading the console sees).
 */
#include "bench.h"

const char * const bench_kind_name[BK_NR] = {
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

const char * const bench_wl_name[WL_NR] = {
	[WL_PAIR] = "pair",
	[WL_BATCH_FRESH] = "batch_fresh",
	[WL_BATCH_WARM] = "batch_warm",
	[WL_PRODCONS] = "prodcons",
	[WL_ALLCPUS] = "allcpus",
	[WL_MEMORY] = "memory",
	[WL_IDLE] = "idle",
	[WL_BULK] = "bulk",
	[WL_BULK_SINGLE] = "bulk_single",
	[WL_SCALE_ALLCPUS] = "scale_allcpus",
	[WL_SCALE_PRODCONS] = "scale_prodcons",
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
	[WL_SCALE_ALLCPUS] = "allcpus, time over every CPU's pairs, n = CPUs",
	[WL_SCALE_PRODCONS] = "n / 2 producer/consumer pairs, time over all objects, n = CPUs",
};

const char * const bench_metric_name[M_NR] = {
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
	[M_CPU_OVERLAP] = "cpu_overlap",
	[M_TQ_WAKEUPS] = "tq_wakeups",
	[M_TQ_WAKEUPS_NOWORK] = "tq_wakeups_nowork",
	[M_TQ_SLEEPS] = "tq_sleeps",
};

/* Metrics kept in tenths and printed with one decimal; others are counts. */
static bool bench_metric_tenths(enum bench_metric m)
{
	return m == M_NS_PER_PAIR || m == M_NS_PER_OBJ || m == M_NS_PER_OP ||
	       m == M_BYTES_PER_OBJ || m == M_NS_PER_TASK ||
	       m == M_NS_P10 || m == M_NS_P99 || m == M_NS_MAX ||
	       m == M_CPU_OVERLAP;
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

int bench_records_alloc(void)
{
	bench_recs = kvcalloc(BENCH_MAX_RECORDS, sizeof(*bench_recs),
			      GFP_KERNEL);
	return bench_recs ? 0 : -ENOMEM;
}

void bench_records_free(void)
{
	kvfree(bench_recs);
	bench_recs = NULL;
}

unsigned int bench_records_count(void)
{
	return bench_nr_recs;
}

/* ---- Results. ---- */

void bench_format(char *buf, size_t len, enum bench_metric m, u64 v)
{
	if (bench_metric_tenths(m))
		scnprintf(buf, len, "%llu.%llu", v / 10, v % 10);
	else
		scnprintf(buf, len, "%llu", v);
}

/* Prints one csv record and keeps it for the tables. */
void bench_emit(enum bench_wl wl, enum bench_kind kind, size_t size,
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

void bench_skip(enum bench_wl wl, enum bench_kind kind, size_t size)
{
	bench_emit(wl, kind, size, 0, M_SKIPPED, 1);
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median of v[0..n-1] (sorts v); the mean of the middle two for even n. */
u64 bench_median(u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2] + 1) / 2;
}

/* Nanoseconds per operation, in tenths, rounded. */
u64 bench_per_op(u64 ns, u64 ops)
{
	return div64_u64(ns * 10 + ops / 2, max_t(u64, ops, 1));
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

void bench_tables(void)
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
