#!/bin/bash
# Prove that scripts/gen-fastpath-asm.sh takes what it should, falls back
# where it must and refuses what it must: compile module/linux/fastpath_probe.c
# against each stock kernel, Debian sid's newest 7.x among them (built in
# a sid root of debian-root.sh, made once and cached; objtool's generic
# .discard.annotate_insn annotation) (expect the inline path), against the
# test kernel and Debian's PREEMPT_RT 6.12 (expect the seam fallback by
# configuration: lockdep traces irq flags, RT needs a local lock), against
# Debian 11's 5.10 (in a bullseye root: expect the fallback for asm the
# generator does not know, with its reason and message); then
# feed the generator the stock 6.12 probe with one thing changed at a
# time: 6.12's retpoline_safe annotations rewritten as 7.x writes them
# (expect the inline path), interrupt text it does not know (expect the
# fallback "kernel asm not known", with its message, and no failure), and
# a broken probe or per-CPU access that is not %gs-relative (expect the
# build refused).
#
# usage: test-fastpath-asm.sh TEST_KDIR
set -uo pipefail

test_kdir=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
source "$here/kernels.sh"
out=$top/build/fastpath-asm
status=0

probe() {  # kdir name [root] -> $out/<name>/fastpath_probe.s
	local dir=$out/$2 in_root=()
	[ -z "${3:-}" ] || in_root=("$here/in-root.sh" "$3")
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$top/module/linux/fastpath_probe.c" "$dir/"
	echo 'obj-m := fastpath_probe.o' > "$dir/Kbuild"
	"${in_root[@]}" make -s -C "$1" M="$dir" fastpath_probe.s > "$dir/log" 2>&1 ||
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

mutate() {  # probe.s, perl expression (whole file), what -> $out/bad.s
	perl -0777 -pe "$2" "$1" > "$out/bad.s"
	if cmp -s "$1" "$out/bad.s"; then
		echo "test-fastpath-asm: mutation '$3' changed nothing" >&2
		return 1
	fi
}

expect_mutant_inline() {  # probe.s, perl expression, what
	mutate "$@" || return 1
	if ! sh "$here/gen-fastpath-asm.sh" "$out/bad.s" > "$out/bad.h" 2> "$out/bad.err" ||
	   ! grep -q "^#define SPLK_IRQ_INLINE 1" "$out/bad.h"; then
		echo "test-fastpath-asm: no inline path with $3" >&2
		cat "$out/bad.err" >&2
		return 1
	fi
	echo "test-fastpath-asm: inline path with $3" >&2
}

# Interrupt text the generator does not know: the build goes on with the
# seam calls, the header names the reason and the build log says why.
expect_fallback() {  # probe.s, perl expression, what
	mutate "$@" || return 1
	if ! sh "$here/gen-fastpath-asm.sh" "$out/bad.s" > "$out/bad.h" 2> "$out/bad.err"; then
		echo "test-fastpath-asm: $3 failed the build instead of falling back" >&2
		cat "$out/bad.err" >&2
		return 1
	fi
	if ! grep -q "^#define SPLK_IRQ_INLINE 0" "$out/bad.h" ||
	   ! grep -q '^#define SPLK_IRQ_FALLBACK_REASON "kernel asm not known"' "$out/bad.h" ||
	   ! grep -q "gen-fastpath-asm: NOTE: .*not known to scripts/gen-fastpath-asm.sh" "$out/bad.err" ||
	   grep -q "^#define SPLK_ASM_" "$out/bad.h"; then
		echo "test-fastpath-asm: $3: want the seam fallback with its reason and message" >&2
		cat "$out/bad.h" "$out/bad.err" >&2
		return 1
	fi
	echo "test-fastpath-asm: seam fallback with $3: $(sed -n 's|^/\* The inline path is off: \(.*\) \*/$|\1|p' "$out/bad.h")" >&2
}

expect_refused() {  # probe.s, perl expression, what
	perl -0777 -pe "$2" "$1" > "$out/bad.s"
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
s7=$(probe "$(stock_headers 7)" "stock-$(stock_release 7)" "$(stock_root 7)") || exit 1
s510=$(probe "$(stock_headers 5.10)" "stock-$(stock_release 5.10)" "$(stock_root 5.10)") || exit 1
expect_inline "$s612" 1 || status=1
expect_inline "$s61" 1 || status=1
expect_inline "$stest" 0 || status=1
expect_inline "$srt" 0 || status=1
expect_inline "$s7" 1 || status=1
grep -q '\.discard\.annotate_insn' "$s7" ||
	{ echo "test-fastpath-asm: the 7.x probe has no .discard.annotate_insn" >&2; status=1; }
# 5.10's paravirt irq text (restore_fl takes %rdi; the native text comes
# from .parainstructions) is not what the inline path uses: a real kernel
# the generator does not know, so the seam fallback with its reason.
expect_inline "$s510" 0 || status=1
if ! sh "$here/gen-fastpath-asm.sh" "$s510" 2> "$out/5.10.err" |
	grep -q '^#define SPLK_IRQ_FALLBACK_REASON "kernel asm not known"' ||
   ! grep -q "gen-fastpath-asm: NOTE:" "$out/5.10.err"; then
	echo "test-fastpath-asm: 5.10: want the seam fallback with its reason and message" >&2
	status=1
fi

# 6.12's annotations as 7.x (objtool's generic annotations, 6.13 on) writes them.
annotate='s/(\d+):\n\t\.pushsection \.discard\.retpoline_safe\n\t\.long \1b\n\t\.popsection/911: .pushsection .discard.annotate_insn, "M", \@progbits, 8; .long 911b - ., 2; .popsection/g'
expect_mutant_inline "$s612" "$annotate" "the annotations written as 7.x writes them" || status=1

expect_fallback "$s612" 's/pushf; pop %rax/pushf; pop %rdx/' "a result in %rdx" || status=1
expect_fallback "$s612" 's/^(\tcall \*pv_ops\+248\(%rip\);)/$1 movq %rbx, %rcx;/m' \
	"an extra instruction" || status=1
expect_fallback "$s612" 's/\.altinstructions/.text.other/' "an unknown section" || status=1
expect_fallback "$s612" 's/(^splk_fastpath_probe_irq_restore:.*?)\$512/$1\$256/ms' \
	"a restore that tests another flag" || status=1
expect_fallback "$s612" "$(echo "$annotate" | sed 's/ 2; .popsection/ 1; .popsection/')" \
	"an annotation of another type (1, NOENDBR)" || status=1
expect_fallback "$s7" 's/(\.long \d+b - \., )2;/${1}5;/' \
	"an annotation of another type (5) in the 7.x probe" || status=1
expect_fallback "$s7" 's/"aM", \@progbits, 14/"aM", \@progbits, 16/' \
	"7.x alternatives entries of another size" || status=1
expect_refused "$s612" 's/%gs:\(%rdi\)/(%rdi)/g' "a per-CPU read without %gs" || status=1
expect_refused "$s612" 's/^.*SPLK_X86_EFLAGS_IF.*\n//mg' "a missing constant" || status=1
exit $status
