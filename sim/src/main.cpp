// SPDX-License-Identifier: GPL-2.0
//
// splksim: runs the core on the host under the deterministic scheduler.
//
//   splksim --seed N [--ops N] [--scenario NAME] [--avoid LIST] [--cpus N] [-v]
//       one run; prints its digest (same seed, same digest) or a report
//   splksim --seeds A-B | --time SECONDS [--first-seed N] [...]
//       one child process per seed until a report or the end; prints the
//       operations per minute
//
// Everything a seed does not fix is chosen from it: CPUs, HZ, module
// parameters, scheduler probabilities, fault injection.  --avoid names
// known defects to steer around (workload.hpp): wait-id-0, tiny-debug,
// inuse, remote-magazines, stale-free, or "known" for all of them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "memory.hpp"
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"
#include "sim_config.hpp"
#include "workload.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" const char* __asan_default_options() {
  // Our own leak check runs at module unload (kmemleak's role); the
  // simulator's stacks and bookkeeping are not the core's leaks.
  return "detect_leaks=0:abort_on_error=0";
}

#ifdef SIM_ATOMIC_POINTS
namespace sim {
extern unsigned plain_point_one_in;
}
#endif

namespace {

struct Args {
  uint64_t seed = 1;
  uint64_t first = 1, last = 0;
  double time = 0;
  const char* scenario = nullptr;
  std::string avoid_text;
  unsigned avoid = 0;
  unsigned cpus = 0;
  bool verbose = false;
  uint64_t max_steps = 400000000;  // a livelock guard
  unsigned plain_points = 0;       // the points build: one plain access in N
  sim::workload::Options wl;
};

Args args;
const char* self;

unsigned parse_avoid(const char* list) {
  unsigned mask = 0;
  std::string s(list);
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t end = s.find(',', pos);
    const std::string w = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (w == "wait-id-0")
      mask |= sim::workload::kAvoidWaitId0;
    else if (w == "tiny-debug")
      mask |= sim::workload::kAvoidTinyDebug;
    else if (w == "inuse")
      mask |= sim::workload::kAvoidInuse;
    else if (w == "remote-magazines")
      mask |= sim::workload::kAvoidRemoteMag;
    else if (w == "stale-free")
      mask |= sim::workload::kAvoidStaleFree;
    else if (w == "known")
      mask |= ~0u;
    else if (!w.empty()) {
      fprintf(stderr, "splksim: unknown defect '%s' in --avoid\n", w.c_str());
      exit(2);
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return mask;
}

template <typename T>
T pick(sim::Rng& r, std::initializer_list<T> v) {
  return v.begin()[r.below(v.size())];
}

// The configuration of one seed.
sim::Config configure(uint64_t seed) {
  sim::Rng r;
  r.seed(seed ^ 0x5eed5eed5eedULL);
  sim::Config c;
  c.seed = seed;
  c.ncpus = args.cpus != 0 ? args.cpus : pick<unsigned>(r, {1, 2, 2, 3, 4, 4});
  c.hz = pick<unsigned>(r, {100, 250, 1000});
  c.tick_one_in = pick<unsigned>(r, {50, 300, 2000});
  c.preempt_one_in = pick<unsigned>(r, {8, 40, 200});
  c.irq_one_in = pick<unsigned>(r, {15, 60, 400});
  c.stay_percent = pick<unsigned>(r, {0, 50, 90});
  c.verbose = args.verbose;
  c.max_steps = args.max_steps;
  sim::knobs.nosleep_fail_one_in = pick<unsigned>(r, {0, 50, 500});
  spl_kmem_cache_magazine_size = pick<unsigned>(r, {0, 0, 2, 4});
  spl_kmem_cache_debug = r.one_in(4);
  spl_kmem_cache_depot_slack_kb = pick<unsigned>(r, {1024, 0, 4});
  spl_kmem_cache_depot_trim_ms = pick<unsigned>(r, {100, 1, 10});
  spl_kmem_cache_reap_interval_ms = pick<unsigned>(r, {15000, 100, 1000});
  if (args.avoid & sim::workload::kAvoidRemoteMag) spl_kmem_cache_reap_interval_ms = 0;
  spl_kmem_cache_depot_contention = pick<unsigned>(r, {3, 0, 1});
  spl_kmem_cache_kmem_threads = pick<unsigned>(r, {4, 1, 2});
  spl_kmem_cache_obj_per_slab = pick<unsigned>(r, {8, 8, 2, 16});
  spl_taskq_thread_dynamic = pick<int>(r, {1, 1, 0});
  spl_taskq_thread_sequential = pick<unsigned>(r, {4, 1});
  spl_taskq_thread_timeout_ms = pick<unsigned>(r, {5000, 10});
  splk_kernel.init_on_alloc = r.one_in(2);
  return c;
}

struct Result {
  uint64_t ops, steps;
};

int entry(void*) {
  if (args.scenario != nullptr) return sim::workload::run_scenario(args.scenario, args.wl);
  return sim::workload::run_random(args.wl);
}

std::string replay_for(uint64_t seed) {
  std::string cmd = std::string(self) + " --seed " + std::to_string(seed);
  if (args.scenario != nullptr)
    cmd += std::string(" --scenario ") + args.scenario;
  else
    cmd += " --ops " + std::to_string(args.wl.ops);
  if (!args.avoid_text.empty()) cmd += " --avoid " + args.avoid_text;
  if (args.cpus != 0) cmd += " --cpus " + std::to_string(args.cpus);
  if (args.plain_points != 0) cmd += " --plain-points " + std::to_string(args.plain_points);
  if (args.wl.drivers != 0) cmd += " --drivers " + std::to_string(args.wl.drivers);
  return cmd;
}

#if defined(__SANITIZE_ADDRESS__)
// A sanitizer's report ends the run: say which run it was.
void on_sanitizer_death() {
  fprintf(stderr, "splksim: the sanitizer report above came at step %llu, jiffies %llu, in %s\n",
          static_cast<unsigned long long>(sim::steps),
          static_cast<unsigned long long>(sim::jiffies),
          sim::current != nullptr ? sim::current->name : "-");
  sim::dump_threads();
  fprintf(stderr, "splksim: seed %llu; replay: %s\n",
          static_cast<unsigned long long>(sim::cfg.seed), sim::replay_command);
}
#endif

// One seed in this process.
Result run_one(uint64_t seed, bool quiet) {
  static std::string replay;
  replay = replay_for(seed);
  sim::replay_command = replay.c_str();
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_set_death_callback(on_sanitizer_death);
#endif
  const sim::Config c = configure(seed);
  sim::init(c);
  sim::mem::init();
  splk_kernel.vmalloc_start = sim::mem::vmalloc_start();
  splk_kernel.vmalloc_size = sim::mem::vmalloc_size();
  // Slab memory is "in the direct map" everywhere but the vmalloc space
  // overlaps it too (sim/README.md: the host has one address space).
  splk_kernel.direct_map_start = 0x10000;
  high_memory = reinterpret_cast<void*>(uintptr_t{1} << 47);
  splk_kernel.nr_cpu_ids = c.ncpus;
  splk_kernel.hz = c.hz;
  sim::timer_fn = splk_tq_entry_expired;
#ifdef SIM_ATOMIC_POINTS
  sim::plain_point_one_in = args.plain_points;
#endif
  sim::run_main(entry, nullptr, "init");
  if (!quiet)
    printf(
        "splksim: seed %llu passed: %u CPUs, %llu operations, %llu switch points, %llu "
        "jiffies, digest %016llx\n",
        static_cast<unsigned long long>(seed), c.ncpus,
        static_cast<unsigned long long>(sim::workload::ops_done),
        static_cast<unsigned long long>(sim::steps), static_cast<unsigned long long>(sim::jiffies),
        static_cast<unsigned long long>(sim::digest()));
  return Result{sim::workload::ops_done, sim::steps};
}

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Many seeds, one child each (the core's globals start fresh).
int run_many() {
  const double start = now();
  uint64_t ops = 0, steps = 0, runs = 0;
  for (uint64_t seed = args.first;; ++seed) {
    if (args.last != 0 && seed > args.last) break;
    if (args.time > 0 && now() - start > args.time) break;
    int fds[2];
    if (pipe(fds) != 0) return 2;
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      const Result r = run_one(seed, true);
      if (write(fds[1], &r, sizeof(r)) != sizeof(r)) sim::exit_now(3);
      sim::exit_now(0);
    }
    close(fds[1]);
    Result r{};
    const bool got = read(fds[0], &r, sizeof(r)) == sizeof(r);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      printf("splksim: seed %llu FAILED after %llu passing runs (report above); replay: %s\n",
             static_cast<unsigned long long>(seed), static_cast<unsigned long long>(runs),
             replay_for(seed).c_str());
      return 1;
    }
    ops += r.ops;
    steps += r.steps;
    ++runs;
  }
  const double secs = now() - start;
  printf(
      "splksim: %llu runs passed (seeds %llu-%llu) in %.1f s: %llu operations, %.0f per "
      "minute; %llu switch points\n",
      static_cast<unsigned long long>(runs), static_cast<unsigned long long>(args.first),
      static_cast<unsigned long long>(args.first + runs - 1), secs,
      static_cast<unsigned long long>(ops), secs > 0 ? ops * 60.0 / secs : 0.0,
      static_cast<unsigned long long>(steps));
  return runs > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  self = argv[0];
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "splksim: %s needs a value\n", a);
        exit(2);
      }
      return argv[++i];
    };
    if (!strcmp(a, "--seed"))
      args.seed = strtoull(val(), nullptr, 0);
    else if (!strcmp(a, "--seeds")) {
      const char* v = val();
      args.first = strtoull(v, nullptr, 0);
      const char* dash = strchr(v, '-');
      args.last = dash ? strtoull(dash + 1, nullptr, 0) : args.first;
    } else if (!strcmp(a, "--first-seed"))
      args.first = strtoull(val(), nullptr, 0);
    else if (!strcmp(a, "--time"))
      args.time = atof(val());
    else if (!strcmp(a, "--ops"))
      args.wl.ops = strtoull(val(), nullptr, 0);
    else if (!strcmp(a, "--drivers"))
      args.wl.drivers = static_cast<unsigned>(atoi(val()));
    else if (!strcmp(a, "--scenario"))
      args.scenario = val();
    else if (!strcmp(a, "--avoid")) {
      args.avoid_text = val();
      args.avoid = parse_avoid(args.avoid_text.c_str());
    } else if (!strcmp(a, "--cpus"))
      args.cpus = static_cast<unsigned>(atoi(val()));
    else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
      args.verbose = true;
    else if (!strcmp(a, "--plain-points"))
      args.plain_points = static_cast<unsigned>(atoi(val()));
    else if (!strcmp(a, "--max-steps"))
      args.max_steps = strtoull(val(), nullptr, 0);
    else {
      fprintf(stderr,
              "usage: splksim [--seed N | --seeds A-B | --time S [--first-seed N]] [--ops N] "
              "[--drivers N] [--scenario "
              "taskq-wait-id-0|debug-tiny|magazine-uaf|inuse-wrap|stale-free] "
              "[--avoid wait-id-0,tiny-debug,inuse,remote-magazines,stale-free|known] [--cpus N] "
              "[-v]\n");
      return 2;
    }
  }
  args.wl.avoid = args.avoid;
  if (args.time > 0 || args.last != 0) return run_many();
  run_one(args.seed, false);
  return 0;
}
