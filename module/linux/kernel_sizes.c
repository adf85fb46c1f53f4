// SPDX-License-Identifier: GPL-2.0
/*
 * Sizes and alignments of the kernel objects that the C++ core embeds in
 * its own structures.  They change with the kernel configuration (lockdep
 * makes a spinlock_t several times larger), so they are never written down
 * by hand: this file is compiled to assembly against the target kernel's
 * headers and Kbuild turns the "->" markers into
 * module/generated/kernel_sizes.h, the technique of asm-offsets.c.
 */
#include <linux/gfp.h>
#include <linux/types.h>
#include <linux/kbuild.h>
#include <linux/spinlock.h>
#include <linux/rbtree.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <asm/page.h>

#define DEFINE_SIZE_ALIGN(name, type) do {				\
	DEFINE(SPLK_##name##_SIZE, sizeof(type));			\
	DEFINE(SPLK_##name##_ALIGN, __alignof__(type));			\
} while (0)

int main(void);
int main(void)
{
	/* A constant for the core: the page masks of the free path fold. */
	DEFINE(SPLK_PAGE_SIZE, PAGE_SIZE);
	/* Lock assertions cross the seam only where lockdep can check them. */
	DEFINE(SPLK_LOCKDEP, IS_ENABLED(CONFIG_LOCKDEP));
	/* SLUB checks the cache of every object freed to it (and refuses
	 * what is not slab memory): untagged KMC_SLAB frees can rely on it.
	 */
	DEFINE(SPLK_SLAB_FREELIST_HARDENED, IS_ENABLED(CONFIG_SLAB_FREELIST_HARDENED));
	/* How the core reaches SLUB for one object (passthrough.hpp): 2,
	 * kmem_cache_alloc_noprof() by its symbol (6.10 made kmem_cache_alloc
	 * a macro over it); 1, kmem_cache_alloc() by its symbol; 0, through
	 * the glue, whose kmem_cache_alloc() keeps allocation profiling's
	 * call-site tag.  kmem_cache_free() has no such wrapper.
	 */
#if IS_ENABLED(CONFIG_MEM_ALLOC_PROFILING)
	DEFINE(SPLK_SLUB_CALL, 0);
#elif defined(kmem_cache_alloc)
	DEFINE(SPLK_SLUB_CALL, 2);
#else
	DEFINE(SPLK_SLUB_CALL, 1);
#endif
	/* GFP bits the core ORs in itself (the glue converts the rest). */
	DEFINE(SPLK_GFP_RECLAIMABLE, (__force unsigned int)__GFP_RECLAIMABLE);
	DEFINE_SIZE_ALIGN(SPINLOCK, spinlock_t);
	DEFINE_SIZE_ALIGN(WAIT_QUEUE_HEAD, wait_queue_head_t);
	DEFINE_SIZE_ALIGN(RB_ROOT, struct rb_root);
	DEFINE_SIZE_ALIGN(XARRAY, struct xarray);
	DEFINE_SIZE_ALIGN(RCU_HEAD, struct rcu_head);

	return 0;
}
