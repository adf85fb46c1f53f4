/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one version of splkmem: MODULE_VERSION, the core's version string
 * (the load message) and, by the same number, dkms.conf's PACKAGE_VERSION
 * (make check's lint step compares them).
 */
#ifndef SPLKMEM_VERSION_H
#define SPLKMEM_VERSION_H

#define SPLKMEM_VERSION "0.1.0"

#endif /* SPLKMEM_VERSION_H */
