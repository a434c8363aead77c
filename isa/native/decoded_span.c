/* mcusim.isa._decoded_span: isa/decode.py `DecodedSpan.__init__`'s index of a decoded span in
 * C: the instructions' addresses and the addresses of those an IT instruction makes
 * conditional, in one pass over the list instead of two map passes and a Python loop over
 * the IT instructions (decode.py keeps that loop as the definition; used when this module is
 * built, unless MCUSIM_NATIVE=0; tests/test_decoded_span_native.py compares them).
 * And two questions asked of each block cut from a span when it is translated
 * (isa/cached_insns.py `class_set`, `sp_unchanged` are the definitions): its classes and
 * whether it leaves SP alone, each a C loop over its instructions instead of a map of an
 * attribute getter (on 100,000 instructions of straight-line code, two passes of about 300
 * host instructions per instruction). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Instructions an IT instruction makes conditional (decode._it_length). */
static Py_ssize_t it_length(unsigned halfword) {
    unsigned mask = halfword & 0xF;
    if ((halfword & 0xFF00) != 0xBF00 || !mask)
        return 0;
    unsigned lowest = mask & -mask;
    return lowest == 1 ? 4 : lowest == 2 ? 3 : lowest == 4 ? 2 : 1;
}

static int is_it(PyObject *cls) {
    if (!PyUnicode_CheckExact(cls))
        return -1;  /* ("it".__eq__ of another type: Python decides) */
    return PyUnicode_GET_LENGTH(cls) == 2 && PyUnicode_KIND(cls) == PyUnicode_1BYTE_KIND &&
           PyUnicode_1BYTE_DATA(cls)[0] == 'i' && PyUnicode_1BYTE_DATA(cls)[1] == 't';
}

/* index(insns, code, address) -> (addresses, in_it) | None. None (the Python loop then
 * decides) for anything the loop would not take as it stands: an instruction that is not an
 * InsnInfo-like tuple, a class that is not a str, an IT instruction outside `code`. */
static PyObject *index_span(PyObject *self, PyObject *args) {
    PyObject *insns;
    const unsigned char *code;
    Py_ssize_t length;
    long long address;
    if (!PyArg_ParseTuple(args, "O!y#L", &PyList_Type, &insns, &code, &length, &address))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(insns);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *insn = PyList_GET_ITEM(insns, k);
        if (!PyTuple_Check(insn) || PyTuple_GET_SIZE(insn) < 4 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(insn, 0)))
            Py_RETURN_NONE;
    }
    PyObject *addresses = PyList_New(n);
    PyObject *in_it = PySet_New(NULL);
    if (addresses == NULL || in_it == NULL)
        goto fail;
    Py_ssize_t covered = 0;  /* instructions before this index are accounted for */
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *insn = PyList_GET_ITEM(insns, k);
        PyObject *at = PyTuple_GET_ITEM(insn, 0);
        Py_INCREF(at);
        PyList_SET_ITEM(addresses, k, at);
        int it = is_it(PyTuple_GET_ITEM(insn, 3));
        if (it < 0)
            goto python;
        if (!it || k < covered)
            continue;  /* (an IT inside an IT block is one of its conditional instructions) */
        int overflow;
        long long offset = PyLong_AsLongLongAndOverflow(at, &overflow) - address;
        if (overflow || offset < 0 || offset + 1 >= length)
            goto python;
        covered = k + 1 + it_length(code[offset] | code[offset + 1] << 8);
        for (Py_ssize_t j = k + 1; j < covered && j < n; j++)
            if (PySet_Add(in_it, PyTuple_GET_ITEM(PyList_GET_ITEM(insns, j), 0)) < 0)
                goto fail;
    }
    return Py_BuildValue("(NN)", addresses, in_it);
python:
    Py_DECREF(addresses);
    Py_DECREF(in_it);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(addresses);
    Py_XDECREF(in_it);
    return NULL;
}

#define CLS 3        /* InsnInfo.cls */
#define FIELDS 22    /* InsnInfo's fields; the last is sp_delta */
#define SEEN 16      /* class objects remembered: a block holds a few classes */

/* class_set(insns: list) -> frozenset | None: frozenset(insn.cls for insn in insns); None
 * (Python decides) for anything but a list of InsnInfo-like tuples. */
static PyObject *class_set(PyObject *self, PyObject *insns) {
    (void)self;
    if (!PyList_CheckExact(insns))
        Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(insns);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *insn = PyList_GET_ITEM(insns, k);
        if (!PyTuple_Check(insn) || PyTuple_GET_SIZE(insn) != FIELDS)
            Py_RETURN_NONE;
    }
    PyObject *out = PyFrozenSet_New(NULL);
    if (out == NULL)
        return NULL;
    /* (Equal classes are added once by the set; the same object seen before is not even
     * hashed again: the decoder makes one object per class.) */
    PyObject *seen[SEEN];
    int nseen = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *cls = PyTuple_GET_ITEM(PyList_GET_ITEM(insns, k), CLS);
        int known = 0;
        for (int j = 0; j < nseen && !known; j++)
            known = seen[j] == cls;
        if (known)
            continue;
        if (nseen < SEEN)
            seen[nseen++] = cls;  /* (borrowed: the list holds it) */
        if (PySet_Add(out, cls) < 0) {  /* (allowed on a brand-new frozenset) */
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/* sp_unchanged(insns: list) -> bool | None: whether every instruction's sp_delta is 0 (a
 * block that leaves SP alone); None (Python decides) for anything but a list of InsnInfo-like
 * tuples whose sp_delta is an int or None. */
static PyObject *sp_unchanged(PyObject *self, PyObject *insns) {
    (void)self;
    if (!PyList_CheckExact(insns))
        Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(insns);
    int unchanged = 1;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *insn = PyList_GET_ITEM(insns, k);
        if (!PyTuple_Check(insn) || PyTuple_GET_SIZE(insn) != FIELDS)
            Py_RETURN_NONE;
        PyObject *delta = PyTuple_GET_ITEM(insn, FIELDS - 1);
        if (delta == Py_None) {
            unchanged = 0;
            continue;
        }
        if (!PyLong_CheckExact(delta))
            Py_RETURN_NONE;
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(delta, &overflow);
        if (overflow || v != 0)
            unchanged = 0;
    }
    return PyBool_FromLong(unchanged);
}

static PyMethodDef methods[] = {
    {"index", index_span, METH_VARARGS,
     "index(insns, code, address) -> (addresses, in_it) | None: DecodedSpan's index"},
    {"class_set", class_set, METH_O,
     "class_set(insns) -> frozenset | None: the classes of a block's instructions"},
    {"sp_unchanged", sp_unchanged, METH_O,
     "sp_unchanged(insns) -> bool | None: whether no instruction of a block changes SP"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_decoded_span",
                                    "DecodedSpan's index in C (isa/decode.py).", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__decoded_span(void) { return PyModule_Create(&module); }
