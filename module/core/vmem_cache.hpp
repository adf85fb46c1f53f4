// SPDX-License-Identifier: GPL-2.0
//
// VmemCache: a KMC_KVMEM cache, magazines over our own vmalloc-backed slabs
// (SlabStore).  The fast paths are inline here: interrupts off, this CPU's
// loaded magazine found through one per-CPU slot read %gs-relative, pop or
// push, interrupts back (cpu_layer.hpp; cpu_local.hpp makes it inline, no
// call across the seam where the kernel allows it).  Everything else is
// reached by a tail call, so the hit path saves no register.  free()
// validates the pointer by its tag (slab.hpp) before touching anything
// else, and takes the slow path for whatever it cannot decide inline.
// A cache whose tags are in the slab header (slab_layout.hpp) is never
// plain: its objects are large; its free finds each tag through the
// store's index, its allocation through the free object's own words
// (tag_slots.hpp).
#pragma once

#include "debug_check.hpp"
#include "object_cache.hpp"
#include "slab_store.hpp"

namespace splkmem {

class VmemCache final : public ObjectCache {
 public:
  // Builds the cache in mem (a registry slot); nullptr when the size does
  // not fit a slab or there is no memory.
  static ObjectCache* make(void* mem, const CacheParams& params, const CreateSettings& settings);

  // A cache that is plain() (no constructor, no destructor, tags before
  // the objects).
  void* alloc_plain(int km_flags);
  void free_plain(void* obj);
  // A cache that is header_plain() (no constructor, no destructor, tags
  // in the slab header).
  void* alloc_header_plain(int km_flags);
  void free_header_plain(void* obj);

  // Batches (spl_kmem_cache_alloc_batch(), _free_batch()) of a cache that
  // is plain() or header_plain(): objects move a magazine's worth at a
  // time, with the checks of single calls.
  size_t alloc_batch(int km_flags, void** objs, size_t n);
  void free_batch(void* const* objs, size_t n);

  void* alloc(int km_flags) override;
  void free(void* obj) override;
  // In the debug mode (debug_check.hpp): the general paths only.
  bool debug() const { return debug_mode_; }
  // Debug caches (debug()): site is the caller's return address.
  void* alloc_debug(int km_flags, void* site);
  void free_debug(void* obj, void* site);
  void set_alloc_gfp(unsigned gfp) override;
  uint64_t inuse() override;
  void release_leaked() override;

 private:
  VmemCache() = default;

  ObjectSink sink() override;
  void reclaim(uint64_t cutoff) override;
  uint64_t reclaimable() override;
  void quiesce() override;
  uint64_t outstanding() override;
  void destroy_layer() override;
  void layer_stats(splk_cache_stats* out) override;
  const char* check_layer() override;
  void reap_done() override;

  static void give_back(void* cache, void** objs, uint32_t n, bool aged);
  static bool is_free_object(const void* cache, void* obj);

  // Out of line: everything but a magazine hit or push.  Each is reached
  // by a tail call from the inline paths, with the same arguments.
  void* alloc_slow(int km_flags);
  void* alloc_from_layers(int km_flags);
  void free_slow(void* obj);
  // obj, from a magazine, has lost its seal (tag_slots.hpp): allocated
  // through the index's slot, and returned.
  void* alloc_after_bad_words(void* obj);
  void free_header(void* obj);
  // The slot and value of a freed pointer's tag, when it is an allocated
  // object of this cache; else reported and false.
  bool check_tag(void* obj, uintptr_t** slot, uintptr_t* tag);
  // The tag of a slab object, when it can be read and checked without a
  // fault: a vmalloc address whose tag word is on the object's own page.
  // Tags before the object only.
  bool fast_tag(void* obj, uintptr_t* tag) const;
  // A validated slab object goes back: free state, magazine.  Tags before
  // the objects, or in the slab header (the object then carries its slot
  // while free: tag_slots.hpp).
  void release(void* obj, uintptr_t* slot, uintptr_t tag);
  void release_header(void* obj, uintptr_t* slot, uintptr_t tag);
  // Validated objects, marked free, into the magazines.

  SlabTagKey tags_;  // the store's, here for the fast paths
  SlabStore store_;
  DebugCheck debug_;  // debug() caches
  bool debug_mode_;   // set at create (VmemCache::make()), constant after
};

[[gnu::always_inline]] inline void* VmemCache::alloc_plain(int km_flags) {
  void* obj;
  if (kstd::unlikely(!cpus_.pop(&obj))) return alloc_slow(km_flags);
  *Slab::tag_of(obj) &= ~SlabTagKey::kFreeBit;
  return obj;
}

[[gnu::always_inline]] inline bool VmemCache::fast_tag(void* obj, uintptr_t* tag) const {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  if (addr - splk_kernel.vmalloc_start >= splk_kernel.vmalloc_size ||
      (addr & (kPageSize - 1)) < sizeof(uintptr_t))
    return false;
  *tag = *Slab::tag_of(obj);
  return tags_.allocated(*tag, addr, kPageSize);
}

[[gnu::always_inline]] inline void VmemCache::release(void* obj, uintptr_t* slot, uintptr_t tag) {
  *slot = tag | SlabTagKey::kFreeBit;
  if (kstd::unlikely(!cpus_.push(obj))) return push_slow(obj);
}

inline void VmemCache::release_header(void* obj, uintptr_t* slot, uintptr_t tag) {
  store_.slots().mark_free(obj, slot, tag);
  if (kstd::unlikely(!cpus_.push(obj))) return push_slow(obj);
}

[[gnu::always_inline]] inline void* VmemCache::alloc_header_plain(int km_flags) {
  void* obj;
  if (kstd::unlikely(!cpus_.pop(&obj))) return alloc_slow(km_flags);
  uintptr_t* slot;
  if (kstd::unlikely(!store_.slots().sealed_slot(obj, &slot))) return alloc_after_bad_words(obj);
  *slot &= ~SlabTagKey::kFreeBit;
  return obj;
}

// The slot through this CPU's hint (tag_slots.hpp) when obj is an object
// start in the hint's slab, all in one irq-off section with the push;
// else the index, in free_slow(), which makes the slab the hint.  The
// hint's slab is mapped for as long as interrupts stay off, and an
// allocated tag in its slot is obj's.
[[gnu::always_inline]] inline void VmemCache::free_header_plain(void* obj) {
  const unsigned long irq = cpu::irq_save();
  const TagSlots& slots = store_.slots();
  uintptr_t* slot;
  uintptr_t tag;
  if (kstd::likely(slots.allocated_in_hint(reinterpret_cast<uintptr_t>(obj), &slot, &tag))) {
    slots.mark_free_in_hint(obj, slot, tag);
    const bool pushed = cpus_.push_irqs_off(obj);
    cpu::irq_restore(irq);
    if (kstd::unlikely(!pushed)) return push_slow(obj);
    return;
  }
  cpu::irq_restore(irq);
  return free_slow(obj);
}

[[gnu::always_inline]] inline void VmemCache::free_plain(void* obj) {
  uintptr_t tag;
  if (kstd::unlikely(!fast_tag(obj, &tag))) return free_slow(obj);
  release(obj, Slab::tag_of(obj), tag);
}

}  // namespace splkmem
