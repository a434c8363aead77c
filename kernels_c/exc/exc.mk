# Exception and interrupt test programs (kernels_c/exc/, issue 13; exc/README.md).
# Included by kernels_c/Makefile; paths are relative to kernels_c/.
#
# Boards: the QEMU reference (mps2-an386) and one board per core: nucleo-f446re (M4F),
# nucleo-g071rb (M0+, ARMv6-M), nucleo-f746zg (M7F), nucleo-f103rb (M3).
EXC_BOARDS := mps2-an386 nucleo-f446re nucleo-g071rb nucleo-f746zg nucleo-f103rb
EXC_FPU_BOARDS := mps2-an386 nucleo-f446re nucleo-f746zg

# Every program: exc/<prog>.c + the device vectors (exc_vectors.c), built for EXC_BOARDS.
# (The fault and bit-band programs have their own fragment, exc/faults.mk.)
EXC_PROGRAMS := systick_count rtos2task nested wfi fpu_ctx
PROGRAMS += $(EXC_PROGRAMS)
$(foreach p,$(EXC_PROGRAMS),$(eval PROG_SRC_$(p) := ../exc/$(p).c) \
    $(eval PROG_EXTRA_$(p) := exc/exc_vectors.c) \
    $(eval PROG_CFLAGS_$(p) := -Iexc) \
    $(eval PROG_BOARDS_$(p) := $(EXC_BOARDS)))

PROG_BOARDS_fpu_ctx := $(EXC_FPU_BOARDS)
PROG_EXTRA_rtos2task += exc/rtos2task_port.S

