// SPDX-License-Identifier: GPL-2.0
//
// The exported SPL object-cache API (sys/kmem_cache.h): extern "C" entry
// points with SPL's names and signatures over ObjectCache.  The C glue
// exports them.  Every entry point checks the cache's magic first, so a
// NULL or stale cache pointer gets a warning instead of a crash.
#include "object_cache.hpp"

// struct spl_kmem_cache (seam.h) is never defined: consumers hold an
// opaque pointer, which is an ObjectCache.

using splkmem::ObjectCache;

namespace {

ObjectCache* checked(spl_kmem_cache* skc, const char* fn) {
  auto* cache = reinterpret_cast<ObjectCache*>(skc);
  if (kstd::unlikely(cache == nullptr || !cache->valid())) {
    splk_warn("%s: %p is not a live cache", fn, static_cast<void*>(skc));
    return nullptr;
  }
  return cache;
}

}  // namespace

extern "C" spl_kmem_cache* spl_kmem_cache_create(const char* name, size_t size, size_t align,
                                                 int (*ctor)(void*, void*, int),
                                                 void (*dtor)(void*, void*), void* reclaim,
                                                 void* priv, void* vmp, int flags) noexcept {
  if (reclaim != nullptr || vmp != nullptr)
    splk_log(1, "splkmem: cache '%s': reclaim and vmp arguments are not supported, ignored",
             name != nullptr ? name : "(null)");
  ObjectCache* cache = ObjectCache::create({name, size, align, ctor, dtor, priv, flags});
  return reinterpret_cast<spl_kmem_cache*>(cache);
}

extern "C" void spl_kmem_cache_destroy(spl_kmem_cache* skc) noexcept {
  if (ObjectCache* cache = checked(skc, __func__)) cache->destroy();
}

extern "C" void* spl_kmem_cache_alloc(spl_kmem_cache* skc, int flags) noexcept {
  ObjectCache* cache = checked(skc, __func__);
  return cache != nullptr ? cache->alloc(flags) : nullptr;
}

extern "C" void spl_kmem_cache_free(spl_kmem_cache* skc, void* obj) noexcept {
  if (obj == nullptr) return;  // as kfree(NULL)
  if (ObjectCache* cache = checked(skc, __func__)) cache->free(obj);
}

extern "C" void spl_kmem_cache_reap_now(spl_kmem_cache* skc) noexcept {
  if (ObjectCache* cache = checked(skc, __func__)) cache->reap_now();
}

extern "C" int spl_kmem_cache_reap_active(void) noexcept { return 0; }

extern "C" void spl_kmem_cache_set_move(spl_kmem_cache* skc,
                                        kmem_cbrc_t (*move)(void*, void*, size_t, void*)) noexcept {
  if (ObjectCache* cache = checked(skc, __func__))
    cache->set_move(reinterpret_cast<splkmem::MoveCallback>(move));
}

extern "C" void spl_kmem_cache_set_allocflags(spl_kmem_cache* skc, unsigned int gfp) noexcept {
  if (ObjectCache* cache = checked(skc, __func__)) cache->set_alloc_gfp(gfp);
}

extern "C" uint64_t spl_kmem_cache_inuse(spl_kmem_cache* skc) noexcept {
  ObjectCache* cache = checked(skc, __func__);
  return cache != nullptr ? cache->inuse() : 0;
}

extern "C" uint64_t spl_kmem_cache_entry_size(spl_kmem_cache* skc) noexcept {
  ObjectCache* cache = checked(skc, __func__);
  return cache != nullptr ? cache->entry_size() : 0;
}
