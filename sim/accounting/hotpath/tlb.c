/* The flash data path's TLB fill (sim/devices/flash_data.py, FlashDataPath._fill, which stays
 * the definition and the pure-Python path's hook) in C: Unicorn asks on every TLB miss, a few
 * thousand times in a run of generated code, and each Python call cost several microseconds.
 *
 * The table is FlashDataPath's (a ctypes array of uint64 it keeps alive): the access types of a
 * data read and of a fetch, the permissions read, exec, write and all, the number of windows,
 * then (lo, hi, alias) per window. */
#include <stdbool.h>
#include <stdint.h>

#include "hotpath.h"

typedef struct {
    uint64_t paddr;
    uint32_t perms;
} hp_tlb_entry; /* Unicorn's uc_tlb_entry */

enum { T_READ, T_FETCH, T_PROT_READ, T_PROT_EXEC, T_PROT_WRITE, T_PROT_ALL, T_COUNT, T_WINDOWS };

bool hp_tlb_fill(uc_engine *uc, uint64_t vaddr, int access, hp_tlb_entry *entry,
                 void *user_data)
{
    (void)uc;
    const uint64_t *t = user_data;
    for (uint64_t k = 0; k < t[T_COUNT]; k++) {
        const uint64_t *w = t + T_WINDOWS + 3 * k;
        if (w[0] <= vaddr && vaddr < w[1]) {
            /* Each kind of access gets only its own permission (see _fill). */
            if ((uint64_t)access == t[T_READ]) {
                entry->paddr = w[2] + vaddr - w[0];
                entry->perms = (uint32_t)t[T_PROT_READ];
            } else {
                entry->paddr = vaddr;
                entry->perms = (uint32_t)((uint64_t)access == t[T_FETCH] ? t[T_PROT_EXEC]
                                                                         : t[T_PROT_WRITE]);
            }
            return true;
        }
    }
    entry->paddr = vaddr;
    entry->perms = (uint32_t)t[T_PROT_ALL];
    return true;
}
