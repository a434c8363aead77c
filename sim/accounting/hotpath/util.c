/* Small helpers of the native hot path: a hash map and growing parallel arrays. */
#include "hotpath.h"

uint32_t hash_key(uint64_t key, uint32_t cap)
{
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ULL;
    key ^= key >> 32;
    return (uint32_t)key & (cap - 1);
}

/* Parallel arrays that share one capacity: grown together, new entries zeroed. */

int grow_columns(uint32_t *cap, uint32_t need, const hp_column *cols, int n)
{
    if (need <= *cap)
        return 0;
    uint32_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    for (int i = 0; i < n; i++) {
        void *p = realloc(*cols[i].array, (size_t)cap2 * cols[i].item);
        if (!p)
            return -1;
        memset((char *)p + (size_t)*cap * cols[i].item, 0,
               (size_t)(cap2 - *cap) * cols[i].item);
        *cols[i].array = p;
    }
    *cap = cap2;
    return 0;
}

int map_rehash(hp_map *m, uint32_t cap)
{
    hp_map old = *m;
    m->keys = calloc(cap, sizeof *m->keys);
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->keys || !m->slots)
        return -1;
    memset(m->slots, 0xff, cap * sizeof *m->slots);
    m->cap = cap;
    m->n = 0;
    for (uint32_t i = 0; i < old.cap; i++)
        if (old.slots[i] >= 0)
            map_put(m, old.keys[i], old.slots[i]);
    free(old.keys);
    free(old.slots);
    return 0;
}

int32_t map_get(const hp_map *m, uint64_t key)
{
    uint32_t i = hash_key(key, m->cap);
    while (m->slots[i] >= 0) {
        if (m->keys[i] == key)
            return m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

int map_put(hp_map *m, uint64_t key, int32_t value)
{
    if (2 * (m->n + 1) > m->cap && map_rehash(m, m->cap ? m->cap * 2 : 1024) < 0)
        return -1;
    uint32_t i = hash_key(key, m->cap);
    while (m->slots[i] >= 0 && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (m->slots[i] < 0)
        m->n++;
    m->keys[i] = key;
    m->slots[i] = value;
    return 0;
}
