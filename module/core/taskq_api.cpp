// SPDX-License-Identifier: GPL-2.0
//
// The exported SPL task queue API (include/sys/taskq.h), the system
// queues, and the module-wide task queue services the C glue calls
// (/proc statistics, spl_taskq_kick, CPU hotplug, test hooks): thin
// wrappers around
// TaskQueue (task_queue.hpp).
#include "task_queue.hpp"

using splkmem::TaskEntry;
using splkmem::TaskQueue;

taskq_t* system_taskq;
taskq_t* system_delay_taskq;

namespace {
TaskQueue* from(taskq_t* tq) { return reinterpret_cast<TaskQueue*>(tq); }
TaskEntry* from(taskq_ent_t* ent) { return reinterpret_cast<TaskEntry*>(ent); }
taskq_t* to_handle(TaskQueue* tq) { return reinterpret_cast<taskq_t*>(tq); }

// A NULL queue is a caller's bug SPL would ASSERT on: WARN, do nothing.
bool null_queue(taskq_t* tq, const char* what) {
  if (tq != nullptr) return false;
  splk_warn("splkmem: %s on a NULL taskq", what);
  return true;
}
}  // namespace

extern "C" taskq_t* taskq_create(const char* name, int nthreads, pri_t pri, int minalloc,
                                 int maxalloc, unsigned int flags) noexcept {
  return to_handle(TaskQueue::create(name, nthreads, pri, minalloc, maxalloc, flags));
}

// SPL's taskq_create_synced(): every thread running on return, at
// minclsyspri, nthreads entries preallocated, no entry limit, and the
// threads handed back in an array the caller frees.
extern "C" taskq_t* taskq_create_synced(const char* name, int nthreads, pri_t, int, int,
                                        unsigned int flags, task_struct*** ktpp) noexcept {
  if (ktpp == nullptr || nthreads < 1) {
    splk_log(0, "splkmem: taskq_create_synced '%s': %d threads, array %p",
             name != nullptr ? name : "NULL", nthreads, static_cast<void*>(ktpp));
    return nullptr;
  }
  auto** threads = static_cast<task_struct**>(
      splk_kmalloc_node(sizeof(task_struct*) * nthreads, KM_SLEEP | KM_ZERO, -1));
  if (threads == nullptr) return nullptr;
  flags &= ~(TASKQ_DYNAMIC | TASKQ_THREADS_CPU_PCT | TASKQ_DC_BATCH);
  TaskQueue* tq = TaskQueue::create(name, nthreads, minclsyspri, nthreads,
                                    TaskQueue::kUnlimitedAlloc, flags | TASKQ_PREPOPULATE);
  if (tq == nullptr) {
    splk_kfree(threads);
    return nullptr;
  }
  tq->threads(reinterpret_cast<void**>(threads), nthreads);
  *ktpp = threads;
  return to_handle(tq);
}

// A queue that is not registered was destroyed already (or never
// existed): nothing is read through the pointer.  (A new queue created
// at the same address in between cannot be told apart.)
extern "C" void taskq_destroy(taskq_t* tq) noexcept {
  if (null_queue(tq, "taskq_destroy")) return;
  if (!TaskQueue::unregister(from(tq))) {
    splk_warn("splkmem: taskq_destroy: %p is not a live task queue (destroyed twice?)",
              static_cast<void*>(tq));
    return;
  }
  from(tq)->destroy();
}

extern "C" taskqid_t taskq_dispatch(taskq_t* tq, task_func_t func, void* arg,
                                    unsigned int flags) noexcept {
  if (null_queue(tq, "taskq_dispatch")) return TASKQID_INVALID;
  return from(tq)->dispatch(func, arg, flags);
}

extern "C" taskqid_t taskq_dispatch_delay(taskq_t* tq, task_func_t func, void* arg,
                                          unsigned int flags, long expire_time) noexcept {
  if (null_queue(tq, "taskq_dispatch_delay")) return TASKQID_INVALID;
  return from(tq)->dispatch_delay(func, arg, flags, static_cast<unsigned long>(expire_time));
}

extern "C" void taskq_dispatch_ent(taskq_t* tq, task_func_t func, void* arg, unsigned int flags,
                                   taskq_ent_t* ent) noexcept {
  if (ent == nullptr) {
    splk_warn("splkmem: taskq_dispatch_ent with a NULL entry");
    return;
  }
  if (null_queue(tq, "taskq_dispatch_ent")) {
    from(ent)->id = TASKQID_INVALID;
    return;
  }
  from(tq)->dispatch_ent(func, arg, flags, from(ent));
}

extern "C" void taskq_init_ent(taskq_ent_t* ent) noexcept { from(ent)->init(); }

extern "C" int taskq_empty_ent(taskq_ent_t* ent) noexcept { return !from(ent)->linked(); }

extern "C" int taskq_cancel_id(taskq_t* tq, taskqid_t id, int wait) noexcept {
  if (null_queue(tq, "taskq_cancel_id")) return SPLK_ENOENT;
  return from(tq)->cancel(id, wait != 0);
}

extern "C" void taskq_wait(taskq_t* tq) noexcept {
  if (null_queue(tq, "taskq_wait")) return;
  from(tq)->wait_all();
}

extern "C" void taskq_wait_id(taskq_t* tq, taskqid_t id) noexcept {
  if (null_queue(tq, "taskq_wait_id")) return;
  from(tq)->wait_id(id);
}

extern "C" void taskq_wait_outstanding(taskq_t* tq, taskqid_t id) noexcept {
  if (null_queue(tq, "taskq_wait_outstanding")) return;
  from(tq)->wait_outstanding(id);
}

extern "C" int taskq_member(taskq_t* tq, task_struct* thread) noexcept {
  return tq != nullptr && from(tq)->member(thread);
}

extern "C" taskq_t* taskq_of_curthread(void) noexcept {
  return to_handle(TaskQueue::of_thread(nullptr));
}

extern "C" void splk_taskq_entry_expired(void* entry) noexcept {
  TaskQueue::expired(static_cast<TaskEntry*>(entry));
}

extern "C" void splk_taskq_for_each(void (*fn)(const splk_taskq_stats*, void*), void* arg,
                                    bool newest_first) noexcept {
  TaskQueue::for_each(fn, arg, newest_first);
}

extern "C" void splk_taskq_kstats_enable(bool on) noexcept { TaskQueue::kstats_enable(on); }

extern "C" int splk_taskq_kick(void) noexcept { return TaskQueue::kick_all(); }

extern "C" void splk_taskq_cpus_changed(unsigned int ncpus) noexcept {
  TaskQueue::cpus_changed(ncpus);
}

extern "C" void splk_taskq_hold(taskq_t* tq, bool on) noexcept { from(tq)->hold(on); }

extern "C" void splk_taskq_get_stats(taskq_t* tq, splk_taskq_stats* out) noexcept {
  from(tq)->stats(out);
}

// SPL's two system queues, at load: system_taskq max(CPUs, 64) threads,
// system_delay_taskq max(CPUs, 4), both at maxclsyspri with one entry per
// CPU preallocated and no entry limit.  Not dynamic here: the threads all
// exist from the start.
extern "C" int splk_taskq_init(void) noexcept {
  const int cpus = static_cast<int>(splk_num_online_cpus());
  // Creates threads for dynamic queues: static, one thread, as SPL's.
  TaskQueue* spawner = TaskQueue::create("spl_dynamic_taskq", 1, maxclsyspri, cpus,
                                         TaskQueue::kUnlimitedAlloc, TASKQ_PREPOPULATE);
  if (spawner == nullptr) return -SPLK_ENOMEM;
  TaskQueue::set_dynamic_queue(spawner);
  system_taskq = taskq_create("spl_system_taskq", kstd::max(cpus, 64), maxclsyspri, cpus,
                              TaskQueue::kUnlimitedAlloc, TASKQ_PREPOPULATE | TASKQ_DYNAMIC);
  if (system_taskq == nullptr) {
    splk_taskq_fini();
    return -SPLK_ENOMEM;
  }
  system_delay_taskq = taskq_create("spl_delay_taskq", kstd::max(cpus, 4), maxclsyspri, cpus,
                                    TaskQueue::kUnlimitedAlloc, TASKQ_PREPOPULATE | TASKQ_DYNAMIC);
  if (system_delay_taskq == nullptr) {
    splk_taskq_fini();
    return -SPLK_ENOMEM;
  }
  // TASKQ_THREADS_CPU_PCT queues follow CPU hotplug from here on.
  const int rc = splk_tq_hotplug_init();
  if (rc != 0) splk_taskq_fini();
  return rc;
}

// The system queues first: destroying a dynamic queue waits for its
// thread creations, which run on the spawn queue.
extern "C" void splk_taskq_fini(void) noexcept {
  splk_tq_hotplug_exit();  // no callback reaches a queue from here on
  if (system_delay_taskq != nullptr) taskq_destroy(system_delay_taskq);
  system_delay_taskq = nullptr;
  if (system_taskq != nullptr) taskq_destroy(system_taskq);
  system_taskq = nullptr;
  TaskQueue* spawner = TaskQueue::dynamic_queue();
  if (spawner == nullptr) return;
  TaskQueue::set_dynamic_queue(nullptr);
  taskq_destroy(to_handle(spawner));
}

extern "C" const char* splk_core_check_task_queues(const char** queue) noexcept {
  return TaskQueue::check_all(queue);
}
