# SPDX-License-Identifier: GPL-2.0
#
# Kbuild rules for the freestanding C++ core (see docs/cxx-subset.md).
#
# Flags: the target kernel's own KBUILD_CPPFLAGS/KBUILD_CFLAGS (so the
# code model, red zone, retpoline/rethunk, stack protector, -mfentry and
# CFI/IBT flags always match the kernel), minus whatever g++ reports as
# C-only, plus the sanitizer flags Kbuild adds to C objects, plus the C++
# subset flags.  objtool runs through Kbuild's own cmd_objtool, so it runs
# per object exactly when Kbuild runs it per C object (and is left to the
# link step on IBT/LTO kernels).

# The C++ compiler that pairs with the kernel's C compiler
# (gcc-12 -> g++-12, x86_64-linux-gnu-gcc-12 -> x86_64-linux-gnu-g++-12).
CXX := $(patsubst %clang,%clang++,$(patsubst %gcc,%g++,$(subst gcc-,g++-,$(CC))))

cxx-kernel-flags := $(KBUILD_CPPFLAGS) $(KBUILD_CFLAGS) $(KBUILD_CFLAGS_MODULE)
cxx-c-only-flags := $(shell $(CONFIG_SHELL) $(src)/scripts/cxx-c-only-flags.sh \
			"$(CXX)" $(cxx-kernel-flags))

# Sanitizers, under the same conditions scripts/Makefile.lib uses for C.
ifdef CONFIG_KASAN
ifndef CONFIG_KASAN_HW_TAGS
cxx-sanitizer-flags += $(CFLAGS_KASAN)
endif
endif
cxx-sanitizer-flags-$(CONFIG_KCSAN) += $(CFLAGS_KCSAN)
cxx-sanitizer-flags-$(CONFIG_UBSAN) += $(CFLAGS_UBSAN)
cxx-sanitizer-flags += $(cxx-sanitizer-flags-y)

# -fno-weak: an inline function that is not inlined (and the vtable of a
# class without a key function) becomes a local copy in each object that
# needs it, not a COMDAT group.  The kernel's objtool and ftrace tables
# (.orc_unwind_ip, __patchable_function_entries) name that text from outside
# the group, so when the partial link of splkmem.o keeps one object's copy
# and drops the others, the link fails on the dropped ones' references;
# which functions stay out of line depends on the kernel's flags (the KCSAN
# kernel inlines less), so only this makes every kernel's build safe.  It
# also makes GCC warn about C++17 inline variables: class constants are
# enums instead (docs/cxx-subset.md).
cxx-subset-flags := -std=gnu++20 -fno-exceptions -fno-rtti -fno-weak \
	-fno-threadsafe-statics -fno-use-cxa-atexit -ffreestanding \
	-nostdinc -nostdinc++ -isystem $(shell $(CC) -print-file-name=include) \
	-fno-asynchronous-unwind-tables -Wno-missing-field-initializers

# Test builds (the kernel has KUnit) get the fault hooks of seam.h.
ifneq ($(CONFIG_KUNIT),)
ccflags-y += -DSPLKMEM_TEST_HOOKS
cxx-subset-flags += -DSPLKMEM_TEST_HOOKS
endif

cxx_flags = -Wp,-MMD,$(depfile) \
	$(filter-out $(cxx-c-only-flags),$(cxx-kernel-flags)) \
	$(cxx-sanitizer-flags) $(cxx-subset-flags) \
	-I$(src)/module -I$(src)/include -I$(obj)/module/generated

# Sizes and alignments of kernel objects the C++ core embeds, generated
# from the target kernel's headers (the asm-offsets technique).
targets += module/linux/kernel_sizes.s
$(obj)/module/generated/kernel_sizes.h: $(obj)/module/linux/kernel_sizes.s FORCE
	$(call filechk,offsets,SPLKMEM_KERNEL_SIZES_H)

# The kernel's own interrupt and per-CPU instructions for the inline fast
# path, extracted from its headers and validated (scripts/gen-fastpath-asm.sh).
targets += module/linux/fastpath_probe.s
filechk_fastpath_asm = $(CONFIG_SHELL) $(src)/scripts/gen-fastpath-asm.sh $<
$(obj)/module/generated/fastpath_asm.h: $(obj)/module/linux/fastpath_probe.s \
		$(src)/scripts/gen-fastpath-asm.sh FORCE
	$(call filechk,fastpath_asm)

# The C glue checks the generated sizes against the real types.
$(obj)/module/linux/kernel_services.o: $(obj)/module/generated/kernel_sizes.h

# Kernel interfaces that changed between the kernels we build for, found by
# compiling a line against the target kernel's headers
# (scripts/kernel-features.sh), not by its version number.
filechk_kernel_features = $(CONFIG_SHELL) $(src)/scripts/kernel-features.sh \
	$(CC) $(NOSTDINC_FLAGS) $(LINUXINCLUDE) $(KBUILD_CPPFLAGS) $(KBUILD_CFLAGS) \
	$(KBUILD_CFLAGS_MODULE)
$(obj)/module/generated/kernel_features.h: $(src)/scripts/kernel-features.sh FORCE
	$(call filechk,kernel_features)
$(obj)/module/linux/kernel_services.o $(obj)/module/linux/shrinker.o: \
	$(obj)/module/generated/kernel_features.h

quiet_cmd_cxx_o_cpp = C++ $(quiet_modtag) $@
      cmd_cxx_o_cpp = $(CXX) $(cxx_flags) -c -o $@ $< \
		$(if $(cxx-objtool-step),,$(cmd_objtool)) ; \
		$(CONFIG_SHELL) $(src)/scripts/check-cxx-object.sh \
			"$(NM)" "$(READELF)" \
			$(if $(strip $(cxx-sanitizer-flags)),yes,no) $@

# Kbuild runs objtool on an object in one of two ways: appended to the
# compile command (cmd_objtool starts with "; ", as on 6.1 to 7.2), or as a
# step of the rule of its own (5.10).  Which one is read from Kbuild's own
# definition when the rule runs, not from a version number.
cxx-objtool-step = $(if $(findstring ; ,$(value cmd_objtool)),,y)

define rule_cxx_o_cpp
	$(call cmd_and_fixdep,cxx_o_cpp)
	$(if $(cxx-objtool-step),$(call cmd,objtool))
	$(call cmd,gen_objtooldep)
	$(call cmd,record_mcount)
endef

$(addprefix $(obj)/,$(splkmem-cxx-objs)): $(obj)/%.o: $(src)/%.cpp \
		$(obj)/module/generated/kernel_sizes.h \
		$(obj)/module/generated/fastpath_asm.h FORCE
	$(call if_changed_rule,cxx_o_cpp)


# The layout of our struct taskq_ent and the kernel priorities, for the C++
# task queue (module/linux/taskq_sizes.c, the same technique).
targets += module/linux/taskq_sizes.s
$(obj)/module/generated/taskq_sizes.h: $(obj)/module/linux/taskq_sizes.s FORCE
	$(call filechk,offsets,SPLKMEM_TASKQ_SIZES_H)
$(addprefix $(obj)/,$(splkmem-cxx-objs)): $(obj)/module/generated/taskq_sizes.h
$(obj)/module/linux/taskq_services.o: $(obj)/module/generated/taskq_sizes.h

# OpenZFS 2.4.4's taskq_ent_t layout, compiled from OpenZFS's own headers
# (SPLKMEM_OPENZFS: the directory holding its include/, made by
# scripts/openzfs-headers.sh) against this kernel; taskq_services.c
# static_asserts ours against it.  Our include/ must not shadow OpenZFS's
# sys/taskq.h there, hence the CFLAGS_REMOVE.
ifneq ($(SPLKMEM_OPENZFS),)
targets += module/linux/openzfs_abi.s
CFLAGS_REMOVE_module/linux/openzfs_abi.o := -I$(src)/include -I$(src)/module
CFLAGS_module/linux/openzfs_abi.o := -include $(src)/tests/openzfs-abi/zfs_config.h \
	-I$(SPLKMEM_OPENZFS)/include/os/linux/spl \
	-I$(SPLKMEM_OPENZFS)/include/os/linux/zfs \
	-I$(SPLKMEM_OPENZFS)/include/os/linux/kernel \
	-I$(SPLKMEM_OPENZFS)/include
$(obj)/module/linux/openzfs_abi.s: $(obj)/module/generated/kernel_features.h
$(obj)/module/generated/openzfs_abi.h: $(obj)/module/linux/openzfs_abi.s FORCE
	$(call filechk,offsets,SPLKMEM_OPENZFS_ABI_H)
$(obj)/module/linux/taskq_services.o: $(obj)/module/generated/openzfs_abi.h
CFLAGS_module/linux/taskq_services.o += -DSPLKMEM_OPENZFS_ABI
endif
