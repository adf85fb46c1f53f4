#!/bin/bash
# Prove that scripts/gen-fastpath-asm.sh takes what it should and refuses
# what it must: compile module/linux/fastpath_probe.c against each stock kernel
# (expect the inline path), against the test kernel and Debian's
# PREEMPT_RT 6.12 (expect the seam fallback: lockdep traces irq flags, RT
# needs a local lock), then feed the generator the stock 6.12 probe with
# one thing wrong at a time and expect a failure.
#
# usage: test-fastpath-asm.sh TEST_KDIR
set -uo pipefail

test_kdir=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
source "$here/kernels.sh"
out=$top/build/fastpath-asm
status=0

probe() {  # kdir -> $out/<name>/fastpath_probe.s
	local dir=$out/$2
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$top/module/linux/fastpath_probe.c" "$dir/"
	echo 'obj-m := fastpath_probe.o' > "$dir/Kbuild"
	make -s -C "$1" M="$dir" fastpath_probe.s > "$dir/log" 2>&1 ||
		{ cat "$dir/log" >&2; return 1; }
	echo "$dir/fastpath_probe.s"
}

expect_inline() {  # probe.s, 0|1
	local got
	got=$(sh "$here/gen-fastpath-asm.sh" "$1" | sed -n 's/^#define SPLK_IRQ_INLINE //p')
	if [ "$got" != "$2" ]; then
		echo "test-fastpath-asm: $1: SPLK_IRQ_INLINE is '$got', want $2" >&2
		return 1
	fi
	echo "test-fastpath-asm: $(basename "$(dirname "$1")"): SPLK_IRQ_INLINE $got" >&2
}

expect_refused() {  # probe.s, sed expression, what
	sed "$2" "$1" > "$out/bad.s"
	if cmp -s "$1" "$out/bad.s"; then
		echo "test-fastpath-asm: mutation '$3' changed nothing" >&2
		return 1
	fi
	if sh "$here/gen-fastpath-asm.sh" "$out/bad.s" > /dev/null 2> "$out/bad.err"; then
		echo "test-fastpath-asm: accepted a probe with $3" >&2
		return 1
	fi
	echo "test-fastpath-asm: refused $3: $(head -1 "$out/bad.err")" >&2
}

s612=$(probe "$(stock_headers 6.12)" stock-6.12) || exit 1
s61=$(probe "$(stock_headers 6.1)" stock-6.1) || exit 1
stest=$(probe "$test_kdir" test-kernel) || exit 1
srt=$(probe "$(stock_headers 6.12-rt)" stock-6.12-rt) || exit 1
expect_inline "$s612" 1 || status=1
expect_inline "$s61" 1 || status=1
expect_inline "$stest" 0 || status=1
expect_inline "$srt" 0 || status=1

expect_refused "$s612" 's/pushf; pop %rax/pushf; pop %rdx/' "a result in %rdx" || status=1
expect_refused "$s612" 's/^\(\tcall \*pv_ops+248(%rip);\)/\1 movq %rbx, %rcx;/' \
	"an extra instruction" || status=1
expect_refused "$s612" 's/\.altinstructions/.text.other/' "an unknown section" || status=1
expect_refused "$s612" 's/%gs:(%rdi)/(%rdi)/' "a per-CPU read without %gs" || status=1
expect_refused "$s612" '/^splk_fastpath_probe_irq_restore:/,/\.size/s/\$512/$256/' \
	"a restore that tests another flag" || status=1
expect_refused "$s612" '/SPLK_X86_EFLAGS_IF/d' "a missing constant" || status=1
exit $status
