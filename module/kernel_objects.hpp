// SPDX-License-Identifier: GPL-2.0
//
// C++ owners of kernel objects reached through the seam: a spinlock_t and a
// struct percpu_counter stored inline (sizes generated from the target
// kernel's headers), and RAII guards for lock and interrupt scope.
#pragma once

#include "generated/kernel_sizes.h"
#include "kstd/utility.hpp"
#include "seam.h"

namespace splkmem {

// A spinlock_t embedded in a C++ object.
class SpinLock : kstd::NonCopyable {
 public:
  void init() { splk_spin_lock_init(storage_); }
  void lock() { splk_spin_lock(storage_); }
  void unlock() { splk_spin_unlock(storage_); }

 private:
  alignas(SPLK_SPINLOCK_ALIGN) unsigned char storage_[SPLK_SPINLOCK_SIZE];
};

class SpinLockGuard : kstd::NonCopyable {
 public:
  explicit SpinLockGuard(SpinLock& l) : lock_(l) { lock_.lock(); }
  ~SpinLockGuard() { lock_.unlock(); }

 private:
  SpinLock& lock_;
};

// Interrupts off on the current CPU for the guard's scope: nothing else can
// run on this CPU, so its per-CPU magazine is ours without a lock.
// release()/acquire() let a slow path sleep in the middle; after acquire()
// the guard may be on another CPU, so cpu() must be read again.
class IrqSaveCpu : kstd::NonCopyable {
 public:
  IrqSaveCpu() { acquire(); }
  ~IrqSaveCpu() {
    if (held_) release();
  }

  unsigned cpu() const { return cpu_; }

  void release() {
    held_ = false;
    splk_irq_restore(flags_);
  }
  void acquire() {
    flags_ = splk_irq_save_cpu(&cpu_);
    held_ = true;
  }

 private:
  unsigned long flags_;
  unsigned cpu_;
  bool held_;
};

// A struct percpu_counter embedded in a C++ object.
class PercpuCounter : kstd::NonCopyable {
 public:
  int init() { return splk_percpu_counter_init(storage_); }
  void destroy() { splk_percpu_counter_destroy(storage_); }
  int64_t sum() { return splk_percpu_counter_sum(storage_); }
  void* raw() { return storage_; }

 private:
  alignas(SPLK_PERCPU_COUNTER_ALIGN) unsigned char storage_[SPLK_PERCPU_COUNTER_SIZE];
};

}  // namespace splkmem
