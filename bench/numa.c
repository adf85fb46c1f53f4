// SPDX-License-Identifier: GPL-2.0
/*
 * mode=numa (issue 26, item 3): the share of objects a KMC_KVMEM cache
 * hands to a CPU whose memory is on another NUMA node, for the provider
 * this module is built against (splkmem or OpenZFS's SPL).  Run on a guest
 * of two nodes (scripts/bench.sh, BENCH_MODE=numa); on one node it says
 * so and measures nothing.
 *
 * One kthread per online CPU, bound to it, runs each step of a round, all
 * CPUs at once: every CPU allocates numa_objs objects (KM_SLEEP) and
 * reads each object's node from its page (page_to_nid(vmalloc_to_page())
 * for a vmalloc address, the direct map's page for an emergency object),
 * then every CPU frees a set.  Two workloads, each with a new cache:
 *   local  each CPU frees what it allocated (a cache used per CPU: the
 *          case a per-node depot and per-node slabs are for);
 *   swap   each CPU frees what the next CPU allocated, so on two nodes
 *          every object is freed on the other node (producer/consumer
 *          across sockets: no allocator that keeps frees on the freeing
 *          CPU can keep objects local here; context, not a target).
 * The first round grows the cache; later rounds are served from what the
 * earlier ones freed (magazines, depot, slabs).  Every round counts.
 *
 * Output: "numa: <provider> <workload> <size> B: R of N objects on another
 * node (P %)" and a csv record per figure (remote_pct, remote, handed).
 */
#ifndef pr_fmt
#define pr_fmt(fmt) "splkmem-bench: " fmt
#endif

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <linux/vmalloc.h>

#include <sys/kmem.h>
#include <sys/kmem_cache.h>

#include "numa.h"

static unsigned int numa_objs = 1024;
module_param(numa_objs, uint, 0444);
MODULE_PARM_DESC(numa_objs, "mode=numa: objects each CPU allocates per round (16-16384)");

static unsigned int numa_rounds = 16;
module_param(numa_rounds, uint, 0444);
MODULE_PARM_DESC(numa_rounds, "mode=numa: rounds per workload (1-1000)");

struct numa_cpu {
	int cpu;
	void **objs;		/* what this CPU allocated this round */
	void **to_free;		/* what it frees this round */
	u64 handed;
	u64 remote;
};

struct numa_step {
	spl_kmem_cache_t *skc;
	struct numa_cpu *nc;
	bool alloc;
	struct completion done;
};

static int numa_node_of(const void *obj)
{
	struct page *page = is_vmalloc_addr(obj) ? vmalloc_to_page(obj) : virt_to_page(obj);

	return page_to_nid(page);
}

static int numa_step_fn(void *arg)
{
	struct numa_step *st = arg;
	struct numa_cpu *nc = st->nc;
	int node = cpu_to_node(nc->cpu);
	unsigned int i;

	if (st->alloc) {
		for (i = 0; i < numa_objs; i++) {
			void *obj = spl_kmem_cache_alloc(st->skc, KM_SLEEP);

			nc->objs[i] = obj;
			nc->handed++;
			if (numa_node_of(obj) != node)
				nc->remote++;
			cond_resched();
		}
	} else {
		for (i = 0; i < numa_objs; i++)
			spl_kmem_cache_free(st->skc, nc->to_free[i]);
	}
	complete(&st->done);
	return 0;
}

/* One step on every CPU at once; false if a kthread could not be made. */
static bool numa_run_step(spl_kmem_cache_t *skc, struct numa_cpu *ncs,
			  unsigned int n, bool alloc)
{
	struct numa_step *steps;
	unsigned int i, started = 0;

	steps = kcalloc(n, sizeof(*steps), GFP_KERNEL);
	if (!steps)
		return false;
	for (i = 0; i < n; i++) {
		struct task_struct *t;

		steps[i].skc = skc;
		steps[i].nc = &ncs[i];
		steps[i].alloc = alloc;
		init_completion(&steps[i].done);
		t = kthread_create(numa_step_fn, &steps[i], "numa_bench/%d", ncs[i].cpu);
		if (IS_ERR(t))
			break;
		kthread_bind(t, ncs[i].cpu);
		wake_up_process(t);
		started++;
	}
	for (i = 0; i < started; i++)
		wait_for_completion(&steps[i].done);
	kfree(steps);
	return started == n;
}

static void numa_workload(const char *provider, const char *name, size_t size,
			  bool swap, struct numa_cpu *ncs, unsigned int n)
{
	char cname[32];
	spl_kmem_cache_t *skc;
	u64 handed = 0, remote = 0;
	unsigned int i, r;
	bool ok = true;

	snprintf(cname, sizeof(cname), "numa_%s_%zu", name, size);
	skc = spl_kmem_cache_create(cname, size, 0, NULL, NULL, NULL, NULL, NULL, KMC_KVMEM);
	if (!skc) {
		pr_err("numa: cannot create cache %s\n", cname);
		return;
	}
	for (i = 0; i < n; i++)
		ncs[i].handed = ncs[i].remote = 0;
	for (r = 0; r < numa_rounds && ok; r++) {
		ok = numa_run_step(skc, ncs, n, true);
		for (i = 0; i < n; i++)
			ncs[i].to_free = ncs[swap ? (i + 1) % n : i].objs;
		ok = numa_run_step(skc, ncs, n, false) && ok;
	}
	spl_kmem_cache_destroy(skc);
	if (!ok) {
		pr_err("numa: %s: a kthread could not be started\n", cname);
		return;
	}
	for (i = 0; i < n; i++) {
		handed += ncs[i].handed;
		remote += ncs[i].remote;
	}
	pr_info("numa: %s %s %zu B: %llu of %llu objects on another node (%llu.%llu %%)\n",
		provider, name, size, remote, handed, div64_u64(remote * 100, handed),
		div64_u64(remote * 1000, handed) % 10);
	pr_info("csv,numa_%s,%s,%zu,%llu,remote_pct,%llu.%03llu\n", name, provider, size,
		handed, div64_u64(remote * 100, handed),
		div64_u64(remote * 100000, handed) % 1000);
	pr_info("csv,numa_%s,%s,%zu,%llu,remote,%llu\n", name, provider, size, handed, remote);
}

int bench_numa(const char *provider)
{
	static const size_t sizes[] = { 512, 16384 };
	struct numa_cpu *ncs;
	unsigned int n = 0, i, s;
	int cpu, rc = 0;

	if (numa_objs < 16 || numa_objs > 16384 || numa_rounds < 1 || numa_rounds > 1000) {
		pr_err("numa: numa_objs 16-16384, numa_rounds 1-1000\n");
		return -EINVAL;
	}
	pr_info("numa: %u nodes online, %u CPUs online, %u objects a CPU, %u rounds\n",
		num_online_nodes(), num_online_cpus(), numa_objs, numa_rounds);
	for_each_online_cpu(cpu)
		pr_info("numa: CPU %d on node %d\n", cpu, cpu_to_node(cpu));
	if (num_online_nodes() < 2) {
		pr_info("numa: one node online: nothing to measure\n");
		return 0;
	}
	ncs = kcalloc(num_online_cpus(), sizeof(*ncs), GFP_KERNEL);
	if (!ncs)
		return -ENOMEM;
	for_each_online_cpu(cpu) {
		if (n == num_online_cpus())
			break;
		ncs[n].cpu = cpu;
		ncs[n].objs = kvcalloc(numa_objs, sizeof(void *), GFP_KERNEL);
		if (!ncs[n].objs) {
			rc = -ENOMEM;
			goto out;
		}
		n++;
	}
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		numa_workload(provider, "local", sizes[s], false, ncs, n);
		numa_workload(provider, "swap", sizes[s], true, ncs, n);
	}
out:
	for (i = 0; i < n; i++)
		kvfree(ncs[i].objs);
	kfree(ncs);
	return rc;
}
