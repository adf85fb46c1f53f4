// SPDX-License-Identifier: GPL-2.0
//
// The host's kernel memory: kmalloc and page allocations from the host's
// heap (the "direct map"), vmalloc from a reserved region of its own (so
// the core's is-this-vmalloc range checks work as in the kernel), and the
// checks a debug kernel makes: red zones around every block, freed memory
// poisoned and held in a quarantine before it is reused (writes after free
// are found when it leaves, reads by ASan at once in the sanitized build),
// frees validated (double, foreign, interior), vfree'd pages unmapped.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace sim::mem {

enum Kind { kKmalloc, kPages, kSlub, kPercpu, kKinds };

void init();
// A block of the direct map: size bytes, aligned, red-zoned, filled with
// the uninitialised pattern (or zeroed).  kind is for leak reports.
void* alloc(size_t size, size_t align, bool zero, Kind kind, const char* what);
// Frees a block of that kind; fails the run on a bad free.
void free(const void* p, Kind kind, const char* what);
// Poisons a block's bytes (SLUB's free objects) without freeing it, and
// checks and unpoisons it again.
void poison(void* p, size_t size);
void check_poison(void* p, size_t size, const char* what);
void unpoison(void* p, size_t size);
size_t block_size(const void* p);

void* vmalloc(size_t size);
// How many freed vmalloc areas wait before their addresses are reused
// (the kernel reuses them after a lazy purge or vm_unmap_aliases()).
void set_vmalloc_quarantine(unsigned n);
void vfree(void* p, size_t size);
// True (and *val) when the word at addr is mapped: the seam's
// splk_read_word_nofault().
bool read_nofault(const uintptr_t* addr, uintptr_t* val);

uintptr_t vmalloc_start();
uintptr_t vmalloc_size();

// Empties the quarantine, checking every block in it (module unload: a
// write after free is found even in a short run).
void drain_quarantine();
// Live blocks of each kind, and a report of them (module unload).
uint64_t live(Kind kind);
void report_leaks();

}  // namespace sim::mem
