/* mcusim.sim.core._hook_choice: sim/core/code_map.py `_choose`'s per-instruction work in C.
 *
 * code_map.py stays the definition of which instructions are hook candidates and how they
 * are grouped into hook blocks; this gives the same answer without Python code per
 * instruction (tests/test_hook_choice_native.py compares the two). What it implements:
 * - a mnemonic (the text up to its first space) is a candidate when it contains one of the
 *   literals configure() was given (code_map's `_CANDIDATE`, an alternation of literals; and
 *   `_MULTIPLY` for a model without dynamic_rule);
 * - the operands (the text after that space) are a candidate when the regular expression
 *   NAMES_SP below matches them; code_map uses this module only when its `_NAMES_SP` is that
 *   same pattern, so a change of the rule in Python cannot silently go unmatched here;
 * - the instruction's class is in the model's dynamic classes, or its index is in `extra`;
 * - candidates up to `bridge` instructions apart share one [first, last] group, never across
 *   a gap, each with the instruction after it.
 * Texts that are not plain ASCII `str` go to the Python functions configure() was given
 * (\b and \w of a str pattern are Unicode-aware; the decoders' texts are ASCII). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_SP "^sp\\b|\\bsp!|\\{[^}]*\\bsp\\b"
#define MAX_LITERALS 64

typedef struct {
    char *text[MAX_LITERALS];
    Py_ssize_t length[MAX_LITERALS];
    int n;
    uint64_t starting[256];  /* per character: the literals that start with it (bit k) */
} literals;

static literals candidates, multiplies;
static PyObject *python_named;  /* code_map._named_candidate */
static PyObject *python_named_or_multiply;  /* code_map._named_candidate_or_multiply */

/* text object -> 0..3 (bit 0: a candidate; bit 1: a candidate or a multiply), by the object's
 * address: texts repeat (the decoder gives the same str object again per encoding), and
 * finding a pointer in an open-addressing table does not even read the text. The table holds
 * a reference to each text, so an address it holds is never that of another object. */
#define MEMO_SLOTS (1 << 17)  /* emptied when half full */
typedef struct {
    PyObject *text;
    int bits;
} memo_slot;
static memo_slot *memo;
static Py_ssize_t memo_used;

static void memo_clear(void) {
    for (Py_ssize_t k = 0; k < MEMO_SLOTS; k++)
        Py_CLEAR(memo[k].text);
    memo_used = 0;
}

static memo_slot *memo_find(PyObject *text) {
    /* By the address itself: texts the decoder made one after the other sit one after the
     * other in memory, so their slots do too (a hash would scatter the look-ups of one span
     * over the whole table, a cache miss each). */
    for (size_t k = ((uintptr_t)text >> 4) & (MEMO_SLOTS - 1);; k = (k + 1) & (MEMO_SLOTS - 1)) {
        memo_slot *slot = &memo[k];
        if (slot->text == text || slot->text == NULL)
            return slot;
    }
}

static int word(unsigned char c) {  /* \w on ASCII */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Whether one of the literals occurs in s[0:n]: at each character, only those that start
 * with it are compared. */
static int any_literal(const literals *set, const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        for (uint64_t m = set->starting[(unsigned char)s[i]]; m; m &= m - 1) {
            int k = __builtin_ctzll(m);
            Py_ssize_t length = set->length[k], j = 1;
            if (i + length > n)
                continue;
            while (j < length && s[i + j] == set->text[k][j])
                j++;
            if (j == length)
                return 1;
        }
    }
    return 0;
}

/* NAMES_SP searched in the operands o[0:m]. */
static int names_sp(const unsigned char *o, Py_ssize_t m) {
    const unsigned char *s = memchr(o, 's', (size_t)m);
    while (s != NULL && (s + 1 >= o + m || s[1] != 'p'))
        s = memchr(s + 1, 's', (size_t)(o + m - s - 1));
    if (s == NULL)
        return 0;  /* no "sp" at all (most operands) */
    /* ^sp\b */
    if (m >= 2 && o[0] == 's' && o[1] == 'p' && (m == 2 || !word(o[2])))
        return 1;
    /* \bsp! */
    for (Py_ssize_t i = 0; i + 2 < m; i++)
        if (o[i] == 's' && o[i + 1] == 'p' && o[i + 2] == '!' && (i == 0 || !word(o[i - 1])))
            return 1;
    /* \{[^}]*\bsp\b: an "sp" word after a '{' with no '}' between. A '{' met while looking
     * from an earlier one starts a shorter run of the same characters: looked at already. */
    for (Py_ssize_t i = 0; i < m; i++) {
        if (o[i] != '{')
            continue;
        Py_ssize_t j = i + 1;
        for (; j < m && o[j] != '}'; j++)
            if (o[j] == 's' && j + 1 < m && o[j + 1] == 'p' && !word(o[j - 1]) &&
                (j + 2 == m || !word(o[j + 2])))
                return 1;
        i = j;
    }
    return 0;
}

static int truth(PyObject *function, PyObject *text) {
    PyObject *r = PyObject_CallOneArg(function, text);
    if (r == NULL)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* The bits of `text` (see memo), or -1 with an exception set. */
static int text_bits(PyObject *text) {
    memo_slot *slot = memo_find(text);
    if (slot->text != NULL)
        return slot->bits;
    int bits;
    if (PyUnicode_CheckExact(text) && PyUnicode_IS_ASCII(text)) {
        const char *s = (const char *)PyUnicode_1BYTE_DATA(text);
        Py_ssize_t n = PyUnicode_GET_LENGTH(text);
        const char *space = memchr(s, ' ', (size_t)n);
        Py_ssize_t mn = space != NULL ? space - s : n;
        int named = any_literal(&candidates, s, mn);
        if (!named && space != NULL)
            named = names_sp((const unsigned char *)space + 1, n - mn - 1);
        bits = named | (named || any_literal(&multiplies, s, mn)) << 1;
    } else {
        /* (\b and \w of a str pattern are Unicode-aware; a str subclass may compare its
         * own way: Python decides, and its answer is kept as any other) */
        int a = truth(python_named, text), b = a < 0 ? -1 : truth(python_named_or_multiply, text);
        if (b < 0)
            return -1;
        bits = a | b << 1;
    }
    if (memo_used >= MEMO_SLOTS / 2) {
        memo_clear();
        slot = memo_find(text);
    }
    slot->text = Py_NewRef(text);
    slot->bits = bits;
    memo_used++;
    return bits;
}

static int set_literals(literals *set, PyObject *seq) {
    PyObject *fast = PySequence_Fast(seq, "literals: a sequence of str");
    if (fast == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > MAX_LITERALS) {
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "too many literals");
        return -1;
    }
    for (int k = 0; k < set->n; k++)
        PyMem_Free(set->text[k]);
    set->n = 0;
    memset(set->starting, 0, sizeof set->starting);
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t length;
        const char *s = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(fast, k), &length);
        if (s == NULL || length == 0) {
            if (s != NULL)
                PyErr_SetString(PyExc_ValueError, "an empty literal");
            Py_DECREF(fast);
            return -1;
        }
        set->text[k] = PyMem_Malloc((size_t)length);
        if (set->text[k] == NULL) {
            Py_DECREF(fast);
            PyErr_NoMemory();
            return -1;
        }
        memcpy(set->text[k], s, (size_t)length);
        set->length[k] = length;
        set->starting[(unsigned char)s[0]] |= (uint64_t)1 << k;
        set->n = (int)k + 1;
    }
    Py_DECREF(fast);
    return 0;
}

/* configure(candidates, multiplies, named, named_or_multiply) */
static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *c, *m, *named, *named_or_multiply;
    if (!PyArg_ParseTuple(args, "OOOO", &c, &m, &named, &named_or_multiply))
        return NULL;
    if (set_literals(&candidates, c) < 0 || set_literals(&multiplies, m) < 0)
        return NULL;
    Py_XSETREF(python_named, Py_NewRef(named));
    Py_XSETREF(python_named_or_multiply, Py_NewRef(named_or_multiply));
    memo_clear();
    Py_RETURN_NONE;
}

/* The Py_ssize_t values of a list of ints (PyMem_Free it), or NULL with an exception. */
static Py_ssize_t *indices(PyObject *seq, Py_ssize_t *count) {
    PyObject *fast = PySequence_Fast(seq, "a sequence of int");
    if (fast == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    Py_ssize_t *out = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));
    if (out == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        out[k] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(fast, k));
        if (out[k] == -1 && PyErr_Occurred()) {
            PyMem_Free(out);
            Py_DECREF(fast);
            return NULL;
        }
    }
    Py_DECREF(fast);
    *count = n;
    return out;
}

static int ascending(const void *a, const void *b) {
    Py_ssize_t x = *(const Py_ssize_t *)a, y = *(const Py_ssize_t *)b;
    return (x > y) - (x < y);
}

/* Whether a class is in the model's dynamic classes, remembered per class object for one
 * call (the decoders share a handful of class strings: no hashing per instruction). */
#define CLASSES_SEEN 16
typedef struct {
    PyObject *classes;
    PyObject *seen[CLASSES_SEEN];
    int in[CLASSES_SEEN];
    int n;
} class_test;

static int class_in(class_test *t, PyObject *cls) {
    for (int k = 0; k < t->n; k++)
        if (t->seen[k] == cls)
            return t->in[k];
    int in = PySequence_Contains(t->classes, cls);
    if (in >= 0 && t->n < CLASSES_SEEN) {
        t->seen[t->n] = cls;  /* (borrowed: the instructions hold it during the call) */
        t->in[t->n++] = in;
    }
    return in;
}

/* {address: cls} of the instructions first..last whose class is one of the dynamic ones. */
static PyObject *dynamic(PyObject *insns, Py_ssize_t first, Py_ssize_t last, class_test *t) {
    PyObject *out = PyDict_New();
    for (Py_ssize_t k = first; out != NULL && k <= last; k++) {
        PyObject *insn = PyList_GET_ITEM(insns, k), *cls = PyTuple_GET_ITEM(insn, 3);
        int in = class_in(t, cls);
        if (in < 0 || (in && PyDict_SetItem(out, PyTuple_GET_ITEM(insn, 0), cls) < 0))
            Py_CLEAR(out);
    }
    return out;
}

/* The group (first, last, dynamic) appended to `out`; -1 with an exception set. */
static int add_group(PyObject *out, PyObject *insns, Py_ssize_t first, Py_ssize_t last,
                     class_test *t) {
    PyObject *d = t->classes != Py_None ? dynamic(insns, first, last, t) : Py_NewRef(Py_None);
    PyObject *g = d == NULL ? NULL : Py_BuildValue("(nnN)", first, last, d);
    int failed = g == NULL || PyList_Append(out, g) < 0;
    Py_XDECREF(g);
    return failed ? -1 : 0;
}

/* groups(insns, gaps, bridge, multiply, classes, extra) -> [(first, last, dynamic)] */
static PyObject *groups(PyObject *self, PyObject *args) {
    PyObject *insns, *gaps_seq, *classes, *extra_seq;
    Py_ssize_t bridge;
    int multiply;
    if (!PyArg_ParseTuple(args, "O!OnpOO", &PyList_Type, &insns, &gaps_seq, &bridge, &multiply,
                          &classes, &extra_seq))
        return NULL;
    if (python_named == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "mcusim.sim.core._hook_choice: configure() first");
        return NULL;
    }
    Py_ssize_t n_gaps = 0, n_extra = 0, *extra = NULL;
    Py_ssize_t *gaps = indices(gaps_seq, &n_gaps);
    if (gaps == NULL)
        return NULL;
    if (extra_seq != Py_None && (extra = indices(extra_seq, &n_extra)) == NULL) {
        PyMem_Free(gaps);
        return NULL;
    }
    /* (code_map lists them in order; the Python takes them as a set: any order) */
    if (n_extra > 1)
        qsort(extra, (size_t)n_extra, sizeof *extra, ascending);
    /* Every instruction is checked first: the loop below reads their fields unchecked. */
    Py_ssize_t n = PyList_GET_SIZE(insns);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *insn = PyList_GET_ITEM(insns, k);
        if (!PyTuple_Check(insn) || PyTuple_GET_SIZE(insn) < 4) {
            PyErr_SetString(PyExc_TypeError, "insns: a list of InsnInfo");
            PyMem_Free(gaps);
            PyMem_Free(extra);
            return NULL;
        }
    }
    class_test t = {.classes = classes, .n = 0};
    PyObject *out = PyList_New(0);
    Py_ssize_t next_gap = 0, contiguous_from = 0, next_extra = 0;
    Py_ssize_t first = -1, last = -1;  /* the open group */
    int bit = multiply ? 2 : 1;
    for (Py_ssize_t k = 0; out != NULL && k < n; k++) {
        PyObject *insn = PyList_GET_ITEM(insns, k);
        int picked = text_bits(PyTuple_GET_ITEM(insn, 2));
        if (picked >= 0)
            picked &= bit;
        if (picked == 0 && classes != Py_None)
            picked = class_in(&t, PyTuple_GET_ITEM(insn, 3));
        while (next_extra < n_extra && extra[next_extra] < k)
            next_extra++;
        if (picked == 0 && next_extra < n_extra && extra[next_extra] == k)
            picked = 1;
        if (picked < 0) {
            Py_CLEAR(out);
            break;
        }
        if (!picked)
            continue;
        while (next_gap < n_gaps && gaps[next_gap] <= k)
            contiguous_from = gaps[next_gap++];
        int follows = k + 1 < n && !(next_gap < n_gaps && gaps[next_gap] == k + 1);
        Py_ssize_t end = follows ? k + 1 : k;
        if (first >= 0 && last + bridge >= k && first >= contiguous_from) {
            last = end;  /* (Python: groups[-1][1] = last) */
            continue;
        }
        if (first >= 0 && add_group(out, insns, first, last, &t) < 0)
            Py_CLEAR(out);
        first = k, last = end;
    }
    if (out != NULL && first >= 0 && add_group(out, insns, first, last, &t) < 0)
        Py_CLEAR(out);
    PyMem_Free(gaps);
    PyMem_Free(extra);
    return out;
}

/* named(text, multiply) -> bool: code_map._named_candidate (or _named_candidate_or_multiply). */
static PyObject *named(PyObject *self, PyObject *args) {
    PyObject *text;
    int multiply;
    if (!PyArg_ParseTuple(args, "Up", &text, &multiply))
        return NULL;
    if (python_named == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "mcusim.sim.core._hook_choice: configure() first");
        return NULL;
    }
    int bits = text_bits(text);
    if (bits < 0)
        return NULL;
    return PyBool_FromLong(bits & (multiply ? 2 : 1));
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(candidates, multiplies, named, named_or_multiply): the mnemonic literals, and "
     "the Python functions for texts that are not ASCII str"},
    {"groups", groups, METH_VARARGS,
     "groups(insns, gaps, bridge, multiply, classes, extra) -> [(first, last, dynamic)]: the "
     "hook blocks code_map._choose makes, dynamic the {address: cls} of those in classes"},
    {"named", named, METH_VARARGS,
     "named(text, multiply) -> bool: whether the text alone makes a candidate"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hook_choice",
                                    "Hook candidate choice in C (sim/core/code_map.py).", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__hook_choice(void) {
    memo = PyMem_Calloc(MEMO_SLOTS, sizeof(memo_slot));
    if (memo == NULL)
        return PyErr_NoMemory();
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddStringConstant(m, "NAMES_SP", NAMES_SP) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
