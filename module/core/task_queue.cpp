// SPDX-License-Identifier: GPL-2.0
//
// TaskQueue (design in task_queue.hpp); the exported taskq_* API is in
// taskq_api.cpp.
#include "task_queue.hpp"

namespace splkmem {

namespace {
// Every queue.
constinit kstd::IntrusiveList<TaskQueue> g_queues SPLK_GUARDED_BY(splk_tq_registry_lock);
// The private queue that creates threads for dynamic queues (set once at
// load, cleared at unload).
constinit TaskQueue* g_dynamic_queue = nullptr;
// Queues get kstat files.
constinit bool g_kstats_on SPLK_GUARDED_BY(splk_tq_registry_lock) = false;
}  // namespace

// TaskEntry is laid over struct taskq_ent; the offsets are the C
// compiler's, generated from include/sys/taskq.h (whose own layout is
// checked against OpenZFS's in taskq_services.c).  TaskEntry is not
// standard-layout (two bases), but its layout is fixed by the Itanium ABI:
// bases in order, then members.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
static_assert(sizeof(TaskEntry) == SPLK_TQENT_SIZE, "TaskEntry is laid over taskq_ent_t");
static_assert(alignof(TaskEntry) == SPLK_TQENT_ALIGN, "TaskEntry is laid over taskq_ent_t");
static_assert(offsetof(TaskEntry, lock) == SPLK_TQENT_LOCK_OFFSET);
static_assert(offsetof(TaskEntry, waitq) == SPLK_TQENT_WAITQ_OFFSET);
static_assert(offsetof(TaskEntry, timer) == SPLK_TQENT_TIMER_OFFSET);
static_assert(offsetof(TaskEntry, id) == SPLK_TQENT_ID_OFFSET);
static_assert(offsetof(TaskEntry, func) == SPLK_TQENT_FUNC_OFFSET);
static_assert(offsetof(TaskEntry, arg) == SPLK_TQENT_ARG_OFFSET);
static_assert(offsetof(TaskEntry, queue) == SPLK_TQENT_TASKQ_OFFSET);
static_assert(offsetof(TaskEntry, flags) == SPLK_TQENT_FLAGS_OFFSET);
static_assert(offsetof(TaskEntry, birth) == SPLK_TQENT_BIRTH_OFFSET);
#pragma GCC diagnostic pop
// The list node: base subobjects have no offsetof; the cast says where it is.
static_assert(sizeof(kstd::ListNode) == 2 * sizeof(void*));
static_assert(sizeof(TaskEntryKernelPart) == SPLK_TQENT_LIST_OFFSET,
              "tqent_list follows the kernel objects");

constexpr unsigned kKnownTqFlags =
    TQ_SLEEP | TQ_NOSLEEP | TQ_PUSHPAGE | TQ_NOQUEUE | TQ_NOALLOC | TQ_NEW | TQ_FRONT;
constexpr unsigned kKnownTaskqFlags =
    TASKQ_PREPOPULATE | TASKQ_CPR_SAFE | TASKQ_DYNAMIC | TASKQ_THREADS_CPU_PCT | TASKQ_DC_BATCH;

void TaskEntry::init() {
  new (this) TaskEntry();  // zeroes everything, the list node points at itself
  splk_tq_entry_kernel_init(this);
}

TaskQueue* TaskQueue::create(const char* name, int nthreads, int pri, int minalloc, int maxalloc,
                             unsigned flags) {
  splk_might_sleep();
  if (name == nullptr || kstd::strnlen(name, TASKQ_NAMELEN + 1) > TASKQ_NAMELEN) {
    splk_log(0, "splkmem: taskq_create: name %s%s", name != nullptr ? name : "NULL",
             name != nullptr ? " is longer than 31 characters" : "");
    return nullptr;
  }
  if (flags & ~kKnownTaskqFlags) {
    splk_log(0, "splkmem: taskq '%s': unknown flags 0x%x", name, flags & ~kKnownTaskqFlags);
    return nullptr;
  }
  // A CPU_PCT queue's thread count follows the online CPUs (cpus_changed()):
  // it gets slots for every possible CPU.
  const int pct = kstd::clamp(nthreads, 0, 100);
  int nslots = nthreads;
  if (flags & TASKQ_THREADS_CPU_PCT) {
    nthreads = kstd::max(1, static_cast<int>(splk_num_online_cpus()) * pct / 100);
    nslots = kstd::clamp(static_cast<int>(splk_kernel.nr_cpu_ids) * pct / 100, nthreads, 1024);
  }
  if (nthreads < 1 || nthreads > 1024) {
    splk_log(0, "splkmem: taskq '%s': %d threads, want 1 to 1024", name, nthreads);
    return nullptr;
  }

  void* mem = splk_kmalloc_node(sizeof(TaskQueue), KM_SLEEP | KM_ZERO, -1);
  if (mem == nullptr) return nullptr;
  auto* tq = new (mem) TaskQueue();
  __builtin_memcpy(tq->name_, name, kstd::strnlen(name, TASKQ_NAMELEN) + 1);
  tq->lock_.init(SPLK_LOCK_TASKQ);
  tq->done_wq_.init();
  tq->minalloc_ = kstd::max(minalloc, 0);
  tq->maxalloc_ = kstd::max(maxalloc, tq->minalloc_);
  tq->next_id_ = TASKQID_INITIAL;
  tq->active_ = true;
  tq->pri_ = pri;
  tq->maxwaking_ = static_cast<int>(splk_num_online_cpus());
  tq->flags_ = flags;
  tq->cpu_pct_ = pct;

  if (flags & TASKQ_PREPOPULATE) {
    int prepopulate = tq->minalloc_;
    if (prepopulate > SPLK_TASKQ_PREPOPULATE_MAX) {
      splk_log(1, "splkmem: taskq '%s': minalloc %d: preallocating %d entries, the rest on demand",
               name, prepopulate, SPLK_TASKQ_PREPOPULATE_MAX);
      prepopulate = SPLK_TASKQ_PREPOPULATE_MAX;
    }
    for (int i = 0; i < prepopulate; ++i) {
      auto* entry = static_cast<TaskEntry*>(splk_kmalloc_node(sizeof(TaskEntry), KM_SLEEP, -1));
      if (entry == nullptr) break;
      entry->init();
      tq->free_.push_back(entry);
      ++tq->nfree_;
      ++tq->nalloc_;
    }
  }

  tq->workers_ =
      static_cast<Worker*>(splk_kmalloc_node(nslots * sizeof(Worker), KM_SLEEP | KM_ZERO, -1));
  if (tq->workers_ == nullptr) {
    tq->destroy();
    return nullptr;
  }
  tq->maxthreads_ = nthreads;
  tq->nslots_ = nslots;
  for (int i = 0; i < nslots; ++i) {
    Worker* w = new (&tq->workers_[i]) Worker();
    w->queue = tq;
  }
  tq->dynamic_ = (flags & TASKQ_DYNAMIC) && kstd::load_relaxed(spl_taskq_thread_dynamic) != 0 &&
                 kstd::load_relaxed(g_dynamic_queue) != nullptr;
  tq->lastspawnstop_ = splk_jiffies();
  const int initial = tq->dynamic_ ? 1 : nthreads;
  for (int i = 0; i < initial; ++i) {
    if (!tq->start_thread(i)) {
      splk_log(0, "splkmem: taskq '%s': cannot start thread %d", tq->name_, i);
      tq->destroy();
      return nullptr;
    }
  }
  tq->register_queue();
  return tq;
}

// Creates the thread of slot @slot (reserved by the caller), may sleep.
bool TaskQueue::start_thread(int slot) {
  Worker* w = &workers_[slot];
  void* thread = splk_tq_thread_create(&TaskQueue::worker_main, w, pri_, name_, slot);
  SpinLockIrqGuard guard(lock_);
  w->thread = thread;
  if (thread == nullptr) return false;
  ++nthreads_;
  ++threads_created_;
  return true;
}

// ---- Registry and dynamic threads -------------------------------------------

// SPL's tq_instance: one more than the newest queue of the same name.
void TaskQueue::register_queue() {
  splk_tq_registry_lock();
  instance_ = 0;
  for (TaskQueue* q : g_queues)
    if (__builtin_strcmp(q->name_, name_) == 0) instance_ = q->instance_ + 1;
  g_queues.push_back(this);
  if (g_kstats_on) kstat_ = splk_tq_kstat_install(this, name_, instance_);
  splk_tq_registry_unlock();
}

bool TaskQueue::unregister(TaskQueue* tq) {
  bool found = false;
  splk_tq_registry_lock();
  for (TaskQueue* q : g_queues) {
    if (q == tq) {
      kstd::IntrusiveList<TaskQueue>::remove(q);
      // Its readers are done when this returns: none reads a freed queue.
      if (q->kstat_ != nullptr) splk_tq_kstat_remove(q->kstat_);
      q->kstat_ = nullptr;
      found = true;
      break;
    }
  }
  splk_tq_registry_unlock();
  return found;
}

// As SPL's spl_taskq_kick: a queue whose next task (the one a thread
// would take now) was queued more than 5 s ago is stuck behind busy
// threads; a dynamic queue below its maximum gets one more thread (a
// static queue cannot grow, as in SPL, but is named all the same).
int TaskQueue::kick_all() {
  int stuck = 0;
  splk_tq_registry_lock();
  for (TaskQueue* q : g_queues) {
    bool spawn;
    {
      SpinLockIrqGuard guard(q->lock_);
      TaskEntry* next = q->prio_.empty() ? q->pend_.front() : q->prio_.front();
      const long waited = next != nullptr ? static_cast<long>(splk_jiffies() - next->birth) : 0;
      if (waited <= 5 * static_cast<long>(splk_kernel.hz)) continue;
      spawn = q->want_spawn();
    }
    ++stuck;
    splk_log(2, "splkmem: kicked taskq %s/%d%s", q->name_, q->instance_,
             spawn ? ": one more thread" : " (it cannot add a thread)");
    if (spawn) q->request_spawn();
  }
  splk_tq_registry_unlock();
  return stuck;
}

// CPU hotplug, as SPL's spl_taskq_expand()/spl_taskq_prepare_down(): a
// TASKQ_THREADS_CPU_PCT queue's maximum is its percentage of the CPUs
// online.  A static queue starts threads up to it (through the spawn
// queue: the hotplug callback does not wait for them) or lets the excess
// retire as each finds no work (a busy thread finishes its tasks first);
// a dynamic one grows and retires on demand within it.
void TaskQueue::cpus_changed(unsigned ncpus) {
  splk_tq_registry_lock();
  for (TaskQueue* q : g_queues)
    if (q->flags_ & TASKQ_THREADS_CPU_PCT) q->resize_for_cpus(ncpus);
  splk_tq_registry_unlock();
}

void TaskQueue::resize_for_cpus(unsigned ncpus) {
  tq_registry_assert_held();
  int spawns = 0;
  {
    SpinLockIrqGuard guard(lock_);
    if (!active_) return;
    maxthreads_ = kstd::clamp(static_cast<int>(ncpus) * cpu_pct_ / 100, 1, nslots_);
    for (; !dynamic_ && nthreads_ + nspawn_ < maxthreads_; ++spawns) ++nspawn_;
    if (nthreads_ > maxthreads_) wake_idle_workers();  // the excess retires
  }
  for (; spawns > 0; --spawns) request_spawn();
}

// SPL's summary lists the newest queue first, /proc/spl/taskq the oldest.
void TaskQueue::for_each(void (*fn)(const splk_taskq_stats*, void*), void* arg, bool newest_first) {
  splk_tq_registry_lock();
  for (TaskQueue* q = newest_first ? g_queues.back() : g_queues.front(); q != nullptr;
       q = newest_first ? g_queues.prev(q) : next_queue(q)) {
    splk_taskq_stats st;
    q->stats(&st);
    fn(&st, arg);
  }
  splk_tq_registry_unlock();
}

// The queue after @q on the registry, nullptr at the end.
TaskQueue* TaskQueue::next_queue(TaskQueue* q) {
  tq_registry_assert_held();
  return q == g_queues.back() ? nullptr : static_cast<TaskQueue*>(q->next);
}

void TaskQueue::kstats_enable(bool on) {
  splk_tq_registry_lock();
  g_kstats_on = on;
  for (TaskQueue* q : g_queues) {
    if (on && q->kstat_ == nullptr) q->kstat_ = splk_tq_kstat_install(q, q->name_, q->instance_);
    if (!on && q->kstat_ != nullptr) {
      splk_tq_kstat_remove(q->kstat_);
      q->kstat_ = nullptr;
    }
  }
  splk_tq_registry_unlock();
}

void TaskQueue::set_dynamic_queue(TaskQueue* tq) { kstd::store_relaxed(g_dynamic_queue, tq); }

TaskQueue* TaskQueue::dynamic_queue() { return kstd::load_relaxed(g_dynamic_queue); }

// Under lock_, as SPL's taskq_thread_spawn(): a dynamic, active queue
// below its maximum asks for one more thread.
bool TaskQueue::want_spawn() {
  lock_.assert_held();
  if (!dynamic_) return false;
  lastspawnstop_ = splk_jiffies();
  if (!active_ || nthreads_ + nspawn_ >= maxthreads_) return false;
  ++nspawn_;
  return true;
}

// With no lock held (the spawn queue's lock is another lock of the same
// class): the creation runs as a task of the private spawn queue.
void TaskQueue::request_spawn() {
  TaskQueue* spawner = kstd::load_relaxed(g_dynamic_queue);
  if (spawner == nullptr ||
      spawner->dispatch(&TaskQueue::spawn_task, this, TQ_NOSLEEP) == TASKQID_INVALID) {
    SpinLockIrqGuard guard(lock_);
    --nspawn_;
  }
}

void TaskQueue::spawn_task(void* arg) { static_cast<TaskQueue*>(arg)->spawn_thread(); }

void TaskQueue::spawn_thread() {
  int slot = -1;
  {
    SpinLockIrqGuard guard(lock_);
    if (active_ && nthreads_ < maxthreads_) {
      for (int i = 0; i < nslots_; ++i) {
        if (workers_[i].thread == nullptr) {
          slot = i;
          workers_[i].thread = &workers_[i];  // reserved until created
          break;
        }
      }
    }
    if (slot < 0) {
      --nspawn_;
      return;
    }
  }
  const bool ok = start_thread(slot);
  bool again;
  {
    SpinLockIrqGuard guard(lock_);
    lastspawnstop_ = splk_jiffies();
    // The new thread may have taken a task before it was counted, so no
    // one saw every thread busy with work waiting: look again.  This
    // creation stops counting first: until then the new thread counts
    // twice (nthreads_ and nspawn_), and a queue one thread short of its
    // maximum would refuse the last thread it needs.  If want_spawn()
    // counts a new creation, destroy still waits for that one.
    --nspawn_;
    again = ok && has_work() && all_busy() && want_spawn();
  }
  if (again) request_spawn();
}

// Under lock_: an idle thread's wait timed out: it exits if the queue is
// dynamic and active, it is not the first thread, no creation is in
// flight, and no thread came or went for spl_taskq_thread_timeout_ms
// (SPL's rate limit).
bool TaskQueue::try_retire(Worker* w) {
  lock_.assert_held();
  const unsigned long now = splk_jiffies();
  if (!dynamic_ || !active_ || w == &workers_[0] || w->thread != w->self || nspawn_ != 0 ||
      has_work() || static_cast<long>(now - lastspawnstop_) < static_cast<long>(idle_timeout()))
    return false;
  retire(w);
  return true;
}

// Under lock_: @w's thread exits once lock_ is dropped; its slot is free.
void TaskQueue::retire(Worker* w) {
  lock_.assert_held();
  w->thread = nullptr;
  --nthreads_;
  lastspawnstop_ = splk_jiffies();
}

void TaskQueue::destroy() {
  splk_might_sleep();
  unregister(this);  // no-op when taskq_destroy() did it (or create failed)
  {
    SpinLockIrqGuard guard(lock_);
    active_ = false;  // dispatch fails from now on
    held_ = false;    // held tasks run: wake every idle worker for them
    wake_idle_workers();
  }
  wait_all();
  // Thread creations in flight hold a pointer to the queue.
  for (;;) {
    {
      SpinLockIrqGuard guard(lock_);
      if (nspawn_ == 0) break;
    }
    splk_msleep(1);
  }
  // No thread retires once active_ is false: every slot in use is ours.
  for (int i = 0; i < nslots_; ++i)
    if (workers_[i].thread != nullptr) splk_thread_stop(workers_[i].thread);
  splk_kfree(workers_);
  while (TaskEntry* entry = free_.front()) {
    kstd::IntrusiveList<TaskEntry>::remove(entry);
    splk_tq_entry_disarm_sync(entry);  // its last expiry has returned
    splk_kfree(entry);
  }
  splk_kfree(this);
}

// ---- Dispatch -------------------------------------------------------------

// Under lock_: a new id and the list the flags ask for.  SPL's order:
// TQ_NOQUEUE runs next (head of the priority list), TQ_FRONT after the
// earlier front tasks (tail of the priority list), others FIFO.
void TaskQueue::enqueue(TaskEntry* entry, task_func_t* func, void* arg, unsigned tq_flags) {
  lock_.assert_held();
  ++dispatched_;
  entry->id = next_id_++;
  entry->func = func;
  entry->arg = arg;
  entry->queue = this;
  entry->birth = splk_jiffies();
  if (tq_flags & TQ_NOQUEUE) {
    entry->set_list(TQENT_LIST_PRIORITY);
    prio_.push_front(entry);
  } else if (tq_flags & TQ_FRONT) {
    entry->set_list(TQENT_LIST_PRIORITY);
    prio_.push_back(entry);
  } else {
    entry->set_list(TQENT_LIST_PENDING);
    pend_.push_back(entry);
  }
}

// Bad input that SPL would ASSERT on: a WARN naming the queue.
bool TaskQueue::refuse(task_func_t* func, unsigned tq_flags, const char* what) {
  if (func == nullptr) {
    splk_warn("splkmem: %s to taskq '%s' with a NULL function", what, name_);
    return true;
  }
  if (tq_flags & ~kKnownTqFlags) {
    splk_warn("splkmem: %s to taskq '%s' with unknown flags 0x%x", what, name_,
              tq_flags & ~kKnownTqFlags);
    return true;
  }
  return false;
}

// Under lock_: a queue being destroyed takes no new task.  SPL refuses
// such a dispatch quietly (TASKQID_INVALID), and so do we: a task that
// re-dispatches itself meets this at every destroy, and is no bug.
bool TaskQueue::destroying() const {
  lock_.assert_held();
  return !active_;
}

taskqid_t TaskQueue::dispatch_ent(task_func_t* func, void* arg, unsigned tq_flags,
                                  TaskEntry* entry) {
  if (refuse(func, tq_flags, "taskq_dispatch_ent")) {
    entry->id = TASKQID_INVALID;
    return TASKQID_INVALID;
  }
  bool spawn;
  taskqid_t id;
  {
    SpinLockIrqGuard guard(lock_);
    if (destroying()) {
      entry->id = TASKQID_INVALID;
      return TASKQID_INVALID;
    }
    if (entry->linked()) {
      splk_warn("splkmem: taskq '%s': dispatch of an entry that is already queued", name_);
      return TASKQID_INVALID;
    }
    // As SPL: with every thread busy TQ_NOQUEUE does not queue (the id is
    // left as it was), unless the queue can add a thread: then the entry
    // goes in as TQ_FRONT, for that thread.  With a thread idle it is a
    // normal entry.
    if ((tq_flags & TQ_NOQUEUE) && all_busy()) {
      if (!can_grow()) return TASKQID_INVALID;
      tq_flags |= TQ_FRONT;
    }
    entry->flags = TQENT_FLAG_PREALLOC;
    spawn = submit(entry, func, arg, tq_flags & ~TQ_NOQUEUE);
    id = entry->id;
  }
  if (spawn) request_spawn();
  return id;
}

// Under lock_.  The wake-up is made under lock_, as SPL does: an idle
// worker of a dynamic queue may retire once lock_ is dropped.
bool TaskQueue::submit(TaskEntry* entry, task_func_t* func, void* arg, unsigned tq_flags) {
  lock_.assert_held();
  enqueue(entry, func, arg, tq_flags);
  wake_idle_worker();
  return all_busy() && want_spawn();
}

// As many workers on their way as there are CPUs is enough: each takes
// the oldest task and, if work remains, wakes the next idle worker (in
// run()), as the kernel's workqueue chains its wake-ups.  Every queued
// task still gets a worker while one is idle: whenever tasks wait and a
// worker sleeps, at least one is on its way.  Waking one per dispatch,
// as SPL does, wakes a worker for nearly every task once the workers
// keep up with the dispatches (100k empty tasks on a 100-thread queue:
// 74k to 299k wake-ups that way, 0.7k this way).
void TaskQueue::wake_idle_worker() {
  lock_.assert_held();
  if (nwaking_ >= maxwaking_) return;
  wake_first_idle();
}

void TaskQueue::wake_first_idle() {
  lock_.assert_held();
  Worker* w = idle_.front();
  if (w == nullptr) return;
  kstd::IntrusiveList<Worker>::remove(w);  // the worker sees it was woken
  ++nwaking_;
  ++wakeups_;
  splk_tq_thread_wake(w->self);
}

void TaskQueue::wake_idle_workers() {
  lock_.assert_held();
  while (!idle_.empty()) wake_first_idle();
}

// An entry from the pool, or a new one (which recycle() pools).
// At maxalloc: TQ_NOSLEEP fails; TQ_SLEEP polls the pool every 10 ms, up
// to 100 times, then allocates anyway (SPL: a dispatch that sleeps always
// succeeds, but is slowed down).
TaskEntry* TaskQueue::take_entry(unsigned tq_flags) {
  for (int polls = 0;; ++polls) {
    {
      SpinLockIrqGuard guard(lock_);
      if (TaskEntry* entry = free_.front()) {
        kstd::IntrusiveList<TaskEntry>::remove(entry);
        --nfree_;
        return entry;
      }
      if (tq_flags & TQ_NOALLOC) return nullptr;
      if (nalloc_ < maxalloc_ || polls >= 100) {
        ++nalloc_;
        break;
      }
      if (tq_flags & TQ_NOSLEEP) return nullptr;
    }
    splk_msleep(10);
  }
  return alloc_entry(tq_flags);
}

// A new entry, counted in nalloc_ by the caller (uncounted on failure).
TaskEntry* TaskQueue::alloc_entry(unsigned tq_flags) {
  const int km = (tq_flags & TQ_NOSLEEP) ? KM_NOSLEEP : KM_SLEEP;
  void* mem =
      splk_kmalloc_node(sizeof(TaskEntry), km | ((tq_flags & TQ_PUSHPAGE) ? KM_PUSHPAGE : 0), -1);
  if (mem == nullptr) {
    SpinLockIrqGuard guard(lock_);
    --nalloc_;
    return nullptr;
  }
  auto* entry = static_cast<TaskEntry*>(mem);
  entry->init();
  return entry;
}

// With an entry in the pool, one round of lock_ (as SPL): checks, entry,
// queueing and wake-up.  Otherwise the entry is allocated with lock_
// dropped (or throttled at maxalloc) and the checks are made again: two
// rounds.
taskqid_t TaskQueue::dispatch(task_func_t* func, void* arg, unsigned tq_flags) {
  if (refuse(func, tq_flags, "taskq_dispatch")) return TASKQID_INVALID;
  TaskEntry* entry;
  taskqid_t id = TASKQID_INVALID;
  bool spawn = false;
  bool counted = false;  // a new entry is counted in nalloc_
  {
    // Checked before taking an entry, so that a refused dispatch never
    // sleeps in the throttle.
    SpinLockIrqGuard guard(lock_);
    if ((tq_flags & TQ_NOQUEUE) && all_busy() && !can_grow()) return TASKQID_INVALID;
    if (destroying()) return TASKQID_INVALID;
    entry = free_.front();
    if (entry != nullptr) {
      kstd::IntrusiveList<TaskEntry>::remove(entry);
      --nfree_;
      entry->flags = 0;
      spawn = submit(entry, func, arg, tq_flags);
      id = entry->id;
    } else if (!(tq_flags & TQ_NOALLOC) && nalloc_ < maxalloc_) {
      ++nalloc_;
      counted = true;
    }
  }
  if (entry == nullptr) {
    entry = counted ? alloc_entry(tq_flags) : take_entry(tq_flags);
    if (entry == nullptr) return TASKQID_INVALID;
    SpinLockIrqGuard guard(lock_);
    if (destroying()) {
      recycle(entry);
      return TASKQID_INVALID;
    }
    if ((tq_flags & TQ_NOQUEUE) && all_busy() && !can_grow()) {
      recycle(entry);
      return TASKQID_INVALID;
    }
    entry->flags = 0;
    spawn = submit(entry, func, arg, tq_flags);
    id = entry->id;
  }
  if (spawn) request_spawn();
  return id;
}

taskqid_t TaskQueue::dispatch_delay(task_func_t* func, void* arg, unsigned tq_flags,
                                    unsigned long when) {
  if (refuse(func, tq_flags, "taskq_dispatch_delay")) return TASKQID_INVALID;
  TaskEntry* entry = take_entry(tq_flags);
  if (entry == nullptr) return TASKQID_INVALID;
  taskqid_t id;
  bool spawn;
  {
    SpinLockIrqGuard guard(lock_);
    if (destroying()) {
      recycle(entry);
      return TASKQID_INVALID;
    }
    entry->flags = 0;
    entry->id = id = next_id_++;
    entry->func = func;
    entry->arg = arg;
    entry->queue = this;
    entry->birth = splk_jiffies();
    entry->set_list(TQENT_LIST_DELAY);
    delay_.push_back(entry);
    ++dispatched_delayed_;
    // Armed under lock_: expired() takes lock_, so it sees the entry queued.
    splk_tq_entry_arm(entry, when);
    spawn = all_busy() && want_spawn();
  }
  if (spawn) request_spawn();
  return id;
}

// The timer of a delayed entry: onto the priority list in id order (so the
// list stays sorted as SPL keeps it), unless it was cancelled meanwhile.
void TaskQueue::expired(TaskEntry* entry) {
  TaskQueue* tq = entry->queue;
  {
    SpinLockIrqGuard guard(tq->lock_);
    if (entry->flags & TQENT_FLAG_CANCEL) return;
    kstd::IntrusiveList<TaskEntry>::remove(entry);
    entry->birth = splk_jiffies();
    entry->set_list(TQENT_LIST_PRIORITY);
    ++tq->delayed_requeued_;
    TaskEntry* after = nullptr;  // the last entry with a lower id
    for (TaskEntry* e : tq->prio_) {
      if (e->id > entry->id) break;
      after = e;
    }
    if (after == nullptr)
      tq->prio_.push_front(entry);
    else
      entry->insert_after(after);
    // Woken under lock_: once it is dropped the task may run and the
    // queue be destroyed, and this timer callback must not touch it then.
    tq->wake_idle_worker();
  }
}

// Under lock_: a finished or refused pool entry goes back to the pool,
// however many it holds.  SPL frees every entry beyond minalloc at once;
// under a burst that is a kmalloc on the dispatcher's CPU and a kfree on
// the worker's for nearly every task (SLUB's remote free: 854 -> 1538
// instruction-ns per task from 1 to 2 vCPUs, bench scale_tq).  The pool
// keeps them while the queue is busy instead, and an idle worker gives
// the excess back (trim_pool()).
void TaskQueue::recycle(TaskEntry* entry) {
  lock_.assert_held();
  entry->id = TASKQID_INVALID;
  entry->func = nullptr;
  entry->arg = nullptr;
  entry->flags = 0;
  free_.push_front(entry);  // the front is taken first: the warmest entry
  ++nfree_;
}

// Under lock_, dropped meanwhile: a worker that slept pool_trim_delay() with
// nothing to do frees the pool's entries beyond minalloc, the coldest
// first.  Only an idle queue is trimmed, so a burst that comes back
// within the delay finds its entries.
void TaskQueue::trim_pool(SpinLockIrqGuard& locked) {
  lock_.assert_held();
  if (has_work() || pool_excess() == 0) return;
  kstd::IntrusiveList<TaskEntry> excess;
  for (int n = pool_excess(); n > 0; --n) {
    TaskEntry* entry = free_.back();
    kstd::IntrusiveList<TaskEntry>::remove(entry);
    --nfree_;
    --nalloc_;
    excess.push_back(entry);
  }
  locked.release();
  while (TaskEntry* entry = excess.front()) {
    kstd::IntrusiveList<TaskEntry>::remove(entry);
    splk_tq_entry_disarm_sync(entry);  // a delayed entry's expiry has returned
    splk_kfree(entry);
  }
  locked.acquire();
}

// ---- Workers --------------------------------------------------------------

// A worker holds lock_ except while it runs a task or sleeps.
int TaskQueue::worker_main(void* arg) {
  auto* w = static_cast<Worker*>(arg);
  TaskQueue* tq = w->queue;
  SpinLockIrqGuard locked(tq->lock_);
  w->self = splk_tq_current();
  for (;;) {
    if (TaskEntry* entry = tq->next_entry()) {
      tq->run(w, entry, locked);
      continue;
    }
    // Idle while the queue has more threads than the CPUs now allow.
    if (tq->over_max(w)) {
      tq->retire(w);
      break;
    }
    // Idle.  The state goes to sleeping before kthread_should_stop() is
    // read: kthread_stop() sets its flag first, then wakes the thread.
    splk_tq_prepare_idle();
    if (splk_thread_should_stop()) {
      splk_tq_cancel_idle();
      break;
    }
    // Threads of a dynamic queue other than the first wake up when idle
    // for the timeout, to see whether they may retire.
    // Any worker that sleeps while the pool holds more than minalloc
    // entries wakes after pool_trim_delay() to give them back.
    long timeout = -1;
    if (tq->dynamic_ && w != &tq->workers_[0])
      timeout = tq->idle_timeout();
    else if (tq->pool_excess() > 0)
      timeout = pool_trim_delay();
    tq->idle_.push_front(w);
    ++tq->sleeps_;
    locked.release();
    const long left = splk_tq_idle(timeout);
    locked.acquire();
    ++tq->sleeps_ended_;
    w->sequential = 0;
    if (!w->linked()) {
      // Woken by wake_first_idle(), which counted it.
      --tq->nwaking_;
      if (!tq->has_work()) ++tq->wakeups_nowork_;
      continue;
    }
    // Timed out, or woken by kthread_stop().  Nothing touches tq or w
    // once retired and lock_ is dropped: destroy may free them.
    kstd::IntrusiveList<Worker>::remove(w);
    if (left == 0 && tq->try_retire(w)) break;
    if (left == 0) tq->trim_pool(locked);
  }
  ++tq->threads_destroyed_;
  return 0;
}

// Under lock_: SPL's choice, the priority list first.
TaskEntry* TaskQueue::next_entry() {
  lock_.assert_held();
  if (held_) return nullptr;
  if (TaskEntry* entry = prio_.front()) return entry;
  return pend_.front();
}

// Under lock_, which is dropped while the task runs.  The task's fields
// are copied before it runs: a caller-owned entry may be reused by the
// function.
void TaskQueue::run(Worker* w, TaskEntry* entry, SpinLockIrqGuard& locked) {
  lock_.assert_held();
  kstd::IntrusiveList<TaskEntry>::remove(entry);
  const taskqid_t id = entry->id;
  task_func_t* const func = entry->func;
  void* const arg = entry->arg;
  const bool owned_by_caller = entry->flags & TQENT_FLAG_PREALLOC;
  const bool normal = (entry->flags & TQENT_LIST_MASK) == TQENT_LIST_PENDING;
  w->running = id;
  ++nactive_;
  if (has_work()) wake_idle_worker();  // the next one, see there
  // More work and no idle thread: a dynamic queue grows (work dispatched
  // in a burst finds no busy thread at dispatch time, so dispatch alone
  // would not grow it).
  const bool grow = has_work() && all_busy() && want_spawn();
  locked.release();
  if (grow) request_spawn();
  func(arg);
  // A worker that always finds more work never sleeps: let others run on
  // a kernel without preemption (as the kernel's workqueue does).
  splk_cond_resched();
  locked.acquire();
  w->running = TASKQID_INVALID;
  --nactive_;
  ++(normal ? executed_normal_ : executed_priority_);
  if (!owned_by_caller) recycle(entry);
  if (!waiters_.empty() && ends_a_wait(id)) done_wq_.wake_all();
  // SPL: a thread that keeps finding work asks for help.  want_spawn()
  // counts the request in nspawn_ before anyone can see the queue idle,
  // and destroy() waits for nspawn_.
  if (++w->sequential > kstd::load_relaxed(spl_taskq_thread_sequential) && has_work() &&
      want_spawn()) {
    w->sequential = 0;
    locked.release();
    request_spawn();
    locked.acquire();
  }
}

// ---- Cancel and wait ------------------------------------------------------

TaskEntry* TaskQueue::find_queued(taskqid_t id) {
  lock_.assert_held();
  kstd::IntrusiveList<TaskEntry>* lists[] = {&delay_, &prio_, &pend_};
  for (auto* list : lists)
    for (TaskEntry* entry : *list)
      if (entry->id == id) return entry;
  return nullptr;
}

// An idle worker's running is TASKQID_INVALID: that id is never running
// (nor queued), so waits and cancels of it end at once, as in SPL.
bool TaskQueue::is_running(taskqid_t id) const {
  lock_.assert_held();
  if (id == TASKQID_INVALID) return false;
  for (int i = 0; i < nslots_; ++i)
    if (workers_[i].running == id) return true;
  return false;
}

taskqid_t TaskQueue::lowest_outstanding() {
  lock_.assert_held();
  taskqid_t lowest = next_id_;
  kstd::IntrusiveList<TaskEntry>* lists[] = {&delay_, &prio_, &pend_};
  for (auto* list : lists)
    for (TaskEntry* entry : *list) lowest = kstd::min(lowest, entry->id);
  for (int i = 0; i < nslots_; ++i)
    if (workers_[i].running != TASKQID_INVALID) lowest = kstd::min(lowest, workers_[i].running);
  return lowest;
}

int TaskQueue::cancel(taskqid_t id, bool wait) {
  if (id == TASKQID_INVALID) return SPLK_ENOENT;
  TaskEntry* cancelled = nullptr;
  bool delayed = false;
  {
    SpinLockIrqGuard guard(lock_);
    if (TaskEntry* entry = find_queued(id)) {
      delayed = (entry->flags & TQENT_LIST_MASK) == TQENT_LIST_DELAY;
      kstd::IntrusiveList<TaskEntry>::remove(entry);
      entry->flags |= TQENT_FLAG_CANCEL;
      entry->set_list(TQENT_LIST_NONE);
      cancelled = entry;
      ++cancelled_;
    } else if (!is_running(id)) {
      return SPLK_ENOENT;
    }
  }
  if (cancelled != nullptr) {
    // A delayed entry's timer may be firing now: wait it out (it sees
    // TQENT_FLAG_CANCEL and leaves the entry alone) before recycling.
    if (delayed) splk_tq_entry_disarm_sync(cancelled);
    {
      SpinLockIrqGuard guard(lock_);
      if (!(cancelled->flags & TQENT_FLAG_PREALLOC)) recycle(cancelled);
    }
    done_wq_.wake_all();  // a waiter for this id may be done now
    return 0;
  }
  if (!wait) return SPLK_EBUSY;
  wait_id(id);
  return SPLK_ENOENT;
}

// The waiter is on waiters_ from its first look at cond() until the look
// that finds it true, both under lock_: a task that ends in between sees
// it there.
template <typename Cond>
void TaskQueue::wait_until(Waiter::Kind kind, taskqid_t id, const Cond& cond) {
  Waiter me;
  me.kind = kind;
  me.id = id;
  {
    SpinLockIrqGuard guard(lock_);
    if (cond()) return;
    waiters_.push_back(&me);
  }
  done_wq_.wait([this, &me, &cond] {
    SpinLockIrqGuard guard(lock_);
    if (!cond()) return false;
    kstd::IntrusiveList<Waiter>::remove(&me);
    return true;
  });
}

// Under lock_, after task @done ended: SPL woke every waiter after every
// task, so that a taskq_wait() behind a long queue was woken once per
// task for nothing.  (cancel() wakes them all: it is rare.)
bool TaskQueue::ends_a_wait(taskqid_t done) {
  lock_.assert_held();
  for (Waiter* w : waiters_) {
    switch (w->kind) {
      case Waiter::kIdle:
        if (idle()) return true;
        break;
      case Waiter::kId:
        if (w->id == done) return true;
        break;
      case Waiter::kOutstanding:
        if (done <= w->id) return true;
        break;
    }
  }
  return false;
}

void TaskQueue::wait_all() {
  wait_until(Waiter::kIdle, TASKQID_INVALID, [this] { return idle(); });
}

void TaskQueue::wait_id(taskqid_t id) {
  wait_until(Waiter::kId, id, [this, id] { return find_queued(id) == nullptr && !is_running(id); });
}

void TaskQueue::wait_outstanding(taskqid_t id) {
  if (id == TASKQID_INVALID) {
    SpinLockIrqGuard guard(lock_);
    id = next_id_ - 1;
  }
  wait_until(Waiter::kOutstanding, id, [this, id] { return lowest_outstanding() > id; });
}

TaskQueue* TaskQueue::of_thread(void* thread) {
  auto* w = static_cast<Worker*>(splk_tq_thread_data(thread, &TaskQueue::worker_main));
  return w != nullptr ? w->queue : nullptr;
}

bool TaskQueue::member(void* thread) const { return of_thread(thread) == this; }

int TaskQueue::threads(void** out, int max) {
  SpinLockIrqGuard guard(lock_);
  int n = 0;
  for (int i = 0; i < nslots_ && n < max; ++i)
    if (workers_[i].thread != nullptr) out[n++] = workers_[i].thread;
  return n;
}

void TaskQueue::hold(bool on) {
  SpinLockIrqGuard guard(lock_);
  held_ = on;
  if (!on) wake_idle_workers();
}

void TaskQueue::stats(splk_taskq_stats* out) {
  SpinLockIrqGuard guard(lock_);
  out->name = name_;
  out->instance = instance_;
  out->maxthreads = maxthreads_;
  out->npend = out->nprio = out->ndelay = 0;
  for ([[maybe_unused]] TaskEntry* e : pend_) ++out->npend;
  for ([[maybe_unused]] TaskEntry* e : prio_) ++out->nprio;
  for ([[maybe_unused]] TaskEntry* e : delay_) ++out->ndelay;
  out->flags = flags_ | (active_ ? TASKQ_ACTIVE : 0);
  out->pri = pri_;
  out->nthreads = nthreads_;
  out->nactive = nactive_;
  out->nalloc = nalloc_;
  out->nfree = nfree_;
  out->wakeups = wakeups_;
  out->wakeups_nowork = wakeups_nowork_;
  out->minalloc = minalloc_;
  out->maxalloc = maxalloc_;
  out->threads_created = threads_created_;
  out->threads_destroyed = threads_destroyed_;
  out->dispatched = dispatched_;
  out->dispatched_delayed = dispatched_delayed_;
  out->executed_normal = executed_normal_;
  out->executed_priority = executed_priority_;
  out->delayed_requeued = delayed_requeued_;
  out->cancelled = cancelled_;
  out->sleeps = sleeps_;
  out->sleeps_ended = sleeps_ended_;
}

// ---- Invariants (task_queue.hpp, check()) -----------------------------------

namespace {

// A list walked no further than limit nodes (a list that loops would not
// end), each node linked both ways.
template <typename T>
const char* check_links(kstd::IntrusiveList<T>& list, uint64_t limit, uint64_t* n) {
  *n = 0;
  for (T* item : list) {
    if (++*n > limit) return "a list is longer than anything counted (or loops)";
    if (item->next->prev != item || item->prev->next != item) return "a list link is broken";
  }
  return nullptr;
}

}  // namespace

const char* TaskQueue::check() {
  SpinLockIrqGuard guard(lock_);
  if (!active_) return "a registered queue is not active";
  // Every queued entry has an id of its own below next_id_: no list can
  // be longer than the ids handed out.
  const uint64_t ids = static_cast<uint64_t>(next_id_ - TASKQID_INITIAL);
  struct {
    kstd::IntrusiveList<TaskEntry>* list;
    uintptr_t bits;
    bool ordered;
  } lists[] = {{&pend_, TQENT_LIST_PENDING, true},
               {&prio_, TQENT_LIST_PRIORITY, false},
               {&delay_, TQENT_LIST_DELAY, true}};
  uint64_t queued = 0;
  int pool_queued = 0;
  for (auto& l : lists) {
    uint64_t n;
    if (const char* why = check_links(*l.list, ids, &n)) return why;
    queued += n;
    taskqid_t last = TASKQID_INVALID;
    for (TaskEntry* e : *l.list) {
      if (e->queue != this) return "a queued entry names another queue";
      if ((e->flags & TQENT_LIST_MASK) != l.bits)
        return "a queued entry's list bits name another list";
      if (e->flags & TQENT_FLAG_CANCEL) return "a cancelled entry is still queued";
      if (e->func == nullptr) return "a queued entry has no function";
      if (e->id < TASKQID_INITIAL || e->id >= next_id_)
        return "a queued entry's id was never handed out";
      if (l.ordered && e->id <= last) return "the pending or delayed list is out of id order";
      last = e->id;
      if (is_running(e->id)) return "a task is queued and running at once";
      if (!(e->flags & TQENT_FLAG_PREALLOC)) ++pool_queued;
    }
  }

  uint64_t nfree;
  if (const char* why = check_links(free_, static_cast<uint64_t>(kstd::max(nalloc_, 0)), &nfree))
    return why;
  if (nfree != static_cast<uint64_t>(nfree_)) return "the pool's length differs from nfree";
  for (TaskEntry* e : free_)
    if (e->id != TASKQID_INVALID || e->func != nullptr || e->flags != 0)
      return "a pooled entry was not reset";
  if (nfree_ + pool_queued > nalloc_) return "more pool entries free and queued than allocated";

  int started = 0, reserved = 0, running = 0;
  for (int i = 0; i < nslots_; ++i) {
    const Worker& w = workers_[i];
    if (w.thread == &w)
      ++reserved;
    else if (w.thread != nullptr)
      ++started;
    if (w.running == TASKQID_INVALID) continue;
    if (w.thread == nullptr) return "a free worker slot runs a task";
    if (w.running >= next_id_) return "a worker runs an id never handed out";
    ++running;
    for (int j = i + 1; j < nslots_; ++j)
      if (workers_[j].running == w.running) return "two workers run one task";
  }
  if (started != nthreads_) return "nthreads differs from the slots with a started thread";
  if (reserved > nspawn_) return "a slot is reserved for a creation nspawn does not count";
  if (nthreads_ < 0 || nthreads_ > nslots_) return "nthreads is outside 0..the slots";
  if (maxthreads_ < 1 || maxthreads_ > nslots_) return "maxthreads is outside 1..the slots";
  if (running != nactive_) return "nactive differs from the workers running a task";

  uint64_t nidle;
  if (const char* why = check_links(idle_, static_cast<uint64_t>(nslots_), &nidle)) return why;
  for (Worker* w : idle_)
    if (w->running != TASKQID_INVALID) return "a worker on the idle list runs a task";
  if (nwaking_ < 0) return "nwaking is negative";
  if (sleeps_ - sleeps_ended_ != nidle + static_cast<uint64_t>(nwaking_))
    return "sleeps not yet ended differ from idle workers plus those woken";

  const uint64_t done = executed_normal_ + executed_priority_ + cancelled_;
  if (dispatched_ + dispatched_delayed_ != ids)
    return "ids handed out differ from the tasks dispatched";
  if (done + queued + static_cast<uint64_t>(running) != ids)
    return "tasks dispatched differ from those queued, running, executed and cancelled";
  return nullptr;
}

const char* TaskQueue::check_all(const char** name) {
  const char* why = nullptr;
  splk_tq_registry_lock();
  for (TaskQueue* q : g_queues) {
    why = q->check();
    if (why != nullptr) {
      *name = q->name_;
      break;
    }
  }
  splk_tq_registry_unlock();
  return why;
}

}  // namespace splkmem
