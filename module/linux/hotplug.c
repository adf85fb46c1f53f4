// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug: when a CPU is dead, the objects in its magazines go back to
 * the slabs (splk_core_cpu_dead()), so that a reap can free them and the
 * shrinker never counts what nobody will use.  A CPU that comes back
 * starts with the empty magazines it left.  The teardown of a dynamic
 * prepare state runs on a control CPU after the CPU stopped, where
 * sleeping is allowed.
 */
#include <linux/cpuhotplug.h>

#include "seam.h"
#include "glue.h"

static int splk_hotplug_state;

static int splk_cpu_dead(unsigned int cpu)
{
	splk_core_cpu_dead(cpu);
	return 0;
}

int splk_hotplug_init(void)
{
	int rc = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "splkmem:dead",
					   NULL, splk_cpu_dead);

	if (rc < 0)
		return rc;
	splk_hotplug_state = rc;
	return 0;
}

void splk_hotplug_exit(void)
{
	cpuhp_remove_state_nocalls(splk_hotplug_state);
}
