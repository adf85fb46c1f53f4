// SPDX-License-Identifier: GPL-2.0
//
// Slab: the header at the start of one vmalloc-backed slab, and the object
// tags that lead back to it.
//
// Free objects of a slab are linked through their own first word: SPL runs
// the destructor on every free and the constructor on every allocation, so
// a free object's contents are dead and may hold the link.  Objects are
// carved lazily: a new slab is only its header until objects are taken, so
// creating a slab touches one cache line, not every page.
//
// The tag before each object holds (slab address ^ cache cookie), with bit 0
// set while the object is allocated.  Slabs are page aligned, so a decoded
// tag is checked by arithmetic alone (page aligned, object inside the slab)
// before anything is dereferenced; a pointer from another cache decodes
// with the wrong cookie and fails, and a second free finds bit 0 clear.
#pragma once

#include "kstd/intrusive_list.hpp"
#include "kstd/utility.hpp"

namespace splkmem {

struct Slab : kstd::ListNode {
  static constexpr uint32_t kMagic = 0x22222222;
  static constexpr uintptr_t kAllocatedBit = 1;

  uint32_t magic;
  uint32_t capacity;  // objects in this slab
  uint32_t in_use;    // objects taken out of the slab (magazines or callers)
  uint32_t carved;    // objects [0, carved) have been handed out at least once
  void* free_list;    // objects returned to the slab, linked through word 0

  bool full() const { return in_use == capacity; }
  bool empty() const { return in_use == 0; }

  static uintptr_t* tag_of(void* obj) { return static_cast<uintptr_t*>(obj) - 1; }
};

static_assert(sizeof(Slab) <= 64, "the slab header is one cache line");

}  // namespace splkmem
