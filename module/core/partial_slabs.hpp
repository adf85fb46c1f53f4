// SPDX-License-Identifier: GPL-2.0
//
// PartialSlabs: the slabs of one SlabStore that hold a free object, filed
// by how full they are, so that a refill takes from the fullest one.
//
// Why: a slab can only be freed once every object is back on it, so the
// order in which a refill picks slabs decides how many slabs a population
// of live objects pins.  Taking from the fullest lets the emptiest drain
// (Bonwick, "The Slab Allocator", 1994; illumos keeps its partial slabs
// in an AVL tree ordered by allocation count for this).  SPL keeps one
// list, a slab that stops being full at its head and empty slabs at its
// tail: fuller-first only at the moment a slab leaves the full list.  A
// slab that then loses its objects one by one stays near the head and is
// refilled before fuller slabs behind it.  In OpenZFS's write phase that
// left the 128 KiB cache with 76 objects on 20 slabs of 8 (SPL: 80 on 16).
//
// Classes: a slab with 0 < in_use < capacity is in class
// (in_use - 1) >> shift, where shift is the smallest that puts every such
// slab in one of kClasses.  That is exact for slabs of up to kClasses + 1
// objects, which is every KMC_KVMEM cache SPL's defaults make (objects
// over 16 KiB, 8 a slab); larger slabs are bucketed by their top bits.  A
// bitmap of the classes that hold a slab finds the fullest with one bit
// scan.  Within a class the slab filed last is taken first.
//
// Empty slabs have a list of their own, in the order of empty_since: a
// slab that became empty now goes to the tail, one emptied by aged
// objects (stamped 0) to the head.  reclaim() frees from the head and
// stops at the first slab too young.  The owner reads a stamp under its
// lock, so the list stays in stamp order (check() verifies it).  A refill with no
// partial slab takes the newest empty slab and leaves the old ones to
// age out.
//
// Each slab records the list it is on (Slab::filed), so that moving it
// needs no search and a slab whose class did not change is not touched.
// Full slabs are not filed here (the owner's complete list).
//
// Not thread-safe: the owner's lock (SlabStore::lock_) covers every call.
#pragma once

#include "kstd/intrusive_list.hpp"
#include "slab.hpp"

namespace splkmem {

class PartialSlabs {
 public:
  enum : uint8_t {
    kClasses = 8,
    kEmptyList = kClasses,  // Slab::filed of an empty slab
    kUnfiled = 0xff,        // Slab::filed of a full or new slab
  };

  // capacity: objects per slab, the same for every slab of the store.
  void init(uint32_t capacity) {
    shift_ = 0;
    if (capacity > 2)
      while (((capacity - 2) >> shift_) >= kClasses) ++shift_;
  }

  // True when no slab has a free object.
  bool empty() const { return bitmap_ == 0 && empties_.empty(); }

  // The slab a refill takes from, unlinked (Slab::filed is kUnfiled): the
  // fullest partial slab, else the newest empty slab, else nullptr.  The
  // caller files it again with refile() or puts it on its full list.
  Slab* take_fullest() {
    Slab* slab = bitmap_ != 0 ? lists_[31 - __builtin_clz(bitmap_)].front() : empties_.back();
    if (slab != nullptr) unfile(slab);
    return slab;
  }

  // Files a slab that is not full by its in_use now: a new slab, one that
  // left the full list, one whose in_use changed.  A slab already on its
  // list is left where it is.  Never a full slab: list_for() has no class
  // for one (with 9 objects a slab, it would name the empty list).
  void refile(Slab* slab) {
    const uint8_t list = list_for(slab);
    if (list == slab->filed) return;
    unfile(slab);
    slab->filed = list;
    if (list == kEmptyList) {
      if (slab->empty_since == 0)
        empties_.push_front(slab);
      else
        empties_.push_back(slab);
      return;
    }
    lists_[list].push_front(slab);
    bitmap_ |= 1u << list;
  }

  // The slab that has been empty longest, unlinked, if it became empty at
  // or before cutoff (jiffies); else nullptr.
  Slab* take_empty_since(uint64_t cutoff) {
    Slab* slab = empties_.front();
    if (slab == nullptr || slab->empty_since > cutoff) return nullptr;
    unfile(slab);
    return slab;
  }

  // Every filed slab, for the debug checks.
  template <typename Visit>
  void for_each(Visit visit) {
    for (kstd::IntrusiveList<Slab>& list : lists_)
      for (Slab* slab : list) visit(slab);
    for (Slab* slab : empties_) visit(slab);
  }

  // Debug checks (SlabStore::check_invariants()): nullptr when every slab
  // is on the list its in_use names and the bitmap matches the lists.
  const char* check() {
    for (uint8_t c = 0; c < kClasses; ++c) {
      if (lists_[c].empty() == ((bitmap_ >> c) & 1)) return "a partial class and its bit disagree";
      for (Slab* slab : lists_[c]) {
        if (slab->full()) return "a full slab is filed as partial";
        if (slab->filed != c || list_for(slab) != c) return "a partial slab is in the wrong class";
      }
    }
    uint64_t stamp = 0;
    for (Slab* slab : empties_) {
      if (slab->filed != kEmptyList || !slab->empty()) return "a slab on the empty list is in use";
      if (slab->empty_since < stamp) return "the empty list is not in the order of its stamps";
      stamp = slab->empty_since;
    }
    return nullptr;
  }

 private:
  uint8_t list_for(const Slab* slab) const {
    if (slab->empty()) return kEmptyList;
    return static_cast<uint8_t>((slab->in_use - 1) >> shift_);
  }

  void unfile(Slab* slab) {
    if (slab->filed == kUnfiled) return;
    kstd::IntrusiveList<Slab>::remove(slab);
    if (slab->filed != kEmptyList && lists_[slab->filed].empty()) bitmap_ &= ~(1u << slab->filed);
    slab->filed = kUnfiled;
  }

  kstd::IntrusiveList<Slab> lists_[kClasses];  // by class, fuller last
  kstd::IntrusiveList<Slab> empties_;          // by empty_since, oldest first
  uint32_t bitmap_ = 0;                        // bit c: lists_[c] is not empty
  uint32_t shift_ = 0;
};

}  // namespace splkmem
