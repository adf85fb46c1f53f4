// SPDX-License-Identifier: GPL-2.0
//
// TagSlots: where the tags of one cache's slab objects are (slab.hpp says
// what a tag holds), and how an object, or any pointer, is mapped to its
// tag's slot.  Two layouts (slab_layout.hpp):
//
// - inline tags: the slot is the word before the object, found by
//   arithmetic alone;
// - header tags (page-aligned objects a page or more long): the slots are
//   an array after the slab header, and nothing about an object's address
//   says where its slab starts.  Two ways lead to the slot:
//   - the index (a PageIndex: object start page -> slot), entered for
//     every object of a slab when the slab is made and cleared before it
//     is freed.  It is the authority: free() maps an untrusted pointer
//     through it, so a pointer that is not the start of a live object is
//     refused without being read;
//   - the object's own words, while it is free: SPL runs the destructor
//     on every free and the constructor on every allocation, so a free
//     object's contents are dead, and word 2 holds its slot's address,
//     word 1 a seal of that address and the object's own (slot ^ object
//     ^ the cache's random key); word 0 is the slab free list's link.
//     An allocation then finds the slot with two loads and a compare, no
//     index walk and no arithmetic on the slab's geometry.  The seal is
//     what makes the words trusted: words a caller wrote after free,
//     zeroed or copied from another free object, do not match it (the
//     seal names the object), and are reported and the index is asked
//     instead.  Debug caches fill free objects with a pattern
//     (debug_check.hpp), so they use the index only.
//   - each CPU's hint: the slab of the last object it freed.  A free
//     whose pointer is an object start in that slab finds the slot by
//     arithmetic, no index walk.  The hint is read with interrupts off,
//     and a slab leaving the index first clears every CPU's hint to it,
//     then goes a grace period later (SlabStore::free_slab()): a hint read
//     in such a section names a slab mapped until the section ends.
//
// Every function may be called from any context unless it says otherwise.
#pragma once

#include "cpu_local.hpp"
#include "kernel_objects.hpp"
#include "slab.hpp"
#include "slab_layout.hpp"

namespace splkmem {

class TagSlots : kstd::NonCopyable {
 public:
  // name: the cache's, for messages.  False when the hints cannot be had.
  bool init(const char* name, const SlabLayout& layout);
  // Debug caches: free objects carry the debug fill, not their slot.
  void set_debug() { object_words_ = false; }
  // Frees the index's nodes and the hints; every slab must have left.
  void destroy();

  const SlabTagKey& key() const { return key_; }
  bool header_tags() const { return layout_.header_tags; }

  // Header tags: obj's slot, or nullptr when no object of the cache
  // starts there.  Any pointer.
  uintptr_t* slot_of_pointer(const void* obj) const {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
    if (addr - splk_kernel.vmalloc_start >= splk_kernel.vmalloc_size ||
        (addr & (kPageSize - 1)) != 0)
      return nullptr;
    return static_cast<uintptr_t*>(index_.load(page_of(addr)));
  }
  // The slot of a free object of the cache (in a magazine, the depot or
  // on its slab).
  [[gnu::always_inline]] uintptr_t* slot_of_free(void* obj) const {
    if (!layout_.header_tags) return Slab::tag_of(obj);
    if (!object_words_) return slot_of_pointer(obj);
    return slot_of_free_object(obj);
  }
  // A free object of a header-tag cache that is not a debug cache: true
  // when its words carry its seal, and then *slot is the slot they name
  // (not read).
  [[gnu::always_inline]] bool sealed_slot(void* obj, uintptr_t** slot) const {
    const auto* words = static_cast<const uintptr_t*>(obj);
    *slot = reinterpret_cast<uintptr_t*>(words[kSlotWord]);
    return words[kSealWord] == seal(obj, *slot);
  }
  // Out of line: the words were overwritten while the object was free.
  // Reported; the index's slot.
  uintptr_t* slot_after_bad_words(void* obj) const;
  // The slot of a free object of a header-tag cache that is not a debug
  // cache (its words name the slot).
  [[gnu::always_inline]] uintptr_t* slot_of_free_object(void* obj) const {
    uintptr_t* slot = slot_in_words(obj);
    return kstd::likely(slot != nullptr) ? slot : slot_after_bad_words(obj);
  }
  // A checked allocated object is freed: its tag at slot (read by the
  // caller's check) becomes free, and with object words the object
  // carries its slot.
  [[gnu::always_inline]] void mark_free(void* obj, uintptr_t* slot, uintptr_t tag) const {
    if (object_words_) return mark_free_in_hint(obj, slot, tag);
    *slot = tag | SlabTagKey::kFreeBit;
  }
  // Object i of slab leaves the slab for the first time (carved): free,
  // for the magazine it goes to.  With header tags the slot has been free
  // since enter_slab().
  void carve(Slab* slab, uint32_t i, void* obj) const {
    if (!layout_.header_tags) {
      *Slab::tag_of(obj) = key_.free_tag(slab);
    } else if (object_words_) {
      write_words(obj, slab->header_tag(i));
    }
  }

  // Header tags: every object of a new slab in the index, every tag free;
  // false (nothing left in the index) when an index node cannot be had.
  bool enter_slab(Slab* slab, int km_flags);
  // Header tags: the slab's objects out of the index and out of every
  // CPU's hint, before it is freed.
  void leave_slab(Slab* slab);

  // Header tags, object words (not a debug cache), interrupts off: true
  // when addr is the start of an allocated object of this CPU's hint slab,
  // whose slot is then *slot and whose allocated tag *tag.  Any pointer:
  // only arithmetic decides before the slot is read, and the slot must
  // hold exactly the slab's allocated tag.
  [[gnu::always_inline]] bool allocated_in_hint(uintptr_t addr, uintptr_t** slot,
                                                uintptr_t* tag) const {
    Slab* hint = cpu::read(hint_);
    const uintptr_t offset = addr - reinterpret_cast<uintptr_t>(hint) - layout_.first_offset;
    if (hint == nullptr || offset >= hint_span_ || offset % layout_.stride != 0) return false;
    *slot = hint->header_tag(offset / layout_.stride);
    *tag = reinterpret_cast<uintptr_t>(hint) ^ key_.key;
    return **slot == *tag;
  }
  // ... and that object is freed: its slot and its words say so (the
  // hint path has object words by construction, so no test of them).
  [[gnu::always_inline]] void mark_free_in_hint(void* obj, uintptr_t* slot, uintptr_t tag) const {
    *slot = tag | SlabTagKey::kFreeBit;
    write_words(obj, slot);
  }
  // Header tags, interrupts off on cpu: slab, which holds an object the
  // caller frees (so it is not being freed), becomes cpu's hint.
  void set_hint(unsigned cpu, Slab* slab) const {
    kstd::store_relaxed(*cpu::on_cpu(hint_, cpu), slab);
  }
  // Debug checks: with header tags, every object of slab maps to its own
  // slot, and a free object's words agree with it (true for tags before
  // the objects: nothing to check).
  bool check_slab(Slab* slab) const;
  // Debug checks: true when a free object's words name slot, its own.
  bool words_agree(void* obj, const uintptr_t* slot) const {
    return !object_words_ || slot_in_words(obj) == slot;
  }

 private:
  enum : uint32_t { kSealWord = 1, kSlotWord = 2 };

  static unsigned long page_of(uintptr_t addr) {
    return static_cast<unsigned long>((addr - splk_kernel.vmalloc_start) / kPageSize);
  }
  unsigned long object_page(Slab* slab, uint32_t i) const {
    return page_of(reinterpret_cast<uintptr_t>(layout_.object_in(slab, i)));
  }
  // What word 1 holds for object obj whose slot is slot: neither a
  // pattern a caller writes by chance nor another object's words match
  // it without the key.
  uintptr_t seal(const void* obj, const uintptr_t* slot) const {
    return reinterpret_cast<uintptr_t>(slot) ^ reinterpret_cast<uintptr_t>(obj) ^ key_.key;
  }
  [[gnu::always_inline]] void write_words(void* obj, uintptr_t* slot) const {
    static_cast<uintptr_t*>(obj)[kSealWord] = seal(obj, slot);
    static_cast<uintptr_t*>(obj)[kSlotWord] = reinterpret_cast<uintptr_t>(slot);
  }
  // The slot a free object's words name, when they carry its seal (only
  // this cache's free path and carve() wrote them, for this object);
  // else nullptr.  The slot is not read.
  [[gnu::always_inline]] uintptr_t* slot_in_words(void* obj) const {
    uintptr_t* slot;
    return kstd::likely(sealed_slot(obj, &slot)) ? slot : nullptr;
  }
  void leave_objects(Slab* slab, uint32_t objs);

  const char* name_;
  SlabLayout layout_;
  SlabTagKey key_;
  bool object_words_;  // header tags, not a debug cache
  PageIndex index_;
  cpu::PerCpu<Slab*> hint_;  // header tags: each CPU's last slab freed to
  uint64_t hint_span_;       // bytes of a slab's objects: objs * stride
};

}  // namespace splkmem
