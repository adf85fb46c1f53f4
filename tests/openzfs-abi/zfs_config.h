/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one configure result OpenZFS 2.4.4's SPL headers need to compile the
 * task queue declarations (sys/thread.h uses it in an inline function).
 * Our own file, instead of running OpenZFS's configure.  In splkmem's
 * build (module/linux/openzfs_abi.s) the answer is the feature test's
 * (scripts/kernel-features.sh: complete_and_exit() before 5.17); the
 * consumer of scripts/openzfs-abi-test.sh is built for 6.12, which has
 * kthread_complete_and_exit().
 */
#if __has_include("../../module/generated/kernel_features.h")
#include "../../module/generated/kernel_features.h"
#endif
#if defined(SPLK_HAVE_KTHREAD_COMPLETE_AND_EXIT) && !SPLK_HAVE_KTHREAD_COMPLETE_AND_EXIT
#define SPL_KTHREAD_COMPLETE_AND_EXIT complete_and_exit
#else
#define SPL_KTHREAD_COMPLETE_AND_EXIT kthread_complete_and_exit
#endif
