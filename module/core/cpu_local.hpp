// SPDX-License-Identifier: GPL-2.0
//
// CPU-local primitives of the fast path: interrupts off and on, and per-CPU
// slots read and counted %gs-relative, all inline.
//
// The instructions are the target kernel's own: scripts/gen-fastpath-asm.sh
// extracts what its headers emit for arch_local_save_flags(),
// arch_local_irq_disable() and arch_local_irq_enable() (on Debian's kernels
// a paravirt call through pv_ops, patched to pushf/cli/sti by the module
// loader through the .altinstructions entries the text carries), validates
// it and hands it over as string literals.  Nothing here is hand-written
// interrupt code: on Xen PV the loader leaves the pv_ops call in place, as
// it does for every C caller of local_irq_save().
//
// Kernels whose interrupt primitives are not fixed-register paravirt calls,
// that trace every transition (TRACE_IRQFLAGS: lockdep, the test kernel),
// or that are PREEMPT_RT get SPLK_IRQ_INLINE 0 and the seam calls
// splk_irq_save() and splk_irq_restore() instead: a per-CPU local_lock_t,
// which is interrupts off (and a lockdep annotation) except on PREEMPT_RT,
// where it is a lock with migration disabled.
//
// Per-CPU slots hold what alloc_percpu() returned: an offset that the %gs
// segment base turns into this CPU's copy, as this_cpu_read() does (the
// generator checks that this kernel's this_cpu_read() is that instruction).
#pragma once

#include "generated/fastpath_asm.h"
#include "kstd/utility.hpp"
#include "seam.h"

namespace splkmem::cpu {

// A pointer into per-CPU space (what alloc_percpu() returns): never
// dereferenced directly, only through the accessors below or
// splk_per_cpu_ptr().
template <typename T>
struct PerCpu {
  T* offset;
};

// Interrupts off; returns the flags to restore.
[[gnu::always_inline]] inline unsigned long irq_save() {
#if SPLK_IRQ_INLINE
  // The stack pointer as an operand: the compiler must have set up this
  // function's frame before the paravirt call (the kernel's
  // ASM_CALL_CONSTRAINT).
  register uintptr_t sp asm("rsp");
  unsigned long flags;
  asm volatile(SPLK_ASM_SAVE_FLAGS : "=a"(flags), "+r"(sp) : : "memory", "cc");
  asm volatile(SPLK_ASM_IRQ_DISABLE : "+r"(sp) : : "rax", "memory", "cc");
  return flags;
#else
  return splk_irq_save();
#endif
}

// Interrupts back on if they were on at irq_save().
[[gnu::always_inline]] inline void irq_restore(unsigned long flags) {
#if SPLK_IRQ_INLINE
  register uintptr_t sp asm("rsp");
  if (flags & SPLK_X86_EFLAGS_IF)
    asm volatile(SPLK_ASM_IRQ_ENABLE : "+r"(sp) : : "rax", "memory", "cc");
#else
  splk_irq_restore(flags);
#endif
}

// This CPU's copy of a per-CPU value.  Interrupts (or preemption) must be
// off for the result to stay this CPU's.  Not volatile: the "memory"
// clobbers of irq_save()/irq_restore() keep it inside their section.
template <typename T>
[[gnu::always_inline]] inline T read(PerCpu<T> slot) {
  T value;
  asm("mov %%gs:%1, %0" : "=r"(value) : "m"(*slot.offset));
  return value;
}

// One instruction each, so safe against interrupts without disabling them
// (this_cpu_inc()/this_cpu_dec()).
[[gnu::always_inline]] inline void inc(PerCpu<long> slot) {
  asm volatile("incq %%gs:%0" : "+m"(*slot.offset));
}
[[gnu::always_inline]] inline void dec(PerCpu<long> slot) {
  asm volatile("decq %%gs:%0" : "+m"(*slot.offset));
}
[[gnu::always_inline]] inline void add(PerCpu<long> slot, long value) {
  asm volatile("addq %1, %%gs:%0" : "+m"(*slot.offset) : "er"(value));
}

// Another CPU's copy, for the slow paths (setup, drain, statistics).
template <typename T>
inline T* on_cpu(PerCpu<T> slot, unsigned cpu) {
  return static_cast<T*>(splk_per_cpu_ptr(slot.offset, cpu));
}

template <typename T>
inline bool alloc(PerCpu<T>* slot) {
  slot->offset = static_cast<T*>(splk_percpu_alloc(sizeof(T), alignof(T)));
  return slot->offset != nullptr;
}

template <typename T>
inline void free(PerCpu<T>* slot) {
  splk_percpu_free(slot->offset);
  slot->offset = nullptr;
}

// Interrupts off for a scope, with release()/acquire() for slow paths that
// must sleep in the middle (the CPU may differ afterwards: read per-CPU
// slots again after acquire()).
class IrqSave : kstd::NonCopyable {
 public:
  IrqSave() { acquire(); }
  ~IrqSave() {
    if (held_) release();
  }
  void release() {
    held_ = false;
    irq_restore(flags_);
  }
  void acquire() {
    flags_ = irq_save();
    held_ = true;
  }

 private:
  unsigned long flags_;
  bool held_;
};

}  // namespace splkmem::cpu
