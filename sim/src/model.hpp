// SPDX-License-Identifier: GPL-2.0
//
// The reference model the workloads check the core against.  It is plain
// host state, updated with no switch point inside an update, so each
// update is atomic in the simulation:
//
// Caches: every object a caller holds, by address (no two overlap: an
// object handed out twice, or overlapping another cache's, is found when
// it is added), each stamped with a pattern the holder wrote and checks
// when it frees it (another holder's writes show); constructor and
// destructor calls per cache (their difference is the objects held, and
// both balance at destroy); an object is removed from the model before it
// is given back, and added after the allocation returned.
//
// Task queues: every dispatched task, its id, whether it was refused or
// cancelled, how many times it ran (exactly once unless refused or
// cancelled, checked as it runs and at destroy), and what each wait
// promises (wait_id: that task done; wait: everything dispatched before
// it; wait_outstanding: every id up to its argument).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <map>
#include <vector>

#include "seam.h"

namespace sim::model {

struct Cache;

struct Held {
  Cache* cache;
  size_t size;
  uint64_t stamp;
  size_t index;  // in State::order
};

struct Cache {
  spl_kmem_cache* skc;
  char name[32];
  size_t size;
  size_t align;
  int flags;
  bool ctor, dtor;
  uint64_t ctor_calls, dtor_calls;
  uint64_t held;  // objects callers hold
  bool dying;     // being destroyed: no new users
  int users;      // operations in flight on it
};

struct Queue;

struct Task {
  Queue* queue;
  taskqid_t id;
  uint64_t seq;  // dispatch order in the model
  int runs;
  bool refused;    // the dispatch returned TASKQID_INVALID
  bool cancelled;  // cancel returned 0
  int cancelling;  // cancels of it in flight (it may be off the queue already)
  bool done;       // its function returned
  unsigned sleep_ms;
  bool normal;  // neither TQ_FRONT nor TQ_NOQUEUE nor delayed: FIFO
  void* entry;  // dispatch_ent: the caller's entry
};

struct Queue {
  taskq_t* tq;
  char name[32];
  bool dying;
  int users;
  bool held;  // a driver holds its threads (op_taskq_introspect): one at a time
  int nthreads;
  taskqid_t last_normal;  // one thread: the normal tasks start in id order
  std::vector<Task*> tasks;
};

struct State {
  std::map<uintptr_t, Held> objects;  // by address
  std::vector<uintptr_t> order;       // the same, in an order of the run's own
  std::vector<Cache*> caches;
  std::vector<Queue*> queues;
  uint64_t stamp_seq;
  uint64_t task_seq;

  // Add an object a cache just handed out; fails the run if it overlaps
  // one held (handed out twice) or is misaligned.
  void add(Cache* c, void* obj);
  // Check the holder's stamp and forget the object (before its free).
  void remove(void* obj);
  // A random held object, or null.
  void* pick(uint64_t r) const;
};

extern State state;

// Stamps an object's bytes (beyond the constructor's word) and checks them.
void stamp(void* obj, size_t size, uint64_t value, bool ctor);
bool stamp_intact(const void* obj, size_t size, uint64_t value, bool ctor);

}  // namespace sim::model
