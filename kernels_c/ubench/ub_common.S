/*
 * ub_common.S - tests for every core (ARMv6-M encodings only: 16-bit
 * instructions plus BL, DMB, DSB, ISB). Expected cycles: expected.toml.
 */
#include "ub_asm.h"

    .bss
    .balign 8
    .global ub_buf
ub_buf:                         @ scratch data in SRAM for loads and stores
    .space 256
    .size ub_buf, . - ub_buf

/* Called by bl_bx_x4. */
    .section .text.ub_leaf,"ax",%progbits
    .balign 4
    .global ub_leaf
    .type ub_leaf, %function
    .thumb_func
ub_leaf:
    bx lr
    .size ub_leaf, . - ub_leaf

/* ---- baseline: the window with nothing in it ------------------------- */
UB_FUNC empty, 0
    UB_START
    UB_STOP
    UB_RET empty

/* ---- ALU --------------------------------------------------------------- */
UB_FUNC nop_x16
    UB_START
    .rept 16
    nop
    .endr
    UB_STOP
    UB_RET nop_x16

UB_FUNC alu_x16
    movs r3, #1
    movs r4, #2
    movs r5, #3
    movs r6, #4
    UB_START
    adds r3, r3, #1
    eors r4, r5
    lsls r5, r5, #1
    subs r6, r6, #1
    ands r3, r4
    orrs r4, r5
    mvns r5, r6
    movs r6, #7
    rev r3, r4
    uxtb r4, r5
    adcs r5, r6
    asrs r6, r3, #2
    bics r3, r4
    sxth r4, r5
    rors r5, r6
    cmp r6, r3
    UB_STOP
    UB_RET alu_x16

/* ---- multiply ------------------------------------------------------------ */
UB_FUNC mul_x8
    movs r3, #3
    movs r4, #5
    movs r5, #7
    movs r6, #9
    movs r7, #11
    UB_START
    muls r3, r7, r3
    muls r4, r7, r4
    muls r5, r7, r5
    muls r6, r7, r6
    muls r3, r7, r3
    muls r4, r7, r4
    muls r5, r7, r5
    muls r6, r7, r6
    UB_STOP
    UB_RET mul_x8

/* ---- single loads and stores --------------------------------------------- */
UB_FUNC ldr_x1
    ldr r4, =ub_buf
    UB_START
    ldr r3, [r4, #0]
    UB_STOP
    UB_RET ldr_x1

UB_FUNC ldr_x4                  @ neighbouring loads, independent addresses
    ldr r4, =ub_buf
    UB_START
    ldr r3, [r4, #0]
    ldr r5, [r4, #4]
    ldr r6, [r4, #8]
    ldr r7, [r4, #12]
    UB_STOP
    UB_RET ldr_x4

UB_FUNC ldr_x8
    ldr r4, =ub_buf
    UB_START
    ldr r3, [r4, #0]
    ldr r5, [r4, #4]
    ldr r6, [r4, #8]
    ldr r7, [r4, #12]
    ldr r3, [r4, #16]
    ldr r5, [r4, #20]
    ldr r6, [r4, #24]
    ldr r7, [r4, #28]
    UB_STOP
    UB_RET ldr_x8

UB_FUNC str_imm_x4              @ immediate-offset stores back to back
    ldr r4, =ub_buf
    movs r3, #1
    UB_START
    str r3, [r4, #0]
    str r3, [r4, #4]
    str r3, [r4, #8]
    str r3, [r4, #12]
    UB_STOP
    UB_RET str_imm_x4

UB_FUNC str_imm_alu_x4          @ immediate-offset store, then an ALU op
    ldr r4, =ub_buf
    movs r3, #1
    movs r5, #0
    UB_START
    str r3, [r4, #0]
    adds r5, r5, #1
    str r3, [r4, #4]
    adds r5, r5, #1
    str r3, [r4, #8]
    adds r5, r5, #1
    str r3, [r4, #12]
    adds r5, r5, #1
    UB_STOP
    UB_RET str_imm_alu_x4

UB_FUNC str_reg_ldr_x2          @ register-offset store, then a load
    ldr r4, =ub_buf
    movs r3, #1
    movs r5, #16
    movs r7, #0
    UB_START
    str r3, [r4, r5]
    ldr r6, [r4, #8]
    adds r7, r7, #1
    str r3, [r4, r5]
    ldr r6, [r4, #8]
    adds r7, r7, #1
    UB_STOP
    UB_RET str_reg_ldr_x2

UB_FUNC ldr_addr_dep_x4         @ base register written by the previous ALU op
    ldr r4, =ub_buf
    UB_START
    adds r4, r4, #0
    ldr r3, [r4, #0]
    adds r4, r4, #0
    ldr r3, [r4, #0]
    adds r4, r4, #0
    ldr r3, [r4, #0]
    adds r4, r4, #0
    ldr r3, [r4, #0]
    UB_STOP
    UB_RET ldr_addr_dep_x4

UB_FUNC ldr_nodep_x4            @ control for ldr_addr_dep_x4: ALU op on another register
    ldr r4, =ub_buf
    movs r5, #0
    UB_START
    adds r5, r5, #0
    ldr r3, [r4, #0]
    adds r5, r5, #0
    ldr r3, [r4, #0]
    adds r5, r5, #0
    ldr r3, [r4, #0]
    adds r5, r5, #0
    ldr r3, [r4, #0]
    UB_STOP
    UB_RET ldr_nodep_x4

UB_FUNC ldr_chase_x4            @ base register written by the previous load
    ldr r4, =ub_buf
    str r4, [r4, #0]            @ ub_buf[0] = &ub_buf[0]
    UB_START
    ldr r4, [r4, #0]
    ldr r4, [r4, #0]
    ldr r4, [r4, #0]
    ldr r4, [r4, #0]
    UB_STOP
    UB_RET ldr_chase_x4

/* ---- load/store multiple --------------------------------------------------- */
UB_FUNC ldm_n2
    ldr r4, =ub_buf
    UB_START
    ldmia r4!, {r3, r5}
    UB_STOP
    UB_RET ldm_n2

UB_FUNC ldm_n4
    ldr r4, =ub_buf
    UB_START
    ldmia r4!, {r3, r5, r6, r7}
    UB_STOP
    UB_RET ldm_n4

UB_FUNC stm_n4
    ldr r4, =ub_buf
    UB_START
    stmia r4!, {r3, r5, r6, r7}
    UB_STOP
    UB_RET stm_n4

UB_FUNC push_pop_n5
    UB_START
    push {r3-r7}
    pop {r3-r7}
    UB_STOP
    UB_RET push_pop_n5

/* ---- branches ------------------------------------------------------------- */
/* Every branch target below is a word-aligned 16-bit instruction; the bytes
 * between a branch and its target are alignment padding, never executed. */
UB_FUNC b_x8                    @ 8 unconditional branches
    UB_START
    .rept 8
    b.n 1f
    .balign 4
1:
    .endr
    UB_STOP
    UB_RET b_x8

UB_FUNC bcc_taken_x8            @ 8 conditional branches, all taken
    cmp r3, r3                  @ Z = 1
    UB_START
    .rept 8
    beq.n 1f
    .balign 4
1:
    .endr
    UB_STOP
    UB_RET bcc_taken_x8

UB_FUNC bcc_not_taken_x8        @ 8 conditional branches, none taken
    cmp r3, r3                  @ Z = 1
    UB_START
    .rept 8
    bne.n .Lbcc_nt_never
    .endr
    UB_STOP
    UB_RET bcc_not_taken_x8
.Lbcc_nt_never:
    b .Lbcc_nt_never            @ unreachable: hangs if a bne were taken

UB_FUNC bl_bx_x4                @ 4 calls of a leaf that is just "bx lr"
    UB_START
    .rept 4
    bl ub_leaf                  @ 32-bit, word aligned; returns to the next BL
    .endr
    UB_STOP
    UB_RET bl_bx_x4

UB_FUNC pop_pc_x4               @ 4 x pop {r3, pc}, each returning to the next
    adr r5, .Lpop_pc_4
    adds r5, r5, #1
    push {r3, r5}
    adr r5, .Lpop_pc_3
    adds r5, r5, #1
    push {r3, r5}
    adr r5, .Lpop_pc_2
    adds r5, r5, #1
    push {r3, r5}
    adr r5, .Lpop_pc_1
    adds r5, r5, #1
    push {r3, r5}
    UB_START
    pop {r3, pc}
    .balign 4
.Lpop_pc_1:
    pop {r3, pc}
    .balign 4
.Lpop_pc_2:
    pop {r3, pc}
    .balign 4
.Lpop_pc_3:
    pop {r3, pc}
    .balign 4
.Lpop_pc_4:
    UB_STOP
    UB_RET pop_pc_x4

UB_FUNC mov_pc_x4               @ 4 x mov pc, Rm
    adr r3, .Lmov_pc_1
    adr r5, .Lmov_pc_2
    adr r6, .Lmov_pc_3
    adr r7, .Lmov_pc_4
    UB_START
    mov pc, r3
    .balign 4
.Lmov_pc_1:
    mov pc, r5
    .balign 4
.Lmov_pc_2:
    mov pc, r6
    .balign 4
.Lmov_pc_3:
    mov pc, r7
    .balign 4
.Lmov_pc_4:
    UB_STOP
    UB_RET mov_pc_x4

UB_FUNC add_pc_x4               @ 4 x add pc, Rm: each skips 6 bytes
    movs r3, #4                 @ target = (address of add) + 4 + 4
    UB_START
    .rept 4
    add pc, r3                  @ word aligned
    nop                         @ skipped
    nop                         @ skipped
    nop                         @ skipped
    .endr
    UB_STOP
    UB_RET add_pc_x4

/* ---- barriers (nothing outstanding: no store in flight) ------------------ */
UB_FUNC dmb_x4
    UB_START
    dmb
    dmb
    dmb
    dmb
    UB_STOP
    UB_RET dmb_x4

UB_FUNC dsb_x4
    UB_START
    dsb
    dsb
    dsb
    dsb
    UB_STOP
    UB_RET dsb_x4

UB_FUNC isb_x4
    UB_START
    isb
    isb
    isb
    isb
    UB_STOP
    UB_RET isb_x4
