// SPDX-License-Identifier: GPL-2.0
//
// DebugCheck: fills, red zones and call sites of a debug cache.  The design
// is in debug_check.hpp.
#include "debug_check.hpp"

namespace splkmem {
namespace {

constexpr uint64_t kTrailerBytes = 3 * sizeof(uint64_t);  // red zone, two sites

}  // namespace

bool DebugCheck::layout_size(uint64_t size, uint64_t* out) {
  uint64_t rounded = 0;
  return kstd::checked_round_up(size, sizeof(uint64_t), &rounded) &&
         kstd::checked_add(rounded, kTrailerBytes, out);
}

void DebugCheck::init(const char* name, uint64_t size) {
  name_ = name;
  size_ = size;
  trailer_ = kstd::round_up(size, sizeof(uint64_t));
}

void DebugCheck::prepare(void* obj, bool fresh) const {
  if (!fresh) {
    // The link is a whole word even when the object is smaller: the fill
    // check covers the padding up to trailer_ too.
    const uint64_t poison = kPoison;
    __builtin_memcpy(obj, &poison, sizeof(poison));
    return;
  }
  __builtin_memset(obj, kPoisonByte, trailer_);
  *red_zone(obj) = kRedZone;
  *alloc_site(obj) = nullptr;
  *free_site(obj) = nullptr;
}

void DebugCheck::report(void* obj, const char* what, uint64_t offset, void* site) const {
  if (offset == kNoOffset)
    splk_warn("cache '%s': object %p: %s (this call from %pS; last alloc %pS, last free %pS)",
              name_, obj, what, site, *alloc_site(obj), *free_site(obj));
  else
    splk_warn(
        "cache '%s': object %p: %s at offset %llu (this call from %pS; last alloc %pS, "
        "last free %pS)",
        name_, obj, what, static_cast<unsigned long long>(offset), site, *alloc_site(obj),
        *free_site(obj));
}

void DebugCheck::on_alloc(void* obj, void* site) const {
  const auto* bytes = static_cast<const uint8_t*>(obj);
  for (uint64_t i = 0; i < trailer_; ++i) {
    if (bytes[i] != kPoisonByte) {
      report(obj, "written after it was freed", i, site);
      break;
    }
  }
  if (*red_zone(obj) != kRedZone) {
    report(obj, "red zone overwritten while free", trailer_, site);
    *red_zone(obj) = kRedZone;
  }
  *alloc_site(obj) = site;
}

void DebugCheck::check_red_zone(void* obj, void* site) const {
  if (*red_zone(obj) == kRedZone) return;
  report(obj, "red zone overwritten (write past the object's end)", trailer_, site);
  *red_zone(obj) = kRedZone;
}

void DebugCheck::on_free(void* obj, void* site) const {
  __builtin_memset(obj, kPoisonByte, trailer_);
  *free_site(obj) = site;
}

}  // namespace splkmem
