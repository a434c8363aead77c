/*
 * ub_v8m.S - Cortex-M33 result-latency rules (jnk0le's RP2350 measurements, "J33" in
 * isa/cycles/README.md): which results a following instruction waits for, and which it
 * takes without waiting. Expected cycles: expected.toml, [cortex-m33].
 */
#include "ub_asm.h"

#if UB_V8M && UB_DSP

UB_FUNC mla_acc_chain_x4        @ each MLA accumulates the one before: chained, no wait
    movs r3, #0
    movs r4, #3
    movs r5, #5
    UB_START
    .rept 4
    mla r3, r4, r5, r3
    .endr
    UB_STOP
    UB_RET mla_acc_chain_x4

UB_FUNC mla_use_x4              @ an ADD.W reads each MLA's result
    movs r4, #3
    movs r5, #5
    movs r6, #7
    UB_START
    .rept 4
    mla r3, r4, r5, r6
    add.w r7, r3, #1
    .endr
    UB_STOP
    UB_RET mla_use_x4

UB_FUNC ldr_acc_x4              @ the loaded word is the next MLA's accumulator
    ldr r4, =ub_buf
    movs r5, #5
    mov r9, #3
    UB_START
    .rept 4
    ldr r6, [r4, #0]
    mla r3, r9, r5, r6
    .endr
    UB_STOP
    UB_RET ldr_acc_x4

UB_FUNC ldr_mul_x4              @ the loaded word is the next MLA's multiplicand
    ldr r4, =ub_buf
    movs r5, #5
    movs r7, #7
    UB_START
    .rept 4
    ldr r6, [r4, #0]
    mla r3, r6, r5, r7
    .endr
    UB_STOP
    UB_RET ldr_mul_x4

UB_FUNC shifted_reg_use_x4      @ an ADD.W reads a shifted-register result
    movs r4, #3
    movs r5, #5
    UB_START
    .rept 4
    add.w r3, r4, r5, lsl #2
    add.w r6, r3, #1
    .endr
    UB_STOP
    UB_RET shifted_reg_use_x4

UB_FUNC shifted_const_flags_x4  @ flag-setting shifted constants, independent
    movs r4, #3
    UB_START
    .rept 4
    ands.w r3, r4, #0x1fc0
    .endr
    UB_STOP
    UB_RET shifted_const_flags_x4

UB_FUNC xta_acc_chain_x4        @ each UXTAB adds to the one before: chained, no wait
    movs r3, #0
    movs r5, #5
    UB_START
    .rept 4
    uxtab r3, r3, r5
    .endr
    UB_STOP
    UB_RET xta_acc_chain_x4

UB_FUNC xta_use_x4              @ an ADD.W reads each UXTAB's result
    movs r4, #3
    movs r5, #5
    UB_START
    .rept 4
    uxtab r3, r4, r5
    add.w r6, r3, #1
    .endr
    UB_STOP
    UB_RET xta_use_x4

#endif /* UB_V8M && UB_DSP */
