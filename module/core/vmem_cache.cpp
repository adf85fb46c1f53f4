// SPDX-License-Identifier: GPL-2.0
//
// VmemCache: creation, the allocation and free slow paths of a KMC_KVMEM
// cache.  The fast paths are in vmem_cache.hpp, the layers under them in
// cpu_layer.hpp, depot.hpp and slab_store.hpp.
#include "vmem_cache.hpp"

#include "test_hooks.hpp"

namespace splkmem {
namespace {

// Most bytes one magazine holds once resized (the start is SPL's size).
constexpr uint64_t kMagMaxBytes = 4ULL << 20;

}  // namespace

ObjectCache* VmemCache::make(void* mem, const CacheParams& p, const CreateSettings& s) {
  auto* cache = new (mem) VmemCache();
  const uint64_t max_bytes = static_cast<uint64_t>(s.max_size_mb) << 20;
  uint64_t laid_out = p.size;
  SlabLayout layout;
  if ((s.debug && !DebugCheck::layout_size(p.size, &laid_out)) ||
      !SlabLayout::compute(laid_out, s.align, sizeof(Slab), kPageSize, s.obj_per_slab, max_bytes,
                           &layout)) {
    splk_log(0,
             "splkmem: cache '%s': object size %zu does not fit a slab of spl_kmem_cache_max_size "
             "%u MB",
             p.name, p.size, s.max_size_mb);
    return nullptr;
  }
  // Magazines are sized by SPL's rule on SPL's object size (the object
  // with its tag, aligned) whichever way the tags are laid out: header
  // tags shrink the slabs, not the per-CPU caching.
  uint64_t spl_stride = layout.stride;
  SlabLayout::stride_for(laid_out, s.align, &spl_stride);  // compute() checked it
  const uint32_t mag_size = Magazine::size_for(spl_stride, kPageSize, s.magazine_size);
  const auto mag_max =
      static_cast<uint32_t>(kstd::min<uint64_t>(Magazine::kMaxSize, kMagMaxBytes / spl_stride));
  if (!cache->init_common(p, s, mag_size, mag_max)) return nullptr;
  if (!cache->store_.init(cache->name_, &cache->flags_, p.size, layout)) {
    cache->destroy_magazines();
    cache->store_.destroy();
    return nullptr;
  }
  cache->tags_ = cache->store_.tags();
  const bool no_callbacks = p.ctor == nullptr && p.dtor == nullptr;
  cache->debug_mode_ = false;
  cache->magic_ = !no_callbacks ? kMagic : layout.header_tags ? kHeaderMagic : kPlainMagic;
  if (s.debug) {
    // The general paths only: the plain ones do no debug work.
    cache->debug_.init(cache->name_, p.size);
    cache->store_.set_debug(&cache->debug_);
    cache->debug_mode_ = true;
    cache->magic_ = kMagic;
  }
  return cache;
}

uint64_t VmemCache::outstanding() {
  store_.reclaim(~0ULL);
  const uint64_t live = store_.live();
  if (store_.has_emergency())
    splk_log(0, "splkmem: cache '%s': emergency objects still allocated at destroy", name_);
  return live;
}

void VmemCache::release_leaked() {
  store_.release_all();
  magic_ = 0;
  splk_kfree(this);
}

// ---- Allocation ---------------------------------------------------------

void* VmemCache::alloc(int km_flags) {
  void* obj;
  if (kstd::unlikely(!cpus_.pop(&obj))) return alloc_slow(km_flags);
  *store_.slots().slot_of_free(obj) &= ~SlabTagKey::kFreeBit;
  return ctor_ != nullptr ? construct(obj, km_flags) : obj;
}

void* VmemCache::alloc_after_bad_words(void* obj) {
  *store_.slots().slot_after_bad_words(obj) &= ~SlabTagKey::kFreeBit;
  return obj;
}

// The loaded magazine was empty: the previous one, the depot, then the
// slabs, which may have to grow (which may sleep, so the CPU may differ
// afterwards).
void* VmemCache::alloc_slow(int km_flags) {
  void* obj = alloc_from_layers(km_flags);
  if (obj == nullptr || ctor_ == nullptr) return obj;
  return construct(obj, km_flags);
}

void* VmemCache::alloc_from_layers(int km_flags) {
  cpu::IrqSave irq;
  for (;;) {
    Magazine* mag = cpus_.reload_for_alloc(depot_);
    if (kstd::likely(!mag->empty())) {
      void* obj = mag->objs[--mag->avail];
      irq.release();
      *store_.slots().slot_of_free(obj) &= ~SlabTagKey::kFreeBit;
      return obj;
    }
    if (store_.take_into(mag, mag->refill, km_flags) != 0) continue;
    irq.release();
    void* emergency = nullptr;
    switch (
        store_.grow(km_flags, Magazine::refill_for(kstd::load_relaxed(mag_size_)), &emergency)) {
      case SlabStore::Refill::kRetry:
        irq.acquire();
        continue;
      case SlabStore::Refill::kEmergency:
        return emergency;  // no tag: it is not in a slab
      case SlabStore::Refill::kFailed:
        return nullptr;
    }
  }
}

// ---- Free ---------------------------------------------------------------

void VmemCache::free(void* obj) {
  if (store_.header_tags()) return free_header(obj);
  if (dtor_ == nullptr) return free_plain(obj);
  if (obj == nullptr) return;  // as kfree(NULL): no destructor
  uintptr_t tag;
  if (!fast_tag(obj, &tag)) return free_slow(obj);
  dtor_(obj, priv_);
  release(obj, Slab::tag_of(obj), tag);
}

// Header tags: the inline path of header_plain() caches where it applies
// (it writes the free object's words, which a debug cache fills instead).
void VmemCache::free_header(void* obj) {
  if (dtor_ == nullptr && !debug()) return free_header_plain(obj);
  free_slow(obj);
}

// Validates a pointer handed to free() and returns its tag's slot and
// value.  Only arithmetic and the index are trusted before the tag is
// read: see slab.hpp.
bool VmemCache::check_tag(void* obj, uintptr_t** slot, uintptr_t* tag) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  if (store_.header_tags()) {
    // The index holds the start of every object of a live slab, nothing
    // else: what it does not know is not read.  A slab may leave it
    // meanwhile (reclaim): its memory stays a grace period (free_slab()),
    // and an allocated tag read here pins it; a free one ends the look.
    RcuReadGuard rcu;
    *slot = store_.slots().slot_of_pointer(obj);
    if (*slot == nullptr) {
      reject_free(obj, "not an object of this cache");
      return false;
    }
    hook_race_window();
    *tag = **slot;
  } else if ((addr & (kPageSize - 1)) < sizeof(uintptr_t)) {
    // The tag is the word before the object.  When that word starts on an
    // earlier page it may not be mapped (a foreign pointer at the start of
    // a vmalloc area), so it is read without faulting.
    *slot = Slab::tag_of(obj);
    if (!splk_read_word_nofault(*slot, tag)) {
      reject_free(obj, "not an object of this cache");
      return false;
    }
  } else {
    *slot = Slab::tag_of(obj);
    *tag = **slot;
  }
  if (tags_.allocated(*tag, addr, kPageSize)) return true;
  if (tags_.allocated(*tag & ~SlabTagKey::kFreeBit, addr, kPageSize))
    reject_free(obj, "already free (double free)");
  else
    reject_free(obj, "not an object of this cache");
  return false;
}

// Everything the inline free does not handle: emergency objects, tags on
// the previous page or in the slab header, and every rejected pointer.
void VmemCache::free_slow(void* obj) {
  if (obj == nullptr) return;  // as kfree(NULL): the inline check let it by
  // Slab objects live in vmalloc space, emergency objects never do.
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  if (addr - splk_kernel.vmalloc_start >= splk_kernel.vmalloc_size) {
    if (!store_.has_emergency() || !store_.emergency_free(obj, dtor_, priv_))
      reject_free(obj, "not an object of this cache");
    return;
  }
  uintptr_t* slot;
  uintptr_t tag;
  if (!check_tag(obj, &slot, &tag)) return;
  if (dtor_ != nullptr) dtor_(obj, priv_);
  if (store_.header_tags()) {
    {
      // The object is allocated: its slab is not being freed.
      cpu::IrqSave irq;
      store_.slots().set_hint(cpus_.loaded()->cpu, tags_.slab_of(tag));
    }
    return release_header(obj, slot, tag);
  }
  release(obj, slot, tag);
}

// ---- Batches ------------------------------------------------------------

// The loaded magazine's rounds in one irq-off section, then the slow path
// for one object, which loads a full magazine (from the depot, or filled
// from the slabs, growing them if it must), and again.  Only KM_NOSLEEP
// can end it early.
size_t VmemCache::alloc_batch(int km_flags, void** objs, size_t n) {
  return pop_all(
      km_flags, objs, n,
      [this](void* obj) { *store_.slots().slot_of_free(obj) &= ~SlabTagKey::kFreeBit; },
      [this](int flags) { return alloc_slow(flags); });
}

// Each object is checked as a single free checks it; what the inline
// check cannot decide (emergency objects, rejected pointers) takes the
// single slow path.  Tags before the objects: the accepted ones are
// marked free, staged, and pushed a magazine's worth per irq-off section.
// Header tags: the slot is found through the CPU's hint, which is only
// safe to read with interrupts off, so each object takes the inline
// single free.
void VmemCache::free_batch(void* const* objs, size_t n) {
  if (store_.header_tags()) {
    for (size_t i = 0; i < n; ++i) free_header_plain(objs[i]);
    return;
  }
  push_checked(
      objs, n,
      [this](void* obj) {
        uintptr_t tag;
        if (!fast_tag(obj, &tag)) return false;
        *Slab::tag_of(obj) = tag | SlabTagKey::kFreeBit;
        return true;
      },
      [this](void* obj) { free_slow(obj); });
}

// ---- The debug mode (debug_check.hpp) -----------------------------------

void* VmemCache::alloc_debug(int km_flags, void* site) {
  // SPL asserts this in its debug builds; production ignores the other
  // bits (KM_ZERO among them) on every path, as SPL does.
  if (km_flags & ~KM_PUBLIC_MASK)
    splk_warn(
        "cache '%s': allocation flags 0x%x: 0x%x are not KM_SLEEP, KM_NOSLEEP or "
        "KM_PUSHPAGE, ignored (from %pS)",
        name_, km_flags, km_flags & ~KM_PUBLIC_MASK, site);
  void* obj = alloc_from_layers(km_flags);
  if (obj == nullptr) return nullptr;
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  if (addr - splk_kernel.vmalloc_start < splk_kernel.vmalloc_size) debug_.on_alloc(obj, site);
  return ctor_ != nullptr ? construct(obj, km_flags) : obj;
}

// Every tag is read without faulting (a slab reaped since leaves no page
// to read), and the allocated bit is claimed with one compare-and-exchange,
// so of two frees of one object exactly one takes it.
void VmemCache::free_debug(void* obj, void* site) {
  if (obj == nullptr) return;  // as kfree(NULL)
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  if (addr - splk_kernel.vmalloc_start >= splk_kernel.vmalloc_size) return free_slow(obj);
  uintptr_t* slot;
  uintptr_t tag;
  if (store_.header_tags()) {
    // Slots of live slabs only: a reaped slab left the index first, and
    // one leaving it now stays a grace period (check_tag()).
    RcuReadGuard rcu;
    slot = store_.slots().slot_of_pointer(obj);
    if (slot == nullptr)
      return reject_free(obj, "not an object of this cache (or its slab was reaped since)");
    hook_race_window();
    tag = kstd::load_relaxed(*slot);
  } else if (slot = Slab::tag_of(obj); !splk_read_word_nofault(slot, &tag)) {
    return reject_free(obj, "not an object of this cache (no page there: a slab reaped since?)");
  }
  const uintptr_t allocated = tag & ~uintptr_t{SlabTagKey::kFreeBit};
  if (!tags_.allocated(allocated, addr, kPageSize) || !store_.owns_slab(tags_.slab_of(allocated)))
    return reject_free(obj, "not an object of this cache (or its slab was reaped since)");
  if (allocated != tag)
    return debug_.report(obj, "freed twice (already free)", DebugCheck::kNoOffset, site);
  if (!__atomic_compare_exchange_n(slot, &tag, tag | SlabTagKey::kFreeBit, false, __ATOMIC_ACQ_REL,
                                   __ATOMIC_RELAXED))
    return debug_.report(obj, "freed twice (by two CPUs at once)", DebugCheck::kNoOffset, site);
  debug_.check_red_zone(obj, site);
  if (dtor_ != nullptr) dtor_(obj, priv_);
  debug_.on_free(obj, site);
  if (!cpus_.push(obj)) push_slow(obj);
}

// ---- Invariants ---------------------------------------------------------

bool VmemCache::is_free_object(const void* cache, void* obj) {
  const auto* self = static_cast<const VmemCache*>(cache);
  const TagSlots& slots = self->store_.slots();
  const uintptr_t* slot = slots.header_tags() ? slots.slot_of_pointer(obj) : Slab::tag_of(obj);
  return slot != nullptr && (*slot & SlabTagKey::kFreeBit) != 0 &&
         self->tags_.allocated(*slot & ~SlabTagKey::kFreeBit, reinterpret_cast<uintptr_t>(obj),
                               kPageSize) &&
         slots.words_agree(obj, slot);
}

const char* VmemCache::check_layer() {
  if (const char* why = cpus_.check(&VmemCache::is_free_object, this)) return why;
  return store_.check_invariants();
}

// ---- The kind's layer (ObjectCache's virtual functions) -----------------

void VmemCache::set_alloc_gfp(unsigned gfp) { store_.set_extra_gfp(gfp); }

uint64_t VmemCache::inuse() { return store_.obj_total(); }

ObjectSink VmemCache::sink() { return ObjectSink{&VmemCache::give_back, this}; }

void VmemCache::reclaim(uint64_t cutoff) { store_.reclaim(cutoff); }

uint64_t VmemCache::reclaimable() { return store_.objs_on_empty_slabs(); }

void VmemCache::quiesce() { store_.wait_for_grows(); }

void VmemCache::destroy_layer() { store_.destroy(); }

void VmemCache::layer_stats(splk_cache_stats* out) { store_.stats(out); }

void VmemCache::reap_done() { store_.wake_waiters(); }

void VmemCache::give_back(void* cache, void** objs, uint32_t n, bool aged) {
  static_cast<VmemCache*>(cache)->store_.give_back(objs, n, aged);
}

}  // namespace splkmem
