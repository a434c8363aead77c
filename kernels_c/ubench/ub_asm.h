/*
 * ub_asm.h - the timing harness shared by every ub_*.S file.
 *
 * A test is written as
 *
 *     UB_FUNC name            @ uint32_t ub_name(void), registered for ubench.c
 *         <setup>             @ anything; r0 = counter address, keep r0
 *     UB_START                @ .balign 4; ldr r1,[r0] (start); mov r8,r8 (pad)
 *         <sequence>          @ first instruction is word aligned
 *     UB_STOP                 @ mov r8,r8 (pad); ldr r2,[r0] (end)
 *     UB_RET                  @ r0 = elapsed cycles; return; literal pool
 *
 * Inside the window r0, r1 are live; the sequence may use r2-r12 (r4-r12 on
 * ARMv7-M, r4-r7 on ARMv6-M are saved by UB_FUNC) and lr (saved too).
 * The result is end - start (DWT_CYCCNT counts up) or start - end masked to
 * 24 bits (SysTick counts down). ubench.c subtracts ub_empty(), the same
 * window with no sequence, so the counter reads and the two pads cancel.
 *
 * UB_FUNC also emits a record {function, name} into the section `ub_tests`;
 * ubench.c walks __start_ub_tests..__stop_ub_tests, so a test is run exactly
 * when it is assembled (no second list to keep in sync). Records appear in
 * link order: ub_common.S, ub_v7m.S, ub_dsp.S, ub_fpu.S, each top to bottom.
 */
#ifndef UB_ASM_H
#define UB_ASM_H

#include "ub_config.h"

    .syntax unified
    .thumb

/* register=0: not a test (ub_empty, the baseline). */
.macro UB_FUNC name, register=1
    .section .text.ub_\name,"ax",%progbits
    .balign 4
    .global ub_\name
    .type ub_\name, %function
    .thumb_func
ub_\name:
#if UB_V6M
    push {r4-r7, lr}
#else
    push {r4-r12, lr}           @ 10 registers: keeps SP 8-byte aligned
#endif
    ldr r0, =UB_COUNTER
  .if \register
    .pushsection ub_tests,"a",%progbits
    .balign 4
    .word ub_\name
    .word .Lub_name_\name
    .popsection
    .pushsection .rodata.ub_names,"a",%progbits
.Lub_name_\name:
    .asciz "\name"
    .popsection
  .endif
.endm

.macro UB_START
    .balign 4
    ldr r1, [r0]                @ counter: start
    mov r8, r8                  @ pad (an ALU op: a load absorbs a following NOP)
.endm

.macro UB_STOP
    mov r8, r8                  @ pad (an ALU op: a load absorbs a following NOP)
    ldr r2, [r0]                @ counter: end
.endm

.macro UB_RET name
#if UB_V6M
    subs r0, r1, r2             @ SysTick counts down
    lsls r0, r0, #8
    lsrs r0, r0, #8             @ 24-bit wrap
    pop {r4-r7, pc}
#else
    subs r0, r2, r1
    pop {r4-r12, pc}
#endif
    .ltorg
    .size ub_\name, . - ub_\name
.endm

#endif /* UB_ASM_H */
