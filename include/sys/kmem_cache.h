/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splkmem: the OpenZFS SPL object cache API, <sys/kmem_cache.h>.
 *
 * Names, signatures, flag values and the kmem_cache_*() macros are those of
 * OpenZFS SPL, so a consumer written against SPL builds unchanged with -I at
 * this directory and links against splkmem.ko's exports.  The cache itself
 * is opaque: use the accessor functions instead of its fields.
 */
#ifndef _SPLKMEM_SYS_KMEM_CACHE_H
#define _SPLKMEM_SYS_KMEM_CACHE_H

#include <linux/types.h>
#include <sys/kmem.h>
#include <splkmem/flags.h>

typedef int (*spl_kmem_ctor_t)(void *, void *, int);
typedef void (*spl_kmem_dtor_t)(void *, void *);

typedef struct spl_kmem_cache spl_kmem_cache_t;
#define kmem_cache_t		spl_kmem_cache_t

/**
 * spl_kmem_cache_create() - create an object cache
 * @name:    cache name, 1 to %SPL_KMEM_CACHE_NAME_MAX characters, copied
 * @size:    object size in bytes, not 0
 * @align:   object alignment: 0 for the default (8), else a power of two
 *           from 8 to PAGE_SIZE
 * @ctor:    called on every allocation as ctor(obj, @priv, km_flags); may
 *           be NULL; its return value is ignored, as in SPL
 * @dtor:    called on every free as dtor(obj, @priv); may be NULL
 * @reclaim: unsupported, must be NULL
 * @priv:    private data passed to @ctor and @dtor
 * @vmp:     unsupported, must be NULL
 * @flags:   %KMC_KVMEM (vmalloc-backed slabs), %KMC_SLAB (a Linux
 *           kmem_cache), neither (chosen by size against
 *           spl_kmem_cache_slab_limit), %KMC_RECLAIMABLE, %KMC_NODEBUG
 *
 * May sleep.  Returns the cache, or NULL with a kernel error message naming
 * the bad argument.
 */
spl_kmem_cache_t *spl_kmem_cache_create(const char *name, size_t size,
	size_t align, spl_kmem_ctor_t ctor, spl_kmem_dtor_t dtor,
	void *reclaim, void *priv, void *vmp, int flags);

/**
 * spl_kmem_cache_set_move() - register a move callback
 * @skc:  the cache
 * @move: the callback; recorded but never called (no defragmentation)
 */
void spl_kmem_cache_set_move(spl_kmem_cache_t *skc,
	kmem_cbrc_t (*move)(void *, void *, size_t, void *));

/**
 * spl_kmem_cache_destroy() - destroy a cache
 * @skc: the cache, with every object freed
 *
 * Drains every CPU's magazine and frees every slab.  Objects still
 * allocated are reported with a WARN naming the cache and the count; their
 * slabs are kept until module unload so that no pointer dangles.  May sleep.
 */
void spl_kmem_cache_destroy(spl_kmem_cache_t *skc);

/**
 * spl_kmem_cache_alloc() - allocate an object
 * @skc:   the cache
 * @flags: %KM_SLEEP (may sleep, never returns NULL), %KM_NOSLEEP (does not
 *         sleep, may return NULL), optionally | %KM_PUSHPAGE
 *
 * Runs the cache's constructor on the object.
 */
void *spl_kmem_cache_alloc(spl_kmem_cache_t *skc, int flags);

/**
 * spl_kmem_cache_free() - free an object
 * @skc: the cache the object came from
 * @obj: the object; may be freed on any CPU
 *
 * Runs the destructor.  A pointer that does not belong to @skc, or an object
 * freed twice, is reported with a WARN and not taken.
 */
void spl_kmem_cache_free(spl_kmem_cache_t *skc, void *obj);

/*
 * Batches: splkmem's extension (after XNU's skmem_cache_batch_alloc()),
 * not in OpenZFS's SPL.  A consumer that may also build against SPL tests
 * for it with #ifdef SPL_KMEM_CACHE_HAVE_BATCH.
 */
#define SPL_KMEM_CACHE_HAVE_BATCH 1

/**
 * spl_kmem_cache_alloc_batch() - allocate up to @n objects
 * @skc:   the cache
 * @flags: as for spl_kmem_cache_alloc(), the same for every object
 * @objs:  where the objects go, @objs[0] to @objs[return value - 1]
 * @n:     how many are wanted
 *
 * Each object is what spl_kmem_cache_alloc() would give: constructed,
 * counted, checked in the debug mode.  Objects move a magazine's worth at
 * a time where the cache allows (vmalloc caches without constructor or
 * destructor, tagged %KMC_SLAB caches; untagged %KMC_SLAB caches use
 * SLUB's bulk calls).  With
 * %KM_SLEEP it returns @n; with %KM_NOSLEEP it may return fewer when the
 * cache cannot grow without sleeping.  Any context @flags allow.
 *
 * Return: the number of objects stored in @objs.
 */
size_t spl_kmem_cache_alloc_batch(spl_kmem_cache_t *skc, int flags, void **objs, size_t n);

/**
 * spl_kmem_cache_free_batch() - free @n objects
 * @skc:  the cache the objects came from
 * @objs: the objects; the array is not changed
 * @n:    how many
 *
 * Each object is checked and freed as spl_kmem_cache_free() would: the
 * destructor runs, and a pointer that is not an allocated object of @skc
 * is reported with a WARN and skipped, the others still freed.  Any
 * context.
 */
void spl_kmem_cache_free_batch(spl_kmem_cache_t *skc, void **objs, size_t n);

/**
 * spl_kmem_cache_set_allocflags() - add GFP flags to slab allocations
 * @skc:   the cache
 * @flags: GFP flags ORed into every page or slab allocation of the cache
 *
 * Zone modifiers (__GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, __GFP_MOVABLE),
 * __GFP_NOFAIL and __GFP_COMP cannot apply to a cache's objects: they are
 * never used, and a message names them.  A %KM_NOSLEEP allocation never
 * enters direct reclaim, whatever @flags add, so it stays safe in
 * interrupt context.  OpenZFS 2.4.4's SPL declares this function but does
 * not define it.
 */
void spl_kmem_cache_set_allocflags(spl_kmem_cache_t *skc, gfp_t flags);

/**
 * spl_kmem_cache_reap_now() - return free memory of one cache
 * @skc: the cache
 *
 * Empties the calling CPU's magazines and the depot into the slabs and
 * frees every empty slab, then asks every other online CPU to empty its
 * magazines of @skc in a work item of its own, soon, and does not wait
 * for them (SPL flushes the calling CPU only).  May sleep.
 */
void spl_kmem_cache_reap_now(spl_kmem_cache_t *skc);

/**
 * spl_kmem_reap() - spl_kmem_cache_reap_now() on every cache
 */
void spl_kmem_reap(void);

/**
 * spl_kmem_cache_inuse() - objects the cache holds
 * @cache: the cache
 *
 * For a vmalloc-backed cache, every object of its slabs (allocated or
 * free), as in SPL.  For a %KMC_SLAB cache, the objects callers hold: a
 * snapshot of per-CPU counters that may lag behind a concurrent free by a
 * few objects and is never negative.  SPL returns 0 for %KMC_SLAB caches
 * (it counts only its own slabs); this returns what the cache really
 * holds because the one caller in OpenZFS 2.4.4,
 * metaslab_potentially_evict(), compares it with zfs_metaslab_mem_limit
 * to unload metaslabs whose range trees use too much memory, as it does on
 * FreeBSD and illumos: with 0 that documented limit never acts on Linux.
 * Safe to call from any context; does not sleep.
 */
uint64_t spl_kmem_cache_inuse(kmem_cache_t *cache);

/**
 * spl_kmem_cache_entry_size() - object size the cache was created with
 * @cache: the cache
 */
uint64_t spl_kmem_cache_entry_size(kmem_cache_t *cache);

#ifndef SPL_KMEM_CACHE_IMPLEMENTING
/* The Solaris-style names SPL consumers use. */
#undef kmem_cache_alloc
#undef kmem_cache_create

#define kmem_cache_create(name, size, align, ctor, dtor, rclm, priv, vmp, fl) \
	spl_kmem_cache_create(name, size, align, ctor, dtor, rclm, priv, vmp, fl)
#define kmem_cache_set_move(skc, move)	spl_kmem_cache_set_move(skc, move)
#define kmem_cache_destroy(skc)		spl_kmem_cache_destroy(skc)
#define kmem_cache_alloc(skc, flags)	spl_kmem_cache_alloc(skc, flags)
#define kmem_cache_free(skc, obj)	spl_kmem_cache_free(skc, obj)
#define kmem_cache_reap_now(skc)	spl_kmem_cache_reap_now(skc)
#define kmem_reap()			spl_kmem_reap()
#endif

#endif /* _SPLKMEM_SYS_KMEM_CACHE_H */
