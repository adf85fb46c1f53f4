// SPDX-License-Identifier: GPL-2.0
//
// Directed scenarios: the shortest workloads that reach each defect the
// review traced, still under the random scheduler (the seed picks the
// interleaving).  Each checks the contract, not the defect: on fixed code
// it passes.
//
//   taskq-wait-id-0  issue 22 item 1: taskq_wait_id(tq, 0) on an idle
//                    queue must return at once (OpenZFS's upgrade ioctls
//                    call it after the task reset the id to 0).
//   debug-tiny       issue 22 item 7: debug mode, objects of 1 to 7
//                    bytes: alloc, free, reap, alloc must not warn.
//   magazine-uaf     issue 21 item 1: CPUs trading magazines while the
//                    working-set update and /proc read other CPUs'
//                    magazines and the shrinker frees the depot's.
//   stale-free       issue 21 item 4: a free through a pointer into a
//                    reaped slab whose address a new slab got must warn
//                    and not hand the new slab's object out twice.
//   inuse-wrap       issue 22 item 6: spl_kmem_cache_inuse() of an
//                    untagged KMC_SLAB cache must never wrap below 0.
//   slab-leak-unload issue 22 item 9: a KMC_SLAB cache destroyed with
//                    objects out frees what is splkmem's (its slot) at
//                    module unload; only the caller's objects and the
//                    Linux cache that holds them stay.
#include <stdio.h>
#include <string.h>

#include "memory.hpp"
#include "model.hpp"
#include "rcu.hpp"
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"
#include "sim_config.hpp"
#include "workload.hpp"

namespace sim::workload {
namespace {

void nop_task(void*) {}

int wait_id_0() {
  module_init();
  taskq_t* tq = taskq_create("sim_upgrade", 2, 100, 0, 0x7fffffff, 0);
  if (taskq_dispatch(tq, nop_task, nullptr, TQ_SLEEP) == TASKQID_INVALID)
    fail("model", "dispatch refused");
  taskq_wait(tq);
  note("taskq_wait_id(tq, 0) on an idle queue");
  taskq_wait_id(tq, TASKQID_INVALID);
  ops_done += 4;
  taskq_destroy(tq);
  module_exit_and_check(false);
  return 0;
}

int debug_tiny() {
  spl_kmem_cache_debug = 1;
  module_init();
  for (size_t size = 1; size <= 8; ++size) {
    char name[32];
    snprintf(name, sizeof(name), "sim_tiny_%zu", size);
    spl_kmem_cache* skc =
        spl_kmem_cache_create(name, size, 0, nullptr, nullptr, nullptr, nullptr, nullptr, 0);
    // keep holds the slab, so the reap puts a back on its free list
    // (whose link overwrites the object's first word) instead of
    // freeing the slab.
    void* keep = spl_kmem_cache_alloc(skc, KM_SLEEP);
    void* a = spl_kmem_cache_alloc(skc, KM_SLEEP);
    memset(a, 0x11, size);  // the caller's data
    spl_kmem_cache_free(skc, a);
    spl_kmem_cache_reap_now(skc);
    // Allocations after the reap: a refill takes a back from the slab's
    // free list among fresh objects; hand out a magazine's worth.
    void* again[8];
    for (void*& b : again) b = spl_kmem_cache_alloc(skc, KM_SLEEP);
    for (void* b : again) spl_kmem_cache_free(skc, b);
    spl_kmem_cache_free(skc, keep);
    spl_kmem_cache_destroy(skc);
    ops_done += 20;
    check_invariants("a tiny debug cache");
  }
  module_exit_and_check(false);
  return 0;
}

// Magazine trading on every CPU, reclaim and statistics on another thread.
spl_kmem_cache* uaf_cache;
bool uaf_stop;
constexpr unsigned kHeld = 6;

int trader(void*) {
  void* objs[kHeld];
  for (unsigned round = 0; round < 400 && !uaf_stop; ++round) {
    const unsigned n = static_cast<unsigned>(rng.range(1, kHeld));
    for (unsigned i = 0; i < n; ++i) objs[i] = spl_kmem_cache_alloc(uaf_cache, KM_SLEEP);
    for (unsigned i = 0; i < n; ++i) spl_kmem_cache_free(uaf_cache, objs[i]);
    ops_done += 2 * n;
  }
  return 0;
}

void stats_cb(const splk_cache_stats*, void*) {}

int reclaimer(void*) {
  while (!uaf_stop) {
    switch (rng.below(3)) {
      case 0:
        splk_core_update_now();
        break;
      case 1:
        splk_core_shrink_scan(1000);
        break;
      case 2:
        splk_for_each_cache(stats_cb, nullptr);
        break;
    }
    ++ops_done;
  }
  return 0;
}

int magazine_uaf() {
  spl_kmem_cache_magazine_size = 2;
  spl_kmem_cache_reap_interval_ms = 0;
  spl_kmem_cache_debug = 0;  // production, as the issue saw it
  module_init();
  // Over 1 MiB: two-round magazines of 56 bytes, from kmalloc-64.
  uaf_cache = spl_kmem_cache_create("sim_zio_buf_1m", (1 << 20) + 512, 0, nullptr, nullptr, nullptr,
                                    nullptr, nullptr, KMC_KVMEM);
  Thread* t[8];
  const unsigned n = cfg.ncpus;
  for (unsigned i = 0; i < n; ++i) t[i] = spawn(trader, nullptr, "trader", -1);
  Thread* r = spawn(reclaimer, nullptr, "reclaimer", -1);
  for (unsigned i = 0; i < n; ++i) join(t[i]);
  uaf_stop = true;
  join(r);
  spl_kmem_cache_destroy(uaf_cache);
  module_exit_and_check(false);
  return 0;
}

// Objects allocated on one CPU and freed on another while a thread polls
// spl_kmem_cache_inuse(): an untagged KMC_SLAB cache (64 bytes fill
// SLUB's slabs exactly) counts them per CPU and sums on demand.
spl_kmem_cache* inuse_cache;
bool inuse_stop;

int inuse_mover(void*) {
  for (unsigned round = 0; round < 300; ++round) {
    void* obj = spl_kmem_cache_alloc(inuse_cache, KM_SLEEP);
    splk_cond_resched();  // may move to another CPU before the free
    spl_kmem_cache_free(inuse_cache, obj);
    ops_done += 2;
  }
  return 0;
}

int inuse_poller(void*) {
  while (!inuse_stop) {
    const uint64_t n = spl_kmem_cache_inuse(inuse_cache);
    ++ops_done;
    if (n > (uint64_t{1} << 48))
      fail("model", "spl_kmem_cache_inuse() returned %llu (%lld as signed): a negative sum wrapped",
           static_cast<unsigned long long>(n), static_cast<long long>(n));
  }
  return 0;
}

int inuse_wrap() {
  module_init();
  inuse_cache = spl_kmem_cache_create("sim_btree_leaf", 64, 0, nullptr, nullptr, nullptr, nullptr,
                                      nullptr, KMC_SLAB);
  Thread* t[8];
  const unsigned n = cfg.ncpus;
  for (unsigned i = 0; i < n; ++i) t[i] = spawn(inuse_mover, nullptr, "mover", -1);
  Thread* p = spawn(inuse_poller, nullptr, "poller", -1);
  for (unsigned i = 0; i < n; ++i) join(t[i]);
  inuse_stop = true;
  join(p);
  spl_kmem_cache_destroy(inuse_cache);
  module_exit_and_check(false);
  return 0;
}

// A caller's stale pointer into a slab that a reap freed (issue 21 item
// 4): vmalloc hands the freed addresses out again at once here (as after
// vm_unmap_aliases()), and the cache grows again.  No object of the new
// slabs may sit at the stale address; where the stale free can be checked
// without reading unmapped memory (tags in the slab header, or the debug
// mode) it must warn, and the next allocation must not hand out an object
// a caller holds.  With tags before the objects in production, a free
// after a reap reads the unmapped tag word and faults (README, known
// gaps): that free is not made.
void stale_free_on(const char* name, size_t size, size_t align, bool debug) {
  spl_kmem_cache_debug = debug;  // read when the cache is created
  model::Cache c{};
  snprintf(c.name, sizeof(c.name), "%s%s", name, debug ? "_dbg" : "");
  c.size = size;
  c.align = align;
  c.skc = spl_kmem_cache_create(c.name, c.size, align, nullptr, nullptr, nullptr, nullptr, nullptr,
                                KMC_KVMEM);
  const bool header_tags = align >= 4096 && size % 4096 == 0;
  void* stale = spl_kmem_cache_alloc(c.skc, KM_SLEEP);
  spl_kmem_cache_free(c.skc, stale);
  spl_kmem_cache_reap_now(c.skc);  // the slab goes back to vmalloc ...
  splk_drain_flush();              // ... once a CPU that holds the object drains
  rcu_barrier();                   // header-tag slabs go a grace period later
  // The next slabs, every object held: three slabs' worth.
  constexpr int kHeld = 24;
  void* held[kHeld];
  for (void*& h : held) {
    h = spl_kmem_cache_alloc(c.skc, KM_SLEEP);
    model::state.add(&c, h);
    if (h == stale)
      fail("model", "cache '%s': a new slab put an object at the stale address %p", c.name, stale);
  }
  ops_done += 4 + kHeld;
  if (header_tags || debug) {
    expect_warning("a free through a pointer into a reaped slab");
    spl_kmem_cache_free(c.skc, stale);
    void* next = spl_kmem_cache_alloc(c.skc, KM_SLEEP);
    model::state.add(&c, next);  // fails if next is an object held
    expect_no_more_warnings();
    model::state.remove(next);
    spl_kmem_cache_free(c.skc, next);
    ops_done += 2;
  }
  for (void* h : held) {
    model::state.remove(h);
    spl_kmem_cache_free(c.skc, h);
  }
  spl_kmem_cache_destroy(c.skc);
  spl_kmem_cache_debug = 0;
}

int stale_free() {
  mem::set_vmalloc_quarantine(0);  // vm_unmap_aliases(): addresses reused at once
  module_init();
  for (bool debug : {false, true}) {
    stale_free_on("sim_stale_64k", 64 * 1024, 0, debug);  // tags before the objects
    stale_free_on("sim_stale_4k", 4096, 4096, debug);     // tags in the slab header
  }
  module_exit_and_check(false);
  return 0;
}

}  // namespace

int slab_leak_unload() {
  module_init();
  for (int flags : {KMC_SLAB, KMC_KVMEM}) {
    spl_kmem_cache* skc =
        spl_kmem_cache_create(flags == KMC_SLAB ? "sim_leak_slab" : "sim_leak_kvmem", 200, 0,
                              nullptr, nullptr, nullptr, nullptr, nullptr, flags);
    for (int i = 0; i < 3; ++i)
      if (spl_kmem_cache_alloc(skc, KM_SLEEP) == nullptr) fail("model", "KM_SLEEP failed");
    current->expected_warnings = 1;  // destroyed with 3 objects out
    spl_kmem_cache_destroy(skc);
    if (current->expected_warnings != 0) fail("model", "destroy with live objects did not warn");
    ops_done += 5;
  }
  // Module unload; the caller's 3 KMC_SLAB objects are SLUB's leak, not
  // ours (the vmalloc cache's slabs are freed at unload).
  splk_taskq_fini();
  splk_drain_flush();
  splk_core_exit();
  rcu_barrier();
  mem::drain_quarantine();
  if (mem::live(mem::kKmalloc) != 0 || mem::live(mem::kPages) != 0) {
    mem::report_leaks();
    fail("memory leak", "%llu kmalloc blocks of splkmem still allocated after module unload",
         static_cast<unsigned long long>(mem::live(mem::kKmalloc)));
  }
  return 0;
}

int run_scenario(const char* name, const Options&) {
  if (strcmp(name, "taskq-wait-id-0") == 0) return wait_id_0();
  if (strcmp(name, "debug-tiny") == 0) return debug_tiny();
  if (strcmp(name, "magazine-uaf") == 0) return magazine_uaf();
  if (strcmp(name, "inuse-wrap") == 0) return inuse_wrap();
  if (strcmp(name, "stale-free") == 0) return stale_free();
  if (strcmp(name, "slab-leak-unload") == 0) return slab_leak_unload();
  fail("usage",
       "no scenario '%s' (taskq-wait-id-0, debug-tiny, magazine-uaf, inuse-wrap, stale-free, "
       "slab-leak-unload)",
       name);
}

}  // namespace sim::workload
