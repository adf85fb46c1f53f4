// SPDX-License-Identifier: GPL-2.0
//
// The deterministic scheduler (design in sched.hpp).
#include "sched.hpp"

#include <asm/prctl.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "report.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define SIM_ASAN 1
#else
#define SIM_ASAN 0
#endif

namespace sim {

Config cfg;
Rng rng;
uint64_t jiffies;
uint64_t steps;
Thread* current;
void (*irq_hook)(unsigned cpu);
void (*point_hook)();
void (*timer_fn)(void* entry);

namespace {

constexpr unsigned kMaxCpus = 8;
constexpr size_t kStackSize = SIM_ASAN ? 1024 * 1024 : 256 * 1024;
constexpr size_t kPerCpuUnit = 1 << 20;

struct Cpu {
  bool offline;  // or going offline: no thread is placed on it
  Thread* cur;
  Thread* ksoftirqd;
  Thread* kworker;
  std::deque<std::pair<void (*)(void*), void*>>* work;  // for kworker
};

Cpu cpus[kMaxCpus];
std::vector<Thread*> runq;
std::vector<Thread*> all_threads;
std::vector<char*> free_stacks;
std::vector<Thread*> zombies;
Thread host;
Thread* main_thread;
int next_tid = 1;
char* percpu_area;
bool have_wrgsbase;
int gs_cpu = -2;
uint64_t event_seq = 1;
uint64_t hash = 0xcbf29ce484222325ULL;

struct Event {
  Thread* thread;
  sim_timer* timer;
};
std::map<std::pair<uint64_t, uint64_t>, Event> events;
std::deque<sim_timer*> due;  // expired timers not yet run
// Timers whose callback runs, and where: kept out of the timer, which its
// callback may free (the kernel keeps this in the timer base).
std::vector<std::pair<const sim_timer*, int>> running_timers;

bool timer_running(const sim_timer* tm) {
  for (const auto& r : running_timers)
    if (r.first == tm) return true;
  return false;
}

struct TraceEntry {
  uint64_t step, jiffies;
  int tid, cpu;
  const char* what;
  uint64_t a;
};
constexpr unsigned kTrace = 64;
TraceEntry ring[kTrace];
unsigned ring_pos;

// ---- ASan fiber annotations -------------------------------------------------

[[maybe_unused]] const void* host_stack_bottom;
[[maybe_unused]] size_t host_stack_size;

void start_switch(Thread* from, Thread* to) {
#if SIM_ASAN
  const void* bottom = to == &host ? host_stack_bottom : to->stack;
  const size_t size = to == &host ? host_stack_size : to->stack_size;
  __sanitizer_start_switch_fiber(from != nullptr ? &from->fake_stack : nullptr, bottom, size);
#else
  (void)from;
  (void)to;
#endif
}

void finish_switch(Thread* self) {
#if SIM_ASAN
  const void* bottom;
  size_t size;
  __sanitizer_finish_switch_fiber(self != nullptr ? self->fake_stack : nullptr, &bottom, &size);
  if (self == &host || (self == nullptr && host_stack_bottom == nullptr)) {
    host_stack_bottom = bottom;
    host_stack_size = size;
  }
#else
  (void)self;
#endif
}

// ---- GS base: the per-CPU areas --------------------------------------------

void write_gs(uintptr_t base) {
  if (have_wrgsbase)
    asm volatile("wrgsbase %0" : : "r"(base) : "memory");
  else if (syscall(SYS_arch_prctl, ARCH_SET_GS, base) != 0)
    fail("host", "arch_prctl(ARCH_SET_GS) failed");
}

// ---- Threads ----------------------------------------------------------------

char* get_stack() {
  if (!free_stacks.empty()) {
    char* s = free_stacks.back();
    free_stacks.pop_back();
    return s;
  }
  void* s = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) fail("host", "no memory for a thread stack");
  return static_cast<char*>(s);
}

void reap_zombies() {
  while (!zombies.empty()) {
    Thread* z = zombies.back();
    zombies.pop_back();
    free_stacks.push_back(z->stack);
    z->stack = nullptr;
  }
}

void switch_to(Thread* next) {
  Thread* prev = current;
  current = next;
  if (prev == next) {
    set_gs_for(next->cpu);
    return;
  }
  start_switch(prev->run == Run::kDead ? nullptr : prev, next);
  swapcontext(&prev->ctx, &next->ctx);
  // prev runs again.
  finish_switch(prev);
  if (prev != &host) set_gs_for(prev->cpu);
  reap_zombies();
}

void leave_cpu(Thread* t) {
  if (t->cpu >= 0) cpus[t->cpu].cur = nullptr;
  t->cpu = -1;
}

bool spin_blocked(const Thread* t) {
  switch (t->spin) {
    case Spin::kNone:
      return false;
    case Spin::kLock:
      return static_cast<const sim_spinlock*>(t->spin_on)->owner != 0;
    case Spin::kTimer:
      return timer_running(static_cast<const sim_timer*>(t->spin_on));
  }
  return false;
}

bool preemptible(const Thread* t) {
  return !t->irqs_off && t->spins_held == 0 && t->in_irq == 0 && t->atomic == 0;
}

void fill_idle_cpus() {
  if (runq.empty()) return;
  for (unsigned c = 0; c < cfg.ncpus && !runq.empty(); ++c) {
    if (cpus[c].cur != nullptr) continue;
    // An offline CPU still runs its own kworker's last work.
    const bool off = cpus[c].offline;
    unsigned eligible[64];
    unsigned n = 0;
    for (unsigned i = 0; i < runq.size() && n < 64; ++i)
      if ((runq[i]->bound < 0 && !off) || runq[i]->bound == static_cast<int>(c)) eligible[n++] = i;
    if (n == 0) continue;
    const unsigned i = eligible[rng.below(n)];
    Thread* t = runq[i];
    runq.erase(runq.begin() + i);
    t->cpu = static_cast<int>(c);
    cpus[c].cur = t;
  }
}

void add_event(uint64_t at, Thread* t, sim_timer* timer) {
  const uint64_t seq = event_seq++;
  events.emplace(std::make_pair(at, seq), Event{t, timer});
  if (t != nullptr) {
    t->ev_at = at;
    t->ev_seq = seq;
  } else {
    timer->expires = at;
    timer->seq = seq;
  }
}

void wake_ksoftirqd() {
  // A random online CPU's: timers expire on whichever CPU took the tick.
  unsigned c = static_cast<unsigned>(rng.below(cfg.ncpus));
  while (cpus[c].offline) c = (c + 1) % cfg.ncpus;
  Thread* k = cpus[c].ksoftirqd;
  if (k != nullptr) wake(k);
}

void hung_check() {
  const uint64_t limit = cfg.hung_seconds * cfg.hz;
  const Thread* hung = nullptr;
  for (const Thread* t : all_threads) {
    if (t->run != Run::kBlocked || t->interruptible || jiffies - t->blocked_since <= limit)
      continue;
    // A join waits for a thread that is running or itself stuck: that
    // one is reported when it is.
    if (strncmp(t->wait_what, "join", 4) == 0) continue;
    hung = t;
    break;
  }
  if (hung != nullptr)
    fail("hung task",
         "%s blocked for more than %llu simulated seconds in %s (an uninterruptible wait that "
         "never ends)",
         hung->name, static_cast<unsigned long long>(cfg.hung_seconds), hung->wait_what);
}

void process_events() {
  bool timers = false;
  while (!events.empty() && events.begin()->first.first <= jiffies) {
    const Event e = events.begin()->second;
    events.erase(events.begin());
    if (e.thread != nullptr) {
      e.thread->ev_seq = 0;
      e.thread->timed_out = true;
      wake(e.thread);
    } else {
      e.timer->armed = 2;
      due.push_back(e.timer);
      timers = true;
    }
  }
  if (timers) wake_ksoftirqd();
}

void tick(uint64_t n) {
  jiffies += n;
  process_events();
  hung_check();
}

// Nothing can run on any CPU: time passes to the next event.
void advance_idle() {
  if (events.empty()) {
    fail("deadlock",
         "no thread can run and nothing is scheduled to wake one: every thread waits for "
         "something that will never happen");
  }
  const uint64_t at = events.begin()->first.first;
  if (at > jiffies) jiffies = at;
  process_events();
  hung_check();
}

void schedule_next() {
  for (;;) {
    fill_idle_cpus();
    Thread* cands[kMaxCpus];
    unsigned n = 0;
    bool any = false;
    bool self = false;
    for (unsigned c = 0; c < cfg.ncpus; ++c) {
      Thread* x = cpus[c].cur;
      if (x == nullptr) continue;
      any = true;
      if (spin_blocked(x)) continue;
      if (x == current) self = true;
      cands[n++] = x;
    }
    if (n > 0) {
      Thread* next = self && rng.percent(cfg.stay_percent) ? current : cands[rng.below(n)];
      switch_to(next);
      return;
    }
    if (any)
      fail("deadlock", "every thread on a CPU spins on a spinlock or timer that is never released");
    advance_idle();
  }
}

void run_timer(sim_timer* tm) {
  if (tm->magic != SIM_TIMER_MAGIC) fail("timer", "an expired timer %p has a bad magic", tm);
  tm->armed = 0;
  running_timers.emplace_back(tm, current->id);
  trace("timer");
  timer_fn(tm->entry);
  for (auto it = running_timers.begin(); it != running_timers.end(); ++it) {
    if (it->first == tm && it->second == current->id) {
      running_timers.erase(it);
      break;
    }
  }
}

// Timers run in softirq context: not preemptible, may not sleep.
void run_due_timers(unsigned max) {
  while (!due.empty() && max-- > 0) {
    sim_timer* tm = due.front();
    due.pop_front();
    current->atomic++;
    run_timer(tm);
    current->atomic--;
  }
}

int ksoftirqd_main(void*) {
  for (;;) {
    run_due_timers(~0u);
    current->sleep_state = 2;
    block("ksoftirqd idle", true, -1, true);
  }
}

int kworker_main(void* arg) {
  auto* cpu = static_cast<Cpu*>(arg);
  for (;;) {
    while (!cpu->work->empty()) {
      auto [fn, fnarg] = cpu->work->front();
      cpu->work->pop_front();
      fn(fnarg);
    }
    current->sleep_state = 2;
    block("kworker idle", true, -1, true);
  }
}

void interrupt(Thread* t) {
  t->in_irq++;
  // A warning the interrupted call provokes is not the handler's.
  const unsigned expected = t->expected_warnings;
  t->expected_warnings = 0;
  const bool saved = t->irqs_off;
  t->irqs_off = true;
  trace("irq");
  run_due_timers(4);
  if (irq_hook != nullptr) irq_hook(static_cast<unsigned>(t->cpu));
  t->irqs_off = saved;
  t->expected_warnings = expected;
  t->in_irq--;
}

[[noreturn]] void exit_current() {
  Thread* t = current;
  t->exited = true;
  if (t->joiner != nullptr) wake(t->joiner);
  if (t == main_thread) {
    t->run = Run::kDead;
    leave_cpu(t);
    current = &host;
    start_switch(nullptr, &host);
    setcontext(&host.ctx);
  }
  t->run = Run::kDead;
  leave_cpu(t);
  zombies.push_back(t);
  schedule_next();
  fail("scheduler", "a dead thread ran again");
}

void trampoline() {
  finish_switch(nullptr);
  Thread* t = current;
  set_gs_for(t->cpu);
  reap_zombies();
  t->ret = t->fn(t->arg);
  exit_current();
}

}  // namespace

const std::vector<Thread*>& threads() { return all_threads; }

// ---- Public -------------------------------------------------------------------

void init(const Config& c) {
  cfg = c;
  if (cfg.ncpus < 1 || cfg.ncpus > kMaxCpus) fail("config", "1 to %u CPUs", kMaxCpus);
  rng.seed(cfg.seed);
  // INITIAL_JIFFIES: the kernel starts 5 minutes before the 32-bit wrap.
  jiffies = static_cast<uint64_t>(static_cast<uint32_t>(-300 * static_cast<int>(cfg.hz)));
  have_wrgsbase = (getauxval(AT_HWCAP2) & 2) != 0;  // HWCAP2_FSGSBASE
  percpu_area = static_cast<char*>(mmap(nullptr, kPerCpuUnit * cfg.ncpus, PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (percpu_area == MAP_FAILED) fail("host", "no memory for the per-CPU areas");
  host.id = 0;
  strcpy(host.name, "host");
  host.cpu = -1;
  host.bound = -1;
  current = &host;
}

uintptr_t percpu_base(unsigned cpu) {
  return reinterpret_cast<uintptr_t>(percpu_area) + cpu * kPerCpuUnit;
}

void set_gs_for(unsigned cpu) {
  if (static_cast<int>(cpu) == gs_cpu || static_cast<int>(cpu) < 0) return;
  gs_cpu = static_cast<int>(cpu);
  write_gs(percpu_base(cpu));
}

Thread* spawn(int (*fn)(void*), void* arg, const char* name, int bound_cpu) {
  auto* t = static_cast<Thread*>(calloc(1, sizeof(Thread)));
  t->id = next_tid++;
  snprintf(t->name, sizeof(t->name), "%s", name);
  t->fn = fn;
  t->arg = arg;
  t->cpu = -1;
  t->bound = bound_cpu;
  t->run = Run::kRunnable;
  t->stack = get_stack();
  t->stack_size = kStackSize;
  getcontext(&t->ctx);
  t->ctx.uc_stack.ss_sp = t->stack;
  t->ctx.uc_stack.ss_size = t->stack_size;
  t->ctx.uc_link = nullptr;
  makecontext(&t->ctx, trampoline, 0);
  all_threads.push_back(t);
  runq.push_back(t);
  trace("spawn", static_cast<uint64_t>(t->id));
  return t;
}

int join(Thread* t) {
  check_may_sleep("join");
  while (!t->exited) {
    t->joiner = current;
    current->sleep_state = 1;
    block("join (kthread_stop)", false, -1, true);
  }
  return t->ret;
}

int run_main(int (*fn)(void*), void* arg, const char* name) {
  for (unsigned c = 0; c < cfg.ncpus; ++c) {
    char n[32];
    cpus[c].work = new std::deque<std::pair<void (*)(void*), void*>>;
    snprintf(n, sizeof(n), "ksoftirqd/%u", c);
    cpus[c].ksoftirqd = spawn(ksoftirqd_main, nullptr, n, static_cast<int>(c));
    snprintf(n, sizeof(n), "kworker/%u", c);
    cpus[c].kworker = spawn(kworker_main, &cpus[c], n, static_cast<int>(c));
  }
  main_thread = spawn(fn, arg, name, -1);
  main_thread->is_driver = true;
  // Let every thread start and settle (the per-CPU threads go idle).
  fill_idle_cpus();
  Thread* first = cpus[0].cur;
  getcontext(&host.ctx);
  if (main_thread->run != Run::kDead) {
    current = &host;
    start_switch(&host, first);
    current = first;
    swapcontext(&host.ctx, &first->ctx);
    finish_switch(&host);
  }
  current = &host;
  return main_thread->ret;
}

void point(const char* what, Point kind) {
  Thread* t = current;
  if (t == &host || t == nullptr) return;
  if (point_hook != nullptr) point_hook();
  ++steps;
  trace(what);
  if (cfg.max_steps != 0 && steps > cfg.max_steps)
    fail("budget", "more than %llu switch points (a livelock?), digest %016llx",
         static_cast<unsigned long long>(cfg.max_steps), static_cast<unsigned long long>(digest()));
  if (rng.one_in(cfg.tick_one_in)) tick(1);
  if (!t->irqs_off && t->in_irq == 0 && t->atomic == 0) {
    const unsigned one_in = kind == kIrqEnable ? cfg.irq_one_in / 4 + 1 : cfg.irq_one_in;
    if ((!due.empty() && rng.one_in(4)) || rng.one_in(one_in)) interrupt(t);
  }
  // A CPU going offline: its thread leaves at its first preemptible point.
  if (preemptible(t) &&
      ((cpus[t->cpu].offline && t->bound < 0) || rng.one_in(cfg.preempt_one_in))) {
    leave_cpu(t);
    runq.push_back(t);
  }
  schedule_next();
}

bool block(const char* what, bool interruptible, int64_t timeout, bool prepared_only) {
  Thread* t = current;
  if (prepared_only && t->sleep_state == 0) return true;  // woken before it slept
  t->sleep_state = 0;
  t->timed_out = false;
  if (timeout == 0) return false;
  ++steps;
  trace(what);
  t->run = Run::kBlocked;
  t->interruptible = interruptible;
  t->wait_what = what;
  t->blocked_since = jiffies;
  if (timeout > 0) add_event(jiffies + static_cast<uint64_t>(timeout), t, nullptr);
  leave_cpu(t);
  schedule_next();
  return !t->timed_out;
}

void wake(Thread* t) {
  t->sleep_state = 0;
  if (t->run != Run::kBlocked) return;
  if (t->ev_seq != 0) {
    events.erase(std::make_pair(t->ev_at, t->ev_seq));
    t->ev_seq = 0;
  }
  t->run = Run::kRunnable;
  runq.push_back(t);
}

void spin_wait(Spin kind, const void* on) {
  current->spin = kind;
  current->spin_on = on;
  ++steps;
  schedule_next();
  current->spin = Spin::kNone;
  current->spin_on = nullptr;
}

bool may_sleep() {
  const Thread* t = current;
  return t == &host || (!t->irqs_off && t->spins_held == 0 && t->in_irq == 0 && t->atomic == 0);
}

void check_may_sleep(const char* what) {
  if (may_sleep()) return;
  const Thread* t = current;
  fail("sleep in atomic context",
       "BUG: sleeping function called from invalid context (%s): irqs_disabled %d, spinlocks "
       "held %d, in interrupt %d, atomic %d",
       what, t->irqs_off, t->spins_held, t->in_irq, t->atomic);
}

void timer_arm(sim_timer* tm, uint64_t expires) {
  timer_disarm(tm);
  tm->armed = 1;
  add_event(expires, nullptr, tm);
}

int timer_running_on(const sim_timer* tm) {
  for (const auto& r : running_timers)
    if (r.first == tm) return r.second;
  return -1;
}

bool timer_disarm(sim_timer* tm) {
  if (tm->armed == 1) {
    events.erase(std::make_pair(tm->expires, tm->seq));
    tm->armed = 0;
    return true;
  }
  if (tm->armed == 2) {
    for (auto it = due.begin(); it != due.end(); ++it) {
      if (*it == tm) {
        due.erase(it);
        break;
      }
    }
    tm->armed = 0;
    return true;
  }
  return false;
}

bool cpu_online(unsigned cpu) { return cpu < cfg.ncpus && !cpus[cpu].offline; }

unsigned cpus_online() {
  unsigned n = 0;
  for (unsigned c = 0; c < cfg.ncpus; ++c) n += !cpus[c].offline;
  return n;
}

void cpu_down(unsigned cpu) {
  check_may_sleep("cpu_down");
  if (cpu == 0 || cpus[cpu].offline) return;
  trace("cpu_down", cpu);
  cpus[cpu].offline = true;
  // Its threads leave at their next preemptible point; the work queued
  // before stays bound to it: its kworker finishes it there.
  for (;;) {
    if (current->cpu == static_cast<int>(cpu)) {
      leave_cpu(current);
      runq.push_back(current);
      schedule_next();
      continue;
    }
    if (cpus[cpu].cur == nullptr && cpus[cpu].work->empty() &&
        cpus[cpu].kworker->run != Run::kRunnable)
      break;
    block("cpu_down", false, 1);
  }
}

void cpu_up(unsigned cpu) {
  trace("cpu_up", cpu);
  cpus[cpu].offline = false;
}

void work_on_cpu(unsigned cpu, void (*fn)(void*), void* arg) {
  check_may_sleep("work_on_cpu");
  struct Done {
    void (*fn)(void*);
    void* arg;
    Thread* waiter;
    bool done;
  } d{fn, arg, current, false};
  cpus[cpu].work->emplace_back(
      [](void* p) {
        auto* d = static_cast<Done*>(p);
        d->fn(d->arg);
        d->done = true;
        wake(d->waiter);
      },
      &d);
  wake(cpus[cpu].kworker);
  while (!d.done) {
    current->sleep_state = 1;
    block("work_on_cpu (flush)", false, -1, true);
  }
}

// ---- Trace ---------------------------------------------------------------------

void trace(const char* what, uint64_t a) {
  const int tid = current != nullptr ? current->id : -1;
  const int cpu = current != nullptr ? current->cpu : -1;
  ring[ring_pos++ % kTrace] = TraceEntry{steps, jiffies, tid, cpu, what, a};
  uint64_t h = hash;
  h = (h ^ static_cast<uint64_t>(tid * 64 + cpu + 1)) * 0x100000001b3ULL;
  for (const char* p = what; *p; ++p) h = (h ^ static_cast<uint8_t>(*p)) * 0x100000001b3ULL;
  h = (h ^ a) * 0x100000001b3ULL;
  hash = h;
}

uint64_t digest() { return hash ^ jiffies ^ (steps << 17); }

void dump_threads() {
  fprintf(stderr, "threads (idle ones counted, not listed):\n");
  unsigned idle = 0;
  for (const Thread* t : all_threads) {
    if (t->run == Run::kDead) continue;
    if (t->run == Run::kBlocked && t->interruptible) {
      ++idle;
      continue;
    }
    fprintf(stderr, "  %-28s %s", t->name,
            t->run == Run::kBlocked ? "blocked" : (t->cpu >= 0 ? "on CPU" : "runnable"));
    if (t->cpu >= 0) fprintf(stderr, " %d", t->cpu);
    if (t->run == Run::kBlocked) {
      fprintf(stderr, " in %s%s since jiffy %llu", t->wait_what,
              t->interruptible ? " (interruptible)" : "",
              static_cast<unsigned long long>(t->blocked_since));
      if (t->wait_site != nullptr) {
        void* site = t->wait_site;
        char** sym = backtrace_symbols(&site, 1);
        fprintf(stderr, ", called from %s", sym != nullptr ? sym[0] : "?");
      }
    }
    if (t->spin != Spin::kNone) fprintf(stderr, " spinning");
    if (t->irqs_off) fprintf(stderr, " irqs-off");
    if (t->spins_held) fprintf(stderr, " locks-held=%d", t->spins_held);
    fputc('\n', stderr);
  }
  fprintf(stderr, "  and %u idle threads (interruptible waits)\n", idle);
}

void dump_trace() {
  fprintf(stderr, "last scheduling events (step jiffies thread cpu what):\n");
  for (unsigned i = 0; i < kTrace; ++i) {
    const TraceEntry& e = ring[(ring_pos + i) % kTrace];
    if (e.what == nullptr) continue;
    const char* name = "-";
    for (const Thread* t : all_threads)
      if (t->id == e.tid) name = t->name;
    fprintf(stderr, "  %8llu %10llu %-24s %2d %s %llu\n", static_cast<unsigned long long>(e.step),
            static_cast<unsigned long long>(e.jiffies), name, e.cpu, e.what,
            static_cast<unsigned long long>(e.a));
  }
}

}  // namespace sim
