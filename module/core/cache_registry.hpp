// SPDX-License-Identifier: GPL-2.0
//
// The registry of live caches (for spl_kmem_reap(), /proc, the shrinker,
// the periodic working-set update, the depot trim tick and the API's
// handle checks), the graveyard of caches destroyed with objects
// still out, and the pool of cache slots that makes ObjectCache memory
// type-stable.  All of it is guarded by the registry rw_semaphore of the C
// glue, which reclaim (the shrinker) only ever try-locks for reading.
#pragma once

#include "kstd/utility.hpp"
#include "seam.h"

namespace splkmem {

class ObjectCache;

class RegistryReadGuard : kstd::NonCopyable {
 public:
  RegistryReadGuard() { splk_registry_lock_read(); }
  ~RegistryReadGuard() { splk_registry_unlock_read(); }
};

// The shrinker's way in: never sleeps.  held() is false when a writer
// holds the lock or waits for it (a destroy): reclaim then skips our
// caches this time rather than wait behind it.
class RegistryTryReadGuard : kstd::NonCopyable {
 public:
  RegistryTryReadGuard() : held_(splk_registry_trylock_read()) {}
  ~RegistryTryReadGuard() {
    if (held_) splk_registry_unlock_read();
  }
  bool held() const { return held_; }

 private:
  bool held_;
};

class RegistryWriteGuard : kstd::NonCopyable {
 public:
  RegistryWriteGuard() { splk_registry_lock_write(); }
  ~RegistryWriteGuard() { splk_registry_unlock_write(); }
};

void registry_add(ObjectCache* cache);
// Unlinks a live cache; false, with nothing done, when cache is not one
// (destroyed already, or never a cache).  Two destroys of one handle:
// exactly one gets true.
bool registry_remove(ObjectCache* cache);
// With a RegistryReadGuard or RegistryWriteGuard held: cache is live.
bool registry_contains(const ObjectCache* cache);
void registry_bury(ObjectCache* cache);

// The depot trim's two ticks (object_cache.hpp, "Giving memory back"):
// one a window (spl_kmem_cache_depot_trim_ms) from now, one at the next
// jiffy for eager caches.
enum TrimTick : unsigned { kTrimNone = 0, kTrimWindow = 1, kTrimSoon = 2 };
// Any context (a free, maybe in an interrupt): a cache has a trim window
// open; the tick runs unless it is already on its way.
void registry_trim_soon(TrimTick tick);

// Memory for an ObjectCache, zeroed: a slot recycled from the pool or a new
// allocation.  nullptr when there is no memory.
void* registry_slot_alloc();
// A destroyed cache's slot (magic cleared, on no list) back to the pool.
void registry_slot_free(ObjectCache* cache);

}  // namespace splkmem
