#!/bin/bash
# Boot a kernel with an initramfs in QEMU (TCG, 2 CPUs) under a hard
# timeout, console captured to a log file.  Exit status: 0 when the job
# reported exit=0, 1 when it failed, crashed or timed out.
#
# usage: qemu-run.sh KERNEL INITRAMFS LOG [EXTRA_CMDLINE]
# env:   QEMU_TIMEOUT (seconds, default 900), QEMU_SMP (2), QEMU_MEM (2048),
#        QEMU_EXTRA (more qemu arguments, e.g. "-icount shift=0")
set -uo pipefail

kernel=$1
initrd=$2
log=$3
extra_cmdline=${4:-}
timeout_s=${QEMU_TIMEOUT:-900}

# Nested KVM fails on these machines: TCG always.
timeout --foreground -k 10 "$timeout_s" \
	qemu-system-x86_64 -accel tcg -smp "${QEMU_SMP:-2}" -m "${QEMU_MEM:-2048}" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=7 $extra_cmdline" \
	-display none -monitor none -serial "file:$log" -no-reboot \
	${QEMU_EXTRA:-} </dev/null
rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "qemu-run: timed out after ${timeout_s}s (log: $log)" >&2
	return 1 2>/dev/null || exit 1
fi
if ! grep -q "splkmem-job: exit=0" "$log"; then
	echo "qemu-run: job did not finish with exit=0 (log: $log)" >&2
	grep -a "splkmem-job:" "$log" >&2 || true
	exit 1
fi
exit 0
