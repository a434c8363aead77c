/* The InsnInfo fields the native block timing reads, and each class's cost entry, asked of
 * Python (TableTiming._class_cost) once per class (isa/native/block_timing.c uses them). */

#include "block_insn.h"

static int truth(PyObject *o) {
    if (o == Py_True)
        return 1;
    if (o == Py_False || o == Py_None)
        return 0;
    return PyObject_IsTrue(o);
}

/* 0, 2 and 4 as objects: a field that is one of these (CPython keeps one object per small int)
 * has that value without a conversion. Identity implies the value, so any other object is
 * still converted. */
static PyObject *zero, *two, *four;

static long as_long(PyObject *o, int *failed) {
    if (o == zero)
        return 0;
    if (o == two)
        return 2;
    if (o == four)
        return 4;
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        *failed = 1;
    return v;
}

static Py_ssize_t class_index_of(Timer *self, PyObject *cls);

/* The cost entry of a class (-1 on error): by identity among the recent ones, else by value. */
static Py_ssize_t class_index(Timer *self, PyObject *cls) {
    for (int k = 0; k < self->nrecent; k++) {
        if (self->recent[k] == cls)
            return self->recent_index[k];
    }
    Py_ssize_t index = class_index_of(self, cls);
    if (index >= 0) {
        int slot = self->nrecent < RECENT ? self->nrecent++ : (int)(index % RECENT);
        Py_INCREF(cls);
        Py_XSETREF(self->recent[slot], cls);
        self->recent_index[slot] = index;
    }
    return index;
}

/* The cost entry of a class by value, asking Python the first time (-1 on error). */
static Py_ssize_t class_index_of(Timer *self, PyObject *cls) {
    PyObject *found = PyDict_GetItemWithError(self->index, cls);
    if (found != NULL)
        return PyLong_AsSsize_t(found);
    if (PyErr_Occurred())
        return -1;
    PyObject *d = PyObject_CallOneArg(self->describe, cls);
    if (d == NULL)
        return -1;
    ClassCost cc;
    int failed = 0;
    if (!PyTuple_Check(d) || PyTuple_GET_SIZE(d) != 3) {
        Py_DECREF(d);
        PyErr_SetString(PyExc_TypeError, "describe(cls) must give (base, per_register, flags)");
        return -1;
    }
    cc.base = as_long(PyTuple_GET_ITEM(d, 0), &failed);
    cc.per_reg = as_long(PyTuple_GET_ITEM(d, 1), &failed);
    cc.flags = as_long(PyTuple_GET_ITEM(d, 2), &failed);
    Py_DECREF(d);
    if (failed)
        return -1;
    if (self->ncosts == self->capacity) {
        Py_ssize_t capacity = self->capacity ? 2 * self->capacity : 32;
        ClassCost *grown = PyMem_Realloc(self->costs, capacity * sizeof(ClassCost));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->costs = grown;
        self->capacity = capacity;
    }
    Py_ssize_t k = self->ncosts;
    PyObject *key = PyLong_FromSsize_t(k);
    if (key == NULL || PyDict_SetItem(self->index, cls, key) < 0) {
        Py_XDECREF(key);
        return -1;
    }
    Py_DECREF(key);
    self->costs[self->ncosts++] = cc;
    return k;
}

int read_insn(Timer *self, PyObject *t, Insn *in) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) < I_FIELDS) {
        PyErr_SetString(PyExc_TypeError, "a block holds InsnInfo tuples");
        return -1;
    }
    int failed = 0;
    in->address_obj = PyTuple_GET_ITEM(t, I_ADDRESS);
    in->size = as_long(PyTuple_GET_ITEM(t, I_SIZE), &failed);
    in->address = 0;
    if (in->size == 4) {
        in->address = PyLong_AsLongLong(in->address_obj);
        if (in->address == -1 && PyErr_Occurred())
            return -1;
    }
    in->cls = PyTuple_GET_ITEM(t, I_CLS);
    in->reads = PyTuple_GET_ITEM(t, I_READS);
    in->writes = PyTuple_GET_ITEM(t, I_WRITES);
    in->load = truth(PyTuple_GET_ITEM(t, I_LOAD));
    in->store = truth(PyTuple_GET_ITEM(t, I_STORE));
    in->reg_offset = truth(PyTuple_GET_ITEM(t, I_REG_OFFSET));
    in->branch = PyTuple_GET_ITEM(t, I_BRANCH);
    in->writeback = truth(PyTuple_GET_ITEM(t, I_WRITEBACK));
    in->mem_base_obj = PyTuple_GET_ITEM(t, I_MEM_BASE);
    in->mem_index_obj = PyTuple_GET_ITEM(t, I_MEM_INDEX);
    in->mem_base = as_long(in->mem_base_obj, &failed);
    in->mem_index = as_long(in->mem_index_obj, &failed);
    if (failed || in->load < 0 || in->store < 0 || in->reg_offset < 0 || in->writeback < 0)
        return -1;
    Py_ssize_t k = class_index(self, in->cls);
    if (k < 0)
        return -1;
    const ClassCost *cc = &self->costs[k];
    in->flags = cc->flags;
    in->base = cc->base;
    in->per_reg = cc->per_reg;
    return 0;
}

int read_more(PyObject *t, Insn *in) {
    int failed = 0;
    in->nregs = as_long(PyTuple_GET_ITEM(t, I_NREGS), &failed);
    in->dest_obj = PyTuple_GET_ITEM(t, I_DEST);
    in->dest = as_long(in->dest_obj, &failed);
    return failed ? -1 : 0;
}

int block_insn_init(void) {
    zero = PyLong_FromLong(0);
    two = PyLong_FromLong(2);
    four = PyLong_FromLong(4);
    return zero == NULL || two == NULL || four == NULL ? -1 : 0;
}
