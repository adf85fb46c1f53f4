# SPDX-License-Identifier: GPL-2.0
#
# splkmem: build and test entry points.  The module itself is described in
# Kbuild; this file drives the kernel build system and the test scripts.
#
#   make              build splkmem.ko against the running kernel
#   make KDIR=...     ... against another kernel tree or headers
#   make check        the full test run (README), what CI runs
#   make run          boot Debian's stock kernel in QEMU with the module
#                     (KERNEL=6.12, the default, 6.1, 6.12-rt, 7.2 / 7:
#                     Debian sid's newest 7.x, or 5.10: Debian 11's, both
#                     built in a Debian root of their suite)
#   make lint         checkpatch on C, clang-format on C++
#   make kunit        the KUnit suites on the debug test kernel in QEMU
#                     (6.12; KERNEL=7.2 or 7: one built from Debian sid's
#                     linux-source-7.x, not part of make check;
#                     FLAVOUR=kcsan: the 6.12 KCSAN kernel)
#   make bench        splkmem against SLUB, kmalloc, kvmalloc, vmalloc
#                     and OpenZFS's SPL (OPENZFS_TARBALL=..., default
#                     ../shared/peers/openzfs-2.4.4.tar.gz); KERNEL=7.2
#                     or 7: on sid's stock 7.x, with SLUB's sheaves
#   make openzfs      build (once, cached) OpenZFS's spl.ko from that tarball
#   make zfs-test     OpenZFS 2.4.4 on splkmem and as released, a pool
#                     workload on each in QEMU, side by side
#                     (bench/results/zfs.md); KERNEL=7.2 or 7: on
#                     sid's stock 7.x (bench/results/zfs-7.2.md)
#   make zfs-test-kasan  the splkmem flavour of it on a KASAN test kernel
#                     (kmemleak, no lockdep); not part of make check
#                     (bench/results/zfs-kasan.md)
#   make sim          the core on the host: a deterministic simulation
#                     under sanitizers (sim/README.md)
#   make fuzz         libFuzzer over the simulation's operation sequences,
#                     FUZZ_SECONDS long (default 60; sim/README.md)
#   make sim-tsan     the core on real threads under ThreadSanitizer,
#                     TSAN_SECONDS long (default 20; sim/README.md)
#   make deb          Debian packages into build/deb/: splkmem-dkms and
#                     OpenZFS on splkmem (its own native packaging)
#   make install-test those packages installed offline in a Debian 12
#                     guest with systemd: pool, reboot, import by
#                     OpenZFS's units, apt purge (scripts/install-test.sh)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
# pahole cannot encode C++ debug info as BTF: no module BTF for us.
KBUILD_OPTS := CONFIG_DEBUG_INFO_BTF_MODULES=
# OpenZFS 2.4.4's headers, when its tarball is there: the build then checks
# that our taskq_ent_t is laid out as OpenZFS's (include/sys/taskq.h).
SPLKMEM_OPENZFS ?= $(shell scripts/openzfs-headers.sh 2>/dev/null)
ifneq ($(SPLKMEM_OPENZFS),)
KBUILD_OPTS += SPLKMEM_OPENZFS=$(SPLKMEM_OPENZFS)
endif

.PHONY: all modules clean check run lint kunit deps test-kernel bench openzfs zfs-test \
	zfs-test-kasan sim fuzz sim-tsan deb install-test

# The peer OpenZFS tarball, for bench, check and openzfs; empty: the default.
export OPENZFS_TARBALL

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KBUILD_OPTS) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf module/generated build

deps:
	scripts/deps.sh

test-kernel:
	scripts/build-test-kernel.sh

check:
	scripts/check.sh

run:
	scripts/run.sh $(KERNEL)

lint:
	scripts/lint.sh

# kunit.sh's flavour: FLAVOUR (debug, kcsan) on 6.12, debug-KERNEL on 7.x.
kunit:
	scripts/kunit.sh $(if $(filter 7%,$(KERNEL)),debug-$(KERNEL),$(or $(FLAVOUR),debug))

bench:
	scripts/bench.sh $(KERNEL)

openzfs:
	scripts/build-openzfs.sh spl

# KERNEL=7.2 or 7: on Debian sid's stock 7.x instead of 6.12's.
zfs-test:
	$(if $(filter 7%,$(KERNEL)),ZFS_TEST_KERNEL=$(KERNEL)) scripts/zfs-test.sh --results bench/results

zfs-test-kasan:
	ZFS_TEST_KERNEL=kasan scripts/zfs-test.sh --results bench/results

sim:
	sim/run.sh

fuzz:
	sim/fuzz.sh

sim-tsan:
	sim/tsan.sh

deb:
	scripts/build-deb.sh

install-test: deb
	scripts/install-test.sh
