// SPDX-License-Identifier: GPL-2.0
//
// Magazine: a stack of free objects (rounds, in Bonwick's word).  A magazine
// is either loaded on a CPU (CpuLayer, cpu_layer.hpp: only that CPU touches
// it, with interrupts off, so pushes and pops take no lock), or in the depot
// (Depot, depot.hpp: full or empty, linked through next under the depot
// lock).  Magazines are kmalloc'd; each carries its own capacity, so
// magazines of an old size keep working after a resize until they are
// freed.
//
// Other CPUs read a CPU's magazines without its cooperation (the
// working-set update, statistics), under the RCU read lock: a magazine may
// leave that CPU for the depot and be freed meanwhile, so destroy() frees
// it a grace period later, and such readers only ever read it.
#pragma once

#include "generated/kernel_sizes.h"
#include "kstd/utility.hpp"
#include "seam.h"

namespace splkmem {

struct Magazine {
  enum : uint32_t { kMagic = 0x2e2e2e2e };

  // The glue's, once destroy() is called (splk_kfree_rcu()): first, so
  // that it overlaps nothing a reader may still read.
  alignas(SPLK_RCU_HEAD_ALIGN) unsigned char rcu[SPLK_RCU_HEAD_SIZE];
  uint32_t magic;
  uint32_t avail;   // objects on the stack
  uint32_t size;    // capacity
  uint32_t refill;  // batch moved to or from the slabs
  unsigned cpu;     // the CPU it is loaded on (meaningless in the depot)
  Magazine* next;   // the depot's link
  void* objs[];     // the stack, objs[avail - 1] is the hottest

  bool empty() const { return avail == 0; }
  bool full() const { return avail >= size; }

  // Objects one refill from, or flush to, the layer below moves: half a
  // magazine (SPL's rule).
  static constexpr uint32_t refill_for(uint32_t size) { return (size + 1) / 2; }

  static constexpr size_t bytes_for(uint32_t size) {
    return sizeof(Magazine) + size * sizeof(void*);
  }

  // A new, empty magazine of size rounds, or nullptr (km_flags: KM_SLEEP
  // where the caller may sleep, KM_NOSLEEP on the free path).
  static Magazine* create(uint32_t size, int km_flags, int node) {
    auto* mag = static_cast<Magazine*>(splk_kmalloc_node(bytes_for(size), km_flags, node));
    if (mag == nullptr) return nullptr;
    mag->magic = kMagic;
    mag->avail = 0;
    mag->size = size;
    mag->refill = refill_for(size);
    mag->cpu = 0;
    mag->next = nullptr;
    return mag;
  }
  // Freed after a grace period: a reader on another CPU may still hold it.
  static void destroy(Magazine* mag) {
    if (mag == nullptr) return;
    mag->magic = 0;
    splk_kfree_rcu(mag);
  }

  // SPL's sizing by object size (assumes 4 KiB pages), halved for objects
  // over a page, or the module parameter clamped to 2..256 when it is set.
  // Halved because a CPU here holds two magazines where SPL's holds one:
  // over a page, memory weighs more than a depot trade per half as many
  // objects, and a CPU then caches at most what SPL's does (make
  // zfs-test: the 128 KiB cache's magazines held 31 objects at the write
  // phase's peak before, 15 after).
  static uint32_t size_for(uint64_t stride, uint64_t page_size, unsigned param) {
    if (param > 0) return kstd::clamp<unsigned>(param, 2u, kMaxSize);
    if (stride > page_size * 256) return 2;
    if (stride > page_size * 32) return 8;
    if (stride > page_size) return 32;
    if (stride > page_size / 4) return 128;
    return 256;
  }
  // The most rounds a magazine has, resized or not.
  enum : uint32_t { kMaxSize = 256 };
};

// A singly linked stack of magazines (the depot's lists, and batches of
// magazines taken out of it to be emptied).
struct MagazineStack {
  Magazine* top = nullptr;
  uint64_t count = 0;

  bool empty() const { return top == nullptr; }
  void push(Magazine* mag) {
    mag->next = top;
    top = mag;
    ++count;
  }
  Magazine* pop() {
    Magazine* mag = top;
    if (mag != nullptr) {
      top = mag->next;
      mag->next = nullptr;
      --count;
    }
    return mag;
  }
};

// Where objects leave the magazine layer: the slab store (KMC_KVMEM) or
// SLUB (KMC_SLAB).  Called with the objects of one magazine; any context.
// aged: the objects sat unused for a working-set interval (the slab store
// may then free their slabs at once).
struct ObjectSink {
  void (*release)(void* owner, void** objs, uint32_t n, bool aged);
  void* owner;
  void operator()(void** objs, uint32_t n, bool aged = false) const {
    if (n != 0) release(owner, objs, n, aged);
  }
};

}  // namespace splkmem
