/* memory/flash.py FlashInterface.sequential_stalls, step by step: the same bisection over the
 * block's addresses, the same running sums of cycles, so any list gives what Python gives
 * (tests/test_block_timing_native.py). The window, the fallback for a block across a window's
 * end and the caches stay in Python. */

#include "flash_stalls.h"

/* Python's // for the (possibly negative) numerator. */
static long long floor_div(long long a, long long b) {
    long long q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* bisect.bisect_left(values, x, lo). */
static Py_ssize_t bisect_left(const long long *values, Py_ssize_t n, long long x, Py_ssize_t lo) {
    Py_ssize_t hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (values[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The values of a list of ints as long longs (NULL with an exception on error). */
static long long *longs(PyObject *seq, Py_ssize_t n) {
    long long *out = PyMem_Malloc((n ? n : 1) * sizeof(long long));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t k = 0; k < n; k++) {
        out[k] = PyLong_AsLongLong(items[k]);
        if (out[k] == -1 && PyErr_Occurred()) {
            PyMem_Free(out);
            return NULL;
        }
    }
    return out;
}

PyObject *sequential_stalls(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *address_list, *cycle_list;
    long long offset, line_bytes, ws;
    int prefetch;
    if (!PyArg_ParseTuple(args, "OOLLLp", &address_list, &cycle_list, &offset, &line_bytes,
                          &ws, &prefetch))
        return NULL;
    if (line_bytes <= 0) {
        PyErr_SetString(PyExc_ValueError, "line_bytes must be positive");
        return NULL;
    }
    PyObject *aseq = PySequence_Fast(address_list, "addresses must be a sequence");
    if (aseq == NULL)
        return NULL;
    PyObject *cseq = PySequence_Fast(cycle_list, "cycles must be a sequence");
    if (cseq == NULL) {
        Py_DECREF(aseq);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(aseq);
    PyObject *result = NULL;
    long long *addresses = NULL, *before = NULL, *stalls = NULL;
    if (n != PySequence_Fast_GET_SIZE(cseq) || n == 0) {
        result = Py_None;  /* (what Python does then: left to Python) */
        Py_INCREF(result);
        goto done;
    }
    addresses = longs(aseq, n);
    long long *cycles = addresses == NULL ? NULL : longs(cseq, n);
    before = cycles;
    stalls = PyMem_Calloc(n, sizeof(long long));
    if (cycles == NULL || stalls == NULL) {
        if (stalls == NULL)
            PyErr_NoMemory();
        goto done;
    }
    /* The first byte of the line after addresses[k]'s, as an address of the window. */
#define AFTER(k) (floor_div(addresses[k] + offset, line_bytes) * line_bytes + line_bytes - offset)
    long long after = AFTER(0);
    Py_ssize_t k = 0;
    if (!prefetch) {  /* every new line costs the wait states */
        while ((k = bisect_left(addresses, n, after, k + 1)) < n) {
            stalls[k] = ws;
            after = AFTER(k);
        }
    } else {
        /* before[k]: cycles before instruction k (the running sum, in place). */
        long long sum = 0;
        for (Py_ssize_t j = 0; j < n; j++) {
            long long c = cycles[j];
            before[j] = sum;
            sum += c;
        }
        long long covered = ws + 1, spent_before = 0;
        while ((k = bisect_left(addresses, n, after, k + 1)) < n) {
            long long now = before[k];
            long long stall = covered - now + spent_before;
            if (stall > 0)
                stalls[k] = stall;
            spent_before = now;
            after = AFTER(k);
        }
    }
#undef AFTER
    result = PyList_New(n);
    for (Py_ssize_t j = 0; result != NULL && j < n; j++) {
        PyObject *v = PyLong_FromLongLong(stalls[j]);
        if (v == NULL)
            Py_CLEAR(result);
        else
            PyList_SET_ITEM(result, j, v);
    }
done:
    PyMem_Free(addresses);
    PyMem_Free(before);
    PyMem_Free(stalls);
    Py_DECREF(aseq);
    Py_DECREF(cseq);
    return result;
}
