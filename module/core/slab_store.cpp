// SPDX-License-Identifier: GPL-2.0
//
// SlabStore: slab lists, growth, emergency objects and reclaim of a
// KMC_KVMEM cache.  The design and locking rules are in slab_store.hpp;
// the slab layout in slab_layout.hpp and slab.hpp.
#include "slab_store.hpp"

namespace splkmem {
namespace {

// __GFP_RECLAIMABLE of the target kernel (generated/kernel_sizes.h).
constexpr unsigned kGfpReclaimable = SPLK_GFP_RECLAIMABLE;

// Most one grow task allocates (unless one slab is larger).
constexpr uint64_t kMaxGrowBytes = 64 * 1024;

// How many vmalloc areas one new slab refuses for lying over a reclaimed
// slab before it takes what it gets (freed_slab_ranges.hpp).
constexpr uint32_t kMaxRefusedAreas = 3;

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

void SlabStore::set_grow_queue(TaskQueue* queue) { g_grow_queue = queue; }

bool SlabStore::init(const char* name, const unsigned long* owner_flags, uint64_t obj_size,
                     const SlabLayout& layout) {
  name_ = name;
  owner_flags_ = owner_flags;
  growth_ = 0;
  obj_size_ = obj_size;
  layout_ = layout;
  for (PartialSlabs& part : partial_) part.init(layout_.objs);
  lock_.init(SPLK_LOCK_CACHE);
  grow_wq_.init();
  emergency_.init();
  live_slabs_.init();
  return slots_.init(name, layout);
}

// ---- Objects in and out -------------------------------------------------

// The CPU's own node first.  Another node's slabs only when this caller
// cannot wait for growth on its own (KM_NOSLEEP) or growth is stuck
// (deadlocked): then a remote object beats an emergency page.
uint32_t SlabStore::take_into(Magazine* mag, uint32_t n, int km_flags) {
  const unsigned here = numa::part_of_cpu(mag->cpu);
  SpinLockIrqGuard guard(lock_);
  uint32_t moved = take_from(partial_[here], mag, n);
  if (moved != 0 || !((km_flags & KM_NOSLEEP) || kstd::test_bit(growth_, KMC_BIT_DEADLOCKED)))
    return moved;
  for (unsigned i = 0; i < numa::kMaxNodes && moved == 0; ++i)
    if (i != here) moved = take_from(partial_[i], mag, n);
  return moved;
}

// Under lock_: up to n objects from part's slabs into mag.
uint32_t SlabStore::take_from(PartialSlabs& part, Magazine* mag, uint32_t n) {
  lock_.assert_held();
  uint32_t moved = 0;
  while (moved < n) {
    Slab* slab = part.take_fullest();
    if (slab == nullptr) break;
    if (slab->empty()) empty_objs_ -= slab->capacity;
    for (; moved < n && !slab->full(); ++moved) mag->objs[mag->avail++] = take_object(slab);
    if (slab->full())
      complete_.push_front(slab);
    else
      part.refile(slab);
  }
  return moved;
}

// Under lock_: takes a free object out of a slab that is not full.
void* SlabStore::take_object(Slab* slab) {
  lock_.assert_held();
  void* obj = slab->free_list;
  if (obj != nullptr) {
    slab->free_list = *static_cast<void**>(obj);
    if (debug_ != nullptr) debug_->prepare(obj, false);
  } else {
    obj = layout_.object_in(slab, slab->carved);
    slots_.carve(slab, slab->carved, obj);
    ++slab->carved;
    if (debug_ != nullptr) debug_->prepare(obj, true);
  }
  if (slab->in_use++ == 0) {
    ++slab_alloc_;
    raise_max(slab_max_, slab_alloc_);
  }
  ++obj_alloc_;
  raise_max(obj_max_, obj_alloc_);
  return obj;
}

void SlabStore::give_back(void** objs, uint32_t n, bool aged) {
  SpinLockIrqGuard guard(lock_);
  // Read under the lock: slabs then reach the empty list's tail in the
  // order of their stamps (a stamp read before it could be older than one
  // filed meanwhile, and reclaim would stop at the younger one).
  const uint64_t now = aged ? 0 : splk_jiffies();
  for (uint32_t i = 0; i < n; ++i) return_object(objs[i], now);
}

// Under lock_: puts an object back on its slab, which leaves the full
// list or moves to the class of its new in_use (partial_slabs.hpp).
void SlabStore::return_object(void* obj, uint64_t now) {
  lock_.assert_held();
  Slab* slab = slots_.key().slab_of(*slots_.slot_of_free(obj));
  *static_cast<void**>(obj) = slab->free_list;
  slab->free_list = obj;
  if (slab->full()) kstd::IntrusiveList<Slab>::remove(slab);  // off the complete list
  --slab->in_use;
  --obj_alloc_;
  if (slab->empty()) {
    slab->empty_since = now;
    empty_objs_ += slab->capacity;
    --slab_alloc_;
  }
  partial_[slab->part].refile(slab);
}

// ---- Growth -------------------------------------------------------------

SlabStore::Refill SlabStore::grow(int km_flags, uint32_t refill, void** emergency) {
  // KM_NOSLEEP cannot wait for the grow task: an emergency object or NULL.
  if (km_flags & KM_NOSLEEP) return emergency_alloc(km_flags, emergency);
  splk_might_sleep();

  if (kstd::test_bit(*owner_flags_, KMC_BIT_REAPING)) {
    grow_wq_.wait([this] { return !kstd::test_bit(*owner_flags_, KMC_BIT_REAPING); });
    return Refill::kRetry;
  }
  if (!kstd::test_and_set_bit(growth_, KMC_BIT_GROWING))
    dispatch_grow(km_flags, refill, splk_raw_cpu());

  if (kstd::test_bit(growth_, KMC_BIT_DEADLOCKED)) {
    const Refill result = emergency_alloc(km_flags, emergency);
    if (result != Refill::kFailed) return result;
    splk_cond_resched();  // KM_SLEEP never fails: try again
    return Refill::kRetry;
  }

  // Growth should take microseconds; a tenth of a second means the grow
  // task is stuck (for instance behind the memory it is meant to relieve).
  const long left = grow_wq_.wait([this] { return !kstd::test_bit(growth_, KMC_BIT_GROWING); },
                                  splk_kernel.hz / 10);
  if (left == 0) {
    SpinLockIrqGuard guard(lock_);
    if (kstd::test_bit(growth_, KMC_BIT_GROWING)) {
      set_flag(growth_, KMC_BIT_DEADLOCKED);
      ++obj_deadlock_;
    }
  }
  return Refill::kRetry;
}

// With KMC_BIT_GROWING just set by the caller: queue the one grow task.
// grows_inflight_ counts it from here until it is done with the store;
// that count, not a task id, is what destroy waits for.
void SlabStore::dispatch_grow(int km_flags, uint32_t refill, unsigned cpu) {
  {
    SpinLockIrqGuard guard(lock_);
    if (kstd::test_bit(*owner_flags_, KMC_BIT_DESTROY)) {
      clear_flag(growth_, KMC_BIT_GROWING);
      return;
    }
    ++grows_inflight_;
  }
  grow_flags_ = km_flags;
  grow_refill_ = refill;
  // The task runs on whatever CPU the queue's thread is on: it is told
  // whose node the slabs are for (issue 26: slabs on the grower's node).
  grow_part_ = numa::part_of_cpu(cpu);
  grow_node_ = numa::node_of_cpu(cpu);
  HOOK_COUNT(grows_dispatched);
  new (&grow_task_) TaskEntry();
  // The returned id, not grow_task_.id: once queued, the task may run,
  // clear GROWING, and another allocator re-initialise the entry for the
  // next grow (id 0 for a moment) before this line reads it; reading the
  // entry here counted that as a failed dispatch and grows_inflight_
  // wrapped below 0, so destroy waited forever (seen on the KCSAN kernel).
  if (g_grow_queue->dispatch_ent(&SlabStore::grow_task_main, this, 0, &grow_task_) ==
      TASKQID_INVALID) {  // the queue is going away
    clear_flag(growth_, KMC_BIT_GROWING);
    grow_done();
  }
}

// The last thing a grow task does with its store.  The count drops and the
// waiters (allocators, destroy) are woken under lock_: destroy re-checks
// the count under lock_ too, so it cannot free the cache before this
// unlock, after which nothing here touches it.
void SlabStore::grow_done() {
  SpinLockIrqGuard guard(lock_);
  HOOK_COUNT(grows_finished);
  --grows_inflight_;
  grow_wq_.wake_all();
}

void SlabStore::wait_for_grows() {
  // Every grow task dispatched is waited for, whatever its id: one may
  // still be in its tail (GROWING cleared, waking the allocators) when the
  // next is dispatched with the same entry.  With DESTROY set, a queued
  // one that runs now allocates nothing.
  grow_wq_.wait([this] {
    SpinLockIrqGuard guard(lock_);
    return grows_inflight_ == 0;
  });
}

void SlabStore::grow_task_main(void* store) { static_cast<SlabStore*>(store)->grow_task(); }

// The grow task: slabs onto the partial list, then wake the waiters.  It
// allocates as many slabs as one magazine refill takes (at most
// kMaxGrowBytes): a 64-byte cache has 55 objects a slab and refills 128 at
// a time, and each grow costs a task-queue round trip.  The cache may be
// destroyed as soon as grow_done() unlocks (destroy waits for it).
void SlabStore::grow_task() {
  if (const unsigned ms = hook_grow_delay_ms()) splk_msleep(ms);
  if (kstd::test_bit(*owner_flags_, KMC_BIT_DESTROY)) {
    clear_flag(growth_, KMC_BIT_GROWING);
    return grow_done();
  }
  const uint64_t by_refill = (grow_refill_ + layout_.objs - 1) / layout_.objs;
  const uint64_t by_bytes = kstd::max<uint64_t>(1, kMaxGrowBytes / layout_.slab_size);
  const uint64_t want = kstd::max<uint64_t>(1, kstd::min(by_refill, by_bytes));
  const bool inject = hook_fault_inject_grow();
  if (inject) splk_fault_inject_current(true);
  for (uint64_t i = 0; i < want; ++i) {
    Slab* slab = new_slab(grow_flags_, grow_node_);
    void* node = nullptr;
    if (slab != nullptr && debug_ != nullptr &&
        (node = splk_addr_node_alloc(grow_flags_)) == nullptr) {
      free_slab(slab);
      slab = nullptr;
    }
    SpinLockIrqGuard guard(lock_);
    if (node != nullptr) live_slabs_.insert(node, reinterpret_cast<uintptr_t>(slab));
    if (slab == nullptr) {
      ++slab_fail_;
      if (i == 0) set_flag(growth_, KMC_BIT_DEADLOCKED);
      break;
    }
    slab->empty_since = splk_jiffies();  // under lock_, as in give_back()
    slab->part = static_cast<uint8_t>(grow_part_);
    partial_[grow_part_].refile(slab);  // empty, the newest
    empty_objs_ += slab->capacity;
    ++slab_create_;
    ++slab_total_;
    obj_total_ += slab->capacity;
    clear_flag(growth_, KMC_BIT_DEADLOCKED);
  }
  if (inject) splk_fault_inject_current(false);
  clear_flag(growth_, KMC_BIT_GROWING);
  grow_wq_.wake_all();
  if (const unsigned ms = hook_take_grow_tail_delay_ms()) splk_msleep(ms);
  grow_done();
}

// Memory for a slab, not over a slab this cache reclaimed lately: each
// refused area is held until the next one arrives, so vmalloc cannot
// hand it out again at once, then freed.
void* SlabStore::slab_memory(int km_flags, int node) {
  const uint64_t size = layout_.slab_size;
  void* refused[kMaxRefusedAreas];
  uint32_t n_refused = 0;
  void* mem;
  for (;;) {
    mem = splk_vmalloc_noio(size, km_flags, kstd::load_relaxed(extra_gfp_), node);
    if (mem == nullptr || n_refused == kMaxRefusedAreas) break;
    const uintptr_t start = reinterpret_cast<uintptr_t>(mem);
    bool over_freed_slab;
    {
      SpinLockIrqGuard guard(lock_);
      over_freed_slab = freed_.overlaps(start, start + size);
    }
    if (!over_freed_slab) break;
    refused[n_refused++] = mem;
  }
  for (uint32_t i = 0; i < n_refused; ++i) splk_vfree(refused[i], size);
  return mem;
}

Slab* SlabStore::new_slab(int km_flags, int node) {
  if (hook_fail_slab_alloc()) return nullptr;
  void* mem = slab_memory(km_flags, node);
  if (mem == nullptr) return nullptr;
  auto* slab = new (mem) Slab();
  slab->magic = Slab::kMagic;
  slab->capacity = layout_.objs;
  slab->in_use = 0;
  slab->carved = 0;
  slab->filed = PartialSlabs::kUnfiled;
  slab->part = 0;
  slab->free_list = nullptr;
  slab->empty_since = splk_jiffies();
  if (layout_.header_tags && !slots_.enter_slab(slab, km_flags)) {
    splk_vfree(mem, layout_.slab_size);
    return nullptr;
  }
  return slab;
}

// A slab off every list: out of the index and the live set, then freed.
// With header tags a free may have found the slab in the index just
// before it left, and reads its slots under the RCU read lock: the
// memory goes a grace period later (its list node, unused now, holds the
// callback).  Tags before the objects are read with no such guard: the
// slab goes at once.  Either way its pages are credited to reclaim now.
void SlabStore::free_slab(Slab* slab) {
  slab->magic = 0;
  if (layout_.header_tags) slots_.leave_slab(slab);
  forget_slab(slab);
  static_assert(sizeof(kstd::ListNode) >= SPLK_RCU_HEAD_SIZE, "the list node holds the callback");
  if (layout_.header_tags)
    splk_vfree_rcu(slab, layout_.slab_size);
  else
    splk_vfree(slab, layout_.slab_size);
}

// An emergency object: whole pages, tracked by address (SPL's
// spl_emergency_alloc()).  A partial slab that appeared meanwhile, on any
// node, is used instead: take_into() takes another node's slabs for the
// callers that come here (KM_NOSLEEP, or growth deadlocked).
SlabStore::Refill SlabStore::emergency_alloc(int km_flags, void** obj) {
  {
    SpinLockIrqGuard guard(lock_);
    for (const PartialSlabs& part : partial_)
      if (!part.empty()) return Refill::kRetry;
  }
  if (hook_fail_emergency_alloc()) return Refill::kFailed;
  // A reclaimable cache's pages are reclaimable, as in SPL's
  // spl_emergency_alloc(): they go to reclaimable pageblocks.
  const unsigned gfp =
      kstd::load_relaxed(extra_gfp_) |
      ((kstd::load_relaxed(*owner_flags_) & KMC_RECLAIMABLE) ? kGfpReclaimable : 0);
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

bool SlabStore::emergency_free(void* obj, void (*dtor)(void*, void*), void* priv) {
  void* node;
  {
    SpinLockIrqGuard guard(lock_);
    node = emergency_.remove(reinterpret_cast<uintptr_t>(obj));
    if (node == nullptr) return false;
    --obj_emergency_;
    --obj_total_;
  }
  if (dtor != nullptr) dtor(obj, priv);
  splk_free_pages(obj, obj_size_);
  splk_addr_node_free(node);
  return true;
}

// ---- Reclaim and statistics ---------------------------------------------

void SlabStore::reclaim(uint64_t cutoff) {
  kstd::IntrusiveList<Slab> doomed;
  {
    SpinLockIrqGuard guard(lock_);
    // Each node's oldest first: the first slab too young ends its walk.
    for (PartialSlabs& part : partial_) {
      while (Slab* slab = part.take_empty_since(cutoff)) {
        doomed.push_back(slab);
        const uintptr_t start = reinterpret_cast<uintptr_t>(slab);
        freed_.record(start, start + layout_.slab_size);
        empty_objs_ -= slab->capacity;
        --slab_total_;
        obj_total_ -= slab->capacity;
        ++slab_destroy_;
      }
    }
  }
  while (Slab* slab = doomed.front()) {
    kstd::IntrusiveList<Slab>::remove(slab);
    free_slab(slab);
    splk_cond_resched();
  }
}

bool SlabStore::owns_slab(const Slab* slab) {
  SpinLockIrqGuard guard(lock_);
  return live_slabs_.contains(reinterpret_cast<uintptr_t>(slab));
}

void SlabStore::forget_slab(const Slab* slab) {
  if (debug_ == nullptr) return;
  void* node;
  {
    SpinLockIrqGuard guard(lock_);
    node = live_slabs_.remove(reinterpret_cast<uintptr_t>(slab));
  }
  splk_addr_node_free(node);
}

uint64_t SlabStore::live() {
  SpinLockIrqGuard guard(lock_);
  return obj_alloc_ + obj_emergency_;
}

void SlabStore::release_all() {
  uintptr_t addr;
  while (void* node = emergency_.pop(&addr)) {
    splk_free_pages(reinterpret_cast<void*>(addr), obj_size_);
    splk_addr_node_free(node);
  }
  for (PartialSlabs& part : partial_)
    while (Slab* slab = part.take_fullest()) complete_.push_back(slab);
  while (Slab* slab = complete_.front()) {
    kstd::IntrusiveList<Slab>::remove(slab);
    free_slab(slab);
  }
  destroy();
}

void SlabStore::stats(splk_cache_stats* out) {
  out->flags |= growth_flags();
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
  out->slab_empty_objs = empty_objs_;
}

const char* SlabStore::check_invariants() {
  SpinLockIrqGuard guard(lock_);
  uint64_t slabs = 0, objs = 0, in_use = 0, empty_objs = 0, used_slabs = 0, bad_magic = 0;
  uint64_t misfiled = 0;
  bool indexed = true;
  for (unsigned i = 0; i < numa::kMaxNodes; ++i) {
    if (const char* wrong = partial_[i].check()) return wrong;
    partial_[i].for_each([&](Slab* slab) { misfiled += slab->part != i; });
  }
  if (misfiled != 0) return "a slab is filed under another node's part than its own";
  for_each_partial([&](Slab* slab) {
    bad_magic += slab->magic != Slab::kMagic;
    indexed = indexed && slots_.check_slab(slab);
    ++slabs;
    objs += slab->capacity;
    in_use += slab->in_use;
    if (slab->empty())
      empty_objs += slab->capacity;
    else
      ++used_slabs;
  });
  if (bad_magic != 0) return "a partial slab has a bad magic";
  for (Slab* slab : complete_) {
    if (slab->magic != Slab::kMagic) return "a complete slab has a bad magic";
    if (!slab->full()) return "a slab on the complete list is not full";
    if (slab->part >= numa::kMaxNodes) return "a complete slab names no node part";
    indexed = indexed && slots_.check_slab(slab);
    ++slabs;
    objs += slab->capacity;
    in_use += slab->in_use;
    ++used_slabs;
  }
  if (!indexed) return "an object's index entry, or a free object's words, name another tag slot";
  if (slabs != slab_total_) return "slab_total differs from the slabs on the lists";
  if (used_slabs != slab_alloc_) return "slab_alloc differs from the slabs in use";
  if (objs + obj_emergency_ != obj_total_) return "obj_total differs from the slabs' capacity";
  if (in_use != obj_alloc_) return "obj_alloc differs from the objects out of slabs";
  if (empty_objs != empty_objs_) return "the empty-slab count is off";
  return nullptr;
}

}  // namespace splkmem
