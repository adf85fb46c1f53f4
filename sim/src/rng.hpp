// SPDX-License-Identifier: GPL-2.0
//
// The simulation's one source of randomness: xoshiro256** seeded through
// splitmix64.  Every decision (which thread runs, when the clock ticks,
// which operation comes next, the core's own splk_random_u64()) draws
// from it, in a fixed order, so a seed names one run exactly.
#pragma once

#include <stdint.h>

namespace sim {

class Rng {
 public:
  void seed(uint64_t s) {
    for (auto& w : s_) {
      s += 0x9e3779b97f4a7c15ULL;
      uint64_t z = s;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), n > 0.
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((__uint128_t{next()} * n) >> 64); }
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  // True one time in n (never for n == 0).
  bool one_in(uint64_t n) { return n != 0 && below(n) == 0; }
  bool percent(unsigned p) { return below(100) < p; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace sim
