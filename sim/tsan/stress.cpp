// SPDX-License-Identifier: GPL-2.0
//
// splktsan: the core on real threads under ThreadSanitizer (make
// sim-tsan).  One thread per CPU slot allocates, frees (its own objects
// and other CPUs'), reaps, shrinks, runs the working-set update and the
// trim tick, and dispatches, waits for and cancels tasks, for a number of
// seconds; the module's own background (grow tasks, the periodic update,
// trim ticks, drains, dynamic task-queue threads) runs beside it.  Then
// everything is destroyed and the invariants checked.  TSan reports any
// data race it sees (and fails the run, halt_on_error); so does any
// warning of the core, a broken invariant, or an object handed out twice
// while a caller still holds it.
//
//   splktsan [SECONDS] [CPUS]      (default 10 s, 4 CPUs)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "generated/taskq_sizes.h"
#include "real_seam.hpp"
#include "seam.h"
#include "splkmem/flags.h"

// Retired dynamic task-queue threads exit by themselves, as kthreads do,
// and are never joined: no thread-leak reports.  The suppressions file is
// given by sim/run-tsan.sh (TSAN_OPTIONS).
extern "C" const char* __tsan_default_options() {
  return "halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:report_thread_leaks=0";
}

namespace {

constexpr int kCaches = 6;
spl_kmem_cache* caches[kCaches];
size_t sizes[kCaches];
taskq_t* queue;
std::atomic<bool> stop;
std::atomic<uint64_t> ops;

// Objects handed from one CPU to another (cross-CPU frees), by cache.
std::mutex exchange_lock;
std::vector<void*> exchange[kCaches];

int ctor(void* obj, void* priv, int) {
  const auto c = reinterpret_cast<uintptr_t>(priv);
  memset(obj, static_cast<int>(0xc0 + c), sizes[c] < 16 ? sizes[c] : 16);
  return 0;
}
void dtor(void*, void*) {}

std::atomic<uint64_t> tasks_run;
void task(void* arg) {
  // Tasks allocate too, from worker threads on whatever CPU slot.
  const auto c = reinterpret_cast<uintptr_t>(arg) % kCaches;
  void* obj = spl_kmem_cache_alloc(caches[c], KM_SLEEP);
  spl_kmem_cache_free(caches[c], obj);
  tasks_run.fetch_add(1, std::memory_order_relaxed);
}

struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
};

// An object is marked with its owner while held: a second hand-out of it
// (or a write by the allocator while it is held) breaks the mark.
void mark(void* obj, size_t size, uint64_t tag) {
  if (size >= 8) memcpy(obj, &tag, 8);
}
void check_mark(void* obj, size_t size, uint64_t tag) {
  uint64_t v;
  if (size < 8) return;
  memcpy(&v, obj, 8);
  if (v != tag)
    real::die("object %p: mark %llx, want %llx: handed out twice?", obj,
              static_cast<unsigned long long>(v), static_cast<unsigned long long>(tag));
}

int cpu_main(void* arg) {
  const auto cpu = static_cast<unsigned>(reinterpret_cast<uintptr_t>(arg));
  Rng rng{0x9e3779b97f4a7c15ULL * (cpu + 1)};
  struct Held {
    void* obj;
    int cache;
  };
  std::vector<Held> held;
  std::vector<taskqid_t> ids;
  const uint64_t tag_base = uint64_t{cpu + 1} << 56;
  while (!stop.load(std::memory_order_relaxed)) {
    const unsigned r = rng.below(1000);
    if (r < 400 && held.size() < 2000) {
      const int c = static_cast<int>(rng.below(kCaches));
      void* obj = spl_kmem_cache_alloc(caches[c], rng.below(4) == 0 ? KM_NOSLEEP : KM_SLEEP);
      if (obj != nullptr) {
        mark(obj, sizes[c], tag_base | reinterpret_cast<uintptr_t>(obj));
        held.push_back({obj, c});
      }
    } else if (r < 780 && !held.empty()) {
      const size_t i = rng.below(static_cast<unsigned>(held.size()));
      Held h = held[i];
      held[i] = held.back();
      held.pop_back();
      check_mark(h.obj, sizes[h.cache], tag_base | reinterpret_cast<uintptr_t>(h.obj));
      if (rng.below(4) == 0) {
        // To another CPU, which frees it.
        std::lock_guard<std::mutex> g(exchange_lock);
        exchange[h.cache].push_back(h.obj);
      } else {
        spl_kmem_cache_free(caches[h.cache], h.obj);
      }
    } else if (r < 830) {
      void* obj = nullptr;
      int c = static_cast<int>(rng.below(kCaches));
      {
        std::lock_guard<std::mutex> g(exchange_lock);
        if (!exchange[c].empty()) {
          obj = exchange[c].back();
          exchange[c].pop_back();
        }
      }
      if (obj != nullptr) spl_kmem_cache_free(caches[c], obj);
    } else if (r < 900) {
      const unsigned k = rng.below(4);
      const taskqid_t id =
          k == 0   ? taskq_dispatch_delay(queue, task, reinterpret_cast<void*>(uintptr_t{r}),
                                          TQ_SLEEP, static_cast<long>(splk_jiffies() + rng.below(5)))
          : k == 1 ? taskq_dispatch(system_taskq, task, reinterpret_cast<void*>(uintptr_t{r}),
                                    TQ_NOSLEEP)
                   : taskq_dispatch(queue, task, reinterpret_cast<void*>(uintptr_t{r}),
                                    rng.below(3) == 0 ? TQ_FRONT : TQ_SLEEP);
      if (id != TASKQID_INVALID && k != 1) ids.push_back(id);
    } else if (r < 930 && !ids.empty()) {
      const taskqid_t id = ids[rng.below(static_cast<unsigned>(ids.size()))];
      if (rng.below(2) == 0)
        taskq_cancel_id(queue, id, rng.below(2) == 0);
      else
        taskq_wait_id(queue, id);
      if (ids.size() > 64) ids.erase(ids.begin(), ids.begin() + 32);
    } else if (r < 945) {
      spl_kmem_cache_reap_now(caches[rng.below(kCaches)]);
    } else if (r < 955) {
      splk_core_shrink_scan(splk_core_shrink_count() / 2 + 1);
    } else if (r < 965) {
      splk_core_update_now();
    } else if (r < 975) {
      splk_core_trim_now(rng.below(2) == 0);
    } else if (r < 980) {
      spl_kmem_reap();
    } else if (r < 985) {
      taskq_wait_outstanding(queue, 0);
    } else if (r < 990) {
      (void)spl_kmem_cache_inuse(caches[rng.below(kCaches)]);
    }
    ops.fetch_add(1, std::memory_order_relaxed);
  }
  for (const Held& h : held) {
    check_mark(h.obj, sizes[h.cache], tag_base | reinterpret_cast<uintptr_t>(h.obj));
    spl_kmem_cache_free(caches[h.cache], h.obj);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 10;
  if (argc > 2) real::ncpus = static_cast<unsigned>(atoi(argv[2]));
  if (real::ncpus < 1 || real::ncpus > real::kNumCpus) real::die("CPUs: 1 to %u", real::kNumCpus);
  // The background at a pace that a few seconds see many times over.
  spl_kmem_cache_reap_interval_ms = 50;
  spl_kmem_cache_depot_trim_ms = 5;
  spl_kmem_cache_depot_slack_kb = 64;
  spl_kmem_cache_depot_contention = 1;
  spl_taskq_thread_timeout_ms = 20;
  real::init();
  if (splk_core_init() != 0 || splk_taskq_init() != 0) real::die("module init failed");
  static const struct {
    size_t size;
    int flags;
    bool callbacks;
  } kinds[kCaches] = {{64, KMC_KVMEM, false},   {200, KMC_KVMEM, true}, {4096, KMC_KVMEM, false},
                      {40000, KMC_KVMEM, true}, {96, KMC_SLAB, false},  {512, KMC_SLAB, true}};
  for (int c = 0; c < kCaches; ++c) {
    char name[32];
    snprintf(name, sizeof(name), "tsan_%d", c);
    sizes[c] = kinds[c].size;
    caches[c] =
        spl_kmem_cache_create(name, kinds[c].size, 0, kinds[c].callbacks ? ctor : nullptr,
                              kinds[c].callbacks ? dtor : nullptr, nullptr,
                              reinterpret_cast<void*>(uintptr_t(c)), nullptr, kinds[c].flags);
    if (caches[c] == nullptr) real::die("cannot create cache %s", name);
  }
  queue = taskq_create("tsan_tq", 3, SPLK_MAX_RT_PRIO, 4, 64, TASKQ_PREPOPULATE | TASKQ_DYNAMIC);
  if (queue == nullptr) real::die("cannot create the task queue");

  void* threads[real::kNumCpus];
  for (unsigned c = 0; c < real::ncpus; ++c) {
    char name[24];
    snprintf(name, sizeof(name), "cpu/%u", c);
    threads[c] = real::spawn(cpu_main, reinterpret_cast<void*>(uintptr_t{c}), name, c);
  }
  timespec ts{static_cast<time_t>(seconds),
              static_cast<long>((seconds - static_cast<time_t>(seconds)) * 1e9)};
  nanosleep(&ts, nullptr);
  stop = true;
  for (unsigned c = 0; c < real::ncpus; ++c) real::join(threads[c]);
  for (int c = 0; c < kCaches; ++c)
    for (void* obj : exchange[c]) spl_kmem_cache_free(caches[c], obj);

  taskq_wait(queue);
  taskq_wait(system_taskq);
  const char* name = nullptr;
  if (const char* why = splk_core_check_invariants(&name)) real::die("cache '%s': %s", name, why);
  if (const char* why = splk_core_check_task_queues(&name))
    real::die("task queue '%s': %s", name, why);
  taskq_destroy(queue);
  for (spl_kmem_cache* skc : caches) spl_kmem_cache_destroy(skc);
  splk_taskq_fini();
  splk_drain_flush();
  splk_core_exit();
  real::fini();
  if (real::warning_count() != 0) real::die("%lu warnings", real::warning_count());
  // A TSan report aborted the run before this (halt_on_error).
  printf("splktsan: PASS: %u CPUs, %.0f s, %llu operations, %llu tasks run\n", real::ncpus, seconds,
         static_cast<unsigned long long>(ops.load()),
         static_cast<unsigned long long>(tasks_run.load()));
  return 0;
}
