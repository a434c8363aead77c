/*
 * ub_exc.S - exception entry, return and tail-chain timing (every core; ARMv6-M encodings).
 * Expected cycles: expected.toml (exc_* keys), derived from the TRM latencies.
 *
 * Every handler is a bare `bx lr`, so a window holds: the instructions that raise the
 * exception, the entry latency, the handler's BX LR, the exit (or tail-chain) latency.
 * Each test points VTOR at ub_exc_vectors, a table of its own (the core entries of
 * common/startup.c's plus IRQ0..IRQ2; not relying on where the linker puts .isr_vector
 * input sections), and points it back at startup.c's table afterwards.
 * All exceptions here run at priority 0 and are pended by the window's own instructions or,
 * for the tail-chain tests, before the window with PRIMASK set; a DSB+ISB (or CPSIE+ISB)
 * guarantees the exception is taken before the window's end (ARMv7-M ARM B5.2.2 / ARMv6-M
 * B5.2: a pend or an unmask takes effect by the ISB that follows it).
 */
#include "ub_asm.h"

#define VTOR      0xE000ED08
#define ICSR      0xE000ED04
#define NVIC_ISER 0xE000E100
#define NVIC_ICER 0xE000E180
#define NVIC_ISPR 0xE000E200
#define NVIC_ICPR 0xE000E280
#define NVIC_IPR0 0xE000E400
#define PENDSVSET (1 << 28)

/* ---- handlers: one instruction each ---------------------------------------------------- */
    .section .text.ub_exc_handlers,"ax",%progbits
    .balign 4
    .global SVC_Handler
    .type SVC_Handler, %function
    .thumb_func
SVC_Handler:
    bx lr
    .size SVC_Handler, . - SVC_Handler

    .balign 4
    .global PendSV_Handler
    .type PendSV_Handler, %function
    .thumb_func
PendSV_Handler:
    bx lr
    .size PendSV_Handler, . - PendSV_Handler

    .balign 4
    .type ub_irq_handler, %function
    .thumb_func
ub_irq_handler:
    bx lr
    .size ub_irq_handler, . - ub_irq_handler

/* IRQ2 (priority 0x80) pends IRQ0 (priority 0x00) through r6 = NVIC_ISPR, r7 = 1, which the
 * test set up (the hardware frame leaves r4-r11 alone): IRQ0 preempts after the ISB. */
    .balign 4
    .type ub_irq_nest_handler, %function
    .thumb_func
ub_irq_nest_handler:
    str r7, [r6]
    dsb
    isb
    bx lr
    .size ub_irq_nest_handler, . - ub_irq_nest_handler

/* The vector table of these tests: 19 entries, aligned to 256 bytes (ARMv7-M wants 128 for up to
 * 32 entries; an ARMv6-M VTOR, as the M0+ has it, keeps only bits [31:8]). Exceptions
 * the tests do not raise go to startup.c's Default_Handler. */
    .section .rodata.ub_exc_vectors,"a",%progbits
    .balign 256
ub_exc_vectors:
    .word __StackTop
    .word Reset_Handler
    .rept 9                     @ NMI .. reserved (2..10)
    .word Default_Handler
    .endr
    .word SVC_Handler           @ 11
    .word Default_Handler       @ 12
    .word Default_Handler       @ 13
    .word PendSV_Handler        @ 14
    .word Default_Handler       @ 15 SysTick
    .word ub_irq_handler        @ 16 IRQ0
    .word ub_irq_handler        @ 17 IRQ1
    .word ub_irq_nest_handler   @ 18 IRQ2

/* VTOR = ub_exc_vectors; enable IRQ0 and IRQ1, clear them pending. */
.macro UB_EXC_SETUP
    ldr r4, =VTOR
    ldr r5, =ub_exc_vectors
    str r5, [r4]
    ldr r4, =NVIC_ICPR
    movs r5, #3
    str r5, [r4]
    ldr r4, =NVIC_ISER
    str r5, [r4]
    dsb
    isb
.endm

.macro UB_EXC_TEARDOWN
    ldr r4, =NVIC_ICER
    movs r5, #3
    str r5, [r4]
    ldr r4, =VTOR
    ldr r5, =mcusim_vectors
    str r5, [r4]
    dsb
    isb
.endm

/* SVC 0: SVC + entry + BX LR + exit. */
UB_FUNC exc_svc_x1
    UB_EXC_SETUP
    UB_START
    svc #0
    UB_STOP
    UB_EXC_TEARDOWN
    UB_RET exc_svc_x1

/* IRQ0 pended through NVIC_ISPR: STR + DSB + ISB + entry + BX LR + exit. */
UB_FUNC exc_irq_x1
    UB_EXC_SETUP
    ldr r4, =NVIC_ISPR
    movs r5, #1
    UB_START
    str r5, [r4]
    dsb
    isb
    UB_STOP
    UB_EXC_TEARDOWN
    UB_RET exc_irq_x1

/* PendSV through ICSR.PENDSVSET: STR + DSB + ISB + entry + BX LR + exit. */
UB_FUNC exc_pendsv_x1
    UB_EXC_SETUP
    ldr r4, =ICSR
    ldr r5, =PENDSVSET
    UB_START
    str r5, [r4]
    dsb
    isb
    UB_STOP
    UB_EXC_TEARDOWN
    UB_RET exc_pendsv_x1

/* IRQ0 pending under PRIMASK, taken at CPSIE: CPSIE + ISB + entry + BX LR + exit. */
UB_FUNC exc_cpsie_irq_x1
    UB_EXC_SETUP
    cpsid i
    ldr r4, =NVIC_ISPR
    movs r5, #1
    str r5, [r4]
    dsb
    isb
    UB_START
    cpsie i
    isb
    UB_STOP
    UB_EXC_TEARDOWN
    UB_RET exc_cpsie_irq_x1

/* IRQ0 and IRQ1 pending under PRIMASK, same priority: IRQ0 first, IRQ1 tail-chained.
 * CPSIE + ISB + entry + BX LR + tail-chain + BX LR + exit. */
UB_FUNC exc_tailchain_x2
    UB_EXC_SETUP
    cpsid i
    ldr r4, =NVIC_ISPR
    movs r5, #3
    str r5, [r4]
    dsb
    isb
    UB_START
    cpsie i
    isb
    UB_STOP
    UB_EXC_TEARDOWN
    UB_RET exc_tailchain_x2

/* IRQ2 pended, and in its handler IRQ0 of higher priority: a nested (preempting) entry.
 * STR + DSB + ISB + entry + [STR + DSB + ISB + entry + BX LR + exit] + BX LR + exit. */
UB_FUNC exc_nested_x2
    UB_EXC_SETUP
    ldr r4, =NVIC_IPR0
    ldr r5, =0x00800000         @ IRQ0 0x00, IRQ2 0x80 (top bit: implemented on every core)
    str r5, [r4]
    ldr r4, =NVIC_ISER
    movs r5, #7
    str r5, [r4]
    ldr r6, =NVIC_ISPR
    movs r7, #1
    ldr r4, =NVIC_ISPR
    movs r5, #4
    UB_START
    str r5, [r4]
    dsb
    isb
    UB_STOP
    ldr r4, =NVIC_ICER
    movs r5, #7
    str r5, [r4]
    ldr r4, =NVIC_IPR0
    movs r5, #0
    str r5, [r4]
    UB_EXC_TEARDOWN
    UB_RET exc_nested_x2
