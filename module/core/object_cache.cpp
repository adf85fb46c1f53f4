// SPDX-License-Identifier: GPL-2.0
//
// ObjectCache: what both kinds share of creation and destruction, the
// magazine slow paths, reaping, the working-set update, the shrinker's
// part and the statistics.  The theory is in object_cache.hpp.
#include "object_cache.hpp"

namespace splkmem {

// ---- Creation and destruction (orchestrated in cache_factory.cpp) -------

bool ObjectCache::init_common(const CacheParams& p, const CreateSettings& s, uint32_t mag_size,
                              uint32_t mag_max) {
  magic_ = kMagic;
  __builtin_memcpy(name_, p.name, kstd::strnlen(p.name, SPL_KMEM_CACHE_NAME_MAX) + 1);
  flags_ = static_cast<unsigned>(s.flags);
  ctor_ = p.ctor;
  dtor_ = p.dtor;
  priv_ = p.priv;
  obj_size_ = p.size;
  obj_align_ = s.align;
  owner_ = s.owner;
  mag_size_ = mag_size;
  mag_max_ = kstd::max(mag_size, mag_max);
  depot_.init();
  return cpus_.init(mag_size);
}

// Every magazine (the CPUs' and the depot's) emptied and freed.
void ObjectCache::destroy_magazines() {
  purge_depot();
  cpus_.destroy(sink());
}

uint64_t ObjectCache::teardown() {
  splk_might_sleep();
  kstd::test_and_set_bit(flags_, KMC_BIT_DESTROY);
  quiesce();
  destroy_magazines();
  const uint64_t live = outstanding();
  if (live != 0) {
    // Freeing the slabs would leave the caller's pointers dangling: keep
    // them until module unload (release_leaked()).  The handle is dead:
    // later calls on it are refused by the API's magic check.
    magic_ = kDestroyedMagic;
    splk_warn(
        "cache '%s' destroyed with %llu objects still allocated; its memory is kept until splkmem "
        "is unloaded",
        name_, static_cast<unsigned long long>(live));
    return live;
  }
  destroy_layer();
  kstd::store_relaxed(magic_, 0u);
  return 0;
}

void ObjectCache::reject_free(void* obj, const char* why) {
  splk_warn("cache '%s': free of %p rejected: %s", name_, obj, why);
}

// ---- The magazine slow paths ----------------------------------------------

// This CPU's loaded magazine is full.  The previous magazine or a depot
// trade makes room without touching the slabs; failing both, a new empty
// magazine (the depot then holds the full one: frees feed allocations on
// other CPUs), and failing that (no memory), half the loaded magazine
// goes back to the layer below, as in SPL.  A depot that now holds more
// than it keeps gets a trim window.
void ObjectCache::push_all(void* const* objs, uint32_t n) {
  uint32_t done = 0;
  while (done < n) {
    done += cpus_.push_many(objs + done, n - done);
    if (done < n) push_slow(objs[done++]);
  }
}

void ObjectCache::push_slow(void* obj) {
  Magazine* spare = nullptr;
  bool tried = false;
  cpu::IrqSave irq;
  for (;;) {
    if (Magazine* mag = cpus_.reload_for_free(depot_)) {
      mag->objs[mag->avail++] = obj;
      break;
    }
    if (spare != nullptr) {
      // False when room appeared meanwhile: the spare stays ours.
      if (cpus_.load_empty(depot_, spare)) spare = nullptr;
      continue;
    }
    if (!tried) {
      tried = true;
      irq.release();
      spare = Magazine::create(kstd::load_relaxed(mag_size_), KM_NOSLEEP, -1);
      irq.acquire();
      if (spare != nullptr) continue;
    }
    Magazine* mag = cpus_.loaded();
    flush(mag, mag->refill);
    mag->objs[mag->avail++] = obj;
    break;
  }
  irq.release();
  if (spare != nullptr) depot_.put_empty(spare);
  if (depot_.rounds() > depot_keep()) open_trim_window();
}

void ObjectCache::flush(Magazine* mag, uint32_t count) {
  const uint32_t n = kstd::min(count, mag->avail);
  sink()(mag->objs, n);
  mag->avail -= n;
  __builtin_memmove(mag->objs, mag->objs + n, mag->avail * sizeof(void*));
}

void ObjectCache::release_magazines(MagazineStack* full, MagazineStack* empty, bool aged) {
  const ObjectSink out = sink();
  while (Magazine* mag = full->pop()) {
    out(mag->objs, mag->avail, aged);
    Magazine::destroy(mag);
  }
  while (Magazine* mag = empty->pop()) Magazine::destroy(mag);
}

void ObjectCache::purge_depot() {
  MagazineStack full, empty;
  depot_.take_all(&full, &empty);
  release_magazines(&full, &empty, true);
}

// ---- The depot trim, reaping, the working-set update, the shrinker --------

uint64_t ObjectCache::depot_keep() const {
  return uint64_t{kstd::load_relaxed(spl_kmem_cache_depot_slack_kb)} * 1024 / obj_size_;
}

// Any context.  One window at a time: a free that finds one open leaves
// its mark where the first excess put it, and only asks for the tick
// again (which costs nothing while one is on its way, and brings one if
// the dispatch that opened the window found no free task entry).
void ObjectCache::open_trim_window() {
  if (!kstd::load_relaxed(trim_open_) && !__atomic_exchange_n(&trim_open_, 1u, __ATOMIC_ACQ_REL)) {
    kstd::store_relaxed(trim_opened_, splk_jiffies());
    depot_.open_window();
  }
  owner_->trim_soon(kstd::load_relaxed(trim_eager_) ? kTrimSoon : kTrimWindow);
}

// In a trim tick.  The emptied magazines
// stay in the depot as empty ones (the frees after a burst want them);
// the working-set update frees those nobody uses.
unsigned ObjectCache::trim_tick(uint64_t now, uint64_t window) {
  registry_assert_held();
  if (!kstd::load_relaxed(trim_open_)) return kTrimNone;
  const bool eager = kstd::load_relaxed(trim_eager_);
  // Signed: a free may have opened the window after this tick read now.
  const auto open_for = static_cast<int64_t>(now - kstd::load_relaxed(trim_opened_));
  if (!eager && open_for < static_cast<int64_t>(window)) return kTrimWindow;
  MagazineStack full;
  depot_.take_beyond(depot_keep(), !eager, &full);
  // A patient window with idle excess, or none (the CPUs drew on it).
  if (!eager) kstd::store_relaxed(trim_eager_, full.empty() ? 0u : 1u);
  if (!full.empty()) {
    const ObjectSink out = sink();
    const uint32_t size = kstd::load_relaxed(mag_size_);
    while (Magazine* mag = full.pop()) {
      out(mag->objs, mag->avail, true);
      mag->avail = 0;
      if (mag->size == size)
        depot_.put_empty(mag);
      else
        Magazine::destroy(mag);  // of the size before a resize
    }
    reclaim(0);  // the slabs this emptied, stamped as aged
    __atomic_fetch_add(&depot_trims_, 1, __ATOMIC_RELAXED);
  }
  // Closed first, then looked at again: a free that found the window open
  // meanwhile did not open another, so this one must.
  __atomic_store_n(&trim_open_, 0u, __ATOMIC_SEQ_CST);
  if (depot_.rounds() <= depot_keep() || __atomic_exchange_n(&trim_open_, 1u, __ATOMIC_ACQ_REL))
    return kTrimNone;
  kstd::store_relaxed(trim_opened_, splk_jiffies());
  depot_.open_window();
  return kstd::load_relaxed(trim_eager_) ? kTrimSoon : kTrimWindow;
}

// Cheap for the caller, as SPL's (which flushes the calling CPU only):
// this CPU's magazines, the depot and the empty slabs now; every other
// online CPU empties its own magazines in its drain work (one for all
// caches reaped meanwhile), in its irq-off section, so no fast path on it
// races with the drain, and the reap waits for none of them.  Offline
// CPUs were drained when they went down (drain_dead_cpu()).
void ObjectCache::reap_now() {
  if (kstd::test_and_set_bit(flags_, KMC_BIT_REAPING)) return;
  ask_cpus_to_drain();
  splk_drain_request();
  purge_depot();
  reclaim(~0ULL);
  end_reap();
}

// A new reap generation, which every CPU's drain work honours; this CPU
// honours it now.  True when this CPU's magazines held objects.
bool ObjectCache::ask_cpus_to_drain() {
  const uint32_t gen = __atomic_add_fetch(&reap_gen_, 1, __ATOMIC_RELAXED);
  cpu::IrqSave irq;
  return cpus_.drain_if_asked(gen, sink());
}

// The shrinker found the depots and empty slabs spent (cache_shrinker.cpp):
// the reaps' request, without REAPING (nothing waits for it).  The slabs
// this CPU's objects emptied are freed here; the other CPUs' drain work
// frees theirs (drain_if_reaped()).
void ObjectCache::drain_cpus_for_shrinker() {
  if (ask_cpus_to_drain()) reclaim(~0ULL);
}

void ObjectCache::end_reap() {
  __atomic_fetch_and(&flags_, ~(1UL << KMC_BIT_REAPING), __ATOMIC_SEQ_CST);
  reap_done();
}

void ObjectCache::reap_done() {}

// In this CPU's drain work (cache_walks.cpp): the reaps' request.  The
// slabs this emptied are freed here, even while a reap holds REAPING (its
// own reclaim may have run before these objects came back); REAPING,
// which keeps growth waiting, is ours to clear only if we set it.
void ObjectCache::drain_if_reaped() {
  bool drained;
  {
    cpu::IrqSave irq;
    drained = cpus_.drain_if_asked(kstd::load_relaxed(reap_gen_), sink());
  }
  if (!drained) return;
  const bool reaping = !kstd::test_and_set_bit(flags_, KMC_BIT_REAPING);
  reclaim(~0ULL);
  if (reaping) end_reap();
}

// On a CPU whose magazines sat unused for an interval (update()).
void ObjectCache::drain_idle_cpu(void* arg) {
  auto* cache = static_cast<ObjectCache*>(arg);
  cpu::IrqSave irq;
  cache->cpus_.drain_this_cpu(cache->sink(), true);
}

// CPU hotplug: cpu is dead, so nothing touches its magazines any more.
void ObjectCache::drain_dead_cpu(unsigned cpu) {
  if (!valid()) return;
  cpus_.drain_cpu(cpu, sink());
}

void ObjectCache::update(uint64_t now, uint64_t interval) {
  depot_.ws_update();
  // Eagerness lasts an interval: the next excess gets a window again.
  kstd::store_relaxed(trim_eager_, 0u);
  // A CPU whose magazines did not change for a whole interval while no
  // CPU traded with the depot is idle: its objects go back too (illumos
  // leaves them; then an idle cache never gives back its last magazines).
  // Only those CPUs are visited, each in a kworker bound to it.
  const bool traded = depot_.take_activity();
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu)
    if (splk_cpu_possible(cpu) && cpus_.unchanged_since_update(cpu) && !traded)
      splk_on_cpu(cpu, &ObjectCache::drain_idle_cpu, this);
  // Contention on the depot lock means CPUs trade magazines too often:
  // bigger magazines for this cache (illumos kmem_cache_magazine_resize).
  // New magazines get the new size; the depot's are purged so that they
  // are replaced, and each CPU's are replaced as it trades them in.
  const uint64_t contention = depot_.take_contention();
  const unsigned threshold = kstd::load_relaxed(spl_kmem_cache_depot_contention);
  if (threshold != 0 && contention > threshold && mag_size_ < mag_max_) {
    kstd::store_relaxed(mag_size_, kstd::min(mag_size_ * 2, mag_max_));
    ++mag_resizes_;
    purge_depot();
  }
  MagazineStack full, empty;
  depot_.take_unused(&full, &empty);
  release_magazines(&full, &empty, true);
  reclaim(now > interval ? now - interval : 0);
}

uint64_t ObjectCache::shrinkable() { return depot_.rounds() + reclaimable(); }

uint64_t ObjectCache::shrink() {
  const uint64_t before = shrinkable();
  if (before == 0) return 0;
  purge_depot();
  reclaim(~0ULL);
  const uint64_t after = shrinkable();
  return before > after ? before - after : 0;
}

// ---- Statistics and invariants --------------------------------------------

void ObjectCache::stats(splk_cache_stats* out) {
  *out = splk_cache_stats{};
  out->name = name_;
  out->flags = kstd::load_relaxed(flags_);
  out->obj_size = obj_size_;
  out->obj_align = obj_align_;
  out->mag_size = kstd::load_relaxed(mag_size_);
  out->mag_refill = Magazine::refill_for(static_cast<uint32_t>(out->mag_size));
  out->mag_resizes = kstd::load_relaxed(mag_resizes_);
  out->cpu_objs = cpus_.rounds();
  out->depot_full = depot_.full_count();
  out->depot_empty = depot_.empty_count();
  out->depot_objs = depot_.rounds();
  out->depot_keep = depot_keep();
  out->depot_trims = kstd::load_relaxed(depot_trims_);
  out->trim_open = kstd::load_relaxed(trim_open_) != 0;
  out->trim_eager = kstd::load_relaxed(trim_eager_) != 0;
  out->mag_objs = out->cpu_objs + out->depot_objs;
  layer_stats(out);
}

const char* ObjectCache::check_invariants() {
  if (!valid()) return "the magic word is not a live cache's";
  if (const char* why = depot_.check(kstd::load_relaxed(mag_max_))) return why;
  if (const char* why = cpus_.check_apart_from(depot_)) return why;
  return check_layer();
}

}  // namespace splkmem
