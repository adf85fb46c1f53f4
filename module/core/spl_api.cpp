// SPDX-License-Identifier: GPL-2.0
//
// The exported SPL object-cache API (sys/kmem_cache.h): extern "C" entry
// points with SPL's names and signatures over ObjectCache.  The C glue
// exports them.
//
// Handles after destroy.  What is guaranteed, and what is not:
//
// - ObjectCache memory is type-stable while splkmem is loaded: memory that
//   once held a cache holds a cache (live or dead) until module unload.  A
//   destroyed cache's slot is never given back to kmalloc; it waits in a
//   FIFO and is reused for a new cache only after kQuarantineSlots (64)
//   later destroys (cache_registry.cpp).  A cache destroyed with objects
//   still allocated is never reused (graveyard, until unload).
// - destroy, reap_now, set_move and set_allocflags look the handle up in
//   the registry of live caches, under the registry lock, before touching
//   the cache.  A handle destroyed before (or being destroyed by another
//   thread) gets one WARN and nothing else: two destroys of one handle,
//   even at once, tear it down exactly once.  These calls may sleep.
// - alloc, free, inuse and entry_size only check the cache's magic (the hot
//   path has no room for a lookup; inuse and entry_size do not sleep).  A
//   handle whose slot is dead reads our own memory, finds the magic cleared
//   and gets one WARN: no use-after-free, nothing allocated or freed.
//
// Not guaranteed:
// - Once the slot of a destroyed cache has been reused (after 64 more
//   destroys), a stale handle names the new cache, and every call through
//   it acts on that cache (the registry lookup finds it live): a free
//   through it gets that cache's checks of a foreign pointer, with the
//   known gaps the README lists (an object of a reaped or destroyed
//   vmalloc slab is read, not refused).
// - A call through a handle racing with its own destroy: the slow paths
//   above are serialised by the registry lock, but an alloc or free that
//   passed the magic check before destroy began may use the magazines and
//   slabs destroy frees.  That is a caller bug, as in SPL.
// - A pointer that never was a cache handle (other than NULL) is read as
//   one by the magic check.
#include "cache_factory.hpp"
#include "cache_registry.hpp"
#include "linux_slab_cache.hpp"
#include "vmem_cache.hpp"

// struct spl_kmem_cache (seam.h) is never defined: consumers hold an
// opaque pointer, which is an ObjectCache.

using splkmem::LinuxSlabCache;
using splkmem::ObjectCache;
using splkmem::VmemCache;

namespace {

ObjectCache* as_cache(spl_kmem_cache* skc) { return reinterpret_cast<ObjectCache*>(skc); }

[[gnu::cold, gnu::noinline]] void warn_dead(spl_kmem_cache* skc, const char* fn) {
  splk_warn("%s: %p is not a live cache", fn, static_cast<void*>(skc));
}

[[gnu::always_inline]] inline bool live(const ObjectCache* cache) {
  return kstd::likely(cache != nullptr && cache->valid());
}

// The hot paths: the magic check only (type-stable memory makes it safe).
ObjectCache* checked(spl_kmem_cache* skc, const char* fn) {
  ObjectCache* cache = as_cache(skc);
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

// Every cache but a plain or KMC_SLAB one (a constructor or destructor,
// or a dead handle): out of line, so that the fast paths stay free of its
// registers.
[[gnu::noinline]] void* alloc_general(spl_kmem_cache* skc, int flags) {
  ObjectCache* cache = as_cache(skc);
  if (!live(cache)) return refuse_alloc(skc);
  // Both kinds are final: these are direct calls, not virtual ones.  A
  // tail call brought us here, so our return address is the caller's.
  if (cache->slab_kind()) return static_cast<LinuxSlabCache*>(cache)->alloc(flags);
  auto* vmem = static_cast<VmemCache*>(cache);
  if (kstd::unlikely(vmem->debug())) return vmem->alloc_debug(flags, __builtin_return_address(0));
  return vmem->alloc(flags);
}

[[gnu::noinline]] void free_general(spl_kmem_cache* skc, void* obj) {
  if (obj == nullptr) return;  // as kfree(NULL), whatever the handle
  ObjectCache* cache = as_cache(skc);
  if (!live(cache)) return refuse_free(skc);
  if (cache->slab_kind()) return static_cast<LinuxSlabCache*>(cache)->free(obj);
  auto* vmem = static_cast<VmemCache*>(cache);
  if (kstd::unlikely(vmem->debug())) return vmem->free_debug(obj, __builtin_return_address(0));
  vmem->free(obj);
}

// Page-aligned caches of page-multiple objects (tags in the slab header),
// neither constructor nor destructor: their own inline paths, kept out of
// the exported functions (a tail call away) so that the registers they
// need are not saved on every other cache's fast path.
[[gnu::noinline, gnu::no_instrument_function]] void* alloc_header(VmemCache* cache, int flags) {
  return cache->alloc_header_plain(flags);
}

[[gnu::noinline, gnu::no_instrument_function]] void free_header(VmemCache* cache, void* obj) {
  cache->free_header_plain(obj);
}

// The rare paths: body(cache) runs under the registry read lock if the
// handle is a live cache, so a concurrent destroy of it waits.
template <typename Body>
void with_live_cache(spl_kmem_cache* skc, const char* fn, Body body) {
  splkmem::RegistryReadGuard guard;
  ObjectCache* cache = as_cache(skc);
  if (cache == nullptr || !splkmem::registry_contains(cache)) {
    warn_dead(skc, fn);
    return;
  }
  body(cache);
}

}  // namespace

extern "C" spl_kmem_cache* spl_kmem_cache_create(const char* name, size_t size, size_t align,
                                                 int (*ctor)(void*, void*, int),
                                                 void (*dtor)(void*, void*), void* reclaim,
                                                 void* priv, void* vmp, int flags) noexcept {
  if (reclaim != nullptr || vmp != nullptr)
    splk_log(1, "splkmem: cache '%s': reclaim and vmp arguments are not supported, ignored",
             name != nullptr ? name : "(null)");
  ObjectCache* cache = splkmem::cache_create({name, size, align, ctor, dtor, priv, flags});
  return reinterpret_cast<spl_kmem_cache*>(cache);
}

extern "C" void spl_kmem_cache_destroy(spl_kmem_cache* skc) noexcept {
  splk_might_sleep();
  ObjectCache* cache = as_cache(skc);
  // Unlinking is the check: of two destroys of one handle, one unlinks it.
  if (cache == nullptr || !splkmem::registry_remove(cache)) {
    warn_dead(skc, __func__);
    return;
  }
  splkmem::cache_destroy(cache);
}

// The fast paths: one test for "a live plain cache", then ObjectCache's
// inline magazine pop or push, whose misses are tail calls.
extern "C" void* spl_kmem_cache_alloc(spl_kmem_cache* skc, int flags) noexcept {
  auto* cache = reinterpret_cast<ObjectCache*>(skc);
  if (kstd::likely(cache != nullptr && cache->plain()))
    return static_cast<VmemCache*>(cache)->alloc_plain(flags);
  if (kstd::likely(cache != nullptr && cache->tagged_slab()))
    return static_cast<LinuxSlabCache*>(cache)->alloc_tagged(flags);
  if (kstd::likely(cache != nullptr && cache->direct()))
    return static_cast<LinuxSlabCache*>(cache)->alloc_direct_plain(flags);
  if (kstd::likely(cache != nullptr && cache->header_plain()))
    return alloc_header(static_cast<VmemCache*>(cache), flags);
  return alloc_general(skc, flags);
}

extern "C" void spl_kmem_cache_free(spl_kmem_cache* skc, void* obj) noexcept {
  auto* cache = reinterpret_cast<ObjectCache*>(skc);
  // free(NULL) is a no-op, as kfree(NULL): each path below finds NULL
  // refused by its inline check and returns on its slow path, so the
  // common case pays no test for it.
  if (kstd::likely(cache != nullptr && cache->plain()))
    return static_cast<VmemCache*>(cache)->free_plain(obj);
  if (kstd::likely(cache != nullptr && cache->tagged_slab()))
    return static_cast<LinuxSlabCache*>(cache)->free_tagged(obj);
  if (kstd::likely(cache != nullptr && cache->direct()))
    return static_cast<LinuxSlabCache*>(cache)->free_direct_plain(obj);
  if (kstd::likely(cache != nullptr && cache->header_plain()))
    return free_header(static_cast<VmemCache*>(cache), obj);
  free_general(skc, obj);
}

// Batches (our extension, XNU's skmem_cache_batch_alloc/free): the kinds
// with a batch path of their own move objects a magazine's (or a SLUB
// bulk call's) worth at a time, doing to each object what a single call
// does (tagged KMC_SLAB caches construct and destruct there too); every
// other cache (vmalloc caches with constructors or destructors, the debug
// mode) takes one single call per object, so that each behaves exactly as
// a single call.
extern "C" size_t spl_kmem_cache_alloc_batch(spl_kmem_cache* skc, int flags, void** objs,
                                             size_t n) noexcept {
  ObjectCache* cache = as_cache(skc);
  if (!live(cache)) {
    warn_dead(skc, __func__);
    return 0;
  }
  if (n != 0 && objs == nullptr) {
    splk_warn("spl_kmem_cache_alloc_batch: cache '%s': %zu objects into a NULL array",
              cache->name(), n);
    return 0;
  }
  if (cache->plain() || cache->header_plain())
    return static_cast<VmemCache*>(cache)->alloc_batch(flags, objs, n);
  if (cache->direct())
    return static_cast<LinuxSlabCache*>(cache)->alloc_batch_direct(flags, objs, n);
  if (cache->tagged_slab())
    return static_cast<LinuxSlabCache*>(cache)->alloc_batch_tagged(flags, objs, n);
  size_t got = 0;
  while (got < n && (objs[got] = spl_kmem_cache_alloc(skc, flags)) != nullptr) ++got;
  return got;
}

extern "C" void spl_kmem_cache_free_batch(spl_kmem_cache* skc, void** objs, size_t n) noexcept {
  ObjectCache* cache = as_cache(skc);
  if (!live(cache)) return warn_dead(skc, __func__);
  if (n != 0 && objs == nullptr)
    return splk_warn("spl_kmem_cache_free_batch: cache '%s': %zu objects from a NULL array",
                     cache->name(), n);
  if (cache->plain() || cache->header_plain())
    return static_cast<VmemCache*>(cache)->free_batch(objs, n);
  if (cache->direct()) return static_cast<LinuxSlabCache*>(cache)->free_batch_direct(objs, n);
  if (cache->tagged_slab()) return static_cast<LinuxSlabCache*>(cache)->free_batch_tagged(objs, n);
  for (size_t i = 0; i < n; ++i) spl_kmem_cache_free(skc, objs[i]);
}

extern "C" void spl_kmem_cache_reap_now(spl_kmem_cache* skc) noexcept {
  with_live_cache(skc, __func__, [](ObjectCache* cache) { cache->reap_now(); });
}

extern "C" int spl_kmem_cache_reap_active(void) noexcept { return 0; }

extern "C" void spl_kmem_cache_set_move(spl_kmem_cache* skc,
                                        kmem_cbrc_t (*move)(void*, void*, size_t, void*)) noexcept {
  with_live_cache(skc, __func__, [move](ObjectCache* cache) {
    cache->set_move(reinterpret_cast<splkmem::MoveCallback>(move));
  });
}

extern "C" void spl_kmem_cache_set_allocflags(spl_kmem_cache* skc, unsigned int gfp) noexcept {
  with_live_cache(skc, __func__, [gfp](ObjectCache* cache) {
    if (const unsigned unusable = splk_gfp_unusable(gfp))
      splk_log(1,
               "splkmem: cache '%s': spl_kmem_cache_set_allocflags(0x%x): bits 0x%x (zone "
               "modifiers, __GFP_NOFAIL, __GFP_COMP) are never used",
               cache->name(), gfp, unusable);
    cache->set_alloc_gfp(gfp);
  });
}

extern "C" uint64_t spl_kmem_cache_inuse(spl_kmem_cache* skc) noexcept {
  ObjectCache* cache = checked(skc, __func__);
  return cache != nullptr ? cache->inuse() : 0;
}

extern "C" uint64_t spl_kmem_cache_entry_size(spl_kmem_cache* skc) noexcept {
  ObjectCache* cache = checked(skc, __func__);
  return cache != nullptr ? cache->entry_size() : 0;
}
