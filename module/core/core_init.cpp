// SPDX-License-Identifier: GPL-2.0
//
// The cache side's module init and exit, and the version string: what
// the core starts at load (the grow queue, the background tasks) and
// tears down at unload, in reverse.
#include "cache_reclaim_tasks.hpp"
#include "cache_registry.hpp"
#include "slab_store.hpp"
#include "task_queue.hpp"
#include "version.h"

#if SPLK_IRQ_INLINE
#define SPLK_FAST_PATH_KIND "inline irq"
#elif defined(SPLK_IRQ_FALLBACK_REASON)
// The kernel could have the inline path, but scripts/gen-fastpath-asm.sh
// does not know its interrupt asm: say so, apart from the kernels that
// need the seam calls by their configuration (lockdep, PREEMPT_RT).
#define SPLK_FAST_PATH_KIND "irq via seam calls; " SPLK_IRQ_FALLBACK_REASON
#else
#define SPLK_FAST_PATH_KIND "irq via seam calls"
#endif

namespace {
// Set at init, destroyed at exit.
constinit splkmem::TaskQueue* g_grow_queue;
}  // namespace

// The grow task queue: spl_kmem_cache_kmem_threads threads at the highest
// priority, entries preallocated, as SPL creates it.
extern "C" int splk_core_init(void) noexcept {
  const int threads = static_cast<int>(kstd::load_relaxed(spl_kmem_cache_kmem_threads));
  splkmem::TaskQueue* queue = splkmem::TaskQueue::create(
      "spl_kmem_cache", threads, maxclsyspri, threads * 8, splkmem::TaskQueue::kUnlimitedAlloc,
      TASKQ_PREPOPULATE | TASKQ_DYNAMIC);
  if (queue == nullptr) return -SPLK_ENOMEM;
  splkmem::SlabStore::set_grow_queue(queue);
  g_grow_queue = queue;
  splkmem::reclaim_tasks_start(queue);
  return 0;
}

// Module unload.  Consumers depend on our symbols, so they are gone: a cache
// still registered was never destroyed (reported), and the graveyard's
// slabs can finally be freed.
extern "C" void splk_core_exit(void) noexcept {
  splkmem::reclaim_tasks_stop();
  splkmem::registry_release_all();
  g_grow_queue->destroy();
}

extern "C" const char* splk_core_version(void) noexcept {
  // Which fast path this build has (cpu_local.hpp); make run checks it.
  return "splkmem core " SPLKMEM_VERSION " (g++ " __VERSION__ "; fast path: " SPLK_FAST_PATH_KIND
         ")";
}
