// SPDX-License-Identifier: GPL-2.0
//
// DebugCheck: the debug mode of a KMC_KVMEM cache (spl_kmem_cache_debug,
// chosen at create; illumos KMF_REDZONE, KMF_DEADBEEF and KMF_AUDIT, SLUB's
// slub_debug).  A debug cache's objects are laid out with a trailer:
//
//   | tag | object (size bytes) | pad | red zone | alloc site | free site |
//         0                      r = round_up(size, 8)   r + 8       r + 16
//
// - Free objects are filled with kPoison (on free, and when a slab carves
//   them); an allocation checks the fill and reports the first byte a
//   use-after-free wrote, with its offset.
// - The red zone word holds kRedZone all the time; a free (and an
//   allocation) checks it and reports an overrun past the object, then
//   repairs it, so one corruption is reported once.
// - The last allocation and free call sites (return addresses into the
//   caller) are recorded and printed with every report.
// - Tags are always read without faulting and the allocated bit is
//   cleared with a compare-and-exchange, so a double free after the slab
//   was reaped, or two CPUs freeing one object at once, are reported and
//   refused, never an oops or an object in two magazines.
//
// Debug caches take the general (out-of-line) paths: the plain fast paths
// of other caches do not change.
#pragma once

#include "kstd/utility.hpp"
#include "seam.h"

namespace splkmem {

class DebugCheck {
 public:
  enum : uint64_t {
    kPoison = 0x6b6b6b6b6b6b6b6bULL,  // SLUB's POISON_FREE
    kRedZone = 0xbbbbbbbbbbbbbbbbULL,
    kPoisonByte = 0x6b,
  };

  // The object size a debug cache lays out (the trailer included); false
  // when it overflows.
  static bool layout_size(uint64_t size, uint64_t* out);

  void init(const char* name, uint64_t size);
  // A slab carves obj for the first time (fresh) or takes it off its free
  // list (whose link overwrote word 0): the free state's fill.
  void prepare(void* obj, bool fresh) const;
  // obj leaves a magazine for a caller at site: checks fill and red zone.
  void on_alloc(void* obj, void* site) const;
  // obj, validated and claimed as free by its caller, comes back from
  // site: the red zone is checked (and repaired), then, after the
  // destructor ran, on_free() records the site and fills the object.
  void check_red_zone(void* obj, void* site) const;
  void on_free(void* obj, void* site) const;
  // Reports what was found at offset (kNoOffset: the object as a whole)
  // with the object's last call sites.
  enum : uint64_t { kNoOffset = ~0ULL };
  void report(void* obj, const char* what, uint64_t offset, void* site) const;

 private:
  uint64_t* red_zone(void* obj) const {
    return reinterpret_cast<uint64_t*>(static_cast<char*>(obj) + trailer_);
  }
  void** alloc_site(void* obj) const { return reinterpret_cast<void**>(red_zone(obj) + 1); }
  void** free_site(void* obj) const { return reinterpret_cast<void**>(red_zone(obj) + 2); }

  const char* name_;
  uint64_t size_;
  uint64_t trailer_;  // offset of the red zone
};

}  // namespace splkmem
