// SPDX-License-Identifier: GPL-2.0
//
// Reports: a failing run says what it found, which thread on which CPU at
// which step and jiffy, the threads' states, the last scheduling events,
// the host stack, then its seed and the one command that replays it, and
// exits non-zero.  Nothing is retried or hidden: a report ends the run.
#pragma once

namespace sim {

// The replay command of this run (set by main from its arguments).
extern const char* replay_command;

[[noreturn, gnu::format(printf, 2, 3)]] void fail(const char* kind, const char* fmt, ...);
// Ends the process: _exit(), after writing gcov's counters in the
// coverage build (which _exit() would lose).
[[noreturn]] void exit_now(int status);
// Log lines of the run (the core's splk_log, the workload's notes).
[[gnu::format(printf, 1, 2)]] void note(const char* fmt, ...);

}  // namespace sim
