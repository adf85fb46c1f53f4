// SPDX-License-Identifier: GPL-2.0
//
// ObjectCache: one spl_kmem_cache, and the theory of the core.
//
// ---- Layers (Bonwick's magazines, as illumos kmem and XNU skmem) ----------
//
//   caller --alloc/free--> CpuLayer     each CPU: loaded + previous magazine
//                            |  trade a whole magazine (depot lock)
//                          Depot        full and empty magazines, working set
//                            |  refill / flush (store lock, or none)
//                   SlabStore | Passthrough   vmalloc slabs | Linux kmem_cache
//
// The two kinds are two types, chosen once at create: VmemCache
// (KMC_KVMEM, vmem_cache.hpp: our own vmalloc-backed slabs, SlabStore)
// and LinuxSlabCache (KMC_SLAB, linux_slab_cache.hpp: objects of a Linux
// kmem_cache, through Passthrough, tagged or not; tagged_slab() names the
// tagged ones).  ObjectCache is what they share: the per-CPU layer, the
// depot, creation, destruction, reaping, the working-set update and the
// statistics; the kind-specific parts are virtual functions, none of them
// on a fast path.  The exported entry points (spl_api.cpp) dispatch on the
// magic word straight to each kind's inline fast paths.
//
// ---- Object states -------------------------------------------------------
//
// A KMC_KVMEM object is in exactly one of: carved-not-yet (slab space past
// carved), on its slab's free list, in a magazine (a CPU's or the depot's),
// or with a caller.  Its tag (slab.hpp) has the free bit set in the first
// three states once carved, and clear exactly while a caller holds it.  A
// tagged KMC_SLAB object is in SLUB, in a magazine (tag key|1 or key|3) or
// with a caller (tag key); untagged KMC_SLAB objects are SLUB's or the
// caller's.  Emergency objects (whole pages) are with a caller or freed:
// they never enter a magazine.
//
// ---- Giving memory back ---------------------------------------------------
//
// Four ways, from the quickest: the depot trim, the working-set update,
// the shrinker and a reap.  The trim bounds what the depot keeps between
// updates to spl_kmem_cache_depot_slack_kb, unless the CPUs use it.  A
// free that leaves the depot holding more opens a trim window (depot.hpp)
// and asks its CacheOwner for a trim tick (cache_reclaim_tasks.cpp):
//
// - a window spl_kmem_cache_depot_trim_ms (100) long closes at the window
//   tick: what stayed idle in the depot all the while, beyond the slack,
//   goes back to the layer below, as aged, and the slabs that emptied are
//   freed.  A cache that cycles through its depot faster than that (alloc
//   N, free N, again) keeps it all, as illumos keeps its working set.
// - a window that closed with idle excess makes the cache eager: its next
//   excess goes back at the soon tick, the next jiffy, all of it, as SPL
//   frees its empty slabs at every flush.  So a burst that ZFS holds for a
//   quarter of a second (863 buffers of 128 KiB in make zfs-test) leaves
//   no trace once it is freed.  A window that found its excess drawn on
//   makes it patient again, and so does each working-set update.
//
// What is still beyond the slack after a tick opens the next window.  The
// ticks are tasks because the free that notices the excess may be in an
// interrupt, where vfree() may not be called; they visit caches under the
// registry read lock, so destroy (which takes it for writing) never races
// them.

// ---- Invariants (check_invariants(), called by every KUnit suite) --------
//
// - obj_alloc equals the objects out of slabs (in magazines, in the depot,
//   with callers), and obj_total the capacity of the slabs plus the
//   emergency objects; slab_total and slab_alloc count the slabs on the
//   lists and those with objects out.
// - Every slab with a free object is in the PartialSlabs class its in_use
//   names (a refill takes from the fullest), empty slabs on their own
//   list; the complete list holds only full slabs.
// - Every CPU has a loaded and a previous magazine at all times, neither
//   of them in the depot; the depot's full list holds full magazines (its
//   rounds count their objects), its empty list empty ones, each list as
//   long as its count, every capacity at most the cache's largest
//   (Depot::check()).
// - Objects in magazines have the free bit set in their tags.
//
// ---- Locks and waits, in order -------------------------------------------
//
//   registry rw_semaphore (sleeping; destroy, create and the slot pool
//   write, reap/proc/shrinker/the periodic update/the trim ticks read;
//   the shrinker only try-locks it)
//     -> a CPU's irq-off section (or local_lock_t on PREEMPT_RT)
//       -> depot lock (irq-safe)        } never both: objects move between
//       -> slab store lock (irq-safe)   } a magazine and the slabs with the
//                                       } depot lock dropped
//   update lock (g_update_lock, cache_reclaim_tasks.cpp; irq-safe, initialised in
//   the depot's lockdep class, SPLK_LOCK_DEPOT, and never held with a
//   depot lock: it guards the update's and the ticks' task ids and
//   g_update_stop, and is taken by a free that opens a trim window after
//   its irq-off section ends)
//     -> task queue lock (irq-safe; a dispatch under the update lock)
//   task queue registry mutex (sleeping; create, destroy, /proc, kick,
//   hotplug)
//     -> task queue lock
//   A task queue lock is below all of the cache's locks: a grow is
//   dispatched with none held but the registry's, the ticks with only
//   the update lock.  No task queue lock is held while a task runs.
//
//   What serialises the working-set update against a trim tick: nothing
//   but the depot lock.  Both are tasks on the grow queue, which has
//   several threads, and both hold the registry for reading only, so an
//   update and a tick may work on one cache at once.  Each depot step
//   (take_unused(), take_beyond(), purge) is one hold of the depot lock,
//   so the depot stays whole and no magazine is taken twice; trim_eager_
//   is a hint both write with relaxed stores (the update clears it, a
//   patient window sets it from what it found), and either order leaves
//   a valid policy: eager lasts at most until the next update or window.
//   Freeing slabs goes through the store lock (reclaim()).  One update
//   runs at a time (it re-dispatches itself), so mag_size_ and
//   mag_resizes_ have one writer (KUnit's splk_core_update_now() may
//   overlap it: a race there can lose a doubling or a count, no more).
//
//   Who waits on whom: growth waits for a reap in progress (REAPING);
//   destroy waits for every grow task of the cache (grows_inflight_) and,
//   by taking the registry for writing, for the periodic update, the trim
//   ticks, reaps and the shrinker; those hold the registry for reading
//   while they work; module unload stops the periodic update and the trim
//   ticks before it destroys the grow queue.
#pragma once

#include "cpu_layer.hpp"
#include "depot.hpp"
#include "kernel_objects.hpp"
#include "kstd/intrusive_list.hpp"
#include "splkmem/flags.h"

namespace splkmem {

// The depot trim's two ticks ("Giving memory back"): one a window
// (spl_kmem_cache_depot_trim_ms) from now, one at the next jiffy for
// eager caches.
enum TrimTick : unsigned { kTrimNone = 0, kTrimWindow = 1, kTrimSoon = 2 };

// What a cache asks of the layer above it, which runs the background
// tasks (cache_reclaim_tasks.cpp): given at create, so that this layer
// never names the one above.  A table of functions, not a class with
// virtual ones: such a class has no key function, and under -fno-weak
// GCC 16 (Debian sid) emits its vtable as a strong symbol in every
// object that sees it, which fails the module's link.
struct CacheOwner {
  // Any context (a free, maybe in an interrupt): a cache has a trim
  // window open; the tick runs unless it is already on its way.
  void (*trim_soon)(TrimTick tick);
};

using Ctor = int (*)(void*, void*, int);
using Dtor = void (*)(void*, void*);
using MoveCallback = int (*)(void*, void*, size_t, void*);

struct CacheParams {
  const char* name;
  size_t size;
  size_t align;
  Ctor ctor;
  Dtor dtor;
  void* priv;
  int flags;
};

// The module parameters one create reads, each read once: a sysfs write
// during create must not make two decisions of one create disagree (a
// slab limit read as 16384 to pick KMC_SLAB and as 0 to check it would
// fail the create).
struct CreateSettings {
  int flags;   // params.flags with the kind decided (KMC_SLAB or KMC_KVMEM)
  bool debug;  // spl_kmem_cache_debug
  unsigned slab_limit;
  unsigned max_size_mb;
  unsigned obj_per_slab;
  unsigned magazine_size;
  uint64_t align;  // at least SlabLayout::kMinAlign
  const CacheOwner* owner;
};

class ObjectCache : public kstd::ListNode, kstd::NonCopyable {
 public:
  // The magic word.  Class constants are enumerators, not static
  // constexpr members (-fno-weak, scripts/Kbuild.cxx).
  enum : uint32_t {
    kMagic = 0x2c2c2c2c,
    // Live caches of the kinds the exported entry points dispatch on with
    // one compare each: KMC_KVMEM with neither constructor nor destructor
    // (the plain magazine paths), tagged KMC_SLAB, untagged KMC_SLAB with
    // neither constructor nor destructor, and KMC_KVMEM with its tags in
    // the slab header and neither constructor nor destructor.  Every live
    // magic lies in [kHeaderMagic, kMagic]: valid() is one range check.
    kPlainMagic = 0x2c2c2c2b,
    kTaggedSlabMagic = 0x2c2c2c2a,
    kDirectMagic = 0x2c2c2c29,
    kHeaderMagic = 0x2c2c2c28,
    // A cache destroyed with objects still out: kept, but no longer usable.
    kDestroyedMagic = 0x2d2d2d2d,
  };

  // Creation and destruction are orchestrated above the kinds
  // (cache_factory.cpp).  Once the cache is unregistered: drains it and
  // frees its layer; returns the objects still allocated, and then keeps
  // the layer (the caller parks the cache in the graveyard) so that no
  // pointer dangles.  The magic word says which: 0 when freed,
  // kDestroyedMagic when kept.
  uint64_t teardown();

  // Any cache, any callbacks (the exported entry points' general case).
  virtual void* alloc(int km_flags) = 0;
  virtual void free(void* obj) = 0;

  // Empties this CPU's magazines and the depot, then frees the empty
  // slabs; asks every other CPU to empty its magazines, without waiting
  // (drain_if_reaped()).  May sleep.
  void reap_now();
  // In a CPU's drain work: empties its magazines if a reap asked.
  void drain_if_reaped();
  // The shrinker, once the depots and empty slabs are spent: asks every
  // CPU to empty its magazines as a reap does (the caller makes the one
  // splk_drain_request() for all caches); this CPU's now.
  void drain_cpus_for_shrinker();
  // The periodic working-set update (every spl_kmem_cache_reap_interval_ms):
  // returns what the depot did not use in the last interval, frees slabs
  // empty for a whole interval, grows the magazines under contention.
  void update(uint64_t now, uint64_t interval);
  // A trim tick (see "Giving memory back") at now, windows of window
  // jiffies, under the registry read lock: closes this cache's trim
  // window if it is due; the tick it wants next (a TrimTick).
  unsigned trim_tick(uint64_t now, uint64_t window);
  // The shrinker: gives back the depot's objects and the empty slabs; the
  // objects freed (count: what it could free).
  uint64_t shrink();
  uint64_t shrinkable();
  void drain_dead_cpu(unsigned cpu);

  void set_move(MoveCallback move) { move_ = move; }
  virtual void set_alloc_gfp(unsigned gfp) = 0;
  virtual uint64_t inuse() = 0;
  uint64_t entry_size() const { return obj_size_; }
  bool valid() const { return magic_ - uint32_t{kHeaderMagic} <= kMagic - kHeaderMagic; }
  bool direct() const { return magic_ == kDirectMagic; }
  // A LinuxSlabCache (KMC_SLAB), else a VmemCache (KMC_KVMEM): the kind
  // is the type bit create() chose, kept in flags_.  magic_ repeats it
  // for the fast paths only, with whether the cache has callbacks (the
  // kinds' own words say the rest: LinuxSlabCache::construct_,
  // VmemCache::debug()).
  bool slab_kind() const { return (kstd::load_relaxed(flags_) & KMC_SLAB) != 0; }
  bool plain() const { return magic_ == kPlainMagic; }
  bool tagged_slab() const { return magic_ == kTaggedSlabMagic; }
  bool header_plain() const { return magic_ == kHeaderMagic; }
  const char* name() const { return name_; }
  void stats(splk_cache_stats* out);
  // nullptr when the invariants above hold, else the one found broken.
  const char* check_invariants();

  // Module unload: frees what a cache destroyed with live objects kept.
  virtual void release_leaked() = 0;

 protected:
  ObjectCache() = default;
  bool init_common(const CacheParams& params, const CreateSettings& settings, uint32_t mag_size,
                   uint32_t mag_max);
  void destroy_magazines();

  // The kind's layer under the magazines.
  virtual ObjectSink sink() = 0;
  // Frees empty slabs that became empty at or before cutoff (vmalloc
  // slabs; SLUB reclaims its own).
  virtual void reclaim(uint64_t cutoff) = 0;
  // Objects on empty slabs, what reclaim(~0) frees.
  virtual uint64_t reclaimable() = 0;
  // Destroy, before the magazines are emptied: waits out growth.
  virtual void quiesce() = 0;
  // Destroy, after: frees what it can, returns the objects still allocated.
  virtual uint64_t outstanding() = 0;
  // Destroy of a cache with nothing allocated: frees the layer.
  virtual void destroy_layer() = 0;
  virtual void layer_stats(splk_cache_stats* out) = 0;
  virtual const char* check_layer() = 0;
  // A reap finished: wake growth waiting for it.  Out of line: the key
  // function, so that the class's vtable is emitted in object_cache.o.
  virtual void reap_done();

  // A push onto this CPU's loaded magazine found it full: the previous
  // magazine, a depot trade, a new magazine, or a flush (cpu_layer.hpp).
  void push_slow(void* obj);
  // Batches (the kinds' free_batch()): n checked free objects onto this
  // CPU's magazines, a magazine's worth per irq-off section; what the
  // loaded one cannot take goes push_slow().
  void push_all(void* const* objs, uint32_t n);
  // Batches: each of n objects offered to give(obj), which checks and
  // marks it as a single free does and says whether it may go onto a
  // magazine; those are pushed 32 at a time (push_all), the others go to
  // slow(obj), the single slow path (a destructor, NULL, a refusal).
  // Inlined into each kind's free_batch(): as a call it cost the vmalloc
  // batch 2.7 instruction-ns an object at n = 8 (82.3 against 79.6).
  template <typename Give, typename Slow>
  [[gnu::always_inline]] void push_checked(void* const* objs, size_t n, Give give, Slow slow) {
    constexpr uint32_t kStage = 32;
    void* staged[kStage] SPLK_UNINITIALIZED;
    size_t i = 0;
    while (i < n) {
      uint32_t k = 0;
      for (; i < n && k < kStage; ++i) {
        void* obj = objs[i];
        if (kstd::likely(give(obj)))
          staged[k++] = obj;
        else
          slow(obj);
      }
      push_all(staged, k);
    }
  }
  // Batches (the kinds' alloc_batch()): up to n objects off this CPU's
  // magazines, a magazine's worth per irq-off section, each handed to
  // take(obj) (what a single allocation does to a popped object); what
  // the magazines cannot give comes from slow(km_flags), the single
  // slow path, until it fails.  How many objs holds.
  template <typename Take, typename Slow>
  size_t pop_all(int km_flags, void** objs, size_t n, Take take, Slow slow) {
    size_t got = 0;
    while (got < n) {
      const uint32_t popped =
          cpus_.pop_many(objs + got, static_cast<uint32_t>(kstd::min<size_t>(n - got, 1u << 30)));
      for (uint32_t i = 0; i < popped; ++i) take(objs[got + i]);
      got += popped;
      if (got == n) break;
      void* obj = slow(km_flags);
      if (obj == nullptr) break;
      objs[got++] = obj;
    }
    return got;
  }
  // Returns the count coldest objects of mag to the layer below.
  void flush(Magazine* mag, uint32_t count);
  // Empties and frees the magazines of two stacks taken from the depot.
  void release_magazines(MagazineStack* full, MagazineStack* empty, bool aged);
  void purge_depot();
  // Objects the depot may hold without a trim window: the slack.
  uint64_t depot_keep() const;
  // From push_slow(): the depot holds more than it keeps.
  void open_trim_window();
  void reject_free(void* obj, const char* why);
  void* construct(void* obj, int km_flags) {
    ctor_(obj, priv_, km_flags);
    return obj;
  }
  static void drain_idle_cpu(void* cache);
  bool ask_cpus_to_drain();
  // Clears REAPING and wakes growth waiting for it.
  void end_reap();

  // Who may write each field.  Set at create, before registry_add()
  // publishes the cache, and constant after: ctor_, dtor_, priv_,
  // name_, obj_size_, obj_align_, mag_max_ (and move_, set by the owner
  // before it shares the handle, as SPL's kmem_cache_set_move()).  The
  // rest are written concurrently by several contexts, so only with
  // atomics (kstd::store_relaxed, __atomic_*): no lock guards them, and
  // the comment says who writes.  The depot and the CPU layer lock
  // themselves (depot.hpp, cpu_layer.hpp).
  //
  // The fast paths' fields first.
  uint32_t magic_;  // create; destroy, once unregistered (readers: any handle check)
  CpuLayer cpus_;
  Ctor ctor_;
  Dtor dtor_;
  void* priv_;

  Depot depot_;
  uint32_t trim_open_;    // a trim window is open: frees and trim ticks, exchange
  uint32_t trim_eager_;   // the last window found idle excess: trim ticks and updates
  uint64_t trim_opened_;  // jiffies the window opened: whoever opened it
  uint64_t depot_trims_;  // ticks that gave objects back: trim ticks, fetch_add
  uint32_t reap_gen_;     // reaps so far, each asks every CPU to drain: fetch_add
  char name_[SPL_KMEM_CACHE_NAME_MAX + 1];
  // KMC_* type bits (create) plus REAPING and DESTROY (atomic bit ops);
  // growth's GROWING and DEADLOCKED are the slab store's own word, OR-ed
  // in by stats().
  unsigned long flags_;
  MoveCallback move_;
  uint64_t obj_size_;
  uint64_t obj_align_;
  uint32_t mag_size_;     // rounds of new magazines: the working-set update only
  uint32_t mag_max_;      // ... up to this
  uint64_t mag_resizes_;  // the working-set update only
  const CacheOwner* owner_;
};

}  // namespace splkmem
