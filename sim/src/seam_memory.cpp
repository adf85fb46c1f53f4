// SPDX-License-Identifier: GPL-2.0
//
// The seam's memory services on the host: kmalloc, vmalloc, pages and
// per-CPU memory (memory.hpp does the checking), each a switch point
// ("allocation"), with the kernel's context rules: what may sleep is
// refused with interrupts off, a spinlock held or in an interrupt.
// KM_NOSLEEP allocations fail now and then (fault injection, as failslab).
#include <string.h>

#include "memory.hpp"
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"
#include "sim_config.hpp"

namespace {

bool inject_failure(int km_flags) {
  if (!(km_flags & KM_NOSLEEP)) return false;
  return sim::rng.one_in(sim::knobs.nosleep_fail_one_in) || sim::current->fault_inject;
}

void sleep_check(int km_flags, const char* what) {
  if (!(km_flags & KM_NOSLEEP)) sim::check_may_sleep(what);
}

// Per-CPU areas: offsets from each CPU's base; offset 0 is never handed
// out, so a null offset means "none" as a null pointer does.
constexpr size_t kPerCpuUnit = 1 << 20;
size_t percpu_next = 64;

}  // namespace

extern "C" {

void* splk_kmalloc_node(size_t size, int km_flags, int node) noexcept {
  sim::point("kmalloc", sim::kAlloc);
  sleep_check(km_flags, "kmalloc");
  if (inject_failure(km_flags)) return nullptr;
  return sim::mem::alloc(size, 16, (km_flags & KM_ZERO) || splk_kernel.init_on_alloc,
                         sim::mem::kKmalloc, "kmalloc");
}

void splk_kfree(const void* ptr) noexcept {
  sim::point("kfree", sim::kAlloc);
  if (ptr != nullptr) sim::mem::free(ptr, sim::mem::kKmalloc, "kfree");
}

unsigned int splk_km_to_gfp(int km_flags, unsigned int) noexcept {
  // The host's GFP bits: what the host's allocators look at.  The cache's
  // extra flags are the kernel's bits, meaningless here: ignored.
  unsigned gfp = (km_flags & KM_NOSLEEP) ? sim::kGfpNowait : sim::kGfpKernel;
  if (km_flags & KM_PUSHPAGE) gfp |= sim::kGfpHigh;
  return gfp;
}

// The host has no zones and no __GFP_NOFAIL: nothing is unusable.
unsigned int splk_gfp_unusable(unsigned int) noexcept { return 0; }

void splk_vfree(void* ptr, size_t size) noexcept {
  sim::point("vfree", sim::kAlloc);
  sim::check_may_sleep("vfree");
  sim::mem::vfree(ptr, size);
}

void* splk_vmalloc_noio(size_t size, int km_flags, unsigned int extra_gfp, int) noexcept {
  sim::point("vmalloc", sim::kAlloc);
  sleep_check(km_flags, "vmalloc");
  if (inject_failure(km_flags)) return nullptr;
#ifdef SPLKMEM_TEST_HOOKS
  if (__atomic_load_n(&splk_test_hooks.fail_slab_alloc, __ATOMIC_RELAXED)) return nullptr;
#endif
  if (sim::current->fault_inject && sim::rng.one_in(4)) return nullptr;
  return sim::mem::vmalloc(size);
}

bool splk_read_word_nofault(const uintptr_t* addr, uintptr_t* val) noexcept {
  sim::point("read_nofault");
  return sim::mem::read_nofault(addr, val);
}

void* splk_alloc_pages(size_t size, int km_flags, unsigned int extra_gfp) noexcept {
  sim::point("alloc_pages", sim::kAlloc);
  sleep_check(km_flags, "alloc_pages");
  if (inject_failure(km_flags)) return nullptr;
#ifdef SPLKMEM_TEST_HOOKS
  if (__atomic_load_n(&splk_test_hooks.fail_emergency_alloc, __ATOMIC_RELAXED)) return nullptr;
#endif
  size_t pages = 4096;
  while (pages < size) pages <<= 1;
  return sim::mem::alloc(pages, 4096, false, sim::mem::kPages, "alloc_pages");
}

void splk_free_pages(void* addr, size_t size) noexcept {
  sim::point("free_pages", sim::kAlloc);
  sim::mem::free(addr, sim::mem::kPages, "free_pages");
}

void* splk_percpu_alloc(size_t size, size_t align) noexcept {
  sim::point("alloc_percpu", sim::kAlloc);
  sim::check_may_sleep("alloc_percpu");
  percpu_next = (percpu_next + align - 1) & ~(align - 1);
  if (percpu_next + size > kPerCpuUnit) sim::fail("host", "per-CPU space exhausted");
  const size_t off = percpu_next;
  percpu_next += size;
  for (unsigned c = 0; c < sim::cfg.ncpus; ++c)
    memset(reinterpret_cast<void*>(sim::percpu_base(c) + off), 0, size);
  return reinterpret_cast<void*>(off);
}

void splk_percpu_free(void* pcpu) noexcept {
  // Never reused (a cache lives long): a stale %gs read finds zeroes.
  sim::point("free_percpu", sim::kAlloc);
}

// Another CPU's copy: the core's one accessor for other CPUs' data, so a
// switch point, where the other CPU may change what it is about to read.
void* splk_per_cpu_ptr(void* pcpu, unsigned int cpu) noexcept {
  sim::point("per_cpu_ptr", sim::kOtherCpu);
  if (cpu >= sim::cfg.ncpus)
    sim::fail("bad access", "per_cpu_ptr for CPU %u of %u", cpu, sim::cfg.ncpus);
  return reinterpret_cast<void*>(sim::percpu_base(cpu) + reinterpret_cast<uintptr_t>(pcpu));
}

// The kernel's sum reads one CPU's copy after another while the others
// keep counting: a switch point before each read.
long splk_percpu_sum_long(void* pcpu) noexcept {
  long sum = 0;
  for (unsigned c = 0; c < sim::cfg.ncpus; ++c) {
    sim::point("percpu_sum", sim::kOtherCpu);
    sum += *reinterpret_cast<long*>(sim::percpu_base(c) + reinterpret_cast<uintptr_t>(pcpu));
  }
  return sum;
}

}  // extern "C"
