/* Shared state of the native hot path (hotpath.c, profile.c, memory.c, util.c). */
#ifndef MCUSIM_HOTPATH_H
#define MCUSIM_HOTPATH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct uc_struct uc_engine;
typedef int (*uc_emu_stop_fn)(uc_engine *uc);
typedef int (*uc_reg_read_fn)(uc_engine *uc, int regid, void *value);
/* Called for a block not seen before; Python registers it or stops the emulation. */
typedef void (*new_block_fn)(uint64_t address, uint32_t size);
/* Exceptions (ENGINE, issue 13): at a block start where an interrupt source is due or the
   exception state changed; returns 1 if the core was redirected (the block does not run). */
typedef int (*exc_poll_fn)(uint64_t address);

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
    /* exceptions (O; sim/observe/exc_calls.py drives them): returns never pop below the
       innermost handler's frame; after an entry or return the next block's call_return is
       `override_value` (-1: none) instead of the previous block's */
    uint32_t floor;
    int override_pending;
    int64_t override_value;
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
    /* --max-stack: SP below the floor stops the run (over_floor 1: just passed, 2: seen) */
    int has_floor, over_floor;
    uint32_t stack_floor;
    /* exceptions (O; sim/observe/exc_memory.py): thread mode on the PSP, whose lowest value
       since Python last took it goes here instead of the main stack's figures */
    int psp_active;
    uint32_t psp_low, psp_low_pc;
} hp_memory;

#define RECENT_BLOCKS 256

typedef struct {
    uint64_t instructions, cycles, insn_limit, cycle_limit;
    int32_t current, mispredict_penalty, skip, halted;
    uint32_t nblocks, capacity;
    hp_block *blocks;
    hp_map block_index;  /* (address << 12 | size) -> block */
    /* A direct-mapped memo of block_index by address bits: a loop's blocks hit it, sparing
       the hash probe on most executions. Keys start as ~0 (no block has that key). */
    uint64_t memo_key[RECENT_BLOCKS];
    int32_t memo_idx[RECENT_BLOCKS];
    uint32_t nflash;
    hp_flash flash[MAX_FLASH];
    uc_emu_stop_fn emu_stop;
    uc_reg_read_fn reg_read;
    new_block_fn new_block;
    exc_poll_fn exc_poll;  /* ENGINE: sim/core/exceptions.py ExceptionModel.poll */
    uint64_t next_event;   /* cycle of the next interrupt-source event (never: 1 << 62) */
    int32_t exc_changed;   /* set by Python (NVIC/SCB writes) and hp_mask_hook (CPS/MSR) */
    hp_profile prof;
    hp_memory mem;
} hp_state;

/* One flash region's MMIO alias for data reads (sim/flash_data.py); filled in by Python. */
typedef struct {
    hp_state *state;
    uint64_t base;        /* the region's base address */
    const uint8_t *data;  /* its host buffer */
    uint64_t size;
} hp_flash_alias;

/* An operand-timed instruction (isa/operand_timing.py), hooked on its address alone. */
typedef struct {
    hp_state *s;
    int32_t rule;  /* 0: divide, 1: long multiply */
    int32_t rn, rm, is_signed;
    uint32_t lo, hi;
} hp_dynamic;

/* util.c */
uint32_t hash_key(uint64_t key, uint32_t cap);
typedef struct {
    void **array;
    size_t item;
} hp_column;
#define COLUMN(a) {(void **)&(a), sizeof *(a)}
int grow_columns(uint32_t *cap, uint32_t need, const hp_column *cols, int n);
int map_rehash(hp_map *m, uint32_t cap);
int32_t map_get(const hp_map *m, uint64_t key);
int map_put(hp_map *m, uint64_t key, int32_t value);

/* profile.c */
void prof_enter(hp_profile *p, int32_t function, uint64_t address, int64_t call_return,
                uint64_t cycles, uint64_t insns);
void prof_charge(hp_profile *p, int64_t cycles);
int prof_function(hp_profile *p, int32_t f);

/* memory.c */
void stack_at(hp_state *s, uint32_t sp, uint32_t pc);
void hp_memory_log_one(hp_state *s, uint64_t cycle, uint32_t address, uint32_t pc,
                       uint32_t size, uint32_t kind);

/* interrupt.c */
#include <signal.h>
extern volatile sig_atomic_t hp_signal_pending;
void hp_catch_signals(void);
int hp_release_signals(void);

#endif
