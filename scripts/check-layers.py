#!/usr/bin/env python3
# make lint: the include graph of module/core follows the layer diagram
# (object_cache.hpp, "Layers"): a file includes only files of lower layers,
# and its own header.  A new file of the core must be placed in LAYERS,
# so that where it sits is decided once, here, and then kept.
#
# usage: check-layers.py [TOP]   (exit 1 and a line per upward include)
import os
import re
import sys

# Lowest first.  Headers outside module/core (seam.h, kstd/, generated/,
# splkmem/, version.h) are below all of these.
LAYERS = [
    # the seam's C++ owners of kernel objects, test hooks, the node map
    ["kernel_objects", "cpu_local", "test_hooks", "numa"],
    # services and plain data: the task queue, magazines, slab geometry
    ["task_queue", "magazine", "slab", "slab_layout", "debug_check", "freed_slab_ranges"],
    # parts of the layers below the magazines
    ["partial_slabs", "tag_slots", "depot"],
    # the per-CPU layer; the two layers under the depot
    ["cpu_layer", "slab_store", "passthrough"],
    # the base of the caches
    ["object_cache"],
    # the two kinds
    ["vmem_cache", "linux_slab_cache"],
    # above the kinds: the registry, then the background tasks
    ["cache_registry"],
    ["cache_reclaim_tasks"],
    # orchestration, and the glue's entry points into the cache side
    ["cache_factory", "cache_shrinker", "cache_walks", "core_init"],
    # the exported SPL API
    ["spl_api", "taskq_api"],
]

def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    core = os.path.join(top, "module", "core")
    rank = {name: i for i, names in enumerate(LAYERS) for name in names}
    bad = 0
    for fname in sorted(os.listdir(core)):
        stem, ext = os.path.splitext(fname)
        if ext not in (".cpp", ".hpp"):
            continue
        if stem not in rank:
            print(f"check-layers: module/core/{fname} has no layer in scripts/check-layers.py")
            bad += 1
            continue
        with open(os.path.join(core, fname)) as f:
            for n, line in enumerate(f, 1):
                m = re.match(r'#include "([a-z_]+)\.hpp"', line)
                if not m or m.group(1) == stem:
                    continue
                inc = m.group(1)
                if inc not in rank:
                    continue  # not a file of the core (kstd/ has a slash)
                if rank[inc] >= rank[stem]:
                    print(f"check-layers: module/core/{fname}:{n} includes {inc}.hpp, "
                          f"which is not below it (layer {rank[inc]} >= {rank[stem]})")
                    bad += 1
    return 1 if bad else 0

if __name__ == "__main__":
    sys.exit(main())
