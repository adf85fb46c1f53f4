// SPDX-License-Identifier: GPL-2.0
//
// Magazine: one CPU's stack of free objects.  Only its CPU touches it, with
// interrupts off, so pushes and pops take no lock (SPL's skm).  Other CPUs
// only read avail for statistics.  Objects go back to the slabs in batches
// of refill when it is full and come from them in batches when it is empty.
#pragma once

#include "kstd/utility.hpp"

namespace splkmem {

struct Magazine {
  static constexpr uint32_t kMagic = 0x2e2e2e2e;

  uint32_t magic;
  uint32_t avail;   // objects on the stack
  uint32_t size;    // capacity
  uint32_t refill;  // batch moved to or from the slabs
  unsigned cpu;     // owning CPU
  void* objs[];     // the stack, objs[avail - 1] is the hottest

  static constexpr size_t bytes_for(uint32_t size) {
    return sizeof(Magazine) + size * sizeof(void*);
  }

  // SPL's sizing by object size (assumes 4 KiB pages), or the module
  // parameter clamped to 2..256 when it is set.
  static uint32_t size_for(uint64_t stride, uint64_t page_size, unsigned param) {
    if (param > 0) return kstd::clamp(param, 2u, 256u);
    if (stride > page_size * 256) return 4;
    if (stride > page_size * 32) return 16;
    if (stride > page_size) return 64;
    if (stride > page_size / 4) return 128;
    return 256;
  }
};

}  // namespace splkmem
