/* mcusim native hot path: the per-block accounting of sim/core/engine.py as a Unicorn C block
 * hook, so a run calls Python only for new blocks and rare events.
 *
 * The Python engine computes every block's static figures once (sim/blocks.py) and registers
 * them here; this file adds them up per executed block with the same dynamic corrections as
 * the Python path (taken branches, branch targets, prediction, the flash read path, limits),
 * so both paths give identical numbers. Unicorn's functions are passed in as pointers, so
 * nothing here links against Unicorn or Python.
 */
#include <string.h>

#include "hotpath.h"

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
    if ((s->cycles >= s->next_event || s->exc_changed) && s->exc_poll) {
        /* An exception may be taken here, before the block is charged (as the Python path's
           Simulation._on_block); if so the block does not run now. */
        s->exc_changed = 0;
        if (s->exc_poll(address))
            return;
    }
    uint64_t key = (address << 12) | size;
    uint32_t slot = (uint32_t)(address >> 1) & (RECENT_BLOCKS - 1);
    int32_t idx;
    if (s->memo_key[slot] == key) {
        idx = s->memo_idx[slot];
    } else {
        idx = map_get(&s->block_index, key);
        if (idx >= 0) {
            s->memo_key[slot] = key;
            s->memo_idx[slot] = idx;
        }
    }
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
    if (s->instructions > s->insn_limit || s->cycles > s->cycle_limit || hp_signal_pending
        || s->mem.over_floor == 1) {
        /* As the Python path: the block does not run; take its own count back. A signal
           (interrupt.c) stops the run here too, marked 2; a passed --max-stack, marked 3. */
        s->instructions -= b->count;
        s->cycles -= b->cycles;
        b->lost_count += b->count;
        b->lost_cycles += b->cycles;
        prof_charge(&s->prof, -(int64_t)b->cycles);
        s->halted = hp_signal_pending ? 2 : s->mem.over_floor == 1 ? 3 : 1;
        if (s->mem.over_floor == 1)
            s->mem.over_floor = 2;
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

/* A data read through a flash region's MMIO alias: timed as hp_flash_read, and answered with
   the bytes (little-endian, as the core reads them). */
uint64_t hp_flash_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user_data)
{
    const hp_flash_alias *a = user_data;
    hp_flash_read(uc, 0, a->base + offset, (int)size, 0, a->state);
    uint64_t value = 0;
    for (unsigned i = 0; i < size && offset + i < a->size; i++)
        value |= (uint64_t)a->data[offset + i] << (8 * i);
    return value;
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

/* CPS/MSR may unmask a pending exception: the next block start asks Python (code hook). */
void hp_mask_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)uc, (void)address, (void)size;
    ((hp_state *)user_data)->exc_changed = 1;
}

void hp_set_exc_poll(hp_state *s, exc_poll_fn poll) { s->exc_poll = poll; }

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
    s->next_event = (uint64_t)1 << 62;
    memset(s->memo_key, 0xff, sizeof s->memo_key);
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

/* A new block's row, from the 13 values in `v` (native_lib.py's BlockFields), in this order:
 * address, size, count, cycles, taken_extra, entry_extra, flags, flash, line_first, line_last,
 * function, sp_min_off, sp_min_pc. (One array, not thirteen arguments: ctypes converts each
 * argument of a call through its type's from_param, about 1 us of a new block's set-up.) */
int32_t hp_add_block(hp_state *s, const int64_t *v)
{
    uint64_t address = (uint64_t)v[0];
    uint32_t size = (uint32_t)v[1], count = (uint32_t)v[2], cycles = (uint32_t)v[3];
    uint32_t taken_extra = (uint32_t)v[4], entry_extra = (uint32_t)v[5];
    uint32_t flags = (uint32_t)v[6];
    int32_t flash = (int32_t)v[7];
    uint32_t line_first = (uint32_t)v[8], line_last = (uint32_t)v[9];
    int32_t function = (int32_t)v[10], sp_min_off = (int32_t)v[11];
    uint32_t sp_min_pc = (uint32_t)v[12];
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

/* Every block's counters, four per block in table order (executions, extra cycles, lost
 * instructions, lost cycles): read once at the end of a run, in one call. */
void hp_blocks_stats(const hp_state *s, uint32_t n, int64_t *out)
{
    for (uint32_t k = 0; k < n && k < s->nblocks; k++) {
        const hp_block *b = &s->blocks[k];
        out[4 * k] = (int64_t)b->executions;
        out[4 * k + 1] = b->extra_cycles;
        out[4 * k + 2] = (int64_t)b->lost_count;
        out[4 * k + 3] = (int64_t)b->lost_cycles;
    }
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
    case 8: s->next_event = value; break;
    case 9: s->exc_changed = (int32_t)value; break;
    }
}
