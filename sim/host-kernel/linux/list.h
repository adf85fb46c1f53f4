/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/list.h>, for the sizes generator only. */
#pragma once
#include "types.h"
#define list_head sim_list_head
