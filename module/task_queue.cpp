// SPDX-License-Identifier: GPL-2.0
//
// TaskQueue and the exported taskq_* API (design in task_queue.hpp).
#include "task_queue.hpp"

namespace splkmem {

static_assert(sizeof(TaskEntry) == sizeof(taskq_ent_t), "TaskEntry is laid over taskq_ent_t");
static_assert(alignof(TaskEntry) == alignof(taskq_ent_t), "TaskEntry is laid over taskq_ent_t");

TaskQueue* TaskQueue::create(const char* name, int nthreads, int pri, int minalloc, int maxalloc,
                             unsigned flags) {
  splk_might_sleep();
  if (name == nullptr || kstd::strnlen(name, TASKQ_NAMELEN + 1) > TASKQ_NAMELEN) {
    splk_log(0, "splkmem: taskq_create: name %s%s", name != nullptr ? name : "NULL",
             name != nullptr ? " is longer than 31 characters" : "");
    return nullptr;
  }
  if (flags & TASKQ_THREADS_CPU_PCT) {
    const int pct = kstd::clamp(nthreads, 0, 100);
    nthreads = kstd::max(1, static_cast<int>(splk_kernel.nr_cpu_ids) * pct / 100);
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
  tq->work_wq_.init();
  tq->done_wq_.init();
  tq->minalloc_ = kstd::max(minalloc, 0);
  tq->maxalloc_ = kstd::max(maxalloc, tq->minalloc_);
  tq->next_id_ = TASKQID_INITIAL;
  tq->active_ = true;

  if (flags & TASKQ_PREPOPULATE) {
    for (int i = 0; i < tq->minalloc_; ++i) {
      auto* entry = static_cast<TaskEntry*>(splk_kmalloc_node(sizeof(TaskEntry), KM_SLEEP, -1));
      if (entry == nullptr) break;
      new (entry) TaskEntry();
      tq->free_.push_back(entry);
      ++tq->nfree_;
      ++tq->nalloc_;
    }
  }

  tq->workers_ =
      static_cast<Worker*>(splk_kmalloc_node(nthreads * sizeof(Worker), KM_SLEEP | KM_ZERO, -1));
  if (tq->workers_ == nullptr) {
    tq->destroy();
    return nullptr;
  }
  for (int i = 0; i < nthreads; ++i) {
    Worker* w = &tq->workers_[i];
    w->queue = tq;
    w->thread = splk_thread_run(&TaskQueue::worker_main, w, pri, tq->name_, i);
    if (w->thread == nullptr) {
      splk_log(0, "splkmem: taskq '%s': cannot start thread %d", tq->name_, i);
      tq->destroy();
      return nullptr;
    }
    tq->nthreads_ = i + 1;
  }
  return tq;
}

void TaskQueue::destroy() {
  splk_might_sleep();
  {
    SpinLockIrqGuard guard(lock_);
    active_ = false;  // dispatch fails from now on
  }
  wait_all();
  for (int i = 0; i < nthreads_; ++i) splk_thread_stop(workers_[i].thread);
  splk_kfree(workers_);
  while (TaskEntry* entry = free_.front()) {
    kstd::IntrusiveList<TaskEntry>::remove(entry);
    splk_kfree(entry);
  }
  splk_kfree(this);
}

// ---- Dispatch -------------------------------------------------------------

void TaskQueue::enqueue(TaskEntry* entry, task_func_t* func, void* arg, unsigned tq_flags) {
  entry->id = next_id_++;
  entry->func = func;
  entry->arg = arg;
  entry->queue = this;
  if (tq_flags & TQ_FRONT)
    pending_.push_front(entry);
  else
    pending_.push_back(entry);
}

void TaskQueue::dispatch_ent(task_func_t* func, void* arg, unsigned tq_flags, TaskEntry* entry) {
  {
    SpinLockIrqGuard guard(lock_);
    if (!active_) {
      entry->id = TASKQID_INVALID;
      return;
    }
    if (entry->linked()) {
      splk_warn("taskq '%s': dispatch of an entry that is already queued", name_);
      return;
    }
    entry->flags = TaskEntry::kPrealloc;
    enqueue(entry, func, arg, tq_flags);
  }
  work_wq_.wake_all();
}

// An entry from the pool, or a new one (which recycle() frees or pools).
TaskEntry* TaskQueue::take_entry(unsigned tq_flags) {
  {
    SpinLockIrqGuard guard(lock_);
    if (TaskEntry* entry = free_.front()) {
      kstd::IntrusiveList<TaskEntry>::remove(entry);
      --nfree_;
      return entry;
    }
    if ((tq_flags & TQ_NOALLOC) || ((tq_flags & TQ_NOSLEEP) && nalloc_ >= maxalloc_))
      return nullptr;
    ++nalloc_;
  }
  const int km = (tq_flags & TQ_NOSLEEP) ? KM_NOSLEEP : KM_SLEEP;
  void* mem =
      splk_kmalloc_node(sizeof(TaskEntry), km | ((tq_flags & TQ_PUSHPAGE) ? KM_PUSHPAGE : 0), -1);
  if (mem == nullptr) {
    SpinLockIrqGuard guard(lock_);
    --nalloc_;
    return nullptr;
  }
  return new (mem) TaskEntry();
}

taskqid_t TaskQueue::dispatch(task_func_t* func, void* arg, unsigned tq_flags) {
  TaskEntry* entry = take_entry(tq_flags);
  if (entry == nullptr) return TASKQID_INVALID;
  taskqid_t id;
  {
    SpinLockIrqGuard guard(lock_);
    if (!active_ || ((tq_flags & TQ_NOQUEUE) && nactive_ == nthreads_)) {
      recycle(entry);
      return TASKQID_INVALID;
    }
    entry->flags = 0;
    enqueue(entry, func, arg, tq_flags);
    id = entry->id;
  }
  work_wq_.wake_all();
  return id;
}

// Under lock_: a pool entry goes back to the pool up to minalloc, else it
// is freed (kfree is fine under a spinlock).
void TaskQueue::recycle(TaskEntry* entry) {
  if (nfree_ < minalloc_) {
    entry->func = nullptr;
    free_.push_front(entry);
    ++nfree_;
    return;
  }
  --nalloc_;
  splk_kfree(entry);
}

// ---- Workers --------------------------------------------------------------

int TaskQueue::worker_main(void* arg) {
  auto* w = static_cast<Worker*>(arg);
  TaskQueue* tq = w->queue;
  for (;;) {
    tq->work_wq_.wait(
        [tq] {
          if (splk_thread_should_stop()) return true;
          SpinLockIrqGuard guard(tq->lock_);
          return !tq->pending_.empty() && !tq->held_;
        },
        -1, true);
    if (!tq->run_one(w) && splk_thread_should_stop()) return 0;
  }
}

// Runs the first pending task, if any.  The task's fields are copied
// before it runs: a caller-owned entry may be reused by the function.
bool TaskQueue::run_one(Worker* w) {
  TaskEntry* entry;
  task_func_t* func;
  void* arg;
  bool owned_by_caller;
  {
    SpinLockIrqGuard guard(lock_);
    entry = held_ ? nullptr : pending_.front();
    if (entry == nullptr) return false;
    kstd::IntrusiveList<TaskEntry>::remove(entry);
    w->running = entry->id;
    ++nactive_;
    func = entry->func;
    arg = entry->arg;
    owned_by_caller = entry->flags & TaskEntry::kPrealloc;
  }
  func(arg);
  {
    SpinLockIrqGuard guard(lock_);
    w->running = TASKQID_INVALID;
    --nactive_;
    if (!owned_by_caller) recycle(entry);
  }
  done_wq_.wake_all();
  return true;
}

// ---- Cancel and wait ------------------------------------------------------

TaskEntry* TaskQueue::find_pending(taskqid_t id) {
  for (TaskEntry* entry : pending_)
    if (entry->id == id) return entry;
  return nullptr;
}

bool TaskQueue::is_running(taskqid_t id) const {
  for (int i = 0; i < nthreads_; ++i)
    if (workers_[i].running == id) return true;
  return false;
}

taskqid_t TaskQueue::lowest_outstanding() {
  taskqid_t lowest = next_id_;
  for (TaskEntry* entry : pending_) lowest = kstd::min(lowest, entry->id);
  for (int i = 0; i < nthreads_; ++i)
    if (workers_[i].running != TASKQID_INVALID) lowest = kstd::min(lowest, workers_[i].running);
  return lowest;
}

int TaskQueue::cancel(taskqid_t id, bool wait) {
  if (id == TASKQID_INVALID) return SPLK_ENOENT;
  bool running;
  {
    SpinLockIrqGuard guard(lock_);
    if (TaskEntry* entry = find_pending(id)) {
      kstd::IntrusiveList<TaskEntry>::remove(entry);
      entry->flags |= TaskEntry::kCancelled;
      if (!(entry->flags & TaskEntry::kPrealloc)) recycle(entry);
      running = false;
    } else {
      running = is_running(id);
      if (!running) return SPLK_ENOENT;
    }
  }
  if (!running) {
    done_wq_.wake_all();  // a waiter for this id may be done now
    return 0;
  }
  if (!wait) return SPLK_EBUSY;
  wait_id(id);
  return SPLK_ENOENT;
}

void TaskQueue::wait_all() {
  done_wq_.wait([this] {
    SpinLockIrqGuard guard(lock_);
    return idle();
  });
}

void TaskQueue::wait_id(taskqid_t id) {
  done_wq_.wait([this, id] {
    SpinLockIrqGuard guard(lock_);
    return find_pending(id) == nullptr && !is_running(id);
  });
}

void TaskQueue::wait_outstanding(taskqid_t id) {
  if (id == TASKQID_INVALID) {
    SpinLockIrqGuard guard(lock_);
    id = next_id_ - 1;
  }
  done_wq_.wait([this, id] {
    SpinLockIrqGuard guard(lock_);
    return lowest_outstanding() > id;
  });
}

void TaskQueue::hold(bool on) {
  {
    SpinLockIrqGuard guard(lock_);
    held_ = on;
  }
  work_wq_.wake_all();
}

bool TaskQueue::member(void* thread) const {
  for (int i = 0; i < nthreads_; ++i)
    if (workers_[i].thread == thread) return true;
  return false;
}

}  // namespace splkmem

// ---- The exported SPL API (include/sys/taskq.h) ---------------------------

using splkmem::TaskEntry;
using splkmem::TaskQueue;

namespace {
TaskQueue* from(taskq_t* tq) { return reinterpret_cast<TaskQueue*>(tq); }
TaskEntry* from(taskq_ent_t* ent) { return reinterpret_cast<TaskEntry*>(ent); }
}  // namespace

extern "C" taskq_t* taskq_create(const char* name, int nthreads, pri_t pri, int minalloc,
                                 int maxalloc, unsigned int flags) noexcept {
  return reinterpret_cast<taskq_t*>(
      TaskQueue::create(name, nthreads, pri, minalloc, maxalloc, flags));
}

extern "C" void taskq_destroy(taskq_t* tq) noexcept { from(tq)->destroy(); }

extern "C" taskqid_t taskq_dispatch(taskq_t* tq, task_func_t func, void* arg,
                                    unsigned int flags) noexcept {
  return from(tq)->dispatch(func, arg, flags);
}

extern "C" void taskq_dispatch_ent(taskq_t* tq, task_func_t func, void* arg, unsigned int flags,
                                   taskq_ent_t* ent) noexcept {
  from(tq)->dispatch_ent(func, arg, flags, from(ent));
}

extern "C" void taskq_init_ent(taskq_ent_t* ent) noexcept { new (ent) TaskEntry(); }

extern "C" int taskq_empty_ent(taskq_ent_t* ent) noexcept { return !from(ent)->linked(); }

extern "C" int taskq_cancel_id(taskq_t* tq, taskqid_t id, int wait) noexcept {
  return from(tq)->cancel(id, wait != 0);
}

extern "C" void taskq_wait(taskq_t* tq) noexcept { from(tq)->wait_all(); }

extern "C" void taskq_wait_id(taskq_t* tq, taskqid_t id) noexcept { from(tq)->wait_id(id); }

extern "C" void taskq_wait_outstanding(taskq_t* tq, taskqid_t id) noexcept {
  from(tq)->wait_outstanding(id);
}

extern "C" int taskq_member(taskq_t* tq, task_struct* thread) noexcept {
  return from(tq)->member(thread);
}

extern "C" void splk_taskq_hold(taskq_t* tq, bool on) noexcept { from(tq)->hold(on); }
