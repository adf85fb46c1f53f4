// SPDX-License-Identifier: GPL-2.0
//
// The Linux slab (SLUB) behind KMC_SLAB caches, on the host: a cache is a
// LIFO free list of objects (so addresses are reused as SLUB reuses them)
// over direct-map blocks (memory.hpp).  Free objects are poisoned and
// checked when handed out again; a double free, a free to the wrong cache
// and a destroy with objects still out are reported as SLUB reports them.
// kmem_cache_free() is defined here under its kernel name: the core calls
// SLUB's symbol directly (passthrough.hpp).
#include <stdio.h>
#include <string.h>

#include <unordered_map>
#include <vector>

#include "memory.hpp"
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"
#include "sim_config.hpp"

namespace {

constexpr uint32_t kMagic = 0x534c5542;  // "SLUB"
constexpr size_t kMaxFree = 512;         // beyond: back to the page allocator

struct LinuxCache {
  uint32_t magic;
  char name[64];
  size_t size;
  size_t align;
  std::vector<void*> free;
  std::unordered_map<void*, bool> objects;  // every object, true while allocated
  uint64_t live;
};

LinuxCache* as_cache(void* c, const char* what) {
  auto* cache = static_cast<LinuxCache*>(c);
  if (cache == nullptr || cache->magic != kMagic)
    sim::fail("SLUB", "%s on %p, which is not a live kmem_cache", what, c);
  return cache;
}

void* alloc_one(LinuxCache* cache, unsigned gfp) {
  if (!(gfp & sim::kGfpKernel) && sim::rng.one_in(sim::knobs.nosleep_fail_one_in)) return nullptr;
  void* obj;
  if (!cache->free.empty()) {
    obj = cache->free.back();
    cache->free.pop_back();
    sim::mem::check_poison(obj, cache->size, "SLUB: poison overwritten");
    sim::mem::unpoison(obj, cache->size);
    memset(obj, splk_kernel.init_on_alloc ? 0 : 0x5a, cache->size);
  } else {
    obj = sim::mem::alloc(cache->size, cache->align, splk_kernel.init_on_alloc, sim::mem::kSlub,
                          cache->name);
  }
  cache->objects[obj] = true;
  ++cache->live;
  return obj;
}

void free_one(LinuxCache* cache, void* obj) {
  auto it = cache->objects.find(obj);
  if (it == cache->objects.end())
    sim::fail("SLUB", "kmem_cache_free(%s, %p): not an object of this cache", cache->name, obj);
  if (!it->second) sim::fail("SLUB", "kmem_cache_free(%s, %p): double free", cache->name, obj);
  it->second = false;
  --cache->live;
  if (cache->free.size() >= kMaxFree) {
    // The oldest free object goes back to the page allocator.
    void* old = cache->free.front();
    cache->free.erase(cache->free.begin());
    cache->objects.erase(old);
    sim::mem::unpoison(old, cache->size);
    sim::mem::free(old, sim::mem::kSlub, "SLUB discard_slab");
  }
  sim::mem::poison(obj, cache->size);
  cache->free.push_back(obj);
}

}  // namespace

extern "C" {

void* splk_linux_cache_create(const char* name, size_t size, size_t align, size_t useroffset,
                              size_t usersize, bool reclaimable) noexcept {
  sim::point("kmem_cache_create", sim::kAlloc);
  sim::check_may_sleep("kmem_cache_create");
  if (useroffset + usersize > size) sim::fail("SLUB", "usercopy region outside the object");
  auto* cache = new LinuxCache();
  cache->magic = kMagic;
  snprintf(cache->name, sizeof(cache->name), "%s", name);
  cache->size = size;
  cache->align = align < 8 ? 8 : align;
  return cache;
}

void splk_linux_cache_destroy(void* c) noexcept {
  sim::point("kmem_cache_destroy", sim::kAlloc);
  sim::check_may_sleep("kmem_cache_destroy");
  LinuxCache* cache = as_cache(c, "kmem_cache_destroy");
  if (cache->live != 0)
    sim::fail("SLUB", "kmem_cache_destroy %s: Slab cache still has %llu objects", cache->name,
              static_cast<unsigned long long>(cache->live));
  for (void* obj : cache->free) {
    sim::mem::unpoison(obj, cache->size);
    sim::mem::free(obj, sim::mem::kSlub, "kmem_cache_destroy");
  }
  cache->magic = 0;
  delete cache;
}

unsigned int splk_linux_cache_alloc_bulk(void* c, unsigned int gfp, unsigned int n,
                                         void** objs) noexcept {
  sim::point("kmem_cache_alloc_bulk", sim::kAlloc);
  if (gfp & sim::kGfpKernel) sim::check_may_sleep("kmem_cache_alloc_bulk");
  LinuxCache* cache = as_cache(c, "kmem_cache_alloc_bulk");
  unsigned got = 0;
  while (got < n) {
    void* obj = alloc_one(cache, gfp);
    if (obj == nullptr) break;
    objs[got++] = obj;
  }
  // kmem_cache_alloc_bulk() is all or nothing.
  if (got < n) {
    for (unsigned i = 0; i < got; ++i) free_one(cache, objs[i]);
    return 0;
  }
  return got;
}

void splk_linux_cache_free_bulk(void* c, unsigned int n, void** objs) noexcept {
  sim::point("kmem_cache_free_bulk", sim::kAlloc);
  LinuxCache* cache = as_cache(c, "kmem_cache_free_bulk");
  for (unsigned i = 0; i < n; ++i) free_one(cache, objs[i]);
}

void* splk_linux_cache_alloc(void* c, unsigned int gfp) noexcept {
  sim::point("kmem_cache_alloc", sim::kAlloc);
  if (gfp & sim::kGfpKernel) sim::check_may_sleep("kmem_cache_alloc");
  return alloc_one(as_cache(c, "kmem_cache_alloc"), gfp);
}

bool splk_linux_cache_may_own(void* c, const void* obj, size_t size) noexcept {
  sim::point("kmem_cache_may_own");
  LinuxCache* cache = as_cache(c, "may_own");
  return cache->objects.count(const_cast<void*>(obj)) != 0 && cache->size >= size;
}

// SLUB's own symbol, called by the core (passthrough.hpp).
void kmem_cache_free(void* c, void* obj) noexcept {
  sim::point("kmem_cache_free", sim::kAlloc);
  free_one(as_cache(c, "kmem_cache_free"), obj);
}

}  // extern "C"
