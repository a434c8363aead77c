/* Memory tracking of the native hot path: sim/memory_tracker.py's per-block work. */
#include "hotpath.h"

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

void stack_at(hp_state *s, uint32_t sp, uint32_t pc)
{
    hp_memory *m = &s->mem;
    if (m->psp_active) {  /* process-stack use: exc_memory.py takes it at the next event */
        if (sp < m->psp_low) {
            m->psp_low = sp;
            m->psp_low_pc = pc;
        }
        return;
    }
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
        if (m->has_floor && !m->over_floor && sp < m->stack_floor)
            m->over_floor = 1;
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
    const hp_block *b = s->current >= 0 ? &s->blocks[s->current] : NULL;
    hp_memory_log_one(s, s->cycles - (b ? b->cycles : 0), (uint32_t)address,
                      b ? b->address : 0, (uint32_t)size, type == 17 /* UC_MEM_WRITE */);
}

/* One access into the log (the window and the cap apply): hp_access, and the words of an
   exception frame (sim/observe/exc_memory.py). */
void hp_memory_log_one(hp_state *s, uint64_t cycle, uint32_t address, uint32_t pc,
                       uint32_t size, uint32_t kind)
{
    hp_memory *m = &s->mem;
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
    m->log_address[n] = address;
    m->log_pc[n] = pc;
    m->log_size[n] = (uint8_t)size;
    m->log_kind[n] = (uint8_t)kind;
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
    m->psp_low = UINT32_MAX;
}

/* what: 0 stack_low, 1 stack_low_pc, 2 peak_total, 3 since_low, 4 since_total, 5 overflowed,
 * 6 overflow_sp, 7 overflow_pc, 8 log length, 9 dropped, 10 curve points, 12 over_floor,
 * 14 psp_low, 15 psp_low_pc */
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
    case 12: return (uint64_t)m->over_floor;
    case 14: return m->psp_low;
    case 15: return m->psp_low_pc;
    default: return 0;
    }
}

/* what: 3 since_low, 4 since_total, 11 heap_extent, 12 stack floor (--max-stack),
 * 13 over_floor, 14 psp_low (and its pc reset), 16 psp_active */
void hp_memory_set(hp_state *s, int what, uint64_t value)
{
    hp_memory *m = &s->mem;
    if (what == 3) m->since_low = (uint32_t)value;
    else if (what == 4) m->since_total = value;
    else if (what == 11) m->heap_extent = value;
    else if (what == 12) { m->stack_floor = (uint32_t)value; m->has_floor = 1; }
    else if (what == 13) m->over_floor = (int)value;
    else if (what == 14) { m->psp_low = (uint32_t)value; m->psp_low_pc = 0; }
    else if (what == 16) m->psp_active = (int)value;
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
    if (!m->curve_n)
        return; /* (no curve yet: its arrays are NULL, which memcpy may not be given) */
    memcpy(cycle, m->curve_cycle, m->curve_n * sizeof *cycle);
    memcpy(value, m->curve_value, m->curve_n * sizeof *value);
}
