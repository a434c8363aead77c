/* IT blocks for the native table classifier (thumb_it.c; isa/thumb_it.py). */
#ifndef MCUSIM_THUMB_IT_H
#define MCUSIM_THUMB_IT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "thumb_narrow.h"

/* The IT instruction at code[pos:] (at `address`) and the instructions it makes conditional
 * in out[0..n), n returned, if it and every one of them is handled; else 0 (capstone). */
int td_it_block(const unsigned char *code, Py_ssize_t pos, Py_ssize_t end, int64_t address,
                td_insn out[5]);

#endif
