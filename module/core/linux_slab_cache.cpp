// SPDX-License-Identifier: GPL-2.0
//
// LinuxSlabCache: creation and the paths of a KMC_SLAB cache.  The design
// is in linux_slab_cache.hpp, the Linux side in passthrough.hpp.
#include "linux_slab_cache.hpp"

namespace splkmem {

ObjectCache* LinuxSlabCache::make(void* mem, const CacheParams& p, const CreateSettings& s) {
  auto* cache = new (mem) LinuxSlabCache();
  if (p.size > s.slab_limit) {
    splk_log(0,
             "splkmem: cache '%s': KMC_SLAB object size %zu exceeds spl_kmem_cache_slab_limit %u",
             p.name, p.size, s.slab_limit);
    return nullptr;
  }
  Passthrough& pt = cache->passthrough_;
  if (!pt.init(p.name, p.size, s.align, s.flags & KMC_RECLAIMABLE)) {
    splk_log(0, "splkmem: cache '%s': kmem_cache_create failed", p.name);
    return nullptr;
  }
  // SPL's magazine sizes, capped at kMagBytes a magazine: these objects
  // are held away from SLUB until the working set or a reap returns them.
  const uint64_t stride = pt.stride(p.size);
  const auto cap = static_cast<uint32_t>(kstd::max<uint64_t>(8, kMagBytes / stride));
  const uint32_t mag_size = kstd::min(Magazine::size_for(stride, kPageSize, s.magazine_size), cap);
  const uint32_t mag_max = kstd::min<uint32_t>(Magazine::kMaxSize, cap * 2);
  if (!cache->init_common(p, s, mag_size, mag_max)) {
    pt.destroy();
    return nullptr;
  }
  cache->construct_ = 0;
  if (p.ctor != nullptr) cache->construct_ |= kConstructCtor;
  if (p.ctor == nullptr && splk_kernel.init_on_alloc) cache->construct_ |= kConstructZero;
  cache->magic_ = pt.tagged()                              ? kTaggedSlabMagic
                  : p.ctor == nullptr && p.dtor == nullptr ? kDirectMagic
                                                           : kMagic;
  return cache;
}

// Module unload, for a cache destroyed with objects out.  SLUB refuses to
// destroy a Linux cache with live objects (and WARNs): that cache stays
// for good, as any leaked kmem_cache does, but what is ours (the counter,
// the slot) goes.
void LinuxSlabCache::release_leaked() {
  splk_log(1, "splkmem: cache '%s': Linux slab cache with leaked objects left in place", name_);
  passthrough_.abandon();
  magic_ = 0;
  splk_kfree(this);
}

// ---- Tagged: magazines in front of SLUB ---------------------------------

void* LinuxSlabCache::alloc_tagged(int km_flags) {
  void* obj;
  if (kstd::unlikely(!cpus_.pop(&obj))) return alloc_tagged_slow(km_flags);
  if (construct_ != 0) return construct_tagged(obj, km_flags);
  passthrough_.mark_allocated(obj);
  return obj;
}

// The loaded magazine was empty: the previous one or the depot, else a
// batch from SLUB with interrupts on (KM_SLEEP may sleep there), one
// object for the caller, the rest into whatever magazine this CPU has by
// then, any excess straight back.  KM_SLEEP never fails, so it retries;
// KM_NOSLEEP fails.
void* LinuxSlabCache::alloc_tagged_slow(int km_flags) {
  void* obj = nullptr;
  {
    cpu::IrqSave irq;
    Magazine* mag = cpus_.reload_for_alloc(depot_);
    if (!mag->empty()) obj = mag->objs[--mag->avail];
  }
  if (obj == nullptr) {
    void* batch[kBatch] SPLK_UNINITIALIZED;
    const unsigned want =
        kstd::min<unsigned>(Magazine::refill_for(kstd::load_relaxed(mag_size_)), kBatch);
    unsigned got;
    while ((got = passthrough_.alloc_free_objects(km_flags, want, batch)) == 0) {
      if (km_flags & KM_NOSLEEP) return nullptr;
      splk_cond_resched();
    }
    obj = batch[--got];
    unsigned kept = 0;
    {
      cpu::IrqSave irq;
      Magazine* mag = cpus_.loaded();
      while (kept < got && !mag->full()) mag->objs[mag->avail++] = batch[kept++];
    }
    if (kept < got) passthrough_.release_free_objects(got - kept, batch + kept);
  }
  if (construct_ != 0) return construct_tagged(obj, km_flags);
  passthrough_.mark_allocated(obj);
  return obj;
}

// A free object goes to the caller by the kernel's init_on_alloc rule:
// zeroed unless there is a constructor (or SLUB zeroed it and nobody has
// used it since), constructed if there is one.
void* LinuxSlabCache::construct_tagged(void* obj, int km_flags) {
  const bool clean = passthrough_.clean(obj);
  passthrough_.mark_allocated(obj);
  if (ctor_ == nullptr) {
    if (!clean) __builtin_memset(obj, 0, obj_size_);
    return obj;
  }
  return construct(obj, km_flags);
}

// Without a destructor: checked, then a push onto this CPU's magazine.
void LinuxSlabCache::free_tagged(void* obj) {
  if (dtor_ != nullptr || kstd::unlikely(!passthrough_.owns(obj))) return free_tagged_slow(obj);
  push_tagged(obj);
}

// With a destructor, or one the inline check refused.
void LinuxSlabCache::free_tagged_slow(void* obj) {
  if (obj == nullptr) return;  // as kfree(NULL)
  if (!passthrough_.owns(obj))
    if (const char* why = passthrough_.owns_slow(obj)) return reject_free(obj, why);
  if (dtor_ != nullptr) dtor_(obj, priv_);
  push_tagged(obj);
}

void LinuxSlabCache::push_tagged(void* obj) {
  passthrough_.mark_free(obj);
  if (kstd::unlikely(!cpus_.push(obj))) push_slow(obj);
}

// Batches: what a single call does to each object, with the magazine
// moves of a whole batch in one irq-off section each (CpuLayer::pop_many,
// push_many); what the magazines cannot give or take goes the single slow
// way.
size_t LinuxSlabCache::alloc_batch_tagged(int km_flags, void** objs, size_t n) {
  return pop_all(
      km_flags, objs, n,
      [this, km_flags](void* obj) {
        if (construct_ != 0)
          construct_tagged(obj, km_flags);
        else
          passthrough_.mark_allocated(obj);
      },
      [this](int flags) { return alloc_tagged_slow(flags); });
}

void LinuxSlabCache::free_batch_tagged(void* const* objs, size_t n) {
  push_checked(
      objs, n,
      [this](void* obj) {
        if (dtor_ != nullptr || !passthrough_.owns(obj)) return false;
        passthrough_.mark_free(obj);
        return true;
      },
      [this](void* obj) { free_tagged_slow(obj); });  // a destructor, NULL, or a refusal
}

// ---- Untagged: SLUB on every call ---------------------------------------

void* LinuxSlabCache::alloc_direct_plain(int km_flags) {
  void* obj = passthrough_.alloc_raw(km_flags);
  if (kstd::unlikely(obj == nullptr)) return alloc_direct_slow(km_flags, obj);
  passthrough_.count_alloc();
  return obj;
}

void* LinuxSlabCache::alloc_direct(int km_flags) {
  return alloc_direct_slow(km_flags, passthrough_.alloc_raw(km_flags));
}

// SLUB had no object (KM_SLEEP never fails, so it retries; KM_NOSLEEP
// fails); then the count and the constructor.
void* LinuxSlabCache::alloc_direct_slow(int km_flags, void* obj) {
  while (obj == nullptr) {
    if (km_flags & KM_NOSLEEP) return nullptr;
    splk_cond_resched();
    obj = passthrough_.alloc_raw(km_flags);
  }
  passthrough_.count_alloc();
  return ctor_ != nullptr ? construct(obj, km_flags) : obj;
}

void LinuxSlabCache::free_direct_plain(void* obj) {
  if (kstd::unlikely(!passthrough_.may_own(obj))) return free_direct(obj);
  passthrough_.count_free();
  passthrough_.free_raw(obj);
}

void LinuxSlabCache::free_direct(void* obj) {
  if (obj == nullptr) return;  // as kfree(NULL)
  if (!passthrough_.may_own(obj)) return reject_free(obj, "not an object of this cache");
  if (dtor_ != nullptr) dtor_(obj, priv_);
  passthrough_.count_free();
  passthrough_.free_raw(obj);
}

// SLUB's bulk call fills the caller's array, up to kBulkMax objects a
// call (SLUB keeps interrupts off for a whole call); its cost per call is
// then spread as in a caller's own bulk call (chunks of 32 cost +7 an
// object at n = 128).  What it did not give comes one object at a time
// (KM_SLEEP retries until it has it; KM_NOSLEEP ends the batch).
size_t LinuxSlabCache::alloc_batch_direct(int km_flags, void** objs, size_t n) {
  size_t got = 0;
  while (got < n) {
    const auto want = static_cast<unsigned>(kstd::min<size_t>(n - got, kBulkMax));
    const unsigned bulk = passthrough_.alloc_raw_bulk(km_flags, want, objs + got);
    passthrough_.count(bulk);
    got += bulk;
    if (bulk == want) continue;
    void* obj = alloc_direct(km_flags);
    if (obj == nullptr) break;
    objs[got++] = obj;
  }
  return got;
}

// Each pointer is checked as a single free checks it; the accepted ones
// go to SLUB's bulk free from a copy (it overwrites the array it gets).
void LinuxSlabCache::free_batch_direct(void* const* objs, size_t n) {
  void* staged[kBatch] SPLK_UNINITIALIZED;
  size_t i = 0;
  while (i < n) {
    unsigned k = 0;
    for (; i < n && k < kBatch; ++i) {
      if (kstd::likely(passthrough_.may_own(objs[i])))
        staged[k++] = objs[i];
      else
        free_direct(objs[i]);  // NULL, or a pointer that is not ours: reported
    }
    if (k == 0) continue;
    passthrough_.count(-static_cast<long>(k));
    passthrough_.free_raw_bulk(k, staged);
  }
}

// ---- Either way ---------------------------------------------------------

void* LinuxSlabCache::alloc(int km_flags) {
  return passthrough_.tagged() ? alloc_tagged(km_flags) : alloc_direct(km_flags);
}

void LinuxSlabCache::free(void* obj) {
  return passthrough_.tagged() ? free_tagged(obj) : free_direct(obj);
}

bool LinuxSlabCache::is_free_object(const void* cache, void* obj) {
  return static_cast<const LinuxSlabCache*>(cache)->passthrough_.is_free(obj);
}

const char* LinuxSlabCache::check_layer() {
  return cpus_.check(&LinuxSlabCache::is_free_object, this);
}

// ---- The kind's layer (ObjectCache's virtual functions) -----------------

void LinuxSlabCache::set_alloc_gfp(unsigned gfp) { passthrough_.set_gfp(gfp); }

// A sum of per-CPU counters read while other CPUs count: an object
// allocated on one CPU and freed on another may be seen freed and not yet
// allocated, so the sum can be negative for a moment.  Clamped, never
// wrapped to about 2^64 (ZFS compares it against its memory limit).
uint64_t LinuxSlabCache::inuse() {
  const int64_t live = passthrough_.live();
  return live > 0 ? static_cast<uint64_t>(live) : 0;
}

ObjectSink LinuxSlabCache::sink() { return ObjectSink{&LinuxSlabCache::give_back, this}; }

// SLUB reclaims its own slabs.
void LinuxSlabCache::reclaim(uint64_t) {}

uint64_t LinuxSlabCache::reclaimable() { return 0; }

void LinuxSlabCache::quiesce() {}

uint64_t LinuxSlabCache::outstanding() { return inuse(); }

void LinuxSlabCache::destroy_layer() { passthrough_.destroy(); }

void LinuxSlabCache::layer_stats(splk_cache_stats* out) { out->linux_alloc = inuse(); }

void LinuxSlabCache::give_back(void* cache, void** objs, uint32_t n, bool) {
  static_cast<LinuxSlabCache*>(cache)->passthrough_.release_free_objects(n, objs);
}

}  // namespace splkmem
