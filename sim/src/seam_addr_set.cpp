// SPDX-License-Identifier: GPL-2.0
//
// The seam's address set (an rbtree in the kernel: emergency objects, a
// debug cache's live slabs) on the host: a sorted list of nodes, as few
// addresses live there.  Shared by the simulation's seam and the TSan
// build's real-thread seam (tsan/real_seam.cpp); each provides the
// allocator and the caller provides the locking, as in the kernel.
#include "seam.h"
#include "sim_objects.h"

namespace {
struct AddrNode {
  AddrNode* next;
  uintptr_t addr;
};
}  // namespace

extern "C" {

void splk_addr_set_init(void* set) noexcept { static_cast<sim_rb_root*>(set)->first = nullptr; }

void* splk_addr_node_alloc(int km_flags) noexcept {
  return splk_kmalloc_node(sizeof(AddrNode), km_flags, -1);
}

void splk_addr_node_free(void* node) noexcept { splk_kfree(node); }

bool splk_addr_set_insert(void* set, void* node, uintptr_t addr) noexcept {
  auto** pp = reinterpret_cast<AddrNode**>(&static_cast<sim_rb_root*>(set)->first);
  while (*pp != nullptr && (*pp)->addr < addr) pp = &(*pp)->next;
  if (*pp != nullptr && (*pp)->addr == addr) return false;
  auto* n = static_cast<AddrNode*>(node);
  n->addr = addr;
  n->next = *pp;
  *pp = n;
  return true;
}

void* splk_addr_set_remove(void* set, uintptr_t addr) noexcept {
  auto** pp = reinterpret_cast<AddrNode**>(&static_cast<sim_rb_root*>(set)->first);
  while (*pp != nullptr && (*pp)->addr < addr) pp = &(*pp)->next;
  if (*pp == nullptr || (*pp)->addr != addr) return nullptr;
  AddrNode* n = *pp;
  *pp = n->next;
  return n;
}

bool splk_addr_set_contains(void* set, uintptr_t addr) noexcept {
  for (auto* n = static_cast<AddrNode*>(static_cast<sim_rb_root*>(set)->first); n; n = n->next)
    if (n->addr == addr) return true;
  return false;
}

void* splk_addr_set_pop(void* set, uintptr_t* addr) noexcept {
  auto* root = static_cast<sim_rb_root*>(set);
  auto* n = static_cast<AddrNode*>(root->first);
  if (n == nullptr) return nullptr;
  root->first = n->next;
  *addr = n->addr;
  return n;
}

}  // extern "C"
