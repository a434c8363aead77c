/*
 * ub_v7m.S - tests for ARMv7-M and ARMv7E-M (M3, M4, M7): Thumb-2 ALU,
 * multiply-accumulate and long multiply, divide, LDRD/STRD, base-update
 * loads, CBZ, TBB/TBH, LDR pc, branch target alignment, IT blocks.
 * Expected cycles: expected.toml.
 */
#include "ub_asm.h"

#if UB_V7M

/* ---- ALU, 32-bit encodings (all word aligned) ---------------------------- */
UB_FUNC alu_w_x8
    movs r4, #1
    movs r6, #2
    movs r7, #3
    movs r9, #4
    mov r11, #5
    mov r12, #6
    UB_START
    add.w r3, r4, #1
    eor.w r5, r6, r7
    orr.w r8, r9, #0xff
    sub.w r10, r11, r12
    bic.w r3, r4, r6
    movw r5, #0x1234
    movt r8, #0x5678
    ubfx r10, r11, #4, #8
    UB_STOP
    UB_RET alu_w_x8

/* ---- multiply-accumulate and long multiply -------------------------------- */
UB_FUNC mla_x8                  @ independent MLAs
    movs r4, #3
    movs r5, #5
    movs r6, #7
    UB_START
    mla r3, r4, r5, r6
    mla r7, r4, r5, r6
    mla r8, r4, r5, r6
    mla r9, r4, r5, r6
    mla r10, r4, r5, r6
    mla r11, r4, r5, r6
    mla r12, r4, r5, r6
    mla r3, r4, r5, r6
    UB_STOP
    UB_RET mla_x8

/* 4 independent long multiplies of r5 x r6 into four register pairs. */
.macro UB_LONGMUL name, op, a, b
UB_FUNC \name
    ldr r5, =\a
    ldr r6, =\b
    movs r3, #0
    movs r4, #0
    movs r7, #0
    mov r8, #0
    mov r9, #0
    mov r10, #0
    mov r11, #0
    mov r12, #0
    UB_START
    \op r3, r4, r5, r6
    \op r7, r8, r5, r6
    \op r9, r10, r5, r6
    \op r11, r12, r5, r6
    UB_STOP
    UB_RET \name
.endm

UB_LONGMUL umull_small_x4, umull, 3, 5
UB_LONGMUL umull_large_x4, umull, 0xFFFFFFFF, 0xFFFFFFFF
UB_LONGMUL smull_small_x4, smull, 3, 5
UB_LONGMUL smull_large_x4, smull, 0x7FFFFFFF, 0x80000000
UB_LONGMUL umlal_small_x4, umlal, 3, 5
UB_LONGMUL umlal_large_x4, umlal, 0xFFFFFFFF, 0xFFFFFFFF

/* ---- divide: 4 identical divisions, data-dependent cost ------------------- */
.macro UB_DIV name, op, a, b
UB_FUNC \name
    ldr r3, =\a
    ldr r4, =\b
    UB_START
    \op r5, r3, r4
    \op r6, r3, r4
    \op r7, r3, r4
    \op r8, r3, r4
    UB_STOP
    UB_RET \name
.endm

UB_DIV udiv_1_1_x4, udiv, 1, 1
UB_DIV udiv_1000_10_x4, udiv, 1000, 10
UB_DIV udiv_max_1_x4, udiv, 0xFFFFFFFF, 1
UB_DIV udiv_max_ffff_x4, udiv, 0xFFFFFFFF, 0xFFFF
UB_DIV udiv_small_big_x4, udiv, 5, 0x80000000
UB_DIV udiv_x_0_x4, udiv, 12345, 0
UB_DIV sdiv_m1000000_7_x4, sdiv, -1000000, 7
UB_DIV sdiv_100_m3_x4, sdiv, 100, -3
UB_DIV sdiv_min_m1_x4, sdiv, 0x80000000, -1

/* ---- LDRD/STRD, LDM with 8 registers -------------------------------------- */
UB_FUNC ldrd_x4
    ldr r4, =ub_buf
    UB_START
    ldrd r3, r5, [r4, #0]
    ldrd r6, r7, [r4, #8]
    ldrd r8, r9, [r4, #16]
    ldrd r10, r11, [r4, #24]
    UB_STOP
    UB_RET ldrd_x4

UB_FUNC strd_x4
    ldr r4, =ub_buf
    UB_START
    strd r3, r5, [r4, #0]
    strd r6, r7, [r4, #8]
    strd r8, r9, [r4, #16]
    strd r10, r11, [r4, #24]
    UB_STOP
    UB_RET strd_x4

UB_FUNC ldm_n8
    ldr r4, =ub_buf
    UB_START
    ldm.w r4, {r3, r5-r11}
    UB_STOP
    UB_RET ldm_n8

/* ---- loads with base update (post-index) --------------------------------- */
UB_FUNC ldr_postinc_nop_x4      @ next instruction reads no register
    ldr r4, =ub_buf
    UB_START
    .rept 4
    ldr.w r3, [r4], #4
    nop.w
    .endr
    UB_STOP
    UB_RET ldr_postinc_nop_x4

UB_FUNC ldr_postinc_alu_x4      @ next instruction reads a register
    ldr r4, =ub_buf
    movs r5, #0
    UB_START
    .rept 4
    ldr.w r3, [r4], #4
    add.w r5, r5, #1
    .endr
    UB_STOP
    UB_RET ldr_postinc_alu_x4

/* ---- loads that do not pipeline (isa/cycles/README.md) ------------------- */
UB_FUNC ldr_lit_x4              @ literal loads back to back: contention with the fetch unit
    UB_START
    ldr r3, =0x12345678         @ ldr r3, [pc, #imm] (16-bit; no MOV can make these)
    ldr r5, =0x9abcdef1
    ldr r6, =0x23456789
    ldr r7, =0xabcdef12
    UB_STOP
    UB_RET ldr_lit_x4

UB_FUNC ldr_w_x4                @ control: four 32-bit loads, word aligned
    ldr r4, =ub_buf
    UB_START
    nop.w                       @ keeps the loads word aligned (the pad before is 16-bit)
    ldr.w r3, [r4, #0]
    ldr.w r5, [r4, #4]
    ldr.w r6, [r4, #8]
    ldr.w r7, [r4, #12]
    UB_STOP
    UB_RET ldr_w_x4

UB_FUNC ldr_w_unaligned_x4      @ the same loads at 2 mod 4
    ldr r4, =ub_buf
    UB_START
    nop                         @ 16-bit: the loads start at 2 mod 4
    ldr.w r3, [r4, #0]
    ldr.w r5, [r4, #4]
    ldr.w r6, [r4, #8]
    ldr.w r7, [r4, #12]
    UB_STOP
    UB_RET ldr_w_unaligned_x4

UB_FUNC ldr_wb_chain_x4         @ post-indexed loads back to back, alternating base registers
    ldr r4, =ub_buf
    add r6, r4, #64
    UB_START
    ldr.w r3, [r4], #4
    ldr.w r5, [r6], #4
    ldr.w r7, [r4], #4
    ldr.w r9, [r6], #4
    UB_STOP
    UB_RET ldr_wb_chain_x4

UB_FUNC blx_reg_x4              @ 4 calls through a register of a leaf that is just "bx lr"
    ldr r5, =ub_leaf
    UB_START
    .rept 4
    blx r5                      @ 16-bit; returns to the next
    .endr
    UB_STOP
    UB_RET blx_reg_x4

/* ---- compare and branch --------------------------------------------------- */
UB_FUNC cbz_taken_x8
    movs r3, #0
    UB_START
    .rept 8
    cbz r3, 1f                  @ word aligned; target = next word
    .balign 4
1:
    .endr
    UB_STOP
    UB_RET cbz_taken_x8

UB_FUNC cbz_not_taken_x8
    movs r3, #1
    UB_START
    .rept 8
    cbz r3, .Lcbz_nt_end
    .endr
    .balign 4                   @ no padding: 8 x 2 bytes from an aligned start
.Lcbz_nt_end:
    UB_STOP
    UB_RET cbz_not_taken_x8

/* ---- table branches: each jumps to the next, over a skipped nop.w -------- */
UB_FUNC tbb_x4
    movs r3, #0                 @ index
    adr.w r4, .Ltbb_tab1
    adr.w r5, .Ltbb_tab2
    adr.w r6, .Ltbb_tab3
    adr.w r7, .Ltbb_tab4
    UB_START
.Ltbb_1:
    tbb [r4, r3]
    nop.w
.Ltbb_2:
    tbb [r5, r3]
    nop.w
.Ltbb_3:
    tbb [r6, r3]
    nop.w
.Ltbb_4:
    tbb [r7, r3]
    nop.w
.Ltbb_end:
    UB_STOP
    UB_RET tbb_x4
.Ltbb_tab1: .byte (.Ltbb_2 - .Ltbb_1 - 4) / 2
.Ltbb_tab2: .byte (.Ltbb_3 - .Ltbb_2 - 4) / 2
.Ltbb_tab3: .byte (.Ltbb_4 - .Ltbb_3 - 4) / 2
.Ltbb_tab4: .byte (.Ltbb_end - .Ltbb_4 - 4) / 2
    .balign 2

UB_FUNC tbh_x4
    movs r3, #0
    adr.w r4, .Ltbh_tab1
    adr.w r5, .Ltbh_tab2
    adr.w r6, .Ltbh_tab3
    adr.w r7, .Ltbh_tab4
    UB_START
.Ltbh_1:
    tbh [r4, r3, lsl #1]
    nop.w
.Ltbh_2:
    tbh [r5, r3, lsl #1]
    nop.w
.Ltbh_3:
    tbh [r6, r3, lsl #1]
    nop.w
.Ltbh_4:
    tbh [r7, r3, lsl #1]
    nop.w
.Ltbh_end:
    UB_STOP
    UB_RET tbh_x4
    .balign 2
.Ltbh_tab1: .hword (.Ltbh_2 - .Ltbh_1 - 4) / 2
.Ltbh_tab2: .hword (.Ltbh_3 - .Ltbh_2 - 4) / 2
.Ltbh_tab3: .hword (.Ltbh_4 - .Ltbh_3 - 4) / 2
.Ltbh_tab4: .hword (.Ltbh_end - .Ltbh_4 - 4) / 2

/* ---- load to PC: 4 x ldr pc, [r4, #k], each to the next -------------------- */
UB_FUNC ldr_pc_x4
    ldr r4, =ub_buf
    adr.w r3, .Lldr_pc_2
    orr r3, r3, #1
    str r3, [r4, #0]
    adr.w r3, .Lldr_pc_3
    orr r3, r3, #1
    str r3, [r4, #4]
    adr.w r3, .Lldr_pc_4
    orr r3, r3, #1
    str r3, [r4, #8]
    adr.w r3, .Lldr_pc_end
    orr r3, r3, #1
    str r3, [r4, #12]
    UB_START
    ldr.w pc, [r4, #0]
    nop.w
.Lldr_pc_2:
    ldr.w pc, [r4, #4]
    nop.w
.Lldr_pc_3:
    ldr.w pc, [r4, #8]
    nop.w
.Lldr_pc_4:
    ldr.w pc, [r4, #12]
    nop.w
.Lldr_pc_end:
    UB_STOP
    UB_RET ldr_pc_x4

/* ---- branch target alignment: 5 taken branches; the first four targets are
 * 32-bit b.w instructions, word aligned here ... ---------------------------- */
UB_FUNC b_aligned_target_x4
    UB_START
    b.n .Lbal_1                 @ 0 mod 4
    nop                         @ skipped
.Lbal_1:
    b.w .Lbal_2                 @ 0 mod 4
    nop.w                       @ skipped
.Lbal_2:
    b.w .Lbal_3
    nop.w
.Lbal_3:
    b.w .Lbal_4
    nop.w
.Lbal_4:
    b.w .Lbal_end
    nop.w
.Lbal_end:
    UB_STOP                     @ 16-bit nop, 0 mod 4
    UB_RET b_aligned_target_x4

/* ... and here at 2 mod 4 (straddling two words). */
UB_FUNC b_unaligned_target_x4
    UB_START
    b.n .Lbun_1                 @ 0 mod 4
    nop                         @ skipped
    nop                         @ skipped
.Lbun_1:
    b.w .Lbun_2                 @ 2 mod 4
    nop.w                       @ skipped
.Lbun_2:
    b.w .Lbun_3                 @ 2 mod 4
    nop.w
.Lbun_3:
    b.w .Lbun_4
    nop.w
.Lbun_4:
    b.w .Lbun_end
    .balign 4
.Lbun_end:
    UB_STOP                     @ 16-bit nop, 0 mod 4
    UB_RET b_unaligned_target_x4

/* ---- IT blocks ----------------------------------------------------------- */
UB_FUNC it_exec_x4              @ ITT EQ with Z=1: both instructions execute
    movs r3, #0
    movs r5, #0
    cmp r3, r3
    UB_START
    .rept 4
    itt eq
    addeq r3, r3, #1
    addeq r5, r5, #1
    .endr
    UB_STOP
    UB_RET it_exec_x4

UB_FUNC it_skip_x4              @ ITT NE with Z=1: both instructions skipped
    movs r3, #0
    movs r5, #0
    cmp r3, r3
    UB_START
    .rept 4
    itt ne
    addne r3, r3, #1
    addne r5, r5, #1
    .endr
    UB_STOP
    UB_RET it_skip_x4

#endif /* UB_V7M */
