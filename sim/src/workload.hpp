// SPDX-License-Identifier: GPL-2.0
//
// Workloads: random sequences of the object cache and task queue API,
// each call checked against the reference model (model.hpp), run by
// driver threads on the simulated CPUs and by interrupt handlers.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace sim::workload {

// Defects known on today's code that a run can be told to steer around,
// so that it looks for others (each names its issue).
enum Avoid : unsigned {
  kAvoidWaitId0 = 1,    // issue 22 item 1: taskq_wait_id(tq, 0) never returns
  kAvoidTinyDebug = 2,  // issue 22 item 7: debug mode, 1..7-byte objects
  kAvoidInuse = 4,      // issue 22 item 6: spl_kmem_cache_inuse() wraps
  kAvoidRemoteMag = 8,  // issue 21 item 1: update and /proc read other CPUs' magazines
  // issue 21 item 4: the random workload makes no stale frees (a caller
  // bug it cannot make safely while other threads allocate); the
  // directed scenario does.
  kAvoidStaleFree = 16,
};

struct Options {
  uint64_t ops = 20000;  // API calls by the drivers, in all
  unsigned avoid = 0;
  unsigned drivers = 0;  // 0: chosen by the seed
  // An operation sequence as bytes (the fuzzer's input, splksim --input):
  // the workload's choices are decoded from them instead of drawn from
  // the seeded PRNG (the scheduler still uses the PRNG), and the drivers
  // stop when the bytes run out.  nullptr: the PRNG decides.
  const uint8_t* data = nullptr;
  size_t size = 0;
};

extern uint64_t ops_done;

// The random workload: module init, drivers, module exit, leak check.
int run_random(const Options& o);

// Directed scenarios (scenarios.cpp): 0 when nothing was found.
int run_scenario(const char* name, const Options& o);

// Shared by both: module load and unload, and the end-of-run checks.
void module_init();
void module_exit_and_check(bool expect_leaks);
void check_invariants(const char* after);

}  // namespace sim::workload
