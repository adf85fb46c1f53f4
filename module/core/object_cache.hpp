// SPDX-License-Identifier: GPL-2.0
//
// ObjectCache: one spl_kmem_cache.
//
// Design (OpenZFS SPL semantics, our structure):
//
// - Two kinds, both with a per-CPU Magazine in front.  KMC_SLAB caches get
//   their objects from a Linux kmem_cache in batches (Passthrough,
//   passthrough.hpp, which tags and counts them); KMC_KVMEM caches own
//   vmalloc-backed slabs (slab_layout.hpp, slab.hpp).
// - Fast path: interrupts off, this CPU's magazine read from a per-CPU
//   slot, pop or push, interrupts back (cpu_local.hpp: inline, no call
//   across the seam where the kernel allows it).  Everything else is
//   reached by a tail call, so the hit path saves no register.  free()
//   validates the pointer by its tag (slab.hpp) before touching anything
//   else, and takes the slow path for whatever it cannot decide inline.
// - Slow path: an empty magazine is refilled with half its size from the
//   partial slabs under lock_ (KMC_SLAB: a batch from SLUB, interrupts
//   on); a full one flushes half back.  A reap empties every CPU's
//   magazine (per-CPU work), and a CPU going offline gives its objects
//   back (drain_dead_cpu(), from the hotplug glue).  Slabs a
//   flush empties stay (at the tail of the partial list) until a reap:
//   reap_now(), spl_kmem_reap() or the shrinker under memory pressure, as
//   in illumos kmem; SPL frees them at once, which makes a warm cache
//   regrow its slabs on every burst.
// - Growth (SPL's): with no partial slab, a KM_SLEEP allocation dispatches
//   one grow task per cache (KMC_BIT_GROWING) to the grow task queue, which
//   allocates slabs in a no-I/O scope (enough for a magazine refill, up to
//   64 KiB), and waits up to HZ/10 for it.  On
//   timeout the cache is marked KMC_BIT_DEADLOCKED and, until a grow
//   completes, allocations are served by emergency objects: whole pages
//   from the page allocator, tracked in an address set, counted.  A grow
//   that fails marks the cache deadlocked too, so KM_SLEEP callers get
//   emergency objects instead of spinning.  KM_NOSLEEP never waits: it
//   takes an emergency object at once, or gets NULL.  Growth waits for a
//   reap in progress.  Emergency objects are not vmalloc addresses, which
//   is how free() tells them apart cheaply.
// - Slab lists under lock_: partial (fuller at the head, empty slabs at the
//   tail, as SPL keeps them) and complete.  Empty slabs are unlinked under
//   the lock and vfree()d after it is dropped, never with interrupts off;
//   only reaps and destroy free slabs, and they may sleep.
// - Counters (slab_*, obj_*) are under lock_; obj_alloc counts objects out
//   of the slabs, in magazines or with callers, as SPL does.
//
// Lock order: registry semaphore -> the per-CPU section (interrupts off,
// or the seam's local_lock_t) -> lock_.  lock_ is always taken with
// interrupts off (SpinLockIrqGuard): KM_NOSLEEP allocations and frees may
// come from soft or hard interrupt context, refill and flush there, and
// must not spin on a lock the interrupted task holds.  Waits: growth waits
// for a reap in progress; destroy waits for every grow task of the cache
// (grows_inflight_) and for readers of the registry.
#pragma once

#include "cpu_local.hpp"
#include "kernel_objects.hpp"
#include "kstd/intrusive_list.hpp"
#include "magazine.hpp"
#include "passthrough.hpp"
#include "slab.hpp"
#include "slab_layout.hpp"
#include "splkmem/flags.h"
#include "task_queue.hpp"

namespace splkmem {

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

class ObjectCache : public kstd::ListNode, kstd::NonCopyable {
 public:
  static constexpr uint32_t kMagic = 0x2c2c2c2c;
  // Live caches of the two kinds the exported entry points dispatch on
  // with one compare each: KMC_KVMEM with neither constructor nor
  // destructor (the plain magazine paths), and KMC_SLAB.
  static constexpr uint32_t kPlainMagic = 0x2c2c2c2b;
  static constexpr uint32_t kPassthroughMagic = 0x2c2c2c2a;
  // KMC_SLAB, untagged, neither constructor nor destructor.
  static constexpr uint32_t kDirectMagic = 0x2c2c2c29;
  // A cache destroyed with objects still out: kept, but no longer usable.
  static constexpr uint32_t kDestroyedMagic = 0x2d2d2d2d;

  // Validates params (errors are logged, naming the value) and builds a
  // cache; nullptr on bad input or no memory.
  static ObjectCache* create(const CacheParams& params);
  // Drains, frees and unregisters; a cache with objects still out is kept
  // (see graveyard in object_cache.cpp) so no pointer dangles.
  void destroy();

  // The fast paths are inline (below the class): a magazine hit or push,
  // or one Linux slab call, is all the exported entry points do.
  // Everything else is out of line.
  void* alloc(int km_flags);
  void free(void* obj);
  // The same for a cache that is plain() (no test of kind or callbacks).
  void* alloc_plain(int km_flags);
  void free_plain(void* obj);
  // KMC_SLAB caches (passthrough()): their own functions, so that the
  // magazine paths need no register saved for the call into SLUB.
  [[gnu::no_instrument_function]] void* alloc_passthrough(int km_flags);
  [[gnu::no_instrument_function]] void free_passthrough(void* obj);
  // Untagged KMC_SLAB caches: SLUB on every call; the plain ones for
  // caches without callbacks (direct()).
  [[gnu::no_instrument_function]] void* alloc_direct_plain(int km_flags);
  [[gnu::no_instrument_function]] void free_direct_plain(void* obj);
  void* alloc_direct(int km_flags);
  void free_direct(void* obj);
  // Empties every CPU's magazine, then frees the empty slabs.
  void reap_now();
  void drain_dead_cpu(unsigned cpu);

  void set_move(MoveCallback move) { move_ = move; }
  void set_alloc_gfp(unsigned gfp);
  uint64_t inuse();
  // Objects a reap could give back (free in slabs, cached in magazines).
  uint64_t freeable();
  uint64_t entry_size() const { return obj_size_; }
  bool valid() const {
    return magic_ == kMagic || magic_ == kPlainMagic || magic_ == kPassthroughMagic ||
           magic_ == kDirectMagic;
  }
  bool direct() const { return magic_ == kDirectMagic; }
  bool plain() const { return magic_ == kPlainMagic; }
  bool passthrough() const { return magic_ == kPassthroughMagic; }
  const char* name() const { return name_; }
  void stats(splk_cache_stats* out);

  // The grow task queue, created at module init (cache_registry.cpp).
  static void set_grow_queue(TaskQueue* queue);

  // Module unload: frees what a cache destroyed with live objects kept.
  void release_leaked();

 private:
  ObjectCache() = default;
  bool init(const CacheParams& params);
  bool init_magazines();
  void free_magazines();

  bool is_slab_backed() const { return fast_ & kFastPassthrough; }

  // What the inline paths test, in one word.
  static constexpr uint32_t kFastPassthrough = 1;  // KMC_SLAB
  static constexpr uint32_t kFastDtor = 2;         // free runs a destructor
  static constexpr uint32_t kFastCtor = 4;         // KMC_SLAB: alloc constructs
  static constexpr uint32_t kFastZero = 8;         // KMC_SLAB: alloc zeroes (init_on_alloc)
  // KMC_SLAB: most bytes of objects one CPU's magazine holds, and most
  // objects one refill takes from SLUB (a stack array).
  static constexpr uint64_t kPassthroughMagBytes = 64 * 1024;
  static constexpr unsigned kPassthroughBatch = 32;

  // What a refill achieved.
  enum class Refill {
    kRetry,      // objects moved, a slab arrived, or waited: look again
    kEmergency,  // an emergency object for the caller
    kFailed,     // KM_NOSLEEP and nothing to be had
  };

  // Out of line: everything but a magazine hit or push.  Each is reached
  // by a tail call from the inline paths, with the same arguments.
  bool pop(void** obj);
  template <bool kConstruct>
  void* alloc_magazine(int km_flags);
  void* alloc_slow(int km_flags);
  void* alloc_passthrough_slow(int km_flags);
  void* alloc_direct_slow(int km_flags, void* obj);
  void* construct_passthrough(void* obj, int km_flags);
  void push_passthrough(void* obj);
  void* construct(void* obj, int km_flags);
  void free_slow(void* obj);
  void free_passthrough_slow(void* obj);
  void free_with_dtor(void* obj);
  // The tag of a slab object, when it can be read and checked without a
  // fault: a vmalloc address whose tag word is on the object's own page.
  bool fast_tag(void* obj, uintptr_t* tag) const;
  // A validated slab object goes back: free state, magazine.
  void release(void* obj, uintptr_t tag);
  void push_flushing(void* obj);

  // KVMEM paths.
  void* alloc_from_magazine(int km_flags);
  Refill refill(cpu::IrqSave& irq, Magazine* mag, int km_flags, void** emergency);
  Refill grow(int km_flags, void** emergency);
  void dispatch_grow(int km_flags);
  static void grow_task_main(void* cache);
  void grow_task();
  void grow_done();
  Slab* new_slab(int km_flags);
  Refill emergency_alloc(int km_flags, void** obj);
  bool emergency_free(void* obj);
  void* take_object(Slab* slab);
  bool return_object(void* obj);
  bool flush(Magazine* mag, uint32_t count);
  void reclaim_empty_slabs();
  static void flush_this_cpu(void* cache);
  bool check_tag(void* obj, uintptr_t* tag);
  void reject_free(void* obj, const char* why);
  Magazine* magazine_on(unsigned cpu) { return *cpu::on_cpu(mag_slot_, cpu); }

  // The fast paths' fields first: one or two cache lines.
  uint32_t magic_;
  uint32_t fast_;                    // kFast* bits
  cpu::PerCpu<Magazine*> mag_slot_;  // KMC_KVMEM: this CPU's magazine
  SlabTagKey tags_;                  // KMC_KVMEM: tag encoding
  Ctor ctor_;
  Dtor dtor_;
  void* priv_;
  unsigned extra_gfp_;       // spl_kmem_cache_set_allocflags()
  Passthrough passthrough_;  // KMC_SLAB

  char name_[SPL_KMEM_CACHE_NAME_MAX + 1];
  unsigned long flags_;  // KMC_* type bits plus state bits (KMC_BIT_*)
  MoveCallback move_;
  uint64_t obj_size_;
  uint64_t obj_align_;

  // KMC_KVMEM.
  SlabLayout layout_;
  uint32_t mag_size_;
  uint32_t mag_refill_;

  // Growth: one grow task at a time (KMC_BIT_GROWING), its entry embedded.
  WaitQueue grow_wq_;  // allocators wait for growth or the end of a reap
  TaskEntry grow_task_;
  uint32_t grows_inflight_;  // under lock_: dispatched, not yet grow_done()
  int grow_flags_;

  SpinLock lock_;
  AddressSet emergency_;  // emergency objects, under lock_
  kstd::IntrusiveList<Slab> partial_;
  kstd::IntrusiveList<Slab> complete_;
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

// The one pop of this CPU's magazine, for both kinds: false when it is
// empty.  Interrupts are off for the pop alone.
[[gnu::always_inline]] inline bool ObjectCache::pop(void** obj) {
  const unsigned long irq = cpu::irq_save();
  Magazine* mag = cpu::read(mag_slot_);
  const uint32_t avail = mag->avail;
  if (kstd::unlikely(avail == 0)) {
    cpu::irq_restore(irq);
    return false;
  }
  *obj = mag->objs[avail - 1];
  mag->avail = avail - 1;
  cpu::irq_restore(irq);
  return true;
}

// A magazine pop; a miss is alloc_slow(), which constructs by itself.
template <bool kConstruct>
[[gnu::always_inline]] inline void* ObjectCache::alloc_magazine(int km_flags) {
  void* obj;
  if (kstd::unlikely(!pop(&obj))) return alloc_slow(km_flags);
  *Slab::tag_of(obj) &= ~SlabTagKey::kFreeBit;
  if (kConstruct && ctor_ != nullptr) return construct(obj, km_flags);
  return obj;
}

[[gnu::always_inline]] inline void* ObjectCache::alloc_plain(int km_flags) {
  return alloc_magazine<false>(km_flags);
}

[[gnu::always_inline]] inline void* ObjectCache::alloc(int km_flags) {
  if (kstd::unlikely(fast_ & kFastPassthrough))
    return passthrough_.tagged() ? alloc_passthrough(km_flags) : alloc_direct(km_flags);
  return alloc_magazine<true>(km_flags);
}

[[gnu::always_inline]] inline bool ObjectCache::fast_tag(void* obj, uintptr_t* tag) const {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  if (addr - splk_kernel.vmalloc_start >= splk_kernel.vmalloc_size ||
      (addr & (kPageSize - 1)) < sizeof(uintptr_t))
    return false;
  *tag = *Slab::tag_of(obj);
  return tags_.allocated(*tag, addr, kPageSize);
}

[[gnu::always_inline]] inline void ObjectCache::release(void* obj, uintptr_t tag) {
  *Slab::tag_of(obj) = tag | SlabTagKey::kFreeBit;
  const unsigned long irq = cpu::irq_save();
  Magazine* mag = cpu::read(mag_slot_);
  const uint32_t avail = mag->avail;
  if (kstd::unlikely(avail >= mag->size)) {
    cpu::irq_restore(irq);
    return push_flushing(obj);
  }
  mag->objs[avail] = obj;
  mag->avail = avail + 1;
  cpu::irq_restore(irq);
}

[[gnu::always_inline]] inline void ObjectCache::free_plain(void* obj) {
  uintptr_t tag;
  if (kstd::unlikely(!fast_tag(obj, &tag))) return free_slow(obj);
  release(obj, tag);
}

[[gnu::always_inline]] inline void ObjectCache::free(void* obj) {
  if (kstd::unlikely(fast_ & kFastPassthrough))
    return passthrough_.tagged() ? free_passthrough(obj) : free_direct(obj);
  if (kstd::unlikely(fast_ & kFastDtor)) return free_with_dtor(obj);
  free_plain(obj);
}

}  // namespace splkmem
