// SPDX-License-Identifier: GPL-2.0
//
// The registry of caches: a list under the glue's rw_semaphore.  Readers
// (reap, /proc, the shrinker) may sleep while holding it; destroy
// takes it for writing to unlink a cache, which also waits out any reader
// still working on that cache.
#include "cache_registry.hpp"

#include "kstd/intrusive_list.hpp"
#include "object_cache.hpp"
#include "seam.h"

#if SPLK_IRQ_INLINE
#define SPLK_FAST_PATH_KIND "inline irq"
#else
#define SPLK_FAST_PATH_KIND "irq via seam calls"
#endif

namespace splkmem {
namespace {

constinit kstd::IntrusiveList<ObjectCache> g_caches;
constinit kstd::IntrusiveList<ObjectCache> g_graveyard;

class RegistryReadGuard : kstd::NonCopyable {
 public:
  RegistryReadGuard() { splk_registry_lock_read(); }
  ~RegistryReadGuard() { splk_registry_unlock_read(); }
};

class RegistryWriteGuard : kstd::NonCopyable {
 public:
  RegistryWriteGuard() { splk_registry_lock_write(); }
  ~RegistryWriteGuard() { splk_registry_unlock_write(); }
};

}  // namespace

void registry_add(ObjectCache* cache) {
  RegistryWriteGuard guard;
  g_caches.push_back(cache);
}

void registry_remove(ObjectCache* cache) {
  RegistryWriteGuard guard;
  kstd::IntrusiveList<ObjectCache>::remove(cache);
}

void registry_bury(ObjectCache* cache) {
  RegistryWriteGuard guard;
  g_graveyard.push_back(cache);
}

}  // namespace splkmem

using splkmem::ObjectCache;

namespace {
splkmem::TaskQueue* g_grow_queue_owner;
}  // namespace

extern "C" void splk_for_each_cache(void (*fn)(const splk_cache_stats*, void*),
                                    void* arg) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) {
    splk_cache_stats stats;
    cache->stats(&stats);
    fn(&stats, arg);
  }
}

extern "C" bool splk_cache_stats_find(const char* name, splk_cache_stats* out) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) {
    if (!kstd::streq(cache->name(), name)) continue;
    cache->stats(out);
    out->name = name;
    return true;
  }
  return false;
}

extern "C" uint64_t splk_core_freeable(void) noexcept {
  splkmem::RegistryReadGuard guard;
  uint64_t freeable = 0;
  for (ObjectCache* cache : splkmem::g_caches) freeable += cache->freeable();
  return freeable;
}

extern "C" void spl_kmem_reap(void) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) cache->reap_now();
}

// The grow task queue: spl_kmem_cache_kmem_threads threads at the highest
// priority, entries preallocated, as SPL creates it.
extern "C" int splk_core_init(void) noexcept {
  const int threads = static_cast<int>(kstd::load_relaxed(spl_kmem_cache_kmem_threads));
  splkmem::TaskQueue* queue =
      splkmem::TaskQueue::create("spl_kmem_cache", threads, maxclsyspri, threads * 8, 0x7fffffff,
                                 TASKQ_PREPOPULATE | TASKQ_DYNAMIC);
  if (queue == nullptr) return -SPLK_ENOMEM;
  ObjectCache::set_grow_queue(queue);
  g_grow_queue_owner = queue;
  return 0;
}

// Module unload.  Consumers depend on our symbols, so they are gone: a cache
// still registered was never destroyed (reported), and the graveyard's
// slabs can finally be freed.
extern "C" void splk_core_exit(void) noexcept {
  {
    splkmem::RegistryWriteGuard guard;
    for (ObjectCache* cache : splkmem::g_caches)
      splk_log(1, "splkmem: cache '%s' was never destroyed", cache->name());
    while (ObjectCache* cache = splkmem::g_graveyard.front()) {
      kstd::IntrusiveList<ObjectCache>::remove(cache);
      cache->release_leaked();
    }
  }
  g_grow_queue_owner->destroy();
}

extern "C" const char* splk_core_version(void) noexcept {
  // Which fast path this build has (cpu_local.hpp); make run checks it.
  return "splkmem core 0.2.0 (g++ " __VERSION__ "; fast path: " SPLK_FAST_PATH_KIND ")";
}
