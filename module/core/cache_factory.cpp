// SPDX-License-Identifier: GPL-2.0
//
// Creation and destruction of caches (cache_factory.hpp).
#include "cache_factory.hpp"

#include "cache_reclaim_tasks.hpp"
#include "cache_registry.hpp"
#include "linux_slab_cache.hpp"
#include "slab_layout.hpp"
#include "vmem_cache.hpp"

namespace splkmem {
namespace {

constexpr int kCreateFlags = KMC_NODEBUG | KMC_KVMEM | KMC_SLAB | KMC_RECLAIMABLE;

// Bytes a cache slot needs, for either kind.
constexpr size_t kSlotSize = kstd::max(sizeof(VmemCache), sizeof(LinuxSlabCache));

unsigned param(const unsigned& p) { return kstd::load_relaxed(p); }

}  // namespace

ObjectCache* cache_create(const CacheParams& p) {
  splk_might_sleep();

  if (p.name == nullptr) {
    splk_log(0, "splkmem: spl_kmem_cache_create: name is NULL");
    return nullptr;
  }
  const size_t len = kstd::strnlen(p.name, SPL_KMEM_CACHE_NAME_MAX + 1);
  if (len == 0 || len > SPL_KMEM_CACHE_NAME_MAX) {
    splk_log(0, "splkmem: spl_kmem_cache_create: name '%.*s%s' must have 1 to %d characters",
             SPL_KMEM_CACHE_NAME_MAX, p.name, len > SPL_KMEM_CACHE_NAME_MAX ? "..." : "",
             SPL_KMEM_CACHE_NAME_MAX);
    return nullptr;
  }
  if (p.size == 0) {
    splk_log(0, "splkmem: cache '%s': object size 0", p.name);
    return nullptr;
  }
  if (p.align != 0 && (!kstd::is_power_of_two(p.align) || p.align > kPageSize)) {
    splk_log(0, "splkmem: cache '%s': alignment %zu is not a power of two up to %llu", p.name,
             p.align, static_cast<unsigned long long>(kPageSize));
    return nullptr;
  }
  if (p.flags & ~kCreateFlags) {
    splk_log(0, "splkmem: cache '%s': flags 0x%x have unknown or internal bits 0x%x", p.name,
             p.flags, p.flags & ~kCreateFlags);
    return nullptr;
  }
  if ((p.flags & KMC_SLAB) && (p.flags & KMC_KVMEM)) {
    splk_log(0, "splkmem: cache '%s': flags 0x%x ask for both KMC_SLAB and KMC_KVMEM", p.name,
             p.flags);
    return nullptr;
  }
  CreateSettings s{};
  s.align = kstd::max<uint64_t>(p.align, SlabLayout::kMinAlign);
  // The size is the caller's: SIZE_MAX - 7 or a negative int must not wrap
  // the stride (slab_layout.hpp checks every later step too).
  uint64_t stride;
  if (!SlabLayout::stride_for(p.size, s.align, &stride)) {
    splk_log(0,
             "splkmem: cache '%s': object size %zu (0x%zx) overflows with its tag and alignment "
             "%zu",
             p.name, p.size, p.size, p.align);
    return nullptr;
  }
  s.slab_limit = param(spl_kmem_cache_slab_limit);
  s.max_size_mb = param(spl_kmem_cache_max_size);
  s.obj_per_slab = param(spl_kmem_cache_obj_per_slab);
  s.magazine_size = param(spl_kmem_cache_magazine_size);
  s.debug = param(spl_kmem_cache_debug) != 0;
  s.flags = p.flags;
  s.owner = reclaim_tasks_owner();
  // No type asked for: small objects go to the Linux slab (SPL's rule),
  // unless the debug mode is on, which only our own slabs have (a KMC_SLAB
  // cache asked for by name keeps SLUB's own checks, slub_debug).
  if (!(s.flags & (KMC_SLAB | KMC_KVMEM)))
    s.flags |= (!s.debug && s.slab_limit != 0 && p.size <= s.slab_limit) ? KMC_SLAB : KMC_KVMEM;

  // Type-stable memory (cache_registry.cpp): a stale handle's magic check
  // always reads an ObjectCache.
  void* mem = registry_slot_alloc(kSlotSize);
  if (mem == nullptr) return nullptr;
  ObjectCache* cache =
      (s.flags & KMC_SLAB) ? LinuxSlabCache::make(mem, p, s) : VmemCache::make(mem, p, s);
  if (cache == nullptr) {
    // No one holds this handle: the slot goes back as it came, zeroed,
    // its magic word no live cache's.
    __builtin_memset(mem, 0, kSlotSize);
    registry_slot_free(static_cast<ObjectCache*>(mem));
    return nullptr;
  }
  registry_add(cache);
  return cache;
}

void cache_destroy(ObjectCache* cache) {
  if (cache->teardown() != 0)
    registry_bury(cache);
  else
    registry_slot_free(cache);
}

}  // namespace splkmem
