/* The shape indices of the instructions a run adds to the block cache, in one C pass: what
 * isa/shape_index.py's `sequential_indices` computes (the definition, tests compare them).
 *
 * Per instruction: its text (field 2 of the InsnInfo tuple) is looked up in `by_text`; a
 * text not seen gets a new shape (the instruction's fields after its address) here; a text
 * seen whose checked object is this very text object has that shape (isa/block_cache.py says
 * why); any other instruction is settled by Python (`settle(insn, k) -> index`), as is a new
 * text when the index keeps shapes by value too (`by_shape`, rare). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define TEXT 2 /* InsnInfo.text */

/* The index of one instruction; -1 with an exception set on failure. */
static Py_ssize_t index_of(PyObject *insn, PyObject *by_text, PyObject *checked,
                           PyObject *shapes, PyObject *settle, int plain_add) {
    if (!PyTuple_Check(insn) || PyTuple_GET_SIZE(insn) <= TEXT) {
        PyErr_SetString(PyExc_TypeError, "shape_indices: an instruction is not an InsnInfo");
        return -1;
    }
    PyObject *text = PyTuple_GET_ITEM(insn, TEXT);
    PyObject *found = PyDict_GetItemWithError(by_text, text); /* borrowed */
    if (found == NULL && PyErr_Occurred())
        return -1;
    if (found != NULL) {
        Py_ssize_t k = PyLong_AsSsize_t(found);
        if (k < 0 || k >= PyList_GET_SIZE(checked)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_IndexError, "shape_indices: a text's index is out of range");
            return -1;
        }
        if (PyList_GET_ITEM(checked, k) == text)
            return k;
    } else if (plain_add) {
        Py_ssize_t k = PyList_GET_SIZE(shapes);
        PyObject *shape = PyTuple_GetSlice(insn, 1, PyTuple_GET_SIZE(insn));
        if (shape == NULL)
            return -1;
        PyObject *number = PyLong_FromSsize_t(k);
        int failed = number == NULL || PyList_Append(shapes, shape) < 0 ||
                     PyDict_SetItem(by_text, text, number) < 0 ||
                     PyList_Append(checked, text) < 0;
        Py_DECREF(shape);
        Py_XDECREF(number);
        return failed ? -1 : k;
    }
    PyObject *k_obj = found != NULL ? found : Py_None;
    PyObject *result = PyObject_CallFunctionObjArgs(settle, insn, k_obj, NULL);
    if (result == NULL)
        return -1;
    Py_ssize_t k = PyLong_AsSsize_t(result);
    Py_DECREF(result);
    return k;
}

/* shape_indices(runs, by_text, checked, shapes, settle, plain_add) -> list[bytes] */
static PyObject *shape_indices(PyObject *self, PyObject *args) {
    PyObject *runs, *by_text, *checked, *shapes, *settle;
    int plain_add;
    if (!PyArg_ParseTuple(args, "OO!O!O!Op", &runs, &PyDict_Type, &by_text, &PyList_Type,
                          &checked, &PyList_Type, &shapes, &settle, &plain_add))
        return NULL;
    PyObject *outer = PySequence_Fast(runs, "shape_indices: runs must be a sequence");
    if (outer == NULL)
        return NULL;
    Py_ssize_t n_runs = PySequence_Fast_GET_SIZE(outer);
    PyObject *out = PyList_New(n_runs);
    uint32_t *buffer = NULL;
    Py_ssize_t capacity = 0;
    if (out == NULL)
        goto fail;
    for (Py_ssize_t r = 0; r < n_runs; r++) {
        PyObject *run = PySequence_Fast(PySequence_Fast_GET_ITEM(outer, r),
                                        "shape_indices: a run must be a sequence");
        if (run == NULL)
            goto fail;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(run);
        if (n > capacity) {
            uint32_t *grown = PyMem_Realloc(buffer, (size_t)n * sizeof *buffer);
            if (grown == NULL) {
                Py_DECREF(run);
                PyErr_NoMemory();
                goto fail;
            }
            buffer = grown, capacity = n;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            /* (settle may run Python code: the run's items are held by `run`) */
            Py_ssize_t k = index_of(PySequence_Fast_GET_ITEM(run, i), by_text, checked, shapes,
                                    settle, plain_add);
            if (k < 0 || k > (Py_ssize_t)UINT32_MAX) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_OverflowError, "shape_indices: index out of range");
                Py_DECREF(run);
                goto fail;
            }
            buffer[i] = (uint32_t)k;
        }
        Py_DECREF(run);
        PyObject *packed = PyBytes_FromStringAndSize((const char *)buffer,
                                                     n * (Py_ssize_t)sizeof *buffer);
        if (packed == NULL)
            goto fail;
        PyList_SET_ITEM(out, r, packed);
    }
    PyMem_Free(buffer);
    Py_DECREF(outer);
    return out;
fail:
    PyMem_Free(buffer);
    Py_XDECREF(out);
    Py_DECREF(outer);
    return NULL;
}

static PyMethodDef methods[] = {
    {"shape_indices", shape_indices, METH_VARARGS,
     "shape_indices(runs, by_text, checked, shapes, settle, plain_add) -> list[bytes]: "
     "isa.shape_index.sequential_indices in C"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_shape_index",
                                    "The block cache's shape indices in C (isa/shape_index.py).",
                                    -1, methods};

PyMODINIT_FUNC PyInit__shape_index(void) { return PyModule_Create(&module); }
