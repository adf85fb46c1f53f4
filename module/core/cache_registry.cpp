// SPDX-License-Identifier: GPL-2.0
//
// The registry of caches: a list under the glue's rw_semaphore.  Readers
// (reap, /proc, the shrinker, the API's handle checks) may sleep while
// holding it; destroy takes it for writing to unlink a cache, which also
// waits out any reader still working on that cache.
//
// Cache slots: ObjectCache memory is type-stable while splkmem is loaded.
// A destroyed cache's memory is not given back to kmalloc but parked in a
// FIFO of free slots, and a new cache takes a slot only once more than
// kQuarantineSlots others wait behind it, so that a stale handle keeps
// naming a dead cache (magic 0) across the next kQuarantineSlots destroys,
// and never memory of another type.  The pool holds at most the peak number
// of caches plus kQuarantineSlots slots; module unload frees it.
#include "cache_registry.hpp"

#include "kstd/intrusive_list.hpp"
#include "object_cache.hpp"
#include "slab_store.hpp"
#include "task_queue.hpp"
#include "version.h"

#if SPLK_IRQ_INLINE
#define SPLK_FAST_PATH_KIND "inline irq"
#elif defined(SPLK_IRQ_FALLBACK_REASON)
// The kernel could have the inline path, but scripts/gen-fastpath-asm.sh
// does not know its interrupt asm: say so, apart from the kernels that
// need the seam calls by their configuration (lockdep, PREEMPT_RT).
#define SPLK_FAST_PATH_KIND "irq via seam calls; " SPLK_IRQ_FALLBACK_REASON
#else
#define SPLK_FAST_PATH_KIND "irq via seam calls"
#endif

namespace splkmem {
namespace {

// Destroys a freed slot waits out before a new cache reuses it.
constexpr unsigned kQuarantineSlots = 64;

constinit kstd::IntrusiveList<ObjectCache> g_caches;
constinit kstd::IntrusiveList<ObjectCache> g_graveyard;
constinit kstd::IntrusiveList<ObjectCache> g_free_slots;  // oldest first
constinit unsigned g_free_slot_count;

}  // namespace

void registry_add(ObjectCache* cache) {
  RegistryWriteGuard guard;
  g_caches.push_back(cache);
}

bool registry_contains(const ObjectCache* cache) {
  for (ObjectCache* live : g_caches)
    if (live == cache) return true;
  return false;
}

bool registry_remove(ObjectCache* cache) {
  RegistryWriteGuard guard;
  if (!registry_contains(cache)) return false;
  kstd::IntrusiveList<ObjectCache>::remove(cache);
  return true;
}

void registry_bury(ObjectCache* cache) {
  RegistryWriteGuard guard;
  g_graveyard.push_back(cache);
}

void* registry_slot_alloc() {
  ObjectCache* slot = nullptr;
  {
    RegistryWriteGuard guard;
    if (g_free_slot_count > kQuarantineSlots) {
      slot = g_free_slots.front();
      kstd::IntrusiveList<ObjectCache>::remove(slot);
      --g_free_slot_count;
    }
  }
  if (slot == nullptr) return splk_kmalloc_node(ObjectCache::slot_size(), KM_SLEEP | KM_ZERO, -1);
  __builtin_memset(static_cast<void*>(slot), 0, ObjectCache::slot_size());
  return slot;
}

void registry_slot_free(ObjectCache* cache) {
  RegistryWriteGuard guard;
  g_free_slots.push_back(cache);
  ++g_free_slot_count;
}

}  // namespace splkmem

using splkmem::ObjectCache;

namespace {
splkmem::TaskQueue* g_grow_queue_owner;
}  // namespace

extern "C" void splk_for_each_cache(void (*fn)(const splk_cache_stats*, void*),
                                    void* arg) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) {
    splk_cache_stats stats;
    cache->stats(&stats);
    fn(&stats, arg);
  }
}

extern "C" bool splk_cache_stats_find(const char* name, splk_cache_stats* out) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) {
    if (!kstd::streq(cache->name(), name)) continue;
    cache->stats(out);
    out->name = name;
    return true;
  }
  return false;
}

// ---- The shrinker ----------------------------------------------------------
//
// Reclaim calls these, maybe direct reclaim of a task that holds who knows
// what, or kswapd: they never sleep on our locks and never take one for
// writing.  The registry is try-locked for reading (a busy registry means
// nothing to give back this time); the rotation that spreads scans over
// the caches is a cursor, not a change to the list.  The work itself takes
// only spinlocks; slabs are vfree()d here (reclaim_state credits them).

namespace {
// Where the next scan starts: the index of the cache after the last one
// the previous scan visited (relaxed: two scans at once start alike).
constinit uint64_t g_shrink_cursor;

// How often reclaim called us and what it got (/proc/spl/kmem/shrinker):
// the kernel's drop_slab() and kswapd call a shrinker many times per
// request, and that count is what an operator needs to see when reclaim
// is slow.  Relaxed adds: kswapd and direct reclaimers count at once, and
// nothing is ordered by these.
constinit splk_shrinker_stats g_shrink_stats{};

void count(uint64_t& counter, uint64_t n = 1) { __atomic_fetch_add(&counter, n, __ATOMIC_RELAXED); }
}  // namespace

// What the scan can free without touching any CPU (the depots' objects and
// the empty slabs), read from counters.
extern "C" uint64_t splk_core_shrink_count(void) noexcept {
  count(g_shrink_stats.count_calls);
  splkmem::RegistryTryReadGuard guard;
  if (!guard.held()) {
    count(g_shrink_stats.count_busy);
    return 0;
  }
  uint64_t n = 0;
  for (ObjectCache* cache : splkmem::g_caches) n += cache->shrinkable();
  return n;
}

// Caches in turn from the cursor to the end, then from the head up to the
// cursor, until nr objects are freed; the cursor then points past the last
// cache visited.  A cursor past the end (caches were destroyed) makes the
// first pass empty and the second the whole list.
namespace {
uint64_t shrink_scan(uint64_t nr) {
  splkmem::RegistryTryReadGuard guard;
  if (!guard.held()) {
    count(g_shrink_stats.scan_busy);
    return 0;
  }
  const uint64_t start = kstd::load_relaxed(g_shrink_cursor);
  uint64_t freed = 0;
  for (int pass = 0; pass < 2; ++pass) {
    uint64_t index = 0;
    for (ObjectCache* cache : splkmem::g_caches) {
      const bool in_pass = (index >= start) == (pass == 0);
      ++index;
      if (!in_pass) continue;
      freed += cache->shrink();
      if (freed >= nr) {
        kstd::store_relaxed(g_shrink_cursor, index);
        return freed;
      }
    }
  }
  return freed;
}
}  // namespace

extern "C" uint64_t splk_core_shrink_scan(uint64_t nr) noexcept {
  count(g_shrink_stats.scan_calls);
  const uint64_t freed = shrink_scan(nr);
  count(g_shrink_stats.scan_freed, freed);
  return freed;
}

extern "C" void splk_core_shrinker_stats(splk_shrinker_stats* out) noexcept {
  out->count_calls = kstd::load_relaxed(g_shrink_stats.count_calls);
  out->count_busy = kstd::load_relaxed(g_shrink_stats.count_busy);
  out->scan_calls = kstd::load_relaxed(g_shrink_stats.scan_calls);
  out->scan_busy = kstd::load_relaxed(g_shrink_stats.scan_busy);
  out->scan_freed = kstd::load_relaxed(g_shrink_stats.scan_freed);
}

extern "C" void splk_core_cpu_dead(unsigned cpu) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) cache->drain_dead_cpu(cpu);
}

extern "C" void splk_core_drain_this_cpu(void) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) cache->drain_if_reaped();
}

extern "C" void spl_kmem_reap(void) noexcept {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) cache->reap_now();
}

// ---- The periodic working-set update ---------------------------------------
//
// A task on the grow queue, dispatched with a delay of
// spl_kmem_cache_reap_interval_ms, updates every cache (under the registry
// read lock) and dispatches itself again.  g_update_lock orders its
// re-dispatch against module unload: unload sets g_update_stop and takes
// the id under the lock, so either the task saw the stop and did not come
// back, or unload cancels (waiting for) the id it left.

namespace {

constinit splkmem::SpinLock g_update_lock{};
constinit taskqid_t g_update_id;
constinit bool g_update_stop;

uint64_t interval_jiffies() {
  return splkmem::ms_to_jiffies(kstd::load_relaxed(spl_kmem_cache_reap_interval_ms));
}

void update_all(uint64_t now, uint64_t interval) {
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) {
    cache->update(now, interval);
    splk_cond_resched();
  }
}

void update_task(void*);

// With g_update_lock held.  0 ms: no periodic update; the task looks again
// every second in case the parameter is set.
void schedule_update() {
  const uint64_t interval = interval_jiffies();
  const uint64_t delay = interval != 0 ? interval : splk_kernel.hz;
  g_update_id =
      g_grow_queue_owner->dispatch_delay(&update_task, nullptr, TQ_NOSLEEP, splk_jiffies() + delay);
}

void update_task(void*) {
  const uint64_t interval = interval_jiffies();
  if (interval != 0) update_all(splk_jiffies(), interval);
  splkmem::SpinLockIrqGuard guard(g_update_lock);
  if (!g_update_stop) schedule_update();
}

// ---- The depot trim ticks --------------------------------------------------
//
// Two tasks for all caches (object_cache.hpp, "Giving memory back"),
// dispatched on demand by the first cache that wants one while it is not on
// its way: the window tick spl_kmem_cache_depot_trim_ms later, the soon
// tick at the next jiffy (for eager caches).  Either closes every trim
// window that is due, under the registry read lock, and is dispatched
// again while a cache asks for it.  Their entries come from the grow
// queue's preallocated pool (TQ_NOSLEEP: the dispatch may be in an
// interrupt); if none is free, the next free that finds its window open
// asks again.  g_update_lock and g_update_stop order them against module
// unload as they do the update.

struct TrimTickState {
  taskqid_t id;
  bool pending;  // under g_update_lock: dispatched, not yet started
};
constinit TrimTickState g_trim_ticks[2]{};  // kTrimWindow, kTrimSoon

TrimTickState& trim_state(splkmem::TrimTick tick) {
  return g_trim_ticks[tick == splkmem::kTrimWindow ? 0 : 1];
}

#ifdef SPLKMEM_TEST_HOOKS
bool hook_trim_tick_manual() { return kstd::load_relaxed(splk_test_hooks.trim_tick_manual) != 0; }
#else
constexpr bool hook_trim_tick_manual() { return false; }
#endif

uint64_t trim_window_jiffies() {
  return kstd::max<uint64_t>(
      splkmem::ms_to_jiffies(kstd::load_relaxed(spl_kmem_cache_depot_trim_ms)), 1);
}

// The ticks the caches still want, as a mask of TrimTick.
unsigned trim_all(uint64_t now) {
  const uint64_t window = trim_window_jiffies();
  unsigned want = splkmem::kTrimNone;
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) {
    want |= cache->trim_tick(now, window);
    splk_cond_resched();
  }
  return want;
}

void trim_task(void* arg) {
  const auto tick = static_cast<splkmem::TrimTick>(reinterpret_cast<uintptr_t>(arg));
  {
    splkmem::SpinLockIrqGuard guard(g_update_lock);
    trim_state(tick).pending = false;
  }
  if (hook_trim_tick_manual()) return;
  const unsigned want = trim_all(splk_jiffies());
  if (want & splkmem::kTrimWindow) splkmem::registry_trim_soon(splkmem::kTrimWindow);
  if (want & splkmem::kTrimSoon) splkmem::registry_trim_soon(splkmem::kTrimSoon);
}

}  // namespace

void splkmem::registry_trim_soon(TrimTick tick) {
  TrimTickState& state = trim_state(tick);
  if (kstd::load_relaxed(state.pending) || hook_trim_tick_manual()) return;
  const uint64_t delay = tick == kTrimWindow ? trim_window_jiffies() : 1;
  SpinLockIrqGuard guard(g_update_lock);
  if (state.pending || g_update_stop) return;
  state.id = g_grow_queue_owner->dispatch_delay(
      &trim_task, reinterpret_cast<void*>(uintptr_t{tick}), TQ_NOSLEEP, splk_jiffies() + delay);
  state.pending = state.id != TASKQID_INVALID;
}

// KUnit: one tick now, as if a whole window had passed (elapsed) or not.
extern "C" void splk_core_trim_now(bool elapsed) noexcept {
  trim_all(splk_jiffies() + (elapsed ? trim_window_jiffies() : 0));
}

// The checks read every CPU's magazines and their objects' tags: the
// drains reaps asked for must be done first, or one could empty a
// magazine and free its slab under the check.  Call it with no reap in
// flight (KUnit between cases, the simulation at rest).
extern "C" const char* splk_core_check_invariants(const char** name) noexcept {
  splk_drain_flush();
  splkmem::RegistryReadGuard guard;
  for (ObjectCache* cache : splkmem::g_caches) {
    if (const char* why = cache->check_invariants()) {
      *name = cache->name();
      return why;
    }
  }
  return nullptr;
}

// One update of every cache now, as if an interval had passed (KUnit).
extern "C" void splk_core_update_now(void) noexcept {
  const uint64_t interval = kstd::max<uint64_t>(interval_jiffies(), 1);
  update_all(splk_jiffies() + interval, interval);
}

// The grow task queue: spl_kmem_cache_kmem_threads threads at the highest
// priority, entries preallocated, as SPL creates it.
extern "C" int splk_core_init(void) noexcept {
  const int threads = static_cast<int>(kstd::load_relaxed(spl_kmem_cache_kmem_threads));
  splkmem::TaskQueue* queue = splkmem::TaskQueue::create(
      "spl_kmem_cache", threads, maxclsyspri, threads * 8, splkmem::TaskQueue::kUnlimitedAlloc,
      TASKQ_PREPOPULATE | TASKQ_DYNAMIC);
  if (queue == nullptr) return -SPLK_ENOMEM;
  splkmem::SlabStore::set_grow_queue(queue);
  g_grow_queue_owner = queue;
  g_update_lock.init(SPLK_LOCK_DEPOT);
  splkmem::SpinLockIrqGuard guard(g_update_lock);
  schedule_update();
  return 0;
}

// Module unload.  Consumers depend on our symbols, so they are gone: a cache
// still registered was never destroyed (reported), and the graveyard's
// slabs can finally be freed.
extern "C" void splk_core_exit(void) noexcept {
  taskqid_t update_id, trim_ids[2];
  {
    splkmem::SpinLockIrqGuard guard(g_update_lock);
    g_update_stop = true;
    update_id = g_update_id;
    // Queued, delayed or running: cancel waits for each.
    trim_ids[0] = trim_state(splkmem::kTrimWindow).id;
    trim_ids[1] = trim_state(splkmem::kTrimSoon).id;
  }
  g_grow_queue_owner->cancel(update_id, true);
  for (taskqid_t id : trim_ids) g_grow_queue_owner->cancel(id, true);
  {
    splkmem::RegistryWriteGuard guard;
    for (ObjectCache* cache : splkmem::g_caches)
      splk_log(1, "splkmem: cache '%s' was never destroyed", cache->name());
    while (ObjectCache* cache = splkmem::g_graveyard.front()) {
      kstd::IntrusiveList<ObjectCache>::remove(cache);
      cache->release_leaked();
    }
    while (ObjectCache* slot = splkmem::g_free_slots.front()) {
      kstd::IntrusiveList<ObjectCache>::remove(slot);
      splk_kfree(slot);
    }
    splkmem::g_free_slot_count = 0;
  }
  g_grow_queue_owner->destroy();
}

extern "C" const char* splk_core_version(void) noexcept {
  // Which fast path this build has (cpu_local.hpp); make run checks it.
  return "splkmem core " SPLKMEM_VERSION " (g++ " __VERSION__ "; fast path: " SPLK_FAST_PATH_KIND
         ")";
}
