// SPDX-License-Identifier: GPL-2.0
//
// The shrinker's entry points (seam.h: splk_core_shrink_count/scan) and
// their statistics (/proc/spl/kmem/shrinker).
//
// Reclaim calls these, maybe direct reclaim of a task that holds who knows
// what, or kswapd: they never sleep on our locks and never take one for
// writing.  The registry is try-locked for reading (a busy registry means
// nothing to give back this time); the rotation that spreads scans over
// the caches is a cursor, not a change to the list.  The work itself takes
// only spinlocks; slabs are vfree()d here (reclaim_state credits them).
#include "cache_registry.hpp"

using splkmem::ObjectCache;

namespace {
// Where the next scan starts: the index of the cache after the last one
// the previous scan visited (relaxed: two scans at once start alike).
constinit uint64_t g_shrink_cursor;

// Jiffies of the last request that CPUs drain their magazines (relaxed:
// two scans at once may both ask, which costs a second drain, no more).
constinit uint64_t g_cpu_drain_at;

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
  for (ObjectCache* cache : splkmem::registry_caches()) n += cache->shrinkable();
  return n;
}

namespace {
// A scan that freed less than it was asked for has spent every depot and
// empty slab; what is left for reclaim sits in the CPUs' magazines (after
// ZFS's churn and two drop_caches, 7 MB of zio buffers, and Linux slabs
// pinned by the magazines in front of them).  Every CPU is asked to empty
// its own, as a reap asks, without waiting: the objects go back to their
// slabs, and each CPU's drain work frees the slabs that empties, for this
// reclaim's next pass.  At most once a second, so that steady pressure
// does not strip the magazines on every scan.
void drain_cpus_if_due() {
  const uint64_t now = splk_jiffies();
  const uint64_t last = kstd::load_relaxed(g_cpu_drain_at);
  if (last != 0 && now - last < splkmem::ms_to_jiffies(1000)) return;
  kstd::store_relaxed(g_cpu_drain_at, now);
  count(g_shrink_stats.cpu_drains);
  for (ObjectCache* cache : splkmem::registry_caches()) cache->drain_cpus_for_shrinker();
  splk_drain_request();
}

// Caches in turn from the cursor to the end, then from the head up to the
// cursor, until nr objects are freed; the cursor then points past the last
// cache visited.  A cursor past the end (caches were destroyed) makes the
// first pass empty and the second the whole list.
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
    for (ObjectCache* cache : splkmem::registry_caches()) {
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
  drain_cpus_if_due();
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
  out->cpu_drains = kstd::load_relaxed(g_shrink_stats.cpu_drains);
}
