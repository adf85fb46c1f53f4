// SPDX-License-Identifier: GPL-2.0
//
// TaskQueue: SPL's taskq_t, the subset the object cache needs and a bit
// more (sys/taskq.h documents the API).
//
// - A fixed set of kernel threads (created by create(), so running work
//   never depends on creating a thread: growth under memory pressure must
//   make progress).  TASKQ_DYNAMIC is accepted; threads are not added or
//   retired on demand.
// - Tasks carry monotonically increasing ids.  pending_ is FIFO except
//   TQ_FRONT, which queues at the head.  Each worker records the id it runs,
//   so cancel() and the wait functions see running tasks too.
// - taskq_dispatch_ent() uses the caller's entry and never allocates.
//   taskq_dispatch() takes an entry from a pool (TASKQ_PREPOPULATE fills it
//   with minalloc entries) or allocates one.
// - An entry the caller owns (kPrealloc) is never touched after its
//   function starts: the function may reuse or free it.
//
// lock_ is taken with interrupts off (dispatch may come from any context);
// functions run with no lock held.  Workers sleep interruptibly when idle,
// so an idle queue is not a hung task.
#pragma once

#include "kernel_objects.hpp"
#include "kstd/intrusive_list.hpp"
#include "splkmem/taskq_types.h"

namespace splkmem {

class TaskQueue;

// Laid over struct taskq_ent (include/splkmem/taskq_types.h).
struct TaskEntry : kstd::ListNode {
  static constexpr unsigned long kPrealloc = 0x1;  // owned by the caller
  static constexpr unsigned long kCancelled = 0x2;

  taskqid_t id;
  task_func_t* func;
  void* arg;
  TaskQueue* queue;
  unsigned long flags;
};

class TaskQueue : kstd::NonCopyable {
 public:
  static TaskQueue* create(const char* name, int nthreads, int pri, int minalloc, int maxalloc,
                           unsigned flags);
  // Runs what is pending, stops the threads, frees everything.
  void destroy();

  taskqid_t dispatch(task_func_t* func, void* arg, unsigned tq_flags);
  void dispatch_ent(task_func_t* func, void* arg, unsigned tq_flags, TaskEntry* entry);
  // 0 when cancelled before running; EBUSY when running and !wait;
  // ENOENT when unknown or (wait) finished.
  int cancel(taskqid_t id, bool wait);

  void wait_all();                      // until nothing is pending or running
  void wait_id(taskqid_t id);           // until task id is done
  void wait_outstanding(taskqid_t id);  // until every id <= id is done (0: all so far)
  bool member(void* thread) const;
  // Test builds: while held, workers take no task (ordering tests).
  void hold(bool on);

 private:
  struct Worker {
    TaskQueue* queue;
    void* thread;
    taskqid_t running;  // TASKQID_INVALID when idle
  };

  TaskQueue() = default;
  static int worker_main(void* worker);
  bool run_one(Worker* worker);

  // Under lock_.
  void enqueue(TaskEntry* entry, task_func_t* func, void* arg, unsigned tq_flags);
  TaskEntry* find_pending(taskqid_t id);
  bool is_running(taskqid_t id) const;
  taskqid_t lowest_outstanding();
  void recycle(TaskEntry* entry);
  bool idle() { return pending_.empty() && nactive_ == 0; }

  TaskEntry* take_entry(unsigned tq_flags);

  char name_[TASKQ_NAMELEN + 1];
  SpinLock lock_;
  WaitQueue work_wq_;  // workers wait here for tasks
  WaitQueue done_wq_;  // wait_*() and cancel() wait here for completions
  kstd::IntrusiveList<TaskEntry> pending_;
  kstd::IntrusiveList<TaskEntry> free_;  // pooled entries
  int nfree_;
  int minalloc_;
  int maxalloc_;
  int nalloc_;  // pool entries in existence
  taskqid_t next_id_;
  bool active_;
  bool held_;  // test hook: workers leave pending tasks alone
  int nactive_;
  int nthreads_;
  Worker* workers_;
};

}  // namespace splkmem
