/* What the native Cortex-M3/M4 block timing (isa/native/block_timing.c) reads of a block:
 * the InsnInfo fields by position, each class's cost entry (isa/native/block_insn.c). */
#ifndef MCUSIM_BLOCK_INSN_H
#define MCUSIM_BLOCK_INSN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* InsnInfo field positions (isa/classify.py). */
enum {
    I_ADDRESS = 0, I_SIZE = 1, I_CLS = 3, I_NREGS = 4, I_READS = 5, I_WRITES = 6, I_LOAD = 7,
    I_STORE = 8, I_REG_OFFSET = 9, I_BRANCH = 12, I_DEST = 15, I_WRITEBACK = 16,
    I_MEM_BASE = 17, I_MEM_INDEX = 18, I_FIELDS = 19
};

/* Class flags, as TableTiming._class_cost gives them (the same bit values there). */
enum {
    F_PLAIN = 1, F_LIST = 2, F_PC_WRITING = 4, F_NOP = 8, F_FP = 16, F_RANGED = 32,
    F_FP_ARITH = 64, F_FP_LONG = 128, F_FP_MAC = 256
};

typedef struct {
    long base;     /* _base_of(cls, 0, None) */
    long per_reg;  /* cycles per listed register (list classes) */
    long flags;
} ClassCost;

/* What the rules read of one instruction, taken out of its tuple once. */
typedef struct {
    PyObject *address_obj, *cls, *reads, *writes, *branch, *dest_obj, *mem_base_obj;
    PyObject *mem_index_obj;
    long long address;
    long size, nregs, dest, mem_base, mem_index, flags, base, per_reg;
    int load, store, reg_offset, writeback;
} Insn;

/* Class objects seen last, by identity (each held, so its address cannot be reused by another
 * object): a block's few distinct class strings are found without a dict look-up. */
#define RECENT 16

typedef struct {
    PyObject_HEAD
    PyObject *recent[RECENT];
    Py_ssize_t recent_index[RECENT];
    int nrecent;
    PyObject *describe;  /* cls -> (base, per_register, flags) */
    PyObject *index;     /* cls -> position in costs */
    PyObject *cond, *always;
    ClassCost *costs;
    Py_ssize_t ncosts, capacity;
    long refill, unaligned_target_extra, fp_result_stall, pc;
    int fp_div_overlap, writeback_load_chains;
} Timer;

/* Reads the fields of one InsnInfo that every rule may look at (the address only of 32-bit
 * instructions: only the alignment rules read it); 0 on success. */
int read_insn(Timer *self, PyObject *t, Insn *in);
/* The fields only the rules for instructions that are not plain read; 0 on success. */
int read_more(PyObject *t, Insn *in);
/* Sets up the small-int objects read_insn compares with; 0 on success. */
int block_insn_init(void);

#endif
