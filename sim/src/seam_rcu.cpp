// SPDX-License-Identifier: GPL-2.0
//
// RCU and the reaps' drain requests on the host.
//
// RCU: a reader is a thread with splk_rcu_read_lock() held, interrupts off
// or in an interrupt (the kernel's consolidated RCU counts irq-off regions
// as readers).  splk_kfree_rcu() and splk_vfree_rcu() note which threads
// are readers at the call; the memory is freed at the first switch point
// where each of them has been seen outside any read section since (a
// reader preempted inside rcu_read_lock() keeps it waiting, as with
// PREEMPT_RCU).  Seeing a thread outside once is enough: its section of
// the call has ended, whatever it entered later.
//
// Drains: splk_drain_request() counts a request for each online CPU but
// the caller's and starts a thread bound to that CPU unless one is alive;
// the thread runs splk_core_drain_this_cpu() until it has served every
// request counted (the kernel's per-CPU work item, which runs again when
// it is queued while running).  splk_drain_flush() joins them.
#include <vector>

#include "memory.hpp"
#include "rcu.hpp"
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"

namespace {

struct Deferred {
  void* ptr;
  bool vmalloc;
  std::vector<const sim::Thread*> readers;  // still to be seen outside
};

std::vector<Deferred> deferred;
bool polling;

bool in_read_section(const sim::Thread* t) {
  return t->run != sim::Run::kDead && (t->rcu_nesting > 0 || t->irqs_off || t->in_irq > 0);
}

void free_now(const Deferred& d) {
  sim::trace("rcu grace period");
  if (d.vmalloc)
    sim::mem::vfree(d.ptr, 0);
  else
    sim::mem::free(d.ptr, sim::mem::kKmalloc, "kfree_rcu");
}

void poll_grace_periods() {
  if (polling || deferred.empty()) return;
  polling = true;
  for (size_t i = 0; i < deferred.size();) {
    auto& readers = deferred[i].readers;
    for (size_t r = 0; r < readers.size();) {
      if (!in_read_section(readers[r])) {
        readers[r] = readers.back();
        readers.pop_back();
      } else {
        ++r;
      }
    }
    if (!readers.empty()) {
      ++i;
      continue;
    }
    free_now(deferred[i]);
    deferred[i] = std::move(deferred.back());
    deferred.pop_back();
  }
  polling = false;
}

void defer(void* ptr, bool vmalloc) {
  if (ptr == nullptr) return;
  sim::point_hook = poll_grace_periods;
  Deferred d{ptr, vmalloc, {}};
  for (const sim::Thread* t : sim::threads())
    if (in_read_section(t)) d.readers.push_back(t);
  deferred.push_back(std::move(d));
}

constexpr unsigned kMaxCpus = 64;
sim::Thread* drainer[kMaxCpus];
uint64_t drain_requested[kMaxCpus], drain_served[kMaxCpus];

int drain_main(void* arg) {
  const auto cpu = static_cast<unsigned>(reinterpret_cast<uintptr_t>(arg));
  while (drain_served[cpu] != drain_requested[cpu]) {
    drain_served[cpu] = drain_requested[cpu];
    splk_core_drain_this_cpu();
  }
  return 0;
}

}  // namespace

extern "C" {

void splk_rcu_read_lock(void) noexcept {
  sim::point("rcu_read_lock");
  ++sim::current->rcu_nesting;
}

void splk_rcu_read_unlock(void) noexcept {
  if (sim::current->rcu_nesting <= 0) sim::fail("bad unlock", "rcu_read_unlock without a lock");
  --sim::current->rcu_nesting;
  sim::point("rcu_read_unlock");
}

void splk_kfree_rcu(void* obj) noexcept {
  sim::point("kfree_rcu", sim::kAlloc);
  defer(obj, false);
}

void splk_vfree_rcu(void* ptr, size_t) noexcept {
  sim::point("vfree_rcu", sim::kAlloc);
  defer(ptr, true);
}

void splk_drain_request(void) noexcept {
  sim::point("drain_request");
  const int self = sim::current->cpu;
  for (unsigned c = 0; c < sim::cfg.ncpus && c < kMaxCpus; ++c) {
    if (static_cast<int>(c) == self || !sim::cpu_online(c)) continue;
    ++drain_requested[c];
    if (drainer[c] != nullptr && !drainer[c]->exited) continue;  // it serves this one too
    drainer[c] =
        sim::spawn(drain_main, reinterpret_cast<void*>(uintptr_t{c}), "drain", static_cast<int>(c));
  }
}

// Several threads may flush at once (the invariant checks of two
// drivers): each waits a jiffy at a time, none joins (a thread has one
// joiner only).
void splk_drain_flush(void) noexcept {
  sim::check_may_sleep("flush_work");
  for (sim::Thread* t : drainer)
    while (t != nullptr && !t->exited) sim::block("flush_work (drain)", false, 1);
}

#ifdef SPLKMEM_TEST_HOOKS
void splk_test_udelay(unsigned int) noexcept { sim::point("udelay"); }
#endif

}  // extern "C"

void sim::rcu_barrier() {
  for (const Deferred& d : deferred) free_now(d);
  deferred.clear();
}
