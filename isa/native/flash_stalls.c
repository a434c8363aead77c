/* memory/flash.py FlashInterface.sequential_stalls, step by step: the same bisection over the
 * block's addresses, the same running sum of cycles, so any list gives what Python gives
 * (tests/test_block_timing_native.py). The window, the fallback for a block across a window's
 * end and the caches stay in Python. */

#include "flash_stalls.h"

/* Python's // for the (possibly negative) numerator. */
static long long floor_div(long long a, long long b) {
    long long q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* addresses[k] (failed set on error). The addresses are read only where the bisection looks:
 * a few per line, not one per instruction. */
static long long address_at(PyObject **addresses, Py_ssize_t k, int *failed) {
    long long v = PyLong_AsLongLong(addresses[k]);
    if (v == -1 && PyErr_Occurred())
        *failed = 1;
    return v;
}

/* bisect.bisect_left(addresses, x, lo). */
static Py_ssize_t bisect_left(PyObject **addresses, Py_ssize_t n, long long x, Py_ssize_t lo,
                              int *failed) {
    Py_ssize_t hi = n;
    while (lo < hi && !*failed) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (address_at(addresses, mid, failed) < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The stalls into `result` (a list of n zeros); 0 on success. */
static int stalls_of(PyObject **addresses, PyObject **cycles, Py_ssize_t n, long long offset,
                     long long line_bytes, long long ws, int prefetch, PyObject *result) {
    int failed = 0;
    /* The first byte of the line after addresses[k]'s, as an address of the window. */
#define AFTER(k)                                                                               \
    (floor_div(address_at(addresses, k, &failed) + offset, line_bytes) * line_bytes           \
     + line_bytes - offset)
    long long after = AFTER(0);
    long long covered = ws + 1;  /* a line fetched while the previous one ran this long is free */
    long long now = 0;           /* cycles before instruction j (Python's before[j]) */
    long long spent_before = 0;  /* cycles before the first instruction of the current line */
    Py_ssize_t k = 0, j = 0;
    while (!failed) {
        /* The first instruction at or after the next line's first byte starts a new line. */
        k = bisect_left(addresses, n, after, k + 1, &failed);
        if (k >= n || failed)
            break;
        long long stall = ws;  /* without prefetch every new line costs the wait states */
        if (prefetch) {
            for (; j < k && !failed; j++) {
                long long c = PyLong_AsLongLong(cycles[j]);
                failed = c == -1 && PyErr_Occurred();
                now += c;
            }
            stall = covered - now + spent_before;
            spent_before = now;
        }
        if ((stall > 0 || !prefetch) && !failed) {  /* (Python sets ws as it is) */
            PyObject *v = PyLong_FromLongLong(stall);
            if (v == NULL || PyList_SetItem(result, k, v) < 0)
                failed = 1;
        }
        after = AFTER(k);
    }
#undef AFTER
    return failed ? -1 : 0;
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
    if (n != PySequence_Fast_GET_SIZE(cseq) || n == 0) {
        result = Py_None;  /* (left to Python, which reads cycles by the addresses' indices) */
        Py_INCREF(result);
    } else if ((result = PyList_New(n)) != NULL) {
        PyObject *zero = PyLong_FromLong(0);
        for (Py_ssize_t k = 0; k < n; k++) {
            Py_INCREF(zero);
            PyList_SET_ITEM(result, k, zero);
        }
        Py_DECREF(zero);
        if (stalls_of(PySequence_Fast_ITEMS(aseq), PySequence_Fast_ITEMS(cseq), n, offset,
                      line_bytes, ws, prefetch, result) < 0)
            Py_CLEAR(result);
    }
    Py_DECREF(aseq);
    Py_DECREF(cseq);
    return result;
}
