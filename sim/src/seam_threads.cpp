// SPDX-License-Identifier: GPL-2.0
//
// Kernel threads, work on a given CPU, sleeping and the task queue's
// timers on the host: kthreads are simulated threads (sched.hpp); work
// for a CPU goes to that CPU's bound kworker; a task entry's timer is a
// sim_timer whose expiry runs in softirq context (ksoftirqd or an
// interrupt), and timer_delete_sync() waits for a running expiry as the
// kernel's does (and reports the deadlock if called from that expiry).
#include <stdio.h>

#include "generated/taskq_sizes.h"
#include "report.hpp"
#include "sched.hpp"
#include "seam.h"

namespace {

sim_timer* timer_of(void* entry) {
  auto* tm = reinterpret_cast<sim_timer*>(static_cast<char*>(entry) + SPLK_TQENT_TIMER_OFFSET);
  if (tm->magic != SIM_TIMER_MAGIC)
    sim::fail("bad timer", "task entry %p: timer used before init or after it was freed", entry);
  return tm;
}

void* start(int (*fn)(void*), void* arg, const char* name, int instance) {
  sim::point("kthread_create", sim::kAlloc);
  sim::check_may_sleep("kthread_create");
  char n[48];
  snprintf(n, sizeof(n), "%s/%d", name, instance);
  return sim::spawn(fn, arg, n, -1);
}

}  // namespace

extern "C" {

void splk_thread_stop(void* thread) noexcept {
  sim::point("kthread_stop");
  sim::check_may_sleep("kthread_stop");
  auto* t = static_cast<sim::Thread*>(thread);
  t->should_stop = true;
  sim::wake(t);
  sim::join(t);
}

bool splk_thread_should_stop(void) noexcept { return sim::current->should_stop; }

void* splk_tq_thread_create(int (*fn)(void*), void* arg, int pri, const char* name,
                            int instance) noexcept {
  return start(fn, arg, name, instance);
}

void* splk_tq_thread_data(void* thread, int (*fn)(void*)) noexcept {
  auto* t = thread != nullptr ? static_cast<sim::Thread*>(thread) : sim::current;
  return t->fn == fn ? t->arg : nullptr;
}

void* splk_tq_current(void) noexcept { return sim::current; }

void splk_msleep(unsigned int ms) noexcept {
  sim::point("msleep");
  sim::check_may_sleep("msleep");
  const uint64_t deadline = sim::jiffies + (uint64_t{ms} * sim::cfg.hz + 999) / 1000 + 1;
  while (sim::jiffies < deadline)
    sim::block("msleep", false, static_cast<int64_t>(deadline - sim::jiffies));
}

void splk_might_sleep(void) noexcept {
  sim::point("might_sleep");
  sim::check_may_sleep("might_sleep");
}

void splk_cond_resched(void) noexcept {
  sim::check_may_sleep("cond_resched");
  sim::point("cond_resched");
}

bool splk_cpu_possible(unsigned int cpu) noexcept { return cpu < sim::cfg.ncpus; }
// Two nodes when main.cpp says so (odd seeds with two CPUs or more): CPU c
// on node c % 2, so that the per-node depot and slab lists (numa.hpp) are
// exercised.  Memory has no node here.
int splk_cpu_to_node(unsigned int cpu) noexcept {
  return splk_kernel.node_ids > 1 ? static_cast<int>(cpu % splk_kernel.node_ids) : 0;
}
// With two nodes, vmalloc memory is on node (offset / 64 KiB) % 2, for the
// depot's routing (depot.hpp): magazines of one node and mixed ones.  The
// offset, not the address: the vmalloc area's base differs from run to run
// and a seed's run must not.  Other memory (SLUB objects of KMC_SLAB
// caches, from the host's allocator) has no node: never routed.
int splk_obj_node(const void* obj) noexcept {
  const uintptr_t off = reinterpret_cast<uintptr_t>(obj) - splk_kernel.vmalloc_start;
  if (splk_kernel.node_ids <= 1 || off >= splk_kernel.vmalloc_size) return -1;
  return static_cast<int>((off >> 16) % splk_kernel.node_ids);
}
unsigned int splk_raw_cpu(void) noexcept {
  return sim::current->cpu >= 0 ? static_cast<unsigned>(sim::current->cpu) : 0;
}
unsigned int splk_num_online_cpus(void) noexcept { return sim::cpus_online(); }

void splk_on_cpu(unsigned int cpu, void (*fn)(void*), void* arg) noexcept {
  sim::point("work_on_cpu");
  if (sim::cpu_online(cpu)) sim::work_on_cpu(cpu, fn, arg);
}

void splk_fault_inject_current(bool on) noexcept { sim::current->fault_inject = on; }

// The task queues' hotplug state: the workload's hotplug operation calls
// splk_taskq_cpus_changed() itself, where the kernel's callbacks would.
int splk_tq_hotplug_init(void) noexcept { return 0; }
void splk_tq_hotplug_exit(void) noexcept {}

// No /proc on the host: no kstat file, as when the directory is missing.
void* splk_tq_kstat_install(void*, const char*, int) noexcept { return nullptr; }
void splk_tq_kstat_remove(void*) noexcept {}

// ---- Task entries' kernel objects ----------------------------------------------

void splk_tq_entry_kernel_init(void* entry) noexcept {
  splk_spin_lock_init(static_cast<char*>(entry) + SPLK_TQENT_LOCK_OFFSET, SPLK_LOCK_CLASSES);
  splk_waitq_init(static_cast<char*>(entry) + SPLK_TQENT_WAITQ_OFFSET);
  auto* tm = reinterpret_cast<sim_timer*>(static_cast<char*>(entry) + SPLK_TQENT_TIMER_OFFSET);
  *tm = sim_timer{};
  tm->magic = SIM_TIMER_MAGIC;
  tm->entry = entry;
}

void splk_tq_entry_arm(void* entry, unsigned long expires) noexcept {
  sim::point("mod_timer", sim::kClock);
  sim::timer_arm(timer_of(entry), expires);
}

void splk_tq_entry_disarm_sync(void* entry) noexcept {
  sim::point("timer_delete_sync", sim::kClock);
  sim_timer* tm = timer_of(entry);
  if (sim::timer_running_on(tm) == sim::current->id)
    sim::fail("deadlock", "timer_delete_sync() of entry %p from its own expiry", entry);
  while (sim::timer_running_on(tm) >= 0) sim::spin_wait(sim::Spin::kTimer, tm);
  sim::timer_disarm(tm);
}

unsigned long splk_jiffies(void) noexcept {
  sim::point("jiffies", sim::kClock);
  return sim::jiffies;
}

}  // extern "C"
