// SPDX-License-Identifier: GPL-2.0
//
// Interrupts, spinlocks and sleeping locks on the host, with the checks
// lockdep and DEBUG_ATOMIC_SLEEP make in the test kernels:
// - a spinlock taken again by its holder (or by an interrupt on the
//   holder's CPU) is a deadlock, reported at once;
// - a lock class used both in interrupts and with interrupts on is
//   lockdep's "inconsistent lock state";
// - sleeping locks (the registry rw_semaphore, the task queue registry
//   mutex) may not be taken where sleeping is not allowed.
// Every acquisition and release is a switch point; releases that turn
// interrupts back on are interrupt points.
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"

namespace {

constexpr unsigned long kIF = 0x200;  // X86_EFLAGS_IF, as the kernel's flags

sim_spinlock* as_lock(void* l) {
  auto* lock = static_cast<sim_spinlock*>(l);
  if (lock->magic != SIM_SPIN_MAGIC)
    sim::fail("bad spinlock", "spinlock %p used before spin_lock_init() or after it was freed", l);
  return lock;
}

// Lock classes: how each was used, for the irq-safety check.
struct ClassUse {
  bool in_irq;
  bool irqs_on;
};
ClassUse class_use[SPLK_LOCK_CLASSES + 1];
const char* const kClassName[] = {"cache", "taskq", "depot", "entry"};

void note_use(sim_spinlock* lock) {
  const unsigned cls = static_cast<unsigned>(lock->cls);
  ClassUse& u = class_use[cls];
  if (sim::current->in_irq) u.in_irq = true;
  if (!sim::current->irqs_off) u.irqs_on = true;
  if (u.in_irq && u.irqs_on)
    sim::fail("inconsistent lock state",
              "lock class %s is taken in interrupt context and with interrupts enabled "
              "({IN-HARDIRQ-W} -> {HARDIRQ-ON-W}): a deadlock when the interrupt comes while "
              "its CPU holds it",
              kClassName[cls]);
}

void acquire(sim_spinlock* lock) {
  const int me = sim::current->id + 1;
  if (lock->owner == me)
    sim::fail("deadlock", "spinlock %p (class %s) taken again by its holder%s", lock,
              kClassName[lock->cls], sim::current->in_irq ? " from an interrupt" : "");
  while (lock->owner != 0) sim::spin_wait(sim::Spin::kLock, lock);
  lock->owner = me;
  sim::current->spins_held++;
  note_use(lock);
}

void release(sim_spinlock* lock) {
  if (lock->owner != sim::current->id + 1)
    sim::fail("bad unlock", "spinlock %p released by a thread that does not hold it", lock);
  lock->owner = 0;
  sim::current->spins_held--;
}

unsigned long irq_save_raw() {
  const unsigned long flags = sim::current->irqs_off ? 0 : kIF;
  sim::current->irqs_off = true;
  return flags;
}

void irq_restore_raw(unsigned long flags) {
  if (flags & kIF) {
    sim::current->irqs_off = false;
    sim::point("irq_enable", sim::kIrqEnable);
  } else {
    sim::current->irqs_off = true;
    sim::point("irq_restore (still off)");
  }
}

// A sleeping lock: readers, or one writer; a waiting writer holds off new
// readers (as the kernel's rwsem hands off).
struct SleepLock {
  int readers;
  bool writer;
  int writers_waiting;
  sim_waitq wq;
};
SleepLock registry;
SleepLock tq_registry;

void wait_for(SleepLock* l, const char* what) {
  sim_waitq* wq = &l->wq;
  // A simple wait list: the waiter is woken by every release.
  sim::Thread* t = sim::current;
  t->wq_next = static_cast<sim::Thread*>(wq->head);
  wq->head = t;
  t->sleep_state = 1;
  sim::block(what, false, -1, true);
}

void wake_waiters(SleepLock* l) {
  auto* t = static_cast<sim::Thread*>(l->wq.head);
  l->wq.head = nullptr;
  while (t != nullptr) {
    sim::Thread* next = t->wq_next;
    t->wq_next = nullptr;
    sim::wake(t);
    t = next;
  }
}

void read_lock(SleepLock* l, const char* what) {
  sim::point(what, sim::kLock);
  sim::check_may_sleep(what);
  while (l->writer || l->writers_waiting > 0) wait_for(l, what);
  l->readers++;
}

void read_unlock(SleepLock* l, const char* what) {
  if (l->readers <= 0) sim::fail("bad unlock", "%s without a reader", what);
  if (--l->readers == 0) wake_waiters(l);
  sim::point(what, sim::kLock);
}

void write_lock(SleepLock* l, const char* what) {
  sim::point(what, sim::kLock);
  sim::check_may_sleep(what);
  l->writers_waiting++;
  while (l->writer || l->readers > 0) wait_for(l, what);
  l->writers_waiting--;
  l->writer = true;
}

void write_unlock(SleepLock* l, const char* what) {
  if (!l->writer) sim::fail("bad unlock", "%s without the writer", what);
  l->writer = false;
  wake_waiters(l);
  sim::point(what, sim::kLock);
}

}  // namespace

extern "C" {

void splk_spin_lock_init(void* l, enum splk_lock_class cls) noexcept {
  auto* lock = static_cast<sim_spinlock*>(l);
  lock->magic = SIM_SPIN_MAGIC;
  lock->owner = 0;
  lock->cls = cls;
}

unsigned long splk_spin_lock_irqsave(void* l) noexcept {
  sim::point("spin_lock_irqsave", sim::kLock);
  sim_spinlock* lock = as_lock(l);
  const unsigned long flags = irq_save_raw();
  acquire(lock);
  return flags;
}

void splk_spin_unlock_irqrestore(void* l, unsigned long flags) noexcept {
  release(as_lock(l));
  irq_restore_raw(flags);
}

bool splk_spin_trylock_irqsave(void* l, unsigned long* flags) noexcept {
  sim::point("spin_trylock_irqsave", sim::kLock);
  sim_spinlock* lock = as_lock(l);
  *flags = irq_save_raw();
  if (lock->owner == 0) {
    lock->owner = sim::current->id + 1;
    sim::current->spins_held++;
    note_use(lock);
    return true;
  }
  if (!(*flags & kIF)) return false;
  sim::current->irqs_off = false;
  return false;
}

// lockdep_assert_held(): held by the running thread.
void splk_spin_assert_held(void* l) noexcept {
  sim_spinlock* lock = as_lock(l);
  if (lock->owner != sim::current->id + 1)
    sim::fail("lock not held", "spinlock %p (class %s) is not held by its caller", l,
              kClassName[lock->cls]);
}

unsigned long splk_irq_save(void) noexcept {
  sim::point("irq_save");
  return irq_save_raw();
}

void splk_irq_restore(unsigned long flags) noexcept { irq_restore_raw(flags); }

void splk_registry_lock_read(void) noexcept { read_lock(&registry, "registry down_read"); }
// down_read_trylock(): fails while a writer holds the lock or waits.
bool splk_registry_trylock_read(void) noexcept {
  sim::point("registry down_read_trylock", sim::kLock);
  if (registry.writer || registry.writers_waiting > 0) return false;
  registry.readers++;
  return true;
}

void splk_registry_unlock_read(void) noexcept { read_unlock(&registry, "registry up_read"); }
void splk_registry_lock_write(void) noexcept { write_lock(&registry, "registry down_write"); }
void splk_registry_unlock_write(void) noexcept { write_unlock(&registry, "registry up_write"); }
// Held by someone: the sleeping locks here do not record their readers.
void splk_registry_assert_held(void) noexcept {
  if (!registry.writer && registry.readers == 0)
    sim::fail("lock not held", "the registry rw_semaphore is not held");
}

void splk_tq_registry_lock(void) noexcept { write_lock(&tq_registry, "taskq registry mutex"); }
void splk_tq_registry_unlock(void) noexcept {
  write_unlock(&tq_registry, "taskq registry mutex unlock");
}
void splk_tq_registry_assert_held(void) noexcept {
  if (!tq_registry.writer) sim::fail("lock not held", "the taskq registry mutex is not held");
}

}  // extern "C"
