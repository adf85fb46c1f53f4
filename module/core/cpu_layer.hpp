// SPDX-License-Identifier: GPL-2.0
//
// CpuLayer: each CPU's two magazines, loaded and previous (illumos
// kmem_cpu_cache).  The fast paths only ever touch the loaded one: a pop
// or a push with interrupts off, the magazine found through one per-CPU
// slot read %gs-relative (cpu_local.hpp).  When the loaded magazine is
// empty (alloc) or full (free), the slow path, still with interrupts off:
//
//   1. swaps loaded and previous if that helps (previous has rounds for an
//      alloc, room for a free): no lock at all;
//   2. else trades with the depot: previous goes in, a full (alloc) or
//      empty (free) magazine comes out and is loaded, the old loaded one
//      becomes previous;
//   3. else the cache goes to its slabs (refill or flush the loaded
//      magazine), or for a free makes a new empty magazine.
//
// Both magazines of a CPU always exist (a CPU never finds its slot empty),
// so the fast path tests nothing but avail.  Only the owning CPU changes
// its slots and their contents, with interrupts off; a dead CPU (hotplug)
// is drained from another.  Other CPUs read a CPU's slots and magazines
// (the working-set update, statistics) under the RCU read lock, and write
// nothing there: a magazine they found may be traded into the depot and
// freed meanwhile, a grace period later (magazine.hpp).  What the update
// remembers of a CPU is in a per-CPU record of its own (Seen).
//
// Nodes: a CPU trades only with its own node's part of the depot
// (depot.hpp, numa.hpp); its magazines are allocated on its node.
//
// Reaps: a reap empties the calling CPU's magazines and asks the others
// to empty theirs (reap generation, drain_if_asked()) in a drain work each
// (splk_drain_request()), without waiting for them.
#pragma once

#include "cpu_local.hpp"
#include "depot.hpp"
#include "kernel_objects.hpp"
#include "magazine.hpp"

namespace splkmem {

class CpuLayer : kstd::NonCopyable {
 public:
  // Two empty magazines of size rounds on every possible CPU.
  bool init(uint32_t size);
  // Every magazine emptied into sink and freed.
  void destroy(const ObjectSink& sink);

  // The fast paths: interrupts off for the pop or push alone; false when
  // the loaded magazine is empty (pop) or full (push).
  [[gnu::always_inline]] bool pop(void** obj);
  [[gnu::always_inline]] bool push(void* obj);
  // Batches: up to n objects off (pop_many) or onto (push_many) the loaded
  // magazine in one irq-off section; how many moved.
  uint32_t pop_many(void** objs, uint32_t n);
  uint32_t push_many(void* const* objs, uint32_t n);
  // The same push inside the caller's irq-off section.
  [[gnu::always_inline]] bool push_irqs_off(void* obj);

  // Interrupts off.  This CPU's loaded magazine, made non-empty from the
  // previous one or the depot if they can; it may still be empty (the
  // caller refills it from the slabs).
  Magazine* reload_for_alloc(Depot& depot);
  // Interrupts off.  This CPU's loaded magazine with room, from the
  // previous one or the depot; nullptr when neither had room (the caller
  // brings a new empty magazine, load_empty(), or flushes).
  Magazine* reload_for_free(Depot& depot);
  // Interrupts off.  Loads spare (empty) on this CPU; the previous
  // magazine, full, goes to the depot.  False, spare untouched, when the
  // loaded magazine has room again (the CPU changed meanwhile).
  bool load_empty(Depot& depot, Magazine* spare);

  // Interrupts off on this CPU (or cpu dead): both its magazines emptied
  // into sink.
  void drain_this_cpu(const ObjectSink& sink, bool aged = false);
  void drain_cpu(unsigned cpu, const ObjectSink& sink, bool aged = false);
  // Interrupts off: this CPU's magazines emptied into sink unless it
  // already honoured reap generation gen; true when it drained.
  bool drain_if_asked(uint32_t gen, const ObjectSink& sink);
  // The working-set update: true when cpu's magazines hold objects and
  // look as they did at the last update (same loaded magazine, same
  // rounds in both), so it probably did not use them for an interval.
  bool unchanged_since_update(unsigned cpu);

  // Interrupts off: this CPU's loaded magazine.
  Magazine* loaded() const { return cpu::read(loaded_); }
  // Objects in every CPU's magazines (statistics, no lock but RCU's).
  uint64_t rounds() const;
  // Debug: nullptr when every CPU has its two magazines, sane, holding
  // only objects free_obj(ctx, obj) accepts; else what is wrong.
  const char* check(bool (*free_obj)(const void* ctx, void* obj), const void* ctx) const;
  // Debug: nullptr when no CPU's magazine is also on a depot list.
  const char* check_apart_from(Depot& depot) const;

 private:
  // Marked accesses: rounds(), the update and /proc read other CPUs'
  // pointers while their owners trade magazines (under RCU, which keeps
  // what they read alive; a stale pointer is fine, a torn one is not).
  Magazine* loaded_on(unsigned cpu) const { return kstd::load_relaxed(*cpu::on_cpu(loaded_, cpu)); }
  Magazine* previous_on(unsigned cpu) const {
    return kstd::load_relaxed(*cpu::on_cpu(previous_, cpu));
  }
  void free_slots();
  // With interrupts off, cpu being this CPU (read from its magazine: the
  // slow path has no cheaper way to its number).
  void set_loaded(unsigned cpu, Magazine* mag) {
    mag->cpu = cpu;
    kstd::store_relaxed(*cpu::on_cpu(loaded_, cpu), mag);
  }
  void set_previous(unsigned cpu, Magazine* mag) {
    kstd::store_relaxed(*cpu::on_cpu(previous_, cpu), mag);
  }
  void swap(unsigned cpu, Magazine* loaded, Magazine* previous) {
    set_loaded(cpu, previous);
    set_previous(cpu, loaded);
  }

  // What the working-set update saw of a CPU: its loaded magazine and
  // the rounds of both.  Only the update reads and writes it.
  struct Seen {
    Magazine* loaded;
    uint64_t rounds;
  };

  cpu::PerCpu<Magazine*> loaded_;  // first: the fast paths' one slot
  cpu::PerCpu<Magazine*> previous_;
  cpu::PerCpu<Seen> seen_;
  cpu::PerCpu<uint32_t> drained_;  // the reap generation the CPU honoured
};

[[gnu::always_inline]] inline bool CpuLayer::pop(void** obj) {
  const unsigned long irq = cpu::irq_save();
  Magazine* mag = cpu::read(loaded_);
  const uint32_t avail = mag->avail;
  if (kstd::unlikely(avail == 0)) {
    cpu::irq_restore(irq);
    return false;
  }
  *obj = mag->objs[avail - 1];
  mag->avail = avail - 1;
  cpu::irq_restore(irq);
  return true;
}

[[gnu::always_inline]] inline bool CpuLayer::push_irqs_off(void* obj) {
  Magazine* mag = cpu::read(loaded_);
  const uint32_t avail = mag->avail;
  if (kstd::unlikely(avail >= mag->size)) return false;
  mag->objs[avail] = obj;
  mag->avail = avail + 1;
  return true;
}

// push() repeats push_irqs_off() rather than wrapping it: with one
// restore on each of its two exits the plain caches' magazine-hit pair is
// 85 instruction-ns, with the wrapper's single join 89 (gate, 2026-12-07).
[[gnu::always_inline]] inline bool CpuLayer::push(void* obj) {
  const unsigned long irq = cpu::irq_save();
  Magazine* mag = cpu::read(loaded_);
  const uint32_t avail = mag->avail;
  if (kstd::unlikely(avail >= mag->size)) {
    cpu::irq_restore(irq);
    return false;
  }
  mag->objs[avail] = obj;
  mag->avail = avail + 1;
  cpu::irq_restore(irq);
  return true;
}

inline uint32_t CpuLayer::pop_many(void** objs, uint32_t n) {
  const unsigned long irq = cpu::irq_save();
  Magazine* mag = cpu::read(loaded_);
  const uint32_t k = kstd::min(n, mag->avail);
  for (uint32_t i = 0; i < k; ++i) objs[i] = mag->objs[mag->avail - 1 - i];
  mag->avail -= k;
  cpu::irq_restore(irq);
  return k;
}

inline uint32_t CpuLayer::push_many(void* const* objs, uint32_t n) {
  const unsigned long irq = cpu::irq_save();
  Magazine* mag = cpu::read(loaded_);
  const uint32_t k = kstd::min(n, mag->size - kstd::min(mag->size, mag->avail));
  for (uint32_t i = 0; i < k; ++i) mag->objs[mag->avail + i] = objs[i];
  mag->avail += k;
  cpu::irq_restore(irq);
  return k;
}

}  // namespace splkmem
