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
// Nodes (issue 26, item 3; numa.hpp): the depot is kMaxNodes parts, one
// per NUMA node, each with its own lock, lists and working set.  A CPU
// draws full magazines only from its own node's part, and takes empty
// ones from there.  It never takes a full magazine from another node's
// part: it goes to its node's slabs instead (slab_store.hpp keeps slabs
// per node too), which costs memory only until the working-set update or
// the trim gives the idle part's magazines back.
//
// Routing: a full magazine goes to the part of its objects' node, read
// when it enters the depot (a slow path: one page-table walk each for its
// oldest and its newest object, splk_obj_node(), a trade of up to 256
// frees): so objects one node allocated and the other freed go back to a
// CPU of the first.  When the two disagree (a mixed magazine) it stays
// with the freeing CPU's part.  What the freeing CPU keeps in its own two
// magazines is handed out on its node: the free fast path cannot afford
// to look up an object's node (docs/design.md, "NUMA").
//
// Reclaim sees every part: the working-set update, the trim, reaps and
// the statistics walk them all, and the trim's slack is for the whole
// depot, as on one node.  Without NUMA only part 0 is ever used, nothing
// is routed, and everything above is the single depot it was.
//
// Locking: each part's lock_ is taken with interrupts off (trades happen
// in a CPU's irq-off section, which may be in an interrupt), never
// together with another part's or the slab store's lock: objects only
// move between a magazine and the slabs with the depot lock dropped, and
// a routed trade takes its empty magazine and puts its full one under
// each part's lock in turn.
#pragma once

#include "kernel_objects.hpp"
#include "magazine.hpp"
#include "numa.hpp"

namespace splkmem {

class Depot : kstd::NonCopyable {
 public:
  void init() {
    for (Part& part : parts_) part.lock_.init(SPLK_LOCK_DEPOT);
  }

  // The trades of a CPU whose objects belong to part (numa::part_of_cpu()).
  // A full magazine in exchange for empty (which the depot keeps), or
  // nullptr with nothing exchanged.
  Magazine* trade_for_full(unsigned part, Magazine* empty) {
    return parts_[part].trade_for_full(empty);
  }
  // An empty magazine in exchange for full, or nullptr with nothing
  // exchanged.  full goes to the part of its objects' node (see Routing
  // above), the empty one comes from part.
  Magazine* trade_for_empty(unsigned part, Magazine* full);
  // A full magazine the caller made room for with a new empty one, to the
  // part of its objects' node.
  void put_full(unsigned part, Magazine* full) { parts_[home_of(full, part)].put_full(full); }
  // An empty magazine, to the part of the CPU it was last loaded on (an
  // empty one holds no objects: its part only decides whose frees get it).
  void put_empty(Magazine* empty) { parts_[numa::part_of_cpu(empty->cpu)].put_empty(empty); }

  // Starts a new working-set interval (see above), every part.
  void ws_update();
  // Opens a trim window (see above), every part.
  void open_window();
  // Closes it: full magazines from the top, as many as it takes to bring
  // the depot down by what stayed idle beyond keep objects (idle_only), or
  // down to keep objects, moved to the caller's stack.  keep is for the
  // whole depot; the parts give in order, each at most its idle objects.
  void take_beyond(uint64_t keep, bool idle_only, MagazineStack* full);
  // Moves what the last interval did not use to the caller's stacks.
  void take_unused(MagazineStack* full, MagazineStack* empty);
  // Moves everything (reap_now, resize, destroy).
  void take_all(MagazineStack* full, MagazineStack* empty);

  // Lock contention since the last call, every part.
  uint64_t take_contention();
  // True when a CPU traded with any part since the last call.
  bool take_activity();

  // Statistics, every part; approximate unless the caller excludes trades.
  uint64_t full_count() const;
  uint64_t empty_count() const;
  // Objects in the full magazines, what a shrinker may free here.
  uint64_t rounds() const;
  // One part's (tests).
  uint64_t part_rounds(unsigned part) const { return kstd::load_relaxed(parts_[part].rounds_); }
  uint64_t part_full_count(unsigned part) const {
    return kstd::load_relaxed(parts_[part].full_.count);
  }

  // Debug (check_invariants()): nullptr when, under its lock, every part's
  // full list holds only full magazines and its empty list only empty
  // ones, each list as long as its count, its rounds_ the sum of its full
  // list's objects, every magazine's capacity between 1 and max_size, and
  // no working-set minimum above its count; else the invariant found
  // broken.
  const char* check(uint32_t max_size);
  // Debug: whether mag is on any part's lists (a CPU's magazine must not
  // be).
  bool holds(const Magazine* mag);

 private:
  // The part full belongs in: that of its objects' node when its oldest
  // and newest objects agree on one, else part (the freeing CPU's).
  static unsigned home_of(const Magazine* full, unsigned part);

  // One node's depot: what the whole depot was before there were nodes.
  struct Part {
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

    Magazine* trade_for_full(Magazine* empty);
    Magazine* trade_for_empty(Magazine* full);
    // An empty magazine (a trade whose full one goes to another part), or
    // nullptr.
    Magazine* take_empty();
    void put_full(Magazine* full);
    void put_empty(Magazine* empty);
    void ws_update();
    void open_window();
    // Objects a trim may take: those idle since the window opened
    // (idle_only), else all.
    uint64_t trimmable(bool idle_only);
    // Full magazines off the top until n objects are gone (or none is
    // left), to full; the objects taken.
    uint64_t take_rounds(uint64_t n, MagazineStack* full);
    void take_unused(MagazineStack* full, MagazineStack* empty);
    void take_all(MagazineStack* full, MagazineStack* empty);
    uint64_t take_contention();
    bool take_activity();
    const char* check(uint32_t max_size);
    bool holds(const Magazine* mag);

    // lock_ for a scope, taken by lock(): a trylock first, so that
    // contention is counted.
    class Guard : kstd::NonCopyable {
     public:
      explicit Guard(Part& part) : part_(part), flags_(part.lock()) {}
      ~Guard() { part_.lock_.unlock_irqrestore(flags_); }

     private:
      Part& part_;
      const unsigned long flags_;
    };

    unsigned long lock();
    // Under lock_: a full magazine went to or left the full list.  Only a
    // CPU's draw (drawn) lowers the window's mark.
    void add_rounds(uint64_t n) {
      lock_.assert_held();
      kstd::store_relaxed(rounds_, rounds_ + n);
    }
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

  Part parts_[numa::kMaxNodes];
};

}  // namespace splkmem
