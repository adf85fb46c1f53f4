// SPDX-License-Identifier: GPL-2.0
//
// The registry of live caches (for spl_kmem_reap(), /proc, the shrinker,
// the periodic working-set update, the depot trim tick and the API's
// handle checks), the graveyard of caches destroyed with objects
// still out, and the pool of cache slots that makes ObjectCache memory
// type-stable.  All of it is guarded by the registry rw_semaphore of the C
// glue, which reclaim (the shrinker) only ever try-locks for reading.
#pragma once

#include "kernel_objects.hpp"
#include "kstd/intrusive_list.hpp"
#include "object_cache.hpp"

namespace splkmem {

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

// The live caches, to walk with a RegistryReadGuard (or the try guard,
// held) or RegistryWriteGuard.
kstd::IntrusiveList<ObjectCache>& registry_caches();
// Module unload, with nothing else left to touch a cache: reports every
// cache never destroyed, frees what the graveyard kept and the slot pool.
void registry_release_all();

// Memory for an ObjectCache, zeroed: a slot recycled from the pool or a new
// allocation, size bytes (the same for every call: the largest kind's).
// nullptr when there is no memory.
void* registry_slot_alloc(size_t size);
// A destroyed cache's slot (magic cleared, on no list) back to the pool.
void registry_slot_free(ObjectCache* cache);

}  // namespace splkmem
