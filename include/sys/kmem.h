/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splkmem: allocation flags of the OpenZFS SPL <sys/kmem.h>.
 *
 * The KM_* values are SPL's, so code written against SPL compiles and
 * behaves the same.  Only the object-cache API is provided by splkmem; the
 * SPL kmem_alloc()/kmem_free() family is not.
 */
#ifndef _SPLKMEM_SYS_KMEM_H
#define _SPLKMEM_SYS_KMEM_H

#include <linux/types.h>
#include <linux/slab.h>

#include <splkmem/flags.h>

int spl_kmem_cache_reap_active(void);
#define kmem_cache_reap_active	spl_kmem_cache_reap_active

#endif /* _SPLKMEM_SYS_KMEM_H */
