// SPDX-License-Identifier: GPL-2.0
//
// Passthrough: creation and teardown of the Linux cache behind a KMC_SLAB
// cache, and the close look at pointers the inline free check refused.
// The design is in passthrough.hpp.
#include "passthrough.hpp"

namespace splkmem {
namespace {

// Bytes a SLUB slab spends per object of this size, roughly as SLUB picks
// its slab order (the smallest up to 3 that wastes at most 1/16; larger
// objects get a slab of their own).
uint64_t slub_bytes_per_object(uint64_t size) {
  size = kstd::round_up(size, sizeof(uintptr_t));
  for (unsigned order = 0; order <= 3; ++order) {
    const uint64_t slab = kPageSize << order;
    const uint64_t n = slab / size;
    if (n != 0 && (slab - n * size <= slab / 16 || order == 3)) return slab / n;
  }
  uint64_t slab = kPageSize << 4;
  while (slab < size) slab <<= 1;
  return slab;
}

}  // namespace

bool Passthrough::tag_is_cheap(uint64_t size, uint64_t header) {
  return slub_bytes_per_object(size + header) * 32 <= slub_bytes_per_object(size) * 33;
}

bool Passthrough::init(const char* name, uint64_t size, uint64_t align, bool reclaimable) {
  const uint64_t header = kstd::max<uint64_t>(align, sizeof(uintptr_t));
  header_ = tag_is_cheap(size, header) ? static_cast<uint32_t>(header) : 0;
  object_size_ = size;
  key_ = static_cast<uintptr_t>(splk_random_u64()) & ~(kFreeBit | kCleanBit);
  set_gfp(0);
  if (!cpu::alloc(&count_)) return false;
  // Only the object itself may be copied to or from user space.
  linux_cache_ = splk_linux_cache_create(name, header_ + size, align, header_, size, reclaimable);
  // Untagged: no way to tell a double free, so nothing is cached in front
  // of SLUB, whose own checks then see every free.
  if (linux_cache_ == nullptr) {
    cpu::free(&count_);
    return false;
  }
  return true;
}

void Passthrough::set_gfp(unsigned extra_gfp) {
  constexpr int kCombinations[] = {KM_SLEEP, KM_NOSLEEP, KM_PUSHPAGE, KM_NOSLEEP | KM_PUSHPAGE};
  for (int km : kCombinations)
    kstd::store_relaxed(gfp_[gfp_index(km)], splk_km_to_gfp(km, extra_gfp));
}

unsigned Passthrough::alloc_free_objects(int km_flags, unsigned n, void** objs) {
  const unsigned gfp = kstd::load_relaxed(gfp_[gfp_index(km_flags)]);
  const unsigned got = splk_linux_cache_alloc_bulk(linux_cache_, gfp, n, objs);
  // SLUB zeroed them if init_on_alloc is on (our Linux cache has no
  // constructor): remember it, so that the first allocation skips ours.
  const uintptr_t tag = key_ | kFreeBit | (splk_kernel.init_on_alloc ? uintptr_t{kCleanBit} : 0);
  for (unsigned i = 0; i < got; ++i) {
    char* obj = static_cast<char*>(objs[i]) + header_;
    *Slab::tag_of(obj) = tag;
    objs[i] = obj;
  }
  return got;
}

void Passthrough::release_free_objects(unsigned n, void** objs) {
  for (unsigned i = 0; i < n; ++i) objs[i] = static_cast<char*>(objs[i]) - header_;
  splk_linux_cache_free_bulk(linux_cache_, n, objs);
}

void Passthrough::destroy() {
  splk_linux_cache_destroy(linux_cache_);
  cpu::free(&count_);
}

const char* Passthrough::owns_slow(void* obj) const {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  const uintptr_t start = splk_kernel.direct_map_start;
  if (addr - start >= reinterpret_cast<uintptr_t>(high_memory) - start)
    return "not an object of this cache";
  // The tag may be on the previous page (an object that starts a page of
  // a multi-page slab, or a foreign pointer): read it without faulting.
  uintptr_t tag;
  if (!splk_read_word_nofault(Slab::tag_of(obj), &tag)) return "not an object of this cache";
  if (tag == key_) return nullptr;
  if ((tag & ~kCleanBit) == (key_ | kFreeBit)) return "already free (double free)";
  return "not an object of this cache";
}

}  // namespace splkmem
