// SPDX-License-Identifier: GPL-2.0
//
// The glue's calls that visit every registered cache: /proc's statistics,
// CPU hotplug, the drain work a reap asks of every CPU, spl_kmem_reap()
// and the invariant checks.  Each walks the registry under its read lock,
// so a destroy (which writes it) waits for the walk.
#include "cache_registry.hpp"

using splkmem::ObjectCache;

extern "C" void splk_for_each_cache(void (*fn)(const splk_cache_stats*, void*),
                                    void* arg) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::registry_caches()) {
    splk_cache_stats stats;
    cache->stats(&stats);
    fn(&stats, arg);
  }
}

extern "C" bool splk_cache_stats_find(const char* name, splk_cache_stats* out) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::registry_caches()) {
    if (!kstd::streq(cache->name(), name)) continue;
    cache->stats(out);
    out->name = name;
    return true;
  }
  return false;
}

extern "C" void splk_core_cpu_dead(unsigned cpu) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::registry_caches()) cache->drain_dead_cpu(cpu);
}

extern "C" void splk_core_drain_this_cpu(void) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::registry_caches()) cache->drain_if_reaped();
}

extern "C" void spl_kmem_reap(void) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::registry_caches()) cache->reap_now();
}

// The checks read every CPU's magazines and their objects' tags: the
// drains reaps asked for must be done first, or one could empty a
// magazine and free its slab under the check.  Call it with no reap in
// flight (KUnit between cases, the simulation at rest).
extern "C" const char* splk_core_check_invariants(const char** name) noexcept {
  splk_drain_flush();
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::registry_caches()) {
    if (const char* why = cache->check_invariants()) {
      *name = cache->name();
      return why;
    }
  }
  return nullptr;
}
