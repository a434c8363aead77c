/* memory/flash.py FlashInterface.sequential_stalls in C (isa/native/flash_stalls.c), a
 * function of the mcusim.isa._block_timing module. */
#ifndef MCUSIM_FLASH_STALLS_H
#define MCUSIM_FLASH_STALLS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define SEQUENTIAL_STALLS_DOC                                                                 \
    "sequential_stalls(addresses, cycles, offset, line_bytes, ws, prefetch) -> list[int] | "  \
    "None: FlashInterface.sequential_stalls for a block within one window (offset: the "     \
    "region's base minus the window's); None when the lists' lengths differ"

PyObject *sequential_stalls(PyObject *module, PyObject *args);

#endif
