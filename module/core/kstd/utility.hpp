// SPDX-License-Identifier: GPL-2.0
//
// kstd: the few standard-library pieces the freestanding core needs, written
// here instead of pulling in libstdc++ (see docs/cxx-subset.md).  Everything
// is constexpr or inline; nothing needs a runtime.
#pragma once

#include <stddef.h>
#include <stdint.h>

// A stack array the code fills before it reads: not zeroed by the
// kernel's -ftrivial-auto-var-init=zero (CONFIG_INIT_STACK_ALL_ZERO),
// which would cost a store per word on every call of a batch path.
#if defined(__has_attribute) && __has_attribute(uninitialized)
#define SPLK_UNINITIALIZED __attribute__((uninitialized))
#else
#define SPLK_UNINITIALIZED
#endif

namespace kstd {

template <typename T>
constexpr const T& min(const T& a, const T& b) {
  return b < a ? b : a;
}

template <typename T>
constexpr const T& max(const T& a, const T& b) {
  return a < b ? b : a;
}

template <typename T>
constexpr const T& clamp(const T& v, const T& lo, const T& hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

constexpr bool is_power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

// Rounds x up to a multiple of a power of two.
constexpr uint64_t round_up(uint64_t x, uint64_t pow2) { return (x + pow2 - 1) & ~(pow2 - 1); }

// Overflow-checked arithmetic for sizes that come from callers: false (and
// *out unspecified) when the exact result does not fit in 64 bits.
constexpr bool checked_add(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
constexpr bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
constexpr bool checked_round_up(uint64_t x, uint64_t pow2, uint64_t* out) {
  if (!checked_add(x, pow2 - 1, out)) return false;
  *out &= ~(pow2 - 1);
  return true;
}

constexpr bool likely(bool b) { return __builtin_expect(b, true); }
constexpr bool unlikely(bool b) { return __builtin_expect(b, false); }

// Plain shared variables written by other CPUs (module parameters, flags):
// relaxed atomic accesses, the C++ spelling of READ_ONCE/WRITE_ONCE.
template <typename T>
inline T load_relaxed(const T& v) {
  return __atomic_load_n(&v, __ATOMIC_RELAXED);
}

template <typename T>
inline void store_relaxed(T& v, T x) {
  __atomic_store_n(&v, x, __ATOMIC_RELAXED);
}

// Atomic bit operations on a flags word, as test_and_set_bit()/test_bit().
inline bool test_and_set_bit(unsigned long& word, unsigned bit) {
  return __atomic_fetch_or(&word, 1UL << bit, __ATOMIC_ACQ_REL) & (1UL << bit);
}
inline bool test_bit(const unsigned long& word, unsigned bit) {
  return load_relaxed(word) & (1UL << bit);
}

inline bool streq(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

inline size_t strnlen(const char* s, size_t max) {
  size_t n = 0;
  while (n < max && s[n] != '\0') ++n;
  return n;
}

// Base for types that own a resource and must never be copied or moved.
class NonCopyable {
 protected:
  constexpr NonCopyable() = default;
  ~NonCopyable() = default;

 public:
  NonCopyable(const NonCopyable&) = delete;
  NonCopyable& operator=(const NonCopyable&) = delete;
};

}  // namespace kstd

// Placement new: the one form of operator new the subset allows (the
// allocating forms are never declared, so using one fails to compile).
inline void* operator new(size_t, void* where) noexcept { return where; }
