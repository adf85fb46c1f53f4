// SPDX-License-Identifier: GPL-2.0
//
// Passthrough: the Linux-slab side of a KMC_SLAB cache.  Objects come from
// and go back to a Linux kmem_cache (SLUB), in batches: ObjectCache keeps a
// per-CPU magazine of them in front, as for its vmalloc slabs, so a hit is
// a pop or a push and SLUB is only asked for a batch on a miss.  This class
// owns what sits between the two:
//
//   | header ... tag | object (obj_size bytes) |     one Linux slab object
//   0           h - 8 h
//
// - A header of h = max(8, align) bytes before each object whose last word
//   is a tag: the cache's random key while the caller holds the object,
//   key | 1 while it is free (in a magazine; SLUB keeps its own free
//   pointer in the middle of the object, never in our header), key | 3
//   while it is free and untouched since SLUB zeroed it.  free()
//   checks that the pointer is in the direct map (where slab objects live)
//   and compares one word; foreign pointers, objects of other caches,
//   interior pointers and double frees fail that compare and are refused
//   with a warning instead of reaching SLUB (which would BUG on a double
//   free or take an interior pointer).  Cost: h bytes per object, so
//   caches where that would cost SLUB more than about 3% of memory (tiny
//   objects, sizes that fill slabs exactly) are untagged and keep SPL's
//   behaviour: no magazine, every call to SLUB (see tagged()).
// - The objects callers hold are counted in a per-CPU long, one
//   %gs-relative increment or decrement (cpu_local.hpp), summed on demand.
// - init_on_alloc (the kernel's rule for caches without a constructor):
//   SLUB zeroes what it hands out; an object that comes from a magazine
//   instead is zeroed by ObjectCache when the cache has no constructor and
//   the kernel has init_on_alloc on, and never when it has a constructor.
#pragma once

#include "cpu_local.hpp"
#include "kernel_objects.hpp"
#include "slab.hpp"

// SLUB's own entry points for one object, called by their symbols (the C
// glue checks that these prototypes are the kernel's, kernel_services.c):
// no glue function between, so the untagged pair is SLUB's plus our
// checks, and a free ends in a tail jump into kmem_cache_free().  Kernels
// with allocation profiling keep the glue's kmem_cache_alloc(), whose
// macro records the call site (SPLK_SLUB_CALL, kernel_sizes.c).
extern "C" {
#if SPLK_SLUB_CALL == 2
void* splk_slub_alloc(void* cache, unsigned gfp) noexcept __asm__("kmem_cache_alloc_noprof");
#elif SPLK_SLUB_CALL == 1
void* splk_slub_alloc(void* cache, unsigned gfp) noexcept __asm__("kmem_cache_alloc");
#endif
void splk_slub_free(void* cache, void* obj) noexcept __asm__("kmem_cache_free");
}

namespace splkmem {

class Passthrough : kstd::NonCopyable {
 public:
  enum : uintptr_t {
    kFreeBit = 1,
    // With kFreeBit: free and still as SLUB zeroed it (never handed out).
    kCleanBit = 2,
  };

  // A Linux cache for objects of size bytes aligned to align (a power of
  // two >= 8); false when the kernel refuses.
  bool init(const char* name, uint64_t size, uint64_t align, bool reclaimable);
  void destroy();
  // Frees what is ours but leaves the Linux cache, which still has
  // objects a caller leaked.
  void abandon() { cpu::free(&count_); }

  // Objects carry the tag header only where it costs SLUB at most about
  // 3% more memory per object (roughly: neither tiny objects nor sizes
  // that fill slabs exactly, such as powers of two).  Untagged caches
  // have no magazine: every call goes to SLUB (alloc_raw(), free_raw()),
  // as in SPL, and SLUB's own checks see every free.
  bool tagged() const { return header_ != 0; }
  static bool tag_is_cheap(uint64_t size, uint64_t header);

  // Untagged caches: one object from SLUB (nullptr when it has none), and
  // back; may_own() is the slab-memory check the glue can make.
  [[gnu::always_inline]] void* alloc_raw(int km_flags) {
    const unsigned gfp = kstd::load_relaxed(gfp_[gfp_index(km_flags)]);
#if SPLK_SLUB_CALL
    return splk_slub_alloc(linux_cache_, gfp);
#else
    return splk_linux_cache_alloc(linux_cache_, gfp);
#endif
  }
  [[gnu::always_inline]] void free_raw(void* obj) { splk_slub_free(linux_cache_, obj); }
  // With SLAB_FREELIST_HARDENED SLUB checks the cache of every object
  // freed to it and refuses what is not slab memory (with a warning): the
  // direct-map test is all we add.  Without it, the glue looks closer.
  [[gnu::always_inline]] bool may_own(void* obj) const {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
    const uintptr_t start = splk_kernel.direct_map_start;
    if (addr - start >= reinterpret_cast<uintptr_t>(high_memory) - start) return false;
    return SPLK_SLAB_FREELIST_HARDENED || splk_linux_cache_may_own(linux_cache_, obj, object_size_);
  }
  [[gnu::always_inline]] void count_alloc() { cpu::inc(count_); }
  [[gnu::always_inline]] void count_free() { cpu::dec(count_); }
  // Untagged caches, batches: up to n objects from SLUB (how many; SLUB's
  // bulk call gives all or none on most kernels), and n back (SLUB
  // overwrites the array).  Counted by the caller.
  unsigned alloc_raw_bulk(int km_flags, unsigned n, void** objs) {
    return splk_linux_cache_alloc_bulk(linux_cache_, kstd::load_relaxed(gfp_[gfp_index(km_flags)]),
                                       n, objs);
  }
  void free_raw_bulk(unsigned n, void** objs) { splk_linux_cache_free_bulk(linux_cache_, n, objs); }
  void count(long allocated) { cpu::add(count_, allocated); }

  // Bytes of one Linux slab object (header and object).
  uint64_t stride(uint64_t size) const { return header_ + size; }

  // Objects callers hold.
  int64_t live() const { return splk_percpu_sum_long(count_.offset); }

  // The GFP flags of each KM_ combination, plus spl_kmem_cache_set_allocflags().
  void set_gfp(unsigned extra_gfp);

  // Up to n new objects from SLUB into objs[], free (tagged key | 1, or
  // key | 3 when SLUB zeroed them);
  // returns how many (0 when SLUB has none).  Interrupts on: SLUB may
  // sleep for KM_SLEEP.  KM_ flags other than KM_NOSLEEP and KM_PUSHPAGE
  // are ignored, as on the magazine paths.
  unsigned alloc_free_objects(int km_flags, unsigned n, void** objs);
  // Gives n free objects back to SLUB; any context.  objs[] is clobbered.
  void release_free_objects(unsigned n, void** objs);

  // True when obj, free, has not been used since SLUB zeroed it: the
  // init_on_alloc rule needs no second memset then.
  bool clean(void* obj) const { return read_tag(obj) == (key_ | kFreeBit | kCleanBit); }
  // True when obj is a free object of this cache (debug checks).
  bool is_free(void* obj) const { return (read_tag(obj) & ~kCleanBit) == (key_ | kFreeBit); }

  // An object leaves a magazine for a caller, or comes back from one.
  [[gnu::always_inline]] void mark_allocated(void* obj) {
    *Slab::tag_of(obj) = key_;
    cpu::inc(count_);
  }
  [[gnu::always_inline]] void mark_free(void* obj) {
    *Slab::tag_of(obj) = key_ | kFreeBit;
    cpu::dec(count_);
  }

  // True when obj is an object of this cache that the caller holds; reads
  // nothing outside the direct map, and nothing on an earlier page than
  // obj's (see owns_slow() for those).
  [[gnu::always_inline]] bool owns(void* obj) const {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
    const uintptr_t start = splk_kernel.direct_map_start;
    if (addr - start >= reinterpret_cast<uintptr_t>(high_memory) - start ||
        (addr & (kPageSize - 1)) < sizeof(uintptr_t))
      return false;
    return read_tag(obj) == key_;
  }

  // What owns() refused, looked at closely: nullptr when obj is an
  // allocated object of this cache after all (its tag on the previous
  // page), else why it must be refused.
  const char* owns_slow(void* obj) const;

 private:
  // The tag word, read without a sanitizer check: after a double free the
  // object may be SLUB's again (freed, and poisoned under KASAN), and
  // reading its header is how the double free is found.
  [[gnu::always_inline]] static uintptr_t read_tag(void* obj) {
    uintptr_t tag;
    asm("mov %1, %0" : "=r"(tag) : "m"(*Slab::tag_of(obj)));
    return tag;
  }

  // One mask, no shift: entries 2 and 3 are never used.
  static constexpr unsigned gfp_index(int km_flags) {
    return km_flags & (KM_NOSLEEP | KM_PUSHPAGE);
  }

  void* linux_cache_;
  unsigned gfp_[(KM_NOSLEEP | KM_PUSHPAGE) + 1];  // by gfp_index()
  cpu::PerCpu<long> count_;
  uintptr_t key_;         // random, bits 0 and 1 clear
  uint32_t header_;       // bytes before each object, 0 when untagged
  uint64_t object_size_;  // the caller's size
};

}  // namespace splkmem
