// SPDX-License-Identifier: GPL-2.0
// Breaks the subset: a global whose initializer runs at load time.
#include "seam.h"

namespace {
struct Counter {
  Counter() : value(static_cast<unsigned long>(splk_random_u64())) {}
  unsigned long value;
};
Counter g_counter;
}  // namespace

extern "C" unsigned long splk_fixture_value(void) noexcept;
extern "C" unsigned long splk_fixture_value(void) noexcept { return g_counter.value; }
