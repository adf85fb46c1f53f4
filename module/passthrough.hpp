// SPDX-License-Identifier: GPL-2.0
//
// Passthrough: the Linux-slab side of a KMC_SLAB cache.  Every allocation
// and free goes to a Linux kmem_cache (SLUB); this class adds only what SPL
// promises on top of it, at the least cost we could measure:
//
//   | header ... tag | object (obj_size bytes) |     one Linux slab object
//   0           h - 8 h
//
// - A header of h = max(8, align) bytes before each object whose last word
//   is a tag: the cache's random key while the caller holds the object,
//   key | 1 once it is freed.  free() checks that the pointer is in the
//   direct map (where slab objects live) and compares one word; foreign
//   pointers, objects of other caches, interior pointers and double frees
//   fail that compare and are refused with a warning instead of reaching
//   SLUB (which would BUG on a double free or take an interior pointer).
//   Cost: h bytes per object, about ten instructions per pair.
// - The objects out are counted in a per-CPU long, one %gs-relative
//   increment or decrement (cpu_local.hpp), summed on demand.
// - SLUB zeroes objects itself when init_on_alloc is set (the Linux cache
//   has no constructor); nothing is cached in front of it, so its
//   debugging, accounting and memory-pressure handling all still apply.
#pragma once

#include "cpu_local.hpp"
#include "kernel_objects.hpp"
#include "slab.hpp"

namespace splkmem {

class Passthrough : kstd::NonCopyable {
 public:
  static constexpr uintptr_t kFreeBit = 1;

  // A Linux cache for objects of size bytes aligned to align (a power of
  // two >= 8); false when the kernel refuses.
  bool init(const char* name, uint64_t size, uint64_t align, bool reclaimable);
  void destroy();

  // Objects handed out and not yet freed.
  int64_t live() const { return splk_percpu_sum_long(count_.offset); }

  // The GFP flags of each KM_ combination, plus spl_kmem_cache_set_allocflags().
  void set_gfp(unsigned extra_gfp);

  // A new Linux slab object, or nullptr when SLUB has none (the caller
  // retries or fails as its KM_ flags say); adopt() makes it ours.  KM_
  // flags other than KM_NOSLEEP and KM_PUSHPAGE are ignored, as on the
  // magazine paths.
  [[gnu::always_inline]] void* alloc_raw(int km_flags) {
    const unsigned gfp = kstd::load_relaxed(gfp_[gfp_index(km_flags)]);
    return splk_linux_cache_alloc(linux_cache_, gfp);
  }
  [[gnu::always_inline]] void* adopt(void* raw) {
    char* obj = static_cast<char*>(raw) + header_;
    *Slab::tag_of(obj) = key_;
    cpu::inc(count_);
    return obj;
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

  // Gives back an object owns() accepted.
  [[gnu::always_inline]] void free(void* obj) {
    *Slab::tag_of(obj) = key_ | kFreeBit;
    cpu::dec(count_);
    splk_linux_cache_free(linux_cache_, static_cast<char*>(obj) - header_);
  }

  // What owns() refused, looked at closely: nullptr when obj is an
  // allocated object of this cache after all (its tag on the previous
  // page), else why it must be refused.
  const char* owns_slow(void* obj) const;

 private:
  // The tag word, read without a sanitizer check: on a double free the
  // object is SLUB's again (freed, and poisoned under KASAN), and reading
  // its header is how the double free is found.
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
  uintptr_t key_;    // random, bit 0 clear
  uint32_t header_;  // bytes before each object
};

}  // namespace splkmem
