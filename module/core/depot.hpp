// SPDX-License-Identifier: GPL-2.0
//
// Depot: one cache's full and empty magazines between its CPUs and its
// slabs (illumos kmem_depot, XNU skmem_cache's depot).  A CPU whose two
// magazines are both empty trades an empty one for a full one here; one
// whose two are both full trades a full one for an empty one.  So one
// CPU's frees feed another CPU's allocations a magazine at a time, and the
// slabs are only reached when the depot has nothing to trade.
//
// Working set (illumos kmem_depot_ws_update/ws_reap): each list remembers
// the fewest magazines it held since the last update.  At an update that
// minimum becomes the reap limit and the minimum restarts at the current
// count.  What stayed in the depot for a whole interval (the smaller of the
// limit and the current minimum) is what nobody needed, and a reap takes
// exactly that; a cache in steady use draws its lists down every interval
// and keeps everything.
//
// Trim window (ObjectCache's depot trim, object_cache.hpp): opening one
// remembers how many objects the full magazines hold; a CPU's draw lowers
// that mark.  What is still below the mark when the window closes sat in
// the depot untouched all the while: idle, as what stays under the
// working-set minimum for an interval is, at a far shorter time scale.
//
// Contention: lock() counts the times the lock was found held; the cache's
// periodic update turns that into a bigger magazine size (illumos
// kmem_cache_magazine_resize).
//
// Locking: lock_ is taken with interrupts off (trades happen in a CPU's
// irq-off section, which may be in an interrupt), never together with the
// slab store's lock: objects only move between a magazine and the slabs
// with the depot lock dropped.
#pragma once

#include "kernel_objects.hpp"
#include "magazine.hpp"

namespace splkmem {

class Depot : kstd::NonCopyable {
 public:
  void init() { lock_.init(SPLK_LOCK_DEPOT); }

  // A full magazine in exchange for empty (which the depot keeps), or
  // nullptr with nothing exchanged.
  Magazine* trade_for_full(Magazine* empty);
  // An empty magazine in exchange for full, or nullptr with nothing
  // exchanged.
  Magazine* trade_for_empty(Magazine* full);
  // A full magazine the caller made room for with a new empty one.
  void put_full(Magazine* full);
  void put_empty(Magazine* empty);

  // Starts a new working-set interval (see above).
  void ws_update();
  // Opens a trim window (see above).
  void open_window();
  // Closes it: full magazines from the top, as many as it takes to bring
  // the depot down by what stayed idle beyond keep objects (idle_only), or
  // down to keep objects, moved to the caller's stack.
  void take_beyond(uint64_t keep, bool idle_only, MagazineStack* full);
  // Moves what the last interval did not use to the caller's stacks.
  void take_unused(MagazineStack* full, MagazineStack* empty);
  // Moves everything (reap_now, resize, destroy).
  void take_all(MagazineStack* full, MagazineStack* empty);

  // Lock contention since the last call.
  uint64_t take_contention();
  // True when a CPU traded with the depot since the last call.
  bool take_activity();

  // Statistics; approximate unless the caller excludes trades.
  uint64_t full_count() const { return kstd::load_relaxed(full_.count); }
  uint64_t empty_count() const { return kstd::load_relaxed(empty_.count); }
  // Objects in the full magazines, what a shrinker may free here.
  uint64_t rounds() const { return kstd::load_relaxed(rounds_); }

  // Debug (check_invariants()): nullptr when, under lock_, the full list
  // holds only full magazines and the empty list only empty ones, each
  // list as long as its count, rounds_ the sum of the full list's objects,
  // every magazine's capacity between 1 and max_size, and no working-set
  // minimum above its count; else the invariant found broken.
  const char* check(uint32_t max_size);
  // Debug: whether mag is on either list (a CPU's magazine must not be).
  bool holds(const Magazine* mag);

 private:
  struct List {
    MagazineStack stack;
    uint64_t count;      // == stack.count, readable without the lock
    uint64_t min;        // fewest since the last ws_update()
    uint64_t reaplimit;  // min of the last whole interval

    void push(Magazine* mag);
    Magazine* pop();
    void update() {
      reaplimit = min;
      min = count;
    }
    // Magazines to reap: unused for the last whole interval.
    uint64_t unused() const { return kstd::min(reaplimit, min); }
  };

  unsigned long lock();
  void unlock(unsigned long flags) { lock_.unlock_irqrestore(flags); }
  // Under lock_: a full magazine went to or left the full list.  Only a
  // CPU's draw (drawn) lowers the window's mark.
  void add_rounds(uint64_t n) { kstd::store_relaxed(rounds_, rounds_ + n); }
  void sub_rounds(uint64_t n, bool drawn);

  SpinLock lock_;
  List full_;
  List empty_;
  uint64_t rounds_;      // objects in full_, under lock_
  uint64_t window_low_;  // fewest since open_window(), under lock_
  uint64_t contention_;  // under lock_
  uint64_t trades_;      // under lock_
  uint64_t trades_seen_;
};

}  // namespace splkmem
