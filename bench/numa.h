/* SPDX-License-Identifier: GPL-2.0 */
/* mode=numa (numa.c): the remote share of objects handed to each CPU. */
#ifndef SPLKMEM_BENCH_NUMA_H
#define SPLKMEM_BENCH_NUMA_H

int bench_numa(const char *provider);

#endif
