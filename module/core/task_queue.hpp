// SPDX-License-Identifier: GPL-2.0
//
// TaskQueue: SPL's taskq_t (include/sys/taskq.h documents the API).
//
// - Threads: a static queue creates them all in create(), so running work
//   never depends on creating a thread (the object cache's grow queue is
//   one: it is created before the dynamic machinery exists).  A
//   TASKQ_DYNAMIC queue (with spl_taskq_thread_dynamic) starts with one
//   thread, as SPL: when a dispatch finds every thread busy, or a thread
//   has run more than spl_taskq_thread_sequential tasks in a row, one more
//   thread is created, by a task on the private "spl_dynamic_taskq" (a
//   dispatch may come from atomic context, and thread creation sleeps); an
//   idle thread other than the first retires after
//   spl_taskq_thread_timeout_ms, at most one per that interval.  Worker
//   slots are an array of maxthreads; nspawn_ counts creations in flight,
//   and destroy waits for them before it stops the threads.
// - Every queue is on a registry (g_queues): taskq_destroy() of a queue
//   that is not there (destroyed twice) is a WARN, not a use-after-free.
// - Tasks carry monotonically increasing ids and sit on one of three
//   lists, as in SPL: prio_ (TQ_FRONT, FIFO; TQ_NOQUEUE at its head;
//   delayed tasks once due, in id order), pend_ (FIFO), delay_ (waiting
//   for their timer).  Workers take from prio_ first.  Each worker records
//   the id it runs, so cancel() and the wait functions see running tasks.
// - Idle workers sleep on a list (idle_, most recently idle first).  A
//   dispatch takes the first one off it and wakes that thread, unless
//   as many workers as there are CPUs were woken and have not run yet:
//   a woken worker, once it has taken a task, wakes the next if work
//   remains (the workqueue's chain).  One dispatch wakes at most one
//   worker, never one already woken, and none while every worker is busy
//   (a busy worker looks for more work before it sleeps).  A worker holds
//   lock_ from one task to the next: taking a task and finishing one is
//   a single lock round, as SPL's taskq_thread() does.
// - wait_*() callers register a Waiter; a finished task wakes them only
//   when it may be the one they wait for (their task, one at or below
//   their id, or the last task of the queue), not after every task.
// - taskq_dispatch_ent() uses the caller's entry and never allocates.
//   taskq_dispatch() and taskq_dispatch_delay() take an entry from a pool
//   (TASKQ_PREPOPULATE fills it with minalloc entries, at most
//   SPLK_TASKQ_PREPOPULATE_MAX) or allocate one.  A finished entry goes
//   back to the pool, beyond minalloc too (SPL frees those): a burst's
//   entries are not allocated on one CPU and freed on another task after
//   task.  A worker idle for a second frees the pool down to minalloc.  At
//   maxalloc entries TQ_NOSLEEP fails and TQ_SLEEP is throttled as SPL
//   does (polls every 10 ms, at most 100 times, then allocates anyway).
// - An entry the caller owns (TQENT_FLAG_PREALLOC) is never touched after
//   its function starts: the function may reuse or free it.
// - TaskEntry is laid over taskq_ent_t, whose layout is OpenZFS's (the
//   kernel objects first, then the list node, id, function, argument,
//   queue, flags, birth): checked against generated/taskq_sizes.h.
//
// lock_ is taken with interrupts off (dispatch may come from any context,
// and delayed entries expire in a timer); functions run with no lock held.
#pragma once

#include "generated/taskq_sizes.h"
#include "kernel_objects.hpp"
#include "kstd/intrusive_list.hpp"
#include "splkmem/taskq_types.h"

// SPL's thread priorities (sys/sysmacros.h), as kernel priorities; the
// generated constants are the target kernel's MAX_RT_PRIO etc.
#ifndef maxclsyspri
#define maxclsyspri (SPLK_MAX_RT_PRIO)
#define defclsyspri (SPLK_DEFAULT_PRIO)
#define minclsyspri (SPLK_MAX_PRIO - 1)
#define wtqclsyspri (SPLK_MAX_RT_PRIO + 1)
#endif

namespace splkmem {

class TaskQueue;

// The kernel objects at the start of a taskq_ent_t: storage only, set up
// through the seam (the timer is the one splkmem uses, for delays).
struct TaskEntryKernelPart {
  alignas(SPLK_SPINLOCK_ALIGN) unsigned char lock[SPLK_SPINLOCK_SIZE];
  alignas(SPLK_WAIT_QUEUE_HEAD_ALIGN) unsigned char waitq[SPLK_WAIT_QUEUE_HEAD_SIZE];
  alignas(SPLK_TIMER_LIST_ALIGN) unsigned char timer[SPLK_TIMER_LIST_SIZE];
};

// Laid over struct taskq_ent (include/sys/taskq.h): the ListNode is
// tqent_list (detached = points at itself, as an empty list_head).
struct TaskEntry : TaskEntryKernelPart, kstd::ListNode {
  taskqid_t id;
  task_func_t* func;
  void* arg;
  TaskQueue* queue;
  uintptr_t flags;  // TQENT_FLAG_*, TQENT_LIST_*
  unsigned long birth;

  void init();  // taskq_init_ent()
  void set_list(uintptr_t list) { flags = (flags & ~uintptr_t{TQENT_LIST_MASK}) | list; }
};

class TaskQueue : kstd::NonCopyable, public kstd::ListNode {
 public:
  // maxalloc of the queues the module creates itself: INT_MAX, SPL's own
  // choice for its system queues (no throttle).
  enum : int { kUnlimitedAlloc = 0x7fffffff };

  static TaskQueue* create(const char* name, int nthreads, int pri, int minalloc, int maxalloc,
                           unsigned flags);
  // Runs what is pending and delayed, stops the threads, frees everything.
  void destroy();

  taskqid_t dispatch(task_func_t* func, void* arg, unsigned tq_flags);
  taskqid_t dispatch_delay(task_func_t* func, void* arg, unsigned tq_flags, unsigned long when);
  // Returns the id it queued the entry with, TASKQID_INVALID when it did
  // not: read it here, not from the entry, which may be running and
  // dispatched again by someone else as soon as it is queued.
  taskqid_t dispatch_ent(task_func_t* func, void* arg, unsigned tq_flags, TaskEntry* entry);
  // 0 when cancelled before running; EBUSY when running and !wait;
  // ENOENT when unknown or (wait) finished.
  int cancel(taskqid_t id, bool wait);

  void wait_all();                      // until nothing is queued, delayed or running
  void wait_id(taskqid_t id);           // until task id is done
  void wait_outstanding(taskqid_t id);  // until every id <= id is done (0: all so far)
  bool member(void* thread) const;
  // The queue whose worker @thread (nullptr: the current thread) is.
  static TaskQueue* of_thread(void* thread);
  // Fills threads[0..nthreads) (taskq_create_synced()).
  int threads(void** out, int max);

  // A delayed entry's timer fired (softirq).
  static void expired(TaskEntry* entry);

  // The registry: register_queue() at the end of create(); unregister()
  // is false for a queue that is not registered.
  void register_queue();
  static bool unregister(TaskQueue* tq);
  // The private queue that creates threads for dynamic queues.
  static void set_dynamic_queue(TaskQueue* tq);
  static TaskQueue* dynamic_queue();
  static void for_each(void (*fn)(const splk_taskq_stats*, void*), void* arg, bool newest_first);
  // Every queue's kstat file, and those of queues created later (on), or
  // none (off): splk_tq_kstat_install()/remove() under the registry lock.
  static void kstats_enable(bool on);
  // spl_taskq_kick: queues whose next task waited over 5 s ask for a
  // thread; returns how many had such a task.
  static int kick_all();
  // CPU hotplug: @ncpus CPUs are (or are about to be) online.
  static void cpus_changed(unsigned ncpus);

  // Test builds: while held, workers take no task (ordering tests).
  void hold(bool on);
  // Debug: nullptr when the invariants below hold, under lock_; else the
  // one found broken.  check_all() checks every registered queue (name:
  // the queue's, when one fails).
  //
  // - Every entry on pend_, prio_ or delay_ is this queue's, carries that
  //   list's TQENT_LIST_* bits and no TQENT_FLAG_CANCEL, has an id below
  //   next_id_, and is linked both ways; pend_ and delay_ are in id order
  //   (FIFO, and timers armed in dispatch order); prio_ is not (TQ_NOQUEUE
  //   goes to its head).
  // - No id is both queued and running, nor run by two workers.
  // - free_ holds nfree_ reset entries, and pool entries queued plus free
  //   are at most nalloc_.
  // - Every id handed out is queued, running, executed or cancelled:
  //   next_id_ - TASKQID_INITIAL equals dispatched_ + dispatched_delayed_
  //   equals those four.
  // - nthreads_ is the slots whose thread started (reserved slots belong
  //   to a creation counted in nspawn_), within 0..nslots_, maxthreads_
  //   within 1..nslots_; nactive_ is the workers running a task; idle_
  //   holds workers with no task; every sleep not yet ended is a worker on
  //   idle_ or one woken (nwaking_); a registered queue is active.
  const char* check();
  static const char* check_all(const char** name);
  void stats(splk_taskq_stats* out);
  const char* name() const { return name_; }

 private:
  // On idle_ while it sleeps and no one has woken it.  queue is constant;
  // the rest is the queue's lock_'s.
  struct Worker : kstd::ListNode {
    TaskQueue* queue = nullptr;
    void* thread SPLK_GUARDED_BY(queue->lock_) = nullptr;  // nullptr: free slot
    // The thread as it sees itself (set by it).
    void* self SPLK_GUARDED_BY(queue->lock_) = nullptr;
    // TASKQID_INVALID when idle.
    taskqid_t running SPLK_GUARDED_BY(queue->lock_) = TASKQID_INVALID;
    // Tasks run since the thread last slept.
    unsigned sequential SPLK_GUARDED_BY(queue->lock_) = 0;
  };

  // A wait_*() caller, on waiters_ while it waits (constant meanwhile).
  struct Waiter : kstd::ListNode {
    enum Kind { kIdle, kId, kOutstanding } kind;
    taskqid_t id;  // kId: the task; kOutstanding: every task up to it
  };

  TaskQueue() = default;
  static TaskQueue* next_queue(TaskQueue* q);  // under the registry lock
  static int worker_main(void* worker);
  static void spawn_task(void* tq);
  void spawn_thread();
  bool start_thread(int slot);
  // Under lock_: whether to ask for one more thread (nspawn_ counted).
  bool want_spawn();
  void request_spawn();  // no lock held
  bool try_retire(Worker* w);
  void retire(Worker* w);
  // Under lock_: a thread beyond maxthreads_ (the CPUs went down) other
  // than the first; it retires when it finds no work.  Only once
  // start_thread() counted it (set w->thread): before that, its retiring
  // would uncount another thread, and the slot would name a thread gone.
  bool over_max(const Worker* w) const {
    lock_.assert_held();
    return active_ && nthreads_ > maxthreads_ && w != &workers_[0] && w->thread == w->self;
  }
  void resize_for_cpus(unsigned ncpus);
  void run(Worker* w, TaskEntry* entry, SpinLockIrqGuard& locked);

  // Under lock_: wakes the most recently idle worker, if one sleeps and
  // fewer than maxwaking_ are on their way (nwaking_).
  void wake_idle_worker();
  void wake_first_idle();    // however many are on their way
  void wake_idle_workers();  // every idle worker (hold(false), destroy)
  // Until cond() (called under lock_) holds.
  template <typename Cond>
  void wait_until(Waiter::Kind kind, taskqid_t id, const Cond& cond);
  // Under lock_: whether the end of task @done may end a Waiter's wait.
  bool ends_a_wait(taskqid_t done);
  // Under lock_: enqueue() for dispatch()/dispatch_ent(), and the wake-up;
  // returns whether to request a thread (want_spawn()).
  bool submit(TaskEntry* entry, task_func_t* func, void* arg, unsigned tq_flags);

  // Under lock_.
  void enqueue(TaskEntry* entry, task_func_t* func, void* arg, unsigned tq_flags);
  TaskEntry* next_entry();
  TaskEntry* find_queued(taskqid_t id);
  bool is_running(taskqid_t id) const;
  taskqid_t lowest_outstanding();
  void recycle(TaskEntry* entry);
  // Pooled entries beyond minalloc, which an idle worker frees.
  int pool_excess() {
    lock_.assert_held();
    return kstd::max(nfree_ - kstd::max(minalloc_, 0), 0);
  }
  void trim_pool(SpinLockIrqGuard& locked);
  // How long a queue with an excess pool stays idle before it is trimmed.
  static long pool_trim_delay() { return static_cast<long>(ms_to_jiffies(1000)); }
  bool destroying() const;
  bool idle() {
    lock_.assert_held();
    return pend_.empty() && prio_.empty() && delay_.empty() && nactive_ == 0;
  }
  bool has_work() {
    lock_.assert_held();
    return !held_ && (!prio_.empty() || !pend_.empty());
  }
  // Every thread at work.  ">=": a new thread may take a task before
  // spawn_thread() has counted it.
  bool all_busy() const {
    lock_.assert_held();
    return nactive_ >= nthreads_;
  }
  // A dynamic queue below its maximum can take a TQ_NOQUEUE task.
  bool can_grow() {
    lock_.assert_held();
    return dynamic_ && active_ && nthreads_ + nspawn_ < maxthreads_;
  }
  static long idle_timeout() {
    return static_cast<long>(
        kstd::max<uint64_t>(ms_to_jiffies(kstd::load_relaxed(spl_taskq_thread_timeout_ms)), 1));
  }

  // Takes lock_ itself.
  TaskEntry* take_entry(unsigned tq_flags);
  TaskEntry* alloc_entry(unsigned tq_flags);  // no lock held
  bool refuse(task_func_t* func, unsigned tq_flags, const char* what);

  // Set in create() before the queue is published, constant after: name_,
  // minalloc_, maxalloc_, maxwaking_, nslots_, cpu_pct_, dynamic_, pri_,
  // flags_ and workers_ (the array; its slots are guarded).  The registry
  // mutex (splk_tq_registry_lock()) guards instance_ and kstat_; lock_
  // guards the rest.
  char name_[TASKQ_NAMELEN + 1];
  SpinLock lock_;
  WaitQueue done_wq_;  // wait_*() and cancel() wait here for completions
  kstd::IntrusiveList<Worker> idle_ SPLK_GUARDED_BY(lock_);     // sleeping, not yet woken
  kstd::IntrusiveList<Waiter> waiters_ SPLK_GUARDED_BY(lock_);  // in wait_*()
  kstd::IntrusiveList<TaskEntry> pend_ SPLK_GUARDED_BY(lock_);
  kstd::IntrusiveList<TaskEntry> prio_ SPLK_GUARDED_BY(lock_);
  kstd::IntrusiveList<TaskEntry> delay_ SPLK_GUARDED_BY(lock_);
  kstd::IntrusiveList<TaskEntry> free_ SPLK_GUARDED_BY(lock_);  // pooled entries
  int nfree_ SPLK_GUARDED_BY(lock_);
  int minalloc_;
  int maxalloc_;
  int nalloc_ SPLK_GUARDED_BY(lock_);  // pool entries in existence
  taskqid_t next_id_ SPLK_GUARDED_BY(lock_);
  bool active_ SPLK_GUARDED_BY(lock_);
  bool held_ SPLK_GUARDED_BY(lock_);  // test hook: workers leave queued tasks alone
  int nactive_ SPLK_GUARDED_BY(lock_);
  int nwaking_ SPLK_GUARDED_BY(lock_);   // workers woken that have not yet run
  int maxwaking_;                        // online CPUs at creation: more on their way gain nothing
  int nthreads_ SPLK_GUARDED_BY(lock_);  // threads running
  // Threads allowed now (CPU_PCT queues: from the online CPUs).
  int maxthreads_ SPLK_GUARDED_BY(lock_);
  int nslots_;   // slots in workers_: maxthreads_ with every possible CPU online
  int cpu_pct_;  // TASKQ_THREADS_CPU_PCT: the percentage
  int nspawn_ SPLK_GUARDED_BY(lock_);  // thread creations requested, not finished
  bool dynamic_;
  unsigned long lastspawnstop_ SPLK_GUARDED_BY(lock_);  // jiffies of the last spawn or retirement
  int pri_;
  unsigned flags_;                                       // TASKQ_* as given
  int instance_ SPLK_GUARDED_BY(splk_tq_registry_lock);  // set by register_queue()
  uint64_t wakeups_ SPLK_GUARDED_BY(lock_);
  uint64_t wakeups_nowork_ SPLK_GUARDED_BY(lock_);
  // SPL's kstat counters (splk_taskq_stats says what each counts).
  uint64_t threads_created_ SPLK_GUARDED_BY(lock_);
  uint64_t threads_destroyed_ SPLK_GUARDED_BY(lock_);
  uint64_t dispatched_ SPLK_GUARDED_BY(lock_);
  uint64_t dispatched_delayed_ SPLK_GUARDED_BY(lock_);
  uint64_t executed_normal_ SPLK_GUARDED_BY(lock_);
  uint64_t executed_priority_ SPLK_GUARDED_BY(lock_);
  uint64_t delayed_requeued_ SPLK_GUARDED_BY(lock_);
  uint64_t cancelled_ SPLK_GUARDED_BY(lock_);
  uint64_t sleeps_ SPLK_GUARDED_BY(lock_);
  uint64_t sleeps_ended_ SPLK_GUARDED_BY(lock_);
  void* kstat_ SPLK_GUARDED_BY(splk_tq_registry_lock);  // the kstat file's handle
  Worker* workers_;
};

}  // namespace splkmem
