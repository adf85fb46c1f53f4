// SPDX-License-Identifier: GPL-2.0
//
// Slab: the header at the start of one vmalloc-backed slab, and the object
// tags that lead back to it (kept before each object, or in an array after
// the header: slab_layout.hpp).
//
// Free objects of a slab are linked through their own first word: SPL runs
// the destructor on every free and the constructor on every allocation, so
// a free object's contents are dead and may hold the link.  Objects are
// carved lazily: a new slab is only its header until objects are taken, so
// creating a slab touches one cache line, not every page.
//
// The tag before each object holds (slab address ^ key), with bit 0 set
// while the object is free (in a magazine or on its slab), where key is a
// random per-cache value with bit 0 clear.  Slabs are page aligned, so
// decoding an allocated object's tag gives a page-aligned address: one test
// of the low bits checks "allocated" and "plausible slab" together, and one
// compare checks that the object lies inside that slab.  All of it is
// arithmetic, before anything but the tag word is read; a pointer from
// another cache decodes with the wrong key and fails, and a second free
// finds bit 0 set.
#pragma once

#include "kstd/intrusive_list.hpp"
#include "kstd/utility.hpp"

namespace splkmem {

struct Slab : kstd::ListNode {
  enum : uint32_t { kMagic = 0x22222222 };

  uint32_t magic;
  uint32_t capacity;     // objects in this slab
  uint32_t in_use;       // objects taken out of the slab (magazines or callers)
  uint32_t carved;       // objects [0, carved) have been handed out at least once
  uint8_t filed;         // which PartialSlabs list it is on (partial_slabs.hpp)
  uint8_t part;          // the node part of its store it is filed in (numa.hpp)
  void* free_list;       // objects returned to the slab, linked through word 0
  uint64_t empty_since;  // jiffies when in_use last dropped to 0 (0: long ago)

  bool full() const { return in_use == capacity; }
  bool empty() const { return in_use == 0; }

  // The tag before an object (SlabLayout without header_tags).
  static uintptr_t* tag_of(void* obj) { return static_cast<uintptr_t*>(obj) - 1; }
  // Object i's tag in the array after the header (SlabLayout::header_tags).
  uintptr_t* header_tag(uintptr_t i) { return reinterpret_cast<uintptr_t*>(this + 1) + i; }
};

// One cache's tag encoding (see the top of this file).
struct SlabTagKey {
  enum : uintptr_t { kFreeBit = 1 };

  uintptr_t key;           // random, bit 0 clear
  uintptr_t first_offset;  // of object 0 from its slab
  uintptr_t span;          // slab size - first_offset

  uintptr_t free_tag(const Slab* slab) const {
    return (reinterpret_cast<uintptr_t>(slab) ^ key) | kFreeBit;
  }
  // True when tag is that of an allocated object of this cache at addr.
  [[gnu::always_inline]] bool allocated(uintptr_t tag, uintptr_t addr, uintptr_t page_size) const {
    const uintptr_t slab = tag ^ key;
    return (slab & (page_size - 1)) == 0 && (addr - first_offset) - slab < span;
  }
  Slab* slab_of(uintptr_t tag) const { return reinterpret_cast<Slab*>((tag & ~kFreeBit) ^ key); }
};

static_assert(sizeof(Slab) <= 64, "the slab header is one cache line");
static_assert(sizeof(Slab) % sizeof(uintptr_t) == 0, "header tags follow the header, aligned");

}  // namespace splkmem
