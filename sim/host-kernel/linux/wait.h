/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/wait.h>, for the sizes generator only. */
#pragma once
#include "types.h"
typedef struct sim_waitq wait_queue_head_t;
