// SPDX-License-Identifier: GPL-2.0
//
// The rest of the seam on the host: the kernel facts and module parameters
// (SPL's defaults; the workload may change them per seed), logging and
// WARN (a warning the workload did not announce fails the run, as a splat
// fails make check), randomness from the run's PRNG and the page index
// (xarray); the address set is in seam_addr_set.cpp.
#include <stdarg.h>
#include <stdio.h>

#include <map>

#include "memory.hpp"
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"
#include "sim_config.hpp"

namespace sim {

Knobs knobs;

void expect_warning(const char* what) {
  note("expecting a warning: %s", what);
  ++current->expected_warnings;
}

void expect_no_more_warnings() {
  if (current->expected_warnings != 0)
    fail("missing warning", "%u warning(s) the workload provoked did not come",
         current->expected_warnings);
}

}  // namespace sim

extern "C" {

struct splk_kernel_info splk_kernel;
void* high_memory;
#ifdef SPLKMEM_TEST_HOOKS
struct splk_test_hooks splk_test_hooks;
#endif

namespace {
unsigned long warnings;
}  // namespace

unsigned long splk_warning_count(void) noexcept {
  return __atomic_load_n(&warnings, __ATOMIC_RELAXED);
}

void splk_log(int level, const char* fmt, ...) noexcept {
  if (!sim::cfg.verbose) return;
  va_list ap;
  va_start(ap, fmt);
  char buf[512];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  sim::note("log%d: %s", level, buf);
}

void splk_warn(const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  char buf[512];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  __atomic_fetch_add(&warnings, 1, __ATOMIC_RELAXED);
  if (sim::current->expected_warnings > 0) {
    --sim::current->expected_warnings;
    sim::note("expected WARNING: %s", buf);
    return;
  }
  sim::fail("kernel splat", "WARNING: %s", buf);
}

uint64_t splk_random_u64(void) noexcept { return sim::rng.next(); }

void __cxa_pure_virtual() { sim::fail("pure virtual call", "a corrupted object's vtable"); }

// ---- The page index: a host map -------------------------------------------------

using Index = std::map<unsigned long, void*>;

static Index* index_of(void* xa) {
  auto* x = static_cast<sim_xarray*>(xa);
  if (x->magic != SIM_XA_MAGIC) sim::fail("bad xarray", "index %p used before init", xa);
  return static_cast<Index*>(x->impl);
}

void splk_index_init(void* xa) noexcept {
  auto* x = static_cast<sim_xarray*>(xa);
  x->magic = SIM_XA_MAGIC;
  x->impl = new Index;
}

bool splk_index_store(void* xa, unsigned long index, void* entry, int km_flags) noexcept {
  sim::point("xa_store", sim::kAlloc);
  if (!(km_flags & KM_NOSLEEP)) sim::check_may_sleep("xa_store");
  if (reinterpret_cast<uintptr_t>(entry) & 3)
    sim::fail("xarray", "entry %p not 4-byte aligned", entry);
  (*index_of(xa))[index] = entry;
  return true;
}

// Lock-free in the kernel (RCU), and on the free path of header-tag
// caches: a switch point, where a reap may unlink and free a slab.
void* splk_index_load(void* xa, unsigned long index) noexcept {
  sim::point("xa_load", sim::kOtherCpu);
  Index* idx = index_of(xa);
  auto it = idx->find(index);
  return it == idx->end() ? nullptr : it->second;
}

void splk_index_erase(void* xa, unsigned long index) noexcept {
  sim::point("xa_erase");
  index_of(xa)->erase(index);
}

void splk_index_destroy(void* xa) noexcept {
  auto* x = static_cast<sim_xarray*>(xa);
  delete index_of(xa);
  x->impl = nullptr;
  x->magic = 0;
}

}  // extern "C"
