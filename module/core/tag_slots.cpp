// SPDX-License-Identifier: GPL-2.0
//
// TagSlots: the key, the index's upkeep as slabs come and go, and the
// report of a free object whose words were overwritten (tag_slots.hpp).
#include "tag_slots.hpp"

namespace splkmem {

bool TagSlots::init(const char* name, const SlabLayout& layout) {
  name_ = name;
  layout_ = layout;
  key_.key = static_cast<uintptr_t>(splk_random_u64()) & ~SlabTagKey::kFreeBit;
  key_.first_offset = layout.first_offset;
  key_.span = layout.slab_size - layout.first_offset;
  // Header-tag objects are a page or more: words 1 and 2 are theirs.
  object_words_ = layout.header_tags;
  hint_span_ = uint64_t{layout.objs} * layout.stride;
  index_.init();
  // Zeroed: no CPU has a hint yet.
  return !layout.header_tags || cpu::alloc(&hint_);
}

void TagSlots::destroy() {
  index_.destroy();
  if (hint_.offset != nullptr) cpu::free(&hint_);
}

void TagSlots::leave_slab(Slab* slab) {
  leave_objects(slab, slab->capacity);
  for (unsigned cpu = 0; cpu < splk_kernel.nr_cpu_ids; ++cpu) {
    if (!splk_cpu_possible(cpu)) continue;
    Slab* expected = slab;
    __atomic_compare_exchange_n(cpu::on_cpu(hint_, cpu), &expected, nullptr, false,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  }
}

// Objects not yet carved are free objects of the slab, so a free() of one
// is "already free", as after the object's first round trip.
bool TagSlots::enter_slab(Slab* slab, int km_flags) {
  for (uint32_t i = 0; i < layout_.objs; ++i) {
    *slab->header_tag(i) = key_.free_tag(slab);
    if (!index_.store(object_page(slab, i), slab->header_tag(i), km_flags)) {
      leave_objects(slab, i);
      return false;
    }
  }
  return true;
}

void TagSlots::leave_objects(Slab* slab, uint32_t objs) {
  for (uint32_t i = 0; i < objs; ++i) index_.erase(object_page(slab, i));
}

bool TagSlots::check_slab(Slab* slab) const {
  if (!layout_.header_tags) return true;
  for (uint32_t i = 0; i < slab->capacity; ++i) {
    void* obj = layout_.object_in(slab, i);
    uintptr_t* slot = slab->header_tag(i);
    if (slot_of_pointer(obj) != slot) return false;
    // Every free object that has been carved, on the slab's free list or
    // in a magazine, carries its slot in its words.
    if (i < slab->carved && (*slot & SlabTagKey::kFreeBit) != 0 && !words_agree(obj, slot))
      return false;
  }
  return true;
}

uintptr_t* TagSlots::slot_after_bad_words(void* obj) const {
  splk_warn(
      "cache '%s': free object %p was written after it was freed (words %u and %u, "
      "which hold its tag slot while it is free)",
      name_, obj, unsigned{kSealWord}, unsigned{kSlotWord});
  return slot_of_pointer(obj);
}

}  // namespace splkmem
