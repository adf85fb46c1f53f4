/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/types.h>, for the sizes generator only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h> /* clock_t: long, as the kernel's */
#include "../sim_objects.h"
