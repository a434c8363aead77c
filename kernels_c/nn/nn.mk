# nn kernel library (kernels_c/nn/): its test driver and benchmark programs.
# Included by kernels_c/Makefile; paths are relative to kernels_c/.
NN_SRCS := $(wildcard nn/src/*.c nn/src/*.S)
NN_TEST_BOARDS := mps2-an386 nucleo-g071rb nucleo-f103rb nucleo-f746zg nucleo-u575zi
NN_BENCH_BOARDS := mps2-an386 nucleo-f446re nucleo-l4r5zi

PROGRAMS += nn_kernel_test nn_bench

PROG_SRC_nn_kernel_test    := ../nn/tests/nn_kernel_test.c
PROG_EXTRA_nn_kernel_test  := $(NN_SRCS)
PROG_CFLAGS_nn_kernel_test := -Inn/include -Inn/src
PROG_BOARDS_nn_kernel_test := $(NN_TEST_BOARDS)

PROG_SRC_nn_bench    := ../nn/tests/nn_bench.c
PROG_EXTRA_nn_bench  := $(NN_SRCS)
PROG_CFLAGS_nn_bench := -Inn/include -Inn/src
PROG_BOARDS_nn_bench := $(NN_BENCH_BOARDS)

# The same with the hot loops in RAM (NN_CODE_IN_RAM), for boards with flash wait states.
PROGRAMS += nn_bench_ram
PROG_SRC_nn_bench_ram    := ../nn/tests/nn_bench.c
PROG_EXTRA_nn_bench_ram  := $(NN_SRCS)
PROG_CFLAGS_nn_bench_ram := -Inn/include -Inn/src -DNN_CODE_IN_RAM -Wa,--no-warn
PROG_BOARDS_nn_bench_ram := nucleo-f446re nucleo-l4r5zi

# The test driver with the hot loops in RAM (what `mcusim nn` builds for flash boards).
PROGRAMS += nn_kernel_test_ram
PROG_SRC_nn_kernel_test_ram    := ../nn/tests/nn_kernel_test.c
PROG_EXTRA_nn_kernel_test_ram  := $(NN_SRCS)
PROG_CFLAGS_nn_kernel_test_ram := -Inn/include -Inn/src -DNN_CODE_IN_RAM -Wa,--no-warn
PROG_BOARDS_nn_kernel_test_ram := nucleo-l4r5zi
