/* mcusim.isa._thumb_decode: the table-driven Thumb classifier and the fast loop of
 * isa/decode.py `_by_encoding`, in C (isa/decode.py says when they are used).
 *
 * classify(code, pos, address) gives exactly what isa/thumb_table.py classify_at gives (the
 * same InsnInfo, field by field, or None); scan(...) is the loop of `_by_encoding` that
 * reuses classified encodings (the `_TAILS` memo) and classifies new ones, stopping where the
 * Python slow path (IT blocks, capstone runs) takes over. InsnInfos are made here directly,
 * as tuple.__new__(InsnInfo, ...) makes them: not through Python code. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "encoding_memo.h"
#include "thumb_decode.h"
#include "thumb_it.h"

#define FIELDS 22  /* InsnInfo's fields (isa/classify.py) */
#define MASKS (1 << 18)  /* a bit per register id the classifier names (set_bit) */

static PyTypeObject *insn_type;  /* isa.classify.InsnInfo */
static PyObject *shared;  /* isa.classify._shared: one object per distinct register set */
static PyObject *branch_kinds[3];  /* None, isa.classify.COND, ALWAYS */
static PyObject *class_names[C_COUNT];
static PyObject **sets;  /* the shared frozenset of each register bitmask, made when needed */

static const char *const CLASS_NAMES[C_COUNT] = {
    "alu", "mul", "mla", "mull", "mlal", "dsp", "ldr", "str", "ldm", "ldm_pc", "stm", "branch",
    "branch_cond", "bl", "bx", "cbz", "ldrd", "strd", "it", "div", "ldr_pc", "alu_pc", "tbb",
    "vldr", "vstr", "vmov_core", "vmov_core2", "vldm", "vstm", "vfp_alu", "vfp_mac", "vfp_div",
    "vfp_sqrt", "vmrs", "mrs", "msr", "bkpt", "svc", "cps", "nop", "wfi", "barrier", "isb"};

/* The bit of a core register id (and CPSR, the IT state) in a set's mask; -1: another (an FP
 * register), whose sets are not cached by mask. */
static int set_bit(int id) {
    if (id >= ID_R0 && id <= ID_R0 + 12)
        return id - ID_R0;  /* r0-r12: bits 0-12 */
    switch (id) {
    case ID_SP: return 13;
    case ID_LR: return 14;
    case ID_PC: return 15;
    case ID_CPSR: return 16;
    case ID_ITSTATE: return 17;
    default: return -1;
    }
}

/* The shared frozenset of `r` (borrowed), made as thumb_fields.regs makes it: the ids added
 * in the order listed, then isa.classify._shared. (A set with an FP register is made each
 * time: _shared returns the one object for it, kept alive by its memo.) */
static PyObject *register_set(const td_regs *r) {
    unsigned mask = 0;
    int cached = 1;
    for (int k = 0; k < r->n; k++) {
        int bit = set_bit(r->id[k]);
        if (bit < 0)
            cached = 0;
        else
            mask |= 1u << bit;
    }
    if (cached && sets[mask] != NULL)
        return sets[mask];
    PyObject *made = PyFrozenSet_New(NULL);
    if (made == NULL)
        return NULL;
    for (int k = 0; k < r->n; k++) {
        PyObject *id = PyLong_FromLong(r->id[k]);
        if (id == NULL || PySet_Add(made, id) < 0) {
            Py_XDECREF(id);
            Py_DECREF(made);
            return NULL;
        }
        Py_DECREF(id);
    }
    PyObject *one = PyObject_CallOneArg(shared, made);
    Py_DECREF(made);
    if (!cached) {  /* (borrowed: _shared's dict holds it) */
        Py_XDECREF(one);
        return one;
    }
    sets[mask] = one;  /* (kept for the life of the process, as _shared's own dict keeps it) */
    return one;
}

/* A new InsnInfo with nothing in it yet, as tuple.__new__(InsnInfo, ...) allocates one, but
 * not tracked by the cyclic garbage collector: nothing it holds (ints, strings, None, and
 * frozensets and tuples of ints) can lead back to it, so it is never part of a cycle, and the
 * collections during and after decoding need not walk a hundred thousand of them. (CPython
 * untracks a plain tuple of atomic items the same way; it cannot tell that these frozensets
 * hold only ints.) */
static PyObject *new_insn(void) {
    PyObject *insn = insn_type->tp_alloc(insn_type, FIELDS);
    if (insn != NULL)
        PyObject_GC_UnTrack(insn);
    return insn;
}

#define PUT(k, value)                                     \
    do {                                                  \
        PyObject *v_ = (value);                           \
        if (v_ == NULL) {                                 \
            Py_DECREF(insn);                              \
            return NULL;                                  \
        }                                                 \
        PyTuple_SET_ITEM(insn, k, v_);                    \
    } while (0)

static PyObject *new_ref(PyObject *o) {
    if (o != NULL)
        Py_INCREF(o);
    return o;
}

static PyObject *ascii(const char *text, int length) {
    PyObject *s = PyUnicode_New(length, 127);  /* (the texts are ASCII: no decoding) */
    if (s != NULL)
        memcpy(PyUnicode_1BYTE_DATA(s), text, (size_t)length);
    return s;
}

static PyObject *flag(int value) {
    return new_ref(value ? Py_True : Py_False);
}

/* The InsnInfo the Python classifier makes for `o` at `address` (new reference). */
static PyObject *build(const td_insn *o, int64_t address) {
    PyObject *insn = new_insn();
    if (insn == NULL)
        return NULL;
    PUT(0, PyLong_FromLongLong(address));
    PUT(1, PyLong_FromLong(o->size));
    PUT(2, ascii(o->text, o->text_len));
    PUT(3, new_ref(class_names[o->cls]));
    PUT(4, PyLong_FromLong(o->nregs));
    PUT(5, new_ref(register_set(&o->reads)));
    PUT(6, new_ref(register_set(&o->writes)));
    PUT(7, flag(o->load));
    PUT(8, flag(o->store));
    PUT(9, flag(o->reg_offset));
    PUT(10, PyLong_FromLong(o->base));
    PUT(11, PyLong_FromLong(o->index));
    PUT(12, new_ref(branch_kinds[o->branch]));
    PUT(13, o->has_target ? PyLong_FromLongLong(o->target) : new_ref(Py_None));
    if (o->nsources)
        PUT(14, Py_BuildValue("(ii)", o->sources[0], o->sources[1]));
    else
        PUT(14, PyTuple_New(0));
    PUT(15, PyLong_FromLong(o->dest));
    PUT(16, flag(o->writeback));
    PUT(17, PyLong_FromLong(o->mem_base));
    PUT(18, PyLong_FromLong(o->mem_index));
    PUT(19, PyLong_FromLongLong(o->disp));
    PUT(20, PyLong_FromLong(o->span));
    PUT(21, o->sp_unknown ? new_ref(Py_None) : PyLong_FromLongLong(o->sp_delta));
    return insn;
}

/* The classified encoding `tail` (InsnInfo's fields after the address) at `address`. */
static PyObject *at(PyObject *tail, int64_t address) {
    if (!PyTuple_Check(tail) || PyTuple_GET_SIZE(tail) != FIELDS - 1) {
        PyErr_SetString(PyExc_TypeError, "_TAILS holds InsnInfo fields after the address");
        return NULL;
    }
    PyObject *insn = new_insn();
    if (insn == NULL)
        return NULL;
    PUT(0, PyLong_FromLongLong(address));
    for (Py_ssize_t k = 1; k < FIELDS; k++)
        PUT(k, new_ref(PyTuple_GET_ITEM(tail, k - 1)));
    return insn;
}

/* decode._keep: the fields after the address of `insn` under its encoding; the memo is
 * emptied first when it holds `limit` encodings. */
static int keep(EncodingMemo *tails, uint64_t key, PyObject *insn, Py_ssize_t limit) {
    if ((Py_ssize_t)tails->used >= limit)
        memo_clear(tails);
    PyObject *tail = PyTuple_GetSlice(insn, 1, FIELDS);
    if (tail == NULL)
        return -1;
    /* Untracked for new_insn's reason: the collection after a cold decode would otherwise
     * walk every memo entry (~20k for 100k distinct instructions, ~7 ms). */
    PyObject_GC_UnTrack(tail);
    int failed = memo_store(tails, key, tail);
    Py_DECREF(tail);
    return failed;
}

/* The halfwords at code[pos:] classified (0: the table classifier does not handle them, or a
 * 32-bit encoding is cut off by the end of the code). */
static int classify_bytes(const unsigned char *code, Py_ssize_t pos, Py_ssize_t end,
                          int64_t address, td_insn *o) {
    unsigned hw1 = code[pos] | code[pos + 1] << 8;
    unsigned hw2 = 0;
    if (hw1 >> 11 >= 0b11101) {
        if (pos + 3 >= end)
            return 0;
        hw2 = code[pos + 2] | code[pos + 3] << 8;
    }
    return td_classify(hw1, hw2, address, o);
}

static int ready(void) {
    if (insn_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "mcusim.isa._thumb_decode: configure() first");
        return 0;
    }
    return 1;
}

/* The (code: bytes, pos: int, address: int) arguments of classify and classify_it. */
static int code_at(PyObject *args, const unsigned char **code, Py_ssize_t *length,
                   Py_ssize_t *pos, long long *address) {
    return ready() && PyArg_ParseTuple(args, "y#nL", code, length, pos, address);
}

/* classify(code: bytes, pos: int, address: int) -> InsnInfo | None: thumb_table.classify_at. */
static PyObject *classify(PyObject *self, PyObject *args) {
    (void)self;
    const unsigned char *code;
    Py_ssize_t length, pos;
    long long address;
    if (!code_at(args, &code, &length, &pos, &address))
        return NULL;
    if (pos < 0 || pos + 1 >= length) {
        PyErr_SetString(PyExc_IndexError, "index out of range");
        return NULL;
    }
    td_insn o;
    if (!classify_bytes(code, pos, length, address, &o))
        Py_RETURN_NONE;
    return build(&o, address);
}

/* The n instructions of an IT block (td_it_block) from `address`, appended to `out`. */
static int append_block(PyObject *out, const td_insn *block, int n, int64_t address) {
    for (int k = 0; k < n; k++) {
        PyObject *insn = build(&block[k], address);
        if (insn == NULL)
            return -1;
        int failed = PyList_Append(out, insn);
        Py_DECREF(insn);
        if (failed)
            return -1;
        address += block[k].size;
    }
    return 0;
}

/* classify_it(code: bytes, pos: int, address: int) -> list[InsnInfo] | None:
 * thumb_it.classify_it_block. */
static PyObject *classify_it(PyObject *self, PyObject *args) {
    (void)self;
    const unsigned char *code;
    Py_ssize_t length, pos;
    long long address;
    if (!code_at(args, &code, &length, &pos, &address))
        return NULL;
    td_insn block[5];
    int n = pos >= 0 ? td_it_block(code, pos, length, address, block) : 0;
    if (!n)
        Py_RETURN_NONE;
    PyObject *out = PyList_New(0);
    if (out != NULL && append_block(out, block, n, address) < 0)
        Py_CLEAR(out);
    return out;
}

/* scan(code: bytes, pos: int, address: int, out: list, tails: EncodingMemo, limit: int)
 *   -> (pos, unknown)
 * The fast loop of decode._by_encoding from code[pos:] (at address + pos): appends to `out`
 * the instructions of encodings in `tails` and of new ones the table classifier knows
 * (keeping those without a branch or target in `tails`) and the IT blocks it knows (td_it_block,
 * not kept), and stops at the end of the code, at a 32-bit encoding it cuts off, at an IT
 * instruction whose block only capstone decodes (unknown 0) or at an encoding only capstone
 * knows (unknown 1), each at `pos`, which it returns. */
static PyObject *scan(PyObject *self, PyObject *args) {
    (void)self;
    const unsigned char *code;
    Py_ssize_t end, pos, limit;
    long long address;
    PyObject *out;
    EncodingMemo *tails;
    if (!ready() || !PyArg_ParseTuple(args, "y#nLO!O!n", &code, &end, &pos, &address,
                                      &PyList_Type, &out, &EncodingMemoType, &tails, &limit))
        return NULL;
    int unknown = 0;
    while (pos + 1 < end) {
        Py_ssize_t size = code[pos + 1] >= 0xE8 ? 4 : 2;  /* 32 bits: first halfword >= 0xE800 */
        if (pos + size > end)
            break;  /* (no memo holds a cut-off encoding) */
        uint64_t key = size == 4 ? MEMO_KEY4(code + pos) : MEMO_KEY2(code + pos);
        PyObject *insn, *tail = memo_lookup(tails, key);
        if (tail != NULL) {
            Py_INCREF(tail);  /* (held while the copy is made: a collection may run there) */
            insn = at(tail, address + pos);
            Py_DECREF(tail);
        } else if (code[pos + 1] == 0xBF && (code[pos] & 0xF)) {
            /* an IT instruction: its block, unless capstone decodes it (never kept) */
            td_insn block[5];
            int n = td_it_block(code, pos, end, address + pos, block);
            if (!n)
                break;
            if (append_block(out, block, n, address + pos) < 0)
                return NULL;
            for (int k = 0; k < n; k++)
                pos += block[k].size;
            continue;
        } else {
            td_insn o;
            if (!classify_bytes(code, pos, end, address + pos, &o)) {
                unknown = 1;  /* capstone's: the run of such encodings starts here */
                break;
            }
            insn = build(&o, address + pos);
            if (insn != NULL && o.branch == BR_NONE && !o.has_target &&
                keep(tails, key, insn, limit) < 0)
                Py_CLEAR(insn);
        }
        if (insn == NULL)
            return NULL;
        int failed = PyList_Append(out, insn);
        Py_DECREF(insn);
        if (failed)
            return NULL;
        pos += size;
    }
    return Py_BuildValue("(ni)", pos, unknown);
}

/* configure(InsnInfo, _shared, COND, ALWAYS): the Python objects the InsnInfos are made of. */
static PyObject *configure(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *type, *share, *cond, *always;
    if (!PyArg_ParseTuple(args, "O!OUU", &PyType_Type, &type, &share, &cond, &always))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "InsnInfo must be a tuple type");
        return NULL;
    }
    if (sets == NULL && (sets = calloc(MASKS, sizeof *sets)) == NULL)
        return PyErr_NoMemory();
    if (share != shared) {  /* another memo of shared sets: make ours again from it */
        for (int k = 0; k < MASKS; k++)
            Py_CLEAR(sets[k]);
    }
    Py_INCREF(type);
    Py_INCREF(share);
    Py_INCREF(cond);
    Py_INCREF(always);
    Py_XSETREF(insn_type, (PyTypeObject *)type);
    Py_XSETREF(shared, share);
    Py_XSETREF(branch_kinds[BR_COND], cond);
    Py_XSETREF(branch_kinds[BR_ALWAYS], always);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(InsnInfo, shared, COND, ALWAYS): what the InsnInfos are made of"},
    {"classify", classify, METH_VARARGS,
     "classify(code, pos, address) -> InsnInfo | None, as isa.thumb_table.classify_at"},
    {"classify_it", classify_it, METH_VARARGS,
     "classify_it(code, pos, address) -> list[InsnInfo] | None, as "
     "isa.thumb_it.classify_it_block"},
    {"scan", scan, METH_VARARGS,
     "scan(code, pos, address, out, tails, limit) -> (pos, unknown): the fast loop of "
     "isa.decode._by_encoding"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_thumb_decode",
                                    "The native table-driven Thumb decoder (isa/decode.py).",
                                    -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__thumb_decode(void) {
    branch_kinds[BR_NONE] = Py_None;
    Py_INCREF(Py_None);
    for (int k = 0; k < C_COUNT; k++) {
        class_names[k] = PyUnicode_InternFromString(CLASS_NAMES[k]);
        if (class_names[k] == NULL)
            return NULL;
    }
    if (PyType_Ready(&EncodingMemoType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&EncodingMemoType);
    if (PyModule_AddObject(m, "EncodingMemo", (PyObject *)&EncodingMemoType) < 0) {
        Py_DECREF(&EncodingMemoType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
