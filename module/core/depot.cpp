// SPDX-License-Identifier: GPL-2.0
//
// Depot: the magazine exchange and its working-set bookkeeping.  The design
// is in depot.hpp.
#include "depot.hpp"

namespace splkmem {
namespace {

#ifdef SPLKMEM_TEST_HOOKS
bool hook_trylock_fails() { return kstd::load_relaxed(splk_test_hooks.depot_trylock_fails); }
#else
constexpr bool hook_trylock_fails() { return false; }
#endif

}  // namespace

void Depot::List::push(Magazine* mag) {
  stack.push(mag);
  kstd::store_relaxed(count, stack.count);
}

Magazine* Depot::List::pop() {
  Magazine* mag = stack.pop();
  if (mag == nullptr) return nullptr;
  kstd::store_relaxed(count, stack.count);
  if (count < min) min = count;
  return mag;
}

void Depot::sub_rounds(uint64_t n, bool drawn) {
  kstd::store_relaxed(rounds_, rounds_ - n);
  if (drawn && rounds_ < window_low_) window_low_ = rounds_;
}

// A trylock first, so that contention is seen and counted.
unsigned long Depot::lock() {
  unsigned long flags;
  if (!hook_trylock_fails() && lock_.try_lock_irqsave(&flags)) return flags;
  flags = lock_.lock_irqsave();
  ++contention_;
  return flags;
}

Magazine* Depot::trade_for_full(Magazine* empty) {
  const unsigned long flags = lock();
  Magazine* full = full_.pop();
  if (full != nullptr) {
    ++trades_;
    sub_rounds(full->avail, true);
    empty_.push(empty);
  }
  unlock(flags);
  return full;
}

Magazine* Depot::trade_for_empty(Magazine* full) {
  const unsigned long flags = lock();
  Magazine* empty = empty_.pop();
  if (empty != nullptr) {
    ++trades_;
    full_.push(full);
    add_rounds(full->avail);
  }
  unlock(flags);
  return empty;
}

void Depot::put_full(Magazine* full) {
  const unsigned long flags = lock();
  ++trades_;
  full_.push(full);
  add_rounds(full->avail);
  unlock(flags);
}

void Depot::put_empty(Magazine* empty) {
  const unsigned long flags = lock();
  empty_.push(empty);
  unlock(flags);
}

void Depot::ws_update() {
  const unsigned long flags = lock();
  full_.update();
  empty_.update();
  unlock(flags);
}

void Depot::open_window() {
  const unsigned long flags = lock();
  window_low_ = rounds_;
  unlock(flags);
}

void Depot::take_beyond(uint64_t keep, bool idle_only, MagazineStack* full) {
  const unsigned long flags = lock();
  const uint64_t idle = idle_only ? kstd::min(window_low_, rounds_) : rounds_;
  if (idle > keep) {
    const uint64_t target = rounds_ - (idle - keep);
    while (rounds_ > target) {
      Magazine* mag = full_.pop();
      if (mag == nullptr) break;
      sub_rounds(mag->avail, false);
      full->push(mag);
    }
  }
  unlock(flags);
}

void Depot::take_unused(MagazineStack* full, MagazineStack* empty) {
  const unsigned long flags = lock();
  for (uint64_t n = full_.unused(); n > 0; --n) {
    Magazine* mag = full_.pop();
    sub_rounds(mag->avail, false);
    full->push(mag);
  }
  for (uint64_t n = empty_.unused(); n > 0; --n) empty->push(empty_.pop());
  unlock(flags);
}

void Depot::take_all(MagazineStack* full, MagazineStack* empty) {
  const unsigned long flags = lock();
  while (Magazine* mag = full_.pop()) full->push(mag);
  while (Magazine* mag = empty_.pop()) empty->push(mag);
  sub_rounds(rounds_, false);
  unlock(flags);
}

uint64_t Depot::take_contention() {
  unsigned long flags = lock_.lock_irqsave();
  const uint64_t n = contention_;
  contention_ = 0;
  lock_.unlock_irqrestore(flags);
  return n;
}

bool Depot::take_activity() {
  unsigned long flags = lock_.lock_irqsave();
  const bool active = trades_ != trades_seen_;
  trades_seen_ = trades_;
  lock_.unlock_irqrestore(flags);
  return active;
}

}  // namespace splkmem
