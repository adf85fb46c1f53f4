// SPDX-License-Identifier: GPL-2.0
//
// The deterministic scheduler: simulated CPUs, simulated threads
// (coroutines on their own stacks, ucontext), one seeded PRNG deciding
// everything, a simulated clock (jiffies), timed events, timers and
// interrupts.
//
// Model.  Each simulated CPU runs at most one thread at a time (its
// current); threads that may run but have no CPU wait on a run queue.
// Only one host thread exists, so "running in parallel" means: at every
// switch point (every seam call the core makes) the scheduler picks which
// CPU's current thread executes next.  At a switch point it may also
//   - advance the clock by a jiffy (and expire what is due),
//   - inject an interrupt on the CPU of the thread at the switch point, if
//     that thread has interrupts on: the handler runs on the thread's
//     stack, as a real one runs on the interrupted context,
//   - preempt the thread, if it is preemptible (interrupts on, no spinlock
//     held, not in an interrupt or timer): it goes back to the run queue
//     and its CPU takes any runnable thread (so threads migrate),
// and it fills idle CPUs from the run queue.  A thread that blocks leaves
// its CPU.  When no CPU has a thread to run, the clock jumps to the next
// timed event; when there is none, nothing can ever run again and the run
// is reported as a deadlock.  A thread in an uninterruptible wait for
// longer than the hung-task timeout is reported as hung (the kernel's
// hung task detector), so that a wait that never ends is found even while
// periodic work keeps the clock moving.
//
// Each CPU has its per-CPU area; the x86-64 GS base of the host thread is
// set to the area of the CPU whose thread runs, so the core's %gs-relative
// per-CPU reads (cpu_local.hpp) read the simulated CPU's copy unchanged.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

#include <vector>

#include "rng.hpp"
#include "sim_objects.h"

namespace sim {

enum class Run { kRunnable, kBlocked, kDead };

// What a thread is doing while it cannot make progress but keeps its CPU.
enum class Spin { kNone, kLock, kTimer };

struct Thread {
  int id;
  char name[48];
  ucontext_t ctx;
  char* stack;
  size_t stack_size;
  void* fake_stack;  // ASan's, across switches

  int (*fn)(void*);
  void* arg;
  int ret;

  Run run;
  int cpu;    // the CPU it is current on, -1 when off CPU
  int bound;  // -1, or the only CPU it may run on

  // Context: what the kernel would track in preempt_count and the flags.
  bool irqs_off;
  int spins_held;
  int in_irq;  // interrupt handlers and timer callbacks
  int atomic;  // other sections that must not sleep

  Spin spin;
  const void* spin_on;

  // Sleeping: the kernel's prepare-then-schedule idiom.
  int sleep_state;  // 0 running, 1 prepared (TASK_UNINTERRUPTIBLE), 2 interruptible
  bool interruptible;
  bool timed_out;
  uint64_t blocked_since;
  const char* wait_what;
  void* wait_site;         // the seam's caller, for reports
  uint64_t ev_at, ev_seq;  // its timeout's timed event (ev_seq 0: none)
  struct sim_waitq* wq;
  Thread* wq_next;
  Thread* wq_prev;

  // kthread
  bool should_stop;
  bool exited;
  Thread* joiner;
  bool fault_inject;
  bool is_driver;              // a workload thread: never left blocked at the end
  unsigned expected_warnings;  // splk_warn()s its current call provokes
  int rcu_nesting;             // splk_rcu_read_lock() depth
};

struct Config {
  uint64_t seed = 1;
  unsigned ncpus = 2;
  unsigned hz = 250;
  // Probabilities, as "one in N" (0: never).
  unsigned tick_one_in = 300;    // a jiffy passes at a switch point
  unsigned preempt_one_in = 40;  // a preemptible thread is preempted
  unsigned irq_one_in = 60;      // an interrupt at an interrupts-on point
  unsigned stay_percent = 50;    // the running thread keeps running
  uint64_t hung_seconds = 120;   // the hung-task timeout, simulated
  uint64_t max_steps = 0;        // 0: unlimited
  bool verbose = false;
};

extern Config cfg;
extern Rng rng;
extern uint64_t jiffies;
extern uint64_t steps;
extern Thread* current;

// Called by the scheduler at interrupt points, on the interrupted thread's
// stack with in_irq set and interrupts off (the workload's handlers).
extern void (*irq_hook)(unsigned cpu);
// Called at every switch point before anything else (seam_rcu.cpp: the
// grace periods that may have ended).
extern void (*point_hook)();
// Every thread ever spawned (never freed; dead ones are kDead).
const std::vector<Thread*>& threads();

void init(const Config& c);
// Runs fn(arg) as the first simulated thread and returns when it ends
// (the rest of the threads are left where they are).
int run_main(int (*fn)(void*), void* arg, const char* name);

Thread* spawn(int (*fn)(void*), void* arg, const char* name, int bound_cpu);
// Waits for t to end; returns its result (the thread is freed later).
int join(Thread* t);

// The switch point, at every seam call.  kind says what it is.
enum Point { kPlain, kIrqEnable, kLock, kClock, kAlloc, kWake, kOtherCpu };
void point(const char* what, Point kind = kPlain);

// Blocks the current thread (it leaves its CPU) until wake() or, with
// timeout >= 0, that many jiffies; false when it timed out.  Only blocks
// if sleep_state is still "prepared" when prepared_only is set (the
// wake-up came between prepare and schedule: no sleep, as in the kernel).
bool block(const char* what, bool interruptible, int64_t timeout, bool prepared_only = false);
void wake(Thread* t);
// Keeps the CPU but lets others run until the condition the spin names
// clears (spinlock owner, running timer).
void spin_wait(Spin kind, const void* on);

// The context checks the kernel makes (might_sleep()).
bool may_sleep();
void check_may_sleep(const char* what);

// Timers (struct sim_timer) and the timed events.
void timer_arm(struct sim_timer* t, uint64_t expires);
bool timer_disarm(struct sim_timer* t);  // true when it was armed
// The thread id whose CPU runs t's callback now, -1 when none.
int timer_running_on(const struct sim_timer* t);
extern void (*timer_fn)(void* entry);
// Work for the kworker bound to cpu (the kernel's work_on_cpu()): runs
// fn(arg) there and returns when it is done.  May sleep.
void work_on_cpu(unsigned cpu, void (*fn)(void*), void* arg);

// CPU hotplug.  cpu_down() (process context, may sleep) takes a CPU out
// of scheduling once its current thread leaves it at a preemptible point
// and its kworker has no work left; cpu_up() brings it back.  CPU 0 stays.
bool cpu_online(unsigned cpu);
unsigned cpus_online();
void cpu_down(unsigned cpu);
void cpu_up(unsigned cpu);

// Per-CPU areas.
uintptr_t percpu_base(unsigned cpu);
void set_gs_for(unsigned cpu);

// The running trace digest (same seed, same digest) and the trace ring.
void trace(const char* what, uint64_t a = 0);
uint64_t digest();
void dump_threads();
void dump_trace();

}  // namespace sim
