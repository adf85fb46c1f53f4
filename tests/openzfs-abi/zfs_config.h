/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one configure result OpenZFS 2.4.4's SPL headers need to compile the
 * task queue declarations (sys/thread.h uses it in an inline function):
 * every kernel splkmem supports (6.1, 6.12) has kthread_complete_and_exit().
 * Our own file, instead of running OpenZFS's configure.
 */
#define SPL_KTHREAD_COMPLETE_AND_EXIT kthread_complete_and_exit
