// SPDX-License-Identifier: GPL-2.0
//
// NUMA nodes as the per-node structures see them (issue 26, item 3): the
// depot (depot.hpp) and the slab lists (slab_store.hpp) keep one part per
// node, so that a CPU is refilled with objects whose memory is on its own
// node.  The parts are arrays of kMaxNodes in the cache itself, not
// allocated by node count: a cache's memory never depends on the machine,
// and a cache needs no second allocation that could fail.  A machine with
// more nodes folds them (node n is filed as n % kMaxNodes), which keeps
// each CPU on one part and only lets some nodes share one.
//
// Without CONFIG_NUMA (our test kernels) nr_node_ids is 1: every CPU is
// node 0 and the other parts stay empty.  The slow paths then pay one
// load and one compare to learn so, never a call.  Test builds can make
// the core believe in nodes the kernel does not have
// (splk_test_hooks.fake_nodes), for the KUnit suite's per-node cases.
#pragma once

#include "kstd/utility.hpp"
#include "seam.h"

namespace splkmem::numa {

// Two sockets with sub-NUMA clustering make four nodes; more fold.
constexpr unsigned kMaxNodes = 4;

// The part cpu's objects belong to.
inline unsigned part_of_cpu(unsigned cpu) {
#ifdef SPLKMEM_TEST_HOOKS
  if (const unsigned fake = kstd::load_relaxed(splk_test_hooks.fake_nodes))
    return cpu % fake % kMaxNodes;
#endif
  if (kstd::likely(splk_kernel.node_ids <= 1)) return 0;
  const int node = splk_cpu_to_node(cpu);
  return node < 0 ? 0 : static_cast<unsigned>(node) % kMaxNodes;
}

// Whether objects' pages tell their part: a machine of several nodes that
// the core sees as they are (not test builds' fake nodes, whose memory
// is all on one node).
inline bool objects_tell_part() {
#ifdef SPLKMEM_TEST_HOOKS
  if (kstd::load_relaxed(splk_test_hooks.fake_nodes) != 0) return false;
#endif
  return splk_kernel.node_ids > 1;
}

// The part of a kernel node (node >= 0).
inline unsigned part_of_node(int node) { return static_cast<unsigned>(node) % kMaxNodes; }

// The kernel's node of cpu for an allocation, or -1 (anywhere) on a
// machine of one node.
inline int node_of_cpu(unsigned cpu) {
  if (kstd::likely(splk_kernel.node_ids <= 1)) return -1;
  return splk_cpu_to_node(cpu);
}

}  // namespace splkmem::numa
