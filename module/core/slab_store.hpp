// SPDX-License-Identifier: GPL-2.0
//
// SlabStore: the vmalloc-backed slabs of a KMC_KVMEM cache, the layer under
// its magazines (SPL's slab lists, illumos's slab layer).  It owns:
//
// - the slabs under lock_: those with a free object in PartialSlabs
//   (partial_slabs.hpp: a refill takes from the fullest, empty slabs are
//   kept in the order they became empty) and the full ones on a list;
// - taking objects out for a magazine refill and putting objects back from
//   a magazine flush (take_into(), give_back());
// - growth (SPL's): with no partial slab, a KM_SLEEP allocation dispatches
//   one grow task per cache (KMC_BIT_GROWING) to the grow task queue, which
//   allocates slabs in a no-I/O scope (enough for one magazine refill, up to
//   64 KiB), and waits up to HZ/10 for it.  On timeout the cache is marked
//   KMC_BIT_DEADLOCKED and, until a grow completes, allocations are served
//   by emergency objects: whole pages from the page allocator, tracked in
//   an address set, counted.  A grow that fails marks the cache deadlocked
//   too, so KM_SLEEP callers get emergency objects instead of spinning.
//   KM_NOSLEEP never waits: it takes an emergency object at once, or gets
//   NULL.  Growth waits for a reap in progress.  Emergency objects are not
//   vmalloc addresses, which is how a free tells them apart cheaply, and
//   they never enter a magazine;
// - reclaim: empty slabs are unlinked under lock_ and vfree()d after it is
//   dropped, never with interrupts off, by reaps, the periodic working-set
//   update (only slabs empty for a whole interval) and destroy.  Where the
//   reclaimed slabs were is recorded, and growth refuses vmalloc memory
//   that overlaps them (freed_slab_ranges.hpp: a stale pointer into a
//   reaped slab must not become a live object of a new one);
// - the counters (slab_*, obj_*), under lock_; obj_alloc counts objects
//   out of the slabs (in magazines, in the depot or with callers), as SPL
//   does;
// - with header tags (slab_layout.hpp), the index from each object's first
//   page to its tag slot (TagSlots, tag_slots.hpp): every object of a slab
//   is entered when the grow task makes the slab, before the slab is
//   filed, and removed after the slab is unlinked, before it is freed.  So
//   an object a caller holds is always in the index, and a pointer that is
//   not the start of a live object is not (it is rejected, never read).
//
// Nodes (issue 26, item 3; numa.hpp): the partial and empty slabs are kept
// per node part, each slab filed under the part of the CPU whose refill
// made it grow, and its memory allocated on that CPU's node where the
// kernel allows (splk_vmalloc_noio()).  A refill takes from its CPU's own
// part; when that has nothing, it grows on its node rather than take
// another node's slabs, unless it cannot wait (KM_NOSLEEP) or growth is
// deadlocked: a remote object then beats an emergency page.  Objects
// always go back to their own slab, so a slab's free objects stay on its
// part whoever frees them.  Reclaim, statistics and the checks walk every
// part; the full slabs share one list (nothing takes from it by node).
// One lock for all parts: the store's lock is taken once a magazine
// refill or flush, far less often than the depot's.
//
// Lock order: lock_ is taken with interrupts off (refills and flushes come
// from any context), after a CPU's irq-off section, never with the depot
// lock.  Waits: growth waits for a reap in progress; destroy waits for
// every grow task of the cache (grows_inflight_).
#pragma once

#include "debug_check.hpp"
#include "freed_slab_ranges.hpp"
#include "kernel_objects.hpp"
#include "kstd/intrusive_list.hpp"
#include "magazine.hpp"
#include "numa.hpp"
#include "partial_slabs.hpp"
#include "slab.hpp"
#include "slab_layout.hpp"
#include "splkmem/flags.h"
#include "tag_slots.hpp"
#include "task_queue.hpp"

namespace splkmem {

class SlabStore : kstd::NonCopyable {
 public:
  // What a refill achieved.
  enum class Refill {
    kRetry,      // objects moved, a slab arrived, or waited: look again
    kEmergency,  // an emergency object for the caller
    kFailed,     // KM_NOSLEEP and nothing to be had
  };

  // name is the owning cache's (messages); owner_flags its flag word,
  // which the store only reads: KMC_RECLAIMABLE, KMC_BIT_REAPING (growth
  // waits a reap out) and KMC_BIT_DESTROY (no grow task is queued then).
  // Growth's own state, KMC_BIT_GROWING and KMC_BIT_DEADLOCKED, is the
  // store's (growth_flags()).  False when there is no memory (the store
  // then holds nothing).
  bool init(const char* name, const unsigned long* owner_flags, uint64_t obj_size,
            const SlabLayout& layout);
  // KMC_BIT_GROWING and KMC_BIT_DEADLOCKED as they are now (statistics).
  unsigned long growth_flags() const { return kstd::load_relaxed(growth_); }
  // Debug caches: objects get the debug fill as they leave the slabs, and
  // the live slabs are kept in a set, so that owns_slab() can tell a slab
  // a reap gave back from a live one without reading it.
  void set_debug(const DebugCheck* debug) {
    debug_ = debug;
    slots_.set_debug();
  }
  bool owns_slab(const Slab* slab);
  const SlabTagKey& tags() const { return slots_.key(); }
  // Where the objects' tags are, and the index (tag_slots.hpp).
  const TagSlots& slots() const { return slots_; }
  bool header_tags() const { return slots_.header_tags(); }

  // Interrupts off: moves up to n objects into mag, loaded on this CPU,
  // from the slabs of its node (see Nodes above); how many it moved.
  uint32_t take_into(Magazine* mag, uint32_t n, int km_flags);
  // Any context: n objects back onto their slabs.  Slabs this empties are
  // stamped now, or as long empty when aged (a working-set reap returns
  // objects nobody used for an interval).
  void give_back(void** objs, uint32_t n, bool aged);
  // SPL's spl_cache_grow(), with no partial slab and interrupts on; sizes
  // its growth for a refill of refill objects.
  Refill grow(int km_flags, uint32_t refill, void** emergency);
  // True (object freed, destructor run) if obj is one of the emergency
  // objects.
  bool emergency_free(void* obj, void (*dtor)(void*, void*), void* priv);
  bool has_emergency() const { return kstd::load_relaxed(obj_emergency_) != 0; }

  // Frees the empty slabs that became empty at or before cutoff (jiffies;
  // ~0 for all).  May sleep.
  void reclaim(uint64_t cutoff);
  // destroy: waits until no grow task uses the store.
  void wait_for_grows();
  // Objects out of the store (magazines, depot, callers) and emergency
  // objects.
  uint64_t live();
  // Objects on empty slabs (a shrinker's reclaim() frees them).
  uint64_t objs_on_empty_slabs() const { return kstd::load_relaxed(empty_objs_); }
  uint64_t obj_total() const { return kstd::load_relaxed(obj_total_); }
  void set_extra_gfp(unsigned gfp) { kstd::store_relaxed(extra_gfp_, gfp); }
  // Module unload: frees everything, whatever is still allocated.
  void release_all();
  // The cache is being freed, with every slab gone.
  void destroy() { slots_.destroy(); }
  void stats(splk_cache_stats* out);
  // Debug checks of the books (object_cache.hpp, check_invariants()):
  // nullptr when they hold, else what is wrong.
  const char* check_invariants();
  void wake_waiters() { grow_wq_.wake_all(); }

  static void set_grow_queue(TaskQueue* queue);

 private:
  void dispatch_grow(int km_flags, uint32_t refill, unsigned cpu);
  uint32_t take_from(PartialSlabs& part, Magazine* mag, uint32_t n);
  template <typename Visit>
  void for_each_partial(Visit visit) {
    for (PartialSlabs& part : partial_) part.for_each(visit);
  }
  static void grow_task_main(void* store);
  void grow_task();
  void grow_done();
  Slab* new_slab(int km_flags, int node);
  void* slab_memory(int km_flags, int node);
  Refill emergency_alloc(int km_flags, void** obj);
  void* take_object(Slab* slab);
  void free_slab(Slab* slab);
  void return_object(void* obj, uint64_t now);
  void forget_slab(const Slab* slab);

  const char* name_;
  const unsigned long* owner_flags_;  // the cache's: read only (init())
  unsigned long growth_;              // KMC_BIT_GROWING, KMC_BIT_DEADLOCKED: atomic bit ops
  uint64_t obj_size_;
  unsigned extra_gfp_;  // spl_kmem_cache_set_allocflags()
  SlabLayout layout_;
  TagSlots slots_;
  const DebugCheck* debug_;

  // Growth: one grow task at a time (KMC_BIT_GROWING), its entry embedded.
  WaitQueue grow_wq_;  // allocators wait for growth or the end of a reap
  TaskEntry grow_task_;
  uint32_t grows_inflight_;  // under lock_: dispatched, not yet grow_done()
  int grow_flags_;
  uint32_t grow_refill_;
  unsigned grow_part_;  // whose node part the slabs are filed in
  int grow_node_;       // the node their memory comes from (-1: anywhere)

  SpinLock lock_;
  AddressSet emergency_;   // emergency objects, under lock_
  AddressSet live_slabs_;  // debug caches: every slab, under lock_
  FreedSlabRanges freed_;  // where reclaimed slabs were, under lock_
  // One per node part (numa.hpp).
  PartialSlabs partial_[numa::kMaxNodes];
  kstd::IntrusiveList<Slab> complete_;  // full slabs
  uint64_t empty_objs_;                 // capacity of the empty slabs
  uint64_t slab_fail_;
  uint64_t slab_create_;
  uint64_t slab_destroy_;
  uint64_t slab_total_;
  uint64_t slab_alloc_;
  uint64_t slab_max_;
  uint64_t obj_total_;
  uint64_t obj_alloc_;
  uint64_t obj_max_;
  uint64_t obj_deadlock_;
  uint64_t obj_emergency_;
  uint64_t obj_emergency_max_;
};

}  // namespace splkmem
