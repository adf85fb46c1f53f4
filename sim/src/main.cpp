// SPDX-License-Identifier: GPL-2.0
//
// splksim: runs the core on the host under the deterministic scheduler.
//
//   splksim --seed N [--ops N] [--scenario NAME] [--avoid LIST] [--cpus N] [-v]
//       one run; prints its digest (same seed, same digest) or a report
//   splksim --seeds A-B | --time SECONDS [--first-seed N] [...]
//       one child process per seed until a report or the end; prints the
//       operations per minute
//   splksim --input FILE [...]
//       one run of an operation sequence (the fuzzer's format, below)
//
// The fuzzer (built with -DSIM_FUZZ, make fuzz) runs the same code from
// LLVMFuzzerTestOneInput.  Its input, and --input's: the first 8 bytes
// (little-endian, missing ones 0) are the seed, which fixes the
// configuration and the scheduler as --seed does; the rest are the
// workload's choices (workload.cpp, Choices).
//
// Everything a seed does not fix is chosen from it: CPUs, HZ, module
// parameters, scheduler probabilities, fault injection.  --avoid names
// known defects to steer around (workload.hpp): wait-id-0, tiny-debug,
// inuse, remote-magazines, stale-free, or "known" for all of them.
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

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
  const char* input = nullptr;     // --input FILE
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
  if (args.input != nullptr)
    cmd = std::string(self) + " --input " + args.input;
  else if (args.scenario != nullptr)
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

// An operation sequence: its seed, and the choices after it.
uint64_t seed_of(const uint8_t* data, size_t size) {
  uint64_t seed = 0;
  for (size_t i = 0; i < 8 && i < size; ++i) seed |= uint64_t{data[i]} << (8 * i);
  args.wl.data = size > 8 ? data + 8 : data + size;
  args.wl.size = size > 8 ? size - 8 : 0;
  args.wl.ops = ~uint64_t{0} >> 1;  // until the choices run out
  return seed;
}

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
  // Two NUMA nodes on odd seeds (seam_threads.cpp): no draw of the rng, so
  // every seed's run is what it was apart from the node parts.
  splk_kernel.node_ids = c.ncpus >= 2 && (seed & 1) ? 2 : 1;
  splk_kernel.hz = c.hz;
  sim::timer_fn = splk_taskq_entry_expired;
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
[[maybe_unused]] int run_many() {
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

#ifdef SIM_FUZZ
// ---- The fuzzer (libFuzzer) ----------------------------------------------
//
// The core keeps global state from load to unload and the scheduler runs
// on coroutines: one run per process is what the simulation supports.
// So each input runs in a child, and the child's coverage counters (the
// inline 8-bit counters of -fsanitize=fuzzer, section __sancov_cntrs)
// come back through a shared mapping into the parent's, where libFuzzer
// reads them.  A report in the child (any exit but 0, any signal) aborts
// the parent, so libFuzzer keeps the input as a crash; the child's
// report is above it.  (The section is found in /proc/self/exe: naming
// the linker's __start___sancov_cntrs here keeps the compiler's module
// constructor from registering the counters with libFuzzer.)
static uint8_t* counters;
static size_t ncounters;
static uint8_t* shared_counters;

static int find_load_bias(dl_phdr_info* info, size_t, void* bias) {
  *static_cast<uintptr_t*>(bias) = info->dlpi_addr;  // the first is the program
  return 1;
}

static void find_counters() {
  FILE* f = fopen("/proc/self/exe", "rb");
  if (f == nullptr) return;
  Elf64_Ehdr eh;
  std::vector<Elf64_Shdr> sh;
  std::vector<char> names;
  if (fread(&eh, sizeof(eh), 1, f) == 1 && eh.e_shentsize == sizeof(Elf64_Shdr)) {
    sh.resize(eh.e_shnum);
    if (fseek(f, static_cast<long>(eh.e_shoff), SEEK_SET) != 0 ||
        fread(sh.data(), sizeof(Elf64_Shdr), sh.size(), f) != sh.size())
      sh.clear();
    if (eh.e_shstrndx < sh.size()) {
      names.resize(sh[eh.e_shstrndx].sh_size + 1);
      if (fseek(f, static_cast<long>(sh[eh.e_shstrndx].sh_offset), SEEK_SET) != 0 ||
          fread(names.data(), 1, names.size() - 1, f) != names.size() - 1)
        sh.clear();
    }
  }
  fclose(f);
  uintptr_t bias = 0;
  dl_iterate_phdr(find_load_bias, &bias);
  for (const Elf64_Shdr& s : sh) {
    if (s.sh_name < names.size() && strcmp(&names[s.sh_name], "__sancov_cntrs") == 0) {
      counters = reinterpret_cast<uint8_t*>(bias + s.sh_addr);
      ncounters = s.sh_size;
    }
  }
}

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  self = (*argv)[0];
  if (const char* avoid = getenv("SPLKSIM_AVOID")) {
    args.avoid_text = avoid;
    args.avoid = parse_avoid(avoid);
  }
  args.wl.avoid = args.avoid;
  args.max_steps = 20000000;  // a livelock guard short enough for a fuzzer
  find_counters();
  if (ncounters == 0) {
    fprintf(stderr, "splkfuzz: no coverage counters (__sancov_cntrs) in /proc/self/exe\n");
    abort();
  }
  {
    void* m = mmap(nullptr, ncounters, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) abort();
    shared_counters = static_cast<uint8_t*>(m);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t n = ncounters;
  fflush(stdout);
  fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    static std::string replay;
    replay = std::string(self) + " <the input libFuzzer saves below>";
    const uint64_t seed = seed_of(data, size);
    run_one(seed, true);
    sim::replay_command = replay.c_str();
    memcpy(shared_counters, counters, n);
    sim::exit_now(0);
  }
  int status = 0;
  // libFuzzer's timeout alarm interrupts the wait.
  pid_t got;
  while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (got != pid) abort();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "splkfuzz: the run above failed (%s %d)\n",
            WIFEXITED(status) ? "exit status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    abort();
  }
  for (size_t i = 0; i < n; ++i)
    if (shared_counters[i] > counters[i]) counters[i] = shared_counters[i];
  return 0;
}
#endif

#ifndef SIM_FUZZ
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
    else if (!strcmp(a, "--input"))
      args.input = val();
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
  if (args.input != nullptr) {
    FILE* f = fopen(args.input, "rb");
    if (f == nullptr) {
      perror(args.input);
      return 2;
    }
    static std::vector<uint8_t> bytes;
    int ch;
    while ((ch = fgetc(f)) != EOF) bytes.push_back(static_cast<uint8_t>(ch));
    fclose(f);
    args.seed = seed_of(bytes.data(), bytes.size());
  }
  if (args.time > 0 || args.last != 0) return run_many();
  run_one(args.seed, false);
  return 0;
}
#endif
