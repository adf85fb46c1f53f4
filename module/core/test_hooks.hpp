// SPDX-License-Identifier: GPL-2.0
//
// Test hooks shared by several files of the core (splk_test_hooks in
// seam.h): compiled into test builds only, nothing in production.
#pragma once

#include "kstd/utility.hpp"
#include "seam.h"

namespace splkmem {

// Between finding memory another CPU may free and reading it: widens the
// window a racing free must hit (splk_test_hooks.race_window_us).
inline void hook_race_window() {
#ifdef SPLKMEM_TEST_HOOKS
  if (const unsigned us = kstd::load_relaxed(splk_test_hooks.race_window_us)) splk_test_udelay(us);
#endif
}

}  // namespace splkmem
