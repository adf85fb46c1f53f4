/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/spinlock.h>, for the sizes generator only. */
#pragma once
#include "types.h"
typedef struct sim_spinlock spinlock_t;
