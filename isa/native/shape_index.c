/* The shape indices of the instructions a run adds to the block cache, in one C pass: what
 * isa/shape_index.py's `sequential_indices` computes (the definition, tests compare them).
 *
 * Per instruction: its text (field 2 of the InsnInfo tuple) is looked up in `by_text`; a
 * text not seen gets a new shape (the instruction's fields after its address) here; a text
 * seen whose checked object is this very text object has that shape (isa/block_cache.py says
 * why); a text seen whose checked object is another one has that shape when the shape equals
 * the instruction's fields (compared here, field by field: the checked object becomes this
 * text, as `_settle_one` does); a new text once the index keeps shapes by value too
 * (`index.by_shape` not None: a settle may make it, so it is looked at again after each one)
 * gets a new shape here as well, entered in `by_shape`. Only an instruction whose text is a
 * known one's with other fields is settled by Python (`settle(insn, k) -> index`).
 * Unrolled generated code repeats IT blocks, whose instructions are decoded each time (a text
 * object per instance): those were a Python call each. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define TEXT 2 /* InsnInfo.text */

/* Whether `index.by_shape` is None (new texts are then added here); -1 on failure. */
static int keeps_no_shapes(PyObject *index) {
    PyObject *by_shape = PyObject_GetAttrString(index, "by_shape");
    if (by_shape == NULL)
        return -1;
    int none = by_shape == Py_None;
    Py_DECREF(by_shape);
    return none;
}

/* Whether `shape` (a stored shape) equals the fields of `insn` after its address, as
 * `shape == insn[1:]` says (without making the slice); -1 with an exception set on failure. */
static int same_shape(PyObject *shape, PyObject *insn) {
    Py_ssize_t n = PyTuple_GET_SIZE(insn) - 1;
    if (!PyTuple_CheckExact(shape) || PyTuple_GET_SIZE(shape) != n)
        return 0; /* (Python compares what is no plain tuple of that length) */
    for (Py_ssize_t i = 0; i < n; i++) {
        int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(shape, i),
                                          PyTuple_GET_ITEM(insn, i + 1), Py_EQ);
        if (eq <= 0)
            return eq;
    }
    return 1;
}

/* The index of one instruction; -1 with an exception set on failure. */
static Py_ssize_t index_of(PyObject *insn, PyObject *by_text, PyObject *checked,
                           PyObject *shapes, PyObject *settle, int *plain_add,
                           PyObject *index) {
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
        int same = same_shape(PyList_GET_ITEM(shapes, k), insn);
        if (same < 0)
            return -1;
        if (same) {
            Py_INCREF(text);
            PyList_SetItem(checked, k, text); /* (k is in range: checked above) */
            return k;
        }
    } else {
        PyObject *by_shape = NULL;
        if (!*plain_add) {
            by_shape = PyObject_GetAttrString(index, "by_shape");
            if (by_shape == NULL)
                return -1;
            if (!PyDict_Check(by_shape))
                Py_CLEAR(by_shape); /* (not a dict: Python settles it) */
        }
        if (*plain_add || by_shape != NULL) {
            Py_ssize_t k = PyList_GET_SIZE(shapes);
            PyObject *shape = PyTuple_GetSlice(insn, 1, PyTuple_GET_SIZE(insn));
            PyObject *number = shape == NULL ? NULL : PyLong_FromSsize_t(k);
            int failed = number == NULL || PyList_Append(shapes, shape) < 0 ||
                         PyDict_SetItem(by_text, text, number) < 0 ||
                         PyList_Append(checked, text) < 0 ||
                         (by_shape != NULL && PyDict_SetItem(by_shape, shape, number) < 0);
            Py_XDECREF(shape);
            Py_XDECREF(number);
            Py_XDECREF(by_shape);
            return failed ? -1 : k;
        }
    }
    PyObject *k_obj = found != NULL ? found : Py_None;
    PyObject *result = PyObject_CallFunctionObjArgs(settle, insn, k_obj, NULL);
    if (result == NULL)
        return -1;
    Py_ssize_t k = PyLong_AsSsize_t(result);
    Py_DECREF(result);
    if (k >= 0 && (*plain_add = keeps_no_shapes(index)) < 0)
        return -1;
    return k;
}

/* shape_indices(runs, index) -> list[bytes]: `index` a ShapeIndex (its by_text, checked,
 * shapes, by_shape and _settle_one) */
static PyObject *shape_indices(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *runs, *index;
    if (!PyArg_ParseTuple(args, "OO", &runs, &index))
        return NULL;
    PyObject *by_text = PyObject_GetAttrString(index, "by_text");
    PyObject *checked = PyObject_GetAttrString(index, "checked");
    PyObject *shapes = PyObject_GetAttrString(index, "shapes");
    PyObject *settle = PyObject_GetAttrString(index, "_settle_one");
    int plain_add = keeps_no_shapes(index);
    PyObject *out = NULL, *result = NULL, *outer = NULL;
    uint32_t *buffer = NULL;
    Py_ssize_t n_runs, capacity = 0;
    if (by_text == NULL || checked == NULL || shapes == NULL || settle == NULL || plain_add < 0)
        goto fail;
    if (!PyDict_Check(by_text) || !PyList_Check(checked) || !PyList_Check(shapes)) {
        PyErr_SetString(PyExc_TypeError, "shape_indices: not a ShapeIndex");
        goto fail;
    }
    outer = PySequence_Fast(runs, "shape_indices: runs must be a sequence");
    if (outer == NULL)
        goto fail;
    n_runs = PySequence_Fast_GET_SIZE(outer);
    out = PyList_New(n_runs);
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
                                    settle, &plain_add, index);
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
    result = out;  /* (the list is complete: not freed below) */
    out = NULL;
fail:
    PyMem_Free(buffer);
    Py_XDECREF(out);
    Py_XDECREF(outer);
    Py_XDECREF(by_text);
    Py_XDECREF(checked);
    Py_XDECREF(shapes);
    Py_XDECREF(settle);
    return result;
}

static PyMethodDef methods[] = {
    {"shape_indices", shape_indices, METH_VARARGS,
     "shape_indices(runs, index) -> list[bytes]: "
     "isa.shape_index.sequential_indices in C"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_shape_index",
                                    "The block cache's shape indices in C (isa/shape_index.py).",
                                    -1, methods};

PyMODINIT_FUNC PyInit__shape_index(void) { return PyModule_Create(&module); }
