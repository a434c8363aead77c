/* The native Thumb decoder (mcusim.isa._thumb_decode): what the table-driven classifier
 * (isa/thumb_table.py, thumb_wide.py, thumb_fields.py) decides for an encoding, as plain C
 * data; thumb_decode.c turns it into the very InsnInfo the Python classifier makes. */
#ifndef MCUSIM_THUMB_DECODE_H
#define MCUSIM_THUMB_DECODE_H

#include <stdint.h>

/* Capstone's ARM register ids (isa/thumb_fields.py REG, SP, PC, CPSR; LR is 10). */
#define ID_CPSR 3
#define ID_ITSTATE 9
#define ID_LR 10
#define ID_PC 11
#define ID_SP 12
#define ID_R0 66

#define MAX_LISTED 33  /* (VPUSH of 32 S registers) */
#define TEXT_MAX 192  /* (VPUSH of 32 S registers: 160 characters) */

/* Cost classes the table classifier gives (the order of CLASS_NAMES in thumb_decode.c). */
enum td_class { C_ALU, C_MUL, C_MLA, C_MULL, C_MLAL, C_DSP, C_LDR, C_STR, C_LDM, C_LDM_PC,
                C_STM, C_BRANCH, C_BRANCH_COND, C_BL, C_BX, C_CBZ, C_LDRD, C_STRD, C_IT,
                C_DIV, C_LDR_PC, C_ALU_PC, C_TBB, C_VLDR, C_VSTR, C_VMOV_CORE, C_VMOV_CORE2,
                C_VLDM, C_VSTM, C_VFP_ALU, C_VFP_MAC, C_VFP_DIV, C_VFP_SQRT, C_VMRS, C_MRS, C_MSR,
                /* thumb_system.c's others, never inside an IT block (SYSTEM_CLASSES) */
                C_BKPT, C_SVC, C_CPS, C_NOP, C_WFI, C_BARRIER, C_ISB,
                C_COUNT };
#define TD_SYSTEM_CLASS(cls) ((cls) >= C_BKPT && (cls) <= C_ISB)
enum td_branch { BR_NONE, BR_COND, BR_ALWAYS };

/* Registers in the order the Python classifier lists them (frozenset insertion order). */
typedef struct {
    int n;
    uint8_t id[MAX_LISTED];
} td_regs;

/* One classified instruction: InsnInfo's fields (isa/classify.py) after its address. */
typedef struct {
    int size;
    char text[TEXT_MAX];
    int text_len;
    int cls;
    int nregs;
    td_regs reads, writes;
    int load, store, reg_offset;
    int base, index;
    int branch;
    int has_target;
    int64_t target;
    int nsources;
    int sources[2];
    int dest;
    int writeback;
    int mem_base, mem_index;
    int64_t disp;
    int span;
    int64_t sp_delta;
    int sp_unknown;  /* sp_delta None: SP set to a run-time value */
} td_insn;

/* 1 and `out` filled if the table classifier handles the encoding hw1 (hw2: the second
 * halfword of a 32-bit one, read only then), else 0 (capstone decides). */
int td_classify(unsigned hw1, unsigned hw2, int64_t address, td_insn *out);

#endif
