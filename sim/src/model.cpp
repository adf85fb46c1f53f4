// SPDX-License-Identifier: GPL-2.0
//
// The reference model (model.hpp).
#include "model.hpp"

#include <string.h>

#include "report.hpp"

namespace sim::model {

State state;

namespace {

// Bytes stamped: the first and last word and a few between, so big
// objects cost little; objects under a word are stamped whole.
template <typename Fn>
void for_stamped(size_t size, bool ctor, Fn fn) {
  if (size < 8) {
    for (size_t i = 0; i < size; ++i) fn(i, 1);
    return;
  }
  const size_t first = ctor ? 8 : 0;  // the constructor's word is its own
  if (size >= first + 8) fn(first, 8);
  if (size >= 16) fn((size - 8) & ~size_t{7}, 8);
  for (size_t off = 64; off + 8 <= size - 8; off += 1024) fn(off, 8);
}

}  // namespace

void stamp(void* obj, size_t size, uint64_t value, bool ctor) {
  auto* p = static_cast<unsigned char*>(obj);
  for_stamped(size, ctor, [&](size_t off, size_t n) {
    const uint64_t v = value ^ off;
    memcpy(p + off, &v, n);
  });
}

bool stamp_intact(const void* obj, size_t size, uint64_t value, bool ctor) {
  const auto* p = static_cast<const unsigned char*>(obj);
  bool ok = true;
  for_stamped(size, ctor, [&](size_t off, size_t n) {
    const uint64_t v = value ^ off;
    if (memcmp(p + off, &v, n) != 0) ok = false;
  });
  return ok;
}

void State::add(Cache* c, void* obj) {
  const auto a = reinterpret_cast<uintptr_t>(obj);
  const size_t align = c->align != 0 ? c->align : 8;
  if (a % align != 0)
    fail("model", "cache '%s' handed out %p, not aligned to %zu", c->name, obj, align);
  auto next = objects.lower_bound(a);
  if (next != objects.end() && next->first < a + c->size)
    fail("model",
         "cache '%s' handed out %p (%zu bytes), which overlaps %p (%zu bytes) of cache '%s' "
         "that a caller still holds: an object handed out twice",
         c->name, obj, c->size, reinterpret_cast<void*>(next->first), next->second.size,
         next->second.cache->name);
  if (next != objects.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size > a)
      fail("model",
           "cache '%s' handed out %p, inside %p (%zu bytes) of cache '%s' that a caller holds",
           c->name, obj, reinterpret_cast<void*>(prev->first), prev->second.size,
           prev->second.cache->name);
  }
  const uint64_t s = ++stamp_seq * 0x9e3779b97f4a7c15ULL;
  stamp(obj, c->size, s, c->ctor);
  objects.emplace(a, Held{c, c->size, s, order.size()});
  order.push_back(a);
  ++c->held;
}

void State::remove(void* obj) {
  auto it = objects.find(reinterpret_cast<uintptr_t>(obj));
  if (it == objects.end()) fail("model", "freeing %p, which the model does not hold", obj);
  const Held& h = it->second;
  if (!stamp_intact(obj, h.size, h.stamp, h.cache->ctor))
    fail("model",
         "object %p of cache '%s' changed while its caller held it: someone else was given it "
         "too, or it was written after a free",
         obj, h.cache->name);
  --h.cache->held;
  const size_t i = h.index;
  order[i] = order.back();
  objects[order[i]].index = i;
  order.pop_back();
  objects.erase(it);
}

void* State::pick(uint64_t r) const {
  if (order.empty()) return nullptr;
  // By the run's own order, not by address: the choice must not depend
  // on where the host's heap put things.
  return reinterpret_cast<void*>(order[r % order.size()]);
}

}  // namespace sim::model
