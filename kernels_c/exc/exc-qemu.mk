# QEMU-only builds of the exception programs for the other cores QEMU's MPS2 machines have:
# mps2-an385 (Cortex-M3) and mps2-an500 (Cortex-M7), same memory map and UART as mps2-an386.
# mcusim has no such boards: tests/test_exceptions.py runs these under QEMU only, to confirm the
# expected text of the M3 (no FPU) and M7 variants. Included at the end of kernels_c/Makefile
# (it needs BOARD_RULES and PROG_RULES).
EXC_QEMU_BOARDS := mps2-an385 mps2-an500
mps2-an385_CPU      := $(CPU_M3)
mps2-an385_UART     := $(mps2-an386_UART)
mps2-an385_FEATURES := hwdiv
mps2-an500_CPU      := $(CPU_M7F)
mps2-an500_UART     := $(mps2-an386_UART)
mps2-an500_FEATURES := hwdiv fpu

exc_qemu_progs = $(filter-out $(if $(filter fpu,$($(1)_FEATURES)),,fpu_ctx),$(EXC_PROGRAMS))
EXC_QEMU_ELFS := $(foreach b,$(EXC_QEMU_BOARDS),$(patsubst %,$(BUILD)/$(b)/%.elf,$(call exc_qemu_progs,$(b))))

$(foreach b,$(EXC_QEMU_BOARDS),$(eval $(call BOARD_RULES,$(b))))
$(foreach b,$(EXC_QEMU_BOARDS),$(foreach p,$(call exc_qemu_progs,$(b)),$(eval $(call PROG_RULES,$(b),$(p)))))

.PHONY: exc-qemu
exc-qemu: $(EXC_QEMU_ELFS)
all: $(EXC_QEMU_ELFS)
