/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seam: the only interface between the C++ allocator core and the
 * kernel.  Plain C types, no Linux header on the C++ side.
 *
 * module/linux/kernel_services.c implements the kernel services declared here
 * (thin wrappers, nothing clever); the C++ core implements the
 * SPLKMEM_CORE functions at the bottom.  Kernel objects that C++ structs
 * embed (spinlock_t, wait_queue_head_t, ...) are opaque storage whose
 * size and alignment come from generated/kernel_sizes.h, never from a
 * hand-written number.
 *
 * The allocation fast path does not cross this seam on kernels whose
 * interrupt primitives can be inlined (cpu_local.hpp); elsewhere it calls
 * splk_irq_save() and splk_irq_restore() once each.  KMC_SLAB caches
 * reach SLUB only on a magazine miss, a batch at a time.
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
#include <splkmem/taskq_types.h>

#define SPLK_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

SPLK_EXTERN_C_BEGIN

/* errno values the core returns (checked against the kernel's in the glue). */
enum { SPLK_ENOENT = 2, SPLK_ENOMEM = 12, SPLK_EBUSY = 16 };

/* ---- Facts about the running kernel, filled once at module init. ---- */
struct splk_kernel_info {
	uintptr_t vmalloc_start;	/* is_vmalloc_addr() range, inline: */
	uintptr_t vmalloc_size;		/* addr - start < size */
	uintptr_t direct_map_start;	/* PAGE_OFFSET: slab objects are in */
					/* [start, high_memory) */
	bool init_on_alloc;		/* want_init_on_alloc(GFP_KERNEL) */
	unsigned int nr_cpu_ids;
	unsigned int node_ids;		/* nr_node_ids: 1 without CONFIG_NUMA */
	unsigned int hz;
};
extern struct splk_kernel_info splk_kernel;
#ifdef __cplusplus
/* The end of the direct map (linux/mm.h), moved by memory hotplug. */
extern void *high_memory;
#endif

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
extern unsigned int spl_kmem_cache_reap_interval_ms;
extern unsigned int spl_kmem_cache_depot_contention;
extern unsigned int spl_kmem_cache_depot_slack_kb;
extern unsigned int spl_kmem_cache_depot_trim_ms;
extern unsigned int spl_kmem_cache_debug;

/* ---- Logging.  level: 0 error, 1 warning, 2 info. ---- */
void splk_log(int level, const char *fmt, ...) SPLK_NOEXCEPT SPLK_PRINTF(2, 3);
/* WARN() with a stack trace; counted for the tests (splk_warning_count()). */
void splk_warn(const char *fmt, ...) SPLK_NOEXCEPT SPLK_PRINTF(1, 2);
/* splk_warn() calls since load, counted atomically: exact under concurrency. */
unsigned long splk_warning_count(void) SPLK_NOEXCEPT;

/* ---- Memory.  km_flags are SPL KM_* flags, converted by the glue. ---- */
void *splk_kmalloc_node(size_t size, int km_flags, int node) SPLK_NOEXCEPT;
void splk_kfree(const void *ptr) SPLK_NOEXCEPT;
/*
 * The GFP flags the glue uses for these KM_ flags (outside a no-I/O scope)
 * plus extra_gfp (spl_kmem_cache_set_allocflags()), less the bits that
 * cannot apply (splk_gfp_unusable()) and, for KM_NOSLEEP, direct reclaim.
 * Every allocation of a cache's objects or slabs composes its flags so.
 */
unsigned int splk_km_to_gfp(int km_flags, unsigned int extra_gfp) SPLK_NOEXCEPT;
/* The bits of gfp no cache allocation ever uses (zone modifiers, NOFAIL). */
unsigned int splk_gfp_unusable(unsigned int gfp) SPLK_NOEXCEPT;
/* Frees a slab and credits the pages to reclaim_state, may sleep. */
void splk_vfree(void *ptr, size_t size) SPLK_NOEXCEPT;
/*
 * Page-aligned, virtually contiguous memory for one slab, allocated in a
 * no-I/O scope (SPL's spl_fstrans_mark()) so that growth never recurses
 * into filesystems or block I/O.  Its pages on node if the kernel can do
 * that with these flags (kernel_services.c says which), else anywhere;
 * node < 0: anywhere.
 */
void *splk_vmalloc_noio(size_t size, int km_flags, unsigned int extra_gfp,
			int node) SPLK_NOEXCEPT;
/* Reads a word that may not be mapped; false if it is not. */
bool splk_read_word_nofault(const uintptr_t *addr, uintptr_t *val) SPLK_NOEXCEPT;
uint64_t splk_random_u64(void) SPLK_NOEXCEPT;

/* ---- Linux slab passthrough (KMC_SLAB caches). ---- */
/*
 * A Linux kmem_cache of @size-byte objects of which the caller may copy
 * [useroffset, useroffset + usersize) to and from user space.
 */
void *splk_linux_cache_create(const char *name, size_t size, size_t align,
			      size_t useroffset, size_t usersize,
			      bool reclaimable) SPLK_NOEXCEPT;
void splk_linux_cache_destroy(void *cache) SPLK_NOEXCEPT;
/*
 * kmem_cache_alloc_bulk() with GFP flags from splk_km_to_gfp(): up to @n
 * objects into @objs, returns how many.  Any context the GFP flags allow.
 */
unsigned int splk_linux_cache_alloc_bulk(void *cache, unsigned int gfp, unsigned int n,
					 void **objs) SPLK_NOEXCEPT;
/* kmem_cache_free_bulk(): any context. */
void splk_linux_cache_free_bulk(void *cache, unsigned int n, void **objs) SPLK_NOEXCEPT;
/*
 * One object, for caches without a magazine on kernels with allocation
 * profiling (notrace, a tail call); elsewhere the core calls SLUB's own
 * kmem_cache_alloc() and kmem_cache_free() (module/core/passthrough.hpp).
 */
void *splk_linux_cache_alloc(void *cache, unsigned int gfp) SPLK_NOEXCEPT;
/* True when @obj can belong to @cache: slab memory of at least @size. */
bool splk_linux_cache_may_own(void *cache, const void *obj, size_t size) SPLK_NOEXCEPT;

/* ---- Per-CPU memory (alloc_percpu), reached inline by cpu_local.hpp. ---- */
void *splk_percpu_alloc(size_t size, size_t align) SPLK_NOEXCEPT;
void splk_percpu_free(void *pcpu) SPLK_NOEXCEPT;
void *splk_per_cpu_ptr(void *pcpu, unsigned int cpu) SPLK_NOEXCEPT;
/* Sum of a per-CPU long over the possible CPUs. */
long splk_percpu_sum_long(void *pcpu) SPLK_NOEXCEPT;

/* ---- spinlock_t stored in C++ objects, one lockdep class per role. ---- */
enum splk_lock_class {
	SPLK_LOCK_CACHE,	/* ObjectCache::lock_ */
	SPLK_LOCK_TASKQ,	/* TaskQueue::lock_, irq-safe */
	SPLK_LOCK_DEPOT,	/* Depot::lock_, irq-safe, never with the cache lock */
	SPLK_LOCK_CLASSES
};
void splk_spin_lock_init(void *lock, enum splk_lock_class cls) SPLK_NOEXCEPT;
unsigned long splk_spin_lock_irqsave(void *lock) SPLK_NOEXCEPT;
void splk_spin_unlock_irqrestore(void *lock, unsigned long flags) SPLK_NOEXCEPT;
/* spin_trylock_irqsave(): true with the lock held and *flags set. */
bool splk_spin_trylock_irqsave(void *lock, unsigned long *flags) SPLK_NOEXCEPT;
/*
 * lockdep_assert_held(): a report unless the caller holds @lock.  The core
 * calls it only where SPLK_LOCKDEP (kernel_sizes.h) is 1, so a production
 * build pays nothing for it.
 */
void splk_spin_assert_held(void *lock) SPLK_NOEXCEPT;

/* ---- wait_queue_head_t stored in C++ objects. ---- */
void splk_waitq_init(void *wq) SPLK_NOEXCEPT;
void splk_waitq_wake_all(void *wq) SPLK_NOEXCEPT;
/*
 * Sleeps until done(arg) is true: wait_event() when timeout < 0, else
 * wait_event_timeout() returning the jiffies left (0 on timeout).  An
 * interruptible wait (idle threads) is not counted as a hung task.
 */
long splk_waitq_wait(void *wq, bool (*done)(void *), void *arg, long timeout,
		     bool interruptible) SPLK_NOEXCEPT;

/* ---- Kernel threads. ---- */
void splk_thread_stop(void *thread) SPLK_NOEXCEPT;
bool splk_thread_should_stop(void) SPLK_NOEXCEPT;
void splk_msleep(unsigned int ms) SPLK_NOEXCEPT;

/* ---- Pages for emergency objects. ---- */
void *splk_alloc_pages(size_t size, int km_flags, unsigned int extra_gfp) SPLK_NOEXCEPT;
void splk_free_pages(void *addr, size_t size) SPLK_NOEXCEPT;

/*
 * A set of addresses on the kernel's rbtree, for emergency objects.  Not
 * locked: the caller's lock guards it.  Nodes are allocated apart so that
 * insertion can be done under a spinlock.
 */
void splk_addr_set_init(void *set) SPLK_NOEXCEPT;
void *splk_addr_node_alloc(int km_flags) SPLK_NOEXCEPT;
void splk_addr_node_free(void *node) SPLK_NOEXCEPT;
bool splk_addr_set_insert(void *set, void *node, uintptr_t addr) SPLK_NOEXCEPT;
void *splk_addr_set_remove(void *set, uintptr_t addr) SPLK_NOEXCEPT;
bool splk_addr_set_contains(void *set, uintptr_t addr) SPLK_NOEXCEPT;
/* Removes any one node (NULL when empty) and stores its address. */
void *splk_addr_set_pop(void *set, uintptr_t *addr) SPLK_NOEXCEPT;

/*
 * An index from page numbers to pointers (the kernel's xarray, embedded by
 * its caller).  splk_index_load() takes no lock (RCU inside xa_load()) and
 * may run in any context, interrupts off included; stores and erasures
 * take the xarray's own lock, may sleep for memory (in a no-I/O scope, as
 * slab growth does) and run in process context.  entry must be 4-byte
 * aligned.  splk_index_store() returns false when out of memory.
 */
void splk_index_init(void *xa) SPLK_NOEXCEPT;
bool splk_index_store(void *xa, unsigned long index, void *entry, int km_flags) SPLK_NOEXCEPT;
void *splk_index_load(void *xa, unsigned long index) SPLK_NOEXCEPT;
void splk_index_erase(void *xa, unsigned long index) SPLK_NOEXCEPT;
void splk_index_destroy(void *xa) SPLK_NOEXCEPT;

/* ---- Interrupts and CPUs. ---- */
/*
 * The per-CPU section for kernels where cpu_local.hpp cannot inline
 * interrupts off: local_lock_irqsave() on a per-CPU local_lock_t (interrupts
 * off elsewhere, a lock with migration disabled on PREEMPT_RT).  notrace:
 * they are the fast path.
 */
unsigned long splk_irq_save(void) SPLK_NOEXCEPT;
void splk_irq_restore(unsigned long flags) SPLK_NOEXCEPT;
bool splk_cpu_possible(unsigned int cpu) SPLK_NOEXCEPT;
/* fn(arg) in a kworker bound to @cpu, if it is online; waits, may sleep. */
void splk_on_cpu(unsigned int cpu, void (*fn)(void *), void *arg) SPLK_NOEXCEPT;
int splk_cpu_to_node(unsigned int cpu) SPLK_NOEXCEPT;
/* raw_smp_processor_id(): a hint where preemption is on. */
unsigned int splk_raw_cpu(void) SPLK_NOEXCEPT;
/*
 * The node of the page under obj (a vmalloc or direct-map address), or -1
 * when it has none.  Any context; walks the page tables for vmalloc.
 */
int splk_obj_node(const void *obj) SPLK_NOEXCEPT;
/*
 * Reaps: asks every online CPU but the caller's to run
 * splk_core_drain_this_cpu() soon, in a work item of its own (one per CPU
 * for all caches, pending or not), and returns at once.  Process context.
 */
void splk_drain_request(void) SPLK_NOEXCEPT;
/* Waits until every drain work requested so far has run; may sleep. */
void splk_drain_flush(void) SPLK_NOEXCEPT;

/*
 * ---- Deferred frees (RCU) ----
 * A reader that reaches memory another CPU may free (another CPU's
 * magazines) holds the RCU read lock; the memory is freed a grace period
 * after the last pointer to it was dropped.  Any context.
 */
void splk_rcu_read_lock(void) SPLK_NOEXCEPT;
void splk_rcu_read_unlock(void) SPLK_NOEXCEPT;
/*
 * kfree(obj) after a grace period.  obj came from splk_kmalloc_node() and
 * its first SPLK_RCU_HEAD_SIZE bytes (kernel_sizes.h) are the glue's from
 * now on: nothing may read them.
 */
void splk_kfree_rcu(void *obj) SPLK_NOEXCEPT;
/*
 * vfree(ptr) (size bytes) after a grace period, the same way: its first
 * SPLK_RCU_HEAD_SIZE bytes are the glue's from now on.  The pages are
 * credited to reclaim_state now, as splk_vfree()'s.
 */
void splk_vfree_rcu(void *ptr, size_t size) SPLK_NOEXCEPT;

/* ---- Sleeping. ---- */
void splk_might_sleep(void) SPLK_NOEXCEPT;
void splk_cond_resched(void) SPLK_NOEXCEPT;

/* ---- The registry of caches: a global rw_semaphore. ---- */
void splk_registry_lock_read(void) SPLK_NOEXCEPT;
/* Never sleeps; false when a writer holds or waits for the lock. */
bool splk_registry_trylock_read(void) SPLK_NOEXCEPT;
void splk_registry_unlock_read(void) SPLK_NOEXCEPT;
void splk_registry_lock_write(void) SPLK_NOEXCEPT;
void splk_registry_unlock_write(void) SPLK_NOEXCEPT;
/* Held for reading or writing (lockdep_assert_held(); see above). */
void splk_registry_assert_held(void) SPLK_NOEXCEPT;

/* ---- Task queue services (module/linux/taskq_services.c). ---- */
/*
 * @entry is a taskq_ent_t (include/sys/taskq.h) that the core's TaskEntry
 * is laid over: these set up and drive the kernel objects inside it.  When
 * an armed entry's time comes, splk_taskq_entry_expired(entry) runs (timer,
 * softirq context).
 */
void splk_tq_entry_kernel_init(void *entry) SPLK_NOEXCEPT;
void splk_tq_entry_arm(void *entry, unsigned long expires) SPLK_NOEXCEPT;
/* timer_delete_sync(): disarmed, and its expiry is not running. */
void splk_tq_entry_disarm_sync(void *entry) SPLK_NOEXCEPT;
unsigned long splk_jiffies(void) SPLK_NOEXCEPT;
/* A running kthread "name/instance" with SPL's priority @pri (nice PRIO_TO_NICE). */
void *splk_tq_thread_create(int (*fn)(void *), void *arg, int pri,
			    const char *name, int instance) SPLK_NOEXCEPT;
/* kthread_data() of @thread (NULL: current) if it is a kthread running @fn, else NULL. */
void *splk_tq_thread_data(void *thread, int (*fn)(void *)) SPLK_NOEXCEPT;
/* The registry of task queues: a mutex. */
void splk_tq_registry_lock(void) SPLK_NOEXCEPT;
void splk_tq_registry_unlock(void) SPLK_NOEXCEPT;
void splk_tq_registry_assert_held(void) SPLK_NOEXCEPT;
unsigned int splk_num_online_cpus(void) SPLK_NOEXCEPT;
/*
 * TASKQ_PREPOPULATE preallocates minalloc entries, but at most this many
 * (with a message naming the queue): SPL would try minalloc KM_SLEEP
 * allocations, 2^31 for INT_MAX.  More entries are allocated on demand.
 */
#define SPLK_TASKQ_PREPOPULATE_MAX 4096
/*
 * CPU hotplug for TASKQ_THREADS_CPU_PCT queues (taskq_services.c): a state
 * whose callbacks call splk_taskq_cpus_changed() as a CPU comes online
 * and before one goes down.  Set up by splk_taskq_init() (returns 0 or a
 * negative errno), removed first by splk_taskq_fini() (a no-op when it
 * was not set up).
 */
int splk_tq_hotplug_init(void) SPLK_NOEXCEPT;
void splk_tq_hotplug_exit(void) SPLK_NOEXCEPT;
/*
 * Per-queue kstat files, /proc/spl/kstat/taskq/<name>.<instance>
 * (taskq_proc.c).  Called under the queue registry lock: install returns
 * a handle (NULL when there is no kstat directory or no memory), remove
 * takes the file away and waits for its readers.  The file reads the
 * queue through splk_taskq_get_stats().
 */
void *splk_tq_kstat_install(void *tq, const char *name, int instance) SPLK_NOEXCEPT;
void splk_tq_kstat_remove(void *handle) SPLK_NOEXCEPT;
/* SPL's task queue module parameters (taskq_services.c). */
extern int spl_taskq_thread_bind;
extern int spl_taskq_thread_priority;
extern int spl_taskq_thread_dynamic;
extern unsigned int spl_taskq_thread_sequential;
extern unsigned int spl_taskq_thread_timeout_ms;
/*
 * An idle worker's sleep, the kernel's own idiom: splk_tq_prepare_idle()
 * (set_current_state(TASK_INTERRUPTIBLE)) under the queue's lock, then,
 * with the lock dropped, splk_tq_idle() (schedule_timeout(); timeout in
 * jiffies, < 0 for none; returns 0 when it timed out) or, when there is
 * a reason not to sleep after all, splk_tq_cancel_idle() (TASK_RUNNING).
 * splk_tq_thread_wake() (wake_up_process()) after the prepare is never
 * lost.  Interruptible: an idle queue is not a hung task.
 */
void splk_tq_prepare_idle(void) SPLK_NOEXCEPT;
long splk_tq_idle(long timeout) SPLK_NOEXCEPT;
void splk_tq_cancel_idle(void) SPLK_NOEXCEPT;
void splk_tq_thread_wake(void *thread) SPLK_NOEXCEPT;
/* current, as a splk_tq_thread_create() thread sees itself. */
void *splk_tq_current(void) SPLK_NOEXCEPT;

/*
 * Fault hooks for the KUnit suites, compiled only into test builds
 * (SPLKMEM_TEST_HOOKS, set when the target kernel has KUnit).
 */
struct splk_test_hooks {
	unsigned int grow_delay_ms;	/* grow task sleeps this long first */
	bool fail_slab_alloc;		/* slab vmalloc fails */
	bool fail_emergency_alloc;	/* emergency page allocation fails */
	bool fault_inject_grow;		/* grow task is a failslab/fail_page_alloc target */
	/*
	 * The next grow task sleeps this long after it cleared GROWING and
	 * woke the allocators, while it still holds the cache (consumed).
	 */
	unsigned int grow_tail_delay_ms;
	unsigned long grows_dispatched;	/* grow tasks queued, all caches */
	unsigned long grows_finished;	/* grow tasks done with their cache */
	bool depot_trylock_fails;	/* every depot lock counts as contended */
	/*
	 * The depot trim tick is never dispatched and does nothing if it
	 * runs: the suites close trim windows with splk_core_trim_now().
	 */
	unsigned int trim_tick_manual;
	/*
	 * Readers of memory another CPU may free spin this long between
	 * finding it and reading it: the working-set update and statistics
	 * (another CPU's magazines), a free with header tags (a slab's slots
	 * found through the index).  The window a racing free must hit
	 * becomes wide enough for a stress test to hit it.
	 */
	unsigned int race_window_us;
	/*
	 * Non-zero: the core files CPU c under node c % fake_nodes (numa.hpp),
	 * so that the per-node depots and slab lists can be tested on a
	 * kernel without CONFIG_NUMA.  Memory still comes from node 0.
	 */
	unsigned int fake_nodes;
};
/* Test builds: marks the current task for fault injection (make-it-fail). */
void splk_fault_inject_current(bool on) SPLK_NOEXCEPT;
/* Test builds: busy-waits (udelay()), for the delay hooks. */
void splk_test_udelay(unsigned int us) SPLK_NOEXCEPT;
#ifdef SPLKMEM_TEST_HOOKS
extern struct splk_test_hooks splk_test_hooks;
#endif

/* ==== Implemented by the C++ core (SPLKMEM_CORE). ==== */

/*
 * The drain work on this CPU (splk_drain_request()): empties this CPU's
 * magazines of every cache a reap asked it to.  Process context.
 */
void splk_core_drain_this_cpu(void) SPLK_NOEXCEPT;

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
size_t spl_kmem_cache_alloc_batch(struct spl_kmem_cache *skc, int flags, void **objs,
				  size_t n) SPLK_NOEXCEPT;
void spl_kmem_cache_free_batch(struct spl_kmem_cache *skc, void **objs, size_t n) SPLK_NOEXCEPT;
void spl_kmem_cache_set_allocflags(struct spl_kmem_cache *skc,
	unsigned int gfp) SPLK_NOEXCEPT;
void spl_kmem_cache_reap_now(struct spl_kmem_cache *skc) SPLK_NOEXCEPT;
void spl_kmem_reap(void) SPLK_NOEXCEPT;
int spl_kmem_cache_reap_active(void) SPLK_NOEXCEPT;
uint64_t spl_kmem_cache_inuse(struct spl_kmem_cache *skc) SPLK_NOEXCEPT;
uint64_t spl_kmem_cache_entry_size(struct spl_kmem_cache *skc) SPLK_NOEXCEPT;

/* The SPL task queue API (sys/taskq.h), as the core defines it. */
struct task_struct;
taskq_t *taskq_create(const char *name, int nthreads, pri_t pri, int minalloc,
		      int maxalloc, unsigned int flags) SPLK_NOEXCEPT;
void taskq_destroy(taskq_t *tq) SPLK_NOEXCEPT;
taskqid_t taskq_dispatch(taskq_t *tq, task_func_t func, void *arg,
			 unsigned int flags) SPLK_NOEXCEPT;
void taskq_dispatch_ent(taskq_t *tq, task_func_t func, void *arg,
			unsigned int flags, taskq_ent_t *ent) SPLK_NOEXCEPT;
void taskq_init_ent(taskq_ent_t *ent) SPLK_NOEXCEPT;
int taskq_empty_ent(taskq_ent_t *ent) SPLK_NOEXCEPT;
int taskq_cancel_id(taskq_t *tq, taskqid_t id, int wait) SPLK_NOEXCEPT;
void taskq_wait(taskq_t *tq) SPLK_NOEXCEPT;
void taskq_wait_id(taskq_t *tq, taskqid_t id) SPLK_NOEXCEPT;
void taskq_wait_outstanding(taskq_t *tq, taskqid_t id) SPLK_NOEXCEPT;
int taskq_member(taskq_t *tq, struct task_struct *thread) SPLK_NOEXCEPT;
taskqid_t taskq_dispatch_delay(taskq_t *tq, task_func_t func, void *arg,
			       unsigned int flags, long expire_time) SPLK_NOEXCEPT;
taskq_t *taskq_create_synced(const char *name, int nthreads, pri_t pri,
			     int minalloc, int maxalloc, unsigned int flags,
			     struct task_struct ***ktpp) SPLK_NOEXCEPT;
taskq_t *taskq_of_curthread(void) SPLK_NOEXCEPT;
extern taskq_t *system_taskq;
extern taskq_t *system_delay_taskq;
/* Timer expiry of a delayed entry (splk_tq_entry_arm()). */
void splk_taskq_entry_expired(void *entry) SPLK_NOEXCEPT;
/* system_taskq and system_delay_taskq, at module load and unload. */
int splk_taskq_init(void) SPLK_NOEXCEPT;
void splk_taskq_fini(void) SPLK_NOEXCEPT;
/* Test builds: while @on, the queue's workers take no task. */
void splk_taskq_hold(taskq_t *tq, bool on) SPLK_NOEXCEPT;
/*
 * Statistics of one queue, for /proc/spl/taskq, the kstats and the tests.
 * The counters count since the queue was created.
 */
struct splk_taskq_stats {
	const char *name;		/* valid during the callback only */
	int instance;			/* queues of the same name before it */
	int nthreads;
	int nactive;
	int maxthreads;			/* CPU_PCT queues: from the CPUs online */
	int minalloc;
	int maxalloc;
	int nalloc;
	int nfree;
	int npend;			/* normal tasks queued */
	int nprio;			/* TQ_FRONT/TQ_NOQUEUE/due delayed tasks */
	int ndelay;			/* delayed tasks not yet due */
	unsigned int flags;		/* TASKQ_* given to taskq_create */
	int pri;
	uint64_t wakeups;		/* idle workers woken */
	uint64_t wakeups_nowork;	/* ... that found nothing to run */
	uint64_t threads_created;
	uint64_t threads_destroyed;	/* retired or stopped */
	uint64_t dispatched;		/* taskq_dispatch(), _ent() */
	uint64_t dispatched_delayed;	/* taskq_dispatch_delay() */
	uint64_t executed_normal;	/* taken from the pending list */
	uint64_t executed_priority;	/* from the priority list */
	uint64_t delayed_requeued;	/* delayed tasks whose time came */
	uint64_t cancelled;		/* cancelled before they ran */
	uint64_t sleeps;		/* a worker went to sleep idle */
	uint64_t sleeps_ended;		/* ... and woke (woken or timed out) */
};
void splk_taskq_get_stats(taskq_t *tq, struct splk_taskq_stats *out) SPLK_NOEXCEPT;
/*
 * Calls @fn for every queue under the queue registry lock, oldest first
 * or (@newest_first) newest first.
 */
void splk_taskq_for_each(void (*fn)(const struct splk_taskq_stats *, void *),
			 void *arg, bool newest_first) SPLK_NOEXCEPT;
/*
 * With @on, every queue gets its kstat file (splk_tq_kstat_install()), and
 * every queue created from then on; without, every file is removed.
 */
void splk_taskq_kstats_enable(bool on) SPLK_NOEXCEPT;
/*
 * SPL's spl_taskq_kick: every queue whose next task has waited longer than
 * 5 s asks for one more thread (dynamic queues below their maximum).
 * Returns how many queues had such a task.  May sleep.
 */
int splk_taskq_kick(void) SPLK_NOEXCEPT;
/*
 * @ncpus CPUs are online, or will be once the one going down is gone:
 * TASKQ_THREADS_CPU_PCT queues set their maximum from it, and a static
 * one adds or retires threads to match.  May sleep (the registry lock).
 */
void splk_taskq_cpus_changed(unsigned int ncpus) SPLK_NOEXCEPT;

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
	uint64_t depot_full;	/* full magazines in the depot */
	uint64_t depot_empty;	/* empty magazines in the depot */
	uint64_t depot_objs;	/* objects in the depot's full magazines */
	uint64_t cpu_objs;	/* objects in the CPUs' loaded and previous */
	uint64_t mag_resizes;	/* magazine size raised under contention */
	uint64_t depot_keep;	/* depot objects kept without a trim window */
	uint64_t depot_trims;	/* trim windows that gave objects back */
	bool trim_open;		/* a trim window is open */
	bool trim_eager;	/* the next excess goes back at the next jiffy */
	uint64_t slab_empty_objs;	/* capacity of the empty slabs */
};

int splk_core_init(void) SPLK_NOEXCEPT;
/* CPU hotplug: @cpu is dead; its magazines go back to the slabs. */
void splk_core_cpu_dead(unsigned int cpu) SPLK_NOEXCEPT;
void splk_core_exit(void) SPLK_NOEXCEPT;
/* The shrinker: what a scan can free (depots, empty slabs), and the scan. */
uint64_t splk_core_shrink_count(void) SPLK_NOEXCEPT;
uint64_t splk_core_shrink_scan(uint64_t nr) SPLK_NOEXCEPT;
/*
 * The shrinker's calls since load (/proc/spl/kmem/shrinker): counts and
 * scans, those that found the registry busy (answered 0 at once), and the
 * objects the scans freed.  Calls of the two functions above from anywhere
 * count, the kernel's and tests'.
 */
struct splk_shrinker_stats {
	uint64_t count_calls;
	uint64_t count_busy;
	uint64_t scan_calls;
	uint64_t scan_busy;
	uint64_t scan_freed;
	uint64_t cpu_drains;	/* scans that asked the CPUs to drain */
};
void splk_core_shrinker_stats(struct splk_shrinker_stats *out) SPLK_NOEXCEPT;
/* One working-set update of every cache now, as if an interval passed. */
void splk_core_update_now(void) SPLK_NOEXCEPT;
/*
 * A depot trim tick now: every open trim window closes if a whole window
 * passed (@elapsed: as if it had) or its cache is eager.
 */
void splk_core_trim_now(bool elapsed) SPLK_NOEXCEPT;
/* Debug: the first cache whose invariants (object_cache.hpp) are broken. */
const char *splk_core_check_invariants(const char **cache) SPLK_NOEXCEPT;
/*
 * Debug: the first registered task queue whose invariants (task_queue.hpp,
 * TaskQueue::check()) are broken, its name in @queue; NULL when none is.
 * May sleep (the task-queue registry mutex).
 */
const char *splk_core_check_task_queues(const char **queue) SPLK_NOEXCEPT;
/*
 * A snapshot of the statistics of the cache named @name; false when there
 * is none.  out->name is set to @name (the cache's own copy may go away).
 */
bool splk_cache_stats_find(const char *name, struct splk_cache_stats *out) SPLK_NOEXCEPT;
/* Calls @fn for every cache, under the registry read lock. */
void splk_for_each_cache(void (*fn)(const struct splk_cache_stats *, void *),
			 void *arg) SPLK_NOEXCEPT;
/* Version string of the core, proves the seam in the first KUnit suite. */
const char *splk_core_version(void) SPLK_NOEXCEPT;

SPLK_EXTERN_C_END

#endif /* SPLKMEM_SEAM_H */
