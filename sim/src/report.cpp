// SPDX-License-Identifier: GPL-2.0
//
// Reports (report.hpp).
#include "report.hpp"

#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sched.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace sim {

const char* replay_command = "build/sim/gcc/splksim";

#ifdef SIM_COVERAGE
extern "C" void __gcov_dump(void);
#endif

void exit_now(int status) {
#ifdef SIM_COVERAGE
  __gcov_dump();
#endif
  _exit(status);
}

void note(const char* fmt, ...) {
  if (!cfg.verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[%8llu j=%llu %s/%d] ", static_cast<unsigned long long>(steps),
          static_cast<unsigned long long>(jiffies), current ? current->name : "-",
          current ? current->cpu : -1);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void fail(const char* kind, const char* fmt, ...) {
  fflush(stdout);
  fprintf(stderr, "\nsplksim: FAIL: %s: ", kind);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n  at step %llu, jiffies %llu, thread %s on CPU %d\n",
          static_cast<unsigned long long>(steps), static_cast<unsigned long long>(jiffies),
          current ? current->name : "-", current ? current->cpu : -1);
  dump_threads();
  dump_trace();
  fprintf(stderr, "host stack:\n");
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_print_stack_trace();
#else
  void* frames[32];
  const int n = backtrace(frames, 32);
  backtrace_symbols_fd(frames, n, 2);
#endif
  fprintf(stderr, "splksim: seed %llu; replay: %s\n", static_cast<unsigned long long>(cfg.seed),
          replay_command);
  fflush(stderr);
  exit_now(1);
}

}  // namespace sim
