// SPDX-License-Identifier: GPL-2.0
//
// The registry of live caches (for spl_kmem_reap(), /proc and the
// shrinker) and the graveyard of caches destroyed with objects still out.
// Both lists are guarded by the registry rw_semaphore of the C glue.
#pragma once

namespace splkmem {

class ObjectCache;

void registry_add(ObjectCache* cache);
void registry_remove(ObjectCache* cache);
void registry_bury(ObjectCache* cache);

}  // namespace splkmem
