/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/sched/prio.h>: the kernel's priority numbers. */
#pragma once
#define MAX_RT_PRIO 100
#define DEFAULT_PRIO 120
#define MAX_PRIO 140
