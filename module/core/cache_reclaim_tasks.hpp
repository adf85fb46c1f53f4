// SPDX-License-Identifier: GPL-2.0
//
// The caches' background tasks on the grow queue: the periodic
// working-set update and the two depot trim ticks (object_cache.hpp,
// "Giving memory back"), and their stop at module unload.
#pragma once

#include "object_cache.hpp"
#include "task_queue.hpp"

namespace splkmem {

// The CacheOwner every cache gets at create: trim ticks on request.
const CacheOwner* reclaim_tasks_owner();
// Module init: the tasks run on queue from now on (the first update is
// dispatched here).
void reclaim_tasks_start(TaskQueue* queue);
// Module unload: no task is queued, delayed or running once this returns,
// and none is dispatched again.
void reclaim_tasks_stop();

}  // namespace splkmem
