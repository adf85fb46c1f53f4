// SPDX-License-Identifier: GPL-2.0
/*
 * Probe of the target kernel's own fast-path primitives, compiled to
 * assembly against its headers and never linked.
 * scripts/gen-fastpath-asm.sh reads the result and writes
 * module/generated/fastpath_asm.h, which lets the C++ core disable and
 * enable interrupts and reach per-CPU data inline, with exactly the
 * instructions (and .altinstructions/.parainstructions entries, which the
 * module loader patches as it patches the kernel) that C code built
 * against this kernel gets.
 *
 * The interrupt primitives are probed only where they are fixed-register
 * paravirt calls (PARAVIRT_XXL: the callee-save convention clobbers %rax
 * alone) and no tracing hook belongs around them (no TRACE_IRQFLAGS, so
 * local_irq_save() is arch_local_irq_save()).  Elsewhere the compiler
 * chooses the operands, lockdep must see every transition, or (on
 * PREEMPT_RT) the per-CPU section must be a local_lock_t, not interrupts
 * off: the core then calls splk_irq_save()/splk_irq_restore() across the
 * seam.
 */
#include <linux/kbuild.h>
#include <linux/irqflags.h>
#include <linux/percpu.h>
#include <asm/processor-flags.h>

#if defined(CONFIG_X86_64) && defined(CONFIG_SMP) && \
	defined(CONFIG_PARAVIRT_XXL) && !defined(CONFIG_TRACE_IRQFLAGS) && \
	!defined(CONFIG_PREEMPT_RT)
#define SPLK_IRQ_INLINE_CANDIDATE 1

static __used unsigned long splk_fastpath_probe_save_flags(void)
{
	return arch_local_save_flags();
}

static __used void splk_fastpath_probe_irq_disable(void)
{
	arch_local_irq_disable();
}

static __used void splk_fastpath_probe_irq_enable(void)
{
	arch_local_irq_enable();
}

/* Restore must be "enable if the saved flags had interrupts on". */
static __used void splk_fastpath_probe_irq_restore(unsigned long flags)
{
	arch_local_irq_restore(flags);
}
#else
#define SPLK_IRQ_INLINE_CANDIDATE 0
#endif

/* Per-CPU accesses: must be %gs-relative, one instruction each. */
typedef void *splk_probe_ptr;

static __used splk_probe_ptr
splk_fastpath_probe_percpu_read(splk_probe_ptr __percpu *slot)
{
	return this_cpu_read(*slot);
}

static __used void splk_fastpath_probe_percpu_inc(long __percpu *slot)
{
	this_cpu_inc(*slot);
}

int main(void);
int main(void)
{
	DEFINE(SPLK_IRQ_INLINE_CANDIDATE, SPLK_IRQ_INLINE_CANDIDATE);
	DEFINE(SPLK_X86_EFLAGS_IF, X86_EFLAGS_IF);
	return 0;
}
