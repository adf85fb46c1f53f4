// SPDX-License-Identifier: GPL-2.0
//
// The real-thread seam (real_seam.cpp) as the stress (stress.cpp) uses it.
#pragma once

namespace real {

enum : unsigned { kNumCpus = 4 };
extern unsigned ncpus;  // at most kNumCpus, before init()

// Per-CPU areas, the kworkers, the timer and RCU threads; the calling
// thread becomes CPU 0's.
void init();
void fini();
// A thread bound to CPU cpu for life.
void* spawn(int (*fn)(void*), void* arg, const char* name, unsigned cpu);
void join(void* thread);
unsigned long warning_count();
[[noreturn, gnu::format(printf, 1, 2)]] void die(const char* fmt, ...);

}  // namespace real
