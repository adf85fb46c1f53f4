// SPDX-License-Identifier: GPL-2.0
//
// Passthrough: creation and teardown of the Linux cache behind a KMC_SLAB
// cache, and the close look at pointers the inline free check refused.
// The design is in passthrough.hpp.
#include "passthrough.hpp"

namespace splkmem {

bool Passthrough::init(const char* name, uint64_t size, uint64_t align, bool reclaimable) {
  header_ = static_cast<uint32_t>(kstd::max<uint64_t>(align, sizeof(uintptr_t)));
  key_ = static_cast<uintptr_t>(splk_random_u64()) & ~(kFreeBit | kCleanBit);
  set_gfp(0);
  if (!cpu::alloc(&count_)) return false;
  // Only the object itself may be copied to or from user space.
  linux_cache_ = splk_linux_cache_create(name, header_ + size, align, header_, size, reclaimable);
  if (linux_cache_ == nullptr) {
    cpu::free(&count_);
    return false;
  }
  return true;
}

void Passthrough::set_gfp(unsigned extra_gfp) {
  constexpr int kCombinations[] = {KM_SLEEP, KM_NOSLEEP, KM_PUSHPAGE, KM_NOSLEEP | KM_PUSHPAGE};
  for (int km : kCombinations)
    kstd::store_relaxed(gfp_[gfp_index(km)], splk_km_to_gfp(km) | extra_gfp);
}

unsigned Passthrough::alloc_free_objects(int km_flags, unsigned n, void** objs) {
  const unsigned gfp = kstd::load_relaxed(gfp_[gfp_index(km_flags)]);
  const unsigned got = splk_linux_cache_alloc_bulk(linux_cache_, gfp, n, objs);
  // SLUB zeroed them if init_on_alloc is on (our Linux cache has no
  // constructor): remember it, so that the first allocation skips ours.
  const uintptr_t tag = key_ | kFreeBit | (splk_kernel.init_on_alloc ? kCleanBit : 0);
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
