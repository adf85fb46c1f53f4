// SPDX-License-Identifier: GPL-2.0
//
// The random workload (workload.hpp): drivers call the whole API with
// random arguments, interrupt handlers allocate, free and dispatch, and
// every result is checked against the model (model.hpp); the core's own
// check_invariants() runs after every driver step.
#include "workload.hpp"

#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include "generated/taskq_sizes.h"
#include "memory.hpp"
#include "model.hpp"
#include "rcu.hpp"
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"
#include "sim_config.hpp"

namespace sim::workload {

uint64_t ops_done;

namespace {

using model::Cache;
using model::Queue;
using model::Task;
model::State& M = model::state;

Options opt;
uint64_t ops_left;

// The workload's choices: from the seeded PRNG, or decoded from the
// operation bytes (Options::data).  Each choice among n takes the fewest
// whole bytes that can name n values, little-endian, modulo n: a byte
// picks an operation, so a fuzzer's mutation of one byte changes one
// decision.  Once the bytes are used up every choice is 0 and the drivers
// stop after the call they are in.  Declared here, it hides sim::rng from
// the workload (the scheduler keeps drawing from that).
class Choices {
 public:
  void reset(const uint8_t* data, size_t size) {
    data_ = data;
    left_ = size;
  }
  bool decoding() const { return data_ != nullptr; }
  bool exhausted() const { return data_ != nullptr && left_ == 0; }
  // Two bytes when decoding: next() picks one of the held objects.
  uint64_t next() { return data_ != nullptr ? take(2) : sim::rng.next(); }
  uint64_t below(uint64_t n) {
    if (data_ == nullptr) return sim::rng.below(n);
    int bytes = 1;
    while (bytes < 8 && (n - 1) >> (8 * bytes) != 0) ++bytes;
    return take(bytes) % n;
  }
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  bool one_in(uint64_t n) { return n != 0 && below(n) == 0; }
  bool percent(unsigned p) { return below(100) < p; }

 private:
  uint64_t take(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes && left_ > 0; ++i, --left_) v |= uint64_t{*data_++} << (8 * i);
    if (left_ == 0) ops_left = 0;
    return v;
  }
  const uint8_t* data_ = nullptr;
  size_t left_ = 0;
};
Choices rng;
// Driver and interrupt calls into the core in flight: check_invariants()
// reads every CPU's magazines unlocked, as the KUnit suites call it, at
// quiescent points, so it runs only when this is 0 (object_cache.hpp).
int in_flight;
int checking;  // drivers waiting for in_flight 0 to check, or checking
bool irq_on;   // the interrupt workload runs (not during load and unload)
uint64_t cache_names;
uint64_t max_id_seen;

constexpr uint64_t kCtorMagic = 0xc7c7c7c700000000ULL;

// ---- Constructors and destructors ---------------------------------------------

int ctor(void* obj, void* priv, int) {
  auto* c = static_cast<Cache*>(priv);
  ++c->ctor_calls;
  if (c->size >= 8) {
    const uint64_t v = kCtorMagic ^ reinterpret_cast<uintptr_t>(c);
    memcpy(obj, &v, 8);
  }
  return 0;
}

void dtor(void* obj, void* priv) {
  auto* c = static_cast<Cache*>(priv);
  ++c->dtor_calls;
  if (c->ctor && c->size >= 8) {
    uint64_t v;
    memcpy(&v, obj, 8);
    if (v != (kCtorMagic ^ reinterpret_cast<uintptr_t>(c)))
      fail("model", "destructor of cache '%s' got %p, which its constructor did not make", c->name,
           obj);
    memset(obj, 0, 8);
  }
}

// ---- Caches ------------------------------------------------------------------

size_t random_size(bool tiny_ok) {
  const unsigned r = static_cast<unsigned>(rng.below(100));
  size_t s;
  if (r < 20)
    s = rng.range(1, 16);
  else if (r < 45)
    s = rng.range(17, 512);
  else if (r < 65)
    s = rng.range(513, 8192);
  else if (r < 78)
    s = rng.range(8193, 64 * 1024);
  else if (r < 95)
    s = 4096 * rng.range(1, 16);
  else
    s = (1 << 20) + rng.range(0, 64 * 1024);
  if (!tiny_ok && s < 8) s = 8 + rng.below(8);
  return s;
}

Cache* op_create() {
  auto* c = new Cache{};
  snprintf(c->name, sizeof(c->name), "sim_cache_%llu",
           static_cast<unsigned long long>(++cache_names));
  const bool tiny_ok = !(opt.avoid & kAvoidTinyDebug) || spl_kmem_cache_debug == 0;
  c->size = random_size(tiny_ok);
  static const size_t aligns[] = {0, 0, 0, 8, 16, 64, 512, 4096};
  c->align = aligns[rng.below(8)];
  static const int kinds[] = {0, 0, KMC_KVMEM, KMC_KVMEM, KMC_SLAB};
  c->flags = kinds[rng.below(5)] | (rng.one_in(8) ? KMC_RECLAIMABLE : 0);
  c->ctor = rng.one_in(2);
  c->dtor = rng.one_in(2);
  c->skc = spl_kmem_cache_create(c->name, c->size, c->align, c->ctor ? ctor : nullptr,
                                 c->dtor ? dtor : nullptr, nullptr, c, nullptr, c->flags);
  note("create %s size %zu align %zu flags 0x%x ctor %d dtor %d: %p", c->name, c->size, c->align,
       c->flags, c->ctor, c->dtor, static_cast<void*>(c->skc));
  if (c->skc == nullptr) {
    // Valid arguments: only a refused combination (a KMC_SLAB size SLUB
    // cannot hold) may fail, and the core says why in its log.
    delete c;
    return nullptr;
  }
  if (spl_kmem_cache_entry_size(c->skc) != c->size)
    fail("model", "entry_size of '%s' is %llu, created with %zu", c->name,
         static_cast<unsigned long long>(spl_kmem_cache_entry_size(c->skc)), c->size);
  M.caches.push_back(c);
  return c;
}

// Bad arguments: each must be refused (NULL), with no warning.
void op_create_hostile() {
  const unsigned r = static_cast<unsigned>(rng.below(5));
  spl_kmem_cache* skc = nullptr;
  switch (r) {
    case 0:
      skc = spl_kmem_cache_create("sim_bad", 0, 0, nullptr, nullptr, nullptr, nullptr, nullptr, 0);
      break;
    case 1:
      skc =
          spl_kmem_cache_create("sim_bad", 64, 24, nullptr, nullptr, nullptr, nullptr, nullptr, 0);
      break;
    case 2:
      skc = spl_kmem_cache_create("sim_bad", 64, 0, nullptr, nullptr, nullptr, nullptr, nullptr,
                                  KMC_SLAB | KMC_KVMEM);
      break;
    case 3:
      skc = spl_kmem_cache_create(nullptr, 64, 0, nullptr, nullptr, nullptr, nullptr, nullptr, 0);
      break;
    case 4:
      skc = spl_kmem_cache_create("sim_bad", SIZE_MAX - 7, 0, nullptr, nullptr, nullptr, nullptr,
                                  nullptr, 0);
      break;
  }
  if (skc != nullptr) fail("model", "spl_kmem_cache_create accepted bad arguments (case %u)", r);
}

Cache* pick_cache() {
  if (M.caches.empty()) return nullptr;
  Cache* c = M.caches[rng.below(M.caches.size())];
  return c->dying ? nullptr : c;
}

// An object the cache handed out: constructed if it has a constructor,
// then the callers' (the model fails on an object handed out twice).
void took(Cache* c, void* obj) {
  if (c->ctor && c->size >= 8) {
    uint64_t v;
    memcpy(&v, obj, 8);
    if (v != (kCtorMagic ^ reinterpret_cast<uintptr_t>(c)))
      fail("model", "'%s' handed out %p without constructing it", c->name, obj);
  }
  M.add(c, obj);
}

void alloc_from(Cache* c, int km) {
  ++c->users;
  void* obj = spl_kmem_cache_alloc(c->skc, km);
  ++ops_done;
  if (obj == nullptr) {
    if (!(km & KM_NOSLEEP)) fail("model", "KM_SLEEP allocation from '%s' returned NULL", c->name);
  } else {
    took(c, obj);
  }
  --c->users;
}

// spl_kmem_cache_alloc_batch(): every object as a single allocation gives
// it; KM_SLEEP gets them all.
void alloc_batch_from(Cache* c, int km) {
  constexpr size_t kMax = 40;
  void* objs[kMax];
  const size_t n = rng.range(1, kMax);
  ++c->users;
  const size_t got = spl_kmem_cache_alloc_batch(c->skc, km, objs, n);
  ++ops_done;
  if (got > n || (got < n && !(km & KM_NOSLEEP)))
    fail("model", "a batch of %zu from '%s' (flags 0x%x) gave %zu", n, c->name, km, got);
  for (size_t i = 0; i < got; ++i) took(c, objs[i]);
  --c->users;
}

void free_held(void* obj) {
  Cache* c = M.objects.at(reinterpret_cast<uintptr_t>(obj)).cache;
  ++c->users;
  M.remove(obj);
  spl_kmem_cache_free(c->skc, obj);
  ++ops_done;
  --c->users;
}

// spl_kmem_cache_free_batch() of up to 40 objects one cache's callers hold.
void free_held_batch(void* first) {
  constexpr size_t kMax = 40;
  Cache* c = M.objects.at(reinterpret_cast<uintptr_t>(first)).cache;
  void* objs[kMax];
  size_t n = 0;
  const size_t want = rng.range(1, kMax);
  objs[n++] = first;
  for (size_t i = 0; i < M.order.size() && n < want; ++i) {
    void* obj = reinterpret_cast<void*>(M.order[i]);
    if (obj != first && M.objects.at(M.order[i]).cache == c) objs[n++] = obj;
  }
  ++c->users;
  for (size_t i = 0; i < n; ++i) M.remove(objs[i]);
  spl_kmem_cache_free_batch(c->skc, objs, n);
  ++ops_done;
  --c->users;
}

void* pick_held() {
  void* obj = M.pick(rng.next());
  if (obj == nullptr) return nullptr;
  return M.objects.at(reinterpret_cast<uintptr_t>(obj)).cache->dying ? nullptr : obj;
}

// A pointer the cache must refuse, with one warning: the inside of an
// object a caller holds, or another cache's object.
void op_free_hostile() {
  void* obj = pick_held();
  if (obj == nullptr) return;
  const model::Held& h = M.objects.at(reinterpret_cast<uintptr_t>(obj));
  Cache* c = h.cache;
  if (rng.one_in(2) && h.size >= 64) {
    expect_warning("free of an interior pointer");
    ++c->users;
    spl_kmem_cache_free(c->skc, static_cast<char*>(obj) + 32);
    --c->users;
  } else {
    Cache* other = pick_cache();
    if (other == nullptr || other == c) return;
    expect_warning("free of another cache's object");
    ++other->users;
    spl_kmem_cache_free(other->skc, obj);
    --other->users;
  }
  ++ops_done;
  expect_no_more_warnings();
}

// At rest only (no other caller, no interrupt handler that could take the
// object between the two frees): a second free of an object of a
// KMC_KVMEM cache must be refused with one warning.  (Untagged KMC_SLAB
// caches leave double frees to SLUB, as the README says.)
void double_free_at_rest() {
  void* obj = pick_held();
  if (obj == nullptr) return;
  Cache* c = M.objects.at(reinterpret_cast<uintptr_t>(obj)).cache;
  splk_cache_stats st;
  if (!splk_cache_stats_find(c->name, &st) || !(st.flags & KMC_KVMEM)) return;
  M.remove(obj);
  spl_kmem_cache_free(c->skc, obj);
  expect_warning("a second free of one object");
  spl_kmem_cache_free(c->skc, obj);
  expect_no_more_warnings();
  ops_done += 2;
}

void op_destroy(Cache* c) {
  c->dying = true;
  while (c->users != 0) splk_msleep(1);
  // The caller gives back what it holds first (a destroy with objects out
  // is a caller bug the core keeps memory for).
  std::vector<uintptr_t> mine;
  for (uintptr_t a : M.order)
    if (M.objects.at(a).cache == c) mine.push_back(a);
  for (uintptr_t a : mine) {
    M.remove(reinterpret_cast<void*>(a));
    spl_kmem_cache_free(c->skc, reinterpret_cast<void*>(a));
  }
  spl_kmem_cache_destroy(c->skc);
  ++ops_done;
  if (c->ctor && c->dtor && c->ctor_calls != c->dtor_calls)
    fail("model", "cache '%s' destroyed with %llu constructor and %llu destructor calls", c->name,
         static_cast<unsigned long long>(c->ctor_calls),
         static_cast<unsigned long long>(c->dtor_calls));
  M.caches.erase(std::find(M.caches.begin(), M.caches.end(), c));
  delete c;
}

// At rest, a cache's statistics equal the model's: a KMC_KVMEM cache's
// objects out of its slabs (and emergency objects) are the callers' plus
// the magazines'; a KMC_SLAB cache's objects out of SLUB are the
// callers' (its magazines hold free SLUB objects it counts apart).  Null
// when they agree, else what differs.
const char* stats_differ(Cache* c, char* buf, size_t len) {
  splk_cache_stats st;
  if (!splk_cache_stats_find(c->name, &st)) return "no statistics";
  if (st.flags & KMC_SLAB) {
    if (st.linux_alloc == c->held) return nullptr;
    snprintf(buf, len, "linux_alloc %llu, callers hold %llu",
             static_cast<unsigned long long>(st.linux_alloc),
             static_cast<unsigned long long>(c->held));
    return buf;
  }
  if (st.obj_alloc + st.obj_emergency == c->held + st.mag_objs) return nullptr;
  snprintf(buf, len, "obj_alloc %llu + emergency %llu, callers hold %llu + magazines %llu",
           static_cast<unsigned long long>(st.obj_alloc),
           static_cast<unsigned long long>(st.obj_emergency),
           static_cast<unsigned long long>(c->held), static_cast<unsigned long long>(st.mag_objs));
  return buf;
}

void check_stats() {
  char buf[160];
  for (Cache* c : M.caches) {
    const char* why = stats_differ(c, buf, sizeof(buf));
    // The background may be moving a batch between depot and slabs.
    for (int retry = 0; why != nullptr && retry < 3; ++retry) {
      splk_msleep(1);
      why = stats_differ(c, buf, sizeof(buf));
    }
    if (why != nullptr) fail("model", "statistics of '%s' at rest: %s", c->name, why);
  }
}

void for_each_stats(const splk_cache_stats* s, void*) {
  if (s->obj_alloc > s->obj_total && !(s->flags & KMC_SLAB))
    fail("model", "cache '%s': obj_alloc %llu > obj_total %llu", s->name,
         static_cast<unsigned long long>(s->obj_alloc),
         static_cast<unsigned long long>(s->obj_total));
}

// ---- Task queues ----------------------------------------------------------------

void task_fn(void* arg) {
  auto* t = static_cast<Task*>(arg);
  if (t->cancelled) fail("model", "task %lu ran after its cancel returned 0", t->id);
  // SPL's order: one thread takes the pending list first in, first out
  // (the priority list, TQ_FRONT and due delayed tasks, may pass it).
  Queue* q = t->queue;
  if (q->nthreads == 1 && t->normal && t->id != TASKQID_INVALID) {
    if (t->id < q->last_normal)
      fail("model", "queue '%s' (one thread) started task %lu after task %lu: not FIFO", q->name,
           t->id, q->last_normal);
    q->last_normal = t->id;
  }
  if (++t->runs > 1)
    fail("model", "task %lu (dispatch #%llu) ran twice", t->id,
         static_cast<unsigned long long>(t->seq));
  // A task runs in a thread of its queue.
  if (taskq_of_curthread() != q->tq ||
      !taskq_member(q->tq, static_cast<task_struct*>(splk_tq_current())))
    fail("model",
         "task %lu of '%s' runs in a thread taskq_of_curthread/taskq_member do not place there",
         t->id, q->name);
  if (t->sleep_ms != 0) splk_msleep(t->sleep_ms);
  t->done = true;
}

Queue* pick_queue() {
  if (M.queues.empty()) return nullptr;
  Queue* q = M.queues[rng.below(M.queues.size())];
  return q->dying ? nullptr : q;
}

Queue* op_tq_create() {
  auto* q = new Queue{};
  static unsigned queue_names;
  snprintf(q->name, sizeof(q->name), "sim_tq_%u", ++queue_names);
  int nthreads = static_cast<int>(rng.range(1, 4));
  unsigned flags = (rng.one_in(2) ? TASKQ_PREPOPULATE : 0) | (rng.one_in(2) ? TASKQ_DYNAMIC : 0);
  const int minalloc = static_cast<int>(rng.below(5));
  const int maxalloc = rng.one_in(2) ? 0x7fffffff : minalloc + static_cast<int>(rng.below(8));
  const unsigned how = static_cast<unsigned>(rng.below(6));
  q->nthreads = nthreads;
  if (how == 0) {
    // A percentage of the CPUs online, which CPU hotplug resizes: its
    // thread count is not the model's to know (no FIFO check).
    flags |= TASKQ_THREADS_CPU_PCT;
    nthreads = rng.one_in(2) ? 50 : 100;
    q->nthreads = 0;
    q->tq = taskq_create(q->name, nthreads, SPLK_MAX_RT_PRIO, minalloc, maxalloc, flags);
  } else if (how == 1) {
    // Every thread started on return, and handed back.
    task_struct** threads = nullptr;
    q->tq = taskq_create_synced(q->name, nthreads, SPLK_MAX_RT_PRIO, minalloc, maxalloc, flags,
                                &threads);
    if (q->tq != nullptr) {
      for (int i = 0; i < nthreads; ++i)
        if (threads[i] == nullptr || !taskq_member(q->tq, threads[i]))
          fail("model", "taskq_create_synced('%s') handed back thread %d: %p, not a member",
               q->name, i, static_cast<void*>(threads[i]));
      splk_kfree(threads);
    }
  } else {
    q->tq = taskq_create(q->name, nthreads, SPLK_MAX_RT_PRIO, minalloc, maxalloc, flags);
  }
  if (q->tq == nullptr) fail("model", "taskq_create of '%s' failed", q->name);
  M.queues.push_back(q);
  return q;
}

// Forgets finished tasks, when no other caller (a waiter holding a list
// of them) is in an operation on the queue.
void prune(Queue* q) {
  if (q->tasks.size() < 512 || q->users != 1) return;
  std::vector<Task*> keep;
  for (Task* t : q->tasks) {
    if (t->done || t->refused || t->cancelled) {
      if (t->entry != nullptr) ::operator delete (t->entry, std::align_val_t{SPLK_TQENT_ALIGN});
      delete t;
    } else {
      keep.push_back(t);
    }
  }
  q->tasks.swap(keep);
}

// dispatch, dispatch_ent or dispatch_delay, from a driver or an interrupt.
void op_dispatch(Queue* q, bool in_irq) {
  auto* t = new Task{};
  t->queue = q;
  t->seq = ++M.task_seq;
  t->sleep_ms = !in_irq && rng.one_in(4) ? static_cast<unsigned>(rng.below(20)) : 0;
  q->tasks.push_back(t);
  unsigned flags = in_irq || rng.one_in(4) ? TQ_NOSLEEP : TQ_SLEEP;
  if (rng.one_in(5))
    flags |= TQ_FRONT;
  else if (rng.one_in(8))
    flags |= TQ_NOQUEUE | TQ_NOSLEEP;
  const unsigned kind = static_cast<unsigned>(rng.below(in_irq ? 2 : 4));
  t->normal = kind != 2 && !(flags & (TQ_FRONT | TQ_NOQUEUE));
  taskqid_t id;
  if (kind == 1) {
    t->entry = ::operator new (SPLK_TQENT_SIZE, std::align_val_t{SPLK_TQENT_ALIGN});
    taskq_init_ent(static_cast<taskq_ent_t*>(t->entry));
    taskq_dispatch_ent(q->tq, task_fn, t, flags & ~TQ_NOQUEUE, static_cast<taskq_ent_t*>(t->entry));
    memcpy(&id, static_cast<char*>(t->entry) + SPLK_TQENT_ID_OFFSET, sizeof(id));
  } else if (kind == 2) {
    id = taskq_dispatch_delay(q->tq, task_fn, t, flags & ~TQ_NOQUEUE,
                              static_cast<long>(splk_jiffies() + rng.below(40)));
  } else {
    id = taskq_dispatch(q->tq, task_fn, t, flags);
  }
  ++ops_done;
  t->id = id;
  max_id_seen = std::max<uint64_t>(max_id_seen, id);
  if (id == TASKQID_INVALID) {
    if (!(flags & (TQ_NOSLEEP | TQ_NOQUEUE)))
      fail("model", "a TQ_SLEEP dispatch to '%s' was refused", q->name);
    if (t->runs != 0) fail("model", "a refused dispatch ran its task");
    t->refused = true;
  }
}

Task* pick_task(Queue* q) {
  if (q->tasks.empty()) return nullptr;
  Task* t = q->tasks[rng.below(q->tasks.size())];
  return t->id != TASKQID_INVALID ? t : nullptr;
}

void op_cancel(Queue* q) {
  Task* t = pick_task(q);
  if (t == nullptr) return;
  const bool wait = rng.one_in(2);
  ++t->cancelling;
  const int rc = taskq_cancel_id(q->tq, t->id, wait);
  --t->cancelling;
  ++ops_done;
  if (rc == 0) {
    if (t->runs != 0) fail("model", "cancel of task %lu returned 0, but it ran", t->id);
    t->cancelled = true;
  } else if (rc == SPLK_EBUSY) {
    if (wait) fail("model", "cancel(wait) of task %lu returned EBUSY", t->id);
  } else if (rc == SPLK_ENOENT) {
    // Unless another cancel of it, in flight, took it.
    if (t->runs == 0 && !t->cancelled && t->cancelling == 0)
      fail("model", "cancel of task %lu returned ENOENT, but it neither ran nor was cancelled",
           t->id);
    if (wait && !t->done && !t->cancelled && t->cancelling == 0)
      fail("model", "cancel(wait) of task %lu returned while it was still running", t->id);
  } else {
    fail("model", "cancel of task %lu returned %d", t->id, rc);
  }
}

void op_wait_id(Queue* q) {
  Task* t = nullptr;
  taskqid_t id;
  const unsigned r = static_cast<unsigned>(rng.below(8));
  if (r == 0 && !(opt.avoid & kAvoidWaitId0)) {
    id = TASKQID_INVALID;  // as OpenZFS's upgrade ioctls may
  } else if (r == 1) {
    id = max_id_seen + 1000;  // never issued
  } else {
    t = pick_task(q);
    if (t == nullptr) return;
    id = t->id;
  }
  note("taskq_wait_id(%s, %lu)", q->name, id);
  taskq_wait_id(q->tq, id);
  ++ops_done;
  if (t != nullptr && !t->done && !t->cancelled && t->cancelling == 0)
    fail("model", "taskq_wait_id(%lu) returned before the task finished", id);
  if (t != nullptr && t->done && t->entry != nullptr &&
      !taskq_empty_ent(static_cast<taskq_ent_t*>(t->entry)))
    fail("model", "the entry of task %lu is still queued after it ran", id);
}

// What must be finished once a wait returns: dispatches that returned
// before it began.
std::vector<Task*> dispatched(Queue* q, taskqid_t up_to) {
  std::vector<Task*> v;
  for (Task* t : q->tasks)
    if (t->id != TASKQID_INVALID && t->id <= up_to && !t->cancelled) v.push_back(t);
  return v;
}

void op_wait(Queue* q, bool outstanding) {
  taskqid_t arg = TASKQID_INVALID;
  if (outstanding && rng.one_in(2)) {
    Task* t = pick_task(q);
    if (t != nullptr) arg = t->id;
  }
  std::vector<Task*> must = dispatched(q, arg != TASKQID_INVALID ? arg : ~taskqid_t{0});
  if (outstanding)
    taskq_wait_outstanding(q->tq, arg);
  else
    taskq_wait(q->tq);
  ++ops_done;
  for (Task* t : must)
    if (!t->done && !t->cancelled && t->cancelling == 0)
      fail("model", "%s(%s) returned before task %lu (dispatch #%llu) finished",
           outstanding ? "taskq_wait_outstanding" : "taskq_wait", q->name, t->id,
           static_cast<unsigned long long>(t->seq));
}

void op_tq_destroy(Queue* q) {
  q->dying = true;
  while (q->users != 0) splk_msleep(1);
  taskq_destroy(q->tq);
  ++ops_done;
  for (Task* t : q->tasks) {
    if (t->id != TASKQID_INVALID && !t->cancelled && (t->runs != 1 || !t->done))
      fail("model", "taskq_destroy of '%s' returned with task %lu run %d times", q->name, t->id,
           t->runs);
    if (t->entry != nullptr) ::operator delete (t->entry, std::align_val_t{SPLK_TQENT_ALIGN});
    delete t;
  }
  M.queues.erase(std::find(M.queues.begin(), M.queues.end(), q));
  delete q;
}

// ---- CPU hotplug ------------------------------------------------------------------

bool hotplug_busy;  // one at a time, as cpus_write_lock() makes it

// A CPU other than 0 goes down (its magazines are drained by the core's
// dead callback, as the hotplug state's teardown calls it) or comes back.
void op_hotplug() {
  if (cfg.ncpus < 2 || hotplug_busy) return;
  const auto cpu = static_cast<unsigned>(rng.range(1, cfg.ncpus - 1));
  hotplug_busy = true;
  if (cpu_online(cpu)) {
    note("CPU %u goes down", cpu);
    // The task queues' state runs before the CPU goes (as the kernel's
    // online state's teardown), the core's dead callback after.
    splk_taskq_cpus_changed(cpus_online() - 1);
    cpu_down(cpu);
    splk_core_cpu_dead(cpu);
  } else {
    note("CPU %u comes up", cpu);
    cpu_up(cpu);
    splk_taskq_cpus_changed(cpus_online());
  }
  ++ops_done;
  hotplug_busy = false;
}

// ---- Interrupts -----------------------------------------------------------------

void irq_handler(unsigned) {
  if (!irq_on || checking || rng.exhausted()) return;
  ++in_flight;
  struct Leave {
    ~Leave() { --in_flight; }
  } leave;
  const unsigned r = static_cast<unsigned>(rng.below(11));
  if (r < 4) {
    if (Cache* c = pick_cache()) alloc_from(c, KM_NOSLEEP);
  } else if (r < 8) {
    if (void* obj = pick_held()) free_held(obj);
  } else if (r == 10) {
    if (Cache* c = pick_cache()) alloc_batch_from(c, KM_NOSLEEP);
    if (void* obj = pick_held()) free_held_batch(obj);
  } else if (Queue* q = pick_queue()) {
    ++q->users;
    op_dispatch(q, true);
    --q->users;
  }
}

// ---- The rest of the API, and hostile calls ------------------------------------------

// Not a cache and not a queue: every entry point must refuse it with one
// warning (SPL would ASSERT), reading nothing but its magic word.
alignas(64) unsigned char not_a_handle[4096];

void op_cache_rare() {
  Cache* c = pick_cache();
  const unsigned r = static_cast<unsigned>(rng.below(4));
  if (r == 0) {
    if (spl_kmem_cache_reap_active() != 0) fail("model", "spl_kmem_cache_reap_active() != 0");
  } else if (r == 1 && c != nullptr) {
    ++c->users;
    spl_kmem_cache_set_move(c->skc, nullptr);  // registered, never called
    --c->users;
  } else if (r == 2 && c != nullptr) {
    // __GFP_NOFAIL (0x8000 on the host's bits too) is logged and dropped.
    ++c->users;
    spl_kmem_cache_set_allocflags(c->skc, rng.one_in(2) ? 0u : 0x8000u);
    --c->users;
  } else if (r == 3) {
    // reclaim and vmp are accepted and ignored (logged).
    static int reclaim_dummy;
    spl_kmem_cache* skc = spl_kmem_cache_create("sim_rclm", 64, 0, nullptr, nullptr, &reclaim_dummy,
                                                nullptr, &reclaim_dummy, 0);
    if (skc == nullptr) fail("model", "spl_kmem_cache_create with a reclaim callback failed");
    void* obj = spl_kmem_cache_alloc(skc, KM_SLEEP);
    spl_kmem_cache_free(skc, obj);
    spl_kmem_cache_destroy(skc);
  }
  ++ops_done;
}

void op_cache_hostile_handle() {
  auto* bad = reinterpret_cast<spl_kmem_cache*>(not_a_handle);
  static unsigned char obj[64];
  expect_warning("an entry point called with no cache");
  switch (rng.below(8)) {
    case 0:
      if (spl_kmem_cache_alloc(bad, KM_SLEEP) != nullptr) fail("model", "alloc from no cache");
      break;
    case 1:
      spl_kmem_cache_free(bad, obj);
      break;
    case 2:
      spl_kmem_cache_reap_now(bad);
      break;
    case 3:
      spl_kmem_cache_set_move(bad, nullptr);
      break;
    case 4:
      spl_kmem_cache_set_allocflags(bad, 0);
      break;
    case 5:
      if (spl_kmem_cache_inuse(bad) != 0) fail("model", "inuse of no cache");
      break;
    case 6:
      if (spl_kmem_cache_entry_size(bad) != 0) fail("model", "entry_size of no cache");
      break;
    case 7:
      spl_kmem_cache_destroy(bad);
      break;
  }
  expect_no_more_warnings();
  ++ops_done;
}

void noop_task(void*) {}

// Bad task-queue calls: refused, each with one warning, or (bad create
// arguments) with NULL and a log line.
void op_taskq_hostile() {
  Queue* q = pick_queue();
  const unsigned r = static_cast<unsigned>(rng.below(8));
  if (r < 4 && q == nullptr) return;
  if (r < 5) {
    if (q != nullptr) ++q->users;
    expect_warning("a bad task-queue call");
    taskqid_t id = TASKQID_INVALID;
    alignas(SPLK_TQENT_ALIGN) static unsigned char ent[SPLK_TQENT_SIZE];
    switch (r) {
      case 0:
        id = taskq_dispatch(q->tq, nullptr, nullptr, TQ_NOSLEEP);
        break;
      case 1:
        id = taskq_dispatch(q->tq, noop_task, nullptr, TQ_NOSLEEP | 0x10000000u);
        break;
      case 2:
        taskq_dispatch_ent(q->tq, noop_task, nullptr, TQ_NOSLEEP, nullptr);
        break;
      case 3:
        taskq_init_ent(reinterpret_cast<taskq_ent_t*>(ent));
        taskq_dispatch_ent(q->tq, nullptr, nullptr, TQ_NOSLEEP,
                           reinterpret_cast<taskq_ent_t*>(ent));
        break;
      case 4:
        taskq_destroy(reinterpret_cast<taskq_t*>(not_a_handle));
        break;
    }
    expect_no_more_warnings();
    if (q != nullptr) --q->users;
    if (id != TASKQID_INVALID) fail("model", "a bad dispatch was queued as task %lu", id);
  } else if (r == 5) {
    expect_warning("a dispatch to a NULL queue");
    if (taskq_dispatch(nullptr, noop_task, nullptr, TQ_NOSLEEP) != TASKQID_INVALID)
      fail("model", "a dispatch to a NULL queue was queued");
    expect_no_more_warnings();
  } else {
    static const char long_name[] = "sim_a_task_queue_name_longer_than_31";
    const char* name = r == 6 ? long_name : "sim_bad_tq";
    const int nthreads = r == 6 ? 1 : (rng.one_in(2) ? 0 : 2000);
    const unsigned flags = rng.one_in(2) ? 0x4000u : 0u;  // unknown TASKQ_ bit
    if (taskq_create(rng.one_in(4) ? nullptr : name, nthreads, SPLK_MAX_RT_PRIO, 0, 0, flags) !=
        nullptr)
      fail("model", "taskq_create accepted bad arguments");
  }
  ++ops_done;
}

// names: the caller's own vector.  Not a global: the walk holds the
// registry mutex, which may switch to another driver doing the same walk.
void collect_taskq(const splk_taskq_stats* st, void* names) {
  if (st->nthreads < 0 || st->nactive < 0 || st->nfree > st->nalloc ||
      st->executed_normal + st->executed_priority + st->cancelled >
          st->dispatched + st->dispatched_delayed)
    fail("model", "taskq '%s' reports inconsistent statistics", st->name);
  static_cast<std::vector<std::string>*>(names)->push_back(st->name);
}

// /proc/spl/taskq's walks (oldest first, newest first: the same queues in
// reverse), one queue's statistics, the kstat files on and off, and
// spl_taskq_kick on a queue whose next task waited over 5 s (held).
void op_taskq_introspect() {
  const unsigned r = static_cast<unsigned>(rng.below(8));
  if (r < 4) {
    std::vector<std::string> fwd, back;
    splk_taskq_for_each(collect_taskq, &fwd, false);
    splk_taskq_for_each(collect_taskq, &back, true);
    std::reverse(back.begin(), back.end());
    // Queues come and go between the two walks.
    if (fwd.size() == back.size() && fwd != back)
      fail("model", "the oldest-first and newest-first walks of the queues disagree");
    ops_done += 2;
  } else if (r < 6) {
    Queue* q = pick_queue();
    if (q == nullptr) return;
    ++q->users;
    splk_taskq_stats st;
    splk_taskq_get_stats(q->tq, &st);
    if (strcmp(st.name, q->name) != 0 && q->tq != system_taskq)
      fail("model", "the statistics of '%s' name '%s'", q->name, st.name);
    --q->users;
    ++ops_done;
  } else if (r == 6) {
    splk_taskq_kstats_enable(rng.one_in(2));
    ++ops_done;
  } else {
    Queue* q = pick_queue();
    // The hold is one flag per queue: a second driver's release would let
    // the first one's task run while it still counts on the hold.
    if (q == nullptr || q->tq == system_taskq || q->held) return;
    ++q->users;
    q->held = true;
    splk_taskq_hold(q->tq, true);
    Task* t = new Task{};
    t->queue = q;
    t->seq = ++M.task_seq;
    t->normal = false;
    q->tasks.push_back(t);
    t->id = taskq_dispatch(q->tq, task_fn, t, TQ_SLEEP);
    max_id_seen = std::max<uint64_t>(max_id_seen, t->id);
    splk_msleep(5 * 1000 + 100);
    if (t->runs != 0) fail("model", "task %lu ran while its queue was held", t->id);
    // The kick looks at the task a thread would take next, and a delayed
    // task that came due meanwhile goes before ours with a new birth: the
    // check holds when ours is the only task of the queue not yet started.
    bool ours_next = !t->cancelled && t->cancelling == 0;
    for (Task* o : q->tasks)
      if (o != t && o->id != TASKQID_INVALID && o->runs == 0 && !o->cancelled) ours_next = false;
    const int stuck = splk_taskq_kick();
    if (ours_next && stuck < 1)
      fail("model", "spl_taskq_kick found no queue stuck, '%s' held for 5 s", q->name);
    splk_taskq_hold(q->tq, false);
    q->held = false;
    taskq_wait_id(q->tq, t->id);
    if (!t->done && !t->cancelled && t->cancelling == 0)
      fail("model", "task %lu did not run once its queue was released", t->id);
    --q->users;
    ops_done += 4;
  }
}

// ---- Drivers ----------------------------------------------------------------------

void step() {
  const unsigned r = static_cast<unsigned>(rng.below(1000));
  if (r < 310) {
    if (M.objects.size() < 3000)
      if (Cache* c = pick_cache()) alloc_from(c, rng.one_in(5) ? KM_NOSLEEP : KM_SLEEP);
  } else if (r < 330) {
    if (M.objects.size() < 3000)
      if (Cache* c = pick_cache()) alloc_batch_from(c, rng.one_in(5) ? KM_NOSLEEP : KM_SLEEP);
  } else if (r < 630) {
    if (void* obj = pick_held()) free_held(obj);
  } else if (r < 650) {
    if (void* obj = pick_held()) free_held_batch(obj);
  } else if (r < 665) {
    if (M.caches.size() < 6) op_create();
  } else if (r < 668) {
    op_create_hostile();
  } else if (r < 672) {
    if (M.caches.size() > 1)
      if (Cache* c = pick_cache()) op_destroy(c);
  } else if (r < 690) {
    if (Cache* c = pick_cache()) {
      ++c->users;
      spl_kmem_cache_reap_now(c->skc);
      --c->users;
      ++ops_done;
    }
  } else if (r < 695) {
    spl_kmem_reap();
    ++ops_done;
  } else if (r < 715) {
    const uint64_t n = splk_core_shrink_count();
    splk_core_shrink_scan(rng.range(1, n + 1));
    ops_done += 2;
  } else if (r < 725) {
    if (!(opt.avoid & kAvoidRemoteMag)) {
      splk_core_update_now();
      ++ops_done;
    }
  } else if (r < 735) {
    splk_core_trim_now(rng.one_in(2));
    ++ops_done;
  } else if (r < 745) {
    if (!(opt.avoid & kAvoidRemoteMag)) {
      splk_for_each_cache(for_each_stats, nullptr);
      ++ops_done;
    }
  } else if (r < 755) {
    if (Cache* c = pick_cache()) {
      const uint64_t n = spl_kmem_cache_inuse(c->skc);
      ++ops_done;
      if (!(opt.avoid & kAvoidInuse) && n > (uint64_t{1} << 48))
        fail("model", "spl_kmem_cache_inuse('%s') is %llu: a negative count wrapped", c->name,
             static_cast<unsigned long long>(n));
    }
  } else if (r < 760) {
    op_free_hostile();
  } else if (r < 763) {
    op_hotplug();
  } else if (r < 765) {
    if (M.queues.size() < 4) op_tq_create();
  } else if (r < 767) {
    if (M.queues.size() > 2)
      if (Queue* q = pick_queue(); q != nullptr && q->tq != system_taskq) op_tq_destroy(q);
  } else if (r < 990) {
    Queue* q = pick_queue();
    if (q == nullptr) return;
    ++q->users;
    const unsigned k = r % 16;
    if (k < 9)
      op_dispatch(q, false);
    else if (k < 11)
      op_cancel(q);
    else if (k < 13)
      op_wait_id(q);
    else if (k < 14)
      op_wait(q, false);
    else
      op_wait(q, true);
    prune(q);
    --q->users;
  } else if (r == 990) {
    op_cache_rare();
  } else if (r == 991) {
    op_cache_hostile_handle();
  } else if (r == 992) {
    op_taskq_hostile();
  } else if (r == 993) {
    op_taskq_introspect();
  } else {
    splk_msleep(static_cast<unsigned>(rng.range(1, 60)));
  }
}

int driver_main(void*) {
  while (ops_left > 0) {
    --ops_left;
    while (checking) splk_msleep(1);
    ++in_flight;
    step();
    --in_flight;
    // Every step: the other drivers finish the call they are in, start
    // none, and interrupts leave the caches alone meanwhile.
    ++checking;
    while (in_flight != 0) splk_msleep(1);
    check_invariants("a driver step");
    check_stats();
    // Alone at rest (no other checker): in flight while it works, so
    // that a driver arriving to check waits for it.
    if (checking == 1 && rng.one_in(50)) {
      ++in_flight;
      double_free_at_rest();
      --in_flight;
      check_invariants("a double free");
    }
    --checking;
  }
  return 0;
}

}  // namespace

// The core's background work (the periodic working-set update drains
// idle CPUs in kworkers; trim ticks) is not quiesced by the drivers, and
// the check reads magazines without a lock, as the KUnit suites call it
// only at rest: a broken invariant is reported when it is still broken
// after the background had a few chances to finish what it was doing.
void check_invariants(const char* after) {
  const char* name = nullptr;
  const char* why = splk_core_check_invariants(&name);
  for (int retry = 0; why != nullptr && retry < 3; ++retry) {
    note("invariant '%s' broken in '%s' after %s; looking again", why, name, after);
    splk_msleep(1);
    why = splk_core_check_invariants(&name);
  }
  if (why != nullptr) fail("invariant", "cache '%s': %s (after %s)", name, why, after);
  // The task queues' invariants hold under each queue's lock at any
  // time: no second look.
  why = splk_core_check_task_queues(&name);
  if (why != nullptr) fail("invariant", "task queue '%s': %s (after %s)", name, why, after);
}

void module_init() {
  if (splk_core_init() != 0) fail("init", "splk_core_init failed");
  if (splk_taskq_init() != 0) fail("init", "splk_taskq_init failed");
}

void module_exit_and_check(bool expect_leaks) {
  splk_taskq_fini();
  splk_drain_flush();
  splk_core_exit();
  rcu_barrier();
  mem::drain_quarantine();
  const uint64_t leaked = mem::live(mem::kKmalloc) + mem::live(mem::kPages) +
                          mem::live(mem::kSlub) + mem::live(mem::kKinds);
  if (leaked != 0 && !expect_leaks) {
    mem::report_leaks();
    fail("memory leak", "%llu blocks still allocated after module unload (kmemleak)",
         static_cast<unsigned long long>(leaked));
  }
}

int run_random(const Options& o) {
  opt = o;
  ops_left = o.ops;
  rng.reset(o.data, o.size);
  if (rng.exhausted()) ops_left = 0;
  module_init();
  for (int i = 0; i < 2; ++i) op_create();
  op_tq_create();
  // system_taskq as one more queue the drivers use (never destroyed).
  auto* sys = new Queue{};
  snprintf(sys->name, sizeof(sys->name), "system_taskq");
  sys->tq = system_taskq;
  sys->dying = false;
  M.queues.push_back(sys);
  irq_hook = irq_handler;
  irq_on = true;
  const unsigned drivers =
      o.drivers != 0 ? o.drivers : static_cast<unsigned>(rng.range(1, cfg.ncpus + 1));
  Thread* threads[16];
  for (unsigned i = 0; i < drivers && i < 16; ++i) {
    char n[24];
    snprintf(n, sizeof(n), "driver/%u", i);
    threads[i] = spawn(driver_main, nullptr, n, -1);
    threads[i]->is_driver = true;
  }
  for (unsigned i = 0; i < drivers && i < 16; ++i) join(threads[i]);
  irq_on = false;
  check_invariants("the drivers ended");
  // Unload: everything given back, every queue destroyed (system_taskq
  // by the module), the model empty.
  sys->dying = true;
  taskq_wait(system_taskq);
  for (Task* t : sys->tasks)
    if (t->id != TASKQID_INVALID && !t->cancelled && (t->runs != 1 || !t->done))
      fail("model", "system_taskq task %lu run %d times after taskq_wait", t->id, t->runs);
  M.queues.erase(std::find(M.queues.begin(), M.queues.end(), sys));
  while (!M.queues.empty()) op_tq_destroy(M.queues.back());
  while (!M.caches.empty()) op_destroy(M.caches.back());
  if (!M.objects.empty()) fail("model", "objects left after every cache was destroyed");
  module_exit_and_check(false);
  return 0;
}

}  // namespace sim::workload
