// SPDX-License-Identifier: GPL-2.0
//
// Depot: the magazine exchange and its working-set bookkeeping, one part
// per NUMA node.  The design is in depot.hpp.
#include "depot.hpp"

namespace splkmem {
namespace {

#ifdef SPLKMEM_TEST_HOOKS
bool hook_trylock_fails() { return kstd::load_relaxed(splk_test_hooks.depot_trylock_fails); }
#else
constexpr bool hook_trylock_fails() { return false; }
#endif

}  // namespace

void Depot::Part::List::push(Magazine* mag) {
  stack.push(mag);
  kstd::store_relaxed(count, stack.count);
}

Magazine* Depot::Part::List::pop() {
  Magazine* mag = stack.pop();
  if (mag == nullptr) return nullptr;
  kstd::store_relaxed(count, stack.count);
  if (count < min) min = count;
  return mag;
}

void Depot::Part::sub_rounds(uint64_t n, bool drawn) {
  lock_.assert_held();
  kstd::store_relaxed(rounds_, rounds_ - n);
  if (drawn && rounds_ < window_low_) window_low_ = rounds_;
}

// A trylock first, so that contention is seen and counted.
unsigned long Depot::Part::lock() {
  unsigned long flags;
  if (!hook_trylock_fails() && lock_.try_lock_irqsave(&flags)) return flags;
  flags = lock_.lock_irqsave();
  ++contention_;
  return flags;
}

Magazine* Depot::Part::trade_for_full(Magazine* empty) {
  Guard guard(*this);
  Magazine* full = full_.pop();
  if (full != nullptr) {
    ++trades_;
    sub_rounds(full->avail, true);
    empty_.push(empty);
  }
  return full;
}

Magazine* Depot::Part::trade_for_empty(Magazine* full) {
  Guard guard(*this);
  Magazine* empty = empty_.pop();
  if (empty != nullptr) {
    ++trades_;
    full_.push(full);
    add_rounds(full->avail);
  }
  return empty;
}

void Depot::Part::put_full(Magazine* full) {
  Guard guard(*this);
  ++trades_;
  full_.push(full);
  add_rounds(full->avail);
}

void Depot::Part::put_empty(Magazine* empty) {
  Guard guard(*this);
  empty_.push(empty);
}

void Depot::Part::ws_update() {
  Guard guard(*this);
  full_.update();
  empty_.update();
}

void Depot::Part::open_window() {
  Guard guard(*this);
  window_low_ = rounds_;
}

Magazine* Depot::Part::take_empty() {
  Guard guard(*this);
  Magazine* empty = empty_.pop();
  if (empty != nullptr) ++trades_;
  return empty;
}

uint64_t Depot::Part::trimmable(bool idle_only) {
  Guard guard(*this);
  const uint64_t idle = idle_only ? kstd::min(window_low_, rounds_) : rounds_;
  return idle;
}

uint64_t Depot::Part::take_rounds(uint64_t n, MagazineStack* full) {
  Guard guard(*this);
  const uint64_t before = rounds_;
  const uint64_t target = rounds_ - kstd::min(n, rounds_);
  while (rounds_ > target) {
    Magazine* mag = full_.pop();
    if (mag == nullptr) break;
    sub_rounds(mag->avail, false);
    full->push(mag);
  }
  const uint64_t taken = before - rounds_;
  return taken;
}

void Depot::Part::take_unused(MagazineStack* full, MagazineStack* empty) {
  Guard guard(*this);
  for (uint64_t n = full_.unused(); n > 0; --n) {
    Magazine* mag = full_.pop();
    sub_rounds(mag->avail, false);
    full->push(mag);
  }
  for (uint64_t n = empty_.unused(); n > 0; --n) empty->push(empty_.pop());
}

void Depot::Part::take_all(MagazineStack* full, MagazineStack* empty) {
  Guard guard(*this);
  while (Magazine* mag = full_.pop()) full->push(mag);
  while (Magazine* mag = empty_.pop()) empty->push(mag);
  sub_rounds(rounds_, false);
}

uint64_t Depot::Part::take_contention() {
  SpinLockIrqGuard guard(lock_);
  const uint64_t n = contention_;
  contention_ = 0;
  return n;
}

bool Depot::Part::take_activity() {
  SpinLockIrqGuard guard(lock_);
  const bool active = trades_ != trades_seen_;
  trades_seen_ = trades_;
  return active;
}

namespace {

// One list's magazines: sane, full (or empty), and no more than counted,
// which also ends the walk of a list that loops.  The full list's
// objects are added to *rounds.
const char* check_list(const MagazineStack& stack, uint64_t count, bool full, uint32_t max_size,
                       uint64_t* rounds) {
  uint64_t n = 0;
  for (const Magazine* mag = stack.top; mag != nullptr; mag = mag->next) {
    if (++n > stack.count) return "a depot list is longer than its count (or loops)";
    if (mag->magic != Magazine::kMagic) return "a depot magazine has a bad magic";
    if (mag->size == 0 || mag->size > max_size)
      return "a depot magazine's capacity is outside 1..the cache's largest";
    if (mag->avail > mag->size) return "a depot magazine holds more than its capacity";
    if (full && !mag->full()) return "the depot's full list holds a magazine that is not full";
    if (!full && !mag->empty()) return "the depot's empty list holds a magazine with objects";
    *rounds += mag->avail;
  }
  if (n != stack.count) return "a depot list is shorter than its count";
  if (count != stack.count) return "a depot list's lock-free count differs from its length";
  return nullptr;
}

}  // namespace

const char* Depot::Part::check(uint32_t max_size) {
  SpinLockIrqGuard guard(lock_);
  uint64_t rounds = 0;
  if (const char* why = check_list(full_.stack, full_.count, true, max_size, &rounds)) return why;
  if (rounds != rounds_) return "the depot's rounds differ from its full magazines' objects";
  if (const char* why = check_list(empty_.stack, empty_.count, false, max_size, &rounds))
    return why;
  // Each minimum is the fewest since the last update, and a push leaves
  // it where it was: never above the count.
  if (full_.min > full_.count || empty_.min > empty_.count)
    return "a depot list's working-set minimum exceeds its count";
  return nullptr;
}

bool Depot::Part::holds(const Magazine* mag) {
  SpinLockIrqGuard guard(lock_);
  const Magazine* tops[] = {full_.stack.top, empty_.stack.top};
  for (const Magazine* m : tops)
    for (uint64_t n = 0; m != nullptr && n <= full_.count + empty_.count; m = m->next, ++n)
      if (m == mag) return true;
  return false;
}

// ---- The whole depot: every part ------------------------------------------

unsigned Depot::home_of(const Magazine* full, unsigned part) {
  if (kstd::likely(!numa::objects_tell_part()) || full->avail == 0) return part;
  const int oldest = splk_obj_node(full->objs[0]);
  if (oldest < 0 || splk_obj_node(full->objs[full->avail - 1]) != oldest) return part;
  return numa::part_of_node(oldest);
}

// Two locks one after the other, never together: the empty magazine is
// the caller's once taken, and full is nobody else's until it is put.
Magazine* Depot::trade_for_empty(unsigned part, Magazine* full) {
  const unsigned home = home_of(full, part);
  if (home == part) return parts_[part].trade_for_empty(full);
  Magazine* empty = parts_[part].take_empty();
  if (empty != nullptr) parts_[home].put_full(full);
  return empty;
}

void Depot::ws_update() {
  for (Part& part : parts_) part.ws_update();
}

void Depot::open_window() {
  for (Part& part : parts_) part.open_window();
}

// On one node this is the single depot's trim: what stayed idle beyond
// keep goes.  On several, keep is the whole depot's slack, and the excess
// is taken part by part, each giving at most what it left idle.  The
// parts are read, then taken from, each under its own lock: a trade in
// between moves the figures a little, as a trade right after the trim
// would.
void Depot::take_beyond(uint64_t keep, bool idle_only, MagazineStack* full) {
  uint64_t idle[numa::kMaxNodes];
  uint64_t total = 0;
  for (unsigned i = 0; i < numa::kMaxNodes; ++i) total += idle[i] = parts_[i].trimmable(idle_only);
  if (total <= keep) return;
  uint64_t excess = total - keep;
  for (unsigned i = 0; i < numa::kMaxNodes && excess > 0; ++i) {
    if (idle[i] == 0) continue;
    const uint64_t taken = parts_[i].take_rounds(kstd::min(excess, idle[i]), full);
    excess -= kstd::min(excess, taken);
  }
}

void Depot::take_unused(MagazineStack* full, MagazineStack* empty) {
  for (Part& part : parts_) part.take_unused(full, empty);
}

void Depot::take_all(MagazineStack* full, MagazineStack* empty) {
  for (Part& part : parts_) part.take_all(full, empty);
}

uint64_t Depot::take_contention() {
  uint64_t n = 0;
  for (Part& part : parts_) n += part.take_contention();
  return n;
}

bool Depot::take_activity() {
  bool active = false;
  for (Part& part : parts_) active |= part.take_activity();  // every part: each resets
  return active;
}

uint64_t Depot::full_count() const {
  uint64_t n = 0;
  for (const Part& part : parts_) n += kstd::load_relaxed(part.full_.count);
  return n;
}

uint64_t Depot::empty_count() const {
  uint64_t n = 0;
  for (const Part& part : parts_) n += kstd::load_relaxed(part.empty_.count);
  return n;
}

uint64_t Depot::rounds() const {
  uint64_t n = 0;
  for (const Part& part : parts_) n += kstd::load_relaxed(part.rounds_);
  return n;
}

const char* Depot::check(uint32_t max_size) {
  for (Part& part : parts_)
    if (const char* why = part.check(max_size)) return why;
  return nullptr;
}

bool Depot::holds(const Magazine* mag) {
  for (Part& part : parts_)
    if (part.holds(mag)) return true;
  return false;
}

}  // namespace splkmem
