# Programs of the FAULTS part of issue 13 (bit-band, fault handlers), included from ../Makefile.
# Sources live in exc/; PROG_SRC is relative to src/.
PROGRAMS += bitband
PROG_SRC_bitband    := ../exc/bitband.c
PROG_BOARDS_bitband := mps2-an386 nucleo-f446re nucleo-f103rb

# Fault programs: exc/<prog>.c with the shared handlers (exc/fault_handlers.c).
FAULT_V7M_PROGRAMS := fault_bus fault_mem fault_undef fault_div0 fault_unaligned fault_invstate
FAULT_PROGRAMS := $(FAULT_V7M_PROGRAMS) fault_v6m
PROGRAMS += $(FAULT_PROGRAMS)
$(foreach p,$(FAULT_PROGRAMS),$(eval PROG_SRC_$(p) := ../exc/$(p).c) \
    $(eval PROG_EXTRA_$(p) := exc/fault_handlers.c) \
    $(eval PROG_CFLAGS_$(p) := -Iexc))
$(foreach p,$(FAULT_V7M_PROGRAMS),$(eval PROG_BOARDS_$(p) := mps2-an386 nucleo-f446re nucleo-f103rb))
PROG_BOARDS_fault_v6m := nucleo-g071rb
