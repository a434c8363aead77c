/* EncodingMemo (encoding_memo.c): classified encodings by their integer value. */
#ifndef MCUSIM_ENCODING_MEMO_H
#define MCUSIM_ENCODING_MEMO_H

#include <Python.h>
#include <stdint.h>

typedef struct {
    PyObject_HEAD
    uint64_t *keys;  /* MEMO_KEY2/MEMO_KEY4 of the encoding; 0: an empty slot */
    PyObject **values;
    size_t capacity, used;  /* (capacity: a power of two, at most half used) */
} EncodingMemo;

/* The key of the 2 or 4 bytes at b (a bit for each size, so that no key is 0). */
#define MEMO_KEY2(b) ((1ull << 40) | (uint64_t)(b)[0] | (uint64_t)(b)[1] << 8)
#define MEMO_KEY4(b) ((3ull << 40) | (uint64_t)(b)[0] | (uint64_t)(b)[1] << 8 | \
                      (uint64_t)(b)[2] << 16 | (uint64_t)(b)[3] << 24)

extern PyTypeObject EncodingMemoType;

PyObject *memo_lookup(EncodingMemo *m, uint64_t key);  /* borrowed; NULL: not held */
int memo_store(EncodingMemo *m, uint64_t key, PyObject *value);
void memo_clear(EncodingMemo *m);

#endif
