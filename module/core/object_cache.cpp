// SPDX-License-Identifier: GPL-2.0
//
// ObjectCache: creation and validation, the allocation and free paths, slab
// growth and reclaim.  The design and locking rules are in
// object_cache.hpp; the slab layout in slab_layout.hpp and slab.hpp.
#include "object_cache.hpp"

#include "cache_registry.hpp"

namespace splkmem {
namespace {

constexpr int kCreateFlags = KMC_NODEBUG | KMC_KVMEM | KMC_SLAB | KMC_RECLAIMABLE;

// __GFP_RECLAIMABLE of the target kernel (generated/kernel_sizes.h).
constexpr unsigned kGfpReclaimable = SPLK_GFP_RECLAIMABLE;

// Most one grow task allocates (unless one slab is larger).
constexpr uint64_t kMaxGrowBytes = 64 * 1024;

unsigned param(const unsigned& p) { return kstd::load_relaxed(p); }

TaskQueue* g_grow_queue;

// Fault hooks for the KUnit suites (seam.h); constant false in production.
#ifdef SPLKMEM_TEST_HOOKS
bool hook_fail_slab_alloc() { return kstd::load_relaxed(splk_test_hooks.fail_slab_alloc); }
bool hook_fail_emergency_alloc() {
  return kstd::load_relaxed(splk_test_hooks.fail_emergency_alloc);
}
unsigned hook_grow_delay_ms() { return kstd::load_relaxed(splk_test_hooks.grow_delay_ms); }
bool hook_fault_inject_grow() { return kstd::load_relaxed(splk_test_hooks.fault_inject_grow); }
unsigned hook_take_grow_tail_delay_ms() {
  return __atomic_exchange_n(&splk_test_hooks.grow_tail_delay_ms, 0u, __ATOMIC_RELAXED);
}
void hook_count(unsigned long& counter) { __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED); }
#define HOOK_COUNT(field) hook_count(splk_test_hooks.field)
#else
constexpr bool hook_fault_inject_grow() { return false; }
constexpr bool hook_fail_slab_alloc() { return false; }
constexpr bool hook_fail_emergency_alloc() { return false; }
constexpr unsigned hook_grow_delay_ms() { return 0; }
constexpr unsigned hook_take_grow_tail_delay_ms() { return 0; }
#define HOOK_COUNT(field) ((void)0)
#endif

// Full-barrier bit updates for the growth flags, which wait queues read
// (SPL's clear_bit + smp_mb__after_atomic).
void set_flag(unsigned long& word, unsigned bit) {
  __atomic_fetch_or(&word, 1UL << bit, __ATOMIC_SEQ_CST);
}
void clear_flag(unsigned long& word, unsigned bit) {
  __atomic_fetch_and(&word, ~(1UL << bit), __ATOMIC_SEQ_CST);
}

void raise_max(uint64_t& max, uint64_t value) {
  if (value > max) max = value;
}

}  // namespace

// ---- Creation and destruction -------------------------------------------

void ObjectCache::set_grow_queue(TaskQueue* queue) { g_grow_queue = queue; }

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
  // The size is the caller's: SIZE_MAX - 7 or a negative int must not wrap
  // the stride (slab_layout.hpp checks every later step too).
  uint64_t stride;
  if (!SlabLayout::stride_for(p.size, kstd::max<uint64_t>(p.align, SlabLayout::kMinAlign),
                              &stride)) {
    splk_log(0,
             "splkmem: cache '%s': object size %zu (0x%zx) overflows with its tag and alignment "
             "%zu",
             p.name, p.size, p.size, p.align);
    return nullptr;
  }

  // Type-stable memory (cache_registry.cpp): a stale handle's magic check
  // always reads an ObjectCache.
  void* mem = registry_slot_alloc();
  if (mem == nullptr) return nullptr;
  auto* cache = new (mem) ObjectCache();
  if (!cache->init(p)) {
    cache->magic_ = 0;
    registry_slot_free(cache);
    return nullptr;
  }
  if (cache->is_slab_backed())
    cache->magic_ = cache->passthrough_.tagged()             ? kPassthroughMagic
                    : p.ctor == nullptr && p.dtor == nullptr ? kDirectMagic
                                                             : kMagic;
  else if (p.ctor == nullptr && p.dtor == nullptr)
    cache->magic_ = kPlainMagic;
  registry_add(cache);
  return cache;
}

bool ObjectCache::init(const CacheParams& p) {
  magic_ = kMagic;
  __builtin_memcpy(name_, p.name, kstd::strnlen(p.name, SPL_KMEM_CACHE_NAME_MAX) + 1);
  flags_ = static_cast<unsigned>(p.flags);
  ctor_ = p.ctor;
  dtor_ = p.dtor;
  if (dtor_ != nullptr) fast_ |= kFastDtor;
  priv_ = p.priv;
  obj_size_ = p.size;
  obj_align_ = kstd::max<uint64_t>(p.align, SlabLayout::kMinAlign);
  lock_.init(SPLK_LOCK_CACHE);
  grow_wq_.init();
  emergency_.init();

  // Each module parameter is read once: a sysfs write during create must
  // not make two decisions of one create disagree (a limit read as 16384
  // to pick KMC_SLAB and as 0 to check it made the create fail).
  const unsigned limit = param(spl_kmem_cache_slab_limit);
  const unsigned max_mb = param(spl_kmem_cache_max_size);
  const unsigned per_slab = param(spl_kmem_cache_obj_per_slab);
  const unsigned mag_param = param(spl_kmem_cache_magazine_size);

  // No type asked for: small objects go to the Linux slab (SPL's rule).
  if (!(flags_ & (KMC_SLAB | KMC_KVMEM)))
    flags_ |= (limit != 0 && obj_size_ <= limit) ? KMC_SLAB : KMC_KVMEM;

  if (flags_ & KMC_SLAB) {
    if (obj_size_ > limit) {
      splk_log(
          0, "splkmem: cache '%s': KMC_SLAB object size %llu exceeds spl_kmem_cache_slab_limit %u",
          name_, static_cast<unsigned long long>(obj_size_), limit);
      return false;
    }
    if (!passthrough_.init(name_, obj_size_, obj_align_, flags_ & KMC_RECLAIMABLE)) {
      splk_log(0, "splkmem: cache '%s': kmem_cache_create failed", name_);
      return false;
    }
    fast_ |= kFastPassthrough;
    if (ctor_ != nullptr) fast_ |= kFastCtor;
    if (ctor_ == nullptr && splk_kernel.init_on_alloc) fast_ |= kFastZero;
    // SPL's magazine sizes, capped at kPassthroughMagBytes a CPU: these
    // objects are held away from SLUB until a reap.
    const uint64_t stride = passthrough_.stride(obj_size_);
    const auto cap = static_cast<uint32_t>(kstd::max<uint64_t>(8, kPassthroughMagBytes / stride));
    mag_size_ = kstd::min(Magazine::size_for(stride, kPageSize, mag_param), cap);
    mag_refill_ = (mag_size_ + 1) / 2;
    if (!init_magazines()) {
      passthrough_.destroy();
      return false;
    }
    return true;
  }

  const uint64_t max_bytes = static_cast<uint64_t>(max_mb) << 20;
  if (!SlabLayout::compute(obj_size_, obj_align_, sizeof(Slab), kPageSize, per_slab, max_bytes,
                           &layout_)) {
    splk_log(0,
             "splkmem: cache '%s': object size %llu does not fit a slab of spl_kmem_cache_max_size "
             "%u MB",
             name_, static_cast<unsigned long long>(obj_size_), max_mb);
    return false;
  }
  tags_.key = static_cast<uintptr_t>(splk_random_u64()) & ~SlabTagKey::kFreeBit;
  tags_.first_offset = layout_.first_offset;
  tags_.span = layout_.slab_size - layout_.first_offset;
  mag_size_ = Magazine::size_for(layout_.stride, kPageSize, mag_param);
  mag_refill_ = (mag_size_ + 1) / 2;
  return init_magazines();
}

bool ObjectCache::init_magazines() {
  if (!cpu::alloc(&mag_slot_)) return false;
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) {
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
    *cpu::on_cpu(mag_slot_, cpu) = mag;
  }
  return true;
}

// Per-CPU memory starts zeroed, so CPUs never set up hold nullptr.
void ObjectCache::free_magazines() {
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu)
    if (splk_cpu_possible(cpu)) splk_kfree(magazine_on(cpu));
  cpu::free(&mag_slot_);
}

// Called once registry_remove() has unlinked the cache (spl_api.cpp).
void ObjectCache::destroy() {
  splk_might_sleep();
  kstd::test_and_set_bit(flags_, KMC_BIT_DESTROY);

  if (!is_slab_backed()) {
    // Every grow task dispatched for this cache is waited for, whatever
    // its id: one may still be in its tail (GROWING cleared, waking the
    // allocators) when the next is dispatched with the same entry.  With
    // DESTROY set, a queued one that runs now allocates nothing.
    grow_wq_.wait([this] {
      SpinLockIrqGuard guard(lock_);
      return grows_inflight_ == 0;
    });
  }
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) {
    if (!splk_cpu_possible(cpu)) continue;
    Magazine* mag = magazine_on(cpu);
    flush(mag, mag->avail);
  }
  free_magazines();

  uint64_t live;
  if (is_slab_backed()) {
    live = static_cast<uint64_t>(passthrough_.live());
  } else {
    reclaim_empty_slabs();
    live = obj_alloc_ + obj_emergency_;
    if (obj_emergency_ != 0)
      splk_log(0, "splkmem: cache '%s': %llu emergency objects still allocated at destroy", name_,
               static_cast<unsigned long long>(obj_emergency_));
  }

  if (live != 0) {
    // Freeing the slabs would leave the caller's pointers dangling: keep
    // them until module unload (release_leaked()).  The handle is dead:
    // later calls on it are refused by the API's magic check.
    magic_ = kDestroyedMagic;
    splk_warn(
        "cache '%s' destroyed with %llu objects still allocated; its memory is kept until splkmem "
        "is unloaded",
        name_, static_cast<unsigned long long>(live));
    registry_bury(this);
    return;
  }
  if (is_slab_backed()) passthrough_.destroy();
  kstd::store_relaxed(magic_, 0u);
  registry_slot_free(this);
}

void ObjectCache::release_leaked() {
  if (is_slab_backed()) {
    // SLUB complains loudly about destroying a cache with live objects and
    // keeps pointing at our name: leave both in place for good.
    splk_log(1, "splkmem: cache '%s': Linux slab cache with leaked objects left in place", name_);
    return;
  }
  uintptr_t addr;
  while (void* node = emergency_.pop(&addr)) {
    splk_free_pages(reinterpret_cast<void*>(addr), obj_size_);
    splk_addr_node_free(node);
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

// A KMC_KVMEM allocation that missed the magazine: a refill.
void* ObjectCache::alloc_slow(int km_flags) {
  void* obj = alloc_from_magazine(km_flags);
  if (obj == nullptr || ctor_ == nullptr) return obj;
  return construct(obj, km_flags);
}

// KMC_SLAB: a pop from this CPU's magazine, as for the vmalloc slabs;
// only a miss reaches SLUB.
void* ObjectCache::alloc_passthrough(int km_flags) {
  void* obj;
  if (kstd::unlikely(!pop(&obj))) return alloc_passthrough_slow(km_flags);
  if (fast_ & (kFastCtor | kFastZero)) return construct_passthrough(obj, km_flags);
  passthrough_.mark_allocated(obj);
  return obj;
}

// The magazine was empty: a batch from SLUB with interrupts on (KM_SLEEP
// may sleep there), one object for the caller, the rest into whatever
// magazine this CPU has by then, any excess straight back.  KM_SLEEP
// never fails, so it retries; KM_NOSLEEP fails.
void* ObjectCache::alloc_passthrough_slow(int km_flags) {
  void* batch[kPassthroughBatch];
  const unsigned want = kstd::min<unsigned>(mag_refill_, kPassthroughBatch);
  unsigned got;
  while ((got = passthrough_.alloc_free_objects(km_flags, want, batch)) == 0) {
    if (km_flags & KM_NOSLEEP) return nullptr;
    splk_cond_resched();
  }
  void* obj = batch[--got];
  unsigned kept = 0;
  {
    cpu::IrqSave irq;
    Magazine* mag = cpu::read(mag_slot_);
    while (kept < got && mag->avail < mag->size) mag->objs[mag->avail++] = batch[kept++];
  }
  if (kept < got) passthrough_.release_free_objects(got - kept, batch + kept);
  if (fast_ & (kFastCtor | kFastZero)) return construct_passthrough(obj, km_flags);
  passthrough_.mark_allocated(obj);
  return obj;
}

// A free object goes to the caller by the kernel's init_on_alloc rule:
// zeroed unless there is a constructor (or SLUB zeroed it and nobody has
// used it since), constructed if there is one.
void* ObjectCache::construct_passthrough(void* obj, int km_flags) {
  const bool clean = passthrough_.clean(obj);
  passthrough_.mark_allocated(obj);
  if (ctor_ == nullptr) {
    if (!clean) __builtin_memset(obj, 0, obj_size_);
    return obj;
  }
  return construct(obj, km_flags);
}

void* ObjectCache::construct(void* obj, int km_flags) {
  ctor_(obj, priv_, km_flags);
  return obj;
}

void* ObjectCache::alloc_from_magazine(int km_flags) {
  cpu::IrqSave irq;
  for (;;) {
    Magazine* mag = cpu::read(mag_slot_);
    if (kstd::likely(mag->avail != 0)) {
      void* obj = mag->objs[--mag->avail];
      irq.release();
      *Slab::tag_of(obj) &= ~SlabTagKey::kFreeBit;
      return obj;
    }
    void* emergency = nullptr;
    switch (refill(irq, mag, km_flags, &emergency)) {
      case Refill::kRetry:
        continue;
      case Refill::kEmergency:
        return emergency;  // no tag: it is not in a slab
      case Refill::kFailed:
        return nullptr;
    }
  }
}

// Called with interrupts off and mag empty.  Moves up to mag->refill
// objects from the partial slabs; with none left, grows the cache with
// interrupts on (the caller may come back on another CPU).
ObjectCache::Refill ObjectCache::refill(cpu::IrqSave& irq, Magazine* mag, int km_flags,
                                        void** emergency) {
  {
    SpinLockIrqGuard guard(lock_);
    uint32_t want = kstd::min(mag->refill, mag->size - mag->avail);
    while (want > 0 && !partial_.empty()) {
      Slab* slab = partial_.front();
      for (; want > 0 && !slab->full(); --want) mag->objs[mag->avail++] = take_object(slab);
      if (slab->full()) complete_.move_to_front(slab);
    }
    if (mag->avail > 0) return Refill::kRetry;
  }
  irq.release();
  const Refill result = grow(km_flags, emergency);
  irq.acquire();
  return result;
}

// SPL's spl_cache_grow(), called with no partial slab and interrupts on.
ObjectCache::Refill ObjectCache::grow(int km_flags, void** emergency) {
  // KM_NOSLEEP cannot wait for the grow task: an emergency object or NULL.
  if (km_flags & KM_NOSLEEP) return emergency_alloc(km_flags, emergency);
  splk_might_sleep();

  if (kstd::test_bit(flags_, KMC_BIT_REAPING)) {
    grow_wq_.wait([this] { return !kstd::test_bit(flags_, KMC_BIT_REAPING); });
    return Refill::kRetry;
  }
  if (!kstd::test_and_set_bit(flags_, KMC_BIT_GROWING)) dispatch_grow(km_flags);

  if (kstd::test_bit(flags_, KMC_BIT_DEADLOCKED)) {
    const Refill result = emergency_alloc(km_flags, emergency);
    if (result != Refill::kFailed) return result;
    splk_cond_resched();  // KM_SLEEP never fails: try again
    return Refill::kRetry;
  }

  // Growth should take microseconds; a tenth of a second means the grow
  // task is stuck (for instance behind the memory it is meant to relieve).
  const long left = grow_wq_.wait([this] { return !kstd::test_bit(flags_, KMC_BIT_GROWING); },
                                  splk_kernel.hz / 10);
  if (left == 0) {
    SpinLockIrqGuard guard(lock_);
    if (kstd::test_bit(flags_, KMC_BIT_GROWING)) {
      set_flag(flags_, KMC_BIT_DEADLOCKED);
      ++obj_deadlock_;
    }
  }
  return Refill::kRetry;
}

// With KMC_BIT_GROWING just set by the caller: queue the one grow task.
// grows_inflight_ counts it from here until it is done with the cache;
// that count, not a task id, is what destroy waits for.
void ObjectCache::dispatch_grow(int km_flags) {
  {
    SpinLockIrqGuard guard(lock_);
    if (kstd::test_bit(flags_, KMC_BIT_DESTROY)) {
      clear_flag(flags_, KMC_BIT_GROWING);
      return;
    }
    ++grows_inflight_;
  }
  grow_flags_ = km_flags;
  HOOK_COUNT(grows_dispatched);
  new (&grow_task_) TaskEntry();
  g_grow_queue->dispatch_ent(&ObjectCache::grow_task_main, this, 0, &grow_task_);
  if (grow_task_.id == TASKQID_INVALID) {  // the queue is going away
    clear_flag(flags_, KMC_BIT_GROWING);
    grow_done();
  }
}

// The last thing a grow task does with its cache.  The count drops and the
// waiters (allocators, destroy) are woken under lock_: destroy re-checks
// the count under lock_ too, so it cannot free the cache before this
// unlock, after which nothing here touches it.
void ObjectCache::grow_done() {
  SpinLockIrqGuard guard(lock_);
  HOOK_COUNT(grows_finished);
  --grows_inflight_;
  grow_wq_.wake_all();
}

void ObjectCache::grow_task_main(void* cache) { static_cast<ObjectCache*>(cache)->grow_task(); }

// The grow task: slabs onto the partial list, then wake the waiters.  It
// allocates as many slabs as one magazine refill takes (at most
// kMaxGrowBytes): a 64-byte cache has 55 objects a slab and refills 128 at
// a time, and each grow costs a task-queue round trip.  The cache may be
// destroyed as soon as grow_done() unlocks (destroy waits for it).
void ObjectCache::grow_task() {
  if (const unsigned ms = hook_grow_delay_ms()) splk_msleep(ms);
  if (kstd::test_bit(flags_, KMC_BIT_DESTROY)) {
    clear_flag(flags_, KMC_BIT_GROWING);
    return grow_done();
  }
  const uint64_t by_refill = (mag_refill_ + layout_.objs - 1) / layout_.objs;
  const uint64_t by_bytes = kstd::max<uint64_t>(1, kMaxGrowBytes / layout_.slab_size);
  const uint64_t want = kstd::min(by_refill, by_bytes);
  const bool inject = hook_fault_inject_grow();
  if (inject) splk_fault_inject_current(true);
  for (uint64_t i = 0; i < want; ++i) {
    Slab* slab = new_slab(grow_flags_);
    SpinLockIrqGuard guard(lock_);
    if (slab == nullptr) {
      ++slab_fail_;
      if (i == 0) set_flag(flags_, KMC_BIT_DEADLOCKED);
      break;
    }
    partial_.push_back(slab);
    ++slab_create_;
    ++slab_total_;
    obj_total_ += slab->capacity;
    clear_flag(flags_, KMC_BIT_DEADLOCKED);
  }
  if (inject) splk_fault_inject_current(false);
  clear_flag(flags_, KMC_BIT_GROWING);
  grow_wq_.wake_all();
  if (const unsigned ms = hook_take_grow_tail_delay_ms()) splk_msleep(ms);
  grow_done();
}

Slab* ObjectCache::new_slab(int km_flags) {
  if (hook_fail_slab_alloc()) return nullptr;
  void* mem = splk_vmalloc_noio(layout_.slab_size, km_flags, kstd::load_relaxed(extra_gfp_));
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
    *Slab::tag_of(obj) = tags_.free_tag(slab);
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

// An emergency object: whole pages, tracked by address (SPL's
// spl_emergency_alloc()).  A partial slab that appeared meanwhile is used
// instead.
ObjectCache::Refill ObjectCache::emergency_alloc(int km_flags, void** obj) {
  {
    SpinLockIrqGuard guard(lock_);
    if (!partial_.empty()) return Refill::kRetry;
  }
  if (hook_fail_emergency_alloc()) return Refill::kFailed;
  // A reclaimable cache's pages are reclaimable, as in SPL's
  // spl_emergency_alloc(): they go to reclaimable pageblocks.
  const unsigned gfp = kstd::load_relaxed(extra_gfp_) |
                       ((kstd::load_relaxed(flags_) & KMC_RECLAIMABLE) ? kGfpReclaimable : 0);
  void* page = splk_alloc_pages(obj_size_, km_flags, gfp);
  if (page == nullptr) return Refill::kFailed;
  void* node = splk_addr_node_alloc(km_flags);
  if (node == nullptr) {
    splk_free_pages(page, obj_size_);
    return Refill::kFailed;
  }
  {
    SpinLockIrqGuard guard(lock_);
    emergency_.insert(node, reinterpret_cast<uintptr_t>(page));  // fresh pages: never present
    ++obj_total_;
    ++obj_emergency_;
    raise_max(obj_emergency_max_, obj_emergency_);
  }
  *obj = page;
  return Refill::kEmergency;
}

// Frees obj if it is one of this cache's emergency objects.
bool ObjectCache::emergency_free(void* obj) {
  void* node;
  {
    SpinLockIrqGuard guard(lock_);
    node = emergency_.remove(reinterpret_cast<uintptr_t>(obj));
    if (node == nullptr) return false;
    --obj_emergency_;
    --obj_total_;
  }
  if (dtor_ != nullptr) dtor_(obj, priv_);
  splk_free_pages(obj, obj_size_);
  splk_addr_node_free(node);
  return true;
}

// ---- Free ---------------------------------------------------------------

void ObjectCache::reject_free(void* obj, const char* why) {
  splk_warn("cache '%s': free of %p rejected: %s", name_, obj, why);
}

// Validates a pointer handed to free() and returns its tag.  Only
// arithmetic before the tag is trusted: see slab.hpp.
bool ObjectCache::check_tag(void* obj, uintptr_t* tag) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  // The tag is the word before the object.  When that word starts on an
  // earlier page it may not be mapped (a foreign pointer at the start of a
  // vmalloc area), so it is read without faulting.
  uintptr_t* slot = Slab::tag_of(obj);
  if ((addr & (kPageSize - 1)) < sizeof(uintptr_t)) {
    if (!splk_read_word_nofault(slot, tag)) {
      reject_free(obj, "not an object of this cache");
      return false;
    }
  } else {
    *tag = *slot;
  }
  if (tags_.allocated(*tag, addr, kPageSize)) return true;
  if (tags_.allocated(*tag & ~SlabTagKey::kFreeBit, addr, kPageSize))
    reject_free(obj, "already free (double free)");
  else
    reject_free(obj, "not an object of this cache");
  return false;
}

// A KMC_SLAB free with a destructor, or one the inline check refused.
void ObjectCache::free_passthrough_slow(void* obj) {
  if (obj == nullptr) return;  // as kfree(NULL)
  if (!passthrough_.owns(obj))
    if (const char* why = passthrough_.owns_slow(obj)) return reject_free(obj, why);
  if (dtor_ != nullptr) dtor_(obj, priv_);
  push_passthrough(obj);
}

// An untagged KMC_SLAB cache: SLUB on every call, as SPL does.  The
// plain functions serve caches with neither constructor nor destructor
// (direct()), the others every untagged cache.
void* ObjectCache::alloc_direct_plain(int km_flags) {
  void* obj = passthrough_.alloc_raw(km_flags);
  if (kstd::unlikely(obj == nullptr)) return alloc_direct_slow(km_flags, obj);
  passthrough_.count_alloc();
  return obj;
}

void* ObjectCache::alloc_direct(int km_flags) {
  return alloc_direct_slow(km_flags, passthrough_.alloc_raw(km_flags));
}

// SLUB had no object (KM_SLEEP never fails, so it retries; KM_NOSLEEP
// fails); then the count and the constructor.
void* ObjectCache::alloc_direct_slow(int km_flags, void* obj) {
  while (obj == nullptr) {
    if (km_flags & KM_NOSLEEP) return nullptr;
    splk_cond_resched();
    obj = passthrough_.alloc_raw(km_flags);
  }
  passthrough_.count_alloc();
  return ctor_ != nullptr ? construct(obj, km_flags) : obj;
}

void ObjectCache::free_direct_plain(void* obj) {
  if (kstd::unlikely(!passthrough_.may_own(obj))) return free_direct(obj);
  passthrough_.count_free();
  passthrough_.free_raw(obj);
}

void ObjectCache::free_direct(void* obj) {
  if (obj == nullptr) return;  // as kfree(NULL)
  if (!passthrough_.may_own(obj)) return reject_free(obj, "not an object of this cache");
  if (dtor_ != nullptr) dtor_(obj, priv_);
  passthrough_.count_free();
  passthrough_.free_raw(obj);
}

// KMC_SLAB without a destructor: checked, then a push onto this CPU's
// magazine.
void ObjectCache::free_passthrough(void* obj) {
  if (dtor_ != nullptr || kstd::unlikely(!passthrough_.owns(obj)))
    return free_passthrough_slow(obj);
  push_passthrough(obj);
}

void ObjectCache::push_passthrough(void* obj) {
  passthrough_.mark_free(obj);
  push_flushing(obj);
}

// KMC_KVMEM frees with a destructor: validated first, destructed, freed.
void ObjectCache::free_with_dtor(void* obj) {
  if (obj == nullptr) return;  // as kfree(NULL): no destructor
  uintptr_t tag;
  if (!fast_tag(obj, &tag)) return free_slow(obj);
  dtor_(obj, priv_);
  release(obj, tag);
}

// Everything the inline KMC_KVMEM free() does not handle: emergency
// objects, tags on the previous page, and every rejected pointer.
void ObjectCache::free_slow(void* obj) {
  if (obj == nullptr) return;  // as kfree(NULL): the inline check let it by
  // Slab objects live in vmalloc space, emergency objects never do.
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  if (addr - splk_kernel.vmalloc_start >= splk_kernel.vmalloc_size) {
    if (kstd::load_relaxed(obj_emergency_) == 0 || !emergency_free(obj))
      reject_free(obj, "not an object of this cache");
    return;
  }
  uintptr_t tag;
  if (!check_tag(obj, &tag)) return;
  if (dtor_ != nullptr) dtor_(obj, priv_);
  release(obj, tag);
}

// A push onto this CPU's magazine, for both kinds: when it is full, half
// of it goes back first (SPL's rule; flush() knows where to).  Slabs the
// flush empties stay on the partial list until a reap: freeing them here
// (as SPL does) makes every alloc N / free N cycle past a magazine's worth
// vmalloc and vfree its slabs again.
void ObjectCache::push_flushing(void* obj) {
  cpu::IrqSave irq;
  Magazine* mag = cpu::read(mag_slot_);
  if (mag->avail >= mag->size) flush(mag, mag->refill);
  mag->objs[mag->avail++] = obj;
}

// Under lock_: puts an object back on its slab; true if the slab is empty.
// A slab that stops being full goes to the head of the partial list, an
// empty one to its tail, so the list stays fuller-first (SPL's order).
bool ObjectCache::return_object(void* obj) {
  Slab* slab = tags_.slab_of(*Slab::tag_of(obj));
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
  const uint32_t n = kstd::min(count, mag->avail);
  bool emptied = false;
  if (is_slab_backed()) {
    passthrough_.release_free_objects(n, mag->objs);  // to SLUB, any context
  } else {
    SpinLockIrqGuard guard(lock_);
    for (uint32_t i = 0; i < n; ++i) emptied |= return_object(mag->objs[i]);
  }
  mag->avail -= n;
  __builtin_memmove(mag->objs, mag->objs + n, mag->avail * sizeof(void*));
  return emptied;
}

// Frees the empty slabs at the tail of the partial list.  They are unlinked
// under the lock and vfree()d after it is dropped: vfree may sleep.
void ObjectCache::reclaim_empty_slabs() {
  kstd::IntrusiveList<Slab> doomed;
  {
    SpinLockIrqGuard guard(lock_);
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

void ObjectCache::set_alloc_gfp(unsigned gfp) {
  kstd::store_relaxed(extra_gfp_, gfp);
  if (is_slab_backed()) passthrough_.set_gfp(gfp);
}

// ---- Reaping and statistics ---------------------------------------------

// KMC_SLAB caches empty their magazines into SLUB, which reaps itself.
void ObjectCache::reap_now() {
  if (kstd::test_and_set_bit(flags_, KMC_BIT_REAPING)) return;
  // Every online CPU empties its own magazine in its per-CPU section, so
  // no hit path on it can race with the flush.  Offline CPUs were drained
  // when they went down (drain_dead_cpu()).
  splk_on_each_cpu(&ObjectCache::flush_this_cpu, this);
  if (!is_slab_backed()) reclaim_empty_slabs();
  clear_flag(flags_, KMC_BIT_REAPING);
  grow_wq_.wake_all();  // growth waits for a reap to finish
}

// On each CPU of a reap, in a kworker bound to it.
void ObjectCache::flush_this_cpu(void* arg) {
  auto* cache = static_cast<ObjectCache*>(arg);
  cpu::IrqSave irq;
  Magazine* mag = cpu::read(cache->mag_slot_);
  cache->flush(mag, mag->avail);
}

// CPU hotplug: cpu is dead, so nothing touches its magazine any more.
void ObjectCache::drain_dead_cpu(unsigned cpu) {
  if (!valid()) return;
  Magazine* mag = magazine_on(cpu);
  flush(mag, mag->avail);
}

uint64_t ObjectCache::inuse() {
  if (is_slab_backed()) return static_cast<uint64_t>(passthrough_.live());
  return kstd::load_relaxed(obj_total_);
}

uint64_t ObjectCache::freeable() {
  uint64_t cached = 0;
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu)
    if (splk_cpu_possible(cpu)) cached += kstd::load_relaxed(magazine_on(cpu)->avail);
  if (is_slab_backed()) return cached;  // a reap hands them back to SLUB
  SpinLockIrqGuard guard(lock_);
  return obj_total_ - obj_alloc_ + cached;
}

void ObjectCache::stats(splk_cache_stats* out) {
  *out = splk_cache_stats{};
  out->name = name_;
  out->flags = kstd::load_relaxed(flags_);
  out->obj_size = obj_size_;
  out->obj_align = obj_align_;
  out->mag_size = mag_size_;
  out->mag_refill = mag_refill_;
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu)
    if (splk_cpu_possible(cpu)) out->mag_objs += kstd::load_relaxed(magazine_on(cpu)->avail);
  if (is_slab_backed()) {
    out->linux_alloc = static_cast<uint64_t>(passthrough_.live());
    return;
  }
  out->slab_size = layout_.slab_size;
  out->slab_objs = layout_.objs;

  SpinLockIrqGuard guard(lock_);
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
