// SPDX-License-Identifier: GPL-2.0
//
// CpuLayer: setup, the swaps and depot trades of the slow paths, and
// draining.  The design is in cpu_layer.hpp.
#include "cpu_layer.hpp"

#include "test_hooks.hpp"

namespace splkmem {

bool CpuLayer::init(uint32_t size) {
  // Per-CPU memory starts zeroed: no CPU has seen or honoured anything.
  if (!cpu::alloc(&loaded_) || !cpu::alloc(&previous_) || !cpu::alloc(&seen_) ||
      !cpu::alloc(&drained_)) {
    free_slots();
    return false;
  }
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) {
    if (!splk_cpu_possible(cpu)) continue;
    const int node = splk_cpu_to_node(cpu);
    Magazine* loaded = Magazine::create(size, KM_SLEEP, node);
    Magazine* previous = Magazine::create(size, KM_SLEEP, node);
    if (loaded == nullptr || previous == nullptr) {
      Magazine::destroy(loaded);
      Magazine::destroy(previous);
      destroy(ObjectSink{});
      return false;
    }
    set_loaded(cpu, loaded);
    set_previous(cpu, previous);
  }
  return true;
}

// Per-CPU memory starts zeroed: CPUs init() did not reach hold nullptr.
void CpuLayer::destroy(const ObjectSink& sink) {
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) {
    if (!splk_cpu_possible(cpu) || loaded_on(cpu) == nullptr) continue;
    drain_cpu(cpu, sink);
    Magazine::destroy(loaded_on(cpu));
    Magazine::destroy(previous_on(cpu));
  }
  free_slots();
}

void CpuLayer::free_slots() {
  if (loaded_.offset != nullptr) cpu::free(&loaded_);
  if (previous_.offset != nullptr) cpu::free(&previous_);
  if (seen_.offset != nullptr) cpu::free(&seen_);
  if (drained_.offset != nullptr) cpu::free(&drained_);
}

Magazine* CpuLayer::reload_for_alloc(Depot& depot) {
  Magazine* loaded = cpu::read(loaded_);
  if (!loaded->empty()) return loaded;
  const unsigned cpu = loaded->cpu;
  Magazine* previous = previous_on(cpu);
  if (!previous->empty()) {
    swap(cpu, loaded, previous);
    return previous;
  }
  Magazine* full = depot.trade_for_full(numa::part_of_cpu(cpu), previous);
  if (full == nullptr) return loaded;
  set_previous(cpu, loaded);
  set_loaded(cpu, full);
  return full;
}

Magazine* CpuLayer::reload_for_free(Depot& depot) {
  Magazine* loaded = cpu::read(loaded_);
  if (!loaded->full()) return loaded;
  const unsigned cpu = loaded->cpu;
  Magazine* previous = previous_on(cpu);
  if (!previous->full()) {
    swap(cpu, loaded, previous);
    return previous;
  }
  Magazine* empty = depot.trade_for_empty(numa::part_of_cpu(cpu), previous);
  if (empty == nullptr) return nullptr;
  set_previous(cpu, loaded);
  set_loaded(cpu, empty);
  return empty;
}

bool CpuLayer::load_empty(Depot& depot, Magazine* spare) {
  Magazine* loaded = cpu::read(loaded_);
  const unsigned cpu = loaded->cpu;
  Magazine* previous = previous_on(cpu);
  if (!loaded->full() || !previous->full()) return false;
  depot.put_full(numa::part_of_cpu(cpu), previous);
  set_previous(cpu, loaded);
  set_loaded(cpu, spare);
  return true;
}

void CpuLayer::drain_cpu(unsigned cpu, const ObjectSink& sink, bool aged) {
  Magazine* mags[] = {loaded_on(cpu), previous_on(cpu)};
  for (Magazine* mag : mags) {
    if (mag == nullptr) continue;
    if (sink.release != nullptr) sink(mag->objs, mag->avail, aged);
    mag->avail = 0;
  }
}

void CpuLayer::drain_this_cpu(const ObjectSink& sink, bool aged) {
  drain_cpu(cpu::read(loaded_)->cpu, sink, aged);
}

bool CpuLayer::drain_if_asked(uint32_t gen, const ObjectSink& sink) {
  const unsigned cpu = cpu::read(loaded_)->cpu;
  uint32_t* drained = cpu::on_cpu(drained_, cpu);
  if (kstd::load_relaxed(*drained) == gen) return false;
  kstd::store_relaxed(*drained, gen);
  drain_cpu(cpu, sink);
  return true;
}

// Reads another CPU's magazines without stopping it: a stale answer costs
// at most one refill of a CPU that was busy after all.  The magazines are
// only read, under RCU (see the top of cpu_layer.hpp).
bool CpuLayer::unchanged_since_update(unsigned cpu) {
  Magazine* loaded;
  uint64_t now;
  {
    RcuReadGuard rcu;
    loaded = kstd::load_relaxed(*cpu::on_cpu(loaded_, cpu));
    Magazine* previous = kstd::load_relaxed(*cpu::on_cpu(previous_, cpu));
    hook_race_window();
    now = kstd::load_relaxed(loaded->avail) |
          static_cast<uint64_t>(kstd::load_relaxed(previous->avail)) << 32;
  }
  // loaded is compared, never dereferenced, from here on.
  Seen* seen = cpu::on_cpu(seen_, cpu);
  const bool unchanged = now != 0 && kstd::load_relaxed(seen->loaded) == loaded &&
                         kstd::load_relaxed(seen->rounds) == now;
  kstd::store_relaxed(seen->loaded, loaded);
  kstd::store_relaxed(seen->rounds, now);
  return unchanged;
}

uint64_t CpuLayer::rounds() const {
  RcuReadGuard rcu;
  uint64_t n = 0;
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) {
    if (!splk_cpu_possible(cpu)) continue;
    const Magazine* loaded = loaded_on(cpu);
    const Magazine* previous = previous_on(cpu);
    hook_race_window();
    n += kstd::load_relaxed(loaded->avail);
    n += kstd::load_relaxed(previous->avail);
  }
  return n;
}

const char* CpuLayer::check(bool (*free_obj)(const void* ctx, void* obj), const void* ctx) const {
  RcuReadGuard rcu;
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) {
    if (!splk_cpu_possible(cpu)) continue;
    const Magazine* mags[] = {loaded_on(cpu), previous_on(cpu)};
    for (const Magazine* mag : mags) {
      if (mag == nullptr) return "a CPU has no magazine";
      if (mag->magic != Magazine::kMagic) return "a CPU's magazine has a bad magic";
      if (mag->avail > mag->size) return "a CPU's magazine holds more than its size";
      for (uint32_t i = 0; i < mag->avail; ++i)
        if (!free_obj(ctx, mag->objs[i])) return "a magazine holds an object not marked free";
    }
    if (loaded_on(cpu) == previous_on(cpu)) return "a CPU's two magazines are one";
  }
  return nullptr;
}

// A magazine loaded on a CPU and on a depot list at once would be filled
// by the CPU while another CPU trades it out of the depot.
const char* CpuLayer::check_apart_from(Depot& depot) const {
  RcuReadGuard rcu;
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) {
    if (!splk_cpu_possible(cpu)) continue;
    if (depot.holds(loaded_on(cpu)) || depot.holds(previous_on(cpu)))
      return "a CPU's magazine is also in the depot";
  }
  return nullptr;
}

}  // namespace splkmem
