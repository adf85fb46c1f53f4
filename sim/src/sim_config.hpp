// SPDX-License-Identifier: GPL-2.0
//
// The knobs of one run that are not the scheduler's (sched.hpp has those):
// the host's GFP bits and fault injection rates, chosen per seed.
#pragma once

namespace sim {

enum : unsigned {
  kGfpNowait = 0,
  kGfpHigh = 0x20,
  kGfpKernel = 0x400 | 0x800,  // direct and kswapd reclaim: may sleep
};

struct Knobs {
  unsigned nosleep_fail_one_in = 0;  // KM_NOSLEEP allocations that fail
};
extern Knobs knobs;

// The workload announces a warning the current thread's next call
// provokes (a hostile call); any other warning is a splat and fails the
// run.
void expect_warning(const char* what);
void expect_no_more_warnings();

}  // namespace sim
