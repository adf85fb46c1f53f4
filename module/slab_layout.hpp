// SPDX-License-Identifier: GPL-2.0
//
// SlabLayout: where objects sit in a vmalloc-backed slab, computed once per
// cache.  Pure arithmetic (constexpr, checked by static_asserts below and by
// KUnit), so the sizing rules are readable in one place:
//
//   | Slab header | pad | tag obj0 | tag obj1 | ... | tag objN-1 | slack |
//   0             first_offset - 8    stride
//
// - Every object is preceded by an 8-byte tag that names its slab (see
//   slab.hpp), which makes free() find the slab in O(1).  The tag and the
//   object share one stride, a multiple of the alignment, so every object is
//   aligned and the per-object metadata is 8 bytes plus alignment padding.
// - Objects per slab target spl_kmem_cache_obj_per_slab, capped so the slab
//   stays within spl_kmem_cache_max_size (SPL's rules).  vmalloc hands out
//   whole pages, so the slab is rounded up to pages and the rounding is
//   filled with as many more objects as fit: the slack is always smaller
//   than one stride.
#pragma once

#include "kstd/utility.hpp"

namespace splkmem {

struct SlabLayout {
  static constexpr uint64_t kTagSize = sizeof(uintptr_t);
  static constexpr uint64_t kMinAlign = 8;

  uint64_t stride;        // bytes from one object to the next
  uint64_t first_offset;  // offset of object 0 from the slab start
  uint64_t slab_size;     // bytes of one slab, a page multiple
  uint32_t objs;          // objects per slab

  // Returns false when not even one object fits in max_slab_bytes.
  // align must be a power of two >= kMinAlign.
  static constexpr bool compute(uint64_t obj_size, uint64_t align, uint64_t header_size,
                                uint64_t page_size, uint64_t target_objs, uint64_t max_slab_bytes,
                                SlabLayout* out) {
    const uint64_t stride = kstd::round_up(kstd::round_up(obj_size, kMinAlign) + kTagSize, align);
    const uint64_t first = kstd::round_up(header_size + kTagSize, align);
    if (max_slab_bytes < first + stride) return false;

    uint64_t want = first + target_objs * stride;
    if (want > max_slab_bytes) want = first + ((max_slab_bytes - first) / stride) * stride;
    uint64_t size = kstd::round_up(want, page_size);
    if (size > max_slab_bytes) size = max_slab_bytes / page_size * page_size;
    const uint64_t objs = (size - first) / stride;
    if (objs == 0 || objs > 0xffffffffULL) return false;

    out->stride = stride;
    out->first_offset = first;
    out->slab_size = size;
    out->objs = static_cast<uint32_t>(objs);
    return true;
  }

  // The slack left at the end of a slab: always less than one stride.
  constexpr uint64_t slack() const { return slab_size - first_offset - objs * stride; }
};

namespace layout_checks {
constexpr SlabLayout make(uint64_t size, uint64_t align, uint64_t target, uint64_t max) {
  SlabLayout l{};
  SlabLayout::compute(size, align, 64, 4096, target, max, &l);
  return l;
}
// 64-byte objects: 8 wanted, a whole page filled instead (SPL's small-object rule).
static_assert(make(64, 8, 8, 32 << 20).slab_size == 4096);
static_assert(make(64, 8, 8, 32 << 20).objs == (4096 - 72) / 72);
// 64 KiB objects: 8 per slab, then the page rounding filled.
static_assert(make(65536, 8, 8, 32 << 20).objs == 8);
static_assert(make(65536, 8, 8, 32 << 20).slack() < make(65536, 8, 8, 32 << 20).stride);
// Page alignment: every object on a page boundary.
static_assert(make(4096, 4096, 8, 32 << 20).stride == 8192);
static_assert(make(4096, 4096, 8, 32 << 20).first_offset == 4096);
// The cap: a 1 MiB slab limit holds at most what fits.
static_assert(make(300000, 8, 8, 1 << 20).objs == 3);
static_assert(make(300000, 8, 8, 1 << 20).slab_size <= (1 << 20));
// Too big for the cap: no layout.
static_assert(!SlabLayout::compute(2 << 20, 8, 64, 4096, 8, 1 << 20, nullptr));
}  // namespace layout_checks

}  // namespace splkmem
