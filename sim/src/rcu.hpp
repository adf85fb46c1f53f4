// SPDX-License-Identifier: GPL-2.0
//
// The host's RCU (seam_rcu.cpp): what module unload needs of it.
#pragma once

namespace sim {

// Frees everything waiting for a grace period now: module unload, once
// no reader is left (the kernel's rcu_barrier()).
void rcu_barrier();

}  // namespace sim
