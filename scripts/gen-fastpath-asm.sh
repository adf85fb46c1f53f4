#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# gen-fastpath-asm.sh PROBE.s: writes module/generated/fastpath_asm.h to
# standard output (Kbuild's filechk) from module/linux/fastpath_probe.c compiled
# to assembly against the target kernel.
#
# It takes the inline-asm text the kernel's own headers produced for
# arch_local_save_flags(), arch_local_irq_disable() and
# arch_local_irq_enable() (the text between GCC's #APP and #NO_APP
# markers) and hands it to the C++ core as string literals, after checking
# that it is what the core's asm statements assume:
#
#   - one block per primitive, made only of a paravirt call through
#     pv_ops, its alternative replacements (pushf; pop %rax / cli / sti /
#     call BUG_func), numeric labels, and entries of the sections the
#     module loader patches (.altinstructions, .altinstr_replacement,
#     .parainstructions) or objtool reads: .discard.retpoline_safe (up to
#     6.12) and its successors, objtool's generic annotations (Debian
#     sid's 7.2), one line each:
#       911: .pushsection .discard.annotate_insn, "M", @progbits, 8;
#            .long 911b - ., 2; .popsection
#     on the pv_ops call (type 2, ANNOTYPE_RETPOLINE_SAFE, the only
#     instruction annotation a paravirt call site carries), and
#       912: .pushsection .discard.annotate_data, "M", @progbits, 8;
#            .long 912b - ., 1; .popsection
#     in each replacement (type 1, ANNOTYPE_DATA_SPECIAL); 7.2 also makes
#     .altinstructions a merge section of 14-byte entries ("aM", @progbits,
#     14: struct alt_instr);
#   - no register but %rax (the callee-save paravirt convention: the call
#     clobbers %rax and nothing else) and %rip;
#   - save_flags' block ends in %rax, and arch_local_irq_restore(f) is
#     "test IF in f, then the enable block": the core restores that way;
#   - per-CPU reads and increments are single %gs-relative instructions.
#
# Interrupt text that fails those checks is text this script does not
# know (a kernel newer than it, or one built another way): the header
# then says SPLK_IRQ_INLINE 0 with SPLK_IRQ_FALLBACK_REASON, the core
# calls splk_irq_save()/splk_irq_restore() across the seam, the module's
# load line says "fast path: irq via seam calls; kernel asm not known",
# and the build prints why on standard error.  The build still fails
# when the probe itself is broken (its constants missing) or the per-CPU
# instructions are not %gs-relative: the core has no other way to reach
# per-CPU data.  Kernels that must not get the inline path (no
# PARAVIRT_XXL, TRACE_IRQFLAGS, PREEMPT_RT) are told apart by the probe's
# configuration test, never by a parse that went wrong.
set -eu

probe=$1

awk '
function fail(msg) {
	printf "gen-fastpath-asm: %s: %s\n", FILENAME, msg > "/dev/stderr"
	failed = 1
	exit 1
}
# Interrupt text we do not know: remember the first reason, fall back.
function unknown(msg) {
	if (why == "") why = msg
}
function strip(line) {
	sub(/[ \t]*#.*$/, "", line)	# gas comments (after ";" too)
	sub(/^[ \t]+/, "", line)
	sub(/[ \t]+$/, "", line)
	return line
}
function allowed(l) {
	if (l == "") return 1
	if (l ~ /^[0-9]+:$/) return 1
	if (l == ".popsection") return 1
	if (l ~ /^\.pushsection \.(altinstructions|parainstructions),[ ]?"a"$/) return 1
	if (l ~ /^\.pushsection \.altinstructions, ?"aM", ?@progbits, ?14$/) return 1
	if (l ~ /^\.pushsection \.altinstr_replacement,[ ]?"ax"$/) return 1
	if (l ~ /^\.pushsection \.discard\.retpoline_safe$/) return 1
	if (l ~ /^\.(long|quad|4byte|byte|word|short|balign|skip)[ \t]/ &&
	    l ~ /^\.[a-z0-9]+[ \t]+[-0-9a-fx bf.()+*|<> ,]+$/) return 1
	if (l ~ /^call \*pv_ops\+[0-9]+\(%rip\);?$/) return 1
	if (l ~ /^call BUG_func;?$/) return 1
	if (l ~ /^pushf; pop %rax;?$/) return 1
	if (l ~ /^(cli|sti);?$/) return 1
	if (l ~ /\.discard\.annotate_insn/) return annotation(l, "insn", 2)
	if (l ~ /\.discard\.annotate_data/) return annotation(l, "data", 1)
	return 0
}
# One generic annotation of objtool (linux/objtool.h ASM_ANNOTATE and
# ASM_ANNOTATE_DATA) on one line, of the one type it may have here.
function annotation(l, kind, type,    st, n) {
	if (l !~ /^[0-9]+:/) return 0
	sub(/^[0-9]+:[ \t]*/, "", l)
	n = split(l, st, /;[ \t]*/)
	return (n == 3 || (n == 4 && st[4] == "")) &&
	       st[1] ~ ("^\\.pushsection \\.discard\\.annotate_" kind ", ?\"M\", ?@progbits, ?8$") &&
	       st[2] ~ ("^\\.long [0-9]+b - \\., ?" type "$") &&
	       st[3] == ".popsection"
}
/->SPLK_[A-Z0-9_]+ \$/ {
	match($0, /->SPLK_[A-Z0-9_]+ \$-?[0-9]+/)
	split(substr($0, RSTART + 2, RLENGTH - 2), kv, " \\$")
	const[kv[1]] = kv[2]
	next
}
/^splk_fastpath_probe_[a-z_]+:/ {
	fn = $0
	sub(/^splk_fastpath_probe_/, "", fn)
	sub(/:.*/, "", fn)
	next
}
/^[ \t]*\.size[ \t]+splk_fastpath_probe_/ { fn = ""; next }
fn == "" { next }
/^#APP/ { inapp = 1; blocks[fn]++; next }
/^#NO_APP/ { inapp = 0; next }
{
	l = strip($0)
	if (inapp) {
		if (l == "") next
		if (fn ~ /^(save_flags|irq_disable|irq_enable|irq_restore)$/) {
			if (!allowed(l)) unknown("unexpected asm in " fn ": " l)
			tmp = l
			gsub(/%(rax|rip)/, "", tmp)
			if (tmp ~ /%[a-z]/) unknown("register other than %rax in " fn ": " l)
		}
		text[fn] = text[fn] l "\n"
	} else {
		body[fn] = body[fn] l "\n"
	}
}
function cstring(s,    out, n, i, lines) {
	n = split(s, lines, "\n")
	out = ""
	for (i = 1; i < n; i++) {
		gsub(/\\/, "\\\\", lines[i])
		gsub(/"/, "\\\"", lines[i])
		gsub(/%/, "%%", lines[i])
		out = out "\t\"" lines[i] "\\n\\t\" \\\n"
	}
	return out "\t\"\""
}
END {
	if (failed) exit 1
	if (!("SPLK_IRQ_INLINE_CANDIDATE" in const) || !("SPLK_X86_EFLAGS_IF" in const))
		fail("probe constants missing")

	# Per-CPU: one %gs-relative instruction, whatever the compiler named it.
	pr = body["percpu_read"] text["percpu_read"]
	if (pr !~ /movq?[ \t]+%gs:\(%rdi\), ?%rax/)
		fail("this_cpu_read() is not a %gs-relative load")
	pi = body["percpu_inc"] text["percpu_inc"]
	if (pi !~ /(incq[ \t]+%gs:\(%rdi\)|addq[ \t]+\$1, ?%gs:\(%rdi\))/)
		fail("this_cpu_inc() is not a %gs-relative increment")

	print "/* Generated by scripts/gen-fastpath-asm.sh: do not edit. */"
	print "#define SPLK_X86_EFLAGS_IF " const["SPLK_X86_EFLAGS_IF"]
	if (const["SPLK_IRQ_INLINE_CANDIDATE"] != 1) {
		print "#define SPLK_IRQ_INLINE 0"
		exit 0
	}
	split("save_flags irq_disable irq_enable irq_restore", prims, " ")
	for (i = 1; i <= 4; i++)
		if (blocks[prims[i]] != 1)
			unknown(prims[i] ": want one asm block, found " blocks[prims[i]] + 0)
	if (text["save_flags"] !~ /pv_ops/ || text["save_flags"] !~ /pop %rax/)
		unknown("save_flags: no paravirt call with its result in %rax")
	if (text["irq_disable"] !~ /pv_ops/ || text["irq_disable"] !~ /cli/)
		unknown("irq_disable: no paravirt call with a cli replacement")
	if (text["irq_enable"] !~ /pv_ops/ || text["irq_enable"] !~ /sti/)
		unknown("irq_enable: no paravirt call with an sti replacement")
	if (text["irq_restore"] != text["irq_enable"] ||
	    body["irq_restore"] !~ ("\\$" const["SPLK_X86_EFLAGS_IF"] ","))
		unknown("irq_restore is not \"enable if IF was set\"")
	if (why != "") {
		printf "gen-fastpath-asm: NOTE: %s: this kernel'"'"'s interrupt asm is not " \
		       "known to scripts/gen-fastpath-asm.sh (%s); splkmem is built " \
		       "with interrupts off and on through seam calls " \
		       "(splk_irq_save/splk_irq_restore, fast path \"irq via seam " \
		       "calls; kernel asm not known\"): two calls more on every " \
		       "magazine hit; teach the script this text for the " \
		       "inline path\n", FILENAME, why > "/dev/stderr"
		gsub(/\*\//, "* /", why)
		print "/* The inline path is off: " why " */"
		print "#define SPLK_IRQ_INLINE 0"
		print "#define SPLK_IRQ_FALLBACK_REASON \"kernel asm not known\""
		exit 0
	}

	print "#define SPLK_IRQ_INLINE 1"
	print "#define SPLK_ASM_SAVE_FLAGS \\"
	print cstring(text["save_flags"])
	print "#define SPLK_ASM_IRQ_DISABLE \\"
	print cstring(text["irq_disable"])
	print "#define SPLK_ASM_IRQ_ENABLE \\"
	print cstring(text["irq_enable"])
}
' "$probe"
