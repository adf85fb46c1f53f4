// SPDX-License-Identifier: GPL-2.0
//
// Wait queues and the task queue's idle sleep on the host, with the
// kernel's prepare-check-schedule idiom: the waiter is on the queue and
// marked sleeping before it checks its condition, so a wake-up that comes
// while the condition is evaluated (the condition itself takes locks:
// switch points) is never lost; and a wake-up that comes before the
// sleep makes the sleep return at once.
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"

namespace {

sim_waitq* as_wq(void* w) {
  auto* wq = static_cast<sim_waitq*>(w);
  if (wq->magic != SIM_WAITQ_MAGIC)
    sim::fail("bad wait queue", "wait queue %p used before init or after it was freed", w);
  return wq;
}

void wq_add(sim_waitq* wq, sim::Thread* t) {
  if (t->wq == wq) return;
  t->wq = wq;
  t->wq_prev = nullptr;
  t->wq_next = static_cast<sim::Thread*>(wq->head);
  if (t->wq_next != nullptr) t->wq_next->wq_prev = t;
  wq->head = t;
}

void wq_del(sim::Thread* t) {
  sim_waitq* wq = t->wq;
  if (wq == nullptr) return;
  if (t->wq_prev != nullptr)
    t->wq_prev->wq_next = t->wq_next;
  else
    wq->head = t->wq_next;
  if (t->wq_next != nullptr) t->wq_next->wq_prev = t->wq_prev;
  t->wq = nullptr;
  t->wq_next = t->wq_prev = nullptr;
}

}  // namespace

extern "C" {

void splk_waitq_init(void* w) noexcept {
  auto* wq = static_cast<sim_waitq*>(w);
  wq->magic = SIM_WAITQ_MAGIC;
  wq->head = nullptr;
}

void splk_waitq_wake_all(void* w) noexcept {
  sim::point("wake_up_all", sim::kWake);
  for (auto* t = static_cast<sim::Thread*>(as_wq(w)->head); t != nullptr; t = t->wq_next)
    sim::wake(t);
}

// Every waiter here is non-exclusive (wait_event()), so wake_up() wakes
// them all, as in the kernel.

long splk_waitq_wait(void* w, bool (*done)(void*), void* arg, long timeout,
                     bool interruptible) noexcept {
  sim::point("wait_event", sim::kLock);
  sim::check_may_sleep("wait_event");
  sim_waitq* wq = as_wq(w);
  sim::Thread* t = sim::current;
  t->wait_site = __builtin_return_address(0);
  const uint64_t deadline = timeout >= 0 ? sim::jiffies + static_cast<uint64_t>(timeout) : 0;
  for (;;) {
    wq_add(wq, t);
    t->sleep_state = interruptible ? 2 : 1;
    const bool ok = done(arg);
    if (ok || (timeout >= 0 && sim::jiffies >= deadline)) {
      wq_del(t);
      t->wait_site = nullptr;
      t->sleep_state = 0;
      if (timeout < 0) return 0;
      if (!ok) return 0;
      return sim::jiffies < deadline ? static_cast<long>(deadline - sim::jiffies) : 1;
    }
    const int64_t left = timeout >= 0 ? static_cast<int64_t>(deadline - sim::jiffies) : -1;
    sim::block(interruptible ? "wait_event_interruptible" : "wait_event", interruptible, left,
               true);
  }
}

void splk_tq_prepare_idle(void) noexcept { sim::current->sleep_state = 2; }

long splk_tq_idle(long timeout) noexcept {
  sim::check_may_sleep("schedule_timeout");
  const uint64_t start = sim::jiffies;
  if (sim::current->sleep_state == 0) return timeout < 0 ? 1 : timeout;
  const bool woken = sim::block("taskq idle", true, timeout < 0 ? -1 : timeout, true);
  if (timeout < 0) return 1;
  if (!woken) return 0;
  const uint64_t slept = sim::jiffies - start;
  return slept >= static_cast<uint64_t>(timeout) ? 1 : timeout - static_cast<long>(slept);
}

void splk_tq_cancel_idle(void) noexcept { sim::current->sleep_state = 0; }

void splk_tq_thread_wake(void* thread) noexcept {
  sim::point("wake_up_process", sim::kWake);
  sim::wake(static_cast<sim::Thread*>(thread));
}

}  // extern "C"
