/* Alignment checks of LDRD/STRD/LDM/STM/LDREX/STREX on ARMv7-M (sim/core/fault_traps.py):
 * a code hook on each such instruction reads its base register and calls back into Python
 * only when the address is not word-aligned (a UsageFault UNALIGNED), so the check costs a
 * register read per execution instead of a Python call. */
#include <stdlib.h>

#include "hotpath.h"

typedef void (*hp_trap_fn)(uint64_t address);

typedef struct {
    uc_reg_read_fn reg_read;
    hp_trap_fn trap;
    int32_t reg;
} hp_align;

void hp_align_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)size;
    hp_align *a = user_data;
    uint64_t value = 0;
    a->reg_read(uc, a->reg, &value);
    if (value & 3)
        a->trap(address);
}

hp_align *hp_new_align(uc_reg_read_fn reg_read, hp_trap_fn trap, int32_t reg)
{
    hp_align *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->reg_read = reg_read;
    a->trap = trap;
    a->reg = reg;
    return a;
}

void hp_free_align(hp_align *a) { free(a); }
