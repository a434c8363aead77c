/*
 * rtos2task - a two-task round-robin scheduler the way FreeRTOS's Cortex-M ports do it
 * (port layer in rtos2task_port.S): tasks run in thread mode on the PSP, SysTick is the time
 * base and pends PendSV, PendSV switches context (r4-r11 by software, s16-s31 too when the
 * task has FP context, i.e. EXC_RETURN bit 4 = 0), SVC 0 starts the first task, BASEPRI
 * (ARMv6-M: PRIMASK) makes the critical sections. Task A yields (PendSV from thread mode)
 * after each step; task B waits to be preempted by the tick. Both make a system call (SVC 1)
 * in each step.
 *
 * Each task owns a turn: it spins in spin_until_turn() with r4-r11 (and s0-s31) holding
 * values unique to it, so every register a context switch loses is counted.
 *
 * Prints, the same on every board:
 *     rtos2task: starting 2 tasks, 4 steps each
 *     task A step 0: svc 1 -> 100, thread mode on PSP
 *     task B step 0: svc 1 -> 210, thread mode on PSP
 *     ... (A and B alternate, steps 0..3; svc returns 100*(id+1)+10*id+step)
 *     rtos2task: 8 steps, 8 system calls, 0 registers lost, 0 bad modes
 * Exit 0; 1 if a register was lost or a task saw the wrong mode/stack; 2 if a task waited in
 * vain for a context switch.
 */
#include <stdio.h>
#include <stdlib.h>

#include "exc.h"

#define STEPS 4u
#define TICK_PERIOD 3000u
#define STACK_WORDS 768u                  /* 3 KiB per task: printf + an FP frame */
#define MAX_SYSCALL_PRIO 0x50u            /* configMAX_SYSCALL_INTERRUPT_PRIORITY */

typedef struct {
    uint32_t *volatile top;               /* first member: the port layer uses [tcb] */
    uint32_t id;
} tcb_t;

static uint64_t stack_mem[2][STACK_WORDS / 2];   /* uint64_t: 8-byte aligned */
static tcb_t tcbs[2];
tcb_t *volatile pxCurrentTCB;

static volatile uint32_t turn;
static volatile uint32_t finished;
static volatile uint32_t syscalls;
static volatile uint32_t lost_registers;
static volatile uint32_t bad_modes;
static volatile uint32_t ticks;
/* Bytes of each task stack ever written (painted with STACK_PAINT first, as FreeRTOS's
 * uxTaskGetStackHighWaterMark works). Not printed: under QEMU the preemption points, and so the
 * depth, depend on wall-clock time; tests read it from the ELF symbol after an mcusim run. */
#define STACK_PAINT 0xA5A5A5A5u
volatile uint32_t task_stack_used[2] __attribute__((used));

void port_start_first_task(void) __attribute__((noreturn));
uint32_t spin_until_turn(volatile uint32_t *turn, uint32_t id);
void vTaskSwitchContext(void);
void svc_syscall(uint32_t *frame, uint32_t number);

/* Called by PendSV_Handler with BASEPRI raised: round robin between the two ready tasks. */
void vTaskSwitchContext(void)
{
    pxCurrentTCB = (pxCurrentTCB == &tcbs[0]) ? &tcbs[1] : &tcbs[0];
}

static uint32_t enter_critical(void)
{
#if EXC_V6M
    exc_disable_irq();
    return 0;
#else
    uint32_t old = exc_get_basepri();
    exc_set_basepri(MAX_SYSCALL_PRIO);
    exc_barrier();
    return old;
#endif
}

static void exit_critical(uint32_t old)
{
#if EXC_V6M
    (void)old;
    exc_enable_irq();
#else
    exc_set_basepri(old);
#endif
}

/* xPortSysTickHandler: the tick count under the interrupt mask, then a context switch. */
void SysTick_Handler(void)
{
    uint32_t old = enter_critical();
    ticks = ticks + 1u;
    SCB_ICSR = ICSR_PENDSVSET;
    exit_critical(old);
}

/* SVC n >= 1, entered from SVC_Handler with the caller's frame: r0 = r0 * 100 + r1, if the
 * call came from a task (thread mode on the PSP) in handler mode as SVCall. */
void svc_syscall(uint32_t *frame, uint32_t number)
{
    if ((exc_get_ipsr() & 0x1FFu) != 11u || number != 1u)
        bad_modes = bad_modes + 1u;
    frame[0] = frame[0] * 100u + frame[1];
    syscalls = syscalls + 1u;
}

static uint32_t svc_call(uint32_t a, uint32_t b)
{
    register uint32_t r0 __asm__("r0") = a;
    register uint32_t r1 __asm__("r1") = b;
    __asm__ volatile("svc 1" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void yield(void)
{
    SCB_ICSR = ICSR_PENDSVSET;            /* portYIELD */
    exc_barrier();
}

static void task(uint32_t id)
{
    const char name = (char)('A' + id);
    for (uint32_t step = 0; step < STEPS; step++) {
        uint32_t lost = spin_until_turn(&turn, id);
        if (lost >= 0x10000u) {
            SYST_CSR = 0;
            printf("rtos2task: task %c step %u: no context switch came\n", name, (unsigned)step);
            exit(2);
        }
        lost_registers = lost_registers + lost;
        uint32_t control = exc_get_control();
        /* SPSEL = 1 (PSP) and nPRIV = 0, not in an exception (IPSR 0). */
        int thread_psp = (control & 3u) == 2u && (exc_get_ipsr() & 0x1FFu) == 0u;
        if (!thread_psp)
            bad_modes = bad_modes + 1u;
        uint32_t r = svc_call(id + 1u, 10u * id + step);
        printf("task %c step %u: svc 1 -> %u, %s\n", name, (unsigned)step, (unsigned)r,
               thread_psp ? "thread mode on PSP" : "WRONG MODE");
        uint32_t old = enter_critical();
        turn = 1u - id;
        if (step + 1u == STEPS)
            finished = finished + 1u;
        exit_critical(old);
        if (id == 0u)
            yield();
    }
    while (finished < 2u) {
    }
    /* Only the last task to finish gets here first (B: A finishes one turn earlier). */
    SYST_CSR = 0;
    for (uint32_t i = 0; i < 2u; i++) {
        const uint32_t *w = (const uint32_t *)stack_mem[i];
        uint32_t untouched = 0;
        while (untouched < STACK_WORDS && w[untouched] == STACK_PAINT)
            untouched++;
        task_stack_used[i] = 4u * (STACK_WORDS - untouched);
    }
    printf("rtos2task: %u steps, %u system calls, %u registers lost, %u bad modes\n",
           (unsigned)(2u * STEPS), (unsigned)syscalls, (unsigned)lost_registers,
           (unsigned)bad_modes);
    exit(lost_registers == 0u && bad_modes == 0u ? 0 : 1);
}

static void task_exit_error(void)
{
    for (;;) {
    }
}

/* pxPortInitialiseStack: the frame an exception return to `entry(param)` would pop, below it
 * the software-saved registers. */
static uint32_t *initial_stack(uint32_t *top, void (*entry)(uint32_t), uint32_t param)
{
    *--top = 0x01000000u;                             /* xPSR: Thumb */
    *--top = (uint32_t)entry & ~1u;                   /* PC */
    *--top = (uint32_t)task_exit_error;               /* LR */
    top -= 4;                                         /* R12, R3, R2, R1 */
    *--top = param;                                   /* R0 */
#if !EXC_V6M && defined(__ARM_FP)
    *--top = 0xFFFFFFFDu;                             /* EXC_RETURN: thread, PSP, no FP */
#endif
    top -= 8;                                         /* R11..R4 */
    return top;
}

int main(void)
{
    if (!exc_vectors_init()) {
        printf("rtos2task: device vectors misplaced\n");
        return 3;
    }
#if defined(__ARM_FP)
    FPU_FPCCR |= FPCCR_ASPEN | FPCCR_LSPEN;          /* vPortEnableVFP + lazy stacking */
#endif
    printf("rtos2task: starting 2 tasks, %u steps each\n", (unsigned)STEPS);
    for (uint32_t i = 0; i < 2u; i++) {
        uint32_t *w = (uint32_t *)stack_mem[i];
        for (uint32_t k = 0; k < STACK_WORDS; k++)
            w[k] = STACK_PAINT;
        tcbs[i].id = i;
        tcbs[i].top = initial_stack((uint32_t *)&stack_mem[i][STACK_WORDS / 2], task, i);
    }
    pxCurrentTCB = &tcbs[0];
    /* PendSV and SysTick at the lowest priority (FreeRTOS: configKERNEL_INTERRUPT_PRIORITY). */
    SCB_SHPR3 = 0xFFFF0000u | (SCB_SHPR3 & 0xFFFFu);
    /* portDISABLE_INTERRUPTS: the tick must not switch before the first task runs; the SVC 0
     * handler lowers BASEPRI (ARMv6-M: the tick cannot come in the few cycles to SVC 0). */
#if EXC_V6M
    exc_disable_irq();
#else
    exc_set_basepri(MAX_SYSCALL_PRIO);
#endif
    exc_systick_config(TICK_PERIOD);
    port_start_first_task();
}
