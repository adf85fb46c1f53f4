/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splkmem: the constants of the SPL kmem API (KM_* allocation flags, KMC_*
 * cache flags, enums and defaults) with OpenZFS SPL's values.  Plain C with
 * no include, so that both the public headers and the C++ core use this one
 * definition.
 */
#ifndef _SPLKMEM_FLAGS_H
#define _SPLKMEM_FLAGS_H

#define KM_SLEEP	0x0000	/* can block for memory; success guaranteed */
#define KM_NOSLEEP	0x0001	/* cannot block for memory; may fail */
#define KM_PUSHPAGE	0x0004	/* can block for memory; may use reserve */
#define KM_ZERO		0x1000	/* zero the allocation */
#define KM_VMEM		0x2000	/* caller is vmem_* wrapper */

#define KM_PUBLIC_MASK	(KM_SLEEP | KM_NOSLEEP | KM_PUSHPAGE)

/* Bits of the cache flags; the public ones are the KMC_* flags below. */
typedef enum kmc_bit {
	KMC_BIT_NODEBUG		= 1,	/* Default behavior */
	KMC_BIT_KVMEM		= 7,	/* Slabs from vmalloc */
	KMC_BIT_SLAB		= 8,	/* Objects from a Linux kmem_cache */
	KMC_BIT_DEADLOCKED	= 14,	/* Deadlock detected */
	KMC_BIT_GROWING		= 15,	/* Growing in progress */
	KMC_BIT_REAPING		= 16,	/* Reaping in progress */
	KMC_BIT_DESTROY		= 17,	/* Destroy in progress */
	KMC_BIT_TOTAL		= 18,	/* Proc handler helper bit */
	KMC_BIT_ALLOC		= 19,	/* Proc handler helper bit */
	KMC_BIT_MAX		= 20,	/* Proc handler helper bit */
	KMC_BIT_RECLAIMABLE	= 21,	/* Can be freed by shrinker */
} kmc_bit_t;

/* Return values of a move callback (accepted, never called). */
typedef enum kmem_cbrc {
	KMEM_CBRC_YES		= 0,	/* Object moved */
	KMEM_CBRC_NO		= 1,	/* Object not moved */
	KMEM_CBRC_LATER		= 2,	/* Object not moved, try again later */
	KMEM_CBRC_DONT_NEED	= 3,	/* Neither object is needed */
	KMEM_CBRC_DONT_KNOW	= 4,	/* Object unknown */
} kmem_cbrc_t;

#define KMC_NODEBUG		(1 << KMC_BIT_NODEBUG)
#define KMC_KVMEM		(1 << KMC_BIT_KVMEM)
#define KMC_SLAB		(1 << KMC_BIT_SLAB)
#define KMC_DEADLOCKED		(1 << KMC_BIT_DEADLOCKED)
#define KMC_GROWING		(1 << KMC_BIT_GROWING)
#define KMC_REAPING		(1 << KMC_BIT_REAPING)
#define KMC_DESTROY		(1 << KMC_BIT_DESTROY)
#define KMC_TOTAL		(1 << KMC_BIT_TOTAL)
#define KMC_ALLOC		(1 << KMC_BIT_ALLOC)
#define KMC_MAX			(1 << KMC_BIT_MAX)
#define KMC_RECLAIMABLE		(1 << KMC_BIT_RECLAIMABLE)

#define SPL_KMEM_CACHE_OBJ_PER_SLAB	8	/* Target objects per slab */
#define SPL_KMEM_CACHE_ALIGN		8	/* Default object alignment */
#define SPL_KMEM_CACHE_MAX_SIZE		32	/* Max slab size in MB */
/* Longest cache name, without the terminating NUL (splkmem limit). */
#define SPL_KMEM_CACHE_NAME_MAX		63

#endif /* _SPLKMEM_FLAGS_H */
