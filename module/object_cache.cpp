// SPDX-License-Identifier: GPL-2.0
//
// ObjectCache: creation and validation, the allocation and free paths, slab
// growth and reclaim.  The design and locking rules are in
// object_cache.hpp; the slab layout in slab_layout.hpp and slab.hpp.
#include "object_cache.hpp"

#include "cache_registry.hpp"

namespace splkmem {
namespace {

// Internal state bit beside SPL's KMC_BIT_*: a free emptied a slab where it
// could not sleep, the reclaim worker must free it.
constexpr unsigned kReclaimPendingBit = 30;

constexpr int kCreateFlags = KMC_NODEBUG | KMC_KVMEM | KMC_SLAB | KMC_RECLAIMABLE;

unsigned param(const unsigned& p) { return kstd::load_relaxed(p); }

void raise_max(uint64_t& max, uint64_t value) {
  if (value > max) max = value;
}

}  // namespace

// ---- Creation and destruction -------------------------------------------

ObjectCache* ObjectCache::create(const CacheParams& p) {
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
  if (p.align != 0 && (!kstd::is_power_of_two(p.align) || p.align > splk_kernel.page_size)) {
    splk_log(0, "splkmem: cache '%s': alignment %zu is not a power of two up to %lu", p.name,
             p.align, splk_kernel.page_size);
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

  void* mem = splk_kmalloc_node(sizeof(ObjectCache), KM_SLEEP | KM_ZERO, -1);
  if (mem == nullptr) return nullptr;
  auto* cache = new (mem) ObjectCache();
  if (!cache->init(p)) {
    splk_kfree(mem);
    return nullptr;
  }
  registry_add(cache);
  return cache;
}

bool ObjectCache::init(const CacheParams& p) {
  magic_ = kMagic;
  __builtin_memcpy(name_, p.name, kstd::strnlen(p.name, SPL_KMEM_CACHE_NAME_MAX) + 1);
  flags_ = static_cast<unsigned>(p.flags);
  ctor_ = p.ctor;
  dtor_ = p.dtor;
  priv_ = p.priv;
  obj_size_ = p.size;
  obj_align_ = kstd::max<uint64_t>(p.align, SlabLayout::kMinAlign);
  lock_.init();

  // No type asked for: small objects go to the Linux slab (SPL's rule).
  if (!(flags_ & (KMC_SLAB | KMC_KVMEM))) {
    const unsigned limit = param(spl_kmem_cache_slab_limit);
    flags_ |= (limit != 0 && obj_size_ <= limit) ? KMC_SLAB : KMC_KVMEM;
  }

  if (is_slab_backed()) {
    const unsigned limit = param(spl_kmem_cache_slab_limit);
    if (obj_size_ > limit) {
      splk_log(
          0, "splkmem: cache '%s': KMC_SLAB object size %llu exceeds spl_kmem_cache_slab_limit %u",
          name_, static_cast<unsigned long long>(obj_size_), limit);
      return false;
    }
    if (linux_alloc_.init() != 0) return false;
    linux_cache_ = splk_linux_cache_create(name_, obj_size_, obj_align_, flags_ & KMC_RECLAIMABLE);
    if (linux_cache_ == nullptr) {
      splk_log(0, "splkmem: cache '%s': kmem_cache_create failed", name_);
      linux_alloc_.destroy();
      return false;
    }
    return true;
  }

  const uint64_t max_bytes = static_cast<uint64_t>(param(spl_kmem_cache_max_size)) << 20;
  if (!SlabLayout::compute(obj_size_, obj_align_, sizeof(Slab), splk_kernel.page_size,
                           param(spl_kmem_cache_obj_per_slab), max_bytes, &layout_)) {
    splk_log(0,
             "splkmem: cache '%s': object size %llu does not fit a slab of spl_kmem_cache_max_size "
             "%u MB",
             name_, static_cast<unsigned long long>(obj_size_), param(spl_kmem_cache_max_size));
    return false;
  }
  cookie_ = static_cast<uintptr_t>(splk_random_u64()) & ~Slab::kAllocatedBit;
  mag_size_ = Magazine::size_for(layout_.stride, splk_kernel.page_size,
                                 param(spl_kmem_cache_magazine_size));
  mag_refill_ = (mag_size_ + 1) / 2;
  return init_magazines();
}

bool ObjectCache::init_magazines() {
  const unsigned ncpu = splk_kernel.nr_cpu_ids;
  mags_ =
      static_cast<Magazine**>(splk_kmalloc_node(ncpu * sizeof(Magazine*), KM_SLEEP | KM_ZERO, -1));
  if (mags_ == nullptr) return false;
  for (unsigned cpu = 0; cpu < ncpu; ++cpu) {
    if (!splk_cpu_possible(cpu)) continue;
    auto* mag = static_cast<Magazine*>(
        splk_kmalloc_node(Magazine::bytes_for(mag_size_), KM_SLEEP, splk_cpu_to_node(cpu)));
    if (mag == nullptr) {
      free_magazines();
      return false;
    }
    mag->magic = Magazine::kMagic;
    mag->avail = 0;
    mag->size = mag_size_;
    mag->refill = mag_refill_;
    mag->cpu = cpu;
    mags_[cpu] = mag;
  }
  return true;
}

void ObjectCache::free_magazines() {
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) splk_kfree(mags_[cpu]);
  splk_kfree(mags_);
  mags_ = nullptr;
}

void ObjectCache::destroy() {
  splk_might_sleep();
  registry_remove(this);
  kstd::test_and_set_bit(flags_, KMC_BIT_DESTROY);

  uint64_t live;
  if (is_slab_backed()) {
    live = static_cast<uint64_t>(linux_alloc_.sum());
  } else {
    for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu)
      if (mags_[cpu] != nullptr) flush(mags_[cpu], mags_[cpu]->avail);
    free_magazines();
    reclaim_empty_slabs();
    live = obj_alloc_;
  }

  if (live != 0) {
    // Freeing the slabs would leave the caller's pointers dangling: keep
    // them until module unload (release_leaked()).
    splk_warn(
        "cache '%s' destroyed with %llu objects still allocated; its memory is kept until splkmem "
        "is unloaded",
        name_, static_cast<unsigned long long>(live));
    registry_bury(this);
    return;
  }
  if (is_slab_backed()) {
    splk_linux_cache_destroy(linux_cache_);
    linux_alloc_.destroy();
  }
  magic_ = 0;
  splk_kfree(this);
}

void ObjectCache::release_leaked() {
  if (is_slab_backed()) {
    // SLUB complains loudly about destroying a cache with live objects and
    // keeps pointing at our name: leave both in place for good.
    splk_log(1, "splkmem: cache '%s': Linux slab cache with leaked objects left in place", name_);
    return;
  }
  kstd::IntrusiveList<Slab>* lists[] = {&partial_, &complete_};
  for (kstd::IntrusiveList<Slab>* list : lists) {
    while (Slab* slab = list->front()) {
      kstd::IntrusiveList<Slab>::remove(slab);
      splk_vfree(slab, layout_.slab_size);
    }
  }
  magic_ = 0;
  splk_kfree(this);
}

// ---- Allocation ---------------------------------------------------------

void* ObjectCache::alloc(int km_flags) {
  void* obj;
  if (is_slab_backed()) {
    const unsigned gfp = kstd::load_relaxed(extra_gfp_);
    for (;;) {
      obj = splk_linux_cache_alloc(linux_cache_, linux_alloc_.raw(), km_flags, gfp);
      if (obj != nullptr || (km_flags & KM_NOSLEEP)) break;
      splk_cond_resched();  // KM_SLEEP never fails: retry
    }
  } else {
    obj = alloc_from_magazine(km_flags);
  }
  if (obj != nullptr) {
    if (ctor_ != nullptr)
      ctor_(obj, priv_, km_flags);
    else
      __builtin_prefetch(obj, 1);
  }
  return obj;
}

void* ObjectCache::alloc_from_magazine(int km_flags) {
  IrqSaveCpu irq;
  for (;;) {
    Magazine* mag = mags_[irq.cpu()];
    if (kstd::likely(mag->avail != 0)) {
      void* obj = mag->objs[--mag->avail];
      irq.release();
      *Slab::tag_of(obj) |= Slab::kAllocatedBit;
      return obj;
    }
    if (!refill(irq, mag, km_flags)) return nullptr;
  }
}

// Called with interrupts off and mag empty.  Moves up to mag->refill objects
// from the partial slabs; with none left, grows the cache (interrupts on,
// possibly moving to another CPU).  Returns false only when nothing could be
// done without sleeping (KM_NOSLEEP).
bool ObjectCache::refill(IrqSaveCpu& irq, Magazine* mag, int km_flags) {
  {
    SpinLockGuard guard(lock_);
    uint32_t want = kstd::min(mag->refill, mag->size - mag->avail);
    while (want > 0 && !partial_.empty()) {
      Slab* slab = partial_.front();
      for (; want > 0 && !slab->full(); --want) mag->objs[mag->avail++] = take_object(slab);
      if (slab->full()) complete_.move_to_front(slab);
    }
    if (mag->avail > 0) return true;
  }
  if (km_flags & KM_NOSLEEP) return false;

  irq.release();
  grow(km_flags);
  irq.acquire();
  return true;
}

// Adds one slab to the partial list.  Sleeps; KM_SLEEP retries until it
// succeeds, as SPL's KM_SLEEP never fails.
bool ObjectCache::grow(int km_flags) {
  splk_might_sleep();
  for (;;) {
    Slab* slab = new_slab(km_flags);
    {
      SpinLockGuard guard(lock_);
      if (slab != nullptr) {
        partial_.push_back(slab);
        ++slab_create_;
        ++slab_total_;
        obj_total_ += slab->capacity;
        return true;
      }
      ++slab_fail_;
    }
    if (km_flags & KM_NOSLEEP) return false;
    splk_cond_resched();
  }
}

Slab* ObjectCache::new_slab(int km_flags) {
  void* mem = splk_vmalloc(layout_.slab_size, km_flags, kstd::load_relaxed(extra_gfp_));
  if (mem == nullptr) return nullptr;
  auto* slab = new (mem) Slab();
  slab->magic = Slab::kMagic;
  slab->capacity = layout_.objs;
  slab->in_use = 0;
  slab->carved = 0;
  slab->free_list = nullptr;
  return slab;
}

// Under lock_: takes a free object out of a slab that is not full.
void* ObjectCache::take_object(Slab* slab) {
  void* obj = slab->free_list;
  if (obj != nullptr) {
    slab->free_list = *static_cast<void**>(obj);
  } else {
    obj = reinterpret_cast<char*>(slab) + layout_.first_offset + slab->carved * layout_.stride;
    *Slab::tag_of(obj) = encode_tag(slab);
    ++slab->carved;
  }
  if (slab->in_use++ == 0) {
    ++slab_alloc_;
    raise_max(slab_max_, slab_alloc_);
  }
  ++obj_alloc_;
  raise_max(obj_max_, obj_alloc_);
  return obj;
}

// ---- Free ---------------------------------------------------------------

void ObjectCache::reject_free(void* obj, const char* why) {
  splk_warn("cache '%s': free of %p rejected: %s", name_, obj, why);
}

// Validates a pointer handed to free() and returns its tag.  Only
// arithmetic before the tag is trusted: see slab.hpp.
bool ObjectCache::check_tag(void* obj, uintptr_t* tag) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  if (kstd::unlikely(addr - splk_kernel.vmalloc_start >=
                     splk_kernel.vmalloc_end - splk_kernel.vmalloc_start)) {
    reject_free(obj, "not an object of this cache");
    return false;
  }
  // The tag is the word before the object.  When that word starts on an
  // earlier page it may not be mapped (a foreign pointer at the start of a
  // vmalloc area), so it is read without faulting.
  uintptr_t* slot = Slab::tag_of(obj);
  if (kstd::unlikely((addr & (splk_kernel.page_size - 1)) < sizeof(uintptr_t))) {
    if (!splk_read_word_nofault(slot, tag)) {
      reject_free(obj, "not an object of this cache");
      return false;
    }
  } else {
    *tag = *slot;
  }
  const uintptr_t slab = reinterpret_cast<uintptr_t>(decode_tag(*tag));
  if (kstd::unlikely((slab & (splk_kernel.page_size - 1)) != 0 ||
                     addr - slab < layout_.first_offset || addr - slab >= layout_.slab_size)) {
    reject_free(obj, "not an object of this cache");
    return false;
  }
  if (kstd::unlikely(!(*tag & Slab::kAllocatedBit))) {
    reject_free(obj, "already free (double free)");
    return false;
  }
  return true;
}

void ObjectCache::free_to_linux_cache(void* obj) {
  if (!splk_linux_cache_may_own(linux_cache_, obj, obj_size_)) {
    reject_free(obj, "not an object of this cache");
    return;
  }
  if (dtor_ != nullptr) dtor_(obj, priv_);
  splk_linux_cache_free(linux_cache_, linux_alloc_.raw(), obj);
}

void ObjectCache::free(void* obj) {
  if (is_slab_backed()) {
    free_to_linux_cache(obj);
    return;
  }
  uintptr_t tag;
  if (!check_tag(obj, &tag)) return;
  if (dtor_ != nullptr) dtor_(obj, priv_);
  *Slab::tag_of(obj) = tag & ~Slab::kAllocatedBit;

  bool emptied_slab = false;
  {
    IrqSaveCpu irq;
    Magazine* mag = mags_[irq.cpu()];
    if (kstd::unlikely(mag->avail >= mag->size)) emptied_slab = flush(mag, mag->refill);
    mag->objs[mag->avail++] = obj;
  }
  if (kstd::unlikely(emptied_slab)) {
    if (splk_can_sleep()) {
      reclaim_empty_slabs();
    } else {
      kstd::test_and_set_bit(flags_, kReclaimPendingBit);
      splk_schedule_reclaim();
    }
  }
}

// Under lock_: puts an object back on its slab; true if the slab is empty.
// A slab that stops being full goes to the head of the partial list, an
// empty one to its tail, so the list stays fuller-first (SPL's order).
bool ObjectCache::return_object(void* obj) {
  Slab* slab = decode_tag(*Slab::tag_of(obj));
  *static_cast<void**>(obj) = slab->free_list;
  slab->free_list = obj;
  const bool was_full = slab->full();
  --slab->in_use;
  --obj_alloc_;
  if (was_full) partial_.move_to_front(slab);
  if (!slab->empty()) return false;
  partial_.move_to_back(slab);
  --slab_alloc_;
  return true;
}

// Returns the count coldest objects of a magazine to their slabs; true if
// a slab became empty.  Interrupts are off or the magazine's CPU is idle.
bool ObjectCache::flush(Magazine* mag, uint32_t count) {
  SpinLockGuard guard(lock_);
  const uint32_t n = kstd::min(count, mag->avail);
  bool emptied = false;
  for (uint32_t i = 0; i < n; ++i) emptied |= return_object(mag->objs[i]);
  mag->avail -= n;
  __builtin_memmove(mag->objs, mag->objs + n, mag->avail * sizeof(void*));
  return emptied;
}

// Frees the empty slabs at the tail of the partial list.  They are unlinked
// under the lock and vfree()d after it is dropped: vfree may sleep.
void ObjectCache::reclaim_empty_slabs() {
  kstd::IntrusiveList<Slab> doomed;
  {
    SpinLockGuard guard(lock_);
    for (Slab* slab = partial_.back(); slab != nullptr && slab->empty(); slab = partial_.back()) {
      doomed.move_to_back(slab);
      --slab_total_;
      obj_total_ -= slab->capacity;
      ++slab_destroy_;
    }
  }
  while (Slab* slab = doomed.front()) {
    kstd::IntrusiveList<Slab>::remove(slab);
    slab->magic = 0;
    splk_vfree(slab, layout_.slab_size);
    splk_cond_resched();
  }
}

void ObjectCache::reclaim_if_pending() {
  if (!kstd::test_bit(flags_, kReclaimPendingBit)) return;
  kstd::clear_bit(flags_, kReclaimPendingBit);
  reclaim_empty_slabs();
}

// ---- Reaping and statistics ---------------------------------------------

void ObjectCache::reap_now() {
  if (is_slab_backed()) return;  // the Linux slab reaps itself
  if (kstd::test_and_set_bit(flags_, KMC_BIT_REAPING)) return;
  {
    IrqSaveCpu irq;
    Magazine* mag = mags_[irq.cpu()];
    flush(mag, mag->avail);
  }
  reclaim_empty_slabs();
  kstd::clear_bit(flags_, KMC_BIT_REAPING);
}

uint64_t ObjectCache::inuse() {
  if (is_slab_backed()) return static_cast<uint64_t>(linux_alloc_.sum());
  return kstd::load_relaxed(obj_total_);
}

uint64_t ObjectCache::freeable() {
  if (is_slab_backed()) return 0;
  uint64_t cached = 0;
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu)
    if (mags_[cpu] != nullptr) cached += kstd::load_relaxed(mags_[cpu]->avail);
  SpinLockGuard guard(lock_);
  return obj_total_ - obj_alloc_ + cached;
}

void ObjectCache::stats(splk_cache_stats* out) {
  *out = splk_cache_stats{};
  out->name = name_;
  out->flags = kstd::load_relaxed(flags_) & ~(1UL << kReclaimPendingBit);
  out->obj_size = obj_size_;
  out->obj_align = obj_align_;
  if (is_slab_backed()) {
    out->linux_alloc = static_cast<uint64_t>(linux_alloc_.sum());
    return;
  }
  out->slab_size = layout_.slab_size;
  out->slab_objs = layout_.objs;
  out->mag_size = mag_size_;
  out->mag_refill = mag_refill_;
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu)
    if (mags_[cpu] != nullptr) out->mag_objs += kstd::load_relaxed(mags_[cpu]->avail);

  SpinLockGuard guard(lock_);
  out->slab_fail = slab_fail_;
  out->slab_create = slab_create_;
  out->slab_destroy = slab_destroy_;
  out->slab_total = slab_total_;
  out->slab_alloc = slab_alloc_;
  out->slab_max = slab_max_;
  out->obj_total = obj_total_;
  out->obj_alloc = obj_alloc_;
  out->obj_max = obj_max_;
  out->obj_deadlock = obj_deadlock_;
  out->obj_emergency = obj_emergency_;
  out->obj_emergency_max = obj_emergency_max_;
}

}  // namespace splkmem
