/* EncodingMemo: isa/decode.py's memo of classified encodings (`_TAILS`) when the native
 * decoder is in use. The subset of a dict's interface decode.py uses (get, [] =, len, clear),
 * keyed by the encoding's bytes (2 or 4), held in an open-addressing table of the encoding's
 * integer value: the fast loop (scan) looks an encoding up without making a bytes object or
 * hashing one (those were half of its time with a dict). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>

#include "encoding_memo.h"

#define EMPTY 0
#define FIRST_SIZE 1024

static size_t slot_of(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

PyObject *memo_lookup(EncodingMemo *m, uint64_t key) {
    if (m->capacity == 0)
        return NULL;
    size_t mask = m->capacity - 1;
    for (size_t k = slot_of(key, mask);; k = (k + 1) & mask) {
        if (m->keys[k] == key)
            return m->values[k];
        if (m->keys[k] == EMPTY)
            return NULL;
    }
}

static int grow(EncodingMemo *m) {
    size_t capacity = m->capacity ? m->capacity * 2 : FIRST_SIZE;
    uint64_t *keys = calloc(capacity, sizeof *keys);
    PyObject **values = calloc(capacity, sizeof *values);
    if (keys == NULL || values == NULL) {
        free(keys);
        free(values);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t k = 0; k < m->capacity; k++) {
        if (m->keys[k] == EMPTY)
            continue;
        size_t s = slot_of(m->keys[k], capacity - 1);
        while (keys[s] != EMPTY)
            s = (s + 1) & (capacity - 1);
        keys[s] = m->keys[k];
        values[s] = m->values[k];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys, m->values = values, m->capacity = capacity;
    return 0;
}

int memo_store(EncodingMemo *m, uint64_t key, PyObject *value) {
    if (2 * (m->used + 1) > m->capacity && grow(m) < 0)
        return -1;
    size_t mask = m->capacity - 1, k = slot_of(key, mask);
    while (m->keys[k] != EMPTY && m->keys[k] != key)
        k = (k + 1) & mask;
    Py_INCREF(value);
    if (m->keys[k] == key) {
        Py_SETREF(m->values[k], value);
        return 0;
    }
    m->keys[k] = key;
    m->values[k] = value;
    m->used++;
    return 0;
}

void memo_clear(EncodingMemo *m) {
    for (size_t k = 0; k < m->capacity; k++) {
        if (m->keys[k] != EMPTY) {
            m->keys[k] = EMPTY;
            Py_CLEAR(m->values[k]);
        }
    }
    m->used = 0;
}

/* The key of an encoding given as bytes (0: not 2 or 4 bytes, which no memo holds). */
static uint64_t key_of(PyObject *encoding) {
    if (!PyBytes_Check(encoding)) {
        PyErr_SetString(PyExc_TypeError, "an encoding is bytes");
        return 0;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(encoding);
    Py_ssize_t n = PyBytes_GET_SIZE(encoding);
    if (n == 2)
        return MEMO_KEY2(b);
    if (n == 4)
        return MEMO_KEY4(b);
    return 0;
}

static PyObject *get(EncodingMemo *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(encoding, default=None)");
        return NULL;
    }
    uint64_t key = key_of(args[0]);
    if (key == 0 && PyErr_Occurred())
        return NULL;
    PyObject *found = key ? memo_lookup(self, key) : NULL;
    if (found == NULL)
        found = nargs == 2 ? args[1] : Py_None;
    Py_INCREF(found);
    return found;
}

static PyObject *clear(EncodingMemo *self, PyObject *unused) {
    (void)unused;
    memo_clear(self);
    Py_RETURN_NONE;
}

static Py_ssize_t length(EncodingMemo *self) {
    return (Py_ssize_t)self->used;
}

static PyObject *subscript(EncodingMemo *self, PyObject *encoding) {
    uint64_t key = key_of(encoding);
    if (key == 0 && PyErr_Occurred())
        return NULL;
    PyObject *found = key ? memo_lookup(self, key) : NULL;
    if (found == NULL) {
        PyErr_SetObject(PyExc_KeyError, encoding);
        return NULL;
    }
    Py_INCREF(found);
    return found;
}

static int assign(EncodingMemo *self, PyObject *encoding, PyObject *value) {
    uint64_t key = key_of(encoding);
    if (key == 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "an encoding is 2 or 4 bytes");
        return -1;
    }
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "encodings are not removed one by one: clear()");
        return -1;
    }
    return memo_store(self, key, value);
}

static void dealloc(EncodingMemo *self) {
    memo_clear(self);
    free(self->keys);
    free(self->values);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef methods[] = {
    {"get", (PyCFunction)(void (*)(void))get, METH_FASTCALL,
     "get(encoding, default=None): what is kept for the encoding"},
    {"clear", (PyCFunction)clear, METH_NOARGS, "forget every encoding"},
    {NULL, NULL, 0, NULL}};

static PyMappingMethods mapping = {(lenfunc)length, (binaryfunc)subscript,
                                   (objobjargproc)assign};

PyTypeObject EncodingMemoType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mcusim.isa._thumb_decode.EncodingMemo",
    .tp_basicsize = sizeof(EncodingMemo),
    .tp_dealloc = (destructor)dealloc,
    .tp_as_mapping = &mapping,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Classified encodings (bytes) -> InsnInfo fields after the address",
    .tp_methods = methods,
    .tp_new = PyType_GenericNew,
};
