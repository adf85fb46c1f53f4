// SPDX-License-Identifier: GPL-2.0
/*
 * splkmem_cache_stats: statistics, reaping and the accessors: what the
 * cache counts and gives back, objects freed on another CPU, refills from
 * the fullest slab, spl_kmem_cache_inuse()/entry_size(), /proc/spl/kmem/slab
 * and spl_kmem_reap().
 */
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cache_test.h"

/* ---- Statistics and reaping ------------------------------------------------ */

static void cache_stats_track_objects(struct kunit *test)
{
	const size_t n = 300;
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	void **objs;

	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	c = splk_test_cache_create(test, "splk_stats", 128, 0, NULL, NULL, NULL, KMC_KVMEM);

	/* A fresh cache has no slab. */
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0);
	KUNIT_EXPECT_EQ(test, st.slab_create, 0);
	KUNIT_EXPECT_EQ(test, st.obj_total, 0);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);

	cb_alloc_n(test, c, objs, n);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_GT(test, st.obj_alloc, 0);
	/*
	 * Objects out of the slabs are with the caller or in a magazine; the
	 * caller may also hold emergency objects (a slow grow), which are
	 * counted in obj_total but not in obj_alloc.
	 */
	KUNIT_EXPECT_EQ(test, st.obj_alloc + st.obj_emergency, n + st.mag_objs);
	KUNIT_EXPECT_GT(test, st.slab_total, 0);
	KUNIT_EXPECT_GT(test, st.slab_create, 0);
	KUNIT_EXPECT_EQ(test, st.obj_total, st.slab_total * st.slab_objs + st.obj_emergency);
	KUNIT_EXPECT_GE(test, st.obj_total, n);
	KUNIT_EXPECT_LE(test, st.slab_alloc, st.slab_total);
	KUNIT_EXPECT_GE(test, st.obj_max, st.obj_alloc);

	cb_free_n(c, objs, n);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0);
	KUNIT_EXPECT_EQ(test, st.mag_objs, 0);
	KUNIT_EXPECT_EQ(test, st.obj_total, 0);
	KUNIT_EXPECT_EQ(test, st.obj_emergency, 0);
	KUNIT_EXPECT_EQ(test, st.slab_alloc, 0);
	splk_test_cache_destroy(test, c);
}

static void cache_reap_returns_slabs(struct kunit *test)
{
	const size_t n = 200;
	struct splk_cache_stats before, after;
	struct splk_test_cache *c;
	void **objs;

	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	c = splk_test_cache_create(test, "splk_reap", 1000, 0, NULL, NULL, NULL, KMC_KVMEM);

	cb_alloc_n(test, c, objs, n);
	cb_free_n(c, objs, n);
	/* The magazines keep objects, so their slabs are still there. */
	splk_test_cache_stats(test, c, &before);
	KUNIT_ASSERT_GT(test, before.mag_objs, 0);
	KUNIT_ASSERT_GT(test, before.slab_total, 0);

	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, &after);
	KUNIT_EXPECT_EQ(test, after.slab_destroy - before.slab_destroy, before.slab_total);
	KUNIT_EXPECT_EQ(test, after.slab_total, 0);
	KUNIT_EXPECT_EQ(test, after.slab_create, before.slab_create);
	splk_test_cache_destroy(test, c);
}

struct cb_xcpu {
	spl_kmem_cache_t *skc;
	void **objs;
	size_t n;
	size_t done;
};

static long cb_xcpu_alloc(void *arg)
{
	struct cb_xcpu *x = arg;

	for (x->done = 0; x->done < x->n; x->done++) {
		x->objs[x->done] = spl_kmem_cache_alloc(x->skc, KM_SLEEP);
		if (!x->objs[x->done])
			break;
	}
	return 0;
}

static long cb_xcpu_free(void *arg)
{
	struct cb_xcpu *x = arg;
	size_t i;

	for (i = 0; i < x->done; i++)
		spl_kmem_cache_free(x->skc, x->objs[i]);
	return 0;
}

static void cache_cross_cpu_free(struct kunit *test)
{
	struct splk_cache_stats st;
	struct cb_xcpu x = { .n = 600 };
	struct splk_test_cache *c;
	unsigned int cpu0, cpu1;

	cpu0 = cpumask_first(cpu_online_mask);
	cpu1 = cpumask_next(cpu0, cpu_online_mask);
	if (cpu1 >= nr_cpu_ids)
		kunit_skip(test, "needs two online CPUs");

	x.objs = kunit_kcalloc(test, x.n, sizeof(*x.objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x.objs);
	c = splk_test_cache_create(test, "splk_xcpu", 128, 0, NULL, NULL, NULL, KMC_KVMEM);
	x.skc = c->skc;

	splk_test_on_cpu(cpu0, cb_xcpu_alloc, &x);
	KUNIT_ASSERT_EQ(test, x.done, x.n);
	splk_test_on_cpu(cpu1, cb_xcpu_free, &x);

	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, st.mag_objs);
	KUNIT_EXPECT_GT(test, st.mag_objs, 0);

	splk_test_reap_on_cpu(cpu0, c->skc);
	splk_test_reap_on_cpu(cpu1, c->skc);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_EQ(test, st.obj_alloc, 0);
	KUNIT_EXPECT_EQ(test, st.slab_total, 0);
	KUNIT_EXPECT_EQ(test, st.mag_objs, 0);
	splk_test_cache_destroy(test, c);
}

/*
 * A refill takes from the fullest partial slab (partial_slabs.hpp), so the
 * emptiest drains and is freed.  Four slabs of 8 are left holding 1, 7, 3
 * and 5 objects; a refill of 8 must take 1 from the second, 3 from the
 * fourth, 4 from the third and none from the first, which then empties.
 */
#define CB_FULLEST_SLABS 4
#define CB_FULLEST_OBJS 8

static int cb_slab_index(void **first, void *obj)
{
	int i;

	for (i = 0; i < CB_FULLEST_SLABS * CB_FULLEST_OBJS; i++)
		if (first[i] == obj)
			return i / CB_FULLEST_OBJS;
	return -1;
}

static void cache_refill_takes_fullest_slab(struct kunit *test)
{
	static const unsigned int keep[CB_FULLEST_SLABS] = { 1, 7, 3, 5 };
	static const unsigned int taken[CB_FULLEST_SLABS] = { 0, 1, 4, 3 };
	const unsigned int n = CB_FULLEST_SLABS * CB_FULLEST_OBJS;
	unsigned int per_slab[CB_FULLEST_SLABS] = { 0 };
	struct cb_xcpu x = { .n = CB_FULLEST_OBJS };
	struct splk_cache_stats *st;
	struct splk_test_cache *c;
	unsigned int cpu = cpumask_first(cpu_online_mask);
	void **first, *refill[CB_FULLEST_OBJS];
	unsigned int s, i;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	first = kunit_kcalloc(test, n, sizeof(*first), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_NOT_NULL(test, first);
	/* Refills of half a magazine: one whole slab of 8 at a time. */
	splk_test_set_param(test, &spl_kmem_cache_magazine_size, 2 * CB_FULLEST_OBJS);
	splk_test_set_param(test, &spl_kmem_cache_obj_per_slab, CB_FULLEST_OBJS);
	c = splk_test_cache_create(test, "splk_fullest", SZ_32K, 0, NULL, NULL, NULL, KMC_KVMEM);
	x.skc = c->skc;
	splk_test_cache_stats(test, c, st);
	KUNIT_ASSERT_EQ(test, st->slab_objs, CB_FULLEST_OBJS);

	/* On one CPU, each batch of 8 empties one new slab into a magazine. */
	for (s = 0; s < CB_FULLEST_SLABS; s++) {
		x.objs = first + s * CB_FULLEST_OBJS;
		splk_test_on_cpu(cpu, cb_xcpu_alloc, &x);
		KUNIT_ASSERT_EQ(test, x.done, x.n);
		splk_test_cache_stats(test, c, st);
		KUNIT_ASSERT_EQ(test, st->slab_total, s + 1);
		KUNIT_ASSERT_EQ(test, st->slab_alloc, s + 1);
		KUNIT_ASSERT_EQ(test, st->mag_objs, 0);
	}
	for (s = 0; s < CB_FULLEST_SLABS; s++)
		for (i = keep[s]; i < CB_FULLEST_OBJS; i++)
			spl_kmem_cache_free(c->skc, first[s * CB_FULLEST_OBJS + i]);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, st);
	KUNIT_ASSERT_EQ(test, st->obj_alloc, 1 + 7 + 3 + 5);
	KUNIT_ASSERT_EQ(test, st->slab_total, CB_FULLEST_SLABS);

	x.objs = refill;
	splk_test_on_cpu(cpu, cb_xcpu_alloc, &x);
	KUNIT_ASSERT_EQ(test, x.done, x.n);
	for (i = 0; i < CB_FULLEST_OBJS; i++) {
		int slab = cb_slab_index(first, refill[i]);

		KUNIT_ASSERT_GE_MSG(test, slab, 0, "object %p is not from the first slabs",
				    refill[i]);
		per_slab[slab]++;
	}
	for (s = 0; s < CB_FULLEST_SLABS; s++)
		KUNIT_EXPECT_EQ_MSG(test, per_slab[s], taken[s],
				    "slab %u (held %u of 8): objects the refill took", s, keep[s]);

	/* The first slab's last object back: that slab is empty and freed. */
	spl_kmem_cache_free(c->skc, first[0]);
	splk_test_reap_all_cpus(c->skc);
	splk_test_cache_stats(test, c, st);
	KUNIT_EXPECT_EQ(test, st->slab_total, CB_FULLEST_SLABS - 1);
	KUNIT_EXPECT_EQ(test, st->slab_destroy, 1);

	for (i = 0; i < CB_FULLEST_OBJS; i++)
		spl_kmem_cache_free(c->skc, refill[i]);
	for (s = 1; s < CB_FULLEST_SLABS; s++)
		for (i = 0; i < keep[s]; i++)
			spl_kmem_cache_free(c->skc, first[s * CB_FULLEST_OBJS + i]);
	splk_test_cache_destroy(test, c);
}

/* ---- Accessors, /proc and spl_kmem_reap() ----------------------------------- */

static void cache_inuse_entry_size(struct kunit *test)
{
	const size_t n = 10, size = 360;
	struct splk_cache_stats st;
	struct splk_test_cache *c;
	void *objs[10];

	c = splk_test_cache_create(test, "splk_inuse", size, 0, NULL, NULL, NULL, KMC_KVMEM);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_entry_size(c->skc), size);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0);
	cb_alloc_n(test, c, objs, n);
	splk_test_cache_stats(test, c, &st);
	KUNIT_EXPECT_GE(test, st.obj_total, n);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), st.obj_total);
	cb_free_n(c, objs, n);
	splk_test_cache_destroy(test, c);

	c = splk_test_cache_create(test, "splk_inuse", size, 0, NULL, NULL, NULL, KMC_SLAB);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_entry_size(c->skc), size);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0);
	cb_alloc_n(test, c, objs, n);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), n);
	spl_kmem_cache_free(c->skc, objs[0]);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), n - 1);
	cb_free_n(c, objs + 1, n - 1);
	KUNIT_EXPECT_EQ(test, spl_kmem_cache_inuse(c->skc), 0);
	splk_test_cache_destroy(test, c);
}

#define CB_PROC_SIZE	SZ_32K

/* The two columns after SPL's 15: magazine size, objects in magazines. */
static void cb_proc_check_magazine(struct kunit *test, char *l,
				   const struct splk_cache_stats *st)
{
	unsigned long long mag_size = 0;
	char *cols[17];
	int n = 0;

	while (n < 17 && (cols[n] = strsep(&l, " ")))
		if (*cols[n])
			n++;
	KUNIT_ASSERT_EQ(test, n, 17);
	KUNIT_ASSERT_EQ(test, kstrtoull(cols[15], 10, &mag_size), 0);
	KUNIT_EXPECT_EQ(test, mag_size, st->mag_size);
}

static void cache_proc_slab(struct kunit *test)
{
	unsigned long long size, alloc, slab_size, obj_size;
	bool header = false, line = false;
	struct splk_cache_stats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct splk_test_cache *c;
	char *buf, *cur, *l;
	unsigned long flags;
	struct file *f;
	size_t len = 0;
	loff_t pos = 0;
	void *objs[5];
	int fields;
	ssize_t n;

	buf = kunit_kzalloc(test, CB_PROC_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, st);
	c = splk_test_cache_create(test, "splk_proc", 200, 0, NULL, NULL, NULL, KMC_KVMEM);
	cb_alloc_n(test, c, objs, ARRAY_SIZE(objs));
	splk_test_cache_stats(test, c, st);

	f = filp_open("/proc/spl/kmem/slab", O_RDONLY, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(f), "open /proc/spl/kmem/slab: %ld",
			       PTR_ERR(f));
	while (len < CB_PROC_SIZE - 1) {
		n = kernel_read(f, buf + len, CB_PROC_SIZE - 1 - len, &pos);
		if (n <= 0)
			break;
		len += n;
	}
	filp_close(f, NULL);
	cb_free_n(c, objs, ARRAY_SIZE(objs));
	KUNIT_ASSERT_LT(test, len, CB_PROC_SIZE - 1);

	cur = buf;
	while ((l = strsep(&cur, "\n")) != NULL) {
		if (str_has_prefix(l, "name ") && strstr(l, " flags ") &&
		    strstr(l, " objsize "))
			header = true;
		if (!str_has_prefix(l, c->name) || l[strlen(c->name)] != ' ')
			continue;
		line = true;
		fields = sscanf(l + strlen(c->name), " 0x%lx %llu %llu %llu %llu",
				&flags, &size, &alloc, &slab_size, &obj_size);
		KUNIT_EXPECT_EQ_MSG(test, fields, 5, "line: %s", l);
		if (fields != 5)
			continue;
		KUNIT_EXPECT_TRUE(test, flags & KMC_KVMEM);
		KUNIT_EXPECT_EQ(test, slab_size, st->slab_size);
		KUNIT_EXPECT_EQ(test, obj_size, 200);
		KUNIT_EXPECT_EQ(test, alloc, st->obj_alloc * st->obj_size);
		cb_proc_check_magazine(test, l, st);
	}
	KUNIT_EXPECT_TRUE_MSG(test, header, "no column header in /proc/spl/kmem/slab");
	KUNIT_EXPECT_TRUE_MSG(test, line, "no line for %s in /proc/spl/kmem/slab", c->name);
	splk_test_cache_destroy(test, c);
}

struct cb_kmem_reap {
	struct splk_test_cache *c[2];
	struct splk_cache_stats before[2];
	struct splk_cache_stats after[2];
	bool found;
	bool alloc_failed;
};

/* Runs on one CPU: everything goes through that CPU's magazines. */
static long cb_kmem_reap_fn(void *arg)
{
	struct cb_kmem_reap *r = arg;
	void *objs[20];
	int i, j;

	r->found = true;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < ARRAY_SIZE(objs); j++) {
			objs[j] = spl_kmem_cache_alloc(r->c[i]->skc, KM_SLEEP);
			r->alloc_failed |= !objs[j];
		}
		for (j = 0; j < ARRAY_SIZE(objs); j++)
			spl_kmem_cache_free(r->c[i]->skc, objs[j]);
		r->found &= splk_test_stats(r->c[i]->name, &r->before[i]);
	}
	spl_kmem_reap();
	for (i = 0; i < 2; i++)
		r->found &= splk_test_stats(r->c[i]->name, &r->after[i]);
	return 0;
}

static void cache_kmem_reap_all_caches(struct kunit *test)
{
	struct cb_kmem_reap *r;
	int i;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->c[0] = splk_test_cache_create(test, "splk_kreap", 128, 0, NULL, NULL, NULL, KMC_KVMEM);
	r->c[1] = splk_test_cache_create(test, "splk_kreap", 9000, 0, NULL, NULL, NULL, KMC_KVMEM);
	splk_test_on_cpu(cpumask_first(cpu_online_mask), cb_kmem_reap_fn, r);
	KUNIT_ASSERT_TRUE(test, r->found);
	KUNIT_ASSERT_FALSE(test, r->alloc_failed);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_GT(test, r->before[i].mag_objs, 0);
		KUNIT_EXPECT_GT(test, r->before[i].slab_total, 0);
		KUNIT_EXPECT_EQ(test, r->after[i].mag_objs, 0);
		KUNIT_EXPECT_EQ(test, r->after[i].obj_alloc, 0);
		KUNIT_EXPECT_EQ(test, r->after[i].slab_total, 0);
		splk_test_cache_destroy(test, r->c[i]);
	}
}

static struct kunit_case cache_stats_cases[] = {
	KUNIT_CASE(cache_stats_track_objects),
	KUNIT_CASE(cache_reap_returns_slabs),
	KUNIT_CASE(cache_cross_cpu_free),
	KUNIT_CASE(cache_refill_takes_fullest_slab),
	KUNIT_CASE(cache_inuse_entry_size),
	KUNIT_CASE(cache_proc_slab),
	KUNIT_CASE(cache_kmem_reap_all_caches),
	{}
};

static struct kunit_suite cache_stats_suite = {
	.name = "splkmem_cache_stats",
	.exit = splk_test_exit,
	.test_cases = cache_stats_cases,
};

kunit_test_suites(&cache_stats_suite);
