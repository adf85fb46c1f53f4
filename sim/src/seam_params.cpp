// SPDX-License-Identifier: GPL-2.0
//
// The module parameters on the host, at the defaults splkmem.ko gives
// them (SPL's, and splkmem's own); a run may change them (the workload
// does per seed).  Shared by the simulation's seam and the TSan build's
// real-thread seam (tsan/real_seam.cpp).
#include "seam.h"
#include "splkmem/flags.h"

unsigned int spl_kmem_cache_magazine_size = 0;
unsigned int spl_kmem_cache_reclaim = 0;
unsigned int spl_kmem_cache_obj_per_slab = SPL_KMEM_CACHE_OBJ_PER_SLAB;
unsigned int spl_kmem_cache_max_size = SPL_KMEM_CACHE_MAX_SIZE;
unsigned int spl_kmem_cache_slab_limit = 4 * 4096;
unsigned int spl_kmem_cache_kmem_threads = 4;
unsigned int spl_kmem_cache_reap_interval_ms = 15000;
unsigned int spl_kmem_cache_depot_contention = 3;
unsigned int spl_kmem_cache_depot_slack_kb = 1024;
unsigned int spl_kmem_cache_depot_trim_ms = 100;
unsigned int spl_kmem_cache_debug = 0;
int spl_taskq_thread_bind = 0;
int spl_taskq_thread_priority = 1;
int spl_taskq_thread_dynamic = 1;
unsigned int spl_taskq_thread_sequential = 4;
unsigned int spl_taskq_thread_timeout_ms = 5000;
