// SPDX-License-Identifier: GPL-2.0
//
// Creation and destruction of caches, above the kinds: validates what
// the caller asked for, reads the module parameters once, picks the kind,
// takes a type-stable slot (cache_registry.hpp), builds the cache and
// registers it; destruction tears it down and gives the slot back, or
// parks a cache with objects still out in the graveyard.  The layers
// below (ObjectCache and its kinds) never name the registry: what they
// need from above comes through the CacheOwner given here.
#pragma once

#include "object_cache.hpp"

namespace splkmem {

// Errors are logged, naming the value; nullptr on bad input or no memory.
ObjectCache* cache_create(const CacheParams& params);
// Once registry_remove() has unlinked the cache (spl_api.cpp).  May sleep.
void cache_destroy(ObjectCache* cache);

}  // namespace splkmem
