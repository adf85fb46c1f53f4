// SPDX-License-Identifier: GPL-2.0
/*
 * A sampling profile of a timed section (bench parameter profile=1, mode
 * scale's task queue workloads): where the instructions of every CPU go.
 *
 * Each online CPU gets a cpu-clock perf event (an hrtimer) that records
 * the interrupted instruction pointer every PROFILE_PERIOD_NS.  Under
 * -icount the guest clock is an instruction count, so the samples of a
 * running CPU fall in proportion to its instructions.  Two distortions
 * to keep in mind: QEMU runs the vCPUs in turn, so a CPU's timer fires
 * when its turn comes back (the samples show where turns end: a PAUSE,
 * a HLT, the end of the budget), and an idle CPU is woken by the timer
 * itself (its samples say "idle"; they cost the run a little).
 *
 * profile_stop() prints the functions with most samples, all CPUs
 * together: "splkmem-bench: profile <workload>: <samples> <share> <fn>".
 */

#include "bench.h"

#include <linux/perf_event.h>

#define PROFILE_PERIOD_NS	50000
#define PROFILE_MAX_SAMPLES	8192	/* per CPU */
#define PROFILE_MAX_FUNCS	512
#define PROFILE_TOP		30

bool profile;
module_param(profile, bool, 0444);
MODULE_PARM_DESC(profile,
		 "Mode scale: print a sampling profile of each task queue figure");

struct profile_cpu {
	struct perf_event *event;
	unsigned int n;
	unsigned long ip[PROFILE_MAX_SAMPLES];
};

static struct profile_cpu *profile_cpus;	/* [nr_cpu_ids] (too big for percpu) */

static void profile_sample(struct perf_event *event,
			   struct perf_sample_data *data, struct pt_regs *regs)
{
	struct profile_cpu *pc = &profile_cpus[smp_processor_id()];

	if (pc->n < PROFILE_MAX_SAMPLES)
		pc->ip[pc->n++] = instruction_pointer(regs);
}

/* Starts sampling on every online CPU; false (and a message) if it cannot. */
bool profile_start(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.sample_period = PROFILE_PERIOD_NS,
		.pinned = 1,
	};
	unsigned int cpu;

	if (!profile)
		return false;
	profile_cpus = vzalloc(array_size(nr_cpu_ids, sizeof(*profile_cpus)));
	if (!profile_cpus)
		return false;
	for_each_online_cpu(cpu) {
		struct profile_cpu *pc = &profile_cpus[cpu];
		struct perf_event *ev;

		ev = perf_event_create_kernel_counter(&attr, cpu, NULL,
						      profile_sample, NULL);
		if (IS_ERR(ev)) {
			pr_warn("profile: CPU %u: perf event: %ld\n", cpu,
				PTR_ERR(ev));
			continue;
		}
		pc->event = ev;
	}
	return true;
}

struct profile_func {
	char name[KSYM_NAME_LEN];
	unsigned int samples;
};

static int profile_by_samples(const void *a, const void *b)
{
	const struct profile_func *x = a, *y = b;

	return (int)y->samples - (int)x->samples;
}

/* Stops sampling and prints the profile of @what. */
void profile_stop(const char *what)
{
	struct profile_func *funcs;
	unsigned int cpu, i, nfuncs = 0, total = 0, lost = 0;
	char name[KSYM_NAME_LEN];

	if (!profile_cpus)
		return;
	for_each_possible_cpu(cpu) {
		struct profile_cpu *pc = &profile_cpus[cpu];

		if (pc->event)
			perf_event_release_kernel(pc->event);
		pc->event = NULL;
	}
	funcs = kvcalloc(PROFILE_MAX_FUNCS, sizeof(*funcs), GFP_KERNEL);
	for_each_possible_cpu(cpu) {
		struct profile_cpu *pc = &profile_cpus[cpu];
		unsigned int s;

		for (s = 0; funcs && s < pc->n; s++) {
			sprint_symbol_no_offset(name, pc->ip[s]);
			total++;
			for (i = 0; i < nfuncs; i++)
				if (!strcmp(funcs[i].name, name))
					break;
			if (i == nfuncs) {
				if (nfuncs == PROFILE_MAX_FUNCS) {
					lost++;
					continue;
				}
				strscpy(funcs[nfuncs++].name, name,
					KSYM_NAME_LEN);
			}
			funcs[i].samples++;
		}
	}
	if (funcs) {
		sort(funcs, nfuncs, sizeof(*funcs), profile_by_samples, NULL);
		pr_info("profile %s: %u samples, %u functions (%u not placed)\n",
			what, total, nfuncs, lost);
		for (i = 0; i < nfuncs && i < PROFILE_TOP; i++)
			pr_info("profile %s: %6u %5u.%u%% %s\n", what,
				funcs[i].samples,
				funcs[i].samples * 100 / max(total, 1U),
				funcs[i].samples * 1000 / max(total, 1U) % 10,
				funcs[i].name);
	}
	kvfree(funcs);
	vfree(profile_cpus);
	profile_cpus = NULL;
}
