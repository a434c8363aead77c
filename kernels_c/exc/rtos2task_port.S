/*
 * rtos2task_port.S - the port layer of rtos2task.c, modelled on FreeRTOS's GCC ports:
 * ARM_CM4F/ARM_CM3 port.c (prvPortStartFirstTask, vPortSVCHandler, xPortPendSVHandler) and,
 * for ARMv6-M, ARM_CM0 port.c (the same with r8-r11 moved through r4-r7).
 *
 * Task stack, top of the saved context first (what pxCurrentTCB->top points at):
 *   ARMv7-M + FPU: r4-r11, EXC_RETURN, [s16-s31 if EXC_RETURN bit 4 = 0], hardware frame
 *   ARMv7-M:       r4-r11, hardware frame
 *   ARMv6-M:       r8-r11, r4-r7 (FreeRTOS CM0 order: r4-r7 at the lower address), frame
 * SVC 0 starts the first task; SVC 1 is a system call (svc_syscall in rtos2task.c).
 */
    .syntax unified
    .thumb

#define MAX_SYSCALL_PRIO 0x50   /* configMAX_SYSCALL_INTERRUPT_PRIORITY */

    .text

/* void port_start_first_task(void): prvPortStartFirstTask. Never returns. */
    .global port_start_first_task
    .type port_start_first_task, %function
    .thumb_func
port_start_first_task:
    ldr r0, =0xE000ED08         @ VTOR
    ldr r0, [r0]
    ldr r0, [r0]                @ initial MSP from the vector table
    msr msp, r0                 @ main's stack is not needed any more
#if !defined(__ARM_ARCH_6M__)
    movs r0, #0
    msr control, r0             @ clears FPCA too (CM4F port)
    cpsie i
    cpsie f
#else
    cpsie i
#endif
    dsb
    isb
    svc 0
    nop
    .size port_start_first_task, . - port_start_first_task
    .ltorg

/* SVC_Handler: SVC 0 -> restore the first task's context; other numbers -> svc_syscall(frame,
 * number) in C, entered with a plain branch so that its return is the exception return. */
    .global SVC_Handler
    .type SVC_Handler, %function
    .thumb_func
SVC_Handler:
#if !defined(__ARM_ARCH_6M__)
    tst lr, #4                  @ EXC_RETURN bit 2: which stack holds the frame
    ite eq
    mrseq r0, msp
    mrsne r0, psp
    ldr r1, [r0, #24]           @ stacked return address
    ldrb r1, [r1, #-2]          @ the SVC instruction's immediate
    cbz r1, 1f
    ldr r2, =svc_syscall
    bx r2
1:  ldr r3, =pxCurrentTCB
    ldr r1, [r3]
    ldr r0, [r1]                @ pxCurrentTCB->top
#if defined(__ARM_FP)
    ldmia r0!, {r4-r11, r14}    @ r14 = the EXC_RETURN saved with the task
#else
    ldmia r0!, {r4-r11}
#endif
    msr psp, r0
    isb
    movs r0, #0
    msr basepri, r0
#if !defined(__ARM_FP)
    orr r14, r14, #0xd          @ thread mode, PSP (CM3 port)
#endif
    bx r14
#else
    movs r0, #4
    mov r1, lr
    tst r0, r1
    beq 2f
    mrs r0, psp
    b 3f
2:  mrs r0, msp
3:  ldr r1, [r0, #24]
    subs r1, r1, #2
    ldrb r1, [r1]
    cmp r1, #0
    beq 1f
    ldr r2, =svc_syscall
    bx r2
1:  ldr r3, =pxCurrentTCB
    ldr r1, [r3]
    ldr r0, [r1]
    adds r0, r0, #16            @ r8-r11 are the upper four words
    ldmia r0!, {r4-r7}
    mov r8, r4
    mov r9, r5
    mov r10, r6
    mov r11, r7
    msr psp, r0
    subs r0, r0, #32
    ldmia r0!, {r4-r7}
    ldr r0, =0xFFFFFFFD         @ thread mode, PSP
    bx r0
#endif
    .size SVC_Handler, . - SVC_Handler
    .ltorg

/* PendSV_Handler: xPortPendSVHandler. Saves the running task's context on its PSP stack,
 * calls vTaskSwitchContext with BASEPRI raised (CM0: PRIMASK), restores the next one's. */
    .global PendSV_Handler
    .type PendSV_Handler, %function
    .thumb_func
PendSV_Handler:
#if !defined(__ARM_ARCH_6M__)
    mrs r0, psp
    isb
    ldr r3, =pxCurrentTCB
    ldr r2, [r3]
#if defined(__ARM_FP)
    tst r14, #0x10              @ bit 4 = 0: the task has FP context (extended frame)
    it eq
    vstmdbeq r0!, {s16-s31}     @ the first FP instruction here triggers lazy stacking
    stmdb r0!, {r4-r11, r14}
#else
    stmdb r0!, {r4-r11}
#endif
    str r0, [r2]
#if defined(__ARM_FP)
    stmdb sp!, {r0, r3}         @ r14 is in the task's saved context (CM4F port)
#else
    stmdb sp!, {r3, r14}        @ the call below overwrites r14 (CM3 port)
#endif
    movs r0, #MAX_SYSCALL_PRIO
    msr basepri, r0
    dsb
    isb
    bl vTaskSwitchContext
    movs r0, #0
    msr basepri, r0
#if defined(__ARM_FP)
    ldmia sp!, {r0, r3}
#else
    ldmia sp!, {r3, r14}
#endif
    ldr r1, [r3]
    ldr r0, [r1]
#if defined(__ARM_FP)
    ldmia r0!, {r4-r11, r14}
    tst r14, #0x10
    it eq
    vldmiaeq r0!, {s16-s31}
#else
    ldmia r0!, {r4-r11}
#endif
    msr psp, r0
    isb
    bx r14
#else
    mrs r0, psp
    ldr r3, =pxCurrentTCB
    ldr r2, [r3]
    subs r0, r0, #32
    str r0, [r2]
    stmia r0!, {r4-r7}
    mov r4, r8
    mov r5, r9
    mov r6, r10
    mov r7, r11
    stmia r0!, {r4-r7}
    push {r3, r14}
    cpsid i
    bl vTaskSwitchContext
    cpsie i
    pop {r2, r3}                @ r2 = &pxCurrentTCB, r3 = EXC_RETURN
    ldr r1, [r2]
    ldr r0, [r1]
    adds r0, r0, #16
    ldmia r0!, {r4-r7}
    mov r8, r4
    mov r9, r5
    mov r10, r6
    mov r11, r7
    msr psp, r0
    subs r0, r0, #32
    ldmia r0!, {r4-r7}
    bx r3
#endif
    .size PendSV_Handler, . - PendSV_Handler
    .ltorg

/* uint32_t spin_until_turn(volatile uint32_t *turn, uint32_t id): fills r4-r11 (and s0-s31
 * with an FPU) with values unique to the task, spins until *turn == id -- SysTick/PendSV
 * switch tasks meanwhile -- and returns how many of those registers changed, or 0x10000 if
 * no switch came within 4M polls (a few ms under QEMU, where a tick is 120 us). */
    .global spin_until_turn
    .type spin_until_turn, %function
    .thumb_func
spin_until_turn:
#if !defined(__ARM_ARCH_6M__)
    push {r4-r11, lr}
    lsls r2, r1, #8             @ r2 = id << 8: the task's pattern base
    adds r4, r2, #4
    adds r5, r2, #5
    adds r6, r2, #6
    adds r7, r2, #7
    add r8, r2, #8
    add r9, r2, #9
    add r10, r2, #10
    add r11, r2, #11
#if defined(__ARM_FP)
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    add r3, r2, #(0x80 + \k)
    vmov s\k, r3
    .endr
#endif
    mov r12, #0x400000          @ give up after 4M polls (no switch comes: not modelled)
1:  subs r12, r12, #1
    beq 9f
    ldr r3, [r0]
    cmp r3, r1
    bne 1b
    movs r0, #0                 @ mismatches
    .irp r, 4,5,6,7,8,9,10,11
    add r3, r2, #\r
    cmp r3, r\r
    it ne
    addne r0, r0, #1
    .endr
#if defined(__ARM_FP)
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    vmov r3, s\k
    sub r3, r3, r2
    cmp r3, #(0x80 + \k)
    it ne
    addne r0, r0, #1
    .endr
#endif
    pop {r4-r11, pc}
9:  mov r0, #0x10000            @ timed out
    pop {r4-r11, pc}
#else
    push {r4-r7, lr}
    mov r4, r8
    mov r5, r9
    mov r6, r10
    mov r7, r11
    push {r4-r7}
    lsls r2, r1, #8
    .irp r, 8,9,10,11
    movs r4, #\r
    adds r4, r4, r2
    mov r\r, r4
    .endr
    adds r4, r2, #4
    adds r5, r2, #5
    adds r6, r2, #6
    adds r7, r2, #7
    movs r3, #1
    lsls r3, r3, #22            @ give up after 4M polls (no switch comes: not modelled)
    mov r12, r3
1:  mov r3, r12
    subs r3, r3, #1
    mov r12, r3
    beq 9f
    ldr r3, [r0]
    cmp r3, r1
    bne 1b
    movs r0, #0
    .irp r, 4,5,6,7,8,9,10,11
    movs r3, #\r
    adds r3, r3, r2
    cmp r3, r\r
    beq 2f
    adds r0, r0, #1
2:
    .endr
    b 8f
9:  movs r0, #1
    lsls r0, r0, #16            @ timed out
8:  pop {r4-r7}
    mov r8, r4
    mov r9, r5
    mov r10, r6
    mov r11, r7
    pop {r4-r7, pc}
#endif
    .size spin_until_turn, . - spin_until_turn
