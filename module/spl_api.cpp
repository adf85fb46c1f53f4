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

[[gnu::cold, gnu::noinline]] void warn_dead(spl_kmem_cache* skc, const char* fn) {
  splk_warn("%s: %p is not a live cache", fn, static_cast<void*>(skc));
}

[[gnu::always_inline]] inline bool live(const ObjectCache* cache) {
  return kstd::likely(cache != nullptr && cache->valid());
}

ObjectCache* checked(spl_kmem_cache* skc, const char* fn) {
  auto* cache = reinterpret_cast<ObjectCache*>(skc);
  if (live(cache)) return cache;
  warn_dead(skc, fn);
  return nullptr;
}

// Kept out of the fast paths so that they reach it by a tail call.
[[gnu::cold, gnu::noinline]] void* refuse_alloc(spl_kmem_cache* skc) {
  warn_dead(skc, "spl_kmem_cache_alloc");
  return nullptr;
}

[[gnu::cold, gnu::noinline]] void refuse_free(spl_kmem_cache* skc) {
  warn_dead(skc, "spl_kmem_cache_free");
}

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

// Every cache but a plain one (KMC_SLAB, or a constructor or destructor):
// out of line, so that the plain paths below stay free of its registers.
[[gnu::noinline]] void* alloc_general(spl_kmem_cache* skc, int flags) {
  auto* cache = reinterpret_cast<ObjectCache*>(skc);
  if (!live(cache)) return refuse_alloc(skc);
  return cache->alloc(flags);
}

[[gnu::noinline]] void free_general(spl_kmem_cache* skc, void* obj) {
  auto* cache = reinterpret_cast<ObjectCache*>(skc);
  if (!live(cache)) return refuse_free(skc);
  cache->free(obj);
}

}  // namespace

// The fast paths: one test for "a live plain cache", then ObjectCache's
// inline magazine pop or push, whose misses are tail calls.
extern "C" void* spl_kmem_cache_alloc(spl_kmem_cache* skc, int flags) noexcept {
  auto* cache = reinterpret_cast<ObjectCache*>(skc);
  if (kstd::likely(cache != nullptr && cache->plain())) return cache->alloc_plain(flags);
  if (kstd::likely(cache != nullptr && cache->passthrough()))
    return cache->alloc_passthrough(flags);
  return alloc_general(skc, flags);
}

extern "C" void spl_kmem_cache_free(spl_kmem_cache* skc, void* obj) noexcept {
  auto* cache = reinterpret_cast<ObjectCache*>(skc);
  if (kstd::unlikely(obj == nullptr)) return;  // as kfree(NULL)
  if (kstd::likely(cache != nullptr && cache->plain())) return cache->free_plain(obj);
  if (kstd::likely(cache != nullptr && cache->passthrough())) return cache->free_passthrough(obj);
  free_general(skc, obj);
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
