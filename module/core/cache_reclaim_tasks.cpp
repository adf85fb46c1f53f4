// SPDX-License-Identifier: GPL-2.0
//
// The caches' background tasks (cache_reclaim_tasks.hpp).
//
// The periodic working-set update: a task on the grow queue, dispatched
// with a delay of spl_kmem_cache_reap_interval_ms, updates every cache
// (under the registry read lock) and dispatches itself again.
//
// The depot trim ticks: two tasks for all caches (object_cache.hpp,
// "Giving memory back"), dispatched on demand by the first cache that
// wants one while it is not on its way: the window tick
// spl_kmem_cache_depot_trim_ms later, the soon tick at the next jiffy (for
// eager caches).  Either closes every trim window that is due, under the
// registry read lock, and is dispatched again while a cache asks for it.
// Their entries come from the grow queue's preallocated pool (TQ_NOSLEEP:
// the dispatch may be in an interrupt); if none is free, the next free
// that finds its window open asks again.
//
// g_update_lock orders every re-dispatch against module unload: unload
// sets g_update_stop and takes the ids under the lock, so either a task
// saw the stop and did not come back, or unload cancels (waiting for) the
// id it left.
#include "cache_reclaim_tasks.hpp"

#include "cache_registry.hpp"

namespace splkmem {
namespace {

// Set once at module init, before any cache exists.
constinit TaskQueue* g_queue;

constinit SpinLock g_update_lock{};
constinit taskqid_t g_update_id SPLK_GUARDED_BY(g_update_lock);
constinit bool g_update_stop SPLK_GUARDED_BY(g_update_lock);

struct TrimTickState {
  taskqid_t id SPLK_GUARDED_BY(g_update_lock);
  // Dispatched, not yet started.  Written under the lock with relaxed
  // stores, so the look before the lock is a marked read of a hint.
  bool pending SPLK_GUARDED_BY(g_update_lock);
};
constinit TrimTickState g_trim_ticks[2]{};  // kTrimWindow, kTrimSoon

TrimTickState& trim_state(TrimTick tick) { return g_trim_ticks[tick == kTrimWindow ? 0 : 1]; }

uint64_t interval_jiffies() {
  return ms_to_jiffies(kstd::load_relaxed(spl_kmem_cache_reap_interval_ms));
}

void update_all(uint64_t now, uint64_t interval) {
  RegistryReadGuard guard;
  for (ObjectCache* cache : registry_caches()) {
    cache->update(now, interval);
    splk_cond_resched();
  }
}

void update_task(void*);

// 0 ms: no periodic update; the task looks again every second in case
// the parameter is set.
void schedule_update() {
  g_update_lock.assert_held();
  const uint64_t interval = interval_jiffies();
  const uint64_t delay = interval != 0 ? interval : splk_kernel.hz;
  g_update_id = g_queue->dispatch_delay(&update_task, nullptr, TQ_NOSLEEP, splk_jiffies() + delay);
}

void update_task(void*) {
  const uint64_t interval = interval_jiffies();
  if (interval != 0) update_all(splk_jiffies(), interval);
  SpinLockIrqGuard guard(g_update_lock);
  if (!g_update_stop) schedule_update();
}

#ifdef SPLKMEM_TEST_HOOKS
bool hook_trim_tick_manual() { return kstd::load_relaxed(splk_test_hooks.trim_tick_manual) != 0; }
#else
constexpr bool hook_trim_tick_manual() { return false; }
#endif

uint64_t trim_window_jiffies() {
  return kstd::max<uint64_t>(ms_to_jiffies(kstd::load_relaxed(spl_kmem_cache_depot_trim_ms)), 1);
}

// The ticks the caches still want, as a mask of TrimTick.
unsigned trim_all(uint64_t now) {
  const uint64_t window = trim_window_jiffies();
  unsigned want = kTrimNone;
  RegistryReadGuard guard;
  for (ObjectCache* cache : registry_caches()) {
    want |= cache->trim_tick(now, window);
    splk_cond_resched();
  }
  return want;
}

void trim_soon(TrimTick tick);

void trim_task(void* arg) {
  const auto tick = static_cast<TrimTick>(reinterpret_cast<uintptr_t>(arg));
  {
    SpinLockIrqGuard guard(g_update_lock);
    kstd::store_relaxed(trim_state(tick).pending, false);
  }
  if (hook_trim_tick_manual()) return;
  const unsigned want = trim_all(splk_jiffies());
  if (want & kTrimWindow) trim_soon(kTrimWindow);
  if (want & kTrimSoon) trim_soon(kTrimSoon);
}

void trim_soon(TrimTick tick) {
  TrimTickState& state = trim_state(tick);
  if (kstd::load_relaxed(state.pending) || hook_trim_tick_manual()) return;
  const uint64_t delay = tick == kTrimWindow ? trim_window_jiffies() : 1;
  SpinLockIrqGuard guard(g_update_lock);
  if (state.pending || g_update_stop) return;
  state.id = g_queue->dispatch_delay(&trim_task, reinterpret_cast<void*>(uintptr_t{tick}),
                                     TQ_NOSLEEP, splk_jiffies() + delay);
  kstd::store_relaxed(state.pending, state.id != TASKQID_INVALID);
}

constinit const CacheOwner g_owner = {&trim_soon};

}  // namespace

const CacheOwner* reclaim_tasks_owner() { return &g_owner; }

void reclaim_tasks_start(TaskQueue* queue) {
  g_queue = queue;
  g_update_lock.init(SPLK_LOCK_DEPOT);
  SpinLockIrqGuard guard(g_update_lock);
  schedule_update();
}

void reclaim_tasks_stop() {
  taskqid_t update_id, trim_ids[2];
  {
    SpinLockIrqGuard guard(g_update_lock);
    g_update_stop = true;
    update_id = g_update_id;
    // Queued, delayed or running: cancel waits for each.
    trim_ids[0] = trim_state(kTrimWindow).id;
    trim_ids[1] = trim_state(kTrimSoon).id;
  }
  g_queue->cancel(update_id, true);
  for (taskqid_t id : trim_ids) g_queue->cancel(id, true);
}

}  // namespace splkmem

// KUnit: one tick now, as if a whole window had passed (elapsed) or not.
extern "C" void splk_core_trim_now(bool elapsed) noexcept {
  splkmem::trim_all(splk_jiffies() + (elapsed ? splkmem::trim_window_jiffies() : 0));
}

// One update of every cache now, as if an interval had passed (KUnit).
extern "C" void splk_core_update_now(void) noexcept {
  const uint64_t interval = kstd::max<uint64_t>(splkmem::interval_jiffies(), 1);
  splkmem::update_all(splk_jiffies() + interval, interval);
}
