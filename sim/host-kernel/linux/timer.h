/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/timer.h>, for the sizes generator only. */
#pragma once
#include "types.h"
#define timer_list sim_timer
