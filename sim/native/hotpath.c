/* mcusim native hot path: the per-block accounting of sim/engine.py as a Unicorn C block
 * hook, so a run calls Python only for new blocks and rare events.
 *
 * The Python engine computes every block's static figures once (sim/blocks.py) and registers
 * them here; this file adds them up per executed block with the same dynamic corrections as
 * the Python path (taken branches, branch targets, prediction, the flash read path, limits),
 * so both paths give identical numbers. Unicorn's functions are passed in as pointers, so
 * nothing here links against Unicorn or Python.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct uc_struct uc_engine;
typedef int (*uc_emu_stop_fn)(uc_engine *uc);
typedef int (*uc_reg_read_fn)(uc_engine *uc, int regid, void *value);
/* Called for a block not seen before; Python registers it or stops the emulation. */
typedef void (*new_block_fn)(uint64_t address, uint32_t size);

enum { BRANCH_END = 1, CALL_END = 2 };
enum { MAX_FLASH = 4, MAX_WINDOWS = 4, MAX_CACHE = 512 };

typedef struct {
    uint32_t count, cycles, fallthrough, predicted, taken_extra, entry_extra, flags;
    int32_t flash;                 /* index of its flash interface, or -1 */
    int32_t function;              /* profiler's function id */
    uint32_t line_first, line_last;
    uint32_t address;
    int32_t sp_min_off;            /* lowest SP offset reached in the block (memory tracking) */
    uint32_t sp_min_pc;            /* the instruction that reaches it */
    uint64_t executions, lost_count, lost_cycles;
    int64_t extra_cycles;
} hp_block;

enum { HINTS = 1024 };

typedef struct {
    uint32_t capacity, n;
    uint64_t clock;
    uint32_t lines[MAX_CACHE];
    uint64_t used[MAX_CACHE];
    uint16_t hint[HINTS];  /* slot where a line was last seen: a shortcut, never the truth */
} hp_cache;

typedef struct {
    uint32_t ws, line_bytes, prefetch, fills_all, nwindows;
    uint32_t lo[MAX_WINDOWS], hi[MAX_WINDOWS], base;
    int64_t current, current_data;
    uint64_t fetch_stall, data_stall;
    hp_cache icache, dcache;
} hp_flash;

/* -- profiler state (sim/profiler.py's CallTracker, mirrored exactly) ------------------------ */
typedef struct {
    uint64_t *keys;
    int32_t *slots;
    uint32_t cap, n;
} hp_map;  /* open addressing: 64-bit key -> index */

typedef struct {
    int32_t function, caller, node;
    int64_t return_address;
    uint64_t start_cycles, start_instructions;
} hp_frame;

typedef struct {
    uint64_t duration, seq, start, end;
    int32_t function, depth;
} hp_slice;

typedef struct {
    int enabled;
    hp_frame *frames;
    uint32_t nframes, frames_cap;
    uint32_t funcs_cap;
    uint64_t *calls, *incl_cycles, *incl_insns;
    int32_t *active;
    uint8_t *has_incl;
    hp_map edges;  /* caller << 32 | callee -> edge index */
    uint32_t edges_cap;
    uint64_t *edge_key, *edge_calls, *edge_cycles, *edge_insns;
    hp_map nodes;  /* (parent + 1) << 32 | function -> node index (collapsed stacks) */
    uint32_t nodes_cap;
    int32_t *node_parent, *node_function;
    int64_t *node_cycles;
    int32_t node;
    hp_slice *heap;  /* the longest slices: a min-heap on (duration, seq) */
    uint32_t nheap, max_slices;
    uint64_t seq, dropped;
} hp_profile;

/* -- memory tracking state (sim/memory_tracker.py, mirrored exactly) -------------------------- */
typedef struct {
    int enabled, record, sp_reg, has_limit, overflowed, has_window;
    uint32_t initial_sp, stack_limit, stack_low, stack_low_pc, overflow_sp, overflow_pc;
    uint32_t since_low;
    uint64_t since_total, peak_total, heap_extent;
    /* stack curve: a PeakSeries (maximum per time bucket, coarsened past `limit` points) */
    uint64_t *curve_cycle, *curve_value;
    uint32_t curve_n, curve_cap, curve_limit, curve_shift;
    /* the access log */
    uint64_t *log_cycle;
    uint32_t *log_address, *log_pc;
    uint8_t *log_size, *log_kind;
    uint32_t log_cap;
    uint64_t log_n, window_lo, window_hi, max_accesses, dropped;
} hp_memory;

typedef struct {
    uint64_t instructions, cycles, insn_limit, cycle_limit;
    int32_t current, mispredict_penalty, skip, halted;
    uint32_t nblocks, capacity;
    hp_block *blocks;
    hp_map block_index;  /* (address << 12 | size) -> block */
    uint32_t nflash;
    hp_flash flash[MAX_FLASH];
    uc_emu_stop_fn emu_stop;
    uc_reg_read_fn reg_read;
    new_block_fn new_block;
    hp_profile prof;
    hp_memory mem;
} hp_state;

/* An operand-timed instruction (isa/operand_timing.py), hooked on its address alone. */
typedef struct {
    hp_state *s;
    int32_t rule;  /* 0: divide, 1: long multiply */
    int32_t rn, rm, is_signed;
    uint32_t lo, hi;
} hp_dynamic;

static void prof_enter(hp_profile *p, int32_t function, uint64_t address, int64_t call_return,
                       uint64_t cycles, uint64_t insns);
static void prof_charge(hp_profile *p, int64_t cycles);
static int prof_function(hp_profile *p, int32_t f);
static void stack_at(hp_state *s, uint32_t sp, uint32_t pc);

/* -- block table ------------------------------------------------------------------------- */
static uint32_t hash_key(uint64_t key, uint32_t cap)
{
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ULL;
    key ^= key >> 32;
    return (uint32_t)key & (cap - 1);
}

/* Parallel arrays that share one capacity: grown together, new entries zeroed. */
typedef struct {
    void **array;
    size_t item;
} hp_column;
#define COLUMN(a) {(void **)&(a), sizeof *(a)}

static int grow_columns(uint32_t *cap, uint32_t need, const hp_column *cols, int n)
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

static int map_put(hp_map *m, uint64_t key, int32_t value);

static int map_rehash(hp_map *m, uint32_t cap)
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

static int32_t map_get(const hp_map *m, uint64_t key)
{
    uint32_t i = hash_key(key, m->cap);
    while (m->slots[i] >= 0) {
        if (m->keys[i] == key)
            return m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

static int map_put(hp_map *m, uint64_t key, int32_t value)
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

/* -- flash read path (memory/flash.py) ------------------------------------------------------ */
static int cache_hit(hp_cache *c, uint32_t line)
{
    uint32_t h = c->hint[line & (HINTS - 1)];
    if (h < c->n && c->lines[h] == line) {
        c->used[h] = ++c->clock;
        return 1;
    }
    for (uint32_t i = 0; i < c->n; i++)
        if (c->lines[i] == line) {
            c->used[i] = ++c->clock;
            c->hint[line & (HINTS - 1)] = (uint16_t)i;
            return 1;
        }
    return 0;
}

static void cache_fill(hp_cache *c, uint32_t line)
{
    if (!c->capacity)
        return;
    uint32_t slot = c->n;
    if (c->n < c->capacity) {
        c->n++;
    } else {
        slot = 0;  /* least recently used */
        for (uint32_t i = 1; i < c->n; i++)
            if (c->used[i] < c->used[slot])
                slot = i;
    }
    c->lines[slot] = line;
    c->used[slot] = ++c->clock;
    c->hint[line & (HINTS - 1)] = (uint16_t)slot;
}

static uint32_t flash_enter(hp_flash *f, const hp_block *b, int taken)
{
    uint32_t stall = 0;
    if (f->fills_all) {
        for (uint32_t line = b->line_first; line <= b->line_last; line++) {
            if ((int64_t)line != f->current && !cache_hit(&f->icache, line)) {
                stall += f->ws;
                cache_fill(&f->icache, line);
            }
            f->current = line;
        }
    } else {
        uint32_t first = b->line_first;
        if ((int64_t)first != f->current && (taken || !f->prefetch) &&
            !cache_hit(&f->icache, first)) {
            stall = f->ws;
            cache_fill(&f->icache, first);
        }
        f->current = b->line_last;
    }
    f->fetch_stall += stall;
    return stall;
}

/* -- the block hook ------------------------------------------------------------------------ */
void hp_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    hp_state *s = user_data;
    uint64_t key = (address << 12) | size;
    int32_t idx = map_get(&s->block_index, key);
    if (idx < 0) {
        s->skip = 0;
        s->new_block(address, size);
        if (s->skip)
            return;  /* Python stopped the emulation before this block runs */
        idx = map_get(&s->block_index, key);
        if (idx < 0)
            return;
    }
    hp_block *b = &s->blocks[idx];
    uint64_t cycles = b->cycles;
    if (s->current >= 0) {
        hp_block *p = &s->blocks[s->current];
        if (p->flags & BRANCH_END) {
            if ((uint32_t)address != p->fallthrough) {
                p->extra_cycles += p->taken_extra;
                b->extra_cycles += b->entry_extra;
                cycles += p->taken_extra + b->entry_extra;
            }
            if (s->mispredict_penalty && (uint32_t)address != p->predicted) {
                p->predicted = (uint32_t)address;
                p->extra_cycles += s->mispredict_penalty;
                cycles += s->mispredict_penalty;
            }
        }
    }
    if (b->flash >= 0) {
        hp_flash *f = &s->flash[b->flash];
        if ((int64_t)b->line_first == f->current && !f->fills_all) {
            f->current = b->line_last;
        } else {
            int taken = s->current < 0 || (uint32_t)address != s->blocks[s->current].fallthrough;
            uint32_t stall = flash_enter(f, b, taken);
            b->extra_cycles += stall;
            cycles += stall;
        }
    }
    if (s->prof.enabled) {
        int64_t ret = -1;
        if (s->current >= 0 && (s->blocks[s->current].flags & CALL_END))
            ret = s->blocks[s->current].fallthrough;
        prof_enter(&s->prof, b->function, address, ret, s->cycles, s->instructions);
        prof_charge(&s->prof, (int64_t)cycles);
    }
    b->executions++;
    s->instructions += b->count;
    s->cycles += cycles;
    s->current = idx;
    if (s->mem.enabled) {
        uint64_t sp = 0;
        s->reg_read(uc, s->mem.sp_reg, &sp);
        stack_at(s, (uint32_t)((int64_t)(uint32_t)sp + b->sp_min_off), b->sp_min_pc);
    }
    if (s->instructions > s->insn_limit || s->cycles > s->cycle_limit) {
        /* As the Python path: the block does not run; take its own count back. */
        s->instructions -= b->count;
        s->cycles -= b->cycles;
        b->lost_count += b->count;
        b->lost_cycles += b->cycles;
        prof_charge(&s->prof, -(int64_t)b->cycles);
        s->halted = 1;
        s->emu_stop(uc);
    }
}

/* A data read from flash (hooked on the flash windows only), as memory/flash.py's read(). */
void hp_flash_read(uc_engine *uc, int type, uint64_t address, int size, int64_t value,
                   void *user_data)
{
    (void)uc, (void)type, (void)size, (void)value;
    hp_state *s = user_data;
    for (uint32_t i = 0; i < s->nflash; i++) {
        hp_flash *f = &s->flash[i];
        for (uint32_t w = 0; w < f->nwindows; w++) {
            if (address < f->lo[w] || address >= f->hi[w])
                continue;
            uint32_t line = (uint32_t)((address - f->lo[w] + f->base) / f->line_bytes);
            int hit = (int64_t)line == f->current_data || cache_hit(&f->dcache, line);
            f->current_data = line;
            if (hit)
                return;
            cache_fill(&f->dcache, line);
            f->data_stall += f->ws;
            if (!f->ws)
                return;
            s->cycles += f->ws;
            if (s->current >= 0)
                s->blocks[s->current].extra_cycles += f->ws;
            prof_charge(&s->prof, f->ws);
            return;
        }
    }
}

/* -- operand-timed instructions ------------------------------------------------------------ */
static uint32_t significant_bits(uint64_t v)
{
    uint32_t n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

static uint32_t magnitude(uint32_t v, int is_signed)
{
    return is_signed && (v & 0x80000000u) ? (uint32_t)(-(int64_t)(int32_t)v) : v;
}

void hp_dynamic_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)address, (void)size;
    hp_dynamic *d = user_data;
    hp_state *s = d->s;
    uint64_t a = 0, b = 0;
    s->reg_read(uc, d->rn, &a);
    s->reg_read(uc, d->rm, &b);
    a = magnitude((uint32_t)a, d->is_signed);
    b = magnitude((uint32_t)b, d->is_signed);
    uint32_t full;
    if (d->rule == 0) {
        uint32_t n = significant_bits(a), m = significant_bits(b);
        full = (a == 0 || b == 0) ? 2 : (n < m ? 3 : 5 + (n - m) / 4);
    } else {
        full = significant_bits(a) <= 16 && significant_bits(b) <= 16 ? d->lo : d->hi;
    }
    if (full < d->lo)
        full = d->lo;
    if (full > d->hi)
        full = d->hi;
    uint32_t extra = full - d->lo;
    if (!extra)
        return;
    s->cycles += extra;
    if (s->current >= 0)
        s->blocks[s->current].extra_cycles += extra;
    prof_charge(&s->prof, extra);
}

hp_dynamic *hp_new_dynamic(hp_state *s, int32_t rule, int32_t rn, int32_t rm, int32_t is_signed,
                           uint32_t lo, uint32_t hi)
{
    hp_dynamic *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    *d = (hp_dynamic){s, rule, rn, rm, is_signed, lo, hi};
    return d;
}

void hp_free_dynamic(hp_dynamic *d) { free(d); }

/* -- interface for Python (ctypes) --------------------------------------------------------- */
hp_state *hp_new(uc_emu_stop_fn emu_stop, uc_reg_read_fn reg_read, new_block_fn new_block)
{
    hp_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->emu_stop = emu_stop;
    s->reg_read = reg_read;
    s->new_block = new_block;
    s->current = -1;
    s->insn_limit = s->cycle_limit = UINT64_MAX;
    if (map_rehash(&s->block_index, 1024) < 0)
        return NULL;
    return s;
}

void hp_free(hp_state *s)
{
    if (!s)
        return;
    free(s->blocks);
    free(s->block_index.keys);
    free(s->block_index.slots);
    free(s);
}

int32_t hp_add_block(hp_state *s, uint64_t address, uint32_t size, uint32_t count,
                     uint32_t cycles, uint32_t taken_extra, uint32_t entry_extra,
                     uint32_t flags, int32_t flash, uint32_t line_first, uint32_t line_last,
                     int32_t function, int32_t sp_min_off, uint32_t sp_min_pc)
{
    hp_column cols[] = {COLUMN(s->blocks)};
    if (grow_columns(&s->capacity, s->nblocks + 1, cols, 1) < 0)
        return -1;
    int32_t idx = (int32_t)s->nblocks++;
    hp_block *b = &s->blocks[idx];
    memset(b, 0, sizeof *b);
    b->count = count;
    b->cycles = cycles;
    b->fallthrough = (uint32_t)(address + size);
    b->predicted = b->fallthrough;
    b->taken_extra = taken_extra;
    b->entry_extra = entry_extra;
    b->flags = flags;
    b->flash = flash;
    b->line_first = line_first;
    b->line_last = line_last;
    b->function = function;
    b->address = (uint32_t)address;
    b->sp_min_off = sp_min_off;
    b->sp_min_pc = sp_min_pc;
    if (s->prof.enabled && prof_function(&s->prof, function) < 0)
        return -1;
    if (map_put(&s->block_index, (address << 12) | size, idx) < 0)
        return -1;
    return idx;
}

int32_t hp_add_flash(hp_state *s, uint32_t ws, uint32_t line_bytes, uint32_t prefetch,
                     uint32_t fills_all, uint32_t icache_lines, uint32_t dcache_lines,
                     uint32_t base)
{
    if (s->nflash == MAX_FLASH || icache_lines > MAX_CACHE || dcache_lines > MAX_CACHE)
        return -1;
    hp_flash *f = &s->flash[s->nflash];
    memset(f, 0, sizeof *f);
    f->ws = ws;
    f->line_bytes = line_bytes;
    f->prefetch = prefetch;
    f->fills_all = fills_all;
    f->base = base;
    f->current = f->current_data = -1;
    f->icache.capacity = icache_lines;
    f->dcache.capacity = dcache_lines;
    return (int32_t)s->nflash++;
}

int hp_add_window(hp_state *s, int32_t flash, uint32_t lo, uint32_t hi)
{
    hp_flash *f = &s->flash[flash];
    if (f->nwindows == MAX_WINDOWS)
        return -1;
    f->lo[f->nwindows] = lo;
    f->hi[f->nwindows] = hi;
    f->nwindows++;
    return 0;
}

void hp_flash_stats(const hp_state *s, int32_t flash, uint64_t *fetch, uint64_t *data)
{
    *fetch = s->flash[flash].fetch_stall;
    *data = s->flash[flash].data_stall;
}

void hp_block_stats(const hp_state *s, int32_t idx, uint64_t *executions, int64_t *extra,
                    uint64_t *lost_count, uint64_t *lost_cycles)
{
    const hp_block *b = &s->blocks[idx];
    *executions = b->executions;
    *extra = b->extra_cycles;
    *lost_count = b->lost_count;
    *lost_cycles = b->lost_cycles;
}

uint64_t hp_get(const hp_state *s, int what)
{
    switch (what) {
    case 0: return s->instructions;
    case 1: return s->cycles;
    case 2: return (uint64_t)(int64_t)s->current;
    case 3: return (uint64_t)s->halted;
    default: return 0;
    }
}

void hp_set(hp_state *s, int what, uint64_t value)
{
    switch (what) {
    case 0: s->instructions = value; break;
    case 1: s->cycles = value; break;
    case 2: s->current = (int32_t)(int64_t)value; break;
    case 4: s->skip = (int32_t)value; break;
    case 5: s->insn_limit = value; break;
    case 6: s->cycle_limit = value; break;
    case 7: s->mispredict_penalty = (int32_t)value; break;
    }
}

/* -- profiler ------------------------------------------------------------------------------ */

static int prof_function(hp_profile *p, int32_t f)
{
    hp_column cols[] = {COLUMN(p->calls), COLUMN(p->incl_cycles), COLUMN(p->incl_insns),
                        COLUMN(p->active), COLUMN(p->has_incl)};
    return grow_columns(&p->funcs_cap, (uint32_t)f + 1, cols, 5);
}

static int32_t prof_node(hp_profile *p, int32_t parent, int32_t function)
{
    uint64_t key = ((uint64_t)(uint32_t)(parent + 1) << 32) | (uint32_t)function;
    int32_t n = map_get(&p->nodes, key);
    if (n >= 0)
        return n;
    n = (int32_t)p->nodes.n;
    hp_column cols[] = {COLUMN(p->node_parent), COLUMN(p->node_function),
                        COLUMN(p->node_cycles)};
    if (grow_columns(&p->nodes_cap, (uint32_t)n + 1, cols, 3) < 0)
        return -1;
    p->node_parent[n] = parent;
    p->node_function[n] = function;
    map_put(&p->nodes, key, n);
    return n;
}

static int32_t prof_edge(hp_profile *p, int32_t caller, int32_t callee)
{
    uint64_t key = ((uint64_t)(uint32_t)caller << 32) | (uint32_t)callee;
    int32_t e = map_get(&p->edges, key);
    if (e >= 0)
        return e;
    e = (int32_t)p->edges.n;
    hp_column cols[] = {COLUMN(p->edge_key), COLUMN(p->edge_calls), COLUMN(p->edge_cycles),
                        COLUMN(p->edge_insns)};
    if (grow_columns(&p->edges_cap, (uint32_t)e + 1, cols, 4) < 0)
        return -1;
    p->edge_key[e] = key;
    map_put(&p->edges, key, e);
    return e;
}

static int slice_less(const hp_slice *a, const hp_slice *b)
{
    return a->duration < b->duration || (a->duration == b->duration && a->seq < b->seq);
}

static void heap_down(hp_slice *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && slice_less(&h[l], &h[m])) m = l;
        if (r < n && slice_less(&h[r], &h[m])) m = r;
        if (m == i)
            return;
        hp_slice t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void add_slice(hp_profile *p, int32_t function, uint64_t start, uint64_t end,
                      int32_t depth)
{
    hp_slice item = {end - start, ++p->seq, start, end, function, depth};
    if (p->nheap < p->max_slices) {
        uint32_t i = p->nheap++;
        p->heap[i] = item;
        while (i > 0 && slice_less(&p->heap[i], &p->heap[(i - 1) / 2])) {
            hp_slice t = p->heap[i];
            p->heap[i] = p->heap[(i - 1) / 2];
            p->heap[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return;
    }
    p->dropped++;
    if (p->nheap && slice_less(&p->heap[0], &item)) {
        p->heap[0] = item;
        heap_down(p->heap, p->nheap, 0);
    }
}

static void prof_close(hp_profile *p, const hp_frame *f, uint64_t cycles, uint64_t insns)
{
    p->active[f->function]--;
    uint64_t duration = cycles - f->start_cycles, n = insns - f->start_instructions;
    if (p->active[f->function] == 0) {
        p->incl_cycles[f->function] += duration;
        p->incl_insns[f->function] += n;
        p->has_incl[f->function] = 1;
    }
    /* Not on the stack any more: no other activation is active (recursion counts once). */
    if (f->caller >= 0 && p->active[f->function] == 0) {
        int32_t e = prof_edge(p, f->caller, f->function);
        if (e < 0)
            return;
        p->edge_cycles[e] += duration;
        p->edge_insns[e] += n;
    }
    add_slice(p, f->function, f->start_cycles, cycles, (int32_t)p->nframes);
}

static void prof_push(hp_profile *p, int32_t function, int64_t ret, uint64_t cycles,
                      uint64_t insns, int32_t caller)
{
    hp_column cols[] = {COLUMN(p->frames)};
    if (grow_columns(&p->frames_cap, p->nframes + 1, cols, 1) < 0)
        return;
    p->node = prof_node(p, p->node, function);
    p->frames[p->nframes++] = (hp_frame){function, caller, p->node, ret, cycles, insns};
    p->calls[function]++;
    p->active[function]++;
    int32_t e = prof_edge(p, caller, function);  /* may move edge_calls: index it after */
    if (e >= 0)
        p->edge_calls[e]++;
}

static void prof_pop(hp_profile *p, uint64_t cycles, uint64_t insns)
{
    hp_frame f = p->frames[--p->nframes];
    prof_close(p, &f, cycles, insns);
    p->node = p->node_parent[f.node];
}

static void prof_tail(hp_profile *p, int32_t function, uint64_t cycles, uint64_t insns)
{
    if (p->nframes == 1) {
        hp_frame old = p->frames[0];
        prof_close(p, &old, cycles, insns);
        p->node = prof_node(p, -1, function);
        p->frames[0] = (hp_frame){function, -1, p->node, -1, cycles, insns};
        p->calls[function]++;
        p->active[function]++;
        return;
    }
    hp_frame f = p->frames[--p->nframes];
    prof_close(p, &f, cycles, insns);
    p->node = p->node_parent[f.node];
    prof_push(p, function, f.return_address, cycles, insns, p->frames[p->nframes - 1].function);
}

static void prof_enter(hp_profile *p, int32_t function, uint64_t address, int64_t call_return,
                       uint64_t cycles, uint64_t insns)
{
    hp_frame *top = &p->frames[p->nframes - 1];
    if (call_return >= 0) {
        prof_push(p, function, call_return, cycles, insns, top->function);
        return;
    }
    if (top->function == function)
        return;
    for (uint32_t depth = p->nframes - 1; depth > 0; depth--) {
        if (p->frames[depth].return_address == (int64_t)address) {
            while (p->nframes > depth)
                prof_pop(p, cycles, insns);
            if (p->frames[p->nframes - 1].function != function)
                prof_tail(p, function, cycles, insns);
            return;
        }
    }
    prof_tail(p, function, cycles, insns);
}

static void prof_charge(hp_profile *p, int64_t cycles)
{
    if (p->enabled)
        p->node_cycles[p->node] += cycles;
}

int hp_profile_start(hp_state *s, int32_t root, uint32_t max_slices, uint32_t nfuncs)
{
    hp_profile *p = &s->prof;
    if (prof_function(p, (int32_t)nfuncs) < 0 || map_rehash(&p->edges, 1024) < 0 ||
        map_rehash(&p->nodes, 1024) < 0)
        return -1;
    p->heap = calloc(max_slices ? max_slices : 1, sizeof *p->heap);
    if (!p->heap)
        return -1;
    p->max_slices = max_slices;
    hp_column cols[] = {COLUMN(p->frames)};
    if (grow_columns(&p->frames_cap, 1, cols, 1) < 0)
        return -1;
    p->node = prof_node(p, -1, root);
    p->frames[0] = (hp_frame){root, -1, p->node, -1, 0, 0};
    p->nframes = 1;
    p->calls[root] = 1;
    p->active[root] = 1;
    p->enabled = 1;
    return 0;
}

void hp_charge(hp_state *s, int64_t cycles) { prof_charge(&s->prof, cycles); }

void hp_profile_finish(hp_state *s)
{
    hp_profile *p = &s->prof;
    while (p->nframes) {
        hp_frame f = p->frames[--p->nframes];
        prof_close(p, &f, s->cycles, s->instructions);
    }
}

/* Results, read by Python after the run. */
void hp_profile_function(const hp_state *s, int32_t f, uint64_t *calls, uint64_t *cycles,
                         uint64_t *insns, int32_t *has_inclusive)
{
    const hp_profile *p = &s->prof;
    *calls = p->calls[f];
    *cycles = p->incl_cycles[f];
    *insns = p->incl_insns[f];
    *has_inclusive = p->has_incl[f];
}

uint32_t hp_profile_count(const hp_state *s, int what)
{
    const hp_profile *p = &s->prof;
    return what == 0 ? p->edges.n : what == 1 ? p->nodes.n : what == 2 ? p->nheap
                     : (uint32_t)p->dropped;
}

void hp_profile_edge(const hp_state *s, uint32_t e, int32_t *caller, int32_t *callee,
                     uint64_t *calls, uint64_t *cycles, uint64_t *insns)
{
    const hp_profile *p = &s->prof;
    *caller = (int32_t)(p->edge_key[e] >> 32);
    *callee = (int32_t)(uint32_t)p->edge_key[e];
    *calls = p->edge_calls[e];
    *cycles = p->edge_cycles[e];
    *insns = p->edge_insns[e];
}

void hp_profile_nodes(const hp_state *s, int32_t *parent, int32_t *function, int64_t *cycles)
{
    const hp_profile *p = &s->prof;
    for (uint32_t n = 0; n < p->nodes.n; n++) {
        parent[n] = p->node_parent[n];
        function[n] = p->node_function[n];
        cycles[n] = p->node_cycles[n];
    }
}

void hp_profile_slices(const hp_state *s, int32_t *function, uint64_t *start, uint64_t *end,
                       int32_t *depth, uint64_t *seq)
{
    const hp_profile *p = &s->prof;
    for (uint32_t i = 0; i < p->nheap; i++) {
        const hp_slice *x = &p->heap[i];
        function[i] = x->function;
        start[i] = x->start;
        end[i] = x->end;
        depth[i] = x->depth;
        seq[i] = x->seq;
    }
}

/* -- memory tracking ------------------------------------------------------------------------ */
static void curve_add(hp_memory *m, uint64_t cycle, uint64_t value)
{
    uint64_t start = (cycle >> m->curve_shift) << m->curve_shift;
    if (m->curve_n && m->curve_cycle[m->curve_n - 1] == start) {
        if (value > m->curve_value[m->curve_n - 1])
            m->curve_value[m->curve_n - 1] = value;
        return;
    }
    hp_column cols[] = {COLUMN(m->curve_cycle), COLUMN(m->curve_value)};
    if (grow_columns(&m->curve_cap, m->curve_n + 1, cols, 2) < 0)
        return;
    m->curve_cycle[m->curve_n] = start;
    m->curve_value[m->curve_n] = value;
    m->curve_n++;
    if (m->curve_n > m->curve_limit) {
        m->curve_shift++;
        uint32_t out = 0;
        for (uint32_t i = 0; i < m->curve_n; i++) {
            uint64_t bucket = (m->curve_cycle[i] >> m->curve_shift) << m->curve_shift;
            if (out && m->curve_cycle[out - 1] == bucket) {
                if (m->curve_value[i] > m->curve_value[out - 1])
                    m->curve_value[out - 1] = m->curve_value[i];
            } else {
                m->curve_cycle[out] = bucket;
                m->curve_value[out] = m->curve_value[i];
                out++;
            }
        }
        m->curve_n = out;
    }
}

static void stack_at(hp_state *s, uint32_t sp, uint32_t pc)
{
    hp_memory *m = &s->mem;
    if (sp < m->since_low)
        m->since_low = sp;
    if (sp < m->stack_low) {
        m->stack_low = sp;
        m->stack_low_pc = pc;
        if (!m->overflowed && m->has_limit && sp < m->stack_limit) {
            m->overflowed = 1;
            m->overflow_sp = sp;
            m->overflow_pc = pc;
        }
    }
    if (m->record)
        curve_add(m, s->cycles, (uint64_t)(m->initial_sp - sp));
    uint64_t total = (uint64_t)(int64_t)((int64_t)m->initial_sp - sp) + m->heap_extent;
    if (total > m->since_total)
        m->since_total = total;
    if (total > m->peak_total)
        m->peak_total = total;
}

void hp_stack_at(hp_state *s, uint32_t sp, uint32_t pc) { stack_at(s, sp, pc); }

/* A read or write of a RAM region (hooked on the RAM windows only). */
void hp_access(uc_engine *uc, int type, uint64_t address, int size, int64_t value,
               void *user_data)
{
    (void)uc, (void)value;
    hp_state *s = user_data;
    hp_memory *m = &s->mem;
    const hp_block *b = s->current >= 0 ? &s->blocks[s->current] : NULL;
    uint64_t cycle = s->cycles - (b ? b->cycles : 0);
    if (m->has_window && !(cycle >= m->window_lo && cycle < m->window_hi))
        return;
    if (m->max_accesses && m->log_n >= m->max_accesses) {
        m->dropped++;
        return;
    }
    hp_column cols[] = {COLUMN(m->log_cycle), COLUMN(m->log_address), COLUMN(m->log_pc),
                        COLUMN(m->log_size), COLUMN(m->log_kind)};
    if (grow_columns(&m->log_cap, (uint32_t)m->log_n + 1, cols, 5) < 0)
        return;
    uint64_t n = m->log_n++;
    m->log_cycle[n] = cycle;
    m->log_address[n] = (uint32_t)address;
    m->log_pc[n] = b ? b->address : 0;
    m->log_size[n] = (uint8_t)size;
    m->log_kind[n] = type == 17; /* UC_MEM_WRITE */
}

void hp_memory_start(hp_state *s, int32_t sp_reg, uint32_t initial_sp, int32_t has_limit,
                     uint32_t stack_limit, int32_t record, int32_t has_window,
                     uint64_t window_lo, uint64_t window_hi, uint64_t max_accesses)
{
    hp_memory *m = &s->mem;
    m->enabled = 1;
    m->sp_reg = sp_reg;
    m->initial_sp = m->stack_low = m->since_low = initial_sp;
    m->has_limit = has_limit;
    m->stack_limit = stack_limit;
    m->record = record;
    m->has_window = has_window;
    m->window_lo = window_lo;
    m->window_hi = window_hi;
    m->max_accesses = max_accesses;
    m->curve_limit = 4096;
    m->curve_shift = 6;
}

/* what: 0 stack_low, 1 stack_low_pc, 2 peak_total, 3 since_low, 4 since_total, 5 overflowed,
 * 6 overflow_sp, 7 overflow_pc, 8 log length, 9 dropped, 10 curve points */
uint64_t hp_memory_get(const hp_state *s, int what)
{
    const hp_memory *m = &s->mem;
    switch (what) {
    case 0: return m->stack_low;
    case 1: return m->stack_low_pc;
    case 2: return m->peak_total;
    case 3: return m->since_low;
    case 4: return m->since_total;
    case 5: return (uint64_t)m->overflowed;
    case 6: return m->overflow_sp;
    case 7: return m->overflow_pc;
    case 8: return m->log_n;
    case 9: return m->dropped;
    case 10: return m->curve_n;
    default: return 0;
    }
}

/* what: 3 since_low, 4 since_total, 11 heap_extent */
void hp_memory_set(hp_state *s, int what, uint64_t value)
{
    hp_memory *m = &s->mem;
    if (what == 3) m->since_low = (uint32_t)value;
    else if (what == 4) m->since_total = value;
    else if (what == 11) m->heap_extent = value;
}

void hp_memory_log(const hp_state *s, uint64_t *cycle, uint32_t *address, uint32_t *pc,
                   uint8_t *size, uint8_t *kind)
{
    const hp_memory *m = &s->mem;
    if (!m->log_n)
        return;
    memcpy(cycle, m->log_cycle, m->log_n * sizeof *cycle);
    memcpy(address, m->log_address, m->log_n * sizeof *address);
    memcpy(pc, m->log_pc, m->log_n * sizeof *pc);
    memcpy(size, m->log_size, m->log_n * sizeof *size);
    memcpy(kind, m->log_kind, m->log_n * sizeof *kind);
}

void hp_memory_curve(const hp_state *s, uint64_t *cycle, uint64_t *value)
{
    const hp_memory *m = &s->mem;
    memcpy(cycle, m->curve_cycle, m->curve_n * sizeof *cycle);
    memcpy(value, m->curve_value, m->curve_n * sizeof *value);
}
