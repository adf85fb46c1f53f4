// SPDX-License-Identifier: GPL-2.0
//
// The seam (module/seam.h) on real host threads, for ThreadSanitizer
// (sim/README.md, "The TSan build").  Unlike the simulation, nothing here
// schedules: threads run as the host runs them, and TSan watches the
// core's memory accesses for races.
//
// - CPUs: kNumCpus slots, each with a per-CPU area that the threads bound
//   to it reach through their GS base (the core's %gs reads, unchanged).
//   A thread is bound to one slot for life.  Owning the slot is what an
//   irq-off section, a spinlock held or an RCU read side means on a
//   kernel CPU: a recursive per-slot mutex (depth counted per thread), so
//   that two threads of one slot never touch its per-CPU data at once.
// - Spinlocks: a word taken with an atomic exchange (TSan sees acquire
//   and release); wait queues and the task queue's idle sleep: a mutex
//   and a condition variable; the registry rw_semaphore: a rwlock.
// - RCU: readers hold a rwlock for reading; kfree_rcu()/vfree_rcu() queue
//   the block, and a grace-period thread frees the queue after taking
//   that rwlock for writing once.
// - Work on a CPU (drains, splk_on_cpu): one kworker per slot.  Timers (the
//   delayed task entries): one timer thread, in jiffies of 1 ms.
// - Memory: malloc for kmalloc, pages and Linux caches; vmalloc from a
//   reserved region, never reused, unmapped at vfree.
#include "real_seam.hpp"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "generated/taskq_sizes.h"
#include "seam.h"
#include "sim_objects.h"
#include "splkmem/flags.h"

#ifndef ARCH_SET_GS
#define ARCH_SET_GS 0x1001  // <asm/prctl.h>, which the host-kernel stand-ins hide
#endif

namespace real {

unsigned ncpus = kNumCpus;

namespace {

constexpr size_t kPerCpuUnit = 1 << 20;
uint8_t* percpu_area;  // ncpus units
size_t percpu_next = 64;
std::mutex percpu_lock;

pthread_mutex_t cpu_mutex[kNumCpus];

struct Thread {
  int (*fn)(void*);
  void* arg;
  unsigned cpu;
  int depth;      // slot owned while > 0
  int rcu_depth;  // RCU read side nesting
  bool stop;
  bool woken;  // splk_tq_thread_wake() since splk_tq_prepare_idle()
  pthread_mutex_t m;
  pthread_cond_t c;
  pthread_t pt;
  char name[32];
};

thread_local Thread* self;
Thread main_thread;
unsigned next_cpu;  // round robin for kthreads

void set_gs(unsigned cpu) {
  const auto base = reinterpret_cast<uintptr_t>(percpu_area + cpu * kPerCpuUnit);
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, base) != 0) die("arch_prctl(ARCH_SET_GS) failed");
}

void* thread_start(void* p) {
  auto* t = static_cast<Thread*>(p);
  self = t;
  set_gs(t->cpu);
  pthread_setname_np(pthread_self(), t->name);
  t->fn(t->arg);
  return nullptr;
}

Thread* new_thread(int (*fn)(void*), void* arg, const char* name, int cpu) {
  auto* t = new Thread{};
  t->fn = fn;
  t->arg = arg;
  t->cpu = cpu >= 0 ? static_cast<unsigned>(cpu)
                    : __atomic_fetch_add(&next_cpu, 1, __ATOMIC_RELAXED) % ncpus;
  snprintf(t->name, sizeof(t->name), "%s", name);
  pthread_mutex_init(&t->m, nullptr);
  pthread_cond_init(&t->c, nullptr);
  if (pthread_create(&t->pt, nullptr, thread_start, t) != 0) die("pthread_create failed");
  return t;
}

void cpu_enter() {
  if (self->depth++ == 0) pthread_mutex_lock(&cpu_mutex[self->cpu]);
}

void cpu_exit() {
  if (self->depth <= 0) die("an irq restore or unlock without its save or lock");
  if (--self->depth == 0) pthread_mutex_unlock(&cpu_mutex[self->cpu]);
}

void may_sleep(const char* what) {
  if (self->depth != 0) die("sleeping in atomic context (%s)", what);
}

uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}
uint64_t start_ms;

// ---- Wait queues: the storage holds a pointer to one of these ------------------

struct WaitQ {
  pthread_mutex_t m;
  pthread_cond_t c;
  uint64_t seq;
};

WaitQ* wq_of(void* w) { return static_cast<WaitQ*>(static_cast<sim_waitq*>(w)->head); }

// ---- RCU ------------------------------------------------------------------------

pthread_rwlock_t rcu_lock = PTHREAD_RWLOCK_INITIALIZER;
std::mutex rcu_pending_lock;
std::vector<std::pair<void*, bool>> rcu_pending;  // block, vmalloc'd
bool rcu_stop;
pthread_t rcu_thread;

// ---- Work on a CPU, and timers ---------------------------------------------------

struct Kworker {
  Thread* thread;
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  std::deque<std::pair<void (*)(void*), void*>> work;
  unsigned drains;  // drain requests not yet served
  bool busy;
  bool stop;
};
Kworker kworkers[kNumCpus];

int kworker_main(void* p) {
  auto* k = static_cast<Kworker*>(p);
  pthread_mutex_lock(&k->m);
  for (;;) {
    if (!k->work.empty()) {
      auto item = k->work.front();
      k->work.pop_front();
      k->busy = true;
      pthread_mutex_unlock(&k->m);
      item.first(item.second);
      pthread_mutex_lock(&k->m);
      k->busy = false;
      pthread_cond_broadcast(&k->c);
    } else if (k->drains != 0) {
      k->drains = 0;
      k->busy = true;
      pthread_mutex_unlock(&k->m);
      splk_core_drain_this_cpu();
      pthread_mutex_lock(&k->m);
      k->busy = false;
      pthread_cond_broadcast(&k->c);
    } else if (k->stop) {
      break;
    } else {
      pthread_cond_wait(&k->c, &k->m);
    }
  }
  pthread_mutex_unlock(&k->m);
  return 0;
}

// Laid in the entry's sim_timer storage (48 bytes).  Which timer runs is
// kept outside it (running_timer), as the kernel keeps it in the timer
// base: the callback may free the entry, and nothing touches it after.
struct Timer {
  uint64_t expires;
  uint32_t armed;
  uint32_t pad;
  void* entry;
  Timer* next;
  Timer* prev;
};
static_assert(sizeof(Timer) <= sizeof(sim_timer), "a timer fits the kernel object's storage");
pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t timer_done = PTHREAD_COND_INITIALIZER;
Timer timers = {0, 0, 0, nullptr, &timers, &timers};
Thread* timer_thread;
bool timer_stop;
Timer* running_timer;

Timer* timer_of(void* entry) {
  return reinterpret_cast<Timer*>(static_cast<char*>(entry) + SPLK_TQENT_TIMER_OFFSET);
}

int timer_main(void*) {
  pthread_mutex_lock(&timer_lock);
  while (!timer_stop) {
    const uint64_t now = splk_jiffies();
    Timer* due = nullptr;
    for (Timer* t = timers.next; t != &timers; t = t->next)
      if (static_cast<long>(now - t->expires) >= 0) {
        due = t;
        break;
      }
    if (due == nullptr) {
      pthread_mutex_unlock(&timer_lock);
      usleep(500);
      pthread_mutex_lock(&timer_lock);
      continue;
    }
    due->prev->next = due->next;
    due->next->prev = due->prev;
    due->armed = 0;
    running_timer = due;
    void* entry = due->entry;
    pthread_mutex_unlock(&timer_lock);
    // A timer runs in softirq: on its CPU, not preemptible.
    cpu_enter();
    splk_taskq_entry_expired(entry);
    cpu_exit();
    pthread_mutex_lock(&timer_lock);
    running_timer = nullptr;
    pthread_cond_broadcast(&timer_done);
  }
  pthread_mutex_unlock(&timer_lock);
  return 0;
}

// ---- SLUB stand-in and address sets ---------------------------------------------

struct LinuxCache {
  size_t size;
  size_t align;
};
std::mutex slub_lock;
std::unordered_map<void*, LinuxCache*> slub_objects;

void* slub_alloc(LinuxCache* c) {
  void* obj = aligned_alloc(c->align, (c->size + c->align - 1) / c->align * c->align);
  if (obj == nullptr) return nullptr;
  if (splk_kernel.init_on_alloc) memset(obj, 0, c->size);
  std::lock_guard<std::mutex> g(slub_lock);
  slub_objects[obj] = c;
  return obj;
}

void slub_free(LinuxCache* c, void* obj) {
  {
    std::lock_guard<std::mutex> g(slub_lock);
    auto it = slub_objects.find(obj);
    if (it == slub_objects.end() || it->second != c)
      die("kmem_cache_free of %p: not this cache's", obj);
    slub_objects.erase(it);
  }
  free(obj);
}

struct Index {
  std::mutex lock;
  std::map<unsigned long, void*> map;
};
Index* index_of(void* xa) { return static_cast<Index*>(static_cast<sim_xarray*>(xa)->impl); }

// ---- vmalloc ---------------------------------------------------------------------

constexpr size_t kVmallocSize = size_t{64} << 30;
uint8_t* vmalloc_base;
size_t vmalloc_next;
std::mutex vmalloc_lock;

unsigned long warnings;
pthread_rwlock_t registry_lock = PTHREAD_RWLOCK_INITIALIZER;
pthread_mutex_t tq_registry_lock = PTHREAD_MUTEX_INITIALIZER;

void* rcu_main(void*) {
  for (;;) {
    usleep(1000);
    std::vector<std::pair<void*, bool>> batch;
    {
      std::lock_guard<std::mutex> g(rcu_pending_lock);
      batch.swap(rcu_pending);
      if (batch.empty() && __atomic_load_n(&rcu_stop, __ATOMIC_ACQUIRE)) return nullptr;
    }
    // A grace period: every reader that could see these blocks is done.
    pthread_rwlock_wrlock(&rcu_lock);
    pthread_rwlock_unlock(&rcu_lock);
    for (auto& [p, vm] : batch) {
      if (vm)
        splk_vfree(p, 0);
      else
        free(p);
    }
  }
}

}  // namespace

[[noreturn]] void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "splktsan: FAIL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  abort();
}

void init() {
  start_ms = now_ms();
  percpu_area = static_cast<uint8_t*>(aligned_alloc(4096, kPerCpuUnit * kNumCpus));
  memset(percpu_area, 0, kPerCpuUnit * kNumCpus);
  for (auto& m : cpu_mutex) pthread_mutex_init(&m, nullptr);
  main_thread.cpu = 0;
  snprintf(main_thread.name, sizeof(main_thread.name), "main");
  pthread_mutex_init(&main_thread.m, nullptr);
  pthread_cond_init(&main_thread.c, nullptr);
  self = &main_thread;
  set_gs(0);
  void* v =
      mmap(nullptr, kVmallocSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (v == MAP_FAILED) die("cannot reserve the vmalloc region");
  vmalloc_base = static_cast<uint8_t*>(v);
  splk_kernel.vmalloc_start = reinterpret_cast<uintptr_t>(vmalloc_base);
  splk_kernel.vmalloc_size = kVmallocSize;
  splk_kernel.direct_map_start = 0x10000;
  high_memory = reinterpret_cast<void*>(uintptr_t{1} << 47);
  splk_kernel.nr_cpu_ids = ncpus;
  splk_kernel.node_ids = ncpus >= 2 ? 2 : 1;
  splk_kernel.hz = 1000;
  for (unsigned c = 0; c < ncpus; ++c) {
    char n[24];
    snprintf(n, sizeof(n), "kworker/%u", c);
    kworkers[c].thread = new_thread(kworker_main, &kworkers[c], n, static_cast<int>(c));
  }
  timer_thread = new_thread(timer_main, nullptr, "timers", 0);
  pthread_create(&rcu_thread, nullptr, rcu_main, nullptr);
}

void fini() {
  for (unsigned c = 0; c < ncpus; ++c) {
    pthread_mutex_lock(&kworkers[c].m);
    kworkers[c].stop = true;
    pthread_cond_broadcast(&kworkers[c].c);
    pthread_mutex_unlock(&kworkers[c].m);
    pthread_join(kworkers[c].thread->pt, nullptr);
  }
  pthread_mutex_lock(&timer_lock);
  timer_stop = true;
  pthread_mutex_unlock(&timer_lock);
  pthread_join(timer_thread->pt, nullptr);
  __atomic_store_n(&rcu_stop, true, __ATOMIC_RELEASE);
  pthread_join(rcu_thread, nullptr);
}

void* spawn(int (*fn)(void*), void* arg, const char* name, unsigned cpu) {
  return new_thread(fn, arg, name, static_cast<int>(cpu));
}

void join(void* t) { pthread_join(static_cast<Thread*>(t)->pt, nullptr); }

unsigned long warning_count() { return __atomic_load_n(&warnings, __ATOMIC_RELAXED); }

}  // namespace real

using namespace real;

struct splk_kernel_info splk_kernel;
void* high_memory;
struct splk_test_hooks splk_test_hooks;

extern "C" {

void __cxa_pure_virtual() { die("pure virtual call"); }

unsigned long splk_warning_count(void) noexcept { return warning_count(); }

void splk_log(int, const char*, ...) noexcept {}

void splk_warn(const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "splktsan: WARNING: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  __atomic_fetch_add(&warnings, 1, __ATOMIC_RELAXED);
}

uint64_t splk_random_u64(void) noexcept {
  thread_local uint64_t s = 0x9e3779b97f4a7c15ULL ^ reinterpret_cast<uintptr_t>(&s);
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

// ---- Memory --------------------------------------------------------------------

void* splk_kmalloc_node(size_t size, int km_flags, int) noexcept {
  if (!(km_flags & KM_NOSLEEP)) may_sleep("kmalloc");
  void* p = aligned_alloc(16, (size + 15) & ~size_t{15});
  if (p != nullptr && ((km_flags & KM_ZERO) || splk_kernel.init_on_alloc)) memset(p, 0, size);
  return p;
}

void splk_kfree(const void* ptr) noexcept { free(const_cast<void*>(ptr)); }

unsigned int splk_km_to_gfp(int km_flags, unsigned int) noexcept {
  return (km_flags & KM_NOSLEEP) ? 0u : 0xc00u;
}

unsigned int splk_gfp_unusable(unsigned int) noexcept { return 0; }

void* splk_vmalloc_noio(size_t size, int km_flags, unsigned int, int) noexcept {
  if (!(km_flags & KM_NOSLEEP)) may_sleep("vmalloc");
  const size_t bytes = (size + 4095) & ~size_t{4095};
  uint8_t* p;
  {
    std::lock_guard<std::mutex> g(vmalloc_lock);
    if (vmalloc_next + bytes + 4096 > kVmallocSize) return nullptr;
    p = vmalloc_base + vmalloc_next;
    vmalloc_next += bytes + 4096;  // a guard page after each
  }
  if (mprotect(p, bytes, PROT_READ | PROT_WRITE) != 0) return nullptr;
  return p;
}

void splk_vfree(void* ptr, size_t size) noexcept {
  if (ptr == nullptr) return;
  // The size is not always known here (vfree_rcu): unmap until the guard.
  auto* p = static_cast<uint8_t*>(ptr);
  size_t n = 0;
  while (true) {
    if (size != 0) {
      n = (size + 4095) & ~size_t{4095};
      break;
    }
    unsigned char v;
    if (mincore(p + n, 4096, &v) != 0) break;
    uintptr_t w;
    if (!splk_read_word_nofault(reinterpret_cast<const uintptr_t*>(p + n), &w)) break;
    n += 4096;
  }
  madvise(p, n, MADV_DONTNEED);
  mprotect(p, n, PROT_NONE);
}

bool splk_read_word_nofault(const uintptr_t* addr, uintptr_t* val) noexcept {
  iovec local{val, sizeof(*val)};
  iovec remote{const_cast<uintptr_t*>(addr), sizeof(*val)};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == sizeof(*val);
}

void* splk_alloc_pages(size_t size, int km_flags, unsigned int) noexcept {
  if (!(km_flags & KM_NOSLEEP)) may_sleep("alloc_pages");
  size_t bytes = 4096;
  while (bytes < size) bytes <<= 1;
  return aligned_alloc(4096, bytes);
}

void splk_free_pages(void* addr, size_t) noexcept { free(addr); }

void* splk_linux_cache_create(const char*, size_t size, size_t align, size_t, size_t,
                              bool) noexcept {
  auto* c = new LinuxCache{size, align < 8 ? 8 : align};
  return c;
}

void splk_linux_cache_destroy(void* cache) noexcept { delete static_cast<LinuxCache*>(cache); }

void* splk_linux_cache_alloc(void* cache, unsigned int) noexcept {
  return slub_alloc(static_cast<LinuxCache*>(cache));
}

unsigned int splk_linux_cache_alloc_bulk(void* cache, unsigned int, unsigned int n,
                                         void** objs) noexcept {
  for (unsigned i = 0; i < n; ++i) {
    objs[i] = slub_alloc(static_cast<LinuxCache*>(cache));
    if (objs[i] == nullptr) {
      splk_linux_cache_free_bulk(cache, i, objs);
      return 0;
    }
  }
  return n;
}

void splk_linux_cache_free_bulk(void* cache, unsigned int n, void** objs) noexcept {
  for (unsigned i = 0; i < n; ++i) slub_free(static_cast<LinuxCache*>(cache), objs[i]);
}

void kmem_cache_free(void* cache, void* obj) noexcept {
  slub_free(static_cast<LinuxCache*>(cache), obj);
}

bool splk_linux_cache_may_own(void* cache, const void* obj, size_t size) noexcept {
  std::lock_guard<std::mutex> g(slub_lock);
  auto it = slub_objects.find(const_cast<void*>(obj));
  return it != slub_objects.end() && it->second == cache &&
         static_cast<LinuxCache*>(cache)->size >= size;
}

// ---- Per-CPU ---------------------------------------------------------------------

void* splk_percpu_alloc(size_t size, size_t align) noexcept {
  may_sleep("alloc_percpu");
  std::lock_guard<std::mutex> g(percpu_lock);
  percpu_next = (percpu_next + align - 1) & ~(align - 1);
  if (percpu_next + size > kPerCpuUnit) return nullptr;
  const size_t off = percpu_next;
  percpu_next += size;
  for (unsigned c = 0; c < ncpus; ++c) memset(percpu_area + c * kPerCpuUnit + off, 0, size);
  return reinterpret_cast<void*>(off);
}

void splk_percpu_free(void*) noexcept {}  // never reused: a stale %gs read finds zeroes

void* splk_per_cpu_ptr(void* pcpu, unsigned int cpu) noexcept {
  if (cpu >= ncpus) die("per_cpu_ptr for CPU %u of %u", cpu, ncpus);
  return percpu_area + cpu * kPerCpuUnit + reinterpret_cast<uintptr_t>(pcpu);
}

long splk_percpu_sum_long(void* pcpu) noexcept {
  long sum = 0;
  for (unsigned c = 0; c < ncpus; ++c)
    sum += __atomic_load_n(reinterpret_cast<long*>(splk_per_cpu_ptr(pcpu, c)), __ATOMIC_RELAXED);
  return sum;
}

// ---- Interrupts, locks -------------------------------------------------------------

unsigned long splk_irq_save(void) noexcept {
  cpu_enter();
  return 0;
}

void splk_irq_restore(unsigned long) noexcept { cpu_exit(); }

void splk_spin_lock_init(void* lock, enum splk_lock_class cls) noexcept {
  auto* l = static_cast<sim_spinlock*>(lock);
  l->magic = SIM_SPIN_MAGIC;
  __atomic_store_n(&l->owner, 0, __ATOMIC_RELEASE);
  l->cls = cls;
}

static void real_spin_lock(void* lock) noexcept {
  auto* l = static_cast<sim_spinlock*>(lock);
  if (l->magic != SIM_SPIN_MAGIC) die("a spinlock that was never initialised");
  cpu_enter();
  int32_t expected = 0;
  while (!__atomic_compare_exchange_n(&l->owner, &expected, 1, false, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED)) {
    expected = 0;
    sched_yield();
  }
}

static void real_spin_unlock(void* lock) noexcept {
  __atomic_store_n(&static_cast<sim_spinlock*>(lock)->owner, 0, __ATOMIC_RELEASE);
  cpu_exit();
}

unsigned long splk_spin_lock_irqsave(void* lock) noexcept {
  real_spin_lock(lock);
  return 0;
}

void splk_spin_unlock_irqrestore(void* lock, unsigned long) noexcept { real_spin_unlock(lock); }

bool splk_spin_trylock_irqsave(void* lock, unsigned long* flags) noexcept {
  auto* l = static_cast<sim_spinlock*>(lock);
  cpu_enter();
  int32_t expected = 0;
  if (__atomic_compare_exchange_n(&l->owner, &expected, 1, false, __ATOMIC_ACQUIRE,
                                  __ATOMIC_RELAXED)) {
    *flags = 0;
    return true;
  }
  cpu_exit();
  return false;
}

// Held by some thread (the owner word does not say which); the pthread
// locks below cannot say, so their asserts check nothing.
void splk_spin_assert_held(void* lock) noexcept {
  if (__atomic_load_n(&static_cast<sim_spinlock*>(lock)->owner, __ATOMIC_RELAXED) == 0)
    die("a spinlock asserted held is free");
}
void splk_registry_assert_held(void) noexcept {}
void splk_tq_registry_assert_held(void) noexcept {}

void splk_registry_lock_read(void) noexcept {
  may_sleep("down_read");
  pthread_rwlock_rdlock(&registry_lock);
}
bool splk_registry_trylock_read(void) noexcept {
  return pthread_rwlock_tryrdlock(&registry_lock) == 0;
}
void splk_registry_unlock_read(void) noexcept { pthread_rwlock_unlock(&registry_lock); }
void splk_registry_lock_write(void) noexcept {
  may_sleep("down_write");
  pthread_rwlock_wrlock(&registry_lock);
}
void splk_registry_unlock_write(void) noexcept { pthread_rwlock_unlock(&registry_lock); }

void splk_tq_registry_lock(void) noexcept {
  may_sleep("mutex_lock");
  pthread_mutex_lock(&tq_registry_lock);
}
void splk_tq_registry_unlock(void) noexcept { pthread_mutex_unlock(&tq_registry_lock); }

// ---- Wait queues, sleeping ----------------------------------------------------------

void splk_waitq_init(void* w) noexcept {
  auto* wq = static_cast<sim_waitq*>(w);
  wq->magic = SIM_WAITQ_MAGIC;
  auto* q = new WaitQ{};
  pthread_mutex_init(&q->m, nullptr);
  pthread_cond_init(&q->c, nullptr);
  wq->head = q;
}

void splk_waitq_wake_all(void* w) noexcept {
  WaitQ* q = wq_of(w);
  pthread_mutex_lock(&q->m);
  ++q->seq;
  pthread_cond_broadcast(&q->c);
  pthread_mutex_unlock(&q->m);
}

// As wait_event_timeout(): the sequence number read before the condition
// makes a wake-up during its evaluation end the sleep at once.
long splk_waitq_wait(void* w, bool (*done)(void*), void* arg, long timeout, bool) noexcept {
  may_sleep("wait_event");
  WaitQ* q = wq_of(w);
  const uint64_t deadline = timeout >= 0 ? splk_jiffies() + static_cast<uint64_t>(timeout) : 0;
  for (;;) {
    pthread_mutex_lock(&q->m);
    const uint64_t seq = q->seq;
    pthread_mutex_unlock(&q->m);
    const bool ok = done(arg);
    const uint64_t now = splk_jiffies();
    if (ok || (timeout >= 0 && now >= deadline)) {
      if (timeout < 0 || !ok) return 0;
      return now < deadline ? static_cast<long>(deadline - now) : 1;
    }
    pthread_mutex_lock(&q->m);
    if (q->seq == seq) {
      timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 2000000;  // a bounded nap: timeouts are checked above
      if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000;
      }
      pthread_cond_timedwait(&q->c, &q->m, &ts);
    }
    pthread_mutex_unlock(&q->m);
  }
}

void* splk_tq_thread_create(int (*fn)(void*), void* arg, int, const char* name, int) noexcept {
  may_sleep("kthread_create");
  return new_thread(fn, arg, name, -1);
}

void* splk_tq_thread_data(void* thread, int (*fn)(void*)) noexcept {
  auto* t = thread != nullptr ? static_cast<Thread*>(thread) : self;
  return t != nullptr && t->fn == fn ? t->arg : nullptr;
}

void* splk_tq_current(void) noexcept { return self; }

void splk_thread_stop(void* thread) noexcept {
  auto* t = static_cast<Thread*>(thread);
  pthread_mutex_lock(&t->m);
  t->stop = true;
  pthread_cond_broadcast(&t->c);
  pthread_mutex_unlock(&t->m);
  pthread_join(t->pt, nullptr);
}

bool splk_thread_should_stop(void) noexcept {
  pthread_mutex_lock(&self->m);
  const bool stop = self->stop;
  pthread_mutex_unlock(&self->m);
  return stop;
}

void splk_tq_prepare_idle(void) noexcept {
  pthread_mutex_lock(&self->m);
  self->woken = false;
  pthread_mutex_unlock(&self->m);
}

long splk_tq_idle(long timeout) noexcept {
  may_sleep("schedule");
  const uint64_t deadline = timeout >= 0 ? splk_jiffies() + static_cast<uint64_t>(timeout) : 0;
  pthread_mutex_lock(&self->m);
  while (!self->woken && !self->stop) {
    if (timeout >= 0 && splk_jiffies() >= deadline) break;
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 2000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec += 1;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&self->c, &self->m, &ts);
  }
  const bool woken = self->woken || self->stop;
  pthread_mutex_unlock(&self->m);
  if (timeout < 0) return 1;
  const uint64_t now = splk_jiffies();
  if (!woken && now >= deadline) return 0;
  return now < deadline ? static_cast<long>(deadline - now) : 1;
}

void splk_tq_cancel_idle(void) noexcept {}

void splk_tq_thread_wake(void* thread) noexcept {
  auto* t = static_cast<Thread*>(thread);
  pthread_mutex_lock(&t->m);
  t->woken = true;
  pthread_cond_broadcast(&t->c);
  pthread_mutex_unlock(&t->m);
}

void splk_msleep(unsigned int ms) noexcept {
  may_sleep("msleep");
  usleep(ms * 1000);
}

void splk_might_sleep(void) noexcept { may_sleep("might_sleep"); }
void splk_cond_resched(void) noexcept {
  may_sleep("cond_resched");
  sched_yield();
}

unsigned long splk_jiffies(void) noexcept {
  // INITIAL_JIFFIES: five minutes before the 32-bit wrap, as the kernel.
  return static_cast<unsigned long>(-300 * 1000) + (now_ms() - start_ms);
}

// ---- Address sets and the index ---------------------------------------------------

// The xarray has a lock of its own and lock-free loads (RCU) in the
// kernel; here every access takes the lock.
void splk_index_init(void* xa) noexcept {
  auto* x = static_cast<sim_xarray*>(xa);
  x->magic = SIM_XA_MAGIC;
  x->impl = new Index;
}

bool splk_index_store(void* xa, unsigned long index, void* entry, int) noexcept {
  Index* i = index_of(xa);
  std::lock_guard<std::mutex> g(i->lock);
  i->map[index] = entry;
  return true;
}

void* splk_index_load(void* xa, unsigned long index) noexcept {
  Index* i = index_of(xa);
  std::lock_guard<std::mutex> g(i->lock);
  auto it = i->map.find(index);
  return it == i->map.end() ? nullptr : it->second;
}

void splk_index_erase(void* xa, unsigned long index) noexcept {
  Index* i = index_of(xa);
  std::lock_guard<std::mutex> g(i->lock);
  i->map.erase(index);
}

void splk_index_destroy(void* xa) noexcept {
  auto* x = static_cast<sim_xarray*>(xa);
  delete index_of(xa);
  x->impl = nullptr;
  x->magic = 0;
}

// ---- CPUs, work, RCU ----------------------------------------------------------------

bool splk_cpu_possible(unsigned int cpu) noexcept { return cpu < ncpus; }
// Two nodes (CPU c on node c % 2) with two CPUs or more: the depot's and
// the slab store's node parts (numa.hpp) run concurrently under TSan.
int splk_cpu_to_node(unsigned int cpu) noexcept {
  return splk_kernel.node_ids > 1 ? static_cast<int>(cpu % splk_kernel.node_ids) : 0;
}
unsigned int splk_raw_cpu(void) noexcept { return self->cpu; }
int splk_obj_node(const void* obj) noexcept {
  if (splk_kernel.node_ids <= 1) return -1;
  return static_cast<int>((reinterpret_cast<uintptr_t>(obj) >> 16) % splk_kernel.node_ids);
}
unsigned int splk_num_online_cpus(void) noexcept { return ncpus; }

// work_on_cpu(), as the kernel glue: queued on cpu's kworker, and waited
// for.
struct OnCpu {
  void (*fn)(void*);
  void* arg;
  bool done;
  pthread_mutex_t m;
  pthread_cond_t c;
};

void on_cpu_call(void* p) {
  auto* call = static_cast<OnCpu*>(p);
  call->fn(call->arg);
  pthread_mutex_lock(&call->m);
  call->done = true;
  pthread_cond_broadcast(&call->c);
  pthread_mutex_unlock(&call->m);
}

void splk_on_cpu(unsigned int cpu, void (*fn)(void*), void* arg) noexcept {
  may_sleep("work_on_cpu");
  OnCpu call{fn, arg, false, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
  Kworker& k = kworkers[cpu];
  pthread_mutex_lock(&k.m);
  k.work.emplace_back(on_cpu_call, &call);
  pthread_cond_broadcast(&k.c);
  pthread_mutex_unlock(&k.m);
  pthread_mutex_lock(&call.m);
  while (!call.done) pthread_cond_wait(&call.c, &call.m);
  pthread_mutex_unlock(&call.m);
}

void splk_drain_request(void) noexcept {
  for (unsigned c = 0; c < ncpus; ++c) {
    if (c == self->cpu) continue;
    Kworker& k = kworkers[c];
    pthread_mutex_lock(&k.m);
    ++k.drains;
    pthread_cond_broadcast(&k.c);
    pthread_mutex_unlock(&k.m);
  }
}

void splk_drain_flush(void) noexcept {
  may_sleep("flush_work");
  for (unsigned c = 0; c < ncpus; ++c) {
    Kworker& k = kworkers[c];
    pthread_mutex_lock(&k.m);
    while (k.drains != 0 || k.busy) pthread_cond_wait(&k.c, &k.m);
    pthread_mutex_unlock(&k.m);
  }
}

void splk_rcu_read_lock(void) noexcept {
  cpu_enter();  // non-preemptible RCU: the reader keeps its CPU
  if (self->rcu_depth++ == 0) pthread_rwlock_rdlock(&rcu_lock);
}

void splk_rcu_read_unlock(void) noexcept {
  if (--self->rcu_depth == 0) pthread_rwlock_unlock(&rcu_lock);
  cpu_exit();
}

void splk_kfree_rcu(void* obj) noexcept {
  std::lock_guard<std::mutex> g(rcu_pending_lock);
  rcu_pending.emplace_back(obj, false);
}

void splk_vfree_rcu(void* ptr, size_t) noexcept {
  std::lock_guard<std::mutex> g(rcu_pending_lock);
  rcu_pending.emplace_back(ptr, true);
}

// ---- Task entries' timers ----------------------------------------------------------

void splk_tq_entry_kernel_init(void* entry) noexcept {
  auto* e = static_cast<char*>(entry);
  splk_spin_lock_init(e + SPLK_TQENT_LOCK_OFFSET, SPLK_LOCK_TASKQ);
  auto* w = reinterpret_cast<sim_waitq*>(e + SPLK_TQENT_WAITQ_OFFSET);
  w->magic = SIM_WAITQ_MAGIC;
  w->head = nullptr;
  Timer* t = timer_of(entry);
  *t = Timer{0, 0, 0, entry, nullptr, nullptr};
  static_assert(SPLK_TQENT_TIMER_OFFSET + sizeof(Timer) <= SPLK_TQENT_SIZE);
}

void splk_tq_entry_arm(void* entry, unsigned long expires) noexcept {
  Timer* t = timer_of(entry);
  pthread_mutex_lock(&timer_lock);
  if (t->armed) {
    t->prev->next = t->next;
    t->next->prev = t->prev;
  }
  t->entry = entry;
  t->expires = expires;
  t->armed = 1;
  t->next = &timers;
  t->prev = timers.prev;
  timers.prev->next = t;
  timers.prev = t;
  pthread_mutex_unlock(&timer_lock);
}

void splk_tq_entry_disarm_sync(void* entry) noexcept {
  Timer* t = timer_of(entry);
  pthread_mutex_lock(&timer_lock);
  if (t->armed) {
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->armed = 0;
  }
  while (running_timer == t) pthread_cond_wait(&timer_done, &timer_lock);
  pthread_mutex_unlock(&timer_lock);
}

// ---- The rest ---------------------------------------------------------------------------

int splk_tq_hotplug_init(void) noexcept { return 0; }
void splk_tq_hotplug_exit(void) noexcept {}
void* splk_tq_kstat_install(void*, const char*, int) noexcept { return nullptr; }
void splk_tq_kstat_remove(void*) noexcept {}
void splk_fault_inject_current(bool) noexcept {}
void splk_test_udelay(unsigned int us) noexcept {
  const uint64_t end = now_ms() * 1000 + us;
  while (now_ms() * 1000 < end) {
  }
}

}  // extern "C"
