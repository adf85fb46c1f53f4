// SPDX-License-Identifier: GPL-2.0
//
// The host's kernel memory (design in memory.hpp).
//
// A direct-map block:  [pad][Header][red zone 16][object][red zone 16]
// The header and red zones are poisoned for ASan; the object is poisoned
// while the block is free or in quarantine.  Without ASan, red zones are
// checked on free and the free fill (0x6b) when the block leaves the
// quarantine.  Bookkeeping is kept apart from the blocks, so a bad free is
// refused without reading the memory it names.
#include "memory.hpp"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>
#include <unordered_map>
#include <vector>

#include "report.hpp"
#include "sched.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SIM_ASAN 1
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SIM_ASAN 0
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace sim::mem {
namespace {

constexpr size_t kRedZone = 16;
constexpr uint8_t kUninit = 0xa5;
constexpr uint8_t kFree = 0x6b;
constexpr uint8_t kRed = 0xbb;
constexpr size_t kQuarantineBlocks = 8192;
constexpr size_t kQuarantineBytes = 64 << 20;
const char* const kKindName[kKinds] = {"kmalloc", "pages", "slab object", "percpu"};

struct Block {
  char* base;
  size_t size;
  size_t align;
  uint64_t seq;
  Kind kind;
  const char* what;
  bool freed;  // in quarantine
};

std::unordered_map<uintptr_t, Block> blocks;  // by object address
std::deque<uintptr_t> quarantine;
size_t quarantine_bytes;
uint64_t alloc_seq;
uint64_t live_count[kKinds];

void fill(void* p, uint8_t v, size_t n) { memset(p, v, n); }

bool all(const uint8_t* p, uint8_t v, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != v) return false;
  return true;
}

void check_red_zones(uintptr_t obj, const Block& b, const char* when) {
  auto* front = reinterpret_cast<uint8_t*>(obj - kRedZone);
  auto* back = reinterpret_cast<uint8_t*>(obj + b.size);
  UNPOISON(front, kRedZone);
  UNPOISON(back, kRedZone);
  const bool ok = all(front, kRed, kRedZone) && all(back, kRed, kRedZone);
  POISON(front, kRedZone);
  POISON(back, kRedZone);
  if (!ok)
    fail("memory corruption", "red zone of %s %p (%zu bytes, %s) overwritten, found at %s",
         kKindName[b.kind], reinterpret_cast<void*>(obj), b.size, b.what, when);
}

void release(uintptr_t obj) {
  auto it = blocks.find(obj);
  Block& b = it->second;
  UNPOISON(reinterpret_cast<void*>(obj), b.size);
  if (!all(reinterpret_cast<uint8_t*>(obj), kFree, b.size)) {
    const auto* p = reinterpret_cast<uint8_t*>(obj);
    size_t off = 0;
    while (p[off] == kFree) ++off;
    fail("use after free",
         "%s %p (%zu bytes, %s) was written after it was freed: byte %zu is 0x%02x (found when "
         "it left the quarantine)",
         kKindName[b.kind], reinterpret_cast<void*>(obj), b.size, b.what, off, p[off]);
  }
  check_red_zones(obj, b, "reuse");
  ::free(b.base);
  blocks.erase(it);
}

// ---- vmalloc space ----------------------------------------------------------

constexpr uintptr_t kVmallocHint = 0x200000000000ULL;  // above ASan's shadow
constexpr size_t kVmallocSize = 64ULL << 30;
constexpr size_t kPage = 4096;
char* vm_base;
size_t vm_bump;
std::map<uintptr_t, size_t> vm_live;               // start -> size
std::multimap<size_t, uintptr_t> vm_free;          // span (with guard) -> start
std::deque<std::pair<uintptr_t, size_t>> vm_quar;  // freed, not yet reusable
size_t vm_quarantine = 16;
uint64_t vm_live_count;

}  // namespace

void init() {
  void* p = mmap(reinterpret_cast<void*>(kVmallocHint), kVmallocSize, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED)
    p = mmap(nullptr, kVmallocSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) fail("host", "cannot reserve the vmalloc space");
  vm_base = static_cast<char*>(p);
}

uintptr_t vmalloc_start() { return reinterpret_cast<uintptr_t>(vm_base); }
uintptr_t vmalloc_size() { return kVmallocSize; }

void* alloc(size_t size, size_t align, bool zero, Kind kind, const char* what) {
  if (align < 16) align = 16;
  if (SIM_ASAN) {
    // ASan's own red zones and quarantine, which report where a block
    // was allocated and freed; our bookkeeping still validates frees.
    char* obj = static_cast<char*>(aligned_alloc(align, (size + align - 1) / align * align));
    if (obj == nullptr) fail("host", "out of host memory (%zu bytes)", size);
    fill(obj, zero ? 0 : kUninit, size);
    blocks[reinterpret_cast<uintptr_t>(obj)] =
        Block{obj, size, align, ++alloc_seq, kind, what, false};
    ++live_count[kind];
    return obj;
  }
  const size_t head = (sizeof(uint64_t) + kRedZone + align - 1) / align * align;
  const size_t total = (head + size + kRedZone + align - 1) / align * align;
  char* base = static_cast<char*>(aligned_alloc(align, total));
  if (base == nullptr) fail("host", "out of host memory (%zu bytes)", total);
  const uintptr_t obj = reinterpret_cast<uintptr_t>(base + head);
  fill(base, kRed, head - kRedZone);
  fill(reinterpret_cast<void*>(obj - kRedZone), kRed, kRedZone);
  fill(reinterpret_cast<void*>(obj + size), kRed, kRedZone);
  fill(reinterpret_cast<void*>(obj), zero ? 0 : kUninit, size);
  POISON(base, head);
  POISON(reinterpret_cast<void*>(obj + size), kRedZone);
  blocks[obj] = Block{base, size, align, ++alloc_seq, kind, what, false};
  ++live_count[kind];
  return reinterpret_cast<void*>(obj);
}

void free(const void* p, Kind kind, const char* what) {
  const auto obj = reinterpret_cast<uintptr_t>(p);
  auto it = blocks.find(obj);
  if (it == blocks.end())
    fail("bad free", "%s of %p: not the start of any block (foreign or interior pointer)", what, p);
  Block& b = it->second;
  if (b.freed)
    fail("double free", "%s of %p: %s block (%zu bytes, %s) already freed", what, p,
         kKindName[b.kind], b.size, b.what);
  if (b.kind != kind)
    fail("bad free", "%s of %p: it is a %s block (%s)", what, p, kKindName[b.kind], b.what);
  if (SIM_ASAN) {
    --live_count[kind];
    ::free(b.base);
    blocks.erase(it);
    return;
  }
  check_red_zones(obj, b, what);
  fill(reinterpret_cast<void*>(obj), kFree, b.size);
  POISON(reinterpret_cast<void*>(obj), b.size);
  b.freed = true;
  --live_count[kind];
  quarantine.push_back(obj);
  quarantine_bytes += b.size;
  while (quarantine.size() > kQuarantineBlocks || quarantine_bytes > kQuarantineBytes) {
    const uintptr_t old = quarantine.front();
    quarantine.pop_front();
    quarantine_bytes -= blocks[old].size;
    release(old);
  }
}

void poison(void* p, size_t size) {
  fill(p, kFree, size);
  POISON(p, size);
}

void check_poison(void* p, size_t size, const char* what) {
  UNPOISON(p, size);
  if (!all(static_cast<uint8_t*>(p), kFree, size))
    fail("use after free", "%s: free object %p (%zu bytes) was written while free", what, p, size);
  POISON(p, size);
}

void unpoison(void* p, size_t size) { UNPOISON(p, size); }

size_t block_size(const void* p) {
  auto it = blocks.find(reinterpret_cast<uintptr_t>(p));
  return it == blocks.end() ? 0 : it->second.size;
}

void set_vmalloc_quarantine(unsigned n) { vm_quarantine = n; }

void* vmalloc(size_t size) {
  size = (size + kPage - 1) & ~(kPage - 1);
  const size_t span = size + kPage;  // a guard page after each area
  uintptr_t start;
  auto it = vm_free.lower_bound(span);
  if (it != vm_free.end() && it->first == span) {
    start = it->second;
    vm_free.erase(it);
  } else {
    if (vm_bump + span > kVmallocSize) fail("host", "vmalloc space exhausted");
    start = reinterpret_cast<uintptr_t>(vm_base) + vm_bump;
    vm_bump += span;
  }
  if (mprotect(reinterpret_cast<void*>(start), size, PROT_READ | PROT_WRITE) != 0)
    fail("host", "mprotect of a vmalloc area failed");
  fill(reinterpret_cast<void*>(start), kUninit, size);
  vm_live[start] = size;
  ++vm_live_count;
  return reinterpret_cast<void*>(start);
}

void vfree(void* p, size_t size) {
  const auto start = reinterpret_cast<uintptr_t>(p);
  auto it = vm_live.find(start);
  if (it == vm_live.end()) fail("bad free", "vfree of %p: not a live vmalloc area", p);
  size = it->second;
  vm_live.erase(it);
  --vm_live_count;
  // Unmapped, as the kernel's vfree() leaves it: any later access faults.
  madvise(p, size, MADV_DONTNEED);
  mprotect(p, size, PROT_NONE);
  vm_quar.emplace_back(start, size);
  while (vm_quar.size() > vm_quarantine) {
    vm_free.emplace(vm_quar.front().second + kPage, vm_quar.front().first);
    vm_quar.pop_front();
  }
}

bool read_nofault(const uintptr_t* addr, uintptr_t* val) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  const auto vs = reinterpret_cast<uintptr_t>(vm_base);
  if (a - vs < kVmallocSize) {
    auto it = vm_live.upper_bound(a);
    if (it == vm_live.begin()) return false;
    --it;
    if (a + sizeof(uintptr_t) > it->first + it->second) return false;
    memcpy(val, addr, sizeof(*val));
    return true;
  }
  // Elsewhere: whatever is mapped, read past the sanitizer (the kernel's
  // copy_from_kernel_nofault() reads freed slab memory too).
  struct iovec local = {val, sizeof(*val)};
  struct iovec remote = {const_cast<uintptr_t*>(addr), sizeof(*val)};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == sizeof(*val);
}

void drain_quarantine() {
  while (!quarantine.empty()) {
    const uintptr_t old = quarantine.front();
    quarantine.pop_front();
    quarantine_bytes -= blocks[old].size;
    release(old);
  }
}

uint64_t live(Kind kind) { return kind == kKinds ? vm_live_count : live_count[kind]; }

void report_leaks() {
  std::vector<std::pair<uint64_t, uintptr_t>> leaked;
  for (const auto& [obj, b] : blocks)
    if (!b.freed) leaked.emplace_back(b.seq, obj);
  std::sort(leaked.begin(), leaked.end());
  for (const auto& [seq, obj] : leaked) {
    const Block& b = blocks[obj];
    fprintf(stderr, "  leaked %s %p, %zu bytes (%s), allocation #%llu\n", kKindName[b.kind],
            reinterpret_cast<void*>(obj), b.size, b.what, static_cast<unsigned long long>(seq));
  }
  for (const auto& [start, size] : vm_live)
    fprintf(stderr, "  leaked vmalloc area %p, %zu bytes\n", reinterpret_cast<void*>(start), size);
}

}  // namespace sim::mem
