// SPDX-License-Identifier: GPL-2.0
//
// LinuxSlabCache: a KMC_SLAB cache, objects of a Linux kmem_cache (SLUB)
// behind Passthrough (passthrough.hpp); it owns no Slab of ours.  Two
// ways, chosen at create by what the tag header would cost
// (Passthrough::tagged()):
//
// - tagged: the per-CPU magazines and the depot in front of SLUB, as for
//   the vmalloc slabs, so a hit is a pop or a push and SLUB is only asked
//   for a batch on a miss; the tag makes every free checked (foreign,
//   interior, double) before anything else;
// - untagged (tiny objects, sizes that fill SLUB's slabs exactly): SLUB on
//   every call, as SPL does, with the direct-map check in front and SLUB's
//   own checks behind.  Their magazines stay empty.
#pragma once

#include "object_cache.hpp"
#include "passthrough.hpp"

namespace splkmem {

class LinuxSlabCache final : public ObjectCache {
 public:
  static ObjectCache* make(void* mem, const CacheParams& params, const CreateSettings& settings);

  // Tagged caches (tagged_slab()): their own functions, so that the
  // magazine paths need no register saved for the call into SLUB.
  [[gnu::no_instrument_function]] void* alloc_tagged(int km_flags);
  [[gnu::no_instrument_function]] void free_tagged(void* obj);
  // Untagged caches without callbacks (direct()).
  [[gnu::no_instrument_function]] void* alloc_direct_plain(int km_flags);
  [[gnu::no_instrument_function]] void free_direct_plain(void* obj);

  // Batches of an untagged cache without callbacks (direct()): SLUB's
  // bulk calls, at most kBulkMax objects an allocation and kBatch a free
  // (from a copy on the stack: SLUB's bulk free overwrites its array).
  size_t alloc_batch_direct(int km_flags, void** objs, size_t n);
  void free_batch_direct(void* const* objs, size_t n);
  // Batches of a tagged cache (tagged_slab()): a magazine's rounds per
  // irq-off section, each object marked, checked, constructed or
  // destructed as a single call does it.
  size_t alloc_batch_tagged(int km_flags, void** objs, size_t n);
  void free_batch_tagged(void* const* objs, size_t n);

  void* alloc(int km_flags) override;
  void free(void* obj) override;
  void set_alloc_gfp(unsigned gfp) override;
  uint64_t inuse() override;
  void release_leaked() override;

 private:
  LinuxSlabCache() = default;

  // What the tagged allocation does to an object from a magazine, in one
  // word (construct_).
  enum : uint32_t {
    kConstructCtor = 1,  // alloc constructs
    kConstructZero = 2,  // alloc zeroes (init_on_alloc)
  };
  // Most bytes of objects one magazine holds, and most objects one refill
  // takes from SLUB (a stack array).
  enum : uint64_t { kMagBytes = 64 * 1024, kBatch = 32 };
  // Most objects one SLUB bulk allocation takes for an untagged batch.
  enum : uint64_t { kBulkMax = 256 };

  ObjectSink sink() override;
  void reclaim(uint64_t cutoff) override;
  uint64_t reclaimable() override;
  void quiesce() override;
  uint64_t outstanding() override;
  void destroy_layer() override;
  void layer_stats(splk_cache_stats* out) override;
  const char* check_layer() override;

  static void give_back(void* cache, void** objs, uint32_t n, bool aged);
  static bool is_free_object(const void* cache, void* obj);

  void* alloc_tagged_slow(int km_flags);
  void* construct_tagged(void* obj, int km_flags);
  void* alloc_direct(int km_flags);
  void* alloc_direct_slow(int km_flags, void* obj);
  void free_tagged_slow(void* obj);
  void free_direct(void* obj);
  void push_tagged(void* obj);

  Passthrough passthrough_;
  uint32_t construct_;  // kConstruct*: set at create, constant after
};

}  // namespace splkmem
