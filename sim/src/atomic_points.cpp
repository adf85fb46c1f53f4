// SPDX-License-Identifier: GPL-2.0
//
// Switch points at the core's atomic accesses, with the core unchanged.
//
// The points build compiles module/core with -fsanitize=thread and links
// no ThreadSanitizer runtime: the compiler's instrumentation turns every
// atomic access (kstd::load_relaxed, store_relaxed, test_and_set_bit and
// the __atomic builtins used directly) into a call to __tsan_atomic*(),
// and every plain load and store into __tsan_read*() / __tsan_write*().
// This file is that runtime: each atomic does its operation and is a
// switch point; a plain pointer-sized access is one with probability 1/N
// (--plain-points N), so that a plain read of another CPU's pointer and
// its dereference can be split too.  Only the core is instrumented.
#ifdef SIM_ATOMIC_POINTS

#include <stdint.h>

#include "sched.hpp"

namespace sim {
unsigned plain_point_one_in;  // 0: plain accesses are never switch points
}

namespace {

inline void atomic_point() { sim::point("atomic", sim::kOtherCpu); }

inline void plain_point() {
  if (sim::plain_point_one_in != 0 && sim::current != nullptr &&
      sim::rng.one_in(sim::plain_point_one_in))
    sim::point("plain access", sim::kOtherCpu);
}

// The instrumentation passes the C11 memory order; the simulation is
// sequentially consistent, so every operation is done seq_cst.
constexpr int kOrder = __ATOMIC_SEQ_CST;

}  // namespace

extern "C" {

void __tsan_init() {}
void __tsan_func_entry(void*) {}
void __tsan_func_exit() {}
void __tsan_vptr_update(void**, void*) {}
void __tsan_vptr_read(void**) {}

// Pointer-sized accesses only may be switch points: a byte loop (the
// debug mode's poison check) would make millions of them per object.
#define SIM_PLAIN(n, point)                       \
  void __tsan_read##n(void*) { point; }           \
  void __tsan_write##n(void*) { point; }          \
  void __tsan_unaligned_read##n(void*) { point; } \
  void __tsan_unaligned_write##n(void*) { point; }
SIM_PLAIN(1, )
SIM_PLAIN(2, )
SIM_PLAIN(4, )
SIM_PLAIN(8, plain_point())
SIM_PLAIN(16, )
void __tsan_read_range(void*, unsigned long) {}
void __tsan_write_range(void*, unsigned long) {}

#define SIM_ATOMIC(bits, type)                                                                     \
  type __tsan_atomic##bits##_load(const volatile type* a, int) {                                   \
    atomic_point();                                                                                \
    return __atomic_load_n(a, kOrder);                                                             \
  }                                                                                                \
  void __tsan_atomic##bits##_store(volatile type* a, type v, int) {                                \
    atomic_point();                                                                                \
    __atomic_store_n(a, v, kOrder);                                                                \
  }                                                                                                \
  type __tsan_atomic##bits##_exchange(volatile type* a, type v, int) {                             \
    atomic_point();                                                                                \
    return __atomic_exchange_n(a, v, kOrder);                                                      \
  }                                                                                                \
  type __tsan_atomic##bits##_fetch_add(volatile type* a, type v, int) {                            \
    atomic_point();                                                                                \
    return __atomic_fetch_add(a, v, kOrder);                                                       \
  }                                                                                                \
  type __tsan_atomic##bits##_fetch_sub(volatile type* a, type v, int) {                            \
    atomic_point();                                                                                \
    return __atomic_fetch_sub(a, v, kOrder);                                                       \
  }                                                                                                \
  type __tsan_atomic##bits##_fetch_and(volatile type* a, type v, int) {                            \
    atomic_point();                                                                                \
    return __atomic_fetch_and(a, v, kOrder);                                                       \
  }                                                                                                \
  type __tsan_atomic##bits##_fetch_or(volatile type* a, type v, int) {                             \
    atomic_point();                                                                                \
    return __atomic_fetch_or(a, v, kOrder);                                                        \
  }                                                                                                \
  type __tsan_atomic##bits##_fetch_xor(volatile type* a, type v, int) {                            \
    atomic_point();                                                                                \
    return __atomic_fetch_xor(a, v, kOrder);                                                       \
  }                                                                                                \
  int __tsan_atomic##bits##_compare_exchange_strong(volatile type* a, type* c, type v, int, int) { \
    atomic_point();                                                                                \
    return __atomic_compare_exchange_n(a, c, v, false, kOrder, kOrder);                            \
  }                                                                                                \
  int __tsan_atomic##bits##_compare_exchange_weak(volatile type* a, type* c, type v, int, int) {   \
    atomic_point();                                                                                \
    return __atomic_compare_exchange_n(a, c, v, false, kOrder, kOrder);                            \
  }                                                                                                \
  type __tsan_atomic##bits##_compare_exchange_val(volatile type* a, type c, type v, int, int) {    \
    atomic_point();                                                                                \
    __atomic_compare_exchange_n(a, &c, v, false, kOrder, kOrder);                                  \
    return c;                                                                                      \
  }
SIM_ATOMIC(8, char)
SIM_ATOMIC(16, short)
SIM_ATOMIC(32, int)
SIM_ATOMIC(64, long long)

void __tsan_atomic_thread_fence(int) { atomic_point(); }
void __tsan_atomic_signal_fence(int) {}

}  // extern "C"

#endif  // SIM_ATOMIC_POINTS
