# Programs of the FAULTS part of issue 13 (bit-band, fault handlers), included from ../Makefile.
# Sources live in exc/; PROG_SRC is relative to src/.
PROGRAMS += bitband
PROG_SRC_bitband    := ../exc/bitband.c
PROG_BOARDS_bitband := mps2-an386 nucleo-f446re nucleo-f103rb
