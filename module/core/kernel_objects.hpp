// SPDX-License-Identifier: GPL-2.0
//
// C++ owners of kernel objects reached through the seam: a spinlock_t, a
// wait queue, an rbtree root and an xarray stored inline (sizes generated from the
// target kernel's headers), and RAII guards for lock scope.  Interrupts
// and per-CPU data are in cpu_local.hpp.
#pragma once

#include "generated/kernel_sizes.h"
#include "kstd/utility.hpp"
#include "seam.h"

namespace splkmem {

// The target kernel's PAGE_SIZE, a compile-time constant (generated).
constexpr uint64_t kPageSize = SPLK_PAGE_SIZE;

// Milliseconds to jiffies, rounded up (as msecs_to_jiffies()).
inline uint64_t ms_to_jiffies(uint64_t ms) { return (ms * splk_kernel.hz + 999) / 1000; }

// What guards a field (docs/cxx-subset.md, "Locks"): it is written only
// with that lock held, and read without it only through a marked read
// (kstd::load_relaxed) that tolerates a value a moment old.  The compiler
// does not check it; the functions that rely on it assert_held().
#define SPLK_GUARDED_BY(lock)

// lockdep_assert_held() of the glue's sleeping locks: the cache registry
// (for reading or writing) and the task queue registry.
inline void registry_assert_held() {
  if constexpr (SPLK_LOCKDEP) splk_registry_assert_held();
}
inline void tq_registry_assert_held() {
  if constexpr (SPLK_LOCKDEP) splk_tq_registry_assert_held();
}

// A spinlock_t embedded in a C++ object.
class SpinLock : kstd::NonCopyable {
 public:
  void init(splk_lock_class cls) { splk_spin_lock_init(storage_, cls); }
  // lockdep_assert_held(); nothing at all on a kernel without lockdep.
  void assert_held() const {
    if constexpr (SPLK_LOCKDEP) splk_spin_assert_held(const_cast<unsigned char*>(storage_));
  }
  unsigned long lock_irqsave() { return splk_spin_lock_irqsave(storage_); }
  void unlock_irqrestore(unsigned long flags) { splk_spin_unlock_irqrestore(storage_, flags); }
  bool try_lock_irqsave(unsigned long* flags) { return splk_spin_trylock_irqsave(storage_, flags); }

 private:
  alignas(SPLK_SPINLOCK_ALIGN) unsigned char storage_[SPLK_SPINLOCK_SIZE];
};

// Holds a SpinLock with interrupts saved and disabled (the task queue's
// lock, taken from any context that may dispatch).
class SpinLockIrqGuard : kstd::NonCopyable {
 public:
  explicit SpinLockIrqGuard(SpinLock& l) : lock_(l) { flags_ = lock_.lock_irqsave(); }
  ~SpinLockIrqGuard() { lock_.unlock_irqrestore(flags_); }
  // Drops the lock inside the scope (a worker runs a task or sleeps);
  // every release() is followed by an acquire() before the scope ends,
  // so the destructor needs no flag to know whether it holds the lock.
  void release() { lock_.unlock_irqrestore(flags_); }
  void acquire() { flags_ = lock_.lock_irqsave(); }

 private:
  SpinLock& lock_;
  unsigned long flags_;
};

// An RCU read-side section for a scope: memory found inside it and freed
// with splk_kfree_rcu() stays valid until the scope ends.
class RcuReadGuard : kstd::NonCopyable {
 public:
  RcuReadGuard() { splk_rcu_read_lock(); }
  ~RcuReadGuard() { splk_rcu_read_unlock(); }
};

// A wait_queue_head_t embedded in a C++ object.  wait() sleeps until a
// predicate (any callable, usually a lambda) holds, re-checking it on every
// wake-up as wait_event() does.
class WaitQueue : kstd::NonCopyable {
 public:
  void init() { splk_waitq_init(storage_); }
  void wake_all() { splk_waitq_wake_all(storage_); }
  void* raw() { return storage_; }

  // timeout in jiffies, negative for none; returns the jiffies left, 0 when
  // it timed out.  An interruptible wait is for idle threads.
  template <typename Pred>
  long wait(const Pred& done, long timeout = -1, bool interruptible = false) {
    return splk_waitq_wait(storage_, &call<Pred>, const_cast<Pred*>(&done), timeout, interruptible);
  }

 private:
  template <typename Pred>
  static bool call(void* pred) {
    return (*static_cast<const Pred*>(pred))();
  }

  alignas(SPLK_WAIT_QUEUE_HEAD_ALIGN) unsigned char storage_[SPLK_WAIT_QUEUE_HEAD_SIZE];
};

// A set of addresses (the kernel's rbtree), guarded by its owner's lock.
class AddressSet : kstd::NonCopyable {
 public:
  void init() { splk_addr_set_init(storage_); }
  bool insert(void* node, uintptr_t addr) { return splk_addr_set_insert(storage_, node, addr); }
  // Returns the node that held addr, or nullptr.
  void* remove(uintptr_t addr) { return splk_addr_set_remove(storage_, addr); }
  bool contains(uintptr_t addr) { return splk_addr_set_contains(storage_, addr); }
  void* pop(uintptr_t* addr) { return splk_addr_set_pop(storage_, addr); }

 private:
  alignas(SPLK_RB_ROOT_ALIGN) unsigned char storage_[SPLK_RB_ROOT_SIZE];
};

// Pointers by page number (the kernel's xarray).  load() takes no lock and
// may run in any context; store() and erase() are for process context and
// may sleep for memory.  Entries must be 4-byte aligned.
class PageIndex : kstd::NonCopyable {
 public:
  void init() { splk_index_init(storage_); }
  // Frees the index's own nodes; entries left in it are dropped.
  void destroy() { splk_index_destroy(storage_); }
  bool store(unsigned long page, void* entry, int km_flags) {
    return splk_index_store(storage_, page, entry, km_flags);
  }
  void* load(unsigned long page) const {
    return splk_index_load(const_cast<unsigned char*>(storage_), page);
  }
  void erase(unsigned long page) { splk_index_erase(storage_, page); }

 private:
  alignas(SPLK_XARRAY_ALIGN) unsigned char storage_[SPLK_XARRAY_SIZE];
};

}  // namespace splkmem
