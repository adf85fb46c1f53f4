// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel services for the C++ core: thin wrappers declared in seam.h.
 * Nothing here makes a decision of the allocator; each function is one
 * kernel call plus the KM_* to GFP conversion.
 */
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/local_lock.h>
#include <linux/workqueue.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/swap.h>
#include <linux/topology.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#define SPL_KMEM_CACHE_IMPLEMENTING
#include <sys/kmem.h>

#include "seam.h"
#include "glue.h"
#include "generated/kernel_sizes.h"
#include "generated/kernel_features.h"

static_assert(PAGE_SIZE == SPLK_PAGE_SIZE);
static_assert(sizeof(spinlock_t) == SPLK_SPINLOCK_SIZE);
static_assert(sizeof(wait_queue_head_t) == SPLK_WAIT_QUEUE_HEAD_SIZE);
static_assert(SPLK_ENOENT == ENOENT && SPLK_ENOMEM == ENOMEM && SPLK_EBUSY == EBUSY);
static_assert(sizeof(struct rb_root) == SPLK_RB_ROOT_SIZE);
static_assert(sizeof(struct rcu_head) == SPLK_RCU_HEAD_SIZE);

struct splk_kernel_info splk_kernel;
#ifdef SPLKMEM_TEST_HOOKS
struct splk_test_hooks splk_test_hooks;
EXPORT_SYMBOL_GPL(splk_test_hooks);
EXPORT_SYMBOL_GPL(splk_fault_inject_current);
#endif

void splk_test_udelay(unsigned int us)
{
	udelay(us);
}

void splk_fault_inject_current(bool on)
{
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = on;
#endif
}

static atomic_long_t splk_warnings = ATOMIC_LONG_INIT(0);

/* SPL's KM_* to GFP conversion (sys/kmem.h kmem_flags_convert()). */
static gfp_t splk_gfp(int km_flags)
{
	gfp_t gfp = __GFP_NOWARN;

	if (km_flags & KM_NOSLEEP) {
		gfp |= GFP_ATOMIC | __GFP_NORETRY;
	} else {
		gfp |= GFP_KERNEL;
		if (current->flags & PF_MEMALLOC_NOIO)
			gfp &= ~(__GFP_IO | __GFP_FS);
	}
	if (km_flags & KM_PUSHPAGE)
		gfp |= __GFP_HIGH;
	if (km_flags & KM_ZERO)
		gfp |= __GFP_ZERO;
	return gfp;
}

/*
 * Bits spl_kmem_cache_set_allocflags() cannot add: zone modifiers (our
 * objects come from SLUB, vmalloc slabs and emergency pages of the normal
 * zones; SLUB warns on __GFP_HIGHMEM and __GFP_DMA32, __get_free_pages()
 * may not return highmem), __GFP_NOFAIL (KM_SLEEP retries by itself and
 * KM_NOSLEEP must be able to fail) and __GFP_COMP.
 */
#define SPLK_GFP_UNUSABLE (GFP_ZONEMASK | __GFP_NOFAIL | __GFP_COMP)

/*
 * The flags of one allocation: SPL's conversion of km_flags plus the
 * cache's extra flags, less what cannot apply.  KM_NOSLEEP may run in an
 * interrupt: it never enters direct reclaim, whatever was added.
 */
static gfp_t splk_gfp_extra(int km_flags, unsigned int extra_gfp)
{
	gfp_t gfp = splk_gfp(km_flags) | ((__force gfp_t)extra_gfp & ~SPLK_GFP_UNUSABLE);

	if (km_flags & KM_NOSLEEP)
		gfp &= ~__GFP_DIRECT_RECLAIM;
	return gfp;
}

unsigned int splk_gfp_unusable(unsigned int gfp)
{
	return gfp & (__force unsigned int)SPLK_GFP_UNUSABLE;
}

void splk_log(int level, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (level == 0)
		pr_err("%pV\n", &vaf);
	else if (level == 1)
		pr_warn("%pV\n", &vaf);
	else
		pr_info("%pV\n", &vaf);
	va_end(args);
}

unsigned long splk_warning_count(void)
{
	return atomic_long_read(&splk_warnings);
}

void splk_warn(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	atomic_long_inc(&splk_warnings);
	WARN(1, "splkmem: %pV\n", &vaf);
	va_end(args);
}

void *splk_kmalloc_node(size_t size, int km_flags, int node)
{
	return kmalloc_node(size, splk_gfp(km_flags), node);
}

void splk_kfree(const void *ptr)
{
	kfree(ptr);
}

/*
 * A slab's memory, its pages on node where the kernel lets us say so with
 * the flags SPL's conversion gives (issue 26: slabs on the node of the CPU
 * that grows them).  No kernel exports __vmalloc_node() or
 * __vmalloc_node_range() to modules.  What is exported:
 *  - vmalloc_huge_node(size, gfp, node) (7.x, GPL): the flags and the node;
 *    it maps huge pages only for a size of a PMD or more (and rounds such
 *    a size up to whole PMDs), so below a PMD it is __vmalloc_node();
 *  - vmalloc_node(size, node) (6.1, 6.12, 7.x): GFP_KERNEL and nothing
 *    else, so it serves only the plain KM_SLEEP slab (GFP_KERNEL |
 *    __GFP_NOWARN, no extra flags) and then warns if it fails, where
 *    __vmalloc() with __GFP_NOWARN would not.  Inside the no-I/O scope its
 *    GFP_KERNEL is GFP_NOIO, as ours is.
 * Anything else, and every single-node machine, takes __vmalloc(), whose
 * pages come from the node the calling task runs on.
 */
static void *splk_vmalloc(size_t size, int km_flags, unsigned int extra_gfp,
			  int node)
{
	/* vmalloc memory is never compound; SPL adds KM_VMEM for that. */
	gfp_t gfp = splk_gfp_extra(km_flags | KM_VMEM, extra_gfp);

	if (node < 0 || nr_node_ids == 1 || !node_online(node))
		return __vmalloc(size, gfp);
#if SPLK_HAVE_VMALLOC_HUGE_NODE
	if (size < PMD_SIZE)
		return vmalloc_huge_node(size, gfp, node);
#endif
	if (gfp == (GFP_KERNEL | __GFP_NOWARN) ||
	    gfp == (GFP_NOIO | __GFP_NOWARN))
		return vmalloc_node(size, node);
	return __vmalloc(size, gfp);
}

/*
 * Direct reclaim measures its progress by reclaim_state; the Linux slabs
 * credit the pages they free, so do we.
 */
static void splk_credit_reclaim(size_t size)
{
	if (current->reclaim_state)
#if SPLK_HAVE_RECLAIM_STATE_RECLAIMED
		current->reclaim_state->reclaimed += size >> PAGE_SHIFT;
#else
		current->reclaim_state->reclaimed_slab += size >> PAGE_SHIFT;
#endif
}

void splk_vfree(void *ptr, size_t size)
{
	splk_credit_reclaim(size);
	vfree(ptr);
}

void *splk_vmalloc_noio(size_t size, int km_flags, unsigned int extra_gfp,
			int node)
{
	unsigned int noio = memalloc_noio_save();
	void *ptr = splk_vmalloc(size, km_flags, extra_gfp, node);

	memalloc_noio_restore(noio);
	return ptr;
}

bool splk_read_word_nofault(const uintptr_t *addr, uintptr_t *val)
{
	return copy_from_kernel_nofault(val, addr, sizeof(*val)) == 0;
}

uint64_t splk_random_u64(void)
{
	return get_random_u64();
}

void *splk_linux_cache_create(const char *name, size_t size, size_t align,
			      size_t useroffset, size_t usersize,
			      bool reclaimable)
{
	slab_flags_t flags = reclaimable ? SLAB_RECLAIM_ACCOUNT : 0;

	return kmem_cache_create_usercopy(name, size, align, flags, useroffset,
					  usersize, NULL);
}

void splk_linux_cache_destroy(void *cache)
{
	kmem_cache_destroy(cache);
}

/*
 * The page allocator applies a no-I/O scope (memalloc_noio_save()) itself.
 * Before 6.4 the bulk calls leave interrupts enabled when they return
 * (local_lock_irq), so with interrupts off (a hard irq, a caller's
 * spin_lock_irqsave, our per-CPU section) objects go one at a time.
 */
unsigned int splk_linux_cache_alloc_bulk(void *cache, unsigned int gfp, unsigned int n,
					 void **objs)
{
	unsigned int i;

	/*
	 * All or nothing, told by the count on 6.12 and by true or false
	 * since SLUB's sheaves (7.x): nonzero means all @n.  The count itself
	 * would be 1 for a whole batch on 7.x.
	 */
	if (!irqs_disabled())
		return kmem_cache_alloc_bulk(cache, (__force gfp_t)gfp, n, objs) ? n : 0;
	for (i = 0; i < n; i++) {
		objs[i] = kmem_cache_alloc(cache, (__force gfp_t)gfp);
		if (!objs[i])
			break;
	}
	return i;
}

unsigned int splk_km_to_gfp(int km_flags, unsigned int extra_gfp)
{
	return (__force unsigned int)splk_gfp_extra(km_flags, extra_gfp);
}

notrace void *splk_linux_cache_alloc(void *cache, unsigned int gfp)
{
	return kmem_cache_alloc(cache, (__force gfp_t)gfp);
}

/*
 * The core calls SLUB's one-object entry points by their symbols
 * (module/core/passthrough.hpp): they must have the prototypes it
 * declares, a cache pointer and gfp_t (an unsigned int) or an object.
 */
static_assert(__builtin_types_compatible_p(typeof(&kmem_cache_free),
					   void (*)(struct kmem_cache *, void *)));
static_assert(sizeof(gfp_t) == sizeof(unsigned int));
#if SPLK_SLUB_CALL == 2
static_assert(__builtin_types_compatible_p(typeof(&kmem_cache_alloc_noprof),
					   void *(*)(struct kmem_cache *, gfp_t)));
#elif SPLK_SLUB_CALL == 1
static_assert(__builtin_types_compatible_p(typeof(&kmem_cache_alloc),
					   void *(*)(struct kmem_cache *, gfp_t)));
#endif

bool splk_linux_cache_may_own(void *cache, const void *obj, size_t size)
{
	unsigned long addr = (unsigned long)obj;

	/* Slab memory is never vmalloc memory: refuse that without a call. */
	if (!obj || addr - VMALLOC_START < VMALLOC_END - VMALLOC_START ||
	    !virt_addr_valid(obj))
		return false;
#if SPLK_HAVE_FOLIO_TEST_SLAB
	if (!folio_test_slab(virt_to_folio(obj)))
		return false;
#else
	if (!PageSlab(virt_to_head_page(obj)))
		return false;
#endif
	/*
	 * With freelist hardening SLUB checks which cache a slab object
	 * belongs to on every free (and warns and frees it to its own cache);
	 * without it, at least refuse objects too small to be ours.
	 */
	return IS_ENABLED(CONFIG_SLAB_FREELIST_HARDENED) || ksize(obj) >= size;
}

void splk_linux_cache_free_bulk(void *cache, unsigned int n, void **objs)
{
	unsigned int i;

	if (!irqs_disabled()) {
		kmem_cache_free_bulk(cache, n, objs);
		return;
	}
	for (i = 0; i < n; i++)
		kmem_cache_free(cache, objs[i]);
}

/*
 * Per-CPU pointers cross the seam as plain pointers holding the per-CPU
 * offset (what alloc_percpu() returns; the core adds %gs itself).  Where
 * kernel and compiler use named address spaces for it, __percpu is
 * __seg_gs (Debian sid's 7.2 built with GCC 16; not Debian 12's 6.1 and
 * 6.12), and a cast between it and the generic space warns: convert
 * through an integer, as the kernel's own PERCPU_PTR() does.  Elsewhere
 * __percpu is only sparse's annotation and this is the same cast.
 */
#define splk_percpu_of(type, p) ((type __percpu *)(__force unsigned long)(p))

void *splk_percpu_alloc(size_t size, size_t align)
{
	return (void *)(__force unsigned long)__alloc_percpu(size, align);
}

void splk_percpu_free(void *pcpu)
{
	free_percpu(splk_percpu_of(void, pcpu));
}

void *splk_per_cpu_ptr(void *pcpu, unsigned int cpu)
{
	return per_cpu_ptr(splk_percpu_of(void, pcpu), cpu);
}

long splk_percpu_sum_long(void *pcpu)
{
	long sum = 0;
	int cpu;

	/*
	 * Each CPU counts its own with one instruction while this reads:
	 * marked reads, and a sum that may be off by what moved meanwhile.
	 */
	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(splk_percpu_of(long, pcpu), cpu));
	return sum;
}

static struct lock_class_key splk_lock_keys[SPLK_LOCK_CLASSES];
static const char *const splk_lock_names[SPLK_LOCK_CLASSES] = {
	[SPLK_LOCK_CACHE] = "splkmem_cache_lock",
	[SPLK_LOCK_TASKQ] = "splkmem_taskq_lock",
	[SPLK_LOCK_DEPOT] = "splkmem_depot_lock",
};

void splk_spin_lock_init(void *lock, enum splk_lock_class cls)
{
	spin_lock_init((spinlock_t *)lock);
	lockdep_set_class_and_name((spinlock_t *)lock, &splk_lock_keys[cls],
				   splk_lock_names[cls]);
}

unsigned long splk_spin_lock_irqsave(void *lock)
{
	unsigned long flags;

	spin_lock_irqsave((spinlock_t *)lock, flags);
	return flags;
}

void splk_spin_unlock_irqrestore(void *lock, unsigned long flags)
{
	spin_unlock_irqrestore((spinlock_t *)lock, flags);
}

bool splk_spin_trylock_irqsave(void *lock, unsigned long *flags)
{
	return spin_trylock_irqsave((spinlock_t *)lock, *flags);
}

void splk_spin_assert_held(void *lock)
{
	lockdep_assert_held((spinlock_t *)lock);
}

void splk_waitq_init(void *wq)
{
	init_waitqueue_head((wait_queue_head_t *)wq);
}

void splk_waitq_wake_all(void *wq)
{
	wake_up_all((wait_queue_head_t *)wq);
}

long splk_waitq_wait(void *wq, bool (*done)(void *), void *arg, long timeout,
		     bool interruptible)
{
	wait_queue_head_t *head = wq;

	if (timeout >= 0)
		return interruptible ?
			wait_event_interruptible_timeout(*head, done(arg), timeout) :
			wait_event_timeout(*head, done(arg), timeout);
	if (interruptible)
		return wait_event_interruptible(*head, done(arg)) ? 0 : 1;
	wait_event(*head, done(arg));
	return 1;
}

void splk_thread_stop(void *thread)
{
	kthread_stop(thread);
}

bool splk_thread_should_stop(void)
{
	return kthread_should_stop();
}

void splk_msleep(unsigned int ms)
{
	msleep(ms);
}

void *splk_alloc_pages(size_t size, int km_flags, unsigned int extra_gfp)
{
	gfp_t gfp = splk_gfp_extra(km_flags, extra_gfp);

	return (void *)__get_free_pages(gfp, get_order(size));
}

void splk_free_pages(void *addr, size_t size)
{
	free_pages((unsigned long)addr, get_order(size));
}

struct splk_addr_node {
	struct rb_node rb;
	uintptr_t addr;
};

void splk_addr_set_init(void *set)
{
	*(struct rb_root *)set = RB_ROOT;
}

void *splk_addr_node_alloc(int km_flags)
{
	return kmalloc(sizeof(struct splk_addr_node), splk_gfp(km_flags));
}

void splk_addr_node_free(void *node)
{
	kfree(node);
}

bool splk_addr_set_insert(void *set, void *node, uintptr_t addr)
{
	struct rb_root *root = set;
	struct rb_node **link = &root->rb_node, *parent = NULL;
	struct splk_addr_node *n = node;

	while (*link) {
		struct splk_addr_node *cur = rb_entry(*link, struct splk_addr_node, rb);

		parent = *link;
		if (addr < cur->addr)
			link = &(*link)->rb_left;
		else if (addr > cur->addr)
			link = &(*link)->rb_right;
		else
			return false;
	}
	n->addr = addr;
	rb_link_node(&n->rb, parent, link);
	rb_insert_color(&n->rb, root);
	return true;
}

void *splk_addr_set_pop(void *set, uintptr_t *addr)
{
	struct rb_root *root = set;
	struct rb_node *rb = rb_first(root);
	struct splk_addr_node *node;

	if (!rb)
		return NULL;
	node = rb_entry(rb, struct splk_addr_node, rb);
	rb_erase(rb, root);
	*addr = node->addr;
	return node;
}

static struct splk_addr_node *splk_addr_set_find(struct rb_root *root, uintptr_t addr)
{
	struct rb_node *rb = root->rb_node;

	while (rb) {
		struct splk_addr_node *cur = rb_entry(rb, struct splk_addr_node, rb);

		if (addr < cur->addr)
			rb = rb->rb_left;
		else if (addr > cur->addr)
			rb = rb->rb_right;
		else
			return cur;
	}
	return NULL;
}

void *splk_addr_set_remove(void *set, uintptr_t addr)
{
	struct splk_addr_node *node = splk_addr_set_find(set, addr);

	if (node)
		rb_erase(&node->rb, set);
	return node;
}

bool splk_addr_set_contains(void *set, uintptr_t addr)
{
	return splk_addr_set_find(set, addr) != NULL;
}

void splk_index_init(void *xa)
{
	xa_init(xa);
}

bool splk_index_store(void *xa, unsigned long index, void *entry, int km_flags)
{
	unsigned int noio = memalloc_noio_save();
	void *old = xa_store(xa, index, entry, splk_gfp(km_flags));

	memalloc_noio_restore(noio);
	return !xa_is_err(old);
}

void *splk_index_load(void *xa, unsigned long index)
{
	return xa_load(xa, index);
}

void splk_index_erase(void *xa, unsigned long index)
{
	xa_erase(xa, index);
}

void splk_index_destroy(void *xa)
{
	xa_destroy(xa);
}

/*
 * The per-CPU section of kernels that do not get the inline one: a
 * local_lock_t, which is local_irq_save() plus a lockdep annotation
 * (nesting and ordering checked) on other kernels, and a per-CPU lock with
 * migration disabled on PREEMPT_RT, where the cache lock it nests sleeps.
 */
static DEFINE_PER_CPU(local_lock_t, splk_cpu_lock) = INIT_LOCAL_LOCK(splk_cpu_lock);

notrace unsigned long splk_irq_save(void)
{
	unsigned long flags;

	local_lock_irqsave(&splk_cpu_lock, flags);
	return flags;
}

notrace void splk_irq_restore(unsigned long flags)
{
	local_unlock_irqrestore(&splk_cpu_lock, flags);
}

struct splk_cpu_call {
	void (*fn)(void *arg);
	void *arg;
};

static long splk_cpu_call_fn(void *data)
{
	struct splk_cpu_call *call = data;

	call->fn(call->arg);
	return 0;
}

/*
 * Drain requests: one work item per CPU serves every cache that asked, so
 * spl_kmem_reap() over a hundred caches queues at most one item a CPU and
 * waits for none.  A CPU that goes offline before its item runs has its
 * magazines drained by hotplug; its item then runs elsewhere and drains
 * that CPU, harmlessly.
 */
static DEFINE_PER_CPU(struct work_struct, splk_drain_work);

static void splk_drain_work_fn(struct work_struct *work)
{
	splk_core_drain_this_cpu();
}

void splk_drain_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		INIT_WORK(per_cpu_ptr(&splk_drain_work, cpu), splk_drain_work_fn);
}

void splk_drain_request(void)
{
	int this = get_cpu();
	int cpu;

	for_each_online_cpu(cpu)
		if (cpu != this)
			schedule_work_on(cpu, per_cpu_ptr(&splk_drain_work, cpu));
	put_cpu();
}

void splk_drain_flush(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		flush_work(per_cpu_ptr(&splk_drain_work, cpu));
}

void splk_rcu_read_lock(void)
{
	rcu_read_lock();
}

void splk_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

static void splk_kfree_rcu_fn(struct rcu_head *head)
{
	kfree(head);
}

void splk_kfree_rcu(void *obj)
{
	if (obj)
		call_rcu(obj, splk_kfree_rcu_fn);
}

/* A softirq: vfree() hands the area to a work item (vfree_atomic()). */
static void splk_vfree_rcu_fn(struct rcu_head *head)
{
	vfree(head);
}

void splk_vfree_rcu(void *ptr, size_t size)
{
	if (!ptr)
		return;
	/*
	 * Credited now: the pages are committed to going back, one grace
	 * period from here, and the reclaimer that freed them is this task,
	 * not whichever one the RCU callback interrupts.
	 */
	splk_credit_reclaim(size);
	call_rcu(ptr, splk_vfree_rcu_fn);
}

/*
 * fn(arg) in a kworker bound to @cpu, no IPI and no cpus_read_lock() (the
 * hotplug teardown takes the registry lock our callers hold): a CPU that
 * goes offline meanwhile runs the call elsewhere, which flushes that other
 * CPU's magazine, harmlessly, and its own was drained by hotplug.
 */
void splk_on_cpu(unsigned int cpu, void (*fn)(void *), void *arg)
{
	struct splk_cpu_call call = { .fn = fn, .arg = arg };

	if (cpu_online(cpu))
		work_on_cpu(cpu, splk_cpu_call_fn, &call);
}

bool splk_cpu_possible(unsigned int cpu)
{
	return cpu_possible(cpu);
}

int splk_cpu_to_node(unsigned int cpu)
{
	return cpu_to_node(cpu);
}

unsigned int splk_raw_cpu(void)
{
	return raw_smp_processor_id();
}

int splk_obj_node(const void *obj)
{
	struct page *page = NULL;

	if (is_vmalloc_addr(obj))
		page = vmalloc_to_page(obj);
	else if (virt_addr_valid(obj))
		page = virt_to_page(obj);
	return page ? page_to_nid(page) : NUMA_NO_NODE;
}

void splk_might_sleep(void)
{
	might_sleep();
}

void splk_cond_resched(void)
{
	cond_resched();
}

static DECLARE_RWSEM(splk_registry_sem);

void splk_registry_lock_read(void)
{
	down_read(&splk_registry_sem);
}

bool splk_registry_trylock_read(void)
{
	return down_read_trylock(&splk_registry_sem);
}

void splk_registry_unlock_read(void)
{
	up_read(&splk_registry_sem);
}

void splk_registry_lock_write(void)
{
	down_write(&splk_registry_sem);
}

void splk_registry_unlock_write(void)
{
	up_write(&splk_registry_sem);
}

void splk_registry_assert_held(void)
{
	lockdep_assert_held(&splk_registry_sem);
}

/* Called first at module init: the facts the C++ core reads inline. */
void splk_kernel_info_init(void)
{
	splk_kernel.vmalloc_start = VMALLOC_START;
	splk_kernel.vmalloc_size = VMALLOC_END - VMALLOC_START;
	splk_kernel.direct_map_start = PAGE_OFFSET;
	splk_kernel.init_on_alloc = want_init_on_alloc(GFP_KERNEL);
	splk_kernel.nr_cpu_ids = nr_cpu_ids;
	splk_kernel.node_ids = nr_node_ids;
	splk_kernel.hz = HZ;
}

/*
 * The C++ core's abstract classes name this in their vtables (the slot of
 * a pure virtual function); only a call through a half-built or corrupted
 * object can reach it.
 */
void __cxa_pure_virtual(void);
void __cxa_pure_virtual(void)
{
	panic("splkmem: pure virtual function called\n");
}

#ifdef CONFIG_KCSAN
/*
 * g++ -fsanitize=thread reports the store of an object's vtable pointer
 * (in the C++ core's constructors) through this hook, which KCSAN does not
 * provide.  The object is not shared yet when it is constructed: an
 * ordinary, checked write.
 */
void __tsan_vptr_update(void *vptr_p, void *new_val);
void __tsan_vptr_update(void *vptr_p, void *new_val)
{
	__tsan_write8(vptr_p);
}
#endif
