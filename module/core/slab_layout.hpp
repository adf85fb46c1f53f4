// SPDX-License-Identifier: GPL-2.0
//
// SlabLayout: where objects sit in a vmalloc-backed slab, computed once per
// cache.  Pure arithmetic (constexpr, checked by static_asserts below and by
// KUnit), so the sizing rules are readable in one place.  Every object has
// an 8-byte tag that names its slab (see slab.hpp), which makes free() find
// the slab in O(1).  The tag sits in one of two places:
//
// - before its object (the usual case):
//
//   | Slab header | pad | tag obj0 | tag obj1 | ... | tag objN-1 | slack |
//   0             first_offset - 8    stride
//
//   The tag and the object share one stride, a multiple of the alignment,
//   so every object is aligned and the per-object metadata is 8 bytes plus
//   alignment padding;
// - in the slab header (header_tags), when the tag before the object would
//   cost a page or more of padding per object: a page-aligned object whose
//   size is a page multiple (ZFS's zio buffers from 20 KiB to 16 MiB) would
//   need a whole page for its 8-byte tag: a slab 3 % larger for 128 KiB
//   buffers, 20 % for 20 KiB ones.  SPL pays that (its spl_kmem_obj_t
//   follows each object at the object's alignment); we keep the tags in an
//   array after the header, and free() finds an object's slot through a
//   per-cache index of object start pages (SlabStore):
//
//   | Slab header | tag 0 ... tag N-1 | pad | obj0 | obj1 | ... | slack |
//   0                                 first_offset  stride
//
// - Objects per slab target spl_kmem_cache_obj_per_slab, capped so the slab
//   stays within spl_kmem_cache_max_size (SPL's rules).  vmalloc hands out
//   whole pages, so the slab is rounded up to pages and the rounding is
//   filled with as many more objects as fit: the slack is always smaller
//   than one stride.
#pragma once

#include "kstd/utility.hpp"

namespace splkmem {

struct SlabLayout {
  enum : uint64_t { kTagSize = sizeof(uintptr_t), kMinAlign = 8 };

  uint64_t stride;        // bytes from one object to the next
  uint64_t first_offset;  // offset of object 0 from the slab start
  uint64_t slab_size;     // bytes of one slab, a page multiple
  uint32_t objs;          // objects per slab
  bool header_tags;       // tags in the slab header, not before each object

  // Object i of the slab that starts at slab.
  void* object_in(void* slab, uint32_t i) const {
    return static_cast<char*>(slab) + first_offset + i * stride;
  }

  // The stride of an object: its size rounded to kMinAlign, plus the tag,
  // rounded to align.  False when that does not fit in 64 bits: obj_size
  // comes from the caller, and unchecked arithmetic would wrap SIZE_MAX - 7
  // to a stride of 0 and SIZE_MAX to a stride of 8 that overlaps the next
  // tag.
  static constexpr bool stride_for(uint64_t obj_size, uint64_t align, uint64_t* stride) {
    uint64_t s = 0;
    return kstd::is_power_of_two(align) && kstd::checked_round_up(obj_size, kMinAlign, &s) &&
           kstd::checked_add(s, kTagSize, &s) && kstd::checked_round_up(s, align, stride);
  }

  // The stride with the tag in the slab header: the size rounded to
  // kMinAlign, then to align.  Never larger than stride_for()'s.
  static constexpr bool header_stride_for(uint64_t obj_size, uint64_t align, uint64_t* stride) {
    uint64_t s = 0;
    return kstd::is_power_of_two(align) && kstd::checked_round_up(obj_size, kMinAlign, &s) &&
           kstd::checked_round_up(s, align, stride);
  }

  // Returns false when not even one object fits in max_slab_bytes, or when
  // any step would overflow.  align must be a power of two >= kMinAlign,
  // page_size a power of two, header_size a multiple of kTagSize.  Every
  // intermediate value is checked, so no input makes this divide by zero
  // or wrap.
  static constexpr bool compute(uint64_t obj_size, uint64_t align, uint64_t header_size,
                                uint64_t page_size, uint64_t target_objs, uint64_t max_slab_bytes,
                                SlabLayout* out) {
    uint64_t stride = 0, first = 0, one = 0, bare = 0, tags = 0;
    if (align < kMinAlign || !kstd::is_power_of_two(page_size) ||
        !stride_for(obj_size, align, &stride) || !header_stride_for(obj_size, align, &bare))
      return false;
    // A tag before the object that costs a page or more moves to the header,
    // which then holds target_objs tags (at least a page's worth: align is
    // then a page or more).
    const bool header_tags = stride - bare >= page_size;
    if (header_tags) {
      stride = bare;
      if (!kstd::checked_mul(kstd::max<uint64_t>(target_objs, 1), kTagSize, &tags)) return false;
    } else {
      tags = kTagSize;  // object 0's, before it
    }
    if (!kstd::checked_add(header_size, tags, &first) ||
        !kstd::checked_round_up(first, align, &first) || !kstd::checked_add(first, stride, &one) ||
        one > max_slab_bytes)
      return false;
    // From here first + stride <= max_slab_bytes, stride >= kMinAlign + kTagSize.

    uint64_t want = 0;
    if (!kstd::checked_mul(target_objs, stride, &want) || !kstd::checked_add(want, first, &want) ||
        want > max_slab_bytes)
      want = first + ((max_slab_bytes - first) / stride) * stride;  // <= max_slab_bytes
    uint64_t size = 0;
    if (!kstd::checked_round_up(want, page_size, &size) || size > max_slab_bytes)
      size = max_slab_bytes / page_size * page_size;
    if (size < first + stride) return false;  // max_slab_bytes below a page
    uint64_t objs = (size - first) / stride;
    // The rounding filled with more objects than the header has tags for.
    if (header_tags) objs = kstd::min(objs, (first - header_size) / kTagSize);
    if (objs == 0 || objs > 0xffffffffULL) return false;

    out->stride = stride;
    out->first_offset = first;
    out->slab_size = size;
    out->objs = static_cast<uint32_t>(objs);
    out->header_tags = header_tags;
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
// Page alignment: every object on a page boundary.  A 4 KiB object's tag
// would take a page of its own: tags in the header, the objects back to back.
static_assert(make(4096, 4096, 8, 32 << 20).stride == 4096);
static_assert(make(4096, 4096, 8, 32 << 20).first_offset == 4096);
static_assert(make(4096, 4096, 8, 32 << 20).header_tags);
static_assert(make(4096, 4096, 8, 32 << 20).slab_size == 9 * 4096);
// The tag fits in the alignment padding: it stays before the object.
static_assert(!make(4000, 4096, 8, 32 << 20).header_tags);
static_assert(make(4000, 4096, 8, 32 << 20).stride == 4096);
static_assert(!make(4096, 64, 8, 32 << 20).header_tags);
static_assert(make(4096, 64, 8, 32 << 20).stride == 4096 + 64);
// ZFS's zio_buf_comb_131072 (page aligned): 257 pages a slab where SPL's
// layout takes 265, and objects page aligned back to back.
static_assert(make(131072, 4096, 8, 32 << 20).slab_size == 4096 + 8 * 131072);
static_assert(make(131072, 4096, 8, 32 << 20).objs == 8);
static_assert(make(131072, 4096, 8, 32 << 20).stride == 131072);
// The header holds a tag for every object the rounding adds: 100 targets
// of 4 KiB need 864 bytes of header, one page, and 100 objects.
static_assert(make(4096, 4096, 100, 32 << 20).objs == 100);
static_assert(make(4096, 4096, 600, 32 << 20).first_offset == 8192);
static_assert(make(4096, 4096, 600, 32 << 20).objs == 600);
// The cap: a 1 MiB slab limit holds at most what fits.
static_assert(make(300000, 8, 8, 1 << 20).objs == 3);
static_assert(make(300000, 8, 8, 1 << 20).slab_size <= (1 << 20));
// Too big for the cap: no layout.
static_assert(!SlabLayout::compute(2 << 20, 8, 64, 4096, 8, 1 << 20, nullptr));

// Sizes near the top of the range are refused, never wrapped: SIZE_MAX - 7
// once gave a stride of 0 (a division by zero), SIZE_MAX a stride of 8.
constexpr uint64_t kMax = ~0ULL;
constexpr bool fits(uint64_t size, uint64_t align, uint64_t max) {
  SlabLayout l{};
  return SlabLayout::compute(size, align, 64, 4096, 8, max, &l);
}
constexpr bool has_stride(uint64_t size, uint64_t align) {
  uint64_t s = 0;
  return SlabLayout::stride_for(size, align, &s);
}
static_assert(!has_stride(kMax, 8) && !has_stride(kMax - 7, 8) && !has_stride(kMax - 8, 8));
static_assert(!has_stride(kMax - 15, 4096) && !has_stride(kMax - 4095, 4096));
static_assert(has_stride(kMax - 15, 8));   // 2^64 - 8: representable ...
static_assert(!fits(kMax - 15, 8, kMax));  // ... but the header pushes it over
static_assert(!fits(kMax, 8, kMax) && !fits(kMax - 7, 8, kMax) && !fits(kMax - 4095, 4096, kMax));
static_assert(!fits(0xffffffffffffffffULL, 8, 32 << 20));  // (size_t)(int)-1
static_assert(!fits(0xffffffff80000000ULL, 8, 32 << 20));  // (size_t)INT_MIN
static_assert(!fits(1ULL << 63, 4096, 1ULL << 30) && fits(1ULL << 63, 4096, kMax));
// target_objs * stride overflows: capped by max_slab_bytes instead of wrapping.
constexpr SlabLayout kHuge = [] {
  SlabLayout l{};
  SlabLayout::compute(1ULL << 50, 8, 64, 4096, 1ULL << 20, kMax - 4095, &l);
  return l;
}();
static_assert(kHuge.stride == (1ULL << 50) + 8 && kHuge.objs == 16383);
static_assert(kHuge.first_offset + kHuge.objs * kHuge.stride <= kHuge.slab_size);
// A slab limit below one page has no layout rather than an underflow.
static_assert(!fits(8, 8, 100));
// The exact edge: object + tag + header fill max_slab_bytes, one byte more does not.
static_assert(fits((1 << 20) - 72 - 8, 8, 1 << 20) && !fits((1 << 20) - 72 - 7, 8, 1 << 20));
static_assert(make((1 << 20) - 80, 8, 8, 1 << 20).objs == 1);
}  // namespace layout_checks

}  // namespace splkmem
