/* The Cortex-M3/M4 path of isa/table_timing.py TableTiming.block_timing and memory/flash.py
 * FlashInterface.sequential_stalls in C (extension mcusim.isa._block_timing).
 *
 * Python stays the definition: this file repeats its rules step by step, in the same order,
 * so that every block gets the same numbers (tests/test_block_timing_native.py compares
 * them). What an instruction class costs and which rule sets it belongs to come from Python
 * (TableTiming._class_cost), asked once per class: the class sets are not copied here.
 *
 * InsnInfo (isa/classify.py) is a named tuple: its fields are read by position. */

#include "block_insn.h"

static int unaligned_wide(const Insn *in) {
    return in->size == 4 && (in->address & 3) == 2;  /* (& 3 is Python's % 4, sign included) */
}

/* TableTiming._pipelines. */
static int pipelines(const Timer *self, const Insn *in, const Insn *prev) {
    if (in->load && in->mem_base == self->pc)
        return 0;
    if (in->load && unaligned_wide(in))
        return 0;
    return self->writeback_load_chains || !(in->load && (prev->writeback || in->writeback));
}

/* TableTiming._m3m4_memory; -1 on error. */
static long memory_rule(const Timer *self, const Insn *in, const Insn *prev, long cost) {
    if (prev == NULL)
        return in->store && !in->reg_offset ? 1 : cost;
    if ((in->flags & F_NOP) && (prev->load || (prev->store && prev->reg_offset)))
        return 0;
    int dependent = 0;
    if (in->mem_base) {
        dependent = PySequence_Contains(prev->writes, in->mem_base_obj);
        if (dependent < 0)
            return -1;
    }
    if (!dependent && in->mem_index) {
        dependent = PySequence_Contains(prev->writes, in->mem_index_obj);
        if (dependent < 0)
            return -1;
    }
    if (in->store && !in->reg_offset)
        cost = 1;
    else if ((in->load || in->store) && prev->load && !dependent && pipelines(self, in, prev))
        cost = cost - 1 > 1 ? cost - 1 : 1;
    if (dependent && !prev->mem_base)
        cost += 1;
    return cost;
}

/* Python's ==, for the branch kinds. */
static int equal(PyObject *a, PyObject *b) {
    return a == b ? 1 : PyObject_RichCompareBool(a, b, Py_EQ);
}

/* _uses_fp_result, given that prev is FP arithmetic; -1 on error. */
static int uses_fp_result(const Insn *in, const Insn *prev) {
    if (!prev->dest)
        return 0;
    int reads = PySequence_Contains(in->reads, prev->dest_obj);
    if (reads <= 0)
        return reads;
    return !((in->flags & F_FP_MAC) && in->dest == prev->dest);
}

static PyObject *cycles_list(const long *cycles, Py_ssize_t n) {
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *v = PyLong_FromLong(cycles[k]);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, k, v);
    }
    return list;
}

/* timing(block) -> (cycles, taken_extra, entry_extra, dynamic): TableTiming.block_timing for
 * a single-issue table with load/store pipelining and none of the Cortex-M33 rules. */
static PyObject *timer_timing(Timer *self, PyObject *block) {
    if (self->index == NULL || self->describe == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "M3M4Timer used before __init__ (or cleared)");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(block, "a block is a sequence of InsnInfo");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    long *cycles = PyMem_Malloc((n ? n : 1) * sizeof(long));
    PyObject *dynamic = PyDict_New();
    PyObject *result = NULL;
    if (cycles == NULL || dynamic == NULL)
        goto done;
    Insn pair[2], *insn = &pair[0], *prev = NULL;
    int prev_fp_arith = 0, busy = 0;
    long unaligned_run = 0;
    long long elapsed = 0, busy_until = 0;
    Py_ssize_t counted = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (read_insn(self, items[k], insn) < 0)
            goto done;
        long c;
        if ((insn->flags & F_PLAIN) && !prev_fp_arith) {
            /* A plain instruction: only the load/store and unaligned-run rules apply. */
            c = insn->base;
            if (insn->mem_base || insn->load || insn->store || insn->mem_index) {
                c = memory_rule(self, insn, prev, c);
                if (c < 0)
                    goto done;
            }
            if (unaligned_wide(insn)) {
                if (++unaligned_run == 3)
                    c += 1;
            } else {
                unaligned_run = 0;
            }
        } else {
            if (read_more(items[k], insn) < 0)
                goto done;
            int fp = (insn->flags & F_FP) != 0;
            if (self->fp_div_overlap && fp) {
                for (; counted < k; counted++)
                    elapsed += cycles[counted];
            }
            c = insn->base + insn->per_reg * insn->nregs;
            if (insn->flags & F_PC_WRITING) {
                int always = equal(insn->branch, self->always);
                if (always < 0)
                    goto done;
                if (always)
                    c += self->refill;
            }
            c = memory_rule(self, insn, prev, c);
            if (c < 0)
                goto done;
            unaligned_run = unaligned_wide(insn) ? unaligned_run + 1 : 0;
            if (unaligned_run == 3)
                c += 1;
            long long fp_wait = 0;
            if (self->fp_div_overlap && fp) {
                /* Cortex-M4: integer instructions overlap a VDIV/VSQRT; the next FP
                 * instruction waits for it to finish. */
                if (busy) {
                    fp_wait = busy_until - elapsed > 0 ? busy_until - elapsed : 0;
                    busy = 0;
                }
                if (insn->flags & F_FP_LONG) {
                    busy_until = elapsed + fp_wait + c;
                    busy = 1;
                    c = 1;
                }
                c += (long)fp_wait;
            }
            if (self->fp_result_stall && !fp_wait && prev_fp_arith) {
                int uses = uses_fp_result(insn, prev);
                if (uses < 0)
                    goto done;
                if (uses)
                    c += self->fp_result_stall;
            }
            if ((insn->flags & F_RANGED)
                    && PyDict_SetItem(dynamic, insn->address_obj, insn->cls) < 0)
                goto done;
            prev_fp_arith = (insn->flags & F_FP_ARITH) != 0;
        }
        cycles[k] = c;
        prev = insn;
        insn = &pair[k & 1 ? 0 : 1];
    }
    if (busy && n) {
        /* The result is still pending when the block ends: charged to the last instruction. */
        long long total = 0;
        for (Py_ssize_t k = 0; k < n; k++)
            total += cycles[k];
        if (busy_until - total > 0)
            cycles[n - 1] += (long)(busy_until - total);
    }
    /* _with_ends: a taken final conditional branch refills; a branch into an unaligned
     * 32-bit first instruction costs more. */
    long taken_extra = 0, entry_extra = 0;
    if (n) {
        int cond = equal(PyTuple_GET_ITEM(items[n - 1], I_BRANCH), self->cond);
        if (cond < 0)
            goto done;
        taken_extra = cond ? self->refill : 0;
        if (read_insn(self, items[0], &pair[0]) < 0)  /* (read again: pair[0] was reused) */
            goto done;
        entry_extra = unaligned_wide(&pair[0]) ? self->unaligned_target_extra : 0;
    }
    PyObject *list = cycles_list(cycles, n);
    if (list != NULL)
        result = Py_BuildValue("(NllO)", list, taken_extra, entry_extra, dynamic);
done:
    PyMem_Free(cycles);
    Py_XDECREF(dynamic);
    Py_DECREF(seq);
    return result;
}

static int timer_init(Timer *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"describe", "refill", "unaligned_target_extra", "fp_result_stall",
                            "fp_div_overlap", "writeback_load_chains", "cond", "always", "pc",
                            NULL};
    PyObject *describe, *cond, *always;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OlllppOOl", names, &describe,
                                     &self->refill, &self->unaligned_target_extra,
                                     &self->fp_result_stall, &self->fp_div_overlap,
                                     &self->writeback_load_chains, &cond, &always, &self->pc))
        return -1;
    Py_INCREF(describe);
    Py_INCREF(cond);
    Py_INCREF(always);
    Py_XSETREF(self->describe, describe);
    Py_XSETREF(self->cond, cond);
    Py_XSETREF(self->always, always);
    Py_XSETREF(self->index, PyDict_New());
    self->ncosts = 0;
    for (int k = 0; k < self->nrecent; k++)
        Py_CLEAR(self->recent[k]);
    self->nrecent = 0;
    return self->index == NULL ? -1 : 0;
}

/* The timer holds a bound method of its TableTiming, which holds the timer: a cycle the
 * garbage collector must be able to break (traverse and clear). */
static int timer_traverse(Timer *self, visitproc visit, void *arg) {
    Py_VISIT(self->describe);
    Py_VISIT(self->index);
    Py_VISIT(self->cond);
    Py_VISIT(self->always);
    return 0;
}

static int timer_clear(Timer *self) {
    Py_CLEAR(self->describe);
    Py_CLEAR(self->index);
    Py_CLEAR(self->cond);
    Py_CLEAR(self->always);
    for (int k = 0; k < self->nrecent; k++)
        Py_CLEAR(self->recent[k]);
    self->nrecent = 0;
    return 0;
}

static void timer_dealloc(Timer *self) {
    PyObject_GC_UnTrack(self);
    timer_clear(self);
    PyMem_Free(self->costs);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef timer_methods[] = {
    {"timing", (PyCFunction)timer_timing, METH_O,
     "timing(block) -> (cycles, taken_extra, entry_extra, dynamic), as "
     "TableTiming.block_timing on the Cortex-M3/M4 path"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject TimerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mcusim.isa._block_timing.M3M4Timer",
    .tp_basicsize = sizeof(Timer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)timer_traverse,
    .tp_clear = (inquiry)timer_clear,
    .tp_doc = "M3M4Timer(describe, refill, unaligned_target_extra, fp_result_stall, "
              "fp_div_overlap, writeback_load_chains, cond, always, pc)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)timer_init,
    .tp_dealloc = (destructor)timer_dealloc,
    .tp_methods = timer_methods,
};

#include "flash_stalls.h"

static PyMethodDef methods[] = {
    {"sequential_stalls", sequential_stalls, METH_VARARGS, SEQUENTIAL_STALLS_DOC},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_block_timing",
    "The Cortex-M3/M4 block timing and the flash's sequential stalls in C "
    "(isa/table_timing.py, memory/flash.py).",
    -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__block_timing(void) {
    if (block_insn_init() < 0 || PyType_Ready(&TimerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&TimerType);
    if (PyModule_AddObject(m, "M3M4Timer", (PyObject *)&TimerType) < 0) {
        Py_DECREF(&TimerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
