// SPDX-License-Identifier: GPL-2.0
//
// FreedSlabRanges: where one cache's most recently freed slabs were, so
// that a new slab of the cache is never placed over them.
//
// Why: a free is checked against the memory at the pointer (the tag before
// the object, or the slab header's index), and nothing else.  When a reap
// frees a slab and vmalloc gives the same addresses to the cache's next
// slab, a caller's stale pointer into the old slab is again the start of a
// live object of the same cache, now held by someone else: its free passes
// every check and the object is handed out twice.  No identity stored in
// the slab can tell the two apart (the tag word at that address is the new
// slab's, written when the new slab carved the object), so the new slab
// must not be there: the grow path refuses memory that overlaps a range
// recorded here and asks vmalloc again (SlabStore::slab_memory()).  A stale
// free then reads memory that is not this cache's: a tag that does not
// decode with the cache's key, an index that does not know the address, or
// (tags before the objects, production build) an unmapped page, which
// faults as any free after a reap does there (README, known gaps).
//
// The record is bounded: kRanges ranges, each the union of slabs freed next
// to each other (vmalloc places a cache's slabs one guard page apart, and a
// reap frees them in runs) up to kMaxSpan bytes.  Protection reaches back
// over the last kRanges such runs the cache freed, not forever; a slab
// placed over an older one is not refused.  Refusing costs one vmalloc and
// one vfree; the caller stops refusing after a few tries.
//
// Not locked here: the store serialises record() and overlaps() (its lock_).
#pragma once

#include "kstd/utility.hpp"

namespace splkmem {

class FreedSlabRanges {
 public:
  enum : uintptr_t {
    kRanges = 32,
    // Runs of slabs are joined across gaps up to kJoinGap (the guard page
    // between two vmalloc areas, and one spare) ...
    kJoinGap = 2 * 4096,
    // ... while the union stays below kMaxSpan, so that one run does not
    // grow to cover every address vmalloc could hand out.
    kMaxSpan = uintptr_t{64} << 20,
  };

  // The slab [start, end) was freed.
  constexpr void record(uintptr_t start, uintptr_t end) {
    for (Range& r : ranges_) {
      if (r.end == 0 || start > r.end + kJoinGap || end + kJoinGap < r.start) continue;
      const uintptr_t lo = kstd::min(start, r.start), hi = kstd::max(end, r.end);
      if (hi - lo > kMaxSpan) continue;
      r.start = lo;
      r.end = hi;
      return;
    }
    ranges_[oldest_] = Range{start, end};
    oldest_ = (oldest_ + 1) % kRanges;
  }

  // True when [start, end) overlaps a recorded slab.
  constexpr bool overlaps(uintptr_t start, uintptr_t end) const {
    for (const Range& r : ranges_)
      if (start < r.end && r.start < end) return true;
    return false;
  }

 private:
  struct Range {
    uintptr_t start;
    uintptr_t end;  // 0: unused
  };
  Range ranges_[kRanges] = {};
  uint32_t oldest_ = 0;  // the range record() replaces next
};

namespace freed_ranges_checks {
constexpr uintptr_t kBase = uintptr_t{1} << 40;
constexpr uintptr_t kSlab = 9 * 4096;  // a 4 KiB page-aligned cache's slab
// Two slabs a guard page apart make one range; a slab between them, or
// reaching into them, overlaps; one a page past the end does not.
constexpr bool joined() {
  FreedSlabRanges f;
  f.record(kBase, kBase + kSlab);
  f.record(kBase + kSlab + 4096, kBase + 2 * kSlab + 4096);
  return f.overlaps(kBase + kSlab, kBase + kSlab + 4096) &&
         f.overlaps(kBase - 4096, kBase + 4096) && !f.overlaps(kBase - 4096, kBase) &&
         !f.overlaps(kBase + 2 * kSlab + 8192, kBase + 3 * kSlab);
}
static_assert(joined());
// The oldest run is forgotten once kRanges newer, separate runs are known.
constexpr bool forgets_oldest() {
  FreedSlabRanges f;
  for (uintptr_t i = 0; i <= FreedSlabRanges::kRanges; ++i)
    f.record(kBase + i * (1 << 20), kBase + i * (1 << 20) + kSlab);
  return !f.overlaps(kBase, kBase + kSlab) && f.overlaps(kBase + (1 << 20), kBase + (1 << 20) + 1);
}
static_assert(forgets_oldest());
// A run stops growing at kMaxSpan: the next slab starts a range of its own.
constexpr bool capped() {
  FreedSlabRanges f;
  const uintptr_t big = FreedSlabRanges::kMaxSpan;
  f.record(kBase, kBase + big);
  f.record(kBase + big + 4096, kBase + big + 4096 + kSlab);
  return f.overlaps(kBase + big + 4096, kBase + big + 8192) && f.overlaps(kBase, kBase + 1);
}
static_assert(capped());
}  // namespace freed_ranges_checks

}  // namespace splkmem
