/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seam: the only interface between the C++ allocator core and the
 * kernel.  Plain C types, no Linux header on the C++ side.
 *
 * module/kernel_services.c implements the kernel services declared here
 * (thin wrappers, nothing clever); the C++ core implements the
 * SPLKMEM_CORE functions at the bottom.  Kernel objects that C++ structs
 * embed (spinlock_t, struct percpu_counter, ...) are opaque storage whose
 * size and alignment come from generated/kernel_sizes.h, never from a
 * hand-written number.
 *
 * The allocation fast path crosses this seam exactly twice:
 * splk_irq_save_cpu() and splk_irq_restore().  Everything else on that path
 * is inline C++.
 */
#ifndef SPLKMEM_SEAM_H
#define SPLKMEM_SEAM_H

#ifdef __cplusplus
#include <stddef.h>
#include <stdint.h>
#define SPLK_EXTERN_C_BEGIN extern "C" {
#define SPLK_EXTERN_C_END }
#define SPLK_NOEXCEPT noexcept
#else
#include <linux/types.h>
#define SPLK_EXTERN_C_BEGIN
#define SPLK_EXTERN_C_END
#define SPLK_NOEXCEPT
#endif

#include <splkmem/flags.h>

#define SPLK_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

SPLK_EXTERN_C_BEGIN

/* ---- Facts about the running kernel, filled once at module init. ---- */
struct splk_kernel_info {
	uintptr_t vmalloc_start;	/* is_vmalloc_addr() range, inline */
	uintptr_t vmalloc_end;
	unsigned long page_size;
	unsigned int page_shift;
	unsigned int nr_cpu_ids;
	unsigned int hz;
};
extern struct splk_kernel_info splk_kernel;

/*
 * Module parameters, validated by their setters in splkmem_main.c before
 * they are stored, read here with relaxed atomic loads.
 */
extern unsigned int spl_kmem_cache_magazine_size;
extern unsigned int spl_kmem_cache_reclaim;
extern unsigned int spl_kmem_cache_obj_per_slab;
extern unsigned int spl_kmem_cache_max_size;
extern unsigned int spl_kmem_cache_slab_limit;
extern unsigned int spl_kmem_cache_kmem_threads;

/* ---- Logging.  level: 0 error, 1 warning, 2 info. ---- */
void splk_log(int level, const char *fmt, ...) SPLK_NOEXCEPT SPLK_PRINTF(2, 3);
/* WARN() with a stack trace; counts into splk_warnings for the tests. */
void splk_warn(const char *fmt, ...) SPLK_NOEXCEPT SPLK_PRINTF(1, 2);
extern unsigned long splk_warnings;

/* ---- Memory.  km_flags are SPL KM_* flags, converted by the glue. ---- */
void *splk_kmalloc_node(size_t size, int km_flags, int node) SPLK_NOEXCEPT;
void splk_kfree(const void *ptr) SPLK_NOEXCEPT;
/* Page-aligned virtually contiguous memory for one slab. */
void *splk_vmalloc(size_t size, int km_flags, unsigned int extra_gfp) SPLK_NOEXCEPT;
/* Frees a slab and credits the pages to reclaim_state, may sleep. */
void splk_vfree(void *ptr, size_t size) SPLK_NOEXCEPT;
/* Reads a word that may not be mapped; false if it is not. */
bool splk_read_word_nofault(const uintptr_t *addr, uintptr_t *val) SPLK_NOEXCEPT;
uint64_t splk_random_u64(void) SPLK_NOEXCEPT;

/* ---- Linux slab passthrough (KMC_SLAB caches). ---- */
void *splk_linux_cache_create(const char *name, size_t size, size_t align,
			      bool reclaimable) SPLK_NOEXCEPT;
void splk_linux_cache_destroy(void *cache) SPLK_NOEXCEPT;
/* Allocates and counts into the percpu counter at @counter. */
void *splk_linux_cache_alloc(void *cache, void *counter, int km_flags,
			     unsigned int extra_gfp) SPLK_NOEXCEPT;
/* True when @obj can belong to @cache: slab memory of at least @size. */
bool splk_linux_cache_may_own(void *cache, const void *obj, size_t size) SPLK_NOEXCEPT;
void splk_linux_cache_free(void *cache, void *counter, void *obj) SPLK_NOEXCEPT;

/* ---- struct percpu_counter stored in C++ objects. ---- */
int splk_percpu_counter_init(void *counter) SPLK_NOEXCEPT;
void splk_percpu_counter_destroy(void *counter) SPLK_NOEXCEPT;
int64_t splk_percpu_counter_sum(void *counter) SPLK_NOEXCEPT;

/* ---- spinlock_t stored in C++ objects. ---- */
void splk_spin_lock_init(void *lock) SPLK_NOEXCEPT;
void splk_spin_lock(void *lock) SPLK_NOEXCEPT;
void splk_spin_unlock(void *lock) SPLK_NOEXCEPT;

/* ---- Interrupts and CPUs. ---- */
/* local_irq_save() and smp_processor_id() in one call. */
unsigned long splk_irq_save_cpu(unsigned int *cpu) SPLK_NOEXCEPT;
void splk_irq_restore(unsigned long flags) SPLK_NOEXCEPT;
bool splk_cpu_possible(unsigned int cpu) SPLK_NOEXCEPT;
int splk_cpu_to_node(unsigned int cpu) SPLK_NOEXCEPT;

/* ---- Sleeping and deferred work. ---- */
void splk_might_sleep(void) SPLK_NOEXCEPT;
/* True when the caller may sleep (and so may vfree()). */
bool splk_can_sleep(void) SPLK_NOEXCEPT;
/* Queues the reclaim worker, which calls splk_core_reclaim(). */
void splk_schedule_reclaim(void) SPLK_NOEXCEPT;
void splk_cond_resched(void) SPLK_NOEXCEPT;
unsigned long splk_jiffies(void) SPLK_NOEXCEPT;

/* ---- The registry of caches: a global rw_semaphore. ---- */
void splk_registry_lock_read(void) SPLK_NOEXCEPT;
void splk_registry_unlock_read(void) SPLK_NOEXCEPT;
void splk_registry_lock_write(void) SPLK_NOEXCEPT;
void splk_registry_unlock_write(void) SPLK_NOEXCEPT;

/* ==== Implemented by the C++ core (SPLKMEM_CORE). ==== */

/*
 * The SPL API, as the core defines it.  The glue includes this and the
 * public <sys/kmem_cache.h>, so the compiler checks that the two agree.
 */
struct spl_kmem_cache;
struct spl_kmem_cache *spl_kmem_cache_create(const char *name, size_t size,
	size_t align, int (*ctor)(void *, void *, int),
	void (*dtor)(void *, void *), void *reclaim, void *priv, void *vmp,
	int flags) SPLK_NOEXCEPT;
void spl_kmem_cache_set_move(struct spl_kmem_cache *skc,
	kmem_cbrc_t (*move)(void *, void *, size_t, void *)) SPLK_NOEXCEPT;
void spl_kmem_cache_destroy(struct spl_kmem_cache *skc) SPLK_NOEXCEPT;
void *spl_kmem_cache_alloc(struct spl_kmem_cache *skc, int flags) SPLK_NOEXCEPT;
void spl_kmem_cache_free(struct spl_kmem_cache *skc, void *obj) SPLK_NOEXCEPT;
void spl_kmem_cache_set_allocflags(struct spl_kmem_cache *skc,
	unsigned int gfp) SPLK_NOEXCEPT;
void spl_kmem_cache_reap_now(struct spl_kmem_cache *skc) SPLK_NOEXCEPT;
void spl_kmem_reap(void) SPLK_NOEXCEPT;
int spl_kmem_cache_reap_active(void) SPLK_NOEXCEPT;
uint64_t spl_kmem_cache_inuse(struct spl_kmem_cache *skc) SPLK_NOEXCEPT;
uint64_t spl_kmem_cache_entry_size(struct spl_kmem_cache *skc) SPLK_NOEXCEPT;

/* Statistics of one cache, a snapshot for /proc and the tests. */
struct splk_cache_stats {
	const char *name;
	unsigned long flags;
	uint64_t obj_size;
	uint64_t obj_align;
	uint64_t slab_size;
	uint64_t slab_objs;
	uint64_t slab_fail;
	uint64_t slab_create;
	uint64_t slab_destroy;
	uint64_t slab_total;
	uint64_t slab_alloc;
	uint64_t slab_max;
	uint64_t obj_total;
	uint64_t obj_alloc;
	uint64_t obj_max;
	uint64_t obj_deadlock;
	uint64_t obj_emergency;
	uint64_t obj_emergency_max;
	uint64_t linux_alloc;	/* KMC_SLAB: objects out of the Linux cache */
	uint64_t mag_size;
	uint64_t mag_refill;
	uint64_t mag_objs;	/* objects cached in all magazines now */
};

int splk_core_init(void) SPLK_NOEXCEPT;
void splk_core_exit(void) SPLK_NOEXCEPT;
/* The reclaim worker: frees empty slabs that frees could not free. */
void splk_core_reclaim(void) SPLK_NOEXCEPT;
/* Objects a reap could give back: free in slabs or cached in magazines. */
uint64_t splk_core_freeable(void) SPLK_NOEXCEPT;
/* Calls @fn for every cache, under the registry read lock. */
void splk_for_each_cache(void (*fn)(const struct splk_cache_stats *, void *),
			 void *arg) SPLK_NOEXCEPT;
/* Version string of the core, proves the seam in the first KUnit suite. */
const char *splk_core_version(void) SPLK_NOEXCEPT;

SPLK_EXTERN_C_END

#endif /* SPLKMEM_SEAM_H */
