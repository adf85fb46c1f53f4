// SPDX-License-Identifier: GPL-2.0
//
// The registry of caches: a list under the glue's rw_semaphore.  Readers
// (reap, /proc, the shrinker, the API's handle checks) may sleep while
// holding it; destroy takes it for writing to unlink a cache, which also
// waits out any reader still working on that cache.
//
// Cache slots: ObjectCache memory is type-stable while splkmem is loaded.
// A destroyed cache's memory is not given back to kmalloc but parked in a
// FIFO of free slots, and a new cache takes a slot only once more than
// kQuarantineSlots others wait behind it, so that a stale handle keeps
// naming a dead cache (magic 0) across the next kQuarantineSlots destroys,
// and never memory of another type.  The pool holds at most the peak number
// of caches plus kQuarantineSlots slots; module unload frees it.
#include "cache_registry.hpp"

namespace splkmem {
namespace {

// Destroys a freed slot waits out before a new cache reuses it.
constexpr unsigned kQuarantineSlots = 64;

constinit kstd::IntrusiveList<ObjectCache> g_caches SPLK_GUARDED_BY(splk_registry_lock);
constinit kstd::IntrusiveList<ObjectCache> g_graveyard SPLK_GUARDED_BY(splk_registry_lock);
// Oldest first.
constinit kstd::IntrusiveList<ObjectCache> g_free_slots SPLK_GUARDED_BY(splk_registry_lock);
constinit unsigned g_free_slot_count SPLK_GUARDED_BY(splk_registry_lock);

}  // namespace

void registry_add(ObjectCache* cache) {
  RegistryWriteGuard guard;
  g_caches.push_back(cache);
}

kstd::IntrusiveList<ObjectCache>& registry_caches() {
  registry_assert_held();
  return g_caches;
}

bool registry_contains(const ObjectCache* cache) {
  registry_assert_held();
  for (ObjectCache* live : g_caches)
    if (live == cache) return true;
  return false;
}

bool registry_remove(ObjectCache* cache) {
  RegistryWriteGuard guard;
  if (!registry_contains(cache)) return false;
  kstd::IntrusiveList<ObjectCache>::remove(cache);
  return true;
}

void registry_bury(ObjectCache* cache) {
  RegistryWriteGuard guard;
  g_graveyard.push_back(cache);
}

void* registry_slot_alloc(size_t size) {
  ObjectCache* slot = nullptr;
  {
    RegistryWriteGuard guard;
    if (g_free_slot_count > kQuarantineSlots) {
      slot = g_free_slots.front();
      kstd::IntrusiveList<ObjectCache>::remove(slot);
      --g_free_slot_count;
    }
  }
  if (slot == nullptr) return splk_kmalloc_node(size, KM_SLEEP | KM_ZERO, -1);
  __builtin_memset(static_cast<void*>(slot), 0, size);
  return slot;
}

void registry_slot_free(ObjectCache* cache) {
  RegistryWriteGuard guard;
  g_free_slots.push_back(cache);
  ++g_free_slot_count;
}

void registry_release_all() {
  RegistryWriteGuard guard;
  for (ObjectCache* cache : g_caches)
    splk_log(1, "splkmem: cache '%s' was never destroyed", cache->name());
  while (ObjectCache* cache = g_graveyard.front()) {
    kstd::IntrusiveList<ObjectCache>::remove(cache);
    cache->release_leaked();
  }
  while (ObjectCache* slot = g_free_slots.front()) {
    kstd::IntrusiveList<ObjectCache>::remove(slot);
    splk_kfree(slot);
  }
  g_free_slot_count = 0;
}

}  // namespace splkmem
